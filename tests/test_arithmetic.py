"""Exact arithmetic on both sides of the compiled SQL's fast paths.

The compiler divides with 64-bit integers when both operands are under a million, and
rounds or narrows a value through DECIMAL(18, s) when it fits (see
``_Compiler.rounded`` and ``_Compiler.narrowed``); otherwise it uses 128-bit integers.
These tests draw values on both sides of every one of those limits, negative values and
exact halves, and require the SQL to give what the reference interpreter gives, digit
for digit. County constants (a derived value of standards only, computed once per
county) are compared the same way.
"""

from __future__ import annotations

import re
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.sqlgen import PRELUDE, compile_plan
from tests.helpers import (
    STANDARDS_HEADER,
    interpret,
    plan_of,
    prepare,
    relations,
    write_tables,
)

AS_OF = date(2025, 6, 1)

DERIVED = [
    # identifier, type, expression: each exercises one path of the compiler
    ("per_member", "money", "a / n"),  # quotient narrowed to money
    ("per_month", "money", "round(a / n / 12, 2)"),  # quotient of a quotient, rounded
    ("ratio", "number", "a / b"),  # fractional divisor, narrowed to four places
    ("ratio_rounded", "number", "round(a / b, 3)"),
    ("excess", "money", "a - r * a"),  # eight decimals narrowed to two
    ("excess_rounded", "money", "round(a - r * b, 1)"),
    ("line", "money", "round(if cap then min(k * std, wage) else k * std, 2)"),  # constant
    ("per_month_down", "money", "floor(a / n / 12, 2)"),  # down to the fen
    ("excess_down", "money", "floor(a - r * b, 2)"),  # negative too: towards minus infinity
    ("ratio_down", "number", "floor(a / b, 3)"),
    ("whole_down", "integer", "floor(a / n)"),
    ("window_start", "date", "add_months(as_of, 0 - months)"),  # constant with the date
]


def province() -> dict[str, list[list[object]]]:
    fields = [
        ["household_id", "家庭编号", "家庭", "text", None, None],
        ["county_code", "县代码", "家庭", "text", None, None],
        ["a", "金额甲", "家庭", "money", "0", None],
        ["b", "数量乙", "家庭", "number", "0", None],
        ["n", "人数", "家庭", "integer", "1", None],
        ["r", "比例", "家庭", "percent", "0", None],
        ["person_id", "成员编号", "成员", "text", None, None],
        ["birth_date", "出生日期", "成员", "date", None, None],
    ]
    standards = [
        ["std", "标准", "1301.37", "元", "2024-01-01", None, "测试", None, "money", "是",
         None, None, "是"],
        ["k", "倍数", "1.3333", "倍", "2024-01-01", None, "测试", None, "number", "是",
         None, None, "是"],
        ["wage", "工资", "1700.15", "元", "2024-01-01", None, "测试", None, "money", "是",
         None, None, "是"],
        ["cap", "封顶", "是", None, "2024-01-01", None, "测试", None, "boolean", "是",
         None, None, "是"],
        ["months", "月数", "13", "月", "2024-01-01", None, "测试", None, "integer", "是",
         None, None, "是"],
    ]
    return {
        "字段": [["标识", "名称", "层级", "类型", "默认", "说明"], *fields],
        "标准参数": [STANDARDS_HEADER, *standards],
        "派生值": [
            ["标识", "名称", "层级", "类型", "表达式", "依据"],
            *[[ident, ident, "家庭", kind, text, "测试"] for ident, kind, text in DERIVED],
        ],
        "日历": [["日期", "类型", "说明"], ["2025-01-01", "休息日", "元旦"]],
        "outcome": [
            ["outcome", "结果", "FIRST", "层级=家庭"],
            ["规则", "输入", "输出", "注释"],
            ["名称", "per_month", "group", "政策依据"],
            ["类型", "money", "enum(low,high)", None],
            ["默认", None, "high", None],
            ["low", "< line", "low", "测试"],
        ],
        # reads every derived value, so that both evaluators compute each of them (a
        # value nothing reads is computed by neither: Plan.unread_derived)
        "reads": [
            ["reads", "读取", "FIRST", "层级=家庭"],
            ["规则", *["输入"] * len(DERIVED), "输出", "注释"],
            ["名称", *[ident for ident, _, _ in DERIVED], "seen", "政策依据"],
            ["类型", *[kind for _, kind, _ in DERIVED], "boolean", None],
            ["默认", *[None] * len(DERIVED), "否", None],
            ["every", *["not(null)"] * len(DERIVED), "是", "测试"],
        ],
    }


