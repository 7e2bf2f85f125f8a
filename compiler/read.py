"""Read a workbook (an .xlsx file, a folder of .csv files, or one .csv) into raw cells.

``read_workbook`` is the first pass: it never raises for bad input; it returns what it
could read and a diagnostic for every problem with the file itself (E001-E008,
W001-W003). Every non-empty cell becomes a ``compiler.cells.Cell`` whose ``value`` is
what the file stored (int, Decimal, date, bool or str; a float is cut to Excel's 15
significant digits, a midnight datetime becomes a date) and whose ``text`` is
``fold_text`` of what a person sees (a number in plain decimal form, a date in ISO
form).

How an .xlsx is read, and why. Measured on 90 sheets x 500 rules x 10 columns (450,000
cells) on the project machine: openpyxl took 18 s per load, and a correct reading needs
two loads (``data_only=False`` for formulas, ``data_only=True`` for their saved
results); its read-only mode (14 s) loses merged ranges and hidden rows; walking the
sheet XML with ElementTree took 3.3 s before building a single cell. python-calamine
reads every value in 1 s and handles shared and rich strings, date formats, the 1904
date system and booleans, but shows neither formulas, nor error values (both come back
empty), nor hidden rows. So values come from calamine, and each sheet's XML is scanned
once with byte-level regular expressions for what calamine does not show: formula cells
and whether they saved a result, error cells, hidden rows and columns, merged ranges and
the declared dimension. A cell element's first child is ``<f>`` when it has a formula
(ECMA-376 CT_Cell), which keeps those expressions simple. Rows written without a row
number (no ``r`` attribute) cannot be named as hidden; ``zeroHeight`` sheets, where
every row not listed is hidden, are not detected. The whole read of that workbook takes
about 4.5 s of CPU there (``python tests/bench_read.py``); about half of it is making
the 450,000 ``Cell`` and ``Location`` objects.

CSV files are decoded as UTF-8 (with or without BOM), else GB18030 (a superset of GBK);
every cell is text. A folder's sheets come in sorted file-name order.
"""

from __future__ import annotations

import csv
import errno
import gc
import io
import logging
import os
import re
import time
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections.abc import Generator, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from html import unescape
from pathlib import Path, PurePosixPath

import python_calamine

from compiler.cells import Cell, RawSheet, RawWorkbook, Value, column_letter
from compiler.diagnostics import Diagnostic, Location, make
from compiler.normalise import (
    CONTROL_CHARACTERS,
    EXCEL_CELL_LIMIT,
    REORDERING,
    decimal_from_float,
    excel_length,
    fold_text,
    show_controls,
    show_reordering,
)

_LOG = logging.getLogger("jiuzhu")

Found = tuple[RawWorkbook, list[Diagnostic]]

_XLSX = {".xlsx", ".xlsm"}
_SAVE_AS = "请在 Excel 或 WPS 中打开，另存为 .xlsx 格式后再使用"
_WORKBOOK_FORMS = "工作簿须为 .xlsx 文件，或每个工作表一个 .csv 文件的文件夹"
OTHER_SPREADSHEETS = {".xls", ".et", ".ods", ".numbers", ".xlsb"}
_MAX_UNZIPPED = 1 << 30  # refuse archives that unpack past 1 GiB: a zip bomb, not rules

# Excel shows these error values; a cell holding one has no usable value.
_ERROR_HINTS = {
    "#DIV/0!": "公式除以了零或空单元格",
    "#REF!": "公式引用的单元格已被删除",
    "#N/A": "查找函数没有找到匹配的值",
    "#VALUE!": "公式中某个值的类型不对，例如文字参与了计算",
    "#NAME?": "公式中有无法识别的函数名或名称",
    "#NUM!": "公式得到了无效的数值",
    "#NULL!": "公式中的区域没有交集",
    "#SPILL!": "动态数组公式的结果区域被占用",
    "#CALC!": "公式无法计算",
}


# -------------------------------------------------------------------------------- entry


def read_workbook(path: str | Path, display_path: str | None = None) -> Found:
    """Read an .xlsx file, a folder of .csv files or one .csv file.

    Args:
        path: where the workbook is.
        display_path: how to name it in locations and messages (default: ``path``).

    Returns:
        The sheets read, in order, and the diagnostics about the file; a workbook that
        could not be read at all comes back with no sheets and at least one error.
    """
    source = Path(path)
    book = RawWorkbook(display_path if display_path is not None else str(path))
    started = time.perf_counter()
    with _collector_paused():
        diagnostics = list(_read_into(book, source))
    cells = sum(len(sheet.cells) for sheet in book.sheets)
    elapsed = time.perf_counter() - started
    _LOG.debug("已读取 %s：%d 个工作表，%d 个单元格，%.2f 秒", book.path, len(book.sheets),
              cells, elapsed)  # fmt: skip
    return book, diagnostics


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while cells are made.

    Reading makes two objects per cell and none of them form cycles; left on, the
    collector rescans the growing heap again and again, which cost about 40% of the
    read time in the benchmark.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read_into(book: RawWorkbook, source: Path) -> Iterator[Diagnostic]:
    where = Location(book.path)
    if not source.exists():
        yield _broken_link(source, where) if source.is_symlink() else _missing(book.path, where)
    elif source.is_dir():
        yield from _read_csv_folder(book, source)
    elif source.suffix.lower() == ".csv":
        yield from _read_csv_files(book, [source], folder=False)
    elif source.suffix.lower() in _XLSX:
        yield from _read_xlsx(book, source)
    else:
        yield _unsupported(source.suffix.lower(), where)


