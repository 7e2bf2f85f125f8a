"""The body of ``POST /v1/decisions``: read within its limit, parsed, checked.

``read_body`` refuses a body past the byte limit (E609, 413) or one that stops
arriving (E608, 408); ``parse_json`` reads it as JSON with exact decimals and no
repeated keys (E608, 400); ``parse_decision_request`` checks the request's own fields
and reports every problem together (E608, 422), leaving the households to the loader.
Each problem names its JSON path.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property
from typing import Any

import anyio
from fastapi import Request

from compiler.calendar import FIRST_YEAR, LAST_YEAR
from compiler.diagnostics import Diagnostic, Location, make
from compiler.households_json import (
    DuplicateKey,
    json_error_place,
    json_error_reason,
    unique_pairs,
)
from compiler.service_errors import ServiceError, request_error


@dataclass
class DecisionRequest:
    as_of: date
    households: list[Any]
    pins: dict[str, int]

    @cached_property
    def mergeable(self) -> bool:
        """May be decided in one run with other requests: every household an object
        whose household_id is a string that can carry a request prefix (a number
        given as one is refused, which the prefix would hide)."""
        return all(
            isinstance(h, dict) and isinstance(h.get("household_id"), str)
            for h in self.households
        )


def _integer(digits: str) -> int | Decimal:
    """A JSON integer; one of more digits than any value holds is read as a Decimal,
    since Python refuses to make an int of more than 4,300 digits (the value is then
    refused as too large, not as JSON that cannot be read)."""
    return int(digits) if len(digits) <= 40 else Decimal(digits)


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
            parse_int=_integer,
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
        line, column, ends = json_error_place(error)
        ending = "请求内容在此处结束，" if ends else ""
        raise request_error(
            "E608",
            "请求内容不是合法的 JSON",
            "$",
            400,
            found=f"第{line}行第{column}列：{ending}{json_error_reason(error)}",
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
    """The decision date of ``value`` (``YYYY-MM-DD``, default ``today``), or E608 at
    ``path``: not a date, or a date outside the working-day calendar's years."""
    if value is None:
        return today, []
    day = None
    shaped = isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value)
    if shaped:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            day = None
    if day is not None and FIRST_YEAR <= day.year <= LAST_YEAR:
        return day, []
    calendar = f"工作日历只覆盖 {FIRST_YEAR} 至 {LAST_YEAR} 年，此外的工作日无从计算"
    if day is not None:
        message = f"决策日期 as_of 超出支持的范围：{day} 不在 {FIRST_YEAR} 至 {LAST_YEAR} 年之间"
        hint = calendar
    elif shaped:  # 2027-02-30: the form is right, the day is not (helper-45)
        message = "决策日期 as_of 是不存在的日期（请核对月份和日期，如 2 月没有 30 日）"
        hint = None
    else:  # a form error: the calendar's years are beside the point (helper-133)
        message = "决策日期 as_of 无法识别：JSON 中的日期须写成 YYYY-MM-DD"
        hint = _iso_form(value)
    return today, [
        make(
            "E608",
            message,
            Location(cell=path),
            found=clip(value),
            expected="YYYY-MM-DD，如 2027-01-01" if day is None
            else f"{FIRST_YEAR} 至 {LAST_YEAR} 年之间的日期，YYYY-MM-DD，如 2027-01-01",
            hint=hint,
        )
    ]


def _iso_form(value: object) -> str:
    """How to write ``value`` when it reads as a date in another form (「2027/1/1」,
    「2027年1月1日」, as the CLI takes them): the ISO date it would be."""
    from compiler.normalise import ParseProblem, fold_text, parse_date

    general = "日期的年月日之间用 - 分隔，月和日写两位"
    if not isinstance(value, str) or re.fullmatch(r"\s*[0-9]{1,7}(\.[0-9]*)?\s*", fold_text(value)):
        return general  # a number is no date here (a spreadsheet serial, say)
    try:
        day = parse_date(value.strip())
    except ParseProblem:
        return general
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        return (f"这是 {day.isoformat()}，但工作日历只覆盖 {FIRST_YEAR} 至 {LAST_YEAR} 年，"
                "此外的工作日无从计算")
    return f"「{value.strip()}」即 {day.isoformat()}，请写成 {day.isoformat()}"


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
        if not re.fullmatch(r"[0-9]{6}", code):
            problems.append(
                make(
                    "E608",
                    f"版本的县（市、区）代码「{code}」应为六位数字",
                    Location(cell=path),
                    found=code,
                    expected="330106",
                )
            )
        elif (problem := version_problem(number, path)) is not None:
            problems.append(problem)
        else:
            pins[code] = int(number)  # type: ignore[call-overload]  # 3.0 and 3e0 are 3 too
    return pins, problems


