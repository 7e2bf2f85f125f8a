"""What a county's replacement of a province table or derived value must keep, and the
names a county may give what it adds (helper-90).

A replacement that gave a list where the province gave one value (or the reverse)
passed check and failed every evaluation with DuckDB's English (E605); every other
change of shape was one E212 saying neither what differed nor where. Each difference is
now one E212 at the cell that differs. A county item whose 名称 was another's resolved
silently to the other (E207 now); a copy of a province table that lost a rule hid the
boundary gap it opened behind the copied 接受缺口 declaration (W504 now).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from compiler.analyse import analyse
from compiler.diagnostics import Diagnostic, Report
from compiler.engine import open_project
from tests.tables_fixture import county_sheets, province_sheets, write_tables

AS_OF = date(2025, 6, 1)
Rows = list[list[object]]
ENUM = "enum(dibao,dibao_marginal,none)"


def replaceable(province: dict) -> dict:
    province["household_group"][0].append("县可改=是")
    return province


def copied(province: dict, sheet: str = "household_group") -> Rows:
    return [list(row) for row in province[sheet]]


def check(tmp_path: Path, province: dict, county: dict, form: str = "xlsx") -> Report:
    root = write_tables(tmp_path, province, county, county_form=form)
    return open_project(root, as_of=AS_OF).report


def only(report: Report, code: str) -> list[Diagnostic]:
    return [d for d in report.items if d.code == code]


def at(diagnostic: Diagnostic) -> tuple[str | None, str | None]:
    return diagnostic.location.sheet, diagnostic.location.cell


# ---------------------------------------------------------------- hit policy (H2)


def entitlement_list(policy: str) -> Rows:
    return [
        ["entitlement_list", "可享受的救助", policy, "县可改=是"],
        ["规则", "输入", "输出", "注释"],
        ["名称", "income_per_capita", "entitlements", "依据"],
        ["类型", "money", "text", None],
        ["dibao", "< 低保标准", '"dibao_allowance"', "三(一)"],
        ["marginal", "< 边缘标准", '"medical_assistance"', "二"],
    ]


@pytest.mark.parametrize("form", ["xlsx", "csv"])
def test_a_list_policy_replacing_a_single_value_is_refused_at_c1(tmp_path, form):
    province = replaceable(province_sheets())
    table = copied(province)
    table[0][2] = "COLLECT"
    table[4][3] = None  # a list policy takes no default
    report = check(
        tmp_path, province, {**county_sheets(), "household_group": table}, form
    )
    [refused] = only(report, "E212")
    assert at(refused) == ("household_group", "C1")
    said = refused.render()
    assert "命中策略为 COLLECT，给出命中规则的输出列表；省级的 FIRST 给出一个值" in said
    assert "实际为「COLLECT（给出命中规则的输出列表）」" in said
    assert "应为给出一个值的命中策略，如省级的 FIRST" in said


def test_a_single_value_policy_replacing_a_list_is_refused_at_c1(tmp_path):
    province = province_sheets()
    province["entitlement_list"] = entitlement_list("COLLECT")
    county = {**county_sheets(), "entitlement_list": entitlement_list("FIRST")}
    [refused] = only(check(tmp_path, province, county), "E212")
    assert at(refused) == ("entitlement_list", "C1")
    said = refused.render()
    assert "命中策略为 FIRST，给出一个值；省级的 COLLECT 给出命中规则的输出列表" in said
    assert "如省级的 COLLECT（可用 COLLECT、RULE ORDER、OUTPUT ORDER）" in said


def test_another_policy_giving_one_value_replaces_the_table(tmp_path):
    province = replaceable(province_sheets())
    table = copied(province)
    table[0][2] = "PRIORITY"
    report = check(tmp_path, province, {**county_sheets(), "household_group": table})
    assert not report.has_errors, [d.render() for d in report.errors]


# ---------------------------------------------------------------- each difference (M3)


def _renamed(table: Rows) -> None:
    table[2][3] = "group_flag"


def _retyped(table: Rows) -> None:
    table[3][3] = "text"
    table[4][3] = '"none"'
    for row in table[5:]:
        row[3] = f'"{row[3]}"'


def _reordered(table: Rows) -> None:
    table[3][3] = "enum(dibao_marginal,dibao,none)"


def _member_level(table: Rows) -> None:
    table[0][3] = "层级=成员"


def _extra_output(table: Rows) -> None:
    for row, value in zip(
        table[1:], ["输出", "amount", "money", "0", "100", "50"], strict=True
    ):
        row.insert(4, value)


DIFFERENCES = {
    "renamed output": (
        _renamed,
        "D3",
        f"实际为「输出 group_flag（{ENUM}）」；应为group（{ENUM}），层级=家庭",
    ),
    "another type": (
        _retyped,
        "D4",
        f"的类型为 text（文本），省级为 {ENUM}（枚举）；实际为「text」；应为{ENUM}（与省级相同）",
    ),
    "enum reordered": (
        _reordered,
        "D4",
        "取值与省级相同，顺序不同：取值的顺序是优先顺序（PRIORITY、OUTPUT ORDER 和比较都按它）",
    ),
    "another level": (
        _member_level,
        "D1",
        "层级为成员，省级的是家庭；实际为「层级=成员」；应为层级=家庭",
    ),
    "extra output": (
        _extra_output,
        "E3",
        (
            "多了输出「amount」，省级的表没有这个输出；实际为「输出 amount（money）」；"
            f"应为只有省级的输出 group（{ENUM}）"
        ),
    ),
}


@pytest.mark.parametrize("form", ["xlsx", "csv"])
@pytest.mark.parametrize(
    ("edit", "cell", "phrase"), list(DIFFERENCES.values()), ids=list(DIFFERENCES)
)
def test_a_replacement_that_differs_is_told_what_differs_at_its_cell(
    tmp_path, form, edit, cell, phrase
):
    province = replaceable(province_sheets())
    table = copied(province)
    edit(table)
    report = check(
        tmp_path, province, {**county_sheets(), "household_group": table}, form
    )
    [refused] = only(report, "E212")
    assert at(refused) == ("household_group", cell)
    assert phrase in refused.render()
    assert "应为与省级定义相同的层级、输出列及其类型" not in refused.render()


def test_each_difference_is_its_own_diagnostic(tmp_path):
    province = replaceable(province_sheets())
    table = copied(province)
    _renamed(table)
    _member_level(table)
    table[3][3] = "enum(dibao,none)"
    table[6][3] = "none"
    report = check(tmp_path, province, {**county_sheets(), "household_group": table})
    cells = sorted(d.location.cell for d in only(report, "E212"))
    assert cells == ["D1", "D3", "D4"]
    [typed] = [d for d in only(report, "E212") if d.location.cell == "D4"]
    assert "的取值与省级不同：少了 dibao_marginal" in typed.render()


def test_an_output_left_out_is_named_at_a1(tmp_path):
    province = replaceable(province_sheets())
    for row, value in zip(
        province["household_group"][1:],
        ["输出", "amount", "money", "0", "100", "50"],
        strict=True,
    ):
        row.insert(4, value)
    table = [row[:4] + row[5:] for row in copied(province)]
    table[0] = copied(province)[0]
    report = check(tmp_path, province, {**county_sheets(), "household_group": table})
    [refused] = only(report, "E212")
    assert at(refused) == ("household_group", "A1")
    assert "缺少省级的输出「amount」" in refused.render()
    assert "应为还有输出 amount（money）" in refused.render()


def _derived(province: dict, overridable: bool) -> None:
    if overridable:
        province["派生值"][0].append("县可改")
        province["派生值"][2].append("是")


def test_a_derived_value_the_province_keeps_is_refused_as_a_row_not_a_table(tmp_path):
    province = province_sheets()
    county = {
        **county_sheets(),
        "派生值": [
            province["派生值"][0],
            ["marginal_line", "边缘标准", "家庭", "money", "2 * 低保标准", "x"],
        ],
    }
    [refused] = only(check(tmp_path, province, county), "E212")
    assert "应为删除该派生值（这一行）" in refused.render()
    assert "删除该表" not in refused.render()


@pytest.mark.parametrize(
    ("level", "kind", "cell", "phrase"),
    [
        ("成员", "money", "C2", "层级为成员，省级的是家庭；实际为「层级 成员」"),
        ("家庭", "number", "D2", "的类型为 number（数值），省级为 money（金额）；实际为「number」"),
    ],
    ids=["level", "type"],
)
def test_a_derived_value_replaced_with_another_shape_is_refused_at_its_cell(
    tmp_path, level, kind, cell, phrase
):
    province = province_sheets()
    _derived(province, overridable=True)
    row = ["marginal_line", "边缘标准", level, kind, "2 * 低保标准", "x"]
    county = {**county_sheets(), "派生值": [province["派生值"][0][:6], row]}
    [refused] = only(check(tmp_path, province, county), "E212")
    assert at(refused) == ("派生值", cell)
    assert phrase in refused.render()


# ---------------------------------------------------------------- names (H3)

NEW_STANDARD_HEADER = [
    "标识",
    "名称",
    "值",
    "单位",
    "生效日期",
    "失效日期",
    "来源",
    "类型",
]


def county_standards(*rows: list[object]) -> dict:
    return {
        "标准参数": [
            NEW_STANDARD_HEADER,
            [
                "dibao_standard",
                "低保标准",
                "1301",
                "元/人/月",
                "2025-01-23",
                None,
                "x",
                None,
            ],
            *rows,
        ]
    }


def test_a_county_standard_named_as_a_field_is_refused_at_its_name(tmp_path):
    """A new standard 医疗支出 read as the field of that name by `>= 医疗支出`."""
    county = county_standards(
        ["kh_money", "货币财产", "30000", "元", "2025-01-01", None, "x", "money"]
    )
    [refused] = only(check(tmp_path, province_sheets(), county), "E207")
    assert at(refused) == ("标准参数", "B3")
    assert (
        "标准参数「kh_money」的名称「货币财产」已是字段「assets.money」的名称"
        in refused.render()
    )


def test_a_county_derived_value_named_as_a_standard_is_refused_at_its_name(tmp_path):
    province = province_sheets()
    county = {
        **county_sheets(),
        "派生值": [
            province["派生值"][0],
            ["kh_line", "低保标准", "家庭", "money", "2 * dibao_standard", "x"],
        ],
    }
    [refused] = only(check(tmp_path, province, county), "E207")
    assert at(refused) == ("派生值", "B2")
    assert (
        "派生值「kh_line」的名称「低保标准」已是标准参数「dibao_standard」的名称"
        in refused.render()
    )


def test_a_county_derived_value_named_as_an_output_identifier_is_refused(tmp_path):
    province = province_sheets()
    county = {
        **county_sheets(),
        "派生值": [
            province["派生值"][0],
            ["kh_group", "group", "家庭", "money", "2 * dibao_standard", "x"],
        ],
    }
    [refused] = only(check(tmp_path, province, county), "E207")
    assert at(refused) == ("派生值", "B2")
    assert "已是决策表「household_group」的输出「group」的标识" in refused.render()


def test_a_new_county_standard_named_as_a_province_standard_is_a_name_clash(tmp_path):
    county = county_standards(
        ["kh_line", "边缘倍数", "1.8", "倍", "2025-01-01", None, "x", "number"]
    )
    report = check(tmp_path, province_sheets(), county)
    [refused] = only(report, "E207")
    assert at(refused) == ("标准参数", "B3")
    assert (
        "新增的标准参数「kh_line」的名称「边缘倍数」已是标准参数「marginal_multiplier」的名称"
        in refused.render()
    )
    assert not only(report, "E302")


def test_a_new_county_standard_with_a_name_of_its_own_is_taken(tmp_path):
    county = county_standards(
        ["kh_line", "开化线", "1.8", "倍", "2025-01-01", None, "x", "number"]
    )
    report = check(tmp_path, province_sheets(), county)
    assert not report.has_errors, [d.render() for d in report.errors]


# ---------------------------------------------------------------- boundaries (M4)


def eligibility(*, without: str = "", declared: bool = True) -> Rows:
    title: list[object] = [
        "household_group",
        "家庭救助类别",
        "FIRST",
        "层级=家庭",
        "县可改=是",
    ]
    if declared:
        title.append("接受缺口=其他家庭为 none")
    rules = [
        ["dibao", "< 低保标准", "dibao", "三(一)"],
        ["at_standard", "[低保标准..低保标准]", "dibao_marginal", "二（相等缺口）"],
        ["marginal", "(低保标准..边缘标准)", "dibao_marginal", "二"],
    ]
    return [
        title,
        ["规则", "输入", "输出", "注释"],
        ["名称", "income_per_capita", "group", "政策依据"],
        ["类型", "money", ENUM, None],
        ["默认", None, "none", None],
        *[rule for rule in rules if rule[0] != without],
    ]


def analysed(tmp_path: Path, county_table: Rows) -> Report:
    province = province_sheets()
    province["household_group"] = eligibility()
    root = write_tables(
        tmp_path, province, {**county_sheets(), "household_group": county_table}
    )
    return open_project(root, as_of=AS_OF, analyse=analyse).report


def test_a_copy_that_lost_a_boundary_rule_is_warned_about(tmp_path):
    report = analysed(tmp_path, eligibility(without="at_standard"))
    assert not report.has_errors, [d.render() for d in report.errors]
    [lost] = only(report, "W504")
    assert at(lost) == ("household_group", "A1")
    said = lost.render()
    assert "income_per_capita 恰好等于 1301" in said  # the county's dibao standard
    assert (
        "省级的表在这里由规则「at_standard」（省级工作表「household_group」第 7 行）覆盖"
        in said
    )
    assert "如省级规则「at_standard」：income_per_capita [低保标准..低保标准]" in said
    assert lost.rule == "at_standard"


def test_a_whole_copy_is_not_warned_about(tmp_path):
    assert not only(analysed(tmp_path, eligibility()), "W504")


def test_a_copy_without_the_declaration_says_the_gap_as_before(tmp_path):
    report = analysed(tmp_path, eligibility(without="at_standard", declared=False))
    assert not only(report, "W504")
    assert any("1301" in d.message for d in only(report, "E501"))
