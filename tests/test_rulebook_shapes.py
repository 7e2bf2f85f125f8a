"""Rulebooks that declare only some of the contract's fields: evaluate, diff
--households and the service decide for them, with the decision columns the contract
names (alerts empty where no event is declared, an alert's person_id null where no
event.person_id is), and a rulebook whose alerts lack the date they are raised on is
refused by the check (E302), not by DuckDB at evaluation (E605). Alert outputs the
decisions never read are warned of (W207), alerts without a due date refused (E215),
and a rulebook without member fields decides households without members (no E604).

Each shape is the small rulebook of tests/test_registry.py with pieces taken away.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from compiler import cli
from compiler.evaluate import evaluate_file
from compiler.output import DECISION_COLUMNS
from compiler.registry_publish import publish
from compiler.service import Settings, create_app
from tests.helpers import STANDARDS_HEADER
from tests.test_registry import (
    CALENDAR,
    COUNTY,
    DERIVED,
    ENTITLEMENTS,
    FIELDS,
    GROUP_TABLE,
    STANDARDS,
    write_rulebook,
)
from tests.workbooks import write_csv_folder

AS_OF = date(2025, 6, 1)
HOUSEHOLD_FIELDS = FIELDS[:4]  # the header, household_id, county_code, assets.money
EVENT_FIELDS = [
    ["event.type", "事件类型", "事件", "text", None, None],
    ["event.date", "事件日期", "事件", "date", None, None],
    ["event.person_id", "事件成员编号", "事件", "text", None, None],
]
ALERTS = [
    ["alerts", "监测预警", "FIRST", "层级=事件", "接受缺口=其他事件不预警"],
    ["规则", "输入", "输出", "输出", "注释"],
    ["名称", "event.type", "alert_type", "alert_due", "依据"],
    ["类型", "text", "text", "date", None],
    ["默认", None, None, None, None],
    ["unemployed", '"unemployment_registration"', '"unemployment_registration"',
     "working_days_after(event.date, 10)", "四(三)"],
]
EARNERS = [
    ["earners", "有收入成员", "FIRST", "层级=成员", "接受缺口=其余成员无收入"],
    ["规则", "输入", "输出", "注释"],
    ["名称", "income.wage", "earner", "依据"],
    ["类型", "money", "boolean", None],
    ["默认", None, "否", None],
    ["paid", "> 0", "是", "二"],
]
# the group table with the standards written out: 1,301 a month, 1.5 times for the margin
LITERAL_GROUP = [
    GROUP_TABLE[0],
    GROUP_TABLE[1],
    GROUP_TABLE[2],
    GROUP_TABLE[3],
    GROUP_TABLE[4],
    ["dibao", "< 1301", "< 62448", "dibao", "三(一)"],
    ["marginal", "[1301..1951.5)", "< 93672", "dibao_marginal", "二"],
]
HOUSEHOLD_INCOME = [
    DERIVED[0],
    ["income_per_capita", "人均月收入", "家庭", "money", "round(assets.money / 120, 2)", "二"],
    DERIVED[2],
]


def province(root: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """Replace the province of the small rulebook under ``root`` by ``sheets`` (with
    its calendar and entitlements) and return the tables folder."""
    tables = write_rulebook(root / "tables")
    for old in (tables / "province").iterdir():
        old.unlink()
    write_csv_folder(
        tables / "province",
        {"日历": CALENDAR, "entitlements": ENTITLEMENTS, "household_group": GROUP_TABLE}
        | sheets,
    )
    return tables


def no_events(root: Path) -> Path:
    return write_rulebook(root / "tables")


def no_member_fields(root: Path) -> Path:
    sheets = {"字段": HOUSEHOLD_FIELDS, "标准参数": STANDARDS, "派生值": HOUSEHOLD_INCOME}
    return province(root, sheets)


def no_standards(root: Path) -> Path:
    tables = province(
        root,
        {
            "字段": FIELDS,
            "标准参数": [STANDARDS_HEADER],
            "派生值": DERIVED[:2],
            "household_group": LITERAL_GROUP,
        },
    )
    county = tables / "counties" / f"{COUNTY}-西湖区" / "标准参数.csv"
    county.write_text("标识,值,生效日期,失效日期,来源\n", encoding="utf-8")
    return tables


def member_table_without_person_id(root: Path) -> Path:
    fields = [f for f in FIELDS if f[0] != "person_id"]
    return province(
        root,
        {"字段": fields, "标准参数": STANDARDS, "派生值": DERIVED, "earners": EARNERS},
    )


def alerts_without_person_id(root: Path) -> Path:
    sheets = {
        "字段": FIELDS + EVENT_FIELDS[:2],
        "标准参数": STANDARDS,
        "派生值": DERIVED,
        "alerts": ALERTS,
    }
    return province(root, sheets)


def no_keys_declared(root: Path) -> Path:
    """As a DMN-imported rulebook: 字段 declares no household_id or county_code, which
    every input has all the same."""
    fields = [f for f in FIELDS if f[0] not in ("household_id", "county_code")]
    return province(root, {"字段": fields, "标准参数": STANDARDS, "派生值": DERIVED})


SHAPES = {
    "no_events": no_events,
    "no_member_fields": no_member_fields,
    "no_standards": no_standards,
    "member_table_without_person_id": member_table_without_person_id,
    "alerts_without_person_id": alerts_without_person_id,
    "no_keys_declared": no_keys_declared,
}


def households_file(folder: Path) -> Path:
    """Two households of 330106: one in dibao, one earning too much; the first has
    an unemployment registration, which only the alerts shape reads."""
    rows = [
        {
            "household_id": "H1",
            "county_code": COUNTY,
            "assets": {"money": "1000"},
            "members": [{"person_id": "P1", "birth_date": "1980-01-01", "income": {"wage": "9000"}}],
            "events": [{"type": "unemployment_registration", "date": "2025-05-06"}],
        },
        {
            "household_id": "H2",
            "county_code": COUNTY,
            "assets": {"money": "1000000"},
            "members": [{"person_id": "P1", "birth_date": "1980-01-01", "income": {"wage": "900000"}}],
        },
    ]
    path = folder / "households.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


@pytest.fixture(params=sorted(SHAPES))
def shape(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, Path, Path]:
    tables = SHAPES[request.param](tmp_path)
    return request.param, tables, households_file(tmp_path)


def expected_alerts(name: str) -> list[dict[str, object]]:
    if name != "alerts_without_person_id":
        return []
    return [
        {"type": "unemployment_registration", "person_id": None,
         "raised_on": "2025-05-06", "due": "2025-05-20"}
    ]


def test_each_shape_is_evaluated_with_the_contract_columns(shape, tmp_path):
    name, tables, households = shape
    out = tmp_path / "out.jsonl"
    evaluate_file(tables, households, AS_OF, out, summary=False)
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [list(r) for r in rows] == [list(DECISION_COLUMNS)] * 2
    assert [r["group"] for r in rows] == ["dibao", "none"]
    assert rows[0]["alerts"] == expected_alerts(name)
    assert rows[1]["alerts"] == []
    # every member has a person_id in the input, declared or not, and the trace names it
    members = [e["person_id"] for e in rows[0]["trace"] if e["table"] == "earners"]
    assert members == (["P1"] if name == "member_table_without_person_id" else [])


# explain, and the service and diff --households on the other shapes, decided them
# before; these are the shapes whose queries read a person_id the rulebook lacks
@pytest.mark.parametrize("name", ["alerts_without_person_id", "member_table_without_person_id"])
def test_a_shape_without_person_ids_is_decided_by_the_service(name, tmp_path):
    tables, households = SHAPES[name](tmp_path), households_file(tmp_path)
    rows = [json.loads(line) for line in households.read_text("utf-8").splitlines()]
    registry = tmp_path / "registry" / "r.duckdb"
    settings = Settings(tables=tables, registry=registry, warm_on_start=False)
    with TestClient(create_app(settings)) as client:
        answer = client.post("/v1/decisions", json={"households": rows, "as_of": "2025-06-01"})
    assert answer.status_code == 200, answer.text
    decisions = answer.json()["decisions"]
    assert [d["group"] for d in decisions] == ["dibao", "none"]
    assert decisions[0]["alerts"] == expected_alerts(name)


def test_alerts_without_person_ids_are_compared_household_by_household(tmp_path, capsys):
    tables = alerts_without_person_id(tmp_path)
    households = households_file(tmp_path)
    registry = tmp_path / "registry" / "jiuzhu-registry.duckdb"
    publish(tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    group = tables / "province" / "household_group.csv"
    text = group.read_text("utf-8-sig")
    group.write_text(text.replace("< 4 * 12 * 低保标准", "< 500").replace("< 62448", "< 500"), "utf-8")
    argv = ["diff", f"{COUNTY}@1", COUNTY, "--households", str(households)]
    argv += ["--as-of", AS_OF.isoformat(), "--tables", str(tables), "--registry", str(registry)]
    assert cli.main(argv) == 0
    assert "H1（330106）：低保 → 不属于低收入人口" in capsys.readouterr().out


def test_alerts_without_an_event_date_are_refused_by_the_check(tmp_path, capsys):
    alerts = [ALERTS[0]] + [row[:3] + row[4:] for row in ALERTS[1:]]  # no alert_due
    sheets = {"字段": FIELDS + EVENT_FIELDS[:1], "标准参数": STANDARDS, "派生值": DERIVED}
    tables = province(tmp_path, sheets | {"alerts": alerts})
    assert cli.main(["check", str(tables)]) == 1
    said = capsys.readouterr().out
    assert "province:alerts!C3: E302 决策表「alerts」的输出「alert_type」产生预警" in said
    assert "没有事件日期「event.date」" in said


def test_an_alert_output_of_a_household_table_is_warned_of(tmp_path, capsys):
    # a household table's alert_type was never read: no alert was raised, and no word
    alerts = [["alerts", "监测预警", "FIRST", "层级=家庭", "接受缺口=其余家庭不预警"]]
    alerts += [list(row) for row in ALERTS[1:]]
    alerts[2][1], alerts[3][1], alerts[5][1] = "assets.money", "money", "> 0"
    alerts[5][3] = "working_days_after(as_of, 10)"
    sheets = {"字段": FIELDS + EVENT_FIELDS, "标准参数": STANDARDS, "派生值": DERIVED}
    tables = province(tmp_path, sheets | {"alerts": alerts})
    assert cli.main(["check", str(tables)]) == 0
    said = capsys.readouterr().out
    assert (
        "province:alerts!C3: W207 决策表「alerts」是家庭层级的表，其输出「alert_type」"
        "不会产生预警：只有层级=事件 的表产生预警"
    ) in said
    # alert_due is never read either
    assert "province:alerts!D3: W207 决策表「alerts」是家庭层级的表，其输出「alert_due」不会" in said


def test_an_event_table_raising_alerts_without_a_due_date_is_refused(tmp_path, capsys):
    # the contract gives each alert its due date; the decisions said null, silently
    alerts = [ALERTS[0]] + [row[:3] + row[4:] for row in ALERTS[1:]]  # no alert_due
    sheets = {"字段": FIELDS + EVENT_FIELDS, "标准参数": STANDARDS, "派生值": DERIVED}
    tables = province(tmp_path, sheets | {"alerts": alerts})
    assert cli.main(["check", str(tables)]) == 1
    said = capsys.readouterr().out
    assert "province:alerts!C3: E215 决策表「alerts」的输出「alert_type」产生预警" in said
    assert "没有事件层级的输出「alert_due」" in said
    assert "E302" not in said  # event.date is declared: only the due date is missing


def test_alerts_whose_due_date_another_event_table_gives_are_accepted(tmp_path, capsys):
    alerts = [ALERTS[0]] + [row[:3] + row[4:] for row in ALERTS[1:]]
    due = [["alert_deadlines", "预警期限", "FIRST", "层级=事件", "接受缺口=其他事件不预警"]]
    due += [row[:2] + row[3:] for row in ALERTS[1:]]
    sheets = {"字段": FIELDS + EVENT_FIELDS, "标准参数": STANDARDS, "派生值": DERIVED}
    tables = province(tmp_path, sheets | {"alerts": alerts, "alert_deadlines": due})
    cli.main(["check", str(tables)])
    said = capsys.readouterr().out
    assert "E215" not in said and "W207" not in said


def memberless_households(folder: Path) -> Path:
    """H1 in dibao and H2 earning too much, as households_file, neither with members."""
    rows = [
        {"household_id": "H1", "county_code": COUNTY, "assets": {"money": "1000"}, "members": []},
        {"household_id": "H2", "county_code": COUNTY, "assets": {"money": "1000000"}},
    ]
    path = folder / "memberless.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


def test_households_without_members_are_decided_where_no_member_field_is_declared(tmp_path):
    tables = no_member_fields(tmp_path)
    out = tmp_path / "out.jsonl"
    evaluate_file(tables, memberless_households(tmp_path), AS_OF, out, summary=False)
    rows = [json.loads(line) for line in out.read_text("utf-8").splitlines()]
    assert [(r["household_id"], r["group"]) for r in rows] == [("H1", "dibao"), ("H2", "none")]
    assert [r["tekun_members"] for r in rows] == [[], []]


def test_households_without_members_are_refused_where_member_fields_are_declared(
    tmp_path, capsys
):
    tables = no_events(tmp_path)
    argv = ["evaluate", "--tables", str(tables), "--households"]
    argv += [str(memberless_households(tmp_path)), "--as-of", AS_OF.isoformat()]
    argv += ["--out", str(tmp_path / "out.jsonl")]
    assert cli.main(argv) == 1
    said = capsys.readouterr()
    assert "$.members: E604 家庭「H1」没有成员" in said.out + said.err
    assert "家庭「H2」没有成员" in said.out + said.err
