"""Interval algebra for the analysis pass: domains cut into segments, masks, boxes.

A column's values are cut at every constant its tests compare with, so that no test
can tell two values of one segment apart: ``< 1149`` and ``(1149..1723.5)`` cut money
into ``(-inf, 1149)``, ``[1149]``, ``(1149, 1723.5)``, ``[1723.5]``, ``(1723.5, +inf)``
and the missing value. A set of segments is a bit mask; a box is one mask per column;
a rule's region is a box; this module intersects, merges and subtracts boxes, and
compiler/sweep.py splits a box by which rules match.

Values are exact: numbers are Decimals on the grid of their type's scale (money in fen),
dates are days, and each segment carries its smallest concrete value, the witness.
"""

from __future__ import annotations

import itertools
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

Mask = int
Box = tuple[Mask, ...]


@dataclass(frozen=True, slots=True)
class Segment:
    """One piece of a domain: a single value, an open interval, or the missing value.

    ``low``/``high`` bound an open interval (None: unbounded); ``value`` is the smallest
    concrete value inside (for an interval unbounded below, 0 when inside, else the
    largest value below ``high``).
    """

    value: object
    point: bool = True
    low: object = None
    high: object = None
    missing: bool = False


class Domain:
    """A column's values as segments; numeric and date domains are in increasing order."""

    def __init__(
        self, segments: Sequence[Segment], ordered: bool, origin: object = None
    ) -> None:
        self.segments = tuple(segments)
        self.ordered = ordered
        self.origin = origin
        self.full: Mask = (1 << len(self.segments)) - 1
        self.null: Mask = sum(1 << i for i, s in enumerate(self.segments) if s.missing)
        self._keys: list[Decimal | int] | None = None

    def __len__(self) -> int:
        return len(self.segments)

    def values(self) -> list[object]:
        return [s.value for s in self.segments]

    def first(self, mask: Mask) -> int:
        """The segment a witness comes from: a present value before null, and on a line
        the smallest value not below the origin (0, or the decision date), else the
        largest value below it."""
        present = [i for i in bits(mask) if not self.segments[i].missing]
        if not present:
            return lowest(mask)
        if self.ordered and self.origin is not None:
            above = [i for i in present if self.segments[i].value >= self.origin]  # type: ignore[operator]
            return above[0] if above else present[-1]
        return present[0]

    def witness(self, mask: Mask) -> object:
        return self.segments[self.first(mask)].value

    def runs(self, mask: Mask) -> list[Mask]:
        """A mask as its maximal intervals (the missing value on its own); a listed
        domain's mask stays whole."""
        if not self.ordered or mask == self.full:
            return [mask]
        present = [i for i in bits(mask) if not self.segments[i].missing]
        found = [sum(1 << i for i in range(a, b + 1)) for a, b in _runs(present)]
        if mask & self.null:
            found.append(mask & self.null)
        return found

    def mask_of(self, accept: Callable[[object], bool]) -> Mask:
        """The segments whose value ``accept`` takes (tests are constant on a segment)."""
        mask = 0
        for index, segment in enumerate(self.segments):
            if accept(segment.value):
                mask |= 1 << index
        return mask

    def regions(self, cuts: Iterable[object]) -> list[Mask] | None:
        """The present segments of an ordered domain grouped between ``cuts``: below
        the least, equal to it, between it and the next, and so on.

        A test that compares only with these cuts is constant on each group, since
        no segment lies across a cut point of the domain (a constant its column
        compares with). None when a cut is not one (it lies inside a segment, or is
        not of the domain's type), or the domain is not ordered.
        """
        keys = self._ordered_keys()
        if keys is None:
            return None
        found = []
        for cut in cuts:
            key = _key(cut, self.origin)
            if key is None or not self._between(keys, key):
                return None
            found.append(key)
        edges = sorted(
            {0, len(keys), *(bisect_left(keys, k) for k in found)}
            | {bisect_right(keys, k) for k in found}
        )
        return [(1 << b) - (1 << a) for a, b in itertools.pairwise(edges) if b > a]

    def _between(self, keys: list[Decimal | int], key: Decimal | int) -> bool:
        """Whether ``key`` is a point segment or lies between two segments, as a cut
        of the domain does; never inside an open interval."""
        at = bisect_left(keys, key)
        if at < len(keys) and keys[at] == key:
            return self.segments[at].point
        if at > 0:
            before = self.segments[at - 1]
            end = _key(before.value if before.point else before.high, self.origin)
            if end is None or end > key:
                return False
        if at < len(keys):
            after = self.segments[at]
            start = _key(after.value if after.point else after.low, self.origin)
            if start is None or start < key:
                return False
        return True

    def _ordered_keys(self) -> list[Decimal | int] | None:
        if not self.ordered or self.null & ~(self.full ^ (self.full >> 1)):
            return None  # the missing value, when there is one, is the last segment
        if self._keys is None:
            keys = [_key(s.value, self.origin) for s in self.segments if not s.missing]
            if None in keys:
                return None
            self._keys = keys  # type: ignore[assignment]
        return self._keys

    def render(self, mask: Mask, show: Callable[[object], str]) -> str:
        """A mask as a reader writes it: ``= 1149``, ``>= 1723.51``, ``dibao, none``."""
        if mask == self.full:
            return "任意值"
        parts: list[str] = []
        present = [i for i in bits(mask) if not self.segments[i].missing]
        if self.ordered:
            for first, last in _runs(present):
                parts.append(self._render_run(first, last, show))
        else:
            parts.extend(show(self.segments[i].value) for i in present)
        if any(self.segments[i].missing for i in bits(mask)):
            parts.append("空值")
        return "、".join(parts)

    def _render_run(self, first: int, last: int, show: Callable[[object], str]) -> str:
        low, high = self.segments[first], self.segments[last]
        if first == last and low.point:
            return f"= {show(low.value)}"
        low_closed = low.point
        low_value = low.value if low.point else low.low
        high_closed = high.point
        high_value = high.value if high.point else high.high
        if low_value is None and high_value is None:
            return "任意非空值"
        if low_value is None:
            return f"{'<=' if high_closed else '<'} {show(high_value)}"
        if high_value is None:
            return f"{'>=' if low_closed else '>'} {show(low_value)}"
        left, right = "[" if low_closed else "(", "]" if high_closed else ")"
        return f"{left}{show(low_value)}..{show(high_value)}{right}"


