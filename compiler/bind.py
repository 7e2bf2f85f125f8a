"""The binding pass: names resolved, types and levels checked, evaluation order fixed.

``bind`` takes a county's RuleBook and returns a Plan: every derived value and table
with its names rewritten to canonical identifiers (Chinese names and enum words
resolved), the type of every item, and the order in which items are computed. The
interpreter and the SQL compiler both consume the Plan, so they agree on meaning. What
a bound expression's type is, and the checks of declared types, are the binder's half
in compiler/bind_types.py.
"""

from __future__ import annotations

import dataclasses
import difflib
import heapq
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from graphlib import CycleError, TopologicalSorter
from typing import Self

from compiler.bind_types import (
    TypeChecks,
    column_mismatch,
    type_cn,
    type_said,
    value_shown,
)
from compiler.diagnostics import Location, Report
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
    names_in,
    render,
)
from compiler.functions import FUNCTIONS
from compiler.model import (
    LEVEL_CN,
    Aggregation,
    Derived,
    DType,
    Field,
    HitPolicy,
    InputColumn,
    Kind,
    Level,
    OutputColumn,
    RuleBook,
    Standard,
    Table,
)
from compiler.name_clash import said_twice
from compiler.precision import unrepresentable_cells
from compiler.vocabulary import value_cn

AS_OF = "as_of"


@dataclass
class Item:
    """Something with a name: a field, a standard, a derived value or a table output."""

    id: str
    kind: str  # field, standard, derived, output, builtin
    level: Level | None  # None: the same for every level (standards, as_of)
    dtype: DType
    owner: str  # the derived value's or table's id (itself for fields and standards)
    name_cn: str = ""


# an event table's alert_type output raises an alert dated by its event (contract)
ALERT_TYPE, ALERT_DATE = "alert_type", "event.date"
ALERT_DUE = "alert_due"  # its due date: an event table's output too
ALERT_OUTPUTS = (ALERT_TYPE, ALERT_DUE)
_ALERT_ROLE = {ALERT_TYPE: "产生预警", ALERT_DUE: "成为预警的到期日"}
# The decision's columns that a county's items give (contracts/household.md); with
# the tables, what a program must compute
DECISION_COLUMNS = frozenset({
    "group", "income_per_capita", "dibao_standard", "marginal_line", "tekun_members",
    "entitlements", "phase_out_from", "phase_out_until", "monitoring", "alert_type",
    "alert_due",
})


@dataclass
class Plan:
    """A county's tables, bound and ordered, ready to interpret or compile."""

    rulebook: RuleBook
    items: dict[str, Item]
    derived: dict[str, Derived]
    tables: dict[str, Table]
    order: list[tuple[str, str]] = field(default_factory=list)  # ("derived"|"table", id)
    # the names each step reads, ("derived"|"table", id) -> names
    dependencies: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    _unread: dict[frozenset[str], set[str]] = field(default_factory=dict, repr=False, compare=False)

    def level_of(self, step: tuple[str, str]) -> Level:
        kind, ident = step
        return self.derived[ident].level if kind == "derived" else self.tables[ident].level

    def unread_derived(self, decided: frozenset[str]) -> set[str]:
        """Derived values that no table reads, nor any value a table reads, nor a
        column of the decision (``decided``). Neither evaluator computes them: DuckDB
        leaves out a column nothing selects, and the interpreter skips them, so a value
        nobody reads cannot refuse a household in one and not the other."""
        if decided in self._unread:  # asked for by every Interpreter made of the plan
            return self._unread[decided]
        read = set(decided)
        for table in self.tables.values():
            read |= _table_reads(table)
        pending = [d for d in self.derived if d in read]
        while pending:
            for name in self.dependencies.get(("derived", pending.pop()), set()):
                if name in self.derived and name not in read:
                    read.add(name)
                    pending.append(name)
        self._unread[decided] = set(self.derived) - read
        return self._unread[decided]


def tested_inputs(table: Table) -> list[bool]:
    """For each input column, whether some rule tests it (not "-" in every rule)."""
    return [
        any(not isinstance(rule.tests[i], AnyTest) for rule in table.rules)
        for i in range(len(table.inputs))
    ]


