"""Who changes between two sides: both compiled programs over the same households.

``impact`` loads a household file and decides every household of the counties both
sides have, once with each side's compiled SQL; ``impact_loaded`` does the same on a
connection whose households are already loaded. The result counts, by county, the
households whose group, entitlements (as a set) or monitoring differ, the moves between
groups and the entitlements gained or lost, and lists the changed households (up to
``limit``). A county whose two sides compile to the same SQL over the same standards
rows and calendar is counted but not decided (``decided`` False): its decisions cannot
differ. Raises InputError (E606) when the sides share no county, ValidationFailed
when a side's rulebooks do not bind, InputError (E605) when DuckDB cannot compute, and
InputError (E613) before any work when the temporary folder, where loading the
households and DuckDB's spill write, lies in the tables folder (``guard_scratch``).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from compiler.bind import Plan
from compiler.diagnostics import Report, make
from compiler.diff import Side, county_pairs
from compiler.engine import (
    Project,
    connect,
    contract_error,
    data_error,
    install_standards,
    run_programs,
)
from compiler.errors import InputError, ValidationFailed
from compiler.evaluate import damaged_input
from compiler.model import Workbook, WorkbookKind
from compiler.output_guard import guard_scratch
from compiler.resolve import Tables

# the decision columns whose change makes a household "changed" (lists as sets); the
# standards and the income per head explain a change but are not one by themselves
COMPARED = (
    "group", "entitlements", "monitoring", "tekun_members", "phase_out_from",
    "phase_out_until", "alerts",
)


@dataclass
class ImpactResult:
    """Who changes: per county counts, moves between groups, entitlements, households."""

    as_of: date
    households: int
    changed: int
    counties: dict[str, dict[str, Any]]
    rows: list[dict[str, Any]]
    seconds: float
    truncated: int = 0
    # households of the file in counties not compared (left out by county, or of a
    # county only one side has): said, as evaluate's I601 says them
    skipped: int = 0
    phases: dict[str, float] = field(
        default_factory=dict
    )  # seconds: load, old, new, compare

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "households": self.households,
            "changed": self.changed,
            "seconds": round(self.seconds, 3),
            "phases": {k: round(v, 3) for k, v in self.phases.items()},
            "counties": self.counties,
            "changed_households": self.rows,
            "changed_households_not_listed": self.truncated,
            "households_of_other_counties": self.skipped,
        }


def impact(
    old: Side,
    new: Side,
    households: str | Path,
    as_of: date,
    limit: int | None = None,
    memory_limit: str | None = None,
    tables: str | Path | None = None,
) -> ImpactResult:
    """Decide for every household of the compared counties on both sides, and compare;
    first refuse a temporary folder inside ``tables``, the folder the sides are read
    from, as ``evaluate`` does (E613)."""
    if tables is not None:
        guard_scratch(tables)
    (result,) = impacts(old, new, households, [as_of], limit, memory_limit)
    assert result is not None  # the first day raises rather than give None
    return result


# later days a publish computes the impact on besides its effective date; on 2,000
# households each costs about 0.8 s (both sides decided once more), so a version with
# a dozen dated rows does not make a publish wait long; further days are named only
LATER_COMPUTED = 4


def later_differences(old: Side, new: Side, after: date) -> dict[date, list[str]]:
    """The days after ``after`` on which a standard's value in force starts to differ
    anew between the sides (a second row of 低保标准 from 07-01), each with what
    differs from then: the impact as of ``after`` says nothing of them."""
    from compiler.diff_dates import standard_differences

    found: dict[date, list[str]] = {}
    for a, b in county_pairs(old, new).values():
        before = old.books[a].standards.values() if a in old.books else []
        now = new.books[b].standards.values() if b in new.books else []
        for difference in standard_differences(before, now):
            if difference.start is not None and difference.start > after:
                found.setdefault(difference.start, []).append(difference.text())
    return dict(sorted(found.items()))


def impacts(
    old: Side,
    new: Side,
    households: str | Path,
    days: list[date],
    limit: int | None = None,
    memory_limit: str | None = None,
) -> list[ImpactResult | None]:
    """``impact`` on each of ``days`` (the first is the one the households are checked
    against), the households loaded once. A later day on which a side cannot decide
    (a standard with no value in force, E607) gives None, not an error: the first
    day's impact still stands."""
    from compiler.households import load_households

    started = time.perf_counter()
    pairs = _same_counties(old, new)
    fields = {}
    for book in [*old.books.values(), *new.books.values()]:
        fields.update({k: v for k, v in book.fields.items() if k not in fields})
    con = connect(memory_limit)
    county = pairs[0] if len(pairs) == 1 else None
    loaded = load_households(
        con, households, fields, county=county, known_counties=None, as_of=days[0]
    )
    seconds = time.perf_counter() - started
    results: list[ImpactResult | None] = []
    for index, day in enumerate(days):
        try:
            result = impact_loaded(con, old, new, day, limit, started if index == 0 else None)
        except (ValidationFailed, InputError):
            if index == 0:
                raise
            results.append(None)
            continue
        result.phases = {"load": seconds, **result.phases} if index == 0 else result.phases
        result.skipped += loaded.skipped
        results.append(result)
    return results


