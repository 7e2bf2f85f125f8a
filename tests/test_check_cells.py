"""What ``check`` says about a rule cell the later passes cannot compute with, and about
a county workbook saved in a form the reader does not take.

A number larger than its column's type holds (1 followed by 45 zeros in a money cell)
passed the check and stopped ``evaluate`` with DuckDB's English words and no cell named;
150 nested brackets, or a sum of 5000 terms, stopped the check itself with an internal
error (RecursionError); a county workbook saved as ``.csv``, ``.txt`` or ``.wps`` was
passed over without a word, its county surfacing only in ``evaluate`` (helper-65). Each
is now an error at the cell or the file (docs/table-format.md sections 1, 4 and 5).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from compiler.cli import main
from compiler.expr import MAX_DEPTH

ROOT = Path(__file__).resolve().parent.parent
COUNTY = "330106"
WORKBOOK = "330106-西湖区.xlsx"
AS_OF = "2025-06-01"
# the province's dibao_assets table: its rule rows start at row 6; B is a money input,
# C an integer, F a number, H the yes/no output (its default in H5)
PROVINCE_TABLE = ROOT / "tables" / "province" / "dibao_assets.csv"


def tables_copy(tmp_path: Path) -> Path:
    """The project's tables under ``tmp_path``: the province, the cities and two
    counties (all ninety would only make each check slower)."""
    tables = tmp_path / "tables"
    shutil.copytree(ROOT / "tables" / "province", tables / "province")
    shutil.copytree(ROOT / "tables" / "cities", tables / "cities")
    (tables / "counties").mkdir()
    for name in (WORKBOOK, "330108-滨江区.xlsx"):
        shutil.copy(ROOT / "tables" / "counties" / name, tables / "counties" / name)
    return tables


def with_county_table(tmp_path: Path, cells: dict[str, str]) -> Path:
    """A tables copy whose 西湖区 workbook has its own dibao_assets (the province's,
    which a county may replace), with ``cells`` (``{"B6": ">= 1"}``) written into it."""
    import csv

    tables = tables_copy(tmp_path)
    path = tables / "counties" / WORKBOOK
    book = openpyxl.load_workbook(path)
    sheet = book.create_sheet("dibao_assets")
    with PROVINCE_TABLE.open(encoding="utf-8") as handle:
        for row in csv.reader(handle):
            sheet.append([value or None for value in row])
    for ref, text in cells.items():
        sheet[ref] = text
    book.save(path)
    return tables


def with_derived(tmp_path: Path, expression: str) -> Path:
    """A tables copy whose 西湖区 workbook replaces the derived value counted_income
    (县可改=是 in the province) with ``expression``."""
    tables = tables_copy(tmp_path)
    path = tables / "counties" / WORKBOOK
    book = openpyxl.load_workbook(path)
    sheet = book.create_sheet("派生值")
    sheet.append(["标识", "名称", "层级", "类型", "表达式", "依据"])
    sheet.append(
        ["counted_income", "成员计入收入", "成员", "money", expression, "测试"]
    )
    book.save(path)
    return tables


def checked(
    tables: Path, capsys: pytest.CaptureFixture[str], *county: str
) -> tuple[int, str]:
    argv = ["check", str(tables), "--as-of", AS_OF]
    code = main(argv + (["--county", *county] if county else []))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


# ---------------------------------------------------------------- numbers too large

TOO_LARGE = [
    pytest.param(
        "B6",
        ">= 1" + "0" * 45,
        "E104 金额过大；实际为「1" + "0" * 45 + "」；应为绝对值小于 10¹⁶ 的金额",
        id="money-1e45",
    ),
    pytest.param(
        "B6",
        ">= 99999999999999999999999",
        "E104 金额过大；实际为「99999999999999999999999」",
        id="money-1e23",
    ),
    pytest.param(
        "B6",
        ">= dibao_money_asset_years * 1" + "0" * 30 + " * 低保标准",
        "E104 金额过大；实际为「1" + "0" * 30 + "」",
        id="inside-an-expression",
    ),
    pytest.param(
        "C6",
        "> 10000000000000000000",
        "E106 整数过大；实际为「10000000000000000000」；应为绝对值小于 10¹⁸ 的整数",
        id="integer-1e19",
    ),
    pytest.param(
        "F6",
        ">= 100000000000000",
        "E101 数值过大；实际为「100000000000000」；应为绝对值小于 10¹⁴ 的数值",
        id="number-1e14",
    ),
    pytest.param(
        "H5",
        "assets.homes > 1" + "0" * 20,
        "E101 数字过大；实际为「1" + "0" * 20 + "」；应为绝对值小于 10¹⁸ 的数字",
        id="yes-no-default",
    ),
    pytest.param(
        "B6",
        ">= 123." + "0" * 39 + "1",
        "E101 数字的小数位数过多：40 位",
        id="forty-decimals",
    ),
]


@pytest.mark.parametrize(("ref", "text", "said"), TOO_LARGE)
def test_a_number_its_column_cannot_hold_is_refused_at_its_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], ref: str, text: str, said: str
) -> None:
    code, out = checked(with_county_table(tmp_path, {ref: text}), capsys, COUNTY)
    assert code == 1, out
    assert f"{WORKBOOK}:dibao_assets!{ref}: {said}" in out


def test_the_largest_amount_money_holds_is_taken_and_the_next_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    largest = with_county_table(tmp_path / "a", {"B6": ">= 9999999999999999.99"})
    assert checked(largest, capsys, COUNTY)[0] == 0
    code, out = checked(
        with_county_table(tmp_path / "b", {"B6": ">= 10000000000000000"}),
        capsys,
        COUNTY,
    )
    assert code == 1
    assert "dibao_assets!B6: E104 金额过大；实际为「10000000000000000」" in out
    assert "提示：金额最多 16 位整数" in out


def test_a_derived_value_with_a_number_too_large_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tables = with_derived(tmp_path, "income.wage * 1" + "0" * 20)
    code, out = checked(tables, capsys, COUNTY)
    assert code == 1
    assert f"{WORKBOOK}:派生值!E2: E104 金额过大；实际为「1{'0' * 20}」" in out


# ---------------------------------------------------------------- nesting


@pytest.mark.parametrize(
    ("text", "said"),
    [
        pytest.param(
            ">= " + "(" * 150 + "1" + ")" * 150,
            "括号嵌套 150 层，超过上限 100 层",
            id="brackets",
        ),
        pytest.param(
            ">= " + "max(" * 150 + "1" + ", 1)" * 150, "括号嵌套 150 层", id="functions"
        ),
        pytest.param(">= " + "+".join(["1"] * 5000), "表达式过长", id="sum-of-5000"),
    ],
)
def test_a_cell_nested_too_deep_is_refused_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, said: str
) -> None:
    code, out = checked(with_county_table(tmp_path, {"B6": text}), capsys, COUNTY)
    assert code == 1, out
    assert f"{WORKBOOK}:dibao_assets!B6: E301 条件无法识别：{said}" in out
    assert "上限 100 层" in out
    assert "内部错误" not in out


def test_a_derived_sum_of_too_many_terms_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = checked(
        with_derived(tmp_path, " + ".join(["income.wage"] * 2000)), capsys, COUNTY
    )
    assert code == 1, out
    assert f"{WORKBOOK}:派生值!E2: E301 表达式无法识别：表达式过长" in out


def test_the_deepest_cell_allowed_is_checked_and_evaluated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A sum in a rule cell is a tree one level deeper per term, under the list of tests
    and the comparison: 98 terms make MAX_DEPTH levels, which every pass walks within
    Python's stack (here under pytest's own frames); 99 terms are refused."""
    assert MAX_DEPTH == 100
    deepest = ">= " + " + ".join(["dibao_standard"] * 98)
    tables = with_county_table(tmp_path / "a", {"B6": deepest})
    code, said = checked(tables, capsys, COUNTY)
    assert code == 0, said
    out = tmp_path / "decisions.csv"
    households = ROOT / "tables" / "samples" / "households.jsonl"
    argv = [
        "evaluate",
        "--households",
        str(households),
        "--tables",
        str(tables),
        "--working-copy",
        "--county",
        COUNTY,
        "--as-of",
        AS_OF,
        "--out",
        str(out),
    ]
    assert main(argv) == 0, capsys.readouterr()
    assert out.stat().st_size > 0
    one_more = with_county_table(tmp_path / "b", {"B6": deepest + " + dibao_standard"})
    code, said = checked(one_more, capsys, COUNTY)
    assert code == 1
    assert "E301 条件无法识别：表达式过长：运算层层相套共 101 层" in said


