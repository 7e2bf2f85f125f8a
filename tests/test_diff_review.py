"""A diff and a publish's stored impact as a reviewer reads them (helper-140): the
layer of a county workbook given by path, later days a version differs on, the note
of ``diff published work`` and the counts the impact prints."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from compiler import cli
from compiler.diff_impact import ImpactResult
from compiler.diff_text import impact_lines
from compiler.registry import Registry
from compiler.registry_publish import publish
from tests.test_diff import households
from tests.test_registry import (
    COUNTY,
    household,
    set_county_standards,
    write_rulebook,
)
from tests.workbooks import write_xlsx


def test_a_county_workbook_given_by_path_without_its_code_is_the_county_layer(
    tmp_path, capsys
):
    tables = write_rulebook(tmp_path / "tables")
    registry = tmp_path / "registry.duckdb"
    publish(tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    (tmp_path / "草稿").mkdir()
    draft = write_xlsx(
        tmp_path / "草稿" / "西湖区草稿.xlsx",
        {
            "标准参数": [
                ["标识", "值", "生效日期", "失效日期", "来源"],
                ["dibao_standard", 1350, "2025-01-01", None, "新"],
            ]
        },
    )
    args = ["diff", "330106@1", str(draft), "--county", COUNTY, "--tables", str(tables)]
    code = cli.main([*args, "--registry", str(registry), "--as-of", "2025-08-01",
                     "--format", "json"])
    (standard,) = json.loads(capsys.readouterr().out)["counties"][COUNTY]["standards"]
    assert code == 0
    assert [(p["old_layer"], p["new_layer"]) for p in standard["periods"]] == [
        ("county", "county")
    ]


def _two_periods(tables: Path) -> None:
    """The county's 低保标准: 1,301 until 2025-12-31, then 5,000 (1,301 before)."""
    set_county_standards(
        tables,
        [
            ["dibao_standard", "1301", "2025-01-01", "2025-12-31", "杭民发"],
            ["dibao_standard", "5000", "2026-01-01", None, "杭民发"],
        ],
    )


def test_publish_stores_the_impact_of_later_days_the_standards_differ_on(tmp_path):
    tables = write_rulebook(tmp_path / "tables")
    registry = tmp_path / "registry.duckdb"
    population = households(tmp_path / "h.jsonl", [household("H1", "24000")])
    publish(tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    _two_periods(tables)
    version = publish(tables, COUNTY, date(2025, 1, 1), "第二段", "张三", 1, registry,
                      households=population)
    stored = json.loads(version.impact or "{}")
    assert stored["as_of"] == "2025-01-01" and stored["changed"] == 0
    (later,) = stored["later"]
    assert later["as_of"] == "2026-01-01" and later["changed"] == 1
    assert later["command"].startswith(
        "jiuzhu diff 330106@1 330106@2 --as-of 2026-01-01 --households "
    )
    assert "低保标准（dibao_standard）2026-01-01 起" in later["differs"]


def test_publish_prints_the_later_days_and_their_commands(tmp_path, capsys):
    tables = write_rulebook(tmp_path / "tables")
    registry = tmp_path / "registry.duckdb"
    population = households(tmp_path / "h.jsonl", [household("H1", "24000")])
    publish(tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    _two_periods(tables)
    code = cli.main(["publish", "--county", COUNTY, "--effective", "2025-01-01",
                     "--note", "第二段", "--author", "张三", "--base", "1",
                     "--households", str(population), "--tables", str(tables),
                     "--registry", str(registry)])
    out = capsys.readouterr().out
    assert code == 0 and "影响分析（决策日 2025-01-01）：1 户中 0 户的决策改变" in out
    assert "2026-01-01 起两版的标准参数再次不同" in out and "1 户中 1 户的决策改变" in out
    assert "jiuzhu diff 330106@1 330106@2 --as-of 2026-01-01" in out
    assert Registry(registry).latest(COUNTY).number == 2  # type: ignore[union-attr]


def test_diff_published_work_says_the_days_the_sides_differ_on(tmp_path, capsys):
    tables = write_rulebook(tmp_path / "tables")
    registry = tmp_path / "registry.duckdb"
    publish(tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    later = date(date.today().year + 1, 1, 1)
    set_county_standards(
        tables,
        [
            ["dibao_standard", "1301", "2025-01-01", f"{later.year - 1}-12-31", "杭民发"],
            ["dibao_standard", "1350", later.isoformat(), None, "杭民发"],
        ],
    )
    code = cli.main(["diff", "published", "work", "--tables", str(tables),
                     "--registry", str(registry)])
    out = capsys.readouterr().out
    assert code == 0
    assert f"低保标准（dibao_standard）{later} 起" in out and "可用 --as-of" in out


def _result(changed: int, listed: int, skipped: int = 0) -> ImpactResult:
    county = {"name": "西湖区", "households": 5, "changed": changed, "decided": True,
              "moves": [], "gained": {}, "lost": {}}
    row = {"household_id": "H1", "county_code": COUNTY, "old_group": "none",
           "new_group": "dibao", "gained": [], "lost": [], "old_monitoring": None,
           "new_monitoring": None}
    return ImpactResult(date(2025, 8, 1), 5, changed, {COUNTY: county},
                        [row] * listed, 0.1, changed - listed, skipped)


def test_limit_zero_still_says_how_many_households_are_not_listed():
    text = "\n".join(impact_lines(_result(changed=3, listed=0), limit=0))
    assert "另有 3 户未列出" in text and "变化的家庭（列出" not in text


def test_the_households_of_other_counties_in_the_file_are_said_skipped():
    text = "\n".join(impact_lines(_result(changed=0, listed=0, skipped=7)))
    assert "文件中其他县（市、区）的 7 户不在比较范围内" in text
    assert "不在比较范围内" not in "\n".join(impact_lines(_result(0, 0)))
