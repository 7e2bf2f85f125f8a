"""样本预览: decisions for the shipped samples or uploaded households, with the rules
that applied; choosing a household shows ``jiuzhu explain``'s explanation."""

from __future__ import annotations

import hashlib
import re

import pandas as pd
import streamlit as st

from compiler.vocabulary import trace_outcome_cn
from console import ui, uploads, workspace

ctx = ui.context()
ui.header(ctx, "样本预览")
# a standard from next year is previewed on a day it is in force (helper-39)
day = ui.read_date(ui.date_field(st, "决策日", "preview_as_of", ctx.settings.today()), "决策日")
if day is None:
    st.stop()
result = ui.checked(ctx, as_of=day)
folder = ctx.settings.state / "uploads" / ctx.county / re.sub(r"[^\w.\-]", "_", ctx.user.name)
SHIPPED = "随附的样本家庭（tables/samples）"

with st.expander("上传家庭数据（格式同 jiuzhu evaluate）"):
    st.caption("一个 .jsonl 或 .json 文件；或 CSV、Parquet 的一组文件：家庭 households.csv、成员 members.csv，"
               "有事件时再加 events.csv（文件名前缀相同，如 2025-households.csv 与 2025-members.csv），"
               "一起选中上传，或打包成一个 .zip 上传。")
    files = st.file_uploader("家庭数据文件（可多选）", type=["jsonl", "json", "csv", "parquet", "zip"],
                             accept_multiple_files=True, key="households_upload")
    batch = [(f.name, f.getvalue()) for f in files or []]
    digest = [(name, hashlib.sha256(data).hexdigest()) for name, data in batch]
    if batch and st.session_state.get("_households_batch") != digest:
        st.session_state["_households_batch"] = digest
        st.session_state["_households_saved"] = uploads.save(folder, batch)
        chosen = st.session_state["_households_saved"].chosen
        if chosen:
            st.session_state["households_source"] = uploads.label(folder / chosen)
    saved: uploads.Saved | None = st.session_state.get("_households_saved") if batch else None
    for problem in saved.problems if saved else []:
        st.error(problem, icon=":material/block:")
    if saved and saved.written:
        st.success(f"已保存 {'、'.join(saved.written)}；只预览其中属于 {ctx.county} 的家庭。")

choices = {SHIPPED: ctx.settings.samples}
choices.update({uploads.label(p): p for p in uploads.sources(folder)})
if st.session_state.get("households_source") not in choices:
    st.session_state["households_source"] = SHIPPED
label = st.selectbox("家庭数据", list(choices), key="households_source", placeholder="请选择")
households = choices[label]

calendar = [d for d in result.warnings if d.code == "W403"]  # a year with no holiday schedule
if calendar:
    ui.diagnostics_list(calendar)
early = ui.before_standards(result.errors, day, "决策日")
if early:  # the 标准与规则 page checks as of today and would show no error
    st.error(f"无法预览：{early}")
    st.stop()
if result.errors:
    st.error(f"工作副本有 {len(result.errors)} 个错误，改正后才能预览。请到「标准与规则」页查看。")
    st.stop()
with st.spinner("正在作出决策……"):
    preview = ui.previewed(ctx, result, households)
if preview.problems:
    st.error("无法为这些家庭作出决策：")
    ui.diagnostics_list(preview.problems)
    st.stop()
if not preview.rows:
    st.info(f"{households.name} 中没有属于 {ctx.county} 的家庭。")
    st.stop()


def rules_applied(trace: object) -> str:
    entries = trace if isinstance(trace, list) else []
    return "；".join(f"{e.get('table')}:{e.get('rule') or '默认'}" for e in entries
                     if isinstance(e, dict) and not e.get("person_id"))


def money(value: object) -> str | None:
    return None if value is None else f"{value:,.2f}"


table = pd.DataFrame([
    {
        "家庭编号": r["household_id"],
        "救助类别": ui.group_cn(r.get("group")),
        "人均月收入（元）": money(r.get("income_per_capita")),
        "低保标准（元）": money(r.get("dibao_standard")),
        "边缘标准（元）": money(r.get("marginal_line")),
        "享受的救助": ui.entitlements_cn(r.get("entitlements")),
        "监测": ui.monitoring_cn(r.get("monitoring")),
        "命中的家庭层级规则": rules_applied(r.get("trace")),
    }
    for r in preview.rows
])
st.caption(f"{len(preview.rows)} 户 · 决策用时 {preview.seconds:.2f} 秒 · 决策日 {day}")
st.dataframe(table, hide_index=True, width="stretch", height=320)

ids = [str(r["household_id"]) for r in preview.rows]
chosen = st.selectbox("选择一户查看理由", ids, key="household_choice", placeholder="请选择",
                      format_func=lambda i: f"{i} · {table.loc[ids.index(i), '救助类别']}")
row = preview.rows[ids.index(chosen)]
left, right = st.columns([3, 2])
with left:
    st.subheader(f"家庭 {chosen} 的决策理由")
    text = ui.unpathed(workspace.explain_text(result, households, chosen).replace(f"{ctx.root}/", ""))
    lines = [line.replace("    ", "　　") for line in text.splitlines()]
    st.markdown("  \n".join(line.replace("*", "\\*") for line in lines))
with right:
    st.subheader("命中的规则")
    trace = [e for e in (row.get("trace") or []) if isinstance(e, dict)]
    tables = result.plan.tables if result.plan is not None else {}

    def title(ident: object) -> str:  # the table's Chinese title, as the explanation names it
        table = tables.get(str(ident))
        return table.title if table is not None and table.title else str(ident)

    def outcome(ident: object, value: object) -> object:  # in words, as the explanation says it
        table = tables.get(str(ident))
        if table is None or not isinstance(value, str):
            return value
        return trace_outcome_cn(value, [o.dtype for o in table.outputs])

    st.dataframe(pd.DataFrame([
        {"决策表": title(e.get("table")), "成员": e.get("person_id") or "", "规则": e.get("rule") or "（默认）",
         "结果": outcome(e.get("table"), e.get("outcome")), "依据": e.get("section")}
        for e in trace
    ]), hide_index=True, width="stretch")