def _read_csv_folder(book: RawWorkbook, folder: Path) -> Iterator[Diagnostic]:
    try:
        files = _csv_files(folder)
    except OSError as error:
        yield _unopenable(error, Location(book.path))
        return
    yield from _read_csv_files(book, files, folder=True)


def _csv_files(folder: Path) -> list[Path]:
    """The folder's .csv files in name order, without Office lock and hidden files."""
    return sorted(
        (
            p
            for p in folder.iterdir()
            if p.suffix.lower() == ".csv"
            and p.is_file()
            and not p.name.startswith(("~$", "."))
        ),
        key=lambda p: p.name,
    )


# What people and programs leave beside the workbooks of tables/counties and
# tables/cities, passed over without a word: hidden files (.DS_Store; publish's
# .partial marker), Office's lock and temporary files (~$330106-西湖区.xlsx, ~WRL0001.tmp),
# Windows' thumbnail caches and folder settings, and publish's base markers
# (330106.base.json, compiler/registry_marker.py). Notes (README.md, 说明.docx) are
# passed over too when their name starts with no division code: they name no county.
_FOLDER_CLUTTER = frozenset({"thumbs.db", "ehthumbs.db", "desktop.ini"})
_BASE_MARKER = re.compile(r"[0-9]{6}\.base\.json", re.IGNORECASE)
NOTE_SUFFIXES = frozenset({".md", ".txt", ".pdf", ".doc", ".docx", ".rtf", ".wps", ".odt"})
_CODE_FIRST = re.compile(r"[0-9]{6}(?![0-9])")


def passed_over(path: Path) -> bool:
    """True for an entry of a folder of workbooks that is clutter, not a workbook."""
    name = path.name
    if name.startswith((".", "~")) or name.casefold() in _FOLDER_CLUTTER:
        return True
    if _BASE_MARKER.fullmatch(name):
        return True
    coded = _CODE_FIRST.match(name) is not None
    return not coded and path.suffix.lower() in NOTE_SUFFIXES and not path.is_dir()


def not_a_workbook(path: Path) -> Diagnostic:
    """E002 for a file in tables/counties or tables/cities that is neither a workbook
    (.xlsx, .xlsm) nor a folder of CSV files: a workbook saved as one .csv, as .txt or
    .wps, a backup copy. Passed over, its county would have no workbook at all, and be
    said only when a household of it is decided (E606)."""
    suffix = path.suffix.lower()
    coded = _CODE_FIRST.match(path.name) is not None
    if suffix == ".csv":
        folder = path.stem if coded else "330106-西湖区"
        message = "单个 .csv 文件不能作为工作簿，未读取"
        hint = (
            f"一个 .csv 文件只能存一个工作表：请新建文件夹「{folder}」，把各工作表分别存为其中的"
            " .csv 文件（如 标准参数.csv），或在 Excel、WPS 中另存为 .xlsx"
        )
    else:
        message = f"不是工作簿，未读取：不支持的文件类型「{suffix or '无扩展名'}」"
        hint = (
            "如果这是工作簿，请在 Excel 或 WPS 中另存为 .xlsx；不是工作簿的文件（备份、说明）"
            "请移出该文件夹"
        )
        if coded and suffix in NOTE_SUFFIXES:
            hint += "，或去掉文件名开头的区划代码"
    return make(
        "E002",
        message,
        Location(str(path)),
        found=path.name,
        expected=".xlsx 文件，或每个工作表一个 .csv 文件的文件夹（如 330106-西湖区/标准参数.csv）",
        hint=hint,
    )


def _missing(shown: str, where: Location) -> Diagnostic:
    return make(
        "E001",
        f"找不到文件或文件夹「{shown}」",
        where,
        expected="一个 .xlsx 文件，或放有 .csv 文件的文件夹",
        hint="检查路径和文件名是否写对，文件是否已移动或改名",
    )


def _broken_link(source: Path, where: Location) -> Diagnostic:
    """E001 for a symbolic link that leads to no file: a loop of links (once said as
    「找不到文件」, which the name listed in the folder belied), or a link whose file
    was moved."""
    try:
        source.resolve(strict=True)
        loop = False
    except RuntimeError:  # Python before 3.13 says a loop so
        loop = True
    except OSError as error:
        loop = error.errno == errno.ELOOP
    if loop:
        message, found = "是循环的符号链接，找不到它最终指向的文件", "循环的符号链接"
    else:
        message, found = "是符号链接，它指向的文件不存在", os.readlink(source)
    return make(
        "E001",
        f"「{where.file}」{message}",
        where,
        found=found,
        expected="一个 .xlsx 文件，或放有 .csv 文件的文件夹（或指向它们的符号链接）",
        hint="删除或改正该符号链接，或把工作簿文件本身放在这里",
    )


# what the system says, in Chinese: its own words (strerror) are English
_OS_PROBLEMS = {
    errno.EACCES: "没有读写权限",
    errno.EPERM: "没有读写权限",
    errno.ENOENT: "文件不存在",
    errno.EISDIR: "这是一个文件夹",
    errno.ENOTDIR: "路径中有一段不是文件夹",
    errno.EBUSY: "文件被其他程序占用",
    errno.ENOSPC: "磁盘空间已满",
    errno.EROFS: "所在的文件系统只读",
    errno.ELOOP: "循环的符号链接",
    errno.ENAMETOOLONG: "文件名过长",
    errno.EIO: "读写出错（磁盘或网络故障）",
}


