"""The HTTP decision service behind ``jiuzhu serve``: FastAPI over the library.

Routes, the error body and the limits are documented in ``docs/service.md``::

    POST /v1/decisions                      decide for the households of the body
    GET  /v1/counties                       counties and the version in force
    GET  /v1/counties/{code}/versions       a county's published versions
    GET  /v1/counties/{code}/versions/{n}   one version's canonical tables
    GET  /v1/health

Decisions come from the same compiled SQL as ``jiuzhu evaluate``: the households of a
request are written to a temporary JSON file, checked and loaded by
``compiler.households`` and decided by ``compiler.evaluate`` on a DuckDB connection
that belongs to one worker thread. Planning the compiled program costs DuckDB seconds
whatever the number of households, so requests that arrive while the workers are busy
are decided together in one run when a worker frees up; each still gets exactly the
answer, or the errors, it would get alone. Projects (every county's bound tables on a
date) are kept warm per (date, pinned versions, state of the tables and registry).

Every failure is answered with one body, ``{"error": {...}, "errors": [...]}``; a bug
is a 500 with the same body and a generic message, never a stack trace. One log line
per request on the ``jiuzhu`` logger: method, route, status, households, milliseconds.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
import threading
import time
import traceback
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import anyio
import duckdb
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from compiler import logger
from compiler.calendar import FIRST_YEAR, LAST_YEAR
from compiler.diagnostics import Diagnostic, Location, make
from compiler.engine import Project, connect, contract_error, open_project
from compiler.errors import (
    EvaluationError,
    InputError,
    JiuzhuError,
    RegistryError,
)
from compiler.evaluate import decide, prepare
from compiler.output import decision_records

API = "v1"
WORKING_COPY = "工作副本"  # the label compiler.registry gives unpublished tables
MAX_ERRORS = 200

# How a code answers when the route gives no better status (docs/service.md).
STATUS = {"E608": 422, "E609": 413, "E610": 503, "E611": 500, "E704": 404}
STATUS |= {
    code: 422 for code in ("E601", "E602", "E603", "E604", "E605", "E606", "E607")
}
STATUS |= {"E702": 503, "E703": 503}  # the registry is busy or unreadable


@dataclass(frozen=True)
class Settings:
    """Where the tables and the registry are, and the service's limits."""

    tables: str | Path = "tables"
    registry: str | Path | None = None  # None: compiler.registry's default place
    max_body_bytes: int = 20 * 1024 * 1024
    max_households: int = 10_000
    workers: int = 2  # evaluation threads, each with its own DuckDB connection
    cached_projects: int = 4
    warm_on_start: bool = True


# ---------------------------------------------------------------- the error body


class ServiceError(Exception):
    """A failure answered with the error body: an HTTP status and diagnostics whose
    ``location.cell`` holds the JSON path (or URL parameter) of the fault."""

    def __init__(self, status: int, diagnostics: list[Diagnostic]) -> None:
        super().__init__(diagnostics[0].message if diagnostics else "")
        self.status = status
        self.diagnostics = diagnostics

    def response(self) -> Response:
        items = [_error_item(d) for d in self.diagnostics[:MAX_ERRORS]]
        return _json_response({"error": items[0], "errors": items}, self.status)


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


_INDEXED = re.compile(r"\$\[(\d+)\](.*)")


def _request_path(diagnostic: Diagnostic) -> Diagnostic:
    cell = diagnostic.location.cell or ""
    match = _INDEXED.fullmatch(cell)
    if match:
        path = f"$.households[{match.group(1)}]{match.group(2)}"
        return _with_location(diagnostic, Location(cell=path))
    if diagnostic.code in ("E603", "E604", "E605", "E606") and not cell.startswith("$"):
        # a household problem with no place (a temporary file's name is no use)
        return _with_location(diagnostic, Location(cell="$.households"))
    return diagnostic


def _with_location(diagnostic: Diagnostic, location: Location) -> Diagnostic:
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


def _error_item(diagnostic: Diagnostic) -> dict[str, Any]:
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


def _json_response(body: object, status: int = 200) -> Response:
    return Response(encode(body), status, media_type="application/json")


# ---------------------------------------------------------------- the request body


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


