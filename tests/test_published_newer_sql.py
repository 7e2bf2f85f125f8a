"""A published version holding what a later check refuses (W705) decides the same way
through DuckDB (``evaluate``, ``diff``, the HTTP service) as through the reference
interpreter, and every version holding it is told so.

An older release is imitated by publishing with the check switched off (monkeypatch),
as tests/test_published_newer_checks.py does for E303."""

from __future__ import annotations

import csv
import json
import re
from datetime import date
from pathlib import Path

import pytest

import tests.test_registry as registry_tables
from compiler import resolve
from compiler.bind_types import TypeChecks
from compiler.cli import main
from compiler.engine import open_project
from compiler.expr import Literal
from compiler.load import _Loader
from compiler.registry import published_project
from compiler.registry_publish import publish
from tests.test_registry import COUNTY, OTHER, decide, household, write_rulebook

AS_OF = date(2025, 3, 1)
THIRDS = ["thirds", "财产三分之一", "家庭", "integer", "assets.money / 3", "二"]
# without event fields the decision query names e."event.date" and stops (E605)
EVENTS = [
    ["event.type", "事件类型", "事件", "text", None, None],
    ["event.date", "事件日期", "事件", "date", None, None],
    ["event.person_id", "事件成员编号", "事件", "text", None, None],
]
# money 1000 gives 333.33 (333), 1001 gives 333.67 (334), 1000.5 gives 333.5 (334,
# half up) and 1003.5 gives 334.5 (335): only thirds = 334 is tekun
MONEY = {"H1000": "1000", "H1001": "1001", "H1000.5": "1000.5", "H1003.5": "1003.5"}
GROUPS = {"H1000": "dibao", "H1001": "tekun", "H1000.5": "tekun", "H1003.5": "dibao"}


def _rulebook(root: Path, monkeypatch, thirds: bool = True, **cells: str) -> Path:  # type: ignore[no-untyped-def]
    """The registry tests' tables with event fields; ``thirds`` read by a first rule
    of household_group; ``cells`` set a cell of household_group or entitlements
    (``group_default``, ``entitlement``)."""
    group = [list(row) for row in registry_tables.GROUP_TABLE]
    if thirds:
        for row, text in zip(group[1:5], ["输入", "thirds", "integer", None], strict=True):
            row.insert(3, text)
        for row in group[5:]:
            row.insert(3, "-")
        group.insert(5, ["tekun", "-", "-", "334", "tekun", "二"])
    column = 4 if thirds else 3
    if "group_default" in cells:
        group[4][column] = cells["group_default"]
    entitlements = [list(row) for row in registry_tables.ENTITLEMENTS]
    if "entitlement" in cells:
        entitlements[4][2] = cells["entitlement"]
    derived = [*registry_tables.DERIVED, THIRDS] if thirds else registry_tables.DERIVED
    monkeypatch.setattr(registry_tables, "FIELDS", [*registry_tables.FIELDS, *EVENTS])
    monkeypatch.setattr(registry_tables, "DERIVED", derived)
    monkeypatch.setattr(registry_tables, "GROUP_TABLE", group)
    monkeypatch.setattr(registry_tables, "ENTITLEMENTS", entitlements)
    return write_rulebook(root)


def _publish_older(tables: Path, registry: Path, monkeypatch, *counties: str) -> None:  # type: ignore[no-untyped-def]
    """Publish as the release before E303 (fractions), E214 (empty outputs), E301
    (a bare - output, read as the text "-") and E107 (enum defaults) did."""
    real = _Loader.output_expression

    def dash_as_text(self, cell, dtype, default=False):  # type: ignore[no-untyped-def]
        if cell.text == "-" and dtype.kind.value in ("text", "enum", "list"):
            return Literal("-")
        return real(self, cell, dtype, default)

    with monkeypatch.context() as older:
        older.setattr(TypeChecks, "check_integer", lambda *a, **k: None)
        older.setattr(resolve, "_check_outputs", lambda *a, **k: None)
        older.setattr(_Loader, "output_expression", dash_as_text)
        older.setattr(_Loader, "undeclared", lambda *a, **k: False, raising=False)
        for county in counties or (COUNTY,):
            publish(tables, county, date(2025, 1, 1), "旧版", "张三", 0, registry)


def _households(path: Path, money: dict[str, str] = MONEY, wage: str = "0") -> Path:
    rows = [household(ident, wage, money=value) for ident, value in money.items()]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return path


