"""Write the table model back as an .xlsx workbook in the format of docs/table-format.md.

``write_xlsx`` writes any Workbook (fields, standards, derived values, calendar, one
sheet per decision table, laid out as section 3 of the format describes, then the
sheets the compiler does not read, such as 说明; free text as typed); reading the
file back with ``compiler.load.load_workbook`` gives the same model. Two views of a
county's resolved rulebook are provided:

- ``county_workbook``: only what the county itself sets (its standard rows, its derived
  values and tables): the workbook to drop into ``tables/counties/`` to start editing
  from a published version;
- ``full_workbook``: everything that decides for the county in one province-style
  workbook (standards flattened to the value in force in each period), for analysts and
  for archiving a version outside the registry.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
from openpyxl.worksheet.cell_range import CellRange  # type: ignore[import-untyped]
from openpyxl.worksheet.merge import MergedCellRange  # type: ignore[import-untyped]
from openpyxl.worksheet.worksheet import Worksheet  # type: ignore[import-untyped]

from compiler.canonical import layer_of_row
from compiler.cells import a1
from compiler.diagnostics import NOWHERE, Diagnostic, Location
from compiler.errors import ValidationFailed
from compiler.expr import Expr, Test, render
from compiler.model import (
    LEVEL_CN,
    OtherSheet,
    RuleBook,
    Standard,
    StandardRow,
    Table,
    Workbook,
    WorkbookKind,
)
from compiler.normalise import (
    CONTROL_CHARACTERS,
    EXCEL_CELL_LIMIT,
    REORDERING,
    excel_length,
    show_controls,
    show_reordering,
)
from compiler.read import too_long

STANDARD_COLUMNS = [
    "标识",
    "名称",
    "值",
    "单位",
    "生效日期",
    "失效日期",
    "来源",
    "备注",
    "类型",
    "县可改",
    "下限",
    "上限",
    "核实",
]
INFO_SHEET = "版本信息"


class _Cells:
    """What writing met on the way: cells whose control characters were written
    visibly (sheet!A1), and cells too long for Excel (E012)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.shown: list[str] = []
        self.too_long: list[Diagnostic] = []


