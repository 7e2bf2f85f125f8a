"""The validation pass over a county's RuleBook: standards within bounds, values present,
unverified figures listed, the working-day calendar covering the years in use.

Bounds are expressions in the province's 下限/上限 columns; each period of a standard's
value (the county's, the city's and the province's own default) is checked at every
date where it or a standard in its bound changes. A row an error refused (E402, E403,
an unreadable value: StandardRow.refused) gives no value to any bound or comparison;
only its own cells are checked. Values are quoted as the tables write them
(diagnostics.shown): 是/否, amounts with their unit, percentages with %.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from itertools import pairwise

from compiler.bind import Plan
from compiler.calendar import WorkCalendar
from compiler.chains import check_chains
from compiler.diagnostics import NOWHERE, Location, Report, shown
from compiler.expr import Expr, Name, names_in
from compiler.interpret import Interpreter, cast
from compiler.model import Kind, RuleBook, Standard, StandardRow
from compiler.standards_in_force import check_in_force

Unverified = dict[int, tuple[Standard, StandardRow, list[str]]]


def validate(plan: Plan, report: Report, as_of: date, unverified: Unverified) -> None:
    """Check one county's standards and calendar; problems go to ``report``, and the
    unverified values the county relies on to ``unverified`` (see report_unverified)."""
    book = plan.rulebook
    for standard in book.standards.values():
        _check_present(book, standard, as_of, report)
        _check_not_negative(standard, report)
        _check_jump(book, standard, report)
        _check_city_wide(book, standard, report)
        _check_own_gaps(book, standard, report)
        _check_zero(book, standard, report)
        row = standard.row_on(as_of)
        if row is not None and not row.verified:
            entry = unverified.setdefault(id(row), (standard, row, []))
            entry[2].append(f"{book.county_code}{book.county_name}")
        if standard.lower is not None or standard.upper is not None:
            _check_bounds(plan, standard, report)
    check_in_force(book, as_of, report)
    _check_calendar(book, as_of, report)
    check_chains(plan, report)  # before the analysis follows the names (E306)


def _check_present(book: RuleBook, standard: Standard, as_of: date, report: Report) -> None:
    """E405 for a row of this workbook without a value in force on ``as_of`` or later:
    a version published with a blank 2027 row went through and failed from 2027 on
    (helper-57)."""
    for row in standard.rows:
        if row.value is not None or row.refused or not _is_own(book, row):
            continue  # a refused row: the error that refused it says what to do
        if row.effective_until is not None and row.effective_until < as_of:
            continue  # a past period: deciding that date says it
        period = f"{row.effective_from} 起" if row.effective_from else ""
        report.error(
            "E405",
            f"标准参数「{_label(standard)}」{period}没有取值",
            row.value_at,
            expected="填写数值，或删除该行以沿用上级的取值",
        )


def _typed(standard: Standard, rows: Iterable[StandardRow]) -> Iterator[tuple[StandardRow, object]]:
    """The rows that hold a value, with the value as its type; a value of the wrong
    type is left out (it is reported where it is read)."""
    for row in rows:
        try:
            value = cast(row.value, standard.dtype) if row.value is not None else None
        except (TypeError, ValueError, ArithmeticError):
            continue
        if value is not None:
            yield row, value


def _check_not_negative(standard: Standard, report: Report) -> None:
    """Amounts, ratios, counts and day or month spans are never negative; a bound the
    province cannot evaluate yet (W402) must not let a negative standard through."""
    if not standard.dtype.is_numeric:
        return
    for row, value in _typed(standard, standard.rows):
        if value < 0:  # type: ignore[operator]
            report.error(
                "E406",
                f"标准参数「{_label(standard)}」取值 {_quoted(standard, value)} 为负数",
                row.value_at,
                found=_found(standard, row),
                expected="不小于 0 的数值",
                hint="核对公布文件中的数字",
            )


# how far an amount may move from its previous period before it looks like a slip (an
# extra or missing digit is ten times); standards rise by a few per cent a year
JUMP = 2


def _check_jump(book: RuleBook, standard: Standard, report: Report) -> None:
    """W405 for an amount of this workbook, its city's or the province's (which its
    counties keep by default) more than ``JUMP`` times, or less than 1/``JUMP`` of, the
    period before it: 14300 for 1430 passes every bound the province can check when its
    own bound is blank, and a version cannot be changed. A city's 130.10 for 1301 was
    said only at the province's next row (helper-57)."""
    if standard.dtype.kind is not Kind.MONEY:
        return
    values = {id(row): value for row, value in _typed(standard, standard.rows)}
    for row in standard.rows:
        if row.workbook not in book.sources or row.effective_from is None or id(row) not in values:
            continue
        if not row.refused and standard.row_on(row.effective_from) is not row:
            continue  # a period this county replaces: compared where it is kept
        # the period before is what was in force the day before, whichever workbook
        # gave it (a county's 2400 against its city's 1301, not the province's 1149)
        previous = standard.row_on(row.effective_from - timedelta(days=1))
        before, value = values.get(id(previous)), values[id(row)]
        if previous is None or before is None or before <= 0 or value <= 0:  # type: ignore[operator]
            continue  # a negative amount is E406
        ratio = value / before  # type: ignore[operator]
        if ratio > JUMP or ratio * JUMP < 1:
            report.warn(
                "W405",
                f"标准参数「{_label(standard)}」{row.effective_from} 起的取值 "
                f"{_quoted(standard, value)} 是上一期 {_quoted(standard, before)} 的 "
                f"{ratio:.2f} 倍，请核对是否多写或少写了一位",
                row.value_at,
                found=_found(standard, row),
                expected=f"与上一期相差不到 {JUMP} 倍的金额（标准一般每年小幅调整）",
                hint="确认无误（例如口径改变）时可以照常发布",
            )


