"""How deep and how long a county's chains of values are, checked before any walk.

A cell is at most ``expr.MAX_DEPTH`` levels deep, but the passes that follow a name into
the derived value or table that defines it walk further: the analysis's bounds and
nullability walk the tree a value makes once each name it reads is replaced by that
name's own tree, and the invariant models go from table to table along their inputs.
A chain of 2000 derived values, each reading the one before, stopped ``check`` with
Python's RecursionError (ten of 95 terms each did too) and ``evaluate`` with DuckDB's
"Max expression depth" in English; a chain of 1000 tables stopped the invariant models
(helper-72). ``check_chains`` refuses both with E306 at the first step past
``MAX_CHAIN_DEPTH``, before the analysis runs.

The compiled query nests too: one CTE per group of derived values that read none of
each other, three per decision table (compiler/sqlgen_nesting.py). DuckDB refuses a
query nested past 1000 levels, in English, and binds a deep one slowly: a county of
100 decision tables (316 levels) took 18 s to decide three households, 300 tables (916
levels) more than 11 minutes (helper-84). ``query_too_deep`` says E306 at the step where the
county's query passes ``MAX_QUERY_DEPTH``: ``open_project`` at check time, and
``run_programs`` before DuckDB sees a query (a diff's sides are not checked first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from compiler.bind import Plan
from compiler.diagnostics import Diagnostic, Report, make
from compiler.expr import MAX_DEPTH, Expr, Name, Test, children
from compiler.model import Derived, Table
from compiler.sqlgen import Program

# The same limit as a cell's, for levels and for steps: the province's deepest value is
# 9 levels with its names replaced, its longest chain 13 steps; the analysis's walks
# stopped at about 250 levels (a chain of 300 derived values), the invariant models at
# between 300 and 1000 tables
MAX_CHAIN_DEPTH = MAX_DEPTH
# Levels of CTEs a compiled query may nest: three times the province's 96, well below
# DuckDB's 1000; binding slows faster than the levels grow (166 levels took 1.5 s,
# 316 18 s, 406 40 s, for each query: each batch, each service request)
MAX_QUERY_DEPTH = 300
Step = tuple[str, str]  # ("derived" | "table", id), as Plan.order holds them


@dataclass(frozen=True)
class _Profile:
    """Trees as the chain needs them: how deep they are themselves, and the deepest
    level at which each name occurs in them."""

    depth: int
    names: tuple[tuple[str, int], ...]


# A step's profiles: its value's trees (a derived value's expression, a table's output
# cells and defaults), which the steps reading it go on into, and the trees that only
# use values (a table's input columns and tests), walked when the table is analysed.
# Kept by the id of the workbook object (held beside them, so the id stays its own):
# ninety counties share the province's tables, whose trees are walked once.
_PROFILES: dict[int, tuple[Derived | Table, _Profile, _Profile]] = {}
_PROFILES_LIMIT = 4096


def check_chains(plan: Plan, report: Report) -> None:
    """E306 at each derived value or table past either limit, when nothing it reads
    is (the values that read it are said by saying it): with every name it reads
    replaced by its definition, more than ``MAX_CHAIN_DEPTH`` levels deep; or at the
    end of more than ``MAX_CHAIN_DEPTH`` steps each reading the one before."""
    owners = _owners(plan)
    depths: dict[Step, int] = {}  # levels of each step's value, names replaced
    via: dict[Step, Step] = {}  # the step each value's deepest path goes through
    steps: dict[Step, int] = {}  # the longest chain of steps ending at each
    after: dict[Step, Step] = {}  # the step before it on that chain
    past: set[Step] = set()
    for step in plan.order:
        value, use = _profiles(_owner_object(plan, step))
        depths[step], through = _reach(value, step, owners, depths)
        if through is not None:
            via[step] = through
        used, used_through = _reach(use, step, owners, depths)
        sources = {owners[n] for n, _ in (*value.names, *use.names) if n in owners}
        sources = {s for s in sources if s != step and s in steps}
        steps[step] = 1 + max((steps[s] for s in sources), default=0)
        if sources:
            after[step] = max(sorted(sources), key=steps.__getitem__)
        deepest, source = max((depths[step], through), (used, used_through), key=_first)
        if deepest <= MAX_CHAIN_DEPTH and steps[step] <= MAX_CHAIN_DEPTH:
            continue
        past.add(step)
        if sources & past:
            continue
        if deepest > MAX_CHAIN_DEPTH:
            chain = [step[1], *_chain(source, via)] if source else [step[1]]
            _too_deep(plan, step, deepest, chain, report)
        else:
            _too_long(plan, step, _chain(step, after), report)


def _first(pair: tuple[int, Step | None]) -> int:
    return pair[0]


def _reach(
    profile: _Profile, step: Step, owners: dict[str, Step], depths: dict[Step, int]
) -> tuple[int, Step | None]:
    """How deep ``profile``'s trees are with each name replaced by its value's tree,
    and the step whose value makes them deepest (None: no value read adds a level)."""
    deepest, through = profile.depth, None
    for name, level in profile.names:
        source = owners.get(name)
        if source is None or source == step or source not in depths:
            continue
        if level - 1 + depths[source] > deepest:
            deepest, through = level - 1 + depths[source], source
    return deepest, through


def _owners(plan: Plan) -> dict[str, Step]:
    """The step that computes each derived value and table output."""
    found: dict[str, Step] = {ident: ("derived", ident) for ident in plan.derived}
    for table in plan.tables.values():
        for output in table.outputs:
            found[output.id] = ("table", table.id)
    return found


def _owner_object(plan: Plan, step: Step) -> Derived | Table:
    kind, ident = step
    return plan.derived[ident] if kind == "derived" else plan.tables[ident]


def _profiles(owner: Derived | Table) -> tuple[_Profile, _Profile]:
    held = _PROFILES.get(id(owner))
    if held is not None and held[0] is owner:
        return held[1], held[2]
    if len(_PROFILES) > _PROFILES_LIMIT:
        _PROFILES.clear()
    if isinstance(owner, Derived):
        value, use = _profile([owner.expr]), _profile([])
    else:
        outputs = [o.default for o in owner.outputs if o.default is not None]
        tests: list[Expr | Test] = [column.expr for column in owner.inputs]
        for rule in owner.rules:
            outputs += rule.outputs
            tests += rule.tests
        value, use = _profile(outputs), _profile(tests)
    _PROFILES[id(owner)] = (owner, value, use)
    return value, use


def _profile(trees: Sequence[Expr | Test]) -> _Profile:
    depth, names = 0, {}
    for tree in trees:
        pending: list[tuple[object, int]] = [(tree, 1)]
        while pending:  # no recursion: the trees are what this module measures
            node, level = pending.pop()
            depth = max(depth, level)
            if isinstance(node, Name):
                names[node.name] = max(level, names.get(node.name, 0))
            pending.extend((child, level + 1) for child in children(node))
    return _Profile(depth, tuple(names.items()))


def _chain(step: Step, via: dict[Step, Step]) -> list[str]:
    """The identifiers along a value's deepest path, from ``step`` back to its start."""
    found = [step[1]]
    while step in via:
        step = via[step]
        found.append(step[1])
    return found


