"""The registry workflow around the working copy: the base marker, withdrawn content,
and exporting a version back over a workbook (helper-48).

A publish whose output was closed early (``| head -1``) left the marker naming the
previous version; after ``publish --withdraw`` the next publish silently re-published
the withdrawn content; ``export --out tables/counties/...`` overwrote unpublished edits.
The tables are those of tests/test_registry.py (a CSV folder per county).
"""

from __future__ import annotations

import io
import json
import shutil
import sys
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from compiler.registry import Registry
from compiler.registry_publish import publish, withdraw
from compiler.resolve import load_tables
from tests.test_console import ADMIN, env, page, shown, start  # noqa: F401 - env: a fixture
from tests.test_console import publish as console_publish
from tests.test_console import set_dibao as console_set_dibao
from tests.test_registry import (
    COUNTY,
    run,
    set_county_standards,
    two_versions,
    write_rulebook,
)


@pytest.fixture
def tables(tmp_path: Path) -> Path:
    return write_rulebook(tmp_path / "tables")


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return tmp_path / "registry" / "jiuzhu-registry.duckdb"


def common(tables: Path, registry: Path) -> list[str]:
    return ["--tables", str(tables), "--registry", str(registry)]


def marked(folder: Path) -> int:
    """The version the base marker in ``folder`` names."""
    path = folder / f"{COUNTY}.base.json"
    return int(json.loads(path.read_text(encoding="utf-8"))["version"])


class ClosedPipe(io.StringIO):
    """Standard output whose reader has gone (``jiuzhu publish ... | head -0``)."""

    def write(self, text: str) -> int:
        raise BrokenPipeError(32, "Broken pipe")


# ---------------------------------------------------------------- 1. the base marker


PUBLISHES = {
    "publish": ["publish", "--effective", "2025-07-01", "--note", "调整"],
    "withdraw": ["publish", "--withdraw", "2", "--note", "暂缓"],
}


@pytest.mark.parametrize("argv", PUBLISHES.values(), ids=PUBLISHES.keys())
def test_the_marker_is_written_even_when_nobody_reads_the_output(
    tables, registry, monkeypatch, capsys, argv
):
    """The marker was written after the lines printed: a closed pipe stopped the
    command there, exit 0, and the admin's next publish was refused with E702."""
    two_versions(tables, registry)
    code, _, _ = run(capsys, "publish", "--county", COUNTY, "--effective", "2025-08-01",
                     "--note", "三", "--base", "2", "--allow-unchanged", *common(tables, registry))
    assert code == 0 and marked(tables / "counties") == 3
    set_county_standards(tables, [["dibao_standard", "1500", "2025-01-01", None, "杭民发"]])
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # closed by the command
    from compiler import cli

    assert cli.main([argv[0], "--county", COUNTY, *argv[1:], *common(tables, registry)]) == 0
    monkeypatch.undo()
    assert Registry(registry).latest(COUNTY).number == 4
    assert marked(tables / "counties") == 4  # the next publish goes on from the version just made
    set_county_standards(tables, [["dibao_standard", "1600", "2025-01-01", None, "杭民发"]])
    code, out, err = run(capsys, "publish", "--county", COUNTY, "--effective", "2025-09-01",
                         "--note", "再调整", *common(tables, registry))
    assert code == 0 and "已发布 330106@5" in out, err


def test_an_export_writes_its_workbook_and_marker_before_printing(
    tables, registry, tmp_path, monkeypatch
):
    two_versions(tables, registry)
    out = tmp_path / "export" / "330106-西湖区.xlsx"
    monkeypatch.setattr(sys, "stdout", ClosedPipe())
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    from compiler import cli

    argv = ["export", "--county", COUNTY, "--version", "2", "--out", str(out)]
    assert cli.main([*argv, *common(tables, registry)]) == 0
    monkeypatch.undo()
    assert out.exists() and marked(out.parent) == 2


# ---------------------------------------------------------------- 2. withdrawn content


def test_republishing_withdrawn_content_is_refused_unless_asked_for(tables, registry, capsys):
    """After --withdraw 2 the working copy still held version 2, and the next publish
    made it a version again without a word."""
    two_versions(tables, registry)  # the working copy now holds version 2's content
    code, out, _ = run(capsys, "publish", "--county", COUNTY, "--withdraw", "2", "--note",
                       "暂缓执行", "--base", "2", *common(tables, registry))
    assert code == 0 and "已发布 330106@3" in out
    assert f"jiuzhu export --county {COUNTY} --version 3 --out {tables}/counties/330106-西湖区.xlsx" in out
    assert f"--registry {registry}" in out and "被撤回的第 2 版" in out
    args = ["publish", "--county", COUNTY, "--effective", "2026-01-01", "--note", "下一版"]
    code, _, err = run(capsys, *args, *common(tables, registry))
    assert code == 1 and "Traceback" not in err
    assert "E710 工作副本的内容与 330106@2 相同，而该版已于" in err
    assert "被 330106@3 撤回（自 2025-07-01 起恢复 330106@1 的内容）" in err
    assert f"jiuzhu export --county {COUNTY} --version 3 --out" in err and "--allow-withdrawn" in err
    assert len(Registry(registry).versions()) == 3
    code, out, _ = run(capsys, *args, "--allow-withdrawn", *common(tables, registry))
    assert code == 0 and "已发布 330106@4" in out


