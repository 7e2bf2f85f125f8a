"""The conditions of an explanation, with the values they compared: those a matched
rule met (「所比较的标准」) and the first a rule above it missed, with by how much.

Amounts and dates are said alike: 「人均月收入 1,000.00 元 < 低保标准 1,301.00 元」,
「事件日期 2025-04-30 <= 决策日 2025-06-01」; a cell holding a list of conditions
(``< 低保标准, = 边缘标准``) is said alternative by alternative, each with whether it
held, so that every standard the list names is shown with its value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from compiler.bind import Plan
from compiler.explain_words import (
    fmt,
    in_words,
    input_label,
    label,
    named,
    said_test,
)
from compiler.expr import (
    Binary,
    Compare,
    Disjunction,
    Expr,
    Interval,
    Name,
    Negation,
    NullTest,
    Test,
    names_in,
    render,
)
from compiler.interpret import Evaluation, Interpreter, TraceEntry
from compiler.model import DType, InputColumn, Level, Table

MISS_CN = {"<": "不低于", "<=": "高于", ">": "不高于", ">=": "低于", "=": "不等于", "!=": "等于"}
MISS_DATE_CN = {"<": "不早于", "<=": "晚于", ">": "不晚于", ">=": "早于", "=": "不等于", "!=": "等于"}
HELD_CN = {True: "成立", False: "不成立", None: "无法判断"}


@dataclass(frozen=True)
class Scene:
    """One household, member or event as a table saw it: what a condition's names
    are worth there."""

    plan: Plan
    interpreter: Interpreter
    result: Evaluation
    env: dict

    def value(self, expr: Expr) -> object:
        return self.interpreter.value(expr, self.env, self.result)

    def holds(self, test: Test, value: object) -> bool | None:
        return self.interpreter.test(test, value, self.env, self.result)


def _comparable(value: object) -> bool:
    """An amount or a date: what a condition compares with a limit it names."""
    return isinstance(value, Decimal | date)


def _single(test: Test) -> Test:
    """A cell of one condition (parsed as a list of one) as that condition."""
    return test.tests[0] if isinstance(test, Disjunction) and len(test.tests) == 1 else test


def met(scene: Scene, table: Table, values: list[object], entry: TraceEntry) -> list[str]:
    """The lines a matched rule compared with, each with the amount it had: a reader
    sees 「家庭人均月收入 1,301.00 元 = 低保标准 1,301.00 元」, not the rule's names alone.
    Only conditions that name a standard or a derived value (a number written in the
    cell is in the rule already)."""
    shown = []
    for rule in (r for r in table.rules if r.id in entry.rules):
        texts = rule.test_texts or [""] * len(rule.tests)
        for test, text, column, value in zip(rule.tests, texts, table.inputs, values, strict=True):
            test = _single(test)
            if _comparable(value) and names_in(test):
                shown.append(_met_line(scene, test, text, column, value))
    return list(dict.fromkeys(line for line in shown if line))


def _met_line(scene: Scene, test: Test, text: str, column: InputColumn, value: object) -> str:
    plan, dtype = scene.plan, column.dtype
    said = f"{input_label(plan, column.expr, column.text)} {fmt(value, dtype)}"
    if isinstance(test, Compare):
        limit = scene.value(test.operand)
        if isinstance(test.operand, Name):
            return f"{said} {test.op} {label(plan, test.operand.name)} {fmt(limit, dtype)}"
        return f"{said} {test.op} {fmt(limit, dtype)}{written(scene, test, text, set())}"
    if isinstance(test, Interval):
        bounds = {e.name for e in (test.low, test.high) if isinstance(e, Name)}
        return f"{said} {_interval(scene, test, dtype)}{written(scene, test, text, bounds)}"
    if isinstance(test, Disjunction | Negation):
        return _met_list(scene, test, text, dtype, said, value)
    return ""


def _interval(scene: Scene, test: Interval, dtype: DType) -> str:
    low, high = scene.value(test.low), scene.value(test.high)
    opening, closing = "[" if test.low_closed else "(", "]" if test.high_closed else ")"
    return f"在 {opening}{fmt(low, dtype)} .. {fmt(high, dtype)}{closing} 之内"


def _met_list(
    scene: Scene, test: Disjunction | Negation, text: str, dtype: DType, said: str, value: object
) -> str:
    """A list of conditions, each alternative with its limit and whether it held:
    「家庭人均月收入 1,000.00 元 < 低保标准 1,301.00 元（成立）或 = 边缘标准 2,490.00 元
    （不成立）」; the cell is quoted, with the names it reads, when an alternative's
    limit is not a name shown beside it."""
    alternatives = test.tests.tests if isinstance(test, Negation) else test.tests
    pieces, shown = [], set()
    for alternative in alternatives:
        if isinstance(alternative, Compare) and isinstance(alternative.operand, Name):
            shown.add(alternative.operand.name)
        if isinstance(alternative, Interval):  # its bounds' amounts are shown
            shown |= {e.name for e in (alternative.low, alternative.high) if isinstance(e, Name)}
        piece = _alternative(scene, alternative, dtype)
        pieces.append(f"{piece}（{HELD_CN[scene.holds(alternative, value)]}）")
    quoted = not all(
        isinstance(a, Compare) and isinstance(a.operand, Name) for a in alternatives
    )
    if isinstance(test, Negation):
        said += f" 不属于以下任何一项：{'、'.join(pieces)}"
    else:
        said += " " + "或 ".join(pieces)  # each piece ends with whether it held
    return said + (written(scene, test, text, shown) if quoted else "")


def _alternative(scene: Scene, test: Test, dtype: DType) -> str:
    """One condition of a list, with its limit's value (「< 低保标准 1,301.00 元」)."""
    if isinstance(test, Compare):
        limit = fmt(scene.value(test.operand), dtype)
        return f"{test.op} {named(scene.plan, test.operand)}{limit}"
    if isinstance(test, Interval):
        return _interval(scene, test, dtype)
    if isinstance(test, NullTest):
        return "为空"
    return said_test(scene.plan, test, dtype)