def _check_zero(book: RuleBook, standard: Standard, report: Report) -> None:
    """W407 for an amount of 0 in a county's or city's workbook where the province's
    value is above 0: a 低保标准 of 0 (a cleared cell typed over) decides every household
    out of dibao, and no bound the province can check yet catches it (helper-46). A
    standard the province itself leaves at 0 (a deduction, a vehicle limit) is not
    flagged."""
    if standard.dtype.kind is not Kind.MONEY:
        return
    province = _province_path(book)
    values = [(row, value) for row, value in _typed(standard, standard.rows)]
    if not any(row.workbook == province and value > 0 for row, value in values):  # type: ignore[operator]
        return
    for row, value in values:
        if row.workbook != province and value == 0:
            report.warn(
                "W407",
                f"标准参数「{_label(standard)}」{_since(row)}{'的' if row.effective_from else ''}取值为 0，"
                "而省级的取值大于 0；按 0 决策会使所有家庭都不符合以它为界的条件",
                row.value_at,
                found=_found(standard, row),
                expected="公布文件中的金额",
                hint="核对是否误把单元格清成了 0；确为 0 时可以照常发布",
            )


# standards a city sets for its whole territory (市域同标: every city applies one dibao
# standard, urban and rural; data/NOTES.md)
CITY_WIDE = ("dibao_standard",)


def _check_city_wide(book: RuleBook, standard: Standard, report: Report) -> None:
    """W406 for a county's own period of a standard its city sets for the whole city,
    where the city's workbook gives one: the county's value silently wins over the
    city's (a 西湖区 row of 1380 beside 杭州's 1301; helper-45)."""
    cities = book.sources[1:-1]  # county, then city, then province
    if standard.id not in CITY_WIDE or not cities:
        return
    if not any(row.workbook in cities for row in standard.rows):
        return
    for row in (r for r in standard.rows if _is_own(book, r)):
        report.warn(
            "W406",
            f"县级工作簿设定了「{_label(standard)}」{_row_shown(standard, row)}"
            f"（{_since(row).removesuffix('的一行')}），"
            "而全省实行市域同标，该标准由设区市统一设定；本县的取值会取代市级的取值",
            row.value_at,
            found=_found(standard, row),
            expected="县级工作簿不写这一行，使用市级工作簿的取值",
            hint="确有本县单列的文件依据时可以照常发布，并在来源中写明文件",
        )


