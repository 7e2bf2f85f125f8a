"""Import DMN 1.1-1.5 decision tables as a workbook of docs/table-format.md.

``import_dmn`` reads a model and returns an ``Imported``: the 字段 rows (one per plain
input datum, a structured one flattened into dotted fields), one table per decision
whose logic is a decision table, and a refusal (E307) for every element it cannot carry
over exactly. By default any refusal makes the whole import fail; ``partial=True``
(the conformance runner) keeps what is exact and, where a kept table needs a refused
decision, turns that decision into an input ("stub") so the table can be checked alone.
``write_workbook`` writes the result as an .xlsx file or a folder of .csv files.
"""

from __future__ import annotations

import csv
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from compiler import dmn
from compiler.diagnostics import FOUND_SHOWN, Diagnostic, Location, make, shorten
from compiler.dmn import JZ, Names, Resolved, Unsupported, identifier
from compiler.errors import InputError
from compiler.expr import (
    MAX_DEPTH,
    Compare,
    Disjunction,
    Expr,
    Literal,
    Test,
    depth,
    render,
)
from compiler.load import VALUE_READERS
from compiler.model import KIND_NAMES, LEVEL_CN, DType, Kind, Level
from compiler.normalise import (
    CONTROL_CHARACTERS,
    EXCEL_CELL_LIMIT,
    REORDERING,
    ParseProblem,
    excel_length,
    fold_text,
    show_controls,
    show_reordering,
)
from compiler.read import control_characters, too_long

POLICIES = {
    "UNIQUE",
    "ANY",
    "PRIORITY",
    "FIRST",
    "RULE ORDER",
    "OUTPUT ORDER",
    "COLLECT",
}
SINGLE_HIT = {"UNIQUE", "ANY", "PRIORITY", "FIRST"}
AGGREGATIONS = {"SUM", "MIN", "MAX", "COUNT"}
EXPRESSIONS = {
    "literalExpression": "字面表达式（literal expression）",
    "context": "上下文（context）",
    "invocation": "调用（invocation）",
    "relation": "关系（relation）",
    "list": "列表（list）",
    "functionDefinition": "函数定义（function definition）",
    "conditional": "条件表达式（conditional）",
    "filter": "过滤表达式（filter）",
    "for": "迭代表达式（for）",
    "every": "量词表达式（every）",
    "some": "量词表达式（some）",
}
OTHER_ELEMENTS = {
    "businessKnowledgeModel": "业务知识模型",
    "decisionService": "决策服务",
    "import": "导入的模型",
}
IGNORED = {
    "itemDefinition", "inputData", "decision", "knowledgeSource", "textAnnotation",
    "association", "group", "extensionElements", "description", "DMNDI",
    "elementCollection", "performanceIndicator", "organizationUnit",
}  # fmt: skip
RESERVED_SHEETS = {
    "字段",
    "fields",
    "标准参数",
    "standards",
    "派生值",
    "derived",
    "日历",
    "calendar",
}
EXPECTED = "只含普通输入数据和一元测试的决策表，见 docs/dmn.md"
# The elements whose names, labels, ids, values and entries the workbook holds; a
# description (other than a DMN 1.1 rule's) and extension elements are not carried.
CARRIED = {"inputData", "decision", "itemDefinition"}
NOT_CARRIED = {"description", "extensionElements"}
_HIDDEN = re.compile(f"{CONTROL_CHARACTERS.pattern}|{REORDERING.pattern}")
# a quotation in a message longer than a value quoted as found may be
_LONG_QUOTE = re.compile(f"「([^「」]{{{FOUND_SHOWN + 1},}})」")


# ---------------------------------------------------------------- the result


@dataclass
class FieldOut:
    """One row of the 字段 sheet; ``path`` is the DMN name (``structA.price``)."""

    ident: str
    path: str
    label: str
    dtype: DType
    level: Level = Level.HOUSEHOLD
    note: str = ""
    default: str = ""


@dataclass
class OutputOut:
    ident: str
    name: str | None  # the DMN output name of a multi-output table
    dtype: DType
    default: str = ""


@dataclass
class RuleOut:
    ident: str
    tests: list[str]
    outputs: list[str]
    annotation: str = ""


@dataclass
class TableOut:
    """One decision table, with the cells as the workbook will hold them."""

    ident: str
    title: str
    decision: str  # the DMN decision's name
    policy: str
    level: Level
    inputs: list[tuple[str, DType]]
    outputs: list[OutputOut]
    rules: list[RuleOut] = field(default_factory=list)
    annotation_header: str = "注释"

    @property
    def single_hit(self) -> bool:
        return self.policy in SINGLE_HIT


@dataclass
class Imported:
    source: str
    version: str
    fields: list[FieldOut] = field(default_factory=list)
    tables: list[TableOut] = field(default_factory=list)
    refused: list[Diagnostic] = field(default_factory=list)
    stubs: dict[str, str] = field(default_factory=dict)  # refused decision -> field

    def table_for(self, decision: str) -> TableOut | None:
        return next((t for t in self.tables if t.decision == decision), None)


