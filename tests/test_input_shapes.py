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
- Declared data at the wrong level or in the wrong file (``income`` on the household,
  a household wrapped in ``household``, ``member`` for ``members``, 工资性收入 in
  households.csv, a STRUCT ``income`` in households.parquet) was dropped with W601:
  now E603 or E605 naming where it belongs (helper-52). A CSV header with a unit
  (工资性收入（元/年）) is read when the unit is the field's, refused when not; 月工资
  is refused as a monthly amount of a yearly field.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
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


# ---------------------------------------------------------------------------- wrong place
# (helper-52) Declared data at the wrong level or in the wrong file was dropped with
# W601 「不是已声明的字段，已忽略」 and the household decided poorer, exit 0.

NAMED = dict(FIELDS)
NAMED["income.wage"] = replace(FIELDS["income.wage"], name_cn="工资性收入")
NAMED["assets.money"] = replace(FIELDS["assets.money"], name_cn="货币财产")
MEMBER = {"person_id": "p1", "birth_date": "1960-01-02"}
PLACES = [
    (
        "income-on-household",
        _household(income={"wage": "90000"}),
        ("E603", "$.income"),
        "是成员的字段组「income」，不能写在家庭对象中，应写在 members[…].income 中",
    ),
    (
        "assets-on-member",
        _household(members=[{**MEMBER, "assets": {"money": "900000"}}]),
        ("E603", "$.members[0].assets"),
        "是家庭的字段组「assets」，不能写在成员对象中，应写在 家庭对象的 assets 中",
    ),
    (
        "household-wrapped",
        {"household": _household()},
        ("E603", "$.household"),
        "中是家庭对象自己的字段（household_id、county_code、members），多嵌套了一层",
    ),
    (
        "member-inside-member",
        _household(members=[{**MEMBER, "members": [{**MEMBER, "person_id": "p2"}]}]),
        ("E605", "$.members[0].members"),
        "成员对象中有「members」列表：成员不能嵌套在成员中",
    ),
    (
        "member-under-another-name",
        _household(members=[{**MEMBER, "children": [{**MEMBER, "person_id": "p2"}]}]),
        ("E605", "$.members[0].children"),
        "成员对象中的「children」是成员（有 person_id、birth_date），不能嵌套在成员中",
    ),
    (
        "member-for-members",
        {**_household(), "member": [{**MEMBER, "person_id": "p2"}]},
        ("E603", "$.member"),
        "中是成员的字段（person_id、birth_date），成员应写在 members 列表中",
    ),
]


@pytest.mark.parametrize(("household", "first", "said"), [p[1:] for p in PLACES], ids=[p[0] for p in PLACES])
def test_json_data_in_the_wrong_place_is_refused_saying_where_it_belongs(
    tmp_path: Path, household: dict[str, Any], first: tuple[str, str], said: str
) -> None:
    found = _refused(write_jsonl(tmp_path / "x.jsonl", [household]))
    code, cell, text = found[0]
    assert (code, cell) == (first[0], f"第1行 {first[1]}")
    assert said in text, text


def test_expenses_on_a_member_is_refused(tmp_path: Path) -> None:
    fields = dict(FIELDS) | {"expenses.medical": replace(FIELDS["assets.money"], id="expenses.medical", name_cn="医疗支出")}
    member = {**MEMBER, "expenses": {"medical": "20000"}}
    path = write_jsonl(tmp_path / "x.jsonl", [_household(members=[member])])
    with pytest.raises(InputError) as raised:
        load_households(duckdb.connect(), path, fields)
    [problem] = raised.value.diagnostics
    assert (problem.code, problem.location.cell) == ("E603", "第1行 $.members[0].expenses")
    assert "家庭的字段组「expenses」" in problem.render()


def test_unknown_keys_and_objects_of_unknown_keys_stay_warnings(tmp_path: Path) -> None:
    household = _household(note="x", extra={"a": 1}, tags=[{"type": "x"}])
    household["members"][0]["household_id"] = "H1"  # a link repeated: no data lost
    loaded = load_households(duckdb.connect(), write_jsonl(tmp_path / "x.jsonl", [household]), FIELDS)
    assert sorted(w.split(" 不是")[0] for w in loaded.warnings) == [
        "x.jsonl 第1行 $.extra",
        "x.jsonl 第1行 $.members[0].household_id",
        "x.jsonl 第1行 $.note",
        "x.jsonl 第1行 $.tags",
    ]


