"""The DMN conformance runner: TCK cases through the importer and both evaluators.

For each case folder (a ``.dmn`` model and its ``*-test-01.xml`` cases) ``run_case``
imports the model into a workbook exactly as ``jiuzhu import-dmn`` would, loads it
through the ordinary passes (a minimal tables root: the workbook as the province, one
empty county), and evaluates every expected result with the reference interpreter and
with the compiled SQL on DuckDB, comparing both with the TCK's value (numbers as exact
Decimals, lists in order, contexts by component, null).

A case under a folder named ``reject`` passes when the strict import refuses it with
E307 diagnostics that each name an element. Any other case passes when at least one
expected result could be checked and every checked result matches with both
evaluators; results of decisions that are not decision tables are skipped, each with
its reason. A table that needs a refused decision is checked with that decision's value
taken from the TCK's own expected results for the same inputs (see docs/dmn.md).
"""

from __future__ import annotations

import logging
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from compiler import dmn
from compiler.bind import Plan
from compiler.calendar import WorkCalendar
from compiler.diagnostics import Diagnostic, Report, render_text
from compiler.dmn_import import Imported, TableOut, import_dmn, write_workbook
from compiler.errors import InputError, JiuzhuError
from compiler.expr import names_in
from compiler.interpret import Interpreter
from compiler.model import Kind

logger = logging.getLogger("compiler")

AS_OF = date(2025, 1, 1)  # the TCK tables use no dates of their own
COUNTY = "990001"
EVALUATORS = ("interpreter", "sql")


