"""Household values refused beyond their type, alike in every format and the service
(attack F-G): a number too large for its kind (E614, naming the limit), digits written
with an exponent or ``_`` (E603: not digits), an id with a control character or longer
than 100 characters (E603), and a text field that is no text: in JSON a number, list,
object or boolean, in Parquet or DuckDB a column that is not VARCHAR (E603)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from compiler.errors import InputError
from compiler.households import load_households
from tests.test_households import FIELDS, write_csv, write_json, write_jsonl

ROOT = Path(__file__).resolve().parents[1]
SOUND: dict[str, Any] = {
    "household_id": "H1",
    "county_code": "330106",
    "assets": {"money": "100.00"},
    "members": [{"person_id": "p1", "birth_date": "1960-01-02"}],
    "events": [
        {"type": "high_medical_expense", "date": "2025-03-01", "person_id": "p1"}
    ],
}


def household(**changes: Any) -> dict[str, Any]:
    """SOUND with values changed at dotted paths (``members.0.person_id``)."""
    changed = copy.deepcopy(SOUND)
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node: Any = changed
        for part in parents:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
        node[leaf] = value
    return changed


Writer = Callable[[Path, list[dict[str, Any]]], Path]
WRITERS: dict[str, Writer] = {
    "jsonl": lambda folder, households: write_jsonl(folder / "in.jsonl", households),
    "json": lambda folder, households: write_json(folder / "in.json", households),
    "csv": write_csv,
}
# where the first household's values are, by format
PLACES = {
    "jsonl": lambda level, path: (
        f"第1行 $.{level}[0].{path}" if level else f"第1行 $.{path}"
    ),
    "json": lambda level, path: f"$[0].{level}[0].{path}" if level else f"$[0].{path}",
    "csv": lambda level, path: f"第2行 {'event.' if level == 'events' else ''}{path}",
}


def refused(path: Path) -> list[tuple[str, str | None, str]]:
    with pytest.raises(InputError) as raised:
        load_households(duckdb.connect(), path, FIELDS)
    return [(d.code, d.location.cell, d.render()) for d in raised.value.diagnostics]


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_a_number_too_large_for_its_kind_says_so_with_the_limit(
    fmt: str, tmp_path: Path
) -> None:
    path = WRITERS[fmt](
        tmp_path,
        [
            household(**{
                "assets.money": 10**30,
                "assets.vehicles": 10**19,
                "members.0.income.wage": "99999999999999999999.99",
                "events.0.amount": 1e20,
            })
        ],
    )  # fmt: skip

    found = refused(path)

    place = PLACES[fmt]
    assert [(code, cell) for code, cell, _ in found] == [
        ("E614", place("", "assets.money")),
        ("E614", place("", "assets.vehicles")),
        ("E614", place("members", "income.wage")),
        ("E614", place("events", "amount")),
    ]
    money, vehicles, wage, amount = (text for *_, text in found)
    assert "「名称assets.money」（assets.money）的数值过大" in money
    assert "应为绝对值小于 10¹⁶ 的金额" in money and "类型不对" not in money
    assert "应为绝对值小于 10¹⁸ 的整数" in vehicles
    assert "实际为「99999999999999999999.99」" in wage
    assert "数值过大" in amount


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_digits_written_with_an_exponent_are_not_digits(
    fmt: str, tmp_path: Path
) -> None:
    path = WRITERS[fmt](
        tmp_path,
        [
            household(**{
                "assets.money": "1e3",
                "assets.floor_area_m2": "1_000",
                "members.0.income.wage": "1E+3",
            }),
            # a JSON number small enough is written 1e-05 (by json.dumps, and by
            # DuckDB when it reads one): a number all the same
            household(**{"household_id": "H2", "assets.share": 0.00001}),
        ],
    )  # fmt: skip

    found = refused(path)

    place = PLACES[fmt]
    assert [(code, cell) for code, cell, _ in found] == [
        ("E603", place("", "assets.money")),
        ("E603", place("", "assets.floor_area_m2")),
        ("E603", place("members", "income.wage")),
    ]
    assert all("的类型不对" in text and "只写数字" in text for *_, text in found)


def _parquet(folder: Path, households: str, members: str, events: str) -> Path:
    con = duckdb.connect()
    for name, select in (
        ("households", households), ("members", members), ("events", events)
    ):  # fmt: skip
        con.execute(
            f"COPY ({select}) TO '{folder / f'x-{name}.parquet'}' (FORMAT parquet)"
        )
    return folder / "x-households.parquet"


IDS = {"household_id": "H\x07", "members.0.person_id": "p" * 101}
IDS["events.0.person_id"] = "p\t1"


@pytest.mark.parametrize("fmt", [*WRITERS, "parquet"])
def test_an_id_with_a_control_character_or_too_long_is_refused(
    fmt: str, tmp_path: Path
) -> None:
    if fmt == "parquet":
        path = _parquet(
            tmp_path,
            "SELECT 'H' || chr(7) AS household_id, '330106' AS county_code",
            f"SELECT 'H' || chr(7) AS household_id, '{'p' * 101}' AS person_id, "
            "DATE '1960-01-02' AS birth_date",
            "SELECT 'H' || chr(7) AS household_id, 'x' AS \"event.type\", "
            "DATE '2025-03-01' AS \"event.date\", 'p' || chr(9) || '1' AS \"event.person_id\"",
        )
        place: Callable[[str, str], str] = lambda level, path: (
            f"第1行 {'event.' if level == 'events' else ''}{path}"
        )
    else:
        path = WRITERS[fmt](tmp_path, [household(**IDS)])
        place = PLACES[fmt]

    found = refused(path)

    assert [(code, cell) for code, cell, _ in found] == [
        ("E603", place("", "household_id")),
        ("E603", place("members", "person_id")),
        ("E603", place("events", "person_id")),
    ]
    household_id, person_id, event_person = (text for *_, text in found)
    assert "含有不可见的控制字符或零宽字符；实际为「H<U+0007>」" in household_id
    assert "过长（101 个字符）" in person_id and "不超过 100 个字符" in person_id
    assert "实际为「p<U+0009>1」" in event_person


@pytest.mark.parametrize("fmt", [*WRITERS, "parquet"])
@pytest.mark.parametrize(
    "hidden",
    ["\u200b", "\u200d", "\ufeff", "\u00ad", "\u202e", "\u2060", "\u2066", "\u061c",
     "\ufe0f", "\u3164", "\U000e0041", "\u2028"],
)  # fmt: skip
def test_an_id_with_an_invisible_character_is_refused(
    fmt: str, hidden: str, tmp_path: Path
) -> None:
    """A zero-width space or a byte-order mark makes an id look like another: "P1" and
    "P1" with U+200B are two people to a join and one to a reader. Ids are codes: an
    emoji joined by U+200D or followed by U+FE0F is refused too."""
    person = f"P{hidden}1"
    if fmt == "parquet":
        path = _parquet(
            tmp_path,
            "SELECT 'H1' AS household_id, '330106' AS county_code",
            f"SELECT 'H1' AS household_id, '{person}' AS person_id, DATE '1960-01-02' AS birth_date",
            "SELECT 'H1' AS household_id, 'x' AS \"event.type\", DATE '2025-03-01' AS \"event.date\"",
        )
        place: Callable[[str, str], str] = lambda level, path: f"第1行 {path}"
    else:
        path = WRITERS[fmt](tmp_path, [household(**{"members.0.person_id": person})])
        place = PLACES[fmt]

    found = refused(path)

    assert [(code, cell) for code, cell, _ in found] == [("E603", place("members", "person_id"))]
    assert f"零宽字符；实际为「P<U+{ord(hidden):04X}>1」" in found[0][2]


@pytest.mark.parametrize("person", ["张三", "P 1", "P\u00a01", "P\u30001", "P😀1", "é"])
def test_an_id_of_visible_characters_and_blanks_is_taken(person: str, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [household(**{"members.0.person_id": person})])
    load_households(duckdb.connect(), path, FIELDS)


# In JSON a text field is a string: each value that is not is refused at its path,
# whatever its neighbours hold (H2's strings are fine).
NOT_TEXT = [
    household(household_id=123),
    household(**{"household_id": "H2", "history.reported_by": "西湖区民政局"}),
    household(**{"household_id": "H3", "history.reported_by": [1, 2]}),
    household(**{"household_id": "H4", "history.reported_by": {"a": 1}}),
    household(**{"household_id": "H5", "history.reported_by": True}),
    household(**{"household_id": "H6", "members.0.person_id": 7}),
    household(**{"household_id": "H7", "events.0.person_id": 1.5}),
]


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_a_json_text_field_given_as_a_number_list_or_object_is_refused(
    fmt: str, tmp_path: Path
) -> None:
    found = refused(WRITERS[fmt](tmp_path, NOT_TEXT))

    def place(row: int, path: str) -> str:
        return f"第{row + 1}行 {path}" if fmt == "jsonl" else f"${[row]}{path[1:]}"

    assert [(code, cell) for code, cell, _ in found] == [
        ("E603", place(0, "$.household_id")),
        ("E603", place(2, "$.history.reported_by")),
        ("E603", place(3, "$.history.reported_by")),
        ("E603", place(4, "$.history.reported_by")),
        ("E603", place(5, "$.members[0].person_id")),
        ("E603", place(6, "$.events[0].person_id")),
    ]
    shown = [text.split("实际为")[1].split("；")[0] for *_, text in found]
    assert shown == [
        "「123」",
        "「[1,2]」",
        '「{"a":1}」',
        "「true」",
        "「7」",
        "「1.5」",
    ]
    assert all("的类型不对" in text and "加引号" in text for *_, text in found)


def test_a_repeated_id_beside_a_number_is_named_without_quotes(tmp_path: Path) -> None:
    # household_id is read as JSON (one is a number); the repeated one still reads H1
    path = write_jsonl(
        tmp_path / "in.jsonl",
        [household(), household(), household(household_id=5)],
    )

    found = refused(path)

    assert [(code, cell) for code, cell, _ in found] == [
        ("E603", "第3行 $.household_id"),
        ("E603", "第2行 $.household_id"),
    ]
    assert "重复出现；实际为「H1」" in found[1][2]


def _duckdb_file(folder: Path, extra: str, member_household: str = "'H1'") -> Path:
    """A DuckDB input of household H1 (with ``extra`` columns) and one member of it."""
    path = folder / "in.duckdb"
    con = duckdb.connect(str(path))
    con.execute(
        "CREATE TABLE households AS SELECT 'H1' AS household_id, '330106' AS county_code"
        + (f", {extra}" if extra else "")
    )
    con.execute(
        f"CREATE TABLE members AS SELECT {member_household} AS household_id, "
        "'p1' AS person_id, DATE '1960-01-02' AS birth_date"
    )
    con.close()
    return path


def test_a_value_in_a_column_whose_type_cannot_hold_it_is_refused(tmp_path: Path) -> None:
    """Text in a column that is not VARCHAR (the household_id of members and events
    too: DuckDB would join member 7 to household "7"); an amount in a column of yes/no
    or of intervals (DuckDB would cast true to 1 and an interval to seconds)."""
    path = _parquet(
        tmp_path,
        "SELECT 7 AS household_id, '330106' AS county_code, "
        '[1, 2] AS "history.reported_by", true AS "assets.money"',
        "SELECT 7 AS household_id, 'p1' AS person_id, DATE '1960-01-02' AS birth_date, "
        'INTERVAL 5 SECOND AS "income.wage"',
        "SELECT 7 AS household_id, 'x' AS \"event.type\", DATE '2025-03-01' AS \"event.date\"",
    )

    found = refused(path)

    assert [(code, cell) for code, cell, _ in found] == [
        ("E603", "第1行 household_id"),
        ("E603", "第1行 assets.money"),
        ("E603", "第1行 history.reported_by"),
        ("E603", "第1行 income.wage"),
        ("E603", "第1行 household_id"),
        ("E603", "第1行 household_id"),
    ]
    assert "实际为「7」" in found[0][2] and "文本（VARCHAR）列" in found[0][2]
    assert "members.parquet:第1行 household_id" in found[4][2] and "实际为「7」" in found[4][2]
    assert "events.parquet:第1行 household_id" in found[5][2]
    assert "的类型不对；实际为「true」" in found[1][2]


@pytest.mark.parametrize(
    ("households", "members"),
    [("VARCHAR", "VARCHAR COLLATE NOCASE"), ("VARCHAR COLLATE NFC", "VARCHAR"),
     ("VARCHAR COLLATE NOCASE", "VARCHAR COLLATE NOACCENT")],
    ids=["nocase-members", "nfc-households", "two-collations"],
)
def test_ids_in_collated_duckdb_columns_are_compared_byte_for_byte(
    tmp_path: Path, households: str, members: str
) -> None:
    """A DuckDB column declared with a collation compares by it wherever it is read:
    the members of "H1" and "h1" (or of "é" and "e" with a combining accent) joined
    both households, and two collations stopped the run with a binder error. Ids are
    codes, read as their bytes as a Parquet or CSV file's are."""
    h1, h2 = ("H1", "h1") if "NFC" not in households else ("\u00e9", "e\u0301")
    path = tmp_path / "in.duckdb"
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE households (household_id {households}, county_code VARCHAR)")
    con.execute("INSERT INTO households VALUES (?, '330106'), (?, '330106')", [h1, h2])
    con.execute(
        f"CREATE TABLE members (household_id {members}, person_id VARCHAR, birth_date DATE, "
        '"income.wage" DECIMAL(18, 2))'
    )
    con.execute(
        "INSERT INTO members VALUES (?, 'P1', DATE '1980-01-02', 9000), "
        "(?, 'P2', DATE '1980-01-02', 0)",
        [h1, h2],
    )
    con.close()
    con = duckdb.connect()
    load_households(con, path, FIELDS)
    assert con.execute(
        "SELECT h.household_id, count(*) FROM jz_households h JOIN jz_members m "
        "USING (household_id) GROUP BY ALL ORDER BY 1"
    ).fetchall() == sorted([(h1, 1), (h2, 1)])


