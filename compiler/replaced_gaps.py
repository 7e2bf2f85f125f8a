"""Boundary gaps a county's replacement of a province table opens where the province's
table had a rule (W504).

A replacement copied from the province keeps its 接受缺口 declaration, which turns its
gaps into one I501; a rule deleted from the copy then leaves a boundary value (an income
exactly at the dibao standard) deciding nothing, and the check passed. Each boundary
value the replacement leaves uncovered, where a rule of the province's table matches the
same inputs, is warned about on its own, naming the value and that rule.
"""

from __future__ import annotations

from collections.abc import Sequence

from compiler.county import County
from compiler.domains import matches
from compiler.expr import AnyTest
from compiler.findings import Finding, finding
from compiler.model import Rule, Table
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


__all__ = ["lost_boundaries"]
