"""Boundary gaps a county's replacement of a province table opens where the province's
table had a rule (W504).

A replacement copied from the province keeps its 接受缺口 declaration, which turns its
gaps into one I501; a rule deleted from the copy then leaves a boundary value (an income
exactly at the dibao standard) deciding nothing, and the check passed. Each boundary
value the replacement leaves uncovered, where a rule of the province's table matches the
same inputs, is warned about on its own, naming the value and that rule.

A county table meant to replace the province's under a misspelt id is no replacement
at all: it is added beside the province's, and its outputs, misspelt too, are read by
nothing (W206, ``unread_outputs``).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

from compiler.bind import DECISION_COLUMNS
from compiler.county import County
from compiler.domains import matches
from compiler.expr import AnyTest
from compiler.findings import Finding, finding
from compiler.model import Rule, RuleBook, Table
from compiler.name_clash import ALIKE
from compiler.witness import show

MAX_LISTED = 5  # boundary values warned about per table before "and N more"


def lost_boundaries(
    county: County,
    table: Table,
    province: Table,
    boundary: Sequence[tuple[int, list[object]]],
) -> list[Finding]:
    """W504 for each boundary value (column ``j`` of a witness's ``values``) that no
    rule of ``table`` covers and a rule of the province's ``province`` does."""
    found: list[Finding] = []
    seen: set[tuple[int, object]] = set()
    lost = 0
    for j, values in boundary:
        if (j, values[j]) in seen or any(
            matches(county, r, values) for r in table.rules
        ):
            continue
        seen.add((j, values[j]))
        rule = _covering(county, table, province, values)
        if rule is None:
            continue  # the province's table leaves it open too
        lost += 1
        if len(found) < MAX_LISTED:
            found.append(_lost(table, province, j, values, rule))
    if lost > len(found):
        found.append(
            finding(
                "W504",
                f"决策表「{table.id}」另有 {lost - len(found)} 个省级表有规则覆盖、"
                "县级替换后没有规则命中的分界值未列出",
                table.location,
                table=table.id,
            )
        )
    return found


def _covering(
    county: County, table: Table, province: Table, values: list[object]
) -> Rule | None:
    """The first rule of the province's table that matches the witness: each of its
    inputs the replacement also has takes the witness's value; an input the
    replacement lacks has no value, so only a rule that does not test it ("-") counts."""
    where = {column.expr: k for k, column in enumerate(table.inputs)}
    for rule in province.rules:
        picked: list[object] = []
        for test, column in zip(rule.tests, province.inputs, strict=True):
            k = where.get(column.expr)
            if k is None and not isinstance(test, AnyTest):
                break
            picked.append(None if k is None else values[k])
        else:
            if matches(county, rule, picked):
                return rule
    return None


def _lost(
    table: Table, province: Table, j: int, values: list[object], rule: Rule
) -> Finding:
    label = table.inputs[j].text
    value = show(values[j])
    tested = "，".join(
        f"{column.text} {text}"
        for column, test, text in zip(
            province.inputs, rule.tests, rule.test_texts, strict=True
        )
        if not isinstance(test, AnyTest)
    )
    return finding(
        "W504",
        f"县级替换的决策表「{table.id}」在分界值上没有规则命中：{label} 恰好等于 {value}；"
        f"省级的表在这里由规则「{rule.id}」（省级工作表「{province.location.sheet}」"
        f"第 {rule.row} 行）覆盖，替换后这个值落入声明接受的缺口",
        table.location,
        found=f"{label} = {value}",
        expected=f"与省级的表一样有规则覆盖 {label} = {value}，如省级规则「{rule.id}」：{tested}",
        hint="把省级的这条规则复制到县级表中，或检查相邻规则的 < 与 <=、( 与 [；"
        "接受缺口的声明不会说出这个值",
        rule=rule.id,
        table=table.id,
        value=show(values[j]),
        column=label,
    )


def unread_outputs(
    book: RuleBook, dependencies: Mapping[tuple[str, str], set[str]]
) -> list[Finding]:
    """W206 for a table a city or county adds whose outputs nothing reads: its rules
    decide nothing. ``dependencies`` is what each table and derived value of the
    county's resolved rulebook reads, by owner (a table's output is owned by its
    table), so a reader among the county's replacements, derived values and other new
    tables counts as much as one of the province's. A table meant to replace the
    province's under a misspelt id (and outputs) is such a table; the table it
    resembles is suggested."""
    found: list[Finding] = []
    province = book.sources[-1] if book.sources else ""
    for table in book.tables.values():
        if table.location.file == province or table.id in book.replaced:
            continue
        if table.outputs and not _read(table, dependencies):
            found.append(_unread(book, table, [o.id for o in table.outputs]))
    return found


def _read(table: Table, dependencies: Mapping[tuple[str, str], set[str]]) -> bool:
    """Whether a decision column shows one of the table's outputs or another table or
    derived value reads one (a table reading its own output is no reader)."""
    if any(o.id in DECISION_COLUMNS for o in table.outputs):
        return True
    itself = ("table", table.id)
    return any(
        table.id in reads for owner, reads in dependencies.items() if owner != itself
    )


def _unread(book: RuleBook, table: Table, unread: list[str]) -> Finding:
    others = [t for t in book.tables if t != table.id]
    meant = difflib.get_close_matches(table.id, others, n=1, cutoff=ALIKE)
    outputs = "、".join(f"「{o}」" for o in unread)
    hint = "删除这张表，或在读取它的决策表、派生值中引用它的输出"
    if meant:
        base = book.tables[meant[0]]
        names = "、".join(o.id for o in base.outputs)
        hint = (
            f"要替换决策表「{base.id}」（输出 {names}）时，表的标识和输出须与它相同："
            f"把第 1 行 A 列改为 {base.id}，输出改为 {names}"
        )
    return finding(
        "W206",
        f"新增的决策表「{table.id}」的输出{outputs}没有任何决策表、派生值或决策结果读取："
        "这张表的规则不影响任何决策"
        + (f"；是否想替换决策表「{meant[0]}」？" if meant else ""),
        table.location,
        found=table.id,
        expected=f"替换已有决策表时与其标识相同（如 {meant[0]}）" if meant
        else "输出被其他决策表、派生值读取的决策表",
        hint=hint,
        table=table.id,
    )


__all__ = ["lost_boundaries", "unread_outputs"]
