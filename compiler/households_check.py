"""Checking staged input: every problem found in one pass, reported in Chinese.

``check`` reads each level's staged values in one query (a value missing, of the wrong
type, too large for its type, not among its values, an id with a control character or
too long (``households_values``), outside the field's declared bounds, a birth before
1900-01-01, a birth or a current group's recognition after the decision date, or an
unknown county), then members and events whose household is not in the file,
households with no member and repeated ids, and raises ``InputError`` with the first
``MAX_PROBLEMS`` diagnostics (E603, E604, E606, E614, E615) and an E605 line counting
the rest. Each diagnostic is placed by the staging's ``Places`` and says what was
expected, with an example.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

import duckdb

from compiler.diagnostics import Diagnostic, Location, make
from compiler.errors import InputError
from compiler.households_enums import accepted, refused_hint
from compiler.households_model import (
    ALL,
    BIRTH_DATE,
    EARLIEST_BIRTH,
    FAST,
    KEYS,
    LISTS,
    MAX_PROBLEMS,
    NOT_AFTER_AS_OF,
    TEXT,
    Arm,
    Column,
    Places,
    Schema,
    Staged,
    scalar,
    words,
)
from compiler.households_values import KINDS as VALUE_KINDS
from compiler.households_values import (
    id_arms,
    quoted,
    serial_diagnostic,
    value_diagnostic,
)
from compiler.model import SCALES, Kind, Level
from compiler.sqlgen import literal

_KIND_CN = {
    Kind.MONEY: "金额",
    Kind.NUMBER: "数值",
    Kind.INTEGER: "整数",
    Kind.PERCENT: "百分比（小数，0.35 即 35%）",
    Kind.BOOLEAN: "是否",
    Kind.DATE: "日期",
    Kind.TEXT: "文本",
}
_EXAMPLES = {
    Kind.MONEY: "1402.50",
    Kind.NUMBER: "85.5",
    Kind.INTEGER: "2",
    Kind.PERCENT: "0.35",
    Kind.BOOLEAN: "true 或 false（也可写 是/否）",
    Kind.DATE: "2025-04-07",
    Kind.TEXT: "H001",
}


def check(
    con: duckdb.DuckDBPyConnection,
    staged: Staged,
    schema: Schema,
    known: list[str] | None,
    as_of: date | None = None,
    repeats: bool = True,
) -> None:
    """Raise ``InputError`` with the problems in the staged input, if there are any;
    with ``as_of``, a member born after it, or a current group recognised after it, is
    one. Without ``repeats`` person ids repeated within a household are left to the
    caller (``defers_repeats``, ``repeated_members``)."""
    found, total = _problems(con, staged, schema, _Limits(known, as_of), repeats)
    _raise_problems(found, total, staged, as_of)


def defers_repeats(staged: Staged) -> bool:
    """Whether repeated person ids can be looked for batch by batch: Parquet or DuckDB
    input without a county filter, whose staged views stay for a full check later."""
    return staged.built[Level.MEMBER] == FAST[Level.MEMBER]


def repeated_members(con: duckdb.DuckDBPyConnection, members: str) -> bool:
    """Whether a loaded members relation (a batch's) may repeat a person id within a
    household: by a 64-bit hash of the two ids, so True may be a collision, which the
    full check then finds to be none."""
    found = con.execute(
        f"SELECT 1 FROM {members} GROUP BY hash(household_id, person_id) "
        "HAVING count(*) > 1 LIMIT 1"
    ).fetchall()
    return bool(found)


# ---------------------------------------------------------------------------- checks


@dataclass(frozen=True, slots=True)
class _Limits:
    """What values are checked against beyond their fields: the counties that have
    tables (None: any) and the decision date (None: no date is checked against it)."""

    known: list[str] | None
    as_of: date | None


@dataclass(frozen=True, slots=True)
class _Problem:
    kind: str  # missing, type, value, range, early, late, county, duplicate, orphan, empty
    column: Column
    row: int
    position: int | None
    found: str | None = None
    first: tuple[int, int | None] | None = None  # a duplicate's first place


@dataclass(frozen=True, slots=True)
class _Check:
    """One column's check: the arms of the CASE naming what is wrong with a value and,
    where one is known, ``quick``: a plain condition on the stored column, true
    wherever the CASE may name something, that the Parquet reader tests on the
    column's dictionary (a county code not among the 90 known ones: 0.01 s at ten
    million households, where the screen's larger condition takes 0.8 s)."""

    column: Column
    arms: list[Arm]
    quick: str | None = None


def _check(staged: Staged, column: Column, limits: _Limits) -> _Check | None:
    """What to ask of one column's values; None when nothing can be wrong with them
    (an optional column whose stored type holds only valid values)."""
    family, raw = staged.family_of(column), staged.access(column)
    text = family.text(raw)
    arms = [Arm(family.is_null(raw), "'missing'" if column.required else "NULL")]
    if column.required and column.dtype.kind in (Kind.TEXT, Kind.ENUM):
        # a blank key is no key, whatever the format: JSON and CSV read it as missing.
        # Only text that starts below "!" or beyond ASCII can be blank (trim takes
        # spaces, U+00A0, U+3000 and the like): the comparison spares most ids the trim,
        # 0.7 s of CPU at 26 million members
        blank = f"({text} < '!' OR {text} >= chr(128)) AND trim({text}) = ''"
        arms.append(Arm(blank, "'missing'"))
    kind = column.dtype.kind
    # whether every value read as text has the column's type (JSON's numbers do not)
    any_text = kind is Kind.TEXT and family.type_ok(raw, kind) == "TRUE"
    if kind in SCALES and not _numeric(staged.source_type(column)):
        # DuckDB casts true to 1 and an interval to a number of seconds: a Parquet or
        # DuckDB column of such a type holds no amounts
        arms.append(Arm("TRUE", "'type'"))
    elif not _holds(staged.source_type(column), kind):
        problem = family.type_problem(raw, kind)  # 'type', 'large' or 'decimals'
        if staged.source_type(column) == "FLOAT":
            # 15611.88 is stored as 15611.8798828125: say why it is refused
            problem = problem.replace("'type'", "'float'").replace("'decimals'", "'float'")
        arms.append(Arm(f"NOT {family.type_ok(raw, kind)}", problem))
    if column.dtype.kind is Kind.ENUM:
        arms.append(Arm(f"{text} NOT IN ({words(column.dtype.values)})", "'value'"))
    arms += id_arms(family, raw, column)
    arms += _limit_arms(family.typed(raw, column.dtype.kind), column, limits.as_of)
    quick = None
    if (column.level, column.id) == (Level.HOUSEHOLD, "county_code"):
        if limits.known is not None and any_text:
            # a known code is six digits and nothing else can be wrong with it: most
            # rows skip the pattern. The text is the stored value, or NULL for "":
            # a value the CASE names is null or not a known code as stored, too
            known = words(tuple(limits.known))
            arms.insert(1, Arm(f"{text} IN ({known})", "NULL"))
            # an ENUM column is compared by its labels: a code it has no label for
            # would not cast to it
            stored = text if family.enum else raw
            quick = f"{stored} IS NULL OR {stored} NOT IN ({known})"
        arms.append(Arm(f"NOT regexp_full_match({text}, '[0-9]{{6}}')", "'value'"))
        if limits.known is not None:
            codes = f"CAST([{words(tuple(limits.known))}] AS VARCHAR[])"
            arms.append(Arm(f"NOT list_contains({codes}, {text})", "'county'"))
    if len(arms) == 1 and not column.required:
        return None
    return _Check(column, arms, quick)


def _case(arms: list[Arm]) -> str:
    return f"CASE {' '.join(f'WHEN {arm.test} THEN {arm.named}' for arm in arms)} END"


def _screen(arms: list[Arm]) -> str:
    """A condition true exactly where ``_case(arms)`` names a problem, written without
    CASE: a CASE hides its column from the Parquet reader, which tests a plain
    condition on a column's dictionary or skips row groups by their statistics (a
    county code against 90 known ones: 0.8 s as a CASE, 0.01 s as a condition, at ten
    million households). An arm that names nothing stops the ones after it where its
    condition holds."""
    test, named = arms[0]
    rest = _screen(arms[1:]) if len(arms) > 1 else "FALSE"
    if named == "NULL":
        return f"(({test}) IS NOT TRUE AND {rest})"
    return f"(({test}) OR {rest})"


def _limit_arms(typed: str, column: Column, as_of: date | None) -> list[Arm]:
    """CASE arms for a typed value outside the field's bounds, a birth before
    ``EARLIEST_BIRTH`` or a date after ``as_of``; they follow the type arm, so they
    only see values that have the type."""
    arms = [
        Arm(f"{typed} {op} {literal(bound, column.dtype)}", "'range'")
        for bound, op in ((column.lower, "<"), (column.upper, ">"))
        if bound is not None
    ]
    if column.dtype.kind is not Kind.DATE:
        return arms
    if (column.level, column.id) == BIRTH_DATE:
        arms.append(Arm(f"{typed} < {literal(EARLIEST_BIRTH)}", "'early'"))
    if as_of is not None and (column.level, column.id) in NOT_AFTER_AS_OF:
        arms.append(Arm(f"{typed} > {literal(as_of)}", "'late'"))
    return arms


# Typed columns whose every value reads as a kind: no check needed (a BIGINT may exceed
# the 18 digits an integer keeps, so it is checked).
_SMALL_INTEGERS = frozenset({"TINYINT", "SMALLINT", "INTEGER", "UTINYINT", "USMALLINT"})


_DECIMAL = r"DECIMAL\((\d+),(\d+)\)"
# The stored types a number can come from: integers, decimals, floating point, and
# text (CSV cells, a Parquet or DuckDB string or ENUM column holding digits).
_NUMERIC = re.compile(
    rf"U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|{_DECIMAL}|FLOAT|DOUBLE|VARCHAR|JSON"
    r"|ENUM\(.*\)",
    re.DOTALL,
)


def _numeric(source_type: str | None) -> bool:
    """Whether a column stored as ``source_type`` (None: as text) can hold numbers."""
    return source_type is None or _NUMERIC.fullmatch(source_type) is not None


def _holds(source_type: str | None, kind: Kind) -> bool:
    """Whether every value of a typed source column reads as ``kind`` exactly."""
    if source_type is None:
        return False
    if kind is Kind.BOOLEAN or kind is Kind.DATE:
        return source_type == kind.value.upper()
    if kind not in SCALES:
        return False
    scale = SCALES[kind]
    if source_type in _SMALL_INTEGERS:
        return True
    declared = re.fullmatch(_DECIMAL, source_type)
    if declared is None:
        return False
    width, places = int(declared.group(1)), int(declared.group(2))
    return places <= scale and width - places <= 18 - scale


def _value_problems(
    con: duckdb.DuckDBPyConnection,
    staged: Staged,
    columns: list[Column],
    limits: _Limits,
    budget: int,
) -> tuple[list[_Problem], int]:
    """The first ``budget`` problems with one level's values, and how many there are."""
    checked = [check for c in columns if (check := _check(staged, c, limits)) is not None]
    if not checked:
        return [], 0
    source = staged.built[checked[0].column.level]
    if _clean(con, source, checked):
        return [], 0
    cases, columns = [_case(check.arms) for check in checked], [c.column for c in checked]
    inner = ", ".join(
        f"{case} AS c{i}, {staged.access(c)} AS r{i}"
        for i, (case, c) in enumerate(zip(cases, columns, strict=True))
    )
    relation = f"(SELECT _row, _pos, {inner} FROM {source})"
    flagged = " OR ".join(f"c{i} IS NOT NULL" for i in range(len(columns)))
    shown = ", ".join(
        # a FLOAT is shown as the number it holds, not as the shortest text that reads
        # back as it (15611.8798828125, not 15611.88)
        f"c{i}, CAST(CAST(r{i} AS DOUBLE) AS VARCHAR)"
        if staged.source_type(c) == "FLOAT" else f"c{i}, CAST(r{i} AS VARCHAR)"
        for i, c in enumerate(columns)
    )
    rows = con.execute(
        f"SELECT _row, _pos, {shown} FROM {relation} WHERE {flagged} "
        f"ORDER BY _row, _pos LIMIT {budget + 1}"
    ).fetchall()
    problems = [
        _Problem(row[2 + 2 * i], column, row[0], row[1], row[3 + 2 * i])
        for row in rows
        for i, column in enumerate(columns)
        if row[2 + 2 * i] is not None
    ]
    total = len(problems)
    if total > budget or len(rows) > budget:
        counted = " + ".join(f"count(c{i})" for i in range(len(columns)))
        total = scalar(con, f"SELECT {counted} FROM {relation}")
    return problems[:budget], total


def _clean(con: duckdb.DuckDBPyConnection, source: str, checked: list[_Check]) -> bool:
    """Whether no value of ``source`` has a problem, asked column by column with
    conditions the Parquet reader can test on dictionaries and statistics (a
    column's ``quick`` condition, then ``_screen``): ten million households and 26
    million members in 2.1 s where the query that lists problems takes 4.1 s. False
    when a column may have one, or when a condition fails where the CASE would not
    have reached it (a cast of a value of the wrong type): the listing query then
    says what there is."""

    def none(test: str) -> bool:
        try:
            found = con.execute(f"SELECT EXISTS (SELECT 1 FROM {source} WHERE {test})").fetchone()
        except duckdb.Error:
            return False
        return found is not None and not found[0]

    return all(
        (check.quick is not None and none(check.quick)) or none(_screen(check.arms))
        for check in checked
    )


def _listed(
    con: duckdb.DuckDBPyConnection, rows_sql: str, count_sql: str, budget: int
) -> tuple[list[tuple], int]:
    """The first ``budget`` rows of a problem query, and how many it has in all (a
    count query only when the list is full)."""
    rows = con.execute(f"{rows_sql} LIMIT {budget}").fetchall()
    return rows, (scalar(con, count_sql) if len(rows) >= budget else len(rows))


def _duplicates(
    con: duckdb.DuckDBPyConnection, staged: Staged, column: Column, budget: int
) -> tuple[list[_Problem], int]:
    """Rows repeating a household_id (in the file) or a person_id (in a household:
    JSON nests members in their household's record, whose row they carry, so two
    households that share an id keep their members apart), and how many there are.
    A household_id of linked files is looked for in the whole file, other counties'
    households too: a county's run would join the members of both to one."""
    key = staged.family_of(column).text(staged.access(column))
    household = "_hid" if staged.linked else "_row"
    group = "_hid" if column.level is Level.HOUSEHOLD else f"{household}, _key"
    relation = staged.built[column.level]
    if staged.linked and column.level is Level.HOUSEHOLD:
        relation = f"(SELECT *, _row AS _pos FROM {ALL[Level.HOUSEHOLD]})"
    keyed = (
        f"(SELECT _row, _pos, _hid, {key} AS _key FROM {relation}) "
        "WHERE _key IS NOT NULL"
    )
    # grouped by a 64-bit hash of the key, a quarter faster at ten million members
    # than by the ids; the same ids hash alike, so nothing repeated is missed, and a
    # collision only costs the exact query below
    repeated = f"SELECT 1 FROM {keyed} GROUP BY hash({group}) HAVING count(*) > 1 LIMIT 1"
    if not con.execute(repeated).fetchall():
        return [], 0
    window = f"OVER (PARTITION BY {group} ORDER BY _row, _pos)"
    rows, total = _listed(
        con,
        f"SELECT _row, _pos, _key, first_row, first_pos FROM (SELECT *, row_number() "
        f"{window} AS n, first_value(_row) {window} AS first_row, first_value(_pos) "
        f"{window} AS first_pos FROM {keyed}) WHERE n > 1 ORDER BY _row, _pos",
        f"SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM {keyed} "
        f"GROUP BY {group} HAVING count(*) > 1)",
        budget,
    )
    found = [_Problem("duplicate", column, r[0], r[1], r[2], (r[3], r[4])) for r in rows]
    return found, total


def _orphans(
    con: duckdb.DuckDBPyConnection, level: Level, budget: int
) -> tuple[list[_Problem], int]:
    """Members or events whose household_id is missing or not in the households file,
    and how many there are."""
    column = Column("household_id", "户编号", level, TEXT)
    where = (
        f"FROM {ALL[level]} a WHERE _hid IS NULL OR NOT EXISTS "
        "(SELECT 1 FROM _jz_all_households h WHERE h._hid = a._hid)"
    )
    rows, total = _listed(
        con, f"SELECT _row, _hid {where} ORDER BY _row", f"SELECT count(*) {where}", budget
    )
    return [_Problem("orphan", column, row, None, hid) for row, hid in rows], total


# Where a household without members is shown: its members list (JSON), or its row of
# the households file (CSV, Parquet, DuckDB), whose members sit in another file.
_MEMBERS = Column("members", "家庭成员", Level.HOUSEHOLD, TEXT)
_HOUSEHOLD_ID = Column("household_id", "户编号", Level.HOUSEHOLD, TEXT)


def _memberless(
    con: duckdb.DuckDBPyConnection, staged: Staged, budget: int
) -> tuple[list[_Problem], int]:
    """Households with no member: no one's income to divide, no one to decide for;
    and how many there are. A household without a household_id is left out in linked
    input: it is E604 already, and no member could name it."""
    key = "_hid" if staged.linked else "_row"
    # against the distinct keys: a third of the time NOT EXISTS takes over every member
    members = f"(SELECT DISTINCT {key} AS _key FROM {staged.built[Level.MEMBER]})"
    where = (
        f"FROM {staged.built[Level.HOUSEHOLD]} h ANTI JOIN {members} m "
        f"ON m._key = h.{key} WHERE h.{key} IS NOT NULL"
    )
    rows, total = _listed(
        con, f"SELECT h._row, h._hid {where} ORDER BY h._row", f"SELECT count(*) {where}", budget
    )
    column = _HOUSEHOLD_ID if staged.linked else _MEMBERS
    return [_Problem("empty", column, row, None, hid) for row, hid in rows], total


def _reads_members(schema: Schema) -> bool:
    """Whether the rulebook declares a member field beyond the member's key: one that
    declares none (a DMN-imported decision over household values) decides a household
    without members, its member aggregates empty, so it is no E604 there."""
    return len(schema[Level.MEMBER]) > len(KEYS[Level.MEMBER])


def _members_match(con: duckdb.DuckDBPyConnection, staged: Staged) -> bool:
    """Whether every member names exactly one household of the file and every
    household has a member, asked in one pass when the questions are about the same
    rows (Parquet or DuckDB input, no county filter): the exact queries each build a
    hash table of ten million ids, this one builds one. False means something may be
    wrong, and the exact queries say what.

    Every member row is joined, not each household's distinct ids: a full join marks
    the households it matched, so the unmatched ones come out without grouping the
    members first (1.35 s against 2.35 s at ten million households). When nothing is
    unmatched and there are as many rows as members, no two households share an id
    either (a member would have matched both), so the repeated-id query is not run."""
    if staged.built[Level.MEMBER] != FAST[Level.MEMBER]:
        return False
    unmatched, rows, members = con.execute(
        "SELECT count(*) FILTER (WHERE h._hid IS NULL OR m._hid IS NULL), count(*), "
        f"(SELECT count(*) FROM {ALL[Level.MEMBER]}) "
        f"FROM (SELECT _hid FROM {ALL[Level.MEMBER]}) m "
        f"FULL JOIN (SELECT _hid FROM {ALL[Level.HOUSEHOLD]}) h ON h._hid = m._hid"
    ).fetchone() or (1, 0, 0)
    return unmatched == 0 and rows == members


def _link(staged: Staged, level: Level) -> list[Column]:
    """The household_id of a members or events file, checked as the households file's
    is when its Parquet or DuckDB column is not VARCHAR: DuckDB would cast a number to
    text and join member 1 to household "1", where household 1 itself is refused."""
    column = Column("household_id", "户编号", level, TEXT)
    found = staged.source_type(column) if staged.linked and level in LISTS else None
    if found is None or found == "VARCHAR":
        return []
    return [column]


def _problems(
    con: duckdb.DuckDBPyConnection,
    staged: Staged,
    schema: Schema,
    limits: _Limits,
    repeats: bool = True,
) -> tuple[list[_Problem], int]:
    """The first MAX_PROBLEMS problems in the input, and how many there are; person
    ids repeated within a household only with ``repeats``."""
    problems: list[_Problem] = []
    total = 0
    matched = staged.linked and _members_match(con, staged)
    for level, columns in schema.items():
        columns = columns + _link(staged, level)
        if columns:
            found, count = _value_problems(
                con, staged, columns, limits, MAX_PROBLEMS - len(problems)
            )
            problems, total = problems + found, total + count
        if staged.linked and level is not Level.HOUSEHOLD and not (matched and level is Level.MEMBER):
            orphans, count = _orphans(con, level, MAX_PROBLEMS - len(problems) + 1)
            problems, total = problems + orphans, total + count
    if not matched and _reads_members(schema):
        empty, count = _memberless(con, staged, MAX_PROBLEMS - len(problems) + 1)
        problems, total = problems + empty, total + count
    keys = (schema[Level.HOUSEHOLD][0], schema[Level.MEMBER][0])
    for column in keys if repeats else keys[:1]:
        if matched and column.level is Level.HOUSEHOLD:
            continue  # each member matched one household: no household id repeats
        repeated, count = _duplicates(con, staged, column, MAX_PROBLEMS - len(problems) + 1)
        problems, total = problems + repeated, total + count
        if repeated and staged.linked:
            break  # members join a repeated household by its id: they repeat too
    return problems[:MAX_PROBLEMS], total


# ---------------------------------------------------------------------------- messages


# A value found wrong: its code, what is said after the field, the hint (None: by type).
_FOUND = {
    "type": ("E603", "的类型不对", None),
    "float": (
        "E603",
        "是单精度浮点数（FLOAT）列，存不下准确的数值",
        (
            "FLOAT 只有约 7 位有效数字，15611.88 存成 15611.8798828125；"
            "请把该列存为 DECIMAL(18,2)、DOUBLE 或文本后重新导出"
        ),
    ),
    "value": ("E603", "的取值不在允许范围内", "核对拼写，使用约定的取值"),
    "range": (
        "E614",
        "的取值超出允许范围",
        "取值范围见省级工作簿「字段」表的下限、上限；核对数值和正负号",
    ),
}


def _diagnostic(problem: _Problem, places: Places, as_of: date | None) -> Diagnostic:
    column = problem.column
    where = places.locate(column, problem.row, problem.position)
    label = f"「{column.name_cn}」（{column.id}）"
    if problem.kind in VALUE_KINDS:
        return value_diagnostic(problem.kind, column, label, where, problem.found)
    # a value as quoted: an id may be 100,000 characters or hold control characters
    problem = replace(problem, found=quoted(problem.found))
    spreadsheet = places.source.format == "csv"
    expected = _expected(column, spreadsheet)
    if problem.kind == "missing" or (
        problem.kind == "orphan" and problem.found is None
    ):
        hint = (
            "每户须有户编号和区划代码，每个成员须有成员编号和出生日期，每个事件须有类型和日期；"
            "成员和事件须写明所属户编号"
        )
        return make("E604", f"缺少必填字段{label}", where, expected=expected, hint=hint)
    serial = (
        serial_diagnostic(label, where, problem.found, spreadsheet)
        if problem.kind == "type" and column.dtype.kind is Kind.DATE
        else None
    )
    if serial is not None:  # 45123, a date column Excel saved as numbers
        return serial
    if problem.kind == "type" and column.dtype.kind is Kind.DATE and _no_such_day(problem.found):
        return make(
            "E603",
            f"{label}的日期不存在",
            where,
            found=problem.found,
            expected=expected,
            hint="核对月份和日期（如 2 月没有 30 日，平年 2 月没有 29 日）",
        )
    if problem.kind in _FOUND:
        code, what, advice = _FOUND[problem.kind]
        if spreadsheet and problem.kind == "value" and column.dtype.kind is Kind.ENUM:
            advice = refused_hint(column, problem.found)  # 农村 in relation, say
        return make(
            code,
            f"{label}{what}",
            where,
            found=problem.found,
            expected=_bounds_text(column) if problem.kind == "range" else expected,
            hint=advice or _type_hint(column.dtype.kind, spreadsheet),
        )
    if problem.kind in ("early", "late"):
        return _date_diagnostic(problem, label, where, as_of)
    if problem.kind == "empty":
        return _memberless_diagnostic(problem, places, where)
    if problem.kind == "county":
        return make(
            "E606",
            f"未知的县（市、区）代码「{problem.found}」",
            where,
            found=problem.found,
            expected="已有决策表的县（市、区）的六位代码",
            hint="核对区划代码；新的县请先建立该县的工作簿",
        )
    if problem.kind == "duplicate":
        # the first is in the same file: its place inside it is enough
        first = places.locate(column, *(problem.first or (0, None))).cell
        scope = "同一文件" if column.level is Level.HOUSEHOLD else "同一家庭"
        return make(
            "E603",
            f"{label}重复出现",
            where,
            found=problem.found,
            expected=f"在{scope}内唯一",
            hint=f"与 {first} 重复；请合并或改正编号",
        )
    return make(
        "E603",
        f"找不到所属的家庭「{problem.found}」",
        where,
        found=problem.found,
        expected="家庭文件中已有的 household_id",
        hint="核对户编号，或补充该户的家庭数据",
    )


def _date_diagnostic(
    problem: _Problem, label: str, where: Location, as_of: date | None
) -> Diagnostic:
    """A birth before 1900-01-01 (E614), or a date after the decision date (E615)."""
    if problem.kind == "early":
        span = f"至决策日期 {as_of} 之间" if as_of is not None else "以后"
        return make(
            "E614",
            f"{label}早于 {EARLIEST_BIRTH}",
            where,
            found=problem.found,
            expected=f"{EARLIEST_BIRTH} {span}的日期，如 1980-05-01",
            hint=f"{EARLIEST_BIRTH.year} 年以前出生的人不会在世，多半是出生日期不详时"
            "填入的占位值（如 0001-01-01）；请填写真实的出生日期",
        )
    if (problem.column.level, problem.column.id) == BIRTH_DATE:
        example = "1980-05-01"
        hint = "出生日期晚于决策日期时年龄为负，无法认定；核对出生日期或决策日期"
    else:
        example = str(as_of.replace(day=1)) if as_of is not None else "2024-01-01"
        hint = (
            "现类别的认定不会始于决策日期之后，否则无法判断该户在决策日期是否已被认定；"
            "核对认定日期或决策日期"
        )
    return make(
        "E615",
        f"{label}晚于决策日期 {as_of}",
        where,
        found=problem.found,
        expected=f"不晚于决策日期 {as_of} 的日期，如 {example}",
        hint=hint,
    )


def _memberless_diagnostic(
    problem: _Problem, places: Places, where: Location
) -> Diagnostic:
    """A household with no member (E604): its income per head cannot be counted."""
    source = places.source
    if source.format in ("jsonl", "json"):
        expected = '至少一名成员，如 "members": [{"person_id": "P1", "birth_date": "1980-05-01"}]'
        hint = "补充该户的成员，或从文件中删去该户"
    else:
        name = source.file_of(Level.MEMBER).name
        inside = "members 表中" if source.format == "duckdb" else f"{name} 中"
        expected = f"{inside}至少有一行 household_id 为「{problem.found}」的成员" if (
            problem.found is not None
        ) else f"{inside}至少有一行该户的成员"
        hint = f"在 {inside}补充该户的成员，或删去该户；核对两处的户编号是否一致"
    # a household without an id (a JSON line `null` or `{}`) is named by its place
    named = f"家庭「{problem.found}」" if problem.found is not None else "该户"
    return make(
        "E604",
        f"{named}没有成员",
        where,
        found="0 名成员",
        expected=expected,
        hint=f"没有成员的家庭无法计算人均收入、认定类别；{hint}",
    )


def _expected(column: Column, spreadsheet: bool = False) -> str:
    """What a value of ``column`` should be, with an example; a CSV's enum values
    with their Chinese names, which it may hold instead (``households_enums``)."""
    kind = column.dtype.kind
    if (column.level, column.id) == (Level.HOUSEHOLD, "county_code"):
        return "六位行政区划代码，如 330106"
    if (column.level, column.id) == (Level.EVENT, "event.type"):
        return "事件类型，如 unemployment_registration"
    if kind is Kind.ENUM:
        listed = accepted(column) if spreadsheet else "、".join(column.dtype.values)
        return f"以下取值之一：{listed}"
    return f"{_KIND_CN[kind]}，如 {_EXAMPLES[kind]}"


def _bounds_text(column: Column) -> str:
    """What a bounded field holds, with an example inside the bounds."""
    lower, upper, kind = column.lower, column.upper, column.dtype.kind
    if lower is not None and upper is not None:
        span = f"{_shown(lower)} 至 {_shown(upper)} 之间的"
    elif lower is not None:
        span = f"不小于 {_shown(lower)} 的"
    else:
        span = f"不大于 {_shown(upper)} 的"
    example, typical = _EXAMPLES[kind], Decimal(_EXAMPLES[kind])
    if lower is not None and typical < lower:  # type: ignore[operator]
        example = _shown(lower)
    elif upper is not None and typical > upper:  # type: ignore[operator]
        example = _shown(upper)
    return f"{span}{_KIND_CN[kind]}，如 {example}"


def _shown(value: object) -> str:
    return format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)


