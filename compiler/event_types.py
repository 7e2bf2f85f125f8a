"""W602: event types no rule of a county's tables names.

A misspelt type (「unemployment_registraton」, 「失业登记」) raised no alert and said
nothing, and neither did a type only another county's tables name. ``evaluate`` and the
service both ask ``unknown_event_types`` about their loaded events; a warning is placed
at one such event of the file the user wrote (a CSV's line and column, a JSON record's
path, a Parquet row).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import NamedTuple

import duckdb

from compiler.diagnostics import Diagnostic, Location, make
from compiler.errors import InputError
from compiler.expr import Compare, Disjunction, Literal, Name, NullTest
from compiler.households_csv import rows_of
from compiler.households_model import (
    TEXT,
    Column,
    Places,
    Source,
    chinese_names,
    input_columns,
)
from compiler.model import Level
from compiler.vocabulary import EVENT_CN


def unknown_event_types(
    con: duckdb.DuckDBPyConnection,
    plans: list,  # type: ignore[type-arg]
    events: str = "jz_events",
    households: str = "jz_households",
    places: Places | None = None,
) -> list[Diagnostic]:
    """W602 for event types no rule of the event's county's tables names: a misspelt
    type (「unemployment_registraton」, 「失业登记」) raised no alert and said nothing,
    and neither did a type another county added. A county is checked only when every
    rule of its tables that tests ``event.type`` names its types (a "-" or a not()
    accepts types no one can list). ``events``, ``households``: the loaded input, or
    relations of some of it with the same columns (the service's, one request's).
    With ``places`` (the loaded file's) each is placed at one such event: a CSV's
    line and column as written, whose cell also says how the type was written."""
    plans = list({id(p): p for p in plans}.values())
    named = {p.rulebook.county_code: _types_named(p) for p in plans}
    known = {county: types for county, types in named.items() if types}
    if not known:
        return []
    anywhere = sorted(set().union(*known.values()))
    counties = sorted(known)
    rows = con.execute(
        'SELECT e."event.type", CASE WHEN list_contains($anywhere, e."event.type")'
        " THEN h.county_code END, count(*),"
        " min(struct_pack(h := e.household_id, i := e._event_index))"
        f" FROM {events} e JOIN {households} h USING (household_id)"
        " JOIN (SELECT unnest($counties) AS county_code, unnest($known) AS known) k"
        " USING (county_code)"
        ' WHERE e."event.type" IS NOT NULL AND NOT list_contains(k.known, e."event.type")'
        " GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 20",
        {"anywhere": anywhere, "counties": counties,
         "known": [sorted(known[c]) for c in counties]},
    ).fetchall()
    names = {p.rulebook.county_code: p.rulebook.county_name for p in plans}
    firsts = [(first["h"], first["i"]) for *_, first in rows]
    found = _event_places(con, places, firsts, plans[0].rulebook.fields, households)
    spreadsheet = places is not None and places.source.format == "csv"
    return [
        _unknown_type(
            kind,
            county,
            names.get(county, ""),
            n,
            first["h"],
            known[county] if county else set(anywhere),
            found.get((first["h"], first["i"]), _NOWHERE),
            spreadsheet,
        )
        for kind, county, n, first in rows
    ]


class _EventPlace(NamedTuple):
    """Where an event is, and its type as the file writes it (None: as loaded)."""

    where: Location
    written: str | None = None


_NOWHERE = _EventPlace(Location())


def _event_places(
    con: duckdb.DuckDBPyConnection,
    places: Places | None,
    firsts: list[tuple[str, int]],
    fields: dict,  # type: ignore[type-arg]
    households: str,
) -> dict[tuple[str, int], _EventPlace]:
    """Where each event (household id, ``_event_index``) is in the loaded file: a
    CSV's line and the type column's header as written, its cell too; a JSON
    record's path; a Parquet or DuckDB file's row (the index is the file row)."""
    if places is None or not firsts:
        return {}
    source = places.source
    file = str(source.file_of(Level.EVENT))
    if source.format == "json" or source.format == "jsonl":
        rows = con.execute(
            f"SELECT household_id, _hh_index FROM {households}"
            " WHERE list_contains($ids, household_id)",
            {"ids": sorted({h for h, _ in firsts})},
        ).fetchall()
        index = dict(rows)
        return {
            (h, i): _EventPlace(
                Location(file, cell=places.record(index[h], f"$.events[{i}].type"))
            )
            for h, i in firsts
            if h in index
        }
    columns = input_columns(fields, Level.EVENT)
    spellings = ("event.type", "type", *chinese_names(columns).get("event.type", ()))
    if source.format == "csv":
        try:
            header, rows_found = rows_of(Path(file), spellings, firsts)
        except (OSError, InputError, csv.Error):
            return {}  # read once already: placed by its file alone, it is still said
        column = header or "event.type"
        placed = {
            key: _EventPlace(Location(file, cell=f"第{line}行 {column}"), cell or None)
            for key, (line, cell) in rows_found.items()
        }
        alone = _EventPlace(Location(file, cell=column))  # a row not found again
        return {key: placed.get(key, alone) for key in firsts}
    typed = Column(_header_of(con, source, spellings), "事件类型", Level.EVENT, TEXT)
    return {(h, i): _EventPlace(places.locate(typed, i, None)) for h, i in firsts}


def _header_of(
    con: duckdb.DuckDBPyConnection, source: Source, spellings: tuple[str, ...]
) -> str:
    """The events Parquet file's column of the type as named there (type, 事件类型);
    event.type for a DuckDB file's table or when it cannot be told."""
    if source.format != "parquet":
        return "event.type"
    try:
        described = con.execute(
            "SELECT * FROM read_parquet($p) LIMIT 0",
            {"p": str(source.file_of(Level.EVENT))},
        ).description
        names = [d[0] for d in described]
    except duckdb.Error:
        return "event.type"
    wanted = {s.casefold() for s in spellings}
    return next((n for n in names if n.casefold() in wanted), "event.type")


def _unknown_type(
    kind: str,
    county: str | None,
    name: str,
    n: int,
    household: str,
    known: set[str],
    place: _EventPlace = _NOWHERE,
    spreadsheet: bool = False,
) -> Diagnostic:
    """W602 for one type: no table names it (``county`` None), or only other counties'.
    A CSV (``spreadsheet``) takes the province's types by their Chinese names too:
    the hint and the types listed follow the form the file wrote it in."""
    written = place.written or kind
    shown = f"「{kind}」" if written == kind else f"「{written}」（{kind}）"
    where = "没有任何决策表的规则使用"
    hint = _event_type_hint(written, known, spreadsheet)
    if county is not None:
        where = f"在 {county} {name}的决策表中没有规则使用（其他县的决策表有）"
        hint = (
            f"「{written}」是其他县的决策表使用的事件类型；{county} 若也要对它预警，须在本县"
            "「监测预警」表中加规则；否则核对该户的县（市、区）代码"
        )
    return make(
        "W602",
        f"事件类型{shown}{where}，这 {n} 个事件不产生预警（如家庭 {household}）",
        place.where,
        found=written,
        expected=_types_listed(known, written, spreadsheet),
        hint=hint,
        county=county,
    )


def _chinese(text: str) -> bool:
    return any("\u3400" <= c <= "\u9fff" for c in text)


def _types_listed(known: set[str], written: str, spreadsheet: bool) -> str:
    """The types the tables name; in a CSV each with its Chinese name, which it may
    hold instead, first when the file wrote the type in Chinese."""
    if not spreadsheet:
        return "决策表中的事件类型之一：" + "、".join(sorted(known))
    chinese = _chinese(written)
    listed = [
        ident
        if ident not in EVENT_CN
        else f"{EVENT_CN[ident]}（{ident}）"
        if chinese
        else f"{ident}（{EVENT_CN[ident]}）"
        for ident in sorted(known)
    ]
    return "决策表中的事件类型之一（中文名称或标识均可）：" + "、".join(listed)


def _types_named(plan) -> set[str] | None:  # type: ignore[no-untyped-def]
    """The event types the rules of ``plan`` that test ``event.type`` name; None when
    one of them accepts types it does not name."""
    known: set[str] = set()
    for table in plan.tables.values():
        for i, column in enumerate(table.inputs):
            if column.expr != Name("event.type"):
                continue
            for rule in table.rules:
                named = _named_texts(rule.tests[i])
                if named is None:
                    return None
                known |= named
    return known


def _event_type_hint(written: str, known: set[str], spreadsheet: bool = False) -> str:
    """「是否想写「unemployment_registration」？」 for a Chinese name or a near miss,
    in the form the input takes: a CSV a province type's Chinese name (失业人员登记)
    where one was written, any other input the identifier only."""
    import difflib

    by_name = {cn: ident for ident, cn in EVENT_CN.items() if ident in known}
    named = difflib.get_close_matches(written.strip(), sorted(by_name), n=1, cutoff=0.6)
    spelt = difflib.get_close_matches(
        written.strip().lower(), sorted(known), n=1, cutoff=0.8
    )
    only_ids = (
        ""
        if spreadsheet or not _chinese(written)
        else "JSON、Parquet 和 DuckDB 中的事件类型须写标识，不接受中文名称；"
    )
    if named and spreadsheet:
        said = f"是否想写「{named[0]}」（{by_name[named[0]]}）？"
    elif named:
        said = f"是否想写「{by_name[named[0]]}」（{named[0]}）？{only_ids}"
    elif spelt:
        said = f"是否想写「{spelt[0]}」？"
    else:
        said = f"检查事件类型是否写错（须与决策表中的写法完全一致）；{only_ids}"
    return said + "县里新增的事件类型须在「监测预警」表中加规则"


def _named_texts(test: object) -> set[str] | None:
    """The texts a test on ``event.type`` names (= "a", or "a", "b"); None when it
    accepts texts it does not name ("-", not(...), a comparison with a name)."""
    if isinstance(test, Disjunction):
        found: set[str] = set()
        for part in test.tests:
            named = _named_texts(part)
            if named is None:
                return None
            found |= named
        return found
    if isinstance(test, Compare) and test.op == "=" and isinstance(test.operand, Literal):
        return {str(test.operand.value)}
    if isinstance(test, NullTest):
        return set()
    return None
