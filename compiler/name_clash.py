"""Names that two items of a county's rulebook share (E207).

A cell may write an item's 名称 in place of its 标识, so every 名称 must be no other
field's, standard's, derived value's or output's 名称 or 标识. Binding resolves a shared
one silently (an identifier before a name, an earlier name before a later one): a
county standard named 医疗支出 was read as the field of that name, and a county derived
value named 低保标准 as the standard. Checked as the working copy's workbooks are
layered; a published version is bound as it was published.

The clash is said at the item that brought the name last, naming the other and its
cell: a county's item before a city's before the province's; of one workbook's items,
one it adds before one it keeps under the province's 名称 (a derived value it replaces);
of two it adds, a standard before a derived value (a cell writing the name reads the
standard, so adding it changed what the derived value's cells read) and the later of
two of one kind (helper-98).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Protocol

from compiler.diagnostics import NOWHERE, Diagnostic, Location, Report, make
from compiler.model import RuleBook, Table, Workbook

_CELL = ("标识", "名称")


class _Owned(Protocol):
    """A bound item (bind.Item): its kind and the table or item that defines it."""

    kind: str
    owner: str


@dataclass(frozen=True)
class _Named:
    """An item with a name, and where its 标识 and 名称 are written."""

    what: str  # 字段「assets.money」, 决策表「t」的输出「group」 ...
    kind: str  # builtin, field, standard, derived, output: the order binding takes
    id: str
    name_cn: str
    cells: tuple[Location, Location]  # the 标识 cell, the 名称 cell

    @property
    def file(self) -> str | None:
        return self.cells[1].file


def check_names(book: RuleBook, report: Report, province: Workbook | None = None) -> None:
    """E207 at the 名称 (or 标识) cell of the item whose name another item already
    has, naming the other and its cell. ``province`` gives the names the province's
    items have, which an item a county replaces keeps (without it, every item of a
    city or county workbook counts as one the workbook adds)."""
    items = _named(book)
    rank = _Rank(book, province)
    taken: dict[str, tuple[_Named, int]] = {item.id: (item, 0) for item in items}
    for item in items:
        name = item.name_cn
        if not name or name == item.id:
            continue
        other, other_cell = taken.setdefault(name, (item, 1))
        if other is item:
            continue
        ours, theirs = (item, 1), (other, other_cell)
        if rank.first(item, other, other_cell):
            ours, theirs = theirs, ours  # said where the name came last
        _say(ours, theirs, name, report)


def _say(
    ours: tuple[_Named, int], theirs: tuple[_Named, int], name: str, report: Report
) -> None:
    (item, cell), (other, other_cell) = ours, theirs
    where = _cell_said(other.cells[other_cell], item.cells[cell])
    report.error(
        "E207",
        f"{item.what}的{_CELL[cell]}「{name}」已是{other.what}的"
        f"{_CELL[other_cell]}{where}，表格中写「{name}」时无法确定指哪一个",
        item.cells[cell],
        found=name,
        expected="字段、标准参数、派生值和决策表输出都没有用过的名称",
        hint=f"给{item.what}另取一个{_CELL[cell]}；"
        "名称可以在单元格中代替标识，所以须与其他名称和标识都不同",
    )


class _Rank:
    """Which of two items sharing a name had it first."""

    def __init__(self, book: RuleBook, province: Workbook | None) -> None:
        self.layers = list(reversed(book.sources))  # province, city, county
        self.province = set(book.sources[-1:])
        self.kept: set[tuple[str, str]] = set()
        if province is not None:
            for item in (*province.fields, *province.standards, *province.derived):
                self.kept.add((item.id, item.name_cn))

    def first(self, later: _Named, earlier: _Named, earlier_cell: int) -> bool:
        """Whether ``later``, met after ``earlier`` in binding's order, had the name
        first, so that the clash is said at ``earlier``'s cell."""
        ours, theirs = self.of(later), self.of(earlier)
        if ours != theirs or later.file in self.province:
            return ours < theirs  # the province's clashes are said at the later item
        # two items one workbook adds under one 名称: binding gives the name to the
        # earlier kind, whose addition changed what the other's cells read
        return earlier_cell == 1 and earlier.kind != later.kind

    def of(self, item: _Named) -> tuple[int, bool]:
        """(how local its workbook is, whether the workbook adds its name)."""
        if item.file not in self.layers:
            return (-1, False)  # the decision date's 决策日, before every workbook
        layer = self.layers.index(item.file)
        added = item.file not in self.province and (item.id, item.name_cn) not in self.kept
        return (layer, added)