@pytest.mark.parametrize("column", ["rowid", "_jz_rowid"])
def test_a_duckdb_table_with_a_column_named_rowid_is_refused(tmp_path: Path, column: str) -> None:
    """DuckDB's row number keeps the table's order; a column named rowid hid it, and
    the decisions came out in the order of its values, with its values as row
    numbers in every message."""
    path = _duckdb_file(tmp_path, f"-5 AS {column}")
    [(code, _, text)] = refused(path)
    assert code == "E605" and f"households 表中有名为「{column}」的列" in text
    assert "ALTER TABLE households RENAME COLUMN" in text


def test_a_parquet_column_named_file_row_number_is_refused_in_chinese(tmp_path: Path) -> None:
    path = _parquet(
        tmp_path,
        "SELECT 'H1' AS household_id, '330106' AS county_code, 3 AS file_row_number",
        "SELECT 'H1' AS household_id, 'p1' AS person_id, DATE '1960-01-02' AS birth_date",
        "SELECT 'H1' AS household_id, 'x' AS \"event.type\", DATE '2025-03-01' AS \"event.date\"",
    )
    [(code, _, text)] = refused(path)
    assert code == "E605" and "中有名为「file_row_number」的列" in text
    assert "Binder Error" not in text


def test_an_enum_household_id_of_members_joins_its_household_as_text(tmp_path: Path) -> None:
    """An ENUM is text held as one of its labels (helper-55: it was refused as 「类型不
    对」); the member joins household "H1" by its label, as a VARCHAR would."""
    path = _duckdb_file(tmp_path, "", "CAST('H1' AS ENUM('H1', 'H2'))")
    con = duckdb.connect()
    load_households(con, path, FIELDS)
    assert con.execute("SELECT household_id, person_id FROM jz_members").fetchall() == [
        ("H1", "p1")
    ]


