"""The model pass: sheets of cells become a typed Workbook, every problem a diagnostic.

``load_workbook`` reads one workbook (reader pass included) and returns the model with
the diagnostics found on the way; a cell that cannot be understood is reported with its
location and left out, so one pass reports every problem in the workbook. Cells the
compiler parses are read from their folded text; free text (notes, sources, the policy
basis, a table's title and annotations) keeps the text as typed (``Cell.verbatim``).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from compiler import normalise
from compiler.bind_types import value_shown
from compiler.calendar import FIRST_DAY, FIRST_YEAR, LAST_DAY, LAST_YEAR
from compiler.cells import Cell, RawSheet, RawWorkbook
from compiler.diagnostics import NOWHERE, Diagnostic, Location, Report
from compiler.expr import (
    Binary,
    Compare,
    Disjunction,
    Expr,
    Literal,
    ParseError,
    Test,
    children,
    parse_expression,
    parse_tests,
)
from compiler.model import (
    KIND_NAMES,
    LEVEL_NAMES,
    SCALES,
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
    Standard,
    StandardRow,
    Table,
    Workbook,
    WorkbookKind,
)
from compiler.read import read_workbook

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")

HIT_POLICIES: dict[str, tuple[HitPolicy, Aggregation | None]] = {}
for _names, _policy, _agg in (
    (("UNIQUE", "U", "唯一"), HitPolicy.UNIQUE, None),
    (("ANY", "A", "任一"), HitPolicy.ANY, None),
    (("PRIORITY", "P", "优先"), HitPolicy.PRIORITY, None),
    (("FIRST", "F", "首个"), HitPolicy.FIRST, None),
    (("RULE ORDER", "R", "规则顺序"), HitPolicy.RULE_ORDER, None),
    (("OUTPUT ORDER", "O", "输出顺序"), HitPolicy.OUTPUT_ORDER, None),
    (("COLLECT", "C", "收集"), HitPolicy.COLLECT, None),
    (("COLLECT SUM", "C+", "收集求和"), HitPolicy.COLLECT, Aggregation.SUM),
    (("COLLECT MIN", "C<", "收集最小"), HitPolicy.COLLECT, Aggregation.MIN),
    (("COLLECT MAX", "C>", "收集最大"), HitPolicy.COLLECT, Aggregation.MAX),
    (("COLLECT COUNT", "C#", "收集计数"), HitPolicy.COLLECT, Aggregation.COUNT),
):
    for _name in _names:
        HIT_POLICIES[_name] = (_policy, _agg)

COLUMN_KINDS = {
    "输入": "input",
    "input": "input",
    "输出": "output",
    "output": "output",
    "注释": "annotation",
    "annotation": "annotation",
}
TRUE_WORDS = {"是", "y", "yes", "true", "1", "√", "✓", "对"}

# Column headers of the list sheets, each with the synonyms people write.
COLUMNS = {
    "id": ("标识", "id", "identifier"),
    "name": ("名称", "name"),
    "value": ("值", "value", "取值"),
    "unit": ("单位", "unit"),
    "from": ("生效日期", "effective_from", "生效"),
    "until": ("失效日期", "effective_until", "失效"),
    "source": ("来源", "source"),
    "note": ("备注", "note", "说明"),
    "type": ("类型", "type"),
    "overridable": ("县可改", "overridable"),
    "lower": ("下限", "lower"),
    "upper": ("上限", "upper"),
    "verified": ("核实", "verified"),
    "level": ("层级", "level"),
    "default": ("默认", "default"),
    "expr": ("表达式", "expression"),
    "basis": ("依据", "basis", "注释"),
    "date": ("日期", "date"),
}
SHEETS = {
    "fields": ("字段", "fields"),
    "standards": ("标准参数", "standards"),
    "derived": ("派生值", "derived"),
    "calendar": ("日历", "calendar"),
}
MAX_TEXT = 2000


def load_workbook(path: str | Path, kind: WorkbookKind, report: Report) -> Workbook:
    """Read and model one workbook; problems go to ``report``."""
    raw, diagnostics = read_workbook(path)
    report.extend(without_notes_merges(raw, diagnostics))
    code, name = _code_and_name(Path(path), kind)
    workbook = Workbook(str(path), code, name, kind)
    workbook.sheet_names = tuple(sheet.name for sheet in raw.sheets)
    _Loader(raw, workbook, report).run()
    return workbook


# the reader's errors about the file itself: it is missing or cannot be opened (E001),
# it is no workbook or a damaged one (E002), a CSV in no encoding it reads (E003)
_UNREAD = frozenset({"E001", "E002", "E003"})


def said_unread(workbook: Workbook, report: Report) -> bool:
    """True when ``report`` already says why ``workbook`` gave no standards sheet: an
    E001-E003 about it or a file in it, when nothing of it was read or the file not
    read is its 标准参数 sheet. "No 标准参数 sheet" (E004) would only repeat it: a
    half-written .xlsx was E002 and E004, a UTF-16 CSV E003 and E004 (helper-82)."""
    root = Path(workbook.path)
    for said in report.errors:
        where = Path(said.location.file or "")
        if said.code not in _UNREAD or (where != root and where.parent != root):
            continue
        if not workbook.sheet_names or normalise.fold_text(where.stem) == SHEETS["standards"][0]:
            return True
    return False


def without_notes_merges(
    raw: RawWorkbook, diagnostics: list[Diagnostic]
) -> list[Diagnostic]:
    """The reader's ``diagnostics`` less E006 in sheets the compiler does not read: merged
    cells matter where cells are read one by one; a notes sheet's merged title (说明) is
    kept as written and blocks nothing (helper-57), in ``check`` as in the console."""
    notes = {sheet.name for sheet in raw.sheets if _is_notes(sheet)}
    return [d for d in diagnostics if d.code != "E006" or d.location.sheet not in notes]


def _code_and_name(path: Path, kind: WorkbookKind) -> tuple[str, str]:
    if kind is WorkbookKind.PROVINCE:
        return "330000", "浙江省"
    # 「３３０１０６-西湖区.xlsx」 typed with a Chinese input method: the code in ASCII
    # digits (\d alone also took them as they are, and no household matched)
    name = normalise.fold_text(path.stem if path.is_file() else path.name)
    match = re.match(r"^([0-9]{6})[-_ ]?(.*)$", name)
    if match:
        return match.group(1), match.group(2)
    return "", path.stem


@dataclass
class _Header:
    """The column positions of a list sheet, by column key."""

    columns: dict[str, int]
    row: int


class _Loader:
    def __init__(self, raw: RawWorkbook, workbook: Workbook, report: Report) -> None:
        self.raw = raw
        self.workbook = workbook
        self.report = report

    def run(self) -> None:
        handled: set[str] = set()
        for key, names in SHEETS.items():
            sheet = self.raw.sheet(*names)
            if sheet is None:
                continue
            handled.add(sheet.name)
            getattr(self, f"load_{key}")(sheet)
            for other in self.raw.sheets_named(*names)[1:]:
                handled.add(other.name)
                self.same_sheet_twice(sheet, other)
        for sheet in self.raw.sheets:
            if sheet.name in handled:
                continue
            original = _copied_list_sheet(sheet.name)
            if original is not None:
                self.copy_of_list_sheet(sheet, original)
                continue
            if _is_table(sheet):
                table = self.load_table(sheet)
                if table is not None:
                    self.workbook.tables.append(table)
            elif sheet.cells and sheet.name not in _WRITTEN_BY_EXPORT:
                self.workbook.other_sheets.append(_other_sheet(sheet))
            elif sheet.name in _WRITTEN_BY_EXPORT:
                self.check_exported_from(sheet)

    def same_sheet_twice(self, read: RawSheet, other: RawSheet) -> None:
        """E005 for a second sheet (a second CSV file) that means one already read:
        「标准参数.csv」 beside 「standards.csv」 would otherwise be dropped unread."""
        self.report.error(
            "E005",
            f"「{other.name}」与「{read.name}」是同一个工作表，只读了「{read.name}」",
            Location(self.raw.path, other.name),
            found=f"{read.name}、{other.name}",
            expected="只有一个",
            hint="合并两者的内容后删去其中一个（CSV 文件夹中删去多余的 .csv 文件）",
        )

    def copy_of_list_sheet(self, sheet: RawSheet, original: str) -> None:
        """E005 for 「标准参数 - 副本.csv」 or 「标准参数 (2)」: a copy saved beside the
        sheet, never read, whose edits (a new standard) would silently count for
        nothing (helper-57)."""
        self.report.error(
            "E005",
            f"「{sheet.name}」像是「{original}」的副本，不会被读取",
            Location(self.raw.path, sheet.name),
            found=sheet.name,
            expected=f"只有一个「{original}」",
            hint=f"把要保留的内容合并到「{original}」后删去副本",
        )

    def check_exported_from(self, sheet: RawSheet) -> None:
        """E013 for a workbook exported from another county's version (its 版本信息
        says 导出自 330106@2) saved under this county's name: its standards are the
        other county's, and publishing it would give them to this one (helper-45)."""
        code = self.workbook.code
        if self.workbook.kind is WorkbookKind.PROVINCE or not code:
            return
        # only the 导出自 row, its name and value folded as registry_origin reads them:
        # a 说明 naming another county's version is no origin (helper-122)
        rows = sorted(r for (r, c), cell in sheet.cells.items() if c == 1 and cell.text == "导出自")
        cell = sheet.cells.get((rows[0], 2)) if rows else None
        version = exported_version(cell.text) if cell is not None else None
        if cell is None or version is None or version[:6] == code:
            return
        self.report.error(
            "E013",
            f"工作簿按文件名是 {code} 的，却是从 {version} 导出的（见「{sheet.name}」表），"
            f"其中的标准是 {version[:6]} 的",
            cell.location,
            found=version,
            expected=f"{code} 自己的工作簿，或从 {code} 的版本导出的工作簿",
            hint=f"如确实要以它为 {code} 的工作副本，先删去「{sheet.name}」表并逐项核对标准；"
            f"否则用 jiuzhu export --county {code} --version N --out … 导出本县的版本",
        )

    # ------------------------------------------------------------ list sheets

    def header(self, sheet: RawSheet, required: tuple[str, ...]) -> _Header | None:
        columns: dict[str, int] = {}
        for col in range(1, sheet.max_col + 1):
            text = sheet.text(1, col).strip().lower()
            for key, synonyms in COLUMNS.items():
                if text in synonyms and key not in columns:
                    columns[key] = col
        missing = [COLUMNS[k][0] for k in required if k not in columns]
        if missing:
            self.report.error(
                "E209",
                f"工作表「{sheet.name}」的第 1 行缺少列：{'、'.join(missing)}",
                sheet.location(1, 1),
                expected=f"第 1 行为列名，包括 {'、'.join(COLUMNS[k][0] for k in required)}",
                hint="见 docs/table-format.md 第 2 节",
            )
            return None
        return _Header(columns, 1)

    def records(self, sheet: RawSheet, header: _Header) -> list[dict[str, Cell | None]]:
        found: list[dict[str, Cell | None]] = []
        for row in range(header.row + 1, sheet.max_row + 1):
            record = {key: sheet.get(row, col) for key, col in header.columns.items()}
            if any(cell is not None for cell in record.values()):
                record["_row"] = _RowMark(row)  # type: ignore[assignment]
                found.append(record)
        return found

    def load_fields(self, sheet: RawSheet) -> None:
        header = self.header(sheet, ("id", "level", "type"))
        if header is None:
            return
        for record in self.records(sheet, header):
            ident = self.identifier(record.get("id"), sheet, record)
            level = self.level(record.get("level"))
            dtype = self.dtype(record.get("type"))
            if ident is None or level is None or dtype is None:
                continue
            default = self.value(record.get("default"), dtype)
            lower = self.field_bound(record.get("lower"), dtype)
            upper = self.field_bound(record.get("upper"), dtype)
            if lower is not None and upper is not None and lower > upper:  # type: ignore[operator]
                self.report.error(
                    "E213",
                    f"字段「{ident}」的下限 {_text(record.get('lower'))} 高于上限"
                    f" {_text(record.get('upper'))}，任何取值都会被拒绝",
                    record["upper"].location,  # type: ignore[union-attr]
                    found=_text(record.get("upper")),
                    expected=f"不低于下限 {_text(record.get('lower'))} 的上限",
                    hint="核对两列是否写反",
                )
            outside = (lower is not None and default is not None and default < lower) or (  # type: ignore[operator]
                upper is not None and default is not None and default > upper  # type: ignore[operator]
            )
            if outside:  # a household that leaves the field out would get a value E614 refuses
                self.report.error(
                    "E213",
                    f"字段「{ident}」的默认值 {_text(record.get('default'))} 不在下限、上限之内",
                    record["default"].location,  # type: ignore[union-attr]
                    found=_text(record.get("default")),
                    expected=f"{_text(record.get('lower')) or '不限'} 至 {_text(record.get('upper')) or '不限'} 之间的默认值",
                    hint="家庭数据缺少该字段时按默认值计算；写在范围外的值在家庭数据中会被拒绝（E614）",
                )
            self.workbook.fields.append(
                Field(
                    ident,
                    _text(record.get("name")),
                    level,
                    dtype,
                    default,
                    _verbatim(record.get("note")),
                    record["id"].location,  # type: ignore[union-attr]
                    lower,
                    upper,
                )
            )

    def field_bound(self, cell: Cell | None, dtype: DType) -> object:
        """A field's 下限 or 上限: a number of the field's type, for a number field."""
        if cell is None or dtype.kind in SCALES:
            return self.value(cell, dtype)
        self.report.error(
            "E306",
            f"只有数值类字段可以写下限或上限，此字段的类型为 {dtype.render()}",
            cell.location,
            found=cell.text,
            expected="金额、数值、整数或百分比字段的下限或上限，如 0",
            hint="清空该单元格",
        )
        return None

    def load_standards(self, sheet: RawSheet) -> None:
        header = self.header(sheet, ("value", "from"))
        if header is None:
            return
        if "id" not in header.columns and "name" not in header.columns:
            self.report.error(
                "E209",
                f"工作表「{sheet.name}」缺少「标识」或「名称」列",
                sheet.location(1, 1),
                expected="第 1 行有「标识」列（如 dibao_standard）或「名称」列（如 低保标准）",
            )
            return
        by_key: dict[str, Standard] = {}
        for record in self.records(sheet, header):
            self.standard_row(record, sheet, by_key, header.columns["value"])
            if record.get("from") is None or not record["from"].text.strip():
                # an undated row was in force on every day and outranked the dated rows
                # after it, unseen by the overlap check (helper-43)
                self.report.error(
                    "E108",
                    "标准参数缺少生效日期",
                    sheet.location(_row_number(record), header.columns["from"]),
                    expected="该取值开始适用的日期，例如 2025-01-23",
                    hint="每一行都要写生效日期；不再适用的旧取值写上失效日期，或删除该行",
                )
        self.workbook.standards.extend(by_key.values())

    def standard_row(
        self,
        record: dict[str, Cell | None],
        sheet: RawSheet,
        by_key: dict[str, Standard],
        value_col: int,
    ) -> None:
        id_cell, name_cell = record.get("id"), record.get("name")
        ident = self.identifier(id_cell, sheet, record) if id_cell else None
        if id_cell is not None and ident is None:
            return
        name_cn = _text(name_cell)
        key = ident or name_cn
        if not key:
            self.missing(record, "id", sheet, "标识或名称", "dibao_standard 或 低保标准")
            return
        dtype = self.dtype(record.get("type")) if record.get("type") else None
        standard = by_key.get(key)
        if standard is None:
            standard = Standard(
                ident or "",
                name_cn,
                dtype or DType(Kind.NUMBER),
                location=(id_cell or name_cell).location,  # type: ignore[union-attr]
                name_location=name_cell.location if name_cell else NOWHERE,
            )
            standard.overridable = self.flag(record.get("overridable"), False)
            standard.declared = dtype is not None
            kind = standard.dtype
            standard.lower, standard.lower_text = self.bound(record.get("lower"), kind)
            standard.upper, standard.upper_text = self.bound(record.get("upper"), kind)
            by_key[key] = standard
        effective_from = self.date(record.get("from"))
        if effective_from is not None:
            self.within_calendar(effective_from, record["from"])  # type: ignore[arg-type]
        row = StandardRow(
            value=record.get("value"),  # converted once the type is known (resolve)
            effective_from=effective_from,
            effective_until=self.date(record.get("until")),
            unit=_text(record.get("unit")),
            source=_verbatim(record.get("source")),
            note=_verbatim(record.get("note")),
            verified=self.flag(record.get("verified"), True),
            location=_row_location(record, sheet),
            workbook=self.workbook.path,
            # the 值 cell, empty or not: what a problem with the value points at
            value_location=sheet.location(_row_number(record), value_col),
            undated=effective_from is None and bool(_text(record.get("from"))),
            from_location=_where(record.get("from")),
        )
        standard.rows.append(row)

    def load_derived(self, sheet: RawSheet) -> None:
        header = self.header(sheet, ("id", "level", "type", "expr"))
        if header is None:
            return
        for record in self.records(sheet, header):
            ident = self.identifier(record.get("id"), sheet, record)
            level = self.level(record.get("level"))
            dtype = self.dtype(record.get("type"))
            expr_cell = record.get("expr")
            if expr_cell is None:
                self.missing(record, "expr", sheet, "表达式", "round(家庭年收入 / 计入人数 / 12, 2)")
                continue
            expr = self.expression(expr_cell, dtype)
            if None in (ident, level, dtype, expr):
                continue
            self.workbook.derived.append(
                Derived(
                    ident,  # type: ignore[arg-type]
                    _text(record.get("name")),
                    level,  # type: ignore[arg-type]
                    dtype,  # type: ignore[arg-type]
                    expr,  # type: ignore[arg-type]
                    expr_cell.text,
                    _verbatim(record.get("basis")),
                    self.flag(record.get("overridable"), False),
                    record["id"].location,  # type: ignore[union-attr]
                    name_location=_where(record.get("name")),
                    level_location=_where(record.get("level")),
                    type_location=_where(record.get("type")),
                    expr_location=expr_cell.location,
                )
            )

    def load_calendar(self, sheet: RawSheet) -> None:
        header = self.header(sheet, ("date", "type"))
        if header is None:
            return
        for record in self.records(sheet, header):
            day = self.date(record.get("date"))
            kind_cell = record.get("type")
            kind = _text(kind_cell)
            if kind not in ("休息日", "补班", "holiday", "workday"):
                self.report.error(
                    "E107",
                    "日历的类型只能是「休息日」或「补班」",
                    kind_cell.location if kind_cell else _row_location(record, sheet),
                    found=kind,
                    expected="休息日 或 补班",
                )
                continue
            if day is not None:
                working = kind in ("补班", "workday")
                location = record["date"].location  # type: ignore[union-attr]
                self.workbook.calendar.append(
                    CalendarDay(day, working, _verbatim(record.get("note")), location)
                )

    # ------------------------------------------------------------ decision tables

    def load_table(self, sheet: RawSheet) -> Table | None:
        table_id = sheet.text(1, 1)
        if not IDENTIFIER.match(table_id):
            self.report.error(
                "E211",
                f"决策表「{sheet.name}」的 A1 应为表的标识（英文字母、数字、下划线）",
                sheet.location(1, 1),
                found=table_id or "（空）",
                expected="标识，例如 household_group",
            )
            return None
        policy = self.hit_policy(sheet)
        options = self.title_options(sheet)
        columns = self.columns(sheet)
        if policy is None or columns is None:
            return None
        inputs, outputs, annotation_col = columns
        level = LEVEL_NAMES.get(options.get("层级", options.get("level", "家庭")))
        if level is None:
            self.report.error(
                "E210",
                "决策表层级只能是 家庭、成员 或 事件",
                sheet.location(1, 4),
                found=options.get("层级"),
                expected="层级=家庭",
            )
            level = Level.HOUSEHOLD
        first_rule_row = 6 if sheet.text(5, 1) in ("默认", "default") else 5
        self.defaults(sheet, outputs)
        table = Table(
            table_id,
            sheet.verbatim(1, 2),
            policy[0],
            policy[1],
            level,
            [column for _, column in inputs],
            [column for _, column in outputs],
            [],
            annotation_header=(
                sheet.verbatim(3, annotation_col) if annotation_col else "注释"
            ),
            overridable=_true(options.get("县可改", options.get("overridable", ""))),
            accepted_gap=options.get("接受缺口") or options.get("accepted_gap"),
            location=sheet.location(1, 1),
            level_location=_option_cell(sheet, ("层级", "level")),
        )
        self.rules(sheet, table, inputs, outputs, annotation_col, first_rule_row)
        if not any(row >= first_rule_row for row, _ in sheet.cells):
            self.report.warn(
                "W201",
                f"决策表「{table_id}」没有规则"
                + ("，每户都得到默认行的结果" if first_rule_row == 6 else "，不会给出任何结果"),
                sheet.location(first_rule_row, 1),
                found="（空）",
                expected=f"从第 {first_rule_row} 行起每行一条规则",
            )
        if not table.outputs:
            self.report.error(
                "E205",
                f"决策表「{table_id}」没有输出列",
                sheet.location(2, 1),
                expected="第 2 行至少有一列写「输出」",
            )
            return None
        return table

    def hit_policy(self, sheet: RawSheet) -> tuple[HitPolicy, Aggregation | None] | None:
        text = " ".join(sheet.text(1, 3).upper().split())
        policy = HIT_POLICIES.get(text) or HIT_POLICIES.get(sheet.text(1, 3))
        if policy is None:
            self.report.error(
                "E202",
                "命中策略无法识别",
                sheet.location(1, 3),
                found=sheet.text(1, 3) or "（空）",
                expected="UNIQUE、ANY、PRIORITY、FIRST、RULE ORDER、OUTPUT ORDER、COLLECT"
                "（或 C+、C<、C>、C#），例如 FIRST",
            )
        return policy

    def title_options(self, sheet: RawSheet) -> dict[str, str]:
        options: dict[str, str] = {}
        for col in range(4, sheet.max_col + 1):
            text = sheet.text(1, col)
            key, sep, value = text.replace(":", "=").partition("=")
            if sep:
                options[key.strip()] = value.strip()
        return options

    def columns(
        self, sheet: RawSheet
    ) -> tuple[list[tuple[int, InputColumn]], list[tuple[int, OutputColumn]], int | None] | None:
        if sheet.text(3, 1) not in ("名称", "name") or sheet.text(4, 1) not in ("类型", "type"):
            self.report.error(
                "E201",
                "决策表的 A3 应为「名称」、A4 应为「类型」",
                sheet.location(3, 1),
                found=f"A3={sheet.text(3, 1) or '空'}，A4={sheet.text(4, 1) or '空'}",
                expected="见 docs/table-format.md 第 3 节的版式",
            )
            return None
        inputs: list[tuple[int, InputColumn]] = []
        outputs: list[tuple[int, OutputColumn]] = []
        annotation: int | None = None
        for col in range(2, sheet.max_col + 1):
            kind_text = sheet.text(2, col).lower()
            if not kind_text and not sheet.text(3, col):
                continue
            kind = COLUMN_KINDS.get(kind_text)
            if kind is None:
                self.report.error(
                    "E203",
                    "列种类只能是 输入、输出 或 注释",
                    sheet.location(2, col),
                    found=sheet.text(2, col) or "（空）",
                    expected="输入",
                )
                continue
            if kind == "annotation":
                annotation = annotation or col
                continue
            column = self.column(sheet, col, kind)
            if isinstance(column, InputColumn):
                inputs.append((col, column))
            elif isinstance(column, OutputColumn):
                outputs.append((col, column))
        return inputs, outputs, annotation

    def column(self, sheet: RawSheet, col: int, kind: str) -> InputColumn | OutputColumn | None:
        name_cell, type_cell = sheet.get(3, col), sheet.get(4, col)
        if name_cell is None:
            self.report.error(
                "E108",
                "列缺少名称",
                sheet.location(3, col),
                expected="输入列写输入的名称或表达式，输出列写输出的标识",
            )
            return None
        dtype = self.dtype(type_cell) if type_cell else None
        if type_cell is None:
            self.report.error(
                "E204", "列缺少类型", sheet.location(4, col), expected="类型，例如 money"
            )
        if dtype is None:
            return None
        if kind == "input":
            expr = self.expression(name_cell, dtype)
            return InputColumn(expr, name_cell.text, dtype, name_cell.location) if expr else None
        ident = self.identifier(name_cell, sheet, None)
        return OutputColumn(ident, dtype, None, name_cell.location) if ident else None

    def defaults(self, sheet: RawSheet, outputs: list[tuple[int, OutputColumn]]) -> None:
        if sheet.text(5, 1) not in ("默认", "default"):
            return
        for col, output in outputs:
            cell = sheet.get(5, col)
            if cell is not None:
                default = self.output_expression(cell, output.dtype, default=True)
                output.default = None if self.undeclared(default, output, cell) else default

    def undeclared(self, default: Expr | None, output: OutputColumn, cell: Cell) -> bool:
        """E107 for an enum output's default written as text that is none of its
        values (``"丙"`` under enum(甲,乙)): the rule rows' outputs are checked when
        bound, the default was not. Checked here, where workbooks are read, so that a
        published version holding one still decides with it (W705 when bound)."""
        values = output.dtype.values
        if output.dtype.kind is not Kind.ENUM or not values or not isinstance(default, Literal):
            return False
        if not isinstance(default.value, str) or default.value in values:
            return False
        self.report.error(
            "E107",
            f"输出列「{output.id}」的默认值「{default.value}」不是声明的取值之一",
            cell.location,
            found=default.value,
            expected="、".join(value_shown(v, values) for v in values),
            hint=f"默认值须写类型中列出的标识之一，如 {values[0]}；"
            "要增加取值，请把它加到第 4 行的 enum(…) 中",
        )
        return True

    def rules(
        self,
        sheet: RawSheet,
        table: Table,
        inputs: list[tuple[int, InputColumn]],
        outputs: list[tuple[int, OutputColumn]],
        annotation_col: int | None,
        first_row: int,
    ) -> None:
        seen: dict[str, int] = {}
        for row in range(first_row, sheet.max_row + 1):
            used = [c for c in [1, *[c for c, _ in inputs], *[c for c, _ in outputs]]]
            if all(sheet.get(row, c) is None for c in used):
                continue
            rule_id = sheet.text(row, 1) or f"R{row}"
            if sheet.get(row, 1) is None:
                self.report.error(
                    "E108",
                    "规则缺少编号",
                    sheet.location(row, 1),
                    expected="A 列写规则编号，例如 R1；编号用于比较版本，请勿重复使用",
                )
            if rule_id in seen:
                self.report.error(
                    "E206",
                    f"规则编号「{rule_id}」与第 {seen[rule_id]} 行重复",
                    sheet.location(row, 1),
                    found=rule_id,
                    expected="表内唯一的编号",
                )
            seen.setdefault(rule_id, row)
            table.rules.append(self.rule(sheet, row, rule_id, inputs, outputs, annotation_col))

    def rule(
        self,
        sheet: RawSheet,
        row: int,
        rule_id: str,
        inputs: list[tuple[int, InputColumn]],
        outputs: list[tuple[int, OutputColumn]],
        annotation_col: int | None,
    ) -> Rule:
        rule = Rule(rule_id, row, [], [], location=sheet.location(row, 1))
        for col, column in inputs:
            cell = sheet.get(row, col)
            rule.tests.append(self.test(cell, column))
            rule.test_texts.append(cell.text if cell else "-")
            rule.test_locations.append(sheet.location(row, col))
        for col, output in outputs:
            cell = sheet.get(row, col)
            if cell is None:
                expr: Expr | None = Literal(None)
            else:
                expr = self.output_expression(cell, output.dtype)
            rule.outputs.append(expr or Literal(None))
            rule.output_texts.append(cell.text if cell else "")
            rule.output_locations.append(sheet.location(row, col))
        if annotation_col:
            rule.annotation = sheet.verbatim(row, annotation_col)
        if not rule.annotation:
            self.report.warn(
                "W202",
                "规则缺少政策依据注释",
                sheet.location(row, annotation_col or 1),
                expected="注释列写明政策条款，例如 三(一)",
            )
        return rule

    # ------------------------------------------------------------ cells

    def test(self, cell: Cell | None, column: InputColumn) -> Test:
        if cell is None:
            return parse_tests("-")
        if column.dtype.kind is Kind.BOOLEAN and cell.text.lower() in _BOOL_WORDS:
            return parse_tests("是" if cell.text.lower() in TRUE_WORDS else "否")
        text = cell.text
        try:
            parsed = parse_tests(text)
        except ParseError as error:
            self.report.error(
                "E301",
                f"条件无法识别：{error.message}",
                cell.location,
                found=_clip(cell.text),
                expected="一元测试，例如 < 低保标准、[1000..1500)、是、-",
                hint=error.hint or "见 docs/table-format.md 第 5 节",
            )
            return parse_tests("-")
        span = _range_typed_as_difference(parsed)
        if span is not None:
            low, high = span
            self.report.error(
                "E301",
                f"条件「{_clip(text)}」会被读作「等于 {low - high}」，不是 {low} 到 {high} 之间",
                cell.location,
                found=_clip(text),
                expected=f"范围写成 [{low}..{high}]（含两端）或 [{low}..{high})（不含上端）",
                hint="确实要比较两数之差时，请先算出结果再填写",
            )
            return parse_tests("-")
        if not self.numbers_fit(parsed, column.dtype, cell):
            return parse_tests("-")
        return parsed

    def expression(self, cell: Cell, dtype: DType | None = None) -> Expr | None:
        """A cell's expression; None when it cannot be parsed or (given the type of
        what it computes) writes a number the type cannot hold, reported at the cell."""
        text = cell.text
        try:
            parsed = parse_expression(text)
        except ParseError as error:
            self.report.error(
                "E301",
                f"表达式无法识别：{error.message}",
                cell.location,
                found=_clip(cell.text),
                expected="表达式，例如 1.5 * 低保标准",
                hint=error.hint or "见 docs/table-format.md 第 5 节",
            )
            return None
        if dtype is not None and not self.numbers_fit(parsed, dtype, cell):
            return None
        return parsed

    def output_expression(
        self, cell: Cell, dtype: DType, default: bool = False
    ) -> Expr | None:
        """An output cell: an expression, or in a text column plain text as data. A
        bare ``-`` is refused (E301): it means any value in a condition cell only, and
        an output read as text would have given the text "-"."""
        if cell.text == "-":
            self.dash_output(cell, dtype, default)
            return None
        if dtype.kind in (Kind.TEXT, Kind.ENUM, Kind.LIST) and isinstance(cell.value, str):
            try:
                parsed = parse_expression(cell.text)
            except ParseError:
                return Literal(cell.text)
            return parsed if self.numbers_fit(parsed, dtype, cell) else None
        if dtype.kind is Kind.BOOLEAN and cell.text.lower() in _BOOL_WORDS:
            return Literal(cell.text.lower() in TRUE_WORDS)
        return self.expression(cell, dtype)

    def dash_output(self, cell: Cell, dtype: DType, default: bool) -> None:
        """E301 for ``-`` in an output cell (``default``: of the 默认 row): a county
        admin writes it for "any value" or "no value", as in condition cells, where it
        means any value."""
        blank = "不设默认值时留空或写 null" if default else "确实不给值时写 null"
        hints = ['要输出文字「-」时写 "-"（加英文引号）'] if dtype.kind is Kind.TEXT else []
        hints += [] if default else ["这条规则不适用时删除整行"]
        self.report.error(
            "E301",
            "输出单元格中的「-」没有含义：「-」只在输入（条件）单元格中表示「任意值」；"
            f"输出须写出取值或算式，{blank}",
            cell.location,
            found="-",
            expected="输出的取值或算式，如 是、dibao 或 低保标准 * 1.5",
            hint="；".join(hints) or None,
        )

    def numbers_fit(self, tree: Expr | Test, dtype: DType, cell: Cell) -> bool:
        """False, with an error at the cell, when a number written in it is more than
        the type of its column can hold (docs/table-format.md, section 4): 1 followed by
        45 zeros passed the check and stopped ``evaluate`` with DuckDB's own words."""
        problem = number_problem(tree, dtype.kind.value)
        if problem is not None:
            self.report.add(problem.diagnostic(cell.location))
        return problem is None

    def identifier(self, cell: Cell | None, sheet: RawSheet, record: object) -> str | None:
        if cell is None:
            return None
        if not IDENTIFIER.match(cell.text):
            self.report.error(
                "E211",
                "标识只能由英文字母、数字、下划线和点组成，且以字母开头",
                cell.location,
                found=cell.text,
                expected="例如 dibao_standard 或 assets.money",
            )
            return None
        return cell.text

    def level(self, cell: Cell | None) -> Level | None:
        level = LEVEL_NAMES.get(_text(cell).lower()) if cell else None
        if level is None:
            self.report.error(
                "E210",
                "层级只能是 家庭、成员 或 事件",
                cell.location if cell else Location(),
                found=_text(cell) or "（空）",
                expected="家庭",
            )
        return level

    def dtype(self, cell: Cell | None) -> DType | None:
        text = _text(cell)
        match = re.match(r"^(enum|枚举)\s*\((.*)\)$", text, re.IGNORECASE)
        if match:
            values = tuple(v.strip() for v in re.split(r"[,;|]", match.group(2)) if v.strip())
            if values:
                return DType(Kind.ENUM, values)
        kind = KIND_NAMES.get(text.lower())
        if kind is None or kind is Kind.ENUM:
            self.report.error(
                "E204",
                "类型无法识别",
                cell.location if cell else Location(),
                found=text or "（空）",
                expected="money、number、integer、percent、boolean、date、text、list 或 "
                "enum(a,b,c)，例如 money",
            )
            return None
        return DType(kind)

    def value(self, cell: Cell | None, dtype: DType) -> object:
        return convert(cell, dtype, self.report) if cell else None

    def date(self, cell: Cell | None) -> datetime.date | None:
        """A date cell's date; None when empty or unreadable (reported at the cell)."""
        value = convert(cell, DType(Kind.DATE), self.report) if cell else None
        return value if isinstance(value, datetime.date) else None

    def within_calendar(self, day: datetime.date, cell: Cell) -> None:
        """E408 for a 生效日期 outside the years decisions are made in (the working-day
        calendar's, which ``publish --effective`` takes): 45900 pasted into the console's
        date picker was saved as 1970-01-01 and offered for publishing (helper-89)."""
        if FIRST_DAY <= day <= LAST_DAY:
            return
        early = day < FIRST_DAY
        self.report.error(
            "E408",
            f"生效日期 {day} {'早于' if early else '晚于'} {FIRST_DAY if early else LAST_DAY}，"
            f"不在决策可用的 {FIRST_YEAR} 至 {LAST_YEAR} 年之间",
            cell.location,
            found=cell.text,
            expected=f"不早于 {FIRST_DAY}、不晚于 {LAST_DAY} 的日期，如 2025-01-23",
            hint=(
                "多为录入或粘贴错误，例如日期序号被读成了 1970 年；文件确在此前生效时，写 "
                f"{FIRST_DAY}" if early else "这一行不会用于任何决策，请核对年份"
            ),
        )

    def flag(self, cell: Cell | None, default: bool) -> bool:
        if cell is None:
            return default
        value = convert(cell, DType(Kind.BOOLEAN), self.report)
        return default if value is None else bool(value)

    def bound(self, cell: Cell | None, dtype: DType) -> tuple[Expr | None, str]:
        """A standard's 下限 or 上限, whose numbers the standard's type must hold: a
        bound of 99999999999999999999999 or with 30 decimals was compared silently,
        rounded to 28 digits (helper-72)."""
        if cell is None:
            return None, ""
        return self.expression(cell, dtype), cell.text

    def missing(
        self, record: dict[str, Cell | None], key: str, sheet: RawSheet, what: str, example: str
    ) -> None:
        self.report.error(
            "E108",
            f"缺少{what}",
            _row_location(record, sheet),
            expected=f"{what}，例如 {example}",
        )