def _key(value: object, origin: object) -> Decimal | int | None:
    """A value as a point on its domain's line (dates as day numbers), or None when it
    is not of the domain's type."""
    if isinstance(origin, date):
        return value.toordinal() if isinstance(value, date) else None
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        return None
    return value


def _runs(indexes: list[int]) -> Iterator[tuple[int, int]]:
    """Consecutive indexes as (first, last) pairs."""
    start = previous = None
    for index in indexes:
        if start is None:
            start = previous = index
        elif index == previous + 1:  # type: ignore[operator]
            previous = index
        else:
            yield start, previous  # type: ignore[misc]
            start = previous = index
    if start is not None:
        yield start, previous  # type: ignore[misc]


# ---------------------------------------------------------------- building domains


@dataclass(frozen=True, slots=True)
class Grid:
    """The values a numeric or date type can hold: multiples of ``step``."""

    step: Decimal
    is_date: bool = False

    def number(self, value: object) -> Decimal:
        if isinstance(value, date):
            return Decimal(value.toordinal())
        return Decimal(value)  # type: ignore[arg-type]

    def value(self, number: Decimal) -> object:
        if self.is_date:
            return date.fromordinal(int(number))
        return number.normalize() if number == number.to_integral() else number

    def at_or_above(self, number: Decimal) -> Decimal:
        return (number / self.step).to_integral_value(ROUND_CEILING) * self.step

    def above(self, number: Decimal) -> Decimal:
        return ((number / self.step).to_integral_value(ROUND_FLOOR) + 1) * self.step

    def below(self, number: Decimal) -> Decimal:
        return ((number / self.step).to_integral_value(ROUND_CEILING) - 1) * self.step

    def at_or_below(self, number: Decimal) -> Decimal:
        return (number / self.step).to_integral_value(ROUND_FLOOR) * self.step

    def holds(self, number: Decimal) -> bool:
        return self.at_or_above(number) == number


def ordered_domain(
    cuts: Iterable[object],
    grid: Grid,
    origin: object,
    nullable: bool,
    lower: object = None,
    upper: object = None,
) -> Domain:
    """The segments a set of cut points makes on a numeric or date line.

    Segments with no value on the grid (``(0..1)`` for integers, a point between two
    fen) are left out, so every segment has a witness. So are values below ``lower``
    or above ``upper`` (None: unbounded), the bounds the household input enforces: a
    segment is clipped to them, and left out when nothing of it remains.
    """
    points = sorted(
        {grid.number(c) for c in cuts if c is not None and not isinstance(c, bool)}
    )
    zero = grid.number(origin)
    least = None if lower is None else grid.at_or_above(grid.number(lower))
    most = None if upper is None else grid.at_or_below(grid.number(upper))
    if least is not None and most is not None and least > most:
        least = most = None  # bounds that hold no value are E213's, not a domain's
    segments: list[Segment] = []
    low: Decimal | None = None
    for point in [*points, None]:
        inside = _inside(low, point, grid, zero, (least, most))
        if inside is not None:
            segments.append(
                Segment(
                    grid.value(inside),
                    point=False,
                    low=None if low is None else grid.value(low),
                    high=None if point is None else grid.value(point),
                )
            )
        if point is not None and grid.holds(point) and _within(point, least, most):
            segments.append(Segment(grid.value(point)))
        low = point
    if nullable:
        segments.append(Segment(None, missing=True))
    return Domain(segments, ordered=True, origin=origin)


