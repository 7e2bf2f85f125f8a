"""The passes, in order, and the operations built from them (check, build, evaluate).

    read -> model -> resolve -> bind -> validate -> analyse -> compile -> evaluate

``PASSES`` names that order once; ``open_project`` runs the passes up to validation for
every county, ``build`` adds compilation, and ``evaluate`` runs the compiled SQL over a
household file on DuckDB, one query per group of counties that share table structure
(most counties differ only in standards, which arrive as data, not as SQL text).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

from compiler import logger
from compiler.bind import BindCache, Plan, bind
from compiler.calendar import (
    COUNT_FIRST_YEAR,
    LAST_YEAR,
    WorkCalendar,
    calendar_span_error,
)
from compiler.chains import check_query_depth, query_too_deep
from compiler.diagnostics import Diagnostic, Location, Report, make
from compiler.errors import EvaluationError, InputError, ValidationFailed
from compiler.model import Field, Kind, Level, RuleBook
from compiler.resolve import Tables, load_tables, rulebook_for
from compiler.sqlgen import PRELUDE, Program, compile_plan
from compiler.validate import report_unverified, validate

PASSES = ("read", "model", "resolve", "bind", "validate", "analyse", "compile", "evaluate")

Analyser = Callable[[Plan, Report, date], None]


@dataclass
class Project:
    """A tables folder with every county's rulebook bound and validated."""

    tables: Tables
    report: Report
    as_of: date
    plans: dict[str, Plan] = field(default_factory=dict)
    programs: dict[tuple[str, str, str], Program] = field(default_factory=dict)
    # programs by what compiling reads of a plan, see _compiled_from
    compiled: dict[tuple[object, ...], Program] = field(default_factory=dict)

    def program(self, county: str, suffix: str = "", trace: str = "full") -> Program:
        """The county's compiled program, compiled once per project, and once for all the
        counties whose plans compile alike (most share the province's tables and differ
        only in standard values, which the program reads from jz_standard_rows)."""
        key = (county, suffix, trace)
        if key not in self.programs:
            plan = self.plan(county)
            alike = (suffix, trace, *_compiled_from(plan))
            if alike not in self.compiled:
                self.compiled[alike] = compile_plan(plan, suffix=suffix, trace=trace)
            self.programs[key] = self.compiled[alike]
        return self.programs[key]

    @property
    def fields(self) -> dict[str, Field]:
        return {f.id: f for f in self.tables.province.fields}

    def errors_for(self, counties: list[str]) -> list:  # type: ignore[type-arg]
        """The errors that concern these counties: those in their own workbooks, their
        city's and the province's (a file of a CSV folder too: the unclosed quote that
        causes the rest), and those with no file; another county's broken workbook
        does not stop these counties from being decided. An error that names the
        counties it concerns (``county_codes``: E607 at a province cell that only
        some counties read) concerns those alone."""
        sources: set[str] = set()
        for code in counties:
            plan = self.plans.get(code)
            if plan is not None:
                sources.update(plan.rulebook.sources)
        return [
            d for d in self.report.errors
            if (d.location.file is None or _within(d.location.file, sources))
            and _names_any(d, counties)
        ]

    def plan(self, county: str) -> Plan:
        if county not in self.plans:
            raise InputError(
                make(
                    "E606",
                    f"未知的县（市、区）代码「{county}」",
                    found=county,
                    expected="tables/counties/ 中已有工作簿的六位代码，例如 330106",
                )
            )
        return self.plans[county]


def _names_any(diagnostic: Diagnostic, counties: list[str]) -> bool:
    """Whether the diagnostic concerns one of ``counties``: true unless it lists the
    counties it concerns (``county_codes``) and none of them is among these."""
    named = diagnostic.extra.get("county_codes")
    return not isinstance(named, list) or any(code in named for code in counties)


def _within(file: str, sources: set[str]) -> bool:
    """Whether ``file`` is one of the sources or a file of a source folder."""
    return file in sources or any(str(p) in sources for p in Path(file).parents)


