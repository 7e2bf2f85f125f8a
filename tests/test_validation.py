"""The corpus of broken tables: one case per validation rule, each asserting the code,
the cell and a phrase of the Chinese message, with the county workbook tried both as
.xlsx and as a CSV folder; and `jiuzhu check` exits 1 on each, 0 on the valid tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from compiler.cli import main
from compiler.diagnostics import Report
from compiler.engine import open_project
from tests.tables_fixture import county_sheets, province_sheets, write_tables

AS_OF = date(2025, 6, 1)
Edit = Callable[[dict, dict], None]


@dataclass
class Case:
    code: str
    sheet: str
    cell: str | None
    phrase: str
    edit: Edit
    in_county: bool = False


def _set(sheets: dict, sheet: str, row: int, col: int, value: object) -> None:
    rows = sheets[sheet]
    while len(rows[row]) <= col:
        rows[row].append(None)
    rows[row][col] = value


def _province(sheet: str, row: int, col: int, value: object) -> Edit:
    return lambda province, county: _set(province, sheet, row, col, value)


def _county(sheet: str, row: int, col: int, value: object) -> Edit:
    return lambda province, county: _set(county, sheet, row, col, value)


def _append(sheet: str, row: list[object], where: str = "county") -> Edit:
    def edit(province: dict, county: dict) -> None:
        (county if where == "county" else province)[sheet].append(row)

    return edit


def _named_row(name: str, ident: str = "dibao_standard") -> Edit:
    """The county's dibao_standard row with a 名称 column reading ``name``."""

    def edit(province: dict, county: dict) -> None:
        county["标准参数"] = [
            ["标识", "名称", "值", "生效日期", "失效日期", "来源"],
            [ident, name, "1301", "2025-01-23", None, "杭州市民政局"],
        ]

    return edit


def _unit_row(value: str, unit: str) -> Edit:
    """The county's dibao_standard row with a 单位 column."""

    def edit(province: dict, county: dict) -> None:
        county["标准参数"] = [
            ["标识", "值", "单位", "生效日期", "失效日期", "来源"],
            ["dibao_standard", value, unit, "2025-01-23", None, "杭州市民政局"],
        ]

    return edit


