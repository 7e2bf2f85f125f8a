"""The day from which the working copy's pending change first decides anything: the
decision date that 「标准与规则」 (its effect on the samples) and 「样本预览」 both
default to, so that the two pages show a new standard on the same day."""

from __future__ import annotations

from datetime import date

import streamlit as st

from console import ui, workspace

LAYER_CN = {"county": "工作副本", "city": "市级工作簿", "province": "省级工作簿"}
FOUND = "_pending_found"  # (day, layer) pending_day found last in this session


def pending_day(ctx: ui.Context, checked: workspace.Checked) -> date | None:
    """The earliest day after today from which a standard the working copy reads (its
    own rows, its city's, the province's) has another value than in the version the
    draft started from (next year's standards entered today, or the city's new 低保标准
    row); None with no draft or no such day (helper-51, helper-133, helper-137).
    ``checked`` is the working copy checked as of today."""
    st.session_state[FOUND] = None
    if ctx.draft is None:
        return None
    today = ctx.settings.today()
    # a draft based on no version compares with the tables/ workbooks (the county's and
    # its city's), which may change
    changed = tuple(
        path.stat().st_mtime_ns
        for folder, code in (("counties", ctx.county), ("cities", ctx.county[:4] + "00"))
        for path in sorted((ctx.settings.tables / folder).glob(f"{code}*"))[:1]
    ) if not ctx.draft.base else ()
    key = (ctx.county, ctx.draft.base, ctx.draft.base_hash, today, changed)
    kept = st.session_state.get("_pending_base")
    if not kept or kept[0] != key:
        base = workspace.base_standards(ctx.settings.registry, ctx.settings.tables, ctx.county,
                                        ctx.draft.base, today)
        kept = (key, base)
        st.session_state["_pending_base"] = kept
    found = workspace.first_new_change(checked, kept[1], today)
    if found is None:
        return None
    st.session_state[FOUND] = found
    return found[0]


def default_day(ctx: ui.Context, checked: workspace.Checked, key: str) -> date:
    """``pending_day`` or today; the date field ``key`` is set to it again whenever it
    changes (a new edit), else kept as the user typed it."""
    default = pending_day(ctx, checked) or ctx.settings.today()
    if st.session_state.get(f"_{key}_default") != (ctx.county, default):
        st.session_state[f"_{key}_default"] = (ctx.county, default)
        st.session_state[key] = default.isoformat()
    return default


def day_said(day: date, default: date, today: date) -> str:
    """Which decision date a page uses and why, for the line under its date field;
    a default that ``pending_day`` found in this run says where its new standard is:
    the working copy's own rows, or the city's (or the province's) workbook."""
    found = st.session_state.get(FOUND)
    layer = found[1] if found and found[0] == default else "county"
    where = LAYER_CN[layer]
    if default != today and day == default and layer != "county":
        return (f"按{where}中 {default} 起生效的新标准预览：本县读取的{where}中有与本县已发布版本不同、"
                f"今天（{today}）以后才生效的标准参数，决策日默认为其中最早的生效日期（与「标准与规则」页相同）；"
                f"本县重新发布后才按新标准决策。可改为任意一天。")
    if default != today and day == default:
        return (f"按工作副本中 {default} 起生效的新标准预览：工作副本有尚未发布、今天（{today}）以后"
                f"才生效的标准参数，决策日默认为其中最早的生效日期（与「标准与规则」页相同）。可改为任意一天。")
    if default != today:
        return f"按你填写的决策日 {day} 预览；{where}中的新标准 {default} 起生效。"
    if day == today:
        return f"决策日为今天（{today}）：工作副本中没有今天以后才生效的新标准。可改为任意一天。"
    return f"按你填写的决策日 {day} 预览。"

