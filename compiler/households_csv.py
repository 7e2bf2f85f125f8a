"""CSV household files read into tables, and what is wrong with one DuckDB refuses.

``utf8`` (``households_encoding``) gives a UTF-8 file (a GB18030 or UTF-16 one through
a copy). ``separator`` judges the header row: a comma-separated file is read; a
tab-separated one too (Excel's and WPS's 「Unicode 文本」 is UTF-16 and tab-separated,
its numbers written as in a CSV); a semicolon-separated one is one E605 naming the
semicolon, not an E604 for each column: Excel writes it where the comma is the decimal
point, so its ``1.402,50`` and a CSV's ``1,402.50`` cannot be told apart. The header
decides: the separator that splits it into the most cells (a comma on a tie). A
``.txt`` file (「Unicode 文本」 as saved) is read only when tab-separated; any other
``.txt`` is one E605 saying what it is (a comma-separated one: name it ``.csv``).
``read_csv_file`` copies the cells, trimmed, blanks as null, into
a table, drops rows of empty cells only (``,,,,`` that Excel and WPS leave below the
data) and refuses a header that names a column twice: DuckDB would rename the second
(``income.transfer_1``), read the first, and the tool cannot know which was meant. A
column whose header cell is empty (``a,b,c,,,``) is dropped when it holds nothing and
otherwise named by its position, 「第 6 列（无列名）」, not by DuckDB's ``column5``.
When DuckDB cannot read the file, the file is read again with Python's ``csv`` to say
where and why in Chinese (a quote left open, a row wider or narrower than the
header, a value with a quote inside it that opens with one: ``"张三"小名``, shown as
CSV writes it), as E605 at its line; DuckDB's own English text goes to the log only.
Values of the last kind, each on one line in a row as wide as the header, are read
past (``read_csv_file(mend=True)``, helper-121): the file is read with them taken as
written, and the loader refuses it all the same when one is in a column it reads.
``rows_of`` finds rows of a members or events file again by household and index, for
a warning about a loaded value (W602) to name their line and cell.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import tempfile
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from compiler import logger
from compiler.diagnostics import Location
from compiler.errors import InputError
from compiler.households_encoding import utf8
from compiler.households_model import READ_ERRORS, first_line, unreadable
from compiler.households_values import quoted
from compiler.normalise import fold_text
from compiler.sqlgen import quote

_OPTIONS = "header = {header}, all_varchar = true, delim = '{delim}', quote = '\"', escape = '\"'"
# the separators a header row is split by, and their names in messages
_SEPARATORS = {",": "逗号「,」", "\t": "制表符（Tab）", ";": "分号「;」"}
SAVE_AS = "用 Excel 或 WPS 打开后另存为 CSV（逗号分隔）再试"
_Reader = Any  # csv.reader's type, which the csv module does not name


@dataclass
class Mended:
    """The values with a stray quote (``"好"的``) a CSV was read past, each as (line,
    header, value as written), and the E605 to raise when one of them is in a column
    that turns out to be read: a declared field's value must be exactly as written."""

    cells: list[tuple[int, str, str]]
    refusal: InputError

    def warnings(self, shown: Path) -> list[str]:
        """The W601 text for each value: in a column no field has, so not read."""
        return [
            f"{shown.name} 第{line}行「{header}」列的值「{quoted(value)}」中间有英文双引号，"
            "不合 CSV 的写法；该列不是已声明的字段，已忽略，其余各列照常读入"
            f"（如要保留该列，整个值用英文双引号括起、值中的每个引号写成两个，如 "
            f"{quoted(_rewritten(value))}）"
            for line, header, value in self.cells
        ]


def read_csv_file(
    con: duckdb.DuckDBPyConnection,
    table: str,
    path: Path,
    shown: Path,
    mend: bool = False,
) -> Mended | None:
    """Create ``table`` from the CSV at ``path`` (``shown`` is the user's file); a
    ``.txt`` file only when it is tab-separated, as 「Unicode 文本」 is.

    With ``mend``, a file DuckDB refuses only for values with a stray quote
    (``"好"的``: a quote opens the value, text follows the one closing it) on one
    line, each row keeping the header's width, is read with those values taken as
    written; the caller checks that no such value is in a column it reads (else it
    raises ``Mended.refusal``). Returns what was mended, None for nothing."""
    delim = separator(path, shown)
    try:
        _read_csv(con, table, path, shown, delim)
        return None
    except InputError as refusal:
        found = _mended_copy(path, delim) if mend else None
        if found is None:
            raise
        with tempfile.TemporaryDirectory(prefix="jiuzhu-") as scratch:
            copy = Path(scratch) / path.name
            copy.write_text(found[0], encoding="utf-8")
            try:
                _read_csv(con, table, copy, shown, delim)
            except InputError:
                raise refusal from None
        return Mended(found[1], refusal)