CASES = {
    "field bound not an amount": Case(
        "E104", "字段", "F4", "金额", _province("字段", 3, 5, "零元")),
    "field bounds the wrong way round": Case(
        "E213", "字段", "G4", "下限 0 高于上限 -1", _province("字段", 3, 6, "-1")),
    "field bound on a date field": Case(
        "E306", "字段", "F6", "只有数值类字段可以写下限或上限", _province("字段", 5, 5, "0")),
    "money cell not a number": Case(
        "E104", "标准参数", "B2", "金额", _county("标准参数", 1, 1, "一千三"), True),
    "date impossible": Case(
        "E102", "标准参数", "C2", "日期", _county("标准参数", 1, 2, "2025-02-30"), True),
    "percent unit in money cell": Case(
        "E110", "标准参数", "B2", "", _county("标准参数", 1, 1, "35%"), True),
    # a unit the column contradicts changed decisions without a word (helper-41)
    "percent in a money rule cell": Case(
        "E110", "household_group", "B6", "金额列中出现了百分号",
        _province("household_group", 5, 1, "< 100%")),
    "percent in a money interval": Case(
        "E110", "household_group", "B6", "百分号",
        _province("household_group", 5, 1, "[0..150%)")),
    "per-year amount in a rule cell": Case(
        "E110", "household_group", "B6", "不会按月或按年换算",
        _province("household_group", 5, 1, "< 13788元/年")),
    "per-year 万元 in a rule cell": Case(
        "E110", "household_group", "B6", "「万元/年」不会按月或按年换算",
        _province("household_group", 5, 1, "< 1.5万元/年")),
    "per-year value under a per-month unit": Case(
        "E110", "标准参数", "C2", "期间不符", _province("标准参数", 1, 2, "13788元/年")),
    # a row without a 单位 of its own is in the province's unit (helper-42)
    "per-year value in a row without a unit": Case(
        "E110", "标准参数", "B2", "与单位「元/人/月」的期间不符", _county("标准参数", 1, 1, "13788元/年"), True),
    "a row's unit in 万元 where the province's is 元": Case(
        "E110", "标准参数", "B2", "与省级规定的单位「元/人/月」不符", _unit_row("0.13", "万元/人/月"), True),
    "a row's unit per year where the province's is per month": Case(
        "E110", "标准参数", "B2", "与省级规定的单位「元/人/月」不符", _unit_row("13788", "元/人/年"), True),
    "boolean cell unreadable": Case(
        "E103", "标准参数", "M2", "", _province("标准参数", 1, 12, "也许")),
    "hit policy unknown": Case(
        "E202", "household_group", "C1", "命中策略", _province("household_group", 0, 2, "第一条")),
    "column kind unknown": Case(
        "E203", "household_group", "D2", "输入、输出", _province("household_group", 1, 3, "结果")),
    "column type unknown": Case(
        "E204", "household_group", "B4", "类型", _province("household_group", 3, 1, "钱")),
    "no output column": Case(
        "E205", "household_group", "A2", "没有输出列",
        _province("household_group", 1, 3, "注释")),
    "duplicate rule id": Case(
        "E206", "household_group", "A7", "重复", _province("household_group", 6, 0, "dibao")),
    "table id not an identifier": Case(
        "E211", "household_group", "A1", "标识", _province("household_group", 0, 0, "低保认定")),
    "header rows missing": Case(
        "E201", "household_group", "A3", "名称", _province("household_group", 2, 0, "列名")),
    "level unknown": Case(
        "E210", "household_group", "D1", "层级", _province("household_group", 0, 3, "层级=个人")),
    "standards sheet lacks value column": Case(
        "E209", "标准参数", "A1", "缺少列", _county("标准参数", 0, 1, "数额"), True),
    "unary test syntax": Case(
        "E301", "household_group", "B6", "条件无法识别",
        _province("household_group", 5, 1, "<< 低保标准")),
    # a range typed as spreadsheets do: equal to 1000 less 2000 (helper-38)
    "range typed as a difference": Case(
        "E301", "household_group", "B6", "会被读作「等于 -1000」",
        _province("household_group", 5, 1, "1000-2000")),
    "unknown name with suggestion": Case(
        "E302", "household_group", "B6", "低保标准", _province("household_group", 5, 1, "< 低保标注")),
    "type mismatch in comparison": Case(
        "E303", "household_group", "B6", "不能比较", _province("household_group", 5, 1, "< 2025-01-01")),
    # the types compared, as a 类型 cell writes them and in Chinese (helper-95)
    "type mismatch said in chinese": Case(
        "E303", "household_group", "B6", "（金额） 与 date（日期）",
        _province("household_group", 5, 1, "< 2025-01-01")),
    "unknown function": Case(
        "E304", "派生值", "A2", "average",
        _province("派生值", 1, 4, "average(income.wage)")),
    "member value at household level": Case(
        "E303", "派生值", "A2", "成员层级", _province("派生值", 1, 4, "income.wage")),
    "circular derived values": Case(
        "E305", "派生值", None, "循环引用", _province("派生值", 2, 4, "marginal_line * 1")),
    # problems with a standard's value point at its 值 cell, not at its 标识
    "standard above its bound": Case(
        "E401", "标准参数", "B3", "高于上限",
        _append("标准参数", ["marginal_multiplier", "2.5", "2025-04-07", None, "x"]), True),
    # the province's own default too: a typo in it reaches every county (helper-38)
    "province default above its own bound": Case(
        "E401", "标准参数", "C3", "高于上限", _province("标准参数", 2, 2, "15")),
    "standard without a value": Case(
        "E405", "标准参数", "B2", "没有取值", _county("标准参数", 1, 1, None), True),
    "negative standard": Case(
        "E406", "标准参数", "B2", "为负数", _county("标准参数", 1, 1, "-1301"), True),
    "county overrides a province-only standard": Case(
        "E402", "标准参数", "A3", "县市不能覆盖",
        _append("标准参数", ["income_cap", "90000", "2025-04-07", None, "x"]), True),
    "county row whose identifier is misspelt and whose name is known": Case(
        "E302", "标准参数", "A2", "dibao_standardd", _named_row("低保标准", "dibao_standardd"), True),
    "county row whose name is another standard": Case(
        "E407", "标准参数", "A2", "却是另一个标准参数", _named_row("边缘倍数"), True),
    # an undated row was in force every day and outranked later rows (helper-43)
    "standard row without a start date": Case(
        "E108", "标准参数", "C3", "缺少生效日期",
        _append("标准参数", ["dibao_standard", "1700", None, None, "x"]), True),
    "overlapping periods": Case(
        "E403", "标准参数", "A3", "重叠",
        _append("标准参数", ["dibao_standard", "1259", "2023-07-31", None, "x"]), True),
    "period ends before it starts": Case(
        "E404", "标准参数", "A2", "失效日期早于生效日期", _county("标准参数", 1, 3, "2024-01-01"), True),
    "enum output not declared": Case(
        "E107", "household_group", "D6", "声明的取值", _province("household_group", 5, 3, '"dibaox"')),
    "priority output is an expression": Case(
        "E306", "household_group", "D6", "表达式",
        lambda p, c: (_set(p, "household_group", 0, 2, "PRIORITY"),
                      _set(p, "household_group", 5, 3, 'if true then "dibao" else "none"'))),
    "calendar kind unknown": Case(
        "E107", "日历", "B2", "休息日", _province("日历", 1, 1, "节日")),
}