def _named(book: RuleBook) -> list[_Named]:
    """Every item in the order binding takes their names: fields, standards, derived
    values, outputs (the decision date ``as_of``, 决策日, first of all)."""
    found = [_Named("内置名称「as_of」", "builtin", "as_of", "决策日", (NOWHERE, NOWHERE))]
    for f in book.fields.values():
        cells = (f.location, f.location)
        found.append(_Named(f"字段「{f.id}」", "field", f.id, f.name_cn, cells))
    for s in book.standards.values():
        cells = (s.location, _or(s.name_location, s.location))
        found.append(_Named(f"标准参数「{s.id}」", "standard", s.id, s.name_cn, cells))
    for d in book.derived.values():
        cells = (d.location, _or(d.name_location, d.location))
        found.append(_Named(f"派生值「{d.id}」", "derived", d.id, d.name_cn, cells))
    for t in book.tables.values():
        for o in t.outputs:
            what = f"决策表「{t.id}」的输出「{o.id}」"
            found.append(_Named(what, "output", o.id, "", (o.location, o.location)))
    return found


_KINDS = {"field": "字段", "standard": "标准参数", "derived": "派生值", "builtin": "内置名称"}


def said_twice(
    ident: str,
    location: Location,
    item: _Owned,
    other: _Owned,
    other_at: Location,
    tables: dict[str, Table],
) -> Diagnostic:
    """E207 for an identifier two items of a county's rulebook define (binding keeps
    ``other``, the first), naming the other and its cell; for two tables' outputs, the
    table meant where the later table's id misspells the other's (other_hardshp_rules
    for other_hardship_rules adds a table instead of replacing it; helper-112)."""
    where = _cell_said(other_at, location)
    what = (
        f"决策表「{other.owner}」的输出"
        if other.kind == "output"
        else f"{_KINDS.get(other.kind, '')}「{other.owner}」的标识"
    )
    hint = "改正其中一处的标识；每个标识只能定义一次"
    if item.kind == other.kind == "output" and item.owner != other.owner:
        hint = f"给决策表「{item.owner}」的这个输出另取一个标识"
        if other.owner in tables and _alike(item.owner, other.owner):
            hint = (
                f"决策表「{item.owner}」的标识与「{other.owner}」不同，会作为新表加入，"
                f"而不是替换它；要替换「{other.owner}」，把表的标识（第 1 行 A 列）"
                f"改为 {other.owner}"
            )
    return make(
        "E207",
        f"名称「{ident}」重复定义：已是{what}{where}",
        location,
        found=ident,
        expected="字段、标准参数、派生值和决策表输出的标识各不相同",
        hint=hint,
    )


# how alike two ids must be (difflib's ratio) to suggest one was meant for the other
ALIKE = 0.75


def _alike(one: str, other: str) -> bool:
    return difflib.SequenceMatcher(None, one, other).ratio() >= ALIKE


def _cell_said(cell: Location, beside: Location) -> str:
    """The other item's cell as a message names it: its sheet and cell in the same
    workbook, else with its workbook; nothing for the built-in 决策日."""
    if not cell.cell:
        return ""
    if cell.file == beside.file:
        return f"（{cell.sheet}!{cell.cell}）"
    return f"（{cell.render()}）"


def _or(cell: Location, fallback: Location) -> Location:
    return cell if cell.cell else fallback


__all__ = ["ALIKE", "check_names", "said_twice"]
