"""The default day of a diff is one both sides can decide on (tester R9): `jiuzhu diff
330106@1 330106@2` chose 2024-01-01, the start of a differing minimum-wage period,
before either version took effect and before the province's standards began, and
printed 「330106@1 有 28 个校验错误，不能发布」 about published versions."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from compiler import cli
from compiler.diff import Side
from compiler.diff_dates import decision_day
from compiler.registry_publish import publish
from tests.test_diff import book, households
from tests.test_registry import COUNTY, household, set_county_standards, write_rulebook

TODAY = date(2025, 8, 1)


def rows(*periods: tuple[str, str, str | None]) -> list[list[object]]:
    return [["dibao_standard", value, start, until, "杭民发"] for value, start, until in periods]


def side(tables: Path, label: str, effective: date | None = None) -> Side:
    begins = {COUNTY: effective} if effective else {}
    return Side(label, {COUNTY: book(tables, COUNTY)}, {COUNTY: label}, begins)


@pytest.fixture
def old(tmp_path: Path) -> Path:
    return write_rulebook(tmp_path / "old")


@pytest.fixture
def new(tmp_path: Path) -> Path:
    return write_rulebook(tmp_path / "new")


def test_a_difference_before_both_versions_took_effect_is_not_the_default(
    old: Path, new: Path,
) -> None:
    set_county_standards(old, rows(("1301", "2024-01-01", None)))
    set_county_standards(new, rows(("1350", "2024-01-01", "2024-12-31"), ("1301", "2025-01-01", None)))
    day = decision_day(side(old, "330106@1", date(2025, 1, 1)),
                       side(new, "330106@2", date(2025, 6, 1)), TODAY)
    assert (day.day, day.reason) == (TODAY, "apart")
    assert day.text().startswith(
        "决策日 2025-08-01：没有一天两边的决策既可能不同、又都能作出"
        "（在 2024-01-01，330106@1 尚未生效（自 2025-01-01 起））；"
        "改按两边都能决策、离今天最近的 2025-08-01，这天两边决策相同"
    )
    assert "低保标准（dibao_standard）2024-01-01 至 2024-12-31" in day.text()


def test_a_later_version_is_judged_from_the_day_it_takes_effect(old: Path, new: Path) -> None:
    set_county_standards(new, rows(("1400", "2024-01-01", None)))
    day = decision_day(side(old, "330106@1", date(2024, 1, 1)),
                       side(new, "330106@2", date(2025, 10, 1)), TODAY)
    assert (day.day, day.reason) == (date(2025, 10, 1), "later")
    assert "在 2025-08-01，330106@2 尚未生效（自 2025-10-01 起），不能作决策日" in day.text()
    assert day.to_json()["passed"].startswith("在 2025-08-01")


def test_a_day_whose_standards_are_undefined_is_passed_over(old: Path, new: Path) -> None:
    """The province's 边缘倍数 begins 2024-01-01: deciding 2023 is E607 on both sides."""
    set_county_standards(old, rows(("1301", "2023-01-01", None)))
    set_county_standards(new, rows(("1350", "2023-01-01", None)))
    day = decision_day(side(old, "甲"), side(new, "乙"), date(2023, 6, 1))
    assert (day.day, day.reason) == (date(2024, 1, 1), "later")
    assert "在 2023-06-01，甲 有 1 个校验错误（E607" in day.text()


def test_differences_only_where_standards_are_undefined_fall_back_to_a_valid_day(
    old: Path, new: Path,
) -> None:
    set_county_standards(old, rows(("1301", "2023-01-01", None)))
    set_county_standards(new, rows(("1350", "2023-01-01", "2023-12-31"), ("1301", "2024-01-01", None)))
    day = decision_day(side(old, "甲"), side(new, "乙"), TODAY)
    assert (day.day, day.reason) == (TODAY, "apart")
    assert "在 2023-01-01，甲 有 1 个校验错误（E607" in day.text()
    assert not day.differs_on(day.day)


def test_a_day_both_sides_can_decide_on_is_kept(old: Path, new: Path) -> None:
    set_county_standards(new, rows(("1400", "2025-01-01", None)))
    day = decision_day(side(old, "330106@1", date(2025, 1, 1)),
                       side(new, "330106@2", date(2025, 6, 1)), TODAY)
    assert (day.day, day.reason, day.passed) == (TODAY, "today", "")


def test_jiuzhu_diff_of_published_versions_decides_on_a_day_they_are_in_effect(
    old: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    registry = tmp_path / "reg" / "r.duckdb"
    set_county_standards(old, rows(("1301", "2024-01-01", None)))
    publish(old, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    set_county_standards(old, rows(("1350", "2024-01-01", "2024-12-31"), ("1301", "2025-01-01", None)))
    publish(old, COUNTY, date(2025, 6, 1), "补记 2024 年标准", "李四", 1, registry)
    population = households(tmp_path / "households.jsonl", [household("H1", "16200")])
    common = ["--tables", str(old), "--registry", str(registry), "--households", str(population)]
    assert cli.main(["diff", "330106@1", "330106@2", *common, "--format", "json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["as_of"] == date.today().isoformat()
    assert said["as_of_default"]["reason"] == "apart"
    assert "330106@1 尚未生效（自 2025-01-01 起）" in said["as_of_default"]["text"]
    assert said["impact"]["changed"] == 0
