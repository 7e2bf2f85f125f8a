"""The synthetic population and the benchmark (issue 10) on a small N.

The benchmark is a measuring tool, not a timed test: these tests check that the
population is deterministic for a seed and exercises every group and table, and that
``jiuzhu bench`` runs end to end and reports every figure it promises. Speeds are
measured with ``jiuzhu bench`` itself and reported in docs/performance.md.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest

from compiler.errors import InputError
from compiler.evaluate import evaluate_file
from compiler.synth import synthesise
from tests.tables_fixture import write_tables

ROOT = Path(__file__).resolve().parents[1]
TABLES = str(ROOT / "tables")
COUNTIES = sorted(p.name[:6] for p in (ROOT / "tables" / "counties").iterdir())
AS_OF = date(2025, 6, 1)


def _digest(folder: Path) -> str:
    """A hash of the three files' rows, sorted (two threads may write rows in another
    order; the content is what a seed fixes)."""
    con = duckdb.connect()
    digest = hashlib.sha256()
    for kind in ("households", "members", "events"):
        rows = con.execute(f"SELECT * FROM read_parquet('{folder / (kind + '.parquet')}') ORDER BY ALL").fetchall()
        digest.update(repr(rows).encode())
    return digest.hexdigest()


def test_same_seed_gives_the_same_population_and_another_seed_another(tmp_path: Path) -> None:
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        synthesise(300, seed, tmp_path / name / "households.parquet", COUNTIES)

    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_population_exercises_every_group_table_and_alert(tmp_path: Path) -> None:
    path = tmp_path / "households.parquet"
    synthesise(4000, 1, path, COUNTIES)
    out = tmp_path / "decisions.parquet"

    result = evaluate_file(TABLES, path, AS_OF, out, trace="compact")

    con = duckdb.connect()
    decisions = f"read_parquet('{out}')"
    groups = {r[0] for r in con.execute(f'SELECT DISTINCT "group" FROM {decisions}').fetchall()}
    assert groups == {"tekun", "dibao", "dibao_marginal", "rigid_expense", "low_income_support", "none"}
    assert len({r[0] for r in con.execute(f"SELECT DISTINCT county_code FROM {decisions}").fetchall()}) > 60
    tables = {
        r[0]
        for r in con.execute(f'SELECT DISTINCT t."table" FROM {decisions}, unnest(trace) AS u(t)').fetchall()
    }
    from compiler.engine import open_project

    plan = open_project(TABLES, [COUNTIES[0]], AS_OF).plan(COUNTIES[0])
    assert tables == set(plan.tables)
    assert con.execute(f"SELECT count(*) FROM {decisions} WHERE len(alerts) > 0").fetchone()[0] > 0
    assert con.execute(f"SELECT count(*) FROM {decisions} WHERE phase_out_until IS NOT NULL").fetchone()[0] > 0
    assert result.households == 4000
    assert result.input_warnings == []  # synth writes only fields and its order columns


def test_synth_refuses_a_parquet_name_evaluate_could_not_find_again(tmp_path: Path) -> None:
    with pytest.raises(InputError) as raised:
        synthesise(10, 1, tmp_path / "h1m.parquet", COUNTIES)

    [diagnostic] = raised.value.diagnostics
    assert diagnostic.code == "E605" and "households.parquet" in diagnostic.render()
    assert not list(tmp_path.iterdir())  # nothing written


def test_synth_outside_a_project_says_the_tables_are_missing_not_the_count(
    tmp_path: Path,
) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "compiler.cli", "synth", "--households", "20",
         "--out", str(tmp_path / "out" / "households.parquet")],
        capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert run.returncode != 0 and "E001 找不到决策表文件夹「tables」" in run.stderr
    assert "户数" not in run.stderr and "Traceback" not in run.stderr
    with pytest.raises(InputError) as raised:
        synthesise(20, 1, tmp_path / "households.parquet", [])
    assert "没有县" in raised.value.diagnostics[0].message
    assert not (tmp_path / "out").exists()


def test_bench_runs_end_to_end_and_reports_every_figure(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "compiler.cli", "bench", "--households", "200", "--runs", "1",
         "--sample", "20", "--tables", TABLES, "--work", str(tmp_path), "--as-of", "2025-06-01"],
        capture_output=True, text=True, timeout=600, cwd=ROOT, check=False,
    )

    assert run.returncode == 0, run.stdout + run.stderr
    text = run.stdout
    assert re.search(r"编译全部 90 个县：中位数 [\d.]+ 秒", text)
    assert "最慢的阶段：" in text and "读入并检查家庭数据" in text and "成员：" in text
    row = next(line for line in text.splitlines() if re.match(r"│\s+200 │", line))
    cells = [c.strip() for c in row.strip("│").split("│")]
    seconds, rate, peak, scan, floor, interpreted, speedup = cells[1:]
    assert float(seconds) > 0 and float(peak.replace(",", "")) > 50 and float(scan) > 0
    assert floor.endswith("x") and speedup.endswith("x") and float(interpreted.replace(",", "")) > 0
    assert int(rate.replace(",", "")) == pytest.approx(200 / float(seconds), rel=0.05, abs=1)


def test_bench_refuses_a_temporary_folder_inside_the_tables_before_any_work(
    tmp_path: Path,
) -> None:
    """Each measured evaluation loads the households and spills in TMPDIR: inside the
    tables, the bench failed in its first evaluation with a traceback, after writing
    its population, and its own stages would have spilled among the workbooks."""
    tables = write_tables(tmp_path)
    counties = tables / "counties"
    before = sorted(os.listdir(counties))
    work = tmp_path / "work"

    run = subprocess.run(
        [sys.executable, "-m", "compiler.cli", "bench", "--households", "20", "--runs", "1",
         "--sample", "5", "--tables", str(tables), "--work", str(work)],
        capture_output=True, text=True, timeout=300, cwd=ROOT, check=False,
        env={**os.environ, "TMPDIR": str(counties)},
    )

    assert run.returncode == 1 and "内部错误" not in run.stderr, run.stderr
    assert f"{counties}: E613 临时文件夹在正在读取的决策表文件夹中" in run.stderr
    assert not work.exists() and sorted(os.listdir(counties)) == before


def test_batch_evaluation_has_a_memory_limit_by_default() -> None:
    from compiler.engine import connect
    from compiler.evaluate import default_memory_limit

    limit = default_memory_limit()
    con = connect(limit)
    setting = con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    number, unit = setting.split()
    assert unit in ("MiB", "GiB") and float(number) * (1024 if unit == "GiB" else 1) <= 4096
    assert "jiuzhu-spill" in con.execute("SELECT current_setting('temp_directory')").fetchone()[0]


def test_synth_keeps_existing_files_unless_told_to_replace_them(tmp_path: Path) -> None:
    precious = tmp_path / "precious.duckdb"
    duckdb.connect(str(precious)).execute("CREATE TABLE important AS SELECT 42 AS answer").close()

    with pytest.raises(InputError) as raised:
        synthesise(10, 1, precious, COUNTIES)

    assert raised.value.diagnostics[0].code == "E605" and "--replace" in raised.value.diagnostics[0].render()
    assert duckdb.connect(str(precious)).execute("SELECT answer FROM important").fetchone() == (42,)
    synthesise(10, 1, precious, COUNTIES, replace=True)
    tables = {r[0] for r in duckdb.connect(str(precious)).execute("SHOW TABLES").fetchall()}
    assert {"households", "members", "events"} <= tables
