"""What ``check`` says about a county table whose types do not fit what it computes.

A column's declared type (row 4) was never compared with the value of its row 3: a date
typed money passed, and ``explain`` stopped with an internal TypeError; a money value
typed 是否 never matched. Money and percentages mixed without a word (an output ``35%``
was 0.35 yuan). PRIORITY on a money output decided as FIRST. An enum typo was told to
define a standard (helper-90). Each is now an error at its cell (docs/table-format.md,
sections 3 to 5; docs/diagnostics.md).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from compiler.diagnostics import Diagnostic, Report
from compiler.engine import open_project
from compiler.errors import EvaluationError
from compiler.explain import explain
from tests.tables_fixture import COUNTY, county_sheets, province_sheets, write_tables

AS_OF = date(2025, 6, 1)
SHEET = "kh_subsidy"
GROUPS = "enum(dibao,dibao_marginal,none)"


def province() -> dict:
    """The fixture's province with a percent standard and a household date field."""
    sheets = province_sheets()
    sheets["字段"].append(["current.since", "现类别认定日期", "家庭", "date"] + [None] * 4)
    sheets["标准参数"].append(
        ["rigid_expense_ratio", "刚性支出占比标准", "70%", "%", "2024-01-01", None, "测试",
         None, "percent", "是", None, None, "是"]
    )
    return sheets


def subsidy(
    rules: list[list[object]],
    column: tuple[str, str] = ("assets.money", "money"),
    output: str = "money",
    policy: str = "FIRST",
    default: object = 0,
    groups: str = GROUPS,
) -> list[list[object]]:
    """A county table: B tests the group, C the ``column`` (expression, type), D is
    the output; rules from row 6, each (B, C, D)."""
    return [
        [SHEET, "县医疗补助", policy, "层级=家庭"],
        ["规则", "输入", "输入", "输出", "注释"],
        ["名称", "group", column[0], "kh_amount", "政策依据"],
        ["类型", groups, column[1], output, None],
        ["默认", None, None, default, None],
        *[[f"r{i}", *cells, "测试"] for i, cells in enumerate(rules, 1)],
    ]


def errors(tmp_path: Path, table: list[list[object]], derived: list | None = None) -> list[Diagnostic]:
    county = county_sheets() | {SHEET: table}
    if derived is not None:
        county["派生值"] = [["标识", "名称", "层级", "类型", "表达式", "依据"], *derived]
    report = Report()
    open_project(write_tables(tmp_path, province(), county), [COUNTY], AS_OF, report=report)
    return report.errors


def one(found: list[Diagnostic]) -> Diagnostic:
    assert len(found) == 1, [d.render() for d in found]
    return found[0]


# ---------------------------------------------------------------- declared types (row 4)


def test_a_date_typed_money_is_refused_at_its_type_cell(tmp_path: Path) -> None:
    said = one(errors(tmp_path, subsidy([["-", "> 45000", "100"]], ("current.since", "money"))))
    assert (said.code, said.location.sheet, said.location.cell) == ("E303", SHEET, "C4")
    assert "类型写作 money（金额）" in said.message and "日期（date）" in said.message
    assert said.expected is not None and "date" in said.expected


@pytest.mark.parametrize(
    ("declared", "cell"),
    [pytest.param("boolean", "是", id="boolean"), pytest.param("text", '"abc"', id="text")],
)
def test_money_typed_otherwise_is_refused_at_its_type_cell(
    tmp_path: Path, declared: str, cell: str
) -> None:
    said = one(errors(tmp_path, subsidy([["-", cell, "100"]], ("assets.money", declared))))
    assert (said.code, said.location.cell) == ("E303", "C4")
    assert "金额（money）" in said.message


def test_an_enum_listing_fewer_values_than_its_input_takes_is_refused(tmp_path: Path) -> None:
    said = one(errors(tmp_path, subsidy([["dibao", "-", "100"]], groups="enum(dibao,none)")))
    assert (said.code, said.location.cell) == ("E303", "B4")
    assert "缺少它可能取到的值 dibao_marginal（低保边缘）" in said.message


@pytest.mark.parametrize(
    ("column", "cell"),
    [
        pytest.param(("assets.money", "money"), ">= 30000", id="money-name"),
        pytest.param(("assets.money / 2", "money"), ">= 30000", id="computed-money"),
        pytest.param(("assets.money / 2", "number"), ">= 30000", id="computed-number"),
        pytest.param(("current.since", "date"), "< 2025-01-01", id="date"),
        pytest.param(("rigid_expense_ratio", "percent"), "> 50%", id="percent"),
    ],
)
def test_a_column_typed_as_its_value_passes(
    tmp_path: Path, column: tuple[str, str], cell: str
) -> None:
    assert errors(tmp_path, subsidy([["-", cell, "100"]], column)) == []


def test_an_enum_listing_more_values_than_its_input_takes_passes(tmp_path: Path) -> None:
    table = subsidy([["dibao", "-", "100"]], groups="enum(none,dibao_marginal,dibao,tekun)")
    assert errors(tmp_path, table) == []


def test_explain_refuses_a_mismatch_check_let_through_with_e303(tmp_path: Path) -> None:
    """The interpreter's own defence, for a plan bound despite its errors (a version
    published before the check): E303 at the rule's cell, never a TypeError."""
    table = subsidy([["-", "> 45000", "100"]], ("current.since", "money"))
    report = Report()
    tables = write_tables(tmp_path, province(), county_sheets() | {SHEET: table})
    plan = open_project(tables, [COUNTY], AS_OF, report=report).plan(COUNTY)
    assert [d.code for d in report.errors] == ["E303"]
    household = {
        "household_id": "T1",
        "county_code": COUNTY,
        "current": {"since": "2024-01-01"},
        "members": [{"person_id": "T1-1", "birth_date": "1980-05-05"}],
    }
    with pytest.raises(EvaluationError) as refused:
        explain(plan, household, AS_OF)
    said = refused.value.diagnostics[0]
    assert (said.code, said.location.sheet, said.location.cell) == ("E303", SHEET, "C6")
    assert "日期「2024-01-01」与数值「45000」" in said.message