def _check_own_gaps(book: RuleBook, standard: Standard, report: Report) -> None:
    """W408 for a gap between two periods of a standard in one county's or city's
    workbook: a county row from 2026-03-01 after one ending 2025-12-31 leaves January
    and February to the city's or province's value, silently (the tester's 2180 for
    the county's 2660). A gap filled by the value of either side is taken as meant."""
    rank = {path: k for k, path in enumerate(book.sources)}
    for level, source in enumerate(book.sources[:-1]):
        own = [r for r in standard.rows if r.workbook == source and not r.refused]
        own = sorted((r for r in own if r.effective_from), key=_starts)
        for earlier, later in pairwise(own):
            if earlier.effective_until is None:
                continue  # an overlap, E403 at the row
            first = earlier.effective_until + timedelta(days=1)
            last = later.effective_from - timedelta(days=1)  # type: ignore[operator]
            if first > last:
                continue
            fillers = _fillers(standard, first, last)
            if any(rank.get(r.workbook, level) < level for _, r in fillers if r):
                continue  # a county period fills its city's gap: the county's choice
            sides = (earlier.value, later.value)
            if all(r is not None and r.value in sides for _, r in fillers):
                continue
            _warn_gap(book, standard, earlier, later, fillers, report)


def _starts(row: StandardRow) -> date:
    return row.effective_from or date.min


def _fillers(
    standard: Standard, first: date, last: date
) -> list[tuple[date, StandardRow | None]]:
    """The rows in force from ``first`` to ``last``, each with the day it takes over
    (None where no row is)."""
    days = {first}
    for row in standard.rows:
        after = row.effective_until + timedelta(days=1) if row.effective_until else None
        days |= {d for d in (row.effective_from, after) if d and first < d <= last}
    found: list[tuple[date, StandardRow | None]] = []
    for day in sorted(days):
        row = standard.row_on(day)
        if not found or found[-1][1] is not row:
            found.append((day, row))
    return found


def _warn_gap(
    book: RuleBook,
    standard: Standard,
    earlier: StandardRow,
    later: StandardRow,
    fillers: list[tuple[date, StandardRow | None]],
    report: Report,
) -> None:
    first = earlier.effective_until + timedelta(days=1)  # type: ignore[operator]
    last = later.effective_from - timedelta(days=1)  # type: ignore[operator]
    who = _level_name(book, later.workbook)
    filled = "，".join(_filler_shown(book, standard, day, row) for day, row in fillers)
    report.warn(
        "W408",
        f"标准参数「{_label(standard)}」{who}的两期取值之间有空档：{first} 至 {last} "
        f"没有{who}的取值，这段时间{filled}",
        later.from_location if later.from_location != NOWHERE else later.location,
        found=f"上一期 {earlier.effective_from} 至 {earlier.effective_until}，"
        f"下一期 {later.effective_from} 起",
        expected=f"下一期的生效日期为 {first}，或上一期的失效日期为 {last}",
        hint=f"改正生效日期或失效日期使两期相接；确需空档时为 {first} 至 {last} "
        "另写一行并填写适用的取值",
        standard=standard.id,
        gap=[first.isoformat(), last.isoformat()],
    )


def _filler_shown(
    book: RuleBook, standard: Standard, day: date, row: StandardRow | None
) -> str:
    if row is None:
        return f"自 {day} 起没有任何取值（按该日决策会被拒绝，E607）"
    where = row.value_at.render()
    return f"自 {day} 起沿用{_level_name(book, row.workbook)}的取值 {_row_shown(standard, row)}（{where}）"


