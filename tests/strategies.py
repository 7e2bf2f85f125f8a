"""Hypothesis strategies: random province workbooks (decision tables of every hit policy
over a fixed set of fields, standards and derived values) and households that probe
the tables at their thresholds.

A rulebook is drawn as CSV rows and goes through the real read, load, resolve and bind
passes, so the generator also exercises the loader. Households are drawn after the
plan is bound: ``thresholds`` evaluates every operand of every test, and the household
strategies pick values exactly on those thresholds, one fen (or one day) either side,
zero, and missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import strategies as st

from compiler.bind import AS_OF, Plan
from compiler.calendar import WorkCalendar
from compiler.expr import Compare, Interval, children
from compiler.interpret import Evaluation, Interpreter, cast
from compiler.model import Level
from tests.helpers import STANDARDS_HEADER

Rows = list[list[object]]

POLICIES: dict[str, tuple[str, ...]] = {
    "UNIQUE": ("UNIQUE", "U", "唯一"),
    "ANY": ("ANY", "A", "任一"),
    "PRIORITY": ("PRIORITY", "P", "优先"),
    "FIRST": ("FIRST", "F", "首个"),
    "RULE ORDER": ("RULE ORDER", "R", "规则顺序"),
    "OUTPUT ORDER": ("OUTPUT ORDER", "O", "输出顺序"),
    "COLLECT": ("COLLECT", "C", "收集"),
    "C+": ("COLLECT SUM", "C+", "收集求和"),
    "C<": ("COLLECT MIN", "C<", "收集最小"),
    "C>": ("COLLECT MAX", "C>", "收集最大"),
    "C#": ("COLLECT COUNT", "C#", "收集计数"),
}
SINGLE = ("UNIQUE", "ANY", "PRIORITY", "FIRST")
BY_PRIORITY = ("PRIORITY", "OUTPUT ORDER")
AGGREGATED = ("C+", "C<", "C>", "C#")
AS_OF_DATES = (
    date(2025, 6, 1),
    date(2025, 4, 7),
    date(2025, 12, 31),
    date(2026, 2, 28),
    date(2024, 12, 31),  # before the county's own 低保标准 comes into force
)

# ---------------------------------------------------------------- the fixed sheets

FIELDS: Rows = [
    ["标识", "名称", "层级", "类型", "默认", "说明"],
    ["household_id", "家庭编号", "家庭", "text", None, None],
    ["county_code", "县代码", "家庭", "text", None, None],
    ["assets.money", "货币财产", "家庭", "money", None, None],
    ["household.size", "家庭人数", "家庭", "integer", None, None],
    ["household.disabled", "重残家庭", "家庭", "boolean", None, None],
    [
        "household.category",
        "家庭类别",
        "家庭",
        "enum(tekun,dibao,dibao_marginal,none)",
        None,
        None,
    ],
    ["application.date", "申请日期", "家庭", "date", None, None],
    ["person_id", "成员编号", "成员", "text", None, None],
    ["birth_date", "出生日期", "成员", "date", None, None],
    ["income.wage", "工资收入", "成员", "money", None, None],
    ["member.disabled", "残疾", "成员", "boolean", None, None],
    ["member.hours", "工作时长", "成员", "integer", "0", "缺省为 0"],
    ["event.type", "事件类型", "事件", "text", None, None],
    ["event.date", "事件日期", "事件", "date", None, None],
    ["event.person_id", "事件成员", "事件", "text", None, None],
    ["event.amount", "事件金额", "事件", "money", None, None],
]
CATEGORIES = ("tekun", "dibao", "dibao_marginal", "none")

DERIVED: Rows = [
    ["标识", "名称", "层级", "类型", "表达式", "依据"],
    ["member_count", "成员人数", "家庭", "integer", "count(true)", "R-N2"],
    [
        "income_per_capita",
        "人均月收入",
        "家庭",
        "money",
        "round(sum(income.wage) / count(true) / 12, 2)",
        "R-N2",
    ],
    ["marginal_line", "边缘标准", "家庭", "money", "边缘倍数 * 低保标准", "二"],
    [
        "tekun_members",
        "特困成员",
        "家庭",
        "list",
        "collect(person_id, age(birth_date) >= 60)",
        "",
    ],
    ["disabled_count", "残疾人数", "家庭", "integer", "count(member.disabled)", ""],
    ["any_disabled", "有残疾成员", "家庭", "boolean", "exists(member.disabled)", ""],
    ["all_adults", "全为成年", "家庭", "boolean", "every(age(birth_date) >= 18)", ""],
    [
        "disabled_wages",
        "残疾成员工资",
        "家庭",
        "money",
        "sum(income.wage, member.disabled)",
        "",
    ],
    ["oldest", "最大年龄", "家庭", "integer", "max_of(age(birth_date))", ""],
    ["lowest_wage", "最低工资收入", "家庭", "money", "min_of(income.wage)", ""],
    ["review_date", "复核日期", "家庭", "date", "add_months(application.date, 6)", ""],
    [
        "half_term",
        "半期日期",
        "家庭",
        "date",
        "add_months(application.date, household.size / 2)",
        "",
    ],
    [
        "start_date",
        "起始日期",
        "家庭",
        "date",
        "next_month_start(application.date)",
        "",
    ],
    [
        "months_waited",
        "等待月数",
        "家庭",
        "integer",
        "months_between(application.date, as_of)",
        "",
    ],
    [
        "asset_per_person",
        "人均财产",
        "家庭",
        "money",
        "assets.money / household.size",
        "",
    ],
    [
        "asset_limit",
        "财产上限",
        "家庭",
        "money",
        "min(2 * 12 * 低保标准, 资产比例 * 最低工资 * 12)",
        "",
    ],
    [
        "bonus",
        "补助",
        "家庭",
        "money",
        "if household.disabled then 1.5 * 低保标准 else abs(ceil(低保标准 / 7)) - floor(3.5)",
        "",
    ],
    ["missing_assets", "财产缺失", "家庭", "boolean", "is_null(assets.money)", ""],
    ["assets_or_zero", "财产或零", "家庭", "money", "coalesce(assets.money, 0)", ""],
    ["member_age", "年龄", "成员", "integer", "age(birth_date)", ""],
    ["wage_share", "工资份额", "成员", "number", "income.wage / 3", ""],
    ["due", "期限", "事件", "date", "working_days_after(event.date, 10)", "四(三)"],
    ["follow_up", "跟进日期", "事件", "date", "add_days(event.date, 30)", ""],
]

CALENDAR: Rows = [
    ["日期", "类型", "说明"],
    ["2025-01-01", "休息日", "元旦"],
    ["2025-01-26", "补班", "春节调休"],
    ["2025-01-28", "休息日", "春节"],
    ["2025-01-29", "休息日", "春节"],
    ["2025-01-30", "休息日", "春节"],
    ["2025-10-01", "休息日", "国庆"],
    ["2025-10-02", "休息日", "国庆"],
    ["2025-10-11", "补班", "国庆调休"],
    ["2026-01-01", "休息日", "元旦"],
]

STANDARD_VALUES = {
    "dibao_standard": ("1,301", "1301.5元", "1149", "1250.25"),
    "marginal_multiplier": ("1.5", "2", "1.25"),
    "min_wage": ("2490", "2,200元/月", "1900.5"),
    "asset_share": ("35%", "0.5", "150%"),
    "years_needed": ("2", "3"),
}
STANDARDS = (
    # id, name, unit, type, overridable
    ("dibao_standard", "低保标准", "元/人/月", "money", "是"),
    ("marginal_multiplier", "边缘倍数", "倍", "number", "是"),
    ("min_wage", "最低工资", "元/月", "money", "否"),
    ("asset_share", "资产比例", "", "percent", "否"),
    ("years_needed", "所需年限", "年", "integer", "否"),
)
HEADER = STANDARDS_HEADER

# ---------------------------------------------------------------- what cells may say

INPUTS: dict[str, dict[str, tuple[str, ...]]] = {
    "家庭": {
        "money": (
            "assets.money",
            "income_per_capita",
            "人均月收入",
            "asset_per_person",
            "disabled_wages",
            "lowest_wage",
            "bonus",
            "income_per_capita * 12",
            "assets.money - 低保标准",
        ),
        "number": ("calc",),
        "percent": ("资产比例", "资产比例 * 2"),
        "integer": (
            "household.size",
            "member_count",
            "disabled_count",
            "oldest",
            "months_waited",
        ),
        "boolean": (
            "household.disabled",
            "any_disabled",
            "all_adults",
            "missing_assets",
        ),
        "enum": ("household.category", "家庭类别"),
        "date": ("application.date", "review_date", "start_date", "half_term"),
    },
    "成员": {
        "money": ("income.wage", "工资收入", "income.wage * 12"),
        "number": ("wage_share",),
        "integer": ("member_age", "member.hours"),
        "boolean": ("member.disabled",),
        "enum": ("household.category",),
        "date": ("birth_date",),
    },
    "事件": {  # an event also sees the member its event.person_id names
        "money": ("event.amount", "income.wage"),
        "integer": ("member_age", "age(birth_date)"),
        "boolean": ("member.disabled",),
        "date": ("event.date", "due", "follow_up", "birth_date"),
        "text": ("event.type",),
        "enum": ("household.category",),
    },
}
TYPE_TEXT = {
    "money": ("money", "金额"),
    "number": ("number", "数值"),
    "integer": ("integer", "整数"),
    "boolean": ("boolean", "是否"),
    "date": ("date", "日期"),
    "text": ("text", "文本"),
    "percent": ("percent", "百分比"),
}
CATEGORY_TYPE = "enum(tekun,dibao,dibao_marginal,none)"

NUMBER_OPERANDS = (
    "低保标准",
    "dibao_standard",
    "最低工资",
    "1.5 * 低保标准",
    "12 * 4 * 低保标准",
    "min(2 * 低保标准, 最低工资)",
    "低保标准 / 3",
    "marginal_line",
    "边缘标准",
    "资产比例 * 最低工资",
    "1,301.50",
    "1301元",
    "0",
    "0.2万元",
    "2602",
    "-0.01",
    "round(低保标准 / 7, 2)",
    "max(低保标准, 1300) - 0.5",
)
INTEGER_OPERANDS = (
    "0",
    "1",
    "2",
    "3",
    "60",
    "所需年限",
    "所需年限 + 1",
    "years_needed * 12",
)
DATE_OPERANDS = (
    "2025-04-07",
    "2024-12-31",
    "2025年1月1日",
    "as_of",
    "决策日",
    "add_months(as_of, -6)",
    "add_days(as_of, -30)",
    "next_month_start(as_of)",
    "add_months(as_of, -12 * 所需年限)",
)
PERCENT_OPERANDS = ("35%", "0.35", "50%", "150%", "资产比例", "1", "0.7 * 2")
OPERANDS = {
    "money": NUMBER_OPERANDS,
    "number": NUMBER_OPERANDS,
    "integer": INTEGER_OPERANDS,
    "date": DATE_OPERANDS,
    "percent": PERCENT_OPERANDS,
}
BOOL_WORDS = ("是", "否", "Y", "N", "TRUE", "false", "√", "×", "1", "0")
EVENT_TYPES = ("unemployment", "death", "失业登记")
WIDE = {"<": "＜", "<=": "≤", ">=": "≥", ">": "＞", "!=": "≠"}

OUTPUT_KINDS = (
    "enum",
    "money",
    "integer",
    "boolean",
    "text",
    "date",
    "number",
    "percent",
)
OUTPUT_ENUMS = (("high", "mid", "low"), ("特困", "低保", "边缘"))
OUTPUT_LITERALS = {
    "money": ("1301.50", "1,301.50元", "0", "-12.345", "0.005", "1.2万元", "2602.5"),
    # no fraction: 2.5 in an integer output is refused (E303), no longer rounded
    "integer": ("0", "1", "3", "-1"),
    "number": ("0.12345", "-0.00005", "1,301.5", "2"),
    "percent": ("35%", "0.1234565", "150%", "-5%"),
    "boolean": ("是", "否", "Y", "FALSE"),
    "text": ("低保", "补助 A", "plain text", '"带引号"', "第一条;第二条"),
    "date": ("2025-04-07", "2025年12月31日"),
}
OUTPUT_EXPRESSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "家庭": {
        "number": ("低保标准 / 7", "calc", "assets.money / 3 * 资产比例"),
        "percent": ("资产比例 * 2", "资产比例 / 3"),
        "money": (
            "1.5 * 低保标准",
            "assets.money / 3",
            "income_per_capita + 0.005",
            "round(低保标准 / 7, 1)",
            "min(2 * 低保标准, 最低工资)",
            "coalesce(assets.money, 低保标准)",
            "if any_disabled then 低保标准 else 0",
            "sum(income.wage)",
            "calc",
            "max_of(income.wage) - min_of(income.wage)",
            "sum(income.wage / 12)",
            "sum(income.wage, member.hours > 0) / member_count",
        ),
        "integer": (
            "household.size * 2",
            "member_count + 1",
            "floor(低保标准 / 100)",
            "disabled_count",
            "ceil(household.size / 2)",
            "count(member.hours > 0)",
        ),
        "boolean": (
            "any_disabled and household.disabled",
            "not household.disabled",
            "assets.money > 低保标准",
            "is_null(application.date)",
            "every(member.disabled) or household.disabled",
        ),
        "date": (
            "add_months(application.date, 3)",
            "next_month_start(as_of)",
            "add_days(review_date, 1)",
        ),
        "enum": ("if household.disabled then {0} else {1}",),
    },
    "成员": {
        "number": ("wage_share", "income.wage / 7"),
        "percent": ("资产比例 / 7",),
        "money": (
            "income.wage / 2",
            "income.wage + 低保标准",
            "round(income.wage * 资产比例, 2)",
            "income.wage - income_per_capita",
        ),
        "integer": ("member_age + 1", "member.hours * 2", "member_count"),
        "boolean": ("member.disabled or member_age >= 60", "income.wage > 低保标准"),
        "date": ("add_months(birth_date, 12 * 60)", "next_month_start(birth_date)"),
        "enum": ("if member.disabled then {0} else {1}",),
    },
    "事件": {
        "number": ("event.amount / 7",),
        "percent": ("资产比例 - 0.0000005",),
        "money": (
            "event.amount * 2",
            "event.amount / 3",
            "coalesce(income.wage, event.amount)",
        ),
        "integer": ("months_between(event.date, as_of)", "member_age + 1"),
        "boolean": ("event.amount > 低保标准", "member.disabled and event.amount > 0"),
        "date": ("due", "add_days(event.date, 7)"),
        "enum": ("if event.amount > 0 then {0} else {1}",),
    },
}
# the share enters as a share of an amount: an amount added to, compared with or
# chosen against a bare share is refused (E110), which a random sum would often be
CALC_ATOMS = (
    "assets.money",
    "household.size",
    "低保标准",
    "边缘倍数",
    "(资产比例 * 低保标准)",
    "income_per_capita",
    "member_count",
    "0",
    "1",
    "2.5",
    "12",
    "0.005",
    "-3",
    "1,000",
    "0.0000004",
    "0.0000005",
    "7",
)


# ---------------------------------------------------------------- the rulebook


@dataclass
class TableSpec:
    id: str
    title: str
    policy: str  # the canonical name, a key of POLICIES
    written: str  # how the title row writes it
    level: str  # 家庭, 成员 or 事件
    inputs: list[tuple[str, str, str]]  # name cell, type cell, kind
    outputs: list[
        tuple[str, str, str, tuple[str, ...]]
    ]  # id, type cell, kind, enum values
    default: list[str | None] | None
    rules: list[tuple[list[str | None], list[str | None], str]] = field(
        default_factory=list
    )

    def rows(self) -> Rows:
        width = 1 + len(self.inputs) + len(self.outputs) + 1
        title: list[object] = [self.id, self.title, self.written, f"层级={self.level}"]
        rows: Rows = [title + [None] * max(0, width - len(title))]
        rows.append(
            [
                "规则",
                *["输入"] * len(self.inputs),
                *["输出"] * len(self.outputs),
                "注释",
            ]
        )
        rows.append(
            [
                "名称",
                *[i[0] for i in self.inputs],
                *[o[0] for o in self.outputs],
                "依据",
            ]
        )
        rows.append(
            ["类型", *[i[1] for i in self.inputs], *[o[1] for o in self.outputs], None]
        )
        if self.default is not None:
            rows.append(["默认", *[None] * len(self.inputs), *self.default, None])
        for index, (tests, outputs, note) in enumerate(self.rules, start=1):
            rows.append([f"R{index}", *tests, *outputs, note])
        return rows


@dataclass
class RulebookSpec:
    standards: dict[str, str]
    county_dibao: str | None
    calc: str
    tables: list[TableSpec]
    as_of: date
    derived: list[str]  # ids of the DERIVED rows the province defines

    def province(self) -> dict[str, Rows]:
        standards = [HEADER]
        for ident, name, unit, kind, overridable in STANDARDS:
            value = self.standards[ident]
            standards.append(
                [
                    ident,
                    name,
                    value,
                    unit,
                    "2024-01-01",
                    None,
                    "测试",
                    None,
                    kind,
                    overridable,
                    None,
                    None,
                    None,
                ]
            )
        standards.append(
            [
                "dibao_standard",
                None,
                "1000",
                "元/人/月",
                "2023-01-01",
                "2023-12-31",
                "测试",
                "旧标准",
                None,
                None,
                None,
                None,
                None,
            ]
        )
        chosen = [row for row in DERIVED[1:] if row[0] in self.derived]
        derived = [
            DERIVED[0],
            *chosen,
            ["calc", "计算值", "家庭", "number", self.calc, ""],
        ]
        derived += self.member_outputs()
        sheets = {
            "字段": FIELDS,
            "标准参数": standards,
            "派生值": derived,
            "日历": CALENDAR,
        }
        for table in self.tables:
            sheets[table.id] = table.rows()
        return sheets

    def member_outputs(self) -> Rows:
        """A household value over a member table's output, when there is one to read."""
        table = self.tables[0]
        if table.level != "成员" or table.policy not in SINGLE:
            return []
        ident, _, kind, _ = table.outputs[0]
        over = {
            "boolean": ("integer", f"count({ident})"),
            "money": ("money", f"sum({ident})"),
            "integer": ("integer", f"max_of({ident})"),
            "date": ("date", f"min_of({ident})"),
        }
        if kind not in over:
            return []
        dtype, expr = over[kind]
        return [["member_outputs", "成员输出汇总", "家庭", dtype, expr, ""]]

    def county(self) -> dict[str, Rows]:
        rows: Rows = [["标识", "值", "生效日期", "失效日期", "来源"]]
        if self.county_dibao:
            rows.append(
                ["dibao_standard", self.county_dibao, "2025-01-01", None, "县文件"]
            )
        return {"标准参数": rows}


