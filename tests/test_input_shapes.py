"""Household input written in a shape or spelling the reader did not expect (helper-49).

- A key or column that names a declared field or group another way (``"assets.money"``,
  ``"Assets"``, ``"货币财产"`` in JSON; a MAP or over-nested STRUCT ``assets`` in
  Parquet or DuckDB) was dropped with a W601 warning, and a household with 10,000,000
  yuan was decided as 低保: now E603 where it is, saying how to write it.
- A households.parquet with a nested ``members`` list failed with DuckDB's English
  Binder Error: now E605 naming the file and the column.
- JSON syntax errors, a lone UTF-16 surrogate and a JSON file that is an object were
  said in Python's or DuckDB's English: now in Chinese, at the line and column.
- A CSV with empty header cells after the data (``a,b,c,,,``) warned of DuckDB's
  ``column5``: now ignored when empty, named 第 6 列（无列名） when not.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from compiler.errors import InputError
from compiler.evaluate import evaluate_file
from compiler.households import load_households
from compiler.service_errors import ServiceError
from compiler.service_request import parse_json
from tests.test_households import FIELDS, write_json, write_jsonl

ROOT = Path(__file__).resolve().parents[1]


def _household(**extra: Any) -> dict[str, Any]:
    member = {"person_id": "p1", "birth_date": "1960-01-02"}
    return {"household_id": "H1", "county_code": "330106", "members": [member], **extra}


def _refused(path: Path) -> list[tuple[str, str | None, str]]:
    with pytest.raises(InputError) as raised:
        load_households(duckdb.connect(), path, FIELDS)
    return [(d.code, d.location.cell, d.render()) for d in raised.value.diagnostics]


# ---------------------------------------------------------------------------- JSON keys

JSON_KEYS = [
    ("dotted", {"assets.money": "10000000"}, '$["assets.money"]', "带「.」的键"),
    ("case-group", {"Assets": {"Money": "10000000"}}, "$.Assets", "只差字母大小写"),
    ("case-leaf", {"assets": {"Money": "10000000"}}, "$.assets.Money", "只差字母大小写"),
    ("chinese", {"名称assets.money": "10000000"}, '$["名称assets.money"]', "中文名称"),
    ("no-group", {"money": "10000000"}, "$.money", "缺少外层「assets」"),
]


@pytest.mark.parametrize(("extra", "path", "said"), [c[1:] for c in JSON_KEYS], ids=[c[0] for c in JSON_KEYS])
@pytest.mark.parametrize("name", ["x.jsonl", "x.json"])
def test_a_json_key_naming_a_declared_field_another_way_is_refused(
    tmp_path: Path, name: str, extra: dict[str, Any], path: str, said: str
) -> None:
    writer = write_jsonl if name.endswith("l") else write_json
    file = writer(tmp_path / name, [_household(note="x", **extra)])

    [(code, cell, text)] = _refused(file)

    assert code == "E603"
    assert cell == (f"第1行 {path}" if name.endswith("l") else f"$[0]{path[1:]}")
    assert said in text and '如 {"assets": {"money": "1402.50"}}' in text


def test_json_keys_of_members_and_events_are_refused_at_their_paths(tmp_path: Path) -> None:
    member = {"person_id": "p1", "birth_date": "1960-01-02", "income.wage": "9000"}
    event = {"event.type": "high_medical_expense", "date": "2025-03-01"}
    household = _household(members=[member], events=[event])
    household["income.wage"] = "1"  # a member's field at the household's level
    found = _refused(write_jsonl(tmp_path / "x.jsonl", [household]))
    assert [(code, cell) for code, cell, _ in found if code == "E603"] == [
        ("E603", '第1行 $["income.wage"]'),
        ("E603", '第1行 $.events[0]["event.type"]'),
        ("E603", '第1行 $.members[0]["income.wage"]'),
    ]
    assert "是成员的字段「名称income.wage」（income.wage），不能写在家庭对象中" in found[0][2]
    assert '{"events": [{"type": "…"}]}' in found[1][2]
    assert '{"members": [{"income": {"wage": "1402.50"}}]}' in found[2][2]


def test_a_misnamed_key_is_listed_with_the_values_found_wrong(tmp_path: Path) -> None:
    household = _household(Assets={"money": "1"}, current={"group": "rich"})
    found = _refused(write_jsonl(tmp_path / "x.jsonl", [household]))
    assert [(code, cell) for code, cell, _ in found] == [
        ("E603", "第1行 $.Assets"), ("E603", "第1行 $.current.group")
    ]


def test_an_unknown_json_key_is_still_only_a_warning(tmp_path: Path) -> None:
    con = duckdb.connect()
    path = write_jsonl(tmp_path / "x.jsonl", [_household(note="x", moneys="1")])
    loaded = load_households(con, path, FIELDS)
    assert [w.split(" 不是")[0] for w in loaded.warnings] == [
        "x.jsonl 第1行 $.moneys", "x.jsonl 第1行 $.note"
    ]


def test_a_wealthy_household_with_a_dotted_key_is_not_decided(tmp_path: Path) -> None:
    """The tester's household: 10,000,000 yuan as "assets.money" was decided 低保."""
    household = _household(**{"assets.money": "10000000"})
    household["members"][0] |= {"relation": "head", "hukou": "urban"}
    path = write_jsonl(tmp_path / "x.jsonl", [household])
    out = tmp_path / "d.jsonl"
    with pytest.raises(InputError) as raised:
        evaluate_file(str(ROOT / "tables"), path, date(2025, 6, 1), out, trace="none")
    assert [d.code for d in raised.value.diagnostics] == ["E603"]
    assert "「货币财产」（assets.money）" in raised.value.diagnostics[0].render()
    assert not out.exists()


