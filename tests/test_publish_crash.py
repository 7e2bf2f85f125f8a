"""A publish killed at any point leaves the registry whole: the old version or the new.

Each run forks a child that publishes the county's next version and is killed: at a
named point of the transaction (through $JIUZHU_REGISTRY_FAULT), or after a random
delay while the transaction is held open by a sleep at one of those points. A second
forked child then opens the registry, verifies the chains and reports the county's
versions; this process itself never opens the registry, so no DuckDB state is shared
across a fork.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from compiler.registry import Registry, publish
from tests.test_registry import COUNTY, set_county_standards, write_rulebook

RUNS = 50
POINTS = ("opened", "checked", "inserted", "committed")

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _child(work: object) -> None:
    """Run ``work`` in a forked child; the child exits 0 on success, 1 on an error."""
    try:
        work()  # type: ignore[operator]
    except BaseException as error:  # noqa: BLE001 - report anything, from a child
        sys.stderr.write(f"{type(error).__name__}: {error}\n")
        os._exit(1)
    os._exit(0)


def _fork(work: object, fault: str | None = None) -> int:
    pid = os.fork()
    if pid == 0:
        if fault:
            os.environ["JIUZHU_REGISTRY_FAULT"] = fault
        else:
            os.environ.pop("JIUZHU_REGISTRY_FAULT", None)
        _child(work)
    return pid


def _check(registry: Path) -> dict:
    """Verify the registry in a forked child; returns what it found."""
    read, write = os.pipe()

    def work() -> None:
        store = Registry(registry)
        versions = store.versions()
        problems = [p.render() for p in store.check(versions)]
        numbers = [v.number for v in versions if v.county_code == COUNTY]
        notes = [v.note for v in versions if v.county_code == COUNTY]
        os.write(
            write,
            json.dumps(
                {"problems": problems, "numbers": numbers, "notes": notes}
            ).encode(),
        )

    pid = _fork(work)
    os.close(write)
    data = b""
    while chunk := os.read(read, 65536):
        data += chunk
    os.close(read)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, (
        "the checker could not open the registry"
    )
    return json.loads(data)


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

        effective = date(2025, 1, 1 + run % 28)

        def work(
            base: int = base, note: str = note, effective: date = effective
        ) -> None:
            publish(
                tables,
                COUNTY,
                effective,
                note,
                "crash",
                base,
                registry,
                analyse=None,
            )

        if run % 2 == 0:  # killed at a named point of the transaction
            pid = _fork(work, f"{rng.choice(POINTS)}:kill")
        else:  # killed at a random moment, the transaction held open at a random point
            pid = _fork(work, f"{rng.choice(POINTS)}:sleep:0.15")
            time.sleep(rng.uniform(0.0, 0.45))
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        os.waitpid(pid, 0)
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
    assert time.monotonic() - started < 120
