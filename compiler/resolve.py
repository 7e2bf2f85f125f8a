"""The resolve pass: province, city and county workbooks become one RuleBook per county.

``load_tables`` reads a tables folder (``province/``, ``cities/``, ``counties/``);
``rulebook_for`` layers them for one county. A standard's rows are kept in precedence
order (county, then city, then province), so the first row in force on a date is the
one that applies; a county table or derived value replaces the province's only where
the province allows it.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from compiler.cells import Cell
from compiler.diagnostics import Location, Report
from compiler.errors import ValidationFailed
from compiler.load import convert, load_workbook, said_unread
from compiler.model import (
    CalendarDay,
    Derived,
    DType,
    Field,
    Rule,
    RuleBook,
    Standard,
    StandardRow,
    Table,
    Workbook,
    WorkbookKind,
)
from compiler.name_clash import check_names
from compiler.normalise import fold_text
from compiler.read import OTHER_SPREADSHEETS, not_a_workbook, passed_over
from compiler.replacement import Layers, check_derived, check_table

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")


@dataclass
class Tables:
    """Every workbook of a tables folder, as read."""

    root: Path
    province: Workbook
    cities: dict[str, Workbook] = field(default_factory=dict)
    counties: dict[str, Workbook] = field(default_factory=dict)

    def county_codes(self) -> list[str]:
        return sorted(self.counties)

    def city_of(self, county_code: str) -> Workbook | None:
        return self.cities.get(county_code[:4] + "00")


def load_tables(root: str | Path, report: Report) -> Tables:
    """Read the province, city and county workbooks under ``root``."""
    root = Path(root)
    province_path = _province_path(root, report)
    if not province_path.exists():  # said once (E001), not again by the reader
        return Tables(root, Workbook(str(province_path), "330000", "浙江省", WorkbookKind.PROVINCE))
    province = load_workbook(province_path, WorkbookKind.PROVINCE, report)
    _check_unique(province, report)
    _check_outputs(province, report)
    _type_standards(province, {}, report)
    tables = Tables(root, province)
    for kind, folder, target in (
        (WorkbookKind.CITY, "cities", tables.cities),
        (WorkbookKind.COUNTY, "counties", tables.counties),
    ):
        for path in _workbook_paths(root / folder, report):
            workbook = load_workbook(path, kind, report)
            if path.suffix.lower() in OTHER_SPREADSHEETS:
                continue  # E002: to be saved again as .xlsx, not skipped unsaid
            if not workbook.code:
                report.error(
                    "E109",
                    "工作簿文件名应以六位行政区划代码开头",
                    Location(str(path)),
                    found=path.name,
                    expected="例如 330106-西湖区.xlsx",
                )
                continue
            if workbook.code in target:
                report.error(
                    "E009",
                    f"与 {Path(target[workbook.code].path).name} 的区划代码相同",
                    Location(str(path)),
                    found=path.name,
                    expected="每个区划代码只有一个工作簿",
                    hint="删除或移走多余的副本；两个都保留时无法确定以哪个为准",
                )
                continue
            _check_recognised(workbook, report)
            _check_unique(workbook, report)
            _check_outputs(workbook, report)
            _type_standards(workbook, _standards_by_key(province), report)
            target[workbook.code] = workbook
    return tables


def declared_fields(root: str | Path) -> dict[str, Field]:
    """The household, member and event fields the province workbook declares, by id.

    Only the province workbook is read: it alone declares fields (``rulebook_for``
    gives every county the same), and a reader of household input needs them before
    it knows the counties. The workbook's problems are left for ``load_tables``,
    unless it declares no field because it could not be read at all (E001 and the like).
    """
    report = Report()
    path = _province_path(Path(root), report)
    if not path.exists():
        raise ValidationFailed(report.errors)
    province = load_workbook(path, WorkbookKind.PROVINCE, report)
    if not province.fields and report.has_errors:
        raise ValidationFailed(report.errors)
    return {f.id: f for f in province.fields}


def _check_unique(workbook: Workbook, report: Report) -> None:
    """E207 for a field, derived value or decision table that one workbook defines
    twice: a copied sheet or CSV file (「work_capacity - 副本.csv」 saved beside the
    original), a row pasted twice. Layering keeps one of the two by the order of the
    files, silently; which one decides must not depend on how names sort."""
    for what, items in (("字段", workbook.fields), ("派生值", workbook.derived), ("决策表", workbook.tables)):
        first: dict[str, Location] = {}
        for item in items:
            if item.id not in first:
                first[item.id] = item.location
                continue
            report.error(
                "E207",
                f"{what}「{item.id}」重复定义",
                item.location,
                found=item.id,
                expected=f"同一工作簿中每个{what}只定义一次",
                hint=f"另一处在 {first[item.id].render()}；删除多余的一处（如另存的副本文件或重复粘贴的行）",
            )


def _check_outputs(workbook: Workbook, report: Report) -> None:
    """E214 for a rule row with an empty output cell: the rule, when it fires, gives
    no value, silently. A row holding only its id (a placeholder) fires for everybody,
    and under FIRST it hid every rule below it with an empty result (helper-112). An
    input cell left empty means any value (docs/table-format.md, section 5); an output
    has no such reading, so a missing value is written ``null``. Checked on the working
    copy's workbooks only: a version published before is decided as it was."""
    for table in workbook.tables:
        for rule in table.rules:
            empty = [k for k, text in enumerate(rule.output_texts) if not text.strip()]
            if empty and len(rule.output_locations) == len(rule.output_texts):
                _warn_empty_output(table, rule, empty, report)


