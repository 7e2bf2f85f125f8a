"""Decimal arithmetic at its limits: nesting, 38 digits, and what happens past them.

Nested ``floor(x, 2)`` and divisions read their argument once in every context of the
compiled SQL (a rule's output, test or input, a county's constant, a member
aggregate, a derived value), so the SQL grows with the depth, not exponentially. A
formula DuckDB cannot compute for any household (a product of more than 38 decimals)
is refused at its cell (E308). Within 38 digits the SQL is exact, digit for digit the
reference interpreter's; past them both refuse the household alike (E605), and
``jiuzhu evaluate`` names the household and the cell (compiler/precision.py,
compiler/overflow.py).
"""

from __future__ import annotations

import json
import re
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler import cli
from compiler.diagnostics import Report
from compiler.engine import connect, open_project
from compiler.errors import InputError
from compiler.sqlgen import compile_plan
from tests.helpers import (
    COUNTY,
    STANDARDS_HEADER,
    interpret,
    plan_of,
    prepare,
    relations,
    run_program,
    sql_error,
    write_tables,
)
from tests.tables_fixture import province_sheets
from tests.tables_fixture import write_tables as write_fixture_tables

AS_OF = date(2025, 6, 1)
DEPTH = 12


def nested(func: str, inner: str, depth: int = DEPTH) -> str:
    """``func`` applied ``depth`` times: floor(floor(x, 2), 2) or ((x / 3) / 3)."""
    for _ in range(depth):
        inner = f"floor({inner}, 2)" if func == "floor" else f"({inner} / 3)"
    return inner


def province(derived: list[tuple[str, str, str]], extra: dict | None = None) -> dict:
    """Fields of every numeric type; ``derived`` (id, type, expression), each read by
    the table ``reads`` so that both evaluators compute it; ``extra`` more sheets."""
    fields = [
        ["household_id", "家庭编号", "家庭", "text", None, None],
        ["county_code", "县代码", "家庭", "text", None, None],
        ["a", "金额甲", "家庭", "money", "0", None],
        ["b", "数量乙", "家庭", "number", "0", None],
        ["r", "比例", "家庭", "percent", "0", None],
        ["n", "人数", "家庭", "integer", "1", None],
        ["m", "件数", "家庭", "integer", "0", None],
        ["person_id", "成员编号", "成员", "text", None, None],
        ["birth_date", "出生日期", "成员", "date", None, None],
        ["wage", "工资", "成员", "money", "0", None],
    ]
    standards = [
        ["std", "标准", "1301.37", "元", "2024-01-01", None, "测试", None, "money", "是",
         None, None, "是"],
    ]
    sheets = {
        "字段": [["标识", "名称", "层级", "类型", "默认", "说明"], *fields],
        "标准参数": [STANDARDS_HEADER, *standards],
        "派生值": [
            ["标识", "名称", "层级", "类型", "表达式", "依据"],
            *[[ident, ident, "家庭", kind, text, "测试"] for ident, kind, text in derived],
        ],
        "日历": [["日期", "类型", "说明"], ["2025-01-01", "休息日", "元旦"]],
    }
    if derived:
        sheets["reads"] = [
            ["reads", "读取", "FIRST", "层级=家庭"],
            ["规则", *["输入"] * len(derived), "输出", "注释"],
            ["名称", *[ident for ident, _, _ in derived], "seen", "政策依据"],
            ["类型", *[kind for _, kind, _ in derived], "boolean", None],
            ["默认", *[None] * len(derived), "否", None],
            ["every", *["not(null)"] * len(derived), "是", "测试"],
        ]
    return sheets | (extra or {})


def plan_for(sheets: dict):  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as folder:
        return plan_of(write_tables(Path(folder), sheets), AS_OF)


def household(ident: str, **values: object) -> dict:
    wages = values.pop("wages", ["1000.00"])
    members = [
        {"person_id": f"{ident}-{i}", "birth_date": date(1980, 1, 1), "wage": Decimal(w)}
        for i, w in enumerate(wages)  # type: ignore[arg-type]
    ]
    typed = {k: Decimal(str(v)) for k, v in values.items()}
    return {"household_id": ident, **typed, "members": members, "events": []}


