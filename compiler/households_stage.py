"""Staging: an input file as raw relations, ready to be checked and built.

``stage`` goes by the format: JSON to ``households_json.stage_json``; CSV is copied
into tables by ``households_csv`` (a GB18030 file through a UTF-8 copy in
``scratch``); Parquet files and
DuckDB tables stay where they are, behind views. Every format leaves the relations
named by ``RAW`` (columns ``_row``, ``_pos``, ``_hid`` and the raw values) and returns
a ``Staged`` saying how to reach each column's raw value; CSV, Parquet and DuckDB
columns that are no declared field become warnings. A file that cannot be read raises
``InputError`` (E605).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from compiler import logger
from compiler.diagnostics import Diagnostic, Location, make
from compiler.errors import InputError
from compiler.households_csv import Mended, read_csv_file, utf8
from compiler.households_enums import as_identifier
from compiler.households_json import not_strings, stage_json
from compiler.households_keys import structure_of, undeclared_in_file
from compiler.households_likely import unknown_columns
from compiler.households_links import absent_key, is_link, rename_keys
from compiler.households_model import (
    ALL,
    FAST,
    INDEXES,
    LISTS,
    RAW,
    READ_ERRORS,
    SOURCE_NAMES,
    Column,
    Family,
    Only,
    Places,
    Schema,
    Source,
    Staged,
    chinese_names,
    first_line,
    unreadable,
)
from compiler.households_numbers import inexact_numbers
from compiler.households_spelling import Spellings, is_struct
from compiler.households_units import split_unit, unit_agrees, unit_base, unit_problem
from compiler.model import Level
from compiler.sqlgen import quote, string


def stage(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    schema: Schema,
    only: Only,
    scratch: Path,
) -> Staged:
    """The raw relations of ``source``, only the households ``only`` keeps."""
    if source.format in ("jsonl", "json"):
        # the keys of the households kept only: explain's other households are unchecked
        structure, kept = structure_of(con, source, only)
        staged = stage_json(con, source, schema, only, not_strings(structure, schema))
        warnings, staged.errors = undeclared_in_file(con, source, schema, kept, only)
        staged.warnings.extend(warnings)
        # numbers a double changed before the check sees them (1e-400 reads as 0.0)
        staged.errors += inexact_numbers(con, source, schema, only, staged.places)
        return staged
    if source.format == "csv":
        return _stage_csv(con, source, schema, only, scratch)
    sources, row = native_sources(con, source)
    return _stage_tabular(
        con, source, schema, only, sources, row, Family(native=True)
    )


def _stage_csv(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    schema: Schema,
    only: Only,
    scratch: Path,
) -> Staged:
    sources: dict[Level, str | None] = {}
    mended: dict[Level, Mended] = {}
    for level, path in source.files.items():
        table = f"_jz_src_{SOURCE_NAMES[level]}"
        if path is not None:
            found = read_csv_file(con, table, utf8(path, scratch), path, mend=True)
            if found is not None:
                mended[level] = found
            rename_keys(con, table, level, path)  # 户编号 is household_id
        sources[level] = table if path is not None else None
    staged = _stage_tabular(
        con, source, schema, only, sources, "rowid", Family(native=False, spreadsheet=True)
    )
    for level, found in mended.items():
        # a stray quote is passed over in a column no field has only: a declared
        # field's value (or a key's) must be read exactly as written
        if any(_read_column(staged, schema[level], header) for _, header, _ in found.cells):
            raise found.refusal
        staged.warnings[:0] = found.warnings(source.file_of(level))
    return staged


def _read_column(staged: Staged, columns: list[Column], header: str) -> bool:
    """Whether the CSV column ``header`` is read: a key linking the files, or the
    column some field's value is taken from."""
    names = {header, header.strip()}
    if names & {"household_id", "county_code"} or is_link(header):
        return True
    return any(quote(n) in staged.access(c) for c in columns for n in names)