def _same_counties(old: Side, new: Side) -> list[str]:
    codes = sorted(set(old.books) & set(new.books))
    if not codes:
        raise InputError(
            make(
                "E606",
                "两侧没有共同的县（市、区），无法比较家庭决策",
                found=f"{'、'.join(old.books)} 与 {'、'.join(new.books)}",
                expected="同一县的两个版本，例如 330106@3 与 330106",
            )
        )
    return codes


def impact_loaded(
    con: duckdb.DuckDBPyConnection,
    old: Side,
    new: Side,
    as_of: date,
    limit: int | None = None,
    started: float | None = None,
) -> ImpactResult:
    """``impact`` on a connection whose jz_households/members/events are loaded."""
    started = started or time.perf_counter()
    codes = _same_counties(old, new)
    present = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT county_code FROM jz_households WHERE list_contains($c, county_code) ORDER BY 1",
            {"c": codes},
        ).fetchall()
    ]
    projects = (_project(old, present, as_of), _project(new, present, as_of))
    # a county whose two sides compile to the same SQL over the same standards rows and
    # calendar decides every household alike: only the others are decided twice
    decided = [c for c in present if _decides(projects[0], c) != _decides(projects[1], c)]
    phases = {}
    for side, project, name, phase in (
        (old, projects[0], "jz_diff_old", "old"),
        (new, projects[1], "jz_diff_new", "new"),
    ):
        mark = time.perf_counter()
        _decide_side(con, side, project, decided, name)
        phases[phase] = time.perf_counter() - mark
    mark = time.perf_counter()
    con.execute(_IMPACT_SQL)
    names = {c: (new.books.get(c) or old.books[c]).county_name for c in present}
    result = _collect(con, as_of, limit, started, names, present, decided)
    phases["compare"] = time.perf_counter() - mark
    result.phases = phases
    return result


def _project(side: Side, counties: list[str], as_of: date) -> Project:
    """The side's counties bound; ValidationFailed when one does not bind, or when a
    standard has no value in force on ``as_of`` (E607): its households cannot be decided,
    and a comparison of undecided households would report no change. Other validation
    errors (a value outside its bounds, say) do not stop a reviewer seeing a draft's
    effect."""
    report = Report()
    plans = {}
    for code in counties:
        plans[code], found = side.bound(code)
        report.extend(found)
    if report.has_errors:
        raise ValidationFailed(report.errors)
    undecidable = [
        d for code in counties for d in side.checked(code, as_of) if d.code == "E607"
    ]
    if undecidable:
        raise ValidationFailed(undecidable)
    return Project(_tables_for(plans), report, as_of, plans)


def _decides(project: Project, county: str) -> tuple[object, ...]:
    """What a county's decisions depend on besides the households: the compiled SQL,
    every standards row (value, dates, verified, in order of precedence) and the
    working-day calendar."""
    rulebook = project.plan(county).rulebook
    standards = tuple(
        (ident, tuple((str(r.value), r.effective_from, r.effective_until, r.verified)
                     for r in standard.rows))
        for ident, standard in sorted(rulebook.standards.items())
    )
    sql = _without_comments(project.program(county, trace="none").sql)
    return sql, standards, tuple((d.day, d.working) for d in rulebook.calendar)