def read_dmn(path: str | Path) -> ET.Element:
    """The model's root element, read safely (no DTD, no entities).

    Raises:
        InputError: the file is missing, not XML, or declares a DTD (E001, E002).
    """
    where = Location(str(path))
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise InputError(
            make("E001", f"无法打开 DMN 文件：{error.strerror}", where)
        ) from None
    try:
        return dmn.parse_xml(data)
    except dmn.UnsafeXML:
        raise InputError(
            make(
                "E002",
                "DMN 文件含有 DTD 或实体声明，出于安全考虑不予读取",
                where,
                expected="不含 <!DOCTYPE> 的 DMN XML 文件",
            )
        ) from None
    except ET.ParseError as error:
        raise InputError(
            make("E002", "DMN 文件不是格式正确的 XML", where, found=str(error))
        ) from None


def import_dmn(path: str | Path, partial: bool = False) -> Imported:
    """Convert a DMN model's decision tables; see the module docstring.

    Raises:
        InputError: the file cannot be read (E001, E002), or (unless ``partial``) some
            element is not supported (E307, one diagnostic per element or cell).
    """
    root = read_dmn(path)
    result = _Importer(root, str(path), partial).run()
    if result.refused and not partial:
        raise InputError(result.refused)
    if not result.tables and not result.refused:  # nothing to import: say so, write nothing
        raise InputError(
            make("E002", "DMN 模型中没有决策表，未导入", Location(str(path)), found="0 张决策表",
                 expected="含有 decisionTable 的 DMN 1.1-1.5 模型",
                 hint="核对是否选错了文件；只有决策表（decisionTable）会被导入")
        )
    return result


# ---------------------------------------------------------------- types


@dataclass
class _Type:
    dtype: DType | None = None
    components: dict[str, _Type] | None = None
    element: _Type | None = None
    problem: str | None = None


# an item definition nested in itself 3000 times (components, collections, or a
# typeRef naming the next definition) was a RecursionError; said as the cells are
_TOO_DEEP_TYPE = f"的类型定义层层相套，超过上限 {MAX_DEPTH} 层"


class _Types:
    """typeRef names resolved through the model's itemDefinitions."""

    def __init__(self, items: dict[str, ET.Element], ns: str) -> None:
        self.items = items
        self.ns = ns
        self.busy: set[str] = set()
        self.depth = 0  # item definitions and components open

    def ref(self, ref: str | None) -> _Type:
        if not ref:
            return _Type(problem="没有声明类型（typeRef）")
        ref = ref.strip()
        if ":" in ref and " " not in ref.split(":", 1)[0]:
            ref = ref.split(":", 1)[1]  # a QName as DMN 1.1 writes it: feel:number
        if ref in dmn.BUILTIN_TYPES:
            return _Type(DType(dmn.BUILTIN_TYPES[ref]))
        if ref in dmn.UNSUPPORTED_TYPES:
            return _Type(problem=f"是{dmn.UNSUPPORTED_TYPES[ref]}")
        if ref in self.items and ref not in self.busy:
            self.busy.add(ref)
            try:
                return self.item(self.items[ref])
            finally:
                self.busy.discard(ref)
        return _Type(problem=f"的类型「{ref}」在模型中没有定义")

    def item(self, el: ET.Element, collection: bool | None = None) -> _Type:
        """An item definition or component's type: past MAX_DEPTH of them inside one
        another, a problem that every enclosing type takes on."""
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                return _Type(problem=_TOO_DEEP_TYPE)
            return self._item(el, collection)
        finally:
            self.depth -= 1

    def _item(self, el: ET.Element, collection: bool | None) -> _Type:
        if (el.get("isCollection") == "true") if collection is None else collection:
            element = self.item(el, collection=False)
            if element.problem == _TOO_DEEP_TYPE:
                return element
            return _Type(element=element)
        components = [c for c in el if dmn.local(c.tag) == "itemComponent"]
        if components:
            found = {c.get("name", ""): self.item(c) for c in components}
            if any(t.problem == _TOO_DEEP_TYPE for t in found.values()):
                return _Type(problem=_TOO_DEEP_TYPE)
            return _Type(components=found)
        if any(dmn.local(c.tag) in ("functionItem", "typeConstraint") for c in el):
            return _Type(problem=f"的类型「{el.get('name')}」含函数类型或类型约束")
        type_ref = _child_text(el, "typeRef")
        base = self.ref(type_ref)
        allowed = _child(el, "allowedValues")
        if allowed is None or base.problem:
            return base
        text = _child_text(allowed, "text") or ""
        values = dmn.parse_values(text)
        enum = dmn.enum_type(values) if values is not None else None
        if base.dtype is not None and base.dtype.kind is Kind.TEXT and enum is not None:
            return _Type(enum)
        return _Type(problem=f"的取值约束「{text}」（只支持字符串枚举）")


def _step(parent: ET.Element, el: ET.Element) -> str:
    """One step of an element's path: its name, numbered among same-named siblings."""
    same = [c for c in parent if c.tag == el.tag]
    name = dmn.local(el.tag)
    return name if len(same) == 1 else f"{name}[{same.index(el) + 1}]"


def _child(el: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in el if dmn.local(c.tag) == name), None)


def _children(el: ET.Element, name: str) -> list[ET.Element]:
    return [c for c in el if dmn.local(c.tag) == name]


