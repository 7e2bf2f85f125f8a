"""The members meet their households once per stored household step: member values
that read household values (a standard, the household's current group) take them all
from one join (sqlgen ``household_values_ahead``), not one join per value.

Each join probes every member: at a million households one join fewer was 5% of the
decisions query (docs/performance.md, sixteenth session).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from compiler.engine import open_project

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "tables"
AS_OF = date(2025, 6, 1)
JOIN = re.compile(r'JOIN \(SELECT household_id, ([^)]*) FROM "(jz_t_h\d+)"\) hx')


def _member_chain(query: str) -> str:
    """The query's first stored member step: the member values up to their first
    aggregate."""
    heads = [m.start() for m in re.finditer(r'^"jz_t_\w+" AS', query, re.MULTILINE)]
    members = next(i for i, at in enumerate(heads) if query.startswith('"jz_t_m', at))
    return query[heads[members] : heads[members + 1]]


@pytest.mark.parametrize("trace", ["none", "compact", "full"])
def test_the_first_member_step_joins_its_households_once(trace: str) -> None:
    query = open_project(TABLES, ["330106"], AS_OF).program("330106", trace=trace).query
    joins = JOIN.findall(_member_chain(query))
    assert len(joins) == 1, joins
    columns, _ = joins[0]
    # both member values that read household values get them from the one join
    assert '"current.group"' in columns and '"employment_cost_deduction"' in columns


def test_a_later_member_table_still_joins_only_what_its_guard_lets_through() -> None:
    query = open_project(TABLES, ["330106"], AS_OF).program("330106", trace="none").query
    guarded = [j for j in JOIN.findall(query) if '"dibao_assets_ok"' in j[0]]
    # the tekun member table reads a value decided after the members were stored:
    # the look ahead stops at the household steps, so its join is its own
    assert len(guarded) == 1
    assert query.count(' m WHERE coalesce(') == 1
