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

from compiler.diagnostics import Location, make
from compiler.errors import RegistryError
from compiler.registry import Registry, Version
from compiler.registry_base import command as jiuzhu_command
from compiler.registry_base import marker_missing

BASE_SUFFIX = ".base.json"


def marker_path(folder: str | Path, county: str) -> Path:
    """``<folder>/<county>.base.json``: which version a working copy started from."""
    return Path(folder) / f"{county}{BASE_SUFFIX}"


def write_base_marker(
    folder: str | Path, version: Version, origin: Origin | None = None
) -> Path:
    """Record ``version`` as the base of the county's working copy in ``folder``;
    ``origin``: the export the workbook that holds it came from (``workbook_origin``),
    so that a later publish knows that workbook's 导出自 is vouched for."""
    path = marker_path(folder, version.county_code)
    record = {
        "county": version.county_code,
        "version": version.number,
        "hash": version.hash,
        "workbook": origin.export_id if origin else None,
        "exported_from": origin.label if origin else None,
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


def read_base_marker(folder: str | Path, county: str) -> dict | None:  # type: ignore[type-arg]
    path = marker_path(folder, county)
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        int(record["version"])
    except (ValueError, KeyError, TypeError):
        raise RegistryError(
            make(
                "E702",
                "基线标记文件无法读取",
                Location(str(path)),
                expected='{"county": "330106", "version": 3, "hash": "..."}',
                hint="删除该文件并用 --base N 指明工作副本所基于的版本",
            )
        ) from None
    return record  # type: ignore[no-any-return]


def base_from_marker(
    store: Registry, folder: str | Path, county: str, action: str = "发布"
) -> int:
    """The base recorded beside the workbook, checked against the registry.
    ``action`` (发布 or 撤回) is what E702 says is refused.

    Raises RegistryError (E702) when there is no marker while the county has versions,
    or when the marker names a version this registry does not hold.
    """
    record = read_base_marker(folder, county)
    latest = store.latest(county)
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
        raise RegistryError(
            make(
                "E702",
                f"基线标记记录的 {county}@{number} 与当前登记簿中的版本不符",
                Location(str(marker_path(folder, county))),
                hint="确认 --registry 指向正确的登记簿，或用 --base N 明确指定基线",
            )
        )
    return number


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


def workbook_origin(path: Path) -> Origin | None:
    """The 导出自 row of the 版本信息 sheet of the workbook at ``path``; None when
    it is no .xlsx, cannot be read or has no such sheet (a workbook never exported)."""
    if path.suffix.lower() not in (".xlsx", ".xlsm") or not path.is_file():
        return None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - the reader says what is wrong with it (E001, E002)
        return None
    try:
        if "版本信息" not in book.sheetnames:
            return None
        rows = {
            str(row[0]).strip(): str(row[1]).strip()
            for row in book["版本信息"].iter_rows(max_col=2, values_only=True)
            if len(row) >= 2 and row[0] is not None and row[1] is not None
        }
    finally:
        book.close()
    found = _LABEL.search(rows.get("导出自", ""))
    if found is None:
        return None
    return Origin(found.group(1), int(found.group(2)), rows.get("哈希", ""),
                  rows.get(EXPORT_ID, ""), path)


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
    "new_export_id",
    "read_base_marker",
    "restore_command",
    "shell_path",
    "vouches",
    "workbook_origin",
    "working_workbook",
    "write_base_marker",
]