def _wide(op: str, draw: st.DrawFn) -> str:
    return WIDE[op] if op in WIDE and draw(st.booleans()) else op


@st.composite
def single_test(draw: st.DrawFn, kind: str, plain: bool = False) -> str:
    """One test of a cell: a comparison, an equality, an interval or a word."""
    if kind == "boolean":
        return draw(
            st.sampled_from(("是", "否", "true", "FALSE") if plain else BOOL_WORDS)
        )
    if kind == "enum":
        word = draw(st.sampled_from(CATEGORIES))
        return draw(st.sampled_from((word, f'"{word}"', f"!= {word}", f"= {word}")))
    if kind == "text":
        word = draw(st.sampled_from(EVENT_TYPES))
        return draw(st.sampled_from((f'"{word}"', f'!= "{word}"')))
    operands = OPERANDS[kind]
    form = draw(st.sampled_from(("compare", "compare", "equal", "interval")))
    if form == "equal":
        return draw(st.sampled_from(operands))
    if form == "compare":
        op = draw(st.sampled_from(("<", "<=", ">", ">=", "=", "!=")))
        return f"{_wide(op, draw)} {draw(st.sampled_from(operands))}"
    low, high = draw(st.sampled_from(operands)), draw(st.sampled_from(operands))
    opening, closing = draw(st.sampled_from("[(]")), draw(st.sampled_from("])["))
    return f"{opening}{low}..{high}{closing}"


