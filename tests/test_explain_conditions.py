"""An explanation quotes every kind of condition with the values it compared, and
lists what lies behind the household values it names (a tester's report, session 16):

1. a cell holding a list of conditions (``< 低保标准, [边缘标准..帮扶线]``) had no
   「所比较的标准」 line; it now has one naming every standard of the list;
2. a household value (not a county constant) named by a condition or compared by a
   table was not expanded in 「所用标准」, so a percent or multiplier standard its
   formula reads was never listed;
3. conditions on dates (a phase-out end date against the decision date, an event
   date within a look-back window) were not quoted as money conditions are;
4. a rule missed was named by its English id alone; the note of its row now stands
   beside the id.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pytest

from compiler.bind import Plan
from compiler.explain import explain, explain_file
from tests.helpers import (
    COUNTY,
    STANDARDS_HEADER,
    open_clean,
    standard_row,
    write_tables,
)

ROOT = Path(__file__).resolve().parents[1]
TABLES = Path("tables")  # relative, so that cells read tables/province:…
SAMPLES = TABLES / "samples" / "households.jsonl"
AS_OF = date(2025, 6, 1)

FIELDS = [
    ["标识", "名称", "层级", "类型", "默认", "说明"],
    ["household_id", "家庭编号", "家庭", "text", None, None],
    ["county_code", "县代码", "家庭", "text", None, None],
    ["income.monthly", "月收入", "家庭", "money", None, None],
    ["persons", "人数", "家庭", "integer", None, None],
    ["current.phase_out_until", "渐退期截止日", "家庭", "date", None, None],
]


STANDARDS = [
    STANDARDS_HEADER,
    standard_row("dibao_standard", "低保标准", "1301", "money"),
    standard_row("marginal_multiplier", "边缘倍数", "1.5", "number"),
    standard_row("support_rate", "帮扶比例", "80%", "percent"),
]
DERIVED = [
    ["标识", "名称", "层级", "类型", "表达式", "依据"],
    ["marginal_line", "边缘标准", "家庭", "money", "marginal_multiplier * dibao_standard", "二"],
    # a household value (it reads 人数) behind which a percent standard lies, two steps down
    ["family_base", "帮扶线基数", "家庭", "money", "persons * support_rate * dibao_standard", "二"],
    ["family_cap", "帮扶线", "家庭", "money", "round(family_base, 2)", "二"],
]
GROUPING = [
    ["grouping", "分类", "FIRST", "层级=家庭"],
    ["规则", "输入", "输入", "输出", "注释"],
    ["名称", "income.monthly", "current.phase_out_until", "group", "依据"],
    ["类型", "money", "date", "enum(dibao,dibao_marginal,none)", None],
    ["默认", None, None, "none", None],
    ["running", "-", ">= as_of", "dibao", "三(一)：渐退期内继续保障"],
    ["listed", "< 低保标准, [边缘标准..family_cap]", "-", "dibao_marginal", "二"],
    ["recent", "-", "[2025年1月1日..as_of)", "none", "三(一)"],
]


@pytest.fixture(autouse=True)
def _in_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    """The tables above, opened from a relative path so that cells read tables/…"""
    root = tmp_path_factory.mktemp("explain")
    write_tables(root / "tables", {"字段": FIELDS, "标准参数": STANDARDS, "派生值": DERIVED,
                                   "grouping": GROUPING})
    here = os.getcwd()
    os.chdir(root)
    try:
        return open_clean(Path("tables"), AS_OF).plan(COUNTY)
    finally:
        os.chdir(here)


def _lines(plan: Plan, monthly: str, until: str | None, persons: int = 2) -> list[str]:
    household = {"household_id": "H1", "county_code": COUNTY, "persons": persons,
                 "income": {"monthly": monthly}, "current": {"phase_out_until": until}}
    return explain(plan, household, AS_OF).splitlines()


def _after(lines: list[str], start: str) -> list[str]:
    """The lines after ``start``, their cells named from the tables folder
    (「province:派生值!A4」, whether or not the path was given as tables/…)."""
    return [re.sub(r"(?<=[（：])tables/", "", line) for line in lines[lines.index(start) + 1:]]


# ---------------------------------------------------------------- 1. lists of conditions


def test_a_list_of_conditions_names_every_standard_it_compared(plan: Plan) -> None:
    text = _lines(plan, "2000", "2025-05-20")
    assert "结论：救助类别 = 低保边缘（dibao_marginal）" in text
    assert (
        "    所比较的标准：月收入 2,000.00 元 < 低保标准 1,301.00 元（不成立）或 在 "
        "[1,951.50 元 .. 2,081.60 元] 之内（成立）（条件「< 低保标准, [边缘标准..帮扶线]」）" in text
    )


def test_a_list_missed_says_how_each_of_its_conditions_missed(plan: Plan) -> None:
    text = _lines(plan, "5000", "2025-05-20")
    assert (
        "    未得到 低保边缘（规则 listed）：月收入 5,000.00 元，高于低保标准 1,301.00 元"
        "（相差 3,699.00 元），且不在 [边缘标准 1,951.50 元 .. 帮扶线 2,081.60 元] 之内"
        "（高于帮扶线 2,081.60 元（上限），相差 2,918.40 元）" in text
    )


# ---------------------------------------------------------------- 2. household values


def test_a_value_a_condition_names_is_listed_with_the_standards_behind_it(plan: Plan) -> None:
    used = _after(_lines(plan, "2000", "2025-05-20"), "· 所用标准（决策日有效的取值及其出处）：")
    assert (
        "    帮扶线 = 2,081.60 元：按「round(帮扶线基数, 2)」计算，其中 帮扶线基数 = 2,081.60 元"
        "（province:派生值!A4）" in used
    )
    assert (
        "    帮扶线基数 = 2,081.60 元：按「人数 * 帮扶比例 * 低保标准」计算，其中 人数 = 2、"
        "帮扶比例 = 80.00%、低保标准 = 1,301.00 元（province:派生值!A3）" in used
    )
    assert "    帮扶比例 = 80.00%：province:标准参数!A4，2024-01-01 起" in used


def test_a_percent_standard_behind_a_compared_value_is_listed() -> None:
    """S023 is rigid_expense because its rigid spending exceeds 70 % of its income:
    刚性支出超比例金额 reads the percent standard, which was never listed."""
    text = explain_file(TABLES, SAMPLES, "S023", AS_OF).splitlines()
    used = {line.split(" = ")[0].strip(): line for line in _after(text, "· 所用标准（决策日有效的取值及其出处）：")}
    assert used["刚性支出超比例金额"] == (
        "    刚性支出超比例金额 = 0.01 元：按「刚性支出 - 刚性支出占比标准 * 家庭年收入」计算，其中 "
        "刚性支出 = 21,000.01 元、刚性支出占比标准 = 70.00%、家庭年收入 = 30,000.00 元"
        "（province:派生值!A17）"
    )
    assert used["刚性支出占比标准"] == "    刚性支出占比标准 = 70.00%：province:标准参数!A21，2025-04-07 起，未核实"
    # through a member's value: the employment-cost deduction behind the income per head
    assert "就业成本扣减合计 = 0.00 元" in used["家庭人均月收入"]
    assert used["成员就业成本扣减"].startswith("    成员就业成本扣减 = 各成员（P023-1 0.00 元）：按「if 已就业 then")
    assert used["就业成本扣减额"].startswith("    就业成本扣减额 = 0.00 元：province:标准参数!A20")


# ---------------------------------------------------------------- 3. dates


def test_a_phase_out_end_date_is_compared_with_the_decision_date_in_words(plan: Plan) -> None:
    running = _lines(plan, "2000", "2025-07-31")
    assert "    所比较的标准：渐退期截止日 2025-07-31 >= 决策日 2025-06-01" in running
    ended = _lines(plan, "2000", "2025-05-20")
    assert (
        "    未得到 低保（规则 running「渐退期内继续保障」）：渐退期截止日 2025-05-20，早于决策日 "
        "2025-06-01（相差 12 天）" in ended
    )


def test_a_date_written_in_a_condition_is_quoted_as_yyyy_mm_dd(plan: Plan) -> None:
    text = _lines(plan, "5000", "2025-05-20")
    assert (
        "    所比较的标准：渐退期截止日 2025-05-20 在 [2025-01-01 .. 2025-06-01) 之内"
        "（条件「[2025-01-01..决策日)」）" in text
    )


def test_look_back_and_event_dates_are_quoted_with_the_window_behind_them() -> None:
    """S090 had temporary assistance on 2024-06-01, exactly one year back: the rule's
    window and the alert's date were shown as values only, not compared."""
    text = explain_file(TABLES, SAMPLES, "S090", AS_OF).splitlines()
    assert (
        "    所比较的标准：最近临时救助日期 2024-06-01 在 [2024-06-01 .. 2025-06-01] 之内"
        "（条件「[临时救助回溯起点..决策日]」）" in text
    )
    assert "    所比较的标准：事件日期 2025-04-30 <= 决策日 2025-06-01" in text
    used = _after(text, "· 所用标准（决策日有效的取值及其出处）：")
    assert (
        "    临时救助回溯起点 = 2024-06-01：按「add_months(决策日, 0 - 临时救助监测回溯月数)」计算，"
        "其中 决策日 = 2025-06-01、临时救助监测回溯月数 = 12（province:派生值!A24）" in used
    )


