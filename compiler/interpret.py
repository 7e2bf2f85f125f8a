"""The reference interpreter: what a bound Plan means for one household, in plain Python.

This module is the definition the compiled SQL must agree with (property tests compare
the two on random tables and households). It favours being obviously right over being
fast: one household at a time, exact Decimals, three-valued logic as SQL has it.

Semantics in brief: a missing value (None) makes arithmetic and comparisons missing; a
rule matches only when every test is true; division is exact to six decimals, rounded
half away from zero (operands and quotient at six decimals); a derived value or
output is rounded to its declared type, and one its SQL column cannot hold (a sum of
amounts at 10^16 yuan or more) stops the household with E605, as the SQL does. So
does a value on the way that DuckDB's 38-digit decimals cannot hold (a product past
10^(38 - s) with s its decimals, compiler/precision.py), named at its cell; only what
the SQL computes is computed: the input columns some rule tests, and under FIRST the
outputs of the first rule that matches.
"""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from compiler.bind import AS_OF, DECISION_COLUMNS, Plan, tested_inputs
from compiler.calendar import (
    COUNT_FIRST_DAY,
    LAST_DAY,
    WorkCalendar,
    calendar_span_error,
)
from compiler.diagnostics import NOWHERE, Location, make, shown
from compiler.errors import EvaluationError, InputError
from compiler.expr import (
    AnyTest,
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
    NullTest,
    Test,
    Unary,
)
from compiler.model import Aggregation, DType, HitPolicy, Kind, Level, Rule, Table
from compiler.normalise import fold_text
from compiler.precision import (
    BIGINT_LIMIT,
    DIVISION_LIMIT,
    MAX_DIGITS,
    Check,
    Precision,
    limit,
    operands_of,
)
from compiler.trace_cells import trace_cell

DIVISION_PLACES = Decimal("1e-6")
# The member a member's or an event's decision concerns, named in its trace entry.
_PERSON = {Level.MEMBER: "person_id", Level.EVENT: "event.person_id"}
Env = dict[str, Any]


@dataclass
class TraceEntry:
    table: str
    rule: str | None
    cell: str | None
    outcome: object
    section: str
    person_id: str | None = None
    rules: list[str] = field(default_factory=list)
    # the member's or event's values the table was decided on (``explain`` shows them):
    # a person's events are told apart by it, not by person_id
    env: Env | None = field(default=None, compare=False, repr=False)


@dataclass
class Evaluation:
    """Everything the interpreter computed for one household."""

    household: Env
    members: list[Env]
    events: list[Env]
    trace: list[TraceEntry]
    tests: dict[tuple[str, str | None], list[list[bool | None]]] = field(default_factory=dict)


# The largest magnitude each SQL type holds (sqlgen_expr.SQL_TYPES): DECIMAL(18, s)
# below 10^(18-s), BIGINT up to 2^63-1.
_LIMITS = {
    Kind.MONEY: Decimal(10) ** 16,
    Kind.NUMBER: Decimal(10) ** 14,
    Kind.PERCENT: Decimal(10) ** 12,
    Kind.INTEGER: Decimal(2**63),
}


def cast(value: object, dtype: DType) -> object:
    """Round a value to its declared type, as the SQL casts do."""
    if value is None or not isinstance(value, Decimal | int) or isinstance(value, bool):
        return value
    scale = dtype.scale
    if scale is None:
        return value
    with localcontext() as context:
        context.prec = 60  # the default 28 digits cannot hold every sum of amounts
        return Decimal(value).quantize(Decimal(1).scaleb(-scale), ROUND_HALF_UP)


def fit(value: object, dtype: DType) -> object:
    """``cast``, refusing a value its type's SQL column cannot hold, as the compiled
    SQL's cast does on a household's derived values and outputs.

    Raises:
        InputError: E605 (``out_of_range``), the error ``jiuzhu evaluate`` reports.
    """
    rounded = cast(value, dtype)
    limit = _LIMITS.get(dtype.kind)
    if limit is not None and isinstance(rounded, Decimal) and abs(rounded) >= limit:
        raise out_of_range(format(rounded, "f"))
    return rounded


