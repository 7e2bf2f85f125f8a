"""Names that two items of a county's rulebook share (E207).

A cell may write an item's 名称 in place of its 标识, so every 名称 must be no other
field's, standard's, derived value's or output's 名称 or 标识. Binding resolves a shared
one silently (an identifier before a name, an earlier name before a later one): a
county standard named 医疗支出 was read as the field of that name, and a county derived
value named 低保标准 as the standard. Checked as the working copy's workbooks are
layered; a published version is bound as it was published.
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.diagnostics import NOWHERE, Location, Report
from compiler.model import RuleBook

_CELL = ("标识", "名称")


@dataclass(frozen=True)
class _Named:
    """An item with a name, and where its 标识 and 名称 are written."""

    what: str  # 字段「assets.money」, 决策表「t」的输出「group」 ...
    id: str
    name_cn: str
    cells: tuple[Location, Location]  # the 标识 cell, the 名称 cell

    @property
    def file(self) -> str | None:
        return self.cells[1].file


def check_names(book: RuleBook, report: Report) -> None:
    """E207 at the 名称 (or 标识) cell of the city's or county's item whose name another
    item already has, naming the other; where both are the province's, at the later."""
    province = book.sources[-1:]
    items = _named(book)
    taken: dict[str, tuple[_Named, int]] = {item.id: (item, 0) for item in items}
    for item in items:
        name = item.name_cn
        if not name or name == item.id:
            continue
        other, other_cell = taken.setdefault(name, (item, 1))
        if other is item:
            continue
        ours, theirs = (item, 1), (other, other_cell)
        if item.file in province and other.file not in (*province, None):
            ours, theirs = theirs, ours  # said where the county added it
        report.error(
            "E207",
            f"{ours[0].what}的{_CELL[ours[1]]}「{name}」已是{theirs[0].what}的"
            f"{_CELL[theirs[1]]}，表格中写「{name}」时无法确定指哪一个",
            ours[0].cells[ours[1]],
            found=name,
            expected="字段、标准参数、派生值和决策表输出都没有用过的名称",
            hint=f"给{ours[0].what}另取一个{_CELL[ours[1]]}；"
            "名称可以在单元格中代替标识，所以须与其他名称和标识都不同",
        )


def _named(book: RuleBook) -> list[_Named]:
    """Every item in the order binding takes their names: fields, standards, derived
    values, outputs (the decision date ``as_of``, 决策日, first of all)."""
    found = [_Named("内置名称「as_of」", "as_of", "决策日", (NOWHERE, NOWHERE))]
    for f in book.fields.values():
        found.append(
            _Named(f"字段「{f.id}」", f.id, f.name_cn, (f.location, f.location))
        )
    for s in book.standards.values():
        cells = (s.location, _or(s.name_location, s.location))
        found.append(_Named(f"标准参数「{s.id}」", s.id, s.name_cn, cells))
    for d in book.derived.values():
        cells = (d.location, _or(d.name_location, d.location))
        found.append(_Named(f"派生值「{d.id}」", d.id, d.name_cn, cells))
    for t in book.tables.values():
        for o in t.outputs:
            what = f"决策表「{t.id}」的输出「{o.id}」"
            found.append(_Named(what, o.id, "", (o.location, o.location)))
    return found


def _or(cell: Location, fallback: Location) -> Location:
    return cell if cell.cell else fallback


__all__ = ["check_names"]
