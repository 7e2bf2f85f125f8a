"""An author or note made only of invisible characters is refused (tester R10):
`JIUZHU_AUTHOR=$'\\u200b' jiuzhu publish --note $'\\u200b'` published a version with an
author and a note no one could read; marks that reorder text are control characters."""

from __future__ import annotations

import pytest

from compiler.errors import RegistryError
from compiler.registry_publish import check_author, check_note


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        pytest.param("\u200b", "<U+200B>", id="zero-width-space"),
        pytest.param(" \u200b\ufeff ", "<U+200B>、<U+FEFF>", id="with-blanks-and-bom"),
        pytest.param("\u2060\u3164", "<U+2060>、<U+3164>", id="word-joiner-and-filler"),
        pytest.param("\ufe0f", "<U+FE0F>", id="variation-selector"),
    ],
)
def test_text_of_invisible_characters_only_is_refused(text: str, shown: str) -> None:
    for check, name in ((check_author, "发布人"), (check_note, "版本说明")):
        with pytest.raises(RegistryError) as raised:
            check(text)
        said = raised.value.diagnostics[0]
        assert said.code == "E708" and said.message.startswith(f"{name}只有不可见的字符")
        assert shown in (said.found or "")


@pytest.mark.parametrize("mark", ["\u202a", "\u202e", "\u2066", "\u2069"])
def test_marks_that_reorder_text_are_refused_as_control_characters(mark: str) -> None:
    with pytest.raises(RegistryError) as raised:
        check_author(f"张三{mark}")
    said = raised.value.diagnostics[0]
    assert said.code == "E708" and f"<U+{ord(mark):04X}>" in (said.found or "")


def test_a_visible_name_with_a_zero_width_joiner_is_kept() -> None:
    check_author("张三\u200d")
    check_note("依据杭民发调整\u200b低保标准")


def test_an_invisible_author_from_the_environment_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path, capsys: pytest.CaptureFixture[str],
) -> None:
    from compiler import cli
    from tests.test_registry import COUNTY, write_rulebook

    tables = write_rulebook(tmp_path / "tables")
    monkeypatch.setenv("JIUZHU_AUTHOR", "\u200b")
    registry = tmp_path / "reg" / "r.duckdb"
    code = cli.main(["publish", "--county", COUNTY, "--effective", "2025-01-01", "--note", "首次发布",
                     "--tables", str(tables), "--registry", str(registry)])
    err = capsys.readouterr().err
    assert code == 1 and "E708 发布人只有不可见的字符" in err and "<U+200B>" in err
    assert "环境变量 JIUZHU_AUTHOR" in err