@st.composite
def input_cell(draw: st.DrawFn, kind: str) -> str | None:
    """A whole input cell: one test, a list, not(...), '-', null or empty."""
    form = draw(
        st.sampled_from(
            ("any", "blank", "single", "single", "single", "list", "not", "null")
        )
    )
    if form == "any":
        return "-"
    if form == "blank":
        return None
    if form == "null":
        return "null"
    if form == "single":
        return draw(single_test(kind))
    items = draw(st.lists(single_test(kind, plain=True), min_size=1, max_size=3))
    separator = draw(st.sampled_from((", ", "; ", "；")))
    listed = separator.join(items)
    return f"not({listed})" if form == "not" else listed


@st.composite
def output_cell(
    draw: st.DrawFn, kind: str, values: tuple[str, ...], level: str, literal_only: bool
) -> str | None:
    if draw(st.integers(0, 9)) == 0:
        return None
    if kind == "enum":
        word = draw(st.sampled_from(values))
        choices = [word, f'"{word}"']
        if not literal_only:
            choices += [
                t.format(values[0], values[-1])
                for t in OUTPUT_EXPRESSIONS[level]["enum"]
            ]
        return draw(st.sampled_from(choices))
    choices = list(OUTPUT_LITERALS[kind])
    if not literal_only:
        choices += list(OUTPUT_EXPRESSIONS[level].get(kind, ()))
    return draw(st.sampled_from(choices))