class _DuplicateKey(ValueError):
    pass


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


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
            object_pairs_hook=_unique,
        )
    except _DuplicateKey as error:
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
            found=_clip(body),
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
                found=_clip(households),
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
    as_of, problem = _as_of(body.get("as_of"), today, "$.as_of")
    problems += problem
    pins, pin_problems = _pins(body.get("versions"))
    problems += pin_problems
    if problems:
        raise ServiceError(422, problems)
    assert isinstance(households, list)
    return DecisionRequest(as_of, households, pins)


def _as_of(value: object, today: date, path: str) -> tuple[date, list[Diagnostic]]:
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
            found=_clip(value),
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
                found=_clip(value),
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
                    found=_clip(number),
                    expected="3",
                )
            )
    return pins, problems


def _clip(value: object) -> str:
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


# ---------------------------------------------------------------- warm projects


@dataclass
class Warm:
    """Every county's tables bound for one date (and pinned versions)."""

    key: tuple[Any, ...]
    project: Project
    labels: dict[str, str]  # county -> 330106@3 or 工作副本


def registry_module() -> Any:
    """compiler.registry, or E610 (503) when it cannot be imported."""
    try:
        from compiler import registry
    except ImportError as error:
        raise request_error(
            "E610",
            "版本库模块不可用，无法查询已发布的版本",
            None,
            found=type(error).__name__,
            hint="请系统管理员检查 compiler/registry.py",
        ) from None
    return registry


