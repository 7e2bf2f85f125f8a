"""Text an .xlsx cannot hold: control characters (E011) and over-long text (E012).

The reader refuses both in a workbook, .xlsx or CSV, so such text is never published;
export to .xlsx of a version published before that check writes control characters
visibly and refuses text longer than a cell, instead of failing inside openpyxl.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest

from compiler import cli
from compiler import read as reader
from compiler.read import read_workbook
from tests.tables_fixture import COUNTY, COUNTY_FILE, county_sheets, write_tables
from tests.workbooks import rewrite_member, write_csv_folder, write_xlsx

NOTE = "杭民发\x01〔2025〕\x07号\x1b[0m"


def _with_note(note: str) -> dict[str, list[list[object]]]:
    sheets = county_sheets()
    sheets["标准参数"][0].append("备注")
    sheets["标准参数"][1].append(note)
    return sheets


def _xlsx_with_controls(path: Path) -> Path:
    """An .xlsx whose C2 and C3 hold control characters, escaped as Excel saves them."""
    rows = [["标识", "值", "备注"], ["a", "1", "MARK"], ["b", "2", "MARK"]]
    write_xlsx(path, {"标准参数": rows})
    rewrite_member(
        path, "xl/sharedStrings.xml", lambda x: x.replace("MARK", "a_x0001_b_x001B_")
    )
    return path


def test_control_characters_in_a_csv_cell_are_e011_at_that_cell(tmp_path):
    rows = [["标识", "备注"], ["a", "x\x01y"], ["b", "x\x01y"], ["c", "行一\n行二\t!"]]
    write_csv_folder(tmp_path / "w", {"标准参数": rows})
    _, diagnostics = read_workbook(tmp_path / "w", "w")
    found = [d for d in diagnostics if d.code == "E011"]
    assert [d.location.render() for d in found] == ["w:标准参数!B2", "w:标准参数!B3"]
    assert found[0].found == "x<U+0001>y" and "U+0001" in found[0].message


def test_control_characters_in_an_xlsx_cell_are_e011_at_that_cell(tmp_path):
    _, diagnostics = read_workbook(_xlsx_with_controls(tmp_path / "c.xlsx"), "c.xlsx")
    found = [d for d in diagnostics if d.code == "E011"]
    assert [d.location.cell for d in found] == ["C2", "C3"]
    assert "U+0001、U+001B" in found[0].message


def test_a_csv_cell_longer_than_excel_holds_is_e012(tmp_path):
    rows = [["标识", "备注"], ["a", "长" * 40_000]]
    write_csv_folder(tmp_path / "w", {"标准参数": rows})
    _, diagnostics = read_workbook(tmp_path / "w", "w")
    assert [(d.code, d.location.cell) for d in diagnostics] == [("E012", "B2")]
    assert diagnostics[0].found.startswith("40000 个字符")


def test_check_refuses_a_county_note_with_control_characters(tmp_path, capsys):
    tables = write_tables(tmp_path, county=_with_note(NOTE), county_form="csv")
    code = cli.main(["check", str(tables)])
    err = capsys.readouterr().out
    assert code == 1 and "标准参数!F2: E011" in err


@pytest.fixture
def published_before_the_check(tmp_path, monkeypatch):
    """A registry holding a version whose note has control characters or is over-long,
    as registries published before the reader refused them do."""

    def publish(note: str) -> list[str]:
        tables = write_tables(tmp_path, county=_with_note(note), county_form="csv")
        common = ["--tables", str(tables), "--registry", str(tmp_path / "r.duckdb")]
        with monkeypatch.context() as patch:
            patch.setattr(reader, "_unwritable", lambda text: False)
            argv = ["publish", "--county", COUNTY, "--effective", "2025-01-01"]
            assert cli.main([*argv, "--note", "旧版", *common]) == 0
        return common

    return publish


def test_export_writes_published_control_characters_visibly(
    tmp_path, capsys, published_before_the_check
):
    common = published_before_the_check(NOTE)
    out = tmp_path / "export" / f"{COUNTY_FILE}.xlsx"
    code = cli.main(
        ["export", "--county", COUNTY, "--version", "1", "--out", str(out), *common]
    )
    err = capsys.readouterr().err
    assert code == 0 and "标准参数!H2" in err
    book = openpyxl.load_workbook(out)
    assert book["标准参数"]["H2"].value == "杭民发<U+0001>〔2025〕<U+0007>号<U+001B>[0m"
    info = {row[0]: row[1] for row in book["版本信息"].iter_rows(values_only=True)}
    assert "标准参数!H2" in info["控制字符"]
    _, diagnostics = read_workbook(out)
    assert not [d for d in diagnostics if d.is_error]


def test_export_refuses_published_text_longer_than_a_cell(
    tmp_path, capsys, published_before_the_check
):
    common = published_before_the_check("长" * 40_000)
    out = tmp_path / "x.xlsx"
    code = cli.main(
        ["export", "--county", COUNTY, "--version", "1", "--out", str(out), *common]
    )
    err = capsys.readouterr().err
    assert code == 1 and "标准参数!H2: E012" in err and "40000 个字符" in err
    assert not out.exists()
