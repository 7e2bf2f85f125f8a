"""样本预览: decisions for the shipped samples or uploaded households, with the rules
that applied; choosing a household shows ``jiuzhu explain``'s explanation."""

from __future__ import annotations

import hashlib
import re

import pandas as pd
import streamlit as st

from compiler.vocabulary import trace_outcome_cn
from console import pending, ui, uploads, workspace

ctx = ui.context()
ui.header(ctx, "样本预览")
# by default the day the working copy's new standards take effect, as 「标准与规则」
# shows their effect: previewed today they showed the old standard (helper-133)
default = pending.default_day(ctx, ui.checked(ctx), "preview_as_of")
day = ui.read_date(ui.date_field(st, "决策日", "preview_as_of", default), "决策日")
if day is None:
    st.stop()
st.caption(pending.day_said(day, default, ctx.settings.today()))
result = ui.checked(ctx, as_of=day)
folder = ctx.settings.state / "uploads" / ctx.county / re.sub(r"[^\w.\-]", "_", ctx.user.name)
SHIPPED = "随附的样本家庭（tables/samples）"

generation = st.session_state.get("_uploads_generation", 0)  # a new uploader after a deletion
with st.expander("上传家庭数据（格式同 jiuzhu evaluate）"):
    st.caption("一个 .jsonl 或 .json 文件；或 CSV、Parquet 的一组文件：家庭 households.csv、成员 members.csv，"
               "有事件时再加 events.csv（文件名前缀相同，如 2025-households.csv 与 2025-members.csv），"
               "一起选中上传，或打包成一个 .zip 上传。Excel 工作簿（.xlsx）不能直接预览，请把各表另存为 CSV（UTF-8）。"
               f"一次最多预览 {workspace.PREVIEW_LIMIT:,} 户，每个文件不超过 {ui.upload_limit_mb()} MB；"
               "上传的文件保存在服务器上只属于你的文件夹中，直到你在下方删除。")
    # no ``type``: Streamlit refuses other kinds in English ("… files are not
    # allowed"); uploads.save refuses them in Chinese, saying what to upload instead
    files = st.file_uploader("家庭数据文件（可多选）", accept_multiple_files=True,
                             help=ui.upload_help("家庭数据 .jsonl、.json，或 CSV、Parquet 的一组文件，或一个 .zip"),
                             key="households_upload" if not generation else f"households_upload-{generation}")
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


def delete_uploads() -> None:
    """Delete an uploaded file (a households file with its members and events files)
    once the user ticks that they mean it; the uploader starts empty again, so the
    files it still held are not saved once more."""
    deleted = st.session_state.pop("_households_deleted", None)
    if deleted:
        st.success(deleted, icon=":material/delete:")
    kept = {uploads.label(p): p for p in uploads.sources(folder)}
    kept.update({f"上传：{p.name}": p for p in uploads.leftovers(folder)})
    if not kept:
        return
    with st.expander(f"删除上传的文件（{len(kept)} 组）"):
        chosen = st.selectbox("要删除的文件", list(kept), key="delete_choice", placeholder="请选择")
        sure = st.checkbox("我确认删除所选的文件（删除后无法恢复）", key=f"delete_sure-{generation}")
        if st.button("删除", key="delete_upload", disabled=not sure) and chosen in kept:
            removed = uploads.remove(kept[chosen])
            workspace.forget(kept[chosen])
            st.session_state["_uploads_generation"] = generation + 1
            st.session_state.pop("_households_batch", None)
            st.session_state["_households_deleted"] = f"已删除 {'、'.join(removed)}。"
            st.rerun()


delete_uploads()
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
if preview.refused:
    st.error(preview.refused, icon=":material/block:")
    st.stop()
if preview.problems:
    st.error("无法为这些家庭作出决策：")
    ui.diagnostics_list(preview.problems)
    st.stop()
if not preview.rows:
    st.info(f"{households.name} 中没有属于 {ctx.county} 的家庭。")
    st.stop()


HOUSEHOLDS_LISTED = 50  # ids offered in the chooser at once


def money(value: object) -> str | None:
    return None if value is None else f"{value:,.2f}"


groups = [ui.group_cn(r.get("group")) for r in preview.rows]
table = pd.DataFrame({
    "家庭编号": [r["household_id"] for r in preview.rows],
    "救助类别": groups,
    "人均月收入（元）": [money(r.get("income_per_capita")) for r in preview.rows],
    "低保标准（元）": [money(r.get("dibao_standard")) for r in preview.rows],
    "边缘标准（元）": [money(r.get("marginal_line")) for r in preview.rows],
    "享受的救助": [ui.entitlements_cn(r.get("entitlements")) for r in preview.rows],
    "监测": [ui.monitoring_cn(r.get("monitoring")) for r in preview.rows],
    "命中的家庭层级规则": [r.get("rules") or "" for r in preview.rows],
})
st.caption(f"{len(preview.rows)} 户 · 决策用时 {preview.seconds:.2f} 秒 · 决策日 {day}")
st.dataframe(table, hide_index=True, width="stretch", height=320, placeholder="")

# by dict: ids.index per option made 20,000 households take seconds (helper-51)
position = {str(r["household_id"]): n for n, r in enumerate(preview.rows)}
# a few ids at a time: a selectbox of every id sent 20,000 options (650 kB) to the browser
typed = st.text_input("查找家庭编号", key="household_search", placeholder="输入家庭编号或其中一段",
                      help=f"下方列出编号含所输入文字的前 {HOUSEHOLDS_LISTED} 户；完整输入编号时该户排在最前")
shown_ids, found = ui.matching(list(position), typed, HOUSEHOLDS_LISTED)
if not shown_ids:
    st.info(f"没有编号含「{ui.typed_text(typed)}」的家庭（共 {len(position):,} 户）。")
    st.stop()
if found > len(shown_ids):
    st.caption(f"编号含「{ui.typed_text(typed)}」的有 {found:,} 户，下面列出前 {len(shown_ids)} 户；多输入几个字以缩小范围。"
               if typed.strip() else f"共 {found:,} 户，下面列出前 {len(shown_ids)} 户；在上面输入编号查找其他家庭。")
if st.session_state.get("_household_search_seen") != typed or st.session_state.get("household_choice") not in shown_ids:
    st.session_state["household_choice"] = shown_ids[0]  # a new search: its best match
st.session_state["_household_search_seen"] = typed
chosen = st.selectbox("选择一户查看理由", shown_ids, key="household_choice", placeholder="请选择",
                      format_func=lambda i: f"{i} · {groups[position[i]]}")
row = preview.rows[position[chosen]]
left, right = st.columns([3, 2])
with left:
    st.subheader("这一户的决策理由")
    text = ui.explained(ctx, result, households, chosen)
    # the console's folders cut by name: ui.unpathed also cut 「//127.0.0.1:1/」 out of
    # an id such as [点我](http://127.0.0.1:1/), which is shown as written (helper-51)
    for folder_shown in (ctx.root, households.parent, ctx.settings.tables, ctx.settings.state):
        text = text.replace(f"{folder_shown.resolve()}/", "").replace(f"{folder_shown}/", "")
    # as written: st.markdown read ids such as P~1~ or [点我](…) as strikethrough or a
    # link (helper-51); st.text keeps the line breaks and the indentation
    st.text(text, width="stretch")
with right:
    st.subheader("命中的规则")
    trace = preview.trace(row["household_id"])
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
    ]), hide_index=True, width="stretch", placeholder="")
