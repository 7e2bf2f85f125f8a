"""Household input leftovers.

- A member recognised as tekun (``tekun_supported``, or the household's
  ``current.group`` 五保/特困) whose ``has_able_supporter`` is blank is decided
  without tekun: W611 says so at the member's value; a member left out of the
  household, or one who filled it in, is not warned about.
- A JSON key naming a month that resembles a yearly amount (``月工资``) is E603 as the
  CSV header is, at its JSON path, also beside the contract's key.
- A pretty-printed JSON list or object saved as ``.jsonl`` is one E605, not one a line.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from compiler.cli import main
from compiler.errors import InputError
from compiler.evaluate import evaluate_file

TABLES = Path(__file__).resolve().parents[1] / "tables"
DAY = date(2025, 6, 1)


def write_csv(folder: Path, households: str, members: str) -> Path:
    (folder / "members.csv").write_text(members, encoding="utf-8")
    path = folder / "households.csv"
    path.write_text(households, encoding="utf-8")
    return path


def write_jsonl(path: Path, households: list[dict[str, Any]]) -> Path:
    path.write_text(
        "".join(json.dumps(h, ensure_ascii=False) + "\n" for h in households),
        encoding="utf-8",
    )
    return path


def member(person: str = "P1", **keys: Any) -> dict[str, Any]:
    return {
        "person_id": person,
        "relation": "head",
        "birth_date": "1940-01-01",
        "hukou": "rural",
        **keys,
    }


def household(ident: str, *members: dict[str, Any], **keys: Any) -> dict[str, Any]:
    return {"household_id": ident, "county_code": "330106", **keys, "members": list(members)}


# ---------------------------------------------------------------- W611


TEKUN_HOUSEHOLDS = """household_id,county_code,current.group
WB,330106,五保
SUP,330106,
FILLED,330106,特困
OUT,330106,五保
PLAIN,330106,
"""
TEKUN_MEMBERS = """household_id,person_id,relation,birth_date,hukou,has_able_supporter,tekun_supported,lives_in_household
WB,P1,head,1940-01-01,rural,,,
SUP,P2,head,1940-01-01,rural,,是,
FILLED,P3,head,1940-01-01,rural,否,,
OUT,P4,head,1940-01-01,rural,,,否
OUT,P5,spouse,1942-01-01,rural,否,,
PLAIN,P6,head,1940-01-01,rural,,,
"""


@pytest.fixture(scope="module")
def tekun_warnings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("tekun")
    source = write_csv(folder, TEKUN_HOUSEHOLDS, TEKUN_MEMBERS)
    result = evaluate_file(TABLES, source, DAY, folder / "d.jsonl", summary=False)
    return {d.extra["household"]: d for d in result.input_warnings if d.code == "W611"}


def test_a_tekun_member_with_blank_supporter_is_warned_at_the_value(tekun_warnings):
    said = tekun_warnings["WB"]
    assert said.extra["person"] == "P1"
    assert said.location.file.endswith("members.csv")
    assert said.location.cell == "has_able_supporter"
    assert "现救助类别（current.group）为特困" in said.message
    assert "空值按「不能确认没有有履行能力的法定义务人」读" in (said.hint or "")


def test_a_header_under_the_fields_former_name_is_still_read(tmp_path):
    # the 字段 sheet called has_able_supporter 有能力履行义务的赡养人 before it took
    # R-N15's 法定义务人: a members file written then keeps its column
    members = TEKUN_MEMBERS.replace("has_able_supporter", "有能力履行义务的赡养人", 1)
    members = members.replace("WB,P1,head,1940-01-01,rural,,", "WB,P1,head,1940-01-01,rural,否,")
    source = write_csv(tmp_path, TEKUN_HOUSEHOLDS, members)
    out = tmp_path / "d.jsonl"
    result = evaluate_file(TABLES, source, DAY, out, summary=False)
    assert not [d for d in result.input_warnings if d.code == "W601"]
    warned = {d.extra["household"] for d in result.input_warnings if d.code == "W611"}
    assert "WB" not in warned and "FILLED" not in warned
    groups = {
        row["household_id"]: row["group"]
        for row in map(json.loads, out.read_text(encoding="utf-8").splitlines())
    }
    assert groups["WB"] == "tekun"


def test_a_member_already_supported_is_warned_as_such(tekun_warnings):
    assert "已纳入特困供养（tekun_supported 为是）" in tekun_warnings["SUP"].message


def test_no_warning_where_the_blank_cannot_matter(tekun_warnings):
    # filled in; left out of the household (not decided); not recognised as tekun
    assert set(tekun_warnings) == {"WB", "SUP"}


def test_explain_notes_the_blank_supporter(tmp_path, capsys):
    source = write_jsonl(
        tmp_path / "h.jsonl", [household("WB", member(), current={"group": "tekun"})]
    )
    args = ["explain", "WB", "--households", str(source), "--as-of", "2025-06-01"]
    assert main([*args, "--working-copy"]) == 0
    out = capsys.readouterr().out
    assert "注意：W611 家庭「WB」成员「P1」" in out


# ---------------------------------------------------------------- monthly keys


@pytest.mark.parametrize(
    ("keys", "path", "field"),
    [
        ({"月工资": "3000"}, '$.members[0]["月工资"]', "income.wage"),
        ({"monthly_wage": "3000"}, "$.members[0].monthly_wage", "income.wage"),
        # beside the contract's key the month's figure is still no 12 months' total
        (
            {"月工资": "3000", "income": {"wage": "36000"}},
            '$.members[0]["月工资"]',
            "income.wage",
        ),
        ({"income": {"月退休金": "100"}}, '$.members[0].income["月退休金"]', "income.transfer"),
    ],
    ids=["chinese", "english", "beside-wage", "in-income"],
)
def test_a_monthly_json_key_is_refused_at_its_path(tmp_path, keys, path, field):
    source = write_jsonl(tmp_path / "h.jsonl", [household("J1", member(**keys))])
    with pytest.raises(InputError) as raised:
        evaluate_file(TABLES, source, DAY, tmp_path / "d.jsonl", summary=False)
    [said] = [d for d in raised.value.diagnostics if d.code == "E603"]
    assert said.location.cell == f"第1行 {path}"
    assert "像是按月的金额" in said.message
    assert f"键写成 members[…].{field}" in (said.expected or "")


# ---------------------------------------------------------------- multi-line .jsonl


@pytest.mark.parametrize(
    ("text", "phrase", "hint"),
    [
        (lambda hs: json.dumps(hs, indent=2), "是一个 JSON 列表", "扩展名改为 .json"),
        (
            lambda hs: "\n".join(json.dumps(h, indent=2) for h in hs),
            "是跨多行书写的 JSON 对象",
            "每行一个家庭对象",
        ),
    ],
    ids=["list", "pretty-objects"],
)
def test_pretty_printed_json_named_jsonl_is_one_error(tmp_path, text, phrase, hint):
    households = [household(f"A{i}", member()) for i in range(3)]
    source = tmp_path / "h.jsonl"
    source.write_text(text(households), encoding="utf-8")
    with pytest.raises(InputError) as raised:
        evaluate_file(TABLES, source, DAY, tmp_path / "d.jsonl", summary=False)
    [said] = raised.value.diagnostics
    assert said.code == "E605"
    assert said.location.cell == "第1行"
    assert phrase in said.message
    assert hint in (said.hint or "")


# ---------------------------------------------------------------- stray quotes in CSV


def load_csv(folder: Path, households: str, members: str) -> Any:
    import duckdb

    from compiler.households import load_households
    from compiler.resolve import declared_fields

    source = write_csv(folder, households, members)
    con = duckdb.connect()
    try:
        return load_households(con, source, declared_fields(TABLES))
    finally:
        con.close()


MEMBERS = "household_id,person_id,relation,birth_date,hukou\nH1,P1,head,1980-01-01,urban\n"
MEMBERS += "H2,P1,head,1980-01-01,urban\n"


def test_a_stray_quote_in_an_ignored_column_is_warned_and_the_file_read(tmp_path):
    households = 'household_id,county_code,备注\nH1,330106,"好"的\nH2,330106,"正常"\n'
    loaded = load_csv(tmp_path, households, MEMBERS)
    assert loaded.households == 2
    [said] = [w for w in loaded.warnings if "第2行「备注」列" in w]
    assert '「"好"的」中间有英文双引号' in said
    assert "已忽略，其余各列照常读入" in said


@pytest.mark.parametrize(
    "households",
    [
        # a declared field's value must be read exactly as written
        'household_id,county_code,current.group\nH1,330106,"低保"的\nH2,330106,\n',
        # so must a key's (户编号 is household_id)
        '户编号,county_code,备注\n"H"1,330106,x\nH2,330106,y\n',
        # a row wider than the header: which cell is which is a guess
        'household_id,county_code,备注\nH1,330106,x,"好"的\nH2,330106,y\n',
        # a quote left open
        'household_id,county_code,备注\nH1,330106,"好的\nH2,330106,y\n',
    ],
    ids=["declared", "key", "too-wide", "open"],
)
def test_a_stray_quote_elsewhere_still_refuses_the_file(tmp_path, households):
    with pytest.raises(InputError) as raised:
        load_csv(tmp_path, households, MEMBERS)
    assert [d.code for d in raised.value.diagnostics] == ["E605"]