def os_problem(error: OSError) -> str:
    """Why the system refused a file, in Chinese (「没有读写权限」, not 「Permission
    denied」), with the error number when it is not one of the common ones."""
    known = _OS_PROBLEMS.get(error.errno or 0)
    return known or f"系统错误（错误号 {error.errno}）" if error.errno else "系统错误"


def _unopenable(error: OSError, where: Location) -> Diagnostic:
    return make(
        "E001",
        "文件无法打开",
        where,
        found=os_problem(error),
        expected="可读取的文件",
        hint="检查文件是否被其他程序占用，或是否有读取权限",
    )


def _unsupported(suffix: str, where: Location) -> Diagnostic:
    if suffix == ".xls":
        message = "这是旧版 Excel（.xls）文件，不能直接读取"
    else:
        message = f"不支持的文件类型「{suffix or '无扩展名'}」"
    hint = _SAVE_AS if suffix in OTHER_SPREADSHEETS else _WORKBOOK_FORMS
    expected = ".xlsx 文件或 .csv 文件"
    return make("E002", message, where, found=suffix, expected=expected, hint=hint)


def _not_xlsx(message: str, found: str, where: Location) -> Diagnostic:
    return make(
        "E002",
        message,
        where,
        found=found,
        expected="以 .xlsx 格式保存的 Excel 工作簿",  # 「应为Excel」 read run together
        hint=_SAVE_AS,
    )


# --------------------------------------------------------------------------------- xlsx

_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
_ZIP_MAGIC = b"PK\x03\x04"
_BROKEN = (
    zipfile.BadZipFile,
    zlib.error,
    KeyError,
    ET.ParseError,
    ValueError,
    EOFError,
    NotImplementedError,
    python_calamine.CalamineError,
)


def _read_xlsx(book: RawWorkbook, source: Path) -> Iterator[Diagnostic]:
    where = Location(book.path)
    try:
        with source.open("rb") as handle:
            magic = handle.read(4)
    except OSError as error:
        yield _unopenable(error, where)
        return
    if magic != _ZIP_MAGIC:
        yield _wrong_magic(magic, where)
        return
    try:
        found = _read_xlsx_parts(book, source)
    except OSError as error:
        yield _unopenable(error, where)
    except _BROKEN as error:
        said = _broken_cn(error)
        _LOG.info("无法读取 xlsx 文件 %s：%s", book.path, said)  # the operator's log too
        book.sheets.clear()
        yield _not_xlsx("工作簿文件已损坏，无法读取", said, where)
    else:
        yield from found


def _broken_cn(error: Exception) -> str:
    """What is wrong with a damaged .xlsx, in words for people: for the message and
    for the log, which showed 「BadZipFile('File is not a zip file')」 (helper-82)."""
    text = str(error)
    if isinstance(error, zipfile.BadZipFile) and "CRC" in text:
        return "压缩内容的校验值不符（文件在复制或保存时损坏）"
    if isinstance(error, zipfile.BadZipFile | zlib.error | EOFError):
        return "不完整的压缩内容（文件可能没有下载或复制完整）"
    if isinstance(error, KeyError):
        part = re.search(r"named '([^']+)'", text)
        if part is None:
            return "缺少工作簿组成部分的压缩包（可能是其他文件改了扩展名）"
        return f"压缩包中缺少工作簿组成部分「{part.group(1)}」（可能是其他文件改了扩展名）"
    if isinstance(error, NotImplementedError):
        return "压缩包使用了无法读取的压缩或加密方式（请用 Excel 或 WPS 重新保存）"
    if isinstance(error, ET.ParseError):
        line, column = error.position
        return f"工作簿中的 XML 内容无法解析（第 {line} 行第 {column} 列）"
    return "无法解析的工作簿内容"


def _wrong_magic(magic: bytes, where: Location) -> Diagnostic:
    if magic == _OLE_MAGIC:
        return _not_xlsx(
            "文件是旧版 .xls 格式或设置了打开密码，不是 .xlsx",
            "旧版 .xls 或加密的工作簿",
            where,
        )
    found = "空文件" if not magic else "文本或其他格式的文件"
    return _not_xlsx("文件扩展名是 .xlsx，内容却不是 Excel 工作簿", found, where)


@dataclass(frozen=True, slots=True)
class _SheetEntry:
    """A worksheet as workbook.xml lists it: name, visibility and its XML part."""

    name: str
    hidden: bool
    part: str
    very_hidden: bool = False  # state="veryHidden": Excel's 取消隐藏 does not list it


def _read_xlsx_parts(book: RawWorkbook, source: Path) -> list[Diagnostic]:
    diagnostics: list[Diagnostic] = []
    with zipfile.ZipFile(source) as archive:
        _check_size(archive)
        entries = _sheet_entries(archive)
        values = python_calamine.CalamineWorkbook.from_path(str(source))
        for entry in entries:
            xml = archive.read(entry.part)
            scan = _scan_sheet(xml)
            sheet = RawSheet(entry.name, book.path, hidden=entry.hidden)
            far = _far_cell(xml)
            if far:
                # the reader would build every cell of the rectangle up to it
                diagnostics.append(_too_far(sheet, far))
                book.sheets.append(sheet)
                continue
            rows = values.get_sheet_by_name(entry.name).to_python(skip_empty_area=False)
            diagnostics += _fill_sheet(sheet, rows, scan, entry.very_hidden)
            book.sheets.append(sheet)
    return diagnostics


