"""标准与规则: the county's own sheets in editable grids, diagnostics beside each grid,
the effect on the sample households below; upload and download of the workbook.

The grids show the sheets this session loaded, at the draft revision it loaded them
(kept in the session), so an edit made in a tab whose draft was saved elsewhere in the
meantime is seen and refused as stale with a notice, never dropped with a rebuilt grid.
A cell no workbook can hold (E011/E012) is put back as it was and named; the session's
other edits are saved. An edited date that does not read as the tables read dates, or
a 生效日期 outside the years households are decided in, is refused by its cell (every
such cell named), and nothing of that edit is saved.
"""

from __future__ import annotations

import dataclasses
import re
import tempfile
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import streamlit as st

from compiler.export import INFO_SHEET
from compiler.load import exported_version
from compiler.model import Kind, Standard
from compiler.normalise import (
    ParseProblem,
    parse_date,
    parse_integer,
    parse_money,
    parse_number,
    parse_percent,
)
from compiler.validate import CITY_WIDE
from console import drafts, grids, pending, ui, workspace
from console.sheets import Sheet, Value, read_sheets, text, write_xlsx

LOADED = "_standards_loaded"  # (draft folder, revision, sheets, check) the grids show
REFUSED = "_standards_refused"  # E011/E012 of cells the last save left out
NOTICE = "_standards_notice"  # why the last edit was not saved
UPLOAD_WARNINGS = "_standards_upload_warnings"  # what the reader noticed in the last upload
GENERATION = "_standards_generation"  # bumped to rebuild the grids from the draft
QUICK_WARNINGS = "_standards_quick_warnings"  # the check's warnings of the row the form wrote
DATES_REFUSED = "_standards_dates_refused"  # edited dates refused (nothing saved)
FORM_CARRIED = "_standards_form_carried"  # what the form said in a run the stale reload ended


def county_sheets() -> list[Sheet]:
    if ctx.draft is not None:
        return drafts.load_sheets(ctx.draft)
    for path in sorted((ctx.root / "counties").glob(f"{ctx.county}*")):
        return read_sheets(path)[0]
    return []


def shown_sheets(checked: workspace.Checked) -> tuple[int, list[Sheet], workspace.Checked]:
    """The sheets this session's grids show, the draft revision they were read at and
    their check, kept across runs: a grid rebuilt from newer cells or diagnostics is a
    new widget in the browser, which would drop an edit made in a stale tab unseen."""
    assert ctx.draft is not None
    loaded = st.session_state.get(LOADED)
    if not loaded or loaded[0] != ctx.draft.folder:
        loaded = (ctx.draft.folder, ctx.draft.revision, drafts.load_sheets(ctx.draft), checked)
        st.session_state[LOADED] = loaded
    return loaded[1], [Sheet(s.name, [list(r) for r in s.rows], list(s.merged)) for s in loaded[2]], loaded[3]


def reload_grids() -> None:
    """Show the draft as it is on disk from the next run on."""
    st.session_state.pop(LOADED, None)
    st.session_state[GENERATION] = st.session_state.get(GENERATION, 0) + 1


ctx = ui.context()
ui.header(ctx, "标准与规则")
result = ui.checked(ctx)
if ctx.editable:
    revision, sheets, result = shown_sheets(result)
else:
    revision, sheets = 0, county_sheets()
project = result.project
province: dict[str, Standard] = {}
if project is not None:
    for standard in project.tables.province.standards:
        province[standard.id] = standard
        province.setdefault(standard.name_cn, standard)


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


def save(sheets: list[Sheet], message: str, revision: int) -> None:
    """Save the sheets over ``revision`` of the draft and run the page again; a stale
    revision or a cell no workbook holds is refused, and the next run says so."""
    assert ctx.draft is not None
    try:
        drafts.save_sheets(ctx.draft, sheets, ctx.user.name, revision)
    except drafts.StaleDraft as stale:
        st.session_state[NOTICE] = (
            f"{stale}：你在本页的这次修改没有保存，以免覆盖较新的工作副本。"
            "下面已载入最新的工作副本，请在其上重新修改。")
    except drafts.UnwritableCells as refused:
        st.session_state[REFUSED] = refused.diagnostics
    else:
        st.session_state["flash"] = message
    reload_grids()
    st.rerun()


@dataclasses.dataclass
class Edit:
    """A grid's edit: the sheet it stands for, its dates the tables would refuse (E102,
    E408) and notes on dates read from Excel serials."""

    sheet: Sheet
    unread: list[Any]
    notes: list[str]


