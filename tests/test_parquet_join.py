"""Joining Parquet parts as bytes (compiler/parquet_join.py): the joined file reads, in
DuckDB and in pyarrow, as the parts one after the other; filters that use the row
groups' statistics and bloom filters find what they found in the parts."""

from __future__ import annotations

import struct
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from compiler.parquet_join import _Compact, _encode_struct, join_parquet

# lists, lists of structs, decimals, dates and text repeated enough for DuckDB to write
# dictionaries and bloom filters, like a batch's decisions
PART = """
SELECT 'H' || lpad(CAST(i AS VARCHAR), 8, '0') AS household_id,
       CAST(330100 + i % {counties} AS VARCHAR) AS county_code,
       CAST(i / 7 AS DECIMAL(18,2)) AS amount,
       DATE '2025-06-01' + CAST(i % 40 AS INTEGER) AS due,
       CASE WHEN i % 3 = 0 THEN ['a', 'b'] ELSE [] END AS items,
       [{{'type': 'x' || (i % 5), 'day': DATE '2025-01-01'}}] AS alerts
FROM range({start}, {end}) t(i)
"""


def write_parts(folder: Path, sizes: list[int], counties: int = 90) -> list[Path]:
    con = duckdb.connect()
    parts, start = [], 0
    for number, size in enumerate(sizes):
        path = folder / f"part-{number}.parquet"
        query = PART.format(start=start, end=start + size, counties=counties + number)
        con.execute(f"COPY ({query}) TO '{path}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 50000)")
        parts.append(path)
        start += size
    return parts


def rows(paths: list[Path] | Path) -> list[tuple]:
    listed = ", ".join(f"'{p}'" for p in (paths if isinstance(paths, list) else [paths]))
    return duckdb.connect().execute(f"SELECT * FROM read_parquet([{listed}])").fetchall()


def footer(path: Path) -> bytes:
    data = path.read_bytes()
    length = struct.unpack("<I", data[-8:-4])[0]
    return data[-8 - length : -8]


def test_a_footer_is_written_back_byte_for_byte(tmp_path: Path) -> None:
    for part in write_parts(tmp_path, [120_000, 3]):
        assert _encode_struct(_Compact(footer(part)).struct()) == footer(part)


def test_joined_parts_read_as_the_parts_in_order(tmp_path: Path) -> None:
    parts = write_parts(tmp_path, [120_000, 1, 75_000])
    out = tmp_path / "joined.parquet"
    assert join_parquet(parts, out) == 195_001
    assert rows(out) == rows(parts)
    assert pq.read_table(out).to_pylist() == pq.read_table(parts[0]).to_pylist() + pq.read_table(
        parts[1]
    ).to_pylist() + pq.read_table(parts[2]).to_pylist()
    metadata = pq.ParquetFile(out).metadata
    assert metadata.num_rows == 195_001
    assert metadata.num_row_groups == sum(pq.ParquetFile(p).metadata.num_row_groups for p in parts)


def test_filters_on_the_joined_file_find_what_they_found_in_the_parts(tmp_path: Path) -> None:
    """county 330191 is only in the last part: its bloom filter and statistics must sit
    where the joined footer says, or DuckDB skips or misreads the row group."""
    parts = write_parts(tmp_path, [60_000, 60_000, 60_000])
    out = tmp_path / "joined.parquet"
    join_parquet(parts, out)
    con = duckdb.connect()
    bloom = con.execute(
        f"SELECT count(bloom_filter_offset) FROM parquet_metadata('{out}')"
    ).fetchone()[0]
    assert bloom > 0  # there are bloom filters to find
    for county in ("330191", "330100", "330189"):
        for where in (f"county_code = '{county}'", f"household_id = 'H00{150_000 + int(county) % 7:06d}'"):
            joined = con.execute(f"SELECT count(*), sum(amount) FROM '{out}' WHERE {where}").fetchall()
            listed = ", ".join(f"'{p}'" for p in parts)
            apart = con.execute(
                f"SELECT count(*), sum(amount) FROM read_parquet([{listed}]) WHERE {where}"
            ).fetchall()
            assert joined == apart


def test_parts_of_another_schema_or_no_parquet_at_all_are_refused(tmp_path: Path) -> None:
    parts = write_parts(tmp_path, [10])
    other = tmp_path / "other.parquet"
    duckdb.connect().execute(f"COPY (SELECT 1 AS x) TO '{other}' (FORMAT parquet)")
    with pytest.raises(ValueError, match="another schema"):
        join_parquet([parts[0], other], tmp_path / "out.parquet")
    text = tmp_path / "text.parquet"
    text.write_text("household_id\nH1\n")
    with pytest.raises(ValueError, match="not a Parquet file"):
        join_parquet([parts[0], text], tmp_path / "out2.parquet")
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(parts[0].read_bytes()[:-30] + parts[0].read_bytes()[-8:])
    with pytest.raises(ValueError):
        join_parquet([cut], tmp_path / "out3.parquet")


def test_a_damaged_footer_is_refused_not_joined(tmp_path: Path) -> None:
    """Any byte of the footer changed: ValueError (the caller writes the output the slow
    way) or a file that reads as the part did; never another exception."""
    import random

    part = write_parts(tmp_path, [2_000])[0]
    data = part.read_bytes()
    length = struct.unpack("<I", data[-8:-4])[0]
    start = len(data) - 8 - length
    chosen = random.Random(7)
    refused = 0
    for trial in range(300):
        damaged = bytearray(data)
        damaged[start + chosen.randrange(length)] = chosen.randrange(256)
        broken = tmp_path / f"broken-{trial}.parquet"
        broken.write_bytes(bytes(damaged))
        try:
            join_parquet([broken], tmp_path / "out.parquet")
        except ValueError:
            refused += 1
    assert refused > 0
