"""What differs between two rulebooks of a county, part by part.

``diff_rulebooks(old, new, as_of)`` returns a plain dict (the JSON output) with the
county's name and one list per part: ``standards`` (every period where the value in
force differs, with the layer it comes from, and changed attributes), ``derived``
(expressions compared once bound, so a rewording is no change), ``derived_values`` (the
values that depend on standards only, on ``as_of``), ``tables`` (hit policy, columns,
rule order, and rules matched by their identifier, cell by cell), ``fields`` and
``calendar``, and ``sheets``: the county's other sheets (说明), row by row. Either
rulebook may be None (a county on one side only); a rulebook that
does not bind is compared as written. ``is_empty`` says when nothing differs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from compiler.bind import Plan, bind
from compiler.calendar import WorkCalendar
from compiler.canonical import column_keys, layer_of_row
from compiler.diagnostics import Report
from compiler.expr import Call, Name, children, render
from compiler.functions import FUNCTIONS
from compiler.interpret import Evaluation, Interpreter, cast
from compiler.model import Kind, RuleBook, Standard, StandardRow, Table
from compiler.normalise import fold_text


def diff_rulebooks(
    old: RuleBook | None,
    new: RuleBook | None,
    as_of: date | None = None,
    plans: tuple[Plan | None, Plan | None] | None = None,
) -> dict[str, Any]:
    """Everything that differs between two rulebooks of a county (either may be None).

    ``plans`` are the two rulebooks already bound (None for one that does not bind),
    when the caller has them; otherwise they are bound here."""
    empty = RuleBook("", "", {}, {}, {}, {}, [], [])
    a, b = old or empty, new or empty
    if plans is not None and old is not None and new is not None:
        plan_a, plan_b = plans
    else:
        plan_a, plan_b = _bound(a), _bound(b)
    result = {
        "name": b.county_name or a.county_name,
        "standards": _standards(a, b),
        "derived": _derived(a, b, plan_a, plan_b),
        "derived_values": _derived_values(plan_a, plan_b, as_of) if as_of else [],
        "tables": _tables(a, b, plan_a, plan_b),
        "fields": _fields(a, b),
        "calendar": _calendar(a, b),
        "sheets": _sheets(a, b),
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
            "sheets",
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
    kind = (new or old).dtype.kind  # type: ignore[union-attr]
    return [
        {
            "from": start,
            "until": end,
            "old": _plain(was.value, kind) if was else None,
            "new": _plain(now.value, kind) if now else None,
            "old_layer": _layer(a, was) if was else None,
            "new_layer": _layer(b, now) if now else None,
        }
        for start, end, was, now in differing_periods(old, new)
    ]


def _layer(book: RuleBook, row: StandardRow) -> str:
    """province, city or county: the workbook a standard's row came from.

    ``layer_of_row`` calls a source other than the province's the county's only when
    its file name starts with the county's code; a county workbook given by path (``jiuzhu
    diff 330106@1 草稿.xlsx --county 330106``) need not, and its own rows read 市级.
    The city is the one source named with the city's code (``resolve.Tables.city_of``
    finds it by that code), so any other source but the province's is the county's."""
    layer = layer_of_row(book, row)
    if layer != "city" or not book.county_code:
        return layer
    source = _source_of(book.sources, row.workbook)
    code = re.match(r"(\d{6})", Path(source).name) if source else None
    city = book.county_code[:4] + "00"
    return "city" if code is not None and code.group(1) == city else "county"


def _source_of(sources: list[str], path: str | None) -> str | None:
    """The longest of ``sources`` that is ``path`` or a folder holding it."""
    inside = [
        s for s in sources
        if path and (path == s or path.startswith(s.rstrip("/") + "/"))
    ]
    return max(inside, key=len, default=None)


def differing_periods(
    old: Standard | None, new: Standard | None
) -> list[tuple[date | None, date | None, StandardRow | None, StandardRow | None]]:
    """Every period (start, end: None for since ever, with no end) where the value in
    force of a standard differs, with the row in force on each side at its start;
    adjacent periods with the same two values are one."""
    if old is None and new is None:
        return []
    old_line, new_line = timeline(old), timeline(new)
    kind = (new or old).dtype.kind  # type: ignore[union-attr]
    points = sorted({s.start for s in [*old_line, *new_line] if s.start})
    found: list[tuple[date | None, date | None, StandardRow | None, StandardRow | None]] = []
    starts: list[date | None] = [None, *points]
    for index, start in enumerate(starts):
        end = points[index] - timedelta(days=1) if index < len(points) else None
        was, now = _value_at(old_line, start), _value_at(new_line, start)
        before = _plain(was.value, kind) if was else None
        after = _plain(now.value, kind) if now else None
        if before == after and (was is None) == (now is None):
            continue
        last = found[-1] if found else None
        if (
            last
            and _same_value(last[2], was, kind)
            and _same_value(last[3], now, kind)
            and _next_day(last[1]) == start
        ):
            found[-1] = (last[0], end, last[2], last[3])
        else:
            found.append((start, end, was, now))
    return found


def _same_value(x: StandardRow | None, y: StandardRow | None, kind: Kind) -> bool:
    return (_plain(x.value, kind) if x else None) == (_plain(y.value, kind) if y else None)


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
    rows_a = {(_layer(a, r), r.effective_from): r for r in old.rows}
    rows_b = {(_layer(b, r), r.effective_from): r for r in new.rows}
    for key in rows_a.keys() & rows_b.keys():
        x, y = rows_a[key], rows_b[key]
        for name in ("unit", "source", "verified", "note", "effective_until"):
            if _differs(getattr(x, name), getattr(y, name)):
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
    if _differs(raw_a.annotation, raw_b.annotation):
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
                "lower": old.lower,
                "upper": old.upper,
                "name": old.name_cn,
            },
            {
                "type": new.dtype.render(),
                "level": str(new.level),
                "default": new.default,
                "lower": new.lower,
                "upper": new.upper,
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


def _sheets(a: RuleBook, b: RuleBook) -> list[dict[str, Any]]:
    """The county's other sheets (说明 and the like) added, removed, or changed: each
    changed row by its number, with its cells' texts on both sides."""
    old = {sheet.name: sheet.rows for sheet in a.other_sheets}
    new = {sheet.name: sheet.rows for sheet in b.other_sheets}
    found: list[dict[str, Any]] = []
    for name in _union(old, new):
        if name not in new or name not in old:
            status = "added" if name not in old else "removed"
            found.append({"sheet": name, "status": status, "rows": []})
            continue
        before, after = old[name], new[name]
        pairs = (
            (number, _texts(before, number), _texts(after, number))
            for number in range(1, max(len(before), len(after)) + 1)
        )
        rows = [
            {"row": number, "old": was, "new": now}
            for number, was, now in pairs
            if _row_differs(was, now)
        ]
        if rows:
            found.append({"sheet": name, "status": "changed", "rows": rows})
    return found


