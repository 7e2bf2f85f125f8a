"""Household input: a file of households becomes the relations the compiled SQL reads.

``load_households`` creates ``jz_households``, ``jz_members`` and ``jz_events`` on a
DuckDB connection: one column per declared field, named by its identifier
(``assets.money``, ``income.wage``, ``event.type``) and typed by its type, the field's
default standing in where the input leaves a value out or null; plus the keys
``household_id``, ``county_code``, ``_hh_index`` (households), ``household_id``,
``_member_index`` (members) and ``household_id``, ``_event_index`` (events). Indexes
order rows as the input does: ``_hh_index`` counts households from 0 (with a county
filter it keeps the household's position in the whole file); a member's or event's
index is its position in its household for JSON and CSV, and its row in the file for
Parquet and DuckDB input (numbering them would cost a window over every read). ``iter_households`` yields the same households as
contract-shaped dicts (exact ``Decimal``, ``datetime.date``) for the interpreter.

==========================  ============================================================
``.jsonl``                  one household per line, nested as in the contract
``.json``                   a list of such households
``*households.csv``         with ``*members.csv`` and optionally ``*events.csv`` beside
                            it, joined by ``household_id``; columns named by field id
                            (an event column may drop the ``event.`` prefix); UTF-8,
                            UTF-8 with BOM or GB18030
``*households.parquet``     with ``*members.parquet`` and optionally ``*events.parquet``
``.duckdb``, ``.db``        tables ``households``, ``members`` and optionally
                            ``events``, attached read-only
==========================  ============================================================

JSON and CSV are read by DuckDB and copied into tables; Parquet and DuckDB input stays
where it is, behind views, so it need not fit in memory.

A value is accepted when it reads as its type without losing anything: money, numbers,
integers and percents as a JSON number or digits (``1402.5``, ``"1402.50"``) with no
more decimals than the type keeps (2, 4, 0, 6); booleans ``true``/``false`` (also
是/否, 1/0, y/n); dates ``YYYY-MM-DD``; an enum one of its values; ``county_code`` six
digits. JSON strings and numbers are interchangeable (``330106`` is the code
``"330106"``). DuckDB reads JSON numbers through binary floating point, which keeps
15 significant digits: write larger amounts as strings.

All values are checked in one pass before anything is built, and each problem becomes a
diagnostic whose location's ``cell`` is ``第3行 $.members[0].income.wage`` (JSON Lines:
line and JSON path), ``$[2].members[0].income.wage`` (a JSON list), ``第3行 income.wage``
(CSV: the row Excel shows, the header being row 1; Parquet: rows from 1) or
``members 表第3行 income.wage`` (DuckDB). Codes:

E603  a value of the wrong type or not among its values; a repeated household_id or
      person_id; a member or event whose household is not in the file
E604  a required value missing: household_id, county_code, members[].person_id and,
      when declared, members[].birth_date
E605  the file cannot be read: missing, an unknown extension, not JSON, a broken or
      undecodable CSV; also the last line when more than 200 problems were found
E606  a county code not among ``known_counties``
"""

from __future__ import annotations

import codecs
import json
import logging
import re
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from compiler.diagnostics import Diagnostic, Location, make
from compiler.errors import InputError
from compiler.model import SCALES, DType, Field, Kind, Level
from compiler.sqlgen import SQL_TYPES, literal, quote, string

logger = logging.getLogger("jiuzhu")

TABLES = {Level.HOUSEHOLD: "jz_households", Level.MEMBER: "jz_members"}
TABLES[Level.EVENT] = "jz_events"
INDEXES = {Level.HOUSEHOLD: "_hh_index", Level.MEMBER: "_member_index"}
INDEXES[Level.EVENT] = "_event_index"
LISTS = {Level.MEMBER: "members", Level.EVENT: "events"}
REQUIRED = {
    (Level.HOUSEHOLD, "household_id"),
    (Level.HOUSEHOLD, "county_code"),
    (Level.MEMBER, "person_id"),
    (Level.MEMBER, "birth_date"),
}
MAX_PROBLEMS = 200
EVENT_PREFIX = "event."

_TEXT = DType(Kind.TEXT)
_KEYS = {
    Level.HOUSEHOLD: (("household_id", "户编号"), ("county_code", "居住地区划代码")),
    Level.MEMBER: (("person_id", "成员编号"),),
    Level.EVENT: (),
}
_KIND_CN = {
    Kind.MONEY: "金额",
    Kind.NUMBER: "数值",
    Kind.INTEGER: "整数",
    Kind.PERCENT: "百分比（小数，0.35 即 35%）",
    Kind.BOOLEAN: "是否",
    Kind.DATE: "日期",
    Kind.TEXT: "文本",
}
_EXAMPLES = {
    Kind.MONEY: "1402.50",
    Kind.NUMBER: "85.5",
    Kind.INTEGER: "2",
    Kind.PERCENT: "0.35",
    Kind.BOOLEAN: "true 或 false（也可写 是/否）",
    Kind.DATE: "2025-04-07",
    Kind.TEXT: "H001",
}
_TRUE_WORDS = ("true", "1", "是", "y", "yes", "√")
_FALSE_WORDS = ("false", "0", "否", "n", "no", "×")
_SOURCE_NAMES = {Level.HOUSEHOLD: "households", **LISTS}
_RAW = {level: f"_jz_raw_{name}" for level, name in _SOURCE_NAMES.items()}
_ALL = {level: f"_jz_all_{name}" for level, name in _SOURCE_NAMES.items()}
_FAST = {level: f"_jz_fast_{name}" for level, name in LISTS.items()}
_STAGING = (*_RAW.values(), *_ALL.values(), *_FAST.values(), "_jz_raw")
_STAGING += tuple(f"_jz_src_{name}" for name in _SOURCE_NAMES.values())

Schema = dict[Level, list["Column"]]
# DuckDB quotes the input in some read errors, cut at a byte count; when the cut falls
# inside a character, the Python binding raises UnicodeDecodeError instead.
_READ_ERRORS = (duckdb.Error, UnicodeDecodeError)