_CELL_REF = re.compile(rb"<(?:\w+:)?c\s[^>]*?\br\s*=\s*[\"']([A-Z]{1,3})(\d{1,7})[\"']")
_MAX_AREA = 5_000_000  # cells in the rectangle from A1 to the farthest cell


def _far_cell(xml: bytes) -> str | None:
    """The farthest cell when a sheet's cells span more than _MAX_AREA, else None."""
    rows = cols = 0
    far = ""
    for match in _CELL_REF.finditer(xml):
        col, row = _column_number(match[1].decode()), int(match[2])
        if row > rows or col > cols:
            rows, cols = max(rows, row), max(cols, col)
            far = f"{match[1].decode()}{row}"
    return far if rows * cols > _MAX_AREA else None


def _too_far(sheet: RawSheet, far: str) -> Diagnostic:
    return make(
        "E010",
        f"工作表「{sheet.name}」在 {far} 附近有远离其他内容的单元格，整张表无法读取",
        _at(sheet, far),
        found=far,
        expected="内容集中在表格左上方",
        hint="删除远处的单元格（或整行、整列）后保存",
    )


def _check_size(archive: zipfile.ZipFile) -> None:
    if sum(info.file_size for info in archive.infolist()) > _MAX_UNZIPPED:
        raise ValueError("archive unpacks past the size limit")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml(archive: zipfile.ZipFile, part: str) -> ET.Element:
    return ET.fromstring(archive.read(part))


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (type, target part) for ``part``, targets made absolute."""
    folder = PurePosixPath(part).parent
    rels = folder / "_rels" / (PurePosixPath(part).name + ".rels")
    if str(rels) not in archive.NameToInfo:
        return {}
    found = {}
    for rel in _xml(archive, str(rels)):
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else str(folder / target)
        found[rel.get("Id", "")] = (rel.get("Type", ""), _tidy(path))
    return found


def _tidy(path: str) -> str:
    """Resolve ``..`` in a part name: xl/worksheets/../x.xml -> xl/x.xml."""
    parts: list[str] = []
    for piece in path.split("/"):
        if piece == "..":
            parts = parts[:-1]
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


def _workbook_part(archive: zipfile.ZipFile) -> str:
    for kind, target in _relationships(archive, "").values():
        if kind.endswith("/officeDocument"):
            return target
    return "xl/workbook.xml"


def _sheet_entries(archive: zipfile.ZipFile) -> list[_SheetEntry]:
    """The workbook's worksheets in tab order; chart sheets are left out."""
    part = _workbook_part(archive)
    rels = _relationships(archive, part)
    entries = []
    for node in _xml(archive, part).iter():
        if _local(node.tag) != "sheet":
            continue
        rid = next((v for k, v in node.attrib.items() if _local(k) == "id"), "")
        kind, target = rels[rid]
        if kind.endswith("/worksheet"):
            state = node.get("state", "visible")
            very = state.casefold() == "veryhidden"
            entries.append(_SheetEntry(node.get("name", ""), state != "visible", target, very))
    return entries


# ---------------------------------------------------------------------------- sheet XML


def _pattern(pattern: str) -> re.Pattern[bytes]:
    """Compile a pattern over sheet XML; ``<:name`` and ``</:name`` allow a namespace
    prefix (``<x:c>``), which some writers use for the main namespace."""
    prefix = r"(?:[\w.-]+:)?"
    pattern = pattern.replace("</:", "</" + prefix).replace("<:", "<" + prefix)
    return re.compile(pattern.encode(), re.DOTALL)


_Q = r"""["']"""  # either quote around an attribute value
_ATTR = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_FORMULA_START = _pattern(r"<:f[\s>/]")
# A cell whose first child is <f>, then its <v> if any: groups are the cell's
# attributes, the formula text, the whole <v> element and the <v> text.
_FORMULA_CELL = _pattern(
    r"<:c(\s[^>]*)?(?<!/)>\s*<:f(?:\s[^>]*?)?(?:/>|>(.*?)</:f>)\s*"
    r"(<:v\s*/>|<:v(?:\s[^>]*)?>(.*?)</:v>)?"
)
_ERROR_TYPE = _pattern(rf"\st\s*=\s*{_Q}e{_Q}")
# an attribute anywhere in the tag, the first included (openpyxl writes hidden first)
_ERROR_CELL = _pattern(rf"<:c(\s(?:[^>]*\s)?t\s*=\s*{_Q}e{_Q}[^>]*)(?<!/)>(.*?)</:c>")
_VALUE = _pattern(r"<:v(?:\s[^>]*)?>(.*?)</:v>")
_FORMULA_TEXT = _pattern(r"<:f(?:\s[^>]*)?>(.*?)</:f>")
_HIDDEN = rf"\s(?:[^>]*\s)?hidden\s*=\s*{_Q}(?:1|true){_Q}"
_HIDDEN_ROW = _pattern(rf"<:row({_HIDDEN}[^>]*)>")
_HIDDEN_COL = _pattern(rf"<:col({_HIDDEN}[^>]*)>")
_MERGE = _pattern(rf"<:mergeCell\s[^>]*?ref\s*=\s*{_Q}([^\"']*){_Q}")
_DIMENSION = _pattern(rf"<:dimension\s[^>]*?ref\s*=\s*{_Q}([^\"']*){_Q}")
_REF = re.compile(r"\$?([A-Z]{1,3})\$?([0-9]+)")


