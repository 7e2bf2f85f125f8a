"""Marks that override or isolate the direction of text (U+202A-U+202E, U+2066-U+2069)
in a workbook cell are E011 like control characters (tester R11): a table title or a
rule's 注释 holding U+202E passed `jiuzhu check` and explain and diff printed it raw,
where it makes the text read backwards."""

from __future__ import annotations

import pytest

from compiler import cli
from compiler.read import read_workbook
from tests.tables_fixture import county_sheets, write_tables
from tests.workbooks import write_csv_folder, write_xlsx


@pytest.mark.parametrize("mark", ["\u202a", "\u202b", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"])
def test_a_direction_mark_in_a_csv_cell_is_e011_naming_it(tmp_path, mark: str) -> None:
    rows = [["标识", "备注"], ["a", f"收入{mark}低于标准"], ["b", "普通文字"]]
    write_csv_folder(tmp_path / "w", {"标准参数": rows})
    _, diagnostics = read_workbook(tmp_path / "w", "w")
    found = [d for d in diagnostics if d.code == "E011"]
    code = f"U+{ord(mark):04X}"
    assert [d.location.render() for d in found] == ["w:标准参数!B2"]
    assert code in found[0].message and found[0].found == f"收入<{code}>低于标准"


def test_a_direction_mark_in_an_xlsx_title_is_e011(tmp_path) -> None:
    rows = [["household_group", "家庭\u202e类别", "FIRST"], ["规则", "输入", "输出"]]
    path = write_xlsx(tmp_path / "t.xlsx", {"表": rows})
    _, diagnostics = read_workbook(path, "t.xlsx")
    found = [d for d in diagnostics if d.code == "E011"]
    assert [d.location.cell for d in found] == ["B1"] and "U+202E" in found[0].message
    assert "倒着显示" in found[0].message


def test_marks_that_do_not_reorder_are_kept(tmp_path) -> None:
    """A left-to-right mark (U+200E) changes no order; the reader folds zero widths."""
    rows = [["标识", "备注"], ["a", "收入\u200e低于标准"]]
    write_csv_folder(tmp_path / "w", {"标准参数": rows})
    _, diagnostics = read_workbook(tmp_path / "w", "w")
    assert not [d for d in diagnostics if d.code == "E011"]


def test_check_refuses_a_county_note_that_reads_backwards(tmp_path, capsys) -> None:
    sheets = county_sheets()
    sheets["标准参数"][0].append("备注")
    sheets["标准参数"][1].append("依据\u202e文件号\u202c调整")
    tables = write_tables(tmp_path, county=sheets, county_form="csv")
    assert cli.main(["check", str(tables)]) == 1
    out = capsys.readouterr().out
    assert "E011" in out and "<U+202E>" in out
