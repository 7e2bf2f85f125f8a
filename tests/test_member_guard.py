"""Member guards (compiler/sqlgen_guard.py): without a trace, a member table that joins
household values is computed only for the members one of its rules could match, when
every reader of its results is an aggregate those left out would not change.

The decisions must be the same as with a trace (no guard) for the real tables, and a
guard must be dropped when a reader would see the members left out.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pytest

from compiler.engine import open_project
from compiler.evaluate import evaluate_file
from compiler.expr import parse_expression
from compiler.sqlgen_guard import UNKNOWN, fold, neutral
from compiler.synth import synthesise

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "tables"
COUNTIES = sorted(p.name[:6] for p in (TABLES / "counties").iterdir())
AS_OF = date(2025, 6, 1)
GUARD = ' m WHERE coalesce('  # how the compiler writes a guarded member relation


@pytest.fixture(scope="module")
def population(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("guard") / "households.parquet"
    synthesise(3000, 11, path, COUNTIES)
    return path


def _decisions(tables: Path, households: Path, out: Path, trace: str) -> list[tuple]:
    evaluate_file(tables, households, AS_OF, out, trace=trace, summary=False)
    return duckdb.connect().execute(
        f"SELECT * EXCLUDE (trace) FROM read_parquet('{out}') ORDER BY household_id"
    ).fetchall()


def _columns(out: Path) -> list[str]:
    return [d[0] for d in duckdb.connect().execute(f"SELECT * EXCLUDE (trace) FROM read_parquet('{out}') LIMIT 0").description]


@pytest.mark.parametrize(
    ("text", "defaults", "expected"),
    [
        ("count(tekun)", {"tekun": False}, True),
        ("count(tekun)", {"tekun": None}, True),
        ("exists(tekun and age >= 16 and age < 60)", {"tekun": False}, True),
        ("collect(person_id, tekun)", {"tekun": False}, True),
        ("sum(income.wage, tekun)", {"tekun": False}, True),
        # a left-out member would change these
        ("count(tekun or age >= 60)", {"tekun": False}, False),
        ("exists(not tekun)", {"tekun": False}, False),
        ("every(tekun)", {"tekun": False}, False),
        ("sum(income.wage)", {"tekun": False}, False),
        ("count(tekun)", {}, False),  # an output whose default is not a literal
        # true on the defaults: every() ignores the member, count() does not
        ("every(not tekun)", {"tekun": False}, True),
        ("count(not tekun)", {"tekun": False}, False),
    ],
)
def test_an_aggregate_is_neutral_only_when_a_left_out_member_adds_nothing(
    text: str, defaults: dict, expected: bool
) -> None:
    assert neutral(parse_expression(text), defaults) is expected  # type: ignore[arg-type]


def test_folding_follows_sql_three_valued_logic() -> None:
    def folded(text: str, known: dict) -> object:
        return fold(parse_expression(text), known)

    assert folded("a and b", {"a": False}) is False
    assert folded("a and b", {"a": None}) is UNKNOWN
    assert folded("a and b", {"a": None, "b": True}) is None
    assert folded("a or b", {"a": True}) is True
    assert folded("a or b", {"a": None, "b": False}) is None
    assert folded("not a", {"a": None}) is None
    assert folded('a = "x"', {"a": "x"}) is True
    assert folded("if a then b else c", {"a": None, "c": False}) is False


def test_the_tekun_member_table_is_guarded_without_a_trace_only() -> None:
    project = open_project(TABLES, ["330106"], AS_OF)
    none = project.program("330106", trace="none").query
    assert none.count(GUARD) == 1
    guarded = none[none.index(GUARD) :][:600]
    # the member's own tests of the three rules; the household's are left to the rules
    assert '"counted" = TRUE' in guarded.replace("m.", "").replace("true", "TRUE")
    assert "dibao_assets_ok" not in guarded
    for trace in ("compact", "full"):
        assert GUARD not in project.program("330106", trace=trace).query


def test_guarded_decisions_are_the_decisions_computed_for_every_member(
    population: Path, tmp_path: Path
) -> None:
    none = _decisions(TABLES, population, tmp_path / "none.parquet", "none")
    compact = _decisions(TABLES, population, tmp_path / "compact.parquet", "compact")
    assert none == compact
    tekun = _columns(tmp_path / "none.parquet").index("tekun_members")
    assert sum(1 for row in none if row[tekun]) > 0, "no household with a tekun member"


def test_a_guard_is_dropped_when_an_aggregate_would_count_members_left_out(
    population: Path, tmp_path: Path
) -> None:
    tables = tmp_path / "tables"
    shutil.copytree(TABLES, tables, ignore=shutil.ignore_patterns("samples"))
    derived = tables / "province" / "派生值.csv"
    raw = derived.read_bytes()
    assert raw.count(b"collect(person_id, tekun)") == 1
    # the elderly are listed too: a guard on the tekun rules would leave most of them out
    derived.write_bytes(raw.replace(b"collect(person_id, tekun)", b"collect(person_id, tekun or age >= 60)"))
    project = open_project(tables, ["330106"], AS_OF)
    assert GUARD not in project.program("330106", trace="none").query
    none = _decisions(tables, population, tmp_path / "none.parquet", "none")
    compact = _decisions(tables, population, tmp_path / "compact.parquet", "compact")
    assert none == compact
    tekun = _columns(tmp_path / "none.parquet").index("tekun_members")
    original = _decisions(TABLES, population, tmp_path / "original.parquet", "none")
    assert sum(len(r[tekun]) for r in none) > sum(len(r[tekun]) for r in original)
