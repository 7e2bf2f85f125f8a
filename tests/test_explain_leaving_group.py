"""An explanation's table lines agree with its conclusion for a household leaving its
group (helper-123):

1. a household kept in its group during a phase-out, whose 救助类别认定（按条件）
   matched no rule, read 「取默认值 不属于低收入人口」 above 「结论：救助类别 = 低保」:
   the group none reads 「无」 and a line says the household stays in its group from
   the phase-out's first to its last day;
2. a household leaving its group this month read 「结果 救助类别 = 不属于低收入人口」
   under 「本月仍属低收入人口」: it reads 「救助类别 = 无」, as the conclusion does;
3. rules gathered by one table were joined by commas, each cell repeating the sheet;
4. a count standard in 「所用标准」 gave no unit (渐退期月数 = 12, months or days?).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from compiler.explain import explain_file

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "tables"
SAMPLES = TABLES / "samples" / "households.jsonl"
AS_OF = date(2025, 6, 1)
ELIGIBILITY = "· 决策表「救助类别认定（按条件）」"
GROUP = "· 决策表「家庭救助类别（含复核与渐退）」"


def _explained(tmp_path: Path, current: dict, wage: str = "120000.00") -> list[str]:
    household = {
        "household_id": "L1", "county_code": "330106",
        "members": [{"person_id": "P1", "relation": "head", "birth_date": "1980-05-05",
                     "hukou": "urban", "income": {"wage": wage}, "employed": True}],
        "current": current,
    }
    path = tmp_path / "households.jsonl"
    path.write_text(json.dumps(household, ensure_ascii=False) + "\n", encoding="utf-8")
    return explain_file(TABLES, path, "L1", AS_OF).splitlines()


def _after(lines: list[str], head: str) -> list[str]:
    start = next(i for i, line in enumerate(lines) if line.startswith(head))
    return lines[start:start + 2]


def test_a_phase_out_says_the_household_keeps_its_group_under_the_eligibility_table(tmp_path):
    lines = _explained(tmp_path, {"group": "dibao", "since": "2023-03-01"})
    assert lines[2] == "结论：救助类别 = 低保（dibao）"
    eligibility = _after(lines, ELIGIBILITY)
    assert eligibility[0] == f"{ELIGIBILITY}没有规则命中，取默认值 无"
    assert eligibility[1] == (
        "    按本次复核的条件，本户不再符合本表任何一条规则；本户进入渐退期，"
        "2025-07-01 至 2026-06-30 期间仍为低保（见「家庭救助类别（含复核与渐退）」）"
    )
    assert not any("不属于低收入人口" in line for line in lines)


def test_a_running_phase_out_names_its_own_dates(tmp_path):
    lines = explain_file(TABLES, SAMPLES, "S085", AS_OF).splitlines()
    assert _after(lines, ELIGIBILITY)[1] == (
        "    按本次复核的条件，本表认定为低保边缘；本户在渐退期内，"
        "2025-05-01 至 2026-04-30 期间仍为低保（见「家庭救助类别（含复核与渐退）」）"
    )


def test_a_household_leaving_this_month_has_no_group_but_is_not_said_outside(tmp_path):
    lines = _explained(
        tmp_path, {"group": "dibao", "since": "2022-09-01", "phase_out_until": "2025-05-31"})
    assert lines[2].startswith("结论：本次复核退出低保（渐退期满退出），救助类别 = 无（none）；本月仍属低收入人口")
    group = _after(lines, GROUP)[0]
    assert "结果 救助类别 = 无，复核结果 = 渐退期满退出；" in group
    assert not any("不属于低收入人口" in line for line in lines)


def test_a_household_of_no_group_nor_monitoring_is_still_said_outside(tmp_path):
    """The change is for a household the conclusion keeps among the low-income
    population only: one that never was assisted keeps its words."""
    lines = _explained(tmp_path, {})
    assert lines[2] == "结论：救助类别 = 不属于低收入人口（none）"
    assert f"{ELIGIBILITY}没有规则命中，取默认值 不属于低收入人口" in lines
    assert not any(line.startswith("    按本次复核的条件") for line in lines)


def test_rules_a_table_gathers_are_listed_with_their_rows_once_under_the_sheet():
    lines = explain_file(TABLES, SAMPLES, "S023", AS_OF).splitlines()
    gathered = next(line for line in lines if line.startswith("· 决策表「可享受的救助帮扶」"))
    assert "命中规则 medical、housing、employment（province:entitlement_list!A6、A8、A9），" in gathered


def test_a_count_standard_is_given_with_its_unit():
    lines = explain_file(TABLES, SAMPLES, "S080", AS_OF).splitlines()
    months = next(line for line in lines if line.startswith("    渐退期月数 = "))
    assert months.startswith("    渐退期月数 = 12 月：") and months.endswith("标准参数!A35，2025-04-07 起")
    assert any(line.startswith("    低收入人口预警处置时限 = 10 个工作日：") for line in lines)
    assert any(line.startswith("    低保机动车上限 = 0 辆：") for line in lines)