def test_content_published_again_after_its_withdrawal_is_no_longer_refused(tables, registry):
    from compiler.registry_publish import withdrawn_as

    first, second = two_versions(tables, registry)
    withdraw(registry, COUNTY, 2, "暂缓", "李四", base=2)
    again = publish(tables, COUNTY, date(2025, 9, 1), "恢复执行", "李四", 3, registry,
                    allow_withdrawn=True)
    versions = Registry(registry).history(COUNTY)
    assert withdrawn_as(versions, second.canonical) is None  # v4 holds it: decided since
    assert withdrawn_as(versions[:3], second.canonical)[0].number == 2
    assert withdrawn_as(versions, first.canonical) is None  # restored, not withdrawn
    assert again.number == 4


def test_the_printed_export_brings_the_working_copy_back_in_line(tables, registry, capsys):
    """The documented way on after a withdrawal: export the version now published over
    the working copy (a CSV folder here, which the export's workbook replaces), edit,
    publish."""
    two_versions(tables, registry)
    run(capsys, "publish", "--county", COUNTY, "--withdraw", "2", "--note", "暂缓",
        "--base", "2", *common(tables, registry))
    workbook = tables / "counties" / "330106-西湖区.xlsx"
    code, _, err = run(capsys, "export", "--county", COUNTY, "--version", "3", "--out",
                       str(workbook), *common(tables, registry))
    assert code == 0, err
    shutil.rmtree(tables / "counties" / "330106-西湖区")  # the CSV folder it replaces
    set_dibao(workbook, 1350)
    code, out, err = run(capsys, "publish", "--county", COUNTY, "--effective", "2025-10-01",
                         "--note", "在现行内容上调整", *common(tables, registry))
    assert code == 0 and "已发布 330106@4" in out, err


def test_the_console_offers_to_republish_withdrawn_content(env) -> None:  # noqa: F811
    """The console's draft still held the withdrawn content; 确认发布 published it."""
    registry = env["state"].parent / "registry" / "registry.duckdb"
    at = console_publish(start(ADMIN), "首次发布")
    at.button(key="publish_confirm").click()
    at.run()
    at = console_publish(console_set_dibao(at, "1700"), "提高标准", "2025-03-01")
    at.button(key="publish_confirm").click()
    at.run()
    withdraw(registry, "330106", 2, "暂缓", "张三", base=2)
    page(at, "publish").button(key="stale_keep").click()  # the draft's base was v2, now v3
    at.run()
    at = console_publish(at, "再发布", "2025-06-01")
    at.button(key="publish_confirm").click()
    at.run()
    assert not at.exception
    text = shown(at)
    assert "E710" in text and "330106@2" in text and "已发布 330106@4" not in text
    assert [b for b in at.button if b.key == "withdrawn_restart"]
    assert [v.number for v in Registry(registry).history("330106")] == [1, 2, 3]
    at.checkbox(key="publish_allow_withdrawn").check()
    at.run()
    at.button(key="publish_confirm").click()
    at.run()
    assert "已发布 330106@4" in shown(at)


# ---------------------------------------------------------------- 3. export over a file


def set_dibao(workbook: Path, value: int) -> None:
    """An admin's edit: the county's first standard row (dibao_standard) in Excel."""
    book = openpyxl.load_workbook(workbook)
    sheet = book["标准参数"]
    assert sheet.cell(2, 1).value == "dibao_standard"
    sheet.cell(2, 3).value = value
    book.save(workbook)