def check(tmp_path, case: Case, form: str) -> Report:
    province, county = province_sheets(), county_sheets()
    case.edit(province, county)
    root = write_tables(tmp_path, province, county, county_form=form)
    return open_project(root, as_of=AS_OF).report, root


@pytest.mark.parametrize("form", ["xlsx", "csv"])
@pytest.mark.parametrize("name", list(CASES))
def test_broken_tables_report_code_cell_and_message(tmp_path, name, form):
    case = CASES[name]
    report, root = check(tmp_path, case, form)
    found = [d for d in report.items if d.code == case.code]
    assert found, f"{case.code} not reported; got {[d.render() for d in report.items]}"
    where = [d for d in found if d.location.sheet == case.sheet or case.sheet in (d.location.file or "")]
    assert where, [d.render() for d in found]
    if case.cell:
        assert any(d.location.cell == case.cell for d in where), [d.render() for d in where]
    assert any(case.phrase in d.render() for d in where)
    assert main(["check", str(root), "--as-of", AS_OF.isoformat(), "--no-analysis"]) == 1


@pytest.mark.parametrize("form", ["xlsx", "csv"])
def test_valid_tables_check_clean(tmp_path, form, capsys):
    root = write_tables(tmp_path, county_form=form)
    report = open_project(root, as_of=AS_OF).report
    assert not report.errors, [d.render() for d in report.errors]
    assert main(["check", str(root), "--as-of", AS_OF.isoformat(), "--no-analysis"]) == 0
    assert "0 个错误" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("cell", "value"),
    [("B6", "< 100% * 低保标准"), ("B6", "< 1149元"), ("C6", "< 5.5万元"), ("B6", "< 1149")],
)
def test_units_that_fit_the_column_are_taken(tmp_path, cell, value):
    """A multiple of a standard written as a percentage, 元 and 万元 in money cells."""
    province = province_sheets()
    _set(province, "household_group", 5, 1 if cell == "B6" else 2, value)
    _set(province, "标准参数", 1, 2, "1149元/人/月")
    root = write_tables(tmp_path, province)
    report = open_project(root, as_of=AS_OF).report
    assert not report.errors, [d.render() for d in report.errors]


def test_a_value_that_cannot_be_read_is_not_also_said_to_be_missing(tmp_path):
    """「一千三」 gave E104 and then E405 「没有取值」: the value is there (helper-42)."""
    province, county = province_sheets(), county_sheets()
    _set(county, "标准参数", 1, 1, "一千三")
    report = open_project(write_tables(tmp_path, province, county), as_of=AS_OF).report
    assert [d.code for d in report.errors] == ["E104"]