def save_edits(sheets: list[Sheet], edits: dict[int, Edit], revision: int) -> None:
    """Save the grids' edits; a cell no workbook can hold keeps its old value and is
    reported (E011/E012), the other cells are saved. A date that does not read, or a
    生效日期 outside 2015-2040, refuses the whole edit: a 生效日期 saved as typed, or as
    some other day, decides households from a day nobody meant (helper-89)."""
    assert ctx.draft is not None
    unread = [d for edit in edits.values() for d in edit.unread]
    if unread:
        st.session_state[DATES_REFUSED] = unread
        reload_grids()
        st.rerun()
    notes = [note for edit in edits.values() for note in edit.notes]
    before = list(sheets)
    refused = []
    for position, edit in edits.items():
        changed = edit.sheet
        for problem in drafts.unwritable(changed, str(ctx.draft.workbook)):
            spot = grids.cell_of(problem)
            assert spot is not None
            row, col = spot
            old = before[position].rows[row - 1] if row <= len(before[position].rows) else []
            changed.rows[row - 1][col - 1] = old[col - 1] if col <= len(old) else None
            refused.append(problem)
        sheets[position] = changed
    names = "、".join(f"「{sheets[p].name}」" for p in edits if not grids.same_rows(sheets[p], before[p]))
    if refused:
        st.session_state[REFUSED] = refused
    if not names:
        reload_grids()
        st.rerun()
    save(sheets, f"已保存对{names}的修改" + "".join(f"；{note}" for note in notes), revision)


def refusals() -> None:
    """What the last run could not save, and why."""
    notice = st.session_state.pop(NOTICE, None)
    if notice:
        st.warning(notice, icon=":material/sync_problem:")
    carried = st.session_state.pop(FORM_CARRIED, None)
    if carried:
        st.warning(carried[0], icon=":material/sync_problem:")
        FormSays(carried[1]).replay()
    unread = st.session_state.pop(DATES_REFUSED, None)
    if unread:
        st.error(grids.refusal_heading(unread, "工作副本"), icon=":material/block:")
        by_name = {s.name: s for s in sheets}
        ui.diagnostics_list(unread, lambda d: grids.place(
            d, grids.to_grid(by_name[d.location.sheet]) if d.location.sheet in by_name else None))
    written = st.session_state.pop(QUICK_WARNINGS, None)
    if written:
        st.caption("已写入；检查对写入的一行提示：")
        ui.diagnostics_list(written, _placed(sheets))
    noticed = st.session_state.pop(UPLOAD_WARNINGS, None)
    if noticed:
        st.caption("上传的文件已采用；读取时注意到：")
        ui.diagnostics_list(noticed)
    refused = st.session_state.pop(REFUSED, None)
    if refused:
        st.error("以下单元格的内容无法保存到工作簿，没有写入工作副本（其他修改照常保存）；"
                 "请删除其中的控制字符或缩短文字后重新输入：", icon=":material/block:")
        by_name = {s.name: s for s in sheets}
        ui.diagnostics_list(refused, lambda d: grids.place(
            d, grids.to_grid(by_name[d.location.sheet]) if d.location.sheet in by_name else None))


def column_config(grid: grids.Grid) -> dict:
    config: dict = {}
    for column in grid.date_columns:  # text read by the tables' reader, not a date picker
        config[column] = st.column_config.TextColumn(column, help=grids.DATE_HELP)
    for column in grid.columns:
        if column in grids.YES_NO_COLUMNS:
            config[column] = st.column_config.SelectboxColumn(column, options=["是", "否"])
    if grid.sheet.name == "标准参数" and "标识" in grid.columns:
        known = sorted({s.id for s in province.values()} | {v for v in grid.frame["标识"] if isinstance(v, str) and v.strip()})
        config["标识"] = st.column_config.SelectboxColumn(
            "标识", options=known, format_func=id_shown, width="medium",
            help="标准参数的标识，后面是它的中文名称")
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


def id_shown(ident: str) -> str:
    """A 标识 as the dropdown shows it: ``dibao_standard 低保标准``."""
    known = province.get(ident)
    return f"{ident} {known.name_cn}" if known is not None and known.name_cn else ident


KNOWN_SHEETS = {"标准参数", "standards", "派生值", "derived", "日历", "calendar", "字段", "fields"}


