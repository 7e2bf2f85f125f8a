"""The canonical text form of a county's rulebook (or of one workbook), and back.

A published version stores its tables as this YAML: keys in a fixed order, one block per
standard, derived value, table and rule, rules keyed by their stable identifier, so that
``git diff`` of two exports reads like a review. Every cell the compiler parses keeps the
text the admin typed (as the reader normalised it) when that text parses back to the same
tree; otherwise the cell is written as ``{canonical: <compiler.expr.render of the tree>}``
(or, for text the expression syntax cannot quote, ``{text: ...}``). Free text (notes,
sources, the policy basis, titles, annotations) is written exactly as typed, never folded;
so are the county workbook's other sheets (说明), under ``other_sheets``, left out when
there are none. Versions published before free text was kept as typed hold it folded.
Standards carry every dated row with the layer it came from (province, city, county).
Paths are written relative to the tables folder, so a version does not depend on where
the working copy lived.

    text = dump_rulebook(book)          # RuleBook -> YAML
    book = load_rulebook(text)          # YAML -> RuleBook that binds and decides the same

``load_rulebook(dump_rulebook(book))`` compiles to the same SQL as ``book`` (up to the
paths in comments); ``dump_rulebook`` checks every cell's round trip as it writes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import lru_cache, partial
from pathlib import Path, PurePosixPath
from typing import Any

import yaml  # type: ignore[import-untyped]

from compiler.diagnostics import NOWHERE, Location
from compiler.expr import (
    Expr,
    Literal,
    ParseError,
    Test,
    parse_expression,
    parse_tests,
    render,
)
from compiler.load import _BOOL_WORDS, TRUE_WORDS
from compiler.model import (
    KIND_NAMES,
    Aggregation,
    CalendarDay,
    Derived,
    DType,
    Field,
    HitPolicy,
    InputColumn,
    Kind,
    Level,
    OtherSheet,
    OutputColumn,
    Rule,
    RuleBook,
    Standard,
    StandardRow,
    Table,
    Workbook,
    WorkbookKind,
)

FORMAT = "jiuzhu-canonical/1"
LAYERS = ("county", "city", "province")
LAYER_CN = {"county": "县级", "city": "市级", "province": "省级"}

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class CanonicalError(ValueError):
    """The YAML is not a canonical rulebook, or a cell does not survive the round trip."""


# ---------------------------------------------------------------- layers and paths


class _Paths:
    """Relative paths and layers for one rulebook's sources."""

    def __init__(self, sources: list[str], county_code: str, root: Path | None) -> None:
        self.root = root or _guess_root(sources)
        self.layers: dict[str, str] = {}
        for index, source in enumerate(sources):
            if index == len(sources) - 1:
                layer = "province"
            else:
                code = re.match(r"(\d{6})", Path(source).name)
                layer = "county" if code and code.group(1) == county_code else "city"
            self.layers[source] = layer

    def relative(self, path: str | None) -> str | None:
        if not path or self.root is None:
            return path
        try:
            return PurePosixPath(Path(path).resolve().relative_to(self.root)).as_posix()
        except ValueError:
            return path

    def layer_of(self, path: str | None) -> str:
        """The layer a file belongs to: the longest source that is a prefix of it."""
        best, found = -1, "province"
        for source, layer in self.layers.items():
            if not path:
                break
            inside = path == source or path.startswith(source.rstrip("/") + "/")
            if inside and len(source) > best:
                best, found = len(source), layer
        return found

    def at(self, location: Location) -> str | None:
        if location == NOWHERE:
            return None
        return Location(
            self.relative(location.file), location.sheet, location.cell
        ).render()


def _guess_root(sources: list[str]) -> Path | None:
    """The tables folder: the parent of ``province/`` (a folder or a file inside it)."""
    if not sources:
        return None
    province = Path(sources[-1]).resolve()
    for candidate in (province, province.parent):
        if candidate.name == "province":
            return candidate.parent
    return None


def layer_of_row(book: RuleBook, row: StandardRow) -> str:
    """province, city or county: the workbook a standard's row came from."""
    return _Paths(book.sources, book.county_code, Path("/")).layer_of(row.workbook)


