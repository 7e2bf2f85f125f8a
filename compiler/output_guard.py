"""Where ``evaluate`` may write its decisions, checked before any work.

``guard_output`` refuses an ``--out``

- that cannot be written: a missing or read-only folder, a folder, a name over 255
  bytes (E605), an extension that is no decision format (E002);
- that would replace what the run reads (E613): the households file or the name of
  one beside it (members, events), whether it exists or not (decisions written as
  ``a-events.csv`` beside ``a-households.csv`` were read as its events by the next
  run), anything in the tables folder (a ``.csv`` there is read as a sheet of the
  tables), the registry of versions or its default folder. Never written, whatever
  the options; a link is judged by the file it names, which is what is written;
- that names an existing file Jiuzhu did not write as decisions (E617), unless the
  user says ``replace``. A file of decisions (``output.written_by_jiuzhu``: the
  decision columns' header) is replaced without asking, so that running the same
  command again, to decide on another date or with edited tables, stays one command;
  asking every time would teach users to always add ``--replace``, which would then
  guard nothing. The tester's ``--out tables/province/标准参数.csv`` had replaced the
  province's standards with decisions, and no backup was kept.

``guard_outside`` is that E613 for the tables folder and the registry on its own, for
every other command that writes a file or folder (build, export, export-dmn, synth,
bench, user add; docs/diagnostics.md): ``build --out tables/counties`` had written
``manifest.json`` and ``sql/`` among the county workbooks, and every later check,
build and publish failed with E002 and E109 (helper-82).

``guard_scratch`` refuses a temporary folder (``TMPDIR``) inside the tables folder
(E613): the run writes its batches and DuckDB's spill folder there, and a folder among
the county workbooks made the next ``jiuzhu check`` fail (E109). Refusing says what
to change; quietly choosing another folder would hide where the files go.
"""

from __future__ import annotations

import csv
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from compiler.diagnostics import Location, make
from compiler.errors import InputError
from compiler.households_values import quoted
from compiler.output import (
    DECISION_COLUMNS,
    format_of,
    parquet_columns,
    written_by_jiuzhu,
)


def guard_output(
    out: str | Path,
    households: str | Path,
    tables: str | Path,
    registry: str | Path | None = None,
    replace: bool = False,
) -> None:
    """Refuse ``out`` before any work when it cannot or must not be written.

    Args:
        out: the decisions file asked for.
        households: the households file read (its members and events files too).
        tables: the tables folder read.
        registry: the registry file read, when there is one.
        replace: the user said an existing file that holds no decisions may go.

    Raises:
        InputError: E605, E002, E613 or E617 (see the module's docstring).
    """
    _refuse_unwritable(out)
    format_of(Path(out))
    _refuse_overwriting_input(households, out)
    guard_outside(out, tables, registry)
    if not replace:
        _refuse_replacing(out)


def _refuse_overwriting_input(households: str | Path, out: str | Path) -> None:
    """E613 when the decisions would be written over the input, or under a name the
    run reads as part of it (its members or events file, there or not yet)."""
    target = _target(out)
    for path, what in _input_files(households).items():
        if target != path:
            continue
        effect = "写入会覆盖它" if path.exists() else f"下次运行会把写出的决策结果当作{what}读取"
        raise InputError(
            make("E613", f"输出文件{'就' if what == '家庭数据文件' else ''}是输入的{what}，{effect}",
                 Location(file=str(out)), found=str(out),
                 expected="另一个文件名，如 decisions.parquet",
                 hint=f"家庭数据文件 {Path(households).name} 旁边只差 members/events 的文件"
                      "会被当作成员、事件文件读取；输入文件保持不变，请用 --out 指定新的文件")
        )


def _input_files(households: str | Path) -> dict[Path, str]:
    """The files a run of ``households`` reads, resolved, each with what it is: the
    file itself and, for CSV or Parquet, the members and events files named beside it
    as ``households.open_source`` names them, whether they exist or not."""
    path = Path(households)
    named = {path: "家庭数据文件"}
    suffix = path.suffix
    stem = path.name[: -len(suffix)] if suffix else path.name
    if suffix.lower() in (".csv", ".parquet") and stem.endswith("households"):
        base = stem[: -len("households")]
        named[path.with_name(f"{base}members{suffix}")] = "成员文件"
        named[path.with_name(f"{base}events{suffix}")] = "事件文件"
    try:
        return {p.resolve(): what for p, what in named.items()}
    except (OSError, RuntimeError):  # a loop of links: the load reports the input
        return {p.absolute(): what for p, what in named.items()}


