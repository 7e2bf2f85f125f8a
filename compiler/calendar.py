"""Working days from the State Council's holiday schedule (the province's 日历 sheet).

A working day is Monday to Friday unless the calendar lists it as a holiday (休息日),
plus every weekend day the calendar lists as a make-up working day (补班). Counting
starts on the day after the given date (supporting rules, section 1.7).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta

from compiler.diagnostics import Diagnostic, make
from compiler.model import CalendarDay

FIRST_YEAR, LAST_YEAR = 2015, 2040  # decision dates (as_of, a version's effective date)
FIRST_DAY, LAST_DAY = date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)
# A working-day count may start earlier: a monitoring signal of 2010 is history the
# input may hold, and stopped every household's decision (E612) while the span began
# in 2015. Years the 日历 sheet does not list count Monday to Friday, with W403.
COUNT_FIRST_YEAR = 2000
COUNT_FIRST_DAY = date(COUNT_FIRST_YEAR, 1, 1)


def calendar_span_error(
    day: object, household: str | None = None, event: int | None = None
) -> Diagnostic:
    """E612: a working-day count that starts or ends outside the calendar's span; both
    evaluators refuse it rather than guess the holidays of years nobody has listed.
    ``household``, ``event``: the household whose count it is and the event's index
    (in its household's list, for JSON input), when the evaluator knows them (then
    in ``extra``)."""
    return make(
        "E612",
        f"日期 {day} 起算的工作日超出工作日历的范围，无法计算",
        found=str(day),
        expected=f"不早于 {COUNT_FIRST_DAY} 的日期，且从它数起的工作日在 {LAST_DAY} 之前数完",
        hint=f"核对事件日期是否录错（如年份）；工作日历只覆盖 {COUNT_FIRST_YEAR} 至 {LAST_YEAR} 年",
        **({"household": household} if household is not None else {}),
        **({"event": event} if event is not None else {}),
    )


# How far past an event a working-day count may run: 30 working days and the longest
# holidays (alert deadlines are 10 and 15 working days)
COUNT_REACH_DAYS = 60


def reached_years(day: date) -> set[int]:
    """The years of the calendar's span a working-day count from ``day`` may run into:
    its own, and the next for a day in the last ``COUNT_REACH_DAYS`` of its year."""
    years = {day.year, (day + timedelta(days=COUNT_REACH_DAYS)).year}
    return {year for year in years if COUNT_FIRST_YEAR <= year <= LAST_YEAR}


def unlisted_years(listed: set[int], dates: Iterable[date]) -> dict[int, int]:
    """For each year without a holiday schedule, how many of ``dates`` start a
    working-day count that may run into it (``reached_years``)."""
    found: dict[int, int] = {}
    for day in dates:
        for year in reached_years(day) - listed:
            found[year] = found.get(year, 0) + 1
    return dict(sorted(found.items()))


def unlisted_year_warning(year: int, events: int, where: str) -> Diagnostic:
    """W403: events whose alerts' deadlines may be counted in a year the calendar has
    no holiday schedule for; those days are counted Monday to Friday."""
    return make(
        "W403",
        f"日历中没有 {year} 年的节假日安排：{where}有 {events} 个事件的预警期限可能计入该年，"
        "该年按周一至周五计算工作日"
        + ("（元旦、劳动节、国庆节的法定日期除外）" if year >= FIXED_HOLIDAYS_FROM else ""),
        found=f"{year} 年",
        expected=f"在省级 日历 表中补充 {year} 年国务院办公厅公布的放假和调休日期",
        hint="补充后重新决策，这些事件的预警到期日才计入法定节假日和调休",
    )


# Statutory holidays on fixed dates since 2025 (全国年节及纪念日放假办法 as amended in
# 2024: 1 January, 1-2 May, 1-3 October; supporting rules 1.7). In a year the 日历 sheet
# does not list they are still days off; the lunar holidays and the make-up working days
# are known only from the State Council's notice for the year (W403).
FIXED_HOLIDAYS = ((1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3))
FIXED_HOLIDAYS_FROM = 2025


class WorkCalendar:
    def __init__(self, days: Iterable[CalendarDay]) -> None:
        days = list(days)
        self.holidays = {d.day for d in days if not d.working}
        self.workdays = {d.day for d in days if d.working}
        self.years = {d.day.year for d in days}

    def is_working(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day.year not in self.years and day.year >= FIXED_HOLIDAYS_FROM and (day.month, day.day) in FIXED_HOLIDAYS:
            return False  # 2027-01-01 was counted a working day (helper-44)
        return day.weekday() < 5 and day not in self.holidays

    def add_working_days(self, start: date, count: int) -> date:
        """The ``count``-th working day after ``start`` (``start`` itself not counted)."""
        day, found = start, 0
        while found < count:
            day += timedelta(days=1)
            found += self.is_working(day)
        return day

    def working_days(self, first: date, last: date) -> Iterator[date]:
        day = first
        while day <= last:
            if self.is_working(day):
                yield day
            day += timedelta(days=1)

    def covers(self, year: int) -> bool:
        return year in self.years
