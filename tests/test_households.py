"""Loading household input: every format gives the same typed tables, and every bad
value is reported with its code, its place and a readable message."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from compiler.errors import InputError
from compiler.households import iter_households, load_households
from compiler.households_check import _holds
from compiler.model import DType, Field, Kind, Level

H, M, E = Level.HOUSEHOLD, Level.MEMBER, Level.EVENT


def _field(
    ident: str, level: Level, kind: Kind, default: object = None, *values: str
) -> Field:
    return Field(ident, f"名称{ident}", level, DType(kind, values), default)


FIELDS = {
    f.id: f
    for f in [
        _field("household_id", H, Kind.TEXT),
        _field("county_code", H, Kind.TEXT),
        _field("assets.money", H, Kind.MONEY, Decimal(0)),
        _field("assets.vehicles", H, Kind.INTEGER, 0),
        _field("assets.floor_area_m2", H, Kind.NUMBER, Decimal(0)),
        _field("assets.share", H, Kind.PERCENT),
        _field("assets.nonresidential", H, Kind.BOOLEAN, False),
        _field("current.group", H, Kind.ENUM, None, "tekun", "dibao", "none"),
        _field("current.since", H, Kind.DATE),
        _field("history.reported_by", H, Kind.TEXT),
        _field("person_id", M, Kind.TEXT),
        _field("relation", M, Kind.ENUM, None, "head", "spouse", "child"),
        _field("birth_date", M, Kind.DATE),
        _field("lives_in_household", M, Kind.BOOLEAN, True),
        _field("income.wage", M, Kind.MONEY, Decimal(0)),
        _field("event.type", E, Kind.TEXT),
        _field("event.date", E, Kind.DATE),
        _field("event.person_id", E, Kind.TEXT),
        _field("event.amount", E, Kind.MONEY),
    ]
}

HOUSEHOLDS: list[dict[str, Any]] = [
    {
        "household_id": "H1",
        "county_code": "330106",
        "assets": {
            "money": 1402.5,
            "vehicles": 1,
            "floor_area_m2": "85.5",
            "share": 0.35,
            "nonresidential": True,
        },
        "current": {"group": "dibao", "since": "2024-01-31"},
        "history": {"reported_by": "西湖区民政局"},
        "members": [
            {
                "person_id": "p1",
                "relation": "head",
                "birth_date": "1960-01-02",
                "income": {"wage": "2400.00"},
            },
            {
                "person_id": "p2",
                "relation": "spouse",
                "birth_date": "1990-05-06",
                "lives_in_household": False,
            },
        ],
        "events": [
            {
                "type": "high_medical_expense",
                "date": "2025-03-01",
                "person_id": "p1",
                "amount": 20000,
            }
        ],
    },
    {
        "household_id": "H2",
        "county_code": "330102",
        "current": {"group": None, "since": None},
        "members": [{"person_id": "q1", "birth_date": "2000-02-29"}],
        "events": [],
    },
    {
        "household_id": "H3",
        "county_code": "330106",
        "members": [{"person_id": "r1", "birth_date": "1975-07-08"}],
    },
]

HOUSEHOLD_COLUMNS = [
    ("household_id", "VARCHAR"),
    ("county_code", "VARCHAR"),
    ("_hh_index", "BIGINT"),
    ("assets.money", "DECIMAL(18,2)"),
    ("assets.vehicles", "BIGINT"),
    ("assets.floor_area_m2", "DECIMAL(18,4)"),
    ("assets.share", "DECIMAL(18,6)"),
    ("assets.nonresidential", "BOOLEAN"),
    ("current.group", "VARCHAR"),
    ("current.since", "DATE"),
    ("history.reported_by", "VARCHAR"),
]
MEMBER_COLUMNS = [
    ("household_id", "VARCHAR"),
    ("_member_index", "BIGINT"),
    ("person_id", "VARCHAR"),
    ("relation", "VARCHAR"),
    ("birth_date", "DATE"),
    ("lives_in_household", "BOOLEAN"),
    ("income.wage", "DECIMAL(18,2)"),
]
EVENT_COLUMNS = [
    ("household_id", "VARCHAR"),
    ("_event_index", "BIGINT"),
    ("event.type", "VARCHAR"),
    ("event.date", "DATE"),
    ("event.person_id", "VARCHAR"),
    ("event.amount", "DECIMAL(18,2)"),
]
HOUSEHOLD_ROWS = [
    ("H1", "330106", 0, Decimal("1402.50"), 1, Decimal("85.5000"), Decimal("0.350000"),
     True, "dibao", date(2024, 1, 31), "西湖区民政局"),
    ("H2", "330102", 1, Decimal("0.00"), 0, Decimal("0.0000"), None, False, None, None, None),
    ("H3", "330106", 2, Decimal("0.00"), 0, Decimal("0.0000"), None, False, None, None, None),
]  # fmt: skip
MEMBER_ROWS = [
    ("H1", 0, "p1", "head", date(1960, 1, 2), True, Decimal("2400.00")),
    ("H1", 1, "p2", "spouse", date(1990, 5, 6), False, Decimal("0.00")),
    ("H2", 0, "q1", None, date(2000, 2, 29), True, Decimal("0.00")),
    ("H3", 0, "r1", None, date(1975, 7, 8), True, Decimal("0.00")),
]
EVENT_ROWS = [
    ("H1", 0, "high_medical_expense", date(2025, 3, 1), "p1", Decimal("20000.00")),
]


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


# ---------------------------------------------------------------------------- writers


def write_jsonl(path: Path, households: list[dict[str, Any]]) -> Path:
    lines = [json.dumps(h, ensure_ascii=False) for h in households]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_json(path: Path, households: list[dict[str, Any]]) -> Path:
    path.write_text(
        json.dumps(households, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return path


def _flat(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            flat.update(_flat(value, f"{prefix}{key}."))
        elif not isinstance(value, list):
            flat[prefix + key] = value
    return flat


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def _write_rows(
    path: Path, header: list[str], rows: list[dict[str, Any]], encoding: str
) -> None:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(
            [[_csv_cell(row.get(name)) for name in header] for row in rows]
        )


def write_csv(
    folder: Path, households: list[dict[str, Any]], encoding: str = "utf-8"
) -> Path:
    ids = {
        level: [f.id for f in FIELDS.values() if f.level is level] for level in Level
    }
    members, events = [], []
    for h in households:
        members += [
            {"household_id": h["household_id"], **_flat(m)}
            for m in h.get("members", [])
        ]
        events += [
            {
                "household_id": h["household_id"],
                **{"event." + k: v for k, v in e.items()},
            }
            for e in h.get("events", [])
        ]
    _write_rows(
        folder / "x-households.csv", ids[H], [_flat(h) for h in households], encoding
    )
    _write_rows(folder / "x-members.csv", ["household_id", *ids[M]], members, encoding)
    _write_rows(folder / "x-events.csv", ["household_id", *ids[E]], events, encoding)
    return folder / "x-households.csv"


def _typed_tables(folder: Path) -> duckdb.DuckDBPyConnection:
    """Tables households, members, events as a database would hold them."""
    source = duckdb.connect()
    load_households(source, write_jsonl(folder / "seed.jsonl", HOUSEHOLDS), FIELDS)
    for level, name in ((H, "households"), (M, "members"), (E, "events")):
        index = {H: "_hh_index", M: "_member_index", E: "_event_index"}[level]
        table = {H: "jz_households", M: "jz_members", E: "jz_events"}[level]
        source.execute(
            f"CREATE TABLE {name} AS SELECT * EXCLUDE ({index}) FROM {table}"
        )
    return source


def write_parquet(folder: Path, households: list[dict[str, Any]]) -> Path:
    assert households is HOUSEHOLDS
    source = _typed_tables(folder)
    for name in ("households", "members", "events"):
        source.execute(
            f"COPY {name} TO '{folder / f'x-{name}.parquet'}' (FORMAT parquet)"
        )
    return folder / "x-households.parquet"


def write_duckdb(folder: Path, households: list[dict[str, Any]]) -> Path:
    assert households is HOUSEHOLDS
    source = _typed_tables(folder)
    target = folder / "input.duckdb"
    source.execute(f"ATTACH '{target}' AS target")
    for name in ("households", "members", "events"):
        source.execute(f"CREATE TABLE target.{name} AS SELECT * FROM {name}")
    source.execute("DETACH target")
    return target


Writer = Callable[[Path, list[dict[str, Any]]], Path]
WRITERS: dict[str, Writer] = {
    "jsonl": lambda folder, hh: write_jsonl(folder / "in.jsonl", hh),
    "json": lambda folder, hh: write_json(folder / "in.json", hh),
    "csv-utf8": lambda folder, hh: write_csv(folder, hh),
    "csv-bom": lambda folder, hh: write_csv(folder, hh, "utf-8-sig"),
    "csv-gb18030": lambda folder, hh: write_csv(folder, hh, "gb18030"),
    "parquet": write_parquet,
    "duckdb": write_duckdb,
}


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE {table}").fetchall()]


def _rows(
    con: duckdb.DuckDBPyConnection, table: str, order: str
) -> list[tuple[Any, ...]]:
    return con.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()


def _diagnostics(load: Callable[[], object]) -> list[tuple[str, str | None, str]]:
    with pytest.raises(InputError) as raised:
        load()
    return [(d.code, d.location.cell, d.render()) for d in raised.value.diagnostics]


# ---------------------------------------------------------------------------- loading


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_every_format_loads_the_same_typed_tables(
    fmt: str, tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    loaded = load_households(con, WRITERS[fmt](tmp_path, HOUSEHOLDS), FIELDS)

    assert (loaded.households, loaded.members, loaded.events) == (3, 4, 1)
    assert _columns(con, "jz_households") == HOUSEHOLD_COLUMNS
    assert _columns(con, "jz_members") == MEMBER_COLUMNS
    assert _columns(con, "jz_events") == EVENT_COLUMNS
    assert _rows(con, "jz_households", "_hh_index") == HOUSEHOLD_ROWS
    assert _ranked(con, "jz_members", "_member_index") == MEMBER_ROWS
    assert _ranked(con, "jz_events", "_event_index") == EVENT_ROWS
    # JSON and CSV number members within their household; Parquet and DuckDB input keep
    # the file row (no window over every read of the view), which orders them the same
    rows = {"parquet": [0, 1, 2, 3], "duckdb": [0, 1, 2, 3]}.get(fmt, [0, 1, 0, 0])
    found = con.execute("SELECT _member_index FROM jz_members ORDER BY household_id, _member_index")
    assert [r[0] for r in found.fetchall()] == rows


def _ranked(con: duckdb.DuckDBPyConnection, table: str, index: str) -> list[tuple[Any, ...]]:
    """Rows with the index replaced by the row's rank within its household."""
    return con.execute(
        f"SELECT * REPLACE (row_number() OVER (PARTITION BY household_id ORDER BY {index}) - 1"
        f" AS {index}) FROM {table} ORDER BY household_id, {index}"
    ).fetchall()


