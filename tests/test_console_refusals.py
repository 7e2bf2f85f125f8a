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
