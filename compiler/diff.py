"""What changes between two versions of a county's tables, and for whom.

``diff_rulebooks`` compares two rulebooks: standards value by value over time (every
period where the value in force differs, old -> new), derived values, decision tables
(hit policy, columns, and rules matched by their identifier, cell by cell), fields and
the calendar. ``impact`` runs both sides' compiled SQL over a household file and lists
the households whose group, entitlements or monitoring change, with counts of who moves
between which groups and which entitlements are gained or lost, by county.

A side is one or more counties' rulebooks with a label; ``registry.resolve_ref`` turns what a
user writes (``330106@3``, ``330106``, ``330106@work``, a workbook or YAML path,
``published``, ``work``) into a side. Results are plain dicts (the JSON output);
``render_text`` turns them into the Chinese report the CLI prints.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from compiler.bind import Plan, bind
from compiler.calendar import WorkCalendar
from compiler.canonical import column_keys, layer_of_row
from compiler.diagnostics import Report, make
from compiler.engine import (
    Project,
    connect,
    contract_error,
    install_standards,
    run_programs,
)
from compiler.errors import InputError, ValidationFailed
from compiler.expr import Call, Name, children, render
from compiler.functions import FUNCTIONS
from compiler.interpret import Evaluation, Interpreter, cast
from compiler.model import (
    Kind,
    RuleBook,
    Standard,
    StandardRow,
    Table,
    Workbook,
    WorkbookKind,
)
from compiler.resolve import Tables

GROUP_CN = {
    "tekun": "特困供养",
    "dibao": "低保",
    "dibao_marginal": "低保边缘",
    "rigid_expense": "刚性支出困难",
    "low_income_support": "低收入帮扶",
    "none": "不属于低收入人口",
}
LAYER_CN = {"county": "县级", "city": "市级", "province": "省级"}
COMPARED = ("group", "entitlements", "monitoring")


@dataclass
class Side:
    """One side of a comparison: rulebooks by county and the label of each."""

    label: str
    books: dict[str, RuleBook]
    versions: dict[str, str] = field(default_factory=dict)

    def plans(self, report: Report | None = None) -> dict[str, Plan]:
        report = report if report is not None else Report()
        return {code: bind(book, report) for code, book in self.books.items()}


def side_errors(side: Side, as_of: date) -> list:  # type: ignore[type-arg]
    """The validation errors of a side's rulebooks (a standard out of its bounds, say):
    a draft with errors can still be compared, but its reader must be told."""
    from compiler.validate import validate

    report = Report()
    for plan in side.plans(report).values():
        validate(plan, report, as_of, {})
    return list(report.errors)


# ---------------------------------------------------------------- tables


def diff_sides(old: Side, new: Side, as_of: date | None = None) -> dict[str, Any]:
    """The table differences of every county on either side."""
    pairs = _pairs(old, new)
    return {
        "old": old.label,
        "new": new.label,
        "as_of": as_of.isoformat() if as_of else None,
        "counties": {
            code: diff_rulebooks(old.books.get(a), new.books.get(b), as_of)
            for code, (a, b) in pairs.items()
        },
    }


def _pairs(old: Side, new: Side) -> dict[str, tuple[str, str]]:
    """Counties to compare: the same code on both sides, or the one county of each."""
    if len(old.books) == 1 and len(new.books) == 1:
        a, b = next(iter(old.books)), next(iter(new.books))
        return {b if a == b else f"{a}→{b}": (a, b)}
    codes = sorted(set(old.books) | set(new.books))
    return {code: (code, code) for code in codes}


def diff_rulebooks(
    old: RuleBook | None, new: RuleBook | None, as_of: date | None = None
) -> dict[str, Any]:
    """Everything that differs between two rulebooks of a county (either may be None)."""
    empty = RuleBook("", "", {}, {}, {}, {}, [], [])
    a, b = old or empty, new or empty
    plan_a, plan_b = _bound(a), _bound(b)
    result = {
        "name": b.county_name or a.county_name,
        "standards": _standards(a, b),
        "derived": _derived(a, b, plan_a, plan_b),
        "derived_values": _derived_values(plan_a, plan_b, as_of) if as_of else [],
        "tables": _tables(a, b, plan_a, plan_b),
        "fields": _fields(a, b),
        "calendar": _calendar(a, b),
    }
    return result


def _bound(book: RuleBook) -> Plan | None:
    report = Report()
    plan = bind(book, report)
    return None if report.has_errors else plan


def is_empty(county: dict[str, Any]) -> bool:
    return not any(
        county[k]
        for k in (
            "standards",
            "derived",
            "derived_values",
            "tables",
            "fields",
            "calendar",
        )
    )


# ------------------------------------------------------------ standards over time


@dataclass
class _Segment:
    start: date | None  # None: since ever
    end: date | None  # None: open
    row: StandardRow | None


def timeline(standard: Standard | None) -> list[_Segment]:
    """The row in force over time, periods merged (rows are in precedence order)."""
    if standard is None:
        return []
    points = sorted(
        {r.effective_from for r in standard.rows if r.effective_from}
        | {
            r.effective_until + timedelta(days=1)
            for r in standard.rows
            if r.effective_until
        }
    )
    segments: list[_Segment] = []
    starts: list[date | None] = [None, *points]
    for index, start in enumerate(starts):
        end = points[index] - timedelta(days=1) if index < len(points) else None
        probe = start or date.min
        row = next((r for r in standard.rows if r.in_force(probe)), None)
        if segments and segments[-1].row is row:
            segments[-1].end = end
        else:
            segments.append(_Segment(start, end, row))
    return segments


def _value_at(segments: list[_Segment], day: date | None) -> StandardRow | None:
    probe = day or date.min
    for segment in segments:
        if (segment.start or date.min) <= probe and (
            segment.end is None or probe <= segment.end
        ):
            return segment.row
    return None


def _standards(a: RuleBook, b: RuleBook) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for ident in _union(a.standards, b.standards):
        old, new = a.standards.get(ident), b.standards.get(ident)
        periods = _periods(a, b, old, new)
        attributes = _standard_attributes(a, b, old, new)
        if not periods and not attributes and (old is None) == (new is None):
            continue
        spec = new or old
        assert spec is not None
        found.append(
            {
                "id": ident,
                "name": spec.name_cn,
                "type": spec.dtype.render(),
                "unit": next((r.unit for r in spec.rows if r.unit), ""),
                "status": "added"
                if old is None
                else "removed"
                if new is None
                else "changed",
                "periods": periods,
                "attributes": attributes,
            }
        )
    return found


def _periods(
    a: RuleBook, b: RuleBook, old: Standard | None, new: Standard | None
) -> list[dict[str, Any]]:
    old_line, new_line = timeline(old), timeline(new)
    kind = (new or old).dtype.kind  # type: ignore[union-attr]
    points = sorted({s.start for s in [*old_line, *new_line] if s.start})
    changes: list[dict[str, Any]] = []
    starts: list[date | None] = [None, *points]
    for index, start in enumerate(starts):
        end = points[index] - timedelta(days=1) if index < len(points) else None
        was, now = _value_at(old_line, start), _value_at(new_line, start)
        before = _plain(was.value, kind) if was else None
        after = _plain(now.value, kind) if now else None
        if before == after and (was is None) == (now is None):
            continue
        entry = {
            "from": start,
            "until": end,
            "old": before,
            "new": after,
            "old_layer": layer_of_row(a, was) if was else None,
            "new_layer": layer_of_row(b, now) if now else None,
        }
        last = changes[-1] if changes else None
        if (
            last
            and last["old"] == before
            and last["new"] == after
            and _next_day(last["until"]) == start
        ):
            last["until"] = end
        else:
            changes.append(entry)
    return changes


def _plain(value: object, kind: Kind) -> object:
    """A standard's value in one form whatever its cell said: money to the fen."""
    if isinstance(value, Decimal):
        return (
            value.quantize(Decimal("0.01")) if kind is Kind.MONEY else value.normalize()
        )
    return value


