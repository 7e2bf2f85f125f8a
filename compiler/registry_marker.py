"""The base marker: which published version a county's working copy started from.

``<folder>/<county>.base.json`` is written when a version is published or exported
(``write_base_marker``) and read when the next one is published (``base_from_marker``),
so a publish based on a version that is no longer the latest is refused instead of
overwriting someone else's changes. A marker behind the latest version whose content
the working copy holds exactly (a publish stopped after storing its version, before
writing the marker) is brought up to date by ``registry_publish.publish`` (W702). ``restore_command`` is the ``jiuzhu export`` that
brings a version back into the county's working-copy workbook (``working_workbook``).
The marker belongs to the folder, not to the workbook, so a workbook says where it came
from itself: export writes 导出自, the version's hash and a fresh 导出编号 into its
版本信息 sheet (``workbook_origin`` reads them, ``Origin``), and the marker records the
导出编号 and 导出自 of the workbook it was written for; ``vouches`` tells whether a marker
speaks for a given workbook (publish refuses one exported from an older version that no
marker vouches for: ``registry_publish``).
Raises RegistryError (E702) for a marker that cannot be read, a missing marker while
the county has versions, or a marker naming a version this registry does not hold.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import uuid
from dataclasses import dataclass
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]

from compiler.diagnostics import Diagnostic, Location, make
from compiler.errors import RegistryError
from compiler.normalise import fold_text
from compiler.registry import Registry, Version
from compiler.registry_base import base_step, marker_missing, published_by
from compiler.registry_base import command as jiuzhu_command

BASE_SUFFIX = ".base.json"


def marker_path(folder: str | Path, county: str) -> Path:
    """``<folder>/<county>.base.json``: which version a working copy started from."""
    return Path(folder) / f"{county}{BASE_SUFFIX}"


def write_base_marker(
    folder: str | Path, version: Version, origin: Origin | None = None,
    published: bool = False,
) -> Path:
    """Record ``version`` as the base of the county's working copy in ``folder``;
    ``origin``: the export the workbook that holds it came from (``workbook_origin``),
    so that a later publish knows that workbook's 导出自 is vouched for; ``published``:
    that workbook was just published as ``version`` (``published_as``), so that a copy
    of it put back once later versions are out is refused (helper-122)."""
    path = marker_path(folder, version.county_code)
    record = {
        "county": version.county_code,
        "version": version.number,
        "hash": version.hash,
        "workbook": origin.export_id if origin else None,
        "exported_from": origin.label if origin else None,
        "published_as": version.number if origin and published else None,
        "说明": "jiuzhu 记录：同一文件夹中该县的工作簿基于此已发布版本；发布时据此检查是否有人抢先发布",
    }
    # written beside and renamed over: a process stopped half-way never leaves a
    # marker that cannot be read
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(
        json.dumps(record, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    os.replace(partial, path)
    return path


def read_base_marker(
    folder: str | Path, county: str, latest: Version | None = None, action: str = "发布"
) -> dict | None:  # type: ignore[type-arg]
    """The base marker's record; None when there is none.

    Raises RegistryError (E702, naming ``latest`` and the commands to run) when the
    marker is there but cannot be read: not JSON, no version number, a folder, or a
    file the system will not open (permission).
    """
    path = marker_path(folder, county)
    try:
        if not path.exists():
            return None
        record = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(record, dict):
            raise TypeError(record)
        int(record["version"])
    except OSError as error:
        raise RegistryError(unreadable_marker(path, county, latest, action, error)) from None
    except (ValueError, KeyError, TypeError):  # UnicodeDecodeError is a ValueError
        raise RegistryError(unreadable_marker(path, county, latest, action)) from None
    return record


def unreadable_marker(
    path: Path, county: str, latest: Version | None, action: str,
    error: OSError | None = None,
) -> Diagnostic:
    """E702 for a base marker that is there but cannot be read (``error``: what the
    system said), with an example naming the latest version and the commands to run."""
    from compiler.read import os_problem

    n = latest.number if latest is not None else 0
    folder = isinstance(error, IsADirectoryError) or (error is None and path.is_dir())
    if folder:
        found = "一个文件夹"
    elif error is not None:
        found = f"无法打开：{os_problem(error)}"
    else:
        found = "不是有效的基线标记（空文件、写了一半的 JSON 或没有 version）"
    hint = f"删除或移走该{'文件夹' if folder else '文件'}后重试"
    if latest is not None:
        hint = f"{published_by(latest)}；{hint}，或{base_step(county, latest, action)}"
    else:
        hint += f"，或用 --base 0 {action}（{county} 还没有已发布的版本）"
    return make(
        "E702",
        f"基线标记 {path.name} 无法读取，不知道 {county} 的工作副本基于哪个版本，{action}被拒绝",
        Location(str(path)),
        found=found,
        expected=f'{{"county": "{county}", "version": {n}, "hash": "..."}}'
        f"（jiuzhu publish 和 jiuzhu export 写的 JSON 文件）",
        hint=hint,
    )


def base_from_marker(
    store: Registry, folder: str | Path, county: str, action: str = "发布"
) -> int:
    """The base recorded beside the workbook, checked against the registry.
    ``action`` (发布 or 撤回) is what E702 says is refused.

    Raises RegistryError (E702) when there is no marker while the county has versions,
    or when the marker names a version this registry does not hold.
    """
    latest = store.latest(county)
    record = read_base_marker(folder, county, latest, action)
    if record is None:
        if latest is None:
            return 0
        raise RegistryError(marker_missing(folder, county, latest, action))
    named = record.get("county")
    if named is not None and str(named) != county:  # copied from another county's folder
        raise RegistryError(
            make(
                "E702",
                f"基线标记是 {named} 的，不是 {county} 的，{action}被拒绝",
                Location(str(marker_path(folder, county))),
                found=f'"county": "{named}"',
                expected=f'"county": "{county}"',
                hint=f"该文件可能是从别的县复制来的；删除它并用 --base N 指明 {county} 工作副本所基于的版本",
            )
        )
    number = int(record["version"])
    if number == 0:
        return 0
    stored = next((v for v in store.versions(county) if v.number == number), None)
    if stored is None or stored.hash != record.get("hash"):
        raise RegistryError(marker_unknown(folder, county, number, stored, latest, action))
    return number


def marker_unknown(
    folder: str | Path, county: str, number: int, stored: Version | None,
    latest: Version | None, action: str = "发布",
) -> Diagnostic:
    """E702: the marker names version ``number``, which this registry does not hold
    (``stored`` None) or holds with another hash."""
    if stored is not None:
        why = f"登记簿中第 {number} 版的哈希与标记中记录的不同"
    elif latest is None:
        why = f"登记簿中 {county} 还没有已发布的版本"
    else:
        why = f"登记簿中 {county} 没有第 {number} 版（最新是第 {latest.number} 版）"
    step = f"用 --base 0 {action}" if latest is None else base_step(county, latest, action)
    return make(
        "E702",
        f"基线标记记录的 {county}@{number} 与当前登记簿中的版本不符：{why}，{action}被拒绝",
        Location(str(marker_path(folder, county))),
        found=f"基线标记记录 {county}@{number}",
        expected=f"登记簿中的版本，通常是最新的第 {latest.number if latest else 0} 版",
        hint=f"先确认 --registry 指向正确的登记簿（该标记可能是另一个登记簿写的）；若是，{step}",
    )


@dataclass(frozen=True)
class Origin:
    """What a workbook's 版本信息 sheet says of the export that wrote it: the version
    (``330106@1``), its hash and the export's own id (导出编号; empty when an older
    jiuzhu wrote the sheet)."""

    county: str
    number: int
    hash: str
    export_id: str
    path: Path

    @property
    def label(self) -> str:
        return f"{self.county}@{self.number}"


EXPORT_ID = "导出编号"  # a 版本信息 row: which export wrote this very workbook
_LABEL = re.compile(r"(?<![0-9])([0-9]{6})@([0-9]+)")


def new_export_id() -> str:
    """A fresh id for one export: two exports of one version are told apart."""
    return uuid.uuid4().hex[:16]


def origin_cells(path: Path) -> dict[str, tuple[str, str]] | None:
    """The rows of the 版本信息 sheet of the workbook at ``path``: each name (column A)
    with its value folded as the reader folds a cell (full-width ＠ and digits, odd
    spaces) and the value's cell (``B2``); None when it is no .xlsx, cannot be read
    or has no such sheet (a workbook never exported, or the sheet deleted)."""
    if path.suffix.lower() not in (".xlsx", ".xlsm") or not path.is_file():
        return None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - the reader says what is wrong with it (E001, E002)
        return None
    try:
        if "版本信息" not in book.sheetnames:
            return None
        cells = {}
        rows = book["版本信息"].iter_rows(max_col=2, values_only=True)
        for number, row in enumerate(rows, start=1):
            name = fold_text(str(row[0])) if row and row[0] is not None else ""
            value = row[1] if len(row) >= 2 and row[1] is not None else ""
            if name and name not in cells:
                cells[name] = (fold_text(str(value)), f"B{number}")
    finally:
        book.close()
    return cells


def origin_label(text: str) -> tuple[str, int] | None:
    """The county and number of a version label (``330106@1``) in folded text."""
    found = _LABEL.search(text)
    return (found.group(1), int(found.group(2))) if found else None


def workbook_origin(path: Path) -> Origin | None:
    """What the 版本信息 sheet of the workbook at ``path`` says of the export that
    wrote it, as written (its 导出自, 哈希 and 导出编号); None when it names no version
    (``registry_origin`` checks the cells against the registry)."""
    cells = origin_cells(path)
    named = origin_label(cells.get("导出自", ("", ""))[0]) if cells else None
    if cells is None or named is None:
        return None
    return Origin(named[0], named[1], cells.get("哈希", ("", ""))[0].lower(),
                  cells.get(EXPORT_ID, ("", ""))[0], path)


def vouches(record: dict | None, origin: Origin) -> bool:  # type: ignore[type-arg]
    """True when the base marker ``record`` was written for the very workbook
    ``origin`` describes (by the export that wrote it, or by a publish of it), so
    that the version it names is that workbook's base whatever its 导出自 says."""
    if record is None:
        return False
    if origin.export_id:
        return bool(record.get("workbook") == origin.export_id)
    # a workbook an older jiuzhu exported carries no id: its 导出自 must match
    return not record.get("workbook") and record.get("exported_from") == origin.label


