"""The province's 不变式 sheet: reading it, binding its names, checking each county.

``check_invariants(county)`` reads the invariants the province workbook declares,
resolves their names to the county's plan, and proves them or finds a counterexample
(compiler/invariant_proof.py); docs/analysis.md, section 5.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from compiler.cells import Cell, RawSheet
from compiler.county import County
from compiler.diagnostics import Location
from compiler.expr import (
    Binary,
    Call,
    Expr,
    If,
    Literal,
    Name,
    ParseError,
    Unary,
    names_in,
    parse_expression,
)
from compiler.findings import (
    CACHE,
    Finding,
    constants_key,
    finding,
    not_analysed,
    structure_key,
)
from compiler.invariant_model import model_of
from compiler.invariant_proof import Proof
from compiler.load import number_problem
from compiler.model import DType, Kind

INVARIANT_SHEETS = ("不变式", "invariants")
INVARIANT_COLUMNS = {
    "id": ("标识", "id"),
    "description": ("说明", "description"),
    "kind": ("种类", "kind"),
    "subject": ("对象", "subject"),
    "variable": ("变量", "variable"),
    "when": ("条件", "when"),
    "then": ("要求", "then", "requires"),
    "basis": ("依据", "basis"),
}
INVARIANT_KINDS = {
    "单调": "monotone",
    "monotone": "monotone",
    "要求": "requires",
    "蕴含": "requires",
    "requires": "requires",
}


@dataclass(frozen=True)
class Invariant:
    """One row of the province's 不变式 sheet, parsed (names not yet resolved)."""

    id: str
    description: str
    kind: str
    subject: Expr | None
    variable: Expr | None
    when: Expr | None
    then: Expr | None
    basis: str
    location: Location
    texts: tuple[tuple[str, str], ...]
    cells: tuple[tuple[str, Location], ...] = ()

    def text(self, key: str) -> str:
        return dict(self.texts).get(key, "")

    def at(self, *keys: str) -> Location:
        """The cell of the first of ``keys`` that holds text (of the first of them when
        none does), or the row's first cell when the sheet has none of those columns."""
        places = dict(self.cells)
        present = [k for k in keys if k in places]
        written = [k for k in present if self.text(k)]
        chosen = (written or present)[:1]
        return places[chosen[0]] if chosen else self.location


_SHEETS: dict[
    tuple[str, tuple[object, ...]], tuple[list[Invariant], list[Finding]]
] = {}


def declared_invariants(path: str) -> tuple[list[Invariant], list[Finding]]:
    """The invariants a province workbook declares, and the problems in its sheet."""
    from compiler.read import read_workbook

    source = Path(path)
    if not source.exists():
        return [], []
    key = (str(source), _stamp(source))
    if key not in _SHEETS:
        raw, _ = read_workbook(
            source
        )  # the model pass has reported the file's problems
        sheet = raw.sheet(*INVARIANT_SHEETS)
        _SHEETS[key] = _parse_sheet(sheet) if sheet is not None else ([], [])
    return _SHEETS[key]


def _stamp(source: Path) -> tuple[object, ...]:
    files = sorted(source.glob("*.csv")) if source.is_dir() else [source]
    return tuple((f.name, f.stat().st_mtime_ns, f.stat().st_size) for f in files)


def _parse_sheet(sheet: RawSheet) -> tuple[list[Invariant], list[Finding]]:
    columns: dict[str, int] = {}
    for col in range(1, sheet.max_col + 1):
        text = sheet.text(1, col).strip().lower()
        for key, names in INVARIANT_COLUMNS.items():
            if text in names and key not in columns:
                columns[key] = col
    problems: list[Finding] = []
    found: list[Invariant] = []
    for row in range(2, sheet.max_row + 1):
        cells = {k: sheet.get(row, c) for k, c in columns.items()}
        if all(cell is None for cell in cells.values()):
            continue
        places = {k: sheet.location(row, c) for k, c in columns.items()}
        invariant = _parse_row(sheet, row, cells, places, problems)
        if invariant is None:
            continue
        twin = next((i for i in found if i.id == invariant.id), None)
        if twin is not None:  # a row pasted twice: which one is meant?
            problems.append(
                finding(
                    "E207",
                    f"不变式「{invariant.id}」重复定义",
                    invariant.at("id"),
                    found=invariant.id,
                    expected="每个不变式的标识只出现一次",
                    hint=f"另一处在 {twin.at('id').render()}；删除多余的一行或改用新的标识",
                )
            )
            continue
        found.append(invariant)
    return found, problems


