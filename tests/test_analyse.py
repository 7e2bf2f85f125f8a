"""The analysis pass: each diagnostic with its witness, invariants, and properties.

Every table here goes through the real load path (a province folder of CSV files and
one county folder), so the tests see what ``jiuzhu check`` sees. Witnesses are asserted
as values and re-checked with the reference interpreter.
"""

from __future__ import annotations

import itertools
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compiler.analyse import analyse
from compiler.bind import Plan
from compiler.calendar import WorkCalendar
from compiler.diagnostics import Diagnostic, Report, render_text
from compiler.engine import open_project
from compiler.errors import EvaluationError
from compiler.interpret import Interpreter, priority
from compiler.model import Kind, Table
from tests.helpers import STANDARDS_HEADER
from tests.workbooks import write_csv_folder

AS_OF = date(2025, 6, 1)
COUNTY = "330106"
OTHER_COUNTY = "330108"
Rows = list[list[object]]

FIELDS: Rows = [
    ["标识", "名称", "层级", "类型", "默认", "说明"],
    ["household_id", "户编号", "家庭", "text", None, None],
    ["county_code", "县代码", "家庭", "text", None, None],
    ["income", "人均收入", "家庭", "money", None, "可为空"],
    ["assets.money", "货币财产", "家庭", "money", "0", None],
    ["assets_ok", "财产符合", "家庭", "boolean", None, None],
    ["cars", "车辆数", "家庭", "integer", "0", None],
    ["kind", "类别", "家庭", "enum(a,b,c)", None, None],
    ["status", "状态", "家庭", "text", None, None],
    ["since", "日期", "家庭", "date", None, None],
    ["share", "比例", "家庭", "percent", None, None],
    ["person_id", "成员编号", "成员", "text", None, None],
    ["income.wage", "工资", "成员", "money", "0", None],
]
STANDARDS: Rows = [
    STANDARDS_HEADER,
    [
        "dibao_standard",
        "低保标准",
        "1149",
        "元/人/月",
        "2024-01-01",
        None,
        "测试",
        None,
        "money",
        "是",
        None,
        None,
        "是",
    ],
    [
        "marginal_multiplier",
        "边缘倍数",
        "1.5",
        "倍",
        "2024-01-01",
        None,
        "测试",
        None,
        "number",
        "是",
        None,
        None,
        "是",
    ],
    [
        "minimum_wage",
        "最低工资",
        "2010",
        "元/月",
        "2024-01-01",
        None,
        "测试",
        None,
        "money",
        "是",
        None,
        None,
        "是",
    ],
]
DERIVED: Rows = [
    ["标识", "名称", "层级", "类型", "表达式", "依据"],
    [
        "marginal_line",
        "边缘标准",
        "家庭",
        "money",
        "round(边缘倍数 * 低保标准, 2)",
        "二",
    ],
    [
        "income_pc",
        "人均月收入",
        "家庭",
        "money",
        "round(sum(income.wage) / count(true) / 12, 2)",
        "二",
    ],
]
GROUP = "enum(dibao,dibao_marginal,none)"


def table(
    ident: str,
    policy: str,
    inputs: list[tuple[str, str]],
    outputs: list[tuple[str, str, str | None]],
    rules: list[tuple[str, list[str], list[str]]],
    *options: str,
) -> Rows:
    """A decision table sheet: inputs (name, type), outputs (id, type, default)."""
    width = len(inputs) + len(outputs)
    rows: Rows = [[ident, ident, policy, *options]]
    rows.append(["规则", *["输入"] * len(inputs), *["输出"] * len(outputs), "注释"])
    rows.append(["名称", *[n for n, _ in inputs], *[o for o, _, _ in outputs], "依据"])
    rows.append(["类型", *[t for _, t in inputs], *[t for _, t, _ in outputs], None])
    if any(d is not None for _, _, d in outputs):
        rows.append(["默认", *[None] * len(inputs), *[d for _, _, d in outputs], None])
    for rule_id, cells, outs in rules:
        assert len(cells) + len(outs) == width
        rows.append([rule_id, *cells, *outs, "测试"])
    return rows


def write(
    root: Path,
    tables: dict[str, Rows],
    county: Rows | None = None,
    invariants: Rows | None = None,
    other_county: Rows | None = None,
) -> Path:
    province: dict[str, Rows] = {
        "字段": FIELDS,
        "标准参数": STANDARDS,
        "派生值": DERIVED,
        "日历": [["日期", "类型", "说明"], ["2025-01-01", "休息日", "元旦"]],
        **tables,
    }
    if invariants is not None:
        province["不变式"] = invariants
    write_csv_folder(root / "province", province)
    header = ["标识", "值", "生效日期", "失效日期", "来源"]
    write_csv_folder(
        root / "counties" / f"{COUNTY}-西湖区", {"标准参数": [header, *(county or [])]}
    )
    if other_county is not None:
        write_csv_folder(
            root / "counties" / f"{OTHER_COUNTY}-滨江区",
            {"标准参数": [header, *other_county]},
        )
    return root