def _table_reads(table: Table) -> set[str]:
    """The names a table's decision needs: its input columns that some rule tests
    (a column every rule answers with "-" is shown, not read), the tests' operands,
    the outputs and the defaults."""
    read: set[str] = set()
    for i, (column, tested) in enumerate(zip(table.inputs, tested_inputs(table), strict=True)):
        if tested:
            read.update(names_in(column.expr))
            for rule in table.rules:
                read.update(names_in(rule.tests[i]))
    for rule in table.rules:
        for expr in rule.outputs:
            read.update(names_in(expr))
    for output in table.outputs:
        if output.default is not None:
            read.update(names_in(output.default))
    return read


# the W705s an owner holds, as TypeChecks.newer_check was given them
_Held = list[tuple[str, str, Location, str]]


class BindCache:
    """Bound derived values and tables shared by counties that share them.

    Most counties use the province's tables unchanged and differ only in standard
    values, which binding does not look at; the same table object bound against the
    same names binds the same way, so it is bound once per project load. Keep one
    cache per load: it holds the objects it keys on, so ids are not reused under it.
    """

    def __init__(self) -> None:
        # by (source id, names): the source, its bound form, its dependencies, its W705s
        self.entries: dict[tuple[object, ...], tuple[object, object, set[str], _Held]] = {}
        self.names: dict[_Names, _Names] = {}

    def interned(self, names: tuple[object, ...]) -> _Names:
        """One object per distinct set of names, so that lookups compare it by identity."""
        key = _Names(names)
        return self.names.setdefault(key, key)

    def get(self, source: object, names: object, make):  # type: ignore[no-untyped-def]
        """The owner bound, what it depends on and the W705s it holds (``make`` gives
        the three); the W705s are said again by each published version that shares it."""
        key = (id(source), names)
        if key not in self.entries:
            self.entries[key] = (source, *make())
        _, bound, deps, newer = self.entries[key]
        return bound, deps, newer


class _Names(tuple):  # type: ignore[type-arg]
    """The names a rulebook binds against, hashed once: every cache lookup hashes its key,
    and hashing some hundreds of names each time was most of the cost of binding."""

    _hash: int

    def __new__(cls, names: tuple[object, ...]) -> Self:
        made = super().__new__(cls, names)
        made._hash = tuple.__hash__(made)
        return made

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or tuple.__eq__(self, other)  # type: ignore[arg-type]

    def __ne__(self, other: object) -> bool:
        return not self == other


def bind(rulebook: RuleBook, report: Report, cache: BindCache | None = None) -> Plan:
    """Resolve and check every name in the rulebook; problems go to ``report``."""
    items = _items(rulebook, report)
    aliases = _aliases(items)
    binder = _Binder(items, aliases, report)
    binder.published = rulebook.published
    cache = cache or BindCache()
    names = cache.interned(
        tuple((i.id, i.kind, i.level, i.dtype, i.owner, i.name_cn) for i in items.values())
    )
    derived, tables = {}, {}
    # a version's W705s are said by it even where another version bound the owner first
    for d in rulebook.derived.values():
        made = cache.get(d, names, lambda d=d: binder.bound("derived", d))
        derived[d.id], deps, newer = made
        binder.dependencies[("derived", d.id)] = deps
        for held in newer:
            binder.say_newer(*held)
    for t in rulebook.tables.values():
        made = cache.get(t, names, lambda t=t: binder.bound("table", t))
        tables[t.id], deps, newer = made
        binder.dependencies[("table", t.id)] = deps
        for held in newer:
            binder.say_newer(*held)
    plan = Plan(rulebook, items, derived, tables, dependencies=binder.dependencies)
    plan.order = _order(plan, binder.dependencies, report)
    return plan


def bind_replaced(plan: Plan, ident: str) -> Table | None:
    """The province's table ``ident`` that the county replaced, bound against the
    county's names with its problems left unsaid (the province's own check says them);
    None when the county keeps the province's. The analysis compares the two."""
    table = plan.rulebook.replaced.get(ident)
    if table is None:
        return None
    binder = _Binder(plan.items, _aliases(plan.items), Report())
    return binder.table(table)


