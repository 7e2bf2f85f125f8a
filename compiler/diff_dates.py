"""The day a diff decides households on when no day is given.

Two sides can decide a household differently only where something that decides
differs: the compiled rules (decision tables, derived values, fields: every day), the
working-day calendar (alert deadlines around any day), or a standard's value in force
(its periods, as ``diff_rulebooks`` lists them). A draft whose only change is next
year's standards decides every household today as the version before it does, so a
diff judged on today showed 「决策改变的家庭 0」 (helper-89).

A day counts only when both sides can decide on it: each published version has taken
effect by then (``Side.effective``) and each side validates without errors (its
standards are defined that day). ``decision_day(old, new, today)`` picks today when the
sides differ today and can decide; otherwise the first later such day; otherwise (they
differ only before today) the start of the latest such run of days. Two versions that
differ only in a period before either took effect (a 2024 minimum wage, compared
between versions effective 2026) have no such day: the default is then the day both
sides can decide nearest today (today, else the first later one, else the latest
earlier one), said to decide alike (reason ``apart``, tester R9: 2024-01-01 decided
published versions with 28 errors). It names the dated differences so that a reader
can choose another, and ``note_on`` warns of a day chosen on which nothing differs. The
console's 标准与规则 page finds its decision date from the same periods
(``standard_differences``, ``first_after``) for the working copy's own standard rows
against its base (``console.workspace.first_new_date``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
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
    ``later`` (``day`` is the first later day the sides differ on), ``earlier`` (they
    differ only before today), ``apart`` (they differ only on days one side cannot
    decide: ``day`` is one both can, where they decide alike), ``undecidable`` (no day
    both can decide: today) or ``none``. ``passed``
    says why a nearer day was passed over (a version not yet in effect, errors)."""

    day: date
    reason: str
    today: date
    differences: tuple[Difference, ...]  # the dated ones, by start
    passed: str = ""

    def differs_on(self, day: date) -> bool:
        return self.reason == "rules" or any(d.covers(day) for d in self.differences)

    def text(self) -> str:
        """Why this day, in Chinese, with the other days the sides differ on."""
        if self.reason in ("apart", "undecidable"):
            return self._apart() + self._listed()
        day, today = self.day, self.today
        when = "（今天）" if day == today else ""
        said = {
            "none": f"决策日 {day}{when}：两边的决策规则和标准参数相同",
            "rules": f"决策日 {day}{when}：两边的决策规则（决策表、派生值、字段或工作日历）不同，"
            "任何一天的决策都可能不同",
            "today": f"决策日 {day}（今天）：两边的标准参数今天就不同",
            "later": f"决策日 {day}：两边今天（{today}）的决策规则和标准参数相同，{day} 起才不同，"
            "按今天决策不会有任何家庭改变",
            "earlier": f"决策日 {day}：两边只在今天（{today}）以前不同，取其中最近一段的开始日",
        }[self.reason]
        if self.passed and self.reason in ("later", "earlier"):
            nearest = "之后的第一天" if day > today else "以前最近一段的开始日"
            said = f"决策日 {day}：两边决策可能不同、且两边都能决策的日子中，今天（{today}）{nearest}"
        if self.passed:
            said += f"；{self.passed}，不能作决策日"
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
            "passed": self.passed or None,
            "differences": [
                {"from": d.start, "until": d.until, "what": d.what} for d in self.differences
            ],
        }

    def _apart(self) -> str:
        if self.reason == "undecidable":
            return (f"决策日 {self.day}（今天）：两边没有一天都能决策（{self.passed}），"
                    "按今天决策，请先看下面的校验错误")
        return (f"决策日 {self.day}：没有一天两边的决策既可能不同、又都能作出（{self.passed}）；"
                f"改按两边都能决策、离今天最近的 {self.day}，这天两边决策相同，不会有任何家庭改变；"
                "要比较某一天，用 --as-of 指定")

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
    """The day to decide households on when comparing ``old`` with ``new``: the one
    nearest today (today, the first later, the start of the latest earlier run) on
    which they may decide differently and both can decide (module docstring)."""
    pairs = list(county_pairs(old, new).values())
    dated = tuple(
        d
        for a, b in pairs
        for d in standard_differences(_standards(old, a), _standards(new, b))
    )
    rules = not all(_rules_alike(old, new, a, b) for a, b in pairs)
    naive = _naive(dated, rules, today)
    sides = _Deciding(old, new, pairs)
    if sides.blocker(naive.day) is None:
        return naive
    days = _boundaries(dated, old, new, pairs)
    differs = naive.differs_on
    found = _nearest(days, today, lambda day: differs(day) and sides.can(day))
    if found is not None:
        reason = ("rules" if rules else "today" if found == today
                  else "later" if found > today else "earlier")
        return DecisionDay(found, reason, today, dated, sides.said(naive.day))
    alike = _nearest(days, today, sides.can)
    if alike is None:  # no day at all: the errors are shown as before
        return DecisionDay(today, "undecidable", today, dated, sides.said(today))
    if naive.reason == "none":
        return DecisionDay(alike, "none", today, dated, sides.said(naive.day))
    return DecisionDay(alike, "apart", today, dated, sides.said(naive.day))