# Version numbers count a county's publications; 2^31 - 1 is more than any will reach.
MAX_VERSION = 2**31 - 1


def version_problem(number: object, path: str) -> Diagnostic | None:
    """E608 at ``path`` when ``number`` (from JSON, or the URL's digits as an int) is
    not a version number: not a positive integer, or past ``MAX_VERSION``."""
    whole = isinstance(number, int) and not isinstance(number, bool)
    if isinstance(number, Decimal) and number.is_finite():
        # an integer of more digits than parse_json reads as int, or one written
        # 3.0 or 1e400; ``number // 1`` would raise past the context's 28 digits
        whole = number == number.to_integral_value()
    if whole and 0 < number <= MAX_VERSION:  # type: ignore[operator]
        return None
    too_large = whole and number > MAX_VERSION  # type: ignore[operator]
    return make(
        "E608",
        "版本号过大" if too_large else "版本号应是正整数",
        Location(cell=path),
        found=clip(number),
        expected=f"不超过 {MAX_VERSION} 的正整数，如 3" if too_large else "3",
        hint="版本号是该县已发布版本的序号，从 1 起" if too_large else None,
    )


def clip(value: object) -> str:
    """The value as JSON text, as sent (a number with a fraction, read as a Decimal,
    written as the number it is, ``3.5``, not the string ``"3.5"``), clipped."""
    text = _json_text(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _json_text(value: object) -> str:
    if isinstance(value, Decimal):
        return str(value)  # 3.5, 3.50, 1E+400: the digits parse_json read
    if isinstance(value, dict):
        pairs = (f"{json.dumps(k, ensure_ascii=False)}: {_json_text(v)}" for k, v in value.items())
        return "{" + ", ".join(pairs) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_json_text(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False, default=str)


async def read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The body, refused with E609 (413) as soon as it passes ``limit`` bytes, and
    with E608 (408) when ``timeout`` seconds pass with none of it arriving: uvicorn
    has no such limit, and a client whose Content-Length promises more than it sends
    would hold a connection and its request open for ever."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(int(declared), limit)
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise request_error(
            "E608",
            f"不支持压缩的请求内容（Content-Encoding: {encoding[:40]}）",
            "$",
            415,
            found=encoding[:40],
            expected="未压缩的 UTF-8 JSON",
            hint="去掉 Content-Encoding 请求头，直接发送 JSON",
        )
    chunks, size = [], 0
    stream = request.stream().__aiter__()
    # a gap of ``timeout`` is refused, and so is a body that trickles in for longer
    # than a few such gaps altogether: one byte every few seconds holds a worker
    deadline = anyio.current_time() + WHOLE_BODY_GAPS * timeout
    while True:
        try:
            wait = min(timeout, max(deadline - anyio.current_time(), 0))
            with anyio.fail_after(wait):
                chunk = await stream.__anext__()
        except StopAsyncIteration:
            break
        except TimeoutError:
            raise _too_slow(size, declared, timeout) from None
        size += len(chunk)
        if size > limit:
            raise _too_large(size, limit)
        chunks.append(chunk)
    return b"".join(chunks)


# the whole body may take this many ``--body-timeout`` gaps (four: two minutes by default)
WHOLE_BODY_GAPS = 4


def _too_slow(size: int, declared: str, timeout: float) -> ServiceError:
    promised = f"，请求头 Content-Length 为 {declared} 字节" if declared else ""
    error = request_error(
        "E608",
        f"请求内容在 {timeout:g} 秒内没有继续传来，或 {WHOLE_BODY_GAPS * timeout:g} 秒内没有传完，已停止等待",
        "$",
        408,
        found=f"已收到 {size} 字节{promised}",
        expected="在 Content-Length 声明的字节数内连续发完请求内容",
        hint="检查 Content-Length 是否与实际发送的字节数一致；网络中断时请重新发送",
    )
    error.headers["connection"] = "close"  # the rest of the body is not awaited
    return error


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
