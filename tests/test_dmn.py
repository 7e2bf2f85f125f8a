"""DMN import and export: the FEEL subset, refusals that name the element, the workbook
written, a DMN 1.3 file that holds the schema's structure, and the round trip."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from compiler import dmn
from compiler.bind import Plan
from compiler.calendar import WorkCalendar
from compiler.cli import main
from compiler.diagnostics import Report
from compiler.dmn_export import export_dmn
from compiler.dmn_import import import_dmn, sheets, write_workbook
from compiler.engine import open_project
from compiler.errors import InputError
from compiler.expr import render
from compiler.interpret import Interpreter
from compiler.load import load_workbook
from compiler.model import DType, Kind, WorkbookKind
from tests.workbooks import write_csv_folder

TCK = Path(__file__).resolve().parents[1].parent / "shared" / "conformance" / "dmn-tck"
NUMBER, TEXT, DATE = DType(Kind.NUMBER), DType(Kind.TEXT), DType(Kind.DATE)
NAMES = {
    "Age": dmn.Resolved("Age", NUMBER),
    "Risk Category": dmn.Resolved("Risk_Category", TEXT),
    "dateE": dmn.Resolved("dateE", DATE),
}


def resolve(name: str) -> dmn.Resolved:
    if name not in NAMES:
        raise dmn.Unsupported(f"名称「{name}」")
    return NAMES[name]


def unary(text: str, dtype: DType = NUMBER) -> str:
    return render(dmn.parse_tests(text, dtype, resolve, sorted(NAMES, key=len)[::-1]))


# ---------------------------------------------------------------- the FEEL subset


@pytest.mark.parametrize(
    ("text", "dtype", "expected"),
    [
        (">=18", NUMBER, ">= 18"),
        ("-", NUMBER, "-"),
        ("", NUMBER, "-"),
        ("[1..10)", NUMBER, "[1..10)"),
        ("]1..10[", NUMBER, "(1..10)"),
        ("< Age + 2", NUMBER, "< (Age + 2)"),
        ("-5, 7", NUMBER, "= -5, = 7"),
        ('"Medium","Low"', TEXT, '= "Medium", = "Low"'),
        ('not("High")', TEXT, 'not(= "High")'),
        ("null", TEXT, "null"),
        ('> date("2016-10-01")', DATE, "> 2016-10-01"),
        ("<= dateE", DATE, "<= dateE"),
        ("true", DType(Kind.BOOLEAN), "= 是"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_unary_tests_in_the_subset_parse(
    text: str, dtype: DType, expected: str
) -> None:
    assert unary(text, dtype) == expected


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("Age", "相等"),
        ("not(Age)", "相等"),
        ("< Age / 2", "除法"),
        ("< abs(Age)", "函数「abs」"),
        ('< time("10:00:00")', "函数「time」"),
        ('< @"10:00:00"', "不是日期"),
        ("{a: 1}", "上下文"),
        ("? > 3", "?"),
        ("< Risk Category", "类型不同"),
        ("< Unknown", "Unknown"),
        ("< 0.00001", "4 位小数"),
        ("1 between 0 and 2", "between"),
    ],
)
def test_unary_tests_outside_the_subset_are_refused(text: str, phrase: str) -> None:
    with pytest.raises(dmn.Unsupported) as refused:
        unary(text)
    assert phrase in refused.value.reason


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ('Risk Category + " x"', "字符串拼接"),
        ("Age * 2", "乘法"),
        ("if Age > 1 then 1 else 2", "if"),
        ("[1, 2]", "["),
    ],
)
def test_outputs_outside_the_subset_are_refused(text: str, phrase: str) -> None:
    with pytest.raises(dmn.Unsupported) as refused:
        dmn.parse_output(text, resolve, sorted(NAMES, key=len)[::-1])
    assert phrase in refused.value.reason


def test_output_may_add_and_subtract_names_and_literals() -> None:
    expr, dtype = dmn.parse_output("Age - 1", resolve, ["Age"])
    assert render(expr) == "(Age - 1)" and dtype == NUMBER


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (Decimal("1.50"), "1.5"),
        ('a"b', '"a\\"b"'),
        (date(2025, 1, 2), 'date("2025-01-02")'),
    ],
)
def test_literals_are_written_as_feel(value: object, text: str) -> None:
    assert dmn.feel_literal(value) == text


# ---------------------------------------------------------------- reading models


def model(body: str, ns: str = dmn.DMN13) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="{ns}"'
        f' xmlns:feel="http://www.omg.org/spec/FEEL/20140401" id="m" name="m"'
        f' namespace="urn:test">{body}</definitions>'
    )


CHAINED = """
<itemDefinition name="tLevel"><typeRef>string</typeRef>
  <allowedValues><text>"high","low"</text></allowedValues></itemDefinition>