class _RowMark:
    """Remembers a record's row number inside the record dict."""

    def __init__(self, row: int) -> None:
        self.row = row


_BOOL_WORDS = TRUE_WORDS | {"否", "n", "no", "false", "0", "×", "✗", "错"}


# how a cell's text is read as a value of each kind (text and lists are read as written)
VALUE_READERS = {
    Kind.MONEY: normalise.parse_money,
    Kind.NUMBER: normalise.parse_number,
    Kind.INTEGER: normalise.parse_integer,
    Kind.PERCENT: normalise.parse_percent,
    Kind.BOOLEAN: normalise.parse_bool,
    Kind.DATE: normalise.parse_date,
}


def convert(cell: Cell, dtype: DType, report: Report) -> object:
    """A cell's value as the type says, or None with a diagnostic at the cell."""
    parser = VALUE_READERS.get(dtype.kind)
    if parser is None:
        text = cell.text
        if dtype.kind is Kind.ENUM and text not in dtype.values:
            report.error(
                "E107",
                "取值不在枚举范围内",
                cell.location,
                found=text,
                expected="、".join(dtype.values),
            )
            return None
        return text
    try:
        return parser(cell)
    except normalise.ParseProblem as problem:
        report.error(
            problem.code,
            problem.message,
            cell.location,
            found=_clip(cell.text),
            expected=problem.expected,
            hint=problem.hint,
        )
        return None


