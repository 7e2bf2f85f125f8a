"""The explanation and the console say the province's identifiers in Chinese: a county
official reads 「与户主关系 = 户主」 and 「结果 救助类别 = 低保，复核结果 = 无需复核」, not
``relation = head`` or ``dibao、not_applicable``."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from compiler.explain import explain_file
from compiler.model import DType, Kind
from compiler.vocabulary import GROUP_CN, MONITORING_CN, trace_outcome_cn, value_cn

ROOT = Path(__file__).resolve().parent.parent
TABLES = ROOT / "tables"
SAMPLES = TABLES / "samples" / "households.jsonl"
AS_OF = date(2025, 6, 1)
GROUPS = DType(Kind.ENUM, tuple(GROUP_CN))
MONITORING = DType(Kind.ENUM, tuple(MONITORING_CN))
RECHECK = DType(Kind.ENUM, ("still_eligible", "phase_out_start", "not_applicable"))


@pytest.fixture(scope="module")
def s001() -> list[str]:
    return explain_file(TABLES, SAMPLES, "S001", AS_OF).splitlines()


def test_member_values_and_outputs_are_named_in_chinese(s001: list[str]) -> None:
    counted = next(line for line in s001 if line.startswith("    比较的值：法定不计入人员"))
    assert "与户主关系 = 户主" in counted
    assert "无劳动能力 = 否" in counted  # the work_capacity table's output, by its title


def test_no_province_identifier_is_left_in_the_values_compared(s001: list[str]) -> None:
    """Every 「name = value」 of a 比较的值 line is in Chinese (an identifier would be
    snake_case ASCII)."""
    compared = [line for line in s001 if line.startswith("    比较的值：")]
    assert compared
    for line in compared:
        assert not re.search(r"[a-z]+_[a-z_]+", line), line


def test_a_table_with_two_outputs_names_each(s001: list[str]) -> None:
    head = next(line for line in s001 if "决策表「家庭救助类别（含复核与渐退）」" in line)
    assert "结果 救助类别 = 低保，复核结果 = 无需复核；" in head


def test_rules_missed_for_one_reason_are_said_once(s001: list[str]) -> None:
    """A household never recognised misses every re-check rule on 现救助类别; the
    explanation listed each of the twelve."""
    grouped = [line for line in s001 if "条）未命中：现救助类别 为空" in line]
    # rules of one note share it (the note of their rows beside the ids)
    assert any("、dibao_still_eligible、marginal_still_eligible「" in line for line in grouped)
    assert not [line for line in s001 if "没有取值" in line]


def test_a_missed_equality_with_a_number_is_said_plainly(s001: list[str]) -> None:
    """「家庭人口数 1，高于0 0 1」 was printed for a missed 「= 0」."""
    assert any(line.endswith("：现救助类别 为空；家庭人口数 1，不等于 0") for line in s001)
    assert not [line for line in s001 if "高于0" in line]


@pytest.mark.parametrize(
    ("value", "dtype", "said"),
    [
        ("none", GROUPS, "不属于低收入人口"),
        ("none", MONITORING, "不监测"),
        ("none", DType(Kind.ENUM, ("core", "rigid", "support", "none")), "无"),
        ("child", DType(Kind.ENUM, ("head", "spouse", "child")), "子女"),
        ("county_added", GROUPS, "county_added"),  # a value a county adds keeps its id
        ("x", DType(Kind.ENUM, ("x", "y")), "x"),  # an enum of a county's own
    ],
)
def test_enum_values_are_told_apart_by_their_domain(value: str, dtype: DType, said: str) -> None:
    assert value_cn(value, dtype.values) == said


def test_text_values_of_the_province_are_named() -> None:
    assert value_cn("yulu_subsidy") == "雨露计划"
    assert value_cn("working_age_death") == "劳动年龄段人口死亡"
    assert value_cn("a county's own") == "a county's own"


@pytest.mark.parametrize(
    ("outcome", "dtypes", "said"),
    [
        ("dibao; not_applicable", [GROUPS, RECHECK], "低保；无需复核"),
        ("medical_assistance,yulu_subsidy", [DType(Kind.TEXT)], "医疗救助、雨露计划"),
        ("true", [DType(Kind.BOOLEAN)], "是"),
        ("", [DType(Kind.DATE), DType(Kind.DATE)], "空"),
        ("2025-07-01; 2026-06-30", [DType(Kind.DATE)] * 2, "2025-07-01；2026-06-30"),
        ("a; b; c", [GROUPS, RECHECK], "a; b; c"),  # not this table's shape: as written
    ],
)
def test_the_consoles_trace_outcomes_are_said_in_words(outcome: str, dtypes: list[DType], said: str) -> None:
    assert trace_outcome_cn(outcome, dtypes) == said


def test_the_decision_files_keep_the_identifiers(tmp_path: Path) -> None:
    """Only what people read changes: decisions still carry the glossary's ids."""
    from compiler.evaluate import evaluate_file

    out = tmp_path / "d.jsonl"
    evaluate_file(TABLES, SAMPLES, AS_OF, out, trace="compact", counties=["330106"])
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    [row] = [r for r in rows if r["household_id"] == "S001"]
    assert row["group"] == "dibao"
    assert any(e["outcome"] == "dibao; not_applicable" for e in row["trace"] if e["table"] == "household_group")


def test_the_eligibility_table_says_why_each_group_above_was_missed() -> None:
    """The province decides the group in 救助类别认定 (output eligible_group); the
    explanation gave reasons only under the re-check table, where a new household
    misses every rule on 现救助类别 (helper-45)."""
    text = explain_file(TABLES, SAMPLES, "S050", AS_OF).splitlines()
    start = next(i for i, line in enumerate(text) if "决策表「救助类别认定（按条件）」" in line)
    block = text[start + 1 : start + 12]
    assert "    未得到 低保（规则 dibao「人均月收入低于低保标准且财产符合低保条件」）：家庭人均月收入 2,500.00 元，高于低保标准 1,301.00 元（相差 1,199.00 元）；财产符合低保条件 为 否，不满足「= 是」" in block


def test_a_missed_condition_says_its_enum_values_in_chinese() -> None:
    """「不满足「= "tekun", = "dibao"」」 showed the tables' quoted identifiers
    (helper-45)."""
    lines = [
        line
        for h in ("S001", "S090")
        for line in explain_file(TABLES, SAMPLES, h, AS_OF).splitlines()
        if "不满足「" in line
    ]
    assert any("不满足「= 特困供养, = 低保」" in line for line in lines)
    assert not [line for line in lines if '"' in line.split("不满足", 1)[1]]


def test_a_condition_with_a_standard_in_it_shows_that_standards_value(s001: list[str]) -> None:
    """「（条件「< dibao_money_asset_years * 12 * 低保标准」）」 never showed the 4
    years (helper-50); the condition now names it in Chinese too (helper-81)."""
    met = next(line for line in s001 if line.startswith("    所比较的标准：人均货币财产"))
    assert "（条件「< 低保货币财产年数 * 12 * 低保标准」，其中 低保货币财产年数 = 4、低保标准 = 1,301.00 元）" in met


def test_a_column_no_rule_tests_is_not_among_the_values_compared(s001: list[str]) -> None:
    """The province's 其他特殊困难人员 answers every column with "-": nothing is
    compared (a derived value only it reads is not computed, and showed as 空)."""
    at = next(i for i, line in enumerate(s001) if "决策表「其他特殊困难人员」" in line)
    assert not s001[at + 1].startswith("    比较的值：")
