"""A --registry that cannot be a registry: inside the tables folder (E707), a folder or
a file DuckDB did not write (E706); each said in Chinese with what was found."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from compiler import cli
from tests.test_registry import write_rulebook

COUNTY = "330106"
COMMANDS = {
    "publish": ["publish", "--county", COUNTY, "--effective=2025-01-01", "--note=x"],
    "history": ["history", "--county", COUNTY],
    "verify": ["verify"],
}


def _parquet(path: Path) -> Path:
    duckdb.sql(f"COPY (SELECT 1 AS a) TO '{path}' (FORMAT parquet)")
    return path


NOT_REGISTRIES = {
    "folder": (lambda p: (p / "r.duckdb").mkdir() or p / "r.duckdb", "一个文件夹"),
    "parquet": (lambda p: _parquet(p / "r.parquet"), "一个 Parquet 文件"),
    "text": (
        lambda p: (p / "r.duckdb").write_text("hello") and p / "r.duckdb",
        "其他格式",
    ),
    "empty": (
        lambda p: (p / "r.duckdb").write_bytes(b"") or p / "r.duckdb",
        "一个空文件",
    ),
}


def _run(capsys, argv: list[str]) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    code = cli.main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_registry_inside_the_tables_folder_is_e707(tmp_path, capsys, command):
    tables = write_rulebook(tmp_path / "tables")
    inside = tables / "r.duckdb"
    code, err = _run(
        capsys, [*command, "--tables", str(tables), "--registry", str(inside)]
    )
    assert code == 1 and f"{inside}: E707" in err and "E605" not in err
    assert f"实际为「{inside}」" in err and "应为tables 文件夹以外的路径" in err
    assert not inside.exists()


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
@pytest.mark.parametrize("kind", NOT_REGISTRIES.values(), ids=NOT_REGISTRIES.keys())
def test_a_registry_that_is_a_folder_or_another_file_is_e706(
    tmp_path, capsys, command, kind
):
    tables = write_rulebook(tmp_path / "tables")
    make, found = kind
    path = make(tmp_path)
    code, err = _run(
        capsys, [*command, "--tables", str(tables), "--registry", str(path)]
    )
    assert code == 1 and f"{path}: E706" in err and f"实际为「{found}" in err, err
    assert "应为由 jiuzhu publish 创建的 DuckDB 登记簿文件" in err
    assert "Error" not in err and "E703" not in err


def test_publishing_below_a_file_is_e706_not_an_internal_error(tmp_path, capsys):
    tables = write_rulebook(tmp_path / "tables")
    (tmp_path / "notes.txt").write_text("x")
    path = tmp_path / "notes.txt" / "r.duckdb"
    argv = [*COMMANDS["publish"], "--base", "0", "--tables", str(tables)]
    code, err = _run(capsys, [*argv, "--registry", str(path)])
    assert code == 1 and f"{path}: E706" in err and "路径中有一级是文件" in err


@pytest.mark.parametrize("kept", ["half", "100000-bytes"])
@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_registry_cut_short_is_e703_damaged_not_an_internal_error(
    tmp_path, capsys, command, kept
):
    """A registry's first half opens and fails when read: an English IOException
    reached the user as an internal error (helper-41). Its first 100,000 bytes do
    not open: DuckDB's 「IO Error: Could not read enough bytes」 was the message, with
    a hint to name another file (helper-82)."""
    tables = write_rulebook(tmp_path / "tables")
    path = tmp_path / "r.duckdb"
    argv = ["--tables", str(tables), "--registry", str(path)]
    assert _run(capsys, [*COMMANDS["publish"], "--base", "0", *argv])[0] == 0
    data = path.read_bytes()
    size = len(data) // 2 if kept == "half" else 100_000
    path.write_bytes(data[:size])
    code, err = _run(capsys, [*command, *(["--base", "1"] if command[0] == "publish" else []), *argv])
    assert code == 1 and f"{path}: E703 版本登记簿文件已损坏" in err, err
    assert "被截断" in err and "从备份恢复登记簿文件" in err
    assert "Error" not in err and "Could not" not in err and "指定正确的文件" not in err
    assert "内部错误" not in err and "Traceback" not in err
    assert len(path.read_bytes()) == size  # nothing written to it