def sheet_section(sheet: Sheet, revision: int) -> Edit | None:
    """The sheet's grid and diagnostics; the edit when the grid was edited."""
    if not sheet.is_table and sheet.name.strip() not in KNOWN_SHEETS:
        with st.expander(f"工作表「{sheet.name}」（说明等，程序不读取，保持原样）"):
            st.markdown("  \n".join(" ".join(text(v) for v in row if text(v)) for row in sheet.rows))
        return None
    problems = grids.problems_by_row(result.report.items, sheet.name)
    grid = grids.to_grid(sheet, province if sheet.name == "标准参数" else None,
                         read_values(sheet.name), problems)
    title = f"决策表 {text(sheet.rows[0][0])} {text(sheet.rows[0][1]) if len(sheet.rows[0]) > 1 else ''}" \
        if sheet.is_table else f"工作表「{sheet.name}」"
    st.subheader(title)
    if sheet.is_table and grid.head:
        st.caption("命中策略 " + " · ".join(text(v) for v in grid.head[0][2:] if text(v)))
    left, right = st.columns([5, 2])
    changed = None
    with left:
        if ctx.editable:
            generation = st.session_state.get(GENERATION, 0)
            edited = st.data_editor(
                grid.frame, key=f"grid-{sheet.name}-{revision}-{generation}", num_rows="dynamic",
                hide_index=True, column_config=column_config(grid), width="stretch",
                placeholder=grids.EMPTY_CELL,
            )
            edit = grids.from_grid(grid, edited)
            if not grids.same_rows(edit, sheet):
                assert ctx.draft is not None
                changed = Edit(edit, *grids.typed_dates(grid, edited, str(ctx.draft.workbook)))
        else:
            st.dataframe(grid.frame, hide_index=True, width="stretch", column_config=column_config(grid),
                         placeholder=grids.EMPTY_CELL)
    with right:
        mine = [d for d in result.report.items if d.location.sheet == sheet.name
                and str(d.location.file or "").endswith(tuple(_own_files()))]
        if mine:
            ui.diagnostics_list(mine, lambda d: grids.place(d, grid))
        else:
            st.success("本表没有发现问题。", icon=":material/check_circle:")
    return changed


def _own_files() -> list[str]:
    return [p.name for p in (ctx.root / "counties").glob(f"{ctx.county}*")]


class FormSays:
    """What the 调整一项标准 form says in a run: shown at once, and kept so that a run
    the stale reload ends (the grids were saved in another tab) says it again after
    it; a refused value in a stale tab showed nothing (helper-89)."""

    def __init__(self, said: list[tuple[str, Any, Any]] | None = None) -> None:
        self.said = said or []

    def error(self, text: str, icon: str | None = ":material/block:") -> None:
        self.said.append(("error", text, icon))
        st.error(text, icon=icon)

    def diagnostics(self, items: list[Any], where: Any = None) -> None:
        self.said.append(("diagnostics", items, [(where or ui.plain_place)(d) for d in items]))
        ui.diagnostics_list(items, where)

    def replay(self) -> None:
        for kind, first, second in self.said:
            if kind == "error":
                st.error(first, icon=second)
            else:
                places = dict(zip(map(id, first), second, strict=True))
                ui.diagnostics_list(first, lambda d, places=places: places[id(d)])


form_says = FormSays()


def quick_edit() -> None:
    """A form for the usual change: one standard, a new value from a date, applied to
    the draft as it is on disk now."""
    overridable = [s for s in {id(v): v for v in province.values()}.values() if s.overridable]
    if not overridable:
        return
    # a county sets its own standards here; 低保标准 is the city's (docs/yearly-change.md)
    with st.expander("调整一项本县标准（例如本县的最低工资标准、低保货币财产年数）", expanded=False):
        # outside the form, so that choosing a standard says at once where it belongs
        choice = st.selectbox("标准", [s.id for s in overridable], key="quick_standard", placeholder="请选择",
                              format_func=lambda i: f"{province[i].name_cn}（{i}）")
        city_wide_note(province.get(choice) if choice else None)
        with st.form("quick-edit"):
            value = st.text_input("新取值", key="quick_value", placeholder="例如 1400")
            starts_text = ui.date_field(st, "生效日期", "quick_from", ctx.settings.today())
            source = st.text_input("来源（文件号或网址）", key="quick_source")
            verified = st.checkbox("已与正式文件核对（核实＝是）", value=False, key="quick_verified",
                                   help="不勾选时写入“核实＝否”，检查会提示该标准尚未核实（W401）")
            submitted = st.form_submit_button("写入工作副本", type="primary")
        starts = ui.read_date(starts_text, "生效日期", form_says) if submitted else None
        if submitted and starts is not None and readable(province[choice], value.strip()):
            assert ctx.draft is not None
            latest = drafts.load_sheets(ctx.draft)
            before = [list(r) for r in Rows(latest).sheet.rows]
            note = apply_quick(latest, province[choice], value.strip(), starts, source.strip(), verified)
            if quick_checked(latest, touched(before, Rows(latest).sheet.rows)):
                save(latest, note, ctx.draft.revision)


