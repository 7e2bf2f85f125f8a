"""The workbook-origin check and the base marker, against a hand-edited 版本信息 sheet
and a broken marker (tester, helper-118).

An @1 export whose 导出自 (B2) was emptied, set to the latest, or typed with full-width
＠ or digits published @3 over @2 silently, though its 哈希 still named @1. A marker
that could not be read named a version that was not the latest and no command; a
marker that is a folder ended publish with an internal error. The notice export gives
for a CSV-folder working copy named a diff that could not work when pasted.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest

from compiler.errors import RegistryError
from compiler.registry import Registry
from compiler.registry_marker import read_base_marker
from tests import test_publish_origin as origin
from tests.test_publish_origin import cli_export, cli_publish, set_dibao
from tests.test_registry import COUNTY, run

# the fixtures of the tests of the origin check this file hardens
tables, registry, shared = origin.tables, origin.registry, origin.shared


def set_info(path: Path, **values: str | None) -> None:
    """Write (None: empty) the named rows of a workbook's 版本信息 sheet."""
    book = openpyxl.load_workbook(path)
    sheet = book["版本信息"]
    for row in sheet.iter_rows():
        if row[0].value in values:
            row[1].value = values[row[0].value]
    book.save(path)


@pytest.fixture
def desk(shared, tables, registry, capsys, tmp_path) -> Path:  # type: ignore[no-untyped-def]
    """B's @1 export, edited, while A published @2 from the shared workbook."""
    desk = tmp_path / "desk" / f"{COUNTY}-西湖区.xlsx"
    assert cli_export(capsys, tables, registry, 1, desk)[0] == 0
    set_dibao(shared, 1350)
    assert cli_publish(capsys, tables, registry, "2025-07-01", "甲的修改")[0] == 0
    set_dibao(desk, 1320)
    return desk


def refused(capsys, tables, registry) -> str:  # type: ignore[no-untyped-def]
    code, out, err = cli_publish(capsys, tables, registry, "2025-09-01", "乙的修改")
    assert code == 1 and "已发布" not in out, err
    assert Registry(registry).latest(COUNTY).number == 2  # nothing stored
    return err


@pytest.mark.parametrize(
    "label", ["330106＠1", "３３０１０６@1", "３３０１０６＠１"], ids=["at", "digits", "both"]
)
def test_a_full_width_origin_is_read_as_the_reader_folds_it(
    desk, shared, tables, registry, capsys, label
):
    set_info(desk, 导出自=label)
    shutil.copyfile(desk, shared)
    err = refused(capsys, tables, registry)
    assert "E702 330106 的工作簿是从第 1 版导出的" in err


@pytest.mark.parametrize("label", [None, "330106@2", "330106@0"], ids=["empty", "latest", "zero"])
def test_an_origin_contradicting_its_hash_is_refused(
    desk, shared, tables, registry, capsys, label
):
    set_info(desk, 导出自=label)
    shutil.copyfile(desk, shared)
    err = refused(capsys, tables, registry)
    assert "版本信息!B2: E702 330106 的工作簿「版本信息」表自相矛盾" in err
    assert "的哈希是第 1 版（330106@1）的" in err
    assert f"jiuzhu diff 330106@1 330106@2 --tables {tables} --registry {registry}" in err
    assert "--base 2 发布" in err


@pytest.mark.parametrize(
    "cells",
    [{"哈希": "abc"}, {"导出自": None, "哈希": None}, {"导出自": "330106@1", "哈希": "１２３"}],
    ids=["hash-garbled", "both-emptied", "hash-short"],
)
def test_an_unreadable_version_sheet_is_refused(desk, shared, tables, registry, capsys, cells):
    set_info(desk, **cells)
    shutil.copyfile(desk, shared)
    err = refused(capsys, tables, registry)
    assert "E702 330106 的工作簿有「版本信息」表，但无法读出它是从哪个版本导出的" in err
    assert f"jiuzhu diff 330106@2 330106 --tables {tables} --registry {registry}" in err


