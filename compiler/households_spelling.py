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
- Declared data in the wrong place (``elsewhere``, ``json_container``; helper-52): a
  field or group of another level (``"income"`` on the household, 工资性收入 in
  households.csv, a STRUCT ``assets`` in members.parquet) and an object or list under
  a key no field has that holds declared keys (``{"household": {…}}``, ``"member":
  […]``) are E603 naming where they belong; a person inside a member is E605. A header
  with a unit, or naming a month (``月工资``), is ``households_units``' concern.
- A near miss of a field of the group a key or column is in (``"assets": {"mony":
  5000}`` beside ``vehicles``, a column ``assets.mony``; ``near_miss``: an edit for
  every three characters of the field's key, two at most) is E603 naming the field;
  a key or column that resembles no field stays W601. In a group of amounts only
  (income, expenses) any key no field has is E603 already.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from pathlib import Path

from compiler.diagnostics import Diagnostic, Location, make
from compiler.households_model import LISTS, Column, Schema, chinese_names
from compiler.households_units import monthly_problem, unit_base
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
        if self.is_list:
            return f"{self.path[0]} 列表"
        return f"字段组「{'.'.join(self.path)}」"

    @property
    def dotted(self) -> str:
        return ".".join(self.path)

    @property
    def is_list(self) -> bool:
        """Whether this is the members or events list of a household."""
        return self.level is Level.HOUSEHOLD and self.path[0] in LISTS.values()


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
        # an event's Chinese name without 事件 (成员编号), as a CSV header may give it;
        # not placed in another level's file, as 日期 or 金额 would be everywhere
        self.short: dict[Level, dict[str, Named]] = {level: {} for level in Level}
        for level, columns in schema.items():
            names = chinese_names(columns)
            for column in columns:
                named = Named(level, column.key, column)
                for name in names[column.id][1:]:
                    self.short[level][name.casefold()] = named

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
        chinese = self.chinese[level] | self.short[level]
        if unit_base(folded) in chinese:
            return chinese[unit_base(folded)], "chinese"
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
        elsewhere = self.elsewhere(level, key) if not prefix else None
        return (elsewhere, "level") if elsewhere is not None else None

    def elsewhere(self, level: Level, name: str) -> Named | None:
        """The field, group or list of another level that ``name`` names by its path,
        id or Chinese name in any letter case, or by one of these followed by a unit
        in brackets (a member's ``income`` or ``工资性收入（元/年）`` on the household, a
        household's ``assets`` on a member, ``members`` inside a member); None for
        the keys that link the files (a member may repeat its ``household_id``) and
        for an event's bare keys (``type``, ``date``: words too common to place)."""
        folded = unit_base(name).casefold()
        for other in Level:
            if other is level:
                continue
            named = None if other is Level.EVENT else self.paths[other].get(folded)
            named = named or self.chinese[other].get(folded)
            own = self.ids.get(folded)
            if named is None and own is not None and own.level is other:
                named = own
            if named is not None and named.dotted not in _LINKS:
                return named
        return None

    def children(self, level: Level, prefix: tuple[str, ...]) -> dict[str, Named]:
        """The declared keys of the object at ``prefix`` of a ``level`` object (a
        household's with its members and events lists)."""
        size = len(prefix)
        return {
            n.path[-1]: n
            for n in self.paths[level].values()
            if len(n.path) == size + 1 and n.path[:size] == prefix
        }

    def json_container(
        self,
        level: Level,
        prefix: tuple[str, ...],
        key: str,
        inner: object,
        where: Location,
    ) -> Diagnostic | None:
        """E603 for a key no field has whose value (``inner``: its merged structure)
        is an object or a list of objects holding declared keys: a household wrapped
        in ``{"household": {…}}``, members under ``"member"``; E605 for a person or an
        event inside a member or an event, or in a group. None when what it holds is
        not declared (two declared keys, or one group, are needed; a near miss of
        ``members`` or ``events`` needs one key)."""
        items = inner[0] if isinstance(inner, list) and inner else inner
        if not isinstance(items, dict):
            return None
        places = [(level, prefix), (Level.MEMBER, ()), (Level.EVENT, ())]
        places += [(Level.HOUSEHOLD, ())]
        best: tuple[Level, tuple[str, ...], list[Named]] | None = None
        for target, within in dict.fromkeys(places):
            declared = self.children(target, within)
            held = [declared[k] for k in items if k in declared]
            near = target in LISTS and _near(key, LISTS[target])
            enough = len(held) >= 2 or any(n.column is None for n in held) or (held and near)
            if enough and (best is None or len(held) > len(best[2])):
                best = (target, within, held)
        if best is None:
            return self._misspelt_group(level, prefix, key, items, where)
        target, within, held = best
        # the object's own keys one level down; but a list of them in a member is
        # a list of persons inside a person
        wrapped = (target, within) == (level, prefix)
        wrapped = wrapped and not (isinstance(inner, list) and level in LISTS)
        return self._container_problem(level, prefix, key, target, held, wrapped, where)

    def _monthly(
        self, level: Level, prefix: tuple[str, ...], key: str, where: Location
    ) -> Diagnostic | None:
        """E603 for a key naming a month that resembles a yearly amount (``月工资``,
        ``monthly_wage``), as a CSV header is (``households_units``): its value is
        dropped, and a month's figure is no 12 months' total either way."""
        columns = [c for cs in self.schema.values() for c in cs]
        homes = {c.id: json_home(Named(c.level, c.key, c)) for c in columns}
        here = f"字段组「{'.'.join(prefix)}」" if prefix else f"{LEVEL_CN[level]}对象"
        return monthly_problem(columns, key, where, here, homes)

    def _unknown_amount(
        self, level: Level, prefix: tuple[str, ...], key: str, where: Location
    ) -> Diagnostic | None:
        """E603 for a key no field has inside a group of amounts only (income,
        assets, expenses): ``income.wages`` or an income kind the contract does not
        have is money the household would be decided without."""
        fields = self.children(level, prefix) if prefix else {}
        columns = [n.column for n in fields.values()]
        if not columns or any(c is None or c.dtype.kind is not Kind.MONEY for c in columns):
            return None
        close = difflib.get_close_matches(key.casefold(), sorted(fields), n=1, cutoff=0.6)
        example = fields[close[0] if close else min(fields)]
        group = ".".join(prefix)
        return make(
            "E603",
            f"键「{key}」不是字段组「{group}」中的字段；「{group}」中只有这些金额："
            + "、".join(sorted(fields)),
            where,
            found=key,
            expected=f"数据约定中的键，如 {self.json_example(example)}",
            hint=(f"是否想写「{close[0]}」？" if close else "数据约定没有的收入或支出种类，请归入约定中的一项；")
            + DROPPED,
        )

    def near_fields(self, level: Level, prefix: tuple[str, ...]) -> list[Named]:
        """The fields of the group at ``prefix`` a key no field has may be a near miss
        of (``near_miss``); none at the top of an object, which is no group."""
        if not prefix:
            return []
        return [n for n in self.children(level, prefix).values() if n.column is not None]

    def _nearest(
        self, level: Level, prefix: tuple[str, ...], key: str
    ) -> tuple[int, Named] | None:
        """The field of the group at ``prefix`` that ``key`` is a near miss of, the
        closest first, and how many edits apart; None when it is near none."""
        close = sorted(
            (distance, n.path[-1], n)
            for n in self.near_fields(level, prefix)
            if (distance := near_miss(key, n.path[-1])) is not None
        )
        return (close[0][0], close[0][2]) if close else None

    def _near_field(
        self, level: Level, prefix: tuple[str, ...], key: str, where: Location
    ) -> Diagnostic | None:
        """E603 for a key no field has that is a near miss of a field of its group
        (``"assets": {"mony": 5000}`` beside ``vehicles``): the money would be dropped
        with W601 only, and the household decided as if it had none."""
        nearest = self._nearest(level, prefix, key)
        if nearest is None:
            return None
        distance, named = nearest
        return make(
            "E603",
            f"键「{key}」不是字段组「{'.'.join(prefix)}」中的字段，"
            f"与其中的{named.label}只差 {distance} 个字符（多、少、错或前后颠倒）",
            where,
            found=key,
            expected=f"数据约定中的键，如 {self.json_example(named)}",
            hint=f"是否想写「{named.path[-1]}」？{DROPPED}",
        )

    def _misspelt_group(
        self, level: Level, prefix: tuple[str, ...], key: str, items: dict, where: Location
    ) -> Diagnostic | None:
        """E603 for a near miss of a group's name holding that group's keys
        (``"asets": {"money": …}``): its money was dropped with W601 only."""
        for name, group in self.children(level, prefix).items():
            if group.column is not None or not _near(key, name):
                continue
            held = [n for k, n in self.children(level, (*prefix, name)).items() if k in items]
            if held:
                keys = "、".join(n.path[-1] for n in held[:4])
                return make(
                    "E603",
                    f"键「{key}」中是字段组「{name}」的字段（{keys}），键名写错了",
                    where,
                    found=key,
                    expected=f"键名写「{name}」，如 {self.json_example(held[0])}",
                    hint=DROPPED,
                )
        return None

    def _container_problem(
        self,
        level: Level,
        prefix: tuple[str, ...],
        key: str,
        target: Level,
        held: list[Named],
        wrapped: bool,
        where: Location,
    ) -> Diagnostic:
        keys = "、".join(n.path[-1] for n in held[:4]) + ("等" if len(held) > 4 else "")
        here = f"字段组「{'.'.join(prefix)}」" if prefix else f"{LEVEL_CN[level]}对象"
        example = self.json_example(held[0])
        if wrapped:
            return make(
                "E603",
                f"键「{key}」中是{here}自己的字段（{keys}），多嵌套了一层",
                where,
                found=key,
                expected=f"去掉外层「{key}」，把其中的键直接写在{here}中，如 {example}",
                hint=DROPPED,
            )
        if (level, prefix) == (Level.HOUSEHOLD, ()) and target in LISTS:
            return make(
                "E603",
                f"键「{key}」中是{LEVEL_CN[target]}的字段（{keys}），"
                f"{LEVEL_CN[target]}应写在 {LISTS[target]} 列表中",
                where,
                found=key,
                expected=f"键名写 {LISTS[target]}，每{_EACH[target]}一个对象，如 {example}",
                hint=DROPPED,
            )
        home = f"家庭的 {LISTS[target]} 列表" if target in LISTS else "一个家庭对象"
        return make(
            "E605",
            f"{here}中的「{key}」是{LEVEL_CN[target]}（有 {keys}），"
            f"不能嵌套在{LEVEL_CN[level]}中",
            where,
            found=key,
            expected=f"每{_EACH[target]}写在{home}中，如 {example}",
            hint=f"{DROPPED}；其中的{LEVEL_CN[target]}不会被决策",
        )

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
            return (
                self._monthly(level, prefix, key, where)
                or self._unknown_amount(level, prefix, key, where)
                or self._near_field(level, prefix, key, where)
            )
        named, how = found
        if how == "dotted":
            said = f"是{named.label}的标识，JSON 中应按层级嵌套，不写成带「.」的键"
        elif how == "case":
            said = f"与{named.label}只差字母大小写"
        elif how == "chinese":
            said = f"是{named.label}的中文名称，JSON 中应写字段标识"
        elif how == "shallow":
            said = f"是{named.label}的最后一段，缺少外层「{named.path[-2]}」"
        elif named.is_list:
            return _list_elsewhere(key, named, level, where)
        else:
            said = (
                f"是{LEVEL_CN[named.level]}的{named.label}，不能写在{LEVEL_CN[level]}对象中，"
                f"应写在 {json_home(named)} 中"
            )
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
        homes: dict[Level, str] | None = None,
    ) -> list[Diagnostic]:
        """E603 for each unread column (or STRUCT field, by its dotted name; ``names``
        gives each its DuckDB type) that is a group in another shape, a declared
        name nested too deep, a field or group of another level (``homes`` names
        each level's file: 「x-members.csv」, 「members 表」), a monthly amount of a
        yearly field (``月工资``) or a near miss of a field of its group
        (``assets.mony``); E605 for a members or events list in the
        households file, or in the members or events file. ``struct_ok``: the format
        has STRUCT columns (not CSV)."""
        problems: list[Diagnostic] = []
        placed: list[str] = []
        for name in sorted(names, key=lambda n: n.count(".")):
            if any(name.startswith(p + ".") for p in placed):
                continue  # inside a column already refused
            found = self._column_problem(level, name, names[name], file, where, struct_ok)
            if found is None and homes is not None:
                found = self._column_elsewhere(level, name, names[name], file, where, homes)
            if found is None:
                found = self._near_column(level, name, file, where)
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

    def _near_column(
        self, level: Level, name: str, file: Path, where: str
    ) -> Diagnostic | None:
        """E603 for a column (or a STRUCT's field) in a group, ``assets.mony``, whose
        last part is a near miss of a field of that group, as a JSON key is."""
        *outer, last = name.split(".")
        group = self.paths[level].get(".".join(outer).casefold()) if outer else None
        nearest = None if group is None else self._nearest(level, group.path, last)
        if nearest is None:
            return None
        distance, named = nearest
        assert named.column is not None  # near_fields gives fields
        return make(
            "E603",
            f"{where}中的「{name}」不是已声明的字段，与{named.label}只差 {distance} 个字符"
            "（多、少、错或前后颠倒）",
            Location(file=str(file), cell=name),
            found=_clip(name),
            expected=f"列名写 {named.column.id}（或 {named.column.name_cn}）",
            hint=f"是否想写「{named.column.id}」？{DROPPED}",
        )

    def _column_elsewhere(
        self, level: Level, name: str, dtype: str, file: Path, where: str, homes: dict[Level, str]
    ) -> Diagnostic | None:
        """E603 for a column of another level's file, E605 for a list there; E603
        for a monthly amount of a yearly field; None for any other name."""
        at = Location(file=str(file), cell=name)
        named = self.elsewhere(level, name)
        if named is None:
            columns = [c for cs in self.schema.values() for c in cs]
            return monthly_problem(columns, name, at, where)
        if named.is_list:
            return _list_in_households(named.path[0], name, at, where, file, homes)
        home = homes[named.level]
        columns = [named.column] if named.column else self.group_of(named)
        headers = "、".join(f"{c.id}（{c.name_cn}）" for c in columns[:2])
        return make(
            "E603",
            f"{where}中的「{name}」是{LEVEL_CN[named.level]}的{named.label}，"
            f"应写在 {home} 中（JSON 中为 {json_home(named)}）",
            at,
            found=_clip(f"{name} {dtype}" if is_struct(dtype) else name),
            expected=f"在 {home} 中写 {headers}{' 等' if len(columns) > 2 else ''}列",
            hint=f"{DROPPED}；把该列移到 {home} 中"
            + ("，每名成员一行" if named.level is Level.MEMBER else ""),
        )

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
_EACH = {Level.HOUSEHOLD: "户", Level.MEMBER: "名成员", Level.EVENT: "个事件"}


