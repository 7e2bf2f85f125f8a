"""The console's only door to the library: check, preview, explain, history, diff,
publish, withdraw.

Each function calls the compiler's public functions and returns their results as they
are (diagnostics, decisions, the diff dict, the impact); nothing here decides anything
about a household. The one thing added is reuse: a county's sample households stay
loaded in a DuckDB connection between edits, so an edit re-runs only the standards and
the compiled program (``engine.install_standards`` and ``engine.run_programs``, the
steps ``evaluate.prepare`` and ``evaluate.decide`` take after loading), and the one
household explained is taken from that connection instead of the file.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from compiler.bind import Plan
from compiler.diagnostics import Diagnostic, Report, Severity, make
from compiler.engine import (
    Analyser,
    Project,
    connect,
    install_standards,
    open_project,
    run_programs,
)
from compiler.errors import JiuzhuError

logger = logging.getLogger("jiuzhu")

PREVIEW_COLUMNS = (
    "household_id", "group", "income_per_capita", "dibao_standard", "marginal_line",
    "entitlements", "monitoring",
)
# The household-level rules of each decision, 「table:rule」 joined by 「；」, made in
# DuckDB: fetching every household's whole trace into Python dicts took 50,000
# households to 44 s and +1.4 GB (helper-51).
RULES_APPLIED = (
    "array_to_string(list_transform(list_filter(trace, lambda e: e.person_id IS NULL),"
    " lambda e: e.\"table\" || ':' || coalesce(nullif(e.rule, ''), '默认')), '；')"
)
# The most households the console decides at once (a file holding more is refused
# before it is read): the page lists every household, and one session's preview must
# not stall the server for everyone. Larger files are for ``jiuzhu evaluate``.
PREVIEW_LIMIT = 20_000


@dataclass
class Checked:
    """A working copy read, validated and analysed for one county on one date."""

    county: str
    root: Path
    as_of: date
    project: Project | None
    report: Report
    seconds: float

    @property
    def plan(self) -> Plan | None:
        if self.project is None or self.report.has_errors:
            return None
        return self.project.plans.get(self.county)

    @property
    def errors(self) -> list[Diagnostic]:
        return self.report.errors

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.report.items if d.severity is Severity.WARNING]

    @property
    def notes(self) -> list[Diagnostic]:
        return [d for d in self.report.items if d.severity is Severity.INFO]


def check(root: Path, county: str, as_of: date, analysis: bool = True) -> Checked:
    """Run the passes up to analysis on the working copy under ``root``."""
    started = time.perf_counter()
    report = Report()
    project = None
    try:
        analyser: Analyser | None = None
        if analysis:
            from compiler.analyse import analyse

            analyser = analyse
        project = open_project(root, [county], as_of, analyser, report)
    except JiuzhuError as error:
        report.extend(error.diagnostics)
    return Checked(county, root, as_of, project, report, time.perf_counter() - started)


def unrecognised(root: Path, county: str, workbook: Path, as_of: date) -> list[Diagnostic]:
    """The E004 the compiler gives when ``workbook`` replaces the county's workbook in
    the tables folder ``root``: it holds neither 标准参数 nor a decision table."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        tables = Path(scratch) / "tables"
        (tables / "counties").mkdir(parents=True)
        for name in ("province", "cities"):
            if (root / name).exists():
                (tables / name).symlink_to((root / name).resolve(), target_is_directory=True)
        (tables / "counties" / f"{county}{workbook.suffix.lower()}").symlink_to(workbook.resolve())
        found = check(tables, county, as_of, analysis=False)
    return [d for d in found.report.errors
            if d.code == "E004" and Path(str(d.location.file or "")).parent.name == "counties"]


# ---------------------------------------------------------------- preview