def _csv(folder: Path, households: str, members: str) -> Path:
    (folder / "x-households.csv").write_text(households, encoding="utf-8")
    (folder / "x-members.csv").write_text(members, encoding="utf-8")
    return folder / "x-households.csv"


def _load(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    load_households(con, path, NAMED)
    return con


HH, MM = "household_id,county_code", "household_id,person_id,birth_date"
CSV_PLACES = [
    ("wage-in-households", f"{HH},工资性收入\nH1,330106,90000\n", f"{MM}\nH1,p1,1960-01-02\n",
     "x-households.csv", "工资性收入",
     "是成员的字段「工资性收入」（income.wage），应写在 x-members.csv 中（JSON 中为 members[…].income.wage）"),
    ("wage-id-in-households", f"{HH},income.wage\nH1,330106,90000\n", f"{MM}\nH1,p1,1960-01-02\n",
     "x-households.csv", "income.wage", "应写在 x-members.csv 中"),
    ("money-in-members", f"{HH}\nH1,330106\n", f"{MM},货币财产\nH1,p1,1960-01-02,900000\n",
     "x-members.csv", "货币财产",
     "是家庭的字段「货币财产」（assets.money），应写在 x-households.csv 中"),
    ("money-with-unit-in-members", f"{HH}\nH1,330106\n", f"{MM},assets.money（元）\nH1,p1,1960-01-02,9\n",
     "x-members.csv", "assets.money（元）", "应写在 x-households.csv 中"),
    ("monthly-wage-unit", f"{HH}\nH1,330106\n", f"{MM},工资性收入（元/月）\nH1,p1,1960-01-02,3000\n",
     "x-members.csv", "工资性收入（元/月）", "写了单位「元/月」，与字段「工资性收入」（income.wage）的单位（元/年"),
    ("wage-in-ten-thousands", f"{HH}\nH1,330106\n", f"{MM},工资性收入(万元)\nH1,p1,1960-01-02,3\n",
     "x-members.csv", "工资性收入(万元)", "列名写 工资性收入、工资性收入（元/年） 或 income.wage"),
    ("money-per-year", f"{HH},货币财产（元/年）\nH1,330106,9\n", f"{MM}\nH1,p1,1960-01-02\n",
     "x-households.csv", "货币财产（元/年）", "的单位（元）不符"),
    ("monthly-wage", f"{HH}\nH1,330106\n", f"{MM},月工资\nH1,p1,1960-01-02,3000\n",
     "x-members.csv", "月工资", "「月工资」像是按月的金额，对应「工资性收入」（income.wage）"),
    ("monthly-wage-english", f"{HH}\nH1,330106\n", f"{MM},monthly_wage\nH1,p1,1960-01-02,3000\n",
     "x-members.csv", "monthly_wage", "像是按月的金额"),
    ("members-in-members", f"{HH}\nH1,330106\n", f"{MM},members\nH1,p1,1960-01-02,p2\n",
     "x-members.csv", "members", "一行中不能再嵌套成员"),
]


@pytest.mark.parametrize(
    ("households", "members", "file", "cell", "said"), [c[1:] for c in CSV_PLACES], ids=[c[0] for c in CSV_PLACES]
)
def test_a_csv_column_in_the_wrong_file_or_unit_is_refused(
    tmp_path: Path, households: str, members: str, file: str, cell: str, said: str
) -> None:
    path = _csv(tmp_path, households, members)
    with pytest.raises(InputError) as raised:
        load_households(duckdb.connect(), path, NAMED)
    [problem] = raised.value.diagnostics
    assert problem.code in ("E603", "E605") and problem.location.cell == cell
    assert problem.location.file == str(tmp_path / file)
    assert said in problem.render(), problem.render()


@pytest.mark.parametrize("header", ["工资性收入（元/年）", "工资性收入(元)", "工资性收入 （元／年）", "income.wage[元]"])
def test_a_csv_header_with_the_fields_own_unit_is_read(tmp_path: Path, header: str) -> None:
    con = _load(_csv(tmp_path, f"{HH}\nH1,330106\n", f"{MM},{header}\nH1,p1,1960-01-02,36000\n"))
    assert con.execute('SELECT "income.wage" FROM jz_members').fetchall() == [(Decimal("36000.00"),)]


def test_a_field_given_with_and_without_its_unit_is_e605(tmp_path: Path) -> None:
    path = _csv(tmp_path, f"{HH}\nH1,330106\n", f"{MM},工资性收入,工资性收入（元）\nH1,p1,1960-01-02,1,2\n")
    [(code, _, text)] = _refused_with(path, NAMED)
    assert code == "E605" and "有 2 列：工资性收入、工资性收入（元）" in text


def test_a_near_miss_of_a_chinese_name_is_warned_with_the_field(tmp_path: Path) -> None:
    # beside the field's own column (alone, 工资 is E603: tests/test_households_csv_more.py)
    members = f"{MM},工资性收入,工资\nH1,p1,1960-01-02,3000,3000\n"
    loaded = load_households(duckdb.connect(), _csv(tmp_path, f"{HH}\nH1,330106\n", members), NAMED)
    assert loaded.warnings == [
        "x-members.csv 中的列 工资 不是已声明的字段，已忽略（工资 是否想写「income.wage」（工资性收入）？"
        + "该字段已从另一列读取）"
    ]


def _refused_with(path: Path, fields: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    with pytest.raises(InputError) as raised:
        load_households(duckdb.connect(), path, fields)
    return [(d.code, d.location.cell, d.render()) for d in raised.value.diagnostics]


MEMBER_ROW = "SELECT 'H1' AS household_id, 'p1' AS person_id, DATE '1960-01-02' AS birth_date"


@pytest.mark.parametrize(
    ("households", "members", "cell", "said"),
    [
        (f"{KEYS}, {{'wage': 90000}} AS income", None, "income",
         "x-households.parquet 中的「income」是成员的字段组「income」，应写在 x-members.parquet 中"),
        (KEYS, f"{MEMBER_ROW}, {{'money': 900000}} AS assets", "assets",
         "x-members.parquet 中的「assets」是家庭的字段组「assets」，应写在 x-households.parquet 中"),
    ],
    ids=["income-struct-in-households", "assets-struct-in-members"],
)
def test_a_parquet_struct_of_another_level_is_refused(
    tmp_path: Path, households: str, members: str | None, cell: str, said: str
) -> None:
    [(code, where, text)] = _refused(_parquet(tmp_path, households, members))
    assert (code, where) == ("E603", cell) and said in text, text


def test_a_duckdb_struct_of_another_level_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "in.duckdb"
    con = duckdb.connect(str(path))
    con.execute(f"CREATE TABLE households AS {KEYS}, {{'wage': 90000}} AS income")
    con.execute("CREATE TABLE members AS SELECT 'H1' AS household_id, 'p1' AS person_id, DATE '1960-01-02' AS birth_date")
    con.close()
    [(code, cell, text)] = _refused(path)
    assert (code, cell) == ("E603", "income") and "应写在 members 表 中" in text


def test_the_testers_household_with_its_wage_on_the_household_is_not_decided(tmp_path: Path) -> None:
    """90,000 yuan of wages written on the household was dropped: decided 低保, exit 0."""
    household = _household(income={"wage": "90000"})
    household["members"][0] |= {"relation": "head", "hukou": "urban"}
    out = tmp_path / "d.jsonl"
    with pytest.raises(InputError) as raised:
        evaluate_file(str(ROOT / "tables"), write_jsonl(tmp_path / "x.jsonl", [household]),
                      date(2025, 6, 1), out, trace="none")
    assert [d.code for d in raised.value.diagnostics] == ["E603"]
    assert not out.exists()


# ---------------------------------------------------------------------------- the service


@pytest.fixture(scope="module")
def real_client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from fastapi.testclient import TestClient

    from compiler.service import Settings, create_app

    registry = tmp_path_factory.mktemp("registry") / "r.duckdb"
    settings = Settings(tables=ROOT / "tables", registry=registry, warm_on_start=False)
    with TestClient(create_app(settings)) as client:
        yield client


def _head(**member: Any) -> dict[str, Any]:
    head = {"person_id": "P1", "birth_date": "1980-01-01", "relation": "head", "hukou": "urban"}
    return {"household_id": "H1", "county_code": "330106", "members": [head | member]}


@pytest.mark.parametrize(
    ("household", "path", "code"),
    [
        ({**_head(), "income": {"wage": "90000"}}, "$.households[0].income", "E603"),
        ({"household": _head()}, "$.households[0].household", "E603"),
        ({**_head(), "member": _head()["members"]}, "$.households[0].member", "E603"),
        (_head(members=[{"person_id": "P2", "birth_date": "2010-01-01"}]), "$.households[0].members[0].members", "E605"),
    ],
    ids=["income-on-household", "wrapped", "member-for-members", "member-in-member"],
)
def test_the_service_refuses_data_in_the_wrong_place_at_its_path(
    real_client: Any, household: dict[str, Any], path: str, code: str
) -> None:
    response = real_client.post("/v1/decisions", json={"as_of": "2025-06-01", "households": [household]})
    assert response.status_code == 422, response.text
    first = response.json()["errors"][0]
    assert (first["code"], first["path"]) == (code, path), first


def test_the_service_warns_of_an_event_type_no_rule_names(real_client: Any) -> None:
    """A tester posted "type": "失业登记" and got warnings: [] while the CLI warned."""
    household = _head()
    household["events"] = [{"type": "失业登记", "date": "2025-05-20", "person_id": "P1"}]
    response = real_client.post("/v1/decisions", json={"as_of": "2025-06-01", "households": [household]})
    assert response.status_code == 200, response.text
    [warning] = [w for w in response.json()["warnings"] if w["code"] == "W602"]
    assert warning["path"] == "$.households[0].events[0].type"
    assert "事件类型「失业登记」" in warning["message"] and "如家庭 H1" in warning["message"]
    assert "unemployment_registration" in warning["hint"]


def test_requests_decided_together_each_get_their_own_event_warnings(tmp_path: Path) -> None:
    from compiler.service import Settings
    from compiler.service_decide import Decided, Evaluator
    from compiler.service_projects import ProjectCache
    from compiler.service_request import DecisionRequest

    day = date(2025, 6, 1)
    settings = Settings(tables=ROOT / "tables", registry=tmp_path / "r.duckdb", warm_on_start=False)
    warm = ProjectCache(settings).get(day, {})
    odd = _head()
    odd["events"] = [{"type": "失业登记", "date": "2025-05-20", "person_id": "P1"}]
    requests = [DecisionRequest(day, [_head()], {}), DecisionRequest(day, [odd], {})]
    together = Evaluator().decide_requests(warm, day, requests)
    assert all(isinstance(o, Decided) for o in together)
    assert [[d.found for d in o.warnings] for o in together] == [[], ["失业登记"]]
    assert "如家庭 H1）" in together[1].warnings[0].message


def test_a_misspelt_group_holding_its_keys_is_refused(tmp_path: Path) -> None:
    """``"asets": {"money": "9999999"}`` dropped the money with W601 only (helper-52
    left it open): a near miss of a group's name holding that group's keys is E603."""
    from compiler.errors import InputError
    from compiler.evaluate import evaluate_file

    path = tmp_path / "h.jsonl"
    path.write_text(
        '{"household_id": "A1", "county_code": "330106", "asets": {"money": "9999999"},'
        ' "members": [{"person_id": "P1", "birth_date": "1980-01-01"}]}\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as refused:
        evaluate_file(ROOT / "tables", path, date(2025, 6, 1), tmp_path / "d.csv")
    [problem] = refused.value.diagnostics
    assert problem.code == "E603" and problem.location.cell == "第1行 $.asets"
    assert "字段组「assets」的字段（money）" in problem.message
