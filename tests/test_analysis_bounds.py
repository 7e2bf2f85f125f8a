"""The analysis stays inside what the household input accepts, and says a gap once.

A field's declared bounds (字段 sheet's 下限, 上限; E614 on input), a birth date no
later than the decision date and a count of members are never outside their range, so
no witness may lie outside it and a gap that exists only outside it is no gap. A
boundary gap is reported once, as E501, not again in the gap around it or in the I501
of the gaps that fall to the defaults.

Tables go through the real load path (a CSV province folder and a county folder; the
last test adds a sheet to a copy of the shipped county workbook with openpyxl).
"""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from compiler.analyse import analyse
from compiler.calendar import WorkCalendar
from compiler.diagnostics import Diagnostic, Report, render_text
from compiler.engine import open_project
from compiler.interpret import Evaluation, Interpreter
from tests.helpers import write_csv_project

AS_OF = date(2025, 6, 1)
COUNTY = "330106"
Rows = list[list[object]]

FIELDS: Rows = [
    ["标识", "名称", "层级", "类型", "默认", "下限", "上限", "说明"],
    ["household_id", "户编号", "家庭", "text", None, None, None, None],
    ["county_code", "县代码", "家庭", "text", None, None, None, None],
    ["assets.money", "货币财产", "家庭", "money", "0", "0", None, None],
    ["assets.nonresidential", "非住宅", "家庭", "boolean", "否", None, None, None],
    ["rooms", "房间数", "家庭", "integer", None, "1", "9", "1 至 9"],
    ["change", "变动", "家庭", "integer", None, None, "4", "不超过 4"],
    ["person_id", "成员编号", "成员", "text", None, None, None, None],
    ["birth_date", "出生日期", "成员", "date", None, None, None, None],
    ["grade", "残疾等级", "成员", "integer", None, "1", "4", "1 至 4"],
]
DERIVED: Rows = [
    ["标识", "名称", "层级", "类型", "表达式", "依据"],
    ["members", "家庭人口数", "家庭", "integer", "count(true)", "R-N1"],
    [
        "money_pc",
        "人均货币财产",
        "家庭",
        "money",
        "floor(assets.money / members, 2)",
        "R-Z3",
    ],
    ["age", "年龄", "成员", "integer", "age(birth_date)", "R-N16"],
]
GROUP = "enum(dibao,none)"


def table(
    ident: str,
    inputs: list[tuple[str, str]],
    rules: list[list[str]],
    *options: str,
    default: str | None = None,
    output: str = "group",
) -> Rows:
    """A FIRST table with one enum output, ``group`` unless named (default
    ``default``)."""
    rows: Rows = [[ident, ident, "FIRST", *options]]
    rows.append(["规则", *["输入"] * len(inputs), "输出", "注释"])
    rows.append(["名称", *[n for n, _ in inputs], output, "依据"])
    rows.append(["类型", *[t for _, t in inputs], GROUP, None])
    if default is not None:
        rows.append(["默认", *[None] * len(inputs), default, None])
    for index, cells in enumerate(rules):
        rows.append([f"r{index}", *cells, "dibao", "测试"])
    return rows


def analysed(
    root: Path, tables: dict[str, Rows], invariants: Rows | None = None
) -> list[Diagnostic]:
    """The analysis findings on ``tables``, after checking that the pass ran: a
    control table always has the gap 非住宅 = 否 (so an empty answer means no gap)."""
    province = {
        "字段": FIELDS,
        "派生值": DERIVED,
        "control": table(
            "control",
            [("assets.nonresidential", "boolean")],
            [["是"]],
            output="control_group",
        ),
        **tables,
    }
    if invariants is not None:
        province["不变式"] = invariants
    write_csv_project(root, province)
    report = Report()
    open_project(root, [COUNTY], AS_OF, analyse, report=report)
    found = [d for d in report.items if "counties" in d.extra]
    problems = [d for d in report.errors if d not in found]
    assert not problems, render_text(problems)
    control = [d for d in found if d.extra.get("table") == "control"]
    assert [(d.code, d.extra.get("witness")) for d in control] == [
        ("E501", {"assets.nonresidential": False})
    ], rendered(control)
    return [d for d in found if d not in control]


def rendered(found: list[Diagnostic]) -> list[str]:
    return [d.render() for d in found]


# ---------------------------------------------------------------- declared bounds