def parse_at(text: str | None) -> Location:
    """The reverse of ``Location.render`` for model locations (file:sheet!cell)."""
    if not text:
        return NOWHERE
    head, _, cell = text.rpartition("!") if "!" in text else (text, "", "")
    file, sep, sheet = head.rpartition(":")
    if not sep:
        file, sheet = head, ""
    return Location(file or None, sheet or None, cell or None)


# ---------------------------------------------------------------- values and types


def value_text(value: object, dtype: DType | None = None) -> object:
    """A typed value as YAML writes it: exact numbers as strings, dates as dates."""
    if isinstance(value, Decimal):
        if dtype is not None and dtype.kind is Kind.MONEY:
            return format(value.quantize(Decimal("0.01")), "f")
        return format(value.normalize(), "f")
    return value


def value_from(raw: object, dtype: DType) -> object:
    """The typed value back from YAML."""
    if raw is None:
        return None
    if dtype.kind in (Kind.MONEY, Kind.NUMBER, Kind.PERCENT):
        return Decimal(str(raw))
    if dtype.kind is Kind.INTEGER and not isinstance(raw, bool):
        return int(str(raw))
    if dtype.kind is Kind.DATE and isinstance(raw, str):
        return date.fromisoformat(raw)
    return raw


def dtype_from(text: str) -> DType:
    match = re.match(r"^enum\((.*)\)$", text)
    if match:
        return DType(Kind.ENUM, tuple(v for v in match.group(1).split(",") if v))
    kind = KIND_NAMES.get(text)
    if kind is None:
        raise CanonicalError(f"unknown type {text!r}")
    return DType(kind)


# ---------------------------------------------------------------- cells


def test_from_text(text: str, dtype: DType) -> Test:
    """An input cell's test from its text, as the model pass reads it."""
    if dtype.kind is Kind.BOOLEAN and text.lower() in _BOOL_WORDS:
        return parse_tests("是" if text.lower() in TRUE_WORDS else "否")
    return parse_tests(text)


def output_from_text(text: str, dtype: DType) -> Expr:
    """An output cell's expression from its text ("" is an empty cell)."""
    if text == "":
        return Literal(None)
    if dtype.kind in (Kind.TEXT, Kind.ENUM, Kind.LIST):
        try:
            return parse_expression(text)
        except ParseError:
            return Literal(text)
    if dtype.kind is Kind.BOOLEAN and text.lower() in _BOOL_WORDS:
        return Literal(text.lower() in TRUE_WORDS)
    return parse_expression(text)


def _cell(text: str | None, tree: object, rebuild: Callable[[str], object]) -> object:
    """The cell's text if it rebuilds the tree, else the rendered tree (checked)."""
    if text is not None:
        try:
            if rebuild(text) == tree:
                return text
        except ParseError:
            pass
    if isinstance(tree, Literal) and isinstance(tree.value, str):
        return {"text": tree.value}  # plain text the expression syntax cannot quote
    rendered = render(tree)  # type: ignore[arg-type]
    parse = parse_tests if _is_test(tree) else parse_expression
    try:
        if parse(rendered) == tree:
            return {"canonical": rendered}
    except ParseError:
        pass
    raise CanonicalError(f"cell {text!r} cannot be written canonically ({rendered!r})")


def _is_test(tree: object) -> bool:
    return type(tree).__name__ in {
        "AnyTest",
        "NullTest",
        "Compare",
        "Interval",
        "Disjunction",
        "Negation",
    }


def _uncell(raw: object, rebuild: Callable[[str], Any], test: bool = False) -> Any:
    if isinstance(raw, dict) and "text" in raw:
        return Literal(str(raw["text"]))
    if isinstance(raw, dict):
        text = str(raw["canonical"])
        return parse_tests(text) if test else parse_expression(text)
    return rebuild("" if raw is None else str(raw))


def _expr_cell(text: str | None, tree: Expr | None) -> object:
    if tree is None:
        return None
    return _cell(text, tree, parse_expression)


def _expr_from(raw: object) -> Expr | None:
    return None if raw is None else _uncell(raw, parse_expression)


# ---------------------------------------------------------------- dumping


