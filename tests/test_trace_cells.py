"""A trace names its cells relative to the tables folder, whichever source decided.

Decisions made from a published version named ``province:household_group!A6``, those
from the working copy ``tables/province:household_group!A6`` or an absolute path
(helper-100): the same rule in the same content read two ways.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from compiler.engine import connect
from compiler.evaluate import decide as decide_sql
from compiler.evaluate import prepare
from compiler.explain import explain
from compiler.registry import published_project
from compiler.registry_publish import publish
from compiler.trace_cells import tables_root
from tests.test_registry import COUNTY, GROUP_TABLE, household, write_rulebook

AS_OF = date(2025, 8, 1)
COUNTY_TABLE = [list(row) for row in GROUP_TABLE]
COUNTY_TABLE[5] = [*COUNTY_TABLE[5][:4], "县 三(一)"]  # the county's own copy


def traces(tables: Path, registry: Path, households: Path) -> tuple[str, dict]:
    """The version label and the trace cells by table of H1's decision."""
    project, labels = published_project(tables, registry, AS_OF)
    con = connect()
    present = prepare(con, project, households, AS_OF, versions=labels)
    relation = decide_sql(con, project, present)
    version, trace = con.execute(
        f"SELECT version, trace FROM {relation} WHERE household_id = 'H1'"
    ).fetchone()
    return version, {entry["table"]: entry["cell"] for entry in trace}


@pytest.fixture
def households(tmp_path: Path) -> Path:
    path = tmp_path / "households.jsonl"
    path.write_text(json.dumps(household("H1", "12000")), encoding="utf-8")
    return path


def test_working_copy_and_published_version_name_the_same_cells(
    tmp_path: Path, households: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    tables = write_rulebook(Path("tables"), extra={"household_group": COUNTY_TABLE})
    registry = tmp_path / "registry" / "jiuzhu-registry.duckdb"
    expected = {
        "household_group": "counties/330106-西湖区:household_group!A6",
        "entitlements": "province:entitlements!A5,province:entitlements!A6",
    }

    for root in (tables, tables.resolve()):  # as typed, and absolute
        assert traces(root, registry, households) == ("工作副本", expected)
    publish(tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    assert traces(tables, registry, households) == ("330106@1", expected)


def test_explain_names_the_cell_as_the_decision_file_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    tables = write_rulebook(Path("tables"))
    registry = tmp_path / "registry.duckdb"
    project, _ = published_project(tables.resolve(), registry, AS_OF)
    text = explain(project.plan(COUNTY), household("H1", "12000"), AS_OF)
    assert "命中规则 dibao（province:household_group!A6）" in text


@pytest.mark.parametrize(
    ("province", "root"),
    [
        ("tables/province", "tables"),
        ("/srv/x/tables/province/浙江省.xlsx", "/srv/x/tables"),
        ("province", "."),  # a published version's relative paths
        ("province/浙江省.xlsx", "."),
    ],
    ids=["folder", "workbook", "published", "published-workbook"],
)
def test_the_tables_folder_is_the_parent_of_province(province: str, root: str) -> None:
    assert str(tables_root(["counties/x", province])) == root
