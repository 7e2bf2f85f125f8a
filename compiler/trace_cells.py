"""The cell a trace entry names, in one form whichever source decided.

A rule's location names its file as the reader opened it: ``tables/province`` or an
absolute path for the working copy, ``province`` for a published version (canonical
YAML stores paths relative to the tables folder). A trace is part of a decision, so it
must not depend on where the command ran: its cell is always written relative to the
tables folder, with ``/`` between folders (``province:eligibility!A7``,
``counties/330106-西湖区.xlsx:household_group!A6``), the form a version stores.
"""

from __future__ import annotations

from pathlib import PurePath

from compiler.bind import Plan
from compiler.diagnostics import Location


def tables_root(sources: list[str]) -> PurePath | None:
    """The tables folder of a rulebook's sources: the parent of ``province`` (the
    province's CSV folder, or the folder of its workbook), read from the path as written
    (``.`` for a published version's relative paths), never from the disk."""
    if not sources:
        return None
    province = PurePath(sources[-1])
    for candidate in (province, province.parent):
        if candidate.name == "province":
            return candidate.parent
    return None


def trace_cell(location: Location, plan: Plan) -> str:
    """``location`` rendered for a trace: its file relative to the plan's tables folder."""
    root = tables_root(plan.rulebook.sources)
    if not location.file or root is None:
        return location.render()
    try:
        file = PurePath(location.file).relative_to(root).as_posix()
    except ValueError:  # not under the tables folder: kept as it is
        return location.render()
    return Location(file, location.sheet, location.cell).render()