@dataclass
class LoadedInput:
    """What ``load_households`` loaded: counts, where from, and what it noticed."""

    households: int
    members: int
    events: int
    source: str
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Column:
    """One input column: a declared field, or a key the loader always needs."""

    id: str
    name_cn: str
    level: Level
    dtype: DType
    default: object = None

    @property
    def required(self) -> bool:
        return (self.level, self.id) in REQUIRED

    @property
    def key(self) -> tuple[str, ...]:
        """The path of the value inside its JSON object (events drop ``event.``)."""
        name = self.id
        if self.level is Level.EVENT and name.startswith(EVENT_PREFIX):
            name = name[len(EVENT_PREFIX) :]
        return tuple(name.split("."))

    def json_path(self, position: int | None) -> str:
        inside = ".".join(self.key)
        if self.level is Level.HOUSEHOLD:
            return f"$.{inside}"
        return f"$.{LISTS[self.level]}[{position}].{inside}"


def input_columns(fields: dict[str, Field], level: Level) -> list[Column]:
    """The columns of one level's table, keys first, then fields as declared."""
    columns = [Column(ident, name, level, _TEXT) for ident, name in _KEYS[level]]
    taken = {c.id for c in columns} | {"household_id", INDEXES[level]}
    for spec in fields.values():
        if spec.level is level and spec.id not in taken:
            if spec.dtype.kind is Kind.LIST:
                raise InputError(
                    make(
                        "E605",
                        f"字段「{spec.id}」是列表类型，家庭数据不支持列表",
                        spec.location,
                        found="list",
                        expected="money、number、integer、percent、boolean、date、text 或 enum",
                    )
                )
            columns.append(
                Column(spec.id, spec.name_cn, level, spec.dtype, spec.default)
            )
            taken.add(spec.id)
    return columns


def _unreadable(
    message: str, where: Path | Location, **details: str | None
) -> InputError:
    """E605: the input cannot be read as it is."""
    location = where if isinstance(where, Location) else Location(file=str(where))
    return InputError(make("E605", message, location, **details))


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


# ---------------------------------------------------------------------------- values in SQL


@dataclass(frozen=True, slots=True)
class _Family:
    """How a source holds values, in SQL: text (JSON leaves as DuckDB's reader renders
    them: a number as digits, ``true`` as ``true``, a string without quotes; CSV cells,
    trimmed and blanks made null as they are read) or ``native`` typed columns
    (Parquet, DuckDB)."""

    native: bool
    blank_is_null: bool = False  # JSON: an empty string counts as missing

    def text(self, raw: str) -> str:
        if self.native:
            return f"CAST({raw} AS VARCHAR)"
        return f"NULLIF({raw}, '')" if self.blank_is_null else raw

    def operand(self, raw: str) -> str:
        """What casts start from: the text, or a native column as it is."""
        return raw if self.native else self.text(raw)

    def is_null(self, raw: str) -> str:
        return f"({self.operand(raw)} IS NULL)"

    def type_ok(self, raw: str, kind: Kind) -> str:
        """SQL true when a present value reads as ``kind`` without losing anything."""
        value = self.operand(raw)
        if kind in SCALES:
            exact = f"TRY_CAST({value} AS DECIMAL(18,{SCALES[kind]}))"
            return f"coalesce({exact} = TRY_CAST({value} AS DECIMAL(38,10)), FALSE)"
        if self.native and kind in (Kind.BOOLEAN, Kind.DATE):
            return f"(TRY_CAST({value} AS {SQL_TYPES[kind]}) IS NOT NULL)"
        if kind is Kind.BOOLEAN:
            return f"(lower({value}) IN ({_words(_TRUE_WORDS + _FALSE_WORDS)}))"
        if kind is Kind.DATE:
            # DuckDB's cast alone takes '25-02-03', '2025-02-03 10:00' and 'epoch'.
            iso = f"regexp_full_match({value}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}')"
            return f"({iso} AND TRY_CAST({value} AS DATE) IS NOT NULL)"
        return "TRUE"

    def typed(self, raw: str, kind: Kind) -> str:
        """The value in the column's type; run only on values ``type_ok`` accepted."""
        value = self.operand(raw)
        if kind in (Kind.TEXT, Kind.ENUM):
            return self.text(raw)
        if kind is Kind.BOOLEAN and not self.native:
            return f"(lower({value}) IN ({_words(_TRUE_WORDS)}))"
        if kind is Kind.INTEGER:
            return f"CAST(CAST({value} AS DECIMAL(18,0)) AS BIGINT)"
        return f"CAST({value} AS {SQL_TYPES[kind]})"


def _words(words: tuple[str, ...]) -> str:
    return ", ".join(string(w) for w in words)


# ---------------------------------------------------------------------------- sources


_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv"}
_FORMATS |= {".parquet": "parquet", ".duckdb": "duckdb", ".db": "duckdb"}
_FORMAT_CN = {"jsonl": "JSON Lines", "json": "JSON", "csv": "CSV", "parquet": "Parquet"}


@dataclass(frozen=True)
class Source:
    """An input file and its member and event files, by format."""

    format: str  # jsonl, json, csv, parquet, duckdb
    path: Path
    members: Path | None = None
    events: Path | None = None

    def describe(self) -> str:
        return f"{_FORMAT_CN.get(self.format, 'DuckDB')} {self.path}"

    def file_of(self, level: Level) -> Path:
        by_level = {Level.MEMBER: self.members, Level.EVENT: self.events}
        return by_level.get(level) or self.path

    @property
    def files(self) -> dict[Level, Path | None]:
        return {
            Level.HOUSEHOLD: self.path,
            Level.MEMBER: self.members,
            Level.EVENT: self.events,
        }


def open_source(path: str | Path) -> Source:
    """Recognise the input's format and find its sibling files, or raise E605."""
    path = Path(path)
    kind = _FORMATS.get(path.suffix.lower())
    if kind is None:
        raise _unreadable(
            "无法识别家庭数据文件的类型",
            path,
            found=path.suffix or path.name,
            expected=".jsonl、.json、households.csv、households.parquet、.duckdb",
            hint="请按扩展名提供上述格式之一",
        )
    if not path.is_file():
        raise _unreadable(
            "家庭数据文件不存在或不是文件",
            path,
            found=str(path),
            hint="检查路径是否写对",
        )
    if kind in ("csv", "parquet"):
        return _with_siblings(kind, path)
    return Source(kind, path)