def _parse_row(
    sheet: RawSheet,
    row: int,
    cells: dict[str, Cell | None],
    places: dict[str, Location],
    problems: list[Finding],
) -> Invariant | None:
    texts = {k: c.text.strip() for k, c in cells.items() if c is not None}
    kind = INVARIANT_KINDS.get(texts.get("kind", "").lower())
    where = sheet.location(row, 1)
    if kind is None:
        problems.append(
            finding(
                "E306",
                f"不变式「{texts.get('id', row)}」的种类无法识别",
                places.get("kind", where),
                found=texts.get("kind", "（空）"),
                expected="单调 或 要求（monotone、requires）",
                hint="见 docs/analysis.md 的“不变式”一节",
            )
        )
        return None
    parsed: dict[str, Expr | None] = {}
    for key in ("subject", "variable", "when", "then"):
        cell = cells.get(key)
        if cell is None or not texts.get(key):
            parsed[key] = None
            continue
        try:
            tree = parsed[key] = parse_expression(texts[key])
        except ParseError as error:
            problems.append(
                finding(
                    "E301",
                    f"不变式的表达式无法识别：{error.message}",
                    cell.location,
                    found=texts[key],
                    expected="表达式，例如 group = dibao",
                )
            )
            return None
        # a number no type holds (10¹⁸ and more, 30 decimals) was compared silently,
        # rounded to 28 digits; said at the cell as in a rule cell (helper-72)
        problem = number_problem(tree, "any")
        if problem is not None:
            problems.append(
                finding(
                    problem.code,
                    problem.message,
                    cell.location,
                    found=problem.found,
                    expected=problem.expected,
                    hint=problem.hint,
                )
            )
            return None
    needed = ("subject", "variable") if kind == "monotone" else ("then",)
    absent = [k for k in needed if parsed[k] is None]
    if absent and absent[0] not in places:  # the sheet has no such column at all
        message = f"不变式表缺少「{INVARIANT_COLUMNS[absent[0]][0]}」列"
        if not any(f.message == message for f in problems):
            problems.append(
                finding(
                    "E209",
                    message,
                    sheet.location(1, 1),
                    expected="表头：标识、说明、种类、对象、变量、条件、要求、依据",
                )
            )
        return None
    if absent:
        missing = [INVARIANT_COLUMNS[k][0] for k in absent]
        problems.append(
            finding(
                "E108",
                f"不变式「{texts.get('id', row)}」缺少{'、'.join(missing)}",
                places.get(absent[0], where),
                expected="单调：对象 与 变量；要求：要求（条件可空）",
            )
        )
        return None
    return Invariant(
        texts.get("id", f"R{row}"),
        _verbatim(cells.get("description")),
        kind,
        parsed["subject"],
        parsed["variable"],
        parsed["when"],
        parsed["then"],
        _verbatim(cells.get("basis")),
        where,
        tuple(texts.items()),
        tuple(places.items()),
    )


def _verbatim(cell: Cell | None) -> str:
    """Free text (说明, 依据) as the admin typed it: never folded."""
    return cell.verbatim if cell else ""


def check_invariants(county: County) -> list[Finding]:
    """The findings for every invariant the province declares, in this county."""
    sources = county.plan.rulebook.sources
    if not sources:
        return []
    invariants, problems = declared_invariants(sources[-1])
    found = list(problems)
    bindings = []
    for invariant in invariants:
        bound = Binding(county, invariant)
        found.extend(bound.problems)
        if not bound.problems:
            bindings.append(bound)
    if not bindings:
        return found
    structure = structure_key(county)
    names_key = ("invariant names", structure, tuple(b.invariant for b in bindings))
    names = CACHE.get(names_key)
    if names is None:
        model = model_of(county, bindings)
        names = CACHE[names_key] = model.constant_names()  # type: ignore[assignment]
    key = (*names_key, constants_key(county, names), county.as_of)  # type: ignore[arg-type]
    if key not in CACHE:
        try:
            CACHE[key] = Proof(county, bindings).run()
        except (TypeError, ArithmeticError) as error:  # ill-typed cells (see E303)
            CACHE[key] = [
                not_analysed(b.invariant.at("then", "subject"), f"不变式「{b.invariant.id}」", error)
                for b in bindings
            ]
    return found + CACHE[key]