@dataclass
class _Formula:
    text: str
    has_result: bool


@dataclass
class _Scan:
    """What calamine does not show about a sheet, keyed by A1 reference."""

    formulas: dict[str, _Formula] = field(default_factory=dict)
    errors: dict[str, tuple[str, str]] = field(default_factory=dict)
    hidden_rows: set[int] = field(default_factory=set)
    hidden_cols: set[int] = field(default_factory=set)
    merged: list[str] = field(default_factory=list)
    dimension: str = ""


def _attrs(raw: bytes | None) -> dict[str, str]:
    if not raw:
        return {}
    return {
        m[1].decode(): unescape((m[2] or m[3]).decode()) for m in _ATTR.finditer(raw)
    }


def _text(raw: bytes | None) -> str:
    return unescape(raw.decode("utf-8")) if raw else ""


def _scan_sheet(xml: bytes) -> _Scan:
    scan = _Scan()
    # The byte tests are quick filters: most rule sheets have no formula and no error.
    if (b"<f" in xml or b":f" in xml) and _FORMULA_START.search(xml):
        scan.formulas = dict(_formula_cells(xml))
    if (b'"e"' in xml or b"'e'" in xml) and _ERROR_TYPE.search(xml):
        scan.errors = dict(_error_cells(xml))
    if b"hidden" in xml:
        scan.hidden_rows = set(_hidden_rows(xml))
        scan.hidden_cols = set(_hidden_cols(xml))
    if b"mergeCell" in xml:
        scan.merged = [m[1].decode() for m in _MERGE.finditer(xml)]
    dimension = _DIMENSION.search(xml)
    scan.dimension = dimension[1].decode() if dimension else ""
    return scan


def _formula_cells(xml: bytes) -> Iterator[tuple[str, _Formula]]:
    for match in _FORMULA_CELL.finditer(xml):
        cell = _attrs(match[1])
        kind = cell.get("t", "n")
        if kind == "e":
            continue  # a saved error is reported as E008 by _error_cells
        # An empty <v/> is a saved empty text for a text formula, and no result else.
        has_result = bool(match[4]) or (match[3] is not None and kind == "str")
        yield cell.get("r", ""), _Formula(_text(match[2]), has_result)


def _error_cells(xml: bytes) -> Iterator[tuple[str, tuple[str, str]]]:
    """(A1 reference, (error value, formula text or "")) for each error cell."""
    for match in _ERROR_CELL.finditer(xml):
        value = _VALUE.search(match[2])
        formula = _FORMULA_TEXT.search(match[2])
        shown = _text(value[1]) if value else ""
        source = _text(formula[1]) if formula else ""
        yield _attrs(match[1]).get("r", ""), (shown, source)


def _hidden_rows(xml: bytes) -> Iterator[int]:
    for match in _HIDDEN_ROW.finditer(xml):
        number = _attrs(match[1]).get("r", "")
        if number.isdigit():
            yield int(number)


def _hidden_cols(xml: bytes) -> Iterator[int]:
    for match in _HIDDEN_COL.finditer(xml):
        attrs = _attrs(match[1])
        low, high = attrs.get("min", ""), attrs.get("max", "")
        if low.isdigit() and high.isdigit():
            yield from range(int(low), min(int(high), 16384) + 1)


# -------------------------------------------------------------------------------- cells


def _number(raw: float) -> tuple[Value, str]:
    """A stored float as Excel shows it: an int if whole, else a 15-digit Decimal."""
    if raw.is_integer() and abs(raw) < 1e15:
        whole = int(raw)
        return whole, str(whole)
    shortest = repr(raw)
    if "e" not in shortest and len(shortest.lstrip("-0").replace(".", "")) <= 15:
        # A decimal of at most 15 digits survives a round trip through a double
        # (DBL_DIG), so the shortest repr is the 15-digit reading, found cheaply.
        return Decimal(shortest), shortest
    number = decimal_from_float(raw)
    if number == number.to_integral_value():
        return int(number), str(int(number))
    return number, format(number, "f")


def _stored(raw: object) -> tuple[Value, str]:
    """A calamine value as a cell value and the text a person sees (before folding)."""
    if isinstance(raw, str):
        return raw, raw
    if isinstance(raw, bool):
        return raw, "TRUE" if raw else "FALSE"
    if isinstance(raw, int):
        return raw, str(raw)
    if isinstance(raw, float):
        return _number(raw)
    if isinstance(raw, datetime):
        if raw.time() == datetime.min.time():
            return raw.date(), raw.date().isoformat()
        return raw, raw.isoformat(sep=" ")
    if isinstance(raw, date):
        return raw, raw.isoformat()
    return str(raw), str(raw)  # a time of day or a duration: kept as its text