class ProjectCache:
    """A few warm Projects, keyed by date, pinned versions and a fingerprint of the
    tables folder and the registry file, so an edit or a publish is seen at once.
    Concurrent requests for a cold key wait for one load."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[Any, ...], Future[Warm]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def registry_path(self) -> Path | None:
        if self.settings.registry is not None:
            return Path(self.settings.registry)
        try:
            return Path(registry_module().default_path(self.settings.tables))
        except ServiceError:
            return None

    def get(self, as_of: date, pins: dict[str, int]) -> Warm:
        key = (as_of, tuple(sorted(pins.items())), self._fingerprint())
        with self._lock:
            entry = self._entries.get(key)
            owner = entry is None
            if entry is None:
                entry = self._entries[key] = Future()
                while len(self._entries) > self.settings.cached_projects:
                    self._entries.popitem(last=False)
            else:
                self._entries.move_to_end(key)
        if owner:
            try:
                entry.set_result(self._open(key, as_of, pins))
            except BaseException as error:  # noqa: BLE001 - handed to the waiters
                with self._lock:
                    self._entries.pop(key, None)  # a refusal is not kept
                entry.set_exception(error)
        return entry.result()

    def _open(self, key: tuple[Any, ...], as_of: date, pins: dict[str, int]) -> Warm:
        started = time.perf_counter()
        if pins:
            registry = registry_module()
        else:
            try:
                registry = registry_module()
            except ServiceError:  # no registry module: every county's working copy
                project = open_project(self.settings.tables, as_of=as_of)
                return Warm(key, project, {c: WORKING_COPY for c in project.plans})
        project, labels = registry.published_project(
            self.settings.tables, self.registry_path(), as_of
        )
        if pins:
            _pin(project, labels, registry.Registry(self.registry_path()), pins)
        logger.info(
            "opened tables for %s in %.2f s", as_of, time.perf_counter() - started
        )
        return Warm(key, project, labels)

    def _fingerprint(self) -> tuple[Any, ...]:
        """The newest modification and the number of files under the tables folder,
        and the registry file's (and its write-ahead log's) size and time."""
        newest, count = 0, 0
        for folder, _, files in os.walk(self.settings.tables):
            for name in files:
                try:
                    newest = max(
                        newest, os.stat(os.path.join(folder, name)).st_mtime_ns
                    )
                except OSError:
                    continue
                count += 1
        stamps: list[tuple[int, int] | None] = []
        registry = self.registry_path()
        for path in (registry, Path(f"{registry}.wal")) if registry else ():
            try:
                stat = path.stat()
                stamps.append((stat.st_mtime_ns, stat.st_size))
            except OSError:
                stamps.append(None)
        return (newest, count, *stamps)


def _pin(
    project: Project, labels: dict[str, str], store: Any, pins: dict[str, int]
) -> None:
    """Replace the plans of pinned counties by their published versions."""
    from compiler.bind import bind
    from compiler.validate import validate

    for code, number in pins.items():
        try:
            version = store.get(code, number)
        except RegistryError as error:
            where = Location(cell=f"$.versions.{code}")
            placed = [_with_location(d, where) for d in error.diagnostics]
            raise ServiceError(422, placed) from None
        project.plans[code] = bind(version.rulebook(), project.report)
        validate(project.plans[code], project.report, project.as_of, {})
        labels[code] = version.label


# ---------------------------------------------------------------- evaluation


Outcome = list[dict[str, Any]] | ServiceError


class Evaluator:
    """Runs the library's evaluation in worker threads, one DuckDB connection each."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _connection(self) -> duckdb.DuckDBPyConnection:
        con = getattr(self._local, "con", None)
        if con is None:
            con = self._local.con = connect()
        return con

    def _discard(self) -> None:
        con, self._local.con = getattr(self._local, "con", None), None
        if con is not None:
            con.close()

    def decide_requests(
        self, warm: Warm, as_of: date, requests: list[DecisionRequest]
    ) -> list[Outcome]:
        """Each request's decisions (in its households' order) or its failure.

        Mergeable requests are decided in one run; when that run fails, the requests
        the diagnostics blame are decided alone (so their errors are exactly those a
        lone request gets) and the others are tried together again.
        """
        outcomes: dict[int, Outcome] = {
            i: [] for i, r in enumerate(requests) if not r.households
        }
        group = [i for i, r in enumerate(requests) if r.households and r.mergeable]
        alone = [i for i, r in enumerate(requests) if r.households and not r.mergeable]
        while len(group) > 1:
            try:
                results = self._run(
                    warm, as_of, [requests[i].households for i in group]
                )
            except (JiuzhuError, ServiceError) as error:
                blamed = _blamed(error, [len(requests[i].households) for i in group])
                blamed_ids = [group[k] for k in blamed] if blamed else list(group)
                alone += blamed_ids
                group = [i for i in group if i not in blamed_ids]
                continue
            outcomes.update(zip(group, results, strict=True))
            group = []
        for i in sorted(alone + group):
            try:
                outcomes[i] = self._run(warm, as_of, [requests[i].households])[0]
            except ServiceError as error:
                outcomes[i] = error
            except JiuzhuError as error:
                outcomes[i] = from_library(_placed(error, requests[i].households))
        return [outcomes[i] for i in range(len(requests))]

    def _run(
        self, warm: Warm, as_of: date, parts: list[list[Any]]
    ) -> list[list[dict[str, Any]]]:
        """One evaluation over the households of ``parts``; with more than one part,
        each household_id is prefixed by its part's number so parts cannot clash."""
        merged = _merged(parts)
        with tempfile.TemporaryDirectory(prefix="jiuzhu-service-") as scratch:
            path = Path(scratch) / "households.json"
            path.write_bytes(_households_file(merged))
            con = self._connection()
            try:
                present = prepare(con, warm.project, path, as_of, versions=warm.labels)
                relation = decide(con, warm.project, present)
                records = decision_records(con, _in_input_order(relation))
            except duckdb.Error as error:
                self._discard()
                raised = contract_error(error) or _engine_error(error)
                if raised is None:
                    raise  # a bug in the compiled SQL, not in the households
                raise raised from None
            except JiuzhuError:
                raise  # the loader has already reset the connection's input
            except BaseException:
                self._discard()
                raise
        if len(records) != len(merged):
            raise RuntimeError(f"{len(records)} decisions for {len(merged)} households")
        return _split(records, parts)


def _engine_error(error: duckdb.Error) -> InputError | None:
    """A computation DuckDB refused on these households' values (an overflow, say),
    answered like ``jiuzhu evaluate`` answers it; the message goes to the client, not
    the log. None for any other DuckDB error: the compiled SQL is at fault."""
    if not isinstance(error, _DATA_ERRORS):
        return None
    text = str(error).strip()
    first = text.splitlines()[0][:200] if text else type(error).__name__
    return InputError(
        make(
            "E605",
            f"DuckDB 无法完成计算：{first}",
            hint="检查家庭数据的取值是否过大或异常",
        )
    )


_DATA_ERRORS = (
    duckdb.ConversionException,
    duckdb.OutOfRangeException,
    duckdb.InvalidInputException,
)


def _placed(error: JiuzhuError, households: list[Any]) -> JiuzhuError:
    """A contract error (E601/E602) given the JSON path of the household it names."""
    if not isinstance(error, EvaluationError):
        return error
    ids = [
        _id_text(h.get("household_id")) if isinstance(h, dict) else None
        for h in households
    ]
    placed = []
    for diagnostic in error.diagnostics:
        household = diagnostic.extra.get("household")
        if (
            household is not None
            and str(household) in ids
            and not diagnostic.location.cell
        ):
            where = Location(cell=f"$[{ids.index(str(household))}]")
            diagnostic = _with_location(diagnostic, where)
        placed.append(diagnostic)
    return EvaluationError(placed)


