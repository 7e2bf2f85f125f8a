"""What ``check`` says about a county workbook that would silently decide with
another's figures.

A workbook exported from one county's version and saved under another county's name
(its 版本信息 sheet says 导出自 330106@2) is refused with E013: publishing it would give
西湖区's standards to 滨江区 (helper-45); the console refused it on upload, the command
line took it. A county row of a standard its city sets for the whole city (市域同标) is
W406; an amount of 0 where the province's is above 0 is W407.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl

from compiler.cli import main

ROOT = Path(__file__).resolve().parent.parent


def tables_with(tmp_path: Path, info: str) -> Path:
    tables = tmp_path / "tables"
    shutil.copytree(ROOT / "tables", tables, ignore=shutil.ignore_patterns("samples"))
    path = tables / "counties" / "330108-滨江区.xlsx"
    book = openpyxl.load_workbook(path)
    sheet = book.create_sheet("版本信息")
    sheet.append(["导出自", info])
    sheet.append(["导出日期", "2026-12-01"])
    book.save(path)
    return tables


def test_a_workbook_exported_from_another_county_is_refused(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    tables = tables_with(tmp_path, "330106@2")
    assert main(["check", str(tables), "--county", "330108"]) == 1
    out = capsys.readouterr().out
    assert "330108-滨江区.xlsx:版本信息!B1: E013 工作簿按文件名是 330108 的，却是从 330106@2 导出的" in out


def test_a_workbook_exported_from_its_own_county_is_taken(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    tables = tables_with(tmp_path, "330108@2")
    assert main(["check", str(tables), "--county", "330108"]) == 0
    assert "E013" not in capsys.readouterr().out


def test_a_county_setting_its_citys_dibao_standard_is_warned(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """市域同标: 杭州 sets one dibao standard; a 西湖区 row of its own silently won over
    it (helper-45). W406 names the county's cell; the county's value still decides."""
    tables = tmp_path / "tables"
    shutil.copytree(ROOT / "tables", tables, ignore=shutil.ignore_patterns("samples"))
    path = tables / "counties" / "330106-西湖区.xlsx"
    book = openpyxl.load_workbook(path)
    book["标准参数"].append(["dibao_standard", "低保标准", 1380, "元/月", "2025-01-01", None, "测试", None, "是"])
    book.save(path)
    assert main(["check", str(tables), "--county", "330106"]) == 0
    out = capsys.readouterr().out
    assert "330106-西湖区.xlsx:标准参数!C4: W406 县级工作簿设定了「低保标准」1380" in out
    assert main(["check", str(ROOT / "tables"), "--county", "330106"]) == 0
    assert "W406" not in capsys.readouterr().out


def test_a_dibao_standard_of_zero_is_warned(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A 低保标准 of 0 gave 「0 个错误」 and the usual warnings (helper-46): every
    household falls out of dibao and no bound the province can check catches it."""
    tables = tmp_path / "tables"
    shutil.copytree(ROOT / "tables", tables, ignore=shutil.ignore_patterns("samples"))
    path = tables / "cities" / "330100-杭州市.xlsx"
    book = openpyxl.load_workbook(path)
    sheet = book["标准参数"]
    assert (sheet["A4"].value, sheet["C4"].value) == ("dibao_standard", 1301)
    sheet["F4"] = "2026-12-31"  # 1301 ends where the new period begins
    sheet.append(["dibao_standard", "低保标准", 0, "元/月", "2027-01-01", None, "测试", None, "是"])
    book.save(path)
    assert main(["check", str(tables), "--county", "330106"]) == 0
    out = capsys.readouterr().out
    assert "W407 标准参数「低保标准」2027-01-01 起的取值为 0，而省级的取值大于 0" in out
    assert out.count("W407") == 1  # not the province's own zero amounts (deductions, limits)
