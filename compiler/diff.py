"""What changes between two versions of a county's tables, and for whom.

``diff_sides`` compares two sides county by county with ``diff_rulebooks``
(``compiler.diff_rulebooks``): standards value by value over time (every period where
the value in force differs, old -> new), derived values, decision tables (hit policy,
columns, and rules matched by their identifier, cell by cell), fields and the calendar.
``impact`` (``compiler.diff_impact``) runs both sides' compiled SQL over a household
file and lists the households whose group, entitlements or monitoring change, with
counts of who moves between which groups and which entitlements are gained or lost, by
county.

A side is one or more counties' rulebooks with a label; ``registry_refs.resolve_ref``
turns what a user writes (``330106@3``, ``330106``, ``330106@work``, a workbook or YAML
path, ``published``, ``work``) into a side. Results are plain dicts (the JSON output);
``render_text`` (``compiler.diff_text``) turns them into the Chinese report the CLI
prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from compiler.bind import Plan, bind
from compiler.diagnostics import Diagnostic, Report
from compiler.diff_rulebooks import diff_rulebooks
from compiler.model import RuleBook


@dataclass
class Side:
    """One side of a comparison: rulebooks by county and the label of each;
    ``effective``, for a published version, the day it took effect (a diff's default
    day is never before it: ``diff_dates``)."""

    label: str
    books: dict[str, RuleBook]
    versions: dict[str, str] = field(default_factory=dict)
    effective: dict[str, date] = field(default_factory=dict)
    _bound: dict[str, tuple[Plan, list[Diagnostic]]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _checked: dict[tuple[str, date], list[Diagnostic]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def bound(self, code: str) -> tuple[Plan, list[Diagnostic]]:
        """The county's rulebook bound and what binding reported, bound once per side
        (the table diff, the error summary and the impact all read it). Each county
        binds on its own: a shared BindCache would report a shared table's problems
        to the first county only."""
        if code not in self._bound:
            report = Report()
            self._bound[code] = (bind(self.books[code], report), report.items)
        return self._bound[code]

    def knowing(self, bound: dict[str, tuple[Plan, list[Diagnostic]]]) -> Side:
        """This side, with counties its maker has already bound (and what that reported)."""
        self._bound.update(bound)
        return self

    def checked(self, code: str, as_of: date) -> list[Diagnostic]:
        """What binding and validating the county on ``as_of`` report, once per side and
        date (the error summary and the impact both read it)."""
        key = (code, as_of)
        if key not in self._checked:
            from compiler.validate import validate

            plan, found = self.bound(code)
            report = Report()
            report.extend(found)
            validate(plan, report, as_of, {})
            self._checked[key] = report.items
        return self._checked[key]


def side_errors(side: Side, as_of: date) -> list:  # type: ignore[type-arg]
    """The validation errors of a side's rulebooks (a standard out of its bounds, say):
    a draft with errors can still be compared, but its reader must be told."""
    report = Report()
    for code in side.books:
        report.extend(side.checked(code, as_of))
    return list(report.errors)


def diff_sides(old: Side, new: Side, as_of: date | None = None) -> dict[str, Any]:
    """The table differences of every county on either side."""
    pairs = county_pairs(old, new)
    return {
        "old": old.label,
        "new": new.label,
        "as_of": as_of.isoformat() if as_of else None,
        "counties": {
            code: diff_rulebooks(
                old.books.get(a), new.books.get(b), as_of, (_plan(old, a), _plan(new, b))
            )
            for code, (a, b) in pairs.items()
        },
    }


def _plan(side: Side, code: str) -> Plan | None:
    """The county's bound plan, None when it is not on this side or does not bind."""
    if code not in side.books:
        return None
    plan, found = side.bound(code)
    return None if any(d.is_error for d in found) else plan


def county_pairs(old: Side, new: Side) -> dict[str, tuple[str, str]]:
    """Counties to compare: the same code on both sides, or the one county of each."""
    if len(old.books) == 1 and len(new.books) == 1:
        a, b = next(iter(old.books)), next(iter(new.books))
        return {b if a == b else f"{a}→{b}": (a, b)}
    codes = sorted(set(old.books) | set(new.books))
    return {code: (code, code) for code in codes}


__all__ = ["Side", "county_pairs", "diff_sides", "side_errors"]
