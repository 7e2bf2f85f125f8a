"""Messages that said where a problem is in words that contradicted the rest
(helper-135, from a reading of the docs):

- E301 quoted the fragment where parsing stopped as 实际为, before the diagnostic's
  own 实际为 with the whole cell, as if the official had typed the fragment;
- E605 placed a JSON line cut short at column 1 of the empty line after it;
- ``--verbose`` after a command was a usage error where ``-v`` worked;
- ``explain`` of an id the file does not hold was E604 (a required field missing).
"""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from compiler.cli import main, parser
from compiler.errors import InputError
from compiler.explain import explain_file
from compiler.expr import ParseError, parse_expression, parse_tests
from compiler.households import iter_households

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2025, 6, 1)

# ------------------------------------------------------------------ E301


@pytest.mark.parametrize(
    ("parse", "text", "where"),
    [
        (parse_tests, "<< 低保标准", "在第 2 个字符「<」处无法继续"),
        (parse_tests, "< 1 2", "在第 5 个字符「2」处无法继续"),
        (parse_tests, "<", "单元格在此结束，没有写完"),
        (parse_tests, "[1..2", "单元格在此结束，没有写完"),
        (parse_tests, "not(1), 5", "在第 7 个字符「,」处无法继续"),
        (parse_expression, "if a else b", "在第 6 个字符「else」处无法继续"),
        (parse_expression, "a < b < c", "在第 7 个字符「<」处无法继续"),
    ],
    ids=["double-sign", "two-values", "cut-short", "open-interval", "after-not", "if", "chain"],
)
def test_parse_error_says_where_it_stopped_without_saying_found(parse, text, where) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ParseError) as refused:
        parse(text)
    assert where in refused.value.message
    assert "实际为" not in refused.value.message


def _tables(tmp_path: Path) -> Path:
    tables = tmp_path / "tables"
    shutil.copytree(ROOT / "tables" / "province", tables / "province")
    shutil.copytree(ROOT / "tables" / "cities", tables / "cities")
    (tables / "counties").mkdir()
    shutil.copy(ROOT / "tables" / "counties" / "330106-西湖区.xlsx", tables / "counties")
    return tables


def _edit_csv(path: Path, row: int, col: int, text: str) -> None:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    rows[row - 1][col - 1] = text
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


@pytest.mark.parametrize(
    ("sheet", "row", "col", "text", "where"),
    [
        ("eligibility.csv", 7, 3, "<< 低保标准", "在第 2 个字符「<」处无法继续"),
        ("eligibility.csv", 7, 3, "<", "单元格在此结束"),
        ("派生值.csv", 3, 5, "income.wage income.business", "在第 13 个字符「income.business」处"),
    ],
    ids=["rule-cell", "rule-cell-cut", "derived-value"],
)
def test_e301_says_found_once_with_the_whole_cell(  # type: ignore[no-untyped-def]
    tmp_path, capsys, sheet, row, col, text, where
) -> None:
    tables = _tables(tmp_path)
    _edit_csv(tables / "province" / sheet, row, col, text)

    assert main(["check", str(tables), "--county", "330106", "--no-analysis"]) == 1

    lines = [line for line in capsys.readouterr().out.splitlines() if " E301 " in line]
    assert len(lines) == 1, lines
    assert lines[0].count("实际为") == 1
    assert f"实际为「{text}」" in lines[0] and where in lines[0]


# ------------------------------------------------------------------ E605


