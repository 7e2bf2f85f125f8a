"""Witnesses: a region and a concrete input in it, as text for staff and as records.

Values are shown as county staff write them in a cell (``show``) and as JSON for tools
and contract-shaped households (``plain``); docs/analysis.md, section 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from compiler.county import County
from compiler.domains import OTHER_TEXT, Column
from compiler.expr import Expr, Name
from compiler.intervals import Box, Domain, Mask, lowest
from compiler.model import Level, Table


def show(value: object) -> str:
    """A value as county staff write it in a cell."""
    if value is None:
        return "空值"
    if value == OTHER_TEXT:
        return "（其他文本）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return (
            format(value.normalize(), "f")
            if value == value.to_integral()
            else format(value, "f")
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return str(value)


def plain(value: object) -> object:
    """A value for a JSON record and a contract-shaped household."""
    if value == OTHER_TEXT:
        return "其他"
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


@dataclass
class Case:
    """A region and its witness, as text for messages and as records for tools."""

    region: str
    text: str
    note: str
    witness: dict[str, object]
    household: dict[str, object]
    derived: list[str]
    # per column (where the case is a table's): its condition in the region ("" where
    # any value will do), its witness ("income = 1149"), and whether the condition
    # names that one value
    conditions: list[str] = field(default_factory=list)
    values: list[str] = field(default_factory=list)
    single: list[bool] = field(default_factory=list)

    def others(self, skip: int) -> tuple[str, str]:
        """The region and the witness of the columns but ``skip``: the conditions
        they must meet, and a value for each whose condition leaves a choice."""
        kept = [k for k, c in enumerate(self.conditions) if k != skip and c]
        region = "、".join(self.conditions[k] for k in kept)
        return region, "、".join(self.values[k] for k in kept if not self.single[k])


def describe(
    county: County, table: Table, columns: list[Column], box: Box, values: list[object]
) -> Case:
    conditions = [
        "" if m == c.domain.full else _condition(c.label, c.domain, m)
        for c, m in zip(columns, box, strict=True)
    ]
    region = "、".join(c for c in conditions if c)
    shown = [f"{c.label} = {show(v)}" for c, v in zip(columns, values, strict=True)]
    text = "、".join(shown)
    household, derived = witness_household(
        county, table.level, [(col.expr, col.text) for col in table.inputs], values
    )
    note = (
        f"（{'、'.join(derived)} 为派生值或表达式，不是家庭直接填写的字段）"
        if derived
        else ""
    )
    return Case(
        region,
        text or "任意输入",
        note,
        {c.label: plain(v) for c, v in zip(columns, values, strict=True)},
        household,
        derived,
        conditions,
        shown,
        [_single(c.domain, m) for c, m in zip(columns, box, strict=True)],
    )


def _single(domain: Domain, mask: Mask) -> bool:
    """Whether the mask holds one value only (one point, one listed value, or null)."""
    if mask & (mask - 1):
        return False
    segment = domain.segments[lowest(mask)]
    return segment.missing or (segment.point and segment.value != OTHER_TEXT)


def _condition(label: str, domain: Domain, mask: Mask) -> str:
    text = domain.render(mask, show)
    if domain.ordered and text[:1] in "<>=[(":
        return f"{label} {text}" if text[:1] in "<>=" else f"{label} 在 {text}"
    return f"{label} 为 {text}"


def witness_household(
    county: County,
    level: Level,
    inputs: Sequence[tuple[Expr, str]],
    values: list[object],
) -> tuple[dict[str, object], list[str]]:
    """A contract-shaped household holding the values of the inputs that are fields.

    Inputs that are derived values, table outputs or expressions cannot be written
    into a household directly; their labels are returned so messages can say so.
    """
    record: dict[str, object] = {}
    derived: list[str] = []
    fields = county.plan.rulebook.fields
    for (expr, label), value in zip(inputs, values, strict=True):
        spec = fields.get(expr.name) if isinstance(expr, Name) else None
        if spec is None:
            if isinstance(expr, Name) and expr.name in county.constants:
                continue
            derived.append(label)
            continue
        path = spec.id
        target = record
        if spec.level is Level.MEMBER:
            target = _first(record, "members")
        elif spec.level is Level.EVENT:
            target = _first(record, "events")
            path = path.removeprefix("event.")
        _put(target, path, plain(value))
    return record, derived


def _first(record: dict[str, object], key: str) -> dict[str, object]:
    entries = record.setdefault(key, [{}])
    return entries[0]  # type: ignore[index, no-any-return]


def _put(record: dict[str, object], path: str, value: object) -> None:
    *parents, last = path.split(".")
    for part in parents:
        record = record.setdefault(part, {})  # type: ignore[assignment]
    record[last] = value
