"""「所用标准」 lists what the explanation read, and the why-not lines say what the
table means (a tester's report, session 16, R5–R8):

R5. standards read by the result cells of the rules that fired (渐退期月数 behind the
    phase-out dates, the alert time limits behind an alert's due date) and by the
    conditions of a table where no rule matched (高额医疗费用预警标准 for an event of
    19,999.99) were never listed; a computed result now shows its formula;
R6. standards were picked by a search of the text for their Chinese names: a standard
    named 收入 that no cell reads was listed, and 边缘标准 because the text held
    边缘标准含本数; they are now picked by the names the parsed expressions read;
R7. a missed interval lost its open bound (「不在 低保标准 1,301.00 元 至 …」 for a value of
    exactly 1,301.00); it is now written as the matched lines write it, with the side;
R8. a PRIORITY table's why-not lines followed the rows above the winner, not the rules
    of higher priority;
and a rule whose result is the one obtained is not said 「未得到」; a missed ``not(…)``
quotes the values of the conditions it excludes.
"""

from __future__ import annotations

import json
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
USED = "· 所用标准（决策日有效的取值及其出处）："

FIELDS = [
    ["标识", "名称", "层级", "类型", "默认", "说明"],
    ["household_id", "家庭编号", "家庭", "text", None, None],
    ["county_code", "县代码", "家庭", "text", None, None],
    ["income.monthly", "月收入", "家庭", "money", None, None],
]


STANDARDS = [
    STANDARDS_HEADER,
    standard_row("dibao_standard", "低保标准", "1301", "money"),
    standard_row("tekun_line", "特困线", "500", "money"),
    # a standard whose name is a word of the text (月收入) that no cell reads
    standard_row("unused_income", "收入", "42", "money"),
]
# a county's copy of a group table with its rows in another order than their priority:
# the dibao_marginal row comes first, the tekun row last
GROUPING = [
    ["grouping", "分类", "PRIORITY", "层级=家庭"],
    ["规则", "输入", "输出", "注释"],
    ["名称", "income.monthly", "group", "依据"],
    ["类型", "money", "enum(tekun,dibao,dibao_marginal,none)", None],
    ["默认", None, "none", None],
    ["top", "> 5000", "dibao_marginal", "二"],
    ["low", "< 低保标准", "dibao", "二"],
    ["poorest", "not(>= tekun_line, = 0)", "tekun", "二"],
]


@pytest.fixture(autouse=True)
def _in_the_checkout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    root = tmp_path_factory.mktemp("explain_read")
    write_tables(root / "tables", {"字段": FIELDS, "标准参数": STANDARDS, "grouping": GROUPING})
    here = os.getcwd()
    os.chdir(root)
    try:
        return open_clean(Path("tables"), AS_OF).plan(COUNTY)
    finally:
        os.chdir(here)


def _lines(plan: Plan, monthly: str) -> list[str]:
    household = {"household_id": "H1", "county_code": COUNTY, "income": {"monthly": monthly}}
    return explain(plan, household, AS_OF).splitlines()


def _used(lines: list[str]) -> dict[str, str]:
    """The 「所用标准」 lines by the name they start with, cells relative to the tables
    folder."""
    after = lines[lines.index(USED) + 1:] if USED in lines else []
    return {
        line.split(" = ")[0].strip(): re.sub(r"(?<=[（：])tables/", "", line) for line in after
    }


def _sample(hid: str) -> list[str]:
    return explain_file(TABLES, SAMPLES, hid, AS_OF).splitlines()


# ---------------------------------------------------------------- R5. result cells


def test_the_phase_out_months_and_alert_limits_behind_the_results_are_listed() -> None:
    """S080 starts a phase-out and has an unemployment alert: the end date reads
    渐退期月数 and the due date 预警处置时限, which reads the two alert limits."""
    text = _sample("S080")
    used = _used(text)
    assert used["渐退期月数"] == "    渐退期月数 = 12 月：province:标准参数!A35，2025-04-07 起"
    assert used["低收入人口预警处置时限"].startswith("    低收入人口预警处置时限 = 10 个工作日：province:标准参数!")
    assert used["其他监测对象预警处置时限"].startswith("    其他监测对象预警处置时限 = 15 个工作日：province:标准参数!")
    assert used["预警处置时限"].startswith("    预警处置时限 = 各事件（P080-1 10）：按「if 监测类别 = ")
    computed = [re.sub(r"(?<=（)tables/", "", line) for line in text if "结果的算式" in line]
    assert (
        "    结果的算式：渐退期止 = 2026-06-30，按「add_days(add_months(next_month_start(决策日), "
        "渐退期月数), -1)」计算，其中 决策日 = 2025-06-01、渐退期月数 = 12（province:phase_out!D6）"
        in computed
    )
    assert (
        "    结果的算式：预警到期日 = 2025-06-04，按「working_days_after(事件日期, 预警处置时限)」计算，"
        "其中 事件日期 = 2025-05-20、预警处置时限 = 10（province:alerts!H6）" in computed
    )


