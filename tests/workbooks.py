"""Write small test workbooks, as .xlsx or as a folder of .csv, from plain rows.

``sheets`` is ``{sheet name: rows}``, each row a list of cell values (None for an empty
cell). A string starting with ``=`` becomes a formula, saved without a result unless
``cached`` gives one; an Excel error string such as ``#DIV/0!`` becomes an error cell.

    write_xlsx(tmp_path / "t.xlsx", {"标准参数": [["标识", "值"], ["a", 1301.5]]},
               merged={"标准参数": ["A1:B1"]}, hidden_rows={"标准参数": [2]})
    write_csv_folder(tmp_path / "t", {"标准参数": [["标识", "值"]]}, encoding="gb18030")
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import openpyxl  # type: ignore[import-untyped]

Rows = Sequence[Sequence[object]]
Sheets = Mapping[str, Rows]
PerSheet = Mapping[str, Mapping[str, object]]


def write_xlsx(
    path: Path | str,
    sheets: Sheets,
    merged: Mapping[str, Iterable[str]] | None = None,
    hidden_sheets: Iterable[str] = (),
    hidden_rows: Mapping[str, Iterable[int]] | None = None,
    formats: PerSheet | None = None,
    cached: PerSheet | None = None,
    shared_strings: bool = True,
) -> Path:
    """Write ``sheets`` as an .xlsx file and return its path.

    ``formats`` gives number formats by cell (``{"日历": {"A2": "yyyy-mm-dd"}}``);
    ``cached`` gives the saved result of formula cells (``{"表": {"C2": 2602}}``).
    Text goes to a shared-strings table as Excel and WPS write it, unless
    ``shared_strings`` is false (then it stays inline, as openpyxl writes it).
    """
    path = Path(path)
    book = openpyxl.Workbook()
    book.remove(book.active)
    hidden = set(hidden_sheets)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
        _lay_out(sheet, (merged or {}).get(name, ()), (hidden_rows or {}).get(name, ()))
        for ref, fmt in (formats or {}).get(name, {}).items():
            sheet[ref].number_format = str(fmt)
        sheet.sheet_state = "hidden" if name in hidden else "visible"
    book.save(path)
    for name, values in (cached or {}).items():
        rewrite_sheet_xml(path, name, partial(_with_results, results=values))
    if shared_strings:
        _share_strings(path, len(sheets))
    return path


def _lay_out(sheet: Any, merged: Iterable[str], hidden_rows: Iterable[int]) -> None:
    """Merge ranges and hide rows of an openpyxl worksheet (untyped, hence Any)."""
    for ref in merged:
        sheet.merge_cells(ref)
    for number in hidden_rows:
        sheet.row_dimensions[number].hidden = True


_INLINE = re.compile(
    r'<c ([^>]*?)\s*t="inlineStr"([^>]*)><is><t([^>]*)>(.*?)</t></is></c>'
)
_SST = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
)
_SST_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
)


def _share_strings(path: Path, sheet_count: int) -> None:
    """Move inline strings into xl/sharedStrings.xml, as Excel saves text."""
    table: dict[tuple[str, str], int] = {}

    def shared(match: re.Match[str]) -> str:
        index = table.setdefault((match[3], match[4]), len(table))
        return f'<c {match[1]} t="s"{match[2]}><v>{index}</v></c>'

    for number in range(1, sheet_count + 1):
        member = f"xl/worksheets/sheet{number}.xml"
        rewrite_member(path, member, lambda xml: _INLINE.sub(shared, xml))
    items = "".join(f"<si><t{attrs}>{text}</t></si>" for attrs, text in table)
    sst = (
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
        f' count="{len(table)}" uniqueCount="{len(table)}">{items}</sst>'
    )
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/sharedStrings.xml", sst)
    override = f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_SST_TYPE}"/>'
    relation = f'<Relationship Id="rIdSST" Type="{_SST}" Target="sharedStrings.xml"/>'
    _append_before(path, "[Content_Types].xml", "</Types>", override)
    _append_before(path, "xl/_rels/workbook.xml.rels", "</Relationships>", relation)


def _append_before(path: Path, member: str, closing: str, element: str) -> None:
    rewrite_member(path, member, lambda xml: xml.replace(closing, element + closing))


def _result_xml(value: object) -> tuple[str, str]:
    """The type attribute and <v> text Excel writes for a formula's saved result."""
    if isinstance(value, bool):
        return ' t="b"', "1" if value else "0"
    if isinstance(value, int | float):
        return "", repr(value)
    if isinstance(value, str) and value.startswith("#"):
        return ' t="e"', escape(value)
    return ' t="str"', escape(str(value))


def _with_results(xml: str, results: Mapping[str, object]) -> str:
    for ref, value in results.items():
        kind, text = _result_xml(value)
        cell = re.compile(
            rf'<c r="{ref}"([^>]*)>(<f>.*?</f>)(?:<v\s*/>|<v>.*?</v>)?</c>'
        )
        xml, count = cell.subn(partial(_cell, ref=ref, kind=kind, text=text), xml)
        if count != 1:
            raise ValueError(f"no formula cell {ref} to give a result")
    return xml


def _cell(match: re.Match[str], ref: str, kind: str, text: str) -> str:
    attrs = re.sub(r'\s*t="[^"]*"', "", match[1])
    return f'<c r="{ref}"{attrs}{kind}>{match[2]}<v>{text}</v></c>'


def sheet_xml_path(path: Path | str, sheet_name: str) -> str:
    """The zip member that holds ``sheet_name`` in a file openpyxl wrote."""
    with zipfile.ZipFile(path) as archive:
        workbook = archive.read("xl/workbook.xml").decode()
    names = re.findall(r'<sheet [^>]*name="([^"]*)"', workbook)
    return f"xl/worksheets/sheet{names.index(escape(sheet_name)) + 1}.xml"


def rewrite_sheet_xml(
    path: Path | str, sheet_name: str, edit: Callable[[str], str]
) -> None:
    """Rewrite one sheet's XML inside an .xlsx with ``edit`` (for hand-made faults)."""
    rewrite_member(path, sheet_xml_path(path, sheet_name), edit)


def rewrite_member(path: Path | str, member: str, edit: Callable[[str], str]) -> None:
    """Rewrite one text member of a zip file in place, keeping the others."""
    with zipfile.ZipFile(path) as archive:
        contents = {info: archive.read(info) for info in archive.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in contents.items():
            if info.filename == member:
                data = edit(data.decode("utf-8")).encode("utf-8")
            archive.writestr(info, data)


def csv_text(rows: Rows) -> str:
    """Rows as CSV text, None written as an empty field."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue()


def write_csv_folder(path: Path | str, sheets: Sheets, encoding: str = "utf-8") -> Path:
    """Write each sheet as ``<path>/<sheet name>.csv`` in ``encoding``."""
    folder = Path(path)
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in sheets.items():
        (folder / f"{name}.csv").write_bytes(csv_text(rows).encode(encoding))
    return folder