def test_a_column_named_like_an_internal_one_is_ignored(tmp_path: Path) -> None:
    """The staging views add _row, _hid and _pos; a file column of that name used to
    hide ours (a member's place in its household read from the file's own _pos)."""
    path = _parquet(
        tmp_path,
        "SELECT 'H1' AS household_id, '330106' AS county_code, 99 AS _pos, 'x' AS _hid",
        "SELECT 'H1' AS household_id, unnest(['p1', 'p2']) AS person_id, "
        "DATE '1960-01-02' AS birth_date, 5 AS _pos, 7 AS _row",
        "SELECT 'H1' AS household_id, 'x' AS \"event.type\", DATE '2025-03-01' AS \"event.date\"",
    )
    con = duckdb.connect()
    load_households(con, path, FIELDS)
    assert con.execute("SELECT household_id, _hh_index FROM jz_households").fetchall() == [("H1", 0)]
    assert con.execute(
        "SELECT person_id, _member_index FROM jz_members ORDER BY 2"
    ).fetchall() == [("p1", 0), ("p2", 1)]


def test_an_amount_in_a_duckdb_enum_column_of_digits_is_taken(tmp_path: Path) -> None:
    path = _duckdb_file(tmp_path, "CAST('12.50' AS ENUM('12.50', '13')) AS \"assets.money\"")
    con = duckdb.connect()
    load_households(con, path, FIELDS)
    assert con.execute('SELECT "assets.money" FROM jz_households').fetchall() == [
        (Decimal("12.50"),)
    ]


