"""Showing a ``workspace.Comparison``: the diff dict of ``compiler.diff`` as tables, the
impact as a chart of households per group before and after and the list of movers,
and the CLI's own text of the same diff for anyone who wants to compare, under the
command that prints it: the decision date written out, and how it was chosen."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from compiler.diff_rulebooks import is_empty
from compiler.diff_text import FIELD_CN, detail_changes
from console import ui, workspace
from console.workspace import Comparison

STATUS_CN = {"added": "新增", "removed": "删除", "changed": "修改"}
LAYER_CN = {"county": "县级", "city": "市级", "province": "省级", None: ""}


def show(comparison: Comparison, old_name: str = "之前", new_name: str = "之后") -> None:
    if comparison.problems:
        st.error("无法比较：")
        ui.diagnostics_list(comparison.problems)
        return
    st.caption(f"比较 {comparison.old_label} → {comparison.new_label} · 用时 {comparison.seconds:.2f} 秒")
    alike = comparison.dates.note_on(comparison.as_of) if comparison.dates and comparison.as_of else None
    if alike:  # a day on which the sides decide alike: 0 changed households says nothing
        st.warning(f"注意：{alike}。", icon=":material/event_busy:")
    for code, county in (comparison.tables or {}).get("counties", {}).items():
        tables_part(code, county)
    if comparison.impact_problems:
        st.warning("标准与决策表的差异见上；样本家庭在该决策日无法决策，未计算对家庭的影响：")
        ui.diagnostics_list(comparison.impact_problems)
    if comparison.impact is not None:
        impact_part(comparison, old_name, new_name)
    with st.expander("命令行格式（与 jiuzhu diff 的输出相同）"):
        st.code(command(comparison), language=None)
        st.code(comparison.text, language=None)


def command(comparison: Comparison) -> str:
    """The ``jiuzhu diff`` that prints ``comparison.text``, with the decision date
    written out (``--as-of``: run another day, it compares on the same day), and, as
    shell comments, how that date was chosen: the CLI's default without --as-of
    (``diff_dates.decision_day``), or the page's own reason and what the default is."""
    old, new = comparison.refs
    line = f"jiuzhu diff {_ref_shown(old)} {_ref_shown(new)}"
    if comparison.households is not None:
        line += f" --households {comparison.households.name} --limit 200"
    line += f" --as-of {comparison.as_of}"
    dates, day = comparison.dates, comparison.as_of
    if dates is None:
        notes = [f"决策日 {day}：{comparison.day_said or '本页所选的日期'}"]
    elif dates.day == day:
        notes = ["决策日与不写 --as-of 的 jiuzhu diff 所选的相同（这里写明，以后哪天运行都按同一天比较）：",
                 dates.text()]
    else:
        notes = [f"决策日 {day}：{comparison.day_said or '本页所选的日期'}；不写 --as-of 时 jiuzhu diff 选：",
                 dates.text()]
    working = [r for r in (old, new) if re.fullmatch(r"[0-9]{6}", r)]
    if working:  # the console's working copy is the admin's draft, not tables/counties/
        notes.append(f"{working[0]} 指工作副本：命令行读取 tables/counties/ 中的本县工作簿，"
                     "可先在「标准与规则」页下载工作副本放到那里")
    return "\n".join([line, *(f"# {note}" for note in notes)])


def _ref_shown(ref: str) -> str:
    """A side as typed on the command line: a path by its place in the tables folder
    (tables/counties/330106-西湖区.xlsx), never the server's full path."""
    path = Path(ref)
    return "/".join(path.parts[-3:]) if path.is_absolute() else ref


def decision_day(ctx: ui.Context, where: Any, key: str, old_ref: str, new_ref: str) -> date | None:
    """The decision date of a diff of two sides, a date field set to the first day they
    decide differently (``diff_dates.decision_day``, said below it with why and the
    other days) whenever that changes, unless the user typed a day of their own."""
    today = ctx.settings.today()
    found = (old_ref, new_ref, ctx.stamp, today)
    kept = st.session_state.get(f"_{key}_dates")
    if not kept or kept[0] != found:
        kept = (found, workspace.decision_day(old_ref, new_ref, ctx.root, ctx.settings.registry, today))
        st.session_state[f"_{key}_dates"] = kept
    dates = kept[1]
    default = dates.day if dates is not None else today
    before = st.session_state.get(f"_{key}_default")
    if before != default:
        if key not in st.session_state or st.session_state[key] == (before or default).isoformat():
            st.session_state[key] = default.isoformat()
        st.session_state[f"_{key}_default"] = default
    day = ui.read_date(ui.date_field(where, "决策日", key, default), "决策日", where)
    if dates is not None:
        st.caption(f"默认{dates.text()}。" + ("" if day in (None, default) else f"现按你填写的 {day} 决策。"))
    return day