def rules_alike(a: Plan, b: Plan) -> bool:
    """Whether two bound plans compile to the same SQL, comments naming cells aside:
    then only their standards rows and calendars can make them decide differently."""
    from compiler.sqlgen import compile_plan

    return _without_comments(compile_plan(a, trace="none").sql) == _without_comments(
        compile_plan(b, trace="none").sql
    )


def _without_comments(sql: str) -> str:
    """The SQL without its ``--`` comments, which name the workbook cells each step comes
    from (paths differ between a working copy and a published version); quoted strings
    and identifiers are kept whole, doubled quotes included."""
    return _COMMENT_OR_QUOTED.sub(lambda m: m.group(1) or "", sql)


_COMMENT_OR_QUOTED = re.compile(r"""('(?:[^']|'')*'?|"(?:[^"]|"")*"?)|--[^\n]*""")


def _decide_side(
    con: duckdb.DuckDBPyConnection,
    side: Side,
    project: Project,
    counties: list[str],
    name: str,
) -> None:
    if not counties:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} (household_id VARCHAR, county_code VARCHAR,"
            ' "group" VARCHAR, entitlements VARCHAR[], monitoring VARCHAR,'
            " dibao_standard DECIMAL(18,2), marginal_line DECIMAL(18,2),"
            " tekun_members VARCHAR[], phase_out_from DATE, phase_out_until DATE,"
            f" alerts {_ALERT}[])"
        )
        return
    plans = {c: project.plans[c] for c in counties}
    install_standards(
        con, plans, project.as_of, {c: side.versions.get(c, side.label) for c in counties}
    )
    try:
        # reasons are not compared; the side's table below reads the decisions once
        view = run_programs(con, project, counties, trace="none", store=False, restrict=True)
        con.execute(
            f'CREATE OR REPLACE TEMP TABLE {name} AS SELECT household_id, county_code, "group",'
            " coalesce(entitlements, CAST([] AS VARCHAR[])) AS entitlements, monitoring,"
            " dibao_standard, marginal_line,"
            " coalesce(tekun_members, CAST([] AS VARCHAR[])) AS tekun_members,"
            " phase_out_from, phase_out_until,"
            f" coalesce(CAST(alerts AS {_ALERT}[]), CAST([] AS {_ALERT}[])) AS alerts"
            f" FROM {view}"
        )
    except duckdb.Error as error:
        raise contract_error(error) or data_error(error) or damaged_input(error) or InputError(
            make("E605", f"DuckDB 无法完成计算：{str(error).splitlines()[0]}")
        ) from None


def _tables_for(plans: dict[str, Plan]) -> Tables:
    fields: dict = {}
    for plan in plans.values():
        fields.update(
            {k: v for k, v in plan.rulebook.fields.items() if k not in fields}
        )
    province = Workbook(
        "", "330000", "浙江省", WorkbookKind.PROVINCE, list(fields.values())
    )
    return Tables(Path("."), province)


_ALERT = 'STRUCT("type" VARCHAR, person_id VARCHAR, raised_on DATE, due DATE)'

_IMPACT_SQL = """
CREATE OR REPLACE TEMP TABLE jz_diff_impact AS
SELECT o.household_id, o.county_code,
  o."group" AS old_group, n."group" AS new_group,
  list_filter(n.entitlements, lambda x: NOT list_contains(o.entitlements, x)) AS gained,
  list_filter(o.entitlements, lambda x: NOT list_contains(n.entitlements, x)) AS lost,
  o.monitoring AS old_monitoring, n.monitoring AS new_monitoring,
  o.dibao_standard AS old_dibao_standard, n.dibao_standard AS new_dibao_standard,
  list_sort(list_filter(n.tekun_members, lambda x: NOT list_contains(o.tekun_members, x)))
    AS tekun_gained,
  list_sort(list_filter(o.tekun_members, lambda x: NOT list_contains(n.tekun_members, x)))
    AS tekun_lost,
  o.phase_out_from AS old_phase_out_from, o.phase_out_until AS old_phase_out_until,
  n.phase_out_from AS new_phase_out_from, n.phase_out_until AS new_phase_out_until,
  list_filter(n.alerts, lambda x: NOT list_contains(o.alerts, x)) AS alerts_gained,
  list_filter(o.alerts, lambda x: NOT list_contains(n.alerts, x)) AS alerts_lost
FROM jz_diff_old o JOIN jz_diff_new n USING (household_id)
WHERE o."group" IS DISTINCT FROM n."group"
   OR o.monitoring IS DISTINCT FROM n.monitoring
   OR o.phase_out_from IS DISTINCT FROM n.phase_out_from
   OR o.phase_out_until IS DISTINCT FROM n.phase_out_until
   -- the same items in another order are no change; sorting only where they differ
   OR (o.entitlements IS DISTINCT FROM n.entitlements
       AND list_sort(list_distinct(o.entitlements)) IS DISTINCT FROM list_sort(list_distinct(n.entitlements)))
   OR (o.tekun_members IS DISTINCT FROM n.tekun_members
       AND list_sort(list_distinct(o.tekun_members)) IS DISTINCT FROM list_sort(list_distinct(n.tekun_members)))
   OR (o.alerts IS DISTINCT FROM n.alerts
       AND list_sort(list_distinct(o.alerts)) IS DISTINCT FROM list_sort(list_distinct(n.alerts)))
"""


