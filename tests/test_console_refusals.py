"""调整一项标准 checks the row it would write as ``jiuzhu check`` does, before writing.

A value the check refuses (1301元/年 for 低保标准, whose unit is 元/人/月: E110) was
written into the working copy with 「已加入「低保标准」1301元/年」 and reported only
afterwards (helper-70). Now the check's errors for that row are shown with their codes
and the working copy is left as it was, byte for byte; a value that passes is written,
and the check's warnings about its row are shown.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from streamlit.testing.v1 import AppTest

from tests.test_console import ADMIN, button, env, page, set_dibao, shown, start  # noqa: F401

pytestmark = pytest.mark.usefixtures("env")  # tables, users, registry: tests/test_console.py


def draft_files(state: Path) -> tuple[bytes, str]:
    """The admin's working copy of 西湖区 and its revision record, as stored."""
    folder = state / "drafts" / "330106" / "xihu"
    (workbook,) = (folder / "tables" / "counties").glob("330106*.xlsx")
    return workbook.read_bytes(), (folder / "draft.json").read_text(encoding="utf-8")


def standard_rows(state: Path) -> list[tuple[object, ...]]:
    (workbook,) = (state / "drafts" / "330106" / "xihu" / "tables" / "counties").glob("330106*.xlsx")
    book = openpyxl.load_workbook(workbook)
    return [tuple(r) for r in book["标准参数"].iter_rows(values_only=True)]


def set_standard(at: AppTest, ident: str, value: str, starts: str) -> AppTest:
    at.selectbox(key="quick_standard").set_value(ident)
    at.text_input(key="quick_value").input(value)
    at.text_input(key="quick_from").input(starts)
    button(at, "写入工作副本").click()
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize(
    ("ident", "value", "code", "said"),
    [
        pytest.param("dibao_standard", "1301元/年", "E110", "1301元/年", id="another period"),
        pytest.param("marginal_multiplier", "2.5", "E401", "高于上限 2", id="above its bound"),
    ],
)
def test_a_value_the_check_refuses_is_not_written(
    env: dict[str, Path], ident: str, value: str, code: str, said: str  # noqa: F811
) -> None:
    at = page(start(ADMIN), "standards")
    before = draft_files(env["state"])
    text = shown(set_standard(at, ident, value, "2026-01-01"))
    assert "新取值没有通过检查，工作副本未改动" in text, text
    assert code in text and said in text, text
    assert "「标准参数」第 2 行「值」（B3）" in text, text  # the new row, as the grid names it
    assert "已加入" not in text and "/tmp" not in text
    assert draft_files(env["state"]) == before
    text = shown(page(at, "standards"))  # the next run: still nothing written
    assert code not in text and draft_files(env["state"]) == before


def test_a_refused_value_leaves_the_form_usable_for_a_good_one(env: dict[str, Path]) -> None:  # noqa: F811
    """After 1301元/年 is refused, 1400 from the same day is written, once, and the
    check's warning about the new row (W401: 核实＝否) is shown with it."""
    at = set_dibao(start(ADMIN), "1301元/年", "2025-06-01")
    assert "E110" in shown(at)
    revision = json.loads(draft_files(env["state"])[1])["revision"]
    text = shown(set_standard(at, "dibao_standard", "1400", "2025-06-01"))
    assert "已加入「低保标准」1400，2025-06-01 起生效" in text, text
    assert "已写入；检查对写入的一行提示" in text and "W401" in text, text
    header, *rows = standard_rows(env["state"])
    values = [r[header.index("值")] for r in rows if r[0] == "dibao_standard"]
    assert values == [1301, 1400], values
    assert json.loads(draft_files(env["state"])[1])["revision"] == revision + 1


def test_a_refusal_in_a_stale_tab_is_said_after_the_reload(env: dict[str, Path]) -> None:  # noqa: F811
    """Two tabs of one admin: the first edits the grid, the second then submits a value
    the check refuses (E401). The second tab reloaded its stale grids and showed
    neither the E401 nor that the draft had been saved elsewhere (helper-89)."""
    from tests.test_console import edit_grid

    first = page(start(ADMIN), "standards")
    second = page(start(ADMIN), "standards")
    edit_grid(first, {0: {"值": "1777"}})
    saved = draft_files(env["state"])
    text = shown(set_standard(second, "marginal_multiplier", "2.5", "2026-01-01"))
    assert "工作副本已在别处保存（xihu，" in text and "下面已载入最新的工作副本" in text, text
    assert "新取值没有通过检查，工作副本未改动" in text and "E401" in text and "高于上限 2" in text, text
    assert "「标准参数」第 2 行「值」（B3）" in text, text
    assert draft_files(env["state"]) == saved  # nothing written
    assert "1,777.00 元" in "\n".join(d.value.to_string() for d in second.data_editor)
    second.run()  # said once: the next run is quiet
    assert "E401" not in shown(second) and "别处保存" not in shown(second)
    text = shown(set_standard(second, "marginal_multiplier", "1.8", "2026-01-01"))
    assert "已加入「边缘倍数」1.8，2026-01-01 起生效" in text, text


def test_an_empty_start_date_asks_for_one(env: dict[str, Path]) -> None:  # noqa: F811
    """It said 「生效日期：日期「」无法识别：…」 (helper-89)."""
    at = page(start(ADMIN), "standards")
    before = draft_files(env["state"])
    text = shown(set_standard(at, "dibao_standard", "1400", ""))
    assert "请填写生效日期，如 2025-07-01、2025/7/1 或 2025年7月1日。" in text, text
    assert "「」" not in text and draft_files(env["state"]) == before
