"""The evaluate pass: a household file in, decisions with reasons out, on DuckDB.

``decide`` runs on an open connection whose input relations are loaded; the whole
population is decided by set-based SQL, never one household at a time in Python.
``evaluate_file`` is the batch operation behind ``jiuzhu evaluate``.
"""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import duckdb

from compiler import logger
from compiler.batches import batch_size, decide_in_batches, plan_batches, to_stderr
from compiler.calendar import (
    COUNT_FIRST_YEAR,
    COUNT_REACH_DAYS,
    LAST_YEAR,
    unlisted_year_warning,
)
from compiler.diagnostics import Diagnostic, make
from compiler.engine import (
    Project,
    connect,
    contract_error,
    data_error,
    install_standards,
    open_project,
    run_programs,
)
from compiler.errors import EvaluationError, InputError, ValidationFailed
from compiler.event_types import unknown_event_types
from compiler.households_check import repeated_members
from compiler.households_plausible import implausible
from compiler.leftovers import BATCHES, PARTIAL, left_behind, sweep
from compiler.model import CalendarDay, Kind, Level
from compiler.output import format_of, unwritten
from compiler.output_guard import guard_output, guard_scratch
from compiler.sqlgen import quote
from compiler.vocabulary import GROUP_CN


@dataclass
class EvaluationResult:
    households: int
    seconds: float
    counties: list[str]
    summary: list[tuple[str, str, str, int]] = field(default_factory=list)  # code, name, group, n
    warnings: list[Diagnostic] = field(default_factory=list)  # about the tables
    records: list[dict] | None = None
    input_warnings: list[Diagnostic] = field(default_factory=list)  # about the households


def prepare(
    con: duckdb.DuckDBPyConnection,
    project: Project,
    households: str | Path,
    as_of: date,
    counties: list[str] | None = None,
    versions: dict[str, str] | None = None,
    notes: list[Diagnostic] | None = None,
    deferred: list[Callable[[], None]] | None = None,
) -> list[str]:
    """Load the input and the standards; returns the counties present in the input.
    Warnings about the input (columns that are no declared field) go to ``notes``.
    With ``deferred`` person ids repeated within a household may be left to the
    caller, who gets the whole check to run in ``deferred`` (see load_households)."""
    from compiler.households import load_households

    missing = sorted(set(counties or []) - set(project.plans))
    if missing or not project.plans:
        # a --county with no workbook, or no tables at all: nothing could be decided
        unknown = [d for d in project.report.errors if d.code == "E606" and d.found in missing]
        raise ValidationFailed(unknown or project.report.errors or [_no_tables()])
    # the households of other counties are skipped: with --county the project holds
    # only those counties' tables, so checking the others would call them unknown
    loaded = load_households(
        con, households, project.fields, county=counties or None,
        known_counties=set(project.plans),
        as_of=as_of,
        defer_repeats=deferred is not None,
    )
    if deferred is not None and loaded.recheck is not None:
        deferred.append(loaded.recheck)
    if notes is not None:
        notes.extend(make("W601", text) for text in loaded.warnings)
        if loaded.skipped:  # said, so that nobody takes the output for the whole file
            notes.append(make(
                "I601", f"按 --county 只决策 {'、'.join(counties or [])} 的家庭，文件中其他县的 "
                f"{loaded.skipped} 户未决策", found=f"{loaded.skipped} 户"))
    present = [row[0] for row in con.execute("SELECT DISTINCT county_code FROM jz_households ORDER BY 1").fetchall()]
    if counties:
        present = [c for c in present if c in counties]
    if notes is not None and present:
        notes.extend(_calendar_gaps(con, project.plan(present[0]).rulebook.calendar, as_of))
        notes.extend(unknown_event_types(
            con, [project.plan(c) for c in present], places=loaded.places))
        notes.extend(implausible(con, project.fields, places=loaded.places, as_of=as_of))
    errors = project.errors_for(present)
    if errors:
        raise ValidationFailed(errors)
    install_standards(con, {c: project.plan(c) for c in present}, as_of, versions)
    return present


