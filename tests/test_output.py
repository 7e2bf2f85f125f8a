"""Writing decisions: each format keeps the contract's columns, order and exact money."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from compiler.errors import InputError
from compiler.output import (
    DECISION_COLUMNS,
    decision_records,
    split_csv_list,
    unguarded,
    write_decisions,
)

TRACE = (
    'STRUCT("table" VARCHAR, rule VARCHAR, cell VARCHAR, outcome VARCHAR, section VARCHAR, '
    "person_id VARCHAR)"
)
ALERT = "STRUCT(type VARCHAR, person_id VARCHAR, raised_on DATE, due DATE)"
DECISIONS = f"""
CREATE TABLE decisions (
    household_id VARCHAR, county_code VARCHAR, as_of DATE, version VARCHAR, "group" VARCHAR,
    income_per_capita DECIMAL(18,2), dibao_standard DECIMAL(18,2), marginal_line DECIMAL(18,2),
    tekun_members VARCHAR[], entitlements VARCHAR[], phase_out_from DATE,
    phase_out_until DATE, monitoring VARCHAR, alerts {ALERT}[], trace {TRACE}[]);
INSERT INTO decisions VALUES
  ('H1', '330106', DATE '2025-04-07', 'v3', 'dibao', 1402.5, 1301, 1951.5,
   ['p1', 'p2'], ['dibao_payment', 'medical_assistance'], DATE '2025-05-01',
   DATE '2025-10-31', 'low_income',
   [{{'type': 'unemployment_registration', 'person_id': 'p1',
      'raised_on': DATE '2025-03-03', 'due': DATE '2025-03-10'}}],
   [{{'table': 'household_group', 'rule': 'dibao', 'cell': '省.xlsx:household_group!A6',
      'outcome': 'dibao', 'section': '二; 三(一)', 'person_id': NULL}},
    {{'table': 'tekun_member', 'rule': 't1', 'cell': '省.xlsx:tekun_member!A7',
      'outcome': '是, "特困"', 'section': '三', 'person_id': 'p1'}}]),
  ('H2', '330102', DATE '2025-04-07', '工作副本', 'none', NULL, 1301, 1951.5,
   NULL, [], NULL, NULL, 'none', NULL, []);