def write_xlsx(
    workbook: Workbook,
    path: str | Path,
    info: Sequence[tuple[str, str]] = (),
    shown: list[str] | None = None,
) -> Path:
    """Write ``workbook`` to ``path`` (.xlsx); ``info`` rows go to a 版本信息 sheet,
    which the loader ignores (its A2 is not 规则).

    Text published before the reader refused control characters (E011) still holds
    them; they are written visibly as ``<U+001B>``, the cells named in the 版本信息
    sheet and appended to ``shown`` (as ``sheet!A1``), so the workbook reads back
    with that text for the county to correct.

    Raises:
        ValidationFailed: a text is longer than an Excel cell holds (E012, at the
            sheet and cell it would have gone to); nothing is written.
    """
    path = Path(path)
    cells = _Cells(path)
    book = openpyxl.Workbook()
    book.remove(book.active)
    _fill(book, workbook, cells)
    info = list(info) + _shown_note(cells.shown)
    if info:
        rows = [["项目", "内容"], *[list(r) for r in info]]
        _rows(book.create_sheet(INFO_SHEET), rows, cells)
    if not book.sheetnames:
        _rows(book.create_sheet("标准参数"), [STANDARD_COLUMNS[:8]], cells)
    if cells.too_long:
        raise ValidationFailed(cells.too_long)
    path.parent.mkdir(parents=True, exist_ok=True)
    # saved beside (hidden from the tables reader) and renamed over: stopped half-way,
    # an export into the working copy leaves the workbook that was there
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        book.save(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    if shown is not None:
        shown += cells.shown
    return path


def _fill(book: openpyxl.Workbook, workbook: Workbook, cells: _Cells) -> None:
    """One sheet per part of ``workbook``, in the order docs/table-format.md gives."""
    province = workbook.kind is WorkbookKind.PROVINCE
    if workbook.fields:
        _fields_sheet(book.create_sheet("字段"), workbook, cells)
    if workbook.standards:
        sheet = book.create_sheet("标准参数")
        _standards_sheet(sheet, workbook.standards, province, cells)
    if workbook.derived:
        _derived_sheet(book.create_sheet("派生值"), workbook, province, cells)
    if workbook.calendar:
        rows: list[list[object]] = [["日期", "类型", "说明"]]
        rows += [
            [d.day, "补班" if d.working else "休息日", d.note]
            for d in workbook.calendar
        ]
        _rows(book.create_sheet("日历"), rows, cells)
    names: set[str] = set(book.sheetnames)
    for table in workbook.tables:
        _table_sheet(book.create_sheet(_sheet_name(table.id, names)), table, cells)
    for other in workbook.other_sheets:  # 说明 and the like, as the county typed them
        sheet = book.create_sheet(_sheet_name(other.name, names))
        _rows(sheet, other.rows, cells)
        merge_ranges(sheet, other)


def merge_ranges(sheet: Worksheet, other: OtherSheet) -> None:
    """Merge the ranges the county merged in a sheet the compiler does not read (the
    reader refuses merges only in tables and list sheets, E006).

    A range is left unmerged, its text kept, when it does not parse, is one cell,
    overlaps a range merged before it (Excel would repair the file) or covers text
    besides its top-left cell (merging would hide it). The range is recorded as
    ``merge_cells`` records it, without the placeholder cells that call makes for
    every covered cell: a merge across a whole column would make a million of them
    and widen the sheet's declared range (W003 when read back)."""
    typed = [
        (r, c)
        for r, row in enumerate(other.rows, 1)
        for c, text in enumerate(row, 1)
        if text
    ]
    kept: list[CellRange] = []
    for ref in other.merged:
        try:
            box = CellRange(ref.replace("$", ""))
        except (TypeError, ValueError):
            continue
        hides = any(
            box.min_row <= r <= box.max_row
            and box.min_col <= c <= box.max_col
            and (r, c) != (box.min_row, box.min_col)
            for r, c in typed
        )
        single = box.min_row == box.max_row and box.min_col == box.max_col
        if hides or single or any(not box.isdisjoint(k) for k in kept):
            continue
        kept.append(box)
        sheet.merged_cells.add(MergedCellRange(sheet, box.coord))


def _shown_note(shown: list[str]) -> list[tuple[str, str]]:
    if not shown:
        return []
    listed = "、".join(shown[:20]) + (f" 等 {len(shown)} 处" if len(shown) > 20 else "")
    note = f"以下单元格原有不可见的控制字符或改变文字方向的字符，已写作 <U+001B> 的形式，请删除：{listed}"
    return [("控制字符", note)]


def _rows(sheet: Worksheet, rows: Sequence[Sequence[object]], cells: _Cells) -> None:
    for r, row in enumerate(rows, 1):
        for c, value in enumerate(row, 1):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                value = _writable(value, sheet, r, c, cells)
            cell = sheet.cell(r, c, _cell_value(value))
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # a test like "= 5", not a formula
            if isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"


def _writable(text: str, sheet: Worksheet, r: int, c: int, cells: _Cells) -> str:
    """``text`` as an Excel cell can hold it; what could not be is noted in ``cells``."""
    if CONTROL_CHARACTERS.search(text) or REORDERING.search(text):
        # held before the reader refused them (E011): written visibly, to be deleted
        text = show_reordering(show_controls(text))
        cells.shown.append(f"{sheet.title}!{a1(r, c)}")
    if len(text) > EXCEL_CELL_LIMIT // 2 and excel_length(text) > EXCEL_CELL_LIMIT:
        where = Location(str(cells.path), sheet.title, a1(r, c))
        cells.too_long.append(too_long(text, where))
        return ""
    return text


def _cell_value(value: object) -> object:
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral() else float(value)
    return value


def _fields_sheet(sheet: Worksheet, workbook: Workbook, cells: _Cells) -> None:
    header: list[object] = ["标识", "名称", "层级", "类型", "默认", "下限", "上限", "说明"]
    rows = [header]
    for f in workbook.fields:
        level, kind = LEVEL_CN[f.level], f.dtype.render()
        rows.append([f.id, f.name_cn, level, kind, f.default, f.lower, f.upper, f.note])
    _rows(sheet, rows, cells)


def _standards_sheet(
    sheet: Worksheet, standards: list[Standard], province: bool, cells: _Cells
) -> None:
    header: list[object] = list(
        STANDARD_COLUMNS if province else STANDARD_COLUMNS[:9] + ["核实"]
    )
    rows: list[list[object]] = [header]
    firsts: set[str] = set()
    for s, row in _as_read(standards):
        head = [
            s.id,
            s.name_cn,
            row.value,
            row.unit,
            row.effective_from,
            row.effective_until,
            row.source,
            row.note,
            s.dtype.render(),
        ]
        if province:  # the bounds once, on a standard's first row
            first = s.id not in firsts
            head += [
                s.overridable if first else None,
                s.lower_text if first else None,
                s.upper_text if first else None,
            ]
        firsts.add(s.id)
        rows.append([*head, row.verified])
    _rows(sheet, rows, cells)


def _as_read(standards: list[Standard]) -> list[tuple[Standard, StandardRow]]:
    """Each standard's rows, in the order of the sheet they were read from when every
    row says where it was (a county that lists its 2026 row above its 2025 row, or
    its standards in another order than the province, gets its sheet back as it was);
    otherwise standard by standard."""
    pairs = [(s, row) for s in standards for row in s.rows]
    known = [place for _, row in pairs if (place := _sheet_row(row.location))]
    if len(known) < len(pairs) or len({sheet for sheet, _ in known}) > 1:
        return pairs
    return [pair for _, pair in sorted(zip(known, pairs, strict=True), key=lambda x: x[0])]


def _sheet_row(location: Location) -> tuple[str, int] | None:
    """(file and sheet, row number) of a cell reference such as ``A7``; None if unknown."""
    match = re.fullmatch(r"\$?[A-Z]{1,3}\$?(\d+)", location.cell or "")
    if not (match and location.sheet):
        return None
    return (f"{location.file}:{location.sheet}", int(match.group(1)))


def _derived_sheet(
    sheet: Worksheet, workbook: Workbook, province: bool, cells: _Cells
) -> None:
    header: list[object] = ["标识", "名称", "层级", "类型", "表达式", "依据"]
    header += ["县可改"] if province else []
    rows: list[list[object]] = [header]
    for d in workbook.derived:
        row = [d.id, d.name_cn, LEVEL_CN[d.level], d.dtype.render(), d.text, d.basis]
        rows.append(row + ([d.overridable] if province else []))
    _rows(sheet, rows, cells)


def _sheet_name(name: str, taken: set[str]) -> str:
    base = re.sub(r"[\[\]:*?/\\]", "_", name)[:31] or "table"
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base[:28]}_{n}"
    taken.add(name)
    return name


