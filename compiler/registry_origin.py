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
    if record is not None and export_id and record.get("workbook") == export_id:
        return  # the marker was written for this very workbook, whatever else it says
    origin = claimed_origin(store, county, cells, path, latest, tables_root)
    if origin is None or origin.number >= latest.number or vouches(record, origin):
        return
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
    if named[0] != county or numbered is None or digest:
        return None  # another county's (E013), or another registry's version
    return Origin(county, named[1], "", export_id, path)


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


def older_origin(origin: Origin, latest: Version, tables_root: str | Path) -> Diagnostic:
    """E702 for a workbook exported from ``origin``, older than ``latest``."""
    county, n, old = origin.county, latest.number, origin.number
    between = f"第 {old + 1} 版" if old + 1 == n else f"第 {old + 1} 至第 {n} 版"
    out = f"{county}-第{n}版.xlsx"
    export = command("export", "--county", county, "--version", str(n), "--out", out,
                     tables=tables_root)
    return make(
        "E702",
        f"{county} 的工作簿是从第 {old} 版导出的（其「版本信息」表写着 导出自 {origin.label}），"
        f"而登记簿中最新已是第 {n} 版；按它发布会撤销{between}的改动，发布被拒绝，登记簿未改动",
        Location(str(origin.path), "版本信息"),
        found=f"导出自 {origin.label}",
        expected=f"从第 {n} 版导出的工作簿，或已合入{between}改动的工作副本",
        hint=(
            f"{published_by(latest)}。先运行 {command('diff', origin.label, latest.label)} "
            f"查看{between}的改动，再运行 {command('diff', latest.label, county)} 查看工作副本与第 {n} 版的差异；"
            f"可运行 {export} 导出最新版本，把本工作簿的修改重做在其上后放回工作副本；"
            f"若确认工作副本已含{between}的改动，命令行加 --base {n} 发布"
            "（控制台：删去工作簿中的「版本信息」表后再发布）"
        ),
    )


def workbook_origin_of(tables_root: str | Path | None, county: str) -> Origin | None:
    """What the county's working-copy workbook says it was exported from, if anything."""
    if tables_root is None:
        return None
    return workbook_origin(working_workbook(tables_root, county))


def record_base(folder: str | Path, version: Version, tables_root: str | Path) -> Path | None:
    """Write the base marker in ``folder`` for a version just stored (None when there
    is no such folder), with the origin of the workbook under ``tables_root`` that was
    published (its 版本信息), so that the next publish of that workbook, from the CLI or
    the console, is not taken for one exported elsewhere from an older version.

    Raises RegistryError (E702 naming the version published) when the marker cannot be
    written, so that the next publish is given its base by hand.
    """
    from compiler.read import os_problem

    if not Path(folder).is_dir():
        return None
    # a withdrawal reads no workbook: the one there holds what it withdrew
    published = version.kind == "publish"
    origin = workbook_origin_of(tables_root, version.county_code) if published else None
    try:
        return write_base_marker(folder, version, origin)
    except OSError as error:
        raise RegistryError(
            make(
                "E702",
                f"已发布 {version.label}，但基线标记无法写入：{os_problem(error)}",
                Location(str(marker_path(folder, version.county_code))),
                found="基线标记仍是发布前的内容",
                expected=f"记录第 {version.number} 版的基线标记",
                hint=f"版本已发布，无需重发；下次发布请加 --base {version.number}，"
                "或检查该文件夹的写入权限",
            )
        ) from None


__all__ = [
    "claimed_origin",
    "contradicted",
    "older_origin",
    "record_base",
    "refuse_older_origin",
    "unreadable_sheet",
    "workbook_origin_of",
]
