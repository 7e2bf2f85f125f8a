"""E710's hint after withdrawing a version whose change came from the city's workbook
(helper-137): exporting the county's workbook restores nothing there, since the city's
new row stays in tables/cities, so the hint says to restore the city's workbook and
withdraw in each county of the city. A county's own change keeps the export hint."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from compiler.errors import RegistryError
from compiler.registry_publish import publish, withdraw
from tests.tables_fixture import COUNTY, write_tables
from tests.workbooks import write_xlsx

CITY_FILE = "330100-杭州市.xlsx"
CITY_HEADER = ["标识", "值", "单位", "生效日期", "失效日期", "来源", "核实"]
OLD_CITY = [["dibao_standard", "1301", "元/人/月", "2025-01-23", None, "杭州市民政局", "是"]]
NEW_CITY = [
    ["dibao_standard", "1301", "元/人/月", "2025-01-23", "2026-12-31", "杭州市民政局", "是"],
    ["dibao_standard", "1350", "元/人/月", "2027-01-01", None, "杭民发〔2026〕1号", "是"],
]
COUNTY_ROWS = [["marginal_multiplier", "1.5", "2025-01-01", None, "西湖区文件"]]


def city(tables: Path, rows: list[list[object]]) -> None:
    (tables / "cities").mkdir(exist_ok=True)
    write_xlsx(tables / "cities" / CITY_FILE, {"标准参数": [CITY_HEADER, *rows]})


def county(tables: Path, rows: list[list[object]]) -> None:
    write_xlsx(tables / "counties" / "330106-西湖区.xlsx",
               {"标准参数": [["标识", "值", "生效日期", "失效日期", "来源"], *rows]})


def refusal(tables: Path, registry: Path) -> str:
    """Publish v1, change something, publish v2, withdraw it, publish again: E710."""
    with pytest.raises(RegistryError) as caught:
        publish(tables, COUNTY, date(2027, 1, 1), "again", "王五", 3, registry=registry)
    (found,) = caught.value.diagnostics
    assert found.code == "E710"
    return found.hint or ""


@pytest.fixture
def tables(tmp_path: Path) -> Path:
    folder = write_tables(tmp_path)
    county(folder, COUNTY_ROWS)
    city(folder, OLD_CITY)
    return folder


def published(tables: Path, registry: Path, change) -> None:  # type: ignore[no-untyped-def]
    publish(tables, COUNTY, date(2025, 4, 7), "初始版本", "王五", 0, registry=registry)
    change()
    publish(tables, COUNTY, date(2027, 1, 1), "新标准", "王五", 1, registry=registry)
    withdraw(registry, COUNTY, 2, "市文件暂缓执行", "王五", 2)


def test_a_withdrawn_city_change_is_undone_in_the_city_workbook(tables: Path, tmp_path: Path) -> None:
    registry = tmp_path / "registry.duckdb"
    published(tables, registry, lambda: city(tables, NEW_CITY))
    hint = refusal(tables, registry)
    assert "只在本县从市级工作簿读取的标准参数（「低保标准」）上不同" in hint
    assert f"应由市里恢复 {tables / 'cities' / CITY_FILE}" in hint
    assert "本市每个区县撤回" in hint and "--withdraw 版本号" in hint
    assert "jiuzhu export" not in hint  # it would restore nothing
    assert "--allow-withdrawn" in hint


def test_a_withdrawn_county_change_keeps_the_export_hint(tables: Path, tmp_path: Path) -> None:
    registry = tmp_path / "registry.duckdb"
    rows = [["marginal_multiplier", "1.5", "2025-01-01", "2026-12-31", "西湖区文件"],
            ["marginal_multiplier", "1.6", "2027-01-01", None, "西湖区文件"]]
    published(tables, registry, lambda: county(tables, rows))
    hint = refusal(tables, registry)
    assert "jiuzhu export --county 330106 --version 3" in hint
    assert "市级工作簿" not in hint


def test_a_change_in_both_workbooks_keeps_the_export_hint(tables: Path, tmp_path: Path) -> None:
    registry = tmp_path / "registry.duckdb"
    rows = [["marginal_multiplier", "1.5", "2025-01-01", "2026-12-31", "西湖区文件"],
            ["marginal_multiplier", "1.6", "2027-01-01", None, "西湖区文件"]]

    def both() -> None:
        city(tables, NEW_CITY)
        county(tables, rows)

    published(tables, registry, both)
    hint = refusal(tables, registry)
    assert "jiuzhu export --county 330106 --version 3" in hint
    assert "市级工作簿" not in hint


def _withdrawn_by_cli(tables: Path, registry: Path, change, capsys) -> str:  # type: ignore[no-untyped-def]
    """Publish v1, change something, publish v2, withdraw v2 with ``jiuzhu publish``:
    what the command prints about the working copy."""
    from compiler.cli import main

    publish(tables, COUNTY, date(2025, 4, 7), "初始版本", "王五", 0, registry=registry)
    change()
    publish(tables, COUNTY, date(2027, 1, 1), "新标准", "王五", 1, registry=registry)
    capsys.readouterr()
    code = main(["publish", "--county", COUNTY, "--tables", str(tables), "--registry",
                 str(registry), "--author", "王五", "--withdraw", "2", "--note", "市文件暂缓执行",
                 "--base", "2"])
    assert code == 0
    return capsys.readouterr().out


def test_the_withdrawal_itself_says_a_city_change_is_undone_in_the_city_workbook(
    tables: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    said = _withdrawn_by_cli(tables, tmp_path / "registry.duckdb",
                             lambda: city(tables, NEW_CITY), capsys)
    assert "已发布 330106@3" in said
    assert f"应由市里恢复 {tables / 'cities' / CITY_FILE}" in said
    assert "jiuzhu export" not in said  # exporting the county's workbook restores nothing


def test_the_withdrawal_of_a_county_change_names_the_export(
    tables: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [["marginal_multiplier", "1.5", "2025-01-01", "2026-12-31", "西湖区文件"],
            ["marginal_multiplier", "1.6", "2027-01-01", None, "西湖区文件"]]
    said = _withdrawn_by_cli(tables, tmp_path / "registry.duckdb",
                             lambda: county(tables, rows), capsys)
    assert "jiuzhu export --county 330106 --version 3" in said
    assert "市级工作簿" not in said
