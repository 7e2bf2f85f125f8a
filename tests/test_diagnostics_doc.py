"""docs/diagnostics.md documents every code of the catalogue, with its severity; a
diagnostic quotes what it found at a length a page can hold."""

import re
from pathlib import Path

from compiler.diagnostics import CODES, make

DOC = Path(__file__).resolve().parents[1] / "docs" / "diagnostics.md"


def documented() -> dict[str, str]:
    rows = re.findall(r"^\| ([EWI]\d{3}) \| (\w+) \|", DOC.read_text(encoding="utf-8"), re.MULTILINE)
    return dict(rows)


def test_every_code_is_documented():
    missing = sorted(set(CODES) - set(documented()))
    assert not missing, f"codes missing from docs/diagnostics.md: {missing}"


def test_documented_severities_match_the_catalogue():
    wrong = {c: s for c, s in documented().items() if c in CODES and CODES[c].severity != s}
    assert not wrong


def test_no_code_is_documented_that_does_not_exist():
    assert not sorted(set(documented()) - set(CODES))


def test_a_long_value_is_quoted_short() -> None:
    """A 10,000-character cell typed into a column's type filled the page (helper-46)."""
    said = make("E204", "类型无法识别", found="类" * 10_000).render()
    assert "共 10000 个字符" in said and len(said) < 300
    assert make("E204", "类型无法识别", found="moneyy").render().endswith("实际为「moneyy」")
