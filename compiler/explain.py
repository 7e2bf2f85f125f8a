"""Explanations in Chinese: which rule of which table decided, with the values compared,
and for the groups a household did not get, the nearest condition it missed and by how
much ("人均月收入 1,402.50 元，高于低保标准 1,301.00 元 101.50 元").

The explanation is computed by the reference interpreter on the one household, so it
says exactly what the table means; the batch SQL agrees with it by construction and by
the differential tests.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

from compiler.bind import AS_OF, Plan, tested_inputs
from compiler.calendar import WorkCalendar, unlisted_year_warning, unlisted_years
from compiler.diagnostics import make
from compiler.engine import household_envs, open_project
from compiler.errors import InputError, ValidationFailed
from compiler.expr import (
    Compare,
    Disjunction,
    Expr,
    Interval,
    Name,
    Test,
    names_in,
    render,
)
from compiler.households_plausible import household_warnings
from compiler.interpret import Evaluation, Interpreter, TraceEntry
from compiler.model import DType, Field, Kind, Level, Table
from compiler.normalise import fold_text
from compiler.resolve import declared_fields
from compiler.vocabulary import GROUP_CN, OUTPUT_CN, value_cn

# the tables whose rules are each a group: the explanation says why a rule above the
# one that decided missed (the province decides eligibility, then re-checks)
WHY_NOT_OUTPUTS = frozenset({"group", "eligible_group"})
COMPARE_CN = {"<": "低于", "<=": "不高于", ">": "高于", ">=": "不低于", "=": "等于", "!=": "不等于"}
MISS_CN = {"<": "不低于", "<=": "高于", ">": "不高于", ">=": "低于", "=": "不等于", "!=": "等于"}


def explain_file(
    tables: str | Path,
    households: str | Path,
    household_id: str,
    as_of: date,
    counties: list[str] | None = None,
    project=None,  # type: ignore[no-untyped-def]
    versions: dict[str, str] | None = None,
) -> str:
    """Explain one household of a file, with the version in force when ``project``
    comes from the registry (``versions`` names it), else the working tables.

    The file is read with the declared fields, as ``evaluate`` reads it: CSV can be
    read at all, and every format gives the same typed and checked household.
    """
    if counties and project is None:
        project = open_project(tables, counties, as_of)
        unknown = [d for d in project.report.errors if d.code == "E606"]
        if unknown:  # as evaluate: a --county with no workbook, before reading the file
            raise ValidationFailed(unknown)
    fields = project.fields if project is not None else declared_fields(tables)
    household = _household(households, household_id, fields, as_of, counties)
    code = str(household.get("county_code"))
    project = project or open_project(tables, [code], as_of)
    errors = project.errors_for([code])
    if errors:  # as evaluate: a county whose tables check refuses is not decided
        raise ValidationFailed(errors)
    text = explain(project.plan(code), household, as_of)
    label = (versions or {}).get(code, "工作副本")
    return text.replace("\n", f"\n使用的版本：{label}\n", 1)


def _household(
    households: str | Path,
    household_id: str,
    fields: dict[str, Field],
    as_of: date,
    counties: list[str] | None = None,
) -> dict:
    """The household of the file with this id; with ``counties`` (--county), only one
    of those counties, as evaluate decides only theirs. Only the rows with this id are
    read and checked: another household's problem does not stop its explanation, and
    a province file is not loaded whole for one household."""
    from compiler.households import iter_households

    elsewhere = None
    # the id as typed, else trimmed and with full-width characters folded (Ｆ１ for F1),
    # as a CSV cell is read: the first that some household has
    for wanted in dict.fromkeys([household_id, household_id.strip(), fold_text(household_id)]):
        for household in iter_households(households, fields, as_of=as_of, household=wanted):
            if str(household.get("household_id")) != wanted:
                continue
            if not counties or str(household.get("county_code")) in counties:
                return household
            elsewhere = str(household.get("county_code"))
        if elsewhere is not None:
            break
    if elsewhere is not None:
        raise InputError(
            make("E604", f"{households} 中的家庭「{household_id}」属于 {elsewhere}，"
                 f"不在 --county 指定的县（{'、'.join(counties or [])}）中",
                 found=elsewhere, expected="、".join(counties or []),
                 hint="去掉 --county，或改为该户所在的县")
        )
    raise InputError(
        make("E604", f"在 {households} 中找不到家庭「{household_id}」", found=household_id,
             expected="文件中已有的 household_id")
    )


def explain(plan: Plan, household: dict, as_of: date) -> str:
    """The explanation of one contract-shaped household, as Chinese text."""
    fields = plan.rulebook.fields
    env, members, events = household_envs(household, fields)
    interpreter = Interpreter(plan, as_of, WorkCalendar(plan.rulebook.calendar))
    result = interpreter.evaluate(env, members, events)
    book = plan.rulebook
    lines = [
        (
            f"家庭 {household.get('household_id')}（{book.county_code} {book.county_name}），"
            f"决策日 {as_of.isoformat()}"
        ),
        _conclusion(result.household.get("group")),
    ]
    lines.extend(_calendar_notes(plan, result, as_of))
    lines.extend(f"注意：{d.render()}" for d in household_warnings(household, fields, as_of))
    for entry in result.trace:
        lines.extend(_entry_lines(plan, interpreter, result, entry))
    lines.extend(_standards_used(plan, result, "\n".join(lines), as_of))
    return "\n".join(lines)


def _standards_used(plan: Plan, result: Evaluation, said: str, as_of: date) -> list[str]:
    """「所用标准」: each standard and county constant the explanation names, with its
    value and where it comes from: a standard's row (the county's, city's or
    province's workbook, its cell and the day its period starts, 未核实 where it is
    marked so), a constant (边缘标准) the formula it is computed by and the values that
    formula read, which are listed in turn (helper-90: the line 2,010 showed, not how
    2 × 1,145 was capped by the minimum wage)."""
    book = plan.rulebook
    constants: dict[str, object] = {}
    known = set(book.standards) | {AS_OF}
    for kind, ident in plan.order:
        derived = plan.derived.get(ident) if kind == "derived" else None
        if derived is not None and set(names_in(derived.expr)) <= known:
            known.add(ident)
            constants[ident] = derived
    wanted = [i for i in [*constants, *book.standards] if _label(plan, i) in said]
    lines: list[str] = []
    for ident in wanted:  # grows while constants name what they read
        item = plan.items.get(ident)
        if item is None:
            continue
        value = _fmt(result.household.get(ident), item.dtype)
        derived = constants.get(ident)
        if derived is not None:
            reads = [n for n in dict.fromkeys(names_in(derived.expr)) if n != AS_OF]
            parts = [f"{_label(plan, n)} = {_fmt(result.household.get(n), plan.items[n].dtype)}"
                     for n in reads if n in plan.items]
            wanted += [n for n in reads if n not in wanted]
            lines.append(
                f"    {_label(plan, ident)} = {value}：按「{_in_words(plan, derived.text)}」计算"
                + (f"，其中 {'、'.join(parts)}" if parts else "")
                + f"（{derived.location.render()}）"
            )
            continue
        row = book.standards[ident].row_on(as_of)
        if row is None:
            continue
        start = f"，{row.effective_from.isoformat()} 起" if row.effective_from else ""
        unverified = "，未核实" if not row.verified else ""
        lines.append(f"    {_label(plan, ident)} = {value}：{row.location.render()}{start}{unverified}")
    return ["· 所用标准（决策日有效的取值及其出处）：", *lines] if lines else []


def _calendar_notes(plan: Plan, result: Evaluation, as_of: date) -> list[str]:
    """W403 for the years this household's events count working days in with no
    holiday schedule, as evaluate says for the file (it said nothing here)."""
    listed = {d.day.year for d in plan.rulebook.calendar}
    days = [e.get("event.date") for e in result.events]
    dated = [d for d in days if isinstance(d, date) and d <= as_of]
    decision_year = (
        f"注意：W403 日历中没有 {as_of.year} 年的节假日安排，决策日所在年度的预警期限按周一至周五计算"
        "（2025 年起元旦、劳动节、国庆节的法定日期仍为休息日）"
    )
    notes = [] if as_of.year in listed else [decision_year]
    return notes + [
        f"注意：{unlisted_year_warning(year, n, '本户').render()}"
        for year, n in unlisted_years(listed, dated).items()
    ]


def _basis(table: Table, entry: TraceEntry) -> str:
    """The policy basis of the rules that decided, as the table's author typed it
    (「三（一）：仍符合条件」, on one line): the decision files' trace keeps the folded
    form their SQL has always had (docs/table-format.md, section 5)."""
    typed = [
        " ".join(rule.annotation.split())
        for rule in table.rules
        if rule.id in entry.rules and rule.annotation.strip()
    ]
    return "；".join(dict.fromkeys(typed)) or "未注明"


def _conclusion(group: object) -> str:
    """「结论：救助类别 = 低保边缘（dibao_marginal）」: the group's Chinese name for the
    reader, its identifier as the decision files write it (helper-43)."""
    shown = _show(group)
    name = GROUP_CN.get(str(group)) if group is not None else None
    return f"结论：救助类别 = {name}（{shown}）" if name else f"结论：救助类别 = {shown}"


def _entry_lines(
    plan: Plan, interpreter: Interpreter, result: Evaluation, entry: TraceEntry
) -> list[str]:
    table = plan.tables[entry.table]
    who = f"成员 {entry.person_id}：" if entry.person_id else ""
    if entry.rule is None:
        head = f"· 决策表「{table.title or table.id}」{who}没有规则命中，取默认值 {_outcome(plan, table, entry.outcome)}"
    else:
        head = (
            f"· 决策表「{table.title or table.id}」{who}命中规则 {','.join(entry.rules)}"
            f"（{entry.cell}），结果 {_outcome(plan, table, entry.outcome)}；依据 {_basis(table, entry)}"
        )
    lines = [head]
    env = _env_of(result, table, entry)
    if env is None:
        return lines
    values = [interpreter.value(c.expr, env, result) for c in table.inputs]
    # a column every rule answers with "-" compares nothing (and is not computed)
    shown = [
        f"{_input_label(plan, c.expr, c.text)} = {_fmt(v, c.dtype)}"
        for c, v, tested in zip(table.inputs, values, tested_inputs(table), strict=True)
        if tested
    ]
    if shown:
        lines.append("    比较的值：" + "；".join(shown))
    met = _met(plan, interpreter, result, table, env, values, entry)
    if met:
        lines.append("    所比较的标准：" + "；".join(met))
    if table.level is Level.HOUSEHOLD and any(o.id in WHY_NOT_OUTPUTS for o in table.outputs):
        lines.extend(_why_not(plan, interpreter, result, table, env, values, entry))
    return lines


def _env_of(result: Evaluation, table: Table, entry: TraceEntry) -> dict | None:
    if table.level is Level.HOUSEHOLD:
        return result.household
    if entry.env is not None:  # the very member or event (a person has several events)
        return entry.env
    pool = result.members if table.level is Level.MEMBER else result.events
    key = "person_id" if table.level is Level.MEMBER else "event.person_id"
    return next((e for e in pool if str(e.get(key)) == entry.person_id), None)


def _why_not(
    plan: Plan,
    interpreter: Interpreter,
    result: Evaluation,
    table: Table,
    env: dict,
    values: list[object],
    entry: TraceEntry,
) -> list[str]:
    """Each rule above the one that decided, with the first conditions it missed;
    rules missed for the same reasons (a household never recognised misses every
    re-check rule on 现救助类别) are said once, with their ids."""
    missed: dict[str, list[tuple[str, str]]] = {}
    for rule in table.rules:
        if entry.rule == rule.id:
            break
        misses = []
        for test, column, value in zip(rule.tests, table.inputs, values, strict=True):
            if interpreter.test(test, value, env, result) is True:
                continue
            misses.append(_miss_text(plan, interpreter, result, env, test, column.expr, column.text, value, column.dtype))
        if misses:
            outputs = [interpreter.value(o, env, result) for o in rule.outputs]
            missed.setdefault("；".join(misses[:2]), []).append((rule.id, _outcome(plan, table, outputs)))
    lines = []
    for why, rules in missed.items():
        if len(rules) == 1:
            lines.append(f"    未得到 {rules[0][1]}（规则 {rules[0][0]}）：{why}")
        else:
            ids = "、".join(rule for rule, _ in rules)
            lines.append(f"    规则 {ids}（共 {len(rules)} 条）未命中：{why}")
    return lines


def _outcome(plan: Plan, table: Table, outcome: object) -> str:
    """A table's result in words: its one output's value, or each output named
    (「救助类别 = 低保，复核结果 = 无需复核」)."""
    if len(table.outputs) == 1:
        return _show(outcome, table.outputs[0].dtype)
    if not isinstance(outcome, list) or len(outcome) != len(table.outputs):
        return _show(outcome)
    return "，".join(
        f"{_label(plan, o.id)} = {_show(v, o.dtype)}" for o, v in zip(table.outputs, outcome, strict=True)
    )


def _met(
    plan: Plan,
    interpreter: Interpreter,
    result: Evaluation,
    table: Table,
    env: dict,
    values: list[object],
    entry: TraceEntry,
) -> list[str]:
    """The lines a matched rule compared with, each with the amount it had: a reader
    sees 「家庭人均月收入 1,301.00 元 = 低保标准 1,301.00 元」, not the rule's names alone.
    Only conditions that name a standard or a derived value (a number written in the
    cell is in the rule already)."""
    shown = []
    for rule in (r for r in table.rules if r.id in entry.rules):
        texts = rule.test_texts or [""] * len(rule.tests)
        for test, text, column, value in zip(rule.tests, texts, table.inputs, values, strict=True):
            if isinstance(test, Disjunction) and len(test.tests) == 1:
                test = test.tests[0]
            if not isinstance(value, Decimal) or not names_in(test):
                continue
            label, dtype = _input_label(plan, column.expr, column.text), column.dtype
            bounds = (test.low, test.high) if isinstance(test, Interval) else ()
            shown_already = {e.name for e in bounds if isinstance(e, Name)}
            written = _written(plan, interpreter, result, env, test, text, shown_already)
            if isinstance(test, Compare):
                limit = interpreter.value(test.operand, env, result)
                named = isinstance(test.operand, Name)
                shown.append(
                    f"{label} {_fmt(value, dtype)} {test.op} "
                    + (f"{_operand_label(plan, test.operand)} " if named else "")
                    + _fmt(limit, dtype)
                    + ("" if named else written)
                )
            elif isinstance(test, Interval):
                low = interpreter.value(test.low, env, result)
                high = interpreter.value(test.high, env, result)
                shown.append(
                    f"{label} {_fmt(value, dtype)} 在 {'[' if test.low_closed else '('}"
                    f"{_fmt(low, dtype)} .. {_fmt(high, dtype)}{']' if test.high_closed else ')'} 之内"
                    + written
                )
    return list(dict.fromkeys(shown))


def _written(
    plan: Plan, interpreter: Interpreter, result: Evaluation, env: dict, test: Test, text: str,
    shown_already: set[str],
) -> str:
    """「（条件「< dibao_money_asset_years * 12 * 低保标准」，其中 低保货币财产年数 = 4）」:
    the condition as the cell has it, with the value of each name it reads that the
    reader could not see (helper-50)."""
    if not text.strip():
        return ""
    parts = []
    for name in dict.fromkeys(names_in(test)):
        item = plan.items.get(name)
        if item is None or name in shown_already:  # a bound whose amount is shown
            continue
        said = _fmt(interpreter.value(Name(name), env, result), item.dtype)
        parts.append(f"{_label(plan, name)} = {said}")
    return f"（条件「{_in_words(plan, text.strip())}」" + (f"，其中 {'、'.join(parts)}" if parts else "") + "）"


def _miss_text(
    plan: Plan, interpreter: Interpreter, result: Evaluation, env: dict,
    test: Test, expr: Expr, text: str, value: object, dtype: DType,
) -> str:
    label = _input_label(plan, expr, text)
    if value is None:
        return f"{label} 为空"
    if isinstance(test, Disjunction) and len(test.tests) == 1:
        test = test.tests[0]
    if isinstance(test, Compare) and isinstance(value, Decimal):
        limit = interpreter.value(test.operand, env, result)
        if isinstance(limit, Decimal):
            return _compare_miss(plan, label, test, value, limit, dtype)
    if isinstance(test, Interval) and isinstance(value, Decimal):
        low = interpreter.value(test.low, env, result)
        high = interpreter.value(test.high, env, result)
        return (
            f"{label} {_fmt(value, dtype)}，不在 {_named(plan, test.low)}{_fmt(low, dtype)}"
            f" 至 {_named(plan, test.high)}{_fmt(high, dtype)} 的范围内"
        )
    return f"{label} 为 {_fmt(value, dtype)}，不满足「{_said_test(test, dtype)}」"


def _said_test(test: Test, dtype: DType) -> str:
    """A test as the table writes it, its quoted enum or province text values in
    Chinese (「= 特困供养, = 低保」 for ``= "tekun", = "dibao"``)."""
    def word(match: re.Match[str]) -> str:
        said = _show(match.group(1), dtype)
        return said if said != match.group(1) else match.group(0)

    return re.sub(r'"([A-Za-z_][A-Za-z0-9_]*)"', word, render(test))


def _compare_miss(
    plan: Plan, label: str, test: Compare, value: Decimal, limit: Decimal, dtype: DType
) -> str:
    """「家庭人均月收入 1,402.50 元，高于低保标准 1,301.00 元（相差 101.50 元）」; a
    missed = or != says only that (「家庭人口数 1，不等于 0」)."""
    gap = abs(value - limit)
    if test.op in ("=", "!=") or not gap:
        word = MISS_CN[test.op]
    else:
        word = "高于" if value > limit else "低于"
    said = f"{label} {_fmt(value, dtype)}，{word}{_named(plan, test.operand) or ' '}{_fmt(limit, dtype)}"
    if gap and test.op not in ("=", "!="):
        said += f"（相差 {_fmt(gap, dtype)}）"
    return said


def _input_label(plan: Plan, expr: Expr, text: str) -> str:
    if isinstance(expr, Name):
        return _label(plan, expr.name)
    return _in_words(plan, text)


# a name as the expression language writes it (``assets.money``; after the ``..`` of an
# interval too), not inside a string
_NAME_OR_STRING = re.compile(r'"[^"]*"|(?<!\w)(?<![^.]\.)[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*(?![\w(])')


def _in_words(plan: Plan, text: str) -> str:
    """A condition or column as the cell writes it, each name of a value in the
    reader's words: 「< dibao_money_asset_years * 12 * 低保标准」 reads
    「< 低保货币财产年数 * 12 * 低保标准」. Functions, keywords and quoted text stay."""

    def said(match: re.Match[str]) -> str:
        word = match.group(0)
        known = not word.startswith('"') and (word in plan.items or word in OUTPUT_CN)
        return _label(plan, word) if known else word

    return _NAME_OR_STRING.sub(said, text)


def _operand_label(plan: Plan, expr: Expr) -> str:
    if isinstance(expr, Name):
        return _label(plan, expr.name)
    return render(expr)


def _named(plan: Plan, expr: Expr) -> str:
    """A named limit's name and a space before its amount (「低保标准 」); nothing for
    a number written in the cell, whose amount says it."""
    return f"{_label(plan, expr.name)} " if isinstance(expr, Name) else ""


def _label(plan: Plan, ident: str) -> str:
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


def _fmt(value: object, dtype: DType) -> str:
    if isinstance(value, Decimal):
        if dtype.kind is Kind.MONEY:
            return f"{value:,.2f} 元"
        if dtype.kind is Kind.PERCENT:
            return f"{value * 100:.2f}%"
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    return _show(value, dtype)


def _show(value: object, dtype: DType | None = None) -> str:
    """A value in words: 是/否, 空, an enum or the province's text values by their
    Chinese names (the tables' identifiers where there is none)."""
    if value is None:
        return "空"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "、".join(_show(v, dtype) for v in value) or "（无）"
    if isinstance(value, str) and dtype is not None:
        if dtype.kind is Kind.ENUM or (dtype.kind is Kind.LIST and dtype.values):
            return value_cn(value, dtype.values)
        if dtype.kind in (Kind.TEXT, Kind.LIST):
            return value_cn(value)
    return str(value)
