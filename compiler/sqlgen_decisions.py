"""The decisions query: the last part of the compiled program, which joins each
household's values, its alerts and its trace into one row of the decision contract.

``Decisions`` is mixed into the compiler (compiler/sqlgen.py), which provides the
relation each level's values ended in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.bind import Plan
from compiler.model import Level, Table
from compiler.normalise import fold_text
from compiler.sqlgen_expr import quote, string
from compiler.trace_cells import trace_cell

if TYPE_CHECKING:
    from compiler.sqlgen import _Relation

TRACE_TYPE = (
    'STRUCT("table" VARCHAR, rule VARCHAR, cell VARCHAR, outcome VARCHAR, section VARCHAR,'
    " person_id VARCHAR)"
)


class Decisions:
    """The final SELECT of a program (mixed into the compiler)."""

    plan: Plan
    trace_mode: str
    relations: dict[Level, _Relation]

    @staticmethod
    def rule_column(table: Table) -> str:
        return f"{table.id}.__rule"

    def table_outputs(self) -> str:
        """Each household's decision-table outputs and rule columns (DMN conformance)."""
        columns = ["household_id"]
        for table in self.plan.tables.values():
            columns += [quote(o.id) for o in table.outputs] + [quote(self.rule_column(table))]
        return f"SELECT {', '.join(columns)} FROM {quote(self.relations[Level.HOUSEHOLD].name)}"

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
        # a rulebook need not declare every event field: one it lacks is null in each
        # alert (the check refuses alerts without event.date, bind.check_alerts)
        due = _or_null(events, "e", "alert_due")
        person = _or_null(events, "e", "event.person_id")
        raised = _or_null(events, "e", "event.date")
        return (
            "LEFT JOIN (SELECT e.household_id, list_transform(list_sort(list(struct_pack("
            "i := e._event_index, a := struct_pack(type := CAST(e.\"alert_type\" AS VARCHAR),"
            f" person_id := CAST({person} AS VARCHAR), raised_on := CAST({raised} AS DATE),"
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
        cells = [trace_cell(r.location, self.plan) for r in table.rules]
        # the annotation as the trace always showed it (folded): the admin's text is
        # kept verbatim in the tables, the compiled SQL does not change with it
        sections = [fold_text(r.annotation) for r in table.rules]
        if not full:
            cell = section = "NULL"
        elif table.hit_policy.single_hit:
            cell, section = _lookup(first, cells), _lookup(first, sections)
        else:  # every rule that matched is a reason: its cell, and its section once
            cell = _joined(index, cells, ",", distinct=False)
            section = _joined(index, sections, "；", distinct=True)
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
            # a rulebook without person_id (or event.person_id) names nobody in its trace
            fields = [f"p := CAST({_or_null(relation, alias, who)} AS VARCHAR)"]
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


def _or_null(relation: _Relation, alias: str, column: str) -> str:
    """``column`` of ``relation`` when the rulebook declares it, else a null."""
    return f"{alias}.{quote(column)}" if column in relation.columns else "NULL"


def _joined(index: str, texts: list[str], separator: str, distinct: bool) -> str:
    """The texts of a list of rule numbers joined, in rule order (each once when
    ``distinct``); NULL when no rule matched."""
    listed = f"list_transform({index}, lambda i: {_lookup('i', texts)})"
    if distinct:
        listed = f"list_filter({listed}, lambda t, n: list_position({listed}, t) = n)"
    return f"CASE WHEN len({index}) > 0 THEN array_to_string({listed}, {string(separator)}) END"


def _lookup(index: str, texts: list[str]) -> str:
    """The text for a rule number: a CASE over constants, cheap per row (a list literal
    indexed per row would be built again for every row)."""
    if not texts:
        return "CAST(NULL AS VARCHAR)"
    whens = " ".join(f"WHEN {i + 1} THEN {string(t)}" for i, t in enumerate(texts))
    return f"CASE {index} {whens} END"
