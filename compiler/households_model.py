"""What the household loader knows of its input: the vocabulary its passes share.

The relations a load creates (``TABLES``, ordered by ``INDEXES``) and the staging
relations it drops again (``STAGING``: ``RAW``, ``ALL`` and ``FAST`` per level, and
the sources); ``Column``, one input column, and ``input_columns``, one level's columns
from the declared fields; ``Source``, an input file with its member and event files;
``Family``, how a staged value reads in SQL; ``Places``, where a row is in the words
of its format (a JSON Lines file's line numbers are counted when a problem is first
placed); ``Staged``, what a format's staging hands to the checks and the build.
``unreadable`` makes the E605 error for input that cannot be read.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import NamedTuple

import duckdb

from compiler.diagnostics import Diagnostic, Location, make
from compiler.errors import InputError
from compiler.model import LEVEL_CN, SCALES, DType, Field, Kind, Level
from compiler.sqlgen import SQL_TYPES, string

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
    (Level.EVENT, "event.date"),  # an alert's working days are counted from it
    (Level.EVENT, "event.type"),  # an event of no type raises no alert, silently
}
BIRTH_DATE = (Level.MEMBER, "birth_date")  # from EARLIEST_BIRTH to the decision date
# An earlier birth is a placeholder for an unknown date, not a living person (E614).
EARLIEST_BIRTH = date(1900, 1, 1)
# Dates that cannot lie after the decision date (E615): a birth, and the day the
# household's current group was recognised (a recognition still to come is no fact).
NOT_AFTER_AS_OF = frozenset({BIRTH_DATE, (Level.HOUSEHOLD, "current.since")})
MAX_PROBLEMS = 200
EVENT_PREFIX = "event."

TEXT = DType(Kind.TEXT)
KEYS = {
    Level.HOUSEHOLD: (("household_id", "户编号"), ("county_code", "居住地区划代码")),
    Level.MEMBER: (("person_id", "成员编号"),),
    Level.EVENT: (),
}
_TRUE_WORDS = ("true", "1", "是", "y", "yes", "√")
_FALSE_WORDS = ("false", "0", "否", "n", "no", "×")
SOURCE_NAMES = {Level.HOUSEHOLD: "households", **LISTS}
RAW = {level: f"_jz_raw_{name}" for level, name in SOURCE_NAMES.items()}
ALL = {level: f"_jz_all_{name}" for level, name in SOURCE_NAMES.items()}
FAST = {level: f"_jz_fast_{name}" for level, name in LISTS.items()}
STAGING = (*RAW.values(), *ALL.values(), *FAST.values(), "_jz_raw")
STAGING += tuple(f"_jz_src_{name}" for name in SOURCE_NAMES.values())

Schema = dict[Level, list["Column"]]
# DuckDB quotes the input in some read errors, cut at a byte count; when the cut falls
# inside a character, the Python binding raises UnicodeDecodeError instead.
READ_ERRORS = (duckdb.Error, UnicodeDecodeError)


@dataclass(frozen=True, slots=True)
class Column:
    """One input column: a declared field, or a key the loader always needs."""

    id: str
    name_cn: str
    level: Level
    dtype: DType
    default: object = None
    lower: object = None  # the field's declared bounds (E614)
    upper: object = None

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
    columns = [Column(ident, name, level, TEXT) for ident, name in KEYS[level]]
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
                Column(
                    spec.id,
                    spec.name_cn,
                    level,
                    spec.dtype,
                    spec.default,
                    spec.lower,
                    spec.upper,
                )
            )
            taken.add(spec.id)
    return columns


def chinese_names(columns: list[Column]) -> dict[str, tuple[str, ...]]:
    """The Chinese names a table's header may give each column, by id: its name in the
    字段 sheet and, for an event's, that name without 事件 (成员编号 for 事件成员编号,
    类型 for 事件类型), as ``type`` names ``event.type``; a short name that two
    columns would share, or that is another column's own name, is no column's."""
    noun = LEVEL_CN[Level.EVENT]
    short = {
        c.id: c.name_cn[len(noun) :]
        for c in columns
        if c.level is Level.EVENT and c.name_cn.startswith(noun)
        and len(c.name_cn) >= len(noun) + 2
    }  # fmt: skip
    said = [n.casefold() for n in (*(c.name_cn for c in columns), *short.values())]
    alone = {i: n for i, n in short.items() if said.count(n.casefold()) == 1}
    former = {
        c.id: tuple(n for n in FORMER_NAMES.get(c.id, ()) if n.casefold() not in said)
        for c in columns
    }
    return {
        c.id: (c.name_cn, *([alone[c.id]] if c.id in alone else []), *former[c.id])
        for c in columns
    }


# Chinese names the shipped 字段 sheet gave a field in earlier releases, still read as
# that field in a header, so that files written for them keep their columns (unless
# a field of the tables now has that name).
FORMER_NAMES: dict[str, tuple[str, ...]] = {
    "has_able_supporter": ("有能力履行义务的赡养人",),  # before R-N15's 法定义务人
}


def unreadable(
    message: str, where: Path | Location, **details: str | None
) -> InputError:
    """E605: the input cannot be read as it is."""
    location = where if isinstance(where, Location) else Location(file=str(where))
    return InputError(make("E605", message, location, **details))


def first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


# ---------------------------------------------------------------------------- values in SQL


class Arm(NamedTuple):
    """A CASE arm: its condition and what it names ("NULL": nothing is wrong)."""

    test: str
    named: str


@dataclass(frozen=True, slots=True)
class Family:
    """How a source holds values, in SQL: text (JSON leaves as DuckDB's reader renders
    them: a number as digits, ``true`` as ``true``, a string without quotes; CSV cells,
    trimmed and blanks made null as they are read) or ``native`` typed columns
    (Parquet, DuckDB)."""

    native: bool
    blank_is_null: bool = False  # JSON: an empty string counts as missing
    # CSV: dates and numbers also as Excel and WPS save them (``2023/3/1``,
    # ``2023年3月1日``, ``15,611.88``), the forms the tables accept too
    spreadsheet: bool = False
    # a JSON text leaf read as DuckDB's JSON type, because some value of it in the
    # file is no string (a number, list or object): each value is checked for one
    json: bool = False
    # a DuckDB ENUM column: text held as one of a list of labels, read as its label
    enum: bool = False

    def text(self, raw: str) -> str:
        if self.native or self.enum:
            raw = f"CAST({raw} AS VARCHAR)"
        if self.native:
            return raw
        if self.json:
            return f"NULLIF(({raw}) ->> '$', '')"
        return f"NULLIF({raw}, '')" if self.blank_is_null else raw

    def written(self, raw: str) -> str:
        """The text; a spreadsheet's with full-width characters folded to ASCII, as a
        table cell's are (``normalise.fold_text``): ``１５，６１１．８８`` is 15,611.88."""
        text = self.text(raw)
        if not self.spreadsheet:
            return text
        # translate() costs 3.6 µs a value (200,000 households loaded in 170 s, not
        # 6): only text that is not ASCII (as many bytes as characters) pays it
        folded = f"trim(translate({text}, {_FULL_WIDTH}))"
        return f"CASE WHEN strlen({text}) = length({text}) THEN {text} ELSE {folded} END"

    def operand(self, raw: str, kind: Kind | None = None) -> str:
        """What casts start from: the text, or a native column as it is; a
        spreadsheet's date or number in the form ``kind`` casts from."""
        if self.native:
            return raw
        value = self.written(raw) if kind is Kind.DATE or kind in SCALES else self.text(raw)
        if self.spreadsheet and kind is Kind.DATE:
            return f"regexp_replace({value}, {string(_SHEET_DATE)}, '\\1-\\2-\\3')"
        if self.spreadsheet and kind in SCALES:
            grouped = f"regexp_full_match({value}, {string(_GROUPED)})"
            return f"CASE WHEN {grouped} THEN replace({value}, ',', '') ELSE {value} END"
        return value

    def is_null(self, raw: str) -> str:
        return f"({self.operand(raw)} IS NULL)"

    def type_ok(self, raw: str, kind: Kind) -> str:
        """SQL true when a present value reads as ``kind`` without losing anything."""
        value = self.operand(raw, kind)
        if kind in SCALES:
            exact = f"TRY_CAST({value} AS DECIMAL(18,{SCALES[kind]}))"
            if self.native:
                # the decimal the number rounds to is the number itself: compared
                # exactly for a decimal or an integer, and as a DOUBLE too, which a
                # FLOAT is not (15611.88 is stored as 15611.8798828125) while a
                # DOUBLE is the one nearest the decimal (15611.88 as written)
                same = f"CAST({exact} AS DOUBLE) = CAST({value} AS DOUBLE)"
                return f"coalesce({exact} = {value} AND {same}, FALSE)"
            # on the text as it is: a spreadsheet's operand repeats a CASE
            text = self.written(raw)
            return (
                f"({exact} IS NOT NULL AND {_digits(text)} "
                f"AND {_within_scale(text, SCALES[kind])})"
            )
        if kind is Kind.TEXT:
            # text is a string: in JSON not a number, list or object; in Parquet or
            # DuckDB a VARCHAR or ENUM column (read by TEXT_IN_TYPED_FILE or
            # ENUM_IN_TYPED_FILE, never by this)
            if self.json:
                return f"(json_type({raw}) = 'VARCHAR')"
            return "FALSE" if self.native else "TRUE"
        if self.native and kind is Kind.BOOLEAN:
            # a number is a yes/no only as 1 or 0 (DuckDB reads any other as true)
            return f"coalesce(TRY_CAST({value} AS DOUBLE) IN (0, 1), FALSE)"
        if self.native and kind is Kind.DATE:
            # a timestamp is a date only at midnight: nothing may be cut off
            day = f"TRY_CAST({value} AS DATE)"
            return f"coalesce(CAST({day} AS TIMESTAMP) = TRY_CAST({value} AS TIMESTAMP), FALSE)"
        if kind is Kind.BOOLEAN:
            return f"(lower({value}) IN ({words(_TRUE_WORDS + _FALSE_WORDS)}))"
        if kind is Kind.DATE:
            # DuckDB's cast alone takes '25-02-03', '2025-02-03 10:00' and 'epoch'.
            digits = "{1,2}" if self.spreadsheet else "{2}"
            iso = f"regexp_full_match({value}, '[0-9]{{4}}-[0-9]{digits}-[0-9]{digits}')"
            return f"({iso} AND TRY_CAST({value} AS DATE) IS NOT NULL)"
        return "TRUE"

    def type_problem(self, raw: str, kind: Kind) -> str:
        """SQL naming what is wrong with a value ``type_ok`` refused: ``large`` for a
        number beyond what the kind holds (10^16 yuan, 10^18 for an integer; beyond
        what a double holds too: it reads as infinite), ``decimals`` for a number
        within it that has more decimals than the kind keeps (``12.345`` yuan, and
        ``1.00000000001`` or ``1e-400``, whose extra digits no rounding may take
        away), else ``type``."""
        if kind not in SCALES:
            return "'type'"
        value = self.operand(raw, kind)
        number = f"TRY_CAST({value} AS DOUBLE)"
        exact = f"TRY_CAST({value} AS DECIMAL(18,{SCALES[kind]}))"
        large = (
            f"{exact} IS NULL AND "
            f"coalesce(NOT isnan({number}) AND abs({number}) >= {largest(kind)}, FALSE)"
        )
        decimals = f"{exact} IS NOT NULL"
        if not self.native:
            digits = _digits(self.written(raw))
            large, decimals = f"{large} AND {digits}", f"{decimals} AND {digits}"
        return (
            f"CASE WHEN {large} THEN 'large' WHEN {decimals} THEN 'decimals' "
            "ELSE 'type' END"
        )

    def typed(self, raw: str, kind: Kind) -> str:
        """The value in the column's type; run only on values ``type_ok`` accepted."""
        value = self.operand(raw, kind)
        if kind in (Kind.TEXT, Kind.ENUM):
            return self.text(raw)
        if kind is Kind.BOOLEAN and not self.native:
            return f"(lower({value}) IN ({words(_TRUE_WORDS)}))"
        if kind is Kind.INTEGER:
            return f"CAST(CAST({value} AS DECIMAL(18,0)) AS BIGINT)"
        return f"CAST({value} AS {SQL_TYPES[kind]})"


