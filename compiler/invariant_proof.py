"""Proofs of a county's invariants, or checked counterexamples (E504).

The two kinds of invariant (requires, monotone) are decided over the pieces of the
model (compiler/invariant_pieces.py); a piece where an invariant fails gives a
witness, which is evaluated with the reference interpreter before it is reported.
"""

from __future__ import annotations

import typing

from compiler import logger
from compiler.expr import Name, names_in
from compiler.findings import Finding, finding
from compiler.intervals import Box, bits, lowest
from compiler.invariant_model import Cluster
from compiler.invariant_pieces import ERROR, PieceBuilder, Unprovable
from compiler.model import Level
from compiler.witness import Case, plain, show, witness_household

if typing.TYPE_CHECKING:
    from compiler.invariants import Binding


class Proof(PieceBuilder):
    """Proves a county's invariants, or finds checked counterexamples; the invariants
    share one model, so the leaves and clusters are built once."""

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

    def unprovable(self, bound: Binding, why: str) -> Finding:
        invariant = bound.invariant
        return finding(
            "W503",
            f"不变式「{invariant.id}」无法精确证明：{why}",
            invariant.at("then", "subject"),
            found=invariant.text("then") or invariant.text("subject"),
            hint="简化所涉及的条件，或把该不变式拆成几条",
        )

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
                    "分析：一致性规则 %s 的反例未能核实", self.invariant.id
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
                "分析：一致性规则 %s 的反例未能核实", self.invariant.id
            )
            return None
        case = self.household({**leaves, variable: low})
        label = self.county.name_cn(variable)
        return finding(
            "E504",
            f"{self._title()}不成立：{label}（{variable}）从 {show(low)} 增至 {show(high)}、其他输入不变时，"
            f"{subject} 由 {show(first.get(subject))} 变为更受保障的 {show(second.get(subject))}；"
            f"反例：{case.text}{case.note}",
            self.invariant.at("then", "subject"),
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
            self.invariant.at("then", "subject"),
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


def _rank(value: object, order: tuple[str, ...]) -> int | None:
    if value == ERROR:
        return None
    return order.index(value) if value in order else len(order)  # type: ignore[arg-type]
