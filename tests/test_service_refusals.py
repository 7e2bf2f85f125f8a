"""What the service refuses rather than answer wrongly (helper-82's findings).

A registry moved away, replaced or damaged while the service runs stops decisions with
503 and a Chinese reason (never the unpublished working copy instead) until the file
is back; broken tables are listed root cause first, as ``jiuzhu check`` lists them; a
broken county refuses only its own households; an overflow names one limit.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import duckdb
import httpx
import pytest
from fastapi.testclient import TestClient

from compiler.registry_publish import publish
from tests.tables_fixture import COUNTY
from tests.test_overflow import TOP, overflow_province
from tests.test_overflow import household as overflow_household
from tests.test_service import (
    COUNTY_HEADER,
    OTHER,
    build_tables,
    household,
    make_client,
    publish_two_versions,
)
from tests.workbooks import write_csv_folder

ROOT = Path(__file__).resolve().parents[1]
AS_OF = "2025-08-01"
DRAFT = [COUNTY_HEADER, ["dibao_standard", "1700", "2025-01-23", None, "草稿"]]


def published_with_a_draft(root: Path) -> tuple[Path, Path]:
    """330106@1 and @2 published (1,400 a month from 2025-07-01), then a draft of
    1,700 left unpublished in the county workbook."""
    tables = build_tables(root)
    registry = root / "registry" / "jiuzhu-registry.duckdb"
    publish_two_versions(tables, registry)
    build_tables(root, county={"标准参数": DRAFT})
    return tables, registry


def decision_body() -> dict:
    return {"as_of": AS_OF, "households": [household("H1", "12000")]}


def version_and_standard(answer: httpx.Response) -> tuple[str, str]:
    assert answer.status_code == 200, answer.text
    decision = answer.json()["decisions"][0]
    return decision["version"], decision["dibao_standard"]


def refused_with(answer: httpx.Response, code: str) -> dict:
    """The first error of a 503 answer, which must not carry a decision."""
    assert answer.status_code == 503, answer.text
    assert "decisions" not in answer.json()
    first = answer.json()["error"]
    assert first["code"] == code, answer.text
    assert not re.search(r"[A-Za-z]{2,} Error|Could not|IOException", answer.text)
    return first


# ---------------------------------------------------------------- a registry gone


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., str]]:
    """Starts ``jiuzhu serve --port 0`` on 127.0.0.1 with the options given."""
    servers: list[subprocess.Popen[str]] = []

    def start(*options: str) -> str:
        env = {k: v for k, v in os.environ.items() if k != "JIUZHU_REGISTRY"}
        server = subprocess.Popen(
            [sys.executable, "-m", "compiler.cli", "serve", "--port", "0", *options],
            cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        servers.append(server)
        assert server.stderr is not None
        line = server.stderr.readline()
        found = re.search(r"决策服务在 (http://127\.0\.0\.1:\d+) 上监听", line)
        assert found, line
        return found.group(1)

    yield start
    for server in servers:
        server.terminate()
        server.communicate(timeout=10)


def test_a_named_registry_moved_away_stops_decisions_until_it_is_back(tmp_path, serve):
    """It answered 200 from the unpublished draft, 「工作副本」, and /v1/health said ok."""
    tables, registry = published_with_a_draft(tmp_path)
    address = serve("--tables", str(tables), "--registry", str(registry))
    decide = f"{address}/v1/decisions"
    assert version_and_standard(
        httpx.post(decide, json=decision_body(), timeout=120)
    ) == ("330106@2", "1400.00")

    away = tmp_path / "moved"
    away.mkdir()
    moved = [path.rename(away / path.name) for path in registry.parent.iterdir()]
    first = refused_with(httpx.post(decide, json=decision_body(), timeout=120), "E705")
    assert f"版本登记簿「{registry}」不存在" in first["message"]
    assert "不会改用未发布的工作副本" in first["message"]
    assert "放回原处" in first["hint"] and "--registry" in first["hint"]
    refused_with(httpx.get(f"{address}/v1/health", timeout=60), "E705")
    refused_with(httpx.get(f"{address}/v1/counties", timeout=60), "E705")

    for path in moved:
        path.rename(registry.parent / path.name)
    assert version_and_standard(
        httpx.post(decide, json=decision_body(), timeout=120)
    ) == ("330106@2", "1400.00")
    assert httpx.get(f"{address}/v1/health", timeout=60).json()["status"] == "ok"


def _empty_duckdb(path: Path, root: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE notes (x INTEGER)")
    con.close()


def _older_backup(path: Path, root: Path) -> None:
    """A registry holding 330106@1 only, as a backup taken before @2 was."""
    publish(
        root / "tables", COUNTY, date(2025, 1, 1), "备份", "王五", 0, path, analyse=None
    )


def _another_registry(path: Path, root: Path) -> None:
    publish(
        root / "tables", OTHER, date(2025, 1, 1), "别处", "王五", 0, path, analyse=None
    )


REPLACEMENTS = {
    "removed": (lambda path, root: None, "E705", "已被移走、改名或删除"),
    "empty-duckdb": (_empty_duckdb, "E706", "没有版本记录表的 DuckDB 数据库"),
    "text": (lambda path, root: path.write_text("hello"), "E706", "不是版本登记簿文件"),
    "older-backup": (_older_backup, "E705", "没有本服务读到过的 330106 第 2 版（现在最新为第 1 版）"),
    "another-registry": (_another_registry, "E705", "第 2 版（现在没有该县的版本）"),
    "cut-short": (
        lambda path, root: path.write_bytes(root.joinpath("saved").read_bytes()[:100_000]),
        "E703",
        "版本登记簿文件已损坏",
    ),
}  # fmt: skip


@pytest.mark.parametrize(
    ("replace", "code", "said"), REPLACEMENTS.values(), ids=REPLACEMENTS.keys()
)
def test_a_registry_replaced_while_serving_is_refused_until_restored(
    tmp_path, replace, code, said
):
    """The registry is the default one, not named: the service has seen it, so it
    may not turn into the working copy either."""
    tables, registry = published_with_a_draft(tmp_path)
    saved = tmp_path / "saved"
    shutil.copyfile(registry, saved)
    with make_client(tables, registry) as client:
        answer = client.post("/v1/decisions", json=decision_body())
        assert version_and_standard(answer) == ("330106@2", "1400.00")

        registry.unlink()
        replace(registry, tmp_path)
        first = refused_with(client.post("/v1/decisions", json=decision_body()), code)
        assert said in first["message"] + (first["found"] or "")
        refused_with(client.get("/v1/health"), code)
        refused_with(client.get("/v1/counties"), code)
        refused_with(client.get(f"/v1/counties/{COUNTY}/versions"), code)

        registry.unlink(missing_ok=True)
        shutil.copyfile(saved, registry)
        answer = client.post("/v1/decisions", json=decision_body())
        assert version_and_standard(answer) == ("330106@2", "1400.00")
        assert client.get("/v1/health").status_code == 200


def test_a_damaged_registry_is_said_in_chinese_with_the_backup_hint(tmp_path):
    tables, registry = published_with_a_draft(tmp_path)
    registry.write_bytes(registry.read_bytes()[:100_000])
    with make_client(tables, registry) as client:
        first = refused_with(client.post("/v1/decisions", json=decision_body()), "E703")
    assert first["message"].startswith("版本登记簿文件已损坏")
    assert "被截断" in first["found"] and "从备份恢复" in first["hint"]
    assert "--registry" not in first["hint"]


def test_a_registry_published_to_after_start_is_held_to_stay(tmp_path):
    """No registry when the service started (working copy); once one is published
    and seen, removing it does not quietly bring the working copy back."""
    tables = build_tables(tmp_path)
    registry = tmp_path / "registry" / "jiuzhu-registry.duckdb"
    with make_client(tables, registry) as client:
        answer = client.post("/v1/decisions", json=decision_body())
        assert version_and_standard(answer) == ("工作副本", "1301.00")
        publish_two_versions(tables, registry)
        answer = client.post("/v1/decisions", json=decision_body())
        assert version_and_standard(answer) == ("330106@2", "1400.00")
        registry.unlink()
        refused_with(client.post("/v1/decisions", json=decision_body()), "E705")


# ---------------------------------------------------------------- broken tables


def test_a_broken_province_csv_is_listed_first_as_check_lists_it(tmp_path):
    """An unclosed quote: 503 listed the names it left undefined, not the quote."""
    tables = build_tables(tmp_path)
    with (tables / "province" / "标准参数.csv").open("a", encoding="utf-8") as sheet:
        sheet.write('"broken,\n')
    with make_client(tables, tmp_path / "registry.duckdb") as client:
        answer = client.post("/v1/decisions", json=decision_body())
        counted = client.get("/v1/counties").json()["table_errors"]
    assert answer.status_code == 503
    errors = answer.json()["errors"]
    first = errors[0]
    assert first["code"] == "E002" and first["location"].endswith("标准参数.csv")
    assert "引号没有配对" in first["message"]
    assert [e["code"] for e in errors[:2]] == ["E002", "E209"]  # the header it breaks
    assert len(errors) == counted


def test_a_broken_county_refuses_only_its_own_households(tmp_path):
    """docs/service.md said decisions are refused while table_errors is not 0."""
    tables = build_tables(tmp_path)
    broken = [COUNTY_HEADER, ["dibao_standard", "一千三", "2025-01-01", None, "x"]]
    write_csv_folder(tables / "counties" / f"{OTHER}-拱墅区", {"标准参数": broken})
    with make_client(tables, tmp_path / "registry.duckdb") as client:
        assert client.get("/v1/counties").json()["table_errors"] > 0
        answer = client.post("/v1/decisions", json=decision_body())
        assert version_and_standard(answer) == ("工作副本", "1301.00")
        other = {"as_of": AS_OF, "households": [household("H2", "12000", OTHER)]}
        answer = client.post("/v1/decisions", json=other)
    assert answer.status_code == 503
    assert f"{OTHER}-拱墅区" in answer.json()["error"]["location"]


# ---------------------------------------------------------------- an overflow


@pytest.fixture(scope="module")
def overflowing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tables = build_tables(tmp_path_factory.mktemp("limits"), overflow_province())
    with make_client(tables, tables.parent / "r.duckdb") as client:
        yield client


def test_an_overflow_names_one_limit_in_its_message_and_expected(overflowing):
    """The message said 「金额合计超过 10¹⁵ 元」, its expected 「±10¹⁶」."""
    huge = overflow_household(TOP, TOP)
    answer = overflowing.post(
        "/v1/decisions", json={"as_of": AS_OF, "households": [huge]}
    )
    assert answer.status_code == 422
    first = answer.json()["error"]
    assert first["code"] == "E605" and first["path"] == "$.households[0]"
    assert "可计算上限 10¹⁶ 元" in first["message"] and "10¹⁶" in first["expected"]
    assert "10¹⁵ 元以上" in first["message"] and "超过 10¹⁵" not in first["message"]


def test_amounts_adding_up_past_a_tenth_of_the_limit_are_decided(overflowing):
    """7.2×10¹⁵ yuan in all: no computed value reaches 10¹⁶, so no E605."""
    wage = "1800000000000000.00"
    rich = overflow_household(wage, wage, wage, wage)
    answer = overflowing.post(
        "/v1/decisions", json={"as_of": AS_OF, "households": [rich]}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["decisions"][0]["group"] == "none"
