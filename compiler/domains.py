"""Per-column domains: each input column cut into segments, each rule as a box.

A decision table becomes a ``View``: for every input column a ``Domain`` (the segments
its values fall into, cut at every constant the column is compared with) and for every
rule a box of masks over those segments (docs/analysis.md, section 2).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from compiler.bounds import bounds, never_missing
from compiler.county import County
from compiler.expr import (
    AnyTest,
    Compare,
    Disjunction,
    Expr,
    Interval,
    Name,
    Negation,
    NullTest,
    Test,
)
from compiler.intervals import (
    Box,
    Domain,
    Grid,
    Mask,
    listed_domain,
    lowest,
    ordered_domain,
    witness,
)
from compiler.model import DType, Kind, Level, Rule, Table

OTHER_TEXT = "\x00其他"  # a text value no literal equals: "any other text"


@dataclass
class Column:
    """An input column cut into segments, with each rule's cell as a mask."""

    label: str
    domain: Domain
    masks: list[Mask | None]  # None: the cell depends on household values
    opaque: str | None = None  # the first cell that cannot be analysed


@dataclass
class View:
    """A decision table as boxes over its columns' domains."""

    table: Table
    columns: list[Column]
    cover: list[Box | None]  # each rule's region, unknown cells as "anything"
    exact: list[Box | None]  # the same where every cell is known, else None

    @property
    def universe(self) -> Box:
        return tuple(c.domain.full for c in self.columns)

    def values(self, box: Box) -> list[object]:
        return witness(box, [c.domain for c in self.columns])


def view_of(county: County, table: Table) -> View:
    columns = [_column(county, table, j) for j in range(len(table.inputs))]
    cover: list[Box | None] = []
    exact: list[Box | None] = []
    for r in range(len(table.rules)):
        masks = [c.masks[r] for c in columns]
        known = tuple(
            c.domain.full if m is None else m
            for c, m in zip(columns, masks, strict=True)
        )
        empty = 0 in known
        cover.append(None if empty else known)
        exact.append(None if empty or None in masks else known)
    return View(table, columns, cover, exact)


def _column(county: County, table: Table, j: int) -> Column:
    column = table.inputs[j]
    cells = [rule.tests[j] for rule in table.rules]
    opaque = [not county.is_constant(cell) for cell in cells]
    if column.dtype.kind is Kind.LIST:
        opaque = [not isinstance(cell, AnyTest) for cell in cells]
    cuts = [
        county.value(o)
        for cell, o_ in zip(cells, opaque, strict=True)
        if not o_
        for o in operands(cell)
    ]
    domain = domain_of(county, column.dtype, column.expr, cuts)
    masks: list[Mask | None] = []
    for cell, unknown in zip(cells, opaque, strict=True):
        masks.append(None if unknown else cell_mask(county, cell, domain))
    first = next((r for r, unknown in enumerate(opaque) if unknown), None)
    label = column.text
    return Column(
        label,
        domain,
        masks,
        None if first is None else table.rules[first].test_texts[j],
    )


def operands(test: Test) -> Iterator[Expr]:
    match test:
        case Compare(_, operand):
            yield operand
        case Interval(low, _, high, _):
            yield low
            yield high
        case Disjunction(tests):
            for inner in tests:
                yield from operands(inner)
        case Negation(tests):
            yield from operands(tests)


def domain_of(
    county: County, dtype: DType, expr: Expr, cuts: list[object], level: Level | None = None
) -> Domain:
    """The segments a value of ``expr`` falls into, cut at ``cuts`` and clipped to its
    bounds; missing among them when some household may leave it so. Read at
    ``level``, a value the input's required fields always give (an age from the
    birth date) is never missing (``bounds.never_missing``); without a level,
    ``County.nullable`` answers, knowing nothing of the input."""
    nullable = (
        county.nullable(expr) if level is None else not never_missing(county, expr, level)
    )
    if dtype.kind is Kind.LIST:
        return listed_domain([], nullable=True)
    if dtype.kind is Kind.DATE:
        dates = [c for c in cuts if isinstance(c, date)]
        clip = [b if isinstance(b, date) else None for b in bounds(county, expr)]
        return ordered_domain(
            dates, Grid(Decimal(1), is_date=True), county.as_of, nullable, *clip
        )
    if dtype.is_numeric:
        numbers = [
            c for c in cuts if isinstance(c, Decimal | int) and not isinstance(c, bool)
        ]
        limits = [b if isinstance(b, Decimal) else None for b in bounds(county, expr)]
        grid = _grid(county, dtype, expr)
        return ordered_domain(numbers, grid, Decimal(0), nullable, *limits)
    if dtype.kind is Kind.BOOLEAN:
        return listed_domain([False, True], nullable)
    if dtype.kind is Kind.ENUM:
        return listed_domain(list(dtype.values), nullable)
    texts = list(dict.fromkeys(c for c in cuts if isinstance(c, str)))
    return listed_domain([*texts, OTHER_TEXT], nullable)


def _grid(county: County, dtype: DType, expr: Expr) -> Grid:
    scale = dtype.scale or 0
    item = county.plan.items.get(expr.name) if isinstance(expr, Name) else None
    if item is not None and item.dtype.is_numeric:
        scale = max(scale, item.dtype.scale or 0)
    return Grid(Decimal(1).scaleb(-scale))


def matches(county: County, rule: Rule, values: list[object]) -> bool:
    """Whether the interpreter says the rule matches these input values."""
    return all(
        county.test(t, v) is True for t, v in zip(rule.tests, values, strict=True)
    )


def cell_mask(county: County, test: Test, domain: Domain) -> Mask:
    """The segments whose value passes a constant cell's test.

    The same mask as asking the interpreter of every segment, asked once per group of
    segments the cell cannot tell apart: on a line, the segments between two of the
    cell's own constants (each of them a cut of the domain); in a list of texts, the
    texts the cell names and all the others. A cell's cost is then the number of its
    constants, not the number of segments, which grows with the table.
    """
    accept = functools.partial(passes, county, test)
    groups = _groups(county, test, domain)
    if groups is None:
        return domain.mask_of(accept)
    mask = 0
    for group in groups:
        if accept(domain.segments[lowest(group)].value):
            mask |= group
    return mask


def _groups(county: County, test: Test, domain: Domain) -> list[Mask] | None:
    """Segments a constant test cannot tell apart, or None when it is not known."""
    found: list[Mask] | None = None
    if domain.ordered:
        found = domain.regions(county.value(o) for o in operands(test))
    elif _equalities_only(test) and all(
        isinstance(s.value, str) for s in domain.segments if not s.missing
    ):
        named = {county.value(o) for o in operands(test)}
        found = [1 << i for i, s in enumerate(domain.segments) if s.value in named]
        rest = domain.full & ~domain.null & ~sum(found)
        found += [rest] if rest else []
    if found is not None and domain.null:
        found.append(domain.null)
    return found


def _equalities_only(test: Test) -> bool:
    match test:
        case AnyTest() | NullTest():
            return True
        case Compare(op, _):
            return op in ("=", "!=")
        case Disjunction(tests):
            return all(_equalities_only(t) for t in tests)
        case Negation(tests):
            return _equalities_only(tests)
    return False


def passes(county: County, test: Test, value: object) -> bool:
    """Whether the interpreter says the value passes the cell's test."""
    return county.test(test, value) is True


def with_mask(box: Box, dim: int, mask: Mask) -> Box:
    """The box with one dimension's mask replaced."""
    return (*box[:dim], mask, *box[dim + 1 :])