class Unrepresentable:
    """A TCK value the table format has no type for (a list, a time, a duration)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"<{self.reason}>"


@dataclass
class Expected:
    test: str
    decision: str
    value: object
    error: bool = False


@dataclass
class TestCase:
    ident: str
    inputs: dict[str, object]
    results: list[Expected]


@dataclass
class CaseResult:
    """The outcome of one case folder, with every reason a reader needs."""

    name: str
    expect_refusal: bool
    passed: bool = False
    checked: int = 0
    skipped: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    refusals: list[Diagnostic] = field(default_factory=list)

    def summary(self) -> str:
        if self.expect_refusal:
            verdict = "已拒绝" if self.passed else "未按要求拒绝"
            return f"{self.name}: {verdict}（{len(self.refusals)} 条 E307）"
        state = "通过" if self.passed else "失败"
        return (
            f"{self.name}: {state}，{self.checked} 个结果经两种求值核对，"
            f"{len(self.skipped)} 个跳过，{len(self.failures)} 个不符"
        )


# ---------------------------------------------------------------- the TCK files


def case_folders(root: str | Path) -> list[Path]:
    """Every folder under ``root`` holding a .dmn model, sorted by path."""
    return sorted({p.parent for p in Path(root).rglob("*.dmn")})


def read_tests(path: Path) -> list[TestCase]:
    """The test cases of a TCK ``-test-01.xml`` file."""
    root = dmn.parse_xml(path.read_bytes())
    found = []
    for case in _kids(root, "testCase"):
        ident = case.get("id", "")
        inputs = {n.get("name", ""): _value(n) for n in _kids(case, "inputNode")}
        results = []
        for node in _kids(case, "resultNode"):
            expected = next(_kids(node, "expected"), None)
            value = _value(expected) if expected is not None else None
            error = node.get("errorResult") == "true"
            results.append(Expected(ident, node.get("name", ""), value, error))
        found.append(TestCase(ident, inputs, results))
    return found


def _kids(el: ET.Element, name: str) -> Iterator[ET.Element]:
    return (c for c in el if dmn.local(c.tag) == name)


def _value(node: ET.Element) -> object:
    """A TCK valueType: a value, a list of items, or components (a context)."""
    value = next(_kids(node, "value"), None)
    if value is not None:
        return _scalar(value)
    listed = next(_kids(node, "list"), None)
    if listed is not None:
        return [_value(item) for item in _kids(listed, "item")]
    components = list(_kids(node, "component"))
    if components:
        return {c.get("name", ""): _value(c) for c in components}
    return None


def _scalar(el: ET.Element) -> object:
    if el.get(f"{{{dmn.XSI}}}nil") == "true":
        return None
    kind = (el.get(f"{{{dmn.XSI}}}type") or "xsd:string").split(":")[-1]
    text = el.text or ""
    if kind in ("decimal", "double", "float", "int", "integer", "long", "short"):
        try:
            return Decimal(text.strip())
        except InvalidOperation:
            return Unrepresentable(f"数值「{text}」")
    if kind == "boolean":
        return text.strip() == "true"
    if kind == "date":
        try:
            return date.fromisoformat(text.strip())
        except ValueError:
            return Unrepresentable(f"日期「{text}」")
    if kind == "string":
        return text
    return Unrepresentable(f"{kind} 类型的值")


# ---------------------------------------------------------------- one case


def run_case(folder: Path, expect_refusal: bool | None = None) -> CaseResult:
    """Import, evaluate and compare one TCK case folder."""
    if expect_refusal is None:
        expect_refusal = "reject" in folder.parts
    model = next(iter(sorted(folder.glob("*.dmn"))))
    result = CaseResult(folder.name, expect_refusal)
    if expect_refusal:
        return _check_refusal(model, result)
    try:
        imported = import_dmn(model, partial=True)
    except InputError as error:
        result.failures.append(
            f"模型无法读取：{render_text(error.diagnostics, limit=3)}"
        )
        return result
    result.refusals = imported.refused
    tests = [t for p in sorted(folder.glob("*test*.xml")) for t in read_tests(p)]
    if not imported.tables:
        result.failures.append(
            f"模型中没有可导入的决策表（{len(imported.refused)} 个元素不支持），无可核对的结果"
        )
        return result
    with tempfile.TemporaryDirectory(prefix="jz-dmn-") as temp:
        _Evaluation(imported, Path(temp), result).run(tests)
    result.passed = result.checked > 0 and not result.failures
    if result.checked == 0 and not result.failures:
        result.failures.append("没有可核对的结果")
    return result


def _check_refusal(model: Path, result: CaseResult) -> CaseResult:
    try:
        import_dmn(model)
    except InputError as error:
        result.refusals = error.diagnostics
        named = [
            d for d in error.diagnostics if d.code == "E307" and "不支持" in d.message
        ]
        result.passed = bool(named) and len(named) == len(error.diagnostics)
        if not result.passed:
            result.failures.append("拒绝的诊断不是 E307 或没有写明不支持的元素")
        return result
    result.failures.append("导入成功了，但该用例应被拒绝（需要完整的 FEEL）")
    return result


class _Evaluation:
    """One imported model, loaded once and evaluated for every test case."""

    def __init__(self, imported: Imported, temp: Path, result: CaseResult) -> None:
        self.imported = imported
        self.result = result
        self.plan = self.load(temp)
        self.fields = {f.path: f for f in imported.fields}

    def load(self, temp: Path) -> Plan | None:
        from compiler.engine import open_project

        write_workbook(self.imported, temp / "province")
        county = temp / "counties" / f"{COUNTY}-一致性"
        county.mkdir(parents=True)
        (county / "标准参数.csv").write_text(
            "标识,名称,值,生效日期\n", encoding="utf-8"
        )
        project = open_project(temp, [COUNTY], AS_OF, report=Report())
        if project.report.has_errors:
            self.result.failures.append(
                "导入的工作簿未通过检查：" + render_text(project.report.errors, limit=5)
            )
            return None
        return project.plan(COUNTY)

    def run(self, tests: list[TestCase]) -> None:
        if self.plan is None:
            return
        known = _known_results(tests)
        sql = _SqlRunner(self.plan, self.imported)
        interpreter = Interpreter(
            self.plan, AS_OF, WorkCalendar(self.plan.rulebook.calendar)
        )
        for case in tests:
            for expected in case.results:
                self.check(case, expected, known, interpreter, sql)

    def check(
        self, case: TestCase, expected: Expected, known: dict, interpreter, sql
    ) -> None:  # type: ignore[no-untyped-def]
        where = f"{case.ident}/{expected.decision}"
        table = self.imported.table_for(expected.decision)
        if table is None:
            self.result.skipped.append(f"{where}: 决策不是可导入的决策表")
            return
        values, missing = self.inputs(case, table, known)
        if missing:
            self.result.skipped.append(f"{where}: {missing}")
            return
        self.result.checked += 1
        for evaluator in EVALUATORS:
            try:
                if evaluator == "interpreter":
                    actual = _interpret(interpreter, values, table)
                else:
                    actual = sql.decide(values, table)
            except JiuzhuError as error:
                actual = Unrepresentable(
                    f"求值出错：{render_text(error.diagnostics, limit=1)}"
                )
            if not same(expected.value, actual):
                self.result.failures.append(
                    f"{where} [{evaluator}]: 期望 {expected.value!r}，实际 {actual!r}"
                )

    def inputs(self, case: TestCase, table: TableOut, known: dict) -> tuple[dict, str]:
        """The household's field values, or the reason the result cannot be checked."""
        flat = _flatten(case.inputs)
        stubs = known.get(_key(case.inputs), {})
        values: dict[str, object] = {}
        needed = _needs(self.plan, table.ident) if self.plan else set()
        for path, row in self.fields.items():
            value = stubs.get(path) if path in self.imported.stubs else flat.get(path)
            if (
                row.ident in needed
                and path in self.imported.stubs
                and path not in stubs
            ):
                return (
                    {},
                    f"依赖的决策「{path}」不能导入，测试文件也没有给出同样输入下它的结果",
                )
            problem = _fits(value, row.dtype.kind)
            if problem and row.ident in needed:
                return {}, f"输入「{path}」{problem}"
            values[row.ident] = None if problem else value
        return values, ""