def native_sources(
    con: duckdb.DuckDBPyConnection, source: Source
) -> tuple[dict[Level, str | None], str]:
    """The Parquet files or DuckDB tables as relations, and their row-number column."""
    if source.format == "parquet":
        sources: dict[Level, str | None] = {}
        for level, path in source.files.items():
            sources[level] = None if path is None else f"_jz_src_{SOURCE_NAMES[level]}"
            if path is not None:
                _no_row_number_column(con, path)
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
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_catalog = '_jz_src'"
    ).fetchall()
    tables = {row[0] for row in listed}
    views = sorted(row[0] for row in listed if row[0] in SOURCE_NAMES.values() and row[1] == "VIEW")
    if views:  # a view has no row numbers: the order of its rows is not the file's
        raise unreadable(
            f"DuckDB 数据库中的 {'、'.join(views)} 是视图",
            source.path,
            found="视图（VIEW）",
            expected="表（TABLE），如 CREATE TABLE households AS SELECT …",
        )
    for name in ("households", "members"):
        if name not in tables:
            raise unreadable(
                f"DuckDB 数据库中没有 {name} 表",
                source.path,
                found="、".join(sorted(tables)),
                expected="households、members 表（events 表可选）",
            )
    names = {level: n for level, n in SOURCE_NAMES.items() if n in tables}
    sources = {}
    for level in Level:
        if level not in names:
            sources[level] = None
            continue
        # a column declared with a collation (COLLATE NOCASE, NFC, ...) compares by it
        # wherever it is read, and a member of "h1" joined household "H1": every text
        # column is read as its bytes, as a Parquet or CSV file's is
        table = f"_jz_src.{quote(names[level])}"
        described = con.execute(f"DESCRIBE {table}").fetchall()
        for name in ("rowid", "_jz_rowid"):
            if any(row[0].lower() == name for row in described):
                raise unreadable(
                    f"DuckDB 数据库的 {names[level]} 表中有名为「{name}」的列",
                    source.path,
                    found=name,
                    expected="其他列名：rowid 是 DuckDB 的行号，决策按它保持表中各行的顺序",
                    hint=f"改名后再读入，如 ALTER TABLE {names[level]} RENAME COLUMN {name} TO 原行号",
                )
        columns = ", ".join(
            f"{quote(row[0])} COLLATE POSIX AS {quote(row[0])}" if row[1] == "VARCHAR"
            else quote(row[0])
            for row in described
        )
        sources[level] = f"_jz_src_{SOURCE_NAMES[level]}"
        con.execute(
            f"CREATE VIEW {sources[level]} AS SELECT rowid AS _jz_rowid, {columns} FROM {table}"
        )
    return sources, "_jz_rowid"