def check(
    root: Path, counties: list[str] | None = None
) -> tuple[list[Diagnostic], Plan]:
    report = Report()
    project = open_project(root, counties or [COUNTY], AS_OF, analyse, report=report)
    from_analysis = [
        d for d in report.items if "counties" in d.extra
    ]  # the pass names counties
    load_errors = [d for d in report.errors if d not in from_analysis]
    assert not load_errors, render_text(load_errors)
    return from_analysis, project.plans[(counties or [COUNTY])[0]]


def codes(found: list[Diagnostic]) -> list[str]:
    return [d.code for d in found]


def one(found: list[Diagnostic], code: str) -> Diagnostic:
    matching = [d for d in found if d.code == code]
    assert len(matching) == 1, [d.render() for d in found]
    return matching[0]


def matches(plan: Plan, table_id: str, values: dict[str, object]) -> list[str]:
    """The rules the reference interpreter says match these column values."""
    interpreter = Interpreter(plan, AS_OF, WorkCalendar(plan.rulebook.calendar))
    env = {**interpreter.standards, "as_of": AS_OF}
    for kind, ident in plan.order:
        if kind == "derived" and ident == "marginal_line":
            env[ident] = interpreter.value(plan.derived[ident].expr, env, _result(env))
    bound = plan.tables[table_id]
    row = [values[c.text] for c in bound.inputs]
    return [
        rule.id
        for rule in bound.rules
        if all(
            interpreter.test(t, v, env, _result(env)) is True
            for t, v in zip(rule.tests, row, strict=True)
        )
    ]


def _result(env: dict[str, object]):  # type: ignore[no-untyped-def]
    from compiler.interpret import Evaluation

    return Evaluation(env, [], [], [])


def typed(table: Table, witness: dict[str, object]) -> dict[str, object]:
    """A witness record (JSON values) back as the interpreter's values."""
    values: dict[str, object] = {}
    for column in table.inputs:
        value = witness[column.text]
        if value is None or column.dtype.kind in (Kind.BOOLEAN, Kind.ENUM, Kind.TEXT):
            values[column.text] = value
        elif column.dtype.kind is Kind.DATE:
            values[column.text] = date.fromisoformat(value)  # type: ignore[arg-type]
        else:
            values[column.text] = Decimal(str(value))
    return values


# ---------------------------------------------------------------- gaps

DIBAO_RULES = [
    ("dibao", ["< 低保标准"], ["dibao"]),
    ("marginal", ["(低保标准..边缘标准)"], ["dibao_marginal"]),
    ("above", [">= 边缘标准"], ["none"]),
    ("missing", ["null"], ["none"]),
]


def dibao_table(*options: str, default: str | None = None, rules=DIBAO_RULES) -> Rows:  # type: ignore[no-untyped-def]
    return table(
        "group_table",
        "FIRST",
        [("income", "money")],
        [("group", GROUP, default)],
        rules,
        *options,
    )


def test_equality_gap_at_the_dibao_standard_has_the_standard_as_witness(
    tmp_path: Path,
) -> None:
    found, plan = check(write(tmp_path, {"group_table": dibao_table()}))
    gap = one(found, "E501")
    assert gap.extra["witness"] == {"income": 1149}
    assert gap.extra["household"] == {"income": 1149}
    assert "分界值" in gap.message and "income 恰好等于 1149" in gap.message
    assert matches(plan, "group_table", {"income": Decimal(1149)}) == []
    assert gap.location.sheet == "group_table" and gap.location.cell == "A1"


def test_equality_gap_uses_the_county_standard(tmp_path: Path) -> None:
    county = [["dibao_standard", "1301", "2025-01-01", None, "杭州"]]
    found, _ = check(write(tmp_path, {"group_table": dibao_table()}, county=county))
    assert one(found, "E501").extra["witness"] == {"income": 1301}


def test_boundary_gap_is_an_error_even_when_the_output_has_a_default(
    tmp_path: Path,
) -> None:
    rules = DIBAO_RULES[:2]
    found, _ = check(
        write(tmp_path, {"group_table": dibao_table(default="none", rules=rules)})
    )
    assert one(found, "E501").extra["witness"] == {"income": 1149}
    fall_through = one(found, "I501")
    assert fall_through.extra["accepted"] == "default"
    # the boundary gap is the E501's; the I501 counts the other two (helper-62)
    assert "2 处规则未覆盖的情形取默认值 group = none" in fall_through.message
    assert "1149" not in fall_through.message


