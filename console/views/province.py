"""省级工作簿 (provincial maintainers only): edit the province's sheets in a draft,
checked with the county chosen in the sidebar; apply to tables/province/ once every
county checks without errors, writing only the sheets this maintainer changed and
never over a colleague's newer apply (console/province_draft.py).

Dates are read as the 标准与规则 grids read them (``grids.typed_dates``): an edit with
a date the tables would refuse (E102: 2025/13/45, 明年; E408: a 生效日期 outside
2015-2040) is saved to the draft not at all, and every such cell is named."""

from __future__ import annotations

import streamlit as st

from compiler.diagnostics import Diagnostic, Report
from compiler.engine import open_project
from console import grids, province_draft, ui, workspace
from console.sheets import Sheet, read_sheets, write_csv_folder
from console.users import PROVINCE_MAINTAINER

DATES_REFUSED = "_province_dates_refused"  # the last edit's refused dates (nothing saved)
GENERATION = "_province_generation"  # bumped to show the draft again after a refusal


def save_edit(changed: Sheet, refused: list[Diagnostic], notes: list[str]) -> None:
    """Write an edited sheet to the draft and run the page again; with a date the
    tables would refuse, write nothing and show the grid as the draft holds it."""
    if refused:
        st.session_state[DATES_REFUSED] = refused
        st.session_state[GENERATION] = st.session_state.get(GENERATION, 0) + 1
        st.rerun()
    write_csv_folder(draft.province, [changed], prune=False)
    if notes:  # a date read from an Excel serial: say which day it became
        st.session_state["province_flash"] = (f"已保存对「{changed.name}」的修改（草稿）；"
                                              + "；".join(notes))
    st.rerun()


ctx = ui.context()
if ctx.user.role != PROVINCE_MAINTAINER:
    st.error("只有省级维护人员可以修改省级工作簿。")
    st.stop()
st.title("省级工作簿")
st.caption(f"{ctx.user.name}（{ctx.user.role_cn}）· 检查时代入 {ctx.county} {ctx.county_name} 的标准 · "
           "修改先保存在草稿中，「应用」后才写入 tables/province/")

draft = province_draft.open_province_draft(ctx.settings, ctx.user.name)
flash = st.session_state.pop("province_flash", None)
if flash:
    st.success(flash, icon=":material/check_circle:")
taken = province_draft.follow(draft)
if taken:
    st.info("已载入同事应用到 tables/province/ 的工作表（你没有改过）：" + "、".join(f"「{n}」" for n in taken))
clashes = province_draft.conflicts(draft)
if clashes:
    st.warning(province_draft.conflict_message(ctx.settings, draft, clashes), icon=":material/warning:")
    for name in clashes:
        theirs_col, mine_col = st.columns(2)
        if theirs_col.button(f"放弃我对「{name}」的修改，改用 tables/province/ 中的版本", key=f"take-{name}"):
            province_draft.take_theirs(draft, name)
            st.rerun()
        if mine_col.button(f"保留我的「{name}」（我已在草稿中合入对方的改动）", key=f"keep-{name}"):
            province_draft.keep_mine(draft, name)
            st.rerun()

sheets, _ = read_sheets(draft.province)
names = [s.name for s in sheets]
chosen = st.selectbox("工作表", names, key="province_sheet", placeholder="请选择")
index = names.index(chosen)
stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in draft.province.glob("*.csv")))
cache = st.session_state.setdefault("_province_checked", {})
if (stamp, ctx.county) not in cache:
    cache.clear()
    cache[(stamp, ctx.county)] = workspace.check(draft.root, ctx.county, ctx.settings.today(), analysis=False)
result = cache[(stamp, ctx.county)]
st.info(f"检查结果（{ctx.county}）：{len(result.errors)} 个错误，{len(result.warnings)} 个警告；用时 {result.seconds:.2f} 秒")

sheet = sheets[index]
problems = [d for d in result.report.items if str(d.location.file or "").endswith(f"{chosen}.csv")
            or (d.location.sheet == chosen and "province" in str(d.location.file or ""))]
grid = grids.to_grid(sheet, problems=grids.problems_by_row(problems, chosen))
refused = st.session_state.pop(DATES_REFUSED, None)
if refused:  # the last edit's dates, said once over the grid as saved
    st.error(grids.refusal_heading(refused, "草稿"), icon=":material/block:")
    ui.diagnostics_list(refused, lambda d: grids.place(d, grid if d.location.sheet == chosen else None))
config = {c: st.column_config.TextColumn(c, help=grids.DATE_HELP) for c in grid.date_columns}
config.update({h: st.column_config.TextColumn(h, disabled=True) for h in grid.helpers})
left, right = st.columns([3, 2])
with left:
    generation = st.session_state.get(GENERATION, 0)
    edited = st.data_editor(grid.frame, key=f"province-{chosen}-{hash(stamp)}-{generation}",
                            num_rows="dynamic", hide_index=True, width="stretch",
                            placeholder=grids.EMPTY_CELL, column_config=config)
    changed = grids.from_grid(grid, edited)
    if not grids.same_rows(changed, sheet):
        save_edit(changed, *grids.typed_dates(grid, edited, f"{chosen}.csv"))
with right:
    if problems:
        ui.diagnostics_list(problems, lambda d: grids.place(d, grid))
    else:
        st.success("本表没有发现问题。", icon=":material/check_circle:")

st.divider()
mine = province_draft.mine(draft)
st.caption("草稿中改动的工作表：" + ("、".join(f"「{n}」" for n in mine) if mine else "无"))
apply, reset = st.columns(2)
if apply.button("检查全部县（市、区）并应用到 tables/province/", type="primary", key="province_apply"):
    with st.spinner("正在检查全部县（市、区）……"):
        report = Report()
        open_project(draft.root, None, ctx.settings.today(), None, report)
    if report.has_errors:
        st.error(f"未应用：有 {len(report.errors)} 个错误。")
        ui.diagnostics_list(report.errors)
    else:
        try:
            written = province_draft.apply(ctx.settings, draft, ctx.user.name)
        except province_draft.ProvinceConflict as conflict:
            st.error(f"未应用：{conflict}", icon=":material/block:")
        else:
            st.session_state["province_flash"] = (
                f"已应用：写入 {len(written)} 个工作表（{'、'.join(written) or '无改动'}）。")
            st.rerun()
if reset.button("放弃草稿，重新从 tables/province/ 开始", key="province_reset"):
    province_draft.discard(draft)
    st.rerun()
