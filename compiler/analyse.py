"""The analysis pass: gaps, overlaps, shadowed rules and policy invariants, per county.

``analyse(plan, report, as_of)`` substitutes the county's standards in force on
``as_of`` into every decision table and studies each table over the values of its
inputs (docs/analysis.md): inputs no rule covers (E501, or one I501 where the table
accepts them or falls to its defaults), overlaps that break UNIQUE (E502) or ANY (E503), rules that can never be
chosen (W501), conditions that are empty once standards are substituted (W502), inputs
it cannot analyse (W503), and the province's declared invariants (E504).

Every witness is a concrete input, checked with the reference interpreter before it is
reported. Results are cached by table structure and substituted constants, because
most counties share the province's tables and differ only in a few standards.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import typing
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

from compiler import logger
from compiler.bind import AS_OF, Plan
from compiler.calendar import WorkCalendar
from compiler.cells import Cell, RawSheet
from compiler.diagnostics import Location, Report, make
from compiler.errors import EvaluationError
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
    ParseError,
    Test,
    Unary,
    children,
    names_in,
    parse_expression,
    render,
)
from compiler.functions import FUNCTIONS
from compiler.interpret import Evaluation, Interpreter, cast, priority
from compiler.intervals import (
    Box,
    Domain,
    Grid,
    Mask,
    Settled,
    bits,
    intersect,
    listed_domain,
    lowest,
    merge,
    ordered_domain,
    split_runs,
    subtract,
    sweep,
    uncovered,
    witness,
)
from compiler.intervals import Piece as SweepPiece
from compiler.model import DType, HitPolicy, Kind, Level, Rule, Table

MAX_LISTED = 5  # findings of one kind listed per table before "and N more"
OTHER_TEXT = "\x00其他"  # a text value no literal equals: "any other text"
_CACHE_LIMIT = 4096
T = TypeVar("T")


# ---------------------------------------------------------------- entry


def analyse(plan: Plan, report: Report, as_of: date) -> None:
    """Analyse every decision table of one county's plan and check the invariants.

    Args:
        plan: the county's bound plan.
        report: where the diagnostics go; a finding shared by several counties is
            reported once, naming the counties.
        as_of: the date whose standards are substituted.
    """
    county = County(plan, as_of)
    for table in plan.tables.values():
        try:
            found = _table_findings(county, table)
        except (TypeError, ArithmeticError) as error:  # ill-typed cells (see E303)
            found = [_not_analysed(table.location, f"决策表「{table.id}」", error)]
        for finding in found:
            _emit(report, county.label, finding)
    for finding in check_invariants(county):
        _emit(report, county.label, finding)


def _not_analysed(location: Location, what: str, error: Exception) -> Finding:
    logger.info("analysis skipped %s: %s", what, error)
    return finding(
        "W503",
        f"{what}无法分析：其中有类型不一致的比较",
        location,
        found=str(error),
        expected="条件与列的类型一致（见同一单元格的 E303 等错误）",
        hint="先改正其他错误，再看分析结果",
    )


class County:
    """One county's plan with its standards (and derived constants) substituted."""

    def __init__(self, plan: Plan, as_of: date) -> None:
        self.plan = plan
        self.as_of = as_of
        self.interpreter = Interpreter(
            plan, as_of, WorkCalendar(plan.rulebook.calendar)
        )
        self.env: dict[str, object] = dict(self.interpreter.standards)
        self.env[AS_OF] = as_of
        self.result = Evaluation(self.env, [], [], [])
        self.constants = set(self.env)
        self._constant: dict[int, tuple[object, bool]] = {}
        for kind, ident in plan.order:
            derived = plan.derived.get(ident) if kind == "derived" else None
            if derived is not None and self.is_constant(derived.expr):
                self.env[ident] = cast(self.value(derived.expr), derived.dtype)
                self.constants.add(ident)
        book = plan.rulebook
        self.label = f"{book.county_code} {book.county_name}".strip()
        self._nullable: dict[str, bool] = {}

    def is_constant(self, node: Expr | Test) -> bool:
        """True when the node uses only standards, literals and the decision date."""
        known = self._constant.get(id(node))
        if known is None or known[0] is not node:
            found = set(names_in(node)) <= self.constants and not _has_aggregate(node)
            known = self._constant[id(node)] = (node, found)
        return known[1]

    def value(self, node: Expr | None, env: dict[str, object] | None = None) -> object:
        if env is None:
            return self.interpreter.value(node, self.env, self.result)
        return self.interpreter.value(node, env, Evaluation(env, [], [], []))

    def test(
        self, test: Test, value: object, env: dict[str, object] | None = None
    ) -> bool | None:
        scope = self.env if env is None else env
        return self.interpreter.test(test, value, scope, Evaluation(scope, [], [], []))

    def name_cn(self, ident: str) -> str:
        item = self.plan.items.get(ident)
        return item.name_cn if item and item.name_cn else ident

    # ------------------------------------------------------------ nullability

    def nullable(self, node: Expr | None) -> bool:
        """Whether the expression can be missing for some household."""
        match node:
            case None:
                return True
            case Literal(value):
                return value is None
            case Name(ident):
                return self._name_nullable(ident)
            case Unary(_, operand):
                return self.nullable(operand)
            case Binary("/", left, right):
                constant = isinstance(right, Literal) and right.value not in (None, 0)
                return self.nullable(left) or not constant or self.nullable(right)
            case Binary(_, left, right):
                return self.nullable(left) or self.nullable(right)
            case If(_, then, otherwise):
                return self.nullable(then) or self.nullable(otherwise)
            case Call(func, args):
                return self._call_nullable(func, args)
        return True

    def _call_nullable(self, func: str, args: tuple[Expr, ...]) -> bool:
        if func in ("is_null", "count", "exists", "every", "collect"):
            return False
        if func in ("coalesce", "min", "max"):
            return all(self.nullable(a) for a in args)
        if func in ("sum", "min_of", "max_of"):
            return True
        return any(self.nullable(a) for a in args)

    def _name_nullable(self, ident: str) -> bool:
        if ident in self.constants:
            return self.env.get(ident) is None
        if ident in self._nullable:
            return self._nullable[ident]
        self._nullable[ident] = True  # a cycle stays nullable
        item = self.plan.items.get(ident)
        found = True
        if item is not None and item.kind == "field":
            field = self.plan.rulebook.fields.get(ident)
            found = field is None or field.default is None
        elif item is not None and item.kind == "derived":
            found = self.nullable(self.plan.derived[ident].expr)
        elif item is not None and item.kind == "output":
            found = self._output_nullable(self.plan.tables[item.owner], ident)
        self._nullable[ident] = found
        return found

    def _output_nullable(self, table: Table, ident: str) -> bool:
        if not table.hit_policy.single_hit:
            return table.aggregation is not None and table.aggregation.value != "COUNT"
        index = [o.id for o in table.outputs].index(ident)
        column = table.outputs[index]
        if column.default is None or self.nullable(column.default):
            return True
        return any(self.nullable(rule.outputs[index]) for rule in table.rules)


def _has_aggregate(node: object) -> bool:
    if (
        isinstance(node, Call)
        and FUNCTIONS.get(node.func)
        and FUNCTIONS[node.func].aggregate
    ):
        return True
    return any(_has_aggregate(child) for child in children(node))


# ---------------------------------------------------------------- showing values


def show(value: object) -> str:
    """A value as county staff write it in a cell."""
    if value is None:
        return "空值"
    if value == OTHER_TEXT:
        return "（其他文本）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return (
            format(value.normalize(), "f")
            if value == value.to_integral()
            else format(value, "f")
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(show(v) for v in value) + "]"
    return str(value)


def plain(value: object) -> object:
    """A value for a JSON record and a contract-shaped household."""
    if value == OTHER_TEXT:
        return "其他"
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


# ---------------------------------------------------------------- one table, as boxes


@dataclass
class Column:
    """An input column cut into segments, with each rule's cell as a mask."""

    label: str
    domain: Domain
    masks: list[Mask | None]  # None: the cell depends on household values
    opaque: str | None = None  # the first cell that cannot be analysed


@dataclass
class View:
    """A decision table as boxes over its columns' domains."""

    table: Table
    columns: list[Column]
    cover: list[Box | None]  # each rule's region, unknown cells as "anything"
    exact: list[Box | None]  # the same where every cell is known, else None

    @property
    def universe(self) -> Box:
        return tuple(c.domain.full for c in self.columns)

    def values(self, box: Box) -> list[object]:
        return witness(box, [c.domain for c in self.columns])


def view_of(county: County, table: Table) -> View:
    columns = [_column(county, table, j) for j in range(len(table.inputs))]
    cover: list[Box | None] = []
    exact: list[Box | None] = []
    for r in range(len(table.rules)):
        masks = [c.masks[r] for c in columns]
        known = tuple(
            c.domain.full if m is None else m
            for c, m in zip(columns, masks, strict=True)
        )
        empty = 0 in known
        cover.append(None if empty else known)
        exact.append(None if empty or None in masks else known)
    return View(table, columns, cover, exact)


def _column(county: County, table: Table, j: int) -> Column:
    column = table.inputs[j]
    cells = [rule.tests[j] for rule in table.rules]
    opaque = [not county.is_constant(cell) for cell in cells]
    if column.dtype.kind is Kind.LIST:
        opaque = [not isinstance(cell, AnyTest) for cell in cells]
    cuts = [
        county.value(o)
        for cell, o_ in zip(cells, opaque, strict=True)
        if not o_
        for o in _operands(cell)
    ]
    domain = _domain(county, column.dtype, column.expr, cuts)
    masks: list[Mask | None] = []
    for cell, unknown in zip(cells, opaque, strict=True):
        masks.append(
            None
            if unknown
            else domain.mask_of(functools.partial(_passes, county, cell))
        )
    first = next((r for r, unknown in enumerate(opaque) if unknown), None)
    label = column.text
    return Column(
        label,
        domain,
        masks,
        None if first is None else table.rules[first].test_texts[j],
    )


def _operands(test: Test) -> Iterator[Expr]:
    match test:
        case Compare(_, operand):
            yield operand
        case Interval(low, _, high, _):
            yield low
            yield high
        case Disjunction(tests):
            for inner in tests:
                yield from _operands(inner)
        case Negation(tests):
            yield from _operands(tests)