def test_a_boundary_gap_says_its_value_once(tmp_path: Path) -> None:
    """The head said the value and 没有规则命中, then 「（income = 1149）」 and
    「例如 income = 1149」 said them again (helper-73)."""
    found, _ = check(write(tmp_path, {"group_table": dibao_table()}))
    message = one(found, "E501").message
    said = "：income 恰好等于 1149 时没有规则命中，而略低和略高的值都有规则命中（"
    assert said in message, message
    assert message.count("1149") == 1 and "例如" not in message, message


def test_a_boundary_gap_names_its_default_once(tmp_path: Path) -> None:
    sheet = dibao_table(default="none", rules=DIBAO_RULES[:2])
    found, _ = check(write(tmp_path, {"group_table": sheet}))
    message = one(found, "E501").message
    assert (
        "：income 恰好等于 1149 时没有规则命中，而略低和略高的值都有规则命中，"
        "此时取默认值 group = none（330106 西湖区）" in message
    ), message
    assert message.count("1149") == 1 and message.count("group = none") == 1


@pytest.mark.parametrize(
    ("other", "kind", "cells", "said", "named"),
    [
        (
            "assets.money",
            "money",
            ["< 1000", "< 1000", ">= 1000"],
            "、assets.money < 1000 时没有规则命中，而略低和略高的值都有规则命中；"
            + "例如 assets.money = 0（",
            2,
        ),
        ("kind", "enum(a,b,c)", ["a", "a", "b,c"], "、kind 为 a 时没有规则命中，而", 1),
        ("cars", "integer", ["-", "-", None], "（其他输入任意）时没有规则命中，而", 0),
    ],
    ids=["a-range-gets-an-example", "one-value-needs-none", "any-other-input"],
)
def test_a_boundary_gap_names_the_other_inputs_region_once(
    tmp_path: Path,
    other: str,
    kind: str,
    cells: list[str | None],
    said: str,
    named: int,
) -> None:
    """The other inputs' region is said after the value; an example follows only
    for a value the region leaves open (a range), never for one it names."""
    rules = [
        ("low", ["< 低保标准", cells[0]], ["dibao"]),
        ("high", ["> 低保标准", cells[1]], ["none"]),
        ("missing", ["null", "-"], ["none"]),
    ]
    if cells[2] is not None:
        rules.append(("rest", ["-", cells[2]], ["none"]))
    if kind.startswith("enum"):
        rules.append(("no_kind", ["-", "null"], ["none"]))
    inputs = [("income", "money"), (other, kind)]
    sheet = table("t", "FIRST", inputs, [("group", GROUP, None)], rules)  # type: ignore[arg-type]
    found, _ = check(write(tmp_path, {"t": sheet}))
    message = one(found, "E501").message
    assert f"：income 恰好等于 1149{said}" in message, message
    assert message.count("1149") == 1 and message.count(f"{other} ") == named, message


def test_accepted_gap_is_reported_once_as_info_with_its_reason(tmp_path: Path) -> None:
    sheet = dibao_table(
        "接受缺口=收入恰好等于低保标准时按省里意见处理", rules=DIBAO_RULES
    )
    found, _ = check(write(tmp_path, {"group_table": sheet}))
    assert codes(found) == ["I501"]
    info = found[0]
    assert info.extra["accepted"] == "declared" and info.extra["boundary_gaps"] == 1
    assert "收入恰好等于低保标准时按省里意见处理" in info.message
    assert "income = 1149" in info.message


def test_resolved_equality_has_no_gap(tmp_path: Path) -> None:
    rules = [("dibao", ["<= 低保标准"], ["dibao"]), *DIBAO_RULES[1:]]
    found, _ = check(write(tmp_path, {"group_table": dibao_table(rules=rules)}))
    assert found == []


def test_missing_value_is_a_gap_unless_a_rule_says_null_or_dash(tmp_path: Path) -> None:
    rules = [("low", ["< 低保标准"], ["dibao"]), ("high", [">= 低保标准"], ["none"])]
    found, _ = check(write(tmp_path, {"group_table": dibao_table(rules=rules)}))
    gap = one(found, "E501")
    assert gap.extra["witness"] == {"income": None} and "空值" in gap.message


def test_field_with_a_default_is_never_missing(tmp_path: Path) -> None:
    sheet = table(
        "t",
        "FIRST",
        [("assets.money", "money")],
        [("group", GROUP, None)],
        [("low", ["< 1000"], ["dibao"]), ("high", [">= 1000"], ["none"])],
    )
    found, _ = check(write(tmp_path, {"t": sheet}))
    assert found == []


