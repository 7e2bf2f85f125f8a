"""A double-click on 「确认发布」 publishes once and says 已发布 (helper-132).

With Streamlit's fast reruns the second click starts a new run while the first one is
still publishing; the second run read the old base, published the same draft again
and showed only 「发布被拒绝：E702 …页面会列出同事发布的版本」. The first run's work is
done here where it happened in the browser: while the second run waits for it, or
just before the second run's own publish reaches the registry.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.test_console import ADMIN, button, env, publish, shown, start  # noqa: F401

pytestmark = pytest.mark.usefixtures("env")


def registry_of(env: dict[str, Path]) -> Path:  # noqa: F811
    return env["state"].parent / "registry" / "registry.duckdb"


def draft_root(env: dict[str, Path]) -> Path:  # noqa: F811
    return env["state"] / "drafts" / "330106" / "xihu" / "tables"


def numbers(env: dict[str, Path]) -> list[int]:  # noqa: F811
    from compiler.registry import Registry

    return [v.number for v in Registry(registry_of(env)).history("330106")]


def first_click_publishes(env: dict[str, Path], author: str = "xihu") -> None:  # noqa: F811
    """What the first click's run does: publish the working copy over base 0."""
    from compiler.registry_publish import publish as publish_version

    publish_version(draft_root(env), "330106", date(2025, 1, 1), "首次发布", author, 0,
                    registry_of(env), analyse=None)


def test_a_second_click_whose_first_finished_meanwhile_says_published_once(
    env: dict[str, Path], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """The second click's run read the old base; the first run publishes and records
    the new base as the second one reaches 「正在发布……」. The second run publishes
    nothing and says the version is published."""
    import contextlib

    import streamlit

    from console import drafts, workspace
    from console.config import settings

    spinner = streamlit.spinner

    @contextlib.contextmanager
    def first_run_finishing(text: str, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if text == "正在发布……":
            first_click_publishes(env)
            latest = workspace.latest(registry_of(env), "330106")
            drafts.set_base(drafts.open_draft(settings(), "330106", "xihu"), latest.number, latest.hash)
        with spinner(text, *args, **kwargs):
            yield

    at = publish(start(ADMIN), "首次发布")
    monkeypatch.setattr(streamlit, "spinner", first_run_finishing)
    button(at, "确认发布").click()
    at.run()
    assert not at.exception
    text = shown(at)
    assert "已发布 330106@1（重复点击未再次发布）" in text, text
    assert "发布被拒绝" not in text and "同事" not in text and "发布暂不可用" not in text
    assert numbers(env) == [1]


def test_an_e702_for_the_version_this_admin_just_published_is_said_as_published(
    env: dict[str, Path], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """The first click's version reached the registry just before this run's publish
    (nothing recorded in the draft yet): the registry refuses the base (E702), and the
    page says 已发布, not that a colleague published."""
    from console import workspace

    real = workspace.publish

    def first_click_first(*args: object, **kwargs: object) -> object:
        first_click_publishes(env)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    at = publish(start(ADMIN), "首次发布")
    monkeypatch.setattr(workspace, "publish", first_click_first)
    button(at, "确认发布").click()
    at.run()
    assert not at.exception
    text = shown(at)
    assert "已发布 330106@1（重复点击未再次发布）" in text, text
    assert "发布被拒绝" not in text and "E702" not in text
    assert numbers(env) == [1]
    monkeypatch.setattr(workspace, "publish", real)
    at.run()  # the draft now builds on 330106@1: no refusal, no colleague
    assert "发布暂不可用" not in shown(at) and "发布被拒绝" not in shown(at)


def test_a_colleagues_version_is_still_refused_as_a_colleagues(
    env: dict[str, Path], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    """The same content published by another admin is no double-click: E702 stays."""
    from console import workspace

    real = workspace.publish

    def colleague_first(*args: object, **kwargs: object) -> object:
        first_click_publishes(env, author="xihu2")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    at = publish(start(ADMIN), "首次发布")
    monkeypatch.setattr(workspace, "publish", colleague_first)
    button(at, "确认发布").click()
    at.run()
    text = shown(at)
    assert "发布被拒绝" in text and "E702" in text and "重复点击" not in text
    assert numbers(env) == [1]
