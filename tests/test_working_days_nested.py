"""working_days_after nested in itself: the same dates as the interpreter, in a query
that grows with the depth, not seven times over per level (helper-109).

The macro jz_working_days_after named its date seven times; DuckDB pastes a macro's
argument wherever the body names it, so three levels took a second to bind and four
passed DuckDB's limit on expression depth, in every context a formula is compiled in.
The macro now binds the date and the count once (compiler/sqlgen_expr.py). A count that
leaves the calendar is still E612 naming the household, and a branch not taken still
counts nothing.
"""

from __future__ import annotations

import re
import tempfile
from datetime import date
from pathlib import Path

import duckdb
import pytest

from compiler.errors import EvaluationError
from tests.helpers import (
    STANDARDS_HEADER,
    interpret,
    plan_of,
    prepare,
    relations,
    sql_error,
    write_tables,
)

AS_OF = date(2025, 6, 1)


def nested(inner: str, depth: int) -> str:
    """working_days_after(working_days_after(inner, 2), 3) and so on, ``depth`` deep."""
    for count in range(2, depth + 2):
        inner = f"working_days_after({inner}, {count})"
    return inner


def sheets(
    derived: str, output: str = "d", default: str | None = None, test: str = "not(null)"
) -> dict:
    """A date field ``d`` and members' birth dates; the derived value ``x`` (date) read
    by the table ``reads``, whose rule ``every`` tests ``x`` with ``test`` and gives
    ``out`` = ``output`` (``default`` when it does not match)."""
    fields = [
        ["household_id", "家庭编号", "家庭", "text", None, None],
        ["county_code", "县代码", "家庭", "text", None, None],
        ["d", "日期", "家庭", "date", None, None],
        ["person_id", "成员编号", "成员", "text", None, None],
        ["birth_date", "出生日期", "成员", "date", None, None],
    ]
    standard = [
        "std",
        "标准",
        "1301.37",
        "元",
        "2024-01-01",
        None,
        "测试",
        None,
        "money",
        "是",
        None,
        None,
        "是",
    ]
    return {
        "字段": [["标识", "名称", "层级", "类型", "默认", "说明"], *fields],
        "标准参数": [STANDARDS_HEADER, standard],
        "派生值": [
            ["标识", "名称", "层级", "类型", "表达式", "依据"],
            ["x", "日期甲", "家庭", "date", derived, "测试"],
        ],
        "日历": [
            ["日期", "类型", "说明"],
            ["2025-01-01", "休息日", "元旦"],
            ["2025-03-05", "休息日", "测试"],
            ["2025-03-08", "补班", "调休"],
        ],
        "reads": [
            ["reads", "读取", "FIRST", "层级=家庭"],
            ["规则", "输入", "输出", "注释"],
            ["名称", "x", "out", "政策依据"],
            ["类型", "date", "date", None],
            ["默认", None, default, None],
            ["every", test, output, "测试"],
        ],
    }


def contexts(depth: int) -> dict[str, dict]:
    """The nesting in each context the compiler writes SQL for."""
    deep = nested("d", depth)
    return {
        "derived": sheets(deep),  # a step's value
        "constant": sheets(nested("as_of", depth)),  # a county's constant
        "aggregate": sheets(f"max_of({nested('birth_date', depth)})"),  # over members
        "output": sheets("d", output=deep),  # a rule's output
        "default": sheets("d", default=deep, test="null"),  # the table's default
        "test": sheets("d", test=f"<= {deep}"),  # a rule's test
    }


def plan_for(tables: dict):  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as folder:
        return plan_of(write_tables(Path(folder), tables), AS_OF)


def household(
    ident: str, day: date | None, born: date | None = date(2024, 12, 27)
) -> dict:
    members = [] if born is None else [{"person_id": f"{ident}-1", "birth_date": born}]
    return {"household_id": ident, "d": day, "members": members, "events": []}


PEOPLE = [
    # across the 3-5 holiday and the 3-8 working Saturday
    household("H1", date(2025, 3, 3)),
    household("H2", None, None),  # no date, no members: no count
    household("H3", date(2000, 1, 1), date(2039, 12, 20)),  # the first day counted
    household("H4", date(2025, 12, 26)),  # into a new year
]


@pytest.mark.parametrize("depth", [3, 5])
@pytest.mark.parametrize("where", list(contexts(1)))
def test_nested_working_days_give_the_interpreters_dates(con, where, depth):
    plan = plan_for(contexts(depth)[where])
    prepare(con, plan, AS_OF, PEOPLE)

    # five deep was past DuckDB's limit on expression depth
    computed = relations(con, plan).households

    for person, row in zip(PEOPLE, computed, strict=True):
        expected = interpret(plan, AS_OF, person).household
        assert (row["x"], row["out"]) == (expected["x"], expected["out"]), person
    assert None not in (computed[0]["x"], computed[0]["out"])


def test_the_bound_query_grows_linearly_with_the_depth(con):
    """DuckDB's plan of the expression, after it pasted the macros: about the same
    for each level added. It grew about seven times per level."""
    plan = plan_for(sheets("d"))
    prepare(con, plan, AS_OF, PEOPLE)

    def planned(depth: int) -> int:
        value = '"d"'
        for count in range(2, depth + 2):
            value = f"jz_working_days_after({value}, {count}, household_id, NULL)"
        rows = con.execute(f"EXPLAIN SELECT {value} FROM jz_households").fetchall()
        return sum(len(text) for _, text in rows)

    one, two, three = planned(1), planned(2), planned(3)
    assert three - two < 1.5 * (two - one), (one, two, three)
    assert three < 3 * one


def _e612(con: duckdb.DuckDBPyConnection, plan, people: list[dict]):  # type: ignore[no-untyped-def]
    """The E612 of each evaluator, as ``evaluate`` and ``explain`` report it."""
    prepare(con, plan, AS_OF, people)
    with pytest.raises(duckdb.Error) as sql:
        relations(con, plan)
    with pytest.raises(EvaluationError) as interpreted:
        for person in people:
            interpret(plan, AS_OF, person)
    return sql_error(sql.value).diagnostics[0], interpreted.value.diagnostics[0]


@pytest.mark.parametrize("where", ["derived", "output"])
def test_a_nested_count_past_the_calendar_is_e612_naming_the_household(con, where):
    plan = plan_for(contexts(3)[where])
    # the inner count ends in 2040, the next one past the calendar's last day
    people = [household("Q1", date(2025, 3, 3)), household("Q2", date(2040, 12, 24))]

    sql, interpreted = _e612(con, plan, people)

    assert sql.code == interpreted.code == "E612"
    assert sql.extra.get("household") == "Q2" and "Q1" not in sql.render()
    [day] = re.findall(r"2040-12-\d\d", sql.message)  # the date whose count failed
    assert day in interpreted.message


def test_a_branch_not_taken_counts_nothing(con):
    """A guard before a count that would leave the calendar: neither evaluator counts
    (nor raises E612) for a household whose date the guard keeps out."""
    guarded = f"if d < 2040-01-01 then {nested('d', 3)} else d"
    plan = plan_for(sheets(guarded))
    people = [household("G1", date(2040, 12, 28)), household("G2", date(2025, 3, 3))]
    prepare(con, plan, AS_OF, people)

    computed = relations(con, plan).households

    assert computed[0]["x"] == date(2040, 12, 28)
    for person, row in zip(people, computed, strict=True):
        assert row["x"] == interpret(plan, AS_OF, person).household["x"]