@pytest.mark.parametrize(
    ("column", "kind", "cells", "witness"),
    [
        ("cars", "integer", ["<= 1", ">= 2"], None),
        ("assets.money", "money", ["<= 1", ">= 2"], 1.01),
        ("share", "percent", ["< 35%", "> 35%", "null"], 0.35),
        ("since", "date", ["< 2025-01-01", "> 2025-01-01", "null"], "2025-01-01"),
        ("since", "date", ["<= 2025-01-01", ">= 2025-01-03", "null"], "2025-01-02"),
        ("kind", "enum(a,b,c)", ["a, b", "null"], "c"),
        ("assets_ok", "boolean", ["是", "null"], False),
        ("status", "text", ['"x"', '"y"', "null"], "其他"),
    ],
    ids=[
        "integer-steps",
        "money-fen",
        "percent",
        "date-point",
        "date-open",
        "enum",
        "boolean",
        "text-other",
    ],
)
def test_gap_witness_is_the_smallest_value_of_the_type(
    tmp_path: Path, column: str, kind: str, cells: list[str], witness: object
) -> None:
    rules = [(f"r{i}", [cell], ["none"]) for i, cell in enumerate(cells)]
    sheet = table("t", "UNIQUE", [(column, kind)], [("group", GROUP, None)], rules)
    found, plan = check(write(tmp_path, {"t": sheet}))
    if witness is None:
        assert found == []
        return
    gap = one(found, "E501")
    assert gap.extra["witness"] == {column: witness}
    assert matches(plan, "t", typed(plan.tables["t"], gap.extra["witness"])) == []  # type: ignore[arg-type]


def test_gaps_name_which_inputs_are_derived(tmp_path: Path) -> None:
    sheet = table(
        "t",
        "FIRST",
        [("income_pc", "money"), ("cars", "integer")],
        [("group", GROUP, None)],
        [
            ("r1", ["< 低保标准", "-"], ["dibao"]),
            ("r2", [">= 低保标准", "0"], ["none"]),
        ],
    )
    found, _ = check(write(tmp_path, {"t": sheet}))
    gaps = [d for d in found if d.code == "E501"]
    assert gaps and all(d.extra["derived"] == ["income_pc"] for d in gaps)
    assert "income_pc 为派生值" in gaps[0].message
    assert {"cars"} <= set(gaps[0].extra["household"])  # type: ignore[arg-type]


def test_many_gaps_are_capped_with_a_count(tmp_path: Path) -> None:
    rules = [(f"r{i}", [f"= {i * 10}"], ["none"]) for i in range(8)]
    sheet = table("t", "UNIQUE", [("cars", "integer")], [("group", GROUP, None)], rules)
    found, _ = check(write(tmp_path, {"t": sheet}))
    gaps = [d for d in found if d.code == "E501"]
    assert len(gaps) == 6 and "另有" in gaps[-1].message


def test_list_policies_are_not_gap_analysed(tmp_path: Path) -> None:
    sheet = table(
        "t",
        "COLLECT",
        [("income", "money")],
        [("items", "text", None)],
        [("a", ["< 100"], ['"a"']), ("b", ["< 200"], ['"b"'])],
    )
    found, _ = check(write(tmp_path, {"t": sheet}))
    assert found == []


# ---------------------------------------------------------------- overlaps


def test_unique_overlap_is_reported_with_a_witness_matching_both_rules(
    tmp_path: Path,
) -> None:
    rules = [
        ("low", ["[0..1000]", "-"], ["dibao"]),
        ("mid", ["[500..2000]", "是"], ["none"]),
        ("rest", ["not([0..2000])", "-"], ["none"]),
        ("gap_filler", ["null", "-"], ["none"]),
    ]
    sheet = table(
        "t",
        "UNIQUE",
        [("income", "money"), ("assets_ok", "boolean")],
        [("group", GROUP, None)],
        rules,
    )
    found, plan = check(write(tmp_path, {"t": sheet}))
    overlap = one(found, "E502")
    assert overlap.rule == "low、mid"
    assert overlap.extra["witness"] == {"income": 500, "assets_ok": True}
    assert sorted(matches(plan, "t", {"income": Decimal(500), "assets_ok": True})) == [
        "low",
        "mid",
    ]
    assert overlap.location.cell == "A6"  # the second rule's row (no default row)


def test_any_conflict_needs_different_outputs(tmp_path: Path) -> None:
    same = [
        ("a", ["< 1000"], ["none"]),
        ("b", ["< 2000"], ["none"]),
        ("c", [">= 1000"], ["none"]),
        ("n", ["null"], ["none"]),
    ]
    found, _ = check(
        write(
            tmp_path,
            {
                "t": table(
                    "t", "ANY", [("income", "money")], [("group", GROUP, None)], same
                )
            },
        )
    )
    assert found == []
    differ = [*same[:1], ("b", ["< 2000"], ["dibao"]), *same[2:]]
    found, _ = check(
        write(
            tmp_path,
            {
                "t": table(
                    "t", "ANY", [("income", "money")], [("group", GROUP, None)], differ
                )
            },
        )
    )
    conflicts = [d for d in found if d.code == "E503"]
    assert [d.rule for d in conflicts] == ["a、b", "b、c"]
    assert conflicts[0].extra["witness"] == {"income": 0}
    assert "none 与 dibao" in conflicts[0].message


# ---------------------------------------------------------------- shadowed and empty rules


