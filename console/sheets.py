"""A workbook as plain rows of cells, for the grids: read with the library's reader,
written back as an .xlsx (or a CSV folder) in the table format.

The console edits cells as people typed them, errors included: a cell that does not
parse yet must still be saved, so the draft is written from these rows, never from the
typed model (which only holds what parsed). Reading the file back with the compiler
gives the diagnostics, each naming a cell of exactly these rows. A text cell is kept as
stored, not folded (``Cell.verbatim``), and written back as it was, so saving one edit
changes no other cell (docs/table-format.md, section 5).
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

import openpyxl
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from compiler.diagnostics import Diagnostic, Location
from compiler.export import merge_ranges  # the export's rules for a merge
from compiler.load import without_notes_merges
from compiler.model import OtherSheet
from compiler.normalise import EXCEL_CELL_LIMIT, excel_length
from compiler.read import read_workbook, too_long

Value = str | date | None
PLAIN_NUMBER = re.compile(r"-?(0|[1-9]\d{0,14})(\.\d{1,6})?")


@dataclass
class Sheet:
    """One sheet: its name, its rows (row 1 first), each a list of cell values, and
    its merged ranges as the reader found them (``A1:H1``, a title across 说明)."""

    name: str
    rows: list[list[Value]] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)

    @property
    def is_table(self) -> bool:
        """A decision table: A2 says 规则 (docs/table-format.md, section 3)."""
        return len(self.rows) > 1 and bool(self.rows[1]) and text(self.rows[1][0]) == "规则"

    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)


def text(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def read_sheets(path: str | Path) -> tuple[list[Sheet], list[Diagnostic]]:
    """Every sheet of a workbook (.xlsx or CSV folder) as rows; the reader's problems."""
    raw, problems = read_workbook(path)
    sheets = []
    for raw_sheet in raw.sheets:
        rows: list[list[Value]] = []
        for cells in raw_sheet.rows():
            rows.append([_value(c.value, c.verbatim) if c is not None else None for c in cells])
        sheets.append(Sheet(raw_sheet.name, rows, list(raw_sheet.merged_ranges)))
    return sheets, without_notes_merges(raw, problems)  # a merged title in 说明 is fine


def _value(stored: object, shown: str) -> Value:
    if isinstance(stored, datetime):
        return stored.date()
    if isinstance(stored, date):
        return stored
    return shown


class CellTooLong(ValueError):
    """Cells hold more text than an .xlsx cell keeps; ``diagnostics`` name each (E012).

    openpyxl cuts such text to 32,767 characters without a word: the draft's callers
    refuse it first (``drafts.unwritable``), and this keeps any other caller from
    losing text silently."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("；".join(d.message for d in diagnostics))


def too_long_cells(path: str | Path, sheets: list[Sheet]) -> list[Diagnostic]:
    """E012 for each cell whose text an .xlsx cell cannot hold, at the sheet and cell."""
    found = []
    for sheet in sheets:
        for r, row in enumerate(sheet.rows, 1):
            for c, value in enumerate(row, 1):
                if isinstance(value, str) and len(value) > EXCEL_CELL_LIMIT // 2 \
                        and excel_length(value) > EXCEL_CELL_LIMIT:
                    where = Location(str(path), sheet.name, f"{get_column_letter(c)}{r}")
                    found.append(too_long(value, where))
    return found


def write_xlsx(path: str | Path, sheets: list[Sheet]) -> Path:
    """Write the rows as an .xlsx, atomically (a reader never sees half a file).

    Raises CellTooLong (nothing written) when a cell's text is longer than an .xlsx
    cell holds."""
    path = Path(path)
    cut = too_long_cells(path, sheets)
    if cut:
        raise CellTooLong(cut)
    path.parent.mkdir(parents=True, exist_ok=True)
    book = openpyxl.Workbook()
    book.remove(book.active)
    for sheet in sheets:
        target = book.create_sheet(sheet.name[:31])
        for r, row in enumerate(sheet.rows, 1):
            for c, value in enumerate(row, 1):
                if value is None or value == "":
                    continue
                cell = target.cell(r, c, _cell(value))
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"  # a test such as "= 5", not a formula
                if isinstance(value, date):
                    cell.number_format = "yyyy-mm-dd"
        _merge(target, sheet)
    if not book.sheetnames:
        book.create_sheet("标准参数")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".draft-", suffix=".xlsx")
    os.close(handle)
    book.save(temporary)
    os.replace(temporary, path)
    return path


def _merge(target: Worksheet, sheet: Sheet) -> None:
    """Merge the sheet's ranges again as the export does (a draft started from a
    published version lost 说明's merged title at its first save): a range that would
    hide a typed cell, overlaps another or is one cell is left unmerged. A merge in a
    table or list sheet is kept too, so that its E006 stays until the admin unmerges
    it, rather than its covered cells turning blank (in a table, "any value")."""
    if sheet.merged:
        typed = [[v if isinstance(v, str) else text(v) for v in row] for row in sheet.rows]
        merge_ranges(target, OtherSheet(sheet.name, typed, list(sheet.merged)))


def _cell(value: Value) -> object:
    """A plain decimal typed as text is written as a number, as Excel would keep it,
    when the number reads back as the same text; ``1.10``, ``1.0`` or a decimal a float
    cannot hold stays text, so no digit the admin typed is lost."""
    if isinstance(value, str) and PLAIN_NUMBER.fullmatch(value):
        try:
            number = Decimal(value)
        except InvalidOperation:
            return value
        if number == number.to_integral():
            whole = int(number)
            return whole if str(whole) == value else value
        return float(number) if repr(float(number)) == value else value
    return value


def _csv_form(path: Path) -> tuple[str, str]:
    """The encoding and line ending an existing CSV file was written with (Excel: UTF-8
    with BOM and CRLF; WPS: GB18030), so a rewrite changes only the edited cells; a new
    file is UTF-8 with LF, the province's form."""
    try:
        data = path.read_bytes()
    except OSError:
        return "utf-8", "\n"
    first = data.find(b"\n")  # the header row's ending: a cell may hold other breaks
    newline = "\r\n" if first > 0 and data[first - 1 : first] == b"\r" else "\n"
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", newline
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "gb18030", newline
    return "utf-8", newline


def write_csv_folder(folder: str | Path, sheets: list[Sheet], prune: bool = True) -> Path:
    """Write one UTF-8 .csv per sheet (the province's form); with ``prune`` other .csv
    files are removed so a deleted sheet does not come back."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    keep = set()
    for sheet in sheets:
        target = folder / f"{sheet.name}.csv"
        encoding, newline = _csv_form(target)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator=newline)
        for row in sheet.rows:
            writer.writerow([v if isinstance(v, str) else text(v) for v in row])
        target.write_bytes(out.getvalue().encode(encoding))
        keep.add(target.name)
    for stale in folder.glob("*.csv") if prune else []:
        if stale.name not in keep:
            stale.unlink()
    return folder