@st.composite
def output_column(
    draw: st.DrawFn, ident: str, policy: str, first: bool
) -> tuple[str, str, str, tuple[str, ...]]:
    if policy in ("C+", "C<", "C>"):
        kind = draw(st.sampled_from(("money", "integer")))
    elif policy in BY_PRIORITY and first:
        kind = "enum"
    else:
        kind = draw(st.sampled_from(OUTPUT_KINDS))
    if kind == "enum":
        values = draw(st.sampled_from(OUTPUT_ENUMS))
        written = draw(st.sampled_from(("enum", "枚举")))
        return ident, f"{written}({','.join(values)})", kind, values
    return ident, draw(st.sampled_from(TYPE_TEXT[kind])), kind, ()


@st.composite
def table_spec(
    draw: st.DrawFn,
    ident: str,
    policy: str,
    outputs_from: int,
    reads: tuple[str, str] | None = None,
) -> TableSpec:
    """A random decision table of the given hit policy; ``reads`` (a household output
    and its kind) makes its first input another table's output."""
    level = draw(st.sampled_from(("家庭", "家庭", "家庭", "成员", "事件")))
    pools = INPUTS[level]
    inputs = []
    if reads is not None:
        inputs.append((reads[0], draw(st.sampled_from(TYPE_TEXT[reads[1]])), reads[1]))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(sorted(pools)))
        name = draw(st.sampled_from(pools[kind]))
        type_text = (
            CATEGORY_TYPE if kind == "enum" else draw(st.sampled_from(TYPE_TEXT[kind]))
        )
        inputs.append((name, type_text, kind))
    count = 1 if policy in AGGREGATED else draw(st.integers(1, 2))
    outputs = [
        draw(output_column(f"out_{outputs_from + i}", policy, first=i == 0))
        for i in range(count)
    ]
    literal_only = policy in BY_PRIORITY
    default = None
    if draw(st.booleans()):
        default = [draw(output_cell(o[2], o[3], level, literal_only)) for o in outputs]
    spec = TableSpec(
        ident,
        f"表 {ident}",
        policy,
        draw(st.sampled_from(POLICIES[policy])),
        level,
        inputs,
        outputs,
        default,
    )
    for _ in range(draw(st.integers(1, 5))):
        tests = [draw(input_cell(kind)) for _, _, kind in inputs]
        # a rule gives no value by writing null: an empty output cell is E214
        outs = [
            draw(output_cell(o[2], o[3], level, literal_only)) or "null" for o in outputs
        ]
        note = draw(st.sampled_from(("二", "三(一)", "四(三)", "R-N2 第 3 款")))
        spec.rules.append((tests, outs, note))
    return spec