@dataclass
class Preview:
    """The decisions of a file's households (``rows``, no trace) and, kept compact in
    an Arrow table, each household's trace (``trace`` gives one household's)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Diagnostic] = field(default_factory=list)
    seconds: float = 0.0
    households: int = 0
    traces: Any = None  # pyarrow.Table of household_id, trace (compact: no cell, section)
    plan: Plan | None = None
    refused: str = ""  # why the file was not decided at all (too many households)

    def trace(self, household_id: str) -> list[dict[str, Any]]:
        """The household's trace entries, each with the section its rules cite (as the
        full trace of ``jiuzhu evaluate`` gives it)."""
        if self.traces is None:
            return []
        import pyarrow.compute as pc

        found = self.traces.filter(pc.equal(self.traces["household_id"], household_id))
        entries = found["trace"].to_pylist()[0] if found.num_rows else []
        return [{**e, "section": section_of(self.plan, e.get("table"), e.get("rule"))}
                for e in entries or [] if isinstance(e, dict)]


def section_of(plan: Plan | None, table_id: object, rule: object) -> str:
    """The policy section of the rules a trace entry names (a multi-hit table names
    every rule that matched, ``a,b``; each section once), as ``interpret`` gives it."""
    from compiler.normalise import fold_text

    table = plan.tables.get(str(table_id)) if plan is not None else None
    if table is None or not rule:
        return ""
    named = [str(rule)] if table.hit_policy.single_hit else str(rule).split(",")
    rules = {r.id: r for r in table.rules}
    return "；".join(dict.fromkeys(fold_text(rules[i].annotation) for i in named if i in rules))


@dataclass
class _Population:
    con: duckdb.DuckDBPyConnection
    lock: threading.Lock
    households: int
    closed: bool = False


# Loaded files, most recently used last; a few only: each holds a file's households.
_POPULATIONS: dict[tuple[str, str, str, str], _Population] = {}
_POPULATIONS_LOCK = threading.Lock()
POPULATIONS_KEPT = 4


def _population(project: Project, households: Path, county: str, as_of: date) -> _Population:
    """A connection with the county's households loaded (births checked against
    ``as_of``), kept while the file's content and the decision date are unchanged."""
    from compiler.households import load_households

    key = (str(households.resolve()), county, content_digest(households),
           f"{_fields_key(project)}@{as_of}")
    with _POPULATIONS_LOCK:
        found = _POPULATIONS.pop(key, None)
        if found is not None:
            _POPULATIONS[key] = found  # most recently used
            return found
        stale = [_POPULATIONS.pop(k) for k in [k for k in _POPULATIONS if k[:2] == key[:2]]]
    _close(stale)
    con = connect()
    loaded = load_households(con, households, project.fields, county=county,
                             known_counties=set(project.plans), as_of=as_of)
    population = _Population(con, threading.Lock(), loaded.households)
    with _POPULATIONS_LOCK:
        _POPULATIONS[key] = population
        oldest = [_POPULATIONS.pop(k) for k in list(_POPULATIONS)[:-POPULATIONS_KEPT]]
    _close(oldest)
    return population


def _close(populations: list[_Population]) -> None:
    """Close connections no longer kept, each once no preview is using it."""
    for population in populations:
        with population.lock:
            population.closed = True
            population.con.close()


# sha256 of each file by (path, mtime, size): a page run asks again for the same file
_DIGESTS: dict[tuple[str, int, int], str] = {}


def content_digest(households: Path) -> str:
    """sha256 of the household file with its members and events files (CSV, Parquet):
    a file saved again with the same content keeps what was loaded from it."""
    import hashlib

    from compiler.households import open_source

    digests = []
    for path in [p for p in open_source(households).files.values() if p is not None]:
        stat = path.stat()
        key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
        if key not in _DIGESTS:
            if len(_DIGESTS) > 64:
                _DIGESTS.clear()
            digest = hashlib.sha256()
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    digest.update(chunk)
            _DIGESTS[key] = digest.hexdigest()
        digests.append(_DIGESTS[key])
    return "+".join(digests)


def forget(households: Path) -> None:
    """Close the connections holding a file's households (the file was deleted)."""
    with _POPULATIONS_LOCK:
        gone = [_POPULATIONS.pop(k) for k in [k for k in _POPULATIONS
                                              if k[0] == str(households.resolve())]]
    _close(gone)


