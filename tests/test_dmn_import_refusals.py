"""DMN import refuses what `jiuzhu check` would refuse in the workbook it writes: marks
that reorder text and control characters (E011) and full-width characters (E307),
each at the DMN element, with nothing written (docs/dmn.md section 1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from compiler.cli import main
from compiler.dmn_import import import_dmn, sheets
from compiler.errors import InputError

NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"


def model(name: str = "Grant", entry: str = ">= 18", out: str = '"yes"', entry_id: str = ' id="e1"') -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="{NS}" id="m" name="m" namespace="urn:test">
<inputData id="i1" name="Age"><variable name="Age" typeRef="number"/></inputData>
<decision id="d1" name="{name}">
  <variable name="{name}" typeRef="string"/>
  <decisionTable hitPolicy="FIRST">
    <input id="c1"><inputExpression typeRef="number"><text>Age</text></inputExpression></input>
    <output id="o1"/>
    <rule id="r1"><inputEntry{entry_id}><text>{entry}</text></inputEntry>
      <outputEntry id="oe1"><text>{out}</text></outputEntry></rule>
  </decisionTable>
</decision>
</definitions>"""


def refused(tmp_path: Path, text: str) -> list:  # type: ignore[type-arg]
    path = tmp_path / "m.dmn"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        import_dmn(path)
    return caught.value.diagnostics


@pytest.mark.parametrize(
    ("kwargs", "cell", "shown"),
    [
        ({"name": "Dec\u202eision"}, "d1@name", "Dec<U+202E>ision"),
        ({"out": '"a\u202eb"'}, "oe1/text", '"a<U+202E>b"'),
        ({"out": '"a\u2066b"'}, "oe1/text", '"a<U+2066>b"'),
    ],
    ids=["decision-name", "output-entry", "isolate"],
)
def test_a_mark_that_reorders_text_is_e011_at_the_element(
    tmp_path: Path, kwargs: dict, cell: str, shown: str  # type: ignore[type-arg]
) -> None:
    found = refused(tmp_path, model(**kwargs))
    first = found[0]
    assert (first.code, first.location.cell) == ("E011", cell)
    assert "改变文字方向" in first.message and first.found == shown


def test_a_reordering_mark_exits_1_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "m.dmn"
    path.write_text(model(name="Dec\u202eision"), encoding="utf-8")
    out = tmp_path / "book.xlsx"
    assert main(["import-dmn", str(path), "--out", str(out)]) == 1
    assert "E011" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize(
    ("entry", "char"),
    [
        ("１８", "１"),
        ("[1..１８]", "１"),
        ("＜ １２３４．５", "＜"),
        ("\u2039 １２３４．５", "１"),
        ("&gt;= ２０２５年６月１日", "２"),
    ],
)
def test_a_full_width_character_in_an_input_entry_is_refused(
    tmp_path: Path, entry: str, char: str
) -> None:
    (problem,) = refused(tmp_path, model(entry=entry))
    assert (problem.code, problem.location.cell) == ("E307", "e1")
    assert f"全角字符「{char}」" in problem.message
    assert problem.found == entry.replace("&gt;", ">")


def test_a_full_width_character_in_an_output_string_is_refused(tmp_path: Path) -> None:
    (problem,) = refused(tmp_path, model(out='"低保（含）"'))
    assert (problem.code, problem.location.cell) == ("E307", "oe1")
    assert "全角字符「（」" in problem.message


def test_an_entry_without_an_id_is_placed_by_its_path(tmp_path: Path) -> None:
    (problem,) = refused(tmp_path, model(entry="１８", entry_id=""))
    assert problem.location.cell == "r1/inputEntry"


def test_spacing_between_feel_tokens_is_written_canonically(tmp_path: Path) -> None:
    path = tmp_path / "m.dmn"
    path.write_text(model(entry="&lt;  18"), encoding="utf-8")
    assert sheets(import_dmn(path))["Grant"][-1][1] == "< 18"
