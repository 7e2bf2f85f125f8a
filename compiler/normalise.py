"""Fold what people type into cells and read it as typed values; pure functions.

``fold_text`` turns the text a person sees into the form the compiler parses:
full-width ASCII to ASCII, every kind of space and line break to one space, and the
Chinese punctuation used in formulas (``【】 ≤ ≥ ≠``) to its ASCII form. Chinese
characters and ``。`` are never changed.

The ``parse_*`` functions read one cell (anything with ``value`` and ``text``, such as
``compiler.cells.Cell``, or a bare string) as a typed value, or raise ``ParseProblem``,
which the model pass turns into a located diagnostic with ``ParseProblem.diagnostic``.
Numbers never pass through float: text is read digit by digit into ``Decimal``, and a
float from a file is cut to the 15 significant digits Excel keeps
(``decimal_from_float``).

Units accepted in numeric text, and which types take them (anything else is E110):

==================  ===========  =======  =======  =======  ========
unit                example      money    number   integer  percent
==================  ===========  =======  =======  =======  ========
none                ``1,301.5``  yes      yes      yes      yes
``元``, ``￥``      ``1301元/月`` yes      no       no       no
``万``, ``万元``    ``1.5万元``   yes      ``万``   ``万``   no
``%``               ``35%``      no       yes      no       yes
counts, ``倍``      ``3人``      no       yes      yes      no
==================  ===========  =======  =======  =======  ========

A percent cell holds a share: ``35%`` and ``0.35`` are the same value. A bare number
is the share itself, so ``35`` in a percent cell is 3500%; write ``35%`` for thirty-five
per cent. Ranges that make such a slip visible belong in the standard's bounds
(下限/上限).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from enum import Enum
from typing import Protocol

from compiler.cells import Value
from compiler.diagnostics import NOWHERE, Diagnostic, Location, make
from compiler.errors import JiuzhuError

# ------------------------------------------------------------------------------ folding

_LINE_BREAKS = "\r\n\v\f\x85\u2028\u2029"
_SPACES = "\t\u00a0\u1680\u180e\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
_SPACES += "\u2008\u2009\u200a\u202f\u205f\u3000"
_DROPPED = "\u200b\u200c\u200d\u2060\ufeff"  # zero-width characters and a stray BOM


def _fold_table() -> dict[int, str | None]:
    table: dict[int, str | None] = {c: chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)}
    table.update({ord(c): " " for c in _LINE_BREAKS + _SPACES})
    table.update({ord(c): None for c in _DROPPED})
    table.update({ord("【"): "[", ord("】"): "]", ord("￥"): "¥"})
    table.update({ord("≤"): "<=", ord("≥"): ">=", ord("≠"): "!="})
    return table


_FOLD = _fold_table()
_SPACE_RUN = re.compile(r" {2,}")

# Control characters a cell may not hold: C0 and C1 controls other than the tab and
# the line breaks fold_text turns into a space (\t \n \v \f \r and NEL, which text
# pasted from Word or WPS brings). They are invisible, and an .xlsx cannot store them
# as text: openpyxl refuses to write them.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")
# Excel keeps at most this many characters (UTF-16 code units) in one cell.
EXCEL_CELL_LIMIT = 32_767


# marks that override or isolate the direction of text: explain and diff print a cell
# as it is, where U+202E makes 「低于」 read backwards. The reader refuses them with
# control characters (E011); export writes them visibly as it writes those.
REORDERING = re.compile("[\u202a-\u202e\u2066-\u2069]")


def show_reordering(text: str) -> str:
    """Write each mark of ``REORDERING`` visibly as its code point.

    >>> show_reordering("\u202e低于")
    '<U+202E>低于'
    """
    return REORDERING.sub(lambda m: f"<U+{ord(m[0]):04X}>", text)


def show_controls(text: str) -> str:
    """Write each control character visibly as its code point.

    >>> show_controls("备注\x1b[0m")
    '备注<U+001B>[0m'
    """
    return CONTROL_CHARACTERS.sub(lambda m: f"<U+{ord(m[0]):04X}>", text)


def excel_length(text: str) -> int:
    """The length Excel counts: UTF-16 code units (a rare character counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def fold_text(s: str) -> str:
    """Fold full-width characters, odd spaces and formula punctuation; trim.

    >>> fold_text("　１，３０１．５０元\\n（≤ ５）")
    '1,301.50元 (<= 5)'
    """
    folded = s.translate(_FOLD)
    if "  " in folded:
        folded = _SPACE_RUN.sub(" ", folded)
    return folded.strip()


# ----------------------------------------------------------------------------- problems


class ParseProblem(JiuzhuError):
    """Raised when a cell does not read as its column's type.

    It carries the parts of a diagnostic but no location: the caller knows the cell
    and calls ``diagnostic(location)``.
    """

    def __init__(self, code: str, message: str, found: str, expected: str, hint: str):
        self.code = code
        self.message = message
        self.found = show_controls(found)  # an invisible character shown as <U+0007>
        self.expected = expected
        self.hint = hint
        super().__init__(self.diagnostic())

    def diagnostic(self, location: Location = NOWHERE) -> Diagnostic:
        """The problem as a diagnostic at ``location``."""
        return make(
            self.code,
            self.message,
            location,
            found=self.found,
            expected=self.expected,
            hint=self.hint,
        )


class HasText(Protocol):
    """What a parser needs from a cell: the stored value and the folded text."""

    @property
    def value(self) -> Value: ...

    @property
    def text(self) -> str: ...


Source = HasText | str


def _parts(source: Source) -> tuple[Value, str]:
    if isinstance(source, str):
        return source, fold_text(source)
    return source.value, source.text


# ------------------------------------------------------------------------------ numbers

_EXCEL_DIGITS = Context(prec=15, rounding=ROUND_HALF_EVEN)


def decimal_from_float(f: float) -> Decimal:
    """A float from a file as the decimal Excel shows: 15 significant digits.

    >>> decimal_from_float(0.1 + 0.2)
    Decimal('0.3')
    """
    return Decimal(format(f, ".15g"))


def decimal_from_excel(text: str) -> Decimal:
    """A number as an xlsx file writes it (up to 17 digits), cut to Excel's 15."""
    return _EXCEL_DIGITS.create_decimal(text.strip()).normalize()


class Unit(Enum):
    """The kind of unit written after (or before) a number."""

    NONE = "none"
    YUAN = "yuan"
    WAN = "wan"
    WAN_YUAN = "wan_yuan"
    PERCENT = "percent"
    COUNT = "count"


@dataclass(frozen=True, slots=True)
class Quantity:
    """A number read from text: its value with the unit applied, and the unit."""

    amount: Decimal
    unit: Unit
    unit_text: str


_PER = r"(?:[/·](?:人|户|月|年|季度|季|日|天|周))*"  # 元/人/月, 元/人·月
_NUMBER = r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?|[0-9]+(?:\.[0-9]*)?|\.[0-9]+"
_QUANTITY = re.compile(
    rf"""(?P<sign>[+-]?)\ ?(?P<cur>[¥]?)\ ?(?P<sign2>[+-]?)\ ?
    (?P<num>{_NUMBER})\ ?
    (?P<unit>万元{_PER}|元{_PER}|万|%|周岁|岁|个月|人|户|个|天|日|年|倍|)$""",
    re.VERBOSE,
)
_UNIT_KINDS = {"万": Unit.WAN, "%": Unit.PERCENT}
_SCALE = {Unit.WAN: Decimal(10000), Unit.WAN_YUAN: Decimal(10000)}
_HUNDREDTH = Decimal("0.01")


def _unit_kind(unit: str, currency: str) -> Unit:
    if unit.startswith("万元") or (currency and unit == "万"):
        return Unit.WAN_YUAN
    if unit.startswith("元") or (currency and not unit):
        return Unit.YUAN
    if not unit:
        return Unit.NONE
    return _UNIT_KINDS.get(unit, Unit.COUNT)


def _not_a_number(text: str, code: str, what: str, example: str) -> ParseProblem:
    hint = "只写数字，可带千位分隔符和单位，不要写文字说明或多个数"
    if re.fullmatch(r"[0-9.]+[eE][+-]?[0-9]+", text.replace(" ", "")):
        hint = "这是科学计数法，请把单元格设为数值或文本格式后重新输入完整数字"
    elif re.search(r"[0-9],[0-9]{1,2}(?![0-9])|[0-9],[0-9]{4}", text):
        hint = "千位分隔符每三位一个，如 1,301.50；小数点用「.」"
    return ParseProblem(code, f"无法读作{what}", text, f"{what}，如 {example}", hint)


def read_quantity(text: str) -> Quantity | None:
    """Read folded text as a number with an optional unit; None if it is not one.

    >>> read_quantity("1,301.50元/人/月")
    Quantity(amount=Decimal('1301.50'), unit=<Unit.YUAN: 'yuan'>, unit_text='元/人/月')
    """
    match = _QUANTITY.match(text)
    if match is None or (match["sign"] and match["sign2"]):
        return None
    if match["cur"] and match["unit"] and not match["unit"].startswith(("元", "万")):
        return None
    digits = match["num"].replace(",", "")
    amount = Decimal(digits + "0" if digits.endswith(".") else digits)
    if "-" in (match["sign"], match["sign2"]):
        amount = -amount
    unit = _unit_kind(match["unit"], match["cur"])
    amount *= _SCALE.get(unit, Decimal(1))
    if unit is Unit.PERCENT:
        amount = amount * _HUNDREDTH
    return Quantity(amount, unit, (match["cur"] + match["unit"]).strip())


def parse_decimal_text(text: str) -> Decimal:
    """Read text as an exact decimal, applying any unit (万 ×10000, % ÷100).

    >>> parse_decimal_text("１，３０１．５")
    Decimal('1301.5')
    """
    folded = fold_text(text)
    quantity = read_quantity(folded)
    if quantity is None:
        raise _not_a_number(folded, "E101", "数字", "1301.5")
    return quantity.amount


@dataclass(frozen=True, slots=True)
class _Kind:
    """How one numeric type reads: its code, name, example, units and scale."""

    code: str
    name: str
    example: str
    units: frozenset[Unit]
    places: int


_MONEY = _Kind(
    "E104",
    "金额",
    "1,301.50元",
    frozenset({Unit.NONE, Unit.YUAN, Unit.WAN, Unit.WAN_YUAN}),
    2,
)
_NUMBER_KIND = _Kind(
    "E101", "数值", "1.5", frozenset({Unit.NONE, Unit.WAN, Unit.PERCENT, Unit.COUNT}), 4
)
_INTEGER = _Kind("E106", "整数", "3", frozenset({Unit.NONE, Unit.WAN, Unit.COUNT}), 0)
_PERCENT_KIND = _Kind(
    "E105", "百分比", "35% 或 0.35", frozenset({Unit.NONE, Unit.PERCENT}), 6
)
_UNIT_NAMES = {
    Unit.YUAN: "金额单位「元」",
    Unit.WAN_YUAN: "金额单位「万元」",
    Unit.WAN: "「万」",
    Unit.PERCENT: "百分号「%」",
    Unit.COUNT: "计数单位",
}


def _wrong_unit(kind: _Kind, quantity: Quantity, text: str) -> ParseProblem:
    unit = _UNIT_NAMES[quantity.unit]
    hint = (
        f"去掉单位「{quantity.unit_text}」；如果这一列确实是带此单位的量，请改列的类型"
    )
    if quantity.unit in (Unit.YUAN, Unit.WAN_YUAN):
        hint = "金额请把列的类型设为 money（金额）"
    return ParseProblem(
        "E110",
        f"{kind.name}列中出现了{unit}",
        text,
        f"{kind.name}，如 {kind.example}",
        hint,
    )


def _too_precise(kind: _Kind, text: str) -> ParseProblem:
    expected = f"{kind.name}，如 {kind.example}"
    if kind.places == 0:
        return ParseProblem(kind.code, "整数不能有小数", text, expected, "请核对数字")
    hint = f"{kind.name}最多保留 {kind.places} 位小数，请用 ROUND 函数或手工取整"
    return ParseProblem(kind.code, f"{kind.name}的小数位数过多", text, expected, hint)


def _too_large(kind: _Kind, amount: Decimal, text: str) -> ParseProblem | None:
    # DECIMAL(18, places) holds 18 - places integer digits; a larger value is too
    # large whatever its decimals (1e300 cannot even be rounded to two places)
    if not amount or amount.adjusted() < 18 - kind.places:
        return None
    limit = power_of_ten(18 - kind.places)
    return ParseProblem(
        kind.code,
        f"{kind.name}过大",
        text,
        f"绝对值小于 {limit} 的{kind.name}，如 {kind.example}",
        f"{kind.name}最多 {18 - kind.places} 位整数；请核对数字和单位",
    )


def _checked(kind: _Kind, amount: Decimal, text: str) -> Decimal:
    problem = _too_large(kind, amount, text)
    if problem is not None:
        raise problem
    step = Decimal(1).scaleb(-kind.places)
    try:
        exact = amount.quantize(step)
    except InvalidOperation:
        exact = None
    if exact is None or exact != amount:
        raise _too_precise(kind, text)
    return exact


# A number in a column of no numeric type (the operand of a yes/no column's comparison)
# is held to the widest range a numeric type has, the integer's
_ANY_NUMBER = _Kind("E101", "数字", "1.5", frozenset(), 0)
_KINDS = {"money": _MONEY, "number": _NUMBER_KIND, "integer": _INTEGER, "percent": _PERCENT_KIND}
# Decimals a number written in a rule cell or an expression may have: no type holds
# more than six, and DuckDB cannot read a literal of more than 38 digits at all
LITERAL_PLACES = 18


def literal_problem(kind: str, amount: Decimal, written: str) -> ParseProblem | None:
    """Why a number written in a rule cell, a derived value or a default cannot be
    computed with in a column of type ``kind`` (``"money"``, ``"integer"``...), or None.

    It is too large for the type (money less than 10¹⁶ yuan, numbers 10¹⁴, integers
    10¹⁸, percents 10¹²; other types the integer's range), or it has more than
    LITERAL_PLACES decimals. ``written`` is the number as the cell has it, for the message.

    >>> literal_problem("money", Decimal("1E+20"), "100000000000000000000").message
    '金额过大'
    """
    numeric = _KINDS.get(kind, _ANY_NUMBER)
    problem = _too_large(numeric, amount, written)
    places = -int(amount.as_tuple().exponent)
    if problem is None and places > LITERAL_PLACES:
        problem = ParseProblem(
            "E101",
            f"数字的小数位数过多：{places} 位",
            written,
            f"最多 {LITERAL_PLACES} 位小数的数字，如 0.35",
            "请四舍五入到所需的位数后再填写",
        )
    return problem


_SUPERSCRIPTS = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def power_of_ten(exponent: int) -> str:
    """10 to a power as people write it: ``power_of_ten(16)`` is ``10¹⁶``."""
    return "10" + str(exponent).translate(_SUPERSCRIPTS)


def _read_kind(kind: _Kind, source: Source) -> Decimal:
    value, text = _parts(source)
    if isinstance(value, bool | date):
        raise _not_a_number(text, kind.code, kind.name, kind.example)
    if isinstance(value, int | Decimal):
        return _checked(kind, Decimal(value), text)
    quantity = read_quantity(text)
    if quantity is None:
        raise _not_a_number(text, kind.code, kind.name, kind.example)
    if quantity.unit not in kind.units:
        raise _wrong_unit(kind, quantity, text)
    return _checked(kind, quantity.amount, text)


def parse_money(source: Source) -> Decimal:
    """A money cell as yuan with two decimals: ``1,301.5元/月`` -> 1301.50."""
    return _read_kind(_MONEY, source)


def _plain(number: Decimal) -> Decimal:
    """Drop trailing zeros, never into exponent form: 1.5000 -> 1.5, 1E+3 -> 1000."""
    return number.normalize() + 0


def parse_number(source: Source) -> Decimal:
    """A number cell as an exact decimal with at most four decimals."""
    return _plain(_read_kind(_NUMBER_KIND, source))


def parse_integer(source: Source) -> int:
    """An integer cell: ``3``, ``3.0``, ``3人``, ``1万``; ``3.5`` is E106."""
    return int(_read_kind(_INTEGER, source))


def parse_percent(source: Source) -> Decimal:
    """A percent cell as a share: ``35%`` and ``0.35`` both give 0.35.

    A bare number is the share itself (``1.5`` is 150%); see the module docstring.
    """
    return _plain(_read_kind(_PERCENT_KIND, source))


# ----------------------------------------------------------------------------- booleans

# Casefolded words a yes/no cell may hold; other passes can reuse these sets.
TRUE_WORDS = frozenset({"是", "y", "yes", "true", "√", "✓", "✔", "1", "对"})
FALSE_WORDS = frozenset({"否", "n", "no", "false", "×", "✗", "✘", "0", "错"})


def parse_bool(source: Source) -> bool:
    """A yes/no cell: 是/否, Y/N, yes/no, TRUE/FALSE, √/×, ✓/✗, 1/0, 对/错."""
    value, text = _parts(source)
    if isinstance(value, bool):
        return value
    key = text.casefold()
    if key in TRUE_WORDS or key in FALSE_WORDS:
        return key in TRUE_WORDS
    if isinstance(value, int | Decimal) and value in (0, 1):
        return value == 1
    raise ParseProblem(
        "E103",
        "无法读作是/否",
        text,
        "是 或 否（也可写 Y/N、TRUE/FALSE、√/×）",
        "每格只写一个是或否，不要加说明文字",
    )


# -------------------------------------------------------------------------------- dates

_EXCEL_EPOCH = date(1899, 12, 30)
_LAST_SERIAL = 2958465  # 9999-12-31
_DATE_TEXT = re.compile(
    r"(?P<y>[0-9]{4}) ?(?:[-/.]|年) ?(?P<m>[0-9]{1,2}) ?(?:[-/.]|月) ?(?P<d>[0-9]{1,2})"
    r" ?日?(?:[ T]0{1,2}:00(?::00(?:\.0+)?)?)?$"
)
_COMPACT_DATE = re.compile(r"(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})(?:\.0*)?$")
_DATE_EXPECTED = "日期，如 2025-04-07、2025/4/7 或 2025年4月7日"
# A whole number in this range is a year someone typed (「2026」 for "from 2026"), not
# the Excel serial it would be (1905-07-17 for 2025, silently in force at once).
_YEAR_LIKE = (1900, 2100)


def _bad_date(text: str, message: str, hint: str) -> ParseProblem:
    return ParseProblem("E102", message, text, _DATE_EXPECTED, hint)


def date_from_serial(serial: int) -> date | None:
    """An Excel serial day number (1900 system) as a date; None outside Excel's range.

    Serial 60 is Excel's 1900-02-29, a day that never was, so it has no date.
    """
    if serial < 1 or serial > _LAST_SERIAL or serial == 60:
        return None
    return _EXCEL_EPOCH + timedelta(days=serial + (1 if serial < 60 else 0))


def _make_date(y: str, m: str, d: str, text: str) -> date:
    try:
        return date(int(y), int(m), int(d))
    except ValueError:
        raise _bad_date(
            text, "日期不存在", "请核对月份和日期，如 2 月没有 30 日"
        ) from None


def _date_from_number(number: Decimal, text: str) -> date:
    if number != number.to_integral_value():
        raise _bad_date(text, "日期带有时间或小数", "只写日期，不要写时间")
    whole = int(number)
    if 19000101 <= whole <= 99991231:
        digits = str(whole)
        return _make_date(digits[:4], digits[4:6], digits[6:], text)
    if _YEAR_LIKE[0] <= whole <= _YEAR_LIKE[1]:  # a year: as a serial, a day of 1905
        raise _bad_date(
            text, "只写了年份，不是完整日期", f"写出年月日，如 {whole}-01-01"
        )
    day = date_from_serial(whole)
    if day is None:
        raise _bad_date(text, "数字不是有效的 Excel 日期", "请把单元格设为日期格式")
    return day


def parse_date(source: Source) -> date:
    """A date cell: a date, an Excel serial, ``2025-04-07``, ``2025年4月7日``, etc.

    Impossible dates (``2025-02-30``) and dates with a time of day are refused.
    """
    value, text = _parts(source)
    if isinstance(value, datetime):
        if value.time() != datetime.min.time():
            raise _bad_date(text, "日期带有时间", "只写日期，不要写时间")
        value = value.date()
    if isinstance(value, date):
        serial = (value - _EXCEL_EPOCH).days
        if _YEAR_LIKE[0] <= serial <= _YEAR_LIKE[1]:
            # 「2026」 typed into a cell formatted as a date: Excel keeps day 2026 (helper-61)
            raise _bad_date(
                text, "只写了年份，不是完整日期（单元格是日期格式，显示为 1905 年）",
                f"写出年月日，如 {serial}-01-01",
            )
        return value
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return _date_from_number(Decimal(value), text)
    return _date_from_text(text)


def _date_from_text(text: str) -> date:
    match = _DATE_TEXT.match(text) or _COMPACT_DATE.match(text)
    if match is not None:
        return _make_date(match["y"], match["m"], match["d"], text)
    if re.fullmatch(r"[0-9]{1,7}(?:\.0*)?", text):
        return _date_from_number(Decimal(text), text)
    raise _bad_date(text, "无法读作日期", "年份写四位，年月日之间用 - / . 或 年月日")


# -------------------------------------------------------------------------------- codes

_CODE_TEXT = re.compile(r"[0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{17}[0-9X]")
_CODE_EXPECTED = "六位行政区划代码如 330106，或 18 位身份证号"
_EXCEL_MAX_DIGITS = 15


def _bad_code(text: str, message: str, hint: str) -> ParseProblem:
    return ParseProblem("E109", message, text, _CODE_EXPECTED, hint)


def _code_from_number(number: Decimal, text: str) -> str:
    if number != number.to_integral_value() or number < 0:
        raise _bad_code(text, "代码不是整数", "代码只含数字，不要写小数")
    digits = str(int(number))
    if len(digits) > _EXCEL_MAX_DIGITS:
        hint = (
            "Excel 数字只保留 15 位，末尾几位已丢失；请把单元格设为文本格式后重新输入"
        )
        raise _bad_code(text, "长代码以数字保存，已不准确", hint)
    return _checked_code(digits, text)


def _checked_code(code: str, text: str) -> str:
    if _CODE_TEXT.fullmatch(code) is None:
        raise _bad_code(
            text,
            "代码位数或字符不对",
            "区划代码 6 位（乡镇 9 位、村 12 位），身份证号 18 位",
        )
    return code


def parse_code(source: Source) -> str:
    """A division code or ID number as text: 330106 and ``330106.0`` give '330106'.

    A number longer than 15 digits is refused: Excel has already lost its last digits.
    """
    value, text = _parts(source)
    if isinstance(value, bool | date):
        raise _bad_code(text, "无法读作代码", "代码只含数字")
    if isinstance(value, int | Decimal):
        return _code_from_number(Decimal(value), text)
    compact = text.replace(" ", "").upper()
    if re.fullmatch(r"[0-9]+\.0*", compact):
        return _code_from_number(Decimal(compact), text)
    if re.fullmatch(r"[0-9.]+E\+?[0-9]+", compact):
        hint = "这是科学计数法，末尾几位已丢失；请把单元格设为文本格式后重新输入"
        raise _bad_code(text, "代码被写成了科学计数法", hint)
    return _checked_code(compact, text)
