"""省级工作簿 (provincial maintainers only): edit the province's sheets in a draft,
checked with the county chosen in the sidebar; apply to tables/province/ once every
county checks without errors."""

from __future__ import annotations

import re
import shutil

import streamlit as st

from compiler.diagnostics import Report
from compiler.engine import open_project
from console import grids, ui, workspace
from console.sheets import read_sheets, write_csv_folder
from console.users import PROVINCE_MAINTAINER

ctx = ui.context()
if ctx.user.role != PROVINCE_MAINTAINER:
    st.error("只有省级维护人员可以修改省级工作簿。")
    st.stop()
st.title("省级工作簿")
st.caption(f"{ctx.user.name}（{ctx.user.role_cn}）· 检查时代入 {ctx.county} {ctx.county_name} 的标准 · "
           "修改先保存在草稿中，「应用」后才写入 tables/province/")

folder = ctx.settings.state / "drafts" / "province" / re.sub(r"[^\w.\-]", "_", ctx.user.name)
root = folder / "tables"
draft_province = root / "province"
if not draft_province.exists():
    shutil.copytree(ctx.settings.tables / "province", draft_province)
for name in ("cities", "counties"):  # read where they are: a province edit is checked on them
    link, target = root / name, (ctx.settings.tables / name).resolve()
    if not link.is_symlink() and not link.exists():
        if target.is_dir():
            link.symlink_to(target, target_is_directory=True)
        else:
            link.mkdir(parents=True)

sheets, _ = read_sheets(draft_province)
names = [s.name for s in sheets]
chosen = st.selectbox("工作表", names, key="province_sheet")
index = names.index(chosen)
stamp = tuple(sorted((p.name, p.stat().st_mtime_ns) for p in draft_province.glob("*.csv")))
cache = st.session_state.setdefault("_province_checked", {})
if (stamp, ctx.county) not in cache:
    cache.clear()
    cache[(stamp, ctx.county)] = workspace.check(root, ctx.county, ctx.settings.today(), analysis=False)
result = cache[(stamp, ctx.county)]
st.info(f"检查结果（{ctx.county}）：{len(result.errors)} 个错误，{len(result.warnings)} 个警告；用时 {result.seconds:.2f} 秒")

sheet = sheets[index]
problems = [d for d in result.report.items if str(d.location.file or "").endswith(f"{chosen}.csv")
            or (d.location.sheet == chosen and "province" in str(d.location.file or ""))]
grid = grids.to_grid(sheet, problems=grids.problems_by_row(problems, chosen))
left, right = st.columns([3, 2])
with left:
    edited = st.data_editor(grid.frame, key=f"province-{chosen}-{hash(stamp)}", num_rows="dynamic",
                            hide_index=True, width="stretch",
                            column_config={h: st.column_config.TextColumn(h, disabled=True) for h in grid.helpers})
    changed = grids.from_grid(grid, edited)
    if not grids.same_rows(changed, sheet):
        write_csv_folder(draft_province, [changed], prune=False)
        st.rerun()
with right:
    if problems:
        ui.diagnostics_list(problems, lambda d: grids.place(d, grid))
    else:
        st.success("本表没有发现问题。", icon=":material/check_circle:")

st.divider()
apply, reset = st.columns(2)
if apply.button("检查全部县（市、区）并应用到 tables/province/", type="primary", key="province_apply"):
    with st.spinner("正在检查全部县（市、区）……"):
        report = Report()
        open_project(root, None, ctx.settings.today(), None, report)
    if report.has_errors:
        st.error(f"未应用：有 {len(report.errors)} 个错误。")
        ui.diagnostics_list(report.errors)
    else:
        original, _ = read_sheets(ctx.settings.tables / "province")
        before = {s.name: s for s in original}
        changed_sheets = [s for s in sheets if s.name not in before or not grids.same_rows(s, before[s.name])]
        write_csv_folder(ctx.settings.tables / "province", changed_sheets, prune=False)
        st.success(f"已应用：写入 {len(changed_sheets)} 个工作表（{'、'.join(s.name for s in changed_sheets) or '无改动'}）。")
if reset.button("放弃草稿，重新从 tables/province/ 开始", key="province_reset"):
    shutil.rmtree(draft_province)
    st.rerun()
