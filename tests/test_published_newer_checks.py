"""A published version keeps deciding as it did when published when a later release
added a check that refuses what it holds (W705); the working copy is still refused.

An older release is imitated by publishing with the check switched off (monkeypatch),
so the registry rows are those the current publish code writes, holding what an older
release let through."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from compiler.bind_types import TypeChecks
from compiler.calendar import WorkCalendar
from compiler.diagnostics import CODES
from compiler.engine import household_envs, open_project
from compiler.interpret import Interpreter
from compiler.registry import published_project
from compiler.registry_publish import publish
from tests.test_registry import COUNTY, DERIVED, household, write_rulebook

THIRDS = ["thirds", "财产三分之一", "家庭", "integer", "assets.money / 3", "二"]


def _tables(root: Path) -> Path:
    DERIVED.append(THIRDS)
    try:
        return write_rulebook(root)
    finally:
        DERIVED.remove(THIRDS)


def thirds(plan, money: str) -> object:  # type: ignore[no-untyped-def]
    """The interpreter's value of ``thirds`` (no table reads it, so it is asked for)."""
    env, members, events = household_envs(household("H1", "0", money=money), plan.rulebook.fields)
    interpreter = Interpreter(plan, date(2025, 3, 1), WorkCalendar(plan.rulebook.calendar))
    interpreter.unread = set()
    return interpreter.evaluate(env, members, events).household["thirds"]


def test_a_version_published_before_e303_decides_rounded_half_up_with_w705(
    tmp_path, monkeypatch
):
    tables, registry = _tables(tmp_path / "tables"), tmp_path / "reg.duckdb"
    with monkeypatch.context() as older:  # the release before the check
        older.setattr(TypeChecks, "check_integer", lambda *a, **k: None)
        publish(tables, COUNTY, date(2025, 1, 1), "旧版", "张三", 0, registry)
    project, labels = published_project(tables, registry, date(2025, 3, 1), [COUNTY])
    assert labels[COUNTY] == "330106@1"
    assert not project.report.errors
    said = [d for d in project.report.warnings if d.code == "W705"]
    assert len(said) == 1 and "已发布版本 330106@1" in said[0].message
    assert "thirds" in said[0].message and "四舍五入" in said[0].message
    assert said[0].location.cell == "A4"
    plan = project.plan(COUNTY)
    assert (thirds(plan, "1000"), thirds(plan, "1001")) == (333, 334)  # half up


def test_the_same_fraction_in_the_working_copy_is_still_e303(tmp_path):
    tables = _tables(tmp_path / "tables")
    project = open_project(tables, as_of=date(2025, 3, 1))
    codes = [(d.code, d.location.cell) for d in project.report.errors]
    assert ("E303", "E4") in codes  # the 表达式 cell as typed
    assert not [d for d in project.report.items if d.code == "W705"]


def test_w705_is_in_the_catalogue_as_a_warning():
    assert CODES["W705"].severity.value == "warning"


@pytest.mark.parametrize("code", ["E212", "W203"])
def test_replacement_titles_name_no_level(code):
    assert "县级" not in CODES[code].title and "省级" not in CODES[code].title
