"""Household values taken exactly as written or refused, alike in every format, the
CLI and the service (helper-55's brief, from testers' findings):

- an ENUM column of a DuckDB file is text: a county code, an id or a relation held as
  one of its labels is read (it was refused as 「类型不对」), and a label outside the
  field's values is still E603;
- a number with more decimals than its field keeps is E603 「小数位数」, even where
  the extra digits vanish at 10 decimals (``1.00000000001``, ``1e-400``) or in the
  double DuckDB reads a JSON number as (``1e-400`` reads as 0.0); a JSON number of
  more digits than a double holds is E603 too (write it as a string);
- a key of a group that is a near miss of one of the group's fields
  (``"assets": {"mony": 5000}`` beside ``vehicles``) is E603 naming that field, not
  a W601 that decided the household as if it had no money; a key that resembles no
  field is still W601.
"""

from __future__ import annotations

import copy
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from compiler.cli import main
from compiler.errors import InputError
from compiler.households import load_households
from compiler.model import DType, Field, Kind, Level
from tests.test_households import FIELDS, write_csv, write_jsonl

ROOT = Path(__file__).resolve().parents[1]
TABLES = str(ROOT / "tables")
SOUND: dict[str, Any] = {
    "household_id": "H1",
    "county_code": "330106",
    "assets": {"money": "100.00", "vehicles": 0},
    "members": [{"person_id": "p1", "relation": "head", "birth_date": "1960-01-02"}],
}


def household(hid: str = "H1", **assets: Any) -> dict[str, Any]:
    changed = copy.deepcopy(SOUND)
    changed["household_id"] = hid
    changed["assets"].update(assets)
    return changed


def refused(path: Path, **options: Any) -> list[tuple[str, str | None, str]]:
    with pytest.raises(InputError) as raised:
        load_households(duckdb.connect(), path, FIELDS, **options)
    return [(d.code, d.location.cell, d.render()) for d in raised.value.diagnostics]


