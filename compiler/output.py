r"""Decision output: the decisions relation written as CSV, Parquet or JSON Lines.

``write_decisions`` copies the contract's decision columns, in the contract's order, from
a relation the engine built (a table or view name, or a query) to a file; DuckDB's COPY
does the writing, so a million decisions take seconds. By extension:

==========  ===================================================================
``.csv``    UTF-8 with a byte order mark (Excel and WPS read a CSV without one in
            the system's code page) and a header row; lists joined by ``;``, an alert or trace
            entry's fields (``RECORD_FIELDS``) joined by ``|``, ``\``, ``;``
            and ``|`` inside a value escaped with ``\``, null written as
            nothing (``split_csv_list`` reads a cell back); a text cell that
            Excel or WPS would take for a formula (it starts with ``=``,
            ``+``, ``-``, ``@``, a tab or a carriage return) or that starts
            with ``'`` gets a leading ``'``; money as ``1402.50``; dates ISO
``.parquet`` native types: DECIMAL(18,2), DATE, VARCHAR[], lists of structs
``.jsonl``  one JSON object per line; money as strings with two decimals
            (``"1402.50"``) so no reader turns it into binary floating point;
            dates ISO; lists and structs as JSON arrays and objects
==========  ===================================================================

A missing list is written as an empty one. The file appears only when complete: COPY
writes a temporary file beside it, which then replaces the target. An ``out`` that is
a symbolic link is written through: the file it names is replaced (the temporary file
beside that one), and the link stays.
``written_by_jiuzhu`` tells a file so written from any other by its header.
``decision_records`` returns a small result as contract-shaped dicts with ``Decimal``
money and ``date`` dates, for the service, the console and tests.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from compiler.diagnostics import Location, make
from compiler.errors import InputError
from compiler.parquet_join import join_parquet
from compiler.sqlgen import quote, string

logger = logging.getLogger("jiuzhu")

DECISION_COLUMNS = (
    "household_id",
    "county_code",
    "as_of",
    "version",
    "group",
    "income_per_capita",
    "dibao_standard",
    "marginal_line",
    "tekun_members",
    "entitlements",
    "phase_out_from",
    "phase_out_until",
    "monitoring",
    "alerts",
    "trace",
)
MONEY_COLUMNS = ("income_per_capita", "dibao_standard", "marginal_line")
LIST_COLUMNS = ("tekun_members", "entitlements")
RECORD_COLUMNS = ("alerts", "trace")
# The fields of an alert and a trace entry in the contract's order, as CSV writes them
# (a trace entry's person_id, beyond the contract, last).
RECORD_FIELDS = {
    "alerts": ("type", "person_id", "raised_on", "due"),
    "trace": ("table", "rule", "cell", "outcome", "section", "person_id"),
}
# escaped in a CSV list's values; the backslash first, so added ones are not doubled
_ESCAPED = ("\\", ";", "|")
# CSV text cells that could start a formula in Excel or WPS get a leading apostrophe
TEXT_COLUMNS = ("household_id", "county_code", "version", "group", "monitoring")
_FORMULA_START = r"^([=+\-@\t\r'])"
_GUARDED = r"'\1"
FORMATS = {".csv": "csv", ".parquet": "parquet", ".jsonl": "jsonl"}

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_COPY_OPTIONS = {
    "csv": "FORMAT csv, HEADER true",
    "parquet": "FORMAT parquet, COMPRESSION zstd",
    "jsonl": "FORMAT json",
}


def write_decisions(
    con: duckdb.DuckDBPyConnection, relation: str, out: str | Path
) -> int:
    """Write the decision columns of ``relation`` to ``out``; returns the rows written.

    Args:
        con: the connection holding the relation.
        relation: a table or view name, or a SELECT query.
        out: the file to write; ``.csv``, ``.parquet`` or ``.jsonl``.

    Raises:
        InputError: E002 when the extension is none of these.
        ValueError: when the relation lacks a decision column or money is not
            DECIMAL(18,2) (a bug in the caller, not in the data).
    """
    started = time.perf_counter()
    with _replacing(Path(out)) as (partial, fmt):
        if fmt == "csv":  # DuckDB writes no byte order mark: the body goes after ours
            body = partial.with_name(partial.name + ".body")
            try:
                written = write_part(con, relation, body, fmt)
                _join_csv([body], partial)
            finally:
                body.unlink(missing_ok=True)
        else:
            written = write_part(con, relation, partial, fmt)
    logger.info(
        "已写出 %d 条决策到 %s，%.2f 秒",
        written,
        out,
        time.perf_counter() - started,
    )
    return written


def write_part(
    con: duckdb.DuckDBPyConnection, relation: str, path: Path, fmt: str, checked: bool = False
) -> int:
    """Write the decision columns of ``relation`` to ``path`` as ``fmt`` writes them
    (a key of ``_COPY_OPTIONS``), in place; returns the rows written. ``checked``:
    the relation's columns were checked before (by the first of a run's parts; the
    check plans the query, 0.07 s)."""
    source = _source(relation)
    if not checked:
        _check_columns(con, source)
    select = ", ".join(_column_sql(name, fmt) for name in DECISION_COLUMNS)
    rows = con.execute(
        f"COPY (SELECT {select} FROM {source}) TO '{_path_literal(path)}' "
        f"({_COPY_OPTIONS[fmt]})"
    ).fetchall()
    return int(rows[0][0]) if rows else 0


def join_parts(parts: list[Path], out: str | Path) -> None:
    """Write ``out`` from parts written by ``write_part`` in its format, one after the
    other, as bytes: a CSV's header row only once, Parquet's row groups under one
    footer (``parquet_join``). No value is decoded again, so this takes about as long
    as copying the files. ValueError: Parquet parts this cannot join (``out`` is then
    left as it was)."""
    started = time.perf_counter()
    with _replacing(Path(out)) as (partial, fmt):
        if fmt == "parquet":
            join_parquet(parts, partial)
        elif fmt == "csv":
            _join_csv(parts, partial)
        else:
            with partial.open("wb") as joined:
                for part in parts:
                    with part.open("rb") as piece:
                        shutil.copyfileobj(piece, joined, 1 << 20)
    logger.info("已将 %d 个分批文件合并为 %s，%.2f 秒", len(parts), out, time.perf_counter() - started)


# Excel and WPS read a CSV without a byte order mark in the system's code page (GBK on
# Chinese Windows): 工作副本 and every reason would show as mojibake
_BOM = b"\xef\xbb\xbf"


def _join_csv(parts: list[Path], out: Path) -> None:
    """``out``: a byte order mark, then the parts' rows, their header row once."""
    with out.open("wb") as joined:
        joined.write(_BOM)
        for number, part in enumerate(parts):
            with part.open("rb") as piece:
                if number:
                    piece.readline()  # the header row, written by every part
                shutil.copyfileobj(piece, joined, 1 << 20)


