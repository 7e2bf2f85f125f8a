"""How many digits the compiled SQL keeps at each step of an expression, and the limits
that both evaluators hold every intermediate value to.

DuckDB computes in decimals of at most 38 digits. The compiled SQL keeps every digit a
value has (a product keeps the decimals of both factors, a sum the larger number of
decimals, a quotient six; sqlgen_expr.py widens where DuckDB would otherwise drop or
refuse digits), so it is exact wherever a value fits; where one does not, DuckDB stops.
``Precision`` says, for each expression of a plan, which SQL number type holds its
value (``Num``); from that follow the limits the reference interpreter
(compiler/interpret.py) checks, so that it stops on the same households, and the
formulas the binder refuses before any household is read (E308):

- a product whose decimals add up to more than 38 (``x * 1.5`` nested 37 times):
  DuckDB cannot hold even its smallest value, and refuses the whole query;
- a number written with more digits than 38, or more than 37 decimals.

At evaluation a value is too large (E605) when it reaches ``10^(38 - s)`` with ``s``
the decimals its step keeps: a product, a sum or difference past what DECIMAL(38, s)
holds, an operand DuckDB widens to DECIMAL(38, s) to add, compare, or unify it with
another of more decimals (``min``, ``max``, ``coalesce``, ``if``); a sum or difference
of whole numbers (BIGINT) past 2^63; a division whose dividend or divisor, rounded to
six decimals, reaches 10^25. A sum over members is exact (DuckDB adds in 128 bits).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from compiler.diagnostics import Diagnostic, Location, make
from compiler.expr import (
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
    Test,
    Unary,
    render,
)
from compiler.model import Derived, Kind, Table

MAX_DIGITS = 38
BIGINT_LIMIT = 2**63  # a BIGINT holds -2^63 to 2^63 - 1
DIVISION_DIGITS = 25
DIVISION_LIMIT = Decimal(10) ** DIVISION_DIGITS  # operands jz_div_big makes 128-bit millionths of


@dataclass(frozen=True)
class Num:
    """The SQL type of a number: DECIMAL(width, scale), or a BIGINT (width 19)."""

    width: int
    scale: int
    bigint: bool = False

    @property
    def whole(self) -> int:
        """The digits before the decimal point the type holds."""
        return self.width - self.scale


COLUMN_TYPES = {  # sqlgen_expr.SQL_TYPES
    Kind.MONEY: Num(18, 2),
    Kind.NUMBER: Num(18, 4),
    Kind.PERCENT: Num(18, 6),
    Kind.INTEGER: Num(19, 0, bigint=True),
}
BIGINT = COLUMN_TYPES[Kind.INTEGER]
_UNIFIED = ("min", "max", "coalesce")


@dataclass(frozen=True)
class Check:
    """What the interpreter must check at one step, where DuckDB may stop: the
    ``result`` of a product, ``all`` of two operands widened to DECIMAL(38, scale) and
    what they give, a ``bigint`` sum, a ``division``'s operands (compiler/interpret.py)."""

    kind: str
    scale: int = 0


