"""Seed the city and county workbooks from the shared research data.

    python tables/seed_workbooks.py [SHARED_DATA_DIR] [--force]

Reads ``zhejiang-counties.csv`` and ``zhejiang-standards-sourced.csv`` (default folder:
``../shared/data`` beside the repository) and writes one workbook per city into
``tables/cities/`` and one per county into ``tables/counties/``, each holding only what
the sources say differs from the province defaults in ``tables/province/``.

The workbooks are the source of truth once written: county staff edit them in Excel or
WPS. So the script refuses to overwrite an existing workbook unless ``--force`` is
given. Every row of the sourced CSV is either turned into standard rows below or
skipped with a stated reason (``SKIPPED``); an unknown row stops the script, so that a
new figure in the research data gets a decision rather than silence. The output is
byte-for-byte reproducible (fixed timestamps), so a re-run shows a clean diff.

Conventions (docs/rulebook.md, "Seeded figures"):
- a figure of high or medium confidence is marked verified (核实=是), a low one is not;
- a row's 失效日期 is the day before the next row of the same standard in the workbook;
- a rule-like figure published without an effective date is entered from 2025-04-07,
  the day the 2025 opinions took effect, with a note saying so;
- a figure for a statistical year Y (disposable income) is the "previous year" figure
  for Y+1 and is entered for that calendar year only;
- a county's minimum wage follows its tier in ``zhejiang-counties.csv`` and the
  province's tier amounts; the 2026 tier assignment is not known, so the 2026 row
  assumes the same tier and is marked unverified.
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import sys
import zipfile
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.writer.excel import ExcelWriter

REPO = Path(__file__).resolve().parents[1]
TABLES = REPO / "tables"
OPINIONS_IN_FORCE = date(2025, 4, 7)
FIXED_TIME = datetime(2025, 4, 7)
COLUMNS = ["标识", "名称", "值", "单位", "生效日期", "失效日期", "来源", "备注", "核实"]
WIDTHS = [30, 22, 10, 12, 12, 12, 60, 80, 6]
VERIFIED_CONFIDENCE = {"high", "medium"}
NO_DATE_NOTE = (
    "来源只注明年份{year}，确切生效日期不详；按2025年意见施行日（2025-04-07）起录入。"
)

# Rows of the sourced CSV that no workbook row is made from, and why.
SKIPPED = {
    "tekun_basic_living_standard": "特困供养标准是待遇金额，决策输出不含待遇金额",
    "tekun_basic_living_standard_shiqu": "特困供养标准是待遇金额，决策输出不含待遇金额",
    "tekun_basic_living_standard_avg": "特困供养标准是待遇金额，决策输出不含待遇金额",
    "min_wage_monthly_shiqu": "杭州市区的最低工资按各区档次写入区级工作簿",
    "min_wage_monthly_tier1_districts": "宁波各区县的最低工资按档次写入县级工作簿",
    "min_wage_monthly_tier2_counties": "宁波各区县的最低工资按档次写入县级工作簿",
    "consumption_per_capita_all_residents": "低保标准上下限只引用全省人均消费支出",
    "disposable_income_per_capita_urban": "刚性支出困难家庭比较全体居民人均可支配收入，不分城乡",
    "disposable_income_per_capita_rural": "刚性支出困难家庭比较全体居民人均可支配收入，不分城乡",
    "dibao_standard_ratio_of_prov_consumption_min": "30%-40%区间是省级上下限，已写入省级工作簿",
    "dibao_standard_ratio_of_prov_consumption_max": "30%-40%区间是省级上下限，已写入省级工作簿",
    "dibao_standard_ratio_of_prov_consumption_actual": "写入该市低保标准行的备注",
    "dibao_standard_ratio_of_city_consumption_min": "宁波2019年机制（按市人均消费支出），已被2024年省规定取代",
    "dibian_income_cap_min_wage": "封顶值就是当地最低工资，由 minimum_wage 表达",
    "dibian_district_allowance": "低保边缘补助金额是待遇金额，决策输出不含待遇金额",
}
PROVINCE_CODE = "330000"  # the province's rows live in tables/province/标准参数.csv

# A figure whose source page carries its publication date, used as the effective date.
DATED_SOURCES = {
    "http://www.hhtz.gov.cn/art/2023/2/17/art_1229615511_4141202.html": date(
        2023, 2, 17
    ),
}
# Districts whose tier the source does not name (it covers "Hangzhou shiqu").
INFERRED_TIER = {
    "330111": "富阳区是否属于杭州“市区”一档，来源未列明（推断）",
    "330112": "临安区是否属于杭州“市区”一档，来源未列明（推断）",
}


@dataclass
class Row:
    ident: str
    value: object
    unit: str
    start: date
    source: str
    note: str
    verified: bool
    end: date | None = None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "shared", nargs="?", default=str(REPO.parent / "shared" / "data")
    )
    parser.add_argument(
        "--force", action="store_true", help="overwrite existing workbooks"
    )
    args = parser.parse_args(argv)
    data = Path(args.shared)
    counties = _read_csv(data / "zhejiang-counties.csv")
    sourced = _read_csv(data / "zhejiang-standards-sourced.csv")
    names = _province_names()
    rows = _rows_from_sources(sourced, counties, names)
    written = 0
    for code, label, folder in _workbooks(counties):
        path = TABLES / folder / f"{code}-{label}.xlsx"
        if path.exists() and not args.force:
            print(f"skip {path.relative_to(REPO)} (exists; --force to overwrite)")
            continue
        _write_workbook(path, code, label, _close_periods(rows.get(code, [])), names)
        written += 1
    print(f"wrote {written} workbooks")
    return 0


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _province_names() -> dict[str, str]:
    """Identifier -> Chinese name, as the province workbook declares them."""
    rows = _read_csv(TABLES / "province" / "标准参数.csv")
    return {row["标识"]: row["名称"] for row in rows}


def _workbooks(counties: list[dict[str, str]]) -> list[tuple[str, str, str]]:
    """(code, name, folder) of every city and county workbook."""
    cities = {(c["code"][:4] + "00", c["city"]) for c in counties}
    found = [(code, name, "cities") for code, name in sorted(cities)]
    found += [(c["code"], c["name"], "counties") for c in counties]
    return found


# ------------------------------------------------------------------ sourced figures


def _rows_from_sources(
    sourced: list[dict[str, str]], counties: list[dict[str, str]], names: dict[str, str]
) -> dict[str, list[Row]]:
    rows: dict[str, list[Row]] = defaultdict(list)
    tiers = _tier_amounts(sourced)
    for record in sourced:
        if record["area_code"] == PROVINCE_CODE or record["parameter"] in SKIPPED:
            continue
        made = _convert(record)
        if made is None:
            raise SystemExit(
                f"no rule for sourced row {record['area_code']} {record['parameter']}"
            )
        rows[record["area_code"]].extend(made)
    city_wage = {
        code
        for code, found in rows.items()
        if any(r.ident == "minimum_wage" for r in found)
    }
    for code, found in rows.items():
        if code in city_wage and code.endswith("00"):
            found.extend(_assumed_2026_wage(found, tiers))
    for county in counties:
        if county["tier_min_wage"] and county["code"][:4] + "00" not in city_wage:
            rows[county["code"]].extend(_county_wage(county, tiers))
    for code, found in rows.items():
        for row in found:
            if row.ident not in names:
                raise SystemExit(f"{code}: {row.ident} is not a province standard")
    return rows


def _convert(record: dict[str, str]) -> list[Row] | None:
    """The workbook rows one sourced figure becomes (None: no rule for it)."""
    parameter = record["parameter"]
    if parameter == "dibao_standard":
        return _dibao_standard(record)
    if parameter == "disposable_income_per_capita_all_residents":
        return [_statistic(record, "disposable_income_per_capita", "元/人/年")]
    if parameter == "min_wage_monthly_citywide":
        return [_city_wage(record)]
    simple = {
        "dibian_income_multiplier": ("marginal_multiplier", "倍"),
        "dibian_asset_limit": ("marginal_money_asset_years", "年低保标准"),
        "dibian_housing_area_reference": ("floor_area_reference", "平方米/人"),
        "dibian_vehicle_price_limit": ("marginal_vehicle_price_years", "年低保标准"),
        "dibian_enterprise_capital_limit": ("marginal_enterprise_capital_limit", "元"),
        "dibao_asset_limit": ("dibao_money_asset_years", "年低保标准"),
        "dibao_enterprise_capital_limit": ("dibao_enterprise_capital_max", "元"),
    }
    if parameter not in simple:
        return None
    ident, unit = simple[parameter]
    made = [_rule_figure(record, ident, unit)]
    if parameter == "dibian_income_multiplier" and "inclusive" in record["unit"]:
        made.append(_inclusive_line(record))
    return made


def _dibao_standard(record: dict[str, str]) -> list[Row]:
    if not record["effective_from"]:
        print(
            f"note: {record['area_name']} 低保标准 {record['value']} has no effective date; "
            "not entered (its start date is unknown)",
            file=sys.stderr,
        )
        return []
    note = "市域同标：全市统一的低保标准。"
    if record["area_code"] == "330700" and record["year"] == "2024":
        note += "金华市称该标准为上年度全省全体居民人均消费支出的32.56%。"
    if record["confidence"] not in VERIFIED_CONFIDENCE:
        note += f"为{record['year']}年数字，其后可能已调整。"
    elif record["year"] == "2024":
        note += "未找到2025年调整；如已调整请新增一行。"
    return [
        _row(record, "dibao_standard", "元/人/月", _day(record["effective_from"]), note)
    ]


def _statistic(record: dict[str, str], ident: str, unit: str) -> Row:
    year = int(record["year"]) + 1
    note = (
        f"{record['year']}年全体居民人均可支配收入，作为{year}年刚性支出困难家庭认定的"
        f"“上年度”数字；{year + 1}年起应换用{year}年数字。"
    )
    row = _row(record, ident, unit, date(year, 1, 1), note)
    row.end = date(year, 12, 31)
    return row


def _rule_figure(record: dict[str, str], ident: str, unit: str) -> Row:
    start = DATED_SOURCES.get(record["source_url"])
    if start is not None:
        note = f"生效日期取来源网页的发布日期（{start.isoformat()}）。"
    else:
        start, note = OPINIONS_IN_FORCE, NO_DATE_NOTE.format(year=record["year"])
    return _row(record, ident, unit, start, f"原文：{record['unit']}。{note}")


def _inclusive_line(record: dict[str, str]) -> Row:
    row = _rule_figure(record, "marginal_line_inclusive", "")
    row.value = "是"
    row.note = (
        "本地文件注明边缘标准“（含）”，人均收入等于边缘标准的认定为低保边缘。"
        + row.note
    )
    return row


def _city_wage(record: dict[str, str]) -> Row:
    note = "全市同一档次的月最低工资标准。"
    return _row(record, "minimum_wage", "元/月", _day(record["effective_from"]), note)


def _row(record: dict[str, str], ident: str, unit: str, start: date, note: str) -> Row:
    verified = record["confidence"] in VERIFIED_CONFIDENCE
    if not verified:
        note += "（可信度低：单一聚合或转载网站）"
    value = Decimal(record["value"])
    return Row(ident, value, unit, start, record["source_url"], note, verified)


def _day(text: str) -> date:
    return date.fromisoformat(text)


# ------------------------------------------------------------------ minimum wage tiers


def _tier_amounts(
    sourced: list[dict[str, str]],
) -> dict[tuple[int, date], tuple[Decimal, str]]:
    """(tier, effective date) -> (monthly amount, source) from the province's rows."""
    amounts = {}
    for record in sourced:
        parameter = record["parameter"]
        if record["area_code"] == PROVINCE_CODE and parameter.startswith(
            "min_wage_monthly_tier"
        ):
            key = (int(parameter[-1]), _day(record["effective_from"]))
            amounts[key] = (Decimal(record["value"]), record["source_url"])
    return amounts


