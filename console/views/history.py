"""历史与对比: the county's published versions; any two of them, or one and the working
copy, compared cell by cell and household by household."""

from __future__ import annotations

from datetime import date

import streamlit as st

from console import diffview, ui, workspace

ctx = ui.context()
ui.header(ctx, "历史与对比")
registry = ctx.settings.registry
history = workspace.versions(registry, ctx.county)
current = workspace.in_force(registry, ctx.county, ctx.settings.today())

st.subheader("已发布的版本")
if not history:
    st.info("本县还没有已发布的版本；决策使用工作副本。")
else:
    if current is not None:
        st.markdown(f"**现行版本：{current.label}**（第 {current.number} 版，{current.effective_from} 起生效，"
                    f"{current.author} 发布）　共 {len(history)} 个版本，最新为 {history[-1].label}")
    withdrawn_by = {v.withdraws: v.number for v in history if v.kind == "withdraw"}
    ui.table([
        {"版本": f"第 {v.number} 版", "标识": v.label, "生效日期": v.effective_from,
         "现行": "★ 现行" if current is not None and v.number == current.number else "",
         "类型": f"撤回第 {v.withdraws} 版" if v.kind == "withdraw" else "发布",
         "撤回": f"已被第 {withdrawn_by[v.number]} 版撤回" if v.number in withdrawn_by else "",
         "说明": v.note, "发布人": v.author, "发布时间": v.published_at[:19].replace("T", " "),
         "哈希": v.hash[:12]}
        for v in reversed(history)
    ])
    if ctx.editable:
        st.caption("撤回某个版本（发布一个恢复此前内容的新版本，被撤回的版本仍保留）在「撤回版本」页。")

WORKING = f"{ctx.county}（{ctx.source}）"
choices = [v.label for v in reversed(history)] + [WORKING]
st.subheader("比较两个版本")
left, right, when = st.columns([2, 2, 1])
old_first, new_first = diffview.default_sides([v.label for v in history], WORKING, ctx.editable)
old = left.selectbox("原来", choices, index=choices.index(old_first), key="diff_old",
                     placeholder="请选择")
new = right.selectbox("现在", choices, index=choices.index(new_first), key="diff_new",
                      placeholder="请选择")
st.caption(diffview.sides_said(old_first, new_first, WORKING, ctx.editable))


def ref(choice: str) -> str:
    return ctx.county if choice == WORKING else choice


# by default the first day the two decide differently, not today: next year's
# standards compared on today changed no household (helper-89)
as_of_read = diffview.decision_day(ctx, when, "diff_as_of", ref(old), ref(new))
if as_of_read is None:
    st.stop()
as_of: date = as_of_read
with_samples = st.checkbox("同时比较样本家庭的决策（较慢）", value=True, key="diff_samples")

if st.button("比较", type="primary", key="diff_run"):
    if old == new:
        st.info("请选择两个不同的版本。")
    else:
        with st.spinner("正在比较……"):
            st.session_state["diff_result"] = (
                (old, new, as_of, with_samples, ctx.stamp),
                workspace.compare(ref(old), ref(new), ctx.root, registry,
                                  ctx.settings.samples if with_samples else None, as_of,
                                  today=ctx.settings.today(), day_said="你填写的日期"),
            )
stored = st.session_state.get("diff_result")
if stored and stored[0] == (old, new, as_of, with_samples, ctx.stamp):
    diffview.show(stored[1], "原来", "现在")