def largest(kind: Kind) -> int:
    """The power of ten a value of a numeric kind stays below: DECIMAL(18, scale)
    holds 18 - scale integer digits."""
    return 10 ** (18 - SCALES[kind])


def _within_scale(value: str, scale: int) -> str:
    """SQL true when number text has no digit other than 0 past ``scale`` decimals:
    ``12.340`` is 12.34 yuan, ``12.345`` is not (the loader rounds nothing away).
    The exponent form DuckDB and Python print (``1.5e-07``, ``1e-400``) needs as
    many decimals as its mantissa has, less its exponent."""
    fraction = f"regexp_matches({value}, '\\.[0-9]{{{scale}}}[0-9]*[1-9]')"
    mantissa = f"length(rtrim(regexp_extract({value}, '\\.([0-9]+)e', 1), '0'))"
    power = f"TRY_CAST(regexp_extract({value}, 'e([+-]?[0-9]+)$', 1) AS BIGINT)"
    needed = f"coalesce({mantissa} - {power} <= {scale}, FALSE)"
    return f"(CASE WHEN contains({value}, 'e') THEN {needed} ELSE NOT {fraction} END)"


def _digits(value: str) -> str:
    """SQL true when text is digits as people write them: no exponent (``1e3``) and
    no ``_`` (DuckDB would read both), except a JSON number of the file, which DuckDB
    renders ``1e+20`` once it is too large or too small to write out."""
    marks = " OR ".join(f"contains({value}, '{mark}')" for mark in "eE_")
    written = f"NOT ({marks})"
    rendered = f"regexp_full_match({value}, '-?[0-9](\\.[0-9]+)?e[+-][0-9]{{2,}}')"
    return f"({written} OR {rendered})"