def _with_siblings(kind: str, path: Path) -> Source:
    stem, suffix = path.name[: -len(path.suffix)], path.suffix
    if not stem.endswith("households"):
        raise _unreadable(
            f"{kind.upper()} 家庭数据的文件名应以 households{suffix} 结尾",
            path,
            found=path.name,
            expected=f"households{suffix}，旁边有 members{suffix}",
            hint="家庭、成员、事件分三个文件，文件名只差 households/members/events",
        )
    base = stem[: -len("households")]
    members = path.with_name(f"{base}members{suffix}")
    events = path.with_name(f"{base}events{suffix}")
    if not members.is_file():
        raise _unreadable(
            "找不到成员文件",
            members,
            found=members.name,
            hint=f"把成员数据放在 {members.name}",
        )
    return Source(kind, path, members, events if events.is_file() else None)


# ---------------------------------------------------------------------------- staging


@dataclass(frozen=True)
class _Places:
    """Where a problem is, in the words of the input's format."""

    source: Source
    lines: dict[int, int] = field(default_factory=dict)  # JSON Lines: record -> line

    def locate(self, column: Column, row: int, position: int | None) -> Location:
        fmt, level = self.source.format, column.level
        if fmt == "json":
            return Location(
                file=str(self.source.path),
                cell=f"$[{row}]{column.json_path(position)[1:]}",
            )
        if fmt == "jsonl":
            if not self.lines:
                self.lines.update(_line_numbers(self.source.path))
            line = self.lines.get(row, row + 1)
            return Location(
                file=str(self.source.path),
                cell=f"第{line}行 {column.json_path(position)}",
            )
        if fmt == "duckdb":
            where = f"{_SOURCE_NAMES[level]} 表第{row + 1}行"
            return Location(file=str(self.source.path), cell=f"{where} {column.id}")
        header = 2 if fmt == "csv" else 1  # a CSV's first data row is row 2
        return Location(
            file=str(self.source.file_of(level)), cell=f"第{row + header}行 {column.id}"
        )


def _line_numbers(path: Path) -> dict[int, int]:
    """Record index -> line number, skipping blank lines as DuckDB's reader does."""
    numbers: dict[int, int] = {}
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                numbers[len(numbers)] = number
    return numbers


@dataclass
class _Staged:
    """The raw relations ``_jz_raw_*`` (columns ``_row``, ``_pos``, ``_hid`` and raw
    values), how to reach a column's raw value, and where each row came from."""

    family: _Family
    access: Callable[[Column], str]
    places: _Places
    linked: bool  # members and events join their household by household_id
    warnings: list[str] = field(default_factory=list)
    built: dict[Level, str] = field(default_factory=lambda: dict(_RAW))  # what jz_* read
    # a typed column's DuckDB type (Parquet, DuckDB); None for text or a missing column
    source_type: Callable[[Column], str | None] = lambda column: None


def _county_filter(county: str | None, county_text: str) -> str:
    return "" if county is None else f" WHERE {county_text} = {string(county)}"


def _tree(columns: list[Column]) -> dict[str, Any]:
    """Field keys as nested dicts, each leaf ``VARCHAR``."""
    tree: dict[str, Any] = {}
    for column in columns:
        node = tree
        *parents, leaf = column.key
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        if not isinstance(node, dict) or isinstance(
            node.setdefault(leaf, "VARCHAR"), dict
        ):
            raise _unreadable(
                f"字段「{column.id}」与另一字段互为上下级，JSON 中无法同时存在",
                Location(),
                found=column.id,
                hint="字段标识不能是另一字段标识加「.」的前缀，如 current 与 current.group",
            )
    return tree


def _struct(tree: dict[str, Any]) -> str:
    parts = [
        f"{quote(k)} {_struct(v) if isinstance(v, dict) else v}"
        for k, v in tree.items()
    ]
    return f"STRUCT({', '.join(parts)})"


def _json_columns(schema: Schema) -> dict[str, str]:
    """The ``columns`` argument of ``read_json``: every declared leaf as VARCHAR."""
    top = _tree(schema[Level.HOUSEHOLD])
    for level, name in LISTS.items():
        if schema[level]:
            top[name] = _struct(_tree(schema[level])) + "[]"
    return {k: _struct(v) if isinstance(v, dict) else v for k, v in top.items()}


def _stage_json(
    con: duckdb.DuckDBPyConnection, source: Source, schema: Schema, county: str | None
) -> _Staged:
    fmt = "newline_delimited" if source.format == "jsonl" else "array"
    try:
        con.execute(
            "CREATE TABLE _jz_raw AS SELECT * FROM read_json($p, format = $f, columns = $c)",
            {"p": str(source.path), "f": fmt, "c": _json_columns(schema)},
        )
    except _READ_ERRORS as error:
        raise InputError(_json_structure(source, schema, error)) from None
    family = _Family(native=False, blank_is_null=True)
    hid, county_code = (family.text(quote(k)) for k, _ in _KEYS[Level.HOUSEHOLD])
    con.execute(
        f"CREATE VIEW _jz_raw_households AS SELECT rowid AS _row, rowid AS _pos, "
        f"{hid} AS _hid, * FROM _jz_raw{_county_filter(county, county_code)}"
    )
    for level, name in LISTS.items():
        items = f"h.{quote(name)}" if schema[level] else "CAST([] AS INTEGER[])"
        con.execute(
            f"CREATE TABLE {_RAW[level]} AS SELECT h._row, h._hid, unnest({items}) AS _v, "
            f"generate_subscripts({items}, 1) - 1 AS _pos FROM _jz_raw_households h"
        )

    def access(column: Column) -> str:
        prefix = "" if column.level is Level.HOUSEHOLD else "_v."
        return prefix + ".".join(quote(k) for k in column.key)

    return _Staged(family, access, _Places(source), linked=False)


def _stage_csv(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    schema: Schema,
    county: str | None,
    scratch: Path,
) -> _Staged:
    sources: dict[Level, str | None] = {}
    for level, path in source.files.items():
        table = f"_jz_src_{_SOURCE_NAMES[level]}"
        if path is not None:
            _read_csv(con, table, _utf8(path, scratch), path)
        sources[level] = table if path is not None else None
    return _stage_tabular(
        con, source, schema, county, sources, "rowid", _Family(native=False)
    )