def _texts(rows: list[list[str]], number: int) -> list[str]:
    """Row ``number`` (from 1) without its trailing empty cells; [] past the end."""
    row = list(rows[number - 1]) if number <= len(rows) else []
    while row and not row[-1].strip():
        row.pop()
    return row


def _row_differs(old: list[str], new: list[str]) -> bool:
    width = max(len(old), len(new))
    padded = [(old + [""] * width)[:width], (new + [""] * width)[:width]]
    return any(_differs(x, y) for x, y in zip(*padded, strict=True))


def _changed(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"field": k, "old": old[k], "new": new[k]} for k in old if _differs(old[k], new[k])]


def _differs(old: object, new: object) -> bool:
    """Whether two values differ in meaning: text that folds to the same (full-width or
    half-width punctuation, odd spaces) does not. Free text is kept as typed since the
    fourth session, and versions published before it hold it folded; without this the
    first diff against one listed every such note."""
    if isinstance(old, str) and isinstance(new, str):
        return old != new and fold_text(old) != fold_text(new)
    return old != new


def _union(a: Iterable[str], b: Iterable[str]) -> list[str]:
    """Keys of both, in the old order, then the new ones in theirs."""
    keys = list(dict.fromkeys(a))
    return keys + [k for k in b if k not in set(keys)]


__all__ = ["diff_rulebooks", "differing_periods", "is_empty", "timeline"]