def _collect(
    con: duckdb.DuckDBPyConnection,
    as_of: date,
    limit: int | None,
    started: float,
    names: dict[str, str],
    present: list[str],
    decided: list[str],
) -> ImpactResult:
    totals = dict(
        con.execute(
            "SELECT county_code, count(*) FROM jz_households"
            " WHERE list_contains($c, county_code) GROUP BY 1",
            {"c": present},
        ).fetchall()
    )
    (everyone,) = con.execute("SELECT count(*) FROM jz_households").fetchone() or (0,)
    changed = dict(
        con.execute(
            "SELECT county_code, count(*) FROM jz_diff_impact GROUP BY 1"
        ).fetchall()
    )
    counties: dict[str, dict[str, Any]] = {
        code: {
            "name": names.get(code, ""),
            "households": totals[code],
            "changed": changed.get(code, 0),
            # False: both sides compile to the same SQL over the same standards
            "decided": code in decided,
            "moves": [],
            "gained": {},
            "lost": {},
        }
        for code in sorted(totals)
    }
    for code, before, after, n in con.execute(
        "SELECT county_code, old_group, new_group, count(*) FROM jz_diff_impact"
        " WHERE old_group IS DISTINCT FROM new_group GROUP BY ALL ORDER BY 1, 4 DESC, 2, 3"
    ).fetchall():
        counties[code]["moves"].append({"from": before, "to": after, "households": n})
    for direction in ("gained", "lost"):
        for code, item, n in con.execute(
            f"SELECT county_code, e, count(*) FROM (SELECT county_code, unnest({direction}) AS e"
            " FROM jz_diff_impact) GROUP BY ALL ORDER BY 1, 3 DESC, 2"
        ).fetchall():
            counties[code][direction][item] = n
    total = sum(changed.values())
    cap = "" if limit is None else f" LIMIT {int(limit)}"
    cursor = con.execute(
        "SELECT household_id, county_code, old_group, new_group, gained, lost, old_monitoring,"
        " new_monitoring, tekun_gained, tekun_lost, old_phase_out_from, old_phase_out_until,"
        " new_phase_out_from, new_phase_out_until, alerts_gained, alerts_lost"
        f" FROM jz_diff_impact ORDER BY county_code, household_id{cap}"
    )
    names_ = [d[0] for d in cursor.description]
    rows = [_plain(dict(zip(names_, row, strict=True))) for row in cursor.fetchall()]
    return ImpactResult(
        as_of,
        sum(totals.values()),
        total,
        counties,
        rows,
        time.perf_counter() - started,
        total - len(rows),
        everyone - sum(totals.values()),
    )


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A changed household's row with dates as ISO text (it is printed as JSON too)."""
    for key, value in row.items():
        if isinstance(value, date):
            row[key] = value.isoformat()
        elif key.startswith("alerts_"):
            row[key] = [
                {k: v.isoformat() if isinstance(v, date) else v for k, v in alert.items()}
                for alert in value or []
            ]
    return row


__all__ = [
    "COMPARED",
    "LATER_COMPUTED",
    "ImpactResult",
    "impact",
    "impact_loaded",
    "impacts",
    "later_differences",
    "rules_alike",
]