class Precision:
    """The SQL number type of each expression of one plan (its items' types fixed).

    Answers are kept by the expression's identity: a plan's expressions live as long
    as the plan, and hashing a deep expression would walk it at every question.
    """

    def __init__(self, items: Mapping[str, object]) -> None:
        self.items = items
        self._nums: dict[int, tuple[Expr, Num | None]] = {}
        self._checks: dict[object, tuple[object, Check | None]] = {}

    def scale(self, node: Expr) -> int | None:
        """The decimals a numeric expression's SQL value carries; None for a value that
        is not a number, -1 for a bare null."""
        if isinstance(node, Literal) and node.value is None:
            return -1
        num = self.num(node)
        return None if num is None else num.scale

    def num(self, node: Expr) -> Num | None:
        """The SQL number type of ``node``'s value; None when it is not a number (or
        is a bare null, which takes the type of what it meets)."""
        kept = self._nums.get(id(node))
        if kept is not None and kept[0] is node:
            return kept[1]
        found = self._num(node)
        self._nums[id(node)] = (node, found)
        return found

    def _num(self, node: Expr) -> Num | None:
        match node:
            case Literal(value):
                return literal_num(value)
            case Name(ident):
                item = self.items.get(ident)
                kind = getattr(getattr(item, "dtype", None), "kind", None)
                return COLUMN_TYPES.get(kind) if isinstance(kind, Kind) else None
            case Unary("-", operand):
                return self.num(operand)
            case Binary(op, left, right) if op in ("+", "-", "*", "/"):
                return self._arithmetic(op, self.num(left), self.num(right))
            case If(_, then, otherwise):
                return self.unified([then, otherwise])
            case Call(func, args):
                return self._call(func, args)
        return None

    def _arithmetic(self, op: str, left: Num | None, right: Num | None) -> Num | None:
        if op == "/":
            return Num(MAX_DIGITS, 6)  # jz_div, jz_div_micro
        if left is None or right is None:  # a bare null: the other side's type
            return left or right
        if op == "*":  # the left factor is cast to DECIMAL(38, s) (sqlgen_expr)
            return Num(MAX_DIGITS, left.scale + right.scale)
        if left.bigint and right.bigint:
            return BIGINT
        return added(left, right)

    def unified(self, nodes: list[Expr]) -> Num | None:
        """The type ``sqlgen_expr.unified`` casts numbers to: DECIMAL(38, s), s the
        most decimals among them; None unless every one is a number or a bare null."""
        scales = [self.scale(n) for n in nodes]
        if any(s is None for s in scales) or all(s == -1 for s in scales):
            return None
        return Num(MAX_DIGITS, max(scales))  # type: ignore[type-var]

    def _call(self, func: str, args: tuple[Expr, ...]) -> Num | None:
        if func in ("count", "age", "months_between"):
            return BIGINT
        if func in _UNIFIED:
            return self.unified(list(args))
        inner = self.num(args[0]) if args else None
        if inner is None:
            return None
        if func in ("abs", "min_of", "max_of"):
            return inner
        if func == "sum":  # DuckDB sums a DECIMAL(p, s) into DECIMAL(38, s), a BIGINT into HUGEINT
            return Num(MAX_DIGITS, inner.scale)
        if func in ("floor", "ceil") and len(args) < 2:
            return inner if inner.bigint else Num(inner.width, 0)
        if func in ("round", "floor"):
            return self._rounded(func, args, inner)
        return None

    def _rounded(self, func: str, args: tuple[Expr, ...], inner: Num) -> Num:
        """round(x, n) and floor(x, n) with n written (the binder requires it): the
        compiled form keeps min(s, n) decimals (sqlgen_expr.rounded, .floored)."""
        digits = args[1] if len(args) > 1 else Literal(Decimal(0))
        places = int(digits.value) if isinstance(digits, Literal) and isinstance(digits.value, Decimal) else 0
        kept = max(0, min(inner.scale, places))
        if func == "round" and not rounds_fast(inner.scale, places):
            return inner if inner.bigint else Num(inner.width, kept)  # DuckDB's round
        return Num(MAX_DIGITS, kept)

    # ------------------------------------------------------------ checks

    def check(self, node: Binary) -> Check | None:
        """What DuckDB may refuse at an arithmetic step or comparison; None where the
        operands' types leave no value it cannot hold (most steps: checked once)."""
        kept = self._checks.get(id(node))
        if kept is None or kept[0] is not node:
            kept = self._checks[id(node)] = (node, self._check(node.op, node.left, node.right))
        return kept[1]

    def compared(self, column: Expr, operand: Expr) -> Check | None:
        """``check`` of a rule's test: the input column's value against an operand."""
        key = (id(column), id(operand))
        kept = self._checks.get(key)
        if kept is None or kept[0] != (column, operand):
            kept = self._checks[key] = ((column, operand), self._check("=", column, operand))
        return kept[1]

    def unified_check(self, owner: object, nodes: Sequence[Expr]) -> Check | None:
        """What ``min``, ``max``, ``coalesce`` or ``if`` (``owner``, a part of the
        plan) may not hold once its numbers are cast to the most decimals among them."""
        kept = self._checks.get(id(owner))
        if kept is None or kept[0] is not owner:
            common = self.unified(list(nodes))
            wholes = [num.whole for num in map(self.num, nodes) if num is not None]
            wide = common is not None and max(wholes, default=0) > MAX_DIGITS - common.scale
            kept = self._checks[id(owner)] = (owner, Check("all", common.scale) if wide else None)  # type: ignore[union-attr]
        return kept[1]

    def _check(self, op: str, left: Expr, right: Expr) -> Check | None:
        lhs, rhs = self.num(left), self.num(right)
        if op == "/":
            small = all(num is None or num.whole < DIVISION_DIGITS for num in (lhs, rhs))
            return None if small else Check("division", 6)
        if lhs is None or rhs is None:
            return None
        if op == "*":
            scale = lhs.scale + rhs.scale
            return None if lhs.whole + rhs.whole <= MAX_DIGITS - scale else Check("result", scale)
        if op in ("+", "-") and lhs.bigint and rhs.bigint:
            return Check("bigint")
        widened = widened_scale(lhs, rhs, 1 if op in ("+", "-") else 0)
        return None if widened is None else Check("all", widened)

    # ------------------------------------------------------------ refused formulas

    def unrepresentable(self, node: Expr | None) -> tuple[Expr, int] | None:
        """The innermost part of ``node`` no DECIMAL(38) can hold exactly whatever the
        household (E308), with the digits it would need: a product of more than 38
        decimals, a number written with more than 38 digits or 37 decimals."""
        for part in reversed(_parts(node)):  # a part before what contains it
            if isinstance(part, Literal):
                needed = literal_digits(part.value)
                if needed is not None and (needed[0] + needed[1] > MAX_DIGITS or needed[1] >= MAX_DIGITS):
                    return part, needed[0] + needed[1]
            elif isinstance(part, Binary) and part.op == "*":
                num = self.num(part)
                if num is not None and num.scale > MAX_DIGITS:
                    return part, num.scale
        return None


