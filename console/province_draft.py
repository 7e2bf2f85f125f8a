"""A provincial maintainer's draft of tables/province/, and applying it without
undoing a colleague's change.

The draft keeps, beside the edited copy, the sheets as they were in tables/province/
when the draft started or was last applied::

    .jiuzhu/drafts/province/<user>/
        tables/province/*.csv      the copy being edited (cities, counties: links)
        base/*.csv                 tables/province/ as this draft last saw it

A sheet is *mine* when the draft differs from the base, *theirs* when tables/province/
differs from the base (another maintainer applied it). Sheets only they changed are
taken into the draft on every page run; applying writes only my sheets, and is refused
while a sheet is both mine and theirs, naming the cells the colleague changed, so
neither person's edit is lost. Applies are serialised by a lock file.
"""

from __future__ import annotations

import fcntl
import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from console import grids
from console.config import Settings
from console.sheets import Sheet, read_sheets, text

APPLIED = "province-applied.json"  # sheet -> who applied it last, and when


class ProvinceConflict(RuntimeError):
    """tables/province/ changed since the draft saw it; the message is for people."""


@dataclass(frozen=True)
class ProvinceDraft:
    folder: Path
    published: Path  # tables/province/

    @property
    def root(self) -> Path:
        return self.folder / "tables"

    @property
    def province(self) -> Path:
        return self.root / "province"

    @property
    def base(self) -> Path:
        return self.folder / "base"


def open_province_draft(settings: Settings, owner: str) -> ProvinceDraft:
    """The owner's draft, made from tables/province/ when missing; a draft from before
    bases were kept takes tables/province/ as it is now for its base."""
    folder = settings.state / "drafts" / "province" / re.sub(r"[^\w.\-]", "_", owner)
    draft = ProvinceDraft(folder, settings.tables / "province")
    if not draft.province.exists():
        shutil.rmtree(draft.base, ignore_errors=True)
        shutil.copytree(draft.published, draft.province)
    if not draft.base.exists():
        shutil.copytree(draft.published, draft.base)
    for name in ("cities", "counties"):  # read where they are: a province edit is checked on them
        link, target = draft.root / name, (settings.tables / name).resolve()
        if not link.is_symlink() and not link.exists():
            if target.is_dir():
                link.symlink_to(target, target_is_directory=True)
            else:
                link.mkdir(parents=True)
    return draft


def discard(draft: ProvinceDraft) -> None:
    """Drop the draft; the next open starts again from tables/province/."""
    shutil.rmtree(draft.province, ignore_errors=True)
    shutil.rmtree(draft.base, ignore_errors=True)


def _files(folder: Path) -> dict[str, Path]:
    return {p.stem: p for p in folder.glob("*.csv")} if folder.is_dir() else {}


def _rows(path: Path | None) -> Sheet | None:
    if path is None or not path.exists():
        return None
    sheets, _ = read_sheets(path)
    return sheets[0] if sheets else Sheet(path.stem)


def _differs(a: Path | None, b: Path | None) -> bool:
    """Whether two copies of a sheet hold different cells (a missing copy differs)."""
    if a is None or b is None or not a.exists() or not b.exists():
        return (a is not None and a.exists()) != (b is not None and b.exists())
    if a.read_bytes() == b.read_bytes():
        return False
    first, second = _rows(a), _rows(b)
    assert first is not None and second is not None
    return not grids.same_rows(first, second)


def mine(draft: ProvinceDraft) -> list[str]:
    """The sheets this maintainer changed in the draft."""
    edited, base = _files(draft.province), _files(draft.base)
    return sorted(n for n in edited.keys() | base.keys() if _differs(edited.get(n), base.get(n)))


def theirs(draft: ProvinceDraft) -> list[str]:
    """The sheets of tables/province/ changed since the draft last saw them."""
    current, base = _files(draft.published), _files(draft.base)
    return sorted(n for n in current.keys() | base.keys() if _differs(current.get(n), base.get(n)))


def follow(draft: ProvinceDraft) -> list[str]:
    """Take into the draft the sheets a colleague changed and this maintainer did not;
    the sheets both changed are left alone (see ``conflicts``)."""
    own = set(mine(draft))
    taken = [n for n in theirs(draft) if n not in own]
    for name in taken:
        _take(draft, name)
    return taken