def written(scene: Scene, test: Test, text: str, shown_already: set[str]) -> str:
    """「（条件「< 低保货币财产年数 * 12 * 低保标准」，其中 低保货币财产年数 = 4）」:
    the condition as the cell has it, with the value of each name it reads that the
    reader could not see (helper-50)."""
    if not text.strip():
        return ""
    plan, parts = scene.plan, []
    for name in dict.fromkeys(names_in(test)):
        item = plan.items.get(name)
        if item is None or name in shown_already:  # a bound whose amount is shown
            continue
        parts.append(f"{label(plan, name)} = {fmt(scene.value(Name(name)), item.dtype)}")
    where = f"，其中 {'、'.join(parts)}" if parts else ""
    return f"（条件「{in_words(plan, text.strip())}」{where}）"


def missed(scene: Scene, test: Test, column: InputColumn, value: object) -> str:
    """Why a condition did not hold: 「家庭人均月收入 1,402.50 元，高于低保标准 1,301.00 元
    （相差 101.50 元）」, 「事件日期 2025-06-05，晚于决策日 2025-06-01（相差 4 天）」."""
    plan, dtype = scene.plan, column.dtype
    label_ = input_label(plan, column.expr, column.text)
    if value is None:
        return f"{label_} 为空"
    test = _single(test)
    if isinstance(test, Negation):
        excluded = _excluded(scene, test, value, dtype)
        if excluded:
            return f"{label_} {fmt(value, dtype)}，属于「{said_test(plan, test, dtype)}」排除的情形：{excluded}"
    if _comparable(value):
        alternatives = test.tests if isinstance(test, Disjunction) else (test,)
        phrases = [_miss_phrase(scene, a, value, dtype) for a in alternatives]
        if all(phrases):
            return f"{label_} {fmt(value, dtype)}，" + "，且".join(phrases)
    return f"{label_} 为 {fmt(value, dtype)}，不满足「{said_test(plan, test, dtype)}」"


def _miss_phrase(scene: Scene, test: Test, value: object, dtype: DType) -> str:
    """The way one condition missed, without the value's name ("" when it cannot be
    said in words)."""
    plan = scene.plan
    if isinstance(test, Compare):
        limit = scene.value(test.operand)
        if isinstance(value, Decimal) and isinstance(limit, Decimal):
            return _compare_phrase(plan, test, value > limit, abs(value - limit), limit, dtype)
        if isinstance(value, date) and isinstance(limit, date):
            gap = abs((value - limit).days)
            return _compare_phrase(plan, test, value > limit, gap, limit, dtype)
    if isinstance(test, Interval):
        return _interval_miss(scene, test, value, dtype)
    if isinstance(test, NullTest):
        return "不为空"
    return ""


