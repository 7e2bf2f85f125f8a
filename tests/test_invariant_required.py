"""An invariant's counterexample is a household the input accepts.

The input refuses a member without a birth date (E604), so an age computed from it is
never missing. The invariant models cut each leaf's values with ``domains.domain_of``,
which asked ``County.nullable`` alone: it kept a missing age, and an invariant that
holds for every accepted household was reported broken (E504) with 「age = 空值」
as its counterexample. The table analysis had the input's knowledge
(``bounds.never_missing``); the models now read each leaf at its level with it too.

Tables go through the real load path (a CSV province folder and a county folder).
"""

from __future__ import annotations

from pathlib import Path

from compiler.diagnostics import Diagnostic
from tests.test_analyse import (
    DERIVED,
    FIELDS,
    INVARIANT_HEADER,
    STANDARDS,
    check,
    table,
)
from tests.workbooks import write_csv_folder

COUNTY = "330106"
# a member's birth date, which the input requires, and an optional date of another
# field, which it does not: the same table and invariant over each
MEMBER_FIELDS = [
    ["birth_date", "出生日期", "成员", "date", None, None],
    ["disability_date", "残疾认定日期", "成员", "date", None, "可不填"],
]
AGES = [
    ["age", "年龄", "成员", "integer", "age(birth_date)", "测试"],
    ["years_disabled", "残疾年数", "成员", "integer", "age(disability_date)", "测试"],
]


def write(root: Path, source: str, then: str) -> Path:
    """A member table flagging ``source`` of 60 or more, and the invariant that a
    member not flagged satisfies ``then``."""
    elderly = table(
        "elderly", "FIRST", [(source, "integer")], [("flagged", "boolean", "否")],
        [("old", [">= 60"], ["是"])], "层级=成员", "接受缺口=其余成员不标记",
    )
    invariant = ["not_flagged", "未标记的成员未满60", "要求", None, None, "not(flagged)", then, "测试"]
    write_csv_folder(
        root / "province",
        {
            "字段": [*FIELDS, *MEMBER_FIELDS],
            "标准参数": STANDARDS,
            "派生值": [*DERIVED, *AGES],
            "日历": [["日期", "类型", "说明"], ["2025-01-01", "休息日", "元旦"]],
            "elderly": elderly,
            "不变式": [INVARIANT_HEADER, invariant],
        },
    )
    header = ["标识", "值", "生效日期", "失效日期", "来源"]
    write_csv_folder(root / "counties" / f"{COUNTY}-西湖区", {"标准参数": [header]})
    return root


def broken(root: Path) -> list[Diagnostic]:
    found, _ = check(root)
    return [d for d in found if d.code == "E504"]


def test_an_invariant_holding_for_every_accepted_household_is_not_broken(
    tmp_path: Path,
) -> None:
    """Only a missing age breaks it, and no accepted household has one."""
    assert broken(write(tmp_path, "age", "age < 60")) == []


def test_a_broken_invariant_is_shown_with_a_birth_date_given(tmp_path: Path) -> None:
    [failure] = broken(write(tmp_path, "age", "age < 59"))

    assert failure.extra["witness"] == {"age": 59}
    assert "空值" not in failure.message


def test_a_value_of_an_optional_field_may_still_be_missing(tmp_path: Path) -> None:
    """The disability date may be left out: its missing value is a real
    counterexample, as before."""
    [failure] = broken(write(tmp_path, "years_disabled", "years_disabled < 60"))

    assert failure.extra["witness"] == {"years_disabled": None}