def _domain(county: County, dtype: DType, expr: Expr, cuts: list[object]) -> Domain:
    nullable = county.nullable(expr)
    if dtype.kind is Kind.LIST:
        return listed_domain([], nullable=True)
    if dtype.kind is Kind.DATE:
        dates = [c for c in cuts if isinstance(c, date)]
        return ordered_domain(
            dates, Grid(Decimal(1), is_date=True), county.as_of, nullable
        )
    if dtype.is_numeric:
        numbers = [
            c for c in cuts if isinstance(c, Decimal | int) and not isinstance(c, bool)
        ]
        return ordered_domain(numbers, _grid(county, dtype, expr), Decimal(0), nullable)
    if dtype.kind is Kind.BOOLEAN:
        return listed_domain([False, True], nullable)
    if dtype.kind is Kind.ENUM:
        return listed_domain(list(dtype.values), nullable)
    texts = list(dict.fromkeys(c for c in cuts if isinstance(c, str)))
    return listed_domain([*texts, OTHER_TEXT], nullable)


def _grid(county: County, dtype: DType, expr: Expr) -> Grid:
    scale = dtype.scale or 0
    item = county.plan.items.get(expr.name) if isinstance(expr, Name) else None
    if item is not None and item.dtype.is_numeric:
        scale = max(scale, item.dtype.scale or 0)
    return Grid(Decimal(1).scaleb(-scale))


def matches(county: County, rule: Rule, values: list[object]) -> bool:
    """Whether the interpreter says the rule matches these input values."""
    return all(
        county.test(t, v) is True for t, v in zip(rule.tests, values, strict=True)
    )


# ---------------------------------------------------------------- findings


@dataclass(frozen=True)
class Finding:
    """A diagnostic before it is given to a county's report."""

    code: str
    message: str
    location: Location
    details: tuple[tuple[str, object], ...] = ()


def finding(code: str, message: str, location: Location, **details: object) -> Finding:
    return Finding(code, message, location, tuple(details.items()))


_CACHE: dict[tuple[object, ...], list[Finding]] = {}
# The workbook objects a structure key was made from, held so that their ids stay theirs.
_HELD: dict[tuple[int, ...], tuple[object, ...]] = {}


def structure_key(county: County) -> tuple[int, ...]:
    """Counties whose rulebooks hold the same table, derived-value and field objects
    (the province's, unless a county overrides them) bind them alike."""
    book = county.plan.rulebook
    objects = (*book.tables.values(), *book.derived.values(), *book.fields.values())
    key = tuple(id(o) for o in objects)
    if key not in _HELD:
        if len(_HELD) > _CACHE_LIMIT:
            _HELD.clear()
            _CACHE.clear()
        _HELD[key] = objects
    return key


def constants_key(county: County, names: list[str]) -> tuple[object, ...]:
    return tuple(
        (n, type(county.env.get(n)).__name__, county.env.get(n))
        for n in names
        if n in county.constants
    )


def _referenced(table: Table) -> list[str]:
    found = {
        n
        for rule in table.rules
        for node in (*rule.tests, *rule.outputs)
        for n in names_in(node)
    }
    found |= {n for c in table.outputs if c.default for n in names_in(c.default)}
    return sorted(found)


def _table_findings(county: County, table: Table) -> list[Finding]:
    structure = structure_key(county)
    names = _CACHE.get(("names", structure, table.id))
    if names is None:
        names = _CACHE[("names", structure, table.id)] = _referenced(table)  # type: ignore[assignment]
    key = ("table", structure, table.id, constants_key(county, names), county.as_of)  # type: ignore[arg-type]
    found = _CACHE.get(key)
    if found is None:
        if len(_CACHE) > _CACHE_LIMIT:
            _CACHE.clear()
        found = _CACHE[key] = list(TableAnalysis(county, table).run())
    return found


