"""A workbook exported from an older version and copied over the working copy.

The base marker belongs to the folder, not to the workbook: B exported 330106@1 to
his desk, A published 330106@2 from the shared folder, B copied his edited workbook
over the shared one and published; it was accepted as @3 and silently undid A's
change (tester R17, helper-111). The workbook's 版本信息 sheet says where it came
from (导出自 330106@1); publish now refuses it (E702) unless the marker was written
for that very workbook. Also here: what export does to a working copy it overwrites,
a CSV-folder working copy, an effective date before the standards, a lone CR.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from compiler.errors import RegistryError
from compiler.registry import Registry
from compiler.registry_publish import publish
from tests.test_registry import COUNTY, run, write_rulebook


@pytest.fixture
def tables(tmp_path: Path) -> Path:
    return write_rulebook(tmp_path / "tables")


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return tmp_path / "registry" / "jiuzhu-registry.duckdb"


def common(tables: Path, registry: Path) -> list[str]:
    return ["--tables", str(tables), "--registry", str(registry)]


def cli_publish(capsys, tables, registry, effective, note, *more):  # type: ignore[no-untyped-def]
    return run(capsys, "publish", "--county", COUNTY, "--effective", effective, "--note", note,
               "--author", "甲", *common(tables, registry), *more)


def cli_export(capsys, tables, registry, version, out, *more):  # type: ignore[no-untyped-def]
    return run(capsys, "export", "--county", COUNTY, "--version", str(version), "--out", str(out),
               *common(tables, registry), *more)


def set_dibao(path: Path, value: int) -> None:
    """Change the county's dibao_standard row of an exported workbook."""
    book = openpyxl.load_workbook(path)
    sheet = book["标准参数"]
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == "dibao_standard":
            row[header.index("值")].value = value
    book.save(path)


@pytest.fixture
def shared(tables, registry, capsys, tmp_path) -> Path:  # type: ignore[no-untyped-def]
    """@1 published; the shared working copy is its export (an .xlsx and its marker)."""
    code, _, err = cli_publish(capsys, tables, registry, "2025-01-01", "首次发布")
    assert code == 0, err
    shutil.move(tables / "counties" / f"{COUNTY}-西湖区", tmp_path / "csv-copy")
    workbook = tables / "counties" / f"{COUNTY}-西湖区.xlsx"
    code, _, err = cli_export(capsys, tables, registry, 1, workbook)
    assert code == 0, err
    return workbook


def test_a_workbook_exported_from_an_older_version_copied_over_is_refused(
    shared, tables, registry, capsys, tmp_path
):
    desk = tmp_path / "desk" / f"{COUNTY}-西湖区.xlsx"
    assert cli_export(capsys, tables, registry, 1, desk)[0] == 0  # B takes @1 home
    set_dibao(shared, 1350)  # A's change, published as @2
    assert cli_publish(capsys, tables, registry, "2025-07-01", "甲的修改")[0] == 0
    set_dibao(desk, 1320)  # B's change on top of @1, copied over the shared workbook
    shutil.copyfile(desk, shared)
    code, out, err = cli_publish(capsys, tables, registry, "2025-09-01", "乙的修改")
    assert code == 1 and "已发布" not in out
    assert "E702 330106 的工作簿是从第 1 版导出的（其「版本信息」表写着 导出自 330106@1）" in err
    assert "最新已是第 2 版；按它发布会撤销第 2 版的改动" in err
    assert "第 2 版由 甲 于" in err
    assert f"jiuzhu diff 330106@1 330106@2 --tables {tables} --registry {registry}" in err
    assert f"jiuzhu export --county 330106 --version 2 --out 330106-第2版.xlsx --tables {tables}" in err
    assert Registry(registry).latest(COUNTY).number == 2  # nothing stored
    # --base 2 is the admin's word that the workbook holds what @2 changed
    code, out, err = cli_publish(capsys, tables, registry, "2025-09-01", "乙的修改", "--base", "2")
    assert code == 0, err


