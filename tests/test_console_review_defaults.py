"""What 「历史与对比」 and 「样本预览」 show before anyone chooses: a reviewer's diff of
the newest version the right way round, and a preview on the day the working copy's
new standard takes effect, as 「标准与规则」 shows its effect (helper-133)."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.test_console import (  # noqa: F401
    ADMIN,
    REVIEWER_USER,
    button,
    env,
    frames,
    page,
    publish,
    set_dibao,
    shown,
    start,
)

pytestmark = pytest.mark.usefixtures("env")  # tables, users, registry: tests/test_console.py
READER_COPY = "330106（tables 文件夹中的工作簿）"


def published(at: AppTest, note: str, effective: str) -> AppTest:
    publish(at, note, effective)
    button(at, "确认发布").click()
    at.run()
    assert not at.exception and "已发布 330106@" in shown(at)
    return at


def two_versions() -> AppTest:
    """330106@1 with 低保标准 1301, then @2 adding 1700 from 2026-01-01."""
    at = published(start(ADMIN), "首次发布", "2025-06-01")
    set_dibao(at, "1700", "2026-01-01")
    return published(at, "2026 年标准", "2025-06-01")


def test_a_reviewer_compares_the_newest_version_with_the_one_before() -> None:
    two_versions()
    at = page(start(REVIEWER_USER), "history")
    assert at.selectbox(key="diff_old").value == "330106@1"
    assert at.selectbox(key="diff_new").value == "330106@2"
    assert READER_COPY in at.selectbox(key="diff_new").options  # still selectable
    assert "默认比较最新的已发布版本 330106@2 与其前一版 330106@1" in shown(at)
    assert at.text_input(key="diff_as_of").value == "2026-01-01"
    button(at, "比较").click()
    at.run()
    assert not at.exception
    changed = frames(at)
    # H2 (1666.67 a month) becomes dibao under @2: gaining, not losing
    assert "1700" in changed and "H2" in changed
    movers = [d.value for d in at.dataframe if "家庭编号" in d.value.columns]
    row = movers[0][movers[0]["家庭编号"] == "H2"].iloc[0]
    assert "低保边缘" in str(row.iloc[1]) and "低保" in str(row.iloc[2]), row


def test_a_reviewer_with_one_version_compares_it_with_the_workbook() -> None:
    published(start(ADMIN), "首次发布", "2025-06-01")
    at = page(start(REVIEWER_USER), "history")
    assert at.selectbox(key="diff_old").value == "330106@1"
    assert at.selectbox(key="diff_new").value == READER_COPY


def test_an_admin_compares_the_newest_version_with_their_working_copy() -> None:
    at = page(two_versions(), "history")
    assert at.selectbox(key="diff_old").value == "330106@2"
    assert at.selectbox(key="diff_new").value == "330106（我的工作副本）"
    assert "现在发布会改变什么" in shown(at)


@pytest.mark.parametrize(
    ("labels", "editable", "sides"),
    [
        ([], False, ("W", "W")),
        (["a@1"], False, ("a@1", "W")),
        (["a@1", "a@2", "a@3"], False, ("a@2", "a@3")),
        (["a@1", "a@2"], True, ("a@2", "W")),
    ],
    ids=["none", "one-version", "reader-latest-two", "admin-draft"],
)
def test_default_sides(labels: list[str], editable: bool, sides: tuple[str, str]) -> None:
    from console.diffview import default_sides

    assert default_sides(labels, "W", editable) == sides


def test_the_preview_decides_on_the_day_the_new_standard_takes_effect() -> None:
    at = set_dibao(start(ADMIN), "1700", "2026-01-01")
    assert at.text_input(key="effect_as_of").value == "2026-01-01"
    page(at, "preview")
    assert at.text_input(key="preview_as_of").value == "2026-01-01"
    assert "按工作副本中 2026-01-01 起生效的新标准预览" in shown(at)
    table = at.dataframe[0].value
    assert set(table["低保标准（元）"]) == {"1,700.00"}
    assert "1,700.00" in "\n".join(t.value for t in at.text)  # the explanation too
    # the admin may still preview today, and is told which day is used
    at.text_input(key="preview_as_of").input("2025-06-01")
    at.run()
    assert set(at.dataframe[0].value["低保标准（元）"]) == {"1,301.00"}
    assert "按你填写的决策日 2025-06-01 预览；工作副本中的新标准 2026-01-01 起生效" in shown(at)


def test_the_preview_without_pending_standards_says_it_uses_today() -> None:
    at = page(start(ADMIN), "preview")
    assert at.text_input(key="preview_as_of").value == "2025-06-01"
    assert "决策日为今天（2025-06-01）" in shown(at)
