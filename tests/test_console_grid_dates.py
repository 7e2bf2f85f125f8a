"""Dates typed or pasted into the 标准与规则 grid are read as the tables read a date
cell, or refused by their cell with nothing saved.

Streamlit's date column saved a pasted 45900 as 1970-01-01, 2027年1月1日 as today and
1/2/2027 as 2 January 2027, and ignored 2027.1.1 and full-width digits, each time saying
已保存 (helper-89). The date columns are text now, read by ``compiler.normalise``.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from console import grids
from console.sheets import Sheet
from tests.test_console import ADMIN, edit_grid, env, page, shown, start  # noqa: F401

pytestmark = pytest.mark.usefixtures("env")  # tables, users, registry: tests/test_console.py


def draft_workbook(state: Path) -> Path:
    (workbook,) = (state / "drafts" / "330106" / "xihu" / "tables" / "counties").glob("330106*.xlsx")
    return workbook


def stored_start(state: Path) -> object:
    """The 生效日期 cell of the county's first standard row as the .xlsx stores it."""
    sheet = openpyxl.load_workbook(draft_workbook(state))["标准参数"]
    header = [c.value for c in sheet[1]]
    value = sheet.cell(2, header.index("生效日期") + 1).value
    return value.date() if hasattr(value, "date") else value


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        pytest.param("2027年1月1日", date(2027, 1, 1), id="chinese"),
        pytest.param("2027年3月5日", date(2027, 3, 5), id="chinese-march"),
        pytest.param("2027.1.1", date(2027, 1, 1), id="dots"),
        pytest.param("２０２７－０１－０１", date(2027, 1, 1), id="full-width"),
        pytest.param("2027/1/1", date(2027, 1, 1), id="slashes"),
        pytest.param("45658", date(2025, 1, 1), id="excel-serial"),
        pytest.param("45900", date(2025, 8, 31), id="excel-serial-august"),
    ],
)
def test_a_date_typed_into_the_grid_is_read_as_a_date_cell_reads(
    env: dict[str, Path], typed: str, read: date  # noqa: F811
) -> None:
    at = edit_grid(page(start(ADMIN), "standards"), {0: {"生效日期": typed}})
    assert "已保存对「标准参数」的修改" in shown(at), shown(at)
    assert stored_start(env["state"]) == read
    assert at.data_editor[0].value.loc[0, "生效日期"] == read.isoformat()  # shown as read


def test_an_excel_serial_says_the_day_it_was_read_as(env: dict[str, Path]) -> None:  # noqa: F811
    at = edit_grid(page(start(ADMIN), "standards"), {0: {"生效日期": "45900"}})
    assert "「生效日期」（C2）的「45900」按 Excel 日期序号读作 2025-08-31" in shown(at)
    assert "1970" not in shown(at)


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        pytest.param("1/2/2027", "无法读作日期", id="year-last"),
        pytest.param("2027", "只写了年份，不是完整日期", id="year-alone"),
        pytest.param("2027-02-30", "日期不存在", id="no-such-day"),
        pytest.param("明年元旦", "无法读作日期", id="words"),
    ],
)
def test_a_date_that_does_not_read_is_refused_by_its_cell_and_nothing_saved(
    env: dict[str, Path], typed: str, said: str  # noqa: F811
) -> None:
    at = page(start(ADMIN), "standards")
    before = draft_workbook(env["state"]).read_bytes()
    edit_grid(at, {0: {"生效日期": typed, "来源": "同一次修改的另一格"}})
    text = shown(at)
    assert "以下日期无法读取，这次修改没有保存，工作副本未改动" in text, text
    assert f"**E102** 「标准参数」第 1 行「生效日期」（C2）：{said}；实际为「{typed}」" in text, text
    assert "已保存" not in text
    assert draft_workbook(env["state"]).read_bytes() == before  # the other cell neither
    assert at.data_editor[0].value.loc[0, "生效日期"] == "2025-01-23"  # the grid as saved


def test_a_new_row_with_an_unreadable_date_names_its_row(env: dict[str, Path]) -> None:  # noqa: F811
    at = page(start(ADMIN), "standards")
    editor = at.data_editor[0]
    at.session_state[editor.key] = {"edited_rows": {}, "deleted_rows": [], "added_rows": [
        {"标识": "dibao_standard", "值": "1500", "生效日期": "2027-01-01", "失效日期": "12/31/2027"}]}
    at.run()
    assert "**E102** 「标准参数」第 2 行「失效日期」（D3）" in shown(at), shown(at)
    assert "1500" not in str(pd.DataFrame(at.data_editor[0].value)["值"].tolist())


def test_date_columns_are_text_columns_with_their_forms_in_the_help(env: dict[str, Path]) -> None:  # noqa: F811
    """No date picker: its paste reading is the browser's, not the tables'."""
    import json

    at = page(start(ADMIN), "standards")
    columns = json.loads(at.data_editor[0].proto.columns)
    for name in ("生效日期", "失效日期"):
        assert columns[name]["type_config"]["type"] == "text", columns[name]
        assert "2027年1月1日" in columns[name]["help"]


def test_the_grid_reads_dates_only_in_date_columns_of_list_sheets() -> None:
    sheet = Sheet("标准参数", [["标识", "值", "生效日期", "失效日期"],
                           ["dibao_standard", "45900", date(2025, 1, 23), None]])
    grid = grids.to_grid(sheet)
    frame = grid.frame.copy()
    frame.loc[0, "生效日期"] = "２０２７年１月１日"
    frame.loc[0, "失效日期"] = "2027/13/1"
    back = grids.from_grid(grid, frame)
    # 值 45900 is not a date column's: kept as typed
    assert back.rows[1] == ["dibao_standard", "45900", date(2027, 1, 1), "2027/13/1"]
    refused, notes = grids.typed_dates(grid, frame, "w.xlsx")
    assert [(d.code, d.location.cell, d.found) for d in refused] == [("E102", "D2", "2027/13/1")]
    assert notes == []
    table = Sheet("t", [["t", "表", "FIRST"], ["规则", "输入"], ["名称", "日期"], ["类型", "date"],
                        ["r1", ">= 2025-01-01"]])
    assert grids.to_grid(table).date_columns == []  # a table's cells are tests
