"""A JSON key that most likely names an amount no key beside it supplies is E603.

``工资收入`` or ``income_wage`` on a member, ``货币资产`` on the household or in its
``assets`` were W601 only: their values were dropped and the household decided with
the amount at 0, as dibao (helper-85). A CSV header naming an amount the same way was
already refused (``households_likely.amount_guess``); JSON now says the same, once
for each path of the file's merged keys, in ``jiuzhu evaluate``, ``explain`` and the
service alike. Notes, ids and dates stay W601, and so does an amount key beside the
field it resembles, which is read from its own key.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient

from compiler.cli import main
from compiler.errors import InputError
from compiler.households import load_households
from compiler.resolve import declared_fields
from compiler.service import Settings, create_app
from compiler.service_decide import Evaluator
from compiler.service_projects import ProjectCache
from compiler.service_request import DecisionRequest

TABLES = Path(__file__).resolve().parents[1] / "tables"
AS_OF = "2025-06-01"
WAGE = "最可能是金额字段「工资性收入」（members[…].income.wage）"
MONEY = "最可能是金额字段「货币财产」（家庭对象的 assets.money）"


def member(person: str = "P1", **keys: Any) -> dict[str, Any]:
    return {"person_id": person, "birth_date": "1980-01-01", "relation": "head", **keys}


def household(ident: str, *members: dict[str, Any], **keys: Any) -> dict[str, Any]:
    return {
        "household_id": ident,
        "county_code": "330106",
        **keys,
        "members": list(members),
    }


# The two households of the report: each decided as dibao with a wage of 0
REPORTED = [
    household("J1", member("P1", 工资收入="90000.00")),
    household("J3", member("P3", income_wage="90000.00")),
]


def write(path: Path, households: list[dict[str, Any]]) -> Path:
    if path.suffix == ".json":
        path.write_text(json.dumps(households, ensure_ascii=False), encoding="utf-8")
    else:
        lines = (json.dumps(h, ensure_ascii=False) for h in households)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def refused(path: Path) -> list[tuple[str, str, str]]:
    """(code, place, message) of each problem ``load_households`` raises."""
    with duckdb.connect() as con, pytest.raises(InputError) as raised:
        load_households(con, path, declared_fields(TABLES))
    return [
        (d.code, d.location.cell or "", d.message) for d in raised.value.diagnostics
    ]


def loaded(path: Path) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The warnings of a load, and each member's (person_id, income.wage)."""
    with duckdb.connect() as con:
        result = load_households(con, path, declared_fields(TABLES))
        wages = con.execute(
            'SELECT person_id, "income.wage" FROM jz_members ORDER BY person_id'
        ).fetchall()
    return result.warnings, wages


# ------------------------------------------------------------ jiuzhu evaluate, explain


