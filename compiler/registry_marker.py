"""The base marker: which published version a county's working copy started from.

``<folder>/<county>.base.json`` is written when a version is published or exported
(``write_base_marker``) and read when the next one is published (``base_from_marker``),
so a publish based on a version that is no longer the latest is refused instead of
overwriting someone else's changes. A marker behind the latest version whose content
the working copy holds exactly (a publish stopped after storing its version, before
writing the marker) is brought up to date by ``registry_publish.publish`` (W702). ``restore_command`` is the ``jiuzhu export`` that
brings a version back into the county's working-copy workbook (``working_workbook``).
Raises RegistryError (E702) for a marker that cannot be read, a missing marker while
the county has versions, or a marker naming a version this registry does not hold.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from pathlib import Path

from compiler.diagnostics import Location, make
from compiler.errors import RegistryError
from compiler.registry import Registry, Version
from compiler.registry_base import command as jiuzhu_command
from compiler.registry_base import marker_missing

BASE_SUFFIX = ".base.json"


def marker_path(folder: str | Path, county: str) -> Path:
    """``<folder>/<county>.base.json``: which version a working copy started from."""
    return Path(folder) / f"{county}{BASE_SUFFIX}"


def write_base_marker(folder: str | Path, version: Version) -> Path:
    path = marker_path(folder, version.county_code)
    record = {
        "county": version.county_code,
        "version": version.number,
        "hash": version.hash,
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
    "base_from_marker",
    "marker_path",
    "read_base_marker",
    "restore_command",
    "shell_path",
    "working_workbook",
    "write_base_marker",
]