@st.composite
def calc_expression(draw: st.DrawFn, depth: int = 0) -> str:
    """A random numeric expression over fields, standards and literals."""
    if depth >= 2 or draw(st.integers(0, 2)) == 0:
        return draw(st.sampled_from(CALC_ATOMS))
    form = draw(
        st.sampled_from(
            (
                "+",
                "-",
                "*",
                "/",
                "round",
                "min",
                "max",
                "abs",
                "floor",
                "ceil",
                "coalesce",
                "if",
                "neg",
            )
        )
    )
    a = draw(calc_expression(depth + 1))
    b = draw(calc_expression(depth + 1))
    match form:
        case "+" | "-" | "*" | "/":
            return f"({a} {form} {b})"
        case "round":
            return f"round({a}, {draw(st.integers(0, 3))})"
        case "min" | "max" | "coalesce":
            return f"{form}({a}, {b})"
        case "abs" | "floor" | "ceil":
            return f"{form}({a})"
        case "neg":
            return f"-{a}"
    op = draw(st.sampled_from(("<", "<=", ">", ">=", "=", "!=")))
    return f"(if {a} {op} {b} then {a} else {b})"


@st.composite
def rulebooks(draw: st.DrawFn, policy: str) -> RulebookSpec:
    """A province with one table of ``policy`` and, sometimes, a second table."""
    standards = {
        ident: draw(st.sampled_from(values))
        for ident, values in STANDARD_VALUES.items()
    }
    tables = [draw(table_spec("t_main", policy, 1))]
    if draw(st.booleans()):
        others = [p for p in POLICIES if p not in ("UNIQUE", "ANY")]
        main = tables[0]
        kind = main.outputs[0][2]
        chained = (
            main.level == "家庭"
            and policy in SINGLE
            and kind in OPERANDS | {"boolean": ()}
        )
        reads = (main.outputs[0][0], kind) if chained and draw(st.booleans()) else None
        tables.append(
            draw(table_spec("t_more", draw(st.sampled_from(others)), 3, reads))
        )
    county = draw(st.sampled_from((None, "1,350", "1404.5元")))
    calc = draw(calc_expression())
    return RulebookSpec(
        standards,
        county,
        calc,
        tables,
        draw(st.sampled_from(AS_OF_DATES)),
        draw(derived_subset(tables, calc)),
    )


