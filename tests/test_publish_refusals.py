"""A refused publish says what happened (helper-100).

``JIUZHU_AUTHOR=""`` published under the login name; a publish with no base marker
gave the terse old E702; an explicit ``--base`` that was merely old blamed "others"
(「查看他人发布的改动」) even when the user had published the latest version.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from compiler.errors import RegistryError
from compiler.registry import Registry
from compiler.registry_publish import publish as publish_version
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


def publish(capsys, tables: Path, registry: Path, *extra: str):  # type: ignore[no-untyped-def]
    return run(capsys, "publish", "--county", COUNTY, "--note", "调整", *extra,
               "--tables", str(tables), "--registry", str(registry))


def edited(tables: Path) -> None:
    """The working copy changed after version 2 (a standard v2 does not have)."""
    set_county_standards(tables, [["dibao_standard", "1500", "2025-01-01", None, "杭民发"]])


# ---------------------------------------------------------------- the author


@pytest.mark.parametrize(
    ("extra", "action"),
    [(["--effective", "2025-01-01"], "发布"), (["--withdraw", "2", "--base", "2"], "撤回")],
    ids=["publish", "withdraw"],
)
def test_an_empty_jiuzhu_author_is_refused_not_replaced_by_the_login_name(
    tables, registry, capsys, monkeypatch, extra, action
):
    if action == "撤回":
        two_versions(tables, registry)
    before = len(Registry(registry).versions()) if registry.exists() else 0
    monkeypatch.setenv("JIUZHU_AUTHOR", "")
    code, _, err = publish(capsys, tables, registry, *extra)
    assert code == 1 and "Traceback" not in err
    assert f"E708 环境变量 JIUZHU_AUTHOR 已设置但为空，{action}被拒绝" in err
    assert "unset JIUZHU_AUTHOR" in err and "--author" in err
    assert (len(Registry(registry).versions()) if registry.exists() else 0) == before


def test_an_unset_jiuzhu_author_still_means_the_login_name(
    tables, registry, capsys, monkeypatch
):
    monkeypatch.delenv("JIUZHU_AUTHOR", raising=False)
    monkeypatch.setattr("getpass.getuser", lambda: "zhangsan")
    code, out, _ = publish(capsys, tables, registry, "--effective", "2025-01-01")
    assert code == 0 and "发布人 zhangsan" in out


# ---------------------------------------------------------------- no marker at all


@pytest.mark.parametrize(
    ("extra", "action", "step"),
    [
        (["--effective", "2025-08-01"], "发布", f"jiuzhu diff {COUNTY}@2 {COUNTY}"),
        (["--withdraw", "2"], "撤回", f"jiuzhu history --county {COUNTY}"),
    ],
    ids=["publish", "withdraw"],
)
def test_no_marker_says_the_marker_is_missing_and_who_published_the_latest(
    tables, registry, capsys, extra, action, step
):
    two_versions(tables, registry)  # published by the library: no marker written
    assert not (tables / "counties" / f"{COUNTY}.base.json").exists()
    code, _, err = publish(capsys, tables, registry, "--author", "王五", *extra)
    assert code == 1 and "Traceback" not in err
    assert f"{COUNTY}.base.json: E702 没有找到基线标记 {COUNTY}.base.json" in err
    assert f"而登记簿中已有第 2 版，{action}被拒绝" in err
    assert "实际为「没有基线标记文件」" in err
    assert "第 2 版由 李四 于" in err and step in err and "--base 2" in err
    assert len(Registry(registry).versions()) == 2


# ---------------------------------------------------------------- an old --base


def test_an_old_base_names_who_published_the_latest_and_blames_no_one(
    tables, registry, capsys
):
    two_versions(tables, registry)  # 2 by 李四
    edited(tables)
    code, _, err = publish(capsys, tables, registry, "--effective", "2025-08-01",
                           "--author", "王五", "--base", "1")
    assert code == 1 and "Traceback" not in err
    assert "E702 330106 指定的基线是第 1 版，但登记簿中最新已是第 2 版，发布被拒绝" in err
    assert "他人" not in err and "（即本次的发布人）" not in err
    assert "第 2 版由 李四 于" in err
    assert f"若确实基于第 1 版，先运行 jiuzhu diff {COUNTY}@2 {COUNTY}" in err
    assert len(Registry(registry).versions()) == 2


def test_an_old_base_over_the_latest_content_is_said_to_be_an_old_number(
    tables, registry, capsys
):
    two_versions(tables, registry)  # the working copy holds version 2 exactly
    code, _, err = publish(capsys, tables, registry, "--effective", "2025-08-01",
                           "--author", "李四", "--base", "1")
    assert code == 1
    assert "最新已是第 2 版；工作副本的内容与第 2 版完全相同，发布被拒绝" in err
    assert "第 2 版由 李四（即本次的发布人）于" in err
    assert "基线多半写旧了：工作副本正是第 2 版的内容，改用 --base 2" in err


@pytest.mark.parametrize("base", ["5"])  # -1: a usage error (test_publish_base_checks)
def test_a_base_past_the_latest_is_said_not_to_exist(tables, registry, capsys, base):
    two_versions(tables, registry)
    edited(tables)
    code, _, err = publish(capsys, tables, registry, "--effective", "2025-08-01",
                           "--author", "王五", f"--base={base}")
    assert code == 1
    assert f"E702 330106 指定的基线第 {base} 版不存在：登记簿中 330106 最新是第 2 版" in err
    assert "--registry" in err and "jiuzhu history" in err


def test_a_withdrawal_on_an_old_base_says_so(tables, registry, capsys):
    two_versions(tables, registry)
    code, _, err = publish(capsys, tables, registry, "--withdraw", "2", "--author", "王五",
                           "--base", "1")
    assert code == 1
    assert "E702 330106 指定的基线是第 1 版，但登记簿中最新已是第 2 版，撤回被拒绝" in err
    assert "确认仍要撤回后用 --base 2 重新撤回" in err and "他人" not in err
    assert len(Registry(registry).versions()) == 2


def test_a_publish_overtaken_between_check_and_write_says_so(tables, registry):
    """Inside the transaction the base was checked already: another publish won."""
    first = publish_version(tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    draft = first.__class__(**{**first.__dict__, "hash": "", "note": "again"})
    with pytest.raises(RegistryError) as caught:
        Registry(registry).append(draft, base=0)
    (problem,) = caught.value.diagnostics
    assert "检查之后、写入之前，另一次发布已完成，登记簿中最新已是第 1 版" in problem.message
    assert "他人" not in problem.message + (problem.hint or "")