def city_wide_note(standard: Standard | None) -> None:
    """Before anything is written: a standard the city sets for all its counties (市域同标,
    低保标准) is changed in the city's workbook, and the county then publishes again;
    a row written here is the county's own (W406) and keeps its value after the city's
    next change (helper-137)."""
    city = result.project.tables.city_of(ctx.county) if result.project is not None else None
    if standard is None or standard.id not in CITY_WIDE or city is None:
        return
    if not any(s.id == standard.id for s in city.standards):
        return
    file = f"{ctx.settings.tables.name}/cities/{Path(city.path).name}"
    st.warning(
        f"「{standard.name_cn}」是市域统一的标准（全省实行市域同标），由{city.name}在市级工作簿 {file} 中设定，"
        f"不在本县工作簿中填写。{city.name}调整{standard.name_cn}时，由市民政部门修改 {file}；"
        "市级工作簿改动后，本县在「发布」页重新发布，才按新标准决策（「样本预览」默认按新标准的生效日预览）。"
        f"在这里写入的是本县工作簿的一行：它会取代市级的取值（检查提示 W406），市里以后再调整时本县仍用这里的取值。"
        "只有本县确有单列的文件依据时才在这里写入，并在来源中写明文件。",
        icon=":material/location_city:",
    )


def touched(before: list[list[Value]], after: list[list[Value]]) -> set[int]:
    """The sheet rows (from 1, below the header) the form changed or added."""
    return {i + 1 for i, row in enumerate(after)
            if i > 0 and (i >= len(before) or not grids.same_rows(Sheet("", [row]), Sheet("", [before[i]])))}


def quick_checked(sheets: list[Sheet], rows: set[int]) -> bool:
    """Check the working copy the form would write as ``jiuzhu check`` does, before
    writing it; an error in a row the form wrote, or one the edit brings, refuses it
    with the check's messages and nothing is written (1301元/年 for 低保标准 was written
    and then reported E110: helper-70). Warnings of those rows are said after saving."""
    assert ctx.draft is not None
    if any(drafts.unwritable(sheet, str(ctx.draft.workbook)) for sheet in sheets):
        return True  # no workbook holds it: ``save`` refuses it with E011/E012
    found = candidate_check(sheets)
    old = {_said(d) for d in ui.checked(ctx).errors}
    ours = [d for d in found.report.items if _in_rows(d, rows)]
    refused = [d for d in found.errors if d in ours or _said(d) not in old]
    if refused:
        form_says.error("新取值没有通过检查，工作副本未改动；请按下列提示改正后重新写入：")
        form_says.diagnostics(refused + [d for d in ours if not d.is_error], _placed(sheets))
        return False
    st.session_state[QUICK_WARNINGS] = [d for d in ours if not d.is_error]
    return True


def candidate_check(sheets: list[Sheet]) -> workspace.Checked:
    """``workspace.check`` of the working copy with ``sheets`` as the county's workbook,
    written to a scratch folder beside links to the draft's province and city files."""
    assert ctx.draft is not None
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "tables"
        for name in ("province", "cities"):
            if (ctx.root / name).exists():
                root.mkdir(parents=True, exist_ok=True)
                (root / name).symlink_to((ctx.root / name).resolve(), target_is_directory=True)
        write_xlsx(root / "counties" / ctx.draft.workbook.name, sheets)
        return workspace.check(root, ctx.county, ctx.settings.today(), analysis=False)


def _placed(sheets: list[Sheet]) -> Any:
    """Where a diagnostic is, in the words of the grid of its sheet among ``sheets``."""
    by_name = {s.name: s for s in sheets}

    def where(d: Any) -> str:
        own = Path(str(d.location.file or "")).parent.name == "counties"
        sheet = by_name.get(d.location.sheet or "") if own else None
        return grids.place(d, grids.to_grid(sheet)) if sheet is not None else ui.plain_place(d)

    return where


def _said(d: Any) -> tuple[object, ...]:
    """A diagnostic as a person reads it, wherever its file lies."""
    return (d.code, Path(str(d.location.file or "")).name, d.location.sheet, d.location.cell, d.message)