@st.composite
def derived_subset(draw: st.DrawFn, tables: list[TableSpec], calc: str) -> list[str]:
    """The derived values the tables read, and a random half of the others (a smaller
    program is quicker for DuckDB to plan; every value still turns up often)."""
    text = calc + "".join(str(cell) for t in tables for row in t.rows() for cell in row)
    chosen = []
    for ident, name, *_ in DERIVED[1:]:
        if ident in text or name in text or draw(st.booleans()):
            chosen.append(ident)
    return chosen


# ---------------------------------------------------------------- households


@dataclass
class Thresholds:
    numbers: list[Decimal]
    dates: list[date]


def thresholds(plan: Plan, as_of: date) -> Thresholds:
    """The value of every operand of every test, on a household with nothing known.

    Standards and the household values computed from standards alone (the marginal
    line) are what the tests compare with; households are drawn around them.
    """
    interpreter = Interpreter(plan, as_of, WorkCalendar(plan.rulebook.calendar))
    env = {
        f.id: None for f in plan.rulebook.fields.values() if f.level is Level.HOUSEHOLD
    }
    env.update(interpreter.standards)
    env[AS_OF] = as_of
    result = Evaluation(env, [], [], [])
    for kind, ident in plan.order:
        derived = plan.derived.get(ident)
        if kind == "derived" and derived and derived.level is Level.HOUSEHOLD:
            env[ident] = cast(
                interpreter.value(derived.expr, env, result), derived.dtype
            )
    found: set[object] = set()
    for table in plan.tables.values():
        for rule in table.rules:
            for test in rule.tests:
                for operand in _operands(test):
                    found.add(interpreter.value(operand, env, result))
    numbers = sorted(v for v in found if isinstance(v, Decimal))
    dates = sorted(v for v in found if isinstance(v, date))
    return Thresholds(numbers, dates)