def _target(out: str | Path) -> Path:
    """The file ``out`` names, through links: what is checked is what is written.
    E605 for a loop of links."""
    try:
        return Path(out).resolve()
    except (OSError, RuntimeError):
        raise InputError(
            make("E605", "--out 是循环的符号链接，找不到它指向的文件",
                 Location(file=str(out)), found=str(out),
                 expected="一个文件的路径，或指向文件的符号链接",
                 hint="删除或改正该符号链接，或用 --out 指定另一个文件")
        ) from None


def guard_scratch(tables: str | Path) -> None:
    """E613 before any work when the temporary folder lies in the tables folder.

    Raises:
        InputError: E613, naming the temporary folder and the tables folder.
    """
    scratch = Path(tempfile.gettempdir()).resolve()
    root = Path(tables).resolve()
    if not scratch.is_relative_to(root):
        return
    raise InputError(
        make("E613", "临时文件夹在正在读取的决策表文件夹中，运行时写入的临时文件会被当作决策表",
             Location(file=str(scratch)), found=str(scratch),
             expected=f"决策表文件夹 {tables} 以外的临时文件夹，如 /tmp",
             hint="环境变量 TMPDIR（Windows 为 TEMP、TMP）指向了决策表文件夹；"
                  "改为另一个文件夹后再运行，如 TMPDIR=/tmp jiuzhu evaluate …")
    )


@dataclass(frozen=True)
class Written:
    """How a command's message names what it writes: ``noun`` (输出文件, 输出文件夹),
    its ``kind`` (文件, 文件夹), the ``option`` that names it, an ``example`` outside
    the tables folder, the ``effect`` of a file there on the next read, and what
    ``also`` cannot change the refusal. The defaults are ``evaluate``'s."""

    noun: str = "输出文件"
    kind: str = "文件"
    option: str = "--out"
    example: str = "build/decisions.csv"
    effect: str = "决策表文件夹中的 .csv 文件会被当作决策表读取"
    also: str = "，--replace 也不能覆盖"


# what any other file or folder in the tables folder does to the next read: a file in
# counties/ or cities/ is E002, a folder there E109 (helper-82: build --out
# tables/counties), a workbook in province/ replaces the province's CSV files
BREAKS_TABLES = "决策表文件夹中的其他文件会被当作工作簿读取（jiuzhu check 报 E002、E109）"


def guard_outside(
    out: str | Path,
    tables: str | Path,
    registry: str | Path | None = None,
    written: Written = Written(),
) -> None:
    """Refuse ``out``, a file or folder a command is to write, before any work when it
    lies in the tables folder, the registry's default folder beside it, or is the
    registry file itself (as links resolve: a link into them is refused too).

    Args:
        out: the file or folder to be written.
        tables: the tables folder the command reads (or checks against).
        registry: the registry file, when the command names one.
        written: how the message names ``out``.

    Raises:
        InputError: E613, naming ``out`` and the folder it lies in.
    """
    from compiler.registry import DEFAULT_LOCATION

    target = _target(out)
    root = Path(tables).resolve()
    if target.is_relative_to(root):
        raise InputError(
            make("E613", f"{written.noun}在正在读取的决策表文件夹中，写入会改变决策表",
                 Location(file=str(out)), found=str(out),
                 expected=f"决策表文件夹 {tables} 以外的{written.kind}，如 {written.example}",
                 hint=f"{written.effect}{written.also}；请用 {written.option} 写到另一个文件夹")
        )
    folder = root.parent / DEFAULT_LOCATION.parent
    if target.is_relative_to(folder) or (registry and target == Path(registry).resolve()):
        raise InputError(
            make("E613", f"{written.noun}在版本登记簿的位置，写入会改变登记簿",
                 Location(file=str(out)), found=str(out),
                 expected=f"登记簿文件夹 {folder} 以外的{written.kind}，如 {written.example}",
                 hint=f"登记簿保存全部已发布版本{written.also}；请用 {written.option} 写到另一个文件夹")
        )


def _refuse_replacing(out: str | Path) -> None:
    """E617 when ``out`` exists and holds something other than decisions."""
    path = Path(out)
    if not path.exists() or written_by_jiuzhu(path):
        return
    header = ",".join(DECISION_COLUMNS[:3])
    raise InputError(
        make("E617", "输出文件已存在，且不是 jiuzhu 写出的决策结果，未覆盖",
             Location(file=str(out)), found=_described(path),
             expected=f"新的文件名，或 jiuzhu 写出的决策结果文件（表头为 {header},…）",
             hint="原文件保持不变；确需覆盖时加 --replace（原文件不备份），或用 --out 指定新的文件")
    )


