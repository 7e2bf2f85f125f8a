"""Every reader checks a county's chain, not only ``verify`` (helper-139).

A middle version deleted, or rewritten with its own hash recomputed, left each row's
own hash sound: ``history`` listed the rest without a word and evaluation decided with
the version before on the dates the deleted one covered. A byte changed inside a
DuckDB data block was an internal error (exit 3), and publishing onto a broken chain
carried the break on without a word.
"""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from compiler.errors import RegistryError
from compiler.registry import COLUMNS, TABLE, Registry, Version, content_hash
from compiler.registry_publish import publish
from tests.test_registry import (
    COUNTY,
    OTHER,
    registry,  # noqa: F401 (fixture)
    run,
    tables,  # noqa: F401 (fixture)
    two_versions,
)


def three_versions(tables: Path, registry: Path) -> None:  # noqa: F811
    """330106@1-@3 (@3 a recorded review of @2) and 330108@1."""
    two_versions(tables, registry)
    publish(tables, COUNTY, date(2025, 9, 1), "复核", "王五", 2, registry,
            allow_unchanged=True)
    publish(tables, OTHER, date(2025, 1, 1), "首次发布", "张三", 0, registry)


def delete_version(registry: Path, number: int) -> None:  # noqa: F811
    con = duckdb.connect(str(registry))
    con.execute(f"DELETE FROM {TABLE} WHERE county_code = ? AND number = ?",
                [COUNTY, number])
    con.close()


def forge_author(registry: Path, number: int) -> None:  # noqa: F811
    """Rewrite a version's author and recompute that row's own hash only."""
    con = duckdb.connect(str(registry))
    row = con.execute(
        f"SELECT {', '.join(COLUMNS)} FROM {TABLE} WHERE county_code = ? AND number = ?",
        [COUNTY, number],
    ).fetchone()
    forged = dataclasses.replace(Version(*row), author="伪造者")
    con.execute(f"UPDATE {TABLE} SET author = ?, hash = ? WHERE seq = ?",
                ["伪造者", content_hash(forged), forged.seq])
    con.close()


@pytest.mark.parametrize(
    ("tamper", "where"),
    [(lambda r: delete_version(r, 2), 2), (lambda r: forge_author(r, 2), 3)],
    ids=["middle-deleted", "middle-rehashed"],
)
def test_no_version_of_a_broken_chain_decides(tables, registry, tamper, where):  # noqa: F811
    three_versions(tables, registry)
    tamper(registry)
    store = Registry(registry, must_exist=True)
    with pytest.raises(RegistryError) as refused:
        store.version_in_force(COUNTY, date(2025, 8, 1)).rulebook()  # @1 once @2 gone
    first = refused.value.diagnostics[0]
    assert first.code == "E703"
    assert f"{COUNTY} 的版本链在第 {where} 版处断开" in first.message
    with pytest.raises(RegistryError):
        store.get(COUNTY, 1).rulebook()
    assert store.version_in_force(OTHER, date(2025, 8, 1)).rulebook()  # intact


@pytest.mark.parametrize("tamper", [lambda r: delete_version(r, 2),
                                    lambda r: forge_author(r, 2)],
                         ids=["middle-deleted", "middle-rehashed"])
def test_history_marks_a_broken_chain_and_exits_1(tables, registry, capsys, tamper):  # noqa: F811
    three_versions(tables, registry)
    tamper(registry)
    common = ["--tables", str(tables), "--registry", str(registry)]
    code, out, _ = run(capsys, "history", "--county", COUNTY, *common)
    assert code == 1
    assert "的版本链在第" in out and "版本链断开（E703），不能使用" in out
    assert "★现行" not in out
    code, out, _ = run(capsys, "history", "--county", COUNTY, "--format", "json", *common)
    assert code == 1 and '"intact": false' in out and '"intact": true' not in out
    code, _, _ = run(capsys, "history", "--county", OTHER, *common)
    assert code == 0


def test_evaluate_refuses_a_county_whose_middle_version_was_deleted(
    tables, registry, capsys, tmp_path  # noqa: F811
):
    three_versions(tables, registry)
    delete_version(registry, 2)
    data = tmp_path / "h.jsonl"
    data.write_text(
        '{"household_id": "H1", "county_code": "330106", "assets": {"money": "1000"},'
        ' "members": [{"person_id": "P1", "birth_date": "1980-01-01",'
        ' "income": {"wage": "12000"}}]}\n',
        encoding="utf-8",
    )
    code, out, err = run(
        capsys, "evaluate", "--households", str(data), "--as-of", "2025-08-01",
        "--tables", str(tables), "--registry", str(registry),
    )
    assert code == 1, out
    assert "E703" in err and "在第 2 版处断开" in err