def _next_day(day: date | None) -> date | None:
    return day + timedelta(days=1) if day else None


def _standard_attributes(
    a: RuleBook, b: RuleBook, old: Standard | None, new: Standard | None
) -> list[dict[str, Any]]:
    if old is None or new is None:
        return []
    changes = _changed(
        {
            "type": old.dtype.render(),
            "overridable": old.overridable,
            "lower": old.lower_text,
            "upper": old.upper_text,
            "name": old.name_cn,
        },
        {
            "type": new.dtype.render(),
            "overridable": new.overridable,
            "lower": new.lower_text,
            "upper": new.upper_text,
            "name": new.name_cn,
        },
    )
    rows_a = {(layer_of_row(a, r), r.effective_from): r for r in old.rows}
    rows_b = {(layer_of_row(b, r), r.effective_from): r for r in new.rows}
    for key in rows_a.keys() & rows_b.keys():
        x, y = rows_a[key], rows_b[key]
        for name in ("unit", "source", "verified", "note", "effective_until"):
            if getattr(x, name) != getattr(y, name):
                changes.append(
                    {
                        "field": name,
                        "old": getattr(x, name),
                        "new": getattr(y, name),
                        "layer": key[0],
                        "from": key[1],
                    }
                )
    return changes


# ------------------------------------------------------------ derived values


