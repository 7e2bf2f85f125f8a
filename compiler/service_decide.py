"""Deciding the service's requests: in worker threads, merged while workers are busy.

``Batcher.decide`` hands a request to the workers; while all are busy, requests wait,
and the next free worker decides every waiting request of the same project and date in
one run (``Evaluator.decide_requests``). Each request still gets exactly the decisions,
or the errors, it would get alone: when a merged run fails, the requests its
diagnostics blame are decided alone and the rest together again. A key that most
likely names an amount is judged for each object that has it, on that object's own
keys (``households_keys``, helper-97), so a merged run refuses the same households as
their requests alone would: another request's ``income.wage`` supplies no other
household's ``工资收入``. A request sure to be refused so (a key whose field no key of
its own households supplies, ``_amount_keys``) is decided alone from the start, to
spare the others a merged run that fails; one refused for a household whose own keys
lack the field beside another that has it fails the merged run, is blamed at that
household's path and decided alone. Households are written to a temporary JSON file
and decided by ``compiler.evaluate`` on the worker's own DuckDB connection;
``decisions_body`` encodes the answer.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from compiler import logger
from compiler.calendar import reached_years, unlisted_year_warning, unlisted_years
from compiler.diagnostics import Diagnostic, Location, make
from compiler.engine import Project, connect, contract_error
from compiler.errors import EvaluationError, InputError, JiuzhuError, ValidationFailed
from compiler.evaluate import (
    LARGE_AMOUNTS,
    decide,
    large_amount_households,
    prepare,
)
from compiler.event_types import unknown_event_types
from compiler.households_keys import amount_keys, merged, shape, undeclared, warning
from compiler.households_model import LISTS, Column, input_columns
from compiler.households_numbers import number_text
from compiler.households_plausible import CODES as PLAUSIBLE
from compiler.households_plausible import implausible
from compiler.model import Kind, Level
from compiler.output import decision_records
from compiler.service_errors import (
    INDEXED,
    MAX_ERRORS,
    ServiceError,
    encode,
    error_item,
    from_library,
    internal_error,
    log_bug,
    request_error,
    with_location,
)
from compiler.service_projects import WORKING_COPY, Warm
from compiler.service_request import DecisionRequest
from compiler.sqlgen import string

if TYPE_CHECKING:
    from compiler.registry import Version

# ---------------------------------------------------------------- evaluation


class Decided(list[dict[str, Any]]):
    """One request's decisions, in its households' order, and the warnings its run
    gave about its households that only the loaded input can tell (W602: an event
    type no rule names; W603-W610: implausible values; as ``jiuzhu evaluate`` warns
    of them)."""

    def __init__(self, records: list[dict[str, Any]], warnings: list[Diagnostic]) -> None:
        super().__init__(records)
        self.warnings = warnings


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

        Mergeable requests are decided in one run, but for those ``_amount_keys``
        knows will be refused; when that run fails, the requests the diagnostics
        blame are decided alone (so their errors are exactly those a lone request
        gets) and the others are tried together again; when a diagnostic cannot be
        placed in one request, every request is decided alone.
        """
        outcomes: dict[int, Outcome] = {
            i: [] for i, r in enumerate(requests) if not r.households
        }
        group = [i for i, r in enumerate(requests) if r.households and r.mergeable]
        if len(group) > 1:
            group = [i for i in group if not _amount_keys(warm, requests[i].households)]
        alone = [i for i, r in enumerate(requests) if r.households and i not in group]
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
                refused = from_library(_placed(error, requests[i].households))
                if isinstance(error, ValidationFailed):
                    refused = _refused_households(warm, refused, requests[i].households)
                outcomes[i] = refused
        return [outcomes[i] for i in range(len(requests))]

    def _run(
        self, warm: Warm, as_of: date, parts: list[list[Any]]
    ) -> list[list[dict[str, Any]]]:
        """One evaluation over the households of ``parts``; with more than one part,
        each household_id is prefixed by its part's number so parts cannot clash."""
        merged = _merged(parts)
        with tempfile.TemporaryDirectory(prefix="jiuzhu-service-") as scratch:
            path = Path(scratch) / "households.json"
            path.write_bytes(_households_file(merged, warm.project))
            con = self._connection()
            try:
                present = prepare(con, warm.project, path, as_of, versions=warm.labels)
                try:
                    relation = decide(con, warm.project, present)
                except InputError as failure:  # a value the SQL could not compute
                    raise _with_large_amounts(con, warm.project, failure) from None
                records = decision_records(con, _in_input_order(relation))
                plans = [warm.project.plan(c) for c in present]
                noted = [
                    _event_types(con, plans, k, len(parts))
                    + _implausible(con, warm.project, as_of, k, len(parts))
                    for k in range(len(parts))
                ]
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
        split = _split(records, parts)
        return [Decided(part, notes) for part, notes in zip(split, noted, strict=True)]


