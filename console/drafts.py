"""Working copies kept on disk: one draft per county and per admin, surviving reloads.

A draft is a small tables folder of its own, so the library reads it exactly as it
reads ``tables/``::

    .jiuzhu/drafts/330106/xihu-admin/
        draft.json                         base version, revision, who saved last
        tables/province/...                copied from tables/ before every check
        tables/cities/330100-杭州市.xlsx     copied likewise
        tables/counties/330106-西湖区.xlsx   the county workbook being edited

A new draft starts from the county's latest published version (exported with
``compiler.export``) or, before the first publish, from ``tables/counties/``. Its
``base`` is that version's number (0: none); publishing checks it against the
registry, so an admin whose colleague published first is told, never overwritten.
Every save bumps ``revision``; a save from a page that loaded an older revision is
refused (``StaleDraft``) instead of silently dropping the other tab's edits. A save of
text no workbook cell can hold (control characters, more than 32,767 characters) is
refused with the reader's E011/E012 (``UnwritableCells``), never cut or crashed on.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from compiler.diagnostics import Diagnostic, Location
from compiler.normalise import CONTROL_CHARACTERS, EXCEL_CELL_LIMIT, excel_length
from compiler.read import control_characters, too_long
from console.config import Settings
from console.grids import column_letter
from console.sheets import Sheet, read_sheets, write_xlsx

META = "draft.json"


class StaleDraft(RuntimeError):
    """The draft on disk changed since this page loaded it."""


class UnwritableCells(ValueError):
    """Cells hold text a workbook cannot store; ``diagnostics`` name each (E011/E012)."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        self.diagnostics = diagnostics
        super().__init__("；".join(d.message for d in diagnostics))


# The reader's control characters, and the vertical tab and form feed: it reads those
# as line breaks, but an .xlsx cannot store them either (openpyxl refuses them).
CELL_CONTROLS = re.compile(f"{CONTROL_CHARACTERS.pattern}|[\x0b\x0c]")


def unwritable(sheet: Sheet, file: str) -> list[Diagnostic]:
    """E011 for each cell of the sheet holding control characters, E012 for each
    longer than an Excel cell: the reader's own diagnostics, placed at the cell."""
    found = []
    for r, row in enumerate(sheet.rows, 1):
        for c, value in enumerate(row):
            if not isinstance(value, str):
                continue
            where = Location(file, sheet.name, f"{column_letter(c)}{r}")
            if CELL_CONTROLS.search(value):
                found.append(_controls(value, where))
            if len(value) > EXCEL_CELL_LIMIT // 2 and excel_length(value) > EXCEL_CELL_LIMIT:
                found.append(too_long(value, where))
    return found


def _controls(value: str, where: Location) -> Diagnostic:
    """The reader's E011, naming the vertical tab and form feed too."""
    codes = sorted({f"U+{ord(ch):04X}" for ch in CELL_CONTROLS.findall(value)})
    shown = CELL_CONTROLS.sub(lambda m: f"<U+{ord(m[0]):04X}>", value)
    return dataclasses.replace(
        control_characters(value, where),
        message=f"单元格 {where.cell} 含有不可见的控制字符 {'、'.join(codes)}",
        found=shown if len(shown) <= 60 else shown[:60] + "……",
    )


@dataclass
class Draft:
    county: str
    county_name: str
    owner: str
    folder: str
    base: int = 0
    base_hash: str = ""
    revision: int = 0
    updated_at: str = ""
    updated_by: str = ""
    started_from: str = ""

    @property
    def root(self) -> Path:
        return Path(self.folder) / "tables"

    @property
    def workbook(self) -> Path:
        return self.root / "counties" / f"{self.county}-{self.county_name}.xlsx"


def county_names(tables: Path) -> dict[str, str]:
    """Six-digit code -> name, from the county workbooks' file names (an .xlsx, or a
    folder of CSV files); other files, such as publish's ``330106.base.json``, name
    no county."""
    from compiler.resolve import WORKBOOK_SUFFIXES

    found: dict[str, str] = {}
    for path in sorted((tables / "counties").iterdir()) if (tables / "counties").is_dir() else []:
        match = re.match(r"(\d{6})-?([^.]*)", path.name)
        workbook = path.is_dir() or path.suffix.lower() in WORKBOOK_SUFFIXES
        if not match or not workbook or path.name.startswith(("~$", ".")):
            continue
        if match.group(2) or match.group(1) not in found:  # a named workbook wins
            found[match.group(1)] = match.group(2) or match.group(1)
    return found


def draft_folder(settings: Settings, county: str, owner: str) -> Path:
    safe = re.sub(r"[^\w.\-]", "_", owner)
    return settings.state / "drafts" / county / safe


