"""The types of binding: what a bound expression holds, and a declared type checked
against it.

``TypeChecks`` is the half of compiler/bind.py's binder that knows types: the type of a
bound expression, E303 for a value of another kind than declared or compared (a value
that may be a fraction declared ``integer`` among them), E110 for an amount where a
share is meant or the reverse (compiler/measures.py tells them apart), W204 for a whole
number declared ``number``, W205 for a fraction an integer column is compared with. The
binder proper resolves names, levels and functions; both work on the same bound tree
and scope.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from compiler.diagnostics import Location, Report
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
    render,
)
from compiler.functions import FUNCTIONS, result_type
from compiler.measures import MIXED, WORD, Mix, as_written, measure, said
from compiler.model import DType, Kind
from compiler.vocabulary import value_cn

if TYPE_CHECKING:
    from compiler.bind import Item, _Scope

NULL_TYPE = DType(Kind.TEXT, ("<null>",))


class TypeChecks:
    """Types of bound expressions and the checks of declared types against them: a
    mixin of the binder, which gives it ``items`` and ``report``."""

    items: dict[str, Item]
    report: Report
    # the label of a published version being bound (None: the working copy); checks
    # added after publishing warn on it with W705 instead of refusing it
    published: str | None = None
    # what the owner being bound holds that W705 is for, as ``newer_check`` was called;
    # kept with the bound owner in the BindCache so that each version sharing it says it
    newer: list[tuple[str, str, Location, str]]

    def type_of(self, node: Expr, scope: _Scope) -> DType:
        match node:
            case Literal(value, unit):
                return _literal_type(value, unit)
            case Name(ident):
                return self.items[ident].dtype
            case Unary("not", _):
                return DType(Kind.BOOLEAN)
            case Unary(_, operand):
                return self.type_of(operand, scope)
            case Binary(op, left, right):
                return self.binary_type(op, left, right, scope)
            case If(_, then, otherwise):
                return _joined(self.type_of(then, scope), self.type_of(otherwise, scope))
            case Call(func, args):
                function = FUNCTIONS[func]
                return result_type(function, [self.type_of(a, scope) for a in args])
        return NULL_TYPE

    def binary_type(self, op: str, left: Expr, right: Expr, scope: _Scope) -> DType:
        left_type, right_type = self.type_of(left, scope), self.type_of(right, scope)
        if op in ("and", "or"):
            return DType(Kind.BOOLEAN)
        if op in ("=", "!=", "<", "<=", ">", ">="):
            self.check_comparable(left_type, right_type, scope, op)
            return DType(Kind.BOOLEAN)
        for side in (left_type, right_type):
            if side != NULL_TYPE and not side.is_numeric:
                self.report.error(
                    "E303",
                    f"运算「{op}」只能用于数值",
                    scope.location,
                    found=side.render(),
                    expected="金额、数值、整数或百分比",
                )
                return NULL_TYPE
        if op == "/":
            return DType(Kind.NUMBER)
        if Kind.MONEY in (left_type.kind, right_type.kind):
            return DType(Kind.MONEY)
        if left_type.kind is Kind.INTEGER and right_type.kind is Kind.INTEGER:
            return DType(Kind.INTEGER)
        return DType(Kind.NUMBER)

    def check_unit(self, written: Expr, dtype: DType, scope: _Scope) -> bool:
        """E110 for a number whose written unit the column's type contradicts: ``< 100%``
        in a money column is 1 yuan, not the standard; ``< 35元`` in a percent column.
        True when it said so."""
        if isinstance(written, Unary) and written.op == "-":
            written = written.operand
        if not isinstance(written, Literal) or not written.unit or "/" in written.unit:
            return False
        if written.unit == "%" and dtype.kind is Kind.MONEY:
            what, hint = "百分号「%」", "要写标准的倍数请写成 1.5 * 低保标准（或 150% * 低保标准）；金额请去掉「%」"
        elif written.unit != "%" and dtype.kind is Kind.PERCENT:
            what, hint = f"金额单位「{written.unit}」", "百分比写成 35% 或 0.35"
        else:
            return False
        self.report.error(
            "E110",
            f"{type_cn(dtype)}列中出现了{what}",
            scope.value_cell,
            found=as_written(written),
            expected=f"{type_cn(dtype)}，如 " + _EXAMPLE[dtype.kind],
            hint=hint,
        )
        return True

    def check_measure(
        self, written: Expr, bound: Expr, dtype: DType, scope: _Scope, compared: bool = False
    ) -> None:
        """E110 where a money column meets a percentage or a percent column an amount
        (a rule cell compares with it, an output, default or derived value is it):
        ``> rigid_expense_ratio`` in a money column compared yuan with 0.70, an output
        ``35%`` gave 0.35 yuan. A product of the two is money, a quotient of two amounts
        a plain number; either fits."""
        measure = self.measure(bound, scope)
        if self.check_unit(written, dtype, scope) or measure is None:
            return
        if {measure, dtype.kind} != MIXED:
            return
        what = f"{type_cn(dtype)}列「{scope.column}」" if scope.column else f"声明为{type_cn(dtype)}"
        value = f"{WORD[measure]}「{render(written)}」"
        self.report.error(
            "E110",
            f"{what}的条件与{value}比较" if compared else f"{what}的值是{value}",
            scope.value_cell,
            found=f"{render(written)}（{WORD[measure]}）",
            expected=f"{type_cn(dtype)}，如 " + _EXAMPLE[dtype.kind],
            hint=_MIXED_HINT[dtype.kind],
        )

    def measure(self, node: Expr, scope: _Scope) -> Kind | None:
        """What ``node`` measures (compiler/measures.py); E110 for each amount and
        share it adds, compares or chooses between."""
        mixes: list[Mix] = []
        found = measure(node, self.kind_of, mixes)
        for mix in mixes:
            self.report.error(
                "E110",
                mix.message(),
                scope.value_cell,
                found=f"{said(mix.money)} 与 {said(mix.share)}",
                expected="同为金额或同为百分比，如 rigid_spending - rigid_expense_ratio * household_income",
                hint="百分比是比例，乘以金额才是金额：写成 比例 * 金额",
            )
        return found

    def kind_of(self, ident: str) -> Kind | None:
        item = self.items.get(ident)
        return item.dtype.kind if item else None

    def check_whole(
        self, bound: Expr, declared: DType, where: Location, what: str, column: bool
    ) -> None:
        """W204 at a 类型 cell that declares ``number`` for ``what``, an input column
        or a derived value, whose value is always a whole number (a count such as
        assets.vehicles, an age, C#). Decisions are the same, but the analysis takes
        the value to be any decimal: rules ``= 0`` and ``>= 1`` gave E501 with
        ``assets.vehicles = 0.0001``, a household that cannot be."""
        if declared.kind is not Kind.NUMBER or not self.whole(bound):
            return
        effect = "分析按小数检查这一列" if column else "读取它的决策表按小数分析"
        self.report.warn(
            "W204",
            f"{what}总是整数，类型却写作 {type_said(declared)}：{effect}，"
            "会把 0.5 这样不会出现的取值当作可能，报出并不存在的规则缺口",
            where,
            found=declared.render(),
            expected="integer（整数）",
            hint="把类型改为 integer：决策结果不变，分析只检查整数"
            if column
            else "把类型改为 integer，读取它的输入列的类型也写 integer：决策结果不变",
        )

    def whole(self, node: Expr, written: bool = False) -> bool:
        """Whether ``node`` is always a whole number: an integer item, and the sums,
        differences, products, signs, choices and counts of such. For W204 a written
        number makes nothing whole (``assets.vehicles + 1`` is not said to be), so that
        a value only whole by chance of the figures typed is never flagged; ``written``
        counts whole numbers written (``1``, ``100%``; not ``0.5`` or ``50%``) and a
        rounding to no decimals (``round(x, 0)``), for a value declared ``integer``."""
        match node:
            case Literal(value) if written and isinstance(value, Decimal):
                return value == value.to_integral_value()  # 1, 100%; not 0.5
            case Name(ident):
                return self.kind_of(ident) is Kind.INTEGER
            case Unary("-", operand):
                return self.whole(operand, written)
            case Binary(op, left, right) if op in ("+", "-", "*"):
                return self.whole(left, written) and self.whole(right, written)
            case If(_, then, otherwise):
                branches = [n for n in (then, otherwise) if n != Literal(None)]
                return bool(branches) and all(self.whole(n, written) for n in branches)
            case Call(func, args):
                if func in _WHOLE_CALLS or (func == "floor" and len(args) == 1):
                    return True
                if written and func in ("round", "floor") and _to_units(args):
                    return True
                if func in ("sum", "min_of", "max_of", "abs"):
                    return self.whole(args[0], written)
                if func in ("min", "max", "coalesce"):
                    return all(self.whole(a, written) for a in args)
        return False

    def check_integer(
        self, original: Expr, bound: Expr, scope: _Scope, what: str, text: str = ""
    ) -> None:
        """E303 at the cell that writes a value declared ``integer`` that may be a
        fraction (``assets.money / 3``, ``counted_members * 0.5``): both evaluators
        cast it to its type at the end, rounding half up, so 5 / 3 became 2 without a
        word. Floor, ceil or round(x, 0) say which whole number is meant. ``text`` is
        the cell as typed, where there is one."""
        if self.whole(bound, written=True):
            return
        written = text.strip() or _unbracketed(original)
        value = _fraction(bound)
        if value is not None:  # 2.5 written: it is a fraction, not may be
            lower, upper = (_whole_text(value, r) for r in (ROUND_FLOOR, ROUND_CEILING))
            said = f"是小数，类型却写作 integer（整数）：计算时会取整为 {_half_up(value)} 而不提示"
            expected = f"整数，如 {lower} 或 {upper}；或类型写作 number（数值）或 money（金额）"
        else:
            said = "可能得出小数，类型却写作 integer（整数）：计算时会按四舍五入取整而不提示（5 / 3 得 2）"
            expected = (
                "类型写作 number（数值）或 money（金额）；"
                f"或取整后的整数，如 floor({written})"
            )
        if self.published is not None:
            self.newer_check("E303", f"{what}「{written}」{said}", scope.value_cell,
                             "四舍五入为整数，如 5 / 3 得 2")
            return
        self.report.error(
            "E303",
            f"{what}「{written}」{said}",
            scope.value_cell,
            found=f"{written}（{'小数' if value is not None else '可能是小数'}）",
            expected=expected,
            hint="要保留小数请把类型改为 number 或 money；要取整请写明取整方式："
            "floor（向下）、ceil（向上）或 round(x, 0)（四舍五入）",
        )

    def newer_check(self, code: str, said: str, where: Location, result: str) -> None:
        """Hold a W705 for what a published version holds that a check added after it
        was published refuses (``code``); ``say_newer`` says it for each version that
        shares the owner, once the bind cache has it (compiler/bind.py)."""
        self.newer.append((code, said, where, result))

    def say_newer(self, code: str, said: str, where: Location, result: str) -> None:
        """W705: the version keeps deciding as it did when published, which ``result``
        says; the working copy still gets ``code``."""
        self.report.warn(
            "W705",
            f"已发布版本 {self.published} 的{said}。该版本发布时尚无这项检查（{code}），"
            f"仍按发布时的规则计算（{result}）",
            where,
            found=said,
            expected=f"工作副本中须改正（{code}），改正后发布新版本",
            hint="该版本的决策结果与发布时相同；修改工作副本并发布新版本后，新版本按改正后的写法计算",
        )

    def check_fractions(self, test: Test, column: str, scope: _Scope, text: str) -> None:
        """W205 at a rule cell of an integer input column that compares it with a
        written fraction (``< 0.5``, ``[1..2.5]``): decisions are the same, but which
        whole number the rule stops at is left to the reader to work out, and ``= 0.5``
        never holds. The message gives the whole-number test meant (``<= 0``)."""
        found = list(_fractions(test))
        if not found:
            return
        said = "；".join(_fraction_said(part, meant) for part, meant in found)
        meant = [m for _, m in found if m is not None]
        self.report.warn(
            "W205",
            f"整数输入列「{column}」的条件写了小数：{said}",
            scope.location,
            found=text or render(test),
            expected="按整数写的条件，如 " + ("、".join(meant) if meant else "0 或 1"),
            hint="这一列的值总是整数，决策结果不变；按整数写出条件，读表的人和分析都能看出规则在哪个整数处分界。"
            "若本意是比较小数，请把第 4 行的类型改为 number",
        )

    def check_comparable(self, a: DType, b: DType, scope: _Scope, op: str) -> None:
        if NULL_TYPE in (a, b) or _family(a) == _family(b):
            return
        self.report.error(
            "E303",
            f"不能比较{_family_cn(a)}与{_family_cn(b)}（运算「{op}」）",
            scope.location,
            found=f"{type_said(a)} 与 {type_said(b)}",
            expected="两边同为数值、日期、文本或是/否",
        )

    def check_type(
        self,
        original: Expr,
        bound: Expr,
        scope: _Scope,
        declared: DType,
        what: str = "",
        text: str = "",
    ) -> None:
        """An output cell's, a default's or a derived value's expression against the
        type declared for it: E303 for another kind of value, a value that may be a
        fraction where an integer is declared, or an enum value the declared type does
        not list; E110 for a share where money is declared or an amount where a
        percentage is. ``what`` names the value for messages (派生值「x」), ``text`` is
        the cell as typed."""
        actual = self.type_of(bound, scope)
        self.check_measure(original, bound, declared, scope)
        if declared.kind is Kind.INTEGER and actual.is_numeric:
            self.check_integer(original, bound, scope, what or "值", text)
        if actual == NULL_TYPE or _family(actual) == _family(declared):
            extra = [v for v in actual.values if v not in declared.values]
            if declared.kind is Kind.ENUM and actual.kind is Kind.ENUM and extra:
                self.report.error(
                    "E303",
                    f"「{render(original)}」可能取到类型 {declared.render()} 没有的值 "
                    + "、".join(value_shown(v, actual.values) for v in extra),
                    scope.location,
                    found=actual.render(),
                    expected=declared.render(),
                    hint="在类型中加上这些取值，或改写单元格使它只取声明的值",
                )
            return
        if declared.kind is Kind.LIST and actual.kind in (Kind.TEXT, Kind.ENUM):
            return
        self.report.error(
            "E303",
            f"值的类型与声明的类型「{type_said(declared)}」不符",
            scope.location,
            found=type_said(actual),
            expected=type_said(declared),
        )


# each kind of value in words, for messages
_TYPE_CN = {
    Kind.MONEY: "金额",
    Kind.NUMBER: "数值",
    Kind.INTEGER: "整数",
    Kind.PERCENT: "百分比",
    Kind.BOOLEAN: "是/否",
    Kind.DATE: "日期",
    Kind.TEXT: "文本",
    Kind.ENUM: "枚举",
    Kind.LIST: "列表",
}
# the functions whose value is a whole number whatever they are given
_WHOLE_CALLS = ("count", "age", "months_between", "ceil")
_EXAMPLE = {Kind.MONEY: "1301.50 或 低保标准", Kind.PERCENT: "35%"}
_MIXED_HINT = {
    Kind.MONEY: "百分比是比例，不是金额：乘以金额才是金额，如 rigid_expense_ratio * household_income；"
    "要比较占比，请在一个百分比列中比较",
    Kind.PERCENT: "金额不是比例：要比较金额请用金额列；比例可写成 金额 / 金额，如 rigid_spending / household_income",
}


def type_cn(dtype: DType) -> str:
    return _TYPE_CN.get(dtype.kind, dtype.render())


def type_said(dtype: DType) -> str:
    """A type as a message quotes it: as written in a 类型 cell, with its Chinese
    name (「money（金额）」, 「enum(tekun,none)（枚举）」) for a reader of Chinese."""
    cn = _TYPE_CN.get(dtype.kind)
    return f"{dtype.render()}（{cn}）" if cn else dtype.render()


def value_shown(value: str, domain: tuple[str, ...]) -> str:
    """An enum value with its Chinese name where compiler/vocabulary.py has one."""
    cn = value_cn(value, domain)
    return value if cn == value else f"{value}（{cn}）"


def column_mismatch(declared: DType, actual: DType, named: bool) -> str | None:
    """Whether an input column's declared type misstates its expression's: None when
    it fits, "enum" when it lists too few values, else the code to report. A column
    that names a value declares that value's type; a computed number (a quotient,
    ``round``) may be declared money, a percentage or a number, not an integer."""
    if actual == NULL_TYPE:
        return None
    if _family(actual) != _family(declared):
        return "E303"
    if {declared.kind, actual.kind} == MIXED:
        return "E110"
    if declared.kind is Kind.ENUM and actual.kind is Kind.ENUM:
        return "enum" if set(actual.values) - set(declared.values) else None
    if not declared.is_numeric or declared.kind is actual.kind:
        return None
    if actual.kind is Kind.INTEGER:
        return None if declared.kind is Kind.NUMBER else "E303"
    if actual.kind is Kind.NUMBER and not named:
        return None if declared.kind in MIXED else "E303"
    return "E303"


def _literal_type(value: object, unit: str = "") -> DType:
    if value is None:
        return NULL_TYPE
    if isinstance(value, bool):
        return DType(Kind.BOOLEAN)
    if isinstance(value, str):
        return DType(Kind.TEXT)
    if hasattr(value, "year"):
        return DType(Kind.DATE)
    if isinstance(value, Decimal) and not unit and value == value.to_integral_value():
        return DType(Kind.INTEGER)  # 1, so that assets.vehicles + 1 is an integer
    return DType(Kind.NUMBER)


# the numeric kinds from narrowest to widest: the type of a choice between two
_WIDER = (Kind.INTEGER, Kind.PERCENT, Kind.NUMBER, Kind.MONEY)


def _joined(then: DType, otherwise: DType) -> DType:
    """The type of ``if … then a else b``: the other branch where one is null; of two
    numbers the wider (``if c then 1 else 0.5`` is a number, not an integer); else the
    first."""
    if then == NULL_TYPE:
        return otherwise
    if otherwise == NULL_TYPE or not (then.is_numeric and otherwise.is_numeric):
        return then
    return max(then, otherwise, key=lambda t: _WIDER.index(t.kind))


def _unbracketed(node: Expr) -> str:
    """``node`` as a message quotes it, without the brackets ``render`` puts round an
    operation: ``assets.money / 3``."""
    text = render(node)
    return text[1:-1] if isinstance(node, Binary) else text


def _to_units(args: tuple[Expr, ...]) -> bool:
    """Whether ``round`` or ``floor`` with ``args`` keeps no decimals: one argument,
    or a written number of places that is 0 or less (``round(x, 0)``, ``round(x, -1)``)."""
    places = _number(args[1]) if len(args) > 1 else Decimal(0)
    return places is not None and places <= 0


def _fractions(test: Test) -> Iterator[tuple[Test, str | None]]:
    """Each part of a rule cell that compares with a written fraction, with the
    whole-number test it amounts to on integers; None for ``= 0.5`` and ``!= 0.5``,
    which never or always hold."""
    match test:
        case Disjunction(tests) | Negation(Disjunction(tests)):
            for part in tests:
                yield from _fractions(part)
        case Compare(op, operand) if _fraction(operand) is not None:
            value = _fraction(operand)
            assert value is not None
            if op in ("<", "<="):
                yield test, f"<= {_whole_text(value, ROUND_FLOOR)}"
            elif op in (">", ">="):
                yield test, f">= {_whole_text(value, ROUND_CEILING)}"
            else:
                yield test, None
        case Interval(low, low_closed, high, high_closed):
            low_value, high_value = _fraction(low), _fraction(high)
            if low_value is None and high_value is None:
                return
            opening = (
                f"[{_whole_text(low_value, ROUND_CEILING)}"
                if low_value is not None
                else f"{'[' if low_closed else '('}{render(low)}"
            )
            closing = (
                f"{_whole_text(high_value, ROUND_FLOOR)}]"
                if high_value is not None
                else f"{render(high)}{']' if high_closed else ')'}"
            )
            yield test, None if _empty(test) else f"{opening}..{closing}"


def _fraction(node: Expr) -> Decimal | None:
    """The value of a written number that is not whole (0.5, -0.5, 50%); else None."""
    value = _number(node)
    return None if value is None or value == value.to_integral_value() else value


def _number(node: Expr) -> Decimal | None:
    """The value of a written number; None for anything else."""
    if isinstance(node, Literal) and isinstance(node.value, Decimal):
        return node.value
    return None


def _whole_text(value: Decimal, rounding: str) -> str:
    """``value`` rounded to a whole number as a cell writes it (0, never -0)."""
    whole = value.to_integral_value(rounding=rounding)
    return format(whole if whole else Decimal(0), "f")


def _half_up(value: Decimal) -> str:
    """``value`` as the cast to an integer gives it: rounded half away from zero."""
    return _whole_text(value.quantize(Decimal(1), ROUND_HALF_UP), ROUND_FLOOR)


def _empty(interval: Interval) -> bool:
    """Whether an interval of written numbers holds no whole number ([1.2..1.8])."""
    low, high = _number(interval.low), _number(interval.high)
    if low is None or high is None:
        return False
    least = low.to_integral_value(rounding=ROUND_CEILING)
    if least == low and not interval.low_closed:
        least += 1
    most = high.to_integral_value(rounding=ROUND_FLOOR)
    if most == high and not interval.high_closed:
        most -= 1
    return least > most


def _fraction_said(part: Test, meant: str | None) -> str:
    """One part of a W205 message: what the part is on whole numbers."""
    written = _test_written(part)
    if meant is not None:
        return f"整数中「{written}」即「{meant}」"
    if isinstance(part, Interval):
        return f"「{written}」之内没有整数，这一项永远不成立"
    assert isinstance(part, Compare)
    value = _test_written(Compare("=", part.operand))
    if part.op == "=":
        return f"整数不会等于 {value}，「{written}」永远不成立"
    return f"整数总不等于 {value}，「{written}」对任何取值都成立"


def _test_written(test: Test) -> str:
    """A part of a rule cell as the cell writes it: ``0.5`` for a test of equality,
    numbers with their unit (``< 50%``)."""
    match test:
        case Compare(op, operand):
            operand_text = _number_written(operand)
            return operand_text if op == "=" else f"{op} {operand_text}"
        case Interval(low, low_closed, high, high_closed):
            opening, closing = "[" if low_closed else "(", "]" if high_closed else ")"
            return f"{opening}{_number_written(low)}..{_number_written(high)}{closing}"
    return render(test)


def _number_written(node: Expr) -> str:
    if isinstance(node, Literal) and _number(node) is not None:
        return as_written(node)
    return render(node)


def _family(dtype: DType) -> str:
    if dtype.is_numeric:
        return "number"
    if dtype.kind in (Kind.TEXT, Kind.ENUM):
        return "text"
    return str(dtype.kind)


def _family_cn(dtype: DType) -> str:
    return {"number": "数值", "text": "文本", "boolean": "是/否", "date": "日期", "list": "列表"}[
        _family(dtype)
    ]
