"""A count of 0 beside what it counts (W608), an event naming no member (W609) and an
event of long ago (W610) are decided but warned about, alike by `jiuzhu evaluate` (JSON
and CSV files), `jiuzhu explain` and the service. A policy auditor found them decided
silently: a household with no vehicle and a price of 150,000 was refused as a car
owner, and an event of 2014 raised an alert listed as due on a 2025 run."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from compiler.cli import main
from compiler.engine import open_project
from compiler.evaluate import evaluate_file
from compiler.households_plausible import household_warnings

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "tables"
NEW = ("W608", "W609", "W610")
DAY = date(2025, 6, 1)
HEAD = {"person_id": "P1", "relation": "head", "birth_date": "1980-01-01"}
DIBAO = {"group": "dibao", "since": "2024-01-01"}


def household(ident: str, assets: dict[str, Any], *events: dict[str, Any]) -> dict:
    return {
        "household_id": ident,
        "county_code": "330106",
        "current": DIBAO,
        "assets": assets,
        "members": [HEAD],
        "events": list(events),
    }


def event(kind: str, day: str, person: str | None = "P1") -> dict[str, Any]:
    said = {"type": kind, "date": day}
    return said | ({"person_id": person} if person else {})


# (household, code, field, the value quoted, a phrase of the message)
CASES = {
    "vehicle-price-without-vehicle": (
        household("CAR", {"vehicles": 0, "vehicle_value": "150000"}),
        "W608",
        "assets.vehicles",
        "机动车数量 0，车辆购置价 150000.00 元",
        "机动车数量（assets.vehicles）为 0，车辆购置价（assets.vehicle_value）却为 150000.00 元",
    ),
    "floor-area-without-home": (
        household("HOME", {"floor_area_m2": "85.5"}),  # homes left out: 0
        "W608",
        "assets.homes",
        "住房套数 0，住房总面积 85.5 平方米",
        "住房套数（assets.homes）为 0，住房总面积（assets.floor_area_m2）却为 85.5 平方米",
    ),
    "death-of-no-member": (
        household("DEATH", {}, event("working_age_death", "2025-05-02", "P9")),
        "W609",
        "event.person_id",
        "P9",
        (
            "事件「working_age_death」（2025-05-02）的事件成员编号（event.person_id）"
            "为「P9」，本户没有这名成员"
        ),
    ),
    "unemployment-of-no-member": (
        household(
            "JOBLESS",
            {},
            event("unemployment_registration", "2025-05-01"),
            event("unemployment_registration", "2025-05-03", "P8"),
            event("high_medical_expense", "2025-05-04", "P7"),
        ),
        "W609",
        "event.person_id",
        "P8",
        "为「P8」，本户没有这名成员（本户的事件另有 1 个成员编号也不是本户成员的）",
    ),
    "event-of-2014": (
        household(
            "OLD",
            {},
            event("unemployment_registration", "2024-05-31"),
            event("unemployment_registration", "2014-03-01"),
            event("disability_certificate", "2014-02-01", None),
        ),
        "W610",
        "event.date",
        "2014-02-01",
        (
            "事件「disability_certificate」的事件日期（event.date）为 2014-02-01，"
            "比决策日 2025-06-01 早 4138 天，超过 366 天（本户另有 1 个这样的事件）"
        ),
    ),
}

# where each case is in the JSON Lines file (one household per line, in CASES' order)
JSON_PLACES = {
    "CAR": "第1行 $.assets.vehicles",
    "HOME": "第2行 $.assets.homes",
    "DEATH": "第3行 $.events[0].person_id",
    "JOBLESS": "第4行 $.events[1].person_id",
    "OLD": "第5行 $.events[2].date",
}

# and in the service's request
SERVICE_PATHS = {
    "CAR": "$.households[0].assets.vehicles",
    "HOME": "$.households[1].assets.homes",
    "DEATH": "$.households[2].events[0].person_id",
    "JOBLESS": "$.households[3].events[1].person_id",
    "OLD": "$.households[4].events[2].date",
}

# households at the edge of each check that none of them flags
PLAUSIBLE = [
    household("OK_CAR", {"vehicles": 1, "vehicle_value": "150000"}),
    household("OK_NO_CAR", {"vehicles": 0, "vehicle_value": "0"}),
    household("OK_HOME", {"homes": 1, "floor_area_m2": "85.5"}),
    household("OK_NO_HOME", {"homes": 0, "floor_area_m2": "0"}),
    household(
        "OK_EVENTS",
        {},
        event("working_age_death", "2025-05-02"),  # names the member P1
        event("high_medical_expense", "2025-05-03", None),  # names no one
        event("unemployment_registration", "2024-05-31"),  # 366 days before
        event("disability_certificate", "2025-07-01"),  # after the decision date
    ),
]


def write_jsonl(path: Path, households: list[dict[str, Any]]) -> Path:
    path.write_text(
        "".join(json.dumps(h, ensure_ascii=False) + "\n" for h in households),
        encoding="utf-8",
    )
    return path


def new_warnings(result: Any) -> list[Any]:
    return [d for d in result.input_warnings if d.code in NEW]


def by_household(said: list[Any]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for diagnostic in said:
        assert diagnostic.extra["household"] not in found, diagnostic.render()
        found[diagnostic.extra["household"]] = diagnostic
    return found


@pytest.fixture(scope="module")
def json_warned(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The W608-W610 of one evaluation of every case and plausible household (JSONL)."""
    folder = tmp_path_factory.mktemp("json")
    households = [case[0] for case in CASES.values()] + PLAUSIBLE
    source = write_jsonl(folder / "households.jsonl", households)
    result = evaluate_file(TABLES, source, DAY, folder / "d.jsonl", summary=False)
    assert result.households == len(households)  # decided all the same
    return by_household(new_warnings(result))


@pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))
def test_a_json_household_is_warned_about_at_the_value(
    case: tuple, json_warned: dict[str, Any]
) -> None:
    ident = case[0]["household_id"]
    said = json_warned[ident]
    assert (said.code, said.extra["field"], said.found) == case[1:4]
    assert f"家庭「{ident}」" in said.message and case[4] in said.message
    assert said.location.file.endswith("households.jsonl")
    assert said.location.cell == JSON_PLACES[ident]


def test_households_at_the_edge_of_each_check_are_not_warned_about(
    json_warned: dict[str, Any],
) -> None:
    edges = {h["household_id"] for h in PLAUSIBLE}
    assert not [d.render() for h, d in json_warned.items() if h in edges]
    assert set(json_warned) == {case[0]["household_id"] for case in CASES.values()}


def test_the_vehicle_warning_says_what_the_asset_tests_do_with_the_price(
    json_warned: dict[str, Any],
) -> None:
    hint = json_warned["CAR"].hint
    assert "低保边缘、低收入帮扶家庭的财产条件按车辆购置价判断" in hint
    assert "低保的财产条件只看机动车数量" in hint


def test_the_floor_area_warning_says_the_area_is_not_tested(
    json_warned: dict[str, Any],
) -> None:
    assert "本户按没有住房决策，住房面积不参与判断" in json_warned["HOME"].hint


def test_an_unknown_person_s_warning_holds_for_a_death_and_for_other_events(
    json_warned: dict[str, Any],
) -> None:
    """working_age_death has a row for a deceased not in the member list; the warning
    says so, and that the other events' alerts do not depend on the person."""
    for ident in ("DEATH", "JOBLESS"):
        hint = json_warned[ident].hint
        assert "劳动年龄段人口死亡（working_age_death）按死者不在成员名单中处理" in hint
        assert "其他事件的预警与成员无关" in hint


def test_an_old_event_s_warning_says_since_when_events_are_expected(
    json_warned: dict[str, Any],
) -> None:
    said = json_warned["OLD"]
    assert said.expected == "决策日前 366 天以内，即 2024-05-31 及以后"
    assert "仍产生预警并按已到期列出" in said.hint


def test_the_old_event_still_raises_alerts_listed_as_due(tmp_path: Path) -> None:
    """What W610 warns of: an event of 2014 is alerted on a 2025 run."""
    source = write_jsonl(tmp_path / "h.jsonl", [CASES["event-of-2014"][0]])
    evaluate_file(TABLES, source, DAY, tmp_path / "d.jsonl", summary=False)
    [decided] = map(json.loads, (tmp_path / "d.jsonl").read_text().splitlines())
    dates = sorted(a["due"] for a in decided["alerts"])
    assert dates and dates[0] < "2015-01-01"