class TableAnalysis:
    """Everything the analysis reports about one table in one county."""

    def __init__(self, county: County, table: Table) -> None:
        self.county = county
        self.table = table
        self.view = view_of(county, table)
        self.name = f"决策表「{table.id}」" + (
            f"（{table.title}）" if table.title else ""
        )

    def run(self) -> Iterator[Finding]:
        yield from self.unanalysable()
        yield from self.empty_conditions()
        if not self.table.hit_policy.single_hit:
            return  # a list policy may overlap, and an empty list is a normal answer
        yield from self.gaps()
        if self.table.hit_policy in (HitPolicy.UNIQUE, HitPolicy.ANY):
            yield from self.overlaps()
        else:
            yield from self.shadowed()

    # ------------------------------------------------------------ W503, W502

    def unanalysable(self) -> Iterator[Finding]:
        for j, column in enumerate(self.view.columns):
            if column.opaque is None:
                continue
            source = self.table.inputs[j]
            if source.dtype.kind is Kind.LIST:
                why = "列表类型的输入无法按取值分析"
            else:
                why = (
                    f"条件「{column.opaque}」引用了随家庭变化的值，不是标准参数或字面值"
                )
            yield finding(
                "W503",
                f"{self.name}的输入列「{column.label}」无法分析：{why}",
                source.location,
                found=column.opaque,
                expected="只与标准参数、字面值比较的条件，例如 < 低保标准",
                hint="缺口分析把这些条件当作“可能成立”，重叠与遮蔽分析不使用含这些条件的规则",
                table=self.table.id,
                column=column.label,
            )

    def empty_conditions(self) -> Iterator[Finding]:
        for r, rule in enumerate(self.table.rules):
            for j, column in enumerate(self.view.columns):
                mask = column.masks[r]
                if mask is None:
                    continue
                atom = self._empty_atom(rule.tests[j], column.domain)
                if atom is None and mask != 0:
                    continue
                text = render(atom) if atom is not None else rule.test_texts[j]
                yield finding(
                    "W502",
                    f"{self.name}规则「{rule.id}」的条件「{text}」代入标准后不包含任何取值"
                    f"{self._substituted(atom or rule.tests[j])}"
                    + ("，该规则永远不会命中" if mask == 0 else ""),
                    rule.test_locations[j],
                    found=rule.test_texts[j],
                    expected="至少包含一个取值的条件",
                    hint="检查区间两端的标准参数取值，或删除这条规则",
                    rule=rule.id,
                    table=self.table.id,
                )

    def _empty_atom(self, test: Test, domain: Domain) -> Test | None:
        match test:
            case Compare() | Interval():
                empty = domain.mask_of(lambda v: self.county.test(test, v) is True) == 0
                return test if empty else None
            case Disjunction(tests):
                return next(
                    (a for t in tests if (a := self._empty_atom(t, domain))), None
                )
            case Negation(tests):
                return self._empty_atom(tests, domain)
        return None

    def _substituted(self, test: Test) -> str:
        names = list(dict.fromkeys(n for n in names_in(test) if n != AS_OF))
        if not names:
            return ""
        parts = [
            f"{self.county.name_cn(n)} = {show(self.county.env.get(n))}" for n in names
        ]
        return "（" + "，".join(parts) + "）"

    # ------------------------------------------------------------ gaps

    def gaps(self) -> Iterator[Finding]:
        view = self.view
        domains = [c.domain for c in view.columns]
        boxes = [
            run
            for box in uncovered(view.universe, view.cover)
            for run in split_runs(box, domains)
        ]
        checked = [box for box in boxes if self._checked_gap(view.values(box))]
        boundary = [b for box in checked for b in self._boundary(box)]
        table = self.table
        defaults = all(c.default is not None for c in table.outputs)
        if table.accepted_gap is not None:
            yield self._accepted(checked, boundary)
        elif defaults:
            yield from self._listed_gaps(boundary, boundary=True)
            if checked:
                yield self._default_gaps(checked)
        else:
            on_boundary = {box for _, box in boundary}
            listed: list[tuple[int | None, Box]] = [
                (None, box) for box in checked if box not in on_boundary
            ]
            yield from self._listed_gaps(
                [*listed, *boundary],
                boundary=False,
            )

    def _checked_gap(self, values: list[object]) -> bool:
        if any(matches(self.county, rule, values) for rule in self.table.rules):
            logger.warning(
                "analysis: gap witness %s of %s matched a rule", values, self.table.id
            )
            return False
        return True

    def _boundary(self, box: Box) -> Iterator[tuple[int, Box]]:
        """The parts of a gap that sit on one value between two covered neighbours."""
        view = self.view
        for j, column in enumerate(view.columns):
            segments = column.domain.segments
            if not column.domain.ordered:
                continue
            for s in bits(box[j]):
                if not segments[s].point or segments[s].missing or s == 0:
                    continue
                if s + 1 >= len(segments) or segments[s + 1].missing:
                    continue
                remaining = [_with(box, j, 1 << s)]
                for neighbour in (s - 1, s + 1):
                    for hole in uncovered(_with(box, j, 1 << neighbour), view.cover):
                        hole = _with(hole, j, 1 << s)
                        remaining = [
                            p for part in remaining for p in subtract(part, hole)
                        ]
                for part in merge(remaining):
                    if any(
                        m & ~c.domain.null == 0
                        for c, m in zip(view.columns, part, strict=True)
                    ):
                        continue  # a gap only for a missing input is about missing data
                    if self._checked_gap(view.values(part)):
                        yield j, part

    def _listed_gaps(
        self, gaps: Sequence[tuple[int | None, Box]], boundary: bool
    ) -> Iterator[Finding]:
        for j, box in gaps[:MAX_LISTED]:
            yield self._gap(box, j)
        if len(gaps) > MAX_LISTED:
            yield finding(
                "E501",
                f"{self.name}另有 {len(gaps) - MAX_LISTED} 处"
                + ("分界值上的" if boundary else "")
                + "缺口未列出",
                self.table.location,
                table=self.table.id,
            )

    def _gap(self, box: Box, on: int | None) -> Finding:
        values = self.view.values(box)
        case = self.describe(box, values)
        if on is not None:
            column = self.view.columns[on]
            head = (
                f"{self.name}在分界值上有缺口：{column.label} 恰好等于 {show(values[on])} 时"
                f"没有规则命中（{case.region or '其他输入任意'}），而略低和略高的值都有规则命中"
            )
            hint = "检查相邻规则的 < 与 <=、( 与 [ 是否漏掉了这个值；若有意不覆盖，在标题行写 接受缺口=原因"
        else:
            head = f"{self.name}有规则未覆盖的情形：{case.region or '任意输入'}"
            hint = "补充规则，或在标题行写 接受缺口=原因 声明这是有意的"
        default = self._default_text()
        return finding(
            "E501",
            f"{head}；例如 {case.text}{case.note}"
            + (f"，此时取默认值 {default}" if default else ""),
            self.table.location,
            found=case.text,
            expected="每种输入组合都有规则命中",
            hint=hint,
            table=self.table.id,
            witness=case.witness,
            household=case.household,
            derived=case.derived,
            region=case.region,
        )

    def _default_text(self) -> str:
        outputs = self.table.outputs
        if not all(c.default is not None for c in outputs):
            return ""
        return "、".join(
            f"{c.id} = {show(self.county.value(c.default))}" for c in outputs
        )

    def _accepted(self, gaps: list[Box], boundary: list[tuple[int, Box]]) -> Finding:
        reason = self.table.accepted_gap or ""
        if not gaps:
            summary = "；分析没有找到未覆盖的情形，可以删除该声明"
        else:
            case = self.describe(gaps[0], self.view.values(gaps[0]))
            summary = f"；分析找到 {len(gaps)} 处未覆盖的情形，例如 {case.text}"
        if boundary:
            j, box = boundary[0]
            values = self.view.values(box)
            summary += (
                f"；其中 {len(boundary)} 处恰在分界值上，例如 "
                f"{self.view.columns[j].label} = {show(values[j])}"
            )
        return finding(
            "I501",
            f"{self.name}声明接受缺口：{reason}{summary}",
            self.table.location,
            found=reason,
            table=self.table.id,
            gaps=len(gaps),
            boundary_gaps=len(boundary),
            accepted="declared",
        )

    def _default_gaps(self, gaps: list[Box]) -> Finding:
        cases = [self.describe(box, self.view.values(box)) for box in gaps[:3]]
        examples = "；".join(c.text for c in cases)
        return finding(
            "I501",
            f"{self.name}没有声明接受缺口，但每个输出都有默认值：{len(gaps)} 处规则未覆盖的"
            f"情形取默认值 {self._default_text()}；例如 {examples}",
            self.table.location,
            found=cases[0].text,
            expected="每种输入组合都有规则命中，或在标题行声明 接受缺口=原因",
            hint="若是有意落入默认值，在标题行写 接受缺口=原因",
            table=self.table.id,
            gaps=len(gaps),
            accepted="default",
            witness=cases[0].witness,
        )

    def describe(self, box: Box, values: list[object]) -> Case:
        return describe(self.county, self.table, self.view.columns, box, values)

    # ------------------------------------------------------------ overlaps

    def overlaps(self) -> Iterator[Finding]:
        rules, view = self.table.rules, self.view
        found: list[Finding] = []
        count = 0
        for a in range(len(rules)):
            for b in range(a + 1, len(rules)):
                if view.exact[a] is None or view.exact[b] is None:
                    continue
                common = intersect(view.exact[a], view.exact[b])  # type: ignore[arg-type]
                if common is None:
                    continue
                overlap = self._overlap(a, b, common)
                if overlap is not None:
                    count += 1
                    if len(found) < 2 * MAX_LISTED:
                        found.append(overlap)
        yield from found
        if count > len(found):
            code = "E502" if self.table.hit_policy is HitPolicy.UNIQUE else "E503"
            yield finding(
                code,
                f"{self.name}另有 {count - len(found)} 对重叠的规则未列出",
                self.table.location,
                table=self.table.id,
            )

    def _overlap(self, a: int, b: int, box: Box) -> Finding | None:
        values = self.view.values(box)
        first, second = self.table.rules[a], self.table.rules[b]
        if not (
            matches(self.county, first, values) and matches(self.county, second, values)
        ):
            logger.warning(
                "analysis: overlap witness %s of %s did not match",
                values,
                self.table.id,
            )
            return None
        case = self.describe(box, values)
        pair = f"「{first.id}」（第 {first.row} 行）与「{second.id}」（第 {second.row} 行）"
        if self.table.hit_policy is HitPolicy.UNIQUE:
            code, what = "E502", f"{self.name}是 UNIQUE 表，但规则{pair}重叠"
        else:
            outputs = [self._outputs(rule, values) for rule in (first, second)]
            if outputs[0] == outputs[1]:
                return None
            code = "E503"
            shown = [show(o[0] if len(o) == 1 else o) for o in outputs]
            what = f"{self.name}是 ANY 表，规则{pair}重叠且输出不同（{shown[0]} 与 {shown[1]}）"
        return finding(
            code,
            f"{what}：例如 {case.text}{case.note} 时两条规则都命中",
            second.location,
            found=case.text,
            expected="命中同一情形的规则"
            + ("不能重叠" if code == "E502" else "输出相同"),
            hint="收窄其中一条规则的条件，或改用 FIRST/PRIORITY 命中策略",
            rule=f"{first.id}、{second.id}",
            table=self.table.id,
            witness=case.witness,
            household=case.household,
            derived=case.derived,
        )

    def _outputs(self, rule: Rule, values: list[object]) -> list[object]:
        env = dict(self.county.env)
        for column, value in zip(self.table.inputs, values, strict=True):
            if isinstance(column.expr, Name):
                env[column.expr.name] = value
        return [
            cast(self.county.value(expr, env), column.dtype)
            for expr, column in zip(rule.outputs, self.table.outputs, strict=True)
        ]

    # ------------------------------------------------------------ shadowed rules

    def shadowed(self) -> Iterator[Finding]:
        rules, view = self.table.rules, self.view
        keys = self._priorities()
        for i, rule in enumerate(rules):
            region = view.cover[i]
            if region is None or (keys is not None and keys[i] is None):
                continue
            earlier = [j for j in range(len(rules)) if self._before(j, i, keys)]
            hiders = [
                j
                for j in earlier
                if (other := view.exact[j]) is not None and intersect(other, region)
            ]
            if not hiders or not self._hidden(i, hiders):
                continue
            for j in reversed(list(hiders)):
                if len(hiders) > 1 and self._hidden(i, [h for h in hiders if h != j]):
                    hiders.remove(j)
            names = "、".join(
                f"「{rules[j].id}」（第 {rules[j].row} 行）" for j in hiders
            )
            how = (
                "排在前面的规则"
                if keys is None
                else "输出优先级更高（或相同而排在前面）的规则"
            )
            yield finding(
                "W501",
                f"{self.name}的规则「{rule.id}」永远不会被选中：它覆盖的情形都先由{how}{names}命中",
                rule.location,
                found=rule.id,
                expected="每条规则至少在一种情形下被选中",
                hint="删除这条规则，或调整规则顺序、收窄前面规则的条件",
                rule=rule.id,
                hidden_by=[rules[j].id for j in hiders],
                table=self.table.id,
            )

    def _priorities(self) -> list[tuple[int, ...] | None] | None:
        """Each rule's PRIORITY key (None where an output is not a constant)."""
        if self.table.hit_policy is not HitPolicy.PRIORITY:
            return None
        keys: list[tuple[int, ...] | None] = []
        for rule in self.table.rules:
            if all(self.county.is_constant(o) for o in rule.outputs):
                keys.append(
                    priority(self.table, [self.county.value(o) for o in rule.outputs])
                )
            else:
                keys.append(None)
        return keys

    @staticmethod
    def _before(j: int, i: int, keys: list[tuple[int, ...] | None] | None) -> bool:
        if keys is None:
            return j < i
        if j == i or keys[j] is None:
            return False
        return (keys[j], j) < (keys[i], i)  # type: ignore[operator]

    def _hidden(self, i: int, hiders: list[int]) -> bool:
        universe = self.view.cover[i]
        assert universe is not None
        return not uncovered(universe, [self.view.exact[j] for j in hiders])


def _with(box: Box, dim: int, mask: Mask) -> Box:
    return (*box[:dim], mask, *box[dim + 1 :])


# ---------------------------------------------------------------- witnesses


@dataclass
class Case:
    """A region and its witness, as text for messages and as records for tools."""

    region: str
    text: str
    note: str
    witness: dict[str, object]
    household: dict[str, object]
    derived: list[str]


def describe(
    county: County, table: Table, columns: list[Column], box: Box, values: list[object]
) -> Case:
    region = "、".join(
        _condition(c.label, c.domain, m)
        for c, m in zip(columns, box, strict=True)
        if m != c.domain.full
    )
    text = "、".join(
        f"{c.label} = {show(v)}" for c, v in zip(columns, values, strict=True)
    )
    household, derived = witness_household(
        county, table.level, [(col.expr, col.text) for col in table.inputs], values
    )
    note = (
        f"（{'、'.join(derived)} 为派生值或表达式，不是家庭直接填写的字段）"
        if derived
        else ""
    )
    return Case(
        region,
        text or "任意输入",
        note,
        {c.label: plain(v) for c, v in zip(columns, values, strict=True)},
        household,
        derived,
    )


def _condition(label: str, domain: Domain, mask: Mask) -> str:
    text = domain.render(mask, show)
    if domain.ordered and text[:1] in "<>=[(":
        return f"{label} {text}" if text[:1] in "<>=" else f"{label} 在 {text}"
    return f"{label} 为 {text}"


def witness_household(
    county: County,
    level: Level,
    inputs: Sequence[tuple[Expr, str]],
    values: list[object],
) -> tuple[dict[str, object], list[str]]:
    """A contract-shaped household holding the values of the inputs that are fields.

    Inputs that are derived values, table outputs or expressions cannot be written
    into a household directly; their labels are returned so messages can say so.
    """
    record: dict[str, object] = {}
    derived: list[str] = []
    fields = county.plan.rulebook.fields
    for (expr, label), value in zip(inputs, values, strict=True):
        field = fields.get(expr.name) if isinstance(expr, Name) else None
        if field is None:
            if isinstance(expr, Name) and expr.name in county.constants:
                continue
            derived.append(label)
            continue
        path = field.id
        target = record
        if field.level is Level.MEMBER:
            target = _first(record, "members")
        elif field.level is Level.EVENT:
            target = _first(record, "events")
            path = path.removeprefix("event.")
        _put(target, path, plain(value))
    return record, derived