def dump_rulebook(book: RuleBook, root: str | Path | None = None) -> str:
    """The canonical YAML of a county's resolved rulebook.

    ``root`` is the tables folder paths are written relative to (guessed from the
    province's path when not given).
    """
    paths = _Paths(
        book.sources, book.county_code, Path(root).resolve() if root else None
    )
    document: dict[str, Any] = {
        "format": FORMAT,
        "kind": "rulebook",
        "county": book.county_code,
        "name": book.county_name,
        "sources": {paths.layers[s]: paths.relative(s) for s in book.sources},
        "fields": _fields(book.fields.values(), paths),
        "standards": {s.id: _standard(s, paths) for s in book.standards.values()},
        "derived": {d.id: _derived(d, paths) for d in book.derived.values()},
        "tables": {t.id: _table(t, paths) for t in book.tables.values()},
        "calendar": _calendar(book.calendar, paths),
        **_other_sheets(book.other_sheets),
    }
    return _dump(document)


def dump_workbook(workbook: Workbook, root: str | Path | None = None) -> str:
    """The canonical YAML of one workbook as written (province, city or county)."""
    source = workbook.path
    layer = {"province": "province", "city": "city", "county": "county"}[
        str(workbook.kind)
    ]
    base = (
        Path(root).resolve()
        if root
        else _guess_root([source]) or Path(source).resolve().parent.parent
    )
    paths = _Paths([source], workbook.code, base)
    paths.layers = {source: layer}
    document: dict[str, Any] = {
        "format": FORMAT,
        "kind": "workbook",
        "workbook": str(workbook.kind),
        "county": workbook.code,
        "name": workbook.name,
        "sources": {layer: paths.relative(source)},
        "fields": _fields(workbook.fields, paths),
        "standards": {
            s.id or s.name_cn: _unnamed(s, _standard(s, paths))
            for s in workbook.standards
        },
        "derived": {d.id: _derived(d, paths) for d in workbook.derived},
        "tables": {t.id: _table(t, paths) for t in workbook.tables},
        "calendar": _calendar(workbook.calendar, paths),
        **_other_sheets(workbook.other_sheets),
    }
    return _dump(document)


def _dump(document: dict[str, Any]) -> str:
    return yaml.dump(
        document,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=1000,
    )


def _drop_empty(entry: dict[str, Any], keep: tuple[str, ...] = ()) -> dict[str, Any]:
    """Leave out keys whose value is empty, so the YAML shows only what is set."""
    return {k: v for k, v in entry.items() if k in keep or not _empty(v)}


def _empty(value: object) -> bool:
    # False is a value (a field's default 否, a standard set to 否), never "not set"
    if value is None:
        return True
    return isinstance(value, str | list | dict) and not value


def _fields(fields: Any, paths: _Paths) -> dict[str, Any]:
    return {
        f.id: _drop_empty(
            {
                "name": f.name_cn,
                "level": str(f.level),
                "type": f.dtype.render(),
                "default": value_text(f.default, f.dtype),
                "lower": value_text(f.lower, f.dtype),
                "upper": value_text(f.upper, f.dtype),
                "note": f.note,
                "at": paths.at(f.location),
            },
            keep=("level", "type"),
        )
        for f in fields
    }


def _standard(standard: Standard, paths: _Paths) -> dict[str, Any]:
    return _drop_empty(
        {
            "name": standard.name_cn,
            "type": standard.dtype.render(),
            "overridable": standard.overridable,
            "lower": _expr_cell(standard.lower_text or None, standard.lower),
            "upper": _expr_cell(standard.upper_text or None, standard.upper),
            "at": paths.at(standard.location),
            "rows": [
                _standard_row(row, standard.dtype, paths) for row in standard.rows
            ],
        },
        keep=("type", "rows"),
    )


def _unnamed(standard: Standard, entry: dict[str, Any]) -> dict[str, Any]:
    """A county row may name a standard by its Chinese name only; say so."""
    return entry if standard.id else {"id": "", **entry}


def _standard_row(row: StandardRow, dtype: DType, paths: _Paths) -> dict[str, Any]:
    return _drop_empty(
        {
            "layer": paths.layer_of(row.workbook),
            "value": value_text(row.value, dtype),
            "unit": row.unit,
            "from": row.effective_from,
            "until": row.effective_until,
            "source": row.source,
            "note": row.note,
            "verified": row.verified,
            "at": paths.at(row.location),
        },
        keep=("layer", "value", "from", "until", "verified"),
    )


