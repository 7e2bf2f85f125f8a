"""A county workbook that cannot be read is said once, by its root cause, in Chinese.

A half-written .xlsx gave E002 and then E004 「没有「标准参数」工作表」; a UTF-16 CSV
gave E003 and E004; a loop of symbolic links gave E001 「找不到文件」 and E004
(helper-82). E004 adds nothing when the file was not read: it is left out then, and
kept when sheets were read and none is recognised. The log said
「BadZipFile('File is not a zip file')」: it says what is wrong in Chinese.
"""

from __future__ import annotations

import errno
import logging
import shutil
import zipfile
from pathlib import Path

import pytest

from compiler.diagnostics import Report
from compiler.read import os_problem, read_workbook
from compiler.resolve import load_tables
from tests.test_registry import COUNTY, COUNTY_HEADER, write_rulebook
from tests.workbooks import write_csv_folder, write_xlsx

STANDARDS = [COUNTY_HEADER, ["dibao_standard", "1301", "2025-01-01", None, "杭民发"]]


@pytest.fixture
def tables(tmp_path: Path) -> Path:
    root = write_rulebook(tmp_path / "tables")
    shutil.rmtree(root / "counties" / f"{COUNTY}-西湖区")  # each test lays its own
    return root


def county_codes(tables: Path) -> list[str]:
    """The codes of the diagnostics about the county's workbook, in order."""
    report = Report()
    load_tables(tables, report)
    return [d.code for d in report.errors if f"{COUNTY}-西湖区" in (d.location.file or "")]


def said(tables: Path) -> str:
    report = Report()
    load_tables(tables, report)
    return "\n".join(d.render() for d in report.errors)


def half_written(path: Path) -> Path:
    whole = write_xlsx(path, {"标准参数": STANDARDS}).read_bytes()
    path.write_bytes(whole[: len(whole) * 2 // 3])
    return path


def test_a_half_written_workbook_is_e002_alone(tables, caplog):
    half_written(tables / "counties" / f"{COUNTY}-西湖区.xlsx")
    caplog.set_level(logging.INFO, logger="jiuzhu")
    assert county_codes(tables) == ["E002"]
    assert "不完整的压缩内容（文件可能没有下载或复制完整）" in said(tables)
    logged = [r.getMessage() for r in caplog.records if "无法读取 xlsx 文件" in r.getMessage()]
    assert logged and all("不完整的压缩内容" in line for line in logged)
    assert not any("BadZipFile" in line or "zip file" in line for line in logged)


def test_a_utf16_standards_csv_is_e003_alone(tables):
    write_csv_folder(tables / "counties" / f"{COUNTY}-西湖区", {"标准参数": STANDARDS},
                     encoding="utf-16")
    assert county_codes(tables) == ["E003"]
    assert "UTF-16" in said(tables)


def test_a_loop_of_links_is_e001_alone_and_said_to_be_a_loop(tables):
    link = tables / "counties" / f"{COUNTY}-西湖区.xlsx"
    link.symlink_to(link.name)
    assert county_codes(tables) == ["E001"]
    assert f"「{link}」是循环的符号链接，找不到它最终指向的文件" in said(tables)


def test_a_link_to_a_moved_workbook_names_where_it_points(tables, tmp_path):
    link = tables / "counties" / f"{COUNTY}-西湖区.xlsx"
    link.symlink_to(tmp_path / "moved.xlsx")
    assert county_codes(tables) == ["E001"]
    assert f"是符号链接，它指向的文件不存在；实际为「{tmp_path / 'moved.xlsx'}」" in said(tables)


def test_e004_stays_when_sheets_were_read_and_none_is_recognised(tables):
    """A renamed standards sheet beside a CSV that cannot be read: E004 names the
    sheet that was read (Sheet1), which E003 alone would not tell."""
    folder = write_csv_folder(tables / "counties" / f"{COUNTY}-西湖区", {"Sheet1": STANDARDS})
    write_csv_folder(folder, {"备注": [["说明"]]}, encoding="utf-16")
    assert county_codes(tables) == ["E003", "E004"]
    assert "实际为「Sheet1」" in said(tables)


def test_e004_is_left_out_when_the_unread_csv_is_the_standards_sheet(tables):
    folder = write_csv_folder(tables / "counties" / f"{COUNTY}-西湖区", {"备注": [["说明"]]})
    write_csv_folder(folder, {"标准参数": STANDARDS}, encoding="utf-16")
    assert county_codes(tables) == ["E003"]


def test_a_renamed_sheet_alone_is_still_e004(tables):
    write_xlsx(tables / "counties" / f"{COUNTY}-西湖区.xlsx", {"Sheet1": STANDARDS})
    assert county_codes(tables) == ["E004"]


def test_a_zip_without_a_workbook_names_the_missing_part(tmp_path, caplog):
    path = tmp_path / "330106-西湖区.xlsx"
    with zipfile.ZipFile(path, "w") as out:
        out.writestr("word/document.xml", "<document/>")
    caplog.set_level(logging.INFO, logger="jiuzhu")
    _, diagnostics = read_workbook(path)
    assert [d.code for d in diagnostics] == ["E002"]
    assert diagnostics[0].found == "压缩包中缺少工作簿组成部分「xl/workbook.xml」（可能是其他文件改了扩展名）"
    assert all("KeyError" not in r.getMessage() for r in caplog.records)


def test_a_damaged_workbook_xml_is_said_at_its_line(tmp_path):
    path = write_xlsx(tmp_path / "330106-西湖区.xlsx", {"标准参数": STANDARDS})
    with zipfile.ZipFile(path) as old:
        parts = {name: old.read(name) for name in old.namelist()}
    parts["xl/workbook.xml"] = b"<workbook><sheets>"
    with zipfile.ZipFile(path, "w") as new:
        for name, data in parts.items():
            new.writestr(name, data)
    _, diagnostics = read_workbook(path)
    assert diagnostics[0].code == "E002"
    assert diagnostics[0].found.startswith("工作簿中的 XML 内容无法解析（第 1 行")


@pytest.mark.parametrize(
    ("number", "words"),
    [(errno.EACCES, "没有读写权限"), (errno.EBUSY, "文件被其他程序占用"),
     (errno.EXDEV, f"系统错误（错误号 {errno.EXDEV}）")],
    ids=["EACCES", "EBUSY", "EXDEV"],
)
def test_a_system_refusal_is_said_in_chinese(number, words):
    assert os_problem(OSError(number, "English words")) == words
