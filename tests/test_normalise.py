"""Folding typed text and reading cells as money, numbers, percents, dates and codes."""

from __future__ import annotations

import doctest
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from compiler import normalise
from compiler.cells import Value
from compiler.diagnostics import Location
from compiler.normalise import (
    ParseProblem,
    decimal_from_excel,
    decimal_from_float,
    fold_text,
    parse_bool,
    parse_code,
    parse_date,
    parse_decimal_text,
    parse_integer,
    parse_money,
    parse_number,
    parse_percent,
)


@dataclass(frozen=True)
class Stored:
    """A cell as the reader hands it over: the stored value and the folded text."""

    value: Value
    text: str


def stored(value: Value) -> Stored:
    return Stored(value, fold_text(str(value)))


FULL_WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})


# ---------------------------------------------------------------------------- fold_text


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        pytest.param("１，３０１．５", "1,301.5", id="full-width-digits"),
        pytest.param("＜　５", "< 5", id="full-width-less-than-and-ideographic-space"),
        pytest.param("a\u00a0b", "a b", id="no-break-space"),
        pytest.param("a\u2002\u2009b", "a b", id="en-and-thin-spaces"),
        pytest.param(
            "第一行\n第二行\r\n第三行", "第一行 第二行 第三行", id="line-breaks"
        ),
        pytest.param("  a   b  ", "a b", id="runs-collapsed-and-trimmed"),
        pytest.param(
            "（低保标准，边缘标准）", "(低保标准,边缘标准)", id="parentheses-comma"
        ),
        pytest.param("是；否：", "是;否:", id="semicolon-colon"),
        pytest.param("【1..5】", "[1..5]", id="lenticular-brackets"),
        pytest.param("≤ 5", "<= 5", id="less-or-equal"),
        pytest.param("≥5", ">=5", id="greater-or-equal"),
        pytest.param("≠ 是", "!= 是", id="not-equal"),
        pytest.param("政策依据。", "政策依据。", id="full-stop-kept"),
        pytest.param("杭民发〔2024〕1号", "杭民发〔2024〕1号", id="chinese-kept"),
        pytest.param("1—2", "1—2", id="em-dash-kept"),
        pytest.param("\ufeff\u200ba", "a", id="zero-width-dropped"),
        pytest.param("\u3000\n ", "", id="only-spaces"),
        pytest.param("￥１３０１", "¥1301", id="full-width-yen"),
    ],
)
def test_fold_text(raw: str, folded: str) -> None:
    assert fold_text(raw) == folded


# ------------------------------------------------------------------------------ numbers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("1301", Decimal(1301), id="plain"),
        pytest.param("1,301.50", Decimal("1301.50"), id="thousands"),
        pytest.param("1,301,000", Decimal(1301000), id="thousands-twice"),
        pytest.param("１，３０１．５", Decimal("1301.5"), id="full-width"),
        pytest.param(" 1301 ", Decimal(1301), id="spaces"),
        pytest.param("+1301", Decimal(1301), id="plus"),
        pytest.param("-12.5", Decimal("-12.5"), id="minus"),
        pytest.param("－12.5", Decimal("-12.5"), id="full-width-minus"),
        pytest.param(".5", Decimal("0.5"), id="leading-point"),
        pytest.param("5.", Decimal(5), id="trailing-point"),
        pytest.param("1301元", Decimal(1301), id="yuan"),
        pytest.param("1301 元/月", Decimal(1301), id="yuan-per-month"),
        pytest.param("1301元/人/月", Decimal(1301), id="yuan-per-person-month"),
        pytest.param("15612元/年", Decimal(15612), id="yuan-per-year"),
        pytest.param("1301元/人·月", Decimal(1301), id="yuan-per-person-dot-month"),
        pytest.param("1301元／月", Decimal(1301), id="full-width-slash"),
        pytest.param("1.5万元", Decimal(15000), id="wan-yuan"),
        pytest.param("3万", Decimal(30000), id="wan"),
        pytest.param("35%", Decimal("0.35"), id="percent"),
        pytest.param("12.5％", Decimal("0.125"), id="full-width-percent"),
        pytest.param("¥1,301", Decimal(1301), id="yen-prefix"),
        pytest.param("￥1301", Decimal(1301), id="full-width-yen-prefix"),
        pytest.param("-¥5", Decimal(-5), id="minus-yen"),
    ],
)
def test_parse_decimal_text_accepts(text: str, expected: Decimal) -> None:
    assert parse_decimal_text(text) == expected


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        pytest.param("", "只写数字", id="empty"),
        pytest.param("约1300", "只写数字", id="words"),
        pytest.param("1,30", "千位分隔符", id="bad-thousands"),
        pytest.param("1,3014", "千位分隔符", id="bad-thousands-four"),
        pytest.param("1.2E+05", "科学计数法", id="exponent"),
        pytest.param("1 2", "只写数字", id="two-numbers"),
        pytest.param("一千", "只写数字", id="chinese-numerals"),
        pytest.param("+-5", "只写数字", id="two-signs"),
        pytest.param("¥5%", "只写数字", id="yen-and-percent"),
    ],
)
def test_parse_decimal_text_rejects(text: str, hint: str) -> None:
    with pytest.raises(ParseProblem) as caught:
        parse_decimal_text(text)
    assert caught.value.code == "E101"
    assert hint in (caught.value.hint or "")


