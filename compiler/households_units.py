"""Column names with a unit in brackets, and names of a monthly amount (helper-52).

People who keep households in Excel or WPS write the unit in the header:
``工资性收入（元/年）``, ``货币财产(元)``, ``住房总面积（㎡）``. Such a header names a
declared field, so its values are never dropped: ``unit_agrees`` reads it as the field
when the unit is the field's own, and ``unit_problem`` refuses it (E603) with the
header to write when it is not (``元/月``, ``万元``), since the values would be read
at the wrong scale. A field that is no number (text, a choice, yes/no, a date) takes
any note in brackets: its values are checked for their form whatever the note says.

The contract's amounts of income and spending (``income.*``, ``expenses.*``) cover
the 12 months before the decision date (shared/contracts/household.md): a yearly
amount. A header naming a month and resembling such a field (``月工资``, ``monthly_
wage``) holds a monthly amount under another name: dropped, the member would be
decided with no wage; read, with a twelfth of it. ``monthly_problem`` refuses it
(E603): only whoever exported it can give the 12 months' total.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from compiler.diagnostics import Diagnostic, Location, make
from compiler.households_model import Column
from compiler.model import Kind

# a name and a unit in brackets after it, full-width or not: 工资性收入（元/年）
_WITH_UNIT = re.compile(r"(.+?)\s*[（(【\[]\s*([^（()）【】\[\]]*?)\s*[）)】\]]\s*")
# shared/contracts/household.md: "amounts of income and spending cover the 12 months
# before the decision date"
YEARLY_GROUPS = ("income", "expenses")
_YEARLY_UNITS = frozenset({"元", "元/年", "年", "人民币元", "元/全年", "全年", "元/年度", "年度"})
_MONEY_UNITS = frozenset({"元", "人民币元"})
_AREA_UNITS = frozenset({"㎡", "m2", "m²", "平方米", "平米"})
_COUNT_UNITS = frozenset({"套", "辆", "个", "处", "间", "人", "次", "台"})
_MONTH_MARKS = ("月", "month")


def split_unit(name: str) -> tuple[str, str] | None:
    """(name, unit) of a header with a unit in brackets after the name; None else."""
    found = _WITH_UNIT.fullmatch(name.strip())
    return (found.group(1), found.group(2)) if found else None


def unit_base(name: str) -> str:
    """A header without the unit in brackets after it (the header when it has none)."""
    split = split_unit(name)
    return split[0] if split else name


def is_yearly(column: Column) -> bool:
    return column.dtype.kind is Kind.MONEY and column.key[0] in YEARLY_GROUPS


def unit_agrees(column: Column, unit: str) -> bool:
    """Whether a header's unit is the field's own, so the values read at its scale."""
    said = unit.replace("／", "/").replace(" ", "").casefold()
    kind = column.dtype.kind
    if kind is Kind.MONEY:
        return said in (_YEARLY_UNITS if is_yearly(column) else _MONEY_UNITS)
    if kind is Kind.NUMBER:
        return column.id.endswith("_m2") and said in _AREA_UNITS
    if kind is Kind.INTEGER:
        return said in _COUNT_UNITS
    return kind is not Kind.PERCENT  # text, choices, yes/no and dates are checked


def own_unit(column: Column) -> str:
    """The unit of a field's values, as a header may write it."""
    if is_yearly(column):
        return "元/年，决策日期前 12 个月的合计"
    if column.dtype.kind is Kind.MONEY:
        return "元"
    if column.dtype.kind is Kind.PERCENT:
        return "小数，0.35 即 35%"
    if column.id.endswith("_m2"):
        return "平方米"
    return "不带单位的数"


def unit_problem(column: Column, header: str, unit: str, at: Location, where: str) -> Diagnostic:
    """E603 for a header naming a field with a unit that is not the field's."""
    right = f"{column.name_cn}（元/年）" if is_yearly(column) else column.name_cn
    return make(
        "E603",
        f"{where}中的列名「{header}」写了单位「{unit}」，与字段「{column.name_cn}」"
        f"（{column.id}）的单位（{own_unit(column)}）不符",
        at,
        found=header,
        expected=f"列名写 {'、'.join(dict.fromkeys((column.name_cn, right)))} 或 "
        f"{column.id}，取值按 {own_unit(column)}",
        hint="该列没有读取：取值不会按单位换算，按字段的单位填写后改列名",
    )


def monthly_problem(
    columns: Iterable[Column], header: str, at: Location, where: str
) -> Diagnostic | None:
    """E603 for a header that names a month and resembles a yearly amount's field
    (``月工资`` for ``income.wage``, 工资性收入); None for any other header."""
    if not any(mark in header.casefold() for mark in _MONTH_MARKS):
        return None
    like = [c for c in columns if is_yearly(c) and _resembles(header, c)]
    if not like:
        return None
    named = "、".join(f"「{c.name_cn}」（{c.id}）" for c in like[:3])
    more = f"等 {len(like)} 个字段" if len(like) > 3 else ""
    first = like[0]
    return make(
        "E603",
        f"{where}中的「{header}」像是按月的金额，对应{named}{more}；"
        "数据约定中的这些金额是决策日期前 12 个月的合计",
        at,
        found=header,
        expected=f"列名写 {first.name_cn}（元/年）或 {first.id}，填 12 个月的合计，如 36000.00",
        hint="该列没有读取：按月的金额不能乘以 12 了事（各月可能不同），"
        "请按 12 个月的合计填写后改列名；若该列不是收入或支出，改成不含「月」的列名",
    )


def resembling(columns: Iterable[Column], name: str) -> Column | None:
    """The one field a header that names none most resembles: by id or Chinese name
    (``income.wages``, ``工资收入``), else the one Chinese name sharing two or more
    characters in a row with it; None when there is no such field or several."""
    listed = list(columns)
    by_name = {c.id.casefold(): c for c in listed} | {c.name_cn: c for c in listed}
    close = difflib.get_close_matches(name.casefold(), list(by_name), n=1, cutoff=0.75)
    if close:
        return by_name[close[0]]
    sharing = [c for c in listed if _shares_chinese(name, c.name_cn)]
    return sharing[0] if len(sharing) == 1 else None


def _resembles(header: str, column: Column) -> bool:
    folded = header.casefold()
    if folded.isascii():
        return any(len(part) > 3 and part in folded for part in column.key)
    return _shares_chinese(header, column.name_cn)


def _shares_chinese(name: str, name_cn: str) -> bool:
    """Whether two names share two Chinese characters in a row (工资 in 月工资)."""
    match = difflib.SequenceMatcher(None, name, name_cn).find_longest_match()
    common = name[match.a : match.a + match.size]
    return match.size >= 2 and all("\u4e00" <= ch <= "\u9fff" for ch in common)


__all__ = [
    "is_yearly",
    "monthly_problem",
    "own_unit",
    "resembling",
    "split_unit",
    "unit_agrees",
    "unit_base",
    "unit_problem",
]
