"""Amounts under county names, at the wrong level, and where a file stops (helper-102).

- A column or JSON key most likely naming an amount of the other level (工资收入 in
  households.csv or on the household, 货币资产 in members.csv) was W601 and the amount
  decided as 0: now E603 naming the field and where it belongs.
- 存款, 养老金, 退休金 were not recognised; 车辆数 was offered 车辆购置价; 房产套数 was
  called a 金额字段.
- ``explain`` stopped on key errors of other households of the file.
- A GB18030 file with one stray byte was named at its first Chinese character.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from compiler.cli import main
from compiler.errors import InputError
from compiler.households import load_households
from compiler.resolve import declared_fields

TABLES = Path(__file__).resolve().parents[1] / "tables"
HEAD = ["household_id", "person_id", "出生日期", "与户主关系"]
HOUSEHOLD = ["household_id", "county_code"]


def _csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> None:
    path.write_bytes(("\r\n".join(",".join(r) for r in rows) + "\r\n").encode(encoding))


def _files(folder: Path, households: list[list[str]], members: list[list[str]]) -> Path:
    _csv(folder / "x-households.csv", households)
    _csv(folder / "x-members.csv", members)
    return folder / "x-households.csv"


def _refused(path: Path) -> list[tuple[str, str | None, str]]:
    with duckdb.connect() as con, pytest.raises(InputError) as raised:
        load_households(con, path, declared_fields(TABLES))
    return [(d.code, d.location.cell, d.render()) for d in raised.value.diagnostics]


def _warnings(path: Path) -> list[str]:
    with duckdb.connect() as con:
        return load_households(con, path, declared_fields(TABLES)).warnings


# ----------------------------------------------------------------- R1: the wrong level


@pytest.mark.parametrize("header", ["工资收入", "年工资", "工资", "家庭工资收入"])
def test_a_wage_column_in_households_csv_is_e603_naming_members_csv(
    tmp_path: Path, header: str
) -> None:
    path = _files(
        tmp_path,
        [[*HOUSEHOLD, header], ["H1", "330106", "30000"]],
        [HEAD, ["H1", "P1", "1960-01-02", "head"]],
    )
    [(code, cell, text)] = _refused(path)
    assert (code, cell) == ("E603", header)
    assert "最可能是成员的金额字段「工资性收入」（income.wage），应写在 x-members.csv 中" in text
    assert "members[…].income.wage" in text
    assert "「工资性收入」按默认值「0.00」决策" in text


def test_a_money_column_in_members_csv_is_e603_naming_households_csv(
    tmp_path: Path,
) -> None:
    path = _files(
        tmp_path,
        [HOUSEHOLD, ["H1", "330106"]],
        [[*HEAD, "货币资产"], ["H1", "P1", "1960-01-02", "head", "500000"]],
    )
    [(code, cell, text)] = _refused(path)
    assert (code, cell) == ("E603", "货币资产")
    assert "最可能是家庭的金额字段「货币财产」（assets.money），应写在 x-households.csv 中" in text
    assert "家庭对象的 assets.money" in text


def test_a_misplaced_amount_beside_the_fields_own_column_stays_w601(
    tmp_path: Path,
) -> None:
    """members.csv gives 工资性收入: 家庭工资收入 in households.csv is a total, not dropped."""
    path = _files(
        tmp_path,
        [[*HOUSEHOLD, "家庭工资收入"], ["H1", "330106", "30000"]],
        [[*HEAD, "工资性收入"], ["H1", "P1", "1960-01-02", "head", "30000"]],
    )
    [text] = _warnings(path)
    assert "是否想写成员的「income.wage」（工资性收入）？该字段已从 x-members.csv 读取" in text


@pytest.mark.parametrize("header", ["财产情况", "残疾证号"])
def test_notes_and_ids_stay_w601(tmp_path: Path, header: str) -> None:
    path = _files(
        tmp_path,
        [[*HOUSEHOLD, header], ["H1", "330106", "有房一套"]],
        [[*HEAD, header], ["H1", "P1", "1960-01-02", "head", "x"]],
    )
    warned = _warnings(path)  # loaded, not refused
    assert any(f"列 {header} 不是已声明的字段，已忽略" in w for w in warned)


def _jsonl(path: Path, *households: dict) -> Path:
    path.write_text(
        "".join(json.dumps(h, ensure_ascii=False) + "\n" for h in households),
        encoding="utf-8",
    )
    return path


def _household(ident: str, member: dict | None = None, **keys: object) -> dict:
    person = {"person_id": "P1", "birth_date": "1960-01-02", "relation": "head"}
    return {
        "household_id": ident,
        "county_code": "330106",
        **keys,
        "members": [{**person, **(member or {})}],
    }


def test_a_wage_key_on_the_household_is_e603_naming_its_member_path(
    tmp_path: Path,
) -> None:
    path = _jsonl(tmp_path / "h.jsonl", _household("H1", 工资收入="30000"))
    [(code, cell, text)] = _refused(path)
    assert code == "E603" and cell == '第1行 $["工资收入"]'
    assert "最可能是成员的金额字段「工资性收入」，应写在 members[…].income.wage，不在家庭对象中" in text


def test_a_money_key_on_a_member_is_e603_naming_the_household_path(
    tmp_path: Path,
) -> None:
    path = _jsonl(tmp_path / "h.jsonl", _household("H1", {"货币资产": "500000"}))
    [(code, cell, text)] = _refused(path)
    assert code == "E603" and cell == '第1行 $.members[0]["货币资产"]'
    assert "最可能是家庭的金额字段「货币财产」，应写在 家庭对象的 assets.money" in text


# ----------------------------------------------------------------- R2: county words


@pytest.mark.parametrize(
    ("household", "header", "said"),
    [
        (True, "存款", "金额字段「货币财产」（assets.money）"),
        (True, "银行存款", "金额字段「货币财产」（assets.money）"),
        (True, "家庭存款", "金额字段「货币财产」（assets.money）"),
        (False, "养老金", "金额字段「转移净收入」（income.transfer）"),
        (False, "退休金", "金额字段「转移净收入」（income.transfer）"),
        (True, "车辆数", "最可能是字段「机动车数量」（assets.vehicles）"),
        (True, "房产套数", "最可能是字段「住房套数」（assets.homes）"),
        # interest on deposits is a property income, not the deposits themselves
        (False, "存款利息", "金额字段「财产净收入」（income.property）"),
    ],
)
def test_county_words_for_amounts_and_counts_are_e603(
    tmp_path: Path, household: bool, header: str, said: str
) -> None:
    households, members = [HOUSEHOLD, ["H1", "330106"]], [HEAD, ["H1", "P1", "1960-01-02", "head"]]
    table = households if household else members
    table[0] = [*table[0], header]
    table[1] = [*table[1], "3"]
    [(code, cell, text)] = _refused(_files(tmp_path, households, members))
    assert (code, cell) == ("E603", header)
    assert said in text
    if "金额" not in said:
        assert "金额字段" not in text and "少算的数量" in text


# ----------------------------------------------------------------- R3: explain


def test_explain_is_not_stopped_by_key_errors_of_other_households(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _jsonl(
        tmp_path / "j1.jsonl",
        _household("J1"),
        _household("J2", **{"assets.money": "5"}),
        _household("J3", assets={"money": "abc"}),
        _household("J4", {"工资收入": "9"}),
    )
    args = ["--tables", str(TABLES), "--households", str(path), "--as-of", "2025-06-01"]
    assert main(["explain", "J1", *args]) == 0
    assert "家庭 J1" in capsys.readouterr().out
    assert main(["explain", "J4", *args]) != 0  # its own key is still refused
    assert "第4行" in capsys.readouterr().err


# ----------------------------------------------------------------- R4: encoding


def test_a_gb18030_file_with_a_stray_byte_is_named_where_gb18030_fails(
    tmp_path: Path,
) -> None:
    rows = [[*HEAD, "工资性收入"]] + [
        ["H1", f"P{i}", "1960-01-02", "户主" if i == 1 else "子女", "100"] for i in range(1, 9)
    ]
    lines = ("\r\n".join(",".join(r) for r in rows) + "\r\n").encode("gb18030").split(b"\r\n")
    lines[8] = lines[8][:5] + b"\x80" + lines[8][5:]
    (tmp_path / "x-members.csv").write_bytes(b"\r\n".join(lines))
    _csv(tmp_path / "x-households.csv", [HOUSEHOLD, ["H1", "330106"]], "gb18030")
    [(code, cell, text)] = _refused(tmp_path / "x-households.csv")
    assert (code, cell) == ("E605", "第9行")
    assert "第 9 行第 6 个字符处" in text and "不是 GB18030（GBK），前文却是 GB18030" in text
    assert "<0x80>" in text
