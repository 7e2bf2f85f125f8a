"""Other Chinese names of enum values in CSV household files (helper-97).

农业 and 非农业, the hukou categories before the reform of 2014 that older county
systems still export (农业户口), and 特困, the short form of 特困供养 (GLOSSARY: tekun),
were E603: now read as rural, urban and tekun, in their own field only, as 农村 and
低保 are (helper-83). 居民, the unified hukou after the reform, says neither and stays
refused.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from compiler.errors import InputError
from compiler.evaluate import evaluate_file
from compiler.households import load_households
from compiler.resolve import declared_fields

TABLES = Path(__file__).resolve().parent.parent / "tables"
FIELDS = declared_fields(TABLES)
AS_OF = date(2025, 6, 1)
HOUSEHOLD = ["household_id", "county_code", "current.group", "current.since"]
MEMBER = ["household_id", "person_id", "birth_date", "relation", "hukou",
          "has_able_supporter", "disability_kind", "disability_grade"]  # fmt: skip


def _write(path: Path, rows: list[list[str]]) -> None:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    path.write_text(text.getvalue(), encoding="utf-8-sig")


def _files(folder: Path, group: str, hukous: list[str], relation: str = "户主") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    _write(
        folder / "households.csv", [HOUSEHOLD, ["H1", "330106", group, "2024-01-01"]]
    )
    members = [
        ["H1", f"P{k}", "1950-03-04", relation if k == 0 else "配偶", hukou, "false",
         "肢体", "1"]
        for k, hukou in enumerate(hukous)
    ]  # fmt: skip
    _write(folder / "members.csv", [MEMBER, *members])
    return folder / "households.csv"


def _refused(path: Path) -> dict[str | None, str]:
    with pytest.raises(InputError) as raised:
        load_households(duckdb.connect(), path, FIELDS)
    assert {d.code for d in raised.value.diagnostics} == {"E603"}
    return {d.location.cell: d.render() for d in raised.value.diagnostics}


@pytest.mark.parametrize(
    ("group", "hukous", "read"),
    [
        pytest.param("特困", ["农业", "非农业"], ("tekun", ["rural", "urban"]), id="bare"),
        pytest.param("特困", ["农业户口", "非农业户口"], ("tekun", ["rural", "urban"]),
                     id="with-hukou-noun"),
        pytest.param("低保", ["农业户籍", "非农业户籍"], ("dibao", ["rural", "urban"]),
                     id="with-field-noun"),
        pytest.param("\u3000特困\u3000", ["\u3000非农业", "农村户口"],
                     ("tekun", ["urban", "rural"]), id="full-width-spaces"),
    ],
)  # fmt: skip
def test_old_hukou_words_and_tekun_are_read_as_identifiers(
    tmp_path: Path, group: str, hukous: list[str], read: tuple[str, list[str]]
) -> None:
    con = duckdb.connect()

    load_households(con, _files(tmp_path, group, hukous), FIELDS)

    assert con.execute('SELECT "current.group" FROM jz_households').fetchall() == [
        (read[0],)
    ]
    got = con.execute("SELECT hukou FROM jz_members ORDER BY person_id").fetchall()
    assert [h for (h,) in got] == read[1]


def test_they_decide_as_the_identifiers(tmp_path: Path) -> None:
    names = _files(tmp_path / "names", "特困", ["农业", "非农业"])
    idents = _files(tmp_path / "ids", "tekun", ["rural", "urban"])
    out = {}
    for name, path in (("names", names), ("ids", idents)):
        evaluate_file(TABLES, path, AS_OF, tmp_path / f"{name}.jsonl")
        out[name] = (tmp_path / f"{name}.jsonl").read_text(encoding="utf-8")

    assert out["names"] == out["ids"]
    assert json.loads(out["names"])["group"] != "none"


def test_they_are_read_in_their_own_field_only(tmp_path: Path) -> None:
    """农业 is hukou's, 特困 the group's: neither is a relation or a hukou."""
    found = _refused(_files(tmp_path, "", ["特困"], relation="农业"))

    relation = found["第2行 relation"]
    assert "实际为「农业」" in relation
    assert "「农业」是字段 hukou 的取值，不是「与户主关系」的" in relation
    hukou = found["第2行 hukou"]
    assert "实际为「特困」" in hukou and "「特困」是字段 current.group 的取值" in hukou


def test_the_unified_hukou_says_neither_and_is_refused(tmp_path: Path) -> None:
    [(cell, text)] = _refused(_files(tmp_path, "", ["居民户口"])).items()

    assert cell == "第2行 hukou"
    assert "实际为「居民户口」" in text
    assert "应为以下取值之一：urban（城镇）、rural（农村）" in text


def test_json_takes_identifiers_only(tmp_path: Path) -> None:
    record = {
        "household_id": "H1",
        "county_code": "330106",
        "current": {"group": "特困"},
        "members": [{"person_id": "P1", "birth_date": "1950-03-04", "hukou": "农业"}],
    }
    path = tmp_path / "households.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")

    found = _refused(path)

    assert set(found) == {"第1行 $.current.group", "第1行 $.members[0].hukou"}