# households of a broken county named one by one, the last saying how many more
_NAMED_HOUSEHOLDS = 10


def _refused_households(
    warm: Warm, refused: ServiceError, households: list[Any]
) -> ServiceError:
    """A request refused for its tables' errors (503) that also holds households of
    counties whose tables are sound: the whole request is still refused (one answer,
    one status), but the households of the broken counties are named first, each at
    its ``county_code`` (E610), so the client can send the others without them. A
    request whose every household is refused (a broken province, one county) is
    answered as before: the table errors alone, their path null."""
    verdicts: dict[str, bool] = {}
    broken: list[tuple[int, str]] = []
    for i, household in enumerate(households):
        county = (_county_of(household) or "").strip()
        if county not in warm.project.plans:
            continue  # an unknown county is refused with E606 before this
        if county not in verdicts:
            verdicts[county] = bool(warm.project.errors_for([county]))
        if verdicts[county]:
            broken.append((i, county))
    if not broken or len(broken) == len(households):
        return refused
    named = [
        _refused_household(warm, i, county, refused.diagnostics)
        for i, county in broken[:_NAMED_HOUSEHOLDS]
    ]
    if len(broken) > _NAMED_HOUSEHOLDS:
        last = named[-1]
        more = f"{last.message}（另有 {len(broken) - _NAMED_HOUSEHOLDS} 户同样未决策）"
        named[-1] = replace(last, message=more)
    return ServiceError(refused.status, named + refused.diagnostics, refused.headers)


def _refused_household(
    warm: Warm, index: int, county: str, errors: list[Diagnostic]
) -> Diagnostic:
    name = warm.project.plans[county].rulebook.county_name
    own = [d for d in warm.project.errors_for([county]) if d in errors] or errors
    cell = own[0].location.render() if own[0].location != Location() else None
    where = f"（如 {cell}）" if cell else ""
    return make(
        "E610",
        f"该户所在的 {county} {name}的决策表有 {len(own)} 处错误{where}，"
        "本请求未作决策",
        Location(cell=f"$.households[{index}].county_code"),
        found=county,
        expected="决策表没有错误的县（市、区）",
        hint=f"去掉 {county} 的家庭后重新提交，其他县的家庭即可照常决策；"
        "该县的决策表改正后（错误及其单元格列在后面）再提交这些家庭",
    )


def _amount_keys(warm: Warm, households: list[Any]) -> bool:
    """Whether a request has a key that most likely names an amount no key of its
    own households supplies (``households_keys.amount_keys`` over its households
    merged): every object with that key lacks the field, so the request is refused
    (E603) alone or merged, and is better decided alone. A request whose households
    supply the field elsewhere may still be refused, at a household that lacks it."""
    schema = {level: input_columns(warm.project.fields, level) for level in Level}
    guesses = amount_keys(merged(households, shape(schema)), schema).values()
    return not all(supplied for _, supplied in guesses)


def _event_types(
    con: duckdb.DuckDBPyConnection, plans: list[Any], part: int, parts: int
) -> list[Diagnostic]:
    """W602 for the events of one part of a run (``unknown_event_types`` over the
    events and households whose ids carry the part's prefix ``k~``, taken off)."""
    if parts == 1:
        return unknown_event_types(con, plans)
    return unknown_event_types(
        con, plans, _part_of("jz_events", part), _part_of("jz_households", part)
    )


def _implausible(
    con: duckdb.DuckDBPyConnection, project: Project, as_of: date, part: int, parts: int
) -> list[Diagnostic]:
    """W603-W610 for the households of one part of a run, as for W602."""
    if parts == 1:
        return implausible(con, project.fields, as_of=as_of)
    return implausible(
        con,
        project.fields,
        _part_of("jz_households", part),
        _part_of("jz_members", part),
        events=_part_of("jz_events", part),
        as_of=as_of,
    )


