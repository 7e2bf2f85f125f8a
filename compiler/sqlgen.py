"""The SQL pass: a bound Plan becomes one DuckDB query that decides for all households.

The query is a chain of CTEs, one (or, for a decision table, three: inputs, rule matches,
outputs) per step of the plan, each carrying a comment with the workbook cell and the
policy section it came from. It reads these relations, which the evaluator provides:

    jz_households, jz_members, jz_events   the input, one column per declared field
    jz_standard_rows                       county_code, id, value, effective_from,
                                           effective_until, precedence, verified
    jz_params                              one row: as_of DATE
    jz_as_of()                             a macro: the same date, as a DATE literal
    jz_versions                            county_code, version
    jz_calendar                            seq INTEGER[], work DATE[] (working days)

Nothing from a cell is pasted into SQL: names go through ``quote``, values through
``literal``, which render typed literals from already-parsed Python values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from compiler.bind import AS_OF, DECISION_COLUMNS, Plan, tested_inputs
from compiler.expr import (
    Call,
    Literal,
    Test,
    children,
    names_in,
    render,
)
from compiler.functions import FUNCTIONS
from compiler.interpret import priority
from compiler.model import Aggregation, DType, HitPolicy, Kind, Level, Table
from compiler.normalise import fold_text
from compiler.sqlgen_decisions import Decisions
from compiler.sqlgen_expr import (
    PRELUDE,
    SQL_TYPES,
    Expressions,
    comment,
    literal,
    quote,
    sql_type,
    string,
)
from compiler.sqlgen_guard import Guard, defaults_of, guard_condition, neutral
from compiler.sqlgen_nesting import Nesting, Values, earliest, read_names

RELATIONS = {Level.HOUSEHOLD: "h", Level.MEMBER: "m", Level.EVENT: "e"}
SOURCES = {Level.HOUSEHOLD: "jz_households", Level.MEMBER: "jz_members", Level.EVENT: "jz_events"}


@dataclass
class Program:
    """A compiled plan: the statements that store intermediate values, then the query
    that returns the decisions; ``sql`` is all of it as one script."""

    sql: str
    standards: dict[str, DType]
    tables: list[str]
    notes: list[str] = field(default_factory=list)
    statements: list[str] = field(default_factory=list)
    final: str = ""
    query: str = ""  # the statements and the final query as one, see _Compiler.one_query
    # how many CTEs deep ``query`` nests, and the deepest CTE each step of the plan
    # made, by its position in Plan.order (compiler/sqlgen_nesting.py)
    depth: int = 0
    step_depths: dict[int, int] = field(default_factory=dict)


TRACE_MODES = ("full", "compact", "none")
OUTPUTS = DECISION_COLUMNS
INDEXES = {Level.HOUSEHOLD: "_hh_index", Level.MEMBER: "_member_index", Level.EVENT: "_event_index"}
# The keys every input view has whether the rulebook declares them or not (a
# DMN-imported rulebook declares only its inputs): households_model.KEYS
INPUT_KEYS = {Level.HOUSEHOLD: {"county_code"}, Level.MEMBER: {"person_id"}}

# Columns every stored intermediate table keeps: keys, order, what the output needs.
KEYS = frozenset({
    "household_id", "county_code", "person_id", "as_of", "_hh_index", "_member_index",
    "_event_index", "event.person_id", "event.date", "event.type",
})


@dataclass
class _Relation:
    """The latest CTE of one level and the columns it carries."""

    name: str
    columns: set[str]


class _Compiler(Expressions, Decisions):
    """Compiles one plan; expressions and the final decisions query come from the two
    mixins, steps, stored tables and decision tables are here."""

    def __init__(
        self, plan: Plan, suffix: str = "", trace: str = "full", outputs: str = "decisions"
    ) -> None:
        self.plan = plan
        self.ending = outputs  # "decisions" or "tables", see compile_plan
        self.suffix = suffix
        self.trace_mode = trace
        self.pending: dict[Level, list[str | Values]] = {level: [] for level in Level}
        # each level's pending CTEs of values, in order (sqlgen_nesting)
        self.chains: dict[Level, list[Values]] = {level: [] for level in Level}
        self.nesting = Nesting()
        self.statements: list[str] = []
        self.stored: list[tuple[str, str]] = []  # each stored table and its query
        self.checked: dict[str, list[str]] = {}  # the contract columns of stored tables
        self.kept: dict[Level, list[_Relation]] = {level: [] for level in Level}  # stored
        self.counter = 0
        self.aggregates: dict[Call, str] = {}  # member aggregates already on households
        self.hoisted: list[tuple[str, str]] | None = None  # division operands, see hoist
        self.position = 0  # the step being compiled
        self.guard: Guard | None = None  # the member steps being guarded, see member_guard
        self.guarded: dict[str, Guard] = {}  # stored member tables with guarded rows
        fields = plan.rulebook.fields.values()
        self.relations = {
            level: _Relation(
                SOURCES[level] + suffix, {f.id for f in fields if f.level is level} | {"household_id"}
            )
            for level in Level
        }
        for level, index in INDEXES.items():
            self.relations[level].columns.add(index)
            # the input's keys, declared or not (households_model.KEYS)
            self.relations[level].columns |= INPUT_KEYS.get(level, set())
        household = self.relations[Level.HOUSEHOLD]
        household.columns |= set(plan.rulebook.standards) | {AS_OF}

    # ------------------------------------------------------------ the whole query

    def run(self) -> Program:
        self.constants = self.county_constants()
        self.standards_cte()
        for position, step in enumerate(self.plan.order):
            self.position = position
            kind, ident = step
            if kind == "derived" and ident in self.constants:
                continue
            if kind == "derived":
                self.derived(ident)
            else:
                self.table(self.plan.tables[ident])
        self.position = len(self.plan.order)
        for level in (Level.MEMBER, Level.EVENT, Level.HOUSEHOLD):
            self.materialize(level)
        final = self.final() if self.ending == "decisions" else self.table_outputs()
        self.settle_guards(final)
        standards = {ident: s.dtype for ident, s in self.plan.rulebook.standards.items()}
        sql = ";\n\n".join([*self.statements, final])
        # the final query and, around it, the one that checks the contracts
        depth = max(self.nesting.depths.values(), default=0) + 2
        return Program(
            sql, standards, list(self.plan.tables), [], list(self.statements), final,
            self.one_query(final), depth, dict(self.nesting.steps),
        )

    def one_query(self, final: str) -> str:
        """The whole program as one query, each stored table a CTE: materialized when
        more than one later step reads it, inlined into its reader when one does.

        DuckDB keeps a materialized CTE as plain column chunks, where a temporary table
        also keeps statistics and row groups: at a million households the six tables
        cost 2-3 s of CPU that the CTEs do not. The tables remain for ``statements``.
        """
        if not self.stored:
            return final
        # DuckDB computes only the columns of a CTE that are read: a contract is checked
        # only if its rule column is read, here by a count that is never negative
        checks = [
            f"(SELECT {' + '.join(f'count({quote(c)})' for c in columns)} FROM {quote(t)}) >= 0"
            for t, columns in self.checked.items()
        ]
        parts = []
        for position, (table, body) in enumerate(self.stored):
            readers = [b for _, b in self.stored[position + 1 :]] + [final, *checks]
            reads = sum(text.count(quote(table)) for text in readers)
            kind = "AS MATERIALIZED" if reads > 1 else "AS"
            parts.append(f"{quote(table)} {kind} (\n{body}\n)")
        ctes = ",\n".join(parts)
        if not checks:
            return f"WITH\n{ctes}\n{final}"
        where = f"WHERE {' AND '.join(checks)}"
        if "\nORDER BY " not in final:
            return f"WITH\n{ctes}\nSELECT * FROM (\n{final}\n) {where}"
        selected, order = final.rsplit("\nORDER BY ", 1)
        return f"WITH\n{ctes}\n{selected}\n{where}\nORDER BY {order}"

    def add(self, level: Level, name: str, body: str, note: str = "") -> None:
        header = f"{comment(note)}\n" if note else ""
        self.pending[level].append(f"{header}{quote(name)} AS (\n{body}\n)")
        self.nesting.add(name, body, self.position)

    def with_clause(self, level: Level) -> str:
        ctes = self.pending[level]
        self.pending[level], self.chains[level] = [], []
        return "WITH\n" + ",\n".join(map(str, ctes)) + "\n" if ctes else ""

    def materialize(self, level: Level) -> None:
        """Store a level's pending steps as a temporary table before another level reads
        it, keeping only the columns later steps use: an inlined CTE read twice would be
        computed twice, and each level switch would double the work."""
        if not self.pending[level]:
            return
        relation = self.relations[level]
        keep = sorted(c for c in relation.columns if self.keeps(c))
        self.counter += 1
        table = f"jz_t{self.suffix}_{RELATIONS[level]}{self.counter}"
        columns = ", ".join(quote(c) for c in keep)
        body = f"{self.with_clause(level)}SELECT {columns} FROM {quote(relation.name)}"
        if level is Level.MEMBER and self.guard is not None:
            if self.guard.spoiled:  # another member step joined the guarded ones
                body = body.replace(self.guard.guarded, self.guard.plain, 1)
            else:
                self.guarded[table] = self.guard
            self.guard = None
        self.stored.append((table, body))
        self.nesting.add(table, body, self.position)
        self.kept[level].append(_Relation(table, set(keep)))
        # a contract is checked where its rule column is first stored
        earlier = {c for columns in self.checked.values() for c in columns}
        checked = [c for c in keep if self.checks_contract(c) and c not in earlier]
        if checked:
            self.checked[table] = checked
        self.statements.append(
            f"{comment(f'{level.value} values computed so far, stored once for the next steps')}\n"
            f"CREATE OR REPLACE TEMP TABLE {quote(table)} AS\n{body}"
        )
        self.relations[level] = _Relation(table, set(keep))

    def keeps(self, column: str) -> bool:
        """Whether a stored table keeps a column: only what the step being compiled,
        a later step or the decisions read (a province has millions of rows)."""
        if column in KEYS or column in OUTPUTS or column in self.needed_from(self.position):
            return True
        item = self.plan.items.get(column)
        if column.endswith(".__rule"):
            return self.trace_mode != "none" or self.checks_contract(column)
        if item is not None and item.kind == "output":
            return self.trace_mode != "none"  # the trace shows every table's outcome
        return column in self.aggregates.values()

    def checks_contract(self, column: str) -> bool:
        """Whether a column is the rule column of a UNIQUE or ANY table, which raises
        the broken contract when it is computed."""
        table = self.plan.tables.get(column.removesuffix(".__rule"))
        unique = table is not None and table.hit_policy in (HitPolicy.UNIQUE, HitPolicy.ANY)
        return column.endswith(".__rule") and unique

    def needed_from(self, position: int) -> set[str]:
        """Every name read by the steps from ``position`` on."""
        if not hasattr(self, "_needed"):
            needed: list[set[str]] = [set()]
            for step in reversed(self.plan.order):
                names = {n for e in self.step_exprs(step) for n in _names(e)}
                needed.append(needed[-1] | names)
            self._needed = list(reversed(needed))
        return self._needed[min(position, len(self._needed) - 1)]

    def fresh(self, stem: str) -> str:
        self.counter += 1
        return f"{stem}_{self.counter}"

    def standards_cte(self) -> None:
        columns = []
        for ident, standard in self.plan.rulebook.standards.items():
            pick = (
                f"arg_min(r.value, r.precedence) FILTER (WHERE r.id = {string(ident)}"
                " AND (r.effective_from IS NULL OR r.effective_from <= p.as_of)"
                " AND (r.effective_until IS NULL OR r.effective_until >= p.as_of))"
            )
            columns.append(f"  CAST({pick} AS {sql_type(standard.dtype)}) AS {quote(ident)}")
        select = ",\n".join(["  r.county_code", *columns, "  any_value(p.as_of) AS as_of"])
        self.add(
            Level.HOUSEHOLD,
            "std",
            f"SELECT\n{select}\nFROM jz_standard_rows r CROSS JOIN jz_params p\n"
            "GROUP BY r.county_code",
            "standards in force on the decision date, county before city before province",
        )
        county = "std"
        for ident in self.constants:
            derived = self.plan.derived[ident]
            self.household_key = "NULL"  # a county's row: no household to name
            value = self.cast(self.expr(derived.expr, Level.HOUSEHOLD, {}), derived.dtype)
            self.household_key = "household_id"
            name = self.fresh(f"std_{ident}")
            self.add(
                Level.HOUSEHOLD,
                name,
                f"SELECT s.*, {value} AS {quote(ident)}\nFROM {quote(county)} s",
                f"{derived.id} ({derived.name_cn}) = {derived.text}"
                + (f"  [{fold_text(derived.basis)}]" if derived.basis else "")
                + f"  {derived.location.render()}",
            )
            county = name
            self.relations[Level.HOUSEHOLD].columns.add(ident)
        self.add(
            Level.HOUSEHOLD,
            "h_0",
            f"SELECT h.*, std.* EXCLUDE (county_code, as_of), p.as_of AS as_of\n"
            f"FROM jz_households{self.suffix} h LEFT JOIN {quote(county)} std USING (county_code)"
            " CROSS JOIN jz_params p",
        )
        self.relations[Level.HOUSEHOLD].name = "h_0"

    def county_constants(self) -> list[str]:
        """Derived values that read only standards, the decision date and each other:
        the same for every household of a county, so computed once per county."""
        constant = set(self.plan.rulebook.standards) | {AS_OF}
        found = []
        for kind, ident in self.plan.order:
            if kind != "derived":
                continue
            derived = self.plan.derived[ident]
            expr = derived.expr
            on_households = derived.level in (Level.HOUSEHOLD, None)  # members read them by join
            if on_households and not _aggregate_calls(expr) and set(_names(expr)) <= constant:
                constant.add(ident)
                found.append(ident)
        return found

    # ------------------------------------------------------------ steps

    def hoisting(self, level: Level, source: _Source, compute: Callable[[], str]) -> tuple[str, str]:
        """Run ``compute`` (which renders SQL) collecting division operands; compute each
        operand as a column (``place``) and return the SELECT head and FROM clause the
        step should use."""
        self.hoisted = []
        compute()
        hoisted, self.hoisted = self.hoisted, None
        head, from_clause = source.columns, source.from_clause
        for column, operand in hoisted:
            head, from_clause = self.place(level, column, operand, "", head, from_clause)
        return head, from_clause

    def place(
        self, level: Level, ident: str, sql: str, note: str, head: str, from_clause: str
    ) -> tuple[str, str]:
        """Compute ``sql`` as the level's column ``ident``: in the earliest of the level's
        pending CTEs of values that follows what it reads, when ``head`` and
        ``from_clause`` join nothing, else in a CTE of its own (sqlgen_nesting: one CTE
        each nested a county's thousand values past what DuckDB binds). Returns the
        head and FROM clause of what reads it."""
        relation, alias = self.relations[level], RELATIONS[level]
        plain = f"FROM {quote(relation.name)} {alias}"
        chain = self.chains[level]
        values = None
        if head == f"{alias}.*" and from_clause == plain:
            values = earliest(chain, read_names(sql) & relation.columns)
        if values is None:
            values = Values(self.fresh(f"{alias}_{ident}"), head, from_clause, frozenset(relation.columns))
            self.pending[level].append(values)
            chain.append(values)
            self.nesting.add(values.name, f"{head}\n{from_clause}", self.position)
            relation = self.relations[level] = _Relation(values.name, relation.columns)
        values.add(ident, sql, note)
        relation.columns.add(ident)
        depth = self.nesting.depths[values.name]
        self.nesting.steps[self.position] = max(depth, self.nesting.steps.get(self.position, 0))
        return f"{alias}.*", f"FROM {quote(relation.name)} {alias}"

    def derived(self, ident: str) -> None:
        derived = self.plan.derived[ident]
        if derived.level is Level.MEMBER and self.guard is not None:
            self.guard.spoiled = True  # its rows are the guarded table's alone
        source = self.source(derived.level, [derived.expr])
        value = ""

        def render_value() -> str:
            nonlocal value
            sql = self.expr(derived.expr, derived.level, source.aggregates)
            value = self.narrowed(sql, self.scale(derived.expr), derived.dtype)
            return value

        head, from_clause = self.hoisting(derived.level, source, render_value)
        note = (
            f"{derived.id} ({derived.name_cn}) = {derived.text}"
            + (f"  [{fold_text(derived.basis)}]" if derived.basis else "")
            + f"  {derived.location.render()}"
        )
        self.place(derived.level, ident, value, note, head, from_clause)

    def source(self, level: Level, exprs: list[object], guarded: Table | None = None) -> _Source:
        """The FROM clause for a step: the level's relation, joined to what it needs.
        A member table ``guarded`` may take only the members its rules could match
        (``member_guard``)."""
        relation = self.relations[level]
        alias = RELATIONS[level]
        needed = self.household_names(exprs) - relation.columns if level is not Level.HOUSEHOLD else set()
        from_clause = f"FROM {quote(relation.name)} {alias}"
        if guarded is not None and needed:
            from_clause = self.member_guard(guarded, relation, from_clause)
        if needed:
            self.materialize(Level.HOUSEHOLD)
            if level is Level.MEMBER:
                needed |= self.household_values_ahead(relation)
            household = self.relations[Level.HOUSEHOLD].name
            columns = ", ".join(quote(c) for c in sorted(needed))
            from_clause += (
                f"\nJOIN (SELECT household_id, {columns} FROM {quote(household)}) hx"
                " USING (household_id)"
            )
            relation.columns |= needed
        extra = [f"hx.{quote(c)}" for c in sorted(needed)]
        if level is Level.EVENT:
            from_clause, extra = self.event_member_join(exprs, relation, from_clause, extra)
        aggregates: dict[Call, str] = {}
        if level is Level.HOUSEHOLD:
            calls = [c for e in exprs for c in _aggregate_calls(e) if c not in self.aggregates]
            if calls:
                calls += self.ready_aggregates(set(calls))
                from_clause += "\n" + self.aggregate_join(calls, aggregates)
                extra += [f"a.{quote(column)}" for column in dict.fromkeys(aggregates.values())]
                relation.columns |= set(aggregates.values())
                self.aggregates.update(aggregates)
        return _Source(alias, from_clause, aggregates, extra)

    def member_guard(self, table: Table, relation: _Relation, from_clause: str) -> str:
        """The FROM clause of a member table that joins household values, taking only
        the members some rule could match when nothing else is being computed for
        the members yet and there is no trace (compiler/sqlgen_guard.py). Whether the
        guard stays is settled when every reader of its rows is known."""
        if self.trace_mode != "none" or self.pending[Level.MEMBER] or not table.hit_policy.single_hit:
            return from_clause
        whole = [c.dtype.kind is Kind.INTEGER for c in table.inputs]

        def render(test: Test, column: str, index: int) -> str:
            return self.test(test, f"{RELATIONS[Level.MEMBER]}.{quote(column)}", Level.MEMBER, whole[index])

        condition = guard_condition(table, relation.columns, render)
        if condition is None:
            return from_clause
        guarded = (
            f"FROM (SELECT * FROM {quote(relation.name)} {RELATIONS[Level.MEMBER]} WHERE {condition})"
            f" {RELATIONS[Level.MEMBER]}"
        )
        self.guard = Guard(table, guarded, from_clause, defaults_of(table))
        return guarded

    def settle_guards(self, final: str) -> None:
        """Keep a guard only where every later reader of the guarded table is a member
        aggregate that a left-out member would not change; elsewhere compute the table
        for every member again."""
        for position, (table, body) in enumerate(self.stored):
            guard = self.guarded.get(table)
            if guard is None:
                continue
            readers = [b for _, b in self.stored[position + 1 :]] + [final]
            reads = sum(text.count(quote(table)) for text in readers)
            if not guard.spoiled and reads == guard.neutral_reads:
                continue
            self.stored[position] = (table, body.replace(guard.guarded, guard.plain, 1))
            created = f"CREATE OR REPLACE TEMP TABLE {quote(table)} AS\n"
            self.statements = [
                s.replace(guard.guarded, guard.plain, 1) if created in s else s for s in self.statements
            ]
            del self.guarded[table]

    def event_member_join(
        self, exprs: list[object], relation: _Relation, from_clause: str, extra: list[str]
    ) -> tuple[str, list[str]]:
        """Join, for an event, the member its event.person_id names (null when none)."""
        wanted = {
            ident
            for expr in exprs
            for ident in _names(expr)
            if (item := self.plan.items.get(ident)) and item.level is Level.MEMBER
        } - relation.columns
        if not wanted:
            return from_clause, extra
        self.materialize(Level.MEMBER)
        # the first stored member values that hold what the event reads: later ones are
        # then read by fewer steps, and one read by a single step need not be stored
        members = next(
            (r.name for r in self.kept[Level.MEMBER] if wanted | {"person_id"} <= r.columns),
            self.relations[Level.MEMBER].name,
        )
        columns = ", ".join(quote(c) for c in sorted(wanted))
        from_clause += (
            f"\nLEFT JOIN (SELECT household_id AS __hid, person_id AS __pid, {columns}"
            f" FROM {quote(members)}) mx ON mx.__hid = e.household_id"
            ' AND mx.__pid = e."event.person_id"'
        )
        relation.columns |= wanted
        return from_clause, [*extra, *(f"mx.{quote(c)}" for c in sorted(wanted))]

    def household_values_ahead(self, relation: _Relation) -> set[str]:
        """The stored household values that the member steps right after this one read:
        joined with what this step reads, so that the members meet their households
        once rather than once per step (each join probes every member: 5% of the
        decisions query at a million households). The look ends at the first step of
        another level, after which the members may be stored and a member table
        guarded (``member_guard``)."""
        stored = self.relations[Level.HOUSEHOLD].columns
        ahead: set[str] = set()
        for kind, ident in self.plan.order[self.position + 1 :]:
            step = self.plan.derived[ident] if kind == "derived" else self.plan.tables[ident]
            if step.level is not Level.MEMBER:
                break
            ahead |= self.household_names(self.step_exprs((kind, ident)))
        return (ahead & stored) - relation.columns

    def household_names(self, exprs: list[object]) -> set[str]:
        names: set[str] = set()
        for expr in exprs:
            for ident in _names(expr):
                item = self.plan.items.get(ident)
                if item and (item.level is Level.HOUSEHOLD or item.level is None):
                    names.add(ident)
        return names

    def ready_aggregates(self, taken: set[Call]) -> list[Call]:
        """Later steps' member aggregates that can be computed now, so that one pass over
        the members serves them all (each separate pass costs a group-by and a join)."""
        self.materialize(Level.MEMBER)
        available = (
            self.relations[Level.MEMBER].columns
            | self.relations[Level.HOUSEHOLD].columns
            | set(self.plan.rulebook.standards)
        )
        ready: list[Call] = []
        for step in self.plan.order[self.position + 1 :]:
            for expr in self.step_exprs(step):
                for call in _aggregate_calls(expr):
                    names = {n for a in call.args for n in _names(a)}
                    fresh = call not in taken and call not in self.aggregates
                    if fresh and names <= available and call not in ready:
                        ready.append(call)
        return ready

    def step_exprs(self, step: tuple[str, str]) -> list[object]:
        kind, ident = step
        if kind == "derived":
            return [self.plan.derived[ident].expr]
        table = self.plan.tables[ident]
        exprs: list[object] = [c.expr for c, t in zip(table.inputs, tested_inputs(table), strict=True) if t]
        exprs += [c.default for c in table.outputs if c.default is not None]
        for rule in table.rules:
            exprs += [*rule.tests, *rule.outputs]
        return exprs

    def aggregate_join(self, calls: list[Call], aggregates: dict[Call, str]) -> str:
        parts = []
        for call in dict.fromkeys(calls):
            column = self.fresh("agg")
            aggregates[call] = column
            parts.append(f"{self.aggregate(call)} AS {quote(column)}")
        self.materialize(Level.MEMBER)
        members = self.relations[Level.MEMBER]
        guard = self.guarded.get(members.name)
        if guard is not None:  # guarded rows: every aggregate must ignore those left out
            if all(neutral(call, guard.defaults) for call in calls):
                guard.neutral_reads += 1
            else:
                guard.spoiled = True
        needed = self.household_names([a for c in calls for a in c.args]) - members.columns
        join = ""
        if needed:
            household = self.relations[Level.HOUSEHOLD].name
            cols = ", ".join(quote(c) for c in sorted(needed))
            join = f" JOIN (SELECT household_id, {cols} FROM {quote(household)}) hx USING (household_id)"
        return (
            f"LEFT JOIN (SELECT m.household_id, {', '.join(parts)}\n"
            f"  FROM {quote(members.name)} m{join} GROUP BY m.household_id) a USING (household_id)"
        )

    def aggregate(self, call: Call) -> str:
        args = [self.expr(a, Level.MEMBER, {}) for a in call.args]
        condition = f" FILTER (WHERE {args[1]})" if len(args) > 1 else ""
        match call.func:
            case "sum":
                return f"sum({args[0]}){condition}"
            case "count":
                return f"count(*) FILTER (WHERE {args[0]})"
            case "exists":
                return f"bool_or(coalesce({args[0]}, FALSE))"
            case "every":
                return f"bool_and(coalesce({args[0]}, FALSE))"
            case "min_of":
                return f"min({args[0]})"
            case "max_of":
                return f"max({args[0]})"
            case "collect":
                # sorting small lists afterwards is much faster than an ordered aggregate
                return (
                    f"list_transform(list_sort(list(struct_pack(i := m._member_index, v := {args[0]}))"
                    f" FILTER (WHERE ({args[1]}) AND ({args[0]}) IS NOT NULL)), lambda s: s.v)"
                )
        raise ValueError(call.func)

    # ------------------------------------------------------------ decision tables

    def table(self, table: Table) -> None:
        # a column every rule answers with "-" is not computed, as the interpreter
        # does not read it (Plan.unread_derived)
        tested = tested_inputs(table)
        exprs: list[object] = [c.expr for c, t in zip(table.inputs, tested, strict=True) if t]
        exprs += [o for rule in table.rules for o in rule.outputs]
        exprs += [t for rule in table.rules for t in rule.tests]
        exprs += [c.default for c in table.outputs if c.default is not None]
        member = table.level is Level.MEMBER
        if member and self.guard is not None and self.guard.table is not table:
            self.guard.spoiled = True  # its rows are the guarded table's alone
        source = self.source(table.level, exprs, guarded=table if member else None)
        alias, level = source.alias, table.level
        inputs = [
            f"{self.expr(c.expr, level, source.aggregates) if tested[i] else 'NULL'}"
            f" AS {quote(self.input_name(table, i))}"
            for i, c in enumerate(table.inputs)
        ]
        stage_in = self.fresh(f"{alias}_{table.id}_in")
        select = ", ".join([source.columns, *inputs])
        self.add(
            level,
            stage_in,
            f"SELECT {select}\n{source.from_clause}",
            f"decision table {table.id} ({fold_text(table.title)}), {table.policy_text}, "
            f"{table.location.render()}: inputs",
        )
        rules = self.ordered_rules(table)
        whole = [c.dtype.kind is Kind.INTEGER for c in table.inputs]
        matches = []
        for position, rule in enumerate(table.rules):
            tests = [
                self.test(t, f"{alias}.{quote(self.input_name(table, i))}", level, whole[i])
                for i, t in enumerate(rule.tests)
            ]
            condition = " AND ".join(f"({t})" for t in tests) or "TRUE"
            matches.append(
                f"  {comment(f'rule {rule.id}: {rule.location.render()} [{fold_text(rule.annotation)}]')}\n"
                f"  coalesce({condition}, FALSE) AS {quote(self.match_name(table, position))}"
            )
        stage_match = self.fresh(f"{alias}_{table.id}_match")
        self.add(
            level,
            stage_match,
            f"SELECT {alias}.*,\n" + ",\n".join(matches) + f"\nFROM {quote(stage_in)} {alias}"
            if matches
            else f"SELECT {alias}.* FROM {quote(stage_in)} {alias}",
        )
        outputs = self.outputs(table, rules, alias)
        stage_out = self.fresh(f"{alias}_{table.id}")
        self.add(
            level,
            stage_out,
            f"SELECT {alias}.*,\n" + ",\n".join(f"  {o}" for o in outputs)
            + f"\nFROM {quote(stage_match)} {alias}",
            f"decision table {table.id}: outputs by hit policy {table.policy_text}",
        )
        produced = {c.id for c in table.outputs} | {self.rule_column(table)}
        self.relations[level] = _Relation(stage_out, self.relations[level].columns | produced)

    def ordered_rules(self, table: Table) -> list[int]:
        """Rule positions in the order the policy looks at them."""
        positions = list(range(len(table.rules)))
        if table.hit_policy in (HitPolicy.PRIORITY, HitPolicy.OUTPUT_ORDER):
            def key(i: int) -> tuple[int, ...]:
                outs = [o.value if isinstance(o, Literal) else None for o in table.rules[i].outputs]
                return priority(table, outs)

            positions.sort(key=key)
        return positions

    def outputs(self, table: Table, order: list[int], alias: str) -> list[str]:
        match_of = {i: f"{alias}.{quote(self.match_name(table, i))}" for i in order}
        level = table.level
        if table.hit_policy.single_hit:
            return self.single_outputs(table, order, match_of, alias)
        columns = []
        for c, column in enumerate(table.outputs):
            element = sql_type(column.dtype)
            parts = [
                f"CASE WHEN {match_of[i]} THEN [{self.cast(self.expr(table.rules[i].outputs[c], level, {}), column.dtype)}]"
                f" ELSE CAST([] AS {element}[]) END"
                for i in order
            ]
            collected = f"flatten([{', '.join(parts)}])" if parts else f"CAST([] AS {element}[])"
            columns.append(f"{self.aggregated(table.aggregation, collected, column.dtype)} AS {quote(column.id)}")
        indices = [f"CASE WHEN {match_of[i]} THEN [{i + 1}] ELSE CAST([] AS INTEGER[]) END" for i in order]
        columns.append(
            f"flatten([{', '.join(indices)}]) AS {quote(self.rule_column(table))}"
            if indices
            else f"CAST([] AS INTEGER[]) AS {quote(self.rule_column(table))}"
        )
        return columns

    def aggregated(self, aggregation: Aggregation | None, collected: str, dtype: DType) -> str:
        match aggregation:
            case None:
                return collected
            case Aggregation.SUM:
                return self.cast(f"list_sum({collected})", dtype)
            case Aggregation.MIN:
                return f"list_min({collected})"
            case Aggregation.MAX:
                return f"list_max({collected})"
            case Aggregation.COUNT:
                return f"CAST(len(list_distinct({collected})) AS BIGINT)"
        raise ValueError(aggregation)

    def single_outputs(
        self, table: Table, order: list[int], match_of: dict[int, str], alias: str
    ) -> list[str]:
        level = table.level
        columns = []
        for c, column in enumerate(table.outputs):
            default = (
                self.cast(self.expr(column.default, level, {}), column.dtype)
                if column.default is not None
                else literal(None, column.dtype)
            )
            whens = [
                f"WHEN {match_of[i]} THEN {self.cast(self.expr(table.rules[i].outputs[c], level, {}), column.dtype)}"
                for i in order
            ]
            body = " ".join(whens)
            columns.append(
                f"CASE {body} ELSE {default} END AS {quote(column.id)}" if whens
                else f"{default} AS {quote(column.id)}"
            )
        columns.append(f"{self.rule_index(table, order, match_of, alias)} AS {quote(self.rule_column(table))}")
        return columns

    def rule_index(self, table: Table, order: list[int], match_of: dict[int, str], alias: str) -> str:
        whens = " ".join(f"WHEN {match_of[i]} THEN {i + 1}" for i in order)
        check = self.contract_check(table, order, match_of, alias)
        if not whens:
            return "CAST(NULL AS INTEGER)"
        return f"CASE {check}{whens} END"

    def contract_check(
        self, table: Table, order: list[int], match_of: dict[int, str], alias: str
    ) -> str:
        """A WHEN that raises a DuckDB error naming the household and the rules when a
        UNIQUE table matches twice or an ANY table's matches disagree."""
        if table.hit_policy not in (HitPolicy.UNIQUE, HitPolicy.ANY) or len(order) < 2:
            return ""
        ids = "[" + ", ".join(string(f"{r.id}（第 {r.row} 行）") for r in table.rules) + "]"
        matched = "list_filter(range(1, " + str(len(table.rules) + 1) + "), lambda i: [" + ", ".join(
            match_of[i] for i in range(len(table.rules))
        ) + "][i])"
        names = f"array_to_string(list_transform({matched}, lambda i: {ids}[i]), '、')"
        count = " + ".join(f"CAST({match_of[i]} AS INTEGER)" for i in order)
        if table.hit_policy is HitPolicy.UNIQUE:
            condition, code = f"({count}) > 1", "E601"
        else:
            condition, code = self.any_conflict(table, order, match_of), "E602"
            if not condition:
                return ""
        message = (
            f"{string(code + '|' + table.id + '|')} || CAST({alias}.household_id AS VARCHAR)"
            f" || '|' || {names}"
        )
        return f"WHEN {condition} THEN error({message}) "

    def any_conflict(self, table: Table, order: list[int], match_of: dict[int, str]) -> str:
        """The condition under which an ANY table's matching rules give different outputs;
        empty when they cannot (every rule gives the same expression for every output
        column: expressions are deterministic, so the same text gives the same value)."""
        level = table.level
        firsts: list[str] = []
        for c, column in enumerate(table.outputs):
            outs = {i: self.cast(self.expr(table.rules[i].outputs[c], level, {}), column.dtype) for i in order}
            if len(set(outs.values())) == 1:
                continue
            first = "CASE " + " ".join(f"WHEN {match_of[i]} THEN {outs[i]}" for i in order) + " END"
            firsts.extend(f"({match_of[i]} AND {outs[i]} IS DISTINCT FROM {first})" for i in order)
        return "(" + " OR ".join(firsts) + ")" if firsts else ""

    @staticmethod
    def input_name(table: Table, index: int) -> str:
        return f"{table.id}.__in{index + 1}"

    @staticmethod
    def match_name(table: Table, position: int) -> str:
        return f"{table.id}.__r{position + 1}"


@dataclass
class _Source:
    alias: str
    from_clause: str
    aggregates: dict[Call, str]
    extra: list[str]

    @property
    def columns(self) -> str:
        """The select list's head: the relation's columns and what the joins bring."""
        return ", ".join([f"{self.alias}.*", *self.extra])


def _aggregate_calls(node: object) -> list[Call]:
    return list(_aggregate_calls_of(node))


@lru_cache(maxsize=65536)
def _aggregate_calls_of(node: object) -> tuple[Call, ...]:
    """The member aggregates in an expression (trees are immutable: asked once each;
    90 counties share most of their trees)."""
    if isinstance(node, Call) and FUNCTIONS[node.func].aggregate:
        return (node,)
    return tuple(call for child in children(node) for call in _aggregate_calls_of(child))


def _names(node: object) -> list[str]:
    return [] if node is None else list(_names_of(node))


@lru_cache(maxsize=65536)
def _names_of(node: object) -> tuple[str, ...]:
    return tuple(names_in(node))  # type: ignore[arg-type]


def compile_plan(
    plan: Plan, suffix: str = "", trace: str = "full", outputs: str = "decisions"
) -> Program:
    """Compile a bound plan to one DuckDB query (see the module docstring).

    ``suffix`` is appended to the three input relation names, so that groups of
    counties can read their own views of the input in one combined query. ``trace`` is
    "full" (table, rule, cell, outcome, policy section), "compact" (no cell and section:
    they are fixed per rule and listed in the build) or "none". ``outputs`` is
    "decisions" (the decision contract's columns) or "tables" (each household's
    decision-table outputs and rule columns, which the DMN conformance runner reads).
    """
    if trace not in TRACE_MODES:
        raise ValueError(f"trace must be one of {TRACE_MODES}")
    if outputs not in ("decisions", "tables"):
        raise ValueError("outputs must be 'decisions' or 'tables'")
    return _Compiler(plan, suffix, trace, outputs).run()


# the vocabulary is re-exported: the loaders and tests write SQL with it
__all__ = [
    "PRELUDE", "SQL_TYPES", "TRACE_MODES", "Program", "comment", "compile_plan", "literal",
    "quote", "render", "string",
]