"""

FIRST = {
    "household_id": "H1",
    "county_code": "330106",
    "as_of": date(2025, 4, 7),
    "version": "v3",
    "group": "dibao",
    "income_per_capita": Decimal("1402.50"),
    "dibao_standard": Decimal("1301.00"),
    "marginal_line": Decimal("1951.50"),
    "tekun_members": ["p1", "p2"],
    "entitlements": ["dibao_payment", "medical_assistance"],
    "phase_out_from": date(2025, 5, 1),
    "phase_out_until": date(2025, 10, 31),
    "monitoring": "low_income",
    "alerts": [
        {"type": "unemployment_registration", "person_id": "p1",
         "raised_on": date(2025, 3, 3), "due": date(2025, 3, 10)},
    ],
    "trace": [
        {"table": "household_group", "rule": "dibao", "cell": "省.xlsx:household_group!A6",
         "outcome": "dibao", "section": "二; 三(一)", "person_id": None},
        {"table": "tekun_member", "rule": "t1", "cell": "省.xlsx:tekun_member!A7",
         "outcome": '是, "特困"', "section": "三", "person_id": "p1"},
    ],
}  # fmt: skip
SECOND = {
    "household_id": "H2",
    "county_code": "330102",
    "as_of": date(2025, 4, 7),
    "version": "工作副本",
    "group": "none",
    "income_per_capita": None,
    "dibao_standard": Decimal("1301.00"),
    "marginal_line": Decimal("1951.50"),
    "tekun_members": [],
    "entitlements": [],
    "phase_out_from": None,
    "phase_out_until": None,
    "monitoring": "none",
    "alerts": [],
    "trace": [],
}


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    connection.execute(DECISIONS)
    connection.execute("CREATE VIEW d AS SELECT * FROM decisions")
    return connection


def _jsonable(record: dict[str, object]) -> object:
    return json.loads(json.dumps(record, default=str))


def test_records_are_contract_shaped_with_exact_money(
    con: duckdb.DuckDBPyConnection,
) -> None:
    assert decision_records(con, "decisions") == [FIRST, SECOND]


def test_csv_has_the_contract_columns_lists_and_records_joined(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "d.csv"

    assert write_decisions(con, "decisions", out) == 2

    # a byte order mark first, so that Excel and WPS on Chinese Windows read UTF-8
    assert out.read_bytes().startswith(b"\xef\xbb\xbfhousehold_id,")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        header, first, second = list(csv.reader(handle))
    assert tuple(header) == DECISION_COLUMNS
    row = dict(zip(header, first, strict=True))
    assert row["income_per_capita"] == "1402.50" and row["dibao_standard"] == "1301.00"
    assert row["as_of"] == "2025-04-07" and row["phase_out_until"] == "2025-10-31"
    assert row["tekun_members"] == "p1;p2"
    assert row["entitlements"] == "dibao_payment;medical_assistance"
    assert row["alerts"] == "unemployment_registration|p1|2025-03-03|2025-03-10"
    assert row["trace"] == (
        "household_group|dibao|省.xlsx:household_group!A6|dibao|二\\; 三(一)|;"
        'tekun_member|t1|省.xlsx:tekun_member!A7|是, "特困"|三|p1'
    )
    empty = dict(zip(header, second, strict=True))
    assert (empty["income_per_capita"], empty["tekun_members"], empty["alerts"]) == (
        "",
        "",
        "",
    )
    assert empty["trace"] == ""


HOSTILE = ["a;b", "c|d", "e\\f", "g\\;h|", "行一\n行二", "\\", ";|;", "", "x\r\ny"]


def test_csv_lists_round_trip_hostile_values(tmp_path: Path) -> None:
    con = duckdb.connect()
    con.execute(DECISIONS)
    alerts = [
        {"type": text, "person_id": HOSTILE[-1 - i], "raised_on": None,
         "due": date(2025, 1, 2)}
        for i, text in enumerate(HOSTILE)
    ]  # fmt: skip
    trace = [
        {"table": text, "rule": "r", "cell": text * 2, "outcome": None,
         "section": "三(一);R-N2", "person_id": text}
        for text in HOSTILE
    ]  # fmt: skip
    con.execute(
        "UPDATE decisions SET tekun_members = ?, entitlements = ?, alerts = ?, "
        "trace = ? WHERE household_id = 'H1'",
        [HOSTILE, HOSTILE[::-1], alerts, trace],
    )
    out = tmp_path / "d.csv"

    write_decisions(con, "decisions", out)

    with out.open(encoding="utf-8-sig", newline="") as handle:
        [row] = [r for r in csv.DictReader(handle) if r["household_id"] == "H1"]
    assert split_csv_list(row["tekun_members"]) == [[t] for t in HOSTILE]
    assert split_csv_list(row["entitlements"]) == [[t] for t in HOSTILE[::-1]]
    fields = ("type", "person_id", "raised_on", "due")
    assert split_csv_list(row["alerts"]) == [
        [_text(a[f]) for f in fields] for a in alerts
    ]
    fields = ("table", "rule", "cell", "outcome", "section", "person_id")
    assert split_csv_list(row["trace"]) == [[_text(t[f]) for f in fields] for t in trace]


def _text(value: object) -> str:
    return "" if value is None else str(value)


def test_split_csv_list_undoes_escapes() -> None:
    assert split_csv_list("") == []
    assert split_csv_list("a\\;b|\\\\|;|") == [["a;b", "\\", ""], ["", ""]]


def test_jsonl_writes_money_as_two_decimal_strings(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "d.jsonl"

    write_decisions(con, "decisions", out)

    lines = out.read_text(encoding="utf-8").splitlines()
    first, second = (json.loads(line) for line in lines)
    assert list(first) == list(DECISION_COLUMNS)
    assert first == {**_jsonable(FIRST), "dibao_standard": "1301.00"}  # type: ignore[dict-item]
    assert (
        first["income_per_capita"] == "1402.50" and first["marginal_line"] == "1951.50"
    )
    assert second["income_per_capita"] is None and second["tekun_members"] == []
    assert "二; 三(一)" in lines[0]  # Chinese is written as UTF-8, not escaped


def test_parquet_round_trips_native_types(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "d.parquet"

    write_decisions(con, "decisions", out)

    relation = f"read_parquet('{out}')"
    types = [
        row[1] for row in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    ]
    assert types[:3] == ["VARCHAR", "VARCHAR", "DATE"]
    assert types[5:10] == ["DECIMAL(18,2)"] * 3 + ["VARCHAR[]"] * 2
    assert (
        types[13]
        == 'STRUCT("type" VARCHAR, person_id VARCHAR, raised_on DATE, due DATE)[]'
    )
    assert decision_records(con, f"SELECT * FROM {relation}") == [FIRST, SECOND]


def test_a_query_may_stand_for_the_relation(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "d.csv"

    count = write_decisions(
        con, "SELECT * FROM decisions WHERE household_id = 'H2'", out
    )

    assert count == 1
    assert (
        out.read_text(encoding="utf-8")
        .splitlines()[1]
        .startswith("H2,330102,2025-04-07")
    )


def test_writing_replaces_the_file_and_leaves_nothing_else(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "nested" / "d.jsonl"
    out.parent.mkdir()
    out.write_text("old\n", encoding="utf-8")

    write_decisions(con, "decisions", out)

    assert [p.name for p in out.parent.iterdir()] == ["d.jsonl"]
    assert out.read_text(encoding="utf-8").count("\n") == 2


def test_parent_directories_are_created(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "a" / "b" / "d.parquet"

    write_decisions(con, "decisions", out)

    assert out.is_file()


def test_unknown_extension_is_refused_before_writing(
    con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = tmp_path / "d.xlsx"

    with pytest.raises(InputError) as raised:
        write_decisions(con, "decisions", out)

    [diagnostic] = raised.value.diagnostics
    assert diagnostic.code == "E002" and diagnostic.found == ".xlsx"
    assert (
        "决策结果文件的类型不支持" in diagnostic.render()
        and ".jsonl" in diagnostic.render()
    )
    assert not out.exists()


@pytest.mark.parametrize(
    ("query", "phrase"),
    [
        ("SELECT * EXCLUDE (trace) FROM d", "lacks trace"),
        (
            "SELECT * REPLACE (CAST(income_per_capita AS DOUBLE) AS income_per_capita) FROM d",
            "DECIMAL(18,2): income_per_capita",
        ),
    ],
    ids=["missing-column", "inexact-money"],
)
def test_a_relation_off_the_contract_is_a_caller_bug(
    query: str, phrase: str, con: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    with pytest.raises(
        ValueError, match=phrase.replace("(", r"\(").replace(")", r"\)")
    ):
        write_decisions(con, query, tmp_path / "d.csv")


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r", "'"])
def test_csv_text_that_a_spreadsheet_would_run_as_a_formula_gets_an_apostrophe(
    tmp_path: Path, start: str
) -> None:
    con = duckdb.connect()
    con.execute(DECISIONS)
    formula = f"{start}HYPERLINK(\"http://127.0.0.1/x\",\"y\")"
    con.execute(
        "UPDATE decisions SET household_id = ?, tekun_members = ?, alerts = ? "
        "WHERE household_id = 'H1'",
        [formula, [formula, "P2"], [{"type": formula, "person_id": "P1",
                                      "raised_on": None, "due": None}]],
    )
    out = tmp_path / "d.csv"

    write_decisions(con, "decisions", out)

    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    [row] = [r for r in rows if r["household_id"].endswith("HYPERLINK(\"http://127.0.0.1/x\",\"y\")")]
    assert row["household_id"] == "'" + formula and unguarded(row["household_id"]) == formula
    assert row["tekun_members"].startswith("'" + start)
    assert split_csv_list(row["tekun_members"]) == [[formula], ["P2"]]
    assert split_csv_list(row["alerts"]) == [[formula, "P1", "", ""]]
    others = [r["household_id"] for r in rows if r is not row]
    assert others and not any(h.startswith("'") for h in others)