<inputData id="i1" name="Monthly income"><variable name="Monthly income" typeRef="number"/></inputData>
<decision id="d1" name="Level">
  <variable name="Level" typeRef="tLevel"/>
  <informationRequirement><requiredInput href="#i1"/></informationRequirement>
  <decisionTable hitPolicy="FIRST">
    <input id="c1"><inputExpression typeRef="number"><text>Monthly income</text></inputExpression></input>
    <output id="o1"><defaultOutputEntry><text>"low"</text></defaultOutputEntry></output>
    <annotation name="依据"/>
    <rule id="high_income"><inputEntry><text>&gt;= 1000</text></inputEntry>
      <outputEntry><text>"high"</text></outputEntry>
      <annotationEntry><text>第一条</text></annotationEntry></rule>
  </decisionTable>
</decision>
<decision id="d2" name="Grant">
  <variable name="Grant" typeRef="number"/>
  <informationRequirement><requiredDecision href="#d1"/></informationRequirement>
  <decisionTable hitPolicy="UNIQUE">
    <input id="c2"><inputExpression><text>Level</text></inputExpression></input>
    <output id="o2"/>
    <rule id="r_low"><inputEntry><text>"low"</text></inputEntry>
      <outputEntry><text>Monthly income + 100</text></outputEntry></rule>
    <rule id="r_high"><inputEntry><text>"high"</text></inputEntry>
      <outputEntry><text>0</text></outputEntry></rule>
  </decisionTable>
</decision>
"""


def write(tmp_path: Path, text: str, name: str = "m.dmn") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_import_writes_the_table_format(tmp_path: Path) -> None:
    imported = import_dmn(write(tmp_path, model(CHAINED)))
    rows = sheets(imported)
    assert rows["字段"][1][:4] == ["Monthly_income", "Monthly income", "家庭", "number"]
    assert rows["Level"] == [
        ["Level", "Level", "FIRST"],
        ["规则", "输入", "输出", "注释"],
        ["名称", "Monthly_income", "Level", "依据"],
        ["类型", "number", "enum(high,low)", ""],
        ["默认", "", '"low"', ""],
        ["high_income", ">= 1000", '"high"', "第一条"],
    ]
    assert rows["Grant"][2] == ["名称", "Level", "Grant", "注释"]
    assert rows["Grant"][4] == ["r_low", '"low"', "(Monthly_income + 100)", ""]


@pytest.mark.parametrize("suffix", [".xlsx", ""])
def test_imported_workbook_loads_and_decides(tmp_path: Path, suffix: str) -> None:
    imported = import_dmn(write(tmp_path, model(CHAINED)))
    out = write_workbook(imported, tmp_path / f"province{suffix}")
    report = Report()
    workbook = load_workbook(out, WorkbookKind.PROVINCE, report)
    assert not report.has_errors, report.errors
    assert sorted(t.id for t in workbook.tables) == ["Grant", "Level"]
    plan = plan_for(tmp_path, imported)
    decided = decide(plan, {"Monthly_income": Decimal(400)})
    assert (decided["Level"], decided["Grant"]) == ("low", Decimal(500))


def test_dmn_1_1_names_and_qualified_types(tmp_path: Path) -> None:
    body = CHAINED.replace('typeRef="number"', 'typeRef="feel:number"').replace(
        "<typeRef>string</typeRef>", "<typeRef>feel:string</typeRef>"
    )
    body = body.replace('<annotation name="依据"/>', "").replace(
        "<annotationEntry><text>第一条</text></annotationEntry>", ""
    )
    imported = import_dmn(
        write(tmp_path, model(body, "http://www.omg.org/spec/DMN/20151101/dmn.xsd"))
    )
    assert imported.version == "1.1"
    assert [t.ident for t in imported.tables] == ["Level", "Grant"]


def test_strict_import_refuses_the_whole_model_naming_each_element(
    tmp_path: Path,
) -> None:
    body = (
        CHAINED
        + """