def value(v: object) -> str:
    if v is None or v == "":
        return "（无）"
    if isinstance(v, bool):
        return "是" if v else "否"
    if isinstance(v, Decimal):
        return format(v.normalize(), "f") if v == v.to_integral() else format(v, "f")
    return str(v)


def period(start: object, end: object) -> str:
    if start is None and end is None:
        return "全部时期"
    if start is None:
        return f"{end} 及以前"
    return f"{start} 起" if end is None else f"{start} 至 {end}"


def tables_part(code: str, county: dict[str, Any]) -> None:
    if is_empty(county):
        st.info(f"{code} {county.get('name', '')}：标准与决策表没有差异。")
        return
    if county["standards"]:
        st.markdown("**标准参数**")
        rows = []
        for s in county["standards"]:
            for p in s["periods"]:
                rows.append({"标准": f"{s['name'] or s['id']}（{s['id']}）", "变化": STATUS_CN[s["status"]],
                             "时期": period(p["from"], p["until"]),
                             "原来": f"{value(p['old'])} {LAYER_CN.get(p['old_layer'], '')}".strip(),
                             "现在": f"{value(p['new'])} {LAYER_CN.get(p['new_layer'], '')}".strip(),
                             "单位": s["unit"]})
            for a in s["attributes"]:
                rows.append({"标准": f"{s['name'] or s['id']}（{s['id']}）", "变化": FIELD_CN.get(a["field"], a["field"]),
                             "时期": str(a.get("from") or ""), "原来": value(a["old"]),
                             "现在": value(a["new"]), "单位": ""})
        ui.table(rows)
    if county["derived"] or county["derived_values"]:
        st.markdown("**派生值**")
        rows = [{"派生值": f"{d['name'] or d['id']}", "变化": STATUS_CN[d["status"]],
                 "项目": FIELD_CN.get(c["field"], c["field"]), "原来": value(c["old"]), "现在": value(c["new"])}
                for d in county["derived"] for c in (d["changes"] or [{"field": "表达式", "old": None,
                                                                        "new": d["expr"]}])]
        rows += [{"派生值": v["name"] or v["id"], "变化": "取值", "项目": "决策日的取值",
                  "原来": value(v["old"]), "现在": value(v["new"])} for v in county["derived_values"]]
        ui.table(rows)
    for t in county["tables"]:
        named = " ".join(str(part) for part in (t["id"], t["title"]) if part)
        st.markdown(f"**决策表 {named}**（{STATUS_CN[t['status']]}）")
        rows = [{"规则": "（表）", "列": FIELD_CN.get(c["field"], c["field"]), "原来": value(c["old"]), "现在": value(c["new"]),
                 "变化": "修改"} for c in t["changes"]]
        for r in t["rules"]:
            if r["status"] == "changed":
                rows += [{"规则": r["id"], "列": c["column"], "原来": value(c["old"]), "现在": value(c["new"]),
                          "变化": "修改"} for c in r["cells"]]
            else:
                rows += [{"规则": r["id"], "列": c["column"],
                          "原来": value(c["value"]) if r["status"] == "removed" else "",
                          "现在": value(c["value"]) if r["status"] == "added" else "",
                          "变化": STATUS_CN[r["status"]]} for c in r["cells"]]
        if t.get("order_changed"):
            rows.append({"规则": "（顺序）", "列": "", "原来": "", "现在": "规则顺序改变", "变化": "修改"})
        if rows:
            ui.table(rows)
    if county["fields"] or county["calendar"]:
        st.markdown("**字段与日历**")
        rows = [{"项目": f"字段 {f['id']}", "变化": STATUS_CN[f["status"]],
                 "内容": "；".join(f"{FIELD_CN.get(c['field'], c['field'])}：{value(c['old'])} → {value(c['new'])}" for c in f["changes"])}
                for f in county["fields"]]
        rows += [{"项目": f"日历 {d['date']}", "变化": STATUS_CN[d["status"]], "内容": f"{d['type']} {d['note'] or ''}".strip()}
                 for d in county["calendar"]]
        ui.table(rows)
    if county["sheets"]:
        st.markdown("**其他工作表（说明等）**")
        rows = [{"工作表": sheet["sheet"], "变化": STATUS_CN[sheet["status"]], "行": "", "原来": "", "现在": ""}
                for sheet in county["sheets"] if sheet["status"] != "changed"]
        rows += [{"工作表": sheet["sheet"], "变化": "修改", "行": str(row["row"]),
                  "原来": " | ".join(row["old"]), "现在": " | ".join(row["new"])}
                 for sheet in county["sheets"] for row in sheet["rows"]]
        ui.table(rows)