def _level_name(book: RuleBook, workbook: str) -> str:
    """本县 / 市级 / 省级 for the workbook a row came from."""
    if workbook == _province_path(book):
        return "省级"
    parent = workbook.replace("\\", "/").rstrip("/").split("/")[-2:-1]
    if parent == ["cities"]:
        return "市级"
    if parent == ["counties"] or workbook == book.sources[0]:
        return "本县"
    return "市级"


def _since(row: StandardRow) -> str:
    """The row's period as a message names it: 「2026-01-01 起」; a row without a
    生效日期 (E108 at that cell) is not said to start at 「起始」 (helper-89)."""
    return f"{row.effective_from} 起" if row.effective_from else "生效日期未填的一行"


def _is_own(book: RuleBook, row: StandardRow) -> bool:
    return bool(book.sources) and row.workbook == book.sources[0]


def report_unverified(unverified: Unverified, report: Report) -> None:
    """One warning per unverified value, naming the counties that rely on it."""
    for standard, row, counties in unverified.values():
        counted = "、".join(counties[:5]) + (f" 等 {len(counties)} 个县（市、区）" if len(counties) > 5 else "")
        report.warn(
            "W401",
            f"标准参数「{_label(standard)}」取值 {_row_shown(standard, row)} 未经核实，"
            f"{counted}使用该值",
            row.location,
            found=_found(standard, row),
            expected="已公布并注明来源的数值",
            hint=row.note or "找到公布文件后填写数值和来源，并将 核实 改为 是",
            standard=standard.id,
            counties=counties,
        )


def _check_bounds(plan: Plan, standard: Standard, report: Report) -> None:
    """Every period of the standard within its bounds on the days it decides for this
    county, the province's own default rows too (a typo there reaches every county that
    keeps the default). A row this county replaces is checked where it is kept: judged
    by the county's values it put E401 on a file the county does not own (helper-65);
    a refused row is checked on all its days, at its own cells."""
    book = plan.rulebook
    for row in standard.rows:
        if row.value is None or row.effective_from is None:  # E102 or E108 at its cell
            continue
        for day in _check_dates(book, standard, row):
            if row.refused or standard.row_on(day) is row:
                _check_bound_on(plan, standard, row, day, report)


def _province_path(book: RuleBook) -> str:
    return book.sources[-1] if book.sources else ""


def _check_dates(book: RuleBook, standard: Standard, row: StandardRow) -> list[date]:
    """The days within the row's period where it, or a standard in its bounds, changes
    (a period that starts, or ends the day before)."""
    start = row.effective_from or date(2000, 1, 1)
    days = {start}
    related = [standard]
    for bound in (standard.lower, standard.upper):
        for name in names_in(bound) if bound is not None else ():
            other = book.standards.get(name) or _by_cn(book, name)
            related += [other] if other is not None else []
    for other in related:
        for other_row in (r for r in other.rows if not r.refused):
            after = other_row.effective_until + timedelta(days=1) if other_row.effective_until else None
            for day in (other_row.effective_from, after):
                if day and day > start and row.in_force(day):
                    days.add(day)
    return sorted(days)


def _by_cn(book: RuleBook, name: str) -> Standard | None:
    return next((s for s in book.standards.values() if s.name_cn == name), None)


def _check_bound_on(
    plan: Plan, standard: Standard, row: StandardRow, day: date, report: Report
) -> None:
    value = cast(row.value, standard.dtype)
    for bound, is_lower, text in (
        (standard.lower, True, standard.lower_text),
        (standard.upper, False, standard.upper_text),
    ):
        if bound is None:
            continue
        limit = _evaluate(plan, bound, day)
        if limit is None:
            report.warn(
                "W402",
                f"无法检查「{_label(standard)}」{_row_shown(standard, row)} 是否在"
                f"{'下限' if is_lower else '上限'}「{text}」之内：其中引用的标准参数没有取值",
                row.value_at,
                found=text,
                expected="范围中引用的标准参数均有取值",
                hint="在省级 标准参数 表中填写该标准参数的公布数字后即可检查",
            )
            continue
        if (value < limit) if is_lower else (value > limit):  # type: ignore[operator]
            limit_shown = _quoted(standard, limit, ROUND_CEILING if is_lower else ROUND_FLOOR)
            report.error(
                "E401",
                f"「{_label(standard)}」取值 {_quoted(standard, value)} "
                f"{'低于下限' if is_lower else '高于上限'} {limit_shown}（{text}，{day}）",
                row.value_at,
                found=_found(standard, row),
                expected=f"{'不低于' if is_lower else '不高于'} {limit_shown}",
                hint="核对该标准参数，或与省级核实范围",
            )


