"""The input check's screen (``households_check._screen``, ``_clean``): before listing
problems, each column is asked whether any value has one, with a condition written
without CASE so that the Parquet reader can test it on dictionaries and statistics.
A screen that missed a value the listing query names would let bad input through, so
it must be true exactly where the CASE names something."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compiler import households_check
from compiler.errors import InputError
from compiler.households import load_households
from compiler.households_check import _case, _Check, _clean, _screen
from compiler.households_model import Arm
from tests.test_households import FIELDS

# Conditions over a nullable integer x, some of them null where x is, some not.
TESTS = [
    "x IS NULL",
    "x > 3",
    "x < 0",
    "x % 2 = 0",
    "x IN (1, 5)",
    "coalesce(x, 0) = 0",
    "NOT coalesce(x > 2, FALSE)",
    "TRUE",
    "FALSE",
    "NULL",
]
NAMES = ["'missing'", "'range'", "'value'", "NULL"]
VALUES = [None, -2, -1, 0, 1, 2, 3, 4, 5, 6]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(TESTS), st.sampled_from(NAMES)), min_size=1, max_size=5
    )
)
def test_the_screen_holds_exactly_where_the_case_names_a_problem(arms: list) -> None:
    listed = [Arm(test, named) for test, named in arms]
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT x, ({_case(listed)}) IS NOT NULL, coalesce({_screen(listed)}, FALSE) "
        f"FROM (SELECT unnest(?) AS x)",
        [VALUES],
    ).fetchall()
    assert [(x, named) for x, named, _ in rows] == [(x, screened) for x, _, screened in rows]


def test_a_column_is_clean_when_its_quick_condition_holds_nowhere() -> None:
    """The quick condition is trusted: where it holds for no row, the screen is not
    asked (here it would find a problem); where it holds for one, the screen says."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT unnest(['330106', '330108']) AS x")
    arms = [Arm("x IS NULL", "'missing'"), Arm("x <> ''", "'value'")]
    column = FIELDS["county_code"]
    assert not _clean(con, "t", [_Check(column, arms)])
    assert _clean(con, "t", [_Check(column, arms, "x IS NULL OR x NOT IN ('330106', '330108')")])
    assert not _clean(con, "t", [_Check(column, arms, "x IS NULL OR x NOT IN ('330106')")])
    sound = [Arm("x IS NULL", "'missing'")]
    assert _clean(con, "t", [_Check(column, sound, "x IS NULL OR x NOT IN ('330106')")])


def test_a_screen_that_fails_leaves_the_question_to_the_listing_query() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT 'abc' AS x")
    # a cast the CASE would not reach fails in the screen: not clean, so the query
    # that lists problems runs
    column = FIELDS["household_id"]
    assert not _clean(con, "t", [_Check(column, [Arm("CAST(x AS INTEGER) > 0", "'range'")])])
    assert _clean(con, "t", [_Check(column, [Arm("x IS NULL", "'missing'")])])
    wrong = [Arm("x IS NULL", "'missing'"), Arm("x = 'abc'", "'value'")]
    assert not _clean(con, "t", [_Check(column, wrong)])


@pytest.mark.parametrize(
    "column, value, code",
    [
        ("county_code", "339999", "E606"),
        ("county_code", "33010", "E603"),
        ("county_code", None, "E604"),
        ("county_code", "", "E604"),
        ("county_code", " 330106", "E603"),
        ("household_id", "H\x07", "E603"),
        ("current.group", "bogus", "E603"),
    ],
)
def test_a_parquet_household_value_the_screen_must_not_miss(
    tmp_path, column: str, value: object, code: str
) -> None:
    """Ten thousand sound households and one bad value, in a Parquet file whose
    columns are dictionary-encoded and carry statistics: the screen reads those."""
    con = duckdb.connect()
    households = tmp_path / "households.parquet"
    con.execute(
        "COPY (SELECT 'H' || lpad(i::VARCHAR, 6, '0') AS household_id, "
        "'330106' AS county_code, 'none' AS \"current.group\" "
        "FROM range(10000) t(i)) TO ? (FORMAT parquet)",
        [str(households)],
    )
    con.execute(
        "COPY (SELECT 'H' || lpad(i::VARCHAR, 6, '0') AS household_id, 'p1' AS person_id, "
        "DATE '1960-01-02' AS birth_date FROM range(10000) t(i)) TO ? (FORMAT parquet)",
        [str(tmp_path / "members.parquet")],
    )
    con.execute(
        f"COPY (SELECT * REPLACE (CASE WHEN household_id = 'H005000' THEN ? "
        f"ELSE \"{column}\" END AS \"{column}\") FROM read_parquet(?)) TO ? (FORMAT parquet)",
        [value, str(households), str(tmp_path / "bad.parquet")],
    )
    (tmp_path / "bad.parquet").replace(households)
    with pytest.raises(InputError) as raised:
        load_households(duckdb.connect(), households, FIELDS, known_counties={"330106"})
    assert [d.code for d in raised.value.diagnostics][:1] == [code]


# Household ids of a few households and their members, drawn from a small set so that
# ids repeat, members name no household and households have no member.
_IDS = st.sampled_from(["H1", "H2", "H3", "", None])


def _problems_found(tmp_path: Path, households: list, members: list) -> list[tuple]:
    con = duckdb.connect()
    for name, rows, select in (
        ("households", households, "h AS household_id, '330106' AS county_code"),
        ("members", members, "h AS household_id, p AS person_id, DATE '1960-01-02' AS birth_date"),
    ):
        con.execute(
            f"COPY (SELECT {select} FROM (SELECT unnest(?::STRUCT(h VARCHAR, p VARCHAR)[], "
            "recursive := true))) TO ? (FORMAT parquet)",
            [[{"h": h, "p": p} for h, p in rows], str(tmp_path / f"{name}.parquet")],
        )
    try:
        load_households(duckdb.connect(), tmp_path / "households.parquet", FIELDS)
    except InputError as error:
        return [(d.code, d.location.render(), d.message) for d in error.diagnostics]
    return []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(_IDS, min_size=1, max_size=5),
    st.lists(st.tuples(_IDS, st.sampled_from(["p1", "p2"])), max_size=6),
)
def test_the_one_pass_member_match_finds_what_the_exact_queries_find(
    tmp_path_factory, households: list, members: list
) -> None:
    """Parquet households and members are first matched in one full join
    (``_members_match``); when it says all is well, the exact queries for members
    without a household, households without members and repeated household ids are
    not run. Whatever the ids, the problems reported are those the exact queries
    report on their own."""
    tmp_path = tmp_path_factory.mktemp("match")
    rows = [(h, None) for h in households]
    found = _problems_found(tmp_path, rows, members)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(households_check, "_members_match", lambda con, staged: False)
        exact = _problems_found(tmp_path, rows, members)
    assert found == exact
    ids = [h for h in households if h]
    if len(set(ids)) < len(ids):  # a repeated household id is always named
        assert any("重复" in message for _, _, message in found)