def test_deleting_the_version_sheet_still_publishes(desk, shared, tables, registry, capsys):
    book = openpyxl.load_workbook(desk)
    del book["版本信息"]
    book.save(desk)
    shutil.copyfile(desk, shared)
    code, out, err = cli_publish(capsys, tables, registry, "2025-09-01", "乙的修改")
    assert code == 0 and "已发布 330106@3" in out, err


def test_the_csv_folder_notice_gives_commands_that_work_pasted(
    tables, registry, capsys, monkeypatch, tmp_path
):
    monkeypatch.chdir(tmp_path)
    assert cli_publish(capsys, tables, registry, "2025-01-01", "首次发布")[0] == 0
    out = tables / "counties" / f"{COUNTY}-西湖区.xlsx"
    code, _, err = cli_export(capsys, tables, registry, 1, out)
    assert code == 0, err
    folder = tables.relative_to(tmp_path) / "counties" / f"{COUNTY}-西湖区"
    assert f"  mkdir -p backups && mv {folder} backups/{COUNTY}-西湖区\n" in err
    diff = f"jiuzhu diff 330106@1 backups/{COUNTY}-西湖区 --county 330106 --tables {tables} --registry {registry}"
    assert f"  {diff}" in err
    # as pasted: the move, then the diff
    (tmp_path / "backups").mkdir()
    shutil.move(tables / "counties" / f"{COUNTY}-西湖区", tmp_path / "backups" / f"{COUNTY}-西湖区")
    code, shown, err = run(capsys, *diff.split()[1:])
    assert code == 0 and "决策表没有差异" in shown, err


@pytest.mark.parametrize("text", ["", '{"county": "330106", "vers', "[1, 2]"], ids=["empty", "half", "list"])
def test_an_unreadable_marker_names_the_latest_and_the_commands(
    shared, tables, registry, capsys, text
):
    set_dibao(shared, 1350)
    assert cli_publish(capsys, tables, registry, "2025-07-01", "甲的修改")[0] == 0
    (tables / "counties" / f"{COUNTY}.base.json").write_text(text, encoding="utf-8")
    err = refused(capsys, tables, registry)
    assert "E702 基线标记 330106.base.json 无法读取" in err
    assert '"version": 2' in err and '"version": 3' not in err
    assert f"jiuzhu diff 330106@2 330106 --tables {tables} --registry {registry}" in err
    assert "--base 2 重新发布" in err


@pytest.mark.parametrize("number, said", [(5, "没有第 5 版（最新是第 2 版）"), (1, "哈希与标记中记录的不同")])
def test_a_marker_naming_no_version_gives_the_commands(
    shared, tables, registry, capsys, number, said
):
    set_dibao(shared, 1350)
    assert cli_publish(capsys, tables, registry, "2025-07-01", "甲的修改")[0] == 0
    path = tables / "counties" / f"{COUNTY}.base.json"
    record = json.loads(path.read_text("utf-8"))
    path.write_text(json.dumps({**record, "version": number, "hash": "0" * 64}), "utf-8")
    err = refused(capsys, tables, registry)
    assert f"基线标记记录的 330106@{number} 与当前登记簿中的版本不符：登记簿中" in err and said in err
    assert f"jiuzhu diff 330106@2 330106 --tables {tables} --registry {registry}" in err


def test_a_marker_that_is_a_folder_is_refused_naming_it(shared, tables, registry, capsys):
    path = tables / "counties" / f"{COUNTY}.base.json"
    path.unlink()
    path.mkdir()
    code, _, err = cli_publish(capsys, tables, registry, "2025-07-01", "改")
    assert code == 1 and "内部错误" not in err, err
    assert f"{path}: E702 基线标记 330106.base.json 无法读取" in err
    assert "实际为「一个文件夹」" in err


def test_a_marker_the_system_will_not_open_is_refused(tmp_path, monkeypatch):
    path = tmp_path / f"{COUNTY}.base.json"
    path.write_text("{}", "utf-8")

    def denied(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_text", denied)
    with pytest.raises(RegistryError) as caught:
        read_base_marker(tmp_path, COUNTY)
    found = caught.value.diagnostics[0]
    assert found.code == "E702" and found.location.file == str(path)
    assert "无法打开" in (found.found or "")
