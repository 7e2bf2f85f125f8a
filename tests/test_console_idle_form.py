"""A session that expires on the click that submits a form (helper-132): the sign-out
stays, and the page says the change just made was not saved, instead of dropping it
unsaid; the typed values are not kept past the sign-out."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.test_console import ADMIN, button, env, page, shown, start  # noqa: F401

pytestmark = pytest.mark.usefixtures("env")


def draft_standards(env: dict[str, Path]) -> list[list[object]]:  # noqa: F811
    from console.sheets import read_sheets

    workbook = next((env["state"] / "drafts" / "330106" / "xihu" / "tables" / "counties").glob("*.xlsx"))
    return next(s for s in read_sheets(workbook)[0] if s.name == "标准参数").rows


def test_a_form_submitted_after_the_idle_limit_is_said_not_saved(
    env: dict[str, Path], monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    monkeypatch.setenv("JIUZHU_IDLE_MINUTES", "1")
    at = page(start(ADMIN), "standards")
    before = draft_standards(env)
    at.selectbox(key="quick_standard").set_value("dibao_standard")
    at.text_input(key="quick_value").input("1777")
    at.session_state["last_seen"] = time.time() - 70  # filled in, then 70 s away
    button(at, "写入工作副本").click()
    at.run()
    assert not at.exception
    text = shown(at)
    assert "超过 1 分钟没有操作，已自动退出，请重新登录" in text
    assert "刚才的修改未保存，请重新登录后再填写" in text, text
    assert [t for t in at.text_input if t.key == "signin_password"]  # signed out
    assert "quick_value" not in at.session_state  # the typed value went with the session
    assert draft_standards(env) == before and "1777" not in str(draft_standards(env))