def _merged(parts: list[list[Any]]) -> list[Any]:
    if len(parts) == 1:
        return parts[0]
    return [
        {**household, "household_id": f"{k}~{_id_text(household['household_id'])}"}
        for k, households in enumerate(parts)
        for household in households
    ]


def _id_text(value: object) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


def _households_file(households: list[Any]) -> bytes:
    """The households as a JSON list; a Decimal as a string, which the loader reads
    exactly (a JSON number would pass through binary floating point)."""
    try:
        return encode(households)
    except UnicodeEncodeError:
        raise request_error(
            "E608",
            "请求中含有无法编码的字符（孤立的 \\uD800-\\uDFFF 转义）",
            "$.households",
            400,
            hint="字符串只能含有合法的 Unicode 字符",
        ) from None


def _in_input_order(relation: str) -> str:
    return (
        f"SELECT d.* FROM {relation} d JOIN jz_households h "
        "ON d.household_id = h.household_id ORDER BY h._hh_index"
    )


def _split(
    records: list[dict[str, Any]], parts: list[list[Any]]
) -> list[list[dict[str, Any]]]:
    results, start = [], 0
    for k, households in enumerate(parts):
        chunk = records[start : start + len(households)]
        if len(parts) > 1:
            prefix = f"{k}~"
            for record in chunk:
                record["household_id"] = record["household_id"].removeprefix(prefix)
        results.append(chunk)
        start += len(households)
    return results


def _blamed(error: JiuzhuError | ServiceError, sizes: list[int]) -> list[int]:
    """The parts (by position) a merged run's diagnostics point at: a household path
    ``$[i]...``, or a contract error's household ``k~H001``; empty when one cannot be
    placed."""
    if isinstance(error, ServiceError):
        return []
    offsets = [sum(sizes[:k]) for k in range(len(sizes) + 1)]
    blamed: set[int] = set()
    for diagnostic in error.diagnostics:
        match = _INDEXED.fullmatch(diagnostic.location.cell or "")
        household = str(diagnostic.extra.get("household", ""))
        if match:
            index = int(match.group(1))
            blamed.add(next(k for k in range(len(sizes)) if index < offsets[k + 1]))
        elif isinstance(error, EvaluationError) and re.match(r"\d+~", household):
            blamed.add(int(household.split("~", 1)[0]))
        else:
            return []
    return sorted(k for k in blamed if k < len(sizes))


def decisions_body(
    labels: dict[str, str], as_of: date, records: list[dict[str, Any]]
) -> bytes:
    """The answer to POST /v1/decisions: the decisions and the version of each county."""
    counties = list(dict.fromkeys(r["county_code"] for r in records))
    versions = {c: labels.get(c, WORKING_COPY) for c in counties}
    return encode(
        {
            "as_of": as_of,
            "versions": versions,
            "working_copy": [
                c for c, label in versions.items() if label == WORKING_COPY
            ],
            "decisions": records,
        }
    )


# ---------------------------------------------------------------- batching


@dataclass
class _Pending:
    warm: Warm
    request: DecisionRequest
    future: asyncio.Future[Outcome]


