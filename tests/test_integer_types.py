"""What ``check`` says of values declared ``integer`` and of integer input columns
(helper-105).

A derived value typed ``integer`` whose expression may give a fraction
(``assets.money / 3``) passed check, and both evaluators rounded it half up at the end:
5 / 3 decided as 2 without a word (E303 now, at the 表达式 cell). ``assets.vehicles +
1`` could not be typed ``integer`` in an input column: a written number made any sum a
``number`` (integer arithmetic is an integer now; a quotient never is). A rule cell
``< 0.5`` or ``[1..2.5]`` of an integer column passed without a word (W205 now, with
the whole-number test meant).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from compiler.diagnostics import Diagnostic, Report
from compiler.engine import open_project
from tests.tables_fixture import COUNTY, county_sheets, province_sheets, write_tables

AS_OF = date(2025, 6, 1)
DERIVED_HEADER = ["标识", "名称", "层级", "类型", "表达式", "依据"]


def province() -> dict:
    """The fixture's province with two counts."""
    sheets = province_sheets()
    for ident, name in (("assets.vehicles", "机动车数量"), ("assets.homes", "住房套数")):
        sheets["字段"].append([ident, name, "家庭", "integer", "0", "0", None, None])
    return sheets


def check(tmp_path: Path, *, derived: list | None = None, tables: dict | None = None) -> Report:
    county = county_sheets() | (tables or {})
    if derived is not None:
        county["派生值"] = [DERIVED_HEADER, *derived]
    report = Report()
    open_project(write_tables(tmp_path, province(), county), [COUNTY], AS_OF, report=report)
    return report


def only(report: Report, code: str) -> list[Diagnostic]:
    return [d for d in report.items if d.code == code]


def at(diagnostic: Diagnostic) -> tuple[str | None, str | None]:
    return diagnostic.location.sheet, diagnostic.location.cell


def integer_value(expr: str) -> list[list[object]]:
    return [["kh_count", "县计数", "家庭", "integer", expr, "测试"]]


def cars(
    column: str = "assets.vehicles",
    declared: str = "integer",
    rules: list[list[object]] | None = None,
    output: str = "boolean",
    default: object = "否",
) -> dict:
    """A county table: B tests ``column`` typed ``declared``; C is the output."""
    rules = rules or [["> 0", "是"]]
    return {
        "kh_car": [
            ["kh_car", "县车辆", "FIRST", "层级=家庭"],
            ["规则", "输入", "输出", "注释"],
            ["名称", column, "kh_out", "依据"],
            ["类型", declared, output, None],
            ["默认", None, default, None],
            *[[f"r{i}", *rule, "测试"] for i, rule in enumerate(rules, 1)],
        ]
    }


# ---------------------------------------------------------------- E303 a fraction typed integer


@pytest.mark.parametrize(
    "expr",
    [
        pytest.param("assets.money / 3", id="quotient"),
        pytest.param("count(true) * 0.5", id="times-a-fraction"),
        pytest.param("assets.money", id="money"),
        pytest.param("if assets.vehicles > 1 then 1 else 0.5", id="a-branch"),
        pytest.param("min(assets.vehicles, 2.5)", id="chosen"),
        pytest.param("round(assets.money, 1)", id="round-to-a-tenth"),
        pytest.param("assets.vehicles / 1", id="even-by-one"),
    ],
)
def test_a_derived_value_typed_integer_that_may_be_a_fraction_is_refused(
    tmp_path: Path, expr: str
) -> None:
    [refused] = only(check(tmp_path, derived=integer_value(expr)), "E303")
    assert at(refused) == ("派生值", "E2")  # the 表达式 cell, not the 标识
    assert f"派生值「kh_count」的表达式「{expr}」可能得出小数" in refused.message
    assert "类型却写作 integer（整数）" in refused.message
    assert refused.found == f"{expr}（可能是小数）"
    assert "number（数值）或 money（金额）" in (refused.expected or "")
    assert f"floor({expr})" in (refused.expected or "")
    assert "round(x, 0)" in (refused.hint or "")


@pytest.mark.parametrize(
    "expr",
    [
        pytest.param("assets.vehicles + 1", id="plus-one"),
        pytest.param("2 * assets.vehicles - 1", id="arithmetic"),
        pytest.param("-assets.vehicles", id="sign"),
        pytest.param("max(assets.vehicles, 1)", id="max"),
        pytest.param("min(assets.vehicles, assets.homes)", id="min"),
        pytest.param("abs(assets.vehicles - 3)", id="abs"),
        pytest.param("if assets.vehicles > 1 then assets.vehicles else 0", id="branches"),
        pytest.param("floor(assets.money / 3)", id="floor"),
        pytest.param("ceil(assets.money / 3)", id="ceil"),
        pytest.param("round(assets.money / 3, 0)", id="round-0"),
        pytest.param("round(assets.money / 3)", id="round"),
        pytest.param("count(true) * 2", id="count"),
    ],
)
def test_a_derived_value_typed_integer_that_is_always_whole_passes(
    tmp_path: Path, expr: str
) -> None:
    report = check(tmp_path, derived=integer_value(expr))
    assert not report.has_errors, [d.render() for d in report.items]


