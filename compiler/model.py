"""The typed table model: what a workbook means once its cells are read and parsed.

Everything after the model pass (validation, analysis, the interpreter, the SQL
compiler, the registry) works on these classes and never looks at cells again; every
object keeps the Location of the cell it came from, for messages and traces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from compiler.diagnostics import NOWHERE, Location
from compiler.expr import Expr, Test


class Level(StrEnum):
    HOUSEHOLD = "household"
    MEMBER = "member"
    EVENT = "event"


LEVEL_NAMES = {
    "家庭": Level.HOUSEHOLD,
    "household": Level.HOUSEHOLD,
    "成员": Level.MEMBER,
    "member": Level.MEMBER,
    "事件": Level.EVENT,
    "event": Level.EVENT,
}
LEVEL_CN = {Level.HOUSEHOLD: "家庭", Level.MEMBER: "成员", Level.EVENT: "事件"}


class Kind(StrEnum):
    MONEY = "money"
    NUMBER = "number"
    INTEGER = "integer"
    PERCENT = "percent"
    BOOLEAN = "boolean"
    DATE = "date"
    TEXT = "text"
    ENUM = "enum"
    LIST = "list"


KIND_NAMES = {
    "money": Kind.MONEY,
    "金额": Kind.MONEY,
    "number": Kind.NUMBER,
    "数值": Kind.NUMBER,
    "integer": Kind.INTEGER,
    "整数": Kind.INTEGER,
    "percent": Kind.PERCENT,
    "百分比": Kind.PERCENT,
    "boolean": Kind.BOOLEAN,
    "是否": Kind.BOOLEAN,
    "布尔": Kind.BOOLEAN,
    "date": Kind.DATE,
    "日期": Kind.DATE,
    "text": Kind.TEXT,
    "文本": Kind.TEXT,
    "enum": Kind.ENUM,
    "枚举": Kind.ENUM,
    "list": Kind.LIST,
    "列表": Kind.LIST,
}

NUMERIC = frozenset({Kind.MONEY, Kind.NUMBER, Kind.INTEGER, Kind.PERCENT})
SCALES = {Kind.MONEY: 2, Kind.NUMBER: 4, Kind.PERCENT: 6, Kind.INTEGER: 0}


@dataclass(frozen=True, slots=True)
class DType:
    """A column's or value's type; an enum lists its values in priority order."""

    kind: Kind
    values: tuple[str, ...] = ()

    @property
    def is_numeric(self) -> bool:
        return self.kind in NUMERIC

    @property
    def scale(self) -> int | None:
        return SCALES.get(self.kind)

    def render(self) -> str:
        if self.kind is Kind.ENUM:
            return f"enum({','.join(self.values)})"
        return str(self.kind)


class HitPolicy(StrEnum):
    UNIQUE = "UNIQUE"
    ANY = "ANY"
    PRIORITY = "PRIORITY"
    FIRST = "FIRST"
    RULE_ORDER = "RULE ORDER"
    OUTPUT_ORDER = "OUTPUT ORDER"
    COLLECT = "COLLECT"

    @property
    def single_hit(self) -> bool:
        return self in (HitPolicy.UNIQUE, HitPolicy.ANY, HitPolicy.PRIORITY, HitPolicy.FIRST)


class Aggregation(StrEnum):
    SUM = "SUM"
    MIN = "MIN"
    MAX = "MAX"
    COUNT = "COUNT"


@dataclass
class Field:
    """A household, member or event input field of the contract."""

    id: str
    name_cn: str
    level: Level
    dtype: DType
    default: object = None
    note: str = ""
    location: Location = NOWHERE
    # the least and greatest value the contract allows (字段 sheet's 下限, 上限); a
    # household value outside them is refused (E614)
    lower: object = None
    upper: object = None


@dataclass
class StandardRow:
    """One period of a standard's value, as one row of a 标准参数 sheet."""

    value: object
    effective_from: date | None
    effective_until: date | None
    unit: str = ""
    source: str = ""
    note: str = ""
    verified: bool = True
    location: Location = NOWHERE  # the row (its first cell)
    workbook: str = ""
    value_location: Location = NOWHERE  # the 值 cell, where it was read from a sheet
    unreadable: bool = False  # its 值 could not be read (reported there): not "no value"
    undated: bool = False  # its 生效日期 could not be read (E102 there): no period to check
    # an error at its cells refused it (E402, E403, an unreadable value or date ...): it
    # gives no value to anybody's decisions or bounds, only its own cells are checked
    refused: bool = False
    written: str = ""  # the 值 cell as typed, for messages about a value not read
    from_location: Location = NOWHERE  # the 生效日期 cell, where it was read from a sheet

    @property
    def value_at(self) -> Location:
        """Where a problem with the value is shown: its 值 cell, else the row."""
        return self.value_location if self.value_location != NOWHERE else self.location

    def in_force(self, day: date) -> bool:
        starts = self.effective_from is None or self.effective_from <= day
        return starts and (self.effective_until is None or day <= self.effective_until)


