"""What ``check`` says about a county workbook that would silently decide with
another's figures.

A workbook exported from one county's version and saved under another county's name
(its 版本信息 sheet says 导出自 330106@2) is refused with E013: publishing it would give
西湖区's standards to 滨江区 (helper-45); the console refused it on upload, the command
line took it. A county row of a standard its city sets for the whole city (市域同标) is
W406; an amount of 0 where the province's is above 0 is W407.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest

from compiler.cli import main

ROOT = Path(__file__).resolve().parent.parent


def copied_workbook(tmp_path: Path, workbook: str) -> tuple[Path, Path, openpyxl.Workbook]:
    """The project's tables copied under ``tmp_path`` (without the samples), and one
    of their workbooks (``counties/330106-西湖区.xlsx``) opened to be edited."""
    tables = tmp_path / "tables"
    shutil.copytree(ROOT / "tables", tables, ignore=shutil.ignore_patterns("samples"))
    path = tables / workbook
    return tables, path, openpyxl.load_workbook(path)


def tables_with(tmp_path: Path, info: str) -> Path:
    tables, path, book = copied_workbook(tmp_path, "counties/330108-滨江区.xlsx")
    sheet = book.create_sheet("版本信息")
    sheet.append(["导出自", info])
    sheet.append(["导出日期", "2026-12-01"])
    book.save(path)
    return tables


def test_a_workbook_exported_from_another_county_is_refused(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    tables = tables_with(tmp_path, "330106@2")
    assert main(["check", str(tables), "--county", "330108"]) == 1
    out = capsys.readouterr().out
    assert "330108-滨江区.xlsx:版本信息!B1: E013 工作簿按文件名是 330108 的，却是从 330106@2 导出的" in out


def test_a_workbook_exported_from_its_own_county_is_taken(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    tables = tables_with(tmp_path, "330108@2")
    assert main(["check", str(tables), "--county", "330108"]) == 0
    assert "E013" not in capsys.readouterr().out


def test_a_county_setting_its_citys_dibao_standard_is_warned(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """市域同标: 杭州 sets one dibao standard; a 西湖区 row of its own silently won over
    it (helper-45). W406 names the county's cell; the county's value still decides."""
    tables, path, book = copied_workbook(tmp_path, "counties/330106-西湖区.xlsx")
    book["标准参数"].append(["dibao_standard", "低保标准", 1380, "元/月", "2025-01-01", None, "测试", None, "是"])
    book.save(path)
    assert main(["check", str(tables), "--county", "330106"]) == 0
    out = capsys.readouterr().out
    assert "330106-西湖区.xlsx:标准参数!C4: W406 县级工作簿设定了「低保标准」1380" in out
    assert main(["check", str(ROOT / "tables"), "--county", "330106"]) == 0
    assert "W406" not in capsys.readouterr().out


def test_a_dibao_standard_of_zero_is_warned(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A 低保标准 of 0 gave 「0 个错误」 and the usual warnings (helper-46): every
    household falls out of dibao and no bound the province can check catches it."""
    tables, path, book = copied_workbook(tmp_path, "cities/330100-杭州市.xlsx")
    sheet = book["标准参数"]
    assert (sheet["A4"].value, sheet["C4"].value) == ("dibao_standard", 1301)
    sheet["F4"] = "2026-12-31"  # 1301 ends where the new period begins
    sheet.append(["dibao_standard", "低保标准", 0, "元/月", "2027-01-01", None, "测试", None, "是"])
    book.save(path)
    assert main(["check", str(tables), "--county", "330106"]) == 0
    out = capsys.readouterr().out
    assert "W407 标准参数「低保标准」2027-01-01 起的取值为 0，而省级的取值大于 0" in out
    assert out.count("W407") == 1  # not the province's own zero amounts (deductions, limits)


