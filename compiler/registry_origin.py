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

from pathlib import Path

from compiler.diagnostics import Diagnostic, Location, make
from compiler.errors import RegistryError
from compiler.registry import Registry, Version
from compiler.registry_base import command, published_by
from compiler.registry_marker import (
    Origin,
    marker_path,
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
    (tester, helper-111)."""
    origin = workbook_origin_of(tables_root, county)
    if origin is None or origin.county != county or origin.number >= latest.number:
        return
    if canonical == latest.canonical:
        return  # nothing of the latest version would be lost
    older = next((v for v in store.versions(county) if v.number == origin.number), None)
    if older is None or (origin.hash and older.hash != origin.hash):
        return  # exported from another registry: its 导出自 says nothing of this one
    folder = Path(marker) if marker is not None else Path(tables_root) / "counties"
    try:
        record = read_base_marker(folder, county)
    except RegistryError:
        record = None
    if vouches(record, origin):
        return
    raise RegistryError(older_origin(origin, latest, tables_root))


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


__all__ = ["older_origin", "record_base", "refuse_older_origin", "workbook_origin_of"]
