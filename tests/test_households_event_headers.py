"""An events file's columns by their Chinese names without 事件 (helper-97).

An events.csv whose person column was headed 成员编号 was refused (E603: 「成员编号」
is a member's field, to be written in members.csv), though the contract names the
event's key ``person_id`` and a header may write it so, as ``type`` for event.type.
Each event column is now read by its 字段 sheet name without 事件 too, the Chinese
of its bare key: 类型, 日期, 成员编号, 金额; a header no field has keeps its error.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from compiler.errors import InputError
from compiler.evaluate import evaluate_file
from compiler.households import load_households
from compiler.households_model import TEXT, Column, chinese_names
from compiler.model import Level
from compiler.resolve import declared_fields

TABLES = Path(__file__).resolve().parent.parent / "tables"
SAMPLES = TABLES / "samples" / "households.jsonl"
FIELDS = declared_fields(TABLES)
AS_OF = date(2025, 6, 1)
HOUSEHOLDS = [["户编号", "居住地区划代码"], ["H1", "330106"]]
MEMBERS = [
    ["户编号", "成员编号", "出生日期", "与户主关系"],
    ["H1", "P1", "1970-01-02", "户主"],
]


def _write(path: Path, rows: list[list[str]]) -> None:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    path.write_text(text.getvalue(), encoding="utf-8-sig")


def _files(folder: Path, events: list[list[str]]) -> Path:
    _write(folder / "households.csv", HOUSEHOLDS)
    _write(folder / "members.csv", MEMBERS)
    _write(folder / "events.csv", events)
    return folder / "households.csv"


def _refused(path: Path) -> list[tuple[str, str | None, str]]:
    with pytest.raises(InputError) as raised:
        load_households(duckdb.connect(), path, FIELDS)
    return [(d.code, d.location.cell, d.render()) for d in raised.value.diagnostics]


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(
            ["户编号", "事件类型", "事件日期", "成员编号", "事件金额"],
            id="person-as-member",
        ),
        pytest.param(["户编号", "类型", "日期", "成员编号", "金额"], id="all-short"),
        pytest.param(
            ["household_id", "type", "date", "成员编号", "金额（元）"], id="mixed-unit"
        ),
    ],
)
def test_an_event_column_is_read_by_its_name_without_shijian(
    tmp_path: Path, header: list[str]
) -> None:
    path = _files(
        tmp_path, [header, ["H1", "失业人员登记", "2025-05-02", "P1", "120.50"]]
    )
    con = duckdb.connect()

    loaded = load_households(con, path, FIELDS)

    assert loaded.warnings == []
    assert con.execute(
        'SELECT "event.type", "event.date", "event.person_id", "event.amount" '
        "FROM jz_events"
    ).fetchall() == [("unemployment_registration", date(2025, 5, 2), "P1", 120.5)]


def _flat(record: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            out |= _flat(value, f"{prefix}{key}.")
        else:
            out[prefix + key] = value
    return out


def _cell(value: object) -> str:
    if value is None:
        return ""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _samples_as_csv(folder: Path, event_headers: dict[str, str]) -> Path:
    """The sample households with events as CSV files, the events' columns headed
    by ``event_headers``."""
    records = [
        json.loads(line) for line in SAMPLES.read_text(encoding="utf-8").splitlines()
    ]
    records = [r for r in records if r.get("events")]
    rows: dict[str, list[dict[str, object]]] = {
        "households": [],
        "members": [],
        "events": [],
    }
    for record in records:
        hid = record["household_id"]
        rest = {k: v for k, v in record.items() if k not in ("members", "events")}
        rows["households"].append(_flat(rest))
        rows["members"] += [
            {"household_id": hid, **_flat(m)} for m in record["members"]
        ]
        rows["events"] += [{"household_id": hid, **_flat(e)} for e in record["events"]]
    for name, items in rows.items():
        keys = list(dict.fromkeys(k for item in items for k in item))
        shown = [event_headers.get(k, k) if name == "events" else k for k in keys]
        _write(
            folder / f"{name}.csv",
            [shown, *[[_cell(i.get(k)) for k in keys] for i in items]],
        )
    return folder / "households.csv"


def test_samples_with_short_event_headers_decide_as_with_the_keys(
    tmp_path: Path,
) -> None:
    """The events name their members by 成员编号: the working-age deaths are aged
    from their birth dates, the alerts as with ``person_id``."""
    (tmp_path / "keys").mkdir()
    (tmp_path / "short").mkdir()
    keys = _samples_as_csv(tmp_path / "keys", {})
    short = _samples_as_csv(
        tmp_path / "short",
        {"type": "类型", "date": "日期", "person_id": "成员编号", "amount": "金额"},
    )
    assert "类型,日期,成员编号" in (tmp_path / "short" / "events.csv").read_text(
        "utf-8-sig"
    )

    evaluate_file(TABLES, keys, AS_OF, tmp_path / "keys.jsonl")
    evaluate_file(TABLES, short, AS_OF, tmp_path / "short.jsonl")

    decided = (tmp_path / "short.jsonl").read_text(encoding="utf-8")
    assert decided == (tmp_path / "keys.jsonl").read_text(encoding="utf-8")
    assert '"type":"working_age_death"' in decided


def test_a_field_by_its_name_and_its_short_name_is_one_e605(tmp_path: Path) -> None:
    events = [
        ["户编号", "事件类型", "事件日期", "事件成员编号", "成员编号"],
        ["H1", "失业人员登记", "2025-05-02", "P1", "P1"],
    ]

    [(code, _, text)] = _refused(_files(tmp_path, events))

    assert code == "E605"
    assert (
        "字段「事件成员编号」（event.person_id）有 2 列：事件成员编号、成员编号" in text
    )


@pytest.mark.parametrize(
    ("column", "code", "said"),
    [
        pytest.param(
            "出生日期",
            "E603",
            "「出生日期」是成员的字段「出生日期」（birth_date），应写在 members.csv 中",
            id="member-field",
        ),
        pytest.param(
            "货币财产",
            "E603",
            "「货币财产」是家庭的字段「货币财产」（assets.money），应写在 households.csv 中",
            id="household-field",
        ),
    ],
)
def test_another_files_field_in_events_keeps_its_e603(
    tmp_path: Path, column: str, code: str, said: str
) -> None:
    events = [
        ["户编号", "类型", "日期", column],
        ["H1", "失业人员登记", "2025-05-02", "1"],
    ]

    found = _refused(_files(tmp_path, events))

    assert [(c, cell) for c, cell, _ in found] == [(code, column)]
    assert said in found[0][2]


def test_an_unknown_event_header_keeps_its_warning(tmp_path: Path) -> None:
    events = [
        ["户编号", "类型", "日期", "人员编号"],
        ["H1", "失业人员登记", "2025-05-02", "P1"],
    ]
    con = duckdb.connect()

    loaded = load_households(con, _files(tmp_path, events), FIELDS)

    assert loaded.warnings == [
        (
            "events.csv 中的列 人员编号 不是已声明的字段，已忽略（人员编号 是否想写"
            "「event.person_id」（事件成员编号）？该列没有读取，「事件成员编号」没有取值"
            "（按未填写决策））"
        )
    ]
    assert con.execute('SELECT "event.person_id" FROM jz_events').fetchall() == [
        (None,)
    ]


def test_a_missing_event_type_is_still_e604(tmp_path: Path) -> None:
    events = [["户编号", "事件种类", "日期"], ["H1", "失业人员登记", "2025-05-02"]]

    [(code, _, text)] = _refused(_files(tmp_path, events))

    assert code == "E604"
    assert "events.csv 中没有必填字段「事件类型」（event.type）这一列" in text


@pytest.mark.parametrize("column", ["成员编号", "类型", "日期"])
def test_a_short_event_name_is_no_field_in_another_file(
    tmp_path: Path, column: str
) -> None:
    """成员编号 in households.csv stays the member's field in the wrong file; 类型 and
    日期 there are no event's (words too common to place)."""
    _write(
        tmp_path / "households.csv", [[*HOUSEHOLDS[0], column], [*HOUSEHOLDS[1], "x"]]
    )
    _write(tmp_path / "members.csv", MEMBERS)
    path = tmp_path / "households.csv"
    if column == "成员编号":
        [(code, cell, text)] = _refused(path)
        assert (code, cell) == ("E603", "成员编号") and "应写在 members.csv 中" in text
        return
    loaded = load_households(duckdb.connect(), path, FIELDS)
    assert loaded.warnings == [
        f"households.csv 中的列 {column} 不是已声明的字段，已忽略"
    ]


