"""Reading workbooks: one test per feature and per failure kind, as .xlsx and as CSV.

Each failure test asserts the diagnostic code, where it points and a phrase of its
message, as the broken-workbook corpus does (STYLE.md, habit 9).
"""

from __future__ import annotations

import re
import tempfile
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler.cells import RawSheet, RawWorkbook
from compiler.diagnostics import Diagnostic, Location
from compiler.normalise import fold_text, parse_code, parse_money
from compiler.read import read_workbook
from tests.workbooks import (
    Sheets,
    rewrite_member,
    rewrite_sheet_xml,
    write_csv_folder,
    write_xlsx,
)

Writer = Callable[[Path, Sheets], Path]
Key = tuple[int, int]


def as_xlsx(folder: Path, sheets: Sheets) -> Path:
    return write_xlsx(folder / "330106-西湖区.xlsx", sheets)


def as_csv(folder: Path, sheets: Sheets) -> Path:
    text = {
        name: [[_csv_value(v) for v in row] for row in rows]
        for name, rows in sheets.items()
    }
    return write_csv_folder(folder / "330106-西湖区", text)


def _csv_value(value: object) -> object:
    return f"{value:f}" if isinstance(value, Decimal) else value


@pytest.fixture(params=[as_xlsx, as_csv], ids=["xlsx", "csv"])
def write(request: pytest.FixtureRequest) -> Writer:
    writer: Writer = request.param
    return writer


def read(path: Path, shown: str = "wb") -> tuple[RawWorkbook, list[Diagnostic]]:
    return read_workbook(path, display_path=shown)


def only_sheet(book: RawWorkbook) -> RawSheet:
    assert len(book.sheets) == 1
    return book.sheets[0]


def one(diagnostics: list[Diagnostic], code: str) -> Diagnostic:
    found = [d for d in diagnostics if d.code == code]
    assert len(found) == 1, [d.render() for d in diagnostics]
    return found[0]


# --------------------------------------------------------------------------- text forms


def test_full_width_digits_are_folded(tmp_path: Path, write: Writer) -> None:
    book, diagnostics = read(
        write(tmp_path, {"标准参数": [["值"], ["１，３０１．５元"]]})
    )
    cell = only_sheet(book).get(2, 1)
    assert cell is not None and cell.text == "1,301.5元"
    assert parse_money(cell) == Decimal("1301.50")
    assert diagnostics == []


def test_number_stored_as_text_stays_text(tmp_path: Path, write: Writer) -> None:
    book, _ = read(write(tmp_path, {"s": [["1301.50"]]}))
    cell = only_sheet(book).get(1, 1)
    assert cell is not None and cell.value == "1301.50" and cell.text == "1301.50"
    assert parse_money(cell) == Decimal("1301.50")


def test_id_number_stored_as_text_stays_exact(tmp_path: Path, write: Writer) -> None:
    book, _ = read(write(tmp_path, {"s": [["330106199001011234"]]}))
    cell = only_sheet(book).get(1, 1)
    assert cell is not None and cell.value == "330106199001011234"
    assert parse_code(cell) == "330106199001011234"


def test_code_stored_as_number_reads_as_code(tmp_path: Path, write: Writer) -> None:
    book, _ = read(write(tmp_path, {"s": [[330106.0]]}))
    cell = only_sheet(book).get(1, 1)
    assert cell is not None and cell.text in ("330106", "330106.0")
    assert parse_code(cell) == "330106"


def test_xlsx_whole_float_becomes_int(tmp_path: Path) -> None:
    book, _ = read(as_xlsx(tmp_path, {"s": [[330106.0, 1301.5]]}))
    sheet = only_sheet(book)
    assert sheet.cells[1, 1].value == 330106 and sheet.cells[1, 1].text == "330106"
    assert sheet.cells[1, 2].value == Decimal("1301.5")
    assert sheet.cells[1, 2].text == "1301.5"