def _read_csv(
    con: duckdb.DuckDBPyConnection, table: str, path: Path, shown: Path, delim: str
) -> None:
    if shown.suffix.lower() == ".txt" and delim != "\t":
        raise _not_tab_separated(path, shown)
    try:
        con.execute(
            f"CREATE TABLE {table} AS SELECT NULLIF(trim(COLUMNS(*)), '') "
            f"FROM read_csv($p, {_OPTIONS.format(header='true', delim=delim)})",
            {"p": str(path)},
        )
        # Excel and WPS write rows once edited or formatted below the data as commas
        # only (",,,,"): such a row holds nothing, so it is no household and no member;
        # deleted by rowid, the rows after it keep their line numbers
        con.execute(
            f"DELETE FROM {table} WHERE rowid IN "
            f"(SELECT rowid FROM {table} WHERE COLUMNS(*) IS NULL)"
        )
        _refuse_header_skipped(con, path, shown, delim)
        names = [
            d[0] for d in con.execute(f"SELECT * FROM {table} LIMIT 0").description
        ]
        if _renamed(names):
            _refuse_repeated_header(con, path, shown, delim)
        if any(_NAMELESS.fullmatch(n) for n in names):
            _name_by_position(con, table, path, names, delim)
    except READ_ERRORS as error:
        logger.info("DuckDB 无法读取 %s：%s", shown, first_line(error))
        raise _why_unreadable(path, shown, delim) from None


def separator(path: Path, shown: Path) -> str:
    """The separator of the first row of two cells or more (the header; a title row
    above it has one): the one splitting it into the most cells, a comma on a tie.
    Raises E605 for a semicolon; a comma for a file of one column."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for number, line in enumerate(itertools.islice(handle, 100), start=1):
            widths = {d: _width(line, d) for d in _SEPARATORS}
            found = max(widths, key=lambda d: widths[d])  # the first on a tie: ","
            if widths[found] < 2:
                continue
            if found == ";":
                raise _semicolons(shown, number, line)
            return found
    return ","


def rows_of(
    path: Path,
    column: Collection[str],
    wanted: Collection[tuple[str, int]],
) -> tuple[str | None, dict[tuple[str, int], tuple[int, str]]]:
    """Where rows of a members or events CSV are, as the loader numbered them: by
    household id and index among that household's rows (``_event_index``). Returns
    the header cell, as written, of the column one of the names ``column`` heads (in
    any letter case; None when none does), and for each row of ``wanted`` found its
    line and that column's cell, trimmed. Read in the encoding and with the separator
    the loader read the file in; the household's column is household_id or 户编号."""
    with tempfile.TemporaryDirectory(prefix="jiuzhu-") as scratch:
        text = utf8(path, Path(scratch))
        with text.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(handle, delimiter=separator(text, path))
            return _rows_in(reader, {n.casefold() for n in column}, set(wanted))


def _rows_in(
    reader: _Reader, names: set[str], wanted: set[tuple[str, int]]
) -> tuple[str | None, dict[tuple[str, int], tuple[int, str]]]:
    """``rows_of`` over the file's rows: its header row is the first of two cells."""
    header = next((r for r in reader if sum(1 for c in r if c.strip()) > 1), [])
    cells = [c.strip() for c in header]
    keys = [
        i
        for i, c in enumerate(cells)
        if c == "household_id" or fold_text(c) == "户编号"
    ]
    at = next((i for i, c in enumerate(cells) if c.casefold() in names), None)
    found: dict[tuple[str, int], tuple[int, str]] = {}
    if not keys:
        return None if at is None else cells[at], found
    seen: dict[str, int] = {}
    start = reader.line_num + 1
    for row in reader:
        household = row[keys[0]].strip(" ") if keys[0] < len(row) else ""
        index = seen[household] = seen.get(household, -1) + 1
        if (household, index) in wanted:
            cell = row[at].strip() if at is not None and at < len(row) else ""
            found[(household, index)] = (start, cell)
            if len(found) == len(wanted):
                break
        start = reader.line_num + 1
    return None if at is None else cells[at], found


