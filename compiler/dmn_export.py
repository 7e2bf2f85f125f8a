"""Export a county's decision tables as a DMN 1.3 model.

Each decision table becomes a decision whose logic is a decision table; fields and
derived values become input data (the caller supplies a derived value, as Jiuzhu would
compute it); standards become constants: every standard in a cell is replaced by its
value in force on the export date, and arithmetic over constants is folded. A cell is
written only in the FEEL subset the importer reads back (``compiler.dmn``), so an
exported file always imports again; a table with a cell outside it (a function, a
division, an equality with a variable) is refused with E307, or with ``partial`` left
out, its outputs becoming input data for the tables that use them.

Jiuzhu's identifiers, types and levels ride along in attributes of the ``jz``
namespace, which the DMN schema allows on every element and other tools ignore.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from compiler import dmn
from compiler.bind import AS_OF, Plan
from compiler.diagnostics import Diagnostic, make
from compiler.dmn import DMN13, FEEL13, JZ, Unsupported
from compiler.errors import InputError
from compiler.expr import (
    Binary,
    Call,
    Compare,
    Disjunction,
    Expr,
    If,
    Interval,
    Literal,
    Name,
    Negation,
    Test,
    Unary,
    names_in,
)
from compiler.interpret import binary, cast
from compiler.model import DType, Kind, Level, Table

EXPRESSIONS = (Literal, Name, Unary, Binary, Call, If)
TYPE_REFS = {
    Kind.BOOLEAN: "boolean",
    Kind.DATE: "date",
    Kind.TEXT: "string",
    Kind.ENUM: "string",
}


@dataclass
class Exported:
    xml: bytes
    tables: list[str]
    refused: list[Diagnostic] = field(default_factory=list)


def export_dmn(plan: Plan, as_of: date, partial: bool = False) -> Exported:
    """A county's bound tables as DMN 1.3 XML (UTF-8).

    Raises:
        InputError: some table cannot be written exactly (E307), unless ``partial``.
    """
    writer = _Writer(plan, as_of)
    refused = writer.choose()
    if refused and not partial:
        raise InputError(refused)
    root = writer.definitions()
    ET.indent(root)
    xml = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return Exported(xml, list(writer.exported), refused)


def _q(tag: str) -> str:
    """Elements are written unprefixed; the root declares DMN 1.3 as the default."""
    return tag


def _jz(name: str) -> str:
    return f"jz:{name}"


def _xml_id(text: str) -> str:
    """An xsd:ID (an NCName) made from any text."""
    cleaned = re.sub(r"[^A-Za-z0-9_.\-]", "_", text)
    return cleaned if re.match(r"[A-Za-z_]", cleaned) else f"_{cleaned}"


class _Writer:
    def __init__(self, plan: Plan, as_of: date) -> None:
        self.plan = plan
        self.as_of = as_of
        self.book = plan.rulebook
        self.exported: dict[str, Table] = {}
        self.ids: set[str] = set()
        self.inputs: dict[str, str] = {}  # identifier -> inputData element id
        self.items: list[ET.Element] = []

    # ------------------------------------------------------------ what to write

    def choose(self) -> list[Diagnostic]:
        """Decide which tables can be written; returns the refusals."""
        refused: list[Diagnostic] = []
        for _, ident in [s for s in self.plan.order if s[0] == "table"]:
            table = self.plan.tables[ident]
            problems = self.problems(table)
            if problems:
                refused += problems
            else:
                self.exported[ident] = table
        return refused

    def problems(self, table: Table) -> list[Diagnostic]:
        found = []
        for column in table.inputs:
            try:
                self.input_name(column.expr)
            except Unsupported as problem:
                found.append(self.refusal(table, column.location, problem, column.text))
        for rule in table.rules:
            for test, text, where in zip(
                rule.tests, rule.test_texts, rule.test_locations
            ):
                try:
                    self.tests(test)
                except Unsupported as problem:
                    found.append(self.refusal(table, where, problem, text, rule.id))
            cells = zip(rule.outputs, rule.output_texts, rule.output_locations)
            for out, (expr, text, where) in zip(table.outputs, cells):
                try:
                    self.output(expr)
                    if out.dtype.kind is Kind.ENUM:
                        self.enum_output(expr, out.dtype, table)
                except Unsupported as problem:
                    found.append(self.refusal(table, where, problem, text, rule.id))
        for out in table.outputs:
            if out.default is None:
                continue
            try:
                self.output(out.default)
            except Unsupported as problem:
                found.append(self.refusal(table, out.location, problem, None))
        return found

    def enum_output(self, expr: Expr, dtype: DType, table: Table) -> None:
        folded = self.fold(expr)
        named = self.plan.items[folded.name].dtype if isinstance(folded, Name) else None
        dmn.check_enum_output(folded, named, dtype, table.policy_text)

    def refusal(
        self, table: Table, where, problem: Unsupported, text, rule=None
    ) -> Diagnostic:  # type: ignore[no-untyped-def]
        at = f"规则 {rule} " if rule else ""
        return make(
            "E307",
            f"决策表「{table.id}」（{table.title}）{at}的单元格：{problem.reason}，"
            "不支持导出为 DMN",
            where,
            found=text,
            expected="一元测试、常量、名称及其加减（见 docs/dmn.md）",
        )

    # ------------------------------------------------------------ cells

    def fold(self, node: Expr) -> Expr:
        """Standards and the decision date replaced by their values, constants folded."""
        match node:
            case Name(ident) if ident == AS_OF:
                return Literal(self.as_of)
            case Name(ident) if self.plan.items[ident].kind == "standard":
                standard = self.book.standards[ident]
                value = cast(
                    self.book.standard_value(ident, self.as_of), standard.dtype
                )
                if value is None:
                    raise Unsupported(f"标准参数「{ident}」在 {self.as_of} 没有取值")
                return Literal(value)  # type: ignore[arg-type]
            case Binary(op, left, right):
                left, right = self.fold(left), self.fold(right)
                if isinstance(left, Literal) and isinstance(right, Literal):
                    return Literal(binary(op, left.value, right.value))
                return Binary(op, left, right)
        return node

    def name(self, ident: str) -> str:
        """The FEEL name of an identifier in the exported model."""
        item = self.plan.items[ident]
        if item.dtype.kind is Kind.LIST:
            raise Unsupported(f"「{ident}」是列表")
        if item.kind == "output" and item.owner in self.exported:
            table = self.exported[item.owner]
            return (
                self.decision_name(table)
                if len(table.outputs) == 1
                else f"{table.id}.{ident}"
            )
        if item.kind in ("field", "derived", "output"):
            return ident
        raise Unsupported(f"名称「{ident}」")

    def input_name(self, expr: Expr) -> str:
        folded = self.fold(expr)
        if not isinstance(folded, Name):
            raise Unsupported("输入列不是字段、派生值或决策表输出的名称")
        return self.name(folded.name)

    def tests(self, test: Test) -> str:
        return dmn.feel_tests(self.fold_test(test), self.name)

    def fold_test(self, test: Test) -> Test:
        match test:
            case Compare(op, operand):
                return Compare(op, self.fold(operand))
            case Interval(low, low_closed, high, high_closed):
                return Interval(
                    self.fold(low), low_closed, self.fold(high), high_closed
                )
            case Disjunction(tests):
                return Disjunction(tuple(self.fold_test(t) for t in tests))
            case Negation(tests):
                inner = self.fold_test(tests)
                assert isinstance(inner, Disjunction)
                return Negation(inner)
        return test

    def output(self, expr: Expr) -> str:
        return dmn.feel_expr(self.fold(expr), self.name, "+-")

    # ------------------------------------------------------------ the document

    def take_id(self, wanted: str) -> str:
        candidate, n = _xml_id(wanted), 2
        while candidate in self.ids:
            candidate, n = f"{_xml_id(wanted)}_{n}", n + 1
        self.ids.add(candidate)
        return candidate

    def definitions(self) -> ET.Element:
        code = self.book.county_code
        root = ET.Element(
            _q("definitions"),
            {
                "xmlns": DMN13,
                "xmlns:jz": JZ,
                "id": self.take_id(f"jiuzhu_{code}"),
                "name": f"{code} {self.book.county_name} 决策表",
                "namespace": f"urn:jiuzhu:{code}:{self.as_of.isoformat()}",
                "expressionLanguage": FEEL13,
                "typeLanguage": FEEL13,
                "exporter": "Jiuzhu",
                "exporterVersion": "1",
            },
        )
        ET.SubElement(root, _q("description")).text = (
            f"{code} {self.book.county_name} 的决策表，按 {self.as_of.isoformat()} 的"
            "标准参数取值代入为常量；派生值和字段为输入数据。"
        )
        self.decision_ids = {t: self.take_id(f"decision_{t}") for t in self.exported}
        decisions = [self.decision(t) for t in self.exported.values()]
        inputs = [self.input_data(i) for i in sorted(self.needed_inputs())]
        root.extend([*self.items, *decisions, *inputs])
        return root

    def needed_inputs(self) -> set[str]:
        found = set()
        for table in self.exported.values():
            for ident in self.names_used(table):
                item = self.plan.items[ident]
                if item.kind in ("field", "derived") or (
                    item.kind == "output" and item.owner not in self.exported
                ):
                    found.add(ident)
        return found

    def names_used(self, table: Table) -> list[str]:
        nodes: list = [c.expr for c in table.inputs]
        nodes += [c.default for c in table.outputs if c.default is not None]
        nodes += [n for rule in table.rules for n in (*rule.tests, *rule.outputs)]
        found = []
        for node in nodes:
            folded = (
                self.fold(node)
                if isinstance(node, EXPRESSIONS)
                else self.fold_test(node)
            )
            found += names_in(folded)
        return list(dict.fromkeys(found))

    def input_id(self, ident: str) -> str:
        if ident not in self.inputs:
            self.inputs[ident] = self.take_id(f"input_{ident}")
        return self.inputs[ident]

    def input_data(self, ident: str) -> ET.Element:
        item = self.plan.items[ident]
        el = ET.Element(_q("inputData"), {"id": self.input_id(ident), "name": ident})
        self.jz(el, ident, item.dtype, item.level)
        if item.name_cn:
            el.set("label", item.name_cn)
        note = self.input_note(ident)
        if note:
            ET.SubElement(el, _q("description")).text = note
        default = _workbook_text(getattr(self.book.fields.get(ident), "default", None))
        if default:
            el.set(_jz("default"), default)
        variable = ET.SubElement(
            el, _q("variable"), {"id": self.take_id(f"var_{ident}"), "name": ident}
        )
        variable.set("typeRef", self.type_ref(item.dtype, f"t_{ident}"))
        return el

    def input_note(self, ident: str) -> str:
        derived = self.plan.derived.get(ident)
        if derived is not None:
            return f"派生值，由 Jiuzhu 按 {derived.text} 计算后提供（{derived.basis}）"
        item = self.plan.items[ident]
        if item.kind == "output":
            return f"决策表「{item.owner}」的输出（该表不能导出为 DMN），由 Jiuzhu 计算后提供"
        return ""

    def jz(
        self, el: ET.Element, ident: str, dtype: DType | None, level: Level | None
    ) -> None:
        el.set(_jz("id"), ident)
        if dtype is not None:
            el.set(_jz("type"), dtype.render())
        if level is not None and level is not Level.HOUSEHOLD:
            el.set(_jz("level"), str(level))

    def type_ref(self, dtype: DType, item_name: str) -> str:
        if dtype.kind is Kind.ENUM:
            item = ET.Element(
                _q("itemDefinition"), {"id": self.take_id(item_name), "name": item_name}
            )
            ET.SubElement(item, _q("typeRef")).text = "string"
            allowed = ET.SubElement(item, _q("allowedValues"))
            ET.SubElement(allowed, _q("text")).text = _values(dtype)
            self.items.append(item)
            return item_name
        if dtype.kind is Kind.LIST:
            return "string"
        return TYPE_REFS.get(dtype.kind, "number")

    def decision_name(self, table: Table) -> str:
        return table.outputs[0].id if len(table.outputs) == 1 else table.id

    def decision(self, table: Table) -> ET.Element:
        name = self.decision_name(table)
        el = ET.Element(
            _q("decision"), {"id": self.decision_ids[table.id], "name": name}
        )
        el.set("label", table.title or table.id)
        self.jz(el, table.id, None, table.level)
        ET.SubElement(
            el, _q("variable"), {"id": self.take_id(f"var_{table.id}"), "name": name}
        )
        for ident in self.names_used(table):
            item = self.plan.items[ident]
            requirement = ET.SubElement(
                el,
                _q("informationRequirement"),
                {"id": self.take_id(f"req_{table.id}_{ident}")},
            )
            if item.kind == "output" and item.owner in self.exported:
                target = "#" + self.decision_ids[item.owner]
                ET.SubElement(requirement, _q("requiredDecision"), {"href": target})
            else:
                ET.SubElement(
                    requirement,
                    _q("requiredInput"),
                    {"href": "#" + self.input_id(ident)},
                )
        el.append(self.decision_table(table))
        return el

    def decision_table(self, table: Table) -> ET.Element:
        attrs = {
            "id": self.take_id(f"table_{table.id}"),
            "hitPolicy": str(table.hit_policy),
        }
        if table.aggregation is not None:
            attrs["aggregation"] = str(table.aggregation)
        el = ET.Element(_q("decisionTable"), attrs)
        for k, column in enumerate(table.inputs):
            clause = ET.SubElement(
                el, _q("input"), {"id": self.take_id(f"in_{table.id}_{k + 1}")}
            )
            clause.set("label", column.text)
            expression = ET.SubElement(
                clause, _q("inputExpression"),
                {"id": self.take_id(f"inexpr_{table.id}_{k + 1}"), "typeRef": self.simple(column.dtype)},
            )  # fmt: skip
            ET.SubElement(expression, _q("text")).text = self.input_name(column.expr)
            if column.dtype.kind is Kind.ENUM:
                values = ET.SubElement(clause, _q("inputValues"))
                ET.SubElement(values, _q("text")).text = _values(column.dtype)
        for out in table.outputs:
            clause = ET.SubElement(
                el, _q("output"),
                {"id": self.take_id(f"out_{table.id}_{out.id}"), "typeRef": self.simple(out.dtype)},
            )  # fmt: skip
            if len(table.outputs) > 1:
                clause.set("name", out.id)
            self.jz(clause, out.id, out.dtype, None)
            if out.dtype.kind is Kind.ENUM:
                values = ET.SubElement(clause, _q("outputValues"))
                ET.SubElement(values, _q("text")).text = _values(out.dtype)
            if out.default is not None:
                default = ET.SubElement(clause, _q("defaultOutputEntry"))
                ET.SubElement(default, _q("text")).text = self.output(out.default)
        ET.SubElement(el, _q("annotation"), {"name": table.annotation_header or "注释"})
        for rule in table.rules:
            el.append(self.rule(table, rule))
        return el

    def rule(self, table: Table, rule) -> ET.Element:  # type: ignore[no-untyped-def]
        el = ET.Element(_q("rule"), {"id": self.take_id(f"rule_{table.id}_{rule.id}")})
        el.set(_jz("id"), rule.id)
        for k, test in enumerate(rule.tests):
            entry = ET.SubElement(
                el, _q("inputEntry"), {"id": self.take_id(f"{el.get('id')}_in{k + 1}")}
            )
            ET.SubElement(entry, _q("text")).text = self.tests(test)
        for k, expr in enumerate(rule.outputs):
            entry = ET.SubElement(
                el,
                _q("outputEntry"),
                {"id": self.take_id(f"{el.get('id')}_out{k + 1}")},
            )
            ET.SubElement(entry, _q("text")).text = self.output(expr)
        annotation = ET.SubElement(el, _q("annotationEntry"))
        ET.SubElement(annotation, _q("text")).text = rule.annotation
        return el

    def simple(self, dtype: DType) -> str:
        return TYPE_REFS.get(dtype.kind, "number")


def _values(dtype: DType) -> str:
    return ",".join(dmn.feel_literal(v) for v in dtype.values)


def _workbook_text(value: object) -> str:
    """A field's default as a 字段 sheet's 默认 cell would hold it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


__all__ = ["Exported", "export_dmn"]
