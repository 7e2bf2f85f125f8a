"""What an explanation says where it said too little or the wrong thing (helper-108):

1. a member or event table where no rule fired said only 「没有规则命中」: it now says,
   for each rule, the first condition it missed, with the value and what it was
   compared with, as the group tables do;
2. under UNIQUE and ANY only the rows above the rule that fired were explained, as if
   their order mattered: every other rule is, under a line saying which rules are
   listed for the table's hit policy;
3. a number standard such as 边缘倍数, DECIMAL(18,4), read 1.5000: it reads 1.5;
4. text a version published before E011 holds (a rule's note with U+202E, a title
   with a carriage return) was printed as stored: it is written visibly, <U+202E>;
5. a household leaving its group this month (its exit takes effect next month, R-N20)
   was concluded 「救助类别 = 不属于低收入人口」 above 动态监测对象 低收入人口.
"""

from __future__ import annotations

import json
import os
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from compiler import explain_words
from compiler.bind import Plan, bind
from compiler.canonical import dump_rulebook, load_rulebook
from compiler.diagnostics import Report
from compiler.explain import explain, explain_file
from compiler.explain_words import fmt
from compiler.model import DType, Kind
from tests.helpers import (
    COUNTY,
    STANDARDS_HEADER,
    open_clean,
    standard_row,
    write_tables,
)

ROOT = Path(__file__).resolve().parents[1]
TABLES = ROOT / "tables"
SAMPLES = TABLES / "samples" / "households.jsonl"
AS_OF = date(2025, 6, 1)

FIELDS = [
    ["标识", "名称", "层级", "类型", "默认", "说明"],
    ["household_id", "家庭编号", "家庭", "text", None, None],
    ["county_code", "县代码", "家庭", "text", None, None],
    ["income.monthly", "月收入", "家庭", "money", None, None],
    ["person_id", "成员编号", "成员", "text", None, None],
    ["years", "年龄", "成员", "integer", None, None],
    ["event.type", "事件类型", "事件", "text", None, None],
    ["event.date", "事件日期", "事件", "date", None, None],
    ["event.person_id", "事件成员", "事件", "text", None, None],
    ["event.amount", "事件金额", "事件", "money", None, None],
]
STANDARDS = [
    STANDARDS_HEADER,
    standard_row("dibao_standard", "低保标准", "1000", "money"),
    standard_row("marginal_multiplier", "边缘倍数", "1.5", "number"),
]
DERIVED = [
    ["标识", "名称", "层级", "类型", "表达式", "依据"],
    ["marginal_line", "边缘标准", "家庭", "money", "marginal_multiplier * dibao_standard", "二"],
]
CAPACITY = [
    ["capacity", "无劳动能力", "FIRST", "层级=成员"],
    ["规则", "输入", "输出", "注释"],
    ["名称", "years", "unable", "依据"],
    ["类型", "integer", "boolean", None],
    ["默认", None, "否", None],
    ["elderly", ">= 60", "是", "R-N16：60周岁以上"],
    ["minor", "< 16", "是", "R-N16：未满16周岁"],
]
ALERTING = [
    ["alerting", "预警", "FIRST", "层级=事件"],
    ["规则", "输入", "输入", "输出", "注释"],
    ["名称", "event.type", "event.amount", "alert_kind", "依据"],
    ["类型", "text", "money", "text", None],
    ["big", '"high_medical_expense"', ">= 20000", '"high"', "四(三)：高额医疗费用"],
]


def _grouping(policy: str, extra: list[list[object]] | None = None) -> list[list[object]]:
    """Three bands of 月收入; the household's 1,300 falls in the middle one (乙)."""
    return [
        ["grouping", "分类", policy, "层级=家庭"],
        ["规则", "输入", "输出", "注释"],
        ["名称", "income.monthly", "group", "依据"],
        ["类型", "money", "enum(tekun,dibao,dibao_marginal,none)", None],
        ["默认", None, "none", None],
        ["low", "< 低保标准", "tekun", "二：甲档"],
        ["middle", "[低保标准..边缘标准]", "dibao", "二：乙档"],
        ["high", "> 边缘标准", "dibao_marginal", "二：丙档"],
        *(extra or []),
    ]


def _plan(root: Path, policy: str = "FIRST", extra: list[list[object]] | None = None) -> Plan:
    write_tables(root / "tables", {
        "字段": FIELDS, "标准参数": STANDARDS, "派生值": DERIVED, "capacity": CAPACITY,
        "alerting": ALERTING, "grouping": _grouping(policy, extra),
    })
    here = os.getcwd()
    os.chdir(root)  # cells named relative to the tables folder
    try:
        return open_clean(Path("tables"), AS_OF).plan(COUNTY)
    finally:
        os.chdir(here)


def _household(monthly: str = "1300", person: str = "P1") -> dict:
    return {
        "household_id": "H1", "county_code": COUNTY, "income": {"monthly": monthly},
        "members": [{"person_id": person, "years": 45}],
        "events": [{"type": "unemployment_registration", "date": "2025-05-06",
                    "person_id": person, "amount": "30000"}],
    }