def _derived(
    a: RuleBook, b: RuleBook, plan_a: Plan | None, plan_b: Plan | None
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for ident in _union(a.derived, b.derived):
        old, new = a.derived.get(ident), b.derived.get(ident)
        if old is None or new is None:
            spec = new or old
            assert spec is not None
            found.append(
                {
                    "id": ident,
                    "name": spec.name_cn,
                    "status": "added" if old is None else "removed",
                    "expr": spec.text,
                    "changes": [],
                }
            )
            continue
        same_expr = (
            _same(plan_a, plan_b, "derived", ident)
            if plan_a and plan_b
            else old.expr == new.expr
        )
        changes = _changed(
            {
                "type": old.dtype.render(),
                "level": str(old.level),
                "name": old.name_cn,
                "basis": old.basis,
            },
            {
                "type": new.dtype.render(),
                "level": str(new.level),
                "name": new.name_cn,
                "basis": new.basis,
            },
        )
        if not same_expr:
            changes.insert(0, {"field": "expr", "old": old.text, "new": new.text})
        if changes:
            found.append(
                {
                    "id": ident,
                    "name": new.name_cn,
                    "status": "changed",
                    "expr": new.text,
                    "changes": changes,
                }
            )
    return found


def _same(plan_a: Plan, plan_b: Plan, kind: str, ident: str) -> bool:
    x = getattr(plan_a, kind).get(ident)
    y = getattr(plan_b, kind).get(ident)
    return x is not None and y is not None and x.expr == y.expr


def _derived_values(
    plan_a: Plan | None, plan_b: Plan | None, as_of: date
) -> list[dict[str, Any]]:
    """Derived values that depend on standards only (marginal line, ...), on ``as_of``."""
    if plan_a is None or plan_b is None:
        return []
    before, after = _constant_values(plan_a, as_of), _constant_values(plan_b, as_of)
    return [
        {
            "id": ident,
            "name": plan_b.derived[ident].name_cn,
            "type": plan_b.derived[ident].dtype.render(),
            "old": before[ident],
            "new": after[ident],
        }
        for ident in after
        if ident in before and before[ident] != after[ident]
    ]


def _constant_values(plan: Plan, as_of: date) -> dict[str, object]:
    interpreter = Interpreter(plan, as_of, WorkCalendar(plan.rulebook.calendar))
    env: dict[str, object] = dict(interpreter.standards)
    env["as_of"] = as_of
    evaluation = Evaluation(env, [], [], [])
    values: dict[str, object] = {}
    for kind, ident in plan.order:
        derived = plan.derived.get(ident) if kind == "derived" else None
        if derived is not None and _is_constant(derived.expr, plan, values):
            value = cast(
                interpreter.value(derived.expr, env, evaluation), derived.dtype
            )
            env[ident] = values[ident] = value
    return values


def _is_constant(expr: Any, plan: Plan, constants: dict[str, object]) -> bool:
    """True when the expression reads only standards, the date and other constants."""
    if isinstance(expr, Name):
        item = plan.items.get(expr.name)
        return item is not None and (
            item.kind in ("standard", "builtin") or expr.name in constants
        )
    if isinstance(expr, Call) and (
        FUNCTIONS[expr.func].aggregate or expr.func == "age"
    ):
        return False
    return all(_is_constant(child, plan, constants) for child in children(expr))


# ------------------------------------------------------------ decision tables


def _tables(
    a: RuleBook, b: RuleBook, plan_a: Plan | None, plan_b: Plan | None
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for ident in _union(a.tables, b.tables):
        old, new = a.tables.get(ident), b.tables.get(ident)
        if old is None or new is None:
            spec = new or old
            assert spec is not None
            found.append(
                {
                    "id": ident,
                    "title": spec.title,
                    "status": "added" if old is None else "removed",
                    "rules": [
                        {
                            "id": r.id,
                            "status": "added" if old is None else "removed",
                            "cells": _rule_cells(spec, r),
                        }
                        for r in spec.rules
                    ],
                    "changes": [],
                    "columns": {},
                    "order_changed": False,
                }
            )
            continue
        bound = (
            (plan_a.tables[ident], plan_b.tables[ident])
            if plan_a and plan_b
            else (old, new)
        )
        entry = _table_changes(old, new, *bound)
        if (
            entry["changes"]
            or entry["rules"]
            or entry["columns"]
            or entry["order_changed"]
        ):
            found.append(entry)
    return found


def _table_changes(
    old: Table, new: Table, bound_old: Table, bound_new: Table
) -> dict[str, Any]:
    changes = _changed(
        {
            "title": old.title,
            "hit_policy": old.policy_text,
            "level": str(old.level),
            "overridable": old.overridable,
            "accepted_gap": old.accepted_gap,
        },
        {
            "title": new.title,
            "hit_policy": new.policy_text,
            "level": str(new.level),
            "overridable": new.overridable,
            "accepted_gap": new.accepted_gap,
        },
    )
    keys_old, keys_new = column_keys(old), column_keys(new)
    outs_old = {c.id: c for c in bound_old.outputs}
    outs_new = {c.id: c for c in bound_new.outputs}
    for ident in outs_old.keys() & outs_new.keys():
        x, y = outs_old[ident], outs_new[ident]
        if x.dtype != y.dtype:
            changes.append(
                {
                    "field": f"{ident} 的类型",
                    "old": x.dtype.render(),
                    "new": y.dtype.render(),
                }
            )
        if x.default != y.default:
            changes.append(
                {
                    "field": f"{ident} 的默认值",
                    "old": _show_tree(x.default),
                    "new": _show_tree(y.default),
                }
            )
    columns = {
        k: v
        for k, v in {
            "inputs_added": [k for k in keys_new if k not in keys_old],
            "inputs_removed": [k for k in keys_old if k not in keys_new],
            "outputs_added": [c for c in outs_new if c not in outs_old],
            "outputs_removed": [c for c in outs_old if c not in outs_new],
        }.items()
        if v
    }
    rules = _rules(old, new, bound_old, bound_new)
    common = [r.id for r in old.rules if r.id in {x.id for x in new.rules}]
    order_new = [r.id for r in new.rules if r.id in set(common)]
    return {
        "id": new.id,
        "title": new.title,
        "status": "changed",
        "changes": changes,
        "columns": columns,
        "rules": rules,
        "order_changed": common != order_new,
    }


def _rules(
    old: Table, new: Table, bound_old: Table, bound_new: Table
) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    old_rules = {
        r.id: (r, br) for r, br in zip(old.rules, bound_old.rules, strict=True)
    }
    new_rules = {
        r.id: (r, br) for r, br in zip(new.rules, bound_new.rules, strict=True)
    }
    for rule_id in _union(old_rules, new_rules):
        if rule_id not in old_rules:
            found.append(
                {
                    "id": rule_id,
                    "status": "added",
                    "cells": _rule_cells(new, new_rules[rule_id][0]),
                }
            )
        elif rule_id not in new_rules:
            found.append(
                {
                    "id": rule_id,
                    "status": "removed",
                    "cells": _rule_cells(old, old_rules[rule_id][0]),
                }
            )
        else:
            cells = _cell_changes(old, new, old_rules[rule_id], new_rules[rule_id])
            if cells:
                found.append({"id": rule_id, "status": "changed", "cells": cells})
    return found


def _rule_cells(table: Table, rule: Any) -> list[dict[str, Any]]:
    keys = column_keys(table)
    cells = [{"column": k, "value": _test_text(rule, i)} for i, k in enumerate(keys)]
    cells += [
        {"column": c.id, "value": _output_text(rule, i)}
        for i, c in enumerate(table.outputs)
    ]
    if rule.annotation:
        cells.append(
            {"column": table.annotation_header or "注释", "value": rule.annotation}
        )
    return cells


def _cell_changes(
    old: Table, new: Table, a: tuple[Any, Any], b: tuple[Any, Any]
) -> list[dict[str, Any]]:
    (raw_a, bound_a), (raw_b, bound_b) = a, b
    changes = []
    keys_old, keys_new = column_keys(old), column_keys(new)
    for i, key in enumerate(keys_new):
        if key not in keys_old:
            if _test_text(raw_b, i) != "-":
                changes.append(
                    {"column": key, "old": None, "new": _test_text(raw_b, i)}
                )
            continue
        j = keys_old.index(key)
        if bound_a.tests[j] != bound_b.tests[i]:
            changes.append(
                {
                    "column": key,
                    "old": _test_text(raw_a, j),
                    "new": _test_text(raw_b, i),
                }
            )
    outs_old = [c.id for c in old.outputs]
    for i, column in enumerate(new.outputs):
        if column.id not in outs_old:
            changes.append(
                {"column": column.id, "old": None, "new": _output_text(raw_b, i)}
            )
            continue
        j = outs_old.index(column.id)
        if bound_a.outputs[j] != bound_b.outputs[i]:
            changes.append(
                {
                    "column": column.id,
                    "old": _output_text(raw_a, j),
                    "new": _output_text(raw_b, i),
                }
            )
    if raw_a.annotation != raw_b.annotation:
        changes.append(
            {
                "column": new.annotation_header or "注释",
                "old": raw_a.annotation,
                "new": raw_b.annotation,
            }
        )
    return changes


def _test_text(rule: Any, index: int) -> str:
    texts = rule.test_texts
    return (
        texts[index]
        if index < len(texts) and texts[index]
        else render(rule.tests[index])
    )


def _output_text(rule: Any, index: int) -> str:
    texts = rule.output_texts
    if index < len(texts) and texts[index] is not None:
        return texts[index]
    return _show_tree(rule.outputs[index])


def _show_tree(tree: Any) -> str:
    return "" if tree is None else render(tree)


# ------------------------------------------------------------ fields and calendar


def _fields(a: RuleBook, b: RuleBook) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for ident in _union(a.fields, b.fields):
        old, new = a.fields.get(ident), b.fields.get(ident)
        if old is None or new is None:
            found.append(
                {
                    "id": ident,
                    "status": "added" if old is None else "removed",
                    "changes": [],
                }
            )
            continue
        changes = _changed(
            {
                "type": old.dtype.render(),
                "level": str(old.level),
                "default": old.default,
                "name": old.name_cn,
            },
            {
                "type": new.dtype.render(),
                "level": str(new.level),
                "default": new.default,
                "name": new.name_cn,
            },
        )
        if changes:
            found.append({"id": ident, "status": "changed", "changes": changes})
    return found


def _calendar(a: RuleBook, b: RuleBook) -> list[dict[str, Any]]:
    old = {(d.day, d.working): d.note for d in a.calendar}
    new = {(d.day, d.working): d.note for d in b.calendar}
    found = [
        {
            "date": day,
            "type": "补班" if working else "休息日",
            "status": "removed",
            "note": note,
        }
        for (day, working), note in old.items()
        if (day, working) not in new
    ]
    found += [
        {
            "date": day,
            "type": "补班" if working else "休息日",
            "status": "added",
            "note": note,
        }
        for (day, working), note in new.items()
        if (day, working) not in old
    ]
    return sorted(found, key=lambda e: e["date"])


def _changed(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"field": k, "old": old[k], "new": new[k]} for k in old if old[k] != new[k]]


def _union(a: Iterable[str], b: Iterable[str]) -> list[str]:
    """Keys of both, in the old order, then the new ones in theirs."""
    keys = list(dict.fromkeys(a))
    return keys + [k for k in b if k not in set(keys)]


# ---------------------------------------------------------------- households


@dataclass
class ImpactResult:
    """Who changes: per county counts, moves between groups, entitlements, households."""

    as_of: date
    households: int
    changed: int
    counties: dict[str, dict[str, Any]]
    rows: list[dict[str, Any]]
    seconds: float
    truncated: int = 0
    phases: dict[str, float] = field(
        default_factory=dict
    )  # seconds: load, old, new, compare

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "households": self.households,
            "changed": self.changed,
            "seconds": round(self.seconds, 3),
            "phases": {k: round(v, 3) for k, v in self.phases.items()},
            "counties": self.counties,
            "changed_households": self.rows,
            "changed_households_not_listed": self.truncated,
        }