def test_first_rule_hidden_by_earlier_rules_names_them(tmp_path: Path) -> None:
    rules = [
        ("small", ["< 500", "-"], ["dibao"]),
        ("yes", ["-", "是"], ["none"]),
        ("hidden", ["< 300", "是"], ["dibao_marginal"]),
        ("rest", ["-", "-"], ["none"]),
    ]
    sheet = table(
        "t",
        "FIRST",
        [("income", "money"), ("assets_ok", "boolean")],
        [("group", GROUP, None)],
        rules,
    )
    found, _ = check(write(tmp_path, {"t": sheet}))
    hidden = one(found, "W501")
    assert hidden.rule == "hidden" and hidden.extra["hidden_by"] == ["small"]
    assert hidden.location.cell == "A7"


def test_priority_rule_hidden_only_by_higher_priority_outputs(tmp_path: Path) -> None:
    rules = [
        ("weak", ["< 500"], ["none"]),
        ("strong", ["< 1000"], ["dibao"]),
        ("lower", ["< 800"], ["dibao_marginal"]),
        ("rest", ["-"], ["none"]),
    ]
    sheet = table(
        "t", "PRIORITY", [("income", "money")], [("group", GROUP, None)], rules
    )
    found, _ = check(write(tmp_path, {"t": sheet}))
    assert sorted(
        (d.rule, tuple(d.extra["hidden_by"])) for d in found if d.code == "W501"
    ) == [  # type: ignore[arg-type]
        ("lower", ("strong",)),
        ("weak", ("strong",)),
    ]


def test_range_between_equal_standards_is_empty(tmp_path: Path) -> None:
    county = [["marginal_multiplier", "1", "2025-01-01", None, "本县"]]
    found, _ = check(write(tmp_path, {"group_table": dibao_table()}, county=county))
    empty = one(found, "W502")
    assert empty.rule == "marginal" and empty.location.cell == "B6"
    assert "低保标准 = 1149，边缘标准 = 1149" in empty.message
    assert "W501" not in codes(found)  # an empty rule is not also reported as shadowed


# ---------------------------------------------------------------- not analysable


def test_condition_on_household_values_is_reported_once_per_column(
    tmp_path: Path,
) -> None:
    rules = [
        ("a", ["> assets.money", "是"], ["dibao"]),
        ("b", ["< assets.money * 2", "是"], ["none"]),
        ("c", ["-", "否"], ["none"]),
    ]
    sheet = table(
        "t",
        "FIRST",
        [("income", "money"), ("assets_ok", "boolean")],
        [("group", GROUP, None)],
        rules,
    )
    found, _ = check(write(tmp_path, {"t": sheet}))
    unanalysable = one(found, "W503")
    assert (
        unanalysable.extra["column"] == "income"
        and unanalysable.found == "> assets.money"
    )
    gaps = [d for d in found if d.code == "E501"]
    assert [g.extra["witness"] for g in gaps] == [{"income": 0, "assets_ok": None}]


# ---------------------------------------------------------------- counties


def test_a_finding_shared_by_counties_is_listed_once_naming_them(
    tmp_path: Path,
) -> None:
    root = write(tmp_path, {"group_table": dibao_table()}, other_county=[])
    found, _ = check(root, [COUNTY, OTHER_COUNTY])
    gap = one(found, "E501")
    assert gap.extra["counties"] == ["330106 西湖区", "330108 滨江区"]
    assert gap.message.endswith("（330106 西湖区、330108 滨江区）")


def test_counties_with_different_standards_get_their_own_witness(
    tmp_path: Path,
) -> None:
    other = [["dibao_standard", "1200", "2025-01-01", None, "本县"]]
    found, _ = check(
        write(tmp_path, {"group_table": dibao_table()}, other_county=other),
        [COUNTY, OTHER_COUNTY],
    )
    assert sorted(d.extra["witness"]["income"] for d in found if d.code == "E501") == [
        1149,
        1200,
    ]  # type: ignore[index]


# ---------------------------------------------------------------- invariants

INVARIANT_HEADER = ["标识", "说明", "种类", "对象", "变量", "条件", "要求", "依据"]
ELIGIBILITY = table(
    "eligibility",
    "PRIORITY",
    [("income", "money"), ("assets_ok", "boolean")],
    [("group", GROUP, "none")],
    [
        ("dibao", ["< 低保标准", "是"], ["dibao"]),
        ("marginal", ["[低保标准..边缘标准)", "是"], ["dibao_marginal"]),
    ],
    "接受缺口=其他家庭不属于任何类别",
)
MONOTONE = [
    "income_monotone",
    "收入增加不会更受保障",
    "单调",
    "group",
    "income",
    None,
    None,
    "二",
]
REQUIRES = [
    "dibao_assets",
    "低保须财产符合",
    "要求",
    None,
    None,
    "group = dibao",
    "assets_ok",
    "二",
]


