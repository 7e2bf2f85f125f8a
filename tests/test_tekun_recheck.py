"""A household recognised as tekun is re-checked like a dibao one (R-N20): one that
still qualifies keeps its support, one that no longer does has its support ended,
and the explanation says so instead of 「无需复核」."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from compiler.evaluate import evaluate_file
from compiler.explain import explain_file
from compiler.resolve import declared_fields

TABLES = Path(__file__).resolve().parents[1] / "tables"
ROOT = TABLES.parent
DAY = date(2025, 6, 1)
ELDER = {
    "person_id": "E", "relation": "head", "birth_date": "1950-01-01",
    "hukou": "rural", "has_able_supporter": False,
}
# born 2007-05-01: 18 on the decision date and not in school, so R-N19 keeps no support
GRANDCHILD = {
    "person_id": "G", "relation": "grandchild", "birth_date": "2007-05-01",
    "hukou": "rural", "has_able_supporter": False,
}


def _tekun(hid: str, members: list[dict], money: str = "0") -> dict:
    return {
        "household_id": hid, "county_code": "330106", "assets": {"money": money},
        "members": members, "current": {"group": "tekun", "since": "2020-01-01"},
    }


HOUSEHOLDS = [
    _tekun("STILL", [ELDER]),
    _tekun("AGED_OUT", [dict(GRANDCHILD, relation="head")]),
    _tekun("EARNS", [dict(ELDER, income={"wage": "20000"})]),
    _tekun("RICH", [ELDER], money="2000000"),
    _tekun("MIXED", [ELDER, GRANDCHILD]),
    _tekun("GONE", [dict(ELDER, excluded_from_household=True)]),
]


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tekun") / "households.jsonl"
    path.write_text("".join(json.dumps(h) + "\n" for h in HOUSEHOLDS), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def decided(source: Path) -> dict[str, dict]:
    out = source.with_name("decisions.jsonl")
    evaluate_file(TABLES, source, DAY, out, summary=False)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    return {row["household_id"]: row for row in rows}


def _recheck(row: dict) -> tuple[str, str]:
    """The household_group rule that fired and the re-check outcome it gave."""
    entry = next(t for t in row["trace"] if t["table"] == "household_group")
    return entry["rule"], entry["outcome"].split("; ")[1]


@pytest.mark.parametrize(
    ("household", "group", "rule", "outcome"),
    [
        ("STILL", "tekun", "tekun_still_eligible", "still_eligible"),
        ("AGED_OUT", "dibao", "tekun_ended", "exit_tekun"),
        ("EARNS", "dibao_marginal", "tekun_ended", "exit_tekun"),
        ("RICH", "none", "tekun_ended", "exit_tekun"),
        ("MIXED", "dibao", "tekun_members_remain", "tekun_household_ended"),
        ("GONE", "none", "no_counted_member", "exit_no_members"),
    ],
    ids=["still", "grandchild_18", "elder_income", "elder_assets", "mixed", "no_member"],
)
def test_a_tekun_household_is_rechecked(decided, household, group, rule, outcome) -> None:
    row = decided[household]
    assert row["group"] == group
    assert _recheck(row) == (rule, outcome)


def test_an_ended_tekun_household_gets_no_phase_out_and_stays_monitored(decided) -> None:
    # phase-outs are for dibao and dibao_marginal (三(一)); the exit takes effect next
    # month (R-N20), so this month the household is still of the low-income population
    row = decided["RICH"]
    assert _recheck(row)[1] == "exit_tekun"
    assert row["phase_out_from"] is None and row["phase_out_until"] is None
    assert row["monitoring"] == "low_income"
    assert decided["MIXED"]["tekun_members"] == ["E"]


def test_the_explanation_says_tekun_support_ends(source: Path) -> None:
    text = explain_file(TABLES, source, "RICH", DAY)
    conclusion = next(line for line in text.splitlines() if line.startswith("结论"))
    assert "本次复核退出特困供养（不再符合特困供养条件，终止供养）" in conclusion
    assert "无需复核" not in text
    assert "R-N20" in text


def test_the_supporter_field_is_named_as_the_statutory_obligor() -> None:
    # 赡养 is support of elders only; R-N15(c) speaks of 法定义务人 for every member
    assert declared_fields(TABLES)["has_able_supporter"].name_cn == "有履行能力的法定义务人"


def test_no_text_quotes_the_old_supporter_name() -> None:
    old = "有能力履行义务的赡养人"
    places = [ROOT / "compiler", ROOT / "docs", ROOT / "tables", ROOT / "README.md"]
    files = [
        f for p in places for f in ([p] if p.is_file() else p.rglob("*"))
        if f.suffix in {".py", ".md", ".csv", ".html", ".js"}
    ]
    quoting = [f for f in files if old in f.read_text(encoding="utf-8")]
    # only the table of former names, which still reads a header written under it
    former = ROOT / "compiler" / "households_model.py"
    assert [str(f) for f in quoting if f != former] == []
    assert former.read_text(encoding="utf-8").count(old) == 1
