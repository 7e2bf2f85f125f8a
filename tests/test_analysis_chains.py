"""A chain of derived values, each reading the one before twice, is checked in
linear time.

``bounds.never_missing`` copied each derived value's whole definition at every place
it was read, so a chain of ``min(prev + prev, 5)`` made 2^n trees: ``check`` took 19 s
at 18 levels and more than 5 minutes at 45 (helper-78). The work is counted here, not
timed: every call into the compiler while the project is opened and analysed, with
the count stopped (an error) once it passes a budget linear in the chain's length.
The findings are asserted too, so a walk made linear by dropping a step would fail.

Tables go through the real load path (a CSV province folder and a county folder).
"""

from __future__ import annotations

import sys
from datetime import date
from itertools import pairwise
from pathlib import Path
from types import FrameType
from typing import Any

import compiler
from compiler.analyse import analyse
from compiler.diagnostics import Diagnostic, Report, render_text
from compiler.engine import open_project
from tests.helpers import write_csv_project

AS_OF = date(2025, 6, 1)
COUNTY = "330106"
PACKAGE = str(Path(compiler.__file__).parent)
# Calls into the compiler each level of the chain may add to opening and analysing
# the project: about 300 with the walks linear; the 2^n walk passed it at 10 levels.
CALLS_PER_LEVEL = 1_000
Rows = list[list[object]]

FIELDS: Rows = [
    ["标识", "名称", "层级", "类型", "默认", "下限", "上限", "说明"],
    ["household_id", "户编号", "家庭", "text", None, None, None, None],
    ["county_code", "县代码", "家庭", "text", None, None, None, None],
    ["person_id", "成员编号", "成员", "text", None, None, None, None],
    ["birth_date", "出生日期", "成员", "date", None, None, None, "必填"],
    ["grade", "残疾等级", "成员", "integer", None, "1", "4", "可不填"],
]


class OverBudget(Exception):
    """Raised from the tracer once the compiler has made more calls than allowed."""


def derived(source: str, levels: int) -> Rows:
    """``age``, then ``step1`` .. ``step<levels>`` each reading the one before twice."""
    rows: Rows = [
        ["标识", "名称", "层级", "类型", "表达式", "依据"],
        ["age", "年龄", "成员", "integer", "age(birth_date)", "R-N16"],
    ]
    for k in range(1, levels + 1):
        before = source if k == 1 else f"step{k - 1}"
        expr = f"abs({before} - {before})"  # missing exactly when ``before`` is
        rows.append([f"step{k}", f"第{k}步", "成员", "integer", expr, "测试"])
    return rows


def last(source: str, levels: int) -> str:
    return source if levels == 0 else f"step{levels}"


def table(read: str) -> Rows:
    """A member table ``t`` over ``read`` covering every value it can have."""
    return [
        ["t", "t", "FIRST", "层级=成员"],
        ["规则", "输入", "输出", "注释"],
        ["名称", read, "group", "依据"],
        ["类型", "integer", "enum(a,b)", None],
        ["r0", "< 1", "a", "测试"],
        ["r1", ">= 1", "b", "测试"],
    ]


def write(root: Path, source: str, levels: int) -> None:
    province = {
        "字段": FIELDS,
        "派生值": derived(source, levels),
        "t": table(last(source, levels)),
    }
    write_csv_project(root, province)


def counted(root: Path, budget: int) -> tuple[int, list[Diagnostic]]:
    """The calls into the compiler while the project is opened and analysed, and the
    analysis findings on ``t``; OverBudget once the calls pass ``budget``."""
    calls = 0

    def tracer(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal calls
        if event == "call" and frame.f_code.co_filename.startswith(PACKAGE):
            calls += 1
            if calls > budget:
                raise OverBudget(f"编译器调用超过 {budget} 次")

    report = Report()
    sys.settrace(tracer)
    try:
        open_project(root, [COUNTY], AS_OF, analyse, report=report)
    finally:
        sys.settrace(None)
    found = [d for d in report.items if "counties" in d.extra]
    problems = [d for d in report.errors if d not in found]
    assert not problems, render_text(problems)
    return calls, [d for d in found if d.extra.get("table") == "t"]


def chain_findings(tmp_path: Path, source: str, levels: int) -> list[Diagnostic]:
    """The findings on a chain of ``levels``, within a budget linear in ``levels``
    above the same project without the chain."""
    write(tmp_path / "none", source, 0)
    base, _ = counted(tmp_path / "none", 10**9)
    write(tmp_path / "chain", source, levels)
    _, found = counted(tmp_path / "chain", base + CALLS_PER_LEVEL * levels)
    return found


def test_a_chain_from_the_age_is_never_missing_in_linear_work(tmp_path: Path) -> None:
    """The age comes from the required birth date, so no step is ever missing: no
    gap for a missing ``step45`` (this took more than 5 minutes)."""
    assert chain_findings(tmp_path, "age", 45) == []


def test_a_chain_from_an_optional_field_may_be_missing_in_linear_work(
    tmp_path: Path,
) -> None:
    """``grade`` may be left out, and so every step of the chain may be missing."""
    found = chain_findings(tmp_path, "grade", 45)
    assert [(d.code, d.extra["witness"]) for d in found] == [
        ("E501", {"step45": None})
    ], render_text(found)


def test_the_work_grows_by_the_same_amount_for_each_level(tmp_path: Path) -> None:
    """Ten more levels cost the same whether they are added to 10 or to 30."""
    used = []
    for levels in (10, 20, 30, 40):
        write(tmp_path / str(levels), "age", levels)
        used.append(counted(tmp_path / str(levels), 10**6)[0])
    steps = [b - a for a, b in pairwise(used)]
    assert max(steps) <= 1.2 * min(steps), steps