def test_invariants_that_hold_report_nothing(tmp_path: Path) -> None:
    bound = [
        "bound",
        "边缘标准不超过上限",
        "要求",
        None,
        None,
        None,
        "边缘标准 <= max(1.5 * 低保标准, 最低工资)",
        "二",
    ]
    found, _ = check(
        write(
            tmp_path,
            {"eligibility": ELIGIBILITY},
            invariants=[INVARIANT_HEADER, MONOTONE, REQUIRES, bound],
        )
    )
    assert [d for d in found if d.code != "I501"] == []


def test_monotone_invariant_broken_gives_two_checked_households(tmp_path: Path) -> None:
    broken = table(
        "eligibility",
        "PRIORITY",
        [("income", "money"), ("assets_ok", "boolean")],
        [("group", GROUP, "none")],
        [
            ("dibao", ["< 低保标准", "是"], ["dibao"]),
            ("marginal", ["[低保标准..边缘标准)", "-"], ["dibao_marginal"]),
        ],
        "接受缺口=其他家庭不属于任何类别",
    )
    found, plan = check(
        write(
            tmp_path, {"eligibility": broken}, invariants=[INVARIANT_HEADER, MONOTONE]
        )
    )
    failure = one(found, "E504")
    assert failure.location.sheet == "不变式" and failure.location.cell == "D2"  # 对象
    assert failure.extra["witness"] == {"assets_ok": False, "income": 0}
    assert failure.extra["higher"] == {"income": 1149}
    assert "由 none 变为更受保障的 dibao_marginal" in failure.message
    assert (
        matches(plan, "eligibility", {"income": Decimal(0), "assets_ok": False}) == []
    )
    assert matches(
        plan, "eligibility", {"income": Decimal(1149), "assets_ok": False}
    ) == ["marginal"]


def test_requires_invariant_broken_gives_a_counterexample(tmp_path: Path) -> None:
    broken = table(
        "eligibility",
        "FIRST",
        [("income", "money"), ("assets_ok", "boolean")],
        [("group", GROUP, "none")],
        [("dibao", ["< 低保标准", "-"], ["dibao"])],
        "接受缺口=其他家庭不属于任何类别",
    )
    found, _ = check(
        write(
            tmp_path, {"eligibility": broken}, invariants=[INVARIANT_HEADER, REQUIRES]
        )
    )
    failure = one(found, "E504")
    assert failure.location.cell == "G2"  # 要求
    assert failure.extra["witness"] == {"assets_ok": False, "income": 0}
    assert failure.extra["household"] == {"assets_ok": False, "income": 0}
    assert "group = dibao、assets_ok = 否" in failure.message


def test_bound_over_standards_is_checked_per_county(tmp_path: Path) -> None:
    bound = [
        "bound",
        "边缘标准不超过上限",
        "要求",
        None,
        None,
        None,
        "边缘标准 <= max(1.5 * 低保标准, 最低工资)",
        "二",
    ]
    county = [["marginal_multiplier", "2", "2025-01-01", None, "本县"]]
    root = write(
        tmp_path,
        {"eligibility": ELIGIBILITY},
        county=county,
        invariants=[INVARIANT_HEADER, bound],
    )
    found, _ = check(root)
    failure = one(found, "E504")
    assert (
        "marginal_line = 2298、dibao_standard = 1149、minimum_wage = 2010"
        in failure.message
    )
    assert "与家庭无关" in failure.message


@pytest.mark.parametrize(
    ("row", "code", "cell"),
    [
        (["x", None, "不知道", "group", "income", None, None, None], "E306", "C2"),
        (["x", None, "单调", "group", "no_such_item", None, None, None], "E302", "E2"),
        (["x", None, "要求", None, None, "no_such_item = 1", "income < 1", None], "E302", "F2"),
        (["x", None, "要求", None, None, "group = dibao", "(", None], "E301", "G2"),
        (["x", None, "要求", None, None, "group = dibao", None, None], "E108", "G2"),
        (["x", None, "单调", "income", "income", None, None, None], "E306", "D2"),
        (["x", None, "单调", "group", "assets_ok", None, None, None], "E306", "E2"),
        (["x", None, "单调", "group", "income", "assets_ok", None, None], "E306", "F2"),
        # helper-42: a 要求 that is no condition was "proved" false; 对象 was ignored
        (["x", None, "要求", None, None, None, "income", None], "E303", "G2"),
        (["x", None, "要求", None, None, "income + 1", "assets_ok", None], "E303", "F2"),
        (["x", None, "要求", "group", None, None, "assets_ok", None], "E306", "D2"),
    ],
    ids=[
        "unknown-kind",
        "unknown-name",
        "unknown-name-in-condition",
        "syntax",
        "no-requirement",
        "subject-not-enum",
        "variable-not-numeric",
        "monotone-with-condition",
        "requirement-not-a-condition",
        "condition-not-a-condition",
        "requires-with-subject",
    ],
)
def test_invariant_sheet_problems_point_at_the_cell(
    tmp_path: Path, row: list[object], code: str, cell: str
) -> None:
    """They all pointed at column A, whatever column was wrong."""
    found, _ = check(
        write(
            tmp_path, {"eligibility": ELIGIBILITY}, invariants=[INVARIANT_HEADER, row]
        )
    )
    assert code in codes(found)
    assert (one(found, code).location.sheet, one(found, code).location.cell) == ("不变式", cell)


