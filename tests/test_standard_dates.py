"""A standard row's 生效日期 outside the years decisions are made in is E408, and the
messages about a row say plainly when its 生效日期 is empty.

45900 pasted into the console's date picker was saved as 1970-01-01 and 发布前检查
offered to publish it (helper-89): ``jiuzhu check`` said nothing, while ``publish
--effective 1970-01-01`` is refused. W406 called an undated row 「（起始 起）」.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from compiler.cli import main
from tests.tables_fixture import county_sheets, write_tables
from tests.workbooks import write_xlsx


def check(tmp_path: Path, rows: list[list[object]], capsys: pytest.CaptureFixture[str],
          city: list[list[object]] | None = None) -> tuple[int, str]:
    """``jiuzhu check`` of 330106 with ``rows`` added to its 标准参数 sheet."""
    county = county_sheets()
    county["标准参数"].extend(rows)
    tables = write_tables(tmp_path, county=county)
    if city is not None:
        (tables / "cities").mkdir(exist_ok=True)
        write_xlsx(tables / "cities" / "330100-杭州市.xlsx",
                   {"标准参数": [["标识", "值", "单位", "生效日期", "失效日期", "来源"], *city]})
    code = main(["check", str(tables), "--county", "330106", "--as-of", "2025-06-01", "--no-analysis"])
    return code, capsys.readouterr().out


@pytest.mark.parametrize(
    ("written", "said"),
    [
        pytest.param(date(1970, 1, 1), "C3: E408 生效日期 1970-01-01 早于 2015-01-01，不在决策可用的 2015 至 2040 年之间"
                     "；实际为「1970-01-01」", id="1970"),
        pytest.param(25569, "C3: E408 生效日期 1970-01-01 早于 2015-01-01", id="a-serial-of-1970"),
        pytest.param("2014-12-31", "写 2015-01-01", id="the-day-before"),
        pytest.param("2041-01-01", "C3: E408 生效日期 2041-01-01 晚于 2040-12-31，不在决策可用的 2015 至 2040 年之间"
                     "；实际为「2041-01-01」；应为不早于 2015-01-01、不晚于 2040-12-31 的日期", id="2041"),
    ],
)
def test_a_start_outside_the_calendar_years_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], written: object, said: str
) -> None:
    code, out = check(tmp_path, [["marginal_multiplier", "1.6", written, None, "县文件"]], capsys)
    assert code == 1 and said in out, out
    assert out.count("E408") == 1


@pytest.mark.parametrize("written", ["2015-01-01", "2040-12-31"])
def test_the_first_and_last_day_of_the_calendar_are_taken(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], written: str
) -> None:
    code, out = check(tmp_path, [["marginal_multiplier", "1.6", written, None, "县文件"]], capsys)
    assert "E408" not in out and code == 0, out


def test_a_city_wide_standard_without_a_start_is_not_said_to_start_at_the_beginning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    county = [["dibao_standard", "1400", None, None, "县文件"]]
    city = [["dibao_standard", "1301", "元/人/月", "2025-01-01", None, "市文件"]]
    _, out = check(tmp_path, county, capsys, city)
    assert "C3: E108 标准参数缺少生效日期" in out, out
    assert "W406 县级工作簿设定了「低保标准」1400.00 元/人/月（生效日期未填）" in out, out
    assert "起始" not in out


def test_a_zero_amount_without_a_start_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out = check(tmp_path, [["dibao_standard", "0", None, "2024-12-31", "县文件"]], capsys)
    assert "W407 标准参数「低保标准」生效日期未填的一行取值为 0" in out, out
    assert "起始" not in out
