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

====  ===============================================================================
W603  a household whose members state relations but none is the head (``no_head``),
      or with two or more heads (``heads``)
W604  two or more spouses
W605  a relation the birth dates contradict: a child less than ``GENERATION_GAP_YEARS``
      younger than the head, a parent younger than the head, a grandchild older
W606  an amount that looks typed in 万元 as yuan: a yearly wage above 0 and below
      ``WAGE_FLOOR``; money assets above 0 and below ``MONEY_FLOOR`` beside a yearly
      income of ``MONEY_FLOOR_INCOME`` or more; a vehicle bought for above 0 and below
      ``VEHICLE_VALUE_FLOOR``
W608  a count of 0 beside the amount of what it counts: no vehicle but a vehicle's
      price (``vehicle_alone``), no home but a floor area (``area_alone``)
W609  an event whose ``event.person_id`` is no member's ``person_id`` in its household
W610  an event dated more than ``STALE_EVENT_DAYS`` days before the decision date
====  ===============================================================================

A birth after the decision date is no warning: the loader refuses it (E615). The
thresholds are the constants below; docs/diagnostics.md says why each is where it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

import duckdb

from compiler.diagnostics import NOWHERE, Diagnostic, Location, make
from compiler.households_model import SOURCE_NAMES, Column, Places
from compiler.households_values import quoted
from compiler.model import Field, Level
from compiler.sqlgen import quote, string

# A parent is at least 12 years older than a child: a member registered as the head's
# child less than 12 years younger is neither the head's child nor, in nearly every
# household, the spouse's. Parents and grandchildren are checked for the order of the
# births only: a step-parent may be close in age to the head.
GENERATION_GAP_YEARS = 12
# 万元 typed as yuan: no one's wages for a year come to less than 100 yuan, while 3.6
# (万元) for 36,000 yuan is a slip of manual entry. A monthly figure (2,500) cannot be
# told from a part-time yearly wage, so it is not flagged.
WAGE_FLOOR = Decimal(100)
# Money assets of a few jiao are common; beside a yearly income of 10,000 yuan or more
# they are more likely 0.5 万元 than 0.50 yuan, so only that pair is flagged.
MONEY_FLOOR = Decimal(1)
MONEY_FLOOR_INCOME = Decimal(10000)
# No motor vehicle is bought for less than 100 yuan: 8.5 is 85,000 yuan in 万元.
VEHICLE_VALUE_FLOOR = Decimal(100)
# The alerts table tests only that an event is dated on or before the decision date,
# so an event of years ago still raises an alert reported as due. A year and a day
# (366 days, a leap year's length) leaves out every event of the last year.
STALE_EVENT_DAYS = 366
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


class Case(NamedTuple):
    """One flagged household: the check that flagged it, the member it names (if
    any; for an event, the person the event names), and the values involved; the
    household's ``_hh_index`` and the named member's ``_member_index`` (or event's
    ``_event_index``), which place the warning; a named event's type and date, and
    the decision date."""

    check: str
    household: str
    person: str | None
    found: str | None
    reference: str | None
    row: int | None = None
    member: int | None = None
    kind: str | None = None
    day: str | None = None
    as_of: date | None = None


class Said(NamedTuple):
    message: str
    found: str
    expected: str
    hint: str