@pytest.mark.parametrize(
    ("column", "cells"),
    [
        ("rooms", ["[1..5]", "> 5", "null"]),  # nothing below 下限 1
        ("change", ["<= 4", "null"]),  # nothing above 上限 4
        ("grade", ["[1..2]", "[3..4]", "null"]),  # a member field
    ],
    ids=["below-lower", "above-upper", "member-field"],
)
def test_a_gap_outside_the_declared_bounds_is_no_gap(
    tmp_path: Path, column: str, cells: list[str]
) -> None:
    options = ("层级=成员",) if column == "grade" else ()
    sheet = table("t", [(column, "integer")], [[c] for c in cells], *options)
    assert analysed(tmp_path, {"t": sheet}) == []


def test_a_gap_witness_starts_at_the_declared_lower_bound(tmp_path: Path) -> None:
    sheet = table("t", [("rooms", "integer")], [["[3..9]"], ["null"]])
    [gap] = analysed(tmp_path, {"t": sheet})
    assert gap.code == "E501"
    assert gap.extra["witness"] == {"rooms": 1}
    assert gap.extra["household"] == {"rooms": 1}
    assert "rooms = 0" not in gap.message


def test_a_rule_only_outside_the_bounds_is_an_empty_condition(tmp_path: Path) -> None:
    sheet = table(
        "t", [("rooms", "integer")], [["0"], ["[1..9]"], ["null"]], default="none"
    )
    [empty] = analysed(tmp_path, {"t": sheet})
    assert empty.code == "W502" and empty.rule == "r0"
    assert "rooms 只取 1 至 9 的值" in empty.message
    assert "永远不会命中" in empty.message


def test_an_invariant_broken_only_outside_the_bounds_holds(tmp_path: Path) -> None:
    """Only rooms = 0 or 10 would fall to none; no accepted household does."""
    sheet = table("t", [("rooms", "integer")], [["[1..9]"], ["null"]], default="none")
    invariants: Rows = [
        ["标识", "说明", "种类", "对象", "变量", "条件", "要求", "依据"],
        ["all_dibao", "都是低保", "要求", None, None, None, "group = dibao", "二"],
    ]
    assert analysed(tmp_path, {"t": sheet}, invariants) == []


# ---------------------------------------------------------------- derived values


def test_a_count_of_members_is_never_negative(tmp_path: Path) -> None:
    sheet = table("t", [("members", "integer")], [["0"], [">= 1"]])
    assert analysed(tmp_path, {"t": sheet}) == []


def test_bounds_follow_a_derived_value_through_division_and_floor(
    tmp_path: Path,
) -> None:
    """money_pc = floor(assets.money / members, 2), with 货币财产 at least 0."""
    sheet = table("t", [("money_pc", "money")], [["[0..1000)"], [">= 1000"], ["null"]])
    assert analysed(tmp_path, {"t": sheet}) == []


def test_an_age_is_never_negative(tmp_path: Path) -> None:
    """A birth after the decision date is refused on input (E615)."""
    sheet = table(
        "t", [("age", "integer")], [["[0..17]"], [">= 18"], ["null"]], "层级=成员"
    )
    assert analysed(tmp_path, {"t": sheet}) == []


def test_a_birth_date_lies_between_1900_and_the_decision_date(tmp_path: Path) -> None:
    """An earlier birth (E614) and a later one (E615) are refused on input."""
    rules = [["[1900-01-01..2025-06-01]"], ["null"]]
    sheet = table("t", [("birth_date", "date")], rules, "层级=成员")
    assert analysed(tmp_path, {"t": sheet}) == []


# ---------------------------------------------------------------- said once


def test_a_boundary_gap_is_not_counted_again_among_the_defaults(tmp_path: Path) -> None:
    sheet = table(
        "t", [("assets.money", "money")], [["< 1000"], ["> 1000"]], default="none"
    )
    [gap] = analysed(tmp_path, {"t": sheet})
    assert gap.code == "E501" and gap.extra["witness"] == {"assets.money": 1000}


def test_the_default_info_counts_only_the_other_gaps(tmp_path: Path) -> None:
    rules = [["< 1000"], ["(1000..2000)"]]
    sheet = table("t", [("assets.money", "money")], rules, default="none")
    found = analysed(tmp_path, {"t": sheet})
    assert sorted(d.code for d in found) == ["E501", "I501"], rendered(found)
    info = next(d for d in found if d.code == "I501")
    assert info.extra["gaps"] == 1 and info.extra["witness"] == {"assets.money": 2000}
    assert "assets.money = 1000" not in info.message


