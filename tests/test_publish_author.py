"""A version's author follows the note's rules (E708), and history shows stored text
without driving the terminal.

``jiuzhu publish --author $'张\\x1b[31m三\\n伪造行'`` stored ESC and a line break for
good, and ``history`` printed them raw: a red name and a made-up line of its own; a
5,000-character author was taken; ``--author ""`` silently became the login name
(helper-82). Registries written before this check may hold such authors (and notes):
history writes their control characters as <U+001B>.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from compiler.registry import Registry
from compiler.registry_publish import _draft, prepare, withdraw
from tests.test_registry import COUNTY, run, two_versions, write_rulebook


@pytest.fixture
def tables(tmp_path: Path) -> Path:
    return write_rulebook(tmp_path / "tables")


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return tmp_path / "registry" / "jiuzhu-registry.duckdb"


def publish_as(capsys, tables: Path, registry: Path, *author: str):  # type: ignore[no-untyped-def]
    return run(capsys, "publish", "--county", COUNTY, "--effective", "2025-01-01", "--note",
               "首次发布", *author, "--tables", str(tables), "--registry", str(registry))


AUTHORS = {
    "escape and line break": ("张\x1b[31m三\n伪造行", "E708 发布人中有控制字符，发布被拒绝；实际为「第 2 个字符 <U+001B>」"),
    "line break": ("张三\n伪造行", "E708 发布人中有控制字符，发布被拒绝；实际为「第 3 个字符 <U+000A>」"),
    "tab": ("张\t三", "实际为「第 2 个字符 <U+0009>」"),
    "reordering mark": ("张\u202e三", "实际为「第 2 个字符 <U+202E>」"),
    "5,000 characters": ("张" * 5000, "E708 发布人过长，发布被拒绝；实际为「5000 个字符」；应为不超过 100 个字符的发布人"),
    "empty": ("", "E708 发布人为空，发布被拒绝"),
    "blank": ("  ", "E708 发布人为空，发布被拒绝"),
}


@pytest.mark.parametrize(("author", "said"), AUTHORS.values(), ids=AUTHORS.keys())
def test_an_author_that_cannot_be_published_is_refused(tables, registry, capsys, author, said):
    code, _, err = publish_as(capsys, tables, registry, "--author", author)
    assert code == 1 and said in err and "Traceback" not in err
    assert not registry.exists() or Registry(registry).latest(COUNTY) is None


def test_an_author_of_a_hundred_characters_is_published(tables, registry, capsys):
    code, out, _ = publish_as(capsys, tables, registry, "--author", "民政局" + "张" * 97)
    assert code == 0 and "已发布 330106@1" in out
    assert Registry(registry).latest(COUNTY).author == "民政局" + "张" * 97


def test_an_author_from_the_environment_is_checked_and_said_so(
    tables, registry, capsys, monkeypatch
):
    monkeypatch.setenv("JIUZHU_AUTHOR", "张\x07三")
    code, _, err = publish_as(capsys, tables, registry)
    assert code == 1 and "E708 发布人中有控制字符" in err
    assert "发布人取自环境变量 JIUZHU_AUTHOR，可用 --author 指定" in err
    monkeypatch.setenv("JIUZHU_AUTHOR", "李四")
    code, out, _ = publish_as(capsys, tables, registry)
    assert code == 0 and "发布人 李四" in out


def test_a_withdrawal_checks_its_author_too(tables, registry, capsys):
    two_versions(tables, registry)
    code, _, err = run(capsys, "publish", "--county", COUNTY, "--withdraw", "2", "--note",
                       "暂缓", "--author", "王\x1b]0;x\x07五", "--base", "2",
                       "--tables", str(tables), "--registry", str(registry))
    assert code == 1 and "E708 发布人中有控制字符" in err
    assert len(Registry(registry).versions(COUNTY)) == 2
    with pytest.raises(Exception, match="E708") as caught:
        withdraw(registry, COUNTY, 2, "暂缓", "", base=2)
    assert caught.value.diagnostics[0].message == "发布人为空，撤回被拒绝"  # a withdrawal (helper-89)


def store_unchecked(tables: Path, registry: Path, author: str, note: str) -> None:
    """A version as a registry written before authors were checked holds it."""
    prepared = prepare(tables, COUNTY, date(2025, 1, 1), None)
    Registry(registry).append(_draft(prepared, date(2025, 1, 1), note, author, None), 0)


def test_history_shows_control_characters_an_older_registry_holds(tables, registry, capsys):
    store_unchecked(tables, registry, "张\x1b[31m三\n伪造行", "说明\x1b[2J\r伪造\n第二行")
    code, out, _ = run(capsys, "history", "--county", COUNTY, "--tables", str(tables),
                       "--registry", str(registry))
    assert code == 0 and "\x1b" not in out and "\r" not in out
    assert "张<U+001B>[31m三<U+000A>伪造行" in out
    lines = out.splitlines()
    assert not any(line.startswith("伪造") for line in lines)
    assert "      说明<U+001B>[2J<U+000D>伪造" in lines
    assert "      第二行" in lines  # a note's own line break kept, indented


def test_history_json_keeps_the_stored_text(tables, registry, capsys):
    """JSON escapes control characters itself; the stored text is given as it is."""
    store_unchecked(tables, registry, "张\x1b[31m三", "说明")
    code, out, _ = run(capsys, "history", "--county", COUNTY, "--format", "json",
                       "--tables", str(tables), "--registry", str(registry))
    assert code == 0 and "\x1b" not in out and '"author": "张\\u001b[31m三"' in out
