"""The sweep over boxes: which rules match where, and which boxes a set of rules covers.

``sweep`` splits a box by which rules match (the interval analysis of Calvanese et
al., "Semantics, analysis and simplification of DMN decision tables", 2018): dimension
by dimension, the segments are grouped by the rules still possible on them.

A table of thousands of rules cuts its columns into thousands of segments, so the
sweep works on a ``BoxIndex``: a set of rules is one int with a bit per rule, and the
rules that hold a segment, or meet or contain a box, are a few big-integer operations
found from each rule's runs of segments, instead of a loop over the rules
(docs/analysis.md, sections 2 and 7). A ``Budget`` counts the steps, so that a table whose
rules cut its inputs into too many combinations stops with a note, not after minutes.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from compiler.intervals import Box, Mask, bits, lowest, mask_runs, members, merge


@dataclass(frozen=True, slots=True)
class Piece:
    """A box of the sweep: ``active`` rules may match inside it, ``full`` surely do."""

    box: Box
    active: tuple[int, ...]
    full: tuple[int, ...]


Settled = Callable[[tuple[int, ...], tuple[int, ...]], bool]
BitPiece = tuple[Box, int, int]  # a Piece with its rules as bits: box, active, full


class TooComplex(Exception):
    """A sweep needs more work than its budget allows (docs/analysis.md, section 7)."""


class Budget:
    """Work a table's analysis may do: sweep steps, each about one big-integer
    operation over the table's rules. ``spend`` raises TooComplex once it is used up."""

    def __init__(self, steps: int) -> None:
        self.left = steps

    def spend(self, steps: int) -> None:
        self.left -= steps
        if self.left < 0:
            raise TooComplex


def sweep(
    universe: Box, rules: Sequence[Box | None], settled: Settled | None = None
) -> list[Piece]:
    """Split ``universe`` into boxes in each of which the same rules match.

    Dimension by dimension, the segments are grouped by the rules still possible on
    them; a branch stops when no rule is possible, when every possible rule surely
    matches the rest of the box, or when ``settled(active, full)`` says the caller
    knows enough (a gap search stops as soon as some rule covers the branch).
    """
    return BoxIndex(rules, len(universe)).sweep(universe, settled)


def uncovered(universe: Box, rules: Sequence[Box | None]) -> list[Box]:
    """The parts of ``universe`` no rule covers, merged into few boxes."""
    return BoxIndex(rules, len(universe)).uncovered(universe)


def covered(universe: Box, rules: Sequence[Box | None]) -> bool:
    return BoxIndex(rules, len(universe)).covered(universe)


class BoxIndex:
    """Boxes indexed by segment: a set of boxes is an int with bit ``r`` for box ``r``,
    and which boxes meet or contain a box, or hold a segment, are a few big-integer
    operations instead of a loop over the boxes.

    The sweep over the index gives the pieces the loop over boxes gave, in the same
    order; ``among`` restricts a query to some of the boxes.
    """

    def __init__(
        self,
        boxes: Sequence[Box | None],
        width: int,
        budget: Budget | None = None,
    ) -> None:
        self.boxes = boxes
        self.width = width
        self.budget = budget
        live = [(r, box) for r, box in enumerate(boxes) if box is not None]
        self.live = sum(1 << r for r, _ in live)
        self.dims = [_Dimension([(r, box[d]) for r, box in live]) for d in range(width)]
        self._prepared: tuple[Box, list[int], int] | None = None

    # ------------------------------------------------------------ queries

    def meeting(self, box: Box, among: int = -1) -> int:
        """The boxes that share a point with ``box``."""
        found = self.live & among
        for dimension, mask in zip(self.dims, box, strict=True):
            if not found:
                break
            found &= dimension.meeting(mask)
        return found

    def containing(self, box: Box, among: int = -1) -> int:
        """The boxes that contain ``box``."""
        found = self.live & among
        for dimension, mask in zip(self.dims, box, strict=True):
            if not found:
                break
            found &= dimension.containing(mask)
        return found

    # ------------------------------------------------------------ sweeps

    def sweep(
        self, universe: Box, settled: Settled | None = None, among: int = -1
    ) -> list[Piece]:
        """The pieces of ``sweep`` (above) over the boxes in ``among``."""
        stop = None
        if settled is not None:
            stop = lambda active, full: settled(members(active), members(full))
        return [
            Piece(box, members(active), members(full))
            for box, active, full in self._walk(universe, among, stop)
        ]

    def sweep_bits(
        self,
        universe: Box,
        stop: Callable[[int, int], bool] | None = None,
        among: int = -1,
    ) -> list[BitPiece]:
        """The pieces of ``sweep`` with their rules as sets of bits, and ``stop``
        asked of those sets: no tuple is built for a piece where many rules match."""
        return self._walk(universe, among, stop)

    def uncovered(self, universe: Box, among: int = -1) -> list[Box]:
        """The parts of ``universe`` no box in ``among`` covers, merged into few boxes."""
        found = self._walk(universe, among, lambda active, full: full != 0)
        return merge(box for box, _, full in found if not full)

    def covered(self, universe: Box, among: int = -1) -> bool:
        """Whether the boxes in ``among`` cover ``universe`` (stops at the first hole)."""
        try:
            self._walk(universe, among, lambda active, full: full != 0, holes=True)
        except _Hole:
            return False
        return True

    def _walk(
        self,
        universe: Box,
        among: int,
        stop: Callable[[int, int], bool] | None,
        holes: bool = False,
    ) -> list[BitPiece]:
        cover, meeting = self._prepare(universe)
        found: list[BitPiece] = []
        budget = self.budget

        def walk(dim: int, prefix: tuple[Mask, ...], active: int) -> None:
            full = active & cover[dim]
            if (
                not active
                or full == active
                or (stop is not None and stop(active, full))
            ):
                if holes and not full:
                    raise _Hole
                found.append((prefix + universe[dim:], active, full))
                return
            groups = self.dims[dim].groups(universe[dim], active, budget)
            for signature, mask in groups.items():
                walk(dim + 1, (*prefix, mask), signature)

        walk(0, (), meeting & among)
        return found

    def _prepare(self, universe: Box) -> tuple[list[int], int]:
        """The boxes that contain ``universe`` from each dimension on, and those that
        meet it; kept for the next sweep, which is often over the same box."""
        if self._prepared is not None and self._prepared[0] == universe:
            return self._prepared[1], self._prepared[2]
        cover = [-1] * (self.width + 1)
        for d in range(self.width - 1, -1, -1):
            cover[d] = cover[d + 1] & self.dims[d].containing(universe[d])
        meeting = self.meeting(universe)
        self._prepared = (universe, cover, meeting)
        return cover, meeting