def test_the_e013_hint_names_an_export_command_that_parses(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """The hint said `jiuzhu export 330108@N --out …`, which export refuses (helper-58)."""
    from compiler.cli import parser

    tables = tables_with(tmp_path, "330106@2")
    assert main(["check", str(tables), "--county", "330108"]) == 1
    out = capsys.readouterr().out
    command = out.split("否则用 jiuzhu ", 1)[1].split(" 导出本县的版本", 1)[0]
    args = parser().parse_args(command.replace("N", "2").replace("…", "x.xlsx").split())
    assert (args.command, args.county, str(args.version)) == ("export", "330108", "2")


def test_two_csv_files_for_one_sheet_are_refused(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """「标准参数.csv」 beside 「standards.csv」: one was dropped unread and the other
    decided (helper-58). Both are named; check fails."""
    from tests.tables_fixture import COUNTY_FILE, county_sheets, write_tables
    from tests.workbooks import write_csv_folder

    tables = write_tables(tmp_path, county_form="csv")
    other = county_sheets()
    other["标准参数"][1][1] = "1500"
    write_csv_folder(tmp_path / "other", {"standards": other["标准参数"]})
    (tmp_path / "other" / "standards.csv").rename(tables / "counties" / COUNTY_FILE / "standards.csv")
    assert main(["check", str(tables), "--county", "330106", "--no-analysis"]) == 1
    out = capsys.readouterr().out
    assert f"{COUNTY_FILE}:标准参数: E005 「标准参数」与「standards」是同一个工作表，只读了「standards」" in out


def test_an_old_xls_workbook_is_said_not_skipped(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A county saved as .xls was skipped unsaid: check then called 330106 unknown."""
    from tests.tables_fixture import COUNTY_FILE, write_tables

    tables = write_tables(tmp_path)
    (tables / "counties" / f"{COUNTY_FILE}.xlsx").rename(tables / "counties" / f"{COUNTY_FILE}.xls")
    assert main(["check", str(tables), "--no-analysis"]) == 1
    out = capsys.readouterr().out
    assert f"{COUNTY_FILE}.xls: E002 这是旧版 Excel（.xls）文件，不能直接读取" in out
    assert "另存为 .xlsx" in out


def test_a_table_without_rules_is_warned(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from tests.tables_fixture import COUNTY_FILE, county_sheets, write_tables

    county = county_sheets()
    county["my_table"] = [
        ["my_table", "其他特殊困难", "FIRST"],
        ["规则", "输入", "输出"],
        ["名称", "income_per_capita", "my_out"],
        ["类型", "money", "boolean"],
        ["默认", None, "否"],
    ]
    tables = write_tables(tmp_path, county=county)
    assert main(["check", str(tables), "--county", "330106", "--no-analysis"]) == 0
    out = capsys.readouterr().out
    assert f"{COUNTY_FILE}.xlsx:my_table!A6: W201 决策表「my_table」没有规则，每户都得到默认行的结果" in out


def test_publish_without_an_effective_date_is_a_usage_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """It was E605 (a household file's code) and exit 1; no registry is made."""
    from tests.tables_fixture import write_tables

    tables, registry = write_tables(tmp_path), tmp_path / "registry.duckdb"
    assert main(["publish", "--county", "330106", "--tables", str(tables),
                 "--registry", str(registry), "--note", "x"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("jiuzhu publish：用法错误：发布须指定 --effective 生效日期")
    assert not registry.exists()


def test_a_citys_standard_with_a_digit_lost_is_warned_at_its_cell(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """杭州's 1301 typed 130.1: W405 was said only at the province's next row, as if
    the province's 1149 were the odd one (helper-57)."""
    tables, path, book = copied_workbook(tmp_path, "cities/330100-杭州市.xlsx")
    assert book["标准参数"]["C4"].value == 1301
    book["标准参数"]["C4"] = 130.1
    book.save(path)
    assert main(["check", str(tables), "--county", "330106", "--no-analysis"]) == 0
    out = capsys.readouterr().out
    assert ("330100-杭州市.xlsx:标准参数!C4: W405 标准参数「低保标准」2025-01-23 起的取值 130.10 元/人/月 "
            "是上一期 1259.00 元/人/月 的 0.10 倍") in out


def test_a_later_period_without_a_value_is_refused_before_publishing(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """A blank 2027 row was published as of 2026 and failed every decision from 2027
    on (helper-57): E405 is said for every own period in force on the date or later."""
    from tests.tables_fixture import COUNTY_FILE, county_sheets, write_tables

    county = county_sheets()
    county["标准参数"][1][3] = "2026-12-31"
    county["标准参数"].append(["dibao_standard", None, "2027-01-01", None, "待公布"])
    tables, registry = write_tables(tmp_path, county=county), tmp_path / "registry.duckdb"
    assert main(["check", str(tables), "--county", "330106", "--as-of", "2025-06-01",
                 "--no-analysis"]) == 1
    out = capsys.readouterr().out
    assert f"{COUNTY_FILE}.xlsx:标准参数!B3: E405 标准参数「低保标准」2027-01-01 起没有取值" in out
    assert main(["publish", "--county", "330106", "--effective", "2025-07-01", "--note", "x",
                 "--tables", str(tables), "--registry", str(registry)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("E701 330106 的决策表有 1 个错误，发布被拒绝") and "2027-01-01 起没有取值" in err
    assert not registry.exists()
    county["标准参数"][2][1] = "1400"  # filled in: both periods publish
    write_tables(tmp_path, county=county)
    assert main(["check", str(tables), "--county", "330106", "--as-of", "2025-06-01",
                 "--no-analysis"]) == 0


def test_a_merged_title_in_a_notes_sheet_blocks_nothing(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """说明 with its title merged over A1:C1 (what every Excel user does) was E006 and
    blocked check and publish (helper-57); merged cells in 标准参数 still are."""
    from tests.tables_fixture import COUNTY_FILE, county_sheets, write_tables
    from tests.workbooks import write_xlsx

    tables = write_tables(tmp_path)
    path = tables / "counties" / f"{COUNTY_FILE}.xlsx"
    sheets = {**county_sheets(), "说明": [["西湖区标准说明", None, None], ["2025 年起执行", None, None]]}
    write_xlsx(path, sheets, merged={"说明": ["A1:C1"]})
    assert main(["check", str(tables), "--county", "330106", "--no-analysis"]) == 0
    assert "E006" not in capsys.readouterr().out
    write_xlsx(path, sheets, merged={"说明": ["A1:C1"], "标准参数": ["D2:E2"]})
    assert main(["check", str(tables), "--county", "330106", "--no-analysis"]) == 1
    out = capsys.readouterr().out
    assert f"{COUNTY_FILE}.xlsx:标准参数!D2: E006 单元格 D2:E2 是合并单元格" in out
    assert "说明!A1" not in out


def test_an_unreadable_effective_date_is_said_once(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """2025-02-29 as 生效日期 gave E102 and then bound errors (E401) for every period,
    the undated row taken as in force from 2000 (helper-57): E102 alone."""
    tables, path, book = copied_workbook(tmp_path, "counties/330106-西湖区.xlsx")
    book["标准参数"].append(["minimum_wage", "最低工资", 2690, "元/月", "2025-02-29", None, "测试", None, "是"])
    book.save(path)
    assert main(["check", str(tables), "--county", "330106", "--no-analysis"]) == 1
    errors = [line for line in capsys.readouterr().out.splitlines() if ": E" in line]
    assert len(errors) == 1 and "标准参数!E4: E102 日期不存在；实际为「2025-02-29」" in errors[0], errors


def test_a_copy_of_a_list_sheet_saved_beside_it_is_refused(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """「标准参数 - 副本.csv」 (the file manager's copy) was never read, silently: a new
    standard typed into it counted for nothing (helper-57)."""
    from tests.tables_fixture import COUNTY_FILE, county_sheets, write_tables
    from tests.workbooks import write_csv_folder

    tables = write_tables(tmp_path, county_form="csv")
    write_csv_folder(tmp_path / "copy", {"标准参数 - 副本": county_sheets()["标准参数"]})
    (tmp_path / "copy" / "标准参数 - 副本.csv").rename(
        tables / "counties" / COUNTY_FILE / "标准参数 - 副本.csv"
    )
    assert main(["check", str(tables), "--county", "330106", "--no-analysis"]) == 1
    out = capsys.readouterr().out
    assert f"{COUNTY_FILE}:标准参数 - 副本: E005 「标准参数 - 副本」像是「标准参数」的副本，不会被读取" in out


@pytest.mark.parametrize("command", [["check", "tables"], ["build", "tables", "--out", "x"],
                                     ["evaluate", "--households", "h.jsonl"]])
def test_a_county_code_that_is_not_six_digits_is_a_usage_error(command, capsys) -> None:  # type: ignore[no-untyped-def]
    """33010 was E606 and exit 1 in check, build and evaluate, exit 2 in publish."""
    with pytest.raises(SystemExit) as stopped:
        main([*command, "--county", "33010"])
    assert stopped.value.code == 2
    assert "县（市、区）代码「33010」应为六位数字，如 330106" in capsys.readouterr().err


def test_a_cycle_a_county_override_makes_is_said_at_the_override(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """rigid_spending = rigid_spending_excess + 1 in 西湖区's 派生值 was reported at the
    province's row of rigid_spending_excess (helper-58)."""
    tables, path, book = copied_workbook(tmp_path, "counties/330106-西湖区.xlsx")
    sheet = book.create_sheet("派生值")
    sheet.append(["标识", "名称", "层级", "类型", "表达式", "依据"])
    sheet.append(["rigid_spending", "刚性支出", "家庭", "money", "rigid_spending_excess + 1", "测试"])
    book.save(path)
    assert main(["check", str(tables), "--county", "330106", "--no-analysis"]) == 1
    out = capsys.readouterr().out
    assert "330106-西湖区.xlsx:派生值!A2: E305 循环引用：" in out
