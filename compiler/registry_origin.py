"""Where a county workbook came from, and the base marker that vouches for it.

A county workbook exported by ``jiuzhu export`` says in its 版本信息 sheet which version
it was exported from (``registry_marker.workbook_origin``). ``refuse_older_origin`` is
publish's check that such a workbook, exported from a version older than the latest,
is not published over the versions after its own (E702, ``older_origin``) unless the
base marker was written for that very workbook (``registry_marker.vouches``).
``record_base`` writes that marker after a version is stored, with the origin of the
workbook published; the CLI and the console both call it, so that either may publish
the same working copy next.
"""

from __future__ import annotations

import re
from pathlib import Path

from compiler.diagnostics import Diagnostic, Location, make
from compiler.errors import RegistryError
from compiler.normalise import fold_text
from compiler.registry import Registry, Version
from compiler.registry_base import command, published_by
from compiler.registry_marker import (
    EXPORT_ID,
    Origin,
    marker_path,
    origin_cells,
    origin_label,
    read_base_marker,
    vouches,
    workbook_origin,
    working_workbook,
    write_base_marker,
)


def refuse_older_origin(
    store: Registry,
    county: str,
    canonical: str,
    latest: Version,
    tables_root: str | Path,
    marker: str | Path | None,
) -> None:
    """E702 when the county workbook says it was exported from a version older than
    ``latest`` (its 版本信息 sheet), holds other content than ``latest`` (``canonical``
    is the working copy's) and no base marker was written for it: the base marker
    belongs to the folder, so a workbook exported elsewhere from an older version and
    copied over the working copy was taken as based on the latest and undid it
    (tester, helper-111). E702 too for a sheet that cannot be read or contradicts
    itself (``claimed_origin``): edited by hand, it let such a workbook through
    (helper-118); deleting the whole sheet is the documented way to publish it."""
    path = working_workbook(tables_root, county)
    cells = origin_cells(path)
    if cells is None or canonical == latest.canonical:
        return  # never exported, or nothing of the latest version would be lost
    folder = Path(marker) if marker is not None else Path(tables_root) / "counties"
    try:
        record = read_base_marker(folder, county)
    except RegistryError:
        record = None
    export_id = cells.get(EXPORT_ID, ("", ""))[0]
    # the marker speaks for this very workbook, whatever else the sheet says; but only
    # as of the version it records: a copy of that workbook put back once later
    # versions are out would undo them (same 导出编号, helper-122)
    mine = record is not None and bool(export_id) and record.get("workbook") == export_id
    origin = None if mine else claimed_origin(store, county, cells, path, latest, tables_root)
    if not mine and (origin is None or origin.number >= latest.number):
        return
    if mine or vouches(record, origin):  # type: ignore[arg-type]
        assert record is not None
        if int(record["version"]) >= latest.number:
            return
        at = cells.get(EXPORT_ID, ("", ""))[1] if export_id else cells.get("导出自", ("", ""))[1]
        raise RegistryError(republished(record, path, at, latest, tables_root))
    assert origin is not None
    raise RegistryError(older_origin(origin, latest, tables_root))