def _first(record: dict[str, object], key: str) -> dict[str, object]:
    entries = record.setdefault(key, [{}])
    return entries[0]  # type: ignore[index, no-any-return]


def _put(record: dict[str, object], path: str, value: object) -> None:
    *parents, last = path.split(".")
    for part in parents:
        record = record.setdefault(part, {})  # type: ignore[assignment]
    record[last] = value


# ---------------------------------------------------------------- invariants: the sheet

INVARIANT_SHEETS = ("不变式", "invariants")
INVARIANT_COLUMNS = {
    "id": ("标识", "id"),
    "description": ("说明", "description"),
    "kind": ("种类", "kind"),
    "subject": ("对象", "subject"),
    "variable": ("变量", "variable"),
    "when": ("条件", "when"),
    "then": ("要求", "then", "requires"),
    "basis": ("依据", "basis"),
}
INVARIANT_KINDS = {
    "单调": "monotone",
    "monotone": "monotone",
    "要求": "requires",
    "蕴含": "requires",
    "requires": "requires",
}


@dataclass(frozen=True)
class Invariant:
    """One row of the province's 不变式 sheet, parsed (names not yet resolved)."""

    id: str
    description: str
    kind: str
    subject: Expr | None
    variable: Expr | None
    when: Expr | None
    then: Expr | None
    basis: str
    location: Location
    texts: tuple[tuple[str, str], ...]

    def text(self, key: str) -> str:
        return dict(self.texts).get(key, "")


_SHEETS: dict[
    tuple[str, tuple[object, ...]], tuple[list[Invariant], list[Finding]]
] = {}


def declared_invariants(path: str) -> tuple[list[Invariant], list[Finding]]:
    """The invariants a province workbook declares, and the problems in its sheet."""
    from compiler.read import read_workbook

    source = Path(path)
    if not source.exists():
        return [], []
    key = (str(source), _stamp(source))
    if key not in _SHEETS:
        raw, _ = read_workbook(
            source
        )  # the model pass has reported the file's problems
        sheet = raw.sheet(*INVARIANT_SHEETS)
        _SHEETS[key] = _parse_sheet(sheet) if sheet is not None else ([], [])
    return _SHEETS[key]


def _stamp(source: Path) -> tuple[object, ...]:
    files = sorted(source.glob("*.csv")) if source.is_dir() else [source]
    return tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files)


def _parse_sheet(sheet: RawSheet) -> tuple[list[Invariant], list[Finding]]:
    columns: dict[str, int] = {}
    for col in range(1, sheet.max_col + 1):
        text = sheet.text(1, col).strip().lower()
        for key, names in INVARIANT_COLUMNS.items():
            if text in names and key not in columns:
                columns[key] = col
    problems: list[Finding] = []
    found: list[Invariant] = []
    for row in range(2, sheet.max_row + 1):
        cells = {k: sheet.get(row, c) for k, c in columns.items()}
        if all(cell is None for cell in cells.values()):
            continue
        invariant = _parse_row(sheet, row, cells, problems)
        if invariant is not None:
            found.append(invariant)
    return found, problems


def _parse_row(
    sheet: RawSheet, row: int, cells: dict[str, Cell | None], problems: list[Finding]
) -> Invariant | None:
    texts = {k: c.text.strip() for k, c in cells.items() if c is not None}
    kind = INVARIANT_KINDS.get(texts.get("kind", "").lower())
    where = sheet.location(row, 1)
    if kind is None:
        cell = cells.get("kind")
        problems.append(
            finding(
                "E306",
                f"不变式「{texts.get('id', row)}」的种类无法识别",
                cell.location if cell else where,
                found=texts.get("kind", "（空）"),
                expected="单调 或 要求（monotone、requires）",
                hint="见 docs/analysis.md 的“不变式”一节",
            )
        )
        return None
    parsed: dict[str, Expr | None] = {}
    for key in ("subject", "variable", "when", "then"):
        cell = cells.get(key)
        if cell is None or not texts.get(key):
            parsed[key] = None
            continue
        try:
            parsed[key] = parse_expression(texts[key])
        except ParseError as error:
            problems.append(
                finding(
                    "E301",
                    f"不变式的表达式无法识别：{error.message}",
                    cell.location,
                    found=texts[key],
                    expected="表达式，例如 group = dibao",
                )
            )
            return None
    needed = ("subject", "variable") if kind == "monotone" else ("then",)
    missing = [INVARIANT_COLUMNS[k][0] for k in needed if parsed[k] is None]
    if missing:
        problems.append(
            finding(
                "E108",
                f"不变式「{texts.get('id', row)}」缺少{'、'.join(missing)}",
                where,
                expected="单调：对象 与 变量；要求：要求（条件可空）",
            )
        )
        return None
    return Invariant(
        texts.get("id", f"R{row}"),
        texts.get("description", ""),
        kind,
        parsed["subject"],
        parsed["variable"],
        parsed["when"],
        parsed["then"],
        texts.get("basis", ""),
        where,
        tuple(texts.items()),
    )


def check_invariants(county: County) -> list[Finding]:
    """The findings for every invariant the province declares, in this county."""
    sources = county.plan.rulebook.sources
    if not sources:
        return []
    invariants, problems = declared_invariants(sources[-1])
    found = list(problems)
    bindings = []
    for invariant in invariants:
        bound = _Binding(county, invariant)
        found.extend(bound.problems)
        if not bound.problems:
            bindings.append(bound)
    if not bindings:
        return found
    structure = structure_key(county)
    names_key = ("invariant names", structure, tuple(b.invariant for b in bindings))
    names = _CACHE.get(names_key)
    if names is None:
        model = Model(
            county, _roots(bindings), _variables(bindings), _expressions(bindings)
        )
        names = _CACHE[names_key] = model.constant_names()  # type: ignore[assignment]
    key = (*names_key, constants_key(county, names), county.as_of)  # type: ignore[arg-type]
    if key not in _CACHE:
        try:
            _CACHE[key] = Proof(county, bindings).run()
        except (TypeError, ArithmeticError) as error:  # ill-typed cells (see E303)
            _CACHE[key] = [
                _not_analysed(
                    b.invariant.location, f"不变式「{b.invariant.id}」", error
                )
                for b in bindings
            ]
    return found + _CACHE[key]


def _roots(bindings: list[_Binding]) -> list[str]:
    return list(dict.fromkeys(name for bound in bindings for name in bound.roots()))


def _expressions(bindings: list[_Binding]) -> list[Expr]:
    return [e for b in bindings for e in (b.when, b.then) if e is not None]


def _variables(bindings: list[_Binding]) -> list[str]:
    return [
        b.variable for b in bindings if b.variable and b.invariant.kind == "monotone"
    ]


class _Binding:
    """An invariant's names resolved to the plan's identifiers (enum words to values)."""

    def __init__(self, county: County, invariant: Invariant) -> None:
        self.county = county
        self.invariant = invariant
        self.problems: list[Finding] = []
        items = county.plan.items
        self.aliases = {ident: ident for ident in items}
        for item in items.values():
            self.aliases.setdefault(item.name_cn, item.id)
        self.subject = self.expr(invariant.subject, "subject")
        self.variable_expr = self.expr(invariant.variable, "variable")
        self.when = self.expr(invariant.when, "when")
        self.then = self.expr(invariant.then, "then")
        self.variable = (
            self.variable_expr.name if isinstance(self.variable_expr, Name) else None
        )
        if invariant.kind == "monotone":
            self.check_monotone()

    def roots(self) -> list[str]:
        nodes = [
            n for n in (self.subject, self.variable_expr, self.when, self.then) if n
        ]
        return list(dict.fromkeys(name for node in nodes for name in names_in(node)))

    def expr(self, node: Expr | None, key: str) -> Expr | None:
        if node is None:
            return None
        return self.resolve(node, None, key)

    def resolve(self, node: Expr, enum: DType | None, key: str) -> Expr:
        match node:
            case Name(name):
                if (
                    enum is not None
                    and name in enum.values
                    and name not in self.aliases
                ):
                    return Literal(name)
                ident = self.aliases.get(name)
                if ident is None:
                    self.problems.append(
                        finding(
                            "E302",
                            f"不变式「{self.invariant.id}」引用的名称「{name}」没有定义",
                            self.invariant.location,
                            found=name,
                            expected="字段、标准参数、派生值或决策表输出的标识或中文名称",
                        )
                    )
                    return Literal(None)
                return Name(ident)
            case Binary(op, left, right) if op in ("=", "!="):
                hint = self._enum(left) or self._enum(right)
                return Binary(
                    op, self.resolve(left, hint, key), self.resolve(right, hint, key)
                )
            case Binary(op, left, right):
                return Binary(
                    op, self.resolve(left, None, key), self.resolve(right, None, key)
                )
            case Unary(op, operand):
                return Unary(op, self.resolve(operand, None, key))
            case If(cond, then, otherwise):
                return If(
                    *(self.resolve(n, None, key) for n in (cond, then, otherwise))
                )
            case Call(func, args):
                return Call(func, tuple(self.resolve(a, None, key) for a in args))
        return node

    def _enum(self, node: Expr) -> DType | None:
        if isinstance(node, Name) and node.name in self.aliases:
            dtype = self.county.plan.items[self.aliases[node.name]].dtype
            return dtype if dtype.kind is Kind.ENUM else None
        return None

    def check_monotone(self) -> None:
        if self.problems:
            return
        subject = self.subject
        items = self.county.plan.items
        if self.when is not None or self.then is not None:
            self.problems.append(
                self._unsupported("单调不变式只写 对象 与 变量，条件、要求应留空")
            )
        elif not (
            isinstance(subject, Name) and items[subject.name].dtype.kind is Kind.ENUM
        ):
            self.problems.append(
                self._unsupported(
                    "单调不变式的对象应为枚举类型的决策表输出或派生值，例如 group"
                )
            )
        elif self.variable is None or not items[self.variable].dtype.is_numeric:
            self.problems.append(
                self._unsupported(
                    "单调不变式的变量应为数值输入，例如 income_per_capita"
                )
            )

    def _unsupported(self, why: str) -> Finding:
        return finding(
            "E306",
            f"不变式「{self.invariant.id}」写法不支持：{why}",
            self.invariant.location,
            found=self.invariant.text("subject") or self.invariant.text("then"),
        )