def open_draft(settings: Settings, county: str, owner: str) -> Draft:
    """The owner's draft of the county, created from the latest version if missing."""
    folder = draft_folder(settings, county, owner)
    meta = folder / META
    if meta.exists():
        draft = Draft(**json.loads(meta.read_text(encoding="utf-8")))
        if draft.workbook.exists():
            return draft
    return start_draft(settings, county, owner)


def start_draft(settings: Settings, county: str, owner: str) -> Draft:
    """(Re)start the owner's draft from the latest published version, else tables/."""
    from compiler.export import county_workbook
    from compiler.export import write_xlsx as export_xlsx
    from compiler.registry import Registry

    name = county_names(settings.tables).get(county, county)
    folder = draft_folder(settings, county, owner)
    old = _load_meta(folder)
    if (folder / "tables").exists():
        shutil.rmtree(folder / "tables")
    latest = Registry(settings.registry).latest(county)
    draft = Draft(county, name, owner, str(folder), revision=(old.revision + 1) if old else 1,
                  updated_at=_now(), updated_by=owner)
    draft.workbook.parent.mkdir(parents=True, exist_ok=True)
    if latest is not None:
        draft.county_name = latest.county_name or name
        export_xlsx(county_workbook(latest.rulebook()), draft.workbook)
        draft.base, draft.base_hash, draft.started_from = latest.number, latest.hash, latest.label
    else:
        source = _tables_workbook(settings, county)
        if source is not None and source.is_file():
            shutil.copyfile(source, draft.workbook)
        else:
            write_xlsx(draft.workbook, [Sheet("标准参数", [["标识", "名称", "值", "单位", "生效日期",
                                                          "失效日期", "来源", "备注", "核实"]])])
        draft.started_from = "tables"
    sync_parents(settings, draft)
    _save_meta(draft)
    return draft


def _tables_workbook(settings: Settings, county: str) -> Path | None:
    for path in sorted((settings.tables / "counties").glob(f"{county}*")):
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            return path
    return None


def sync_parents(settings: Settings, draft: Draft) -> None:
    """Copy the province folder and the county's city workbook into the draft's root,
    file by file and only when changed, so an unchanged parent keeps its timestamp."""
    _mirror(settings.tables / "province", draft.root / "province", "*")
    _mirror(settings.tables / "cities", draft.root / "cities", f"{draft.county[:4]}00*")


def _mirror(source: Path, target: Path, pattern: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    wanted = {p.name: p for p in source.glob(pattern) if p.is_file()} if source.is_dir() else {}
    for stale in target.iterdir():
        if stale.name not in wanted:
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    for name, path in wanted.items():
        copy, info = target / name, path.stat()
        if copy.exists() and copy.stat().st_size == info.st_size and copy.stat().st_mtime_ns == info.st_mtime_ns:
            continue
        shutil.copy2(path, copy)


def load_sheets(draft: Draft) -> list[Sheet]:
    sheets, _ = read_sheets(draft.workbook)
    return sheets


def save_sheets(draft: Draft, sheets: list[Sheet], author: str, revision: int) -> Draft:
    """Write the sheets as the draft's workbook if nobody saved since ``revision``.

    Raises StaleDraft when someone did, UnwritableCells when a cell cannot be stored.
    """
    with _locked(Path(draft.folder)):  # two sessions saving at once: one is stale
        current = _load_meta(Path(draft.folder)) or draft
        if current.revision != revision:
            raise StaleDraft(f"草稿已在别处保存（{current.updated_by}，{current.updated_at[:19].replace('T', ' ')}）")
        problems = [d for sheet in sheets for d in unwritable(sheet, str(current.workbook))]
        if problems:
            raise UnwritableCells(problems)
        write_xlsx(current.workbook, sheets)
        current.revision += 1
        current.updated_at, current.updated_by = _now(), author
        _save_meta(current)
        return current


def set_base(draft: Draft, number: int, digest: str) -> Draft:
    """Record that the draft now builds on version ``number`` (after a publish, or when
    the admin keeps their edits over a colleague's newer version)."""
    with _locked(Path(draft.folder)):
        current = _load_meta(Path(draft.folder)) or draft
        current.base, current.base_hash = number, digest
        current.revision += 1
        current.updated_at = _now()
        _save_meta(current)
        return current


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """The draft's revision checked and written by one session at a time: both of two
    sessions saving at once were told 「已保存」 and one edit was lost (helper-39).
    flock excludes other threads' opens of the file as well as other processes."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / ".save.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def reload(draft: Draft) -> Draft:
    return _load_meta(Path(draft.folder)) or draft


def _load_meta(folder: Path) -> Draft | None:
    meta = folder / META
    if not meta.exists():
        return None
    return Draft(**json.loads(meta.read_text(encoding="utf-8")))


def _save_meta(draft: Draft) -> None:
    meta = Path(draft.folder) / META
    meta.parent.mkdir(parents=True, exist_ok=True)
    temporary = meta.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(draft), ensure_ascii=False, indent=2), encoding="utf-8")
    temporary.replace(meta)


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")
