"""The console launcher, ``python -m console.serve``: its help and errors in Chinese
(as ``jiuzhu`` prints argparse's own words) and the demo passwords' real place."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENGLISH = (
    "usage:",
    "options:",
    "show this help message",
    "error:",
    "invalid int value",
)


def launcher(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "console.serve", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    ("args", "status", "said"),
    [
        (["--help"], 0, "显示本帮助并退出"),
        (["--port", "x"], 2, "参数 --port：「x」应为 0 至 65535 之间的端口号"),
        (["--port", "70000"], 2, "「70000」应为 0 至 65535 之间的端口号"),
        (["--color"], 2, "无法识别的参数：--color"),
    ],
    ids=["help", "port-a-word", "port-too-large", "unknown-option"],
)
def test_the_launcher_speaks_chinese(args: list[str], status: int, said: str) -> None:
    out, err = launcher(*args).communicate(timeout=60)
    text = out + err
    assert said in text and "用法：python -m console.serve" in text, text
    assert not [word for word in ENGLISH if word in text], text
    assert "Traceback" not in text


def test_a_bad_console_port_variable_is_a_usage_error() -> None:
    process = launcher(env={"CONSOLE_PORT": "eighty"})
    _, err = process.communicate(timeout=60)
    assert (
        process.returncode == 2 and "「eighty」应为 0 至 65535 之间的端口号" in err
    ), err


def test_demo_prints_where_the_passwords_really_are(tmp_path: Path) -> None:
    """It printed .jiuzhu/demo-passwords.txt whatever JIUZHU_STATE said (helper-65)."""
    state = tmp_path / "elsewhere"
    users = str(state / "users.yaml")  # never the developer's own users file
    process = launcher(
        "--demo", env={"JIUZHU_STATE": str(state), "JIUZHU_USERS": users}
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(4)]  # stops before streamlit
    finally:
        process.terminate()  # the launcher has become streamlit: this one process
        process.communicate(timeout=60)
    record = state / "demo-passwords.txt"
    assert lines[0] == f"演示用户（密码保存在 {record}）：\n", lines
    names = [
        line.split("\t")[0] for line in record.read_text(encoding="utf-8").splitlines()
    ]
    assert names == ["xihu-admin", "reviewer"] and "控制台地址" in lines[3]


def test_streamlit_logs_only_warnings_to_the_terminal(tmp_path: Path) -> None:
    """Streamlit's own log said, at its info level, "Uvicorn server started on ..." in
    English below the launcher's Chinese address line; it now logs warnings and errors
    only. Its printed "You can now view your Streamlit app" stays (docs/console.md)."""
    users = str(tmp_path / "users.yaml")
    process = launcher(env={"JIUZHU_STATE": str(tmp_path), "JIUZHU_USERS": users, "CONSOLE_PORT": "0"})
    said: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:  # the launcher's line, then streamlit's
            said.append(line)
            if "URL:" in line:
                break
    finally:
        process.terminate()
        _, err = process.communicate(timeout=60)
    text = "".join(said) + err
    assert "控制台地址：http://127.0.0.1:" in said[0], text
    assert any("URL:" in line for line in said), text  # streamlit did start
    assert "Uvicorn server started" not in text, text
