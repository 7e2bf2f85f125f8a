"""Version numbers of ``POST /v1/decisions`` written as huge JSON numbers.

``1e400`` parses to ``Decimal('1E+400')``, which has more digits than the decimal
context's 28, so arithmetic such as ``number // 1`` raises instead of answering: the
request must still be refused as a bad version number at its JSON path (E608, 422),
never as an internal error (E611, 500).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from compiler.service_request import parse_json, version_problem
from tests.tables_fixture import COUNTY
from tests.test_service import build_tables, make_client

PATH = f"$.versions.{COUNTY}"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    tables = build_tables(tmp_path)
    registry = tmp_path / "registry" / "jiuzhu-registry.duckdb"
    with make_client(tables, registry) as test_client:
        yield test_client


def post_version(client: TestClient, number: str) -> dict:
    """The error of a request pinning the fixture county to ``number`` (JSON text)."""
    raw = f'{{"households": [], "versions": {{"{COUNTY}": {number}}}}}'
    response = client.post(
        "/v1/decisions",
        content=raw.encode(),
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    return response.json()["error"]


@pytest.mark.parametrize(
    "number", ["1e400", "1e308", "1E+999999999", "12.5e300"], ids=str
)
def test_a_huge_version_number_is_too_large_at_its_path(client, number):
    error = post_version(client, number)
    assert (error["code"], error["path"]) == ("E608", PATH)
    assert "版本号过大" in error["message"]


@pytest.mark.parametrize("number", ["-1e400", "-1e308"], ids=str)
def test_a_huge_negative_version_number_is_not_a_positive_integer(client, number):
    error = post_version(client, number)
    assert (error["code"], error["path"]) == ("E608", PATH)
    assert "版本号应是正整数" in error["message"]


def test_version_problem_reads_an_exponent_past_the_decimal_context():
    number = parse_json(b"1e400")
    problem = version_problem(number, PATH)
    assert problem is not None and problem.message == "版本号过大"
    assert problem.location.cell == PATH