def test_an_invariant_sheet_without_the_requirement_column_is_e209_once(tmp_path: Path) -> None:
    """Every 要求 row was E108 「缺少要求」 at column A (helper-42)."""
    header = [h for h in INVARIANT_HEADER if h != "要求"]
    rows = [[c for h, c in zip(INVARIANT_HEADER, row, strict=True) if h != "要求"] for row in (REQUIRES, REQUIRES)]
    rows[1][0] = "second"
    found, _ = check(write(tmp_path, {"eligibility": ELIGIBILITY}, invariants=[header, *rows]))
    [problem] = [f for f in found if f.code in ("E209", "E108")]
    assert problem.code == "E209" and "缺少「要求」列" in problem.message


def test_an_invariant_defined_twice_is_e207_at_the_second(tmp_path: Path) -> None:
    """A pasted row was checked twice and reported nothing (helper-38)."""
    found, _ = check(
        write(tmp_path, {"eligibility": ELIGIBILITY},
              invariants=[INVARIANT_HEADER, MONOTONE, MONOTONE])
    )
    twice = one(found, "E207")
    assert (twice.location.sheet, twice.location.cell) == ("不变式", "A3")  # 标识
    assert f"不变式「{MONOTONE[0]}」重复定义" in twice.message


# ---------------------------------------------------------------- properties over random tables

NUMBERS = ["0", "500", "低保标准", "边缘标准", "1500.5", "2000"]


def _number_cell() -> st.SearchStrategy[str]:
    point = st.sampled_from(NUMBERS)
    compare = st.builds(
        lambda op, x: f"{op} {x}",
        st.sampled_from(["<", "<=", ">", ">=", "=", "!="]),
        point,
    )
    interval = st.builds(
        lambda a, b, left, right: f"{left}{a}..{b}{right}",
        point,
        point,
        st.sampled_from("[("),
        st.sampled_from("])"),
    )
    single = st.one_of(compare, interval)
    return st.one_of(
        st.just("-"),
        st.just("null"),
        single,
        st.builds(lambda a, b: f"{a}, {b}", single, single),
        st.builds(lambda a: f"not({a})", single),
    )


CELLS = {
    "income": _number_cell(),
    "cars": st.sampled_from(["-", "0", "1", "<= 1", "> 1", "[1..3)", "not(0)", ">= 2"]),
    "assets_ok": st.sampled_from(["-", "是", "否", "null", "not(是)"]),
    "kind": st.sampled_from(["-", "a", "b", "a, b", "not(a)", "null", "c"]),
}
TYPES = {
    "income": "money",
    "cars": "integer",
    "assets_ok": "boolean",
    "kind": "enum(a,b,c)",
}
SAMPLES = {
    "income": [
        None,
        *sorted(
            Decimal(v)
            for v in (
                "-1",
                "0",
                "0.01",
                "499.99",
                "500",
                "500.01",
                "1148.99",
                "1149",
                "1149.01",
                "1723.49",
                "1723.5",
                "1723.51",
                "1500.5",
                "1999.99",
                "2000",
                "2000.01",
                "99999",
            )
        ),
    ],  # in order
    "cars": [Decimal(v) for v in range(-1, 5)],
    "assets_ok": [None, True, False],
    "kind": [None, "a", "b", "c"],
}


