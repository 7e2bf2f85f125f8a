"""The plausibility checks of household input: for each, the SQL test that flags a
household, the values its case reports, the member or event it names, and how its
warning is said (``CHECKS``, each a ``Check``; ``CODES``, the codes in the order they
are reported). ``households_plausible`` runs them over the loaded input.

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
W611  a member recognised as tekun (``tekun_supported``, or the household's
      ``current.group`` tekun) whose ``has_able_supporter`` is left blank
      (``supporter_blank``): tekun needs it to be 否, so the blank decides dibao
====  ===============================================================================

The thresholds are the constants below; docs/diagnostics.md says why each is where it
is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from compiler.diagnostics import Diagnostic, Location, make
from compiler.households_values import quoted
from compiler.model import Field
from compiler.sqlgen import string

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


def _supporter_blank(case: Case, fields: dict[str, Field]) -> Said:
    # tekun_member: every tekun row needs has_able_supporter 否 (R-N15 3, R-N18)
    others = int(case.found or 1) - 1
    also = f"（本户另有 {others} 名这样的成员）" if others > 0 else ""
    marked = (
        "已纳入特困供养（tekun_supported 为是）"
        if case.reference == "supported"
        else "所在家庭的现救助类别（current.group）为特困（tekun）"
    )
    return Said(
        f"{_who(case)}{marked}，{_name(fields, 'has_able_supporter')}却未填写{also}",
        "空值",
        "「是」或「否」；没有有履行能力的法定赡养、扶养、抚养义务人时填「否」",
        "空值按「不能确认没有有履行能力的法定义务人」读，该成员不认定为特困供养人员，"
        "本户按其他条件决策（如低保）；核对后填写是或否",
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
    # a member marked tekun with has_able_supporter blank: the first, and how many
    "supporter_blank": Check(
        "W611",
        "has_able_supporter",
        "supporters_blank > 0",
        ("supporters_blank", "supporter_mark"),
        _named("member_index", "supporter_blank"),
        _supporter_blank,
    ),
}

# the codes in the order they are reported
CODES = tuple(dict.fromkeys(check.code for check in CHECKS.values()))

__all__ = [
    "CHECKS",
    "CODES",
    "GENERATION_GAP_YEARS",
    "MONEY_FLOOR",
    "MONEY_FLOOR_INCOME",
    "STALE_EVENT_DAYS",
    "VEHICLE_VALUE_FLOOR",
    "WAGE_FLOOR",
    "Case",
    "Check",
    "Said",
]
