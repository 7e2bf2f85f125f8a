"""Hostile cell text compiles to SQL that treats it as data (STYLE habit 6).

Text from a cell reaches the compiled SQL as a value (an output, a test operand), as
a trace value (rule id, cell reference, annotation) or inside a comment (titles,
names, formulas). Each case runs the query on DuckDB, checks that every table is
still there afterwards and that the text comes back exactly as the reader folded it
(line breaks become spaces there, by design). Identifiers cannot carry hostile text:
the loader refuses them with E211.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from compiler.diagnostics import Report
from compiler.engine import open_project
from compiler.normalise import fold_text
from compiler.sqlgen import comment, compile_plan
from tests.helpers import COUNTY, decide, interpret, open_clean, write_tables

AS_OF = date(2025, 6, 1)
DROP = "'); DROP TABLE households; --"
HOSTILE = {
    "quote close and drop": DROP,
    "double quote close and drop": '"; DROP TABLE jz_households; --',
    "doubled quotes": "it''s '' \"\"",
    "backslashes": "C:\\temp\\' \\\\ \\n",
    "line comment": "-- SELECT 1",
    "block comment": "/* DROP TABLE households */ x */",
    "semicolons": "a; b; DELETE FROM jz_households;",
    "line breaks": "第一行\r\n'); DROP TABLE households; --\n第三行",
    # marks that reverse the text (U+202E) are refused by E011 (tests/test_reordering_text.py)
    "unicode": "特困 ✓ 𠀀 👨\u200d👩 \u200eLTR\u200e é\u0301",
    "format strings": "%s %d {0} $1 ? :name $$ E'\\x41'",
    "very long": "长" * 3000 + DROP,
}
FIELDS = [
    ["标识", "名称", "层级", "类型", "默认", "说明"],
    ["household_id", "家庭编号", "家庭", "text", None, None],
    ["county_code", "县代码", "家庭", "text", None, None],
    ["note", "备注", "家庭", "text", None, None],
    ["person_id", "成员编号", "成员", "text", None, None],
]
STANDARDS = [
    ["标识", "名称", "值", "生效日期", "类型"],
    ["dibao_standard", "低保标准", "1301", "2025-01-01", "money"],
]


def text_table(
    output: object = "safe",
    annotation: object = "一",
    rule: object = "R1",
    title: object = "文本表",
    test: object = "-",
) -> list[list[object]]:
    return [
        ["t", title, "FIRST", "层级=家庭"],
        ["规则", "输入", "输出", "注释"],
        ["名称", "note", "out", "依据"],
        ["类型", "text", "text", None],
        [rule, test, output, annotation],
    ]


def run_hostile(
    root: Path, con: duckdb.DuckDBPyConnection, note: str | None = None
) -> tuple[dict, object]:
    """Decide one household with both evaluators, with a sentinel table beside the
    input; returns the decision row and the interpreter's evaluation."""
    project = open_clean(root, AS_OF)
    con.execute("CREATE TABLE households AS SELECT 42 AS answer")
    people = [{"household_id": "H1", "note": note}]
    rows = decide(con, project, AS_OF, people)
    tables = {
        r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()
    }
    assert {"households", "jz_households", "jz_members", "jz_events"} <= tables
    assert con.execute("SELECT answer FROM households").fetchall() == [(42,)]
    assert con.execute("SELECT count(*) FROM jz_households").fetchone() == (1,)
    return rows[0], interpret(project.plan(COUNTY), AS_OF, people[0])


def out_of(row: dict) -> dict:
    return next(t for t in row["trace"] if t["table"] == "t")


