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
    assert f"注意：用户文件「{users}」不存在，还没有人能登录" in err, err


# ---------------------------------------------------------------- JIUZHU_* values


def refused(tmp_path: Path, **env: str) -> tuple[int, str]:
    """The launcher's status and words for ``env``; it must stop, not start."""
    users = str(tmp_path / "users.yaml")
    base = {"JIUZHU_STATE": str(tmp_path), "JIUZHU_USERS": users, "CONSOLE_PORT": "0"}
    process = launcher(env={**base, **env})
    try:
        out, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.terminate()  # the launcher has become streamlit: this one process
        process.communicate(timeout=60)
        pytest.fail("the console started with an unusable setting")
    return process.returncode, out + err


@pytest.mark.parametrize(
    ("value", "said"),
    [
        ("2026-13-01", "「2026-13-01」不是存在的日期"),
        ("明天", "「明天」不是 YYYY-MM-DD 形式的日期"),
        ("2026/12/06", "「2026/12/06」不是 YYYY-MM-DD 形式的日期"),
        ("２０２６-１２-０６", "「２０２６-１２-０６」不是 YYYY-MM-DD 形式的日期（其中有全角字符）"),
        ("1999-01-01", "「1999-01-01」超出 2015-01-01 至 2040-12-31 的范围"),
    ],
    ids=["month-13", "a-word", "slashes", "full-width", "before-the-calendar"],
)
def test_an_unusable_as_of_date_stops_the_launcher(
    tmp_path: Path, value: str, said: str
) -> None:
    """date.fromisoformat's ValueError reached the console as a traceback (helper-73)."""
    status, text = refused(tmp_path, JIUZHU_AS_OF=value)
    assert status == 2 and f"环境变量 JIUZHU_AS_OF 的值{said}" in text, text
    assert "应为YYYY-MM-DD 形式的日期，如 2025-06-01" in text
    assert "Traceback" not in text and "Error" not in text, text


def test_idle_minutes_that_are_no_number_stop_the_launcher(tmp_path: Path) -> None:
    """「30分钟」 became 120 minutes unsaid."""
    status, text = refused(tmp_path, JIUZHU_IDLE_MINUTES="30分钟")
    assert status == 2, text
    assert "环境变量 JIUZHU_IDLE_MINUTES 的值「30分钟」不是正整数；应为不超过 525600 的正整数（分钟）" in text


def test_idle_minutes_past_a_year_are_said_to_be_too_many(tmp_path: Path) -> None:
    """99999999999999999999999 was said to be no whole number."""
    status, text = refused(tmp_path, JIUZHU_IDLE_MINUTES="99999999999999999999999")
    assert status == 2, text
    assert "JIUZHU_IDLE_MINUTES 的值「99999999999999999999999」过大" in text


def test_a_folder_without_province_is_no_tables_folder(tmp_path: Path) -> None:
    """The repository folder, or tables/province itself, started the console unsaid."""
    (tmp_path / "repo" / "counties").mkdir(parents=True)
    status, text = refused(tmp_path, JIUZHU_TABLES=str(tmp_path / "repo"))
    assert status == 2, text
    assert "中没有 province 文件夹，不是决策表文件夹" in text and "JIUZHU_TABLES" in text


def test_state_and_registry_inside_the_tables_folder_stop_the_launcher(tmp_path: Path) -> None:
    """Drafts or a registry written inside the tables would be read as workbooks."""
    tables = tmp_path / "t"
    (tables / "province").mkdir(parents=True)
    status, text = refused(
        tmp_path, JIUZHU_TABLES=str(tables), JIUZHU_STATE=str(tables / "state"),
        JIUZHU_REGISTRY=str(tables / "counties" / "r.duckdb"),
    )
    assert status == 2, text
    for name in ("JIUZHU_STATE", "JIUZHU_REGISTRY"):
        assert f"环境变量 {name} 的值" in text and "之中" in text, text


def test_every_unusable_setting_is_said_at_once(tmp_path: Path) -> None:
    status, text = refused(
        tmp_path,
        JIUZHU_AS_OF="明天",
        JIUZHU_IDLE_MINUTES="0",
        JIUZHU_TABLES=str(tmp_path / "no-tables"),
    )
    assert status == 2 and text.startswith("控制台未启动："), text
    for name in ("JIUZHU_AS_OF", "JIUZHU_IDLE_MINUTES", "JIUZHU_TABLES"):
        assert f"环境变量 {name} 的值" in text, text
    assert f"「{tmp_path / 'no-tables'}」不存在；应为决策表文件夹" in text


def test_a_state_folder_that_cannot_be_made_stops_the_launcher(tmp_path: Path) -> None:
    """The first page said 内部错误 …FileNotFoundError; now the launcher says it."""
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    state = blocker / "state"
    status, text = refused(tmp_path, JIUZHU_STATE=str(state))
    assert status == 2 and f"文件夹「{state}」（环境变量 JIUZHU_STATE" in text, text
    assert "Traceback" not in text


def test_the_app_says_what_is_wrong_with_the_as_of_date(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started without the launcher (streamlit run console/app.py), a signed-in page
    raised ValueError; now every page says what was found and what is expected."""
    from streamlit.testing.v1 import AppTest

    from console.users import COUNTY_ADMIN, User

    (tmp_path / "tables" / "province").mkdir(parents=True)
    for name, value in {
        "JIUZHU_TABLES": tmp_path / "tables",
        "JIUZHU_STATE": tmp_path / "state",
        "JIUZHU_USERS": tmp_path / "state" / "users.yaml",
        "JIUZHU_AS_OF": "2026-13-01",
    }.items():
        monkeypatch.setenv(name, str(value))
    at = AppTest.from_file(str(ROOT / "console" / "app.py"), default_timeout=120)
    at.session_state["user"] = User("xihu", COUNTY_ADMIN, "330106")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    errors = [e.value for e in at.error]
    said = (
        "控制台无法使用：环境变量 JIUZHU_AS_OF 的值「2026-13-01」不是存在的日期"
        "（月份应为 01 至 12，日不超过该月的天数）；应为YYYY-MM-DD 形式的日期，"
        "如 2025-06-01（半角数字）；不设置时为今天"
    )
    assert errors == [said], errors


@pytest.mark.parametrize("name", ["JIUZHU_USERS", "JIUZHU_SAMPLES", "JIUZHU_AS_OF"])
def test_a_variable_set_to_nothing_is_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """JIUZHU_USERS= named the folder the console started in (Is a directory)."""
    from console.config import problems, settings

    (tmp_path / "tables" / "province").mkdir(parents=True)
    monkeypatch.setenv("JIUZHU_TABLES", str(tmp_path / "tables"))
    monkeypatch.setenv("JIUZHU_STATE", str(tmp_path / "state"))
    monkeypatch.setenv(name, " ")
    found = settings()
    assert found.users == tmp_path / "state" / "users.yaml"
    assert found.samples == tmp_path / "tables" / "samples" / "households.jsonl"
    assert found.as_of is None and problems() == []