LIMITS = [Decimal(10) ** e for e in (0, 6, 10, 12, 15)]


def near_limits(places: int, top: Decimal, least: Decimal = Decimal(0)) -> st.SearchStrategy[Decimal]:
    """Values just under, at and over each limit, exact halves at the last place kept,
    and arbitrary values, of both signs, with ``places`` decimals, between ``least``
    and ``top`` in size (so that every derived value fits its type)."""
    step = Decimal(1).scaleb(-places)
    edges = [limit + d * step for limit in LIMITS for d in (-1, 0, 1)]
    edges += [Decimal("0.005"), Decimal("0.015"), Decimal("2.5"), Decimal("0.00005"), top]
    edge = st.sampled_from(sorted({e.quantize(step) for e in edges if least <= e.quantize(step) <= top}))
    free = st.decimals(min_value=least, max_value=top, places=places)
    sign = st.sampled_from([1, -1])
    return st.builds(lambda v, s: (v * s).quantize(step), st.one_of(edge, free), sign)


_PLANS: list = []


def plan():  # type: ignore[no-untyped-def]
    """The bound plan, made once: each example then costs only a DuckDB run."""
    if not _PLANS:
        with tempfile.TemporaryDirectory() as folder:
            _PLANS.append(plan_of(write_tables(Path(folder), province()), AS_OF))
    return _PLANS[0]


@settings(max_examples=30, deadline=None)
@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {
                "a": near_limits(2, Decimal(10) ** 12),
                "b": near_limits(4, Decimal(10) ** 12, Decimal("0.1")),
                "n": st.integers(min_value=1, max_value=12),
                "r": near_limits(6, Decimal(1000)),
            }
        ),
        min_size=1,
        max_size=12,
    )
)
def test_sql_arithmetic_equals_the_interpreter_across_the_fast_path_limits(
    rows: list[dict],
) -> None:
    people = [
        {"household_id": f"H{i}", **row, "members": [{"person_id": f"P{i}", "birth_date": date(1980, 1, 1)}]}
        for i, row in enumerate(rows)
    ]
    con = duckdb.connect()
    con.execute(PRELUDE)
    prepare(con, plan(), AS_OF, people)
    computed = relations(con, plan(), "none").households
    for person, row in zip(people, computed, strict=True):
        expected = interpret(plan(), AS_OF, person).household
        for ident, _, text in DERIVED:
            assert row[ident] == expected[ident], (ident, text, person, row[ident], expected[ident])


def test_a_derived_value_of_standards_only_is_computed_once_per_county() -> None:
    sql = compile_plan(plan(), trace="none").sql
    assert '"std_line_' in sql and '"std_window_start_' in sql
    # and never again per household: the CTE that computes it reads the county's row
    assert _computed_from(sql, "line").startswith("std")
    assert _computed_from(sql, "per_month").startswith("h")


def _computed_from(sql: str, ident: str) -> str:
    """The relation read by the CTE computing ``ident`` (values computed together are
    a column each, one to a line, compiler/sqlgen_nesting.py)."""
    found = re.findall(rf'AS "{ident}"(?:,\n[^\n]*)*\nFROM "([^"]+)"', sql)
    assert len(found) == 1, found
    return found[0]