def _derived(derived: Derived, paths: _Paths) -> dict[str, Any]:
    return _drop_empty(
        {
            "layer": paths.layer_of(derived.location.file),
            "name": derived.name_cn,
            "level": str(derived.level),
            "type": derived.dtype.render(),
            "expr": _expr_cell(derived.text, derived.expr),
            "basis": derived.basis,
            "overridable": derived.overridable,
            "at": paths.at(derived.location),
        },
        keep=("layer", "level", "type", "expr"),
    )


def _table(table: Table, paths: _Paths) -> dict[str, Any]:
    keys = column_keys(table)
    return _drop_empty(
        {
            "layer": paths.layer_of(table.location.file),
            "title": table.title,
            "hit_policy": table.policy_text,
            "level": str(table.level),
            "overridable": table.overridable,
            "accepted_gap": table.accepted_gap,
            "at": paths.at(table.location),
            "annotation_header": table.annotation_header,
            "inputs": [_input(c) for c in table.inputs],
            "outputs": [_output(c) for c in table.outputs],
            "rules": {r.id: _rule(r, table, keys, paths) for r in table.rules},
        },
        keep=("layer", "hit_policy", "level", "inputs", "outputs", "rules"),
    )


def column_keys(table: Table) -> list[str]:
    """A readable key per input column (its expression text; repeats get ``#2``)."""
    keys: list[str] = []
    for column in table.inputs:
        key, n = column.text, 1
        while key in keys:
            n += 1
            key = f"{column.text} #{n}"
        keys.append(key)
    return keys


def _input(column: InputColumn) -> dict[str, Any]:
    return _drop_empty(
        {
            "expr": _expr_cell(column.text, column.expr),
            "type": column.dtype.render(),
            "col": _column_letters(column.location),
        }
    )


def _output(column: OutputColumn) -> dict[str, Any]:
    default = (
        None
        if column.default is None
        else _expr_cell(render(column.default), column.default)
    )
    return _drop_empty(
        {
            "id": column.id,
            "type": column.dtype.render(),
            "default": default,
            "col": _column_letters(column.location),
        }
    )


def _column_letters(location: Location) -> str | None:
    match = re.match(r"^([A-Z]+)\d+$", location.cell or "")
    return match.group(1) if match else None


def _rule(rule: Rule, table: Table, keys: list[str], paths: _Paths) -> dict[str, Any]:
    when = {}
    for key, column, test, text in zip(
        keys, table.inputs, rule.tests, _texts(rule.test_texts, rule.tests), strict=True
    ):
        when[key] = _cell(text, test, partial(test_from_text, dtype=column.dtype))
    then = {}
    for output, expr, text in zip(
        table.outputs,
        rule.outputs,
        _texts(rule.output_texts, rule.outputs),
        strict=True,
    ):
        then[output.id] = _cell(
            text, expr, partial(output_from_text, dtype=output.dtype)
        )
    return _drop_empty(
        {
            "row": rule.row,
            "at": paths.at(rule.location),
            "when": when,
            "then": then,
            "annotation": rule.annotation,
        },
        keep=("when", "then"),
    )


def _texts(texts: list[str], trees: list[Any]) -> list[str | None]:
    return list(texts) if len(texts) == len(trees) else [None] * len(trees)


def _calendar(days: list[CalendarDay], paths: _Paths) -> list[dict[str, Any]]:
    return [
        _drop_empty(
            {
                "date": day.day,
                "type": "补班" if day.working else "休息日",
                "note": day.note,
                "at": paths.at(day.location),
            },
            keep=("date", "type"),
        )
        for day in days
    ]


def _other_sheets(sheets: list[OtherSheet]) -> dict[str, Any]:
    """``other_sheets``: each sheet's rows of texts, or nothing at all (so a rulebook
    without such sheets is written as before); ``other_sheet_merges``: the merged
    ranges of those that have any (a title across 说明), left out when none has."""
    if not sheets:
        return {}
    merges = {s.name: list(s.merged) for s in sheets if s.merged}
    return {
        "other_sheets": {s.name: [list(row) for row in s.rows] for s in sheets},
        **({"other_sheet_merges": merges} if merges else {}),
    }


