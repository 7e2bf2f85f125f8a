"""Deciding a large input one batch of households at a time.

The decisions query holds every household's member aggregates and intermediate values
in hash tables at once; at ten million households they took 4.7 GB and a third more
time per household than a batch of a million takes (docs/performance.md, fifth
session). ``decide_in_batches`` instead
decides consecutive ranges of the household file (``_hh_index``) in turn, each from
views over the loaded input, and writes each batch's decisions to a part as soon as it
is decided; the parts, in order, are the decisions in input order. Parts are written
as the output file is and joined as bytes: CSV and JSON Lines one after the other,
Parquet's row groups under one footer (``parquet_join``). Writing ten million
decisions again from the parts took 45 s as CSV and 6-7 s as Parquet; joining takes
0.2 s. Without an output file (or with a summary and CSV or JSON Lines output) the
parts are Parquet, read as one relation.

A batch's members and events are those whose ``household_id`` lies between the
smallest and the largest of the batch's households. When no household outside the
batch falls in that range (the usual case: files written household by household, in
id order) that range is the whole filter, and DuckDB skips the row groups of a sorted
Parquet or DuckDB file outside it; otherwise the members are also looked up among the
batch's households, so that a batch does not compute other batches' members. (Either
way the decisions are the same: every step joins members and events to their
household, and a household outside the batch has no row to join.)

Checks of the whole input (values, repeated household ids, orphans) run before, on
all of it; person ids repeated within a household are looked for batch by batch
(``recheck``), where each batch's members are read anyway, and one found runs the
whole check, which lists every problem. Otherwise batches only split the deciding.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from compiler import logger
from compiler.diagnostics import Location, make
from compiler.engine import (
    Project,
    contract_error,
    data_error,
    memory_bytes,
    run_programs,
)
from compiler.errors import InputError
from compiler.households_check import repeated_members
from compiler.output import format_of, join_parts, unwritten, write_part
from compiler.sqlgen import string

# Households decided together at most. A million take about 1.9 GB of DuckDB memory
# with no trace (docs/performance.md), the full trace about four times as much.
LARGEST_BATCH = 1_000_000
SMALLEST_BATCH = 10_000
_BYTES_PER_HOUSEHOLD = {"none": 4096, "compact": 8192, "full": 16384}


def batch_size(memory_limit: str, trace: str) -> int:
    """How many households to decide at once under ``memory_limit``: as many as fit
    with room to spare, between ``SMALLEST_BATCH`` and ``LARGEST_BATCH``."""
    fitting = memory_bytes(memory_limit) // _BYTES_PER_HOUSEHOLD.get(trace, 16384)
    return max(SMALLEST_BATCH, min(LARGEST_BATCH, fitting))


@dataclass(frozen=True, slots=True)
class Batch:
    """Households whose ``_hh_index`` is in ``[start, end)``: how many, their smallest
    and largest ``household_id``, and whether no other batch's household has an id in
    that range (``alone``)."""

    number: int
    start: int
    end: int
    households: int = 0
    low: str | None = None
    high: str | None = None
    alone: bool = False


def plan_batches(con: duckdb.DuckDBPyConnection, size: int) -> list[Batch]:
    """The loaded households in consecutive ranges of ``size`` (the last one fewer);
    one batch when they are no more than that. One pass over the households."""
    low, high, count = con.execute(
        "SELECT min(_hh_index), max(_hh_index), count(*) FROM jz_households"
    ).fetchone() or (None, None, 0)
    if count and high - low + 1 == count:
        # numbered without gaps (no county filter): a household's place is its number
        numbered = f"SELECT _hh_index, household_id, _hh_index - {int(low)} AS n FROM jz_households"
    else:  # the sort that numbers them costs 0.35 s at ten million households
        numbered = (
            "SELECT _hh_index, household_id, row_number() OVER (ORDER BY _hh_index) - 1 AS n "
            "FROM jz_households"
        )
    rows = con.execute(
        "SELECT min(_hh_index), max(_hh_index), count(*), min(household_id), max(household_id) "
        f"FROM ({numbered}) GROUP BY n // {int(size)} ORDER BY 1"
    ).fetchall()
    if not rows:
        return [Batch(1, 0, 1)]
    # ranges of ids sorted by their smallest: one is alone when every range before it
    # ends below it and the next one starts above it
    ranked = sorted(range(len(rows)), key=lambda i: rows[i][3])
    alone = [False] * len(rows)
    highest: str | None = None
    for place, i in enumerate(ranked):
        low, high = rows[i][3], rows[i][4]
        after = rows[ranked[place + 1]][3] if place + 1 < len(ranked) else None
        alone[i] = (highest is None or highest < low) and (after is None or after > high)
        highest = high if highest is None or high > highest else highest
    ends = [row[0] for row in rows[1:]] + [rows[-1][1] + 1]
    return [
        Batch(number, row[0], end, row[2], row[3], row[4], alone[number - 1])
        for number, (row, end) in enumerate(zip(rows, ends, strict=True), start=1)
    ]


def _select(con: duckdb.DuckDBPyConnection, batch: Batch) -> None:
    """Create ``jz_households_b``, ``jz_members_b`` and ``jz_events_b`` for one batch."""
    con.execute(
        "CREATE OR REPLACE TEMP VIEW jz_households_b AS SELECT * FROM jz_households "
        f"WHERE _hh_index >= {batch.start} AND _hh_index < {batch.end}"
    )
    if not batch.households:
        within = "false"
    else:
        within = f"household_id BETWEEN {string(batch.low)} AND {string(batch.high)}"
        if not batch.alone:  # ids interleave with other batches': look each up
            within += " AND household_id IN (SELECT household_id FROM jz_households_b)"
    for table in ("jz_members", "jz_events"):
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {table}_b AS SELECT * FROM {table} WHERE {within}"
        )


def decide_in_batches(
    con: duckdb.DuckDBPyConnection,
    project: Project,
    counties: list[str],
    batches: list[Batch],
    trace: str,
    scratch: Path,
    report: Callable[[str], None] | None = None,
    out: str | Path | None = None,
    recheck: Callable[[], None] | None = None,
) -> tuple[str, bool]:
    """Decide each batch and write its decisions to a part in ``scratch`` as soon as it
    is decided; ``report`` is told of each batch. With ``out`` the parts are written
    in its format and joined into it (``output.join_parts``). Returns a view over the
    parts in input order ("" for CSV and JSON Lines parts, which are not read again)
    and whether ``out`` was written: Parquet parts that cannot be joined leave that
    to the caller. A part that cannot be written or read again (a full disk) is E605.
    With ``recheck`` (the whole input check, see ``load_households``) each batch's
    members are first looked at for a person id repeated within a household; when one
    may be, ``recheck`` raises InputError with every problem of the input."""
    fmt = format_of(Path(out)) if out else "parquet"
    parts: list[Path] = []
    started = time.perf_counter()
    done = 0
    relation = ""
    try:
        for batch in batches:
            _select(con, batch)
            if recheck is not None and repeated_members(con, "jz_members_b"):
                recheck()  # a hash collision passes it: the batch is then decided
            if not relation:  # views, read anew from each batch's input views
                relation = run_programs(con, project, counties, trace, store=False, inputs="_b")
            parts.append(scratch / f"decisions-{batch.number:05d}.{fmt}")
            try:
                write_part(con, relation, parts[-1], fmt, checked=len(parts) > 1)
            except duckdb.Error as error:
                raise contract_error(error) or data_error(error) or error from None
            done += batch.households
            if report:
                report(
                    f"第 {batch.number}/{len(batches)} 批已决策：{batch.households} 户，累计 {done} 户，"
                    f"用时 {time.perf_counter() - started:.1f} 秒"
                )
        written = False
        if out:
            try:
                join_parts(parts, out)
                written = True
            except ValueError as error:  # Parquet parts, still there to be read
                logger.info("分批文件未能直接合并（%s），改为读出后重写", error)
            except OSError as error:  # the parts were written: it is the output
                raise unwritten(out, error) from None
            if fmt != "parquet":
                return "", True
    except (duckdb.IOException, OSError) as error:
        raise InputError(
            make(
                "E605",
                "分批决策的临时文件无法写入或读取",
                Location(file=str(scratch)),
                found=str(error).splitlines()[0],
                hint="检查临时文件夹所在磁盘的剩余空间，或用环境变量 TMPDIR 指定另一个文件夹",
            )
        ) from None
    listed = ", ".join(string(str(part)) for part in parts)
    con.execute(f"CREATE OR REPLACE TEMP VIEW jz_decisions AS SELECT * FROM read_parquet([{listed}])")
    return "jz_decisions", written


def to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
