"""The day a diff decides households on when no day is given.

Two sides can decide a household differently only where something that decides
differs: the compiled rules (decision tables, derived values, fields: every day), the
working-day calendar (alert deadlines around any day), or a standard's value in force
(its periods, as ``diff_rulebooks`` lists them). A draft whose only change is next
year's standards decides every household today as the version before it does, so a
diff judged on today showed 「决策改变的家庭 0」 (helper-89).

``decision_day(old, new, today)`` picks today when the sides differ today; otherwise the
first later day on which a standard differs; otherwise (they differ only before today)
the start of the latest such period. It names the dated differences so that a reader
can choose another, and ``note_on`` warns of a day chosen on which nothing differs. The
console's 标准与规则 page finds its decision date from the same periods
(``standard_differences``, ``first_after``) for the working copy's own standard rows
against its base (``console.workspace.first_new_date``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from compiler.diff import Side, county_pairs
from compiler.diff_rulebooks import differing_periods
from compiler.model import Standard

SHOWN = 3  # dated differences named before 「等」


@dataclass(frozen=True)
class Difference:
    """A standard whose value in force differs from ``start`` (None: from the earliest
    day) to ``until`` (None: with no end)."""

    start: date | None
    until: date | None
    what: str

    def covers(self, day: date) -> bool:
        begun = self.start is None or self.start <= day
        return begun and (self.until is None or day <= self.until)

    def text(self) -> str:
        if self.start is None:
            return f"{self.what}{self.until} 及以前" if self.until else f"{self.what}全部时期"
        if self.until is None:
            return f"{self.what}{self.start} 起"
        return f"{self.what}{self.start} 至 {self.until}"


@dataclass(frozen=True)
class DecisionDay:
    """The day chosen and why: ``reason`` is ``rules`` (the compiled rules or the
    calendar differ, so every day may), ``today`` (a standard differs today),
    ``later`` (the sides decide alike today; ``day`` is the first day they do not),
    ``earlier`` (they differ only before today) or ``none``."""

    day: date
    reason: str
    today: date
    differences: tuple[Difference, ...]  # the dated ones, by start

    def differs_on(self, day: date) -> bool:
        return self.reason == "rules" or any(d.covers(day) for d in self.differences)

    def text(self) -> str:
        """Why this day, in Chinese, with the other days the sides differ on."""
        day, today = self.day, self.today
        said = {
            "none": f"决策日 {day}（今天）：两边的决策规则和标准参数相同",
            "rules": f"决策日 {day}（今天）：两边的决策规则（决策表、派生值、字段或工作日历）不同，"
            "任何一天的决策都可能不同",
            "today": f"决策日 {day}（今天）：两边的标准参数今天就不同",
            "later": f"决策日 {day}：两边今天（{today}）的决策规则和标准参数相同，{day} 起才不同，"
            "按今天决策不会有任何家庭改变",
            "earlier": f"决策日 {day}：两边只在今天（{today}）以前不同，取其中最近一段的开始日",
        }[self.reason]
        return said + self._listed()

    def note_on(self, day: date) -> str | None:
        """A warning when ``day`` is none of the days the sides differ on: the households
        are decided alike there, whatever the tables show."""
        if self.differs_on(day) or not self.differences:
            return None
        return (f"两边在决策日 {day} 的决策规则和标准参数相同，决策不会改变；"
                f"差异在：{self._named()}")

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.day.isoformat(),
            "reason": self.reason,
            "today": self.today.isoformat(),
            "differences": [
                {"from": d.start, "until": d.until, "what": d.what} for d in self.differences
            ],
        }

    def _listed(self) -> str:
        if not self.differences:
            return ""
        if self.reason == "rules":
            return f"；标准参数另有差异：{self._named()}"
        if len(self.differences) == 1:
            return f"（{self._named()}）"
        return (f"。两边的标准参数共有 {len(self.differences)} 段不同：{self._named()}；"
                "可把决策日改为其中任一天")

    def _named(self) -> str:
        """The first few differences, those from today on before those that ended."""
        ordered = sorted(self.differences, key=lambda d: (
            d.until is not None and d.until < self.today, d.start or date.min))
        shown = "、".join(d.text() for d in ordered[:SHOWN])
        return shown + (" 等" if len(ordered) > SHOWN else "")


def decision_day(old: Side, new: Side, today: date) -> DecisionDay:
    """The day to decide households on when comparing ``old`` with ``new``."""
    pairs = list(county_pairs(old, new).values())
    dated = tuple(
        d
        for a, b in pairs
        for d in standard_differences(_standards(old, a), _standards(new, b))
    )
    if not all(_rules_alike(old, new, a, b) for a, b in pairs):
        return DecisionDay(today, "rules", today, dated)
    if any(d.covers(today) for d in dated):
        return DecisionDay(today, "today", today, dated)
    later = first_after(dated, today)
    if later is not None:
        return DecisionDay(later, "later", today, dated)
    if dated:
        latest = max(dated, key=lambda d: d.until or date.max)
        return DecisionDay(latest.start or latest.until or today, "earlier", today, dated)
    return DecisionDay(today, "none", today, dated)


def standard_differences(
    old: Iterable[Standard], new: Iterable[Standard]
) -> list[Difference]:
    """Every period where a standard's value in force differs between two sets of
    standards, by start (``diff_rulebooks.differing_periods``, as ``jiuzhu diff``
    lists them)."""
    before, after = {s.id: s for s in old}, {s.id: s for s in new}
    found = [
        Difference(start, until, f"{spec.name_cn or ident}（{ident}）")
        for ident in [*before, *(i for i in after if i not in before)]
        for spec in [after.get(ident) or before[ident]]
        for start, until, _, _ in differing_periods(before.get(ident), after.get(ident))
    ]
    return sorted(found, key=lambda d: (d.start or date.min, d.what))


def first_after(differences: Iterable[Difference], after: date) -> date | None:
    """The first day after ``after`` on which one of ``differences`` begins."""
    return min((d.start for d in differences if d.start and d.start > after), default=None)


def _standards(side: Side, code: str) -> list[Standard]:
    book = side.books.get(code)
    return list(book.standards.values()) if book is not None else []


def _rules_alike(old: Side, new: Side, a: str, b: str) -> bool:
    """Whether county ``a`` of ``old`` and ``b`` of ``new`` compile alike over the same
    working-day calendar (False when one is missing or does not bind: nothing then
    says they decide alike)."""
    from compiler.diff_impact import rules_alike

    if a not in old.books or b not in new.books:
        return False
    days = [{(d.day, d.working) for d in side.books[code].calendar}
            for side, code in ((old, a), (new, b))]
    if days[0] != days[1]:  # alert deadlines count working days around any day
        return False
    (plan_a, found_a), (plan_b, found_b) = old.bound(a), new.bound(b)
    if any(d.is_error for d in [*found_a, *found_b]):
        return False
    return rules_alike(plan_a, plan_b)


__all__ = ["DecisionDay", "Difference", "decision_day", "first_after", "standard_differences"]
