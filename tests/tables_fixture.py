"""A small but complete tables folder (province CSV + one county) for tests to break.

``province_sheets()`` returns fresh rows each call; a test changes one cell and writes
the folder with ``write_tables``. The county workbook is written as .xlsx or as a CSV
folder, so each broken case can be tried in both forms.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import STANDARDS_HEADER
from tests.workbooks import write_csv_folder, write_xlsx

COUNTY = "330106"
COUNTY_FILE = "330106-西湖区"


def province_sheets() -> dict[str, list[list[object]]]:
    return {
        "字段": [
            ["标识", "名称", "层级", "类型", "默认", "下限", "上限", "说明"],
            ["household_id", "家庭编号", "家庭", "text", None, None, None, None],
            ["county_code", "县代码", "家庭", "text", None, None, None, None],
            ["assets.money", "货币财产", "家庭", "money", "0", "0", None, None],
            ["person_id", "成员编号", "成员", "text", None, None, None, None],
            ["birth_date", "出生日期", "成员", "date", None, None, None, None],
            ["income.wage", "工资收入", "成员", "money", "0", None, None, "净收入，可为负"],
            ["event.type", "事件类型", "事件", "text", None, None, None, None],
            ["event.date", "事件日期", "事件", "date", None, None, None, None],
            ["event.person_id", "事件成员", "事件", "text", None, None, None, None],
        ],
        "标准参数": [
            STANDARDS_HEADER,
            ["dibao_standard", "低保标准", "1149", "元/人/月", "2024-01-01", None, "zjol",
             None, "money", "是", None, None, "否"],
            ["marginal_multiplier", "边缘倍数", "1.5", "倍", "2024-01-01", None, "意见 二",
             None, "number", "是", "1.5", "2", "是"],
            ["income_cap", "年收入上限", "100000", "元/年", "2024-01-01", None, "意见 二",
             None, "money", "否", None, None, "是"],
        ],
        "派生值": [
            ["标识", "名称", "层级", "类型", "表达式", "依据"],
            ["income_per_capita", "人均月收入", "家庭", "money",
             "round(sum(income.wage) / count(true) / 12, 2)", "R-N2"],
            ["marginal_line", "边缘标准", "家庭", "money", "边缘倍数 * 低保标准", "二"],
        ],
        "日历": [["日期", "类型", "说明"], ["2025-01-01", "休息日", "元旦"]],
        "household_group": [
            ["household_group", "家庭救助类别", "FIRST", "层级=家庭"],
            ["规则", "输入", "输入", "输出", "注释"],
            ["名称", "income_per_capita", "assets.money", "group", "政策依据"],
            ["类型", "money", "money", "enum(dibao,dibao_marginal,none)", None],
            ["默认", None, None, "none", None],
            ["dibao", "< 低保标准", "< 4 * 12 * 低保标准", "dibao", "三(一)"],
            ["marginal", "[低保标准..边缘标准)", "< 6 * 12 * 低保标准", "dibao_marginal", "二"],
        ],
    }


def county_sheets() -> dict[str, list[list[object]]]:
    return {
        "标准参数": [
            ["标识", "值", "生效日期", "失效日期", "来源"],
            ["dibao_standard", "1301", "2025-01-23", None, "杭州市民政局"],
        ]
    }


def write_tables(
    root: Path,
    province: dict | None = None,
    county: dict | None = None,
    county_form: str = "xlsx",
) -> Path:
    """Write a tables folder under ``root``; returns the folder."""
    tables = root / "tables"
    write_csv_folder(tables / "province", province or province_sheets())
    (tables / "counties").mkdir(parents=True, exist_ok=True)
    sheets = county if county is not None else county_sheets()
    if county_form == "xlsx":
        write_xlsx(tables / "counties" / f"{COUNTY_FILE}.xlsx", sheets)
    else:
        write_csv_folder(tables / "counties" / COUNTY_FILE, sheets)
    return tables
