"""The columns that link household files, under the names county staff give them.

``household_id`` joins a member or event to its household and ``county_code`` chooses
its county's tables; the staging reads both by their exact ids (``households_stage``).
A CSV header is typed by people, and names other fields by their Chinese names in the
province's 字段 sheet; so it may name these two by theirs: ``rename_keys`` reads a CSV
column 户编号 as household_id (in every file) and 居住地区划代码 as county_code, and a
file that has both spellings of one is E605 (which one holds the key cannot be known).

Any other spelling is not guessed (``misnamed``): 户号 is, in a county's records, often
the number of a hukou booklet, and one household of the assistance rules may span
several booklets, or share one with another household; 家庭编号, 区划代码 or 人员编号 may
well be the key, but only whoever exported the file knows. Such a column is named in the
E604 for the missing key, with the name to give it. An ID-card number (身份证号码) is
not a member's ``person_id``: the contract makes person_id a code unique within its
household, echoed into every decision, trace and alert, and says nothing of ID cards;
the E604 for a members file that has one and no 成员编号 says so. Parquet, DuckDB and
JSON input keep the contract's ids.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from compiler.diagnostics import Diagnostic, Location, make
from compiler.households_model import unreadable
from compiler.model import Level
from compiler.normalise import fold_text
from compiler.sqlgen import quote

# The link columns of each file of CSV input, with their names in the 字段 sheet
_LINKS = {
    Level.HOUSEHOLD: (("household_id", "户编号"), ("county_code", "居住地区划代码")),
    Level.MEMBER: (("household_id", "户编号"),),
    Level.EVENT: (("household_id", "户编号"),),
}
# Headers seen in county exports for a required key, not read as it (see above)
_SPELLINGS = {
    "household_id": (
        "家庭编号", "家庭编码", "户号", "户编码", "家庭户号", "家庭户编号",
        "救助家庭编号", "家庭id", "户id", "hh_id", "hid",
    ),
    "county_code": (
        "区划代码", "行政区划代码", "居住地行政区划代码", "县区代码", "区县代码",
        "县(市、区)代码", "所在地区划代码", "地区代码",
    ),
    "person_id": ("人员编号", "个人编号", "成员序号", "人员id", "成员id", "pid"),
}  # fmt: skip
# ID-card numbers: a person_id only if the contract said so, and it does not
_ID_CARDS = ("身份证号", "身份证号码", "公民身份号码", "公民身份证号码", "证件号码", "身份证")


def is_link(header: str) -> bool:
    """Whether a CSV header is the Chinese name of a key linking the files (户编号)."""
    folded = fold_text(header)
    return any(folded == name_cn for links in _LINKS.values() for _, name_cn in links)


def rename_keys(
    con: duckdb.DuckDBPyConnection, table: str, level: Level, shown: Path
) -> None:
    """Rename a CSV table's column 户编号 (居住地区划代码) to household_id
    (county_code); raise E605 when the file has the column by both names."""
    names = [d[0] for d in con.execute(f"SELECT * FROM {table} LIMIT 0").description]
    for ident, name_cn in _LINKS[level]:
        chinese = [n for n in names if fold_text(n) == name_cn]
        if not chinese:
            continue
        if ident in names or len(chinese) > 1:
            both = [n for n in names if n == ident] + chinese
            raise unreadable(
                f"{shown.name} 中「{name_cn}」（{ident}）有 {len(both)} 列："
                + "、".join(both),
                shown,
                found="、".join(both),
                expected=f"只有一列 {ident}（或写作「{name_cn}」）",
                hint="程序无法判断哪一列才是要用的：删去多余的一列",
            )
        con.execute(
            f"ALTER TABLE {table} RENAME COLUMN {quote(chinese[0])} TO {quote(ident)}"
        )


def misnamed(ident: str, header: list[str]) -> tuple[str, bool] | None:
    """The header cell that most likely holds the missing key ``ident`` under
    another name, and whether it is an ID-card number; None when there is none."""
    wanted = {s.casefold() for s in _SPELLINGS.get(ident, ())} | {ident.casefold()}
    cards = set(_ID_CARDS) if ident == "person_id" else set()
    for name in header:
        said = fold_text(name).replace(" ", "").casefold()
        if said in wanted and name != ident:
            return name, False
    for name in header:
        if fold_text(name).replace(" ", "") in cards:
            return name, True
    return None


def absent_key(
    where: str, name_cn: str, ident: str, file: Path, header: list[str], csv: bool
) -> Diagnostic | None:
    """E604 for a required key missing from a file that has a column holding it under
    another name (``misnamed``), at that column, with the name to give it; None when
    the file has no such column."""
    found = misnamed(ident, header)
    if found is None:
        return None
    name, card = found
    said = f"{where}中没有必填字段「{name_cn}」（{ident}）这一列"
    # person_id is read by its Chinese name in every format, the links in CSV only
    chinese = csv or ident not in ("household_id", "county_code")
    rename = f"{ident} 或 {name_cn}" if chinese else ident
    if card:
        return make(
            "E604",
            f"{said}；身份证号码列「{name}」不作为成员编号读取",
            Location(file=str(file), cell=name),
            found=name,
            expected=f"表头中有 {rename} 列，如 P001-1、P001-2",
            hint="成员编号只用于在一户内区分成员，会写入每条决策、追踪和预警；"
            "数据约定没有把它定为身份证号码，程序也不读取身份证号码。"
            "请增加成员编号列（可按户内顺序编号）",
        )
    # HOUSEHOLD_ID is renamed household_id, 家庭编号 户编号
    target = ident if name.isascii() or not chinese else name_cn
    return make(
        "E604",
        f"{said}；列「{name}」不按{name_cn}读取",
        Location(file=str(file), cell=name),
        found=name,
        expected=f"列名写 {rename}",
        hint="关联各文件、确定适用决策表的编号列只按字段标识"
        + ("或「字段」表中的名称" if chinese else "")
        + f"读取，不按相近的列名猜测；若「{name}」就是{name_cn}，"
        f"把列名改为 {target} 后重试",
    )


__all__ = [
    "absent_key",
    "is_link",
    "misnamed",
    "rename_keys",
]
