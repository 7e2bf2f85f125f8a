"""Findings: a diagnostic before it reaches a county's report, cached and shared.

Findings are cached by the structure of the workbook objects and the constants
substituted into them, because most counties share the province's tables and differ
only in a few standards. ``emit`` gives a finding to a report once, naming every
county that shares it.
"""

from __future__ import annotations

import dataclasses
import weakref
from dataclasses import dataclass

from compiler import logger
from compiler.county import County
from compiler.diagnostics import Location, Report, make

CACHE_LIMIT = 4096


@dataclass(frozen=True)
class Finding:
    """A diagnostic before it is given to a county's report."""

    code: str
    message: str
    location: Location
    details: tuple[tuple[str, object], ...] = ()


def finding(code: str, message: str, location: Location, **details: object) -> Finding:
    return Finding(code, message, location, tuple(details.items()))


CACHE: dict[tuple[object, ...], list[Finding]] = {}
# The workbook objects a structure key was made from, held so that their ids stay theirs.
_HELD: dict[tuple[int, ...], tuple[object, ...]] = {}


def structure_key(county: County) -> tuple[int, ...]:
    """Counties whose rulebooks hold the same table, derived-value and field objects
    (the province's, unless a county overrides them) bind them alike."""
    book = county.plan.rulebook
    objects = (*book.tables.values(), *book.derived.values(), *book.fields.values())
    key = tuple(id(o) for o in objects)
    if key not in _HELD:
        if len(_HELD) > CACHE_LIMIT:
            _HELD.clear()
            CACHE.clear()
        _HELD[key] = objects
    return key


def constants_key(county: County, names: list[str]) -> tuple[object, ...]:
    return tuple(
        (n, type(county.env.get(n)).__name__, county.env.get(n))
        for n in names
        if n in county.constants
    )


def not_analysed(location: Location, what: str, error: Exception) -> Finding:
    logger.info("分析跳过 %s：%s", what, error)
    return finding(
        "W503",
        f"{what}无法分析：其中有类型不一致的比较",
        location,
        found=str(error),
        expected="条件与列的类型一致（见同一单元格的 E303 等错误）",
        hint="先改正其他错误，再看分析结果",
    )


# Diagnostics already given to a report, so that a finding several counties share is
# listed once with the counties named (the message says which).
_EMITTED: weakref.WeakKeyDictionary[
    Report, dict[tuple[object, ...], tuple[int, list[str]]]
] = weakref.WeakKeyDictionary()


def emit(report: Report, county: str, found: Finding) -> None:
    seen = _EMITTED.setdefault(report, {})
    key = (found.code, found.location, found.message)
    entry = seen.get(key)
    details = dict(found.details)
    if entry is not None:
        index, counties = entry
        old = report.items[index] if index < len(report.items) else None
        if (
            old is not None
            and old.code == found.code
            and old.location == found.location
        ):
            counties.append(county)
            extra = {**old.extra, "counties": list(counties)}
            report.items[index] = dataclasses.replace(
                old, message=found.message + _counties(counties), extra=extra
            )
            return
    before = len(report.items)
    report.add(
        make(
            found.code,
            found.message + _counties([county]),
            found.location,
            counties=[county],
            **details,
        )
    )
    if len(report.items) > before:
        seen[key] = (before, [county])


def _counties(counties: list[str]) -> str:
    if not counties or counties == [""]:
        return ""
    if len(counties) <= 3:
        return "（" + "、".join(counties) + "）"
    return f"（{'、'.join(counties[:3])} 等 {len(counties)} 个县（市、区））"