class Binding:
    """An invariant's names resolved to the plan's identifiers (enum words to values)."""

    def __init__(self, county: County, invariant: Invariant) -> None:
        self.county = county
        self.invariant = invariant
        self.problems: list[Finding] = []
        items = county.plan.items
        self.aliases = {ident: ident for ident in items}
        for item in items.values():
            self.aliases.setdefault(item.name_cn, item.id)
        self.subject = self.expr(invariant.subject, "subject")
        self.variable_expr = self.expr(invariant.variable, "variable")
        self.when = self.expr(invariant.when, "when")
        self.then = self.expr(invariant.then, "then")
        self.variable = (
            self.variable_expr.name if isinstance(self.variable_expr, Name) else None
        )
        if invariant.kind == "monotone":
            self.check_monotone()
        else:
            self.check_requires()

    def roots(self) -> list[str]:
        nodes = [
            n for n in (self.subject, self.variable_expr, self.when, self.then) if n
        ]
        return list(dict.fromkeys(name for node in nodes for name in names_in(node)))

    def expr(self, node: Expr | None, key: str) -> Expr | None:
        if node is None:
            return None
        return self.resolve(node, None, key)

    def resolve(self, node: Expr, enum: DType | None, key: str) -> Expr:
        match node:
            case Name(name):
                if (
                    enum is not None
                    and name in enum.values
                    and name not in self.aliases
                ):
                    return Literal(name)
                ident = self.aliases.get(name)
                if ident is None:
                    self.problems.append(
                        finding(
                            "E302",
                            f"不变式「{self.invariant.id}」引用的名称「{name}」没有定义",
                            self.invariant.at(key),
                            found=name,
                            expected="字段、标准参数、派生值或决策表输出的标识或中文名称",
                        )
                    )
                    return Literal(None)
                return Name(ident)
            case Binary(op, left, right) if op in ("=", "!="):
                hint = self._enum(left) or self._enum(right)
                return Binary(
                    op, self.resolve(left, hint, key), self.resolve(right, hint, key)
                )
            case Binary(op, left, right):
                return Binary(
                    op, self.resolve(left, None, key), self.resolve(right, None, key)
                )
            case Unary(op, operand):
                return Unary(op, self.resolve(operand, None, key))
            case If(cond, then, otherwise):
                return If(
                    *(self.resolve(n, None, key) for n in (cond, then, otherwise))
                )
            case Call(func, args):
                return Call(func, tuple(self.resolve(a, None, key) for a in args))
        return node

    def _enum(self, node: Expr) -> DType | None:
        if isinstance(node, Name) and node.name in self.aliases:
            dtype = self.county.plan.items[self.aliases[node.name]].dtype
            return dtype if dtype.kind is Kind.ENUM else None
        return None

    def check_monotone(self) -> None:
        if self.problems:
            return
        subject = self.subject
        items = self.county.plan.items
        if self.when is not None or self.then is not None:
            self.problems.append(
                self._unsupported("单调不变式只写 对象 与 变量，条件、要求应留空", "when", "then")
            )
        elif not (
            isinstance(subject, Name) and items[subject.name].dtype.kind is Kind.ENUM
        ):
            self.problems.append(
                self._unsupported(
                    "单调不变式的对象应为枚举类型的决策表输出或派生值，例如 group", "subject"
                )
            )
        elif self.variable is None or not items[self.variable].dtype.is_numeric:
            self.problems.append(
                self._unsupported(
                    "单调不变式的变量应为数值输入，例如 income_per_capita", "variable"
                )
            )

    def check_requires(self) -> None:
        """A 要求 row writes 条件 and 要求, each a yes/no condition: cells left in 对象 or
        变量 were ignored, and 要求 = income_per_capita was "proved" false as 0."""
        if self.problems:
            return
        if self.subject is not None or self.variable_expr is not None:
            self.problems.append(
                self._unsupported("要求不变式只写 条件 与 要求，对象、变量应留空", "subject", "variable")
            )
            return
        for key, node in (("when", self.when), ("then", self.then)):
            if node is not None and not self._condition(node):
                column = INVARIANT_COLUMNS[key][0]
                self.problems.append(
                    finding(
                        "E303",
                        f"不变式「{self.invariant.id}」的{column}应为是/否的条件",
                        self.invariant.at(key),
                        found=self.invariant.text(key),
                        expected="比较或是/否的值，如 income_per_capita < 低保标准、dibao_assets_ok",
                    )
                )

    def _condition(self, node: Expr) -> bool:
        """Whether ``node`` is yes or no: a comparison, and/or/not, 是/否, a boolean
        value or a function (exists, every, is_null...; checked when bound)."""
        match node:
            case Binary(op, _, _):
                return op in ("=", "!=", "<", "<=", ">", ">=", "and", "or")
            case Unary(op, _):
                return op == "not"
            case Literal(value):
                return isinstance(value, bool) or value is None
            case Name(name):
                return self.county.plan.items[name].dtype.kind is Kind.BOOLEAN
        return True

    def _unsupported(self, why: str, *keys: str) -> Finding:
        return finding(
            "E306",
            f"不变式「{self.invariant.id}」写法不支持：{why}",
            self.invariant.at(*keys),
            found=next(
                (self.invariant.text(k) for k in keys if self.invariant.text(k)), "（空）"
            ),
        )
