"""The types of binding: what a bound expression holds, and a declared type checked
against it.

``TypeChecks`` is the half of compiler/bind.py's binder that knows types: the type of a
bound expression, E303 for a value of another kind than declared or compared, E110 for
an amount where a share is meant or the reverse (compiler/measures.py tells them
apart), W204 for a whole number declared ``number``. The binder proper resolves names, levels and functions; both work on the same
bound tree and scope.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from compiler.diagnostics import Location, Report
from compiler.expr import Binary, Call, Expr, If, Literal, Name, Unary, render
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

    def type_of(self, node: Expr, scope: _Scope) -> DType:
        match node:
            case Literal(value):
                return _literal_type(value)
            case Name(ident):
                return self.items[ident].dtype
            case Unary("not", _):
                return DType(Kind.BOOLEAN)
            case Unary(_, operand):
                return self.type_of(operand, scope)
            case Binary(op, left, right):
                return self.binary_type(op, left, right, scope)
            case If(_, then, otherwise):
                then_type = self.type_of(then, scope)
                return self.type_of(otherwise, scope) if then_type == NULL_TYPE else then_type
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

    def whole(self, node: Expr) -> bool:
        """Whether ``node`` is always a whole number: an integer item, and the sums,
        differences, products, signs, choices and counts of such. A written number
        makes nothing whole (``assets.vehicles + 1`` is not said to be), so that a
        value only whole by chance of the figures typed is never flagged."""
        match node:
            case Name(ident):
                return self.kind_of(ident) is Kind.INTEGER
            case Unary("-", operand):
                return self.whole(operand)
            case Binary(op, left, right) if op in ("+", "-", "*"):
                return self.whole(left) and self.whole(right)
            case If(_, then, otherwise):
                branches = [n for n in (then, otherwise) if n != Literal(None)]
                return bool(branches) and all(self.whole(n) for n in branches)
            case Call(func, args):
                if func in _WHOLE_CALLS or (func == "floor" and len(args) == 1):
                    return True
                if func in ("sum", "min_of", "max_of", "abs"):
                    return self.whole(args[0])
                if func in ("min", "max", "coalesce"):
                    return all(self.whole(a) for a in args)
        return False

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

    def check_type(self, original: Expr, bound: Expr, scope: _Scope, declared: DType) -> None:
        """An output cell's, a default's or a derived value's expression against the
        type declared for it: E303 for another kind of value, or an enum value the
        declared type does not list; E110 for a share where money is declared or an
        amount where a percentage is."""
        actual = self.type_of(bound, scope)
        self.check_measure(original, bound, declared, scope)
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


def _literal_type(value: object) -> DType:
    if value is None:
        return NULL_TYPE
    if isinstance(value, bool):
        return DType(Kind.BOOLEAN)
    if isinstance(value, str):
        return DType(Kind.TEXT)
    if hasattr(value, "year"):
        return DType(Kind.DATE)
    return DType(Kind.NUMBER)


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
