"""The Chinese words for the province's identifiers, for the text county staff read.

Tables, decision files and the service keep the identifiers of GLOSSARY.md; the
explanation and the console show a reader these names instead. A value or output a
county adds has no entry here and shows by its identifier, or, for the one output of a
table, by the table's title.
"""

from __future__ import annotations

from compiler.model import DType, Kind

# Each group's Chinese name, in the order decisions are summarised; diff and the console
# show groups by these names too.
GROUP_CN = {
    "tekun": "特困供养",
    "dibao": "低保",
    "dibao_marginal": "低保边缘",
    "rigid_expense": "刚性支出困难",
    "low_income_support": "低收入帮扶",
    "none": "不属于低收入人口",
}

# The province's entitlements and monitoring statuses (GLOSSARY)
ENTITLEMENT_CN = {
    "medical_assistance": "医疗救助",
    "education_assistance": "教育救助",
    "housing_assistance": "住房救助",
    "public_rental_housing": "公租房",
    "employment_assistance": "就业救助",
    "student_loan_interest_subsidy": "生源地助学贷款贴息",
    "preschool_fee_subsidy": "学前教育保育费资助",
    "low_income_rural_household": "低收入农户",
    "yulu_subsidy": "雨露计划",
    "pension_premium_payment": "城乡居民基本养老保险代缴",
    "care_insurance": "关爱险",
}
MONITORING_CN = {"low_income": "低收入人口", "other_monitored": "其他监测对象", "none": "不监测"}

# What a re-check of a recognised household concluded (三(一)); the special-assistance
# basis of 三(二); the event types of the contract, which are also the alert types
RECHECK_CN = {
    "still_eligible": "仍符合条件",
    "phase_out_start": "进入渐退期",
    "phase_out_continue": "渐退期内",
    "exit_assets": "财产超标退出",
    "exit_assets_in_phase_out": "渐退期内财产超标退出",
    "exit_phase_out_ended": "渐退期满退出",
    "exit_no_members": "无计入人口退出",
    # a tekun household's re-check (R-N20): support ends from the month after notice
    "exit_tekun": "不再符合特困供养条件，终止供养",
    "tekun_household_ended": "不再全员符合特困供养条件，特困成员继续供养",
    "not_applicable": "无需复核",
}
BASIS_CN = {"core": "按特困、低保、低保边缘", "rigid": "按刚性支出困难", "support": "按低收入帮扶", "none": "无"}
EVENT_CN = {
    "unemployment_registration": "失业人员登记",
    "high_medical_expense": "高额医疗费用支出",
    "disability_certificate": "残疾人证办理",
    "working_age_death": "劳动年龄段人口死亡",
}

# The member fields' values, as the 字段 sheet's notes name them
RELATION_CN = {
    "head": "户主", "spouse": "配偶", "child": "子女", "parent": "父母",
    "sibling": "兄弟姐妹", "grandchild": "孙子女", "other": "其他",
}
HUKOU_CN = {"urban": "城镇", "rural": "农村"}
DISABILITY_CN = {
    "physical": "肢体", "intellectual": "智力", "mental": "精神", "visual": "视力",
    "hearing": "听力", "speech": "言语", "multiple": "多重",
}
STUDENT_CN = {
    "preschool": "学前", "primary": "小学", "junior": "初中", "senior": "高中",
    "secondary_vocational": "中职", "higher_vocational": "高职", "undergraduate": "本科",
    "postgraduate": "研究生",
}

# Enum domains, told apart by the values they hold ("none" is in three of them)
_ENUM_DOMAINS = (GROUP_CN, MONITORING_CN, RECHECK_CN, BASIS_CN, RELATION_CN, HUKOU_CN,
                 DISABILITY_CN, STUDENT_CN)
# Text values the province's tables produce or read: entitlements, event and alert types
_TEXT_DOMAINS = (ENTITLEMENT_CN, EVENT_CN)

# The names of the province's table outputs, which the tables give by identifier only
OUTPUT_CN = {
    "no_work_capacity": "无劳动能力",
    "counted": "计入家庭人口",
    "tekun": "特困供养人员",
    "dibao_assets_ok": "财产符合低保条件",
    "marginal_assets_ok": "财产符合低保边缘条件",
    "support_assets_ok": "财产符合低收入帮扶条件",
    "support_income_under_cap": "年收入低于帮扶上限",
    "eligible_group": "按条件认定的类别",
    "group": "救助类别",
    "recheck_outcome": "复核结果",
    "phase_out_from": "渐退期起",
    "phase_out_until": "渐退期止",
    "other_hardship": "其他特殊困难人员",
    "monitoring": "监测类别",
    "assistance_basis": "专项救助依据",
    "entitlements": "可享受的救助帮扶",
    "alert_type": "预警类型",
    "alert_due": "预警到期日",
}


def value_cn(value: str, domain: tuple[str, ...] = ()) -> str:
    """The Chinese name of an enum value (``domain``: the values its type lists) or,
    with no domain, of a text value the province's tables use; else the value."""
    if domain:
        best = max(_ENUM_DOMAINS, key=lambda names: len(names.keys() & set(domain)))
        if best.keys() & set(domain):
            return best.get(value, value)
        return value
    for names in _TEXT_DOMAINS:
        if value in names:
            return names[value]
    return value


def trace_outcome_cn(outcome: str, dtypes: list[DType]) -> str:
    """A trace entry's outcome as a decision file writes it (outputs joined by "; ",
    a list's items by ",", booleans true/false), in words for the console."""
    if not outcome.strip():  # no rule matched and no default: every output empty
        return "空"
    parts = outcome.split("; ") if len(dtypes) > 1 else [outcome]
    if len(parts) != len(dtypes):
        return outcome
    said = []
    for part, dtype in zip(parts, dtypes, strict=True):
        items = [item for item in part.split(",") if item] if dtype.kind is Kind.LIST or "," in part else [part]
        words = [_word(item, dtype) for item in items]
        said.append("、".join(words) or "空")
    return "；".join(said)


def _word(value: str, dtype: DType) -> str:
    if value == "":
        return "空"
    if dtype.kind is Kind.BOOLEAN:
        return {"true": "是", "false": "否"}.get(value, value)
    if dtype.kind is Kind.ENUM:
        return value_cn(value, dtype.values)
    if dtype.kind in (Kind.TEXT, Kind.LIST):
        return value_cn(value)
    return value


def group_cn(group: str | None) -> str:
    """A group's Chinese name (none for no group); a county's own by its identifier."""
    return GROUP_CN.get(group or "none", group or "none")