def working_workbook(tables_root: str | Path, county: str) -> Path:
    """The county's workbook in ``<tables>/counties/``: its ``.xlsx``, else the
    ``.xlsx`` that would replace its CSV folder, else ``<county>.xlsx``."""
    folder = Path(tables_root) / "counties"
    found = sorted(folder.glob(f"{county}*")) if folder.is_dir() else []
    books = [p for p in found if p.suffix.lower() in (".xlsx", ".xlsm")]
    if books:
        return books[0]
    folders = [p for p in found if p.is_dir() and not p.name.startswith(".")]
    return folder / f"{folders[0].name if folders else county}.xlsx"


def restore_command(
    county: str, number: int, tables_root: str | Path, registry: str | Path | None = None
) -> str:
    """The ``jiuzhu export`` that writes version ``number`` over the county's
    working-copy workbook (with its base marker), as a user types it; a working copy
    kept as a CSV folder is named, to be moved out once the workbook replaces it.
    Without ``registry``, the one the running command was given (``hint_options``)."""
    out = working_workbook(tables_root, county)
    command = jiuzhu_command("export", "--county", county, "--version", str(number),
                             "--out", str(out), tables=tables_root, registry=registry or None)
    csv = out.with_suffix("")
    if not out.exists() and csv.is_dir():  # two workbooks of one county would be E009
        command += f"（工作副本现为 CSV 文件夹 {csv}：导出后请把该文件夹移出 tables 文件夹）"
    return command


def shell_path(path: str | Path) -> str:
    """A path as typed in a shell: quoted only when it holds a space or a shell mark
    (a Chinese workbook name stays readable)."""
    text = str(path)
    return shlex.quote(text) if re.search(r"[\s'\"$`\\;&|<>()*?!#~]", text) else text


__all__ = [
    "BASE_SUFFIX",
    "EXPORT_ID",
    "Origin",
    "base_from_marker",
    "marker_path",
    "marker_unknown",
    "new_export_id",
    "origin_cells",
    "origin_label",
    "read_base_marker",
    "restore_command",
    "shell_path",
    "unreadable_marker",
    "vouches",
    "workbook_origin",
    "working_workbook",
    "write_base_marker",
]