def _child_text(el: ET.Element, name: str) -> str | None:
    found = _child(el, name)
    if found is None:
        return None
    if dmn.local(found.tag) != "text" and _child(found, "text") is not None:
        return _child_text(found, "text")
    return found.text or ""


def _jz(el: ET.Element, name: str) -> str | None:
    return el.get(f"{{{JZ}}}{name}")


def _jz_type(el: ET.Element) -> DType | None:
    text = _jz(el, "type")
    if not text:
        return None
    if text.startswith("enum(") and text.endswith(")"):
        return dmn.enum_type([v.strip() for v in text[5:-1].split(",")])
    kind = KIND_NAMES.get(text)
    return DType(kind) if kind is not None and kind is not Kind.ENUM else None


def _jz_level(el: ET.Element) -> Level:
    text = _jz(el, "level")
    return Level(text) if text in {lv.value for lv in Level} else Level.HOUSEHOLD


# ---------------------------------------------------------------- the importer


@dataclass
class _Signature:
    """What other tables see of a decision table: its outputs and hit policy."""

    el: ET.Element
    table: ET.Element
    ident: str
    policy: str
    outputs: list[OutputOut]


class _Importer:
    def __init__(self, root: ET.Element, source: str, partial: bool) -> None:
        self.root = root
        self.source = source
        self.partial = partial
        self.ns = dmn.namespace(root.tag)
        self.names = Names()
        self.result = Imported(source, dmn.MODEL_NAMESPACES.get(self.ns, "?"))
        items = {
            el.get("name", ""): el
            for el in root
            if dmn.local(el.tag) == "itemDefinition"
        }
        self.types = _Types(items, self.ns)
        self.paths: dict[str, FieldOut] = {}
        self.input_problems: dict[str, tuple[ET.Element, str]] = {}
        self.signatures: dict[str, _Signature] = {}
        self.refused: dict[str, list[Diagnostic]] = {}  # decision name -> why
        self.decisions: dict[str, ET.Element] = {}
        self.parents: dict[ET.Element, ET.Element] | None = None  # made when needed

    def run(self) -> Imported:
        if (
            dmn.local(self.root.tag) != "definitions"
            or self.ns not in dmn.MODEL_NAMESPACES
        ):
            self.refuse_model()
            return self.result
        self.other_elements()
        self.hidden_marks()
        for el in self.drg("inputData"):
            self.input_data(el)
        for el in self.drg("decision"):
            self.decisions[el.get("name", "")] = el
            self.signature(el)
        self.known = sorted(self.known_names(), key=len, reverse=True)
        self.tables()
        return self.result

    def drg(self, kind: str) -> list[ET.Element]:
        return [el for el in self.root if dmn.local(el.tag) == kind]

    def where(self, el: ET.Element) -> str:
        """The element's id, or the path to it from the nearest element with one
        (``r1/inputEntry[2]``): entries and clauses often have no id."""
        if self.parents is None:
            self.parents = {c: p for p in self.root.iter() for c in p}
        steps = []
        while not el.get("id") and el in self.parents:
            parent = self.parents[el]
            steps.append(_step(parent, el))
            el = parent
        head = el.get("id") or dmn.local(el.tag)
        return "/".join([head, *reversed(steps)])

    def hidden_marks(self) -> None:
        """E011 for control characters and marks that reorder text (U+202A-U+202E,
        U+2066-U+2069) in any name, label, id, value or entry the workbook would hold,
        at the element and attribute: `check` refuses such a workbook (compiler/read.py),
        so it is never written. The path is made only for a mark found."""
        search = _HIDDEN.search
        for top in self.root:
            if dmn.local(top.tag) not in CARRIED:
                continue
            for el in top.iter():
                found = [(f"@{dmn.local(k)}", v) for k, v in el.attrib.items() if search(v)]
                if el.text and search(el.text):
                    found.append(("", el.text))
                for suffix, text in found if found and self.carried(el) else ():
                    place = self.where(el) + suffix
                    self.result.refused.append(self.hidden(place, text))

    def carried(self, el: ET.Element) -> bool:
        """Whether the workbook holds the element's text: not inside a description
        (other than a DMN 1.1 rule's) or extension elements."""
        self.where(el)  # makes the parent map
        assert self.parents is not None
        while el in self.parents:
            parent = self.parents[el]
            kind = dmn.local(el.tag)
            if kind in NOT_CARRIED and not (
                kind == "description" and dmn.local(parent.tag) == "rule"
            ):
                return False
            el = parent
        return True

    def hidden(self, where: str, text: str) -> Diagnostic:
        marks = CONTROL_CHARACTERS.findall(text) + REORDERING.findall(text)
        codes = "、".join(sorted({f"U+{ord(c):04X}" for c in marks}))
        reorders = "（其中改变文字方向的字符会使文字倒着显示）" if REORDERING.search(text) else ""
        return make(
            "E011",
            f"DMN 元素 {where} 含有不可见的控制字符 {codes}{reorders}，未导入",
            Location(self.source, None, where),
            found=show_reordering(show_controls(text)),
            expected="不含控制字符的文字",
            hint="工作簿不能保存这些字符（jiuzhu check 会拒绝）；请在原工具中删除后重新导出，"
            "或核对文件声明的编码",
        )

    def refusal(
        self, el: ET.Element | None, message: str, found: str | None = None
    ) -> Diagnostic:
        where = self.where(el) if el is not None else None
        # an entry quoted in the message is shortened as ``found`` is (``make``): a
        # 3000-deep input expression made a line of 6.6 KB
        message = _LONG_QUOTE.sub(lambda m: f"「{shorten(m[1])}」", message)
        return make(
            "E307",
            message,
            Location(self.source, None, where),
            found=found,
            expected=EXPECTED,
        )

    def refuse_model(self) -> None:
        self.result.refused.append(
            make(
                "E307",
                f"根元素「{dmn.local(self.root.tag)}」（命名空间 {self.ns or '无'}）"
                "不是 DMN 1.1-1.5 的 definitions，不支持",
                Location(self.source),
                expected="DMN 1.1 至 1.5 的模型文件",
            )
        )

    def other_elements(self) -> None:
        for el in self.root:
            kind = dmn.local(el.tag)
            if kind in OTHER_ELEMENTS:
                name = el.get("name") or el.get("namespace") or ""
                self.result.refused.append(
                    self.refusal(
                        el,
                        f"{OTHER_ELEMENTS[kind]}「{name}」（id {el.get('id')}）不支持"
                        "（只导入以决策表为逻辑的决策）",
                    )
                )

    # ------------------------------------------------------------ input data

    def input_data(self, el: ET.Element) -> None:
        name = el.get("name", "")
        variable = _child(el, "variable")
        declared = _jz_type(el)
        kind = (
            _Type(declared)
            if declared
            else self.types.ref(
                variable.get("typeRef") if variable is not None else None
            )
        )
        self.flatten(el, name, kind, _jz_level(el))

    def flatten(self, el: ET.Element, path: str, kind: _Type, level: Level) -> None:
        if kind.components is not None:
            for component, sub in kind.components.items():
                self.flatten(el, f"{path}.{component}", sub, level)
            return
        problem = kind.problem or ("是列表（collection）" if kind.element else None)
        if problem or kind.dtype is None:
            self.input_problems[path] = (el, problem or "的类型无法确定")
            if not self.partial:
                self.result.refused.append(
                    self.refusal(
                        el, f"输入数据「{path}」（id {el.get('id')}）{problem}，不支持"
                    )
                )
            return
        wanted = (
            _jz(el, "id")
            if _jz(el, "id") and dmn.is_identifier(_jz(el, "id") or "")
            else None
        )
        default = _jz(el, "default") or ""
        wrong = _default_problem(default, kind.dtype) if default else None
        if wrong is not None:
            self.wrong_default(el, path, wrong)
            return
        ident = self.names.take(wanted or identifier(path, "input"))
        label = el.get("label") or (path if path != ident else "")
        row = FieldOut(ident, path, label, kind.dtype, level, default=default)
        self.paths[path] = row
        self.result.fields.append(row)

    def wrong_default(self, el: ET.Element, path: str, wrong: ParseProblem) -> None:
        """A field default the 字段 sheet would refuse (99999999999999999999999 for a
        number, 30 decimals), said at the input data with the code the sheet gives."""
        reason = f"的默认值（jz:default）{wrong.message}"
        self.input_problems[path] = (el, reason)
        if self.partial:
            return
        self.result.refused.append(
            make(
                wrong.code,
                f"输入数据「{path}」（id {el.get('id')}）{reason}",
                Location(self.source, None, el.get("id")),
                found=wrong.found,
                expected=wrong.expected,
                hint="改正模型中该输入数据的 jz:default 属性，或删除它",
            )
        )

    # ------------------------------------------------------------ signatures

    def signature(self, el: ET.Element) -> None:
        name = el.get("name", "")
        logic = [
            c
            for c in el
            if dmn.local(c.tag) in EXPRESSIONS or dmn.local(c.tag) == "decisionTable"
        ]
        if not logic:
            self.refuse_decision(el, "没有决策逻辑")
            return
        kind = dmn.local(logic[0].tag)
        if kind != "decisionTable":
            self.refuse_decision(
                el, f"的决策逻辑是{EXPRESSIONS[kind]}（只能导入决策表）"
            )
            return
        table = logic[0]
        try:
            policy = self.policy(table)
            ident = self.names.take(self.decision_ident(el))
            outputs = self.outputs(el, table, ident, policy)
        except Unsupported as problem:
            self.refuse_decision(el, problem.reason)
            return
        self.signatures[name] = _Signature(el, table, ident, policy, outputs)

    def refuse_decision(
        self, el: ET.Element, reason: str, found: str | None = None
    ) -> None:
        name = el.get("name", "")
        diagnostic = self.refusal(
            el, f"决策「{name}」（id {el.get('id')}）{reason}，不支持", found
        )
        self.refused.setdefault(name, []).append(diagnostic)

    def decision_ident(self, el: ET.Element) -> str:
        wanted = _jz(el, "id")
        if wanted and dmn.is_identifier(wanted):
            return wanted
        return identifier(el.get("name", ""), "decision")

    def policy(self, table: ET.Element) -> str:
        policy = (table.get("hitPolicy") or "UNIQUE").upper()
        aggregation = table.get("aggregation")
        if policy not in POLICIES:
            raise Unsupported(f"的命中策略「{policy}」")
        if aggregation:
            if policy != "COLLECT" or aggregation.upper() not in AGGREGATIONS:
                raise Unsupported(f"的汇总方式「{policy} {aggregation}」")
            return f"COLLECT {aggregation.upper()}"
        return policy

    def outputs(
        self, el: ET.Element, table: ET.Element, ident: str, policy: str
    ) -> list[OutputOut]:
        clauses = _children(table, "output")
        if not clauses:
            raise Unsupported("的决策表没有输出")
        if len(clauses) > 1 and policy.startswith("COLLECT "):
            raise Unsupported("有多个输出却使用汇总（C+、C<、C>、C#）")
        variable = _child(el, "variable")
        declared = self.types.ref(
            table.get("typeRef")
            or (variable.get("typeRef") if variable is not None else None)
        )
        if declared.element is not None and policy not in SINGLE_HIT:
            declared = declared.element
        found = []
        for k, clause in enumerate(clauses):
            found.append(
                self.output(clause, k, len(clauses), ident, policy, declared, table)
            )
        ordered = policy in ("PRIORITY", "OUTPUT ORDER")
        if ordered and not any(o.dtype.kind is Kind.ENUM for o in found):
            raise Unsupported(f"使用 {policy} 却没有列出输出值（无法确定优先顺序）")
        return found

    def output(
        self, clause: ET.Element, k: int, count: int, table_ident: str, policy: str,
        declared: _Type, table: ET.Element,
    ) -> OutputOut:  # fmt: skip
        name = clause.get("name")
        if count > 1 and not name:
            raise Unsupported(f"的第 {k + 1} 个输出没有名称")
        wanted = _jz(clause, "id")
        if wanted and dmn.is_identifier(wanted):
            ident = self.names.take(wanted)
        elif count == 1:
            ident = table_ident
        else:
            ident = self.names.take(
                f"{table_ident}.{identifier(name or '', f'out{k + 1}')}"
            )
        dtype = self.output_type(clause, k, count, policy, declared, table)
        default = _child_text(clause, "defaultOutputEntry")
        default_text = ""
        if default is not None and default.strip():
            value = dmn.parse_literal(default)
            default_text = _literal_cell(value, dtype)
        return OutputOut(ident, name if count > 1 else None, dtype, default_text)

    def output_type(
        self, clause: ET.Element, k: int, count: int, policy: str, declared: _Type,
        table: ET.Element,
    ) -> DType:  # fmt: skip
        jz_type = _jz_type(clause)
        if jz_type is not None:
            return jz_type
        values_text = _child_text(clause, "outputValues")
        ordered = policy in ("PRIORITY", "OUTPUT ORDER")
        if values_text is not None and values_text.strip():
            values = dmn.parse_values(values_text)
            enum = dmn.enum_type(values) if values is not None else None
            if enum is not None:
                return enum
            raise Unsupported(
                f"的输出值列表「{values_text}」（只支持互不相同的字符串，"
                "不含括号、逗号、分号、竖线、全角字符和首尾空格）"
            )
        if ordered and count == 1:
            raise Unsupported(f"使用 {policy} 却没有列出输出值（无法确定优先顺序）")
        kind = self.types.ref(clause.get("typeRef")) if clause.get("typeRef") else None
        if kind is None and count == 1:
            kind = declared
        elif kind is None and declared.components is not None:
            kind = declared.components.get(clause.get("name", ""))
        if kind is not None and kind.dtype is not None:
            return kind.dtype
        inferred = _infer(table, k)
        if inferred is None:
            reason = (
                kind.problem if kind is not None and kind.problem else "的类型无法确定"
            )
            raise Unsupported(f"的第 {k + 1} 个输出{reason}")
        return inferred

    def known_names(self) -> set[str]:
        names = set(self.paths) | set(self.input_problems) | set(self.decisions)
        for name, sig in self.signatures.items():
            names |= {f"{name}.{o.name}" for o in sig.outputs if o.name}
        return names

    # ------------------------------------------------------------ tables

    def tables(self) -> None:
        converted: dict[str, tuple[TableOut, set[str]]] = {}
        while True:
            for name, sig in self.signatures.items():
                if name not in self.refused and name not in converted:
                    self.convert(name, sig, converted)
            # A table converted before a decision it uses was refused: refused too, or
            # (partial) converted again with that decision as a stub input.
            stale = {
                n: sorted(u & set(self.refused)) for n, (_, u) in converted.items()
            }
            stale = {n: bad for n, bad in stale.items() if bad}
            if not stale:
                break
            for name, bad in stale.items():
                del converted[name]
                if not self.partial:
                    self.refuse_decision(
                        self.signatures[name].el, f"依赖的决策「{'」「'.join(bad)}」"
                    )
        for name, reasons in self.refused.items():
            self.result.refused.extend(reasons)
        for name in self.decisions:
            if name in converted:
                self.result.tables.append(converted[name][0])

    def convert(
        self, name: str, sig: _Signature, done: dict[str, tuple[TableOut, set[str]]]
    ) -> None:
        el, table = sig.el, sig.table
        uses: set[str] = set()
        resolve = self.resolver(name, uses)
        annotations = _children(table, "annotation")
        out = TableOut(
            sig.ident,
            el.get("label") or name,
            name,
            sig.policy,
            _jz_level(el),
            [],
            sig.outputs,
            annotation_header=(annotations[0].get("name") if annotations else None)
            or "注释",
        )
        problems = []
        for k, clause in enumerate(_children(table, "input")):
            try:
                out.inputs.append(self.input_column(clause, resolve))
            except Unsupported as problem:
                text = _child_text(clause, "inputExpression")
                problems.append(
                    (f"的第 {k + 1} 个输入表达式：{problem.reason}", text, clause)
                )
        if not problems:
            taken: set[str] = set()  # the ids of out.rules, looked up in constant time
            for n, rule in enumerate(_children(table, "rule")):
                problems += self.rule(out, rule, n, resolve, taken)
        for reason, found, where in problems:
            self.refused.setdefault(name, []).append(
                self.refusal(
                    where, f"决策「{name}」（id {el.get('id')}）{reason}，不支持", found
                )
            )
        if not problems:
            done[name] = (out, uses)

    def resolver(self, owner: str, uses: set[str]):  # type: ignore[no-untyped-def]
        def resolve(name: str) -> Resolved:
            if name in self.paths:
                return Resolved(self.paths[name].ident, self.paths[name].dtype)
            if name in self.input_problems:
                _, problem = self.input_problems[name]
                raise Unsupported(f"输入数据「{name}」{problem}")
            head, _, tail = name.rpartition(".")
            if head in self.signatures and tail and name not in self.decisions:
                return self.component(head, tail, uses)
            if name == owner:
                raise Unsupported("引用了本决策自身")
            if name in self.refused or name not in self.signatures:
                return self.stub(name)
            uses.add(name)
            sig = self.signatures[name]
            if len(sig.outputs) > 1:
                raise Unsupported(f"决策「{name}」的结果是上下文（多个输出）")
            output = sig.outputs[0]
            if sig.policy not in SINGLE_HIT and not sig.policy.startswith("COLLECT "):
                return Resolved(output.ident, DType(Kind.LIST))
            if sig.policy.endswith("COUNT"):
                return Resolved(output.ident, DType(Kind.INTEGER))
            return Resolved(output.ident, output.dtype)

        return resolve

    def component(self, decision: str, name: str, uses: set[str]) -> Resolved:
        uses.add(decision)
        sig = self.signatures[decision]
        output = next((o for o in sig.outputs if o.name == name), None)
        if output is None:
            raise Unsupported(f"决策「{decision}」没有名为「{name}」的输出")
        if sig.policy not in SINGLE_HIT:
            raise Unsupported(f"决策「{decision}」的结果是列表")
        return Resolved(output.ident, output.dtype)

    def stub(self, name: str) -> Resolved:
        """A refused decision as an input (partial imports only)."""
        if not self.partial or name not in self.decisions:
            raise Unsupported(f"依赖的决策「{name}」（不能导入）")
        if name not in self.result.stubs:
            el = self.decisions[name]
            variable = _child(el, "variable")
            kind = self.types.ref(
                variable.get("typeRef") if variable is not None else None
            )
            if kind.dtype is None:
                raise Unsupported(
                    f"依赖的决策「{name}」（不能导入，且其类型无法作为输入）"
                )
            ident = self.names.take(identifier(name, "decision"))
            note = "一致性检查：不支持的决策作为输入"
            self.result.fields.append(
                FieldOut(ident, name, name, kind.dtype, note=note)
            )
            self.paths[name] = self.result.fields[-1]
            self.result.stubs[name] = ident
        field_row = self.paths[name]
        return Resolved(field_row.ident, field_row.dtype)

    def input_column(self, clause: ET.Element, resolve) -> tuple[str, DType]:  # type: ignore[no-untyped-def]
        text = (_child_text(clause, "inputExpression") or "").strip()
        resolved = dmn.parse_name(text, resolve, self.known)
        if resolved.dtype.kind is Kind.LIST:
            raise Unsupported(f"「{text}」是列表（FEEL 列表语义）")
        dtype = resolved.dtype
        values = dmn.parse_values(_child_text(clause, "inputValues") or "")
        if dtype.kind is Kind.TEXT and values:
            dtype = dmn.enum_type(values) or dtype
        return resolved.ident, dtype

    def rule(self, out: TableOut, rule: ET.Element, n: int, resolve, taken: set[str]) -> list:  # type: ignore[no-untyped-def]
        ident = _jz(rule, "id") or rule.get("id") or f"R{n + 1}"
        entries = _children(rule, "inputEntry")
        outputs = _children(rule, "outputEntry")
        where = f"规则 {ident}"
        if ident in taken:  # the workbook would be E206 later
            return [(f"{where} 的 id 与同一决策表中前面的规则重复", ident, rule)]
        if len(entries) != len(out.inputs) or len(outputs) != len(out.outputs):
            return [(f"{where} 的条目个数与表头不符", None, rule)]
        problems, cells, values = [], [], []
        for k, (entry, (_, dtype)) in enumerate(zip(entries, out.inputs)):
            text = _child_text(entry, "text") or ""
            try:
                test = dmn.parse_tests(text, dtype, resolve, self.known)
                _shallow(test)
                cells.append(_test_cell(test))
            except Unsupported as problem:
                problems.append(
                    (f"{where} 第 {k + 1} 个输入条目：{problem.reason}", text, entry)
                )
        for k, (entry, column) in enumerate(zip(outputs, out.outputs)):
            text = _child_text(entry, "text") or ""
            try:
                values.append(self.output_cell(text, column, out.policy, resolve))
            except Unsupported as problem:
                problems.append(
                    (f"{where} 第 {k + 1} 个输出条目：{problem.reason}", text, entry)
                )
        annotation = (
            "; ".join(
                (_child_text(a, "text") or "").strip()
                for a in _children(rule, "annotationEntry")
            ).strip("; ")
            or (_child_text(rule, "description") or "").strip()
        )
        if not problems:
            out.rules.append(RuleOut(ident, cells, values, annotation))
            taken.add(ident)
        return problems

    def output_cell(self, text: str, column: OutputOut, policy: str, resolve) -> str:  # type: ignore[no-untyped-def]
        expr, dtype = dmn.parse_output(text, resolve, self.known)
        _shallow(expr)
        if dtype is not None and dmn._family(dtype) != dmn._family(column.dtype):
            raise Unsupported(f"输出类型与列类型「{column.dtype.render()}」不符")
        if column.dtype.kind is Kind.ENUM:
            dmn.check_enum_output(expr, dtype, column.dtype, policy)
        return _expr_cell(expr)


