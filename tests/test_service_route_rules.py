"""The service's routes follow one rule each (helper-114).

``/v1/health?x=1`` was answered while every other route refuses a query parameter it
does not read; ``versions/01`` was version 1 while ``versions/+1`` was refused; a
version number sent as ``3.5`` was echoed as the string ``"3.5"``; ``HEAD /v1/health``,
which health checkers send, was 405.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.tables_fixture import COUNTY
from tests.test_service import build_tables, make_client


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("routes")
    with make_client(build_tables(root), root / "registry.duckdb") as client:
        yield client


def test_health_refuses_a_query_parameter_as_every_route_does(client):
    answer = client.get("/v1/health?x=1")
    assert answer.status_code == 422
    assert answer.json()["error"]["path"] == "query.x"


def test_health_answers_head(client):
    answer = client.head("/v1/health")
    assert answer.status_code == 200 and answer.content == b""


@pytest.mark.parametrize("written", ["01", "+1", "001"])
def test_a_version_number_is_written_without_zero_padding_or_sign(client, written):
    answer = client.get(f"/v1/counties/{COUNTY}/versions/{written.replace('+', '%2B')}")
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["path"] == "url.n" and error["found"] == written
    assert error["message"] == "版本号应写成不带前导零或正号的数字"
    assert error["expected"] == "1"


def test_a_padded_number_too_large_is_still_too_large(client):
    answer = client.get(f"/v1/counties/{COUNTY}/versions/0099999999999")
    assert answer.json()["error"]["message"] == "版本号过大"


def test_a_plain_version_number_reaches_the_registry(client):
    answer = client.get(f"/v1/counties/{COUNTY}/versions/1")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "E704"


@pytest.mark.parametrize(
    ("raw", "found"),
    [("3.5", "3.5"), ('"3"', '"3"'), ("[3.50]", "[3.50]")],
    ids=["number", "string", "list"],
)
def test_a_bad_version_number_is_echoed_as_sent(client, raw, found):
    body = f'{{"households": [], "versions": {{"{COUNTY}": {raw}}}}}'
    answer = client.post(
        "/v1/decisions", content=body, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["found"] == found
