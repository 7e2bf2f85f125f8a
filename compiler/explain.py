"""Explanations in Chinese: which rule of which table decided, with the values compared,
and for the groups a household did not get, the nearest condition it missed and by how
much ("人均月收入 1,402.50 元，高于低保标准 1,301.00 元 101.50 元").

The explanation is computed by the reference interpreter on the one household, so it
says exactly what the table means; the batch SQL agrees with it by construction and by
the differential tests.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from compiler.bind import Plan, tested_inputs
from compiler.calendar import WorkCalendar, unlisted_year_warning, unlisted_years
from compiler.diagnostics import make
from compiler.engine import household_envs, open_project
from compiler.errors import InputError, ValidationFailed
from compiler.explain_conditions import Scene, met, missed, sign_said
from compiler.explain_standards import standards_used
from compiler.explain_words import (
    fmt,
    in_words,
    input_label,
    label,
    none_group_said,
    rule_ids,
    show,
    visible,
)
from compiler.expr import Name, Test, names_in
from compiler.households_plausible import household_warnings
from compiler.interpret import Evaluation, Interpreter, TraceEntry, fit, priority
from compiler.model import DType, Field, HitPolicy, InputColumn, Level, Rule, Table
from compiler.normalise import fold_text
from compiler.resolve import declared_fields
from compiler.trace_cells import trace_cell
from compiler.vocabulary import GROUP_CN

# the reader's words of a cell, for the tests that read them (helper-81)
_in_words = in_words

# the tables whose rules are each a group: the explanation says why a rule above the
# one that decided missed (the province decides eligibility, then re-checks)
WHY_NOT_OUTPUTS = frozenset({"group", "eligible_group"})


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
    # E619, not E604 (a required field missing): the file is fine, the id asked for
    # is not among its households, or not among those of the counties named (helper-135)
    if elsewhere is not None:
        raise InputError(
            make("E619", f"{households} 中的家庭「{household_id}」属于 {elsewhere}，"
                 f"不在 --county 指定的县（{'、'.join(counties or [])}）中",
                 found=elsewhere, expected="、".join(counties or []),
                 hint="去掉 --county，或改为该户所在的县")
        )
    near = _ids_near(households, household_id, fields)
    raise InputError(
        make("E619", f"在 {households} 中找不到家庭「{household_id}」", found=household_id,
             expected="文件中已有的 household_id（户编号）",
             hint=f"是否想写「{'」「'.join(near)}」？" if near else "检查户编号和家庭数据文件")
    )


def _ids_near(households: str | Path, household_id: str, fields: dict[str, Field]) -> list[str]:
    """The file's household ids closest to ``household_id`` (at most three, difflib's
    measure), read without checking the households; none when they cannot be read."""
    import difflib
    import tempfile

    import duckdb

    from compiler.errors import JiuzhuError
    from compiler.households import open_source
    from compiler.households_model import input_columns, only_of
    from compiler.households_stage import stage

    con = duckdb.connect()
    try:
        with tempfile.TemporaryDirectory(prefix="jiuzhu-") as scratch:
            schema = {level: input_columns(fields, level) for level in Level}
            staged = stage(con, open_source(households), schema, only_of(None), Path(scratch))
            columns = con.sql(f"SELECT * FROM {staged.everyone} LIMIT 0").columns
            key = "_hid" if "_hid" in columns else "household_id"  # JSON's: as written
            rows = con.execute(
                f"SELECT DISTINCT CAST({key} AS VARCHAR) FROM {staged.everyone} "
                f"WHERE {key} IS NOT NULL"
            ).fetchall()
    except (JiuzhuError, duckdb.Error, OSError):
        return []
    finally:
        con.close()
    return difflib.get_close_matches(household_id, [r[0] for r in rows], n=3, cutoff=0.75)


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
        _conclusion(plan, result),
    ]
    lines.extend(_calendar_notes(plan, result, as_of))
    lines.extend(f"注意：{d.render()}" for d in household_warnings(household, fields, as_of))
    named: set[str] = set()  # the values and conditions' names the lines compare
    # a household the conclusion keeps among the low-income population has no group
    # said 「无」 in its tables' lines, as in its conclusion, not 「不属于低收入人口」
    kept = result.household.get("monitoring") == "low_income"
    with none_group_said("无" if kept else None):
        for entry in result.trace:
            lines.extend(_entry_lines(plan, interpreter, result, entry, named))
        lines.extend(standards_used(plan, result, named, as_of))
    return "\n".join(visible(line) for line in lines)


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
    counted = unlisted_years(listed, dated)
    # the decision's year said once: by its events' line when they count in it too
    notes = [] if as_of.year in listed or as_of.year in counted else [decision_year]
    return notes + [
        f"注意：{unlisted_year_warning(year, n, '本户').render()}"
        for year, n in counted.items()
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


def _conclusion(plan: Plan, result: Evaluation) -> str:
    """「结论：救助类别 = 低保边缘（dibao_marginal）」: the group's Chinese name for the
    reader, its identifier as the decision files write it (helper-43).

    A household changing group says the change first, from the trace's re-check
    outcome and its current group, whichever group it goes to (「本次复核退出低保
    （渐退期满退出），转为救助类别 = 低保边缘」; helper-129: only those leaving to
    none said it). A household of no group may still be monitored, and then
    「不属于低收入人口」 would contradict the 动态监测对象 below it: one leaving its
    group in this re-check is of the low-income population until its exit takes
    effect next month (R-N20, rule leaving_now), one with a tekun member is of it
    anyway. Its conclusion says 救助类别 = 无 where monitoring keeps it among the
    low-income population, and the monitoring status with the rule that decided it
    (helper-108). Tekun members of a household of another group are named."""
    values = result.household
    group, former = values.get("group"), values.get("current.group")
    leaving = former not in (None, "none") and former != group
    said = f"结论：{_leaving(plan, values) if leaving else ''}"
    if group != "none":
        shown = show(group)
        name = GROUP_CN.get(str(group)) if group is not None else None
        said += ("转为" if leaving else "") + (f"救助类别 = {name}（{shown}）" if name else f"救助类别 = {shown}")
        return said + _tekun_named(plan, values)
    monitoring = values.get("monitoring")
    low_income = monitoring == "low_income"
    said += f"救助类别 = {'无' if low_income else GROUP_CN['none']}（none）"
    said += _tekun_named(plan, values)
    if monitoring is None or monitoring == "none":
        return said
    decided = next((e for e in result.trace if _decides(plan, e, "monitoring")), None)
    rules = rule_ids(_rules_of(plan, decided)) if decided is not None else ""
    if low_income:
        still = "本月仍属低收入人口" if leaving else "属低收入人口"
        return f"{said}；{still}（动态监测对象" + (f"，规则 {rules}）" if rules else "）")
    status = f"动态监测对象 = {_said(plan, 'monitoring', monitoring)}"
    return f"{said}；{status}" + (f"（规则 {rules}）" if rules else "")


def _leaving(plan: Plan, values: dict) -> str:
    """「本次复核退出低保（渐退期满退出），」: the group a household leaves and, where
    the re-check says it, why; 「本次复核仍符合条件，由低保边缘」 for one the re-check
    moves to a more supported group. A group the tables do not re-check (低收入帮扶,
    刚性支出困难: rule not_under_recheck, 复核结果 = 无需复核) is left by this
    decision's eligibility, not by a re-check, and is said so (helper-129: S089 read
    「本次复核退出低收入帮扶」 above 「复核结果 = 无需复核」)."""
    recheck = values.get("recheck_outcome")
    former = _said(plan, "current.group", values.get("current.group"))
    if recheck in (None, "not_applicable"):
        outcome = "" if recheck is None else f"；复核结果 = {_said(plan, 'recheck_outcome', recheck)}"
        return f"本次按条件认定不再为{former}（{former}家庭不在复核之列，按本次认定的类别{outcome}），"
    if recheck == "still_eligible":
        return f"本次复核{_said(plan, 'recheck_outcome', recheck)}，由{former}"
    return f"本次复核退出{former}（{_said(plan, 'recheck_outcome', recheck)}），"


def _tekun_named(plan: Plan, values: dict) -> str:
    """「；特困成员 = P059-1」: the members supported as tekun in a household whose own
    group is another (a grandparent beside a grandchild no longer tekun, one tekun
    member of a dibao household); "" for a tekun household, all of whose members are."""
    members = values.get("tekun_members")
    if values.get("group") == "tekun" or not isinstance(members, list) or not members:
        return ""
    return f"；{label(plan, 'tekun_members')} = {'、'.join(str(m) for m in members)}"


def _said(plan: Plan, ident: str, value: object) -> str:
    """A value of a named output or field in words (现救助类别 dibao: 低保)."""
    item = plan.items.get(ident)
    return show(value, item.dtype if item is not None else None)


def _decides(plan: Plan, entry: TraceEntry, output: str) -> bool:
    """Whether the trace entry is that of the table deciding ``output``."""
    table = plan.tables.get(entry.table)
    return table is not None and any(o.id == output for o in table.outputs)


def _rules_of(plan: Plan, entry: TraceEntry) -> list[Rule]:
    return [r for r in plan.tables[entry.table].rules if r.id in entry.rules]


def _entry_lines(
    plan: Plan, interpreter: Interpreter, result: Evaluation, entry: TraceEntry, named: set[str]
) -> list[str]:
    """A table's lines: the rule that decided (or the default), the values it
    compared, the standards its conditions named, how a computed result was computed
    and, where the table decides the group, why each rule of higher priority missed.
    Adds to ``named`` the identifiers the values, conditions and result cells shown
    read, for 「所用标准」."""
    table = plan.tables[entry.table]
    who = f"成员 {entry.person_id}：" if entry.person_id else ""
    outcome = _outcome(plan, table, entry.outcome)
    if entry.rule is None:
        head = f"· 决策表「{table.title or table.id}」{who}没有规则命中，取默认值 {outcome}"
    else:
        head = (
            f"· 决策表「{table.title or table.id}」{who}命中规则 {'、'.join(entry.rules)}"
            f"（{_cells(plan, table, entry)}），结果 {outcome}；依据 {_basis(table, entry)}"
        )
    lines = [head, *_group_kept(plan, result, table)]
    env = _env_of(result, table, entry)
    if env is None:
        return lines
    scene = Scene(plan, interpreter, result, env)
    values = [scene.value(c.expr) for c in table.inputs]
    # a column every rule answers with "-" compares nothing (and is not computed)
    tested = [
        (c, v) for c, v, t in zip(table.inputs, values, tested_inputs(table), strict=True) if t
    ]
    shown = [
        f"{input_label(plan, c.expr, c.text)} = {fmt(v, c.dtype)}{sign_said(scene, c.expr, v, c.dtype)}"
        for c, v in tested
    ]
    named.update(n for c, _ in tested for n in names_in(c.expr))
    if shown:
        lines.append("    比较的值：" + "；".join(shown))
    compared = met(scene, table, values, entry)
    matched = [r for r in table.rules if r.id in entry.rules]
    named.update(n for r in matched for t in r.tests for n in names_in(t))
    if compared:
        lines.append("    所比较的标准：" + "；".join(compared))
    lines.extend(_computed(scene, table, matched, named))
    if table.level is Level.HOUSEHOLD and any(o.id in WHY_NOT_OUTPUTS for o in table.outputs):
        lines.extend(_why_not(scene, table, values, entry, named))
    elif entry.rule is None:
        lines.extend(_first_misses(scene, table, values, named))
    return lines


def _cells(plan: Plan, table: Table, entry: TraceEntry) -> str:
    """Where the rules that fired are, for the reader: one cell as the trace writes
    it; the rows of a table that gathers rules once under its sheet
    (「province:entitlement_list!A6、A8、A9」), not the trace's comma-joined cells
    repeating the sheet for every row (helper-123)."""
    if len(entry.rules) < 2:
        return entry.cell or ""
    by_id = {rule.id: rule for rule in table.rules}
    cells = [trace_cell(by_id[i].location, plan) for i in entry.rules if i in by_id]
    sheets = {cell.rpartition("!")[0] for cell in cells}
    if len(sheets) != 1 or len(cells) != len(entry.rules) or "" in sheets:
        return "、".join(cells) if len(cells) == len(entry.rules) else entry.cell or ""
    return sheets.pop() + "!" + "、".join(cell.rpartition("!")[2] for cell in cells)


def _group_kept(plan: Plan, result: Evaluation, table: Table) -> list[str]:
    """Under the table that recognises a group by the conditions, when the household
    keeps another group (its own, during a phase-out): the table's result is not the
    household's group, and a line says so, so that 「取默认值 无」 above 「结论：救助类别
    = 低保」 does not read as a contradiction (helper-123)."""
    values = result.household
    if table.level is not Level.HOUSEHOLD or not any(o.id == "eligible_group" for o in table.outputs):
        return []
    group, eligible = values.get("group"), values.get("eligible_group")
    if group in (None, "none") or group == eligible or values.get("current.group") != group:
        return []
    decided = next((e for e in result.trace if _decides(plan, e, "group")), None)
    title = plan.tables[decided.table].title if decided is not None else ""
    see = f"（见「{title}」）" if title else ""
    found = "按本次复核的条件，本户不再符合本表任何一条规则" if eligible == "none" else (
        f"按本次复核的条件，本表认定为{_said(plan, 'eligible_group', eligible)}")
    start, until = values.get("phase_out_from"), values.get("phase_out_until")
    kept = _said(plan, "group", group)
    if isinstance(start, date) and isinstance(until, date):
        running = "在渐退期内" if values.get("recheck_outcome") != "phase_out_start" else "进入渐退期"
        during = f"{start.isoformat()} 至 {until.isoformat()} 期间仍为{kept}"
        return [f"    {found}；本户{running}，{during}{see}"]
    return [f"    {found}；本户仍为{kept}{see}"]


def _first_misses(scene: Scene, table: Table, values: list[object], named: set[str]) -> list[str]:
    """With no rule matched, in a table of any level, why each rule missed: the first
    condition it did not meet, with the value and what it was compared with
    (「事件金额 19,999.99 元，低于高额医疗费用预警标准 20,000.00 元（相差 0.01 元）」,
    「有履行能力的法定义务人 为 是，不满足「= 否」」); rules that missed for the same
    reason are said once. Only rules that missed one named comparison were said,
    so that a member's 特困供养人员认定 gave its default without a reason
    (helper-108). Adds to ``named`` what each first condition read."""
    reasons: dict[str, list[Rule]] = {}
    for rule in table.rules:
        misses = _misses(scene, table, rule, values)[:1]
        named.update(n for test, _, _ in misses for n in names_in(test))
        if misses:
            reasons.setdefault(missed(scene, *misses[0]), []).append(rule)
    return [
        f"    规则 {rule_ids(rules)}" + (f"（共 {len(rules)} 条）" if len(rules) > 1 else " ")
        + f"未命中：{why}"
        for why, rules in reasons.items()
    ]


def _computed(scene: Scene, table: Table, matched: list[Rule], named: set[str]) -> list[str]:
    """「结果的算式：渐退期止 = 2026-06-30，按「add_days(add_months(next_month_start(决策日),
    渐退期月数), -1)」计算，其中 决策日 = 2025-06-01、渐退期月数 = 12（province:phase_out!D6）」:
    each result of a rule that fired that its cell computes from named values (a cell
    naming one value, or none, says its result in the head line already)."""
    plan, lines = scene.plan, []
    for rule in matched:
        texts = rule.output_texts or [""] * len(rule.outputs)
        cells = rule.output_locations
        for i, (expr, column, text) in enumerate(zip(rule.outputs, table.outputs, texts, strict=True)):
            reads = [n for n in dict.fromkeys(names_in(expr)) if n in plan.items]
            named.update(reads)
            if not reads or not text.strip() or isinstance(expr, Name):
                continue
            parts = [f"{label(plan, n)} = {fmt(scene.value(Name(n)), plan.items[n].dtype)}"
                     for n in reads]
            value = fmt(fit(scene.value(expr), column.dtype), column.dtype)
            where = f"（{cells[i].render()}）" if i < len(cells) else ""
            lines.append(
                f"    结果的算式：{label(plan, column.id)} = {value}，按「{in_words(plan, text.strip())}」计算"
                + (f"，其中 {'、'.join(parts)}" if parts else "")
                + where
            )
    return list(dict.fromkeys(lines))


def _misses(
    scene: Scene, table: Table, rule: Rule, values: list[object]
) -> list[tuple[Test, InputColumn, object]]:
    """The conditions of a rule that did not hold, in column order."""
    return [
        (test, column, value)
        for test, column, value in zip(rule.tests, table.inputs, values, strict=True)
        if scene.holds(test, value) is not True
    ]


def _env_of(result: Evaluation, table: Table, entry: TraceEntry) -> dict | None:
    if table.level is Level.HOUSEHOLD:
        return result.household
    if entry.env is not None:  # the very member or event (a person has several events)
        return entry.env
    pool = result.members if table.level is Level.MEMBER else result.events
    key = "person_id" if table.level is Level.MEMBER else "event.person_id"
    return next((e for e in pool if str(e.get(key)) == entry.person_id), None)


def _why_not(
    scene: Scene, table: Table, values: list[object], entry: TraceEntry, named: set[str]
) -> list[str]:
    """Each rule that could have decided instead of the one that did, with the first
    conditions it missed, under a line saying which rules those are for the table's
    hit policy (the rows above under FIRST, those of higher priority under PRIORITY,
    every other rule under UNIQUE and ANY, whose row order decides nothing); rules
    missed for the same reasons (a household never recognised misses every re-check
    rule on 现救助类别) are said once. A rule is named by its id, with the note of its
    row beside it (「规则 dibao「人均月收入低于低保标准…」」). A rule that would have
    given the very result obtained is not said 「未得到」; of a table with several
    outputs, only the outputs a rule would have given otherwise are named (「未得到
    复核结果 = 仍符合条件」, not the 救助类别 obtained anyway)."""
    won = entry.outcome if len(table.outputs) > 1 else [entry.outcome]
    reasons: dict[str, list[tuple[Rule, str]]] = {}
    also: list[Rule] = []  # under ANY, other rules that matched, with the same result
    for rule, outputs in _before(scene, table, entry):
        misses = _misses(scene, table, rule, values)
        if not misses:
            also.append(rule)
            continue
        named.update(n for test, _, _ in misses[:2] for n in names_in(test))
        why = "；".join(missed(scene, test, column, value) for test, column, value in misses[:2])
        reasons.setdefault(why, []).append((rule, _lost(scene.plan, table, outputs, won)))
    lines = []
    for why, rules in reasons.items():
        ids = rule_ids([rule for rule, _ in rules])
        lost = rules[0][1]
        if len(rules) > 1:
            lines.append(f"    规则 {ids}（共 {len(rules)} 条）未命中：{why}")
        elif lost:
            lines.append(f"    未得到 {lost}（规则 {ids}）：{why}")
        else:
            same = _outcome(scene.plan, table, entry.outcome)
            whence = f"本户由规则 {entry.rule} 得出" if entry.rule else "本户取默认值"
            lines.append(f"    规则 {ids} 未命中（其结果同为 {same}，{whence}）：{why}")
    if also:
        lines.append(f"    规则 {rule_ids(also)} 也命中，结果相同")
    if entry.rule is None or not lines:
        return lines
    return [f"    {_WHICH_RULES.get(table.hit_policy, _WHICH_RULES[HitPolicy.COLLECT])}", *lines]


# which rules the lines under a table that decided say missed, by its hit policy: only
# under FIRST (and PRIORITY, by the outputs' order) does a rule's place matter
_WHICH_RULES = {
    HitPolicy.FIRST: "排在其前的规则未命中（FIRST 表按行序取第一条命中的规则）：",
    HitPolicy.PRIORITY: "优先级更高的规则未命中（PRIORITY 表按输出值声明的先后取命中规则中优先的结果）：",
    HitPolicy.UNIQUE: "其他规则均未命中（UNIQUE 表至多一条规则命中，与行序无关）：",
    HitPolicy.ANY: "其他规则（ANY 表命中的规则结果必须相同，与行序无关）：",
    HitPolicy.COLLECT: "其他规则未命中（本表汇集全部命中规则的结果）：",
}


def _before(scene: Scene, table: Table, entry: TraceEntry) -> list[tuple[Rule, list[object]]]:
    """The rules that could have decided instead of the one that did, with the
    outputs each gives: with no rule matched, every rule; under FIRST, the rows
    above; under PRIORITY, the rules whose outputs come earlier in the output's
    declared order (and those of equal priority on a row above), highest first,
    wherever their rows are; under UNIQUE, ANY and the policies that gather rules,
    every rule but those that decided, in row order: there a row's place decides
    nothing (the rows above alone were listed, helper-108)."""
    def outputs(rule: Rule) -> list[object]:
        return [_fitted(scene.value(o), c.dtype) for o, c in zip(rule.outputs, table.outputs, strict=True)]

    if entry.rule is None:
        return [(rule, outputs(rule)) for rule in table.rules]
    position = next(i for i, rule in enumerate(table.rules) if rule.id == entry.rule)
    if table.hit_policy is HitPolicy.FIRST:
        return [(rule, outputs(rule)) for rule in table.rules[:position]]
    if table.hit_policy is not HitPolicy.PRIORITY:
        return [(rule, outputs(rule)) for rule in table.rules if rule.id not in entry.rules]
    winner = priority(table, outputs(table.rules[position]))
    ranked = [(priority(table, outputs(rule)), i, rule) for i, rule in enumerate(table.rules)]
    return [
        (rule, outputs(rule))
        for key, i, rule in sorted(ranked, key=lambda t: (t[0], t[1]))
        if key < winner or (key == winner and i < position)
    ]


def _fitted(value: object, dtype: DType) -> object:
    """A rule's output as the table's column holds it; as computed where it could not
    hold it (a rule that did not fire is not refused for that)."""
    try:
        return fit(value, dtype)
    except InputError:
        return value


def _lost(plan: Plan, table: Table, outputs: list[object], won: list[object]) -> str:
    """What a rule would have given that the household did not get: its one output's
    value, or each output that differs from the result, named; "" when the rule
    would have given the very result obtained."""
    if len(table.outputs) == 1:
        return "" if outputs[0] == won[0] else show(outputs[0], table.outputs[0].dtype)
    pairs = [
        (column, value)
        for column, value, got in zip(table.outputs, outputs, won, strict=True)
        if value != got
    ]
    return "，".join(f"{label(plan, c.id)} = {show(v, c.dtype)}" for c, v in pairs)


def _outcome(plan: Plan, table: Table, outcome: object) -> str:
    """A table's result in words: its one output's value, or each output named
    (「救助类别 = 低保，复核结果 = 无需复核」)."""
    if len(table.outputs) == 1:
        return show(outcome, table.outputs[0].dtype)
    if not isinstance(outcome, list) or len(outcome) != len(table.outputs):
        return show(outcome)
    pairs = zip(table.outputs, outcome, strict=True)
    return "，".join(f"{label(plan, o.id)} = {show(v, o.dtype)}" for o, v in pairs)
