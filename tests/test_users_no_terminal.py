"""`jiuzhu user add` without a terminal: no English GetPassWarning reaches the user;
without --password-stdin the command is refused with E618 before anything is read."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _user_add(tmp_path: Path, stdin: str, *more: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "compiler.cli", "user", "add",
               "--users", str(tmp_path / "users.yaml"), "--name", "shenhe",
               "--role", "reviewer", *more]
    return subprocess.run(command, input=stdin, capture_output=True, text=True,
                          cwd=ROOT, timeout=60, check=False)


@pytest.mark.parametrize("stdin", ["LongEnough1\nLongEnough1\n", ""], ids=["pipe", "empty"])
def test_without_a_terminal_the_prompt_is_refused_with_e618(tmp_path, stdin):
    done = _user_add(tmp_path, stdin)
    assert done.returncode == 2
    assert "E618" in done.stderr and "--password-stdin" in done.stderr
    assert "Warning" not in done.stderr and "密码：" not in done.stderr + done.stdout
    assert not (tmp_path / "users.yaml").exists()


def test_password_stdin_still_reads_the_first_line(tmp_path):
    done = _user_add(tmp_path, "LongEnough1\n", "--password-stdin")
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr and "shenhe" in (tmp_path / "users.yaml").read_text()
