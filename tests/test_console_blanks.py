"""Empty values on 历史与对比 and 一致性检查 are blank, never the text "None": Streamlit
shows a missing value in a table as "None" unless told otherwise, and text built from
a missing value (a calendar day without a note) said it too."""
# ruff: noqa: F811  (tests ask for the env fixture of tests/test_console.py by name)

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.tables_fixture import province_sheets, write_tables
from tests.test_console import (  # noqa: F401
    ADMIN,
    button,
    compare_first_with_work,
    env,
    frames,
    page,
    publish,
    shown,
    start,
)

pytestmark = pytest.mark.usefixtures("env")  # tables, users, registry: tests/test_console.py


def assert_no_none(at: AppTest) -> None:
    """No table cell is missing or reads "None", every table shows a missing value
    blank, and no text on the page says "None"."""
    assert at.dataframe, "the page showed no table"
    for table in at.dataframe:
        assert table.proto.HasField("placeholder") and table.proto.placeholder == ""
        frame = table.value
        assert not frame.isna().any().any(), frame[frame.isna().any(axis=1)]
        cells = frame.astype(str)
        assert not cells.apply(lambda c: c.str.contains("None")).any().any(), cells
    assert "None" not in shown(at)


def test_history_and_its_diff_show_no_none(env: dict[str, Path]) -> None:
    at = publish(start(ADMIN), "首次发布")
    button(at, "确认发布").click()
    at.run()
    sheets = province_sheets()
    sheets["日历"].append(["2025-10-11", "补班", None])  # a make-up working day, no note
    sheets["标准参数"][3][3] = None  # the income cap loses its unit
    write_tables(env["tables"].parent, province=sheets)
    page(at, "history")
    assert_no_none(at)
    compare_first_with_work(at)
    assert not at.exception
    table = frames(at)
    assert "日历 2025-10-11" in table and "补班" in table  # the day is listed, its note blank
    assert "单位" in table and "（无）" in table  # a unit now absent says so
    assert_no_none(at)


def test_the_analysis_page_shows_no_none(env: dict[str, Path]) -> None:
    """A gap whose witness has no income at all (a NULL input)."""
    sheets = province_sheets()
    sheets["household_group"][4][3] = None  # no default: households outside the rules
    write_tables(env["tables"].parent, province=sheets)
    at = page(start(ADMIN), "analysis")
    assert "E501" in shown(at)
    table = frames(at)
    assert "income_per_capita" in table and "空" in table
    assert_no_none(at)