def _inside(
    low: Decimal | None,
    high: Decimal | None,
    grid: Grid,
    zero: Decimal,
    clip: tuple[Decimal | None, Decimal | None],
) -> Decimal | None:
    """The witness of the open interval (low, high) clipped to ``clip``, or None when
    it holds no value.

    Its smallest value; unbounded below, the origin (0, or the decision date) when it
    lies inside, else the largest value.
    """
    least, most = clip
    first = least if low is None else grid.above(low)
    if first is not None and least is not None:
        first = max(first, least)
    last = most if high is None else grid.below(high)
    if last is not None and most is not None:
        last = min(last, most)
    if first is not None:
        return first if last is None or first <= last else None
    start = grid.at_or_above(zero)
    return start if last is None or start <= last else last


def _within(number: Decimal, least: Decimal | None, most: Decimal | None) -> bool:
    return (least is None or least <= number) and (most is None or number <= most)


def listed_domain(values: Sequence[object], nullable: bool) -> Domain:
    """A domain of listed values (an enum's, booleans, text literals) and maybe null."""
    segments = [Segment(v) for v in values]
    if nullable:
        segments.append(Segment(None, missing=True))
    return Domain(segments, ordered=False)


# ---------------------------------------------------------------- masks and boxes


def bits(mask: Mask) -> Iterator[int]:
    """The positions of a mask's set bits, in increasing order."""
    return iter(members(mask))


def lowest(mask: Mask) -> int:
    return (mask & -mask).bit_length() - 1


def intersect(a: Box, b: Box) -> Box | None:
    """The common part of two boxes, or None when they do not meet."""
    out = []
    for x, y in zip(a, b, strict=True):
        both = x & y
        if not both:
            return None
        out.append(both)
    return tuple(out)


def contains(outer: Box, inner: Box) -> bool:
    return all(i & ~o == 0 for o, i in zip(outer, inner, strict=True))


def subtract(a: Box, b: Box) -> list[Box]:
    """``a`` without ``b``, as disjoint boxes."""
    if intersect(a, b) is None:
        return [a]
    pieces: list[Box] = []
    kept = list(a)
    for dim, (x, y) in enumerate(zip(a, b, strict=True)):
        outside = x & ~y
        if outside:
            pieces.append((*kept[:dim], outside, *a[dim + 1 :]))
        kept[dim] = x & y
    return pieces


def merge(boxes: Iterable[Box]) -> list[Box]:
    """Join boxes that differ in one dimension only, until none do (the union is kept)."""
    current = list(dict.fromkeys(boxes))
    if len(current) < 2:
        return current
    width = len(current[0])
    varying = [d for d in range(width) if len({box[d] for box in current}) > 1]
    changed = True
    while changed and len(current) > 1:
        changed = False
        for dim in varying:
            groups: dict[Box, Mask] = {}
            for box in current:
                key = box[:dim] + box[dim + 1 :]
                groups[key] = groups.get(key, 0) | box[dim]
            if len(groups) < len(current):
                changed = True
                current = [
                    key[:dim] + (mask,) + key[dim:] for key, mask in groups.items()
                ]
    return current


def members(found: int) -> tuple[int, ...]:
    """The positions of the set bits of ``found``, in increasing order."""
    if found.bit_count() < 8:
        out = []
        while found:
            low = found & -found
            out.append(low.bit_length() - 1)
            found ^= low
        return tuple(out)
    digits = bin(found)[:1:-1]  # lowest bit first
    return tuple(i for i, digit in enumerate(digits) if digit == "1")


def mask_runs(mask: Mask) -> list[tuple[int, int]]:
    """A mask's maximal runs of set bits as (first, last) positions."""
    runs = []
    while mask:
        first = lowest(mask)
        filled = mask + (1 << first)  # carries through the run
        last = lowest(filled & ~mask) - 1 if filled & ~mask else filled.bit_length() - 2
        runs.append((first, last))
        mask &= ~((1 << (last + 1)) - 1)
    return runs


def split_runs(box: Box, domains: Sequence[Domain]) -> list[Box]:
    """A box as boxes whose ordered dimensions are single intervals."""
    found: list[Box] = [()]
    for mask, domain in zip(box, domains, strict=True):
        found = [(*prefix, run) for prefix in found for run in domain.runs(mask)]
    return found


def witness(box: Box, domains: Sequence[Domain]) -> list[object]:
    """The smallest concrete value of each dimension of a box."""
    return [domain.witness(mask) for domain, mask in zip(domains, box, strict=True)]