def contexts(func: str) -> dict:
    """One nested expression in each context the compiler writes SQL for."""
    deep = nested(func, "a / n / 7")
    return province(
        [
            ("in_derived", "money", deep),  # a step: operands hoisted into columns
            ("in_constant", "money", nested(func, "std / 7")),  # a county's constant
            ("in_aggregate", "money", f"sum({nested(func, 'wage / 7')})"),  # over members
        ],
        {
            "deep": [
                ["deep", "深层", "FIRST", "层级=家庭"],
                ["规则", "输入", "输入", "输出", "注释"],
                ["名称", deep, "a", "out", "政策依据"],  # an input column
                ["类型", "number", "money", "money", None],
                ["默认", None, None, nested(func, "b / 7"), None],  # a default
                ["low", "not(null)", f"< {nested(func, 'std / 7')}", deep, "测试"],  # a test, an output
                ["high", "-", "-", nested(func, "a / 9"), "测试"],
            ],
        },
    )


PEOPLE = [
    household("H1", a="1301.37", b="17.0004", n=3, wages=["1000.01", "-7.77"]),
    household("H2", a="-98765.43", b="-0.0001", n=7),
    household("H3", a="99999999.99", b="123456.7891", n=1, wages=["2500.35"] * 3),
    household("H4", a="0.07", b="6.9999", n=2, wages=[]),
]


def assert_same(con: duckdb.DuckDBPyConnection, plan, people: list[dict]) -> None:  # type: ignore[no-untyped-def]
    prepare(con, plan, AS_OF, people)
    computed = relations(con, plan, "full").households
    names = [*plan.derived, *[o.id for t in plan.tables.values() for o in t.outputs]]
    for person, row in zip(people, computed, strict=True):
        expected = interpret(plan, AS_OF, person).household
        for name in names:
            assert row[name] == expected[name], (name, person["household_id"], row[name], expected[name])


# ---------------------------------------------------------------- nesting


@pytest.mark.parametrize("func", ["floor", "divide"])
def test_nesting_twelve_deep_writes_sql_linear_in_depth_and_computes_as_the_interpreter(func, con):
    plan = plan_for(contexts(func))
    sql = compile_plan(plan, trace="full").sql
    shallow = compile_plan(plan_for(province([]) | {}), trace="full").sql
    # ten nested floors in a rule's output were 67 MB (each level read its argument
    # four times); now each level costs a few hundred characters in each context
    assert len(sql) - len(shallow) < 60_000, len(sql)
    # a division's operands are columns, literals or a lambda's parameter, never a
    # division again: jz_div reads each operand six times, and six nested levels took
    # 95 s for one household
    assert not re.search(r"jz_div\((?![\"]|CAST\(')", sql)
    assert_same(con, plan, PEOPLE)


def test_a_floor_of_a_whole_number_stays_exact(con):
    """DuckDB's floor of a BIGINT is a DOUBLE: 2^53 + 1 became 2^53."""
    plan = plan_for(province([("whole", "money", "floor(m) * 0.5 + ceil(m) * 0")]))
    people = [household("H1", m=2**53 + 1), household("H2", m=-(2**53) - 3), household("H3", m=0)]
    assert_same(con, plan, people)
    assert interpret(plan, AS_OF, people[0]).household["whole"] == Decimal(2**53 + 1) / 2


# ---------------------------------------------------------------- refused at check


def test_a_product_of_more_than_38_decimals_is_refused_at_its_cell():
    text = "a"
    for _ in range(37):  # money's 2 decimals and one more per factor: 39
        text = f"({text} * 1.5)"
    with tempfile.TemporaryDirectory() as folder:
        root = write_tables(Path(folder), province([("grown", "money", text)]))
        report = Report()
        open_project(root, [COUNTY], AS_OF, report=report)
    refused = [d for d in report.errors if d.code == "E308"]
    assert len(refused) == 1, [d.render() for d in report.errors]
    said = refused[0]
    assert said.location.sheet == "派生值" and said.location.cell == "A2"
    assert "39 位小数" in said.message and "38 位" in said.message
    assert said.found is not None and said.found.endswith("* 1.5)") and "round" in (said.expected or "")


def test_a_product_of_38_decimals_is_accepted_and_computed_where_it_fits(con):
    text = "a"
    for _ in range(36):
        text = f"({text} * 1.5)"
    plan = plan_for(province([("grown", "number", f"round({text}, 4)")]))
    # 38 decimals leave no digit before the point: zero is computed, a fen is not
    small, large = household("S", a="0"), household("L", a="0.01")
    assert_same(con, plan, [small])
    with pytest.raises(InputError) as ours:
        interpret(plan, AS_OF, large)
    prepare(con, plan, AS_OF, [large])
    with pytest.raises(duckdb.Error) as caught:
        run_program(con, plan, "full")
    theirs = sql_error(caught.value).diagnostics[0]
    assert (theirs.code, theirs.message) == (ours.value.diagnostics[0].code, ours.value.diagnostics[0].message)
    assert ours.value.diagnostics[0].location.cell == "A2"


