"""Deciding a large input one batch of households at a time.

The decisions query holds every household's member aggregates and intermediate values
in hash tables at once; past about a million households they outgrow the memory limit
and DuckDB spills them to disk, and at ten million the query took twice as long per
household as at one million (docs/performance.md). ``decide_in_batches`` instead
decides consecutive ranges of the household file (``_hh_index``) in turn, each from
views over the loaded input, and writes each batch's decisions to a Parquet part as
soon as it is decided; the parts, read in order, are the decisions in input order.

A batch's members and events are those whose ``household_id`` lies between the
smallest and the largest of the batch's households. When no household outside the
batch falls in that range (the usual case: files written household by household, in
id order) that range is the whole filter, and DuckDB skips the row groups of a sorted
Parquet or DuckDB file outside it; otherwise the members are also looked up among the
batch's households, so that a batch does not compute other batches' members. (Either
way the decisions are the same: every step joins members and events to their
household, and a household outside the batch has no row to join.)

Checks of the whole input (repeated ids, orphans) run before, on all of it: batches
only split the deciding.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import duckdb

from compiler.engine import (
    Project,
    contract_error,
    data_error,
    memory_bytes,
    run_programs,
)
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
    """Households whose ``_hh_index`` is in ``[start, end)``."""

    number: int
    start: int
    end: int


def plan_batches(con: duckdb.DuckDBPyConnection, size: int) -> list[Batch]:
    """The loaded households in consecutive ranges of about ``size``; one batch when
    they are no more than that."""
    total, first, last = con.execute(
        "SELECT count(*), min(_hh_index), max(_hh_index) FROM jz_households"
    ).fetchall()[0]
    if total <= size:
        return [Batch(1, first or 0, (last or 0) + 1)]
    count = math.ceil(total / size)
    fractions = ", ".join(str(i / count) for i in range(1, count))
    cuts = con.execute(
        f"SELECT quantile_disc(_hh_index, [{fractions}]) FROM jz_households"
    ).fetchall()[0][0]
    edges = sorted({first, *cuts, last + 1})
    return [
        Batch(number, start, end)
        for number, (start, end) in enumerate(pairwise(edges), start=1)
    ]


def _select(con: duckdb.DuckDBPyConnection, batch: Batch) -> int:
    """Create ``jz_households_b``, ``jz_members_b`` and ``jz_events_b`` for one batch;
    returns its households."""
    con.execute(
        "CREATE OR REPLACE TEMP VIEW jz_households_b AS SELECT * FROM jz_households "
        f"WHERE _hh_index >= {batch.start} AND _hh_index < {batch.end}"
    )
    count, low, high = con.execute(
        "SELECT count(*), min(household_id), max(household_id) FROM jz_households_b"
    ).fetchall()[0]
    if not count:
        within = "false"
    else:
        within = f"household_id BETWEEN {string(low)} AND {string(high)}"
        others = con.execute(f"SELECT count(*) FROM jz_households WHERE {within}").fetchall()
        if others[0][0] != count:  # ids interleave with other batches': look each up
            within += " AND household_id IN (SELECT household_id FROM jz_households_b)"
    for table in ("jz_members", "jz_events"):
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW {table}_b AS SELECT * FROM {table} WHERE {within}"
        )
    return int(count)


def decide_in_batches(
    con: duckdb.DuckDBPyConnection,
    project: Project,
    counties: list[str],
    batches: list[Batch],
    trace: str,
    scratch: Path,
    report: Callable[[str], None] | None = None,
) -> str:
    """Decide each batch and write its decisions to a Parquet part in ``scratch``;
    returns a view over the parts, in input order. ``report`` is told of each batch
    decided."""
    parts = []
    started = time.perf_counter()
    done = 0
    relation = ""
    for batch in batches:
        count = _select(con, batch)
        if not relation:  # views, read anew from each batch's input views
            relation = run_programs(con, project, counties, trace, store=False, inputs="_b")
        part = scratch / f"decisions-{batch.number:05d}.parquet"
        try:
            con.execute(f"COPY (SELECT * FROM {relation}) TO {string(str(part))} (FORMAT parquet)")
        except duckdb.Error as error:
            raise contract_error(error) or data_error(error) or error from None
        parts.append(string(str(part)))
        done += count
        if report:
            report(
                f"第 {batch.number}/{len(batches)} 批已决策：{count} 户，累计 {done} 户，"
                f"用时 {time.perf_counter() - started:.1f} 秒"
            )
    con.execute(
        "CREATE OR REPLACE TEMP VIEW jz_decisions AS "
        f"SELECT * FROM read_parquet([{', '.join(parts)}])"
    )
    return "jz_decisions"


def to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
