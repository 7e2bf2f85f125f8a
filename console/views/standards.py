"""标准与规则: the county's own sheets in editable grids, diagnostics beside each grid,
the effect on the sample households below; upload and download of the workbook."""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import timedelta
from pathlib import Path

import streamlit as st

from compiler.model import Standard
from console import drafts, grids, ui
from console.sheets import Sheet, Value, read_sheets, text

ctx = ui.context()
ui.header(ctx, "标准与规则")
result = ui.checked(ctx)
project = result.project
province: dict[str, Standard] = {}
if project is not None:
    for standard in project.tables.province.standards:
        province[standard.id] = standard
        province.setdefault(standard.name_cn, standard)


def county_sheets() -> list[Sheet]:
    if ctx.draft is not None:
        return drafts.load_sheets(ctx.draft)
    for path in sorted((ctx.root / "counties").glob(f"{ctx.county}*")):
        return read_sheets(path)[0]
    return []


def read_values(sheet_name: str) -> dict[int, str]:
    """Sheet row -> how the compiler read that row's value (its type kept)."""
    if project is None or ctx.county not in project.tables.counties:
        return {}
    found = {}
    for standard in project.tables.counties[ctx.county].standards:
        for row in standard.rows:
            spot = grids.ROW_OF.fullmatch(row.location.cell or "")
            if row.location.sheet == sheet_name and spot:
                unit = f"（{row.unit}）" if row.unit else ""
                found[int(spot.group(2))] = grids.money_text(row.value, standard.dtype.kind) + unit
    return found


def save(sheets: list[Sheet], message: str) -> None:
    assert ctx.draft is not None
    try:
        drafts.save_sheets(ctx.draft, sheets, ctx.user.name, ctx.draft.revision)
    except drafts.StaleDraft as stale:
        st.error(f"{stale}：为免覆盖，本次修改没有保存。请刷新页面，在最新的工作副本上重新修改。")
        st.stop()
    st.session_state["flash"] = message
    st.rerun()


def column_config(grid: grids.Grid) -> dict:
    config: dict = {}
    for column in grid.date_columns:
        config[column] = st.column_config.DateColumn(column, format="YYYY-MM-DD")
    for column in grid.columns:
        if column in grids.YES_NO_COLUMNS:
            config[column] = st.column_config.SelectboxColumn(column, options=["是", "否"])
    if grid.sheet.name == "标准参数" and "标识" in grid.columns:
        known = sorted({s.id for s in province.values()} | {v for v in grid.frame["标识"] if v})
        config["标识"] = st.column_config.SelectboxColumn("标识", options=known)
    if "值" in grid.columns:
        config["值"] = st.column_config.TextColumn("值", help="可写 1301、1,301、1301元、150%；程序按该标准的类型读取")
    for helper in grid.helpers:
        config[helper] = st.column_config.TextColumn(helper, disabled=True)
    if grid.sheet.is_table and len(grid.head) >= 4:
        kinds, types = grid.head[1], grid.head[3]
        for index, column in enumerate(grid.columns[1:], 1):
            kind = text(kinds[index]) if index < len(kinds) else ""
            dtype = text(types[index]) if index < len(types) else ""
            config[column] = st.column_config.TextColumn(column, help=f"{kind} {dtype}".strip() or None)
    return config


KNOWN_SHEETS = {"标准参数", "standards", "派生值", "derived", "日历", "calendar", "字段", "fields"}