def _operands(node: object) -> list[object]:
    if isinstance(node, Compare):
        return [node.operand]
    if isinstance(node, Interval):
        return [node.low, node.high]
    return [o for child in children(node) for o in _operands(child)]


FEN = Decimal("0.01")


def _maybe(values: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    return st.one_of(st.none(), values, values, values)


def money_values(t: Thresholds) -> st.SearchStrategy[object]:
    near = {(n + d).quantize(FEN) for n in t.numbers for d in (-FEN, 0, FEN)}
    near |= {Decimal("0.00"), Decimal("1301.00"), Decimal("99999.99")}
    return _maybe(st.sampled_from(sorted(v for v in near if abs(v) < 10**9)))


def wage_values(t: Thresholds) -> st.SearchStrategy[object]:
    """Wages that put a one-member household's monthly income on a threshold."""
    near = {
        (12 * n + d).quantize(FEN)
        for n in t.numbers
        for d in (Decimal("-0.12"), 0, Decimal("0.12"))
    }
    near |= {n.quantize(FEN) for n in t.numbers} | {
        Decimal("0.00"),
        Decimal("15612.00"),
    }
    return _maybe(st.sampled_from(sorted(v for v in near if abs(v) < 10**9)))


def integer_values(t: Thresholds) -> st.SearchStrategy[object]:
    near = {int(n) + d for n in t.numbers if abs(n) < 1000 for d in (-1, 0, 1)}
    near |= {0, 1, 2, 3, 4}
    return _maybe(st.sampled_from(sorted(Decimal(v) for v in near if 0 <= v <= 200)))


def date_values(t: Thresholds, as_of: date) -> st.SearchStrategy[object]:
    near = {d + timedelta(days=k) for d in [*t.dates, as_of] for k in (-1, 0, 1)}
    near |= {date(2025, 1, 31), date(2024, 2, 29), date(2024, 8, 31), date(2025, 1, 27)}
    return _maybe(st.sampled_from(sorted(d for d in near if 2016 <= d.year <= 2039)))


def birth_dates(as_of: date) -> st.SearchStrategy[object]:
    def years_before(years: int) -> date:
        try:
            return as_of.replace(year=as_of.year - years)
        except ValueError:  # 29 February
            return date(as_of.year - years, 3, 1)

    near = {years_before(y) + timedelta(days=k) for y in (18, 60) for k in (-1, 0, 1)}
    near |= {date(1964, 2, 29), date(2010, 5, 17), date(1950, 1, 1)}
    return _maybe(st.sampled_from(sorted(near)))


@st.composite
def member(draw: st.DrawFn, t: Thresholds, as_of: date, person: str) -> dict:
    return {
        "person_id": person,
        "birth_date": draw(birth_dates(as_of)),
        "income.wage": draw(wage_values(t)),
        "member.disabled": draw(_maybe(st.booleans())),
        "member.hours": draw(
            _maybe(st.sampled_from((Decimal(0), Decimal(20), Decimal(40))))
        ),
    }


@st.composite
def event(draw: st.DrawFn, t: Thresholds, as_of: date, person: str) -> dict:
    days = date_values(t, as_of)
    return {
        "event.type": draw(_maybe(st.sampled_from(EVENT_TYPES))),
        "event.date": draw(days),
        "event.person_id": draw(st.sampled_from((person, person, None))),
        "event.amount": draw(money_values(t)),
    }


@st.composite
def household(draw: st.DrawFn, t: Thresholds, as_of: date, index: int) -> dict:
    ident = f"H{index}"
    members = [
        draw(member(t, as_of, f"{ident}-P{i}")) for i in range(draw(st.integers(0, 3)))
    ]
    events = [
        draw(event(t, as_of, f"{ident}-P{i}")) for i in range(draw(st.integers(0, 2)))
    ]
    return {
        "household_id": ident,
        "assets.money": draw(money_values(t)),
        "household.size": draw(integer_values(t)),
        "household.disabled": draw(_maybe(st.booleans())),
        "household.category": draw(_maybe(st.sampled_from(CATEGORIES))),
        "application.date": draw(date_values(t, as_of)),
        "members": members,
        "events": events,
    }


@st.composite
def households(draw: st.DrawFn, t: Thresholds, as_of: date) -> list[dict]:
    count = draw(st.integers(1, 10))
    return [draw(household(t, as_of, i)) for i in range(1, count + 1)]
