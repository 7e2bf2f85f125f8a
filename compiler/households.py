"""Household input: a file of households becomes the tables the compiled SQL reads.

``load_households`` creates ``jz_households``, ``jz_members`` and ``jz_events`` on a
DuckDB connection, one column per declared field named exactly by its identifier
(``assets.money``, ``income.wage``, ``event.type``), typed by the field's type, with the
field's default where the input leaves a value out or null, plus the key columns
``household_id``, ``county_code``, ``_hh_index`` (households), ``household_id``,
``_member_index`` (members) and ``household_id``, ``_event_index`` (events). The
indexes count from 0 in input order; with a county filter ``_hh_index`` keeps the
household's position in the whole file. ``iter_households`` gives the same households
as contract-shaped dicts (exact ``Decimal``, ``datetime.date``) for the reference
interpreter.

Formats, by extension:

========================  ==============================================================
``.jsonl``                one household per line, nested as in the contract
``.json``                 a list of such households
``*households.csv``       siblings ``*members.csv`` and, optionally, ``*events.csv``,
                          joined by ``household_id``; column names are the field ids
                          (an event column may also drop the ``event.`` prefix);
                          UTF-8, UTF-8 with BOM or GB18030
``*households.parquet``   siblings ``*members.parquet`` and optional ``*events.parquet``
``.duckdb``, ``.db``      a database with tables ``households``, ``members`` and
                          optionally ``events``, attached read-only
========================  ==============================================================

JSON and CSV input is read by DuckDB and copied into tables; Parquet and DuckDB input
stays where it is, behind views, so it need not fit in memory.

Every value is checked in one pass before anything is built, and every problem becomes
a diagnostic at its place, the location's ``cell`` reading ``第3行 $.members[0].income.wage``
(JSON Lines: line and JSON path), ``$[2].members[0].income.wage`` (a JSON list),
``第3行 income.wage`` (CSV: the row Excel shows, the header being row 1; Parquet: the
row counting from 1) or ``members 表第3行 income.wage`` (DuckDB); codes:

E603  a value of the wrong type or outside its values, a repeated household_id or
      person_id, a member or event whose household is not in the file
E604  a required value missing: household_id, county_code, members[].person_id and
      (when declared) members[].birth_date
E605  the file cannot be read: missing, an unknown extension, not JSON, a broken CSV
E606  a county code not among ``known_counties``

A JSON value is accepted when it has the field's JSON type: money, numbers, integers
and percents a number or a string of digits (``1402.5``, ``"1402.50"``) with no more
decimals than the type keeps; booleans ``true``/``false``; dates ISO strings; text a
string. JSON numbers pass through DuckDB's reader as binary floating point, so a JSON
number is exact up to 15 significant digits; write larger amounts as strings.
"""

from __future__ import annotations

import codecs
import json
import logging
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
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

TABLES = {
    Level.HOUSEHOLD: "jz_households",
    Level.MEMBER: "jz_members",
    Level.EVENT: "jz_events",
}
INDEXES = {
    Level.HOUSEHOLD: "_hh_index",
    Level.MEMBER: "_member_index",
    Level.EVENT: "_event_index",
}
REQUIRED = {
    (Level.HOUSEHOLD, "household_id"),
    (Level.HOUSEHOLD, "county_code"),
    (Level.MEMBER, "person_id"),
    (Level.MEMBER, "birth_date"),
}
MAX_PROBLEMS = 200
EVENT_PREFIX = "event."
LISTS = {Level.MEMBER: "members", Level.EVENT: "events"}

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
    Kind.ENUM: "枚举",
}
_JSON_EXAMPLES = {
    Kind.MONEY: "1402.50",
    Kind.NUMBER: "85.5",
    Kind.INTEGER: "2",
    Kind.PERCENT: "0.35",
    Kind.BOOLEAN: "true 或 false",
    Kind.DATE: '"2025-04-07"',
    Kind.TEXT: '"文字"',
}
_CSV_EXAMPLES = {
    **_JSON_EXAMPLES,
    Kind.BOOLEAN: "是/否 或 true/false",
    Kind.DATE: "2025-04-07",
}
_CSV_EXAMPLES[Kind.TEXT] = "文字"
_TRUE_WORDS = ("true", "1", "是", "y", "yes", "√")
_FALSE_WORDS = ("false", "0", "否", "n", "no", "×")
_DATE_RE = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
_STAGING = tuple(
    f"_jz_{stage}_{name}"
    for stage in ("raw", "all", "src")
    for name in ("events", "members", "households")
) + ("_jz_raw",)


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
        """The path of the value inside its JSON object."""
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
    """The columns of one level's table, keys first, in declaration order."""
    columns = [Column(ident, name, level, _TEXT) for ident, name in _KEYS[level]]
    taken = {c.id for c in columns} | {"household_id", INDEXES[level]}
    for spec in fields.values():
        if spec.level is level and spec.id not in taken:
            if spec.dtype.kind is Kind.LIST:
                raise InputError(_unusable_list(spec))
            columns.append(
                Column(spec.id, spec.name_cn, level, spec.dtype, spec.default)
            )
            taken.add(spec.id)
    return columns