# ---------------------------------------------------------------- cells


def _infer(table: ET.Element, k: int) -> DType | None:
    """An output's type from its entries when the model declares none."""
    kinds = set()
    for rule in _children(table, "rule"):
        outputs = _children(rule, "outputEntry")
        if k >= len(outputs):
            return None
        try:
            value = dmn.parse_literal(_child_text(outputs[k], "text") or "")
        except Unsupported:
            return None
        if value is not None:
            kinds.add(type(value).__name__)
    names = {
        "str": Kind.TEXT,
        "Decimal": Kind.NUMBER,
        "bool": Kind.BOOLEAN,
        "date": Kind.DATE,
    }
    return DType(names[kinds.pop()]) if len(kinds) == 1 else None


def _shallow(tree: Expr | Test) -> None:
    """Unsupported when the tree is deeper than a cell may be: a sum of 5000 terms
    parses by a loop, but each term is a level of the tree later passes walk
    recursively (and the workbook's reader would refuse the cell, E301)."""
    levels = depth(tree)
    if levels > MAX_DEPTH:
        raise Unsupported(
            f"表达式过长：运算层层相套共 {levels} 层（连加、连乘每多一项就深一层），"
            f"超过上限 {MAX_DEPTH} 层"
        )


def _default_problem(text: str, dtype: DType) -> ParseProblem | None:
    """Why a field's default does not read as its type (as the 字段 sheet reads it),
    or None."""
    reader = VALUE_READERS.get(dtype.kind)
    if reader is None:
        if dtype.kind is Kind.ENUM and text not in dtype.values:
            expected = "、".join(dtype.values)
            return ParseProblem("E107", "取值不在枚举范围内", text, expected, "")
        return None
    try:
        reader(text)
    except ParseProblem as problem:
        return problem
    return None


