"""The body of ``POST /v1/decisions``: read within its limit, parsed, checked.

``read_body`` refuses a body past the byte limit (E609, 413); ``parse_json`` reads it
as JSON with exact decimals and no repeated keys (E608, 400); ``parse_decision_request``
checks the request's own fields and reports every problem together (E608, 422), leaving
the households to the loader. Each problem names its JSON path.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any

from fastapi import Request

from compiler.calendar import FIRST_YEAR, LAST_YEAR
from compiler.diagnostics import Diagnostic, Location, make
from compiler.households_json import DuplicateKey, unique_pairs
from compiler.service_errors import ServiceError, request_error


@dataclass
class DecisionRequest:
    as_of: date
    households: list[Any]
    pins: dict[str, int]

    @cached_property
    def mergeable(self) -> bool:
        """May be decided in one run with other requests: every household an object
        whose household_id is a scalar that can carry a request prefix."""
        return all(
            isinstance(h, dict)
            and isinstance(h.get("household_id"), str | int | Decimal)
            for h in self.households
        )


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} 不是 JSON 数值")


def parse_json(raw: bytes) -> object:
    """The body as JSON: numbers with a fraction as exact Decimal; no NaN, no repeated
    keys. Raises ServiceError E608 (400) naming the line and column."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise request_error(
            "E608",
            "请求内容不是 UTF-8 编码的文本",
            "$",
            400,
            found=f"第 {error.start + 1} 个字节",
            expected="UTF-8 编码的 JSON",
        ) from None
    try:
        return json.loads(
            text,
            parse_float=Decimal,
            parse_constant=_no_constant,
            object_pairs_hook=unique_pairs,
        )
    except DuplicateKey as error:
        raise request_error(
            "E608",
            f"JSON 对象中的键「{error}」重复出现",
            "$",
            400,
            found=str(error),
            hint="每个键在同一对象中只能出现一次",
        ) from None
    except json.JSONDecodeError as error:
        raise request_error(
            "E608",
            "请求内容不是合法的 JSON",
            "$",
            400,
            found=f"第{error.lineno}行第{error.colno}列：{error.msg}",
            expected='{"as_of": "2025-08-01", "households": [...]}',
            hint="检查引号、逗号和括号是否配对",
        ) from None
    except (ValueError, RecursionError) as error:
        message = "JSON 嵌套过深" if isinstance(error, RecursionError) else str(error)
        raise request_error(
            "E608", f"请求内容不是合法的 JSON：{message}", "$", 400
        ) from None


REQUEST_KEYS = ("as_of", "households", "versions")


def parse_decision_request(
    body: object, max_households: int, today: date
) -> DecisionRequest:
    """Check the request's own fields (the households are checked by the loader);
    every problem is reported together."""
    if not isinstance(body, dict):
        raise request_error(
            "E608",
            "请求内容应是 JSON 对象",
            "$",
            found=clip(body),
            expected='{"households": [...]}',
        )
    problems = [
        make(
            "E608",
            f"请求中有未知的字段「{key}」",
            Location(cell=f"$.{key}"),
            expected="、".join(REQUEST_KEYS),
            hint="检查字段名的拼写",
        )
        for key in body
        if key not in REQUEST_KEYS
    ]
    households = body.get("households")
    if not isinstance(households, list):
        problems.append(
            make(
                "E608",
                "households 应是家庭的列表"
                if "households" in body
                else "缺少 households",
                Location(cell="$.households"),
                found=clip(households),
                expected='[{"household_id": "H001", "county_code": "330106", "members": [...]}]',
            )
        )
    elif len(households) > max_households:
        raise request_error(
            "E609",
            f"一次请求最多 {max_households} 户，本次为 {len(households)} 户",
            "$.households",
            found=str(len(households)),
            expected=f"不超过 {max_households} 户",
            hint="把家庭分成几次请求发送",
        )
    as_of, problem = parse_as_of(body.get("as_of"), today, "$.as_of")
    problems += problem
    pins, pin_problems = _pins(body.get("versions"))
    problems += pin_problems
    if problems:
        raise ServiceError(422, problems)
    assert isinstance(households, list)
    return DecisionRequest(as_of, households, pins)


def parse_as_of(value: object, today: date, path: str) -> tuple[date, list[Diagnostic]]:
    if value is None:
        return today, []
    expected = (
        f"YYYY-MM-DD 格式的日期，{FIRST_YEAR} 至 {LAST_YEAR} 年之间，如 2025-08-01"
    )
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            day = None
        if day is not None and FIRST_YEAR <= day.year <= LAST_YEAR:
            return day, []
    hint = f"工作日历只覆盖 {FIRST_YEAR} 至 {LAST_YEAR} 年"
    return today, [
        make(
            "E608",
            "决策日期 as_of 无法识别",
            Location(cell=path),
            found=clip(value),
            expected=expected,
            hint=hint,
        )
    ]


def _pins(value: object) -> tuple[dict[str, int], list[Diagnostic]]:
    """``{"330106": 3}``: the version to use for a county instead of the one in force."""
    if value is None:
        return {}, []
    if not isinstance(value, dict):
        return {}, [
            make(
                "E608",
                "versions 应是「区划代码: 版本号」的对象",
                Location(cell="$.versions"),
                found=clip(value),
                expected='{"330106": 3}',
            )
        ]
    pins, problems = {}, []
    for code, number in value.items():
        path = f"$.versions.{code}" if re.fullmatch(r"\w+", code) else "$.versions"
        if not re.fullmatch(r"\d{6}", code):
            problems.append(
                make(
                    "E608",
                    f"版本的县（市、区）代码「{code}」应为六位数字",
                    Location(cell=path),
                    found=code,
                    expected="330106",
                )
            )
        elif (
            isinstance(number, int)
            and not isinstance(number, bool)
            and 0 < number < 2**31
        ):
            pins[code] = number
        else:
            problems.append(
                make(
                    "E608",
                    "版本号应是正整数",
                    Location(cell=path),
                    found=clip(number),
                    expected="3",
                )
            )
    return pins, problems


def clip(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with E609 (413) as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(size: int, limit: int) -> ServiceError:
    return request_error(
        "E609",
        f"请求内容过大：超过 {limit // (1024 * 1024)} MB",
        "$",
        found=f"{size} 字节",
        expected=f"不超过 {limit} 字节",
        hint="把家庭分成几次请求发送",
    )


__all__ = [
    "DecisionRequest",
    "clip",
    "parse_as_of",
    "parse_decision_request",
    "parse_json",
    "read_body",
]
