"""Commands that write files refuse a path in the tables folder or the registry (E613).

``jiuzhu build tables --out tables/counties`` exited 0 and wrote ``manifest.json``,
``prelude.sql`` and ``sql/`` among the county workbooks; from then on check, build and
publish failed with E002 and E109 (helper-82). Every command that writes a file or a
folder is refused before any work, except ``export`` of the county's own workbook over
its working copy, which is how a version is brought back (docs/versions.md).
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from compiler.registry_publish import publish
from tests.test_registry import COUNTY, run, write_rulebook


@pytest.fixture
def tables(tmp_path: Path) -> Path:
    return write_rulebook(tmp_path / "tables")


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def checks_clean(capsys, tables: Path) -> bool:  # type: ignore[no-untyped-def]
    code, _, _ = run(capsys, "check", str(tables), "--no-analysis", "--as-of", "2025-06-01")
    return code == 0


@pytest.mark.parametrize("where", ["counties", ".", "province/sql", "cities"])
def test_build_refuses_an_out_folder_in_the_tables_folder(tables, capsys, where):
    before = listing(tables)
    out = tables / where
    code, out_text, err = run(capsys, "build", str(tables), "--out", str(out))
    assert code == 1 and out_text == ""
    assert f"{out}: E613 输出文件夹在正在读取的决策表文件夹中，写入会改变决策表" in err
    assert "E002、E109" in err and "如 build" in err
    assert listing(tables) == before and checks_clean(capsys, tables)


def test_build_refuses_the_registry_folder_and_writes_elsewhere(tables, tmp_path, capsys):
    code, _, err = run(capsys, "build", str(tables), "--out", str(tmp_path / "registry"))
    assert code == 1 and "E613 输出文件夹在版本登记簿的位置" in err
    assert not (tmp_path / "registry").exists()
    code, _, _ = run(capsys, "build", str(tables), "--out", str(tmp_path / "build"))
    assert code == 0 and (tmp_path / "build" / "manifest.json").exists()


def test_build_refuses_a_link_that_leads_into_the_tables_folder(tables, tmp_path, capsys):
    link = tmp_path / "out"
    link.symlink_to(tables / "counties")
    code, _, err = run(capsys, "build", str(tables), "--out", str(link))
    assert code == 1 and "E613" in err
    assert not (tables / "counties" / "manifest.json").exists()


@pytest.fixture
def published(tables: Path, tmp_path: Path) -> Path:
    registry = tmp_path / "registry" / "jiuzhu-registry.duckdb"
    publish(tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry, analyse=None)
    return registry


EXPORTS = {
    "yaml among the workbooks": ("counties/330106-v1.yaml", []),
    "full workbook": ("counties/330106-西湖区.xlsx", ["--full"]),
    "a second workbook of the county": ("counties/330106-v1.xlsx", []),
    "the province folder": ("province/330106.xlsx", []),
}


@pytest.mark.parametrize(("name", "extra"), EXPORTS.values(), ids=EXPORTS.keys())
def test_export_into_the_tables_folder_is_refused_unless_it_is_the_working_copy(
    tables, published, capsys, name, extra
):
    before = listing(tables)
    out = tables / name
    code, _, err = run(capsys, "export", "--county", COUNTY, "--version", "1", "--out",
                       str(out), *extra, "--tables", str(tables), "--registry", str(published))
    assert code == 1 and f"{out}: E613 输出文件在正在读取的决策表文件夹中" in err
    assert f"放回工作副本只能导出本县的工作簿（不加 --full）到 {tables}/counties/330106-西湖区.xlsx" in err
    assert listing(tables) == before and checks_clean(capsys, tables)


def test_export_over_the_working_copy_is_still_allowed(tables, published, capsys):
    """The county's working copy is a CSV folder: its workbook replaces it."""
    out = tables / "counties" / "330106-西湖区.xlsx"
    code, _, err = run(capsys, "export", "--county", COUNTY, "--version", "1", "--out",
                       str(out), "--tables", str(tables), "--registry", str(published))
    assert code == 0, err
    assert out.exists() and (tables / "counties" / "330106.base.json").exists()


def test_export_into_the_registry_folder_is_refused(tables, published, capsys):
    out = published.parent / "v1.yaml"
    code, _, err = run(capsys, "export", "--county", COUNTY, "--version", "1", "--out",
                       str(out), "--tables", str(tables), "--registry", str(published))
    assert code == 1 and "E613 输出文件在版本登记簿的位置" in err and not out.exists()


def test_export_dmn_synth_and_bench_refuse_the_tables_folder(tables, capsys):
    before = listing(tables)
    commands = {
        "export-dmn": ["export-dmn", "--county", COUNTY, "--out",
                       str(tables / "counties" / "330106.dmn"), "--tables", str(tables)],
        "synth": ["synth", "--households", "10", "--out",
                  str(tables / "counties" / "households.parquet"), "--tables", str(tables)],
        "bench": ["bench", "--households", "10", "--runs", "1", "--work",
                  str(tables / "bench"), "--tables", str(tables)],
    }
    for name, argv in commands.items():
        code, _, err = run(capsys, *argv)
        assert code == 1 and "E613" in err and "在正在读取的决策表文件夹中" in err, name
    assert listing(tables) == before and checks_clean(capsys, tables)


def test_user_add_refuses_a_users_file_in_the_tables_folder(tables, capsys, monkeypatch):
    users = tables / "counties" / "users.yaml"
    monkeypatch.setattr("sys.stdin", io.StringIO("pass-word-123\n"))
    code, _, err = run(capsys, "user", "add", "--users", str(users), "--name", "wang",
                       "--role", "reviewer", "--tables", str(tables), "--password-stdin")
    assert code == 1 and f"{users}: E613 用户文件在正在读取的决策表文件夹中" in err
    assert "--users" in err and not users.exists()