def _money(path: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    load_households(con, path, FIELDS)
    return con.execute(
        'SELECT "assets.money" FROM jz_households ORDER BY _hh_index'
    ).fetchall()


def _duckdb_file(folder: Path, households: str, members: str) -> Path:
    path = folder / "in.duckdb"
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE households AS {households}")
    con.execute(f"CREATE TABLE members AS {members}")
    con.close()
    return path


def _evaluate(
    path: Path, out: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    code = main([
        "evaluate", "--tables", TABLES, "--households", str(path),
        "--as-of", "2025-06-01", "--out", str(out),
    ])  # fmt: skip
    return code, capsys.readouterr().err


def _post(tmp_path: Path, body: str) -> Any:
    """POST /v1/decisions with a body as written (a JSON number kept as its digits)."""
    from fastapi.testclient import TestClient

    from compiler.service import Settings, create_app

    settings = Settings(
        tables=ROOT / "tables", registry=tmp_path / "none.duckdb", warm_on_start=False
    )
    with TestClient(create_app(settings)) as client:
        return client.post(
            "/v1/decisions",
            content=body.encode(),
            headers={"content-type": "application/json"},
        )


def _request(*households: str) -> str:
    return '{"as_of": "2025-06-01", "households": [' + ", ".join(households) + "]}"


# ---------------------------------------------------------------------------- ENUM text


ENUM_HOUSEHOLDS = (
    "SELECT CAST('H1' AS ENUM('H1', 'H2')) AS household_id, "
    "CAST('330106' AS ENUM('330106', '330102')) AS county_code, "
    "CAST('街道' AS ENUM('街道', '社区')) AS \"history.reported_by\""
)
ENUM_MEMBERS = (
    "SELECT CAST('H1' AS ENUM('H1')) AS household_id, "
    "CAST(unnest(['p1', 'p2']) AS ENUM('p1', 'p2')) AS person_id, "
    "CAST(unnest(['head', 'child']) AS ENUM('head', 'child', 'boss')) AS relation, "
    "DATE '1960-01-02' AS birth_date"
)


def test_enum_text_columns_of_a_duckdb_file_are_read_as_text(tmp_path: Path) -> None:
    path = _duckdb_file(tmp_path, ENUM_HOUSEHOLDS, ENUM_MEMBERS)
    con = duckdb.connect()

    load_households(con, path, FIELDS, known_counties=["330106"])

    assert con.execute(
        'SELECT household_id, county_code, "history.reported_by" FROM jz_households'
    ).fetchall() == [("H1", "330106", "街道")]
    assert con.execute(
        "SELECT household_id, person_id, relation FROM jz_members ORDER BY _member_index"
    ).fetchall() == [("H1", "p1", "head"), ("H1", "p2", "child")]


def test_an_enum_text_inside_a_struct_column_is_read_as_text(tmp_path: Path) -> None:
    path = _duckdb_file(
        tmp_path,
        "SELECT 'H1' AS household_id, '330106' AS county_code, "
        "{'reported_by': CAST('街道' AS ENUM('街道'))} AS history",
        "SELECT 'H1' AS household_id, 'p1' AS person_id, DATE '1960-01-02' AS birth_date",
    )
    con = duckdb.connect()
    load_households(con, path, FIELDS)
    assert con.execute(
        'SELECT "history.reported_by" FROM jz_households'
    ).fetchall() == [("街道",)]


def test_an_enum_label_outside_the_fields_values_is_refused_as_text_is(
    tmp_path: Path,
) -> None:
    path = _duckdb_file(
        tmp_path,
        "SELECT CAST(unnest(['H1', 'H2', 'H3']) AS ENUM('H1', 'H2', 'H3')) AS household_id, "
        "CAST(unnest(['33010x', '330102', '330106']) AS ENUM('33010x', '330102', '330106')) "
        "AS county_code",
        "SELECT CAST(unnest(['H1', 'H2', 'H3']) AS ENUM('H1', 'H2', 'H3')) AS household_id, "
        "'p1' AS person_id, CAST('boss' AS ENUM('head', 'boss')) AS relation, "
        "DATE '1960-01-02' AS birth_date",
    )

    found = refused(path, known_counties=["330106"])

    assert [(code, cell) for code, cell, _ in found] == [
        ("E603", "households 表第1行 county_code"),
        ("E606", "households 表第2行 county_code"),
        ("E603", "members 表第1行 relation"),
        ("E603", "members 表第2行 relation"),
        ("E603", "members 表第3行 relation"),
    ]
    assert "类型不对" not in " ".join(text for *_, text in found)
    assert "实际为「33010x」；应为六位行政区划代码" in found[0][2]
    assert "取值不在允许范围内；实际为「boss」" in found[2][2]


def test_evaluate_decides_a_duckdb_file_of_enum_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _duckdb_file(
        tmp_path,
        "SELECT CAST('E1' AS ENUM('E1')) AS household_id, "
        "CAST('330106' AS ENUM('330106', '330102')) AS county_code",
        "SELECT CAST('E1' AS ENUM('E1')) AS household_id, 'E1-1' AS person_id, "
        "CAST('head' AS ENUM('head', 'spouse')) AS relation, "
        "CAST('urban' AS ENUM('urban', 'rural')) AS hukou, DATE '1985-03-10' AS birth_date",
    )
    out = tmp_path / "d.jsonl"

    code, err = _evaluate(path, out, capsys)

    assert code == 0, err
    [decision] = [json.loads(line) for line in out.read_text().splitlines()]
    assert (decision["household_id"], decision["county_code"]) == ("E1", "330106")


# ---------------------------------------------------------------------------- exact numbers


INEXACT = ["1e-400", "1.00000000001", "12.345678901234", "0.001"]


def _jsonl_numbers(folder: Path, values: list[str]) -> Path:
    """Households whose money is each value written as a JSON number."""
    path = folder / "in.jsonl"
    lines = [
        json.dumps(household(f"H{i}"), ensure_ascii=False).replace(
            '"money": "100.00"', f'"money": {value}'
        )
        for i, value in enumerate(values)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _decimals(found: list[tuple[str, str | None, str]]) -> list[tuple[str, str | None]]:
    assert all("小数位数超过金额能准确保存的 2 位" in text for *_, text in found), found
    assert all("应为最多 2 位小数的金额，如 1402.50" in text for *_, text in found)
    return [(code, cell) for code, cell, _ in found]


def test_a_json_number_with_more_decimals_than_money_keeps_is_refused(
    tmp_path: Path,
) -> None:
    found = refused(_jsonl_numbers(tmp_path, INEXACT))
    assert _decimals(found) == [
        ("E603", f"第{line}行 $.assets.money") for line in range(1, len(INEXACT) + 1)
    ]
    # the number as written, not the double DuckDB read (0.0)
    assert "实际为「1E-400」" in found[0][2]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_text_with_more_decimals_than_money_keeps_is_refused(
    tmp_path: Path, fmt: str
) -> None:
    households = [household(f"H{i}", money=value) for i, value in enumerate(INEXACT)]
    if fmt == "jsonl":
        path = write_jsonl(tmp_path / "in.jsonl", households)
        cells = [f"第{i + 1}行 $.assets.money" for i in range(len(INEXACT))]
    else:
        path = write_csv(tmp_path, households)
        cells = [f"第{i + 2}行 assets.money" for i in range(len(INEXACT))]
    found = refused(path)
    assert _decimals(found) == [("E603", cell) for cell in cells]
    assert [text.split("实际为「")[1].split("」")[0] for *_, text in found] == INEXACT


@pytest.mark.parametrize("fmt", ["parquet", "duckdb"])
def test_a_typed_column_with_more_decimals_than_money_keeps_is_refused(
    tmp_path: Path, fmt: str
) -> None:
    """A DOUBLE holding 1.00000000001, 12.345678901234 or 1e-300 (1e-400 is no
    double), and a DECIMAL(38,20) holding 1.00000000000000000001: each rounded to
    the same two decimals at 10 decimals, and was read as that."""
    households = (
        "SELECT 'H' || i AS household_id, '330106' AS county_code, "
        "[1.00000000001, 12.345678901234, 1e-300, 15611.88][i + 1]::DOUBLE "
        'AS "assets.money", CASE WHEN i = 0 THEN '
        "'1.00000000000000000001'::DECIMAL(38,20) ELSE 2 END AS \"assets.vehicle_value\" "
        "FROM range(4) t(i)"
    )
    members = (
        "SELECT 'H' || i AS household_id, 'p1' AS person_id, "
        "DATE '1960-01-02' AS birth_date FROM range(4) t(i)"
    )
    fields = dict(FIELDS)
    fields["assets.vehicle_value"] = Field(
        "assets.vehicle_value", "车辆购置价", Level.HOUSEHOLD, DType(Kind.MONEY)
    )
    if fmt == "duckdb":
        path = _duckdb_file(tmp_path, households, members)
        where = "households 表第{}行 {}"
    else:
        con = duckdb.connect()
        for name, select in (("households", households), ("members", members)):
            con.execute(f"COPY ({select}) TO '{tmp_path / f'x-{name}.parquet'}'")
        path, where = tmp_path / "x-households.parquet", "第{}行 {}"

    with pytest.raises(InputError) as raised:
        load_households(duckdb.connect(), path, fields)

    found = [(d.code, d.location.cell, d.found) for d in raised.value.diagnostics]
    assert found == [
        ("E603", where.format(1, "assets.money"), "1.00000000001"),
        ("E603", where.format(1, "assets.vehicle_value"), "1.00000000000000000001"),
        ("E603", where.format(2, "assets.money"), "12.345678901234"),
        ("E603", where.format(3, "assets.money"), "1e-300"),
    ]
    assert all("小数位数超过" in d.message for d in raised.value.diagnostics)


def test_numbers_that_need_no_more_decimals_than_kept_are_read(tmp_path: Path) -> None:
    """Zeros after the last kept decimal change nothing, written out or as an
    exponent, as a JSON number or as text."""
    path = _jsonl_numbers(
        tmp_path, ["12.3400000000000000", "1.5e2", "0e-400", '"12.340"']
    )
    assert _money(path) == [(Decimal(v),) for v in ("12.34", "150.00", "0.00", "12.34")]


def test_a_json_number_a_double_does_not_hold_is_refused_as_a_string_asks(
    tmp_path: Path,
) -> None:
    """9007199254740993 reads as 9007199254740992 through a double; 123456789012.345678
    as 123456789012.34567 (said once, as written)."""
    path = tmp_path / "in.jsonl"
    line = json.dumps(household("H1"))
    path.write_text(
        line.replace('"vehicles": 0', '"vehicles": 9007199254740993')
        + "\n"
        + line.replace('"money": "100.00"', '"money": 123456789012.345678').replace(
            '"H1"', '"H2"'
        )
        + "\n"
    )

    found = refused(path)

    assert [(code, cell) for code, cell, _ in found] == [
        ("E603", "第1行 $.assets.vehicles"),
        ("E603", "第2行 $.assets.money"),
    ]
    assert (
        "数字位数超过 JSON 数字能准确保存的位数；实际为「9007199254740993」"
        in found[0][2]
    )
    assert "实际为「123456789012.345678」" in found[1][2]


def test_a_county_run_leaves_other_counties_numbers_unchecked(tmp_path: Path) -> None:
    path = _jsonl_numbers(tmp_path, ["1e-400"])
    con = duckdb.connect()
    loaded = load_households(con, path, FIELDS, county="330102")
    assert (loaded.households, loaded.skipped) == (0, 1)


def test_evaluate_refuses_money_with_digits_a_double_rounds_away(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _jsonl_numbers(tmp_path, ["1e-400", "1.00000000001"])

    code, err = _evaluate(path, tmp_path / "d.jsonl", capsys)

    assert code == 1
    assert "第1行 $.assets.money: E603" in err and "第2行 $.assets.money: E603" in err
    assert "小数位数超过金额能准确保存的 2 位" in err


def test_the_service_refuses_money_with_more_decimals_than_kept(tmp_path: Path) -> None:
    bodies = [
        json.dumps(household(f"H{i}")).replace('"money": "100.00"', f'"money": {value}')
        for i, value in enumerate([*INEXACT, '"1.00000000001"'])
    ]
    bodies.append(
        json.dumps(household("H9")).replace(
            '"vehicles": 0', '"vehicles": 9007199254740993'
        )
    )

    response = _post(tmp_path, _request(*bodies))

    assert response.status_code == 422, response.text
    errors = [(e["code"], e["path"], e["found"]) for e in response.json()["errors"]]
    assert sorted(errors) == sorted([
        *[("E603", f"$.households[{i}].assets.money", found) for i, found in enumerate(
            ["1e-400", "1.00000000001", "12.345678901234", "0.001", "1.00000000001"]
        )],
        ("E603", "$.households[5].assets.vehicles", "9007199254740993"),
    ])  # fmt: skip


# ---------------------------------------------------------------------------- near misses


def _keyed(folder: Path, **groups: dict[str, Any]) -> Path:
    record = copy.deepcopy(SOUND)
    for name, keys in groups.items():
        record.setdefault(name, {}).update(keys)
    return write_jsonl(folder / "in.jsonl", [record])


@pytest.mark.parametrize(
    ("group", "key", "field"),
    [
        ("assets", "mony", "assets.money"),
        ("assets", "mnoey", "assets.money"),
        ("assets", "vehicle", "assets.vehicles"),
        ("current", "grup", "current.group"),
    ],
)
def test_a_near_miss_of_a_field_in_a_mixed_group_is_refused_naming_it(
    tmp_path: Path, group: str, key: str, field: str
) -> None:
    path = _keyed(tmp_path, **{group: {key: 5000}})

    [(code, cell, text)] = refused(path)

    assert (code, cell) == ("E603", f"第1行 $.{group}.{key}")
    assert f"键「{key}」不是字段组「{group}」中的字段" in text
    assert f"（{field}）只差" in text and f"是否想写「{field.split('.')[1]}」" in text


def test_a_key_that_resembles_no_field_of_its_group_is_still_a_warning(
    tmp_path: Path,
) -> None:
    path = _keyed(tmp_path, assets={"note": "x", "m": 1}, current={"reason": "x"})
    loaded = load_households(duckdb.connect(), path, FIELDS)
    assert [w.split(" 不是")[0] for w in loaded.warnings] == [
        "in.jsonl 第1行 $.assets.m",
        "in.jsonl 第1行 $.assets.note",
        "in.jsonl 第1行 $.current.reason",
    ]


def test_a_near_miss_after_many_unknown_keys_is_not_hidden_by_the_warning_cap(
    tmp_path: Path,
) -> None:
    path = _keyed(tmp_path, assets={**{f"note{i:02}": i for i in range(60)}, "mony": 1})
    found = refused(path)
    assert [(code, cell) for code, cell, _ in found] == [
        ("E603", "第1行 $.assets.mony")
    ]


def test_evaluate_refuses_a_near_miss_of_money(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _keyed(tmp_path, assets={"mony": 5000000})
    code, err = _evaluate(path, tmp_path / "d.jsonl", capsys)
    assert code == 1
    assert "第1行 $.assets.mony: E603 键「mony」不是字段组「assets」中的字段" in err
    assert "货币财产" in err


def test_the_service_refuses_a_near_miss_and_warns_of_a_key_like_nothing(
    tmp_path: Path,
) -> None:
    near = household("H1")
    near["assets"] = {"mony": 5000000, "vehicles": 0}
    noted = household("H2")
    noted["assets"]["note"] = "x"

    refused_response = _post(tmp_path, _request(json.dumps(near)))
    warned = _post(tmp_path, _request(json.dumps(noted)))

    assert refused_response.status_code == 422, refused_response.text
    [error] = refused_response.json()["errors"]
    assert (error["code"], error["path"]) == ("E603", "$.households[0].assets.mony")
    assert "money" in error["message"]
    assert warned.status_code == 200, warned.text
    assert [(w["code"], w["path"]) for w in warned.json()["warnings"]] == [
        ("W601", "$.households[0].assets.note")
    ]


def _csv(folder: Path, money_header: str) -> Path:
    (folder / "x-households.csv").write_text(
        f"household_id,county_code,{money_header},assets.vehicles\nH1,330106,5000,0\n"
    )
    (folder / "x-members.csv").write_text(
        "household_id,person_id,birth_date\nH1,p1,1960-01-02\n"
    )
    return folder / "x-households.csv"


def test_a_csv_column_that_is_a_near_miss_of_a_field_of_its_group_is_refused(
    tmp_path: Path,
) -> None:
    [(code, cell, text)] = refused(_csv(tmp_path, "Assets.Mony"))
    assert (code, cell) == ("E603", "Assets.Mony")
    assert "x-households.csv 中的「Assets.Mony」不是已声明的字段" in text
    assert "是否想写「assets.money」？" in text


def test_a_struct_field_that_is_a_near_miss_is_refused_and_a_note_is_a_warning(
    tmp_path: Path,
) -> None:
    members = "SELECT 'H1' AS household_id, 'p1' AS person_id, DATE '1960-01-02' AS birth_date"
    near = _duckdb_file(
        tmp_path,
        "SELECT 'H1' AS household_id, '330106' AS county_code, "
        "{'mony': 5000, 'vehicles': 0} AS assets",
        members,
    )
    [(code, cell, text)] = refused(near)
    assert (code, cell) == ("E603", "assets.mony")
    assert "households 表中的「assets.mony」不是已声明的字段" in text

    noted = _csv(tmp_path, "assets.note")
    loaded = load_households(duckdb.connect(), noted, FIELDS)
    [warned] = loaded.warnings
    assert warned.startswith(
        "x-households.csv 中的列 assets.note 不是已声明的字段，已忽略"
    )