@dataclass
class Standard:
    """A named parameter (dibao_standard, marginal_multiplier, ...) with dated values."""

    id: str
    name_cn: str
    dtype: DType
    rows: list[StandardRow] = field(default_factory=list)
    overridable: bool = False
    lower: Expr | None = None
    upper: Expr | None = None
    lower_text: str = ""
    upper_text: str = ""
    location: Location = NOWHERE
    declared: bool = False  # the sheet gave its type (a province row, or a new county one)
    name_location: Location = NOWHERE  # the 名称 cell, where a clash of names is shown

    def row_on(self, day: date) -> StandardRow | None:
        """The row in force on ``day``, in precedence order; a refused row never is."""
        for row in self.rows:
            if not row.refused and row.in_force(day):
                return row
        return None


@dataclass
class Derived:
    """A named expression computed for every household, member or event."""

    id: str
    name_cn: str
    level: Level
    dtype: DType
    expr: Expr
    text: str
    basis: str = ""
    overridable: bool = False
    location: Location = NOWHERE
    # the 名称, 层级 and 类型 cells, where a clash of names or a replacement that
    # changes the level or type is shown, and the 表达式 cell, where an amount mixed
    # with a share is (NOWHERE when not read from a sheet)
    name_location: Location = NOWHERE
    level_location: Location = NOWHERE
    type_location: Location = NOWHERE
    expr_location: Location = NOWHERE


@dataclass
class InputColumn:
    expr: Expr
    text: str
    dtype: DType
    location: Location = NOWHERE


@dataclass
class OutputColumn:
    id: str
    dtype: DType
    default: Expr | None = None
    location: Location = NOWHERE


@dataclass
class Rule:
    """One row of a decision table: a test per input, an expression per output."""

    id: str
    row: int
    tests: list[Test]
    outputs: list[Expr]
    annotation: str = ""
    test_texts: list[str] = field(default_factory=list)
    output_texts: list[str] = field(default_factory=list)
    test_locations: list[Location] = field(default_factory=list)
    output_locations: list[Location] = field(default_factory=list)
    location: Location = NOWHERE


@dataclass
class Table:
    """A decision table: inputs, outputs, a hit policy and its rules in order."""

    id: str
    title: str
    hit_policy: HitPolicy
    aggregation: Aggregation | None
    level: Level
    inputs: list[InputColumn]
    outputs: list[OutputColumn]
    rules: list[Rule]
    annotation_header: str = "注释"
    overridable: bool = False
    accepted_gap: str | None = None
    location: Location = NOWHERE
    level_location: Location = NOWHERE  # the 层级=… title cell, where one was written

    @property
    def policy_text(self) -> str:
        if self.aggregation:
            return f"{self.hit_policy} {self.aggregation}"
        return str(self.hit_policy)


@dataclass
class CalendarDay:
    day: date
    working: bool  # True: a make-up working day (补班); False: a holiday (休息日)
    note: str = ""
    location: Location = NOWHERE


@dataclass
class OtherSheet:
    """A sheet the compiler does not read (说明 and the like), kept so that a published
    version exports it again: its cells' texts as typed, row by row ("" when empty),
    and its merged ranges (``A1:H1``, a title across the page) as the reader found them."""

    name: str
    rows: list[list[str]] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)


class WorkbookKind(StrEnum):
    PROVINCE = "province"
    CITY = "city"
    COUNTY = "county"


@dataclass
class Workbook:
    """One workbook as written: province defaults, a city's or a county's overrides."""

    path: str
    code: str
    name: str
    kind: WorkbookKind
    fields: list[Field] = field(default_factory=list)
    standards: list[Standard] = field(default_factory=list)
    derived: list[Derived] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    calendar: list[CalendarDay] = field(default_factory=list)
    other_sheets: list[OtherSheet] = field(default_factory=list)
    sheet_names: tuple[str, ...] = ()  # every sheet of the file read, in its order


@dataclass
class RuleBook:
    """Everything that decides for one county: the province's tables with the city's
    and the county's overrides applied, ready to check, interpret or compile."""

    county_code: str
    county_name: str
    fields: dict[str, Field]
    standards: dict[str, Standard]
    derived: dict[str, Derived]
    tables: dict[str, Table]
    calendar: list[CalendarDay]
    sources: list[str] = field(default_factory=list)
    other_sheets: list[OtherSheet] = field(default_factory=list)  # the county's own
    # the province's tables a city or county replaced, by id: what a replacement is
    # compared with (compiler/replacement.py)
    replaced: dict[str, Table] = field(default_factory=dict)
    # the registry's label (330106@2) of a published version read back, None for the
    # working copy: checks added after publishing warn on it (docs/versions.md)
    published: str | None = None

    def standard_value(self, name: str, day: date) -> object:
        standard = self.standards.get(name)
        row = standard.row_on(day) if standard else None
        return row.value if row else None


def money(value: Decimal | int | str) -> Decimal:
    """A value as yuan with two decimals (the literal form used in tests and docs)."""
    return Decimal(value).quantize(Decimal("0.01"))
