"""The registry commands: publish, verify, history, export, diff (a thin layer).

Every command calls library functions (compiler.registry, compiler.diff,
compiler.export), prints in Chinese, and lets cli.main turn a JiuzhuError into its
diagnostics and exit code 1.
"""

from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import os
import re
import sys
from datetime import date
from pathlib import Path
from typing import Any

from compiler.cli import (
    count,
    county_code,
    memory_size,
    parse_date,
    usage_error,
    within_calendar,
)
from compiler.diagnostics import Location, make, render_text
from compiler.errors import EvaluationError, InputError
from compiler.vocabulary import group_cn


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add publish, verify, history, export and diff to the jiuzhu command."""
    publish = sub.add_parser("publish", help="发布一个版本（publish a dated version）")
    publish.add_argument("--county", required=True, type=county_code, help="六位县（市、区）代码")
    publish.add_argument("--effective", type=parse_date, help="生效日期，如 2025-07-01")
    publish.add_argument(
        "--note", required=True, help="版本说明，如 依据某某文件调整低保标准"
    )
    publish.add_argument(
        "--author", default=None, help="发布人（默认：$JIUZHU_AUTHOR 或登录名）"
    )
    publish.add_argument(
        "--base",
        type=count,  # --base -1 is a usage error, not E702 「第 -1 版不存在」
        default=None,
        help="工作副本所基于的版本号（没有已发布版本时为 0）；默认读取基线标记",
    )
    publish.add_argument(
        "--households", help="家庭数据文件：计算对这些家庭的影响并随版本保存"
    )
    publish.add_argument(
        "--allow-unchanged",
        action="store_true",
        help="内容与生效日现行版本相同时仍然发布（登记一次复核）；默认拒绝（E709）",
    )
    publish.add_argument(
        "--allow-withdrawn",
        action="store_true",
        help="内容与已撤回的版本相同时仍然发布（确实要重新发布被撤回的内容）；默认拒绝（E710）",
    )
    publish.add_argument(
        "--withdraw",
        type=lambda text: count(text, least=1),
        metavar="N",
        help="撤回第 N 版：发布一个恢复其之前内容的新版本",
    )
    _common(publish)
    publish.set_defaults(run=_publish)

    verify = sub.add_parser(
        "verify", help="校验版本登记簿的哈希链（verify the registry）"
    )
    verify.add_argument("--head", help="此前记录的最新哈希：检查其后没有版本被删除")
    _common(verify)
    verify.set_defaults(run=_verify)

    history = sub.add_parser(
        "history", help="列出一个县的已发布版本（version history）"
    )
    history.add_argument("--county", required=True, type=county_code, help="六位县（市、区）代码")
    history.add_argument("--format", choices=("text", "json"), default="text")
    _common(history)
    history.set_defaults(run=_history)

    export = sub.add_parser(
        "export", help="导出一个版本为 YAML 或 Excel（export a version）"
    )
    export.add_argument("--county", required=True, type=county_code, help="六位县（市、区）代码")
    export.add_argument(
        "--version", required=True, type=version_ref, help="版本号、latest 或 work（工作副本）"
    )
    export.add_argument("--out", required=True, type=export_path, help="输出文件：.yaml 或 .xlsx")
    export.add_argument(
        "--full",
        action="store_true",
        help="xlsx 含省、市、县全部内容（默认只含县级自定的内容）",
    )
    export.add_argument(
        "--force",
        action="store_true",
        help="输出文件已存在且含有未发布的修改时仍然覆盖（原文件先备份）；默认拒绝（E711）",
    )
    _common(export)
    export.set_defaults(run=_export)

    diff = sub.add_parser(
        "diff",
        help="比较两个版本（compare versions, cell by cell and household by household）",
    )
    diff.add_argument(
        "old",
        type=side_ref,
        help="330106@3、330106@latest、330106@2025-07-01（该日生效的版本）、"
        "330106（工作副本）、work、published 或文件路径",
    )
    diff.add_argument("new", type=side_ref, help="同上")
    diff.add_argument("--households", help="家庭数据文件：列出决策发生变化的家庭")
    diff.add_argument(
        "--as-of", type=parse_date, default=None,
        help="决策日；默认为两边决策可能不同的第一天（今天就不同时为今天；比较 published 时为今天）",
    )
    diff.add_argument("--format", choices=("text", "json"), default="text")
    diff.add_argument(
        "--limit", type=count, default=50, help="列出多少户变化的家庭（text 格式）"
    )
    diff.add_argument("--county", help="工作簿文件名不含县代码时，指定它属于哪个县")
    diff.add_argument(
        "--memory-limit", type=memory_size, default=None, help="DuckDB 内存上限，如 4GB"
    )
    _common(diff)
    diff.set_defaults(run=_diff)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tables", default="tables", help="工作副本的 tables 文件夹")
    parser.add_argument(
        "--registry",
        default=None,
        help="版本登记簿文件（默认：$JIUZHU_REGISTRY 或 tables 旁的 registry/jiuzhu-registry.duckdb）",
    )


def registry(args: argparse.Namespace) -> Any:
    """The registry to read: a path named with --registry or $JIUZHU_REGISTRY must exist
    (E705 when read), the default place may not exist yet (no published versions)."""
    from compiler.registry import Registry

    named = registry_named(args)
    return Registry(registry_path(args), must_exist=bool(named), named_by=named)


def registry_named(args: argparse.Namespace) -> str | None:
    """How the user named the registry file: ``--registry``, else ``JIUZHU_REGISTRY``
    (the environment variable), else None (the default place). A file they named and
    that is not there is a mistake, not an empty registry."""
    import os

    from compiler.registry import REGISTRY_ENV

    if args.registry is not None:
        return "--registry"
    return REGISTRY_ENV if os.environ.get(REGISTRY_ENV) else None


def registry_path(args: argparse.Namespace) -> Path:
    """--registry, else the default beside --tables; refused inside the tables folder."""
    from compiler.errors import RegistryError
    from compiler.registry import default_path, inside_tables

    path = Path(args.registry) if args.registry else default_path(args.tables)
    tables = Path(args.tables).resolve()
    if path.resolve().is_relative_to(tables):
        raise RegistryError(inside_tables(path, args.tables))
    return path


# ---------------------------------------------------------------- publish


def _publish(args: argparse.Namespace) -> int:
    from compiler.registry_base import hint_options

    # a refusal's hint names jiuzhu diff, history or export: with these options, so
    # that the command copied from it reads the same tables and registry (helper-109)
    with hint_options(args.tables, args.registry):
        return _publish_given(args)


def _publish_given(args: argparse.Namespace) -> int:
    from compiler.registry import Registry
    from compiler.registry_marker import base_from_marker
    from compiler.registry_publish import printable, same_as_older, superseded

    if args.withdraw is None and args.effective is None:
        raise usage_error("发布须指定 --effective 生效日期，如 --effective 2025-07-01")
    store = Registry(registry_path(args))
    folder = Path(args.tables) / "counties"
    author = _author(args)
    # a base read from the marker is judged by publish when it is behind (W702, E702)
    marked = folder if args.base is None else None
    action = "撤回" if args.withdraw is not None else "发布"
    base = args.base if marked is None else base_from_marker(store, folder, args.county, action)
    notices: list[Any] = []
    try:
        version = _stored(args, store.path, author, base, marked, notices)
    except Exception:  # a marker brought up to date is said also when refused (E709)
        _print_notices(notices)
        raise
    # every change of state is made before the first line is printed: output piped
    # into head, or a closed terminal, must not leave the marker naming the old base
    marker = _record_base(folder, version, args.tables)
    _print_notices(notices)
    overtaken = superseded(store, version)
    again = same_as_older(store, version) if version.kind == "publish" else None
    print(
        f"已发布 {version.label}（{version.county_name}），自 {version.effective_from} 起生效；"
        f"发布人 {version.author}；哈希 {version.hash[:16]}"
    )
    print(f"说明：{printable(version.note)}")  # a lone CR would overwrite the line
    if version.effective_from < date.today():
        # a version for a past date changes what that date's decisions would be; a
        # withdrawal too (the console says it before the confirmation: helper-89)
        print(f"注意：{past_note(version.kind, version.effective_from, date.today())}")
    if again is not None:  # an old version's content back, maybe by a file copied over
        print(f"注意：{again}")
    _print_validation(version.validation)
    if version.impact:
        _print_stored_impact(json.loads(version.impact))
    if overtaken is not None:
        print(render_text([overtaken]), file=sys.stderr)
    if marker is not None:
        print(f"基线标记已更新：{marker}（下次发布将以第 {version.number} 版为基线）")
    if version.kind == "withdraw":
        print(_after_withdrawal(args, store, version))
    return 0


def _after_withdrawal(args: argparse.Namespace, store: Any, version: Any) -> str:
    """What to do with the working copy after a withdrawal: export the version now in
    force over it, or, when the withdrawn change came from the city's workbook (which
    the export does not touch), have the city restore it (registry_publish.city_hint)."""
    from compiler.registry_marker import restore_command
    from compiler.registry_publish import city_hint

    said = f"注意：工作副本可能仍是被撤回的第 {version.withdraws} 版的内容（再发布会被拒绝，E710）。"
    city = city_hint(store.get(args.county, version.withdraws), version, args.tables)
    if city is not None:
        return f"{said}{city}"
    command = restore_command(args.county, version.number, args.tables, args.registry)
    return f"{said}请先运行下面的命令，使工作副本与第 {version.number} 版一致，再在其上修改：\n  {command}"


def past_note(kind: str, effective: date, today: date) -> str:
    """What a version (``kind`` publish or withdraw) dated before today changes: the
    decisions already made for the days since then."""
    what, content = ("撤回生效日期", "撤回后的内容") if kind == "withdraw" else ("生效日期", "本版")
    return (f"{what} {effective} 早于今天（{today}）；该日以后的决策按{content}重新作出时会与已作出的不同，"
            "需要时用 jiuzhu evaluate --as-of 重新决策并核对")


def _print_notices(notices: list[Any]) -> None:
    if notices:
        print(render_text(notices), file=sys.stderr)


def _author(args: argparse.Namespace) -> str:
    """--author as given, else $JIUZHU_AUTHOR when it is set, else the login name; E708
    for one that cannot be published, saying where it came from when the user did not
    type it. An empty --author or $JIUZHU_AUTHOR is E708, never the login name: whoever
    set it meant to name someone (helper-100); so is a login name that cannot be found
    (helper-109)."""
    from compiler.errors import RegistryError
    from compiler.registry_publish import check_author

    action = "撤回" if args.withdraw is not None else "发布"  # what E708 says is refused
    if args.author is not None:
        check_author(args.author, action)
        return args.author  # type: ignore[no-any-return]
    named = os.environ.get("JIUZHU_AUTHOR")
    author = _login_name(action) if named is None else named
    try:
        check_author(author, action)
    except RegistryError as error:
        said = error.diagnostics[0]
        if named == "":
            said = dataclasses.replace(
                said,
                message=f"环境变量 JIUZHU_AUTHOR 已设置但为空，{action}被拒绝",
                hint="把它设为发布人的姓名或工号，或用 --author 指定；"
                "要用登录名作发布人，取消这个变量（unset JIUZHU_AUTHOR）",
            )
        else:
            source = "登录名" if named is None else "环境变量 JIUZHU_AUTHOR"
            hint = f"发布人取自{source}，可用 --author 指定；{said.hint}"
            said = dataclasses.replace(said, hint=hint)
        raise RegistryError(said) from None
    return author


def _login_name(action: str) -> str:
    """The login name, as the publisher when neither --author nor $JIUZHU_AUTHOR names
    one. E708 when the process has none: no LOGNAME, USER, LNAME or USERNAME and no
    passwd entry for its uid, as in some containers (getuser raises KeyError before
    Python 3.13, OSError since)."""
    from compiler.errors import RegistryError

    try:
        return getpass.getuser()
    except (KeyError, OSError, ImportError):  # ImportError: no pwd module (Windows)
        raise RegistryError(
            make(
                "E708",
                f"没有指定发布人，也取不到登录名（本进程的用户在系统中没有登记名称），{action}被拒绝",
                found="没有 --author、环境变量 JIUZHU_AUTHOR 和登录名",
                expected="发布人的姓名或工号，如 --author 张三",
                hint="用 --author 指定发布人，或设置环境变量 JIUZHU_AUTHOR（如 export JIUZHU_AUTHOR=张三）；"
                "容器中运行时，登录名要在启动时设置 USER 环境变量",
            )
        ) from None


def _stored(
    args: argparse.Namespace, registry: Path, author: str, base: int,
    marker: Path | None, notices: list[Any],
) -> Any:
    """The version ``publish`` or ``publish --withdraw`` stores."""
    from compiler.registry_publish import publish, withdraw

    if args.withdraw is not None:
        return withdraw(registry, args.county, args.withdraw, args.note, author, base,
                        args.effective, marker=marker, notices=notices)
    return publish(
        args.tables, args.county, args.effective, args.note, author, base, registry,
        args.households, allow_unchanged=args.allow_unchanged,
        allow_withdrawn=args.allow_withdrawn, marker=marker, notices=notices,
        # --base N given by hand is the admin's word for the base: a workbook
        # exported from an older version is then published knowingly
        check_origin=args.base is None,
    )


def _record_base(folder: Path, version: Any, tables: str) -> Path | None:
    """The base marker for a version just stored (``registry_origin.record_base``,
    which the console calls too)."""
    from compiler.registry_origin import record_base

    return record_base(folder, version, tables)


def _print_validation(validation: str) -> None:
    records = json.loads(validation)
    warnings = [r for r in records if r.get("severity") == "warning"]
    if warnings:
        print(
            f"随版本保存了 {len(warnings)} 条警告（jiuzhu history --format json 可查看）"
        )


def _print_stored_impact(report: dict[str, Any]) -> None:
    if report.get("baseline") is None and "changed" not in report:
        print(f"影响分析：{report.get('note', '')}")
        return
    print(
        f"影响分析（决策日 {report['as_of']}）：{report['households']} 户中 {report['changed']} 户的决策改变"
    )
    for code, county in report["counties"].items():
        for move in county["moves"]:
            print(f"  {code} {group_cn(move['from'])} → {group_cn(move['to'])}：{move['households']} 户")
    for later in report.get("later", []):  # the version's standards differ again
        print(f"{_later_head(later)}\n  {later['command']}")


def _later_head(later: dict[str, Any]) -> str:
    """「2027-07-01 起两版标准再次不同（低保标准…）：22 户中 8 户的决策改变」, or, for a
    day not computed at publish, the command to compute it with."""
    head = f"{later['as_of']} 起两版的标准参数再次不同（{'、'.join(later['differs'])}）"
    if "changed" in later:
        return f"{head}：{later['households']} 户中 {later['changed']} 户的决策改变；详见"
    return f"{head}，发布时未计算其影响；可运行"


# ---------------------------------------------------------------- verify, history


def _verify(args: argparse.Namespace) -> int:
    from compiler.diagnostics import Location, make

    store = registry(args)
    problems = store.verify()
    versions = store.versions()
    head = versions[-1].hash if versions else None
    if (
        args.head
        and head != args.head
        and not any(v.hash == args.head for v in versions[:-1])
    ):
        problems.append(
            make(
                "E703",
                "登记簿中找不到此前记录的最新哈希：其后的版本可能被删除或登记簿被替换",
                Location(str(store.path)),
                found=args.head,
            )
        )
    elif args.head and head != args.head:
        print(
            f"此前记录的哈希之后又发布了 {len(versions) - _index(versions, args.head) - 1} 个版本"
        )
    if problems:
        print(render_text(problems), file=sys.stderr)
        print(
            f"登记簿 {store.path}：{len(versions)} 个版本，校验失败（{len(problems)} 个问题）",
            file=sys.stderr,
        )
        return 1
    if not versions:
        print(f"登记簿 {store.path} 还没有已发布的版本")
        return 0
    counties = len({v.county_code for v in versions})
    print(
        f"登记簿 {store.path}：{counties} 个县（市、区）的 {len(versions)} 个版本，校验通过"
    )
    print(
        f"最新哈希 {head}（请另行记录，以后用 jiuzhu verify --head 检查没有版本被删除）"
    )
    return 0


def _index(versions: list, digest: str) -> int:  # type: ignore[type-arg]
    return next(i for i, v in enumerate(versions) if v.hash == digest)


def _history(args: argparse.Namespace) -> int:
    from compiler.registry import in_force
    from compiler.registry_publish import printable

    store = registry(args)
    versions = store.history(args.county)
    # a version changed after publishing, or of a county whose chain breaks (a
    # version deleted or rewritten), is listed as such (helper-57, helper-139)
    problems = {v.number: v.problem() for v in versions}
    changed = {number for number, problem in problems.items() if problem}
    if args.format == "json":
        records = [
            {**_version_record(v), **_integrity(problems[v.number])} for v in versions
        ]
        print(json.dumps(records, ensure_ascii=False, indent=2, default=str))
        return 1 if changed else 0
    if not versions:
        _known_county(args.county, args.tables)
        print(f"{args.county} 还没有已发布的版本（决策使用工作副本）")
        return 0
    current = in_force(versions, date.today())
    print(
        f"{args.county} {versions[-1].county_name} 的已发布版本（登记簿 {store.path}）"
    )
    if versions[0].chain_break is not None:  # one break for the whole county
        print(f"  ⚠ {versions[0].chain_break.message}（E703）")
    for v in versions:
        current_one = current is not None and v.number == current.number
        mark = "★现行" if current_one and v.number not in changed else ""
        kind = f"撤回第 {v.withdraws} 版" if v.kind == "withdraw" else "发布"
        # a registry written before E708 covered authors may hold ESC and line breaks:
        # shown as <U+001B>, never sent to the terminal (helper-82)
        author = printable(v.author, lines=False)
        print(
            f"  第 {v.number} 版  {v.effective_from} 起  {kind}  {author}  {v.published_at[:19]}"
            f"  {v.hash[:12]}  {mark}".rstrip()
        )
        print("      " + printable(v.note).replace("\n", "\n      "))
        if v.number in changed:
            print(f"      ⚠ {_warning(v)}")
    return 1 if changed else 0


def _integrity(problem: Any) -> dict[str, Any]:
    """``intact`` and, when not, why (E703), for ``history --format json``."""
    if problem is None:
        return {"intact": True}
    return {"intact": False, "problem": {"code": problem.code, "message": problem.message}}


def _warning(version: Any) -> str:
    """The ⚠ line under a version that may not be used."""
    if version.chain_break is not None:
        return "版本链断开（E703），不能使用；运行 jiuzhu verify 查看详情"
    return "发布后被改动过（E703），不能使用；运行 jiuzhu verify 查看详情"


def _version_record(version: Any) -> dict[str, Any]:
    return {
        "county_code": version.county_code,
        "number": version.number,
        "label": version.label,
        "effective_from": version.effective_from,
        "author": version.author,
        "note": version.note,
        "published_at": version.published_at,
        "kind": version.kind,
        "withdraws": version.withdraws,
        "hash": version.hash,
        "prev_hash": version.prev_hash,
        "validation": json.loads(version.validation),
        "impact": json.loads(version.impact) if version.impact else None,
    }


# ---------------------------------------------------------------- export


def _export(args: argparse.Namespace) -> int:
    from compiler.canonical import dump_rulebook
    from compiler.export import county_workbook, full_workbook, write_xlsx
    from compiler.registry_export import (
        NOT_WRITTEN_BACK,
        csv_folder_beside,
        guard_overwrite,
        replace_file,
    )
    from compiler.registry_marker import Origin, new_export_id, write_base_marker
    from compiler.registry_refs import resolve_ref

    out = Path(args.out)
    _export_outside_tables(out, args)
    store = registry(args)
    version = _version(store, args.county, args.version)
    if version is None:
        side = resolve_ref(args.county, args.tables, store, date.today())
        book, label, canonical = side.books[args.county], side.label, None
    else:
        book, label, canonical = version.rulebook(), version.label, version.canonical
    xlsx = out.suffix.lower() == ".xlsx"
    workbook = (full_workbook(book) if args.full else county_workbook(book)) if xlsx else None
    text = None if xlsx else canonical or dump_rulebook(book, args.tables)
    backup = guard_overwrite(out, args.county, args.tables, store, args.force)
    shown: list[str] = []
    export_id = new_export_id()
    if workbook is not None:
        info = _info(label, version, export_id)
        write_xlsx(workbook, out, info, shown)  # renamed over ``out``
    else:
        replace_file(out, lambda path: path.write_text(text or "", encoding="utf-8"))
    marker = None
    if version is not None and xlsx and not args.full:
        origin = Origin(args.county, version.number, version.hash, export_id, out)
        marker = write_base_marker(out.parent, version, origin)
    # everything is written before the first line is printed (output piped into head)
    if backup is not None:
        also = f"，基线标记备份为 {backup.marker}" if backup.marker else ""
        why = (f"（其内容与已发布版本相同，但导出不会写回{NOT_WRITTEN_BACK}，需要时可从备份找回）"
               if backup.kept_format else "（需要时可从备份找回修改）")
        print(f"原文件「{out}」已备份为 {backup.path}{also}{why}")
    if shown:
        print(
            f"注意：{len(shown)} 个单元格含有不可见的控制字符（E011），已写作 <U+001B> "
            f"的形式：{'、'.join(shown[:5])}{' 等' if len(shown) > 5 else ''}；"
            "请在工作簿中删除后再发布",
            file=sys.stderr,
        )
    print(f"已导出 {label} 到 {out}" + ("（省、市、县全部内容）" if args.full else ""))
    exported = version.label if version is not None else None
    beside = csv_folder_beside(out, args.county, args.tables, exported, args.registry)
    if beside is not None:  # two working copies now: said, never left silent
        print(f"注意：{beside}", file=sys.stderr)
    if marker is not None:
        print(
            f"基线标记已写入 {marker}：把工作簿放入 tables/counties/ 时请一并复制，"
            f"发布时将以第 {version.number} 版为基线"
        )
    return 0


def _export_outside_tables(out: Path, args: argparse.Namespace) -> None:
    """E613 for an export into the tables folder or the registry, except the county's
    own workbook in tables/counties/: exporting a version over the working copy is how
    it is brought back (docs/versions.md). A YAML file, a --full workbook or a second
    workbook of the county there would be read as a workbook (E002, E009)."""
    from compiler.output_guard import BREAKS_TABLES, Written, guard_outside
    from compiler.registry_marker import working_workbook

    own = working_workbook(args.tables, args.county)
    county_only = out.suffix.lower() == ".xlsx" and not args.full
    if county_only and _working_copy(out, own, args.county):
        return
    effect = f"{BREAKS_TABLES}；放回工作副本只能导出本县的工作簿（不加 --full）到 {own}"
    guard_outside(out, args.tables, registry_path(args), Written(
        example=f"{args.county}-{args.version}.yaml", effect=effect, also=""))


def _working_copy(out: Path, own: Path, county: str) -> bool:
    """True when ``out`` is the county's working-copy workbook ``own``, or, when the
    county has none yet, a workbook named by its code in the same folder."""
    try:
        target = out.resolve()
    except (OSError, RuntimeError):  # a loop of links: guard_outside says so (E605)
        return False
    if target == own.resolve():
        return True
    has_one = own.exists() or own.with_suffix("").is_dir()
    named = re.match(rf"{county}(?![0-9])", target.name) is not None
    return not has_one and named and target.parent == own.parent.resolve()


def _version(store: Any, county: str, which: str) -> Any:
    """The registry version ``--version`` names, or None for the working copy."""
    from compiler.errors import RegistryError
    from compiler.registry import not_found

    if which in ("work", "working"):
        return None
    if which == "latest":
        latest = store.latest(county)
        if latest is None:
            raise RegistryError(not_found(county, which, None))
        return latest
    return store.get(county, int(which))


def _known_county(code: str, tables: str) -> None:
    """E606 for a county with neither a published version nor a working workbook."""
    from compiler.diagnostics import Report, make
    from compiler.errors import InputError
    from compiler.resolve import load_tables

    if code not in load_tables(tables, Report()).county_codes():
        raise InputError(
            make(
                "E606",
                f"未知的县（市、区）代码「{code}」：登记簿中没有它的版本，工作副本中也没有它的工作簿",
                found=code,
                expected=f"{tables}/counties/ 中已有工作簿或登记簿中已发布版本的六位代码",
            )
        )



def version_ref(text: str) -> str:
    """An export --version: a version number from 1, latest, or work (the working copy)."""
    if text in ("work", "working", "latest") or (text.isdigit() and int(text) >= 1):
        return text
    raise argparse.ArgumentTypeError(f"版本「{text}」应为从 1 起的版本号、latest 或 work（工作副本）")


def export_path(text: str) -> str:
    """An export --out: a .yaml or .xlsx file."""
    if Path(text).suffix.lower() not in (".yaml", ".yml", ".xlsx"):
        raise argparse.ArgumentTypeError(f"导出文件「{text}」应以 .yaml 或 .xlsx 结尾，如 330106-西湖区.xlsx")
    return text


def _info(label: str, version: Any, export_id: str) -> list[tuple[str, str]]:
    """The 版本信息 rows; 导出编号 tells this export's workbook from any other export
    of the version (the base marker written beside it names it too)."""
    from compiler.registry_marker import EXPORT_ID

    rows = [("导出自", label), ("导出日期", date.today().isoformat())]
    if version is not None:
        rows += [
            ("生效日期", version.effective_from.isoformat()),
            ("说明", version.note),
            ("发布人", version.author),
            ("哈希", version.hash),
            (EXPORT_ID, export_id),
        ]
    return rows


# ---------------------------------------------------------------- diff


def _diff(args: argparse.Namespace) -> int:
    from compiler.diff import diff_sides, side_errors
    from compiler.diff_dates import decision_day
    from compiler.diff_impact import impact
    from compiler.diff_text import render_text as render_diff
    from compiler.registry_refs import resolve_ref

    as_of = args.as_of or date.today()
    for ref in (args.old, args.new):
        _named_path_exists(ref)
    store = registry(args)
    old = resolve_ref(args.old, args.tables, store, as_of, args.county)
    new = resolve_ref(args.new, args.tables, store, as_of, args.county)
    # without --as-of, the first day the sides decide differently (next year's
    # standards changed nothing today: helper-89); published names today's versions
    published = "published" in (args.old, args.new)
    chosen = None if published and args.as_of else decision_day(old, new, date.today())
    result_note = None
    if published and chosen is not None:
        # the versions in force today stay compared today; where they decide alike
        # today, say on which days they differ, as a two-version diff does
        if chosen.note_on(as_of):
            result_note = (f"注意：{chosen.note_on(as_of)}；可用 --as-of 改为其中任一天"
                           "（published 取该日生效的版本）")
        chosen = None
    if chosen is not None and args.as_of is None:
        as_of = chosen.day
    result = diff_sides(old, new, as_of)
    if chosen is not None and args.as_of is None:
        result["as_of_default"] = {**chosen.to_json(), "text": chosen.text()}
    elif chosen is not None and chosen.note_on(as_of):  # a day typed where nothing differs
        result["as_of_note"] = f"注意：{chosen.note_on(as_of)}"
    if result_note:
        result["as_of_note"] = result_note
    errors = {side.label: side_errors(side, as_of) for side in (old, new)}
    for label, found in errors.items():
        if found:
            print(f"注意：{label} 有 {len(found)} 个校验错误，不能发布；以下比较仅供参考：", file=sys.stderr)
            for diagnostic in found[:5]:
                print(f"  {diagnostic.render()}", file=sys.stderr)
    result["errors"] = {label: [d.render() for d in found] for label, found in errors.items()}
    effect, failed = None, None
    if args.households:
        limit = None if args.format == "json" else args.limit
        try:
            effect = impact(old, new, args.households, as_of, limit, args.memory_limit,
                            tables=args.tables)
        except EvaluationError as error:
            # a side whose tables break a hit policy on some household (E601): the
            # tables' differences are still shown, then why the impact is missing
            failed = error
    if args.format == "json":
        if effect is not None:
            result["impact"] = effect.to_json()
        if failed is not None:
            result["impact_errors"] = [d.render() for d in failed.diagnostics]
        print(json.dumps(result, ensure_ascii=False, indent=2, default=_json_default))
    else:
        print(render_diff(result, effect, args.limit))
    if failed is not None:
        print("注意：无法对家庭作出决策，影响分析未完成（以上只是决策表的差异）：", file=sys.stderr)
        print(render_text(failed.diagnostics), file=sys.stderr)
        return 1
    return 0


def side_ref(text: str) -> str:
    """A side of ``jiuzhu diff`` as typed; a usage error for ``330106@2041-01-01``, a
    date outside the calendar's years, as ``--as-of 2041-01-01`` is refused."""
    match = re.fullmatch(r"[0-9]{6}@(.+)", text)
    if match is None or Path(text).exists():
        return text
    try:
        day = date.fromisoformat(match.group(1))
    except ValueError:
        return text  # a version number, latest, work: resolve_ref reads them
    within_calendar(match.group(1), day)
    return text


# what a side names when it names a file: the forms resolve_ref reads, and ones it
# refuses with their own message once they exist (.xls, .json)
PATH_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv", ".yaml", ".yml", ".json")


def _named_path_exists(ref: str) -> None:
    """E001 for a side written as a path (a folder in it, or a workbook or YAML
    suffix) that does not exist: 「无法识别」 (E704) hid that the file is missing."""
    path = Path(ref)
    written_as_path = "/" in ref or os.sep in ref or path.suffix.lower() in PATH_SUFFIXES
    if not written_as_path or re.fullmatch(r"[0-9]{6}@.+", ref) or path.exists():
        return
    raise InputError(
        make(
            "E001",
            f"找不到文件或文件夹「{ref}」",
            Location(ref),
            expected="县的工作簿（.xlsx，或放有 .csv 的文件夹）或 YAML 文件的路径；"
            "或 330106@3、330106@latest、330106、work、published",
            hint="检查路径和文件名是否写对，文件是否已移动或改名",
        )
    )


def _json_default(value: object) -> object:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


__all__ = ["register", "registry", "registry_path"]