def _part_of(relation: str, part: int) -> str:
    """The rows of ``relation`` whose household ids carry the prefix ``part~``, with
    the prefix taken off."""
    prefix = string(f"{part}~")
    return (
        f"(SELECT * REPLACE (substr(household_id, length({prefix}) + 1) AS household_id)"
        f" FROM {relation} WHERE starts_with(household_id, {prefix}))"
    )


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


def _with_large_amounts(
    con: duckdb.DuckDBPyConnection, project: Project, failure: InputError
) -> InputError:
    """An E605 for a sum no column holds, once for each household whose amounts add
    up to more than 10^15 yuan (as ``jiuzhu evaluate`` names them), each naming its
    household so that ``_placed`` gives it the household's path. DuckDB's value is
    kept on the first only: which household it came from is a guess."""
    ids = large_amount_households(con, project, failure, MAX_ERRORS)
    if not ids:  # the households whose decision fails on their own, at the cell
        from compiler.overflow import located

        found = located(con, project, failure.diagnostics[0], "full", MAX_ERRORS)
        return InputError(found) if found else failure
    problem = failure.diagnostics[0]
    return InputError(
        [
            replace(
                problem,
                message=f"{problem.message}：家庭 {ident} {LARGE_AMOUNTS}",
                found=problem.found if k == 0 else None,
                extra={**problem.extra, "household": ident},
            )
            for k, ident in enumerate(ids)
        ]
    )


def _placed(error: JiuzhuError, households: list[Any]) -> JiuzhuError:
    """A contract error (E601/E602) or an amount too large (E605) given the JSON path
    of the household it names, a working day out of the calendar (E612) the path of
    the event dated that day in the household it names (the first of the request
    dated that day when it names none)."""
    if not isinstance(error, EvaluationError | InputError):
        return error
    ids = [
        _id_text(h.get("household_id")) if isinstance(h, dict) else None
        for h in households
    ]
    placed = []
    for diagnostic in error.diagnostics:
        household = diagnostic.extra.get("household")
        if diagnostic.code == "E612" and not diagnostic.location.cell:
            # the event the error names (in its household, of that day), else the first of that day
            known = household is not None and str(household) in ids
            within = ids.index(str(household)) if known else None
            event = diagnostic.extra.get("event") if known else None
            path = _event_dated(households, str(diagnostic.found), within, event)
            if path is not None:
                diagnostic = with_location(diagnostic, Location(cell=path))
        elif (
            household is not None
            and str(household) in ids
            and not diagnostic.location.cell
        ):
            where = Location(cell=f"$[{ids.index(str(household))}]")
            diagnostic = with_location(diagnostic, where)
        placed.append(diagnostic)
    return type(error)(placed)


def _event_dated(
    households: list[Any], day: str, within: int | None = None, index: object = None
) -> str | None:
    """The path of the event of the request dated ``day`` (ISO): of the household at
    index ``within`` if given, the one at ``index`` in its list if that one is dated
    ``day``, else the first of that day."""
    for i, household in enumerate(households):
        if within is not None and i != within:
            continue
        events = household.get("events") if isinstance(household, dict) else None
        listed = events if isinstance(events, list) else []
        dated = [
            j for j, event in enumerate(listed)
            if isinstance(event, dict) and str(event.get("date")) == day
        ]
        if dated:
            return f"$[{i}].events[{index if index in dated else dated[0]}].date"
    return None


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


def _households_file(households: list[Any], project: Project) -> bytes:
    """The households as a JSON list, for the loader to read as it reads a file.

    A number with a fraction (a Decimal) is written as a string of digits, which the
    loader reads exactly (a JSON number would pass through binary floating point),
    except where a text field has it: there it stays a JSON number, so that the
    loader refuses it as it refuses any number where text belongs."""
    texts = {
        level: [
            c.key
            for c in input_columns(project.fields, level)
            if c.dtype.kind is Kind.TEXT
        ]
        for level in Level
    }
    try:
        return json.dumps(
            [_text_numbers(h, texts) for h in households],
            ensure_ascii=False,
            default=_exact,
            separators=(",", ":"),
        ).encode("utf-8")
    except UnicodeEncodeError:
        raise request_error(
            "E608",
            "请求中含有无法编码的字符（孤立的 \\uD800-\\uDFFF 转义）",
            "$.households",
            400,
            hint="字符串只能含有合法的 Unicode 字符",
        ) from None