def test_a_unit_without_a_period_under_a_monthly_one_is_taken(tmp_path):
    """单位 「元」 for a standard the province writes 元/人/月 says less, not otherwise."""
    root = write_tables(tmp_path, county={"标准参数": [
        ["标识", "值", "单位", "生效日期", "失效日期", "来源"],
        ["dibao_standard", "1301", "元", "2025-01-23", None, "杭州市民政局"],
    ]})
    report = open_project(root, as_of=AS_OF).report
    assert not report.errors, [d.render() for d in report.errors]


def test_unverified_inherited_standard_is_a_warning_naming_the_county(tmp_path):
    root = write_tables(tmp_path, county={"标准参数": [["标识", "值", "生效日期"]]})
    report = open_project(root, as_of=AS_OF).report
    warning = next(d for d in report.items if d.code == "W401")
    assert "330106" in warning.render() and "低保标准" in warning.render()
    assert not report.errors


def test_json_format_lists_records_with_location_keys(tmp_path, capsys):
    import json

    province, county = province_sheets(), county_sheets()
    _set(county, "标准参数", 1, 1, "一千三")
    root = write_tables(tmp_path, province, county)
    assert main(["check", str(root), "--as-of", "2025-06-01", "--format", "json"]) == 1
    records = json.loads(capsys.readouterr().out)
    bad = next(r for r in records if r["code"] == "E104")
    assert {"code", "severity", "file", "sheet", "cell", "message"} <= set(bad)
    assert bad["cell"] == "B2" and bad["severity"] == "error" and bad["found"] == "一千三"


def test_every_problem_is_reported_in_one_pass(tmp_path):
    province, county = province_sheets(), county_sheets()
    _set(province, "household_group", 5, 1, "<< 低保标准")
    _set(province, "household_group", 6, 0, "dibao")
    _set(county, "标准参数", 1, 1, "一千三")
    root = write_tables(tmp_path, province, county)
    codes = {d.code for d in open_project(root, as_of=AS_OF).report.errors}
    assert {"E301", "E206", "E104"} <= codes


def test_two_workbooks_for_one_county_are_refused(tmp_path):
    root = write_tables(tmp_path)
    original = root / "counties" / "330106-西湖区.xlsx"
    (root / "counties" / "330106-西湖区副本.xlsx").write_bytes(original.read_bytes())
    report = open_project(root, as_of=AS_OF).report
    found = [d for d in report.errors if d.code == "E009"]
    assert found and "330106-西湖区" in found[0].render()


def test_a_county_standard_the_province_lacks_is_refused(tmp_path):
    county = county_sheets()
    county["标准参数"].append(["marginal_multipler", "1.8", "2025-04-07", None, "x"])
    report = open_project(write_tables(tmp_path, county=county), as_of=AS_OF).report
    found = [d for d in report.errors if d.code == "E302"]
    assert found and "marginal_multipler" in found[0].render()


def test_a_county_workbook_with_no_recognised_sheet_is_refused(tmp_path):
    root = write_tables(tmp_path, county={"Sheet1": county_sheets()["标准参数"]})
    report = open_project(root, as_of=AS_OF).report
    found = [d for d in report.errors if d.code == "E004"]
    assert found and "Sheet1" in found[0].render()


def test_a_county_table_must_keep_the_province_outputs(tmp_path):
    province = province_sheets()
    province["household_group"][0].append("县可改=是")
    table = [list(row) for row in province["household_group"]]
    table[3][3] = "text"
    report = open_project(
        write_tables(tmp_path, province, {**county_sheets(), "household_group": table}),
        as_of=AS_OF,
    ).report
    found = [d for d in report.errors if d.code == "E212"]
    assert found and "输出" in found[0].render()


def test_a_negative_standard_is_refused_even_where_its_bounds_cannot_be_checked(tmp_path):
    county = county_sheets()
    county["标准参数"][1][1] = "-5"
    root = write_tables(tmp_path, county=county)
    report = open_project(root, as_of=AS_OF).report
    found = [d for d in report.errors if d.code == "E406"]
    assert found and "低保标准" in found[0].render() and "-5" in found[0].render()
    assert (found[0].location.sheet, found[0].location.cell) == ("标准参数", "B2")