# ---------------------------------------------------------------- files in counties/


@pytest.mark.parametrize(
    ("name", "said"),
    [
        pytest.param(
            "330106-西湖区.csv", "E002 单个 .csv 文件不能作为工作簿", id="one-csv"
        ),
        pytest.param(
            "330106-西湖区.txt",
            "E002 不是工作簿，未读取：不支持的文件类型「.txt」",
            id="txt",
        ),
        pytest.param(
            "330106-西湖区.wps",
            "E002 不是工作簿，未读取：不支持的文件类型「.wps」",
            id="wps",
        ),
        pytest.param(
            "330106-西湖区.xlsx.bak",
            "E002 不是工作簿，未读取：不支持的文件类型「.bak」",
            id="bak",
        ),
        pytest.param(
            "330106-西湖区",
            "E002 不是工作簿，未读取：不支持的文件类型「无扩展名」",
            id="none",
        ),
    ],
)
def test_a_county_workbook_saved_in_another_form_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, said: str
) -> None:
    tables = tables_copy(tmp_path)
    (tables / "counties" / WORKBOOK).rename(tables / "counties" / name)
    code, out = checked(tables, capsys)
    assert code == 1, out
    assert f"counties/{name}: {said}" in out
    assert "应为.xlsx 文件，或每个工作表一个 .csv 文件的文件夹" in out


def test_clutter_beside_the_workbooks_is_passed_over_and_a_stray_file_is_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Lock files, Thumbs.db, desktop.ini, hidden files, publish's base marker and notes
    whose name starts with no division code say nothing; a file that does is E002."""
    tables = tables_copy(tmp_path)
    clutter = [
        ".DS_Store",
        "Thumbs.db",
        "desktop.ini",
        "~$330106-西湖区.xlsx",
        "330106.base.json",
        "README.md",
        "说明.txt",
        "修改记录.docx",
    ]
    for folder in ("counties", "cities"):
        for name in clutter:
            (tables / folder / name).write_text("不是工作簿", encoding="utf-8")
    (tables / "cities" / "330100-杭州市.txt").write_text("备份", encoding="utf-8")
    code, out = checked(tables, capsys)
    assert code == 1, out
    assert out.count(": E002 ") == 1
    assert "cities/330100-杭州市.txt: E002 不是工作簿，未读取" in out
    assert "去掉文件名开头的区划代码" in out
    (tables / "cities" / "330100-杭州市.txt").unlink()
    assert checked(tables, capsys)[0] == 0