def _calendar_gaps(
    con: duckdb.DuckDBPyConnection, days: list[CalendarDay], as_of: date
) -> list[Diagnostic]:
    """W403 for each year without a holiday schedule that the input's events may count
    working days in (``calendar.unlisted_years``, as SQL over the loaded events of the
    decision date or before: a later event raises no alert yet)."""
    listed = sorted({d.day.year for d in days})
    columns = {row[0] for row in con.execute("DESCRIBE jz_events").fetchall()}
    if "event.date" not in columns:  # a rulebook that declares no event date
        return []
    rows = con.execute(
        "WITH e AS (SELECT \"event.date\" AS d FROM jz_events WHERE \"event.date\" <= $as_of)"
        " SELECT y, count(*) FROM (SELECT year(d) AS y FROM e"
        " UNION ALL SELECT year(d + $reach) FROM e WHERE year(d + $reach) <> year(d))"
        " WHERE y BETWEEN $first AND $last AND NOT list_contains($listed, y)"
        " GROUP BY y ORDER BY y",
        {"reach": COUNT_REACH_DAYS, "first": COUNT_FIRST_YEAR, "last": LAST_YEAR, "listed": listed,
         "as_of": as_of},
    ).fetchall()
    return [unlisted_year_warning(year, n, "家庭数据中") for year, n in rows]


def _no_tables() -> Diagnostic:
    return make("E001", "没有可用的县（市、区）决策表", expected="tables/ 中的省级与县级工作簿")


def decide(
    con: duckdb.DuckDBPyConnection,
    project: Project,
    counties: list[str],
    trace: str = "full",
    store: bool = True,
) -> str:
    """Create the decisions relation for the loaded input; returns its name. Without
    ``store`` it is a view that decides when read, for a caller that reads it once."""
    if not counties:
        con.execute(f"CREATE OR REPLACE TEMP VIEW jz_decisions AS {EMPTY_DECISIONS}")
        return "jz_decisions"
    return run_programs(con, project, counties, trace, store)


# The decision columns with their types and no rows: the answer for an input with none.
EMPTY_DECISIONS = """SELECT CAST(NULL AS VARCHAR) AS household_id, CAST(NULL AS VARCHAR) AS county_code,
  CAST(NULL AS DATE) AS as_of, CAST(NULL AS VARCHAR) AS version, CAST(NULL AS VARCHAR) AS "group",
  CAST(NULL AS DECIMAL(18,2)) AS income_per_capita, CAST(NULL AS DECIMAL(18,2)) AS dibao_standard,
  CAST(NULL AS DECIMAL(18,2)) AS marginal_line, CAST(NULL AS VARCHAR[]) AS tekun_members,
  CAST(NULL AS VARCHAR[]) AS entitlements, CAST(NULL AS DATE) AS phase_out_from,
  CAST(NULL AS DATE) AS phase_out_until, CAST(NULL AS VARCHAR) AS monitoring,
  CAST(NULL AS STRUCT(type VARCHAR, person_id VARCHAR, raised_on DATE, due DATE)[]) AS alerts,
  CAST(NULL AS STRUCT("table" VARCHAR, rule VARCHAR, cell VARCHAR, outcome VARCHAR,
    section VARCHAR, person_id VARCHAR)[]) AS trace
WHERE FALSE"""


