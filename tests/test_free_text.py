"""Free text is kept as the admin typed it; only the cells the compiler parses are folded.

Notes (备注, 说明), sources (来源), the policy basis (依据), a table's title and its rule
annotations keep full-width punctuation, spaces and line breaks through reading, the
canonical YAML a version is published as, and the exported workbook; the compiled SQL
(its comments and the trace's policy section) stays what it was (docs/table-format.md,
section 5).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest

from compiler import cli
from compiler.canonical import dump_rulebook, load_rulebook
from compiler.diagnostics import Report
from compiler.engine import open_project
from compiler.load import load_workbook
from compiler.model import WorkbookKind
from compiler.registry import Registry
from compiler.sqlgen import compile_plan
from tests.helpers import interpret
from tests.tables_fixture import COUNTY, COUNTY_FILE, province_sheets, write_tables
from tests.workbooks import write_csv_folder, write_xlsx

AS_OF = date(2025, 6, 1)
NOTE = "本县（市、区）属第1档；见：杭民发〔2025〕3号。"
SOURCE = "《意见》（浙江省人民政府办公厅转发，2025-02-24）"
LINES = "第一行，备注\n 第二行（缩进）"
BASIS = "三（一）：人均收入"
TITLE = "家庭救助类别（含复核）"
ANNOTATION = "三（一）：仍符合条件"
SECTION = "三(一):仍符合条件"  # the annotation as traces have always shown it


def typed_province() -> dict[str, list[list[object]]]:
    """The fixture province with full-width punctuation in every kind of free text."""
    sheets = province_sheets()
    sheets["字段"][6][7] = "净收入，可为负（含经营）"
    sheets["标准参数"][1][6:8] = [SOURCE, LINES]
    sheets["派生值"][1][5] = BASIS
    sheets["日历"][1][2] = "元旦（休息）"
    table = sheets["household_group"]
    table[0][1] = TITLE
    table[2][4] = "政策依据（意见）"
    table[5][4] = ANNOTATION
    return sheets


def county_rows() -> dict[str, list[list[object]]]:
    return {
        "标准参数": [
            ["标识", "值", "生效日期", "失效日期", "来源", "备注"],
            ["dibao_standard", "１，３０１", "2025-01-23", None, SOURCE, NOTE],
        ],
        "说明": [["330106 西湖区（县（市、区））标准参数工作簿"], ["未列出的标准沿用上级取值；"]],
    }


def excel_csv(folder: Path, sheets: dict, form: str) -> None:
    """A CSV folder as Excel (UTF-8 with BOM, CRLF) or WPS (GB18030, CRLF) saves it."""
    write_csv_folder(folder, sheets, encoding="utf-8-sig" if form == "excel" else "gb18030")


# ---------------------------------------------------------------- reading


@pytest.mark.parametrize("form", ["xlsx", "excel", "wps"])
def test_free_text_is_read_as_typed_and_values_are_still_folded(tmp_path: Path, form: str) -> None:
    if form == "xlsx":
        path = write_xlsx(tmp_path / f"{COUNTY_FILE}.xlsx", county_rows())
    else:
        path = tmp_path / COUNTY_FILE
        excel_csv(path, county_rows(), form)
    report = Report()
    workbook = load_workbook(path, WorkbookKind.COUNTY, report)
    assert not report.has_errors
    row = workbook.standards[0].rows[0]
    assert (row.source, row.note) == (SOURCE, NOTE)
    assert row.value.text == "1,301"  # a value is parsed from its folded text


@pytest.mark.parametrize("form", ["excel", "wps"])
def test_province_free_text_keeps_its_punctuation_and_line_breaks(tmp_path: Path, form: str) -> None:
    excel_csv(tmp_path / "province", typed_province(), form)
    report = Report()
    province = load_workbook(tmp_path / "province", WorkbookKind.PROVINCE, report)
    assert not report.has_errors
    table = province.tables[0]
    assert (table.title, table.annotation_header) == (TITLE, "政策依据（意见）")
    assert table.rules[0].annotation == ANNOTATION
    assert province.derived[0].basis == BASIS
    assert province.calendar[0].note == "元旦（休息）"
    assert province.fields[5].note == "净收入，可为负（含经营）"
    dibao = province.standards[0].rows[0]
    assert (dibao.source, dibao.note) == (SOURCE, LINES)


def test_a_pasted_vertical_tab_becomes_a_line_break_an_xlsx_can_hold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Word and WPS paste a manual line break as U+000B, which the reader folds and an
    .xlsx cannot store: the note keeps a line break there, and exports."""
    county = county_rows()
    county["标准参数"][1][5] = "第一行\x0b第二行"
    tables = write_tables(tmp_path, county=county, county_form="csv")
    registry = tmp_path / "registry.duckdb"
    common = ["--tables", str(tables), "--registry", str(registry)]
    run(capsys, "publish", "--county", COUNTY, "--effective", "2025-04-07", "--note", "初版",
        "--author", "张三", *common)
    out = tmp_path / "v1.xlsx"
    run(capsys, "export", "--county", COUNTY, "--version", "1", "--out", str(out), *common)
    assert openpyxl.load_workbook(out)["标准参数"]["H2"].value == "第一行\n第二行"


