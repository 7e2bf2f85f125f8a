"""The decision date of the console's diffs: the first day the two sides decide
differently, not today, said with why (helper-89)."""
# ruff: noqa: F811  (tests ask for the env fixture of tests/test_console.py by name)

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from console.users import COUNTY_ADMIN, add_user
from tests.test_console import (  # noqa: F401
    ADMIN,
    OTHER_ADMIN,
    button,
    env,
    page,
    publish,
    set_dibao,
    shown,
    start,
)

pytestmark = pytest.mark.usefixtures("env")  # tables, users, registry: tests/test_console.py


def counts(at: AppTest) -> dict[str, str]:
    return {m.label: str(m.value) for m in at.metric}


def published_then_next_year(at: AppTest) -> AppTest:
    """330106@1 (dibao 1301) published today, 2025-06-01; then 1700 from 2026-01-01
    entered in the working copy: H2 becomes dibao, H3 marginal, from that day only."""
    publish(at, "首次发布", "2025-06-01")
    button(at, "确认发布").click()
    at.run()
    assert "已发布 330106@1" in shown(at)
    return set_dibao(at, "1700", "2026-01-01")


def test_history_compares_on_the_day_the_new_standard_takes_effect() -> None:
    at = published_then_next_year(start(ADMIN))
    page(at, "history")
    at.selectbox(key="diff_old").set_value("330106@1")
    at.selectbox(key="diff_new").set_value("330106（我的工作副本）")
    at.run()
    assert at.text_input(key="diff_as_of").value == "2026-01-01"
    text = shown(at)
    assert "默认决策日 2026-01-01：两边今天（2025-06-01）的决策规则和标准参数相同，2026-01-01 起才不同" in text
    assert "低保标准（dibao_standard）2026-01-01 起" in text
    button(at, "比较").click()
    at.run()
    assert not at.exception
    assert counts(at)["决策日"] == "2026-01-01" and counts(at)["决策改变的家庭"] == "2"
    # the reviewer may still choose today, and is told why nothing changes there
    at.text_input(key="diff_as_of").input("2025-06-01")
    button(at, "比较").click()
    at.run()
    assert counts(at)["决策改变的家庭"] == "0"
    assert "现按你填写的 2025-06-01 决策" in shown(at)
    assert "两边在决策日 2025-06-01 的决策规则和标准参数相同，决策不会改变" in shown(at)
    at.run()
    assert at.text_input(key="diff_as_of").value == "2025-06-01"  # kept as typed


def test_the_stale_publish_diff_compares_on_the_day_the_sides_differ(env: dict[str, Path]) -> None:
    add_user(env["state"] / "users.yaml", "xihu2", COUNTY_ADMIN, "xihu2-password", "330106")
    other = set_dibao(start(OTHER_ADMIN), "1700", "2026-01-01")  # a draft based on no version
    first = publish(start(ADMIN), "同事先发布", "2025-06-01")
    button(first, "确认发布").click()
    first.run()
    page(other, "publish")
    assert "最新已是第 1 版" in shown(other)
    assert other.text_input(key="stale_as_of").value == "2026-01-01"
    assert "默认决策日 2026-01-01" in shown(other)
    button(other, "查看第 1 版与我的工作副本的差异").click()
    other.run()
    assert not other.exception
    assert counts(other)["决策日"] == "2026-01-01" and counts(other)["决策改变的家庭"] == "2"


def test_a_publish_review_on_a_day_nothing_differs_says_so() -> None:
    """The review decides on the effective date (what the publish stores); when the
    change begins later, 决策改变的家庭 0 is said to be that."""
    at = published_then_next_year(start(ADMIN))
    publish(at, "明年的标准", "2025-07-01")
    text = shown(at)
    assert counts(at)["决策改变的家庭"] == "0"
    assert "两边在决策日 2025-07-01 的决策规则和标准参数相同，决策不会改变；差异在：低保标准（dibao_standard）2026-01-01 起" in text
