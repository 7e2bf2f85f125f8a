"""What the checks of standards say, and on whose cells (helper-65).

A row an error refuses (a standard the county may not set, E402; a value that could
not be read; overlapping periods; no start date; a name of another standard) decides
nothing and bounds nobody: before, a county's refused 全省人均消费支出 of 1 made the
city's and the province's 低保标准 E401 on files the county does not own. And every
value a message quotes is written as the tables write it: 是/否, an amount with its
unit, a percentage with %, what was typed when it could not be read; never Python's
True, False or None.
"""

from __future__ import annotations

import csv
import io
import shutil
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from compiler.diagnostics import Diagnostic, make
from compiler.engine import open_project
from tests.test_console import ADMIN, env, set_dibao, shown, start  # noqa: F401
from tests.workbooks import write_xlsx

ROOT = Path(__file__).resolve().parent.parent
COUNTY = "330106"
COUNTY_BOOK = "counties/330106-西湖区.xlsx"
CITY_BOOK = "cities/330100-杭州市.xlsx"
AS_OF = date(2025, 6, 1)


def copied_tables(tmp_path: Path) -> Path:
    tables = tmp_path / "tables"
    shutil.copytree(ROOT / "tables", tables, ignore=shutil.ignore_patterns("samples"))
    return tables


def append_rows(tables: Path, workbook: str, *rows: list[object]) -> None:
    """Rows appended to a city's or county's 标准参数 sheet (标识, 名称, 值, 单位,
    生效日期, 失效日期, 来源, 备注, 核实)."""
    path = tables / workbook
    book = openpyxl.load_workbook(path)
    for row in rows:
        book["标准参数"].append(row)
    book.save(path)