@pytest.fixture
def working_xlsx(tables, registry, capsys) -> Path:
    """The county's working copy as the workbook exported from version 1."""
    publish(tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    workbook = tables / "counties" / "330106-西湖区.xlsx"
    code, _, err = run(capsys, "export", "--county", COUNTY, "--version", "1", "--out",
                       str(workbook), *common(tables, registry))
    assert code == 0, err
    shutil.rmtree(tables / "counties" / "330106-西湖区")
    return workbook


def test_export_over_a_workbook_with_unpublished_edits_is_refused(
    tables, registry, working_xlsx, capsys
):
    set_dibao(working_xlsx, 1350)
    before = working_xlsx.read_bytes()
    export = ["export", "--county", COUNTY, "--version", "1", "--out", str(working_xlsx)]
    code, _, err = run(capsys, *export, *common(tables, registry))
    assert code == 1 and "Traceback" not in err and working_xlsx.read_bytes() == before
    assert f"{working_xlsx}: E711 「{working_xlsx}」已存在，内容与 330106 的任何已发布版本都不同" in err
    assert f"jiuzhu diff 330106@1 {working_xlsx}" in err and "--force" in err
    assert not (tables.parent / "backups").exists()


def test_export_with_force_keeps_a_backup_outside_the_tables(
    tables, registry, working_xlsx, capsys
):
    set_dibao(working_xlsx, 1350)
    edited = working_xlsx.read_bytes()
    export = ["export", "--county", COUNTY, "--version", "1", "--out", str(working_xlsx)]
    code, out, err = run(capsys, *export, "--force", *common(tables, registry))
    assert code == 0, err
    (backup,) = (tables.parent / "backups").glob("330106-西湖区.bak-*.xlsx")
    assert backup.read_bytes() == edited and f"已备份为 {backup}" in out
    assert list((tables.parent / "backups").glob("330106.base.bak-*.json"))
    from compiler.diagnostics import Report

    report = Report()
    load_tables(tables, report)  # the backup is not a second workbook of the county
    assert not report.has_errors, [d.render() for d in report.errors]
    code, _, _ = run(capsys, *export, *common(tables, registry))  # now as published
    assert code == 0


def test_export_over_a_workbook_holding_a_published_version_needs_no_force(
    tables, registry, working_xlsx, capsys
):
    """After a withdrawal the working copy holds the withdrawn version: published, so
    the export the withdrawal prints overwrites it without --force; the workbook is
    still backed up, since its comments, widths and the like are not written back
    (helper-111)."""
    set_dibao(working_xlsx, 1350)
    publish(tables, COUNTY, date(2025, 7, 1), "调整", "李四", 1, registry)
    withdraw(registry, COUNTY, 2, "暂缓", "李四", base=2)
    export = ["export", "--county", COUNTY, "--version", "3", "--out", str(working_xlsx)]
    code, out, err = run(capsys, *export, *common(tables, registry))
    assert code == 0 and "导出不会写回批注" in out, err
    assert len(list((tables.parent / "backups").glob("*.bak-*.xlsx"))) == 1


def test_a_yaml_export_of_unpublished_work_is_not_overwritten(
    tables, registry, tmp_path, capsys
):
    publish(tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    out = tmp_path / "330106.yaml"
    export = ["export", "--county", COUNTY, "--out", str(out), *common(tables, registry)]
    assert run(capsys, *export, "--version", "1")[0] == 0
    assert run(capsys, *export, "--version", "1")[0] == 0  # a published version again
    set_county_standards(tables, [["dibao_standard", "1350", "2025-01-01", None, "杭民发"]])
    assert run(capsys, *export, "--version", "work")[0] == 0  # over version 1's text
    code, _, err = run(capsys, *export, "--version", "1")
    assert code == 1 and "E711" in err  # the working copy's text was never published
    code, out, _ = run(capsys, *export, "--version", "1", "--force")
    assert code == 0 and len(list(tmp_path.glob("330106.bak-*.yaml"))) == 1


def test_a_version_for_a_past_date_says_so(tables: Path, registry: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A version effective before today changes decisions already made for those days;
    publishing one said nothing of it (helper-45)."""
    common = ["--tables", str(tables), "--registry", str(registry), "--author", "张三"]
    code, out, _ = run(capsys, "publish", "--county", COUNTY, "--effective", "2025-01-01",
                       "--note", "首次发布", *common)
    assert code == 0 and "注意：生效日期 2025-01-01 早于今天" in out
    set_county_standards(tables, [["dibao_standard", "1350", "2040-01-01", None, "杭民发"]])
    code, out, _ = run(capsys, "publish", "--county", COUNTY, "--effective", "2040-01-01",
                       "--note", "远期", *common)
    assert code == 0 and "早于今天" not in out


def test_a_withdrawal_for_a_past_date_says_so_too(tables: Path, registry: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """It changes the decisions made since its date as a publish does; only a publish
    said so (helper-89). Dated before the version it withdraws, it is refused (E712)."""
    common = ["--tables", str(tables), "--registry", str(registry), "--author", "张三"]
    run(capsys, "publish", "--county", COUNTY, "--effective", "2025-01-01", "--note", "首次发布", *common)
    set_county_standards(tables, [["dibao_standard", "1350", "2025-01-01", None, "杭民发"]])
    run(capsys, "publish", "--county", COUNTY, "--effective", "2025-03-01", "--note", "调整", *common)
    code, _, err = run(capsys, "publish", "--county", COUNTY, "--withdraw", "2", "--note", "暂缓",
                       "--effective", "2025-02-28", *common)
    assert code == 1 and "E712 撤回生效日期 2025-02-28 早于第 2 版的生效日期 2025-03-01" in err
    assert "Traceback" not in err and len(Registry(registry).history(COUNTY)) == 2
    code, out, _ = run(capsys, "publish", "--county", COUNTY, "--withdraw", "2", "--note", "暂缓", *common)
    assert code == 0 and f"注意：撤回生效日期 2025-03-01 早于今天（{date.today()}）；该日以后的决策按撤回后的内容" in out
