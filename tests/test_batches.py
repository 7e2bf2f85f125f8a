"""Deciding a large input a batch of households at a time (compiler.batches).

Batches only split the deciding: every test compares a batched run with one run over
the whole input, row for row and in order, and checks from the progress lines that
the input was in fact split.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import date
from itertools import pairwise
from pathlib import Path

import duckdb
import pytest

from compiler.batches import LARGEST_BATCH, SMALLEST_BATCH, batch_size, plan_batches
from compiler.cli import main
from compiler.engine import open_project
from compiler.evaluate import evaluate_file
from compiler.synth import synthesise

ROOT = Path(__file__).resolve().parents[1]
TABLES = str(ROOT / "tables")
COUNTIES = sorted(p.name[:6] for p in (ROOT / "tables" / "counties").iterdir())
AS_OF = date(2025, 6, 1)


@pytest.fixture(scope="module")
def project():
    return open_project(TABLES, as_of=AS_OF)


@pytest.fixture(scope="module")
def population(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("synth") / "households.parquet"
    synthesise(1200, 5, path, COUNTIES)
    return path


def _rows(path: Path) -> list[tuple]:
    return duckdb.connect().execute(f"SELECT * FROM read_parquet('{path}')").fetchall()


def _both(project, source: Path, tmp_path: Path, capsys, batch: int, **options) -> tuple[list, list]:
    """Decisions of one run and of a batched run, and check the second was batched."""
    whole, batched = tmp_path / "whole.parquet", tmp_path / "batched.parquet"
    evaluate_file(TABLES, source, AS_OF, whole, project=project, summary=False, **options)
    capsys.readouterr()
    evaluate_file(TABLES, source, AS_OF, batched, project=project, summary=False,
                  batch=batch, progress=True, **options)
    said = capsys.readouterr().err
    assert "批已决策" in said, "the run was not split into batches"
    return _rows(whole), _rows(batched)


@pytest.mark.parametrize("trace", ["full", "none"])
def test_batches_decide_what_one_run_decides_in_input_order(
    project, population, tmp_path, capsys, trace
) -> None:
    whole, batched = _both(project, population, tmp_path, capsys, 250, trace=trace)
    assert len(whole) == 1200
    assert batched == whole


def test_households_out_of_id_order_are_decided_alike(project, population, tmp_path, capsys) -> None:
    # households in an order unrelated to their ids: a batch's id range then holds
    # other batches' households, whose members must not mix in
    shuffled = tmp_path / "in" / "households.parquet"
    shuffled.parent.mkdir()
    con = duckdb.connect()
    for kind in ("households", "members", "events"):
        order = "hash(household_id)" if kind == "households" else "hash(household_id) DESC"
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{population.with_name(kind + '.parquet')}') "
            f"ORDER BY {order}) TO '{shuffled.with_name(kind + '.parquet')}'"
        )
    whole, batched = _both(project, shuffled, tmp_path, capsys, 300, trace="compact")
    ids = [r[0] for r in whole]
    assert ids != sorted(ids)  # the output follows the file, not the ids
    assert batched == whole


def test_a_county_filter_and_a_duckdb_file_are_batched_alike(project, tmp_path, capsys) -> None:
    source = tmp_path / "population.duckdb"
    synthesise(900, 6, source, COUNTIES)
    whole, batched = _both(
        project, source, tmp_path, capsys, 40, trace="none", counties=COUNTIES[:5]
    )
    assert whole and {r[1] for r in whole} <= set(COUNTIES[:5])
    assert batched == whole


def test_plan_covers_every_household_once_in_file_order() -> None:
    con = duckdb.connect()
    # file rows with gaps, as a county filter leaves them
    con.execute(
        "CREATE TABLE jz_households AS SELECT 'H' || i AS household_id, i * 3 + 7 AS _hh_index "
        "FROM range(1000) t(i)"
    )
    batches = plan_batches(con, 300)
    assert len(batches) == 4
    assert [b.number for b in batches] == [1, 2, 3, 4]
    assert batches[0].start == 7 and batches[-1].end == 999 * 3 + 7 + 1
    assert all(a.end == b.start for a, b in pairwise(batches))
    sizes = [
        con.execute(
            f"SELECT count(*) FROM jz_households WHERE _hh_index >= {b.start} AND _hh_index < {b.end}"
        ).fetchone()[0]
        for b in batches
    ]
    assert sum(sizes) == 1000 and max(sizes) <= 300
    assert len(plan_batches(con, 1000)) == 1


def test_batch_size_follows_the_memory_limit_and_the_trace() -> None:
    assert batch_size("4GiB", "none") == LARGEST_BATCH
    assert batch_size("1GB", "none") == 10**9 // 4096
    assert batch_size("1GB", "full") < batch_size("1GB", "compact") < batch_size("1GB", "none")
    assert batch_size("64MiB", "full") == SMALLEST_BATCH


def _three(tmp_path: Path, bad: dict) -> Path:
    rows = [
        {"household_id": f"H{i}", "county_code": "330106",
         "members": [{"person_id": "P1", "birth_date": "1980-01-01", "income": {"wage": "1000"}}]}
        for i in range(3)
    ]
    rows[2] = {**rows[2], **bad}
    path = tmp_path / "households.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_a_working_day_count_outside_the_calendar_in_a_later_batch_names_the_household(
    tmp_path, capsys
) -> None:
    event = {"type": "unemployment_registration", "date": "2010-01-01", "person_id": "P1"}
    source = _three(tmp_path, {"household_id": "Q7", "events": [event]})
    out = tmp_path / "d.parquet"
    assert main(["evaluate", "--tables", TABLES, "--households", str(source),
                 "--as-of", "2025-06-01", "--working-copy", "--batch-size", "1",
                 "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "E612" in err and "家庭 Q7 有该日期的事件" in err and "Traceback" not in err
    assert not out.exists()


def test_an_amount_too_large_in_a_later_batch_is_an_input_error(tmp_path, capsys) -> None:
    huge = [{"person_id": p, "birth_date": "1980-01-01", "income": {"wage": "9999999999999999.99"}}
            for p in ("P1", "P2")]
    source = _three(tmp_path, {"members": huge})
    out = tmp_path / "d.csv"
    assert main(["evaluate", "--tables", TABLES, "--households", str(source),
                 "--as-of", "2025-06-01", "--working-copy", "--batch-size", "1",
                 "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "E605" in err and "内部错误" not in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("given", ["0", "-3", "many"])
def test_a_batch_size_that_is_no_positive_number_is_a_usage_error(given, capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["evaluate", "--households", "h.jsonl", "--batch-size", given])
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert "参数 --batch-size" in err and f"「{given}」" in err


def test_a_terminated_run_leaves_no_output_and_no_temporary_files(population, tmp_path) -> None:
    """SIGTERM (a scheduler stopping the job) mid-run: the batches written so far are
    removed with their folder, no output file appears, and the exit code is 143."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    out = tmp_path / "decisions.parquet"
    child = subprocess.Popen(
        [sys.executable, "-m", "compiler.cli", "-v", "evaluate", "--tables", TABLES,
         "--households", str(population), "--as-of", "2025-06-01", "--out", str(out),
         "--trace", "none", "--batch-size", "20"],
        cwd=ROOT, env={**os.environ, "TMPDIR": str(scratch)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert child.stderr is not None
    said = []
    for line in child.stderr:  # 60 batches: stopped after the first
        said.append(line)
        if "第 1/60 批已决策" in line:
            break
    assert child.poll() is None, "".join(said)
    child.send_signal(signal.SIGTERM)
    rest = child.communicate(timeout=120)[1]
    assert child.returncode == 128 + signal.SIGTERM
    assert rest.strip().endswith("已终止") and "内部错误" not in rest
    assert not out.exists()
    assert not list(scratch.glob("jiuzhu-batches-*"))
