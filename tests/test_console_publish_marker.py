"""The console's publish records the base marker, as ``jiuzhu publish`` does.

A working copy whose workbook has a 版本信息 sheet (an export, kept or uploaded without
its marker) published once from the console was refused (E702, 「删去工作簿中的「版本信息」
表」) at its next publish from the console: the console wrote no marker, so nothing
vouched for the workbook's 导出自 once a newer version existed; ``jiuzhu publish`` of the
same working copy found the marker behind (helper-115). An older export copied over the
working copy is still refused, from either side.
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from compiler.errors import RegistryError
from compiler.registry import Registry
from console import workspace
from tests.test_publish_origin import cli_export, cli_publish, set_dibao
from tests.test_registry import COUNTY, write_rulebook


@pytest.fixture
def tables(tmp_path: Path) -> Path:
    return write_rulebook(tmp_path / "tables")


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return tmp_path / "registry" / "jiuzhu-registry.duckdb"


@pytest.fixture
def exported(tables, registry, capsys, tmp_path) -> Path:  # type: ignore[no-untyped-def]
    """@1 published; the working copy is its export (版本信息 导出自 330106@1)."""
    code, _, err = cli_publish(capsys, tables, registry, "2025-01-01", "首次发布")
    assert code == 0, err
    shutil.move(tables / "counties" / f"{COUNTY}-西湖区", tmp_path / "csv-copy")
    workbook = tables / "counties" / f"{COUNTY}-西湖区.xlsx"
    code, _, err = cli_export(capsys, tables, registry, 1, workbook)
    assert code == 0, err
    return workbook


def console_publish(tables: Path, registry: Path, base: int, effective: str) -> object:
    return workspace.publish(tables, COUNTY, date.fromisoformat(effective), "控制台发布", "乙",
                             base, registry, None)


def marker(tables: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((tables / "counties" / f"{COUNTY}.base.json").read_text("utf-8"))


def test_the_console_publishes_an_exported_workbook_twice(exported, tables, registry):
    (tables / "counties" / f"{COUNTY}.base.json").unlink()  # kept or uploaded without it
    set_dibao(exported, 1350)
    assert console_publish(tables, registry, 1, "2025-07-01").label == "330106@2"
    set_dibao(exported, 1360)
    assert console_publish(tables, registry, 2, "2025-08-01").label == "330106@3"
    recorded = marker(tables)
    assert recorded["version"] == 3 and recorded["exported_from"] == "330106@1"
    assert recorded["workbook"]  # the 导出编号 of the working copy's export


def test_the_cli_publishes_after_the_console(exported, tables, registry, capsys):
    set_dibao(exported, 1350)
    assert console_publish(tables, registry, 1, "2025-07-01").label == "330106@2"
    set_dibao(exported, 1360)
    code, out, err = cli_publish(capsys, tables, registry, "2025-08-01", "命令行")
    assert code == 0, err
    assert "已发布 330106@3" in out and "W702" not in err


def test_the_console_publishes_after_the_cli(exported, tables, registry, capsys):
    set_dibao(exported, 1350)
    assert cli_publish(capsys, tables, registry, "2025-07-01", "命令行")[0] == 0
    set_dibao(exported, 1360)
    assert console_publish(tables, registry, 2, "2025-08-01").label == "330106@3"
    set_dibao(exported, 1370)
    code, out, err = cli_publish(capsys, tables, registry, "2025-09-01", "命令行再发")
    assert code == 0, err
    assert "已发布 330106@4" in out


@pytest.mark.parametrize("last", ["console", "cli"])
def test_an_older_export_copied_over_is_still_refused(
    exported, tables, registry, capsys, tmp_path, last
):
    desk = tmp_path / "desk" / f"{COUNTY}-西湖区.xlsx"
    assert cli_export(capsys, tables, registry, 1, desk)[0] == 0  # another export of @1
    set_dibao(exported, 1350)
    assert console_publish(tables, registry, 1, "2025-07-01").label == "330106@2"
    set_dibao(desk, 1320)
    shutil.copyfile(desk, exported)  # @2's change would be undone
    if last == "console":
        with pytest.raises(RegistryError) as caught:
            console_publish(tables, registry, 2, "2025-09-01")
        said = caught.value.diagnostics[0]
        message = f"{said.code} {said.message}"
    else:
        code, out, message = cli_publish(capsys, tables, registry, "2025-09-01", "旧的导出")
        assert code == 1 and "已发布" not in out
    assert "E702 330106 的工作簿是从第 1 版导出的（其「版本信息」表写着 导出自 330106@1）" in message
    assert "会撤销第 2 版的改动" in message
    assert Registry(registry).latest(COUNTY).number == 2