def _unusable_list(spec: Field) -> Diagnostic:
    return make(
        "E605",
        f"字段「{spec.id}」的类型为列表，家庭数据字段不支持列表类型",
        spec.location,
        found="list",
        expected="money、number、integer、percent、boolean、date、text 或 enum",
    )


# ---------------------------------------------------------------------------- SQL per source


@dataclass(frozen=True, slots=True)
class _Family:
    """How a source holds values, in SQL: ``csv`` cells (text, trimmed), ``json``
    leaves as DuckDB's reader renders them (a number as its digits, ``true`` as
    ``true``, a string without its quotes), or ``native`` typed columns."""

    mode: str

    @property
    def examples(self) -> dict[Kind, str]:
        return _JSON_EXAMPLES if self.mode == "json" else _CSV_EXAMPLES

    def text(self, raw: str) -> str:
        if self.mode == "csv":
            return f"NULLIF(trim({raw}), '')"
        if self.mode == "json":
            return f"NULLIF({raw}, '')"
        return f"CAST({raw} AS VARCHAR)"

    def operand(self, raw: str) -> str:
        """What casts start from: the text, or a native column as it is."""
        return raw if self.mode == "native" else self.text(raw)

    def is_null(self, raw: str) -> str:
        return f"({self.operand(raw)} IS NULL)"

    def type_ok(self, raw: str, kind: Kind) -> str:
        """SQL true when a non-null value reads as ``kind`` without losing anything."""
        value = self.operand(raw)
        if kind in SCALES:
            exact = f"TRY_CAST({value} AS {_exact(kind)})"
            return f"coalesce({exact} = TRY_CAST({value} AS DECIMAL(38,10)), FALSE)"
        if self.mode == "native" and kind in (Kind.BOOLEAN, Kind.DATE):
            return f"(TRY_CAST({value} AS {SQL_TYPES[kind]}) IS NOT NULL)"
        if kind is Kind.BOOLEAN:
            return f"(lower({value}) IN ({_words(_TRUE_WORDS + _FALSE_WORDS)}))"
        if kind is Kind.DATE:
            return _date_ok(value)
        return "TRUE"

    def typed(self, raw: str, dtype: DType) -> str:
        """The value in the column's type; only run on values ``type_ok`` accepted."""
        value, kind = self.operand(raw), dtype.kind
        if kind in (Kind.TEXT, Kind.ENUM):
            return self.text(raw)
        if kind is Kind.BOOLEAN and self.mode != "native":
            return f"(lower({value}) IN ({_words(_TRUE_WORDS)}))"
        if kind is Kind.INTEGER:
            return f"CAST(CAST({value} AS DECIMAL(18,0)) AS BIGINT)"
        return f"CAST({value} AS {SQL_TYPES[kind]})"


def _exact(kind: Kind) -> str:
    return f"DECIMAL(18,{SCALES[kind]})"


def _words(words: tuple[str, ...]) -> str:
    return ", ".join(string(w) for w in words)


def _date_ok(text: str) -> str:
    return f"(regexp_full_match({text}, '{_DATE_RE}') AND TRY_CAST({text} AS DATE) IS NOT NULL)"


# ---------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class Source:
    """An input file and its siblings, by format."""

    format: str  # jsonl, json, csv, parquet, duckdb
    path: Path
    members: Path | None = None
    events: Path | None = None

    def describe(self) -> str:
        names = {
            "jsonl": "JSON Lines",
            "json": "JSON",
            "csv": "CSV",
            "parquet": "Parquet",
        }
        return f"{names.get(self.format, 'DuckDB')} {self.path}"

    def file_of(self, level: Level) -> Path:
        by_level = {Level.MEMBER: self.members, Level.EVENT: self.events}
        return by_level.get(level) or self.path


_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv"}
_FORMATS |= {".parquet": "parquet", ".duckdb": "duckdb", ".db": "duckdb"}


def open_source(path: str | Path) -> Source:
    """Recognise the input's format and find its sibling files, or raise E605."""
    path = Path(path)
    where = Location(file=str(path))
    kind = _FORMATS.get(path.suffix.lower())
    if kind is None:
        expected = ".jsonl、.json、households.csv、households.parquet、.duckdb"
        raise InputError(
            make(
                "E605",
                "无法识别家庭数据文件的类型",
                where,
                found=path.suffix or path.name,
                expected=expected,
                hint="请按扩展名提供上述格式之一",
            )
        )
    if not path.is_file():
        raise InputError(
            make(
                "E605",
                "家庭数据文件不存在或不是文件",
                where,
                found=str(path),
                hint="检查路径是否写对",
            )
        )
    if kind in ("csv", "parquet"):
        return _with_siblings(kind, path)
    return Source(kind, path)


