"""``jiuzhu synth`` and ``jiuzhu bench``: synthetic populations and the benchmark."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from compiler.cli import memory_size, parse_date, positive

    synth = sub.add_parser("synth", help="生成合成人口（synthetic households）")
    synth.add_argument("--households", type=positive, required=True, help="户数")
    synth.add_argument("--seed", type=int, default=1)
    synth.add_argument("--out", required=True, help="households.parquet 或 .duckdb")
    synth.add_argument("--tables", default="tables")
    synth.add_argument("--replace", action="store_true", help="覆盖已有的输出文件")
    synth.set_defaults(run=run_synth)

    bench = sub.add_parser("bench", help="性能测试（benchmark）")
    bench.add_argument(
        "--households", type=positive, nargs="+", default=[100_000], help="各次测试的户数"
    )
    bench.add_argument("--runs", type=positive, default=3, help="每项测量的次数（取中位数）")
    bench.add_argument("--seed", type=int, default=1)
    bench.add_argument("--tables", default="tables")
    bench.add_argument("--as-of", type=parse_date, default=date(2025, 6, 1))
    bench.add_argument("--work", default="build/bench")
    bench.add_argument("--sample", type=positive, default=2000, help="解释器抽样户数")
    bench.add_argument(
        "--memory-limit", type=memory_size, default=None, help="DuckDB 内存上限，如 1GB"
    )
    bench.set_defaults(run=run_bench)


def _counties(tables: str) -> list[str]:
    """The county codes of the tables folder; ValidationFailed when it has none to offer
    (no such folder, say), so the user reads why instead of a complaint about the count."""
    from compiler.diagnostics import Report
    from compiler.errors import ValidationFailed
    from compiler.resolve import load_tables

    report = Report()
    codes = load_tables(tables, report).county_codes()
    if not codes and report.has_errors:
        raise ValidationFailed(report.errors)
    return codes


def run_synth(args: argparse.Namespace) -> int:
    from compiler.output_guard import BREAKS_TABLES, Written, guard_outside
    from compiler.synth import synthesise

    # households.parquet and its members and events files: E002 among the workbooks
    guard_outside(args.out, args.tables, written=Written(
        example="synth/households.parquet", effect=BREAKS_TABLES, also="，--replace 也不能覆盖"))
    result = synthesise(args.households, args.seed, args.out, _counties(args.tables), replace=args.replace)
    print(
        f"已生成 {result.households} 户、{result.members} 名成员、{result.events} 个事件"
        f"（{result.seconds:.1f} 秒）：" + "，".join(str(p) for p in result.paths)
    )
    return 0


def run_bench(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from compiler import bench
    from compiler.output_guard import (
        BREAKS_TABLES,
        Written,
        guard_outside,
        guard_scratch,
    )

    guard_outside(args.work, args.tables, written=Written(
        noun="工作文件夹", kind="文件夹", option="--work", example="build/bench",
        effect=BREAKS_TABLES, also=""))
    # each evaluation measured loads the households and spills there (E613)
    guard_scratch(args.tables)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    counties = _counties(args.tables)
    console = Console(width=None if sys.stdout.isatty() else 140)
    built = bench.measure_build(args.tables, args.as_of, args.runs)
    console.print(f"(a) 编译全部 {len(counties)} 个县：中位数 {built.median:.2f} 秒")
    table = Table(title=f"jiuzhu bench（{args.runs} 次运行取中位数）")
    for column in ("户数", "全部决策 秒", "户/秒", "峰值内存 MB", "扫描下限 秒", "相对下限",
                   "解释器 户/秒", "相对解释器"):
        table.add_column(column, justify="right")
    for households in args.households:
        path = bench.population(work, households, args.seed, counties)
        evaluation = bench.measure_evaluation(
            args.tables, path, args.as_of, args.runs, work, args.memory_limit
        )
        scan = bench.measure_scan(path, args.runs)
        interpreted = bench.measure_interpreter(
            args.tables, path, args.as_of, min(args.sample, households)
        )
        staged = bench.measure_stages(args.tables, path, args.as_of, args.memory_limit)
        slowest = max(staged, key=lambda stage: stage[1])
        console.print(f"{households:,} 户各阶段用时（一次运行）：")
        for name, seconds in staged:
            console.print(f"  {seconds:8.2f} 秒  {name}", soft_wrap=True)
        console.print(f"最慢的阶段：{slowest[0]}（{slowest[1]:.2f} 秒）", soft_wrap=True)
        rate = households / evaluation.median
        table.add_row(
            f"{households:,}", f"{evaluation.median:.2f}", f"{rate:,.0f}",
            f"{evaluation.peak:,.0f}", f"{scan.median:.2f}",
            f"{evaluation.median / scan.median:.1f}x", f"{interpreted:,.0f}",
            f"{rate / interpreted:,.0f}x",
        )
    console.print(table)
    return 0