def test_docstring_examples_run() -> None:
    assert doctest.testmod(normalise).failed == 0


def test_float_from_file_keeps_excel_fifteen_digits() -> None:
    assert decimal_from_float(0.1 + 0.2) == Decimal("0.3")
    assert decimal_from_excel("0.30000000000000004") == Decimal("0.3")
    assert decimal_from_excel("1301.5") == Decimal("1301.5")


# ------------------------------------------------------------------------ typed numbers

Parser = Callable[[Stored | str], object]


@pytest.mark.parametrize(
    ("parse", "cell", "expected"),
    [
        pytest.param(parse_money, "1,301.5元/月", Decimal("1301.50"), id="money-text"),
        pytest.param(parse_money, stored(1301), Decimal("1301.00"), id="money-int"),
        pytest.param(
            parse_money,
            stored(Decimal("1301.5")),
            Decimal("1301.5"),
            id="money-decimal",
        ),
        pytest.param(parse_money, "1.5万元", Decimal(15000), id="money-wan-yuan"),
        pytest.param(parse_money, "¥1.5万", Decimal(15000), id="money-yen-wan"),
        pytest.param(parse_number, "1.5", Decimal("1.5"), id="number"),
        pytest.param(parse_number, "150%", Decimal("1.5"), id="number-percent"),
        pytest.param(parse_number, "1.5倍", Decimal("1.5"), id="number-times"),  # helper-42
        pytest.param(
            parse_number, "0.1234", Decimal("0.1234"), id="number-four-places"
        ),
        pytest.param(parse_integer, "3", 3, id="integer"),
        pytest.param(parse_integer, "3.0", 3, id="integer-point-zero"),
        pytest.param(parse_integer, "3人", 3, id="integer-count-unit"),
        pytest.param(parse_integer, "60周岁", 60, id="integer-age"),
        pytest.param(parse_integer, stored(Decimal("3.00")), 3, id="integer-decimal"),
        pytest.param(parse_percent, "35%", Decimal("0.35"), id="percent-sign"),
        pytest.param(parse_percent, "0.35", Decimal("0.35"), id="percent-fraction"),
        pytest.param(parse_percent, "35", Decimal(35), id="percent-bare-is-share"),
        pytest.param(parse_percent, "150%", Decimal("1.5"), id="percent-over-100"),
        pytest.param(
            parse_percent,
            stored(Decimal("0.35")),
            Decimal("0.35"),
            id="percent-stored-share",
        ),
        pytest.param(parse_percent, "33.3333%", Decimal("0.333333"), id="percent-six"),
    ],
)
def test_typed_number_accepts(
    parse: Parser, cell: Stored | str, expected: object
) -> None:
    assert parse(cell) == expected


