"""Leftovers of the workbook-origin check (helper-122).

A copy of the very export a working copy came from, put back after newer versions
were published, was vouched for by the marker (same 导出编号) and undid them; a
console withdrawal wrote no base marker; the E013 reader read every cell of 版本信息,
not its 导出自 row; a 哈希 typed by hand, matching no version, was taken for another
registry's export and skipped the check.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from compiler.errors import RegistryError
from compiler.registry import Registry
from compiler.registry_publish import publish
from tests import test_publish_origin as origin
from tests.test_publish_origin import cli_export, cli_publish, set_dibao
from tests.test_publish_origin_hardened import set_info
from tests.test_registry import COUNTY, OTHER, run, write_rulebook

tables, registry, shared = origin.tables, origin.registry, origin.shared


def marker(tables: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((tables / "counties" / f"{COUNTY}.base.json").read_text("utf-8"))


def test_a_copy_of_the_published_export_put_back_later_is_refused(
    shared, tables, registry, capsys, tmp_path
):
    desk = tmp_path / "desk.xlsx"
    shutil.copyfile(shared, desk)  # the same export, 导出编号 and all
    set_dibao(shared, 1350)
    assert cli_publish(capsys, tables, registry, "2025-07-01", "甲的修改")[0] == 0
    assert marker(tables)["published_as"] == 2
    set_dibao(shared, 1360)  # @3 published without this folder's marker (--base, elsewhere)
    publish(tables, COUNTY, date(2025, 8, 1), "丙", "丙", 2, registry, analyse=None,
            check_origin=False)
    shutil.copyfile(desk, shared)
    set_dibao(shared, 1320)
    with pytest.raises(RegistryError) as caught:  # as the console publishes: base 3
        publish(tables, COUNTY, date(2025, 9, 1), "乙", "乙", 3, registry, analyse=None)
    said = caught.value.diagnostics[0]
    assert said.code == "E702"
    assert "已发布为第 2 版" in said.message and "撤销第 3 版的改动" in said.message
    assert "jiuzhu diff 330106@2 330106@3" in (said.hint or "")
    assert Registry(registry).latest(COUNTY).number == 3


def test_the_published_working_copy_still_publishes_again(shared, tables, registry, capsys):
    set_dibao(shared, 1350)
    assert cli_publish(capsys, tables, registry, "2025-07-01", "二")[0] == 0
    set_dibao(shared, 1360)
    publish(tables, COUNTY, date(2025, 8, 1), "三", "甲", 2, registry, analyse=None)
    assert Registry(registry).latest(COUNTY).number == 3


def test_a_console_withdrawal_writes_the_base_marker(shared, tables, registry, capsys):
    from console import workspace

    set_dibao(shared, 1350)
    assert cli_publish(capsys, tables, registry, "2025-07-01", "二")[0] == 0
    version = workspace.withdraw(registry, COUNTY, 2, "暂缓", "甲", 2, root=tables)
    assert marker(tables)["version"] == version.number == 3
    assert cli_export(capsys, tables, registry, 3, shared)[0] == 0
    set_dibao(shared, 1370)
    code, out, err = cli_publish(capsys, tables, registry, "2025-09-01", "四")
    assert code == 0 and "已发布 330106@4" in out, err


def test_e013_reads_the_origin_row_not_every_cell(shared, tables, registry, capsys):
    set_info(shared, 说明="参照 330108@2 的标准调整")  # a note naming another county
    _, out, err = run(capsys, "check", str(tables), "--county", COUNTY, "--no-analysis")
    assert "E013" not in out + err
    set_info(shared, 导出自="３３０１０８＠２")
    _, out, err = run(capsys, "check", str(tables), "--county", COUNTY, "--no-analysis")
    assert "E013" in out + err and "330108@2" in out + err


def test_a_hash_typed_by_hand_is_refused(shared, tables, registry, capsys, tmp_path):
    desk = tmp_path / "desk" / f"{COUNTY}-西湖区.xlsx"
    assert cli_export(capsys, tables, registry, 1, desk)[0] == 0
    set_dibao(shared, 1350)
    assert cli_publish(capsys, tables, registry, "2025-07-01", "甲的修改")[0] == 0
    set_info(desk, 哈希="ab" * 32)
    set_dibao(desk, 1320)
    shutil.copyfile(desk, shared)
    code, out, err = cli_publish(capsys, tables, registry, "2025-09-01", "乙的修改")
    assert code == 1 and "已发布" not in out
    assert "版本信息!B" in err and "E702" in err and "不是登记簿中任何版本的哈希" in err
    assert Registry(registry).latest(COUNTY).number == 2


def test_an_export_from_another_registry_still_publishes(
    shared, tables, registry, capsys, tmp_path
):
    other_tables = write_rulebook(tmp_path / "other")
    other = tmp_path / "other-registry" / "r.duckdb"
    args = ["--tables", str(other_tables), "--registry", str(other)]
    assert run(capsys, "publish", "--county", COUNTY, "--effective", "2024-01-01",
               "--note", "测试登记簿", "--author", "丁", *args)[0] == 0
    set_dibao(shared, 1350)
    assert cli_publish(capsys, tables, registry, "2025-07-01", "甲的修改")[0] == 0
    elsewhere = tmp_path / "elsewhere.xlsx"
    assert run(capsys, "export", "--county", COUNTY, "--version", "1", "--out", str(elsewhere),
               *args)[0] == 0
    set_dibao(elsewhere, 1320)
    shutil.copyfile(elsewhere, shared)
    code, out, err = cli_publish(capsys, tables, registry, "2025-09-01", "乙的修改")
    assert code == 0 and "已发布 330106@3" in out, err
    assert OTHER != COUNTY