@dataclass
class Batcher:
    """Hands requests to the evaluation workers; while all are busy, requests wait
    and the next free worker decides every waiting request of the same key at once."""

    evaluator: Evaluator
    executor: ThreadPoolExecutor
    workers: int
    max_households: int
    queue: list[_Pending] = field(default_factory=list)
    running: set[asyncio.Task[None]] = field(default_factory=set)

    async def decide(self, warm: Warm, request: DecisionRequest) -> Outcome:
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self.queue.append(_Pending(warm, request, future))
        self._dispatch()
        return await future

    def _dispatch(self) -> None:
        self.queue = [p for p in self.queue if not p.future.done()]
        while len(self.running) < self.workers and self.queue:
            batch = self._take()
            task = asyncio.get_running_loop().create_task(self._run(batch))
            self.running.add(task)
            task.add_done_callback(self._finished)

    def _take(self) -> list[_Pending]:
        first = self.queue.pop(0)
        batch, total, rest = [first], len(first.request.households), []
        for pending in self.queue:
            size = len(pending.request.households)
            joins = (
                first.request.mergeable
                and pending.request.mergeable
                and pending.warm.key == first.warm.key
                and pending.request.as_of == first.request.as_of
                and total + size <= self.max_households
            )
            if joins:
                batch.append(pending)
                total += size
            else:
                rest.append(pending)
        self.queue = rest
        return batch

    def _finished(self, task: asyncio.Task[None]) -> None:
        self.running.discard(task)
        self._dispatch()

    async def _run(self, batch: list[_Pending]) -> None:
        first = batch[0]
        loop = asyncio.get_running_loop()
        try:
            outcomes = await loop.run_in_executor(
                self.executor,
                self.evaluator.decide_requests,
                first.warm,
                first.request.as_of,
                [p.request for p in batch],
            )
        except Exception as error:  # noqa: BLE001 - a bug: the batch gets 500s
            _log_bug(error)
            outcomes = [internal_error()] * len(batch)
        if len(batch) > 1:
            logger.info(
                "decided %d requests together (%d households)",
                len(batch),
                sum(len(p.request.households) for p in batch),
            )
        for pending, outcome in zip(batch, outcomes, strict=True):
            if not pending.future.done():
                pending.future.set_result(outcome)


def _log_bug(error: BaseException) -> None:
    """A bug's type and stack; its message only with JIUZHU_DEBUG, as it may quote
    household data."""
    stack = "".join(traceback.format_tb(error.__traceback__))
    detail = f": {error}" if os.environ.get("JIUZHU_DEBUG") else ""
    logger.error("internal error %s%s\n%s", type(error).__name__, detail, stack)


# ---------------------------------------------------------------- OpenAPI models


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
    birth_date: date
    lives_in_household: bool | None = None
    hukou: str | None = None
    original_rural_hukou: bool | None = None
    public_institution_staff: bool | None = None
    disability_kind: str | None = None
    disability_grade: int | None = None
    serious_illness: bool | None = None
    employed: bool | None = None
    student: str | None = None
    income: Income | None = None
    has_able_supporter: bool | None = None


class Event(_Open):
    type: str
    date: str | None = None
    person_id: str | None = None
    amount: Money | None = None


class Household(_Open):
    """A household as in shared/contracts/household.md."""

    household_id: str
    county_code: str = Field(pattern=r"^\d{6}$", examples=["330106"])
    members: list[Member] = []
    assets: dict[str, Any] | None = None
    expenses: dict[str, Any] | None = None
    current: dict[str, Any] | None = None
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


class DecisionsResponse(BaseModel):
    as_of: date
    versions: dict[str, str]
    working_copy: list[str]
    decisions: list[Decision]


class ErrorItem(BaseModel):
    code: str
    message: str
    path: str | None
    found: str | None
    expected: str | None
    hint: str | None
    location: str | None


class ErrorBody(BaseModel):
    error: ErrorItem
    errors: list[ErrorItem]


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": text}
    for status, text in (
        (400, "请求不是合法的 JSON"),
        (404, "县或版本不存在"),
        (413, "请求过大"),
        (422, "请求或家庭数据有误"),
        (500, "服务内部错误"),
        (503, "版本库或决策表暂不可用"),
    )
}


# ---------------------------------------------------------------- the app


def create_app(settings: Settings | None = None) -> FastAPI:
    """The ASGI application; ``jiuzhu serve`` runs it on uvicorn."""
    settings = settings or Settings()
    cache = ProjectCache(settings)
    evaluator = Evaluator()
    executor = ThreadPoolExecutor(settings.workers, thread_name_prefix="jiuzhu-eval")
    batchers: dict[int, Batcher] = {}

    def batcher() -> Batcher:
        loop = id(asyncio.get_running_loop())
        if loop not in batchers:
            batchers.clear()
            batchers[loop] = Batcher(
                evaluator, executor, settings.workers, settings.max_households
            )
        return batchers[loop]

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        if settings.warm_on_start:
            threading.Thread(target=_warm, args=(cache,), daemon=True).start()
        yield

    app = FastAPI(
        title="Jiuzhu decision service（救助决策服务）",
        version=API,
        description="浙江低收入人口救助决策：与 jiuzhu evaluate 相同的编译 SQL。见 docs/service.md。",
        lifespan=lifespan,
        openapi_url=f"/{API}/openapi.json",
        docs_url=f"/{API}/docs",
        redoc_url=None,
    )
    app.state.settings, app.state.cache = settings, cache
    _handlers(app)
    _routes(app, settings, cache, batcher)
    app.add_middleware(_Guard)
    return app


