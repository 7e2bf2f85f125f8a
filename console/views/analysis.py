"""一致性检查: the analysis pass's findings (gaps, overlaps, shadowed rules, empty
conditions, invariants), each with the witness the analysis checked."""

from __future__ import annotations

import json

import streamlit as st

from console import ui

ctx = ui.context()
ui.header(ctx, "一致性检查")
place = ui.placer(ctx)
GROUPS = [  # (heading, short label for the counts, codes)
    ("规则未覆盖的情形（缺口）", "缺口", ("E501",)),
    ("规则重叠或冲突", "重叠或冲突", ("E502", "E503")),
    ("政策不变式不成立", "不变式", ("E504",)),
    ("永远不会被选中的规则", "被遮蔽的规则", ("W501",)),
    ("代入标准后为空的条件", "空条件", ("W502",)),
    ("无法分析的输入列", "无法分析", ("W503",)),
    ("已声明接受的缺口", "接受的缺口", ("I501", "I502")),
]
st.caption("分析把本县在决策日生效的标准代入每张决策表，找出没有规则覆盖的情形、相互重叠的规则、"
           "永远轮不到的规则；每条结果都附有一户经参考解释器核实的示例（见证）。")

with st.spinner("正在分析（通常需要几秒）……"):
    result = ui.checked(ctx, analysis=True)
ui.timed("分析", result.seconds)
if result.errors and not any(d.code.startswith("E5") for d in result.errors):
    st.error(f"工作副本有 {len(result.errors)} 个错误，分析无法进行。请先在「标准与规则」页改正：")
    ui.diagnostics_list(result.errors, place, limit=20)
    st.stop()

codes = {code for _, _, group in GROUPS for code in group}
found = [d for d in result.report.items if d.code in codes]
metrics = st.columns(len(GROUPS))
for column, (title, label, group) in zip(metrics, GROUPS, strict=True):
    column.metric(label, sum(1 for d in found if d.code in group), help=title)
accepted = sum(1 for d in found if d.code.startswith("I"))
if len(found) == accepted:
    st.success("没有发现缺口、重叠或被遮蔽的规则" + (f"（另有 {accepted} 处已声明接受的缺口，见下）" if accepted else "")
               + "。", icon=":material/check_circle:")


def witness(extra: dict) -> None:  # type: ignore[type-arg]
    values = extra.get("witness")
    if isinstance(values, dict) and values:
        st.markdown("**见证：** 下列取值")
        ui.table([{"输入": k, "取值": ui_text(v)} for k, v in values.items()], width="content")
    household = extra.get("household")
    if isinstance(household, dict) and household:
        st.markdown("**见证家庭（可直接作为家庭数据使用）：**")
        st.code(json.dumps(household, ensure_ascii=False, indent=2, default=str), language="json")
    rest = {k: v for k, v in extra.items() if k not in ("witness", "household", "counties")}
    if rest:
        st.caption("；".join(f"{k}: {ui_text(v)}" for k, v in rest.items()))


def ui_text(value: object) -> str:
    if isinstance(value, list | tuple):
        return "、".join(ui_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return "空" if value is None else str(value)


for title, _, group in GROUPS:
    items = [d for d in found if d.code in group]
    if not items:
        continue
    st.subheader(f"{title}（{len(items)}）")
    for d in items:
        title = d.message if len(d.message) <= 80 else d.message[:79] + "……"
        with st.expander(f"{d.code} · {place(d)} · {title}", expanded=d.is_error):
            ui.diagnostics_list([d], place)
            witness(d.extra)
