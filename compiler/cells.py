"""What the reader hands to the model pass: sheets of cells that remember where they were.

The reader (``compiler.read``) fills these; the model pass (``compiler.load``) turns them
into typed tables. A cell keeps the value as the file stored it, the text a person would
see (already normalised: full-width characters folded, spaces trimmed), and its location.
Normalised text is for the cells the compiler parses; free text (notes, sources, titles,
annotations) is kept as typed, ``Cell.verbatim``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from compiler.diagnostics import Location

# What a stored value can be once read: text, an exact number, a date, a boolean, nothing.
Value = str | int | Decimal | date | bool | None


def column_letter(col: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while col > 0:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def a1(row: int, col: int) -> str:
    """Row and column numbers, both from 1, as an A1 reference."""
    return f"{column_letter(col)}{row}"


class Cell(NamedTuple):
    """One non-empty cell (a named tuple: a workbook holds hundreds of thousands).

    ``value`` is what the file stored (a number from xlsx arrives as int or Decimal, a
    date-formatted number as a date, a CSV cell as str); ``text`` is the normalised text
    a person sees, used for parsing expressions and for messages.
    """

    row: int
    col: int
    value: Value
    text: str
    file: str
    sheet: str
    is_formula: bool = False

    @property
    def verbatim(self) -> str:
        """The cell as the admin typed it, for free text (备注, 来源, 依据, titles):
        a text cell's stored string unchanged (full-width punctuation, spaces and line
        breaks kept); a number or date as ``text`` shows it. The vertical tab and form
        feed, which Word and WPS paste for a manual line break and no .xlsx can hold
        (the reader folds them, so E011 does not refuse them), become a line break."""
        if not isinstance(self.value, str):
            return self.text
        if "\v" in self.value or "\f" in self.value:
            return self.value.replace("\v", "\n").replace("\f", "\n")
        return self.value

    @property
    def ref(self) -> str:
        return a1(self.row, self.col)

    @property
    def location(self) -> Location:
        """Built when asked for: a workbook holds far more cells than messages."""
        return Location(self.file, self.sheet, a1(self.row, self.col))


@dataclass
class RawSheet:
    """A sheet's non-empty cells, addressed by (row, col), both counted from 1."""

    name: str
    file: str
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    hidden: bool = False
    hidden_rows: set[int] = field(default_factory=set)
    merged_ranges: list[str] = field(default_factory=list)

    @property
    def max_row(self) -> int:
        return max((r for r, _ in self.cells), default=0)

    @property
    def max_col(self) -> int:
        return max((c for _, c in self.cells), default=0)

    def get(self, row: int, col: int) -> Cell | None:
        return self.cells.get((row, col))

    def text(self, row: int, col: int) -> str:
        cell = self.cells.get((row, col))
        return cell.text if cell else ""

    def verbatim(self, row: int, col: int) -> str:
        cell = self.cells.get((row, col))
        return cell.verbatim if cell else ""

    def location(self, row: int, col: int) -> Location:
        return Location(self.file, self.name, a1(row, col))

    def rows(self) -> list[list[Cell | None]]:
        """Dense rows 1..max_row of cells 1..max_col (None where empty)."""
        width = self.max_col
        return [
            [self.cells.get((r, c)) for c in range(1, width + 1)]
            for r in range(1, self.max_row + 1)
        ]


@dataclass
class RawWorkbook:
    """A workbook as read: its path (as shown in messages) and its sheets in order."""

    path: str
    sheets: list[RawSheet] = field(default_factory=list)

    def sheet(self, *names: str) -> RawSheet | None:
        found = self.sheets_named(*names)
        return found[0] if found else None

    def sheets_named(self, *names: str) -> list[RawSheet]:
        """The sheets called any of ``names`` (trimmed, any case), in workbook order."""
        wanted = {n.casefold() for n in names}
        return [sheet for sheet in self.sheets if sheet.name.strip().casefold() in wanted]
