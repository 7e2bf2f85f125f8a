"""A households file of the wrong kind says what to do (helper-114).

An Excel workbook was E605 「无法识别家庭数据文件的类型」 with only 「请按扩展名提供
上述格式之一」; it now says to save the sheets as households.csv / members.csv /
events.csv, in the console's words. A ``.jsonl`` file holding one JSON list was E603
「$ 的结构不对」 with no word of the likely cause; it now says to name it ``.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from compiler.errors import InputError
from compiler.households import load_households, open_source
from compiler.resolve import declared_fields

TABLES = Path(__file__).resolve().parents[1] / "tables"
HOUSEHOLD = {
    "household_id": "H1",
    "county_code": "330106",
    "members": [{"person_id": "P1", "birth_date": "1980-01-01", "relation": "head"}],
}


@pytest.mark.parametrize("name", ["households.xlsx", "家庭.XLS", "households.et"])
def test_an_excel_workbook_is_told_to_be_saved_as_csv(tmp_path: Path, name: str):
    path = tmp_path / name
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(InputError) as raised:
        open_source(path)
    problem = raised.value.diagnostics[0]
    assert problem.code == "E605"
    assert "另存为「CSV UTF-8」" in problem.hint
    assert "households.csv、members.csv（和 events.csv）" in problem.hint


def test_another_kind_keeps_the_list_of_formats(tmp_path: Path):
    with pytest.raises(InputError) as raised:
        open_source(tmp_path / "households.pdf")
    assert raised.value.diagnostics[0].hint == "请按扩展名提供上述格式之一"


def refusal(path: Path) -> tuple[str, str, str]:
    with duckdb.connect() as con, pytest.raises(InputError) as raised:
        load_households(con, path, declared_fields(TABLES))
    problem = raised.value.diagnostics[0]
    return problem.code, problem.location.cell or "", problem.hint or ""


def test_a_jsonl_file_holding_one_list_is_told_to_be_named_json(tmp_path: Path):
    path = tmp_path / "households.jsonl"
    path.write_text(json.dumps([HOUSEHOLD]) + "\n", encoding="utf-8")
    code, cell, hint = refusal(path)
    assert (code, cell) == ("E603", "第1行 $")
    assert "请把文件改名为 .json" in hint


def test_a_later_line_holding_a_list_keeps_the_contract_hint(tmp_path: Path):
    path = tmp_path / "households.jsonl"
    path.write_text(json.dumps(HOUSEHOLD) + "\n[1]\n", encoding="utf-8")
    code, cell, hint = refusal(path)
    assert (code, cell) == ("E603", "第2行 $")
    assert ".json" not in hint
