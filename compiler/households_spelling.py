"""Names that are a declared field, or a group of fields, written in another way.

A key of a JSON household or a column of a tabular file that no field has is warned
about and not read (W601, ``households_keys``, ``households_stage``). That is right for
a name the contract does not know, and dangerous for one that names a declared field
in another spelling or shape: its value is dropped and the field takes its default, so
that a household with 10,000,000 yuan written ``"assets.money"`` is decided with no
money at all, as 低保. Such a name is refused (E603) where it is, saying how to write
it (``Spellings``):

- JSON (``json_key``): a dotted key (``"assets.money"``), a key in other letter case
  (``"Assets"``, ``"Money"``), a field's Chinese name (``"货币财产"``), a field's last
  key without its group (``"money"`` for ``assets.money``), or a field of another level
  by its id or Chinese name (``"income.wage"`` beside ``assets``). JSON is nested as
  the contract has it and written by programs: it takes the contract's keys only. A CSV
  header is flat and typed by people, so there a column may be named by its id in any
  letter case or by its Chinese name, as Parquet and DuckDB columns may; either way a
  value that names a declared field is read or refused, never dropped.
- Parquet, DuckDB, CSV (``column_problems``): a column named as a group (``assets``)
  that is no STRUCT (a MAP, a list, text), a STRUCT nested one level too deep
  (``assets STRUCT(assets STRUCT(money …))``, ``household STRUCT(assets …)``), and a
  list of members or events in the households file, whose members belong in the
  members file (E605).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from compiler.diagnostics import Diagnostic, Location, make
from compiler.households_model import LISTS, Column, Schema
from compiler.model import LEVEL_CN, Kind, Level
from compiler.sqlgen import SQL_TYPES

_EXAMPLE_VALUES: dict[Kind, object] = {
    Kind.MONEY: "1402.50",
    Kind.NUMBER: "85.5",
    Kind.INTEGER: 2,
    Kind.PERCENT: "0.35",
    Kind.BOOLEAN: True,
    Kind.DATE: "2025-04-07",
    Kind.TEXT: "H001",
}
DROPPED = "其中的取值不会被读取，该户会按字段的默认值决策（如货币财产按 0），因此拒绝读入"


@dataclass(frozen=True, slots=True)
class Named:
    """What a name stands for: a declared field (``column``), or a group of fields or
    the members or events list (``column`` None), at ``path`` inside its level."""

    level: Level
    path: tuple[str, ...]
    column: Column | None = None

    @property
    def label(self) -> str:
        if self.column is not None:
            return f"字段「{self.column.name_cn}」（{self.column.id}）"
        if self.level is Level.HOUSEHOLD and self.path[0] in LISTS.values():
            return f"{self.path[0]} 列表"
        return f"字段组「{'.'.join(self.path)}」"

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


class Spellings:
    """The declared names of a schema, each in the ways it may be misspelt."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.paths: dict[Level, dict[str, Named]] = {level: {} for level in Level}
        self.ids: dict[str, Named] = {}
        self.chinese: dict[Level, dict[str, Named]] = {level: {} for level in Level}
        self.last: dict[Level, dict[str, list[Named]]] = {level: {} for level in Level}
        for level, columns in schema.items():
            for column in columns:
                named = Named(level, column.key, column)
                self.paths[level][named.dotted.casefold()] = named
                self.ids.setdefault(column.id.casefold(), named)
                self.chinese[level].setdefault(column.name_cn.casefold(), named)
                if len(column.key) > 1:
                    self.last[level].setdefault(column.key[-1].casefold(), []).append(named)
                for depth in range(1, len(column.key)):
                    group = Named(level, column.key[:depth])
                    self.paths[level].setdefault(group.dotted.casefold(), group)
        for level, name in LISTS.items():
            if schema[level]:
                self.paths[Level.HOUSEHOLD].setdefault(name, Named(Level.HOUSEHOLD, (name,)))

    def group_of(self, named: Named) -> list[Column]:
        """The fields inside a group (the list's fields for ``members``)."""
        if named.level is Level.HOUSEHOLD and named.path[0] in LISTS.values():
            level = next(lv for lv, n in LISTS.items() if n == named.path[0])
            return self.schema[level]
        size = len(named.path)
        return [c for c in self.schema[named.level] if c.key[:size] == named.path]

    # ------------------------------------------------------------------------ JSON

    def json_key(
        self, level: Level, prefix: tuple[str, ...], key: str
    ) -> tuple[Named, str] | None:
        """What a key no field has stands for, found in an object at ``prefix`` of a
        ``level`` object, and how it is misspelt: ``dotted``, ``case``, ``chinese``,
        ``shallow`` (its group left out) or ``level`` (a field of another level);
        None for a key that names nothing declared."""
        folded = key.casefold()
        named = self.paths[level].get(".".join((*prefix, key)).casefold())
        if named is not None:
            return named, "dotted" if "." in key else "case"
        own = self.ids.get(folded)
        if own is not None and own.level is level and not prefix:
            return own, "dotted"  # "event.type" in an event
        if folded in self.chinese[level]:
            return self.chinese[level][folded], "chinese"
        shallow = [
            n for n in self.last[level].get(folded, []) if n.path[: len(prefix)] == prefix
        ]
        if len(shallow) == 1 and len(shallow[0].path) > len(prefix) + 1:
            return shallow[0], "shallow"
        for other in Level:
            if other is not level and folded in self.chinese[other]:
                return self.chinese[other][folded], "level"
        if "." in key and own is not None and own.level is not level:
            return own, "level"
        return None

    def json_example(self, named: Named) -> str:
        """The named field (or a group's first field) as the contract nests it, from
        the household object down: {"assets": {"money": "1402.50"}}."""
        column = named.column or self.group_of(named)[0]
        value: object = _EXAMPLE_VALUES.get(column.dtype.kind)
        if column.dtype.kind is Kind.ENUM:
            value = column.dtype.values[0] if column.dtype.values else "…"
        elif column.dtype.kind is Kind.TEXT and not column.id.endswith("_id"):
            value = "…"
        for part in reversed(column.key):
            value = {part: value}
        if column.level in LISTS:
            value = {LISTS[column.level]: [value]}
        return json.dumps(value, ensure_ascii=False)

    def json_problem(
        self, level: Level, prefix: tuple[str, ...], key: str, where: Location
    ) -> Diagnostic | None:
        """E603 for a key that names a declared field or group another way."""
        found = self.json_key(level, prefix, key)
        if found is None:
            return None
        named, how = found
        if how == "dotted":
            said = f"是{named.label}的标识，JSON 中应按层级嵌套，不写成带「.」的键"
        elif how == "case":
            said = f"与{named.label}只差字母大小写"
        elif how == "chinese":
            said = f"是{named.label}的中文名称，JSON 中应写字段标识"
        elif how == "shallow":
            said = f"是{named.label}的最后一段，缺少外层「{named.path[-2]}」"
        else:
            said = f"是{LEVEL_CN[named.level]}的{named.label}，不能写在{LEVEL_CN[level]}对象中"
        return make(
            "E603",
            f"键「{key}」{said}",
            where,
            found=key,
            expected=f"数据约定中的键，按层级嵌套，如 {self.json_example(named)}",
            hint=f"{DROPPED}；JSON 的键须与数据约定完全一致（CSV 表头才可写 assets.money 或中文名称）",
        )

    # ------------------------------------------------------------------------ tables

    def column_problems(
        self,
        level: Level,
        names: dict[str, str],
        file: Path,
        where: str,
        struct_ok: bool,
    ) -> list[Diagnostic]:
        """E603 for each unread column (or STRUCT field, by its dotted name; ``names``
        gives each its DuckDB type) that is a group in another shape or a declared
        name nested too deep; E605 for a members or events list in the households
        file. ``struct_ok``: the format has STRUCT columns (not CSV)."""
        problems: list[Diagnostic] = []
        placed: list[str] = []
        for name in sorted(names, key=lambda n: n.count(".")):
            if any(name.startswith(p + ".") for p in placed):
                continue  # inside a column already refused
            found = self._column_problem(level, name, names[name], file, where, struct_ok)
            if found is not None:
                problems.append(found)
                placed.append(name)
        return problems

    def _column_problem(
        self, level: Level, name: str, dtype: str, file: Path, where: str, struct_ok: bool
    ) -> Diagnostic | None:
        at = Location(file=str(file), cell=name)
        shown = f"{name} {dtype}" if struct_ok else name
        if level is Level.HOUSEHOLD and name.casefold() in LISTS.values():
            return _list_in_households(name.casefold(), shown, at, where, file)
        named = self.paths[level].get(name.casefold())
        if named is not None and named.column is None and not is_struct(dtype):
            return make(
                "E603",
                f"{where}中的「{name}」是一组字段的名称，该列却是{_shape_cn(dtype, struct_ok)}，"
                "其中的取值无法按字段读取",
                at,
                found=_clip(shown),
                expected=self._group_form(named, struct_ok),
                hint=f"{DROPPED}；按字段分列（或用 STRUCT 列）后重新导出",
            )
        parts = name.split(".")
        for start in range(1, len(parts)):
            inner = ".".join(parts[start:])
            named = self.paths[level].get(inner.casefold())
            if named is None and start == len(parts) - 1:
                named = self.chinese[level].get(inner.casefold())
            if named is None or (named.column is not None and named.column.id in _LINKS):
                continue
            outer = ".".join(parts[:start])
            return make(
                "E603",
                f"{where}中的「{name}」多嵌套了一层：「{outer}」里的「{inner}」"
                f"是{named.label}",
                at,
                found=_clip(shown),
                expected=self._group_form(named, struct_ok),
                hint=f"{DROPPED}；去掉外层「{outer}」后重新导出",
            )
        return None

    def _group_form(self, named: Named, struct_ok: bool) -> str:
        """How a group (or a field) is written in a table: its columns, or a STRUCT."""
        columns = [named.column] if named.column else self.group_of(named)
        flat = "、".join(c.id for c in columns[:2]) + (" 等列" if len(columns) > 2 else " 列")
        if not struct_ok or len(named.path) > (2 if named.column else 1):
            return f"分成 {flat}"
        size = len(named.path) - 1 if named.column else len(named.path)
        top = named.path[0] if named.column is None or size else named.path[-1]
        if named.column is not None and size == 0:
            return f"第一层的列 {named.column.id}（{SQL_TYPES[named.column.dtype.kind]}）"
        inner = ", ".join(
            f"{c.key[size]} {SQL_TYPES[c.dtype.kind] if len(c.key) == size + 1 else 'STRUCT(…)'}"
            for c in columns[:2]
        )
        return f"第一层的 STRUCT 列，如 {top} STRUCT({inner})；或分成 {flat}"


