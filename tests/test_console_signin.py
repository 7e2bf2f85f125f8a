"""The limit on failed sign-ins: five failures of a name within 15 minutes pause it for
15 minutes, counted across sessions in the state folder, the same for a name that does
not exist. Each attempt is a new AppTest session, as a new browser tab would be."""

from __future__ import annotations

import re
import time

import pytest
from streamlit.testing.v1 import AppTest

from console import signin_limit
from console.config import settings
from tests.test_console import ADMIN, button, env, shown, start  # noqa: F401

pytestmark = pytest.mark.usefixtures("env")  # tables, users file, state: tests/test_console.py
PAUSED = "登录失败已达 5 次"


def sign_in(name: str, password: str) -> AppTest:
    """One attempt in a new session."""
    at = start(None)
    at.text_input(key="signin_name").input(name)
    at.text_input(key="signin_password").input(password)
    button(at, "登录").click()
    at.run()
    assert not at.exception, at.exception
    return at


def errors(at: AppTest) -> list[str]:
    """The error messages, the time to retry written as HH:MM (it depends on the clock)."""
    return [re.sub(r"\d{2}:\d{2}", "HH:MM", e.value) for e in at.error]


def test_five_failures_pause_the_name_even_for_the_right_password() -> None:
    for _ in range(4):
        assert errors(sign_in("xihu", "wrong-password")) == ["用户名或密码不正确。"]
    fifth = errors(sign_in("xihu", "wrong-password"))
    assert len(fifth) == 1 and PAUSED in fifth[0] and "之后再试" in fifth[0]
    at = sign_in("xihu", "xihu-password")  # right, but paused: not even checked
    assert PAUSED in shown(at) and "user" not in at.session_state
    assert "用户名或密码不正确" in shown(sign_in("shenhe", "wrong-password"))  # other names go on


def test_a_name_that_does_not_exist_is_paused_with_the_same_words() -> None:
    known = [errors(sign_in("xihu", "wrong-password")) for _ in range(6)]
    unknown = [errors(sign_in("nobody", "wrong-password")) for _ in range(6)]
    assert known == unknown and PAUSED in known[-1][0]


def test_the_pause_ends_and_a_sign_in_clears_the_count() -> None:
    state = settings().state
    earlier = time.time() - signin_limit.PAUSE - 60  # five failures that paused the name, over
    for _ in range(5):
        signin_limit.failed(state, "xihu", now=earlier)
    assert signin_limit.paused_until(state, "xihu", now=earlier) is not None
    for _ in range(4):
        sign_in("xihu", "wrong-password")
    assert sign_in("xihu", "xihu-password").session_state["user"] == ADMIN
    for _ in range(4):  # counted afresh after the sign-in: four more do not pause
        sign_in("xihu", "wrong-password")
    assert sign_in("xihu", "xihu-password").session_state["user"] == ADMIN
    for _ in range(4):
        sign_in("xihu", "wrong-password")
    assert PAUSED in shown(sign_in("xihu", "wrong-password"))  # the fifth since signing in


def test_the_count_is_kept_in_the_state_folder_without_the_name_in_clear() -> None:
    sign_in("xihu", "wrong-password")
    kept = (settings().state / signin_limit.FILE).read_text(encoding="utf-8")
    assert "xihu" not in kept and len(kept) > 60