def unrepresentable_cells(items: Mapping[str, object], owner: Derived | Table) -> list[Diagnostic]:
    """E308 for each cell of a bound derived value or table whose formula DuckDB
    cannot compute exactly for any household (``Precision.unrepresentable``), at the
    cell, naming the product or number: the binder's check, before any household."""
    precision = Precision(items)
    found = []
    for expr, location in _cells(owner):
        refused = precision.unrepresentable(expr)
        if refused is not None:
            found.append(_refusal(*refused, location))
    return found


def _refusal(part: Expr, digits: int, location: Location) -> Diagnostic:
    text = render(part)
    if isinstance(part, Binary):
        return make(
            "E308",
            f"公式中的乘积保留全部小数需要 {digits} 位小数，超过可精确计算的 38 位",
            location,
            found=text,
            expected="每一步乘积的小数位数之和不超过 38 位，如 round(x * 1.05, 2) * 1.05",
            hint="每乘一个带小数的数，小数位数就增加（1.5 连乘 37 次有 37 位小数）；"
            "在中间一步用 round(…, n) 取到需要的位数，或拆成多个派生值（派生值按其类型取整）",
        )
    return make(
        "E308",
        f"公式中的数字有 {digits} 位，超过可精确计算的 38 位",
        location,
        found=text,
        expected="不超过 38 位数字、37 位小数的数，如 0.000001",
        hint="核对是否多写了数字",
    )


