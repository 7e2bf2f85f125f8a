"""The synthetic population is made of plausible families (issue 10).

A tester found a parent of 40 with a child of 64: members were drawn one by one, each
with an age over the whole life span. Every test here asks DuckDB, over every household
of a generated population, for the rows that break one property, and expects none; each
also checks that the property had something to hold for, so that it cannot pass empty.
Ages are whole years on ``REFERENCE_DATE``, the day synth draws them for.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from compiler.synth import REFERENCE_DATE, _u, synthesise

ROOT = Path(__file__).resolve().parents[1]
COUNTIES = sorted(p.name[:6] for p in (ROOT / "tables" / "counties").iterdir())
HOUSEHOLDS = 5000


@pytest.fixture(scope="module")
def con(tmp_path_factory) -> duckdb.DuckDBPyConnection:
    folder = tmp_path_factory.mktemp("synth")
    synthesise(HOUSEHOLDS, 11, folder / "households.parquet", COUNTIES)
    con = duckdb.connect()
    con.execute(
        f"CREATE TABLE h AS SELECT * FROM read_parquet('{folder / 'households.parquet'}')"
    )
    con.execute(
        "CREATE TABLE m AS SELECT *, "
        f"date_sub('year', birth_date, DATE '{REFERENCE_DATE}') AS age "
        f"FROM read_parquet('{folder / 'members.parquet'}')"
    )
    con.execute(
        f"CREATE TABLE e AS SELECT * FROM read_parquet('{folder / 'events.parquet'}')"
    )
    # each member beside the head of its household
    con.execute(
        "CREATE VIEW beside_head AS SELECT m.*, head.age AS head_age FROM m "
        "JOIN m AS head ON head.household_id = m.household_id AND head.relation = 'head'"
    )
    return con


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]


def _offenders(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(f"{sql} LIMIT 5").fetchall()


def test_every_household_has_one_head_and_at_most_one_spouse(con) -> None:
    counts = (
        "SELECT household_id, count(*) FILTER (relation = '{}') AS n FROM m GROUP BY 1"
    )
    assert (
        _offenders(con, f"SELECT * FROM ({counts.format('head')}) WHERE n <> 1") == []
    )
    assert (
        _offenders(con, f"SELECT * FROM ({counts.format('spouse')}) WHERE n > 1") == []
    )
    assert _count(con, "SELECT DISTINCT household_id FROM m") == HOUSEHOLDS
    relations = {
        r[0] for r in con.execute("SELECT DISTINCT relation FROM m").fetchall()
    }
    assert relations == {
        "head",
        "spouse",
        "child",
        "grandchild",
        "parent",
        "sibling",
        "other",
    }


def test_the_head_is_an_adult_and_a_spouse_of_an_age_to_marry_near_the_heads(
    con,
) -> None:
    assert _offenders(con, "SELECT * FROM m WHERE relation = 'head' AND age < 18") == []
    spouses = "SELECT * FROM beside_head WHERE relation = 'spouse'"
    assert _count(con, spouses) > HOUSEHOLDS / 3
    assert (
        _offenders(
            con,
            f"{spouses} AND (age < 20 OR head_age < 20 OR abs(age - head_age) > 10)",
        )
        == []
    )


def test_children_are_a_generation_younger_than_head_and_spouse(con) -> None:
    children = "SELECT * FROM beside_head WHERE relation = 'child'"
    assert _count(con, children) > HOUSEHOLDS / 2
    assert _offenders(con, f"{children} AND head_age - age < 16") == []
    assert (
        _offenders(
            con,
            "SELECT c.* FROM m c JOIN m s ON s.household_id = c.household_id "
            "AND s.relation = 'spouse' WHERE c.relation = 'child' AND s.age - c.age < 16",
        )
        == []
    )


def test_grandchildren_are_younger_than_every_child_and_two_generations_below_the_head(
    con,
) -> None:
    grandchildren = "SELECT * FROM beside_head WHERE relation = 'grandchild'"
    assert _count(con, grandchildren) > HOUSEHOLDS / 20
    assert _offenders(con, f"{grandchildren} AND head_age - age < 32") == []
    assert (
        _offenders(
            con,
            "SELECT g.* FROM m g JOIN m c ON c.household_id = g.household_id "
            "AND c.relation = 'child' WHERE g.relation = 'grandchild' AND g.age >= c.age",
        )
        == []
    )
    # a grandchild has a parent of an age to be one, in the household or not
    assert (
        _offenders(
            con,
            "SELECT g.household_id FROM m g JOIN m c ON c.household_id = g.household_id "
            "AND c.relation = 'child' WHERE g.relation = 'grandchild' "
            "GROUP BY g.household_id HAVING max(c.age) - max(g.age) < 16",
        )
        == []
    )


def test_parents_are_a_generation_older_than_the_head_and_no_older_than_100(
    con,
) -> None:
    parents = "SELECT * FROM beside_head WHERE relation = 'parent'"
    assert _count(con, parents) > HOUSEHOLDS / 20
    assert _offenders(con, f"{parents} AND (age - head_age < 16 OR age > 100)") == []
    assert _offenders(con, "SELECT * FROM m WHERE age > 100 OR age < 0") == []


def test_siblings_are_near_the_heads_age(con) -> None:
    siblings = "SELECT * FROM beside_head WHERE relation = 'sibling'"
    assert _count(con, siblings) > 0
    assert _offenders(con, f"{siblings} AND abs(age - head_age) > 15") == []


@pytest.mark.parametrize(
    ("stage", "youngest", "oldest"),
    [
        ("preschool", 2, 6),
        ("primary", 5, 13),
        ("junior", 11, 16),
        ("senior", 14, 19),
        ("secondary_vocational", 14, 20),
        ("higher_vocational", 17, 23),
        ("undergraduate", 17, 25),
        ("postgraduate", 21, 35),
    ],
)
def test_students_are_of_an_age_for_their_stage(con, stage, youngest, oldest) -> None:
    students = f"SELECT * FROM m WHERE student = '{stage}'"
    assert _count(con, students) > 0
    assert (
        _offenders(con, f"{students} AND age NOT BETWEEN {youngest} AND {oldest}") == []
    )


def test_most_children_of_compulsory_school_age_are_at_school(con) -> None:
    share = con.execute(
        "SELECT avg((student IN ('primary', 'junior'))::INTEGER) FROM m "
        "WHERE age BETWEEN 7 AND 13"
    ).fetchone()[0]
    assert share > 0.95


def test_work_and_its_income_begin_at_16_and_pensions_at_60(con) -> None:
    young = "SELECT * FROM m WHERE age < 16"
    assert _count(con, young) > HOUSEHOLDS / 10
    assert (
        _offenders(
            con,
            f'{young} AND (employed OR public_institution_staff OR "income.wage" > 0 '
            'OR "income.business" > 0 OR "income.property" > 0 OR "income.transfer" > 0)',
        )
        == []
    )
    assert (
        _offenders(con, 'SELECT * FROM m WHERE "income.wage" > 0 AND NOT employed')
        == []
    )
    assert (
        _offenders(con, "SELECT * FROM m WHERE employed AND student IS NOT NULL") == []
    )
    assert (
        _offenders(
            con, "SELECT * FROM m WHERE public_institution_staff AND NOT employed"
        )
        == []
    )
    assert _offenders(con, "SELECT * FROM m WHERE employed AND age >= 75") == []
    # most people of working age work; most over 60 draw a pension of some kind
    working = con.execute(
        "SELECT avg(employed::INTEGER) FROM m WHERE age BETWEEN 25 AND 55"
    ).fetchone()[0]
    pensioned = con.execute(
        'SELECT avg(("income.transfer" > 0)::INTEGER) FROM m WHERE age >= 60'
    ).fetchone()[0]
    assert working > 0.7 and pensioned > 0.95


def test_spending_and_assets_follow_the_members_and_the_homes(con) -> None:
    studying = "SELECT household_id FROM m WHERE student IS NOT NULL"
    disabled = "SELECT household_id FROM m WHERE disability_kind IS NOT NULL"
    assert (
        _offenders(
            con,
            f'SELECT * FROM h WHERE "expenses.education" > 0 AND household_id NOT IN ({studying})',
        )
        == []
    )
    assert (
        _offenders(
            con,
            f'SELECT * FROM h WHERE "expenses.disability" > 0 AND household_id NOT IN ({disabled})',
        )
        == []
    )
    assert _count(con, 'SELECT * FROM h WHERE "expenses.education" > 0') > 0
    assert _count(con, 'SELECT * FROM h WHERE "expenses.disability" > 0') > 0
    assert (
        _offenders(
            con,
            'SELECT * FROM h WHERE "assets.homes" = 0 AND "assets.floor_area_m2" > 0',
        )
        == []
    )
    assert (
        _offenders(
            con,
            "SELECT * FROM m WHERE (disability_kind IS NULL) <> (disability_grade IS NULL)",
        )
        == []
    )


def test_a_rural_hukou_is_an_original_rural_hukou(con) -> None:
    assert _count(con, "SELECT * FROM m WHERE hukou = 'rural'") > 0
    assert (
        _offenders(
            con, "SELECT * FROM m WHERE hukou = 'rural' AND NOT original_rural_hukou"
        )
        == []
    )


def test_events_name_a_member_and_working_age_events_a_person_of_working_age(
    con,
) -> None:
    assert _count(con, "SELECT * FROM e") > HOUSEHOLDS / 50
    assert (
        _offenders(
            con,
            "SELECT * FROM e ANTI JOIN m ON m.household_id = e.household_id "
            'AND m.person_id = e."event.person_id"',
        )
        == []
    )
    assert (
        _offenders(
            con,
            'SELECT e.* FROM e JOIN m ON m.person_id = e."event.person_id" '
            "WHERE \"event.type\" IN ('unemployment_registration', 'working_age_death') "
            "AND m.age NOT BETWEEN 16 AND 59",
        )
        == []
    )


def test_draws_for_different_purposes_of_one_row_are_independent() -> None:
    """DuckDB's hash of (seed, purpose, row) differs between two purposes by a
    constant XOR: their top bits, read as uniform numbers, correlated by up to 0.9,
    and not one household drew a parent to live with."""
    u = lambda purpose: _u(1, purpose, "i")
    pairs = [(1, 2), (32, 39), (39, 40), (140, 151)]
    row = (
        duckdb.connect()
        .execute(
            "SELECT "
            + ", ".join(f"corr({u(a)}, {u(b)})" for a, b in pairs)
            + f", min({u(7)}), max({u(7)}), avg(({u(32)} < 0.3 AND {u(39)} < 0.3)::INTEGER)"
            " FROM range(200000) r(i)"
        )
        .fetchone()
    )
    *correlations, low, high, both = row
    assert all(abs(c) < 0.01 for c in correlations), correlations
    assert 0 <= low < 0.001 and 0.999 < high < 1
    assert both == pytest.approx(0.09, abs=0.005)
