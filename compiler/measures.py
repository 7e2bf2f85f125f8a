"""What a bound expression measures: an amount of money, a share, or neither.

The binder's types put money, numbers, integers and percentages in one family, so that
``1.5 * 低保标准`` and ``rigid_spending / household_income`` compute; this pass tells
amounts from shares, so that a money cell holding ``35%`` (0.35 yuan), a money column
compared with ``rigid_expense_ratio`` or ``低保标准 + 5%`` is refused (E110, said by
compiler/bind.py at the cell). Only sure mixes are refused: a share times a plain
number may be an amount kept in a ``number`` field, so it measures neither.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from compiler.diagnostics import shorten
from compiler.expr import Binary, Call, Expr, If, Literal, Name, Unary, render
from compiler.model import Kind

MIXED = frozenset({Kind.MONEY, Kind.PERCENT})
WORD = {Kind.MONEY: "金额", Kind.PERCENT: "百分比"}
# the functions and the form that choose one of their values, as a message names them
CHOOSERS = {"if": "if … then … else", "min": "min", "max": "max", "coalesce": "coalesce"}
_KEEPS_FIRST = ("abs", "round", "floor", "ceil", "sum", "min_of", "max_of")
_SAME = ("+", "-", "=", "!=", "<", "<=", ">", ">=")


@dataclass(frozen=True)
class Mix:
    """An amount and a share added, compared or chosen between (``op``)."""

    op: str
    money: Expr
    share: Expr

    def message(self) -> str:
        verb = "相加减" if self.op in ("+", "-") else "放在一起取值" if self.op in CHOOSERS else "比较"
        how = CHOOSERS.get(self.op, f"运算「{self.op}」")
        return f"金额「{said(self.money)}」与百分比「{said(self.share)}」不能{verb}（{how}）"


KindOf = Callable[[str], Kind | None]


def measure(node: Expr, kind_of: KindOf, mixes: list[Mix]) -> Kind | None:
    """MONEY for an amount, PERCENT for a share, None for neither (a multiplier, a
    quotient of amounts, a date); every mix found on the way is added to ``mixes``.
    ``kind_of`` gives the declared kind of a bound name."""
    match node:
        case Literal(_, unit):
            return (Kind.PERCENT if unit == "%" else Kind.MONEY) if unit else None
        case Name(ident):
            kind = kind_of(ident)
            return kind if kind in MIXED else None
        case Unary("-", operand):
            return measure(operand, kind_of, mixes)
        case Unary(_, operand):
            measure(operand, kind_of, mixes)
            return None
        case Binary(op, left, right) if op in _SAME:
            same = _same(op, [left, right], kind_of, mixes)
            return same if op in ("+", "-") else None
        case Binary(op, left, right):
            return _scaled(op, measure(left, kind_of, mixes), measure(right, kind_of, mixes))
        case If(cond, then, otherwise):
            measure(cond, kind_of, mixes)
            return _same("if", [then, otherwise], kind_of, mixes)
        case Call(func, args) if func in CHOOSERS:
            return _same(func, list(args), kind_of, mixes)
        case Call(func, args):
            found = [measure(a, kind_of, mixes) for a in args]
            return found[0] if found and func in _KEEPS_FIRST else None
    return None


def _scaled(op: str, left: Kind | None, right: Kind | None) -> Kind | None:
    """A product or quotient is an amount when an amount is scaled by a share or a
    plain number (``income / members``); anything else measures neither."""
    if op == "*" and Kind.MONEY in (left, right) and (left, right) != (Kind.MONEY, Kind.MONEY):
        return Kind.MONEY
    if op == "/" and left is Kind.MONEY and right is not Kind.MONEY:
        return Kind.MONEY
    return None


def _same(op: str, nodes: list[Expr], kind_of: KindOf, mixes: list[Mix]) -> Kind | None:
    """The measure of values added, compared or chosen among; a Mix when some are
    amounts and some shares."""
    found = [measure(node, kind_of, mixes) for node in nodes]
    known = {m for m in found if m is not None}
    if known != MIXED:
        return known.pop() if known else None
    money = next(n for n, m in zip(nodes, found, strict=True) if m is Kind.MONEY)
    share = next(n for n, m in zip(nodes, found, strict=True) if m is Kind.PERCENT)
    mixes.append(Mix(op, money, share))
    return None


def said(node: Expr) -> str:
    """A part of a cell quoted in a message: a number with the unit it was written
    with (``5%``, not 0.05), else its canonical text, shortened."""
    if isinstance(node, Literal) and node.unit and isinstance(node.value, Decimal):
        return as_written(node)
    return shorten(render(node))


def as_written(literal: Literal) -> str:
    """A number with its unit as the cell had it: 1.00 read from 100% is ``100%``."""
    value = literal.value
    assert isinstance(value, Decimal)
    if literal.unit == "%":
        value = value * 100
    elif literal.unit.startswith("万"):
        value = value / 10000
    return f"{value.normalize():f}{literal.unit}"


__all__ = ["CHOOSERS", "MIXED", "WORD", "Mix", "as_written", "measure", "said"]