def impact(
    old: Side,
    new: Side,
    households: str | Path,
    as_of: date,
    limit: int | None = None,
    memory_limit: str | None = None,
) -> ImpactResult:
    """Decide for every household of the compared counties on both sides, and compare."""
    from compiler.households import load_households

    started = time.perf_counter()
    pairs = _same_counties(old, new)
    fields = {}
    for book in [*old.books.values(), *new.books.values()]:
        fields.update({k: v for k, v in book.fields.items() if k not in fields})
    con = connect(memory_limit)
    county = pairs[0] if len(pairs) == 1 else None
    load_households(con, households, fields, county=county, known_counties=None)
    loaded = time.perf_counter() - started
    result = impact_loaded(con, old, new, as_of, limit, started)
    result.phases = {"load": loaded, **result.phases}
    return result


def _same_counties(old: Side, new: Side) -> list[str]:
    codes = sorted(set(old.books) & set(new.books))
    if not codes:
        raise InputError(
            make(
                "E606",
                "两侧没有共同的县（市、区），无法比较家庭决策",
                found=f"{'、'.join(old.books)} 与 {'、'.join(new.books)}",
                expected="同一县的两个版本，例如 330106@3 与 330106",
            )
        )
    return codes


def impact_loaded(
    con: duckdb.DuckDBPyConnection,
    old: Side,
    new: Side,
    as_of: date,
    limit: int | None = None,
    started: float | None = None,
) -> ImpactResult:
    """``impact`` on a connection whose jz_households/members/events are loaded."""
    started = started or time.perf_counter()
    codes = _same_counties(old, new)
    present = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT county_code FROM jz_households WHERE list_contains($c, county_code) ORDER BY 1",
            {"c": codes},
        ).fetchall()
    ]
    phases = {}
    for side, name, phase in ((old, "jz_diff_old", "old"), (new, "jz_diff_new", "new")):
        mark = time.perf_counter()
        _decide_side(con, side, present, as_of, name)
        phases[phase] = time.perf_counter() - mark
    mark = time.perf_counter()
    con.execute(_IMPACT_SQL)
    names = {c: (new.books.get(c) or old.books[c]).county_name for c in present}
    result = _collect(con, as_of, limit, started, names)
    phases["compare"] = time.perf_counter() - mark
    result.phases = phases
    return result