# ---------------------------------------------------------------- exact within, refused past


LIMITS = [
    # id, type, expression, a household the SQL used to refuse or get wrong, the value
    ("square_back", "money", "round(a * a / a, 2)", {"a": "900000000000.01"}, "900000000000.01"),
    ("third_times", "money", "round((a / 3) * a / a, 2)", {"a": "900000000000.00"}, "300000000000.00"),
    ("whole_sum", "integer", "(n + m) - m", {"n": "5000000000000000000", "m": "5000000000000000000"}, None),
    # a divisor just under a million that rounds up to it at six decimals (DECIMAL(18,6)
    # times a million overflowed)
    ("near_million", "number", "round(b / (n * 0.000000000001), 4)",
     {"b": "99999999999.9999", "n": "999999999999999999"}, "100000.0000"),
    # 30 digits rounded: the interpreter's rounding stopped at Python's 28 (a traceback)
    ("round_wide", "number", "round(a * a * n, 4) * 0", {"a": "999999.99", "n": "999999999999999999"}, "0"),
    ("floor_wide", "number", "floor(a * a * n, 3) * 0", {"a": "999999.99", "n": "999999999999999999"}, "0"),
]


@pytest.mark.parametrize("ident, kind, text, values, value", LIMITS, ids=[c[0] for c in LIMITS])
def test_values_past_the_old_limits_agree(ident, kind, text, values, value, con):
    plan = plan_for(province([(ident, kind, text)]))
    person = household("H1", **values)
    if value is not None:  # exact: the 128-bit division now holds dividends up to 10^25
        assert_same(con, plan, [person])
        assert interpret(plan, AS_OF, person).household[ident] == Decimal(value)
        return
    # 10^19 is past a BIGINT: both refuse, where the interpreter used to decide
    with pytest.raises(InputError) as ours:
        interpret(plan, AS_OF, person)
    prepare(con, plan, AS_OF, [person])
    with pytest.raises(duckdb.Error) as caught:
        run_program(con, plan, "full")
    assert sql_error(caught.value).diagnostics[0].message == ours.value.diagnostics[0].message


def test_a_dividend_of_many_decimals_is_rounded_to_six_once(con):
    """A million and 0.000000499999…: rounded to ten decimals first, it became
    0.0000005000 and then a millionth; rounded once, it stays below half of one."""
    tested = "a * 1.000000000000499999 / 1"
    plan = plan_for(province([], {
        "half": [
            ["half", "半个", "FIRST", "层级=家庭"],
            ["规则", "输入", "输出", "注释"],
            ["名称", tested, "above", "政策依据"],
            ["类型", "number", "boolean", None],
            ["默认", None, "否", None],
            ["up", "> 1000000", "是", "测试"],
        ],
    }))
    person = household("H1", a="1000000.00")
    assert interpret(plan, AS_OF, person).household["above"] is False
    assert_same(con, plan, [person])


# the share r enters times n: an amount added to, compared with or chosen against a
# bare share is refused (E110), which a random formula would often be
EXPRESSIONS = ("a", "b", "(r * n)", "n", "std", "1.5", "0.000007", "12")


@st.composite
def formulas(draw: st.DrawFn, depth: int = 0) -> str:
    if depth >= 3 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(EXPRESSIONS))
    # no coalesce: DuckDB may compute an argument after a present one where it also
    # appears elsewhere (common subexpressions), which the interpreter does not
    op = draw(st.sampled_from(["*", "*", "+", "-", "/", "max", "if", "round", "floor"]))
    left, right = draw(formulas(depth + 1)), draw(formulas(depth + 1))
    if op == "max":
        return f"max({left}, {right})"
    if op == "if":
        return f"(if {left} > {right} then {left} else {right})"
    if op in ("round", "floor"):
        return f"{op}({left}, {draw(st.integers(0, 3))})"
    return f"({left} {op} {right})"