def _evaluate(plan: Plan, bound: Expr, day: date) -> object:
    """A bound's value on a day, names resolved like any expression of the county."""
    interpreter = Interpreter(plan, day, WorkCalendar([]))
    env = dict(interpreter.standards)
    for name in names_in(bound):
        standard = plan.rulebook.standards.get(name) or _by_cn(plan.rulebook, name)
        if standard is not None:
            env[name] = env.get(standard.id)
    from compiler.interpret import Evaluation

    return interpreter.value(_bind_names(bound, plan), env, Evaluation(env, [], [], []))


def _bind_names(bound: Expr, plan: Plan) -> Expr:
    """Replace Chinese standard names in a bound by identifiers."""
    from compiler.bind import _aliases, _Binder, _Scope
    from compiler.model import Level

    binder = _Binder(plan.items, _aliases(plan.items), Report())
    return binder.expr(bound, _Scope(Level.HOUSEHOLD, Location(), set()))


def _check_calendar(book: RuleBook, as_of: date, report: Report) -> None:
    calendar = WorkCalendar(book.calendar)
    for year in (as_of.year,):
        if not calendar.covers(year):
            report.warn(
                "W403",
                f"日历中没有 {year} 年的节假日安排，预警期限按周一至周五计算",
                Location(book.sources[-1] if book.sources else None, "日历"),
                expected=f"在省级 日历 表中补充 {year} 年国务院办公厅公布的放假和调休日期",
            )


def _quoted(standard: Standard, value: object, rounding: str = ROUND_FLOOR) -> str:
    """A value of the standard as its tables write it: an amount with two decimals and
    the province's unit (a computed bound rounded towards what it allows, ``rounding``),
    a percentage with %, another number without trailing zeros (2.5, not 2.5000)."""
    kind = standard.dtype.kind
    if not isinstance(value, (Decimal, int)) or isinstance(value, bool):
        return shown(value, "" if kind is Kind.PERCENT else _unit(standard))
    number = Decimal(value)
    if kind is Kind.MONEY:
        return shown(number.quantize(Decimal("0.01"), rounding=rounding), _unit(standard))
    if kind is Kind.PERCENT:
        return shown(_plain(number * 100), "%")
    return shown(_plain(number), _unit(standard))


def _plain(number: Decimal) -> Decimal:
    """2.5000 as 2.5: trailing zeros dropped (shown writes 2E+1 as 20)."""
    return number.normalize()


def _row_shown(standard: Standard, row: StandardRow) -> str:
    """A row's value as quoted; a value that could not be read as it was typed."""
    if row.value is None and row.written.strip():
        return row.written
    return _quoted(standard, row.value)


def _found(standard: Standard, row: StandardRow) -> str | None:
    return None if row.value is None and not row.written.strip() else _row_shown(standard, row)


def _unit(standard: Standard) -> str:
    """The unit the province writes for the standard (the one its values are in)."""
    kind = standard.dtype.kind
    if kind in (Kind.PERCENT, Kind.BOOLEAN, Kind.DATE, Kind.TEXT, Kind.ENUM, Kind.LIST):
        return ""
    units = [row.unit.strip() for row in reversed(standard.rows) if row.unit.strip()]
    return units[0] if units else ""


def _label(standard: Standard) -> str:
    return standard.name_cn or standard.id


__all__ = ["Name", "validate"]