def _decide_side(
    con: duckdb.DuckDBPyConnection,
    side: Side,
    counties: list[str],
    as_of: date,
    name: str,
) -> None:
    report = Report()
    plans = {c: bind(side.books[c], report) for c in counties}
    if report.has_errors:
        raise ValidationFailed(report.errors)
    project = Project(_tables_for(plans), report, as_of, plans)
    if not counties:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} (household_id VARCHAR, county_code VARCHAR,"
            ' "group" VARCHAR, entitlements VARCHAR[], monitoring VARCHAR,'
            " dibao_standard DECIMAL(18,2), marginal_line DECIMAL(18,2))"
        )
        return
    install_standards(
        con, plans, as_of, {c: side.versions.get(c, side.label) for c in counties}
    )
    try:
        view = run_programs(con, project, counties, trace="none")  # reasons are not compared
        con.execute(
            f'CREATE OR REPLACE TEMP TABLE {name} AS SELECT household_id, county_code, "group",'
            " coalesce(entitlements, CAST([] AS VARCHAR[])) AS entitlements, monitoring,"
            f" dibao_standard, marginal_line FROM {view}"
        )
    except duckdb.Error as error:
        raise contract_error(error) or InputError(
            make("E605", f"DuckDB 无法完成计算：{str(error).splitlines()[0]}")
        ) from None


