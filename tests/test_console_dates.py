"""Dates on the console's pages: empty date cells shown empty, the decision date of
the sample counts on 标准与规则, and a publish dated before today (helper-51)."""

from __future__ import annotations

import pytest

from tests.test_console import (  # noqa: F401
    ADMIN,
    MAINTAINER,
    env,
    page,
    publish,
    set_dibao,
    shown,
    start,
)

pytestmark = pytest.mark.usefixtures("env")  # tables, users, registry: tests/test_console.py


def counts(at) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {m.label: m.value for m in at.metric}


def test_empty_date_cells_show_nothing_not_none() -> None:
    """An empty 失效日期, which Streamlit's date column showed as a grey "None", is an
    empty text cell (dates are text read as the tables read them: helper-89); the grids
    say to show an empty cell as empty."""
    at = set_dibao(start(ADMIN), "1500", "2025-07-01")  # a row with no 失效日期
    grid = at.data_editor[0]
    assert "" in list(grid.value["失效日期"]) and not grid.value["失效日期"].isna().any()
    assert grid.proto.placeholder == "" and grid.proto.HasField("placeholder")
    province = page(start(MAINTAINER), "province")
    assert province.data_editor[0].proto.HasField("placeholder")
    assert province.data_editor[0].proto.placeholder == ""


def test_the_sample_counts_default_to_the_day_new_standards_take_effect() -> None:
    """Next year's standard, entered today, changed nothing in the counts, always
    decided as of today and not saying so."""
    at = page(start(ADMIN), "standards")
    assert counts(at)["低保"] == "2" and "决策日 2025-06-01 · 样本 5 户" in shown(at)
    set_dibao(at, "1700", "2026-01-01")
    assert at.text_input(key="effect_as_of").value == "2026-01-01"
    assert counts(at)["低保"] == "3" and "决策日 2026-01-01 · 样本 5 户" in shown(at)
    assert "默认为其中最早的生效日期" in shown(at)
    at.text_input(key="effect_as_of").input("2025-12-31")  # the admin's own choice is kept
    at.run()
    assert counts(at)["低保"] == "2" and "决策日 2025-12-31" in shown(at)
    at.run()
    assert at.text_input(key="effect_as_of").value == "2025-12-31"


def test_a_change_in_force_today_keeps_the_counts_as_of_today() -> None:
    at = set_dibao(start(ADMIN), "1700", "2025-06-01")
    assert at.text_input(key="effect_as_of").value == "2025-06-01"
    assert counts(at)["低保"] == "3"


def test_a_publish_dated_before_today_is_noted_before_the_confirmation() -> None:
    """jiuzhu publish notes it; the console said nothing."""
    at = publish(start(ADMIN), "回溯到年初", "2025-03-01")
    text = shown(at)
    assert "注意：生效日期 2025-03-01 早于今天（2025-06-01）；该日以后的决策按本版重新作出时会与已作出的不同" in text
    assert [w for w in at.warning if "早于今天" in w.value]
    assert [b for b in at.button if b.key == "publish_confirm"]  # a note: the admin decides
    publish(at, "今天起", "2025-06-01")
    assert "早于今天" not in shown(at)
