"""Usage errors that say what to type (helper-114).

``jiuzhu explain "-2+3"`` said only that household_id was missing: argparse took the
id for an option. ``jiuzhu user add --name ""`` said the name was made of dots only.
"""

from __future__ import annotations

import io

import pytest

from compiler.cli import main


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    return capsys.readouterr().err


def test_a_positional_starting_with_a_dash_is_told_to_follow_two_dashes(capsys):
    err = usage_error(["explain", "-2+3", "--households", "h.jsonl"], capsys)
    assert "缺少必需的参数：household_id" in err
    assert "「-2+3」以 - 开头，被当作了选项" in err
    assert "jiuzhu explain [选项] -- -2+3" in err


def test_a_missing_positional_without_a_dash_keeps_the_plain_message(capsys):
    err = usage_error(["explain", "--households", "h.jsonl"], capsys)
    assert err.rstrip().endswith("缺少必需的参数：household_id")


def test_an_abbreviated_option_is_not_taken_for_the_positional(capsys):
    err = usage_error(["explain", "--house", "h.jsonl"], capsys)
    assert "被当作了选项" not in err


def test_two_dashes_before_it_reach_the_command(tmp_path, capsys):
    households = tmp_path / "h.jsonl"
    households.write_text("", encoding="utf-8")
    main(["explain", "--households", str(households), "--", "-2+3"])
    assert "缺少必需的参数" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "said"),
    [("", "用户名为空"), ("  ", "只有空白"), ("a b", "2 至 40 个字母")],
)
def test_a_bad_user_name_is_said_before_the_password(
    name, said, tmp_path, monkeypatch, capsys
):
    users = tmp_path / "users.yaml"
    asked: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt="": asked.append(prompt) or "x")
    code = main(["user", "add", "--users", str(users), "--name", name,
                 "--role", "reviewer"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and said in err and "「.」" not in err
    assert not asked and not users.exists()


def test_no_password_to_read_is_said_not_an_internal_error(tmp_path, monkeypatch, capsys):
    def closed(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr("getpass.getpass", closed)
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = main(["user", "add", "--users", str(tmp_path / "u.yaml"), "--name", "abc",
                 "--role", "reviewer"])  # fmt: skip
    assert code == 2
    assert "--password-stdin" in capsys.readouterr().err


def test_a_misspelt_option_is_not_taken_for_the_positional(capsys):
    err = usage_error(["explain", "--housholds", "h.jsonl"], capsys)
    assert "被当作了选项" not in err