def _tables_for(plans: dict[str, Plan]) -> Tables:
    fields: dict = {}
    for plan in plans.values():
        fields.update(
            {k: v for k, v in plan.rulebook.fields.items() if k not in fields}
        )
    province = Workbook(
        "", "330000", "浙江省", WorkbookKind.PROVINCE, list(fields.values())
    )
    return Tables(Path("."), province)


_IMPACT_SQL = """
CREATE OR REPLACE TEMP TABLE jz_diff_impact AS
SELECT o.household_id, o.county_code,
  o."group" AS old_group, n."group" AS new_group,
  list_filter(n.entitlements, lambda x: NOT list_contains(o.entitlements, x)) AS gained,
  list_filter(o.entitlements, lambda x: NOT list_contains(n.entitlements, x)) AS lost,
  o.monitoring AS old_monitoring, n.monitoring AS new_monitoring,
  o.dibao_standard AS old_dibao_standard, n.dibao_standard AS new_dibao_standard
FROM jz_diff_old o JOIN jz_diff_new n USING (household_id)
WHERE o."group" IS DISTINCT FROM n."group"
   OR o.monitoring IS DISTINCT FROM n.monitoring
   -- the same entitlements in another order are no change; sorting only where they differ
   OR (o.entitlements IS DISTINCT FROM n.entitlements
       AND list_sort(list_distinct(o.entitlements)) IS DISTINCT FROM list_sort(list_distinct(n.entitlements)))
"""


def _collect(
    con: duckdb.DuckDBPyConnection,
    as_of: date,
    limit: int | None,
    started: float,
    names: dict[str, str],
) -> ImpactResult:
    totals = dict(
        con.execute(
            "SELECT county_code, count(*) FROM jz_diff_old GROUP BY 1"
        ).fetchall()
    )
    changed = dict(
        con.execute(
            "SELECT county_code, count(*) FROM jz_diff_impact GROUP BY 1"
        ).fetchall()
    )
    counties: dict[str, dict[str, Any]] = {
        code: {
            "name": names.get(code, ""),
            "households": totals[code],
            "changed": changed.get(code, 0),
            "moves": [],
            "gained": {},
            "lost": {},
        }
        for code in sorted(totals)
    }
    for code, before, after, n in con.execute(
        "SELECT county_code, old_group, new_group, count(*) FROM jz_diff_impact"
        " WHERE old_group IS DISTINCT FROM new_group GROUP BY ALL ORDER BY 1, 4 DESC, 2, 3"
    ).fetchall():
        counties[code]["moves"].append({"from": before, "to": after, "households": n})
    for direction in ("gained", "lost"):
        for code, item, n in con.execute(
            f"SELECT county_code, e, count(*) FROM (SELECT county_code, unnest({direction}) AS e"
            " FROM jz_diff_impact) GROUP BY ALL ORDER BY 1, 3 DESC, 2"
        ).fetchall():
            counties[code][direction][item] = n
    total = sum(changed.values())
    cap = "" if limit is None else f" LIMIT {int(limit)}"
    cursor = con.execute(
        "SELECT household_id, county_code, old_group, new_group, gained, lost, old_monitoring,"
        f" new_monitoring FROM jz_diff_impact ORDER BY county_code, household_id{cap}"
    )
    names_ = [d[0] for d in cursor.description]
    rows = [dict(zip(names_, row, strict=True)) for row in cursor.fetchall()]
    return ImpactResult(
        as_of,
        sum(totals.values()),
        total,
        counties,
        rows,
        time.perf_counter() - started,
        total - len(rows),
    )