def evaluate_file(
    tables: str | Path,
    households: str | Path,
    as_of: date,
    out: str | Path | None,
    counties: list[str] | None = None,
    memory_limit: str | None = None,
    progress: bool = False,
    project: Project | None = None,
    versions: dict[str, str] | None = None,
    trace: str = "full",
    summary: bool = True,
    batch: int | None = None,
    replace: bool = False,
    registry: str | Path | None = None,
) -> EvaluationResult:
    """Decide for every household in a file and write the decisions (csv/parquet/jsonl).

    ``out`` is refused before any work when it is an input, lies in ``tables`` or is
    the ``registry``, or exists and holds something other than decisions, unless
    ``replace`` (``output_guard``); so is a temporary folder inside ``tables``. A link
    is written through. What runs killed hard left beside the output (and beside the
    link) and in the temporary folder is removed first (``leftovers``).

    With ``summary`` the households are also counted by county and group; that reads
    the decisions a second time, so a province-scale run that only writes them skips it.
    More households than ``batch`` (by default as many as the memory limit holds, at
    most a million) are decided a batch at a time, each batch's decisions written to a
    temporary file as it is done (``compiler.batches``); with ``progress`` each batch
    is reported on standard error.
    """
    started = time.perf_counter()
    notes: list[Diagnostic] = []
    guard_scratch(tables)
    if out:
        guard_output(out, households, tables, registry, replace)
        # the output is written in its link's target's folder; an earlier version
        # wrote beside the link
        for folder in dict.fromkeys([Path(out).resolve().parent, Path(out).absolute().parent]):
            sweep(folder, PARTIAL)
        notes.extend(left_behind(Path(out).resolve().parent))
    project = project or open_project(tables, counties, as_of)
    limit = memory_limit or default_memory_limit()
    con = connect(limit)
    if progress:
        con.execute("SET enable_progress_bar = true")
    # repeated person ids are looked for batch by batch, where a batch's members are
    # read anyway (2.3 s for ten million households against 4.4 s over the whole file)
    deferred: list[Callable[[], None]] = []
    sweep(Path(tempfile.gettempdir()), BATCHES)
    with tempfile.TemporaryDirectory(prefix=f"jiuzhu-batches-{os.getpid()}-") as scratch:
        try:
            present = prepare(
                con, project, households, as_of, counties, versions, notes, deferred
            )
            recheck = deferred[0] if deferred else None
            batches = plan_batches(con, batch or batch_size(limit, trace)) if present else []
            written = False
            if len(batches) > 1:
                report = to_stderr if progress else logger.info
                # parts are joined into the output as written; a summary reads them
                # again, Parquet parts only
                joined = out if out and (not summary or format_of(Path(out)) == "parquet") else None
                relation, written = decide_in_batches(
                    con, project, present, batches, trace, Path(scratch), report, joined,
                    recheck,
                )
            else:
                if recheck is not None and repeated_members(con, "jz_members"):
                    recheck()
                # a file written without a summary reads the decisions once: decide
                # as it writes
                relation = decide(con, project, present, trace, store=not out or summary)
        except EvaluationError as failure:
            raise _with_households(con, failure) from None
        except InputError as failure:
            raise _with_large_amounts(con, project, failure, trace) from None
        except duckdb.Error as error:  # out of memory; a file that turned unreadable
            raise _engine_error(error) from None
        counted = _written(con, project, relation, out, summary, written) if relation else []
    count = con.execute("SELECT count(*) FROM jz_households").fetchone()[0]  # type: ignore[index]
    warnings = [d for d in project.report.items if not d.is_error]
    return EvaluationResult(
        count, time.perf_counter() - started, present, counted, warnings, input_warnings=notes
    )


def _written(
    con: duckdb.DuckDBPyConnection,
    project: Project,
    relation: str,
    out: str | Path | None,
    summary: bool,
    written: bool = False,
) -> list[tuple[str, str, str, int]]:
    """Write the decisions to ``out``, if given and not ``written`` already, and count
    them by county and group if asked (or if there is no file to write)."""
    from compiler.output import write_decisions

    try:
        if out and not written:
            try:
                write_decisions(con, relation, out)
            except (duckdb.IOException, OSError) as error:
                raise unwritten(out, error) from None
        return _summary(con, relation, project) if summary or not out else []
    except duckdb.Error as error:
        broken = contract_error(error)
        if broken is not None:
            raise _with_households(con, broken) from None
        overflow = data_error(error)
        if overflow is not None:
            raise _with_large_amounts(con, project, overflow) from None
        raise _engine_error(error) from None