def _text(value: str) -> str:
    """A string literal as the reader will give it back, or Unsupported."""
    if any(ord(c) < 32 for c in value):
        raise Unsupported("字符串含有换行或控制字符")
    quote = '"' if '"' not in value else "'"
    if quote in value:
        raise Unsupported("字符串同时含有单引号和双引号")
    return quote + value + quote


def _expr_text(expr: Expr) -> str:
    if isinstance(expr, Literal) and isinstance(expr.value, str):
        return _text(expr.value)
    if isinstance(expr, Literal) and expr.value is None:
        return "null"
    return render(expr)


def _expr_cell(expr: Expr) -> str:
    return _folded(_expr_text(expr))


def _test_text(test: Test) -> str:
    match test:
        case Disjunction(tests):
            return ", ".join(_test_text(t) for t in tests)
        case Compare("=", operand):
            return _expr_text(operand)
        case Compare(op, operand):
            return f"{op} {_expr_text(operand)}"
    from compiler.expr import Interval, Negation

    if isinstance(test, Interval):
        left, right = "[" if test.low_closed else "(", "]" if test.high_closed else ")"
        return f"{left}{_expr_text(test.low)}..{_expr_text(test.high)}{right}"
    if isinstance(test, Negation):
        return f"not({_test_text(test.tests)})"
    return render(test)