def _warm(cache: ProjectCache) -> None:
    try:
        cache.get(date.today(), {})
    except Exception as error:  # noqa: BLE001 - the first request reports it
        logger.warning(
            "could not open today's tables at start: %s", type(error).__name__
        )


def _handlers(app: FastAPI) -> None:
    async def service_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, ServiceError)
        return error.response()

    async def library_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, JiuzhuError)
        return from_library(error).response()

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        messages = {404: "接口不存在", 405: "该接口不支持此请求方法"}
        message = messages.get(
            error.status_code, f"请求无法处理（HTTP {error.status_code}）"
        )
        found = f"{request.method} {_route_text(request.scope)}"
        response = request_error(
            "E608",
            message,
            None,
            error.status_code,
            found=found,
            expected="见 /v1/openapi.json",
        ).response()
        if error.headers:
            response.headers.update(error.headers)
        return response

    async def validation_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, RequestValidationError)
        problems = [
            make(
                "E608",
                "请求参数格式错误",
                Location(cell=".".join(str(p) for p in e["loc"])),
                found=_clip(e.get("input")),
                expected=str(e.get("msg")),
            )
            for e in error.errors()
        ]
        return ServiceError(
            422, problems or [make("E608", "请求参数格式错误")]
        ).response()

    app.add_exception_handler(ServiceError, service_error)
    app.add_exception_handler(JiuzhuError, library_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)


def _routes(
    app: FastAPI,
    settings: Settings,
    cache: ProjectCache,
    batcher: Callable[[], Batcher],
) -> None:
    schema = DecisionsRequest.model_json_schema(
        ref_template="#/components/schemas/{model}"
    )
    definitions = schema.pop("$defs", {})
    body_schema = {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schema}},
        }
    }
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        """FastAPI's description, with the request body's models as components."""
        described = generate()
        described.setdefault("components", {}).setdefault("schemas", {}).update(
            definitions
        )
        return described

    app.openapi = openapi  # type: ignore[method-assign]

    @app.post(
        f"/{API}/decisions",
        response_model=DecisionsResponse,
        responses=ERRORS,
        openapi_extra=body_schema,
        summary="对家庭作出决策（decide for households）",
    )
    async def decisions(request: Request) -> Response:
        raw = await read_body(request, settings.max_body_bytes)
        parsed = parse_decision_request(
            parse_json(raw), settings.max_households, date.today()
        )
        request.state.households = len(parsed.households)
        if not parsed.households:
            return Response(
                decisions_body({}, parsed.as_of, []), media_type="application/json"
            )
        warm = await anyio.to_thread.run_sync(cache.get, parsed.as_of, parsed.pins)
        outcome = await batcher().decide(warm, parsed)
        if isinstance(outcome, ServiceError):
            raise outcome
        body = await anyio.to_thread.run_sync(
            decisions_body, warm.labels, parsed.as_of, outcome
        )
        return Response(body, media_type="application/json")

    @app.get(f"/{API}/counties", responses=ERRORS, summary="县（市、区）及生效版本")
    async def counties(as_of: str | None = None) -> Response:
        day = _query_date(as_of)
        warm = await anyio.to_thread.run_sync(cache.get, day, {})
        listed = [
            {
                "county_code": code,
                "county_name": plan.rulebook.county_name,
                "version": warm.labels.get(code, WORKING_COPY),
                "working_copy": warm.labels.get(code, WORKING_COPY) == WORKING_COPY,
            }
            for code, plan in sorted(warm.project.plans.items())
        ]
        errors = len(warm.project.report.errors)
        return _json_response(
            {"as_of": day, "counties": listed, "table_errors": errors}
        )

    @app.get(
        f"/{API}/counties/{{code}}/versions",
        responses=ERRORS,
        summary="某县已发布的版本（published versions）",
    )
    async def versions(code: str) -> Response:
        _county_code(code)
        body = await anyio.to_thread.run_sync(_history, cache, code)
        return _json_response(body)

    @app.get(
        f"/{API}/counties/{{code}}/versions/{{n}}",
        responses=ERRORS,
        summary="某一版本的规范化决策表（canonical tables of a version）",
    )
    async def version(code: str, n: str) -> Response:
        _county_code(code)
        if not re.fullmatch(r"[1-9]\d{0,8}", n):
            raise request_error(
                "E608", "版本号应是正整数", "url.n", found=n[:40], expected="3"
            )
        body = await anyio.to_thread.run_sync(_version, cache, code, int(n))
        return _json_response(body)

    @app.get(f"/{API}/health", summary="服务状态（health）")
    async def health() -> Response:
        try:
            registry_module()
            has_registry = True
        except ServiceError:
            has_registry = False
        return _json_response(
            {
                "status": "ok",
                "api": API,
                "registry_module": has_registry,
                "projects_cached": len(cache),
                "limits": {
                    "max_body_bytes": settings.max_body_bytes,
                    "max_households": settings.max_households,
                },
            }
        )


