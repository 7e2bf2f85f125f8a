"""Load script for the HTTP service (not a test; run it by hand, on loopback only).

    .venv/bin/python tests/load_service.py [--duration 60] [--clients 50] [--batches 3]

Starts ``jiuzhu serve`` on 127.0.0.1 with the real tables/, then

1. single-household decisions from ``--clients`` concurrent clients (httpx, async) for
   ``--duration`` seconds or ``--requests`` requests, whichever comes first, the
   households drawn in turn from tables/samples/households.jsonl;
2. ``--batches`` requests of ``--batch-size`` synthetic households each (compiler.synth,
   spread over every county), one after the other;

and prints p50/p99 latency and throughput of each phase. The server's log goes to a
file whose name is printed; the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
AS_OF = "2025-08-01"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start_server(tables: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-m",
        "compiler.cli",
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--tables",
        str(tables),
    ]
    handle = log.open("wb")
    return subprocess.Popen(command, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT)


def wait_ready(base: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("the service did not start; see its log")


def sample_households() -> list[dict]:
    path = ROOT / "tables" / "samples" / "households.jsonl"
    return [
        json.loads(line)
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


def synthetic_households(count: int, tables: Path, scratch: Path) -> list[dict]:
    from compiler.diagnostics import Report
    from compiler.households import iter_households
    from compiler.resolve import load_tables
    from compiler.synth import synthesise

    counties = load_tables(tables, Report()).county_codes()
    result = synthesise(count, 7, scratch / "households.parquet", counties)
    return json.loads(
        json.dumps(list(iter_households(result.paths[0])), default=_plain)
    )


def _plain(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(type(value).__name__)


def summary(
    name: str, latencies: list[float], seconds: float, households: int, failures: int
) -> str:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) if ordered else float("nan")
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else p50
    return (
        f"{name}: {len(ordered)} requests ({failures} failed), {households} households "
        f"in {seconds:.1f} s; p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms; "
        f"{len(ordered) / seconds:.2f} requests/s, {households / seconds:.1f} households/s"
    )


async def single_phase(
    base: str, households: list[dict], clients: int, duration: float, limit: int
) -> str:
    latencies: list[float] = []
    failures = [0]
    deadline = time.monotonic() + duration
    counter = iter(range(limit))

    async def client(http: httpx.AsyncClient) -> None:
        for n in counter:
            if time.monotonic() > deadline:
                return
            body = {"as_of": AS_OF, "households": [households[n % len(households)]]}
            started = time.perf_counter()
            try:
                response = await http.post(f"{base}/v1/decisions", json=body)
            except httpx.TransportError:  # e.g. a keep-alive connection just closed
                failures[0] += 1
                continue
            latencies.append(time.perf_counter() - started)
            failures[0] += response.status_code != 200

    started = time.perf_counter()
    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(timeout=600, limits=limits) as http:
        await asyncio.gather(*(client(http) for _ in range(clients)))
    seconds = time.perf_counter() - started
    return summary(
        f"single-household, {clients} clients",
        latencies,
        seconds,
        len(latencies),
        failures[0],
    )


def batch_phase(base: str, households: list[dict], batches: int) -> str:
    latencies, failures = [], 0
    body = json.dumps({"as_of": AS_OF, "households": households}).encode()
    started = time.perf_counter()
    with httpx.Client(timeout=900) as http:
        for _ in range(batches):
            began = time.perf_counter()
            response = http.post(
                f"{base}/v1/decisions",
                content=body,
                headers={"content-type": "application/json"},
            )
            latencies.append(time.perf_counter() - began)
            failures += response.status_code != 200
            if response.status_code != 200:
                print(response.text[:500])
    seconds = time.perf_counter() - started
    size = f"{len(body) / 1e6:.1f} MB"
    return summary(
        f"batches of {len(households)} households ({size})",
        latencies,
        seconds,
        len(households) * batches,
        failures,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", default=str(ROOT / "tables"))
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=10_000)
    args = parser.parse_args()
    port, tables = free_port(), Path(args.tables)
    scratch = Path(tempfile.mkdtemp(prefix="jiuzhu-load-"))
    log = scratch / "service.log"
    server = start_server(tables, port, log)
    base = f"http://{HOST}:{port}"
    try:
        wait_ready(base)
        print(
            f"service on {base}, log {log}; {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        samples = sample_households()
        warm = time.perf_counter()
        httpx.post(
            f"{base}/v1/decisions",
            json={"as_of": AS_OF, "households": samples},
            timeout=600,
        ).raise_for_status()
        print(f"warm-up (open tables, first run): {time.perf_counter() - warm:.1f} s")
        print(
            asyncio.run(
                single_phase(base, samples, args.clients, args.duration, args.requests)
            )
        )
        if args.batches:
            batch = synthetic_households(args.batch_size, tables, scratch)
            print(batch_phase(base, batch, args.batches))
        print(f"load average after: {os.getloadavg()[0]:.1f}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
