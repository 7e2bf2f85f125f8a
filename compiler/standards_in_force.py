"""E607: a decision date on which a standard the county reads has no value in force.

Two findings, told apart by what the date falls before:

- the standards have not begun: two or more standards have no value on or before the
  decision date (the province's 2025 opinions start on 2025-04-07; deciding 2025-03-01
  finds 28 of them empty). One E607 at the sheet of the standards that start latest,
  naming a few of them, their count and the first day on which every standard the
  county reads has a value (``expected``: 「不早于 2025-04-07 的决策日」, the form
  ``registry_publish.standards_begin`` reads);
- a gap: a standard with a value before the date but none on it (a county's 低保标准
  that stops for a period). One E607 per standard, at the row of the level that keeps
  the standard (the county's own rows before its city's and the province's), never at
  the province's row when another level's value is the one missing.

Each E607 carries ``county_codes``, the counties it concerns: the same province cell is
reported once for every county it stops, and ``Project.errors_for`` refuses a county
only for its own (another county's missing 低保标准 is not this county's).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from compiler.diagnostics import NOWHERE, Diagnostic, Location, Report, make
from compiler.model import RuleBook, Standard, StandardRow

NAMED = 5  # standards named in the one E607; the rest are counted


def check_in_force(book: RuleBook, as_of: date, report: Report) -> None:
    """E607 for the standards of ``book`` with no value in force on ``as_of``."""
    missing = [s for s in book.standards.values() if not _covered(s, as_of)]
    not_begun = [s for s in missing if _start(s, as_of) and not _begun(s, as_of)]
    if len(not_begun) < 2:
        not_begun = []
    for standard in missing:
        if standard not in not_begun:
            _add(report, _gap(book, standard, as_of), book.county_code)
    if not_begun:
        _add(report, _before_standards(book, not_begun, as_of), book.county_code)


def first_decidable(book: RuleBook, as_of: date) -> date | None:
    """The first day from ``as_of`` on which every standard of ``book`` has a value,
    or None when no such day comes."""
    days = {as_of}
    for standard in book.standards.values():
        for row in standard.rows:
            after = (
                row.effective_until + timedelta(days=1) if row.effective_until else None
            )
            days |= {d for d in (row.effective_from, after) if d and d > as_of}
    for day in sorted(days):
        if all(_covered(s, day) for s in book.standards.values()):
            return day
    return None


def _covered(standard: Standard, day: date) -> bool:
    """Whether a value is in force on ``day``; a refused row in force counts, as the
    error that refused it says what to do (a standard with no rows is E4xx's)."""
    if not standard.rows or standard.row_on(day) is not None:
        return True
    return any(row.refused and row.in_force(day) for row in standard.rows)


def _begun(standard: Standard, day: date) -> bool:
    return any(
        row.effective_from is None or row.effective_from <= day
        for row in standard.rows
        if not row.refused
    )


def _start(standard: Standard, after: date) -> date | None:
    """The first day after ``after`` on which the standard has a value."""
    starts = [
        r.effective_from
        for r in standard.rows
        if not r.refused and r.effective_from and r.effective_from > after
    ]
    return min(starts, default=None)


def _before_standards(
    book: RuleBook, standards: list[Standard], as_of: date
) -> Diagnostic:
    """One E607 for a decision date before the standards begin."""
    starts = {s.id: _start(s, as_of) or date.max for s in standards}
    ordered = sorted(standards, key=lambda s: -starts[s.id].toordinal())
    latest = starts[ordered[0].id]
    sheet = _sheet_of([_first_row(s, as_of) for s in ordered if starts[s.id] == latest])
    first = first_decidable(book, as_of) or latest
    names = [_label(s) for s in ordered]
    listed = "、".join(names[:NAMED]) + (" 等" if len(names) > NAMED else "")
    where = _sheet_named(book, sheet)
    return make(
        "E607",
        f"决策日 {as_of} 早于标准参数的生效期：该日有 {len(names)} 项标准参数还没有生效的取值"
        f"（{listed}），最晚的自 {latest} 起生效{where}；这一天不能作出决策，"
        f"最早可按 {first} 决策（这一天起所用的各项标准参数都有取值）",
        sheet,
        found=as_of.isoformat(),
        expected=f"不早于 {first} 的决策日",
        hint=f"改用 {first} 或更晚的决策日；确需按 {as_of} 决策时，"
        "先在标准参数表中补充该日适用的取值",
        standards=names,
        first_day=first.isoformat(),
    )


def _first_row(standard: Standard, as_of: date) -> StandardRow:
    later = [r for r in standard.rows if not r.refused and r.effective_from]
    return min(
        later, key=lambda r: r.effective_from or date.max, default=standard.rows[-1]
    )


def _sheet_of(rows: list[StandardRow]) -> Location:
    """The sheet most of ``rows`` were read from (NOWHERE for a published version's
    rows, which have no cells)."""
    sheets = Counter(
        Location(r.location.file, r.location.sheet) for r in rows if r.location.file
    )
    return sheets.most_common(1)[0][0] if sheets else NOWHERE


def _sheet_named(book: RuleBook, sheet: Location) -> str:
    """「，见省级「标准参数」表」 for the sheet, or nothing for no sheet."""
    if sheet == NOWHERE or not sheet.file:
        return ""
    return f"，见{_level_name(book, sheet.file)}「{sheet.sheet}」表"


def _gap(book: RuleBook, standard: Standard, as_of: date) -> Diagnostic:
    """One E607 for a standard with a value before ``as_of`` but none on it, at the
    rows of the level that keeps it."""
    usable = [r for r in standard.rows if not r.refused] or standard.rows[-1:]
    keeper = usable[0].workbook
    own = [r for r in usable if r.workbook == keeper]
    before = [r for r in own if r.effective_until and r.effective_until < as_of]
    after = [r for r in own if r.effective_from and r.effective_from > as_of]
    ended = max(before, key=lambda r: r.effective_until or date.min, default=None)
    starts = min(after, key=lambda r: r.effective_from or date.max, default=None)
    said = [f"上一期至 {ended.effective_until} 止"] if ended else []
    said += [f"下一期自 {starts.effective_from} 起"] if starts else []
    context = f"{_level_name(book, keeper)}的取值" + "，".join(said or ["不覆盖该日"])
    if starts is not None:
        at = (
            starts.from_location if starts.from_location != NOWHERE else starts.location
        )
    else:
        at = (ended or own[-1]).location
    resumes = _start(standard, as_of)
    return make(
        "E607",
        f"标准参数「{_label(standard)}」在决策日 {as_of} 没有生效的取值"
        f"（{context}，其他各级也没有该日的取值）",
        at,
        found=as_of.isoformat(),
        expected=f"不早于 {resumes} 的决策日" if resumes else "生效期覆盖决策日的取值",
        hint="改用生效期内的决策日，或补充该日期适用的标准参数",
        standard=standard.id,
    )


def _add(report: Report, diagnostic: Diagnostic, county: str) -> None:
    """Report ``diagnostic`` for ``county``; the same finding already reported for
    another county gains this one in its ``county_codes``."""
    key = (diagnostic.code, diagnostic.location, diagnostic.message)
    for item in report.items:
        if (item.code, item.location, item.message) == key:
            codes = item.extra.setdefault("county_codes", [])
            if isinstance(codes, list) and county not in codes:
                codes.append(county)
            return
    diagnostic.extra["county_codes"] = [county]
    report.add(diagnostic)


def _level_name(book: RuleBook, workbook: str) -> str:
    """本县 / 市级 / 省级 for the workbook a row came from (validate's words)."""
    from compiler.validate import _level_name as level_name

    return level_name(book, workbook)


def _label(standard: Standard) -> str:
    return standard.name_cn or standard.id


__all__ = ["check_in_force", "first_decidable"]