def _in_rows(d: Any, rows: set[int]) -> bool:
    """Whether a diagnostic is about one of ``rows`` of the county's 标准参数 sheet."""
    spot = grids.cell_of(d)
    own = Path(str(d.location.file or "")).parent.name == "counties"
    return own and d.location.sheet == "标准参数" and spot is not None and spot[0] in rows


STANDARDS_HEADER: list[Value] = ["标识", "名称", "值", "单位", "生效日期", "失效日期", "来源", "备注", "核实"]


class Rows:
    """The 标准参数 sheet's rows addressed by column name (missing columns added)."""

    def __init__(self, sheets: list[Sheet]) -> None:
        sheet = next((s for s in sheets if s.name == "标准参数"), None)
        if sheet is None or not sheet.rows:
            sheet = Sheet("标准参数", [list(STANDARDS_HEADER)])
            sheets.insert(0, sheet)
        self.sheet = sheet
        self.columns = [text(v) for v in sheet.rows[0]]
        for name in map(text, STANDARDS_HEADER):
            if name not in self.columns:
                self.columns.append(name)
                sheet.rows[0] = list(sheet.rows[0]) + [name]

    def of(self, standard: Standard) -> list[list[Value]]:
        keys = {standard.id, standard.name_cn}
        return [r for r in self.sheet.rows[1:] if text(self.at(r, "标识")) in keys
                or (not text(self.at(r, "标识")) and text(self.at(r, "名称")) in keys)]

    def at(self, row: list[Value], name: str) -> Value:
        index = self.columns.index(name)
        return row[index] if index < len(row) else None

    def put(self, row: list[Value], name: str, cell: Value) -> None:
        index = self.columns.index(name)
        row.extend([None] * (index + 1 - len(row)))
        row[index] = cell


def readable(standard: Standard, value: str) -> bool:
    """Whether the form's value reads as the standard's type; said in Chinese when not,
    and nothing is written (an empty value or 「abc」 was written, then reported three
    ways: E104, E405 「没有取值」 and W401; helper-39)."""
    if not value:
        form_says.error("请填写新取值。工作副本未改动。", icon=None)
        return False
    parser = {Kind.MONEY: parse_money, Kind.NUMBER: parse_number, Kind.INTEGER: parse_integer,
              Kind.PERCENT: parse_percent}.get(standard.dtype.kind)
    try:
        read = parser(value) if parser is not None else None
    except ParseProblem as problem:
        form_says.diagnostics([problem.diagnostic()])
        form_says.error("新取值无法读取，工作副本未改动。", icon=None)
        return False
    if read is not None and read < 0:  # it was written, then E406 (helper-43)
        form_says.error(f"新取值「{value}」是负数；标准参数的金额、比例、人数和期限都不能为负。工作副本未改动。",
                        icon=None)
        return False
    return True


def apply_quick(sheets: list[Sheet], standard: Standard, value: str, starts: date, source: str,
                verified: bool = False) -> str:
    """Give ``standard`` the value from ``starts``: the row of that date is changed, or
    a row is added that ends where the next row of the standard begins; a row running
    over the date is ended the day before. 核实 is 是 only when the admin says so."""
    rows, before = Rows(sheets), starts - timedelta(days=1)
    check = "是" if verified else "否"
    notes, later, inherited = [], [], None
    for row in rows.of(standard):
        # cells as the sheet holds them: dates, or text such as 2026/12/5 or 2026年12月5日
        began, ended = _day(rows.at(row, "生效日期")), _day(rows.at(row, "失效日期"))
        if began == starts:
            was = text(rows.at(row, "核实")).strip()
            for name, cell in (("值", value), ("来源", source or rows.at(row, "来源")), ("核实", check)):
                rows.put(row, name, cell)
            changed = f"（原为{was or '空'}）" if was and was != check else ""
            return f"已把 {starts} 起的「{standard.name_cn}」改为 {value}；核实＝{check}{changed}"
        if began is not None and began > starts:
            later.append(began)
        elif began is not None and (ended is None or ended >= starts):
            inherited = rows.at(row, "失效日期")
            rows.put(row, "失效日期", before)
            notes.append(f"原 {began} 起的一行失效日期设为 {before}")
    ends: Value = inherited
    if later:
        ends = min(later) - timedelta(days=1)
        notes.append(f"新的一行到 {ends} 为止，因为 {min(later)} 起已有一行")
    elif inherited:
        notes.append(f"新的一行沿用原来的失效日期 {text(inherited)}")
    unit = next((r.unit for r in standard.rows if r.unit), "")
    row: list[Value] = [None] * len(rows.columns)
    for name, cell in (("标识", standard.id), ("名称", standard.name_cn), ("值", value), ("单位", unit),
                       ("生效日期", starts), ("失效日期", ends), ("来源", source), ("核实", check)):
        rows.put(row, name, cell)
    rows.sheet.rows.append(row)
    notes.append(f"核实＝{check}")
    return f"已加入「{standard.name_cn}」{value}，{starts} 起生效；" + "；".join(notes)