def households_in(households: Path) -> int | None:
    """How many households the file holds, counted without reading them: JSON Lines
    and CSV by their lines, Parquet from its footer, a JSON array by DuckDB; None when
    it cannot be counted (the preview then says what is wrong with the file)."""
    suffix = households.suffix.lower()
    try:
        if suffix in (".jsonl", ".ndjson", ".csv"):
            with households.open("rb") as handle:
                lines = sum(1 for line in handle if line.strip())
            return lines - 1 if suffix == ".csv" else lines
        query = {".parquet": "SELECT count(*) FROM read_parquet(?)",
                 ".json": "SELECT count(*) FROM read_json(?, format = 'array')"}.get(suffix)
        if query is None:
            return None
        with duckdb.connect() as con:
            return int(con.execute(query, [str(households)]).fetchone()[0])  # type: ignore[index]
    except (OSError, duckdb.Error):
        return None


def _fields_key(project: Project) -> str:
    return ",".join(sorted(f"{k}:{v.dtype.render()}:{v.lower}:{v.upper}"
                           for k, v in project.fields.items()))


def preview(checked: Checked, households: Path, as_of: date | None = None) -> Preview:
    """Decide for the county's households in the file with the checked working copy."""
    started = time.perf_counter()
    if checked.plan is None or checked.project is None:
        return Preview(problems=[_not_decided(checked)])
    try:
        day = as_of or checked.as_of
        for _attempt in range(2):  # a connection closed meanwhile: load the file again
            population = _population(checked.project, households, checked.county, day)
            with population.lock:
                if population.closed:
                    continue
                rows, traces = _decide(population.con, checked, day)
                break
        else:
            raise RuntimeError("household connection closed twice")
    except JiuzhuError as error:
        return Preview(problems=error.diagnostics, seconds=time.perf_counter() - started)
    except duckdb.Error as error:
        from compiler.engine import contract_error, data_error

        found = contract_error(error) or data_error(error)
        problems = found.diagnostics if found else [
            make("E605", f"DuckDB 无法完成计算：{str(error).splitlines()[0]}")]
        return Preview(problems=problems, seconds=time.perf_counter() - started)
    return Preview(rows, [], time.perf_counter() - started, population.households, traces,
                   checked.plan)


def _decide(con: duckdb.DuckDBPyConnection, checked: Checked, day: date) -> tuple[list[dict[str, Any]], Any]:
    """The decisions without their traces, and the compact traces as Arrow."""
    assert checked.project is not None and checked.plan is not None
    install_standards(con, {checked.county: checked.plan}, day)
    view = run_programs(con, checked.project, [checked.county], trace="compact")
    columns = ", ".join(f'"{c}"' for c in PREVIEW_COLUMNS)
    cursor = con.execute(f"SELECT {columns}, {RULES_APPLIED} AS rules FROM {view} ORDER BY household_id")
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    traces = con.sql(f"SELECT household_id, trace FROM {view}").to_arrow_table()
    return rows, traces


def _not_decided(checked: Checked) -> Diagnostic:
    return make("E701", f"工作副本有 {len(checked.errors)} 个错误，改正后才能预览决策",
                hint="在「标准与规则」页按诊断逐条修改")


def explain_text(checked: Checked, households: Path, household_id: str) -> str:
    """``compiler.explain.explain`` for one household of the file, taken from the
    households the preview loaded (loaded again only when no longer kept)."""
    from compiler.explain import explain
    from compiler.households import loaded_household

    if checked.plan is None or checked.project is None:
        return "工作副本有错误，无法解释决策。"
    try:
        for _attempt in range(2):  # a connection closed meanwhile: load the file again
            population = _population(checked.project, households, checked.county, checked.as_of)
            with population.lock:
                if population.closed:
                    continue
                household = loaded_household(population.con, household_id)
                break
        else:
            raise RuntimeError("household connection closed twice")
    except JiuzhuError as error:  # the file changed since the preview, say
        return str(error)
    if household is None:
        return f"在 {households.name} 中找不到家庭 {household_id}"
    return explain(checked.plan, household, checked.as_of)


def base_standards(registry: Path, tables: Path, county: str, base: int, day: date) -> Any:
    """The rulebook a working copy started from, province, city and county layered:
    version ``base`` of the registry, or (base 0) the tables under ``tables``; None
    when that cannot be read."""
    try:
        if base:
            from compiler.registry import Registry

            return Registry(registry).get(county, base).rulebook()
        project = check(tables, county, day, analysis=False).project
    except JiuzhuError:
        return None
    return _rulebook(project, county)