OUT_OF_RANGE = "金额或其合计、乘积超出可计算的范围"


def out_of_range(found: str) -> InputError:
    """E605: a household's amount, or a sum or product of amounts, that no column of
    its type holds; both evaluators refuse the file with it (engine.data_error)."""
    return InputError(
        make(
            "E605",
            OUT_OF_RANGE,
            found=found,
            expected="金额及其合计在 ±10¹⁶ 元以内",
            hint="检查家庭数据或标准参数中是否有录错的特大金额（如多写了几位数）；"
            "用 jiuzhu explain 查看单户的计算过程",
        )
    )


class Interpreter:
    """Evaluates one Plan; reuse it for many households."""

    def __init__(self, plan: Plan, as_of: date, work_calendar: WorkCalendar) -> None:
        self.plan = plan
        self.as_of = as_of
        self.calendar = work_calendar
        self.standards = {
            ident: cast(plan.rulebook.standard_value(ident, as_of), s.dtype)
            for ident, s in plan.rulebook.standards.items()
        }
        self.unread = plan.unread_derived(DECISION_COLUMNS)
        self.precision = Precision(plan.items)
        self._inputs: dict[str, tuple[list[bool], list[Expr | None] | None]] = {}
        # while ``evaluate`` runs, values are held to the SQL's limits (``_within``);
        # the analysis asks ``value`` and ``test`` of bounds no household reaches
        self.limits = False
        # the step and the cell being computed: where a value too large is reported,
        # and, after an error, where it happened (compiler/overflow.py reads them)
        self.step = ""
        self.where: Location = NOWHERE

    def evaluate(self, household: Env, members: list[Env], events: list[Env]) -> Evaluation:
        """Evaluate every step of the plan on one household's flat field values."""
        result = Evaluation(dict(household), [dict(m) for m in members], [dict(e) for e in events], [])
        result.household.update(self.standards)
        result.household[AS_OF] = self.as_of
        self.limits = True
        try:
            for kind, ident in self.plan.order:
                if kind == "derived" and ident in self.unread:
                    continue
                level = self.plan.level_of((kind, ident))
                self.step = ident
                for env in self._envs(result, level):
                    if kind == "derived":
                        derived = self.plan.derived[ident]
                        self.where = derived.location
                        env[ident] = fit(self.value(derived.expr, env, result), derived.dtype)
                    else:
                        self._table(self.plan.tables[ident], env, result)
        except Mismatch as error:
            raise self._mismatched(error) from None
        finally:
            self.limits = False
        return result

    def _mismatched(self, error: Mismatch) -> EvaluationError:
        """E303 at the cell being computed, for two values that neither compare nor
        compute together (a date and an amount): ``check`` refuses such a cell, so this
        is the defence for a version published before it did, said in Chinese and
        not as an internal error."""
        left, right = (f"{_KIND_WORDS.get(type(v), '值')}「{shown(v)}」" for v in error.operands)
        return EvaluationError(
            make(
                "E303",
                f"计算「{self.step}」时不能比较或运算{left}与{right}（运算「{error.op}」）",
                self.where,
                found=f"{shown(error.operands[0])} 与 {shown(error.operands[1])}",
                expected="两边同为数值、日期、文本或是/否",
                hint="决策表中该单元格的类型不相容；请用 jiuzhu check 检查，改正后重新发布",
            )
        )

    def _envs(self, result: Evaluation, level: Level) -> list[Env]:
        if level is Level.HOUSEHOLD:
            return [result.household]
        return result.members if level is Level.MEMBER else result.events

    # ------------------------------------------------------------ tables

    def _table(self, table: Table, env: Env, result: Evaluation) -> None:
        scope = _Scope(env, result)
        tested, checked = self._inputs.get(table.id) or self._columns(table)
        values = []
        for column, read in zip(table.inputs, tested, strict=True):
            self.where = column.location
            # a column every rule answers with "-" is not computed, as in the SQL
            values.append(self.value(column.expr, env, result) if read else None)
        matches = []
        test_results = []
        for rule in table.rules:
            self.where = rule.location
            try:
                outcomes = (
                    [self.test(t, v, env, result) for t, v in zip(rule.tests, values)]
                    if checked is None
                    else [self.test(t, v, env, result, c) for t, v, c in zip(rule.tests, values, checked)]
                )
            except (InputError, Mismatch):  # again, one test at a time, at its cell
                for i, (t, v, c) in enumerate(zip(rule.tests, values, checked or [None] * len(values))):
                    self.where = rule.test_locations[i] if i < len(rule.test_locations) else rule.location
                    self.test(t, v, env, result, c)
                raise
            test_results.append(outcomes)
            if all(outcome is True for outcome in outcomes):
                matches.append(rule)
        who = env.get(_PERSON[table.level]) if table.level in _PERSON else None
        result.tests[(table.id, who)] = test_results
        outputs, matches = self._hit(table, matches, env, result)
        for column, value in zip(table.outputs, outputs, strict=True):
            env[column.id] = value
        self._trace(table, matches, outputs, result, who, env)
        del scope

    def _columns(self, table: Table) -> tuple[list[bool], list[Expr | None] | None]:
        """For each input column, whether some rule tests it, and its expression where
        a test compares it with a value DuckDB may not hold beside it (None where no
        comparison needs checking; no list at all when none does: most tables)."""
        tested = tested_inputs(table)
        checked = [
            column.expr if any(
                self.precision.compared(column.expr, operand) is not None
                for rule in table.rules for operand in operands_of(rule.tests[i])
            ) else None
            for i, column in enumerate(table.inputs)
        ]
        found = tested, checked if any(c is not None for c in checked) else None
        self._inputs[table.id] = found
        return found

    def _outputs(self, rule: Rule, table: Table, env: Env, result: Evaluation) -> list[object]:
        found = []
        cells = rule.output_locations
        for i, (expr, column) in enumerate(zip(rule.outputs, table.outputs, strict=True)):
            self.where = cells[i] if i < len(cells) else rule.location
            found.append(fit(self.value(expr, env, result), column.dtype))
        return found

    def _hit(
        self, table: Table, matches: list[Rule], env: Env, result: Evaluation
    ) -> tuple[list[object], list[Rule]]:
        """The outputs the hit policy gives, and the matched rules in the order that
        decided (PRIORITY and OUTPUT ORDER: by the outputs' enum order), for the trace."""
        policy = table.hit_policy
        # FIRST needs only the first match's outputs, and the SQL computes no other
        chosen = matches[:1] if policy is HitPolicy.FIRST else matches
        rows = [self._outputs(rule, table, env, result) for rule in chosen]
        if policy in (HitPolicy.PRIORITY, HitPolicy.OUTPUT_ORDER):
            order = sorted(range(len(rows)), key=lambda i: priority(table, rows[i]))
            rows, matches = [rows[i] for i in order], [matches[i] for i in order]
        if policy.single_hit:
            return self._single(table, matches, rows, env, result), matches
        if table.aggregation is None:
            return [[row[i] for row in rows] for i in range(len(table.outputs))], matches
        return [aggregate(table.aggregation, [row[0] for row in rows])], matches

    def _single(
        self, table: Table, matches: list[Rule], rows: list[list[object]], env: Env, result: Evaluation
    ) -> list[object]:
        if not rows:
            defaults = []
            for column in table.outputs:
                self.where = column.location
                value = self.value(column.default, env, result) if column.default else None
                defaults.append(fit(value, column.dtype) if column.default else None)
            return defaults
        if table.hit_policy is HitPolicy.UNIQUE and len(rows) > 1:
            raise _contract_error("E601", table, matches, result.household)
        if table.hit_policy is HitPolicy.ANY and any(row != rows[0] for row in rows):
            raise _contract_error("E602", table, matches, result.household)
        if table.hit_policy is HitPolicy.PRIORITY:
            best = min(range(len(rows)), key=lambda i: priority(table, rows[i]))
            return rows[best]
        return rows[0]

    def _trace(
        self,
        table: Table,
        matches: list[Rule],
        outputs: list[object],
        result: Evaluation,
        who: object,
        env: Env,
    ) -> None:
        chosen = matches[:1] if table.hit_policy.single_hit else matches
        first = chosen[0] if chosen else None
        # as the SQL's trace: a multi-hit table names every rule that matched, its
        # cell and (once each) its section
        sections = list(dict.fromkeys(fold_text(rule.annotation) for rule in chosen))
        result.trace.append(
            TraceEntry(
                table.id,
                first.id if first else None,
                ",".join(trace_cell(rule.location, self.plan) for rule in chosen)
                if chosen
                else None,
                outputs[0] if len(outputs) == 1 else outputs,
                "；".join(sections),
                None if who is None else str(who),
                [rule.id for rule in chosen],
                env,
            )
        )

    # ------------------------------------------------------------ tests

    def test(
        self, test: Test, value: object, env: Env, result: Evaluation, column: Expr | None = None
    ) -> bool | None:
        """A rule's test of an input value; ``column``, the input's expression, gives
        the SQL type the value is compared in (``_compared``)."""
        match test:
            case AnyTest():
                return True
            case NullTest():
                return value is None
            case Compare(op, operand):
                bound = self.value(operand, env, result)
                if column is not None:
                    self._compared(column, value, operand, bound)
                return compare(op, value, bound)
            case Interval(low, low_closed, high, high_closed):
                least, most = self.value(low, env, result), self.value(high, env, result)
                if column is not None:
                    self._compared(column, value, low, least)
                    self._compared(column, value, high, most)
                above = compare(">=" if low_closed else ">", value, least)
                below = compare("<=" if high_closed else "<", value, most)
                return and3(above, below)
            case Disjunction(tests):
                return or3(*(self.test(t, value, env, result, column) for t in tests))
            case Negation(tests):
                return not3(self.test(tests, value, env, result, column))
        raise TypeError(test)

    def _compared(self, column: Expr, value: object, operand: Expr, bound: object) -> None:
        """Check that DuckDB can compare ``bound`` with the input value."""
        if self.limits:
            check = self.precision.compared(column, operand)
            if check is not None and _number(value) and _number(bound):
                self._enforce(check, value, bound, None)  # type: ignore[arg-type]

    # ------------------------------------------------------------ expressions

    def value(self, node: Expr | None, env: Env, result: Evaluation) -> Any:
        match node:
            case None:
                return None
            case Literal(value):
                return value
            case Name(ident):
                if ident in env:
                    return env[ident]
                member = _event_member(env, result)
                if member is not None and ident in member:
                    return member[ident]
                return result.household.get(ident)
            case Unary("-", operand):
                inner = self.value(operand, env, result)
                if inner is not None and not _number(inner):
                    raise Mismatch("-", Decimal(0), inner)
                return None if inner is None else -inner
            case Unary(_, operand):
                return not3(self.value(operand, env, result))
            case Binary("and", left, right):
                return and3(self.value(left, env, result), self.value(right, env, result))
            case Binary("or", left, right):
                return or3(self.value(left, env, result), self.value(right, env, result))
            case Binary(op, left, right):
                lhs, rhs = self.value(left, env, result), self.value(right, env, result)
                found = binary(op, lhs, rhs)
                if self.limits:
                    check = self.precision.check(node)
                    if check is not None and _number(lhs) and _number(rhs):
                        self._enforce(check, lhs, rhs, found)
                return found
            case If(cond, then, otherwise):
                chosen = then if self.value(cond, env, result) is True else otherwise
                found = self.value(chosen, env, result)
                if self.limits:
                    check = self.precision.unified_check(node, (then, otherwise))
                    if check is not None:
                        self._within(found, check.scale)
                return found
            case Call(func, args):
                return self.call(func, args, env, result)
        raise TypeError(node)

    def call(self, func: str, args: tuple[Expr, ...], env: Env, result: Evaluation) -> Any:
        if func in AGGREGATES:
            per_member = [[self.value(a, m, result) for a in args] for m in result.members]
            return AGGREGATES[func](per_member)
        if func == "coalesce":  # as DuckDB's: an argument after one that is present is not computed
            found = next((v for v in (self.value(a, env, result) for a in args) if v is not None), None)
            if self.limits:
                self._unified(self.precision.unified_check(args, args), [found])
            return found
        values = [self.value(a, env, result) for a in args]
        if func in ("min", "max") and self.limits:
            self._unified(self.precision.unified_check(args, args), values)
        if func == "age":
            return None if values[0] is None else Decimal(full_years(values[0], self.as_of))
        if func == "working_days_after":
            if None in values:
                return None
            start, count = values[0], int(values[1])
            if count <= 0:
                return start
            due = self.calendar.add_working_days(start, count) if start >= COUNT_FIRST_DAY else None
            if due is None or due > LAST_DAY:
                raise EvaluationError(calendar_span_error(start))
            return due
        return SCALARS[func](*values)

    # ------------------------------------------------------------ the SQL's limits

    def _enforce(self, check: Check, left: Decimal, right: Decimal, found: object) -> None:
        """Raise E605 where the compiled SQL's decimals cannot hold an operand or the
        result of a step (``Precision.check``): DuckDB stops there."""
        if check.kind == "division":
            self._divisible(left, right)
        elif check.kind == "result":
            self._within(found, check.scale)
        elif check.kind == "bigint":
            if not -BIGINT_LIMIT <= found < BIGINT_LIMIT:  # type: ignore[operator]
                raise self._too_large(found, f"整数运算的结果在 ±{BIGINT_LIMIT - 1} 以内")
        else:
            for value in (left, right, found):
                self._within(value, check.scale)

    def _unified(self, check: Check | None, values: list[object]) -> None:
        """``min``, ``max``, ``coalesce`` and ``if`` cast numbers to the most decimals
        among them (sqlgen_expr.unified): each value computed must fit that."""
        if check is not None:
            for value in values:
                self._within(value, check.scale)

    def _divisible(self, left: Decimal, right: Decimal) -> None:
        """The 128-bit division holds operands, at six decimals, below 10^25."""
        with localcontext() as context:
            context.prec = 80  # a dividend of 10^25 at six decimals has 32 digits
            places = [Decimal(v).quantize(DIVISION_PLACES, rounding=ROUND_HALF_UP) for v in (left, right)]
        if places[1] != 0 and max(abs(places[0]), abs(places[1])) >= DIVISION_LIMIT:
            big = places[0] if abs(places[0]) >= DIVISION_LIMIT else places[1]
            raise self._too_large(big, "除法的被除数和除数（四舍五入到六位小数）的绝对值小于 10²⁵")

    def _within(self, value: object, scale: int) -> None:
        if _number(value) and abs(value) >= limit(scale):  # type: ignore[arg-type]
            power = MAX_DIGITS - max(scale, 0)
            raise self._too_large(
                value, f"计算中的每个数值保留 {max(scale, 0)} 位小数时绝对值小于 10 的 {power} 次方（共 38 位数字）"
            )

    def _too_large(self, value: object, expected: str) -> InputError:
        """E605 at the cell being computed, as ``out_of_range`` words it (the SQL's
        error says the same, engine.data_error)."""
        return InputError(
            make(
                "E605",
                OUT_OF_RANGE,
                self.where,
                found=format(value, "f") if isinstance(value, Decimal) else value,
                expected=expected,
                hint="检查家庭数据中是否有录错的特大金额；若公式连乘多个带小数的数，可在中间一步用 "
                "round(…, n) 减少小数位数；用 jiuzhu explain 查看单户的计算过程",
            )
        )


