"""Golden pairs: a tiny table in (a CSV folder read by the real passes), the SQL it must
compile to out (the fragments that carry its meaning), and the decisions that SQL
gives when DuckDB runs it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from compiler.sqlgen import compile_plan, literal
from tests.helpers import (
    COUNTY,
    STANDARDS_HEADER,
    decide,
    interpret,
    open_clean,
    write_tables,
)

AS_OF = date(2025, 6, 1)
FIXTURES = Path(__file__).parent / "fixtures"
FIELDS = [
    ["标识", "名称", "层级", "类型", "默认", "说明"],
    ["household_id", "家庭编号", "家庭", "text", None, None],
    ["county_code", "县代码", "家庭", "text", None, None],
    ["income.monthly", "人均月收入", "家庭", "money", None, None],
    ["household.size", "家庭人数", "家庭", "integer", None, None],
    ["person_id", "成员编号", "成员", "text", None, None],
]
STANDARDS = [
    STANDARDS_HEADER,
    [
        "dibao_standard",
        "低保标准",
        "1,301",
        "元/人/月",
        "2025-01-01",
        None,
        "杭民发",
        None,
        "money",
        "是",
        None,
        None,
        None,
    ],
    [
        "marginal_multiplier",
        "边缘倍数",
        "1.5",
        "倍",
        "2025-01-01",
        None,
        "意见二",
        None,
        "number",
        "否",
        None,
        None,
        None,
    ],
]
DERIVED = [
    ["标识", "名称", "层级", "类型", "表达式", "依据"],
    ["marginal_line", "边缘标准", "家庭", "money", "边缘倍数 * 低保标准", "二"],
]


def table(
    policy: str,
    inputs: list[tuple[str, str]],
    output: tuple[str, str],
    default: str | None,
    rules: list[tuple[str, list[str | None], str, str]],
) -> list[list[object]]:
    """A table ``t`` with the given inputs (name, type), one output (id, type) and rules
    (id, tests, output, annotation)."""
    rows: list[list[object]] = [
        ["t", "测试表", policy, "层级=家庭"],
        ["规则", *["输入"] * len(inputs), "输出", "注释"],
        ["名称", *[name for name, _ in inputs], output[0], "依据"],
        ["类型", *[kind for _, kind in inputs], output[1], None],
    ]
    if default is not None:
        rows.append(["默认", *[None] * len(inputs), default, None])
    rows += [[rule, *tests, out, note] for rule, tests, out, note in rules]
    return rows


@dataclass
class Golden:
    table: list[list[object]]
    fragments: list[str]
    households: list[dict]
    output: str
    expected: list[object]


def hh(ident: str, income: str | None = None, size: int | None = None) -> dict:
    return {
        "household_id": ident,
        "income.monthly": None if income is None else Decimal(income),
        "household.size": None if size is None else Decimal(size),
    }


GOLDEN = {
    "FIRST is a CASE over match flags in row order with the default last": Golden(
        table(
            "FIRST",
            [("人均月收入", "money")],
            ("group", "enum(dibao,dibao_marginal,none)"),
            "none",
            [
                ("dibao", ["< 低保标准"], "dibao", "三(一)"),
                ("marginal", ["(低保标准..边缘标准)"], "dibao_marginal", "二"),
            ],
        ),
        [
            "-- decision table t (测试表), FIRST, tables/province:t!A1: inputs",
            '"income.monthly" AS "t.__in1"',
            "-- rule dibao: tables/province:t!A6 [三(一)]",
            'coalesce(((h."t.__in1" < "dibao_standard")), FALSE) AS "t.__r1"',
            "-- rule marginal: tables/province:t!A7 [二]",
            (
                'coalesce((((h."t.__in1" > "dibao_standard" AND h."t.__in1" < "marginal_line")))'
                ', FALSE) AS "t.__r2"'
            ),
            "-- decision table t: outputs by hit policy FIRST",
            (
                "CASE WHEN h.\"t.__r1\" THEN CAST('dibao' AS VARCHAR)"
                " WHEN h.\"t.__r2\" THEN CAST('dibao_marginal' AS VARCHAR)"
                " ELSE CAST('none' AS VARCHAR) END AS \"group\""
            ),
            'CASE WHEN h."t.__r1" THEN 1 WHEN h."t.__r2" THEN 2 END AS "t.__rule"',
        ],
        [
            hh("A", "1300.99"),
            hh("B", "1301.00"),
            hh("C", "1301.01"),
            hh("D", "1951.50"),
            hh("E"),
        ],
        "group",
        ["dibao", "none", "dibao_marginal", "none", "none"],
    ),
    "money literals are typed decimals and ranges compare both ends": Golden(
        table(
            "FIRST",
            [("人均月收入", "money")],
            ("group", "enum(low,mid,none)"),
            "none",
            [
                ("low", ["[0..1,301.50]"], "low", "一"),
                ("mid", ["]1,301.50..1.2万元["], "mid", "二"),
            ],
        ),
        [
            "CAST('1301.50' AS DECIMAL(18,2))",
            "CAST('12000.0' AS DECIMAL(18,1))",
            "(h.\"t.__in1\" >= CAST('0' AS DECIMAL(18,0)) AND h.\"t.__in1\" <= CAST('1301.50' AS DECIMAL(18,2)))",
            "(h.\"t.__in1\" > CAST('1301.50' AS DECIMAL(18,2)) AND h.\"t.__in1\" < CAST('12000.0' AS DECIMAL(18,1)))",
        ],
        [
            hh("A", "1301.50"),
            hh("B", "1301.51"),
            hh("C", "11999.99"),
            hh("D", "12000.00"),
            hh("E", "-0.01"),
        ],
        "group",
        ["low", "mid", "mid", "none", "none"],
    ),
    "lists, not() and null become OR, NOT and IS NULL": Golden(
        table(
            "FIRST",
            [("household.size", "integer")],
            ("group", "enum(one,other,unknown,none)"),
            "none",
            [
                ("one", ["1, 2"], "one", "一"),
                ("unknown", ["null"], "unknown", "二"),
                ("other", ["not(1, 2)"], "other", "三"),
            ],
        ),
        [
            # an integer column is compared with 64-bit integers, not decimals
            "coalesce(((h.\"t.__in1\" = CAST(1 AS BIGINT)) OR (h.\"t.__in1\" = CAST(2 AS BIGINT))), FALSE)",
            'coalesce(((h."t.__in1" IS NULL)), FALSE)',
            "coalesce((NOT ((h.\"t.__in1\" = CAST(1 AS BIGINT)) OR (h.\"t.__in1\" = CAST(2 AS BIGINT)))), FALSE)",
        ],
        [hh("A", size=1), hh("B", size=2), hh("C", size=3), hh("D")],
        "group",
        ["one", "one", "other", "unknown"],
    ),
    "COLLECT flattens one single-item list per matched rule": Golden(
        table(
            "COLLECT",
            [("household.size", "integer")],
            ("entitlements", "text"),
            None,
            [("edu", [">= 2"], "教育救助", "一"), ("med", ["-"], "医疗救助", "二")],
        ),
        [
            (
                "flatten([CASE WHEN h.\"t.__r1\" THEN [CAST('教育救助' AS VARCHAR)]"
                " ELSE CAST([] AS VARCHAR[]) END,"
                " CASE WHEN h.\"t.__r2\" THEN [CAST('医疗救助' AS VARCHAR)]"
                ' ELSE CAST([] AS VARCHAR[]) END]) AS "entitlements"'
            ),
        ],
        [hh("A", size=1), hh("B", size=3), hh("C")],
        "entitlements",
        [["医疗救助"], ["教育救助", "医疗救助"], ["医疗救助"]],
    ),
    "COLLECT SUM adds the matched outputs with list_sum": Golden(
        table(
            "C+",
            [("household.size", "integer")],
            ("income_per_capita", "money"),
            None,
            [
                ("base", [">= 1"], "低保标准", "一"),
                ("extra", [">= 3"], "100.005", "二"),
            ],
        ),
        [
            'CAST(list_sum(flatten([CASE WHEN h."t.__r1" THEN [CAST("dibao_standard" AS DECIMAL(18,2))]',
            "CAST(CAST('100.005' AS DECIMAL(18,3)) AS DECIMAL(18,2))",
        ],
        [hh("A", size=0), hh("B", size=1), hh("C", size=3)],
        "income_per_capita",
        [None, Decimal("1301.00"), Decimal("1401.01")],
    ),
}


def open_golden(
    tmp_path: Path, rows: list[list[object]], monkeypatch: pytest.MonkeyPatch
):  # type: ignore[no-untyped-def]
    write_tables(
        tmp_path / "tables",
        {"字段": FIELDS, "标准参数": STANDARDS, "派生值": DERIVED, "t": rows},
    )
    monkeypatch.chdir(tmp_path)  # cells render as tables/province:t!A6
    return open_clean(Path("tables"), AS_OF)


@pytest.mark.parametrize("golden", list(GOLDEN.values()), ids=list(GOLDEN))
def test_table_compiles_to_its_golden_sql_and_decides(
    golden: Golden,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    con: duckdb.DuckDBPyConnection,
) -> None:
    project = open_golden(tmp_path, golden.table, monkeypatch)
    sql = compile_plan(project.plan(COUNTY)).sql
    for fragment in golden.fragments:
        assert fragment in sql
    decisions = decide(con, project, AS_OF, golden.households)
    assert [row[golden.output] for row in decisions] == golden.expected
    ours = [
        interpret(project.plan(COUNTY), AS_OF, h).household[golden.output]
        for h in golden.households
    ]
    assert ours == golden.expected


def test_derived_value_carries_its_formula_basis_and_cell_as_a_comment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = GOLDEN[
        "FIRST is a CASE over match flags in row order with the default last"
    ].table
    sql = compile_plan(open_golden(tmp_path, rows, monkeypatch).plan(COUNTY)).sql
    assert (
        "-- marginal_line (边缘标准) = 边缘倍数 * 低保标准 [二] tables/province:派生值!A2\n"
        in sql
    )
    # a value of standards only is computed once per county, on the standards' rows
    assert (
        'SELECT s.*, CAST((CAST("marginal_multiplier" AS DECIMAL(38,4)) * "dibao_standard")'
        ' AS DECIMAL(18,2)) AS "marginal_line"\nFROM "std" s' in sql
    )


def test_unique_table_raises_inside_duckdb_naming_household_and_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = table(
        "UNIQUE",
        [("household.size", "integer")],
        ("group", "enum(a,b)"),
        None,
        [("R1", [">= 1"], "a", "一"), ("R2", [">= 2"], "b", "二")],
    )
    sql = compile_plan(open_golden(tmp_path, rows, monkeypatch).plan(COUNTY)).sql
    assert "THEN error('E601|t|' || CAST(h.household_id AS VARCHAR)" in sql
    assert "'R1（第 5 行）', 'R2（第 6 行）'" in sql


LITERALS = [
    (Decimal("1301.50"), None, "CAST('1301.50' AS DECIMAL(18,2))"),
    (Decimal("-0.005"), None, "CAST('-0.005' AS DECIMAL(18,3))"),
    (Decimal(12000), None, "CAST('12000' AS DECIMAL(18,0))"),
    (
        Decimal("123456789012345678.5"),
        None,
        "CAST('123456789012345678.5' AS DECIMAL(38,1))",
    ),
    (True, None, "TRUE"),
    (date(2025, 4, 7), None, "DATE '2025-04-07'"),
    ("O'Brien", None, "'O''Brien'"),
    (None, None, "NULL"),
]


@pytest.mark.parametrize(
    ("value", "dtype", "sql"), LITERALS, ids=[s for _, _, s in LITERALS]
)
def test_parsed_values_become_typed_sql_literals(
    value: object, dtype: object, sql: str
) -> None:
    assert literal(value) == sql


SMOKE_HOUSEHOLDS = [
    {
        "household_id": "A",
        "assets.money": Decimal(0),
        "members": [
            {
                "person_id": "A1",
                "birth_date": date(1965, 6, 1),
                "income.wage": Decimal(15600),
            }
        ],
        "events": [
            {
                "event.type": "unemployment_registration",
                "event.date": date(2024, 12, 27),
                "event.person_id": "A1",
            }
        ],
    },
    {
        "household_id": "B",
        "assets.money": Decimal(0),
        "members": [
            {
                "person_id": "B1",
                "birth_date": date(1965, 6, 2),
                "income.wage": Decimal(15612),
            }
        ],
    },
    {
        "household_id": "C",
        "assets.money": Decimal("93671.99"),
        "members": [{"person_id": "C1", "income.wage": Decimal("15612.12")}],
    },
    {
        "household_id": "D",
        "members": [{"person_id": "D1", "income.wage": Decimal(31224)}],
    },
    {"household_id": "E"},
]


def test_smoke_workbook_decides_the_province_example(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, con: duckdb.DuckDBPyConnection
) -> None:
    shutil.copytree(FIXTURES / "smoke" / "tables", tmp_path / "tables")
    monkeypatch.chdir(tmp_path)
    project = open_clean(Path("tables"), AS_OF)
    rows = {r["household_id"]: r for r in decide(con, project, AS_OF, SMOKE_HOUSEHOLDS)}
    assert {h: r["group"] for h, r in rows.items()} == {
        "A": "dibao",
        "B": "none",
        "C": "dibao_marginal",
        "D": "none",
        "E": "none",
    }
    assert rows["A"]["dibao_standard"] == Decimal(
        "1301.00"
    )  # the county's, not the province's
    assert rows["A"]["marginal_line"] == Decimal("2602.00")
    assert [rows[h]["income_per_capita"] for h in "ABCDE"] == [
        Decimal("1300.00"),
        Decimal("1301.00"),
        Decimal("1301.01"),
        Decimal("2602.00"),
        None,
    ]
    assert rows["A"]["tekun_members"] == ["A1"] and rows["B"]["tekun_members"] == []
    assert rows["A"]["alerts"] == [
        {
            "type": "unemployment_registration",
            "person_id": "A1",
            "raised_on": date(2024, 12, 27),
            "due": date(2025, 1, 13),  # 1 January is a holiday
        }
    ]
    first = rows["A"]["trace"][0]
    assert (first["table"], first["rule"], first["section"]) == (
        "household_group",
        "dibao",
        "三(一)",
    )
    assert first["cell"] == "province:household_group!A6"  # relative to the tables folder


UNTRANSLATABLE = {
    "round to a household's number of digits": (
        "round(income.monthly, household.size)",
        "C5",
    ),
    "round to a standard's number of digits": ("round(income.monthly, 边缘倍数)", "C5"),
}


@pytest.mark.parametrize(
    ("output", "cell"), list(UNTRANSLATABLE.values()), ids=list(UNTRANSLATABLE)
)
def test_construct_duckdb_cannot_run_is_refused_at_its_cell(
    output: str, cell: str, tmp_path: Path
) -> None:
    from compiler.diagnostics import Report
    from compiler.engine import open_project

    rows = table(
        "FIRST",
        [("household.size", "integer")],
        ("amount", "money"),
        None,
        [("R1", ["-"], output, "一")],
    )
    write_tables(
        tmp_path, {"字段": FIELDS, "标准参数": STANDARDS, "派生值": DERIVED, "t": rows}
    )
    report = Report()
    open_project(tmp_path, [COUNTY], AS_OF, report=report)
    found = [d for d in report.errors if d.code == "E306"]
    assert found and (found[0].location.sheet, found[0].location.cell) == ("t", cell)
    assert "round" in found[0].message


def test_round_to_a_written_number_of_digits_compiles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, con: duckdb.DuckDBPyConnection
) -> None:
    rows = table(
        "FIRST",
        [("household.size", "integer")],
        ("income_per_capita", "money"),
        None,
        [("R1", ["-"], "round(人均月收入 / 3, 1) + round(-2.5)", "一")],
    )
    project = open_golden(tmp_path, rows, monkeypatch)
    row = decide(con, project, AS_OF, [hh("A", "1000.00")])[0]
    assert row["income_per_capita"] == Decimal(
        "330.30"
    )  # 333.3 + (-3): half away from zero


def test_counties_sharing_tables_decide_with_their_own_standards(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    from compiler.engine import install_standards, open_project, run_programs
    from tests.helpers import fetch, install_inputs

    rows = GOLDEN[
        "FIRST is a CASE over match flags in row order with the default last"
    ].table
    write_tables(
        tmp_path, {"字段": FIELDS, "标准参数": STANDARDS, "派生值": DERIVED, "t": rows}
    )
    other = tmp_path / "counties" / "330108-滨江区"
    other.mkdir()
    (other / "标准参数.csv").write_text(
        "标识,值,生效日期,来源\ndibao_standard,1200,2025-01-01,滨政\n", encoding="utf-8"
    )
    project = open_project(tmp_path, ["330106", "330108"], AS_OF)
    assert not project.report.has_errors
    install_standards(con, project.plans, AS_OF)
    people = [
        {**hh("A", "1250.00"), "county_code": "330106"},
        {**hh("B", "1250.00"), "county_code": "330108"},
    ]
    install_inputs(con, project.plan("330106").rulebook.fields, people)
    run_programs(con, project, ["330106", "330108"])
    rows_out = {r["household_id"]: r for r in fetch(con, "SELECT * FROM jz_decisions")}
    assert rows_out["A"]["dibao_standard"] == Decimal("1301.00")
    assert rows_out["A"]["group"] == "dibao"
    assert rows_out["B"]["dibao_standard"] == Decimal("1200.00")
    assert (
        rows_out["B"]["group"] == "dibao_marginal"
    )  # (1200..1800): above its own standard


def test_counties_whose_plans_compile_alike_share_one_program_and_an_override_gets_its_own(
    tmp_path: Path,
) -> None:
    """A province-wide evaluation compiles once for the counties that share the province's
    tables (compiling all ninety took 4 s), never for a county with its own table."""
    from compiler.engine import open_project
    from tests.test_registry import COUNTY as OWN
    from tests.test_registry import GROUP_TABLE, OTHER, write_rulebook

    stricter = [row[:] for row in GROUP_TABLE]
    stricter[5][2] = "< 3 * 12 * 低保标准"  # the county's own dibao asset rule
    write_rulebook(tmp_path / "shared")
    write_rulebook(tmp_path / "own", extra={"household_group": stricter})
    shared = open_project(tmp_path / "shared", [OWN, OTHER], AS_OF)
    assert shared.program(OWN, trace="none") is shared.program(OTHER, trace="none")
    own = open_project(tmp_path / "own", [OWN, OTHER], AS_OF)
    assert not own.report.has_errors, own.report.errors
    for code in (OWN, OTHER):
        alone = compile_plan(own.plan(code), trace="none").sql
        assert own.program(code, trace="none").sql == alone
    assert own.program(OWN, trace="none").sql != own.program(OTHER, trace="none").sql