def test_a_fraction_written_in_an_integer_output_is_refused_at_its_cell(
    tmp_path: Path,
) -> None:
    rules = [["> 1", "2.5"], ["> 0", "assets.money / 2"]]
    report = check(tmp_path, tables=cars(rules=rules, output="integer", default="0.5"))
    said = {at(d): d for d in only(report, "E303")}
    assert sorted(said) == [("kh_car", "C5"), ("kh_car", "C6"), ("kh_car", "C7")]
    written = said[("kh_car", "C6")]
    assert "输出列「kh_out」的单元格「2.5」是小数" in written.message
    assert "取整为 3" in written.message and "整数，如 2 或 3" in (written.expected or "")
    assert "输出列「kh_out」的默认值「0.5」是小数" in said[("kh_car", "C5")].message
    assert "「assets.money / 2」可能得出小数" in said[("kh_car", "C7")].message


def test_an_integer_output_of_whole_numbers_passes(tmp_path: Path) -> None:
    rules = [["> 1", "assets.vehicles - 1"], ["> 0", "2"]]
    report = check(tmp_path, tables=cars(rules=rules, output="integer", default="0"))
    assert not report.has_errors, [d.render() for d in report.items]


# ---------------------------------------------------------------- integer input columns


@pytest.mark.parametrize(
    "column",
    ["assets.vehicles + 1", "assets.vehicles * 2 - assets.homes", "round(assets.money, 0)"],
)
def test_an_integer_computation_may_be_an_integer_input_column(
    tmp_path: Path, column: str
) -> None:
    report = check(tmp_path, tables=cars(column))
    assert not report.has_errors, [d.render() for d in report.items]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        pytest.param("assets.vehicles / 2", "数值（number）", id="quotient"),
        pytest.param("if assets.vehicles > 1 then 1 else 0.5", "数值（number）", id="a-branch"),
        # a choice is the wider of its branches, not the first
        pytest.param(
            "if assets.vehicles > 1 then assets.vehicles else assets.money",
            "金额（money）",
            id="count-or-money",
        ),
    ],
)
def test_a_value_that_may_be_a_fraction_is_no_integer_input_column(
    tmp_path: Path, column: str, value: str
) -> None:
    [refused] = only(check(tmp_path, tables=cars(column)), "E303")
    assert at(refused) == ("kh_car", "B4")
    assert f"的值是{value}" in refused.message


def test_a_count_times_a_written_amount_may_still_be_typed_money(tmp_path: Path) -> None:
    """Whole only by the number written: 500 yuan a car is money, as before."""
    report = check(tmp_path, tables=cars("assets.vehicles * 500", "money"))
    assert not report.has_errors, [d.render() for d in report.items]


# ---------------------------------------------------------------- W205 fractions on integers


@pytest.mark.parametrize(
    ("cell", "said", "meant"),
    [
        pytest.param("< 0.5", "整数中「< 0.5」即「<= 0」", "<= 0", id="less"),
        pytest.param("<= 1.5", "整数中「<= 1.5」即「<= 1」", "<= 1", id="at-most"),
        pytest.param("> 0.5", "整数中「> 0.5」即「>= 1」", ">= 1", id="more"),
        pytest.param("> -0.5", "整数中「> -0.5」即「>= 0」", ">= 0", id="negative"),
        pytest.param("[1..2.5]", "整数中「[1..2.5]」即「[1..2]」", "[1..2]", id="interval"),
        pytest.param("(0.5..3)", "整数中「(0.5..3)」即「[1..3)」", "[1..3)", id="open"),
        pytest.param("< 50%", "整数中「< 50%」即「<= 0」", "<= 0", id="percent"),
        pytest.param("[0.5..低保标准]", "即「[1..低保标准]」", "[1..低保标准]", id="named"),
    ],
)
def test_a_fraction_in_an_integer_column_is_warned_with_the_whole_number_test(
    tmp_path: Path, cell: str, said: str, meant: str
) -> None:
    report = check(tmp_path, tables=cars(rules=[[cell, "是"]]))
    [warned] = only(report, "W205")
    assert at(warned) == ("kh_car", "B6")
    assert "整数输入列「assets.vehicles」的条件写了小数" in warned.message
    assert said in warned.message
    assert warned.found == cell and meant in (warned.expected or "")
    assert "number" in (warned.hint or "")
    assert not report.has_errors, [d.render() for d in report.errors]


@pytest.mark.parametrize(
    ("cell", "said"),
    [
        pytest.param("0.5", "整数不会等于 0.5，「0.5」永远不成立", id="equal"),
        pytest.param("1, 2.5", "整数不会等于 2.5", id="listed"),
        pytest.param("not(0.5)", "整数不会等于 0.5", id="negated"),
        pytest.param("!= 0.5", "「!= 0.5」对任何取值都成立", id="unequal"),
        pytest.param("[1.2..1.8]", "「[1.2..1.8]」之内没有整数，这一项永远不成立", id="empty"),
    ],
)
def test_a_fraction_an_integer_never_equals_is_said_to_never_hold(
    tmp_path: Path, cell: str, said: str
) -> None:
    [warned] = only(check(tmp_path, tables=cars(rules=[[cell, "是"]])), "W205")
    assert said in warned.message


@pytest.mark.parametrize("cell", ["< 1", "[1..3]", "0, 2", "> 低保标准"])
def test_whole_numbers_in_an_integer_column_are_not_warned(tmp_path: Path, cell: str) -> None:
    assert not only(check(tmp_path, tables=cars(rules=[[cell, "是"]])), "W205")


def test_a_fraction_in_a_number_column_is_not_warned(tmp_path: Path) -> None:
    report = check(tmp_path, tables=cars("assets.money / 3", "number", [["< 0.5", "是"]]))
    assert not only(report, "W205")