<decision id="d3" name="Note"><variable name="Note" typeRef="string"/>
  <literalExpression><text>"x"</text></literalExpression></decision>
<decision id="d4" name="Uses note">
  <informationRequirement><requiredDecision href="#d3"/></informationRequirement>
  <decisionTable><input><inputExpression><text>Note</text></inputExpression></input>
    <output typeRef="string"/><rule><inputEntry><text>"x"</text></inputEntry>
    <outputEntry><text>"y"</text></outputEntry></rule></decisionTable></decision>
<businessKnowledgeModel id="b1" name="Helper"/>"""
    )
    with pytest.raises(InputError) as refused:
        import_dmn(write(tmp_path, model(body)))
    messages = [d.message for d in refused.value.diagnostics]
    assert {d.code for d in refused.value.diagnostics} == {"E307"}
    assert any("业务知识模型「Helper」" in m for m in messages)
    assert any("决策「Note」" in m and "字面表达式" in m for m in messages)
    assert any("决策「Uses note」" in m and "依赖的决策「Note」" in m for m in messages)
    assert all("不支持" in m for m in messages)


def test_partial_import_keeps_exact_tables_and_stubs_refused_decisions(
    tmp_path: Path,
) -> None:
    body = CHAINED.replace('<decisionTable hitPolicy="FIRST">', "<context>", 1)
    body = body.replace(
        '</decisionTable>\n</decision>\n<decision id="d2"',
        '</context>\n</decision>\n<decision id="d2"',
        1,
    )
    imported = import_dmn(write(tmp_path, model(body)), partial=True)
    assert [t.ident for t in imported.tables] == ["Grant"]
    assert imported.stubs == {"Level": "Level"}


def test_doctype_is_refused_before_parsing(tmp_path: Path) -> None:
    text = '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x "y">]><definitions>&x;</definitions>'
    with pytest.raises(InputError) as refused:
        import_dmn(write(tmp_path, text))
    assert refused.value.diagnostics[0].code == "E002"


@pytest.mark.parametrize("encoding", ["GBK", "GB2312", "GB18030"])
@pytest.mark.parametrize("bom", [False, True])
def test_a_model_declared_in_a_chinese_encoding_imports_as_its_utf_8_twin(
    tmp_path: Path, encoding: str, bom: bool
) -> None:
    """expat reads no multi-byte encoding: import-dmn stopped with an internal error
    (helper-41). A UTF-8 byte order mark outranks the declaration."""
    text = model(CHAINED).replace('encoding="UTF-8"', f'encoding="{encoding}"')
    path = tmp_path / "gbk.dmn"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8") if bom else text.encode(encoding))
    assert sheets(import_dmn(path)) == sheets(import_dmn(write(tmp_path, model(CHAINED))))
    assert sheets(import_dmn(path))["Level"][5][3] == "第一条"


def test_a_model_in_an_unknown_or_wrong_encoding_is_e002(tmp_path: Path) -> None:
    for declared, data in (("X-NOPE", b""), ("GBK", b"\xff\xff")):
        text = model(CHAINED).replace('encoding="UTF-8"', f'encoding="{declared}"')
        path = tmp_path / "bad.dmn"
        path.write_bytes(text.encode("ascii", "replace").replace(b"</definitions>", data + b"</definitions>"))
        with pytest.raises(InputError) as refused:
            import_dmn(path)
        assert refused.value.diagnostics[0].code == "E002"


def test_priority_without_output_values_is_refused(tmp_path: Path) -> None:
    body = CHAINED.replace('hitPolicy="UNIQUE"', 'hitPolicy="PRIORITY"')
    with pytest.raises(InputError) as refused:
        import_dmn(write(tmp_path, model(body)))
    assert "优先顺序" in refused.value.diagnostics[0].message


def test_cli_import_exits_1_on_a_refused_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    case = TCK / "reject" / "L3-0040-singlenestedcontext"
    code = main(
        ["import-dmn", str(next(case.glob("*.dmn"))), "--out", str(tmp_path / "x.xlsx")]
    )
    assert code == 1
    assert "E307" in capsys.readouterr().err
    assert not (tmp_path / "x.xlsx").exists()


def test_cli_import_writes_the_workbook(tmp_path: Path) -> None:
    case = TCK / "pass" / "L2-0004-simpletable-U"
    out = tmp_path / "book.xlsx"
    assert main(["import-dmn", str(next(case.glob("*.dmn"))), "--out", str(out)]) == 0
    assert out.exists()


@pytest.mark.parametrize("target", ["book.xlsx", "province"])
def test_cli_import_keeps_an_existing_workbook_unless_told_to_replace_it(
    tmp_path: Path, target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """--out tables/province replaced the province's 字段 with the model's one field,
    and exit 0 (helper-38)."""
    model = str(next((TCK / "pass" / "L2-0004-simpletable-U").glob("*.dmn")))
    out = tmp_path / target
    if target.endswith(".xlsx"):
        out.write_bytes(b"old workbook")
    else:
        out.mkdir()
        (out / "字段.csv").write_text("old fields\n", encoding="utf-8")
    before = {p.name: p.read_bytes() for p in ([out] if out.is_file() else out.iterdir())}
    assert main(["import-dmn", model, "--out", str(out)]) == 1
    assert "E605 导入的结果会覆盖已有的文件，未写入" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in ([out] if out.is_file() else out.iterdir())} == before
    assert main(["import-dmn", model, "--out", str(out), "--replace"]) == 0


# ---------------------------------------------------------------- helpers


def plan_for(root: Path, imported) -> Plan:  # type: ignore[no-untyped-def]
    tables = root / "tables"
    write_workbook(imported, tables / "province")
    write_csv_folder(
        tables / "counties" / "990001-测试", {"标准参数": [["标识", "值", "生效日期"]]}
    )
    project = open_project(tables, ["990001"], date(2025, 6, 1), report=Report())
    assert not project.report.has_errors, project.report.errors
    return project.plan("990001")


def decide(plan: Plan, household: dict, members: list | None = None) -> dict:
    """The interpreter's values for one household, its members under ``_members``."""
    interpreter = Interpreter(
        plan, date(2025, 6, 1), WorkCalendar(plan.rulebook.calendar)
    )
    result = interpreter.evaluate({"household_id": "h", **household}, members or [], [])
    return {**result.household, "_members": result.members}


