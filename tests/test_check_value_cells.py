"""Where ``check`` says what a derived value's expression mixes, and what it says of a
whole number declared ``number`` (helper-98).

An amount and a share mixed in a derived value (E110) was said at its 标识 cell, not
at the 表达式 cell that mixes them. A count such as assets.vehicles declared
``number`` passed without a word, and the analysis then took it for any decimal: rules
``= 0`` and ``>= 1`` gave an E501 gap at ``assets.vehicles = 0.0001`` (W204 now, at the
类型 cell). compiler/bind.py was split in two (compiler/bind_types.py); every name
other modules import from it still imports.
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
    """The fixture's province with two counts and a percent standard."""
    sheets = province_sheets()
    for ident, name in (("assets.vehicles", "机动车数量"), ("assets.homes", "住房套数")):
        sheets["字段"].append([ident, name, "家庭", "integer", "0", "0", None, None])
    sheets["标准参数"].append(
        ["rigid_expense_ratio", "刚性支出占比标准", "70%", "%", "2024-01-01", None,
         "测试", None, "percent", "是", None, None, "是"]
    )
    return sheets


def check(
    tmp_path: Path,
    *,
    derived: list[list[object]] | None = None,
    tables: dict | None = None,
    form: str = "xlsx",
) -> Report:
    county = county_sheets() | (tables or {})
    if derived is not None:
        county["派生值"] = [DERIVED_HEADER, *derived]
    report = Report()
    root = write_tables(tmp_path, province(), county, county_form=form)
    open_project(root, [COUNTY], AS_OF, report=report)
    return report


def only(report: Report, code: str) -> list[Diagnostic]:
    return [d for d in report.items if d.code == code]


def at(diagnostic: Diagnostic) -> tuple[str | None, str | None]:
    return diagnostic.location.sheet, diagnostic.location.cell


# ---------------------------------------------------------------- E110 at the 表达式 cell


@pytest.mark.parametrize("form", ["xlsx", "csv"])
@pytest.mark.parametrize(
    ("expr", "phrase"),
    [
        pytest.param("低保标准 + 5%", "金额「dibao_standard」与百分比「5%」不能相加减", id="sum"),
        pytest.param(
            "max(低保标准, rigid_expense_ratio)", "不能放在一起取值（max）", id="chosen"
        ),
        pytest.param("rigid_expense_ratio", "声明为金额的值是百分比", id="a-share"),
        pytest.param("35%", "金额列中出现了百分号", id="written-percent"),
        pytest.param("1301元/年", "不会按月或按年换算", id="per-year"),
    ],
)
def test_a_derived_value_mixing_money_and_a_share_is_refused_at_its_expression(
    tmp_path: Path, form: str, expr: str, phrase: str
) -> None:
    report = check(
        tmp_path, derived=[["kh_base", "县补助基数", "家庭", "money", expr, "测试"]], form=form
    )
    [said] = only(report, "E110")
    assert at(said) == ("派生值", "E2"), said.render()
    assert phrase in said.message


def test_another_problem_of_a_derived_value_stays_at_its_identifier(tmp_path: Path) -> None:
    """Only what the expression mixes moved; an unknown name is said where it was."""
    report = check(tmp_path, derived=[["kh_base", "县补助基数", "家庭", "money", "低保标注", "x"]])
    [said] = only(report, "E302")
    assert at(said) == ("派生值", "A2")


# ---------------------------------------------------------------- W204 whole numbers


def vehicles(declared: str, expr: str = "assets.vehicles", rules=None) -> dict:
    rules = rules or [["none", "0", "否"], ["some", ">= 1", "是"]]
    return {
        "kh_car": [
            ["kh_car", "县有车认定", "FIRST", "层级=家庭"],
            ["规则", "输入", "输出", "注释"],
            ["名称", expr, "kh_has_car", "依据"],
            ["类型", declared, "boolean", None],
            *[[*rule, "测试"] for rule in rules],
        ]
    }


def test_a_count_in_a_column_declared_number_is_warned_at_its_type_cell(
    tmp_path: Path,
) -> None:
    report = check(tmp_path, tables=vehicles("number"))
    [said] = only(report, "W204")
    assert at(said) == ("kh_car", "B4")
    assert "输入列「assets.vehicles」的值总是整数，类型却写作 number（数值）" in said.message
    assert said.found == "number" and "integer" in (said.expected or "")
    assert "0.5" in said.message and "integer" in (said.hint or "")


def test_a_count_in_a_column_declared_integer_passes(tmp_path: Path) -> None:
    report = check(tmp_path, tables=vehicles("integer"))
    assert not only(report, "W204") and not report.has_errors, report.items


@pytest.mark.parametrize(
    "expr",
    [
        pytest.param("assets.vehicles + assets.homes", id="sum"),
        pytest.param("max(assets.vehicles, assets.homes)", id="chosen"),
        pytest.param("count(true)", id="count"),
    ],
)
def test_a_computed_whole_number_declared_number_is_warned(tmp_path: Path, expr: str) -> None:
    report = check(tmp_path, tables=vehicles("number", expr, [["any", "> 0", "是"]]))
    assert [at(d) for d in only(report, "W204")] == [("kh_car", "B4")]


@pytest.mark.parametrize(
    "expr",
    [
        pytest.param("assets.vehicles / 2", id="quotient"),
        pytest.param("if assets.vehicles > 1 then assets.vehicles else 0.5", id="half"),
        pytest.param("assets.money / 低保标准", id="no-count"),
        # a written number makes nothing whole: 2 may be 2.5 once the table is edited
        pytest.param("assets.vehicles * 2", id="times-a-number"),
    ],
)
def test_a_value_that_may_be_fractional_is_not_warned(tmp_path: Path, expr: str) -> None:
    report = check(tmp_path, tables=vehicles("number", expr, [["any", "> 0", "是"]]))
    assert not only(report, "W204"), [d.render() for d in report.items]


def test_a_derived_count_declared_number_is_warned_at_its_type_cell(tmp_path: Path) -> None:
    derived = [["kh_cars", "县车辆数", "家庭", "number", "assets.vehicles", "测试"]]
    report = check(tmp_path, derived=derived)
    [said] = only(report, "W204")
    assert at(said) == ("派生值", "D2")
    assert "派生值「kh_cars」的值「assets.vehicles」总是整数" in said.message


def test_the_warned_count_is_the_column_that_gave_a_gap_at_a_fraction(
    tmp_path: Path,
) -> None:
    """The analysis still says its gap; the warning says why it is not a real one."""
    from compiler.analyse import analyse

    root = write_tables(tmp_path, province(), county_sheets() | vehicles("number"))
    report = Report()
    project = open_project(root, [COUNTY], AS_OF, report=report)
    analyse(project.plan(COUNTY), report, AS_OF)
    [gap] = [d for d in report.items if d.code == "E501" and "kh_car" in d.message]
    [warned] = only(report, "W204")
    assert "assets.vehicles" in gap.message and at(warned) == ("kh_car", "B4")


# ---------------------------------------------------------------- the split of bind.py


def test_every_name_other_modules_import_from_bind_still_imports() -> None:
    from compiler import bind

    for name in (
        "AS_OF", "DECISION_COLUMNS", "BindCache", "Item", "Plan", "bind", "bind_replaced",
        "policy_cell", "row_below", "tested_inputs", "type_said",
        "_Binder", "_Scope", "_aliases",
    ):
        assert hasattr(bind, name), name
