"""A sum of amounts no money column holds: evaluate and explain refuse it alike (E605).

The compiled SQL's cast of the derived value to DECIMAL(18,2) fails; the reference
interpreter must stop on the same value with the same diagnostic instead of deciding.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from compiler import cli
from compiler.engine import data_error
from compiler.errors import InputError
from tests.helpers import interpret, plan_of, prepare, run_program
from tests.tables_fixture import province_sheets, write_tables

AS_OF = date(2025, 6, 1)
TOP = "9999999999999999.99"  # the largest amount a money column holds


def household(*wages: str) -> dict:
    members = [
        {"person_id": f"P{i}", "birth_date": "1980-01-01", "income": {"wage": wage}}
        for i, wage in enumerate(wages, 1)
    ]
    return {"household_id": "H1", "county_code": "330106", "members": members}


def flat(data: dict) -> dict:
    """The helpers' flat form: field ids as keys."""
    members = [
        {
            "person_id": m["person_id"],
            "birth_date": date.fromisoformat(m["birth_date"]),
            "income.wage": Decimal(m["income"]["wage"]),
        }
        for m in data["members"]
    ]
    return {
        "household_id": "H1",
        "county_code": "330106",
        "members": members,
        "events": [],
    }


def overflow_province() -> dict[str, list[list[object]]]:
    """The small tables' province with the household's yearly income kept as a money
    value, of which the income per head is computed (so the SQL cannot leave it out)."""
    province = province_sheets()
    total = ["income_total", "家庭年收入", "家庭", "money", "sum(income.wage)", "R-N2"]
    province["派生值"].append(total)
    per_head = province["派生值"][1]
    assert per_head[0] == "income_per_capita"
    per_head[4] = "round(income_total / count(true) / 12, 2)"
    return province


@pytest.fixture
def tables(tmp_path: Path) -> Path:
    return write_tables(tmp_path, overflow_province())


def test_the_interpreter_refuses_an_overflowing_sum_as_the_sql_does(tables, con):
    plan = plan_of(tables, AS_OF)
    data = flat(household(TOP, TOP))
    with pytest.raises(InputError) as ours:
        interpret(plan, AS_OF, data)
    prepare(con, plan, AS_OF, [data])
    with pytest.raises(duckdb.Error) as caught:
        run_program(con, plan, "none")
    theirs = data_error(caught.value)
    assert theirs is not None
    assert ours.value.diagnostics[0] == theirs.diagnostics[0]
    assert ours.value.diagnostics[0].found == "19999999999999999.98"


def test_the_largest_amount_alone_is_still_decided(tables):
    evaluation = interpret(plan_of(tables, AS_OF), AS_OF, flat(household(TOP)))
    assert evaluation.household["group"] == "none"


def test_explain_reports_the_error_evaluate_reports(tables, tmp_path, capsys):
    path = tmp_path / "households.jsonl"
    path.write_text(json.dumps(household(TOP, TOP)) + "\n", encoding="utf-8")
    common = [
        "--households",
        str(path),
        "--as-of",
        AS_OF.isoformat(),
        "--tables",
        str(tables),
    ]
    evaluated = cli.main(["evaluate", *common, "--out", str(tmp_path / "d.jsonl")])
    said = capsys.readouterr().err
    explained = cli.main(["explain", "H1", *common])
    out, err = capsys.readouterr()
    assert evaluated == explained == 1
    assert "结论" not in out
    for text in (said, err):
        assert "E605 金额或其合计、乘积超出可计算的范围" in text
        assert "实际为「19999999999999999.98」" in text
    # evaluate decides many households at once: it names the one whose amounts add up
    assert "家庭 H1 的金额合计在 10¹⁵ 元以上" in said and "jiuzhu explain H1" in said


def test_evaluate_names_only_the_households_whose_amounts_are_huge(tables, tmp_path, capsys):
    ordinary = household("12000", "3000") | {"household_id": "N1"}
    huge = household(TOP, TOP) | {"household_id": "B2"}
    path = tmp_path / "households.jsonl"
    path.write_text("\n".join(json.dumps(h) for h in (ordinary, huge)) + "\n", encoding="utf-8")

    code = cli.main(["evaluate", "--households", str(path), "--as-of", AS_OF.isoformat(),
                     "--tables", str(tables), "--out", str(tmp_path / "d.csv")])

    err = capsys.readouterr().err
    assert code == 1 and "家庭 B2 的金额合计" in err and "N1" not in err
    assert not (tmp_path / "d.csv").exists()


def test_an_overflow_no_household_amount_explains_points_at_the_standards(tmp_path, capsys):
    """An amount made of standards alone (a typo of a few extra digits in one) overflowed
    with a message about household data (helper-35); with no household's amounts large,
    the standards are named instead."""
    province = province_sheets()
    province["派生值"].append(
        ["huge_line", "过大的线", "家庭", "money", "dibao_standard * 10000000000000", "测试"]
    )
    per_head = province["派生值"][1]
    assert per_head[0] == "income_per_capita"
    per_head[4] = f"min({per_head[4]}, huge_line)"  # read, so computed
    tables = write_tables(tmp_path, province)
    path = tmp_path / "households.jsonl"
    path.write_text(json.dumps(household("12000")) + "\n", encoding="utf-8")
    code = cli.main(["evaluate", "--households", str(path), "--as-of", AS_OF.isoformat(),
                     "--tables", str(tables), "--out", str(tmp_path / "d.jsonl")])
    said = capsys.readouterr().err
    assert code == 1 and "E605 金额或其合计、乘积超出可计算的范围：家庭数据中没有金额合计特别大的家庭" in said
    assert "核对标准参数中的金额" in said