def _with_households(con: duckdb.DuckDBPyConnection, failure: EvaluationError) -> EvaluationError:
    """E612 names the day a working-day count could not start from and, from the
    compiled query, the household whose count it was; add that household (or, when
    none is named, the households whose events are dated that day), so that the user
    knows where to look. No `jiuzhu explain` is suggested: it stops at the same count."""
    problem = failure.diagnostics[0]
    if problem.code != "E612" or not problem.found:
        return failure
    named = problem.extra.get("household")
    if named:  # the count that failed named its household
        return EvaluationError(
            _pointed(problem, [str(named)], "的该日期事件", None)
        )
    ids = _households_of(
        con,
        'SELECT DISTINCT household_id FROM jz_events WHERE CAST("event.date" AS VARCHAR) = ?'
        " ORDER BY 1 LIMIT 4",
        [problem.found],
    )
    if not ids:
        return failure  # none, or the events cannot be read again: the day alone must do
    return EvaluationError(_pointed(problem, ids, "有该日期的事件", None))


def _households_of(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[str]:
    """The household ids a query finds; none when the input cannot be read again."""
    try:
        return [str(row[0]) for row in con.execute(sql, params or []).fetchall()]
    except duckdb.Error:
        return []


def _pointed(problem: Diagnostic, ids: list[str], what: str, advice: str | None) -> Diagnostic:
    """``problem`` naming up to three households (等 when there are more) and, with
    ``advice``, pointing to ``jiuzhu explain`` for the first."""
    listed = "、".join(ids[:3]) + ("等" if len(ids) > 3 else "")
    hint = problem.hint
    if advice is not None:
        hint = f"{advice} jiuzhu explain {shlex.quote(ids[0])} 查看"  # pasted into a shell
    return replace(problem, message=f"{problem.message}：家庭 {listed} {what}", hint=hint)


# yuan: a tenth of what a money column holds. E605 is a value that reaches 10^16
# (interpret.out_of_range); a household whose amounts add up to this is where such a
# value most likely comes from, and is named, but such a total alone is no error.
LARGE_TOTAL = 10**15
# said of each household named, after 「家庭 H1」
LARGE_AMOUNTS = "的金额合计在 10¹⁵ 元以上（可计算上限 10¹⁶ 元的十分之一），最可能是超出范围的来源"


def _with_large_amounts(
    con: duckdb.DuckDBPyConnection, project: Project, failure: InputError, trace: str = "full"
) -> InputError:
    """E605 for a sum no column holds names no household (DuckDB does not say which);
    add up to three of the households ``large_amount_households`` finds, or else the
    first household whose decision fails on its own (compiler/overflow.py), with the
    cell the reference interpreter stops at."""
    from compiler.overflow import at_cell, failing_households, pointed

    problem = _amount_problem(failure)
    if problem is None:
        return failure
    ids = large_amount_households(con, project, failure, 4)
    if ids:
        named = _pointed(problem, ids, LARGE_AMOUNTS, "核对这些家庭是否录错了特大金额；可用")
        stop = at_cell(con, project, ids[0])
        return InputError(named if stop is None else replace(named, location=stop.diagnostic.location))
    failing, more = failing_households(con, project, trace, 1)
    stop = at_cell(con, project, failing[0]) if failing else None
    if failing and (stop is None or not stop.of_standards):  # a value on the way too large
        return InputError(pointed(problem, failing[0], more, stop))
    # a value of the standards alone, or none fails on its own: a standard most likely
    return InputError(replace(
        problem,
        message=f"{problem.message}：家庭数据中没有金额合计特别大的家庭",
        location=stop.diagnostic.location if stop is not None else problem.location,
        hint="核对标准参数中的金额是否多写了几位数（jiuzhu check 列出各县的标准参数）",
    ))


def _amount_problem(failure: InputError) -> Diagnostic | None:
    """``failure``'s E605 when it is about an amount, not about a file that cannot be
    read (which names its file)."""
    problem = failure.diagnostics[0] if failure.diagnostics else None
    if problem is None or problem.code != "E605" or problem.location.file:
        return None
    return problem


def large_amount_households(
    con: duckdb.DuckDBPyConnection, project: Project, failure: InputError, limit: int
) -> list[str]:
    """When ``failure`` is an E605 about an amount (not a file that cannot be read), the
    first ``limit`` loaded households, in input order, whose amounts, their own and
    their members', add up to more than ``LARGE_TOTAL``: where a sum no column holds
    most likely comes from. Empty otherwise, or when the input cannot be read again."""
    if _amount_problem(failure) is None:
        return []

    def amounts(level: Level, alias: str) -> str:
        columns = [
            f"coalesce(abs(CAST({alias}.{quote(f.id)} AS DECIMAL(38,2))), 0)"
            for f in project.fields.values()
            if f.level is level and f.dtype.kind is Kind.MONEY
        ]
        return " + ".join(columns) or "0"

    return _households_of(
        con,
        "SELECT h.household_id FROM jz_households h LEFT JOIN (SELECT m.household_id,"
        f" sum({amounts(Level.MEMBER, 'm')}) AS total FROM jz_members m GROUP BY 1) a"
        f" USING (household_id) WHERE {amounts(Level.HOUSEHOLD, 'h')}"
        f" + coalesce(a.total, 0) >= {LARGE_TOTAL} ORDER BY h._hh_index LIMIT {int(limit)}",
    )


def default_memory_limit() -> str:
    """DuckDB's limit for a batch evaluation when none is given: 4 GiB, or 80% of the
    machine's memory when that is less. DuckDB's own default (80% of memory) let ten
    million households take 18 GB; with 4 GiB the same run peaks at 4.3 GB and spills
    to a temporary folder, about 15% slower (docs/performance.md)."""
    import os

    try:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "4GiB"
    mib = min(4096, int(physical * 0.8) // (1024 * 1024))
    return f"{max(mib, 256)}MiB"


def damaged_input(error: duckdb.Error) -> InputError | None:
    """E605 for a DuckDB household file with a damaged block, found only when the
    decisions read it ("Corrupt database file: computed checksum ... in block"): the
    file is at fault, not the values nor the memory limit. DuckDB's English goes to
    the log."""
    first = str(error).splitlines()[0] if str(error) else ""
    if "corrupt database file" not in first.lower() and "checksum" not in first.lower():
        return None
    logger.info("DuckDB 读取家庭数据文件时校验失败：%s", first)
    return InputError(make(
        "E605", "家庭数据文件已损坏：DuckDB 文件中有数据块的校验和不符，无法读取",
        found="校验和不符", expected="完整的 DuckDB 文件",
        hint="从备份恢复该文件，或重新导出家庭数据（如 jiuzhu synth 或原系统的导出）后重试"))


def _engine_error(error: duckdb.Error) -> InputError:
    damaged = damaged_input(error)
    if damaged is not None:
        return damaged
    if isinstance(error, duckdb.OutOfMemoryException):
        return InputError(make("E605", "内存上限不够完成这次计算",
                               found=str(error).splitlines()[0],
                               hint="用 --memory-limit 设一个更大的上限（超出部分会写入临时文件），"
                                    "或用 --batch-size 减少每批决策的户数"))
    return InputError(make("E605", f"DuckDB 无法完成计算：{str(error).splitlines()[0]}",
                           hint="检查家庭数据的取值，或使用 --memory-limit 调整内存上限"))


def _summary(con: duckdb.DuckDBPyConnection, relation: str, project: Project) -> list[tuple[str, str, str, int]]:
    rows = con.execute(
        f'SELECT county_code, "group", count(*) FROM {relation} GROUP BY ALL ORDER BY 1, 2'
    ).fetchall()
    names = {c: p.rulebook.county_name for c, p in project.plans.items()}
    return [(code, names.get(code, ""), group or "none", n) for code, group, n in rows]




def print_summary(result: EvaluationResult) -> None:
    """A per-county table of households by group, for the terminal."""
    from rich.console import Console
    from rich.table import Table

    groups = list(GROUP_CN)
    table = Table(title=f"各县（市、区）决策汇总（{result.households} 户）")
    table.add_column("县（市、区）")
    for group in groups:
        table.add_column(GROUP_CN[group], justify="right")
    by_county: dict[tuple[str, str], dict[str, int]] = {}
    for code, name, group, n in result.summary:
        by_county.setdefault((code, name), {})[group] = n
    for (code, name), counts in by_county.items():
        table.add_row(f"{code} {name}", *[str(counts.get(g, 0)) for g in groups])
    Console(width=None if sys.stdout.isatty() else 140).print(table)
