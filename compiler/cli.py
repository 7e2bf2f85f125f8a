"""The ``jiuzhu`` command: a thin layer over the library (STYLE.md, habit 13).

Every command prints diagnostics like a compiler and exits 0 when there are no errors,
1 when there are, 2 on a usage error; a Python traceback never reaches the user (set
JIUZHU_DEBUG=1 to see one for an internal error).
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from compiler.cli_argparse import Parser, localise_argparse
from compiler.diagnostics import Report, render_json, render_text
from compiler.errors import InputError, JiuzhuError

Command = Callable[[argparse.Namespace], int]
COMMANDS: dict[str, Command] = {}

localise_argparse()  # usage:, options: and argparse's errors in Chinese


def command(name: str) -> Callable[[Command], Command]:
    def register(function: Command) -> Command:
        COMMANDS[name] = function
        return function

    return register


def parse_date(text: str, where: str = "命令行中") -> date:
    """A --as-of or --effective date, within the years the working-day calendar covers
    (as the service's as_of); the messages are for users (``where`` they type it)."""
    from compiler.normalise import ParseProblem, fold_text
    from compiler.normalise import parse_date as parse

    # 「４５９００」 typed with a Chinese input method is the same slip (helper-46)
    if re.fullmatch(r"\s*[0-9]{1,7}(\.[0-9]*)?\s*", fold_text(text)):
        # a spreadsheet cell's serial number (45900 is 2025-08-31) is a date in a table,
        # but typed on a command line it is more likely a slip: a version is for ever
        raise argparse.ArgumentTypeError(
            f"日期「{text}」是一个数字（像 Excel 的日期序号），{where}请写成 2025-07-01"
        )
    try:
        day = parse(text)
    except ParseProblem as problem:
        said = f"不存在（{problem.hint}）" if problem.message == "日期不存在" else (
            f"无法识别：{problem.expected}"
        )
        raise argparse.ArgumentTypeError(f"日期「{text}」{said}") from None
    return within_calendar(text, day)


def within_calendar(text: str, day: date) -> date:
    """``day`` (typed as ``text``), or a usage error when it lies outside the years the
    working-day calendar covers: decisions on it could not count working days."""
    from compiler.calendar import FIRST_DAY, LAST_DAY

    if not FIRST_DAY <= day <= LAST_DAY:
        raise argparse.ArgumentTypeError(
            f"日期「{text}」超出 {FIRST_DAY} 至 {LAST_DAY} 的范围（工作日历覆盖的年份）"
        )
    return day


def count(text: str, least: int = 0) -> int:
    """A --limit: a whole number written in digits 0-9, ``least`` or more."""
    if not re.fullmatch(r"[0-9]+", text.strip()) or int(text) < least:
        wanted = "正整数" if least else "不小于 0 的整数"
        raise argparse.ArgumentTypeError(f"「{text}」应为{wanted}")
    return int(text)


def batch_households(text: str) -> int:
    """A --batch-size: households decided at once, at least 1."""
    return count(text, least=1)


TABLES_HELP = "决策表文件夹，默认 tables"
AS_OF_HELP = "决策日，默认今天"


def positive(text: str) -> int:
    """A number of households or runs: a whole number, one or more."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"「{text}」应为正整数")
    return value


def memory_size(text: str) -> str:
    """A --memory-limit, checked as it is read so that a bad size is a usage error."""
    from compiler.engine import memory_setting

    try:
        return memory_setting(text)
    except InputError as error:
        problem = error.diagnostics[0]
        raise argparse.ArgumentTypeError(
            f"{problem.message}（实际为「{text}」，应为{problem.expected}）"
        ) from None


def parser() -> argparse.ArgumentParser:
    top = Parser(
        prog="jiuzhu",
        description="救助：浙江低收入人口救助规则的决策表编译器（Jiuzhu decision-table compiler）",
    )
    top.add_argument("-v", "--verbose", action="store_true", help="打印各步耗时")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")

    check = sub.add_parser("check", help="检查决策表（validate the tables）")
    check.add_argument("tables", nargs="?", default="tables", help=TABLES_HELP)
    check.add_argument("--county", action="append", type=county_code, help="只检查该县（可重复）")
    check.add_argument("--as-of", type=parse_date, default=None, help=AS_OF_HELP)
    check.add_argument("--format", choices=("text", "json"), default="text", help="输出格式")
    check.add_argument("--no-analysis", action="store_true", help="跳过缺口、重叠分析")
    check.add_argument("--limit", type=count, default=200, help="最多显示多少条（text 格式）")

    build = sub.add_parser("build", help="编译为 SQL（compile every county to SQL）")
    build.add_argument("tables", nargs="?", default="tables", help=TABLES_HELP)
    build.add_argument("--out", required=True, help="写出 SQL 的文件夹")
    build.add_argument("--county", action="append", type=county_code, help="只编译该县（可重复）")
    build.add_argument("--as-of", type=parse_date, default=None, help=AS_OF_HELP)

    evaluate = sub.add_parser("evaluate", help="对家庭数据作出决策（decide for households）")
    _evaluation_arguments(evaluate)
    evaluate.add_argument("--out", required=False, help=".csv、.parquet 或 .jsonl")
    evaluate.add_argument(
        "--replace", action="store_true",
        help="覆盖已有的、不是决策结果的输出文件（默认拒绝；jiuzhu 写出的决策结果文件直接覆盖，"
             "决策表文件夹和登记簿始终拒绝）",
    )
    evaluate.add_argument("--summary", action="store_true", help="打印各县各类别户数")
    evaluate.add_argument(
        "--memory-limit", type=memory_size, default=None,
        help="DuckDB 内存上限，如 1GB；默认 4GiB（机器内存较小时取其 80%%），超出部分写入临时文件",
    )
    evaluate.add_argument(
        "--batch-size", type=batch_households, default=None,
        help="每批决策的户数；默认按内存上限取值，最多 1000000。户数更多时分批决策、逐批写出",
    )

    evaluate.add_argument(
        "--trace",
        choices=("full", "compact", "none"),
        default="full",
        help="决策依据：full 含单元格与政策条款，compact 仅表与规则，none 不输出",
    )

    explain = sub.add_parser("explain", help="解释一户的决策（explain one household）")
    explain.add_argument("household_id", help="要解释的户编号")
    _evaluation_arguments(explain)
    _console_command(sub)
    for module in _extensions():
        module.register(sub)
    _verbose_after(sub)
    return top


def _console_command(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """``jiuzhu console``: the launcher ``make console`` runs (console/serve.py), from
    any folder: ``python -m console.serve`` works only in the repository, and said so
    in Python's English (helper-133)."""
    console = sub.add_parser(
        "console", help="在 127.0.0.1 上启动管理控制台（同 make console）",
        description="在 127.0.0.1 上启动救助管理控制台。决策表、用户等按环境变量 JIUZHU_TABLES、"
        "JIUZHU_STATE 等查找，未设置时为当前文件夹中的 tables、.jiuzhu（见 docs/console.md）。",
    )
    console.add_argument(
        "--port", type=_console_port, default=os.environ.get("CONSOLE_PORT", "8501"),
        help="端口，默认 8501 或环境变量 CONSOLE_PORT；被占用时改用一个空闲端口",
    )
    console.add_argument(
        "--demo", action="store_true",
        help="创建（首次）并打印两个演示用户及其密码，密码保存在 $JIUZHU_STATE/demo-passwords.txt",
    )
    console.set_defaults(run=_run_console)


def _console_launcher():  # type: ignore[no-untyped-def]
    """``console.serve``, from the installed packages or else from the checkout this
    ``compiler`` package lies in (an editable install that does not list ``console``)."""
    import importlib
    import importlib.util

    if importlib.util.find_spec("console") is None:
        root = Path(__file__).resolve().parents[1]
        if not (root / "console" / "serve.py").is_file():
            raise UsageError("找不到控制台（console 文件夹）：请在救助项目的文件夹中安装（make setup）")
        sys.path.insert(0, str(root))
    return importlib.import_module("console.serve")


def _console_port(text: str) -> int:
    try:
        port: int = _console_launcher().port_number(text)
    except UsageError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return port


def _run_console(args: argparse.Namespace) -> int:
    """Start the console; the launcher replaces this process with Streamlit's."""
    _console_launcher().main([*(["--demo"] if args.demo else []), "--port", str(args.port)])
    return 0


def _verbose_after(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """-v and --verbose also after a command (jiuzhu evaluate ... -v) and its actions
    (jiuzhu user add ... --verbose), where people add them. --ver still abbreviates
    --version (Parser leaves --verbose out of an abbreviation another option shares).
    A command's own default must not undo a -v given before it."""
    for command in sub.choices.values():
        command.add_argument(
            "-v", "--verbose", action="store_true", dest="verbose", default=argparse.SUPPRESS,
            help="打印各步耗时",
        )
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                _verbose_after(action)


# Modules that add their own commands: each has ``register(subparsers)``, which adds
# parsers whose defaults carry ``run`` (a function of the parsed arguments -> exit code).
EXTENSIONS = (
    "compiler.cli_registry",
    "compiler.cli_dmn",
    "compiler.cli_serve",
    "compiler.cli_bench",
    "compiler.cli_users",
)


def _extensions() -> list:  # type: ignore[type-arg]
    import importlib

    found = []
    for name in EXTENSIONS:
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
    return found


def _evaluation_arguments(sub: argparse.ArgumentParser) -> None:
    sub.add_argument(
        "--households", required=True,
        help="家庭数据：.jsonl、.json、.csv、.txt（制表符分隔）、.parquet 或 .duckdb",
    )
    sub.add_argument("--as-of", type=parse_date, default=None, help="决策日，默认今天")
    sub.add_argument("--tables", default="tables", help=TABLES_HELP)
    sub.add_argument("--county", action="append", type=county_code, help="只决策该县的家庭（可重复）")
    sub.add_argument(
        "--registry",
        default=None,
        help="登记簿文件；默认 registry/jiuzhu-registry.duckdb（存在时按决策日使用生效版本）",
    )
    sub.add_argument(
        "--working-copy", action="store_true", help="忽略已发布版本，使用 tables/ 中的工作副本"
    )


def parse(top: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """``top.parse_args``, except that an option the command does not take is told with
    the command's own usage line (``jiuzhu check --tables x`` printed the top-level
    usage, which does not say what check takes)."""
    args, extra = top.parse_known_args(argv)
    if extra:
        command: argparse.ArgumentParser = top
        while True:
            chosen = next(
                (
                    action.choices.get(getattr(args, action.dest, None) or "")
                    for action in command._actions  # argparse keeps no public list
                    if isinstance(action, argparse._SubParsersAction)
                ),
                None,
            )
            if chosen is None:
                break
            command = chosen
        command.error(argparse._("unrecognized arguments: %s") % " ".join(extra))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(parser(), argv)
    if args.command is None:
        parser().print_help()
        return 2
    if args.verbose:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
        logging.getLogger("jiuzhu").setLevel(logging.DEBUG)  # with each workbook read
    try:
        with _terminated_as_interrupt():
            run = getattr(args, "run", None) or COMMANDS[args.command]
            return run(args)
    except UsageError as error:
        print(f"jiuzhu {args.command}：用法错误：{error}", file=sys.stderr)
        return 2
    except JiuzhuError as error:
        # a household file's problems come at most MAX_PROBLEMS and a count of the rest
        limit = None if isinstance(error, InputError) else 200
        more = "（运行 jiuzhu check --format json 查看决策表的全部问题）"
        print(render_text(error.diagnostics, limit, more), file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C, or Terminated
        return _stopped()
    except BrokenPipeError:  # output piped into head and the like: stop quietly
        sys.stderr.close()
        return 0
    except Exception as error:  # noqa: BLE001 - a bug: say so plainly, keep the traceback for developers
        if _SIGNALLED:
            return _stopped()  # DuckDB stopped its query for the signal, in its own words
        if os.environ.get("JIUZHU_DEBUG"):
            traceback.print_exc()
        print(f"内部错误（请报告给开发者）：{type(error).__name__}: {error}", file=sys.stderr)
        return 3


class Terminated(KeyboardInterrupt):
    """Ctrl-C or SIGTERM (``kill``, a scheduler stopping the job), raised where the
    program runs so that what it cleans up on an interrupt (temporary files, an output
    file not yet complete) is cleaned up. Inside a DuckDB query it stops the query,
    which raises its own error (RuntimeError: Query interrupted) instead:
    ``_SIGNALLED`` remembers why."""


_SIGNALLED: list[int] = []


def _stopped() -> int:
    """Exit after Ctrl-C (130) or SIGTERM (143), the shell's codes for them."""
    if signal.SIGTERM in _SIGNALLED:
        print("已终止", file=sys.stderr)
        return 128 + signal.SIGTERM
    print("已中断", file=sys.stderr)
    return 130


@contextmanager
def _terminated_as_interrupt() -> Iterator[None]:
    def stop(signum: int, frame: object) -> None:
        _SIGNALLED.append(signum)
        raise Terminated

    handled = [signal.SIGTERM]
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        handled.append(signal.SIGINT)  # not when the shell ignores it (a job run with &)
    try:
        before = {signum: signal.signal(signum, stop) for signum in handled}
    except ValueError:  # not the main thread (a test, an embedding): leave it alone
        yield
        return
    try:
        yield
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def _analyser(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    if getattr(args, "no_analysis", False):
        return None
    try:
        from compiler.analyse import analyse
    except ImportError:
        return None
    return analyse


@command("check")
def _check(args: argparse.Namespace) -> int:
    from compiler.engine import open_project

    project = open_project(args.tables, args.county, args.as_of, _analyser(args))
    items = project.report.items
    if args.format == "json":
        print(render_json(items))
    else:
        if items:
            print(render_text(items, limit=args.limit))
        errors, warnings = len(project.report.errors), len(project.report.warnings)
        print(f"检查了 {len(project.plans)} 个县（市、区）：{errors} 个错误，{warnings} 个警告")
    return 1 if project.report.has_errors else 0


@command("build")
def _build(args: argparse.Namespace) -> int:
    from compiler.engine import build, open_project, write_build
    from compiler.output_guard import BREAKS_TABLES, Written, guard_outside

    # the SQL among the county workbooks made every later check fail (E002, E109)
    folder = Written(noun="输出文件夹", kind="文件夹", example="build", effect=BREAKS_TABLES, also="")
    guard_outside(args.out, args.tables, written=folder)
    project = open_project(args.tables, args.county, args.as_of, None)
    if project.report.has_errors:
        print(render_text(project.report.items), file=sys.stderr)
        print("存在错误，未生成 SQL", file=sys.stderr)
        return 1
    result = build(project)
    written = write_build(project, result, args.out)
    print(f"已为 {len(result.programs)} 个县（市、区）生成 SQL（{len(result.groups)} 种结构），"
          f"写入 {args.out}（{len(written)} 个文件）")
    return 0


def _published(args: argparse.Namespace, as_of: date):  # type: ignore[no-untyped-def]
    """The versions in force on the date, when a registry exists and is wanted."""
    if args.working_copy:
        return None, None
    from compiler.cli_registry import registry_named
    from compiler.registry import Registry, default_path, published_project

    named = registry_named(args)
    path = Path(args.registry) if args.registry else default_path(args.tables)
    if not path.exists() and not named:
        return None, None
    store = Registry(path, must_exist=bool(named), named_by=named)  # E705 when named
    return published_project(args.tables, store, as_of, args.county)


def _registry_path(args: argparse.Namespace) -> Path:
    """The registry file ``--registry`` names, or its default location, in use or not:
    no command writes decisions over it."""
    from compiler.registry import default_path

    return Path(args.registry) if args.registry else default_path(args.tables)


@command("evaluate")
def _evaluate(args: argparse.Namespace) -> int:
    from compiler.evaluate import evaluate_file, print_summary

    as_of = args.as_of or date.today()
    project, versions = _published(args, as_of)
    if versions:
        used = sorted(set(versions.values()))
        print(f"决策日 {as_of} 使用的版本：" + "、".join(used[:10])
              + ("……" if len(used) > 10 else ""), file=sys.stderr)
    result = evaluate_file(
        args.tables,
        args.households,
        as_of,
        args.out,
        counties=args.county,
        memory_limit=args.memory_limit,
        progress=sys.stderr.isatty(),
        trace=args.trace,
        project=project,
        versions=versions,
        summary=args.summary or not args.out,
        batch=args.batch_size,
        replace=args.replace,
        registry=_registry_path(args),
    )
    if result.input_warnings:
        print(render_text(result.input_warnings), file=sys.stderr)
    # the decision date's year without a holiday schedule is said once, not counted
    # among the tables' warnings (every county's tables give it)
    dated = list({d.message: d for d in result.warnings if d.code == "W403"}.values())
    # nor again beside the input's line for that year's events, which says as much
    counted = {d.expected for d in result.input_warnings if d.code == "W403"}
    dated = [d for d in dated if d.expected not in counted]
    if dated:
        print(render_text(dated[:1]), file=sys.stderr)
    others = [d for d in result.warnings if d.code != "W403"]
    if others:
        print(f"注意：决策表有 {len(others)} 条警告（如未核实的标准参数），"
              "运行 jiuzhu check 查看详情", file=sys.stderr)
    if args.out:
        print(f"已对 {result.households} 户作出决策（{result.seconds:.2f} 秒），写入 {args.out}")
    if args.summary or not args.out:
        print_summary(result)
    return 0


@command("explain")
def _explain(args: argparse.Namespace) -> int:
    from compiler.explain import explain_file

    as_of = args.as_of or date.today()
    project, versions = _published(args, as_of)
    print(explain_file(args.tables, args.households, args.household_id, as_of, args.county,
                       project=project, versions=versions))
    return 0


def county_code(text: str) -> str:
    """A --county: six digits, as 330106 (a five-digit slip was E606 and exit 1 in
    check and evaluate, a usage error in publish)."""
    if not re.fullmatch(r"[0-9]{6}", text.strip()):
        raise argparse.ArgumentTypeError(f"县（市、区）代码「{text}」应为六位数字，如 330106")
    return text.strip()


class UsageError(Exception):
    """Arguments that parse one by one but do not go together (``publish`` without
    ``--effective`` unless it withdraws): said as argparse says its own, exit 2."""


def usage_error(message: str) -> UsageError:
    return UsageError(message)


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["Path", "Report", "main"]