def json_home(named: Named) -> str:
    """Where a field or group belongs in a JSON household: ``members[…].income``,
    ``家庭对象的 assets``."""
    if named.level in LISTS:
        return f"{LISTS[named.level]}[…].{named.dotted}"
    return f"家庭对象的 {named.dotted}"


def near_miss(key: str, name: str) -> int | None:
    """The edits (a character added, left out, changed, or two swapped) that make a
    key a declared name, when they are few for its length: at most 2, and one for
    every three characters of the name (``mony`` for ``money``, ``vehicle`` for
    ``vehicles``, ``mnoey``); None otherwise. DuckDB's ``damerau_levenshtein`` counts
    no more edits, so a key found near here is near there too."""
    distance = _edits(key.casefold(), name.casefold())
    return distance if 0 < distance <= min(2, len(name) // 3) else None


def _edits(a: str, b: str) -> int:
    """The optimal string alignment distance between two strings."""
    previous, row = None, list(range(len(b) + 1))
    for i, x in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, y in enumerate(b, start=1):
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (x != y))
            if previous is not None and i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                current[j] = min(current[j], previous[j - 2] + 1)
        previous, row = row, current
    return row[-1]


def _near(key: str, name: str) -> bool:
    """Whether a key is a near miss of a list's name (member, Members, memebrs)."""
    return difflib.SequenceMatcher(None, key.casefold(), name).ratio() >= 0.75