def _table_sheet(sheet: Worksheet, table: Table, cells: _Cells) -> None:
    options = [f"层级={LEVEL_CN[table.level]}"]
    if table.overridable:
        options.append("县可改=是")
    if table.accepted_gap:
        options.append(f"接受缺口={table.accepted_gap}")
    kinds = [
        "规则",
        *["输入"] * len(table.inputs),
        *["输出"] * len(table.outputs),
        "注释",
    ]
    names = [
        "名称",
        *[c.text for c in table.inputs],
        *[c.id for c in table.outputs],
        table.annotation_header or "注释",
    ]
    types = [
        "类型",
        *[c.dtype.render() for c in table.inputs],
        *[c.dtype.render() for c in table.outputs],
    ]
    rows: list[list[object]] = [
        [table.id, table.title, table.policy_text, *options],
        list(kinds),
        list(names),
        list(types),
    ]
    if any(c.default is not None for c in table.outputs):
        rows.append(
            [
                "默认",
                *[None] * len(table.inputs),
                *[
                    render(c.default) if c.default is not None else None
                    for c in table.outputs
                ],
            ]
        )
    for rule in table.rules:
        tests = [_text(rule.test_texts, i, t) for i, t in enumerate(rule.tests)]
        outputs = [_text(rule.output_texts, i, o) for i, o in enumerate(rule.outputs)]
        rows.append([rule.id, *tests, *outputs, rule.annotation])
    _rows(sheet, rows, cells)


def _text(texts: list[str], index: int, tree: Expr | Test) -> str:
    """The cell's text as typed, or the canonical rendering of its tree."""
    if index < len(texts) and texts[index] is not None:
        return texts[index]
    return render(tree)


# ---------------------------------------------------------------- views of a rulebook


def county_workbook(book: RuleBook) -> Workbook:
    """What the county itself sets: its standard rows, derived values and tables."""
    county = Workbook("", book.county_code, book.county_name, WorkbookKind.COUNTY)
    for standard in book.standards.values():
        rows = [r for r in standard.rows if layer_of_row(book, r) == "county"]
        if rows:
            county.standards.append(_copy(standard, rows))
    own = _county_source(book)
    if own:
        county.derived = [
            d for d in book.derived.values() if _under(d.location.file, own)
        ]
        county.tables = [
            t for t in book.tables.values() if _under(t.location.file, own)
        ]
        county.calendar = [d for d in book.calendar if _under(d.location.file, own)]
    county.other_sheets = list(book.other_sheets)
    return county


def _county_source(book: RuleBook) -> str | None:
    return (
        book.sources[0]
        if len(book.sources) > 1 and _is_county(book, book.sources[0])
        else None
    )


def _is_county(book: RuleBook, source: str) -> bool:
    match = re.match(r"(\d{6})", Path(source).name)
    return bool(match and match.group(1) == book.county_code)


def _under(file: str | None, source: str) -> bool:
    return bool(file) and (
        file == source or str(file).startswith(source.rstrip("/") + "/")
    )


def _copy(standard: Standard, rows: list[StandardRow]) -> Standard:
    return Standard(
        standard.id,
        standard.name_cn,
        standard.dtype,
        list(rows),
        standard.overridable,
        standard.lower,
        standard.upper,
        standard.lower_text,
        standard.upper_text,
        standard.location,
    )


def full_workbook(book: RuleBook) -> Workbook:
    """Everything that decides for the county, as one province-style workbook; each
    standard's rows become the value in force in each period (county before city before
    province), so the periods never overlap."""
    from compiler.diff_rulebooks import timeline

    workbook = Workbook(
        "",
        "330000",
        f"{book.county_code}{book.county_name}",
        WorkbookKind.PROVINCE,
        list(book.fields.values()),
        [],
        list(book.derived.values()),
        list(book.tables.values()),
        list(book.calendar),
        other_sheets=list(book.other_sheets),
    )
    for standard in book.standards.values():
        rows = []
        for segment in timeline(standard):
            if segment.row is None:
                continue
            row = segment.row
            rows.append(
                StandardRow(
                    row.value,
                    segment.start,
                    segment.end,
                    row.unit,
                    row.source,
                    row.note,
                    row.verified,
                    NOWHERE,
                    "",
                )
            )
        workbook.standards.append(_copy(standard, rows))
    return workbook


__all__ = ["INFO_SHEET", "county_workbook", "full_workbook", "write_xlsx"]
