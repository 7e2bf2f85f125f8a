"""Household input problems are reported alike whichever way the input comes in.

An oversized JSON number (``1e400``, ``1e20``) is a number too large for its field:
E614 「数值过大」 with the same found and expected text in a JSON or JSON Lines file
given to ``jiuzhu evaluate`` and in a request to the service, each at its place (the
file's line and JSON path; the request's JSON path). A plausibility warning (W603-W606)
names the file the value is in: a member's values the members file of CSV, Parquet or
DuckDB input (with the member's row where the format keeps it), a household's own
values the households file (with its row), and JSON input its one file at the value's
path, as the other codes do.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient

from compiler.cli import main
from compiler.diagnostics import Diagnostic
from compiler.errors import InputError
from compiler.evaluate import evaluate_file
from tests.test_service import build_tables, household, make_client

ROOT = Path(__file__).resolve().parents[1]
AS_OF = date(2025, 8, 1)

# --------------------------------------------------------------------- oversized numbers


@pytest.fixture(scope="module")
def tables(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tables(tmp_path_factory.mktemp("consistency-tables"))


@pytest.fixture(scope="module")
def client(tables: Path) -> Iterator[TestClient]:
    with make_client(tables, tables.parent / "registry.duckdb") as test_client:
        yield test_client


def _with_number(where: str, number: str) -> str:
    """A household (the second of the input) as JSON text, with ``number`` written
    as it is at ``where`` (``assets.money`` or the first member's ``income.wage``)."""
    data: Any = household("H2", "12000")
    if where == "assets.money":
        data["assets"]["money"] = "@"
    else:
        data["members"][0]["income"]["wage"] = "@"
    return json.dumps(data).replace('"@"', number)


def _file_problems(
    tables: Path, folder: Path, name: str, text: str
) -> list[Diagnostic]:
    """The problems ``evaluate`` finds in a file of a good household and ``text``."""
    good = json.dumps(household("H1", "12000"))
    path = folder / name
    if name.endswith(".jsonl"):
        path.write_text(f"{good}\n{text}\n", encoding="utf-8")
    else:
        path.write_text(f"[{good},\n{text}]\n", encoding="utf-8")
    with pytest.raises(InputError) as raised:
        evaluate_file(tables, path, AS_OF, None, summary=False)
    return raised.value.diagnostics


def _service_problems(client: TestClient, text: str) -> list[dict[str, Any]]:
    good = json.dumps(household("H1", "12000"))
    body = f'{{"as_of": "{AS_OF}", "households": [{good}, {text}]}}'
    response = client.post(
        "/v1/decisions",
        content=body.encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
    return response.json()["errors"]


OVERSIZED = {
    # past what a double holds: DuckDB keeps the text as written
    "money-1e400": ("assets.money", "1e400", "1e+400"),
    "money-1E400": ("assets.money", "1E400", "1e+400"),
    "money-minus-1e400": ("assets.money", "-1e400", "-1e+400"),
    "money-1.5e400": ("assets.money", "1.5e400", "1.5e+400"),
    "wage-1e400": ("income.wage", "1e400", "1e+400"),
    "money-1e999999999": ("assets.money", "1e999999999", "1e+999999999"),
    "money-5001-digits": ("assets.money", "1" + "0" * 5000, "1e+5000"),
    # within a double: DuckDB renders the double, the service the exact number
    "money-1e20": ("assets.money", "1e20", "100000000000000000000"),
    "money-1e+20": ("assets.money", "1e+20", "100000000000000000000"),
    "money-20-digits-and-a-fraction": (
        "assets.money",
        "12345678901234567890.5",
        "12345678901234567890.5",
    ),
}


@pytest.mark.parametrize(
    ("where", "written", "shown"), list(OVERSIZED.values()), ids=list(OVERSIZED)
)
def test_an_oversized_json_number_is_too_large_alike_in_a_file_and_the_service(
    where: str,
    written: str,
    shown: str,
    tables: Path,
    client: TestClient,
    tmp_path: Path,
) -> None:
    text = _with_number(where, written)
    [in_file] = _file_problems(tables, tmp_path, "households.jsonl", text)
    [in_request] = _service_problems(client, text)

    path = "$.assets.money" if where == "assets.money" else "$.members[0].income.wage"
    assert (in_file.code, in_request["code"]) == ("E614", "E614")
    assert "数值过大" in in_file.message
    assert (in_file.message, in_file.found, in_file.expected, in_file.hint) == (
        in_request["message"],
        in_request["found"],
        in_request["expected"],
        in_request["hint"],
    )
    assert in_file.found == shown
    assert in_file.location.cell == f"第2行 {path}"
    assert in_request["path"] == f"$.households[1]{path[1:]}"


def test_an_oversized_number_in_a_json_list_is_placed_at_its_path(
    tables: Path, client: TestClient, tmp_path: Path
) -> None:
    text = _with_number("assets.money", "1e400")
    [in_file] = _file_problems(tables, tmp_path, "households.json", text)
    [in_request] = _service_problems(client, text)

    assert (in_file.code, in_file.location.cell) == ("E614", "$[1].assets.money")
    assert (in_file.found, in_file.expected) == (
        in_request["found"],
        in_request["expected"],
    )


# ------------------------------------------------------------- plausibility warnings


TABLES = ROOT / "tables"
DAY = date(2025, 6, 1)
PLAUSIBLE = ("W603", "W604", "W605", "W606")
# household_id, assets.money
HOUSEHOLDS = [("H1", "100"), ("H2", "0.50"), ("H3", "100"), ("H4", "100")]
# household_id, person_id, relation, birth_date, income.wage; rows out of household
# order, so that a member's row in the file is not its place in its household
MEMBERS = [
    ("H2", "Q1", "head", "1980-01-01", "48000"),  # money 0.50 beside 48,000: W606
    ("H1", "P1", "head", "1980-01-01", "0"),
    ("H3", "R1", "head", "1980-01-01", "3.60"),  # a wage in 万元: W606
    ("H1", "P2", "child", "1991-12-31", "0"),  # under 12 years younger: W605
    ("H4", "S1", "spouse", "1980-01-01", "0"),  # no head: W603
    ("H4", "S2", "child", "2010-01-01", "0"),
]
MEMBER_COLUMNS = ("household_id", "person_id", "relation", "birth_date", "income.wage")


def _write_csv(folder: Path) -> Path:
    rows = ["household_id,county_code,assets.money"]
    rows += [f"{h},330106,{money}" for h, money in HOUSEHOLDS]
    (folder / "x-households.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    rows = [",".join(MEMBER_COLUMNS)] + [",".join(m) for m in MEMBERS]
    (folder / "x-members.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder / "x-households.csv"


def _tables_in(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "CREATE TABLE households (household_id VARCHAR, county_code VARCHAR, "
        '"assets.money" DECIMAL(18,2))'
    )
    con.executemany(
        "INSERT INTO households VALUES (?, '330106', ?)", [list(h) for h in HOUSEHOLDS]
    )
    con.execute(
        "CREATE TABLE members (household_id VARCHAR, person_id VARCHAR, "
        'relation VARCHAR, birth_date DATE, "income.wage" DECIMAL(18,2))'
    )
    con.executemany(
        "INSERT INTO members VALUES (?, ?, ?, ?, ?)", [list(m) for m in MEMBERS]
    )


def _write_parquet(folder: Path) -> Path:
    con = duckdb.connect()
    _tables_in(con)
    for table in ("households", "members"):
        con.execute(
            f"COPY {table} TO '{folder / f'x-{table}.parquet'}' (FORMAT parquet)"
        )
    con.close()
    return folder / "x-households.parquet"


def _write_duckdb(folder: Path) -> Path:
    path = folder / "x.duckdb"
    con = duckdb.connect(str(path))
    _tables_in(con)
    con.close()
    return path


def _nested() -> list[dict[str, Any]]:
    """The same households as the contract nests them, members in file order."""
    return [
        {
            "household_id": h,
            "county_code": "330106",
            "assets": {"money": money},
            "members": [
                {"person_id": p, "relation": r, "birth_date": b, "income": {"wage": w}}
                for hid, p, r, b, w in MEMBERS
                if hid == h
            ],
        }
        for h, money in HOUSEHOLDS
    ]


def _write_jsonl(folder: Path) -> Path:
    path = folder / "x.jsonl"
    path.write_text("".join(json.dumps(h) + "\n" for h in _nested()), encoding="utf-8")
    return path


def _write_json(folder: Path) -> Path:
    path = folder / "x.json"
    path.write_text(json.dumps(_nested(), indent=1), encoding="utf-8")
    return path


WRITERS = {
    "csv": _write_csv,
    "parquet": _write_parquet,
    "duckdb": _write_duckdb,
    "jsonl": _write_jsonl,
    "json": _write_json,
}
# (format, household) -> (file, cell) the warning names: the households or members
# file, the member's row where the format keeps it (Parquet and DuckDB; a CSV numbers
# members within their household, so the column alone), a JSON file's line or index
# and path; H4 has no head, so no one member is named
PLACES = {
    ("csv", "H1"): ("x-members.csv", "birth_date"),
    ("csv", "H2"): ("x-households.csv", "第3行 assets.money"),
    ("csv", "H3"): ("x-members.csv", "income.wage"),
    ("csv", "H4"): ("x-members.csv", "relation"),
    ("parquet", "H1"): ("x-members.parquet", "第4行 birth_date"),
    ("parquet", "H2"): ("x-households.parquet", "第2行 assets.money"),
    ("parquet", "H3"): ("x-members.parquet", "第3行 income.wage"),
    ("parquet", "H4"): ("x-members.parquet", "relation"),
    ("duckdb", "H1"): ("x.duckdb", "members 表第4行 birth_date"),
    ("duckdb", "H2"): ("x.duckdb", "households 表第2行 assets.money"),
    ("duckdb", "H3"): ("x.duckdb", "members 表第3行 income.wage"),
    ("duckdb", "H4"): ("x.duckdb", "members 表 relation"),
    ("jsonl", "H1"): ("x.jsonl", "第1行 $.members[1].birth_date"),
    ("jsonl", "H2"): ("x.jsonl", "第2行 $.assets.money"),
    ("jsonl", "H3"): ("x.jsonl", "第3行 $.members[0].income.wage"),
    ("jsonl", "H4"): ("x.jsonl", "第4行 $.members"),
    ("json", "H1"): ("x.json", "$[0].members[1].birth_date"),
    ("json", "H2"): ("x.json", "$[1].assets.money"),
    ("json", "H3"): ("x.json", "$[2].members[0].income.wage"),
    ("json", "H4"): ("x.json", "$[3].members"),
}
CODES = {"H1": "W605", "H2": "W606", "H3": "W606", "H4": "W603"}


@pytest.fixture(scope="module", params=list(WRITERS))
def warned(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, dict[str, Diagnostic]]:
    """A format and the W603-W606 of one evaluation of the households in it, by
    household."""
    folder = tmp_path_factory.mktemp(f"plausible-{request.param}")
    source = WRITERS[request.param](folder)
    result = evaluate_file(TABLES, source, DAY, None, summary=False)
    said = [d for d in result.input_warnings if d.code in PLAUSIBLE]
    by_household = {d.extra["household"]: d for d in said}
    assert len(by_household) == len(said)  # one warning each
    return request.param, by_household


@pytest.mark.parametrize("ident", list(CODES))
def test_a_plausibility_warning_names_the_file_and_place_of_its_value(
    ident: str, warned: tuple[str, dict[str, Diagnostic]]
) -> None:
    fmt, by_household = warned
    said = by_household[ident]
    file, cell = PLACES[(fmt, ident)]

    assert said.code == CODES[ident]
    assert Path(said.location.file or "").name == file
    assert said.location.cell == cell


def test_the_cli_prints_a_member_warning_at_the_members_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = _write_parquet(tmp_path)
    code = main(
        ["evaluate", "--households", str(source), "--as-of", str(DAY),
         "--working-copy", "--out", str(tmp_path / "d.csv")]
    )  # fmt: skip

    err = capsys.readouterr().err
    assert code == 0
    assert "x-members.parquet:第4行 birth_date: W605 家庭「H1」成员「P2」" in err
    assert "x-households.parquet:第2行 assets.money: W606 家庭「H2」" in err