def _lines(plan: Plan, household: dict | None = None) -> list[str]:
    return explain(plan, household or _household(), AS_OF).splitlines()


def _under(lines: list[str], head: str) -> list[str]:
    """The indented lines of the table whose head line starts with ``head``."""
    start = next(i for i, line in enumerate(lines) if line.startswith(head))
    block = []
    for line in lines[start + 1:]:
        if not line.startswith("    "):
            break
        block.append(line)
    return block


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    return _plan(tmp_path_factory.mktemp("first"))


# ---------------------------------------------------------------- 1. member and event tables


def test_a_member_table_where_no_rule_fired_says_why_each_rule_missed(first: Plan) -> None:
    block = _under(_lines(first), "· 决策表「无劳动能力」成员 P1：没有规则命中，取默认值 否")
    assert block == [
        "    比较的值：年龄 = 45",
        "    规则 elderly「60周岁以上」 未命中：年龄 45，低于 60（相差 15）",
        "    规则 minor「未满16周岁」 未命中：年龄 45，高于 16（相差 29）",
    ]


def test_an_event_table_where_no_rule_fired_names_the_first_condition_missed(first: Plan) -> None:
    """The rule missed on 事件类型 and would have on nothing else: the amount, which
    held, is not said to have missed."""
    block = _under(_lines(first), "· 决策表「预警」成员 P1：没有规则命中")
    assert block[-1] == (
        "    规则 big「高额医疗费用」 未命中：事件类型 为 失业人员登记，不满足「= 高额医疗费用支出」"
    )
    assert not [line for line in block if "事件金额 30,000.00" in line and "未命中" in line]


# ---------------------------------------------------------------- 2. hit policies

LOW_MISSED = (
    "    未得到 特困供养（规则 low「甲档」）：月收入 1,300.00 元，高于低保标准 1,000.00 元"
    "（相差 300.00 元）"
)
HIGH_MISSED = (
    "    未得到 低保边缘（规则 high「丙档」）：月收入 1,300.00 元，低于边缘标准 1,500.00 元"
    "（相差 200.00 元）"
)


@pytest.mark.parametrize(
    ("policy", "which", "missed"),
    [
        pytest.param("FIRST", "排在其前的规则未命中（FIRST 表按行序取第一条命中的规则）：",
                     [LOW_MISSED], id="first-rows-above"),
        pytest.param("PRIORITY", "优先级更高的规则未命中（PRIORITY 表按输出值声明的先后取命中规则中优先的结果）：",
                     [LOW_MISSED], id="priority-higher-outputs"),
        pytest.param("UNIQUE", "其他规则均未命中（UNIQUE 表至多一条规则命中，与行序无关）：",
                     [LOW_MISSED, HIGH_MISSED], id="unique-every-other-rule"),
    ],
)
def test_the_rules_explained_and_the_words_follow_the_hit_policy(
    tmp_path: Path, policy: str, which: str, missed: list[str]
) -> None:
    """FIRST: the row above; PRIORITY: the rule of a higher output (丙档's
    dibao_marginal comes after dibao); UNIQUE: the rule below as well (only the row
    above was explained)."""
    block = _under(_lines(_plan(tmp_path, policy)), "· 决策表「分类」命中规则 middle")
    assert block[block.index("    " + which) + 1:] == missed


def test_under_any_every_other_rule_is_explained_and_one_that_also_fired_is_said(
    tmp_path: Path,
) -> None:
    plan = _plan(tmp_path, "ANY", [["upper_middle", "[1200..边缘标准]", "dibao", "二：乙档上段"]])
    block = _under(_lines(plan), "· 决策表「分类」命中规则 middle")
    assert block[block.index("    其他规则（ANY 表命中的规则结果必须相同，与行序无关）：") + 1:] == [
        LOW_MISSED,
        HIGH_MISSED,
        "    规则 upper_middle「乙档上段」 也命中，结果相同",
    ]


# ---------------------------------------------------------------- 3. numbers


def test_a_multiplier_standard_is_shown_without_the_zeros_of_its_scale(first: Plan) -> None:
    used = _lines(first)
    used = used[used.index("· 所用标准（决策日有效的取值及其出处）："):]
    assert any(line.startswith("    边缘倍数 = 1.5：") for line in used), used
    assert any("其中 边缘倍数 = 1.5、低保标准 = 1,000.00 元" in line for line in used), used
    assert not [line for line in used if "1.5000" in line]


