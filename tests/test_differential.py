"""The compiled SQL agrees with the reference interpreter on every household.

Hypothesis draws a province workbook with a decision table of each hit policy (and
sometimes a second table), writes it as CSV, loads and binds it through the real
passes, then draws households around the tables' thresholds. Both judges decide; every
field, standard, derived value and output must be equal, value for value (money as an
exact Decimal), on households, members and events, and the program's trace must name
the same rules. Where the interpreter refuses a household (UNIQUE or ANY broken), the
SQL must refuse it too, with the same code, table, household and rules.
"""

from __future__ import annotations

import os
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from compiler.bind import DECISION_COLUMNS, Plan
from compiler.errors import EvaluationError, InputError
from compiler.interpret import Evaluation
from compiler.model import Level
from compiler.sqlgen import TRACE_MODES
from tests.helpers import (
    interpret,
    plan_of,
    prepare,
    relations,
    run_program,
    sql_error,
    write_tables,
)
from tests.strategies import POLICIES, RulebookSpec, households, rulebooks, thresholds

# JIUZHU_HYPOTHESIS=deep draws many more examples; =debug skips shrinking.
settings.register_profile(
    "jiuzhu",
    max_examples=8,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
settings.register_profile(
    "deep", parent=settings.get_profile("jiuzhu"), max_examples=300
)
settings.register_profile(
    "debug",
    parent=settings.get_profile("jiuzhu"),
    max_examples=40,
    phases=(Phase.explicit, Phase.generate),
)
SETTINGS = settings.get_profile(os.environ.get("JIUZHU_HYPOTHESIS", "jiuzhu"))


@pytest.mark.parametrize("policy", list(POLICIES))
@SETTINGS
@given(data=st.data())
def test_sql_decides_as_the_interpreter_does(
    policy: str, data: st.DataObject, con: duckdb.DuckDBPyConnection
) -> None:
    spec = data.draw(rulebooks(policy), label="rulebook")
    with tempfile.TemporaryDirectory() as folder:
        plan = plan_of(
            write_tables(Path(folder), spec.province(), spec.county()), spec.as_of
        )
    people = data.draw(
        households(thresholds(plan, spec.as_of), spec.as_of), label="households"
    )
    trace = data.draw(st.sampled_from(TRACE_MODES), label="trace")
    assert_agree(con, plan, spec, people, trace)


def assert_agree(
    con: duckdb.DuckDBPyConnection,
    plan: Plan,
    spec: RulebookSpec,
    people: list[dict],
    trace: str,
) -> None:
    decided: dict[str, Evaluation] = {}
    refused: dict[str, EvaluationError | InputError] = {}
    for person in people:
        try:
            decided[person["household_id"]] = interpret(plan, spec.as_of, person)
        except (EvaluationError, InputError) as error:  # E601/E602, or E605 out of range
            refused[person["household_id"]] = error
    accepted = [p for p in people if p["household_id"] in decided]
    if accepted:
        prepare(con, plan, spec.as_of, accepted)
        sql = relations(con, plan, trace)
        assert_same_values(plan, [decided[p["household_id"]] for p in accepted], sql)
        assert_same_trace(decided, sql.decisions, trace)
    for person in [p for p in people if p["household_id"] in refused][
        :2
    ]:  # each costs a run
        assert_both_refuse(
            con, plan, spec.as_of, person, refused[person["household_id"]], trace
        )


def assert_same_values(plan: Plan, evaluations: list[Evaluation], sql) -> None:  # type: ignore[no-untyped-def]
    names = {level: _names(plan, level) for level in Level}
    assert len(sql.households) == len(evaluations)
    for evaluation, row in zip(evaluations, sql.households, strict=True):
        where = f"household {evaluation.household['household_id']}"
        _compare(names[Level.HOUSEHOLD], evaluation.household, row, where)
    members = [(e, m) for e in evaluations for m in e.members]
    assert len(sql.members) == len(members)
    for (evaluation, env), row in zip(members, sql.members, strict=True):
        _compare(names[Level.MEMBER], env, row, f"member {env.get('person_id')}")
    events = [(e, v) for e in evaluations for v in e.events]
    assert len(sql.events) == len(events)
    for (evaluation, env), row in zip(events, sql.events, strict=True):
        where = f"event of household {evaluation.household['household_id']}"
        _compare(names[Level.EVENT], env, row, where)


def _names(plan: Plan, level: Level) -> list[str]:
    """Every item computed or read at a level (standards once, on households)."""
    found = []
    unread = plan.unread_derived(DECISION_COLUMNS)
    for ident, item in plan.items.items():
        if item.kind == "builtin" or ident in unread:
            continue
        if item.level is level or (item.level is None and level is Level.HOUSEHOLD):
            found.append(ident)
    return found


def _compare(names: list[str], env: dict, row: dict, where: str) -> None:
    for name in names:
        expected, actual = env.get(name), row.get(name)
        assert _same(expected, actual), (
            f"{where}: {name} interpreter={expected!r} sql={actual!r}"
        )


def _same(expected: object, actual: object) -> bool:
    if isinstance(expected, list) or isinstance(actual, list):
        if not isinstance(expected, list) or not isinstance(actual, list):
            return False
        return len(expected) == len(actual) and all(map(_same, expected, actual))
    if isinstance(actual, float):
        return False  # a number that went through binary floating point
    if _is_number(expected) and _is_number(actual):
        return Decimal(expected) == Decimal(actual)  # type: ignore[arg-type]
    return (
        type(expected) is type(actual)
        and expected == actual
        or (expected is None and actual is None)
    )


def _is_number(value: object) -> bool:
    return isinstance(value, Decimal | int) and not isinstance(value, bool)


CONTRACT = (
    "group",
    "income_per_capita",
    "dibao_standard",
    "marginal_line",
    "tekun_members",
)


def assert_same_trace(
    decided: dict[str, Evaluation], rows: list[dict], trace: str
) -> None:
    """The program's decisions: the contract's fields and the rules its trace names
    (compact traces leave out cells and sections, and trace none leaves out all)."""
    assert [r["household_id"] for r in rows] == list(decided)
    for row, evaluation in zip(rows, decided.values(), strict=True):
        for name in CONTRACT:
            if name in evaluation.household:
                expected, actual = evaluation.household[name], row[name]
                assert _same(expected, actual), (
                    f"decision {row['household_id']}: {name} {expected!r} {actual!r}"
                )
        if trace == "none":
            assert row["trace"] == []
            continue
        full = trace == "full"
        ours = sorted(
            (
                e.table,
                e.person_id or "",
                ",".join(e.rules),
                (full and e.cell) or "",
                (full and e.rule and e.section) or "",
            )
            for e in evaluation.trace
        )
        theirs = sorted(
            (
                t["table"],
                t["person_id"] or "",
                t["rule"] or "",
                t["cell"] or "",
                t["section"] or "",
            )
            for t in row["trace"]
        )
        assert theirs == ours, f"household {row['household_id']}: trace differs"


def assert_both_refuse(
    con: duckdb.DuckDBPyConnection,
    plan: Plan,
    as_of: date,
    person: dict,
    error: EvaluationError | InputError,
    trace: str,
) -> None:
    prepare(con, plan, as_of, [person])
    with pytest.raises(duckdb.Error) as caught:
        run_program(con, plan, trace)
    mapped = sql_error(caught.value)
    ours, theirs = error.diagnostics[0], mapped.diagnostics[0]
    assert (theirs.code, theirs.message) == (ours.code, ours.message)
