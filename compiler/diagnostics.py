"""Diagnostic records: every problem Jiuzhu reports is one of these.

A diagnostic is a record first and prose second (STYLE.md, habit 2): a stable code,
a severity, where it is (file, sheet, cell in A1 form, or a JSON path), the value found,
and a Chinese message saying what was expected, with one valid example and a hint.
Every code is listed in ``CODES`` with its severity and a one-line title; the page
``docs/diagnostics.md`` documents each code, and a test keeps the two in step.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Location:
    """Where a value came from: a workbook cell, or a path inside a JSON document."""

    file: str | None = None
    sheet: str | None = None
    cell: str | None = None

    def render(self) -> str:
        parts = self.file or ""
        if self.sheet:
            parts += f":{self.sheet}"
            if self.cell:
                parts += f"!{self.cell}"
        elif self.cell:
            parts += f":{self.cell}"
        return parts


NOWHERE = Location()


# a value quoted in a message is cut to this many characters: a 10,000-character cell
# typed into a type or name cell filled the page (helper-46)
FOUND_SHOWN = 80


def shorten(text: str) -> str:
    """``text``, or its start and its length when it is longer than ``FOUND_SHOWN``."""
    if len(text) <= FOUND_SHOWN:
        return text
    return f"{text[:FOUND_SHOWN - 20]}……（共 {len(text)} 个字符）"


def shown(value: object, unit: str = "") -> str:
    """A value quoted in a message as the tables write it: 是/否 for a yes or no, a
    date as 2026-01-01, a number in plain notation (1000, never 1E+3) followed by
    ``unit`` (``%`` written close: 70%), （空） for no value, text as it was typed;
    never Python's True, None or a datetime's 00:00:00 (helper-65)."""
    if value is None:
        return "（空）"
    if isinstance(value, bool):
        text = "是" if value else "否"
    elif isinstance(value, datetime):
        text = value.date().isoformat()
    elif isinstance(value, date):
        text = value.isoformat()
    elif isinstance(value, Decimal) and value.is_finite():
        text = format(value, "f")
    elif isinstance(value, float) and math.isfinite(value):
        text = format(Decimal(repr(value)), "f")
    else:
        text = str(value)
    if not unit:
        return text
    return text + unit if unit == "%" else f"{text} {unit}"


@dataclass(frozen=True, slots=True)
class CodeInfo:
    severity: Severity
    title: str


def _c(severity: str, title: str) -> CodeInfo:
    return CodeInfo(Severity(severity), title)


# The catalogue of codes. Ranges: E0xx files, E1xx cell values, E2xx table structure,
# E3xx expressions and references, E4xx standards and bounds, E5xx analysis,
# E6xx evaluation, E7xx registry, W-codes are warnings.
CODES: dict[str, CodeInfo] = {
    # files and sheets
    "E001": _c("error", "文件不存在或无法打开"),
    "E002": _c("error", "文件格式不支持"),
    "E003": _c("error", "CSV 文件编码无法识别"),
    "E004": _c("error", "工作簿中没有可识别的工作表"),
    "E005": _c("error", "工作表名称重复"),
    "E006": _c("error", "合并单元格"),
    "E007": _c("error", "公式没有保存的计算结果"),
    "E008": _c("error", "单元格含有错误值"),
    "E009": _c("error", "同一区划代码有多个工作簿"),
    "E010": _c("error", "单元格远离其他内容，工作表过大"),
    "E011": _c("error", "单元格含有控制字符"),
    "E012": _c("error", "单元格文字超过 Excel 的长度上限"),
    "E013": _c("error", "工作簿是从另一个县的版本导出的"),
    "W001": _c("warning", "隐藏的工作表"),
    "W002": _c("warning", "隐藏的行或列"),
    "W003": _c("warning", "工作表声明的使用范围与实际内容不符"),
    # cell values
    "E101": _c("error", "数字格式错误"),
    "E102": _c("error", "日期格式错误"),
    "E103": _c("error", "是/否格式错误"),
    "E104": _c("error", "金额格式错误"),
    "E105": _c("error", "百分比格式错误"),
    "E106": _c("error", "整数格式错误"),
    "E107": _c("error", "取值不在枚举范围内"),
    "E108": _c("error", "必填单元格为空"),
    "E109": _c("error", "行政区划代码格式错误"),
    "E110": _c("error", "单位与列类型不符"),
    # table structure
    "E201": _c("error", "决策表标题行不完整"),
    "E202": _c("error", "命中策略无法识别"),
    "E203": _c("error", "列种类无法识别"),
    "E204": _c("error", "列类型无法识别"),
    "E205": _c("error", "决策表没有输出列"),
    "E206": _c("error", "规则编号重复"),
    "E207": _c("error", "名称重复"),
    "E208": _c("error", "命中策略与输出列不相容"),
    "E209": _c("error", "标准参数表缺少必需的列"),
    "E210": _c("error", "决策表层级无法识别"),
    "E211": _c("error", "标识符不合法"),
    "E212": _c("error", "下级工作簿不能覆盖该决策表"),
    "E213": _c("error", "字段的下限高于上限"),
    "E214": _c("error", "规则的输出单元格为空"),
    "E215": _c("error", "事件表产生预警，却没有预警到期日"),
    "W201": _c("warning", "决策表没有规则"),
    "W202": _c("warning", "规则缺少政策依据注释"),
    "W203": _c("warning", "替换的派生值名称与被替换的不同"),
    "W204": _c("warning", "取值总是整数，类型却写作 number"),
    "W205": _c("warning", "整数输入列的条件写了小数"),
    "W206": _c("warning", "新增决策表的输出没有任何地方读取"),
    "W207": _c("warning", "预警输出不在事件层级的表中，不会产生预警"),
    # expressions and references
    "E301": _c("error", "条件或表达式语法错误"),
    "E302": _c("error", "引用了未定义的名称"),
    "E303": _c("error", "类型不匹配"),
    "E304": _c("error", "函数无法识别或参数个数不对"),
    "E305": _c("error", "循环引用"),
    "E306": _c("error", "不支持的写法"),
    "E307": _c("error", "DMN 构造不受支持"),
    "E308": _c("error", "计算需要的位数超过可精确计算的 38 位"),
    # standards and bounds
    "E401": _c("error", "标准参数超出省定范围"),
    "E402": _c("error", "该标准参数不允许县级覆盖"),
    "E403": _c("error", "标准参数生效期重叠"),
    "E404": _c("error", "生效日期晚于失效日期"),
    "E405": _c("error", "标准参数缺少取值"),
    "E406": _c("error", "标准参数取值为负"),
    "E407": _c("error", "标准参数的标识与名称指向不同的参数"),
    "E408": _c("error", "标准参数生效日期超出可决策的年份"),
    "W401": _c("warning", "标准参数未经核实"),
    "W402": _c("warning", "无法检查标准参数范围"),
    "W403": _c("warning", "该年度没有工作日历"),
    "W404": _c("warning", "标准参数名称与省级不一致"),
    "W405": _c("warning", "标准参数与上一期相差过大"),
    "W406": _c("warning", "县级工作簿另设了市域统一的标准"),
    "W407": _c("warning", "金额标准为 0"),
    "W408": _c("warning", "本级标准参数的两期之间有空档，由上级取值填补"),
    # analysis
    "E501": _c("error", "规则未覆盖的情形（缺口）"),
    "E502": _c("error", "规则重叠违反 UNIQUE"),
    "E503": _c("error", "ANY 策略下规则冲突"),
    "W501": _c("warning", "规则永远不会被选中"),
    "W502": _c("warning", "条件在代入标准后为空"),
    "I501": _c("info", "已声明接受的缺口"),
    "W503": _c("warning", "该输入列无法分析"),
    "W504": _c("warning", "县级替换的决策表在省级有规则的分界值上没有规则命中"),
    "E504": _c("error", "政策不变式不成立"),
    # evaluation and input data
    "E601": _c("error", "UNIQUE 决策表命中多条规则"),
    "E602": _c("error", "ANY 决策表命中的规则输出不一致"),
    "E603": _c("error", "家庭数据字段类型错误"),
    "E604": _c("error", "家庭数据缺少必填字段"),
    "E605": _c("error", "家庭数据文件无法读取"),
    "E606": _c("error", "未知的县（市、区）代码"),
    "E607": _c("error", "日期在标准参数生效期之外"),
    "E608": _c("error", "请求不符合接口约定"),
    "E609": _c("error", "请求过大"),
    "E610": _c("error", "服务暂时无法处理请求"),
    "E611": _c("error", "服务内部错误"),
    "E612": _c("error", "工作日计算超出工作日历范围"),
    "E613": _c("error", "输出文件会覆盖输入文件"),
    "E614": _c("error", "家庭数据取值超出允许范围"),
    "E615": _c("error", "日期晚于决策日期"),
    "E616": _c("error", "服务无法在该地址和端口上监听"),
    "E617": _c("error", "输出文件已存在且不是决策结果"),
    "E618": _c("error", "没有终端，无法输入密码"),
    "E619": _c("error", "找不到指定的家庭"),
    "W601": _c("warning", "家庭数据中有未声明的列，已忽略"),
    "W602": _c("warning", "事件类型没有任何规则使用"),
    "W603": _c("warning", "家庭没有户主或有多名户主"),
    "W604": _c("warning", "家庭有多名配偶"),
    "W605": _c("warning", "成员与户主的关系和出生日期不符"),
    "W606": _c("warning", "金额像是以万元填写的"),
    "W607": _c("warning", "中断的运行可能留下了临时文件"),
    "W608": _c("warning", "数量为 0，价格或面积却大于 0"),
    "W609": _c("warning", "事件所涉成员不是本户成员"),
    "W610": _c("warning", "事件日期早于决策日一年以上"),
    "W611": _c("warning", "特困人员的法定义务人一项未填写"),
    "I601": _c("info", "按 --county 跳过了其他县的家庭"),
    # registry
    "E701": _c("error", "发布被拒绝：存在校验错误"),
    "E702": _c("error", "发布被拒绝：工作副本已过期"),
    "E703": _c("error", "版本链校验失败"),
    "E704": _c("error", "版本不存在"),
    "E705": _c("error", "版本登记簿文件不存在"),
    "E706": _c("error", "版本登记簿路径不是登记簿文件"),
    "E707": _c("error", "版本登记簿不能放在 tables 文件夹内"),
    "E708": _c("error", "版本说明或发布人不合适"),
    "E709": _c("error", "发布被拒绝：内容与现行版本相同"),
    "E710": _c("error", "发布被拒绝：内容是已撤回版本的内容"),
    "E711": _c("error", "导出被拒绝：会覆盖尚未发布的修改"),
    "E712": _c("error", "撤回被拒绝：撤回生效日期早于被撤回的版本"),
    "W701": _c("warning", "新版本只适用到较晚的已发布版本生效之前"),
    "W702": _c("warning", "基线标记落后，已更新"),
    "W703": _c("warning", "指定的版本在决策日尚未生效"),
    "W704": _c("warning", "指定的版本已被撤回"),
    "W705": _c("warning", "已发布版本有发布后新增的检查不接受的写法"),
}


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem, with everything a user needs to find and fix it."""

    code: str
    message: str
    location: Location = NOWHERE
    found: str | None = None
    expected: str | None = None
    hint: str | None = None
    rule: str | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def severity(self) -> Severity:
        return CODES[self.code].severity

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def render(self) -> str:
        """One line like a compiler's: ``file:sheet!C4: E104 message``."""
        where = self.location.render()
        text = f"{where}: {self.code} {self.message}" if where else f"{self.code} "
        if not where:
            text += self.message
        if self.found is not None:
            text += f"；实际为「{shorten(self.found)}」"
        if self.expected:
            text += f"；应为{self.expected}"
        if self.hint:
            text += f"（提示：{self.hint}）"
        return text

    def to_record(self) -> dict[str, object]:
        record = asdict(self)
        location = record.pop("location")
        return {
            "code": self.code,
            "severity": str(self.severity),
            "file": location["file"],
            "sheet": location["sheet"],
            "cell": location["cell"],
            **{k: v for k, v in record.items() if k != "code"},
        }