def impact_part(comparison: Comparison, old_name: str, new_name: str) -> None:
    impact = comparison.impact
    st.markdown("**对家庭决策的影响**")
    left, middle, right = st.columns(3)
    left.metric("比较的家庭", impact.households)
    middle.metric("决策改变的家庭", impact.changed)
    right.metric("决策日", str(impact.as_of))
    # households of counties whose two sides compile alike are not decided again
    # (nothing of theirs can change): a chart of only zeros read as "no households"
    decided = sum(comparison.totals.get("old", {}).values())
    if not decided:
        st.info(f"两个版本对这 {impact.households} 户的决策规则和标准完全相同，未重新决策；决策不会改变。")
        return
    if decided < impact.households:
        st.caption(f"其中 {impact.households - decided} 户所在县的两个版本完全相同，未重新决策，不计入下图。")
    order = list(ui.GROUP_CN)
    sides = [f"{old_name}（{comparison.old_label}）", f"{new_name}（{comparison.new_label}）"]
    data = pd.DataFrame([
        {"类别": ui.group_cn(g), "版本": name, "户数": comparison.totals.get(key, {}).get(g, 0), "次序": i}
        for key, name in zip(("old", "new"), sides, strict=True)
        for i, g in enumerate(order)
    ])
    # the old side first and in the same colour whatever the labels (they sorted), and
    # whole households on the axis (an empty chart read 0.000000; helper-39)
    chart = alt.Chart(data).mark_bar().encode(
        x=alt.X("类别:N", sort=[ui.group_cn(g) for g in order], title=None, axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("版本:N", sort=sides),
        y=alt.Y("户数:Q", title="户数", axis=alt.Axis(format="d", tickMinStep=1)),
        color=alt.Color("版本:N", title=None, legend=alt.Legend(orient="top"),
                        scale=alt.Scale(domain=sides, range=["#9e9e9e", "#1f77b4"])),
        tooltip=["版本", "类别", "户数"],
    ).properties(height=280)
    st.altair_chart(chart, width="stretch")
    if not impact.rows:
        st.success("没有家庭的类别、救助或监测状态改变。")
        return
    st.markdown(f"**决策改变的家庭（{impact.changed} 户）**")
    ui.table([
        {"家庭编号": r["household_id"], "原类别": ui.group_cn(r["old_group"]), "新类别": ui.group_cn(r["new_group"]),
         "新获得": ui.entitlements_cn(r["gained"]), "失去": ui.entitlements_cn(r["lost"]),
         "监测": f"{ui.monitoring_cn(r['old_monitoring'])} → {ui.monitoring_cn(r['new_monitoring'])}"
         if r["old_monitoring"] != r["new_monitoring"] else "",
         **detail_changes(r)}
        for r in impact.rows
    ])


def default_sides(labels: list[str], working: str, editable: bool) -> tuple[str, str]:
    """The two sides 「历史与对比」 compares by default, of the county's versions
    ``labels`` (oldest first) and its working copy ``working``: for a county admin the
    latest version against their working copy (what publishing it would change); for a
    reader, whose working copy is the workbook in tables/ (often the content before the
    latest version), the latest version against the one before it, so that what the
    newest version changes reads the right way round (helper-133). With one version a
    reader gets it against the working copy, the only other side there is."""
    if not labels:
        return working, working
    if editable or len(labels) == 1:
        return labels[-1], working
    return labels[-2], labels[-1]


def sides_said(old: str, new: str, working: str, editable: bool) -> str:
    """Why the page chose these two sides by default, for the line under them."""
    if old == new:
        return "本县还没有已发布的版本，无可比较。"
    if new != working:
        return (f"默认比较最新的已发布版本 {new} 与其前一版 {old}：即最新版本改变了什么。"
                "可改选任意两个版本或工作副本。")
    if editable:
        return (f"默认比较最新的已发布版本 {old} 与你的工作副本：即现在发布会改变什么。"
                "可改选任意两个版本。")
    return (f"本县只有一个已发布的版本，默认比较 {old} 与 tables 文件夹中的工作簿。"
            "可改选其他项。")
