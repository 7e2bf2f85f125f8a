"""One county's plan with its standards substituted, as the analysis sees it.

``County`` holds the standards in force on a date, the derived values computed only
from them, and answers the questions the analysis asks of an expression: is it a
constant here, what is its value, and can it be missing for some household.
"""

from __future__ import annotations

from datetime import date

from compiler.bind import AS_OF, Plan
from compiler.calendar import WorkCalendar
from compiler.expr import (
    Binary,
    Call,
    Expr,
    If,
    Literal,
    Name,
    Test,
    Unary,
    children,
    names_in,
)
from compiler.functions import FUNCTIONS
from compiler.interpret import Evaluation, Interpreter, cast
from compiler.model import Table


class County:
    """One county's plan with its standards (and derived constants) substituted."""

    def __init__(self, plan: Plan, as_of: date) -> None:
        self.plan = plan
        self.as_of = as_of
        self.interpreter = Interpreter(
            plan, as_of, WorkCalendar(plan.rulebook.calendar)
        )
        self.env: dict[str, object] = dict(self.interpreter.standards)
        self.env[AS_OF] = as_of
        self.result = Evaluation(self.env, [], [], [])
        self.constants = set(self.env)
        self._constant: dict[int, tuple[object, bool]] = {}
        for kind, ident in plan.order:
            derived = plan.derived.get(ident) if kind == "derived" else None
            if derived is not None and self.is_constant(derived.expr):
                self.env[ident] = cast(self.value(derived.expr), derived.dtype)
                self.constants.add(ident)
        book = plan.rulebook
        self.label = f"{book.county_code} {book.county_name}".strip()
        self._nullable: dict[str, bool] = {}
        # the place in plan.order of the step computing each derived value and output,
        # and how many steps of that order have their nullability settled
        self._position: dict[str, int] = {}
        for position, (kind, ident) in enumerate(plan.order):
            table = plan.tables.get(ident) if kind == "table" else None
            made = [o.id for o in table.outputs] if table is not None else [ident]
            self._position.update(dict.fromkeys(made, position))
        self._settled = 0

    def is_constant(self, node: Expr | Test) -> bool:
        """True when the node uses only standards, literals and the decision date."""
        known = self._constant.get(id(node))
        if known is None or known[0] is not node:
            found = set(names_in(node)) <= self.constants and not _has_aggregate(node)
            known = self._constant[id(node)] = (node, found)
        return known[1]

    def value(self, node: Expr | None, env: dict[str, object] | None = None) -> object:
        if env is None:
            return self.interpreter.value(node, self.env, self.result)
        return self.interpreter.value(node, env, Evaluation(env, [], [], []))

    def test(
        self, test: Test, value: object, env: dict[str, object] | None = None
    ) -> bool | None:
        scope = self.env if env is None else env
        return self.interpreter.test(test, value, scope, Evaluation(scope, [], [], []))

    def name_cn(self, ident: str) -> str:
        item = self.plan.items.get(ident)
        return item.name_cn if item and item.name_cn else ident

    # ------------------------------------------------------------ nullability

    def nullable(self, node: Expr | None) -> bool:
        """Whether the expression can be missing for some household."""
        match node:
            case None:
                return True
            case Literal(value):
                return value is None
            case Name(ident):
                return self._name_nullable(ident)
            case Unary(_, operand):
                return self.nullable(operand)
            case Binary("/", left, right):
                constant = isinstance(right, Literal) and right.value not in (None, 0)
                return self.nullable(left) or not constant or self.nullable(right)
            case Binary(_, left, right):
                return self.nullable(left) or self.nullable(right)
            case If(_, then, otherwise):
                return self.nullable(then) or self.nullable(otherwise)
            case Call(func, args):
                return self._call_nullable(func, args)
        return True

    def _call_nullable(self, func: str, args: tuple[Expr, ...]) -> bool:
        if func in ("is_null", "count", "exists", "every", "collect"):
            return False
        if func in ("coalesce", "min", "max"):
            return all(self.nullable(a) for a in args)
        if func in ("sum", "min_of", "max_of"):
            return True
        return any(self.nullable(a) for a in args)

    def _name_nullable(self, ident: str) -> bool:
        if ident in self.constants:
            return self.env.get(ident) is None
        if ident not in self._nullable and ident in self._position:
            self._settle(self._position[ident])
        if ident in self._nullable:
            return self._nullable[ident]
        self._nullable[ident] = True  # a cycle (plan.order is empty) stays nullable
        item = self.plan.items.get(ident)
        found = True
        if item is not None and item.kind == "field":
            field = self.plan.rulebook.fields.get(ident)
            found = field is None or field.default is None
        elif item is not None and item.kind == "derived":
            found = self.nullable(self.plan.derived[ident].expr)
        elif item is not None and item.kind == "output":
            found = self._output_nullable(self.plan.tables[item.owner], ident)
        self._nullable[ident] = found
        return found

    def _settle(self, position: int) -> None:
        """Settle the nullability of the plan's steps up to ``position``, in order: each
        reads only steps settled before it, so no walk follows a name into the next
        definition (a chain of 2000 derived values recursed once per value)."""
        while self._settled <= position:
            kind, ident = self.plan.order[self._settled]
            self._settled += 1  # first: a name of the step itself is not settled again
            if kind == "derived" and ident not in self.constants:
                self._nullable[ident] = self.nullable(self.plan.derived[ident].expr)
            elif kind == "table":
                table = self.plan.tables[ident]
                for output in table.outputs:
                    self._nullable[output.id] = self._output_nullable(table, output.id)

    def _output_nullable(self, table: Table, ident: str) -> bool:
        if not table.hit_policy.single_hit:
            return table.aggregation is not None and table.aggregation.value != "COUNT"
        index = [o.id for o in table.outputs].index(ident)
        column = table.outputs[index]
        if column.default is None or self.nullable(column.default):
            return True
        return any(self.nullable(rule.outputs[index]) for rule in table.rules)


def _has_aggregate(node: object) -> bool:
    if (
        isinstance(node, Call)
        and FUNCTIONS.get(node.func)
        and FUNCTIONS[node.func].aggregate
    ):
        return True
    return any(_has_aggregate(child) for child in children(node))
