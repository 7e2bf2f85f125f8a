"""Which declared field a column no field has most likely means (W601, E603).

A county's export names its columns its own way: 户籍 for 户籍类型, 是否在业 or 在业
for 已就业, 工资 for 工资性收入. Such a column is not read, and its field takes its
default: the members are decided as not employed, with no hukou, with no wage. A
column's name is compared with the fields not read from another column by its *core*
(``core``): the name without a unit in brackets, ``的``, a leading 是否, 是不是, 有无 or
已 and a trailing 类型, 类别, 性质, 情况 or 状态, after the county words of
``_SYNONYMS`` are replaced by the contract's (在业 is 就业, 户口 is 户籍, 残疾证等级 is
残疾等级, 大病 is 重病, 同住 is 共同生活) and the whole names of ``_WHOLE`` (救助类别
is 现救助类别). Then

- a column whose core is the core of one field's Chinese name (户籍 and 户籍类型, 是否在业
  and 已就业, 户口性质 and 户籍类型) is that name written another way: E603 at the
  column, as a JSON key naming a field another way is (``households_spelling``). The
  run stops rather than decide every member without the field: only whoever exported
  the file knows it is that field, and renaming the column is all it takes;
- a column that only resembles one field (``likely``: close by ``difflib``, sharing
  two Chinese characters in a row with one name only, a prefix of its core, inside one
  name, or its characters in order in one name, as an abbreviation) stays W601, since
  a county keeps columns of its own (户籍地址, 备注) that resemble a field; the warning
  names that field and what the run did instead: the field's default, or no value.
  The tiers are tried in that order, and a tier that finds two fields gives way to
  the next: a guess is made only when one field is left. A name in ASCII letters is
  compared by spelling only (``difflib``);
- except that a column resembling an amount (``amount_guess``: money or a number of
  the incomes, assets or spending, 工资收入 or 年工资 for 工资性收入, 货币资产 or
  家庭货币财产 for 货币财产) that no other column of the file supplies is E603 too: a
  dropped amount is decided as 0, which makes a household look poorer than it is
  (dibao where it is not). A name that reads as a note, an id, a date or an address
  (财产情况, 残疾证号) stays W601;
- a column most likely an amount of the other level (``amount_elsewhere``: 工资收入,
  年工资 or 家庭工资收入 in households.csv for a member's 工资性收入, 货币资产 or
  货币财产合计 in members.csv for the household's 货币财产) is E603 too, naming where
  the field belongs (``misplaced``), unless the other file has the field's own column
  (then W601 saying so): tried when no amount of its own file is guessed (helper-102);
- some county words name a part of one field (``households_units.PARTS``: 存款 or
  理财 of 货币财产, 养老金, 退休金 or 失业金 of 转移净收入, 分红 or 租金收入 of 财产净收入,
  医药费 of 医疗支出) or a count (车辆数 for 机动车数量, 房屋数量 for 住房套数): a name
  holding one is guessed as that field first. A leading 家庭, 个人 or 成员 is dropped
  when nothing is found with it (家庭工资收入). A count or area is called 字段, not
  金额字段;
- assistance paid by the government (低保金, 救助金, 特困供养金) is 不计入收入
  (income.excluded), which no rule reads (``UNCOUNTED``): such a column stays W601,
  its hint saying it is not income, never a guess of 转移净收入 (helper-106). A hint
  offers no field ``_NOT_HINTED`` rules out (劳动能力 is no supporter's ability) and
  no yes/no or choice for a name of money (赡养费).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path

from compiler.diagnostics import Diagnostic, Location, make
from compiler.households_model import Column, chinese_names
from compiler.households_spelling import Named, json_home
from compiler.households_units import UNCOUNTED, part_of, resembling, unit_base
from compiler.model import LEVEL_CN, Kind, Level
from compiler.normalise import fold_text

# County words for a word of a declared Chinese name, replaced in this order (each
# seen in exports of county systems: 在业人员, 户口性质, 残疾级别, 出生年月; 残疾证等级
# is the grade the certificate states; 大病 and 重大疾病 are the serious illnesses a
# county recognises, 重病; 同住 and 共同居住 are 共同生活; 就读学段 is 在读学段;
# 当前救助类别 is 现救助类别)
_SYNONYMS = (
    ("出生年月日", "出生日期"),
    ("出生年月", "出生日期"),
    ("在业", "就业"),
    ("在职", "就业"),
    ("户口", "户籍"),
    ("级别", "等级"),
    ("残疾证等级", "残疾等级"),
    ("残疾证类", "残疾类"),
    ("重特大疾病", "重病"),
    ("重大疾病", "重病"),
    ("大病", "重病"),
    ("共同居住", "共同生活"),
    ("同住", "共同生活"),
    ("就读", "在读"),
    ("当前", "现"),
    ("的", ""),
)
# Whole names, after ``_SYNONYMS``, that are a declared name without a word: 救助类别
# is the household's 现救助类别 (救助情况, which may be a note, is not)
_WHOLE = {"救助类别": "现救助类别", "救助类型": "现救助类别"}
_PREFIXES = ("是不是", "是否", "有无", "已")
# Guesses a hint must not offer, however alike the names look: 劳动能力 is the
# member's own, not a supporter's (有履行能力的法定义务人), and 财政供养 a public
# payroll, not 已纳入特困供养; an amount (赡养费, 残疾人两项补贴) is no yes/no or choice
_NOT_HINTED = (("劳动能力", "has_able_supporter"), ("财政供养", "tekun_supported"))
_MONEY_ENDINGS = ("金", "费", "补贴", "补助", "收入", "工资", "元")
# Words before a name that say whose it is (家庭工资收入): dropped when nothing is found
_WHOSE = ("家庭成员", "家庭", "个人", "成员")
# The levels an amount may be misplaced between (an event's amount is no guess)
_LEVELS = (Level.HOUSEHOLD, Level.MEMBER)
_SUFFIXES = ("类型", "类别", "性质", "情况", "状态")
# The keys that link the files are read by their exact names only (staging).
_LINKS = frozenset({"household_id", "county_code"})
# The groups of amounts in the contract (shared/contracts/household.md); a count of
# them (机动车数量, 住房套数) is an amount too: dropped, it is decided as none.
_AMOUNT_GROUPS = ("income", "assets", "expenses")
# Endings of county columns that hold no amount, however much they resemble one:
# 财产情况 (a note), 残疾证号 (an id), 车辆登记日期, 房产地址
_NOT_AMOUNTS = (
    "号", "码", "证", "址", "地", "日期", "时间", "年月", "电话", "姓名", "名称", "单位",
    "情况", "状况", "说明", "描述", "备注", "来源", "原因", "类型", "类别", "性质",
    "状态", "方式", "人", "月份", "年份",
)
_COUNTS = ("数", "数量", "套数", "辆数")


def core(name: str) -> str:
    """A name as compared: ``是否在业`` and ``已就业`` are both ``就业``."""
    text = fold_text(unit_base(fold_text(name))).casefold().replace(" ", "")
    for county, contract in _SYNONYMS:
        text = text.replace(county, contract)
    text = _WHOLE.get(text, text)
    stripped = text
    for prefix in _PREFIXES:
        stripped = stripped.removeprefix(prefix)
    for suffix in _SUFFIXES:
        stripped = stripped.removesuffix(suffix)
    return stripped if len(stripped) >= 2 else text


def same_name(columns: Iterable[Column], name: str) -> Column | None:
    """The one field whose Chinese name has ``name``'s core; None for none or two."""
    wanted = core(name)
    matches = [c for c in columns if core(c.name_cn) == wanted]
    return matches[0] if len(matches) == 1 else None


