"""撤回版本: withdrawing a published version from the console, as ``jiuzhu publish
--withdraw`` does: a reason, a review, a ticked confirmation, the CLI's refusals, and
nothing already published lost (the withdrawal is a new version)."""
# ruff: noqa: F811  (tests ask for the env fixture of tests/test_console.py by name)

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from compiler.registry import Registry
from console.users import COUNTY_ADMIN, add_user
from tests.test_console import (  # noqa: F401
    ADMIN,
    OTHER_ADMIN,
    REVIEWER_USER,
    button,
    env,
    frames,
    page,
    publish,
    set_dibao,
    shown,
    standards_rows,
    start,
)

pytestmark = pytest.mark.usefixtures("env")  # tables, users, registry: tests/test_console.py


def registry(env: dict[str, Path]) -> Registry:
    return Registry(env["state"].parent / "registry" / "registry.duckdb")


def published(at: AppTest, note: str, effective: str) -> AppTest:
    publish(at, note, effective)
    button(at, "确认发布").click()
    at.run()
    assert "已发布 330106@" in shown(at), shown(at)
    return at


def two_versions() -> AppTest:
    """330106@1 (dibao 1301 from 2025-01-23) and @2 (dibao 1700 from 2025-03-01)."""
    at = published(start(ADMIN), "首次发布", "2025-01-01")
    set_dibao(at, "1700", "2025-03-01")
    return published(at, "低保标准提高到 1700 元", "2025-03-01")


def review(at: AppTest, number: int, reason: str, effective: str | None = None) -> AppTest:
    page(at, "withdraw")
    at.selectbox(key="withdraw_number").set_value(number)
    at.run()
    if effective is not None:
        at.text_input(key=f"withdraw_effective-{number}").input(effective)
    at.text_area(key="withdraw_reason").input(reason)
    button(at, "撤回前核对").click()
    at.run()
    assert not at.exception, at.exception
    return at


def confirm(at: AppTest) -> AppTest:
    at.checkbox(key="withdraw_sure").check()
    at.run()
    at.button(key="withdraw_confirm").click()
    at.run()
    assert not at.exception, at.exception
    return at


def test_withdrawing_publishes_the_earlier_content_and_keeps_the_withdrawn_version(
    env: dict[str, Path],
) -> None:
    at = two_versions()
    before = {v.number: v.hash for v in registry(env).history("330106")}
    review(at, 2, "文件暂缓执行")
    text = shown(at)
    assert "撤回前核对" in text and "自 2025-03-01 起恢复 **330106@1** 的内容" in text
    assert "不会删除或改动" in text
    assert "低保标准" in frames(at) and "1700" in frames(at)  # what the withdrawal takes back
    assert len(registry(env).history("330106")) == 2  # the review changed nothing
    confirm(at)
    text = shown(at)
    assert "已撤回第 2 版：发布了 330106@3" in text and "撤回第 2 版，恢复第 1 版的内容：文件暂缓执行" in text
    store = registry(env)
    versions = store.history("330106")
    assert [(v.number, v.kind, v.withdraws) for v in versions] == [
        (1, "publish", None), (2, "publish", None), (3, "withdraw", 2)]
    assert {v.number: v.hash for v in versions if v.number < 3} == before  # nothing changed
    assert store.verify() == []
    assert versions[2].canonical == versions[0].canonical
    assert versions[2].author == "xihu" and str(versions[2].effective_from) == "2025-03-01"
    page(at, "history")
    table = frames(at)
    assert "已被第 3 版撤回" in table and "撤回第 2 版" in table


def test_the_confirmation_must_be_ticked_and_a_reason_given(env: dict[str, Path]) -> None:
    at = two_versions()
    review(at, 2, "   ")
    assert "请填写撤回原因" in shown(at)
    assert not [b for b in at.button if b.key == "withdraw_confirm"]
    review(at, 2, "文件暂缓执行")
    assert at.button(key="withdraw_confirm").disabled  # until 我确认撤回 is ticked
    at.checkbox(key="withdraw_sure").check()
    at.run()
    assert not at.button(key="withdraw_confirm").disabled
    assert len(registry(env).history("330106")) == 2


def cli_refusal(env: dict[str, Path], capsys: pytest.CaptureFixture[str], *args: str) -> str:
    from compiler.cli import main

    capsys.readouterr()
    code = main(["publish", "--county", "330106", "--tables", str(env["tables"]),
                 "--registry", str(env["state"].parent / "registry" / "registry.duckdb"),
                 "--author", "xihu", *args])
    assert code == 1
    return capsys.readouterr().err


def test_a_version_with_nothing_before_it_is_refused_as_the_cli_refuses_it(
    env: dict[str, Path], capsys: pytest.CaptureFixture[str],
) -> None:
    at = published(start(ADMIN), "首次发布", "2025-01-01")
    review(at, 1, "发错了")
    text = shown(at)
    assert "撤回被拒绝" in text and "**E704** 第 1 版之前没有可恢复的版本，不能撤回" in text
    assert not [b for b in at.button if b.key == "withdraw_confirm"]
    said = cli_refusal(env, capsys, "--withdraw", "1", "--note", "发错了", "--base", "1")
    assert "E704 第 1 版之前没有可恢复的版本，不能撤回" in said  # the same words
    assert [v.number for v in registry(env).history("330106")] == [1]


def test_a_reason_the_cli_would_refuse_is_refused_at_the_review(
    env: dict[str, Path], capsys: pytest.CaptureFixture[str],
) -> None:
    at = two_versions()
    review(at, 2, "暂缓\x1b执行")
    text = shown(at)
    assert "**E708** 撤回原因中有控制字符，撤回被拒绝" in text and "<U+001B>" in text
    assert not [b for b in at.button if b.key == "withdraw_confirm"]
    said = cli_refusal(env, capsys, "--withdraw", "2", "--note", "暂缓\x1b执行", "--base", "2")
    assert "E708 版本说明中有控制字符，撤回被拒绝" in said  # the CLI's --note
    assert len(registry(env).history("330106")) == 2