def _items(rulebook: RuleBook, report: Report) -> dict[str, Item]:
    items: dict[str, Item] = {AS_OF: Item(AS_OF, "builtin", None, DType(Kind.DATE), AS_OF, "决策日")}
    where: dict[str, Location] = {}

    def add(item: Item, location: Location) -> None:
        if item.id in items:
            other, at = items[item.id], where.get(item.id, Location())
            report.add(said_twice(item.id, location, item, other, at, rulebook.tables))
            return
        items[item.id] = item
        where[item.id] = location

    for f in rulebook.fields.values():
        add(Item(f.id, "field", f.level, f.dtype, f.id, f.name_cn), f.location)
    for s in rulebook.standards.values():
        add(Item(s.id, "standard", None, s.dtype, s.id, s.name_cn), s.location)
    for d in rulebook.derived.values():
        add(Item(d.id, "derived", d.level, d.dtype, d.id, d.name_cn), d.location)
    for t in rulebook.tables.values():
        for output in t.outputs:
            add(Item(output.id, "output", t.level, _output_type(t, output.dtype), t.id), output.location)
    return items


def _output_type(table: Table, dtype: DType) -> DType:
    """What a table's output holds once its hit policy has acted."""
    if table.hit_policy.single_hit:
        return dtype
    if table.aggregation is None:
        return DType(Kind.LIST, dtype.values)
    if table.aggregation.value == "COUNT":
        return DType(Kind.INTEGER)
    return dtype


def _aliases(items: dict[str, Item]) -> dict[str, str]:
    aliases = {ident: ident for ident in items}
    for item in items.values():
        if item.name_cn and item.name_cn not in aliases:
            aliases[item.name_cn] = item.id
    return aliases