@pytest.mark.parametrize(
    ("parse", "cell", "code", "phrase"),
    [
        pytest.param(parse_money, "35%", "E110", "百分号", id="money-percent-unit"),
        pytest.param(parse_money, "3人", "E110", "计数单位", id="money-count-unit"),
        pytest.param(
            parse_money, "1301.555", "E104", "小数位数过多", id="money-3-places"
        ),
        pytest.param(parse_money, "十元", "E104", "无法读作金额", id="money-words"),
        pytest.param(
            parse_money, stored(True), "E104", "无法读作金额", id="money-bool"
        ),
        pytest.param(
            parse_money,
            stored(date(2025, 1, 1)),
            "E104",
            "无法读作金额",
            id="money-date",
        ),
        pytest.param(parse_money, "1" * 17, "E104", "过大", id="money-too-large"),
        pytest.param(parse_number, "1301元", "E110", "金额单位", id="number-yuan"),
        pytest.param(
            parse_number, "0.12345", "E101", "小数位数过多", id="number-5-places"
        ),
        pytest.param(parse_integer, "1万元", "E110", "万元", id="integer-wan-yuan"),
        pytest.param(parse_integer, "50%", "E110", "百分号", id="integer-percent"),
        pytest.param(
            parse_integer, "3.5", "E106", "整数不能有小数", id="integer-fraction"
        ),
        pytest.param(parse_percent, "1301元", "E110", "金额单位", id="percent-yuan"),
        pytest.param(parse_percent, "3万", "E110", "万", id="percent-wan"),
        pytest.param(
            parse_percent, "0.1234567", "E105", "小数位数过多", id="percent-7-places"
        ),
        pytest.param(
            parse_percent, "百分之五", "E105", "无法读作百分比", id="percent-words"
        ),
    ],
)
def test_typed_number_rejects(
    parse: Parser, cell: Stored | str, code: str, phrase: str
) -> None:
    with pytest.raises(ParseProblem) as caught:
        parse(cell)
    assert caught.value.code == code
    assert phrase in caught.value.message


@pytest.mark.parametrize(
    ("parse", "value", "limit"),
    [
        (parse_money, 1e300, "绝对值小于 10¹⁶ 的金额"),
        (parse_money, -1e20, "绝对值小于 10¹⁶ 的金额"),
        (parse_number, 1e14, "绝对值小于 10¹⁴ 的数值"),
        (parse_integer, 1e18, "绝对值小于 10¹⁸ 的整数"),
    ],
    ids=["money-1e300", "money-minus-1e20", "number-1e14", "integer-1e18"],
)
def test_a_number_too_large_for_its_type_says_so_and_gives_the_limit(
    parse: Parser, value: float, limit: str
) -> None:
    with pytest.raises(ParseProblem) as caught:
        parse(Stored(decimal_from_float(value), fold_text(str(value))))
    assert caught.value.message.endswith("过大") and limit in caught.value.expected


def test_an_invisible_character_is_shown_by_its_code_point() -> None:
    with pytest.raises(ParseProblem) as caught:
        parse_money("26\x0760")
    assert caught.value.found == "26<U+0007>60"


def test_problem_becomes_located_diagnostic() -> None:
    with pytest.raises(ParseProblem) as caught:
        parse_money("35%")
    where = Location("县.xlsx", "标准参数", "C4")
    diagnostic = caught.value.diagnostic(where)
    assert diagnostic.code == "E110"
    assert diagnostic.location == where
    assert diagnostic.found == "35%"
    assert diagnostic.expected is not None and "1,301.50元" in diagnostic.expected
    assert diagnostic.render().startswith("县.xlsx:标准参数!C4: E110 金额列中出现了")


# --------------------------------------------------------------------------- properties

money_amounts = st.decimals(
    min_value=-(10**12),
    max_value=10**12,
    places=2,
    allow_nan=False,
    allow_infinity=False,
)


def money_forms(amount: Decimal) -> list[str]:
    plain = f"{amount:f}"
    grouped = f"{amount:,.2f}"
    return [
        plain,
        grouped,
        grouped.translate(FULL_WIDTH),
        f"{grouped}元",
        f"{plain} 元/月",
        f"{grouped}元/人/月".translate(FULL_WIDTH),
        f"¥{grouped}",
        f"{amount / 10000:f}万元",
    ]