def test_the_service_refuses_a_reported_by_that_is_not_text(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from compiler.service import Settings, create_app

    settings = Settings(
        tables=ROOT / "tables", registry=tmp_path / "none.duckdb", warm_on_start=False
    )
    households = [
        household(**{"household_id": f"R{i}", "history.reported_by": value})
        for i, value in enumerate([[1, 2], {"a": 1}, 5, "街道办事处"])
    ]
    with TestClient(create_app(settings)) as client:
        response = client.post(
            "/v1/decisions", json={"as_of": "2025-06-01", "households": households}
        )

    assert response.status_code == 422, response.text
    errors = [(e["code"], e["path"], e["found"]) for e in response.json()["errors"]]
    assert errors == [
        ("E603", f"$.households[{i}].history.reported_by", found)
        for i, found in enumerate(["[1,2]", '{"a":1}', "5"])
    ]


def test_a_duckdb_column_that_is_no_field_is_named_with_its_table(tmp_path: Path) -> None:
    path = _duckdb_file(tmp_path, "'x' AS note")
    loaded = load_households(duckdb.connect(), path, FIELDS)
    assert loaded.warnings == ["households 表中的列 note 不是已声明的字段，已忽略"]


def test_an_amount_in_a_float_column_is_refused_showing_what_it_holds(tmp_path: Path) -> None:
    """A 4-byte FLOAT holds 15611.88 as 15611.8798828125; the message used to show
    "15611.88" and ask for at most two decimals (helper-36). An amount a FLOAT holds
    exactly (40.5) is read."""
    path = _duckdb_file(
        tmp_path, 'CAST(15611.88 AS FLOAT) AS "assets.money", CAST(40.5 AS FLOAT) AS "assets.floor_area_m2"'
    )
    [(code, cell, text)] = refused(path)
    assert (code, cell) == ("E603", "households 表第1行 assets.money")
    assert "单精度浮点数（FLOAT）列" in text and "实际为「15611.8798828125」" in text


@pytest.mark.parametrize("fmt", ["parquet", "duckdb"])
def test_struct_columns_are_read_as_their_dotted_fields(tmp_path: Path, fmt: str) -> None:
    """DuckDB's read_json and pandas write {"assets": {"money": ...}} as a STRUCT column
    assets; its fields were ignored (W601) and the household decided with nothing
    (helper-36). A field no declared field has is still named."""
    households = (
        "SELECT 'H1' AS household_id, '330106' AS county_code, "
        "{'money': 1234.50::DECIMAL(18,2), 'vehicles': 2, 'boats': 1} AS assets"
    )
    members = (
        "SELECT 'H1' AS household_id, 'p1' AS person_id, DATE '1960-01-02' AS birth_date, "
        "{'wage': '15611.88'} AS income"
    )
    if fmt == "parquet":
        events = "SELECT 'H1' AS household_id, 'x' AS \"event.type\", DATE '2025-03-01' AS \"event.date\""
        path = _parquet(tmp_path, households, members, events)
    else:
        path = tmp_path / "in.duckdb"
        con = duckdb.connect(str(path))
        con.execute(f"CREATE TABLE households AS {households}")
        con.execute(f"CREATE TABLE members AS {members}")
        con.close()
    con = duckdb.connect()
    loaded = load_households(con, path, FIELDS)
    assert con.execute('SELECT "assets.money", "assets.vehicles" FROM jz_households').fetchall() == [
        (Decimal("1234.50"), 2)
    ]
    assert con.execute('SELECT "income.wage" FROM jz_members').fetchall() == [(Decimal("15611.88"),)]
    assert [w for w in loaded.warnings if "assets" in w] == [
        w for w in loaded.warnings if "assets.boats" in w and "不是已声明的字段" in w
    ] != []


def test_a_csv_header_may_name_a_field_in_other_case_or_by_its_chinese_name(
    tmp_path: Path,
) -> None:
    """A spreadsheet's header says 工资性收入 or Assets.Money; both were ignored (W601)
    and the household decided with nothing (helper-36). A name close to a field's that
    is not found is told which field it resembles."""
    (tmp_path / "x-households.csv").write_text(
        "household_id,county_code,Assets.Money\nH1,330106,100\n", encoding="utf-8"
    )
    (tmp_path / "x-members.csv").write_text(
        "household_id,person_id,birth_date,名称income.wage,lives_in_househld\n"
        "H1,p1,1960-01-02,15611.88,2\n",
        encoding="utf-8",
    )
    con = duckdb.connect()
    loaded = load_households(con, tmp_path / "x-households.csv", FIELDS)
    assert con.execute('SELECT "assets.money" FROM jz_households').fetchall() == [(Decimal("100.00"),)]
    assert con.execute('SELECT "income.wage" FROM jz_members').fetchall() == [(Decimal("15611.88"),)]
    said = "x-members.csv 中的列 lives_in_househld 不是已声明的字段，已忽略"
    # the field it resembles, with its Chinese name (the fixture's is 名称 + the id)
    hint = "lives_in_househld 是否想写「lives_in_household」（名称lives_in_household）？"
    hint += "该列没有读取，「名称lives_in_household」按默认值「是」决策"  # what the run did
    assert loaded.warnings == [f"{said}（{hint}）"]
    # the keys that link the files are read by their exact names only
    (tmp_path / "x-members.csv").write_text(
        "HOUSEHOLD_ID,person_id,birth_date\nH1,p1,1960-01-02\n", encoding="utf-8"
    )
    [(code, _, text)] = refused(tmp_path / "x-households.csv")
    assert code == "E604" and "中没有必填字段「户编号」（household_id）这一列" in text


def test_a_field_given_by_two_columns_is_refused_naming_both(tmp_path: Path) -> None:
    """assets.money beside its Chinese name, or flat beside a STRUCT's field: one was
    dropped with a false W601 and the household decided on the other (helper-41)."""
    (tmp_path / "x-households.csv").write_text(
        "household_id,county_code,assets.money,名称assets.money\nH1,330106,0,99999999\n",
        encoding="utf-8",
    )
    (tmp_path / "x-members.csv").write_text(
        "household_id,person_id,birth_date\nH1,p1,1960-01-02\n", encoding="utf-8"
    )
    [(code, _, text)] = refused(tmp_path / "x-households.csv")
    assert code == "E605" and "有 2 列：assets.money、名称assets.money" in text
    folder = tmp_path / "pq"
    folder.mkdir()
    path = _parquet(
        folder,
        "SELECT 'H1' AS household_id, '330106' AS county_code, 0::DECIMAL(18,2) AS \"assets.money\", "
        "{'money': 99999999::DECIMAL(18,2)} AS assets",
        "SELECT 'H1' AS household_id, 'p1' AS person_id, DATE '1960-01-02' AS birth_date",
        "SELECT 'H1' AS household_id, 'x' AS \"event.type\", DATE '2025-03-01' AS \"event.date\"",
    )
    [(code, _, text)] = refused(path)
    assert code == "E605" and "assets.money（列）、assets 结构中的 money" in text