# ---------------------------------------------------------------- money and percentages


@pytest.mark.parametrize(
    ("rule", "column", "default", "cell", "phrase"),
    [
        pytest.param(["-", "-", "35%"], None, 0, "D6", "金额列中出现了百分号", id="output-35%"),
        pytest.param(["-", "-", "100"], None, "5%", "D5", "金额列中出现了百分号", id="default-5%"),
        pytest.param(
            ["-", "-", "rigid_expense_ratio"], None, 0, "D6",
            "金额列「kh_amount」的值是百分比「rigid_expense_ratio」", id="output-percent-standard",
        ),
        pytest.param(
            ["-", "> rigid_expense_ratio", "100"], None, 0, "C6",
            "金额列「assets.money」的条件与百分比「rigid_expense_ratio」比较", id="money-test-percent",
        ),
        pytest.param(
            ["-", "> 低保标准", "100"], ("rigid_expense_ratio", "percent"), 0, "C6",
            "百分比列「rigid_expense_ratio」的条件与金额「低保标准」比较", id="percent-test-money",
        ),
        pytest.param(
            ["-", "-", "低保标准 + 5%"], None, 0, "D6", "金额「dibao_standard」与百分比「5%」不能相加减", id="sum-of-both",
        ),
    ],
)
def test_money_and_percentages_mixed_are_refused_at_the_cell(
    tmp_path: Path,
    rule: list[str],
    column: tuple[str, str] | None,
    default: object,
    cell: str,
    phrase: str,
) -> None:
    table = subsidy([rule], column or ("assets.money", "money"), default=default)
    said = one(errors(tmp_path, table))
    assert (said.code, said.location.sheet, said.location.cell) == ("E110", SHEET, cell)
    assert phrase in said.message


def test_a_derived_amount_written_as_a_percentage_is_refused(tmp_path: Path) -> None:
    derived = [["kh_base", "县补助基数", "家庭", "money", "35%", "测试"]]
    said = one(errors(tmp_path, subsidy([["-", "-", "kh_base"]]), derived))
    assert (said.code, said.location.sheet) == ("E110", "派生值")
    assert "百分号" in said.message


@pytest.mark.parametrize(
    ("rule", "column"),
    [
        pytest.param(["-", "-", "rigid_expense_ratio * assets.money"], None, id="share-of-money"),
        pytest.param(["-", "-", "35% * 低保标准"], None, id="percent-of-standard"),
        pytest.param(["-", "> rigid_expense_ratio * assets.money", "1"], None, id="test-product"),
        pytest.param(["-", "-", "assets.money / 2"], None, id="quotient"),
        pytest.param(
            ["-", "> 0.5", "1"], ("assets.money / 低保标准", "percent"), id="quotient-of-amounts"
        ),
    ],
)
def test_products_of_a_share_and_an_amount_pass(
    tmp_path: Path, rule: list[str], column: tuple[str, str] | None
) -> None:
    assert errors(tmp_path, subsidy([rule], column or ("assets.money", "money"))) == []


# ---------------------------------------------------------------- output order


@pytest.mark.parametrize("policy", ["PRIORITY", "OUTPUT ORDER"])
def test_an_output_order_policy_on_a_money_output_is_refused(tmp_path: Path, policy: str) -> None:
    rules = [["-", ">= 30000", "100"], ["-", ">= 40000", "200"]]
    said = one(errors(tmp_path, subsidy(rules, policy=policy, default=None)))
    assert (said.code, said.location.sheet, said.location.cell) == ("E208", SHEET, "C1")
    assert "kh_amount" in said.message and "没有声明取值的顺序" in said.message


def test_priority_on_an_enum_output_passes(tmp_path: Path) -> None:
    rules = [["-", ">= 30000", "dibao"], ["-", ">= 40000", "none"]]
    assert errors(tmp_path, subsidy(rules, output=GROUPS, policy="PRIORITY", default="none")) == []


# ---------------------------------------------------------------- enum values


def test_an_enum_typo_lists_the_values_and_suggests_the_closest(tmp_path: Path) -> None:
    said = one(errors(tmp_path, subsidy([["dibao_margnal", "-", "100"]])))
    assert (said.code, said.location.cell) == ("E107", "B6")
    assert "「dibao_margnal」不是「group」列的取值之一" in said.message
    assert said.expected == "dibao（低保）、dibao_marginal（低保边缘）、none（不属于低收入人口）"
    assert said.hint == "是否想写「dibao_marginal」（低保边缘）？"


def test_a_chinese_name_points_to_its_identifier(tmp_path: Path) -> None:
    said = one(errors(tmp_path, subsidy([["低保", "-", "100"]])))
    assert (said.code, said.location.cell) == ("E107", "B6")
    assert said.hint is not None and "单元格中请写标识 dibao" in said.hint


def test_an_enum_output_typo_is_refused_likewise(tmp_path: Path) -> None:
    table = subsidy([["-", "-", "dibao_margnal"]], output=GROUPS, default="none")
    said = one(errors(tmp_path, table))
    assert (said.code, said.location.cell) == ("E107", "D6")
    assert said.hint == "是否想写「dibao_marginal」（低保边缘）？"