class _Builder:
    """Makes a sheet's cells, converting each distinct stored value once.

    This is the reader's hot loop (450,000 cells in the benchmark), so it works a row
    at a time with local names, and remembers the conversion of each text and number.
    """

    def __init__(self, sheet: RawSheet) -> None:
        self.sheet = sheet
        self.seen: dict[str | float, tuple[Value, str]] = {}
        self.letters = [""]
        self.unwritable: list[tuple[int, int, str]] = []  # (row, col, stored text)

    def ref(self, row: int, col: int) -> str:
        while len(self.letters) <= col:
            self.letters.append(column_letter(len(self.letters)))
        return f"{self.letters[col]}{row}"

    def convert(self, raw: object) -> tuple[Value, str]:
        value, shown = _stored(raw)
        found = (value, fold_text(shown))
        if type(raw) is str or type(raw) is float:  # bool and int would collide
            self.seen[raw] = found
        return found

    def row(
        self, r: int, values: Sequence[object], formulas: set[tuple[int, int]]
    ) -> None:
        self.ref(r, len(values))
        cells, file, name = self.sheet.cells, self.sheet.file, self.sheet.name
        seen = self.seen
        for c, raw in enumerate(values, 1):
            if raw == "" or raw is None:
                continue
            if type(raw) is str or type(raw) is float:
                found = seen.get(raw)
                if found is None:
                    found = self.convert(raw)
                    if type(raw) is str and _unwritable(raw):
                        # kept out of the cache so that every such cell is reported
                        del seen[raw]
                        self.unwritable.append((r, c, raw))
                value, text = found
            else:
                value, text = self.convert(raw)
            if text:
                formula = (r, c) in formulas if formulas else False
                cells[r, c] = Cell(r, c, value, text, file, name, formula)


# REORDERING (compiler/normalise.py) is refused like control characters (E011), not
# warned of: the tables' text is Chinese with Latin and digits, which never needs it,
# and a rule that reads otherwise than it decides must not pass (tester R11).


def _unwritable(text: str) -> bool:
    """Text no .xlsx can hold (control characters, or more than Excel keeps), or
    text that would be shown reordered (``REORDERING``)."""
    return bool(CONTROL_CHARACTERS.search(text) or REORDERING.search(text)) or (
        len(text) > EXCEL_CELL_LIMIT // 2 and excel_length(text) > EXCEL_CELL_LIMIT
    )


def _coordinates(refs: Iterable[str]) -> set[tuple[int, int]]:
    """A1 references as (row, col) pairs; references that do not parse are left out."""
    found = set()
    for ref in refs:
        match = _REF.fullmatch(ref)
        if match:
            found.add((int(match[2]), _column_number(match[1])))
    return found


def _fill_sheet(
    sheet: RawSheet,
    rows: Sequence[Sequence[object]],
    scan: _Scan,
    very_hidden: bool = False,
) -> list[Diagnostic]:
    builder = _Builder(sheet)
    unsaved = [ref for ref, formula in scan.formulas.items() if not formula.has_result]
    skip = _coordinates([*scan.errors, *unsaved])
    formulas = _coordinates(scan.formulas)
    for r, row in enumerate(rows, 1):
        if skip:
            row = ["" if (r, c) in skip else raw for c, raw in enumerate(row, 1)]
        builder.row(r, row, formulas)
    sheet.hidden_rows = scan.hidden_rows
    sheet.merged_ranges = scan.merged
    found = _sheet_diagnostics(sheet, scan, very_hidden)
    return found + _unwritable_cells(builder)


# ----------------------------------------------------------------------- sheet problems


def _sheet_diagnostics(
    sheet: RawSheet, scan: _Scan, very_hidden: bool = False
) -> list[Diagnostic]:
    found = [_hidden_sheet(sheet, very_hidden)] if sheet.hidden else []
    found += [_merged(sheet, ref) for ref in scan.merged]
    found += [
        _no_result(sheet, ref, f)
        for ref, f in scan.formulas.items()
        if not f.has_result
    ]
    found += [_error_value(sheet, ref, *e) for ref, e in scan.errors.items()]
    found += _hidden_lines(sheet, scan)
    oversized = _oversized(sheet, scan.dimension)
    return found + ([oversized] if oversized else [])


def _at(sheet: RawSheet, ref: str | None = None) -> Location:
    return Location(sheet.file, sheet.name, ref or None)


def _hidden_sheet(sheet: RawSheet, very_hidden: bool = False) -> Diagnostic:
    """W001; a sheet a macro made 'very hidden' is listed by neither Excel's nor WPS's
    取消隐藏 menu, so the hint says how to reach it there."""
    if very_hidden:
        return make(
            "W001",
            f"工作表「{sheet.name}」是深度隐藏的（veryHidden），其内容仍会被读取和使用；"
            "Excel 和 WPS 的「取消隐藏」菜单中看不到它",
            _at(sheet),
            found="veryHidden",
            hint="要显示它：在 Excel 中按 Alt+F11 打开 VBA 编辑器，在左侧工程窗口选中该工作表，"
            "把属性窗口中的 Visible 改为 -1 - xlSheetVisible（WPS 须带 VBA 环境，"
            "在「开发工具」→「VB 编辑器」中同样修改）；显示后核对内容，"
            "此表不应使用时删除它",
        )
    return make(
        "W001",
        f"工作表「{sheet.name}」是隐藏的，其内容仍会被读取和使用",
        _at(sheet),
        hint="如果此表不应使用，请删除它；否则请取消隐藏，以便核对内容",
    )