def _read_csv(
    con: duckdb.DuckDBPyConnection, table: str, path: Path, shown: Path
) -> None:
    try:
        con.execute(
            f"CREATE TABLE {table} AS SELECT NULLIF(trim(COLUMNS(*)), '') "
            "FROM read_csv($p, header = true, all_varchar = true, delim = ',', "
            "quote = '\"', escape = '\"')",
            {"p": str(path)},
        )
    except _READ_ERRORS as error:
        raise _unreadable(
            "CSV 文件无法读取：列数不一致、引号不配对或不是 CSV",
            shown,
            found=_first_line(error),
            hint="用 Excel 或 WPS 打开后另存为 CSV（逗号分隔）再试",
        ) from None


def _utf8(path: Path, scratch: Path) -> Path:
    """The file if it is UTF-8 (BOM or not), else a UTF-8 copy of its GB18030 text."""
    if _decodes(path, "utf-8"):
        return path
    if not _decodes(path, "gb18030"):
        raise _unreadable(
            "CSV 文件编码无法识别",
            path,
            expected="UTF-8、带 BOM 的 UTF-8 或 GB18030（GBK）",
            hint="用 Excel 或 WPS 另存为「CSV UTF-8（逗号分隔）」",
        )
    copy = scratch / path.name
    with (
        path.open(encoding="gb18030", newline="") as src,
        copy.open("w", encoding="utf-8", newline="") as dst,
    ):
        while chunk := src.read(1 << 20):
            dst.write(chunk)
    return copy


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _native_sources(
    con: duckdb.DuckDBPyConnection, source: Source
) -> tuple[dict[Level, str | None], str]:
    """The Parquet files or DuckDB tables as relations, and their row-number column."""
    if source.format == "parquet":
        sources: dict[Level, str | None] = {}
        for level, path in source.files.items():
            sources[level] = None if path is None else f"_jz_src_{_SOURCE_NAMES[level]}"
            if path is not None:
                _attempt(
                    con,
                    f"CREATE VIEW {sources[level]} AS SELECT * FROM "
                    f"read_parquet({string(str(path))}, file_row_number = true)",
                    path,
                )
                _attempt(con, f"SELECT * FROM {sources[level]} LIMIT 0", path)
        return sources, "file_row_number"
    _attempt(
        con, f"ATTACH {string(str(source.path))} AS _jz_src (READ_ONLY)", source.path
    )
    listed = con.execute(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_catalog = '_jz_src'"
    ).fetchall()
    tables = {row[0] for row in listed}
    for name in ("households", "members"):
        if name not in tables:
            raise _unreadable(
                f"DuckDB 数据库中没有 {name} 表",
                source.path,
                found="、".join(sorted(tables)),
                expected="households、members 表（events 表可选）",
            )
    names = {level: n for level, n in _SOURCE_NAMES.items() if n in tables}
    return {
        level: f"_jz_src.{quote(names[level])}" if level in names else None
        for level in Level
    }, "rowid"


def _attempt(con: duckdb.DuckDBPyConnection, sql: str, path: Path) -> None:
    try:
        con.execute(sql)
    except _READ_ERRORS as error:
        raise _unreadable(
            "家庭数据文件无法读取",
            path,
            found=_first_line(error),
            hint="确认文件完整、格式与扩展名一致",
        ) from None


def _stage_tabular(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    schema: Schema,
    county: str | None,
    sources: dict[Level, str | None],
    row: str,
    family: _Family,
) -> _Staged:
    """Relations with ``_row``, ``_pos`` and ``_hid`` over one file (or table) per
    level; members and events numbered within their household, in a table when the
    input is copied anyway (CSV) so the numbering is done once."""
    present = {level: _columns_of(con, relation) for level, relation in sources.items()}
    for level, relation in sources.items():
        hid = "NULL"
        if "household_id" in present[level]:
            hid = family.text(quote("household_id"))
        body = f"SELECT {row} AS _row, {hid} AS _hid, * FROM {relation}"
        if relation is None:
            body = "SELECT CAST(NULL AS BIGINT) AS _row, CAST(NULL AS VARCHAR) AS _hid LIMIT 0"
        con.execute(f"CREATE VIEW {_ALL[level]} AS {body}")
    code = (
        family.text(quote("county_code"))
        if "county_code" in present[Level.HOUSEHOLD]
        else "NULL"
    )
    con.execute(
        "CREATE VIEW _jz_raw_households AS SELECT *, _row AS _pos "
        f"FROM _jz_all_households{_county_filter(county, code)}"
    )
    kind = "VIEW" if family.native else "TABLE"
    # a view is read several times: it orders members by their file row (the same order
    # within a household) instead of numbering them with a window at every read
    position = "_row" if family.native else "row_number() OVER (PARTITION BY _hid ORDER BY _row) - 1"
    for level in LISTS:
        con.execute(
            f"CREATE {kind} {_RAW[level]} AS SELECT *, {position} AS _pos FROM {_ALL[level]} "
            "WHERE _hid IN (SELECT _hid FROM _jz_raw_households)"
        )
    built = dict(_RAW)
    if family.native and county is None:
        # with no county filter, a member of no household stops the load as an orphan,
        # so the checks and the views the program reads need not look each household
        # up again (an orphan's other problems are then listed with it)
        for level in LISTS:
            built[level] = _FAST[level]
            con.execute(f"CREATE VIEW {_FAST[level]} AS SELECT *, _row AS _pos FROM {_ALL[level]}")
    warnings: list[str] = []
    access, source_type = _tabular_access(present, schema, source, warnings)
    return _Staged(
        family, access, _Places(source), linked=True, warnings=warnings, built=built,
        source_type=source_type,
    )


def _columns_of(con: duckdb.DuckDBPyConnection, relation: str | None) -> dict[str, str]:
    """A relation's columns and their DuckDB types."""
    if relation is None:
        return {}
    described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    return {row[0]: row[1] for row in described}