# ---------------------------------------------------------------- text


def render_text(
    result: dict[str, Any], impact_result: ImpactResult | None = None, limit: int = 50
) -> str:
    """The Chinese report the CLI prints for ``diff_sides`` (and an impact)."""
    lines = [f"比较 {result['old']} → {result['new']}"]
    for code, county in result["counties"].items():
        lines.append(f"\n县（市、区）{code} {county['name']}")
        if is_empty(county):
            lines.append("  决策表没有差异")
            continue
        lines += _standard_lines(county["standards"])
        lines += _derived_lines(
            county["derived"], county["derived_values"], result.get("as_of")
        )
        lines += _table_lines(county["tables"])
        lines += _field_lines(county["fields"], county["calendar"])
    if impact_result is not None:
        lines += impact_lines(impact_result, limit)
    return "\n".join(lines)


_MARK = {"added": "+", "removed": "-", "changed": "~"}
_STATUS_CN = {"added": "新增", "removed": "删除", "changed": "修改"}


def _standard_lines(standards: list[dict[str, Any]]) -> list[str]:
    if not standards:
        return []
    lines = ["  标准参数："]
    for s in standards:
        unit = f" {s['unit']}" if s["unit"] else ""
        lines.append(
            f"  {_MARK[s['status']]} {s['name'] or s['id']}（{s['id']}）{_STATUS_CN[s['status']]}"
        )
        for p in s["periods"]:
            lines.append(
                f"      {_period(p['from'], p['until'])}：{_money(p['old'], s['type'])}"
                f"{_layer(p['old_layer'])} → {_money(p['new'], s['type'])}{_layer(p['new_layer'])}{unit}"
            )
        for c in s["attributes"]:
            where = (
                f"（{LAYER_CN.get(c.get('layer'), '')} {c['from']} 起的一行）"
                if c.get("layer")
                else ""
            )
            lines.append(
                f"      {_FIELD_CN.get(c['field'], c['field'])}{where}：{_show(c['old'])} → {_show(c['new'])}"
            )
    return lines


_FIELD_CN = {
    "unit": "单位",
    "source": "来源",
    "verified": "核实",
    "note": "备注",
    "effective_until": "失效日期",
    "type": "类型",
    "overridable": "县可改",
    "lower": "下限",
    "upper": "上限",
    "name": "名称",
    "expr": "表达式",
    "level": "层级",
    "basis": "依据",
    "title": "标题",
    "hit_policy": "命中策略",
    "accepted_gap": "接受缺口",
    "default": "默认",
}


def _period(start: date | None, end: date | None) -> str:
    if start is None and end is None:
        return "全部时期"
    if start is None:
        return f"{end} 及以前"
    if end is None:
        return f"{start} 起"
    return f"{start} 至 {end}"


def _layer(layer: str | None) -> str:
    return f"（{LAYER_CN[layer]}）" if layer else ""


def _money(value: object, type_text: str) -> str:
    if value is None:
        return "（无）"
    if isinstance(value, Decimal) and type_text == "money":
        return f"{value:,.2f}"
    return _show(value)


def _show(value: object) -> str:
    if value is None or value == "":
        return "（无）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return (
            format(value.normalize(), "f")
            if value == value.to_integral()
            else format(value, "f")
        )
    return str(value)


def _derived_lines(
    derived: list[dict[str, Any]], values: list[dict[str, Any]], as_of: str | None
) -> list[str]:
    lines = ["  派生值："] if derived or values else []
    for d in derived:
        lines.append(
            f"  {_MARK[d['status']]} {d['name'] or d['id']}（{d['id']}）{_STATUS_CN[d['status']]}"
            + (f"：{d['expr']}" if d["status"] != "changed" else "")
        )
        for c in d["changes"]:
            lines.append(
                f"      {_FIELD_CN.get(c['field'], c['field'])}：{_show(c['old'])} → {_show(c['new'])}"
            )
    for v in values:
        lines.append(
            f"    {as_of} 的取值 {v['name'] or v['id']}：{_money(v['old'], v['type'])}"
            f" → {_money(v['new'], v['type'])}"
        )
    return lines