def _with_siblings(kind: str, path: Path) -> Source:
    stem = path.name[: -len(path.suffix)]
    if not stem.endswith("households"):
        raise InputError(
            make(
                "E605",
                f"{kind.upper()} 家庭数据的文件名应以 households{path.suffix} 结尾",
                Location(file=str(path)),
                found=path.name,
                expected=f"households{path.suffix}，同目录另有 members{path.suffix}",
                hint="家庭、成员、事件分三个文件，文件名只差 households/members/events",
            )
        )
    base = stem[: -len("households")]
    members = path.with_name(f"{base}members{path.suffix}")
    events = path.with_name(f"{base}events{path.suffix}")
    if not members.is_file():
        raise InputError(
            make(
                "E605",
                "找不到成员文件",
                Location(file=str(members)),
                found=members.name,
                hint=f"把成员数据放在 {members.name}",
            )
        )
    return Source(kind, path, members, events if events.is_file() else None)


# ---------------------------------------------------------------------------- staging


@dataclass
class _Staged:
    """Raw relations per level (``_row``, ``_pos``, ``_hid`` and raw values)."""

    family: _Family
    access: Callable[[Column], str]
    locate: Callable[[Column | None, int, int | None], Location]
    materialize: bool
    linked: bool = False
    warnings: list[str] = field(default_factory=list)


_RAW = {
    Level.HOUSEHOLD: "_jz_raw_households",
    Level.MEMBER: "_jz_raw_members",
    Level.EVENT: "_jz_raw_events",
}
_ALL = {
    Level.HOUSEHOLD: "_jz_all_households",
    Level.MEMBER: "_jz_all_members",
    Level.EVENT: "_jz_all_events",
}


def _county_filter(county: str | None, county_text: str) -> str:
    return "" if county is None else f" WHERE {county_text} = {string(county)}"


def _json_type(tree: dict[str, Any]) -> str:
    parts = [
        f"{quote(k)} {_json_type(v) if isinstance(v, dict) else v}"
        for k, v in tree.items()
    ]
    return f"STRUCT({', '.join(parts)})"