TEXT_IN_TYPED_FILE = Family(native=False, blank_is_null=True)
ENUM_IN_TYPED_FILE = Family(native=False, blank_is_null=True, enum=True)
JSON_TEXT = Family(native=False, blank_is_null=True, json=True)
# A date as the workbook reader takes one (normalise.parse_date): year first, then
# month and day after - / . or 年 月 (日), a midnight time allowed; to Y-M-D.
_SHEET_DATE = (
    r"^([0-9]{4}) ?(?:[-/.]|年) ?([0-9]{1,2}) ?(?:[-/.]|月) ?([0-9]{1,2}) ?日?"
    r"(?:[ T]0{1,2}:00(?::00(?:\.0+)?)?)?$"
)
# translate()'s arguments folding full-width ASCII and the ideographic space as
# normalise.fold_text does
_FULL_WIDTH = ", ".join(
    string("".join(chr(c - shift) for c in range(0xFF01, 0xFF5F)) + space)
    for shift, space in ((0, "\u3000"), (0xFEE0, " "))
)
# A number with thousands separators, each three digits: 15,611.88 (1,40 is not one).
_GROUPED = r"-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?"


def words(values: tuple[str, ...]) -> str:
    return ", ".join(string(w) for w in values)


# ---------------------------------------------------------------------------- sources


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