def _query_date(text: str | None) -> date:
    day, problems = _as_of(text, date.today(), "query.as_of")
    if problems:
        raise ServiceError(422, problems)
    return day


def _county_code(code: str) -> None:
    if not re.fullmatch(r"\d{6}", code):
        raise request_error(
            "E608",
            "县（市、区）代码应为六位数字",
            "url.code",
            found=code[:40],
            expected="330106",
        )


def _history(cache: ProjectCache, code: str) -> dict[str, Any]:
    registry = registry_module()
    try:
        history = registry.Registry(cache.registry_path()).history(code)
    except RegistryError as error:
        raise from_library(error) from None
    warm = cache.get(date.today(), {})
    if not history and code not in warm.project.plans:
        raise request_error(
            "E606",
            f"未知的县（市、区）代码「{code}」",
            "url.code",
            404,
            found=code,
            expected="GET /v1/counties 列出的代码",
        )
    in_force = warm.labels.get(code, WORKING_COPY)
    name = (
        history[-1].county_name
        if history
        else warm.project.plans[code].rulebook.county_name
    )
    return {
        "county_code": code,
        "county_name": name,
        "in_force_today": in_force,
        "versions": [_version_summary(v, in_force) for v in history],
    }


def _version_summary(version: Any, in_force: str) -> dict[str, Any]:
    return {
        "number": version.number,
        "label": version.label,
        "kind": version.kind,
        "effective_from": version.effective_from,
        "published_at": version.published_at,
        "author": version.author,
        "note": version.note,
        "withdraws": version.withdraws,
        "hash": version.hash,
        "in_force_today": version.label == in_force,
    }


def _version(cache: ProjectCache, code: str, number: int) -> dict[str, Any]:
    registry = registry_module()
    try:
        version = registry.Registry(cache.registry_path()).get(code, number)
    except RegistryError as error:
        where = Location(cell="url.n")
        placed = [
            _with_location(d, where) if d.code == "E704" else d
            for d in error.diagnostics
        ]
        raise from_library(RegistryError(placed)) from None
    return {
        **_version_summary(version, ""),
        "county_code": code,
        "county_name": version.county_name,
        "version": version.label,
        "canonical": version.canonical,
        "validation": json.loads(version.validation),
    }


# ---------------------------------------------------------------- guard and log line


_SEGMENT = re.compile(r"[a-z][a-z0-9_.-]{0,30}|\d{1,6}|\{[a-z]+\}")


def _route_text(scope: Mapping[str, Any]) -> str:
    """The path as logged: segments that could carry personal data (long digit
    strings, names) are replaced by ``*``."""
    parts = str(scope.get("path", "")).split("/")
    return "/".join(p if not p or _SEGMENT.fullmatch(p) else "*" for p in parts)


class _Guard:
    """Outermost ASGI middleware: answers any escaped exception with the error body
    (500, E611) and writes the request's one log line."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started, status = time.perf_counter(), [0]

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as error:  # noqa: BLE001 - no traceback to the client
            _log_bug(error)
            if status[0] == 0:
                status[0] = 500
                await internal_error().response()(scope, receive, send)
        finally:
            households = scope.get("state", {}).get("households", "-")
            logger.info(
                "%s %s %d households=%s %.1f ms",
                scope["method"],
                _route_text(scope),
                status[0],
                households,
                (time.perf_counter() - started) * 1000,
            )


__all__ = [
    "WORKING_COPY",
    "DecisionRequest",
    "Evaluator",
    "ProjectCache",
    "ServiceError",
    "Settings",
    "create_app",
]