@pytest.mark.parametrize("tamper", [lambda r: delete_version(r, 2),
                                    lambda r: forge_author(r, 2)],
                         ids=["middle-deleted", "middle-rehashed"])
def test_publishing_onto_a_broken_chain_writes_nothing(tables, registry, tamper):  # noqa: F811
    three_versions(tables, registry)
    tamper(registry)
    before = Registry(registry).versions()
    for county, base in ((COUNTY, 3), (OTHER, 1)):
        with pytest.raises(RegistryError) as refused:
            publish(tables, county, date(2025, 10, 1), "再发布", "张三", base, registry,
                    allow_unchanged=True, check_origin=False, analyse=None)
        assert refused.value.diagnostics[0].code == "E703"
        assert "不能发布" in refused.value.diagnostics[0].message
    assert [v.hash for v in Registry(registry).versions()] == [v.hash for v in before]


def corrupt_a_data_block(registry: Path, copy: Path) -> None:  # noqa: F811
    """Flip a byte in the copy until the file opens and lists its table but reading
    the versions fails on a block checksum: a data block, not the header or the
    catalog (DuckDB refuses those when opening, which was already E703)."""
    data = registry.read_bytes()
    for offset in range(12288 + 100, len(data), 4096):
        changed = bytearray(data)
        changed[offset] ^= 0xFF
        copy.write_bytes(bytes(changed))
        try:
            con = duckdb.connect(str(copy), read_only=True)
            con.execute("SELECT count(*) FROM duckdb_tables()").fetchall()
        except duckdb.Error:
            continue
        try:
            con.execute(f"SELECT * FROM {TABLE}").fetchall()
        except duckdb.Error as error:
            if "checksum" in str(error).lower():
                return
        finally:
            con.close()
    raise AssertionError("no byte of the registry found whose change fails a data block's checksum")


def test_a_data_block_with_a_bad_checksum_is_e703_not_an_internal_error(
    tables, registry, capsys, tmp_path  # noqa: F811
):
    three_versions(tables, registry)
    broken = tmp_path / "broken.duckdb"
    corrupt_a_data_block(registry, broken)
    with pytest.raises(RegistryError) as refused:
        Registry(broken, must_exist=True).history(COUNTY)
    assert refused.value.diagnostics[0].code == "E703"
    assert "校验和不符" in (refused.value.diagnostics[0].found or "")
    for argv in (["history", "--county", COUNTY], ["verify"]):
        code, out, err = run(capsys, *argv, "--tables", str(tables), "--registry", str(broken))
        assert code == 1, err
        assert "版本登记簿文件已损坏" in err and "Corrupt" not in err + out


def test_the_service_flags_a_broken_chain_and_a_damaged_file(tables, registry, tmp_path):  # noqa: F811
    from tests.test_service import household, make_client

    three_versions(tables, registry)
    saved = tmp_path / "saved.duckdb"
    shutil.copyfile(registry, saved)
    forge_author(registry, 1)  # @1 is in force on no day the service decides today
    delete_version(registry, 3)  # the chain breaks at 2 (@2's link) and @3 is gone
    with make_client(tables, registry) as client:
        answer = client.get(f"/v1/counties/{COUNTY}/versions")
        assert answer.status_code == 200, answer.text  # listed, each version marked
        listed = answer.json()["versions"]
        assert [v["intact"] for v in listed] == [False, False]
        assert "的版本链在第 2 版处断开" in listed[0]["problem"]["message"]
        decided = client.post("/v1/decisions", json={
            "as_of": "2025-08-01", "households": [household("H1", "12000")]})
        assert decided.status_code == 503 and decided.json()["error"]["code"] == "E703"
    corrupt_a_data_block(saved, registry)
    with make_client(tables, registry) as client:
        health = client.get("/v1/health")
        assert health.status_code == 503 and health.json()["error"]["code"] == "E703"
        answer = client.get(f"/v1/counties/{COUNTY}/versions")
        assert answer.status_code == 503 and answer.json()["error"]["code"] == "E703"