@st.composite
def random_tables(
    draw: st.DrawFn,
) -> tuple[str, list[str], list[tuple[str, list[str], list[str]]]]:
    columns = draw(
        st.lists(st.sampled_from(list(CELLS)), min_size=1, max_size=3, unique=True)
    )
    policy = draw(st.sampled_from(["FIRST", "UNIQUE", "ANY", "PRIORITY"]))
    count = draw(st.integers(1, 5))
    rules = [
        (
            f"r{i}",
            [draw(CELLS[c]) for c in columns],
            [draw(st.sampled_from(["dibao", "dibao_marginal", "none"]))],
        )
        for i in range(count)
    ]
    return policy, columns, rules


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    random_tables(),
    st.lists(
        st.tuples(*(st.sampled_from(SAMPLES[c]) for c in CELLS)),
        min_size=20,
        max_size=20,
    ),
)
def test_random_tables_witnesses_and_shadows_agree_with_the_interpreter(
    drawn, inputs
) -> None:  # type: ignore[no-untyped-def]
    policy, columns, rules = drawn
    sheet = table(
        "t", policy, [(c, TYPES[c]) for c in columns], [("group", GROUP, None)], rules
    )
    with tempfile.TemporaryDirectory() as folder:
        found, plan = check(write(Path(folder), {"t": sheet}))
    bound = plan.tables["t"]
    for gap in (d for d in found if d.code == "E501" and "witness" in d.extra):
        assert matches(plan, "t", typed(bound, gap.extra["witness"])) == [], (
            gap.render()
        )  # type: ignore[arg-type]
    for overlap in (
        d for d in found if d.code in ("E502", "E503") and "witness" in d.extra
    ):
        both = set(overlap.rule.split("、"))  # type: ignore[union-attr]
        assert both <= set(
            matches(plan, "t", typed(bound, overlap.extra["witness"]))
        ), overlap.render()  # type: ignore[arg-type]
    shadowed = {d.rule for d in found if d.code == "W501"}
    no_gap = not any(d.code == "E501" for d in found)
    for sample in inputs:
        values = {c: sample[list(CELLS).index(c)] for c in columns}
        matched = matches(plan, "t", values)
        if no_gap:
            assert matched, (values, [d.render() for d in found])
        if matched and policy in ("FIRST", "PRIORITY"):
            assert _chosen(bound, matched, policy) not in shadowed, (values, shadowed)


def _chosen(table_: Table, matched: list[str], policy: str) -> str:
    if policy == "FIRST":
        return matched[0]
    by_id = {rule.id: rule for rule in table_.rules}
    keys = {m: priority(table_, [o.value for o in by_id[m].outputs]) for m in matched}  # type: ignore[attr-defined]
    return min(matched, key=lambda m: (keys[m], matched.index(m)))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_tables())
def test_random_invariants_agree_with_brute_force_over_boundary_values(drawn) -> None:  # type: ignore[no-untyped-def]
    """Tables are constant between cut points, and SAMPLES holds every cut point and its
    neighbours, so evaluating all of them decides the invariants exactly."""
    policy, columns, rules = drawn
    drawn_columns, columns = columns, ["income", *(c for c in columns if c != "income")]
    rules = [
        (
            rid,
            [dict(zip(drawn_columns, cells, strict=True)).get(c, "-") for c in columns],
            outs,
        )
        for rid, cells, outs in rules
    ]
    sheet = table(
        "t",
        policy,
        [(c, TYPES[c]) for c in columns],
        [("group", GROUP, "none")],
        rules,
        "接受缺口=测试",
    )
    invariants = [
        INVARIANT_HEADER,
        MONOTONE,
        ["needs", None, "要求", None, None, "group = dibao", "income < 低保标准", None],
    ]
    with tempfile.TemporaryDirectory() as folder:
        found, plan = check(write(Path(folder), {"t": sheet}, invariants=invariants))
    reported = {d.extra["invariant"] for d in found if d.code == "E504"}
    interpreter = Interpreter(plan, AS_OF, WorkCalendar(plan.rulebook.calendar))
    order = ("dibao", "dibao_marginal", "none")
    others = [c for c in columns if c != "income"]
    monotone_broken = needs_broken = False
    for rest in itertools.product(*(SAMPLES[c] for c in others)):
        groups = []
        for income in SAMPLES["income"]:
            household = {
                "income": income,
                "cars": Decimal(0),
                **dict(zip(others, rest, strict=True)),
            }
            try:
                group = interpreter.evaluate(household, [], []).household["group"]
            except EvaluationError:
                continue
            needs_broken |= group == "dibao" and not (
                income is not None and income < Decimal(1149)
            )
            if income is not None:
                groups.append(order.index(group))
        monotone_broken |= any(
            later < earlier
            for i, earlier in enumerate(groups)
            for later in groups[i + 1 :]
        )
    assert ("income_monotone" in reported) == monotone_broken, [
        d.render() for d in found
    ]
    assert ("needs" in reported) == needs_broken, [d.render() for d in found]


def test_tables_with_errors_are_not_analysed_into_spurious_findings(tmp_path: Path) -> None:
    """A derived value that refers to itself made every invariant that reads it look
    broken (E504 with 空值 counterexamples) and standards look like household values
    (W503), under the real error (helper-38). The analysis waits for the fix."""
    import shutil

    from compiler.engine import open_project

    root = tmp_path / "tables"
    shutil.copytree(Path(__file__).resolve().parents[1] / "tables", root)
    sheet = root / "province" / "派生值.csv"
    text = sheet.read_text(encoding="utf-8")
    before = "expenses.medical + expenses.education + expenses.disability"
    assert before in text
    sheet.write_text(text.replace(before, "rigid_spending + 1", 1), encoding="utf-8")
    report = Report()
    open_project(root, ["330106"], date(2025, 6, 1), report=report, analyse=analyse)
    codes = {d.code for d in report.items}
    assert "E305" in codes and not codes & {"E504", "W503", "E501"}