def sheet_section(sheet: Sheet, index: int, sheets: list[Sheet]) -> None:
    if not sheet.is_table and sheet.name.strip() not in KNOWN_SHEETS:
        with st.expander(f"工作表「{sheet.name}」（说明等，程序不读取，保持原样）"):
            st.markdown("  \n".join(" ".join(text(v) for v in row if text(v)) for row in sheet.rows))
        return
    problems = grids.problems_by_row(result.report.items, sheet.name)
    grid = grids.to_grid(sheet, province if sheet.name == "标准参数" else None,
                         read_values(sheet.name), problems)
    title = f"决策表 {text(sheet.rows[0][0])} {text(sheet.rows[0][1]) if len(sheet.rows[0]) > 1 else ''}" \
        if sheet.is_table else f"工作表「{sheet.name}」"
    st.subheader(title)
    if sheet.is_table and grid.head:
        st.caption("命中策略 " + " · ".join(text(v) for v in grid.head[0][2:] if text(v)))
    left, right = st.columns([5, 2])
    with left:
        if ctx.editable:
            assert ctx.draft is not None
            edited = st.data_editor(
                grid.frame, key=f"grid-{sheet.name}-{ctx.draft.revision}", num_rows="dynamic",
                hide_index=True, column_config=column_config(grid), width="stretch",
            )
            changed = grids.from_grid(grid, edited)
            if not grids.same_rows(changed, sheet):
                sheets[index] = changed
                save(sheets, f"已保存对「{sheet.name}」的修改")
        else:
            st.dataframe(grid.frame, hide_index=True, width="stretch", column_config=column_config(grid))
    with right:
        mine = [d for d in result.report.items if d.location.sheet == sheet.name
                and str(d.location.file or "").endswith(tuple(_own_files()))]
        if mine:
            ui.diagnostics_list(mine, lambda d: grids.place(d, grid))
        else:
            st.success("本表没有发现问题。", icon=":material/check_circle:")


def _own_files() -> list[str]:
    return [p.name for p in (ctx.root / "counties").glob(f"{ctx.county}*")]


def quick_edit(sheets: list[Sheet]) -> None:
    """A form for the usual change: one standard, a new value from a date."""
    overridable = [s for s in {id(v): v for v in province.values()}.values() if s.overridable]
    if not overridable:
        return
    with st.expander("调整一项标准（例如新的低保标准）", expanded=False):
        with st.form("quick-edit"):
            choice = st.selectbox("标准", [s.id for s in overridable], key="quick_standard",
                                  format_func=lambda i: f"{province[i].name_cn}（{i}）")
            value = st.text_input("新取值", key="quick_value", placeholder="例如 1400")
            starts = st.date_input("生效日期", value=ctx.settings.today(), key="quick_from")
            source = st.text_input("来源（文件号或网址）", key="quick_source")
            submitted = st.form_submit_button("写入工作副本", type="primary")
        if submitted:
            note = apply_quick(sheets, province[choice], value.strip(), starts, source.strip())
            save(sheets, note)


def apply_quick(sheets: list[Sheet], standard: Standard, value: str, starts, source: str) -> str:  # type: ignore[no-untyped-def]
    header: list[Value] = ["标识", "名称", "值", "单位", "生效日期", "失效日期", "来源", "备注", "核实"]
    sheet = next((s for s in sheets if s.name == "标准参数"), None)
    if sheet is None or not sheet.rows:
        sheet = Sheet("标准参数", [header])
        sheets.insert(0, sheet)
    columns = [text(v) for v in sheet.rows[0]]
    for name in map(text, header):
        if name not in columns:
            columns.append(name)
            sheet.rows[0] = list(sheet.rows[0]) + [name]

    def at(row: list, name: str):  # type: ignore[no-untyped-def]
        index = columns.index(name)
        return row[index] if index < len(row) else None

    def put(row: list, name: str, cell) -> None:  # type: ignore[no-untyped-def]
        index = columns.index(name)
        row.extend([None] * (index + 1 - len(row)))
        row[index] = cell

    keys = {standard.id, standard.name_cn}
    notes = []
    for row in sheet.rows[1:]:
        if text(at(row, "标识")) in keys or (not text(at(row, "标识")) and text(at(row, "名称")) in keys):
            if text(at(row, "生效日期")) == starts.isoformat():
                put(row, "值", value)
                put(row, "来源", source or at(row, "来源"))
                return f"已把 {starts} 起的「{standard.name_cn}」改为 {value}"
            began = at(row, "生效日期")
            if not text(at(row, "失效日期")) and text(began) and text(began) < starts.isoformat():
                put(row, "失效日期", starts - timedelta(days=1))
                notes.append(f"原 {text(began)} 起的一行失效日期设为 {starts - timedelta(days=1)}")
    unit = next((r.unit for r in standard.rows if r.unit), "")
    row = [None] * len(columns)
    for name, cell in (("标识", standard.id), ("名称", standard.name_cn), ("值", value), ("单位", unit),
                       ("生效日期", starts), ("来源", source), ("核实", "是")):
        put(row, name, cell)
    sheet.rows.append(row)
    return f"已加入「{standard.name_cn}」{value}，{starts} 起生效" + ("；" + "；".join(notes) if notes else "")