def _day(cell: Value) -> date | None:
    """A date cell read as the tables read it; None when empty or not a date (the
    check then names that cell)."""
    if cell is None or text(cell).strip() == "":
        return None
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    try:
        return parse_date(text(cell))
    except (ParseProblem, ValueError):
        return None


def other_county(file_name: str, county: str) -> str | None:
    """Why a workbook named for another county (``330106-西湖区.xlsx`` uploaded by an
    admin of 330108) is not taken as this county's working copy (None when it is)."""
    named = re.match(r"([0-9]{6})(?![0-9])", Path(file_name).name)
    if named is None or named.group(1) == county:
        return None
    return (f"上传的「{file_name}」按文件名是 {named.group(1)} 的工作簿，而你正在编辑 {county} 的工作副本；"
            f"如确实要用它的内容，请先把文件改名（例如 {county}-….xlsx）再上传")


def exported_from(sheets: list[Sheet], county: str) -> str | None:
    """Why a workbook exported from another county's version (its 版本信息 sheet says
    导出自 330108@3) is not taken whatever its file name (helper-39); None otherwise."""
    info = next((s for s in sheets if s.name == INFO_SHEET), None)
    for row in info.rows if info else []:
        for cell in row:
            version = exported_version(str(cell or ""))
            if version and version[:6] != county:
                return (f"是从 {version} 导出的工作簿（见其「{INFO_SHEET}」表），而你正在编辑 {county} 的"
                        f"工作副本；如确实要用它的内容，请删去「{INFO_SHEET}」表后再上传")
    return None


SHEET_NAME_LIMIT = 31  # Excel's longest sheet name
SHEET_NAME_FORBIDDEN = "[]:*?/\\"


def other_kind(file_name: str) -> str:
    """Why a file neither .xlsx nor .csv is not taken (the uploader accepts any file,
    so that this is said in Chinese rather than by Streamlit in English)."""
    suffix = Path(file_name).suffix.lower()
    if suffix in (".xls", ".xlsm", ".et"):
        return (f"上传的「{file_name}」不是 .xlsx 工作簿：请在 Excel 或 WPS 中「另存为」"
                "Excel 工作簿（.xlsx）后再上传")
    return f"上传的「{file_name}」既不是 .xlsx 工作簿，也不是 .csv 工作表；请上传其中一种"


def csv_sheet_name(file_name: str) -> str | None:
    """Why an uploaded CSV's name cannot name a sheet (None when it can)."""
    stem = Path(file_name).stem
    bad = sorted({ch for ch in stem if ch in SHEET_NAME_FORBIDDEN})
    should = "文件名（去掉 .csv）就是要替换的工作表名，例如「标准参数.csv」"
    if bad:
        return f"上传的「{file_name}」不能用作工作表名：含有 Excel 工作表名不允许的字符 {' '.join(bad)}；{should}"
    if len(stem) > SHEET_NAME_LIMIT:
        return (f"上传的「{file_name}」不能用作工作表名：文件名去掉 .csv 后有 {len(stem)} 个字符，"
                f"Excel 工作表名最多 {SHEET_NAME_LIMIT} 个字符；{should}")
    if not stem.strip() or stem.startswith("'") or stem.endswith("'"):
        return f"上传的「{file_name}」不能用作工作表名：名称为空或以单引号开头、结尾；{should}"
    return None


def emptied(upload: Sheet, current: Sheet | None, file_name: str) -> str | None:
    """Why an uploaded sheet would empty or garble a sheet the compiler reads: it has
    no header row, a header other than the sheet's, or no rows below it. A 0-byte
    标准参数.csv replaced the sheet with nothing, unpublished edits included (helper-51).
    None when it may replace ``current`` (the draft's sheet of that name, if any)."""
    name = f"「{file_name}」" + (f"中的工作表「{upload.name}」" if not file_name.lower().endswith(".csv") else "")
    read = upload.is_table or upload.name.strip() in KNOWN_SHEETS
    if current is not None and (current.is_table or current.name.strip() in KNOWN_SHEETS):
        read = True
    if not read:
        return None  # a sheet the compiler does not read (说明…): kept as it is
    if not any(any(text(v) for v in r) for r in upload.rows):
        return f"上传的{name}是空的，没有表头行"
    head = grids.head_rows(upload)
    if current is not None and current.rows:
        wanted = _header(current)
        missing = [c for c in wanted if c and c not in _header(upload)]
        if missing or current.is_table != upload.is_table:
            return (f"上传的{name}的表头与工作表「{current.name}」的不同"
                    + (f"，缺少{''.join(f'「{c}」' for c in missing)}" if missing else "")
                    + f"；表头应为 {'、'.join(wanted)}")
    if len(upload.rows) <= head or not any(any(text(v) for v in r) for r in upload.rows[head:]):
        return f"上传的{name}只有表头、没有数据行"
    return None


