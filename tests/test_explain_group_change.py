"""An explanation's conclusion for a household changing group, and the wording of its
condition lines (helper-129):

1. a household leaving its group for another group than none was concluded only
   「救助类别 = 低保边缘」: the change is said, from the re-check outcome and the
   current group, as it is for one leaving to none;
2. the tekun members of a household of another group were not named in the conclusion;
3. a missed interval said its bound's side twice (「高于上限 劳动年龄上限 59」,
   「等于上限 边缘标准 2,490.00 元」);
4. a negative difference (「刚性支出超比例金额 = -84,000.00 元」) was given bare;
5. S089 (低收入帮扶, not re-checked) was concluded 「本次复核退出低收入帮扶」 above
   its table's 「复核结果 = 无需复核」.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from compiler.explain import explain_file

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "tables"
SAMPLES = TABLES / "samples" / "households.jsonl"
AS_OF = date(2025, 6, 1)


def _member(person: str, born: str, relation: str = "head", **more: object) -> dict:
    return {"person_id": person, "relation": relation, "birth_date": born, "hukou": "urban", **more}


def _one(wage: str, current: dict, assets: dict | None = None) -> dict:
    """A one-person 西湖区 household (低保标准 1,301.00, 边缘标准 2,490.00 a month)."""
    member = _member("P1", "1980-05-05", income={"wage": wage}, employed=True)
    return {"household_id": "G1", "county_code": "330106", "members": [member],
            "current": current, "assets": assets or {}}


def _explained(tmp_path: Path, household: dict) -> list[str]:
    path = tmp_path / "households.jsonl"
    path.write_text(json.dumps(household, ensure_ascii=False) + "\n", encoding="utf-8")
    return explain_file(TABLES, path, household["household_id"], AS_OF).splitlines()


def _sample(household_id: str) -> list[str]:
    return explain_file(TABLES, SAMPLES, household_id, AS_OF).splitlines()


# ------------------------------------------------------------ 1. leaving for a group


@pytest.mark.parametrize(
    ("household", "conclusion"),
    [
        pytest.param(
            _one("24000.00", {"group": "dibao", "since": "2022-09-01",
                              "phase_out_until": "2025-05-31"}),
            "结论：本次复核退出低保（渐退期满退出），转为救助类别 = 低保边缘（dibao_marginal）",
            id="dibao phase-out ended, now marginal",
        ),
        pytest.param(
            _one("31200.00", {"group": "dibao", "since": "2022-09-01"}, {"money": "80000.00"}),
            "结论：本次复核退出低保（财产超标退出），转为救助类别 = 低收入帮扶（low_income_support）",
            id="dibao assets over, now support",
        ),
        pytest.param(
            _one("31200.00", {"group": "dibao_marginal", "since": "2022-09-01",
                              "phase_out_until": "2025-12-31"}, {"money": "100000.00"}),
            "结论：本次复核退出低保边缘（渐退期内财产超标退出），"
            "转为救助类别 = 低收入帮扶（low_income_support）",
            id="marginal assets over in phase-out",
        ),
        pytest.param(
            {"household_id": "G1", "county_code": "330106",
             "members": [_member("P1", "1950-01-01", has_able_supporter=True)],
             "current": {"group": "tekun", "since": "2022-09-01"}},
            "结论：本次复核退出特困供养（不再符合特困供养条件，终止供养），转为救助类别 = 低保（dibao）",
            id="tekun ended, now dibao",
        ),
        pytest.param(
            _one("12000.00", {"group": "dibao_marginal", "since": "2022-09-01"}),
            "结论：本次复核仍符合条件，由低保边缘转为救助类别 = 低保（dibao）",
            id="marginal now dibao",
        ),
        pytest.param(
            _one("24000.00", {"group": "low_income_support", "since": "2022-09-01"}),
            "结论：本次按条件认定不再为低收入帮扶（低收入帮扶家庭不在复核之列，按本次认定的类别；"
            "复核结果 = 无需复核），转为救助类别 = 低保边缘（dibao_marginal）",
            id="support now marginal, not re-checked",
        ),
    ],
)
def test_a_household_changing_group_says_the_change(
    tmp_path: Path, household: dict, conclusion: str
) -> None:
    assert _explained(tmp_path, household)[2] == conclusion


def test_a_household_staying_in_its_group_reads_as_before(tmp_path: Path) -> None:
    lines = _explained(tmp_path, _one("24000.00", {"group": "dibao_marginal", "since": "2022-09-01"}))
    assert lines[2] == "结论：救助类别 = 低保边缘（dibao_marginal）"


# ------------------------------------------------------------ 2. tekun members named


def test_tekun_members_remaining_are_named_in_the_conclusion(tmp_path: Path) -> None:
    lines = _explained(tmp_path, {
        "household_id": "G1", "county_code": "330106",
        "members": [
            _member("P1", "1945-01-01", has_able_supporter=False),
            _member("P2", "2007-01-01", "grandchild", income={"wage": "6000.00"}, employed=True),
        ],
        "current": {"group": "tekun", "since": "2022-09-01"},
    })
    assert lines[2] == (
        "结论：本次复核退出特困供养（不再全员符合特困供养条件，特困成员继续供养），"
        "转为救助类别 = 低保（dibao）；特困成员 = P1"
    )


def test_a_tekun_member_of_a_dibao_household_is_named() -> None:
    assert _sample("S059")[2] == "结论：救助类别 = 低保（dibao）；特困成员 = P059-1"


def test_a_tekun_household_does_not_list_its_members() -> None:
    assert _sample("S058")[2] == "结论：救助类别 = 特困供养（tekun）"


# ------------------------------------------------------------ 3. an interval's bound


def test_a_bound_whose_name_says_its_side_is_not_said_twice() -> None:
    line = next(line for line in _sample("S105") if "规则 working_age_death" in line)
    assert line.endswith("之内（高于劳动年龄上限 59，相差 1）"), line


def test_a_value_on_an_excluded_named_bound_says_the_side_once() -> None:
    line = next(line for line in _sample("S004") if line.startswith("    规则 marginal「"))
    assert line.endswith("之内（等于边缘标准 2,490.00 元，区间不含上限）"), line


def test_a_value_beyond_a_named_bound_says_which_bound_after_its_amount() -> None:
    line = next(line for line in _sample("S005") if "（规则 marginal「" in line)
    assert line.endswith("之内（高于边缘标准 2,490.00 元（上限），相差 0.01 元）"), line


def test_a_bound_written_as_a_number_keeps_its_side() -> None:
    line = next(line for line in _sample("S089") if "规则 minor_kept" in line)
    assert "不在 [16 .. 18) 之内（高于上限 18，相差 22）" in line


# ------------------------------------------------------------ 4. a negative difference


def test_a_negative_difference_is_said_as_the_sides_it_compares() -> None:
    compared = next(line for line in _sample("S089") if "刚性支出超比例金额 = " in line)
    assert (
        "刚性支出超比例金额 = -84,000.00 元（为负数：刚性支出 0.00 元 低于 "
        "刚性支出占比标准 * 家庭年收入 84,000.00 元，差 84,000.00 元）；"
    ) in compared


def test_a_positive_difference_has_no_gloss() -> None:
    lines = _sample("S023")  # rigid_expense: its excess is over 0
    compared = next(line for line in lines if line.startswith("    比较的值：") and "刚性支出超比例金额" in line)
    assert "为负数" not in compared


# ------------------------------------------------------------ 5. S089, not re-checked


def test_a_group_the_tables_do_not_recheck_is_not_said_left_by_a_recheck() -> None:
    lines = _sample("S089")
    assert lines[2].startswith(
        "结论：本次按条件认定不再为低收入帮扶（低收入帮扶家庭不在复核之列，按本次认定的类别；"
        "复核结果 = 无需复核），救助类别 = 无（none）；本月仍属低收入人口"
    ), lines[2]
    assert "本次复核退出低收入帮扶" not in lines[2]
    group = next(line for line in lines if line.startswith("· 决策表「家庭救助类别（含复核与渐退）」"))
    assert "复核结果 = 无需复核" in group