@pytest.mark.parametrize(
    ("name", "content", "line", "found"),
    [
        ("h.jsonl", '{"household_id":"H1",\n', "第1行", "第 22 列：行在此处结束，"),
        ("h.jsonl", '{"household_id":"H1",\r\n', "第1行", "第 22 列：行在此处结束，"),
        ("h.jsonl", '{"household_id":"H0"}\n{"a":1,\n', "第2行", "第 8 列：行在此处结束，"),
        ("h.json", '[{"household_id":"H1",\n\n  \n', "第1行", "第 23 列：文件在此处结束，"),
    ],
    ids=["jsonl", "jsonl-crlf", "jsonl-second-line", "json"],
)
def test_json_cut_short_is_placed_where_its_text_ends(tmp_path, name, content, line, found) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8"))

    with pytest.raises(InputError) as refused:
        list(iter_households(path))

    [problem] = refused.value.diagnostics
    assert problem.code == "E605"
    assert problem.location.cell == line
    assert problem.found.startswith(found)
    assert "此处应是用英文双引号括起的键名" in problem.found
    # a .json file is a list of households, a .jsonl one a line
    said = "由家庭对象组成的列表" if name.endswith(".json") else "一行一个家庭对象"
    assert problem.expected is not None and problem.expected.startswith(said)


def test_json_error_inside_the_text_keeps_its_own_place(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "h.json"
    path.write_text('[{"household_id":\n"H1" "x"}]', encoding="utf-8")

    with pytest.raises(InputError) as refused:
        list(iter_households(path))

    [problem] = refused.value.diagnostics
    assert problem.location.cell == "第2行"
    assert problem.found == "第 6 列：此处应有逗号「,」分隔前后两项"


# ------------------------------------------------------------------ --verbose


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "tables", "--verbose"],
        ["evaluate", "--households", "h.jsonl", "--verbose"],
        ["explain", "H1", "--households", "h.jsonl", "--verbose"],
        ["user", "add", "--name", "a", "--role", "reviewer", "--verbose"],
        ["export", "--county", "330102", "--version", "work", "--out", "x.yaml", "--verbose"],
    ],
    ids=["check", "evaluate", "explain", "user-add", "export"],
)
def test_verbose_in_full_after_the_command(argv) -> None:  # type: ignore[no-untyped-def]
    assert parser().parse_args(argv).verbose is True


def test_ver_still_abbreviates_version_where_both_exist() -> None:
    args = parser().parse_args(["export", "--county", "330102", "--ver", "3", "--out", "x.yaml"])
    assert args.version == "3" and args.verbose is False


def test_command_help_shows_both_spellings(capsys) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SystemExit):
        parser().parse_args(["check", "--help"])
    assert "-v, --verbose" in capsys.readouterr().out


# ------------------------------------------------------------------ E619


def _jsonl(tmp_path: Path, ids: list[str]) -> Path:
    sample = json.loads(
        (ROOT / "tables" / "samples" / "households.jsonl").read_text(encoding="utf-8").splitlines()[0]
    )
    path = tmp_path / "households.jsonl"
    lines = [json.dumps({**sample, "household_id": i}, ensure_ascii=False) for i in ids]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_explain_of_an_unknown_id_is_its_own_code_with_close_ids(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _jsonl(tmp_path, ["S001", "S002", "Q777"])

    with pytest.raises(InputError) as refused:
        explain_file(ROOT / "tables", path, "S0001", AS_OF)

    [problem] = refused.value.diagnostics
    assert problem.code == "E619"
    assert "找不到家庭「S0001」" in problem.message
    assert "S001" in (problem.hint or "") and "Q777" not in (problem.hint or "")


def test_explain_suggests_ids_of_a_csv_file_too(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "households.csv").write_text(
        "household_id,county_code\nH001,330106\n", encoding="utf-8"
    )
    (tmp_path / "members.csv").write_text(
        "household_id,person_id,relation,birth_date,hukou\nH001,P1,head,1980-01-01,urban\n",
        encoding="utf-8",
    )

    with pytest.raises(InputError) as refused:
        explain_file(ROOT / "tables", tmp_path / "households.csv", "H0001", AS_OF)

    [problem] = refused.value.diagnostics
    assert problem.code == "E619" and "「H001」" in (problem.hint or "")


def test_explain_of_an_id_nothing_resembles_gives_no_guess(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = _jsonl(tmp_path, ["S001"])

    with pytest.raises(InputError) as refused:
        explain_file(ROOT / "tables", path, "-2+3", AS_OF)

    [problem] = refused.value.diagnostics
    assert problem.code == "E619" and "是否想写" not in (problem.hint or "")