def _rulebook(project: Project | None, county: str) -> Any:
    """The county's layered rulebook in ``project`` (bound or not); None without one."""
    if project is None or county not in project.tables.counties:
        return None
    plan = project.plans.get(county)
    if plan is not None:
        return plan.rulebook
    from compiler.resolve import rulebook_for

    return rulebook_for(project.tables, county, Report())  # its findings are the check's


def first_new_date(checked: Checked, base: Any, after: date) -> date | None:
    """The first day after ``after`` from which a standard the working copy reads has
    another value in force than in ``base`` (``base_standards``); None if none."""
    found = first_new_change(checked, base, after)
    return found[0] if found is not None else None


def first_new_change(checked: Checked, base: Any, after: date) -> tuple[date, str] | None:
    """The first day after ``after`` from which a standard the working copy reads, from
    its own rows, its city's or the province's, has another value in force than in
    ``base``: the day what the admin entered (next year's standards), or the city's new
    row (杭州's 低保标准 from 2027-01-01, helper-137), first decides anything; with
    the layer that brings it (county, city or province; the county's own first).
    None if none."""
    from compiler.canonical import layer_of_row
    from compiler.diff_rulebooks import differing_periods

    book = _rulebook(checked.project, checked.county)
    if book is None:
        return None
    old = base.standards if base is not None else {}
    starts: dict[date, set[str]] = {}
    # the periods where the value in force differs, as a diff's default decision date
    # finds them (compiler.diff_dates), over every layer the county reads
    for ident in dict.fromkeys([*old, *book.standards]):
        for start, _, was, now in differing_periods(old.get(ident), book.standards.get(ident)):
            if start is not None and start > after:
                layer = layer_of_row(book, now) if now is not None else (
                    layer_of_row(base, was) if was is not None else "county")
                if base is not None or layer == "county":  # unread: the own rows alone
                    starts.setdefault(start, set()).add(layer)
    if not starts:
        return None
    day = min(starts)
    return day, next(layer for layer in ("county", "city", "province") if layer in starts[day])


# ---------------------------------------------------------------- versions and diffs


def versions(registry: Path, county: str) -> list[Any]:
    from compiler.registry import Registry

    return Registry(registry).history(county)


def latest(registry: Path, county: str) -> Any:
    from compiler.registry import Registry

    return Registry(registry).latest(county)


def in_force(registry: Path, county: str, day: date) -> Any:
    from compiler.registry import Registry

    return Registry(registry).version_in_force(county, day)


def superseded(registry: Path, county: str, effective: date) -> Diagnostic | None:
    """``registry_publish.superseded`` for the version a publish effective on
    ``effective`` would make: W701 when versions already published take effect later,
    so the new one applies only until the first of them."""
    import dataclasses

    from compiler.registry import Registry
    from compiler.registry_publish import superseded as overtaken

    store = Registry(registry)
    latest = store.latest(county)
    if latest is None:
        return None
    coming = dataclasses.replace(latest, number=latest.number + 1, effective_from=effective)
    return overtaken(store, coming)


def side(ref: str, root: Path, registry: Path, as_of: date) -> Any:
    """``registry_refs.resolve_ref``: ``330106@3`` a version, ``330106`` the working
    copy under ``root``."""
    from compiler.registry_refs import resolve_ref

    return resolve_ref(ref, root, registry, as_of)


@dataclass
class Comparison:
    old_label: str
    new_label: str
    tables: dict[str, Any] | None = None
    impact: Any = None
    totals: dict[str, dict[str, int]] = field(default_factory=dict)  # "old"/"new" -> group -> n
    text: str = ""
    problems: list[Diagnostic] = field(default_factory=list)
    impact_problems: list[Diagnostic] = field(default_factory=list)  # households undecidable
    seconds: float = 0.0
    as_of: date | None = None  # the decision date of the impact
    dates: Any = None  # diff_dates.DecisionDay: the days the two sides decide differently
    refs: tuple[str, str] = ("", "")  # the sides as ``jiuzhu diff`` takes them
    households: Path | None = None
    day_said: str = ""  # why ``as_of`` when it is not the CLI's default (你填写的日期)


