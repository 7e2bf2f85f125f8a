"""Member guards: a member-level table that needs household values computed only for
the members some rule could match.

A member table that reads household values (the tekun member table reads the
household's asset test and the dibao standard) joins every member to its household
before its rules are tested, and the household aggregates then read every member again.
When nothing but such aggregates reads the table's results, a member whom no rule can
match adds nothing to them: the table gives that member its outputs' defaults, and an
aggregate whose condition is false on those defaults (``count(tekun)``, ``exists(tekun
and age >= 16)``, ``collect(person_id, tekun)``) counts, finds or lists nothing for it.
Such members can be left out before the join. Which members some rule could match is
decided from the rules' tests that read the member's own values (``counted = true``,
``has_able_supporter = false``): a member failing them in every rule matches none.

``guard_condition`` writes that test; ``neutral`` says whether an aggregate ignores a
member who gets the defaults. The compiler (compiler/sqlgen.py) guards optimistically
and keeps a guard only if every later reader of the guarded rows is a neutral aggregate.
Without a trace only: the trace lists every member's outcome in every table.

For a household some of whose members are left out, each aggregate sees fewer rows that
would have added nothing; for one all of whose members are, it sees none, which the
compiler already treats as it treats a household whose members add nothing (``count``
0, ``exists`` false, ``every`` true, ``collect`` empty, ``sum``, ``min_of`` and
``max_of`` null either way).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from compiler.expr import (
    AnyTest,
    Binary,
    Call,
    Compare,
    Disjunction,
    Expr,
    If,
    Interval,
    Literal,
    Name,
    Negation,
    NullTest,
    Test,
    Unary,
)
from compiler.interpret import and3, compare, not3, or3
from compiler.model import Table

# what ``fold`` returns for an expression whose value depends on more than it is told
UNKNOWN = object()


@dataclass
class Guard:
    """A guarded run of member steps: the table whose rules decide which members go
    in, the FROM clause with the guard and the one without (to put back), the
    defaults its outputs take for a member left out, and, once stored, how many of
    its readers are aggregates that ignore such members and whether any reader
    does not (``spoiled``)."""

    table: Table
    guarded: str
    plain: str
    defaults: dict[str, object]
    neutral_reads: int = 0
    spoiled: bool = False


def guard_condition(
    table: Table, available: set[str], render: Callable[[Test, str, int], str]
) -> str | None:
    """SQL that is true for every member some rule of ``table`` could match: for each
    rule, its tests of inputs that are plain names among the member relation's
    ``available`` columns, with operands that are literals or such names; the rules
    or-ed. ``render(test, column, input_index)`` writes one test of a column. None when
    a rule tests none of them (it could match any member), or the table has no rule."""
    rules = []
    for rule in table.rules:
        tests = []
        for index, (column, test) in enumerate(zip(table.inputs, rule.tests, strict=True)):
            if isinstance(test, AnyTest) or not isinstance(column.expr, Name):
                continue
            if column.expr.name not in available or not _plain(test, available):
                continue
            tests.append(f"({render(test, column.expr.name, index)})")
        if not tests:
            return None
        rules.append(" AND ".join(tests))
    if not rules:
        return None
    return "coalesce(" + " OR ".join(f"({r})" for r in rules) + ", FALSE)"


def _plain(test: Test, available: set[str]) -> bool:
    """Whether a test's operands are literals or available names only."""
    match test:
        case AnyTest() | NullTest():
            return True
        case Compare(_, operand):
            return _operand(operand, available)
        case Interval(low, _, high, _):
            return _operand(low, available) and _operand(high, available)
        case Disjunction(tests):
            return all(_plain(t, available) for t in tests)
        case Negation(tests):
            return _plain(tests, available)
    return False


def _operand(node: Expr, available: set[str]) -> bool:
    return isinstance(node, Literal) or (isinstance(node, Name) and node.name in available)


def defaults_of(table: Table) -> dict[str, object]:
    """Each output's value for a member no rule matches: its literal default, null
    when it has none; an output whose default is an expression is left unknown."""
    found: dict[str, object] = {}
    for column in table.outputs:
        if column.default is None:
            found[column.id] = None
        elif isinstance(column.default, Literal):
            found[column.id] = column.default.value
    return found


def neutral(call: Call, defaults: dict[str, object]) -> bool:
    """Whether the member aggregate ``call`` is the same for a household with or
    without a member whose values are ``defaults`` for those names (the rest unknown)."""
    args = [fold(a, defaults) for a in call.args]
    match call.func, args:
        case ("count" | "exists"), [condition]:
            return condition is False or condition is None
        case "every", [condition]:
            return condition is True
        case "sum", [value]:
            return value is None
        case ("sum" | "collect"), [value, condition]:
            return condition is False or condition is None or value is None
        case ("min_of" | "max_of"), [value]:
            return value is None
    return False


def fold(node: Expr, known: dict[str, object]) -> object:
    """The value of ``node`` (True, False, None for null, a literal's value) when the
    ``known`` names have those values, by the interpreter's three-valued logic;
    ``UNKNOWN`` when it depends on anything else (``false and x`` is still false)."""
    match node:
        case Literal(value):
            return value
        case Name(name):
            return known.get(name, UNKNOWN)
        case Unary("not", operand):
            value = fold(operand, known)
            return UNKNOWN if value is UNKNOWN else not3(value)
        case Binary(("and" | "or") as op, left, right):
            sides = (fold(left, known), fold(right, known))
            deciding = op == "or"  # true decides an or, false an and
            if any(side is deciding for side in sides):
                return deciding
            if any(side is UNKNOWN for side in sides):
                return UNKNOWN
            return or3(*sides) if deciding else and3(*sides)
        case Binary(("=" | "!=") as op, left, right):
            sides = (fold(left, known), fold(right, known))
            return UNKNOWN if any(side is UNKNOWN for side in sides) else compare(op, *sides)
        case If(condition, then, otherwise):
            chosen = fold(condition, known)
            if chosen is UNKNOWN:
                return UNKNOWN
            return fold(then if chosen is True else otherwise, known)
    return UNKNOWN