def test_the_console_path_refuses_it_too(shared, tables, registry, capsys, tmp_path):
    desk = tmp_path / "desk.xlsx"
    assert cli_export(capsys, tables, registry, 1, desk)[0] == 0
    set_dibao(shared, 1350)
    assert cli_publish(capsys, tables, registry, "2025-07-01", "甲的修改")[0] == 0
    set_dibao(desk, 1320)
    shutil.copyfile(desk, shared)
    (tables / "counties" / f"{COUNTY}.base.json").unlink()  # a draft has no marker
    with pytest.raises(RegistryError) as caught:
        publish(tables, COUNTY, date(2025, 9, 1), "乙", "乙", 2, registry, analyse=None)
    assert "导出自 330106@1" in caught.value.diagnostics[0].message


def test_the_exported_working_copy_is_published_again_and_again(
    shared, tables, registry, capsys
):
    for number, value in ((2, 1350), (3, 1360), (4, 1370)):
        set_dibao(shared, value)
        code, out, err = cli_publish(capsys, tables, registry, f"2025-0{number + 4}-01", f"第{number}次")
        assert code == 0, err
        assert f"已发布 330106@{number}" in out
    marker = json.loads((tables / "counties" / f"{COUNTY}.base.json").read_text("utf-8"))
    assert marker["exported_from"] == "330106@1" and marker["workbook"]


def test_export_over_a_published_workbook_keeps_a_backup(shared, tables, registry, capsys):
    book = openpyxl.load_workbook(shared)
    book["标准参数"]["A1"].comment = openpyxl.comments.Comment("甲的批注", "甲")
    book.save(shared)
    code, out, err = cli_export(capsys, tables, registry, 1, shared)
    assert code == 0, err
    backups = list((tables.parent / "backups").glob(f"{COUNTY}-西湖区.bak-*.xlsx"))
    assert len(backups) == 1 and f"已备份为 {backups[0]}" in out.replace(str(Path.cwd()) + "/", "")
    assert "导出不会写回批注" in out
    kept = openpyxl.load_workbook(backups[0])["标准参数"]["A1"].comment
    assert kept is not None and kept.text == "甲的批注"


def test_export_beside_a_csv_folder_working_copy_says_so(tables, registry, capsys):
    assert cli_publish(capsys, tables, registry, "2025-01-01", "首次发布")[0] == 0
    out = tables / "counties" / f"{COUNTY}-西湖区.xlsx"
    code, _, err = cli_export(capsys, tables, registry, 1, out)
    assert code == 0 and out.exists()
    folder = tables / "counties" / f"{COUNTY}-西湖区"
    assert f"注意：330106 的工作副本原是 CSV 文件夹「{folder}」，现在与导出的「330106-西湖区.xlsx」并存" in err
    assert "E009" in err and "移出 tables 文件夹" in err


def test_an_effective_date_before_the_standards_is_said_once(tables, registry, capsys):
    code, _, err = cli_publish(capsys, tables, registry, "2016-06-01", "太早")
    assert code == 1
    assert err.count("E607") == 1 and "E701" not in err
    assert "生效日期须不早于 " in err


def test_a_lone_cr_in_a_note_is_stored_as_a_line_break(tables, registry, capsys):
    code, _, err = cli_publish(capsys, tables, registry, "2025-01-01", "第一行\r第二行\r\n第三行")
    assert code == 0, err
    assert Registry(registry).latest(COUNTY).note == "第一行\n第二行\n第三行"
    _, shown, _ = run(capsys, "history", "--county", COUNTY, *common(tables, registry))
    assert "<U+000D>" not in shown and "      第二行" in shown


def test_publishing_an_older_versions_content_says_so(shared, tables, registry, capsys):
    for effective, value in (("2025-07-01", 1350), ("2025-08-01", 1360)):
        set_dibao(shared, value)
        assert cli_publish(capsys, tables, registry, effective, f"改为 {value}")[0] == 0
    set_dibao(shared, 1350)  # back to @2's content, while @3 is in force
    code, out, err = cli_publish(capsys, tables, registry, "2025-09-01", "改回")
    assert code == 0, err
    assert "330106@4 的内容与 330106@2（2025-07-01 起生效，甲 发布）相同" in out
    assert "取代此前现行的 330106@3" in out and "jiuzhu diff 330106@3 330106@4" in out