def likely(columns: Iterable[Column], name: str) -> Column | None:
    """The one field a name that names none resembles most, tier by tier; None."""
    listed = [c for c in columns if c.id not in _LINKS]
    part = _part(listed, name)
    if part is not None:
        return part
    close = resembling(listed, name)
    if close is not None:
        return close
    found = _likely_core(listed, name)
    if found is None:
        base = fold_text(unit_base(fold_text(name))).strip()
        for whose in _WHOSE:
            if base.startswith(whose) and len(base) - len(whose) >= 2:
                return likely(listed, base[len(whose) :])
    return found


def _part(listed: list[Column], name: str) -> Column | None:
    """The field of ``listed`` a county word in ``name`` names a part or count of
    (``households_units.PARTS``)."""
    part = part_of(name)
    found = [c for c in listed if part is not None and c.id == part[1]]
    return found[0] if found else None


def _likely_core(listed: list[Column], name: str) -> Column | None:
    """``likely``'s tiers after the spelling: prefix, inside, in order."""
    wanted = core(name)
    if len(wanted) < 2 or wanted.isascii():  # ids are compared by spelling only
        return None
    tiers: tuple[Callable[[Column], bool], ...] = (
        lambda c: (
            core(c.name_cn).startswith(wanted) or wanted.startswith(core(c.name_cn))
        ),
        lambda c: wanted in c.name_cn.casefold(),
        lambda c: wanted[0] == c.name_cn[0] and _in_order(wanted, c.name_cn.casefold()),
    )
    for tier in tiers:
        found = [c for c in listed if tier(c)]
        if len(found) == 1:
            return found[0]
    return None


def is_amount(column: Column) -> bool:
    """Whether a field is an amount: money, or a number of the incomes, assets or
    spending (their area and counts)."""
    kind = column.dtype.kind
    if kind is Kind.MONEY:
        return True
    numeric = kind in (Kind.NUMBER, Kind.INTEGER, Kind.PERCENT)
    return numeric and column.key[0] in _AMOUNT_GROUPS