_DATE_FORM = re.compile(r"[\"'「]*([0-9]{4})(?:-|/|年)([0-9]{1,2})(?:-|/|月)([0-9]{1,2})日?[\"'」]*")


def _no_such_day(found: object) -> bool:
    """A date written in a form the reader takes whose day does not exist (2025-02-29):
    said so, not "类型不对" with the form it already has."""
    match = _DATE_FORM.fullmatch(str(found).strip())
    if match is None:
        return False
    year, month, day = (int(g) for g in match.groups())
    try:
        date(year, month, day)
    except ValueError:
        return True
    return False


def _type_hint(kind: Kind, spreadsheet: bool = False) -> str:
    """How to write a value of ``kind``; a CSV (``spreadsheet``) also takes dates
    and thousands separators as Excel and WPS save them."""
    if kind in SCALES:
        places = f"最多 {SCALES[kind]} 位小数" if SCALES[kind] else "不带小数"
        if spreadsheet:
            return f"只写数字，{places}，千位分隔符每三位一个（如 15,611.88），不要带单位或文字说明"
        return f"只写数字，{places}，不要带单位、千位分隔符或文字说明"
    if kind is Kind.BOOLEAN:
        return "写 true 或 false（或 是/否）"
    if kind is Kind.TEXT:
        return (
            "写成文本：JSON 中加引号（如 \"H001\"），不要写成数字、列表或对象；"
            "Parquet 或 DuckDB 中用文本（VARCHAR）列"
        )
    if spreadsheet:
        return "写成 2025-04-07、2025/4/7 或 2025年4月7日，不要带时间"
    return "写成 YYYY-MM-DD，月和日写满两位，不要带时间"


def _raise_problems(
    problems: list[_Problem], total: int, staged: Staged, as_of: date | None
) -> None:
    if not problems and not staged.errors:
        return
    # a value the staging already refused (a JSON number a double changed, read
    # again exactly: households_numbers) is named once, as written, and where the
    # check lists it, in input order
    earlier = list(staged.errors)
    listed = []
    for diagnostic in (_diagnostic(p, staged.places, as_of) for p in problems):
        cell = diagnostic.location.cell
        same = next((d for d in earlier if d.location.cell == cell), None)
        if same is not None:
            earlier.remove(same)
        listed.append(same or diagnostic)
    diagnostics = earlier + listed
    if total > len(listed):
        rest = total - len(listed)
        diagnostics.append(
            make(
                "E605",
                f"问题过多，只列出前 {len(listed)} 处，另有 {rest} 处未列出",
                Location(file=str(staged.places.source.path)),
                hint="修正以上问题后重新运行，可看到其余问题",
            )
        )
    raise InputError(diagnostics)


__all__ = ["check", "defers_repeats", "repeated_members"]