def _too_deep(
    plan: Plan, step: Step, depth: int, chain: list[str], report: Report
) -> None:
    kind, ident = step
    what = f"派生值「{ident}」" if kind == "derived" else f"决策表「{ident}」"
    shown = chain if len(chain) <= 5 else [*chain[:3], "……", chain[-1]]
    report.error(
        "E306",
        f"{what}的计算层次过深：把它引用的派生值和决策表输出逐层代入后"
        f"共 {depth} 层，超过上限 {MAX_CHAIN_DEPTH} 层",
        _owner_object(plan, step).location,
        found=f"{' ← '.join(shown)}（{len(chain)} 个值逐个引用前一个）",
        expected=f"逐层代入后不超过 {MAX_CHAIN_DEPTH} 层的计算",
        hint="合并这一串中的几步，或让后面的值直接引用更早的值，使引用链变短",
    )


def _too_long(plan: Plan, step: Step, chain: list[str], report: Report) -> None:
    kind, ident = step
    what = f"派生值「{ident}」" if kind == "derived" else f"决策表「{ident}」"
    shown = [*chain[:3], "……", chain[-1]]
    report.error(
        "E306",
        f"{what}的引用链过长：{len(chain)} 个派生值和决策表逐个引用前一个，"
        f"超过上限 {MAX_CHAIN_DEPTH} 个",
        _owner_object(plan, step).location,
        found=" ← ".join(shown),
        expected=f"不超过 {MAX_CHAIN_DEPTH} 个派生值和决策表的引用链",
        hint="合并这一串中的几步，或让后面的值直接引用更早的值，使引用链变短",
    )


def query_too_deep(plan: Plan, program: Program, refused: bool = False) -> Diagnostic | None:
    """E306 at the derived value or table whose CTE first makes ``program`` nest more
    than ``MAX_QUERY_DEPTH`` levels; None when the query is within it, unless DuckDB
    ``refused`` it as too deep anyway (then at the deepest step)."""
    limit = MAX_QUERY_DEPTH
    if (program.depth <= limit and not refused) or not plan.order:
        return None
    # the query adds its own two levels above the deepest CTE (Program.depth)
    past = [p for p, d in sorted(program.step_depths.items()) if d + 2 > limit]
    position = past[0] if past else max(program.step_depths, key=program.step_depths.__getitem__, default=0)
    kind, ident = plan.order[min(position, len(plan.order) - 1)]
    what = f"派生值「{ident}」" if kind == "derived" else f"决策表「{ident}」"
    owner = _owner_object(plan, (kind, ident))
    return make(
        "E306",
        f"计算嵌套过深：本县的派生值和决策表编译成的查询嵌套 {program.depth} 层，"
        f"超过上限 {limit} 层，从{what}起超出",
        owner.location,
        found=f"{len(plan.derived)} 个派生值、{len(plan.tables)} 张决策表，共嵌套 {program.depth} 层",
        expected=f"不超过 {limit} 层：互不引用的派生值合占一层，每张决策表占三层，"
        "引用前一个值的派生值和带除法的派生值各多占一层以上",
        hint="把条件相同的几张决策表合并为一张有多个输出的表，或合并逐个引用前一个的派生值",
    )


def check_query_depth(plan: Plan, program: Program, report: Report) -> None:
    """E306 into ``report`` when the county's compiled query nests too deep."""
    found = query_too_deep(plan, program)
    if found is not None:
        report.add(found)


__all__ = ["MAX_CHAIN_DEPTH", "MAX_QUERY_DEPTH", "check_chains", "check_query_depth", "query_too_deep"]