def _number(value: object) -> bool:
    return type(value) is Decimal or type(value) is int  # not a bool


@dataclass
class _Scope:
    env: Env
    result: Evaluation


def _event_member(env: Env, result: Evaluation) -> Env | None:
    """The member an event names (event.person_id), for event-level expressions."""
    if EVENT_PERSON not in env:
        return None
    return next((m for m in result.members if m.get("person_id") == env[EVENT_PERSON]), None)


EVENT_PERSON = "event.person_id"


# ---------------------------------------------------------------- three-valued logic


def and3(*values: object) -> bool | None:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def or3(*values: object) -> bool | None:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def not3(value: object) -> bool | None:
    return None if value is None else not value


class Mismatch(TypeError):
    """Two values of kinds that neither compare nor compute together (a date and an
    amount), which the binder's type checks keep out of checked tables."""

    def __init__(self, op: str, left: object, right: object) -> None:
        super().__init__(f"{op}: {type(left).__name__} and {type(right).__name__}")
        self.op = op
        self.operands = (left, right)


_KIND_WORDS: dict[type, str] = {
    Decimal: "数值", int: "数值", bool: "是/否", date: "日期", str: "文本", list: "列表"
}


def compare(op: str, left: object, right: object) -> bool | None:
    if left is None or right is None:
        return None
    if isinstance(left, bool) != isinstance(right, bool):
        return None if op not in ("=", "!=") else op == "!="
    try:
        match op:
            case "=":
                return left == right
            case "!=":
                return left != right
            case "<":
                return left < right  # type: ignore[operator]
            case "<=":
                return left <= right  # type: ignore[operator]
            case ">":
                return left > right  # type: ignore[operator]
            case ">=":
                return left >= right  # type: ignore[operator]
    except TypeError:
        raise Mismatch(op, left, right) from None
    raise ValueError(op)


