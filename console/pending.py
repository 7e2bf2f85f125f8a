"""The day from which the working copy's pending change first decides anything: the
decision date that 「标准与规则」 (its effect on the samples) and 「样本预览」 both
default to, so that the two pages show a new standard on the same day."""

from __future__ import annotations

from datetime import date

import streamlit as st

from console import ui, workspace


def pending_day(ctx: ui.Context, checked: workspace.Checked) -> date | None:
    """The earliest day after today from which a standard of the working copy's own
    rows has another value than in the version the draft started from (next year's
    standards entered today, say); None with no draft or no such day (helper-51,
    helper-133). ``checked`` is the working copy checked as of today."""
    if ctx.draft is None:
        return None
    today = ctx.settings.today()
    county_file = next(iter(sorted((ctx.settings.tables / "counties").glob(f"{ctx.county}*"))), None)
    # a draft based on no version compares with the county workbook, which may change
    changed = county_file.stat().st_mtime_ns if county_file is not None and not ctx.draft.base else 0
    key = (ctx.county, ctx.draft.base, ctx.draft.base_hash, today, changed)
    kept = st.session_state.get("_pending_base")
    if not kept or kept[0] != key:
        base = workspace.base_standards(ctx.settings.registry, ctx.settings.tables, ctx.county,
                                        ctx.draft.base, today)
        kept = (key, base)
        st.session_state["_pending_base"] = kept
    return workspace.first_new_date(checked, kept[1], today)


def default_day(ctx: ui.Context, checked: workspace.Checked, key: str) -> date:
    """``pending_day`` or today; the date field ``key`` is set to it again whenever it
    changes (a new edit), else kept as the user typed it."""
    default = pending_day(ctx, checked) or ctx.settings.today()
    if st.session_state.get(f"_{key}_default") != (ctx.county, default):
        st.session_state[f"_{key}_default"] = (ctx.county, default)
        st.session_state[key] = default.isoformat()
    return default


def day_said(day: date, default: date, today: date) -> str:
    """Which decision date a page uses and why, for the line under its date field."""
    if default != today and day == default:
        return (f"按工作副本中 {default} 起生效的新标准预览：工作副本有尚未发布、今天（{today}）以后"
                f"才生效的标准参数，决策日默认为其中最早的生效日期（与「标准与规则」页相同）。可改为任意一天。")
    if default != today:
        return f"按你填写的决策日 {day} 预览；工作副本中的新标准 {default} 起生效。"
    if day == today:
        return f"决策日为今天（{today}）：工作副本中没有今天以后才生效的新标准。可改为任意一天。"
    return f"按你填写的决策日 {day} 预览。"