@pytest.mark.parametrize(
    ("value", "kind", "shown"),
    [
        ("1.5000", Kind.NUMBER, "1.5"),
        ("2.0000", Kind.NUMBER, "2"),
        ("146.5387", Kind.NUMBER, "146.5387"),
        ("0.0000", Kind.NUMBER, "0"),
        ("1E+2", Kind.NUMBER, "100"),
        ("1500.00", Kind.MONEY, "1,500.00 元"),
        ("0.700000", Kind.PERCENT, "70.00%"),
        ("0.123456", Kind.PERCENT, "12.3456%"),  # was rounded to 12.35%
    ],
)
def test_numbers_keep_the_digits_their_type_needs(value: str, kind: Kind, shown: str) -> None:
    assert fmt(Decimal(value), DType(kind)) == shown


def test_a_number_output_of_a_rule_is_said_as_a_number(first: Plan) -> None:
    assert explain_words.show(Decimal("1.5000"), DType(Kind.NUMBER)) == "1.5"
    assert explain_words.show(Decimal("1.5000")) == "1.5"


# ---------------------------------------------------------------- 4. registry text


def test_text_a_published_version_holds_with_marks_and_controls_is_shown_visibly(
    first: Plan,
) -> None:
    """A version published before E011 may hold U+202E in a rule's note and a carriage
    return in a title: the canonical text it stores loads them back as they are."""
    text = dump_rulebook(first.rulebook)
    assert "二：乙档" in text and "title: 分类" in text
    text = text.replace("二：乙档", "二：收入\u202e低于\u202c标准").replace(
        "title: 分类", 'title: "分\\r类\\e"'
    )
    plan = bind(load_rulebook(text), Report())
    said = explain(plan, _household(person="P\u202e1"), AS_OF)
    assert "依据 二：收入<U+202E>低于<U+202C>标准" in said
    assert "· 决策表「分<U+000D>类<U+001B>」命中规则 middle" in said
    assert "成员 P<U+202E>1：" in said
    assert not re.search("[\u202a-\u202e\u2066-\u2069\r\x1b]", said)


def test_visible_keeps_the_explanations_own_line_breaks() -> None:
    assert explain_words.visible("甲\n乙\t丙\u2028") == "甲\n乙\t丙<U+2028>"


# ---------------------------------------------------------------- 5. the conclusion


def _explained(tmp_path: Path, household: dict) -> list[str]:
    path = tmp_path / "households.jsonl"
    path.write_text(json.dumps(household, ensure_ascii=False) + "\n", encoding="utf-8")
    return explain_file(TABLES, path, household["household_id"], AS_OF).splitlines()


def _member(person: str, born: str, **more: object) -> dict:
    return {"person_id": person, "relation": "head", "birth_date": born, "hukou": "urban", **more}


def test_a_household_whose_phase_out_ended_leaves_and_is_still_low_income_this_month(
    tmp_path: Path,
) -> None:
    lines = _explained(tmp_path, {
        "household_id": "L1", "county_code": "330106",
        "members": [_member("P1", "1980-05-05", income={"wage": "150000.00"}, employed=True)],
        "current": {"group": "dibao", "since": "2022-09-01", "phase_out_until": "2025-05-31"},
    })
    conclusion = lines[2]
    assert conclusion.startswith(
        "结论：本次复核退出低保（渐退期满退出），救助类别 = 无（none）；"
        "本月仍属低收入人口（动态监测对象，规则 leaving_now「"
    ), conclusion
    assert "不属于低收入人口" not in conclusion


def test_a_household_leaving_for_assets_over_says_so(tmp_path: Path) -> None:
    lines = explain_file(TABLES, SAMPLES, "S082", AS_OF).splitlines()
    assert lines[2].startswith(
        "结论：本次复核退出低保（财产超标退出），救助类别 = 无（none）；本月仍属低收入人口"
    ), lines[2]


def test_a_household_of_no_group_with_a_tekun_member_is_of_the_low_income_population(
    tmp_path: Path,
) -> None:
    lines = _explained(tmp_path, {
        "household_id": "T1", "county_code": "330106",
        "members": [
            _member("P1", "1950-01-01", has_able_supporter=False),
            {**_member("P2", "1990-01-01", income={"wage": "300000.00"}, employed=True),
             "relation": "child"},
        ],
    })
    assert lines[2] == (
        "结论：救助类别 = 无（none）；特困成员 = P1；"
        "属低收入人口（动态监测对象，规则 tekun_member「家庭中有特困供养人员」）"
    )


def test_an_other_monitored_household_of_no_group_names_its_status(tmp_path: Path) -> None:
    lines = explain_file(TABLES, SAMPLES, "S096", AS_OF).splitlines()
    assert lines[2].startswith(
        "结论：救助类别 = 不属于低收入人口（none）；动态监测对象 = 其他监测对象（规则 reported「"
    ), lines[2]


def test_a_household_of_no_group_not_monitored_reads_as_before(first: Plan) -> None:
    lines = _lines(first, {**_household(), "income": {"monthly": None}})
    assert lines[1] == "结论：救助类别 = 不属于低收入人口（none）"


def test_the_words_modules_examples_hold() -> None:
    import doctest

    assert doctest.testmod(explain_words).failed == 0