class _Binder(TypeChecks):
    def __init__(self, items: dict[str, Item], aliases: dict[str, str], report: Report):
        self.items = items
        self.aliases = aliases
        self.report = report
        self.dependencies: dict[tuple[str, str], set[str]] = {}
        self.newer = []

    # ------------------------------------------------------------ owners

    def bound(self, kind: str, owner):  # type: ignore[no-untyped-def]
        """Bind one derived value or table; returns it bound, what it depends on and
        the W705s it holds (said by ``bind`` for each version that shares it)."""
        self.newer = []
        result = self.derived(owner) if kind == "derived" else self.table(owner)
        for refused in unrepresentable_cells(self.items, result):  # E308
            self.report.add(refused)
        return result, self.dependencies[(kind, owner.id)], self.newer

    def derived(self, derived: Derived) -> Derived:
        written = derived.expr_location if derived.expr_location.cell else None
        scope = _Scope(
            derived.level, derived.location, set(), enum=derived.dtype, written=written
        )
        expr = self.expr(derived.expr, scope)
        what = f"派生值「{derived.id}」的表达式"
        self.check_type(derived.expr, expr, scope, derived.dtype, what, derived.text)
        type_cell = derived.type_location if derived.type_location.cell else derived.location
        what = f"派生值「{derived.id}」的值「{render(expr)}」"
        self.check_whole(expr, derived.dtype, type_cell, what, False)
        self.dependencies[("derived", derived.id)] = scope.deps
        return dataclasses.replace(derived, expr=expr)

    def table(self, table: Table) -> Table:
        deps: set[str] = set()
        inputs = []
        for column in table.inputs:
            scope = _Scope(table.level, column.location, deps, column=column.text)
            bound = self.expr(column.expr, scope)
            self.check_column(column, bound, scope)
            inputs.append(dataclasses.replace(column, expr=bound))
        outputs = []
        for output in table.outputs:
            scope = _Scope(
                table.level, row_below(output.location, 2), deps, enum=output.dtype, column=output.id
            )
            default = self.expr(output.default, scope) if output.default else None
            if output.default is not None and default is not None:
                what = f"输出列「{output.id}」的默认值"  # the default's cell: 默认 row
                self.check_type(output.default, default, scope, output.dtype, what)
                self.check_default(output, default, scope)
            outputs.append(dataclasses.replace(output, default=default))
        rules = [self.rule(table, rule, inputs, deps) for rule in table.rules]
        for rule in rules:
            self.check_outputs(table, rule)
        self.check_aggregation(table)
        self.check_ordered(table)
        self.check_alerts(table)
        self.check_alert_outputs(table)
        self.dependencies[("table", table.id)] = deps
        return dataclasses.replace(table, inputs=inputs, outputs=outputs, rules=rules)

    def rule(self, table: Table, rule, inputs, deps: set[str]):  # type: ignore[no-untyped-def]
        tests = []
        # the cells as typed, for messages (a version read back from YAML has none)
        texts = rule.test_texts
        if len(texts) != len(rule.tests):
            texts = [""] * len(rule.tests)
        cells = zip(rule.tests, inputs, rule.test_locations, texts, strict=True)
        for test, column, location, text in cells:
            scope = _Scope(table.level, location, deps, enum=column.dtype, column=column.text)
            tests.append(self.test(test, scope, column.dtype))
            if column.dtype.kind is Kind.INTEGER:  # the test as written: names as typed
                self.check_fractions(test, column.text, scope, text)
        outputs = []
        written = rule.output_texts
        if len(written) != len(rule.outputs):
            written = [""] * len(rule.outputs)
        cells = zip(rule.outputs, table.outputs, rule.output_locations, written, strict=True)
        for expr, column, location, text in cells:
            scope = _Scope(table.level, location, deps, enum=column.dtype, column=column.id)
            bound = self.expr(expr, scope)
            what = f"输出列「{column.id}」的单元格"
            self.check_type(expr, bound, scope, column.dtype, what, text)
            outputs.append(bound)
        return dataclasses.replace(rule, tests=tests, outputs=outputs)

    def check_outputs(self, table: Table, rule) -> None:  # type: ignore[no-untyped-def]
        """Enum outputs hold declared values; PRIORITY and OUTPUT ORDER need literal
        outputs, since their order is the order of the declared values."""
        ordered = table.hit_policy in (HitPolicy.PRIORITY, HitPolicy.OUTPUT_ORDER)
        for expr, column, location in zip(
            rule.outputs, table.outputs, rule.output_locations, strict=True
        ):
            if column.dtype.kind is not Kind.ENUM:
                continue
            if isinstance(expr, Literal):
                if expr.value is not None and expr.value not in column.dtype.values:
                    self.report.error(
                        "E107",
                        f"输出「{expr.value}」不在「{column.id}」声明的取值中",
                        location,
                        found=expr.value,
                        expected="、".join(column.dtype.values),
                    )
            elif ordered:
                self.report.error(
                    "E306",
                    f"{table.hit_policy} 表的输出须为声明的取值之一，不能是表达式",
                    location,
                    found=render(expr),
                    expected="、".join(column.dtype.values),
                    hint="优先顺序由类型中取值的顺序决定；如需计算输出，请改用 FIRST",
                )

    def check_alerts(self, table: Table) -> None:
        """E302 for an event table's ``alert_type`` output when the rulebook declares no
        ``event.date``: the decision contract raises each alert on its event's date,
        which the decisions query reads (sqlgen_decisions.alerts_join)."""
        output = next((o for o in table.outputs if o.id == ALERT_TYPE), None)
        if table.level is not Level.EVENT or output is None or ALERT_DATE in self.items:
            return
        self.report.error(
            "E302",
            f"决策表「{table.id}」的输出「{ALERT_TYPE}」产生预警，但字段表中没有事件日期"
            f"「{ALERT_DATE}」：每条预警的发出日（raised_on）取自事件日期",
            output.location,
            found=ALERT_TYPE,
            expected=f"在省级 字段 表中声明 {ALERT_DATE}（事件日期，层级 事件，类型 date）",
            hint="补充该字段，或去掉这张表的预警输出",
        )

    def check_alert_outputs(self, table: Table) -> None:
        """W207 for an ``alert_type`` or ``alert_due`` output of a household or member
        table: the decisions query raises alerts from event rows only, so it is never
        read; E215 for an event table's ``alert_type`` when no event table gives
        ``alert_due``: the decision contract gives every alert its due date."""
        for output in table.outputs:
            if output.id in ALERT_OUTPUTS and table.level is not Level.EVENT:
                self.report.warn(
                    "W207",
                    f"决策表「{table.id}」是{LEVEL_CN[table.level]}层级的表，其输出"
                    f"「{output.id}」不会{_ALERT_ROLE[output.id]}：只有层级=事件 的表产生预警",
                    output.location,
                    found=f"层级={LEVEL_CN[table.level]}",
                    expected="层级=事件（每条事件一行，预警的发出日取自事件日期）",
                    hint="把这张表的层级改为 事件，或把预警输出移到事件层级的表中；"
                    "若不是预警，请给该输出另起名称",
                )
        if table.level is not Level.EVENT:
            return
        output = next((o for o in table.outputs if o.id == ALERT_TYPE), None)
        due = self.items.get(ALERT_DUE)
        if output is None or (due is not None and due.level is Level.EVENT):
            return
        self.report.error(
            "E215",
            f"决策表「{table.id}」的输出「{ALERT_TYPE}」产生预警，但没有事件层级的输出"
            f"「{ALERT_DUE}」：每条预警都应有到期日（处置时限）",
            output.location,
            found=ALERT_TYPE,
            expected=f"在这张表（或另一张层级=事件 的表）中增加输出列 {ALERT_DUE}，"
            "类型 date，如 working_days_after(event.date, 10)",
            hint="预警的到期日按规则中的工作日期限计算（省级 四(三)）；"
            "若不需要预警，去掉输出「alert_type」",
        )

    def check_default(self, output: OutputColumn, default: Expr, scope: _Scope) -> None:
        """W705 for a published version whose enum output's default is text that is
        none of the values: the working copy's reader refuses it (E107, or E301 for a
        bare ``-``; compiler/load.py), which versions published before never met."""
        if self.published is None or output.dtype.kind is not Kind.ENUM:
            return
        if not isinstance(default, Literal) or not isinstance(default.value, str):
            return
        if default.value in output.dtype.values:
            return
        said = f"输出列「{output.id}」的默认值「{default.value}」不是声明的取值之一"
        # a bare - was taken as the text "-" before E301 refused it in output cells
        code = "E301" if default.value == "-" else "E107"
        self.newer_check(code, said, scope.location, f"没有规则命中时仍输出「{default.value}」")

    def check_aggregation(self, table: Table) -> None:
        """C+, C<, C> and C# combine a single output, and C+ adds numbers
        (docs/table-format.md, section 3); anything else has no meaning to compute."""
        if table.aggregation is None:
            return
        for extra in table.outputs[1:]:
            self.report.error(
                "E208",
                f"{table.policy_text} 表只能有一个输出列",
                extra.location,
                found=extra.id,
                expected="一个输出列，例如 amount",
                hint="其余输出请放到另一张表，或改用 COLLECT",
            )
        first = table.outputs[0] if table.outputs else None
        if first and table.aggregation is Aggregation.SUM and not first.dtype.is_numeric:
            self.report.error(
                "E208",
                f"{table.policy_text} 表的输出须为数值才能求和",
                first.location,
                found=first.dtype.render(),
                expected="money、number、integer 或 percent，例如 money",
                hint="清点命中的个数请用 C#，列出命中的输出请用 COLLECT",
            )

    def check_ordered(self, table: Table) -> None:
        """E208: PRIORITY and OUTPUT ORDER rank the matches by the order of the
        outputs' declared values, an enum's (docs/table-format.md, section 3; an output
        of another type ranks nothing). With no enum output there is no order: two
        matches with 100 and 200 gave whichever came first, as FIRST, without a word."""
        ordered = (HitPolicy.PRIORITY, HitPolicy.OUTPUT_ORDER)
        if table.hit_policy not in ordered or not table.outputs:
            return
        if any(output.dtype.kind is Kind.ENUM for output in table.outputs):
            return
        outputs = "、".join(f"{o.id}（{type_said(o.dtype)}）" for o in table.outputs)
        self.report.error(
            "E208",
            f"{table.policy_text} 表按输出的取值在枚举类型中的先后排列命中的规则，"
            f"输出 {outputs} 没有声明取值的顺序",
            policy_cell(table.location),
            found=f"{table.policy_text}；输出 {outputs}",
            expected="输出的类型为按优先顺序列出取值的枚举，如 enum(tekun,dibao,none)",
            hint="按规则的先后取第一条命中的规则请用 FIRST；取命中的最大或最小金额请用 C> 或 C<",
        )

    def check_column(self, column: InputColumn, bound: Expr, scope: _Scope) -> None:
        """An input column's declared type (row 4) is what its cells are read as and
        the table is analysed by; the value compared is what the expression of row 3
        computes. Where they differ, a date typed money compared as a number, a yes/no
        never matched, an enum listing fewer values than its input takes left gaps
        unseen: E303 at the 类型 cell, E110 for money and percentages."""
        actual = self.type_of(bound, scope)
        if actual.kind is Kind.INTEGER and not self.whole(bound):
            # whole by a number written (counted_members * 500): may be declared money,
            # as any computed number may
            actual = DType(Kind.NUMBER)
        self.measure(bound, scope)
        declared = column.dtype
        code = column_mismatch(declared, actual, isinstance(bound, Name))
        if code == "E303" and declared.kind is Kind.INTEGER and self.whole(bound, True):
            code = None  # assets.vehicles + 1, round(x, 0): always whole
        if code is None:
            what = f"输入列「{column.text}」的值"
            self.check_whole(bound, declared, row_below(column.location, 1), what, True)
            return
        missing = [v for v in actual.values if v not in declared.values]
        if code == "enum":
            message = (
                f"输入列「{column.text}」的类型 {declared.render()} 缺少它可能取到的值 "
                + "、".join(value_shown(v, actual.values) for v in missing)
            )
            hint = "缺少的取值不会被分析到，规则写它也会报错；请照抄它的类型，取值的顺序不影响输入列"
            code = "E303"
        else:
            message = (
                f"输入列「{column.text}」的类型写作 {declared.render()}（{type_cn(declared)}），"
                f"但「{column.text}」的值是{type_cn(actual)}（{actual.render()}）"
            )
            hint = (
                "单元格按第 4 行的类型读取和比较，分析也按它进行；"
                f"请把类型改为 {actual.render()}，或在第 3 行写要比较的值"
            )
        self.report.error(
            code,
            message,
            row_below(column.location, 1),
            found=declared.render(),
            expected=f"与第 3 行的值相同的类型：{actual.render()}",
            hint=hint,
        )

    # ------------------------------------------------------------ nodes

    def test(self, test: Test, scope: _Scope, dtype: DType) -> Test:
        match test:
            case AnyTest() | NullTest():
                return test
            case Compare(op, operand):
                bound = self.expr(operand, scope)
                self.check_comparable(dtype, self.type_of(bound, scope), scope, op)
                self.check_measure(operand, bound, dtype, scope, compared=True)
                return Compare(op, bound)
            case Interval(low, low_closed, high, high_closed):
                low_b, high_b = self.expr(low, scope), self.expr(high, scope)
                for end in (low_b, high_b):
                    self.check_comparable(dtype, self.type_of(end, scope), scope, "..")
                for end, end_b in ((low, low_b), (high, high_b)):
                    self.check_measure(end, end_b, dtype, scope, compared=True)
                return Interval(low_b, low_closed, high_b, high_closed)
            case Disjunction(tests):
                return Disjunction(tuple(self.test(t, scope, dtype) for t in tests))
            case Negation(tests):
                inner = self.test(tests, scope, dtype)
                assert isinstance(inner, Disjunction)
                return Negation(inner)
        raise TypeError(test)

    def expr(self, node: Expr, scope: _Scope) -> Expr:
        match node:
            case Literal(_, unit) if "/" in unit:
                self.report.error(
                    "E110",
                    f"表达式中金额后的「{unit}」不会按月或按年换算",
                    scope.value_cell,
                    found=unit,
                    expected="只写金额（可带“元”“万元”），按比较的值的口径：月收入写月额，年收入写年额",
                    hint=f"去掉「{unit[unit.index('/'):]}」；例如低保标准 1301 元/月 的年额应写 15612",
                )
                return node
            case Literal():
                return node
            case Name(name):
                return self.name(name, scope)
            case Unary(op, operand):
                return Unary(op, self.expr(operand, scope))
            case Binary(op, left, right):
                return Binary(op, self.expr(left, scope), self.expr(right, scope))
            case If(cond, then, otherwise):
                return If(self.expr(cond, scope), self.expr(then, scope), self.expr(otherwise, scope))
            case Call(func, args):
                return self.call(func, args, scope)
        raise TypeError(node)

    def name(self, name: str, scope: _Scope) -> Expr:
        if scope.enum and scope.enum.kind in (Kind.ENUM, Kind.LIST) and name in scope.enum.values:
            return Literal(name)
        ident = self.aliases.get(name)
        if ident is None:
            if scope.enum and scope.enum.kind is Kind.TEXT:
                return Literal(name)
            if scope.enum and scope.enum.kind is Kind.ENUM:
                self.not_a_value(name, scope.enum, scope)
                return Literal(None)
            self.report.error(
                "E302",
                f"名称「{name}」没有定义",
                scope.location,
                found=name,
                expected="字段、标准参数、派生值或决策表输出的标识或中文名称",
                hint=_suggest(name, self.aliases),
            )
            return Literal(None)
        item = self.items[ident]
        self.check_level(item, scope)
        scope.deps.add(item.owner)
        return Name(ident)

    def not_a_value(self, name: str, dtype: DType, scope: _Scope) -> None:
        """E107 for a word in an enum column that is none of its values and names
        nothing: its values listed with their Chinese names, the closest suggested. A
        Chinese name (低保) is not taken for its value: the tables write identifiers,
        whatever the words shown to readers (GLOSSARY.md)."""
        names = {value_cn(v, dtype.values): v for v in dtype.values}
        meant = names.get(name)
        if meant is not None:
            hint = f"「{name}」是取值 {meant} 的中文名称；单元格中请写标识 {meant}"
        else:
            close = difflib.get_close_matches(name, dtype.values, n=1, cutoff=0.6)
            by_cn = difflib.get_close_matches(name, list(names), n=1, cutoff=0.5)
            meant = close[0] if close else names[by_cn[0]] if by_cn else None
            hint = (
                f"是否想写「{meant}」（{value_cn(meant, dtype.values)}）？"
                if meant
                else "取值须是类型中列出的标识之一；要增加取值，请把它加到第 4 行的 enum(…) 中"
            )
        where = f"「{scope.column}」列" if scope.column else f"类型 {dtype.render()} "
        self.report.error(
            "E107",
            f"「{name}」不是{where}的取值之一",
            scope.location,
            found=name,
            expected="、".join(value_shown(v, dtype.values) for v in dtype.values),
            hint=hint,
        )

    def check_level(self, item: Item, scope: _Scope) -> None:
        if item.level is None or item.level is scope.level:
            return
        if scope.level is Level.MEMBER and item.level is Level.HOUSEHOLD:
            return
        if scope.level is Level.EVENT and item.level in (Level.HOUSEHOLD, Level.MEMBER):
            return  # an event sees its household and the member named by event.person_id
        if scope.level is Level.HOUSEHOLD and item.level is Level.MEMBER and scope.in_aggregate:
            return
        self.report.error(
            "E303",
            f"{LEVEL_CN[scope.level]}层级不能直接使用{LEVEL_CN[item.level]}层级的「{item.id}」",
            scope.location,
            found=item.id,
            expected="成员层级的值请用 sum、count、exists、every、min_of、max_of 或 collect 汇总",
        )

    def call(self, func: str, args: tuple[Expr, ...], scope: _Scope) -> Expr:
        function = FUNCTIONS.get(func)
        if function is None:
            self.report.error(
                "E304",
                f"函数「{func}」无法识别",
                scope.location,
                found=func,
                expected="、".join(sorted(FUNCTIONS)),
            )
            return Literal(None)
        too_few = len(args) < function.min_args
        too_many = function.max_args is not None and len(args) > function.max_args
        if too_few or too_many:
            self.report.error(
                "E304",
                f"函数「{func}」的参数个数不对",
                scope.location,
                found=f"{len(args)} 个参数",
                expected=_arity_text(function.min_args, function.max_args),
            )
            return Literal(None)
        if function.aggregate:
            if scope.level is not Level.HOUSEHOLD:
                self.report.error(
                    "E303",
                    f"函数「{func}」汇总家庭成员，只能用于家庭层级",
                    scope.location,
                    found=func,
                    expected="在家庭层级的派生值或决策表中使用",
                )
                return Literal(None)
            inner = dataclasses.replace(scope, level=Level.MEMBER, in_aggregate=True, enum=None)
            bound = tuple(self.expr(a, inner) for a in args)
            return Call(func, bound)
        if func in ("round", "floor") and len(args) > 1 and not _written_number(args[1]):
            self.report.error(
                "E306",
                f"函数「{func}」的小数位数须直接写成数字",
                scope.location,
                found=render(args[1]),
                expected=f"例如 {func}(x, 2)",
                hint="DuckDB 只能按写定的位数取整，位数不能取自字段、标准参数或计算结果",
            )
        elif func == "floor" and len(args) > 1 and args[1].value not in range(13):  # type: ignore[attr-defined]
            self.report.error(
                "E306",
                "函数「floor」的小数位数应为 0 至 12 的整数",
                scope.location,
                found=render(args[1]),
                expected="例如 floor(x, 2)（向下取到分）",
            )
        inner = dataclasses.replace(scope, enum=None)
        return Call(func, tuple(self.expr(a, inner) for a in args))