@contextmanager
def _replacing(out: Path) -> Iterator[tuple[Path, str]]:
    """A temporary file beside ``out`` to write, and ``out``'s format; it replaces
    ``out`` once the block completes, so a failed or interrupted write leaves ``out``
    as it was. Its name is short whatever ``out``'s is: a name of up to 255 bytes must
    be writable. It carries the process id, so that a later run removes it when this
    one was killed before it could (``leftovers.PARTIAL``). A link is followed: its
    file is replaced, in that file's folder, and the link kept."""
    fmt = format_of(out)
    try:
        out = out.resolve()
    except (OSError, RuntimeError) as error:  # a loop of links
        raise unwritten(out, error) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".jiuzhu-{os.getpid()}-{uuid.uuid4().hex[:12]}.partial")
    try:
        yield partial, fmt
        _keep_mode(out, partial)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)


def _keep_mode(out: Path, partial: Path) -> None:
    """Give the new file the permissions of the one it replaces (a decisions file a
    county shares read-only with its group stays so after a rerun); a first file
    keeps the permissions the process's umask gives."""
    try:
        shutil.copymode(out, partial)
    except OSError:  # no file yet, or one whose mode cannot be read: nothing to keep
        pass


def written_by_jiuzhu(path: Path) -> bool:
    """Whether ``path`` is empty or holds decisions as ``write_decisions`` writes them
    in its extension's format: a CSV whose first line is the decision columns' header,
    JSON Lines whose first object has exactly the decision columns as keys, in order,
    Parquet whose columns are those. Only the header, first line or footer is read."""
    try:
        if path.stat().st_size == 0:
            return True
        fmt = format_of(path)
        if fmt == "parquet":
            return parquet_columns(path) == list(DECISION_COLUMNS)
        with path.open("rb") as opened:
            first = opened.readline(1 << 20)
    except (OSError, InputError, duckdb.Error):
        return False
    if fmt == "csv":
        return first.removeprefix(_BOM).rstrip(b"\r\n") == ",".join(DECISION_COLUMNS).encode()
    try:
        record = json.loads(first)
    except ValueError:  # not JSON, or a first line longer than read
        return False
    return isinstance(record, dict) and list(record) == list(DECISION_COLUMNS)


def parquet_columns(path: Path) -> list[str]:
    """The top-level column names of a Parquet file, from its footer."""
    con = duckdb.connect()
    try:
        described = con.execute(
            f"DESCRIBE SELECT * FROM read_parquet('{_path_literal(path)}')"
        ).fetchall()
    finally:
        con.close()
    return [row[0] for row in described]


def unwritten(out: str | Path, error: BaseException) -> InputError:
    """E605 for an output file that could not be written (a full disk, a folder that
    turned read-only): it names the output, whatever was being written when it failed."""
    return InputError(
        make(
            "E605",
            "决策结果文件无法写入",
            Location(file=str(out)),
            found=str(error).splitlines()[0] if str(error) else type(error).__name__,
            expected="输出文件夹所在的磁盘有足够的空间，且可以写入",
            hint="检查磁盘剩余空间和文件夹的写入权限，或用 --out 写到另一个文件夹；原有的输出文件保持不变",
        )
    )


