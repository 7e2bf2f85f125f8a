"""The benchmark behind ``jiuzhu bench``: build, whole evaluation, the plain-scan floor
and the reference interpreter, timed as whole processes where memory matters.

Evaluation and the scan run in child processes so that each one's peak resident memory
is its own (``os.wait4`` reports it); every figure is the median of several runs. This is
a measuring tool, not a test: the test suite only checks that it runs on a small N.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from compiler.synth import sibling, synthesise


@dataclass
class Measure:
    seconds: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")

    @property
    def peak(self) -> float:
        return max(self.peak_mb) if self.peak_mb else float("nan")


def child(args: list[str]) -> tuple[float, float, str]:
    """Run a Python child process; its wall seconds, peak memory in MB, and output."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    output = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"child failed ({process.returncode}): {' '.join(args)}\n{output[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, output


def population(work: Path, households: int, seed: int, counties: list[str]) -> Path:
    """A synthetic population for N households, made once per (N, seed)."""
    path = work / f"synth-{households}-{seed}" / "households.parquet"
    if not (path.exists() and sibling(path, "members").exists() and sibling(path, "events").exists()):
        synthesise(households, seed, path, counties, replace=True)
    return path


def scan_floor(path: Path) -> None:
    """Read every input column once and aggregate it: the least any evaluation must do."""
    import duckdb

    con = duckdb.connect()
    for file in (path, sibling(path, "members"), sibling(path, "events")):
        con.execute(f"SELECT max(COLUMNS(*)) FROM read_parquet('{_quoted(file)}')").fetchall()


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def measure_build(tables: str, as_of: date, runs: int) -> Measure:
    from compiler.engine import build, open_project

    measure = Measure()
    for _ in range(runs):
        started = time.perf_counter()
        build(open_project(tables, as_of=as_of))
        measure.seconds.append(time.perf_counter() - started)
    return measure


def measure_evaluation(
    tables: str, path: Path, as_of: date, runs: int, work: Path, memory_limit: str | None
) -> Measure:
    measure = Measure()
    out = work / "bench-decisions.parquet"
    args = ["-m", "compiler.cli", "evaluate", "--tables", tables, "--households", str(path),
            "--as-of", as_of.isoformat(), "--out", str(out), "--trace", "none"]
    if memory_limit:
        args += ["--memory-limit", memory_limit]
    for _ in range(runs):
        seconds, peak, _ = child(args)
        measure.seconds.append(seconds)
        measure.peak_mb.append(peak)
    return measure


def measure_scan(path: Path, runs: int) -> Measure:
    measure = Measure()
    code = f"from compiler.bench import scan_floor; from pathlib import Path; scan_floor(Path({str(path)!r}))"
    for _ in range(runs):
        seconds, peak, _ = child(["-c", code])
        measure.seconds.append(seconds)
        measure.peak_mb.append(peak)
    return measure


def measure_interpreter(tables: str, path: Path, as_of: date, sample: int) -> float:
    """Households per second of the reference interpreter on the first ``sample``."""
    from compiler.calendar import WorkCalendar
    from compiler.engine import household_envs, open_project
    from compiler.households import iter_households
    from compiler.interpret import Interpreter

    project = open_project(tables, as_of=as_of)
    interpreters: dict[str, Interpreter] = {}
    households = []
    for household in iter_households(path):
        households.append(household)
        if len(households) >= sample:
            break
    started = time.perf_counter()
    for household in households:
        code = str(household["county_code"])
        if code not in interpreters:
            plan = project.plan(code)
            interpreters[code] = Interpreter(plan, as_of, WorkCalendar(plan.rulebook.calendar))
        env, members, events = household_envs(household, project.fields)
        interpreters[code].evaluate(env, members, events)
    return len(households) / (time.perf_counter() - started)


def stages(tables: str, path: Path, as_of: date, memory_limit: str | None = None) -> list[tuple[str, float]]:
    """Seconds of each stage of one whole evaluation, in order: reading the tables, loading
    and checking the input, each stored step of the compiled program (named by its
    level and the decision tables it computes), and the decisions written out.

    The steps run as separate statements into temporary tables so that each can be
    timed; ``jiuzhu evaluate`` runs them as one query, which is a little faster.
    A temporary folder inside ``tables``, where the households are loaded and DuckDB
    spills, is refused first (E613), as ``evaluate`` refuses it."""
    import re

    from compiler.engine import connect, open_project
    from compiler.evaluate import default_memory_limit, prepare
    from compiler.output import write_decisions
    from compiler.output_guard import guard_scratch

    guard_scratch(tables)
    found: list[tuple[str, float]] = []
    mark = time.perf_counter()
    project = open_project(tables, as_of=as_of)
    found.append(("读取并校验决策表", time.perf_counter() - mark))
    mark = time.perf_counter()
    con = connect(memory_limit or default_memory_limit())
    present = prepare(con, project, path, as_of)
    found.append(("读入并检查家庭数据", time.perf_counter() - mark))
    program = project.program(present[0], trace="none")
    levels = {"h": "家庭", "m": "成员", "e": "事件"}
    for statement in program.statements:
        mark = time.perf_counter()
        con.execute(statement)
        table = re.search(r'TEMP TABLE "jz_t_([hme])', statement)
        computed = re.findall(r"-- decision table (\S+) \(", statement)
        level = levels[table.group(1)] if table else "标准"
        label = f"{level}：{'、'.join(dict.fromkeys(computed))}" if computed else f"{level}：派生值"
        found.append((label, time.perf_counter() - mark))
    mark = time.perf_counter()
    con.execute(f"CREATE OR REPLACE TEMP VIEW jz_decisions AS {program.final}")
    write_decisions(con, "jz_decisions", path.with_name("bench-stages.parquet"))
    found.append(("汇总并写出决策", time.perf_counter() - mark))
    return found


def measure_stages(tables: str, path: Path, as_of: date, memory_limit: str | None) -> list[tuple[str, float]]:
    """``stages`` in a child process, so that it runs as the evaluation does."""
    import json

    code = (
        "import json, sys; from datetime import date; from pathlib import Path;"
        " from compiler.bench import stages;"
        f" print('JZ-STAGES' + json.dumps(stages({tables!r}, Path({str(path)!r}),"
        f" date.fromisoformat({as_of.isoformat()!r}), {memory_limit!r}), ensure_ascii=False))"
    )
    _, _, output = child(["-c", code])
    line = next(x for x in output.splitlines() if x.startswith("JZ-STAGES"))
    return [(name, seconds) for name, seconds in json.loads(line.removeprefix("JZ-STAGES"))]

