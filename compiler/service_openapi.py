"""The service's OpenAPI models: how ``/v1/openapi.json`` describes bodies and errors.

The models describe; they do not check. The decisions route reads its body itself
(``compiler.service_request``) so that every fault is answered with the one error body,
and the households are checked by the loader, so ``Household`` and its parts allow
fields they do not name. ``ERRORS`` lists the statuses every route may answer with
``ErrorBody``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


Money = str | float | int


class Income(_Open):
    wage: Money | None = None
    business: Money | None = None
    property: Money | None = None
    transfer: Money | None = None
    excluded: Money | None = None


class Member(_Open):
    person_id: str
    relation: str | None = None
    birth_date: date = Field(description="1900-01-01 至决策日期 as_of 之间")
    lives_in_household: bool | None = None
    excluded_from_household: bool | None = None
    hukou: str | None = None
    original_rural_hukou: bool | None = None
    public_institution_staff: bool | None = None
    disability_kind: str | None = None
    disability_grade: int | None = Field(None, ge=1, le=4)
    serious_illness: bool | None = None
    employed: bool | None = None
    student: str | None = None
    income: Income | None = None
    has_able_supporter: bool | None = None
    tekun_supported: bool | None = None


class Event(_Open):
    type: str
    date: str = Field(examples=["2025-03-01"])  # alerts are due working days after it
    person_id: str | None = None
    amount: Money | None = None


class Household(_Open):
    """A household as in shared/contracts/household.md."""

    household_id: str
    county_code: str = Field(pattern=r"^[0-9]{6}$", examples=["330106"])
    members: list[Member] = Field(min_length=1)  # a household without is E604
    assets: dict[str, Any] | None = None
    expenses: dict[str, Any] | None = None
    current: dict[str, Any] | None = Field(
        None, description="current.since（认定日期）不晚于决策日期 as_of"
    )
    history: dict[str, Any] | None = None
    events: list[Event] = []


class DecisionsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: date | None = Field(None, description="决策日期，默认今天")
    households: list[Household] = Field(max_length=10_000)
    versions: dict[str, int] | None = Field(
        None, description='指定版本，如 {"330106": 3}'
    )


class TraceEntry(BaseModel):
    table: str
    rule: str | None
    cell: str | None
    outcome: str | None
    section: str | None
    person_id: str | None


class Alert(BaseModel):
    type: str
    person_id: str | None
    raised_on: date | None
    due: date | None


class Decision(BaseModel):
    household_id: str
    county_code: str
    as_of: date
    version: str = Field(description="330106@3，或 工作副本（没有生效的已发布版本）")
    group: str | None
    income_per_capita: str | None
    dibao_standard: str | None
    marginal_line: str | None
    tekun_members: list[str]
    entitlements: list[str]
    phase_out_from: date | None
    phase_out_until: date | None
    monitoring: str | None
    alerts: list[Alert]
    trace: list[TraceEntry]


class ErrorItem(BaseModel):
    code: str
    message: str
    path: str | None
    found: str | None
    expected: str | None
    hint: str | None
    location: str | None


class DecisionsResponse(BaseModel):
    as_of: date
    versions: dict[str, str]
    working_copy: list[str]
    decisions: list[Decision]
    # W601 for each household key no declared field has (its value was not read)
    warnings: list[ErrorItem] = []


class ErrorBody(BaseModel):
    error: ErrorItem
    errors: list[ErrorItem]


# E610: a county's tables with errors refuse the whole request, each of its households
# named at its county_code, so that a client can send the others again without them
UNAVAILABLE = (
    "登记簿或决策表暂不可用（E610）：请求中有决策表有错误的县的家庭时，整个请求不作决策，"
    "这些家庭逐户列在 $.households[i].county_code；去掉它们后可重新发送其余家庭"
)
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (400, "请求不是合法的 JSON"),
        (404, "县或版本不存在"),
        (413, "请求过大"),
        (422, "请求或家庭数据有误"),
        (500, "服务内部错误"),
        (503, UNAVAILABLE),
    )
}


__all__ = ["ERRORS", "DecisionsRequest", "DecisionsResponse"]
