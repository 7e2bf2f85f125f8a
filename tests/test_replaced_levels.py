"""The levels W203 and E212 name when a city replaces, or a county replaces what its
city replaced (helper-105).

Every message said 县级替换 … 省级的是: a city's renamed derived value was called a
county's, and a county's replacement of the city's value was compared, in words, with
the province's while the value it replaced (its 名称, its type) was the city's.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from compiler.diagnostics import Diagnostic, Report
from compiler.engine import open_project
from tests.tables_fixture import COUNTY, county_sheets, province_sheets, write_tables
from tests.workbooks import write_xlsx

AS_OF = date(2025, 6, 1)
DERIVED_HEADER = ["标识", "名称", "层级", "类型", "表达式", "依据", "县可改"]
CITY = "cities/330100-杭州市.xlsx"


def province() -> dict:
    """The fixture's province: marginal_line (边缘标准) and household_group replaceable."""
    sheets = province_sheets()
    sheets["派生值"][0].append("县可改")
    sheets["派生值"][2].append("是")
    sheets["household_group"][0].append("县可改=是")
    return sheets


def marginal(name: str, dtype: str = "money", replaceable: str | None = "是") -> list:
    return ["marginal_line", name, "家庭", dtype, "1.6 * 低保标准", "测试", replaceable]


def check(tmp_path: Path, city: dict, county: dict) -> Report:
    root = write_tables(tmp_path, province(), county_sheets() | county)
    (root / "cities").mkdir()
    write_xlsx(root / CITY, {"标准参数": county_sheets()["标准参数"]} | city)
    report = Report()
    open_project(root, [COUNTY], AS_OF, report=report)
    return report


def only(report: Report, code: str) -> list[Diagnostic]:
    return [d for d in report.items if d.code == code]


def where(diagnostic: Diagnostic) -> tuple[str, str | None]:
    file = Path(diagnostic.location.file or "")
    return f"{file.parent.name}/{file.name}", diagnostic.location.cell


def derived(*rows: list) -> dict:
    return {"派生值": [DERIVED_HEADER, *rows]}


def test_a_city_renaming_a_derived_value_is_said_to_be_the_city(tmp_path: Path) -> None:
    [warned] = only(check(tmp_path, derived(marginal("杭州边缘线")), {}), "W203")
    assert where(warned) == (CITY, "B2")
    assert "市级替换的派生值「marginal_line」名称写作「杭州边缘线」，省级的名称是「边缘标准」" in (
        warned.message
    )


def test_a_county_renaming_the_citys_value_is_compared_with_the_citys_name(
    tmp_path: Path,
) -> None:
    report = check(tmp_path, derived(marginal("边缘标准")), derived(marginal("西湖边缘线")))
    [warned] = only(report, "W203")
    assert where(warned) == ("counties/330106-西湖区.xlsx", "B2")
    assert "县级替换的派生值「marginal_line」名称写作「西湖边缘线」，市级的名称是「边缘标准」" in (
        warned.message
    )
    assert warned.expected == "边缘标准（与市级相同）"
    assert "与市级维护人员商定" in (warned.hint or "")


def test_a_county_retyping_the_citys_value_is_refused_naming_the_city(
    tmp_path: Path,
) -> None:
    report = check(tmp_path, derived(marginal("边缘标准")), derived(marginal("边缘标准", "number")))
    [refused] = only(report, "E212")
    assert where(refused) == ("counties/330106-西湖区.xlsx", "D2")
    assert "县级替换的派生值「marginal_line」的类型为 number（数值），市级为 money（金额）" in (
        refused.message
    )
    assert refused.expected == "money（与市级相同）"


def test_a_county_replacing_the_citys_value_the_city_keeps_is_told_the_city_keeps_it(
    tmp_path: Path,
) -> None:
    """The city's row is not marked 县可改=是: the city, not the province, keeps it."""
    city = derived(marginal("边缘标准", replaceable=None))
    [refused] = only(check(tmp_path, city, derived(marginal("边缘标准"))), "E212")
    assert "「marginal_line」由市级统一规定，县级工作簿不能替换" in refused.message
    assert "请市级维护人员将其标为 县可改=是" in (refused.expected or "")


def test_a_city_table_changing_the_level_is_refused_as_the_citys(tmp_path: Path) -> None:
    table = [list(row) for row in province()["household_group"]]
    table[0][3] = "层级=成员"
    [refused] = only(check(tmp_path, {"household_group": table}, {}), "E212")
    assert where(refused) == (CITY, "D1")
    assert "市级替换的「household_group」层级为成员，省级的是家庭" in refused.message


@pytest.mark.parametrize("form", ["city-first", "county-alone"])
def test_a_county_table_changing_the_policy_names_what_it_replaced(
    tmp_path: Path, form: str
) -> None:
    table = [list(row) for row in province()["household_group"]]
    city = {"household_group": [list(row) for row in table]} if form == "city-first" else {}
    table[0][2] = "COLLECT"
    table[4][3] = None
    [refused] = only(check(tmp_path, city, {"household_group": table}), "E212")
    whose = "市级" if form == "city-first" else "省级"
    assert where(refused) == ("counties/330106-西湖区.xlsx", "C1")
    assert f"县级替换的「household_group」命中策略为 COLLECT，给出命中规则的输出列表；{whose}的 FIRST" in (
        refused.message
    )