# ---------------------------------------------------------------------------- staged relations


@dataclass(frozen=True)
class Places:
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
            where = f"{SOURCE_NAMES[level]} 表第{row + 1}行"
            return Location(file=str(self.source.path), cell=f"{where} {column.id}")
        header = 2 if fmt == "csv" else 1  # a CSV's first data row is row 2
        return Location(
            file=str(self.source.file_of(level)), cell=f"第{row + header}行 {column.id}"
        )


    def record(self, row: int, path: str) -> str:
        """Where a JSON record's value at ``path`` (``$.members[0].x``) is."""
        if self.source.format == "jsonl":
            if not self.lines:
                self.lines.update(_line_numbers(self.source.path))
            return f"第{self.lines.get(row, row + 1)}行 {path}"
        return f"$[{row}]{path[1:]}"


def _line_numbers(path: Path) -> dict[int, int]:
    """Record index -> line number, skipping blank lines as DuckDB's reader does."""
    numbers: dict[int, int] = {}
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                numbers[len(numbers)] = number
    return numbers


@dataclass
class Staged:
    """The raw relations ``_jz_raw_*`` (columns ``_row``, ``_pos``, ``_hid`` and raw
    values), how to reach a column's raw value, and where each row came from."""

    family: Family
    access: Callable[[Column], str]
    places: Places
    linked: bool  # members and events join their household by household_id
    warnings: list[str] = field(default_factory=list)
    # problems found while staging (a JSON key naming a declared field another way),
    # reported with those the check finds
    errors: list[Diagnostic] = field(default_factory=list)
    built: dict[Level, str] = field(default_factory=lambda: dict(RAW))  # what jz_* read
    # a typed column's DuckDB type (Parquet, DuckDB); None for text or a missing column
    source_type: Callable[[Column], str | None] = lambda column: None
    # every household of the file, before a county filter (what --county skipped)
    everyone: str = "_jz_all_households"

    def family_of(self, column: Column) -> Family:
        """How one column holds its values: a text column of a typed file is read as
        JSON text is (是/否, ISO dates, a blank is missing), whatever the format, and
        so is an ENUM column of a DuckDB file (text held as one of its labels); a
        JSON text leaf read as JSON keeps each value's JSON type."""
        source = self.source_type(column)
        if source == "JSON":
            return JSON_TEXT
        if self.family.native and source == "VARCHAR":
            return TEXT_IN_TYPED_FILE
        if self.family.native and source is not None and is_enum(source):
            return ENUM_IN_TYPED_FILE
        return self.family


