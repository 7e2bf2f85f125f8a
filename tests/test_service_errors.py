"""Every failing route of the service answers with the one error body (STYLE.md, habit 11).

``CASES`` is the table of bad requests: each row sends one request and checks the
status, the code, the JSON path (or URL parameter) and a phrase of the message. The
tests after it cover what needs a broken server rather than a bad request.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from compiler import service, service_decide, service_errors
from compiler.service import Settings
from compiler.service_decide import Evaluator
from compiler.service_projects import ProjectCache
from compiler.service_request import DecisionRequest
from tests.tables_fixture import COUNTY, province_sheets
from tests.test_household_bounds import SINCE
from tests.test_overflow import TOP, overflow_province
from tests.test_overflow import household as overflow_household
from tests.test_service import (
    build_tables,
    household,
    make_client,
    publish_two_versions,
)

KEYS = {"code", "message", "path", "found", "expected", "hint", "location"}
MAX_HOUSEHOLDS, MAX_BODY = 5, 256 * 1024
OVERLAP = [  # a UNIQUE table whose rules overlap below 10 yuan of savings
    ["overlap", "重叠检查", "UNIQUE", "层级=家庭"],
    ["规则", "输入", "输出", "注释"],
    ["名称", "assets.money", "overlap_flag", "依据"],
    ["类型", "money", "boolean", None],
    ["under_ten", "< 10", "是", "测试"],
    ["under_twenty", "< 20", "是", "测试"],
]


def body(households: list | None = None, **fields: Any) -> dict:
    return {
        "as_of": "2025-08-01",
        "households": households or [household("H1", "12000")],
        **fields,
    }


def changed(path: str, value: Any) -> dict:
    """The default household with the value at a dotted path (``members.0.income.wage``)
    replaced, or removed when ``value`` is ``...``."""
    data: Any = household("H1", "12000")
    *parents, leaf = path.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is ...:
        del node[leaf]
    else:
        node[leaf] = value
    return data


POST, GET = "POST", "GET"
DECISIONS = "/v1/decisions"
CASES = [
    # id, method, url, body (bytes are sent as they are), status, code, path, phrase
    (
        "not-json",
        POST,
        DECISIONS,
        b'{"households": [',
        400,
        "E608",
        "$",
        "不是合法的 JSON",
    ),
    (
        "not-utf8",
        POST,
        DECISIONS,
        b'{"households": ["\xff"]}',
        400,
        "E608",
        "$",
        "UTF-8",
    ),
    (
        "nan",
        POST,
        DECISIONS,
        b'{"households": [], "as_of": NaN}',
        400,
        "E608",
        "$",
        "NaN 不是 JSON 数值",
    ),
    (
        "repeated-key",
        POST,
        DECISIONS,
        b'{"households": [], "households": []}',
        400,
        "E608",
        "$",
        "重复出现",
    ),
    (
        "nested-too-deep",
        POST,
        DECISIONS,
        b'{"households": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}",
        400,
        "E608",
        "$",
        "JSON 嵌套过深",
    ),
    (
        "lone-surrogate",
        POST,
        DECISIONS,
        json.dumps(body([changed("household_id", "H\ud800")])).encode(),
        400,
        "E608",
        "$.households",
        "无法编码的字符",
    ),
    ("body-a-list", POST, DECISIONS, [1, 2], 422, "E608", "$", "应是 JSON 对象"),
    (
        "unknown-field",
        POST,
        DECISIONS,
        body(asof="2025-08-01"),
        422,
        "E608",
        "$.asof",
        "未知的字段「asof」",
    ),
    (
        "households-missing",
        POST,
        DECISIONS,
        {"as_of": "2025-08-01"},
        422,
        "E608",
        "$.households",
        "缺少 households",
    ),
    (
        "households-an-object",
        POST,
        DECISIONS,
        {"households": {"H1": {}}},
        422,
        "E608",
        "$.households",
        "家庭的列表",
    ),
    (
        "as_of-slashes",
        POST,
        DECISIONS,
        body(as_of="2025/8/1"),
        422,
        "E608",
        "$.as_of",
        "as_of 无法识别",
    ),
    (
        "as_of-impossible",
        POST,
        DECISIONS,
        body(as_of="2025-02-30"),
        422,
        "E608",
        "$.as_of",
        "as_of 是不存在的日期",  # said as such, not 无法识别 (helper-45)
    ),
    (
        "as_of-past-calendar",
        POST,
        DECISIONS,
        body(as_of="2041-01-01"),
        422,
        "E608",
        "$.as_of",
        "as_of 超出支持的范围：2041-01-01 不在 2015 至 2040 年之间",
    ),
    (
        "as_of-a-number",
        POST,
        DECISIONS,
        body(as_of=20250801),
        422,
        "E608",
        "$.as_of",
        "as_of 无法识别",
    ),
    (
        "versions-a-list",
        POST,
        DECISIONS,
        body(versions=[3]),
        422,
        "E608",
        "$.versions",
        "区划代码: 版本号",
    ),
    (
        "versions-short-code",
        POST,
        DECISIONS,
        body(versions={"33010": 1}),
        422,
        "E608",
        "$.versions.33010",
        "六位数字",
    ),
    (
        "versions-text-number",
        POST,
        DECISIONS,
        body(versions={COUNTY: "3"}),
        422,
        "E608",
        "$.versions.330106",
        "正整数",
    ),
    (
        "versions-number-too-large",
        POST,
        DECISIONS,
        body(versions={COUNTY: 2**40}),
        422,
        "E608",
        "$.versions.330106",
        "版本号过大",
    ),
    (
        "version-not-published",
        POST,
        DECISIONS,
        body(versions={COUNTY: 9}),
        422,
        "E704",
        "$.versions.330106",
        "330106@9 不存在",
    ),
    (
        "household-a-number",
        POST,
        DECISIONS,
        body([5]),
        422,
        "E603",
        "$.households[0]",
        "$.households[0] 的结构不对",  # the full path, not 「$ 的结构不对」 (helper-82)
    ),
    (
        "member-a-string",
        POST,
        DECISIONS,
        body([changed("members", ["x"])]),
        422,
        "E603",
        "$.households[0].members[0]",
        "$.households[0].members[0] 的结构不对",
    ),
    (
        "members-an-object",
        POST,
        DECISIONS,
        body([changed("members", {"P1": {}})]),
        422,
        "E603",
        "$.households[0].members",
        "$.households[0].members 的结构不对",
    ),
    (
        "wage-in-words",
        POST,
        DECISIONS,
        body([changed("members.0.income.wage", "一万")]),
        422,
        "E603",
        "$.households[0].members[0].income.wage",
        "类型不对",
    ),
    (
        "money-three-decimals",
        POST,
        DECISIONS,
        body([changed("assets.money", "100.123")]),
        422,
        "E603",
        "$.households[0].assets.money",
        "小数位数超过金额能准确保存的 2 位",
    ),
    (
        "money-exponent-text",
        POST,
        DECISIONS,
        body([changed("assets.money", "1e3")]),
        422,
        "E603",
        "$.households[0].assets.money",
        "类型不对",
    ),
    (
        "money-too-large-integer",
        POST,
        DECISIONS,
        body([changed("assets.money", 10**30)]),
        422,
        "E614",
        "$.households[0].assets.money",
        "数值过大",
    ),
    (
        "money-too-large-exponent",
        POST,
        DECISIONS,
        json.dumps(body([changed("assets.money", "@")]))
        .replace('"@"', "1e20")
        .encode(),
        422,
        "E614",
        "$.households[0].assets.money",
        "数值过大",
    ),
    (
        "money-too-large-decimal",
        POST,
        DECISIONS,
        json.dumps(body([changed("assets.money", "@")]))
        .replace('"@"', "99999999999999999999.99")
        .encode(),
        422,
        "E614",
        "$.households[0].assets.money",
        "数值过大",
    ),
    (  # normalize() overflowed: a 500 (helper-41)
        "money-exponent-past-decimals-limits",
        POST,
        DECISIONS,
        json.dumps(body([changed("assets.money", "@")]))
        .replace('"@"', "1e999999999")
        .encode(),
        422,
        "E614",
        "$.households[0].assets.money",
        "数值过大",
    ),
    (
        "money-5000-digits",
        POST,
        DECISIONS,
        json.dumps(body([changed("assets.money", "@")]))
        .replace('"@"', "1" + "0" * 5000)
        .encode(),
        422,
        "E614",
        "$.households[0].assets.money",
        "数值过大",
    ),
    (
        "household-id-a-number",
        POST,
        DECISIONS,
        body([changed("household_id", 123)]),
        422,
        "E603",
        "$.households[0].household_id",
        "类型不对",
    ),
    (
        "household-id-a-fraction",
        POST,
        DECISIONS,
        body([changed("household_id", 1.5)]),
        422,
        "E603",
        "$.households[0].household_id",
        "类型不对",
    ),
    (
        "household-id-nul",
        POST,
        DECISIONS,
        body([changed("household_id", "H\u0000")]),
        422,
        "E603",
        "$.households[0].household_id",
        "含有不可见的控制字符",
    ),
    (
        "household-id-too-long",
        POST,
        DECISIONS,
        body([changed("household_id", "H" * 100_000)]),
        422,
        "E603",
        "$.households[0].household_id",
        "过长（100000 个字符）",
    ),
    (
        "person-id-a-number",
        POST,
        DECISIONS,
        body([changed("members.0.person_id", 7)]),
        422,
        "E603",
        "$.households[0].members[0].person_id",
        "类型不对",
    ),
    (
        "event-person-id-a-fraction",
        POST,
        DECISIONS,
        body(
            [changed("events", [{"type": "x", "date": "2025-07-01", "person_id": 1.5}])]
        ),
        422,
        "E603",
        "$.households[0].events[0].person_id",
        "类型不对",
    ),
    (
        "birth-date-missing",
        POST,
        DECISIONS,
        body([changed("members.0.birth_date", ...)]),
        422,
        "E604",
        "$.households[0].members[0].birth_date",
        "缺少必填字段",
    ),
    (
        "money-negative",
        POST,
        DECISIONS,
        body([changed("assets.money", "-0.01")]),
        422,
        "E614",
        "$.households[0].assets.money",
        "超出允许范围",
    ),
    (
        "born-after-as-of",
        POST,
        DECISIONS,
        body([changed("members.0.birth_date", "2025-08-02")]),
        422,
        "E615",
        "$.households[0].members[0].birth_date",
        "晚于决策日期 2025-08-01",
    ),
    (
        "born-before-1900",
        POST,
        DECISIONS,
        body([changed("members.0.birth_date", "1899-12-31")]),
        422,
        "E614",
        "$.households[0].members[0].birth_date",
        "早于 1900-01-01",
    ),
    (
        "recognised-after-as-of",
        POST,
        DECISIONS,
        body([changed("current", {"since": "2025-08-02"})]),
        422,
        "E615",
        "$.households[0].current.since",
        "晚于决策日期 2025-08-01",
    ),
    (
        "members-empty",
        POST,
        DECISIONS,
        body([changed("members", [])]),
        422,
        "E604",
        "$.households[0].members",
        "家庭「H1」没有成员",
    ),
    (
        "members-absent",
        POST,
        DECISIONS,
        body([changed("members", ...)]),
        422,
        "E604",
        "$.households[0].members",
        "家庭「H1」没有成员",
    ),
    (
        "event-date-missing",
        POST,
        DECISIONS,
        body([changed("events", [{"type": "x", "person_id": "P1"}])]),
        422,
        "E604",
        "$.households[0].events[0].date",
        "缺少必填字段「事件日期」",
    ),
    (
        "household-id-missing",
        POST,
        DECISIONS,
        body([changed("household_id", ...)]),
        422,
        "E604",
        "$.households[0].household_id",
        "缺少必填字段",
    ),
    (
        "county-unknown",
        POST,
        DECISIONS,
        body([changed("county_code", "339999")]),
        422,
        "E606",
        "$.households[0].county_code",
        "未知的县（市、区）代码「339999」",
    ),
    (
        "county-four-digits",
        POST,
        DECISIONS,
        body([changed("county_code", "3301")]),
        422,
        "E603",
        "$.households[0].county_code",
        "不在允许范围",
    ),
    (
        "household-id-repeated",
        POST,
        DECISIONS,
        body([household("H1", "1"), household("H1", "2")]),
        422,
        "E603",
        "$.households[1].household_id",
        "重复出现",
    ),
    (
        "unique-rules-overlap",
        POST,
        DECISIONS,
        body([changed("assets.money", "5")]),
        422,
        "E601",
        "$.households[0]",
        "命中多条规则",
    ),
    (
        "too-many-households",
        POST,
        DECISIONS,
        body([household(f"H{i}", "1") for i in range(MAX_HOUSEHOLDS + 1)]),
        413,
        "E609",
        "$.households",
        "最多 5 户",
    ),
    (
        "body-too-large",
        POST,
        DECISIONS,
        b" " * (MAX_BODY + 1),
        413,
        "E609",
        "$",
        "请求内容过大",
    ),
    ("no-such-route", GET, "/v1/decision", None, 404, "E608", None, "接口不存在"),
    ("wrong-method", GET, DECISIONS, None, 405, "E608", None, "不支持此请求方法"),
    (
        "counties-as_of-word",
        GET,
        "/v1/counties?as_of=tomorrow",
        None,
        422,
        "E608",
        "query.as_of",
        "as_of 无法识别",
    ),
    (
        "county-code-short",
        GET,
        "/v1/counties/3301/versions",
        None,
        422,
        "E608",
        "url.code",
        "六位数字",
    ),
    (
        "county-unknown-history",
        GET,
        "/v1/counties/339999/versions",
        None,
        404,
        "E606",
        "url.code",
        "未知的县",
    ),
    (
        "version-number-a-word",
        GET,
        f"/v1/counties/{COUNTY}/versions/first",
        None,
        422,
        "E608",
        "url.n",
        "正整数",
    ),
    (
        "version-number-too-large",
        GET,
        f"/v1/counties/{COUNTY}/versions/99999999999999999999",
        None,
        422,
        "E608",
        "url.n",
        "版本号过大",
    ),
    (
        "version-number-in-full-width-digits",
        GET,
        f"/v1/counties/{COUNTY}/versions/\uff11",
        None,
        422,
        "E608",
        "url.n",
        "版本号应是正整数",
    ),
    (
        "as-of-in-the-query-of-a-post",
        POST,
        DECISIONS + "?as_of=2025-06-01",
        body(),
        422,
        "E608",
        "query.as_of",
        "不支持查询参数「as_of」",
    ),
    (
        "as_of-given-twice-to-counties",  # answered for the second date (helper-82)
        GET,
        "/v1/counties?as_of=2025-01-01&as_of=2025-02-01",
        None,
        400,
        "E608",
        "query.as_of",
        "查询参数「as_of」给了 2 次",
    ),
    (
        "unknown-query-parameter-of-counties",
        GET,
        "/v1/counties?date=2025-06-01",
        None,
        422,
        "E608",
        "query.date",
        "不支持查询参数「date」",
    ),
    (
        "version-number-zero",
        GET,
        f"/v1/counties/{COUNTY}/versions/0",
        None,
        422,
        "E608",
        "url.n",
        "版本号应是正整数",
    ),
    (
        "version-not-found",
        GET,
        f"/v1/counties/{COUNTY}/versions/7",
        None,
        404,
        "E704",
        "url.n",
        "330106@7 不存在（现有第 1 至第 2 版）",
    ),
]


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("service-errors")
    tables = build_tables(root, {**province_sheets(), "overlap": OVERLAP})
    registry = root / "registry.duckdb"
    publish_two_versions(tables, registry)
    # the working copy's fields are those the households are read with
    with (tables / "province" / "字段.csv").open("a", encoding="utf-8") as sheet:
        sheet.write(",".join(cell or "" for cell in SINCE) + "\n")
    with make_client(
        tables, registry, max_households=MAX_HOUSEHOLDS, max_body_bytes=MAX_BODY
    ) as test_client:
        yield test_client


def send(client: TestClient, method: str, url: str, data: Any) -> Any:
    if data is None:
        return client.request(method, url)
    if isinstance(data, bytes):
        return client.request(
            method, url, content=data, headers={"content-type": "application/json"}
        )
    return client.request(method, url, json=data)


def check_shape(answer: dict) -> None:
    assert set(answer) == {"error", "errors"}
    assert answer["error"] == answer["errors"][0]
    assert all(set(item) == KEYS for item in answer["errors"])


@pytest.mark.parametrize(
    ("method", "url", "data", "status", "code", "path", "phrase"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_a_bad_request_gets_the_error_body(
    client, method, url, data, status, code, path, phrase
):
    response = send(client, method, url, data)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    check_shape(answer)
    first = answer["error"]
    assert (first["code"], first["path"]) == (code, path)
    assert phrase in first["message"]
    assert "Traceback" not in response.text and 'File "' not in response.text


def test_every_problem_of_a_request_is_listed(client):
    households = [
        changed("members.0.income.wage", "x"),
        changed("members.0.birth_date", "1980"),
    ]
    households[1]["household_id"] = "H2"
    answer = client.post(DECISIONS, json=body(households, as_of="2025-08-01")).json()
    check_shape(answer)
    assert [(e["code"], e["path"], e["found"]) for e in answer["errors"]] == [
        ("E603", "$.households[0].members[0].income.wage", "x"),
        ("E603", "$.households[1].members[0].birth_date", "1980"),
    ]


def test_request_level_problems_are_listed_together(client):
    answer = client.post(DECISIONS, json={"as_of": "soon", "versions": 1}).json()
    assert [e["path"] for e in answer["errors"]] == [
        "$.households",
        "$.as_of",
        "$.versions",
    ]


def test_a_body_streamed_past_the_limit_is_refused(client):
    chunks = (
        b" " * 65536 for _ in range(5)
    )  # no content-length: counted as it arrives
    response = client.post(DECISIONS, content=chunks)
    assert response.status_code == 413 and response.json()["error"]["code"] == "E609"


def test_a_compressed_body_is_refused_as_such(client):
    """A gzip body was told it is not UTF-8 (helper-36)."""
    response = client.post(
        DECISIONS,
        content=gzip.compress(json.dumps(body()).encode()),
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    assert response.status_code == 415
    first = response.json()["error"]
    assert first["code"] == "E608" and "不支持压缩的请求内容" in first["message"]


def test_a_path_with_a_trailing_slash_is_no_route_not_a_redirect(client):
    """The redirect's Location was built from the client's Host header (helper-36)."""
    response = client.get("/v1/health/", headers={"host": "evil.example"}, follow_redirects=False)
    assert response.status_code == 404 and "location" not in response.headers
    assert response.json()["error"]["code"] == "E608"


def test_a_bug_is_a_500_with_the_same_body_and_no_detail(client, monkeypatch):
    def broken(*args: Any) -> None:
        raise RuntimeError("secret detail 330106199001011234")

    monkeypatch.setattr(service_decide, "decision_records", broken)
    response = client.post(DECISIONS, json=body())
    assert response.status_code == 500
    check_shape(response.json())
    assert response.json()["error"]["code"] == "E611"
    assert "secret" not in response.text and "RuntimeError" not in response.text


def test_a_bug_in_a_route_is_a_500_too(client, monkeypatch):
    monkeypatch.setattr(service, "_history", lambda *args: 1 / 0)
    response = client.get(f"/v1/counties/{COUNTY}/versions")
    assert response.status_code == 500 and response.json()["error"]["code"] == "E611"


def test_without_the_registry_module_versions_are_unavailable(client, monkeypatch):
    def missing() -> None:
        raise service_errors.request_error(
            "E610", "登记簿模块不可用，无法查询已发布的版本", None
        )

    monkeypatch.setattr(service, "registry_module", missing)
    for url in (f"/v1/counties/{COUNTY}/versions", f"/v1/counties/{COUNTY}/versions/1"):
        response = client.get(url)
        assert (
            response.status_code == 503 and response.json()["error"]["code"] == "E610"
        )


def test_tables_with_errors_are_a_503_naming_the_cell(tmp_path: Path):
    province = province_sheets()
    province["标准参数"][1][2] = "一千三"  # dibao_standard is not an amount
    tables = build_tables(tmp_path, province)
    with make_client(tables, tmp_path / "registry.duckdb") as broken:
        response = broken.post(DECISIONS, json=body())
    assert response.status_code == 503
    check_shape(response.json())
    first = response.json()["error"]
    assert first["path"] is None and "标准参数!C2" in first["location"]


# A household on dibao, monitored: its unemployment signal dated 2040-12-30 has no ten
# working days left in the calendar. The quiet one has an event that day and raises no
# alert, so counts nothing.
_COUNTED = {
    "household_id": "C1", "county_code": "330106",
    "current": {"group": "dibao"},
    "members": [{"person_id": "P1", "birth_date": "1980-01-01"}],
    "events": [
        {"type": "unemployment_registration", "date": "2025-05-06", "person_id": "P1"},
        {"type": "unemployment_registration", "date": "2040-12-30", "person_id": "P1"},
    ],
}  # fmt: skip
_QUIET = {
    "household_id": "C0", "county_code": "330106",
    "members": [{"person_id": "P0", "birth_date": "1980-01-01", "income": {"wage": "900000.00"}}],
    "events": [{"type": "unemployment_registration", "date": "2040-12-30", "person_id": "P0"}],
}  # fmt: skip


# Two events on that day: a medical expense under the threshold raises no alert.
_TWICE = {
    **_COUNTED,
    "events": [
        {"type": "high_medical_expense", "date": "2040-12-30", "person_id": "P1", "amount": "1.00"},
        {"type": "unemployment_registration", "date": "2040-12-30", "person_id": "P1"},
    ],
}  # fmt: skip


@pytest.mark.parametrize(
    ("households", "path"),
    [
        ([_COUNTED], "$.households[0].events[1].date"),
        ([_QUIET, _COUNTED], "$.households[1].events[1].date"),
        ([_TWICE], "$.households[0].events[1].date"),
    ],
    ids=["alone", "after-a-quiet-household-with-that-day", "after-a-quiet-event-that-day"],
)
def test_an_event_beyond_the_calendar_is_a_422_at_its_path(
    tmp_path: Path, households: list, path: str
) -> None:
    """The real tables raise alerts (the fixture's do not). The path is the event
    whose count failed, not the first event of that day in the request or in its
    household."""
    tables = Path(__file__).resolve().parents[1] / "tables"
    with make_client(tables, tmp_path / "registry.duckdb") as real:
        answer = real.post(
            "/v1/decisions", json={"as_of": "2040-12-31", "households": households}
        )

    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "E612" and "2040-12-30" in error["message"]
    assert error["path"] == path


def test_a_repeated_household_id_hides_no_problem_inside_either_household(client):
    twice = household("H1", "2")
    twice["members"].append(dict(twice["members"][0]))  # P1 twice
    empty = changed("members", [])

    response = client.post(DECISIONS, json=body([household("H1", "1"), twice, empty]))

    assert response.status_code == 422
    answer = response.json()
    check_shape(answer)
    assert [(e["code"], e["path"]) for e in answer["errors"]] == [
        ("E604", "$.households[2].members"),
        ("E603", "$.households[1].household_id"),
        ("E603", "$.households[2].household_id"),
        ("E603", "$.households[1].members[1].person_id"),
    ]
    hints = [e["hint"] for e in answer["errors"][1:]]
    assert "与 $.households[0].household_id 重复" in hints[0]
    assert "与 $.households[1].members[0].person_id 重复" in hints[2]
    assert "jiuzhu-service" not in response.text  # no temporary file is named


@pytest.fixture(scope="module")
def overflowing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tables(tmp_path_factory.mktemp("overflow"), overflow_province())


def huge(ident: str) -> dict:
    """A household whose two wages add up to more than a money value holds."""
    return overflow_household(TOP, TOP) | {"household_id": ident}


def test_an_overflowing_sum_is_placed_at_each_household_it_likely_comes_from(
    overflowing,
):
    households = [household("N1", "1"), huge("B2"), household("N3", "1"), huge("B4")]

    with make_client(overflowing, overflowing.parent / "r.duckdb") as test_client:
        response = test_client.post(DECISIONS, json=body(households))

    assert response.status_code == 422
    answer = response.json()
    check_shape(answer)
    errors = [(e["code"], e["path"], e["found"]) for e in answer["errors"]]
    assert errors == [
        ("E605", "$.households[1]", "19999999999999999.98"),
        ("E605", "$.households[3]", None),
    ]
    assert "家庭 B2 的金额合计在 10¹⁵ 元以上" in answer["errors"][0]["message"]
    assert "家庭 B4 的金额合计在 10¹⁵ 元以上" in answer["errors"][1]["message"]


def test_an_overflowing_sum_decided_with_other_requests_is_placed_in_its_own(
    overflowing,
):
    settings = Settings(
        tables=overflowing, registry=overflowing.parent / "r.duckdb", warm_on_start=False
    )
    warm = ProjectCache(settings).get(date(2025, 8, 1), {})
    requests = [
        DecisionRequest(date(2025, 8, 1), [household("N1", "1")], {}),
        DecisionRequest(date(2025, 8, 1), [household("N1", "1"), huge("B2")], {}),
    ]

    sound, failed = Evaluator().decide_requests(warm, date(2025, 8, 1), requests)

    assert [d["household_id"] for d in sound] == ["N1"]
    assert isinstance(failed, service_errors.ServiceError) and failed.status == 422
    assert [(d.code, d.location.cell) for d in failed.diagnostics] == [
        ("E605", "$.households[1]")
    ]
    assert "家庭 B2 的" in failed.diagnostics[0].message