def transfer(sheets: list[Sheet]) -> None:
    left, right = st.columns(2)
    if ctx.draft is not None:
        left.download_button(
            "下载工作副本（.xlsx）", data=ctx.draft.workbook.read_bytes(),
            file_name=f"{ctx.county}-{ctx.county_name}.xlsx", key="download",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    if not ctx.editable:
        return
    assert ctx.draft is not None
    upload = right.file_uploader("上传 .xlsx 工作簿替换工作副本，或上传一个工作表的 .csv（文件名即表名）",
                                 type=["xlsx", "csv"], key=f"upload-{ctx.draft.revision}")
    if upload is None:
        return
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / upload.name
        path.write_bytes(upload.getvalue())
        found, problems = read_sheets(path)
    if any(p.is_error for p in problems) or not found:
        st.error("上传的文件无法读取，工作副本未改动：")
        ui.diagnostics_list(problems)
        return
    if path.suffix.lower() == ".csv":
        found[0].name = Path(upload.name).stem
        names = [s.name for s in sheets]
        if found[0].name in names:
            sheets[names.index(found[0].name)] = found[0]
        else:
            sheets.append(found[0])
        save(sheets, f"已用上传的「{upload.name}」替换工作表「{found[0].name}」")
    save(found, f"已用上传的「{upload.name}」替换工作副本")


def sample_effect() -> None:
    st.subheader("对样本家庭的影响")
    if result.errors:
        st.info("工作副本有错误，改正后这里显示样本家庭的决策。")
        return
    with st.spinner("正在为样本家庭重新作出决策……"):
        preview = ui.previewed(ctx, result, ctx.settings.samples)
    if preview.problems:
        ui.diagnostics_list(preview.problems)
        return
    counts = Counter(str(r.get("group") or "none") for r in preview.rows)
    last = st.session_state.setdefault("last_counts", {}).get(ctx.county)
    columns = st.columns(len(ui.GROUP_CN))
    for column, (group, name) in zip(columns, ui.GROUP_CN.items(), strict=True):
        delta = counts.get(group, 0) - last.get(group, 0) if last else None
        column.metric(name, counts.get(group, 0), delta=delta if delta else None)
    st.session_state["last_counts"][ctx.county] = dict(counts)
    st.caption(f"样本 {preview.households} 户 · 检查 {result.seconds:.2f} 秒 · 决策 {preview.seconds:.2f} 秒"
               " · 与本次登录中上一次预览相比的变化显示在数字下方；逐户结果和理由见「样本预览」页")


flash = st.session_state.pop("flash", None)
if flash:
    st.success(flash, icon=":material/save:")
sheets = county_sheets()
errors = len(result.errors)
summary = f"{errors} 个错误，{len(result.warnings)} 个警告" if errors or result.warnings else "没有发现问题"
(st.error if errors else st.info)(f"检查结果：{summary}（检查用时 {result.seconds:.2f} 秒；缺口、重叠等一致性分析见「一致性检查」页）")
if ctx.editable:
    quick_edit(sheets)
effect = st.container()
if not sheets:
    st.info("本县工作簿还没有内容：用上方的表单加入一项标准，或上传工作簿。")
for position, sheet in enumerate(list(sheets)):
    sheet_section(sheet, position, sheets)
others = [d for d in result.report.items if not str(d.location.file or "").endswith(tuple(_own_files()))]
if others:
    with st.expander(f"上级（省、市）工作簿的诊断：{len(others)} 条", expanded=bool([d for d in others if d.is_error])):
        ui.diagnostics_list(others)
with effect:
    sample_effect()
st.divider()
transfer(sheets)