def _exact(value: object) -> str:
    """A Decimal as the loader reads numbers (``number_text``: a number too large
    for its field is quoted as a file's JSON number is)."""
    if not isinstance(value, Decimal):
        raise TypeError(f"not JSON serialisable: {type(value).__name__}")
    return number_text(value)


def _text_numbers(
    household: object, texts: dict[Level, list[tuple[str, ...]]]
) -> object:
    """The household with each Decimal at a text field's key as a float: written as a
    JSON number, not as the string ``_exact`` would make of it. Unchanged (the same
    object) when there is none."""
    if not isinstance(household, dict):
        return household
    result = _floats_at(household, texts[Level.HOUSEHOLD])
    assert isinstance(result, dict)
    for level, name in LISTS.items():
        items = household.get(name)
        if isinstance(items, list):
            changed = [_floats_at(item, texts[level]) for item in items]
            if any(a is not b for a, b in zip(changed, items, strict=True)):
                result = {**result, name: changed}
    return result


def _floats_at(item: object, keys: list[tuple[str, ...]]) -> object:
    for key in keys:
        node = item
        for part in key:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, Decimal):  # a float past 1e308 would be written Infinity
            item = _replaced(item, key, max(-1e308, min(float(node), 1e308)))
    return item


def _replaced(item: object, key: tuple[str, ...], value: object) -> object:
    """A copy of ``item`` with ``value`` at ``key`` (whose parents are objects)."""
    assert isinstance(item, dict)
    head, *rest = key
    return {**item, head: _replaced(item[head], tuple(rest), value) if rest else value}


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
    ``$[i]...``, or the household ``k~H001`` a contract error or an amount too large
    names; empty when one cannot be placed."""
    if isinstance(error, ServiceError):
        return []
    offsets = [sum(sizes[:k]) for k in range(len(sizes) + 1)]
    blamed: set[int] = set()
    for diagnostic in error.diagnostics:
        match = INDEXED.fullmatch(diagnostic.location.cell or "")
        household = str(diagnostic.extra.get("household", ""))
        if match:
            index = int(match.group(1))
            blamed.add(next(k for k in range(len(sizes)) if index < offsets[k + 1]))
        elif re.match(r"\d+~", household):
            blamed.add(int(household.split("~", 1)[0]))
        else:
            return []
    return sorted(k for k in blamed if k < len(sizes))


def decisions_body(
    labels: dict[str, str],
    as_of: date,
    records: list[dict[str, Any]],
    warnings: list[dict[str, Any]] | None = None,
) -> bytes:
    """The answer to POST /v1/decisions: the decisions, the version of each county,
    and warnings about the request (``key_warnings``)."""
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
            "warnings": warnings or [],
        }
    )


_ANY = re.compile(r"\[\d+\]")


def key_warnings(project: Project, households: list[Any]) -> list[dict[str, Any]]:
    """W601 for each key of a household that no declared field has (a misspelt
    ``income.wages`` would leave the wage at 0), at its path in the request, naming
    the amount field it most likely names when a key of the request supplies it
    (``amount_keys`` over the request's households merged, as a file's records
    are); at most ``MAX_ERRORS``. Asked after a run that succeeded: there every
    object with such a key has the field's own key too, since one lacking it is
    refused (E603)."""
    schema = {level: input_columns(project.fields, level) for level in Level}
    nested = shape(schema)
    amounts: dict[tuple[str, str], tuple[Column, bool]] | None = None
    items: list[dict[str, Any]] = []
    for i, household in enumerate(households):
        for path, key, declared in undeclared(household, nested, f"$.households[{i}]"):
            if amounts is None:  # the request's keys merged, once one is looked up
                amounts = amount_keys(merged(households, nested), schema)
            within = path[len(f"$.households[{i}]") : -len(key) - 1]
            guess = amounts.get(("$" + _ANY.sub("[*]", within), key))
            said = guess[0] if guess and guess[1] else None  # else refused: E603
            where = Location(cell=path)
            items.append(error_item(warning(path, key, declared, where, said)))
            if len(items) >= MAX_ERRORS:
                return items
    return items


def event_type_warnings(outcome: Outcome, households: list[Any]) -> list[dict[str, Any]]:
    """The W602 warnings of a request's run, each at the path of the first event of
    its type in the request (``$.households[0].events[1].type``), in a household of
    the county it names, if it names one."""
    items = []
    for diagnostic in _run_warnings(outcome, "W602"):
        county = diagnostic.extra.get("county")
        path = next(
            (
                f"$.households[{i}].events[{j}].type"
                for i, household in enumerate(households)
                if county is None or _county_of(household) == county
                for j, event in enumerate(_events_of(household))
                if isinstance(event, dict) and event.get("type") == diagnostic.found
            ),
            None,
        )
        placed = with_location(diagnostic, Location(cell=path)) if path else diagnostic
        items.append(error_item(placed))
    return items


def plausibility_warnings(outcome: Outcome, households: list[Any]) -> list[dict[str, Any]]:
    """The W603-W610 warnings of a request's run, each at the path of the value it is
    about (``$.households[0].members[2].birth_date``; ``members`` for a household
    without a head; ``events[1].date`` for an event's)."""
    items = []
    for diagnostic in _run_warnings(outcome, *PLAUSIBLE):
        path = _value_path(households, diagnostic.extra, diagnostic.found)
        placed = with_location(diagnostic, Location(cell=path)) if path else diagnostic
        items.append(error_item(placed))
    return items


def _run_warnings(outcome: Outcome, *codes: str) -> list[Diagnostic]:
    warnings = outcome.warnings if isinstance(outcome, Decided) else []
    return [d for d in warnings if d.code in codes]


def _value_path(
    households: list[Any], named: dict[str, Any], value: str | None = None
) -> str | None:
    """The JSON path of the field ``named["field"]`` of the household and member (if
    any) ``named`` names, or of its first event whose value of that field is
    ``value``; None when the request has no such household."""
    found = next(
        (
            (i, h)
            for i, h in enumerate(households)
            if isinstance(h, dict) and _id_text(h.get("household_id")) == named.get("household")
        ),
        None,
    )
    if found is None:
        return None
    i, household = found
    field = str(named.get("field"))
    if field.startswith("event."):
        key = field.removeprefix("event.")
        k = next(
            (
                k
                for k, event in enumerate(_events_of(household))
                if isinstance(event, dict) and _id_text(event.get(key)) == value
            ),
            None,
        )
        return f"$.households[{i}].events[{k}].{key}" if k is not None else None
    person = named.get("person")
    if person is None:
        return f"$.households[{i}].{'members' if field == 'relation' else field}"
    members = household.get("members")
    j = next(
        (
            j
            for j, member in enumerate(members if isinstance(members, list) else [])
            if isinstance(member, dict) and _id_text(member.get("person_id")) == person
        ),
        None,
    )
    return f"$.households[{i}].members[{j}].{field}" if j is not None else None


def _county_of(household: object) -> str | None:
    return _id_text(household.get("county_code")) if isinstance(household, dict) else None


def _events_of(household: object) -> list[Any]:
    events = household.get("events") if isinstance(household, dict) else None
    return events if isinstance(events, list) else []


def calendar_warnings(
    project: Project, as_of: date, households: list[Any]
) -> list[dict[str, Any]]:
    """W403 when the decision date's year, or a year the working-day counts of events
    on or before it may run into, has no holiday schedule in the calendar (counted
    Monday to Friday): the first event of each such year is named at its path."""
    # once for the decision date's year: the working copy's 日历 and a published
    # version's say it alike (a request got it twice, helper-58)
    said = {d.message: d for d in project.report.items if d.code == "W403"}
    tables = list(said.values())
    plan = next(iter(project.plans.values()), None)
    if plan is None:
        return [error_item(d) for d in tables]
    listed = {d.day.year for d in plan.rulebook.calendar}
    dated: list[tuple[date, str]] = []
    for i, household in enumerate(households):
        events = household.get("events") if isinstance(household, dict) else None
        for j, event in enumerate(events if isinstance(events, list) else []):
            try:
                day = date.fromisoformat(event["date"])
            except (TypeError, KeyError, ValueError):
                continue  # an event without a date counts nothing
            if day <= as_of:  # a later event raises no alert yet
                dated.append((day, f"$.households[{i}].events[{j}].date"))
    events = []
    for year, n in unlisted_years(listed, (day for day, _ in dated)).items():
        path = next(p for day, p in dated if year in reached_years(day))
        warning_ = replace(unlisted_year_warning(year, n, "请求中"), location=Location(cell=path))
        events.append(warning_)
    # the decision date's year is said once: by its events' line when they count in
    # it too (both ask to add that year to the 日历 sheet, in the same words)
    counted = {d.expected for d in events}
    return [error_item(d) for d in tables if d.expected not in counted] + [
        error_item(d) for d in events
    ]


def version_warnings(
    warm: Warm, as_of: date, households: list[Any]
) -> list[dict[str, Any]]:
    """W703 at ``$.versions.CODE`` for each pinned version that takes effect after
    ``as_of`` and decided a household of the request: its decisions preview that
    version, they are not those in force on the date (``jiuzhu evaluate`` takes only
    the versions in force on ``--as-of``, so it never decides so). W704 there for each
    such version that was withdrawn, naming the withdrawal."""
    present = {_county_of(h) for h in households}
    items = []
    for code, begins in sorted(warm.not_yet.items()):
        if code not in present:
            continue
        label = warm.labels.get(code, code)
        items.append(
            error_item(
                make(
                    "W703",
                    f"指定的 {label} 自 {begins} 起生效，在决策日 {as_of} 尚未生效："
                    "该县家庭的决策按这一版本作出，是预览，不是该日实际适用的决策",
                    Location(cell=f"$.versions.{code}"),
                    found=f"{label}（自 {begins} 起生效）",
                    expected=f"生效日期不晚于决策日 {as_of} 的版本",
                    hint=f"要按 {as_of} 实际生效的版本决策，去掉 versions 中的 {code}；"
                    f"要看该版本生效后的决策，把 as_of 改为 {begins} 或以后",
                )
            )
        )
    for code, withdrawal in sorted(warm.withdrawn.items()):
        if code in present:
            items.append(_withdrawn_warning(warm, code, withdrawal, as_of))
    return items


def _withdrawn_warning(
    warm: Warm, code: str, withdrawal: Version, as_of: date
) -> dict[str, Any]:
    """W704 for a pinned version that ``withdrawal`` (a version of kind withdraw)
    took back: its content was found not to be applied, whatever the date."""
    label = warm.labels.get(code, code)
    when = f"{withdrawal.published_at[:10]} 被 {withdrawal.label} 撤回"
    since = f"撤回自 {withdrawal.effective_from} 起生效"
    # from the withdrawal's date on, the pinned content is not what applies; before
    # it the version may have applied, but its content has been taken back since
    status = (
        f"不是决策日 {as_of} 实际适用的决策"
        if as_of >= withdrawal.effective_from
        else f"撤回在决策日 {as_of} 尚未生效，但该版本的内容已被撤回，不宜用于正式决策"
    )
    return error_item(
        make(
            "W704",
            f"指定的 {label} 已于 {when}（{since}）：该县家庭的决策仍按被撤回的"
            f"版本作出，{status}",
            Location(cell=f"$.versions.{code}"),
            found=f"{label}（已于 {when}）",
            expected="未被撤回的版本",
            hint=f"要按 {as_of} 实际生效的版本决策，去掉 versions 中的 {code}；"
            f"撤回的原因见 jiuzhu history --county {code}",
        )
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
    and the next free worker decides at once every waiting mergeable request of the
    same tables and pinned versions (``Warm.key``) and date, up to ``max_households``
    in all."""

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
            log_bug(error)
            outcomes = [internal_error()] * len(batch)
        if len(batch) > 1:
            logger.info(
                "合并决策 %d 个请求（%d 户）",
                len(batch),
                sum(len(p.request.households) for p in batch),
            )
        for pending, outcome in zip(batch, outcomes, strict=True):
            if not pending.future.done():
                pending.future.set_result(outcome)


__all__ = [
    "Batcher",
    "Decided",
    "Evaluator",
    "Outcome",
    "decisions_body",
    "event_type_warnings",
    "key_warnings",
    "plausibility_warnings",
    "version_warnings",
]
