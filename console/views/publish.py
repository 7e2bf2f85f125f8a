"""发布: an effective date and a note; before confirming, the diff against the version in
force on that date and the impact on the samples; refused, with the reasons, while the
working copy has errors or while a colleague's newer version is not taken in."""

from __future__ import annotations

import dataclasses
from typing import Any

import streamlit as st

from compiler.diagnostics import Diagnostic
from compiler.errors import JiuzhuError
from console import diffview, drafts, ui, workspace

EFFECTIVE_SAID = "发布的生效日期（发布前核对按生效日期比较）"

ctx = ui.context(require_edit=True)
assert ctx.draft is not None
ui.header(ctx, "发布")
registry = ctx.settings.registry


def settled() -> None:
    """Wait for a publish of this draft still running in another run: a second click
    on 「确认发布」 starts a new run at once (Streamlit's fast reruns), which read the
    old base and blamed the version just published on a colleague. After the wait the
    page reads the base, and the message, that publish recorded."""
    assert ctx.draft is not None
    lock = workspace.publishing(ctx.draft.folder)
    if not lock.acquire(blocking=False):
        with st.spinner("正在完成上一次点击的发布……"):
            lock.acquire()
    lock.release()


settled()
draft = drafts.reload(ctx.draft)
latest = workspace.latest(registry, ctx.county)
current = latest.number if latest else 0

done = st.session_state.pop("published", None)
if done:
    st.success(done, icon=":material/check_circle:")

if current < draft.base:  # the header's banner has said E705 (once: helper-39)
    st.stop()
if current != draft.base:
    st.error(f"发布暂不可用：本县最新已是第 {current} 版（{latest.author} 发布，{latest.effective_from} 起生效），"
             f"你的工作副本基于第 {draft.base} 版。先看清对方的改动，再选择如何处理。")
    # decided on the first day the two differ, not today (helper-89)
    when, _ = st.columns([1, 3])
    stale_day = diffview.decision_day(ctx, when, "stale_as_of", f"{ctx.county}@{current}", ctx.county)
    if stale_day is not None and st.button(f"查看第 {current} 版与我的工作副本的差异", key="stale_diff"):
        with st.spinner("正在比较……"):
            st.session_state["stale_comparison"] = workspace.compare(
                f"{ctx.county}@{current}", ctx.county, ctx.root, registry, ctx.settings.samples,
                stale_day, today=ctx.settings.today(), day_said="你填写的日期")
    shown = st.session_state.get("stale_comparison")
    if shown is not None and shown.as_of == stale_day:
        diffview.show(shown, f"第 {current} 版", "我的工作副本")
    keep, restart = st.columns(2)
    if keep.button(f"保留我的工作副本，以第 {current} 版为基线", key="stale_keep"):
        drafts.set_base(draft, current, latest.hash)
        st.session_state.pop("stale_comparison", None)
        st.rerun()
    sure = restart.checkbox("我确认放弃自己的修改", key="stale_sure")
    if restart.button(f"放弃我的修改，从第 {current} 版重新开始", key="stale_restart", disabled=not sure):
        drafts.start_draft(ctx.settings, ctx.county, ctx.user.name)
        st.session_state.pop("stale_comparison", None)
        st.rerun()
    st.stop()

st.caption(f"工作副本基于第 {draft.base} 版" if draft.base else "本县还没有已发布的版本，这将是第 1 版")
left, right = st.columns([1, 3])
effective_text = ui.date_field(left, "生效日期", "publish_effective", ctx.settings.today())
note = right.text_area("版本说明（必填）", key="publish_note", placeholder="例如：依据杭民发〔2025〕X 号调整低保标准",
                       height=80)
effective = ui.read_date(effective_text, "生效日期")
if effective is None:  # never go on with the date shown before
    st.session_state.pop("publish_ready", None)
    st.stop()
key = (ctx.stamp, effective, note.strip())