# ---------------------------------------------------------------- compiling


def test_compiled_sql_and_traces_are_the_same_as_with_folded_text(tmp_path: Path) -> None:
    """Full-width annotations, titles and bases reach the SQL folded, as before: the
    comments and the trace's policy section do not change when the admin's text is
    kept as typed."""
    folded = province_sheets()
    folded["派生值"][1][5] = "三(一):人均收入"
    folded["household_group"][0][1] = "家庭救助类别(含复核)"
    folded["household_group"][5][4] = SECTION
    household = {"household_id": "H1", "county_code": COUNTY, "members": [
        {"person_id": "P1", "birth_date": "1980-01-01", "income": {"wage": "6000"}}]}
    programs, sections = [], []
    for province in (folded, typed_province()):
        tables = write_tables(tmp_path, province=province)
        report = Report()
        plan = open_project(tables, [COUNTY], AS_OF, report=report).plan(COUNTY)
        assert not report.has_errors
        programs.append(compile_plan(plan, trace="full"))
        trace = interpret(plan, AS_OF, household).trace
        sections.append([entry.section for entry in trace])
    assert programs[0].statements == programs[1].statements
    assert programs[0].final == programs[1].final
    assert SECTION in sections[1] and sections[0] == sections[1]


# ---------------------------------------------------------------- canonical YAML


AWKWARD = [
    NOTE,
    LINES,
    "  前后有空格  ",
    "行尾空格 \n下一行",
    "制表\t符",
    "- 像列表",
    "# 像注释",
    "键: 值",
    "'单引号' 和 \"双引号\"",
    "123",
    "1.10",
    "2025-01-01",
    "是",
    "null",
    "~",
    "：冒号开头",
    "全角　空格",
    "很长的说明 " * 400,
]


def test_canonical_yaml_keeps_free_text_through_its_round_trip(tmp_path: Path) -> None:
    tables = write_tables(tmp_path, province=typed_province(), county=county_rows())
    report = Report()
    book = open_project(tables, [COUNTY], AS_OF, report=report).plan(COUNTY).rulebook
    assert not report.has_errors
    rows = book.standards["dibao_standard"].rows
    for text in AWKWARD:
        rows[0].note = rows[0].source = text
        book.tables["household_group"].rules[0].annotation = text
        book.derived["income_per_capita"].basis = text
        yaml_text = dump_rulebook(book, tables)
        again = load_rulebook(yaml_text)
        assert dump_rulebook(again, tables) == yaml_text  # publish's own check
        back = again.standards["dibao_standard"].rows[0]
        assert (back.note, back.source) == (text, text)
        assert again.tables["household_group"].rules[0].annotation == text
        assert again.derived["income_per_capita"].basis == text


# ---------------------------------------------------------------- publish and export


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, out + err
    return out


def test_publish_and_export_keep_the_admins_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tables = write_tables(tmp_path, province=typed_province(), county=county_rows())
    registry = tmp_path / "registry.duckdb"
    common = ["--tables", str(tables), "--registry", str(registry)]
    run(capsys, "publish", "--county", COUNTY, "--effective", "2025-04-07", "--note", "初版",
        "--author", "张三", *common)
    canonical = Registry(registry).get(COUNTY, 1).canonical
    assert NOTE in canonical and SOURCE in canonical and ANNOTATION in canonical
    assert TITLE in canonical and BASIS in canonical
    out = tmp_path / "export" / f"{COUNTY_FILE}.xlsx"
    run(capsys, "export", "--county", COUNTY, "--version", "1", "--out", str(out), *common)
    book = openpyxl.load_workbook(out)
    header = [c.value for c in book["标准参数"][1]]
    row = [c.value for c in book["标准参数"][2]]
    assert row[header.index("来源")] == SOURCE and row[header.index("备注")] == NOTE
    notes = [[c.value for c in r] for r in book["说明"].iter_rows()]
    assert notes == [[county_rows()["说明"][0][0]], [county_rows()["说明"][1][0]]]


def test_a_county_without_other_sheets_is_written_as_before(tmp_path: Path) -> None:
    """No ``other_sheets`` key: the canonical text of such a county does not change."""
    tables = write_tables(tmp_path, county={"标准参数": county_rows()["标准参数"]})
    report = Report()
    book = open_project(tables, [COUNTY], AS_OF, report=report).plan(COUNTY).rulebook
    text = dump_rulebook(book, tables)
    assert "other_sheets" not in text and load_rulebook(text).other_sheets == []
