"""Each hit policy of docs/table-format.md section 3, one readable case each, decided by
both the reference interpreter and the compiled SQL: what a household gets when one,
several or no rules match, and the errors UNIQUE and ANY raise naming the household
and the rules."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from compiler.diagnostics import Report
from compiler.engine import contract_error, open_project, run_programs
from compiler.errors import EvaluationError
from compiler.model import Aggregation, HitPolicy
from tests.helpers import (
    COUNTY,
    STANDARDS_HEADER,
    decide,
    fetch,
    interpret,
    open_clean,
    prepare,
    relations,
    write_tables,
)

AS_OF = date(2025, 6, 1)
FIELDS = [
    ["标识", "名称", "层级", "类型", "默认", "说明"],
    ["household_id", "家庭编号", "家庭", "text", None, None],
    ["county_code", "县代码", "家庭", "text", None, None],
    ["score", "评分", "家庭", "integer", None, None],
    ["person_id", "成员编号", "成员", "text", None, None],
]
STANDARDS = [
    STANDARDS_HEADER,
    [
        "pass_mark",
        "及格线",
        "60",
        "分",
        "2024-01-01",
        None,
        "测试",
        None,
        "integer",
        "否",
        None,
        None,
        None,
    ],
]
SCORES = (None, 50, 60, 85, 95)  # nothing known, no rule, R1 only, R1+R2, R1+R2+R3


def grade_table(
    policy: str, output_type: str, outputs: tuple[str, str, str], default: str | None
) -> list[list[object]]:
    """Three nested rules: R1 from the pass mark, R2 from 80, R3 from 90."""
    rows: list[list[object]] = [
        ["grade", "成绩等级", policy, "层级=家庭"],
        ["规则", "输入", "输出", "注释"],
        ["名称", "评分", "out", "依据"],
        ["类型", "integer", output_type, None],
    ]
    if default is not None:
        rows.append(["默认", None, default, None])
    rows += [
        ["R1", ">= 及格线", outputs[0], "第一条"],
        ["R2", ">= 80", outputs[1], "第二条"],
        ["R3", "[90..100]", outputs[2], "第三条"],
    ]
    return rows


def open_grade(tmp_path: Path, table: list[list[object]]):  # type: ignore[no-untyped-def]
    root = write_tables(
        tmp_path, {"字段": FIELDS, "标准参数": STANDARDS, "grade": table}
    )
    return open_clean(root, AS_OF)


def household(score: int | None) -> dict:
    return {
        "household_id": f"H{score}",
        "score": None if score is None else Decimal(score),
    }


@dataclass
class Case:
    policy: str
    output_type: str
    outputs: tuple[str, str, str]
    default: str | None
    expected: tuple[object, ...]  # for SCORES, in order


LEVELS = "enum(excellent,good,pass,fail)"
CASES = {
    "FIRST takes the first matching rule, the default when none": Case(
        "FIRST",
        LEVELS,
        ("pass", "good", "excellent"),
        "fail",
        ("fail", "fail", "pass", "pass", "pass"),
    ),
    "FIRST without a default gives null when no rule matches": Case(
        "F",
        LEVELS,
        ("pass", "good", "excellent"),
        None,
        (None, None, "pass", "pass", "pass"),
    ),
    "PRIORITY takes the output first in the enum order": Case(
        "PRIORITY",
        LEVELS,
        ("pass", "good", "excellent"),
        "fail",
        ("fail", "fail", "pass", "good", "excellent"),
    ),
    "UNIQUE gives the one matching rule's output or the default": Case(
        "UNIQUE",
        LEVELS,
        ("pass", "good", "excellent"),
        "fail",
        ("fail", "fail", "pass", None, None),  # 85 and 95 overlap: see the error tests
    ),
    "ANY accepts overlapping rules that agree": Case(
        "ANY",
        LEVELS,
        ("pass", "pass", "pass"),
        "fail",
        ("fail", "fail", "pass", "pass", "pass"),
    ),
    "RULE ORDER lists every match in row order, empty when none": Case(
        "RULE ORDER",
        LEVELS,
        ("pass", "good", "excellent"),
        "fail",
        ([], [], ["pass"], ["pass", "good"], ["pass", "good", "excellent"]),
    ),
    "OUTPUT ORDER lists every match in the enum order": Case(
        "OUTPUT ORDER",
        LEVELS,
        ("pass", "good", "excellent"),
        None,
        ([], [], ["pass"], ["good", "pass"], ["excellent", "good", "pass"]),
    ),
    "COLLECT lists every match in row order": Case(
        "COLLECT",
        "text",
        ("甲", "乙", "丙"),
        None,
        ([], [], ["甲"], ["甲", "乙"], ["甲", "乙", "丙"]),
    ),
    "COLLECT SUM adds the matches, null when none": Case(
        "C+",
        "money",
        ("100", "200.50", "1,000元"),
        "5",
        (None, None, Decimal("100.00"), Decimal("300.50"), Decimal("1300.50")),
    ),
    "COLLECT MIN takes the smallest match, null when none": Case(
        "C<",
        "money",
        ("300", "200.50", "100"),
        None,
        (None, None, Decimal("300.00"), Decimal("200.50"), Decimal("100.00")),
    ),
    "COLLECT MAX takes the largest match, null when none": Case(
        "收集最大",
        "integer",
        ("1", "3", "2"),
        None,
        (None, None, Decimal(1), Decimal(3), Decimal(3)),
    ),
    "COLLECT COUNT counts distinct matched outputs, 0 when none": Case(
        "C#",
        "text",
        ("甲", "甲", "乙"),
        None,
        (Decimal(0), Decimal(0), Decimal(1), Decimal(1), Decimal(2)),
    ),
}


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_hit_policy_decides_as_documented(
    case: Case, tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    project = open_grade(
        tmp_path, grade_table(case.policy, case.output_type, case.outputs, case.default)
    )
    plan = project.plan(COUNTY)
    cases = [
        (s, e)
        for s, e in zip(SCORES, case.expected, strict=True)
        if s not in (85, 95) or case.policy != "UNIQUE"
    ]
    people = [household(s) for s, _ in cases]
    ours = [interpret(plan, AS_OF, p).household["out"] for p in people]
    prepare(con, plan, AS_OF, people)
    theirs = [row["out"] for row in relations(con, plan).households]
    expected = [e for _, e in cases]
    assert ours == expected
    assert theirs == expected


@pytest.mark.parametrize(
    ("written", "policy", "aggregation"),
    [
        (written, policy, aggregation)
        for names, policy, aggregation in (
            (("UNIQUE", "U", "唯一"), HitPolicy.UNIQUE, None),
            (("ANY", "A", "任一"), HitPolicy.ANY, None),
            (("PRIORITY", "P", "优先"), HitPolicy.PRIORITY, None),
            (("FIRST", "F", "首个", "first"), HitPolicy.FIRST, None),
            (
                ("RULE ORDER", "R", "规则顺序", "rule  order"),
                HitPolicy.RULE_ORDER,
                None,
            ),
            (("OUTPUT ORDER", "O", "输出顺序"), HitPolicy.OUTPUT_ORDER, None),
            (("COLLECT", "C", "收集"), HitPolicy.COLLECT, None),
            (("COLLECT SUM", "C+", "收集求和"), HitPolicy.COLLECT, Aggregation.SUM),
            (("COLLECT MIN", "C<", "收集最小"), HitPolicy.COLLECT, Aggregation.MIN),
            (("COLLECT MAX", "C>", "收集最大"), HitPolicy.COLLECT, Aggregation.MAX),
            (("COLLECT COUNT", "C#", "收集计数"), HitPolicy.COLLECT, Aggregation.COUNT),
        )
        for written in names
    ],
)
def test_every_documented_spelling_of_a_hit_policy_is_read(
    written: str, policy: HitPolicy, aggregation: Aggregation | None, tmp_path: Path
) -> None:
    # PRIORITY and OUTPUT ORDER rank by an enum's declared order (E208 otherwise)
    ordered = policy in (HitPolicy.PRIORITY, HitPolicy.OUTPUT_ORDER)
    outputs = ("a", "b", "c") if ordered else ("1", "2", "3")
    output_type = "enum(a,b,c)" if ordered else "integer"
    project = open_grade(tmp_path, grade_table(written, output_type, outputs, None))
    table = project.plan(COUNTY).tables["grade"]
    assert (table.hit_policy, table.aggregation) == (policy, aggregation)


def test_priority_follows_the_enum_order_not_the_row_order(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    table = grade_table("P", "enum(high,low)", ("low", "high", "low"), None)
    plan = open_grade(tmp_path, table).plan(COUNTY)
    people = [household(85)]  # R1 (low) and R2 (high) match; R1 comes first in the rows
    evaluation = interpret(plan, AS_OF, people[0])
    prepare(con, plan, AS_OF, people)
    assert evaluation.household["out"] == "high"
    assert relations(con, plan).households[0]["out"] == "high"
    assert [entry.rule for entry in evaluation.trace] == ["R2"]


def test_output_order_sorts_by_the_enum_and_keeps_row_order_among_equals(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    table = grade_table("OUTPUT ORDER", "enum(a,b,c)", ("c", "a", "c"), None)
    plan = open_grade(tmp_path, table).plan(COUNTY)
    people = [household(95)]
    prepare(con, plan, AS_OF, people)
    assert interpret(plan, AS_OF, people[0]).household["out"] == ["a", "c", "c"]
    assert relations(con, plan).households[0]["out"] == ["a", "c", "c"]
    assert interpret(plan, AS_OF, people[0]).trace[0].rules == ["R2", "R1", "R3"]


BROKEN = {
    "UNIQUE with two matches": (
        "UNIQUE",
        ("pass", "good", "excellent"),
        85,
        "E601",
        "家庭 H85 在决策表「grade」中命中多条规则：R1（第 6 行）、R2（第 7 行）",
    ),
    "UNIQUE with three matches": (
        "唯一",
        ("pass", "good", "excellent"),
        95,
        "E601",
        "家庭 H95 在决策表「grade」中命中多条规则：R1（第 6 行）、R2（第 7 行）、R3（第 8 行）",
    ),
    "ANY whose matches disagree": (
        "ANY",
        ("pass", "pass", "excellent"),
        95,
        "E602",
        "家庭 H95 在决策表「grade」中命中的规则输出不一致：R1（第 6 行）、R2（第 7 行）、R3（第 8 行）",
    ),
}


@pytest.mark.parametrize(
    ("policy", "outputs", "score", "code", "message"),
    list(BROKEN.values()),
    ids=list(BROKEN),
)
def test_broken_contract_names_household_and_rules_in_both_evaluators(
    policy: str,
    outputs: tuple[str, str, str],
    score: int,
    code: str,
    message: str,
    tmp_path: Path,
    con: duckdb.DuckDBPyConnection,
) -> None:
    project = open_grade(tmp_path, grade_table(policy, LEVELS, outputs, "fail"))
    people = [household(60), household(score)]
    with pytest.raises(EvaluationError) as ours:
        interpret(project.plan(COUNTY), AS_OF, people[1])
    with pytest.raises(EvaluationError) as theirs:
        decide(con, project, AS_OF, people)
    for caught in (ours.value, theirs.value):
        assert caught.diagnostics[0].code == code
        assert caught.diagnostics[0].message == message
    assert "修改规则使其互不重叠" in (theirs.value.diagnostics[0].hint or "")


def test_engine_decides_a_valid_unique_table(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    table = grade_table("UNIQUE", LEVELS, ("pass", "good", "excellent"), "fail")
    table[5][1] = "[及格线..80)"
    table[6][1] = "[80..90)"
    project = open_grade(tmp_path, table)
    people = [household(s) for s in SCORES]
    rows = decide(con, project, AS_OF, people)
    assert [r["household_id"] for r in rows] == [p["household_id"] for p in people]
    traced = [[t["rule"] for t in r["trace"] if t["table"] == "grade"] for r in rows]
    assert traced == [[None], [None], ["R1"], ["R2"], ["R3"]]


def errors_of(tmp_path: Path, table: list[list[object]]) -> list:  # type: ignore[type-arg]
    root = write_tables(
        tmp_path, {"字段": FIELDS, "标准参数": STANDARDS, "grade": table}
    )
    report = Report()
    open_project(root, [COUNTY], AS_OF, report=report)
    return report.errors


def two_outputs(policy: str) -> list[list[object]]:
    table = grade_table(policy, "money", ("1", "2", "3"), None)
    table[1][2:] = ["输出", "输出", "注释"]
    table[2][2:] = ["out", "out2", "依据"]
    table[3][2:] = ["money", "money", None]
    for row in table[4:]:
        row.insert(3, "5")
    return table


MISFITS = {
    "COLLECT SUM over text": (
        grade_table("C+", "text", ("甲", "乙", "丙"), None),
        "E208",
        "C3",
        "数值",
    ),
    "COLLECT SUM over dates": (
        grade_table("收集求和", "date", ("2025-01-01",) * 3, None),
        "E208",
        "C3",
        "数值",
    ),
    "COLLECT MAX with two outputs": (two_outputs("C>"), "E208", "D3", "只能有一个输出"),
    "COLLECT COUNT with two outputs": (
        two_outputs("C#"),
        "E208",
        "D3",
        "只能有一个输出",
    ),
    "PRIORITY output computed by an expression": (
        grade_table(
            "PRIORITY",
            LEVELS,
            ("pass", "if score > 90 then excellent else good", "good"),
            None,
        ),
        "E306",
        "C6",
        "不能是表达式",
    ),
}


@pytest.mark.parametrize(
    ("table", "code", "cell", "phrase"), list(MISFITS.values()), ids=list(MISFITS)
)
def test_output_the_policy_cannot_combine_is_refused_at_its_cell(
    table: list[list[object]], code: str, cell: str, phrase: str, tmp_path: Path
) -> None:
    found = [e for e in errors_of(tmp_path, table) if e.code == code]
    assert found, f"no {code}"
    assert (found[0].location.sheet, found[0].location.cell) == ("grade", cell)
    assert phrase in found[0].message + (found[0].expected or "")


@pytest.mark.parametrize("store", [True, False], ids=["stored", "read-once"])
@pytest.mark.parametrize("trace", ["full", "compact", "none"])
@pytest.mark.parametrize("level", ["家庭", "成员"])
def test_broken_unique_contract_raises_whatever_the_trace_mode(
    trace: str, level: str, store: bool, tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    table = grade_table("UNIQUE", LEVELS, ("pass", "good", "excellent"), "fail")
    table[0][3] = f"层级={level}"
    project = open_grade(tmp_path, table)
    people = [{**household(85), "members": [{"person_id": "P1"}]}]
    prepare(con, project.plan(COUNTY), AS_OF, people)
    with pytest.raises(EvaluationError) as caught:
        try:
            run_programs(con, project, [COUNTY], trace=trace, store=store)
            fetch(con, "SELECT household_id FROM jz_decisions")  # the rule column unread
        except duckdb.Error as error:
            raise contract_error(error) or error from None
    assert caught.value.diagnostics[0].code == "E601"


def test_any_table_whose_rules_all_give_the_same_output_compiles_no_conflict_check(
    tmp_path: Path,
) -> None:
    agreeing = open_grade(tmp_path / "a", grade_table("ANY", LEVELS, ("pass", "pass", "pass"), "fail"))
    disagreeing = open_grade(tmp_path / "d", grade_table("ANY", LEVELS, ("pass", "good", "pass"), "fail"))
    # the same output text on every rule cannot disagree, so the per-row check is left out
    assert "E602" not in agreeing.program(COUNTY, trace="none").sql
    assert "E602" in disagreeing.program(COUNTY, trace="none").sql


def test_a_collect_tables_trace_cites_every_matching_rule_and_its_section_once(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    """The trace of a COLLECT table named every rule but only the first one's cell and
    section, so an entitlement was attributed to another's clause (helper-38). Both
    evaluators now give every matching rule's cell, and each section once."""
    table = grade_table("COLLECT", "text", ("p", "g", "e"), None)
    table[-1][3] = "第一条"  # R3 cites what R1 cites
    project = open_grade(tmp_path, table)
    people = [household(95), household(50)]
    rows = decide(con, project, AS_OF, people)
    plan = project.plan(COUNTY)
    for person, row in zip(people, rows, strict=True):
        [sql] = [t for t in row["trace"] if t["table"] == "grade"]
        [ours] = [t for t in interpret(plan, AS_OF, person).trace if t.table == "grade"]
        assert (sql["cell"], sql["section"] or "") == (ours.cell, ours.section)
    [top] = [t for t in rows[0]["trace"] if t["table"] == "grade"]
    assert top["rule"] == "R1,R2,R3"
    assert [c.rsplit(":", 1)[1] for c in top["cell"].split(",")] == ["grade!A5", "grade!A6", "grade!A7"]
    assert top["section"] == "第一条；第二条"
