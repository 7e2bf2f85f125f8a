"""Where ``check`` says that a county's new item takes a name another has (E207), and
what it says of a county's derived value renamed (W203) (helper-98).

A county standard added under the 名称 of a county derived value was refused at the
derived value's cell, whichever had the name first, and the message did not say where
the other was. A county derived value replacing the province's under another 名称
passed without a word, though explanations then said one name and the console the
other.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from compiler.diagnostics import Diagnostic, Report
from compiler.engine import open_project
from tests.tables_fixture import COUNTY, county_sheets, province_sheets, write_tables

AS_OF = date(2025, 6, 1)
DERIVED_HEADER = ["标识", "名称", "层级", "类型", "表达式", "依据"]
STANDARDS_HEADER = ["标识", "名称", "值", "单位", "生效日期", "失效日期", "来源", "说明", "类型"]
DIBAO_ROW = ["dibao_standard", "低保标准", "1301", "元/人/月", "2025-01-23", None, "x", None, None]


def province() -> dict:
    """The fixture's province, whose 边缘标准 (marginal_line) a county may replace."""
    sheets = province_sheets()
    sheets["派生值"][0].append("县可改")
    sheets["派生值"][2].append("是")
    return sheets


def county(derived: list[list[object]], *standards: list[object]) -> dict:
    sheets = county_sheets()
    sheets["标准参数"] = [STANDARDS_HEADER, DIBAO_ROW, *standards]
    if derived:
        sheets["派生值"] = [DERIVED_HEADER, *derived]
    return sheets


def check(tmp_path: Path, sheets: dict, form: str = "xlsx") -> Report:
    report = Report()
    root = write_tables(tmp_path, province(), sheets, county_form=form)
    open_project(root, [COUNTY], AS_OF, report=report)
    return report


def only(report: Report, code: str) -> list[Diagnostic]:
    return [d for d in report.items if d.code == code]


def at(diagnostic: Diagnostic) -> tuple[str | None, str | None]:
    return diagnostic.location.sheet, diagnostic.location.cell


def new_standard(name: str) -> list[object]:
    return ["kh_line", name, "1500", "元/人/月", "2025-01-01", None, "x", None, "money"]


# ---------------------------------------------------------------- E207 at the newcomer


@pytest.mark.parametrize("form", ["xlsx", "csv"])
def test_a_new_standard_named_as_a_county_derived_value_is_refused_at_the_standard(
    tmp_path: Path, form: str
) -> None:
    derived = [["kh_floor", "开化线", "家庭", "money", "2 * 低保标准", "x"]]
    report = check(tmp_path, county(derived, new_standard("开化线")), form)
    [refused] = only(report, "E207")
    assert at(refused) == ("标准参数", "B3")
    assert (
        "标准参数「kh_line」的名称「开化线」已是派生值「kh_floor」的名称（派生值!B2）"
        in refused.message
    )


def test_a_new_standard_named_as_a_replaced_derived_value_is_refused_at_the_standard(
    tmp_path: Path,
) -> None:
    """The county's marginal_line keeps the province's 名称 边缘标准: the new
    standard brought the name second."""
    derived = [["marginal_line", "边缘标准", "家庭", "money", "1.6 * 低保标准", "x"]]
    report = check(tmp_path, county(derived, new_standard("边缘标准")))
    [refused] = only(report, "E207")
    assert at(refused) == ("标准参数", "B3")
    assert "已是派生值「marginal_line」的名称（派生值!B2）" in refused.message


def test_a_new_standard_named_as_the_provinces_derived_value_names_its_workbook(
    tmp_path: Path,
) -> None:
    report = check(tmp_path, county([], new_standard("边缘标准")))
    [refused] = only(report, "E207")
    assert at(refused) == ("标准参数", "B3")
    assert "已是派生值「marginal_line」的名称（" in refused.message
    assert "province:派生值!B3）" in refused.message


def test_two_county_derived_values_of_one_name_are_refused_at_the_later(
    tmp_path: Path,
) -> None:
    derived = [
        ["kh_floor", "开化线", "家庭", "money", "2 * 低保标准", "x"],
        ["kh_roof", "开化线", "家庭", "money", "3 * 低保标准", "x"],
    ]
    [refused] = only(check(tmp_path, county(derived)), "E207")
    assert at(refused) == ("派生值", "B3")
    assert "派生值「kh_roof」的名称「开化线」已是派生值「kh_floor」的名称（派生值!B2）" in (
        refused.message
    )


# ---------------------------------------------------------------- W203 renamed replacement


@pytest.mark.parametrize("form", ["xlsx", "csv"])
def test_a_replaced_derived_value_under_another_name_is_warned_at_its_name(
    tmp_path: Path, form: str
) -> None:
    derived = [["marginal_line", "开化边缘线", "家庭", "money", "1.6 * 低保标准", "x"]]
    report = check(tmp_path, county(derived), form)
    [warned] = only(report, "W203")
    assert at(warned) == ("派生值", "B2")
    assert "「marginal_line」名称写作「开化边缘线」，省级的名称是「边缘标准」" in warned.message
    assert warned.found == "开化边缘线" and "边缘标准" in (warned.expected or "")


def test_a_replaced_derived_value_without_a_name_is_warned(tmp_path: Path) -> None:
    derived = [["marginal_line", None, "家庭", "money", "1.6 * 低保标准", "x"]]
    [warned] = only(check(tmp_path, county(derived)), "W203")
    assert "没有写名称，省级的名称是「边缘标准」" in warned.message


def test_a_replaced_derived_value_under_the_provinces_name_is_not_warned(
    tmp_path: Path,
) -> None:
    derived = [["marginal_line", "边缘标准", "家庭", "money", "1.6 * 低保标准", "x"]]
    report = check(tmp_path, county(derived))
    assert not only(report, "W203") and not report.has_errors, report.items


def test_a_renamed_replacement_is_still_used(tmp_path: Path) -> None:
    """W203 warns; it does not refuse the replacement as E212 does."""
    derived = [["marginal_line", "开化边缘线", "家庭", "money", "1.6 * 低保标准", "x"]]
    province_sheet = province()
    province_sheet["household_group"][6][1] = "[低保标准..marginal_line)"
    root = write_tables(tmp_path, province_sheet, county(derived))
    project = open_project(root, [COUNTY], AS_OF, report=Report())
    assert project.plan(COUNTY).derived["marginal_line"].text == "1.6 * 低保标准"
