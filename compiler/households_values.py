"""Household values refused beyond their type: numbers too large, unusable ids.

A value can have its field's type and still not be one the rules can take: a number
past what its kind holds (10^16 yuan for money; ``large``, E614), a number with more
decimals than its kind keeps (``12.345`` yuan, ``1e-400``: ``decimals``, E603; nothing
is rounded away), a JSON number with more digits than the binary floating point
DuckDB reads it through holds (``precision``, E603, ``households_numbers``), and an id
(``household_id``, ``person_id``, ``event.person_id``) with an invisible control
character (``control``, E603) or longer than ``MAX_ID_LENGTH`` (``long``, E603): it
would be echoed into every decision, CSV output and trace. ``id_arms`` gives the
check's CASE arms for an id; ``value_diagnostic`` the message for each kind.
``serial_diagnostic`` says of a date written as a number that it looks like an Excel
date serial (``45123``, what a date column formatted 「常规」 saves to CSV) and which
day it would be; the value is still refused, never converted.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from compiler.diagnostics import Diagnostic, Location, make
from compiler.households_model import Arm, Column, Family
from compiler.model import SCALES, Kind, Level
from compiler.normalise import power_of_ten

IDS = frozenset(
    {
        (Level.HOUSEHOLD, "household_id"),
        (Level.MEMBER, "person_id"),
        (Level.EVENT, "event.person_id"),
    }
)
MAX_ID_LENGTH = 100
KINDS = frozenset({"large", "decimals", "precision", "control", "long"})
# C0 and C1 control characters (tab and line breaks included), the line and paragraph
# separators, the interlinear annotation marks and Unicode's default-ignorable code
# points (the soft hyphen, zero-width spaces and joiners, marks and isolates of
# direction, variation selectors, fillers, tags, the byte-order mark): shown as nothing
# or as a blank, they make an id look like another, and none belongs in one. Messages
# show them as <U+200B>.
_HIDDEN = (
    (0x00, 0x1F), (0x7F, 0x9F), (0xAD, 0xAD), (0x34F, 0x34F), (0x61C, 0x61C),
    (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x200B, 0x200F),
    (0x2028, 0x202E), (0x2060, 0x206F), (0x3164, 0x3164), (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF), (0xFFA0, 0xFFA0), (0xFFF0, 0xFFFB), (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
)  # fmt: skip
_CONTROLS = "[" + "".join(f"\\x{{{low:x}}}-\\x{{{high:x}}}" for low, high in _HIDDEN) + "]"
_SHOWN = re.compile("[" + "".join(f"{chr(low)}-{chr(high)}" for low, high in _HIDDEN) + "]")
_KIND_NAMES = {Kind.MONEY: "金额", Kind.NUMBER: "数值", Kind.INTEGER: "整数"}
_EXAMPLES = {Kind.MONEY: "1402.50", Kind.NUMBER: "85.5", Kind.INTEGER: "2"}
_EXAMPLES[Kind.PERCENT] = "0.35"


def id_arms(family: Family, raw: str, column: Column) -> list[Arm]:
    """CASE arms (condition, what it names) for an id with a control character or
    longer than the limit; none for another column."""
    if (column.level, column.id) not in IDS:
        return []
    text = family.text(raw)
    return [
        Arm(f"regexp_matches({text}, '{_CONTROLS}')", "'control'"),
        Arm(f"length({text}) > {MAX_ID_LENGTH}", "'long'"),
    ]


def value_diagnostic(
    kind: str, column: Column, label: str, where: Location, found: str | None
) -> Diagnostic:
    """The message for a problem of ``KINDS``; ``label`` names the field."""
    shown = quoted(found) or ""
    if kind == "large":
        limit = power_of_ten(18 - SCALES[column.dtype.kind])
        name = _KIND_NAMES.get(column.dtype.kind, "数值")
        return make(
            "E614",
            f"{label}的数值过大",
            where,
            found=shown,
            expected=f"绝对值小于 {limit} 的{name}，如 1402.50"
            if column.dtype.kind is Kind.MONEY
            else f"绝对值小于 {limit} 的{name}",
            hint=f"{name}最多 {18 - SCALES[column.dtype.kind]} 位整数；"
            "核对是否多写了数字或写错了单位",
        )
    if kind in ("decimals", "precision"):
        return _inexact(kind, column, label, where, shown)
    if kind == "control":
        return make(
            "E603",
            f"{label}含有不可见的控制字符或零宽字符",
            where,
            found=shown,
            expected="只含可见字符的编号，如 H001",
            hint="这类字符多是从其他系统复制时带入的；删去后重新导出",
        )
    return make(
        "E603",
        f"{label}过长（{len(found or '')} 个字符）",
        where,
        found=shown,
        expected=f"不超过 {MAX_ID_LENGTH} 个字符的编号，如 H001",
        hint="编号只用于在一个文件内区分家庭和成员；核对这一列是否填入了别的内容",
    )


def _inexact(
    kind: str, column: Column, label: str, where: Location, shown: str
) -> Diagnostic:
    """E603 for a number its field cannot hold as written: more decimals than the
    kind keeps, or (a JSON number) more digits than a double holds."""
    dtype = column.dtype.kind
    name, example = _KIND_NAMES.get(dtype, "百分比（小数，0.35 即 35%）"), _EXAMPLES[dtype]
    places = f"最多 {SCALES[dtype]} 位小数的" if SCALES[dtype] else "不带小数的"
    if kind == "decimals":
        return make(
            "E603",
            f"{label}的小数位数超过{name}能准确保存的 {SCALES[dtype]} 位",
            where,
            found=shown,
            expected=f"{places}{name}，如 {example}",
            hint="取值按原样准确读入，不做四舍五入（舍去的位数会改变认定结果）；"
            "核对是否多写了数字，或在原系统中先按约定的小数位数取整后重新导出",
        )
    return make(
        "E603",
        f"{label}的数字位数超过 JSON 数字能准确保存的位数",
        where,
        found=shown,
        expected=f"写成字符串的{places}{name}，如 \"{example}\"",
        hint="JSON 中不带引号的数字按二进制浮点数读取，只能准确保存 15 位有效数字，"
        "多出的位数会被改动；把该值加上引号写成字符串",
    )


# Excel's 1900 date system: serial 61 is 1900-03-01, counted from 1899-12-30 (Excel
# takes 1900 for a leap year, so 1 to 60 fall a day off). Serials up to 2100-12-31 are
# taken for one; a four-digit number from 1900 to 2100 is rather a year.
_SERIAL = re.compile(r"([0-9]{2,5})(?:\.([0-9]+))?")
_SERIAL_DAY_0 = date(1899, 12, 30)
_SERIALS = range(61, (date(2100, 12, 31) - _SERIAL_DAY_0).days + 1)
_YEARS = range(1900, 2101)


def excel_serial(found: str | None) -> date | None:
    """The day a number is in Excel's 1900 date system (``45123`` is 2023-07-16, a
    time of day after its point), or None when it is no plausible serial."""
    match = _SERIAL.fullmatch((found or "").strip())
    if match is None:
        return None
    number = int(match[1])
    if number not in _SERIALS or (match[2] is None and number in _YEARS):
        return None
    return _SERIAL_DAY_0 + timedelta(days=number)


def serial_diagnostic(
    label: str, where: Location, found: str | None, spreadsheet: bool
) -> Diagnostic | None:
    """E603 for a date written as an Excel date serial, naming the day it would be;
    None for any other value. ``spreadsheet``: the input is a CSV Excel or WPS saved."""
    day = excel_serial(found)
    if day is None:
        return None
    # the 1904 system (Excel for Mac before 2011) counts the same number 1462 days on
    check = (
        f"核对 {found} 是否就是 {day}：序号不自动换算，"
        f"在 1904 日期系统中它是 {day + timedelta(days=1462)}"
    )
    hint = (
        "日期列的单元格格式为「常规」或「数值」时，Excel 和 WPS 把日期按序号存入 CSV："
        "选中该列，把单元格格式设为「日期」（如 yyyy-mm-dd）后重新另存为 CSV；"
        if spreadsheet
        else "导出前把 Excel 的日期序号换算成日期（YYYY-MM-DD）；"
    )
    return make(
        "E603",
        f"{label}写成了数字「{found}」，像是 Excel 的日期序号"
        f"（按 Excel 的 1900 日期系统即 {day}），不作为日期读取",
        where,
        found=found,
        expected=f"日期，如 {day}",
        hint=hint + check,
    )


def quoted(found: str | None) -> str | None:
    """A value as a message quotes it: control characters shown (<U+0007>), cut to
    60 characters (an id may be 100,000 long, a list nested 500 deep)."""
    if found is None:
        return None
    text = _SHOWN.sub(lambda m: f"<U+{ord(m[0]):04X}>", found)
    return text if len(text) <= 60 else text[:57] + "..."


__all__ = [
    "IDS",
    "KINDS",
    "MAX_ID_LENGTH",
    "excel_serial",
    "id_arms",
    "quoted",
    "serial_diagnostic",
    "value_diagnostic",
]