def _warn_empty_output(table: Table, rule: Rule, empty: list[int], report: Report) -> None:
    names = "、".join(f"「{table.outputs[k].id}」" for k in empty)
    placeholder = len(empty) == len(rule.outputs) and all(
        text.strip() in ("", "-") for text in rule.test_texts
    )
    also = "；这一行只有规则编号，没有条件，任何记录都会命中它" if placeholder else ""
    report.error(
        "E214",
        f"决策表「{table.id}」规则「{rule.id}」的输出{names}为空：规则没有输出，"
        f"命中时结果为空{also}",
        rule.output_locations[empty[0]],
        found="（空）",
        expected="输出的取值或算式，如 是、dibao 或 低保标准 * 1.5；确实不给值时写 null",
        hint="填写输出；这一行只是占位时删除整行",
        rule=rule.id,
        table=table.id,
    )


def _check_recognised(workbook: Workbook, report: Report) -> None:
    """A city or county workbook that holds neither standards nor tables was most
    likely renamed or mis-saved; ignoring it would silently drop the county's rules."""
    if workbook.standards or workbook.tables or workbook.derived:
        return
    if any(name.strip() == "标准参数" for name in workbook.sheet_names):
        return  # the sheet is there, it only has no rows yet
    if said_unread(workbook, report):
        return  # E001-E003 said why: the file, not a renamed sheet
    report.error(
        "E004",
        "工作簿中没有「标准参数」工作表或决策表",
        Location(workbook.path),
        found="、".join(workbook.sheet_names) or "（没有工作表）",
        expected="名为「标准参数」的工作表（可以只有表头），或按格式排版的决策表",
        hint="检查工作表是否被改名（例如 Sheet1）",
    )


def _province_path(root: Path, report: Report) -> Path:
    folder = root / "province"
    if not root.is_dir():
        report.error(
            "E001",
            f"找不到决策表文件夹「{root}」",
            Location(str(root)),
            expected="放有 province/、counties/ 等子文件夹的决策表文件夹，如 tables",
            hint="检查路径是否写对；在项目文件夹中运行时可省略（默认 tables）",
        )
        return folder
    if not folder.exists():
        report.error(
            "E001",
            "找不到省级工作簿",
            Location(str(folder)),
            expected="tables/province/ 文件夹（CSV 文件或一个 .xlsx）",
        )
        return folder
    workbooks = [p for p in folder.iterdir() if p.suffix.lower() in WORKBOOK_SUFFIXES]
    return workbooks[0] if len(workbooks) == 1 else folder