def test_xlsx_float_keeps_excel_fifteen_digits(tmp_path: Path) -> None:
    path = as_xlsx(tmp_path, {"s": [[0.5]]})
    rewrite_sheet_xml(
        path, "s", lambda xml: xml.replace("<v>0.5</v>", "<v>0.30000000000000004</v>")
    )
    cell = only_sheet(read(path)[0]).get(1, 1)
    assert cell is not None and cell.value == Decimal("0.3") and cell.text == "0.3"


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        pytest.param("a\u00a0b", "a b", id="no-break-space"),
        pytest.param("\u3000是\u3000", "是", id="ideographic-space"),
        pytest.param("第一行\n第二行", "第一行 第二行", id="line-break"),
        pytest.param("第一行\r\n第二行", "第一行 第二行", id="crlf-line-break"),
    ],
)
def test_spaces_and_line_breaks_are_folded(
    tmp_path: Path, write: Writer, raw: str, text: str
) -> None:
    book, _ = read(write(tmp_path, {"s": [[raw]]}))
    cell = only_sheet(book).get(1, 1)
    # XML reads a stored CR LF as LF, so the value is compared as a person sees it.
    assert cell is not None and cell.text == text
    assert isinstance(cell.value, str) and fold_text(cell.value) == text


def test_whitespace_only_cells_are_empty(tmp_path: Path, write: Writer) -> None:
    book, _ = read(write(tmp_path, {"s": [["a", "   ", "\u3000", "\u00a0\n"]]}))
    assert list(only_sheet(book).cells) == [(1, 1)]


def test_booleans_read_as_bool(tmp_path: Path) -> None:
    book, _ = read(as_xlsx(tmp_path, {"s": [[True, False]]}))
    sheet = only_sheet(book)
    assert (sheet.cells[1, 1].value, sheet.cells[1, 1].text) == (True, "TRUE")
    assert sheet.cells[1, 2].value is False


def test_cells_carry_display_path_sheet_and_a1(tmp_path: Path, write: Writer) -> None:
    book, _ = read(
        write(tmp_path, {"标准参数": [[None, None], [None, "x"]]}), "县/西湖"
    )
    cell = only_sheet(book).get(2, 2)
    assert cell is not None
    assert cell.location == Location("县/西湖", "标准参数", "B2")
    assert book.path == "县/西湖" and only_sheet(book).file == "县/西湖"


def test_sheets_keep_workbook_order(tmp_path: Path) -> None:
    book, _ = read(as_xlsx(tmp_path, {"b": [["1"]], "a": [["2"]], "c": [["3"]]}))
    assert [s.name for s in book.sheets] == ["b", "a", "c"]


def test_csv_folder_sheets_are_sorted_by_file_name(tmp_path: Path) -> None:
    folder = as_csv(tmp_path, {"b": [["1"]], "a": [["2"]]})
    (folder / "notes.txt").write_text("not a sheet")
    (folder / "~$a.csv").write_text("lock file")
    book, diagnostics = read(folder)
    assert [s.name for s in book.sheets] == ["a", "b"] and diagnostics == []


def test_single_csv_file_is_one_sheet(tmp_path: Path) -> None:
    path = tmp_path / "标准参数.csv"
    path.write_text("标识,值\r\ndibao,1301\r\n", encoding="utf-8")
    book, diagnostics = read(path)
    assert only_sheet(book).name == "标准参数"
    assert only_sheet(book).text(2, 2) == "1301" and diagnostics == []


