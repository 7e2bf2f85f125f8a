"""A year without a holiday schedule is said once (helper-114).

With the decision date and an event both in such a year, ``jiuzhu explain``,
``jiuzhu evaluate`` and the service's ``warnings`` said W403 twice in nearly the same
words: once for the decision date's year, once for the event's. The event's line,
which says what to add, now stands for both.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from compiler.cli import main
from compiler.service import Settings, create_app

TABLES = Path(__file__).resolve().parents[1] / "tables"
YEAR = 2030  # the tables' 日历 lists holidays for no year this late


EVENT = {"type": "unemployment_registration", "date": f"{YEAR}-02-01", "person_id": "P1"}


def household(events: list) -> dict:
    return {
        "household_id": "X1",
        "county_code": "330106",
        "current": {"group": "dibao", "since": "2023-03-01"},
        "members": [{"person_id": "P1", "relation": "head", "birth_date": "1980-05-05"}],
        "events": events,
    }


def written(tmp_path: Path, events: list) -> Path:
    path = tmp_path / "households.jsonl"
    path.write_text(json.dumps(household(events)) + "\n", encoding="utf-8")
    return path


def explained(tmp_path: Path, capsys: pytest.CaptureFixture[str], events: list) -> str:
    path = written(tmp_path, events)
    code = main(["explain", "X1", "--households", str(path), "--tables", str(TABLES),
                 "--as-of", f"{YEAR}-03-01", "--working-copy"])  # fmt: skip
    assert code == 0
    return capsys.readouterr().out


def test_the_decision_year_and_an_events_year_are_said_once(tmp_path, capsys):
    said = [line for line in explained(tmp_path, capsys, [EVENT]).splitlines()
            if "W403" in line]  # fmt: skip
    assert len(said) == 1, said
    assert f"没有 {YEAR} 年的节假日安排：本户有 1 个事件" in said[0]


def test_without_events_the_decision_year_is_still_said(tmp_path, capsys):
    said = [line for line in explained(tmp_path, capsys, []).splitlines()
            if "W403" in line]  # fmt: skip
    assert len(said) == 1 and "决策日所在年度" in said[0]


def test_evaluate_says_the_year_once_too(tmp_path, capsys):
    path = written(tmp_path, [EVENT])
    code = main(["evaluate", "--households", str(path), "--tables", str(TABLES),
                 "--as-of", f"{YEAR}-03-01", "--working-copy",
                 "--out", str(tmp_path / "d.jsonl")])  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err
    assert err.count(f"W403 日历中没有 {YEAR} 年的节假日安排") == 1
    assert "家庭数据中有 1 个事件" in err


def test_the_service_says_the_year_once_too(tmp_path):
    settings = Settings(
        tables=TABLES, registry=tmp_path / "registry.duckdb", warm_on_start=False
    )
    body = {"as_of": f"{YEAR}-03-01", "households": [household([EVENT])]}
    with TestClient(create_app(settings)) as client:
        answer = client.post("/v1/decisions", json=body)
    assert answer.status_code == 200, answer.text
    (said,) = [w for w in answer.json()["warnings"] if w["code"] == "W403"]
    assert said["path"] == "$.households[0].events[0].date"