@dataclass(frozen=True)
class Check:
    """One check: its code and the field its warning points at; the test that flags a
    household and what its case reports (the value found, the value compared with),
    both SQL over the figures ``_tested`` keeps for each household; the member the
    case names, an aggregate over the household's members giving its id and index
    (None for a household's own checks and for one about its members together), or
    the event, an aggregate over its events (``among`` "deeds"); and how it is
    said."""

    code: str
    field: str
    test: str
    reports: tuple[str, str]
    names: str | None
    said: Callable[[Case, dict[str, Field]], Said]
    among: str = "kin"

    def diagnostic(
        self, case: Case, fields: dict[str, Field], where: Location
    ) -> Diagnostic:
        said = self.said(case, fields)
        return make(
            self.code,
            said.message,
            where,
            found=said.found,
            expected=said.expected,
            hint=said.hint,
            household=case.household,
            person=case.person,
            field=self.field,
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
            f" {', '.join(f'{quote(a)} {t}' for a, t in ASSETS.items())})"
        )
        con.execute(
            f"INSERT INTO h VALUES (?, 0{', ?' * len(ASSETS)})",
            [ident, *(env.get(a) for a in ASSETS)],
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
            f" relation VARCHAR, birth_date DATE, excluded_from_household BOOLEAN, {incomes})"
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
    count(*) FILTER (WHERE named) AS known_people{_names(naming, "kin")}
  FROM (
    SELECT household_id, _member_index AS member_index, person_id,
      {_column(fields, "relation", Level.MEMBER, "VARCHAR")} AS relation,
      coalesce({_column(fields, "excluded_from_household", Level.MEMBER, "BOOLEAN")}, false)
        AS excluded,
      {_column(fields, "birth_date", Level.MEMBER, "DATE")} AS birth_date,
      {wage} AS wage, {wage} > 0 AND {wage} < $wage_floor AS small_wage,
      {income} AS income, named
    FROM {members} LEFT JOIN named USING (household_id, person_id)
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
  FROM kin FULL JOIN odd USING (household_id) FULL JOIN deeds USING (household_id)
)"""


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
    return f"""odd AS (
  SELECT household_id,
    {cases}
  FROM {households}
  WHERE {" OR ".join(f"({test})" for test in tests.values())}
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


# ---------------------------------------------------------------- the messages


def _name(fields: dict[str, Field], ident: str) -> str:
    """「出生日期（birth_date）」, or the identifier alone when it has no Chinese name."""
    cn = fields[ident].name_cn if ident in fields else ""
    return f"{cn}（{ident}）" if cn else ident


def _who(case: Case) -> str:
    member = f"成员「{quoted(case.person)}」" if case.person is not None else ""
    return f"家庭「{quoted(case.household)}」{member}"


def _in_yuan(found: str | None) -> str:
    """The yuan that ``found`` 万元 are: 3.60 → 36000.00."""
    return f"{Decimal(found or 0) * 10000:.2f}"


def _years_after(day: str | None, years: int) -> str:
    """The ISO date ``years`` after ``day`` (28 February for 29 February)."""
    born = date.fromisoformat(day or "2000-01-01")
    try:
        return born.replace(year=born.year + years).isoformat()
    except ValueError:
        return born.replace(year=born.year + years, day=28).isoformat()


def _day_before(day: str | None) -> str:
    return (date.fromisoformat(day or "2000-01-01") - timedelta(days=1)).isoformat()


RELATION_HINT = "核对出生日期和与户主关系（relation）是否填错，如"


def _no_head(case: Case, fields: dict[str, Field]) -> Said:
    return Said(
        f"{_who(case)}没有户主：{case.found} 名成员填写了{_name(fields, 'relation')}，"
        "没有一名是户主（head）",
        f"{case.found} 名成员填写了与户主关系，无户主",
        '恰好一名成员为户主，如 "relation": "head"',
        "核对户主是否登记成了其他关系；没有户主时，不检查成员的出生日期与关系是否相符",
    )


def _heads(case: Case, fields: dict[str, Field]) -> Said:
    return Said(
        f"{_who(case)}的{_name(fields, 'relation')}也是户主（head），"
        f"本户共有 {case.found} 名户主",
        f"{case.found} 名户主",
        "一户只有一名户主，其他成员填写与户主的关系，如配偶 spouse、子女 child",
        "核对是否把配偶或子女登记成了户主，或把另一户并入了本户",
    )


def _spouses(case: Case, fields: dict[str, Field]) -> Said:
    return Said(
        f"{_who(case)}的{_name(fields, 'relation')}也是配偶（spouse），"
        f"本户共有 {case.found} 名配偶",
        f"{case.found} 名配偶",
        "至多一名配偶（spouse）",
        "子女的配偶（儿媳、女婿）应登记为其他（other），不是户主的配偶",
    )


def _child(case: Case, fields: dict[str, Field]) -> Said:
    gap = GENERATION_GAP_YEARS
    return Said(
        f"{_who(case)}登记为子女（child），{_name(fields, 'birth_date')}却与户主"
        f"（{case.reference} 出生）相差不到 {gap} 岁",
        case.found or "",
        f"比户主至少小 {gap} 岁，即 {_years_after(case.reference, gap)} 及以后出生",
        f"{RELATION_HINT}把父母或兄弟姐妹登记成了子女",
    )


def _parent(case: Case, fields: dict[str, Field]) -> Said:
    return Said(
        f"{_who(case)}登记为父母（parent），{_name(fields, 'birth_date')}却晚于户主"
        f"（{case.reference} 出生）",
        case.found or "",
        f"早于户主出生，即 {_day_before(case.reference)} 及以前",
        f"{RELATION_HINT}把子女登记成了父母",
    )


def _grandchild(case: Case, fields: dict[str, Field]) -> Said:
    return Said(
        f"{_who(case)}登记为孙子女（grandchild），{_name(fields, 'birth_date')}却早于户主"
        f"（{case.reference} 出生）",
        case.found or "",
        f"晚于户主出生，即 {case.reference} 以后",
        f"{RELATION_HINT}把祖父母登记成了孙子女",
    )


def _in_wan(case: Case, what: str) -> tuple[str, str]:
    """The expected form and the hint of an amount that looks typed in 万元."""
    return (
        f"以元为单位的{what}，如 {_in_yuan(case.found)}",
        f"若是 {case.found} 万元，应填 {_in_yuan(case.found)}；若确为此数，可不理会本警告",
    )


def _wage(case: Case, fields: dict[str, Field]) -> Said:
    others = int(case.reference or 1) - 1
    also = f"（本户另有 {others} 名成员的工资也不到 {WAGE_FLOOR} 元）" if others else ""
    return Said(
        f"{_who(case)}的{_name(fields, 'income.wage')}为 {case.found} 元，"
        f"近 12 个月的工资不到 {WAGE_FLOOR} 元，像是以万元填写的{also}",
        case.found or "",
        *_in_wan(case, "近 12 个月工资合计"),
    )


def _money(case: Case, fields: dict[str, Field]) -> Said:
    return Said(
        f"{_who(case)}的{_name(fields, 'assets.money')}为 {case.found} 元，不到 "
        f"{MONEY_FLOOR} 元，而成员近 12 个月的收入合计 {case.reference} 元，像是以万元填写的",
        case.found or "",
        *_in_wan(case, "金额"),
    )


def _vehicle(case: Case, fields: dict[str, Field]) -> Said:
    return Said(
        f"{_who(case)}的{_name(fields, 'assets.vehicle_value')}为 {case.found} 元，"
        f"不到 {VEHICLE_VALUE_FLOOR} 元，像是以万元填写的",
        case.found or "",
        *_in_wan(case, "购置价"),
    )


def _vehicle_alone(case: Case, fields: dict[str, Field]) -> Said:
    # marginal_assets and support_assets test the price, dibao_assets the count only
    return Said(
        f"{_who(case)}的{_name(fields, 'assets.vehicles')}为 0，"
        f"{_name(fields, 'assets.vehicle_value')}却为 {case.found} 元",
        f"机动车数量 0，车辆购置价 {case.found} 元",
        "有车时机动车数量至少为 1；没有车时车辆购置价为 0",
        "低保边缘、低收入帮扶家庭的财产条件按车辆购置价判断，本户如同有一辆该价格的车；"
        "低保的财产条件只看机动车数量，按没有车判断。核对是否漏填了机动车数量，"
        "或把车辆购置价填给了没有车的家庭",
    )


def _area_alone(case: Case, fields: dict[str, Field]) -> Said:
    # the asset tables read floor_area_per_capita only beside two homes or more
    area = f"{Decimal(case.found or 0).normalize():f}"
    return Said(
        f"{_who(case)}的{_name(fields, 'assets.homes')}为 0，"
        f"{_name(fields, 'assets.floor_area_m2')}却为 {area} 平方米",
        f"住房套数 0，住房总面积 {area} 平方米",
        "有住房时住房套数至少为 1；没有住房时住房总面积为 0",
        "本户按没有住房决策，住房面积不参与判断（财产条件只在有两套及以上住房时检查"
        "人均住房面积）。核对是否漏填了住房套数：有两套住房、人均面积超过参照值的家庭"
        "会因此按符合财产条件决策",
    )


def _event(case: Case) -> str:
    return f"家庭「{quoted(case.household)}」的事件「{quoted(case.kind)}」"


def _event_person(case: Case, fields: dict[str, Field]) -> Said:
    # the alerts table's working_age_death_unknown_member row alerts without the age
    others = int(case.found or 1) - 1
    also = f"（本户的事件另有 {others} 个成员编号也不是本户成员的）" if others else ""
    return Said(
        f"{_event(case)}（{case.day}）的{_name(fields, 'event.person_id')}为"
        f"「{quoted(case.person)}」，本户没有这名成员{also}",
        quoted(case.person),
        "本户一名成员的成员编号（person_id）；事件所涉的人不在成员名单中时可不填",
        "预警照常按事件类型产生，但无法计算该人的年龄：劳动年龄段人口死亡"
        "（working_age_death）按死者不在成员名单中处理，不看年龄即预警，其他事件的"
        "预警与成员无关。核对成员编号是否填错；死者已不在成员名单中时可不理会本警告",
    )


def _event_stale(case: Case, fields: dict[str, Field]) -> Said:
    as_of = case.as_of or date.today()
    since = as_of - timedelta(days=STALE_EVENT_DAYS)
    days = (as_of - date.fromisoformat(case.day or as_of.isoformat())).days
    others = int(case.reference or 1) - 1
    also = f"（本户另有 {others} 个这样的事件）" if others > 0 else ""
    return Said(
        f"{_event(case)}的{_name(fields, 'event.date')}为 {case.day}，比决策日 "
        f"{as_of.isoformat()} 早 {days} 天，超过 {STALE_EVENT_DAYS} 天{also}",
        case.day or "",
        f"决策日前 {STALE_EVENT_DAYS} 天以内，即 {since.isoformat()} 及以后",
        "监测预警只要求事件不晚于决策日：家庭在监测范围内时，该事件仍产生预警并按已到期"
        "列出，处置时限早已过去。核对事件日期是否填错；已处置的历史事件不必放入家庭数据",
    )


# ---------------------------------------------------------------- the checks


_YOUNGER = "child_born < head_born + to_years(CAST($gap AS INTEGER))"


def _named(order: str, condition: str) -> str:
    """The member a check names, first by ``order`` among those of ``condition``: its
    id, and its index, which places the warning (computed for the listed households
    only: the aggregate over every member keeps no such value)."""
    member = "{'person': person_id, 'index': member_index}"
    return f"first({member} ORDER BY {order}) FILTER (WHERE {condition})"


def _first_by(relation: str, order: str = "birth_date") -> str:
    """The member of ``relation`` first by ``order``, then in input order."""
    return _named(f"{order}, member_index", f"relation = {string(relation)}")


def _last(relation: str) -> str:
    return _named("member_index DESC", f"relation = {string(relation)}")


def _event_named(order: str, condition: str) -> str:
    """The event a check names, first by ``order`` among those of ``condition``: the
    person it names, its index, which places the warning, its type and date."""
    event = "{'person': person, 'index': event_index, 'kind': kind, 'day': day}"
    return f"first({event} ORDER BY {order}) FILTER (WHERE {condition})"


CHECKS: dict[str, Check] = {
    "no_head": Check(
        "W603",
        "relation",
        "heads = 0 AND related > 0",
        ("related", "NULL"),
        None,
        _no_head,
    ),
    "heads": Check(
        "W603", "relation", "heads > 1", ("heads", "NULL"), _last("head"), _heads
    ),
    "spouses": Check(
        "W604",
        "relation",
        "spouses > 1",
        ("spouses", "NULL"),
        _last("spouse"),
        _spouses,
    ),
    # with one head, the eldest child, youngest parent and eldest grandchild
    "child": Check(
        "W605",
        "birth_date",
        f"heads = 1 AND {_YOUNGER}",
        ("child_born", "head_born"),
        _first_by("child"),
        _child,
    ),
    "parent": Check(
        "W605",
        "birth_date",
        "heads = 1 AND parent_born > head_born",
        ("parent_born", "head_born"),
        _first_by("parent", "birth_date DESC"),
        _parent,
    ),
    "grandchild": Check(
        "W605",
        "birth_date",
        "heads = 1 AND grandchild_born < head_born",
        ("grandchild_born", "head_born"),
        _first_by("grandchild"),
        _grandchild,
    ),
    # the smallest wage, and how many members have a small one
    "wage": Check(
        "W606",
        "income.wage",
        "small_wages > 0",
        ("wage", "small_wages"),
        _named("wage, member_index", "small_wage"),
        _wage,
    ),
    # the few households with small money, beside their members' yearly income
    "money": Check(
        "W606",
        "assets.money",
        "money IS NOT NULL AND household_income >= $money_income",
        ("money", "household_income"),
        None,
        _money,
    ),
    "vehicle": Check(
        "W606",
        "assets.vehicle_value",
        "vehicle IS NOT NULL",
        ("vehicle", "NULL"),
        None,
        _vehicle,
    ),
    # a count of 0 (or left out) beside a price or an area: pointed at the count
    "vehicle_alone": Check(
        "W608",
        "assets.vehicles",
        "vehicle_alone IS NOT NULL",
        ("vehicle_alone", "NULL"),
        None,
        _vehicle_alone,
    ),
    "area_alone": Check(
        "W608",
        "assets.homes",
        "area_alone IS NOT NULL",
        ("area_alone", "NULL"),
        None,
        _area_alone,
    ),
    # the first such event, and how many people the events name that are no member
    "event_person": Check(
        "W609",
        "event.person_id",
        "named_people > coalesce(known_people, 0)",
        ("named_people - coalesce(known_people, 0)", "NULL"),
        _event_named("event_index", "stranger"),
        _event_person,
        "deeds",
    ),
    # the earliest such event, and how many there are
    "event_stale": Check(
        "W610",
        "event.date",
        "stale_events > 0",
        ("stale_day", "stale_events"),
        _event_named("day, event_index", "stale"),
        _event_stale,
        "deeds",
    ),
}

# the codes in the order they are reported
CODES = tuple(dict.fromkeys(check.code for check in CHECKS.values()))