@pytest.mark.parametrize("text", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_output_text_comes_back_verbatim(
    text: str, tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    root = write_tables(
        tmp_path, {"字段": FIELDS, "标准参数": STANDARDS, "t": text_table(output=text)}
    )
    row, evaluation = run_hostile(root, con)
    expected = fold_text(text)
    assert out_of(row)["outcome"] == expected
    assert evaluation.household["out"] == expected


@pytest.mark.parametrize("text", list(HOSTILE.values()), ids=list(HOSTILE))
def test_hostile_annotation_rule_id_and_title_stay_data(
    text: str, tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    table = text_table(annotation=text, rule="R1" + text, title=text)
    root = write_tables(tmp_path, {"字段": FIELDS, "标准参数": STANDARDS, "t": table})
    row, _ = run_hostile(root, con)
    entry = out_of(row)
    assert entry["section"] == fold_text(text)
    assert entry["rule"] == fold_text("R1" + text)


@pytest.mark.parametrize(
    "text",
    [DROP, '“"; DROP TABLE jz_households; --”', "it's -- /* */ ; \\"],
    ids=["quote", "double", "mixed"],
)
def test_hostile_text_in_a_test_operand_matches_the_same_text_in_the_data(
    text: str, tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    operand = text if text.startswith("“") else '"' + text + '"'
    value = text.strip("“”")
    table = text_table(output="matched", test=operand)
    root = write_tables(tmp_path, {"字段": FIELDS, "标准参数": STANDARDS, "t": table})
    row, evaluation = run_hostile(root, con, note=value)
    assert out_of(row)["outcome"] == "matched"
    assert evaluation.household["out"] == "matched"


def test_hostile_sheet_and_folder_names_reach_the_trace_as_data(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    sheet = "t'); DROP TABLE households; --"
    root = tmp_path / 'o\'brien; -- "x"' / "tables"
    write_tables(root, {"字段": FIELDS, "标准参数": STANDARDS, sheet: text_table()})
    row, _ = run_hostile(root, con)
    # the trace names the cell relative to the tables folder; the folder's name is in
    # the SQL's comments, which run_hostile has run
    assert out_of(row)["cell"] == f"province:{sheet}!A5"


def test_hostile_derived_name_formula_text_and_basis_stay_inside_comments(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    derived = [
        ["标识", "名称", "层级", "类型", "表达式", "依据"],
        [
            "twice",
            "两倍\n'); DROP TABLE households; --",
            "家庭",
            "money",
            "2 * 低保标准",
            "*/ \r\n DROP TABLE households; --",
        ],
    ]
    table = text_table()
    table[2][1] = "twice"
    table[3][1] = "money"
    root = write_tables(
        tmp_path, {"字段": FIELDS, "标准参数": STANDARDS, "派生值": derived, "t": table}
    )
    run_hostile(root, con)
    sql = compile_plan(open_clean(root, AS_OF).plan(COUNTY)).sql
    assert not any(line.lstrip().startswith("DROP") for line in sql.splitlines())


COMMENTS = [
    "a\nDROP TABLE x",
    "a\rDROP TABLE x",
    "a\u2028DROP",
    "a\x0bDROP",
    "a\x85DROP",
    "-- x\n\n;",
]


@pytest.mark.parametrize("text", COMMENTS, ids=[repr(t) for t in COMMENTS])
def test_a_comment_is_one_line_whatever_the_text(text: str) -> None:
    rendered = comment(text)
    assert rendered.startswith("-- ")
    assert len(rendered.splitlines()) == 1
    assert all(c not in rendered for c in "\r\n\x0b\x0c\x85\u2028\u2029")


ILLEGAL_IDENTIFIERS = {
    "table id": ("t", "A1", lambda s, bad: s["t"][0].__setitem__(0, bad)),
    "output id": ("t", "C3", lambda s, bad: s["t"][2].__setitem__(2, bad)),
    "field id": ("字段", "A4", lambda s, bad: s["字段"][3].__setitem__(0, bad)),
    "standard id": (
        "标准参数",
        "A2",
        lambda s, bad: s["标准参数"][1].__setitem__(0, bad),
    ),
}
BAD_IDENTIFIERS = ['t"); DROP TABLE households; --', "out'; --", "a b", 'x"y', "表"]


@pytest.mark.parametrize("bad", BAD_IDENTIFIERS)
@pytest.mark.parametrize(
    ("sheet", "cell", "edit"),
    list(ILLEGAL_IDENTIFIERS.values()),
    ids=list(ILLEGAL_IDENTIFIERS),
)
def test_identifier_that_could_break_quoting_is_refused_with_e211(
    sheet: str,
    cell: str,
    edit,
    bad: str,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    sheets = {
        "字段": [list(r) for r in FIELDS],
        "标准参数": [list(r) for r in STANDARDS],
        "t": text_table(),
    }
    edit(sheets, bad)
    write_tables(tmp_path, sheets)
    report = Report()
    open_project(tmp_path, [COUNTY], AS_OF, report=report)
    found = [d for d in report.errors if d.code == "E211"]
    assert found, [d.code for d in report.errors]
    assert found[0].location.sheet == sheet and found[0].location.cell == cell
    assert found[0].found == fold_text(bad)