def conflicts(draft: ProvinceDraft) -> list[str]:
    """Sheets changed both in the draft and in tables/province/ since the base."""
    return sorted(set(mine(draft)) & set(theirs(draft)))


def take_theirs(draft: ProvinceDraft, name: str) -> None:
    """Give up the draft's changes to one sheet for the one in tables/province/."""
    _take(draft, name)


def keep_mine(draft: ProvinceDraft, name: str) -> None:
    """Record that the maintainer has seen the colleague's version of the sheet (and
    merged what they want of it): the next apply may write the draft's sheet."""
    _copy(draft.published / f"{name}.csv", draft.base / f"{name}.csv")


def _take(draft: ProvinceDraft, name: str) -> None:
    source = draft.published / f"{name}.csv"
    _copy(source, draft.province / f"{name}.csv")
    _copy(source, draft.base / f"{name}.csv")


def _copy(source: Path, target: Path) -> None:
    if source.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    else:
        target.unlink(missing_ok=True)


def changed_cells(draft: ProvinceDraft, name: str, limit: int = 10) -> list[str]:
    """What a colleague changed in a sheet since the base: 「C2：1149 → 1160」."""
    before = _rows(draft.base / f"{name}.csv") or Sheet(name)
    after = _rows(draft.published / f"{name}.csv") or Sheet(name)
    found = []
    for r in range(max(len(before.rows), len(after.rows))):
        old = before.rows[r] if r < len(before.rows) else []
        new = after.rows[r] if r < len(after.rows) else []
        for c in range(max(len(old), len(new))):
            was = text(old[c]) if c < len(old) else ""
            now = text(new[c]) if c < len(new) else ""
            if was != now:
                found.append(f"{grids.column_letter(c)}{r + 1}：{was or '（空）'} → {now or '（空）'}")
    if len(found) > limit:
        found = found[:limit] + [f"……另有 {len(found) - limit} 处"]
    return found


def last_applied(settings: Settings, name: str) -> str:
    """「prov 于 2025-06-01 10:12」 for the last apply of a sheet through the console."""
    record = _applied(settings).get(name)
    return f"{record['by']} 于 {record['at'][:16].replace('T', ' ')}" if record else "他人"


def conflict_message(settings: Settings, draft: ProvinceDraft, names: list[str]) -> str:
    parts = []
    for name in names:
        cells = "；".join(changed_cells(draft, name)) or "内容有变化"
        parts.append(f"「{name}」（{last_applied(settings, name)}应用；改动：{cells}）")
    return ("你开始编辑后，tables/province/ 中的" + "、".join(parts)
            + " 已被修改，而你的草稿也修改了这些工作表。为免覆盖对方的改动，本次没有写入任何工作表；"
            "你的草稿仍然保留。请对每个工作表选择：改用对方的版本，或在草稿中合入对方的改动后保留自己的版本。")


@contextmanager
def _locked(settings: Settings) -> Iterator[None]:
    lock = settings.state / "drafts" / "province" / ".apply.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def apply(settings: Settings, draft: ProvinceDraft, author: str) -> list[str]:
    """Write the sheets this maintainer changed to tables/province/; returns their
    names. Raises ProvinceConflict, writing nothing, when tables/province/ changed
    since the draft saw it (the check the page ran did not include that change)."""
    with _locked(settings):
        changed = theirs(draft)
        if changed:
            both = sorted(set(changed) & set(mine(draft)))
            follow(draft)
            if both:
                raise ProvinceConflict(conflict_message(settings, draft, both))
            raise ProvinceConflict(
                "检查之后，tables/province/ 中的「" + "」「".join(changed) + "」已被他人修改，"
                "已载入你的草稿；本次没有写入。请重新检查后再应用。")
        written = mine(draft)
        for name in written:
            _copy(draft.province / f"{name}.csv", draft.published / f"{name}.csv")
            _copy(draft.province / f"{name}.csv", draft.base / f"{name}.csv")
        _record(settings, written, author)
    return written


def _applied(settings: Settings) -> dict[str, dict[str, str]]:
    path = settings.state / APPLIED
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _record(settings: Settings, names: list[str], author: str) -> None:
    if not names:
        return
    records = _applied(settings)
    moment = datetime.now().astimezone().isoformat(timespec="seconds")
    records.update({n: {"by": author, "at": moment} for n in names})
    path = settings.state / APPLIED
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
    temporary.replace(path)
