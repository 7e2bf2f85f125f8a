"""The Chinese report of a diff, as ``jiuzhu diff`` prints it.

``render_text`` turns the dict of ``diff.diff_sides`` (and an ``ImpactResult``) into
lines a reviewer reads: per county, standards period by period with the layer each
value comes from, derived values, decision tables rule by rule and cell by cell, fields
and the calendar; then ``impact_lines``: who moves between which groups, which
entitlements are gained or lost, and the first ``limit`` changed households.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from compiler.diff_impact import ImpactResult
from compiler.diff_rulebooks import is_empty
from compiler.vocabulary import MONITORING_CN, group_cn, value_cn

LAYER_CN = {"county": "县级", "city": "市级", "province": "省级"}


def render_text(
    result: dict[str, Any], impact_result: ImpactResult | None = None, limit: int = 50
) -> str:
    """The Chinese report the CLI prints for ``diff_sides`` (and an impact)."""
    lines = [f"比较 {result['old']} → {result['new']}"]
    if result.get("as_of_default"):  # the day chosen without --as-of, and why
        lines.append(result["as_of_default"]["text"])
    if result.get("as_of_note"):  # --as-of a day on which the sides decide alike
        lines.append(result["as_of_note"])
    for code, county in result["counties"].items():
        lines.append(f"\n县（市、区）{code} {county['name']}")
        if is_empty(county):
            lines.append("  决策表没有差异")
            continue
        lines += _standard_lines(county["standards"])
        lines += _derived_lines(
            county["derived"], county["derived_values"], result.get("as_of")
        )
        lines += _table_lines(county["tables"])
        lines += _field_lines(county["fields"], county["calendar"])
        lines += _sheet_lines(county["sheets"])
    if impact_result is not None:
        lines += impact_lines(impact_result, limit)
    return "\n".join(_continued(line) for line in lines)


# a value's further lines stand this much to the right of the line they continue
CONTINUATION = 4


def _continued(line: str) -> str:
    """``line`` with the line breaks of a value it quotes (a rule's annotation, a
    standard's note, a row of 说明 typed with Alt+Enter) followed by an indent: the
    further lines stand under the line they belong to, never at the margin, where
    they read as lines of the report (helper-109). Any break Python splits lines at
    counts, a lone carriage return too, which would overwrite the line on a terminal;
    a blank line is written empty."""
    body = line.lstrip("\n")  # the blank line before a county or the impact
    first, *rest = body.splitlines() or [""]
    if not rest:
        return line if first == body else line[: len(line) - len(body)] + first
    margin = " " * (len(first) - len(first.lstrip(" ")) + CONTINUATION)
    further = [margin + part if part.strip() else "" for part in rest]
    return line[: len(line) - len(body)] + "\n".join([first, *further])


_MARK = {"added": "+", "removed": "-", "changed": "~"}
_STATUS_CN = {"added": "新增", "removed": "删除", "changed": "修改"}


def _standard_lines(standards: list[dict[str, Any]]) -> list[str]:
    if not standards:
        return []
    lines = ["  标准参数："]
    for s in standards:
        unit = f" {s['unit']}" if s["unit"] else ""
        lines.append(
            f"  {_MARK[s['status']]} {s['name'] or s['id']}（{s['id']}）{_STATUS_CN[s['status']]}"
        )
        for p in s["periods"]:
            lines.append(
                f"      {_period(p['from'], p['until'])}：{_money(p['old'], s['type'])}"
                f"{_layer(p['old_layer'])} → {_money(p['new'], s['type'])}{_layer(p['new_layer'])}{unit}"
            )
        for c in s["attributes"]:
            where = (
                f"（{LAYER_CN.get(c.get('layer'), '')} {c['from']} 起的一行）"
                if c.get("layer")
                else ""
            )
            lines.append(
                f"      {FIELD_CN.get(c['field'], c['field'])}{where}：{_show(c['old'])} → {_show(c['new'])}"
            )
    return lines


FIELD_CN = {
    "unit": "单位",
    "source": "来源",
    "verified": "核实",
    "note": "备注",
    "effective_until": "失效日期",
    "type": "类型",
    "overridable": "县可改",
    "lower": "下限",
    "upper": "上限",
    "name": "名称",
    "expr": "表达式",
    "level": "层级",
    "basis": "依据",
    "title": "标题",
    "hit_policy": "命中策略",
    "accepted_gap": "接受缺口",
    "default": "默认",
}


def _period(start: date | None, end: date | None) -> str:
    if start is None and end is None:
        return "全部时期"
    if start is None:
        return f"{end} 及以前"
    if end is None:
        return f"{start} 起"
    return f"{start} 至 {end}"


def _layer(layer: str | None) -> str:
    return f"（{LAYER_CN[layer]}）" if layer else ""


def _money(value: object, type_text: str) -> str:
    if value is None:
        return "（无）"
    if isinstance(value, Decimal) and type_text == "money":
        return f"{value:,.2f}"
    return _show(value)


def _show(value: object) -> str:
    if value is None or value == "":
        return "（无）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return (
            format(value.normalize(), "f")
            if value == value.to_integral()
            else format(value, "f")
        )
    return str(value)


def _derived_lines(
    derived: list[dict[str, Any]], values: list[dict[str, Any]], as_of: str | None
) -> list[str]:
    lines = ["  派生值："] if derived or values else []
    for d in derived:
        lines.append(
            f"  {_MARK[d['status']]} {d['name'] or d['id']}（{d['id']}）{_STATUS_CN[d['status']]}"
            + (f"：{d['expr']}" if d["status"] != "changed" else "")
        )
        for c in d["changes"]:
            lines.append(
                f"      {FIELD_CN.get(c['field'], c['field'])}：{_show(c['old'])} → {_show(c['new'])}"
            )
    for v in values:
        lines.append(
            f"    {as_of} 的取值 {v['name'] or v['id']}：{_money(v['old'], v['type'])}"
            f" → {_money(v['new'], v['type'])}"
        )
    return lines


def _table_lines(tables: list[dict[str, Any]]) -> list[str]:
    lines = ["  决策表："] if tables else []
    for t in tables:
        lines.append(
            f"  {_MARK[t['status']]} {t['id']} {t['title']}（{_STATUS_CN[t['status']]}）"
        )
        for c in t["changes"]:
            lines.append(
                f"      {FIELD_CN.get(c['field'], c['field'])}：{_show(c['old'])} → {_show(c['new'])}"
            )
        labels = {
            "inputs_added": "新增输入列",
            "inputs_removed": "删除输入列",
            "outputs_added": "新增输出列",
            "outputs_removed": "删除输出列",
        }
        for key, names in t["columns"].items():
            lines.append(f"      {labels[key]}：{'、'.join(names)}")
        if t["order_changed"]:
            lines.append(
                "      规则顺序改变（FIRST、RULE ORDER、COLLECT 等命中策略的结果可能随之改变）"
            )
        if t["status"] != "changed":
            lines.append(f"      共 {len(t['rules'])} 条规则")
            continue
        for r in t["rules"]:
            if r["status"] == "changed":
                lines.append(f"      ~ 规则 {r['id']}：")
                lines += [
                    f"          {c['column']}：「{_show(c['old'])}」→「{_show(c['new'])}」"
                    for c in r["cells"]
                ]
            else:
                cells = "；".join(f"{c['column']} = {c['value']}" for c in r["cells"])
                lines.append(
                    f"      {_MARK[r['status']]} 规则 {r['id']}（{_STATUS_CN[r['status']]}）：{cells}"
                )
    return lines


def _field_lines(
    fields: list[dict[str, Any]], calendar: list[dict[str, Any]]
) -> list[str]:
    lines = ["  字段："] if fields else []
    for f in fields:
        lines.append(f"  {_MARK[f['status']]} {f['id']}（{_STATUS_CN[f['status']]}）")
        for c in f["changes"]:
            lines.append(
                f"      {FIELD_CN.get(c['field'], c['field'])}：{_show(c['old'])} → {_show(c['new'])}"
            )
    if calendar:
        lines.append("  日历：")
        lines += [
            f"  {_MARK[d['status']]} {d['date']} {d['type']} {d['note']}".rstrip()
            for d in calendar
        ]
    return lines


def _sheet_lines(sheets: list[dict[str, Any]]) -> list[str]:
    """The county's other sheets (说明): a changed row as its cells joined by " | "."""
    lines = ["  其他工作表："] if sheets else []
    for sheet in sheets:
        lines.append(f"  {_MARK[sheet['status']]} 「{sheet['sheet']}」（{_STATUS_CN[sheet['status']]}）")
        for row in sheet["rows"]:
            old, new = (" | ".join(row[side]) or "（空行）" for side in ("old", "new"))
            lines.append(f"      第 {row['row']} 行：{old} → {new}")
    return lines


def impact_lines(result: ImpactResult, limit: int = 50) -> list[str]:
    head = (
        f"\n家庭决策的变化（决策日 {result.as_of}，共 {result.households} 户，"
        f"{result.changed} 户变化，用时 {result.seconds:.2f} 秒）"
    )
    lines = [head]
    if result.skipped:  # as evaluate's I601: the count is not the whole file
        lines.append(
            f"  文件中其他县（市、区）的 {result.skipped} 户不在比较范围内，未决策"
        )
    if result.phases:
        names = {
            "load": "读入",
            "old": "旧版决策",
            "new": "新版决策",
            "compare": "比较",
        }
        lines.append(
            "  用时："
            + "，".join(
                f"{names.get(k, k)} {v:.2f} 秒" for k, v in result.phases.items()
            )
        )
    for code, county in result.counties.items():
        if not county.get("decided", True):
            lines.append(
                f"  {code} {county['name']}：{county['households']} 户，"
                "两侧决策表与标准相同，决策不变（未重新计算）"
            )
            continue
        lines.append(
            f"  {code} {county['name']}：{county['households']} 户中 {county['changed']} 户变化"
        )
        for move in county["moves"]:
            lines.append(
                f"      {group_cn(move['from'])} → {group_cn(move['to'])}：{move['households']} 户"
            )
        for direction, word in (("gained", "新获得"), ("lost", "失去")):
            for item, n in county[direction].items():
                lines.append(f"      {word} {value_cn(item)}：{n} 户")
    shown = result.rows[: max(limit, 0)]
    if shown:
        lines.append(f"  变化的家庭（列出 {len(shown)} 户）：")
        for row in shown:
            parts = [
                f"{group_cn(row['old_group'])} → {group_cn(row['new_group'])}"
                if row["old_group"] != row["new_group"]
                else group_cn(row["new_group"])
            ]
            if row["gained"]:
                parts.append("获得 " + "、".join(value_cn(e) for e in row["gained"]))
            if row["lost"]:
                parts.append("失去 " + "、".join(value_cn(e) for e in row["lost"]))
            if row["old_monitoring"] != row["new_monitoring"]:
                parts.append(
                    f"监测 {_monitoring(row['old_monitoring'])} → {_monitoring(row['new_monitoring'])}"
                )
            parts.extend(text for text in detail_changes(row).values() if text)
            lines.append(
                f"    {row['household_id']}（{row['county_code']}）：{'；'.join(parts)}"
            )
    hidden = result.changed - len(shown)
    if hidden > 0:  # --limit 0 lists none: still say how many are not listed
        lines.append(
            f"    ……另有 {hidden} 户未列出（使用 --format json 或 --limit 查看）"
        )
    return lines


def detail_changes(row: dict) -> dict[str, str]:
    """A changed household's tekun members, phase-out and alerts, each as a Chinese
    phrase (empty when that part did not change), keyed by its column name."""
    tekun = []
    if row.get("tekun_gained"):
        tekun.append("新增特困成员 " + "、".join(row["tekun_gained"]))
    if row.get("tekun_lost"):
        tekun.append("不再是特困成员 " + "、".join(row["tekun_lost"]))
    before = _span(row.get("old_phase_out_from"), row.get("old_phase_out_until"))
    after = _span(row.get("new_phase_out_from"), row.get("new_phase_out_until"))
    alerts = []
    if row.get("alerts_gained"):
        alerts.append("新预警 " + "、".join(_alert(a) for a in row["alerts_gained"]))
    if row.get("alerts_lost"):
        alerts.append("不再预警 " + "、".join(_alert(a) for a in row["alerts_lost"]))
    return {
        "特困成员": "；".join(tekun),
        "渐退期": f"渐退期 {before} → {after}" if before != after else "",
        "预警": "；".join(alerts),
    }


def _span(first: str | None, last: str | None) -> str:
    if first is None and last is None:
        return "无"
    return f"{first or '？'} 至 {last or '？'}"


def _alert(alert: dict) -> str:
    who = f"（成员 {alert['person_id']}）" if alert.get("person_id") else ""
    return f"{value_cn(str(alert['type']))}{who}到期 {alert['due']}"


def _monitoring(status: str | None) -> str:
    return MONITORING_CN.get(status or "none", status or "none")


__all__ = ["FIELD_CN", "LAYER_CN", "detail_changes", "impact_lines", "render_text"]
