"""Plausibility of household input: warnings about values that are well typed but
unlikely, so that county staff check them before they trust the decisions.

``implausible`` tests every household of the loaded input (``jz_households``,
``jz_members`` and ``jz_events``, or relations of some of their rows with the same
columns) in one DuckDB query, which reads the members and the events once, and returns
for each code its first ``EXAMPLES`` cases in input order, the last saying how many
more households there are. A second query runs the same tests over those few
households alone, for the values each case quotes and the one member or event it
names, with that member's or event's index. A check flags a household once: of two
children too old for their head, the eldest is named. Nothing stops the run: every
household is decided as given.

Each warning is placed where its value is (``_where``): a household's own value in
the households file at the household's row, a member's or an event's in the members
or events file (CSV, Parquet, DuckDB) at its row where the index is one (Parquet and
DuckDB; CSV numbers members and events within their household, so the column alone),
and in JSON at the line (or index) and path of the value, as the loader places its
errors.

The checks, their codes (W603-W606, W608-W610) and their thresholds are in
``households_plausible_checks``; this module runs them. A birth after the decision
date is no warning: the loader refuses it (E615).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import duckdb

from compiler.diagnostics import NOWHERE, Diagnostic, Location
from compiler.households_model import SOURCE_NAMES, Column, Places
from compiler.households_plausible_checks import (
    CHECKS,
    CODES,
    GENERATION_GAP_YEARS,
    MONEY_FLOOR,
    MONEY_FLOOR_INCOME,
    STALE_EVENT_DAYS,
    VEHICLE_VALUE_FLOOR,
    WAGE_FLOOR,
    Case,
    Check,
)
from compiler.model import Field, Level
from compiler.sqlgen import quote

# the cases listed for each code; the last listed says how many more there are
EXAMPLES = 5

INCOMES = ("income.wage", "income.business", "income.property", "income.transfer")
# the household's own values the checks read, with their types
ASSETS = {
    "assets.money": "DECIMAL(18,2)",
    "assets.vehicle_value": "DECIMAL(18,2)",
    "assets.vehicles": "BIGINT",
    "assets.homes": "BIGINT",
    "assets.floor_area_m2": "DECIMAL(18,4)",
}
# the household's values the checks read, with their types
OWN = ASSETS | {"current.group": "VARCHAR"}
# a member's yes/no values the tekun check (W611) reads
FLAGS = (
    "has_able_supporter",
    "tekun_supported",
    "lives_in_household",
)


def implausible(
    con: duckdb.DuckDBPyConnection,
    fields: dict[str, Field],
    households: str = "jz_households",
    members: str = "jz_members",
    places: Places | None = None,
    events: str = "jz_events",
    as_of: date | None = None,
) -> list[Diagnostic]:
    """W603-W610 for the loaded input, up to ``EXAMPLES`` of each code, in input order.

    Args:
        con: the connection holding the input relations.
        fields: the declared fields; a check whose field is not declared finds nothing.
        households, members, events: the relations to read (a table name or a
            parenthesised query with the columns of ``jz_households``, ``jz_members``
            and ``jz_events``).
        places: where the loaded input came from (``LoadedInput.places``), which
            places each warning at its value; None: no location (the service
            places them at the request's paths).
        as_of: the decision date, which events older than ``STALE_EVENT_DAYS`` are
            measured from (W610); None: events are not checked for their age.

    Returns:
        The warnings, each with ``household``, ``person`` and ``field`` in ``extra``.
    """
    since = None if as_of is None else as_of - timedelta(days=STALE_EVENT_DAYS)
    relations = (households, members, events)
    [row] = _run(con, _query(fields, *relations), since=since).fetchall()
    totals = row[: len(CODES)]
    firsts = dict(zip(CHECKS, row[len(CODES) :], strict=True))
    listed = sorted({h for first in firsts.values() for h in first or ()})
    details = _details(con, fields, relations, listed, since)
    said: list[Diagnostic] = []
    for code, total in zip(CODES, totals, strict=True):
        cases = [c._replace(as_of=as_of) for c in _first_cases(code, firsts, details)]
        unlisted = total - len({c.household for c in cases})
        for rank, case in enumerate(cases, 1):
            where = _where(CHECKS[case.check], case, fields, places)
            diagnostic = CHECKS[case.check].diagnostic(case, fields, where)
            if rank == len(cases) and unlisted > 0:
                more = f"（此类共 {total} 户，另有 {unlisted} 户未列出）"
                diagnostic = replace(diagnostic, message=diagnostic.message + more)
            said.append(diagnostic)
    return said


def household_warnings(
    household: dict, fields: dict[str, Field], as_of: date | None = None
) -> list[Diagnostic]:
    """W603-W610 for one contract-shaped household (``jiuzhu explain``): the same query
    over the household alone, on a private in-memory connection."""
    from compiler.engine import household_envs

    env, members, events = household_envs(household, fields)
    ident = str(env["household_id"])
    incomes = ", ".join(f"{quote(i)} DECIMAL(18,2)" for i in INCOMES)
    con = duckdb.connect()
    try:
        con.execute(
            "CREATE TABLE h (household_id VARCHAR, _hh_index BIGINT,"
            f" {', '.join(f'{quote(a)} {t}' for a, t in OWN.items())})"
        )
        con.execute(
            f"INSERT INTO h VALUES (?, 0{', ?' * len(OWN)})",
            [ident, *(env.get(a) for a in OWN)],
        )
        con.execute(
            "CREATE TABLE e (household_id VARCHAR, _event_index BIGINT,"
            ' "event.type" VARCHAR, "event.date" DATE, "event.person_id" VARCHAR)'
        )
        happened = [
            [
                ident,
                k,
                e.get("event.type"),
                e.get("event.date"),
                e.get("event.person_id"),
            ]
            for k, e in enumerate(events)
        ]
        if happened:
            con.executemany("INSERT INTO e VALUES (?, ?, ?, ?, ?)", happened)
        con.execute(
            "CREATE TABLE m (household_id VARCHAR, _member_index BIGINT, person_id VARCHAR,"
            f" relation VARCHAR, birth_date DATE, excluded_from_household BOOLEAN, {incomes},"
            f" {', '.join(f'{quote(k)} BOOLEAN' for k in FLAGS)})"
        )
        rows = [
            [
                ident,
                k,
                m.get("person_id"),
                m.get("relation"),
                m.get("birth_date"),
                m.get("excluded_from_household"),
                *(m.get(i) for i in INCOMES),
                *(m.get(k) for k in FLAGS),
            ]
            for k, m in enumerate(members)
        ]
        if rows:
            con.executemany(
                f"INSERT INTO m VALUES ({', '.join('?' * len(rows[0]))})", rows
            )
        return implausible(con, fields, "h", "m", events="e", as_of=as_of)
    finally:
        con.close()


# ---------------------------------------------------------------- the queries


_PARAMETERS = {
    "gap": GENERATION_GAP_YEARS,
    "wage_floor": WAGE_FLOOR,
    "money_floor": MONEY_FLOOR,
    "money_income": MONEY_FLOOR_INCOME,
    "vehicle_floor": VEHICLE_VALUE_FLOOR,
    "examples": EXAMPLES,
}


def _run(
    con: duckdb.DuckDBPyConnection, query: str, **more: object
) -> duckdb.DuckDBPyConnection:
    """``query`` with the thresholds it names (DuckDB refuses a parameter not used)."""
    given = _PARAMETERS | more
    return con.execute(query, {k: v for k, v in given.items() if f"${k}" in query})


def _query(fields: dict[str, Field], households: str, members: str, events: str) -> str:
    """One row: for each code, the number of households it flags; for each check, the
    ids of the first ``EXAMPLES`` households it flags, in input order.

    The members are read once, in one aggregate by household (``_tested``), and so
    are the events; the flagged households alone are joined to their input order.
    The aggregate keeps no member ids: each string argument kept for every household
    (``arg_min(person_id, birth_date)``, even for a relation no member states) adds
    about a fifth to its cost, so ``_details`` names the members of the listed
    households.
    """
    totals = [
        f"count(*) FILTER (WHERE {' OR '.join(_flag(n) for n in _checks(code))})"
        f" AS {quote(code)}"
        for code in CODES
    ]
    firsts = [
        f"min_by(household_id, _hh_index, $examples) FILTER (WHERE {_flag(name)})"
        f" AS {quote(name)}"
        for name in CHECKS
    ]
    selected = ",\n  ".join(totals + firsts)
    return f"""WITH {_tested(fields, households, members, events)}
SELECT {selected}
FROM (SELECT * FROM tested WHERE {" OR ".join(map(_flag, CHECKS))})
  JOIN (SELECT household_id, _hh_index FROM {households}) USING (household_id)
"""


def _details(
    con: duckdb.DuckDBPyConnection,
    fields: dict[str, Field],
    relations: tuple[str, str, str],
    listed: list[str],
    since: date | None,
) -> dict[str, dict[str, object]]:
    """For each of the ``listed`` households, by id: its ``_hh_index`` and, for each
    check, the values its case reports (``found.<check>``, ``reference.<check>``)
    and the member or event it names (``names.<check>``): the same tests again, over
    those few households alone (``relations``: households, members, events)."""
    if not listed:
        return {}
    households, members, events = relations
    only = "WHERE list_contains($listed, household_id)"
    columns = [
        f"{sql} AS {quote(f'{column}.{name}')}"
        for name, check in CHECKS.items()
        for column, sql in (
            ("found", check.reports[0]),
            ("reference", check.reports[1]),
            ("names", quote(f"names.{name}") if check.names else "NULL"),
        )
    ]
    few = tuple(f"(SELECT * FROM {r} {only})" for r in (members, events))
    tested = _tested(fields, "few", *few, naming=True)
    query = f"""WITH few AS MATERIALIZED (SELECT * FROM {households} {only}), {tested}
SELECT household_id, _hh_index, {", ".join(columns)}
FROM tested JOIN (SELECT household_id, _hh_index FROM few) USING (household_id)
"""
    result = _run(con, query, listed=listed, since=since)
    names = [d[0] for d in result.description or ()]
    return {
        str(row[0]): dict(zip(names, row, strict=True)) for row in result.fetchall()
    }


def _tested(
    fields: dict[str, Field],
    households: str,
    members: str,
    events: str,
    naming: bool = False,
) -> str:
    """The common table expressions whose last, ``tested``, holds for each household
    with members, events or odd assets what the checks test: the members' figures in
    one aggregate (``kin``), which also counts the members some event names
    (``named``: the few people the events name), the assets (``odd``), the events'
    figures (``deeds``) and each check's test (``is.<check>``); with ``naming``, the
    member or event each check names (``names.<check>``) too."""
    wage = _column(fields, "income.wage", Level.MEMBER)
    income = " + ".join(
        f"coalesce({_column(fields, i, Level.MEMBER)}, 0)" for i in INCOMES
    )
    person = _column(fields, "event.person_id", Level.EVENT, "VARCHAR")
    supported = _column(fields, "tekun_supported", Level.MEMBER, "BOOLEAN")
    supported = f"coalesce({supported}, false)"
    day = _column(fields, "event.date", Level.EVENT, "DATE")
    tests = ",\n    ".join(f"{c.test} AS {_flag(name)}" for name, c in CHECKS.items())
    return f"""named AS (
  SELECT DISTINCT household_id, {person} AS person_id, true AS named
  FROM {events} WHERE {person} IS NOT NULL
), kin AS (
  SELECT household_id,
    count(relation) AS related,
    -- a head left out of the household (one who has died, R-N1) beside the new head
    -- is not a second head, nor the one the ages are measured from (helper-61); alone,
    -- the household still has its head
    CASE WHEN count(*) FILTER (WHERE relation = 'head' AND NOT excluded) > 0
      THEN count(*) FILTER (WHERE relation = 'head' AND NOT excluded)
      ELSE count(*) FILTER (WHERE relation = 'head') END AS heads,
    coalesce(min(birth_date) FILTER (WHERE relation = 'head' AND NOT excluded),
      min(birth_date) FILTER (WHERE relation = 'head')) AS head_born,
    count(*) FILTER (WHERE relation = 'spouse') AS spouses,
    min(birth_date) FILTER (WHERE relation = 'child') AS child_born,
    max(birth_date) FILTER (WHERE relation = 'parent') AS parent_born,
    min(birth_date) FILTER (WHERE relation = 'grandchild') AS grandchild_born,
    count(*) FILTER (WHERE small_wage) AS small_wages,
    min(wage) FILTER (WHERE small_wage) AS wage,
    sum(income) AS household_income,
    -- members whose blank would matter if marked tekun, and those marked by their own
    -- tekun_supported; a household's current.group marks the rest in ``tested``
    count(*) FILTER (WHERE supporter_open) AS supporters_open,
    count(*) FILTER (WHERE supporter_open AND supported) AS supporters_supported,
    count(*) FILTER (WHERE named) AS known_people{_names(naming, "kin")}
  FROM (
    SELECT household_id, _member_index AS member_index, person_id,
      {_column(fields, "relation", Level.MEMBER, "VARCHAR")} AS relation,
      coalesce({_column(fields, "excluded_from_household", Level.MEMBER, "BOOLEAN")}, false)
        AS excluded,
      {_column(fields, "birth_date", Level.MEMBER, "DATE")} AS birth_date,
      {wage} AS wage, {wage} > 0 AND {wage} < $wage_floor AS small_wage,
      {income} AS income, named, {supported} AS supported,
      {_supporter_open(fields)} AS supporter_open{_supporter_blank(fields, naming, supported)}
    FROM {members} LEFT JOIN named USING (household_id, person_id){_group_join(fields, households, naming)}
  )
  GROUP BY household_id
), {_odd(fields, households)}, deeds AS (
  SELECT household_id,
    count(DISTINCT person) AS named_people,
    count(*) FILTER (WHERE stale) AS stale_events,
    min(day) FILTER (WHERE stale) AS stale_day{_names(naming, "deeds")}
  FROM (
    SELECT household_id, _event_index AS event_index,
      {_column(fields, "event.type", Level.EVENT, "VARCHAR")} AS kind,
      {day} AS day, {day} < $since AS stale,
      {person} AS person{_strangers(naming, person, members)}
    FROM {events} e
  )
  GROUP BY household_id
), tested AS (
  SELECT *,
    {tests}
  FROM (
    SELECT *, {supporters(fields)} AS supporters_blank,
      CASE WHEN supporters_supported > 0 THEN 'supported' ELSE 'group' END AS supporter_mark
    FROM kin FULL JOIN odd USING (household_id) FULL JOIN deeds USING (household_id)
  )
)"""


def _supporter_open(fields: dict[str, Field]) -> str:
    """Whether a member counted in the household leaves ``has_able_supporter`` blank,
    which no tekun rule accepts: W611 when the member is recognised as tekun (its own
    ``tekun_supported``, or the household's ``current.group``); false when the field
    is not declared or has a default (a blank is then no blank). A member left out of
    the household is not decided: its blank cannot matter."""
    spec = fields.get("has_able_supporter")
    if spec is None or spec.level is not Level.MEMBER or spec.default is not None:
        return "false"
    lives = _column(fields, "lives_in_household", Level.MEMBER, "BOOLEAN")
    excluded = _column(fields, "excluded_from_household", Level.MEMBER, "BOOLEAN")
    return (
        f'{quote("has_able_supporter")} IS NULL AND NOT coalesce({excluded}, false)'
        f" AND coalesce({lives}, true)"
    )


def _supporter_blank(fields: dict[str, Field], naming: bool, supported: str) -> str:
    """With ``naming`` (the few listed households), the member-level W611 test that
    names the member: open and recognised as tekun. The whole input is tested by
    household instead (``supporters`` in ``tested``): joining every member to its
    household's group cost a third of the aggregate at ten million households."""
    if not naming:
        return ""
    marked = f"({supported} OR tekun_group)" if _has_group(fields) else supported
    return f",\n      supporter_open AND {marked} AS supporter_blank"


def supporters(fields: dict[str, Field]) -> str:
    """The number of a household's members W611 is about: all its open ones when the
    household is currently tekun (``tekun_group`` of ``odd``), else those marked by
    their own ``tekun_supported``."""
    if not _has_group(fields):
        return "coalesce(supporters_supported, 0)"
    return "coalesce(CASE WHEN tekun_group THEN supporters_open ELSE supporters_supported END, 0)"


def _has_group(fields: dict[str, Field]) -> bool:
    spec = fields.get("current.group")
    return spec is not None and spec.level is Level.HOUSEHOLD


def _tekun_group() -> str:
    return f"coalesce(CAST({quote('current.group')} AS VARCHAR) = 'tekun', false)"


def _group_join(fields: dict[str, Field], households: str, naming: bool) -> str:
    """With ``naming``, the join giving each member of the few listed households
    whether its household is currently tekun (else no join)."""
    if not naming or not _has_group(fields) or _supporter_open(fields) == "false":
        return ""
    return (
        f"\n      LEFT JOIN (SELECT household_id, {_tekun_group()} AS tekun_group"
        f" FROM {households}) USING (household_id)"
    )


def _odd(fields: dict[str, Field], households: str) -> str:
    """``odd``: the households with small money or a small vehicle price (W606), or a
    count of 0 beside what it counts (W608), with those values; the rest are null."""
    money = _column(fields, "assets.money", Level.HOUSEHOLD)
    vehicle = _column(fields, "assets.vehicle_value", Level.HOUSEHOLD)
    area = _column(fields, "assets.floor_area_m2", Level.HOUSEHOLD, "DECIMAL(18,4)")
    tests = {
        "money": f"{money} > 0 AND {money} < $money_floor",
        "vehicle": f"{vehicle} > 0 AND {vehicle} < $vehicle_floor",
        # the amount first: the loader's view casts an integer count at more cost
        "vehicle_alone": f"{vehicle} > 0 AND {_none(fields, 'assets.vehicles')}",
        "area_alone": f"{area} > 0 AND {_none(fields, 'assets.homes')}",
    }
    values = {"money": money, "vehicle": vehicle, "vehicle_alone": vehicle}
    values["area_alone"] = area
    cases = ",\n    ".join(
        f"CASE WHEN {test} THEN {values[name]} END AS {name}"
        for name, test in tests.items()
    )
    wheres = [f"({test})" for test in tests.values()]
    if _has_group(fields):  # a tekun household, whose open members W611 is about
        cases += f",\n    {_tekun_group()} AS tekun_group"
        wheres.append(f"({_tekun_group()})")
    else:
        cases += ",\n    false AS tekun_group"
    return f"""odd AS (
  SELECT household_id,
    {cases}
  FROM {households}
  WHERE {" OR ".join(wheres)}
)"""


def _none(fields: dict[str, Field], count: str) -> str:
    """A count of 0 (or left out, which the loader reads as its default 0); FALSE when
    the count is not declared: a value alone says nothing then."""
    declared = count in fields and fields[count].level is Level.HOUSEHOLD
    return f"{quote(count)} = 0" if declared else "false"


def _names(naming: bool, among: str) -> str:
    """The columns naming the member or event of each check computed ``among`` the
    members (``kin``) or the events (``deeds``), with ``naming``."""
    return "".join(
        f",\n    {check.names} AS {quote(f'names.{name}')}"
        for name, check in CHECKS.items()
        if naming and check.names and check.among == among
    )


def _strangers(naming: bool, person: str, members: str) -> str:
    """With ``naming``, whether each event names someone who is no member of its
    household (``stranger``), over the few listed households' members."""
    if not naming:
        return ""
    return (
        f",\n      {person} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {members} m"
        f" WHERE m.household_id = e.household_id AND m.person_id = {person})"
        " AS stranger"
    )


def _column(
    fields: dict[str, Field], ident: str, level: Level, sql_type: str = "DECIMAL(18,2)"
) -> str:
    declared = ident in fields and fields[ident].level is level
    return quote(ident) if declared else f"CAST(NULL AS {sql_type})"


def _flag(name: str) -> str:
    return quote(f"is.{name}")


def _checks(code: str) -> list[str]:
    return [name for name, check in CHECKS.items() if check.code == code]


def _first_cases(
    code: str,
    firsts: dict[str, list[str] | None],
    details: dict[str, dict[str, object]],
) -> list[Case]:
    """The first ``EXAMPLES`` cases of ``code`` among the first households of each of
    its checks, in input order and then in the order of ``CHECKS``."""
    order = {name: k for k, name in enumerate(CHECKS)}
    flagged = [(h, name) for name in _checks(code) for h in firsts[name] or ()]
    flagged.sort(key=lambda case: (details[case[0]]["_hh_index"], order[case[1]]))
    cases = []
    for household, name in flagged[:EXAMPLES]:
        detail = details[household]
        named = detail[f"names.{name}"]
        member = named if isinstance(named, dict) else {}
        row, index = detail["_hh_index"], member.get("index")
        cases.append(
            Case(
                name,
                household,
                _text(member.get("person")),
                _text(detail[f"found.{name}"]),
                _text(detail[f"reference.{name}"]),
                row if isinstance(row, int) else None,
                index if isinstance(index, int) else None,
                _text(member.get("kind")),
                _text(member.get("day")),
            )
        )
    return cases


def _where(
    check: Check, case: Case, fields: dict[str, Field], places: Places | None
) -> Location:
    """Where the value a case is about is, as the loader places its errors: its row
    (a household's, or the member's or event's in Parquet and DuckDB, whose index is
    its row in the file), its JSON line and path; the file and column of a CSV member
    or event (indexed within its household) or of a household's members together (no
    head)."""
    spec = fields.get(check.field)
    if places is None or spec is None or case.row is None:
        return NOWHERE
    column = Column(spec.id, spec.name_cn, spec.level, spec.dtype)
    source = places.source
    if spec.level is Level.HOUSEHOLD:
        return places.locate(column, case.row, None)
    if source.format in ("json", "jsonl"):
        path = "$.members" if case.member is None else column.json_path(case.member)
        return Location(file=str(source.path), cell=places.record(case.row, path))
    if case.member is not None and source.format in ("parquet", "duckdb"):
        return places.locate(column, case.member, None)
    if source.format == "duckdb":
        return Location(
            file=str(source.path), cell=f"{SOURCE_NAMES[spec.level]} 表 {column.id}"
        )
    return Location(file=str(source.file_of(spec.level)), cell=column.id)


def _text(value: object) -> str | None:
    """A value as the messages quote it: ISO dates, decimals with their scale."""
    if value is None:
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


__all__ = [
    "ASSETS",
    "CHECKS",
    "CODES",
    "EXAMPLES",
    "GENERATION_GAP_YEARS",
    "INCOMES",
    "MONEY_FLOOR",
    "MONEY_FLOOR_INCOME",
    "STALE_EVENT_DAYS",
    "VEHICLE_VALUE_FLOOR",
    "WAGE_FLOOR",
    "household_warnings",
    "implausible",
]