TIER_2024, TIER_2026 = date(2024, 1, 1), date(2026, 1, 1)


def _county_wage(county: dict[str, str], tiers: dict) -> list[Row]:
    tier = int(county["tier_min_wage"])
    amount, province_source = tiers[(tier, TIER_2024)]
    tier_source = county["source"].split("tier(2024-01-01..2025-12-31): ", 1)[-1]
    inferred = INFERRED_TIER.get(county["code"])
    note = f"本县（市、区）属第{tier}档（2024-01-01至2025-12-31）。"
    if inferred:
        note += inferred + "。"
    current = Row(
        "minimum_wage",
        amount,
        "元/月",
        TIER_2024,
        f"{tier_source} | {province_source}",
        note,
        inferred is None,
        end=TIER_2026 - timedelta(days=1),
    )
    return [current, _assumed_wage(tier, tiers)]


def _assumed_2026_wage(rows: list[Row], tiers: dict) -> list[Row]:
    """A city-wide 2024 wage continues into 2026 in the same tier (assumed)."""
    current = [r for r in rows if r.ident == "minimum_wage" and r.start == TIER_2024]
    if not current:
        return []
    tier = next(
        t
        for (t, day), (amount, _) in tiers.items()
        if day == TIER_2024 and amount == current[0].value
    )
    return [_assumed_wage(tier, tiers)]