def _not_tab_separated(path: Path, shown: Path) -> InputError:
    """E605 for a ``.txt`` household file that is no tab-separated table: a ``.txt``
    is read as Excel's and WPS's 「Unicode 文本」 only, whatever else it holds."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(itertools.islice(handle, 100))
    commas = any(_width(line, ",") > 1 for line in lines)
    return unreadable(
        f"{shown.name} 不是制表符分隔的文本：.txt 家庭数据须是 Excel 或 WPS 另存的"
        "「Unicode 文本」",
        Location(file=str(shown)),
        found="以逗号分隔的 CSV" if commas else "没有以制表符分隔的表头",
        expected="第一行是以制表符（Tab）分隔的列名，如 household_id<Tab>county_code",
        hint="逗号分隔的文件请把扩展名改为 .csv 再试"
        if commas
        else "在 Excel 或 WPS 中把家庭表另存为「Unicode 文本」（*.txt）或 CSV 再试",
    )


def _width(line: str, delim: str) -> int:
    """How many cells a line splits into at ``delim`` (a quote it leaves open: 0)."""
    try:
        return len(next(csv.reader([line], delimiter=delim, strict=True), []))
    except csv.Error:
        return 0


def _semicolons(shown: Path, number: int, line: str) -> InputError:
    return unreadable(
        f"CSV 文件的列以{_SEPARATORS[';']}分隔，应以{_SEPARATORS[',']}分隔",
        Location(file=str(shown), cell=f"第{number}行"),
        found=_clip(line.rstrip("\r\n")),
        expected="逗号分隔的 CSV，如 household_id,county_code；或制表符分隔的「Unicode 文本」",
        hint="以分号分隔的文件来自以逗号作小数点的区域设置（如欧洲语言的 Excel），"
        "其中的 1.402,50 与逗号分隔的 1,402.50 无法区分，因此不读取；"
        "在中文区域设置下用 Excel 或 WPS 另存为「CSV UTF-8（逗号分隔）」再试",
    )


def _title_rows(con: duckdb.DuckDBPyConnection, path: Path, delim: str) -> int:
    """How many lines DuckDB's sniffer skips above what it takes for the header."""
    sniffed = con.execute(
        f"SELECT SkipRows FROM sniff_csv($p, delim = '{delim}')", {"p": str(path)}
    )
    return int(sniffed.fetchall()[0][0])


def _refuse_header_skipped(
    con: duckdb.DuckDBPyConnection, path: Path, shown: Path, delim: str
) -> None:
    """DuckDB takes a row wider than the header for the header, skipping the lines
    above it as titles: three false E604 (no person_id column) quoting a data row
    (helper-57). A skipped line of more than one cell is no title but the header: the
    file is ragged, and ``_why_unreadable`` names the row."""
    skipped = _title_rows(con, path, delim)
    if not skipped:
        return
    with path.open(encoding="utf-8-sig", newline="") as handle:
        above = list(itertools.islice(csv.reader(handle, delimiter=delim), skipped))
    if any(sum(1 for cell in row if cell.strip()) > 1 for row in above):
        raise _why_unreadable(path, shown, delim)


def _renamed(names: list[str]) -> bool:
    """Whether a column looks like DuckDB's name for a repeated header (``x_1``)."""
    seen = {n.casefold() for n in names}
    return any(
        n.rpartition("_")[2].isdigit() and n.rpartition("_")[0].casefold() in seen
        for n in names
    )


def _header_row(
    con: duckdb.DuckDBPyConnection, path: Path, delim: str
) -> tuple[int, tuple[str | None, ...]]:
    """The header row's cells as written, and how many title rows DuckDB found above
    it."""
    rows = _title_rows(con, path, delim)
    options = _OPTIONS.format(header="false", delim=delim)
    header = con.execute(
        f"SELECT * FROM read_csv($p, {options}, skip = {rows}) LIMIT 1",
        {"p": str(path)},
    ).fetchall()[0]
    return rows, header


# DuckDB's name for a column whose header cell is empty: column5 for the sixth
_NAMELESS = re.compile(r"column[0-9]+")


def _name_by_position(
    con: duckdb.DuckDBPyConnection, table: str, path: Path, names: list[str], delim: str
) -> None:
    """Columns whose header cell is empty (``a,b,c,,,`` as Excel leaves after the data):
    dropped when they hold nothing, else renamed 「第 6 列（无列名）」, the name a
    warning then gives them, in place of DuckDB's invented ``column5``."""
    header = _header_row(con, path, delim)[1]
    nameless = [
        (number, name)
        for number, name in enumerate(names, start=1)
        if _NAMELESS.fullmatch(name)
        and number <= len(header)
        and not (header[number - 1] or "").strip()
    ]
    if not nameless:
        return  # a header that writes column5 itself
    counts = con.execute(
        f"SELECT {', '.join(f'count({quote(n)})' for _, n in nameless)} FROM {table}"
    ).fetchall()[0]
    for (number, name), count in zip(nameless, counts, strict=True):
        if count:
            shown = f"第 {number} 列（无列名）"
            con.execute(
                f"ALTER TABLE {table} RENAME COLUMN {quote(name)} TO {quote(shown)}"
            )
        else:
            con.execute(f"ALTER TABLE {table} DROP COLUMN {quote(name)}")


