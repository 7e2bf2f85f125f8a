"""Keys of JSON household input that no declared field has: warned about (W601).

A JSON object may carry keys the contract does not know, and their values are not
read; but a misspelt key (``income.wages``, ``asets``) leaves its field at the default
and decides the household wrongly without a word. As a CSV column that is no field is
named in a W601 warning, so is every such key of a JSON household: at its path
(``$.members[0].income.wages``), with the declared key it most resembles.

``shape`` gives the declared keys as nested dicts (a list as ``[item shape]``);
``undeclared`` walks one parsed household (the service's requests);
``structure_of`` asks DuckDB for the merged structure of a whole ``.json`` or
``.jsonl`` file, which is not parsed in Python (``jiuzhu evaluate``), and
``undeclared_in_file`` gives one warning for each path and key of it, naming its
first place and how often it occurs; a key that names a declared field another way
(``"assets.money"``, ``"Assets"``, ``"货币财产"``: ``households_spelling``) is an error
instead, E603, since its value would be dropped; so is a field of another level
(``"income"`` on the household) and a key whose value, by the merged structure, is an
object or list holding declared keys (``{"household": {…}}``, ``"member": […]``).
So is a key that most likely names an amount (``amount_keys``: ``工资收入`` or
``income_wage`` on a member, ``货币资产`` on the household or in ``assets``, judged by
``households_likely.amount_guess`` as a CSV header is) when the object holding it (a
household, a member, a group such as ``assets``) has no key for that field: dropped,
the amount would be decided as 0 and the household look poorer than it is, however
many other households write the contract's key (helper-97). The merged structure
names the keys to guess for; DuckDB tests each object that has one (``_lacking``),
and the error is placed at the first that lacks the field. ``merged`` merges parsed
households the same way, so that the service can tell a request that would be refused
alone and decide it alone.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Iterator
from typing import Any

import duckdb

from compiler.diagnostics import Diagnostic, Location, make
from compiler.households_json import tree
from compiler.households_likely import (
    amount_elsewhere,
    amount_guess,
    amount_said,
    default_said,
    harm_said,
)
from compiler.households_model import (
    LISTS,
    READ_ERRORS,
    Column,
    Only,
    Places,
    Schema,
    Source,
)
from compiler.households_spelling import Named, Spellings, json_home
from compiler.households_units import MONTH_MARKS
from compiler.model import LEVEL_CN, Level
from compiler.sqlgen import string

MAX_WARNINGS = 50
_EVERYONE = Only()
# The amount field a key most likely names, and whether another key supplies it
Guess = tuple[Column, bool]


def shape(schema: Schema) -> dict[str, Any]:
    """The keys a household object may have, nested as in the contract."""
    nested = tree(schema[Level.HOUSEHOLD])
    for level, name in LISTS.items():
        nested[name] = [tree(schema[level])]
    return nested


def undeclared(
    value: object, node: dict[str, Any], path: str = "$"
) -> Iterator[tuple[str, str, list[str]]]:
    """(path, key, keys declared beside it) for each key of ``value`` no field has."""
    if not isinstance(value, dict):
        return
    for key, child in value.items():
        here = f"{path}.{key}"
        if key not in node:
            yield here, key, list(node)
        elif isinstance(node[key], dict):
            yield from undeclared(child, node[key], here)
        elif isinstance(node[key], list) and isinstance(child, list):
            for index, item in enumerate(child):
                yield from undeclared(item, node[key][0], f"{here}[{index}]")


def warning(
    path: str,
    key: str,
    declared: list[str],
    where: Location,
    supplied: Column | None = None,
) -> Diagnostic:
    """W601 for one key; ``where`` is the place as the input names it; ``supplied``:
    the amount field the key most likely names, which another key supplies
    (``amount_keys``)."""
    close = difflib.get_close_matches(key, declared, n=1, cutoff=0.75)
    guess = f"是否想写「{close[0]}」？" if close else "核对字段名是否写错"
    hint = f"其值没有读取，该字段按默认值决策；{guess}"
    if supplied is not None:
        home = json_home(Named(supplied.level, supplied.key, supplied))
        hint = f"其值没有读取；像是金额字段「{supplied.name_cn}」，该字段已由键 {home} 提供"
    return make(
        "W601",
        f"{path} 不是已声明的字段，已忽略",
        where,
        found=key,
        expected="数据约定中的字段，如 " + "、".join(sorted(declared)[:5]),
        hint=hint,
    )


_OBJECTS = "FROM read_json_objects($p, format = $f)"


def _read(source: Source) -> dict[str, str]:
    return {
        "p": str(source.path),
        "f": "newline_delimited" if source.format == "jsonl" else "array",
    }


def structure_of(
    con: duckdb.DuckDBPyConnection, source: Source, only: Only = _EVERYONE
) -> tuple[object, object]:
    """The structure of every record of a JSON file merged into one (a few seconds a
    million): the keys found and, for each leaf, the JSON type of its values
    (``VARCHAR``, ``UBIGINT``; ``JSON`` where they differ); and that of the records
    ``only`` keeps (the households ``explain`` or ``--county`` reads), in the same
    pass; None when DuckDB cannot read the file (the load then says why)."""
    kept = f"CASE WHEN {_keeps(only, 'json')} THEN json END"
    try:
        query = (
            f"SELECT json_group_structure(json), json_group_structure({kept}) {_OBJECTS}"
        )
        every, some = con.execute(query, _read(source)).fetchall()[0]
        return _loaded(every), _loaded(some)
    except (*READ_ERRORS, RecursionError):  # RecursionError: nested too deep
        return None, None


def _loaded(found: str | None) -> object:
    return json.loads(found) if found is not None else None


def _keeps(only: Only, value: str) -> str:
    """SQL for whether a record (``value``) is of a household ``only`` keeps."""
    hid, county = (
        f"json_extract_string({value}, '$.{k}')" for k in ("household_id", "county_code")
    )
    return only.where(county, hid).removeprefix(" WHERE ") or "true"


def undeclared_in_file(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    schema: Schema,
    structure: object,
    only: Only = _EVERYONE,
) -> tuple[list[str], list[Diagnostic]]:
    """W601 texts for the keys of a JSON file that no field has, first place first;
    and E603 for the keys that name a declared field or group another way
    (``households_spelling``) or most likely an amount no key beside them supplies
    (``amount_keys``), listed first: their values must not be dropped.

    ``structure`` (``structure_of``) tells whether there is a key no field has; only
    then is the file read again to place each one. Without a structure (a record
    nested too deep for DuckDB to merge) the file is searched all the same: one such
    record must not hide a misspelt key in the others.

    Only the households ``only`` keeps are searched (``structure`` is theirs): the
    others are skipped unchecked, as their values are (``explain`` of one household
    is not stopped by another's key; helper-102)."""
    nested = shape(schema)
    objects, read = _OBJECTS, _read(source)
    if structure is not None and not any(undeclared(structure, nested)):
        return [], []
    spellings = Spellings(schema)
    pieces: list[str] = []
    amounts: dict[tuple[str, str], tuple[Column | None, bool]] = {}
    amounts.update(amount_keys(structure, schema) if structure is not None else {})
    refused = {k.lower() for (_, k), (_, there) in amounts.items() if not there}
    held = _holders(structure, nested, spellings) | refused
    _queries(nested, "_jz_keys", "j", "$", pieces, spellings, held, amounts)
    try:
        rows = con.execute(
            "WITH _jz_keys AS MATERIALIZED (SELECT row_number() OVER () - 1 AS r, "
            f"CAST(NULL AS BIGINT) AS i, json AS j {objects} QUALIFY {_keeps(only, 'json')}) "
            "SELECT p, k, count(*), min(r), arg_min(i, r), any_value(d), "
            "count(*) FILTER (WHERE u), min(r) FILTER (WHERE u), "
            "arg_min(i, r) FILTER (WHERE u) FROM ("
            + " UNION ALL ".join(pieces)
            + ") GROUP BY p, k ORDER BY bool_or(s) DESC, min(r), p, k "
            f"LIMIT {MAX_WARNINGS}",
            read,
        ).fetchall()
    except READ_ERRORS:
        return [], []  # the file cannot be read: the load says why
    places = Places(source)
    texts, errors = [], []
    for pattern, key, count, row, index, declared, *lacking in rows:
        level, prefix = _scope(pattern)
        if structure is None:  # nothing is known to supply an amount
            amounts[(pattern, key)] = _guess(schema, pattern, key, None)
            lacking = [count, row, index]
        amount = amounts.get((pattern, key), (None, False))[0]
        at = pattern.replace("[*]", f"[{index}]")
        where = Location(str(source.path), None, places.record(row, at + _step(key)))
        wrong = spellings.json_problem(level, prefix, key, where)
        if wrong is None:  # an object or list of declared keys under another name
            inner = _inner(structure, pattern, key)
            wrong = spellings.json_container(level, prefix, key, inner, where)
        if wrong is None and amount is not None and lacking[0]:
            # an amount under another name, dropped in objects that lack its field
            # (decided as 0 there, however many others supply it): at the first
            first = pattern.replace("[*]", f"[{lacking[2]}]") + _step(key)
            where = Location(str(source.path), None, places.record(lacking[1], first))
            wrong = amount_refused(spellings, amount, pattern, key, lacking[0], where)
        if wrong is not None:
            errors.append(wrong)
            continue
        path = f"{at}.{key}"
        cell = places.record(row, path)
        item = warning(path, key, list(declared), Location(cell=cell), amount)
        times = f"共 {count} 处；" if count > 1 else ""
        texts.append(
            f"{source.path.name} {cell} 不是已声明的字段，已忽略"
            f"（{times}{item.hint}）"
        )
    return texts, errors


def amount_keys(structure: object, schema: Schema) -> dict[tuple[str, str], Guess]:
    """The amount field each key no field has in a merged structure most likely names
    (``amount_guess``), by the pattern of its objects (``$.members[*]``) and the key,
    and whether a key of those objects supplies that field (E603 when none does)."""
    found = {}
    for path, key, _ in undeclared(structure, shape(schema)):
        pattern = path[: -len(key) - 1].replace("[0]", "[*]")
        inner = _inner(structure, pattern, None)
        column, supplied = _guess(schema, pattern, key, inner)
        if column is not None:
            found[(pattern, key)] = (column, supplied)
    return found


def _guess(
    schema: Schema, pattern: str, key: str, objects: object
) -> tuple[Column | None, bool]:
    """The amount field ``key`` most likely names among the fields of the objects at
    ``pattern`` (a level's object, or a group such as ``assets``), and whether
    ``objects`` (their keys merged; None when not known) supplies it; no field for a
    key that reads as a note, id or date, or resembles a field elsewhere more
    (货币财产合计 on a member)."""
    level, prefix = _scope(pattern)
    size = len(prefix)
    columns = [c for c in schema[level] if c.key[:size] == prefix and len(c.key) > size]
    inside = {c.id for c in columns}
    others = [c for cs in schema.values() for c in cs if c.id not in inside]
    column = amount_guess(columns, others, set(), key)
    if column is None and not prefix:
        # an amount of the other level (工资收入 on the household, 货币资产 on a member):
        # its object has no key for it, so it is dropped wherever it is (helper-102)
        other = [c for lv, cs in schema.items() if lv is not level for c in cs]
        return amount_elsewhere(columns, other, set(), key), False
    return column, column is not None and _holds(objects, column.key[size:])


def _holds(objects: object, key: tuple[str, ...]) -> bool:
    """Whether merged objects have a value at the path ``key``."""
    for part in key:
        if not isinstance(objects, dict) or part not in objects:
            return False
        objects = objects[part]
    return True


def amount_refused(
    spellings: Spellings,
    column: Column,
    pattern: str,
    key: str,
    count: int,
    where: Location,
) -> Diagnostic:
    """E603 for a key that most likely names the amount ``column`` no key of its
    objects supplies: where the field belongs, and what the run would decide with."""
    level, prefix = _scope(pattern)
    here = f"字段组「{'.'.join(prefix)}」" if prefix else f"{LEVEL_CN[level]}对象"
    named = Named(column.level, column.key, column)
    home = json_home(named)
    times = f"（共 {count} 处，此为第一处）" if count > 1 else ""
    said = amount_said(column)
    if column.level is level:
        found = f"最可能是{said}「{column.name_cn}」（{home}），{here}中没有其他键提供该字段"
    else:  # a field of the other level (工资收入 on the household)
        found = (
            f"最可能是{LEVEL_CN[column.level]}的{said}「{column.name_cn}」，"
            f"应写在 {home}，不在{here}中"
        )
    return make(
        "E603",
        f"键「{key}」不是已声明的字段，{found}{times}",
        where,
        found=key,
        expected=f"数据约定中的键，按层级嵌套，如 {spellings.json_example(named)}",
        hint=f"该键的取值不会被读取，{default_said(column)}，{harm_said(column)}，"
        f"因此拒绝读入；按数据约定写作 {home} 后重试（若该键确实"
        "是别的内容，删除该键或改用与字段不相似的键名）",
    )


def merged(values: Iterable[object], node: dict[str, Any]) -> dict[str, Any]:
    """The keys of parsed JSON objects merged into one, as ``json_group_structure``
    merges a file's records, down the declared keys of ``node`` (``shape``) only: the
    value of any other key is None (a list's items are merged into its one item)."""
    objects = [v for v in values if isinstance(v, dict)]
    found: dict[str, Any] = dict.fromkeys(k for v in objects for k in v)
    for key, inner in node.items():
        if key not in found:
            continue
        children = [v[key] for v in objects if key in v]
        if isinstance(inner, dict):
            found[key] = merged(children, inner)
        elif isinstance(inner, list):
            items = [i for child in children if isinstance(child, list) for i in child]
            found[key] = [merged(items, inner[0])]
    return found


def _scope(pattern: str) -> tuple[Level, tuple[str, ...]]:
    """The level and the path inside it of an object of the shape (``$.members[*].
    income``: a member's ``("income",)``)."""
    parts = pattern.split(".")[1:]
    if parts and parts[0].endswith("[*]"):
        name = parts[0][: -len("[*]")]
        level = next(lv for lv, n in LISTS.items() if n == name)
        return level, tuple(parts[1:])
    return Level.HOUSEHOLD, tuple(parts)


def _inner(structure: object, pattern: str, key: str | None) -> object:
    """The merged structure of the values of ``key`` in the objects at ``pattern``
    (``$.members[*]``), or of those objects for no key; None where the structure is
    not known."""
    node = structure
    for part in [*pattern.split(".")[1:], *([key] if key is not None else [])]:
        listed = part.endswith("[*]")
        node = node.get(part.removesuffix("[*]")) if isinstance(node, dict) else None
        if listed:
            node = node[0] if isinstance(node, list) and node else None
    return node


def _holders(
    structure: object, nested: dict[str, Any], spellings: Spellings
) -> set[str]:
    """Lower-case keys no field has whose values hold declared keys (a household
    wrapped in ``"household"``, members under ``"member"``): these are errors, so
    they are listed before any cap on warnings can hide them."""
    found = set()
    for path, key, _ in undeclared(structure, nested):
        pattern = path[: -len(key) - 1].replace("[0]", "[*]")
        level, prefix = _scope(pattern)
        inner = _inner(structure, pattern, key)
        if spellings.json_container(level, prefix, key, inner, Location()) is not None:
            found.add(key.lower())
    return found


def _step(key: str) -> str:
    """A key as a step of a JSON path: ``.money``, or ``["assets.money"]`` for a key
    a dot would cut in two."""
    if key.replace("_", "a").isalnum() and key.isascii():
        return f".{key}"
    return f"[{json.dumps(key, ensure_ascii=False)}]"


def _queries(
    node: dict[str, Any],
    relation: str,
    value: str,
    pattern: str,
    into: list[str],
    spellings: Spellings,
    held: set[str],
    amounts: dict[tuple[str, str], Guess],
) -> None:
    """One SELECT per object of the shape: the keys found there that it lacks, and
    whether one of them may name a declared field another way (``s``: these come
    first, so that no cap on warnings hides one); ``u``: the key most likely names an
    amount (``amounts``) this object has no key for (``_lacking``)."""
    declared = ", ".join(string(k) for k in node)
    tests, lacking = _lacking(value, pattern, amounts)
    level, prefix = _scope(pattern)
    suspect = "lower(k) IN ({})".format(", ".join(
        string(k) for k in sorted(_suspects(spellings, level, prefix, node) | held)
    ))  # fmt: skip
    # a near miss of a field of the group (mony for money: households_spelling)
    near = ", ".join(string(n.path[-1].lower()) for n in spellings.near_fields(level, prefix))
    # a key naming a month (月工资: households_units), refused when it resembles an amount
    suspect += " OR " + " OR ".join(f"contains(lower(k), {string(m)})" for m in MONTH_MARKS)
    if near:
        suspect += (
            f" OR list_bool_or(list_transform([{near}], lambda x: "
            "damerau_levenshtein(lower(k), x) <= least(2, length(x) // 3)))"
        )
    into.append(
        f"SELECT {string(pattern)} AS p, r, i, k, [{declared}] AS d, "
        f"({suspect}) OR u AS s, u FROM (SELECT *, {lacking} AS u FROM "
        f"(SELECT r, i, unnest(json_keys({value})) AS k{tests} FROM {relation} "
        f"WHERE json_type({value}) = 'OBJECT') WHERE k NOT IN ({declared}))"
    )
    more = (spellings, held, amounts)
    for key, child in node.items():
        inner = f"json_extract({value}, {string(f'$.{_quoted(key)}')})"
        if isinstance(child, dict):
            _queries(child, relation, inner, f"{pattern}.{key}", into, *more)
        elif isinstance(child, list):
            items = (
                f"(SELECT r, generate_subscripts(l, 1) - 1 AS i, unnest(l) AS j FROM "
                f"(SELECT r, CAST({inner} AS JSON[]) AS l FROM {relation} "
                f"WHERE json_type({inner}) = 'ARRAY'))"
            )
            _queries(child[0], items, "j", f"{pattern}.{key}[*]", into, *more)


def _lacking(
    value: str, pattern: str, amounts: dict[tuple[str, str], Guess]
) -> tuple[str, str]:
    """SQL for whether an object at ``pattern`` (``value``) lacks the amount field its
    key ``k`` most likely names: the columns testing the object for each field some
    object of the file supplies (``, json_exists(j, '$.income.wage') AS _f0``), and
    the test of ``k``. The guess is made for each object, as the CSV's for each file:
    a household whose ``工资收入`` is dropped is decided with a wage of 0 however many
    others write ``income.wage``. A field no object supplies is lacking everywhere."""
    size = len(_scope(pattern)[1])
    paths: dict[tuple[str, ...], str] = {}
    arms = []
    for (where, key), (column, supplied) in amounts.items():
        if where != pattern:
            continue
        if not supplied:
            arms.append(f"WHEN {string(key)} THEN true")
            continue
        path = column.key[size:]
        flag = paths.setdefault(path, f"_f{len(paths)}")
        arms.append(f"WHEN {string(key)} THEN NOT {flag}")
    tests = "".join(
        f", json_exists({value}, {string('$.' + '.'.join(map(_quoted, p)))}) AS {flag}"
        for p, flag in paths.items()
    )
    return tests, f"CASE k {' '.join(arms)} ELSE false END" if arms else "false"


def _suspects(
    spellings: Spellings, level: Level, prefix: tuple[str, ...], node: dict[str, Any]
) -> set[str]:
    """Lower-case keys that may name a declared field another way in this object: its
    own keys (another letter case), the fields below it dotted, every Chinese name,
    every last key and every dotted id."""
    found = {k.lower() for k in node}
    for named in spellings.paths[level].values():
        if named.path[: len(prefix)] == prefix and len(named.path) > len(prefix):
            found.add(".".join(named.path[len(prefix) :]).lower())
    for by_level in (spellings.chinese, spellings.short, spellings.last):
        found |= {k.lower() for names in by_level.values() for k in names}
    if not prefix:  # a field or group of another level (income on the household)
        found |= {k.lower() for names in spellings.paths.values() for k in names}
    return found | {k.lower() for k in spellings.ids if "." in k}


def _quoted(key: str) -> str:
    return '"' + key.replace('"', '\\"') + '"'


__all__ = [
    "MAX_WARNINGS",
    "amount_keys",
    "amount_refused",
    "merged",
    "shape",
    "structure_of",
    "undeclared",
    "undeclared_in_file",
    "warning",
]