def _header(sheet: Sheet) -> list[str]:
    """The column names: row 1, or a decision table's names row (row 3)."""
    row = sheet.rows[2] if sheet.is_table and len(sheet.rows) > 2 else (sheet.rows[0] if sheet.rows else [])
    return [text(v) for v in row if text(v)]


def uploaded_sheets_refusal(found: list[Sheet], file_name: str) -> str | None:
    """The first reason an upload's sheets may not replace the draft's (``emptied``)."""
    assert ctx.draft is not None
    current = {s.name: s for s in drafts.load_sheets(ctx.draft)}
    for sheet in found:
        reason = emptied(sheet, current.get(sheet.name), file_name)
        if reason:
            return reason
    return None


def transfer() -> None:
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
    # no ``type``: Streamlit would refuse an .xls in English; replace_from says why
    upload = right.file_uploader("上传 .xlsx 工作簿替换工作副本，或上传一个工作表的 .csv（文件名即表名）",
                                 key=f"upload-{ctx.draft.revision}",
                                 help=ui.upload_help("一个 .xlsx 工作簿，或一个 .csv 工作表"))
    if upload is not None:
        replace_from(upload.name, upload.getvalue())


def replace_from(file_name: str, data: bytes) -> None:
    """Replace the draft (an .xlsx) or one of its sheets (a .csv) with an upload; an
    upload that cannot be read or holds nothing the compiler reads changes nothing."""
    assert ctx.draft is not None
    name = Path(file_name).name
    if name.lower().endswith(".csv"):
        refusal = csv_sheet_name(name)
    elif name.lower().endswith(".xlsx"):
        refusal = other_county(name, ctx.county)
    else:
        refusal = other_kind(name)
    if refusal:
        st.error(refusal + "。工作副本未改动。", icon=":material/block:")
        return
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / name
        path.write_bytes(data)
        found, problems = read_sheets(path)
        if not any(p.is_error for p in problems) and path.suffix.lower() != ".csv":
            # the reader's warnings (a hidden sheet or row, W001/W002) are kept
            problems = problems + workspace.unrecognised(ctx.root, ctx.county, path, ctx.settings.today())
    exported = exported_from(found, ctx.county)
    if exported:
        st.error(f"上传的「{name}」{exported}。工作副本未改动。", icon=":material/block:")
        return
    problems = [dataclasses.replace(d, location=dataclasses.replace(d.location, file=name))
                for d in problems]  # the upload's name, not the scratch folder's path
    if any(p.is_error for p in problems) or not found:
        st.error("上传的文件无法使用，工作副本未改动：")
        ui.diagnostics_list(problems)
        return
    if path.suffix.lower() == ".csv":
        found[0].name = path.stem
    refusal = uploaded_sheets_refusal(found, name)
    if refusal:
        st.error(f"{refusal}。工作副本未改动；如确要清空一个工作表，请在上方的表格中删除各行。",
                 icon=":material/block:")
        return
    st.session_state[UPLOAD_WARNINGS] = problems  # said after the page runs again
    latest = drafts.load_sheets(ctx.draft)
    if path.suffix.lower() == ".csv":
        names = [s.name for s in latest]
        if found[0].name in names:
            latest[names.index(found[0].name)] = found[0]
        else:
            latest.append(found[0])
        save(latest, f"已用上传的「{name}」替换工作表「{found[0].name}」", ctx.draft.revision)
    save(found, f"已用上传的「{name}」替换工作副本", ctx.draft.revision)


def effect_day(where: Any) -> tuple[date | None, date]:
    """The decision date of the counts and its default: today, or the first day from
    which the working copy's pending standards (its own rows, or its city's new row)
    decide anything (``pending.default_day``, shared with 「样本预览」), kept as the
    admin typed it until that day changes."""
    default = pending.default_day(ctx, result, "effect_as_of")
    return ui.read_date(ui.date_field(where, "决策日", "effect_as_of", default), "决策日", where), default


