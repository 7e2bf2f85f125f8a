"""The least and greatest value an expression takes for a household the input accepts.

The household input refuses a value outside a field's declared bounds (the 字段
sheet's 下限 and 上限, E614), a birth before 1900 (E614) and a birth or recognition
date after the decision date (E615); a count of members is never negative. The
analysis clips its domains to these bounds (compiler/domains.py), so that no witness
is a value the input would refuse and no gap is reported that only such values fall
into (docs/analysis.md, section 1).

Bounds are sound, not tight: ``None`` is "no bound known", and each rule below holds
for every value the interpreter (compiler/interpret.py) computes from accepted inputs.
A missing value has no bound to break; whether an expression can be missing is
``County.nullable``'s question, which ``never_missing`` asks again knowing that the
input refuses a household without a field it requires (a member's birth date, E604),
so that no witness is a missing age.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

from compiler.bind import AS_OF
from compiler.county import County
from compiler.expr import Binary, Call, Expr, If, Literal, Name, Unary
from compiler.functions import FUNCTIONS
from compiler.households_model import (
    BIRTH_DATE,
    EARLIEST_BIRTH,
    NOT_AFTER_AS_OF,
    REQUIRED,
)
from compiler.interpret import SCALARS, cast, full_years
from compiler.model import Aggregation, DType, Level, Table

Value = Decimal | date
Bounds = tuple[Value | None, Value | None]  # (least, greatest); None: unbounded
UNBOUNDED: Bounds = (None, None)


def bounds(county: County, node: Expr) -> Bounds:
    """The least and greatest value ``node`` takes for accepted households.

    Args:
        county: the county whose fields, derived values and standards are used.
        node: an expression, typically a decision table's input column.

    Returns:
        ``(least, greatest)``, each a Decimal, a date or None (no bound known).
    """
    return _Bounds(county).of(node)


def never_missing(county: County, node: Expr, level: Level) -> bool:
    """Whether ``node``, read at ``level``, has a value for every accepted household.

    ``County.nullable``'s answer for the expression with each field the input requires
    (``REQUIRED``: the keys, a member's birth date, an event's date and type) read as
    always given, where it is read at its own level or is a household's. A member's
    field read for an event (through the event's person, who may not be found) can
    still be missing, and so can an aggregate over members, as ``nullable`` says.

    Args:
        county: the county whose fields and derived values are used.
        node: an expression, typically a decision table's input column.
        level: the level it is read at (the table's).

    Returns:
        True when no accepted household leaves it missing; False when one may.
    """
    return not county.nullable(_Given(county).of(node, level))


class _Given:
    """One question's walk: each derived value's answer once, a cycle left as read.

    A derived value read on the way is replaced by a marker of its own answer, not by
    its definition: a chain of values each reading the one before twice copied 2^n
    trees (helper-78), and ``nullable`` then walked them all.
    """

    def __init__(self, county: County) -> None:
        self.county = county
        self.known: dict[str, Expr] = {}

    def of(self, node: Expr, level: Level) -> Expr:
        """``node`` with each required field it reads at ``level`` (through derived
        values, each at its own level) replaced by an expression never missing."""
        match node:
            case Name(ident):
                return self._name(ident, level)
            case Unary(op, operand):
                return Unary(op, self.of(operand, level))
            case Binary(op, left, right):
                return Binary(op, self.of(left, level), self.of(right, level))
            case If(cond, then, otherwise):
                return If(cond, self.of(then, level), self.of(otherwise, level))
            case Call(func, args) if (
                func in FUNCTIONS and not FUNCTIONS[func].aggregate
            ):
                return Call(func, tuple(self.of(a, level) for a in args))
        return node  # literals, and aggregates, whose arguments are read per member

    def _name(self, ident: str, level: Level) -> Expr:
        county = self.county
        item = county.plan.items.get(ident)
        if item is None or ident in county.constants:
            return Name(ident)
        if item.level not in (level, Level.HOUSEHOLD):
            return Name(ident)  # read through another row, which may not be there
        if item.kind == "field" and (item.level, ident) in REQUIRED:
            return _given_marker(ident)
        derived = county.plan.derived.get(ident) if item.kind == "derived" else None
        if derived is None:
            return Name(ident)
        if ident not in self.known:
            self.known[ident] = Name(ident)  # a cycle (E305 elsewhere) is read as is
            given = self.of(derived.expr, derived.level)
            # nullable is the same for the definition and for a name that is missing
            # exactly when it is: the name itself (never less missing than its
            # definition with fields given), or a marker never missing
            self.known[ident] = (
                Name(ident) if county.nullable(given) else _given_marker(ident)
            )
        return self.known[ident]


def _given_marker(ident: str) -> Expr:
    """A name never missing, and still not a constant (a divisor stays possibly zero)."""
    return Call("coalesce", (Name(ident), Literal(True)))


class _Bounds:
    """One question's walk: the bounds of each name once, a cycle left unbounded."""

    def __init__(self, county: County) -> None:
        self.county = county
        self.known: dict[str, Bounds] = {}

    def of(self, node: Expr | None) -> Bounds:
        match node:
            case Literal(value):
                return _point(value)
            case Name(ident):
                return self._name(ident)
            case Unary("-", operand):
                low, high = self.of(operand)
                return _neg(high), _neg(low)
            case Binary(op, left, right) if op in _ARITHMETIC:
                return _ARITHMETIC[op](self.of(left), self.of(right))
            case If(_, then, otherwise):
                return _hull([self.of(then), self.of(otherwise)])
            case Call(func, args):
                return self._call(func, args)
        return UNBOUNDED

    # ------------------------------------------------------------ names

    def _name(self, ident: str) -> Bounds:
        if ident == AS_OF:
            return _point(self.county.as_of)
        if ident in self.county.constants:
            # counties that differ only in standards a table does not compare with
            # share its analysis (compiler/findings.py), so a standard's value, which
            # is not in that key, must not decide a bound
            return UNBOUNDED
        if ident not in self.known:
            self.known[ident] = UNBOUNDED  # a cycle (E305 elsewhere) stays unbounded
            self.known[ident] = self._item(ident)
        return self.known[ident]

    def _item(self, ident: str) -> Bounds:
        county = self.county
        item = county.plan.items.get(ident)
        field = county.plan.rulebook.fields.get(ident)
        if item is None:
            return UNBOUNDED
        if item.kind == "field" and field is not None:
            return self._field(ident, field.level, field.lower, field.upper)
        if item.kind == "derived":
            derived = county.plan.derived[ident]
            return _cast(self.of(derived.expr), derived.dtype)
        if item.kind == "output":
            return self._output(county.plan.tables[item.owner], ident)
        return UNBOUNDED

    def _field(self, ident: str, level: object, lower: object, upper: object) -> Bounds:
        if (level, ident) == BIRTH_DATE:
            return EARLIEST_BIRTH, self.county.as_of
        if (level, ident) in NOT_AFTER_AS_OF:
            return None, self.county.as_of
        return _value(lower), _value(upper)

    def _output(self, table: Table, ident: str) -> Bounds:
        index = [o.id for o in table.outputs].index(ident)
        column = table.outputs[index]
        if not table.hit_policy.single_hit:
            counted = table.aggregation is Aggregation.COUNT
            return (Decimal(0), None) if counted else UNBOUNDED
        chosen = [rule.outputs[index] for rule in table.rules]
        if column.default is not None:
            chosen.append(column.default)
        return _cast(_hull([self.of(node) for node in chosen]), column.dtype)

    # ------------------------------------------------------------ calls

    def _call(self, func: str, args: tuple[Expr, ...]) -> Bounds:
        if func == "count":
            return Decimal(0), None
        if func == "sum":
            low, high = self.of(args[0])
            zero = Decimal(0)
            return (
                zero if _at_least(low, zero) else None,
                zero if _at_most(high, zero) else None,
            )
        if func in ("min_of", "max_of"):  # one member's value
            return self.of(args[0])
        if func in ("min", "max", "coalesce"):  # one of the arguments
            return _hull([self.of(a) for a in args])
        if func in ("round", "floor", "ceil"):
            return self._rounded(func, args)
        if func == "abs":
            return _abs(self.of(args[0]))
        if func == "age":  # the later the birth, the younger
            born_low, born_high = self.of(args[0])
            return self._age(born_high), self._age(born_low)
        return UNBOUNDED

    def _age(self, born: Value | None) -> Decimal | None:
        if not isinstance(born, date):
            return None
        return Decimal(full_years(born, self.county.as_of))

    def _rounded(self, func: str, args: tuple[Expr, ...]) -> Bounds:
        """round, floor and ceil never decrease as their argument grows, for fixed places."""
        places: list[object] = []
        if len(args) > 1:
            if not self.county.is_constant(args[1]):
                return UNBOUNDED
            places.append(self.county.value(args[1]))
        low, high = self.of(args[0])
        apply = SCALARS[func]
        return (
            apply(low, *places) if isinstance(low, Decimal) else None,
            apply(high, *places) if isinstance(high, Decimal) else None,
        )


# ---------------------------------------------------------------- bound arithmetic


def _point(value: object) -> Bounds:
    found = _value(value)
    return found, found


def _value(value: object) -> Value | None:
    """A bound as a number or date; None for anything else (text, booleans, missing)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    return value if isinstance(value, date) else None


def _number(value: Value | None) -> Decimal | None:
    return value if isinstance(value, Decimal) else None


def _neg(value: Value | None) -> Decimal | None:
    number = _number(value)
    return None if number is None else -number


def _at_least(value: Value | None, floor: Decimal) -> bool:
    number = _number(value)
    return number is not None and number >= floor


def _at_most(value: Value | None, ceiling: Decimal) -> bool:
    number = _number(value)
    return number is not None and number <= ceiling


def _add(a: Bounds, b: Bounds) -> Bounds:
    return _both(a[0], b[0], Decimal.__add__), _both(a[1], b[1], Decimal.__add__)


def _subtract(a: Bounds, b: Bounds) -> Bounds:
    return _both(a[0], b[1], Decimal.__sub__), _both(a[1], b[0], Decimal.__sub__)


def _multiply(a: Bounds, b: Bounds) -> Bounds:
    ends = [_number(v) for v in (*a, *b)]
    if all(v is not None for v in ends):
        corners = [x * y for x in ends[:2] for y in ends[2:]]  # type: ignore[operator]
        return min(corners), max(corners)
    zero = Decimal(0)
    if _at_least(a[0], zero) and _at_least(b[0], zero):
        return _both(a[0], b[0], Decimal.__mul__), _both(a[1], b[1], Decimal.__mul__)
    return UNBOUNDED


def _divide(a: Bounds, b: Bounds) -> Bounds:
    """Only the sign: a quotient is missing when the divisor is zero (interpret.divide)."""
    zero = Decimal(0)
    if not _at_least(b[0], zero):
        return UNBOUNDED
    return (
        zero if _at_least(a[0], zero) else None,
        zero if _at_most(a[1], zero) else None,
    )


_ARITHMETIC: dict[str, Callable[[Bounds, Bounds], Bounds]] = {
    "+": _add,
    "-": _subtract,
    "*": _multiply,
    "/": _divide,
}


def _both(
    x: Value | None, y: Value | None, op: Callable[[Decimal, Decimal], Decimal]
) -> Decimal | None:
    left, right = _number(x), _number(y)
    return None if left is None or right is None else op(left, right)


def _hull(found: Sequence[Bounds]) -> Bounds:
    """The least interval holding every one of ``found`` (numbers, or dates)."""
    lows = [low for low, _ in found]
    highs = [high for _, high in found]
    if len({type(v) for v in (*lows, *highs) if v is not None}) > 1:
        return UNBOUNDED
    low = None if not found or None in lows else min(lows)  # type: ignore[type-var]
    high = None if not found or None in highs else max(highs)  # type: ignore[type-var]
    return low, high


def _abs(found: Bounds) -> Bounds:
    low, high = _number(found[0]), _number(found[1])
    zero = Decimal(0)
    if low is not None and low >= zero:
        return low, high
    if high is not None and high <= zero:
        return -high, None if low is None else -low
    widest = None if low is None or high is None else max(-low, high)
    return zero, widest


def _cast(found: Bounds, dtype: DType) -> Bounds:
    """Bounds of a value stored with its type's scale (rounding never reverses order)."""
    return cast(found[0], dtype), cast(found[1], dtype)  # type: ignore[return-value]
