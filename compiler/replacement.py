"""What a city's or county's replacement of a province table or derived value must keep.

Other tables and derived values read a table's outputs by identifier, at the table's
level, as one value or a list by its hit policy, with the declared types; a derived
value by its level and type. A replacement that changes any of these is refused
(E212), one diagnostic for each difference, at the cell that differs, saying what the
replacement has and what the province's has (docs/table-format.md, section 1). A
derived value replaced under another 名称 than the province's is warned about (W203).
Messages name the levels as they are: a city's replacement (市级), and a county's of
what its city replaced before it (the city's 名称, 市级).
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.bind import policy_cell, row_below, type_said
from compiler.diagnostics import NOWHERE, Location, Report
from compiler.model import (
    LEVEL_CN,
    Aggregation,
    Derived,
    DType,
    Kind,
    OutputColumn,
    Table,
    WorkbookKind,
)

# a workbook's level as messages name it
LAYER_CN = {WorkbookKind.COUNTY: "县级", WorkbookKind.CITY: "市级", WorkbookKind.PROVINCE: "省级"}


@dataclass(frozen=True)
class Layers:
    """Whose workbook replaces (``by``) and whose definition it replaces (``of``): a
    county's of the province's, a city's of the province's, or a county's of what its
    city replaced before it."""

    by: WorkbookKind = WorkbookKind.COUNTY
    of: WorkbookKind = WorkbookKind.PROVINCE

    @property
    def who(self) -> str:
        return LAYER_CN[self.by]

    @property
    def whose(self) -> str:
        return LAYER_CN[self.of]

    @property
    def hint(self) -> str:
        return f"其他决策表和派生值按{self.whose}的定义读取它；要改变含义请与省级维护人员商定"


COUNTY_OF_PROVINCE = Layers()
_POLICIES = {
    "one": "UNIQUE、ANY、PRIORITY、FIRST、C+、C<、C>",
    "list": "COLLECT、RULE ORDER、OUTPUT ORDER",
    "count": "C#",
}
_GIVES = {"one": "一个值", "list": "命中规则的输出列表", "count": "命中的个数"}


def check_table(
    base: Table, table: Table, report: Report, layers: Layers = COUNTY_OF_PROVINCE
) -> bool:
    """E212 for each way ``table`` differs from ``base`` in what others read of it;
    True when there was one (the replacement is then refused)."""
    said = Report()  # not counted in ``report``, which says a city's problem once
    _check_policy(base, table, said, layers)
    _check_level(base, table, said, layers)
    _check_outputs(base, table, said, layers)
    report.extend(said.items)
    return bool(said.items)


def check_derived(
    base: Derived, derived: Derived, report: Report, layers: Layers = COUNTY_OF_PROVINCE
) -> bool:
    """E212 at the 层级 or 类型 cell of a replacement derived value whose level or
    type is not the replaced one's; True when there was one. Otherwise W203 when its
    名称 is not the replaced one's."""
    said = Report()
    who, whose = layers.who, layers.whose
    if base.level is not derived.level:
        said.error(
            "E212",
            f"{who}替换的派生值「{derived.id}」层级为{LEVEL_CN[derived.level]}，"
            f"{whose}的是{LEVEL_CN[base.level]}",
            _at(derived.level_location, derived.location),
            found=f"层级 {LEVEL_CN[derived.level]}",
            expected=f"层级 {LEVEL_CN[base.level]}（与{whose}相同）",
            hint=layers.hint,
        )
    if base.dtype != derived.dtype:
        difference = _type_difference(base.dtype, derived.dtype, whose)
        said.error(
            "E212",
            f"{who}替换的派生值「{derived.id}」{difference}",
            _at(derived.type_location, derived.location),
            found=derived.dtype.render(),
            expected=f"{base.dtype.render()}（与{whose}相同）",
            hint=layers.hint,
        )
    report.extend(said.items)
    if not said.items:
        _check_name(base, derived, report, layers)
    return bool(said.items)


def _check_name(base: Derived, derived: Derived, report: Report, layers: Layers) -> None:
    """W203 at the 名称 cell of a replacement that calls the province's derived value
    by another name: explanations then say the county's name and the console the
    province's, two names for one value, and a cell that writes the province's name
    no longer finds it (E302)."""
    if derived.name_cn == base.name_cn or not base.name_cn:
        return
    who, whose = layers.who, layers.whose
    has = f"名称写作「{derived.name_cn}」" if derived.name_cn else "没有写名称"
    report.warn(
        "W203",
        f"{who}替换的派生值「{derived.id}」{has}，{whose}的名称是「{base.name_cn}」："
        "决策说明和管理控制台会用两个名称称呼同一个值",
        _at(derived.name_location, derived.location),
        found=derived.name_cn or "（空）",
        expected=f"{base.name_cn}（与{whose}相同）",
        hint=f"名称改回「{base.name_cn}」；表格中写「{base.name_cn}」的单元格按名称找到这个值，"
        f"要换一个名称请与{whose}维护人员商定",
    )


def _gives(table: Table) -> str:
    """What each output of the table holds for a household: ``one`` value, a ``list``
    of the matches' outputs, or the ``count`` of them (C#)."""
    if table.hit_policy.single_hit:
        return "one"
    if table.aggregation is None:
        return "list"
    return "count" if table.aggregation is Aggregation.COUNT else "one"


