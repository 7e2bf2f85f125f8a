"""A derived value that no decision needs is computed by neither evaluator.

DuckDB leaves out a column nothing selects, so a derived value that no table tests, no
other needed value reads and no decision column shows was never computed by the SQL,
while the interpreter computed every one and refused a household whose unread value
overflowed its type (E605): ``evaluate`` decided the household and ``explain`` refused
it (found by the differential test). Both now skip such values; a value that is read
still refuses the household in both.
"""

from __future__ import annotations

import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from compiler.bind import DECISION_COLUMNS
from compiler.errors import InputError
from compiler.sqlgen import PRELUDE
from tests.helpers import (
    interpret,
    plan_of,
    prepare,
    run_program,
    sql_error,
    write_tables,
)

AS_OF = date(2025, 6, 1)
HUGE = "a * 1000000000"  # over 10^16 yuan, out of money's range, once a >= 10^7


def province(tested: str) -> dict[str, list[list[object]]]:
    """One table whose first column reads ``shown`` (every rule "-") and whose second
    column reads ``tested``."""
    return {
        "字段": [
            ["标识", "名称", "层级", "类型", "默认", "说明"],
            ["household_id", "家庭编号", "家庭", "text", None, None],
            ["county_code", "县代码", "家庭", "text", None, None],
            ["a", "金额甲", "家庭", "money", "0", None],
            ["person_id", "成员编号", "成员", "text", None, None],
            ["birth_date", "出生日期", "成员", "date", None, None],
        ],
        "派生值": [
            ["标识", "名称", "层级", "类型", "表达式", "依据"],
            ["unread", "无人读取", "家庭", "money", HUGE, "测试"],
            ["shown", "只显示", "家庭", "money", HUGE, "测试"],
            ["tested", "被检验", "家庭", "money", tested, "测试"],
        ],
        "日历": [["日期", "类型", "说明"], ["2025-01-01", "休息日", "元旦"]],
        "outcome": [
            ["outcome", "结果", "FIRST", "层级=家庭"],
            ["规则", "输入", "输入", "输出", "注释"],
            ["名称", "shown", "tested", "group", "政策依据"],
            ["类型", "money", "money", "enum(low,high)", None],
            ["默认", None, None, "high", None],
            ["low", "-", "< 1000", "low", "测试"],
        ],
    }


def plan(tested: str):  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as folder:
        return plan_of(write_tables(Path(folder), province(tested)), AS_OF)


HOUSEHOLD = {
    "household_id": "H1",
    "a": Decimal(100000000),
    "members": [{"person_id": "P1", "birth_date": date(1980, 1, 1)}],
}


def test_values_no_decision_needs_are_the_unread_ones() -> None:
    assert plan("a").unread_derived(DECISION_COLUMNS) == {"unread", "shown"}


def test_an_unread_value_out_of_range_refuses_the_household_in_neither() -> None:
    bound = plan("a")
    evaluation = interpret(bound, AS_OF, HOUSEHOLD)
    assert evaluation.household["group"] == "high"
    assert "unread" not in evaluation.household
    con = duckdb.connect()
    con.execute(PRELUDE)
    prepare(con, bound, AS_OF, [HOUSEHOLD])
    [decision] = run_program(con, bound, "none")
    assert decision["group"] == "high"


def test_a_tested_value_out_of_range_refuses_the_household_in_both() -> None:
    bound = plan(HUGE)
    with pytest.raises(InputError) as ours:
        interpret(bound, AS_OF, HOUSEHOLD)
    con = duckdb.connect()
    con.execute(PRELUDE)
    prepare(con, bound, AS_OF, [HOUSEHOLD])
    with pytest.raises(duckdb.Error) as theirs:
        run_program(con, bound, "none")
    assert sql_error(theirs.value).diagnostics[0].code == ours.value.diagnostics[0].code == "E605"