# ---------------------------------------------------------------- export and round trip

FIELDS = [
    ["标识", "名称", "层级", "类型", "默认", "说明"],
    ["income", "家庭月收入", "家庭", "money", "0", ""],
    ["kind", "户籍", "家庭", "enum(urban,rural)", "urban", ""],
    ["has_disability", "有残疾人", "家庭", "boolean", "否", ""],
    ["applied_on", "申请日期", "家庭", "date", "", ""],
    ["m_age", "年龄", "成员", "integer", "", ""],
]
STANDARDS = [
    ["标识", "名称", "值", "生效日期", "类型", "县可改"],
    ["dibao_standard", "低保标准", "1000", "2024-01-01", "money", "是"],
    ["marginal_multiplier", "边缘倍数", "1.5", "2024-01-01", "number", "否"],
]
DERIVED = [
    ["标识", "名称", "层级", "类型", "表达式", "依据"],
    ["income_pc", "人均收入", "家庭", "money", "round(income / 3, 2)", "测试"],
]
GROUP = "enum(dibao,marginal,none)"
TABLES = {
    "group_tbl": [
        ["group_tbl", "救助类别", "PRIORITY"],
        ["规则", "输入", "输入", "输出", "注释"],
        ["名称", "income_pc", "has_disability", "group", "依据"],
        ["类型", "money", "boolean", GROUP, ""],
        ["默认", "", "", "none", ""],
        ["dibao", "< 低保标准", "-", "dibao", "一"],
        [
            "marginal",
            "[低保标准..marginal_multiplier * 低保标准)",
            "-",
            "marginal",
            "二",
        ],
        ["disabled", "< 2 * 低保标准", "是", "marginal", "三"],
    ],
    "benefit": [
        ["benefit", "救助金", "FIRST"],
        ["规则", "输入", "输入", "输出", "输出", "注释"],
        ["名称", "group", "kind", "amount", "note", "依据"],
        ["类型", GROUP, "enum(urban,rural)", "money", "text", ""],
        ["默认", "", "", "0", '"none"', ""],
        ["b1", "dibao", "urban", "低保标准 - income_pc", '"city"', "一"],
        ["b2", "dibao", "rural", "低保标准 - 100 - income_pc", '"village"', "二"],
        ["b3", "marginal", "-", "100", '"marginal"', "三"],
    ],
    "entitlements": [
        ["entitlements", "帮扶", "COLLECT"],
        ["规则", "输入", "输入", "输出", "注释"],
        ["名称", "group", "applied_on", "entitlement", "依据"],
        ["类型", GROUP, "date", "text", ""],
        ["e1", "dibao, marginal", "-", '"medical"', "一"],
        ["e2", "dibao", "< 2025-01-01", '"heating"', "二"],
        ["e3", "not(none)", "-", '"education"', "三"],
    ],
    "checks": [
        ["checks", "核查项数", "C#"],
        ["规则", "输入", "输出", "注释"],
        ["名称", "amount", "n_checks", "依据"],
        ["类型", "money", "text", ""],
        ["c1", "> 0", '"paid"', "一"],
        ["c2", ">= 500", '"large"', "二"],
        ["c3", "> 0", '"paid"', "三"],
    ],
    "adult_tbl": [
        ["adult_tbl", "成年", "FIRST", "层级=成员"],
        ["规则", "输入", "输出", "注释"],
        ["名称", "m_age", "adult", "依据"],
        ["类型", "integer", "boolean", ""],
        ["默认", "", "否", ""],
        ["a1", ">= 18", "是", "一"],
    ],
}
HOUSEHOLDS = [
    ({"income": Decimal(i), "kind": k, "has_disability": d, "applied_on": day}, ages)
    for i, k, d, day, ages in [
        (900, "urban", False, date(2024, 12, 1), [30, 5]),
        (2400, "rural", False, date(2025, 2, 1), [70]),
        (3300, "urban", False, date(2025, 3, 1), [17]),
        (4600, "rural", True, None, []),
        (6000, "urban", True, date(2024, 1, 1), [18, 18]),
        (3299, "rural", False, date(2025, 1, 1), [40]),
        (0, "urban", False, date(2025, 5, 1), [1]),
    ]
]


