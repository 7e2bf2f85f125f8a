"""Values the household contract rules out are refused in every input format: an
amount that cannot be negative (a wage or a transfer income among them) or a
disability grade outside 1-4 (E614, from the bounds the province's 字段 sheet
declares), a member born after the decision date (E615) and an event without a date
(E604); net business and property incomes may still be negative. So are a
birth before 1900-01-01 (E614), a current group recognised after the decision date
(E615) and a household with no members (E604), in the CLI, the console and the
service alike."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from compiler.errors import InputError
from compiler.households import load_households
from compiler.resolve import declared_fields
from console import workspace
from tests.tables_fixture import province_sheets, write_tables

ROOT = Path(__file__).resolve().parents[1]
FIELDS = declared_fields(ROOT / "tables")
AS_OF = date(2025, 6, 1)
NON_NEGATIVE = [
    "assets.money",
    "assets.vehicles",
    "assets.vehicle_value",
    "assets.homes",
    "assets.floor_area_m2",
    "assets.enterprise_capital",
    "expenses.medical",
    "expenses.education",
    "expenses.disability",
    "income.wage",
    "income.transfer",
    "income.excluded",
]
# a business or property may run at a loss
NET_INCOMES = ["income.business", "income.property"]

# One row per table, as a typed file holds it: H1 has negative savings and a member
# with grade 5 and negative excluded income (and a business loss, which is fine); H2
# has a member born the day after the decision date, one born on it, and an event
# without a date.
HOUSEHOLDS = [("H1", "330106", Decimal("-0.01")), ("H2", "330106", Decimal(100))]
MEMBERS = [
    ("H1", "p1", date(1960, 1, 1), 5, Decimal(-1), Decimal(-500)),
    ("H2", "q1", date(2025, 6, 2), 4, Decimal(0), Decimal(0)),
    ("H2", "q2", date(2025, 6, 1), None, Decimal(0), Decimal(0)),
]
EVENTS = [("H2", "unemployment_registration", None, "q2")]
TYPES = {
    "households": 'household_id VARCHAR, county_code VARCHAR, "assets.money" DECIMAL(18,2)',
    "members": "household_id VARCHAR, person_id VARCHAR, birth_date DATE, "
    'disability_grade TINYINT, "income.excluded" DECIMAL(18,2), '
    '"income.business" DECIMAL(18,2)',
    "events": 'household_id VARCHAR, "event.type" VARCHAR, "event.date" DATE, '
    '"event.person_id" VARCHAR',
}
ROWS = {"households": HOUSEHOLDS, "members": MEMBERS, "events": EVENTS}
# code, level, row in its table (from 0), field, position in the household
PROBLEMS = [
    ("E614", "households", 0, "assets.money", None),
    ("E614", "members", 0, "disability_grade", 0),
    ("E614", "members", 0, "income.excluded", 0),
    ("E615", "members", 1, "birth_date", 0),
    ("E604", "events", 0, "event.date", 0),
]


def _typed(
    con: duckdb.DuckDBPyConnection,
    types: dict[str, str] = TYPES,
    rows: dict[str, list[tuple[Any, ...]]] = ROWS,
) -> None:
    for name, columns in types.items():
        con.execute(f"CREATE TABLE {name} ({columns})")
        if rows[name]:
            marks = ", ".join("?" * len(rows[name][0]))
            con.executemany(f"INSERT INTO {name} VALUES ({marks})", rows[name])


Typed = Callable[[duckdb.DuckDBPyConnection], None]


def _write_jsonl(folder: Path) -> Path:
    lines = []
    for hid, county, money in HOUSEHOLDS:
        members = [
            {"person_id": pid, "birth_date": born.isoformat(), "disability_grade": grade,
             "income": {"excluded": str(excluded), "business": str(business)}}
            for h, pid, born, grade, excluded, business in MEMBERS
            if h == hid
        ]  # fmt: skip
        events = [
            {"type": kind, "person_id": person}
            for h, kind, _, person in EVENTS
            if h == hid
        ]
        household = {"household_id": hid, "county_code": county, "members": members}
        household |= {"assets": {"money": float(money)}, "events": events}
        lines.append(json.dumps(household))
    path = folder / "in.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _write_files(folder: Path, fmt: str, typed: Typed = _typed) -> Path:
    """households, members and events files of the typed rows (CSV: as text)."""
    con = duckdb.connect()
    typed(con)
    options = "FORMAT csv, HEADER true" if fmt == "csv" else "FORMAT parquet"
    for name in TYPES:
        con.execute(f"COPY {name} TO '{folder / f'{name}.{fmt}'}' ({options})")
    return folder / f"households.{fmt}"


def _write_duckdb(folder: Path, typed: Typed = _typed) -> Path:
    path = folder / "input.duckdb"
    con = duckdb.connect(str(path))
    typed(con)
    con.close()
    return path


WRITERS = {
    "jsonl": _write_jsonl,
    "csv": lambda folder: _write_files(folder, "csv"),
    "parquet": lambda folder: _write_files(folder, "parquet"),
    "duckdb": _write_duckdb,
}


def _cell(fmt: str, level: str, row: int, field: str, position: int | None) -> str:
    if fmt == "jsonl":
        hid = ROWS[level][row][0]
        line = 1 + [h[0] for h in HOUSEHOLDS].index(hid)
        key = field.removeprefix("event.")
        path = f"$.{key}" if position is None else f"$.{level}[{position}].{key}"
        return f"第{line}行 {path}"
    if fmt == "duckdb":
        return f"{level} 表第{row + 1}行 {field}"
    return f"第{row + (2 if fmt == 'csv' else 1)}行 {field}"


def _refused(path: Path, **options: Any) -> list[tuple[str, str | None, str]]:
    with pytest.raises(InputError) as raised:
        load_households(duckdb.connect(), path, FIELDS, **options)
    return [(d.code, d.location.cell, d.render()) for d in raised.value.diagnostics]


def test_the_province_declares_the_contract_bounds() -> None:
    grade = FIELDS["disability_grade"]
    assert (grade.lower, grade.upper) == (1, 4)
    assert {f: (FIELDS[f].lower, FIELDS[f].upper) for f in NON_NEGATIVE} == {
        f: (0, None) for f in NON_NEGATIVE
    }
    assert [(FIELDS[f].lower, FIELDS[f].upper) for f in NET_INCOMES] == [
        (None, None)
    ] * 2


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_every_format_refuses_values_the_contract_rules_out(
    fmt: str, tmp_path: Path
) -> None:
    path = WRITERS[fmt](tmp_path)

    found = _refused(path, as_of=AS_OF)

    assert [(code, cell) for code, cell, _ in found] == [
        (code, _cell(fmt, *where)) for code, *where in PROBLEMS
    ]
    money, grade, excluded, born, event = (message for *_, message in found)
    assert "「货币财产」（assets.money）的取值超出允许范围；实际为「-0.01」" in money
    assert "应为不小于 0 的金额，如 1402.50" in money
    assert "实际为「5」；应为1 至 4 之间的整数，如 2" in grade
    assert "「不计入收入」（income.excluded）" in excluded and "「-1" in excluded
    assert "晚于决策日期 2025-06-01；实际为「2025-06-02」" in born
    assert "缺少必填字段「事件日期」（event.date）" in event
    assert all(str(path.parent) in message for *_, message in found)


def test_without_a_decision_date_births_are_not_checked(tmp_path: Path) -> None:
    found = _refused(WRITERS["parquet"](tmp_path))

    assert "E615" not in {code for code, *_ in found}
    assert len(found) == len(PROBLEMS) - 1


def test_net_incomes_may_be_negative_and_bounds_are_inclusive(tmp_path: Path) -> None:
    household = {
        "household_id": "N1", "county_code": "330106",
        "assets": {"money": "0", "vehicles": 0}, "expenses": {"medical": "0.00"},
        "members": [
            {"person_id": "n1", "birth_date": AS_OF.isoformat(), "disability_grade": 1,
             "income": {f.split(".")[1]: "-1200.50" for f in NET_INCOMES}},
            {"person_id": "n2", "birth_date": "1950-01-01", "disability_grade": 4},
        ],
        "events": [{"type": "working_age_death", "date": "2025-05-01", "person_id": "n2"}],
    }  # fmt: skip
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(household) + "\n", encoding="utf-8")
    con = duckdb.connect()

    loaded = load_households(con, path, FIELDS, as_of=AS_OF)

    assert (loaded.households, loaded.members, loaded.events) == (1, 2, 1)
    wages = con.execute('SELECT "income.business" FROM jz_members').fetchall()
    assert wages == [(Decimal("-1200.50"),), (Decimal("0.00"),)]


def _born_on(folder: Path, day: str) -> Path:
    """A households file of one household C1 in 330106 whose member was born on day."""
    member = {"person_id": "P1", "birth_date": day, "income": {"wage": "0"}}
    household = {"household_id": "C1", "county_code": "330106", "members": [member]}
    path = folder / "households.jsonl"
    path.write_text(json.dumps(household) + "\n", encoding="utf-8")
    return path


def test_console_preview_checks_births_against_its_decision_date(
    tmp_path: Path,
) -> None:
    tables, path = write_tables(tmp_path), _born_on(tmp_path, "2025-07-01")
    checked = workspace.check(tables, "330106", AS_OF, analysis=False)

    early = workspace.preview(checked, path, AS_OF)
    late = workspace.preview(checked, path, date(2025, 7, 1))

    assert [(d.code, d.location.cell) for d in early.problems] == [
        ("E615", "第1行 $.members[0].birth_date")
    ]
    assert not late.problems and [r["household_id"] for r in late.rows] == ["C1"]


@pytest.mark.parametrize("command", [["evaluate"], ["explain", "C1"]])
def test_the_cli_checks_births_against_as_of(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from compiler.cli import main

    tables, path = write_tables(tmp_path), _born_on(tmp_path, "2025-06-02")
    out = ["--out", str(tmp_path / "out.csv")] if command == ["evaluate"] else []
    common = [*command, "--tables", str(tables), "--households", str(path), *out]

    refused = main([*common, "--as-of", "2025-06-01"])
    errors = capsys.readouterr().err
    accepted = main([*common, "--as-of", "2025-06-02"])

    assert (refused, accepted) == (1, 0)
    assert "第1行 $.members[0].birth_date: E615" in errors


def test_an_event_needs_a_type_and_its_amount_cannot_be_negative(tmp_path: Path) -> None:
    events = [
        {"date": "2025-05-01", "person_id": "e1"},
        {"type": "high_medical_expense", "date": "2025-05-02", "amount": "-300.00"},
        {"type": "high_medical_expense", "date": "2025-05-03", "amount": "0"},
    ]
    household = {
        "household_id": "E1", "county_code": "330106", "events": events,
        "members": [{"person_id": "e1", "birth_date": "1970-01-01"}],
    }  # fmt: skip
    path = tmp_path / "in.jsonl"
    path.write_text(json.dumps(household) + "\n", encoding="utf-8")

    found = _refused(path, as_of=AS_OF)

    assert [(code, cell) for code, cell, _ in found] == [
        ("E604", "第1行 $.events[0].type"),
        ("E614", "第1行 $.events[1].amount"),
    ]
    assert "缺少必填字段「事件类型」（event.type）" in found[0][2]
    assert "应为事件类型，如 unemployment_registration" in found[0][2]
    assert "实际为「-300" in found[1][2]


def test_console_explains_a_csv_household_and_reports_a_bad_file_in_chinese(
    tmp_path: Path,
) -> None:
    tables = write_tables(tmp_path)
    checked = workspace.check(tables, "330106", AS_OF, analysis=False)
    (tmp_path / "households.csv").write_text(
        "household_id,county_code\nC1,330106\n", encoding="utf-8"
    )
    (tmp_path / "members.csv").write_text(
        "household_id,person_id,birth_date,income.wage\nC1,P1,1960-01-01,12000\n",
        encoding="utf-8",
    )

    text = workspace.explain_text(checked, tmp_path / "households.csv", "C1")
    late = workspace.explain_text(checked, _born_on(tmp_path, "2025-06-02"), "C1")

    assert text.startswith("家庭 C1") and "人均月收入 = 1,000.00 元" in text
    assert "E615" in late and "Traceback" not in late


# Dates and members the contract rules out, whatever the 字段 sheet declares: D1 was
# recognised in its group the day after the decision date; D2 has a member born on the
# last day of 1899 (and one on the first of 1900, which is fine); D3 has no members (and
# was recognised on the decision date itself, which is fine).
DATED = {
    "households": [
        ("D1", "330106", date(2025, 6, 2)),
        ("D2", "330106", None),
        ("D3", "330106", AS_OF),
    ],
    "members": [
        ("D1", "d1", date(1980, 1, 1)),
        ("D2", "d2", date(1899, 12, 31)),
        ("D2", "d3", date(1900, 1, 1)),
    ],
    "events": [],
}
DATED_TYPES = {
    "households": 'household_id VARCHAR, county_code VARCHAR, "current.since" DATE',
    "members": "household_id VARCHAR, person_id VARCHAR, birth_date DATE",
    "events": 'household_id VARCHAR, "event.type" VARCHAR, "event.date" DATE',
}


def _dated(con: duckdb.DuckDBPyConnection) -> None:
    _typed(con, DATED_TYPES, DATED)


def _write_dated_jsonl(folder: Path) -> Path:
    lines = []
    for hid, county, since in DATED["households"]:
        members = [
            {"person_id": pid, "birth_date": born.isoformat()}
            for h, pid, born in DATED["members"]
            if h == hid
        ]
        current = {"since": since.isoformat() if since else None}
        household = {"household_id": hid, "county_code": county, "current": current}
        lines.append(json.dumps(household | ({"members": members} if members else {})))
    path = folder / "dated.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _writers(jsonl: Callable[[Path], Path], typed: Typed) -> dict[str, Callable]:
    """A writer per format: ``jsonl`` for JSON Lines, the ``typed`` rows for the rest."""
    return {
        "jsonl": jsonl,
        "csv": lambda folder: _write_files(folder, "csv", typed),
        "parquet": lambda folder: _write_files(folder, "parquet", typed),
        "duckdb": lambda folder: _write_duckdb(folder, typed),
    }


DATED_WRITERS = _writers(_write_dated_jsonl, _dated)


@pytest.mark.parametrize("fmt", list(DATED_WRITERS))
def test_every_format_refuses_impossible_dates_and_households_without_members(
    fmt: str, tmp_path: Path
) -> None:
    path = DATED_WRITERS[fmt](tmp_path)

    with pytest.raises(InputError) as raised:
        load_households(duckdb.connect(), path, FIELDS, as_of=AS_OF)

    found = [(d.code, d.location.cell) for d in raised.value.diagnostics]
    # a household without members is shown at its members list, or at its row of
    # the households file when its members would be in another file
    empty = ("members", None) if fmt == "jsonl" else ("household_id", None)
    assert found == [
        ("E615", _cell(fmt, "households", 0, "current.since", None)),
        ("E614", _dated_cell(fmt, 1, "birth_date", 0)),
        ("E604", _dated_cell(fmt, 2, *empty, level="households")),
    ]
    since, born, empty_text = (d.render() for d in raised.value.diagnostics)
    assert "「现类别认定日期」（current.since）晚于决策日期 2025-06-01" in since
    assert "实际为「2025-06-02」" in since
    assert "「出生日期」（birth_date）早于 1900-01-01；实际为「1899-12-31」" in born
    assert "应为1900-01-01 至决策日期 2025-06-01 之间的日期" in born
    assert "家庭「D3」没有成员；实际为「0 名成员」" in empty_text
    assert str(path.parent) in empty_text
    if fmt != "jsonl":  # the members file (or table) where its members would be
        assert "members" in empty_text.split("应为")[1]
        assert "至少有一行 household_id 为「D3」" in empty_text


def _dated_cell(
    fmt: str, row: int, field: str, position: int | None, level: str = "members"
) -> str:
    """Where a problem of the DATED rows is: the member at ``row`` of the members
    table (or the household at ``row``), ``position`` within its household."""
    if fmt != "jsonl":
        return _cell(fmt, level, row, field, position)
    hid = DATED[level][row][0]
    line = 1 + [h[0] for h in DATED["households"]].index(hid)
    path = f"$.{field}" if position is None else f"$.{level}[{position}].{field}"
    return f"第{line}行 {path}"


def test_a_birth_before_1900_is_refused_without_a_decision_date(tmp_path: Path) -> None:
    path = _born_on(tmp_path, "0001-01-01")

    [(code, cell, message)] = _refused(path)

    assert (code, cell) == ("E614", "第1行 $.members[0].birth_date")
    assert "早于 1900-01-01；实际为「0001-01-01」" in message
    assert "应为1900-01-01 以后的日期，如 1980-05-01" in message
    assert "占位值" in message


# A wage and a transfer income with a stray minus sign (attack F-B: such a household
# was decided dibao with a negative income per head).
SIGNS = {
    "households": [("W1", "330106")],
    "members": [("W1", "w1", date(1980, 1, 1), Decimal("-100.00"), Decimal("-0.01"))],
    "events": [],
}
SIGN_TYPES = {
    "households": "household_id VARCHAR, county_code VARCHAR",
    "members": "household_id VARCHAR, person_id VARCHAR, birth_date DATE, "
    '"income.wage" DECIMAL(18,2), "income.transfer" DECIMAL(18,2)',
    "events": 'household_id VARCHAR, "event.type" VARCHAR, "event.date" DATE',
}
SIGN_HOUSEHOLD = {
    "household_id": "W1",
    "county_code": "330106",
    "members": [
        {"person_id": "w1", "birth_date": "1980-01-01",
         "income": {"wage": "-100.00", "transfer": -0.01}},
    ],
}  # fmt: skip


def _signs(con: duckdb.DuckDBPyConnection) -> None:
    _typed(con, SIGN_TYPES, SIGNS)


def _write_signs_jsonl(folder: Path) -> Path:
    path = folder / "signs.jsonl"
    path.write_text(json.dumps(SIGN_HOUSEHOLD) + "\n", encoding="utf-8")
    return path


SIGN_WRITERS = _writers(_write_signs_jsonl, _signs)


@pytest.mark.parametrize("fmt", list(SIGN_WRITERS))
def test_every_format_refuses_a_negative_wage_or_transfer_income(
    fmt: str, tmp_path: Path
) -> None:
    found = _refused(SIGN_WRITERS[fmt](tmp_path), as_of=AS_OF)

    assert [(code, cell) for code, cell, _ in found] == [
        ("E614", _cell(fmt, "members", 0, field, 0))
        for field in ("income.wage", "income.transfer")
    ]
    wage, transfer = (message for *_, message in found)
    assert "「工资性收入」（income.wage）的取值超出允许范围；实际为「-100" in wage
    assert "应为不小于 0 的金额，如 1402.50" in wage
    assert "「转移净收入」（income.transfer）" in transfer and "-0.01" in transfer


def test_the_service_refuses_a_negative_wage_at_its_path(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from compiler.service import Settings, create_app

    settings = Settings(
        tables=ROOT / "tables", registry=tmp_path / "none.duckdb", warm_on_start=False
    )
    with TestClient(create_app(settings)) as client:
        response = client.post(
            "/v1/decisions",
            json={"as_of": AS_OF.isoformat(), "households": [SIGN_HOUSEHOLD]},
        )

    assert response.status_code == 422, response.text
    errors = [(e["code"], e["path"]) for e in response.json()["errors"]]
    assert errors == [
        ("E614", "$.households[0].members[0].income.wage"),
        ("E614", "$.households[0].members[0].income.transfer"),
    ]


# The small tables with the household's current recognition date declared as a field.
SINCE = ["current.since", "现类别认定日期", "家庭", "date", None, None, None, None]
# C1 recognised after the decision date, C2 with a member born in 1800, C3 with no
# members: (changes to a sound household, code, where in a JSON Lines file)
UNDECIDABLE = [
    ({"current": {"since": "2025-06-02"}}, "E615", "第1行 $.current.since"),
    (
        {"members": [{"person_id": "P1", "birth_date": "1800-01-01"}]},
        "E614",
        "第2行 $.members[0].birth_date",
    ),
    ({"members": []}, "E604", "第3行 $.members"),
]


def _undecidable(folder: Path) -> tuple[Path, Path]:
    """Tables declaring current.since, and a JSON Lines file of C1-C3."""
    province = province_sheets()
    province["字段"].append(SINCE)
    tables = write_tables(folder, province)
    sound = json.loads(_born_on(folder, "1980-01-01").read_text(encoding="utf-8"))
    lines = [
        json.dumps(sound | {"household_id": f"C{i}"} | changes)
        for i, (changes, *_) in enumerate(UNDECIDABLE, start=1)
    ]
    path = folder / "households.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tables, path


def test_the_cli_refuses_households_that_cannot_be_decided(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from compiler.cli import main

    tables, path = _undecidable(tmp_path)
    out = ["--out", str(tmp_path / "out.csv")]

    code = main(["evaluate", "--tables", str(tables), "--households", str(path),
                 "--as-of", AS_OF.isoformat(), *out])  # fmt: skip

    errors = capsys.readouterr().err
    assert code == 1 and not (tmp_path / "out.csv").exists()
    for _, problem, cell in UNDECIDABLE:
        assert f"{path}:{cell}: {problem}" in errors
    assert "家庭「C3」没有成员" in errors and "Traceback" not in errors


@pytest.mark.parametrize("number", [1, 2, 3])
def test_explain_refuses_a_household_that_cannot_be_decided_for_its_own_problem(
    number: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """explain reads only the rows of the household asked about: each is refused for
    its own problem, at its line, and not for the others'."""
    from compiler.cli import main

    tables, path = _undecidable(tmp_path)

    code = main(["explain", f"C{number}", "--tables", str(tables), "--households", str(path),
                 "--as-of", AS_OF.isoformat()])  # fmt: skip

    errors = capsys.readouterr().err
    assert code == 1 and "Traceback" not in errors
    for i, (_, problem, cell) in enumerate(UNDECIDABLE, start=1):
        assert (f"{path}:{cell}: {problem}" in errors) == (i == number)


def test_console_preview_and_explain_refuse_households_that_cannot_be_decided(
    tmp_path: Path,
) -> None:
    tables, path = _undecidable(tmp_path)
    checked = workspace.check(tables, "330106", AS_OF, analysis=False)

    preview = workspace.preview(checked, path, AS_OF)
    explained = workspace.explain_text(checked, path, "C3")

    assert [(d.code, d.location.cell) for d in preview.problems] == [
        (code, cell) for _, code, cell in UNDECIDABLE
    ]
    assert not preview.rows
    assert "E604" in explained and "没有成员" in explained
    assert "Traceback" not in explained
