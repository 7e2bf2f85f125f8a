"""撤回版本: withdraw a published version as ``jiuzhu publish --withdraw N`` does. A
new version restoring the content in force before it is published; the withdrawn one
stays in the registry. A reason is required; a review shows what is restored and its
effect on the samples, with the CLI's refusals; a ticked confirmation withdraws."""

from __future__ import annotations

import dataclasses

import streamlit as st

from compiler.errors import JiuzhuError
from console import diffview, drafts, ui, workspace

ctx = ui.context(require_edit=True)
assert ctx.draft is not None
ui.header(ctx, "撤回版本")
registry = ctx.settings.registry
draft = drafts.reload(ctx.draft)
history = workspace.versions(registry, ctx.county)
current = history[-1].number if history else 0
W701_HINT = ("如需撤回在较晚版本生效之后也适用，请同样撤回较晚的版本，或在「发布」页发布一版去掉这些改动的新版本；"
             "「历史与对比」页列出各版本的生效日期")


def done(message: str, overtaken: object) -> None:
    """What the last withdrawal did, then what the working copy needs (the CLI prints
    the jiuzhu export that brings it in line; here that is restarting the draft)."""
    st.success(message, icon=":material/check_circle:")
    if overtaken is not None:
        ui.diagnostics_list([dataclasses.replace(overtaken, hint=W701_HINT)])  # type: ignore[type-var]


shown = st.session_state.pop("withdrawn", None)
if shown:
    done(*shown)
if current < draft.base:  # the header's banner has said E705
    st.stop()
if current != draft.base:
    st.error(f"撤回暂不可用：本县最新已是第 {current} 版，你的工作副本基于第 {draft.base} 版。"
             "请先到「发布」页查看同事发布的版本并选择如何处理，再来撤回。")
    st.stop()
if not history:
    st.info("本县还没有已发布的版本，没有可撤回的版本。")
    st.stop()

followup = st.session_state.get("withdraw_restart")
if followup == current:  # the draft may still hold the withdrawn content (E710 on publish)
    st.warning(f"你的工作副本可能仍是被撤回版本的内容：照原样发布会被拒绝（E710）。请先让工作副本与第 {current} 版一致，"
               "再在其上修改（命令行中是撤回后打印的 jiuzhu export 命令）。", icon=":material/warning:")
    sure = st.checkbox("我确认放弃工作副本中尚未发布的修改（如有）", key="withdraw_restart_sure")
    if st.button(f"从第 {current} 版重新开始", key="withdraw_restart_button", disabled=not sure):
        drafts.start_draft(ctx.settings, ctx.county, ctx.user.name)
        st.session_state.pop("withdraw_restart", None)
        st.rerun()

st.caption("撤回不会删除或改动任何已发布的版本：它发布一个新版本（类型为「撤回」），自被撤回版本的生效日期起"
           "恢复此前生效的内容；被撤回的版本仍保留在登记簿中，「历史与对比」页照常列出。与命令行 "
           "jiuzhu publish --withdraw 相同。")
by_number = {v.number: v for v in history}


def label(number: int) -> str:
    v = by_number[number]
    kind = f"撤回第 {v.withdraws} 版 · " if v.kind == "withdraw" else ""
    note = v.note if len(v.note) <= 30 else v.note[:29] + "……"
    return f"第 {v.number} 版（{v.label}）· {v.effective_from} 起生效 · {kind}{note}"


number = st.selectbox("要撤回的版本", sorted(by_number, reverse=True), key="withdraw_number",
                      format_func=label, placeholder="请选择")
target = by_number[number]
left, right = st.columns([1, 3])
effective_text = ui.date_field(left, "撤回生效日期", f"withdraw_effective-{number}", target.effective_from)
reason = right.text_area("撤回原因（必填）", key="withdraw_reason", height=80,
                         placeholder="例如：杭民发〔2025〕X 号文件暂缓执行")
effective = ui.read_date(effective_text, "撤回生效日期")
if effective is None:
    st.session_state.pop("withdraw_ready", None)
    st.stop()