def _assumed_wage(tier: int, tiers: dict) -> Row:
    amount, source = tiers[(tier, TIER_2026)]
    note = (
        f"2026年起全省第{tier}档标准；本地2026年档次划分未找到，假定沿用2024年的第{tier}档，"
        "找到本市通知后核实。"
    )
    return Row("minimum_wage", amount, "元/月", TIER_2026, source, note, False)


# ------------------------------------------------------------------ writing


def _close_periods(rows: list[Row]) -> list[Row]:
    """Sort each standard's rows by date and end each period the day before the next."""
    by_ident: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_ident[row.ident].append(row)
    ordered = []
    for ident in sorted(by_ident, key=_ident_order):
        found = _merge_repeats(sorted(by_ident[ident], key=lambda r: r.start))
        for row, following in zip(found, found[1:] + [None]):
            if following is not None and row.end is None:
                row.end = following.start - timedelta(days=1)
        ordered.extend(found)
    return ordered


def _merge_repeats(rows: list[Row]) -> list[Row]:
    """The same figure reported twice from the same date becomes one row."""
    merged: list[Row] = []
    for row in rows:
        if merged and merged[-1].start == row.start and merged[-1].value == row.value:
            sources = merged[-1].source.split(" | ")
            extra = [s for s in row.source.split(" | ") if s not in sources]
            merged[-1].source = " | ".join(sources + extra)
            continue
        merged.append(row)
    return merged