def is_enum(source_type: str) -> bool:
    """Whether a DuckDB column type is an ENUM (``ENUM('330106', '330102')``)."""
    return source_type.startswith("ENUM(") and source_type.endswith(")")


@dataclass(frozen=True)
class Only:
    """The households a load keeps: those of ``counties`` (``--county``, given once or
    more) and, for ``explain``, those with the id ``household`` (every row with it, so
    a repeated id is still found); the others are skipped unchecked. ``Only()`` keeps
    every household."""

    counties: tuple[str, ...] | None = None
    household: str | None = None

    @property
    def everyone(self) -> bool:
        return self.counties is None and self.household is None

    def keeps(self, record: dict) -> bool:
        """Whether a household record as written (JSON) is one of those kept."""
        return (
            self.counties is None or str(record.get("county_code")) in self.counties
        ) and (self.household is None or str(record.get("household_id")) == self.household)

    def where(self, county_text: str, household_text: str) -> str:
        """The WHERE clause (or nothing) over SQL for the county code and the id as text."""
        tests = []
        if self.counties is not None:
            codes = ", ".join(string(c) for c in self.counties)
            tests.append(f"{county_text} IN ({codes})" if codes else "false")
        if self.household is not None:
            tests.append(f"{household_text} = {string(self.household)}")
        return f" WHERE {' AND '.join(tests)}" if tests else ""


def only_of(county: str | Collection[str] | None, household: str | None = None) -> Only:
    """``load_households``' ``county`` (one code or several) and ``household``."""
    counties = None
    if county is not None:
        counties = (county,) if isinstance(county, str) else tuple(sorted(set(county)))
    return Only(counties, household)


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    """A count; fetches every row, so no result is left open on the connection."""
    return int(con.execute(sql).fetchall()[0][0])


__all__ = [
    "ALL",
    "BIRTH_DATE",
    "EARLIEST_BIRTH",
    "EVENT_PREFIX",
    "FAST",
    "INDEXES",
    "JSON_TEXT",
    "KEYS",
    "LISTS",
    "MAX_PROBLEMS",
    "NOT_AFTER_AS_OF",
    "RAW",
    "READ_ERRORS",
    "REQUIRED",
    "SOURCE_NAMES",
    "STAGING",
    "TABLES",
    "TEXT",
    "Column",
    "Family",
    "Only",
    "Places",
    "Schema",
    "Source",
    "Staged",
    "chinese_names",
    "first_line",
    "input_columns",
    "is_enum",
    "largest",
    "only_of",
    "scalar",
    "unreadable",
    "words",
]