def decision_day(old_ref: str, new_ref: str, root: Path, registry: Path, today: date) -> Any:
    """``diff_dates.decision_day`` of two sides: the day a diff of them decides on by
    default, and why; None when a side cannot be read (``compare`` then says why)."""
    from compiler.diff_dates import decision_day as day_of

    try:
        return day_of(side(old_ref, root, registry, today), side(new_ref, root, registry, today),
                      today)
    except JiuzhuError:
        return None


def compare(old_ref: str, new_ref: str, root: Path, registry: Path, households: Path | None,
            as_of: date, today: date | None = None, day_said: str = "") -> Comparison:
    """The diff of two sides, cell by cell, and (with households) who moves on
    ``as_of``; ``dates`` says on which days the two sides decide differently at all,
    and which of them ``jiuzhu diff`` run ``today`` without --as-of would decide on.
    ``text`` is what ``jiuzhu diff --as-of`` prints; ``day_said`` why ``as_of`` was
    chosen when it is not that default (for ``diffview.command``).

    ``diff_impact.impact`` does not return how many households each group has before
    and after, so the households are loaded here and ``diff_impact.impact_loaded`` runs
    on this connection, whose decision tables then give those counts.
    """
    from compiler.diff import diff_sides
    from compiler.diff_dates import decision_day as day_of
    from compiler.diff_impact import impact_loaded
    from compiler.diff_text import render_text
    from compiler.households import load_households

    started = time.perf_counter()
    result = Comparison(old_ref, new_ref, as_of=as_of, refs=(old_ref, new_ref), households=households,
                        day_said=day_said)
    try:
        old, new = side(old_ref, root, registry, as_of), side(new_ref, root, registry, as_of)
        result.old_label, result.new_label = old.label, new.label
        result.tables = diff_sides(old, new, as_of)
        if "published" not in (old_ref, new_ref):  # as jiuzhu diff: today's versions, no default
            result.dates = day_of(old, new, today or as_of)
        if households is not None:
            fields: dict[str, Any] = {}
            for book in [*old.books.values(), *new.books.values()]:
                fields.update({k: v for k, v in book.fields.items() if k not in fields})
            common = sorted(set(old.books) & set(new.books))
            con = connect()
            try:
                load_households(con, households, fields,
                                county=common[0] if len(common) == 1 else None, as_of=as_of)
                result.impact = impact_loaded(con, old, new, as_of)
                for name in ("old", "new"):
                    rows = con.execute(
                        f'SELECT coalesce("group", \'none\'), count(*) FROM jz_diff_{name} GROUP BY 1'
                    ).fetchall()
                    result.totals[name] = {str(g): int(n) for g, n in rows}
            except JiuzhuError as error:  # the households, not the tables: keep their diff
                result.impact_problems = error.diagnostics
            finally:
                con.close()
        said = dict(result.tables)
        note = result.dates.note_on(as_of) if result.dates is not None else None
        if note:  # as jiuzhu diff --as-of says a day on which the sides decide alike
            said["as_of_note"] = f"注意：{note}"
        result.text = render_text(said, result.impact, limit=200)
    except JiuzhuError as error:
        result.problems = error.diagnostics
    result.seconds = time.perf_counter() - started
    return result


_PUBLISHING_LOCK = threading.Lock()
_PUBLISHING: dict[str, threading.Lock] = {}


def publishing(draft_folder: str | Path) -> threading.Lock:
    """The lock one draft's publish holds from the registry's append until the draft
    records its new base. With Streamlit's fast reruns a second click on 「确认发布」
    starts a new run while the first is still publishing, in the same session: the
    second run waits here and then sees the base the first one recorded, instead of
    publishing the same draft again over the old base (and being refused, E702)."""
    with _PUBLISHING_LOCK:
        return _PUBLISHING.setdefault(str(Path(draft_folder).resolve()), threading.Lock())


REPEAT_WINDOW = 10 * 60  # seconds: a version this old is no double-click's


def published_just_now(registry: Path, county: str, author: str, root: Path, base: int,
                       now: float | None = None) -> Any:
    """The county's latest version when it is this working copy (under ``root``)
    published by ``author`` within ``REPEAT_WINDOW`` seconds over ``base``: what a
    repeated 「确认发布」 finds, E702 then meaning 「already published」, not that a
    colleague published. None otherwise (a colleague's version, older, other content).
    """
    from datetime import datetime

    from compiler.registry_publish import prepare

    latest_version = latest(registry, county)
    if latest_version is None or latest_version.number <= base or latest_version.author != author:
        return None
    try:
        age = (now if now is not None else time.time()) - datetime.fromisoformat(
            latest_version.published_at).timestamp()
    except ValueError:
        return None
    if not -60 <= age <= REPEAT_WINDOW:
        return None
    try:
        prepared = prepare(root, county, latest_version.effective_from, analyse=None)
    except JiuzhuError:
        return None
    return latest_version if prepared.canonical == latest_version.canonical else None