def _tabular_access(
    present: dict[Level, dict[str, str]], schema: Schema, source: Source, warnings: list[str]
) -> tuple[Callable[[Column], str], Callable[[Column], str | None]]:
    """Find each column in its file (``event.type`` may be written ``type``); warn of
    columns that are no declared field."""
    found: dict[tuple[Level, str], str] = {}
    for level, columns in schema.items():
        for column in columns:
            names = [
                n for n in (column.id, ".".join(column.key)) if n in present[level]
            ]
            if names:
                found[(level, column.id)] = names[0]
        used = {found.get((level, c.id)) for c in columns} | {
            "household_id",
            "file_row_number",
        }
        unknown = sorted(present[level].keys() - used)
        if unknown:
            where = (
                f"{_SOURCE_NAMES[level]} 表"
                if source.format == "duckdb"
                else source.file_of(level).name
            )
            warnings.append(
                f"{where} 中的列 {'、'.join(unknown)} 不是已声明的字段，已忽略"
            )

    def access(column: Column) -> str:
        name = found.get((column.level, column.id))
        return quote(name) if name else "NULL"

    def source_type(column: Column) -> str | None:
        name = found.get((column.level, column.id))
        return present[column.level][name] if name else None

    return access, source_type


def _stage(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    schema: Schema,
    county: str | None,
    scratch: Path,
) -> _Staged:
    if source.format in ("jsonl", "json"):
        return _stage_json(con, source, schema, county)
    if source.format == "csv":
        return _stage_csv(con, source, schema, county, scratch)
    sources, row = _native_sources(con, source)
    return _stage_tabular(
        con, source, schema, county, sources, row, _Family(native=True)
    )


# ---------------------------------------------------------------------------- JSON shape


def _json_structure(
    source: Source, schema: Schema, error: Exception
) -> list[Diagnostic]:
    """Why DuckDB could not read a JSON file, found by reading it in Python."""
    shape = _tree(schema[Level.HOUSEHOLD])
    for level, name in LISTS.items():
        shape[name] = [_tree(schema[level])]
    problems: list[Diagnostic] = []
    for where, record in _json_records(source, problems):
        for path, expected, found in _shape_problems(record, shape, "$"):
            problems.append(_shape_diagnostic(where, path, expected, found))
        if len(problems) >= MAX_PROBLEMS:
            break
    if not problems:  # DuckDB refused what Python reads: say what DuckDB said
        problems.append(
            make(
                "E605",
                "家庭数据文件无法读取",
                Location(file=str(source.path)),
                found=_first_line(error),
                hint="确认文件是 UTF-8 编码的 JSON",
            )
        )
    return problems


def _json_records(
    source: Source, problems: list[Diagnostic]
) -> Iterator[tuple[Location, object]]:
    """Each household object with where it is; unreadable JSON is added to ``problems``."""
    file = str(source.path)
    if source.format == "json":
        try:
            records = _loads(source.path.read_text(encoding="utf-8-sig"))
        except (ValueError, UnicodeDecodeError) as error:
            line = (
                f"第{error.lineno}行"
                if isinstance(error, json.JSONDecodeError)
                else None
            )
            problems.append(_bad_json(Location(file=file, cell=line), error))
            return
        if not isinstance(records, list):
            problems.append(
                make(
                    "E605",
                    "JSON 文件应是家庭的列表",
                    Location(file=file),
                    found=type(records).__name__,
                    expected='[{"household_id": ...}]',
                )
            )
            return
        yield from (
            (Location(file=file, cell=f"$[{i}]"), r) for i, r in enumerate(records)
        )
        return
    with source.path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            where = Location(file=file, cell=f"第{number}行")
            try:
                if raw.strip():
                    yield where, _loads(raw.decode("utf-8-sig"))
            except (ValueError, UnicodeDecodeError) as error:
                problems.append(_bad_json(where, error))


class _DuplicateKey(ValueError):
    """A key written twice in one JSON object (DuckDB refuses such objects)."""


def _loads(text: str) -> object:
    return json.loads(text, parse_float=Decimal, object_pairs_hook=_unique_pairs)


def _unique_pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _bad_json(where: Location, error: Exception) -> Diagnostic:
    if isinstance(error, _DuplicateKey):
        return make(
            "E605",
            f"JSON 对象中的键「{error}」重复出现",
            where,
            found=str(error),
            hint="每个键在同一对象中只能出现一次",
        )
    if isinstance(error, UnicodeDecodeError):
        return make(
            "E605", "不是 UTF-8 编码的文本", where, expected="UTF-8 编码的 JSON"
        )
    detail = error.msg if isinstance(error, json.JSONDecodeError) else str(error)
    return make(
        "E605",
        "不是合法的 JSON",
        where,
        found=detail,
        expected='一行一个家庭对象，如 {"household_id": "H001", ...}',
        hint="检查引号、逗号和括号是否配对",
    )


def _shape_problems(
    value: object, shape: dict[str, Any], path: str
) -> Iterator[tuple[str, str, str]]:
    """(path, expected, found) where an object or a list is not where the shape has it."""
    if not isinstance(value, dict):
        yield path, "JSON 对象 {…}", _clip(value)
        return
    for key, sub in shape.items():
        child, here = value.get(key), f"{path}.{key}"
        if child is None or sub == "VARCHAR":
            continue
        if isinstance(sub, dict):
            yield from _shape_problems(child, sub, here)
        elif not isinstance(child, list):
            yield here, "JSON 列表 […]", _clip(child)
        else:
            for index, item in enumerate(child):
                if item is not None:
                    yield from _shape_problems(item, sub[0], f"{here}[{index}]")


def _shape_diagnostic(
    where: Location, path: str, expected: str, found: str
) -> Diagnostic:
    cell = where.cell or "$"
    cell = f"{cell} {path}" if cell.startswith("第") else cell + path[1:]
    return make(
        "E603",
        f"{path} 的结构不对",
        Location(where.file, None, cell),
        found=found,
        expected=expected,
        hint="按数据约定组织家庭、成员和事件",
    )