_FEW = 16  # boxes a query loops over, rather than build the arrays of _Dimension


class _Hole(Exception):
    """A sweep that only asks whether a box is covered has found a part that is not."""


class _Dimension:
    """One dimension of a BoxIndex: each box's mask there, as runs of segments.

    With few boxes a query loops over their masks; the arrays that answer it in a few
    operations are built the first time many boxes are asked about.
    """

    def __init__(self, masks: list[tuple[int, Mask]]) -> None:
        self.masks = masks
        self.size = max((mask.bit_length() for _, mask in masks), default=0)
        self.runs: dict[int, list[tuple[int, int]]] = {}
        self.odd: list[tuple[int, Mask]] = []  # masks of several runs, or none
        self.at: list[int] = []  # per segment, the boxes that hold it
        self.start_at_or_before: list[int] = []
        self.end_at_or_after: list[int] = []
        self.built = False

    def _build(self) -> None:
        size = self.size
        starts, ends = [0] * (size + 1), [0] * (size + 1)
        toggles = [0] * (size + 1)
        for r, mask in self.masks:
            runs = self.runs[r] = mask_runs(mask)
            for first, last in runs:
                toggles[first] ^= 1 << r
                toggles[last + 1] ^= 1 << r
            if len(runs) == 1:
                starts[runs[0][0]] |= 1 << r
                ends[runs[0][1]] |= 1 << r
            else:
                self.odd.append((r, mask))
        self.at = list(itertools.accumulate(toggles[:size], operator.xor))
        self.start_at_or_before = list(itertools.accumulate(starts, operator.or_))
        ends_after = list(itertools.accumulate(reversed(ends), operator.or_))
        self.end_at_or_after = ends_after[::-1]
        self.built = True

    def _holders(self) -> list[int]:
        """For each segment, the boxes that hold it."""
        if self.built or self.at or not self.size:
            return self.at
        if len(self.masks) > _FEW:
            self._build()
        else:
            self.at = [
                sum(1 << r for r, m in self.masks if m >> s & 1)
                for s in range(self.size)
            ]
        return self.at

    def meeting(self, mask: Mask) -> int:
        if len(self.masks) <= _FEW:
            return sum(1 << r for r, m in self.masks if m & mask)
        if not self.built:
            self._build()
        found = sum(1 << r for r, m in self.odd if m & mask)
        for first, last in mask_runs(mask):
            if first >= self.size:
                break
            last = min(last, self.size - 1)
            found |= self.start_at_or_before[last] & self.end_at_or_after[first]
        return found

    def containing(self, mask: Mask) -> int:
        if len(self.masks) <= _FEW:
            return sum(1 << r for r, m in self.masks if m & mask == mask)
        if not self.built:
            self._build()
        found = sum(1 << r for r, m in self.odd if m & mask == mask)
        last = mask.bit_length() - 1
        if 0 <= last < self.size:
            first = lowest(mask)
            found |= self.start_at_or_before[first] & self.end_at_or_after[last]
        return found

    def holding(self, segment: int) -> int:
        return self._holders()[segment] if segment < self.size else 0

    def groups(
        self, universe: Mask, active: int, budget: Budget | None
    ) -> dict[int, Mask]:
        """The segments of ``universe`` grouped by the boxes among ``active`` that hold
        them, in the order of each group's first segment.

        Boxes change only where one of their runs starts or ends, so with few active
        boxes the segments are cut at those boundaries; otherwise each segment is
        looked up on its own.
        """
        segments = universe.bit_count()
        boxes = active.bit_count()
        if budget is not None:
            budget.spend(1 + min(segments, 2 * boxes))
        groups: dict[int, Mask] = {}
        if 2 * boxes >= segments:
            at, size = self._holders(), self.size
            for s in bits(universe):
                signature = active & at[s] if s < size else 0
                groups[signature] = groups.get(signature, 0) | 1 << s
            return groups
        edges = {0, universe.bit_length()}
        if not self.built:
            self._build()
        for r in members(active):
            for first, last in self.runs[r]:
                edges.add(first)
                edges.add(last + 1)
        for low, high in itertools.pairwise(sorted(edges)):
            part = universe & ((1 << high) - (1 << low))
            if part:
                signature = active & self.holding(lowest(part))
                groups[signature] = groups.get(signature, 0) | part
        return groups
