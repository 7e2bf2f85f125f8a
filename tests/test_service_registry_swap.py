"""A registry swapped for another whose counties all have newer versions (helper-100).

The service remembered each county's latest version (number, hash) and accepted any
registry whose latest number was at least as high: another registry with more
versions of every county decided from that registry's content without a word. A
registry only grows, so the versions the service read must still be there, unchanged.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from compiler.registry import Registry
from compiler.registry_publish import publish
from tests.tables_fixture import COUNTY
from tests.test_service import build_tables, make_client, publish_two_versions
from tests.test_service_refusals import (
    decision_body,
    published_with_a_draft,
    refused_with,
    version_and_standard,
)


def three_versions_elsewhere(root: Path) -> Path:
    """Another registry, of another tables folder: 330106@1, @2 and @3."""
    tables = build_tables(root)
    registry = root / "registry" / "jiuzhu-registry.duckdb"
    publish_two_versions(tables, registry)
    publish(tables, COUNTY, date(2025, 7, 15), "复核", "王五", 2, registry,
            analyse=None, allow_unchanged=True)
    return registry


def test_a_registry_with_newer_versions_of_every_county_is_refused(tmp_path: Path) -> None:
    elsewhere = three_versions_elsewhere(tmp_path / "elsewhere")
    tables, registry = published_with_a_draft(tmp_path / "here")
    saved = tmp_path / "saved"
    shutil.copyfile(registry, saved)
    assert Registry(elsewhere).heads()[COUNTY][0] == 3  # newer than the 2 read here
    with make_client(tables, registry) as client:
        answer = client.post("/v1/decisions", json=decision_body())
        assert version_and_standard(answer) == ("330106@2", "1400.00")

        registry.unlink()
        shutil.copyfile(elsewhere, registry)
        first = refused_with(client.post("/v1/decisions", json=decision_body()), "E705")
        assert "版本登记簿中已没有本服务读到过的 330106 第 2 版" in first["message"]
        assert "第 2 版的内容与此前读到的不同（哈希不符），最新为第 3 版" in first["message"]
        assert "可能已被替换为另一份登记簿" in first["message"]
        refused_with(client.get("/v1/health"), "E705")

        registry.unlink()
        shutil.copyfile(saved, registry)
        answer = client.post("/v1/decisions", json=decision_body())
        assert version_and_standard(answer) == ("330106@2", "1400.00")


def test_a_version_published_while_serving_is_no_swap(tmp_path: Path) -> None:
    tables, registry = published_with_a_draft(tmp_path)
    with make_client(tables, registry) as client:
        answer = client.post("/v1/decisions", json=decision_body())
        assert version_and_standard(answer) == ("330106@2", "1400.00")
        publish(tables, COUNTY, date(2025, 7, 20), "草稿发布", "张三", 2, registry,
                analyse=None)
        answer = client.post("/v1/decisions", json=decision_body())
        assert version_and_standard(answer) == ("330106@3", "1700.00")
        assert client.get("/v1/health").json()["status"] == "ok"