BIG = st.sampled_from(["0", "1", "-1", "999999.99", "1000000.01", "123456789012.34",
                       "-9999999999999.99", "9999999999999999.99"])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts=st.lists(formulas(), min_size=1, max_size=4),
    values=st.lists(st.fixed_dictionaries({
        "a": BIG,
        "b": st.sampled_from(["0.0001", "-12.5", "99999999999.9999", "7"]),
        "r": st.sampled_from(["0.000001", "123.456789", "-999999.5", "1"]),
        "n": st.sampled_from(["1", "3", "999999999999999999"]),
    }), min_size=1, max_size=3),
)
def test_large_values_are_computed_alike_or_refused_alike(texts: list[str], values: list[dict]) -> None:
    """Products, sums and quotients of values up to what their columns hold: where
    one evaluator decides, the other gives the same values; where one refuses, so does
    the other, with the same code and message (which value fails first may differ)."""
    plan = plan_for(province([(f"f{i}", "number", f"round({t}, 4) * 0") for i, t in enumerate(texts)]))
    for i, row in enumerate(values):
        person = household(f"H{i}", **row)
        try:
            expected = interpret(plan, AS_OF, person)
        except InputError as error:
            expected = error
        con = connect()
        try:
            prepare(con, plan, AS_OF, [person])
            if isinstance(expected, InputError):
                with pytest.raises(duckdb.Error) as caught:
                    run_program(con, plan, "full")
                theirs = sql_error(caught.value).diagnostics[0]
                assert (theirs.code, theirs.message) == (expected.diagnostics[0].code, expected.diagnostics[0].message)
            else:
                row_sql = relations(con, plan, "full").households[0]
                for ident in plan.derived:
                    assert row_sql[ident] == expected.household[ident], (ident, texts, row)
        finally:
            con.close()


# ---------------------------------------------------------------- evaluate names it


def cube_province() -> dict:
    """The small tables' province with a derived value that cubes the savings on the
    way (a product of 10^42 for 10^14 yuan) and that the income per head reads."""
    sheets = province_sheets()
    cube = "round(assets.money * assets.money * assets.money / assets.money / assets.money, 2)"
    sheets["派生值"].append(["cube", "立方", "家庭", "money", cube, "测试"])
    per_head = sheets["派生值"][1]
    assert per_head[0] == "income_per_capita"
    per_head[4] = f"min({per_head[4]}, cube)"  # read, so computed
    return sheets


def test_evaluate_names_the_household_and_the_cell_of_a_value_too_large(tmp_path, capsys):
    """A cube of amounts no household sums to 10^15: DuckDB's overflow named no one and
    blamed the standards; now the household and the derived value's cell are named,
    in Chinese, and nothing is written."""
    tables = write_fixture_tables(tmp_path, cube_province())

    def member() -> list[dict]:
        return [{"person_id": "P1", "birth_date": "1980-01-01", "income": {"wage": "12000"}}]

    people = [
        {"household_id": "N1", "county_code": COUNTY, "assets": {"money": "5000"}, "members": member()},
        {"household_id": "C2", "county_code": COUNTY, "assets": {"money": "99999999999999.99"}, "members": member()},
    ]
    path = tmp_path / "households.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in people), encoding="utf-8")
    out = tmp_path / "d.jsonl"
    code = cli.main(["evaluate", "--households", str(path), "--as-of", AS_OF.isoformat(),
                     "--tables", str(tables), "--out", str(out)])
    said = capsys.readouterr().err
    assert code == 1 and not out.exists()
    assert "E605 金额或其合计、乘积超出可计算的范围：家庭 C2 计算派生值「立方」（cube）时" in said
    assert "派生值!A" in said and "N1" not in said and "标准参数" not in said
    assert "jiuzhu explain C2" in said and "Error" not in said and "Traceback" not in said
    # explain stops at the same cell, on the same value
    explained = cli.main(["explain", "C2", "--households", str(path), "--as-of", AS_OF.isoformat(),
                          "--tables", str(tables)])
    err = capsys.readouterr().err
    assert explained == 1 and "E605 金额或其合计、乘积超出可计算的范围" in err
    cell = re.search(r"派生值!A\d+", said)
    assert cell is not None and cell.group(0) in err


def test_the_service_places_each_household_whose_value_is_too_large(tmp_path):
    """The service answers one E605 for each household that fails on its own, at its
    path and naming the cell, where no household's amounts add up to 10^15."""
    from tests.test_service import build_tables, make_client
    from tests.test_service import household as service_household

    tables = build_tables(tmp_path, cube_province())
    households = [
        service_household("N1", "12000"),
        service_household("C2", "12000", money="99999999999999.99"),
        service_household("N3", "12000"),
        service_household("C4", "12000", money="88888888888888.88"),
    ]
    with make_client(tables, tmp_path / "r.duckdb") as client:
        response = client.post("/v1/decisions", json={"as_of": "2025-08-01", "households": households})
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["code"], e["path"]) for e in errors] == [("E605", "$.households[1]"), ("E605", "$.households[3]")]
    assert "家庭 C2 计算派生值「立方」（cube）时" in errors[0]["message"]
    assert "家庭 C4 计算派生值「立方」（cube）时" in errors[1]["message"]
    assert all(re.search(r"时（派生值!A\d+）$", e["message"]) for e in errors), errors