def _refuse_repeated_header(
    con: duckdb.DuckDBPyConnection, path: Path, shown: Path, delim: str
) -> None:
    """E605 when the header row (as DuckDB found it, below any title rows) names a
    column twice; nothing when ``x_1`` was written so."""
    rows, header = _header_row(con, path, delim)
    places: dict[str, list[int]] = {}
    for number, name in enumerate(header, start=1):
        if name is not None and name.strip():
            places.setdefault(name.strip().casefold(), []).append(number)
    problems = [
        unreadable(
            f"表头中的列名「{header[numbers[0] - 1].strip()}」出现了 {len(numbers)} 次："
            + "、".join(f"第 {n} 列（{_letter(n)}）" for n in numbers),
            Location(file=str(shown), cell=f"第{rows + 1}行"),
            found=header[numbers[0] - 1].strip(),
            expected="每个列名只出现一次",
            hint="程序无法判断哪一列才是要用的：删去多余的一列，或把它改成应有的字段名",
        ).diagnostics[0]
        for numbers in places.values()
        if len(numbers) > 1
    ]
    if problems:
        raise InputError(problems)


def _letter(number: int) -> str:
    """A column's letters as Excel shows them: 1 -> A, 28 -> AB."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _why_unreadable(path: Path, shown: Path, delim: str) -> InputError:
    """Where the CSV goes wrong, read with Python's csv module: an open quote, a row
    of another width than the header; a general E605 when Python reads it."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, strict=True, delimiter=delim)
        header: list[str] = []
        start = 1
        try:
            for row in reader:
                filled = sum(1 for cell in row if cell.strip())
                if not header and filled > 1:  # the header; a title row has one cell
                    header = row
                elif header and filled and len(row) != len(header):
                    return _unreadable_row(shown, start, row, len(header), delim)
                start = reader.line_num + 1
        except csv.Error:
            return _quote_problem(path, shown, start, delim, header)
    return unreadable(
        "CSV 文件无法读取：不是逗号分隔的 CSV",
        shown,
        expected="第一行是列名、逗号分隔的 CSV 文件",
        hint=SAVE_AS,
    )