def amount_guess(
    columns: list[Column], others: Iterable[Column], read: set[str], name: str
) -> Column | None:
    """The amount field a column not read most likely holds, when no other column of
    the file supplies it (``read``) and no field of another file (``others``) is a
    closer guess; None else, and for a name that reads as a note, an id or a date."""
    return _guess_among(columns, [*columns, *others], read, name)


def amount_elsewhere(
    columns: list[Column], others: Iterable[Column], read: set[str], name: str
) -> Column | None:
    """The amount field of the other level (a member's in households.csv, the
    household's in members.csv; ``others``) a name most likely holds, when it
    resembles no field of its own level (``columns``) more; ``read``: the fields of
    ``others`` their own files supply. None for a name that reads as a note, an id
    or a date. Ask after ``amount_guess``, which guesses among its own level first."""
    listed = list(others)
    elsewhere = [c for c in listed if c.level in _LEVELS and is_amount(c)]
    return _guess_among(elsewhere, [*columns, *listed], read, name)


def _guess_among(
    columns: list[Column], everyone: list[Column], read: set[str], name: str
) -> Column | None:
    close = likely(columns, name)
    if close is None or close.id in read or not is_amount(close):
        return None
    if close.id in UNCOUNTED:  # 低保金: dropped, it changes no decision (W601)
        return None
    base = unit_base(fold_text(name)).strip()
    if base.endswith(_NOT_AMOUNTS):
        return None
    if base.isascii() and not _same_key(base, close.id):
        return None  # assets.note beside assets.money: a note of the group, not the amount
    if base.endswith(_COUNTS) and close.dtype.kind is not Kind.INTEGER:
        # 车辆数 is a count, not 车辆购置价: guessed among the counts, or not at all
        close = likely([c for c in columns if c.dtype.kind is Kind.INTEGER], name)
        if close is None or close.id in read or not is_amount(close):
            return None
    same = likely(everyone, name)
    return close if same is None or same.id == close.id else None


def amount_said(column: Column) -> str:
    """What a message calls an amount field: money is 金额字段, a count or area 字段."""
    return "金额字段" if column.dtype.kind is Kind.MONEY else "字段"


def harm_said(column: Column) -> str:
    """What dropping an amount does."""
    what = "金额" if column.dtype.kind is Kind.MONEY else "数量"
    return f"少算的{what}会让家庭显得更困难（如误判为低保）"


def _same_key(name: str, ident: str) -> bool:
    """Whether an ASCII name's last word is the field id's last key, or a near miss of
    it (income_wage, income.wages and assets.mony are; assets.note is not)."""
    word = re.split(r"[._ ]", name.casefold())[-1]
    key = ident.rpartition(".")[2]
    return difflib.SequenceMatcher(None, word, key).ratio() >= 0.75


def _in_order(short: str, name: str) -> bool:
    """Whether the characters of ``short`` appear in ``name`` in order (残等 in 残疾等级)."""
    rest = iter(name)
    return all(ch in rest for ch in short)


def default_said(column: Column) -> str:
    """What the run decides with when a field's column is not read."""
    value = column.default
    if value is None:
        return f"「{column.name_cn}」没有取值（按未填写决策）"
    if isinstance(value, bool):
        value = "是" if value else "否"
    elif isinstance(value, Decimal):
        value = format(value, "f")
    return f"「{column.name_cn}」按默认值「{value}」决策"


