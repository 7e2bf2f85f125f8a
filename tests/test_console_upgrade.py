"""Code changed on disk under a running console (an upgrade) signs nobody out.

``python -m console.serve`` ran Streamlit with its file watcher on: touching a module
showed Streamlit's English "File change. Rerun" prompt, and the rerun reloaded
``console.users``, after which the session's ``User`` (an object of the class before
the reload) no longer counted as signed in: every user was signed out unsaid and lost
the edit in progress (helper-89).
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

from console import users
from console.users import COUNTY_ADMIN
from tests.test_console import env, page, shown, start  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]


def test_the_launcher_runs_streamlit_without_its_file_watcher(tmp_path: Path) -> None:
    environment = {**os.environ, "JIUZHU_STATE": str(tmp_path), "CONSOLE_PORT": "0",
                   "JIUZHU_USERS": str(tmp_path / "users.yaml")}
    process = subprocess.Popen([sys.executable, "-m", "console.serve"], cwd=ROOT, env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        for line in process.stdout:  # the launcher's line, then streamlit's
            if "URL:" in line:
                break
        # the launcher has become streamlit (os.execv): the same process
        arguments = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode().split("\0")
    finally:
        process.terminate()
        process.communicate(timeout=60)
    assert "streamlit" in arguments and "run" in arguments, arguments
    pairs = dict(itertools.pairwise(arguments))
    assert pairs.get("--server.fileWatcherType") == "none", arguments
    assert pairs.get("--server.runOnSave") == "false", arguments


def reloaded_user_class() -> type:
    """``console.users.User`` as a module reload makes it: the same code, another class."""
    spec = importlib.util.spec_from_file_location("console.users", users.__file__)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.User  # type: ignore[no-any-return]


@pytest.mark.usefixtures("env")
def test_a_user_signed_in_before_a_module_reload_stays_signed_in() -> None:
    stale = reloaded_user_class()("xihu", COUNTY_ADMIN, "330106")
    assert not isinstance(stale, users.User)
    at = page(start(stale), "standards")  # type: ignore[arg-type]
    assert at.data_editor and "标准与规则" in shown(at), shown(at)
    assert not [t for t in at.text_input if t.key == "signin_password"]
    assert at.session_state["user"] == users.User("xihu", COUNTY_ADMIN, "330106")


@pytest.mark.usefixtures("env")
def test_another_object_in_the_session_is_no_user() -> None:
    class User:  # same name, another module: not the console's user
        name, role, county = "xihu", COUNTY_ADMIN, "330106"

    at = start(User())  # type: ignore[arg-type]
    assert [t for t in at.text_input if t.key == "signin_password"]