def _merged(sheet: RawSheet, ref: str) -> Diagnostic:
    top_left = ref.split(":")[0].replace("$", "")
    return make(
        "E006",
        f"单元格 {ref} 是合并单元格",
        _at(sheet, top_left),
        found=ref,
        expected="每个单元格单独填写，不合并",
        hint="取消合并，并把内容填到原合并区域的每个单元格中",
    )


def _no_result(sheet: RawSheet, ref: str, formula: _Formula) -> Diagnostic:
    shown = f"={formula.text}" if formula.text else "（共享公式）"
    return make(
        "E007",
        f"单元格 {ref} 的公式 {shown} 没有保存计算结果",
        _at(sheet, ref),
        found=shown,
        expected="保存过计算结果的公式，或直接填写的值",
        hint=_typed_condition(formula.text)
        or "用 Excel 或 WPS 打开此文件再保存一次（会计算并保存结果），或改为数值",
    )


_CJK = re.compile("[\u3400-\u9fff]")


def _typed_condition(formula: str) -> str | None:
    """The advice for a condition typed with a leading 「=」 (``= 低保标准``), which Excel
    and WPS take for a formula over an unknown name: saving again only gives #NAME?."""
    if not formula or not _CJK.search(formula.split('"')[0]):
        return None
    condition = "= " + formula.strip()
    return (
        f"这像是以「=」开头的条件「{condition}」，被 Excel/WPS 当成了公式；请在前面加一个单引号，"
        f"写成「'{condition}」（或不写「=」：{formula.strip()}），单元格就按文字保存"
    )


def _error_value(sheet: RawSheet, ref: str, value: str, formula: str) -> Diagnostic:
    cause = _ERROR_HINTS.get(value, "公式或数据有误")
    source = f"（公式 ={formula}）" if formula else ""
    return make(
        "E008",
        f"单元格 {ref} 含有错误值 {value}{source}",
        _at(sheet, ref),
        found=value,
        expected="有效的数值或文字",
        hint=_typed_condition(formula) or f"{cause}；请修正后重新保存",
    )


def _unwritable_cells(builder: _Builder) -> list[Diagnostic]:
    """E011 for each cell holding control characters, E012 for each too long."""
    found = []
    for r, c, text in builder.unwritable:
        where = _at(builder.sheet, builder.ref(r, c))
        if CONTROL_CHARACTERS.search(text) or REORDERING.search(text):
            found.append(control_characters(text, where))
        if excel_length(text) > EXCEL_CELL_LIMIT:
            found.append(too_long(text, where))
    return found


def control_characters(text: str, where: Location) -> Diagnostic:
    """E011: ``text`` holds invisible control characters or marks that reorder it
    (also used by export)."""
    hidden = CONTROL_CHARACTERS.findall(text) + REORDERING.findall(text)
    codes = sorted({f"U+{ord(ch):04X}" for ch in hidden})
    shown = show_reordering(show_controls(text))
    reorders = "（其中改变文字方向的字符会使文字倒着显示）" if REORDERING.search(text) else ""
    return make(
        "E011",
        f"单元格 {where.cell} 含有不可见的控制字符 {'、'.join(codes)}{reorders}",
        where,
        found=_clip(shown),
        expected="不含控制字符的文字（换行和制表符可以），如 依据杭民发〔2025〕3号",
        hint="控制字符多来自从其他系统复制的内容，Excel 无法保存，改变文字方向的字符使文字显示得与实际内容不同；"
        "请删除该单元格的内容后重新输入",
    )


def too_long(text: str, where: Location) -> Diagnostic:
    """E012: ``text`` is longer than an Excel cell holds (also used by export)."""
    return make(
        "E012",
        f"单元格 {where.cell} 的文字超过 Excel 单元格的上限",
        where,
        found=f"{excel_length(text)} 个字符：{_clip(text)}",
        expected=f"不超过 {EXCEL_CELL_LIMIT} 个字符的文字",
        hint="过长的说明请移到单独的文件中，单元格内只写文件名或文号",
    )


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[:width] + "……"


def _spans(numbers: Iterable[int]) -> str:
    """[3, 4, 5, 9] -> '3-5、9'."""
    spans: list[list[int]] = []
    for n in sorted(numbers):
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return "、".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def _hidden_lines(sheet: RawSheet, scan: _Scan) -> list[Diagnostic]:
    """One W002 for the hidden rows that hold something, one for such columns."""
    if not (scan.hidden_rows or scan.hidden_cols):
        return []
    rows = {r for r, _ in sheet.cells if r in scan.hidden_rows}
    cols = {c for _, c in sheet.cells if c in scan.hidden_cols}
    found = []
    if rows:
        found.append(_hidden_line(sheet, "行", f"第 {_spans(rows)} 行", sorted(rows)))
    if cols:
        letters = "、".join(column_letter(c) for c in sorted(cols))
        found.append(_hidden_line(sheet, "列", f"{letters} 列", sorted(cols)))
    return found


def _hidden_line(
    sheet: RawSheet, kind: str, which: str, numbers: list[int]
) -> Diagnostic:
    return make(
        "W002",
        f"工作表中有隐藏的{kind}：{which}，其内容仍会被读取和使用",
        _at(sheet),
        found=which,
        hint=f"请取消隐藏以便核对；不应使用的{kind}请删除",
        lines=numbers,
    )


# A declared range this far past the content means the file carries a mass of empty
# formatted cells: harmless to the result, but worth a note since it slows every tool.
_EXCESS_ROWS = 10_000
_EXCESS_COLS = 100