def sample_effect() -> None:
    st.subheader("对样本家庭的影响")
    if result.errors:
        st.info("工作副本有错误，改正后这里显示样本家庭的决策。")
        return
    left, right = st.columns([1, 3])
    day, default = effect_day(left)
    right.caption("决策日默认为今天；本县读取的标准参数（本县工作副本的行，或市级、省级工作簿的行）有与已发布版本不同、"
                  "今天以后才生效的取值时（例如刚填入的明年 1 月 1 日起的新标准，或市里新定的低保标准），"
                  "默认为其中最早的生效日期，以便看到新标准的效果。可改为任意一天。")
    if day is None:
        return
    right.caption(pending.day_said(day, default, ctx.settings.today()))
    checked = result if day == result.as_of else ui.checked(ctx, as_of=day)
    early = ui.before_standards(checked.errors, day, "决策日")
    if early or checked.errors:
        st.info(f"无法计算：{early}" if early else
                f"工作副本在决策日 {day} 有 {len(checked.errors)} 个错误，改正后这里显示样本家庭的决策。")
        return
    with st.spinner("正在为样本家庭重新作出决策……"):
        preview = ui.previewed(ctx, checked, ctx.settings.samples)
    if preview.refused:
        st.error(preview.refused, icon=":material/block:")
        return
    if preview.problems:
        ui.diagnostics_list(preview.problems)
        return
    counts = Counter(str(r.get("group") or "none") for r in preview.rows)
    last = st.session_state.setdefault("last_counts", {}).get((ctx.county, day))
    columns = st.columns(len(ui.GROUP_CN))
    for column, (group, name) in zip(columns, ui.GROUP_CN.items(), strict=True):
        delta = counts.get(group, 0) - last.get(group, 0) if last else None
        column.metric(name, counts.get(group, 0), delta=delta if delta else None)
    st.session_state["last_counts"][(ctx.county, day)] = dict(counts)
    st.caption(f"决策日 {day} · 样本 {preview.households} 户 · 检查 {checked.seconds:.2f} 秒 · 决策 {preview.seconds:.2f} 秒"
               " · 与本次登录中上一次预览（同一决策日）相比的变化显示在数字下方；逐户结果和理由见「样本预览」页")


flash = st.session_state.pop("flash", None)
if flash:
    st.success(flash, icon=":material/save:")
refusals()
errors = len(result.errors)
summary = f"{errors} 个错误，{len(result.warnings)} 个警告" if errors or result.warnings else "没有发现问题"
(st.error if errors else st.info)(f"检查结果：{summary}（检查用时 {result.seconds:.2f} 秒；缺口、重叠等一致性分析见「一致性检查」页）")
shown_names = {s.name for s in sheets if s.is_table or s.name.strip() in KNOWN_SHEETS}
whole = [d for d in result.report.items if str(d.location.file or "").endswith(tuple(_own_files()))
         and d.location.sheet not in shown_names]
if whole:  # about the workbook itself (E004) or a sheet without a grid
    ui.diagnostics_list(whole, ui.placer(ctx))
if ctx.editable:
    quick_edit()
effect = st.container()
if not sheets:
    st.info("本县工作簿还没有内容：用上方的表单加入一项标准，或上传工作簿。")
edits = {}
for position, sheet in enumerate(list(sheets)):
    edited = sheet_section(sheet, revision)
    if edited is not None:
        edits[position] = edited
if edits:
    save_edits(sheets, edits, revision)
if ctx.draft is not None and ctx.editable and revision != ctx.draft.revision:
    # saved elsewhere (another tab, the 发布 page) with no edit pending here
    if form_says.said:  # the form checked its value against the draft as it is now
        when = ctx.draft.updated_at[:19].replace("T", " ")
        notice = (f"工作副本已在别处保存（{ctx.draft.updated_by}，{when}），下面已载入最新的工作副本；"
                  "「调整一项标准」按最新的工作副本检查了你提交的取值：")
        st.session_state[FORM_CARRIED] = (notice, form_says.said)
    reload_grids()
    st.rerun()
others = [d for d in result.report.items if not str(d.location.file or "").endswith(tuple(_own_files()))]
if others:
    with st.expander(f"上级（省、市）工作簿的诊断：{len(others)} 条", expanded=bool([d for d in others if d.is_error])):
        ui.diagnostics_list(others, ui.placer(ctx))
with effect:
    sample_effect()
st.divider()
transfer()
