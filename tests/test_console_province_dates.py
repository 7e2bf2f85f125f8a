"""Dates typed or pasted into the 省级工作簿 grids are read as the tables read a date
cell; an edit with a date the tables would refuse is not saved to the draft, and every
such cell is named.

The province page wrote any edit to the draft at once: 「2025/13/45」 or 「明年」 in a
standard's 生效日期 was saved, and only ``jiuzhu check tables`` said E102 later; a
1970-01-01 was E408 only at the check (tester, session 16). The county's 标准与规则
page refused such dates already (tests/test_console_grid_dates.py).
"""
# ruff: noqa: F811  (tests ask for the env fixture of tests/test_console.py by name)

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from compiler.diagnostics import Location, Report
from compiler.load import load_workbook
from compiler.model import WorkbookKind
from console import grids
from console.sheets import Sheet
from tests.test_console import MAINTAINER, env, page, shown, start  # noqa: F401
from tests.workbooks import write_csv_folder

pytestmark = pytest.mark.usefixtures("env")  # tables, users, registry: tests/test_console.py


def draft_sheet(env: dict[str, Path], name: str = "标准参数") -> Path:
    return env["state"] / "drafts" / "province" / "sheng" / "tables" / "province" / f"{name}.csv"


def draft_rows(env: dict[str, Path], name: str = "标准参数") -> list[dict[str, str]]:
    with draft_sheet(env, name).open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def province_page(sheet: str = "标准参数") -> AppTest:
    at = page(start(MAINTAINER), "province")
    at.selectbox(key="province_sheet").set_value(sheet)
    at.run()
    assert not at.exception, at.exception
    return at


def edit(at: AppTest, changes: dict[int, dict[str, str]], added: list[dict[str, str]] | None = None) -> AppTest:
    """Edit cells of the province grid (row -> column -> text), as a paste does, and run."""
    editor = at.data_editor[0]
    at.session_state[editor.key] = {"edited_rows": changes, "added_rows": added or [], "deleted_rows": []}
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        pytest.param("2025/13/45", "**E102** 「标准参数」第 1 行「生效日期」（E2）：日期不存在；实际为「2025/13/45」；"
                     "应为日期，如 2025-04-07、2025/4/7 或 2025年4月7日", id="no-such-day"),
        pytest.param("明年", "**E102** 「标准参数」第 1 行「生效日期」（E2）：无法读作日期；实际为「明年」", id="words"),
        pytest.param("2027", "只写了年份，不是完整日期；实际为「2027」", id="year-alone"),
        pytest.param("1/2/2027", "无法读作日期；实际为「1/2/2027」", id="year-last"),
        pytest.param("1970-01-01", "**E408** 「标准参数」第 1 行「生效日期」（E2）：生效日期 1970-01-01 早于 "
                     "2015-01-01，不在决策可用的 2015 至 2040 年之间；实际为「1970-01-01」；"
                     "应为不早于 2015-01-01、不晚于 2040-12-31 的日期", id="1970"),
        pytest.param("25569", "**E408** 「标准参数」第 1 行「生效日期」（E2）：生效日期 1970-01-01 早于 2015-01-01",
                     id="a-serial-of-1970"),
        pytest.param("2041年1月1日", "（E2）：生效日期 2041-01-01 晚于 2040-12-31，不在决策可用的 2015 至 2040 年之间", id="2041"),
    ],
)
def test_a_refused_date_saves_nothing_and_is_named_by_its_cell(
    env: dict[str, Path], typed: str, said: str
) -> None:
    at = province_page()
    before = draft_sheet(env).read_bytes()
    edit(at, {0: {"生效日期": typed, "备注": "同一次修改的另一格"}})
    text = shown(at)
    assert "这次修改没有保存，草稿未改动" in text, text
    assert said in text, text
    assert draft_sheet(env).read_bytes() == before  # the other cell neither
    assert at.data_editor[0].value.loc[0, "生效日期"] == "2024-01-01"  # the grid as saved
    assert "province_flash" not in at.session_state


def test_the_refusal_is_said_once_and_the_next_edit_is_saved(env: dict[str, Path]) -> None:
    at = edit(province_page(), {0: {"生效日期": "明年"}})
    assert "E102" in shown(at)
    at.run()  # a click elsewhere: the refusal was said, the grid shows the draft
    assert "E102" not in shown(at)
    edit(at, {0: {"生效日期": "2025年4月7日"}})
    assert "E102" not in shown(at)
    assert draft_rows(env)[0]["生效日期"] == "2025-04-07"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        pytest.param("2025年4月7日", "2025-04-07", id="chinese"),
        pytest.param("２０２５－０４－０７", "2025-04-07", id="full-width"),
        pytest.param("2025/4/7", "2025-04-07", id="slashes"),
        pytest.param("2015-01-01", "2015-01-01", id="first-day"),
        pytest.param("2040-12-31", "2040-12-31", id="last-day"),
    ],
)
def test_a_date_that_reads_is_saved_as_the_date_it_reads_as(
    env: dict[str, Path], typed: str, stored: str
) -> None:
    at = edit(province_page(), {0: {"生效日期": typed}})
    assert "没有保存" not in shown(at), shown(at)
    assert draft_rows(env)[0]["生效日期"] == stored