def _compiled_from(plan: Plan) -> tuple[object, ...]:
    """All that compile_plan reads of a plan: the objects of its fields, bound derived
    values and tables (bound once per project for the counties that share them, see
    BindCache; the project keeps them, so their ids stay theirs), the order it computes
    them in, and its standards' identifiers, types and names (not their values)."""
    book = plan.rulebook
    return (
        tuple(plan.order),
        tuple((ident, id(f)) for ident, f in book.fields.items()),
        tuple((ident, id(d)) for ident, d in plan.derived.items()),
        tuple((ident, id(t)) for ident, t in plan.tables.items()),
        tuple((ident, s.dtype, s.name_cn) for ident, s in book.standards.items()),
    )


def open_project(
    root: str | Path,
    counties: list[str] | None = None,
    as_of: date | None = None,
    analyse: Analyser | None = None,
    report: Report | None = None,
) -> Project:
    """Run read, model, resolve, bind, validate (and analyse, when given) for counties."""
    report = report or Report()
    as_of = as_of or date.today()
    started = time.perf_counter()
    tables = load_tables(root, report)
    project = Project(tables, report, as_of)
    codes = counties or tables.county_codes()
    unverified: dict = {}
    cache = BindCache()
    for code in codes:
        if code not in tables.counties:
            if not Path(root).is_dir():
                continue  # no tables at all: E001 says it
            report.error(
                "E606",
                f"未知的县（市、区）代码「{code}」",
                Location(str(Path(root) / "counties")),
                found=code,
                expected="tables/counties/ 中已有工作簿的六位代码，例如 330106",
            )
            continue
        book = rulebook_for(tables, code, report)
        plan = bind(book, report, cache)
        validate(plan, report, as_of, unverified)
        # tables with errors are analysed once the errors are fixed: a cell that did not
        # parse, a cycle or a missing standard makes the analysis report invariants
        # broken by values that are only missing (spurious E504 and W503)
        if analyse is not None and not _broken(report, book.sources):
            analyse(plan, report, as_of)
        project.plans[code] = plan
        if not _broken(report, book.sources):  # E306 for a query DuckDB cannot bind
            check_query_depth(plan, project.program(code), report)
    report_unverified(unverified, report)
    logger.info("已检查 %d 个县（市、区），%.2f 秒", len(project.plans), time.perf_counter() - started)
    return project


def _broken(report: Report, sources: list[str]) -> bool:
    """Errors so far, other than the analysis's own findings (E5xx: gaps, overlaps,
    broken invariants, which other counties may share), in one of ``sources`` (the
    county's, its city's and the province's workbooks) or in no file: another county's
    error does not stop this county from being analysed."""
    within = [Path(s) for s in sources]
    return any(
        not d.code.startswith("E5") and _concerns(d.location.file, within)
        for d in report.errors
    )


def _concerns(file: str | None, sources: list[Path]) -> bool:
    """Whether a diagnostic's file is one of ``sources`` or inside one (a province
    folder's CSV file); a diagnostic with no file concerns every county."""
    if file is None:
        return True
    path = Path(file)
    return any(path == s or s in path.parents for s in sources)


@dataclass
class Build:
    programs: dict[str, Program]
    groups: dict[str, list[str]]  # SQL text hash -> counties


def build(project: Project) -> Build:
    """Compile every county's plan; counties with the same SQL share one program."""
    if project.report.has_errors:
        raise ValidationFailed(project.report.errors)
    programs = {code: compile_plan(plan) for code, plan in project.plans.items()}
    groups: dict[str, list[str]] = defaultdict(list)
    for code, program in programs.items():
        groups[program.sql].append(code)
    return Build(programs, {f"g{i}": codes for i, codes in enumerate(groups.values())})


def write_build(project: Project, result: Build, out: str | Path) -> list[Path]:
    """Write one .sql file per county and a manifest; returns the files written."""
    import json

    out = Path(out)
    (out / "sql").mkdir(parents=True, exist_ok=True)
    written = []
    for code, program in result.programs.items():
        book = project.plans[code].rulebook
        path = out / "sql" / f"{code}-{book.county_name}.sql"
        header = f"-- Jiuzhu compiled decision program for {code} {book.county_name}\n"
        path.write_text(header + program.sql + ";\n", encoding="utf-8")
        written.append(path)
    manifest = {
        "as_of_checked": project.as_of.isoformat(),
        "counties": {
            code: {
                "name": project.plans[code].rulebook.county_name,
                "sql": f"sql/{code}-{project.plans[code].rulebook.county_name}.sql",
                "sources": project.plans[code].rulebook.sources,
                "tables": result.programs[code].tables,
            }
            for code in result.programs
        },
        "structure_groups": result.groups,
        "warnings": len(project.report.warnings),
    }
    manifest_path = out / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    written.append(manifest_path)
    (out / "prelude.sql").write_text(PRELUDE, encoding="utf-8")
    return written