def _workbook_paths(folder: Path, report: Report) -> list[Path]:
    """The workbooks of a counties or cities folder, to be read; any other file is
    E002 there, unless it is clutter (lock files, Thumbs.db, notes: read.passed_over)."""
    if not folder.is_dir():
        return []
    paths = []
    for path in sorted(folder.iterdir()):
        if passed_over(path):
            continue
        if path.suffix.lower() in (*WORKBOOK_SUFFIXES, *OTHER_SPREADSHEETS) or path.is_dir():
            paths.append(path)  # an .xls and the like is E002 when read, said as such
        else:
            report.add(not_a_workbook(path))
    return paths


def _standards_by_key(workbook: Workbook) -> dict[str, Standard]:
    found: dict[str, Standard] = {}
    for standard in workbook.standards:
        found[standard.id] = standard
        if standard.name_cn:
            found.setdefault(standard.name_cn, standard)
    return found


def _type_standards(workbook: Workbook, province: dict[str, Standard], report: Report) -> None:
    """Convert each row's value cell with the standard's type (the province's, for a
    city or county row), and check the override is allowed. A row an error refuses
    is marked so (StandardRow.refused): it decides nothing and bounds nobody."""
    for standard in workbook.standards:
        base = province.get(standard.id) or province.get(standard.name_cn)
        refused = False
        if base is not None and workbook.kind is not WorkbookKind.PROVINCE:
            refused = _check_name(standard, base, province.get(standard.name_cn), report)
        if base is not None:
            standard.id, standard.dtype = base.id, base.dtype
            standard.name_cn = standard.name_cn or base.name_cn
            if not base.overridable:
                refused = True
                report.error(
                    "E402",
                    f"标准参数「{base.name_cn or base.id}」由省级统一规定，县市不能覆盖",
                    standard.location,
                    found=standard.id,
                    expected="删除该行，或请省级维护人员在省级工作簿中将其标为 县可改=是",
                )
        elif workbook.kind is not WorkbookKind.PROVINCE and not standard.declared:
            refused = True
            report.error(
                "E302",
                f"标准参数「{standard.id or standard.name_cn}」在省级工作簿中没有定义",
                standard.location,
                found=standard.id or standard.name_cn,
                expected="省级 标准参数 表中已有的标识或名称；新增本县的标准参数时须写明 类型",
                hint="检查拼写",
            )
        reference = _reference_unit(base or standard)
        for row in standard.rows:
            # no start date is E108 or E102 at its cell: in force every day otherwise
            row.refused = refused or row.effective_from is None
            row.written = row.value.text if isinstance(row.value, Cell) else row.written
            if _unit_contradicted(row, reference, report):
                row.value, row.unreadable, row.refused = None, True, True
                continue
            read = _row_value(row.value, standard.dtype, report)
            row.unreadable = isinstance(row.value, Cell) and read is None and bool(row.value.text.strip())
            row.refused = row.refused or row.unreadable
            row.value = read
        _check_periods(standard, report)