def test_csv_quoted_line_break_is_one_cell(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text('"第一行\r\n第二行",b\r\n', encoding="utf-8")
    sheet = only_sheet(read(path)[0])
    assert sheet.text(1, 1) == "第一行 第二行" and sheet.text(1, 2) == "b"


# -------------------------------------------------------------------------------- dates


def test_date_formatted_serial_reads_as_date(tmp_path: Path) -> None:
    formats = {"s": {"A1": "yyyy-mm-dd", "B1": 'yyyy"年"m"月"d"日"'}}
    path = write_xlsx(tmp_path / "d.xlsx", {"s": [[45754, 45754]]}, formats=formats)
    sheet = only_sheet(read(path)[0])
    assert sheet.cells[1, 1].value == date(2025, 4, 7)
    assert sheet.cells[1, 1].text == "2025-04-07"
    assert sheet.cells[1, 2].value == date(2025, 4, 7)


def test_datetime_cells_at_midnight_become_dates(tmp_path: Path) -> None:
    rows = [[datetime(2025, 4, 7), datetime(2025, 4, 7, 8, 30)]]
    sheet = only_sheet(read(as_xlsx(tmp_path, {"s": rows}))[0])
    assert sheet.cells[1, 1].value == date(2025, 4, 7)
    assert type(sheet.cells[1, 1].value) is date
    assert sheet.cells[1, 2].value == datetime(2025, 4, 7, 8, 30)
    assert sheet.cells[1, 2].text == "2025-04-07 08:30:00"


def test_1904_date_system_is_honoured(tmp_path: Path) -> None:
    formats = {"s": {"A1": "yyyy-mm-dd"}}
    path = write_xlsx(tmp_path / "d.xlsx", {"s": [[45754]]}, formats=formats)
    rewrite_member(
        path,
        "xl/workbook.xml",
        lambda xml: xml.replace("<workbookPr />", '<workbookPr date1904="1" />'),
    )
    assert only_sheet(read(path)[0]).cells[1, 1].value == date(2029, 4, 8)


def test_unformatted_serial_stays_a_number(tmp_path: Path) -> None:
    sheet = only_sheet(read(as_xlsx(tmp_path, {"s": [[45754]]}))[0])
    assert sheet.cells[1, 1].value == 45754


# ----------------------------------------------------------------------------- formulas


def test_formula_with_saved_result_uses_it(tmp_path: Path) -> None:
    rows = [[1301, "=A1*2", '=IF(A1>0,"是","否")']]
    cached = {"s": {"B1": 2602, "C1": "是"}}
    path = write_xlsx(tmp_path / "f.xlsx", {"s": rows}, cached=cached)
    book, diagnostics = read(path)
    sheet = only_sheet(book)
    assert sheet.cells[1, 2].value == 2602 and sheet.cells[1, 2].is_formula
    assert sheet.cells[1, 3].value == "是" and sheet.cells[1, 3].is_formula
    assert not sheet.cells[1, 1].is_formula
    assert diagnostics == []


def test_formula_with_saved_empty_text_is_an_empty_cell(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "f.xlsx", {"s": [["a", '=""']]}, cached={"s": {"B1": ""}}
    )
    book, diagnostics = read(path)
    assert list(only_sheet(book).cells) == [(1, 1)] and diagnostics == []


def test_formula_without_saved_result_is_e007(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "f.xlsx", {"标准参数": [["值"], ["=B5*12"]]})
    book, diagnostics = read(path)
    problem = one(diagnostics, "E007")
    assert problem.location == Location("wb", "标准参数", "A2")
    assert "=B5*12" in problem.message and "没有保存计算结果" in problem.message
    assert only_sheet(book).get(2, 1) is None


def test_a_condition_typed_with_a_leading_equals_sign_is_told_to_be_quoted(tmp_path: Path) -> None:
    """「= 低保标准」 typed in Excel is a formula over an unknown name; the advice to
    open and save the file again only gives #NAME? (helper-41)."""
    path = write_xlsx(tmp_path / "f.xlsx", {"s": [["a", "= 低保标准"]]})
    problem = one(read(path)[1], "E007")
    assert "「'= 低保标准」" in (problem.hint or "") and "再保存一次" not in (problem.hint or "")
    path = write_xlsx(tmp_path / "g.xlsx", {"s": [["a", "=低保标准"]]}, cached={"s": {"B1": "#NAME?"}})
    problem = one(read(path)[1], "E008")
    assert "「'= 低保标准」" in (problem.hint or "")


def test_shared_formula_without_result_is_e007(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "f.xlsx", {"s": [[1, "=A1"]]})
    rewrite_sheet_xml(
        path, "s", lambda xml: xml.replace("<f>A1</f>", '<f t="shared" si="0"/>')
    )
    problem = one(read(path)[1], "E007")
    assert problem.location.cell == "B1" and "共享公式" in problem.message


# ------------------------------------------------------------------------- error values


def test_excel_error_value_is_e008(tmp_path: Path) -> None:
    path = as_xlsx(tmp_path, {"s": [["a", "#N/A"]]})
    book, diagnostics = read(path)
    problem = one(diagnostics, "E008")
    assert problem.location.cell == "B1" and "#N/A" in problem.message
    assert only_sheet(book).get(1, 2) is None


def test_formula_saved_error_is_e008_with_formula(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "f.xlsx", {"s": [[0, "=1/A1"]]}, cached={"s": {"B1": "#DIV/0!"}}
    )
    diagnostics = read(path)[1]
    problem = one(diagnostics, "E008")
    assert problem.location.cell == "B1"
    assert "#DIV/0!" in problem.message and "=1/A1" in problem.message
    assert problem.hint is not None and "除以了零" in problem.hint
    assert not [d for d in diagnostics if d.code == "E007"]


def test_csv_error_text_is_e008(tmp_path: Path) -> None:
    book, diagnostics = read(as_csv(tmp_path, {"s": [["a", "#REF!"]]}))
    problem = one(diagnostics, "E008")
    assert problem.location == Location("wb", "s", "B1") and "#REF!" in problem.message
    assert only_sheet(book).get(1, 2) is None


# ------------------------------------------------------------------------------- layout


def test_merged_cells_are_e006_per_range(tmp_path: Path) -> None:
    rows = [["a", "b", "c"], ["d", "e", "f"], ["g", "h", "i"]]
    path = write_xlsx(
        tmp_path / "m.xlsx", {"表": rows}, merged={"表": ["B3:C3", "A1:A2"]}
    )
    book, diagnostics = read(path)
    found = {d.location.cell: d for d in diagnostics if d.code == "E006"}
    assert set(found) == {"B3", "A1"}
    assert "B3:C3" in found["B3"].message and "合并单元格" in found["B3"].message
    assert only_sheet(book).merged_ranges == ["B3:C3", "A1:A2"]


def test_hidden_sheet_is_w001_and_still_read(tmp_path: Path) -> None:
    sheets = {"表": [["a"]], "旧表": [["b"]]}
    path = write_xlsx(tmp_path / "h.xlsx", sheets, hidden_sheets=["旧表"])
    book, diagnostics = read(path)
    problem = one(diagnostics, "W001")
    assert problem.location == Location("wb", "旧表") and "隐藏" in problem.message
    assert book.sheets[1].hidden and book.sheets[1].text(1, 1) == "b"


def test_hidden_rows_are_one_w002_per_sheet(tmp_path: Path) -> None:
    rows = [[f"r{n}"] for n in range(1, 9)]
    hidden = {"表": [3, 4, 7]}
    path = write_xlsx(tmp_path / "h.xlsx", {"表": rows}, hidden_rows=hidden)
    book, diagnostics = read(path)
    problem = one(diagnostics, "W002")
    assert problem.location == Location("wb", "表")
    assert "第 3-4、7 行" in problem.message
    assert only_sheet(book).hidden_rows == {3, 4, 7}
    assert only_sheet(book).text(3, 1) == "r3"


def test_hidden_empty_rows_are_not_reported(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "h.xlsx", {"表": [["a"]]}, hidden_rows={"表": [5]})
    assert read(path)[1] == []


@pytest.mark.parametrize(
    "col",
    [
        '<col min="2" max="2" width="9" hidden="1" customWidth="1"/>',
        # openpyxl writes hidden first; it was missed (helper-41)
        '<col hidden="1" width="9" customWidth="1" min="2" max="2"/>',
    ],
)
def test_hidden_columns_are_w002(tmp_path: Path, col: str) -> None:
    path = as_xlsx(tmp_path, {"表": [["a", "b", "c"]]})
    cols = f"<cols>{col}</cols>"
    rewrite_sheet_xml(
        path, "表", lambda xml: xml.replace("<sheetData>", cols + "<sheetData>")
    )
    problem = one(read(path)[1], "W002")
    assert "B 列" in problem.message


def test_a_hidden_row_and_an_error_cell_are_found_whatever_their_attribute_order(
    tmp_path: Path,
) -> None:
    """``<row hidden="1" r="2">`` and ``<c t="e" r="B1">`` were missed: a cached
    #DIV/0! became an empty value with no E008 (helper-41)."""
    path = as_xlsx(tmp_path, {"表": [["a", 1], ["b", "c"]]})

    def edit(xml: str) -> str:
        xml = re.sub(r'<row r="2"([^>]*)>', r'<row hidden="1" r="2"\1>', xml)
        return re.sub(r'<c r="B1"[^>]*>.*?</c>', '<c t="e" r="B1"><v>#DIV/0!</v></c>', xml)

    rewrite_sheet_xml(path, "表", edit)
    book, diagnostics = read(path)
    assert only_sheet(book).hidden_rows == {2}
    assert "E008" in [d.code for d in diagnostics]


def test_trailing_empty_formatted_cells_are_ignored(tmp_path: Path) -> None:
    formats = {"s": {"Z300": "0.00", "A300": "0.00"}}
    path = write_xlsx(
        tmp_path / "t.xlsx", {"s": [["a", "b"], ["c", None]]}, formats=formats
    )
    book, diagnostics = read(path)
    sheet = only_sheet(book)
    assert (sheet.max_row, sheet.max_col) == (2, 2) and diagnostics == []


def test_csv_trailing_empty_rows_and_columns_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("a,b,,,\r\nc,,,,\r\n,,,,\r\n,,,,\r\n", encoding="utf-8")
    sheet = only_sheet(read(path)[0])
    assert (sheet.max_row, sheet.max_col) == (2, 2)


def test_declared_range_far_past_content_is_w003(tmp_path: Path) -> None:
    path = as_xlsx(tmp_path, {"表": [["a", "b"], ["c", "d"]]})
    rewrite_sheet_xml(
        path, "表", lambda xml: xml.replace('ref="A1:B2"', 'ref="A1:XFD1048576"')
    )
    book, diagnostics = read(path)
    problem = one(diagnostics, "W003")
    assert problem.location == Location("wb", "表")
    assert "A1:XFD1048576" in problem.message and "A1:B2" in problem.message
    assert len(only_sheet(book).cells) == 4


def test_declared_range_smaller_than_content_is_read_silently(tmp_path: Path) -> None:
    path = as_xlsx(tmp_path, {"表": [["a", "b"], ["c", "d"]]})
    rewrite_sheet_xml(path, "表", lambda xml: xml.replace('ref="A1:B2"', 'ref="A1"'))
    book, diagnostics = read(path)
    assert len(only_sheet(book).cells) == 4 and diagnostics == []


# ---------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "gbk"])
def test_csv_encodings_are_detected(tmp_path: Path, encoding: str) -> None:
    rows = [["标识", "名称", "值"], ["dibao_standard", "低保标准", "1,301元/月"]]
    folder = write_csv_folder(tmp_path / "wb", {"标准参数": rows}, encoding=encoding)
    book, diagnostics = read(folder)
    sheet = only_sheet(book)
    assert sheet.text(1, 1) == "标识" and sheet.text(2, 2) == "低保标准"
    assert sheet.text(2, 3) == "1,301元/月" and diagnostics == []


def test_undecodable_csv_is_e003_naming_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "wb"
    folder.mkdir()
    (folder / "标准参数.csv").write_bytes(b"\xff\xfe\xfa\x81\x30\xff")
    (folder / "日历.csv").write_text("日期\r\n2025-01-01\r\n", encoding="utf-8")
    book, diagnostics = read(folder)
    problem = one(diagnostics, "E003")
    assert problem.location == Location("wb/标准参数.csv") and "编码" in problem.message
    assert [s.name for s in book.sheets] == ["日历"]


def test_a_quote_never_closed_is_e002_at_its_line(tmp_path: Path) -> None:
    """Python's reader takes the rest of the file as the cell the quote opens: every
    later row vanished into one cell, and only E209/E211 followed (helper-35). A quote
    closed in a later line is a cell with a line break, as Excel writes it."""
    folder = tmp_path / "wb"
    folder.mkdir()
    (folder / "标准参数.csv").write_text(
        '标识,值,生效日期\r\ndibao_standard,"1500,2025-01-01\r\nother,1,2025-01-01\r\n',
        encoding="utf-8",
    )
    (folder / "日历.csv").write_text('日期,说明\r\n2025-01-01,"元旦\r\n（休息）"\r\n', encoding="utf-8")
    book, diagnostics = read(folder)
    problem = one(diagnostics, "E002")
    assert problem.location == Location("wb/标准参数.csv")
    assert problem.message == "CSV 文件第 2 行的引号没有配对，从这里到文件末尾都会被读成一个单元格"
    calendar = next(s for s in book.sheets if s.name == "日历")
    assert calendar.cells[(2, 2)].value == "元旦\r\n（休息）"


def test_utf16_csv_is_e003(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes("标识,值\r\n".encode("utf-16"))
    problem = one(read(path)[1], "E003")
    assert problem.found is not None and "UTF-16" in problem.found


def test_gb18030_only_character_is_read(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes("䶮,€\r\n".encode("gb18030"))
    assert only_sheet(read(path)[0]).text(1, 1) == "䶮"


# ---------------------------------------------------------------------------- bad files


def test_missing_file_is_e001(tmp_path: Path) -> None:
    book, diagnostics = read(
        tmp_path / "330106-西湖区.xlsx", "tables/330106-西湖区.xlsx"
    )
    problem = one(diagnostics, "E001")
    assert problem.location == Location("tables/330106-西湖区.xlsx")
    assert "找不到" in problem.message and book.sheets == []


def test_text_file_renamed_xlsx_is_e002(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    path.write_text("标识,值\n", encoding="utf-8")
    book, diagnostics = read(path)
    problem = one(diagnostics, "E002")
    assert problem.location == Location("wb") and "不是 Excel 工作簿" in problem.message
    assert book.sheets == []


def test_empty_xlsx_is_e002(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"")
    assert one(read(path)[1], "E002").found == "空文件"


def test_old_xls_is_e002_asking_to_save_as_xlsx(tmp_path: Path) -> None:
    path = tmp_path / "t.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    problem = one(read(path)[1], "E002")
    assert ".xls" in problem.message and "另存为 .xlsx" in (problem.hint or "")


def test_xls_or_encrypted_renamed_xlsx_is_e002(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    assert "密码" in one(read(path)[1], "E002").message


def test_truncated_xlsx_is_e002(tmp_path: Path) -> None:
    path = as_xlsx(tmp_path, {"s": [["a"] * 50] * 50})
    path.write_bytes(path.read_bytes()[:3000])
    book, diagnostics = read(path)
    assert "损坏" in one(diagnostics, "E002").message and book.sheets == []


def test_zip_that_is_not_a_workbook_is_e002(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<document/>")
    assert "损坏" in one(read(path)[1], "E002").message


def test_unsupported_extension_is_e002(tmp_path: Path) -> None:
    path = tmp_path / "t.ods"
    path.write_bytes(b"PK\x03\x04")
    problem = one(read(path)[1], "E002")
    assert ".ods" in problem.message and "另存为 .xlsx" in (problem.hint or "")


def test_xlsx_renamed_csv_is_e002(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_bytes(as_xlsx(tmp_path, {"s": [["a"]]}).read_bytes())
    assert "Excel 工作簿" in one(read(path)[1], "E002").message


def test_folder_without_csv_is_an_empty_workbook(tmp_path: Path) -> None:
    book, diagnostics = read(tmp_path)
    assert book.sheets == [] and diagnostics == []


def test_namespace_prefixed_sheet_xml_is_scanned(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "p.xlsx", {"s": [["a", "=A1"]]}, hidden_rows={"s": [1]}
    )
    main = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'

    def prefixed(xml: str) -> str:
        xml = xml.replace(main, main.replace("xmlns=", "xmlns:x="))
        return re.sub(r"<(/?)([a-zA-Z])", r"<\1x:\2", xml)

    rewrite_sheet_xml(path, "s", prefixed)
    book, diagnostics = read(path)
    assert only_sheet(book).text(1, 1) == "a"
    assert {d.code for d in diagnostics} == {"E007", "W002"}


def test_inline_strings_are_read(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "i.xlsx", {"s": [["内联", 1]]}, shared_strings=False)
    assert only_sheet(read(path)[0]).text(1, 1) == "内联"


# ---------------------------------------------------------------------------- roundtrip

texts = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc", "Co", "Cn")), max_size=12
).filter(lambda t: not t.startswith(("=", "#")) and "_x" not in t)
values = st.one_of(
    texts,
    st.decimals(
        min_value=-(10**9),
        max_value=10**9,
        places=2,
        allow_nan=False,
        allow_infinity=False,
    ),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.dates(min_value=date(1901, 1, 1), max_value=date(2199, 12, 31)),
)
grids = st.lists(st.lists(st.one_of(st.none(), values), max_size=5), max_size=5)


def xlsx_text(value: object) -> str:
    """The text a person sees for a value written to an .xlsx cell."""
    if isinstance(value, Decimal):
        number = value.normalize()
        return (
            str(int(number)) if number == number.to_integral_value() else f"{number:f}"
        )
    if isinstance(value, date):
        return value.isoformat()
    return fold_text(str(value))


def csv_text(value: object) -> str:
    """The text of a value written to a CSV cell: as written, folded."""
    return fold_text(str(_csv_value(value)))


def texts_of(rows: list[list[object]], text: Callable[[object], str]) -> dict[Key, str]:
    found = {}
    for r, row in enumerate(rows, 1):
        for c, value in enumerate(row, 1):
            if value is not None and text(value):
                found[r, c] = text(value)
    return found


@settings(max_examples=25, deadline=None)
@given(grids)
def test_cells_round_trip_through_xlsx_and_csv(rows: list[list[object]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        written = [
            (as_xlsx(Path(folder), {"s": rows}), xlsx_text),
            (as_csv(Path(folder), {"s": rows}), csv_text),
        ]
        for path, text in written:
            book, diagnostics = read(path)
            cells = book.sheets[0].cells
            assert {k: cell.text for k, cell in cells.items()} == texts_of(rows, text)
            assert diagnostics == []


def test_a_stray_cell_far_away_is_refused_not_read(tmp_path):
    import openpyxl

    from compiler.read import read_workbook

    path = tmp_path / "330108-滨江区.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "说明"
    sheet["A1"] = "备注"
    sheet["XFD1048576"] = "x"
    book.save(path)
    raw, diagnostics = read_workbook(path)
    found = [d for d in diagnostics if d.code == "E010"]
    assert found and found[0].location.cell == "XFD1048576"
    assert raw.sheets[0].cells == {}
