"""The reader's words in an explanation: a value's Chinese name, an amount in yuan, a
date as YYYY-MM-DD, a condition cell with its names in Chinese and a rule's note.

Shared by ``compiler.explain`` (the lines per table), ``compiler.explain_conditions``
(the conditions compared and missed) and ``compiler.explain_standards`` (所用标准).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from decimal import Decimal

from compiler.bind import Plan
from compiler.expr import Expr, Name, Test, render
from compiler.model import DType, Kind, Rule
from compiler.normalise import show_controls, show_reordering
from compiler.vocabulary import GROUP_CN, OUTPUT_CN, value_cn

# a quoted text (left as written), a date as the cells take it (2025-7-1, 2025年7月1日:
# said as 2025-07-01), or a name as the expression language writes it (``assets.money``;
# after the ``..`` of an interval too)
_DATE = r"(?<![\d.])(\d{4})(?:-|年)(\d{1,2})(?:-|月)(\d{1,2})日?(?!\d|\.\d)"
_NAME = r"(?<!\w)(?<![^.]\.)[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?![\w(])"
_WORDS = re.compile(rf'"[^"]*"|{_DATE}|{_NAME}')

# how the group value ``none`` is said while one household is explained: 「无」 where
# the conclusion keeps the household among the low-income population (it stays in its
# group during a phase-out, or leaves it only next month), where the group's name
# 「不属于低收入人口」 would contradict the conclusion (helper-123)
_NONE_GROUP: ContextVar[str | None] = ContextVar("none_group", default=None)


@contextmanager
def none_group_said(word: str | None) -> Iterator[None]:
    """Say the group value ``none`` as ``word`` (None: by its name) within the block."""
    token = _NONE_GROUP.set(word)
    try:
        yield
    finally:
        _NONE_GROUP.reset(token)


# an annotation that only cites sections (二, 三(一), R-N1, 二; 三(一)) holds no note
_SECTIONS_ONLY = re.compile(r"[\s一二三四五六七八九十()（）A-Za-z0-9\-、;；,，.]*")


def label(plan: Plan, ident: str) -> str:
    """What a reader calls a value: its Chinese name; for a table's output, the
    province's name for it, else the title of a table with that one output."""
    item = plan.items.get(ident)
    if item and item.name_cn:
        return item.name_cn
    if ident in OUTPUT_CN:
        return OUTPUT_CN[ident]
    table = plan.tables.get(item.owner) if item and item.kind == "output" else None
    if table is not None and len(table.outputs) == 1 and table.title:
        return table.title
    return ident


def in_words(plan: Plan, text: str) -> str:
    """A condition or column as the cell writes it, each name of a value in the
    reader's words and each date as YYYY-MM-DD: 「< dibao_money_asset_years * 12 *
    低保标准」 reads 「< 低保货币财产年数 * 12 * 低保标准」. Functions, keywords and
    quoted text stay."""

    def said(match: re.Match[str]) -> str:
        word = match.group(0)
        if match.group(1):  # a date
            return f"{int(match.group(1)):04d}-{int(match.group(2)):02d}-{int(match.group(3)):02d}"
        known = not word.startswith('"') and (word in plan.items or word in OUTPUT_CN)
        return label(plan, word) if known else word

    return _WORDS.sub(said, text)


def said_test(plan: Plan, test: Test, dtype: DType) -> str:
    """A test as the table writes it, its names in Chinese and its quoted enum or
    province text values by their Chinese names (「= 特困供养, = 低保」 for
    ``= "tekun", = "dibao"``)."""

    def word(match: re.Match[str]) -> str:
        shown = show(match.group(1), dtype)
        return shown if shown != match.group(1) else match.group(0)

    return re.sub(r'"([A-Za-z_][A-Za-z0-9_]*)"', word, in_words(plan, render(test)))


def input_label(plan: Plan, expr: Expr, text: str) -> str:
    if isinstance(expr, Name):
        return label(plan, expr.name)
    return in_words(plan, text)


def named(plan: Plan, expr: Expr) -> str:
    """A named limit's name and a space before its amount (「低保标准 」); nothing for
    a number written in the cell, whose amount says it."""
    return f"{label(plan, expr.name)} " if isinstance(expr, Name) else ""


