"""SQL vocabulary of the compiled query: how names, values and types are written, the
macros the query calls, and how expressions and rule tests become SQL.

``Expressions`` is mixed into the compiler (compiler/sqlgen.py); it reads the plan's
items, the member aggregates already joined onto households and, while a step is being
compiled, the list that collects division operands (see ``hoist``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from compiler.bind import Plan
from compiler.expr import (
    COMPARISONS,
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
from compiler.model import SCALES, DType, Kind, Level
from compiler.precision import Precision, rounds_fast

SQL_TYPES = {
    Kind.MONEY: "DECIMAL(18,2)",
    Kind.NUMBER: "DECIMAL(18,4)",
    Kind.INTEGER: "BIGINT",
    Kind.PERCENT: "DECIMAL(18,6)",
    Kind.BOOLEAN: "BOOLEAN",
    Kind.DATE: "DATE",
    Kind.TEXT: "VARCHAR",
    Kind.ENUM: "VARCHAR",
    Kind.LIST: "VARCHAR[]",
}

# Helper macros the compiled SQL relies on; created once per connection. Division takes
# its 64-bit path for operands below 999,999: one just under a million that rounds up
# to it at six decimals would not fit DECIMAL(18,6) times a million. The 128-bit path
# (jz_h6) rounds each operand to six decimals once, and holds it below 10^25
# (compiler/precision.py: past that, E605).
# jz_working_days_after names its date and count once, bound to the lambda's ``a``: a
# macro's parameter is its argument's SQL pasted wherever the body names it, and the
# body names the date seven times, so each level of working_days_after(
# working_days_after(…)) multiplied the query seven times over, and four levels passed
# DuckDB's limit on expression depth (helper-109). The calendar's lists ride along in
# ``a``, since DuckDB allows no subquery inside a lambda; they are shared, not copied
# per row (200,000 households decide as fast as before).
PRELUDE = """
CREATE OR REPLACE TEMP MACRO jz_d6(a) AS CAST(CAST(a AS DECIMAL(18,6)) * 1000000 AS BIGINT);
CREATE OR REPLACE TEMP MACRO jz_div_small(x, y) AS
  sign(x) * sign(y) * ((abs(x) // abs(y)) * 1000000
    + ((abs(x) % abs(y)) * 2000000 + abs(y)) // (2 * abs(y)));
CREATE OR REPLACE TEMP MACRO jz_h6(a) AS CAST(CAST(a AS DECIMAL(31,6)) * 1000000 AS HUGEINT);
CREATE OR REPLACE TEMP MACRO jz_div_big(a, b) AS
  sign(jz_h6(a)) * sign(jz_h6(b))
    * ((2 * abs(jz_h6(a)) * CAST(1000000 AS HUGEINT) + abs(jz_h6(b))) // (2 * abs(jz_h6(b))));
CREATE OR REPLACE TEMP MACRO jz_div(a, b) AS (
  CASE WHEN a IS NULL OR b IS NULL OR abs(b) < 0.0000005 THEN NULL
    ELSE CAST(CASE WHEN abs(a) < 999999 AND abs(b) < 999999
              THEN CAST(jz_div_small(jz_d6(a), jz_d6(b)) AS HUGEINT)
              ELSE jz_div_big(a, b) END AS DECIMAL(38,0)) * CAST(0.000001 AS DECIMAL(7,6)) END);
CREATE OR REPLACE TEMP MACRO jz_micro(a) AS CASE WHEN abs(a) < 999999 THEN jz_d6(a) END;
CREATE OR REPLACE TEMP MACRO jz_div_micro(a, b, x, y) AS (
  CASE WHEN a IS NULL OR b IS NULL OR abs(b) < 0.0000005 THEN NULL
    WHEN x IS NOT NULL AND y IS NOT NULL
      THEN CAST(sign(x) * sign(y) * ((2 * abs(x) * 1000000 + abs(y)) // (2 * abs(y))) AS DECIMAL(18,0))
        * CAST(0.000001 AS DECIMAL(18,6))
    ELSE CAST(jz_div_big(a, b) AS DECIMAL(38,0)) * CAST(0.000001 AS DECIMAL(7,6)) END);
CREATE OR REPLACE TEMP MACRO jz_age(born, on_day) AS
  CAST(year(on_day) - year(born)
    - CASE WHEN month(on_day) * 100 + day(on_day) < month(born) * 100 + day(born)
      THEN 1 ELSE 0 END AS BIGINT);
CREATE OR REPLACE TEMP MACRO jz_months_between(a, b) AS
  CAST((year(b) - year(a)) * 12 + month(b) - month(a)
    - CASE WHEN day(b) < day(a) THEN 1 ELSE 0 END AS BIGINT);
CREATE OR REPLACE TEMP MACRO jz_add_months(d, n) AS
  CAST(d + to_months(CAST(trunc(n) AS INTEGER)) AS DATE);
CREATE OR REPLACE TEMP MACRO jz_add_days(d, n) AS CAST(d + CAST(trunc(n) AS INTEGER) AS DATE);
CREATE OR REPLACE TEMP MACRO jz_next_month_start(d) AS
  CAST(date_trunc('month', d) + INTERVAL 1 MONTH AS DATE);
CREATE OR REPLACE TEMP MACRO jz_round(x, n) AS round(x, CAST(trunc(n) AS INTEGER));
CREATE TEMP TABLE IF NOT EXISTS jz_calendar AS
  SELECT CAST([] AS INTEGER[]) AS seq, CAST([] AS DATE[]) AS work;
CREATE OR REPLACE TEMP MACRO jz_working_day_at(a) AS
  list_extract(a.work, list_extract(a.seq,
    CAST(date_diff('day', DATE '2000-01-01', a.d) + 1 AS INTEGER)) + CAST(trunc(a.n) AS INTEGER));
CREATE OR REPLACE TEMP MACRO jz_working_days_after(d, n, household, event) AS
  list_transform([{'d': CAST(d AS DATE), 'n': n,
      'seq': (SELECT c.seq FROM jz_calendar c), 'work': (SELECT c.work FROM jz_calendar c)}],
    lambda a: CASE WHEN a.d IS NULL OR a.n IS NULL THEN NULL
      WHEN trunc(a.n) <= 0 THEN a.d
      WHEN a.d < DATE '2000-01-01' OR a.d > DATE '2040-12-31' OR jz_working_day_at(a) IS NULL
        THEN error('E612|' || CAST(a.d AS VARCHAR) || '|' || coalesce(CAST(event AS VARCHAR), '')
          || '|' || coalesce(CAST(household AS VARCHAR), ''))
      ELSE jz_working_day_at(a) END)[1];
"""


def quote(name: str) -> str:
    """The one way an identifier enters SQL."""
    return '"' + name.replace('"', '""') + '"'


def string(text: str) -> str:
    """A text value as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def literal(value: object, dtype: DType | None = None) -> str:
    """A parsed Python value as a typed SQL literal."""
    if value is None:
        return f"CAST(NULL AS {SQL_TYPES[dtype.kind]})" if dtype else "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, Decimal | int):
        number = Decimal(value)
        if not number.is_finite():
            raise ValueError(f"not a finite number: {value!r}")
        scale = max(0, -number.as_tuple().exponent)  # type: ignore[operator]
        digits = format(number, "f")
        precision = 38 if len(digits) > 17 else 18
        return f"CAST({string(digits)} AS DECIMAL({precision},{min(scale, precision - 1)}))"
    if isinstance(value, date):
        return f"DATE {string(value.isoformat())}"
    if isinstance(value, str):
        return string(value)
    raise TypeError(f"no SQL literal for {value!r}")


def sql_type(dtype: DType) -> str:
    return SQL_TYPES[dtype.kind]


def comment(text: str) -> str:
    """A SQL line comment that cannot end early or run into code."""
    return "-- " + " ".join(text.replace("\r", " ").replace("\n", " ").split())



class Expressions:
    """Expressions and rule tests as SQL (mixed into the compiler)."""

    plan: Plan
    aggregates: dict[Call, str]  # member aggregates already on households, by call
    hoisted: list[tuple[str, str]] | None  # division operands of the step, see hoist
    household_key = "household_id"  # "NULL" where a county's values are computed

    def fresh(self, stem: str) -> str:
        raise NotImplementedError

    @property
    def precision(self) -> Precision:
        """The SQL number type of each expression of the plan (compiler/precision.py)."""
        known = self.__dict__.get("_precision")
        if known is None or known.items is not self.plan.items:
            known = self.__dict__["_precision"] = Precision(self.plan.items)
        return known

    def hoist(self, sql: str) -> str:
        """A division operand as a column of its own, computed one step earlier: the
        exact division macro reads each operand several times, and an operand that is
        itself a division would otherwise be computed again and again."""
        if _read_once(sql):
            return sql  # already a column, or a literal
        assert self.hoisted is not None
        column = self.fresh("__div")
        self.hoisted.append((column, sql))
        return quote(column)

    def once(self, sql: str, use: Callable[[str], str]) -> str:
        """``use(v)``, ``v`` standing for ``sql``, which ``use`` reads several times: a
        column or a literal as it is; a computed value hoisted into a column where a
        step is being compiled, and elsewhere (a rule's output or test, a county's
        constant, a member aggregate) bound once to a lambda's parameter. Repeated
        instead, nesting multiplied it: ten nested floor(x, 2) in a rule's output
        were 67 MB of SQL, six nested divisions took 95 s for one household."""
        if _read_once(sql):
            return use(sql)
        if self.hoisted is not None:
            return use(self.hoist(sql))
        name = quote(self.fresh("jz_v"))
        return f"list_transform([{sql}], lambda {name}: {use(name)})[1]"

    def divided(self, a: str, b: str) -> str:
        """The exact quotient of two hoisted operands. Each operand's value in millionths
        (a 64-bit integer, null from 999,999 on) is a column of its own, computed once:
        the quotient then costs a few integer operations where ``jz_div``, reading its
        operands again and again, costs five times as much."""
        x, y = (
            f"jz_micro({v})" if v.startswith("CAST('") else self.hoist(f"jz_micro({v})")
            for v in (a, b)
        )
        return f"jz_div_micro({a}, {b}, {x}, {y})"

    def test(self, test: Test, value: str, level: Level, whole: bool = False) -> str:
        """A rule's test of an input column; ``whole`` when the column holds integers."""

        def operand(node: Expr) -> str:
            return self.compared(node, whole) or self.expr(node, level, {})

        match test:
            case AnyTest():
                return "TRUE"
            case NullTest():
                return f"{value} IS NULL"
            case Compare(op, bound):
                return f"{value} {op} {operand(bound)}"
            case Interval(low, low_closed, high, high_closed):
                lower = f"{value} {'>=' if low_closed else '>'} {operand(low)}"
                upper = f"{value} {'<=' if high_closed else '<'} {operand(high)}"
                return f"({lower} AND {upper})"
            case Disjunction(tests):
                return " OR ".join(f"({self.test(t, value, level, whole)})" for t in tests)
            case Negation(tests):
                return f"NOT ({self.test(tests, value, level, whole)})"
        raise TypeError(test)

    @staticmethod
    def compared(node: Expr, whole: bool) -> str | None:
        """A whole-number literal compared with integers, as a 64-bit integer: written as
        a decimal it would make DuckDB compare 128-bit decimals, four times slower."""
        if not whole or not isinstance(node, Literal) or isinstance(node.value, bool):
            return None
        value = node.value
        if not isinstance(value, Decimal | int) or value != int(value) or abs(value) >= 2**62:
            return None
        return f"CAST({int(value)} AS BIGINT)"

    def expr(self, node: Expr | None, level: Level, aggregates: dict[Call, str]) -> str:
        match node:
            case None:
                return "NULL"
            case Literal(value):
                return literal(value)
            case Name(ident):
                return quote(ident)
            case Unary("-", operand):
                return f"(-{self.expr(operand, level, aggregates)})"
            case Unary(_, operand):
                return f"(NOT {self.expr(operand, level, aggregates)})"
            case Binary("/", left, right):
                operands = [self.expr(left, level, aggregates), self.expr(right, level, aggregates)]
                if self.hoisted is None:
                    return self.once(
                        operands[0], lambda a: self.once(operands[1], lambda b: f"jz_div({a}, {b})")
                    )
                return self.divided(*(self.hoist(sql) for sql in operands))
            case Binary("*", left, right) if self.scale(left) is not None and self.scale(right) is not None:
                # DuckDB keeps the product of two 18-digit decimals in 18 digits and
                # fails past them (1e7 * 1e11); one 38-digit side keeps every digit
                widened = f"CAST({self.expr(left, level, aggregates)} AS DECIMAL(38,{max(0, self.scale(left) or 0)}))"
                return f"({widened} * {self.expr(right, level, aggregates)})"
            case Binary(op, left, right) if op in COMPARISONS and 0 in (self.scale(left), self.scale(right)):
                whole = self.scale(left) == 0 and self.scale(right) == 0
                sides = [self.compared(n, whole) or self.expr(n, level, aggregates) for n in (left, right)]
                return f"({sides[0]} {op} {sides[1]})"
            case Binary(op, left, right):
                sql_op = op.upper() if op in ("and", "or") else op
                return f"({self.expr(left, level, aggregates)} {sql_op} {self.expr(right, level, aggregates)})"
            case If(cond, then, otherwise):
                branches = self.unified([then, otherwise], level, aggregates)
                return (
                    f"CASE WHEN {self.expr(cond, level, aggregates)} THEN {branches[0]}"
                    f" ELSE {branches[1]} END"
                )
            case Call():
                return self.call(node, level, aggregates)
        raise TypeError(node)

    def call(self, node: Call, level: Level, aggregates: dict[Call, str]) -> str:
        if node in self.aggregates:
            return _aggregate_default(node, quote(self.aggregates[node]))
        # each argument's SQL is made once: made twice, every level of min(max(...))
        # doubled the work, and 25 levels took minutes
        if node.func in ("min", "max", "coalesce"):
            args = self.unified(list(node.args), level, aggregates)
        else:
            args = [self.expr(a, level, aggregates) for a in node.args]
        match node.func:
            case "min":
                return f"least({', '.join(args)})"
            case "max":
                return f"greatest({', '.join(args)})"
            case "floor" if len(args) > 1:
                return self.floored(node, args)
            case "floor" | "ceil" if getattr(self.precision.num(node.args[0]), "bigint", False):
                return args[0]  # a whole number already: DuckDB's floor of a BIGINT is a DOUBLE
            case "abs" | "floor" | "ceil":
                return f"{node.func}({args[0]})"
            case "round":
                return self.rounded(node, args)
            case "coalesce":
                return f"coalesce({', '.join(args)})"
            case "is_null":
                return f"({args[0]} IS NULL)"
            case "age":
                # a macro the evaluator defines as the decision date: a subquery on
                # jz_params each time cost a join each, and 300 took 5 s to plan
                return f"jz_age({args[0]}, jz_as_of())"
            case "months_between" | "add_months" | "add_days" | "next_month_start":
                return f"jz_{node.func}({', '.join(args)})"
            case "working_days_after":
                # the household (and event) whose count fails is named in the error (E612)
                event = "_event_index" if level is Level.EVENT and self.household_key != "NULL" else "NULL"
                return f"jz_working_days_after({args[0]}, {args[1]}, {self.household_key}, {event})"
        raise ValueError(f"no SQL for function {node.func}")

    def rounded(self, node: Call, args: list[str]) -> str:
        """round(x, n). With n a literal and x carrying at most s <= 12 decimals (a
        quotient, money, a ratio), x is rounded as DECIMAL(18,s) whenever it fits, which
        is most rows: DuckDB rounds a 38-digit decimal with 128-bit division, ten times
        slower.
        The result is DECIMAL(38, min(s, n)) either way (compiler/precision.py), so the
        caller's cast only checks range."""
        digits = node.args[1] if len(node.args) > 1 else Literal(Decimal(0))
        inner = self.scale(node.args[0])
        fixed = isinstance(digits, Literal) and isinstance(digits.value, Decimal | int)
        places = int(digits.value) if fixed else None  # type: ignore[union-attr, arg-type]
        if places is None or inner is None or not rounds_fast(inner, places):
            return f"jz_round({args[0]}, {args[1] if len(args) > 1 else '0'})"
        if inner <= places:  # nothing to round
            return f"CAST({args[0]} AS DECIMAL(38,{max(inner, 0)}))"
        value = args[0]
        if not _read_once(value):
            if self.hoisted is None:
                return f"jz_round({args[0]}, {places})"
            value = self.hoist(value)  # read three times below: computed once
        return _when_narrow(
            value, inner, lambda v: f"CAST(round({v}, {places}) AS DECIMAL(38,{places}))"
        )

    def floored(self, node: Call, args: list[str]) -> str:
        """floor(x, n): x rounded to n decimals, less one unit of the n-th decimal where
        rounding went up; exact in decimals, where floor(x * 10^n) / 10^n would divide.
        x is read once (``once``), so that nesting floors does not repeat it."""
        places = int(node.args[1].value)  # type: ignore[attr-defined]  # the binder checks it is written
        inner = self.scale(node.args[0])
        if inner is not None and inner <= places:  # no decimal to take off
            return f"CAST({args[0]} AS DECIMAL(38,{max(inner, 0)}))"
        unit = f"CAST('1e-{places}' AS DECIMAL(38,{places}))" if places > 0 else "1"

        def down(value: str) -> str:
            rounded = self.rounded(node, [value, *args[1:]])
            return (
                f"CASE WHEN {rounded} > {value} THEN CAST({rounded} - {unit} AS DECIMAL(38,{places}))"
                f" ELSE {rounded} END"
            )

        return self.once(args[0], down)

    def unified(self, nodes: list[Expr], level: Level, aggregates: dict[Call, str]) -> list[str]:
        """The SQL of values that CASE, least, greatest or coalesce will unify.

        DuckDB unifies decimals by keeping the widest integer part and, past 38 digits,
        dropping decimals (``1.5 * x`` beside ``ceil(y / 7)`` loses its ``.5``); numbers
        are therefore cast to DECIMAL(38, s) with s the largest scale among them.
        """
        sqls = [self.expr(n, level, aggregates) for n in nodes]
        scales = [self.scale(n) for n in nodes]
        numeric = [s for s in scales if s is not None and s >= 0]
        if not numeric or any(s is None for s in scales):
            return sqls
        top = max(numeric)
        return [f"CAST({sql} AS DECIMAL(38,{top}))" for sql in sqls]

    def scale(self, node: Expr) -> int | None:
        """The decimals a numeric expression's SQL value carries; None for a value that
        is not a number, -1 for a bare null (compiler/precision.py)."""
        return self.precision.scale(node)

    def narrowed(self, sql: str, scale: int | None, dtype: DType) -> str:
        """``sql`` cast to a derived value's type. A value with s <= 12 decimals cast to
        fewer (a quotient to money) is rounded through DECIMAL(18,s) when it fits:
        rounding a 38-digit decimal divides 128-bit integers, ten times slower."""
        target = dtype.scale
        if (
            dtype.kind not in SCALES or dtype.kind is Kind.INTEGER or scale is None
            or target is None or not target < scale <= 12 or self.hoisted is None
        ):
            return self.cast(sql, dtype)
        return _when_narrow(self.hoist(sql), scale, lambda v: f"CAST({v} AS {sql_type(dtype)})")

    def cast(self, sql: str, dtype: DType) -> str:
        if dtype.kind is Kind.LIST:
            return sql
        return f"CAST({sql} AS {sql_type(dtype)})"


def _when_narrow(value: str, scale: int, apply: Callable[[str], str]) -> str:
    """``apply`` to a column of ``scale`` decimals, on DECIMAL(18, scale) for the rows
    where the value fits (64-bit arithmetic) and on the value as it is elsewhere."""
    return (
        f"CASE WHEN abs({value}) < {10 ** (18 - scale)}"
        f" THEN {apply(f'CAST({value} AS DECIMAL(18,{scale}))')} ELSE {apply(value)} END"
    )


def _read_once(sql: str) -> bool:
    """Whether SQL is a column (or a lambda's parameter) or a literal, which costs
    nothing to read again."""
    return (sql.startswith('"') and sql.endswith('"')) or sql.startswith("CAST('")


def _aggregate_default(call: Call, column: str) -> str:
    if call.func == "count":
        return f"coalesce({column}, 0)"
    if call.func == "exists":
        return f"coalesce({column}, FALSE)"
    if call.func == "every":
        return f"coalesce({column}, TRUE)"
    if call.func == "collect":
        return f"coalesce({column}, CAST([] AS VARCHAR[]))"
    return column
