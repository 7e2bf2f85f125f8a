"""Exporting over a file that exists: refused while it holds unpublished content.

``jiuzhu export --out tables/counties/330106-西湖区.xlsx`` is how a version is brought
back into the working copy, so its target is often a workbook an admin has been
editing. ``guard_overwrite`` lets the export go on when the file is not there or holds
exactly the content of one of the county's published versions (the registry keeps
that content; a workbook is still copied to a backup first, since its comments,
fills, column widths, data validation and the like are no part of the content and
the export does not write them back: ``NOT_WRITTEN_BACK``), as the registry itself
compares content (the canonical YAML
``publish`` would store, wherever the workbook lies). Anything else, edits not yet
published, a file that cannot be read as the county's workbook, a ``--full`` workbook,
is refused with E711 and left as it was, unless ``force``: then it is first copied to
a backup (``backup_path``), outside the tables folder for a file inside it, where a
second workbook of the county would be read as a duplicate (E009). ``replace_file``
writes a YAML export beside the target and renames it over, as ``export.write_xlsx``
does a workbook, so an interrupted export never leaves half a file.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from compiler.canonical import CanonicalError, dump_rulebook
from compiler.diagnostics import Diagnostic, Location, Report, make
from compiler.errors import RegistryError
from compiler.load import load_workbook
from compiler.model import Workbook, WorkbookKind
from compiler.registry import Registry, Version
from compiler.registry_base import command
from compiler.registry_marker import marker_path, read_base_marker, shell_path
from compiler.resolve import (
    Tables,
    _standards_by_key,
    _type_standards,
    load_tables,
    rulebook_for,
)

BACKUPS = "backups"  # beside the tables folder, as registry/ is


@dataclasses.dataclass(frozen=True)
class Backup:
    """Where a file overwritten was copied first (and its marker): with ``--force``,
    or a workbook holding a published version's content (``kept_format``), whose
    comments, fills, widths and the like the export does not write back."""

    path: Path
    marker: Path | None
    kept_format: bool = False


# what a county workbook may hold that the registry does not, so export cannot write
# it back (docs/versions.md, section 5): said when such a workbook is overwritten
NOT_WRITTEN_BACK = ("批注、填充色和字体、列宽和行高、数据验证（下拉列表）、冻结窗格、条件格式、"
                    "公式（只保留保存时算出的结果）、隐藏的行列和工作表保护")


def guard_overwrite(
    out: Path, county: str, tables_root: str | Path, store: Registry, force: bool
) -> Backup | None:
    """None when ``out`` may be written as it is (absent, or a published version's
    content); with ``force``, the backup it was copied to first.

    Raises RegistryError (E711) when ``out`` holds content no published version of
    the county has and ``force`` is not given, or is a folder; ``out`` is unchanged.
    """
    if not out.exists():
        return None
    versions = store.history(county)
    content = None if out.is_dir() else file_content(out, county, tables_root)
    if content is not None and _placed(content) in {_placed(v.canonical) for v in versions}:
        if out.suffix.lower() in (".xlsx", ".xlsm"):  # its formatting is not in the registry
            return dataclasses.replace(_backup(out, county, tables_root), kept_format=True)
        return None
    if force and not out.is_dir():
        return _backup(out, county, tables_root)
    raise RegistryError(_refused(out, county, tables_root, versions, content is None))


def csv_folder_beside(
    out: Path,
    county: str,
    tables_root: str | Path,
    exported: str | None = None,
    registry: str | Path | None = None,
) -> str | None:
    """What to say when an .xlsx export into ``tables/counties/`` lands beside the
    county's working copy kept as a folder of CSV files: the two are now two
    workbooks of one county (E009 at the next check), and which one holds the
    admin's edits is not for the export to decide (tester R17). None otherwise.

    The commands said work when pasted (helper-118): the folder is moved out first
    (the diff of a folder beside the workbook is E009), then compared, at the path
    it was moved to, with ``exported`` (the version label, else the latest), with
    the ``--tables`` and ``--registry`` the export was given.
    """
    counties = (Path(tables_root) / "counties").resolve()
    if out.suffix.lower() not in (".xlsx", ".xlsm") or out.parent.resolve() != counties:
        return None
    folders = sorted(
        p for p in out.parent.iterdir()
        if p.is_dir() and not p.name.startswith(".")
        and re.match(rf"{county}(?![0-9])", p.name)
    )
    if not folders:
        return None
    folder = _shown(folders[0])
    backups = _shown(Path(tables_root).resolve().parent / BACKUPS)
    moved, n = backups / folder.name, 1
    while moved.exists():  # a folder moved out by an earlier export
        n += 1
        moved = backups / f"{folder.name}-{n}"
    move = f"mkdir -p {shell_path(backups)} && mv {shell_path(folder)} {shell_path(moved)}"
    diff = command("diff", exported or f"{county}@latest", str(moved), "--county", county,
                   tables=tables_root, registry=registry)
    return (
        f"{county} 的工作副本原是 CSV 文件夹「{folder}」，现在与导出的「{out.name}」并存，"
        f"jiuzhu check 会报 E009（同一区划代码有多个工作簿）。请把该文件夹移出 tables 文件夹，"
        f"以导出的工作簿为工作副本，例如：\n  {move}\n"
        f"文件夹中若有尚未发布的修改，移出后运行下面的命令查看，再把需要的修改重做在导出的工作簿中：\n"
        f"  {diff}"
    )


def file_content(path: Path, county: str, tables_root: str | Path) -> str | None:
    """The canonical YAML of the county with ``path`` as its county workbook (laid
    over the working province and city), or the text of a YAML export; None when
    the file cannot be read as either."""
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
    report = Report()
    tables = load_tables(tables_root, Report())  # other workbooks' problems are not this file's
    with tempfile.TemporaryDirectory(prefix="jiuzhu-export-") as folder:
        # read under the county's code, as the tables reader would name it: a file
        # named otherwise (「我的副本.xlsx」) would be taken for another layer
        copy = Path(folder) / f"{county}{path.suffix.lower()}"
        shutil.copyfile(path, copy)
        workbook = load_workbook(copy, WorkbookKind.COUNTY, report)
        _type_standards(workbook, _standards_by_key(tables.province), report)
        if report.has_errors:
            return None
        return _laid_over(workbook, county, tables, tables_root)


def _laid_over(
    workbook: Workbook, county: str, tables: Tables, tables_root: str | Path
) -> str | None:
    """The canonical YAML of the county with ``workbook`` over the working province
    and city; None when it does not resolve."""
    report = Report()
    if county in tables.counties:
        workbook.name = tables.counties[county].name
    counties = {**tables.counties, county: workbook}
    book = rulebook_for(dataclasses.replace(tables, counties=counties), county, report)
    if report.has_errors:
        return None
    try:
        return dump_rulebook(book, tables_root)
    except CanonicalError:
        return None


def _placed(canonical: str) -> str:
    """The canonical text with the county workbook's own path (``sources: county:``,
    and every cell's ``at``) replaced, so that a workbook compares by its content
    wherever it lies."""
    match = re.search(r"^sources:\n(?:  .*\n)*?  county: (.+)$", canonical, re.MULTILINE)
    if match is None:
        return canonical
    source = match.group(1)
    if source.startswith("'") and source.endswith("'"):
        source = source[1:-1].replace("''", "'")
    return canonical.replace(source, "<county>")


def backup_path(out: Path, tables_root: str | Path, stamp: str) -> Path:
    """``<name>.bak-<stamp><suffix>``: in ``backups/`` beside the tables folder for a
    file inside it (the reader would take a copy in tables/ for a second workbook of
    the county), beside the file otherwise."""
    tables = Path(tables_root).resolve()
    inside = out.resolve().is_relative_to(tables)
    folder = tables.parent / BACKUPS if inside else out.parent
    return _shown(folder / f"{out.stem}.bak-{stamp}{out.suffix}")


def _backup(out: Path, county: str, tables_root: str | Path) -> Backup:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    path, n = backup_path(out, tables_root, stamp), 1
    while path.exists():  # two exports within one second
        n += 1
        path = backup_path(out, tables_root, f"{stamp}-{n}")
    marker, copied = marker_path(out.parent, county), None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(out, path)
        if marker.exists():  # the base the overwritten workbook was edited from
            copied = path.with_name(f"{county}.base.bak-{path.stem.split('.bak-')[-1]}.json")
            shutil.copy2(marker, copied)
    except OSError as error:
        raise RegistryError(
            make(
                "E711",
                f"无法备份「{out}」，导出被拒绝，文件未改动",
                Location(str(out)),
                found=f"备份到「{path}」失败：{error.strerror or type(error).__name__}",
                expected="可以写入的备份文件夹",
                hint="检查该文件夹的写入权限，或先手工复制该文件再重试",
            )
        ) from None
    return Backup(path, copied)


def _refused(
    out: Path, county: str, tables_root: str | Path, versions: list[Version], unreadable: bool
) -> Diagnostic:
    base = _base(out.parent, county)
    against = base if base is not None else (versions[-1].number if versions else None)
    diff = f"jiuzhu diff {county}@{against} " if against else f"jiuzhu diff {county} "
    diff += shell_path(out) + ("" if out.name.startswith(county) else f" --county {county}")
    where = backup_path(out, tables_root, "日期时间")
    if out.is_dir():
        found, problem = "一个文件夹", "是一个文件夹"
    elif unreadable:
        found = "无法读作该县的县级工作簿"
        problem = f"无法读作 {county} 的县级工作簿，不能确认其中没有尚未发布的修改"
    else:
        found = "与已发布版本都不同的内容"
        problem = f"内容与 {county} 的任何已发布版本都不同（可能有尚未发布的修改）"
    based = f"（工作副本基于第 {base} 版）" if base is not None else ""
    return make(
        "E711",
        f"「{out}」已存在，{problem}，导出被拒绝，文件未改动",
        Location(str(out)),
        found=found,
        expected="不存在的文件，或内容与某个已发布版本相同的文件",
        hint=(
            "请换一个 --out 文件名"
            if out.is_dir()
            else f"先运行 {diff} 查看这些修改{based}；要保留的修改请先发布或另存；"
            f"确定不要时加 --force 覆盖，原文件先备份为 {where}"
        ),
    )


def _base(folder: Path, county: str) -> int | None:
    try:
        record = read_base_marker(folder, county)
    except RegistryError:
        return None
    return int(record["version"]) if record else None


def replace_file(out: Path, write: Callable[[Path], object]) -> None:
    """``write`` a file beside ``out`` (hidden from the tables reader) and rename it
    over ``out``: stopped half-way, the export leaves ``out`` as it was."""
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.stem}.partial{out.suffix}")
    try:
        write(partial)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)


def _shown(path: Path) -> Path:
    """``path`` relative to the working folder when it lies under it, as typed."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


__all__ = [
    "BACKUPS",
    "NOT_WRITTEN_BACK",
    "Backup",
    "backup_path",
    "csv_folder_beside",
    "file_content",
    "guard_overwrite",
    "replace_file",
]