def claimed_origin(
    store: Registry,
    county: str,
    cells: dict[str, tuple[str, str]],
    path: Path,
    latest: Version,
    tables_root: str | Path,
) -> Origin | None:
    """The version of this registry the 版本信息 ``cells`` name, by 哈希 first (a hash
    is not retyped by hand) and 导出自; None when they name none (a working-copy
    export, or a version of another registry: its hash is none of this one's).

    Raises RegistryError (E702) when 导出自 is not the version whose hash 哈希 holds
    (emptied, or changed to the latest), when 哈希 is no hash at all, or when both
    are empty while 导出编号 says an export of a version wrote the sheet.
    """
    label, label_at = cells.get("导出自", ("", "B2"))
    digest, digest_at = cells.get("哈希", ("", ""))
    digest = digest.lower()
    named = origin_label(label)
    export_id = cells.get(EXPORT_ID, ("", ""))[0]
    versions = store.versions(county)
    hashed = next((v for v in versions if digest and v.hash == digest), None)
    if hashed is not None:
        if named != (county, hashed.number):
            where = (label_at, digest_at)
            raise RegistryError(contradicted(path, where, label, hashed, latest, tables_root))
        return Origin(county, hashed.number, digest, export_id, path)
    if digest and not _HASH.fullmatch(digest):
        raise RegistryError(unreadable_sheet(path, digest_at, f"哈希 {digest}", latest))
    if named is None:
        if export_id and not digest:  # the cells naming the version were emptied
            raise RegistryError(unreadable_sheet(path, label_at, f"导出自 {label}", latest))
        return None
    numbered = next((v for v in versions if v.number == named[1]), None)
    if named[0] != county or numbered is None:
        return None  # another county's (E013), or another registry's version
    if digest and not _described_otherwise(cells, numbered):
        # 导出自 names this registry's version and the sheet describes it as it is,
        # but its 哈希 is none of this registry's: typed by hand (helper-122)
        raise RegistryError(unknown_hash(path, (label_at, digest_at), label, numbered, latest))
    if digest:
        return None  # another registry's version of the same number: its details differ
    return Origin(county, named[1], "", export_id, path)


def _described_otherwise(cells: dict[str, tuple[str, str]], version: Version) -> bool:
    """True when the 版本信息 ``cells`` give a 生效日期, 发布人 or 说明 other than
    ``version``'s: the sheet describes another registry's version of that number."""
    given = {name: cells[name][0] for name in ("生效日期", "发布人", "说明") if name in cells}
    own = {
        "生效日期": version.effective_from.isoformat(),
        "发布人": fold_text(version.author),
        "说明": fold_text(version.note),
    }
    return any(
        not (text.startswith(own[name]) if name == "生效日期" else text == own[name])
        for name, text in given.items()
    )


_HASH = re.compile(r"[0-9a-f]{64}")  # sha256, as registry.version_hash writes it


def contradicted(
    path: Path, where: tuple[str, str], label: str, hashed: Version, latest: Version,
    tables_root: str | Path,
) -> Diagnostic:
    """E702: the 版本信息 sheet's 导出自 is not the version whose hash its 哈希 holds."""
    label_at, digest_at = where
    n, old = latest.number, hashed.number
    said = f"写着 导出自 {label}" if label else "的 导出自 是空的"
    export = command("export", "--county", hashed.county_code, "--version", str(n), "--out",
                     f"{hashed.county_code}-第{n}版.xlsx", tables=tables_root)
    return make(
        "E702",
        f"{hashed.county_code} 的工作簿「版本信息」表自相矛盾：{label_at} {said}，"
        f"而 {digest_at} 的哈希是第 {old} 版（{hashed.label}）的；不能确认它从哪个版本导出，"
        "发布被拒绝，登记簿未改动",
        Location(str(path), "版本信息", label_at),
        found=f"{said}，哈希为 {hashed.label} 的哈希",
        expected=f"导出自 {hashed.label}（与哈希一致），且该版本之后的改动已合入",
        hint=(
            f"{published_by(latest)}。「版本信息」表多半被手工改过；工作簿若确是第 {old} 版导出的，"
            f"先运行 {command('diff', hashed.label, latest.label)} 查看之后的改动，"
            f"再运行 {command('diff', latest.label, hashed.county_code)} 查看工作副本与第 {n} 版的差异；"
            f"可运行 {export} 导出最新版本，把修改重做在其上；确认工作副本已含第 {n} 版的改动后，"
            f"命令行加 --base {n} 发布（控制台：删去工作簿中的「版本信息」表后再发布）"
        ),
    )