@functools.cache
def _ident_order(ident: str) -> int:
    order = list(_province_names())
    return order.index(ident) if ident in order else len(order)


def _write_workbook(
    path: Path, code: str, label: str, rows: list[Row], names: dict[str, str]
) -> None:
    book = Workbook()
    sheet = book.active
    sheet.title = "标准参数"
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(_cells(row, names))
        for column in (5, 6):
            sheet.cell(sheet.max_row, column).number_format = "yyyy-mm-dd"
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[sheet.cell(1, index).column_letter].width = width
    sheet.freeze_panes = "A2"
    notes = book.create_sheet("说明")
    for line in _notes(code, label, rows):
        notes.append([line])
    notes.column_dimensions["A"].width = 110
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_reproducible_xlsx(book))


def _cells(row: Row, names: dict[str, str]) -> list[object]:
    value: object = row.value
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else float(value)
    return [
        row.ident,
        names[row.ident],
        value,
        row.unit,
        row.start,
        row.end,
        row.source,
        row.note,
        "是" if row.verified else "否",
    ]


def _notes(code: str, label: str, rows: list[Row]) -> list[str]:
    level = "设区市" if code.endswith("00") else "县（市、区）"
    lines = [
        f"{code} {label}（{level}）标准参数工作簿",
        "本工作簿只记录与省级缺省值（及所属设区市）不同、且有公开来源的本地标准；未列出的标准沿用上级取值。",
        "核实=否 表示替代值或低可信度来源；jiuzhu check 会把本地依赖的所有未核实标准（含继承自市、省的）列为警告 W401。",
        "初稿由 tables/seed_workbooks.py 依据 shared/data 中的来源数据生成，此后以本文件为准，修改请直接编辑“标准参数”表。",
    ]
    if not rows:
        lines.append("目前没有找到本地公布的标准，全部沿用上级取值。")
    return lines


def _reproducible_xlsx(book: Workbook) -> bytes:
    """The workbook as bytes with fixed timestamps, so that re-running changes nothing."""
    book.properties.creator = "tables/seed_workbooks.py"
    book.properties.created = book.properties.modified = FIXED_TIME
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        ExcelWriter(book, archive).write_data()
    fixed = io.BytesIO()
    with (
        zipfile.ZipFile(raw) as source,
        zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=FIXED_TIME.timetuple()[:6])
            entry.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(entry, source.read(info.filename))
    return fixed.getvalue()


if __name__ == "__main__":
    sys.exit(main())