def binary(op: str, left: Any, right: Any) -> Any:
    if op in ("=", "!=", "<", "<=", ">", ">="):
        return compare(op, left, right)
    if left is None or right is None:
        return None
    try:
        left, right = Decimal(left), Decimal(right)
    except (TypeError, ArithmeticError):  # a date or a text in arithmetic
        raise Mismatch(op, left, right) from None
    with localcontext() as context:
        context.prec = 60
        match op:
            case "+":
                return left + right
            case "-":
                return left - right
            case "*":
                return left * right
            case "/":
                return divide(left, right)
    raise ValueError(op)


def divide(left: Decimal, right: Decimal) -> Decimal | None:
    """Exact to six decimals: both operands rounded to six decimals, then the quotient,
    half away from zero; None when the divisor rounds to zero."""
    left = left.quantize(DIVISION_PLACES, rounding=ROUND_HALF_UP)
    right = right.quantize(DIVISION_PLACES, rounding=ROUND_HALF_UP)
    if right == 0:
        return None
    with localcontext() as context:
        context.prec = 80
        return (left / right).quantize(DIVISION_PLACES, rounding=ROUND_HALF_UP)


def full_years(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def months_between(start: date | None, end: date | None) -> Decimal | None:
    if start is None or end is None:
        return None
    months = (end.year - start.year) * 12 + end.month - start.month
    return Decimal(months - (1 if end.day < start.day else 0))


def add_months(day: date | None, months: Decimal | None) -> date | None:
    if day is None or months is None:
        return None
    index = day.year * 12 + day.month - 1 + int(months)
    year, month = divmod(index, 12)
    last = month_calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def next_month_start(day: date | None) -> date | None:
    if day is None:
        return None
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _round(value: Decimal | None, places: Decimal | None = None) -> Decimal | None:
    if value is None:
        return None
    exponent = Decimal(1).scaleb(-int(places or 0))
    with localcontext() as context:
        context.prec = 80  # quantize refuses a result past the context's 28 digits
        return Decimal(value).quantize(exponent, rounding=ROUND_HALF_UP)


def _floor(value: Decimal | None, places: Decimal | None = None) -> Decimal | None:
    """Down to a whole number, or to ``places`` decimals (towards minus infinity)."""
    if value is None:
        return None
    if places is None:
        return Decimal(value).to_integral_value(ROUND_FLOOR)
    with localcontext() as context:
        context.prec = 80
        return Decimal(value).quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_FLOOR)


