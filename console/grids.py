"""Sheets as grids for ``st.data_editor`` and back, and diagnostics placed on them.

A grid shows the rows below a sheet's header (row 1 for 标准参数, 派生值 and 日历; rows
1-4, or 1-5 with 默认, for a decision table), one grid row per sheet row, so the cell
a diagnostic names (``C7``) is always the same grid row and column. Empty grid rows
are written as empty sheet rows, which the reader skips.

Columns keep their kind: 核实 is 是/否, and a standard's value is text as a person
types it (``1,301``, ``1301元``) beside two read-only columns, its type and how the
compiler read it (``1,301.00 元``), so a money standard visibly stays money after an
edit. A date (生效日期, 失效日期, 日历's 日期) is text too, read as the tables read a date
cell (``2027年1月1日``, ``2027/1/1``, full-width digits, an Excel serial): Streamlit's
date column read a pasted ``45900`` as 1970-01-01, ``2027年1月1日`` as today and
``1/2/2027`` as 2 January, unsaid (helper-89). ``typed_dates`` says which edited date
cells do not read, and which 生效日期 of a standards sheet falls outside the years
households are decided in (E408, as ``jiuzhu check`` says), so that the county's
标准与规则 and the province's 省级工作簿 refuse them by cell rather than save them.

Cells show the text as stored (full-width punctuation, spaces and line breaks kept), and
a cell the user did not edit goes back to the sheet exactly as it was read, its type
included: saving one edit changes one cell.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pandas as pd

from compiler.calendar import FIRST_DAY, FIRST_YEAR, LAST_DAY, LAST_YEAR
from compiler.diagnostics import Diagnostic, Location, make
from compiler.load import COLUMNS, SHEETS
from compiler.model import Kind, Standard
from compiler.normalise import ParseProblem, fold_text, parse_date
from console.sheets import Sheet, Value, text

DATE_COLUMNS = {"生效日期", "失效日期", "日期"}
# the headers the tables read as those columns (effective_from, 生效...), in any letter
# case (compiler/load.py): the grids read them as dates
DATE_HEADERS = {n.casefold() for key in ("from", "until", "date") for n in COLUMNS[key]}
STARTS_HEADERS = {n.casefold() for n in COLUMNS["from"]}
STANDARDS_SHEETS = {n.casefold() for n in SHEETS["standards"]}
DATE_HELP = ("日期，如 2027-01-01、2027/1/1 或 2027年1月1日（与工作簿中日期单元格的读法相同）；"
             "无法读取的日期不会保存")
# What a grid shows in a cell with no value: Streamlit showed a grey "None" (helper-51).
EMPTY_CELL = ""
YES_NO_COLUMNS = {"核实", "县可改"}
KIND_CN = {
    Kind.MONEY: "金额（元）", Kind.NUMBER: "数值", Kind.INTEGER: "整数", Kind.PERCENT: "百分比",
    Kind.BOOLEAN: "是否", Kind.DATE: "日期", Kind.TEXT: "文本", Kind.ENUM: "枚举", Kind.LIST: "列表",
}
TYPE_COLUMN, READ_COLUMN, PROBLEM_COLUMN = "类型", "程序读作", "问题"
# Sheet columns renamed (with ′) to make way for a helper. A sheet's own 类型 column (the
# province's, or a county workbook exported from a published version) is shown as it
# is, in place of the helper: never two 类型 columns.
RENAMED = (READ_COLUMN, PROBLEM_COLUMN)


@dataclass
class Grid:
    """A sheet laid out for the editor: fixed head rows, the grid's columns, its rows."""

    sheet: Sheet
    head: list[list[Value]]
    columns: list[str]
    frame: pd.DataFrame
    helpers: list[str] = field(default_factory=list)
    date_columns: list[str] = field(default_factory=list)  # read as dates when edited
    shown: pd.DataFrame | None = None  # the grid's cells before editing, to tell edits

    @property
    def first_row(self) -> int:
        """The sheet row number of grid row 0."""
        return len(self.head) + 1


