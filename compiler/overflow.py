"""Which household, and which cell, a value too large for the compiled SQL came from.

DuckDB stops a whole query when one value overflows (E605, ``engine.data_error``) and
does not say whose it was. ``failing_households`` finds out by deciding parts of the
loaded input again, halving the part that fails (about two more runs over the input
for the first household, a run over the rest to know whether others fail);
``at_cell`` then has the reference interpreter, which holds every value to the SQL's
limits (compiler/precision.py), compute that household and say where it stopped. Only
a failed run pays for this.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

import duckdb

from compiler.calendar import WorkCalendar
from compiler.diagnostics import Diagnostic
from compiler.engine import Project, run_programs
from compiler.errors import JiuzhuError
from compiler.interpret import Interpreter
from compiler.model import Kind, Level

PART = "_ov"  # the suffix of the relations a part of the input is decided from
_NUMBERS = (Kind.MONEY, Kind.NUMBER, Kind.INTEGER, Kind.PERCENT)


@dataclass
class Stop:
    """Where the reference interpreter stopped on a household: its E605 at the cell,
    what was being computed there, and whether that is a value of the county's
    standards alone (the same for every household: a standard is most likely wrong)."""

    diagnostic: Diagnostic
    step: str
    of_standards: bool


def failing_households(
    con: duckdb.DuckDBPyConnection, project: Project, trace: str, limit: int
) -> tuple[list[str], bool]:
    """Up to ``limit`` loaded households, in input order, whose decision fails on its
    own, and whether more do; none when the input's failure is not any household's
    (it fails with no household at all: a county's standards) or cannot be found."""
    counties = _counties(con, project)
    try:
        low, high = con.execute("SELECT min(_hh_index), max(_hh_index) + 1 FROM jz_households").fetchone()  # type: ignore[misc]
        if low is None or not counties or _fails(con, project, counties, trace, 0, 0):
            return [], False
        found: list[int] = []
        while len(found) < limit and (not found or _fails(con, project, counties, trace, low, high)):
            found.append(_first(con, project, counties, trace, low, high))
            low = found[-1] + 1
        more = len(found) == limit and _fails(con, project, counties, trace, low, high)
        ids = [
            str(con.execute("SELECT household_id FROM jz_households WHERE _hh_index = ?", [k]).fetchone()[0])  # type: ignore[index]
            for k in found
        ]
    except duckdb.Error:
        return [], False  # the input cannot be read again: the failure stays as it was
    finally:
        _drop(con)
    return ids, more


def at_cell(con: duckdb.DuckDBPyConnection, project: Project, household: str) -> Stop | None:
    """Where the reference interpreter stops on a loaded household (``Stop``); None
    when it decides the household (the SQL stopped on a value the interpreter does
    not hold to a limit, such as a part of a formula the result did not need) or the
    household cannot be read again."""
    try:
        row = _rows(con, "jz_households", household, "_hh_index")[0]
        plan = project.plan(str(row["county_code"]))
        as_of = con.execute("SELECT as_of FROM jz_params").fetchone()[0]  # type: ignore[index]
        members = _rows(con, "jz_members", household, "_member_index")
        events = _rows(con, "jz_events", household, "_event_index")
    except (duckdb.Error, IndexError, KeyError):
        return None
    interpreter = Interpreter(plan, _day(as_of), WorkCalendar(plan.rulebook.calendar))
    fields = plan.rulebook.fields
    try:
        interpreter.evaluate(
            _typed(row, fields), [_typed(m, fields) for m in members], [_typed(e, fields) for e in events]
        )
    except JiuzhuError as error:
        problem = error.diagnostics[0] if error.diagnostics else None
        if problem is None or problem.code != "E605":
            return None
        from compiler.sqlgen import _Compiler

        constant = interpreter.step in _Compiler(plan).county_constants()
        return Stop(replace(problem, location=interpreter.where), _step(plan, interpreter.step), constant)
    return None


def pointed(problem: Diagnostic, household: str, more: bool, located: Stop | None) -> Diagnostic:
    """``problem`` (DuckDB's E605) naming the household, and, when the interpreter
    found it, the cell, what was computed there and the value."""
    others = "（另有家庭同样无法计算）" if more else ""
    hint = f"用 jiuzhu explain {shlex.quote(household)} 查看该户的计算过程；核对其金额是否录错了特大数字"
    if located is None:
        return replace(problem, message=f"{problem.message}：家庭 {household} 的计算中{others}", hint=hint)
    cell = located.diagnostic
    return replace(
        problem,
        message=f"{problem.message}：家庭 {household} 计算{located.step}时{others}",
        location=cell.location,
        found=cell.found,
        expected=cell.expected,
        hint=hint + "；若公式连乘多个带小数的数，可在中间一步用 round(…, n) 减少小数位数",
    )


def located(
    con: duckdb.DuckDBPyConnection, project: Project, problem: Diagnostic, trace: str, limit: int
) -> list[Diagnostic]:
    """``problem`` once for each of up to ``limit`` households whose decision fails
    on its own (``failing_households``), each naming its household and cell, with the
    household's id in ``extra`` (the service places it at the household's path)."""
    ids, _ = failing_households(con, project, trace, limit)
    found = []
    for ident in ids:
        said = pointed(problem, ident, False, at_cell(con, project, ident))
        cell = said.location  # the household's path takes its place: the cell is said
        where = f"（{cell.sheet}!{cell.cell}）" if cell.sheet and cell.cell else ""
        found.append(replace(
            said, message=said.message + where, location=problem.location,
            extra={**problem.extra, "household": ident},
        ))
    return found


# ---------------------------------------------------------------- parts of the input


def _counties(con: duckdb.DuckDBPyConnection, project: Project) -> list[str]:
    try:
        codes = [r[0] for r in con.execute("SELECT DISTINCT county_code FROM jz_households ORDER BY 1").fetchall()]
    except duckdb.Error:
        return []
    return [c for c in codes if c in project.plans]


def _first(
    con: duckdb.DuckDBPyConnection, project: Project, counties: list[str], trace: str, low: int, high: int
) -> int:
    """The first household of [low, high), a range that fails, that fails on its own:
    the first half is tried, and the second is kept when the first decides."""
    while high - low > 1:
        middle = (low + high) // 2
        if _fails(con, project, counties, trace, low, middle):
            high = middle
        else:
            low = middle
    return low


def _fails(
    con: duckdb.DuckDBPyConnection, project: Project, counties: list[str], trace: str, low: int, high: int
) -> bool:
    """Whether deciding the households numbered [low, high) fails."""
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW jz_households{PART} AS SELECT * FROM jz_households"
        f" WHERE _hh_index >= {int(low)} AND _hh_index < {int(high)}"
    )
    for table in ("jz_members", "jz_events"):
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {table}{PART} AS SELECT * FROM {table}"
            f" WHERE household_id IN (SELECT household_id FROM jz_households{PART})"
        )
    try:
        run_programs(con, project, counties, trace, store=True, inputs=PART)
    except (JiuzhuError, duckdb.Error):
        return True
    return False