def edit_province(tables: Path, ident: str, **columns: str) -> None:
    """Set columns (by their header: 值, 县可改 ...) of every province 标准参数 row of
    ``ident``."""
    path = tables / "province" / "标准参数.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    header = rows[0]
    for row in rows[1:]:
        if row and row[0] == ident:
            for name, value in columns.items():
                row[header.index(name)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")


def checked(tables: Path, as_of: date = AS_OF) -> list[Diagnostic]:
    return open_project(tables, [COUNTY], as_of).report.items


def at(diagnostic: Diagnostic) -> str:
    file = Path(diagnostic.location.file or "")
    return f"{file.parent.name}/{file.name}:{diagnostic.location.cell}"


def row(ident: str, name: str, value: object, starts: object, until: object = None) -> list[object]:
    return [ident, name, value, "元/月", starts, until, "测试文件", None, "是"]


# ------------------------------------------------------------ refused rows bound nobody


def test_a_countys_refused_standard_bounds_no_other_files_standard(tmp_path: Path) -> None:
    """全省人均消费支出 of 1 in 西湖区's sheet (县可改=否) is E402 there, and the
    city's and the province's 低保标准 are still checked against the province's
    45000 (30-40 %: 1125-1500), not against 1."""
    tables = copied_tables(tmp_path)
    edit_province(tables, "consumption_per_capita", 值="45000")
    before = [d.render() for d in checked(tables) if d.code == "W402"]
    assert before  # 杭州's 2022-2023 rows: no 全省人均消费支出 before 2024-08-06
    append_rows(tables, COUNTY_BOOK, ["consumption_per_capita", "全省上年度全体居民人均消费支出", 1,
                                      "元/人/年", "2025-01-01", None, "x", "y", "是"])
    found = checked(tables)
    assert [(d.code, at(d)) for d in found if d.is_error] == [
        ("E402", "counties/330106-西湖区.xlsx:A4")
    ], [d.render() for d in found]
    assert [d.render() for d in found if d.code == "W402"] == before


def test_a_citys_refused_standard_bounds_not_the_provinces_default(tmp_path: Path) -> None:
    tables = copied_tables(tmp_path)
    edit_province(tables, "consumption_per_capita", 值="45000")
    append_rows(tables, CITY_BOOK, ["consumption_per_capita", "全省上年度全体居民人均消费支出", 1,
                                    "元/人/年", "2025-01-01", None, "x", "y", "是"])
    found = checked(tables)
    assert [(d.code, at(d)) for d in found if d.is_error] == [
        ("E402", "cities/330100-杭州市.xlsx:A7")
    ], [d.render() for d in found]


TIER1 = "min_wage_tier1"  # the upper bound of 最低工资标准, made 县可改=是 for these cases


@pytest.mark.parametrize(
    ("rows", "code"),
    [
        pytest.param([row(TIER1, "最低工资第一档", "两千", "2024-01-01", "2025-12-31")], "E104",
                     id="value not read"),
        pytest.param([row(TIER1, "最低工资第一档", "2490元/年", "2024-01-01", "2025-12-31")], "E110",
                     id="value with another period"),
        pytest.param([row(TIER1, "最低工资第一档", 1000, "2024-01-01", "2026-06-30"),
                      row(TIER1, "最低工资第一档", 2660, "2026-01-01")], "E403",
                     id="overlapping periods"),
        pytest.param([row(TIER1, "最低工资第一档", 1000, None)], "E108", id="no start date"),
        pytest.param([row(TIER1, "最低工资第三档", 1000, "2024-01-01", "2025-12-31")], "E407",
                     id="name of another standard"),
    ],
)
def test_a_refused_row_gives_no_value_to_anybodys_bound(
    tmp_path: Path, rows: list[list[object]], code: str
) -> None:
    """A county row of 最低工资第一档 that an error refuses leaves the province's
    2490 (2660 from 2026) as the upper bound of 最低工资标准: no E401 (1000) and no
    W402 (nothing read) at the province's rows or the county's own."""
    tables = copied_tables(tmp_path)
    edit_province(tables, TIER1, 县可改="是")
    append_rows(tables, COUNTY_BOOK, *rows)
    for as_of in (AS_OF, date(2026, 3, 1)):
        found = checked(tables, as_of)
        errors = [(d.code, Path(d.location.file or "").name) for d in found if d.is_error]
        assert (code, "330106-西湖区.xlsx") in errors, [d.render() for d in found]
        assert all(name == "330106-西湖区.xlsx" for _, name in errors), errors
        bounds = [d.render() for d in found if d.code in ("E401", "W402") and "最低工资标准" in d.message]
        assert bounds == []


def test_an_unrefused_county_row_still_bounds_its_own_standard(tmp_path: Path) -> None:
    """The same row read (1000): the county's own 最低工资标准 2490 is above it. The
    fix refuses rows with errors, not every county value."""
    tables = copied_tables(tmp_path)
    edit_province(tables, TIER1, 县可改="是")
    append_rows(tables, COUNTY_BOOK, row(TIER1, "最低工资第一档", 1000, "2024-01-01", "2025-12-31"))
    found = [d for d in checked(tables) if d.code == "E401"]
    assert [at(d) for d in found] == ["counties/330106-西湖区.xlsx:C2"]
    assert "取值 2490.00 元/月 高于上限 1000.00 元/月" in found[0].message


# ------------------------------------------------------------ values as the tables write them


def test_an_unverified_yes_or_no_is_quoted_as_shi_or_fou(tmp_path: Path) -> None:
    """W401 for 帮扶年收入按人均计 said 取值 否 and then 实际为「False」."""
    found = checked(copied_tables(tmp_path))
    warning = next(d for d in found if d.code == "W401" and "帮扶年收入按人均计" in d.message)
    assert "取值 否 未经核实" in warning.message and warning.found == "否"
    assert not [d.render() for d in found if any(w in d.render() for w in ("True", "False", "None"))]


def test_a_county_dibao_standard_it_could_not_read_is_quoted_as_typed(tmp_path: Path) -> None:
    """W406 said 「低保标准」None for 1301元/年 (E110 at the same cell)."""
    tables = copied_tables(tmp_path)
    append_rows(tables, COUNTY_BOOK, ["dibao_standard", "低保标准", "1301元/年", "元/人/月",
                                      datetime(2026, 1, 1), None, "x", None, "否"])
    found = checked(tables, date(2026, 2, 1))
    warning = next(d for d in found if d.code == "W406")
    assert "县级工作簿设定了「低保标准」1301元/年（2026-01-01 起）" in warning.message
    assert warning.found == "1301元/年" and "None" not in warning.render()
    assert ("E110", "counties/330106-西湖区.xlsx:C4") in [(d.code, at(d)) for d in found]


@pytest.mark.parametrize(
    ("value", "said", "expected"),
    [
        # a computed bound is rounded towards what it allows: 0.4 x 45001 / 12 is
        # 1500.0333, the greatest amount allowed 1500.03; 0.3 x 45001 / 12 is 1125.025
        (1600, "取值 1600.00 元/人/月 高于上限 1500.03 元/人/月（", "不高于 1500.03 元/人/月"),
        (1125.02, "取值 1125.02 元/人/月 低于下限 1125.03 元/人/月（", "不低于 1125.03 元/人/月"),
    ],
    ids=["above", "below"],
)
def test_an_amount_out_of_bounds_is_quoted_with_its_unit(
    tmp_path: Path, value: object, said: str, expected: str
) -> None:
    tables = copied_tables(tmp_path)
    edit_province(tables, "consumption_per_capita", 值="45001")
    append_rows(tables, COUNTY_BOOK, ["dibao_standard", "低保标准", value, "元/人/月",
                                      "2025-05-01", None, "x", None, "是"])
    (error,) = [d for d in checked(tables) if d.code == "E401"]
    assert said in error.message and error.expected == expected, error.render()
    assert error.found == f"{Decimal(str(value)):.2f} 元/人/月"


@pytest.mark.parametrize(
    ("ident", "name", "value", "unit", "said"),
    [
        ("rigid_expense_ratio", "刚性支出占比标准", "150%", "占家庭年收入", "取值 150% 高于上限 100%（"),
        ("marginal_multiplier", "边缘标准倍数", 2.5, "倍", "取值 2.5 倍 高于上限 2 倍（"),
    ],
    ids=["percent", "multiple"],
)
def test_a_ratio_out_of_bounds_is_quoted_as_written(
    tmp_path: Path, ident: str, name: str, value: object, unit: str, said: str
) -> None:
    """150% was quoted 1.5 高于上限 1, 2.5 倍 as 2.5000 高于上限 2."""
    tables = copied_tables(tmp_path)
    append_rows(tables, COUNTY_BOOK, [ident, name, value, unit, "2025-05-01", None, "x", None, "是"])
    (error,) = [d for d in checked(tables) if d.code == "E401"]
    assert said in error.message, error.render()


@pytest.mark.parametrize(
    ("value", "quoted"),
    [
        (False, "否"),
        (True, "是"),
        (datetime(2026, 1, 1), "2026-01-01"),
        (Decimal("1E+3"), "1000"),
    ],
    ids=["false", "true", "datetime", "exponent"],
)
def test_a_value_found_is_written_as_the_tables_write_it(value: object, quoted: str) -> None:
    diagnostic = make("W401", "标准参数未经核实", found=value, expected=value)
    assert diagnostic.found == quoted and diagnostic.expected == quoted
    assert f"实际为「{quoted}」" in diagnostic.render()


# ------------------------------------------------------------ the console says it alike


def test_the_console_form_quotes_a_value_it_could_not_read_as_typed(env: dict[str, Path]) -> None:  # noqa: F811
    """1301元/年 typed in 调整一项标准 gave W406 「低保标准」None (helper-65); the
    console's tables (tests/test_console.py) with a city that sets 低保标准."""
    (env["tables"] / "cities").mkdir()
    write_xlsx(env["tables"] / "cities" / "330100-杭州市.xlsx", {"标准参数": [
        ["标识", "值", "单位", "生效日期", "来源"],
        ["dibao_standard", "1301", "元/人/月", "2025-01-23", "杭州市民政局"],
    ]})
    text = shown(set_dibao(start(ADMIN), "1301元/年", "2026-01-01"))
    assert "「低保标准」1301元/年（2026-01-01 起）" in text, text
    assert "None" not in text