def rulebook(root: Path, extra: dict | None = None) -> Path:
    tables = root / "tables"
    province = {"字段": FIELDS, "标准参数": STANDARDS, "派生值": DERIVED, **TABLES}
    write_csv_folder(tables / "province", province)
    county = {
        "标准参数": [
            ["标识", "值", "生效日期"],
            ["dibao_standard", "1100", "2025-01-01"],
        ]
    }
    write_csv_folder(tables / "counties" / "330106-测试区", {**county, **(extra or {})})
    return tables


def original_plan(root: Path, extra: dict | None = None) -> Plan:
    project = open_project(
        rulebook(root, extra), ["330106"], date(2025, 6, 1), report=Report()
    )
    assert not project.report.has_errors, project.report.errors
    return project.plan("330106")


OUTPUTS = ["group", "amount", "note", "entitlement", "n_checks"]


def test_round_trip_decides_the_same_for_every_sample_household(tmp_path: Path) -> None:
    plan = original_plan(tmp_path / "a")
    exported = export_dmn(plan, date(2025, 6, 1))
    assert not exported.refused
    path = tmp_path / "county.dmn"
    path.write_bytes(exported.xml)

    back = plan_for(tmp_path / "b", import_dmn(path))

    assert {f for f in back.rulebook.fields} == {
        "income_pc", "kind", "has_disability", "applied_on", "m_age",
    }  # fmt: skip
    assert back.rulebook.fields["m_age"].level.value == "member"
    for household, ages in HOUSEHOLDS:
        members = [
            {"person_id": f"p{n}", "m_age": Decimal(a)} for n, a in enumerate(ages)
        ]
        before = decide(plan, household, members)
        inputs = {k: v for k, v in household.items() if k != "income"}
        after = decide(back, {**inputs, "income_pc": before["income_pc"]}, members)
        assert [after[o] for o in OUTPUTS] == [before[o] for o in OUTPUTS], household
        adults = [m["adult"] for m in before["_members"]]
        assert [m["adult"] for m in after["_members"]] == adults