def unreadable_sheet(path: Path, at: str, found: str, latest: Version) -> Diagnostic:
    """E702: the 版本信息 sheet is there but does not say which version it came from."""
    county, n = latest.county_code, latest.number
    return make(
        "E702",
        f"{county} 的工作簿有「版本信息」表，但无法读出它是从哪个版本导出的"
        f"（{at} 不是 jiuzhu export 写的内容），发布被拒绝，登记簿未改动",
        Location(str(path), "版本信息", at),
        found=found.strip(),
        expected=f"导出自 {latest.label} 这样的版本号，哈希为 64 位十六进制数",
        hint=(
            f"{published_by(latest)}。「版本信息」表多半被手工改过；先运行 "
            f"{command('diff', latest.label, county)} 查看工作副本与第 {n} 版的差异，"
            f"确认工作副本已含第 {n} 版的改动后，命令行加 --base {n} 发布"
            "（控制台：删去工作簿中的「版本信息」表后再发布）"
        ),
    )


def unknown_hash(
    path: Path, where: tuple[str, str], label: str, named: Version, latest: Version
) -> Diagnostic:
    """E702: 导出自 names a version of this registry, described as it is, while 哈希
    holds a hash no version of this registry has (typed by hand)."""
    label_at, digest_at = where
    county, n = latest.county_code, latest.number
    return make(
        "E702",
        f"{county} 的工作簿「版本信息」表自相矛盾：{label_at} 写着 导出自 {label}，而 {digest_at} "
        f"的哈希不是登记簿中任何版本的哈希（第 {named.number} 版的哈希以 {named.hash[:16]} 开头）；"
        "不能确认它从哪个版本导出，发布被拒绝，登记簿未改动",
        Location(str(path), "版本信息", digest_at),
        found=f"导出自 {label}，哈希与登记簿中的版本都不符",
        expected=f"{named.label} 的哈希 {named.hash}",
        hint=(
            f"{published_by(latest)}。哈希多半是手工改过的；工作簿若确是第 {named.number} 版导出的，先运行 "
            f"{command('diff', named.label, latest.label)} 查看之后的改动，再运行 "
            f"{command('diff', latest.label, county)} 查看工作副本与第 {n} 版的差异；"
            f"确认工作副本已含第 {n} 版的改动后，命令行加 --base {n} 发布"
            "（控制台：删去工作簿中的「版本信息」表后再发布）"
        ),
    )


def republished(
    record: dict, path: Path, at: str, latest: Version, tables_root: str | Path,  # type: ignore[type-arg]
) -> Diagnostic:
    """E702: the base marker vouches for this workbook (its 导出编号, or its 导出自)
    only as of the version it records, older than ``latest``: a copy of the workbook
    put back after later versions were published."""
    county, n, base = latest.county_code, latest.number, int(record["version"])
    between = _between(base, n)
    ident = f"导出编号 {record.get('workbook')}" if record.get("workbook") else "同一导出"
    if record.get("published_as") == base:
        what = f"已发布为第 {base} 版"
    else:
        what = f"据基线标记基于第 {base} 版"
    return make(
        "E702",
        f"{county} 的工作簿（{ident}，导出自 {record.get('exported_from') or '未记录'}）{what}，"
        f"而登记簿中最新已是第 {n} 版；这份工作簿多半是此前的副本被放回，按它发布会撤销{between}的改动，"
        "发布被拒绝，登记簿未改动",
        Location(str(path), "版本信息", at),
        found=f"基线标记记录该工作簿的基线为第 {base} 版",
        expected=f"从第 {n} 版导出的工作簿，或已合入{between}改动的工作副本",
        hint=_catch_up(f"{county}@{base}", latest, between, tables_root),
    )


def older_origin(origin: Origin, latest: Version, tables_root: str | Path) -> Diagnostic:
    """E702 for a workbook exported from ``origin``, older than ``latest``."""
    county, n, old = origin.county, latest.number, origin.number
    between = _between(old, n)
    return make(
        "E702",
        f"{county} 的工作簿是从第 {old} 版导出的（其「版本信息」表写着 导出自 {origin.label}），"
        f"而登记簿中最新已是第 {n} 版；按它发布会撤销{between}的改动，发布被拒绝，登记簿未改动",
        Location(str(origin.path), "版本信息"),
        found=f"导出自 {origin.label}",
        expected=f"从第 {n} 版导出的工作簿，或已合入{between}改动的工作副本",
        hint=_catch_up(origin.label, latest, between, tables_root),
    )


