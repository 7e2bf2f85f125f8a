"""JSON numbers that binary floating point does not hold as written: found in the text.

DuckDB reads a JSON number as a double, so the loader checks the double's digits, not
the ones written: ``1e-400`` reads as ``0.0``, ``1.00000000000000000001`` as ``1.0``,
``123456789012345678`` as ``123456789012345680``; each would be accepted as another
amount. A double holds a number of 15 significant digits exactly unless it is too
small for one (below 1e-307), and DuckDB then renders those digits, which the check
reads exactly (``1e-05`` as five decimals). ``inexact_numbers`` asks DuckDB for the
records whose text has a number of 16 significant digits or more, an exponent of
three digits or 290 zeros under a key of a declared number (one pass over the file,
2.2 s for 200,000 households in 343 MB; exports that pad numbers with zeros,
``13740.940000000000``, are not suspected), reads those in Python with exact
decimals, and gives E603 for each declared number among them that has more decimals
than its kind keeps (``decimals``) or more digits than a double holds (``precision``:
write it as a string). A number that may be too large for its kind (13 digits before
its point, or a positive exponent) is read so too, and one that is gets E614
(``large``) quoted by ``number_text``, as the service quotes the same number: DuckDB
keeps ``1e400``, past what a double holds, as written, which the check took for no
number (E603), and shows ``1e20`` as ``1e+20``. Any other value is left to the check.
"""

from __future__ import annotations

import decimal
import json
import re
from collections.abc import Iterator
from decimal import Decimal

import duckdb

from compiler.diagnostics import Diagnostic, Location
from compiler.households_model import (
    LISTS,
    MAX_PROBLEMS,
    READ_ERRORS,
    Column,
    Only,
    Places,
    Schema,
    Source,
    largest,
)
from compiler.households_values import value_diagnostic
from compiler.model import SCALES, Kind, Level

# after a key, a JSON number with 16 characters or more from its first digit that is
# not 0 to its last (15 significant digits at least), an exponent of three digits, or
# a run of 290 zeros (a double is no longer exact near 1e-308); or one that may be
# too large for its kind (a percent holds less than 10^12): 13 digits before its
# point, or a positive exponent
_NUMBER = (
    r'"[ \t\r\n]*:[ \t\r\n]*-?'
    r"([0.]*[1-9][0-9.]{14,}[1-9]|[0-9.]+[eE][-+]?[0-9]{3,}|[0.]{290,}"
    r"|[1-9][0-9]{12,}|[0-9.]+[eE]\+?[0-9]+)"
)


def inexact_numbers(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    schema: Schema,
    only: Only,
    places: Places,
) -> list[Diagnostic]:
    """E603 for each declared number of a JSON file, in the households ``only`` keeps, that
    its field cannot hold as written; at most ``MAX_PROBLEMS``."""
    numeric = {
        level: [c for c in columns if c.dtype.kind in SCALES]
        for level, columns in schema.items()
    }
    problems: list[Diagnostic] = []
    for row, record in _suspects(con, source, numeric, only):
        for column, position, value, kind in _inexact(record, numeric):
            path = column.json_path(position)
            where = Location(file=str(source.path), cell=places.record(row, path))
            label = f"「{column.name_cn}」（{column.id}）"
            shown = number_text(value) if kind == "large" else str(value)
            problems.append(value_diagnostic(kind, column, label, where, shown))
            if len(problems) >= MAX_PROBLEMS:
                return problems
    return problems


def _suspects(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    numeric: dict[Level, list[Column]],
    only: Only,
) -> Iterator[tuple[int, dict[str, object]]]:
    """(record index, record read exactly) for each household ``only`` keeps whose
    text has a number the pattern suspects."""
    keys = sorted({c.key[-1] for columns in numeric.values() for c in columns})
    if not keys:
        return
    read = {
        "p": str(source.path),
        "f": "newline_delimited" if source.format == "jsonl" else "array",
        "r": '"(' + "|".join(re.escape(k) for k in keys) + ")" + _NUMBER,
    }
    objects = "read_json_objects($p, format = $f)"
    try:
        found = con.execute(
            f"SELECT bool_or(regexp_matches(json, $r)) FROM {objects}", read
        ).fetchall()
        if not found[0][0]:
            return
        # the numbering keeps only the suspect records' text
        result = con.execute(
            "SELECT r, j FROM (SELECT row_number() OVER () - 1 AS r, CASE WHEN "
            f"regexp_matches(json, $r) THEN json END AS j FROM {objects}) "
            "WHERE j IS NOT NULL ORDER BY r",
            read,
        )
        rows = result.fetchall()
    except READ_ERRORS:
        return  # the file cannot be read: the load says why
    for row, text in rows:
        record = _parsed(text)
        if not isinstance(record, dict):
            continue
        if only.keeps(record):
            yield row, record


def _parsed(text: str) -> object:
    """A record with exact numbers; None when Python cannot read what DuckDB did."""
    try:
        # DuckDB has read the record, so no key repeats in it
        return json.loads(text, parse_float=Decimal, parse_int=Decimal)
    except (ValueError, RecursionError):
        return None


def _inexact(
    record: dict[str, object], numeric: dict[Level, list[Column]]
) -> Iterator[tuple[Column, int | None, Decimal, str]]:
    """(column, position in its list, value, problem) for each number of a household
    that its field cannot hold as written."""
    places: list[tuple[Level, int | None, object]] = [(Level.HOUSEHOLD, None, record)]
    for level, name in LISTS.items():
        items = record.get(name)
        if isinstance(items, list):
            places += [(level, i, item) for i, item in enumerate(items)]
    for level, position, item in places:
        for column in numeric[level]:
            value = _at(item, column.key)
            # the others are read exactly by the check (the pattern's test, cheaply)
            if isinstance(value, Decimal) and (
                len(str(value)) > 15
                or "E" in str(value)
                or value.copy_abs() >= largest(column.dtype.kind)
            ):
                problem = number_problem(value, column.dtype.kind)
                if problem is not None:
                    yield column, position, value, problem


def _at(item: object, key: tuple[str, ...]) -> object:
    for part in key:
        item = item.get(part) if isinstance(item, dict) else None
    return item


def number_problem(value: Decimal, kind: Kind) -> str | None:
    """``large`` for a number too large for ``kind``, ``decimals`` for one with more
    decimals than it keeps, ``precision`` for one a double does not hold exactly;
    None for one that reads as written."""
    if not value.is_finite():
        return None
    if value.copy_abs() >= largest(kind):
        return "large"
    _, digits, exponent = value.as_tuple()
    if not any(digits):
        return None  # a zero, however many zeros follow its point
    assert isinstance(exponent, int)  # a finite number's
    trailing = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    if -(exponent + trailing) > SCALES[kind]:  # the decimals the number needs
        return "decimals"
    if Decimal(repr(float(value))) != value:
        return "precision"
    return None


# normalize() within Python's default exponent limits (±999,999) overflows on a JSON
# number such as 1e999999999, and takes 1e-999999999 to zero
_UNBOUNDED = decimal.Context(
    prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN
)


def number_text(value: Decimal) -> str:
    """An exact number as digits (``1E+3`` is ``1000``), or, past what any field
    holds, in the exponent form DuckDB renders a double in (``1e+400``): how the
    loader reads a number the service passes on, and how a message quotes a JSON
    number too large for its field, whichever way it came."""
    if not value or -30 <= value.adjusted() <= 40:
        return format(value, "f")
    return format(value.normalize(_UNBOUNDED), "e")


__all__ = ["inexact_numbers", "number_problem", "number_text"]