def _drop(con: duckdb.DuckDBPyConnection) -> None:
    """Drop what the parts were decided from and into."""
    pattern = f"^jz_[a-z]+{PART}(_g[0-9]+)?$"
    try:
        for kind, listing in (("VIEW", "duckdb_views() WHERE temporary"), ("TABLE", "duckdb_tables() WHERE temporary")):
            column = "view_name" if kind == "VIEW" else "table_name"
            names = con.execute(f"SELECT {column} FROM {listing} AND regexp_matches({column}, ?)", [pattern])
            for (name,) in names.fetchall():
                con.execute(f'DROP {kind} IF EXISTS "{name}"')
    except duckdb.Error:
        pass  # the connection is closed after a failed run anyway


# ---------------------------------------------------------------- one household


def _rows(con: duckdb.DuckDBPyConnection, table: str, household: str, order: str) -> list[dict]:
    cursor = con.execute(f"SELECT * FROM {table} WHERE household_id = ? ORDER BY {order}", [household])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _typed(row: dict, fields: dict) -> dict:
    """A loaded row as the interpreter reads a household's values: numbers as Decimal."""
    return {
        key: Decimal(value) if isinstance(value, int) and not isinstance(value, bool)
        and key in fields and fields[key].dtype.kind in _NUMBERS else value
        for key, value in row.items()
    }


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _step(plan, ident: str) -> str:  # type: ignore[no-untyped-def]
    derived = plan.derived.get(ident)
    if derived is not None:
        name = derived.name_cn or ident
        return f"派生值「{name}」" + (f"（{ident}）" if name != ident else "")
    table = plan.tables.get(ident)
    level = "成员的" if table is not None and table.level is Level.MEMBER else ""
    return f"{level}决策表「{ident}」" if table is not None else f"「{ident}」"