# ---------------------------------------------------------------- invariants: the model
#
# An invariant is proved over "leaves": household fields, derived values that are not
# piecewise constant (income per capita: arithmetic over members), table inputs written
# as such expressions, and conditions that compare with household values. Each leaf is
# cut into segments by every constant it is compared with; everything else (asset
# checks, groups) is a function of the leaves that is constant on each box of segments.
# Leaves used together form a cluster; a cluster is replaced by the few distinct tuples
# of values its items take (the asset leaves become the 2^3 answers of the three asset
# tables), so that a proof handles a few hundred boxes, not the product of all cuts.

_ERROR = "\x00错误"  # the value of a table whose UNIQUE or ANY contract broke


@dataclass
class Leaf:
    key: str
    label: str
    domain: Domain
    name: str | None = None  # the item, for leaves that are fields or derived values


@dataclass
class Cluster:
    """Leaves used together, and the distinct tuples of values their parts take."""

    leaves: list[str]
    parts: list[str]  # atomic parts: a leaf key or a unit ("derived:x", "table:t")
    tuples: list[tuple[object, ...]]
    boxes: list[list[Box]]  # per tuple, the boxes of leaf segments that give it


class Model:
    """The items an invariant needs, as functions of independent leaves."""

    def __init__(
        self,
        county: County,
        roots: list[str],
        variables: list[str],
        expressions: Sequence[Expr] = (),
    ) -> None:
        self.county = county
        self.plan = county.plan
        self.kinds: dict[str, str] = {}
        self.pc_tables: dict[str, bool] = {}
        self.leaves: dict[str, Leaf] = {}
        self.cuts: dict[str, list[object]] = {}
        self.leaf_types: dict[str, tuple[DType, Expr]] = {}
        self.parts: dict[str, list[str]] = {}  # unit -> its parts (names and leaf keys)
        self.order: list[str] = []  # units, dependencies first
        self.roots = [r for r in roots if self.kind(r) != "const"]
        self.variables = variables
        for root in self.roots:
            self.visit(root)
        self.expressions = list(expressions)
        for expr in self.expressions:
            self.expr_parts(expr)  # the invariant's own comparisons cut the leaves too
        for key, (dtype, expr) in self.leaf_types.items():
            domain = (
                listed_domain([False, True], nullable=False)
                if key.startswith("§cell")
                else _domain(county, dtype, expr, self.cuts.get(key, []))
            )
            name = expr.name if isinstance(expr, Name) else None
            self.leaves[key] = Leaf(key, self._label(key, expr), domain, name)

    def constant_names(self) -> list[str]:
        found = {
            n
            for e in self.expressions
            for n in names_in(e)
            if n in self.county.constants
        }
        for unit in self.order:
            for node in self._nodes(unit):
                found.update(n for n in names_in(node) if n in self.county.constants)
        return sorted(found)

    # ------------------------------------------------------------ what each name is

    def kind(self, name: str) -> str:
        """``const``, ``leaf`` (varies freely) or ``item`` (a function of leaves)."""
        if name in self.county.constants:
            return "const"
        if name in self.kinds:
            return self.kinds[name]
        self.kinds[name] = "leaf"  # a cycle is a leaf
        item = self.plan.items.get(name)
        found = "leaf"
        if item is not None and item.kind == "derived":
            found = "item" if self.pc(self.plan.derived[name].expr) else "leaf"
        elif item is not None and item.kind == "output":
            found = "item" if self.table_ok(self.plan.tables[item.owner]) else "leaf"
        self.kinds[name] = found
        return found

    def pc(self, node: Expr) -> bool:
        """Whether the value is constant on every box of leaf segments."""
        match node:
            case Literal():
                return True
            case Name(name):
                return self.kind(name) != "leaf"
            case Binary(op, left, right) if op in ("=", "!=", "<", "<=", ">", ">="):
                if self._leaf_against_constant(
                    left, right
                ) or self._leaf_against_constant(right, left):
                    return True
                return self.pc(left) and self.pc(right)
            case Call("is_null", (Name(name),)):
                return True
            case Call(func, _) if FUNCTIONS.get(func) and FUNCTIONS[func].aggregate:
                return False
        return all(self.pc(child) for child in children(node))  # type: ignore[arg-type]

    def _leaf_against_constant(self, leaf: Expr, other: Expr) -> bool:
        return (
            isinstance(leaf, Name)
            and self.kind(leaf.name) == "leaf"
            and self.county.is_constant(other)
        )

    def table_ok(self, table: Table) -> bool:
        if table.id not in self.pc_tables:
            self.pc_tables[table.id] = False
            outputs = [o for rule in table.rules for o in rule.outputs]
            outputs += [c.default for c in table.outputs if c.default is not None]
            self.pc_tables[table.id] = all(self.pc(o) for o in outputs)
        return self.pc_tables[table.id]

    def unit(self, name: str) -> str:
        item = self.plan.items[name]
        return f"table:{item.owner}" if item.kind == "output" else f"derived:{name}"

    # ------------------------------------------------------------ discovery

    def visit(self, name: str) -> None:
        kind = self.kind(name)
        if kind == "leaf":
            item = self.plan.items.get(name)
            dtype = item.dtype if item else DType(Kind.TEXT)
            self.leaf_types.setdefault(name, (dtype, Name(name)))
            return
        if kind == "const":
            return
        unit = self.unit(name)
        if unit in self.parts:
            return
        self.parts[unit] = []
        if unit.startswith("derived:"):
            parts = self.expr_parts(self.plan.derived[name].expr)
        else:
            parts = self.table_parts(self.plan.tables[unit[6:]])
        self.parts[unit] = list(dict.fromkeys(parts))
        self.order.append(unit)

    def expr_parts(self, node: Expr) -> list[str]:
        for leaf, other in _comparisons(node):
            if self._leaf_against_constant(leaf, other):
                self.cuts.setdefault(leaf.name, []).append(self.county.value(other))  # type: ignore[union-attr]
        found = [n for n in names_in(node) if self.kind(n) != "const"]
        for name in found:
            self.visit(name)
        return found

    def table_parts(self, table: Table) -> list[str]:
        parts: list[str] = []
        for j, column in enumerate(table.inputs):
            key = self.column_part(table, j)
            if key is None:
                continue
            parts.append(key)
            if self.kind(key) == "leaf" or key.startswith("§"):
                for rule in table.rules:
                    if self.county.is_constant(rule.tests[j]):
                        self.cuts.setdefault(key, []).extend(
                            self.county.value(o) for o in _operands(rule.tests[j])
                        )
            for r, rule in enumerate(table.rules):
                if not self.county.is_constant(rule.tests[j]):
                    cell = f"§cell:{table.id}:{r}:{j}"
                    self.leaf_types[cell] = (
                        DType(Kind.BOOLEAN),
                        Literal(rule.test_texts[j]),
                    )
                    parts.append(cell)
        for rule in table.rules:
            for output in rule.outputs:
                parts.extend(self.expr_parts(output))
        for output_column in table.outputs:
            if output_column.default is not None:
                parts.extend(self.expr_parts(output_column.default))
        return parts

    def column_part(self, table: Table, j: int) -> str | None:
        """The part an input column reads: a name, a column leaf, or None (constant)."""
        expr = table.inputs[j].expr
        if self.county.is_constant(expr):
            return None
        if isinstance(expr, Name):
            self.visit(expr.name)
            return expr.name
        key = f"§col:{table.id}:{j}"
        self.leaf_types[key] = (table.inputs[j].dtype, expr)
        return key

    def _nodes(self, unit: str) -> list[Expr | Test]:
        if unit.startswith("derived:"):
            return [self.plan.derived[unit[8:]].expr]
        table = self.plan.tables[unit[6:]]
        nodes: list[Expr | Test] = [c.expr for c in table.inputs]
        nodes += [c.default for c in table.outputs if c.default is not None]
        for rule in table.rules:
            nodes += [*rule.tests, *rule.outputs]
        return nodes

    def _label(self, key: str, expr: Expr) -> str:
        if key.startswith("§cell:"):
            _, table, rule, column = key.split(":")
            tbl = self.plan.tables[table]
            text = expr.value if isinstance(expr, Literal) else render(expr)
            return f"{table} 表规则「{tbl.rules[int(rule)].id}」中 {tbl.inputs[int(column)].text} 的条件「{text}」成立"
        if key.startswith("§col:"):
            _, table, column = key.split(":")
            return self.plan.tables[table].inputs[int(column)].text
        return key

    # ------------------------------------------------------------ atoms and clusters

    def is_leaf(self, part: str) -> bool:
        return part.startswith("§") or self.kind(part) == "leaf"

    def atomic(self, unit: str) -> bool:
        return all(self.is_leaf(p) for p in self.parts[unit])

    def leaves_under(self, names: list[str]) -> set[str]:
        """Every leaf the names depend on, through derived values and tables."""
        found: set[str] = set()
        seen: set[str] = set()
        stack = list(names)
        while stack:
            name = stack.pop()
            if name in seen or self.kind(name) == "const":
                continue
            seen.add(name)
            if self.is_leaf(name):
                found.add(name)
            else:
                stack.extend(self.parts[self.unit(name)])
        return found

    def leaves_of(self, atom: str) -> list[str]:
        return (
            [atom]
            if atom in self.leaves
            else [p for p in self.parts[atom] if self.is_leaf(p)]
        )


def _comparisons(node: object) -> Iterator[tuple[Expr, Expr]]:
    """Every (left, right) and (right, left) pair compared inside an expression."""
    if isinstance(node, Binary) and node.op in ("=", "!=", "<", "<=", ">", ">="):
        yield node.left, node.right
        yield node.right, node.left
    for child in children(node):
        yield from _comparisons(child)


# ---------------------------------------------------------------- invariants: the proof

Piece = tuple[Box, object]
_MAX_PIECES = 200_000  # boxes one step of a proof may build before giving up


class Unprovable(Exception):
    """The invariant is beyond what the analysis can prove exactly."""


@dataclass
class Space:
    """Dimensions to sweep: each has segment values; ``at`` says where a part's value is
    (a dimension, and a position in its tuples, or None when the value is the segment's)."""

    dims: list[list[object]]
    at: dict[str, tuple[int, int | None]]

    @property
    def full(self) -> Box:
        return tuple((1 << len(d)) - 1 for d in self.dims)

    def mask(self, dim: int, accept: Callable[[object], bool]) -> Mask:
        return sum(1 << s for s, value in enumerate(self.dims[dim]) if accept(value))