def head_rows(sheet: Sheet) -> int:
    if sheet.is_table:
        has_default = len(sheet.rows) > 4 and text(sheet.rows[4][0] if sheet.rows[4] else None) == "默认"
        return 5 if has_default else 4
    return 1 if sheet.rows else 0


def labels(sheet: Sheet, head: int) -> list[str]:
    """Unique column labels: the header cells (a decision table's names row)."""
    width = max(sheet.width(), 1)
    source = sheet.rows[2] if sheet.is_table else (sheet.rows[0] if head else [])
    found: list[str] = []
    for col in range(width):
        name = text(source[col]) if col < len(source) else ""
        if sheet.is_table and col == 0:
            name = "规则编号"
        name = name or column_letter(col)
        while name in found or name in RENAMED:
            name += "′"
        found.append(name)
    return found


def column_letter(col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def to_grid(sheet: Sheet, standards: dict[str, Standard] | None = None,
            read_values: dict[int, str] | None = None,
            problems: dict[int, list[str]] | None = None) -> Grid:
    """The sheet as a grid; ``standards`` (the province's, by id and name) adds the
    type column to a 标准参数 sheet, ``read_values`` (by sheet row) what the compiler
    read, ``problems`` (by sheet row) the diagnostic codes of the row."""
    head = head_rows(sheet)
    columns = labels(sheet, head)
    body = [list(r) + [None] * (len(columns) - len(r)) for r in sheet.rows[head:]]
    frame = pd.DataFrame(body, columns=columns, dtype=object) if body else pd.DataFrame(
        {c: pd.Series([], dtype=object) for c in columns})
    for column in columns:
        frame[column] = [_shown(v) for v in frame[column]]
    # a decision table's cells are tests (``>= 2025-01-01``), never read as one date
    dates = [] if sheet.is_table else [c for c in columns if c.strip().casefold() in DATE_HEADERS]
    grid = Grid(sheet, [list(r) for r in sheet.rows[:head]], columns, frame, date_columns=dates,
                shown=frame.copy())
    if sheet.name in ("标准参数", "standards") and "值" in columns and standards is not None:
        position = columns.index("值") + 1
        if TYPE_COLUMN not in columns:
            frame.insert(position, TYPE_COLUMN, [_type_of(r, columns, standards) for r in body])
            grid.helpers.append(TYPE_COLUMN)
            position += 1
        frame.insert(position, READ_COLUMN, [
            (read_values or {}).get(i + head + 1, "") for i in range(len(body))])
        grid.helpers.append(READ_COLUMN)
    if problems is not None:
        frame[PROBLEM_COLUMN] = ["、".join(problems.get(i + head + 1, [])) for i in range(len(body))]
        grid.helpers.append(PROBLEM_COLUMN)
    return grid


def _shown(value: Value) -> str:
    """A cell as the grid shows it: an empty one as empty text, which the editor shows
    blank (None showed as a grey English "None" in every empty cell; helper-43) and
    ``_cell`` reads back as empty."""
    if isinstance(value, str):
        return value if value.strip() else ""  # as stored: spaces and breaks kept
    return text(value) or ""


def _type_of(row: list[Value], columns: list[str], standards: dict[str, Standard]) -> str:
    for key in ("标识", "名称"):
        if key in columns:
            found = standards.get(text(row[columns.index(key)]))
            if found is not None:
                return KIND_CN.get(found.dtype.kind, str(found.dtype.kind))
    return ""


def from_grid(grid: Grid, frame: pd.DataFrame) -> Sheet:
    """The sheet the edited frame stands for (helper columns dropped)."""
    rows: list[list[Value]] = [list(r) for r in grid.head]
    for label, record in zip(frame.index, frame[grid.columns].itertuples(index=False), strict=True):
        rows.append([_kept(grid, label, col, v) for col, v in enumerate(record)])
    while len(rows) > len(grid.head) and not any(_present(v) for v in rows[-1]):
        rows.pop()  # trailing empty rows: nothing to keep
    return Sheet(grid.sheet.name, [_trim(r) for r in rows], list(grid.sheet.merged))


def _kept(grid: Grid, label: object, col: int, value: Any) -> Value:
    """The sheet's own cell when the user left it as shown (the editor keeps each row's
    index label, new rows get new ones), else the edited value: in a date column its
    date when it reads as one (``typed_dates`` names those that do not)."""
    if _edited(grid, label, col, value):
        typed = _cell(value)
        if grid.columns[col] in grid.date_columns and isinstance(typed, str):
            day = _read_date(typed)
            return day if isinstance(day, date) else typed
        return typed
    row = grid.sheet.rows[len(grid.head) + int(label)]  # type: ignore[call-overload]
    return row[col] if col < len(row) else None


def _edited(grid: Grid, label: object, col: int, value: Any) -> bool:
    """Whether the cell differs from what the grid showed (a new row's always do)."""
    shown = grid.shown
    if shown is None or label not in shown.index:
        return True
    return _cell(value) != _cell(shown.at[label, grid.columns[col]])


def _read_date(typed: str) -> date | ParseProblem:
    """A date typed into the grid as the tables read a date cell, or why it is none."""
    try:
        return parse_date(typed)
    except ParseProblem as problem:
        return problem


def typed_dates(grid: Grid, frame: pd.DataFrame, file: str) -> tuple[list[Diagnostic], list[str]]:
    """The edited date cells the tables would refuse, each at its cell of ``file``: an
    E102 for one that does not read as a date, an E408 for a standard's 生效日期 outside
    the years households are decided in (the page saves none of the edit then), every
    one of them, so that a pasted block is put right at once; and a note for each read
    from an Excel serial (``45900`` is 2025-08-31), so that the admin sees the date it
    became."""
    refused, notes = [], []
    for position, (label, record) in enumerate(zip(frame.index, frame[grid.columns].itertuples(index=False),
                                                   strict=True)):
        for col, value in enumerate(record):
            typed = _cell(value)
            if (grid.columns[col] not in grid.date_columns or not isinstance(typed, str)
                    or not _edited(grid, label, col, value)):
                continue
            where = Location(file, grid.sheet.name, f"{column_letter(col)}{grid.first_row + position}")
            day = _read_date(typed)
            if isinstance(day, ParseProblem):
                refused.append(day.diagnostic(where))
                continue
            if _starts(grid, col) and not FIRST_DAY <= day <= LAST_DAY:
                refused.append(outside_years(day, typed, where))
            if SERIAL.fullmatch(fold_text(typed)):
                notes.append(f"「{grid.columns[col]}」（{where.cell}）的「{typed}」按 Excel 日期序号读作 {day}")
    return refused, notes


def _starts(grid: Grid, col: int) -> bool:
    """Whether a grid column is a standards sheet's 生效日期, which the tables hold to
    the calendar's years (E408)."""
    return (grid.sheet.name.strip().casefold() in STANDARDS_SHEETS
            and grid.columns[col].strip().casefold() in STARTS_HEADERS)


def outside_years(day: date, typed: str, where: Location) -> Diagnostic:
    """E408 at ``where`` for a 生效日期 outside 2015-2040, worded as ``jiuzhu check``
    words it (compiler/load.py, ``within_calendar``): 45900 pasted into a date picker
    became 1970-01-01 (helper-89)."""
    early = day < FIRST_DAY
    return make(
        "E408",
        f"生效日期 {day} {'早于' if early else '晚于'} {FIRST_DAY if early else LAST_DAY}，"
        f"不在决策可用的 {FIRST_YEAR} 至 {LAST_YEAR} 年之间",
        where,
        found=typed,
        expected=f"不早于 {FIRST_DAY}、不晚于 {LAST_DAY} 的日期，如 2025-01-23",
        hint=(f"多为录入或粘贴错误，例如日期序号被读成了 1970 年；文件确在此前生效时，写 {FIRST_DAY}"
              if early else "这一行不会用于任何决策，请核对年份"),
    )


def refusal_heading(refused: list[Diagnostic], kept: str) -> str:
    """What a page says above the dates it refused: nothing of the edit was saved and
    ``kept`` (工作副本, 草稿) is unchanged; how many cells to put right."""
    codes = {d.code for d in refused}
    outside = f"不在 {FIRST_YEAR} 至 {LAST_YEAR} 年之间"
    what = {"E102": "无法读取", "E408": outside}.get("".join(codes), f"无法读取或{outside}")
    count = f"（共 {len(refused)} 处）" if len(refused) > 1 else ""
    return (f"以下日期{what}，这次修改没有保存，{kept}未改动；请写成 2027-01-01、2027/1/1 或 "
            f"2027年1月1日 后重新输入{count}：")


SERIAL = re.compile(r"\d{1,7}(?:\.0*)?")  # a number the tables read as an Excel serial date


def _present(value: Value) -> bool:
    return value is not None and value != ""


def _trim(row: list[Value]) -> list[Value]:
    while row and not _present(row[-1]):
        row = row[:-1]
    return row


def _cell(value: Any) -> Value:
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    shown = str(value)
    return shown if shown.strip() else None


def same_rows(a: Sheet, b: Sheet) -> bool:
    """Whether two sheets hold the same cells as a person reads them (a date and its
    ISO text are the same cell)."""
    def shown(sheet: Sheet) -> list[list[Value]]:
        rows = [_trim([text(_cell(v)) or None for v in r]) for r in sheet.rows]
        while rows and not rows[-1]:
            rows.pop()
        return rows

    return shown(a) == shown(b)


# ---------------------------------------------------------------- diagnostics on grids


ROW_OF = re.compile(r"([A-Z]+)(\d+)")


def cell_of(diagnostic: Diagnostic) -> tuple[int, int] | None:
    """(row, col) from 1 of the cell a diagnostic names, if it names one."""
    match = ROW_OF.fullmatch(diagnostic.location.cell or "")
    if not match:
        return None
    col = 0
    for letter in match.group(1):
        col = col * 26 + ord(letter) - 64
    return int(match.group(2)), col


def place(diagnostic: Diagnostic, grid: Grid | None) -> str:
    """Where a diagnostic is, in the words of the grid: 「标准参数」第 2 行「值」（C3）."""
    location = diagnostic.location
    sheet = f"「{location.sheet}」" if location.sheet else ""
    found = cell_of(diagnostic)
    if found is None or grid is None:
        return f"{sheet}{location.cell or ''}".strip() or "工作簿"
    row, col = found
    if row < grid.first_row:
        return f"{sheet}表头第 {row} 行（{location.cell}）"
    column = grid.columns[col - 1] if col - 1 < len(grid.columns) else column_letter(col - 1)
    return f"{sheet}第 {row - grid.first_row + 1} 行「{column}」（{location.cell}）"


def problems_by_row(diagnostics: list[Diagnostic], sheet_name: str) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for d in diagnostics:
        spot = cell_of(d)
        if d.location.sheet == sheet_name and spot is not None:
            found.setdefault(spot[0], []).append(d.code)
    return found


def money_text(value: object, kind: Kind, unit: str = "") -> str:
    """How the compiler read a standard's value, for the 程序读作 column."""
    if value is None:
        return "（空）"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        if kind is Kind.MONEY:
            return f"{value:,.2f} 元"
        if kind is Kind.PERCENT:
            return f"{value * 100:.2f}%"
        return format(value.normalize(), "f")
    return str(value)