def test_the_reported_households_are_refused_by_evaluate(
    tmp_path: Path, capsys
) -> None:
    source = write(tmp_path / "h.jsonl", REPORTED)
    out = tmp_path / "d.csv"
    argv = ["evaluate", "--tables", str(TABLES), "--households", str(source)]
    assert main([*argv, "--as-of", AS_OF, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert (
        'h.jsonl:第1行 $.members[0]["工资收入"]: E603 键「工资收入」不是已声明的字段'
        in err
    )
    assert "h.jsonl:第2行 $.members[0].income_wage: E603 键「income_wage」" in err
    assert err.count(WAGE) == 2 and "「工资性收入」按默认值「0.00」决策" in err
    assert "W601" not in err and not out.exists()


def test_explain_refuses_the_key_in_a_json_array(tmp_path: Path, capsys) -> None:
    source = write(tmp_path / "h.json", REPORTED)
    argv = ["explain", "J1", "--tables", str(TABLES), "--households", str(source)]
    assert main([*argv, "--as-of", AS_OF]) == 1
    err = capsys.readouterr().err
    assert 'h.json:$[0].members[0]["工资收入"]: E603' in err and WAGE in err
    # J3's key is another household's: explain checks the keys of J1 only (helper-102)
    assert "income_wage" not in err


def test_an_amount_key_is_named_once_per_path_with_its_count(tmp_path: Path) -> None:
    """Three households with 货币资产 at the top give one E603; the one in assets is
    another path (its group has no money either)."""
    households = [household(f"H{i}", member(), 货币资产="500000") for i in range(3)]
    households.append(household("H9", member(), assets={"货币资产": "500000"}))
    found = refused(write(tmp_path / "h.jsonl", households))
    assert [(code, cell) for code, cell, _ in found] == [
        ("E603", '第1行 $["货币资产"]'),
        ("E603", '第4行 $.assets["货币资产"]'),
    ]
    assert (
        MONEY in found[0][2]
        and "家庭对象中没有其他键提供该字段（共 3 处，此为第一处）" in found[0][2]
    )
    assert "字段组「assets」中没有其他键提供该字段" in found[1][2]


def test_notes_ids_and_dates_stay_w601_beside_a_refused_amount(tmp_path: Path) -> None:
    notes = {
        "备注": "无",
        "remark": "x",
        "身份证号": "330106198001010000",
        "出生年月": "1980-01",
    }
    quiet = [household("H1", member(**notes), remark="租房")]
    warnings, _ = loaded(write(tmp_path / "quiet.jsonl", quiet))
    named = ["$.remark", *(f"$.members[0].{key}" for key in notes)]
    assert all(
        any(f"第1行 {path} 不是已声明的字段" in w for w in warnings) for path in named
    )
    assert len(warnings) == 5
    loud = [household("H1", member(**notes, 工资收入="90000.00"), remark="租房")]
    found = refused(write(tmp_path / "loud.jsonl", loud))
    assert [(code, cell) for code, cell, _ in found] == [
        ("E603", '第1行 $.members[0]["工资收入"]')
    ]


def test_an_amount_key_beside_its_field_stays_w601_and_the_field_is_read(
    tmp_path: Path,
) -> None:
    both = member(工资收入="1.00", income={"wage": "90000.00"})
    warnings, wages = loaded(
        write(
            tmp_path / "h.jsonl",
            [household("H1", both, 货币资产="1", assets={"money": "5"})],
        )
    )
    assert wages == [("P1", 90000)]
    assert any(
        "$.members[0].工资收入 不是已声明的字段，已忽略（其值没有读取；像是金额字段「工资性收入」，"
        "该字段已由键 members[…].income.wage 提供）" in w
        for w in warnings
    )
    assert any(
        "$.货币资产 不是已声明的字段" in w
        and "已由键 家庭对象的 assets.money 提供" in w
        for w in warnings
    )
    alone = [household("H1", member(工资收入="1.00"))]  # the same key without its field
    assert [c for c, _, _ in refused(write(tmp_path / "alone.jsonl", alone))] == [
        "E603"
    ]


# ---------------------------------------------------------------- the service


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    registry = tmp_path / "registry" / "jiuzhu-registry.duckdb"
    settings = Settings(tables=TABLES, registry=registry, warm_on_start=False)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_the_service_refuses_the_reported_households_as_evaluate_does(
    client: TestClient, tmp_path: Path
) -> None:
    response = client.post(
        "/v1/decisions", json={"as_of": AS_OF, "households": REPORTED}
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["code"], e["path"]) for e in errors] == [
        ("E603", '$.households[0].members[0]["工资收入"]'),
        ("E603", "$.households[1].members[0].income_wage"),
    ]
    found = refused(write(tmp_path / "h.json", REPORTED))
    assert [e["message"] for e in errors] == [message for _, _, message in found]
    assert WAGE in errors[0]["message"] and "按默认值「0.00」决策" in errors[0]["hint"]


def test_the_service_warns_of_a_note_and_an_amount_its_field_supplies(
    client: TestClient,
) -> None:
    both = member(备注="无", 工资收入="1.00", income={"wage": "90000.00"})
    body = {"as_of": AS_OF, "households": [household("H1", both)]}
    response = client.post("/v1/decisions", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["decisions"][0]["income_per_capita"] == "7500.00"
    found = {w["path"]: w for w in answer["warnings"] if w["code"] == "W601"}
    assert set(found) == {
        "$.households[0].members[0].备注",
        "$.households[0].members[0].工资收入",
    }
    assert (
        "已由键 members[…].income.wage 提供"
        in found["$.households[0].members[0].工资收入"]["hint"]
    )
    assert "该字段按默认值决策" in found["$.households[0].members[0].备注"]["hint"]


def test_a_request_merged_with_one_that_supplies_the_field_is_still_refused(
    tmp_path: Path,
) -> None:
    """No key of the request supplies income.wage, and another request's never does
    (each object is judged on its own keys): refused alone or merged, the request is
    decided alone from the start (``service_decide._amount_keys``)."""
    cache = ProjectCache(
        Settings(tables=TABLES, registry=tmp_path / "r.duckdb", warm_on_start=False)
    )
    day = date(2025, 6, 1)
    warm = cache.get(day, {})
    requests = [
        DecisionRequest(
            day, [household("A1", member(income={"wage": "90000.00"}))], {}
        ),
        DecisionRequest(day, [REPORTED[0]], {}),
    ]
    evaluator = Evaluator()
    together = evaluator.decide_requests(warm, day, requests)
    alone = [evaluator.decide_requests(warm, day, [r])[0] for r in requests]
    assert (
        together[0] == alone[0]
        and str(together[0][0]["income_per_capita"]) == "7500.00"
    )
    refusal = together[1]
    assert getattr(refusal, "status", None) == 422
    assert [(d.code, d.location.cell) for d in refusal.diagnostics] == [
        ("E603", '$.households[0].members[0]["工资收入"]')
    ]
    assert [d.message for d in refusal.diagnostics] == [
        d.message for d in alone[1].diagnostics
    ]