def _no_row_number_column(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """E605 for a Parquet file with a column named file_row_number: DuckDB's reader
    adds its own of that name (the row number that keeps the file's order)."""
    try:
        described = con.execute(
            f"DESCRIBE SELECT * FROM read_parquet({string(str(path))})"
        ).fetchall()
    except READ_ERRORS:
        return  # the file is unreadable: the next step says so
    if any(row[0].lower() == "file_row_number" for row in described):
        raise unreadable(
            f"{path.name} 中有名为「file_row_number」的列",
            path,
            found="file_row_number",
            expected="其他列名：file_row_number 是读取时加上的行号，决策按它保持文件中各行的顺序",
            hint="改名后重新写出该 Parquet 文件",
        )


# DuckDB's reasons for not reading a file, as a county official would say them; any
# other reason is quoted as DuckDB gives it (and logged)
_READ_ERRORS_CN = (
    ("no magic bytes found at end of file", "不是完整的 Parquet 文件：文件末尾没有 Parquet 的结束标记（可能没有写完、被截断或已损坏）"),
    ("not a valid duckdb database file", "不是 DuckDB 数据库文件"),
    ("the file is not a valid", "文件已损坏或不是所说的格式"),
    ("could not set lock on file", "文件正被另一个程序打开"),
    ("no files found that match the pattern", "文件不存在"),
)


def _read_error_cn(error: Exception) -> str:
    """Why DuckDB could not read the file, in Chinese where the reason is a known one
    (「No magic bytes found at end of file」 reached the console as it was; helper-46)."""
    said = first_line(error)
    for english, chinese in _READ_ERRORS_CN:
        if english in said.lower():
            logger.info("DuckDB 无法读取该文件：%s", said)
            return chinese
    return said


def _attempt(con: duckdb.DuckDBPyConnection, sql: str, path: Path) -> None:
    try:
        con.execute(sql)
    except READ_ERRORS as error:
        # another process has the DuckDB file open ("Could not set lock on file ...
        # Conflicting lock is held"); a damaged file's "checksum ... in block" is no lock
        said = str(error).lower()
        locked = "lock on file" in said or "conflicting lock" in said
        raise unreadable(
            "家庭数据文件正被另一个程序打开，无法读取" if locked else "家庭数据文件无法读取",
            path,
            found=_read_error_cn(error),
            hint="关闭正在写入该文件的程序（如另一个 DuckDB 或 jiuzhu）后重试"
            if locked else "确认文件完整、格式与扩展名一致",
        ) from None


def _stage_tabular(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    schema: Schema,
    only: Only,
    sources: dict[Level, str | None],
    row: str,
    family: Family,
) -> Staged:
    """Relations with ``_row``, ``_pos`` and ``_hid`` over one file (or table) per
    level; members and events numbered within their household, in a table when the
    input is copied anyway (CSV) so the numbering is done once."""
    described = {level: _columns_of(con, relation) for level, relation in sources.items()}
    present = {
        level: {c: t for c, t in columns.items() if c != row} for level, columns in described.items()
    }
    # a STRUCT column's fields (assets STRUCT(money, ...), as DuckDB's read_json and
    # pandas write them) are read as the dotted columns they are (assets.money)
    nested = {
        level: _struct_fields(con, relation, present[level]) for level, relation in sources.items()
    }
    for level, relation in sources.items():
        hid = "NULL"
        if "household_id" in present[level]:
            hid = family.text(quote("household_id"))
        # a column of the file named like one of ours is left out (it is no field)
        ours = sorted({row, *_INTERNAL} & described[level].keys())
        rest = f"* EXCLUDE ({', '.join(quote(c) for c in ours)})" if ours else "*"
        body = f"SELECT {row} AS _row, {hid} AS _hid, {rest} FROM {relation}"
        if only.household is not None:
            # every level, so the checks over the whole file (a repeated household id,
            # a member of no household) see only this id's rows
            body += f" WHERE {hid} = {string(only.household)}"
        if relation is None:
            body = "SELECT CAST(NULL AS BIGINT) AS _row, CAST(NULL AS VARCHAR) AS _hid LIMIT 0"
        con.execute(f"CREATE VIEW {ALL[level]} AS {body}")
    code = (
        family.text(quote("county_code"))
        if "county_code" in present[Level.HOUSEHOLD]
        else "NULL"
    )
    con.execute(
        "CREATE VIEW _jz_raw_households AS SELECT *, _row AS _pos "
        f"FROM _jz_all_households{only.where(code, '_hid')}"
    )
    kind = "VIEW" if family.native else "TABLE"
    # a view is read several times: it orders members by their file row (the same order
    # within a household) instead of numbering them with a window at every read
    position = "_row" if family.native else "row_number() OVER (PARTITION BY _hid ORDER BY _row) - 1"
    for level in LISTS:
        con.execute(
            f"CREATE {kind} {RAW[level]} AS SELECT *, {position} AS _pos FROM {ALL[level]} "
            "WHERE _hid IN (SELECT _hid FROM _jz_raw_households)"
        )
    built = dict(RAW)
    if family.native and only.everyone:
        # with no filter, a member of no household stops the load as an orphan,
        # so the checks and the views the program reads need not look each household
        # up again (an orphan's other problems are then listed with it)
        for level in LISTS:
            built[level] = FAST[level]
            con.execute(f"CREATE VIEW {FAST[level]} AS SELECT *, _row AS _pos FROM {ALL[level]}")
    warnings: list[str] = []
    access, source_type = _tabular_access(present, schema, source, warnings, nested)
    return Staged(
        family, access, Places(source), linked=True, warnings=warnings, built=built,
        source_type=source_type,
    )


# The columns the staging views read by name (to link members and events to their
# household, to keep one county): matched exactly, never by letter case or Chinese name.
_KEYS = ("household_id", "county_code")

# The columns the staging views add; a file's column of the same name would hide ours.
_INTERNAL = ("_row", "_hid", "_pos")


def _columns_of(con: duckdb.DuckDBPyConnection, relation: str | None) -> dict[str, str]:
    """A relation's columns and their DuckDB types."""
    if relation is None:
        return {}
    described = con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()
    return {row[0]: row[1] for row in described}


def _struct_fields(
    con: duckdb.DuckDBPyConnection, relation: str | None, columns: dict[str, str]
) -> dict[str, tuple[str, str]]:
    """``{"assets.money": ('"assets"."money"', "DECIMAL(18,2)")}``: each field of each
    STRUCT column, at any depth (a STRUCT inside one too), by its dotted name, with
    the SQL that reads it and its type; a list of STRUCTs is no STRUCT."""
    fields: dict[str, tuple[str, str]] = {}
    if relation is None:
        return fields
    structs = [(n, quote(n)) for n, t in columns.items() if is_struct(t)]
    while structs:
        name, sql = structs.pop(0)
        inside = f"(SELECT _v.* FROM (SELECT {sql} AS _v FROM {relation}))"
        for field, field_type in _columns_of(con, inside).items():
            dotted, access = f"{name}.{field}", f"{sql}.{quote(field)}"
            fields[dotted] = (access, field_type)
            if is_struct(field_type):
                structs.append((dotted, access))
    return fields


def _tabular_access(
    present: dict[Level, dict[str, str]],
    schema: Schema,
    source: Source,
    warnings: list[str],
    nested: dict[Level, dict[str, tuple[str, str]]],
) -> tuple[Callable[[Column], str], Callable[[Column], str | None]]:
    """Find each column in its file (``event.type`` may be written ``type``), or as a
    field of a STRUCT column (``nested``); warn of columns that are no declared field."""
    found: dict[tuple[Level, str], str] = {}
    absent: list[Diagnostic] = []
    csv = source.format == "csv"
    spellings = Spellings(schema)
    homes = _homes(source)
    for level, columns in schema.items():
        # 「households 表中」, 「members.csv 中」
        where = (
            f"{SOURCE_NAMES[level]} 表" if source.format == "duckdb" else f"{source.file_of(level).name} "
        )
        file, header = source.file_of(level), list(present[level])
        said_cn = chinese_names(columns)
        unit_names, refused = _with_units(
            columns, said_cn, present[level], absent, file, where
        )
        # a header may name a field in other letter case (Income.Wage) or by its
        # Chinese name in the 字段 sheet (工资性收入; an event's without 事件, as
        # ``type`` is event.type: 成员编号), as a spreadsheet's header would
        folded = {n.casefold(): n for n in reversed([*present[level], *nested[level]])}
        doubled: set[str] = set()
        for column in columns:
            names = [
                n for n in (column.id, ".".join(column.key))
                if n in present[level] or n in nested[level]
            ] + [
                folded[n.casefold()] for n in (column.id, *said_cn[column.id])
                # the keys that link the files are read by their exact names, as staged
                if n.casefold() in folded and column.id not in _KEYS
            ] + unit_names.get(column.id, [])
            distinct = list(dict.fromkeys(names))
            for n in [n for n in distinct if n in present[level] and n in nested[level]]:
                # a flat column and a STRUCT's field by one dotted name: both hold it
                distinct[distinct.index(n)] = f"{n}（列）"
                distinct.append(f"{n.split('.', 1)[0]} 结构中的 {n.split('.', 1)[1]}")
            if len(distinct) > 1:  # which one holds the value? (assets.money and 货币财产)
                absent.append(_twice(where, column.name_cn, column.id, file, distinct))
                doubled.update(names)  # no other problem of theirs to name
            elif names:
                found[(level, column.id)] = names[0]
            elif column.required and present[level]:
                absent.append(_absent(where, column.name_cn, column.id, file, header, csv))
        if level in LISTS and present[level] and "household_id" not in present[level]:
            absent.append(_absent(where, "户编号", "household_id", file, header, csv))
        elif level in LISTS and present[level]:
            found[(level, "household_id")] = "household_id"  # its type is checked too
        # the level's order column (written by jiuzhu synth) is ours: rows keep file order
        used = {found.get((level, c.id)) for c in columns} | refused | doubled | {
            "household_id",
            "file_row_number",
            INDEXES[level],
        }
        # a STRUCT column is used when a field of it is; its other fields are named,
        # each by its outermost STRUCT that is not used (assets.detail, not its fields)
        used |= {a for n in used if n in nested[level] for a in _outer(n)}
        types = {**present[level], **{n: t for n, (_, t) in nested[level].items()}}
        unread = {n: t for n, t in types.items() if n not in used}
        spelt = spellings.column_problems(
            level, unread, file, where, source.format != "csv", homes
        )
        absent += spelt
        spelt_names = {d.location.cell for d in spelt}
        unknown = sorted(
            n for n in unread if not any(a in unread for a in _outer(n)) and n not in spelt_names
        )
        if unknown:  # a column that is a field not read, named another way, is E603
            read = {c.id for c in columns if (level, c.id) in found}
            # an amount of another file's field is no guess here (货币财产合计 in members)
            others = [c for lv, cs in schema.items() if lv is not level for c in cs]
            named_so, warned = unknown_columns(
                columns, read, unknown, file, where, others, homes,
                _supplied(schema, present, nested, level),
            )  # fmt: skip
            absent += named_so
            warnings += warned

    if absent:  # one diagnostic for the column, not one for each of its rows
        raise InputError(absent)

    def access(column: Column) -> str:
        name = found.get((column.level, column.id))
        if name and name not in present[column.level]:
            return nested[column.level][name][0]
        if not name:
            return "NULL"
        # a CSV cell may name an enum value in Chinese (农村): read as its identifier
        return as_identifier(quote(name), column) if csv else quote(name)

    def source_type(column: Column) -> str | None:
        name = found.get((column.level, column.id))
        if name and name not in present[column.level]:
            return nested[column.level][name][1]
        return present[column.level][name] if name else None

    return access, source_type


def _with_units(
    columns: list[Column],
    said_cn: dict[str, tuple[str, ...]],
    header: dict[str, str],
    absent: list[Diagnostic],
    file: Path,
    where: str,
) -> tuple[dict[str, list[str]], set[str]]:
    """The headers that name a field with its unit after it (``工资性收入（元/年）``,
    as Excel users write one), by field, to be read as the field, when the unit is
    the field's own; and those refused (E603, added to ``absent``) when it is not
    (``元/月``, ``万元``): their values would be read at the wrong scale."""
    named: dict[str, list[str]] = {}
    refused: set[str] = set()
    by_base: dict[str, list[tuple[str, str]]] = {}
    for name in header:
        split = split_unit(name)
        if split is not None:
            by_base.setdefault(split[0].casefold(), []).append((name, split[1]))
    for column in columns if by_base else []:
        if column.id in _KEYS:
            continue  # the keys that link the files are read by their exact names
        names = (column.id, *said_cn[column.id], ".".join(column.key))
        bases = dict.fromkeys(n.casefold() for n in names)
        for name, unit in [w for base in bases for w in by_base.get(base, [])]:
            if unit_agrees(column, unit):
                named.setdefault(column.id, []).append(name)
            else:
                at = Location(file=str(file), cell=name)
                absent.append(unit_problem(column, name, unit, at, where))
                refused.add(name)
    return named, refused


def _supplied(
    schema: Schema,
    present: dict[Level, dict[str, str]],
    nested: dict[Level, dict[str, tuple[str, str]]],
    level: Level,
) -> set[str]:
    """The ids of the fields of the levels other than ``level`` that their own files
    have a column for, by id, dotted key or Chinese name (a unit after it or not): a
    column of ``level`` resembling one of them is no amount dropped."""
    found = set()
    for other, columns in schema.items():
        if other is level:
            continue
        names = {unit_base(n).casefold() for n in (*present[other], *nested[other])}
        said_cn = chinese_names(columns)
        for column in columns:
            spelt = (column.id, ".".join(column.key), *said_cn[column.id])
            if any(n.casefold() in names for n in spelt):
                found.add(column.id)
    return found


def _homes(source: Source) -> dict[Level, str]:
    """Where each level's rows go, as a message names it: 「x-members.csv」, 「members
    表」 (a file that is not there is named as the households file's sibling)."""
    if source.format == "duckdb":
        return {level: f"{name} 表" for level, name in SOURCE_NAMES.items()}
    name, suffix = source.path.name, source.path.suffix
    base = name[: name.rfind("households")]
    return {level: f"{base}{n}{suffix}" for level, n in SOURCE_NAMES.items()}


def _outer(name: str) -> list[str]:
    """The STRUCTs a field of a STRUCT column lies in, outermost first: assets.a.b
    lies in assets and assets.a."""
    parts = name.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts))]