def _tree(columns: list[Column]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for column in columns:
        node = tree
        *parents, leaf = column.key
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node.setdefault(leaf, "VARCHAR")
    return tree


def _json_schema(schema: dict[Level, list[Column]]) -> dict[str, str]:
    top = _tree(schema[Level.HOUSEHOLD])
    for level, name in LISTS.items():
        if schema[level]:
            top[name] = _json_type(_tree(schema[level])) + "[]"
    return {k: _json_type(v) if isinstance(v, dict) else v for k, v in top.items()}


def _stage_json(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    schema: dict[Level, list[Column]],
    county: str | None,
) -> _Staged:
    fmt = "newline_delimited" if source.format == "jsonl" else "array"
    columns = _json_schema(schema)
    try:
        con.execute(
            "CREATE TABLE _jz_raw AS SELECT * FROM read_json($p, format = $f, columns = $c)",
            {"p": str(source.path), "f": fmt, "c": columns},
        )
    except duckdb.Error as error:
        raise InputError(_json_structure(source, schema, error)) from None
    family = _Family("json")
    hid, cty = (family.text(quote(k)) for k, _ in _KEYS[Level.HOUSEHOLD])
    con.execute(
        "CREATE VIEW _jz_raw_households AS SELECT rowid AS _row, rowid AS _pos, "
        f"{hid} AS _hid, * FROM _jz_raw{_county_filter(county, cty)}"
    )
    for level, name in LISTS.items():
        alias = "_m" if level is Level.MEMBER else "_e"
        listed = f"h.{quote(name)}" if schema[level] else "CAST([] AS INTEGER[])"
        con.execute(
            f"CREATE TABLE {_RAW[level]} AS SELECT h._row, h._hid, unnest({listed}) AS {alias}, "
            f"generate_subscripts({listed}, 1) - 1 AS _pos FROM _jz_raw_households h"
        )

    def access(column: Column) -> str:
        prefix = {Level.HOUSEHOLD: "", Level.MEMBER: "_m.", Level.EVENT: "_e."}[
            column.level
        ]
        return prefix + ".".join(quote(k) for k in column.key)

    return _Staged(family, access, _json_locator(source), materialize=True)


def _json_locator(
    source: Source,
) -> Callable[[Column | None, int, int | None], Location]:
    lines: dict[int, int] = {}

    def locate(column: Column | None, row: int, position: int | None) -> Location:
        path = column.json_path(position) if column else "$"
        if source.format == "json":
            return Location(file=str(source.path), cell=f"$[{row}]{path[1:]}")
        if row not in lines:
            lines.update(_line_numbers(source.path))
        return Location(
            file=str(source.path), cell=f"第{lines.get(row, row + 1)}行 {path}"
        )

    return locate


def _line_numbers(path: Path) -> dict[int, int]:
    """Record index -> line number, skipping blank lines as DuckDB's reader does."""
    numbers: dict[int, int] = {}
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                numbers[len(numbers)] = number
    return numbers


def _tabular_relations(
    con: duckdb.DuckDBPyConnection,
    sources: dict[Level, str | None],
    row: str,
    county: str | None,
    family: _Family,
) -> dict[Level, set[str]]:
    """Views over each level's source with ``_row``, ``_pos`` and ``_hid``; returns
    the columns each source has."""
    present: dict[Level, set[str]] = {}
    for level, relation in sources.items():
        names = _columns_of(con, relation) if relation else set()
        present[level] = names
        hid = family.text(quote("household_id")) if "household_id" in names else "NULL"
        body = (
            f"SELECT {row} AS _row, {hid} AS _hid, * FROM {relation}"
            if relation
            else (
                "SELECT CAST(NULL AS BIGINT) AS _row, CAST(NULL AS VARCHAR) AS _hid WHERE FALSE"
            )
        )
        con.execute(f"CREATE VIEW {_ALL[level]} AS {body}")
    cty = (
        family.text(quote("county_code"))
        if "county_code" in present[Level.HOUSEHOLD]
        else "NULL"
    )
    con.execute(
        f"CREATE VIEW _jz_raw_households AS SELECT *, _row AS _pos FROM _jz_all_households"
        f"{_county_filter(county, cty)}"
    )
    for level in LISTS:
        con.execute(
            f"CREATE VIEW {_RAW[level]} AS SELECT *, row_number() OVER (PARTITION BY _hid "
            f"ORDER BY _row) - 1 AS _pos FROM {_ALL[level]} "
            "WHERE _hid IN (SELECT _hid FROM _jz_raw_households)"
        )
    return present


def _columns_of(con: duckdb.DuckDBPyConnection, relation: str) -> set[str]:
    return {
        row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    }


def _tabular_access(
    present: dict[Level, set[str]],
    warnings: list[str],
    label: Callable[[Level], str],
    schema: dict[Level, list[Column]],
) -> Callable[[Column], str]:
    """Find each column in its source (``event.type`` may be written ``type``)."""
    found: dict[tuple[Level, str], str] = {}
    for level, columns in schema.items():
        for column in columns:
            for name in (column.id, ".".join(column.key)):
                if name in present[level]:
                    found[(level, column.id)] = name
                    break
        known = {found.get((level, c.id)) for c in columns} | {"household_id"}
        unknown = sorted(present[level] - known)
        if unknown:
            warnings.append(
                f"{label(level)} 中的列 {'、'.join(unknown)} 不是已声明的字段，已忽略"
            )

    def access(column: Column) -> str:
        name = found.get((column.level, column.id))
        return quote(name) if name else "NULL"

    return access


def _stage_csv(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    schema: dict[Level, list[Column]],
    county: str | None,
    scratch: Path,
) -> _Staged:
    files = {
        Level.HOUSEHOLD: source.path,
        Level.MEMBER: source.members,
        Level.EVENT: source.events,
    }
    sources: dict[Level, str | None] = {}
    for level, path in files.items():
        sources[level] = None
        if path is not None:
            table = f"_jz_src_{LISTS.get(level, 'households')}"
            _read_csv(con, table, _utf8(path, scratch), path)
            sources[level] = table
    family = _Family("csv")
    present = _tabular_relations(con, sources, "rowid", county, family)
    warnings: list[str] = []
    access = _tabular_access(
        present, warnings, lambda lv: source.file_of(lv).name, schema
    )

    def locate(column: Column | None, row: int, position: int | None) -> Location:
        level = column.level if column else Level.HOUSEHOLD
        name = column.id if column else "household_id"
        return Location(file=str(source.file_of(level)), cell=f"第{row + 2}行 {name}")

    return _Staged(
        family, access, locate, materialize=True, linked=True, warnings=warnings
    )


def _read_csv(
    con: duckdb.DuckDBPyConnection, table: str, path: Path, shown: Path
) -> None:
    try:
        con.execute(
            f"CREATE TABLE {table} AS SELECT * FROM read_csv($p, header = true, "
            "all_varchar = true, delim = ',', quote = '\"', escape = '\"')",
            {"p": str(path)},
        )
    except duckdb.Error as error:
        raise InputError(
            make(
                "E605",
                "CSV 文件无法读取：列数不一致、引号不配对或不是 CSV",
                Location(file=str(shown)),
                found=_first_line(error),
                hint="用 Excel 或 WPS 打开后另存为 CSV（逗号分隔）再试",
            )
        ) from None


def _utf8(path: Path, scratch: Path) -> Path:
    """The file itself if it is UTF-8 (with or without BOM), else a UTF-8 copy of its
    GB18030 text in ``scratch``; E605 if it is neither."""
    if _decodes(path, "utf-8"):
        return path
    if _decodes(path, "gb18030"):
        copy = scratch / path.name
        with (
            path.open(encoding="gb18030", newline="") as src,
            copy.open("w", encoding="utf-8", newline="") as dst,
        ):
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        return copy
    raise InputError(
        make(
            "E605",
            "CSV 文件编码无法识别",
            Location(file=str(path)),
            expected="UTF-8、带 BOM 的 UTF-8 或 GB18030（GBK）",
            hint="用 Excel 或 WPS 另存为「CSV UTF-8（逗号分隔）」",
        )
    )


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


def _stage_parquet(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    schema: dict[Level, list[Column]],
    county: str | None,
) -> _Staged:
    files = {
        Level.HOUSEHOLD: source.path,
        Level.MEMBER: source.members,
        Level.EVENT: source.events,
    }
    sources: dict[Level, str | None] = {}
    for level, path in files.items():
        sources[level] = None
        if path is not None:
            view = f"_jz_src_{LISTS.get(level, 'households')}"
            _attempt(
                con,
                f"CREATE VIEW {view} AS SELECT * FROM read_parquet("
                f"{string(str(path))}, file_row_number = true)",
                path,
            )
            _attempt(con, f"SELECT * FROM {view} LIMIT 0", path)
            sources[level] = view
    return _native(con, source, schema, county, sources, "file_row_number", "")


def _stage_duckdb(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    schema: dict[Level, list[Column]],
    county: str | None,
) -> _Staged:
    _attempt(
        con, f"ATTACH {string(str(source.path))} AS _jz_src (READ_ONLY)", source.path
    )
    tables = {
        row[0]
        for row in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = '_jz_src'"
        ).fetchall()
    }
    sources: dict[Level, str | None] = {}
    for level in Level:
        name = LISTS.get(level, "households")
        if name not in tables and level is not Level.EVENT:
            raise InputError(
                make(
                    "E605",
                    f"DuckDB 数据库中没有 {name} 表",
                    Location(file=str(source.path)),
                    found="、".join(sorted(tables)),
                    expected="households、members 表（events 表可选）",
                )
            )
        sources[level] = f"_jz_src.{quote(name)}" if name in tables else None
    return _native(con, source, schema, county, sources, "rowid", "表")


