"""The 命令行格式 box of a diff: the ``jiuzhu diff`` command with the decision date
written out, how that date was chosen (the CLI's default line, or the page's reason
and the default), and the text that command prints.

The box showed the text of ``jiuzhu diff`` without the command or its date: the CLI
left without --as-of decides on the first day the two sides differ
(compiler/diff_dates.py) and says so in its first lines, which the box lacked (tester,
session 16).
"""
# ruff: noqa: F811  (tests ask for the env fixture of tests/test_console.py by name)

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from compiler import cli_registry
from compiler.cli import main
from console import diffview
from console.workspace import Comparison
from tests.test_console import ADMIN, button, env, page, start  # noqa: F401
from tests.test_console_diff_dates import published_then_next_year

pytestmark = pytest.mark.usefixtures("env")  # tables, users, registry: tests/test_console.py

COMMAND = "jiuzhu diff 330106@1 330106 --households households.jsonl --limit 200 --as-of "


def compared(at: AppTest, day: str | None = None) -> tuple[str, str]:
    """On 历史与对比, 330106@1 against the working copy (on ``day`` when given): the
    box's command and text."""
    page(at, "history")
    at.selectbox(key="diff_old").set_value("330106@1")
    at.selectbox(key="diff_new").set_value("330106（我的工作副本）")
    at.run()
    if day is not None:
        at.text_input(key="diff_as_of").input(day)
    button(at, "比较").click()
    at.run()
    assert not at.exception, at.exception
    boxes = [c.value for c in at.code]
    (command,) = [b for b in boxes if b.startswith("jiuzhu diff ")]
    (text,) = [b for b in boxes if b.startswith("比较 ")]
    return command, text


def cli(env: dict[str, Path], capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """``jiuzhu diff`` on the admin's draft, as the box's command runs it there."""
    tables = env["state"] / "drafts" / "330106" / "xihu" / "tables"
    code = main(["diff", "330106@1", "330106", "--households", str(env["samples"]), "--limit", "200",
                 "--tables", str(tables), *args])
    assert code == 0
    return timeless(capsys.readouterr().out.rstrip("\n"))


def timeless(text: str) -> str:
    """The text with its timings (「用时 0.32 秒」), which no two runs share, blanked,
    and without the line of the steps' times: the CLI reads the households inside
    ``impact`` (读入 … 秒), the console before it, and says no 读入."""
    text = re.sub(r"(?m)^  用时：.*\n", "", text)
    return re.sub(r"[0-9]+\.[0-9]+ 秒", "… 秒", text)


def test_the_default_day_is_written_out_with_the_clis_reason(
    env: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    command, text = compared(published_then_next_year(start(ADMIN)))
    lines = command.splitlines()
    assert lines[0] == COMMAND + "2026-01-01", command
    assert lines[1] == "# 决策日与不写 --as-of 的 jiuzhu diff 所选的相同（这里写明，以后哪天运行都按同一天比较）："
    assert lines[2].startswith("# 决策日 2026-01-01：两边今天（2025-06-01）的决策规则和标准参数相同，"
                               "2026-01-01 起才不同"), command
    assert "330106 指工作副本" in lines[3]
    # the box's text is what the command prints
    capsys.readouterr()
    assert timeless(text) == cli(env, capsys, "--as-of", "2026-01-01")

    # the comment is the CLI's own line when it is run, on the page's today, without --as-of
    class Today(date):
        @classmethod
        def today(cls) -> date:
            return date(2025, 6, 1)

    monkeypatch.setattr(cli_registry, "date", Today)
    printed = cli(env, capsys).splitlines()
    assert printed[1] == lines[2].removeprefix("# "), (printed[:3], lines)
    assert printed[2:] == timeless(text).splitlines()[1:]


def test_a_typed_day_is_written_out_with_the_default_beside_it(
    env: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    command, text = compared(published_then_next_year(start(ADMIN)), "2025-06-01")
    lines = command.splitlines()
    assert lines[0] == COMMAND + "2025-06-01", command
    assert lines[1] == "# 决策日 2025-06-01：你填写的日期；不写 --as-of 时 jiuzhu diff 选："
    assert lines[2].startswith("# 决策日 2026-01-01：两边今天（2025-06-01）"), command
    # as jiuzhu diff --as-of says a day on which nothing differs
    assert "注意：两边在决策日 2025-06-01 的决策规则和标准参数相同，决策不会改变" in text
    capsys.readouterr()
    assert timeless(text) == cli(env, capsys, "--as-of", "2025-06-01")


def test_the_publish_review_says_it_compares_on_the_effective_date() -> None:
    from tests.test_console import publish

    at = published_then_next_year(start(ADMIN))
    publish(at, "明年的标准", "2025-07-01")
    (command,) = [c.value for c in at.code if c.value.startswith("jiuzhu diff ")]
    assert command.splitlines()[0].endswith("--as-of 2025-07-01"), command
    assert "# 决策日 2025-07-01：发布的生效日期（发布前核对按生效日期比较）；不写 --as-of 时 jiuzhu diff 选：" in command


def test_a_path_side_is_shown_by_its_place_in_the_tables_folder() -> None:
    comparison = Comparison("a", "b", as_of=date(2025, 6, 1), day_said="发布的生效日期",
                            refs=("/srv/jiuzhu/tables/counties/330106-西湖区.xlsx", "330106"))
    command = diffview.command(comparison)
    assert command.splitlines()[0] == (
        "jiuzhu diff tables/counties/330106-西湖区.xlsx 330106 --as-of 2025-06-01")
    assert "/srv" not in command
    assert "# 决策日 2025-06-01：发布的生效日期" in command
