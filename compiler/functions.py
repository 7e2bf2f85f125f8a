"""The functions a cell may call, with their arity and result type, in one place.

The binder checks calls against this catalogue; the interpreter and the SQL compiler
each implement every name listed here (a test keeps the three in step).
"""

from __future__ import annotations

from dataclasses import dataclass

from compiler.model import DType, Kind


@dataclass(frozen=True, slots=True)
class Function:
    name: str
    min_args: int
    max_args: int | None
    result: str  # a Kind name, or "arg" (the first argument's type), "list"
    aggregate: bool = False  # ranges over the household's members
    description: str = ""


FUNCTIONS: dict[str, Function] = {
    f.name: f
    for f in (
        Function("min", 1, None, "arg", description="最小值"),
        Function("max", 1, None, "arg", description="最大值"),
        Function("abs", 1, 1, "arg", description="绝对值"),
        Function("round", 1, 2, "number", description="四舍五入"),
        Function("floor", 1, 2, "integer", description="向下取整（可指定小数位数）"),
        Function("ceil", 1, 1, "integer", description="向上取整"),
        Function("coalesce", 1, None, "arg", description="第一个非空值"),
        Function("is_null", 1, 1, "boolean", description="是否为空"),
        Function("age", 1, 1, "integer", description="到决策日的周岁"),
        Function("months_between", 2, 2, "integer", description="相隔整月数"),
        Function("add_months", 2, 2, "date", description="加月"),
        Function("add_days", 2, 2, "date", description="加日"),
        Function("next_month_start", 1, 1, "date", description="次月第一天"),
        Function("working_days_after", 2, 2, "date", description="第 n 个工作日"),
        Function("sum", 1, 2, "arg", aggregate=True, description="成员求和"),
        Function("count", 1, 1, "integer", aggregate=True, description="成员计数"),
        Function("exists", 1, 1, "boolean", aggregate=True, description="有成员满足"),
        Function("every", 1, 1, "boolean", aggregate=True, description="全部成员满足"),
        Function("min_of", 1, 1, "arg", aggregate=True, description="成员最小值"),
        Function("max_of", 1, 1, "arg", aggregate=True, description="成员最大值"),
        Function("collect", 2, 2, "list", aggregate=True, description="成员列表"),
    )
}


def result_type(function: Function, arg_types: list[DType]) -> DType:
    """The type a call returns, given its arguments' types."""
    if function.result == "arg":
        return _widest(arg_types)
    if function.result == "list":
        return DType(Kind.LIST)
    if function.name == "floor" and len(arg_types) > 1:
        return DType(Kind.NUMBER)  # floor(x, 2): down to the fen, not to a whole number
    return DType(Kind(function.result))


_ORDER = [Kind.INTEGER, Kind.PERCENT, Kind.NUMBER, Kind.MONEY]


def _widest(types: list[DType]) -> DType:
    """min/max/coalesce over numbers: money wins, then number, percent, integer."""
    numeric = [t for t in types if t.kind in _ORDER]
    if not numeric:
        return types[0] if types else DType(Kind.TEXT)
    return max(numeric, key=lambda t: _ORDER.index(t.kind))