@pytest.mark.parametrize(("value", "warned"), [("14300", True), ("600", True), ("2500", False)])
def test_an_amount_ten_times_the_period_before_is_a_warning_at_its_cell(tmp_path, value, warned):
    """1430 typed 14300 passed every check while the province's bound is blank
    (helper-35 published it); more than twice or less than half the period before is
    warned about, a rise short of doubling is not."""
    county = county_sheets()
    county["标准参数"][1][3] = "2025-12-31"
    county["标准参数"].append(["dibao_standard", value, "2026-01-01", None, "杭民发"])
    report = open_project(write_tables(tmp_path, county=county), as_of=AS_OF).report
    found = [d for d in report.items if d.code == "W405"]
    assert bool(found) == warned and not report.errors
    if warned:
        assert (found[0].location.sheet, found[0].location.cell) == ("标准参数", "B3")
        assert f"2026-01-01 起的取值 {value}" in found[0].message and "上一期 1301" in found[0].message


@pytest.mark.parametrize(("value", "warned"), [("2400", False), ("600", True)])
def test_a_new_amount_is_compared_with_the_one_in_force_the_day_before(tmp_path, value, warned):
    """A county's 2400 was compared with the province's 1149, sorted before it, not the
    city's 1301 in force, so 2400 was warned and 600 was not (helper-39)."""
    from tests.workbooks import write_xlsx

    county = county_sheets()
    # sorted by date the province's 1149 (2024-01-01) comes just before 2024-06-01,
    # while the city's 1259 (2023-07-31) is what was in force
    county["标准参数"] = [county["标准参数"][0], ["dibao_standard", value, "2024-06-01", None, "杭民发"]]
    root = write_tables(tmp_path, county=county)
    (root / "cities").mkdir()
    write_xlsx(root / "cities" / "330100-杭州市.xlsx", {"标准参数": [
        ["标识", "值", "生效日期", "失效日期", "来源"], ["dibao_standard", "1259", "2023-07-31", None, "杭民发"],
    ]})
    report = open_project(root, as_of=AS_OF).report
    found = [d for d in report.items if d.code == "W405" and "2024-06-01" in d.message]
    assert bool(found) == warned, [d.render() for d in report.items]
    if warned:
        assert "上一期 1259" in found[0].message


def test_a_table_or_value_one_workbook_defines_twice_is_e207_naming_both(tmp_path):
    """A copy of a table's CSV saved beside it, or a derived value's row pasted twice,
    silently replaced the original, whichever name sorted last (helper-38)."""
    root = write_tables(tmp_path)
    province = root / "province"
    sheets = {p.stem: p for p in province.glob("*.csv")}
    table = next(name for name in sheets if name not in ("字段", "标准参数", "派生值", "日历", "不变式"))
    (province / f"{table} - 副本.csv").write_bytes(sheets[table].read_bytes())
    derived = sheets["派生值"].read_text(encoding="utf-8").splitlines()
    sheets["派生值"].write_text("\n".join([*derived, derived[1]]) + "\n", encoding="utf-8")
    report = open_project(root, as_of=AS_OF).report
    found = sorted(d.message for d in report.errors if d.code == "E207")
    ident = derived[1].split(",")[0]
    assert found == sorted([f"决策表「{table}」重复定义", f"派生值「{ident}」重复定义"])
    assert all("另一处在" in (d.hint or "") for d in report.errors if d.code == "E207")


def test_a_huge_number_in_a_money_cell_is_too_large_not_too_precise(tmp_path):
    county = county_sheets()
    county["标准参数"][1][1] = 1e300  # a number cell, as Excel stores one
    report = open_project(write_tables(tmp_path, county=county), as_of=AS_OF).report
    [found] = [d for d in report.errors if d.code == "E104"]
    assert found.location.cell == "B2" and "金额过大" in found.render()
    assert "绝对值小于 10¹⁶ 的金额" in found.render()
    assert "小数位数过多" not in found.render()


def test_a_control_character_in_a_money_cell_is_shown_visibly(tmp_path):
    county = county_sheets()
    county["标准参数"][1][1] = "13\x0701"
    root = write_tables(tmp_path, county=county, county_form="csv")
    report = open_project(root, as_of=AS_OF).report
    [found] = [d for d in report.errors if d.code == "E104"]
    assert found.found == "13<U+0007>01" and "\x07" not in found.render()