def _is_table(sheet: RawSheet) -> bool:
    return sheet.text(2, 1) in ("规则", "rule") and bool(sheet.text(1, 1))


# what Excel, WPS and file managers add to a copy's name: 「标准参数 - 副本」,
# 「标准参数(2)」, 「Copy of standards」, 「standards - Copy (2)」
_COPY_MARKS = re.compile(
    r"^(?:copy of |副本[-_ ]?)?(?P<name>.+?)(?:\s*[-_]?\s*(?:副本|copy)\s*(?:\(\d+\))?|\s*[（(]\d+[)）])?$",
    re.IGNORECASE,
)


def _copied_list_sheet(name: str) -> str | None:
    """The list sheet a sheet named like a copy of it copies, else None."""
    match = _COPY_MARKS.match(name.strip())
    if match is None or match["name"].strip() == name.strip():
        return None
    wanted = match["name"].strip().casefold()
    for names in SHEETS.values():
        if wanted in (n.casefold() for n in names):
            return names[0]
    return None


def _is_notes(sheet: RawSheet) -> bool:
    """A sheet that is neither a list sheet nor a decision table: kept, not read."""
    listed = {name.casefold() for names in SHEETS.values() for name in names}
    return sheet.name.strip().casefold() not in listed and not _is_table(sheet)