def test_an_excel_serial_is_saved_and_said_as_the_day_it_reads_as(env: dict[str, Path]) -> None:
    at = edit(province_page(), {0: {"生效日期": "45900"}})
    assert "已保存对「标准参数」的修改（草稿）；「生效日期」（E2）的「45900」按 Excel 日期序号读作 2025-08-31" in shown(at)
    assert draft_rows(env)[0]["生效日期"] == "2025-08-31"


def test_a_pasted_block_names_every_refused_date_and_saves_none_of_it(env: dict[str, Path]) -> None:
    """Three rows pasted over 生效日期 and 失效日期, and a new row: four dates refused,
    each named by row, column, cell, the text and the form expected; one good date
    and the values in the same paste are not saved either."""
    at = province_page()
    before = draft_sheet(env).read_bytes()
    edit(at, {
        0: {"值": "1200", "生效日期": "2025/13/45", "失效日期": "2026-12-31"},
        1: {"生效日期": "2025-01-01", "失效日期": "明年"},
        2: {"生效日期": "1970-01-01", "失效日期": "2026/2/30"},
    }, added=[{"标识": "new_standard", "生效日期": "下个月"}])
    text = shown(at)
    assert "这次修改没有保存，草稿未改动" in text and "（共 5 处）" in text, text
    for line in (
        "**E102** 「标准参数」第 1 行「生效日期」（E2）：日期不存在；实际为「2025/13/45」；应为日期，如 2025-04-07",
        "**E102** 「标准参数」第 2 行「失效日期」（F3）：无法读作日期；实际为「明年」；应为日期",
        "**E408** 「标准参数」第 3 行「生效日期」（E4）：生效日期 1970-01-01 早于 2015-01-01",
        "**E102** 「标准参数」第 3 行「失效日期」（F4）：日期不存在；实际为「2026/2/30」",
        "**E102** 「标准参数」第 4 行「生效日期」（E5）：无法读作日期；实际为「下个月」",
    ):
        assert line in text, (line, text)
    assert text.count("**E102**") + text.count("**E408**") == 5
    assert draft_sheet(env).read_bytes() == before
    assert "new_standard" not in str(at.data_editor[0].value["标识"].tolist())


def test_a_calendar_date_that_does_not_read_is_refused(env: dict[str, Path]) -> None:
    at = province_page("日历")
    before = draft_sheet(env, "日历").read_bytes()
    edit(at, {0: {"日期": "元旦"}})
    assert "**E102** 「日历」第 1 行「日期」（A2）：无法读作日期；实际为「元旦」" in shown(at), shown(at)
    assert draft_sheet(env, "日历").read_bytes() == before


def test_date_columns_are_text_columns_with_their_forms_in_the_help(env: dict[str, Path]) -> None:
    import json

    columns = json.loads(province_page().data_editor[0].proto.columns)
    for name in ("生效日期", "失效日期"):
        assert "2027年1月1日" in columns[name]["help"], columns[name]


def test_the_grid_refuses_a_start_outside_the_years_under_an_english_header() -> None:
    """effective_from is read by the tables as 生效日期 (compiler/load.py COLUMNS); an
    effective_until of 1970 is no E408 (the tables hold only the start to the years)."""
    sheet = Sheet("standards", [["id", "value", "effective_from", "effective_until"],
                                ["dibao_standard", "1149", "2024-01-01", None]])
    grid = grids.to_grid(sheet)
    assert grid.date_columns == ["effective_from", "effective_until"]
    frame = grid.frame.copy()
    frame.loc[0, "effective_from"] = "2041-01-01"
    frame.loc[0, "effective_until"] = "1970-01-01"
    refused, _ = grids.typed_dates(grid, frame, "standards.csv")
    assert [(d.code, d.location.cell, d.found) for d in refused] == [("E408", "C2", "2041-01-01")]


@pytest.mark.parametrize("day", [date(1970, 1, 1), date(2041, 1, 1)], ids=["early", "late"])
def test_the_refusal_says_what_jiuzhu_check_says(tmp_path: Path, day: date) -> None:
    """The console's E408 is worded as the loader's, for the same cell."""
    folder = write_csv_folder(tmp_path / "province", {"标准参数": [
        ["标识", "值", "生效日期"], ["dibao_standard", "1149", day.isoformat()]]})
    report = Report()
    load_workbook(folder, WorkbookKind.PROVINCE, report)
    (checked,) = [d for d in report.items if d.code == "E408"]
    said = grids.outside_years(day, day.isoformat(), checked.location)
    assert (said.message, said.found, said.expected, said.hint, said.location) == (
        checked.message, checked.found, checked.expected, checked.hint, checked.location)
    assert checked.location.cell == "C2" and isinstance(checked.location, Location)