# ---------------------------------------------------------------- evaluation on DuckDB


def connect(memory_limit: str | None = None, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    if memory_limit:
        from compiler.leftovers import spill_folder

        con.execute(f"SET memory_limit = '{memory_setting(memory_limit)}'")
        # one folder per process, in one of the user's own: two evaluations spilling at
        # once must not share files, and what a killed one left is removed
        spill = spill_folder()
        con.execute(
            f"SET temp_directory = '{str(spill).replace(chr(39), chr(39) * 2)}'"
        )
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute(PRELUDE)
    return con


def memory_setting(text: str) -> str:
    """A memory size like 1GB; anything else is refused before it reaches SQL."""
    memory_bytes(text)
    return text.strip()


def memory_bytes(text: str) -> int:
    """The bytes of a memory size like 1GB or 512MiB; InputError for anything else,
    or for less than DuckDB needs."""
    import re

    found = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)", text.strip(), re.IGNORECASE)
    if not found:
        raise InputError(
            make("E605", "内存上限格式错误", found=text, expected="如 1GB、512MB")
        )
    unit = found.group(2).upper()
    scale = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}.get(unit)
    size = float(found.group(1)) * (scale or 2 ** (10 * ("B", "KIB", "MIB", "GIB", "TIB").index(unit)))
    if size < 64 * 2**20:
        raise InputError(
            make("E605", "内存上限太小，DuckDB 无法在其中完成计算", found=text,
                 expected="至少 64MiB，如 512MB、1GB")
        )
    return int(size)


def install_standards(con: duckdb.DuckDBPyConnection, plans: dict[str, Plan], as_of: date,
                      versions: dict[str, str] | None = None) -> None:
    """Create jz_standard_rows, jz_params (and its date as the macro jz_as_of),
    jz_versions and jz_calendar for the plans."""
    columns: dict[str, list] = defaultdict(list)
    for code, plan in plans.items():
        for ident, standard in plan.rulebook.standards.items():
            for precedence, row in enumerate(standard.rows):
                columns["county_code"].append(code)
                columns["id"].append(ident)
                columns["value"].append(_text_value(row.value))
                columns["effective_from"].append(row.effective_from)
                columns["effective_until"].append(row.effective_until)
                columns["precedence"].append(precedence)
                columns["verified"].append(row.verified)
    names = list(columns) or ["county_code", "id", "value", "effective_from",
                              "effective_until", "precedence", "verified"]
    select = ", ".join(f"unnest(${n}) AS {n}" for n in names)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE jz_standard_rows AS SELECT {select}",
        {n: columns.get(n, []) for n in names},
    )
    con.execute("CREATE OR REPLACE TEMP TABLE jz_params AS SELECT CAST($d AS DATE) AS as_of", {"d": as_of})
    # the same date as a constant for the compiled expressions (sqlgen's docstring)
    con.execute(f"CREATE OR REPLACE TEMP MACRO jz_as_of() AS DATE '{as_of:%Y-%m-%d}'")
    versions = versions or {}
    con.execute(
        "CREATE OR REPLACE TEMP TABLE jz_versions AS SELECT unnest($c) AS county_code,"
        " unnest($v) AS version",
        {"c": list(versions), "v": list(versions.values())},
    )
    calendar = WorkCalendar(next(iter(plans.values())).rulebook.calendar if plans else [])
    _install_dayseq(con, calendar)