def test_a_continued_phase_out_lists_the_months_its_start_is_counted_back_by() -> None:
    used = _used(_sample("S085"))
    assert used["渐退期月数"] == "    渐退期月数 = 12 月：province:标准参数!A35，2025-04-07 起"


def test_an_event_no_alert_rule_matched_lists_the_threshold_it_missed(tmp_path: Path) -> None:
    """S097's event of 19,999.99 alone: no alert, and the threshold it fell short of was
    nowhere in the explanation."""
    record = next(
        json.loads(line) for line in SAMPLES.read_text(encoding="utf-8").splitlines()
        if '"S097"' in line
    )
    record["events"] = [e for e in record["events"] if e.get("amount") == "19999.99"]
    path = tmp_path / "households.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    text = explain_file(TABLES, path, "S097", AS_OF).splitlines()
    assert "· 决策表「监测预警」成员 P097-1：没有规则命中，取默认值 预警类型 = 空，预警到期日 = 空" in text
    assert any(
        line.startswith("    规则 high_medical「")
        and line.endswith("未命中：事件金额 19,999.99 元，低于高额医疗费用预警标准 20,000.00 元（相差 0.01 元）")
        for line in text
    )
    assert _used(text)["高额医疗费用预警标准"].startswith("    高额医疗费用预警标准 = 20,000.00 元：")


# ---------------------------------------------------------------- R6. by identifier


def test_a_standard_whose_name_is_in_the_text_but_no_cell_reads_is_not_listed(plan: Plan) -> None:
    text = _lines(plan, "800")
    used = _used(text)
    assert "收入" not in used  # the text holds 月收入, no cell reads unused_income
    assert used["低保标准"] == "    低保标准 = 1,301.00 元：province:标准参数!A2，2024-01-01 起"
    assert used["特困线"] == "    特困线 = 500.00 元：province:标准参数!A3，2024-01-01 起"


def test_the_marginal_line_is_not_listed_for_the_column_named_after_it() -> None:
    """S001 gets dibao: no condition explained reads 边缘标准; the column
    边缘标准含本数 (a standard compared) is listed, not the line it is named after."""
    used = _used(_sample("S001"))
    assert "边缘标准含本数" in used
    assert "边缘标准" not in used and "边缘标准倍数" not in used


# ---------------------------------------------------------------- R7. open bounds


def test_a_value_on_an_excluded_bound_is_said_to_be_excluded() -> None:
    text = _sample("S002")
    assert any(
        line.startswith("    规则 marginal「")
        and line.endswith(
            "：家庭人均月收入 1,301.00 元，不在 (低保标准 1,301.00 元 .. 边缘标准 2,490.00 元) 之内"
            "（等于低保标准 1,301.00 元，区间不含下限）"
        )
        for line in text
    )


# ---------------------------------------------------------------- R8. priority


def test_a_priority_table_explains_the_rules_of_higher_priority_wherever_their_rows(
    plan: Plan,
) -> None:
    text = _lines(plan, "800")
    assert "结论：救助类别 = 低保（dibao）" in text
    # the tekun row is below the winner, yet of higher priority: it is explained
    assert (
        "    未得到 特困供养（规则 poorest）：月收入 800.00 元，属于「not(>= 特困线, = 0)」"
        "排除的情形：>= 特困线 500.00 元" in text
    )
    # the dibao_marginal row above it is of lower priority: it could not have won
    assert not any("规则 top" in line for line in text)


# ---------------------------------------------------------------- the result obtained


def test_a_rule_giving_the_result_obtained_is_not_said_to_be_missed() -> None:
    s002 = _sample("S002")
    assert "结论：救助类别 = 低保边缘（dibao_marginal）" in s002
    assert not any(line.startswith("    未得到 低保边缘") for line in s002)
    assert any(
        "未命中（其结果同为 低保边缘，本户由规则 marginal_at_standard 得出）" in line for line in s002
    )
    # a table of two outputs names only the one the rule would have given otherwise
    s023 = _sample("S023")
    assert "结论：救助类别 = 刚性支出困难（rigid_expense）" in s023
    assert not any(line.startswith("    未得到 救助类别 = 刚性支出困难") for line in s023)
    assert any(
        line.startswith("    未得到 复核结果 = 仍符合条件（规则 dibao_still_eligible") for line in s023
    )
