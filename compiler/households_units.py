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
(E603): only whoever exported it can give the 12 months' total. A header resembles
a field when it shares two Chinese characters with its name, or holds a county word
for a part of it (``PARTS``: 月退休金, 每月养老金 and 养老金（月） are pensions, a
transfer income, 转移净收入; helper-106); a field no rule reads (``UNCOUNTED``:
月低保金, assistance paid, is 不计入收入) is no monthly problem.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from compiler.diagnostics import Diagnostic, Location, make
from compiler.households_model import Column
from compiler.model import Kind
from compiler.normalise import fold_text

# a name and a unit in brackets after it, full-width or not: 工资性收入（元/年）
_WITH_UNIT = re.compile(r"(.+?)\s*[（(【\[]\s*([^（()）【】\[\]]*?)\s*[）)】\]]\s*")
# shared/contracts/household.md: "amounts of income and spending cover the 12 months
# before the decision date"
YEARLY_GROUPS = ("income", "expenses")
_YEARLY_UNITS = frozenset({"元", "元/年", "年", "人民币元", "元/全年", "全年", "元/年度", "年度"})
_MONEY_UNITS = frozenset({"元", "人民币元"})
_AREA_UNITS = frozenset({"㎡", "m2", "m²", "平方米", "平米"})
_COUNT_UNITS = frozenset({"套", "辆", "个", "处", "间", "人", "次", "台"})
MONTH_MARKS = ("月", "month")
# Words of a date that hold 月 without naming a monthly amount (养老金发放年月)
_DATE_WORDS = ("年月", "月份", "月日")
# Fields no rule reads: the 字段 sheet says of 不计入收入 「不参与任何计算」
# (docs/rulebook.md 1.2): a column of it dropped, or monthly, changes no decision
UNCOUNTED = frozenset({"income.excluded"})
# County words naming a part of one field, or a count, by the field's id, and the
# words that make a name holding one something else. A name holding one is guessed as
# that field first, here for a monthly header and in ``households_likely`` for any
# other. Each part is the contract's or R-N2's (policy/supporting-rules.md 1.1):
# deposits, securities and funds are 货币财产, but 存款利息 is interest, a property
# income, like dividends (分红) and rents (租金收入); pay for work is a wage (务工收入);
# farming is a business (种植收入); pensions and unemployment benefit are transfers,
# but 养老金缴费 is a contribution; assistance paid by the government (低保金, 救助金,
# 特困供养金) and scholarships are not counted (R-N2 (a), (b)); 车辆数 counts vehicles,
# not their price; 学费减免 is a subsidy, not spending
PARTS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("存款", "assets.money", ("利息", "收入")),
    ("金融资产", "assets.money", ("收入", "收益")),
    ("有价证券", "assets.money", ("收入", "收益")),
    ("理财", "assets.money", ("收入", "收益")),
    ("股票", "assets.money", ("收入", "收益", "分红", "股息")),
    ("利息", "income.property", ()),
    ("分红", "income.property", ()),
    ("股息", "income.property", ()),
    ("租金收入", "income.property", ()),
    ("房租收入", "income.property", ()),
    ("出租收入", "income.property", ()),
    ("务工收入", "income.wage", ()),
    ("打工收入", "income.wage", ()),
    ("劳务收入", "income.wage", ()),
    ("劳务报酬", "income.wage", ()),
    ("种植收入", "income.business", ()),
    ("养殖收入", "income.business", ()),
    ("农业收入", "income.business", ()),
    ("养老金", "income.transfer", ("缴",)),
    ("退休金", "income.transfer", ("缴",)),
    ("失业金", "income.transfer", ()),
    ("失业保险金", "income.transfer", ()),
    ("低保金", "income.excluded", ()),
    ("救助金", "income.excluded", ()),
    ("供养金", "income.excluded", ()),
    ("奖学金", "income.excluded", ()),
    ("医药费", "expenses.medical", ("报销",)),
    ("学费", "expenses.education", ("减免", "资助", "补助", "补贴")),
    ("学杂费", "expenses.education", ("减免", "资助", "补助", "补贴")),
    ("车辆数", "assets.vehicles", ()),
    ("汽车数", "assets.vehicles", ()),
    ("购车", "assets.vehicle_value", ()),
    ("房产套数", "assets.homes", ()),
    ("房屋套数", "assets.homes", ()),
    ("房产数", "assets.homes", ()),
    ("房屋数", "assets.homes", ()),
    ("住房数", "assets.homes", ()),
    ("注册资本", "assets.enterprise_capital", ()),
)
# A name that asks whether (是否有存款) holds a yes or no, not a part of an amount
_ASKING = ("是否", "是不是", "有无", "有没有")


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
    columns: Iterable[Column],
    header: str,
    at: Location,
    where: str,
    homes: dict[str, str] | None = None,
) -> Diagnostic | None:
    """E603 for a header that names a month and resembles a yearly amount's field
    (``月工资`` for ``income.wage``, 工资性收入); None for any other header. With
    ``homes`` (JSON: each field's path in a household, ``members[…].income.wage``)
    the header is a key, and the message names the key to write."""
    said = header.casefold()
    for word in _DATE_WORDS:
        said = said.replace(word, "")
    if not any(mark in said for mark in MONTH_MARKS):
        return None
    yearly = [c for c in columns if is_yearly(c) and c.id not in UNCOUNTED]
    part = part_of(header)
    if part is not None:  # 月退休金: a pension, part of the transfer income
        like = [c for c in yearly if c.id == part[1]]
    else:  # the fields sharing the longest run (月医疗支出: 医疗支出, not 教育支出)
        like = [c for c in yearly if _resembles(header, c)]
        runs = {c.id: len(_common_run(header, c.name_cn)) for c in like}
        like = [c for c in like if runs[c.id] == max(runs.values())]
    if not like:
        return None
    within = f"，{part[0]}计入该项" if part is not None else ""
    named = "、".join(f"「{c.name_cn}」（{c.id}{within}）" for c in like[:3])
    more = f"等 {len(like)} 个字段" if len(like) > 3 else ""
    first = like[0]
    expected = f"列名写 {first.name_cn}（元/年）或 {first.id}"
    noun, name = "列", "列名"
    if homes is not None:  # a JSON key: the contract's key, nested
        expected, noun, name = f"键写成 {homes[first.id]}", "键", "键名"
    return make(
        "E603",
        f"{where}中的「{header}」像是按月的金额，对应{named}{more}；"
        "数据约定中的这些金额是决策日期前 12 个月的合计",
        at,
        found=header,
        expected=f"{expected}，填 12 个月的合计，如 36000.00",
        hint=f"该{noun}没有读取：按月的金额不能乘以 12 了事（各月可能不同），"
        f"请按 12 个月的合计填写后改{name}；若该{noun}不是收入或支出，改成不含「月」的{name}",
    )


def part_of(name: str) -> tuple[str, str] | None:
    """The county word of ``PARTS`` in ``name`` and the id of the one field it names a
    part or count of (月退休金: 退休金, income.transfer); None for none, or words of
    two fields, or a name asking whether (是否有存款)."""
    folded = fold_text(name)
    if folded.startswith(_ASKING):
        return None
    found = {
        ident: word
        for word, ident, unless in PARTS
        if word in folded and not any(u in folded for u in unless)
    }
    if len(found) != 1:
        return None
    [(ident, word)] = found.items()
    return word, ident


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
    common = _common_run(name, name_cn)
    return len(common) >= 2 and all("\u4e00" <= ch <= "\u9fff" for ch in common)


def _common_run(name: str, name_cn: str) -> str:
    """The longest run of characters two names share (工资 of 月工资, 工资性收入)."""
    match = difflib.SequenceMatcher(None, name, name_cn).find_longest_match()
    return name[match.a : match.a + match.size]


__all__ = [
    "MONTH_MARKS",
    "PARTS",
    "UNCOUNTED",
    "is_yearly",
    "monthly_problem",
    "own_unit",
    "part_of",
    "resembling",
    "split_unit",
    "unit_agrees",
    "unit_base",
    "unit_problem",
]