left.caption(f"默认为第 {number} 版的生效日期 {target.effective_from}，不能早于该日")
key = (current, number, effective, reason.strip())

if st.button("撤回前核对", key="withdraw_review"):
    st.session_state.pop("withdraw_ready", None)
    if not reason.strip():
        st.error("请填写撤回原因。")
        st.stop()
    # the CLI's own refusals (E708, E704, E703), without changing the registry
    refusals = workspace.withdrawal_refusals(registry, ctx.county, number, reason.strip(),
                                             ctx.user.name, effective)
    if refusals:
        st.error("撤回被拒绝：")
        ui.diagnostics_list(refusals)
        st.stop()
    restored = workspace.restored_by(registry, ctx.county, number)
    with st.spinner("正在比较被撤回的版本与将恢复的版本，并计算对样本家庭的影响……"):
        comparison = workspace.compare(target.label, restored.label, ctx.root, registry,
                                       ctx.settings.samples, effective, today=ctx.settings.today(),
                                       day_said="撤回生效日期（撤回前核对按撤回生效日期比较）")
    st.session_state["withdraw_ready"] = (key, restored.label, comparison,
                                          workspace.superseded(registry, ctx.county, effective))

ready = st.session_state.get("withdraw_ready")
if ready and ready[0] == key:
    _, restored_label, comparison, later = ready
    st.subheader("撤回前核对")
    st.markdown(f"撤回 **{target.label}**：将发布第 {current + 1} 版（类型为「撤回」），自 {effective} 起恢复 "
                f"**{restored_label}** 的内容。{target.label} 本身保留在登记簿中，不会删除或改动。")
    today = ctx.settings.today()
    if effective < today:  # as the 发布 page and jiuzhu publish --withdraw say it
        st.warning(f"注意：撤回生效日期 {effective} 早于今天（{today}）；该日以后的决策按撤回后的内容重新作出时会与"
                   "已作出的不同，需要时在命令行用 jiuzhu evaluate --as-of 重新决策并核对。", icon=":material/history:")
    if later is not None:  # the CLI's W701: a later-dated version takes over from its date
        ui.diagnostics_list([dataclasses.replace(later, hint=W701_HINT)])
    diffview.show(comparison, f"被撤回的 {target.label}", f"恢复的 {restored_label}")
    sure = st.checkbox(f"我确认撤回第 {number} 版（原因：{reason.strip()}）", key="withdraw_sure")
    if st.button(f"确认撤回第 {number} 版", key="withdraw_confirm", type="primary", disabled=not sure):
        try:
            version = workspace.withdraw(registry, ctx.county, number, reason.strip(), ctx.user.name,
                                         draft.base, effective, root=ctx.root)
        except JiuzhuError as error:
            refusal = error.diagnostics
        else:
            # recorded before any other Streamlit call, as a publish is (a second click
            # or a reload stops this run at the next one)
            refusal = None
            drafts.set_base(draft, version.number, version.hash)
            st.session_state.pop("withdraw_ready", None)
            st.session_state["withdraw_restart"] = version.number
            said = (f"已撤回第 {number} 版：发布了 {version.label}（{version.county_name}，撤回第 {number} 版），"
                    f"自 {version.effective_from} 起生效；说明：{version.note}；发布人 {version.author}；"
                    f"哈希 {version.hash[:16]}。第 {number} 版仍保留在登记簿中，可在「历史与对比」页查看。")
            st.session_state["withdrawn"] = (said, workspace.overtaken(registry, version))
        if refusal is not None:
            st.error("撤回被拒绝：")
            ui.diagnostics_list([dataclasses.replace(d, hint="在左侧菜单中再次点「撤回版本」（不要刷新浏览器，刷新会退出登录）："
                                                     "页面会说明同事发布的版本，到「发布」页处理后再撤回")
                                 if d.code == "E702" else d for d in refusal])
            st.stop()
        st.rerun()
elif ready:
    st.caption("版本、日期或原因已改变，请重新进行撤回前核对。")