def row_below(location: Location, rows: int) -> Location:
    """The cell ``rows`` below ``location`` (a column's 类型 cell under its 名称 cell,
    its 默认 cell two below); ``location`` itself where it is no A1 cell (DMN)."""
    match = re.fullmatch(r"([A-Z]+)([0-9]+)", location.cell or "")
    if match is None:
        return location
    return Location(location.file, location.sheet, f"{match[1]}{int(match[2]) + rows}")


def policy_cell(table_at: Location) -> Location:
    """The hit policy's cell, C1 of the table's sheet."""
    if table_at.cell != "A1":
        return table_at
    return Location(table_at.file, table_at.sheet, "C1")


@dataclass
class _Scope:
    level: Level
    location: Location
    deps: set[str]
    enum: DType | None = None
    in_aggregate: bool = False
    column: str = ""  # the table column of the cell, for messages
    # the cell the expression is written in where ``location`` is another: a derived
    # value's 表达式 cell (its other problems are said at its 标识)
    written: Location | None = None

    @property
    def value_cell(self) -> Location:
        """Where a problem of the value written is said: an amount mixed with a share
        (E110) at the cell that writes the mix."""
        return self.written or self.location


def _written_number(node: Expr) -> bool:
    """A number written in the cell (``2``, ``-1``), not a name or a computation."""
    return isinstance(node, Literal) and isinstance(node.value, Decimal)