def test_the_console_marks_the_value_column_of_a_negative_standard(tmp_path):
    from console import grids
    from console.sheets import read_sheets

    county = county_sheets()
    county["标准参数"][1][1] = "-5"
    root = write_tables(tmp_path, county=county)
    workbook = root / "counties" / "330106-西湖区.xlsx"
    [sheet], _ = read_sheets(workbook)

    found = next(d for d in open_project(root, as_of=AS_OF).report.errors if d.code == "E406")

    assert grids.place(found, grids.to_grid(sheet)) == "「标准参数」第 1 行「值」（B2）"


@pytest.mark.parametrize("form", ["xlsx", "csv"])
def test_a_bound_that_cannot_be_checked_is_shown_at_the_value(tmp_path, form):
    province, county = province_sheets(), county_sheets()
    # the multiplier's 上限 names a province standard that has no value yet
    province["标准参数"].append(
        ["multiplier_cap", "倍数上限", None, "倍", "2024-01-01", None, "x", None,
         "number", "否", None, None, "否"]
    )  # fmt: skip
    _set(province, "标准参数", 2, 11, "multiplier_cap")
    county["标准参数"].append(["marginal_multiplier", "1.8", "2025-04-07", None, "x"])
    root = write_tables(tmp_path, province, county, county_form=form)

    report = open_project(root, as_of=AS_OF).report

    found = [d for d in report.items if d.code == "W402"]
    # the county's value, and the province's own default (checked against its bounds too)
    assert sorted(("province" in (d.location.file or ""), d.location.cell) for d in found) == [
        (False, "B3"), (True, "C3")]
    assert all("multiplier_cap" in d.render() for d in found)


@pytest.mark.parametrize("form", ["xlsx", "csv"])
def test_a_county_name_the_province_does_not_use_is_a_warning_and_the_id_decides(tmp_path, form):
    province, county = province_sheets(), county_sheets()
    _named_row("低保标准（城乡统一）")(province, county)
    root = write_tables(tmp_path, province, county, county_form=form)
    project = open_project(root, as_of=AS_OF)
    warning = next(d for d in project.report.items if d.code == "W404")
    assert "城乡统一" in warning.render() and warning.location.cell == "A2"
    assert not project.report.errors
    standard = project.plan("330106").rulebook.standards["dibao_standard"]
    assert standard.row_on(AS_OF).value == Decimal(1301)


def test_a_county_row_with_the_province_name_is_clean(tmp_path):
    province, county = province_sheets(), county_sheets()
    _named_row("低保标准")(province, county)
    report = open_project(write_tables(tmp_path, province, county), as_of=AS_OF).report
    assert not [d for d in report.items if d.code in ("W404", "E407")]


def test_a_field_default_outside_its_own_bounds_is_e213_at_the_default(tmp_path):
    """A default of -10 under a 下限 of 0 was accepted: a household that left the field
    out got a value E614 refuses when typed (helper-38)."""
    import shutil

    root = tmp_path / "tables"
    shutil.copytree(Path(__file__).resolve().parents[1] / "tables", root)
    sheet = root / "province" / "字段.csv"
    text = sheet.read_text(encoding="utf-8")
    assert "\nassets.money,货币财产,家庭,money,0,0," in text
    sheet.write_text(text.replace("\nassets.money,货币财产,家庭,money,0,0,", "\nassets.money,货币财产,家庭,money,-10,0,"),
                     encoding="utf-8")
    report = open_project(root, ["330106"], as_of=AS_OF).report
    [found] = [d for d in report.errors if d.code == "E213"]
    assert (found.location.sheet, found.location.cell) == ("字段", "E4")
    assert "默认值 -10 不在下限、上限之内" in found.message


def test_a_county_workbook_named_with_full_width_digits_is_that_county(tmp_path):
    """「３３０１０６-西湖区.xlsx」 passed check as a county no household matched, and
    evaluate said E606 for every household of 330106 (helper-41)."""
    root = write_tables(tmp_path)
    original = root / "counties" / "330106-西湖区.xlsx"
    original.rename(original.with_name("３３０１０６-西湖区.xlsx"))
    project = open_project(root, as_of=AS_OF)
    assert not project.report.errors, [d.render() for d in project.report.errors]
    assert "330106" in project.plans
