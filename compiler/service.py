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

This module holds the app, its routes and the guard that writes the log line; the
parts are beside it: ``service_request`` (the request body), ``service_projects``
(warm projects), ``service_decide`` (evaluation and batching), ``service_errors``
(the error body) and ``service_openapi`` (the OpenAPI models).
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from compiler import logger
from compiler.diagnostics import Diagnostic, Location, make
from compiler.errors import JiuzhuError, RegistryError
from compiler.service_decide import (
    Batcher,
    Evaluator,
    calendar_warnings,
    decisions_body,
    event_type_warnings,
    key_warnings,
    plausibility_warnings,
    version_warnings,
)
from compiler.service_errors import (
    ServiceError,
    from_library,
    internal_error,
    json_response,
    log_bug,
    request_error,
    with_location,
)
from compiler.service_openapi import ERRORS, DecisionsRequest, DecisionsResponse
from compiler.service_projects import WORKING_COPY, ProjectCache, registry_module
from compiler.service_request import (
    clip,
    parse_as_of,
    parse_decision_request,
    parse_json,
    read_body,
    version_problem,
)

API = "v1"


@dataclass(frozen=True)
class Settings:
    """Where the tables and the registry are, and the service's limits."""

    tables: str | Path = "tables"
    registry: str | Path | None = None  # None: compiler.registry's default place
    # how the user named the registry (--registry, JIUZHU_REGISTRY): it must then
    # exist for as long as the service runs (E705), as it must when the service starts
    registry_named_by: str | None = None
    max_body_bytes: int = 20 * 1024 * 1024
    max_households: int = 10_000
    body_timeout: float = 30.0  # seconds a request body may pause (E608, 408)
    workers: int = 2  # evaluation threads, each with its own DuckDB connection
    cached_projects: int = 4
    warm_on_start: bool = True


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
        # /v1/health/ is no route (404 with the error body), not a redirect whose
        # Location is built from the client's Host header
        redirect_slashes=False,
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
            "启动时未能打开今天适用的决策表：%s", type(error).__name__
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
                found=clip(e.get("input")),
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
        _only_query(request, ())
        raw = await read_body(request, settings.max_body_bytes, settings.body_timeout)
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
        warnings = await anyio.to_thread.run_sync(
            key_warnings, warm.project, parsed.households
        ) + calendar_warnings(warm.project, parsed.as_of, parsed.households)
        warnings += event_type_warnings(outcome, parsed.households)
        warnings += plausibility_warnings(outcome, parsed.households)
        warnings += version_warnings(warm, parsed.as_of, parsed.households)
        body = await anyio.to_thread.run_sync(
            decisions_body, warm.labels, parsed.as_of, outcome, warnings
        )
        return Response(body, media_type="application/json")

    @app.get(f"/{API}/counties", responses=ERRORS, summary="县（市、区）及生效版本")
    async def counties(request: Request, as_of: str | None = None) -> Response:
        _only_query(request, ("as_of",))
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
        return json_response({"as_of": day, "counties": listed, "table_errors": errors})

    @app.get(
        f"/{API}/counties/{{code}}/versions",
        responses=ERRORS,
        summary="某县已发布的版本（published versions）",
    )
    async def versions(request: Request, code: str) -> Response:
        _only_query(request, ())
        _county_code(code)
        body = await anyio.to_thread.run_sync(_history, cache, code)
        return json_response(body)

    @app.get(
        f"/{API}/counties/{{code}}/versions/{{n}}",
        responses=ERRORS,
        summary="某一版本的规范化决策表（canonical tables of a version）",
    )
    async def version(request: Request, code: str, n: str) -> Response:
        _only_query(request, ())
        _county_code(code)
        written = re.fullmatch(r"\+?([0-9]{1,40})", n)
        number = int(written.group(1)) if written else 0  # 0: no number
        problem = version_problem(number, "url.n") or _padded(number, n)
        if problem is not None:
            raise ServiceError(422, [replace(problem, found=n[:40])])
        body = await anyio.to_thread.run_sync(_version, cache, code, number)
        return json_response(body)

    # HEAD too: health checkers (load balancers, uptime probes) often send HEAD; the
    # same answer, whose body the server leaves out (one operation in the OpenAPI)
    @app.head(f"/{API}/health", include_in_schema=False)
    @app.get(f"/{API}/health", summary="服务状态（health）")
    async def health(request: Request) -> Response:
        _only_query(request, ())
        try:
            registry_module()
            has_registry = True
        except ServiceError:
            has_registry = False
        # a registry moved away, replaced or damaged stops decisions: not healthy
        problem = await anyio.to_thread.run_sync(cache.registry_problem)
        if problem is not None:
            raise problem
        return json_response(
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


def _padded(number: int, n: str) -> Diagnostic | None:
    """E608 for a version number written ``01`` or ``+1``: it is written as the body's
    ``versions`` writes it (JSON has neither), so that one version has one URL."""
    if n == str(number):
        return None
    return make(
        "E608",
        "版本号应写成不带前导零或正号的数字",
        Location(cell="url.n"),
        expected=str(number),
        hint=f"写成 /versions/{number}，与请求体 versions 中的写法相同",
    )


def _query_date(text: str | None) -> date:
    day, problems = parse_as_of(text, date.today(), "query.as_of")
    if problems:
        raise ServiceError(422, problems)
    return day


def _only_query(request: Request, allowed: tuple[str, ...]) -> None:
    """E608 for a query parameter the route does not read: ``?as_of=`` on a POST would
    otherwise be ignored and the decision made as of today without a word; 400 for
    one given twice, of which the route would read the last without a word."""
    params = request.query_params
    for name in params:
        if name in allowed and len(params.getlist(name)) > 1:
            given = params.getlist(name)
            raise request_error(
                "E608",
                f"查询参数「{name}」给了 {len(given)} 次，无法确定以哪一个为准",
                f"query.{name}",
                400,
                found="、".join(value[:40] for value in given[:5]),
                expected=f"只写一次，如 ?{name}=2025-08-01",
            )
        if name not in allowed:
            raise request_error(
                "E608",
                f"不支持查询参数「{name[:40]}」",
                f"query.{name[:40]}",
                found=name[:40],
                expected="、".join(allowed) if allowed else "不带查询参数",
                hint="决策日期 as_of 等写在请求体（JSON）中" if not allowed else None,
            )


def _county_code(code: str) -> None:
    if not re.fullmatch(r"[0-9]{6}", code):
        raise request_error(
            "E608",
            "县（市、区）代码应为六位数字",
            "url.code",
            found=code[:40],
            expected="330106",
        )


def _history(cache: ProjectCache, code: str) -> dict[str, Any]:
    registry_module()  # E610 when compiler.registry cannot be imported
    try:
        history = cache.checked_registry().history(code)
    except RegistryError as error:
        raise from_library(error) from None
    try:
        warm = cache.get(date.today(), {})
    except RegistryError as error:
        if not any(v.problem() for v in history):
            raise from_library(error) from None
        # a broken chain refuses decisions; its versions are still listed, each
        # marked "intact": false with the E703 that refuses it (helper-139)
        return _listing(code, history, "")
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
    return _listing(code, history, in_force, name)


def _listing(
    code: str, history: list[Any], in_force: str, name: str | None = None
) -> dict[str, Any]:
    return {
        "county_code": code,
        "county_name": name or history[-1].county_name,
        "in_force_today": in_force or None,
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
        **_integrity(version),
    }


def _integrity(version: Any) -> dict[str, Any]:
    """``intact``, as ``jiuzhu history --format json`` says it: false, with the E703
    that refuses it, for a version changed after publishing or of a broken chain."""
    problem = version.problem()
    if problem is None:
        return {"intact": True}
    return {"intact": False, "problem": {"code": problem.code, "message": problem.message}}


def _version(cache: ProjectCache, code: str, number: int) -> dict[str, Any]:
    registry_module()  # E610 when compiler.registry cannot be imported
    try:
        version = cache.checked_registry().get(code, number).checked()
    except RegistryError as error:
        where = Location(cell="url.n")
        placed = [
            with_location(d, where) if d.code == "E704" else d
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


_SEGMENT = re.compile(r"[a-z][a-z0-9_.-]{0,30}|[0-9]{1,6}|\{[a-z]+\}")


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
            log_bug(error)
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


__all__ = ["Settings", "create_app"]