def _arity_text(low: int, high: int | None) -> str:
    if high is None:
        return f"至少 {low} 个参数"
    return f"{low} 个参数" if low == high else f"{low} 至 {high} 个参数"


def _suggest(name: str, aliases: dict[str, str]) -> str | None:
    close = difflib.get_close_matches(name, list(aliases), n=1, cutoff=0.6)
    return f"是否想写「{close[0]}」？" if close else "检查拼写，或在 标准参数/派生值 中定义它"


def _order(
    plan: Plan, dependencies: dict[tuple[str, str], set[str]], report: Report
) -> list[tuple[str, str]]:
    """Derived values and tables in an order where everything comes after its inputs."""
    steps = {("derived", d): d for d in plan.derived} | {("table", t): t for t in plan.tables}
    by_owner = {owner: step for step, owner in steps.items()}
    graph = {
        step: {by_owner[dep] for dep in deps if dep in by_owner and by_owner[dep] != step}
        for step, deps in dependencies.items()
    }
    for step, deps in dependencies.items():
        if steps[step] in deps:
            graph[step].add(step)
    try:
        return _grouped_by_level(plan, graph)
    except CycleError as error:
        cycle = error.args[1]
        names = " → ".join(ident for _, ident in cycle)
        owners = [
            plan.derived.get(ident) if kind == "derived" else plan.tables.get(ident)
            for kind, ident in cycle
        ]
        owners = [o for o in owners if o is not None]
        # said where the county made it: its own override, not the province's row the
        # cycle happens to start at (helper-58)
        own = plan.rulebook.sources[0] if plan.rulebook.sources else None
        owner = next((o for o in owners if o.location.file == own), owners[0] if owners else None)
        report.error(
            "E305",
            f"循环引用：{names}",
            owner.location if owner else Location(),
            found=names,
            expected="每个派生值和决策表只依赖先于它计算的值",
        )
        return []


def _grouped_by_level(
    plan: Plan, graph: dict[tuple[str, str], set[tuple[str, str]]]
) -> list[tuple[str, str]]:
    """A topological order that stays on one level as long as it can: every switch
    between household, member and event steps costs the compiled SQL a join."""
    sorter = TopologicalSorter(graph)
    sorter.prepare()
    order: list[tuple[str, str]] = []
    # the ready steps by level, each a heap by (events last, step): the next step is the
    # least of the current level's, else the least of all (sorting every ready step at
    # every step made this the slowest part of binding ninety counties)
    ready: dict[Level | None, list[tuple[bool, tuple[str, str]]]] = defaultdict(list)
    level: Level | None = None
    while sorter.is_active():
        for step in sorter.get_ready():
            at = plan.level_of(step)
            heapq.heappush(ready[at], (at is Level.EVENT, step))
        if not ready[level]:
            level = min((heap[0], at) for at, heap in ready.items() if heap)[1]
        _, step = heapq.heappop(ready[level])
        order.append(step)
        sorter.done(step)
    return order


__all__ = ["AS_OF", "Field", "Item", "Plan", "Standard", "bind"]