def _native(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    schema: dict[Level, list[Column]],
    county: str | None,
    sources: dict[Level, str | None],
    row: str,
    table_word: str,
) -> _Staged:
    family = _Family("native")
    present = _tabular_relations(con, sources, row, county, family)
    warnings: list[str] = []

    def label(level: Level) -> str:
        if table_word:
            return f"{LISTS.get(level, 'households')} {table_word}"
        return source.file_of(level).name

    access = _tabular_access(present, warnings, label, schema)

    def locate(column: Column | None, row: int, position: int | None) -> Location:
        level = column.level if column else Level.HOUSEHOLD
        name = column.id if column else "household_id"
        where = f"{label(level)}第{row + 1}行" if table_word else f"第{row + 1}行"
        file = source.path if table_word else source.file_of(level)
        return Location(file=str(file), cell=f"{where} {name}")

    return _Staged(
        family, access, locate, materialize=False, linked=True, warnings=warnings
    )


def _attempt(con: duckdb.DuckDBPyConnection, sql: str, path: Path) -> None:
    try:
        con.execute(sql)
    except duckdb.Error as error:
        raise InputError(
            make(
                "E605",
                "家庭数据文件无法读取",
                Location(file=str(path)),
                found=_first_line(error),
                hint="确认文件完整、格式与扩展名一致",
            )
        ) from None


def _first_line(error: Exception) -> str:
    return (
        str(error).strip().splitlines()[0][:200]
        if str(error).strip()
        else type(error).__name__
    )


def _stage(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    schema: dict[Level, list[Column]],
    county: str | None,
    scratch: Path,
) -> _Staged:
    if source.format in ("jsonl", "json"):
        return _stage_json(con, source, schema, county)
    if source.format == "csv":
        return _stage_csv(con, source, schema, county, scratch)
    if source.format == "parquet":
        return _stage_parquet(con, source, schema, county)
    return _stage_duckdb(con, source, schema, county)


# ---------------------------------------------------------------------------- JSON shape


