"""The console after a city's standard changes (helper-137): 低保标准 is set in the
city's workbook (docs/yearly-change.md), so the 调整一项标准 form names the city's file
when it is picked, and a county's default decision date follows the city's new row."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from compiler.registry_publish import publish
from tests.test_console import ADMIN, env, page, shown, start  # noqa: F401  (env: fixture)
from tests.workbooks import write_xlsx

CITY = "330100-杭州市.xlsx"
HEADER = ["标识", "值", "单位", "生效日期", "失效日期", "来源", "核实"]
TODAY_ROW = ["dibao_standard", "1301", "元/人/月", "2025-01-23", None, "杭州市民政局", "是"]


def city(tables: Path, *rows: list[object]) -> None:
    (tables / "cities").mkdir(exist_ok=True)
    write_xlsx(tables / "cities" / CITY, {"标准参数": [HEADER, *rows]})


@pytest.fixture
def hangzhou(env: dict[str, Path]) -> dict[str, Path]:  # noqa: F811
    """西湖区 with no 低保标准 row of its own, 杭州 setting 1301."""
    write_xlsx(env["tables"] / "counties" / "330106-西湖区.xlsx", {"标准参数": [
        ["标识", "值", "生效日期", "失效日期", "来源"],
        ["marginal_multiplier", "1.5", "2025-01-01", None, "西湖区文件"],
    ]})
    city(env["tables"], TODAY_ROW)
    return env


def test_the_form_names_the_city_workbook_when_dibao_is_picked(hangzhou: dict[str, Path]) -> None:
    at = page(start(ADMIN), "standards")
    assert [e for e in at.expander if "例如本县的最低工资标准" in e.label]
    assert not [e for e in at.expander if "例如新的低保标准" in e.label]
    at.selectbox(key="quick_standard").set_value("marginal_multiplier").run()
    assert "市域统一的标准" not in shown(at)
    at.selectbox(key="quick_standard").set_value("dibao_standard").run()
    said = shown(at)
    assert "「低保标准」是市域统一的标准" in said
    assert f"杭州市在市级工作簿 tables/cities/{CITY} 中设定" in said
    assert "本县在「发布」页重新发布" in said and "W406" in said


def test_the_preview_defaults_to_the_city_new_row(hangzhou: dict[str, Path]) -> None:
    tables = hangzhou["tables"]
    registry = tables.parent / "registry" / "registry.duckdb"
    publish(tables, "330106", date(2025, 4, 7), "初始版本", "西湖区民政局", 0, registry=registry)
    city(tables, [*TODAY_ROW[:4], "2025-12-31", *TODAY_ROW[5:]],
         ["dibao_standard", "1700", "元/人/月", "2026-01-01", None, "杭民发〔2025〕1号", "是"])
    at = page(start(ADMIN), "preview")
    assert at.text_input(key="preview_as_of").value == "2026-01-01"
    assert "按市级工作簿中 2026-01-01 起生效的新标准预览" in shown(at)
    page(at, "standards")
    assert at.text_input(key="effect_as_of").value == "2026-01-01"
    assert "按市级工作簿中 2026-01-01 起生效的新标准预览" in shown(at)


def test_with_nothing_new_the_preview_stays_on_today(hangzhou: dict[str, Path]) -> None:
    tables = hangzhou["tables"]
    registry = tables.parent / "registry" / "registry.duckdb"
    publish(tables, "330106", date(2025, 4, 7), "初始版本", "西湖区民政局", 0, registry=registry)
    at = page(start(ADMIN), "preview")
    assert at.text_input(key="preview_as_of").value == "2025-06-01"  # nothing new: today
    assert "决策日为今天（2025-06-01）" in shown(at)