def test_a_json_event_key_by_its_short_name_names_the_events_field(
    tmp_path: Path,
) -> None:
    """JSON takes the contract's keys only: 成员编号 in an event is E603 naming the
    event's person_id, not the member's field."""
    record = {
        "household_id": "H1",
        "county_code": "330106",
        "members": [{"person_id": "P1", "birth_date": "1970-01-02"}],
        "events": [
            {
                "type": "unemployment_registration",
                "date": "2025-05-02",
                "成员编号": "P1",
            }
        ],
    }
    path = tmp_path / "households.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")

    [(code, cell, text)] = _refused(path)

    assert (code, cell) == ("E603", '第1行 $.events[0]["成员编号"]')
    assert "是字段「事件成员编号」（event.person_id）的中文名称" in text
    assert '{"events": [{"person_id":' in text


def test_a_short_event_name_two_fields_would_share_is_neither_fields() -> None:
    """An event field a county names 类型 keeps it; 事件类型 is then read by its
    whole name only (chinese_names, helper-97)."""
    columns = [
        Column("event.type", "事件类型", Level.EVENT, TEXT),
        Column("event.kind", "类型", Level.EVENT, TEXT),
        Column("event.person_id", "事件成员编号", Level.EVENT, TEXT),
    ]

    assert chinese_names(columns) == {
        "event.type": ("事件类型",),
        "event.kind": ("类型",),
        "event.person_id": ("事件成员编号", "成员编号"),
    }


def test_an_amount_in_wan_yuan_names_each_header_to_write_once(tmp_path: Path) -> None:
    """「列名写 事件金额、事件金额 或 event.amount」: a field that is not yearly was
    named twice."""
    events = [
        ["户编号", "事件类型", "事件日期", "事件金额（万元）"],
        ["H1", "高额医疗费用支出", "2025-05-02", "3.5"],
    ]

    [(code, cell, text)] = _refused(_files(tmp_path, events))

    assert (code, cell) == ("E603", "事件金额（万元）")
    assert "应为列名写 事件金额 或 event.amount，取值按 元" in text