def _where(cell: Cell | None) -> Location:
    return cell.location if cell is not None else NOWHERE


def _option_cell(sheet: RawSheet, keys: tuple[str, ...]) -> Location:
    """The title-row cell that writes ``key=value`` for one of ``keys``, or NOWHERE."""
    for col in range(4, sheet.max_col + 1):
        key, sep, _ = sheet.text(1, col).replace(":", "=").partition("=")
        if sep and key.strip() in keys:
            return sheet.location(1, col)
    return NOWHERE


def _text(cell: Cell | None) -> str:
    return cell.text.strip() if cell else ""


# export.INFO_SHEET: every export writes it anew, so it is not kept as the county's own
_WRITTEN_BY_EXPORT = ("版本信息",)
# how that sheet names the version a workbook was exported from (导出自 330106@2)
_EXPORTED_VERSION = re.compile(r"(?<![0-9])[0-9]{6}@[0-9]+")


def exported_version(text: str) -> str | None:
    """The version label a 版本信息 cell names (``330106@2``), if any; the loader
    (E013) and the console's upload check both read it so."""
    found = _EXPORTED_VERSION.search(text)
    return found.group(0) if found else None


def _other_sheet(sheet: RawSheet) -> OtherSheet:
    """A sheet the compiler does not read (说明), its cells as typed, its merges kept."""
    rows = [[c.verbatim if c else "" for c in row] for row in sheet.rows()]
    return OtherSheet(sheet.name, rows, list(sheet.merged_ranges))


