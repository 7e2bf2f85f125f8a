"""Deciding a large input a batch of households at a time (compiler.batches).

Batches only split the deciding: every test compares a batched run with one run over
the whole input, row for row and in order, and checks from the progress lines that
the input was in fact split.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from datetime import date
from itertools import pairwise
from pathlib import Path

import duckdb
import pytest

from compiler import output
from compiler.batches import (
    LARGEST_BATCH,
    SMALLEST_BATCH,
    Batch,
    batch_size,
    plan_batches,
)
from compiler.cli import main
from compiler.engine import open_project
from compiler.errors import InputError
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


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
@pytest.mark.parametrize("summary", [False, True], ids=["joined", "with-summary"])
def test_csv_and_json_lines_written_from_batches_are_the_same_bytes(
    project, population, tmp_path, capsys, suffix, summary
) -> None:
    """Without a summary the batches' CSV or JSON Lines parts are joined as bytes (one
    header row); with one they are Parquet, written out at the end. Either way the file
    is the one a single run writes."""
    whole, batched = tmp_path / f"whole{suffix}", tmp_path / f"batched{suffix}"
    evaluate_file(TABLES, population, AS_OF, whole, project=project, summary=False,
                  trace="full")
    capsys.readouterr()
    result = evaluate_file(TABLES, population, AS_OF, batched, project=project,
                           summary=summary, trace="full", batch=170, progress=True)
    assert "第 8/8 批已决策" in capsys.readouterr().err
    assert batched.read_bytes() == whole.read_bytes()
    assert whole.read_text().count("\n") == 1200 + (suffix == ".csv")
    # a CSV starts with one byte order mark (for Excel and WPS), whatever its parts
    assert batched.read_bytes().count(b"\xef\xbb\xbf") == (suffix == ".csv")
    assert batched.read_bytes().startswith(b"\xef\xbb\xbf") == (suffix == ".csv")
    if summary:
        assert sum(n for *_, n in result.summary) == 1200
    assert not list(tmp_path.glob(".*.partial"))


@pytest.mark.parametrize("joinable", [True, False], ids=["joined", "parts-refused"])
def test_parquet_written_from_batches_is_one_file_with_a_summary(
    project, population, tmp_path, capsys, monkeypatch, joinable
) -> None:
    """Parquet parts are joined into the output (row groups under one footer) and the
    summary is counted from them; parts the joiner refuses are written out by DuckDB
    instead. Either way the file holds what one run decides."""
    import compiler.output

    whole, batched = tmp_path / "whole.parquet", tmp_path / "batched.parquet"
    single = evaluate_file(TABLES, population, AS_OF, whole, project=project, trace="none")
    if not joinable:
        def refuse(parts, out):
            raise ValueError("page indexes are not joined")

        monkeypatch.setattr(compiler.output, "join_parquet", refuse)
    capsys.readouterr()
    result = evaluate_file(TABLES, population, AS_OF, batched, project=project,
                           trace="none", batch=170, progress=True)
    assert "第 8/8 批已决策" in capsys.readouterr().err
    assert _rows(batched) == _rows(whole)
    assert sorted(result.summary) == sorted(single.summary)
    groups = duckdb.connect().execute(
        f"SELECT count(*) FROM parquet_metadata('{batched}') WHERE column_id = 0"
    ).fetchone()[0]
    assert groups == (8 if joinable else 1)  # a row group per batch, or one rewritten
    assert not list(tmp_path.glob(".*.partial"))


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


def _households(ids: str, rows: str, where: str = "TRUE") -> duckdb.DuckDBPyConnection:
    """A connection holding ``jz_households`` of 1000 households numbered i: their ids
    and file rows as SQL of i."""
    con = duckdb.connect()
    con.execute(
        f"CREATE TABLE jz_households AS SELECT {ids} AS household_id, {rows} AS _hh_index "
        f"FROM range(1000) t(i) WHERE {where}"
    )
    return con


def test_plan_covers_every_household_once_in_file_order() -> None:
    # file rows with gaps, as a county filter leaves them
    con = _households("'H' || i", "i * 3 + 7")
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
    assert sizes == [300, 300, 300, 100]
    assert len(plan_batches(con, 1000)) == 1
    assert [b.end - b.start for b in plan_batches(con, 1)] == [3] * 999 + [1]
    # 'H' || i sorts H0, H1, H10, H100, ...: the batches' id ranges overlap, so each
    # batch's members are looked up by id, not only by range
    assert [(b.households, b.alone) for b in batches] == [(300, False)] * 3 + [(100, False)]
    assert (batches[0].low, batches[0].high) == ("H0", "H99")


def test_plan_of_households_numbered_without_gaps() -> None:
    # file rows 5..1004 (no county filter): planned by their numbers, with no sort,
    # the same batches as households numbered with gaps get
    con = _households("'H' || lpad(CAST(i AS VARCHAR), 4, '0')", "i + 5")
    assert [(b.start, b.end, b.households, b.low, b.high, b.alone) for b in plan_batches(con, 300)] == [
        (5, 305, 300, "H0000", "H0299", True), (305, 605, 300, "H0300", "H0599", True),
        (605, 905, 300, "H0600", "H0899", True), (905, 1005, 100, "H0900", "H0999", True),
    ]
    gaps = _households("'H' || lpad(CAST(i AS VARCHAR), 4, '0')", "i * 2")
    assert [b.households for b in plan_batches(gaps, 300)] == [300, 300, 300, 100]
    assert plan_batches(duckdb.connect().execute(
        "CREATE TABLE jz_households (household_id VARCHAR, _hh_index BIGINT)"), 300) == [Batch(1, 0, 1)]


def test_a_batch_is_alone_when_no_other_batch_has_an_id_in_its_range() -> None:
    con = _households("'H' || lpad(CAST(i AS VARCHAR), 4, '0')", "i", "i <> 450")
    batches = plan_batches(con, 300)
    assert [(b.households, b.low, b.high, b.alone) for b in batches] == [
        (300, "H0000", "H0299", True), (300, "H0300", "H0600", True),
        (300, "H0601", "H0900", True), (99, "H0901", "H0999", True),
    ]
    # a household of the second batch given an id inside the first batch's range
    con.execute("UPDATE jz_households SET household_id = 'H0100x' WHERE _hh_index = 300")
    assert [b.alone for b in plan_batches(con, 300)] == [False, False, True, True]


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
    event = {"type": "unemployment_registration", "date": "1999-12-31", "person_id": "P1"}
    source = _three(tmp_path, {"household_id": "Q7", "events": [event]})
    out = tmp_path / "d.parquet"
    assert main(["evaluate", "--tables", TABLES, "--households", str(source),
                 "--as-of", "2025-06-01", "--working-copy", "--batch-size", "1",
                 "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "E612" in err and "家庭 Q7 的该日期事件" in err and "Traceback" not in err
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


@pytest.mark.parametrize("given", ["0", "-3", "many", "5_000", "٣", "1.5"])
def test_a_batch_size_that_is_no_positive_number_is_a_usage_error(given, capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["evaluate", "--households", "h.jsonl", "--batch-size", given])
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert "参数 --batch-size" in err and f"「{given}」应为正整数" in err


@pytest.mark.parametrize(
    ("signum", "said"), [(signal.SIGTERM, "已终止"), (signal.SIGINT, "已中断")], ids=["TERM", "INT"]
)
def test_a_stopped_run_leaves_no_output_and_no_temporary_files(
    population, tmp_path, signum, said
) -> None:
    """SIGTERM (a scheduler stopping the job) or Ctrl-C mid-run: the batches written so
    far are removed with their folder, no output file appears, and the exit code is
    the shell's (143, 130), not an internal error's."""
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
    lines = []
    for line in child.stderr:  # 60 batches: stopped after the first
        lines.append(line)
        if "第 1/60 批已决策" in line:
            break
    assert child.poll() is None, "".join(lines)
    child.send_signal(signum)
    rest = child.communicate(timeout=120)[1]
    assert child.returncode == 128 + signum
    assert rest.strip().endswith(said) and "内部错误" not in rest
    assert not out.exists()
    assert not list(scratch.glob("jiuzhu-batches-*"))


@pytest.mark.parametrize("batch", ["40", "1000"], ids=["batched", "one-run"])
def test_counties_of_several_programs_are_written_in_input_order(tmp_path, batch) -> None:
    """A county deciding from a published version compiles to its own program (its SQL
    names its version's cells); the programs' decisions used to follow one another, so
    that a county's households moved to the end of the file."""
    tables = tmp_path / "tables"
    shutil.copytree(ROOT / "tables", tables)
    registry = tmp_path / "registry.duckdb"
    samples = ROOT / "tables" / "samples" / "households.jsonl"
    assert main(["publish", "--county", "330108", "--effective", "2025-05-01",
                 "--note", "同工作副本", "--tables", str(tables), "--registry", str(registry)]) == 0
    out = tmp_path / "decisions.jsonl"
    assert main(["evaluate", "--tables", str(tables), "--registry", str(registry),
                 "--households", str(samples), "--as-of", "2025-06-01", "--out", str(out),
                 "--batch-size", batch]) == 0
    decided = [json.loads(line) for line in out.read_text().splitlines()]
    given = [json.loads(line)["household_id"] for line in samples.read_text().splitlines()]
    assert [d["household_id"] for d in decided] == given
    assert {d["version"] for d in decided if d["county_code"] == "330108"} == {"330108@1"}


def _with_files_up_to(
    size: int, population: Path, out: Path, scratch: Path, batch: int | None
) -> subprocess.CompletedProcess:
    """``evaluate`` in a child whose files may grow to ``size`` bytes only (as on a
    full disk), with its temporary files in ``scratch``. The limit is set by the child
    itself: a preexec_fn runs Python between fork and exec, which crashed the child
    when earlier tests had left threads in this process."""
    limited = (
        "import resource, sys; from compiler.cli import main;"
        f" resource.setrlimit(resource.RLIMIT_FSIZE, ({size}, {size}));"
        " sys.exit(main(sys.argv[1:]))"
    )
    return subprocess.run(
        [sys.executable, "-c", limited, "evaluate", "--tables", TABLES,
         "--households", str(population), "--as-of", "2025-06-01", "--out", str(out),
         "--trace", "none", *(["--batch-size", str(batch)] if batch else [])],
        cwd=ROOT, env={**os.environ, "TMPDIR": str(scratch)}, capture_output=True, text=True,
        check=False, timeout=300,
    )


def test_a_full_disk_while_writing_batches_is_said_in_chinese(population, tmp_path) -> None:
    """Files may grow to 20 KB only (as on a full disk): a batch's decisions cannot be
    written, which is E605 naming the temporary folder, not an internal error."""
    out = tmp_path / "decisions.csv"
    child = _with_files_up_to(20_000, population, out, tmp_path, 600)
    assert child.returncode == 1, child.stderr
    assert "E605" in child.stderr and "分批决策的临时文件无法写入或读取" in child.stderr
    assert "TMPDIR" in child.stderr and "内部错误" not in child.stderr
    assert not out.exists() and not list(tmp_path.glob("jiuzhu-batches-*"))


@pytest.mark.parametrize("batch", [None, 170], ids=["one-run", "batches"])
def test_an_output_the_disk_refuses_is_named_not_the_temporary_folder(
    population, tmp_path, batch
) -> None:
    """Files may grow to 60 KB: each batch's part fits, the whole output (about 200 KB)
    does not. The message names the output file, and an earlier output stays."""
    out = tmp_path / "out" / "decisions.csv"
    out.parent.mkdir()
    earlier = ",".join(output.DECISION_COLUMNS) + "\n"  # an earlier run's decisions, none
    out.write_text(earlier, encoding="utf-8")
    child = _with_files_up_to(60_000, population, out, tmp_path, batch)
    assert child.returncode == 1, child.stderr
    assert f"{out}: E605 决策结果文件无法写入" in child.stderr
    assert "TMPDIR" not in child.stderr and "内部错误" not in child.stderr
    assert out.read_text(encoding="utf-8") == earlier
    assert not list(out.parent.glob(".*.partial")) and not list(tmp_path.glob("jiuzhu-batches-*"))


def test_an_output_path_that_is_a_folder_or_too_long_a_name_is_refused_first(
    population, tmp_path, capsys
) -> None:
    folder = tmp_path / "decisions.parquet"
    folder.mkdir()
    code = main(["evaluate", "--tables", TABLES, "--households", str(population),
                 "--as-of", "2025-06-01", "--out", str(folder)])
    assert code == 1 and "E605 --out 指向的是一个文件夹" in capsys.readouterr().err
    too_long = tmp_path / ("决" * 85 + ".csv")  # 259 bytes
    code = main(["evaluate", "--tables", TABLES, "--households", str(population),
                 "--as-of", "2025-06-01", "--out", str(too_long)])
    assert code == 1 and "E605 输出文件名过长" in capsys.readouterr().err


@pytest.mark.parametrize("batch", [None, 300], ids=["one-run", "batches"])
def test_an_output_name_of_up_to_255_bytes_is_written(population, tmp_path, batch) -> None:
    out = tmp_path / ("决" * 82 + ".parquet")  # 254 bytes
    evaluate_file(TABLES, population, AS_OF, out, trace="none", summary=False, batch=batch)
    assert len(_rows(out)) == 1200 and not list(tmp_path.glob(".*.partial"))


def test_a_person_id_repeated_in_a_later_batch_lists_every_problem_and_writes_nothing(
    population, tmp_path, capsys
) -> None:
    """Repeated person ids are looked for batch by batch; the one found in the sixth
    batch stops the run with the whole input's problems, as one check of the whole
    input lists them, and no output."""
    from compiler.households import load_households

    source = tmp_path / "in" / "households.parquet"
    source.parent.mkdir()
    for kind in ("households", "events"):
        shutil.copy(population.with_name(f"{kind}.parquet"), source.with_name(f"{kind}.parquet"))
    con = duckdb.connect()
    later = con.execute(  # the first household of two or more from the 1,000th on
        f"SELECT household_id FROM read_parquet('{population}') h "
        f"JOIN read_parquet('{population.with_name('members.parquet')}') m USING (household_id) "
        "WHERE _hh_index BETWEEN 1000 AND 1019 GROUP BY household_id, _hh_index "
        "HAVING count(*) > 1 ORDER BY _hh_index LIMIT 1"
    ).fetchone()[0]
    con.execute(
        f"COPY (SELECT * REPLACE ("
        f"CASE WHEN household_id = '{later}' THEN household_id || '-1' ELSE person_id END AS person_id) "
        f"FROM read_parquet('{population.with_name('members.parquet')}')) "
        f"TO '{source.with_name('members.parquet')}' (FORMAT parquet)"
    )
    with pytest.raises(InputError) as whole:
        load_households(duckdb.connect(), source, open_project(TABLES, as_of=AS_OF).fields,
                        as_of=AS_OF)
    out = tmp_path / "d.parquet"
    with pytest.raises(InputError) as batched:
        evaluate_file(TABLES, source, AS_OF, out, trace="none", batch=170, progress=True)

    assert "第 5/8 批已决策" in capsys.readouterr().err  # found in the sixth
    said = [d.render() for d in batched.value.diagnostics]
    assert said == [d.render() for d in whole.value.diagnostics]
    assert said and all("「成员编号」（person_id）重复出现" in line for line in said)
    assert not out.exists() and not list(tmp_path.glob(".*.partial"))


def _schema(path: Path) -> list[tuple]:
    return duckdb.connect().execute(
        "SELECT name, type, repetition_type, logical_type FROM parquet_schema(?)", [str(path)]
    ).fetchall()


@pytest.mark.parametrize("trace", ["none", "compact"])
def test_every_run_writes_the_same_parquet_schema(
    project, population, tmp_path, trace
) -> None:
    """Whether a column is REQUIRED in Parquet used to follow what DuckDB knew of its
    values: decided as written, through a stored table (with a summary) or in joined
    batches, the same decisions came out with different schemas, which a reader
    appending one run's file to another's refuses. Every top-level column is now
    OPTIONAL in every run."""
    schemas = {}
    for name, options in {
        "written": {"summary": False},
        "summary": {"summary": True},
        "batched": {"summary": False, "batch": 300},
        "batched-summary": {"summary": True, "batch": 300},
    }.items():
        out = tmp_path / f"{name}.parquet"
        evaluate_file(TABLES, population, AS_OF, out, project=project, trace=trace, **options)
        schemas[name] = _schema(out)
    first = schemas["written"]
    assert all(schema == first for schema in schemas.values()), schemas
    top = [row for row in first if row[0] in output.DECISION_COLUMNS]
    assert [row[0] for row in top] == list(output.DECISION_COLUMNS)
    assert {row[2] for row in top} == {"OPTIONAL"}