def _between(old: int, n: int) -> str:
    """The versions published after ``old`` up to ``n``: 「第 3 版」, 「第 2 至第 3 版」."""
    return f"第 {old + 1} 版" if old + 1 == n else f"第 {old + 1} 至第 {n} 版"


def _catch_up(old: str, latest: Version, between: str, tables_root: str | Path) -> str:
    """The hint of an E702 for a workbook behind ``latest`` (based on the version
    labelled ``old``): the diffs to read, the export to redo the edits on, --base."""
    county, n = latest.county_code, latest.number
    export = command("export", "--county", county, "--version", str(n), "--out",
                     f"{county}-第{n}版.xlsx", tables=tables_root)
    return (
        f"{published_by(latest)}。先运行 {command('diff', old, latest.label)} "
        f"查看{between}的改动，再运行 {command('diff', latest.label, county)} 查看工作副本与第 {n} 版的差异；"
        f"可运行 {export} 导出最新版本，把本工作簿的修改重做在其上后放回工作副本；"
        f"若确认工作副本已含{between}的改动，命令行加 --base {n} 发布"
        "（控制台：删去工作簿中的「版本信息」表后再发布）"
    )


def workbook_origin_of(tables_root: str | Path | None, county: str) -> Origin | None:
    """What the county's working-copy workbook says it was exported from, if anything."""
    if tables_root is None:
        return None
    return workbook_origin(working_workbook(tables_root, county))


def record_base(
    folder: str | Path, version: Version, tables_root: str | Path | None,
    behind: bool = False,
) -> Path | None:
    """Write the base marker in ``folder`` for a version just stored (None when there
    is no such folder), with the origin of the workbook under ``tables_root`` that was
    published (its 版本信息), so that the next publish of that workbook, from the CLI or
    the console, is not taken for one exported elsewhere from an older version; the
    marker says the workbook was published as that version (``published_as``).
    ``behind``: the marker is brought up to ``version``, the latest, which a run
    stopped before it wrote the marker left behind (``registry_publish``); the origin
    is then read whatever the version's kind, and the folder must be there.

    Raises RegistryError (E702 naming the version published) when the marker cannot be
    written, so that the next publish is given its base by hand.
    """
    from compiler.read import os_problem

    if not behind and not Path(folder).is_dir():
        return None
    # a withdrawal reads no workbook: the one there holds what it withdrew
    published = version.kind == "publish"
    origin = workbook_origin_of(tables_root, version.county_code) if published or behind else None
    try:
        return write_base_marker(folder, version, origin, published=published and not behind)
    except OSError as error:
        raise RegistryError(marker_unwritten(folder, version, os_problem(error), behind)) from None


def marker_unwritten(folder: str | Path, version: Version, problem: str, behind: bool) -> Diagnostic:
    """E702: the base marker could not be written, after ``version`` was stored
    (``behind``: while bringing a marker behind it up to date)."""
    where = Location(str(marker_path(folder, version.county_code)))
    if behind:
        return make(
            "E702",
            f"基线标记落后于登记簿中最新的 {version.label}，但无法更新：{problem}",
            where,
            hint=f"检查该文件夹的写入权限，或加 --base {version.number} 发布",
        )
    return make(
        "E702",
        f"已发布 {version.label}，但基线标记无法写入：{problem}",
        where,
        found="基线标记仍是发布前的内容",
        expected=f"记录第 {version.number} 版的基线标记",
        hint=f"版本已发布，无需重发；下次发布请加 --base {version.number}，"
        "或检查该文件夹的写入权限",
    )


__all__ = [
    "claimed_origin",
    "contradicted",
    "marker_unwritten",
    "older_origin",
    "record_base",
    "refuse_older_origin",
    "republished",
    "unknown_hash",
    "unreadable_sheet",
    "workbook_origin_of",
]