def _naive(dated: tuple[Difference, ...], rules: bool, today: date) -> DecisionDay:
    """The day nearest today on which the sides may differ, whether or not they can
    decide on it."""
    if rules:
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


class _Deciding:
    """Whether both sides can decide on a day: each version in effect by then, each
    county validating without errors (``Side.checked``, cached per day)."""

    def __init__(self, old: Side, new: Side, pairs: list[tuple[str, str]]) -> None:
        self.counties = ((old, [a for a, _ in pairs if a in old.books]),
                         (new, [b for _, b in pairs if b in new.books]))

    def can(self, day: date) -> bool:
        return self.blocker(day) is None

    def blocker(self, day: date) -> str | None:
        """Why one side cannot decide on ``day``, in Chinese; None when both can."""
        for side, codes in self.counties:
            for code in codes:
                begins = side.effective.get(code)
                name = side.versions.get(code) or side.label
                if begins is not None and day < begins:
                    return f"{name} 尚未生效（自 {begins} 起）"
                errors = [d for d in side.checked(code, day) if d.is_error]
                if errors:
                    first = errors[0]
                    return (f"{name} 有 {len(errors)} 个校验错误"
                            f"（{first.code} {first.message}）")
        return None

    def said(self, day: date) -> str:
        return f"在 {day}，{self.blocker(day) or '两边都能决策'}"


def _boundaries(
    dated: tuple[Difference, ...], old: Side, new: Side, pairs: list[tuple[str, str]]
) -> list[date]:
    """Every day on which whether the sides differ or can decide may change: where a
    difference, a standard's period or a version's effect begins, and the day after
    one ends. Between two of them nothing that decides it changes."""
    found: set[date | None] = {d.start for d in dated}
    found |= {_after(d.until) for d in dated}
    for side, codes in ((old, [a for a, _ in pairs]), (new, [b for _, b in pairs])):
        for code in codes:
            found.add(side.effective.get(code))
            for standard in _standards(side, code):
                found |= {row.effective_from for row in standard.rows}
                found |= {_after(row.effective_until) for row in standard.rows}
    return sorted(day for day in found if day is not None)


def _after(day: date | None) -> date | None:
    return day + timedelta(days=1) if day is not None and day < date.max else None


def _nearest(days: list[date], today: date, good: Callable[[date], bool]) -> date | None:
    """Today when ``good``; else the first later boundary that is; else the start of
    the latest run of earlier boundaries that are."""
    if good(today):
        return today
    later = next((day for day in days if day > today and good(day)), None)
    if later is not None:
        return later
    earlier = [day for day in days if day < today]
    for i in reversed(range(len(earlier))):
        if good(earlier[i]):
            while i > 0 and good(earlier[i - 1]):
                i -= 1
            return earlier[i]
    return None


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
