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
- compiler/witness.py: witnesses as text and records, values as staff write them;
- compiler/findings.py: findings, their cache, and reporting them once per county;
- compiler/invariants.py: the 不变式 sheet, read, bound and checked per county, over
  compiler/invariant_model.py (leaves), compiler/invariant_pieces.py (items as
  boxes) and compiler/invariant_proof.py (proofs and counterexamples).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

from compiler import logger
from compiler.bind import AS_OF, Plan
from compiler.bounds import bounds
from compiler.county import County
from compiler.diagnostics import Report
from compiler.domains import View, matches, view_of, with_mask
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
    merge,
    split_runs,
    subtract,
    uncovered,
)
from compiler.invariants import check_invariants
from compiler.model import HitPolicy, Kind, Rule, Table
from compiler.witness import Case, describe, plain, show

MAX_LISTED = 5  # findings of one kind listed per table before "and N more"


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


# ---------------------------------------------------------------- one table


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
    names = CACHE.get(("names", structure, table.id))
    if names is None:
        names = CACHE[("names", structure, table.id)] = _referenced(table)  # type: ignore[assignment]
    key = ("table", structure, table.id, constants_key(county, names), county.as_of)  # type: ignore[arg-type]
    found = CACHE.get(key)
    if found is None:
        if len(CACHE) > CACHE_LIMIT:
            CACHE.clear()
        found = CACHE[key] = list(TableAnalysis(county, table).run())
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
        if table.accepted_gap is not None:
            yield self._accepted(checked, boundary)
            return
        rest = self._off_boundary(checked, [box for _, box in boundary])
        if all(c.default is not None for c in table.outputs):
            yield from self._listed_gaps(boundary, boundary=True)
            if rest:
                yield self._default_gaps(rest)
        else:
            listed: list[tuple[int | None, Box]] = [(None, box) for box in rest]
            yield from self._listed_gaps([*listed, *boundary], boundary=False)

    def _off_boundary(self, gaps: list[Box], boundary: list[Box]) -> list[Box]:
        """The gaps without their boundary parts, which are reported on their own: one
        finding is said once (an E501 at the boundary, not again in the gap around it
        or in the I501 of the gaps that fall to the defaults)."""
        domains = [c.domain for c in self.view.columns]
        found: list[Box] = []
        for gap in gaps:
            pieces = [gap]
            for part in boundary:
                pieces = [p for piece in pieces for p in subtract(piece, part)]
            if pieces == [gap]:
                found.append(gap)
                continue
            found.extend(
                run
                for piece in merge(pieces)
                for run in split_runs(piece, domains)
                if self._checked_gap(self.view.values(run))
            )
        return found

    def _checked_gap(self, values: list[object]) -> bool:
        if any(matches(self.county, rule, values) for rule in self.table.rules):
            logger.warning(
                "分析：遗漏反例 %s（表 %s）命中了规则", values, self.table.id
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
                remaining = [with_mask(box, j, 1 << s)]
                for neighbour in (s - 1, s + 1):
                    for hole in uncovered(
                        with_mask(box, j, 1 << neighbour), view.cover
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


__all__ = ["County", "TableAnalysis", "View", "analyse", "plain", "show", "view_of"]