def _cells(owner: Derived | Table) -> Iterator[tuple[Expr | None, Location]]:
    """Each expression of a derived value or table with the cell it was written in."""
    if isinstance(owner, Derived):
        yield owner.expr, owner.location
        return
    for column in owner.inputs:
        yield column.expr, column.location
    for output in owner.outputs:
        yield output.default, output.location
    for rule in owner.rules:
        for i, test in enumerate(rule.tests):
            for operand in operands_of(test):
                yield operand, _at(rule.test_locations, i, rule.location)
        for i, expr in enumerate(rule.outputs):
            yield expr, _at(rule.output_locations, i, rule.location)


def _at(locations: list[Location], index: int, fallback: Location) -> Location:
    return locations[index] if index < len(locations) else fallback


def operands_of(test: Test) -> list[Expr]:
    """The expressions a rule's test compares the input value with."""
    match test:
        case Compare(_, operand):
            return [operand]
        case Interval(low, _, high, _):
            return [low, high]
        case Disjunction(tests):
            return [o for t in tests for o in operands_of(t)]
        case Negation(tests):
            return operands_of(tests)
    return []


def added(left: Num, right: Num) -> Num:
    """The type DuckDB gives a sum or difference of two decimals (a BIGINT counts as
    DECIMAL(19, 0)): the larger whole part, the more decimals, one digit to carry."""
    scale = max(left.scale, right.scale)
    return Num(min(MAX_DIGITS, max(left.whole, right.whole) + scale + 1), scale)


def widened_scale(left: Num, right: Num, carry: int) -> int | None:
    """The decimals DuckDB widens both of two decimals to before adding (``carry`` 1)
    or comparing (0) them, when the common type needs more than 38 digits and both
    are cast to DECIMAL(38, s); None when the common type holds both as they are."""
    if left.bigint and right.bigint:
        return None
    scale = max(left.scale, right.scale)
    return scale if max(left.whole, right.whole) + scale + carry > MAX_DIGITS else None


def rounds_fast(scale: int, places: int) -> bool:
    """Whether sqlgen_expr.rounded rounds a value of ``scale`` decimals to ``places``
    itself (into DECIMAL(38, places)) rather than through DuckDB's round."""
    return 0 <= places <= 12 and scale <= 12


def limit(scale: int) -> Decimal:
    """The magnitude a value of ``scale`` decimals must stay below in DECIMAL(38, s)."""
    return Decimal(10) ** (MAX_DIGITS - max(scale, 0))


def literal_digits(value: object) -> tuple[int, int] | None:
    """A written number's digits before and after the decimal point."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        return None
    number = Decimal(value)
    if not number.is_finite():
        return None
    scale = max(0, -number.as_tuple().exponent)  # type: ignore[operator]
    whole = len(str(abs(int(number)))) if abs(number) >= 1 else 0
    return whole, scale


def literal_num(value: object) -> Num | None:
    """The type ``sqlgen_expr.literal`` writes a number as."""
    digits = literal_digits(value)
    if digits is None:
        return None
    width = MAX_DIGITS if len(format(Decimal(value), "f")) > 17 else 18  # type: ignore[arg-type]
    return Num(width, min(digits[1], width - 1))


def _parts(node: Expr | None) -> list[Expr]:
    """``node`` and every expression inside it, outermost first."""
    found: list[Expr] = []
    pending = [node]
    while pending:
        part = pending.pop()
        if part is None:
            continue
        found.append(part)
        match part:
            case Unary(_, operand):
                pending.append(operand)
            case Binary(_, left, right):
                pending += [right, left]
            case If(cond, then, otherwise):
                pending += [otherwise, then, cond]
            case Call(_, args):
                pending += reversed(args)
    return found


__all__ = [
    "BIGINT_LIMIT",
    "DIVISION_LIMIT",
    "MAX_DIGITS",
    "Check",
    "Num",
    "Precision",
    "added",
    "limit",
    "operands_of",
    "rounds_fast",
    "unrepresentable_cells",
    "widened_scale",
]