def _test_cell(test: Test) -> str:
    return _folded(_test_text(test))


def _folded(text: str) -> str:
    """The cell as written, or Unsupported when the reader would rewrite it: a string
    literal's full-width characters, tabs, line breaks and runs of spaces are folded
    (docs/table-format.md section 4), so the table would compare or give other text."""
    if fold_text(text) == text:
        return text
    if any(0xFF01 <= ord(c) <= 0xFF5E for c in text):
        raise dmn.full_width(text, in_string=True)
    raise Unsupported("字符串含制表符、换行、连续空格或首尾空格，写入工作簿后会被改写")


def _literal_cell(value: object, dtype: DType) -> str:
    expr = Literal(value)  # type: ignore[arg-type]
    if value is not None and isinstance(value, str) != (
        dtype.kind in (Kind.TEXT, Kind.ENUM)
    ):
        raise Unsupported("默认输出的类型与列类型不符")
    if dtype.kind is Kind.ENUM and value is not None and value not in dtype.values:
        raise Unsupported(f"默认输出「{value}」不在输出值列表中")
    return _expr_cell(expr)


# ---------------------------------------------------------------- the workbook


def sheets(imported: Imported) -> dict[str, list[list[str]]]:
    """The workbook as rows of text, sheet by sheet (字段 first)."""
    found: dict[str, list[list[str]]] = {
        "字段": [["标识", "名称", "层级", "类型", "默认", "说明"]]
        + [
            [f.ident, f.label, LEVEL_CN[f.level], f.dtype.render(), f.default, f.note]
            for f in imported.fields
        ]
    }
    taken = {name.casefold() for name in RESERVED_SHEETS}
    for table in imported.tables:
        name = table.ident[:31]
        while name.casefold() in taken:
            name = name[:28] + f"_{len(taken) % 100}"
        taken.add(name.casefold())
        found[name] = _table_rows(table)
    return found


