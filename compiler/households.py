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
                            (an event column may drop the ``event.`` prefix; the keys
                            also 户编号, 居住地区划代码: ``households_links``); UTF-8,
                            UTF-8 with BOM, GB18030 or UTF-16 with BOM; a row of empty
                            cells only (``,,,,`` as Excel and WPS leave below the data)
                            is skipped; an enum value may be its Chinese name (农村:
                            ``households_enums``)
``*households.txt``         the same, tab-separated (Excel's 「Unicode 文本」)
``*households.parquet``     with ``*members.parquet`` and optionally ``*events.parquet``
``.duckdb``, ``.db``        tables ``households``, ``members`` and optionally
                            ``events``, attached read-only
==========================  ============================================================

JSON and CSV are read by DuckDB and copied into tables; Parquet and DuckDB input stays
where it is, behind views, so it need not fit in memory.

A value is accepted when it reads as its type without losing anything: money, numbers,
integers and percents as a JSON number or digits (``1402.5``, ``"1402.50"``; not
``"1e3"`` or ``"1_000"``) with no more decimals than the type keeps (2, 4, 0, 6:
nothing is rounded away, ``1.00000000001`` and ``1e-400`` are refused) and
less than 10^16 yuan (10^14, 10^18, 10^12); booleans ``true``/``false`` (also 是/否,
1/0, y/n); dates ``YYYY-MM-DD``; an enum one of its values (in CSV, or its Chinese
name); ``county_code`` six
digits; text a JSON string (in Parquet and DuckDB a VARCHAR or ENUM column), never a
number, list or object; an id (``household_id``, ``person_id``, ``event.person_id``) at most
100 characters and without control characters (``households_values``). DuckDB reads
JSON numbers through binary floating point, which keeps 15 significant digits: write
larger amounts as strings (a JSON number it does not hold as written is refused:
``households_numbers``).

All values are checked in one pass before anything is built, and each problem becomes a
diagnostic whose location's ``cell`` is ``第3行 $.members[0].income.wage`` (JSON Lines:
line and JSON path), ``$[2].members[0].income.wage`` (a JSON list), ``第3行 income.wage``
(CSV: the row Excel shows, the header being row 1; Parquet: rows from 1) or
``members 表第3行 income.wage`` (DuckDB). Codes:

E603  a value of the wrong type or not among its values; an id with a control
      character or over 100 characters; a repeated household_id or person_id; a
      member or event whose household is not in the file; a JSON key or a column
      that names a declared field or group another way (``"assets.money"``,
      ``"Assets"``, ``"货币财产"``; a MAP ``assets``, a STRUCT nested too deep:
      ``households_spelling``) or is a near miss of a field of its group
      (``"assets": {"mony": …}``), whose value would otherwise be dropped; a
      number with more decimals than its type keeps
E604  a required value missing: household_id, county_code, members[].person_id and,
      when declared, members[].birth_date and events[].date; a household with no
      members (its income per head cannot be counted)
E605  the file cannot be read: missing, an unknown extension, not JSON, a broken or
      undecodable CSV; a members or events column in a households file; also the
      last line when more than 200 problems were found
E606  a county code not among ``known_counties``
E614  a value below the field's declared 下限 or above its 上限 (字段 sheet): an
      amount that cannot be negative, a disability grade outside 1..4; a number too
      large for its type; a member's birth_date before 1900-01-01 (a placeholder,
      not a person)
E615  with ``as_of``, a member's birth_date or the household's current.since after
      the decision date

The passes live in modules of their own: ``households_stage`` (``households_json`` for
JSON) stages the input as raw relations, ``households_check`` finds the problems in
them, and this module builds the ``jz_*`` relations; ``households_model`` holds the
names the passes share.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

from compiler.households_check import check, defers_repeats
from compiler.households_json import json_households, tree
from compiler.households_model import (
    EVENT_PREFIX,
    INDEXES,
    STAGING,
    TABLES,
    TEXT,
    Column,
    Places,
    Schema,
    Source,
    Staged,
    first_line,
    input_columns,
    only_of,
    scalar,
    unreadable,
)
from compiler.households_stage import native_sources, stage
from compiler.model import SCALES, DType, Field, Kind, Level
from compiler.sqlgen import SQL_TYPES, literal, quote

logger = logging.getLogger("jiuzhu")


