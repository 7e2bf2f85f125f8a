"""The HTTP service: every route, decisions and the version each one used.

Each test builds a small tables folder in tmp_path (tests/tables_fixture.py's province
and county 330106, plus county 330108 with no standards of its own) and, where versions
matter, a registry with two published versions of 330106. The error table is in
test_service_errors.py, the property-based test in test_service_fuzz.py.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from fastapi.testclient import TestClient

from compiler.registry_publish import publish
from compiler.service import Settings, create_app
from compiler.service_decide import Evaluator
from compiler.service_projects import ProjectCache
from compiler.service_request import DecisionRequest
from tests.tables_fixture import COUNTY, county_sheets, province_sheets, write_tables
from tests.workbooks import write_csv_folder

OTHER = "330108"
COUNTY_HEADER = ["标识", "值", "生效日期", "失效日期", "来源"]


def build_tables(
    root: Path, province: dict | None = None, county: dict | None = None
) -> Path:
    """The fixture's province and 330106, and 330108 that keeps the province's values."""
    tables = write_tables(root, province or province_sheets(), county)
    write_csv_folder(
        tables / "counties" / f"{OTHER}-拱墅区", {"标准参数": [COUNTY_HEADER]}
    )
    return tables


def household(ident: str, wage: str, county: str = COUNTY, money: str = "100") -> dict:
    """A one-member household with the given yearly wage."""
    return {
        "household_id": ident,
        "county_code": county,
        "assets": {"money": money},
        "members": [
            {"person_id": "P1", "birth_date": "1980-01-01", "income": {"wage": wage}}
        ],
    }


def make_client(tables: Path, registry: Path, **limits: Any) -> TestClient:
    settings = Settings(tables=tables, registry=registry, warm_on_start=False, **limits)
    return TestClient(create_app(settings))


@pytest.fixture
def tables(tmp_path: Path) -> Path:
    return build_tables(tmp_path)


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return tmp_path / "registry" / "jiuzhu-registry.duckdb"


@pytest.fixture
def client(tables: Path, registry: Path) -> Iterator[TestClient]:
    with make_client(tables, registry) as test_client:
        yield test_client


def pinned_answer(client: TestClient, as_of: str, number: int, county: str = COUNTY) -> dict:
    """The 200 answer for one household of ``county`` with 330106 pinned to ``number``."""
    body = {
        "as_of": as_of,
        "households": [household("H1", "12000", county)],
        "versions": {COUNTY: number},
    }
    response = client.post("/v1/decisions", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def publish_two_versions(tables: Path, registry: Path) -> None:
    """330106@1 from 2025-01-01 (1,301 a month); @2 from 2025-07-01 (1,400)."""
    publish(
        tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry, analyse=None
    )
    rows = county_sheets()["标准参数"][1]
    build_tables(
        tables.parent,
        county={
            "标准参数": [
                COUNTY_HEADER,
                [*rows[:3], "2025-06-30", rows[4]],
                ["dibao_standard", "1400", "2025-07-01", None, "杭民发〔2025〕1号"],
            ]
        },
    )
    publish(
        tables,
        COUNTY,
        date(2025, 7, 1),
        "提高低保标准",
        "李四",
        1,
        registry,
        analyse=None,
    )


def decide(client: TestClient, households: list[dict], **body: Any) -> dict:
    response = client.post("/v1/decisions", json={"households": households, **body})
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------- POST /v1/decisions


def test_a_household_is_decided_with_its_trace_and_the_working_copy_named(client):
    body = decide(client, [household("H1", "12000")], as_of="2025-08-01")
    decision = body["decisions"][0]
    assert decision["group"] == "dibao"
    assert decision["income_per_capita"] == "1000.00"
    assert (decision["dibao_standard"], decision["marginal_line"]) == (
        "1301.00",
        "1951.50",
    )
    assert decision["version"] == "工作副本" and decision["as_of"] == "2025-08-01"
    assert body["versions"] == {COUNTY: "工作副本"} and body["working_copy"] == [COUNTY]
    step = decision["trace"][0]
    assert (step["table"], step["rule"], step["outcome"]) == (
        "household_group",
        "dibao",
        "dibao",
    )
    assert (
        step["cell"].endswith("province:household_group!A6")
        and step["section"] == "三(一)"
    )


def test_a_misspelt_household_key_is_warned_about_at_its_path(client):
    typo = household("H1", "12000")
    typo["members"][0]["nickname"] = "阿明"
    typo["asets"] = "有存款"  # a note under a near miss: warned (a group's keys in it are E603)
    body = decide(client, [household("H0", "12000"), typo], as_of="2025-08-01")
    found = {w["path"]: w for w in body["warnings"]}
    assert set(found) == {"$.households[1].asets", "$.households[1].members[0].nickname"}
    note = found["$.households[1].asets"]
    assert note["code"] == "W601" and "不是已声明的字段" in note["message"]
    assert "「assets」" in note["hint"]


def test_an_unknown_key_among_amounts_refuses_the_request(client):
    """``income.wages`` was a W601 and the wage was read as 0: an unknown key in a
    group of amounts only is E603 at its path."""
    typo = household("H1", "12000")
    typo["members"][0]["income"] = {"wages": "99999"}
    response = client.post("/v1/decisions", json={"as_of": "2025-08-01", "households": [typo]})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "E603" and error["path"] == "$.households[0].members[0].income.wages"
    assert "是否想写「wage」" in error["hint"]


def test_a_request_of_declared_keys_has_no_warnings(client):
    assert decide(client, [household("H1", "12000")], as_of="2025-08-01")["warnings"] == []


def test_decisions_come_back_in_the_households_order(client):
    households = [
        household("Z9", "30000"),  # 2,500 a month: above the marginal line
        household("A1", "16200"),  # 1,350: between the dibao standard and the line
        household("M5", "6000", county=OTHER),  # 500 against the province's 1,149
        household("B2", "12000"),
    ]
    body = decide(client, households, as_of="2025-08-01")
    found = [
        (d["household_id"], d["county_code"], d["group"]) for d in body["decisions"]
    ]
    assert found == [
        ("Z9", COUNTY, "none"),
        ("A1", COUNTY, "dibao_marginal"),
        ("M5", OTHER, "dibao"),
        ("B2", COUNTY, "dibao"),
    ]
    assert body["decisions"][2]["dibao_standard"] == "1149.00"


def test_as_of_defaults_to_today(client):
    body = decide(client, [household("H1", "12000")])
    assert body["as_of"] == body["decisions"][0]["as_of"] == date.today().isoformat()


def test_an_empty_list_of_households_gets_an_empty_list_of_decisions(client):
    assert decide(client, [], as_of="2025-08-01")["decisions"] == []


def test_each_date_uses_the_version_in_force_on_it(client, tables, registry):
    publish_two_versions(tables, registry)
    data = [household("H1", "16200")]  # 1,350: marginal under 1,301, dibao under 1,400
    found = {}
    for day in ("2024-12-01", "2025-05-01", "2025-08-01"):
        decision = decide(client, data, as_of=day)["decisions"][0]
        found[day] = (
            decision["version"],
            decision["dibao_standard"],
            decision["group"],
        )
    assert found["2024-12-01"][0] == "工作副本"
    assert found["2025-05-01"] == ("330106@1", "1301.00", "dibao_marginal")
    assert found["2025-08-01"] == ("330106@2", "1400.00", "dibao")


def test_a_pinned_version_is_used_instead_of_the_one_in_force(client, tables, registry):
    publish_two_versions(tables, registry)
    body = decide(
        client, [household("H1", "16200")], as_of="2025-08-01", versions={COUNTY: 1}
    )
    decision = body["decisions"][0]
    assert (decision["version"], decision["dibao_standard"]) == ("330106@1", "1301.00")
    assert body["versions"] == {COUNTY: "330106@1"} and body["working_copy"] == []


def test_a_publish_is_seen_by_the_next_request(client, tables, registry):
    before = decide(client, [household("H1", "12000")], as_of="2025-08-01")
    publish(
        tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry, analyse=None
    )
    after = decide(client, [household("H1", "12000")], as_of="2025-08-01")
    assert before["decisions"][0]["version"] == "工作副本"
    assert after["decisions"][0]["version"] == "330106@1"


def test_concurrent_requests_each_get_their_own_answer(tables, registry):
    wages = ["12000", "16200", "30000", "6000", "12000", "16200"]
    expected = ["dibao", "dibao_marginal", "none", "dibao", "dibao", "dibao_marginal"]
    answers: dict[int, Any] = {}
    with make_client(tables, registry, workers=1) as client:

        def ask(i: int) -> None:  # every request uses the same household_id
            response = client.post(
                "/v1/decisions",
                json={"as_of": "2025-08-01", "households": [household("H1", wages[i])]},
            )
            answers[i] = response.json()["decisions"][0]

        threads = [threading.Thread(target=ask, args=(i,)) for i in range(len(wages))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert [answers[i]["group"] for i in range(len(wages))] == expected
    assert {answers[i]["household_id"] for i in answers} == {"H1"}


def test_one_worker_switches_between_requests_of_one_and_of_several_programs(tables, registry):
    """A worker's connection is reused: after a request decided by one program (its
    decisions a table) a request needing two (a view of their union) was a 500, and
    back again (helper-41: 48 of 50 mixed requests failed)."""
    publish_two_versions(tables, registry)  # 330106 by its version, 330108 by the working copy
    alone = [household("H1", "12000")]
    mixed = [household("H1", "12000"), household("H2", "6000", county=OTHER)]
    with make_client(tables, registry, workers=1) as client:
        answers = [
            decide(client, households, as_of="2025-08-01")
            for households in (alone, mixed, alone, mixed, mixed, alone)
        ]
    assert [[d["version"] for d in a["decisions"]] for a in answers[:2]] == [
        ["330106@2"],
        ["330106@2", "工作副本"],
    ]
    assert [len(a["decisions"]) for a in answers] == [1, 2, 1, 2, 2, 1]


# ---------------------------------------------------------------- deciding together


@pytest.fixture
def evaluator_setup(tables: Path, registry: Path):  # type: ignore[no-untyped-def]
    cache = ProjectCache(
        Settings(tables=tables, registry=registry, warm_on_start=False)
    )
    return Evaluator(), cache.get(date(2025, 8, 1), {})


def request(*households: dict) -> DecisionRequest:
    return DecisionRequest(date(2025, 8, 1), list(households), {})


def test_requests_decided_together_get_what_each_would_get_alone(evaluator_setup):
    evaluator, warm = evaluator_setup
    requests = [
        request(household("H1", "12000")),
        request(household("H1", "30000"), household("H2", "6000", county=OTHER)),
    ]
    together = evaluator.decide_requests(warm, date(2025, 8, 1), requests)
    alone = [
        evaluator.decide_requests(warm, date(2025, 8, 1), [r])[0] for r in requests
    ]
    assert together == alone
    assert [[d["household_id"] for d in part] for part in together] == [
        ["H1"],
        ["H1", "H2"],
    ]


def test_a_bad_request_decided_with_others_fails_alone(evaluator_setup):
    evaluator, warm = evaluator_setup
    bad = request(household("H1", "12000"), household("H2", "many"))
    requests = [
        request(household("H1", "12000")),
        bad,
        request(household("H3", "30000")),
    ]
    first, failed, last = evaluator.decide_requests(warm, date(2025, 8, 1), requests)
    assert first[0]["group"] == "dibao" and last[0]["group"] == "none"
    assert failed.status == 422
    assert [d.location.cell for d in failed.diagnostics] == [
        "$.households[1].members[0].income.wage"
    ]


# ---------------------------------------------------------------- the other routes


def test_counties_lists_each_county_with_the_version_in_force(client, tables, registry):
    publish_two_versions(tables, registry)
    body = client.get("/v1/counties", params={"as_of": "2025-05-01"}).json()
    assert body["as_of"] == "2025-05-01"
    assert [
        (c["county_code"], c["county_name"], c["version"], c["working_copy"])
        for c in body["counties"]
    ] == [(COUNTY, "西湖区", "330106@1", False), (OTHER, "拱墅区", "工作副本", True)]


def test_versions_lists_a_countys_published_versions(client, tables, registry):
    publish_two_versions(tables, registry)
    body = client.get(f"/v1/counties/{COUNTY}/versions").json()
    assert body["county_name"] == "西湖区" and body["in_force_today"] == "330106@2"
    found = [
        (v["number"], v["effective_from"], v["note"], v["in_force_today"])
        for v in body["versions"]
    ]
    assert found == [
        (1, "2025-01-01", "首次发布", False),
        (2, "2025-07-01", "提高低保标准", True),
    ]


def test_a_county_without_published_versions_has_an_empty_history(client):
    body = client.get(f"/v1/counties/{OTHER}/versions").json()
    assert (body["versions"], body["in_force_today"]) == ([], "工作副本")


def test_a_version_gives_its_canonical_tables(client, tables, registry):
    publish_two_versions(tables, registry)
    body = client.get(f"/v1/counties/{COUNTY}/versions/2").json()
    assert (body["version"], body["number"], body["author"]) == ("330106@2", 2, "李四")
    assert "dibao_standard" in body["canonical"] and "1400" in body["canonical"]
    assert isinstance(body["validation"], list)


def test_a_version_edited_after_publishing_is_refused(client, tables, registry):
    publish_two_versions(tables, registry)
    con = duckdb.connect(str(registry))
    con.execute(
        "UPDATE jz_registry_versions SET canonical = replace(canonical, '1400', '1999')"
        " WHERE number = 2"
    )
    con.close()
    response = client.get(f"/v1/counties/{COUNTY}/versions/2")
    assert response.status_code == 503 and "E703" in response.text
    response = client.post(
        "/v1/decisions",
        json={"households": [household("H1", "16200")], "as_of": "2025-08-01"},
    )
    assert response.status_code == 503 and "330106@2" in response.text
    assert "1999" not in response.text


def test_health_reports_the_limits(client):
    body = client.get("/v1/health").json()
    assert body["status"] == "ok" and body["registry_module"] is True
    assert body["limits"] == {
        "max_body_bytes": 20 * 1024 * 1024,
        "max_households": 10_000,
    }


def test_openapi_describes_every_route_and_the_request_body(client):
    described = client.get("/v1/openapi.json").json()
    assert set(described["paths"]) == {
        "/v1/decisions",
        "/v1/counties",
        "/v1/counties/{code}/versions",
        "/v1/counties/{code}/versions/{n}",
        "/v1/health",
    }
    body = described["paths"]["/v1/decisions"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["properties"]["households"]
    assert "Household" in described["components"]["schemas"]
    assert client.get("/v1/docs").status_code == 200


# ---------------------------------------------------------------- logging


def test_one_log_line_per_request_without_personal_data(client, caplog):
    data = household("330106199001011234", "12000")
    data["members"][0] |= {"person_id": "330106198001011111", "name": "王小明"}
    with caplog.at_level(logging.INFO, logger="jiuzhu"):
        decide(client, [data], as_of="2025-08-01")
        client.get("/v1/counties/330106199001011234/versions")
    lines = [r.getMessage() for r in caplog.records if r.name == "jiuzhu"]
    requests = [line for line in lines if line.startswith(("POST ", "GET "))]
    assert requests[0].startswith("POST /v1/decisions 200 households=1 ")
    assert requests[1].startswith("GET /v1/counties/*/versions 422 households=- ")
    assert requests[0].endswith(" ms") and len(requests) == 2
    text = "\n".join(lines)
    assert "330106199001011234" not in text and "330106198001011111" not in text
    assert "王小明" not in text


@pytest.mark.parametrize("number", ["1.0", "1e0", "1.00E+0"])
def test_a_pinned_version_written_as_a_whole_decimal_is_that_version(
    client, tables, registry, number
):
    """JSON does not tell 1 from 1.0: the pin is version 1, not a 500 (helper-36)."""
    publish_two_versions(tables, registry)
    text = json.dumps(
        {"as_of": "2025-08-01", "households": [household("H1", "16200")],
         "versions": {COUNTY: "PIN"}}
    ).replace('"PIN"', number)
    response = client.post(
        "/v1/decisions", content=text, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["decisions"][0]["version"] == "330106@1"


def test_the_decision_dates_year_without_holidays_is_warned_once(client, tables, registry):
    """With a version published, the working copy's 日历 and the version's both said
    W403 for 2027, at two spellings of one place (helper-58): said once."""
    publish_two_versions(tables, registry)
    body = decide(client, [household("H1", "12000")], as_of="2027-03-05")
    said = [w for w in body["warnings"] if w["code"] == "W403"]
    assert len(said) == 1, said
    assert "2027" in said[0]["message"]


def test_an_event_counted_into_a_year_without_holidays_is_warned_at_its_path(client):
    """The fixture's calendar lists 2025 only: a count from late November 2025 may run
    into 2026, counted Monday to Friday, and the answer's warnings say so at the event
    (helper-36). An event after the decision date raises no alert yet: not counted."""
    events = [
        {"type": "unemployment_registration", "date": "2025-03-03", "person_id": "P1"},
        {"type": "unemployment_registration", "date": "2025-11-20", "person_id": "P1"},
        {"type": "unemployment_registration", "date": "2026-01-05", "person_id": "P1"},
    ]
    body = decide(client, [{**household("H1", "12000"), "events": events}], as_of="2025-12-31")
    (warning,) = [w for w in body["warnings"] if w["code"] == "W403"]
    assert warning["path"] == "$.households[0].events[1].date"
    assert "2026 年的节假日安排" in warning["message"] and "1 个事件" in warning["message"]


def test_the_test_client_runs_on_httpx2_without_a_deprecation_warning() -> None:
    """starlette's TestClient warned (StarletteDeprecationWarning) at every run of
    these tests while only httpx was installed; the test extra installs httpx2. A
    fresh interpreter, since this one imported the client already."""
    import subprocess
    import sys

    run = subprocess.run(
        [sys.executable, "-W", "error", "-c", "import fastapi.testclient, httpx2"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert run.returncode == 0, run.stderr