@given(money_amounts)
def test_money_reads_back_exactly_in_every_form(amount: Decimal) -> None:
    for form in money_forms(amount):
        assert parse_money(form) == amount, form
        assert parse_decimal_text(form) == amount, form


@given(money_amounts)
def test_number_reads_back_exactly(amount: Decimal) -> None:
    for form in (
        f"{amount:f}",
        f"{amount:,.2f}",
        f"{amount:,.2f}".translate(FULL_WIDTH),
    ):
        assert parse_number(form) == amount, form


@given(
    st.decimals(
        min_value=-100, max_value=100, places=4, allow_nan=False, allow_infinity=False
    )
)
def test_percent_reads_back_in_percent_and_share_forms(share: Decimal) -> None:
    percent = f"{share * 100:f}"
    for form in (f"{percent}%", f"{percent}％".translate(FULL_WIDTH), f"{share:f}"):
        assert parse_percent(form) == share, form


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_integer_reads_back_with_separators(number: int) -> None:
    for form in (str(number), f"{number:,}", f"{number:,}".translate(FULL_WIDTH)):
        assert parse_integer(form) == number, form


@given(st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 12, 31)))
def test_date_reads_back_in_every_form(day: date) -> None:
    forms = [
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day.year}.{day.month}.{day.day}",
        f"{day.year}年{day.month}月{day.day}日",
        day.strftime("%Y%m%d"),
        day.strftime("%Y%m%d") + ".0",
    ]
    for form in forms:
        assert parse_date(form) == day, form
    serial = (day - date(1899, 12, 30)).days
    if not 1900 <= serial <= 2100:  # those are years (test_date_rejects), not 1905's days
        assert parse_date(stored(serial)) == day


# ----------------------------------------------------------------------------- booleans

TRUE_FORMS = ["是", "Y", "y", "yes", "YES", "TRUE", "true", "√", "✓", "1", "对", "✔"]
FALSE_FORMS = ["否", "N", "n", "no", "No", "FALSE", "false", "×", "✗", "0", "错", "✘"]


@pytest.mark.parametrize("text", TRUE_FORMS)
def test_bool_true_forms(text: str) -> None:
    assert parse_bool(text) is True


@pytest.mark.parametrize("text", FALSE_FORMS)
def test_bool_false_forms(text: str) -> None:
    assert parse_bool(text) is False


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        pytest.param(stored(True), True, id="stored-true"),
        pytest.param(stored(False), False, id="stored-false"),
        pytest.param(stored(1), True, id="stored-one"),
        pytest.param(stored(Decimal(0)), False, id="stored-zero"),
        pytest.param("Ｙ", True, id="full-width-y"),
    ],
)
def test_bool_stored_values(cell: Stored | str, expected: bool) -> None:
    assert parse_bool(cell) is expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("是的", id="extra-words"),
        pytest.param("2", id="other-number"),
        pytest.param("有", id="you"),
        pytest.param("", id="empty"),
    ],
)
def test_bool_rejects(text: str) -> None:
    with pytest.raises(ParseProblem) as caught:
        parse_bool(text)
    assert caught.value.code == "E103"
    assert "是 或 否" in caught.value.expected


# -------------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        pytest.param("2025-04-07", date(2025, 4, 7), id="iso"),
        pytest.param("2025/4/7", date(2025, 4, 7), id="slashes"),
        pytest.param("2025.4.7", date(2025, 4, 7), id="dots"),
        pytest.param("2025年4月7日", date(2025, 4, 7), id="chinese"),
        pytest.param("2025 年 4 月 7 日", date(2025, 4, 7), id="chinese-spaced"),
        pytest.param("２０２５－０４－０７", date(2025, 4, 7), id="full-width"),
        pytest.param("20250407", date(2025, 4, 7), id="compact"),
        pytest.param("20250407.0", date(2025, 4, 7), id="compact-float-text"),
        pytest.param("2025-04-07 00:00:00", date(2025, 4, 7), id="midnight-time"),
        pytest.param("45754", date(2025, 4, 7), id="serial-text"),
        pytest.param(stored(45754), date(2025, 4, 7), id="serial-number"),
        pytest.param(stored(20250407), date(2025, 4, 7), id="compact-number"),
        pytest.param(
            stored(Decimal("20250407.0")), date(2025, 4, 7), id="compact-decimal"
        ),
        pytest.param(stored(date(2025, 4, 7)), date(2025, 4, 7), id="stored-date"),
        pytest.param(
            Stored(datetime(2025, 4, 7), "2025-04-07"),
            date(2025, 4, 7),
            id="stored-midnight-datetime",
        ),
        pytest.param(stored(61), date(1900, 3, 1), id="serial-after-1900-leap-bug"),
        pytest.param(stored(59), date(1900, 2, 28), id="serial-before-1900-leap-bug"),
    ],
)
def test_date_accepts(cell: Stored | str, expected: date) -> None:
    assert parse_date(cell) == expected