def _known_results(tests: list[TestCase]) -> dict[tuple, dict[str, object]]:
    """Expected decision values by input set, used for stub decisions."""
    known: dict[tuple, dict[str, object]] = {}
    for case in tests:
        bucket = known.setdefault(_key(case.inputs), {})
        for expected in case.results:
            bucket.setdefault(expected.decision, expected.value)
    return known


def _key(inputs: dict[str, object]) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in _flatten(inputs).items()))


def _flatten(inputs: dict[str, object], prefix: str = "") -> dict[str, object]:
    flat: dict[str, object] = {}
    for name, value in inputs.items():
        path = f"{prefix}{name}"
        if isinstance(value, dict):
            flat.update(_flatten(value, path + "."))
        elif isinstance(value, list):
            flat[path] = Unrepresentable("列表")
        else:
            flat[path] = value
    return flat


def _fits(value: object, kind: Kind) -> str:
    """Why a TCK value cannot be a field of this kind ('' when it can)."""
    if value is None:
        return ""
    if isinstance(value, Unrepresentable):
        return f"是{value.reason}，表格格式没有对应类型"
    wanted = {
        Kind.NUMBER: Decimal, Kind.TEXT: str, Kind.ENUM: str,
        Kind.BOOLEAN: bool, Kind.DATE: date,
    }.get(kind)  # fmt: skip
    if wanted is None or not isinstance(value, wanted):
        return f"的值 {value!r} 与类型 {kind} 不符"
    if isinstance(value, Decimal) and (
        -value.as_tuple().exponent > dmn.NUMBER_PLACES  # type: ignore[operator]
    ):
        return f"的值 {value} 超过 {dmn.NUMBER_PLACES} 位小数"
    return ""


def _needs(plan: Plan | None, table_id: str) -> set[str]:
    """The fields a table reads, through the tables it chains to."""
    if plan is None:
        return set()
    seen, fields, pending = set(), set(), [table_id]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        table = plan.tables[current]
        nodes: list = [c.expr for c in table.inputs] + [
            c.default for c in table.outputs
        ]
        nodes += [n for rule in table.rules for n in (*rule.tests, *rule.outputs)]
        for node in nodes:
            for name in names_in(node) if node is not None else []:
                item = plan.items.get(name)
                if item and item.kind == "field":
                    fields.add(name)
                elif item and item.kind == "output":
                    pending.append(item.owner)
    return fields


# ---------------------------------------------------------------- evaluators


def decision_value(
    table: TableOut, get: Callable[[str], object], matched: bool
) -> object:
    """The DMN result of a table from its output columns: a value, a context (several
    outputs), or a list of either (multiple hits)."""
    outputs = table.outputs
    if table.single_hit or table.policy.startswith("COLLECT "):
        if len(outputs) == 1:
            return get(outputs[0].ident)
        if not matched and not any(o.default for o in outputs):
            return None
        return {o.name: get(o.ident) for o in outputs}
    columns = [list(get(o.ident) or []) for o in outputs]  # type: ignore[call-overload]
    if len(outputs) == 1:
        return columns[0]
    return [{o.name: row[k] for k, o in enumerate(outputs)} for row in zip(*columns)]