# ---------------------------------------------------------------------------- tables


def _parquet(folder: Path, households: str, members: str | None = None) -> Path:
    con = duckdb.connect()
    members = members or "SELECT 'H1' AS household_id, 'p1' AS person_id, DATE '1960-01-02' AS birth_date"
    for name, select in (("households", households), ("members", members)):
        con.execute(f"COPY ({select}) TO '{folder / f'x-{name}.parquet'}' (FORMAT parquet)")
    return folder / "x-households.parquet"


KEYS = "SELECT 'H1' AS household_id, '330106' AS county_code"
SHAPES = [
    ("map", "MAP {'money': 10000000, 'vehicles': 3} AS assets", "assets", "键值对（MAP）"),
    ("text", "'{\"money\": 10000000}' AS assets", "assets", "VARCHAR 类型"),
    ("nested-twice", "{'assets': {'money': 10000000}} AS assets", "assets.assets", "多嵌套了一层"),
    ("inside-another", "{'assets': {'money': 10000000}} AS household", "household.assets", "多嵌套了一层"),
]


@pytest.mark.parametrize(("column", "cell", "said"), [s[1:] for s in SHAPES], ids=[s[0] for s in SHAPES])
def test_a_parquet_group_in_another_shape_is_refused_naming_the_column(
    tmp_path: Path, column: str, cell: str, said: str
) -> None:
    [(code, where, text)] = _refused(_parquet(tmp_path, f"{KEYS}, {column}"))
    assert (code, where) == ("E603", cell)
    assert said in text and "x-households.parquet 中的" in text
    assert "如 assets STRUCT(money DECIMAL(18,2), vehicles BIGINT)" in text


def test_a_duckdb_member_struct_nested_too_deep_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "in.duckdb"
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE households AS {KEYS}")
    con.execute(
        "CREATE TABLE members AS SELECT 'H1' AS household_id, 'p1' AS person_id, "
        "DATE '1960-01-02' AS birth_date, {'income': {'wage': 9000}} AS detail"
    )
    con.close()
    [(code, cell, text)] = _refused(path)
    assert (code, cell) == ("E603", "detail.income")
    assert "members 表中的「detail.income」多嵌套了一层" in text and "去掉外层「detail」" in text


def test_a_csv_column_named_as_a_group_is_refused(tmp_path: Path) -> None:
    (tmp_path / "x-households.csv").write_text(
        "household_id,county_code,assets\nH1,330106,10000000\n", encoding="utf-8"
    )
    (tmp_path / "x-members.csv").write_text(
        "household_id,person_id,birth_date\nH1,p1,1960-01-02\n", encoding="utf-8"
    )
    [(code, cell, text)] = _refused(tmp_path / "x-households.csv")
    assert (code, cell) == ("E603", "assets")
    assert "分成 assets.money、assets.vehicles 等列" in text


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_members_written_into_the_households_file_are_e605_naming_the_column(
    tmp_path: Path, fmt: str
) -> None:
    if fmt == "parquet":
        members = "[{'person_id': 'p1', 'birth_date': DATE '1960-01-02'}] AS members"
        path = _parquet(tmp_path, f"{KEYS}, {members}")
    else:
        path = tmp_path / "x-households.csv"
        path.write_text("household_id,county_code,members\nH1,330106,p1\n", encoding="utf-8")
        (tmp_path / "x-members.csv").write_text(
            "household_id,person_id,birth_date\nH1,p1,1960-01-02\n", encoding="utf-8"
        )
    [(code, cell, text)] = _refused(path)
    assert (code, cell) == ("E605", "members")
    assert f"放在 x-members.{fmt} 中" in text
    assert "Binder" not in text and "memory" not in text