def _twice(where: str, name_cn: str, ident: str, file: Path, names: list[str]) -> Diagnostic:
    """A field given by two columns: by its identifier and its Chinese name, in two
    letter cases, or flat beside a STRUCT column's field of the same name."""
    return make(
        "E605",
        f"{where}中字段「{name_cn}」（{ident}）有 {len(names)} 列：{'、'.join(names)}",
        Location(file=str(file)),
        found="、".join(names),
        expected="每个字段只有一列",
        hint="程序无法判断哪一列才是要用的：删去多余的一列",
    )


def _absent(
    where: str, name_cn: str, ident: str, file: Path, header: list[str], csv: bool
) -> Diagnostic:
    """A required column the file does not have at all; at a column that most likely
    holds it under another name (家庭编号, 身份证号码: ``households_links``)."""
    named = absent_key(where, name_cn, ident, file, header, csv)
    if named is not None:
        return named
    shown = "、".join(header[:12]) + ("等" if len(header) > 12 else "")
    return make(
        "E604",
        f"{where}中没有必填字段「{name_cn}」（{ident}）这一列",
        Location(file=str(file)),
        found=shown,
        expected=f"表头中有 {ident} 或 {name_cn} 列" if csv else f"表头中有 {ident} 列",
        hint="核对表头的拼写；CSV 的第一行须是列名",
    )


__all__ = ["native_sources", "stage"]
