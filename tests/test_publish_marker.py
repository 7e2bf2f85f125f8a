"""A base marker left behind by a publish killed after storing its version.

``kill -9`` about a second into ``jiuzhu publish`` stored 330106@16 while
``330106.base.json`` still said 15; the next publish was refused with E702, which
blamed someone else's publish and suggested a diff that showed nothing (helper-82).
The kill is reproduced by the state it leaves: the version stored through the library
(as the command does before it writes the marker), the marker left as it was.
When the working copy holds exactly the latest version, the marker is brought up to
date (W702); otherwise E702 says that the marker is behind and how to go on.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from compiler.registry import Registry
from compiler.registry_marker import write_base_marker
from compiler.registry_publish import publish, withdraw
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


def marked(tables: Path) -> int:
    path = tables / "counties" / f"{COUNTY}.base.json"
    return int(json.loads(path.read_text(encoding="utf-8"))["version"])


def cli_publish(capsys, tables: Path, registry: Path, effective: str, note: str):  # type: ignore[no-untyped-def]
    return run(capsys, "publish", "--county", COUNTY, "--effective", effective, "--note", note,
               "--author", "张三", "--tables", str(tables), "--registry", str(registry))


def killed_after_storing(tables: Path, registry: Path, effective: date) -> None:
    """What ``kill -9`` between the registry's commit and the marker's rename leaves:
    the next version stored, on the marker's base, and the marker unchanged."""
    base = marked(tables)
    publish(tables, COUNTY, effective, "被中断的发布", "张三", base, registry, analyse=None)
    assert marked(tables) == base < Registry(registry).latest(COUNTY).number


def raise_dibao(tables: Path, value: str) -> None:
    set_county_standards(tables, [["dibao_standard", value, "2025-01-01", None, "杭民发"]])


@pytest.fixture
def killed(tables: Path, registry: Path, capsys) -> Path:  # type: ignore[no-untyped-def]
    """v1 published by the command (marker 1); v2 stored by a publish then killed."""
    code, _, err = cli_publish(capsys, tables, registry, "2025-01-01", "首次发布")
    assert code == 0, err
    raise_dibao(tables, "1350")
    killed_after_storing(tables, registry, date(2025, 7, 1))
    return tables


def test_running_the_killed_publish_again_brings_the_marker_up_to_date(
    killed, registry, capsys
):
    code, out, err = cli_publish(capsys, killed, registry, "2025-07-01", "被中断的发布")
    marker = killed / "counties" / f"{COUNTY}.base.json"
    assert f"{marker}: W702 基线标记记录的是第 1 版，而登记簿中最新的第 2 版与工作副本的内容相同" in err
    assert "已把基线标记改为第 2 版" in err and "无需重发" in err
    # the version is there already: publishing its content again on its date is E709
    assert code == 1 and "E709" in err and "E702" not in err
    assert marked(killed) == 2 and len(Registry(registry).versions(COUNTY)) == 2
    raise_dibao(killed, "1400")
    code, out, err = cli_publish(capsys, killed, registry, "2025-09-01", "再调整")
    assert code == 0 and "已发布 330106@3" in out and "W702" not in err
    assert marked(killed) == 3


def test_a_publish_on_another_date_goes_on_from_the_healed_marker(killed, registry, capsys):
    code, out, err = cli_publish(capsys, killed, registry, "2025-03-01", "提前生效")
    assert code == 0 and "已发布 330106@3" in out
    assert "W702" in err and marked(killed) == 3


def test_a_working_copy_edited_after_the_kill_is_refused_with_a_true_message(
    killed, registry, capsys
):
    raise_dibao(killed, "1500")
    code, _, err = cli_publish(capsys, killed, registry, "2025-09-01", "继续修改")
    assert code == 1 and "W702" not in err
    assert ("E702 330106 的基线标记记录工作副本基于第 1 版，但登记簿中最新已是第 2 版，"
            "且工作副本的内容与第 2 版不同，发布被拒绝") in err
    assert "第 2 版由 张三 于" in err and "若是本工作副本此前一次中断的发布" in err
    assert f"jiuzhu diff {COUNTY}@2 {COUNTY}" in err and "--base 2" in err
    assert marked(killed) == 1 and len(Registry(registry).versions(COUNTY)) == 2
    # the diff the message suggests shows the edit (the old message's showed nothing)
    code, out, _ = run(capsys, "diff", f"{COUNTY}@2", COUNTY, "--as-of", "2025-09-01",
                       "--tables", str(killed), "--registry", str(registry))
    assert code == 0 and "1,350.00（县级） → 1,500.00（县级）" in out
    code, out, err = run(capsys, "publish", "--county", COUNTY, "--effective", "2025-09-01",
                         "--note", "继续修改", "--base", "2", "--tables", str(killed),
                         "--registry", str(registry))
    assert code == 0 and "已发布 330106@3" in out and marked(killed) == 3


def test_a_base_the_user_gives_is_not_healed(killed, registry, capsys):
    """--base 1 is the user's word: stale, with the message for a stale base."""
    code, _, err = run(capsys, "publish", "--county", COUNTY, "--effective", "2025-07-01",
                       "--note", "x", "--base", "1", "--tables", str(killed),
                       "--registry", str(registry))
    assert code == 1 and "E702" in err and "W702" not in err and marked(killed) == 1


def test_a_killed_withdrawal_brings_the_marker_up_to_date(tables, registry, capsys):
    two_versions(tables, registry)
    write_base_marker(tables / "counties", Registry(registry).latest(COUNTY))
    withdraw(registry, COUNTY, 2, "暂缓", "张三", base=2)  # killed before the marker
    code, _, err = run(capsys, "publish", "--county", COUNTY, "--withdraw", "2", "--note",
                       "暂缓", "--tables", str(tables), "--registry", str(registry))
    assert "W702 基线标记记录的是第 2 版，而登记簿中最新的第 3 版撤回第 2 版" in err
    assert code == 1 and "E704 第 2 版已被第 3 版撤回" in err and marked(tables) == 3


def test_a_withdrawal_behind_another_publish_says_the_marker_is_behind(
    killed, registry, capsys
):
    code, _, err = run(capsys, "publish", "--county", COUNTY, "--withdraw", "2", "--note",
                       "暂缓", "--tables", str(killed), "--registry", str(registry))
    assert code == 1 and ("E702 330106 的基线标记记录工作副本基于第 1 版，但登记簿中最新已是"
                          "第 2 版，撤回被拒绝") in err
    assert "--base 2 重新撤回" in err and marked(killed) == 1
    assert len(Registry(registry).versions(COUNTY)) == 2