def test_export_folds_the_county_standards_in_force(tmp_path: Path) -> None:
    exported = export_dmn(original_plan(tmp_path), date(2025, 6, 1))
    root = ET.fromstring(exported.xml)
    cells = [
        el.findtext(f"{{{dmn.DMN13}}}text")
        for el in root.iter()
        if dmn.local(el.tag) in ("inputEntry", "outputEntry", "defaultOutputEntry")
    ]
    assert {
        "< 1100",
        "[1100..1650)",
        "(1100 - income_pc)",
        "(1000 - income_pc)",
    } <= set(cells)
    assert not [c for c in cells if "dibao_standard" in c or "低保标准" in c]


def test_export_has_the_structure_of_the_dmn_13_schema(tmp_path: Path) -> None:
    root = ET.fromstring(export_dmn(original_plan(tmp_path), date(2025, 6, 1)).xml)
    assert check_structure(root) == []


def test_cell_outside_the_subset_refuses_the_table_naming_the_cell(
    tmp_path: Path,
) -> None:
    extra = {
        "due": [
            ["due", "截止日期", "FIRST"],
            ["规则", "输入", "输出", "注释"],
            ["名称", "applied_on", "due_on", "依据"],
            ["类型", "date", "date", ""],
            ["d1", "-", "add_days(applied_on, 10)", "一"],
        ]
    }
    plan = original_plan(tmp_path, extra)
    with pytest.raises(InputError) as refused:
        export_dmn(plan, date(2025, 6, 1))
    diagnostic = refused.value.diagnostics[0]
    assert diagnostic.code == "E307" and "决策表「due」" in diagnostic.message
    assert "函数「add_days」" in diagnostic.message and diagnostic.location.cell == "C5"

    partial = export_dmn(plan, date(2025, 6, 1), partial=True)
    assert "due" not in partial.tables and len(partial.tables) == len(TABLES)


def test_cli_export_writes_the_file(tmp_path: Path) -> None:
    tables = rulebook(tmp_path)
    out = tmp_path / "out.dmn"
    args = [
        "export-dmn",
        "--county",
        "330106",
        "--tables",
        str(tables),
        "--out",
        str(out),
    ]
    assert main([*args, "--as-of", "2025-06-01"]) == 0
    assert check_structure(ET.fromstring(out.read_bytes())) == []


# ---------------------------------------------------------------- the schema's structure

