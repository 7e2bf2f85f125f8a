"""「所用标准」, the last part of an explanation: each standard and county constant it
names, with its value and where it comes from, and each household value it names
that a standard lies behind, with its formula and its value for this household.

A standard's line gives its row: the county's, city's or province's workbook, the
cell and the day its period starts, 未核实 where it is marked so. A constant
(边缘标准) or a household value (刚性支出超比例金额) gives the formula it is computed
by and the values that formula read; the standards and values behind those are
listed in turn, so that a percent or multiplier standard a formula reads is never
left out (helper-90: the line 2,010 showed, not how 2 × 1,145 was capped by the
minimum wage).
"""

from __future__ import annotations

from datetime import date

from compiler.bind import AS_OF, Plan
from compiler.explain_words import fmt, in_words, label
from compiler.expr import names_in
from compiler.interpret import Evaluation
from compiler.model import Derived, Level

HEADING = "· 所用标准（决策日有效的取值及其出处）："


def standards_used(
    plan: Plan, result: Evaluation, said: str, named: set[str], as_of: date
) -> list[str]:
    """The 「所用标准」 lines: the standards and constants whose names ``said`` (the
    explanation so far) holds, and the household-level derived values in ``named``
    (the values and conditions the explanation compared) that read a standard."""
    book = plan.rulebook
    constants = _constants(plan)
    behind = _reading_standards(plan)
    household = [
        ident
        for kind, ident in plan.order
        if kind == "derived" and ident in named and ident in behind and ident not in constants
        and plan.derived[ident].level is Level.HOUSEHOLD
    ]
    wanted = household + [i for i in [*constants, *book.standards] if label(plan, i) in said]
    lines: list[str] = []
    for ident in wanted:  # grows while formulas name what they read
        derived = plan.derived.get(ident)
        if derived is not None and (ident in constants or ident in behind):
            reads = [n for n in dict.fromkeys(names_in(derived.expr)) if n in plan.items]
            wanted += [
                n for n in reads
                if n not in wanted and (n in book.standards or n in constants or n in behind)
            ]
            lines.append(_formula_line(plan, result, derived, reads))
        elif ident in book.standards:
            lines.extend(_standard_line(plan, result, ident, as_of))
    return [HEADING, *lines] if lines else []


def _constants(plan: Plan) -> dict[str, Derived]:
    """The derived values computed from standards and the decision date alone: the
    same for every household of the county (边缘标准, 临时救助回溯起点)."""
    constants: dict[str, Derived] = {}
    known = set(plan.rulebook.standards) | {AS_OF}
    for kind, ident in plan.order:
        derived = plan.derived.get(ident) if kind == "derived" else None
        if derived is not None and set(names_in(derived.expr)) <= known:
            known.add(ident)
            constants[ident] = derived
    return constants


def _reading_standards(plan: Plan) -> set[str]:
    """The derived values whose formula reads a standard or the decision date, itself
    or through other derived values (刚性支出超比例金额 reads 刚性支出占比标准;
    渐退期进行中 compares 现渐退期止 with 决策日)."""
    behind: set[str] = set()
    sources = set(plan.rulebook.standards) | {AS_OF}
    for kind, ident in plan.order:  # a derived value comes after those it reads
        derived = plan.derived.get(ident) if kind == "derived" else None
        if derived is not None and set(names_in(derived.expr)) & (sources | behind):
            behind.add(ident)
    return behind


def _formula_line(plan: Plan, result: Evaluation, derived: Derived, reads: list[str]) -> str:
    """「边缘标准 = 2,490.00 元：按「…」计算，其中 边缘标准倍数 = 2、…（派生值!A12）」."""
    parts = [f"{label(plan, n)} = {_value(plan, result, n)}" for n in reads]
    return (
        f"    {label(plan, derived.id)} = {_value(plan, result, derived.id)}："
        f"按「{in_words(plan, derived.text)}」计算"
        + (f"，其中 {'、'.join(parts)}" if parts else "")
        + f"（{derived.location.render()}）"
    )


def _standard_line(plan: Plan, result: Evaluation, ident: str, as_of: date) -> list[str]:
    row = plan.rulebook.standards[ident].row_on(as_of)
    if row is None:
        return []
    start = f"，{row.effective_from.isoformat()} 起" if row.effective_from else ""
    unverified = "，未核实" if not row.verified else ""
    value = _value(plan, result, ident)
    return [f"    {label(plan, ident)} = {value}：{row.location.render()}{start}{unverified}"]


def _value(plan: Plan, result: Evaluation, ident: str) -> str:
    """A value as this household has it; a member's or an event's, for each of them
    (「各成员（P1 0.00 元，P2 0.00 元）」)."""
    item = plan.items[ident]
    if item.level is Level.MEMBER:
        pool, who, whom = result.members, "person_id", "各成员"
    elif item.level is Level.EVENT:
        pool, who, whom = result.events, "event.person_id", "各事件"
    else:
        return fmt(result.household.get(ident), item.dtype)
    each = [f"{env.get(who)} {fmt(env.get(ident), item.dtype)}" for env in pool]
    return f"{whom}（{'，'.join(each) or '无'}）"