# ---------------------------------------------------------------- CSV


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def test_csv_input_is_warned_about_at_the_row_or_column(tmp_path: Path) -> None:
    write_csv(
        tmp_path / "x-households.csv",
        [
            "household_id",
            "county_code",
            "assets.vehicles",
            "assets.vehicle_value",
            "assets.homes",
            "assets.floor_area_m2",
        ],
        [
            ["OK", "330106", "1", "90000", "1", "60"],
            ["CAR", "330106", "0", "150000", "1", "60"],
            ["HOME", "330106", "0", "0", "", "85.5"],
        ],
    )
    write_csv(
        tmp_path / "x-members.csv",
        ["household_id", "person_id", "relation", "birth_date"],
        [[h, "P1", "head", "1980-01-01"] for h in ("OK", "CAR", "HOME")],
    )
    write_csv(
        tmp_path / "x-events.csv",
        ["household_id", "type", "date", "person_id"],
        [
            ["OK", "unemployment_registration", "2025-05-01", "P1"],
            ["CAR", "working_age_death", "2025-05-02", "P9"],
            ["HOME", "unemployment_registration", "2014-03-01", "P1"],
        ],
    )
    result = evaluate_file(TABLES, tmp_path / "x-households.csv", DAY, None)
    said = [
        (d.code, d.extra["household"], Path(d.location.file).name, d.location.cell)
        for d in new_warnings(result)
    ]
    assert said == [
        ("W608", "CAR", "x-households.csv", "第3行 assets.vehicles"),
        ("W608", "HOME", "x-households.csv", "第4行 assets.homes"),
        ("W609", "CAR", "x-events.csv", "event.person_id"),
        ("W610", "HOME", "x-events.csv", "event.date"),
    ]


def test_the_cli_prints_the_warnings_and_decides_every_household(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    households = [CASES["vehicle-price-without-vehicle"][0], *PLAUSIBLE]
    source = write_jsonl(tmp_path / "households.jsonl", households)
    out = tmp_path / "d.jsonl"
    assert (
        main(
            [
                "evaluate",
                "--households",
                str(source),
                "--as-of",
                "2025-06-01",
                "--working-copy",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "W608 家庭「CAR」的机动车数量（assets.vehicles）为 0" in err
    assert len(out.read_text().splitlines()) == len(households)


# ---------------------------------------------------------------- explain and service


def test_explain_s_household_warnings_agree_with_the_file(
    json_warned: dict[str, Any],
) -> None:
    fields = open_project(TABLES, ["330106"], DAY).fields
    for case in [*CASES.values()]:
        [said] = household_warnings(case[0], fields, DAY)
        from_file = json_warned[case[0]["household_id"]]
        assert (said.code, said.message, said.found, said.extra["field"]) == (
            from_file.code,
            from_file.message,
            from_file.found,
            from_file.extra["field"],
        )
    for plausible in PLAUSIBLE:
        assert household_warnings(plausible, fields, DAY) == []


def test_without_a_decision_date_events_are_not_checked_for_their_age() -> None:
    fields = open_project(TABLES, ["330106"], DAY).fields
    assert household_warnings(CASES["event-of-2014"][0], fields) == []


def test_explain_notes_an_old_event(tmp_path: Path, capsys) -> None:
    source = write_jsonl(tmp_path / "households.jsonl", [CASES["event-of-2014"][0]])
    assert (
        main(
            [
                "explain",
                "OLD",
                "--households",
                str(source),
                "--as-of",
                "2025-06-01",
                "--working-copy",
            ]
        )
        == 0
    )
    assert (
        "注意：W610 家庭「OLD」的事件「disability_certificate」"
        in capsys.readouterr().out
    )


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from fastapi.testclient import TestClient

    from compiler.service import Settings, create_app

    registry = tmp_path_factory.mktemp("registry") / "r.duckdb"
    settings = Settings(tables=TABLES, registry=registry, warm_on_start=False)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def service_warnings(client: Any, households: list[dict]) -> list[dict[str, Any]]:
    response = client.post(
        "/v1/decisions", json={"as_of": "2025-06-01", "households": households}
    )
    assert response.status_code == 200, response.text
    assert len(response.json()["decisions"]) == len(households)
    return [w for w in response.json()["warnings"] if w["code"] in NEW]


def test_the_service_places_each_warning_at_the_path_of_its_value(
    client: Any, json_warned: dict[str, Any]
) -> None:
    said = service_warnings(client, [case[0] for case in CASES.values()])
    assert {(w["code"], w["path"]) for w in said} == {
        (json_warned[ident].code, path) for ident, path in SERVICE_PATHS.items()
    }
    messages = {w["message"] for w in said}
    assert messages == {d.message for d in json_warned.values()}


def test_the_service_warns_of_nothing_for_plausible_households(client: Any) -> None:
    assert service_warnings(client, PLAUSIBLE) == []


# ---------------------------------------------------------------- the synthetic data


def test_the_synthetic_population_raises_none_of_these(tmp_path: Path) -> None:
    """jiuzhu synth draws counts with their amounts and events about members within
    the two years around 2025: none of them is flagged."""
    out = tmp_path / "households.parquet"
    assert (
        main(
            [
                "synth",
                "--households",
                "3000",
                "--seed",
                "1",
                "--out",
                str(out),
                "--tables",
                str(TABLES),
            ]
        )
        == 0
    )
    result = evaluate_file(TABLES, out, DAY, None)
    assert result.households == 3000
    assert [d.render() for d in new_warnings(result)] == []