def _check_name(
    standard: Standard, base: Standard, named: Standard | None, report: Report
) -> bool:
    """A city or county row that gives both 标识 and 名称 is matched by the identifier:
    an identifier the province does not know is E302 even where the name is known (E207
    where the row has a 类型, which adds a standard: its name is taken), a
    name that is another standard's makes the row ambiguous (E407), a name the
    province does not use is only worth a look (W404). True when the row is refused."""
    if standard.id and standard.id != base.id and standard.id != base.name_cn:
        if standard.declared:  # a 类型 adds a standard: its 名称 is another's
            report.error(
                "E207",
                f"新增的标准参数「{standard.id}」的名称「{standard.name_cn}」已是标准参数"
                f"「{base.id}」的名称，表格中写「{standard.name_cn}」时无法确定指哪一个",
                standard.name_location if standard.name_location.cell else standard.location,
                found=standard.name_cn,
                expected="字段、标准参数、派生值和决策表输出都没有用过的名称",
                hint=f"新增标准参数时另取一个名称；要设定省级的「{base.name_cn}」，"
                f"标识写 {base.id} 并删去 类型",
            )
            return True
        report.error(
            "E302",
            f"标准参数的标识「{standard.id}」在省级工作簿中没有定义（名称「{standard.name_cn}」"
            f"对应的标识是 {base.id}）",
            standard.location,
            found=standard.id,
            expected=base.id,
            hint="标识与名称都写时以标识为准：改正标识的拼写，或删去标识只写名称",
        )
        return True
    if not standard.id or not standard.name_cn or standard.name_cn == base.name_cn:
        return False
    if named is not None and named is not base:
        report.error(
            "E407",
            f"标识「{standard.id}」是「{base.name_cn}」，名称「{standard.name_cn}」却是另一个标准参数"
            f"（{named.id}）",
            standard.location,
            found=f"{standard.id} / {standard.name_cn}",
            expected=f"{base.id} / {base.name_cn}，或 {named.id} / {named.name_cn}",
            hint="按所要调整的标准参数改正标识或名称",
        )
        return True
    report.warn(
        "W404",
        f"标识「{standard.id}」在省级工作簿中的名称是「{base.name_cn}」，本行写作「{standard.name_cn}」",
        standard.location,
        found=standard.name_cn,
        expected=base.name_cn,
        hint="按标识取值；如名称只是写法不同，可改为省级的名称",
    )
    return False


_PERIOD = re.compile(r"/(?:人/)?(年|季度|季|月|周|日|天)")


def _reference_unit(standard: Standard) -> str:
    """The unit the province writes for a standard (its first row with one): what the
    compiler takes every row's value to be in, whatever a row's own 单位 says."""
    return next((row.unit for row in standard.rows if row.unit.strip()), "")


def _money_unit(unit: str) -> tuple[str, str] | None:
    """(scale, period) of a money unit: 元/人/月 is ("元", "月"), 万元/年 ("万元", "年");
    None for a unit that is not money (倍, 平方米/人, %)."""
    folded = fold_text(unit).replace(" ", "")
    if "元" not in folded:
        return None
    period = _PERIOD.search(folded)
    return ("万元" if "万元" in folded else "元", period[1] if period else "")


def _unit_contradicted(row: StandardRow, reference: str, report: Report) -> bool:
    """E110 when a row's 单位, or the unit written after its value, says another scale
    or period than the province's unit for the standard: nothing converts them, so
    ``16800元/年`` or 单位 万元/人/月 would be read as so many yuan a month."""
    if not isinstance(row.value, Cell):
        return False
    text = row.value.text.strip()
    declared = _money_unit(reference) if reference else None
    own = _money_unit(row.unit) if row.unit.strip() else None
    if declared is not None and own is not None and (
        own[0] != declared[0] or (own[1] and declared[1] and own[1] != declared[1])
    ):  # 元 under 元/人/月 says no period: not a contradiction
        report.error(
            "E110",
            f"本行单位「{row.unit}」与省级规定的单位「{reference}」不符：数值不会换算",
            row.value.location,
            found=f"{text}（单位 {row.unit}）",
            expected=f"按「{reference}」填写的数值",
            hint=f"把数值换算为{reference}，并把单位改为{reference}",
        )
        return True
    written = _PERIOD.search(fold_text(text))
    period = (own[1] if own else "") or (declared[1] if declared else "")
    if written is None or not period or written[1] == period:
        return False
    unit = row.unit.strip() or reference
    report.error(
        "E110",
        f"值「{text}」与单位「{unit}」的期间不符：数值不会换算",
        row.value.location,
        found=text,
        expected=f"按单位「{unit}」填写的数值",
        hint=f"把数值换算为{unit}后只写数字，或改正单位列",
    )
    return True


def _row_value(cell: object, dtype: DType, report: Report) -> object:
    if isinstance(cell, Cell):
        return convert(cell, dtype, report)
    return cell