def _interval_miss(scene: Scene, test: Interval, value: object, dtype: DType) -> str:
    """「不在 (低保标准 1,301.00 元 .. 边缘标准 2,490.00 元] 之内（等于低保标准
    1,301.00 元，区间不含下限）」: the interval as the matched lines write it, its
    bounds named, and on which side the value fell; a value on an excluded bound is
    said to be excluded by it, a value beyond a bound by how much."""
    plan = scene.plan
    low, high = scene.value(test.low), scene.value(test.high)
    opening, closing = "[" if test.low_closed else "(", "]" if test.high_closed else ")"
    said = (
        f"不在 {opening}{named(plan, test.low)}{fmt(low, dtype)}"
        f" .. {named(plan, test.high)}{fmt(high, dtype)}{closing} 之内"
    )
    for bound, side, closed, beyond in (
        (test.low, "下限", test.low_closed, "低于"), (test.high, "上限", test.high_closed, "高于")
    ):
        limit = scene.value(bound)
        if type(limit) is not type(value) or not _comparable(value):
            continue
        if value == limit and not closed:
            return f"{said}（等于{_bound(plan, bound, side, limit, dtype, False)}，区间不含{side}）"
        below = value < limit  # type: ignore[operator]
        if (below and side == "下限") or (not below and value != limit and side == "上限"):
            if isinstance(value, date):
                gap = f"{abs((value - limit).days)} 天"  # type: ignore[operator]
                word = "早于" if below else "晚于"
            else:
                gap, word = fmt(abs(value - limit), dtype), beyond  # type: ignore[operator]
            return f"{said}（{word}{_bound(plan, bound, side, limit, dtype, True)}，相差 {gap}）"
    return said


def _bound(plan: Plan, bound: Expr, side: str, limit: object, dtype: DType, tell: bool) -> str:
    """An interval's bound as a missed line names it, 下限 or 上限 said once: a number
    written in the cell is 「下限 16」; a named bound whose name says it already is
    that name (「劳动年龄下限 18」, not 「下限 劳动年龄下限 18」); another named bound
    is its name, followed with ``tell`` by the side it is (「边缘标准 2,490.00 元（上限）」;
    without, the line says the side after it: 「区间不含上限」)."""
    amount = fmt(limit, dtype)
    if not isinstance(bound, Name):
        return f"{side} {amount}"
    name = label(plan, bound.name)
    if side in name or not tell:
        return f"{name} {amount}"
    return f"{name} {amount}（{side}）"


def sign_said(scene: Scene, expr: Expr, value: object, dtype: DType) -> str:
    """「（为负数：刚性支出 0.00 元 低于 刚性支出占比标准 * 家庭年收入 12,600.00 元，
    差 12,600.00 元）」: a negative amount computed as a difference (``a - b``), said as
    the two sides it compares, so that an official reads which side is larger rather
    than a minus sign (helper-129). Only a derived value whose
    formula is a subtraction is glossed: what another negative amount means is not
    guessed, and "" is returned for it."""
    plan = scene.plan
    derived = plan.derived.get(expr.name) if isinstance(expr, Name) else None
    if not isinstance(value, Decimal) or value >= 0 or derived is None:
        return ""
    formula = derived.expr
    if not isinstance(formula, Binary) or formula.op != "-":
        return ""
    # a household's value read by a member's or event's table is computed on the household
    env = scene.result.household if derived.level is Level.HOUSEHOLD else scene.env
    left = scene.interpreter.value(formula.left, env, scene.result)
    right = scene.interpreter.value(formula.right, env, scene.result)
    if not isinstance(left, Decimal) or not isinstance(right, Decimal):
        return ""
    return (
        f"（为负数：{_side(plan, formula.left)} {fmt(left, dtype)} 低于 "
        f"{_side(plan, formula.right)} {fmt(right, dtype)}，差 {fmt(right - left, dtype)}）"
    )


def _side(plan: Plan, expr: Expr) -> str:
    """One side of a difference in the reader's words, without the outer brackets
    the canonical rendering puts around an operation."""
    text = render(expr)
    if isinstance(expr, Binary) and text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    return in_words(plan, text)


def _excluded(scene: Scene, test: Negation, value: object, dtype: DType) -> str:
    """The conditions of a ``not(…)`` the value met, each with its limit's value
    (「< 低保标准 1,301.00 元」, 「为空」), so that a missed negation is quoted as other
    conditions are; "" when none held (a missing value misses a negation too)."""
    held = [a for a in test.tests.tests if scene.holds(a, value) is True]
    return "、".join(_alternative(scene, a, dtype) for a in held)


def _compare_phrase(
    plan: Plan, test: Compare, above: bool, gap: Decimal | int, limit: object, dtype: DType
) -> str:
    """「高于低保标准 1,301.00 元（相差 101.50 元）」; a missed = or != says only that
    (「不等于 0」); a date is earlier or later by a number of days (``gap`` in days)."""
    dated = isinstance(limit, date)
    if test.op in ("=", "!=") or not gap:
        word = (MISS_DATE_CN if dated else MISS_CN)[test.op]
    elif dated:
        word = "晚于" if above else "早于"
    else:
        word = "高于" if above else "低于"
    said = f"{word}{named(plan, test.operand) or ' '}{fmt(limit, dtype)}"
    if gap and test.op not in ("=", "!="):
        said += f"（相差 {gap} 天）" if dated else f"（相差 {fmt(gap, dtype)}）"
    return said


__all__ = ["Scene", "met", "missed", "sign_said", "written"]