def decision_records(
    con: duckdb.DuckDBPyConnection, relation: str
) -> list[dict[str, Any]]:
    """The decisions of a (small) relation as contract-shaped dicts, in its order."""
    source = _source(relation)
    _check_columns(con, source)
    select = ", ".join(_column_sql(name, "parquet") for name in DECISION_COLUMNS)
    rows = con.execute(f"SELECT {select} FROM {source}").fetchall()
    return [dict(zip(DECISION_COLUMNS, row, strict=True)) for row in rows]


def format_of(out: Path) -> str:
    fmt = FORMATS.get(out.suffix.lower())
    if fmt is None:
        raise InputError(
            make(
                "E002",
                "决策结果文件的类型不支持",
                Location(file=str(out)),
                found=out.suffix or out.name,
                expected=".csv、.parquet 或 .jsonl",
                hint="把输出文件的扩展名改为上述之一",
            )
        )
    return fmt


def _source(relation: str) -> str:
    """A relation name quoted part by part, or a query in parentheses."""
    if _NAME.fullmatch(relation):
        return ".".join(quote(part) for part in relation.split("."))
    return f"({relation})"


def _check_columns(con: duckdb.DuckDBPyConnection, source: str) -> None:
    described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    types = {row[0]: row[1] for row in described}
    missing = [name for name in DECISION_COLUMNS if name not in types]
    if missing:
        raise ValueError(f"the decisions relation lacks {', '.join(missing)}")
    inexact = [name for name in MONEY_COLUMNS if types[name] != "DECIMAL(18,2)"]
    if inexact:
        raise ValueError(f"money columns must be DECIMAL(18,2): {', '.join(inexact)}")


def _column_sql(name: str, fmt: str) -> str:
    """One decision column as the format writes it."""
    column = quote(name)
    if name in LIST_COLUMNS:
        value = f"coalesce({column}, CAST([] AS VARCHAR[]))"
        if fmt == "csv":
            value = _joined(value, _escaped("x"))
    elif name in RECORD_COLUMNS:
        value = f"coalesce({column}, [])"
        if fmt == "csv":
            parts = ", ".join(_escaped(f"x.{quote(f)}") for f in RECORD_FIELDS[name])
            value = _joined(value, f"concat_ws('|', {parts})")
    elif name in MONEY_COLUMNS and fmt == "jsonl" or name in TEXT_COLUMNS and fmt == "csv":
        value = f"CAST({column} AS VARCHAR)"
    elif fmt == "parquet":
        value = column
    else:
        return column
    if fmt == "parquet":
        # DuckDB marks a Parquet column REQUIRED when what it knows of the values says
        # none is null: from the query in one run, from the stored values in another,
        # so the same decisions got different schemas. A branch that may be null keeps
        # every column OPTIONAL, whatever the run and the data.
        return f"CASE WHEN {value} IS NULL THEN NULL ELSE {value} END AS {column}"
    if fmt == "csv":  # a cell such as =HYPERLINK(...) would run when the file is opened
        value = f"regexp_replace({value}, {string(_FORMULA_START)}, {string(_GUARDED)})"
    return f"{value} AS {column}"


def _joined(items: str, item: str) -> str:
    """SQL joining the list ``items`` by ``;``, each element ``x`` written as ``item``."""
    return f"array_to_string(list_transform({items}, lambda x: {item}), ';')"


def _escaped(value: str) -> str:
    """SQL for a value inside a CSV list: as text, escaped, null as empty."""
    text = f"coalesce(CAST({value} AS VARCHAR), '')"
    for char in _ESCAPED:
        text = f"replace({text}, {string(char)}, {string(chr(92) + char)})"
    return text


def unguarded(cell: str) -> str:
    """A CSV text cell without the apostrophe written before a formula-like start."""
    return cell.removeprefix("'")


def split_csv_list(cell: str) -> list[list[str]]:
    """A CSV cell of a list column read back: its elements, each the list of its
    ``|``-separated fields (one for ``tekun_members`` and ``entitlements``), escapes
    undone; an empty field stands for null as well as for empty text. The apostrophe
    that keeps a spreadsheet from reading the cell as a formula is dropped."""
    cell = unguarded(cell)
    if cell == "":
        return []
    elements: list[list[str]] = [[""]]
    chars = iter(cell)
    for char in chars:
        if char == "\\":
            elements[-1][-1] += next(chars, "")
        elif char == ";":
            elements.append([""])
        elif char == "|":
            elements[-1].append("")
        else:
            elements[-1][-1] += char
    return elements


def _path_literal(path: Path) -> str:
    return str(path).replace("'", "''")
