"""A county's thousands of derived values are decided; a query still too deep is E306.

The compiler gave each derived value a CTE reading the one before, so a county with
1000 derived values that read none of each other made a query 1000 CTEs deep: DuckDB
refused it ("Max expression depth limit of 1000 exceeded", E605 quoting the English),
and raising DuckDB's limit let 3000 values crash the process (helper-84). Values that
read none of each other now share a CTE (compiler/sqlgen_nesting.py); what still nests
too deep, a county of a hundred decision tables, is refused by ``check`` (E306, at the
sheet where the limit is passed, with the counts) and before any query runs.

Tables go through the real load path (a CSV province, an .xlsx county) and households
through ``jiuzhu evaluate`` on DuckDB.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from compiler.chains import MAX_QUERY_DEPTH
from compiler.cli import main
from compiler.diff import Side
from compiler.diff_impact import impact
from compiler.engine import open_project
from compiler.errors import ValidationFailed
from tests.tables_fixture import COUNTY, province_sheets, write_tables

AS_OF = date(2025, 6, 1)
Rows = list[list[object]]


def wide(values: int) -> dict[str, Rows]:
    """The small province with ``values`` household values ``v<k> = assets.money + k``
    and as many member values ``m<k> = age(birth_date) + k``, none reading another;
    household_group tests the last of each (the eldest's through ``eldest``)."""
    sheets = province_sheets()
    for k in range(1, values + 1):
        sheets["派生值"].append([f"v{k}", f"值{k}", "家庭", "money", f"assets.money + {k}", "测试"])
        sheets["派生值"].append([f"m{k}", f"年龄加{k}", "成员", "integer", f"age(birth_date) + {k}", "测试"])
    sheets["派生值"].append(["eldest", "最大年龄加数", "家庭", "integer", f"max_of(m{values})", "测试"])
    # two more input columns before the output: dibao also needs v >= 1500 (assets of
    # 500 yuan or more) and eldest >= 1045 + values - 1000 (a member of 45 or older)
    added = {
        1: ["输入", "输入"],
        2: [f"v{values}", "eldest"],
        3: ["money", "integer"],
        4: [None, None],
        5: [f">= {values + 500}", f">= {values + 45}"],
        6: ["-", "-"],
    }
    group = sheets["household_group"]
    for row, cells in added.items():
        group[row][3:3] = cells
    return sheets


def household(ident: str, money: str, born: str) -> dict[str, object]:
    return {
        "household_id": ident,
        "county_code": COUNTY,
        "assets": {"money": money},
        "members": [{"person_id": f"{ident}-1", "birth_date": born}],
    }


def evaluate(tables: Path, folder: Path) -> tuple[int, dict[str, str]]:
    """``jiuzhu evaluate`` of three households: the exit code and each one's group."""
    households = folder / "households.jsonl"
    rows = [
        household("RICH-OLD", "600", "1970-01-01"),  # both tests pass: dibao
        household("POOR-OLD", "100", "1970-01-01"),  # v too small
        household("RICH-YOUNG", "600", "2000-01-01"),  # eldest too young
    ]
    households.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    out = folder / "decisions.csv"
    code = main(["evaluate", "--tables", str(tables), "--households", str(households),
                 "--as-of", AS_OF.isoformat(), "--out", str(out)])
    if code != 0:
        return code, {}
    with out.open(encoding="utf-8-sig") as opened:
        return code, {r["household_id"]: r["group"] for r in csv.DictReader(opened)}


@pytest.mark.parametrize("values", [1000, 3000])
def test_thousands_of_derived_values_are_decided(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], values: int
) -> None:
    tables = write_tables(tmp_path, wide(values))

    code, groups = evaluate(tables, tmp_path)

    err = capsys.readouterr().err
    assert code == 0, err
    assert groups == {"RICH-OLD": "dibao", "POOR-OLD": "none", "RICH-YOUNG": "none"}


def test_independent_values_do_not_deepen_the_query(tmp_path: Path) -> None:
    depths = []
    for values in (10, 1000):
        tables = write_tables(tmp_path / str(values), wide(values))
        depths.append(open_project(tables, [COUNTY], AS_OF).program(COUNTY).depth)

    assert depths[0] == depths[1] < 30, depths


def many_tables(count: int) -> dict[str, Rows]:
    """The small province with ``count`` household tables ``t<k>``, none reading
    another: three CTEs each."""
    sheets = province_sheets()
    for k in range(1, count + 1):
        sheets[f"t{k}"] = [
            [f"t{k}", f"表{k}", "FIRST", "层级=家庭"],
            ["规则", "输入", "输出", "注释"],
            ["名称", "assets.money", f"flag{k}", "依据"],
            ["类型", "money", "boolean", None],
            ["r0", f"< {k}", "true", "测试"],
            ["r1", f">= {k}", "false", "测试"],
        ]
    return sheets


@pytest.fixture
def deep(tmp_path: Path) -> Path:
    """Tables whose query nests past MAX_QUERY_DEPTH (three levels a table)."""
    return write_tables(tmp_path, many_tables(MAX_QUERY_DEPTH // 3 + 5))


def test_check_names_the_sheet_past_the_depth_and_the_counts(
    deep: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(deep), "--as-of", AS_OF.isoformat()]) == 1

    said = capsys.readouterr()
    line = next(x for x in (said.out + said.err).splitlines() if "E306" in x)
    assert f"{deep / 'province'}:t" in line and "!A1: E306 计算嵌套过深" in line
    assert f"超过上限 {MAX_QUERY_DEPTH} 层" in line
    assert f"2 个派生值、{MAX_QUERY_DEPTH // 3 + 6} 张决策表" in line


def test_evaluate_and_diff_refuse_it_before_duckdb_sees_the_query(
    deep: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = evaluate(deep, tmp_path)

    err = capsys.readouterr().err
    assert code == 1 and "E306 计算嵌套过深" in err
    assert "DuckDB" not in err and "Binder" not in err and "depth" not in err
    # a diff's sides are bound, not checked: the impact refuses the query itself
    small = write_tables(tmp_path / "small")
    old, new = (
        Side(label, {COUNTY: open_project(t, [COUNTY], AS_OF).plan(COUNTY).rulebook})
        for label, t in (("甲", small), ("乙", deep))
    )
    with pytest.raises(ValidationFailed) as raised:
        impact(old, new, tmp_path / "households.jsonl", AS_OF)
    assert [d.code for d in raised.value.diagnostics] == ["E306"]