class Proof:
    """Proves a county's invariants, or finds checked counterexamples; the invariants
    share one model, so the leaves and clusters are built once."""

    def __init__(self, county: County, bindings: list[_Binding]) -> None:
        self.county = county
        self.bindings = bindings
        self.bound = bindings[0]
        self.invariant = self.bound.invariant
        self.model = Model(
            county, _roots(bindings), _variables(bindings), _expressions(bindings)
        )
        self.tables = {
            u[6:]: self._rewrite(self.plan_table(u[6:]))
            for u in self.model.order
            if u.startswith("table:")
        }
        steps = [
            ("derived" if u.startswith("derived:") else "table", u.split(":", 1)[1])
            for u in self.model.order
        ]
        self.chain = self._interpreter(steps)
        self.single: dict[str, Interpreter] = {}
        self.values: dict[object, object] = {}
        self.results: dict[object, tuple[object, object]] = {}
        self.outputs: dict[str, list[tuple[object, ...]] | None] = {}
        self.memo: dict[str, list[tuple[Box, dict[str, object]]]] = {}
        self.rule_boxes: dict[
            str,
            tuple[
                Space,
                list[tuple[Box | None, list[tuple[str, Callable[[object], bool]]]]],
            ],
        ] = {}
        self.clusters: list[Cluster] = []
        self.where: dict[str, tuple[int, int]] = {}
        self.space: Space | None = None

    def plan_table(self, ident: str) -> Table:
        return self.county.plan.tables[ident]

    def run(self) -> list[Finding]:
        found: list[Finding] = []
        try:
            self.build_clusters()
        except Unprovable as why:
            return [self.unprovable(bound, str(why)) for bound in self.bindings]
        for bound in self.bindings:
            self.bound, self.invariant = bound, bound.invariant
            try:
                found.extend(
                    self.monotone()
                    if self.invariant.kind == "monotone"
                    else self.requires()
                )
            except Unprovable as why:
                found.append(self.unprovable(bound, str(why)))
        return found

    def unprovable(self, bound: _Binding, why: str) -> Finding:
        invariant = bound.invariant
        return finding(
            "W503",
            f"不变式「{invariant.id}」无法精确证明：{why}",
            invariant.location,
            found=invariant.text("then") or invariant.text("subject"),
            hint="简化所涉及的条件，或把该不变式拆成几条",
        )

    # ------------------------------------------------------------ evaluation

    def _rewrite(self, table: Table) -> Table:
        """The table as the proof evaluates it: column leaves read their own name, and a
        cell compared with household values becomes its own yes/no column."""
        inputs = []
        for j, column in enumerate(table.inputs):
            part = self.model.column_part(table, j)
            expr = Name(part) if part and part.startswith("§col:") else column.expr
            inputs.append(dataclasses.replace(column, expr=expr))
        rules = [
            dataclasses.replace(rule, tests=list(rule.tests)) for rule in table.rules
        ]
        for r, rule in enumerate(table.rules):
            for j, test in enumerate(rule.tests):
                if self.county.is_constant(test):
                    continue
                key = f"§cell:{table.id}:{r}:{j}"
                inputs.append(
                    dataclasses.replace(
                        table.inputs[j], expr=Name(key), dtype=DType(Kind.BOOLEAN)
                    )
                )
                rules[r].tests[j] = AnyTest()
                for other in rules:
                    other.tests.append(
                        Compare("=", Literal(True)) if other is rules[r] else AnyTest()
                    )
        return dataclasses.replace(
            table, inputs=inputs, rules=rules, level=Level.HOUSEHOLD
        )

    def _interpreter(self, order: list[tuple[str, str]]) -> Interpreter:
        plan = self.county.plan
        derived = {
            ident: dataclasses.replace(plan.derived[ident], level=Level.HOUSEHOLD)
            for kind, ident in order
            if kind == "derived"
        }
        tables = {ident: self.tables[ident] for kind, ident in order if kind == "table"}
        restricted = dataclasses.replace(
            plan, derived=derived, tables=tables, order=order
        )
        return Interpreter(
            restricted, self.county.as_of, self.county.interpreter.calendar
        )

    def evaluate(
        self, interpreter: Interpreter, values: dict[str, object]
    ) -> dict[str, object] | None:
        try:
            return interpreter.evaluate(values, [], []).household
        except EvaluationError:
            return None

    def unit_value(self, unit: str, values: dict[str, object]) -> object:
        """A unit's value (a table's outputs as a tuple) where its parts have ``values``."""
        if unit.startswith("derived:"):
            return _hashable(
                self.county.value(
                    self.county.plan.derived[unit[8:]].expr,
                    {**self.county.env, **values},
                )
            )
        key = (unit, tuple(sorted((k, _hashable(v)) for k, v in values.items())))
        if key in self.values:
            return self.values[key]
        if unit not in self.single:
            self.single[unit] = self._interpreter([("table", unit[6:])])
        result = self.evaluate(self.single[unit], {**self.county.env, **values})
        outputs = self.tables[unit[6:]].outputs
        found = tuple(
            _ERROR if result is None else _hashable(result.get(o.id)) for o in outputs
        )
        self.values[key] = found
        return found

    def select(self, name: str, value: object) -> object:
        """A name's value out of its unit's value (one output of a table's tuple)."""
        item = self.county.plan.items.get(name)
        if item is None or item.kind != "output" or self.model.is_leaf(name):
            return value
        outputs = [o.id for o in self.tables[item.owner].outputs]
        return value[outputs.index(name)]  # type: ignore[index]

    # ------------------------------------------------------------ clusters of leaves

    def atom_of(self, part: str) -> str | None:
        """The atomic part a name stands for: itself (a leaf) or its atomic unit."""
        if self.model.is_leaf(part):
            return part
        unit = self.model.unit(part)
        return unit if self.model.atomic(unit) else None

    def build_clusters(self) -> None:
        model = self.model
        consumers = [u for u in model.order if not model.atomic(u)]
        wanted = [p for u in consumers for p in model.parts[u]] + model.roots
        wanted += [v for v in model.variables if v in model.leaves]
        atoms = [a for a in dict.fromkeys(self.atom_of(p) for p in wanted) if a]
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.setdefault(x, x) != x:
                x = parent[x]
            return x

        for atom in atoms:
            leaves = model.leaves_of(atom) or [f"§none:{atom}"]
            for leaf in leaves[1:]:
                parent[find(leaf)] = find(leaves[0])
        groups: dict[str, list[str]] = {}
        for atom in atoms:
            groups.setdefault(
                find((model.leaves_of(atom) or [f"§none:{atom}"])[0]), []
            ).append(atom)
        for members in groups.values():
            leaves = list(
                dict.fromkeys(leaf for a in members for leaf in model.leaves_of(a))
            )
            for position, atom in enumerate(members):
                self.where[atom] = (len(self.clusters), position)
            self.clusters.append(self.cluster(leaves, members))

    def cluster(self, leaves: list[str], atoms: list[str]) -> Cluster:
        space = Space(
            [self.model.leaves[leaf].domain.values() for leaf in leaves],
            {leaf: (i, None) for i, leaf in enumerate(leaves)},
        )
        regions: list[tuple[Box, tuple[object, ...]]] = [(space.full, ())]
        for atom in atoms:
            pieces = self.atom_pieces(atom, space)
            joined: dict[tuple[object, ...], list[Box]] = {}
            for box, values in regions:
                for piece_box, value in pieces:
                    common = intersect(box, piece_box)
                    if common is not None:
                        joined.setdefault((*values, value), []).append(common)
            regions = [
                (b, values) for values, boxes in joined.items() for b in merge(boxes)
            ]
            if len(regions) > _MAX_PIECES:
                raise Unprovable("所涉及的输入组合过多")
        grouped: dict[tuple[object, ...], list[Box]] = {}
        for box, values in regions:
            grouped.setdefault(values, []).append(box)
        return Cluster(leaves, atoms, list(grouped), list(grouped.values()))

    def atom_pieces(self, atom: str, space: Space) -> list[Piece]:
        if atom in self.model.leaves:
            dim = space.at[atom][0]
            return [
                (_with(space.full, dim, 1 << s), v)
                for s, v in enumerate(space.dims[dim])
            ]
        if atom.startswith("derived:"):
            return self.expression_pieces(
                space,
                space.full,
                {},
                self.model.parts[atom],
                lambda v: self.unit_value(atom, v),
            )
        return self.table_pieces(atom[6:], space, space.full, {})

    # ------------------------------------------------------------ functions as boxes

    def expression_pieces(
        self,
        space: Space,
        universe: Box,
        fixed: dict[str, object],
        parts: list[str],
        value: Callable[[dict[str, object]], object],
    ) -> list[Piece]:
        """A function of ``parts`` as boxes of ``space`` with constant values: the parts
        that vary are grouped per dimension by the values they take."""
        varying: dict[int, list[str]] = {}
        for part in parts:
            if part not in fixed:
                varying.setdefault(space.at[part][0], []).append(part)
        choices: list[list[tuple[int, Mask, dict[str, object]]]] = []
        for dim, names in varying.items():
            groups: dict[tuple[object, ...], tuple[Mask, dict[str, object]]] = {}
            for s in bits(universe[dim]):
                seen = {n: self._extract(space, n, space.dims[dim][s]) for n in names}
                key = tuple(_hashable(v) for v in seen.values())
                mask, _ = groups.get(key, (0, seen))
                groups[key] = (mask | 1 << s, seen)
            choices.append([(dim, mask, seen) for mask, seen in groups.values()])
        found: dict[object, list[Box]] = {}
        for combination in _product(choices):
            box = list(universe)
            values = dict(fixed)
            for dim, mask, seen in combination:
                box[dim] = mask
                values.update(seen)
            key = (id(value), tuple((n, _hashable(v)) for n, v in values.items()))
            if key not in self.results:
                self.results[key] = (value, _hashable(value(values)))
            found.setdefault(self.results[key][1], []).append(tuple(box))
            if len(found) > _MAX_PIECES:
                raise Unprovable("所涉及的输入组合过多")
        return [(box, v) for v, boxes in found.items() for box in merge(boxes)]

    def _extract(self, space: Space, part: str, segment: object) -> object:
        _, position = space.at[part]
        return self.select(part, segment if position is None else segment[position])  # type: ignore[index]

    def table_pieces(
        self, ident: str, space: Space, universe: Box, fixed: dict[str, object]
    ) -> list[Piece]:
        """A table's outputs as boxes of ``space``; ``fixed`` holds the values of parts
        that are constant here (the outputs of other tables, for one context)."""
        table = self.plan_table(ident)
        rules: list[Box | None] = []
        for base, checks in self._rules(table, space):
            box = None if base is None else intersect(base, universe)
            if box is not None and all(accept(fixed[part]) for part, accept in checks):
                rules.append(box)
            else:
                rules.append(None)
        output_names = self._output_names(table)
        referenced = [
            p
            for p in self.model.parts[f"table:{ident}"]
            if p not in fixed and p in space.at and p in output_names
        ]
        found: dict[object, list[Box]] = {}
        constant = self._constant_outputs(table)
        for piece in sweep(universe, rules, self._settled(table)):
            chosen = self._chosen(table, piece, constant) if constant else None
            if chosen is not None:
                found.setdefault(chosen, []).append(piece.box)
                continue
            for box, values in self._split(space, piece.box, fixed, referenced):
                inputs = self._inputs(table, space, box, values)
                found.setdefault(self.unit_value(f"table:{ident}", inputs), []).append(
                    box
                )
        return [(box, v) for v, boxes in found.items() for box in merge(boxes)]

    def _constant_outputs(self, table: Table) -> list[tuple[object, ...]] | None:
        """Each rule's outputs, then the defaults, where all of them are constants."""
        if table.id not in self.outputs:
            rows = [rule.outputs for rule in table.rules]
            rows.append([c.default or Literal(None) for c in table.outputs])
            constant = table.hit_policy.single_hit and all(
                self.county.is_constant(o) for row in rows for o in row
            )
            self.outputs[table.id] = (
                [
                    tuple(
                        _hashable(cast(self.county.value(o), c.dtype))
                        for o, c in zip(row, table.outputs, strict=True)
                    )
                    for row in rows
                ]
                if constant
                else None
            )
        return self.outputs[table.id]

    def _chosen(
        self, table: Table, piece: SweepPiece, outputs: list[tuple[object, ...]]
    ) -> tuple[object, ...] | None:
        """The outputs the hit policy gives in a box of the sweep, when the rules that
        match there are settled (as interpret.Interpreter._single chooses them)."""
        active, full = piece.active, piece.full
        if not active:
            return outputs[-1]
        policy = table.hit_policy
        if policy is HitPolicy.FIRST:
            return outputs[active[0]] if full and full[0] == active[0] else None
        if policy is HitPolicy.PRIORITY:
            best = min(active, key=lambda r: (priority(table, list(outputs[r])), r))
            return outputs[best] if best in full else None
        if len(full) < len(active):
            return None
        rows = {outputs[r] for r in full}
        if policy is HitPolicy.UNIQUE and len(full) > 1 or len(rows) > 1:
            return tuple(_ERROR for _ in table.outputs)
        return outputs[full[0]]

    def _rules(
        self, table: Table, space: Space
    ) -> list[tuple[Box | None, list[tuple[str, Callable[[object], bool]]]]]:
        """Each rule as a box over the parts that vary in ``space``, and the checks on
        the parts a context fixes; None where a constant input rules the rule out."""
        key = f"{table.id}@{id(space)}"
        cached = self.rule_boxes.get(key)
        if cached is not None and cached[0] is space:
            return cached[1]
        prepared = []
        for r, rule in enumerate(table.rules):
            box: list[Mask] | None = list(space.full)
            checks: list[tuple[str, Callable[[object], bool]]] = []
            for j, test in enumerate(rule.tests):
                if box is None:
                    break
                if not self.county.is_constant(test):
                    part: str | None = f"§cell:{table.id}:{r}:{j}"
                    accept: Callable[[object], bool] = _is_true
                else:
                    part = self.model.column_part(table, j)
                    accept = functools.partial(_passes, self.county, test)
                    if part is None:
                        box = (
                            box
                            if accept(self.county.value(table.inputs[j].expr))
                            else None
                        )
                        continue
                if part not in space.at:
                    checks.append((part, accept))  # type: ignore[arg-type]
                    continue
                dim = space.at[part][0]  # type: ignore[index]
                box[dim] &= space.mask(
                    dim, functools.partial(self._accepts, space, part, accept)
                )
            prepared.append((None if box is None or 0 in box else tuple(box), checks))
        self.rule_boxes[key] = (space, prepared)
        return prepared

    def _settled(self, table: Table) -> Settled | None:
        """When the sweep may stop: the rule the hit policy picks surely matches."""
        if table.hit_policy is HitPolicy.FIRST:
            return lambda active, full: bool(full) and full[0] == active[0]
        if table.hit_policy is HitPolicy.PRIORITY:
            outputs = [rule.outputs for rule in table.rules]
            if all(self.county.is_constant(o) for row in outputs for o in row):
                keys = [
                    priority(table, [self.county.value(o) for o in row])
                    for row in outputs
                ]
                return lambda active, full: (
                    min(active, key=lambda r: (keys[r], r)) in full
                )
        return None

    def _output_names(self, table: Table) -> set[str]:
        nodes = [o for rule in table.rules for o in rule.outputs]
        nodes += [c.default for c in table.outputs if c.default is not None]
        return {n for node in nodes for n in names_in(node)}

    def _split(self, space, box, fixed, referenced):  # type: ignore[no-untyped-def]
        """Split a box where the names an output uses take different values."""
        if not referenced:
            return [(box, dict(fixed))]
        pieces = self.expression_pieces(
            space, box, fixed, referenced, lambda v: tuple(sorted(v.items(), key=str))
        )
        return [(b, {**fixed, **dict(v)}) for b, v in pieces]  # type: ignore[arg-type]

    def _inputs(
        self, table: Table, space: Space, box: Box, values: dict[str, object]
    ) -> dict[str, object]:
        inputs: dict[str, object] = {}
        for part in self.model.parts[f"table:{table.id}"]:
            if part in values:
                inputs[part] = values[part]
            elif part in space.at:
                dim = space.at[part][0]
                inputs[part] = self._extract(
                    space, part, space.dims[dim][lowest(box[dim])]
                )
        return inputs

    # ------------------------------------------------------------ items over clusters

    def _accepts(
        self, space: Space, part: str, accept: Callable[[object], bool], segment: object
    ) -> bool:
        return accept(self._extract(space, part, segment))

    def cluster_space(self) -> Space:
        if self.space is not None:
            return self.space
        at: dict[str, tuple[int, int | None]] = dict(self.where)
        consumers = [u for u in self.model.order if not self.model.atomic(u)]
        for part in [
            p for u in consumers for p in self.model.parts[u]
        ] + self.model.roots:
            atom = self.atom_of(part)
            if atom is not None and part not in at:
                at[part] = self.where[atom]
        self.space = Space([list(c.tuples) for c in self.clusters], at)
        return self.space

    def pieces_of(
        self, parts: list[str], value: Callable[[dict[str, object]], object]
    ) -> list[Piece]:
        """A function of names (atomic or not) as boxes of the cluster space."""
        space = self.cluster_space()
        found: list[Piece] = []
        for box, fixed in self.contexts(parts, space):
            found.extend(self.expression_pieces(space, box, fixed, parts, value))
        return found

    def contexts(
        self, parts: list[str], space: Space
    ) -> list[tuple[Box, dict[str, object]]]:
        """Boxes in which every non-atomic name among ``parts`` has one value.

        A unit's pieces carry the values of the names they were built from, so a
        name computed from another (``monitoring`` from ``group``) adds no product.
        """
        found: list[tuple[Box, dict[str, object]]] = [(space.full, {})]
        position = {unit: i for i, unit in enumerate(self.model.order)}
        units = sorted(
            {self.model.unit(p) for p in parts if self.atom_of(p) is None},
            key=lambda u: -position[u],
        )
        for unit in units:
            names = [
                p
                for p in parts
                if self.atom_of(p) is None and self.model.unit(p) == unit
            ]
            joined: list[tuple[Box, dict[str, object]]] = []
            for box, fixed in found:
                if all(n in fixed for n in names):
                    joined.append((box, fixed))
                    continue
                for piece_box, carried in self.unit_pieces(unit, space):
                    common = intersect(box, piece_box)
                    if common is not None:
                        joined.append((common, {**fixed, **carried}))
            found = joined
            if len(found) > _MAX_PIECES:
                raise Unprovable("所涉及的输入组合过多")
        wanted = [p for p in parts if self.atom_of(p) is None]
        grouped: dict[tuple[object, ...], tuple[dict[str, object], list[Box]]] = {}
        for box, fixed in found:  # keep only what the caller reads, then merge boxes
            kept = {n: fixed[n] for n in wanted}
            key = tuple(_hashable(v) for v in kept.values())
            grouped.setdefault(key, (kept, []))[1].append(box)
        return [(box, kept) for kept, boxes in grouped.values() for box in merge(boxes)]

    def unit_pieces(
        self, unit: str, space: Space
    ) -> list[tuple[Box, dict[str, object]]]:
        """A unit's values as boxes, each with the values of its names and of the
        names it was computed from."""
        if unit not in self.memo:
            parts = self.model.parts[unit]
            pieces: list[tuple[Box, dict[str, object]]] = []
            for context, fixed in self.contexts(parts, space):
                if unit.startswith("derived:"):
                    found = self.expression_pieces(
                        space, context, fixed, parts, lambda v: self.unit_value(unit, v)
                    )
                else:
                    found = self.table_pieces(unit[6:], space, context, fixed)
                for box, value in found:
                    pieces.append((box, {**fixed, **self._named(unit, value)}))
            self.memo[unit] = pieces
        return self.memo[unit]

    def _named(self, unit: str, value: object) -> dict[str, object]:
        if unit.startswith("derived:"):
            return {unit[8:]: value}
        outputs = self.tables[unit[6:]].outputs
        return {o.id: v for o, v in zip(outputs, value, strict=True)}  # type: ignore[call-overload]

    # ------------------------------------------------------------ the two kinds

    def requires(self) -> list[Finding]:
        when, then = self.bound.when, self.bound.then
        assert then is not None
        parts = [
            n
            for n in dict.fromkeys(names_in(then) + (names_in(when) if when else []))
            if n not in self.county.constants
        ]

        def judge(values: dict[str, object]) -> object:
            env = {**self.county.env, **values}
            return (
                True if when is None else self.county.value(when, env),
                self.county.value(then, env),
            )

        for box, outcome in self.pieces_of(parts, judge):
            holds_when, holds_then = typing.cast(tuple[object, object], outcome)
            if holds_when is not True or holds_then is True:
                continue
            leaves = self.witness_leaves(box)
            result = self.run_chain(leaves)
            if result is None or judge(result) != outcome:
                logger.warning(
                    "analysis: counterexample to %s did not check", self.invariant.id
                )
                continue
            return [self.broken_requires(leaves, result, holds_then)]
        return []

    def monotone(self) -> list[Finding]:
        subject, variable = self.bound.subject.name, self.bound.variable  # type: ignore[union-attr]
        assert variable is not None
        if variable not in self.model.leaves:
            if self.model.kind(variable) == "item":
                raise Unprovable(f"变量「{variable}」由其他输入算出，不是独立的输入")
            return []  # the subject does not depend on the variable
        order = self.county.plan.items[subject].dtype.values
        pieces = [
            (box, value, _rank(value, order))
            for box, value in self.pieces_of([subject], lambda v: v[subject])
        ]
        k, _ = self.where[variable]
        before = self._before(self.clusters[k], variable)
        tried = 0
        for low_box, low_value, low_rank in pieces:
            for high_box, high_value, high_rank in pieces:
                if low_rank is None or high_rank is None or high_rank >= low_rank:
                    continue
                if any(
                    a & b == 0
                    for i, (a, b) in enumerate(zip(low_box, high_box, strict=True))
                    if i != k
                ):
                    continue
                pair = next(
                    (
                        before[(a, b)]
                        for a in bits(low_box[k])
                        for b in bits(high_box[k])
                        if (a, b) in before
                    ),
                    None,
                )
                if pair is None:
                    continue
                found = self._monotone_case(low_box, high_box, k, pair, subject, order)
                if found is not None:
                    return [found]
                tried += 1
                if tried > 20:
                    return []
        return []

    def _before(
        self, cluster: Cluster, variable: str
    ) -> dict[tuple[int, int], tuple[Box, Box]]:
        """Pairs of a cluster's tuples reachable from each other by raising the variable
        alone: (a, b) -> the two boxes that show it."""
        dim = cluster.leaves.index(variable)
        domain = self.model.leaves[variable].domain
        present = ~domain.null
        found: dict[tuple[int, int], tuple[Box, Box]] = {}
        for a, boxes_a in enumerate(cluster.boxes):
            for b, boxes_b in enumerate(cluster.boxes):
                for box_a in boxes_a:
                    for box_b in boxes_b:
                        if (a, b) in found:
                            break
                        low, high = box_a[dim] & present, box_b[dim] & present
                        others = all(
                            x & y
                            for i, (x, y) in enumerate(zip(box_a, box_b, strict=True))
                            if i != dim
                        )
                        if (
                            low
                            and high
                            and others
                            and lowest(low) < high.bit_length() - 1
                        ):
                            found[(a, b)] = (box_a, box_b)
        return found

    def _monotone_case(self, low_box, high_box, k, pair, subject, order):  # type: ignore[no-untyped-def]
        variable = self.bound.variable
        cluster = self.clusters[k]
        common = tuple(a & b for a, b in zip(low_box, high_box, strict=True))
        leaves = self.witness_leaves(common, skip=k)
        box_a, box_b = pair
        dim = cluster.leaves.index(variable)
        domain = self.model.leaves[variable].domain
        for i, leaf in enumerate(cluster.leaves):
            if i != dim:
                leaves[leaf] = self.model.leaves[leaf].domain.witness(
                    box_a[i] & box_b[i]
                )
        present = ~domain.null
        low = domain.segments[lowest(box_a[dim] & present)].value
        high = domain.segments[(box_b[dim] & present).bit_length() - 1].value
        first = self.run_chain({**leaves, variable: low})
        second = self.run_chain({**leaves, variable: high})
        if first is None or second is None:
            return None
        ranks = _rank(first.get(subject), order), _rank(second.get(subject), order)
        if None in ranks or ranks[1] >= ranks[0]:  # type: ignore[operator]
            logger.warning(
                "analysis: counterexample to %s did not check", self.invariant.id
            )
            return None
        case = self.household({**leaves, variable: low})
        label = self.county.name_cn(variable)
        return finding(
            "E504",
            f"{self._title()}不成立：{label}（{variable}）从 {show(low)} 增至 {show(high)}、其他输入不变时，"
            f"{subject} 由 {show(first.get(subject))} 变为更受保障的 {show(second.get(subject))}；"
            f"反例：{case.text}{case.note}",
            self.invariant.location,
            found=f"{variable} = {show(low)} → {show(high)}",
            expected=f"{variable} 增加时 {subject} 不会在枚举顺序中前移",
            hint="检查相关决策表在该收入段的规则，或在不变式中写明例外",
            invariant=self.invariant.id,
            witness=case.witness,
            household=case.household,
            derived=case.derived,
            higher={variable: plain(high)},
        )

    # ------------------------------------------------------------ witnesses

    def witness_leaves(self, box: Box, skip: int | None = None) -> dict[str, object]:
        """Concrete leaf values inside a box of the cluster space."""
        leaves: dict[str, object] = {}
        for k, (cluster, mask) in enumerate(zip(self.clusters, box, strict=True)):
            if k == skip:
                continue
            region = cluster.boxes[lowest(mask)][0]
            for leaf, leaf_mask in zip(cluster.leaves, region, strict=True):
                leaves[leaf] = self.model.leaves[leaf].domain.witness(leaf_mask)
        return leaves

    def run_chain(self, leaves: dict[str, object]) -> dict[str, object] | None:
        return self.evaluate(self.chain, {**self.county.env, **leaves})

    def household(self, leaves: dict[str, object]) -> Case:
        """The counterexample as text and records, with only the leaves the current
        invariant depends on (the model is shared by all invariants)."""
        relevant = self.model.leaves_under(self.bound.roots())
        entries = sorted(
            ((k, v) for k, v in leaves.items() if k in relevant),
            key=lambda kv: kv[0].startswith("§"),
        )
        inputs = [
            (Name(self.model.leaves[k].name or k), self.model.leaves[k].label)
            for k, _ in entries
        ]
        values = [v for _, v in entries]
        record, derived = witness_household(
            self.county, Level.HOUSEHOLD, inputs, values
        )
        shown = "、".join(
            f"{self.model.leaves[k].label} = {show(v)}" for k, v in entries
        )
        note = (
            f"（{'、'.join(derived)} 为派生值或条件，不是家庭直接填写的字段）"
            if derived
            else ""
        )
        return Case(
            "",
            shown,
            note,
            {self.model.leaves[k].label: plain(v) for k, v in entries},
            record,
            derived,
        )

    def broken_requires(
        self, leaves: dict[str, object], result: dict[str, object], outcome: object
    ) -> Finding:
        case = self.household(leaves)
        names = self.bound.roots()
        shown = [
            f"{n} = {show(result.get(n))}"
            for n in names
            if n not in self.county.constants
        ]
        shown += [
            f"{n} = {show(self.county.env.get(n))}"
            for n in names
            if n in self.county.constants
        ]
        when = self.invariant.text("when")
        example = (
            f"反例：{case.text}{case.note}"
            if case.witness
            else "与家庭无关，代入本县标准即不成立"
        )
        return finding(
            "E504",
            f"{self._title()}不成立："
            + (f"「{when}」时" if when else "")
            + f"应满足「{self.invariant.text('then')}」，但此时 {'、'.join(shown)}，"
            f"要求的结果为 {show(outcome)}；{example}",
            self.invariant.location,
            found="、".join(shown),
            expected=self.invariant.text("then"),
            hint="检查相关决策表的规则或本县的标准参数，或修正不变式",
            invariant=self.invariant.id,
            witness=case.witness,
            household=case.household,
            derived=case.derived,
        )

    def _title(self) -> str:
        described = (
            f"（{self.invariant.description}）" if self.invariant.description else ""
        )
        return f"不变式「{self.invariant.id}」{described}"


