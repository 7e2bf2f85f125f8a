"""A publish killed at any point leaves the registry whole: the old version or the new.

Each run starts a fresh Python process that publishes the county's next version and is
killed: at a named point of the transaction (through $JIUZHU_REGISTRY_FAULT), or after
a random delay while the transaction is held open by a sleep at one of those points.
This process then opens the registry, verifies the chains and reads the county's
versions. Children are started, not forked: a fork of a process that has DuckDB (or any
threaded library) loaded is not safe.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

from compiler.registry import Registry
from tests.test_registry import COUNTY, set_county_standards, write_rulebook

RUNS = 50
POINTS = ("opened", "checked", "inserted", "committed")
ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import sys
from datetime import date
from compiler.registry_publish import publish
tables, county, effective, note, base, registry = sys.argv[1:7]
publish(tables, county, date.fromisoformat(effective), note, "crash", int(base),
        registry, analyse=None)
"""


def _start(args: list[str], fault: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, JIUZHU_REGISTRY_FAULT=fault, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _check(registry: Path) -> dict:
    """Verify the registry; returns its problems and the county's versions."""
    if not registry.exists():
        return {"problems": [], "numbers": [], "notes": []}
    store = Registry(registry)
    versions = store.versions()
    problems = [p.render() for p in store.check(versions)]
    mine = [v for v in versions if v.county_code == COUNTY]
    return {
        "problems": problems,
        "numbers": [v.number for v in mine],
        "notes": [v.note for v in mine],
    }


def test_a_killed_publish_never_leaves_half_a_version(tmp_path):
    tables = write_rulebook(tmp_path / "tables")
    registry = tmp_path / "registry" / "jiuzhu-registry.duckdb"
    set_county_standards(
        tables, [["dibao_standard", "1301", "2025-01-01", None, "杭民发"]]
    )
    rng = random.Random(20250701)
    started = time.monotonic()
    state = _check(registry)
    outcomes = {"old": 0, "new": 0}
    for run in range(RUNS):
        base = len(state["numbers"])
        note = f"run {run}"

        effective = date(2025, 5, 1 + run % 28)

        args = [str(tables), COUNTY, effective.isoformat(), note, str(base), str(registry)]
        if run % 2 == 0:  # killed at a named point of the transaction
            child = _start(args, f"{rng.choice(POINTS)}:kill")
        else:  # killed at a random moment, the transaction held open at a random point
            child = _start(args, f"{rng.choice(POINTS)}:sleep:0.15")
            time.sleep(rng.uniform(0.3, 1.2))  # a fresh interpreter takes a moment to start
            try:
                os.kill(child.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        child.wait()
        state = _check(registry)
        assert state["problems"] == [], f"run {run}: {state['problems']}"
        numbers = state["numbers"]
        assert numbers == list(range(1, len(numbers) + 1)), f"run {run}: {numbers}"
        assert len(numbers) in (base, base + 1), f"run {run}: {base} -> {numbers}"
        if len(numbers) == base + 1:
            assert state["notes"][-1] == note
            outcomes["new"] += 1
        else:
            outcomes["old"] += 1
    assert outcomes["old"] and outcomes["new"], outcomes  # both outcomes were exercised
    assert time.monotonic() - started < 300
