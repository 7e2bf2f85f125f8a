"""Shared test plumbing: write a tables folder, open it, feed households to both judges.

Households are plain dicts keyed by field id (``{"household_id": "H1", "assets.money":
Decimal("1301.00"), "members": [{"person_id": "P1", ...}], "events": []}``). The same
flat values go to the reference interpreter and, as the jz_* input relations, to the
compiled SQL (sqlgen's module docstring lists those relations), so any difference in the
decisions comes from the two evaluators and not from how the input was prepared.

The input relations are built here, directly from Python values, until
``compiler.households.load_households`` is ready to be used instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from compiler.bind import DECISION_COLUMNS, Plan
from compiler.calendar import WorkCalendar
from compiler.diagnostics import Report, render_text
from compiler.engine import (
    Project,
    contract_error,
    data_error,
    install_standards,
    open_project,
    run_programs,
)
from compiler.errors import EvaluationError, InputError
from compiler.export import STANDARD_COLUMNS
from compiler.interpret import Evaluation, Interpreter
from compiler.model import Field, Level
from compiler.sqlgen import SQL_TYPES, _Compiler, compile_plan, quote
from tests.workbooks import write_csv_folder

COUNTY = "330106"
COUNTY_FOLDER = "330106-西湖区"
Rows = list[list[object]]
Env = dict[str, Any]

# the province standards sheet's header, as `jiuzhu export` writes it
STANDARDS_HEADER = list(STANDARD_COLUMNS)
# a province's 标准参数 holding the one standard small test tables compare with, and a
# 日历 of one holiday: what a CSV project needs beside its own sheets
ONE_STANDARD: list[list[object]] = [
    STANDARDS_HEADER,
    ["dibao_standard", "低保标准", "1149", "元/人/月", "2024-01-01", None, "测试"]
    + [None, "money", "是", None, None, "是"],
]
def standard_row(ident: str, name: str, value: str, kind: str) -> list[object]:
    """A row of the province's 标准参数 for a test: in force from 2024-01-01, unverified,
    not county-editable."""
    return [ident, name, value, None, "2024-01-01", None, "测试", None, kind, "否", None, None, None]


ONE_HOLIDAY: list[list[object]] = [["日期", "类型", "说明"], ["2025-01-01", "休息日", "元旦"]]


def write_csv_project(root: Path, province: dict[str, list[list[object]]]) -> None:
    """A tables folder of CSV: the province's ``province`` sheets (``ONE_STANDARD`` and
    ``ONE_HOLIDAY`` unless given) and COUNTY, whose 标准参数 overrides nothing."""
    write_csv_folder(root / "province", {"标准参数": ONE_STANDARD, "日历": ONE_HOLIDAY, **province})
    header = ["标识", "值", "生效日期", "失效日期", "来源"]
    write_csv_folder(root / "counties" / COUNTY_FOLDER, {"标准参数": [header]})


# ---------------------------------------------------------------- tables folders


def write_tables(
    root: Path, province: dict[str, Rows], county: dict[str, Rows] | None = None
) -> Path:
    """Write ``root/province/*.csv`` and one county folder; returns ``root``."""
    write_csv_folder(root / "province", province)
    county = county or {"标准参数": [["标识", "值", "生效日期", "失效日期", "来源"]]}
    write_csv_folder(root / "counties" / COUNTY_FOLDER, county)
    return root


def open_clean(root: Path, as_of: date) -> Project:
    """Open a tables folder for the one test county; fail the test on any error."""
    report = Report()
    project = open_project(root, [COUNTY], as_of, report=report)
    assert not report.has_errors, render_text(report.errors, limit=20)
    return project


def plan_of(root: Path, as_of: date) -> Plan:
    return open_clean(root, as_of).plan(COUNTY)


# ---------------------------------------------------------------- households


def envs(household: dict, fields: dict[str, Field]) -> tuple[Env, list[Env], list[Env]]:
    """Flat field values of a household and its members and events, defaults applied
    where a value is missing (as ``engine.household_envs`` does for contract JSON)."""

    def pick(source: dict, level: Level) -> Env:
        env = {}
        for ident, spec in fields.items():
            if spec.level is level:
                value = source.get(ident)
                env[ident] = spec.default if value is None else value
        return env

    env = pick(household, Level.HOUSEHOLD)
    env["household_id"] = household["household_id"]
    env["county_code"] = household.get("county_code", COUNTY)
    members = [pick(m, Level.MEMBER) for m in household.get("members", [])]
    events = [pick(e, Level.EVENT) for e in household.get("events", [])]
    for row in [*members, *events]:
        row["household_id"] = env["household_id"]
    return env, members, events


def install_inputs(
    con: duckdb.DuckDBPyConnection, fields: dict[str, Field], households: list[dict]
) -> None:
    """Create jz_households, jz_members and jz_events from households as dicts."""
    levels = {
        Level.HOUSEHOLD: ("jz_households", "_hh_index"),
        Level.MEMBER: ("jz_members", "_member_index"),
        Level.EVENT: ("jz_events", "_event_index"),
    }
    rows: dict[Level, list[Env]] = {level: [] for level in Level}
    for h_index, household in enumerate(households):
        env, members, events = envs(household, fields)
        rows[Level.HOUSEHOLD].append({**env, "_hh_index": h_index})
        rows[Level.MEMBER] += [{**m, "_member_index": i} for i, m in enumerate(members)]
        rows[Level.EVENT] += [{**e, "_event_index": i} for i, e in enumerate(events)]
    for level, (name, index) in levels.items():
        columns = {"household_id": "VARCHAR", index: "BIGINT"}
        if level is Level.HOUSEHOLD:
            columns["county_code"] = "VARCHAR"
        for ident, spec in fields.items():
            if spec.level is level:
                columns[ident] = SQL_TYPES[spec.dtype.kind]
        spec_sql = ", ".join(f"{quote(c)} {t}" for c, t in columns.items())
        con.execute(f"CREATE OR REPLACE TABLE {name} ({spec_sql})")
        if rows[level]:
            marks = ", ".join("?" for _ in columns)
            values = [[row.get(c) for c in columns] for row in rows[level]]
            con.executemany(f"INSERT INTO {name} VALUES ({marks})", values)


# ---------------------------------------------------------------- the two judges


def interpret(plan: Plan, as_of: date, household: dict) -> Evaluation:
    """The reference interpreter's evaluation of one household (may raise)."""
    interpreter = Interpreter(plan, as_of, WorkCalendar(plan.rulebook.calendar))
    return interpreter.evaluate(*envs(household, plan.rulebook.fields))


def prepare(
    con: duckdb.DuckDBPyConnection, plan: Plan, as_of: date, households: list[dict]
) -> None:
    install_standards(con, {COUNTY: plan}, as_of)
    install_inputs(con, plan.rulebook.fields, households)


def fetch(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def decide(
    con: duckdb.DuckDBPyConnection,
    project: Project,
    as_of: date,
    households: list[dict],
) -> list[dict]:
    """Decide as ``jiuzhu evaluate`` does, with the engine's run_programs and its view;
    a broken UNIQUE or ANY contract raises EvaluationError as the engine maps it."""
    plan = project.plan(COUNTY)
    prepare(con, plan, as_of, households)
    try:
        run_programs(con, project, [COUNTY])
        return fetch(con, "SELECT * FROM jz_decisions")
    except duckdb.Error as error:
        raise contract_error(error) or error from None


@dataclass
class Relations:
    """Every column the compiled SQL computed, per level, rows in input order."""

    households: list[dict]
    members: list[dict]
    events: list[dict]
    decisions: list[dict]  # what the program returns: the contract's fields and trace


class _EveryColumn(_Compiler):
    """The SQL compiler keeping every column in the tables it stores between levels.

    A compiled program stores only what later steps and the decisions read; the
    differential tests compare every field, derived value and output, so they read
    the stored tables of this variant, which computes the same values.
    """

    def keeps(self, column: str) -> bool:
        # a derived value nothing reads is computed by neither evaluator
        return column not in self.plan.unread_derived(DECISION_COLUMNS)


def run_program(
    con: duckdb.DuckDBPyConnection, plan: Plan, trace: str = "full"
) -> list[dict]:
    """Run the program ``compile_plan`` builds: its statements, then its final query."""
    program = compile_plan(plan, trace=trace)
    for statement in program.statements:
        con.execute(statement)
    return fetch(con, program.final)


def relations(
    con: duckdb.DuckDBPyConnection, plan: Plan, trace: str = "full"
) -> Relations:
    """Every value the compiled SQL computes, per level, and the program's decisions.

    The values come from ``_EveryColumn``'s stored tables (the last relation of each
    level); the decisions from the program itself, as ``compile_plan`` builds it.
    """
    compiler = _EveryColumn(plan)
    program = compiler.run()
    for statement in program.statements:
        con.execute(statement)
    tail = compiler.final()
    assert program.final.endswith(tail)
    head = program.final[: len(program.final) - len(tail)]  # pending CTEs, if any
    found = []
    for level, order in (
        (Level.HOUSEHOLD, "_hh_index"),
        (Level.MEMBER, "h_index, _member_index"),
        (Level.EVENT, "h_index, _event_index"),
    ):
        name = quote(compiler.relations[level].name)
        if level is Level.HOUSEHOLD:
            query = f"{head}SELECT * FROM {name} ORDER BY {order}"
        else:
            query = (
                f"{head}SELECT r.*, hh._hh_index AS h_index FROM {name} r"
                f" JOIN jz_households hh USING (household_id) ORDER BY {order}"
            )
        found.append(fetch(con, query))
    return Relations(*found, run_program(con, plan, trace))


def sql_error(error: duckdb.Error) -> EvaluationError | InputError:
    """The error a DuckDB error stands for, as ``evaluate`` maps it (a broken hit
    policy, a working-day count outside the calendar, a value out of range); fails the
    test if it is none."""
    mapped = contract_error(error) or data_error(error)
    assert mapped is not None, f"DuckDB failed for another reason: {error}"
    return mapped


def money(text: str) -> Decimal:
    return Decimal(text).quantize(Decimal("0.01"))
