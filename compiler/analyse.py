"""The analysis pass: gaps, overlaps, shadowed rules and policy invariants, per county.

``analyse(plan, report, as_of)`` substitutes the county's standards in force on
``as_of`` into every decision table and studies each table over the values of its
inputs (docs/analysis.md): inputs no rule covers (E501, or one I501 where the table
accepts them or falls to its defaults), overlaps that break UNIQUE (E502) or ANY
(E503), rules that can never be chosen (W501), conditions that are empty once
standards are substituted (W502), inputs it cannot analyse (W503), and the province's
declared invariants (E504).

Every witness is a concrete input, checked with the reference interpreter before it is
reported. Results are cached by table structure and substituted constants, because
most counties share the province's tables and differ only in a few standards.

This module holds the entry and the analysis of one table; the rest of the pass is
laid out by concept:

- compiler/county.py: a county's plan with its standards substituted;
- compiler/domains.py: each input column cut into segments, each rule into a box,
  within the bounds the household input enforces (compiler/bounds.py);
- compiler/sweep.py: the sweep over an index of the rules' boxes, and the budget
  that stops a part of the analysis a table makes too large (W503);
- compiler/witness.py: witnesses as text and records, values as staff write them;
- compiler/findings.py: findings, their cache, and reporting them once per county;
- compiler/invariants.py: the 不变式 sheet, read, bound and checked per county, over
  compiler/invariant_model.py (leaves), compiler/invariant_pieces.py (items as
  boxes) and compiler/invariant_proof.py (proofs and counterexamples).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from typing import TypeVar

from compiler import logger
from compiler.bind import AS_OF, Plan, bind_replaced
from compiler.bounds import bounds, never_missing
from compiler.county import County
from compiler.diagnostics import Report
from compiler.domains import (
    Column,
    View,
    cell_mask,
    matches,
    view_of,
    with_mask,
)
from compiler.expr import (
    Compare,
    Disjunction,
    Interval,
    Name,
    Negation,
    Test,
    names_in,
    render,
)
from compiler.findings import (
    CACHE,
    CACHE_LIMIT,
    Finding,
    constants_key,
    emit,
    finding,
    not_analysed,
    structure_key,
)
from compiler.interpret import cast, priority
from compiler.intervals import (
    Box,
    Domain,
    bits,
    intersect,
    lowest,
    members,
    merge,
    split_runs,
    subtract,
)
from compiler.invariants import check_invariants
from compiler.model import HitPolicy, Kind, Rule, Table
from compiler.replaced_gaps import lost_boundaries, unread_outputs
from compiler.sweep import BoxIndex, Budget, TooComplex
from compiler.witness import Case, describe, plain, show

T = TypeVar("T")
MAX_LISTED = 5  # findings of one kind listed per table before "and N more"
# Sweep steps (each about one big-integer operation over the rules) one part of a
# table's analysis may take, a few seconds; a shipped table needs a few hundred.
WORK_BUDGET = 3_000_000
_CHECK_STEPS = 20  # the steps one witness evaluated with the interpreter counts for


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
            found = [not_analysed(table.location, f"决策表「{table.id}」", error)]
        for item in found:
            emit(report, county.label, item)
    for item in check_invariants(county):
        emit(report, county.label, item)
    for item in unread_outputs(plan.rulebook, plan.dependencies):
        emit(report, county.label, item)


# ---------------------------------------------------------------- one table


def _itself(box: Box) -> Box:
    return box


def _second(pair: tuple[int | None, Box]) -> Box:
    return pair[1]


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
    replaced = bind_replaced(county.plan, table.id)  # W504 compares the two
    names = CACHE.get(("names", structure, table.id))
    if names is None:
        names = _referenced(table) + (_referenced(replaced) if replaced else [])
        CACHE[("names", structure, table.id)] = names  # type: ignore[assignment]
    key = ("table", structure, table.id, constants_key(county, names), county.as_of)  # type: ignore[arg-type]
    found = CACHE.get(key)
    if found is None:
        if len(CACHE) > CACHE_LIMIT:
            CACHE.clear()
        found = CACHE[key] = list(TableAnalysis(county, table, replaced).run())
    return found


class TableAnalysis:
    """Everything the analysis reports about one table in one county."""

    def __init__(self, county: County, table: Table, replaced: Table | None = None) -> None:
        self.county = county
        self.table = table
        self.replaced = replaced  # the province's table, where the county replaced it
        # a cell that holds only a missing value the input refuses (a defensive
        # "null" rule on an age) is no empty condition: W502 sees every value
        self.written = view_of(county, table)
        self.view = _accepted(county, table, self.written)
        self.name = f"决策表「{table.id}」" + (
            f"（{table.title}）" if table.title else ""
        )
        width = len(self.view.columns)
        self.budget = Budget(WORK_BUDGET)
        self.covers = BoxIndex(self.view.cover, width, self.budget)
        self.exact = (
            self.covers
            if self.view.exact == self.view.cover  # no cell depends on the household
            else BoxIndex(self.view.exact, width, self.budget)
        )
        self.unchecked: int | None = None  # the rule a part was at when it stopped

    def run(self) -> Iterator[Finding]:
        yield from self.unanalysable()
        yield from self.empty_conditions()
        if not self.table.hit_policy.single_hit:
            return  # a list policy may overlap, and an empty list is a normal answer
        yield from self._within_budget(self.gaps, "规则未覆盖的情形（E501、I501）")
        if self.table.hit_policy in (HitPolicy.UNIQUE, HitPolicy.ANY):
            yield from self._within_budget(
                self.overlaps, "规则之间的重叠（E502、E503）"
            )
        else:
            yield from self._within_budget(self.shadowed, "是否永远不会被选中（W501）")

    def _within_budget(
        self, part: Callable[[], Iterator[Finding]], what: str
    ) -> list[Finding]:
        """A part of the analysis with a fresh budget, or what it found before the
        budget ran out and one W503 saying what was left: a table whose rules cut its
        inputs into too many combinations stops instead of running for minutes. The
        work is counted, not timed, so the outcome does not depend on the machine."""
        self.budget = self.covers.budget = self.exact.budget = Budget(WORK_BUDGET)
        self.unchecked = None
        found: list[Finding] = []
        try:
            for item in part():  # not list(part()): keep what came before a stop
                found.append(item)  # noqa: PERF402
        except TooComplex:
            found.append(self._stopped(what))
        return found

    def _stopped(self, what: str) -> Finding:
        rules = self.table.rules
        if self.unchecked is None:
            left = f"未检查{what}"
        else:
            first = rules[self.unchecked]
            left = (
                f"从规则「{first.id}」（第 {first.row} 行）起的 "
                f"{len(rules) - self.unchecked} 条规则未检查{what}"
            )
        return finding(
            "W503",
            f"{self.name}有 {len(rules)} 条规则，输入的组合过多，分析在计算量上限处停止："
            f"{left}；其他检查照常进行",
            self.table.location,
            found=f"{len(rules)} 条规则",
            expected="规则条件的组合在分析的计算量上限之内",
            hint="把这张表按一个输入列拆成几张较小的表，或合并条件相近的规则",
            table=self.table.id,
            rules=len(rules),
            unchecked=what,
        )

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
            for j, column in enumerate(self.written.columns):
                mask = column.masks[r]
                if mask is None:
                    continue
                atom = self._empty_atom(rule.tests[j], column.domain)
                if atom is None and mask != 0:
                    continue
                text = render(atom) if atom is not None else rule.test_texts[j]
                span = self._span(j)
                yield finding(
                    "W502",
                    f"{self.name}规则「{rule.id}」的条件「{text}」代入标准后不包含任何取值"
                    f"{self._substituted(atom or rule.tests[j])}"
                    + (f"（{column.label} 只取 {span} 的值）" if span else "")
                    + ("，该规则永远不会命中" if mask == 0 else ""),
                    rule.test_locations[j],
                    found=rule.test_texts[j],
                    expected="至少包含一个取值的条件",
                    hint="检查区间两端的标准参数取值"
                    + ("，以及「字段」表中该输入的下限、上限" if span else "")
                    + "，或删除这条规则",
                    rule=rule.id,
                    table=self.table.id,
                )

    def _span(self, j: int) -> str:
        """The values an input can take, where the household input bounds it
        (compiler/bounds.py): ``1 至 4``, ``>= 0``; empty when unbounded."""
        low, high = bounds(self.county, self.table.inputs[j].expr)
        if low is not None and high is not None:
            return f"{show(low)} 至 {show(high)}"
        if low is not None:
            return f">= {show(low)}"
        return "" if high is None else f"<= {show(high)}"

    def _empty_atom(self, test: Test, domain: Domain) -> Test | None:
        match test:
            case Compare() | Interval():
                return test if cell_mask(self.county, test, domain) == 0 else None
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
            for box in self.covers.uncovered(view.universe)
            for run in split_runs(box, domains)
        ]
        checked = [box for box in boxes if self._is_gap(box)]
        around = [list(self._boundary(box)) for box in checked]
        boundary = [b for parts in around for b in parts]
        table = self.table
        if table.accepted_gap is not None:
            checked = self._confirmed(checked, 1, _itself)
            boundary = self._confirmed(boundary, 1, _second)
            yield self._accepted(checked, boundary)
            if self.replaced is not None:  # the declaration was copied with the table
                witnesses = [(j, self.view.values(box)) for j, box in boundary]
                yield from lost_boundaries(self.county, table, self.replaced, witnesses)
            return
        rest = self._off_boundary(checked, around)
        if all(c.default is not None for c in table.outputs):
            yield from self._listed_gaps(boundary, boundary=True)
            rest = self._confirmed(rest, 3, _itself)
            if rest:
                yield self._default_gaps(rest)
        else:
            listed: list[tuple[int | None, Box]] = [(None, box) for box in rest]
            yield from self._listed_gaps([*listed, *boundary], boundary=False)

    def _off_boundary(
        self, gaps: list[Box], around: list[list[tuple[int, Box]]]
    ) -> list[Box]:
        """The gaps without their boundary parts, which are reported on their own: one
        finding is said once (an E501 at the boundary, not again in the gap around it
        or in the I501 of the gaps that fall to the defaults). The gaps are disjoint,
        so each loses only the boundary parts found in it."""
        domains = [c.domain for c in self.view.columns]
        found: list[Box] = []
        for gap, parts in zip(gaps, around, strict=True):
            pieces = [gap]
            for _, part in parts:
                pieces = [p for piece in pieces for p in subtract(piece, part)]
            if pieces == [gap]:
                found.append(gap)
                continue
            found.extend(
                run
                for piece in merge(pieces)
                for run in split_runs(piece, domains)
                if self._is_gap(run)
            )
        return found

    def _is_gap(self, box: Box) -> bool:
        """Whether no rule's box holds the witness of ``box`` (the segments its values
        come from): the sweep's answer, checked again on the index. The interpreter
        checks a witness before it is shown (``_confirmed``)."""
        point = tuple(
            1 << c.domain.first(m) for c, m in zip(self.view.columns, box, strict=True)
        )
        return not self.covers.meeting(point)

    def _confirmed(
        self, gaps: list[T], shown: int, box_of: Callable[[T], Box]
    ) -> list[T]:
        """The gaps with the first ``shown`` witnesses checked with the interpreter: a
        witness that some rule matches after all is logged and left out."""
        found: list[T] = []
        for k, gap in enumerate(gaps):
            if len(found) >= shown:
                return found + gaps[k:]
            values = self.view.values(box_of(gap))
            if any(matches(self.county, rule, values) for rule in self.table.rules):
                logger.warning(
                    "分析：遗漏反例 %s（表 %s）命中了规则", values, self.table.id
                )
                continue
            found.append(gap)
        return found

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
                remaining = [with_mask(box, j, 1 << s)]
                for neighbour in (s - 1, s + 1):
                    for hole in self.covers.uncovered(
                        with_mask(box, j, 1 << neighbour)
                    ):
                        hole = with_mask(hole, j, 1 << s)
                        remaining = [
                            p for part in remaining for p in subtract(part, hole)
                        ]
                for part in merge(remaining):
                    if any(
                        m & ~c.domain.null == 0
                        for c, m in zip(view.columns, part, strict=True)
                    ):
                        continue  # a gap only for a missing input is about missing data
                    if self._is_gap(part):
                        yield j, part

    def _listed_gaps(
        self, gaps: Sequence[tuple[int | None, Box]], boundary: bool
    ) -> Iterator[Finding]:
        gaps = self._confirmed(list(gaps), MAX_LISTED, _second)
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
            head = self._boundary_text(case, on, show(values[on]))
            hint = "检查相邻规则的 < 与 <=、( 与 [ 是否漏掉了这个值；若有意不覆盖，在标题行写 接受缺口=原因"
        else:
            head = f"{self.name}有规则未覆盖的情形：{case.region or '任意输入'}；例如 {case.text}"
            hint = "补充规则，或在标题行写 接受缺口=原因 声明这是有意的"
        default = self._default_text()
        return finding(
            "E501",
            f"{head}{case.note}" + (f"，此时取默认值 {default}" if default else ""),
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

    def _boundary_text(self, case: Case, on: int, value: str) -> str:
        """A boundary gap said once: the column and its value, the other inputs'
        region (or that they may be anything), and an example only of the values
        that region leaves open."""
        region, example = case.others(on)
        when = f"、{region} 时" if region else " 时"
        if not region and len(case.conditions) > 1:
            when = "（其他输入任意）时"
        return (
            f"{self.name}在分界值上有缺口：{self.view.columns[on].label} 恰好等于 {value}"
            f"{when}没有规则命中，而略低和略高的值都有规则命中"
            + (f"；例如 {example}" if example else "")
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
        """Pairs of rules that match one input, in the order of the rules; the first
        ones are listed with a checked witness, the others counted."""
        rules, exact = self.table.rules, self.view.exact
        same = self._same_outputs if self.table.hit_policy is HitPolicy.ANY else None
        found: list[Finding] = []
        count = 0
        for a in range(len(rules)):
            box = exact[a]
            if box is None:
                continue
            later = self.exact.meeting(box) >> (a + 1) << (a + 1)
            if same is not None:
                later &= ~same[a]  # an ANY table may overlap where outputs agree
            while later and len(found) < 2 * MAX_LISTED:
                b = lowest(later)
                later ^= 1 << b
                self.budget.spend(_CHECK_STEPS)
                overlap = self._overlap(a, b, intersect(box, exact[b]))  # type: ignore[arg-type]
                if overlap is not None:
                    count += 1
                    found.append(overlap)
            count += self._conflicting(a, later, same is not None)
        yield from found
        if count > len(found):
            code = "E502" if self.table.hit_policy is HitPolicy.UNIQUE else "E503"
            yield finding(
                code,
                f"{self.name}另有 {count - len(found)} 对重叠的规则未列出",
                self.table.location,
                table=self.table.id,
            )

    def _conflicting(self, a: int, others: int, settled: bool) -> int:
        """How many of the rules in ``others`` (which overlap rule ``a``) break the hit
        policy with it, counted without a witness: all of them in a UNIQUE table, or
        when their outputs are already known to differ (``settled``); in an ANY table
        whose outputs depend on the inputs, those whose outputs differ where the two
        rules overlap."""
        if settled or self.table.hit_policy is HitPolicy.UNIQUE:
            return others.bit_count()
        count = 0
        box, rules = self.view.exact[a], self.table.rules
        for b in members(others):
            self.budget.spend(_CHECK_STEPS)
            values = self.view.values(intersect(box, self.view.exact[b]))  # type: ignore[arg-type]
            if self._outputs(rules[a], values) != self._outputs(rules[b], values):
                count += 1
        return count

    @functools.cached_property
    def _same_outputs(self) -> list[int] | None:
        """For each rule, the rules whose outputs are the same constants (None when
        some output depends on the inputs)."""
        rules = self.table.rules
        if not all(self.county.is_constant(o) for r in rules for o in r.outputs):
            return None
        values = [_hashable(self._outputs(r, [None] * len(r.tests))) for r in rules]
        groups: dict[object, int] = {}
        for r, value in enumerate(values):
            groups[value] = groups.get(value, 0) | 1 << r
        return [groups[v] for v in values]

    def _overlap(self, a: int, b: int, box: Box) -> Finding | None:
        values = self.view.values(box)
        first, second = self.table.rules[a], self.table.rules[b]
        if not (
            matches(self.county, first, values) and matches(self.county, second, values)
        ):
            logger.warning(
                "分析：重叠反例 %s（表 %s）未命中",
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
        before = self._earlier(keys)
        for i, rule in enumerate(rules):
            self.unchecked = i
            region = view.cover[i]
            if region is None or (keys is not None and keys[i] is None):
                continue
            candidates = self.exact.meeting(region, before[i])
            if not candidates or not self.exact.covered(region, candidates):
                continue
            hiders = self._fewest(region, candidates)
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

    def _earlier(self, keys: list[tuple[int, ...] | None] | None) -> list[int]:
        """For each rule, the rules chosen before it (as a set of bits): the rules
        above it, or in a PRIORITY table those with a higher-priority output."""
        count = len(self.table.rules)
        if keys is None:
            return [(1 << i) - 1 for i in range(count)]
        ranked = sorted((k, j) for j, k in enumerate(keys) if k is not None)
        found = [0] * count
        seen = 0
        for _, j in ranked:
            found[j] = seen
            seen |= 1 << j
        return found

    def _fewest(self, region: Box, hiders: int) -> list[int]:
        """The hiding rules without those the others make unneeded.

        From the last rule to the first, a rule is dropped when the rules left still
        cover the region. Whether the rules numbered below ``q`` (with those kept)
        cover it only grows with ``q``, so the next rule kept is found by bisection:
        a few coverage sweeps per rule named instead of one per hiding rule.
        """
        kept, top = 0, hiders.bit_length()
        while top and not self.exact.covered(region, kept):
            low, high = 1, top  # the rules below ``top`` (with those kept) cover
            while low < high:
                middle = (low + high) // 2
                if self.exact.covered(region, hiders & ((1 << middle) - 1) | kept):
                    high = middle
                else:
                    low = middle + 1
            top = low - 1  # the rules below low cover, those below low - 1 do not
            kept |= 1 << top
        return list(members(kept))

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


def _accepted(county: County, table: Table, view: View) -> View:
    """The view without the missing value of each column that every household the
    input accepts gives a value (``bounds.never_missing``: an age computed from the
    required birth date), so that no gap, overlap or witness is a household the input
    would refuse. A rule that holds only that missing value then covers nothing."""
    columns = [
        _present(column)
        if column.domain.null
        and len(column.domain) > 1
        and never_missing(county, source.expr, table.level)
        else column
        for column, source in zip(view.columns, table.inputs, strict=True)
    ]
    if all(a is b for a, b in zip(columns, view.columns, strict=True)):
        return view
    fulls = [c.domain.full for c in columns]
    return View(
        table,
        columns,
        [_narrowed(box, fulls) for box in view.cover],
        [_narrowed(box, fulls) for box in view.exact],
    )


def _present(column: Column) -> Column:
    """The column without its missing value, always its domain's last segment."""
    old = column.domain
    domain = Domain(old.segments[:-1], old.ordered, old.origin)
    masks = [None if m is None else m & domain.full for m in column.masks]
    return Column(column.label, domain, masks, column.opaque)


def _narrowed(box: Box | None, fulls: list[int]) -> Box | None:
    if box is None:
        return None
    found = tuple(m & full for m, full in zip(box, fulls, strict=True))
    return None if 0 in found else found


def _hashable(value: object) -> object:
    """A value (lists as tuples) that a dict can hold; equal values stay equal."""
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    return value


__all__ = ["County", "TableAnalysis", "View", "analyse", "plain", "show", "view_of"]
