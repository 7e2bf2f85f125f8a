"""The DMN commands: ``import-dmn``, ``export-dmn`` and ``conformance`` (docs/dmn.md).

Like every command they only call the library and print what it returns: diagnostics
on standard error, a one-line result on standard output; exit 0 when all went well,
1 when something was refused or failed, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from compiler.diagnostics import Report, render_text


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from compiler.cli import parse_date

    imported = subparsers.add_parser(
        "import-dmn", help="导入 DMN 决策表（import a DMN model）"
    )
    imported.add_argument("model", help="DMN 1.1-1.5 文件（.dmn）")
    imported.add_argument("--out", required=True, help="工作簿 .xlsx，或 CSV 文件夹")
    imported.add_argument(
        "--replace", action="store_true", help="覆盖已有的工作簿或同名 CSV 文件（默认拒绝）"
    )
    imported.set_defaults(run=run_import)

    exported = subparsers.add_parser(
        "export-dmn", help="导出为 DMN 1.3（export to DMN）"
    )
    exported.add_argument("--county", required=True, help="六位行政区划代码")
    exported.add_argument("--version", type=int, default=None, help="已发布的版本号")
    exported.add_argument("--out", required=True, help="输出的 .dmn 文件")
    exported.add_argument("--tables", default="tables")
    exported.add_argument(
        "--as-of", type=parse_date, default=None, help="标准参数取值的日期，默认今天"
    )
    exported.add_argument(
        "--partial",
        action="store_true",
        help="跳过不能导出的决策表（其输出改为输入数据），而不是整体拒绝",
    )
    exported.set_defaults(run=run_export)

    conformance = subparsers.add_parser(
        "conformance", help="运行 DMN TCK 一致性用例（run DMN TCK cases）"
    )
    conformance.add_argument("folder", help="用例文件夹（含 pass/ 与 reject/）")
    conformance.add_argument("-q", "--quiet", action="store_true", help="只打印汇总")
    conformance.set_defaults(run=run_conformance)


def run_import(args: argparse.Namespace) -> int:
    from compiler.dmn_import import import_dmn, write_workbook

    imported = import_dmn(args.model)  # refusals raise InputError: printed, exit 1
    written = write_workbook(imported, args.out, replace=args.replace)
    print(
        f"已导入 {len(imported.tables)} 张决策表、{len(imported.fields)} 个字段"
        f"（DMN {imported.version}），写入 {written}"
    )
    return 0


def run_export(args: argparse.Namespace) -> int:
    from compiler.dmn_export import export_dmn
    from compiler.output_guard import BREAKS_TABLES, Written, guard_outside

    # a .dmn among the county workbooks is E002 at every later check
    guard_outside(args.out, args.tables, written=Written(
        example="330106.dmn", effect=BREAKS_TABLES, also=""))
    as_of = args.as_of or date.today()
    plan = _plan(args, as_of)
    if plan is None:
        return 1
    result = export_dmn(plan, as_of, partial=args.partial)
    if result.refused:
        print(render_text(result.refused), file=sys.stderr)
    Path(args.out).write_bytes(result.xml)
    print(
        f"已导出 {len(result.tables)} 张决策表（{len(result.refused)} 处不能导出），"
        f"标准参数按 {as_of} 代入，写入 {args.out}"
    )
    return 0


def _plan(args: argparse.Namespace, as_of: date):  # type: ignore[no-untyped-def]
    from compiler.bind import bind
    from compiler.engine import open_project

    if args.version is None:
        project = open_project(args.tables, [args.county], as_of)
        if project.report.has_errors:
            print(render_text(project.report.errors), file=sys.stderr)
            print("工作表存在错误，未导出", file=sys.stderr)
            return None
        return project.plan(args.county)
    try:
        from compiler.registry import Registry, default_path
    except ImportError:
        print("--version 需要登记簿模块（compiler/registry.py），尚未提供；"
              "请先不带 --version 导出工作副本", file=sys.stderr)  # fmt: skip
        return None
    version = Registry(default_path(args.tables)).get(args.county, args.version)
    report = Report()
    plan = bind(version.rulebook(), report)
    if report.has_errors:
        print(render_text(report.errors), file=sys.stderr)
        return None
    return plan


def run_conformance(args: argparse.Namespace) -> int:
    from compiler.conformance import case_folders, run_all

    if not case_folders(args.folder):
        print(f"「{args.folder}」中没有 .dmn 用例", file=sys.stderr)
        return 2
    summary = run_all(args.folder)
    for case in summary.cases:
        if not args.quiet:
            print(case.summary())
            for failure in case.failures:
                print(f"    不符：{failure}")
    print(summary.line())
    for case in summary.failed:
        print(f"failed: {case.name}")
    return 0 if not summary.failed else 1


__all__ = ["register"]