def _verbatim(cell: Cell | None) -> str:
    """Free text (备注, 来源, 依据, 说明) as the admin typed it: never folded."""
    return cell.verbatim if cell else ""


def _true(text: str) -> bool:
    return text.strip().lower() in TRUE_WORDS


def _range_typed_as_difference(test: Test) -> tuple[Decimal, Decimal] | None:
    """``1000-2000``, as a range is typed in a spreadsheet: a test of equality with one
    number less another, which no one means."""
    items = test.tests if isinstance(test, Disjunction) else (test,)
    for item in items:
        if (
            isinstance(item, Compare) and item.op == "="
            and isinstance(item.operand, Binary) and item.operand.op == "-"
            and isinstance(item.operand.left, Literal) and isinstance(item.operand.right, Literal)
            and isinstance(item.operand.left.value, Decimal)
            and isinstance(item.operand.right.value, Decimal)
        ):
            return item.operand.left.value, item.operand.right.value
    return None


def number_problem(tree: Expr | Test, kind: str) -> normalise.ParseProblem | None:
    """Why a number written in ``tree`` cannot be computed with where a value of type
    ``kind`` (``"money"``...; any other word: the widest numeric type) is expected, or
    None: too large for the type, or more decimals than any type keeps."""
    for number in _numbers(tree):
        amount = number.value
        assert isinstance(amount, Decimal)
        problem = normalise.literal_problem(kind, amount, _as_written(number))
        if problem is not None:
            return problem
    return None


