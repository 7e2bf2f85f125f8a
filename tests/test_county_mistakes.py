"""Three county mistakes ``check`` passed in silence (helper-112), and W001's hint for a
sheet Excel cannot unhide.

Each case copies the shipped province, 杭州's and 西湖区's workbooks, makes the mistake a
county maintainer made in 西湖区's workbook, and checks the county.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import openpyxl  # type: ignore[import-untyped]
import pytest

from compiler.analyse import analyse
from compiler.diagnostics import Diagnostic, Report
from compiler.engine import open_project

TABLES = Path(__file__).resolve().parents[1] / "tables"
COUNTY = "330106"
WORKBOOK = "counties/330106-西湖区.xlsx"
AS_OF = date(2026, 1, 15)
GROUPS = "enum(tekun,dibao,dibao_marginal,rigid_expense,low_income_support,none)"


def copy_tables(tmp_path: Path) -> Path:
    root = tmp_path / "tables"
    shutil.copytree(TABLES / "province", root / "province")
    for folder, name in (("cities", "330100-杭州市.xlsx"), ("counties", "330106-西湖区.xlsx")):
        (root / folder).mkdir()
        shutil.copy(TABLES / folder / name, root / folder / name)
    return root


def check(root: Path) -> Report:
    report = Report()
    open_project(root, [COUNTY], AS_OF, analyse=analyse, report=report)
    return report


def only(report: Report, code: str) -> list[Diagnostic]:
    return [d for d in report.items if d.code == code]


def edit(root: Path, change) -> None:  # type: ignore[no-untyped-def]
    path = root / WORKBOOK
    book = openpyxl.load_workbook(path)
    change(book)
    book.save(path)


def add_row(sheet, row: int, values: list[object]) -> None:  # type: ignore[no-untyped-def]
    for col, value in enumerate(values, 1):
        sheet.cell(row, col, value)


# ------------------------------------------------------------ W408 gaps between periods


def test_gap_between_county_periods_names_the_filling_value(tmp_path: Path) -> None:
    root = copy_tables(tmp_path)
    edit(root, lambda book: book["标准参数"].cell(3, 5, datetime(2026, 3, 1)))
    [said] = only(check(root), "W408")
    assert said.location.sheet == "标准参数" and said.location.cell == "E3"
    assert "最低工资标准" in said.message
    assert "2026-01-01 至 2026-02-28" in said.message
    assert "省级的取值 2180.00 元/月" in said.message


def test_contiguous_county_periods_are_not_a_gap(tmp_path: Path) -> None:
    root = copy_tables(tmp_path)
    assert not only(check(root), "W408")


def test_gap_filled_by_the_value_of_a_side_is_meant(tmp_path: Path) -> None:
    """The county ends its 2490 where the city's 2490 goes on: nothing changes."""
    root = copy_tables(tmp_path)
    edit(root, lambda book: book["标准参数"].cell(3, 5, datetime(2026, 3, 1)))
    city = root / "cities/330100-杭州市.xlsx"
    book = openpyxl.load_workbook(city)
    sheet = book["标准参数"]
    header = [c.value for c in sheet[1]]
    row = dict.fromkeys(header)
    row |= {"标识": "minimum_wage", "值": 2490, "单位": "元/月",
            "生效日期": datetime(2026, 1, 1), "失效日期": datetime(2026, 2, 28),
            "来源": "测试", "核实": "是"}
    add_row(sheet, sheet.max_row + 1, [row[h] for h in header])
    book.save(city)
    assert not only(check(root), "W408")


# ------------------------------------------------------------ E214 empty output cells


def replacement(ident: str, output: str, *rules: list[object]) -> list[list[object]]:
    return [
        [ident, "其他特殊困难人员", "FIRST"],
        ["规则", "输入", "输出", "注释"],
        ["名称", "eligible_group", output, "政策依据"],
        ["类型", GROUPS, "boolean", None],
        ["默认", None, "否", None],
        *rules,
        ["marginal", "dibao_marginal", "是", "县规定：低保边缘家庭"],
        ["others", "-", "否", "县规定"],
    ]


def add_table(root: Path, sheet_name: str, rows: list[list[object]]) -> None:
    def change(book) -> None:  # type: ignore[no-untyped-def]
        sheet = book.create_sheet(sheet_name)
        for row in rows:
            sheet.append(row)

    edit(root, change)


def test_placeholder_rule_row_is_an_error(tmp_path: Path) -> None:
    root = copy_tables(tmp_path)
    rows = replacement("other_hardship_rules", "other_hardship", ["todo", None, None, None])
    add_table(root, "other_hardship_rules", rows)
    [said] = only(check(root), "E214")
    assert said.location.cell == "C6" and said.rule == "todo"
    assert "规则没有输出，命中时结果为空" in said.message
    assert "只有规则编号" in said.message


def test_empty_output_under_a_condition_is_an_error(tmp_path: Path) -> None:
    root = copy_tables(tmp_path)
    rows = replacement("other_hardship_rules", "other_hardship",
                       ["tekun", "tekun", None, "县规定"])
    add_table(root, "other_hardship_rules", rows)
    [said] = only(check(root), "E214")
    assert said.location.cell == "C6" and "只有规则编号" not in said.message