def _list_elsewhere(key: str, named: Named, level: Level, where: Location) -> Diagnostic:
    """E605: a members or events list inside a member or an event."""
    target = next(lv for lv, n in LISTS.items() if n == named.path[0])
    return make(
        "E605",
        f"{LEVEL_CN[level]}对象中有「{key}」列表：{LEVEL_CN[target]}不能嵌套在"
        f"{LEVEL_CN[level]}中",
        where,
        found=key,
        expected=f"每{_EACH[target]}写在家庭的 {named.path[0]} 列表中，与其他"
        f"{LEVEL_CN[target]}并列",
        hint=f"{DROPPED}；其中的{LEVEL_CN[target]}不会被决策",
    )


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
    name: str,
    shown: str,
    at: Location,
    where: str,
    file: Path,
    homes: dict[Level, str] | None = None,
) -> Diagnostic:
    """E605: members or events written inside the households file (or inside the
    members or events file: ``homes``)."""
    what, each = {"members": ("成员", "每名成员"), "events": ("事件", "每个事件")}[name]
    table = where.rstrip().endswith("表")
    cut = file.name.rfind("households")
    sibling = f"{name} 表" if table else f"{file.name[:cut]}{name}{file.suffix} "
    said = f"{what}不写在{' households 表' if table else '家庭文件'}中"
    if homes is not None:
        sibling = homes[next(lv for lv, n in LISTS.items() if n == name)] + " "
        said = f"一行中不能再嵌套{what}"
    return make(
        "E605",
        f"{where}中有「{shown.split(' ')[0]}」列：{said}",
        at,
        found=_clip(shown),
        expected=f"{each}一行，放在 {sibling}中，以 household_id 关联所属家庭",
        hint=f"该列不会被读取；把{what}移到 {sibling}后删去该列（只有 JSON 把{what}嵌在家庭中）",
    )


def _clip(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


__all__ = ["DROPPED", "Named", "Spellings", "is_struct", "near_miss"]
