"""The service's one error body, and the JSON encoding of every body it answers.

``ServiceError`` carries an HTTP status and diagnostics; ``response()`` renders them as
``{"error": {...}, "errors": [...]}`` (docs/service.md), at most ``MAX_ERRORS``
entries. A diagnostic's ``location.cell`` holds the JSON path of the request
(``$.households[0].members``) or the URL parameter (``url.code``) at fault; a library
error's household paths ``$[i]...`` become ``$.households[i]...``, in its location,
its message (「$.households[0].members 的结构不对」) and its hint (a repeated id's hint
names the first). Money is encoded
exactly, as a string; a bug is answered by ``internal_error`` (E611) and logged by
``log_bug`` without its message.
"""

from __future__ import annotations

import json
import os
import re
import traceback
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from fastapi.responses import Response

from compiler import logger
from compiler.diagnostics import Diagnostic, Location, make
from compiler.errors import JiuzhuError

MAX_ERRORS = 200

# How a code answers when the route gives no better status (docs/service.md).
STATUS = {"E608": 422, "E609": 413, "E610": 503, "E611": 500, "E704": 404}
STATUS |= {
    code: 422
    for code in (
        "E601", "E602", "E603", "E604", "E605", "E606", "E607", "E612", "E614", "E615",
    )
}
# the registry is busy, unreadable, gone or no registry (a file moved over it)
STATUS |= {"E702": 503, "E703": 503, "E705": 503, "E706": 503}


class ServiceError(Exception):
    """A failure answered with the error body: an HTTP status and diagnostics whose
    ``location.cell`` holds the JSON path (or URL parameter) of the fault."""

    def __init__(
        self,
        status: int,
        diagnostics: list[Diagnostic],
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(diagnostics[0].message if diagnostics else "")
        self.status = status
        self.diagnostics = diagnostics
        self.headers = headers or {}

    def response(self) -> Response:
        items = [error_item(d) for d in self.diagnostics[:MAX_ERRORS]]
        response = json_response({"error": items[0], "errors": items}, self.status)
        response.headers.update(self.headers)
        return response


def request_error(
    code: str, message: str, path: str | None, status: int | None = None, **details: Any
) -> ServiceError:
    """One diagnostic about the request at ``path`` (``$.as_of``, ``url.code``)."""
    diagnostic = make(code, message, Location(cell=path), **details)
    return ServiceError(status or STATUS[code], [diagnostic])


def from_library(error: JiuzhuError, status: int | None = None) -> ServiceError:
    """A library error as the service answers it; household paths ``$[i]...`` become
    ``$.households[i]...``."""
    diagnostics = [_request_path(d) for d in error.diagnostics]
    if status is None:
        status = STATUS.get(diagnostics[0].code, 503) if diagnostics else 500
    return ServiceError(status, diagnostics)


INDEXED = re.compile(r"\$\[(\d+)\](.*)")
_INDEX_IN_TEXT = re.compile(r"(?<![\w\]])\$\[(\d+)\]")


def _request_path(diagnostic: Diagnostic) -> Diagnostic:
    for part in ("message", "hint"):  # 「$[0].members 的结构不对」 names the full path
        text = getattr(diagnostic, part)
        if text and _INDEX_IN_TEXT.search(text):
            said = _INDEX_IN_TEXT.sub(r"$.households[\1]", text)
            diagnostic = replace(diagnostic, **{part: said})
    cell = diagnostic.location.cell or ""
    match = INDEXED.fullmatch(cell)
    if match:
        path = f"$.households[{match.group(1)}]{match.group(2)}"
        return with_location(diagnostic, Location(cell=path))
    household_codes = ("E603", "E604", "E605", "E606", "E614", "E615")
    if diagnostic.code in household_codes and not cell.startswith("$"):
        # a household problem with no place (a temporary file's name is no use)
        return with_location(diagnostic, Location(cell="$.households"))
    return diagnostic


def with_location(diagnostic: Diagnostic, location: Location) -> Diagnostic:
    return Diagnostic(
        diagnostic.code,
        diagnostic.message,
        location,
        diagnostic.found,
        diagnostic.expected,
        diagnostic.hint,
        diagnostic.rule,
        diagnostic.extra,
    )


def error_item(diagnostic: Diagnostic) -> dict[str, Any]:
    """One entry of the error body; ``location`` names a workbook cell, never a path
    of the request, which goes to ``path``."""
    where = diagnostic.location
    is_path = bool(where.cell) and not where.file and not where.sheet
    return {
        "code": diagnostic.code,
        "message": diagnostic.message,
        "path": where.cell if is_path else None,
        "found": diagnostic.found,
        "expected": diagnostic.expected,
        "hint": diagnostic.hint,
        "location": None if is_path or where == Location() else where.render(),
    }


def internal_error() -> ServiceError:
    return request_error(
        "E611",
        "服务内部错误，请求未能完成",
        None,
        hint="这不是请求的问题；请稍后重试，并把发生的时间告诉系统管理员",
    )


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)  # money stays exact: "1402.50", as in the jsonl output
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def encode(body: object) -> bytes:
    text = json.dumps(
        body, ensure_ascii=False, default=_json_default, separators=(",", ":")
    )
    return text.encode("utf-8")


def json_response(body: object, status: int = 200) -> Response:
    return Response(encode(body), status, media_type="application/json")


def log_bug(error: BaseException) -> None:
    """A bug's type and stack; its message only with JIUZHU_DEBUG, as it may quote
    household data."""
    stack = "".join(traceback.format_tb(error.__traceback__))
    detail = f": {error}" if os.environ.get("JIUZHU_DEBUG") else ""
    logger.error("internal error %s%s\n%s", type(error).__name__, detail, stack)


__all__ = [
    "INDEXED",
    "MAX_ERRORS",
    "STATUS",
    "ServiceError",
    "encode",
    "error_item",
    "from_library",
    "internal_error",
    "json_response",
    "log_bug",
    "request_error",
    "with_location",
]