if st.button("发布前检查", key="publish_review", type="secondary"):
    if not note.strip():
        st.error("请填写版本说明。")
        st.stop()
    from compiler.registry_publish import check_note

    try:  # a note too long or with control characters: said here, not at the last click
        check_note(note.strip())
    except JiuzhuError as error:
        ui.diagnostics_list(error.diagnostics)
        st.stop()
    with st.spinner("正在检查工作副本（含一致性分析）……"):
        # as the publish itself checks: as of the effective date (a standard with no
        # value in force on it is an error there, whatever today's tables say)
        full = ui.checked(ctx, analysis=True, as_of=effective)
    early = ui.before_standards(full.errors, effective, "生效日期")
    if early:  # a date before the standards begin
        st.session_state.pop("publish_ready", None)
        st.error(f"发布被拒绝：{early}")
        with st.expander("逐条查看"):
            ui.diagnostics_list(full.errors, ui.placer(ctx))
        st.stop()
    if full.errors:
        st.session_state.pop("publish_ready", None)
        st.error(f"发布被拒绝：工作副本有 {len(full.errors)} 个错误。请在「标准与规则」页按下列诊断改正后再发布。")
        ui.diagnostics_list(full.errors, ui.placer(ctx))
        st.stop()
    baseline = workspace.in_force(registry, ctx.county, effective)
    comparison: workspace.Comparison | None = None
    with st.spinner("正在与现行版本比较，并计算对样本家庭的影响……"):
        if baseline is not None:
            comparison = workspace.compare(baseline.label, ctx.county, ctx.root, registry,
                                           ctx.settings.samples, effective, today=ctx.settings.today(),
                                           day_said=EFFECTIVE_SAID)
        else:  # nothing published yet: compare with the shared tables/ workbook instead
            shared = next(iter(sorted((ctx.settings.tables / "counties").glob(f"{ctx.county}*.xlsx"))), None)
            comparison = None if shared is None else workspace.compare(
                str(shared), ctx.county, ctx.root, registry, ctx.settings.samples, effective,
                today=ctx.settings.today(), day_said=EFFECTIVE_SAID)
            if comparison is not None:
                comparison.old_label = "tables 文件夹中的工作簿"
    if comparison is not None and any(d.is_error for d in comparison.impact_problems):
        # the publish decides the samples too, and would be refused at the last click
        st.session_state.pop("publish_ready", None)
        st.error("发布被拒绝：无法为样本家庭作出决策（发布时要计算对样本家庭的影响）。请按下列诊断改正后再发布。")
        ui.diagnostics_list(comparison.impact_problems, ui.placer(ctx))
        st.stop()
    overtaken = workspace.superseded(registry, ctx.county, effective)
    st.session_state["publish_ready"] = (key, baseline.label if baseline else None, comparison,
                                         len(full.warnings), overtaken)

def published(version: Any, repeated: bool = False) -> None:
    """Record a publish of this draft: its new base, and the message the next run shows
    (recorded before any other Streamlit call: a second click or a reload stops this
    run at the next one, and the version is published by then)."""
    if drafts.reload(draft).base != version.number:  # a waiting run finds it recorded
        drafts.set_base(draft, version.number, version.hash)
    for name in ("publish_ready", "publish_unchanged", "publish_withdrawn"):
        st.session_state.pop(name, None)
    again = "（重复点击未再次发布）" if repeated else ""
    st.session_state["published"] = (
        f"已发布 {version.label}{again}（{version.county_name}），{version.effective_from} 起生效；"
        f"哈希 {version.hash[:16]}。可在「历史与对比」页查看。")


def publish_once(allow_unchanged: bool, allow_withdrawn: bool) -> list[Diagnostic] | None:
    """Publish the draft unless a run of this same click (a double-click) published it
    already; the refusal, or None once published. One run at a time publishes a draft
    (``workspace.publishing``); a run that waited finds the base moved on by the
    version this admin just published from this content, and says 已发布, as it does
    when the registry refuses (E702) because that version is already there."""
    assert ctx.draft is not None
    with workspace.publishing(ctx.draft.folder):
        moved = drafts.reload(draft).base != draft.base
        again = workspace.published_just_now(registry, ctx.county, ctx.user.name, ctx.root,
                                             draft.base) if moved else None
        if again is not None:
            published(again, repeated=True)
            return None
        try:
            version = workspace.publish(ctx.root, ctx.county, effective, note.strip(), ctx.user.name,
                                        draft.base, registry, ctx.settings.samples,
                                        allow_unchanged=allow_unchanged, allow_withdrawn=allow_withdrawn)
        except JiuzhuError as error:
            if any(d.code == "E702" for d in error.diagnostics):
                again = workspace.published_just_now(registry, ctx.county, ctx.user.name, ctx.root,
                                                     draft.base)
                if again is not None:
                    published(again, repeated=True)
                    return None
            return error.diagnostics
        published(version)
        return None


