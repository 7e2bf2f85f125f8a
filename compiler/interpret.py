"""The reference interpreter: what a bound Plan means for one household, in plain Python.

This module is the definition the compiled SQL must agree with (property tests compare
the two on random tables and households). It favours being obviously right over being
fast: one household at a time, exact Decimals, three-valued logic as SQL has it.

Semantics in brief: a missing value (None) makes arithmetic and comparisons missing; a
rule matches only when every test is true; division is exact to six decimals, rounded
half away from zero (operands and quotient at six decimals); a derived value or
output is rounded to its declared type, and one its SQL column cannot hold (a sum of
amounts at 10^16 yuan or more) stops the household with E605, as the SQL does.
"""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, localcontext
from typing import Any

from compiler.bind import AS_OF, DECISION_COLUMNS, Plan
from compiler.calendar import (
    COUNT_FIRST_DAY,
    LAST_DAY,
    WorkCalendar,
    calendar_span_error,
)
from compiler.diagnostics import make
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


def out_of_range(found: str) -> InputError:
    """E605: a household's amount, or a sum or product of amounts, that no column of
    its type holds; both evaluators refuse the file with it (engine.data_error)."""
    return InputError(
        make(
            "E605",
            "金额或其合计、乘积超出可计算的范围",
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

    def evaluate(self, household: Env, members: list[Env], events: list[Env]) -> Evaluation:
        """Evaluate every step of the plan on one household's flat field values."""
        result = Evaluation(dict(household), [dict(m) for m in members], [dict(e) for e in events], [])
        result.household.update(self.standards)
        result.household[AS_OF] = self.as_of
        for kind, ident in self.plan.order:
            if kind == "derived" and ident in self.unread:
                continue
            level = self.plan.level_of((kind, ident))
            for env in self._envs(result, level):
                if kind == "derived":
                    derived = self.plan.derived[ident]
                    env[ident] = fit(self.value(derived.expr, env, result), derived.dtype)
                else:
                    self._table(self.plan.tables[ident], env, result)
        return result

    def _envs(self, result: Evaluation, level: Level) -> list[Env]:
        if level is Level.HOUSEHOLD:
            return [result.household]
        return result.members if level is Level.MEMBER else result.events

    # ------------------------------------------------------------ tables

    def _table(self, table: Table, env: Env, result: Evaluation) -> None:
        scope = _Scope(env, result)
        values = [self.value(column.expr, env, result) for column in table.inputs]
        matches = []
        test_results = []
        for rule in table.rules:
            outcomes = [self.test(t, v, env, result) for t, v in zip(rule.tests, values, strict=True)]
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

    def _outputs(self, rule: Rule, table: Table, env: Env, result: Evaluation) -> list[object]:
        return [
            fit(self.value(expr, env, result), column.dtype)
            for expr, column in zip(rule.outputs, table.outputs, strict=True)
        ]

    def _hit(
        self, table: Table, matches: list[Rule], env: Env, result: Evaluation
    ) -> tuple[list[object], list[Rule]]:
        """The outputs the hit policy gives, and the matched rules in the order that
        decided (PRIORITY and OUTPUT ORDER: by the outputs' enum order), for the trace."""
        policy = table.hit_policy
        rows = [self._outputs(rule, table, env, result) for rule in matches]
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
            return [
                fit(self.value(c.default, env, result), c.dtype) if c.default else None
                for c in table.outputs
            ]
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
                ",".join(rule.location.render() for rule in chosen) if chosen else None,
                outputs[0] if len(outputs) == 1 else outputs,
                "；".join(sections),
                None if who is None else str(who),
                [rule.id for rule in chosen],
                env,
            )
        )

    # ------------------------------------------------------------ tests

    def test(self, test: Test, value: object, env: Env, result: Evaluation) -> bool | None:
        match test:
            case AnyTest():
                return True
            case NullTest():
                return value is None
            case Compare(op, operand):
                return compare(op, value, self.value(operand, env, result))
            case Interval(low, low_closed, high, high_closed):
                above = compare(">=" if low_closed else ">", value, self.value(low, env, result))
                below = compare("<=" if high_closed else "<", value, self.value(high, env, result))
                return and3(above, below)
            case Disjunction(tests):
                return or3(*(self.test(t, value, env, result) for t in tests))
            case Negation(tests):
                return not3(self.test(tests, value, env, result))
        raise TypeError(test)

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
                return None if inner is None else -inner
            case Unary(_, operand):
                return not3(self.value(operand, env, result))
            case Binary("and", left, right):
                return and3(self.value(left, env, result), self.value(right, env, result))
            case Binary("or", left, right):
                return or3(self.value(left, env, result), self.value(right, env, result))
            case Binary(op, left, right):
                return binary(op, self.value(left, env, result), self.value(right, env, result))
            case If(cond, then, otherwise):
                chosen = then if self.value(cond, env, result) is True else otherwise
                return self.value(chosen, env, result)
            case Call(func, args):
                return self.call(func, args, env, result)
        raise TypeError(node)

    def call(self, func: str, args: tuple[Expr, ...], env: Env, result: Evaluation) -> Any:
        if func in AGGREGATES:
            per_member = [[self.value(a, m, result) for a in args] for m in result.members]
            return AGGREGATES[func](per_member)
        values = [self.value(a, env, result) for a in args]
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


def compare(op: str, left: object, right: object) -> bool | None:
    if left is None or right is None:
        return None
    if isinstance(left, bool) != isinstance(right, bool):
        return None if op not in ("=", "!=") else op == "!="
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
    raise ValueError(op)


def binary(op: str, left: Any, right: Any) -> Any:
    if op in ("=", "!=", "<", "<=", ">", ">="):
        return compare(op, left, right)
    if left is None or right is None:
        return None
    with localcontext() as context:
        context.prec = 60
        match op:
            case "+":
                return Decimal(left) + Decimal(right)
            case "-":
                return Decimal(left) - Decimal(right)
            case "*":
                return Decimal(left) * Decimal(right)
            case "/":
                return divide(Decimal(left), Decimal(right))
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
    return Decimal(value).quantize(exponent, rounding=ROUND_HALF_UP)


def _floor(value: Decimal | None, places: Decimal | None = None) -> Decimal | None:
    """Down to a whole number, or to ``places`` decimals (towards minus infinity)."""
    if value is None:
        return None
    if places is None:
        return Decimal(value).to_integral_value(ROUND_FLOOR)
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
