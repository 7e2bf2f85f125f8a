"""The day a diff decides households on without --as-of: the first day the two sides
decide differently (helper-89: next year's standards compared on today showed
「决策改变的家庭 0」)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from compiler import cli
from compiler.diff_dates import decision_day
from tests.test_diff import households, side
from tests.test_registry import (
    COUNTY,
    DERIVED,
    ENTITLEMENTS,
    FIELDS,
    GROUP_TABLE,
    STANDARDS,
    household,
    set_county_standards,
    write_rulebook,
)
from tests.workbooks import write_csv_folder

TODAY = date(2025, 8, 1)


@pytest.fixture
def old(tmp_path: Path) -> Path:
    return write_rulebook(tmp_path / "old")


@pytest.fixture
def new(tmp_path: Path) -> Path:
    return write_rulebook(tmp_path / "new")


def rows(*periods: tuple[str, str, str | None]) -> list[list[object]]:
    return [["dibao_standard", value, start, until, "杭民发"] for value, start, until in periods]


def chosen(old: Path, new: Path, today: date = TODAY):  # type: ignore[no-untyped-def]
    return decision_day(side(old, "甲"), side(new, "乙"), today)


def test_a_change_from_a_later_day_is_judged_on_that_day(old: Path, new: Path) -> None:
    set_county_standards(new, rows(("1301", "2025-01-01", "2025-12-31"), ("1400", "2026-01-01", None)))
    day = chosen(old, new)
    assert (day.day, day.reason) == (date(2026, 1, 1), "later")
    assert day.text() == (
        "决策日 2026-01-01：两边今天（2025-08-01）的决策规则和标准参数相同，2026-01-01 起才不同，"
        "按今天决策不会有任何家庭改变（低保标准（dibao_standard）2026-01-01 起）"
    )
    assert not day.differs_on(TODAY) and day.differs_on(date(2026, 1, 1))
    assert "两边在决策日 2025-08-01 的决策规则和标准参数相同" in (day.note_on(TODAY) or "")
    assert day.note_on(date(2026, 3, 1)) is None


def test_a_change_in_force_today_keeps_today(old: Path, new: Path) -> None:
    set_county_standards(new, rows(("1400", "2025-01-01", None)))
    day = chosen(old, new)
    assert (day.day, day.reason) == (TODAY, "today")


def test_sides_that_differ_only_before_today_are_judged_on_the_latest_such_period(
    old: Path, new: Path,
) -> None:
    set_county_standards(old, rows(("1301", "2025-01-01", None)))
    set_county_standards(new, rows(("1350", "2025-01-01", "2025-03-31"), ("1301", "2025-04-01", None)))
    day = chosen(old, new)
    assert (day.day, day.reason) == (date(2025, 1, 1), "earlier")
    assert "两边只在今天（2025-08-01）以前不同" in day.text()


def test_several_dates_are_named_the_first_few_and_the_rest_counted(old: Path, new: Path) -> None:
    set_county_standards(new, rows(
        ("1301", "2025-01-01", "2025-09-30"), ("1350", "2025-10-01", "2025-12-31"),
        ("1400", "2026-01-01", "2026-06-30"), ("1450", "2026-07-01", "2026-12-31"),
        ("1500", "2027-01-01", None),
    ))
    day = chosen(old, new)
    assert day.day == date(2025, 10, 1)
    assert ("两边的标准参数共有 4 段不同：低保标准（dibao_standard）2025-10-01 至 2025-12-31、"
            "低保标准（dibao_standard）2026-01-01 至 2026-06-30、低保标准（dibao_standard）2026-07-01 至 "
            "2026-12-31 等；可把决策日改为其中任一天") in day.text()


def province(root: Path, group_table: list[list[object]]) -> None:
    from tests.test_registry import CALENDAR

    write_csv_folder(root / "province", {
        "字段": FIELDS, "标准参数": STANDARDS, "派生值": DERIVED, "household_group": group_table,
        "entitlements": ENTITLEMENTS, "日历": CALENDAR,
    })


def test_changed_rules_keep_today_and_a_changed_note_does_not(old: Path, new: Path) -> None:
    set_county_standards(new, rows(("1301", "2025-01-01", "2025-12-31"), ("1400", "2026-01-01", None)))
    noted = [list(r) for r in GROUP_TABLE]
    noted[-1][-1] = "二（修订）"  # the 注释 of a rule: compiled alike
    province(new, noted)
    assert chosen(old, new).reason == "later"
    ruled = [list(r) for r in GROUP_TABLE]
    ruled[-1][2] = "< 5 * 12 * 低保标准"  # an asset limit: every day may differ
    province(new, ruled)
    day = chosen(old, new)
    assert (day.day, day.reason) == (TODAY, "rules")
    assert day.text().endswith("；标准参数另有差异：低保标准（dibao_standard）2026-01-01 起")


def test_a_removed_later_row_is_a_new_date_on_the_standards_page(old: Path, new: Path, tmp_path: Path) -> None:
    """标准与规则's 决策日 finds the same periods: deleting next year's row in the
    working copy changes decisions from that day, which reading rows alone missed."""
    from console import workspace

    set_county_standards(old, rows(("1301", "2025-01-01", "2025-12-31"), ("1400", "2026-01-01", None)))
    base = workspace.base_standards(tmp_path / "none.duckdb", old, COUNTY, 0, TODAY)
    checked = workspace.check(new, COUNTY, TODAY, analysis=False)
    assert workspace.first_new_date(checked, base, TODAY) == date(2026, 1, 1)


def test_jiuzhu_diff_without_as_of_decides_on_the_first_day_the_sides_differ(
    old: Path, new: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """The dates are past the day the suite runs (the calendar ends in 2040)."""
    set_county_standards(new, rows(("1301", "2025-01-01", "2039-12-31"), ("1400", "2040-01-01", None)))
    population = households(tmp_path / "households.jsonl", [household("H1", "16200")])
    sides = [str(old / "counties" / f"{COUNTY}-西湖区"), str(new / "counties" / f"{COUNTY}-西湖区")]
    common = ["--county", COUNTY, "--tables", str(old), "--households", str(population)]
    assert cli.main(["diff", *sides, *common]) == 0
    out = capsys.readouterr().out
    assert f"决策日 2040-01-01：两边今天（{date.today()}）的决策规则和标准参数相同，2040-01-01 起才不同" in out
    assert "家庭决策的变化（决策日 2040-01-01，共 1 户，1 户变化" in out
    assert "H1（330106）：低保边缘 → 低保" in out
    assert cli.main(["diff", *sides, *common, "--format", "json"]) == 0
    said = json.loads(capsys.readouterr().out)
    assert said["as_of"] == "2040-01-01" and said["impact"]["changed"] == 1
    assert said["as_of_default"]["reason"] == "later"
    assert said["as_of_default"]["differences"][0]["from"] == "2040-01-01"
    # a day typed where the sides decide alike is still used, and said to be one
    assert cli.main(["diff", *sides, *common, "--as-of", "2039-06-01"]) == 0
    out = capsys.readouterr().out
    assert "注意：两边在决策日 2039-06-01 的决策规则和标准参数相同，决策不会改变" in out
    assert "共 1 户，0 户变化" in out