def make(
    code: str, message: str, location: Location = NOWHERE, **details: object
) -> Diagnostic:
    """Build a diagnostic, refusing codes that are not in the catalogue; a value
    given as ``found`` (or ``expected``) that is not text is quoted as ``shown`` writes it."""
    if code not in CODES:
        raise KeyError(f"unknown diagnostic code {code}")
    known = {"found", "expected", "hint", "rule"}
    kwargs = {
        k: (None if v is None else v if isinstance(v, str) else shown(v))
        for k, v in details.items()
        if k in known
    }
    extra = {k: v for k, v in details.items() if k not in known}
    return Diagnostic(code, message, location, extra=extra, **kwargs)  # type: ignore[arg-type]


class Report:
    """Collects diagnostics in one pass, keeping their order and dropping repeats."""

    def __init__(self, fail_fast: bool = False) -> None:
        self.items: list[Diagnostic] = []
        self._seen: set[tuple[str, Location, str]] = set()
        self.fail_fast = fail_fast

    def add(self, diagnostic: Diagnostic) -> None:
        key = (diagnostic.code, diagnostic.location, diagnostic.message)
        if key in self._seen:
            return
        self._seen.add(key)
        self.items.append(diagnostic)
        if self.fail_fast and diagnostic.is_error:
            from compiler.errors import ValidationFailed

            raise ValidationFailed(self.items)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        for diagnostic in diagnostics:
            self.add(diagnostic)

    def error(self, code: str, message: str, location: Location = NOWHERE, **kw: object) -> None:
        self.add(make(code, message, location, **kw))

    warn = error  # the code decides the severity; the alias reads better at call sites

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity is Severity.WARNING]

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.items)


def render_text(
    diagnostics: list[Diagnostic],
    limit: int | None = 200,
    more: str = "（使用 --format json 查看全部）",
) -> str:
    """Render diagnostics one per line, errors first, capped with 'and N more' and
    ``more``, which says where to see them all."""
    ordered = sorted(diagnostics, key=lambda d: (not d.is_error, d.severity != "warning"))
    shown = ordered if limit is None else ordered[:limit]
    lines = [d.render() for d in shown]
    if limit is not None and len(ordered) > limit:
        lines.append(f"……另有 {len(ordered) - limit} 条未显示{more}")
    return "\n".join(lines)


def render_json(diagnostics: list[Diagnostic]) -> str:
    return json.dumps([d.to_record() for d in diagnostics], ensure_ascii=False, indent=2)
