"""A pinned version that takes effect after the decision date is warned of (helper-114).

``{"versions": {"330106": 2}}`` with an ``as_of`` before 330106@2's effective date
decided by it without a word; ``jiuzhu evaluate`` takes only the versions in force on
``--as-of``, so it never decides so. The answer now carries W703 at the pin's path.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.tables_fixture import COUNTY
from tests.test_service import (
    OTHER,
    build_tables,
    make_client,
    pinned_answer,
    publish_two_versions,
)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """330106@1 in force from 2025-01-01, @2 from 2025-07-01."""
    root = tmp_path_factory.mktemp("pinned")
    tables = build_tables(root)
    registry = root / "registry" / "jiuzhu-registry.duckdb"
    publish_two_versions(tables, registry)
    with make_client(tables, registry) as client:
        yield client


def warned(client: TestClient, as_of: str, number: int, county: str = COUNTY) -> list:
    answer = pinned_answer(client, as_of, number, county)
    return [w for w in answer["warnings"] if w["code"] == "W703"]


def test_a_version_pinned_before_its_effective_date_is_warned_of(client):
    (warning,) = warned(client, "2025-06-01", 2)
    assert warning["path"] == f"$.versions.{COUNTY}"
    assert warning["found"] == f"{COUNTY}@2（自 2025-07-01 起生效）"
    assert "在决策日 2025-06-01 尚未生效" in warning["message"]
    assert "把 as_of 改为 2025-07-01 或以后" in warning["hint"]


@pytest.mark.parametrize(("as_of", "number"), [("2025-07-01", 2), ("2025-08-01", 1)])
def test_a_version_in_effect_by_the_date_is_not(client, as_of, number):
    assert warned(client, as_of, number) == []


def test_a_pin_for_a_county_without_households_is_not(client):
    assert warned(client, "2025-06-01", 2, county=OTHER) == []