ready = st.session_state.get("publish_ready")
if ready and ready[0] == key:
    _, baseline_label, comparison, warnings, overtaken = ready
    st.subheader("发布前核对")
    today = ctx.settings.today()
    if effective < today:  # as jiuzhu publish notes it (helper-45), before the confirmation
        st.warning(f"注意：生效日期 {effective} 早于今天（{today}）；该日以后的决策按本版重新作出时会与已作出的不同，"
                   "需要时在命令行用 jiuzhu evaluate --as-of 重新决策并核对。", icon=":material/history:")
    if overtaken is not None:  # the CLI's W701: later-dated versions will replace this one
        ui.diagnostics_list([dataclasses.replace(overtaken, hint=(
            "如需本版改动在较晚版本生效之后继续适用，请在本版发布后再发布一版，生效日期为较晚版本的日期；"
            "「历史与对比」页列出各版本的生效日期"))])
    if baseline_label is None:
        st.info(f"{effective} 没有生效的已发布版本：这一版将是本县在该日的第一个版本。"
                "下面是与 tables 文件夹中本县工作簿相比的改动。")
        if comparison is not None:
            diffview.show(comparison, "tables 文件夹", "工作副本")
    else:
        st.markdown(f"与 {effective} 现行的 **{baseline_label}** 相比：")
        diffview.show(comparison, f"现行 {baseline_label}", "工作副本")
    if warnings:
        st.caption(f"工作副本有 {warnings} 条警告，将随版本保存（不影响发布）。")
    unchanged = st.session_state.get("publish_unchanged")
    allow_unchanged = False
    if unchanged and unchanged[0] == key:  # E709 at the last click: say it, offer the way on
        ui.diagnostics_list(unchanged[1])
        allow_unchanged = st.checkbox("内容未改变，仍然发布（登记一次复核）", key="publish_allow_unchanged")
    withdrawn = st.session_state.get("publish_withdrawn")
    allow_withdrawn = False
    if withdrawn and withdrawn[0] == key:  # E710: the working copy still holds a withdrawn version
        # the CLI's advice (jiuzhu export into the working copy) is restarting the draft here;
        # nothing is lost: the draft holds exactly the withdrawn version's published content
        ui.diagnostics_list([dataclasses.replace(d, hint=(
            f"要在现行内容上继续修改，点「从第 {current} 版重新开始」（工作副本就是被撤回版本的内容，不会丢失修改）；"
            "确实要重新发布被撤回的内容时，勾选「内容曾被撤回，仍然发布」")) for d in withdrawn[1]])
        allow_withdrawn = st.checkbox("内容曾被撤回，仍然发布（确认撤销那次撤回）", key="publish_allow_withdrawn")
        if st.button(f"从第 {current} 版重新开始", key="withdrawn_restart"):
            drafts.start_draft(ctx.settings, ctx.county, ctx.user.name)
            st.session_state.pop("publish_withdrawn", None)
            st.session_state.pop("publish_ready", None)
            st.rerun()
    if st.button(f"确认发布：{effective} 起生效", key="publish_confirm", type="primary"):
        with st.spinner("正在发布……"):
            refusal = publish_once(allow_unchanged, allow_withdrawn)
        if refusal is not None and any(d.code == "E709" for d in refusal):
            st.session_state["publish_unchanged"] = (key, refusal)
            st.rerun()
        if refusal is not None and any(d.code == "E710" for d in refusal):
            st.session_state["publish_withdrawn"] = (key, refusal)
            st.rerun()
        if refusal is not None:
            st.error("发布被拒绝：")
            # the CLI's advice (jiuzhu diff, --base) is this page's own buttons here
            ui.diagnostics_list([dataclasses.replace(d, hint="在左侧菜单中再次点「发布」（不要刷新浏览器，刷新会退出登录）：页面会列出同事发布的版本，可查看差异后选择保留或放弃自己的修改")
                                 if d.code == "E702" else d for d in refusal], ui.placer(ctx))
            st.stop()
        st.rerun()
elif ready:
    st.caption("工作副本、生效日期或说明已改变，请重新进行发布前检查。")