@dataclass
class LoadedInput:
    """What ``load_households`` loaded: counts, where from, and what it noticed."""

    households: int
    members: int
    events: int
    source: str
    warnings: list[str] = field(default_factory=list)
    # with defer_repeats: the whole check, repeated person ids included, to run when
    # a batch may repeat one (raises InputError with every problem); None: all checked
    recheck: Callable[[], None] | None = None
    skipped: int = 0  # households left out by ``county`` (or ``household``)
    # where each row came from, to place a warning about a loaded value
    places: Places | None = None


# ---------------------------------------------------------------------------- sources


_FORMATS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv"}
# Excel's and WPS's 「Unicode 文本」 is saved as .txt: read as a CSV when tab-separated
_FORMATS[".txt"] = "csv"
_FORMATS |= {".parquet": "parquet", ".duckdb": "duckdb", ".db": "duckdb"}


_EXCEL = (".xlsx", ".xlsm", ".xls", ".et")  # WPS saves .et
# the console's words for an Excel upload (console/uploads.py refusal)
_EXCEL_HINT = (
    "Excel 工作簿不直接读取；请在 Excel 中把家庭表、成员表（有事件时再加事件表）分别另存为"
    "「CSV UTF-8」文件，命名为 households.csv、members.csv（和 events.csv），放在同一个"
    "文件夹中，再指定其中的 households.csv"
)


