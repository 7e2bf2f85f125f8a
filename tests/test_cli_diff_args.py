"""What ``jiuzhu diff`` says about its two sides before it compares anything.

A date after ``@`` outside the years the working-day calendar covers is refused as
``--as-of`` refuses one (a usage error, exit 2, the same words); a side written as a
file path that does not exist is E001 naming the path, not E704 「无法识别」.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from compiler import cli
from compiler.registry_publish import publish
from tests.tables_fixture import COUNTY, write_tables

OUTSIDE = "超出 2015-01-01 至 2040-12-31 的范围（工作日历覆盖的年份）"


@pytest.fixture
def common(tmp_path: Path) -> list[str]:
    """--tables and --registry of a county with one published version (330106@1)."""
    tables = write_tables(tmp_path)
    registry = tmp_path / "registry" / "r.duckdb"
    publish(tables, COUNTY, date(2025, 1, 1), "初版", "张三", 0, registry, None)
    return ["--tables", str(tables), "--registry", str(registry)]


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as stopped:
        cli.main(argv)
    err = capsys.readouterr().err
    assert stopped.value.code == 2, err
    return err.splitlines()[-1]


@pytest.mark.parametrize(
    ("old", "new", "argument", "typed"),
    [
        (f"{COUNTY}@2041-01-01", COUNTY, "old", "2041-01-01"),
        (COUNTY, f"{COUNTY}@2014-12-31", "new", "2014-12-31"),
        (f"{COUNTY}@latest", f"{COUNTY}@20410101", "new", "20410101"),
    ],
    ids=["after-2040", "before-2015", "basic-iso-form"],
)
def test_a_side_dated_outside_the_calendar_is_refused_as_as_of_is(
    common, capsys, old, new, argument, typed
):
    said = usage_error(["diff", old, new, *common], capsys)
    assert said == f"jiuzhu diff：用法错误：参数 {argument}：日期「{typed}」{OUTSIDE}"
    as_of = usage_error(["diff", COUNTY, COUNTY, "--as-of", typed, *common], capsys)
    assert said.split("：", 3)[3] == as_of.split("：", 3)[3]  # the same words


@pytest.mark.parametrize(
    "missing",
    ["nosuch.xlsx", "counties/330106-西湖区.xlsx", "old/330106", "草稿.yaml"],
    ids=["workbook", "workbook-in-a-folder", "csv-folder", "yaml"],
)
def test_a_side_that_names_a_missing_file_is_e001_naming_it(common, capsys, missing):
    code = cli.main(["diff", f"{COUNTY}@latest", missing, *common])
    err = capsys.readouterr().err
    assert code == 1, err
    assert f"{missing}: E001 找不到文件或文件夹「{missing}」" in err
    assert "E704" not in err and "无法识别" not in err and "Traceback" not in err