def test_a_list_column_that_is_no_field_is_only_a_warning(tmp_path: Path) -> None:
    path = _parquet(tmp_path, f"{KEYS}, [{{'a': 1}}] AS tags")
    loaded = load_households(duckdb.connect(), path, FIELDS)
    assert loaded.warnings == ["x-households.parquet 中的列 tags 不是已声明的字段，已忽略"]


# ---------------------------------------------------------------------------- JSON text


def test_json_syntax_errors_are_said_in_chinese_with_their_column(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text('{"household_id": "A" "county_code": "330106"}\n{"household_id": }\n', encoding="utf-8")
    found = _refused(path)
    assert [(code, cell) for code, cell, _ in found] == [("E605", "第1行"), ("E605", "第2行")]
    assert "实际为「第 22 列：此处应有逗号「,」分隔前后两项」" in found[0][2]
    assert "第 18 列：此处应有一个值" in found[1][2]
    assert not any("Expecting" in text for _, _, text in found)


def test_a_lone_surrogate_is_placed_at_its_line_and_path(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text(
        json.dumps(_household()) + "\n" + json.dumps(_household(history={"reported_by": "x\ud800"})) + "\n",
        encoding="utf-8",
    )
    [(code, cell, text)] = _refused(path)
    assert (code, cell) == ("E605", "第2行 $.history.reported_by")
    assert "不成对的 UTF-16 代理项转义" in text and "\\ud800" in text
    assert "Malformed" not in text and "byte" not in text


def test_a_json_file_that_is_one_object_says_so_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps(_household()), encoding="utf-8")
    [(code, _, text)] = _refused(path)
    assert code == "E605" and "实际为「一个对象：{" in text and "dict" not in text


def test_the_service_says_a_json_syntax_error_in_chinese() -> None:
    with pytest.raises(ServiceError) as raised:
        parse_json(b'{"as_of": "2025-08-01" "households": []}')
    [problem] = raised.value.diagnostics
    assert problem.found == "第1行第24列：此处应有逗号「,」分隔前后两项"


# ---------------------------------------------------------------------------- CSV header


def test_csv_columns_without_a_header_are_ignored_or_named_by_position(tmp_path: Path) -> None:
    """Excel leaves `a,b,c,,,` after the data: DuckDB names those columns column3..."""
    (tmp_path / "x-households.csv").write_text(
        "household_id,county_code,assets.money,,,\nH1,330106,100,,,\n", encoding="utf-8"
    )
    (tmp_path / "x-members.csv").write_text(
        "household_id,person_id,birth_date,,,column9\nH1,p1,1960-01-02,,x,y\n", encoding="utf-8"
    )
    con = duckdb.connect()
    loaded = load_households(con, tmp_path / "x-households.csv", FIELDS)
    assert loaded.warnings == [
        "x-members.csv 中的列 column9、第 5 列（无列名） 不是已声明的字段，已忽略"
    ]
    assert con.execute('SELECT "assets.money" FROM jz_households').fetchall()[0][0] == 100


def test_a_truncated_parquet_file_is_said_in_chinese(tmp_path: Path) -> None:
    """「No magic bytes found at end of file」 reached the console as DuckDB wrote it
    (helper-46); a damaged DuckDB file said 「not a valid DuckDB database file」."""
    import duckdb

    from compiler.errors import InputError
    from compiler.evaluate import evaluate_file

    whole = tmp_path / "whole.parquet"
    duckdb.sql("SELECT 'H1' AS household_id, '330106' AS county_code").write_parquet(str(whole))
    cut = tmp_path / "households.parquet"
    cut.write_bytes(whole.read_bytes()[:40])
    duckdb.sql("SELECT 'H1' AS household_id, 'P1' AS person_id").write_parquet(
        str(tmp_path / "members.parquet")
    )
    damaged = tmp_path / "bad.duckdb"
    damaged.write_bytes(b"garbage" * 100)
    for path, said in ((cut, "不是完整的 Parquet 文件"), (damaged, "不是 DuckDB 数据库文件")):
        with pytest.raises(InputError) as refused:
            evaluate_file(ROOT / "tables", path, date(2025, 6, 1), tmp_path / "d.csv")
        [problem] = refused.value.diagnostics
        assert problem.code == "E605" and said in (problem.found or ""), problem.render()
        assert "Error" not in problem.render()