def _present(values: tuple[Any, ...]) -> list[Any]:
    return [v for v in values if v is not None]


SCALARS: dict[str, Callable[..., Any]] = {
    "min": lambda *v: min(_present(v)) if _present(v) else None,
    "max": lambda *v: max(_present(v)) if _present(v) else None,
    "abs": lambda v: None if v is None else abs(v),
    "round": _round,
    "floor": _floor,
    "ceil": lambda v: None if v is None else Decimal(v).to_integral_value(ROUND_CEILING),
    "coalesce": lambda *v: next((x for x in v if x is not None), None),
    "is_null": lambda v: v is None,
    "months_between": months_between,
    "add_months": add_months,
    "add_days": lambda d, n: None if d is None or n is None else d + timedelta(days=int(n)),
    "next_month_start": next_month_start,
}


def _where(rows: list[list[Any]]) -> list[Any]:
    """Values of sum(x, c) and collect(x, c): x where c is true (or every x)."""
    return [row[0] for row in rows if len(row) == 1 or row[1] is True]


AGGREGATES: dict[str, Callable[[list[list[Any]]], Any]] = {
    "sum": lambda rows: sum(_present(tuple(_where(rows)))) if _present(tuple(_where(rows))) else None,
    "count": lambda rows: Decimal(sum(1 for row in rows if row[0] is True)),
    "exists": lambda rows: any(row[0] is True for row in rows),
    "every": lambda rows: all(row[0] is True for row in rows),
    "min_of": lambda rows: min(_present(tuple(r[0] for r in rows)), default=None),
    "max_of": lambda rows: max(_present(tuple(r[0] for r in rows)), default=None),
    "collect": lambda rows: [v for v in _where(rows) if v is not None],
}


