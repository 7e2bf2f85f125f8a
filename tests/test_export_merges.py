"""Merged cells of a county's 说明 sheet survive ``jiuzhu export``.

County staff merge the title of their notes sheet across the page; ``check`` accepts
merges there (E006 is for tables and list sheets only), but an export wrote the notes'
text back without its merges, so every round trip (read, export, read) unmerged them.
The workbooks here are real .xlsx files written by openpyxl and read by the compiler's
own reader.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
import pytest

from compiler import cli
from compiler.diagnostics import Report
from compiler.export import write_xlsx as export_xlsx
from compiler.load import load_workbook
from compiler.model import OtherSheet, Workbook, WorkbookKind
from compiler.read import read_workbook
from tests.tables_fixture import COUNTY, COUNTY_FILE, county_sheets, write_tables
from tests.test_console import env, shown  # noqa: F401
from tests.workbooks import write_xlsx

NOTES = [
    ["西湖区低收入人口认定标准说明", None, None, None],
    ["2025 年起执行", None, None, "区民政局"],
    ["未列出的标准沿用上级取值；", None, None, None],
    [None, None, None, None],
]
MERGES = ["A1:D1", "A2:C2", "A3:D4"]


def tables_with_merged_notes(tmp_path: Path) -> Path:
    tables = write_tables(tmp_path)
    path = tables / "counties" / f"{COUNTY_FILE}.xlsx"
    write_xlsx(path, {**county_sheets(), "说明": NOTES}, merged={"说明": MERGES})
    return tables


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, out + err
    return out


def read_back(path: Path) -> tuple[OtherSheet, Report]:
    report = Report()
    workbook = load_workbook(path, WorkbookKind.COUNTY, report)
    [notes] = [s for s in workbook.other_sheets if s.name == "说明"]
    return notes, report


def assert_notes_as_typed(path: Path) -> None:
    """The exported 说明: merged as the county merged it, text where it was, and the
    file opens in openpyxl (what Excel and WPS open without repair)."""
    sheet = openpyxl.load_workbook(path)["说明"]
    assert sorted(str(r) for r in sheet.merged_cells.ranges) == sorted(MERGES)
    assert (sheet["A1"].value, sheet["A2"].value, sheet["D2"].value) == (
        NOTES[0][0], NOTES[1][0], "区民政局")
    notes, report = read_back(path)
    assert sorted(notes.merged) == sorted(MERGES)
    assert not [d for d in report.items if d.code in ("E006", "W003")]


def test_the_working_copys_merged_notes_are_exported_merged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tables = tables_with_merged_notes(tmp_path)
    common = ["--tables", str(tables), "--registry", str(tmp_path / "registry.duckdb")]
    assert "E006" not in run(capsys, "check", str(tables), "--county", COUNTY, "--no-analysis")
    out = tmp_path / "export" / f"{COUNTY_FILE}.xlsx"
    run(capsys, "export", "--county", COUNTY, "--version", "work", "--out", str(out), *common)
    assert_notes_as_typed(out)


def test_a_published_versions_merged_notes_are_exported_merged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The registry keeps the merges beside the notes' rows (``other_sheet_merges``)."""
    from compiler.registry import Registry

    tables = tables_with_merged_notes(tmp_path)
    registry = tmp_path / "registry.duckdb"
    common = ["--tables", str(tables), "--registry", str(registry)]
    run(capsys, "publish", "--county", COUNTY, "--effective", "2025-04-07", "--note", "初版",
        "--author", "张三", *common)
    assert "other_sheet_merges" in Registry(registry).get(COUNTY, 1).canonical
    out = tmp_path / "export" / f"{COUNTY_FILE}.xlsx"
    run(capsys, "export", "--county", COUNTY, "--version", "1", "--out", str(out), *common)
    assert_notes_as_typed(out)
    full = tmp_path / "export" / "full.xlsx"
    run(capsys, "export", "--county", COUNTY, "--version", "1", "--out", str(full), "--full",
        *common)
    assert_notes_as_typed(full)


def test_a_merge_that_would_hide_text_or_break_the_file_is_left_unmerged(
    tmp_path: Path,
) -> None:
    """Merging keeps only a range's top-left text, and Excel repairs a file whose
    merges overlap: such ranges are written unmerged, their text kept. A merge down a
    long column is kept without widening the sheet's declared range (W003)."""
    rows = [["标题", "", "", ""], ["甲", "乙", "", ""], ["", "", "", "丙"]]
    merged = ["A1:D1", "A2:B2", "C1:D3", "B3", "A1:", "A4:A60000"]
    workbook = Workbook("", COUNTY, "西湖区", WorkbookKind.COUNTY)
    workbook.other_sheets = [OtherSheet("说明", rows + [["丁"]], merged)]
    path = export_xlsx(workbook, tmp_path / "notes.xlsx")
    raw, diagnostics = read_workbook(path)
    [sheet] = [s for s in raw.sheets if s.name == "说明"]
    assert sheet.merged_ranges == ["A1:D1", "A4:A60000"]
    assert [sheet.text(2, 2), sheet.text(3, 4), sheet.text(4, 1)] == ["乙", "丙", "丁"]
    assert not [d for d in diagnostics if d.code == "W003"], [d.render() for d in diagnostics]
    with zipfile.ZipFile(path) as archive:
        names = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        xml = archive.read(names[0]).decode()
    assert xml.count("<mergeCell ") == 2 and '<mergeCell ref="A4:A60000"' in xml


def test_an_exported_workbook_with_merged_notes_is_taken_by_the_console(
    tmp_path: Path, env: dict[str, Path]  # noqa: F811
) -> None:
    """The console refused an upload whose 说明 had a merged title (E006), as ``check``
    did before helper-57; an exported workbook now keeps the county's merges, so the
    upload takes them as ``check`` does. A merge in 标准参数 is still refused."""
    from tests.test_console import upload_workbook

    at = upload_workbook(tmp_path, f"{COUNTY_FILE}.xlsx", {"说明": NOTES}, merged={"说明": MERGES})
    assert "已用上传的" in shown(at) and "E006" not in shown(at)
    at = upload_workbook(tmp_path, f"{COUNTY_FILE}.xlsx", merged={"标准参数": ["D2:E2"]})
    assert "已用上传的" not in shown(at) and "E006" in shown(at)


def test_a_mark_that_reverses_text_is_exported_visibly_and_reads_back(tmp_path: Path) -> None:
    """A version published before the reader refused bidi overrides (E011) may hold
    one in its notes; the export writes it as <U+202E>, as it writes control
    characters, so that the workbook reads back without E011 for the county to fix."""
    workbook = Workbook("", COUNTY, "西湖区", WorkbookKind.COUNTY)
    workbook.other_sheets = [OtherSheet("说明", [["收入\u202e低于\u202c标准"]], [])]
    shown: list[str] = []
    path = export_xlsx(workbook, tmp_path / "notes.xlsx", shown=shown)
    raw, diagnostics = read_workbook(path)
    assert not [d for d in diagnostics if d.code == "E011"], [d.render() for d in diagnostics]
    [sheet] = [s for s in raw.sheets if s.name == "说明"]
    assert sheet.text(1, 1) == "收入<U+202E>低于<U+202C>标准"
    assert shown == ["说明!A1"]