# The columns that link the files are read by their exact names at the top (staging).
_LINKS = ("household_id", "county_code")


def is_struct(dtype: str) -> bool:
    """Whether a DuckDB type is a STRUCT (not a list or array of them)."""
    return dtype.startswith("STRUCT(") and dtype.endswith(")")


def _shape_cn(dtype: str, struct_ok: bool) -> str:
    """What a column that should be a STRUCT is instead, said after 「该列却是」."""
    if not struct_ok:
        return "一列文本"
    if dtype.startswith("MAP("):
        return "键值对（MAP），不是结构（STRUCT）"
    if dtype.endswith("]"):
        return "列表，不是结构（STRUCT）"
    return f" {dtype} 类型，不是结构（STRUCT）"


def _list_in_households(
    name: str, shown: str, at: Location, where: str, file: Path
) -> Diagnostic:
    """E605: members or events written inside the households file."""
    what, each = {"members": ("成员", "每名成员"), "events": ("事件", "每个事件")}[name]
    table = where.rstrip().endswith("表")
    cut = file.name.rfind("households")
    sibling = f"{name} 表" if table else f"{file.name[:cut]}{name}{file.suffix} "
    return make(
        "E605",
        f"{where}中有「{shown.split(' ')[0]}」列：{what}不写在"
        f"{' households 表' if table else '家庭文件'}中",
        at,
        found=_clip(shown),
        expected=f"{each}一行，放在 {sibling}中，以 household_id 关联所属家庭",
        hint=f"该列不会被读取；把{what}移到 {sibling}后删去该列（只有 JSON 把{what}嵌在家庭中）",
    )


def _clip(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


__all__ = ["DROPPED", "Named", "Spellings", "is_struct"]
