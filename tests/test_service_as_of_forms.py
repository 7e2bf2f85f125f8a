"""A service ``as_of`` written as the CLI takes dates (「2027/1/1」, 「2027年1月1日」) is
refused (JSON dates are ISO, the contract), saying the form expected and the ISO date
it would be, not the calendar's years, which are beside the point (helper-133)."""
# ruff: noqa: F811  (the client fixture of tests/test_service_errors.py, by name)

from __future__ import annotations

import json
from datetime import date

import pytest
from fastapi.testclient import TestClient

from compiler.service_request import parse_as_of
from tests.test_service_errors import client  # noqa: F401

TODAY = date(2026, 12, 6)


@pytest.mark.parametrize(
    ("typed", "iso"),
    [("2027/1/1", "2027-01-01"), ("2027年1月1日", "2027-01-01"), ("2027-1-1", "2027-01-01"),
     (" 2027.01.01 ", "2027-01-01")],
    ids=["slashes", "chinese", "short-month", "dots"],
)
def test_a_date_in_another_form_names_the_iso_date(typed: str, iso: str) -> None:
    _, [problem] = parse_as_of(typed, TODAY, "$.as_of")
    assert problem.code == "E608" and problem.location.cell == "$.as_of"
    assert "as_of 无法识别" in problem.message and "YYYY-MM-DD" in problem.message
    assert problem.expected == "YYYY-MM-DD，如 2027-01-01"
    assert problem.hint is not None and f"即 {iso}，请写成 {iso}" in problem.hint
    assert "工作日历" not in problem.hint


@pytest.mark.parametrize("typed", ["hello", "45900", 20270101], ids=["words", "serial", "number"])
def test_a_value_that_is_no_date_gets_the_form_not_a_made_up_date(typed: object) -> None:
    _, [problem] = parse_as_of(typed, TODAY, "$.as_of")
    assert problem.expected == "YYYY-MM-DD，如 2027-01-01"
    assert problem.hint is not None and "即" not in problem.hint
    assert "工作日历" not in problem.hint


def test_a_date_past_the_calendar_still_names_its_years() -> None:
    _, [problem] = parse_as_of("2041-01-01", TODAY, "$.as_of")
    assert "2015 至 2040" in (problem.expected or "") and "工作日历" in (problem.hint or "")


def test_the_service_answers_the_hint_at_the_path(client: TestClient) -> None:
    answer = client.post("/v1/decisions", json={"as_of": "2027年1月1日", "households": []})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "E608" and "即 2027-01-01，请写成 2027-01-01" in error["hint"]
    counties = client.get("/v1/counties", params={"as_of": "2027/1/1"})
    assert counties.status_code == 422
    assert "即 2027-01-01" in counties.json()["error"]["hint"]


@pytest.mark.parametrize("kind", [None, "text/plain"], ids=["no-content-type", "text-plain"])
def test_any_content_type_is_read_as_json(client: TestClient, kind: str | None) -> None:
    """As docs/service.md says: curl -d sends form-urlencoded, and the body is JSON."""
    headers = {"content-type": kind} if kind else {}
    data = json.dumps({"as_of": "2025-08-01", "households": []}).encode()
    answer = client.post("/v1/decisions", content=data, headers=headers)
    assert answer.status_code == 200, answer.text


def test_a_body_cut_short_is_placed_where_it_ends(client: TestClient) -> None:
    # Python places the error after the white space left: 第2行第1列, a line the
    # integrator never wrote; the body ends on line 1, just past its 17 characters
    answer = client.post("/v1/decisions", content=b'{"households": [\n')
    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert error["code"] == "E608"
    assert error["found"].startswith("第1行第17列：请求内容在此处结束")