def unknown_columns(
    columns: list[Column],
    read: set[str],
    names: list[str],
    file: Path,
    where: str,
    others: Iterable[Column] = (),
    homes: dict[Level, str] | None = None,
    supplied: set[str] = frozenset(),  # type: ignore[assignment]
) -> tuple[list[Diagnostic], list[str]]:
    """E603 for each column that is a field not read (``read``: the ids read from
    other columns) under another name, or most likely an amount not read
    (``amount_guess``; ``others``: the fields of the other files), or an amount of
    the other level (``amount_elsewhere``; ``homes`` names each level's file,
    ``supplied``: the ids of ``others`` their files have a column for); the W601 text
    for the others (none or one), each guess saying what the run did instead of
    reading it."""
    others = list(others)
    unread = [c for c in columns if c.id not in read and c.id not in _LINKS]
    refused: list[Diagnostic] = []
    guesses: list[str] = []
    shown: list[str] = []
    said_cn = chinese_names(columns)
    exact = {n.casefold() for c in columns for n in (c.id, *said_cn[c.id])}
    for name in names:
        # a field's own name, unread only when the field has two columns: staging
        # refuses those, naming both
        own = unit_base(name).casefold() in exact
        same = None if own else same_name(unread, name)
        if same is not None:
            refused.append(_same_name(same, name, file, where))
            continue
        amount = None if own else amount_guess(columns, others, read, name)
        if amount is not None:
            refused.append(_amount(amount, name, file, where))
            continue
        far = None
        if not own and homes is not None:
            far = amount_elsewhere(columns, others, set(), name)
        if far is not None and far.id not in supplied:
            refused.append(misplaced(far, name, file, where, homes or {}))
            continue
        shown.append(name)
        if far is not None:
            home = (homes or {}).get(far.level, "")
            guesses.append(
                f"{name} 是否想写{LEVEL_CN[far.level]}的「{far.id}」（{far.name_cn}）？"
                f"该字段已从 {home} 读取"
            )
            continue
        close = likely(columns, name)
        if close is None or not _hinted(close, name):
            continue
        guess = f"{name} 是否想写「{close.id}」（{close.name_cn}）？"
        if close.id in read:
            guesses.append(f"{guess}该字段已从另一列读取")
        elif close.id in UNCOUNTED:
            guesses.append(
                f"{guess}该列没有读取；「{close.name_cn}」不计入家庭收入，"
                "不参与任何计算，请勿计入转移净收入等收入"
            )
        else:
            guesses.append(f"{guess}该列没有读取，{default_said(close)}")
    if not shown:
        return refused, []
    text = f"{where}中的列 {'、'.join(shown)} 不是已声明的字段，已忽略"
    return refused, [text + (f"（{'；'.join(guesses)}）" if guesses else "")]


def _hinted(column: Column, name: str) -> bool:
    """Whether a W601 may offer ``column`` for ``name``: not a field ``_NOT_HINTED``
    says the name is not, nor a field of no number for a name of money (赡养费)."""
    if any(word in name and column.id == ident for word, ident in _NOT_HINTED):
        return False
    numeric = column.dtype.kind in (Kind.MONEY, Kind.NUMBER, Kind.INTEGER, Kind.PERCENT)
    return numeric or not unit_base(fold_text(name)).strip().endswith(_MONEY_ENDINGS)


def _same_name(column: Column, name: str, file: Path, where: str) -> Diagnostic:
    return _refused(
        column, name, file,
        f"{where}中的列「{name}」不是已声明的字段名，与字段「{column.name_cn}」"
        f"（{column.id}）是同一个意思的另一种写法",
        "决策可能因此出错",
        "若该列确实不是这个字段，改用其他列名",
    )


def _amount(column: Column, name: str, file: Path, where: str) -> Diagnostic:
    return _refused(
        column, name, file,
        f"{where}中的列「{name}」不是已声明的字段名，最可能是{amount_said(column)}"
        f"「{column.name_cn}」（{column.id}），文件中没有其他列提供该字段",
        harm_said(column),
        "若该列确实是别的内容，删除该列或改用与字段不相似的列名",
    )


def misplaced(
    column: Column, name: str, file: Path, where: str, homes: dict[Level, str]
) -> Diagnostic:
    """E603 at a column ``name`` that most likely holds ``column``, an amount of the
    other level: where it belongs, and what the run would decide with."""
    home = homes.get(column.level, "")
    whose = LEVEL_CN[column.level]
    each = "，每名成员一行" if column.level is Level.MEMBER else ""
    return make(
        "E603",
        f"{where}中的列「{name}」不是已声明的字段名，最可能是{whose}的"
        f"{amount_said(column)}「{column.name_cn}」（{column.id}），应写在 {home} 中"
        f"（JSON 中为 {json_home(Named(column.level, column.key, column))}），"
        f"{home} 中没有该字段的列",
        Location(file=str(file), cell=name),
        found=name,
        expected=f"在 {home} 中写 {column.name_cn} 或 {column.id} 列",
        hint=f"该列不会被读取，{default_said(column)}，{harm_said(column)}，因此拒绝读入；"
        f"把该列移到 {home} 中{each}，列名写「{column.name_cn}」后重试"
        "（若该列确实是别的内容，删除该列或改用与字段不相似的列名）",
    )


def _refused(
    column: Column, name: str, file: Path, message: str, harm: str, otherwise: str
) -> Diagnostic:
    """E603 at the column ``name`` that is most likely ``column``: what reading it as
    no field would do (``harm``), and the way out when it is something else."""
    return make(
        "E603",
        message,
        Location(file=str(file), cell=name),
        found=name,
        expected=f"列名写 {column.name_cn} 或 {column.id}",
        hint=f"该列不会被读取，{default_said(column)}，{harm}，因此拒绝读入；"
        f"把列名改为「{column.name_cn}」后重试（{otherwise}）",
    )


__all__ = [
    "amount_elsewhere",
    "amount_guess",
    "amount_said",
    "core",
    "default_said",
    "harm_said",
    "is_amount",
    "likely",
    "misplaced",
    "same_name",
    "unknown_columns",
]