def rule_note(rule: Rule) -> str:
    """The Chinese note of a rule's row, from its annotation cell as typed: what
    follows the sections it cites (「R-N1：配偶计入，…」 gives 「配偶计入，…」); an
    annotation without a colon is the note itself unless it only cites sections."""
    text = " ".join(rule.annotation.split())
    for colon in ("：", ":"):
        if colon in text:
            return text.split(colon, 1)[1].strip()
    return "" if _SECTIONS_ONLY.fullmatch(text) else text


def rule_ids(rules: list[Rule]) -> str:
    """Rule ids as the tables write them, each followed by the note of its row where
    it has one; rules with the same note share it, in the order the first of them
    comes (「dibao_phase_out_running、marginal_phase_out_running「渐退期内…」」)."""
    by_note: dict[str, list[str]] = {}
    for rule in rules:
        by_note.setdefault(rule_note(rule), []).append(rule.id)
    return "、".join("、".join(ids) + (f"「{note}」" if note else "") for note, ids in by_note.items())


def fmt(value: object, dtype: DType) -> str:
    """A value as the reader writes it: money in yuan with two decimals, a percent
    with two decimals or as many as it has (12.3456%), any other number with the
    digits it needs only: a DECIMAL(18,4) multiplier 1.5000 is 1.5, 2.0000 is 2
    (helper-108); a date as YYYY-MM-DD."""
    if isinstance(value, Decimal):
        if dtype.kind is Kind.MONEY:
            return f"{value:,.2f} 元"
        if dtype.kind is Kind.PERCENT:
            return f"{_plain(value * 100, places=2)}%"
        return _plain(value)
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return show(value, dtype)


def show(value: object, dtype: DType | None = None) -> str:
    """A value in words: 是/否, 空, an enum or the province's text values by their
    Chinese names (the tables' identifiers where there is none)."""
    if value is None:
        return "空"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(show(v, dtype) for v in value) or "（无）"
    if isinstance(value, Decimal | date) and dtype is not None:  # a table's number output
        return fmt(value, dtype)
    if isinstance(value, Decimal):
        return _plain(value)
    if isinstance(value, str) and dtype is not None:
        if dtype.kind is Kind.ENUM or (dtype.kind is Kind.LIST and dtype.values):
            said = value_cn(value, dtype.values)
            none_group = value == "none" and said == GROUP_CN["none"]
            return (_NONE_GROUP.get() or said) if none_group else said
        if dtype.kind in (Kind.TEXT, Kind.LIST):
            return value_cn(value)
    return str(value)


def _plain(value: Decimal, places: int = 0) -> str:
    """A number without the trailing zeros its type's scale pads it with, keeping
    ``places`` decimals at least: ``Decimal("1.5000")`` is 1.5, ``Decimal("2.0000")``
    2, never written with an exponent (``Decimal("1E+2")`` is 100).

    >>> _plain(Decimal("1.5000")), _plain(Decimal("2.0000")), _plain(Decimal("70.0000"), 2)
    ('1.5', '2', '70.00')
    """
    if not value.is_finite():
        return str(value)
    shown = value.normalize()
    if -shown.as_tuple().exponent < places:  # type: ignore[operator]
        shown = value.quantize(Decimal(1).scaleb(-places))
    return format(shown, "f")


# line breaks other than the explanation's own "\n", which text held by a version
# published before the reader folded or refused them may carry: a lone CR overwrites
# the line on a terminal, U+2028 breaks it in a browser
_BREAKS = re.compile("[\r\v\f\x85\u2028\u2029]")


def visible(text: str) -> str:
    """``text`` with each control character, mark that reorders text (U+202E) and
    line break but the explanation's own written visibly as its code point, as export
    writes them (compiler/normalise.py): a rule's note, a table's title or a person's
    id from a version published before E011 refused them, or from a household file,
    printed as stored would read backwards or drive the terminal.

    >>> visible("依据 收入\\u202e低于\\u202c标准\\r")
    '依据 收入<U+202E>低于<U+202C>标准<U+000D>'
    """
    shown = show_reordering(show_controls(text))
    return _BREAKS.sub(lambda m: f"<U+{ord(m[0]):04X}>", shown)
