"""Numbers and depths that passed every check and broke a later pass (helper-72).

A standard's 下限/上限 or a 不变式 cell of 99999999999999999999999 or with 30
decimals was compared silently, rounded to 28 digits; a DMN field default of that size
was written into the 字段 sheet; 5000 brackets in a DMN entry, a sum of 5000 terms or an
item definition nested 3000 deep stopped ``import-dmn`` with a RecursionError; a chain
of 2000 derived values, each reading the one before, stopped ``check`` with one and
``evaluate`` with DuckDB's English, and a chain of 1000 tables stopped the invariant
models. Each is now an error with its code at the cell or element.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from compiler.cli import main
from compiler.county import County
from compiler.diagnostics import Report
from compiler.dmn import DMN13
from compiler.dmn_import import import_dmn, write_workbook
from compiler.engine import open_project
from compiler.errors import InputError
from compiler.expr import MAX_DEPTH, Name
from compiler.load import load_workbook
from compiler.model import WorkbookKind
from tests.tables_fixture import COUNTY, province_sheets, write_tables

AS_OF = "2025-06-01"
PROVINCE = "province:"
# the fixture's province 标准参数 sheet: K is 下限, L is 上限; row 2 is dibao_standard
# (money), row 3 marginal_multiplier (number)
HUGE = "99999999999999999999999"
PRECISE = "0.123456789012345678901234567890"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def check(tables: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    return run(["check", str(tables), "--as-of", AS_OF], capsys)


# ---------------------------------------------------------------- standards' bounds


@pytest.mark.parametrize(
    ("row", "column", "text", "said"),
    [
        pytest.param(3, 11, HUGE, f"E101 数值过大；实际为「{HUGE}」", id="number-huge"),
        pytest.param(
            2, 10, f"{HUGE} * income_cap", f"E104 金额过大；实际为「{HUGE}」",
            id="money-huge-in-expression",
        ),
        pytest.param(
            3, 10, PRECISE, f"E101 数字的小数位数过多：30 位；实际为「{PRECISE}」",
            id="30-decimals",
        ),
    ],
)  # fmt: skip
def test_a_bound_no_type_holds_is_an_error_at_its_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], row: int, column: int,
    text: str, said: str,
) -> None:  # fmt: skip
    sheets = province_sheets()
    sheets["标准参数"][row - 1][column] = text
    code, out = check(write_tables(tmp_path, sheets), capsys)
    cell = "KL"[column - 10] + str(row)
    assert code == 1, out
    assert f"{PROVINCE}标准参数!{cell}: {said}" in out
    assert "内部错误" not in out


def test_a_bound_within_its_type_still_bounds_the_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The check reads the bound it used to read: 1.2 with 16 decimals is exact."""
    sheets = province_sheets()
    sheets["标准参数"][2][11] = "1.2000000000000000"
    code, out = check(write_tables(tmp_path, sheets), capsys)
    assert code == 1, out
    assert "E401 「边缘倍数」取值 1.5 倍 高于上限" in out


# ---------------------------------------------------------------- invariants

INVARIANTS = ["标识", "说明", "种类", "对象", "变量", "条件", "要求", "依据"]


@pytest.mark.parametrize(
    ("number", "said"),
    [
        pytest.param(HUGE, "E101 数字过大（330106 西湖区）", id="huge"),
        pytest.param(
            PRECISE, "E101 数字的小数位数过多：30 位（330106 西湖区）", id="30-decimals"
        ),
    ],
)
def test_an_invariant_number_no_type_holds_is_an_error_at_its_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], number: str, said: str
) -> None:
    sheets = province_sheets()
    sheets["不变式"] = [
        INVARIANTS,
        ["low", "低保人均收入低于标准", "要求", None, None, "group = dibao",
         f"income_per_capita < {number} * 低保标准", "三(一)"],
    ]  # fmt: skip
    code, out = check(write_tables(tmp_path, sheets), capsys)
    assert code == 1, out
    assert f"{PROVINCE}不变式!G2: {said}；实际为「{number}」" in out
    assert "E504" not in out and "内部错误" not in out


# ---------------------------------------------------------------- DMN


def model(body: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="{DMN13}"'
        ' xmlns:jz="urn:jiuzhu:dmn:1" id="m" name="m" namespace="urn:test">'
        f"{body}</definitions>"
    )


def table(test: str = "&gt;= 1000", output: str = "1", default: str = "") -> str:
    attribute = f' jz:default="{default}"' if default else ""
    return f"""
<inputData id="i1" name="Income"{attribute}>
  <variable name="Income" typeRef="number"/></inputData>
<decision id="d1" name="Grant"><variable name="Grant" typeRef="number"/>
  <decisionTable hitPolicy="FIRST">
    <input id="c1"><inputExpression typeRef="number"><text>Income</text>
    </inputExpression></input>
    <output id="o1"/>
    <rule id="r1"><inputEntry><text>{test}</text></inputEntry>
      <outputEntry><text>{output}</text></outputEntry></rule>
  </decisionTable></decision>"""


