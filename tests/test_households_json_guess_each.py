"""A JSON amount key is judged for each object, not for the file's keys merged
(helper-97).

A file where most households give ``income.wage`` and one only ``工资收入`` had that
key W601 (「该字段已由键 members[…].income.wage 提供」): the merged structure of all
households supplied the field, so the one household was decided with a wage of 0.
Now an object (a household, a member, a group such as ``assets``) whose key most
likely names an amount it has no key for is E603 at that object's path, however many
others write the contract's key; one that has both stays W601.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient

from compiler.errors import InputError
from compiler.households import load_households
from compiler.resolve import declared_fields
from compiler.service import Settings, create_app

TABLES = Path(__file__).resolve().parents[1] / "tables"
FIELDS = declared_fields(TABLES)
WAGE = "最可能是金额字段「工资性收入」（members[…].income.wage），成员对象中没有其他键提供该字段"


def member(person: str = "P1", **keys: Any) -> dict[str, Any]:
    return {"person_id": person, "birth_date": "1980-01-01", "relation": "head", **keys}


def household(ident: str, *members: dict[str, Any], **keys: Any) -> dict[str, Any]:
    return {
        "household_id": ident,
        "county_code": "330106",
        **keys,
        "members": list(members),
    }


def paid(ident: str) -> dict[str, Any]:
    """A household whose member writes the wage by the contract's key."""
    return household(ident, member(income={"wage": "36000.00"}))


def write(path: Path, households: list[dict[str, Any]]) -> Path:
    if path.suffix == ".json":
        path.write_text(json.dumps(households, ensure_ascii=False), encoding="utf-8")
    else:
        lines = (json.dumps(h, ensure_ascii=False) for h in households)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def refused(path: Path) -> list[tuple[str, str, str]]:
    with duckdb.connect() as con, pytest.raises(InputError) as raised:
        load_households(con, path, FIELDS)
    return [
        (d.code, d.location.cell or "", d.message) for d in raised.value.diagnostics
    ]


@pytest.mark.parametrize(
    ("suffix", "place"),
    [
        pytest.param(".json", '$[17].members[0]["工资收入"]', id="json"),
        pytest.param(".jsonl", '第18行 $.members[0]["工资收入"]', id="jsonl"),
    ],
)
def test_a_household_without_the_key_others_use_is_e603(
    tmp_path: Path, suffix: str, place: str
) -> None:
    households = [paid(f"H{i}") for i in range(17)]
    households.append(household("H17", member(工资收入="90000.00")))

    found = refused(write(tmp_path / f"h{suffix}", households))

    assert [(code, cell) for code, cell, _ in found] == [("E603", place)]
    assert WAGE in found[0][2] and "共" not in found[0][2]


def test_each_object_lacking_the_field_is_counted_from_the_first(
    tmp_path: Path,
) -> None:
    households = [paid("H0"), household("H1", member(工资收入="1.00")), paid("H2")]
    households.append(household("H3", member(工资收入="2.00")))
    # beside its field the key is read as no amount, and not counted
    households.append(household("H4", member(工资收入="3.00", income={"wage": "3.00"})))

    [(code, cell, message)] = refused(write(tmp_path / "h.jsonl", households))

    assert (code, cell) == ("E603", '第2行 $.members[0]["工资收入"]')
    assert "（共 2 处，此为第一处）" in message


def test_a_member_without_the_key_its_housemate_uses_is_e603(tmp_path: Path) -> None:
    """The guess is made for each member: the second member's wage would be 0."""
    both = household(
        "H1",
        member("P1", income={"wage": "36000.00"}),
        member("P2", 工资收入="48000.00"),
    )

    found = refused(write(tmp_path / "h.json", [paid("H0"), both]))

    assert [(code, cell) for code, cell, _ in found] == [
        ("E603", '$[1].members[1]["工资收入"]')
    ]


@pytest.mark.parametrize(
    ("odd", "place", "here"),
    [
        pytest.param(
            {"货币资产": "500000"}, '$[1]["货币资产"]', "家庭对象", id="household"
        ),
        pytest.param(
            {"assets": {"货币资产": "500000", "vehicles": 0}},
            '$[1].assets["货币资产"]',
            "字段组「assets」",
            id="group",
        ),
    ],
)
def test_a_household_amount_others_give_by_its_key_is_e603(
    tmp_path: Path, odd: dict[str, Any], place: str, here: str
) -> None:
    money = household("H0", member(), assets={"money": "100.00"})
    households = [
        money,
        household("H1", member(), **odd),
        money | {"household_id": "H2"},
    ]

    [(code, cell, message)] = refused(write(tmp_path / "h.json", households))

    assert (code, cell) == ("E603", place)
    assert "最可能是金额字段「货币财产」（家庭对象的 assets.money）" in message
    assert f"{here}中没有其他键提供该字段" in message


def test_every_object_with_both_keys_stays_w601(tmp_path: Path) -> None:
    households = [paid("H0")]
    households += [household("H1", member(工资收入="9.00", income={"wage": "9.00"}))]

    with duckdb.connect() as con:
        loaded = load_households(con, write(tmp_path / "h.jsonl", households), FIELDS)

    said = (
        "h.jsonl 第2行 $.members[0].工资收入 不是已声明的字段，已忽略（其值没有读取；"
        "像是金额字段「工资性收入」，该字段已由键 members[…].income.wage 提供）"
    )
    assert loaded.warnings == [said]


def test_the_service_refuses_a_household_of_a_request_as_evaluate_does(
    tmp_path: Path,
) -> None:
    registry = tmp_path / "registry" / "jiuzhu-registry.duckdb"
    settings = Settings(tables=TABLES, registry=registry, warm_on_start=False)
    households = [paid("A1"), household("A2", member(工资收入="90000.00"))]
    with TestClient(create_app(settings)) as client:
        response = client.post(
            "/v1/decisions", json={"as_of": "2025-06-01", "households": households}
        )

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert [(e["code"], e["path"]) for e in errors] == [
        ("E603", '$.households[1].members[0]["工资收入"]')
    ]
    assert WAGE in errors[0]["message"]
