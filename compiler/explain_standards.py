"""「所用标准」, the last part of an explanation: each standard and county constant it
read, with its value and where it comes from, and each value it read that a standard
lies behind, with its formula and its value for this household. What was read is
given by the identifiers of the parsed cells explained (conditions compared and
missed, result cells of the rules that fired), never by a search of the text.

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
from compiler.model import Derived, Kind, Level

HEADING = "· 所用标准（决策日有效的取值及其出处）："


def standards_used(plan: Plan, result: Evaluation, named: set[str], as_of: date) -> list[str]:
    """The 「所用标准」 lines: the standards, constants and derived values that read a
    standard among ``named``, the identifiers the explained conditions, the outputs of
    the rules that fired and the values compared actually read (their parsed
    expressions' names: not a search of the text for a standard's Chinese name, which
    listed 收入 for any line with 收入 in it and 边缘标准 for 边缘标准倍数)."""
    book = plan.rulebook
    constants = _constants(plan)
    behind = _reading_standards(plan)
    derived = [
        ident
        for kind, ident in plan.order
        if kind == "derived" and ident in named and ident in behind and ident not in constants
    ]
    wanted = derived + [i for i in [*constants, *book.standards] if i in named]
    lines: list[str] = []
    for ident in wanted:  # grows while formulas name what they read
        item = plan.derived.get(ident)
        if item is not None and (ident in constants or ident in behind):
            reads = [n for n in dict.fromkeys(names_in(item.expr)) if n in plan.items]
            wanted += [
                n for n in reads
                if n not in wanted and (n in book.standards or n in constants or n in behind)
            ]
            lines.append(_formula_line(plan, result, item, reads))
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
    value = _value(plan, result, ident) + _unit(plan, ident, row.unit)
    return [f"    {label(plan, ident)} = {value}：{row.location.render()}{start}{unverified}"]


def _unit(plan: Plan, ident: str, unit: str) -> str:
    """A count's or a number's unit as its row gives it (「渐退期月数 = 12 月」,
    「低收入人口预警处置时限 = 10 个工作日」), so that the reader is not left to guess
    months from days; money and percentages say theirs already (helper-123)."""
    kind = plan.items[ident].dtype.kind
    if kind not in (Kind.NUMBER, Kind.INTEGER) or not unit.strip():
        return ""
    return f" {unit.strip()}"


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