def _load_other_sheets(document: dict[str, Any]) -> list[OtherSheet]:
    found = document.get("other_sheets") or {}
    merges = document.get("other_sheet_merges") or {}
    return [
        OtherSheet(
            str(name),
            [["" if c is None else str(c) for c in row] for row in rows or []],
            [str(ref) for ref in merges.get(name) or []],
        )
        for name, rows in found.items()
    ]


# ---------------------------------------------------------------- loading


def read(text: str) -> dict[str, Any]:
    """Parse canonical YAML into a plain document, checking its format tag."""
    try:
        document = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as error:
        raise CanonicalError(f"not YAML: {error}") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise CanonicalError(f"not a {FORMAT} document")
    return document


# The sections whose entries ``_read_blocks`` reads one block at a time.
_BLOCK_SECTIONS = ("fields", "standards", "derived", "tables")
_TOP_LEVEL = re.compile(r"[a-z_]+:( .*)?")


def _read_blocks(text: str) -> tuple[dict[str, Any], dict[str, list[str]]] | None:
    """The document, reading each top-level key and each entry of the block sections (a
    field, standard, derived value or table) as its own small YAML text; with the entries'
    texts by section.

    Every county's rulebook repeats the province's tables and calendar word for word, and
    parsing YAML is the slow part of loading ninety published versions: a text seen before
    is not parsed again (``_entry``), and a table or derived value is not built again
    (``_built``). Returns None when the text is not laid out as
    ``_dump`` writes it (top-level keys at the margin, entries at two spaces, their content
    deeper), so that ``read`` parses it whole instead."""
    chunks: list[list[str]] = []  # each top-level key with its lines
    sections: dict[str, list[list[str]]] = {}  # each block section's entries, line by line
    entries: list[list[str]] | None = None  # the entries of the block section being read
    for line in text.split("\n"):
        if line[:1] not in ("", " "):
            if line.startswith("- ") and chunks and entries is None:
                chunks[-1].append(line)
                continue
            if not _TOP_LEVEL.fullmatch(line):
                return None
            name = line.split(":", 1)[0]
            if line == name + ":" and name in _BLOCK_SECTIONS:
                if name in sections:
                    return None
                entries = sections[name] = []
                continue
            entries = None
            chunks.append([line])
        elif entries is None:
            if not chunks:
                return None
            chunks[-1].append(line)
        elif line.startswith("  ") and line[2:3] not in ("", " "):
            entries.append([line[2:]])
        elif entries and (line.startswith("    ") or not line.strip()):
            entries[-1].append(line[2:])
        else:
            return None
    blocks = {name: ["\n".join(lines) + "\n" for lines in found] for name, found in sections.items()}
    try:
        document = dict(_entry("\n".join(lines) + "\n") for lines in chunks)
        for name, texts in blocks.items():
            document[name] = dict(_entry(block) for block in texts)
    except (yaml.YAMLError, CanonicalError):
        return None
    return document, blocks


@lru_cache(maxsize=8192)
def _entry(block: str) -> tuple[str, Any]:
    """One entry of a block section from its text; shared between documents, so read only."""
    parsed = yaml.load(block, Loader=_Loader)
    if not isinstance(parsed, dict) or len(parsed) != 1:
        raise CanonicalError("not one entry")
    ((key, value),) = parsed.items()
    return str(key), value


def _loaded(
    document: dict[str, Any],
    blocks: dict[str, list[str]],
    section: str,
    load: Callable[[str, dict[str, Any]], Any],
) -> dict[str, Any]:
    """A block section's entries built by ``load``, once per entry text when the document
    was read block by block."""
    if section in blocks:
        built = [_built(block, load) for block in blocks[section]]
        return {entry.id: entry for entry in built}
    return {ident: load(ident, e) for ident, e in _items(document, section)}


@lru_cache(maxsize=8192)
def _built(block: str, load: Callable[[str, dict[str, Any]], Any]) -> Any:
    """A table or derived value from its entry's text, built once by ``load`` (shared
    between rulebooks: read only)."""
    ident, entry = _entry(block)
    return load(ident, entry or {})


