"""A multi-county ``jiuzhu check`` analyses each county whose own workbooks are sound.

Whether to analyse a county was decided on the whole report so far: one county's
error (or another city's) skipped the gap and overlap analysis of every county checked
after it, so their findings were silently missing (helper-70). The errors that stop a
county's analysis are those in its own workbook, its city's and the province's.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from compiler.cli import main

ROOT = Path(__file__).resolve().parent.parent
ANALYSIS = ("E5", "W5", "I5")


def copied_tables(tmp_path: Path) -> Path:
    tables = tmp_path / "tables"
    shutil.copytree(ROOT / "tables", tables, ignore=shutil.ignore_patterns("samples"))
    return tables


def unreadable_dibao(workbook: Path) -> None:
    """A 低保标准 row whose value names another period than the standard's (E110)."""
    book = openpyxl.load_workbook(workbook)
    book["标准参数"].append(["dibao_standard", "低保标准", "1301元/年", "元/人/月", "2025-01-01",
                            None, "测试文件", None, "是"])
    book.save(workbook)


def check(tables: Path, counties: list[str], capsys: pytest.CaptureFixture[str]) -> list[dict]:
    arguments = ["check", str(tables), "--as-of", "2025-06-01", "--format", "json"]
    for code in counties:
        arguments += ["--county", code]
    assert main(arguments) == 1  # the error is still reported
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def analysed(items: list[dict]) -> set[str]:
    """The counties the analysis findings name (「330203 海曙区」 -> 330203)."""
    return {
        county.split()[0]
        for item in items if item["code"].startswith(ANALYSIS)
        for county in item["extra"].get("counties", [])
    }


def test_a_countys_error_leaves_the_counties_after_it_analysed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """西湖区 (checked first) has an E110; 滨江区 in the same city and 海曙区 in
    another are analysed and their findings reported; 西湖区 is not analysed."""
    tables = copied_tables(tmp_path)
    unreadable_dibao(tables / "counties" / "330106-西湖区.xlsx")
    items = check(tables, ["330106", "330108", "330203"], capsys)
    errors = [(i["code"], Path(i["file"]).name) for i in items if i["severity"] == "error"]
    assert ("E110", "330106-西湖区.xlsx") in errors, errors
    assert analysed(items) == {"330108", "330203"}


def test_a_citys_error_stops_the_analysis_of_its_counties_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An error in 杭州市's workbook stops the analysis of 西湖区, which uses it, and
    not that of 海曙区 (宁波市), checked after it."""
    tables = copied_tables(tmp_path)
    unreadable_dibao(tables / "cities" / "330100-杭州市.xlsx")
    items = check(tables, ["330106", "330203"], capsys)
    errors = {(i["code"], Path(i["file"]).name) for i in items if i["severity"] == "error"}
    assert ("E110", "330100-杭州市.xlsx") in errors, errors
    assert {name for _, name in errors} == {"330100-杭州市.xlsx"}  # and E403: it overlaps
    assert analysed(items) == {"330203"}
