"""No finding describes a household whose required field is missing.

The input refuses a member without a birth date and an event without a date or a type
(E604), so an age computed from the birth date, and a value computed from that age,
always has one: a gap, overlap or witness with ``age = 空值`` describes a household
the input would refuse (helper-73). A member's birth date read for an event (through
``event.person_id``, who may not be found) and a field the input does not require can
still be missing, and their gaps stay.

Tables go through the real load path (a CSV province folder and a county folder).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from compiler.analyse import analyse
from compiler.diagnostics import Diagnostic, Report, render_text
from compiler.engine import open_project
from tests.helpers import write_csv_project

AS_OF = date(2025, 6, 1)
COUNTY = "330106"
Rows = list[list[object]]

FIELDS: Rows = [
    ["标识", "名称", "层级", "类型", "默认", "下限", "上限", "说明"],
    ["household_id", "户编号", "家庭", "text", None, None, None, None],
    ["county_code", "县代码", "家庭", "text", None, None, None, None],
    ["person_id", "成员编号", "成员", "text", None, None, None, None],
    ["birth_date", "出生日期", "成员", "date", None, None, None, "必填"],
    ["grade", "残疾等级", "成员", "integer", None, "1", "4", "可不填"],
    ["event.type", "事件类型", "事件", "text", None, None, None, "必填"],
    ["event.date", "事件日期", "事件", "date", None, None, None, "必填"],
    ["event.person_id", "事件成员编号", "事件", "text", None, None, None, None],
]
DERIVED: Rows = [
    ["标识", "名称", "层级", "类型", "表达式", "依据"],
    ["age", "年龄", "成员", "integer", "age(birth_date)", "R-N16"],
    ["adult", "成年", "成员", "boolean", "age >= 18", "推断"],
    [
        "event_person_age",
        "事件成员年龄",
        "事件",
        "integer",
        "floor(months_between(birth_date, event.date) / 12)",
        "找不到该成员时为空",
    ],
]


def table(
    inputs: list[tuple[str, str]],
    rules: list[list[str]],
    level: str,
    policy: str = "FIRST",
) -> Rows:
    """A table ``t`` at ``level`` (成员, 事件) with one enum output."""
    rows: Rows = [["t", "t", policy, f"层级={level}"]]
    rows.append(["规则", *["输入"] * len(inputs), "输出", "注释"])
    rows.append(["名称", *[n for n, _ in inputs], "group", "依据"])
    rows.append(["类型", *[t for _, t in inputs], "enum(a,b)", None])
    for index, cells in enumerate(rules):
        rows.append([f"r{index}", *cells, "ab"[index % 2], "测试"])
    return rows


def analysed(root: Path, sheet: Rows) -> list[Diagnostic]:
    """The analysis findings on the table ``t``."""
    province = {
        "字段": FIELDS,
        "派生值": DERIVED,
        "t": sheet,
    }
    write_csv_project(root, province)
    report = Report()
    open_project(root, [COUNTY], AS_OF, analyse, report=report)
    found = [d for d in report.items if "counties" in d.extra]
    problems = [d for d in report.errors if d not in found]
    assert not problems, render_text(problems)
    return [d for d in found if d.extra.get("table") == "t"]


def rendered(found: list[Diagnostic]) -> list[str]:
    return [d.render() for d in found]


def test_every_age_covered_is_no_gap(tmp_path: Path) -> None:
    """It was E501 「age 为 空值」: a member without a birth date is refused."""
    sheet = table([("age", "integer")], [["[0..17]"], [">= 18"]], "成员")
    assert analysed(tmp_path, sheet) == []


def test_a_value_computed_from_the_age_is_never_missing(tmp_path: Path) -> None:
    sheet = table([("adult", "boolean")], [["是"], ["否"]], "成员")
    assert analysed(tmp_path, sheet) == []


def test_a_birth_date_gap_has_a_date_for_its_witness(tmp_path: Path) -> None:
    """The gap is the dates no rule covers, not also a member with no birth date."""
    sheet = table([("birth_date", "date")], [["< 2000-01-01"]], "成员")
    found = analysed(tmp_path, sheet)
    assert [d.code for d in found] == ["E501"], rendered(found)
    witness = found[0].extra["witness"]
    born = date.fromisoformat(witness["birth_date"])  # type: ignore[index]
    assert date(2000, 1, 1) <= born <= AS_OF, rendered(found)
    assert found[0].extra["household"] == {"members": [witness]}
    assert "空值" not in found[0].message


def test_rules_overlapping_only_on_a_missing_age_do_not_overlap(
    tmp_path: Path,
) -> None:
    """It was E502 with the witness age = 空值."""
    rules = [["[0..17]"], [">= 18"], ["null"], ["null"]]
    sheet = table([("age", "integer")], rules, "成员", policy="UNIQUE")
    assert analysed(tmp_path, sheet) == []


def test_a_catch_all_after_every_age_is_never_chosen(tmp_path: Path) -> None:
    """The last rule was kept alive only by a missing age; a null rule is no W502."""
    rules = [["[0..17]"], [">= 18"], ["-"]]
    found = analysed(tmp_path, table([("age", "integer")], rules, "成员"))
    assert [(d.code, d.rule) for d in found] == [("W501", "r2")], rendered(found)
    assert found[0].extra["hidden_by"] == ["r0", "r1"]


def test_an_events_date_and_type_are_never_missing(tmp_path: Path) -> None:
    """It was E501 for an event without a type, and one without a date."""
    sheet = table(
        [("event.type", "text"), ("event.date", "date")],
        [["x", "< 2025-01-01"], ["x", ">= 2025-01-01"], ["!= x", "-"]],
        "事件",
    )
    assert analysed(tmp_path, sheet) == []


def test_an_age_read_for_an_event_may_still_be_missing(tmp_path: Path) -> None:
    """The event's person may not be found: that household is accepted."""
    rules = [["< 18"], [">= 18"]]
    sheet = table([("event_person_age", "integer")], rules, "事件")
    found = analysed(tmp_path, sheet)
    assert [(d.code, d.extra["witness"]) for d in found] == [
        ("E501", {"event_person_age": None})
    ], rendered(found)


def test_a_field_the_input_does_not_require_may_still_be_missing(
    tmp_path: Path,
) -> None:
    sheet = table([("grade", "integer")], [["[1..2]"], ["[3..4]"]], "成员")
    found = analysed(tmp_path, sheet)
    assert [(d.code, d.extra["witness"]) for d in found] == [
        ("E501", {"grade": None})
    ], rendered(found)