# For each element Jiuzhu writes, the children the DMN 1.3 schema (DMN13.xsd) allows, in
# the order its sequences require. The schema file itself could not be fetched into this
# workplace, so the test checks this transcription of its content models instead.
D = ["description", "extensionElements"]
CONTENT = {
    "definitions": [*D, "import", "itemDefinition", "drgElement", "artifact", "DMNDI"],
    "itemDefinition": [*D, "typeRef", "allowedValues"],
    "allowedValues": [*D, "text"],
    "decision": [*D, "question", "allowedAnswers", "variable", "informationRequirement",
                 "knowledgeRequirement", "authorityRequirement", "expression"],
    "inputData": [*D, "variable"],
    "variable": D,
    "informationRequirement": [*D, "requiredDecision|requiredInput"],
    "decisionTable": [*D, "input", "output", "annotation", "rule"],
    "input": [*D, "inputExpression", "inputValues"],
    "inputExpression": [*D, "text"],
    "inputValues": [*D, "text"],
    "output": [*D, "outputValues", "defaultOutputEntry"],
    "outputValues": [*D, "text"],
    "defaultOutputEntry": [*D, "text"],
    "annotation": D,
    "rule": [*D, "inputEntry", "outputEntry", "annotationEntry"],
    "inputEntry": [*D, "text"],
    "outputEntry": [*D, "text"],
    "annotationEntry": ["text"],
}  # fmt: skip
GROUPS = {
    "decision": "drgElement",
    "inputData": "drgElement",
    "decisionTable": "expression",
}
LEAVES = {"text", "typeRef", "description", "requiredDecision", "requiredInput"}
REQUIRED = {
    "definitions": ("name", "namespace"),
    "decision": ("name",),
    "inputData": ("name",),
    "variable": ("name",),
    "itemDefinition": ("name",),
    "requiredDecision": ("href",),
    "requiredInput": ("href",),
}
HIT_POLICIES = {
    "UNIQUE",
    "FIRST",
    "PRIORITY",
    "ANY",
    "COLLECT",
    "RULE ORDER",
    "OUTPUT ORDER",
}


def check_structure(root: ET.Element) -> list[str]:
    """Every way ``root`` departs from the DMN 1.3 content models above."""
    problems: list[str] = []
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    if len(ids) != len(set(ids)):
        problems.append("duplicate ids")
    for el in root.iter():
        ns, name = dmn.namespace(el.tag), dmn.local(el.tag)
        if ns != dmn.DMN13:
            problems.append(f"{name} outside the DMN 1.3 namespace")
            continue
        problems += [
            f"{name} lacks @{a}" for a in REQUIRED.get(name, ()) if not el.get(a)
        ]
        problems += _order(el, name)
        if (
            name in ("requiredDecision", "requiredInput")
            and el.get("href", "")[1:] not in ids
        ):
            problems.append(f"dangling href {el.get('href')}")
        if name == "decisionTable":
            problems += _table(el)
        if name in ("decision", "inputData"):
            variable = next((c for c in el if dmn.local(c.tag) == "variable"), None)
            if variable is not None and variable.get("name") != el.get("name"):
                problems.append(f"variable of {el.get('name')} is not named after it")
    return problems


def _order(el: ET.Element, name: str) -> list[str]:
    if name in LEAVES:
        return [] if len(el) == 0 else [f"{name} has children"]
    allowed = CONTENT.get(name)
    if allowed is None:
        return [f"unexpected element {name}"]
    slots = {c: i for i, group in enumerate(allowed) for c in group.split("|")}
    last, problems = -1, []
    for child in el:
        child_name = dmn.local(child.tag)
        slot = slots.get(child_name, slots.get(GROUPS.get(child_name, ""), None))
        if slot is None or slot < last:
            problems.append(f"{child_name} not allowed here in {name}")
        last = max(last, slot or 0)
    return problems