def load_rulebook(text: str) -> RuleBook:
    """A RuleBook back from its canonical YAML (the reverse of ``dump_rulebook``).

    Tables whose text another rulebook loaded in this process also has are the same
    objects (a RuleBook from here is read only)."""
    split = _read_blocks(text)
    document, blocks = split if split is not None else (read(text), {})
    if document.get("format") != FORMAT:
        raise CanonicalError(f"not a {FORMAT} document")
    if document.get("kind") != "rulebook":
        raise CanonicalError("the document holds one workbook, not a county's rulebook")
    sources: dict[str, str] = document.get("sources") or {}
    book = RuleBook(
        str(document["county"]),
        document.get("name") or "",
        _load_fields(document),
        {},
        {},
        {},
        _load_calendar(document),
        [sources[layer] for layer in LAYERS if layer in sources],
        _load_other_sheets(document),
    )
    book.standards = {
        ident: _load_standard(ident, e, sources)
        for ident, e in _items(document, "standards")
    }
    book.derived = _loaded(document, blocks, "derived", _load_derived)
    book.tables = _loaded(document, blocks, "tables", _load_table)
    return book


def load_workbook_yaml(text: str) -> Workbook:
    """A Workbook back from ``dump_workbook``'s YAML."""
    document = read(text)
    if document.get("kind") != "workbook":
        raise CanonicalError("the document holds a county's rulebook, not one workbook")
    sources: dict[str, str] = document.get("sources") or {}
    path = next(iter(sources.values()), "")
    return Workbook(
        path,
        str(document.get("county") or ""),
        document.get("name") or "",
        WorkbookKind(document["workbook"]),
        list(_load_fields(document).values()),
        [
            _load_standard(ident, e, sources)
            for ident, e in _items(document, "standards")
        ],
        [_load_derived(ident, e) for ident, e in _items(document, "derived")],
        [_load_table(ident, e) for ident, e in _items(document, "tables")],
        _load_calendar(document),
        _load_other_sheets(document),
    )


def _items(document: dict[str, Any], key: str) -> list[tuple[str, dict[str, Any]]]:
    return [(str(k), v or {}) for k, v in (document.get(key) or {}).items()]


def _load_fields(document: dict[str, Any]) -> dict[str, Field]:
    fields = {}
    for ident, entry in _items(document, "fields"):
        dtype = dtype_from(entry["type"])
        fields[ident] = Field(
            ident,
            entry.get("name", ""),
            Level(entry["level"]),
            dtype,
            value_from(entry.get("default"), dtype),
            entry.get("note", ""),
            parse_at(entry.get("at")),
            value_from(entry.get("lower"), dtype),
            value_from(entry.get("upper"), dtype),
        )
    return fields


def _load_standard(
    ident: str, entry: dict[str, Any], sources: dict[str, str]
) -> Standard:
    dtype = dtype_from(entry["type"])
    lower, upper = entry.get("lower"), entry.get("upper")
    return Standard(
        str(entry.get("id", ident)),
        entry.get("name", ""),
        dtype,
        [_load_row(row, dtype, sources) for row in entry.get("rows") or []],
        bool(entry.get("overridable", False)),
        _expr_from(lower),
        _expr_from(upper),
        _plain_text(lower),
        _plain_text(upper),
        parse_at(entry.get("at")),
    )


def _plain_text(raw: object) -> str:
    if raw is None:
        return ""
    if isinstance(raw, dict):
        return str(raw.get("canonical", raw.get("text", "")))
    return str(raw)


def _load_row(
    entry: dict[str, Any], dtype: DType, sources: dict[str, str]
) -> StandardRow:
    return StandardRow(
        value=value_from(entry.get("value"), dtype),
        effective_from=_date(entry.get("from")),
        effective_until=_date(entry.get("until")),
        unit=entry.get("unit", ""),
        source=entry.get("source", ""),
        note=entry.get("note", ""),
        verified=bool(entry.get("verified", True)),
        location=parse_at(entry.get("at")),
        workbook=sources.get(entry.get("layer", "province"), ""),
    )


def _date(raw: object) -> date | None:
    if raw is None or isinstance(raw, date):
        return raw
    return date.fromisoformat(str(raw))