@pytest.mark.parametrize(
    ("cell", "phrase"),
    [
        pytest.param("2025-02-30", "日期不存在", id="february-30"),
        pytest.param("2025-13-01", "日期不存在", id="month-13"),
        pytest.param("20250230", "日期不存在", id="compact-impossible"),
        pytest.param("25/4/7", "无法读作日期", id="two-digit-year"),
        pytest.param("明年", "无法读作日期", id="words"),
        pytest.param(stored(Decimal("45754.5")), "带有时间", id="serial-with-time"),
        pytest.param(
            Stored(datetime(2025, 4, 7, 8, 30), "2025-04-07 08:30:00"),
            "带有时间",
            id="datetime-with-time",
        ),
        pytest.param(stored(60), "不是有效的 Excel 日期", id="serial-60-never-was"),
        # 「2025」 typed for "from 2025" was Excel's day 2025, 1905-07-17 (helper-57)
        pytest.param(stored(2025), "只写了年份", id="year-as-number"),
        pytest.param("2026", "只写了年份", id="year-as-text"),
        pytest.param(stored(Decimal(1900)), "只写了年份", id="year-1900"),
        # typed into a cell formatted yyyy-mm-dd: the reader gets Excel's day 2026
        pytest.param(Stored(datetime(1905, 7, 18), "1905-07-18"), "只写了年份", id="year-in-a-date-cell"),
        pytest.param(stored(True), "无法读作日期", id="boolean"),
    ],
)
def test_date_rejects(cell: Stored | str, phrase: str) -> None:
    with pytest.raises(ParseProblem) as caught:
        parse_date(cell)
    assert caught.value.code == "E102"
    assert phrase in caught.value.message
    assert "2025-04-07" in caught.value.expected


# -------------------------------------------------------------------------------- codes


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        pytest.param("330106", "330106", id="text"),
        pytest.param(stored(330106), "330106", id="number"),
        pytest.param(stored(Decimal("330106.0")), "330106", id="decimal-point-zero"),
        pytest.param("330106.0", "330106", id="float-text-from-csv"),
        pytest.param("３３０１０６", "330106", id="full-width"),
        pytest.param("330106199001011234", "330106199001011234", id="id-number"),
        pytest.param("33010619900101123x", "33010619900101123X", id="id-number-x"),
        pytest.param("330106001", "330106001", id="township"),
    ],
)
def test_code_accepts(cell: Stored | str, expected: str) -> None:
    assert parse_code(cell) == expected


@pytest.mark.parametrize(
    ("cell", "phrase"),
    [
        pytest.param(
            stored(330106199001011000), "以数字保存", id="id-stored-as-number"
        ),
        pytest.param("3.30106E+17", "科学计数法", id="scientific"),
        pytest.param("12345", "位数", id="five-digits"),
        pytest.param("33010A", "位数或字符", id="letter"),
        pytest.param(stored(Decimal("330106.5")), "不是整数", id="fraction"),
        pytest.param(stored(date(2025, 1, 1)), "无法读作代码", id="date"),
    ],
)
def test_code_rejects(cell: Stored | str, phrase: str) -> None:
    with pytest.raises(ParseProblem) as caught:
        parse_code(cell)
    assert caught.value.code == "E109"
    assert phrase in caught.value.message