def _clip(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


# ---------------------------------------------------------------------------- checks


@dataclass(frozen=True, slots=True)
class _Problem:
    kind: str  # missing, type, value, county, duplicate, orphan
    column: Column
    row: int
    position: int | None
    found: str | None = None
    first: tuple[int, int | None] | None = None  # a duplicate's first place


def _case(staged: _Staged, column: Column, known: list[str] | None) -> str | None:
    """SQL naming what is wrong with one column's value, or NULL; None when nothing
    can be (an optional column whose stored type holds only valid values)."""
    family, raw = staged.family, staged.access(column)
    text = family.text(raw)
    missing = "'missing'" if column.required else "NULL"
    arms = [f"WHEN {family.is_null(raw)} THEN {missing}"]
    if column.required and column.dtype.kind in (Kind.TEXT, Kind.ENUM):
        # a blank key is no key, whatever the format: JSON and CSV read it as missing
        arms.append(f"WHEN trim({text}) = '' THEN 'missing'")
    if not _holds(staged.source_type(column), column.dtype.kind):
        arms.append(f"WHEN NOT {family.type_ok(raw, column.dtype.kind)} THEN 'type'")
    if column.dtype.kind is Kind.ENUM:
        arms.append(f"WHEN {text} NOT IN ({_words(column.dtype.values)}) THEN 'value'")
    if (column.level, column.id) == (Level.HOUSEHOLD, "county_code"):
        arms.append(f"WHEN NOT regexp_full_match({text}, '[0-9]{{6}}') THEN 'value'")
        if known is not None:
            codes = f"CAST([{_words(tuple(known))}] AS VARCHAR[])"
            arms.append(f"WHEN NOT list_contains({codes}, {text}) THEN 'county'")
    if len(arms) == 1 and not column.required:
        return None
    return f"CASE {' '.join(arms)} END"


# Typed columns whose every value reads as a kind: no check needed (a BIGINT may exceed
# the 18 digits an integer keeps, so it is checked).
_SMALL_INTEGERS = frozenset({"TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT"})


def _holds(source_type: str | None, kind: Kind) -> bool:
    """Whether every value of a typed source column reads as ``kind`` exactly."""
    if source_type is None:
        return False
    if kind is Kind.BOOLEAN or kind is Kind.DATE:
        return source_type == kind.value.upper()
    if kind not in SCALES:
        return False
    scale = SCALES[kind]
    if source_type in _SMALL_INTEGERS:
        return True
    declared = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", source_type)
    if declared is None:
        return False
    width, places = int(declared.group(1)), int(declared.group(2))
    return places <= scale and width - places <= 18 - scale


def _value_problems(
    con: duckdb.DuckDBPyConnection,
    staged: _Staged,
    columns: list[Column],
    known: list[str] | None,
    budget: int,
) -> tuple[list[_Problem], int]:
    """The first ``budget`` problems with one level's values, and how many there are."""
    checked = [(case, c) for c in columns if (case := _case(staged, c, known)) is not None]
    if not checked:
        return [], 0
    cases, columns = [case for case, _ in checked], [c for _, c in checked]
    inner = ", ".join(
        f"{case} AS c{i}, {staged.access(c)} AS r{i}"
        for i, (case, c) in enumerate(zip(cases, columns, strict=True))
    )
    relation = f"(SELECT _row, _pos, {inner} FROM {staged.built[columns[0].level]})"
    flagged = " OR ".join(f"c{i} IS NOT NULL" for i in range(len(columns)))
    shown = ", ".join(f"c{i}, CAST(r{i} AS VARCHAR)" for i in range(len(columns)))
    rows = con.execute(
        f"SELECT _row, _pos, {shown} FROM {relation} WHERE {flagged} "
        f"ORDER BY _row, _pos LIMIT {budget + 1}"
    ).fetchall()
    problems = [
        _Problem(row[2 + 2 * i], column, row[0], row[1], row[3 + 2 * i])
        for row in rows
        for i, column in enumerate(columns)
        if row[2 + 2 * i] is not None
    ]
    total = len(problems)
    if total > budget or len(rows) > budget:
        counted = " + ".join(f"count(c{i})" for i in range(len(columns)))
        total = _scalar(con, f"SELECT {counted} FROM {relation}")
    return problems[:budget], total


def _duplicates(
    con: duckdb.DuckDBPyConnection, staged: _Staged, column: Column, budget: int
) -> list[_Problem]:
    """Rows repeating a household_id (in the file) or a person_id (in a household)."""
    key = staged.family.text(staged.access(column))
    group = "_hid" if column.level is Level.HOUSEHOLD else "_hid, _key"
    keyed = (
        f"(SELECT _row, _pos, _hid, {key} AS _key FROM {staged.built[column.level]}) "
        "WHERE _key IS NOT NULL"
    )
    repeated = f"SELECT 1 FROM {keyed} GROUP BY {group} HAVING count(*) > 1 LIMIT 1"
    if not con.execute(repeated).fetchall():
        return []
    window = f"OVER (PARTITION BY {group} ORDER BY _row, _pos)"
    rows = con.execute(
        f"SELECT _row, _pos, _key, first_row, first_pos FROM (SELECT *, row_number() "
        f"{window} AS n, first_value(_row) {window} AS first_row, first_value(_pos) "
        f"{window} AS first_pos FROM {keyed}) WHERE n > 1 ORDER BY _row, _pos "
        f"LIMIT {budget}"
    ).fetchall()
    return [_Problem("duplicate", column, r[0], r[1], r[2], (r[3], r[4])) for r in rows]


def _orphans(
    con: duckdb.DuckDBPyConnection, level: Level, budget: int
) -> list[_Problem]:
    """Members or events whose household_id is missing or not in the households file."""
    column = Column("household_id", "户编号", level, _TEXT)
    rows = con.execute(
        f"SELECT _row, _hid FROM {_ALL[level]} a WHERE _hid IS NULL OR NOT EXISTS "
        "(SELECT 1 FROM _jz_all_households h WHERE h._hid = a._hid) "
        f"ORDER BY _row LIMIT {budget}"
    ).fetchall()
    return [_Problem("orphan", column, row, None, hid) for row, hid in rows]


def _problems(
    con: duckdb.DuckDBPyConnection,
    staged: _Staged,
    schema: Schema,
    known: list[str] | None,
) -> tuple[list[_Problem], int]:
    """The first MAX_PROBLEMS problems in the input, and how many there are."""
    problems: list[_Problem] = []
    total = 0
    for level, columns in schema.items():
        if columns:
            found, count = _value_problems(
                con, staged, columns, known, MAX_PROBLEMS - len(problems)
            )
            problems, total = problems + found, total + count
        if staged.linked and level is not Level.HOUSEHOLD:
            orphans = _orphans(con, level, MAX_PROBLEMS - len(problems) + 1)
            problems, total = problems + orphans, total + len(orphans)
    for column in (schema[Level.HOUSEHOLD][0], schema[Level.MEMBER][0]):
        repeated = _duplicates(con, staged, column, MAX_PROBLEMS - len(problems) + 1)
        problems, total = problems + repeated, total + len(repeated)
        if repeated:
            break  # the members of a repeated household repeat too
    return problems[:MAX_PROBLEMS], total


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    """A count; fetches every row, so no result is left open on the connection."""
    return int(con.execute(sql).fetchall()[0][0])


# ---------------------------------------------------------------------------- messages


def _diagnostic(problem: _Problem, places: _Places) -> Diagnostic:
    column = problem.column
    where = places.locate(column, problem.row, problem.position)
    label = f"「{column.name_cn}」（{column.id}）"
    expected = _expected(column)
    if problem.kind == "missing" or (
        problem.kind == "orphan" and problem.found is None
    ):
        hint = "每户须有户编号和区划代码，每个成员须有成员编号和出生日期；成员和事件须写明所属户编号"
        return make("E604", f"缺少必填字段{label}", where, expected=expected, hint=hint)
    if problem.kind == "type":
        return make(
            "E603",
            f"{label}的类型不对",
            where,
            found=problem.found,
            expected=expected,
            hint=_type_hint(column.dtype.kind),
        )
    if problem.kind == "value":
        return make(
            "E603",
            f"{label}的取值不在允许范围内",
            where,
            found=problem.found,
            expected=expected,
            hint="核对拼写，使用约定的取值",
        )
    if problem.kind == "county":
        return make(
            "E606",
            f"未知的县（市、区）代码「{problem.found}」",
            where,
            found=problem.found,
            expected="已有决策表的县（市、区）的六位代码",
            hint="核对区划代码；新的县请先建立该县的工作簿",
        )
    if problem.kind == "duplicate":
        first = places.locate(column, *(problem.first or (0, None))).render()
        scope = "同一文件" if column.level is Level.HOUSEHOLD else "同一家庭"
        return make(
            "E603",
            f"{label}重复出现",
            where,
            found=problem.found,
            expected=f"在{scope}内唯一",
            hint=f"与 {first} 重复；请合并或改正编号",
        )
    return make(
        "E603",
        f"找不到所属的家庭「{problem.found}」",
        where,
        found=problem.found,
        expected="家庭文件中已有的 household_id",
        hint="核对户编号，或补充该户的家庭数据",
    )


def _expected(column: Column) -> str:
    kind = column.dtype.kind
    if (column.level, column.id) == (Level.HOUSEHOLD, "county_code"):
        return "六位行政区划代码，如 330106"
    if kind is Kind.ENUM:
        return f"以下取值之一：{'、'.join(column.dtype.values)}"
    return f"{_KIND_CN[kind]}，如 {_EXAMPLES[kind]}"


def _type_hint(kind: Kind) -> str:
    if kind in SCALES:
        places = f"最多 {SCALES[kind]} 位小数" if SCALES[kind] else "不带小数"
        return f"只写数字，{places}，不要带单位、千位分隔符或文字说明"
    if kind is Kind.BOOLEAN:
        return "写 true 或 false（或 是/否）"
    return "写成 YYYY-MM-DD，月和日写满两位，不要带时间"


def _raise_problems(problems: list[_Problem], total: int, staged: _Staged) -> None:
    if not problems:
        return
    diagnostics = [_diagnostic(p, staged.places) for p in problems]
    if total > len(problems):
        rest = total - len(problems)
        diagnostics.append(
            make(
                "E605",
                f"问题过多，只列出前 {len(problems)} 处，另有 {rest} 处未列出",
                Location(file=str(staged.places.source.path)),
                hint="修正以上问题后重新运行，可看到其余问题",
            )
        )
    raise InputError(diagnostics)


# ---------------------------------------------------------------------------- build


def _value(staged: _Staged, column: Column) -> str:
    kind = column.dtype.kind
    typed = staged.family.typed(staged.access(column), kind)
    if column.default is not None:
        typed = f"COALESCE({typed}, {literal(column.default, column.dtype)})"
    return f"CAST({typed} AS {SQL_TYPES[kind]}) AS {quote(column.id)}"


def _build(
    con: duckdb.DuckDBPyConnection, staged: _Staged, schema: Schema, kind: str
) -> None:
    """Create the jz_* relations (``kind`` TABLE or VIEW) from the checked raw ones."""
    for level, columns in schema.items():
        values = [_value(staged, c) for c in columns]
        if level is Level.HOUSEHOLD:
            values.insert(2, "_row AS _hh_index")
        else:
            values[:0] = ["_hid AS household_id", f"_pos AS {INDEXES[level]}"]
        select = f"SELECT {', '.join(values)} FROM {staged.built[level]}"
        con.execute(f"CREATE {kind} {TABLES[level]} AS {select}")


def _drop(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> None:
    for name in names:
        for kind in ("VIEW", "TABLE"):
            try:
                con.execute(f"DROP {kind} IF EXISTS {name}")
            except duckdb.CatalogException:
                continue  # the name is the other kind of relation


def _reset(con: duckdb.DuckDBPyConnection) -> None:
    """Drop the input relations of an earlier load, and its attached database."""
    _drop(con, (*TABLES.values(), *_STAGING))
    con.execute("DETACH DATABASE IF EXISTS _jz_src")


# ---------------------------------------------------------------------------- loading


def load_households(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    fields: dict[str, Field],
    *,
    county: str | None = None,
    known_counties: Collection[str] | None = None,
) -> LoadedInput:
    """Create ``jz_households``, ``jz_members`` and ``jz_events`` from a household file.

    Args:
        con: where to create them: tables for JSON and CSV, views for Parquet and
            DuckDB input; the relations of an earlier load are replaced.
        path: the input; its extension chooses the format (see the module docstring).
        fields: the declared fields, by identifier.
        county: keep only this county's households.
        known_counties: the county codes that have tables; any other is E606.

    Returns:
        The counts loaded, the source, and warnings (columns ignored).

    Raises:
        InputError: every problem found (E603-E606), the first 200 listed.
    """
    started = time.perf_counter()
    source = open_source(path)
    schema = {level: input_columns(fields, level) for level in Level}
    for columns in schema.values():
        _tree(columns)  # refuses ids nested under one another, whatever the format
    known = sorted(known_counties) if known_counties is not None else None
    _reset(con)
    materialize = source.format in ("jsonl", "json", "csv")
    with tempfile.TemporaryDirectory(prefix="jiuzhu-") as scratch, _in_file_order(con):
        try:
            staged = _stage(con, source, schema, county, Path(scratch))
            _raise_problems(*_problems(con, staged, schema, known), staged)
            _build(con, staged, schema, "TABLE" if materialize else "VIEW")
        except BaseException:
            _reset(con)
            raise
        finally:
            if materialize:
                _drop(con, _STAGING)
    counts = [_scalar(con, f"SELECT count(*) FROM {TABLES[level]}") for level in Level]
    logger.info(
        "loaded %d households, %d members, %d events from %s in %.2f s",
        *counts,
        source.path,
        time.perf_counter() - started,
    )
    return LoadedInput(
        counts[0], counts[1], counts[2], source.describe(), staged.warnings
    )


@contextmanager
def _in_file_order(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    """Keep rows in file order while loading: ``_hh_index``, ``_member_index`` of CSV
    input and the line numbers of problems are the order DuckDB stored rows in."""
    kept = con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()
    if not kept[0][0]:
        con.execute("SET preserve_insertion_order = true")
    try:
        yield
    finally:
        if not kept[0][0]:
            con.execute("SET preserve_insertion_order = false")


# ---------------------------------------------------------------------------- iterating


def iter_households(
    path: str | Path,
    fields: dict[str, Field] | None = None,
    *,
    county: str | None = None,
    known_counties: Collection[str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield contract-shaped households (nested dicts) in input order.

    With ``fields`` the input is loaded and checked as ``load_households`` does, and
    every declared field is present, typed (``Decimal``, ``date``, ``bool``) and
    defaulted. Without, JSON comes as written (numbers as ``Decimal``, dates as ISO
    text), Parquet and DuckDB columns as typed there, and CSV is refused (E605): its
    text says nothing of types.

    Raises:
        InputError: as ``load_households`` does, when iteration starts; for JSON read
            without fields, at the first unreadable line.
    """
    source = open_source(path)
    if fields is None and source.format in ("jsonl", "json"):
        yield from _json_households(source, county)
        return
    con = duckdb.connect()
    try:
        fields = fields if fields is not None else _inferred_fields(con, source)
        load_households(con, path, fields, county=county, known_counties=known_counties)
        yield from _nested_households(con)
    finally:
        con.close()


_NESTED = """
WITH jm AS (SELECT household_id, list(m ORDER BY m._member_index) AS items
            FROM jz_members m GROUP BY household_id),
     je AS (SELECT household_id, list(e ORDER BY e._event_index) AS items
            FROM jz_events e GROUP BY household_id)
SELECT h, jm.items, je.items FROM jz_households h
LEFT JOIN jm USING (household_id) LEFT JOIN je USING (household_id)
ORDER BY h._hh_index
"""


def _nested_households(con: duckdb.DuckDBPyConnection) -> Iterator[dict[str, Any]]:
    result = con.execute(_NESTED)
    while batch := result.fetchmany(1000):
        for household, members, events in batch:
            nested = _nest(household, Level.HOUSEHOLD)
            nested["members"] = [_nest(m, Level.MEMBER) for m in members or []]
            nested["events"] = [_nest(e, Level.EVENT) for e in events or []]
            yield nested


def _nest(row: dict[str, Any], level: Level) -> dict[str, Any]:
    """A flat row keyed by field id as the nested object the contract writes."""
    nested: dict[str, Any] = {}
    for name, value in row.items():
        if name.startswith("_") or (
            level is not Level.HOUSEHOLD and name == "household_id"
        ):
            continue
        *parents, leaf = Column(name, "", level, _TEXT).key
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def _json_households(source: Source, county: str | None) -> Iterator[dict[str, Any]]:
    problems: list[Diagnostic] = []
    for where, record in _json_records(source, problems):
        if not isinstance(record, dict):
            raise InputError(
                _shape_diagnostic(where, "$", "JSON 对象 {…}", _clip(record))
            )
        if problems:
            break
        if county is None or str(record.get("county_code")) == county:
            yield record
    if problems:
        raise InputError(problems)


def _inferred_fields(
    con: duckdb.DuckDBPyConnection, source: Source
) -> dict[str, Field]:
    """Fields read off the column types of Parquet or DuckDB input."""
    if source.format == "csv":
        raise _unreadable(
            "读取 CSV 家庭数据需要字段定义",
            source.path,
            hint="传入工作簿的字段（fields），以便按类型读取各列",
        )
    sources, _ = _native_sources(con, source)
    fields: dict[str, Field] = {}
    for level, relation in sources.items():
        if relation is None:
            continue
        for name, sql_type, *_ in con.execute(f"DESCRIBE {relation}").fetchall():
            if name.startswith("_") or name in ("household_id", "file_row_number"):
                continue
            if level is Level.EVENT and not name.startswith(EVENT_PREFIX):
                name = EVENT_PREFIX + name
            fields[name] = Field(name, name, level, _dtype_of(sql_type))
    _reset(con)
    return fields


def _dtype_of(sql_type: str) -> DType:
    """The narrowest field type that holds a DuckDB column type exactly."""
    if sql_type.startswith("DECIMAL"):
        scale = int(sql_type.rstrip(")").split(",")[-1])
        kinds = [
            k for k in (Kind.MONEY, Kind.NUMBER, Kind.PERCENT) if SCALES[k] >= scale
        ]
        return DType(kinds[0] if kinds else Kind.PERCENT)
    if sql_type.endswith("INT") or sql_type in ("BIGINT", "INTEGER", "HUGEINT"):
        return DType(Kind.INTEGER)
    simple = {"BOOLEAN": Kind.BOOLEAN, "DATE": Kind.DATE, "DOUBLE": Kind.NUMBER}
    return DType(simple.get(sql_type, Kind.TEXT))
