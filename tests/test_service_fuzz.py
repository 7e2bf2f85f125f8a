"""Property: whatever the body, POST /v1/decisions never answers 500, and every answer
other than 200 is the one error body.

Hypothesis draws bodies near the contract (households whose fields are sometimes
replaced by arbitrary JSON), arbitrary JSON, and arbitrary bytes; examples are bounded
so the module runs in well under a minute. A last property: requests decided
together get exactly what each gets alone, decisions or errors.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from compiler.service import Settings
from compiler.service_decide import Evaluator
from compiler.service_projects import ProjectCache
from compiler.service_request import DecisionRequest
from tests.tables_fixture import COUNTY
from tests.test_service import OTHER, build_tables, make_client

KEYS = {"code", "message", "path", "found", "expected", "hint", "location"}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(
        ["", "1980-01-01", "2025-02-30", "330106", "1,301", "12000.50", "是"]
    ),
)
anything = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
money = st.one_of(
    st.sampled_from(["0", "12000", "16200.50", "99999999.99"]),
    st.integers(0, 10**7),
    st.decimals(0, 10**6, places=2).map(str),
)


@st.composite
def members(draw: st.DrawFn, index: int) -> dict[str, Any]:
    return {
        "person_id": f"P{index}",
        "birth_date": draw(st.dates().map(str) | st.just("1980-01-01")),
        "relation": draw(st.sampled_from(["head", "spouse", "child", "other"])),
        "income": {"wage": draw(money)},
    }


@st.composite
def households(draw: st.DrawFn, index: int) -> dict[str, Any]:
    data: dict[str, Any] = {
        "household_id": draw(st.sampled_from([f"H{index}"] * 6 + ["H0", index])),
        "county_code": draw(
            st.sampled_from([COUNTY] * 3 + [OTHER] * 3 + ["339999", 330106])
        ),
        "assets": {"money": draw(money)},
        "members": [draw(members(i)) for i in range(draw(st.integers(0, 3)))],
    }
    for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):  # a field becomes anything
        node = data
        path = draw(
            st.sampled_from(
                [
                    "household_id",
                    "county_code",
                    "assets",
                    "assets.money",
                    "members",
                    "events",
                    "current.group",
                    "extra",
                ]
            )
        )
        *parents, leaf = path.split(".")
        for part in parents:
            node = (
                node.setdefault(part, {})
                if isinstance(node.get(part, {}), dict)
                else {}
            )
        node[leaf] = draw(anything)
    return data


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    body: dict[str, Any] = {
        "households": [draw(households(i)) for i in range(draw(st.integers(0, 4)))]
    }
    as_of = draw(st.integers(0, 9))
    if as_of > 0:
        body["as_of"] = draw(anything) if as_of == 1 else "2025-08-01"
    if draw(st.integers(0, 9)) == 0:
        body["versions"] = draw(anything | st.just({COUNTY: 1}))
    if draw(st.integers(0, 9)) == 0:
        body[draw(st.text(max_size=5))] = draw(anything)
    return body


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("service-fuzz")
    tables = build_tables(root)
    with make_client(tables, root / "registry.duckdb") as test_client:
        yield test_client


def check(response: Any) -> None:
    assert response.status_code != 500, response.text
    answer = response.json()
    event(f"{response.status_code} {answer.get('error', {}).get('code', '')}")
    if response.status_code == 200:
        assert len(answer["decisions"]) >= 0 and "versions" in answer
        return
    assert set(answer) == {"error", "errors"} and answer["error"] == answer["errors"][0]
    assert all(set(item) == KEYS for item in answer["errors"])


FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


@FUZZ
@given(body=bodies())
def test_bodies_near_the_contract_never_get_a_500(client, body):
    response = client.post("/v1/decisions", content=json.dumps(body).encode())
    check(response)
    if response.status_code == 200:
        assert len(response.json()["decisions"]) == len(body["households"])


@FUZZ
@given(body=anything)
def test_any_json_never_gets_a_500(client, body):
    check(client.post("/v1/decisions", json=body))


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(raw=st.binary(max_size=64))
def test_any_bytes_never_get_a_500(client, raw):
    check(client.post("/v1/decisions", content=raw))


def outcome_text(outcome: Any) -> Any:
    if isinstance(outcome, list):
        return outcome
    return outcome.status, [
        (d.code, d.location.cell, d.message) for d in outcome.diagnostics
    ]


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("service-merge")
    tables = build_tables(root)
    settings = Settings(tables=tables, registry=root / "r.duckdb", warm_on_start=False)
    return ProjectCache(settings).get(date(2025, 8, 1), {})


@settings(
    max_examples=6,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(parts=st.lists(st.lists(households(0), max_size=3), min_size=2, max_size=3))
def test_requests_decided_together_get_what_they_get_alone(warm, parts):
    requests = [DecisionRequest(date(2025, 8, 1), part, {}) for part in parts]
    evaluator = Evaluator()
    together = evaluator.decide_requests(warm, date(2025, 8, 1), requests)
    alone = [
        evaluator.decide_requests(warm, date(2025, 8, 1), [r])[0] for r in requests
    ]
    assert [outcome_text(o) for o in together] == [outcome_text(o) for o in alone]