def _quote_problem(
    path: Path, shown: Path, start: int, delim: str, header: list[str]
) -> InputError:
    """E605 for the record at line ``start`` that Python's csv refused: a value with
    a quote inside it (``"张三"小名``: a quote opens it and text follows the one that
    closes it), said so and rewritten as CSV writes it; or a quote left open."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        lines = itertools.islice(handle, start - 1, None)
        stray = _stray_in(lines, start, delim)
    if stray is None:
        return unreadable(
            "引号没有配对：从这一行开始的引号一直没有结束",
            Location(file=str(shown), cell=f"第{start}行"),
            found=_line(path, start),
            expected='成对的英文双引号，如 "杭州市,西湖区"；值中的引号写成两个 ""',
            hint=SAVE_AS,
        )
    line, number, value, _ = stray
    named = header[number - 1].strip() if number <= len(header) else ""
    column = f"「{named}」列" if named else f"第 {number} 列（{_letter(number)}）"
    rewritten = _rewritten(value)
    return unreadable(
        f"{column}的值中间有英文双引号，而这个值没有整个用引号括起："
        "CSV 只把括住整个值的引号当作引号",
        Location(file=str(shown), cell=f"第{line}行 {named or _letter(number) + '列'}"),
        found=quoted(value),
        expected=f"整个值用英文双引号括起、值中的每个引号写成两个，如 {quoted(rewritten)}",
        hint="Excel 或 WPS 另存为 CSV 时会这样写；手工编辑时照此改写，"
        "或把值中的英文引号改成中文引号“”",
    )


def _rewritten(value: str) -> str:
    """A value with a stray quote as CSV writes it, its quotes doubled, all quoted."""
    # "张三"小名"" wraps the value and leaves its quotes single; "a"b has them in it
    inner = value[1:-1] if len(value) > 1 and value.endswith('"') else value
    return '"' + inner.replace('"', '""') + '"'


def _stray_in(
    lines: Iterable[str], start: int, delim: str
) -> tuple[int, int, str, int] | None:
    """(line it starts on, column number, text up to the next separator, where it
    starts in its line) of the first value of the record at line ``start`` (``lines``
    from there on) that opens with a quote and goes on after the quote closing it;
    None when a quote is left open to the end of the file."""
    number, begun, inside, closing, value, opened = 1, start, False, False, "", 0
    for line_number, line in enumerate(lines, start=start):
        for at, char in enumerate(line):
            if closing and char != '"':  # the quote before closed the value
                if char not in (delim, "\r", "\n"):
                    rest = re.split(f"[{re.escape(delim)}\r\n]", line[at:])[0]
                    return begun, number, value + rest, opened
                inside = closing = False
            if inside:  # a quote in it closes it, or is the first of two
                value += char
                closing = char == '"' and not closing
            elif char == '"' and not value:
                inside, value, begun, opened = True, char, line_number, at
            elif char == delim:
                number, value = number + 1, ""
            elif char in "\r\n":
                return None  # the record ended with no such value
            else:
                value += char
    return None


# the values with a stray quote a file is read past; more is no slip but another format
_MENDS = 1000


def _mended_copy(path: Path, delim: str) -> tuple[str, list[tuple[int, str, str]]] | None:
    """The text of a CSV with each value with a stray quote (``"好"的``, on one line)
    rewritten as CSV writes it, and those values as (line, header, value); None when
    something else is wrong: a quote left open, a value over lines, a row of another
    width than the header (which cells are which is then a guess)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        lines = handle.readlines()
    header: list[str] = []
    cells: list[tuple[int, str, str]] = []
    start = 1
    while len(cells) <= _MENDS:
        reader = csv.reader(io.StringIO("".join(lines[start - 1 :])), strict=True, delimiter=delim)
        at = start
        try:
            for row in reader:
                filled = sum(1 for cell in row if cell.strip())
                if not header and filled > 1:
                    header = row
                elif header and filled and len(row) != len(header):
                    return None
                at = start + reader.line_num
        except csv.Error:
            stray = _stray_in(lines[at - 1 :], at, delim)
            if not header or stray is None or stray[0] != at:
                return None
            line, number, value, opened = stray
            if "\n" in value or "\r" in value or number > len(header):
                return None
            text = lines[line - 1]
            lines[line - 1] = text[:opened] + _rewritten(value) + text[opened + len(value) :]
            cells.append((line, header[number - 1].strip(), value))
            start = at
            continue
        return ("".join(lines), cells) if cells else None
    return None


def _unreadable_row(
    shown: Path, line: int, row: list[str], width: int, delim: str
) -> InputError:
    named = _SEPARATORS[delim].split("「")[0]
    example = '，如 "1,000"' if delim == "," else ""
    split = _split_at_quotes(row, delim) if len(row) > width else None
    if split is not None:  # x"y,z"w: the quotes inside a value hold no separator
        return unreadable(
            f"这一行有 {len(row)} 列，表头有 {width} 列：值「{quoted(split)}」中间的英文"
            f"双引号不能把其中的{named}括入值中，它被分成了几列",
            Location(file=str(shown), cell=f"第{line}行"),
            found=_clip(delim.join(row)),
            expected="整个值用英文双引号括起、值中的每个引号写成两个，如 "
            + quoted('"' + split.replace('"', '""') + '"'),
            hint="CSV 只把括住整个值的引号当作引号；Excel 或 WPS 另存为 CSV 时会这样写",
        )
    return unreadable(
        f"这一行有 {len(row)} 列，表头有 {width} 列",
        Location(file=str(shown), cell=f"第{line}行"),
        found=_clip(delim.join(row)),
        expected=f"与表头相同的 {width} 列；值中含{named}时用英文双引号括起{example}",
        hint=SAVE_AS,
    )


def _split_at_quotes(row: list[str], delim: str) -> str | None:
    """The value a row too wide most likely meant where quotes inside its cells
    enclose a separator (``x"y,z"w`` read as ``x"y`` and ``z"w``); None for none."""
    quoting = [i for i, cell in enumerate(row) if cell.count('"') % 2]
    if len(quoting) < 2:
        return None
    return delim.join(row[quoting[0] : quoting[1] + 1])


def _line(path: Path, number: int) -> str:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        text = next(itertools.islice(handle, number - 1, None), "")
    return _clip(text.rstrip("\r\n"))


def _clip(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


__all__ = ["Mended", "read_csv_file", "rows_of", "separator", "utf8"]