def test_the_phase_out_date_behind_a_re_check_is_quoted() -> None:
    """S087's phase-out ended the day before the decision: the re-check table compares
    渐退期已届满 = 是, a value computed from the end date and the decision date."""
    text = explain_file(TABLES, SAMPLES, "S087", AS_OF).splitlines()
    used = _after(text, "· 所用标准（决策日有效的取值及其出处）：")
    ended = next(line for line in used if line.startswith("    渐退期已届满 = 是："))
    assert "按「coalesce(渐退期截止日, 决策日) < 决策日 and " in ended
    assert "其中 渐退期截止日 = 2025-05-31、决策日 = 2025-06-01" in ended


# ---------------------------------------------------------------- 4. rule notes


def test_a_missed_rule_shows_its_rows_note_beside_its_id() -> None:
    text = explain_file(TABLES, SAMPLES, "S001", AS_OF).splitlines()
    assert (
        "    未得到 特困供养（规则 tekun「家庭全部计入成员均为特困供养人员」）：全员特困 为 否，不满足「= 是」"
        in text
    )
    # rules with one note share it; the ids stay as the tables write them
    assert any(
        line.startswith("    规则 dibao_phase_out_running、marginal_phase_out_running"
                        "「渐退期内财产符合条件的，继续享受原救助保障待遇」（共 2 条）未命中")
        for line in text
    )


@pytest.mark.parametrize(
    ("annotation", "note"),
    [
        ("二", ""),
        ("二; 三(一)", ""),
        ("R-N1：配偶计入，不以共同生活为条件", "配偶计入，不以共同生活为条件"),
        ("二；R-N15：家庭全部计入成员均为特困供养人员", "家庭全部计入成员均为特困供养人员"),
        ("二（低保按现有规定执行）", "二（低保按现有规定执行）"),
    ],
    ids=["section", "sections", "colon", "sections-then-colon", "no-colon"],
)
def test_a_rules_note_is_its_annotation_after_the_sections(annotation: str, note: str) -> None:
    from compiler.explain_words import rule_note
    from compiler.model import Rule

    assert rule_note(Rule("r", 6, [], [], annotation=annotation)) == note