def _check_policy(base: Table, table: Table, report: Report, layers: Layers) -> None:
    """A list where the province gives one value (or the reverse) reaches its readers
    as another type: a COLLECT ``other_hardship`` failed every evaluation with
    DuckDB's English, a FIRST ``entitlement_list`` with a conversion error."""
    had, has = _gives(base), _gives(table)
    if had == has:
        return
    if {had, has} == {"one", "count"} and _all_integer(base) and _all_integer(table):
        return  # C# and a single integer output give their readers the same integer
    report.error(
        "E212",
        f"{layers.who}替换的「{table.id}」命中策略为 {table.policy_text}，给出{_GIVES[has]}；"
        f"{layers.whose}的 {base.policy_text} 给出{_GIVES[had]}，替换表也须给出{_GIVES[had]}",
        policy_cell(table.location),
        found=f"{table.policy_text}（给出{_GIVES[has]}）",
        expected=f"给出{_GIVES[had]}的命中策略，如{layers.whose}的 {base.policy_text}"
        f"（可用 {_POLICIES[had]}）",
        hint=layers.hint,
    )


def _all_integer(table: Table) -> bool:
    return all(o.dtype.kind is Kind.INTEGER for o in table.outputs)


def _check_level(base: Table, table: Table, report: Report, layers: Layers) -> None:
    if base.level is table.level:
        return
    written = table.level_location != NOWHERE
    report.error(
        "E212",
        f"{layers.who}替换的「{table.id}」层级为{LEVEL_CN[table.level]}"
        + ("" if written else "（标题行没有写层级，按家庭）")
        + f"，{layers.whose}的是{LEVEL_CN[base.level]}",
        table.level_location if written else table.location,
        found=f"层级={LEVEL_CN[table.level]}" if written else "（未写层级）",
        expected=f"层级={LEVEL_CN[base.level]}（与{layers.whose}相同）",
        hint=layers.hint,
    )


def _check_outputs(base: Table, table: Table, report: Report, layers: Layers) -> None:
    """Outputs are matched by identifier; the replacement's outputs the replaced table
    lacks are taken, in order, for renamings of the replaced table's outputs it lacks."""
    who, whose = layers.who, layers.whose
    names = {o.id for o in base.outputs}
    kept = {o.id for o in table.outputs}
    new = [o for o in table.outputs if o.id not in names]
    lost = [o for o in base.outputs if o.id not in kept]
    by_id = {o.id: o for o in base.outputs}
    pairs = [(by_id[o.id], o) for o in table.outputs if o.id in names]
    for had, has in zip(lost, new, strict=False):
        report.error(
            "E212",
            f"{who}替换的「{table.id}」的输出「{has.id}」不是{whose}的输出：{whose}的是「{had.id}」",
            has.location,
            found=f"输出 {_column(has)}",
            expected=f"{_column(had)}，层级={LEVEL_CN[base.level]}",
            hint=f"其他决策表和派生值按标识读取输出；改回{whose}的标识，新的输出请放到另取标识的决策表中",
        )
        pairs.append((had, has))
    for extra in new[len(lost) :]:
        report.error(
            "E212",
            f"{who}替换的「{table.id}」多了输出「{extra.id}」，{whose}的表没有这个输出",
            extra.location,
            found=f"输出 {_column(extra)}",
            expected=f"只有{whose}的输出 " + "、".join(_column(o) for o in base.outputs),
            hint="新的输出请放到另取标识的决策表中",
        )
    for missing in lost[len(new) :]:
        report.error(
            "E212",
            f"{who}替换的「{table.id}」缺少{whose}的输出「{missing.id}」",
            table.location,
            found="输出 " + "、".join(_column(o) for o in table.outputs),
            expected=f"还有输出 {_column(missing)}",
            hint=layers.hint,
        )
    for had, has in pairs:
        if had.dtype != has.dtype:
            report.error(
                "E212",
                f"{who}替换的「{table.id}」的输出「{has.id}」"
                + _type_difference(had.dtype, has.dtype, whose),
                row_below(has.location, 1),
                found=has.dtype.render(),
                expected=f"{had.dtype.render()}（与{whose}相同）",
                hint=layers.hint,
            )


def _type_difference(had: DType, has: DType, whose: str) -> str:
    """How a replacement's type differs from the replaced one's (``whose``: 省级, or
    市级 for a city's replacement), in words."""
    if had.kind is Kind.ENUM and has.kind is Kind.ENUM:
        if set(had.values) == set(has.values):
            return (
                f"取值与{whose}相同，顺序不同：取值的顺序是优先顺序"
                f"（PRIORITY、OUTPUT ORDER 和比较都按它），须与{whose}一致"
            )
        more = [v for v in has.values if v not in had.values]
        fewer = [v for v in had.values if v not in has.values]
        said = ([f"多了 {'、'.join(more)}"] if more else []) + (
            [f"少了 {'、'.join(fewer)}"] if fewer else []
        )
        return f"的取值与{whose}不同：" + "，".join(said)
    return f"的类型为 {type_said(has)}，{whose}为 {type_said(had)}"


def _column(output: OutputColumn) -> str:
    return f"{output.id}（{output.dtype.render()}）"


def _at(cell: Location, fallback: Location) -> Location:
    return cell if cell != NOWHERE else fallback


__all__ = ["LAYER_CN", "Layers", "check_derived", "check_table"]