def _table_rows(table: TableOut) -> list[list[str]]:
    title = [table.ident, table.title, table.policy]
    if table.level is not Level.HOUSEHOLD:
        title.append(f"层级={LEVEL_CN[table.level]}")
    inputs, outputs = table.inputs, table.outputs
    rows = [
        title,
        ["规则", *["输入"] * len(inputs), *["输出"] * len(outputs), "注释"],
        [
            "名称",
            *[text for text, _ in inputs],
            *[o.ident for o in outputs],
            table.annotation_header,
        ],
        [
            "类型",
            *[d.render() for _, d in inputs],
            *[o.dtype.render() for o in outputs],
            "",
        ],
    ]
    if any(o.default for o in outputs):
        rows.append(["默认", *[""] * len(inputs), *[o.default for o in outputs], ""])
    for rule in table.rules:
        rows.append([rule.ident, *rule.tests, *rule.outputs, rule.annotation])
    return rows


def _refuse_unwritable(content: dict[str, list[list[str]]], out: Path) -> None:
    """E012 for a text longer than an Excel cell holds (openpyxl cut it to 32,767
    characters, unsaid) and E011 for one with control characters (a model whose
    declared encoding is wrong reads as such): the workbook would be refused when read."""
    from openpyxl.utils import get_column_letter

    found = []
    for name, rows in content.items():
        for r, row in enumerate(rows, start=1):
            for c, text in enumerate(row, start=1):
                where = Location(str(out), name, f"{get_column_letter(c)}{r}")
                if CONTROL_CHARACTERS.search(text) or REORDERING.search(text):
                    found.append(control_characters(text, where))
                if len(text) > EXCEL_CELL_LIMIT // 2 and excel_length(text) > EXCEL_CELL_LIMIT:
                    found.append(too_long(text, where))
    if found:
        raise InputError(found)


