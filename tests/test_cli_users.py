"""`jiuzhu user add` refuses what the console would turn into a wrong folder or a
county it cannot show: a name of dots only, a county with no workbook."""

from __future__ import annotations

import io

import pytest

from compiler.cli import main
from tests.tables_fixture import write_tables


@pytest.mark.parametrize("name", ["..", ".", "..."])
def test_a_name_of_dots_only_is_refused(name, tmp_path, monkeypatch, capsys):
    users = tmp_path / "users.yaml"
    monkeypatch.setattr("sys.stdin", io.StringIO("LongEnough1\n"))
    assert main(["user", "add", "--users", str(users), "--name", name,
                 "--role", "reviewer", "--password-stdin"]) == 2
    assert "不能只由「.」组成" in capsys.readouterr().err
    assert not users.exists()


def test_a_county_without_a_workbook_is_refused(tmp_path, monkeypatch, capsys):
    tables, users = write_tables(tmp_path), tmp_path / "users.yaml"
    common = ["user", "add", "--users", str(users), "--role", "county_admin",
              "--tables", str(tables), "--password-stdin"]
    monkeypatch.setattr("sys.stdin", io.StringIO("LongEnough1\n"))
    assert main([*common, "--name", "admin9", "--county", "999999"]) == 2
    assert "「999999」" in capsys.readouterr().err and not users.exists()
    monkeypatch.setattr("sys.stdin", io.StringIO("LongEnough1\n"))
    assert main([*common, "--name", "admin1", "--county", "330106"]) == 0


def test_a_password_longer_than_bcrypt_reads_is_refused_in_chinese(tmp_path, monkeypatch, capsys):
    """30 Chinese characters are 90 bytes: bcrypt refused them with an English
    ValueError and exit 3 (helper-35)."""
    users = tmp_path / "users.yaml"
    monkeypatch.setattr("sys.stdin", io.StringIO("救" * 30 + "\n"))
    assert main(["user", "add", "--users", str(users), "--name", "shenhe",
                 "--role", "reviewer", "--password-stdin"]) == 2
    err = capsys.readouterr().err
    assert "密码过长：最多 72 个字节" in err and "90 个字节" in err and "ValueError" not in err
    assert not users.exists()
    monkeypatch.setattr("sys.stdin", io.StringIO("救" * 24 + "\n"))  # 72 bytes: taken
    assert main(["user", "add", "--users", str(users), "--name", "shenhe",
                 "--role", "reviewer", "--password-stdin"]) == 0