def refused(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "m.dmn"
    path.write_text(model(body), encoding="utf-8")
    with pytest.raises(InputError) as raised:
        import_dmn(path)
    return [d.render() for d in raised.value.diagnostics]


AT_INPUT = "E101 输入数据「Income」（id i1）的默认值（jz:default）"


@pytest.mark.parametrize(
    ("default", "said"),
    [
        pytest.param(HUGE, f"数值过大；实际为「{HUGE}」", id="huge"),
        pytest.param(PRECISE, "数值的小数位数过多", id="30-decimals"),
        pytest.param("1e400", "无法读作数值；实际为「1e400」", id="1e400"),
    ],
)
def test_a_dmn_field_default_no_type_holds_is_refused_at_the_input(
    tmp_path: Path, default: str, said: str
) -> None:
    said_all = refused(tmp_path, table(default=default))
    assert any(f"m.dmn:i1: {AT_INPUT}{said}" in line for line in said_all), said_all


def test_a_dmn_field_default_its_type_holds_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "m.dmn"
    path.write_text(model(table(default="1301.5")), encoding="utf-8")
    assert import_dmn(path).fields[0].default == "1301.5"


DEEP = [
    pytest.param(
        table(test="&gt;= " + "(" * 5000 + "1" + ")" * 5000),
        "第 1 个输入条目：括号或正负号层层相套，超过上限 100 层，不支持",
        id="5000-brackets",
    ),
    pytest.param(
        table(output="-" * 5000 + "1"),
        "第 1 个输出条目：括号或正负号层层相套，超过上限 100 层，不支持",
        id="5000-signs",
    ),
    pytest.param(
        table(output=" + ".join(["Income"] * 5000)),
        "第 1 个输出条目：表达式过长：运算层层相套共 5000 层",
        id="sum-of-5000",
    ),
    pytest.param(
        table(output=" + ".join(["Income"] * (MAX_DEPTH + 1))),
        f"第 1 个输出条目：表达式过长：运算层层相套共 {MAX_DEPTH + 1} 层",
        id="sum-one-past-the-limit",
    ),
]


@pytest.mark.parametrize(("body", "said"), DEEP)
def test_a_deep_dmn_entry_is_refused_like_a_deep_cell(
    tmp_path: Path, body: str, said: str
) -> None:
    said_all = refused(tmp_path, body)
    assert len(said_all) == 1, said_all
    assert "E307 决策「Grant」（id d1）规则 r1 " + said in said_all[0]


def test_the_deepest_dmn_entries_allowed_import_and_load(tmp_path: Path) -> None:
    """99 brackets, and a sum of 100 terms (a tree of 100 levels), as a cell may be."""
    brackets = "&gt;= " + "(" * (MAX_DEPTH - 1) + "1" + ")" * (MAX_DEPTH - 1)
    path = tmp_path / "m.dmn"
    path.write_text(
        model(table(test=brackets, output=" + ".join(["Income"] * MAX_DEPTH))),
        encoding="utf-8",
    )
    out = write_workbook(import_dmn(path), tmp_path / "province")
    report = Report()
    load_workbook(out, WorkbookKind.PROVINCE, report)
    assert not report.has_errors, report.errors


def test_item_definitions_nested_past_the_limit_are_refused_at_the_input(
    tmp_path: Path,
) -> None:
    """A typeRef naming the next definition 3000 times, and components inside
    components 3000 deep: both were a RecursionError."""
    chain = "".join(
        f'<itemDefinition name="t{i}"><typeRef>t{i + 1}</typeRef></itemDefinition>'
        for i in range(3000)
    )
    nested = '<itemComponent name="x"><typeRef>number</typeRef></itemComponent>'
    for i in range(3000):
        nested = f'<itemComponent name="c{i}">{nested}</itemComponent>'
    body = (
        chain
        + '<itemDefinition name="t3000"><typeRef>number</typeRef></itemDefinition>'
        + f'<itemDefinition name="deep">{nested}</itemDefinition>'
        + '<inputData id="i2" name="Chain"><variable name="Chain" typeRef="t0"/>'
        + '</inputData><inputData id="i3" name="Deep">'
        + '<variable name="Deep" typeRef="deep"/></inputData>'
        + table()
    )
    said = refused(tmp_path, body)
    deep = f"的类型定义层层相套，超过上限 {MAX_DEPTH} 层，不支持"
    assert [line.split(": ", 1)[0][-2:] for line in said] == ["i2", "i3"], said
    assert f"E307 输入数据「Chain」（id i2）{deep}" in said[0]
    assert f"E307 输入数据「Deep」（id i3）{deep}" in said[1]


def test_cli_import_of_a_deep_model_exits_1_in_chinese(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "m.dmn"
    path.write_text(model(table(test="(" * 5000 + "1" + ")" * 5000)), encoding="utf-8")
    code, out = run(
        ["import-dmn", str(path), "--out", str(tmp_path / "x.xlsx")], capsys
    )
    assert code == 1, out
    assert "E307" in out and "超过上限 100 层" in out
    assert "内部错误" not in out and "Recursion" not in out
    assert not (tmp_path / "x.xlsx").exists()


# ---------------------------------------------------------------- chains of values

HOUSEHOLD = {
    "household_id": "H1",
    "county_code": COUNTY,
    "assets": {"money": 100},
    "members": [
        {"person_id": "P1", "birth_date": "1980-01-01", "income": {"wage": 1200}}
    ],
    "events": [],
}


def chained(root: Path, length: int, start: str = "income_per_capita") -> Path:
    """The fixture's tables with ``length`` derived values, each the one before plus
    one, the first reading ``start``, and household_group's income column the last."""
    sheets = province_sheets()
    previous = start
    for i in range(length):
        sheets["派生值"].append(
            [f"step{i}", f"第{i}步", "家庭", "money", f"{previous} + 1", "测试"]
        )
        previous = f"step{i}"
    sheets["household_group"][2][1] = previous
    tables = write_tables(root, sheets, county_form="csv")
    (root / "households.jsonl").write_text(json.dumps(HOUSEHOLD) + "\n")
    return tables


def evaluate(
    root: Path, tables: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    households = root / "households.jsonl"
    argv = ["evaluate", "--households", str(households), "--tables", str(tables)]
    argv += ["--working-copy", "--as-of", AS_OF, "--out", str(root / "out.jsonl")]
    return run(argv, capsys)


def test_a_chain_of_2000_derived_values_is_refused_once_by_every_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tables = chained(tmp_path, 2000)
    code, checked = check(tables, capsys)
    assert code == 1, checked
    assert checked.count("E306") == 1, checked
    # the fixture's 派生值 has a header and two rows: step0 is on row 4
    assert f"{PROVINCE}派生值!A99: E306 派生值「step95」的计算层次过深" in checked
    assert "共 101 层，超过上限 100 层" in checked
    code, evaluated = evaluate(tmp_path, tables, capsys)
    assert code == 1 and "E306" in evaluated, evaluated
    assert "Binder Error" not in evaluated and not (tmp_path / "out.jsonl").exists()
    code, built = run(["build", str(tables), "--out", str(tmp_path / "sql")], capsys)
    assert code == 1 and "E306" in built, built
    assert all("内部错误" not in said for said in (checked, evaluated, built))


def test_a_chain_within_the_limit_is_checked_and_decided(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """95 steps: income per head 100.00, plus 95, is still below 1301 (dibao)."""
    tables = chained(tmp_path, 95)
    code, out = check(tables, capsys)
    assert code == 0, out
    code, out = evaluate(tmp_path, tables, capsys)
    assert code == 0, out
    decided = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))
    assert decided["group"] == "dibao"


def test_nullability_follows_a_long_chain_without_recursing(tmp_path: Path) -> None:
    """The analysis asks whether a value can be missing; for the 2000th value of a
    chain that starts from a value never missing, the answer is no."""
    tables = chained(tmp_path, 2000, start="coalesce(income_per_capita, 0)")
    project = open_project(tables, [COUNTY], date(2025, 6, 1), report=Report())
    county = County(project.plan(COUNTY), date(2025, 6, 1))
    assert county.nullable(Name("step1999")) is False
    assert county.nullable(Name("income_per_capita")) is True


def test_a_chain_of_1000_tables_is_refused_before_the_invariants(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sheets = province_sheets()
    kinds = "enum(dibao,dibao_marginal,none)"
    previous = "group"
    for i in range(1000):
        sheets[f"t{i}"] = [
            [f"t{i}", f"表{i}", "FIRST"],
            ["规则", "输入", "输出", "注释"],
            ["名称", previous, f"out{i}", "依据"],
            ["类型", kinds, kinds, None],
            ["默认", None, "none", None],
            ["r1", "dibao", "dibao", "测试"],
        ]
        previous = f"out{i}"
    sheets["不变式"] = [
        INVARIANTS,
        ["end", "链尾", "要求", None, None, f"{previous} = dibao", "group = dibao", "测试"],
    ]  # fmt: skip
    code, out = check(write_tables(tmp_path, sheets, county_form="csv"), capsys)
    assert code == 1, out
    assert out.count("E306") == 1, out
    assert f"{PROVINCE}t98!A1: E306 决策表「t98」的引用链过长" in out
    assert "101 个派生值和决策表逐个引用前一个，超过上限 100 个" in out
    assert "内部错误" not in out


def test_a_deep_input_expression_is_quoted_clipped(tmp_path: Path) -> None:
    """A refused input expression is quoted in part, with its length: a 3000-deep one
    was quoted whole (6.6 KB on one line)."""
    deep = "(" * 3000 + "Income" + ")" * 3000
    body = table().replace("<text>Income</text>", f"<text>{deep}</text>", 1)

    said = refused(tmp_path, body)

    assert len(said) == 1 and "第 1 个输入表达式" in said[0]
    assert "（共 6006 个字符）" in said[0] and len(said[0]) < 600