def _json_structure(
    source: Source, schema: dict[Level, list[Column]], error: duckdb.Error
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
    if not problems:
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


def _shape_diagnostic(
    where: Location, path: str, expected: str, found: str
) -> Diagnostic:
    if where.cell and where.cell.startswith("第"):
        cell = f"{where.cell} {path}"
    else:
        cell = (where.cell or "$") + path[1:]
    return make(
        "E603",
        f"{path} 的结构不对",
        Location(where.file, None, cell),
        found=found,
        expected=expected,
        hint="按数据约定组织家庭、成员和事件",
    )


def _json_records(
    source: Source, problems: list[Diagnostic]
) -> Iterator[tuple[Location, object]]:
    """Each household object with where it is; unreadable JSON becomes E605 in
    ``problems``."""
    file = str(source.path)
    if source.format == "json":
        try:
            records = _loads(source.path.read_text(encoding="utf-8-sig"))
        except (ValueError, UnicodeDecodeError) as error:
            problems.append(
                _bad_json(Location(file=file, cell=_error_line(error)), error)
            )
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
        for index, record in enumerate(records):
            yield Location(file=file, cell=f"$[{index}]"), record
        return
    with source.path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = Location(file=file, cell=f"第{number}行")
            try:
                yield where, _loads(line.decode("utf-8-sig"))
            except (ValueError, UnicodeDecodeError) as error:
                problems.append(_bad_json(where, error))


class _DuplicateKey(ValueError):
    pass


def _loads(text: str) -> object:
    return json.loads(text, parse_float=Decimal, object_pairs_hook=_unique_pairs)


def _unique_pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _error_line(error: Exception) -> str | None:
    return f"第{error.lineno}行" if isinstance(error, json.JSONDecodeError) else None


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
    first: tuple[int, int] | None = None  # a duplicate's first (row, position)


def _case(staged: _Staged, column: Column, known: list[str] | None) -> str:
    """SQL naming the problem with one column's value, or NULL."""
    family, raw = staged.family, staged.access(column)
    text = family.text(raw)
    missing = "'missing'" if column.required else "NULL"
    arms = [
        f"WHEN {family.is_null(raw)} THEN {missing}",
        f"WHEN NOT {family.type_ok(raw, column.dtype.kind)} THEN 'type'",
    ]
    if column.dtype.kind is Kind.ENUM:
        listed = ", ".join(string(v) for v in column.dtype.values)
        arms.append(f"WHEN {text} NOT IN ({listed}) THEN 'value'")
    if (column.level, column.id) == (Level.HOUSEHOLD, "county_code"):
        arms.append(f"WHEN NOT regexp_full_match({text}, '[0-9]{{6}}') THEN 'value'")
        if known is not None:
            codes = ", ".join(string(c) for c in known)
            arms.append(
                f"WHEN NOT list_contains(CAST([{codes}] AS VARCHAR[]), {text}) "
                "THEN 'county'"
            )
    return f"CASE {' '.join(arms)} END"


def _value_problems(
    con: duckdb.DuckDBPyConnection,
    staged: _Staged,
    columns: list[Column],
    known: list[str] | None,
    budget: int,
) -> tuple[list[_Problem], int]:
    """Up to ``budget`` problems with the values of one level, and how many there are."""
    if not columns:
        return [], 0
    inner = ", ".join(
        f"{_case(staged, c, known)} AS c{i}, {staged.access(c)} AS r{i}"
        for i, c in enumerate(columns)
    )
    relation = f"(SELECT _row, _pos, {inner} FROM {_RAW[columns[0].level]})"
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
    keyed = f"(SELECT _row, _pos, _hid, {key} AS _key FROM {_RAW[column.level]})"
    repeated = f"SELECT 1 FROM {keyed} WHERE _key IS NOT NULL GROUP BY {group} HAVING count(*) > 1"
    if not con.execute(repeated + " LIMIT 1").fetchall():
        return []
    window = f"OVER (PARTITION BY {group} ORDER BY _row, _pos)"
    rows = con.execute(
        f"SELECT _row, _pos, _key, first_row, first_pos FROM (SELECT *, "
        f"row_number() {window} AS n, first_value(_row) {window} AS first_row, "
        f"first_value(_pos) {window} AS first_pos FROM {keyed} WHERE _key IS NOT NULL) "
        f"WHERE n > 1 ORDER BY _row, _pos LIMIT {budget}"
    ).fetchall()
    return [_Problem("duplicate", column, r[0], r[1], r[2], (r[3], r[4])) for r in rows]


def _orphans(
    con: duckdb.DuckDBPyConnection, level: Level, budget: int
) -> list[_Problem]:
    """Members or events whose household_id is missing or not in the households file."""
    column = Column("household_id", "户编号", level, _TEXT)
    rows = con.execute(
        f"SELECT _row, _hid FROM {_ALL[level]} a WHERE _hid IS NULL OR NOT EXISTS "
        f"(SELECT 1 FROM _jz_all_households h WHERE h._hid = a._hid) "
        f"ORDER BY _row LIMIT {budget}"
    ).fetchall()
    return [_Problem("orphan", column, r[0], None, r[1]) for r in rows]


def _problems(
    con: duckdb.DuckDBPyConnection,
    staged: _Staged,
    schema: dict[Level, list[Column]],
    known: list[str] | None,
) -> tuple[list[_Problem], int]:
    """Every problem in the input (the first MAX_PROBLEMS) and how many there are."""
    problems: list[_Problem] = []
    total = 0
    for level, columns in schema.items():
        found, count = _value_problems(
            con, staged, columns, known, MAX_PROBLEMS - len(problems)
        )
        problems += found
        total += count
        if staged.linked and level is not Level.HOUSEHOLD:
            orphans = _orphans(con, level, MAX_PROBLEMS - len(problems) + 1)
            problems += orphans
            total += len(orphans)
    for column in (schema[Level.HOUSEHOLD][0], schema[Level.MEMBER][0]):
        duplicates = _duplicates(con, staged, column, MAX_PROBLEMS - len(problems) + 1)
        problems += duplicates
        total += len(duplicates)
        if duplicates:
            break  # members of a repeated household would repeat too
    return problems[:MAX_PROBLEMS], total


# ---------------------------------------------------------------------------- messages


def _diagnostic(problem: _Problem, staged: _Staged) -> Diagnostic:
    column = problem.column
    where = staged.locate(column, problem.row, problem.position)
    label = f"「{column.name_cn}」（{column.id}）"
    if problem.kind == "missing":
        return make(
            "E604",
            f"缺少必填字段{label}",
            where,
            expected=_expected(column, staged),
            hint="每户须有户编号和区划代码，每个成员须有成员编号和出生日期",
        )
    if problem.kind == "type":
        return make(
            "E603",
            f"{label}的类型不对",
            where,
            found=problem.found,
            expected=_expected(column, staged),
            hint=_type_hint(column, staged),
        )
    if problem.kind == "value":
        return make(
            "E603",
            f"{label}的取值不在允许范围内",
            where,
            found=problem.found,
            expected=_expected(column, staged),
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
    return _link_diagnostic(problem, staged, where, label)


def _link_diagnostic(
    problem: _Problem, staged: _Staged, where: Location, label: str
) -> Diagnostic:
    column = problem.column
    if problem.kind == "duplicate":
        first = staged.locate(column, *(problem.first or (0, 0))).render()
        scope = "同一文件" if column.level is Level.HOUSEHOLD else "同一家庭"
        return make(
            "E603",
            f"{label}「{problem.found}」重复出现",
            where,
            found=problem.found,
            expected=f"在{scope}内唯一",
            hint=f"与 {first} 重复；请合并或改正编号",
        )
    if problem.found is None:
        return make(
            "E604",
            f"缺少必填字段{label}",
            where,
            expected='所属家庭的户编号，如 "H001"',
            hint="成员和事件须写明所属家庭的 household_id",
        )
    return make(
        "E603",
        f"找不到所属的家庭「{problem.found}」",
        where,
        found=problem.found,
        expected="家庭文件中已有的 household_id",
        hint="核对户编号，或补充该户的家庭数据",
    )


def _expected(column: Column, staged: _Staged) -> str:
    kind = column.dtype.kind
    if column.id == "county_code" and column.level is Level.HOUSEHOLD:
        return "六位行政区划代码，如 " + (
            '"330106"' if staged.family.mode == "json" else "330106"
        )
    if kind is Kind.ENUM:
        values = "、".join(column.dtype.values)
        return f"以下取值之一：{values}"
    return f"{_KIND_CN[kind]}，如 {staged.family.examples[kind]}"


def _type_hint(column: Column, staged: _Staged) -> str:
    kind, json_input = column.dtype.kind, staged.family.mode == "json"
    if kind in SCALES:
        places = SCALES[kind]
        more = f"最多 {places} 位小数" if places else "不带小数"
        return f"只写数字，{more}，不要带单位、千位分隔符或文字说明"
    if kind is Kind.BOOLEAN:
        return "写 true 或 false，不加引号" if json_input else "写 是/否 或 true/false"
    if kind is Kind.DATE:
        return "写成带引号的 YYYY-MM-DD 字符串" if json_input else "写成 YYYY-MM-DD"
    return "写成带引号的字符串" if json_input else "写成文字"


def _raise_problems(
    problems: list[_Problem], total: int, staged: _Staged, path: Path
) -> None:
    if not problems:
        return
    diagnostics = [_diagnostic(p, staged) for p in problems]
    if total > len(problems):
        diagnostics.append(
            make(
                "E605",
                f"问题过多，只列出前 {len(problems)} 处，另有 {total - len(problems)} 处未列出",
                Location(file=str(path)),
                hint="修正以上问题后重新运行，可看到其余问题",
            )
        )
    raise InputError(diagnostics)


# ---------------------------------------------------------------------------- build


def _value(staged: _Staged, column: Column) -> str:
    typed = staged.family.typed(staged.access(column), column.dtype)
    if column.default is not None:
        typed = f"COALESCE({typed}, {literal(column.default, column.dtype)})"
    return f"CAST({typed} AS {SQL_TYPES[column.dtype.kind]}) AS {quote(column.id)}"


def _build(
    con: duckdb.DuckDBPyConnection, staged: _Staged, schema: dict[Level, list[Column]]
) -> None:
    kind = "TABLE" if staged.materialize else "VIEW"
    for level, columns in schema.items():
        values = [_value(staged, c) for c in columns]
        if level is Level.HOUSEHOLD:
            values.insert(2, "_row AS _hh_index")
        else:
            values[:0] = ["_hid AS household_id", f"_pos AS {INDEXES[level]}"]
        con.execute(
            f"CREATE {kind} {TABLES[level]} AS SELECT {', '.join(values)} FROM {_RAW[level]}"
        )


def _drop(con: duckdb.DuckDBPyConnection, names: tuple[str, ...]) -> None:
    for name in names:
        for kind in ("VIEW", "TABLE"):
            try:
                con.execute(f"DROP {kind} IF EXISTS {name}")
            except duckdb.CatalogException:
                continue


def _reset(con: duckdb.DuckDBPyConnection) -> None:
    _drop(con, tuple(TABLES.values()) + _STAGING)
    con.execute("DETACH DATABASE IF EXISTS _jz_src")


# ---------------------------------------------------------------------------- entry points


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
        con: the connection to create the tables (or, for Parquet and DuckDB, views) on;
            earlier ``jz_*`` input relations are replaced.
        path: the input; its extension chooses the format (module docstring).
        fields: the declared fields, by identifier.
        county: keep only the households of this county code.
        known_counties: county codes with tables; any other county is E606.

    Returns:
        The counts loaded, the source and warnings (ignored columns).

    Raises:
        InputError: with every problem found (E603-E606), capped at 200.
    """
    started = time.perf_counter()
    source = open_source(path)
    schema = {level: input_columns(fields, level) for level in Level}
    known = sorted(known_counties) if known_counties is not None else None
    _reset(con)
    with tempfile.TemporaryDirectory(prefix="jiuzhu-") as scratch:
        staged = _load(con, source, schema, county, known, Path(scratch))
    counts = [_count(con, TABLES[level]) for level in Level]
    loaded = LoadedInput(
        counts[0], counts[1], counts[2], source.describe(), staged.warnings
    )
    logger.info(
        "loaded %d households, %d members, %d events from %s in %.2f s",
        *counts,
        source.path,
        time.perf_counter() - started,
    )
    return loaded


def _count(con: duckdb.DuckDBPyConnection, relation: str) -> int:
    return _scalar(con, f"SELECT count(*) FROM {relation}")


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    """A count; fetches every row, so no result is left open on the connection."""
    return int(con.execute(sql).fetchall()[0][0])


def _load(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    schema: dict[Level, list[Column]],
    county: str | None,
    known: list[str] | None,
    scratch: Path,
) -> _Staged:
    materialized = source.format in ("jsonl", "json", "csv")
    try:
        staged = _stage(con, source, schema, county, scratch)
        problems, total = _problems(con, staged, schema, known)
        _raise_problems(problems, total, staged, source.path)
        _build(con, staged, schema)
    except BaseException:
        _reset(con)
        raise
    finally:
        if materialized:
            _drop(con, _STAGING)
    return staged


def iter_households(
    path: str | Path,
    fields: dict[str, Field] | None = None,
    *,
    county: str | None = None,
    known_counties: Collection[str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield contract-shaped households (nested dicts) in input order.

    With ``fields`` the households are loaded and checked exactly as ``load_households``
    does, and every declared field is present, typed (``Decimal``, ``date``, ``bool``)
    and defaulted. Without ``fields`` only JSON input can be read: the objects come as
    written, numbers as ``Decimal``, dates as ISO strings.

    Raises:
        InputError: as ``load_households`` does, on the first ``next()``.
    """
    if fields is None:
        yield from _raw_households(open_source(path), county)
        return
    con = duckdb.connect()
    try:
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


def _raw_households(source: Source, county: str | None) -> Iterator[dict[str, Any]]:
    if source.format not in ("jsonl", "json"):
        raise InputError(
            make(
                "E605",
                "读取表格形式的家庭数据需要字段定义",
                Location(file=str(source.path)),
                hint="调用时传入工作簿的字段（fields）",
            )
        )
    problems: list[Diagnostic] = []
    for where, record in _json_records(source, problems):
        if not isinstance(record, dict):
            raise InputError(
                _shape_diagnostic(where, "$", "JSON 对象 {…}", _clip(record))
            )
        if county is None or record.get("county_code") == county:
            yield record
    if problems:
        raise InputError(problems)