def _oversized(sheet: RawSheet, dimension: str) -> Diagnostic | None:
    corners = _REF.findall(dimension.upper())
    if not corners:
        return None
    letters, row = corners[-1]
    rows, cols = int(row), _column_number(letters)
    if rows < _EXCESS_ROWS and cols < _EXCESS_COLS:
        return None  # cannot exceed the content by that much: skip counting the cells
    if rows - sheet.max_row < _EXCESS_ROWS and cols - sheet.max_col < _EXCESS_COLS:
        return None
    real = f"A1:{column_letter(max(sheet.max_col, 1))}{max(sheet.max_row, 1)}"
    return make(
        "W003",
        f"工作表声明的使用范围是 {dimension}，实际内容只到 {real}",
        _at(sheet),
        found=dimension,
        expected=f"与内容相符的范围，如 {real}",
        hint="删除内容下方的空行和右侧的空列（包括只设了格式的单元格），文件会更小、打开更快",
    )


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


# ---------------------------------------------------------------------------------- csv

_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF8_BOM = b"\xef\xbb\xbf"


def _read_csv_files(
    book: RawWorkbook, files: list[Path], folder: bool
) -> Iterator[Diagnostic]:
    for file in files:
        where = Location(
            f"{book.path.rstrip('/')}/{file.name}" if folder else book.path
        )
        try:
            data = file.read_bytes()
        except OSError as error:
            yield _unopenable(error, where)
            continue
        text = yield from _decoded(data, where)
        if text is not None:
            yield from _csv_sheet(book, file.stem, text, where)


def _decoded(data: bytes, where: Location) -> Generator[Diagnostic, None, str | None]:
    """Yield a problem or return the text; used as ``text = yield from``."""
    if data.startswith((_ZIP_MAGIC, _OLE_MAGIC)):
        yield make(
            "E002",
            "文件扩展名是 .csv，内容却是 Excel 工作簿",
            where,
            found="Excel 工作簿（.xlsx 或 .xls）",
            expected="CSV 文本文件（逗号分隔）",
            hint="把扩展名改回 .xlsx，或在 Excel 或 WPS 中打开后另存为 CSV UTF-8",
        )
        return None
    if data.startswith(_UTF16_BOMS):
        yield _bad_encoding("UTF-16（“Unicode 文本”）", where)
        return None
    text = _decode(data)
    if text is None or "\x00" in text:
        yield _bad_encoding("无法识别的编码或二进制内容", where)
        return None
    return text


def _decode(data: bytes) -> str | None:
    data = data.removeprefix(_UTF8_BOM)
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return None


def _bad_encoding(found: str, where: Location) -> Diagnostic:
    return make(
        "E003",
        "无法识别 CSV 文件的编码",
        where,
        found=found,
        expected="UTF-8、带 BOM 的 UTF-8 或 GBK/GB18030 编码的 CSV",
        hint="在 Excel 中选择“另存为 → CSV UTF-8（逗号分隔）”，或在 WPS 中另存为 CSV",
    )


def _unclosed_quote(text: str) -> int | None:
    """The line where a quoted cell opens and never closes (Python's reader would take
    the rest of the file as that cell), or None."""
    try:
        for _ in csv.reader(io.StringIO(text, newline=""), strict=True):
            pass
        return None
    except csv.Error as error:
        if "unexpected end of data" not in str(error):
            return None  # other slips are read as Excel reads them
    reader, start, line = csv.reader(io.StringIO(text, newline="")), 1, 0
    for _ in reader:
        start, line = line + 1, reader.line_num
    return start


def _csv_problem(error: csv.Error) -> str:
    """What Python's CSV reader refused, in Chinese (its words are English)."""
    limit = re.search(r"field larger than field limit \(([0-9]+)\)", str(error))
    if limit:
        return f"有一个单元格超过 {limit.group(1)} 个字符"
    return "无法按逗号分隔的表格读取"


def _csv_sheet(
    book: RawWorkbook, name: str, text: str, where: Location
) -> Iterator[Diagnostic]:
    sheet = RawSheet(name, book.path)
    builder = _Builder(sheet)
    opened = _unclosed_quote(text)
    if opened is not None:
        yield make(
            "E002",
            f"CSV 文件第 {opened} 行的引号没有配对，从这里到文件末尾都会被读成一个单元格",
            where,
            found=f"第 {opened} 行有一个「\"」开始的单元格没有结束",
            expected="每个以「\"」开始的单元格以「\"」结束（单元格中的引号写成两个「\"\"」）",
            hint="在 Excel 或 WPS 中打开后重新另存为 CSV，或补上缺少的引号",
        )
        book.sheets.append(sheet)
        return
    try:
        for r, row in enumerate(csv.reader(io.StringIO(text, newline="")), 1):
            errors = [c for c, raw in enumerate(row, 1) if raw.strip() in _ERROR_HINTS]
            for c in errors:
                yield _error_value(sheet, builder.ref(r, c), row[c - 1].strip(), "")
                row[c - 1] = ""
            builder.row(r, row, set())
            yield from _unwritable_cells(builder)
            builder.unwritable.clear()
    except csv.Error as error:
        yield make(
            "E002",
            "CSV 文件格式错误，无法读取",
            where,
            found=_csv_problem(error),
            hint="请在 Excel 或 WPS 中打开后重新另存为 CSV",
        )
    book.sheets.append(sheet)