def _text_value(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _install_dayseq(con: duckdb.DuckDBPyConnection, calendar: WorkCalendar) -> None:
    """The working-day calendar as one row of two lists (see jz_working_days_after):
    ``seq[k]`` counts the working days up to the k-th day from COUNT_FIRST_YEAR-01-01, and
    ``work[i]`` is the i-th working day; a lookup is two list reads, no join."""
    first, last = date(COUNT_FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)
    seq, work = [], []
    day = first
    while day <= last:
        if calendar.is_working(day):
            work.append(day)
        seq.append(len(work))
        day += timedelta(days=1)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE jz_calendar AS"
        " SELECT CAST($s AS INTEGER[]) AS seq, CAST($w AS DATE[]) AS work",
        {"s": seq, "w": work},
    )


@dataclass
class Evaluated:
    households: int
    seconds: float
    out: Path | None
    groups: int
    counties: list[str]


def run_programs(
    con: duckdb.DuckDBPyConnection,
    project: Project,
    counties: list[str],
    trace: str = "full",
    store: bool = True,
    restrict: bool = False,
    inputs: str = "",
) -> str:
    """Run every county's program; returns the name of the relation of all decisions.

    Counties whose tables compile to the same SQL share one run over their households.
    With ``restrict`` a single run also reads only the households of ``counties`` (the
    connection holds others); without it a single run reads every loaded household.
    ``inputs`` is appended to the names of the input relations read (``jz_households``
    and the others) and of the decisions relation returned: a batch of households is
    decided from views named ``jz_households_b`` and so on.
    A UNIQUE or ANY table whose contract breaks raises EvaluationError naming the
    household and the rules. With ``store`` the decisions are computed here into
    temporary tables, to be read as often as the caller likes; without it they are
    views computed when read, for a caller that reads them once (a province-scale
    write), and a broken contract is raised by that read.
    """
    by_sql: dict[str, list[str]] = defaultdict(list)
    for code in counties:
        by_sql[project.program(code, trace=trace).sql].append(code)
    single = len(by_sql) == 1 and not restrict
    parts = []
    for index, codes in enumerate(by_sql.values()):
        suffix = inputs if single else f"{inputs}_g{index}"
        if not single:
            _group_views(con, inputs, suffix, codes)
        program = project.program(codes[0], suffix=suffix, trace=trace)
        too_deep = query_too_deep(project.plan(codes[0]), program)
        if too_deep is not None:  # a diff's sides reach here unchecked
            raise ValidationFailed(too_deep)
        kind = "TABLE" if store else "VIEW"
        try:
            _replace(con, kind, f"jz_decisions{suffix}", program.query)
        except duckdb.Error as error:
            raise contract_error(error) or data_error(error) or _depth_error(
                error, project.plan(codes[0]), program
            ) or error from None
        parts.append(f"SELECT * FROM jz_decisions{suffix}")
    if not single:
        # each group's decisions are in input order; together, they are put back in it
        _replace(
            con,
            "VIEW",
            f"jz_decisions{inputs}",
            "SELECT d.* FROM ("
            + " UNION ALL ".join(parts)
            + f") d JOIN (SELECT household_id, _hh_index FROM jz_households{inputs}) h "
            "ON d.household_id = h.household_id ORDER BY h._hh_index",
        )
    return f"jz_decisions{inputs}"


def _replace(con: duckdb.DuckDBPyConnection, kind: str, name: str, query: str) -> None:
    """``CREATE OR REPLACE TEMP {kind} name``, whichever kind the connection's last run
    left under that name: a reused connection (the service's workers) decides one
    request's counties with one program (a table) and the next one's with several (a
    view of their union), and DuckDB replaces an object only by one of its own kind."""
    other = "VIEW" if kind == "TABLE" else "TABLE"
    try:
        con.execute(f"DROP {other} IF EXISTS {name}")
    except duckdb.CatalogException:  # it is of the kind being made: replaced below
        pass
    con.execute(f"CREATE OR REPLACE TEMP {kind} {name} AS {query}")


def _group_views(con: duckdb.DuckDBPyConnection, inputs: str, suffix: str, codes: list[str]) -> None:
    """Views ``jz_households{suffix}`` and the others over ``jz_households{inputs}``
    and the others, holding the households of ``codes``."""
    listed = ", ".join("'" + c + "'" for c in codes if c.isdigit())
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW jz_households{suffix} AS "
        f"SELECT * FROM jz_households{inputs} WHERE county_code IN ({listed})"
    )
    for table in ("jz_members", "jz_events"):
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {table}{suffix} AS SELECT * FROM {table}{inputs} "
            f"WHERE household_id IN (SELECT household_id FROM jz_households{suffix})"
        )