@pytest.mark.parametrize(
    ("fmt", "kind"),
    [
        ("jsonl", "BASE TABLE"),
        ("csv-utf8", "BASE TABLE"),
        ("parquet", "VIEW"),
        ("duckdb", "VIEW"),
    ],
)
def test_large_formats_stay_behind_views(
    fmt: str, kind: str, tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    load_households(con, WRITERS[fmt](tmp_path, HOUSEHOLDS), FIELDS)

    found = con.execute(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_name LIKE '%jz%' ORDER BY 1"
    ).fetchall()
    inputs = [
        (name, table_type) for name, table_type in found if name.startswith("jz_")
    ]
    assert inputs == [
        ("jz_events", kind),
        ("jz_households", kind),
        ("jz_members", kind),
    ]
    if kind == "BASE TABLE":
        assert len(found) == 3  # the staging tables were dropped


def test_county_filter_keeps_one_county_and_file_positions(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    loaded = load_households(
        con, write_jsonl(tmp_path / "a.jsonl", HOUSEHOLDS), FIELDS, county="330106"
    )

    assert (loaded.households, loaded.members, loaded.events) == (2, 3, 1)
    households = con.execute(
        "SELECT household_id, _hh_index FROM jz_households ORDER BY 2"
    )
    assert households.fetchall() == [("H1", 0), ("H3", 2)]
    members = con.execute("SELECT DISTINCT household_id FROM jz_members ORDER BY 1")
    assert members.fetchall() == [("H1",), ("H3",)]


def test_csv_member_index_follows_row_order_within_each_household(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = write_csv(tmp_path, HOUSEHOLDS)
    (tmp_path / "x-members.csv").write_text(
        "household_id,person_id,birth_date\nH1,b,1990-01-01\nH2,c,1991-01-01\n"
        "H1,a,1992-01-01\nH3,d,1993-01-01\n",
        encoding="utf-8",
    )

    load_households(con, path, FIELDS)

    rows = con.execute(
        "SELECT household_id, _member_index, person_id FROM jz_members ORDER BY 1, 2"
    ).fetchall()
    assert rows == [("H1", 0, "b"), ("H1", 1, "a"), ("H2", 0, "c"), ("H3", 0, "d")]


def test_csv_event_columns_may_drop_the_event_prefix_and_unknown_columns_warn(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = write_csv(tmp_path, HOUSEHOLDS)
    (tmp_path / "x-events.csv").write_text(
        "household_id,type,date,person_id,amount,note\nH2,unemployment_registration,"
        "2025-01-02,q1,,备注\n",
        encoding="utf-8",
    )

    loaded = load_households(con, path, FIELDS)

    assert con.execute("SELECT * FROM jz_events").fetchall() == [
        ("H2", 0, "unemployment_registration", date(2025, 1, 2), "q1", None)
    ]
    assert loaded.warnings == ["x-events.csv 中的列 note 不是已声明的字段，已忽略"]


def test_json_money_is_exact_from_numbers_and_strings(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    household = {"household_id": "H", "county_code": "330106"}
    household["members"] = [{"person_id": "P1", "birth_date": "1980-01-01"}]
    rows = [
        {**household, "household_id": f"H{i}", "assets": {"money": v}}
        for i, v in enumerate([0.1, "0.10", 1402.5, "12345678901234.56", 1e3, "-3"])
    ]

    load_households(con, write_jsonl(tmp_path / "a.jsonl", rows), FIELDS)

    money = con.execute('SELECT "assets.money" FROM jz_households ORDER BY _hh_index')
    assert [r[0] for r in money.fetchall()] == [
        Decimal("0.10"), Decimal("0.10"), Decimal("1402.50"),
        Decimal("12345678901234.56"), Decimal("1000.00"), Decimal("-3.00"),
    ]  # fmt: skip


def test_loading_again_replaces_the_previous_input(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    load_households(con, write_parquet(tmp_path, HOUSEHOLDS), FIELDS)
    loaded = load_households(
        con, write_jsonl(tmp_path / "b.jsonl", HOUSEHOLDS[1:2]), FIELDS
    )

    assert loaded.households == 1
    assert con.execute("SELECT household_id FROM jz_households").fetchall() == [("H2",)]


def test_file_order_is_kept_even_where_the_connection_lets_it_go(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    con.execute("SET preserve_insertion_order = false")

    load_households(con, write_jsonl(tmp_path / "a.jsonl", HOUSEHOLDS), FIELDS)

    assert _rows(con, "jz_households", "_hh_index") == HOUSEHOLD_ROWS
    setting = con.execute("SELECT current_setting('preserve_insertion_order')")
    assert setting.fetchall() == [(False,)]


def test_an_empty_jsonl_file_loads_no_households(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_text("\n", encoding="utf-8")

    loaded = load_households(con, path, FIELDS)

    assert (loaded.households, loaded.members, loaded.events) == (0, 0, 0)
    assert _columns(con, "jz_households") == HOUSEHOLD_COLUMNS


def test_a_field_nested_under_another_is_refused(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    fields = {**FIELDS, "current": _field("current", H, Kind.TEXT)}
    path = write_jsonl(tmp_path / "a.jsonl", HOUSEHOLDS)

    [(code, _, message)] = _diagnostics(lambda: load_households(con, path, fields))

    assert code == "E605" and "互为上下级" in message


def test_a_list_field_is_refused(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    fields = {**FIELDS, "tags": _field("tags", H, Kind.LIST)}
    path = write_jsonl(tmp_path / "a.jsonl", HOUSEHOLDS)

    [(code, _, message)] = _diagnostics(lambda: load_households(con, path, fields))

    assert code == "E605" and "家庭数据不支持列表" in message


# ---------------------------------------------------------------------------- problems


def _one(**changes: Any) -> dict[str, Any]:
    household: dict[str, Any] = json.loads(json.dumps(HOUSEHOLDS[0]))
    for path, value in changes.items():
        node = household
        *parents, leaf = path.split("__")
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is _DELETE:
            del node[leaf]
        else:
            node[leaf] = value
    return household


_DELETE = object()
JSON_PROBLEMS = [
    ("money-too-precise", _one(assets__money=1402.505), "E603",
     "第2行 $.assets.money", "「1402.505」；应为最多 2 位小数的金额，如 1402.50"),
    ("money-with-unit", _one(assets__money="1402元"), "E603",
     "第2行 $.assets.money", "类型不对"),
    ("integer-with-decimals", _one(assets__vehicles=1.5), "E603",
     "第2行 $.assets.vehicles", "应为不带小数的整数"),
    ("percent-too-precise", _one(assets__share=0.1234567), "E603",
     "第2行 $.assets.share", "百分比"),
    ("boolean-word", _one(members__1__lives_in_household="maybe"), "E603",
     "第2行 $.members[1].lives_in_household", "应为是否"),
    ("impossible-date", _one(current__since="2025-02-30"), "E603",
     "第2行 $.current.since", "的日期不存在；实际为「2025-02-30」"),
    ("leap-day-of-a-common-year", _one(members__0__birth_date="2025-02-29"), "E603",
     "第2行 $.members[0].birth_date", "的日期不存在"),
    ("date-with-time", _one(current__since="2025-02-03 10:00:00"), "E603",
     "第2行 $.current.since", "YYYY-MM-DD"),
    ("enum-value", _one(current__group="low"), "E603",
     "第2行 $.current.group", "取值之一：tekun、dibao、none"),
    ("county-format", _one(county_code="33010"), "E603",
     "第2行 $.county_code", "六位行政区划代码"),
    ("no-household-id", _one(household_id=_DELETE), "E604",
     "第2行 $.household_id", "缺少必填字段「户编号」"),
    ("null-county", _one(county_code=None), "E604",
     "第2行 $.county_code", "缺少必填字段"),
    ("no-person-id", _one(members__0__person_id=_DELETE), "E604",
     "第2行 $.members[0].person_id", "成员编号"),
    ("no-birth-date", _one(members__1__birth_date=""), "E604",
     "第2行 $.members[1].birth_date", "名称birth_date"),
    ("same-person-twice", _one(members__1__person_id="p1"), "E603",
     "第2行 $.members[1].person_id", "与 第2行 $.members[0].person_id 重复"),
    ("event-money", _one(events__0__amount="many"), "E603",
     "第2行 $.events[0].amount", "金额"),
    ("assets-not-object", _one(assets=5), "E603", "第2行 $.assets", "应为JSON 对象"),
    ("members-not-list", _one(members={"person_id": "p"}), "E603",
     "第2行 $.members", "应为JSON 列表"),
    ("member-not-object", _one(members=["p1"]), "E603", "第2行 $.members[0]", "结构不对"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("household", "code", "cell", "phrase"),
    [case[1:] for case in JSON_PROBLEMS],
    ids=[case[0] for case in JSON_PROBLEMS],
)
def test_jsonl_problem_is_reported_at_its_line_and_path(
    household: dict[str, Any],
    code: str,
    cell: str,
    phrase: str,
    tmp_path: Path,
    con: duckdb.DuckDBPyConnection,
) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [HOUSEHOLDS[1], household, HOUSEHOLDS[2]])

    found = _diagnostics(lambda: load_households(con, path, FIELDS))

    assert [(c, where) for c, where, _ in found] == [(code, cell)]
    assert phrase.format(file=path) in found[0][2]


def test_unknown_county_is_e606(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", HOUSEHOLDS)

    found = _diagnostics(
        lambda: load_households(con, path, FIELDS, known_counties={"330106"})
    )

    assert found == [("E606", "第2行 $.county_code", found[0][2])]
    assert "未知的县（市、区）代码「330102」" in found[0][2]


def test_repeated_household_id_names_the_first_line(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = write_jsonl(
        tmp_path / "in.jsonl", [HOUSEHOLDS[0], HOUSEHOLDS[1], HOUSEHOLDS[0]]
    )

    [(code, cell, message)] = _diagnostics(lambda: load_households(con, path, FIELDS))

    assert (code, cell) == ("E603", "第3行 $.household_id")
    assert "「H1」" in message and "与 第1行 $.household_id 重复" in message


def test_line_numbers_count_blank_lines(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = tmp_path / "in.jsonl"
    bad = json.dumps(_one(assets__money="x"))
    path.write_text(f"{json.dumps(HOUSEHOLDS[1])}\n\n   \n{bad}\n", encoding="utf-8")

    [(_, cell, _)] = _diagnostics(lambda: load_households(con, path, FIELDS))

    assert cell == "第4行 $.assets.money"


def test_every_problem_is_reported_in_one_pass(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    bad = _one(assets__money="x", current__group="low", members__0__birth_date="1.1.1")
    path = write_jsonl(
        tmp_path / "in.jsonl", [bad, _one(household_id="H9", county_code=None)]
    )

    found = _diagnostics(lambda: load_households(con, path, FIELDS))

    assert [(c, cell) for c, cell, _ in found] == [
        ("E603", "第1行 $.assets.money"),
        ("E603", "第1行 $.current.group"),
        ("E604", "第2行 $.county_code"),
        ("E603", "第1行 $.members[0].birth_date"),
    ]


def test_problems_are_capped_at_200_with_a_count_of_the_rest(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    rows = [_one(household_id=f"H{i}", assets__money="x") for i in range(250)]
    path = write_jsonl(tmp_path / "in.jsonl", rows)

    found = _diagnostics(lambda: load_households(con, path, FIELDS))

    assert len(found) == 201
    assert found[-1][0] == "E605" and "另有 50 处未列出" in found[-1][2]


def test_a_failed_load_leaves_no_tables(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    load_households(con, write_jsonl(tmp_path / "ok.jsonl", HOUSEHOLDS), FIELDS)
    path = write_jsonl(tmp_path / "bad.jsonl", [_one(assets__money="x")])

    _diagnostics(lambda: load_households(con, path, FIELDS))

    left = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    assert left == []


def test_broken_json_line_is_e605_and_shape_problems_are_all_listed(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = tmp_path / "in.jsonl"
    good = json.dumps(HOUSEHOLDS[1])
    path.write_text(
        f'{good}\n{{"household_id": "H5",\n[1]\n{{"a": 1, "a": 2}}\n', encoding="utf-8"
    )

    found = _diagnostics(lambda: load_households(con, path, FIELDS))

    assert [(c, cell) for c, cell, _ in found] == [
        ("E605", "第2行"),
        ("E603", "第3行 $"),
        ("E605", "第4行"),
    ]
    assert "不是合法的 JSON" in found[0][2] and "「a」重复出现" in found[2][2]


DEEP = "[" * 100_000 + "]" * 100_000  # past any recursion limit of a JSON parser


@pytest.mark.parametrize(
    ("name", "text", "cell"),
    [
        ("in.jsonl", f"{json.dumps(HOUSEHOLDS[1])}\n{DEEP}\n", "第2行"),
        ("in.json", f"[{DEEP}]", None),
    ],
    ids=["jsonl", "json"],
)
@pytest.mark.parametrize("with_fields", [True, False], ids=["load", "as-written"])
def test_json_nested_too_deep_is_e605_naming_the_line(
    name: str, text: str, cell: str | None, with_fields: bool, tmp_path: Path
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    fields = FIELDS if with_fields else None

    [(code, where, message)] = _diagnostics(
        lambda: list(iter_households(path, fields))
    )

    assert (code, where) == ("E605", cell)
    assert "JSON 嵌套过深" in message and name in message


def test_a_read_error_quoting_a_cut_character_is_still_a_diagnostic(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    odd = {"00\u0800\U00010000" * 30: None, "00\x80\U00010000": {"\x1f\x80": None}}
    path = write_json(tmp_path / "in.json", [_one(members=odd)])

    [(code, cell, message)] = _diagnostics(lambda: load_households(con, path, FIELDS))

    assert (code, cell) == ("E603", "$[0].members") and "应为JSON 列表" in message


def test_json_list_problems_are_located_by_index(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = write_json(
        tmp_path / "in.json", [HOUSEHOLDS[1], _one(members__1__income={"wage": "x"})]
    )

    [(code, cell, _)] = _diagnostics(lambda: load_households(con, path, FIELDS))

    assert (code, cell) == ("E603", "$[1].members[1].income.wage")


def test_json_that_is_not_a_list_is_e605(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = tmp_path / "in.json"
    path.write_text(json.dumps(HOUSEHOLDS[0]), encoding="utf-8")

    [(code, _, message)] = _diagnostics(lambda: load_households(con, path, FIELDS))

    assert code == "E605" and "应是家庭的列表" in message


@pytest.mark.parametrize(
    ("name", "phrase"),
    [
        ("in.xlsx", "无法识别家庭数据文件的类型"),
        ("missing.jsonl", "不存在"),
        ("in-hh.csv", "文件名应以 households.csv 结尾"),
    ],
    ids=["extension", "missing", "csv-name"],
)
def test_unreadable_inputs_are_e605(
    name: str, phrase: str, tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = tmp_path / name
    if name != "missing.jsonl":
        path.write_text("x", encoding="utf-8")

    [(code, _, message)] = _diagnostics(lambda: load_households(con, path, FIELDS))

    assert code == "E605" and phrase in message


def test_csv_problems_name_the_file_row_and_column(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = write_csv(tmp_path, [HOUSEHOLDS[1], _one(assets__money="1,40")])
    with (tmp_path / "x-members.csv").open("a", encoding="utf-8") as handle:
        handle.write("H7,z,,,1990-01-01,,\n,y,,,1990-01-01,,\n")

    found = _diagnostics(lambda: load_households(con, path, FIELDS))

    assert [(c, cell) for c, cell, _ in found] == [
        ("E603", "第3行 assets.money"),
        ("E603", "第5行 household_id"),
        ("E604", "第6行 household_id"),
    ]
    assert "x-households.csv:第3行 assets.money" in found[0][2]
    assert (
        "x-members.csv:第5行 household_id: E603 找不到所属的家庭「H7」" in found[1][2]
    )


def _commas(path: Path) -> str:
    """A row as Excel and WPS write one below the data: as many commas as columns."""
    width = len(path.read_text(encoding="utf-8").splitlines()[0].split(","))
    return "," * (width - 1) + "\n"


def test_csv_rows_of_empty_cells_are_skipped(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = write_csv(tmp_path, HOUSEHOLDS)
    members = tmp_path / "x-members.csv"
    for written in (path, members):
        with written.open("a", encoding="utf-8") as handle:
            handle.write(_commas(written) * 2)

    loaded = load_households(con, path, FIELDS)

    assert (loaded.households, loaded.members) == (3, 4)


def test_csv_a_row_with_some_cells_is_checked_at_its_line_after_empty_rows(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = write_csv(tmp_path, HOUSEHOLDS)
    members = tmp_path / "x-members.csv"
    lines = len(members.read_text(encoding="utf-8").splitlines())
    with members.open("a", encoding="utf-8") as handle:
        handle.write(_commas(members) + ",z,,,1990-01-01,,\n" + _commas(members))

    found = _diagnostics(lambda: load_households(con, path, FIELDS))

    assert [(c, cell) for c, cell, _ in found] == [
        ("E604", f"第{lines + 2}行 household_id")
    ]


@pytest.mark.parametrize(
    ("name", "asets", "nickname"),
    [("x.jsonl", "第1行 $.asets", "第1行 $.members[1].nickname"),
     ("x.json", "$[0].asets", "$[0].members[1].nickname")],
    ids=["jsonl", "json"],
)
def test_json_keys_no_field_has_are_warned_about_at_their_first_place(
    name: str, asets: str, nickname: str, tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    """Keys that name nothing declared (a note under a near miss of ``assets``, a
    member's nickname) are warned about; a near miss holding a group's keys, or an
    unknown key among amounts (``income.wages``), is E603 (tests/test_input_shapes)."""
    typo = json.loads(json.dumps(HOUSEHOLDS))
    typo[0]["asets"] = "有存款"
    typo[0]["members"][1]["nickname"] = "阿明"
    typo[2]["members"][0]["nickname"] = "阿强"
    writer = write_jsonl if name.endswith("l") else write_json

    loaded = load_households(con, writer(tmp_path / name, typo), FIELDS)

    first, second = loaded.warnings
    assert f"{name} {asets} 不是已声明的字段，已忽略" in first and "「assets」" in first
    assert f"{name} {nickname} 不是已声明的字段，已忽略" in second
    assert "共 2 处" in second


def test_a_record_nested_too_deep_to_merge_hides_no_misspelt_key(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    """DuckDB cannot merge the structure of a record 1,000 arrays deep; the other
    records' keys were then not looked at, and a misspelt wage went unsaid (helper-36)."""
    typo = json.loads(json.dumps(HOUSEHOLDS))
    typo[0]["deep"] = "DEEP"
    typo[1]["members"][0]["income"] = {"wages": "900000"}
    path = write_jsonl(tmp_path / "x.jsonl", typo)
    path.write_text(path.read_text(encoding="utf-8").replace('"DEEP"', "[" * 1000 + "]" * 1000))
    with pytest.raises(InputError) as refused:  # an unknown key among amounts: E603
        load_households(con, path, FIELDS)
    assert [d.location.cell for d in refused.value.diagnostics] == ["第2行 $.members[0].income.wages"]


def test_csv_dates_and_amounts_as_excel_saves_them_read_as_the_tables_read_them(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    changed = _one(
        assets__money="1,402.50", current__since="2024/1/31",
        members__0__birth_date="1960年1月2日", events__0__date="2025/3/1 0:00",
    )
    load_households(con, write_csv(tmp_path, [changed]), FIELDS)

    assert con.execute(
        'SELECT "assets.money", "current.since" FROM jz_households'
    ).fetchall() == [(Decimal("1402.50"), date(2024, 1, 31))]
    assert con.execute("SELECT birth_date FROM jz_members ORDER BY 1").fetchall()[0] == (
        date(1960, 1, 2),
    )
    assert con.execute('SELECT "event.date" FROM jz_events').fetchall() == [
        (date(2025, 3, 1),)
    ]


@pytest.mark.parametrize(
    ("column", "value", "said"),
    [("current__since", "2024/2/30", "的日期不存在"),
     ("assets__money", "14,02.50", "千位分隔符每三位一个")],
)
def test_csv_impossible_dates_and_misgrouped_amounts_are_still_refused(
    column: str, value: str, said: str, tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = write_csv(tmp_path, [_one(**{column: value})])

    [(code, _, message)] = _diagnostics(lambda: load_households(con, path, FIELDS))

    assert code == "E603" and f"实际为「{value}」" in message and said in message


def test_json_dates_stay_iso_as_the_contract_says(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [_one(current__since="2024/1/31")])

    [(code, _, message)] = _diagnostics(lambda: load_households(con, path, FIELDS))

    assert code == "E603" and "YYYY-MM-DD" in message


def test_csv_in_no_known_encoding_is_e605(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = write_csv(tmp_path, HOUSEHOLDS)
    path.write_bytes(path.read_bytes() + b"\xff\xfe\xff\n")

    [(code, _, message)] = _diagnostics(lambda: load_households(con, path, FIELDS))

    assert code == "E605" and "编码无法识别" in message


def test_csv_without_members_file_is_e605(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = write_csv(tmp_path, HOUSEHOLDS)
    (tmp_path / "x-members.csv").unlink()

    [(code, _, message)] = _diagnostics(lambda: load_households(con, path, FIELDS))

    assert code == "E605" and "找不到成员文件" in message and "x-members.csv" in message


def test_csv_with_an_open_quote_is_e605_at_its_line_in_chinese(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = write_csv(tmp_path, HOUSEHOLDS)
    with path.open("a", encoding="utf-8") as handle:
        handle.write('H9,"330106\n')

    [(code, cell, message)] = _diagnostics(lambda: load_households(con, path, FIELDS))

    assert (code, cell) == ("E605", "第5行") and "引号没有配对" in message
    assert '实际为「H9,"330106」' in message and "Error" not in message


def test_csv_with_a_row_narrower_than_the_header_is_e605_at_its_line(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = write_csv(tmp_path, HOUSEHOLDS)
    lines = path.read_text(encoding="utf-8").splitlines()
    width = len(lines[0].split(","))
    lines.insert(2, "H9,330106")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    [(code, cell, message)] = _diagnostics(lambda: load_households(con, path, FIELDS))

    assert (code, cell) == ("E605", "第3行")
    assert f"这一行有 2 列，表头有 {width} 列" in message and "sniffing" not in message


@pytest.mark.parametrize("rows", [["H2,P1,head,1980-01-01,5000"],
                                  ["H2,P1,head,1980-01-01", "H2,P2,child,2010-01-01,5000"]])
def test_csv_with_a_row_wider_than_the_header_is_e605_at_its_line(
    tmp_path: Path, con: duckdb.DuckDBPyConnection, rows: list[str]
) -> None:
    """DuckDB took the wider row for the header and the lines above for titles: three
    false E604 (no person_id column) quoting the data row (helper-57)."""
    (tmp_path / "households.csv").write_text("household_id,county_code\nH2,330106\n", encoding="utf-8")
    lines = ["household_id,person_id,relation,birth_date", *rows]
    (tmp_path / "members.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    [(code, cell, message)] = _diagnostics(
        lambda: load_households(con, tmp_path / "households.csv", FIELDS)
    )

    assert (code, cell) == ("E605", f"第{len(rows) + 1}行")
    assert "这一行有 5 列，表头有 4 列" in message


def _members_header(
    folder: Path, change: Callable[[list[str]], list[str]], extra: str = ""
) -> list[str]:
    """Rewrite x-members.csv's header (each row gets ``extra`` appended)."""
    members = folder / "x-members.csv"
    header, *rows = members.read_text(encoding="utf-8").splitlines()
    names = change(header.split(","))
    lines = [",".join(names), *(row + extra for row in rows)]
    members.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return names


def test_csv_header_naming_a_column_twice_is_refused_naming_both(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = write_csv(tmp_path, HOUSEHOLDS)
    names = _members_header(tmp_path, lambda names: [
        "income.wage" if n == "relation" else n for n in names
    ])
    first, second = names.index("income.wage") + 1, len(names) - names[::-1].index("income.wage")

    [(code, cell, message)] = _diagnostics(lambda: load_households(con, path, FIELDS))

    assert (code, cell) == ("E605", "第1行")
    assert f"列名「income.wage」出现了 2 次：第 {first} 列" in message
    assert f"第 {second} 列" in message


def test_csv_header_with_a_name_like_a_renamed_one_is_read(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = write_csv(tmp_path, HOUSEHOLDS)
    _members_header(tmp_path, lambda names: [*names, "income.wage_1"], extra=",")

    loaded = load_households(con, path, FIELDS)

    assert "income.wage_1 不是已声明的字段" in loaded.warnings[0]


def test_parquet_values_must_cast_exactly(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    write_parquet(tmp_path, HOUSEHOLDS)
    source = duckdb.connect()
    target = tmp_path / "x-households.parquet"
    source.execute(
        f"COPY (SELECT 'H1' AS household_id, '330106' AS county_code, "
        f'CAST(0.1 AS DOUBLE) AS "assets.money", \'x\' AS "current.since" UNION ALL '
        f"SELECT 'H2', '330102', CAST(0.125 AS DOUBLE), NULL UNION ALL "
        f"SELECT 'H3', '330106', 0, NULL) TO '{target}' (FORMAT parquet)"
    )

    found = _diagnostics(lambda: load_households(con, target, FIELDS))

    assert [(c, cell) for c, cell, _ in found] == [
        ("E603", "第1行 current.since"),
        ("E603", "第2行 assets.money"),
    ]


def _typed_households(folder: Path, select: str) -> Path:
    """The parquet fixture with its households file replaced by ``select``'s rows."""
    folder.mkdir(parents=True, exist_ok=True)
    write_parquet(folder, HOUSEHOLDS)
    target = folder / "x-households.parquet"
    duckdb.connect().execute(f"COPY ({select}) TO '{target}' (FORMAT parquet)")
    return target


def test_a_typed_file_reads_yes_no_and_dates_as_json_does(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    # text cells follow the text rules (是 is yes, dates are ISO); a number is a yes/no
    # only as 0 or 1; a timestamp is a date only at midnight
    target = _typed_households(
        tmp_path,
        "SELECT 'H1' AS household_id, '330106' AS county_code, "
        '\'是\' AS "assets.nonresidential", TIMESTAMP \'2024-01-31 00:00:00\' AS "current.since" '
        "UNION ALL SELECT 'H2', '330102', '2', TIMESTAMP '2024-01-31 13:00:00' "
        "UNION ALL SELECT 'H3', '330106', '', NULL",
    )
    found = _diagnostics(lambda: load_households(con, target, FIELDS))
    assert [(c, cell) for c, cell, _ in found] == [
        ("E603", "第2行 assets.nonresidential"),
        ("E603", "第2行 current.since"),
    ]

    numbers = _typed_households(
        tmp_path / "n",
        "SELECT 'H1' AS household_id, '330106' AS county_code, 1 AS \"assets.nonresidential\", "
        "'2024-01-31' AS \"current.since\" UNION ALL SELECT 'H2', '330102', 0, '2024/1/31' "
        "UNION ALL SELECT 'H3', '330106', 2, NULL",
    )
    found = _diagnostics(lambda: load_households(con, numbers, FIELDS))
    assert [(c, cell) for c, cell, _ in found] == [
        ("E603", "第2行 current.since"),
        ("E603", "第3行 assets.nonresidential"),
    ]

    valid = _typed_households(
        tmp_path / "v",
        "SELECT household_id, county_code, CASE household_id WHEN 'H2' THEN '否' "
        'ELSE "assets.nonresidential" END AS "assets.nonresidential", CASE household_id '
        'WHEN \'H2\' THEN NULL ELSE "current.since" END AS "current.since" '
        f"FROM '{target}'",
    )
    load_households(con, valid, FIELDS)
    rows = con.execute(
        'SELECT household_id, "assets.nonresidential", "current.since" FROM jz_households '
        "ORDER BY 1"
    ).fetchall()
    assert rows == [  # 是 and 否 as in JSON; a blank takes the field's default
        ("H1", True, date(2024, 1, 31)), ("H2", False, None), ("H3", False, None)
    ]


def test_typed_parquet_columns_are_checked_where_their_type_holds_more(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    # DECIMAL(18,3) holds a third decimal money lacks, BIGINT a 19th digit an integer
    # lacks; TINYINT, BOOLEAN, DATE and DECIMAL(18,2) hold nothing wrong
    target = _typed_households(
        tmp_path,
        "SELECT 'H1' AS household_id, '330106' AS county_code, "
        'CAST(0.125 AS DECIMAL(18,3)) AS "assets.money", '
        'CAST(1000000000000000000 AS BIGINT) AS "assets.vehicles", '
        'CAST(85.5 AS DECIMAL(18,2)) AS "assets.floor_area_m2", '
        'TRUE AS "assets.nonresidential", DATE \'2024-01-31\' AS "current.since" '
        "UNION ALL SELECT 'H2', '330102', 0.12, 2, 0, FALSE, NULL "
        "UNION ALL SELECT 'H3', '330106', 0, 3, 0, NULL, NULL",
    )

    found = _diagnostics(lambda: load_households(con, target, FIELDS))

    assert [(c, cell) for c, cell, _ in found] == [
        ("E603", "第1行 assets.money"),
        ("E614", "第1行 assets.vehicles"),  # a number, too large for an integer
    ]
    assert "数值过大" in found[1][2]
    assert "绝对值小于 10¹⁸ 的整数" in found[1][2]


@pytest.mark.parametrize(
    ("stored", "kind", "holds"),
    [
        ("TINYINT", Kind.INTEGER, True),
        ("INTEGER", Kind.MONEY, True),
        ("BIGINT", Kind.INTEGER, False),
        ("DECIMAL(18,2)", Kind.MONEY, True),
        ("DECIMAL(16,4)", Kind.NUMBER, True),
        ("DECIMAL(20,4)", Kind.NUMBER, False),
        ("DECIMAL(18,3)", Kind.MONEY, False),
        ("DOUBLE", Kind.MONEY, False),
        ("DATE", Kind.DATE, True),
        ("TIMESTAMP", Kind.DATE, False),
        ("VARCHAR", Kind.BOOLEAN, False),
        (None, Kind.BOOLEAN, False),
    ],
)
def test_a_stored_type_spares_the_check_only_when_every_value_fits(
    stored: str | None, kind: Kind, holds: bool
) -> None:
    assert _holds(stored, kind) is holds


def test_duckdb_without_members_table_is_e605(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = tmp_path / "in.duckdb"
    writer = duckdb.connect(str(path))
    writer.execute("CREATE TABLE households AS SELECT 'H1' AS household_id")
    writer.close()

    [(code, _, message)] = _diagnostics(lambda: load_households(con, path, FIELDS))

    assert code == "E605" and "没有 members 表" in message


def test_duckdb_problems_name_the_table_and_row(
    tmp_path: Path, con: duckdb.DuckDBPyConnection
) -> None:
    path = write_duckdb(tmp_path, HOUSEHOLDS)
    writer = duckdb.connect(str(path))
    writer.execute("UPDATE members SET person_id = NULL WHERE person_id = 'q1'")
    writer.close()

    [(code, cell, _)] = _diagnostics(lambda: load_households(con, path, FIELDS))

    assert (code, cell) == ("E604", "members 表第3行 person_id")


# ---------------------------------------------------------------------------- iterating


EXPECTED_FIRST = {
    "household_id": "H1",
    "county_code": "330106",
    "assets": {
        "money": Decimal("1402.50"),
        "vehicles": 1,
        "floor_area_m2": Decimal("85.5000"),
        "share": Decimal("0.350000"),
        "nonresidential": True,
    },
    "current": {"group": "dibao", "since": date(2024, 1, 31)},
    "history": {"reported_by": "西湖区民政局"},
    "members": [
        {"person_id": "p1", "relation": "head", "birth_date": date(1960, 1, 2),
         "lives_in_household": True, "income": {"wage": Decimal("2400.00")}},
        {"person_id": "p2", "relation": "spouse", "birth_date": date(1990, 5, 6),
         "lives_in_household": False, "income": {"wage": Decimal("0.00")}},
    ],
    "events": [
        {"type": "high_medical_expense", "date": date(2025, 3, 1), "person_id": "p1",
         "amount": Decimal("20000.00")}
    ],
}  # fmt: skip


@pytest.mark.parametrize("fmt", list(WRITERS))
def test_iter_households_rebuilds_the_contract_shape(fmt: str, tmp_path: Path) -> None:
    households = list(iter_households(WRITERS[fmt](tmp_path, HOUSEHOLDS), FIELDS))

    assert [h["household_id"] for h in households] == ["H1", "H2", "H3"]
    assert households[0] == EXPECTED_FIRST
    assert len(households[2]["members"]) == 1 and households[2]["events"] == []
    assert households[1]["assets"]["money"] == Decimal("0.00")


def test_iter_households_filters_by_county(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", HOUSEHOLDS)

    ids = [h["household_id"] for h in iter_households(path, FIELDS, county="330102")]

    assert ids == ["H2"]


def test_iter_households_without_fields_gives_json_as_written(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", HOUSEHOLDS)

    first = next(iter_households(path))

    assert first["assets"]["money"] == Decimal("1402.5")
    assert first["members"][0]["income"]["wage"] == "2400.00"
    assert first["current"]["since"] == "2024-01-31"


@pytest.mark.parametrize("fmt", ["parquet", "duckdb"])
def test_iter_households_without_fields_types_typed_columns(
    fmt: str, tmp_path: Path
) -> None:
    households = list(iter_households(WRITERS[fmt](tmp_path, HOUSEHOLDS)))

    assert households[0] == EXPECTED_FIRST
    assert [h["household_id"] for h in households] == ["H1", "H2", "H3"]


def test_iter_households_without_fields_refuses_csv(tmp_path: Path) -> None:
    path = write_csv(tmp_path, HOUSEHOLDS)

    [(code, _, message)] = _diagnostics(lambda: list(iter_households(path)))

    assert code == "E605" and "需要字段定义" in message


def test_iter_households_reports_problems(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "in.jsonl", [_one(assets__money="x")])

    [(code, cell, _)] = _diagnostics(lambda: list(iter_households(path, FIELDS)))

    assert (code, cell) == ("E603", "第1行 $.assets.money")