def write_workbook(imported: Imported, out: str | Path, replace: bool = False) -> Path:
    """Write the workbook as ``out`` (.xlsx) or as a folder of .csv files. Without
    ``replace`` an existing workbook, or a CSV file of the same name in the folder, is
    refused (E605) and nothing is written: ``--out tables/province`` would otherwise
    replace the province's 字段 with the model's."""
    out = Path(out)
    content = sheets(imported)
    _refuse_unwritable(content, out)
    targets = [out] if out.suffix.lower() == ".xlsx" else [out / f"{name}.csv" for name in content]
    existing = [p for p in targets if p.exists()]
    if existing and not replace:
        shown = "、".join(p.name for p in existing[:5]) + ("等" if len(existing) > 5 else "")
        raise InputError(
            make("E605", f"导入的结果会覆盖已有的文件，未写入：{out}", Location(str(out)),
                 found=shown, expected="新的工作簿文件名或空文件夹",
                 hint="确需覆盖时加 --replace；县级工作簿请另存后对比再替换")
        )
    if out.suffix.lower() == ".xlsx":
        import openpyxl

        book = openpyxl.Workbook()
        book.remove(book.active)
        for name, rows in content.items():
            sheet = book.create_sheet(name)
            for r, row in enumerate(rows, start=1):
                for c, text in enumerate(row, start=1):
                    if text != "":
                        cell = sheet.cell(r, c, text)
                        cell.data_type = "s"  # never a formula, even for "=..."
        out.parent.mkdir(parents=True, exist_ok=True)
        book.save(out)
        return out
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in content.items():
        with open(out / f"{name}.csv", "w", encoding="utf-8-sig", newline="") as handle:
            csv.writer(handle).writerows(rows)
    return out


__all__ = ["Imported", "TableOut", "import_dmn", "read_dmn", "sheets", "write_workbook"]