def _is_true(value: object) -> bool:
    return value is True


def _passes(county: County, test: Test, value: object) -> bool:
    return county.test(test, value) is True


def _rank(value: object, order: tuple[str, ...]) -> int | None:
    if value == _ERROR:
        return None
    return order.index(value) if value in order else len(order)  # type: ignore[arg-type]


def _hashable(value: object) -> object:
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    return value


def _product(lists: Sequence[Sequence[T]]) -> Iterator[tuple[T, ...]]:
    return itertools.product(*lists)


# ---------------------------------------------------------------- reporting

# Diagnostics already given to a report, so that a finding several counties share is
# listed once with the counties named (the message says which).
_EMITTED: weakref.WeakKeyDictionary[
    Report, dict[tuple[object, ...], tuple[int, list[str]]]
] = weakref.WeakKeyDictionary()


def _emit(report: Report, county: str, found: Finding) -> None:
    seen = _EMITTED.setdefault(report, {})
    key = (found.code, found.location, found.message)
    entry = seen.get(key)
    details = dict(found.details)
    if entry is not None:
        index, counties = entry
        old = report.items[index] if index < len(report.items) else None
        if (
            old is not None
            and old.code == found.code
            and old.location == found.location
        ):
            counties.append(county)
            extra = {**old.extra, "counties": list(counties)}
            report.items[index] = dataclasses.replace(
                old, message=found.message + _counties(counties), extra=extra
            )
            return
    before = len(report.items)
    report.add(
        make(
            found.code,
            found.message + _counties([county]),
            found.location,
            counties=[county],
            **details,
        )
    )
    if len(report.items) > before:
        seen[key] = (before, [county])


def _counties(counties: list[str]) -> str:
    if not counties or counties == [""]:
        return ""
    if len(counties) <= 3:
        return "（" + "、".join(counties) + "）"
    return f"（{'、'.join(counties[:3])} 等 {len(counties)} 个县（市、区））"


__all__ = ["County", "TableAnalysis", "View", "analyse", "plain", "show", "view_of"]
