"""The items of an invariant's model as pieces: boxes of leaf segments with one value.

A cluster of leaves is replaced by the few distinct tuples of values its items take
(compiler/invariant_model.py); every other item is then computed piece by piece with
the reference interpreter, table by table, so that a proof reads a few hundred boxes.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from compiler.county import County
from compiler.domains import cell_mask, passes, with_mask
from compiler.errors import EvaluationError, InputError
from compiler.expr import AnyTest, Compare, Literal, Name, Test, names_in
from compiler.interpret import Interpreter, cast, priority
from compiler.intervals import (
    Box,
    Domain,
    Mask,
    bits,
    intersect,
    lowest,
    members,
    merge,
)
from compiler.invariant_model import Cluster, model_of
from compiler.model import DType, HitPolicy, Kind, Level, Table
from compiler.sweep import BitPiece, BoxIndex

if TYPE_CHECKING:
    from compiler.invariants import Binding

T = TypeVar("T")
ERROR = "\x00错误"  # the value of a table whose UNIQUE or ANY contract broke

Piece = tuple[Box, object]
_MAX_PIECES = 200_000  # boxes one step of a proof may build before giving up


class Unprovable(Exception):
    """The invariant is beyond what the analysis can prove exactly."""


@dataclass
class Space:
    """Dimensions to sweep: each has segment values; ``at`` says where a part's value is
    (a dimension, and a position in its tuples, or None when the value is the segment's)."""

    dims: list[list[object]]
    at: dict[str, tuple[int, int | None]]
    domains: list[Domain] | None = None  # a space of leaves: each leaf's domain

    @property
    def full(self) -> Box:
        return tuple((1 << len(d)) - 1 for d in self.dims)

    def mask(self, dim: int, accept: Callable[[object], bool]) -> Mask:
        return sum(1 << s for s, value in enumerate(self.dims[dim]) if accept(value))


class PieceBuilder:
    """A county's invariant model evaluated as pieces; the invariants share one model,
    so the leaves and clusters are built once."""

    def __init__(self, county: County, bindings: list[Binding]) -> None:
        self.county = county
        self.bindings = bindings
        self.bound = bindings[0]
        self.invariant = self.bound.invariant
        self.model = model_of(county, bindings)
        self.tables = {
            u[6:]: self._rewrite(self.plan_table(u[6:]))
            for u in self.model.order
            if u.startswith("table:")
        }
        steps = [
            ("derived" if u.startswith("derived:") else "table", u.split(":", 1)[1])
            for u in self.model.order
        ]
        self.chain = self._interpreter(steps)
        self.single: dict[str, Interpreter] = {}
        self.values: dict[object, object] = {}
        self.results: dict[object, tuple[object, object]] = {}
        self.outputs: dict[str, list[tuple[object, ...]] | None] = {}
        self.memo: dict[str, list[tuple[Box, dict[str, object]]]] = {}
        self.rule_boxes: dict[
            str,
            tuple[
                Space,
                list[tuple[Box | None, list[tuple[str, Callable[[object], bool]]]]],
            ],
        ] = {}
        self.clusters: list[Cluster] = []
        self.where: dict[str, tuple[int, int]] = {}
        self.space: Space | None = None

    def plan_table(self, ident: str) -> Table:
        return self.county.plan.tables[ident]

    # ------------------------------------------------------------ evaluation

    def _rewrite(self, table: Table) -> Table:
        """The table as the proof evaluates it: column leaves read their own name, and a
        cell compared with household values becomes its own yes/no column."""
        inputs = []
        for j, column in enumerate(table.inputs):
            part = self.model.column_part(table, j)
            expr = Name(part) if part and part.startswith("§col:") else column.expr
            inputs.append(dataclasses.replace(column, expr=expr))
        rules = [
            dataclasses.replace(rule, tests=list(rule.tests)) for rule in table.rules
        ]
        for r, rule in enumerate(table.rules):
            for j, test in enumerate(rule.tests):
                if self.county.is_constant(test):
                    continue
                key = f"§cell:{table.id}:{r}:{j}"
                inputs.append(
                    dataclasses.replace(
                        table.inputs[j], expr=Name(key), dtype=DType(Kind.BOOLEAN)
                    )
                )
                rules[r].tests[j] = AnyTest()
                for other in rules:
                    other.tests.append(
                        Compare("=", Literal(True)) if other is rules[r] else AnyTest()
                    )
        return dataclasses.replace(
            table, inputs=inputs, rules=rules, level=Level.HOUSEHOLD
        )

    def _interpreter(self, order: list[tuple[str, str]]) -> Interpreter:
        plan = self.county.plan
        derived = {
            ident: dataclasses.replace(plan.derived[ident], level=Level.HOUSEHOLD)
            for kind, ident in order
            if kind == "derived"
        }
        tables = {ident: self.tables[ident] for kind, ident in order if kind == "table"}
        restricted = dataclasses.replace(
            plan, derived=derived, tables=tables, order=order
        )
        return Interpreter(
            restricted, self.county.as_of, self.county.interpreter.calendar
        )

    def evaluate(
        self, interpreter: Interpreter, values: dict[str, object]
    ) -> dict[str, object] | None:
        try:
            return interpreter.evaluate(values, [], []).household
        except (EvaluationError, InputError):  # a broken contract, a sum past money
            return None

    def unit_value(self, unit: str, values: dict[str, object]) -> object:
        """A unit's value (a table's outputs as a tuple) where its parts have ``values``."""
        if unit.startswith("derived:"):
            return _hashable(
                self.county.value(
                    self.county.plan.derived[unit[8:]].expr,
                    {**self.county.env, **values},
                )
            )
        key = (unit, tuple(sorted((k, _hashable(v)) for k, v in values.items())))
        if key in self.values:
            return self.values[key]
        if unit not in self.single:
            self.single[unit] = self._interpreter([("table", unit[6:])])
        result = self.evaluate(self.single[unit], {**self.county.env, **values})
        outputs = self.tables[unit[6:]].outputs
        found = tuple(
            ERROR if result is None else _hashable(result.get(o.id)) for o in outputs
        )
        self.values[key] = found
        return found

    def select(self, name: str, value: object) -> object:
        """A name's value out of its unit's value (one output of a table's tuple)."""
        item = self.county.plan.items.get(name)
        if item is None or item.kind != "output" or self.model.is_leaf(name):
            return value
        outputs = [o.id for o in self.tables[item.owner].outputs]
        return value[outputs.index(name)]  # type: ignore[index]

    # ------------------------------------------------------------ clusters of leaves

    def atom_of(self, part: str) -> str | None:
        """The atomic part a name stands for: itself (a leaf) or its atomic unit."""
        if self.model.is_leaf(part):
            return part
        unit = self.model.unit(part)
        return unit if self.model.atomic(unit) else None

    def build_clusters(self) -> None:
        model = self.model
        consumers = [u for u in model.order if not model.atomic(u)]
        wanted = [p for u in consumers for p in model.parts[u]] + model.roots
        wanted += [v for v in model.variables if v in model.leaves]
        atoms = [a for a in dict.fromkeys(self.atom_of(p) for p in wanted) if a]
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.setdefault(x, x) != x:
                x = parent[x]
            return x

        for atom in atoms:
            leaves = model.leaves_of(atom) or [f"§none:{atom}"]
            for leaf in leaves[1:]:
                parent[find(leaf)] = find(leaves[0])
        groups: dict[str, list[str]] = {}
        for atom in atoms:
            groups.setdefault(
                find((model.leaves_of(atom) or [f"§none:{atom}"])[0]), []
            ).append(atom)
        for together in groups.values():
            leaves = list(
                dict.fromkeys(leaf for a in together for leaf in model.leaves_of(a))
            )
            for position, atom in enumerate(together):
                self.where[atom] = (len(self.clusters), position)
            self.clusters.append(self.cluster(leaves, together))

    def cluster(self, leaves: list[str], atoms: list[str]) -> Cluster:
        domains = [self.model.leaves[leaf].domain for leaf in leaves]
        space = Space(
            [domain.values() for domain in domains],
            {leaf: (i, None) for i, leaf in enumerate(leaves)},
            domains,
        )
        regions: list[tuple[Box, tuple[object, ...]]] = [(space.full, ())]
        for atom in atoms:
            pieces = self.atom_pieces(atom, space)
            joined: dict[tuple[object, ...], list[Box]] = {}
            for box, values in regions:
                for piece_box, value in pieces:
                    common = intersect(box, piece_box)
                    if common is not None:
                        joined.setdefault((*values, value), []).append(common)
            regions = [
                (b, values) for values, boxes in joined.items() for b in merge(boxes)
            ]
            if len(regions) > _MAX_PIECES:
                raise Unprovable("所涉及的输入组合过多")
        grouped: dict[tuple[object, ...], list[Box]] = {}
        for box, values in regions:
            grouped.setdefault(values, []).append(box)
        return Cluster(leaves, atoms, list(grouped), list(grouped.values()))

    def atom_pieces(self, atom: str, space: Space) -> list[Piece]:
        if atom in self.model.leaves:
            dim = space.at[atom][0]
            return [
                (with_mask(space.full, dim, 1 << s), v)
                for s, v in enumerate(space.dims[dim])
            ]
        if atom.startswith("derived:"):
            return self.expression_pieces(
                space,
                space.full,
                {},
                self.model.parts[atom],
                lambda v: self.unit_value(atom, v),
            )
        return self.table_pieces(atom[6:], space, space.full, {})

    # ------------------------------------------------------------ functions as boxes

    def expression_pieces(
        self,
        space: Space,
        universe: Box,
        fixed: dict[str, object],
        parts: list[str],
        value: Callable[[dict[str, object]], object],
    ) -> list[Piece]:
        """A function of ``parts`` as boxes of ``space`` with constant values: the parts
        that vary are grouped per dimension by the values they take."""
        varying: dict[int, list[str]] = {}
        for part in parts:
            if part not in fixed:
                varying.setdefault(space.at[part][0], []).append(part)
        choices: list[list[tuple[int, Mask, dict[str, object]]]] = []
        for dim, names in varying.items():
            groups: dict[tuple[object, ...], tuple[Mask, dict[str, object]]] = {}
            for s in bits(universe[dim]):
                seen = {n: self._extract(space, n, space.dims[dim][s]) for n in names}
                key = tuple(_hashable(v) for v in seen.values())
                mask, _ = groups.get(key, (0, seen))
                groups[key] = (mask | 1 << s, seen)
            choices.append([(dim, mask, seen) for mask, seen in groups.values()])
        found: dict[object, list[Box]] = {}
        for combination in _product(choices):
            box = list(universe)
            values = dict(fixed)
            for dim, mask, seen in combination:
                box[dim] = mask
                values.update(seen)
            key = (id(value), tuple((n, _hashable(v)) for n, v in values.items()))
            if key not in self.results:
                self.results[key] = (value, _hashable(value(values)))
            found.setdefault(self.results[key][1], []).append(tuple(box))
            if len(found) > _MAX_PIECES:
                raise Unprovable("所涉及的输入组合过多")
        return [(box, v) for v, boxes in found.items() for box in merge(boxes)]

    def _extract(self, space: Space, part: str, segment: object) -> object:
        _, position = space.at[part]
        return self.select(part, segment if position is None else segment[position])  # type: ignore[index]

    def table_pieces(
        self, ident: str, space: Space, universe: Box, fixed: dict[str, object]
    ) -> list[Piece]:
        """A table's outputs as boxes of ``space``; ``fixed`` holds the values of parts
        that are constant here (the outputs of other tables, for one context)."""
        table = self.plan_table(ident)
        rules: list[Box | None] = []
        for base, checks in self._rules(table, space):
            box = None if base is None else intersect(base, universe)
            if box is not None and all(accept(fixed[part]) for part, accept in checks):
                rules.append(box)
            else:
                rules.append(None)
        output_names = self._output_names(table)
        referenced = [
            p
            for p in self.model.parts[f"table:{ident}"]
            if p not in fixed and p in space.at and p in output_names
        ]
        found: dict[object, list[Box]] = {}
        constant = self._constant_outputs(table)
        index = BoxIndex(rules, len(universe))
        for piece in index.sweep_bits(universe, self._settled(table)):
            chosen = self._chosen(table, piece, constant) if constant else None
            if chosen is not None:
                found.setdefault(chosen, []).append(piece[0])
                continue
            for box, values in self._split(space, piece[0], fixed, referenced):
                inputs = self._inputs(table, space, box, values)
                found.setdefault(self.unit_value(f"table:{ident}", inputs), []).append(
                    box
                )
        return [(box, v) for v, boxes in found.items() for box in merge(boxes)]

    def _constant_outputs(self, table: Table) -> list[tuple[object, ...]] | None:
        """Each rule's outputs, then the defaults, where all of them are constants."""
        if table.id not in self.outputs:
            rows = [rule.outputs for rule in table.rules]
            rows.append([c.default or Literal(None) for c in table.outputs])
            constant = table.hit_policy.single_hit and all(
                self.county.is_constant(o) for row in rows for o in row
            )
            self.outputs[table.id] = (
                [
                    tuple(
                        _hashable(cast(self.county.value(o), c.dtype))
                        for o, c in zip(row, table.outputs, strict=True)
                    )
                    for row in rows
                ]
                if constant
                else None
            )
        return self.outputs[table.id]

    def _chosen(
        self, table: Table, piece: BitPiece, outputs: list[tuple[object, ...]]
    ) -> tuple[object, ...] | None:
        """The outputs the hit policy gives in a box of the sweep, when the rules that
        match there are settled (as interpret.Interpreter._single chooses them)."""
        _, active, full = piece
        if not active:
            return outputs[-1]
        policy = table.hit_policy
        if policy is HitPolicy.FIRST:
            first = lowest(active)
            return outputs[first] if full >> first & 1 else None
        if policy is HitPolicy.PRIORITY:
            best = min(
                members(active), key=lambda r: (priority(table, list(outputs[r])), r)
            )
            return outputs[best] if full >> best & 1 else None
        if full != active:
            return None
        rows = {outputs[r] for r in members(full)}
        if policy is HitPolicy.UNIQUE and full.bit_count() > 1 or len(rows) > 1:
            return tuple(ERROR for _ in table.outputs)
        return outputs[lowest(full)]

    def _rules(
        self, table: Table, space: Space
    ) -> list[tuple[Box | None, list[tuple[str, Callable[[object], bool]]]]]:
        """Each rule as a box over the parts that vary in ``space``, and the checks on
        the parts a context fixes; None where a constant input rules the rule out."""
        key = f"{table.id}@{id(space)}"
        cached = self.rule_boxes.get(key)
        if cached is not None and cached[0] is space:
            return cached[1]
        prepared = []
        for r, rule in enumerate(table.rules):
            box: list[Mask] | None = list(space.full)
            checks: list[tuple[str, Callable[[object], bool]]] = []
            for j, test in enumerate(rule.tests):
                if box is None:
                    break
                if not self.county.is_constant(test):
                    part: str | None = f"§cell:{table.id}:{r}:{j}"
                    accept: Callable[[object], bool] = _is_true
                else:
                    part = self.model.column_part(table, j)
                    accept = functools.partial(passes, self.county, test)
                    if part is None:
                        box = (
                            box
                            if accept(self.county.value(table.inputs[j].expr))
                            else None
                        )
                        continue
                if part not in space.at:
                    checks.append((part, accept))  # type: ignore[arg-type]
                    continue
                dim = space.at[part][0]  # type: ignore[index]
                box[dim] &= self._mask(space, dim, part, test, accept)
            prepared.append((None if box is None or 0 in box else tuple(box), checks))
        self.rule_boxes[key] = (space, prepared)
        return prepared

    def _mask(
        self,
        space: Space,
        dim: int,
        part: str,
        test: Test,
        accept: Callable[[object], bool],
    ) -> Mask:
        """The segments of a dimension where a rule's cell holds; over a leaf's own
        domain, asked once per group of segments the cell cannot tell apart."""
        if space.domains is not None and accept is not _is_true:
            return cell_mask(self.county, test, space.domains[dim])
        return space.mask(dim, functools.partial(self._accepts, space, part, accept))

    def _settled(self, table: Table) -> Callable[[int, int], bool] | None:
        """When the sweep may stop (over sets of rules as bits): the rule the hit
        policy picks surely matches."""
        if table.hit_policy is HitPolicy.FIRST:
            return lambda active, full: full & -full == active & -active != 0
        if table.hit_policy is HitPolicy.PRIORITY:
            outputs = [rule.outputs for rule in table.rules]
            if all(self.county.is_constant(o) for row in outputs for o in row):
                keys = [
                    priority(table, [self.county.value(o) for o in row])
                    for row in outputs
                ]
                return lambda active, full: bool(
                    full >> min(members(active), key=lambda r: (keys[r], r)) & 1
                )
        return None

    def _output_names(self, table: Table) -> set[str]:
        nodes = [o for rule in table.rules for o in rule.outputs]
        nodes += [c.default for c in table.outputs if c.default is not None]
        return {n for node in nodes for n in names_in(node)}

    def _split(self, space, box, fixed, referenced):  # type: ignore[no-untyped-def]
        """Split a box where the names an output uses take different values."""
        if not referenced:
            return [(box, dict(fixed))]
        pieces = self.expression_pieces(
            space, box, fixed, referenced, lambda v: tuple(sorted(v.items(), key=str))
        )
        return [(b, {**fixed, **dict(v)}) for b, v in pieces]  # type: ignore[arg-type]

    def _inputs(
        self, table: Table, space: Space, box: Box, values: dict[str, object]
    ) -> dict[str, object]:
        inputs: dict[str, object] = {}
        for part in self.model.parts[f"table:{table.id}"]:
            if part in values:
                inputs[part] = values[part]
            elif part in space.at:
                dim = space.at[part][0]
                inputs[part] = self._extract(
                    space, part, space.dims[dim][lowest(box[dim])]
                )
        return inputs

    # ------------------------------------------------------------ items over clusters

    def _accepts(
        self, space: Space, part: str, accept: Callable[[object], bool], segment: object
    ) -> bool:
        return accept(self._extract(space, part, segment))

    def cluster_space(self) -> Space:
        if self.space is not None:
            return self.space
        at: dict[str, tuple[int, int | None]] = dict(self.where)
        consumers = [u for u in self.model.order if not self.model.atomic(u)]
        for part in [
            p for u in consumers for p in self.model.parts[u]
        ] + self.model.roots:
            atom = self.atom_of(part)
            if atom is not None and part not in at:
                at[part] = self.where[atom]
        self.space = Space([list(c.tuples) for c in self.clusters], at)
        return self.space

    def pieces_of(
        self, parts: list[str], value: Callable[[dict[str, object]], object]
    ) -> list[Piece]:
        """A function of names (atomic or not) as boxes of the cluster space."""
        space = self.cluster_space()
        found: list[Piece] = []
        for box, fixed in self.contexts(parts, space):
            found.extend(self.expression_pieces(space, box, fixed, parts, value))
        return found

    def contexts(
        self, parts: list[str], space: Space
    ) -> list[tuple[Box, dict[str, object]]]:
        """Boxes in which every non-atomic name among ``parts`` has one value.

        A unit's pieces carry the values of the names they were built from, so a
        name computed from another (``monitoring`` from ``group``) adds no product.
        """
        found: list[tuple[Box, dict[str, object]]] = [(space.full, {})]
        position = {unit: i for i, unit in enumerate(self.model.order)}
        units = sorted(
            {self.model.unit(p) for p in parts if self.atom_of(p) is None},
            key=lambda u: -position[u],
        )
        for unit in units:
            names = [
                p
                for p in parts
                if self.atom_of(p) is None and self.model.unit(p) == unit
            ]
            joined: list[tuple[Box, dict[str, object]]] = []
            for box, fixed in found:
                if all(n in fixed for n in names):
                    joined.append((box, fixed))
                    continue
                for piece_box, carried in self.unit_pieces(unit, space):
                    common = intersect(box, piece_box)
                    if common is not None:
                        joined.append((common, {**fixed, **carried}))
            found = joined
            if len(found) > _MAX_PIECES:
                raise Unprovable("所涉及的输入组合过多")
        wanted = [p for p in parts if self.atom_of(p) is None]
        grouped: dict[tuple[object, ...], tuple[dict[str, object], list[Box]]] = {}
        for box, fixed in found:  # keep only what the caller reads, then merge boxes
            kept = {n: fixed[n] for n in wanted}
            key = tuple(_hashable(v) for v in kept.values())
            grouped.setdefault(key, (kept, []))[1].append(box)
        return [(box, kept) for kept, boxes in grouped.values() for box in merge(boxes)]

    def unit_pieces(
        self, unit: str, space: Space
    ) -> list[tuple[Box, dict[str, object]]]:
        """A unit's values as boxes, each with the values of its names and of the
        names it was computed from."""
        if unit not in self.memo:
            parts = self.model.parts[unit]
            pieces: list[tuple[Box, dict[str, object]]] = []
            for context, fixed in self.contexts(parts, space):
                if unit.startswith("derived:"):
                    found = self.expression_pieces(
                        space, context, fixed, parts, lambda v: self.unit_value(unit, v)
                    )
                else:
                    found = self.table_pieces(unit[6:], space, context, fixed)
                for box, value in found:
                    pieces.append((box, {**fixed, **self._named(unit, value)}))
            self.memo[unit] = pieces
        return self.memo[unit]

    def _named(self, unit: str, value: object) -> dict[str, object]:
        if unit.startswith("derived:"):
            return {unit[8:]: value}
        outputs = self.tables[unit[6:]].outputs
        return {o.id: v for o, v in zip(outputs, value, strict=True)}  # type: ignore[call-overload]


def _is_true(value: object) -> bool:
    return value is True


def _hashable(value: object) -> object:
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    return value


def _product(lists: Sequence[Sequence[T]]) -> Iterator[tuple[T, ...]]:
    return itertools.product(*lists)
