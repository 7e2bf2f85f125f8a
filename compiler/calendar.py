"""Working days from the State Council's holiday schedule (the province's 日历 sheet).

A working day is Monday to Friday unless the calendar lists it as a holiday (休息日),
plus every weekend day the calendar lists as a make-up working day (补班). Counting
starts on the day after the given date (supporting rules, section 1.7).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta

from compiler.model import CalendarDay

FIRST_YEAR, LAST_YEAR = 2015, 2040  # the span the SQL working-day table covers


class WorkCalendar:
    def __init__(self, days: Iterable[CalendarDay]) -> None:
        days = list(days)
        self.holidays = {d.day for d in days if not d.working}
        self.workdays = {d.day for d in days if d.working}
        self.years = {d.day.year for d in days}

    def is_working(self, day: date) -> bool:
        if day in self.workdays:
            return True
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