def test_a_boundary_gap_is_not_listed_again_inside_a_wider_gap(tmp_path: Path) -> None:
    """At money = 1000 nothing matches; just below, only the 否 households are
    covered: the boundary gap is (1000, 否), the rest is an ordinary gap."""
    sheet = table(
        "t",
        [("assets.money", "money"), ("assets.nonresidential", "boolean")],
        [["< 1000", "否"], ["> 1000", "-"]],
    )
    found = analysed(tmp_path, {"t": sheet})
    gaps = [d for d in found if d.code == "E501"]
    witnesses = [tuple(d.extra["witness"].values()) for d in gaps]  # type: ignore[union-attr]
    assert len(witnesses) == len(set(witnesses)), rendered(found)
    boundary = [d for d in gaps if "分界值" in d.message]
    assert [d.extra["witness"] for d in boundary] == [
        {"assets.money": 1000, "assets.nonresidential": False}
    ]
    plain = [d.extra["region"] for d in gaps if d not in boundary]
    assert plain and all("为 是" in r for r in plain), rendered(found)  # type: ignore[operator]


# ---------------------------------------------------------------- shipped tables

GRADE_SHEET = [
    ["grade_check", "残疾等级检查", "FIRST", "层级=成员"],
    ["规则", "输入", "输出", "注释"],
    ["名称", "disability_grade", "severe", "依据"],
    ["类型", "integer", "boolean", None],
    ["heavy", "[1..2]", "是", "测试"],
    ["light", "[3..4]", "否", "测试"],
    ["none", "null", "否", "测试"],
]
MEMBERS_SHEET = [
    ["size_check", "人口检查", "FIRST"],
    ["规则", "输入", "输出", "注释"],
    ["名称", "counted_members", "size_kind", "依据"],
    ["类型", "integer", "text", None],
    ["empty", "0", '"empty"', "测试"],
    ["some", ">= 1", '"some"', "测试"],
]


def test_shipped_fields_bound_the_witnesses_of_a_county_workbook(
    tmp_path: Path,
) -> None:
    """disability_grade is 1 to 4 in the province's 字段 sheet; counted_members is a
    count. Two county tables that cover exactly those values have no gap, and the
    province's work_capacity example stays inside the bounds."""
    root = tmp_path / "tables"
    shutil.copytree(Path(__file__).resolve().parents[1] / "tables", root)
    book = root / "counties" / f"{COUNTY}-西湖区.xlsx"
    workbook = openpyxl.load_workbook(book)
    for rows in (GRADE_SHEET, MEMBERS_SHEET):
        sheet = workbook.create_sheet(str(rows[0][0]))
        for row in rows:
            sheet.append(row)
    workbook.save(book)
    report = Report()
    project = open_project(root, [COUNTY], AS_OF, analyse, report=report)
    ours = [
        d for d in report.items if d.extra.get("table") in ("grade_check", "size_check")
    ]
    # the two tables are read by nothing (W206), which is not what this test is about
    assert [d for d in ours if d.code != "W206"] == [], rendered(ours)
    work = next(d for d in report.items if d.extra.get("table") == "work_capacity")
    assert work.code == "I501" and "disability_grade = 0" not in work.message
    example = work.message.split("例如 ")[1].split("（")[0]
    grade = Decimal(example.split("disability_grade = ")[1].split("、")[0])
    assert 1 <= grade <= 4
    # the example really falls through: no rule of work_capacity matches it
    plan = project.plans[COUNTY]
    interpreter = Interpreter(plan, AS_OF, WorkCalendar(plan.rulebook.calendar))
    values = dict(part.split(" = ") for part in example.split("、"))
    env = {**interpreter.standards, "as_of": AS_OF}
    bound = plan.tables["work_capacity"]
    row = [
        Decimal(values[c.text]) if c.dtype.is_numeric else values[c.text]
        for c in bound.inputs
    ]
    scope = Evaluation(env, [], [], [])
    assert not any(
        all(interpreter.test(t, v, env, scope) is True for t, v in zip(r.tests, row))
        for r in bound.rules
    )
