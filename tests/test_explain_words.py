"""An explanation speaks the reader's words: the names in a quoted condition and the
policy basis as the table's author typed it (helper-81's reading of the shipped tables).

A condition cell such as 「< dibao_money_asset_years * 12 * 低保标准」 was quoted as
written, half identifier, half Chinese; an interval 「[working_age_min..working_age_max]」
likewise. The basis of a rule (its annotation) was shown folded to ASCII punctuation,
「R-N1:配偶计入,不以共同生活为条件」, though the author typed 「R-N1：配偶计入，…」.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from compiler.explain import _in_words, explain
from compiler.normalise import fold_text
from tests.helpers import COUNTY, decide, open_clean

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2025, 6, 1)


@pytest.fixture(scope="module")
def project():  # type: ignore[no-untyped-def]
    return open_clean(ROOT / "tables", AS_OF)


@pytest.fixture(scope="module")
def plan(project):  # type: ignore[no-untyped-def]
    return project.plan(COUNTY)


FAMILY = {
    "household_id": "W1",
    "county_code": COUNTY,
    "members": [
        {"person_id": "W1-1", "relation": "head", "birth_date": "1982-03-04",
         "income": {"wage": "12000.00"}},
        {"person_id": "W1-2", "relation": "spouse", "birth_date": "1983-05-06",
         "lives_in_household": False},
    ],
    "events": [{"type": "working_age_death", "date": "2025-05-06", "person_id": "W1-2"}],
}


def test_the_names_in_a_quoted_condition_are_given_in_chinese(plan) -> None:  # type: ignore[no-untyped-def]
    text = explain(plan, FAMILY, AS_OF)
    assert "（条件「< 低保货币财产年数 * 12 * 低保标准」，其中 低保货币财产年数 = 4、" in text
    assert "（条件「[劳动年龄下限..劳动年龄上限]」）" in text
    compared = [line for line in text.splitlines() if "条件「" in line]
    assert compared and not any("_" in line.split("条件「", 1)[1] for line in compared)


def test_only_names_of_values_are_translated(plan) -> None:  # type: ignore[no-untyped-def]
    # a quoted text, a function and an unknown word stay as written; a dotted field
    # and a name after an interval's dots are named
    assert _in_words(plan, 'coalesce(hukou, "dibao_standard") = "rural"') == (
        'coalesce(户籍类型, "dibao_standard") = "rural"'
    )
    assert _in_words(plan, "assets.money / counted_members > floor(x_y, 2)") == (
        "货币财产 / 家庭人口数 > floor(x_y, 2)"
    )
    assert _in_words(plan, "[0..dibao_standard)") == "[0..低保标准)"


def test_the_basis_is_shown_as_typed_and_the_trace_keeps_its_folded_form(project, plan, con) -> None:  # type: ignore[no-untyped-def]
    typed = "R-N1：配偶计入，不以共同生活为条件"
    rule = next(r for r in plan.tables["member_counted"].rules if r.id == "spouse")
    assert rule.annotation == typed  # as tables/province/member_counted.csv has it

    text = explain(plan, FAMILY, AS_OF)
    cell = f"province:member_counted!{rule.location.cell}"  # relative to the tables folder
    assert f"命中规则 spouse（{cell}），结果 是；依据 {typed}" in text

    row = decide(con, project, AS_OF, [FAMILY])[0]
    sections = [t["section"] for t in row["trace"] if t["rule"] == "spouse"]
    assert sections == [fold_text(typed)] == ["R-N1:配偶计入,不以共同生活为条件"]


def test_the_standards_used_are_listed_with_where_they_come_from(plan) -> None:  # type: ignore[no-untyped-def]
    """helper-90: the marginal line showed as 2,490.00 (or a county's 2,010.00), not how
    it was reached, nor which workbook set the standards it read. (A household of
    2,000.00 元 a head, whose eligibility compares 边缘标准: it is listed because a
    condition explained reads it, not because the text holds 边缘标准含本数.)"""
    head = {**FAMILY["members"][0], "income": {"wage": "48000.00"}}  # two counted: 2,000.00
    text = explain(plan, {**FAMILY, "members": [head, FAMILY["members"][1]]}, AS_OF).splitlines()
    at = text.index("· 所用标准（决策日有效的取值及其出处）：")
    used = {line.split(" = ")[0].strip(): line for line in text[at + 1:]}
    line = used["边缘标准"]
    assert line.startswith("    边缘标准 = 2,490.00 元：按「round(if 未放宽时也按最低工资封顶 then ")
    assert "其中 未放宽时也按最低工资封顶 = 否、边缘标准倍数 = 2、低保标准 = 1,301.00 元、最低工资标准 = 2,490.00 元" in line
    # what the constant read is listed in turn, each at the workbook row that set it
    assert "cities/330100-杭州市.xlsx:标准参数!A4，2025-01-23 起" in used["低保标准"]
    assert "counties/330106-西湖区.xlsx:标准参数!A2，2024-01-01 起" in used["最低工资标准"]
    assert "cities/330100-杭州市.xlsx:标准参数!A5" in used["边缘标准倍数"]
    # a province stand-in no one has verified says so
    assert used["边缘标准含本数"].endswith("，未核实")
    assert not used["低保标准"].endswith("，未核实")