def open_source(path: str | Path) -> Source:
    """Recognise the input's format and find its sibling files, or raise E605."""
    path = Path(path)
    kind = _FORMATS.get(path.suffix.lower())
    if kind is None:
        raise unreadable(
            "无法识别家庭数据文件的类型",
            path,
            found=path.suffix or path.name,
            expected=".jsonl、.json、households.csv、households.txt（制表符分隔）、"
            "households.parquet、.duckdb",
            hint=_EXCEL_HINT
            if path.suffix.lower() in _EXCEL
            else "请按扩展名提供上述格式之一",
        )
    if not path.is_file():
        raise unreadable(
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
        named = "制表符分隔文本" if suffix.lower() == ".txt" else f"{kind.upper()} "
        raise unreadable(
            f"{named}家庭数据的文件名应以 households{suffix} 结尾",
            path,
            found=path.name,
            expected=f"households{suffix}，旁边有 members{suffix}",
            hint="家庭、成员、事件分三个文件，文件名只差 households/members/events",
        )
    base = stem[: -len("households")]
    members = path.with_name(f"{base}members{suffix}")
    events = path.with_name(f"{base}events{suffix}")
    if not members.is_file():
        raise unreadable(
            "找不到成员文件",
            members,
            found=members.name,
            hint=f"把成员数据放在 {members.name}",
        )
    return Source(kind, path, members, events if events.is_file() else None)


# ---------------------------------------------------------------------------- build


def _value(staged: Staged, column: Column) -> str:
    kind = column.dtype.kind
    typed = staged.family_of(column).typed(staged.access(column), kind)
    if column.default is not None:
        typed = f"COALESCE({typed}, {literal(column.default, column.dtype)})"
    return f"CAST({typed} AS {SQL_TYPES[kind]}) AS {quote(column.id)}"


def _build(
    con: duckdb.DuckDBPyConnection, staged: Staged, schema: Schema, kind: str
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
    _drop(con, (*TABLES.values(), *STAGING))
    con.execute("DETACH DATABASE IF EXISTS _jz_src")


# ---------------------------------------------------------------------------- loading


def load_households(
    con: duckdb.DuckDBPyConnection,
    path: str | Path,
    fields: dict[str, Field],
    *,
    county: str | Collection[str] | None = None,
    known_counties: Collection[str] | None = None,
    as_of: date | None = None,
    defer_repeats: bool = False,
    household: str | None = None,
) -> LoadedInput:
    """Create ``jz_households``, ``jz_members`` and ``jz_events`` from a household file.
    With ``defer_repeats`` person ids repeated within a household are not looked for
    where the caller can do it batch by batch (``households_check.defers_repeats``);
    the result's ``recheck`` then runs the whole check.

    Args:
        con: where to create them: tables for JSON and CSV, views for Parquet and
            DuckDB input; the relations of an earlier load are replaced.
        path: the input; its extension chooses the format (see the module docstring).
        fields: the declared fields, by identifier.
        county: keep only this county's households (a code, or several codes:
            ``--county`` given more than once); the others are skipped unchecked.
        known_counties: the county codes that have tables; any other is E606.
        as_of: the decision date; a member born after it, or a current group
            recognised after it, is E615.
        household: keep only the households with this id (``explain``): every row
            with it, so a repeated id is still found; the others are skipped unchecked.

    Returns:
        The counts loaded, the source, and warnings (columns ignored).

    Raises:
        InputError: every problem found (E603-E606, E614, E615), the first 200
            listed.
    """
    started = time.perf_counter()
    source = open_source(path)
    schema = {level: input_columns(fields, level) for level in Level}
    for columns in schema.values():
        tree(columns)  # refuses ids nested under one another, whatever the format
    known = sorted(known_counties) if known_counties is not None else None
    _reset(con)
    materialize = source.format in ("jsonl", "json", "csv")
    with tempfile.TemporaryDirectory(prefix="jiuzhu-") as scratch, _in_file_order(con):
        try:
            only = only_of(county, household)
            staged = stage(con, source, schema, only, Path(scratch))
            deferred = defer_repeats and defers_repeats(staged)
            check(con, staged, schema, known, as_of, repeats=not deferred)
            _build(con, staged, schema, "TABLE" if materialize else "VIEW")
            everyone = 0 if only.everyone else scalar(con, f"SELECT count(*) FROM {staged.everyone}")
        except duckdb.InvalidInputException as error:  # text that is not UTF-8, say
            _reset(con)
            raise unreadable(
                "家庭数据文件中有无法读取的内容",
                source.path,
                found=first_line(error),
                expected="UTF-8 编码的文本和有效的取值",
                hint="用导出工具重新导出该文件（文本为 UTF-8 编码）",
            ) from None
        except BaseException:
            _reset(con)
            raise
        finally:
            if materialize:
                _drop(con, STAGING)
    counts = [scalar(con, f"SELECT count(*) FROM {TABLES[level]}") for level in Level]
    logger.info(
        "已读入 %d 户、%d 名成员、%d 条事件（%s），%.2f 秒",
        *counts,
        source.path,
        time.perf_counter() - started,
    )
    def recheck() -> None:
        check(con, staged, schema, known, as_of)

    return LoadedInput(
        counts[0], counts[1], counts[2], source.describe(), staged.warnings,
        recheck if deferred else None, max(0, everyone - counts[0]), staged.places,
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
    county: str | Collection[str] | None = None,
    known_counties: Collection[str] | None = None,
    as_of: date | None = None,
    household: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield contract-shaped households (nested dicts) in input order; with
    ``household``, only those with that id (as ``load_households`` keeps them).

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
        yield from json_households(source, only_of(county, household))
        return
    con = duckdb.connect()
    try:
        fields = fields if fields is not None else _inferred_fields(con, source)
        load_households(
            con, path, fields, county=county, known_counties=known_counties, as_of=as_of,
            household=household,
        )
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


_NESTED_ONE = """
SELECT h,
       (SELECT list(m ORDER BY m._member_index) FROM jz_members m
        WHERE m.household_id = $id),
       (SELECT list(e ORDER BY e._event_index) FROM jz_events e
        WHERE e.household_id = $id)
FROM jz_households h WHERE h.household_id = $id
"""


def loaded_household(
    con: duckdb.DuckDBPyConnection, household_id: str
) -> dict[str, Any] | None:
    """The household ``household_id`` as ``iter_households`` yields it, taken from the
    households ``load_households`` left on ``con``; None when there is none.

    Explaining one household of a loaded file this way reads nothing again (the
    console's preview: nesting a 20,000-household file to find one took up to 11 s).
    """
    found = con.execute(_NESTED_ONE, {"id": household_id}).fetchone()
    if found is None:
        return None
    household, members, events = found
    nested = _nest(household, Level.HOUSEHOLD)
    nested["members"] = [_nest(m, Level.MEMBER) for m in members or []]
    nested["events"] = [_nest(e, Level.EVENT) for e in events or []]
    return nested


def _nest(row: dict[str, Any], level: Level) -> dict[str, Any]:
    """A flat row keyed by field id as the nested object the contract writes."""
    nested: dict[str, Any] = {}
    for name, value in row.items():
        if name.startswith("_") or (
            level is not Level.HOUSEHOLD and name == "household_id"
        ):
            continue
        *parents, leaf = Column(name, "", level, TEXT).key
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def _inferred_fields(
    con: duckdb.DuckDBPyConnection, source: Source
) -> dict[str, Field]:
    """Fields read off the column types of Parquet or DuckDB input."""
    if source.format == "csv":
        raise unreadable(
            "读取 CSV 家庭数据需要字段定义",
            source.path,
            hint="传入工作簿的字段（fields），以便按类型读取各列",
        )
    sources, _ = native_sources(con, source)
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