def contract_error(error: duckdb.Error) -> EvaluationError | None:
    """The EvaluationError a compiled UNIQUE/ANY check or a working-day count outside the
    calendar raised inside DuckDB, if any."""
    text = str(error)
    marker = text.find("E612|")
    if marker >= 0:
        day, event, household = (text[marker + 5 :].splitlines()[0].split("|", 2) + ["", ""])[:3]
        # the id as stored: "B " is not "B"
        return EvaluationError(
            calendar_span_error(
                day.strip(), household or None, int(event) if event.isdigit() else None
            )
        )
    for code in ("E601", "E602"):
        marker = text.find(code + "|")
        if marker >= 0:
            _, table, household, rules = (text[marker:].split("|", 3) + ["", "", ""])[:4]
            what = "命中多条规则" if code == "E601" else "命中的规则输出不一致"
            return EvaluationError(
                make(
                    code,
                    f"家庭 {household} 在决策表「{table}」中{what}：{rules.strip()}",
                    found=rules.strip(),
                    expected="UNIQUE 表每个家庭只命中一条规则" if code == "E601"
                    else "ANY 表命中的规则输出相同",
                    hint="修改规则使其互不重叠，或改用 FIRST/PRIORITY 命中策略",
                    household=household,
                    table=table,
                )
            )
    return None


def _depth_error(error: duckdb.Error, plan: Plan, program: Program) -> ValidationFailed | None:
    """E306 for a query DuckDB found nested too deep although ``query_too_deep``
    measured it within the limit: said in Chinese, DuckDB's English only in the log."""
    text = str(error)
    if "expression depth" not in text and "tree depth" not in text:
        return None
    logger.warning("DuckDB 拒绝了嵌套过深的查询：%s", text.splitlines()[0])
    return ValidationFailed(query_too_deep(plan, program, refused=True) or [])


def data_error(error: duckdb.Error) -> InputError | None:
    """A value DuckDB could not hold or convert (an amount too large for money, say):
    the input's fault, reported as such rather than as an internal error."""
    kinds = (duckdb.ConversionException, duckdb.OutOfRangeException)
    if not isinstance(error, kinds):
        return None
    import re

    from compiler.interpret import out_of_range

    first = str(error).splitlines()[0]
    value = re.search(r'[Cc]asting value "([^"]+)"', first) or re.search(r"\(([-\d. *]+)\)", first)
    return out_of_range(value.group(1) if value else first)


def household_envs(
    household: dict, fields: dict[str, Field]
) -> tuple[dict, list[dict], list[dict]]:
    """A contract-shaped household as the flat field values the interpreter reads."""
    def pick(source: dict, level: Level, strip: str = "") -> dict:
        env = {}
        for ident, spec in fields.items():
            if spec.level is not level:
                continue
            path = ident[len(strip):] if strip and ident.startswith(strip) else ident
            value = _path(source, path)
            env[ident] = spec.default if value is None else _typed(value, spec)
        return env

    env = pick(household, Level.HOUSEHOLD)
    env["household_id"] = household.get("household_id")
    env["county_code"] = household.get("county_code")
    members = [pick(m, Level.MEMBER) for m in household.get("members") or []]
    events = [pick(e, Level.EVENT, "event.") for e in household.get("events") or []]
    for event in events:
        event.setdefault("household_id", env["household_id"])
    return env, members, events


def _path(source: dict, path: str) -> object:
    value: object = source
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _typed(value: object, spec: Field) -> object:
    if spec.dtype.kind in (Kind.MONEY, Kind.NUMBER, Kind.INTEGER, Kind.PERCENT):
        return Decimal(str(value)) if not isinstance(value, bool) else value
    if spec.dtype.kind is Kind.DATE and isinstance(value, str):
        return date.fromisoformat(value)
    return value


__all__ = [
    "PASSES",
    "Project",
    "RuleBook",
    "build",
    "connect",
    "contract_error",
    "household_envs",
    "install_standards",
    "open_project",
    "run_programs",
    "write_build",
]
