"""The SQL pass: a bound Plan becomes one DuckDB query that decides for all households.

The query is a chain of CTEs, one (or, for a decision table, three: inputs, rule matches,
outputs) per step of the plan, each carrying a comment with the workbook cell and the
policy section it came from. It reads these relations, which the evaluator provides:

    jz_households, jz_members, jz_events   the input, one column per declared field
    jz_standard_rows                       county_code, id, value, effective_from,
                                           effective_until, precedence, verified
    jz_params                              one row: as_of DATE
    jz_versions                            county_code, version
    jz_calendar                            seq INTEGER[], work DATE[] (working days)

Nothing from a cell is pasted into SQL: names go through ``quote``, values through
``literal``, which render typed literals from already-parsed Python values.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache

from compiler.bind import AS_OF, Plan
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
    children,
    names_in,
    render,
)
from compiler.functions import FUNCTIONS
from compiler.interpret import priority
from compiler.model import SCALES, Aggregation, DType, HitPolicy, Kind, Level, Table

SQL_TYPES = {
    Kind.MONEY: "DECIMAL(18,2)",
    Kind.NUMBER: "DECIMAL(18,4)",
    Kind.INTEGER: "BIGINT",
    Kind.PERCENT: "DECIMAL(18,6)",
    Kind.BOOLEAN: "BOOLEAN",
    Kind.DATE: "DATE",
    Kind.TEXT: "VARCHAR",
    Kind.ENUM: "VARCHAR",
    Kind.LIST: "VARCHAR[]",
}
RELATIONS = {Level.HOUSEHOLD: "h", Level.MEMBER: "m", Level.EVENT: "e"}
SOURCES = {Level.HOUSEHOLD: "jz_households", Level.MEMBER: "jz_members", Level.EVENT: "jz_events"}

# Helper macros the compiled SQL relies on; created once per connection.
PRELUDE = """
CREATE OR REPLACE TEMP MACRO jz_d6(a) AS CAST(CAST(a AS DECIMAL(18,6)) * 1000000 AS BIGINT);
CREATE OR REPLACE TEMP MACRO jz_div_small(x, y) AS
  sign(x) * sign(y) * ((abs(x) // abs(y)) * 1000000
    + ((abs(x) % abs(y)) * 2000000 + abs(y)) // (2 * abs(y)));
CREATE OR REPLACE TEMP MACRO jz_h6(a) AS CAST(CAST(a AS DECIMAL(38,10)) * 1000000 AS HUGEINT);
CREATE OR REPLACE TEMP MACRO jz_div_big(a, b) AS
  sign(jz_h6(a)) * sign(jz_h6(b))
    * ((2 * abs(jz_h6(a)) * CAST(1000000 AS HUGEINT) + abs(jz_h6(b))) // (2 * abs(jz_h6(b))));
CREATE OR REPLACE TEMP MACRO jz_div(a, b) AS (
  CASE WHEN a IS NULL OR b IS NULL OR abs(b) < 0.0000005 THEN NULL
    ELSE CAST(CASE WHEN abs(a) < 1000000 AND abs(b) < 1000000
              THEN CAST(jz_div_small(jz_d6(a), jz_d6(b)) AS HUGEINT)
              ELSE jz_div_big(a, b) END AS DECIMAL(38,0)) * CAST(0.000001 AS DECIMAL(7,6)) END);
CREATE OR REPLACE TEMP MACRO jz_age(born, on_day) AS
  CAST(year(on_day) - year(born)
    - CASE WHEN month(on_day) * 100 + day(on_day) < month(born) * 100 + day(born)
      THEN 1 ELSE 0 END AS BIGINT);
CREATE OR REPLACE TEMP MACRO jz_months_between(a, b) AS
  CAST((year(b) - year(a)) * 12 + month(b) - month(a)
    - CASE WHEN day(b) < day(a) THEN 1 ELSE 0 END AS BIGINT);
CREATE OR REPLACE TEMP MACRO jz_add_months(d, n) AS
  CAST(d + to_months(CAST(trunc(n) AS INTEGER)) AS DATE);
CREATE OR REPLACE TEMP MACRO jz_add_days(d, n) AS CAST(d + CAST(trunc(n) AS INTEGER) AS DATE);
CREATE OR REPLACE TEMP MACRO jz_next_month_start(d) AS
  CAST(date_trunc('month', d) + INTERVAL 1 MONTH AS DATE);
CREATE OR REPLACE TEMP MACRO jz_round(x, n) AS round(x, CAST(trunc(n) AS INTEGER));
CREATE TEMP TABLE IF NOT EXISTS jz_calendar AS
  SELECT CAST([] AS INTEGER[]) AS seq, CAST([] AS DATE[]) AS work;
CREATE OR REPLACE TEMP MACRO jz_working_day_at(d, n) AS
  list_extract((SELECT c.work FROM jz_calendar c),
    list_extract((SELECT c.seq FROM jz_calendar c),
      CAST(date_diff('day', DATE '2015-01-01', d) + 1 AS INTEGER)) + CAST(trunc(n) AS INTEGER));
CREATE OR REPLACE TEMP MACRO jz_working_days_after(d, n) AS
  CASE WHEN d IS NULL OR n IS NULL THEN NULL
    WHEN trunc(n) <= 0 THEN CAST(d AS DATE)
    WHEN d < DATE '2015-01-01' OR d > DATE '2040-12-31' OR jz_working_day_at(d, n) IS NULL
      THEN error('E612|' || CAST(d AS VARCHAR))
    ELSE jz_working_day_at(d, n) END;
"""


def quote(name: str) -> str:
    """The one way an identifier enters SQL."""
    return '"' + name.replace('"', '""') + '"'


def string(text: str) -> str:
    """A text value as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def literal(value: object, dtype: DType | None = None) -> str:
    """A parsed Python value as a typed SQL literal."""
    if value is None:
        return f"CAST(NULL AS {SQL_TYPES[dtype.kind]})" if dtype else "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, Decimal | int):
        number = Decimal(value)
        if not number.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        scale = max(0, -number.as_tuple().exponent)  # type: ignore[operator]
        digits = format(number, "f")
        precision = 38 if len(digits) > 17 else 18
        return f"CAST({string(digits)} AS DECIMAL({precision},{min(scale, precision - 1)}))"
    if isinstance(value, date):
        return f"DATE {string(value.isoformat())}"
    if isinstance(value, str):
        return string(value)
    raise TypeError(f"no SQL literal for {value!r}")


def sql_type(dtype: DType) -> str:
    return SQL_TYPES[dtype.kind]


def comment(text: str) -> str:
    """A SQL line comment that cannot end early or run into code."""
    return "-- " + " ".join(text.replace("\r", " ").replace("\n", " ").split())


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


TRACE_MODES = ("full", "compact", "none")
TRACE_TYPE = (
    'STRUCT("table" VARCHAR, rule VARCHAR, cell VARCHAR, outcome VARCHAR, section VARCHAR,'
    " person_id VARCHAR)"
)
OUTPUTS = frozenset({
    "group", "income_per_capita", "dibao_standard", "marginal_line", "tekun_members",
    "entitlements", "phase_out_from", "phase_out_until", "monitoring", "alert_type",
    "alert_due",
})
INDEXES = {Level.HOUSEHOLD: "_hh_index", Level.MEMBER: "_member_index", Level.EVENT: "_event_index"}

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


class _Compiler:
    def __init__(self, plan: Plan, suffix: str = "", trace: str = "full") -> None:
        self.plan = plan
        self.suffix = suffix
        self.trace_mode = trace
        self.pending: dict[Level, list[str]] = {level: [] for level in Level}
        self.statements: list[str] = []
        self.stored: list[tuple[str, str]] = []  # each stored table and its query
        self.checked: dict[str, list[str]] = {}  # the contract columns of stored tables
        self.kept: dict[Level, list[_Relation]] = {level: [] for level in Level}  # stored
        self.counter = 0
        self.aggregates: dict[Call, str] = {}  # member aggregates already on households
        self.hoisted: list[tuple[str, str]] | None = None  # division operands, see hoist
        self.position = 0  # the step being compiled
        fields = plan.rulebook.fields.values()
        self.relations = {
            level: _Relation(
                SOURCES[level] + suffix, {f.id for f in fields if f.level is level} | {"household_id"}
            )
            for level in Level
        }
        for level, index in INDEXES.items():
            self.relations[level].columns.add(index)
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
        final = self.final()
        standards = {ident: s.dtype for ident, s in self.plan.rulebook.standards.items()}
        sql = ";\n\n".join([*self.statements, final])
        return Program(
            sql, standards, list(self.plan.tables), [], list(self.statements), final,
            self.one_query(final),
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

    def with_clause(self, level: Level) -> str:
        ctes = self.pending[level]
        self.pending[level] = []
        return "WITH\n" + ",\n".join(ctes) + "\n" if ctes else ""

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
        self.stored.append((table, body))
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
            value = self.cast(self.expr(derived.expr, Level.HOUSEHOLD, {}), derived.dtype)
            name = self.fresh(f"std_{ident}")
            self.add(
                Level.HOUSEHOLD,
                name,
                f"SELECT s.*, {value} AS {quote(ident)}\nFROM {quote(county)} s",
                f"{derived.id} ({derived.name_cn}) = {derived.text}"
                + (f"  [{derived.basis}]" if derived.basis else "")
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

    def hoist(self, sql: str) -> str:
        """A division operand as a column of its own, computed one step earlier: the
        exact division macro reads each operand several times, and an operand that is
        itself a division would otherwise be computed again and again."""
        if (sql.startswith('"') and sql.endswith('"')) or sql.startswith("CAST('"):
            return sql  # already a column, or a literal
        assert self.hoisted is not None
        column = self.fresh("__div")
        self.hoisted.append((column, sql))
        return quote(column)

    def hoisting(self, level: Level, source: _Source, compute: Callable[[], str]) -> tuple[str, str]:
        """Run ``compute`` (which renders SQL) collecting division operands; emit a CTE per
        operand and return the SELECT head and FROM clause the step should use."""
        self.hoisted = []
        compute()
        hoisted, self.hoisted = self.hoisted, None
        if not hoisted:
            return source.columns, source.from_clause
        alias = source.alias
        head, from_clause = source.columns, source.from_clause
        for column, operand in hoisted:
            name = self.fresh(f"{alias}_operand")
            self.add(level, name, f"SELECT {head}, {operand} AS {quote(column)}\n{from_clause}")
            head, from_clause = f"{alias}.*", f"FROM {quote(name)} {alias}"
        return head, from_clause

    def derived(self, ident: str) -> None:
        derived = self.plan.derived[ident]
        source = self.source(derived.level, [derived.expr])
        value = ""

        def render_value() -> str:
            nonlocal value
            sql = self.expr(derived.expr, derived.level, source.aggregates)
            value = self.narrowed(sql, self.scale(derived.expr), derived.dtype)
            return value

        head, from_clause = self.hoisting(derived.level, source, render_value)
        name = self.fresh(f"{RELATIONS[derived.level]}_{ident}")
        self.add(
            derived.level,
            name,
            f"SELECT {head}, {value} AS {quote(ident)}\n{from_clause}",
            f"{derived.id} ({derived.name_cn}) = {derived.text}"
            + (f"  [{derived.basis}]" if derived.basis else "")
            + f"  {derived.location.render()}",
        )
        self.relations[derived.level] = _Relation(name, self.relations[derived.level].columns | {ident})

    def source(self, level: Level, exprs: list[object]) -> _Source:
        """The FROM clause for a step: the level's relation, joined to what it needs."""
        relation = self.relations[level]
        alias = RELATIONS[level]
        needed = self.household_names(exprs) - relation.columns if level is not Level.HOUSEHOLD else set()
        from_clause = f"FROM {quote(relation.name)} {alias}"
        if needed:
            self.materialize(Level.HOUSEHOLD)
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
        exprs: list[object] = [c.expr for c in table.inputs]
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
        exprs: list[object] = [c.expr for c in table.inputs]
        exprs += [o for rule in table.rules for o in rule.outputs]
        exprs += [t for rule in table.rules for t in rule.tests]
        exprs += [c.default for c in table.outputs if c.default is not None]
        source = self.source(table.level, exprs)
        alias, level = source.alias, table.level
        inputs = [
            f"{self.expr(c.expr, level, source.aggregates)} AS {quote(self.input_name(table, i))}"
            for i, c in enumerate(table.inputs)
        ]
        stage_in = self.fresh(f"{alias}_{table.id}_in")
        select = ", ".join([source.columns, *inputs])
        self.add(
            level,
            stage_in,
            f"SELECT {select}\n{source.from_clause}",
            f"decision table {table.id} ({table.title}), {table.policy_text}, "
            f"{table.location.render()}: inputs",
        )
        rules = self.ordered_rules(table)
        matches = []
        for position, rule in enumerate(table.rules):
            tests = [
                self.test(t, f"{alias}.{quote(self.input_name(table, i))}", level)
                for i, t in enumerate(rule.tests)
            ]
            condition = " AND ".join(f"({t})" for t in tests) or "TRUE"
            matches.append(
                f"  {comment(f'rule {rule.id}: {rule.location.render()} [{rule.annotation}]')}\n"
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
        message = (
            f"{string(code + '|' + table.id + '|')} || CAST({alias}.household_id AS VARCHAR)"
            f" || '|' || {names}"
        )
        return f"WHEN {condition} THEN error({message}) "

    def any_conflict(self, table: Table, order: list[int], match_of: dict[int, str]) -> str:
        level = table.level
        firsts = []
        for c, column in enumerate(table.outputs):
            outs = {i: self.cast(self.expr(table.rules[i].outputs[c], level, {}), column.dtype) for i in order}
            first = "CASE " + " ".join(f"WHEN {match_of[i]} THEN {outs[i]}" for i in order) + " END"
            firsts.extend(f"({match_of[i]} AND {outs[i]} IS DISTINCT FROM {first})" for i in order)
        return "(" + " OR ".join(firsts) + ")"

    @staticmethod
    def input_name(table: Table, index: int) -> str:
        return f"{table.id}.__in{index + 1}"

    @staticmethod
    def match_name(table: Table, position: int) -> str:
        return f"{table.id}.__r{position + 1}"

    @staticmethod
    def rule_column(table: Table) -> str:
        return f"{table.id}.__rule"

    # ------------------------------------------------------------ tests and expressions

    def test(self, test: Test, value: str, level: Level) -> str:
        match test:
            case AnyTest():
                return "TRUE"
            case NullTest():
                return f"{value} IS NULL"
            case Compare(op, operand):
                return f"{value} {op} {self.expr(operand, level, {})}"
            case Interval(low, low_closed, high, high_closed):
                lower = f"{value} {'>=' if low_closed else '>'} {self.expr(low, level, {})}"
                upper = f"{value} {'<=' if high_closed else '<'} {self.expr(high, level, {})}"
                return f"({lower} AND {upper})"
            case Disjunction(tests):
                return " OR ".join(f"({self.test(t, value, level)})" for t in tests)
            case Negation(tests):
                return f"NOT ({self.test(tests, value, level)})"
        raise TypeError(test)

    def expr(self, node: Expr | None, level: Level, aggregates: dict[Call, str]) -> str:
        match node:
            case None:
                return "NULL"
            case Literal(value):
                return literal(value)
            case Name(ident):
                return quote(ident)
            case Unary("-", operand):
                return f"(-{self.expr(operand, level, aggregates)})"
            case Unary(_, operand):
                return f"(NOT {self.expr(operand, level, aggregates)})"
            case Binary("/", left, right):
                operands = [self.expr(left, level, aggregates), self.expr(right, level, aggregates)]
                if self.hoisted is not None:
                    operands = [self.hoist(sql) for sql in operands]
                return f"jz_div({operands[0]}, {operands[1]})"
            case Binary("*", left, right) if self.scale(left) is not None and self.scale(right) is not None:
                # DuckDB keeps the product of two 18-digit decimals in 18 digits and
                # fails past them (1e7 * 1e11); one 38-digit side keeps every digit
                widened = f"CAST({self.expr(left, level, aggregates)} AS DECIMAL(38,{max(0, self.scale(left) or 0)}))"
                return f"({widened} * {self.expr(right, level, aggregates)})"
            case Binary(op, left, right):
                sql_op = op.upper() if op in ("and", "or") else op
                return f"({self.expr(left, level, aggregates)} {sql_op} {self.expr(right, level, aggregates)})"
            case If(cond, then, otherwise):
                branches = self.unified([then, otherwise], level, aggregates)
                return (
                    f"CASE WHEN {self.expr(cond, level, aggregates)} THEN {branches[0]}"
                    f" ELSE {branches[1]} END"
                )
            case Call():
                return self.call(node, level, aggregates)
        raise TypeError(node)

    def call(self, node: Call, level: Level, aggregates: dict[Call, str]) -> str:
        if node in self.aggregates:
            return _aggregate_default(node, quote(self.aggregates[node]))
        args = [self.expr(a, level, aggregates) for a in node.args]
        if node.func in ("min", "max", "coalesce"):
            args = self.unified(list(node.args), level, aggregates)
        match node.func:
            case "min":
                return f"least({', '.join(args)})"
            case "max":
                return f"greatest({', '.join(args)})"
            case "abs" | "floor" | "ceil":
                return f"{node.func}({args[0]})"
            case "round":
                return self.rounded(node, args)
            case "coalesce":
                return f"coalesce({', '.join(args)})"
            case "is_null":
                return f"({args[0]} IS NULL)"
            case "age":
                return f"jz_age({args[0]}, (SELECT p.as_of FROM jz_params p))"
            case "months_between" | "add_months" | "add_days" | "next_month_start":
                return f"jz_{node.func}({', '.join(args)})"
            case "working_days_after":
                return f"jz_working_days_after({args[0]}, {args[1]})"
        raise ValueError(f"no SQL for function {node.func}")

    def rounded(self, node: Call, args: list[str]) -> str:
        """round(x, n). With n a literal and x carrying at most s <= 12 decimals (a
        quotient, money, a ratio), x is rounded as DECIMAL(18,s) whenever it fits, which
        is most rows: DuckDB rounds a 38-digit decimal with 128-bit division, ten times
        slower.
        The result is DECIMAL(38,n) either way, so the caller's cast only checks range."""
        digits = node.args[1] if len(node.args) > 1 else Literal(Decimal(0))
        inner = self.scale(node.args[0])
        fixed = isinstance(digits, Literal) and isinstance(digits.value, Decimal | int)
        places = int(digits.value) if fixed else None  # type: ignore[union-attr, arg-type]
        if places is None or inner is None or not 0 <= places <= 12 or inner > 12:
            return f"jz_round({args[0]}, {args[1] if len(args) > 1 else '0'})"
        value = args[0]
        if not (value.startswith('"') and value.endswith('"')):
            if self.hoisted is None:
                return f"jz_round({args[0]}, {places})"
            value = self.hoist(value)  # read three times below: computed once
        if inner <= places:
            return f"CAST({value} AS DECIMAL(38,{places}))"
        return _when_narrow(
            value, inner, lambda v: f"CAST(round({v}, {places}) AS DECIMAL(38,{places}))"
        )

    def unified(self, nodes: list[Expr], level: Level, aggregates: dict[Call, str]) -> list[str]:
        """The SQL of values that CASE, least, greatest or coalesce will unify.

        DuckDB unifies decimals by keeping the widest integer part and, past 38 digits,
        dropping decimals (``1.5 * x`` beside ``ceil(y / 7)`` loses its ``.5``); numbers
        are therefore cast to DECIMAL(38, s) with s the largest scale among them.
        """
        sqls = [self.expr(n, level, aggregates) for n in nodes]
        scales = [self.scale(n) for n in nodes]
        numeric = [s for s in scales if s is not None and s >= 0]
        if not numeric or any(s is None for s in scales):
            return sqls
        top = max(numeric)
        return [f"CAST({sql} AS DECIMAL(38,{top}))" for sql in sqls]

    def scale(self, node: Expr) -> int | None:
        """An upper bound of the decimals a numeric expression's SQL value carries;
        None for a value that is not a number, -1 for a bare null."""
        match node:
            case Literal(None):
                return -1
            case Literal(value):
                if isinstance(value, bool) or not isinstance(value, Decimal | int):
                    return None
                return max(0, -Decimal(value).as_tuple().exponent)  # type: ignore[operator]
            case Name(ident):
                item = self.plan.items.get(ident)
                return item.dtype.scale if item else None
            case Unary("-", operand):
                return self.scale(operand)
            case Binary(op, left, right) if op in ("+", "-", "*", "/"):
                if op == "/":
                    return 6
                sides = [max(0, s) for s in (self.scale(left), self.scale(right)) if s is not None]
                return sum(sides) if op == "*" else max(sides, default=0)
            case If(_, then, otherwise):
                return _widest(self.scale(then), self.scale(otherwise))
            case Call(func, args):
                return self.call_scale(func, args)
        return None

    def call_scale(self, func: str, args: tuple[Expr, ...]) -> int | None:
        if func in ("floor", "ceil", "count", "age", "months_between"):
            return 0
        if func == "round":
            digits = args[1] if len(args) > 1 else Literal(Decimal(0))
            inner = self.scale(args[0])
            if isinstance(digits, Literal) and isinstance(digits.value, Decimal) and inner is not None:
                return max(0, min(inner, int(digits.value)))
            return inner
        if func in ("min", "max", "coalesce", "abs", "sum", "min_of", "max_of"):
            scales = [self.scale(a) for a in (args[:1] if func == "sum" else args)]
            return _widest(*scales)
        return None

    def narrowed(self, sql: str, scale: int | None, dtype: DType) -> str:
        """``sql`` cast to a derived value's type. A value with s <= 12 decimals cast to
        fewer (a quotient to money) is rounded through DECIMAL(18,s) when it fits:
        rounding a 38-digit decimal divides 128-bit integers, ten times slower."""
        target = dtype.scale
        if (
            dtype.kind not in SCALES or dtype.kind is Kind.INTEGER or scale is None
            or target is None or not target < scale <= 12 or self.hoisted is None
        ):
            return self.cast(sql, dtype)
        return _when_narrow(self.hoist(sql), scale, lambda v: f"CAST({v} AS {sql_type(dtype)})")

    def cast(self, sql: str, dtype: DType) -> str:
        if dtype.kind is Kind.LIST:
            return sql
        return f"CAST({sql} AS {sql_type(dtype)})"

    # ------------------------------------------------------------ the decisions

    def final(self) -> str:
        household = self.relations[Level.HOUSEHOLD]
        members, events = self.relations[Level.MEMBER], self.relations[Level.EVENT]
        items = self.plan.items

        def column(ident: str, dtype: str) -> str:
            if ident in items and ident in household.columns:
                return f"CAST(h.{quote(ident)} AS {dtype}) AS {quote(ident)}"
            return f"CAST(NULL AS {dtype}) AS {quote(ident)}"

        alerts = self.alerts_join(events)
        trace = self.trace_sql(household, members, events)
        return "\n".join(
            [
                "SELECT",
                "  h.household_id, h.county_code, h.as_of,",
                "  coalesce(v.version, '工作副本') AS version,",
                "  " + column("group", "VARCHAR") + ",",
                "  " + column("income_per_capita", "DECIMAL(18,2)") + ",",
                "  " + column("dibao_standard", "DECIMAL(18,2)") + ",",
                "  " + column("marginal_line", "DECIMAL(18,2)") + ",",
                "  coalesce(" + column("tekun_members", "VARCHAR[]").rsplit(" AS ", 1)[0]
                + ", CAST([] AS VARCHAR[])) AS tekun_members,",
                "  coalesce(" + column("entitlements", "VARCHAR[]").rsplit(" AS ", 1)[0]
                + ", CAST([] AS VARCHAR[])) AS entitlements,",
                "  " + column("phase_out_from", "DATE") + ",",
                "  " + column("phase_out_until", "DATE") + ",",
                "  " + column("monitoring", "VARCHAR") + ",",
                "  coalesce(al.alerts, []) AS alerts,",
                f"  {trace} AS trace",
                f"FROM {quote(household.name)} h",
                "LEFT JOIN jz_versions v USING (county_code)",
                alerts,
                *self.trace_joins(members, events),
                "ORDER BY h._hh_index",
            ]
        )

    def alerts_join(self, events: _Relation) -> str:
        if "alert_type" not in events.columns:
            return (
                "LEFT JOIN (SELECT NULL::VARCHAR AS household_id, CAST([] AS STRUCT(type VARCHAR,"
                " person_id VARCHAR, raised_on DATE, due DATE)[]) AS alerts) al USING (household_id)"
            )
        due = 'e."alert_due"' if "alert_due" in events.columns else "CAST(NULL AS DATE)"
        return (
            "LEFT JOIN (SELECT e.household_id, list_transform(list_sort(list(struct_pack("
            "i := e._event_index, a := struct_pack(type := CAST(e.\"alert_type\" AS VARCHAR),"
            ' person_id := CAST(e."event.person_id" AS VARCHAR), raised_on := CAST(e."event.date" AS DATE),'
            f" due := CAST({due} AS DATE))))), lambda s: s.a) AS alerts\n"
            f"  FROM {quote(events.name)} e WHERE e.\"alert_type\" IS NOT NULL GROUP BY e.household_id) al"
            " USING (household_id)"
        )

    def level_tables(self, level: Level) -> list[Table]:
        return [
            self.plan.tables[ident]
            for kind, ident in self.plan.order
            if kind == "table" and self.plan.tables[ident].level is level
        ]

    def trace_entry(self, table: Table, index: str, outcome: str, person: str) -> str:
        """One trace record: the table, the rule(s) that decided, the outcome; in full
        mode also the rule's cell and the policy section its annotation cites."""
        first = index if table.hit_policy.single_hit else f"{index}[1]"
        ids = [r.id for r in table.rules]
        if table.hit_policy.single_hit:
            rule_text = _lookup(first, ids)
        else:
            rule_text = f"array_to_string(list_transform({index}, lambda i: {_lookup('i', ids)}), ',')"
        full = self.trace_mode == "full"
        cell = _lookup(first, [r.location.render() for r in table.rules]) if full else "NULL"
        section = _lookup(first, [r.annotation for r in table.rules]) if full else "NULL"
        return (
            f"struct_pack(\"table\" := {string(table.id)}, rule := {rule_text},"
            f" cell := CAST({cell} AS VARCHAR), outcome := {outcome},"
            f" section := CAST({section} AS VARCHAR), person_id := CAST({person} AS VARCHAR))"
        )

    def outcome_text(self, table: Table, alias: str) -> str:
        parts = []
        for column in table.outputs:
            ref = f"{alias}.{quote(column.id)}"
            if table.hit_policy.single_hit or table.aggregation is not None:
                parts.append(f"CAST({ref} AS VARCHAR)")
            else:
                parts.append(f"array_to_string(CAST({ref} AS VARCHAR[]), ',')")
        return parts[0] if len(parts) == 1 else "concat_ws('; ', " + ", ".join(parts) + ")"

    def trace_sql(self, household: _Relation, members: _Relation, events: _Relation) -> str:
        if self.trace_mode == "none":
            return f"CAST([] AS {TRACE_TYPE}[])"
        own = [
            self.trace_entry(t, f"h.{quote(self.rule_column(t))}", self.outcome_text(t, "h"), "NULL")
            for t in self.level_tables(Level.HOUSEHOLD)
        ]
        pieces = ["[" + ", ".join(own) + "]"] if own else []
        for level, name in ((Level.MEMBER, "tm"), (Level.EVENT, "te")):
            if self.level_tables(level):
                pieces.append(f"coalesce({name}.trace, CAST([] AS {TRACE_TYPE}[]))")
        if not pieces:
            return f"CAST([] AS {TRACE_TYPE}[])"
        return pieces[0] if len(pieces) == 1 else "list_concat(" + ", ".join(pieces) + ")"

    def trace_joins(self, members: _Relation, events: _Relation) -> list[str]:
        """Member and event traces: small per-row records gathered per household, then
        turned into trace records (gathering the full records directly is far slower)."""
        if self.trace_mode == "none":
            return []
        joins = []
        for level, relation, alias, order, name, who in (
            (Level.MEMBER, members, "m", "_member_index", "tm", "person_id"),
            (Level.EVENT, events, "e", "_event_index", "te", "event.person_id"),
        ):
            tables = self.level_tables(level)
            if not tables:
                continue
            fields = [f"p := CAST({alias}.{quote(who)} AS VARCHAR)"]
            for n, table in enumerate(tables):
                fields.append(f"r{n} := {alias}.{quote(self.rule_column(table))}")
                fields.append(f"o{n} := {self.outcome_text(table, alias)}")
            entries = [
                f"list_transform(x, lambda e: {self.trace_entry(t, f'e.r{n}', f'e.o{n}', 'e.p')})"
                for n, t in enumerate(tables)
            ]
            joins.append(
                f"LEFT JOIN (SELECT household_id, flatten([{', '.join(entries)}]) AS trace FROM"
                f" (SELECT {alias}.household_id, list_sort(list(struct_pack(i := {alias}.{order},"
                f" {', '.join(fields)}))) AS x FROM {quote(relation.name)} {alias}"
                f" GROUP BY {alias}.household_id)) {name} USING (household_id)"
            )
        return joins


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


def _lookup(index: str, texts: list[str]) -> str:
    """The text for a rule number: a CASE over constants, cheap per row (a list literal
    indexed per row would be built again for every row)."""
    if not texts:
        return "CAST(NULL AS VARCHAR)"
    whens = " ".join(f"WHEN {i + 1} THEN {string(t)}" for i, t in enumerate(texts))
    return f"CASE {index} {whens} END"


def _when_narrow(value: str, scale: int, apply: Callable[[str], str]) -> str:
    """``apply`` to a column of ``scale`` decimals, on DECIMAL(18, scale) for the rows
    where the value fits (64-bit arithmetic) and on the value as it is elsewhere."""
    return (
        f"CASE WHEN abs({value}) < {10 ** (18 - scale)}"
        f" THEN {apply(f'CAST({value} AS DECIMAL(18,{scale}))')} ELSE {apply(value)} END"
    )


def _widest(*scales: int | None) -> int | None:
    """The scale of values unified from these scales (-1: a bare null)."""
    if any(s is None for s in scales):
        return None
    return max(scales)  # type: ignore[type-var]


def _aggregate_default(call: Call, column: str) -> str:
    if call.func == "count":
        return f"coalesce({column}, 0)"
    if call.func == "exists":
        return f"coalesce({column}, FALSE)"
    if call.func == "every":
        return f"coalesce({column}, TRUE)"
    if call.func == "collect":
        return f"coalesce({column}, CAST([] AS VARCHAR[]))"
    return column


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


def compile_plan(plan: Plan, suffix: str = "", trace: str = "full") -> Program:
    """Compile a bound plan to one DuckDB query (see the module docstring).

    ``suffix`` is appended to the three input relation names, so that groups of
    counties can read their own views of the input in one combined query. ``trace`` is
    "full" (table, rule, cell, outcome, policy section), "compact" (no cell and section:
    they are fixed per rule and listed in the build) or "none".
    """
    if trace not in TRACE_MODES:
        raise ValueError(f"trace must be one of {TRACE_MODES}")
    return _Compiler(plan, suffix, trace).run()


__all__ = ["PRELUDE", "Program", "compile_plan", "literal", "quote", "render"]