def test_a_colleagues_publish_after_the_review_refuses_the_withdrawal(
    env: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import date

    from compiler.registry_publish import publish as publish_version
    from console import workspace

    at = two_versions()
    review(at, 2, "文件暂缓执行")
    real = workspace.withdraw

    def overtaken(*args: object, **kwargs: object) -> object:
        publish_version(env["tables"], "330106", date(2025, 5, 1), "同事的发布", "xihu2", 2,
                        env["state"].parent / "registry" / "registry.duckdb", analyse=None,
                        allow_unchanged=True)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(workspace, "withdraw", overtaken)
    confirm(at)
    text = shown(at)
    assert "撤回被拒绝" in text and "E702" in text and "再次点「撤回版本」" in text
    versions = registry(env).history("330106")
    assert [(v.number, v.kind) for v in versions] == [(1, "publish"), (2, "publish"), (3, "publish")]
    monkeypatch.setattr(workspace, "withdraw", real)
    page(at, "withdraw")  # now stale: sent to 发布 first, as a publish would be
    assert "撤回暂不可用" in shown(at) and not [b for b in at.button if b.key == "withdraw_review"]


def test_after_a_withdrawal_the_draft_restarts_from_the_new_version(env: dict[str, Path]) -> None:
    """The working copy still holds the withdrawn 1700; publishing it would be E710.
    Restarting (ticked) makes it the restored 1301, as the CLI's jiuzhu export does."""
    at = confirm(review(two_versions(), 2, "文件暂缓执行"))
    assert "可能仍是被撤回版本的内容" in shown(at)
    assert at.button(key="withdraw_restart_button").disabled
    at.checkbox(key="withdraw_restart_sure").check()
    at.run()
    at.button(key="withdraw_restart_button").click()
    at.run()
    assert not at.exception
    assert "可能仍是被撤回版本的内容" not in shown(at)
    assert [r["值"] for r in standards_rows(env) if r["标识"] == "dibao_standard"] == ["1301"]
    page(at, "publish")
    assert "工作副本基于第 3 版" in shown(at)


def test_a_withdrawal_dated_before_a_later_version_names_it_as_the_cli_does(
    env: dict[str, Path],
) -> None:
    """The withdrawal applies only until a later-dated version takes over (W701), which
    may still hold the withdrawn change; the date typed is the one used."""
    at = two_versions()
    set_dibao(at, "1800", "2025-09-01")
    published(at, "低保标准提高到 1800 元", "2025-09-01")
    review(at, 2, "文件暂缓执行", effective="2025-04-01")
    text = shown(at)
    assert "自 2025-04-01 起恢复 **330106@1** 的内容" in text
    assert "W701" in text and "只适用到 2025-08-31" in text and "330106@3（2025-09-01 起）" in text
    confirm(at)
    assert "W701" in shown(at) and "330106@4 自 2025-04-01 起生效，只适用到 2025-08-31" in shown(at)
    version = registry(env).get("330106", 4)
    assert (version.kind, version.withdraws, str(version.effective_from)) == ("withdraw", 2, "2025-04-01")


def test_only_county_admins_may_withdraw(env: dict[str, Path]) -> None:
    at = page(start(REVIEWER_USER), "withdraw")
    assert "只能查看" in shown(at)
    assert not [t for t in at.text_area if t.key == "withdraw_reason"]
    add_user(env["state"] / "users.yaml", "xihu2", COUNTY_ADMIN, "xihu2-password", "330106")
    at = page(start(OTHER_ADMIN), "withdraw")
    assert "没有已发布的版本" in shown(at)


def test_a_withdrawal_dated_before_the_version_is_refused_as_the_cli_refuses_it(
    env: dict[str, Path], capsys: pytest.CaptureFixture[str],
) -> None:
    """Dated before version 2, the withdrawal loses the tie of dates to it: version 2
    still decides from its own date, and only the earlier content moves forward. It
    was offered with W701 and 「决策改变的家庭 0」 (helper-89)."""
    at = two_versions()
    review(at, 2, "文件暂缓执行", effective="2025-02-01")
    text = shown(at)
    assert "撤回被拒绝" in text
    assert "**E712** 撤回生效日期 2025-02-01 早于第 2 版的生效日期 2025-03-01" in text
    assert "W701" not in text and not [b for b in at.button if b.key == "withdraw_confirm"]
    said = cli_refusal(env, capsys, "--withdraw", "2", "--note", "文件暂缓执行", "--base", "2",
                       "--effective", "2025-02-01")
    assert "E712 撤回生效日期 2025-02-01 早于第 2 版的生效日期 2025-03-01" in said  # the same words
    assert len(registry(env).history("330106")) == 2
    review(at, 2, "文件暂缓执行", effective="2025-03-01")  # its own date: the default
    assert "撤回被拒绝" not in shown(at) and [b for b in at.button if b.key == "withdraw_confirm"]


def test_a_withdrawal_dated_before_today_is_noted_as_a_publish_is() -> None:
    at = review(two_versions(), 2, "文件暂缓执行")  # 2025-03-01, today 2025-06-01
    assert [w for w in at.warning if w.value.startswith(
        "注意：撤回生效日期 2025-03-01 早于今天（2025-06-01）；该日以后的决策按撤回后的内容重新作出时会与已作出的不同")]
    review(at, 2, "文件暂缓执行", effective="2025-06-01")
    assert "早于今天" not in shown(at)
