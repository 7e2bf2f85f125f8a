"""A block pasted into the 标准与规则 grid with several dates the tables would refuse:
nothing of it is saved, and the refusal names every such cell (row and column as the
grid shows them, the cell, the text found, the form expected), so that the admin puts
them all right at once. A 生效日期 outside 2015-2040 is refused there too (E408), as
the check would refuse it after saving (tester, session 16).
"""
# ruff: noqa: F811  (tests ask for the env fixture of tests/test_console.py by name)

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_console import ADMIN, env, page, shown, start  # noqa: F401
from tests.test_console_grid_dates import draft_workbook

pytestmark = pytest.mark.usefixtures("env")  # tables, users, registry: tests/test_console.py


def test_a_pasted_block_names_every_refused_date(env: dict[str, Path]) -> None:
    at = page(start(ADMIN), "standards")
    before = draft_workbook(env["state"]).read_bytes()
    editor = at.data_editor[0]
    at.session_state[editor.key] = {
        "edited_rows": {0: {"值": "1500", "生效日期": "2027/13/1", "失效日期": "明年"}},
        "added_rows": [
            {"标识": "dibao_standard", "值": "1600", "生效日期": "2028-01-01", "失效日期": "2028/2/30"},
            {"标识": "dibao_standard", "值": "1700", "生效日期": "1/1/2029"},
        ],
        "deleted_rows": [],
    }
    at.run()
    assert not at.exception, at.exception
    text = shown(at)
    assert "以下日期无法读取，这次修改没有保存，工作副本未改动" in text and "（共 4 处）" in text, text
    for line in (
        "**E102** 「标准参数」第 1 行「生效日期」（C2）：日期不存在；实际为「2027/13/1」；应为日期，如 2025-04-07",
        "**E102** 「标准参数」第 1 行「失效日期」（D2）：无法读作日期；实际为「明年」；应为日期",
        "**E102** 「标准参数」第 2 行「失效日期」（D3）：日期不存在；实际为「2028/2/30」",
        "**E102** 「标准参数」第 3 行「生效日期」（C4）：无法读作日期；实际为「1/1/2029」",
    ):
        assert line in text, (line, text)
    assert text.count("**E102**") == 4
    assert draft_workbook(env["state"]).read_bytes() == before


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        pytest.param("1970-01-01", "**E408** 「标准参数」第 1 行「生效日期」（C2）：生效日期 1970-01-01 早于 "
                     "2015-01-01，不在决策可用的 2015 至 2040 年之间；实际为「1970-01-01」", id="1970"),
        pytest.param("25569", "生效日期 1970-01-01 早于 2015-01-01", id="a-serial-of-1970"),
        pytest.param("2041/1/1", "生效日期 2041-01-01 晚于 2040-12-31", id="2041"),
    ],
)
def test_a_start_outside_the_calendar_years_is_refused_at_save(
    env: dict[str, Path], typed: str, said: str
) -> None:
    at = page(start(ADMIN), "standards")
    before = draft_workbook(env["state"]).read_bytes()
    editor = at.data_editor[0]
    at.session_state[editor.key] = {"edited_rows": {0: {"生效日期": typed}}, "added_rows": [],
                                    "deleted_rows": []}
    at.run()
    text = shown(at)
    assert "以下日期不在 2015 至 2040 年之间，这次修改没有保存，工作副本未改动" in text, text
    assert said in text and "已保存" not in text, text
    assert draft_workbook(env["state"]).read_bytes() == before


def test_an_end_date_of_any_year_is_saved(env: dict[str, Path]) -> None:
    """Only the 生效日期 is held to the years (E408); a 失效日期 of 2045 is the check's."""
    at = page(start(ADMIN), "standards")
    editor = at.data_editor[0]
    at.session_state[editor.key] = {"edited_rows": {0: {"失效日期": "2045-12-31"}}, "added_rows": [],
                                    "deleted_rows": []}
    at.run()
    assert "已保存对「标准参数」的修改" in shown(at), shown(at)