def _table_lines(tables: list[dict[str, Any]]) -> list[str]:
    lines = ["  决策表："] if tables else []
    for t in tables:
        lines.append(
            f"  {_MARK[t['status']]} {t['id']} {t['title']}（{_STATUS_CN[t['status']]}）"
        )
        for c in t["changes"]:
            lines.append(
                f"      {_FIELD_CN.get(c['field'], c['field'])}：{_show(c['old'])} → {_show(c['new'])}"
            )
        labels = {
            "inputs_added": "新增输入列",
            "inputs_removed": "删除输入列",
            "outputs_added": "新增输出列",
            "outputs_removed": "删除输出列",
        }
        for key, names in t["columns"].items():
            lines.append(f"      {labels[key]}：{'、'.join(names)}")
        if t["order_changed"]:
            lines.append(
                "      规则顺序改变（FIRST、RULE ORDER、COLLECT 等命中策略的结果可能随之改变）"
            )
        if t["status"] != "changed":
            lines.append(f"      共 {len(t['rules'])} 条规则")
            continue
        for r in t["rules"]:
            if r["status"] == "changed":
                lines.append(f"      ~ 规则 {r['id']}：")
                lines += [
                    f"          {c['column']}：「{_show(c['old'])}」→「{_show(c['new'])}」"
                    for c in r["cells"]
                ]
            else:
                cells = "；".join(f"{c['column']} = {c['value']}" for c in r["cells"])
                lines.append(
                    f"      {_MARK[r['status']]} 规则 {r['id']}（{_STATUS_CN[r['status']]}）：{cells}"
                )
    return lines


def _field_lines(
    fields: list[dict[str, Any]], calendar: list[dict[str, Any]]
) -> list[str]:
    lines = ["  字段："] if fields else []
    for f in fields:
        lines.append(f"  {_MARK[f['status']]} {f['id']}（{_STATUS_CN[f['status']]}）")
        for c in f["changes"]:
            lines.append(
                f"      {_FIELD_CN.get(c['field'], c['field'])}：{_show(c['old'])} → {_show(c['new'])}"
            )
    if calendar:
        lines.append("  日历：")
        lines += [
            f"  {_MARK[d['status']]} {d['date']} {d['type']} {d['note']}".rstrip()
            for d in calendar
        ]
    return lines


def impact_lines(result: ImpactResult, limit: int = 50) -> list[str]:
    head = (
        f"\n家庭决策的变化（决策日 {result.as_of}，共 {result.households} 户，"
        f"{result.changed} 户变化，用时 {result.seconds:.2f} 秒）"
    )
    lines = [head]
    if result.phases:
        names = {
            "load": "读入",
            "old": "旧版决策",
            "new": "新版决策",
            "compare": "比较",
        }
        lines.append(
            "  用时："
            + "，".join(
                f"{names.get(k, k)} {v:.2f} 秒" for k, v in result.phases.items()
            )
        )
    for code, county in result.counties.items():
        lines.append(
            f"  {code} {county['name']}：{county['households']} 户中 {county['changed']} 户变化"
        )
        for move in county["moves"]:
            lines.append(
                f"      {_group(move['from'])} → {_group(move['to'])}：{move['households']} 户"
            )
        for direction, word in (("gained", "新获得"), ("lost", "失去")):
            for item, n in county[direction].items():
                lines.append(f"      {word} {item}：{n} 户")
    if result.rows:
        shown = result.rows[:limit]
        lines.append(f"  变化的家庭（列出 {len(shown)} 户）：")
        for row in shown:
            parts = [
                f"{_group(row['old_group'])} → {_group(row['new_group'])}"
                if row["old_group"] != row["new_group"]
                else _group(row["new_group"])
            ]
            if row["gained"]:
                parts.append("获得 " + "、".join(row["gained"]))
            if row["lost"]:
                parts.append("失去 " + "、".join(row["lost"]))
            if row["old_monitoring"] != row["new_monitoring"]:
                parts.append(f"监测 {row['old_monitoring']} → {row['new_monitoring']}")
            lines.append(
                f"    {row['household_id']}（{row['county_code']}）：{'；'.join(parts)}"
            )
        hidden = result.changed - len(shown)
        if hidden > 0:
            lines.append(
                f"    ……另有 {hidden} 户未列出（使用 --format json 或 --limit 查看）"
            )
    return lines


def _group(group: str | None) -> str:
    return GROUP_CN.get(group or "none", group or "none")


__all__ = [
    "ImpactResult",
    "Side",
    "diff_rulebooks",
    "diff_sides",
    "impact",
    "impact_loaded",
    "render_text",
    "timeline",
]
