"""A request mixing a broken county's households with sound ones (helper-114).

The service answers a request whole: such a request is refused with 503, but its
first errors name each household of the broken county at its ``county_code``, so
the client knows which to leave out; before, the table error alone came back with
path null and nothing said which households were at fault.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.tables_fixture import COUNTY
from tests.test_service import (
    COUNTY_HEADER,
    OTHER,
    build_tables,
    household,
    make_client,
)
from tests.workbooks import write_csv_folder

AS_OF = "2025-08-01"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """330108's own 标准参数 broken (not an amount); 330106 sound."""
    root = tmp_path_factory.mktemp("mixed")
    tables = build_tables(root)
    broken = [COUNTY_HEADER, ["dibao_standard", "一千三", "2025-01-01", None, "x"]]
    write_csv_folder(tables / "counties" / f"{OTHER}-拱墅区", {"标准参数": broken})
    with make_client(tables, root / "registry.duckdb") as client:
        yield client


def post(client: TestClient, households: list[dict]) -> dict:
    answer = client.post(
        "/v1/decisions", json={"as_of": AS_OF, "households": households}
    )
    assert answer.status_code == 503, answer.text
    assert "decisions" not in answer.json()
    return answer.json()


def test_a_mixed_request_names_the_broken_countys_households(client):
    body = post(client, [household("H1", "12000"), household("H2", "12000", OTHER)])
    first = body["error"]
    assert first["code"] == "E610"
    assert first["path"] == "$.households[1].county_code"
    assert first["found"] == OTHER
    assert f"{OTHER} 拱墅区的决策表有 1 处错误" in first["message"]
    assert "其他县的家庭即可照常决策" in first["hint"]
    table_errors = [e for e in body["errors"] if e["location"]]
    assert table_errors and f"{OTHER}-拱墅区" in table_errors[0]["location"]
    assert body["errors"][1] == table_errors[0]  # named households, then the cells


def test_the_sound_households_alone_are_decided(client):
    answer = client.post(
        "/v1/decisions", json={"as_of": AS_OF, "households": [household("H1", "12000")]}
    )
    assert answer.status_code == 200, answer.text


def test_a_request_of_the_broken_county_alone_keeps_its_table_errors_first(client):
    body = post(client, [household("H2", "12000", OTHER)])
    assert body["error"]["path"] is None
    assert all(e["code"] != "E610" for e in body["errors"])


def test_past_ten_households_the_tenth_says_how_many_more(client):
    broken = [household(f"B{k}", "12000", OTHER) for k in range(12)]
    body = post(client, [household("H1", "12000", COUNTY), *broken])
    named = [e for e in body["errors"] if e["code"] == "E610"]
    assert [e["path"] for e in named] == [
        f"$.households[{k}].county_code" for k in range(1, 11)
    ]
    assert "另有 2 户同样未决策" in named[-1]["message"]