def _described(path: Path) -> str:
    """What ``path`` holds, in a few words: how its columns differ from the decision
    columns when it has some of them, else its first line (control characters shown
    as <U+001B>, a UTF-16 file decoded) or a Parquet file's first columns."""
    try:
        if format_of(path) == "parquet":
            columns = parquet_columns(path)
            first = None
        else:
            first = _first_line(path)
            columns = _header(first, format_of(path))
    except (OSError, InputError, duckdb.Error):
        return "无法读取的文件"
    if columns is not None and set(columns) & set(DECISION_COLUMNS):
        return _difference(columns) or "表头的写法不同：首行为 " + str(quoted(first))
    if first is None:
        return "列为 " + str(quoted(", ".join(columns or [])))
    return "首行为 " + str(quoted(first))


def _first_line(path: Path) -> str:
    """The first line of a text file, decoded as UTF-8 or, after its byte order
    mark, UTF-16 (Excel's 「Unicode 文本」); bytes that are neither shown as U+FFFD."""
    with path.open("rb") as opened:
        start = opened.read(4000)
    if start[:2] in (b"\xff\xfe", b"\xfe\xff"):
        text = start.decode("utf-16", errors="replace")
    else:
        text = start.decode("utf-8-sig", errors="replace")
    return (text.splitlines() or [""])[0]


def _header(first: str, fmt: str) -> list[str] | None:
    """The column names a CSV header or a JSON Lines object's keys give, if any."""
    if fmt == "csv":
        return next(csv.reader([first]), [])
    try:
        record = json.loads(first)
    except ValueError:  # not JSON, or a first line longer than read
        return None
    return list(record) if isinstance(record, dict) else None


def _difference(columns: list[str], most: int = 3) -> str:
    """The decision columns ``columns`` lacks and the ones it has beyond them (the
    first ``most`` of each), or the first place where their order differs; empty
    when they are the decision columns."""
    missing = [c for c in DECISION_COLUMNS if c not in columns]
    extra = [c for c in columns if c not in DECISION_COLUMNS]
    said = [
        f"{what} {'、'.join(str(quoted(c)) for c in names[:most])}"
        + (f" 等 {len(names)} 列" if len(names) > most else "")
        for what, names in (("缺少列", missing), ("多出列", extra))
        if names
    ]
    if said:
        return "；".join(said)
    for number, (found, expected) in enumerate(zip(columns, DECISION_COLUMNS), start=1):
        if found != expected:
            return f"第 {number} 列为 {quoted(found)}，应为 {expected}"
    if len(columns) != len(DECISION_COLUMNS):  # a decision column repeated at the end
        return f"共 {len(columns)} 列，应为 {len(DECISION_COLUMNS)} 列"
    return ""


def _refuse_unwritable(out: str | Path) -> None:
    """E605 before any work when the output's name is over 255 bytes, names a folder,
    or its folder is missing or takes no file (a mistyped or read-only path), rather
    than an error at the end, after all the deciding."""
    if len(Path(out).name.encode()) > 255:
        raise InputError(
            make("E605", "输出文件名过长", Location(file=str(out)),
                 found=f"{len(Path(out).name.encode())} 字节",
                 expected="文件名不超过 255 字节（约 85 个汉字）",
                 hint="用一个较短的文件名")
        )
    if Path(out).is_dir():
        raise InputError(
            make("E605", "--out 指向的是一个文件夹", Location(file=str(out)), found=str(out),
                 expected="一个文件的路径，如 build/decisions.csv",
                 hint="在文件夹路径后加上文件名")
        )
    folder = _target(out).parent
    problem = None if folder.is_dir() else "输出文件所在的文件夹不存在"
    if problem is None:
        try:
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".jiuzhu-probe-"):
                pass
        except OSError:
            problem = "无法在输出文件所在的文件夹中写入文件"
    if problem:
        raise InputError(
            make("E605", problem, Location(file=str(out)), found=str(folder),
                 expected="一个已有且可写入的文件夹中的文件，如 decisions.csv",
                 hint="核对 --out 的路径，或先建立该文件夹、确认有写入权限")
        )


__all__ = ["BREAKS_TABLES", "Written", "guard_output", "guard_outside", "guard_scratch"]