def _check_periods(standard: Standard, report: Report) -> None:
    rows = [r for r in standard.rows if r.effective_from is not None]
    for row in standard.rows:
        if row.effective_from and row.effective_until and row.effective_until < row.effective_from:
            row.refused = True
            report.error(
                "E404",
                "失效日期早于生效日期",
                row.location,
                found=f"{row.effective_from} 至 {row.effective_until}",
                expected="失效日期不早于生效日期，或留空表示长期有效",
            )
    rows.sort(key=lambda r: r.effective_from)  # type: ignore[arg-type, return-value]
    for earlier, later in pairwise(rows):
        if earlier.effective_until is None or earlier.effective_until >= later.effective_from:  # type: ignore[operator]
            earlier.refused = later.refused = True  # which value holds is not known
            report.error(
                "E403",
                f"标准参数「{standard.name_cn or standard.id}」的生效期重叠",
                earlier.location,
                found=f"{earlier.effective_from} 起与 {later.effective_from} 起两行",
                expected=f"前一行的失效日期早于 {later.effective_from}",
                hint="为这一行填写失效日期（下一个取值生效日的前一天）",
            )


def rulebook_for(tables: Tables, county_code: str, report: Report) -> RuleBook:
    """Layer province, city and county for one county."""
    county = tables.counties.get(county_code)
    layers = [w for w in (county, tables.city_of(county_code)) if w is not None]
    province = tables.province
    book = RuleBook(
        county_code,
        county.name if county else "",
        {f.id: f for f in province.fields},
        {},
        {d.id: d for d in province.derived},
        {t.id: t for t in province.tables},
        list(province.calendar),
        [w.path for w in [*layers, province]],
        list(county.other_sheets) if county else [],
    )
    book.standards = _layer_standards(province, layers)
    origins = {w.path: w.kind for w in [*layers, province]}  # whose item a layer replaces
    for layer in reversed(layers):
        _layer_items(book, layer, report, origins)
    book.calendar = sorted(book.calendar, key=lambda day: day.day)
    check_names(book, report, province)
    return book


def _layer_standards(province: Workbook, layers: list[Workbook]) -> dict[str, Standard]:
    merged: dict[str, Standard] = {}
    for standard in province.standards:
        merged[standard.id] = dataclasses.replace(standard, rows=list(standard.rows))
    for layer in reversed(layers):  # city first, then county, each in front
        for standard in layer.standards:
            base = merged.get(standard.id)
            if base is None:
                merged[standard.id] = dataclasses.replace(standard, rows=list(standard.rows))
            else:
                base.rows = [*standard.rows, *base.rows]
    return merged


def _layer_items(
    book: RuleBook, layer: Workbook, report: Report, origins: dict[str, WorkbookKind]
) -> None:
    def layers(base: Derived | Table) -> Layers:
        replaced = origins.get(base.location.file or "", WorkbookKind.PROVINCE)
        return Layers(layer.kind, replaced)

    for derived in layer.derived:
        base = book.derived.get(derived.id)
        if base is not None and not base.overridable:
            what = "该派生值（这一行）"
            _refuse_override(derived.id, derived.location, report, what, layers(base))
            continue
        if base is not None and check_derived(base, derived, report, layers(base)):
            continue
        book.derived[derived.id] = derived
    for table in layer.tables:
        base_table = book.tables.get(table.id)
        if base_table is not None and not base_table.overridable:
            _refuse_override(table.id, table.location, report, "该表", layers(base_table))
            continue
        if base_table is not None and check_table(
            base_table, table, report, layers(base_table)
        ):
            continue
        if base_table is not None:  # the province's, where a city replaced it before
            book.replaced.setdefault(table.id, base_table)
        book.tables[table.id] = table
    book.calendar.extend(day for day in layer.calendar if isinstance(day, CalendarDay))


def _refuse_override(
    ident: str, location: Location, report: Report, what: str, layers: Layers
) -> None:
    who, whose = layers.who, layers.whose
    report.error(
        "E212",
        f"「{ident}」由{whose}统一规定，{who}工作簿不能替换",
        location,
        found=ident,
        expected=f"删除{what}，或请{whose}维护人员将其标为 县可改=是",
        hint=f"{who}工作簿只写与{whose}不同、且{whose}允许修改的内容",
    )