def _table(el: ET.Element) -> list[str]:
    problems = []
    if el.get("hitPolicy", "UNIQUE") not in HIT_POLICIES:
        problems.append(f"hit policy {el.get('hitPolicy')}")
    if el.get("aggregation") not in (None, "SUM", "COUNT", "MIN", "MAX"):
        problems.append(f"aggregation {el.get('aggregation')}")
    count = {
        k: len([c for c in el if dmn.local(c.tag) == k]) for k in ("input", "output")
    }
    for rule in (c for c in el if dmn.local(c.tag) == "rule"):
        entries = [dmn.local(c.tag) for c in rule]
        if entries.count("inputEntry") != count["input"]:
            problems.append(f"rule {rule.get('id')}: input entries")
        if entries.count("outputEntry") != count["output"]:
            problems.append(f"rule {rule.get('id')}: output entries")
    return problems


def test_structure_check_finds_misplaced_elements() -> None:
    root = ET.fromstring(
        f'<definitions xmlns="{dmn.DMN13}" name="x" namespace="u"><decision name="d">'
        '<decisionTable/><variable name="d"/></decision></definitions>'
    )
    assert check_structure(root) == ["variable not allowed here in decision"]


def test_a_model_without_a_decision_table_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """It imported "0 张决策表" and exited 0, writing a workbook of one field (helper-38)."""
    model = tmp_path / "empty.dmn"
    model.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d" name="e"'
        ' namespace="http://example.org/e"><inputData id="i1" name="Age">'
        '<variable name="Age" typeRef="number"/></inputData></definitions>',
        encoding="utf-8",
    )
    out = tmp_path / "book.xlsx"
    assert main(["import-dmn", str(model), "--out", str(out)]) == 1
    assert "E002 DMN 模型中没有决策表，未导入" in capsys.readouterr().err
    assert not out.exists()


def test_a_text_too_long_for_a_cell_is_e012_and_nothing_is_written(tmp_path: Path) -> None:
    """openpyxl cut a 40,000-character annotation to 32,767, unsaid (helper-42)."""
    body = CHAINED.replace("<text>第一条</text>", f"<text>{'注' * 40_000}</text>")
    imported = import_dmn(write(tmp_path, model(body)))
    with pytest.raises(InputError) as refused:
        write_workbook(imported, tmp_path / "out.xlsx")
    [problem] = refused.value.diagnostics
    assert (problem.code, problem.location.sheet, problem.location.cell) == ("E012", "Level", "D6")
    assert not (tmp_path / "out.xlsx").exists()


def test_a_model_saved_as_gbk_without_a_declaration_is_read_as_such(tmp_path: Path) -> None:
    """Chinese Windows tools save GBK and declare nothing: E002 with expat's English
    "not well-formed (invalid token)" (helper-42)."""
    text = model(CHAINED).replace('<?xml version="1.0" encoding="UTF-8"?>\n', "")
    path = tmp_path / "gbk.dmn"
    path.write_bytes(text.encode("gbk"))
    assert sheets(import_dmn(path))["Level"][5][3] == "第一条"


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b"", "第 1 行第 1 列：文件为空"),
        (b"<definitions><decision></definitions>", "开始标签与结束标签不匹配"),
        (b"<definitions>", "在元素结束之前就结束了（可能被截断）"),
    ],
)
def test_xml_that_is_not_well_formed_is_said_in_chinese_with_its_place(
    tmp_path: Path, data: bytes, said: str
) -> None:
    path = tmp_path / "bad.dmn"
    path.write_bytes(data)
    with pytest.raises(InputError) as refused:
        import_dmn(path)
    [problem] = refused.value.diagnostics
    assert problem.code == "E002" and said in problem.render(), problem.render()


def test_two_rules_with_one_id_are_refused_at_import(tmp_path: Path) -> None:
    """The workbook was written and failed check with E206 later (helper-42)."""
    body = CHAINED.replace('<rule id="r_high">', '<rule id="r_low">')
    with pytest.raises(InputError) as refused:
        import_dmn(write(tmp_path, model(body)))
    assert any("规则 r_low 的 id 与同一决策表中前面的规则重复" in d.render() for d in refused.value.diagnostics)
