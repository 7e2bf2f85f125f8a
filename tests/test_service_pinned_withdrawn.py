"""A pinned version that was withdrawn is warned of (helper-119).

With 330106@2 withdrawn by @3, ``{"versions": {"330106": 2}}`` decided by @2 with
``warnings: []``: nothing told the caller the content had been taken back. The answer
now carries W704 at the pin's path, naming the withdrawal and its dates.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from compiler.registry_publish import withdraw
from compiler.service_projects import standing_withdrawal
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
    """330106@1 from 2025-01-01, @2 from 2025-07-01, @3 withdrawing @2 from then."""
    root = tmp_path_factory.mktemp("withdrawn")
    tables = build_tables(root)
    registry = root / "registry" / "jiuzhu-registry.duckdb"
    publish_two_versions(tables, registry)
    withdraw(registry, COUNTY, 2, "标准有误", "王五", 2)
    with make_client(tables, registry) as client:
        yield client




def codes(body: dict) -> list[str]:
    return [w["code"] for w in body["warnings"]]


def test_a_withdrawn_version_pinned_is_warned_of(client):
    body = pinned_answer(client, "2025-08-01", 2)
    assert [d["version"] for d in body["decisions"]] == [f"{COUNTY}@2"]
    (warning,) = [w for w in body["warnings"] if w["code"] == "W704"]
    assert warning["path"] == f"$.versions.{COUNTY}"
    assert warning["found"].startswith(f"{COUNTY}@2（已于 ")
    assert f"被 {COUNTY}@3 撤回" in warning["found"]
    assert "撤回自 2025-07-01 起生效" in warning["message"]
    assert "不是决策日 2025-08-01 实际适用的决策" in warning["message"]
    assert f"去掉 versions 中的 {COUNTY}" in warning["hint"]


def test_a_withdrawn_version_not_yet_in_force_is_warned_of_twice(client):
    body = pinned_answer(client, "2025-06-01", 2)
    assert codes(body) == ["W703", "W704"]
    assert "撤回在决策日 2025-06-01 尚未生效" in body["warnings"][1]["message"]


@pytest.mark.parametrize("number", [1, 3], ids=["restored", "the_withdrawal"])
def test_a_version_not_withdrawn_is_not(client, number):
    assert "W704" not in codes(pinned_answer(client, "2025-08-01", number))


def test_a_pin_for_a_county_without_households_is_not(client):
    assert "W704" not in codes(pinned_answer(client, "2025-08-01", 2, county=OTHER))


def _version(number: int, withdraws: int | None = None) -> SimpleNamespace:
    kind = "publish" if withdraws is None else "withdraw"
    return SimpleNamespace(number=number, kind=kind, withdraws=withdraws)


def test_a_withdrawn_withdrawal_leaves_the_version_standing():
    versions = [_version(1), _version(2), _version(3, 2), _version(4, 3)]
    assert standing_withdrawal(versions, 2) is None  # @4 restored @2's content
    assert standing_withdrawal(versions, 3).number == 4
    assert standing_withdrawal([*versions, _version(5, 2)], 2).number == 5
