"""The analysis of tables of a thousand rules: the same findings as on small tables.

A table imported from DMN can hold thousands of rules, and the console checks it after
every edit, so the analysis works on indexes of the rules' boxes (compiler/sweep.py)
and computes a cell's mask once per group of segments it cannot tell apart
(compiler/domains.py). These tests build such tables through the real load path and
assert what is found in them: a gap left among a thousand ranges, a boundary gap, a
rule hidden by four others, overlapping pairs counted past the listed ten, and, past
the work budget, a W503 that says which part of which table was not analysed. How
long the analysis takes is measured in docs/analysis.md (section 7), not here.

The index and the fast masks are also compared with the plain definitions: every
point of small random spaces, and every segment of the columns of a big table.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import analyse as analysis
from compiler.analyse import County, view_of
from compiler.diagnostics import Diagnostic
from compiler.intervals import Box
from compiler.sweep import BoxIndex
from tests.test_analyse import AS_OF, GROUP, check, matches, one, table, typed, write

RULES = 1000


def _codes(found: list[Diagnostic], code: str) -> list[Diagnostic]:
    return [d for d in found if d.code == code]


# ---------------------------------------------------------------- gaps


def _ranges_with_a_hole() -> list[tuple[str, list[str], list[str]]]:
    """A thousand ranges of 10 yuan; 5370-5380 is left out, and rule r200 opens at
    2000 where r199 closes, so 2000 itself is uncovered."""
    rules = []
    for i in range(RULES):
        if i == 537:
            continue
        low, high = i * 10, (i + 1) * 10
        cell = f"({low}..{high})" if i == 200 else f"[{low}..{high})"
        rules.append((f"r{i}", [cell], ["none"]))
    rules += [("below", ["< 0"], ["none"]), ("above", [f">= {RULES * 10}"], ["none"])]
    rules.append(("missing", ["null"], ["none"]))
    return rules


def _income_table() -> list[list[object]]:
    """A FIRST table over income, a thousand ranges with a hole and a boundary gap."""
    return table(
        "t",
        "FIRST",
        [("income", "money")],
        [("group", GROUP, None)],
        _ranges_with_a_hole(),
    )


def test_a_gap_and_a_boundary_gap_among_a_thousand_rules_are_found(
    tmp_path: Path,
) -> None:
    sheet = _income_table()
    found, plan = check(write(tmp_path, {"t": sheet}))
    gaps = _codes(found, "E501")
    witnesses = [typed(plan.tables["t"], d.extra["witness"]) for d in gaps]  # type: ignore[arg-type]
    assert witnesses == [{"income": Decimal(5370)}, {"income": Decimal(2000)}]
    assert "income 在 [5370..5380)" in gaps[0].message
    assert "在分界值上有缺口：income 恰好等于 2000 时" in gaps[1].message
    for witness in witnesses:
        assert matches(plan, "t", witness) == []
    for near in ("1999.99", "2000.01", "5369.99", "5380"):
        assert matches(plan, "t", {"income": Decimal(near)}) != []
    assert _codes(found, "W501") == []  # disjoint ranges hide nothing


def test_an_accepted_gap_among_a_thousand_rules_is_counted_once(
    tmp_path: Path,
) -> None:
    sheet = table(
        "t",
        "FIRST",
        [("income", "money")],
        [("group", GROUP, None)],
        _ranges_with_a_hole(),
        "接受缺口=测试",
    )
    found, _ = check(write(tmp_path, {"t": sheet}))
    accepted = one(found, "I501")
    assert accepted.extra["gaps"] == 2 and accepted.extra["boundary_gaps"] == 1
    assert _codes(found, "E501") == []


# ---------------------------------------------------------------- hidden rules


def _grid(extra: list[tuple[str, list[str], list[str]]]) -> list[list[object]]:
    """A thousand cells (500 income ranges by two car counts), then ``extra`` rules
    and a last rule for everything else."""
    rules = [
        (f"{side}{i}", [f"[{i * 10}..{(i + 1) * 10})", cars], ["none"])
        for i in range(RULES // 2)
        for side, cars in (("a", "<= 0"), ("b", ">= 1"))
    ]
    rules += [*extra, ("rest", ["-", "-"], ["none"])]
    return table(
        "t",
        "FIRST",
        [("income", "money"), ("cars", "integer")],
        [("group", GROUP, None)],
        rules,
    )


def test_a_rule_hidden_among_a_thousand_rules_is_named_with_its_hiders(
    tmp_path: Path,
) -> None:
    extra = [
        ("late", ["[100..120)", "-"], ["dibao"]),  # four cells of the grid
        ("dup", ["[1000..1010)", "<= 0"], ["dibao"]),  # the same as a100
        ("beyond", ["[5000..5010)", "-"], ["dibao"]),  # past the grid
    ]
    found, _ = check(write(tmp_path, {"t": _grid(extra)}))
    hidden = {d.rule: d.extra["hidden_by"] for d in _codes(found, "W501")}
    assert hidden == {"late": ["a10", "b10", "a11", "b11"], "dup": ["a100"]}
    late = next(d for d in found if d.rule == "late")
    assert late.location.cell == f"A{5 + RULES}"  # rows 1-4 are the header
    assert _codes(found, "E501") == [] and _codes(found, "W503") == []


# ---------------------------------------------------------------- overlaps


def test_overlapping_pairs_among_a_thousand_rules_are_listed_then_counted(
    tmp_path: Path,
) -> None:
    rules = [(f"r{i}", [f"[{i}..{i + 1}]"], ["none"]) for i in range(RULES)]
    rules += [("below", ["< 0"], ["none"]), ("above", [f"> {RULES}"], ["none"])]
    rules.append(("missing", ["null"], ["none"]))
    sheet = table("t", "UNIQUE", [("income", "money")], [("group", GROUP, None)], rules)
    found, plan = check(write(tmp_path, {"t": sheet}))
    overlaps = _codes(found, "E502")
    listed = [d for d in overlaps if "witness" in d.extra]
    assert [d.rule for d in listed] == [f"r{i}、r{i + 1}" for i in range(10)]
    for pair in listed:
        witness = typed(plan.tables["t"], pair.extra["witness"])  # type: ignore[arg-type]
        assert set(pair.rule.split("、")) <= set(matches(plan, "t", witness))  # type: ignore[union-attr]
    assert "另有 989 对" in overlaps[-1].message  # 999 neighbouring pairs in all
    assert _codes(found, "E501") == []


# ---------------------------------------------------------------- the work budget

# Fifty rules after the grid, each hidden by the four cells of two income ranges.
LATE = [(f"late{k}", [f"[{k * 20}..{k * 20 + 20})", "-"], ["dibao"]) for k in range(50)]


def test_past_the_work_budget_the_gap_search_stops_with_a_w503(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(analysis, "WORK_BUDGET", 50)
    sheet = _income_table()
    found, _ = check(write(tmp_path, {"t": sheet}))
    note = one(found, "W503")
    assert note.location.cell == "A1" and note.extra["rules"] == RULES + 2
    assert note.message.startswith("决策表「t」（t）有 1002 条规则")
    assert "计算量上限" in note.message
    assert "未检查规则未覆盖的情形（E501、I501）；其他检查照常进行" in note.message
    assert _codes(found, "E501") == []  # not analysed, which is not "no gap"


def test_past_the_work_budget_the_w501_check_names_the_first_rule_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(analysis, "WORK_BUDGET", 400)  # a few of the 50 checks
    found, _ = check(write(tmp_path, {"t": _grid(LATE)}))
    note = one(found, "W503")
    reported = [d.rule for d in _codes(found, "W501")]
    assert reported == [f"late{k}" for k in range(len(reported))]
    first = f"late{len(reported)}"  # the rules before it were all checked
    left = 51 - len(reported)  # the late rules and "rest"
    assert (
        f"从规则「{first}」（第 {1005 + len(reported)} 行）起的 {left} 条规则"
        "未检查是否永远不会被选中（W501）"
    ) in note.message
    assert 0 < len(reported) < 50  # what was checked before the stop is reported


def test_within_the_work_budget_the_same_table_is_analysed_in_full(
    tmp_path: Path,
) -> None:
    found, _ = check(write(tmp_path, {"t": _grid(LATE)}))
    hidden = {d.rule: d.extra["hidden_by"] for d in _codes(found, "W501")}
    assert hidden == {
        f"late{k}": [f"a{2 * k}", f"b{2 * k}", f"a{2 * k + 1}", f"b{2 * k + 1}"]
        for k in range(50)
    }
    assert _codes(found, "W503") == [] and _codes(found, "E501") == []


# ---------------------------------------------------------------- the fast parts


def test_cell_masks_agree_with_the_interpreter_on_every_segment(tmp_path: Path) -> None:
    cells = ["< 低保标准", "[500..边缘标准)", "not(1000, 2000)", "= 0.005", "-", "null"]
    rules = [
        (f"r{i}", [f"[{i}..{i + 7})" if i % 7 else cells[i % 6], c], ["none"])
        for i, c in zip(range(RULES), itertools.cycle(["a", "not(b)", "a, c", "-"]))
    ]
    sheet = table(
        "t",
        "FIRST",
        [("income", "money"), ("kind", "enum(a,b,c)")],
        [("group", GROUP, "none")],
        rules,
    )
    _, plan = check(write(tmp_path, {"t": sheet}))
    county = County(plan, AS_OF)
    bound = plan.tables["t"]
    view = view_of(county, bound)
    for j, column in enumerate(view.columns):
        for rule, mask in zip(bound.rules, column.masks, strict=True):
            test = rule.tests[j]
            assert mask == column.domain.mask_of(
                lambda v, t=test: county.test(t, v) is True  # type: ignore[misc]
            ), (rule.id, rule.test_texts[j])


def _points(universe: Box) -> list[tuple[int, ...]]:
    return list(
        itertools.product(*([i for i in range(8) if m >> i & 1] for m in universe))
    )


def _holds(box: Box, point: tuple[int, ...]) -> bool:
    return all(m >> p & 1 for m, p in zip(box, point, strict=True))


_MASKS = st.integers(1, 255)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 3).flatmap(
        lambda width: st.tuples(
            st.tuples(*[_MASKS] * width),
            st.lists(st.none() | st.tuples(*[_MASKS] * width), max_size=24),
            st.integers(0, 2**24 - 1),
        )
    )
)
def test_the_index_sweep_agrees_with_every_point(drawn) -> None:  # type: ignore[no-untyped-def]
    universe, boxes, among = drawn
    index = BoxIndex(boxes, len(universe))
    chosen = [b if among >> r & 1 else None for r, b in enumerate(boxes)]
    bare = [p for p in _points(universe) if not any(b and _holds(b, p) for b in chosen)]
    holes = {p for box in index.uncovered(universe, among) for p in _points(box)}
    assert holes == set(bare)
    assert index.covered(universe, among) == (not bare)
    meeting = sum(
        1 << r
        for r, b in enumerate(boxes)
        if b and all(x & y for x, y in zip(b, universe, strict=True))
    )
    containing = sum(
        1 << r
        for r, b in enumerate(boxes)
        if b and all(x & u == u for x, u in zip(b, universe, strict=True))
    )
    assert index.meeting(universe) == meeting
    assert index.containing(universe) == containing
    pieces = index.sweep(universe)
    covered = [p for piece in pieces for p in _points(piece.box)]
    assert sorted(covered) == sorted(_points(universe))  # the pieces partition it
    for piece in pieces:
        for point in _points(piece.box):
            holding = {r for r, b in enumerate(boxes) if b and _holds(b, point)}
            assert set(piece.full) <= holding <= set(piece.active)
