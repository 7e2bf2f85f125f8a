"""Chinese names of enum values in CSV household files, read as their identifiers.

County staff export households from Excel or WPS in the words they use: 农村, 配偶,
肢体, 低保. In a CSV (or tab-separated ``.txt``) household file, a cell of relation,
hukou, disability_kind, student or current.group may hold the Chinese name of one of
its field's values as ``compiler/vocabulary.py`` names it, or as the notes of the
province's 字段 sheet write it with its noun (多重残疾, 农村户籍); hukou also 农业 and
非农业, the categories before the reform of 2014 (农业户口), and current.group the
GLOSSARY's full terms and the short forms county records use (特困 or 五保户 for
特困供养, 低保户, 低边 for 低保边缘; ``_OTHER_NAMES``); event.type may hold the name
of one of the province's event types (失业人员登记). Each is read as the identifier
it names (``as_identifier``), after the trimming every cell gets and with full-width
letters and spaces folded as digits are (``ｒｕｒａｌ`` is rural).

A name maps within its own field only: 农村 in relation is no relation, and stays as it
was written, refused (E603) with the field's values and their names (``accepted``;
``other_field`` says whose value it is). A value a county adds has no name and is
written by its identifier. JSON, Parquet, DuckDB and the service take the contract's
identifiers only: they are written by programs, which have them.
"""

from __future__ import annotations

from compiler.households_model import _FULL_WIDTH, Column, words
from compiler.model import Kind
from compiler.normalise import fold_text
from compiler.vocabulary import (
    DISABILITY_CN,
    EVENT_CN,
    GROUP_CN,
    HUKOU_CN,
    RELATION_CN,
    STUDENT_CN,
)

# The fields whose values have Chinese names, by field id: one table each, so that a
# name is read only in its own field
_NAMES: dict[str, dict[str, str]] = {
    "relation": RELATION_CN,
    "hukou": HUKOU_CN,
    "disability_kind": DISABILITY_CN,
    "student": STUDENT_CN,
    "current.group": GROUP_CN,
    "event.type": EVENT_CN,
}
# Other names county records give a value, read as it in its own field only, where
# no other value of any field is so named: the hukou categories before the reform of
# 2014, 农业 (rural) and 非农业 (urban), which older systems still export; for the
# groups, the GLOSSARY's full terms (特困供养人员, 低保边缘家庭) and their short forms
# (特困, 特困人员, 低保户, 低边: policy/supporting-rules.md cites Hangzhou's 低边标准),
# and 五保 (农村五保供养, the rural "five guarantees"), the older name of the people
# 特困人员救助供养 (tekun) took over nationally from 2014, which county systems and
# clerks still use
_OTHER_NAMES: dict[str, dict[str, str]] = {
    "hukou": {"农业": "rural", "非农业": "urban"},
    "current.group": {
        **dict.fromkeys(
            ("特困", "特困人员", "特困供养人员", "五保", "五保户", "五保供养",
             "五保对象", "五保供养对象"),
            "tekun",
        ),
        **dict.fromkeys(("低保户", "低保对象", "低保家庭"), "dibao"),
        **dict.fromkeys(
            ("低保边缘家庭", "低保边缘户", "低边", "低边户", "低边家庭"), "dibao_marginal"
        ),
        "刚性支出困难家庭": "rigid_expense",
        "低收入帮扶家庭": "low_income_support",
    },
}  # fmt: skip
# The 字段 sheet's notes name these values with the field's noun after them:
# 「肢体、智力、……、多重残疾」, 「城镇或农村户籍」; a hukou register says 农业户口
_NOUNS = {"disability_kind": ("残疾",), "hukou": ("户籍", "户口")}


def names_of(column: Column) -> dict[str, str]:
    """Each Chinese spelling of a value of ``column`` and the identifier it names:
    only the values its type lists (an enum) or, for event.type, the province's
    event types; nothing for any other field."""
    if column.dtype.kind not in (Kind.ENUM, Kind.TEXT):
        return {}
    spellings = _spellings(column.id)
    if column.dtype.kind is Kind.ENUM:
        spellings = {n: v for n, v in spellings.items() if v in column.dtype.values}
    return spellings


def _spellings(ident: str) -> dict[str, str]:
    """Each Chinese spelling of a value of the field ``ident``: its name, its other
    names, each with the field's nouns after it (农村, 农业, 农村户籍, 农业户口)."""
    names = {n: v for v, n in _NAMES.get(ident, {}).items()}
    names |= _OTHER_NAMES.get(ident, {})
    nouns = _NOUNS.get(ident, ())
    return names | {name + noun: v for name, v in names.items() for noun in nouns}


def as_identifier(text: str, column: Column) -> str:
    """SQL reading a CSV cell (``text``) of ``column`` as the identifier its Chinese
    name names; any other value as written.

    A cell as written is looked up first: folding costs 3.6 µs a value, and only a
    name or identifier typed in full-width characters needs it. ASCII text is left
    as it is (an identifier, or a value the check refuses)."""
    spellings = names_of(column)
    if not spellings:
        return text
    enum = column.dtype.kind is Kind.ENUM
    values = tuple(column.dtype.values) if enum else tuple(_NAMES[column.id])
    written = _lookup(text, tuple(spellings), tuple(spellings.values()))
    folded = _lookup(
        f"trim(translate({text}, {_FULL_WIDTH}))",
        (*spellings, *values),
        (*spellings.values(), *values),
    )
    return (
        f"CASE WHEN strlen({text}) = length({text}) THEN {text} "
        f"ELSE coalesce({written}, {folded}, {text}) END"
    )


def _lookup(text: str, keys: tuple[str, ...], values: tuple[str, ...]) -> str:
    """SQL for the value at ``text``'s place among ``keys``; NULL where it is none."""
    return f"[{words(values)}][list_position([{words(keys)}], {text})]"


def accepted(column: Column) -> str:
    """The values of an enum column with their Chinese names, as a message lists
    them: urban（城镇）、rural（农村）."""
    names = _NAMES.get(column.id, {})
    return "、".join(
        f"{value}（{names[value]}）" if value in names else value
        for value in column.dtype.values
    )


def other_field(column: Column, found: str | None) -> str | None:
    """The field (by id) whose value ``found`` names when ``column``'s does not:
    农村 in relation is hukou's; None when it names none or ``column``'s own."""
    if found is None:
        return None
    text = fold_text(found)
    for ident, names in _NAMES.items():
        if ident != column.id and (text in names or text in _spellings(ident)):
            return ident
    return None


def refused_hint(column: Column, found: str | None) -> str:
    """The hint of a CSV enum value that is none of its field's values or names."""
    example = next(iter(names_of(column).items()), None)
    said = "CSV 中可写取值标识或其中文名称"
    if example is not None:
        said += f"（如 {example[1]} 或 {example[0]}）"
    other = other_field(column, found)
    if other is not None:
        return f"「{found}」是字段 {other} 的取值，不是「{column.name_cn}」的；{said}，核对是否填错了列"
    return f"{said}；核对拼写"


__all__ = ["accepted", "as_identifier", "names_of", "other_field", "refused_hint"]
