"""A DuckDB household file with a damaged data block is said to be damaged, in Chinese:
not to be open in another program (DuckDB's "checksum ... in block at location N"
holds the word "block", which the loader's test for another process's lock took for
one, as the registry's did), nor as DuckDB's English 「DuckDB 无法完成计算：Corrupt
database file…」 with a hint about values and memory, where the decisions read it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from compiler.errors import InputError
from compiler.evaluate import evaluate_file
from compiler.synth import synthesise

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "tables"
COUNTIES = sorted(p.name[:6] for p in (TABLES / "counties").iterdir())


def damaged_copy(path: Path, copy: Path) -> None:
    """Flip one byte of ``path`` into ``copy`` where the file still opens but reading
    the members fails a data block's checksum."""
    data = path.read_bytes()
    for offset in range(12288 + 100, len(data), 4096):
        changed = bytearray(data)
        changed[offset] ^= 0xFF
        copy.write_bytes(bytes(changed))
        try:
            con = duckdb.connect(str(copy), read_only=True)
        except duckdb.Error:
            continue
        try:
            con.execute("SELECT count(*) FROM duckdb_tables()").fetchall()
            con.execute("SELECT * FROM members").fetchall()
        except duckdb.Error as error:
            if "checksum" in str(error).lower():
                return
        finally:
            con.close()
    raise AssertionError("no byte found whose change fails a data block's checksum")


def test_a_damaged_duckdb_file_is_not_said_to_be_locked(tmp_path: Path) -> None:
    whole = tmp_path / "whole.duckdb"
    synthesise(3000, 1, whole, COUNTIES)
    broken = tmp_path / "households.duckdb"
    damaged_copy(whole, broken)
    with pytest.raises(InputError) as refused:
        evaluate_file(TABLES, broken, date(2025, 6, 1), tmp_path / "d.jsonl", summary=False)
    said = refused.value.diagnostics[0]
    assert said.code == "E605"
    assert "正被另一个程序打开" not in said.message
    assert said.message.startswith("家庭数据文件已损坏")
    assert "Corrupt" not in said.message and "memory-limit" not in (said.hint or "")