def publish(root: Path, county: str, effective: date, note: str, author: str, base: int,
            registry: Path, households: Path | None, allow_unchanged: bool = False,
            allow_withdrawn: bool = False) -> Any:
    """``registry_publish.publish`` of the working copy under ``root``, then the base
    marker written beside its workbook as ``jiuzhu publish`` writes it
    (``registry_origin.record_base``): without it, a workbook exported from an older
    version (its 版本信息 sheet) was refused (E702) at its second publish from the
    console, and ``jiuzhu publish`` of the same working copy found the marker behind.
    Raises RegistryError; a marker that cannot be written is logged, not raised: the
    version is published by then, and the console keeps its base in the draft."""
    from compiler.registry_origin import record_base
    from compiler.registry_publish import publish as publish_version

    version = publish_version(root, county, effective, note, author, base, registry, households,
                              allow_unchanged=allow_unchanged, allow_withdrawn=allow_withdrawn)
    try:
        record_base(root / "counties", version, root)
    except JiuzhuError as error:
        logger.warning("%s", error.diagnostics[0].message)
    return version


# ---------------------------------------------------------------- withdrawing


def withdraw(registry: Path, county: str, number: int, reason: str, author: str, base: int,
             effective: date | None = None, root: Path | None = None) -> Any:
    """``registry_publish.withdraw``: publish a version restoring what was in force
    before version ``number`` (which stays in the registry); raises RegistryError.
    With ``root`` (the draft's tables), the base marker is then written beside its
    workbook as ``jiuzhu publish --withdraw`` writes it (``registry_origin.record_base``):
    without it, ``jiuzhu publish`` of the same working copy found the marker behind
    (helper-122). A marker that cannot be written is logged, as ``publish`` does."""
    from compiler.registry_origin import record_base
    from compiler.registry_publish import withdraw as withdraw_version

    version = withdraw_version(registry, county, number, reason, author, base, effective,
                               note_name="撤回原因")
    if root is not None:
        try:
            record_base(root / "counties", version, root)
        except JiuzhuError as error:
            logger.warning("%s", error.diagnostics[0].message)
    return version


NO_BASE = -1  # a base no registry has: its append is refused before anything is written


def withdrawal_refusals(registry: Path, county: str, number: int, reason: str, author: str,
                        effective: date | None = None) -> list[Diagnostic]:
    """What ``withdraw`` would refuse, with the CLI's own diagnostics (E708 the reason,
    E704 no such version or nothing to restore, E703 a version changed since it was
    published), found without changing the registry: the withdrawal is asked for on
    a base no registry has, which the registry refuses (E702) before it writes.
    An empty list: the withdrawal would be stored (unless someone publishes first)."""
    try:
        withdraw(registry, county, number, reason, author, NO_BASE, effective)
    except JiuzhuError as error:
        return [d for d in error.diagnostics if d.code != "E702"]
    raise RuntimeError("a withdrawal on no base was stored")  # registry.append refuses it


def restored_by(registry: Path, county: str, number: int) -> Any:
    """The version whose content withdrawing ``number`` restores (None: nothing), as
    ``registry_publish.withdraw`` chooses it: the one in force on the withdrawn one's
    date among all the others (a later-published one with an earlier date counts)."""
    from compiler.registry import Registry
    from compiler.registry import in_force as in_force_of

    store = Registry(registry)
    target = store.get(county, number)
    return in_force_of([v for v in store.versions(county) if v.number != number],
                       target.effective_from)


def overtaken(registry: Path, version: Any) -> Diagnostic | None:
    """W701 for a version just stored (``jiuzhu publish`` prints it after any publish)."""
    from compiler.registry import Registry
    from compiler.registry_publish import superseded as superseded_by

    return superseded_by(Registry(registry), version)