def _numbers(tree: Expr | Test) -> list[Literal]:
    """The numbers written in a cell's tree, in no particular order."""
    found, pending = [], [tree]
    while pending:  # no recursion: a tree may be MAX_DEPTH levels deep
        node = pending.pop()
        if isinstance(node, Literal):
            if isinstance(node.value, Decimal):
                found.append(node)
        else:
            pending.extend(children(node))  # type: ignore[arg-type]
    return found


def _as_written(number: Literal) -> str:
    """A number as the cell wrote it, unit and all: ``1.5万元``, ``35%``, ``1000``."""
    value = number.value
    assert isinstance(value, Decimal)
    if not number.unit.startswith(("%", "万")):
        return _clip(f"{value:f}{number.unit}")
    sign, digits, exponent = value.as_tuple()
    shift = 2 if number.unit == "%" else -4  # undone exactly: no rounding to 28 digits
    shown = f"{Decimal((sign, digits, int(exponent) + shift)):f}"
    if "." in shown:
        shown = shown.rstrip("0").rstrip(".")
    return _clip(shown + number.unit)


def _clip(text: str) -> str:
    """A cell's text as a message quotes it: invisible characters shown (<U+0007>)."""
    text = normalise.show_controls(text)
    return text if len(text) <= 80 else text[:77] + "..."


def _row_location(record: Mapping[str, object], sheet: RawSheet) -> Location:
    return sheet.location(_row_number(record), 1)


def _row_number(record: Mapping[str, object]) -> int:
    mark = record.get("_row")
    return mark.row if isinstance(mark, _RowMark) else 1
