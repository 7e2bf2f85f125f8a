"""JSON input: read by DuckDB for a load, and in Python to say what DuckDB refused.

``stage_json`` reads a ``.json`` list or a ``.jsonl`` file with every declared leaf as
``VARCHAR`` (``tree`` refuses field ids nested under one another, E605), except a text
leaf that the file's merged structure shows is not always a string (``not_strings``):
that one is read as JSON, so that each number, list or object in it is refused. When
DuckDB cannot read the file, it is read again in Python: each line that is no JSON (or
repeats a key) becomes E605, each object or list out of its place in the contract
E603, at most ``MAX_PROBLEMS``, raised together as ``InputError``.
``json_households`` yields the households as written, for ``iter_households`` without
fields.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Collection, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from compiler import logger
from compiler.diagnostics import Diagnostic, Location, make
from compiler.errors import InputError
from compiler.households_model import (
    KEYS,
    LISTS,
    MAX_PROBLEMS,
    RAW,
    READ_ERRORS,
    Column,
    Family,
    Only,
    Places,
    Schema,
    Source,
    Staged,
    first_line,
    unreadable,
)
from compiler.model import Kind, Level
from compiler.sqlgen import quote


def tree(
    columns: list[Column], as_json: Collection[Column] = frozenset()
) -> dict[str, Any]:
    """Field keys as nested dicts, each leaf ``VARCHAR`` (``JSON`` for ``as_json``)."""
    nested: dict[str, Any] = {}
    for column in columns:
        node = nested
        *parents, leaf = column.key
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        sql_type = "JSON" if column in as_json else "VARCHAR"
        if not isinstance(node, dict) or isinstance(
            node.setdefault(leaf, sql_type), dict
        ):
            raise unreadable(
                f"字段「{column.id}」与另一字段互为上下级，JSON 中无法同时存在",
                Location(),
                found=column.id,
                hint="字段标识不能是另一字段标识加「.」的前缀，如 current 与 current.group",
            )
    return nested


def _struct(tree: dict[str, Any]) -> str:
    parts = [
        f"{quote(k)} {_struct(v) if isinstance(v, dict) else v}"
        for k, v in tree.items()
    ]
    return f"STRUCT({', '.join(parts)})"


def _json_columns(schema: Schema, as_json: Collection[Column]) -> dict[str, str]:
    """The ``columns`` argument of ``read_json``: every declared leaf as VARCHAR, those
    of ``as_json`` as JSON."""
    top = tree(schema[Level.HOUSEHOLD], as_json)
    for level, name in LISTS.items():
        if schema[level]:
            top[name] = _struct(tree(schema[level], as_json)) + "[]"
    return {k: _struct(v) if isinstance(v, dict) else v for k, v in top.items()}


def not_strings(structure: object, schema: Schema) -> frozenset[Column]:
    """The text columns some value of which is no JSON string (a number, a list, an
    object) in a file whose merged ``json_group_structure`` is ``structure``; None
    (unknown) counts every text column."""
    found = set()
    for level, columns in schema.items():
        for column in columns:
            if column.dtype.kind is not Kind.TEXT:
                continue
            node = structure
            if level is not Level.HOUSEHOLD:
                node = node.get(LISTS[level]) if isinstance(node, dict) else None
                node = node[0] if isinstance(node, list) and node else node
            for key in column.key:
                node = node.get(key, "NULL") if isinstance(node, dict) else node
            if node not in ("VARCHAR", "NULL"):
                found.add(column)
    return frozenset(found)


def stage_json(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    schema: Schema,
    only: Only,
    as_json: Collection[Column] = frozenset(),
) -> Staged:
    """Read a JSON or JSON Lines file into ``_jz_raw``, one row a household; the text
    columns of ``as_json`` (``not_strings``) are read as JSON, so that a value which
    is no string can be told from one."""
    fmt = "newline_delimited" if source.format == "jsonl" else "array"
    try:
        con.execute(
            "CREATE TABLE _jz_raw AS SELECT * FROM read_json($p, format = $f, columns = $c)",
            {"p": str(source.path), "f": fmt, "c": _json_columns(schema, as_json)},
        )
    except READ_ERRORS as error:
        raise InputError(_json_structure(source, schema, error)) from None
    family = Family(native=False, blank_is_null=True)
    staged = Staged(family, _access, Places(source), linked=False, everyone="_jz_raw")
    staged.source_type = lambda column: "JSON" if column in as_json else None
    declared = {c.id: c for c in schema[Level.HOUSEHOLD]}
    hid, county_code = (
        staged.family_of(declared[k]).text(quote(k)) for k, _ in KEYS[Level.HOUSEHOLD]
    )
    con.execute(
        f"CREATE VIEW _jz_raw_households AS SELECT rowid AS _row, rowid AS _pos, "
        f"{hid} AS _hid, * FROM _jz_raw{only.where(county_code, hid)}"
    )
    for level, name in LISTS.items():
        items = f"h.{quote(name)}" if schema[level] else "CAST([] AS INTEGER[])"
        con.execute(
            f"CREATE TABLE {RAW[level]} AS SELECT h._row, h._hid, unnest({items}) AS _v, "
            f"generate_subscripts({items}, 1) - 1 AS _pos FROM _jz_raw_households h"
        )
    return staged


def _access(column: Column) -> str:
    prefix = "" if column.level is Level.HOUSEHOLD else "_v."
    return prefix + ".".join(quote(k) for k in column.key)


# ---------------------------------------------------------------------------- JSON in Python


def _json_structure(
    source: Source, schema: Schema, error: Exception
) -> list[Diagnostic]:
    """Why DuckDB could not read a JSON file, found by reading it in Python."""
    shape = tree(schema[Level.HOUSEHOLD])
    for level, name in LISTS.items():
        shape[name] = [tree(schema[level])]
    problems: list[Diagnostic] = []
    for where, record in _json_records(source, problems):
        for path, expected, found in _shape_problems(record, shape, "$"):
            problems.append(_shape_diagnostic(where, path, expected, found, record))
        lone = _lone_surrogate(record, "$")
        if lone is not None:
            problems.append(_surrogate_diagnostic(where, *lone))
        if len(problems) >= MAX_PROBLEMS:
            break
    if not problems:  # DuckDB refused what Python reads: its English goes to the log
        logger.info("DuckDB 无法读取 %s：%s", source.path, first_line(error))
        problems.append(
            make(
                "E605",
                "家庭数据文件无法读取：文件中没有找到 JSON 语法错误，但无法按数据约定读入",
                Location(file=str(source.path)),
                expected="UTF-8 编码的 JSON，每个家庭一个对象，如 "
                '{"household_id": "H001", "county_code": "330106", "members": [...]}',
                hint="确认文件是 UTF-8 编码的 JSON；加 -v 运行可在日志中看到 DuckDB 给出的原因",
            )
        )
    return problems


def _lone_surrogate(value: object, path: str) -> tuple[str, str] | None:
    """(path, the escape) of the first string, key or value, holding half of a UTF-16
    surrogate pair (``"\\ud800"`` with no partner): Python reads it, DuckDB refuses
    the file, and no UTF-8 text can hold it."""
    if isinstance(value, str):
        half = next((ch for ch in value if "\ud800" <= ch <= "\udfff"), None)
        return None if half is None else (path, f"\\u{ord(half):04x}")
    if isinstance(value, dict):
        for key, item in value.items():
            found = _lone_surrogate(key, path) or _lone_surrogate(item, f"{path}.{key}")
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _lone_surrogate(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def _surrogate_diagnostic(where: Location, path: str, escape: str) -> Diagnostic:
    cell = where.cell or "$"
    cell = f"{cell} {path}" if cell.startswith("第") else cell + path[1:]
    return make(
        "E605",
        "字符串中有不成对的 UTF-16 代理项转义，无法读取",
        Location(where.file, None, cell),
        found=escape,
        expected="成对的转义（如 \\ud83d\\ude00 即 😀）或直接写出该字符",
        hint="多是导出程序截断文本时把一个字符切成了两半；删去该转义或补全字符后重新导出",
    )


def _json_records(
    source: Source, problems: list[Diagnostic]
) -> Iterator[tuple[Location, object]]:
    """Each household object with where it is; unreadable JSON is added to ``problems``."""
    file = str(source.path)
    packed = _packed(source.path)
    if packed is not None:  # one problem for the file, not one a line of its bytes
        problems.append(packed)
        return
    if source.format == "json":
        try:
            records = _loads(source.path.read_text(encoding="utf-8-sig"))
        except (ValueError, UnicodeDecodeError, RecursionError) as error:
            line = (
                f"第{json_error_place(error)[0]}行"
                if isinstance(error, json.JSONDecodeError)
                else None
            )
            problems.append(_bad_json(Location(file=file, cell=line), error, "文件"))
            return
        if not isinstance(records, list):
            problems.append(
                make(
                    "E605",
                    "JSON 文件应是家庭的列表",
                    Location(file=file),
                    found=f"{json_kind(records)}：{_clip(records)}",
                    expected='[{"household_id": "H001", ...}, ...]',
                    hint="把各户的对象放在一对方括号 [ ] 中，用逗号分隔；"
                    "或存为 .jsonl，一行一个家庭对象",
                )
            )
            return
        yield from (
            (Location(file=file, cell=f"$[{i}]"), r) for i, r in enumerate(records)
        )
        return
    with source.path.open("rb") as handle:
        other = _other_encoding(handle.read(1 << 16))
        if other:  # one problem for the file, not one a line
            problems.append(
                make("E605", f"是 {other}编码的文本，不是 UTF-8", Location(file=file),
                     expected="UTF-8 编码的 JSON Lines",
                     hint="用记事本或 WPS 另存为时选择 UTF-8 编码")
            )
            return
        handle.seek(0)
        for number, raw in enumerate(handle, start=1):
            where = Location(file=file, cell=f"第{number}行")
            try:
                if raw.strip():
                    yield where, _loads(raw.decode("utf-8-sig"))
            except (ValueError, UnicodeDecodeError, RecursionError) as error:
                if _opens_multiline(raw, number):  # one problem, not one a line
                    problems.append(_multiline(source.path, where, raw))
                    return
                problems.append(_bad_json(where, error))


def _opens_multiline(raw: bytes, number: int) -> bool:
    """Whether an unreadable line of a .jsonl file shows pretty-printed JSON: a line
    that is only ``{`` (an object spread over lines), or a first line opening a list
    ``[`` (a .json file's list of households)."""
    line = raw.decode("utf-8-sig", errors="replace").strip()
    return line == "{" or (line.startswith("[") and number == 1)


def _multiline(path: Path, where: Location, raw: bytes) -> Diagnostic:
    """E605 for a JSON list or a pretty-printed object saved as .jsonl: read line by
    line it gave one 「不是合法的 JSON」 per line (helper-121)."""
    listed = raw.decode("utf-8-sig", errors="replace").strip().startswith("[")
    what = "一个 JSON 列表（[ … ]）" if listed else "跨多行书写的 JSON 对象"
    return make(
        "E605",
        f"{path.name} 是{what}，不是 JSON Lines：.jsonl 文件须一行一个家庭对象",
        where,
        found=raw.decode("utf-8-sig", errors="replace").strip()[:40],
        expected='每行一个完整的家庭对象，如 {"household_id": "H001", "members": [...]}',
        hint=(
            "把文件扩展名改为 .json 即可按 JSON 列表读取"
            if listed
            else "把各户对象放进一个列表 [ … ] 并改扩展名为 .json；"
            "或重新导出为每行一个家庭对象（不缩进、不换行）的 .jsonl"
        ),
    )


def _packed(path: Path) -> Diagnostic | None:
    """E605 for an Excel workbook or another zip archive named .jsonl or .json: read
    line by line it gave one 「不是 UTF-8 编码的文本」 per line of its bytes (helper-51)."""
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"\xd0\xcf\x11\xe0"):  # the old binary .xls
        what = "Excel 工作簿（.xls）"
    elif head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError):
            names = []
        what = "Excel 工作簿（.xlsx）" if any(n.startswith("xl/") for n in names) else "zip 压缩包"
    else:
        return None
    return make(
        "E605",
        f"是 {what}，不是 JSON 文本",
        Location(file=str(path)),
        expected="UTF-8 编码的 JSON Lines（.jsonl，每行一个家庭对象）或 JSON（.json）",
        hint="Excel 中的家庭数据请另存为 CSV（UTF-8）：家庭 households.csv、成员 members.csv"
        "（有事件时再加 events.csv），一起作为 CSV 家庭数据提供；或从原系统导出 .jsonl",
    )


def _other_encoding(head: bytes) -> str | None:
    """The encoding a JSON Lines file is in when it is not UTF-8, judged on its first
    bytes: UTF-16 by its byte order mark (Notepad's "Unicode"), GBK when it reads as
    GB18030 with Chinese in it (Chinese Windows); None for UTF-8 or anything else,
    whose lines then say what is wrong with them (helper-43)."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "UTF-16 "
    try:
        head.decode("utf-8")
        return None
    except UnicodeDecodeError as error:
        if error.start > len(head) - 4:  # a character cut at the end of the sample
            return None
        if any(ord(ch) > 127 for ch in head[: error.start].decode("utf-8")):
            return None  # UTF-8 text before a stray byte: that line's problem
    try:
        text = head.decode("gb18030")
    except UnicodeDecodeError:
        return None
    return "GBK（GB18030）" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else None


class DuplicateKey(ValueError):
    """A key written twice in one JSON object (DuckDB refuses such objects, and which
    of the two values counts would be a guess)."""


def _loads(text: str) -> object:
    return json.loads(text, parse_float=Decimal, object_pairs_hook=unique_pairs)


def unique_pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    """A JSON object's pairs as a dict; raises DuplicateKey for a key given twice."""
    result: dict[str, object] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKey(key)
        result[key] = value
    return result


def _bad_json(where: Location, error: Exception, whole: str = "行") -> Diagnostic:
    """E605 for JSON that cannot be read; ``whole`` names what a syntax error at the
    end of the text cuts short: a .jsonl file's 行, a .json file's 文件."""
    if isinstance(error, DuplicateKey):
        return make(
            "E605",
            f"JSON 对象中的键「{error}」重复出现",
            where,
            found=str(error),
            hint="每个键在同一对象中只能出现一次",
        )
    if isinstance(error, UnicodeDecodeError):
        return make(
            "E605", "不是 UTF-8 编码的文本", where, expected="UTF-8 编码的 JSON"
        )
    if isinstance(error, RecursionError):  # json.loads recurses once per [ or {
        return make(
            "E605",
            "JSON 嵌套过深，无法读取",
            where,
            expected="家庭对象中的对象和列表只嵌套几层，按数据约定组织",
            hint="检查文件中是否混入了大量连续的 [ 或 {",
        )
    detail = str(error)
    if isinstance(error, json.JSONDecodeError):
        _line, column, ended = json_error_place(error)
        cut = f"{whole}在此处结束，" if ended else ""
        detail = f"第 {column} 列：{cut}{json_error_reason(error)}"
    return make(
        "E605",
        "不是合法的 JSON",
        where,
        found=detail,
        # a .json file holds a list of household objects; .jsonl one a line
        expected=(
            '由家庭对象组成的列表，如 [{"household_id": "H001", ...}, ...]'
            if whole == "文件"
            else '一行一个家庭对象，如 {"household_id": "H001", ...}'
        ),
        hint="检查引号、逗号和括号是否配对",
    )


# Python's json messages, said in Chinese (the start of each; the rest is a position)
_JSON_REASONS = (
    ("Expecting value", "此处应有一个值（字符串、数字、true、false、null、对象或列表）"),
    ("Expecting property name enclosed in double quotes", "此处应是用英文双引号括起的键名"),
    ("Expecting ':' delimiter", "键名后应有冒号「:」"),
    ("Expecting ',' delimiter", "此处应有逗号「,」分隔前后两项"),
    ("Unterminated string", "字符串没有结束：缺少右边的英文双引号"),
    ("Invalid control character", "字符串中有控制字符（如未转义的换行或制表符）"),
    # 「Invalid \\u」, then the four hex digits Python writes as letters, then 「escape」
    ("Invalid \\u", "\\u 后应是四位十六进制数字"),
    ("Invalid \\escape", "反斜杠「\\」后的转义无效（路径中的反斜杠要写成 \\\\）"),
    ("Extra data", "一个完整的值之后还有多余的内容"),
    ("Illegal trailing comma", "最后一项之后多了逗号"),
)


def json_error_place(error: json.JSONDecodeError) -> tuple[int, int, bool]:
    """The line and column of a JSON syntax error, and whether the text ends there.

    Python places an error found at the end of the text after any white space left:
    a line ``{"household_id":"H1",`` cut short was said at column 1 of the empty line
    after it. The place given is then just past the last character (line 1, column
    22), as an editor shows where the text stops (helper-135).
    """
    end = len(error.doc.rstrip(" \t\r\n"))
    if error.pos < end:
        return error.lineno, error.colno, False
    line = error.doc.count("\n", 0, end) + 1
    return line, end - error.doc.rfind("\n", 0, end), True


def json_error_reason(error: json.JSONDecodeError) -> str:
    """What is wrong at a JSON syntax error's position, in Chinese."""
    return next(
        (said for start, said in _JSON_REASONS if error.msg.startswith(start)),
        "JSON 语法错误",
    )


def json_kind(value: object) -> str:
    """A parsed JSON value's kind as a message names it: 一个对象, 一个字符串."""
    if isinstance(value, dict):
        return "一个对象"
    if isinstance(value, list):
        return "一个列表"
    if isinstance(value, str):
        return "一个字符串"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return "一个数字"


def _shape_problems(
    value: object, shape: dict[str, Any], path: str
) -> Iterator[tuple[str, str, str]]:
    """(path, expected, found) where an object or a list is not where the shape has it."""
    if not isinstance(value, dict):
        yield path, "JSON 对象 {…}", _clip(value)
        return
    for key, sub in shape.items():
        child, here = value.get(key), f"{path}.{key}"
        if child is None or sub == "VARCHAR":
            continue
        if isinstance(sub, dict):
            yield from _shape_problems(child, sub, here)
        elif not isinstance(child, list):
            yield here, "JSON 列表 […]", _clip(child)
        else:
            for index, item in enumerate(child):
                if item is not None:
                    yield from _shape_problems(item, sub[0], f"{here}[{index}]")


def _shape_diagnostic(
    where: Location, path: str, expected: str, found: str, record: object = None
) -> Diagnostic:
    cell = where.cell or "$"
    # a JSON Lines household is placed by its line, a JSON list's by its index: the
    # message names the path the location does (the service's $.households[i]...)
    lined = cell.startswith("第")
    cell = f"{cell} {path}" if lined else cell + path[1:]
    hint = "按数据约定组织家庭、成员和事件"
    if cell == "第1行 $" and isinstance(record, list):
        # a .jsonl file holding one JSON list of households (a .json file misnamed)
        hint = (
            "这一行是一个 JSON 列表 […]，而 .jsonl 文件应一行写一个家庭对象 {…}；"
            "整个文件是一个家庭列表时，请把文件改名为 .json（如 households.json）"
        )
    return make(
        "E603",
        f"{path if lined else cell} 的结构不对",
        Location(where.file, None, cell),
        found=found,
        expected=expected,
        hint=hint,
    )


def _clip(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def json_households(source: Source, only: Only) -> Iterator[dict[str, Any]]:
    """The households as written (numbers as ``Decimal``), those ``only`` keeps."""
    problems: list[Diagnostic] = []
    for where, record in _json_records(source, problems):
        if not isinstance(record, dict):
            raise InputError(
                _shape_diagnostic(where, "$", "JSON 对象 {…}", _clip(record), record)
            )
        if problems:
            break
        if only.keeps(record):
            yield record
    if problems:
        raise InputError(problems)


__all__ = [
    "DuplicateKey",
    "json_error_place",
    "json_error_reason",
    "json_households",
    "json_kind",
    "not_strings",
    "stage_json",
    "tree",
    "unique_pairs",
]