def _interpret(interpreter: Interpreter, values: dict, table: TableOut) -> object:
    household = {"household_id": "t", "county_code": COUNTY, **values}
    evaluation = interpreter.evaluate(household, [], [])
    matched = any(e.rules for e in evaluation.trace if e.table == table.ident)
    return decision_value(table, evaluation.household.get, matched)


class _SqlRunner:
    """The compiled SQL for one plan on an in-memory DuckDB, one household per call."""

    def __init__(self, plan: Plan, imported: Imported) -> None:
        from compiler.engine import connect, install_standards
        from compiler.sqlgen import SQL_TYPES

        self.plan = plan
        self.con = connect()
        install_standards(self.con, {COUNTY: plan}, AS_OF)
        self.columns = {
            f.id: SQL_TYPES[f.dtype.kind] for f in plan.rulebook.fields.values()
        }
        self.sql, self.rule_columns = _decisions_sql(plan)
        for name, extra in (
            ("jz_members", "_member_index"),
            ("jz_events", "_event_index"),
        ):
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {name} (household_id VARCHAR,"
                f" person_id VARCHAR, {extra} INTEGER)"
            )

    def decide(self, values: dict, table: TableOut) -> object:
        import duckdb

        from compiler.engine import contract_error
        from compiler.sqlgen import quote

        names = ", ".join(f"{quote(k)} {t}" for k, t in self.columns.items())
        self.con.execute(
            "CREATE OR REPLACE TEMP TABLE jz_households (household_id VARCHAR,"
            f" county_code VARCHAR, _hh_index INTEGER{', ' + names if names else ''})"
        )
        params = ["t", COUNTY, 0, *[values.get(k) for k in self.columns]]
        marks = ", ".join("?" for _ in params)
        self.con.execute(f"INSERT INTO jz_households VALUES ({marks})", params)
        try:
            cursor = self.con.execute(self.sql)
        except duckdb.Error as error:
            found = contract_error(error)
            if found is not None:
                raise found from None
            raise
        row = cursor.fetchone()
        described = [d[0] for d in cursor.description]
        record = dict(zip(described, row or ()))
        matched = record.get(self.rule_columns[table.ident]) not in (None, [])
        return decision_value(table, record.get, matched)


def _decisions_sql(plan: Plan) -> tuple[str, dict[str, str]]:
    """A script whose last query returns every table output (and rule column): the
    runner needs the imported tables' own outputs, not the decision contract's."""
    from compiler.sqlgen import compile_plan
    from compiler.sqlgen_decisions import Decisions

    rules = {t.id: Decisions.rule_column(t) for t in plan.tables.values()}
    return compile_plan(plan, outputs="tables").sql, rules


# ---------------------------------------------------------------- comparing


def same(expected: object, actual: object) -> bool:
    """TCK equality: numbers by exact value, lists in order, contexts by component."""
    if isinstance(expected, Unrepresentable) or isinstance(actual, Unrepresentable):
        return False
    if expected is None or actual is None:
        return expected is None and actual is None
    if isinstance(expected, bool) or isinstance(actual, bool):
        return (
            isinstance(expected, bool)
            and isinstance(actual, bool)
            and expected == actual
        )
    if isinstance(expected, Decimal):
        return isinstance(actual, Decimal | int) and expected == Decimal(actual)
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(same(e, a) for e, a in zip(expected, actual))
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and set(expected) == set(actual)
            and all(same(expected[k], actual[k]) for k in expected)
        )
    return type(expected) is type(actual) and expected == actual


# ---------------------------------------------------------------- a whole folder


@dataclass
class Summary:
    cases: list[CaseResult]

    @property
    def passed(self) -> list[CaseResult]:
        return [c for c in self.cases if c.passed]

    @property
    def failed(self) -> list[CaseResult]:
        return [c for c in self.cases if not c.passed]

    def line(self) -> str:
        return f"{len(self.passed)} passed, {len(self.failed)} failed"


def run_all(root: str | Path) -> Summary:
    """Run every case folder under ``root``."""
    cases = []
    for folder in case_folders(root):
        outcome = run_case(folder)
        logger.info("%s", outcome.summary())
        cases.append(outcome)
    return Summary(cases)


__all__ = ["CaseResult", "Summary", "read_tests", "run_all", "run_case", "same"]