def aggregate(aggregation: Aggregation, values: list[object]) -> object:
    present = [v for v in values if v is not None]
    if aggregation is Aggregation.COUNT:
        return Decimal(len(set(present)))
    if not present:
        return None
    if aggregation is Aggregation.SUM:
        return sum(present)  # type: ignore[arg-type]
    return min(present) if aggregation is Aggregation.MIN else max(present)  # type: ignore[type-var]


def priority(table: Table, row: Sequence[object]) -> tuple[int, ...]:
    """Sort key of a rule's outputs under PRIORITY / OUTPUT ORDER: enum order."""
    key = []
    for column, value in zip(table.outputs, row, strict=True):
        values = column.dtype.values
        key.append(values.index(value) if value in values else len(values))
    return tuple(key)


def _contract_error(code: str, table: Table, matches: list[Rule], household: Env) -> EvaluationError:
    rules = "、".join(f"{r.id}（第 {r.row} 行）" for r in matches)
    what = "命中多条规则" if code == "E601" else "命中的规则输出不一致"
    return EvaluationError(
        make(
            code,
            f"家庭 {household.get('household_id')} 在决策表「{table.id}」中{what}：{rules}",
            table.location,
            found=rules,
            expected="UNIQUE 表每个家庭只命中一条规则" if code == "E601" else "ANY 表命中的规则输出相同",
            hint="修改规则使其互不重叠，或改用 FIRST/PRIORITY 命中策略",
        )
    )