def _load_derived(ident: str, entry: dict[str, Any]) -> Derived:
    expr = _expr_from(entry["expr"])
    return Derived(
        ident,
        entry.get("name", ""),
        Level(entry["level"]),
        dtype_from(entry["type"]),
        expr,  # type: ignore[arg-type]
        _plain_text(entry["expr"]),
        entry.get("basis", ""),
        bool(entry.get("overridable", False)),
        parse_at(entry.get("at")),
    )


def _load_table(ident: str, entry: dict[str, Any]) -> Table:
    location = parse_at(entry.get("at"))
    policy, aggregation = _policy(entry["hit_policy"])
    inputs = [_load_input(c, location) for c in entry.get("inputs") or []]
    outputs = [_load_output(c, location) for c in entry.get("outputs") or []]
    table = Table(
        ident,
        entry.get("title", ""),
        policy,
        aggregation,
        Level(entry["level"]),
        inputs,
        outputs,
        [],
        annotation_header=entry.get("annotation_header", "注释"),
        overridable=bool(entry.get("overridable", False)),
        accepted_gap=entry.get("accepted_gap"),
        location=location,
    )
    keys = column_keys(table)
    columns = [c.get("col") for c in entry.get("inputs") or []]
    out_columns = [c.get("col") for c in entry.get("outputs") or []]
    for rule_id, rule_entry in (entry.get("rules") or {}).items():
        table.rules.append(
            _load_rule(str(rule_id), rule_entry, table, keys, columns, out_columns)
        )
    return table


def _policy(text: str) -> tuple[HitPolicy, Aggregation | None]:
    for aggregation in Aggregation:
        if text == f"{HitPolicy.COLLECT} {aggregation}":
            return HitPolicy.COLLECT, aggregation
    return HitPolicy(text), None


def _load_input(entry: dict[str, Any], table_at: Location) -> InputColumn:
    expr = _expr_from(entry["expr"])
    return InputColumn(
        expr,  # type: ignore[arg-type]
        _plain_text(entry["expr"]),
        dtype_from(entry["type"]),
        _cell_at(table_at, entry.get("col"), 3),
    )


def _load_output(entry: dict[str, Any], table_at: Location) -> OutputColumn:
    return OutputColumn(
        str(entry["id"]),
        dtype_from(entry["type"]),
        _expr_from(entry.get("default")),
        _cell_at(table_at, entry.get("col"), 3),
    )


def _cell_at(table_at: Location, col: str | None, row: int | None) -> Location:
    if not col or row is None or table_at == NOWHERE:
        return NOWHERE
    return Location(table_at.file, table_at.sheet, f"{col}{row}")


def _load_rule(
    rule_id: str,
    entry: dict[str, Any],
    table: Table,
    keys: list[str],
    columns: list[str | None],
    out_columns: list[str | None],
) -> Rule:
    row = entry.get("row")
    rule = Rule(
        rule_id,
        int(row) if row is not None else 0,
        [],
        [],
        entry.get("annotation", ""),
        location=parse_at(entry.get("at")),
    )
    when, then = entry.get("when") or {}, entry.get("then") or {}
    for key, column, col in zip(keys, table.inputs, columns, strict=True):
        raw = when.get(key, "-")
        rule.tests.append(
            _uncell(raw, partial(test_from_text, dtype=column.dtype), test=True)
        )
        rule.test_texts.append(_plain_text(raw))
        rule.test_locations.append(_cell_at(table.location, col, row))
    for output, col in zip(table.outputs, out_columns, strict=True):
        raw = then.get(output.id)
        rule.outputs.append(_uncell(raw, partial(output_from_text, dtype=output.dtype)))
        rule.output_texts.append(_plain_text(raw))
        rule.output_locations.append(_cell_at(table.location, col, row))
    return rule


def _load_calendar(document: dict[str, Any]) -> list[CalendarDay]:
    return [
        CalendarDay(
            _date(e["date"]),  # type: ignore[arg-type]
            e["type"] == "补班",
            e.get("note", ""),
            parse_at(e.get("at")),
        )
        for e in document.get("calendar") or []
    ]


__all__ = [
    "FORMAT",
    "LAYER_CN",
    "CanonicalError",
    "column_keys",
    "dump_rulebook",
    "dump_workbook",
    "layer_of_row",
    "load_rulebook",
    "load_workbook_yaml",
    "output_from_text",
    "read",
    "test_from_text",
    "value_text",
]
