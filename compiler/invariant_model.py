"""The model an invariant is proved over: the items it needs, as functions of leaves.

An invariant is proved over "leaves": household fields, derived values that are not
piecewise constant (income per capita: arithmetic over members), table inputs written
as such expressions, and conditions that compare with household values. Each leaf is
cut into segments by every constant it is compared with; everything else (asset
checks, groups) is a function of the leaves that is constant on each box of segments.
Leaves used together form a cluster; a cluster is replaced by the few distinct tuples
of values its items take (the asset leaves become the 2^3 answers of the three asset
tables), so that a proof handles a few hundred boxes, not the product of all cuts.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from compiler.county import County
from compiler.domains import domain_of, operands
from compiler.expr import (
    Binary,
    Call,
    Expr,
    Literal,
    Name,
    Test,
    children,
    names_in,
    render,
)
from compiler.functions import FUNCTIONS
from compiler.intervals import Box, Domain, listed_domain
from compiler.model import DType, Kind, Level, Table

if TYPE_CHECKING:
    from compiler.invariants import Binding


@dataclass
class Leaf:
    key: str
    label: str
    domain: Domain
    name: str | None = None  # the item, for leaves that are fields or derived values


@dataclass
class Cluster:
    """Leaves used together, and the distinct tuples of values their parts take."""

    leaves: list[str]
    parts: list[str]  # atomic parts: a leaf key or a unit ("derived:x", "table:t")
    tuples: list[tuple[object, ...]]
    boxes: list[list[Box]]  # per tuple, the boxes of leaf segments that give it


class Model:
    """The items an invariant needs, as functions of independent leaves."""

    def __init__(
        self,
        county: County,
        roots: list[str],
        variables: list[str],
        expressions: Sequence[Expr] = (),
    ) -> None:
        self.county = county
        self.plan = county.plan
        self.kinds: dict[str, str] = {}
        self.pc_tables: dict[str, bool] = {}
        self.leaves: dict[str, Leaf] = {}
        self.cuts: dict[str, list[object]] = {}
        self.leaf_types: dict[str, tuple[DType, Expr]] = {}
        self.parts: dict[str, list[str]] = {}  # unit -> its parts (names and leaf keys)
        self.order: list[str] = []  # units, dependencies first
        self.roots = [r for r in roots if self.kind(r) != "const"]
        self.variables = variables
        for root in self.roots:
            self.visit(root)
        self.expressions = list(expressions)
        for expr in self.expressions:
            self.expr_parts(expr)  # the invariant's own comparisons cut the leaves too
        for key, (dtype, expr) in self.leaf_types.items():
            # read at its own level, so that a value the input always gives (an age
            # from the required birth date) is never missing in a counterexample
            domain = (
                listed_domain([False, True], nullable=False)
                if key.startswith("§cell")
                else domain_of(county, dtype, expr, self.cuts.get(key, []), self._level(key, expr))
            )
            name = expr.name if isinstance(expr, Name) else None
            self.leaves[key] = Leaf(key, self._label(key, expr), domain, name)

    def constant_names(self) -> list[str]:
        found = {
            n
            for e in self.expressions
            for n in names_in(e)
            if n in self.county.constants
        }
        for unit in self.order:
            for node in self._nodes(unit):
                found.update(n for n in names_in(node) if n in self.county.constants)
        return sorted(found)

    # ------------------------------------------------------------ what each name is

    def kind(self, name: str) -> str:
        """``const``, ``leaf`` (varies freely) or ``item`` (a function of leaves)."""
        if name in self.county.constants:
            return "const"
        if name in self.kinds:
            return self.kinds[name]
        self.kinds[name] = "leaf"  # a cycle is a leaf
        item = self.plan.items.get(name)
        found = "leaf"
        if item is not None and item.kind == "derived":
            found = "item" if self.pc(self.plan.derived[name].expr) else "leaf"
        elif item is not None and item.kind == "output":
            found = "item" if self.table_ok(self.plan.tables[item.owner]) else "leaf"
        self.kinds[name] = found
        return found

    def pc(self, node: Expr) -> bool:
        """Whether the value is constant on every box of leaf segments."""
        match node:
            case Literal():
                return True
            case Name(name):
                return self.kind(name) != "leaf"
            case Binary(op, left, right) if op in ("=", "!=", "<", "<=", ">", ">="):
                if self._leaf_against_constant(
                    left, right
                ) or self._leaf_against_constant(right, left):
                    return True
                return self.pc(left) and self.pc(right)
            case Call("is_null", (Name(name),)):
                return True
            case Call(func, _) if FUNCTIONS.get(func) and FUNCTIONS[func].aggregate:
                return False
        return all(self.pc(child) for child in children(node))  # type: ignore[arg-type]

    def _leaf_against_constant(self, leaf: Expr, other: Expr) -> bool:
        return (
            isinstance(leaf, Name)
            and self.kind(leaf.name) == "leaf"
            and self.county.is_constant(other)
        )

    def table_ok(self, table: Table) -> bool:
        if table.id not in self.pc_tables:
            self.pc_tables[table.id] = False
            outputs = [o for rule in table.rules for o in rule.outputs]
            outputs += [c.default for c in table.outputs if c.default is not None]
            self.pc_tables[table.id] = all(self.pc(o) for o in outputs)
        return self.pc_tables[table.id]

    def unit(self, name: str) -> str:
        item = self.plan.items[name]
        return f"table:{item.owner}" if item.kind == "output" else f"derived:{name}"

    # ------------------------------------------------------------ discovery

    def visit(self, name: str) -> None:
        kind = self.kind(name)
        if kind == "leaf":
            item = self.plan.items.get(name)
            dtype = item.dtype if item else DType(Kind.TEXT)
            self.leaf_types.setdefault(name, (dtype, Name(name)))
            return
        if kind == "const":
            return
        unit = self.unit(name)
        if unit in self.parts:
            return
        self.parts[unit] = []
        if unit.startswith("derived:"):
            parts = self.expr_parts(self.plan.derived[name].expr)
        else:
            parts = self.table_parts(self.plan.tables[unit[6:]])
        self.parts[unit] = list(dict.fromkeys(parts))
        self.order.append(unit)

    def expr_parts(self, node: Expr) -> list[str]:
        for leaf, other in _comparisons(node):
            if self._leaf_against_constant(leaf, other):
                self.cuts.setdefault(leaf.name, []).append(self.county.value(other))  # type: ignore[union-attr]
        found = [n for n in names_in(node) if self.kind(n) != "const"]
        for name in found:
            self.visit(name)
        return found

    def table_parts(self, table: Table) -> list[str]:
        parts: list[str] = []
        for j, column in enumerate(table.inputs):
            key = self.column_part(table, j)
            if key is None:
                continue
            parts.append(key)
            if self.kind(key) == "leaf" or key.startswith("§"):
                for rule in table.rules:
                    if self.county.is_constant(rule.tests[j]):
                        self.cuts.setdefault(key, []).extend(
                            self.county.value(o) for o in operands(rule.tests[j])
                        )
            for r, rule in enumerate(table.rules):
                if not self.county.is_constant(rule.tests[j]):
                    cell = f"§cell:{table.id}:{r}:{j}"
                    self.leaf_types[cell] = (
                        DType(Kind.BOOLEAN),
                        Literal(rule.test_texts[j]),
                    )
                    parts.append(cell)
        for rule in table.rules:
            for output in rule.outputs:
                parts.extend(self.expr_parts(output))
        for output_column in table.outputs:
            if output_column.default is not None:
                parts.extend(self.expr_parts(output_column.default))
        return parts

    def column_part(self, table: Table, j: int) -> str | None:
        """The part an input column reads: a name, a column leaf, or None (constant)."""
        expr = table.inputs[j].expr
        if self.county.is_constant(expr):
            return None
        if isinstance(expr, Name):
            self.visit(expr.name)
            return expr.name
        key = f"§col:{table.id}:{j}"
        self.leaf_types[key] = (table.inputs[j].dtype, expr)
        return key

    def _nodes(self, unit: str) -> list[Expr | Test]:
        if unit.startswith("derived:"):
            return [self.plan.derived[unit[8:]].expr]
        table = self.plan.tables[unit[6:]]
        nodes: list[Expr | Test] = [c.expr for c in table.inputs]
        nodes += [c.default for c in table.outputs if c.default is not None]
        for rule in table.rules:
            nodes += [*rule.tests, *rule.outputs]
        return nodes

    def _level(self, key: str, expr: Expr) -> Level:
        """The level a leaf is read at: its item's, or its decision table's."""
        if key.startswith("§col:"):
            return self.plan.tables[key.split(":")[1]].level
        item = self.plan.items.get(expr.name) if isinstance(expr, Name) else None
        return item.level if item is not None and item.level is not None else Level.HOUSEHOLD

    def _label(self, key: str, expr: Expr) -> str:
        if key.startswith("§cell:"):
            _, table, rule, column = key.split(":")
            tbl = self.plan.tables[table]
            text = expr.value if isinstance(expr, Literal) else render(expr)
            return f"{table} 表规则「{tbl.rules[int(rule)].id}」中 {tbl.inputs[int(column)].text} 的条件「{text}」成立"
        if key.startswith("§col:"):
            _, table, column = key.split(":")
            return self.plan.tables[table].inputs[int(column)].text
        return key

    # ------------------------------------------------------------ atoms and clusters

    def is_leaf(self, part: str) -> bool:
        return part.startswith("§") or self.kind(part) == "leaf"

    def atomic(self, unit: str) -> bool:
        return all(self.is_leaf(p) for p in self.parts[unit])

    def leaves_under(self, names: list[str]) -> set[str]:
        """Every leaf the names depend on, through derived values and tables."""
        found: set[str] = set()
        seen: set[str] = set()
        stack = list(names)
        while stack:
            name = stack.pop()
            if name in seen or self.kind(name) == "const":
                continue
            seen.add(name)
            if self.is_leaf(name):
                found.add(name)
            else:
                stack.extend(self.parts[self.unit(name)])
        return found

    def leaves_of(self, atom: str) -> list[str]:
        return (
            [atom]
            if atom in self.leaves
            else [p for p in self.parts[atom] if self.is_leaf(p)]
        )


def _comparisons(node: object) -> Iterator[tuple[Expr, Expr]]:
    """Every (left, right) and (right, left) pair compared inside an expression."""
    if isinstance(node, Binary) and node.op in ("=", "!=", "<", "<=", ">", ">="):
        yield node.left, node.right
        yield node.right, node.left
    for child in children(node):
        yield from _comparisons(child)


def model_of(county: County, bindings: list[Binding]) -> Model:
    """The one model shared by a county's invariants."""
    return Model(county, _roots(bindings), _variables(bindings), _expressions(bindings))


def _roots(bindings: list[Binding]) -> list[str]:
    return list(dict.fromkeys(name for bound in bindings for name in bound.roots()))


def _expressions(bindings: list[Binding]) -> list[Expr]:
    return [e for b in bindings for e in (b.when, b.then) if e is not None]


def _variables(bindings: list[Binding]) -> list[str]:
    return [
        b.variable for b in bindings if b.variable and b.invariant.kind == "monotone"
    ]