def _evaluate(tables: Path, registry: Path, households: Path, out: Path, capsys) -> dict:  # type: ignore[no-untyped-def]
    code = main(["evaluate", "--tables", str(tables), "--registry", str(registry),
                 "--households", str(households), "--as-of", AS_OF.isoformat(),
                 "--county", COUNTY, "--out", str(out), "--trace", "none"])
    said = capsys.readouterr()
    assert code == 0, said.err
    with out.open(encoding="utf-8-sig") as f:
        return {row["household_id"]: row for row in csv.DictReader(f)}


def test_evaluate_in_sql_rounds_a_published_fraction_half_up_as_the_interpreter(
    tmp_path, monkeypatch, capsys
):
    tables, registry = _rulebook(tmp_path / "tables", monkeypatch), tmp_path / "r.duckdb"
    _publish_older(tables, registry, monkeypatch)
    found = _evaluate(tables, registry, _households(tmp_path / "h.jsonl"), tmp_path / "o.csv",
                      capsys)
    assert {k: row["group"] for k, row in found.items()} == GROUPS
    assert {row["version"] for row in found.values()} == {"330106@1"}
    project, _ = published_project(tables, registry, AS_OF, [COUNTY])
    assert [d.code for d in project.report.items if d.code == "W705"] == ["W705"]
    plan = project.plan(COUNTY)
    by_interpreter = {
        ident: decide(plan, AS_OF, household(ident, "0", money=money))["group"]
        for ident, money in MONEY.items()
    }
    assert by_interpreter == GROUPS


def test_diff_against_a_floored_version_changes_only_the_households_rounded_up(
    tmp_path, monkeypatch, capsys
):
    tables, registry = _rulebook(tmp_path / "tables", monkeypatch), tmp_path / "r.duckdb"
    _publish_older(tables, registry, monkeypatch)
    sheet = tables / "province" / "派生值.csv"
    sheet.write_text(
        sheet.read_text(encoding="utf-8").replace("assets.money / 3", "floor(assets.money / 3)"),
        encoding="utf-8",
    )
    publish(tables, COUNTY, date(2025, 2, 1), "取整", "张三", 1, registry)
    households = _households(tmp_path / "h.jsonl")
    capsys.readouterr()
    code = main(["diff", f"{COUNTY}@1", f"{COUNTY}@2", "--tables", str(tables),
                 "--registry", str(registry), "--households", str(households),
                 "--as-of", AS_OF.isoformat(), "--format", "json"])
    out = capsys.readouterr().out
    assert code in (0, 1), out
    changed = set(re.findall(r'"household_id": "([^"]+)"', out))
    # floor gives 333 for 1001 and 1000.5 (tekun no more) and 334 for 1003.5 (tekun
    # now); 1000 is 333 either way. Truncating or rounding half to even would differ
    assert changed == {"H1001", "H1000.5", "H1003.5"}


def test_the_service_pinned_to_the_version_decides_as_evaluate(tmp_path, monkeypatch):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from compiler.service import Settings, create_app

    tables, registry = _rulebook(tmp_path / "tables", monkeypatch), tmp_path / "r.duckdb"
    _publish_older(tables, registry, monkeypatch)
    settings = Settings(tables=tables, registry=registry, warm_on_start=False)
    rows = [household(ident, "0", money=money) for ident, money in MONEY.items()]
    with TestClient(create_app(settings)) as client:
        response = client.post("/v1/decisions", json={
            "households": rows, "as_of": AS_OF.isoformat(), "versions": {COUNTY: 1}})
    assert response.status_code == 200, response.text
    decisions = response.json()["decisions"]
    assert {d["household_id"]: d["group"] for d in decisions} == GROUPS
    assert {d["version"] for d in decisions} == {"330106@1"}


def test_each_published_version_sharing_a_fraction_gets_its_own_w705(tmp_path, monkeypatch):
    """The two counties' versions share the derived value (one object, bound once)."""
    tables, registry = _rulebook(tmp_path / "tables", monkeypatch), tmp_path / "r.duckdb"
    _publish_older(tables, registry, monkeypatch, COUNTY, OTHER)
    project, labels = published_project(tables, registry, AS_OF, [COUNTY, OTHER])
    assert labels == {COUNTY: "330106@1", OTHER: "330108@1"}
    said = [d.message for d in project.report.items if d.code == "W705"]
    assert len(said) == 2
    assert "已发布版本 330106@1" in said[0] and "已发布版本 330108@1" in said[1]
    assert not project.report.errors


# ------------------------------------------------ checks made only when reading workbooks