def test_null_written_in_an_output_is_no_error(tmp_path: Path) -> None:
    root = copy_tables(tmp_path)
    rows = replacement("other_hardship_rules", "other_hardship",
                       ["tekun", "tekun", "null", "县规定"])
    add_table(root, "other_hardship_rules", rows)
    assert not only(check(root), "E214")


# ------------------------------------------------------------ misspelt table ids


def test_misspelt_table_and_output_warn_that_nothing_reads_it(tmp_path: Path) -> None:
    root = copy_tables(tmp_path)
    add_table(root, "Sheet1", replacement("other_hardshp_rules", "other_hardshp"))
    [said] = only(check(root), "W206")
    assert said.location.sheet == "Sheet1" and said.location.cell == "A1"
    assert "other_hardshp" in said.message and "other_hardship_rules" in said.message
    assert "把第 1 行 A 列改为 other_hardship_rules" in (said.hint or "")


def test_misspelt_table_id_names_the_other_output_and_the_id_meant(tmp_path: Path) -> None:
    root = copy_tables(tmp_path)
    add_table(root, "Sheet1", replacement("other_hardshp_rules", "other_hardship"))
    [said] = only(check(root), "E207")
    assert said.location.sheet == "Sheet1" and said.location.cell == "C3"
    assert "province:other_hardship_rules!C3" in said.message
    assert "改为 other_hardship_rules" in (said.hint or "")


# ------------------------------------------------------------ W001 very hidden


@pytest.mark.parametrize(("state", "phrase"), [
    ("veryHidden", "Alt+F11"),
    ("hidden", "取消隐藏"),
])
def test_hidden_sheet_hint_fits_its_state(tmp_path: Path, state: str, phrase: str) -> None:
    root = copy_tables(tmp_path)
    edit(root, lambda book: setattr(book["说明"], "sheet_state", state))
    [said] = only(check(root), "W001")
    assert phrase in (said.hint or "")
    assert ("veryHidden" in said.message) == (state == "veryHidden")


# ------------------------------------------------------------ W206 readers in the county


def new_flag_table(root: Path) -> None:
    add_table(root, "xihu_flag_rules", [
        ["xihu_flag_rules", "西湖区标记", "FIRST", "层级=家庭"],
        ["规则", "输入", "输出", "注释"],
        ["名称", "eligible_group", "xihu_flag", "政策依据"],
        ["类型", GROUPS, "boolean", None],
        ["默认", None, "否", None],
        ["r1", "-", "是", "县规定"],
    ])


def test_new_table_read_by_the_county_replacement_is_no_w206(tmp_path: Path) -> None:
    root = copy_tables(tmp_path)
    new_flag_table(root)
    add_table(root, "other_hardship_rules", [
        ["other_hardship_rules", "其他特殊困难人员", "FIRST"],
        ["规则", "输入", "输出", "注释"],
        ["名称", "xihu_flag", "other_hardship", "政策依据"],
        ["类型", "boolean", "boolean", None],
        ["默认", None, "否", None],
        ["flagged", "是", "是", "县规定"],
    ])
    report = check(root)
    assert not report.errors, [d.message for d in report.errors]
    assert not only(report, "W206")


def test_new_table_read_by_nothing_is_w206(tmp_path: Path) -> None:
    root = copy_tables(tmp_path)
    new_flag_table(root)
    [said] = only(check(root), "W206")
    assert said.location.sheet == "xihu_flag_rules" and said.location.cell == "A1"
    assert "「xihu_flag」没有任何决策表" in said.message


# ------------------------------------------------------------ E301 "-" in an output


@pytest.mark.parametrize(("row", "phrase"), [
    ("rule", "确实不给值时写 null"),
    ("default", "不设默认值时留空或写 null"),
])
def test_dash_in_an_output_cell_says_it_means_any_value_in_conditions_only(
    tmp_path: Path, row: str, phrase: str
) -> None:
    root = copy_tables(tmp_path)
    rules = replacement("other_hardship_rules", "other_hardship",
                        ["tekun", "tekun", "-" if row == "rule" else "是", "县规定"])
    if row == "default":
        rules[4] = ["默认", None, "-", None]
    add_table(root, "other_hardship_rules", rules)
    report = check(root)
    [said] = only(report, "E301")
    assert said.location.cell == ("C6" if row == "rule" else "C5")
    assert "只在输入（条件）单元格中表示「任意值」" in said.message
    assert phrase in said.message
    assert not only(report, "E214")


def test_dash_in_a_text_output_is_refused_and_quoted_dash_is_text(tmp_path: Path) -> None:
    def table(cell: str) -> list[list[object]]:
        return [
            ["xihu_note_rules", "西湖区说明", "FIRST"],
            ["规则", "输入", "输出", "注释"],
            ["名称", "eligible_group", "xihu_note", "政策依据"],
            ["类型", GROUPS, "text", None],
            ["r1", "-", cell, "县规定"],
        ]

    root = copy_tables(tmp_path)
    add_table(root, "xihu_note_rules", table("-"))
    [said] = only(check(root), "E301")
    assert said.location.cell == "C5"
    assert '写 "-"' in (said.hint or "")

    root = copy_tables(tmp_path / "quoted")
    add_table(root, "xihu_note_rules", table('"-"'))
    assert not check(root).errors