def test_a_published_empty_output_cell_decides_no_value_and_is_not_refused(
    tmp_path, monkeypatch, capsys
):
    """E214 is checked on the working copy's workbooks only (regression guard)."""
    tables = _rulebook(tmp_path / "tables", monkeypatch, thirds=False)
    (tables / "province" / "household_group.csv").write_text(
        (tables / "province" / "household_group.csv").read_text(encoding="utf-8")
        .replace("dibao,三(一)", ",三(一)"), encoding="utf-8")
    working = open_project(tables, as_of=AS_OF)
    assert [d.code for d in working.report.errors] == ["E214"]
    registry = tmp_path / "r.duckdb"
    _publish_older(tables, registry, monkeypatch)
    project, _ = published_project(tables, registry, AS_OF, [COUNTY])
    assert not project.report.errors
    assert not [d for d in project.report.items if d.code == "W705"]
    wages = {"H0": "0", "H20000": "20000", "H99999": "99999"}
    households = tmp_path / "h.jsonl"
    households.write_text("\n".join(json.dumps(household(k, w)) for k, w in wages.items()),
                          encoding="utf-8")
    found = _evaluate(tables, registry, households, tmp_path / "o.csv", capsys)
    # the rule with the empty output fires and gives no group, as the interpreter says
    assert {k: row["group"] for k, row in found.items()} == {
        "H0": "", "H20000": "dibao_marginal", "H99999": "none"}
    plan = project.plan(COUNTY)
    assert decide(plan, AS_OF, household("H0", "0"))["group"] is None


def test_a_published_dash_in_a_text_output_decides_the_text_and_is_not_refused(
    tmp_path, monkeypatch, capsys
):
    """E301 for a bare - is checked when workbooks are read (regression guard)."""
    tables = _rulebook(tmp_path / "tables", monkeypatch, thirds=False, entitlement="-")
    working = open_project(tables, as_of=AS_OF)
    assert [d.code for d in working.report.errors] == ["E301"]
    registry = tmp_path / "r.duckdb"
    _publish_older(tables, registry, monkeypatch)
    project, _ = published_project(tables, registry, AS_OF, [COUNTY])
    assert not project.report.errors
    found = _evaluate(tables, registry, _households(tmp_path / "h.jsonl", {"H0": "1000"}),
                      tmp_path / "o.csv", capsys)
    assert found["H0"]["entitlements"] == "'-;medical_aid"  # the CSV guards a leading -
    assert decide(project.plan(COUNTY), AS_OF, household("H0", "0"))["entitlements"] == [
        "-", "medical_aid"]


@pytest.mark.parametrize(
    ("written", "code"), [('"丙"', "E107"), ("-", "E301")], ids=["quoted-word", "bare-dash"]
)
def test_a_published_enum_default_outside_its_values_decides_it_with_w705(
    tmp_path, monkeypatch, capsys, written, code
):
    tables = _rulebook(tmp_path / "tables", monkeypatch, thirds=False, group_default=written)
    working = open_project(tables, as_of=AS_OF)
    assert [(d.code, d.location.cell) for d in working.report.errors] == [(code, "D5")]
    registry = tmp_path / "r.duckdb"
    _publish_older(tables, registry, monkeypatch)
    project, _ = published_project(tables, registry, AS_OF, [COUNTY])
    assert not project.report.errors
    said = [d for d in project.report.items if d.code == "W705"]
    assert len(said) == 1 and said[0].location.cell == "D5"
    assert "已发布版本 330106@1" in said[0].message and f"（{code}）" in said[0].message
    value = written.strip('"')
    households = tmp_path / "h.jsonl"
    households.write_text(json.dumps(household("H1", "99999")), encoding="utf-8")
    found = _evaluate(tables, registry, households, tmp_path / "o.csv", capsys)
    assert found["H1"]["group"].lstrip("'") == value  # no rule fires: the default as stored
    assert decide(project.plan(COUNTY), AS_OF, household("H1", "99999"))["group"] == value


# ------------------------------------------------------------- the working copy


@pytest.mark.parametrize("written", ['"丙"', "'丙'", '"低保"'], ids=["double", "single", "cn-name"])
def test_an_enum_default_written_as_text_outside_its_values_is_e107_at_its_cell(
    tmp_path, monkeypatch, written
):
    tables = _rulebook(tmp_path / "tables", monkeypatch, thirds=False, group_default=written)
    errors = open_project(tables, as_of=AS_OF).report.errors
    assert [(d.code, d.location.sheet, d.location.cell) for d in errors] == [
        ("E107", "household_group", "D5")]
    said = errors[0]
    assert "默认值" in said.message and "group" in said.message
    assert said.found == written.strip("\"'")
    assert "dibao（低保）" in said.expected and "tekun" in said.expected


@pytest.mark.parametrize("written", ['"none"', "none"], ids=["quoted", "bare"])
def test_an_enum_default_among_its_values_is_accepted(tmp_path, monkeypatch, written):
    tables = _rulebook(tmp_path / "tables", monkeypatch, thirds=False, group_default=written)
    assert not open_project(tables, as_of=AS_OF).report.errors
