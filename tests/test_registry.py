"""The registry: publish, history, as-of evaluation, refusals, withdrawal, verification.

Every test writes its own small tables folder (a province with two decision tables and a
county that sets its own dibao standard) under tmp_path; ``write_rulebook`` and
``set_county_standards`` are shared with the canonical, diff and crash tests.
"""

from __future__ import annotations

import json
import tempfile
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pytest

from compiler import cli
from compiler.calendar import WorkCalendar
from compiler.engine import household_envs
from compiler.errors import RegistryError
from compiler.interpret import Interpreter
from compiler.registry import (
    GENESIS,
    WORKING_COPY,
    Registry,
    in_force,
    published_project,
)
from compiler.registry_marker import base_from_marker, write_base_marker
from compiler.registry_publish import publish, withdraw
from tests.helpers import STANDARDS_HEADER
from tests.workbooks import write_csv_folder

COUNTY = "330106"
OTHER = "330108"

FIELDS = [
    ["标识", "名称", "层级", "类型", "默认", "说明"],
    ["household_id", "家庭编号", "家庭", "text", None, None],
    ["county_code", "县代码", "家庭", "text", None, None],
    ["assets.money", "货币财产", "家庭", "money", "0", None],
    ["person_id", "成员编号", "成员", "text", None, None],
    ["birth_date", "出生日期", "成员", "date", None, None],
    ["income.wage", "工资收入", "成员", "money", "0", None],
]
STANDARDS = [
    STANDARDS_HEADER,
    [
        "dibao_standard",
        "低保标准",
        "1149",
        "元/人/月",
        "2024-01-01",
        None,
        "浙民发",
        None,
        "money",
        "是",
        None,
        None,
        "是",
    ],
    [
        "marginal_multiplier",
        "边缘倍数",
        "1.5",
        "倍",
        "2024-01-01",
        None,
        "意见二",
        None,
        "number",
        "是",
        "1.5",
        "2",
        "是",
    ],
]
DERIVED = [
    ["标识", "名称", "层级", "类型", "表达式", "依据"],
    [
        "income_per_capita",
        "人均月收入",
        "家庭",
        "money",
        "round(sum(income.wage) / count(true) / 12, 2)",
        "二",
    ],
    ["marginal_line", "边缘标准", "家庭", "money", "边缘倍数 * 低保标准", "二"],
]
GROUP_TABLE = [
    [
        "household_group",
        "家庭救助类别",
        "FIRST",
        "层级=家庭",
        "县可改=是",
        "接受缺口=其余家庭不属于低收入人口",
    ],
    ["规则", "输入", "输入", "输出", "注释"],
    ["名称", "income_per_capita", "assets.money", "group", "依据"],
    ["类型", "money", "money", "enum(tekun,dibao,dibao_marginal,none)", None],
    ["默认", None, None, "none", None],
    ["dibao", "< 低保标准", "< 4 * 12 * 低保标准", "dibao", "三(一)"],
    ["marginal", "[低保标准..边缘标准)", "< 6 * 12 * 低保标准", "dibao_marginal", "二"],
]
ENTITLEMENTS = [
    [
        "entitlements",
        "救助事项",
        "COLLECT",
        "层级=家庭",
        "县可改=是",
        "接受缺口=其余类别没有救助事项",
    ],
    ["规则", "输入", "输出", "注释"],
    ["名称", "group", "entitlements", "依据"],
    ["类型", "enum(tekun,dibao,dibao_marginal,none)", "text", None],
    ["E1", "dibao", "dibao_allowance", "三"],
    ["E2", "dibao, dibao_marginal", "medical_aid", "五"],
]
CALENDAR = [["日期", "类型", "说明"], ["2025-01-01", "休息日", "元旦"]]
COUNTY_HEADER = ["标识", "值", "生效日期", "失效日期", "来源"]


def write_rulebook(
    root: Path,
    county_rows: list[list[object]] | None = None,
    extra: dict[str, list[list[object]]] | None = None,
) -> Path:
    """A tables folder: the province above, county 330106 (and 330108, no overrides)."""
    write_csv_folder(
        root / "province",
        {
            "字段": FIELDS,
            "标准参数": STANDARDS,
            "派生值": DERIVED,
            "household_group": GROUP_TABLE,
            "entitlements": ENTITLEMENTS,
            "日历": CALENDAR,
        },
    )
    rows = (
        county_rows
        if county_rows is not None
        else [["dibao_standard", "1301", "2025-01-01", None, "杭民发"]]
    )
    set_county_standards(root, rows, extra)
    write_csv_folder(
        root / "counties" / f"{OTHER}-拱墅区", {"标准参数": [COUNTY_HEADER]}
    )
    return root


def set_county_standards(
    root: Path,
    rows: list[list[object]],
    extra: dict[str, list[list[object]]] | None = None,
) -> None:
    """Rewrite the county's 标准参数 sheet (and add or replace other sheets)."""
    folder = root / "counties" / f"{COUNTY}-西湖区"
    write_csv_folder(folder, {"标准参数": [COUNTY_HEADER, *rows], **(extra or {})})


def household(ident: str, wage: str, county: str = COUNTY, money: str = "1000") -> dict:
    """A one-member household with the given yearly wage."""
    return {
        "household_id": ident,
        "county_code": county,
        "assets": {"money": money},
        "members": [
            {"person_id": "P1", "birth_date": "1980-01-01", "income": {"wage": wage}}
        ],
    }


def decide(plan, as_of: date, data: dict) -> dict:  # type: ignore[no-untyped-def]
    """The reference interpreter's household-level results for one household."""
    env, members, events = household_envs(data, plan.rulebook.fields)
    interpreter = Interpreter(plan, as_of, WorkCalendar(plan.rulebook.calendar))
    return interpreter.evaluate(env, members, events).household


@pytest.fixture
def tables(tmp_path: Path) -> Path:
    return write_rulebook(tmp_path / "tables")


@pytest.fixture
def registry(tmp_path: Path) -> Path:
    return tmp_path / "registry" / "jiuzhu-registry.duckdb"


def two_versions(tables: Path, registry: Path):  # type: ignore[no-untyped-def]
    """v1 in force from 2025-01-01 (1,301), v2 from 2025-07-01 (1,400 from that day)."""
    first = publish(tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    set_county_standards(
        tables,
        [
            ["dibao_standard", "1301", "2025-01-01", "2025-06-30", "杭民发"],
            ["dibao_standard", "1400", "2025-07-01", None, "杭民发〔2025〕1号"],
        ],
    )
    second = publish(
        tables, COUNTY, date(2025, 7, 1), "提高低保标准", "李四", 1, registry
    )
    return first, second


# ---------------------------------------------------------------- publish and history


def test_publish_numbers_versions_and_chains_their_hashes(tables, registry):
    first, second = two_versions(tables, registry)
    history = Registry(registry).history(COUNTY)
    assert [(v.number, v.seq, v.author) for v in history] == [
        (1, 1, "张三"),
        (2, 2, "李四"),
    ]
    assert history[0].prev_hash == GENESIS and history[1].prev_hash == first.hash
    assert history[1].chain_prev == first.hash
    assert all(v.computed_hash() == v.hash for v in history)
    assert second.effective_from == date(2025, 7, 1) and second.note == "提高低保标准"
    assert "dibao_standard" in second.canonical and "WITH" in second.sql
    assert json.loads(second.validation) == [] or isinstance(
        json.loads(second.validation), list
    )


def test_stored_sql_is_compiled_from_the_stored_yaml(tables, registry):
    from compiler.bind import bind
    from compiler.diagnostics import Report
    from compiler.sqlgen import compile_plan

    first = publish(tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    assert compile_plan(bind(first.rulebook(), Report())).sql == first.sql
    assert str(tables) not in first.sql  # paths are relative to the tables folder


def test_counties_are_numbered_separately(tables, registry):
    publish(tables, COUNTY, date(2025, 1, 1), "西湖区", "张三", 0, registry)
    other = publish(tables, OTHER, date(2025, 1, 1), "拱墅区", "王五", 0, registry)
    assert (other.number, other.seq, other.prev_hash) == (1, 2, GENESIS)
    assert Registry(registry).counties() == [COUNTY, OTHER]


def test_version_in_force_is_the_latest_effective_on_the_date_ties_to_the_higher_number(
    tables, registry
):
    first, second = two_versions(tables, registry)
    store = Registry(registry)
    assert store.version_in_force(COUNTY, date(2024, 12, 31)) is None
    assert store.version_in_force(COUNTY, date(2025, 6, 30)).number == 1
    assert store.version_in_force(COUNTY, date(2025, 7, 1)).number == 2
    correction = publish(
        tables, COUNTY, date(2025, 7, 1), "更正", "李四", 2, registry, allow_unchanged=True
    )
    assert (
        store.version_in_force(COUNTY, date(2025, 8, 1)).number
        == correction.number
        == 3
    )
    assert in_force([first, second], date(2025, 1, 1)) == first


# ---------------------------------------------------------------- as-of evaluation


def test_a_household_gets_each_versions_standard_before_and_after_the_effective_date(
    tables, registry
):
    two_versions(tables, registry)
    data = household(
        "H1", "16200"
    )  # 1,350.00 a month: marginal under 1,301, dibao under 1,400
    found = {}
    for day in (date(2025, 3, 1), date(2025, 8, 1)):
        project, labels = published_project(tables, registry, day)
        result = decide(project.plan(COUNTY), day, data)
        found[day] = (labels[COUNTY], result["dibao_standard"], result["group"])
    assert found[date(2025, 3, 1)] == ("330106@1", Decimal("1301.00"), "dibao_marginal")
    assert found[date(2025, 8, 1)] == ("330106@2", Decimal("1400.00"), "dibao")


def test_a_county_with_no_version_in_force_uses_the_working_copy(tables, registry):
    two_versions(tables, registry)
    project, labels = published_project(tables, registry, date(2024, 6, 1))
    assert labels == {COUNTY: WORKING_COPY, OTHER: WORKING_COPY}
    assert project.plan(COUNTY).rulebook.standard_value(
        "dibao_standard", date(2024, 6, 1)
    ) == Decimal(1149)


def test_as_of_evaluation_in_sql_reports_the_version_used(tables, registry, tmp_path):
    pytest.importorskip("compiler.households")
    from compiler.engine import connect
    from compiler.evaluate import decide as decide_sql
    from compiler.evaluate import prepare

    two_versions(tables, registry)
    path = tmp_path / "households.jsonl"
    rows = [household("H1", "16200"), household("H2", "16200", county=OTHER)]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    found = {}
    for day in (date(2025, 3, 1), date(2025, 8, 1)):
        project, labels = published_project(tables, registry, day)
        con = connect()
        present = prepare(con, project, path, day, versions=labels)
        relation = decide_sql(con, project, present)
        found[day] = con.execute(
            f'SELECT household_id, version, dibao_standard, "group" FROM {relation} ORDER BY 1'
        ).fetchall()
    assert found[date(2025, 3, 1)] == [
        ("H1", "330106@1", Decimal("1301.00"), "dibao_marginal"),
        ("H2", WORKING_COPY, Decimal("1149.00"), "dibao_marginal"),
    ]
    assert found[date(2025, 8, 1)][0] == ("H1", "330106@2", Decimal("1400.00"), "dibao")


# ---------------------------------------------------------------- refusals


def test_a_version_dated_before_a_published_one_is_warned_to_end_there(
    tables, registry, capsys
):
    two_versions(tables, registry)  # @1 from 2025-01-01, @2 from 2025-07-01
    common = ["--tables", str(tables), "--registry", str(registry)]
    code, out, err = run(capsys, "publish", "--county", COUNTY, "--effective",
                         "2025-03-01", "--note", "三月", "--base", "2", *common)
    assert code == 0 and "已发布 330106@3" in out
    assert "W701 330106@3 自 2025-03-01 起生效，只适用到 2025-06-30" in err
    assert "330106@2 自 2025-07-01 起生效，届时取代本版" in err


def test_a_version_dated_after_every_other_has_no_such_warning(tables, registry):
    from compiler.registry_publish import superseded

    first, second = two_versions(tables, registry)
    store = Registry(registry)
    assert superseded(store, second) is None
    assert superseded(store, first).code == "W701"


def test_w701_names_only_versions_that_take_effect(tables, registry):
    """A withdrawn version was listed among the later versions as if it would take
    over (helper-58): only its withdrawal is."""
    from compiler.registry_publish import superseded

    first, second = two_versions(tables, registry)
    withdraw(registry, COUNTY, 2, "暂缓", "李四", base=2)
    warning = superseded(Registry(registry), first)
    assert warning is not None and warning.found == f"330106@3（{second.effective_from} 起）"


def test_publish_is_refused_when_the_tables_have_errors(tables, registry):
    set_county_standards(
        tables, [["dibao_standard", "一千三", "2025-01-01", None, "杭民发"]]
    )
    with pytest.raises(RegistryError) as caught:
        publish(tables, COUNTY, date(2025, 1, 1), "有错误", "张三", 0, registry)
    codes = [d.code for d in caught.value.diagnostics]
    assert codes[0] == "E701" and "E104" in codes
    assert "发布被拒绝" in caught.value.diagnostics[0].message
    assert Registry(registry).versions() == []


def test_publish_is_refused_when_the_base_is_stale(tables, registry):
    publish(tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    with pytest.raises(RegistryError) as caught:
        publish(tables, COUNTY, date(2025, 7, 1), "基于旧版本", "李四", 0, registry)
    (problem,) = caught.value.diagnostics
    assert problem.code == "E702" and "最新已是第 1 版" in problem.message
    assert "--base 1" in (problem.hint or "")
    assert len(Registry(registry).versions()) == 1


def test_content_identical_to_the_version_in_force_is_refused_unless_allowed(
    tables, registry, capsys
):
    """Republishing the same tables made a new version silently (ninth session)."""
    two_versions(tables, registry)
    with pytest.raises(RegistryError) as caught:  # v2's content, a later date
        publish(tables, COUNTY, date(2026, 1, 1), "再发一次", "李四", 2, registry)
    (problem,) = caught.value.diagnostics
    assert problem.code == "E709" and f"{COUNTY}@2" in problem.message
    assert "--allow-unchanged" in (problem.hint or "")
    assert len(Registry(registry).versions()) == 2
    common = ["--tables", str(tables), "--registry", str(registry), "--base", "2"]
    args = ["publish", "--county", COUNTY, "--effective", "2026-01-01", "--note", "复核"]
    code, _, err = run(capsys, *args, *common)
    assert code == 1 and "E709" in err and "Traceback" not in err
    assert len(Registry(registry).versions()) == 2
    code, out, _ = run(capsys, *args, *common, "--allow-unchanged")
    assert code == 0 and f"{COUNTY}@3" in out
    # v2's content dated where v1 is in force changes decisions from then: allowed
    assert publish(tables, COUNTY, date(2025, 3, 1), "提前", "李四", 3, registry).number == 4


def test_the_registry_refuses_a_stale_base_inside_the_transaction(tables, registry):
    first = publish(tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    draft = first.__class__(**{**first.__dict__, "hash": "", "note": "again"})
    with pytest.raises(RegistryError) as caught:
        Registry(registry).append(draft, base=0)
    assert caught.value.diagnostics[0].code == "E702"


def test_two_threads_publishing_on_the_same_base_do_not_both_succeed(
    tables, registry, monkeypatch
):
    first = publish(tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    monkeypatch.setenv("JIUZHU_REGISTRY_FAULT", "checked:sleep:0.3")
    outcomes: list[object] = []

    def attempt(note: str) -> None:
        draft = first.__class__(**{**first.__dict__, "hash": "", "note": note})
        try:
            outcomes.append(Registry(registry).append(draft, base=1).number)
        except RegistryError as error:
            outcomes.append(error.diagnostics[0].code)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in ("甲", "乙")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=str) == [2, "E702"]
    assert [v.number for v in Registry(registry).history(COUNTY)] == [1, 2]


def test_two_processes_publishing_on_the_same_base_do_not_both_succeed(
    tables, registry, tmp_path
):
    import subprocess
    import sys

    publish(tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    script = (
        "import sys; from datetime import date; from compiler.registry_publish import publish;"
        "from compiler.errors import RegistryError\n"
        "try:\n"
        f"    publish({str(tables)!r}, '{COUNTY}', date(2025, 7, 1), sys.argv[1], 'x', 1, {str(registry)!r}, "
        "allow_unchanged=True)\n"
        "except RegistryError as e:\n    print(e.diagnostics[0].code); sys.exit(1)\n"
    )
    env = {
        **__import__("os").environ,
        "JIUZHU_REGISTRY_FAULT": "checked:sleep:1",
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    children = [
        subprocess.Popen(
            [sys.executable, "-c", script, note],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for note in ("甲", "乙")
    ]
    results = [
        (child.wait(timeout=120), child.stdout.read().strip()) for child in children
    ]  # type: ignore[union-attr]
    assert sorted(results) == [(0, ""), (1, "E702")]
    assert [v.number for v in Registry(registry).history(COUNTY)] == [1, 2]


# ---------------------------------------------------------------- the base marker


def test_the_marker_beside_the_workbook_gives_the_base(tables, registry):
    store = Registry(registry)
    folder = tables / "counties"
    assert base_from_marker(store, folder, COUNTY) == 0  # nothing published yet
    first = publish(tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    with pytest.raises(RegistryError, match="没有找到基线标记 330106.base.json"):
        base_from_marker(store, folder, COUNTY)
    write_base_marker(folder, first)
    assert base_from_marker(store, folder, COUNTY) == 1
    other = Registry(registry.with_name("other.duckdb"))
    with pytest.raises(RegistryError, match="不符"):
        base_from_marker(other, folder, COUNTY)


# ---------------------------------------------------------------- withdrawal


def test_withdrawing_publishes_a_version_that_restores_the_earlier_content(
    tables, registry
):
    first, second = two_versions(tables, registry)
    third = withdraw(registry, COUNTY, 2, "文件暂缓执行", "李四", base=2)
    assert (third.number, third.kind, third.withdraws) == (3, "withdraw", 2)
    assert (
        third.effective_from == second.effective_from
        and third.canonical == first.canonical
    )
    assert "撤回第 2 版，恢复第 1 版的内容" in third.note
    store = Registry(registry)
    assert store.version_in_force(COUNTY, date(2025, 8, 1)).number == 3
    assert (
        store.get(COUNTY, 2).hash == second.hash
    )  # the withdrawn version is unchanged
    assert store.verify() == []


def test_withdrawing_restores_a_later_published_version_dated_before_it(tables, registry):
    """v2 from 2025-07-01; v3, published after it, from 2025-03-01. Withdrawing v2
    restores what was in force on 2025-06-30, v3's content; it restored v1's, so v3's
    change lapsed from 2025-07-01 without a word (helper-38)."""
    first, _second = two_versions(tables, registry)
    set_county_standards(tables, [["dibao_standard", "1350", "2025-01-01", None, "杭民发"]])
    third = publish(tables, COUNTY, date(2025, 3, 1), "追溯调整", "王五", 2, registry)
    fourth = withdraw(registry, COUNTY, 2, "文件暂缓执行", "李四", base=3)
    assert "恢复第 3 版的内容" in fourth.note
    assert fourth.canonical == third.canonical != first.canonical
    store = Registry(registry)
    assert store.version_in_force(COUNTY, date(2025, 8, 1)).number == 4
    assert store.verify() == []


def test_the_first_version_cannot_be_withdrawn(tables, registry):
    publish(tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    with pytest.raises(RegistryError) as caught:
        withdraw(registry, COUNTY, 1, "", "张三", base=1)
    assert caught.value.diagnostics[0].code == "E704"


def test_a_version_never_in_force_or_already_withdrawn_is_not_withdrawn_again(tables, registry):
    """v3 from v2's date takes v2's place from the start: withdrawing v2 published a
    version that changed nothing (helper-57). Nor is a withdrawn version withdrawn
    again. Nothing is written either time."""
    two_versions(tables, registry)
    set_county_standards(tables, [["dibao_standard", "1350", "2025-01-01", None, "杭民发"]])
    second = Registry(registry).get(COUNTY, 2)
    publish(tables, COUNTY, second.effective_from, "同日更正", "王五", 2, registry)
    with pytest.raises(RegistryError) as caught:
        withdraw(registry, COUNTY, 2, "", "李四", base=3)
    said = caught.value.diagnostics[0]
    assert said.code == "E704" and f"第 2 版从未生效：同日（{second.effective_from}）生效的第 3 版取代了它" in said.message
    withdraw(registry, COUNTY, 3, "暂缓", "李四", base=3)
    with pytest.raises(RegistryError) as caught:
        withdraw(registry, COUNTY, 3, "", "李四", base=4)
    assert "第 3 版已被第 4 版撤回，撤回不会改变任何决策" in caught.value.diagnostics[0].message
    assert [v.number for v in Registry(registry).versions(COUNTY)] == [1, 2, 3, 4]


def test_a_publish_waits_for_a_read_of_the_same_process(tables, registry):
    """A console session reading the registry while another publishes: the write met
    the open read-only connection and was E703 in DuckDB's English (helper-61). It
    waits for the read to end."""
    two_versions(tables, registry)
    reader = duckdb.connect(str(registry), read_only=True)  # another session reading
    closed = threading.Timer(0.5, reader.close)
    closed.start()
    try:
        set_county_standards(tables, [["dibao_standard", "1350", "2025-01-01", None, "杭民发"]])
        third = publish(tables, COUNTY, date(2025, 9, 1), "读的同时发布", "王五", 2, registry)
    finally:
        closed.join()
    assert third.number == 3 and Registry(registry).verify() == []


def test_a_write_that_waits_too_long_for_a_read_is_e702(registry, tables):
    two_versions(tables, registry)
    reader = duckdb.connect(str(registry), read_only=True)
    try:
        store = Registry(registry)
        store.wait = 0.2
        with pytest.raises(RegistryError) as caught:
            store._open(write=True)
    finally:
        reader.close()
    assert caught.value.diagnostics[0].code == "E702"
    assert "占用" in caught.value.diagnostics[0].message


# ---------------------------------------------------------------- verification


TAMPERING = {
    "edited note": "UPDATE jz_registry_versions SET note = '改过' WHERE seq = 1",
    "edited standard": "UPDATE jz_registry_versions SET canonical = replace(canonical, '1301.00', '1999.00')"
    " WHERE seq = 1",
    "edited and rehashed": "UPDATE jz_registry_versions SET note = '改过', hash = 'x' || substr(hash, 2)"
    " WHERE seq = 1",
    "deleted version": "DELETE FROM jz_registry_versions WHERE seq = 1",
    "reordered versions": "UPDATE jz_registry_versions SET seq = CASE seq WHEN 1 THEN 2 ELSE 1 END"
    " WHERE seq IN (1, 2)",
    "renumbered version": "UPDATE jz_registry_versions SET number = 5 WHERE seq = 2",
}


@pytest.mark.parametrize("sql", TAMPERING.values(), ids=TAMPERING.keys())
def test_verify_detects_tampering(tables, registry, sql):
    two_versions(tables, registry)
    store = Registry(registry)
    assert store.verify() == []
    con = duckdb.connect(str(registry))
    if "seq = CASE" in sql:  # the primary key forbids swapping in place
        con.execute("CREATE TEMP TABLE t AS SELECT * FROM jz_registry_versions")
        con.execute("DELETE FROM jz_registry_versions")
        con.execute(sql.replace("jz_registry_versions", "t"))
        con.execute("INSERT INTO jz_registry_versions SELECT * FROM t")
    else:
        con.execute(sql)
    con.close()
    problems = store.verify()
    assert problems and {p.code for p in problems} == {"E703"}


def test_verify_passes_on_a_registry_that_does_not_exist_yet(registry):
    assert Registry(registry).verify() == [] and Registry(registry).versions() == []


def test_a_file_that_is_not_a_registry_is_reported(tmp_path):
    path = tmp_path / "junk.duckdb"
    path.write_bytes(b"not a database at all" * 100)
    with pytest.raises(RegistryError) as caught:
        Registry(path).versions()
    assert caught.value.diagnostics[0].code == "E706"


def tamper_standard(registry: Path, number: int, old: str, new: str) -> None:
    """Edit one version's stored standard behind the registry's back (hash unchanged)."""
    con = duckdb.connect(str(registry))
    con.execute(
        "UPDATE jz_registry_versions SET canonical = replace(canonical, ?, ?)"
        " WHERE county_code = ? AND number = ?",
        [old, new, COUNTY, number],
    )
    con.close()


def rows_of(registry: Path) -> list[tuple]:  # type: ignore[type-arg]
    con = duckdb.connect(str(registry), read_only=True)
    rows = con.execute("SELECT * FROM jz_registry_versions ORDER BY seq").fetchall()
    con.close()
    return rows


def test_a_version_edited_after_publishing_never_decides(tables, registry):
    two_versions(tables, registry)
    tamper_standard(registry, 2, "1400.00", "1999.00")
    before = rows_of(registry)
    with pytest.raises(RegistryError) as caught:
        published_project(tables, registry, date(2025, 8, 1))
    problem = caught.value.diagnostics[0]
    assert problem.code == "E703" and "330106@2" in problem.message
    assert "第 2 版" in problem.message and "jiuzhu verify" in (problem.hint or "")
    _, labels = published_project(tables, registry, date(2025, 3, 1))
    assert labels[COUNTY] == "330106@1"  # only the version used is checked
    assert rows_of(registry) == before  # the check changes nothing


def test_diff_and_withdraw_refuse_a_version_edited_after_publishing(tables, registry):
    from compiler.registry_refs import resolve_ref

    two_versions(tables, registry)
    tamper_standard(registry, 1, "1301.00", "1999.00")
    for ref in ("330106@1", "330106@2025-03-01", "published"):
        with pytest.raises(RegistryError) as caught:
            resolve_ref(ref, tables, registry, date(2025, 3, 1))
        assert caught.value.diagnostics[0].code == "E703", ref
    assert resolve_ref("330106@2", tables, registry, date(2025, 3, 1)).label == (
        "330106@2"
    )
    with pytest.raises(RegistryError) as caught:  # would republish v1 with a new hash
        withdraw(registry, COUNTY, 2, "", "张三", base=2)
    assert caught.value.diagnostics[0].code == "E703"
    assert len(Registry(registry).versions()) == 2


# ---------------------------------------------------------------- the commands


def run(capsys, *argv: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_publish_history_verify_and_export_from_the_command_line(
    tables, registry, capsys, tmp_path
):
    common = ["--tables", str(tables), "--registry", str(registry)]
    code, out, _ = run(
        capsys,
        "publish",
        "--county",
        COUNTY,
        "--effective",
        "2025-01-01",
        "--note",
        "首次发布",
        "--author",
        "张三",
        *common,
    )
    assert code == 0 and "已发布 330106@1" in out and "基线标记已更新" in out
    set_county_standards(
        tables, [["dibao_standard", "1350", "2025-01-01", None, "杭民发"]]
    )
    code, out, _ = run(
        capsys,
        "publish",
        "--county",
        COUNTY,
        "--effective",
        "2025-07-01",
        "--note",
        "调整",
        "--author",
        "李四",
        *common,
    )  # base from the marker
    assert code == 0 and "已发布 330106@2" in out
    code, out, _ = run(capsys, "history", "--county", COUNTY, *common)
    assert (
        code == 0
        and "第 1 版  2025-01-01 起" in out
        and "第 2 版  2025-07-01 起" in out
    )
    code, out, _ = run(capsys, "verify", *common)
    assert code == 0 and "校验通过" in out
    yaml_out, xlsx_out = (
        tmp_path / "v1.yaml",
        tmp_path / "export" / "330106-西湖区.xlsx",
    )
    code, out, _ = run(
        capsys,
        "export",
        "--county",
        COUNTY,
        "--version",
        "1",
        "--out",
        str(yaml_out),
        *common,
    )
    assert (
        code == 0
        and yaml_out.read_text(encoding="utf-8")
        == Registry(registry).get(COUNTY, 1).canonical
    )
    code, out, _ = run(
        capsys,
        "export",
        "--county",
        COUNTY,
        "--version",
        "2",
        "--out",
        str(xlsx_out),
        *common,
    )
    assert (
        code == 0
        and xlsx_out.exists()
        and (xlsx_out.parent / "330106.base.json").exists()
    )


def test_refusals_exit_1_with_a_coded_message_and_no_traceback(
    tables, registry, capsys
):
    common = ["--tables", str(tables), "--registry", str(registry)]
    publish(tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    code, _, err = run(
        capsys,
        "publish",
        "--county",
        COUNTY,
        "--effective",
        "2025-07-01",
        "--note",
        "没有基线",
        *common,
    )
    assert code == 1 and "E702" in err and "--base 1" in err and "Traceback" not in err
    code, _, err = run(
        capsys,
        "publish",
        "--county",
        COUNTY,
        "--effective",
        "2025-07-01",
        "--note",
        "旧基线",
        "--base",
        "0",
        *common,
    )
    assert code == 1 and "E702" in err
    set_county_standards(
        tables, [["dibao_standard", "abc", "2025-01-01", None, "杭民发"]]
    )
    code, _, err = run(
        capsys,
        "publish",
        "--county",
        COUNTY,
        "--effective",
        "2025-07-01",
        "--note",
        "错误",
        "--base",
        "1",
        *common,
    )
    assert code == 1 and "E701" in err and "Traceback" not in err
    code, _, err = run(
        capsys,
        "export",
        "--county",
        COUNTY,
        "--version",
        "7",
        "--out",
        "x.yaml",
        *common,
    )
    assert code == 1 and "E704" in err


def test_verify_exits_1_on_tampering_and_checks_a_recorded_head(
    tables, registry, capsys
):
    first, second = two_versions(tables, registry)
    common = ["--tables", str(tables), "--registry", str(registry)]
    code, out, _ = run(capsys, "verify", "--head", first.hash, *common)
    assert code == 0 and "又发布了 1 个版本" in out
    con = duckdb.connect(str(registry))
    con.execute("DELETE FROM jz_registry_versions WHERE seq = 2")
    con.close()
    code, _, err = run(capsys, "verify", "--head", second.hash, *common)
    assert code == 1 and "E703" in err


def test_history_marks_a_version_changed_after_publishing(tables, registry, capsys):
    """history listed an edited version as any other, exit 0 (helper-57): it is marked,
    in text and JSON, and the exit status is 1."""
    two_versions(tables, registry)
    common = ["--county", COUNTY, "--tables", str(tables), "--registry", str(registry)]
    code, out, _ = run(capsys, "history", *common)
    assert code == 0 and "发布后被改动过" not in out
    con = duckdb.connect(str(registry))
    con.execute(TAMPERING["edited standard"])
    con.close()
    code, out, _ = run(capsys, "history", *common)
    first, second = out.split("第 2 版")
    assert code == 1 and "发布后被改动过（E703）" in first and "发布后被改动过" not in second
    code, out, _ = run(capsys, "history", "--format", "json", *common)
    assert code == 1 and [r["intact"] for r in json.loads(out)] == [False, True]


def test_the_registry_may_not_live_inside_the_tables_folder(tables, capsys):
    code, _, err = run(
        capsys,
        "verify",
        "--tables",
        str(tables),
        "--registry",
        str(tables / "r.duckdb"),
    )
    assert code == 1 and "E707 版本登记簿不能放在 tables 文件夹内" in err


def test_publish_with_households_attaches_the_impact_report(tables, registry, tmp_path):
    pytest.importorskip("compiler.households")
    publish(tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    path = tmp_path / "households.jsonl"
    rows = [household("H1", "16200"), household("H2", "50000")]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    set_county_standards(
        tables, [["dibao_standard", "1400", "2025-01-01", None, "杭民发"]]
    )
    second = publish(
        tables, COUNTY, date(2025, 7, 1), "提高", "李四", 1, registry, households=path
    )
    report = json.loads(second.impact or "{}")
    assert (report["households"], report["changed"]) == (2, 1)
    assert report["counties"][COUNTY]["moves"] == [
        {"from": "dibao_marginal", "to": "dibao", "households": 1}
    ]
    assert report["counties"][COUNTY]["gained"] == {"dibao_allowance": 1}


def test_publish_prints_the_impact_with_group_names(tables, registry, tmp_path, capsys):
    """「330106 dibao_marginal → dibao：1 户」 where diff says 低保边缘 → 低保 (helper-50)."""
    common = ["--tables", str(tables), "--registry", str(registry), "--author", "张三"]
    assert run(capsys, "publish", "--county", COUNTY, "--effective", "2025-01-01",
               "--note", "首次发布", *common)[0] == 0
    path = tmp_path / "households.jsonl"
    rows = [household("H1", "16200"), household("H2", "50000")]
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    set_county_standards(tables, [["dibao_standard", "1400", "2025-01-01", None, "杭民发"]])
    code, out, _ = run(capsys, "publish", "--county", COUNTY, "--effective", "2025-07-01",
                       "--note", "提高", "--households", str(path), *common)
    assert code == 0 and "  330106 低保边缘 → 低保：1 户" in out


def test_publish_with_households_refuses_a_temporary_folder_inside_the_tables(
    tables, registry, tmp_path, capsys, monkeypatch
):
    """The impact loads the households and lets DuckDB spill in the temporary folder,
    as diff does (helper-84): TMPDIR among the workbooks is refused before anything is
    stored, and the folder is left as it was."""
    common = ["--tables", str(tables), "--registry", str(registry), "--author", "张三"]
    assert run(capsys, "publish", "--county", COUNTY, "--effective", "2025-01-01",
               "--note", "首次发布", *common)[0] == 0
    path = tmp_path / "households.jsonl"
    path.write_text(json.dumps(household("H1", "16200")), encoding="utf-8")
    set_county_standards(tables, [["dibao_standard", "1400", "2025-01-01", None, "杭民发"]])
    counties = tables / "counties"
    before = sorted(p.name for p in counties.iterdir())
    monkeypatch.setattr(tempfile, "tempdir", str(counties))

    code, _, err = run(capsys, "publish", "--county", COUNTY, "--effective", "2025-07-01",
                         "--note", "提高", "--households", str(path), *common)

    assert code == 1 and "E613 临时文件夹在正在读取的决策表文件夹中" in err and "TMPDIR" in err
    assert sorted(p.name for p in counties.iterdir()) == before
    assert [v.number for v in Registry(registry).history(COUNTY)] == [1]


def test_export_and_diff_refuse_a_version_edited_after_publishing(
    tables, registry, capsys, tmp_path
):
    two_versions(tables, registry)
    tamper_standard(registry, 2, "1400.00", "1999.00")
    common = ["--tables", str(tables), "--registry", str(registry)]
    out = tmp_path / "v2.yaml"
    export = ["export", "--county", COUNTY, "--version", "2", "--out", str(out)]
    code, _, err = run(capsys, *export, *common)
    assert code == 1 and "E703" in err and "330106@2" in err and not out.exists()
    code, _, err = run(capsys, "diff", "330106@1", "330106@2", *common)
    assert code == 1 and "E703" in err and "jiuzhu verify" in err
    code, _, err = run(capsys, "verify", *common)
    assert code == 1 and "E703" in err


MISSING_REGISTRY = {
    "verify": ["verify"],
    "history": ["history", "--county", COUNTY],
    "export": ["export", "--county", COUNTY, "--version", "1", "--out", "x.yaml"],
    "diff": ["diff", "330106@1", "330106"],
}


@pytest.mark.parametrize("argv", MISSING_REGISTRY.values(), ids=MISSING_REGISTRY.keys())
def test_a_registry_named_that_does_not_exist_is_refused(
    tables, tmp_path, capsys, argv
):
    path = tmp_path / "nonexistent.duckdb"
    code, out, err = run(
        capsys, *argv, "--tables", str(tables), "--registry", str(path)
    )
    assert code == 1 and "E705" in err and str(path) in err and "Traceback" not in err
    assert not path.exists() and "还没有已发布的版本" not in out
    assert "检查 --registry 的路径是否写错" in err


@pytest.mark.parametrize("argv", MISSING_REGISTRY.values(), ids=MISSING_REGISTRY.keys())
def test_a_registry_named_by_the_environment_that_does_not_exist_is_refused(
    tables, tmp_path, capsys, monkeypatch, argv
):
    path = tmp_path / "typo.duckdb"
    monkeypatch.setenv("JIUZHU_REGISTRY", str(path))
    code, out, err = run(capsys, *argv, "--tables", str(tables))
    assert code == 1 and "E705" in err and str(path) in err and "Traceback" not in err
    assert not path.exists() and "还没有已发布的版本" not in out
    # the hint names where the path came from: no --registry was given
    assert "检查环境变量 JIUZHU_REGISTRY 中的路径" in err and "--registry 的" not in err


def test_evaluate_refuses_a_registry_the_environment_names_that_does_not_exist(
    tables, tmp_path, capsys, monkeypatch
):
    households = tmp_path / "households.jsonl"
    households.write_text(json.dumps(household("H1", "16200")), encoding="utf-8")
    path = tmp_path / "typo.duckdb"
    monkeypatch.setenv("JIUZHU_REGISTRY", str(path))
    argv = ["evaluate", "--households", str(households), "--tables", str(tables)]
    code, _, err = run(capsys, *argv, "--as-of", "2025-08-01")
    assert code == 1 and "E705" in err and not path.exists()
    assert "环境变量 JIUZHU_REGISTRY" in err and "--registry 的" not in err


def test_evaluate_refuses_a_registry_named_that_does_not_exist(
    tables, tmp_path, capsys
):
    households = tmp_path / "households.jsonl"
    households.write_text(json.dumps(household("H1", "16200")), encoding="utf-8")
    path = tmp_path / "nonexistent.duckdb"
    argv = [
        "evaluate",
        "--households",
        str(households),
        "--tables",
        str(tables),
        "--registry",
        str(path),
    ]
    code, _, err = run(capsys, *argv, "--as-of", "2025-08-01")
    assert code == 1 and "E705" in err and not path.exists()


def test_publish_creates_a_registry_named_that_does_not_exist(tables, tmp_path, capsys):
    path = tmp_path / "new" / "r.duckdb"
    argv = ["--tables", str(tables), "--registry", str(path), "--note", "首次发布"]
    code, _, _ = run(
        capsys, "publish", "--county", COUNTY, "--effective", "2025-01-01", *argv
    )
    assert code == 0 and path.exists()


def test_the_default_registry_not_existing_means_no_versions(
    tables, capsys, monkeypatch
):
    monkeypatch.delenv("JIUZHU_REGISTRY", raising=False)
    code, out, _ = run(capsys, "verify", "--tables", str(tables))
    assert code == 0 and "还没有已发布的版本" in out
    code, out, _ = run(capsys, "history", "--county", COUNTY, "--tables", str(tables))
    assert code == 0 and "还没有已发布的版本" in out


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["history", "--county", "abc"], "县（市、区）代码「abc」应为六位数字"),
        (["export", "--county", COUNTY, "--version", "-1", "--out", "x.yaml"], "版本「-1」应为从 1 起的版本号"),
        (["export", "--county", COUNTY, "--version", "1", "--out", "x.txt"], "「x.txt」应以 .yaml 或 .xlsx 结尾"),
        (["publish", "--county", "3301", "--note", "调整"], "代码「3301」应为六位数字"),
    ],
)
def test_malformed_registry_arguments_are_usage_errors_in_chinese(
    argv, said, tables, registry, capsys
):
    two_versions(tables, registry)
    with pytest.raises(SystemExit) as ended:
        cli.main([*argv, "--tables", str(tables), "--registry", str(registry)])
    assert ended.value.code == 2 and said in capsys.readouterr().err


def test_history_of_a_county_with_no_version_and_no_workbook_is_unknown(
    tables, registry, capsys
):
    two_versions(tables, registry)
    common = ["--tables", str(tables), "--registry", str(registry)]
    code, out, err = run(capsys, "history", "--county", "999999", *common)
    assert code == 1 and "E606" in err and "999999" in err
    code, out, _ = run(capsys, "history", "--county", OTHER, *common)
    assert code == 0 and "还没有已发布的版本" in out


def test_an_exported_county_workbook_keeps_the_order_of_its_standard_rows(
    tables, registry, capsys, tmp_path
):
    """The county lists its later dibao row first and its marginal multiplier above
    its dibao standard; the exported workbook, which a console draft starts from,
    used to put them in the province's order, so that every edit of a draft showed
    rows moved."""
    written = [
        ["marginal_multiplier", "1.6", "2025-01-01", None, "杭民发〔2025〕2号"],
        ["dibao_standard", "1400", "2025-07-01", None, "杭民发〔2025〕9号"],
        ["dibao_standard", "1350", "2025-01-01", "2025-06-30", "杭民发〔2025〕1号"],
    ]
    set_county_standards(tables, written)
    common = ["--tables", str(tables), "--registry", str(registry)]
    code, _, err = run(
        capsys, "publish", "--county", COUNTY, "--effective", "2025-01-01",
        "--note", "首次发布", *common,
    )  # fmt: skip
    assert code == 0, err
    out = tmp_path / "export" / "330106-西湖区.xlsx"
    code, _, err = run(
        capsys, "export", "--county", COUNTY, "--version", "1", "--out", str(out), *common
    )
    assert code == 0, err

    sheet = openpyxl.load_workbook(out)["标准参数"]
    rows = [(r[0], str(r[2])) for r in sheet.iter_rows(min_row=2, values_only=True) if r[0]]
    assert rows == [(w[0], w[1]) for w in written]


def test_publishes_of_two_counties_at_once_in_one_process_both_succeed(
    tables: Path, registry: Path
) -> None:
    """The console publishes every session from one process, whose connections share
    one database: two counties publishing at the same moment collided on the
    registry-wide chain, and one was told E702 (or an English TransactionException on a
    new registry) although nobody had published its county (helper-35)."""
    import threading

    from compiler.registry_publish import _draft, prepare

    prepared = {c: prepare(tables, c, date(2025, 1, 1), None) for c in (COUNTY, OTHER)}
    for trial in range(4):
        outcomes: dict[str, str] = {}
        barrier = threading.Barrier(2)

        def publish_one(
            county: str,
            trial: int = trial,
            barrier: threading.Barrier = barrier,
            outcomes: dict[str, str] = outcomes,
        ) -> None:
            store = Registry(registry)
            draft = _draft(prepared[county], date(2025, 1, 1), f"第 {trial} 轮", "张三", None)
            barrier.wait()
            try:
                outcomes[county] = store.append(draft, trial).label
            except Exception as error:  # noqa: BLE001 - recorded for the assertion
                outcomes[county] = f"{type(error).__name__}: {error}"

        threads = [threading.Thread(target=publish_one, args=(c,)) for c in (COUNTY, OTHER)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert outcomes == {COUNTY: f"{COUNTY}@{trial + 1}", OTHER: f"{OTHER}@{trial + 1}"}
    assert Registry(registry).verify() == []


@pytest.mark.parametrize(
    ("note", "said"),
    [
        ("调整\x1b[2J标准", "E708 版本说明中有控制字符，发布被拒绝；实际为「第 3 个字符 <U+001B>」"),
        ("说" * 1001, "E708 版本说明过长，发布被拒绝；实际为「1001 个字符」"),
        ("   ", "E708 版本说明为空"),
    ],
    ids=["escape", "long", "blank"],
)
def test_a_note_that_would_drive_a_terminal_or_not_export_is_refused(
    tables, registry, capsys, note, said
):
    """A note with ESC was printed raw by jiuzhu history; one of 40,000 characters
    could not be exported to a workbook (helper-35). Nothing is published."""
    code, _, err = run(
        capsys, "publish", "--county", COUNTY, "--effective", "2025-01-01", "--note", note,
        "--author", "张三", "--tables", str(tables), "--registry", str(registry),
    )
    assert code == 1 and said in err
    assert not registry.exists() or Registry(registry).latest(COUNTY) is None
    multi = "依据杭民发〔2025〕1 号\n调整低保标准"  # a line break is a note's own
    code, out, _ = run(
        capsys, "publish", "--county", COUNTY, "--effective", "2025-01-01", "--note", multi,
        "--author", "张三", "--tables", str(tables), "--registry", str(registry),
    )
    assert code == 0 and "已发布 330106@1" in out


def test_a_version_number_to_withdraw_that_is_not_positive_is_a_usage_error(
    tables, registry, capsys
):
    """--withdraw=-1 reached the registry and was told 「330106@-1 不存在」 (helper-42)."""
    with pytest.raises(SystemExit) as stopped:
        cli.main(["publish", "--county", COUNTY, "--withdraw=-1", "--note", "x",
                  "--tables", str(tables), "--registry", str(registry)])
    assert stopped.value.code == 2
    assert "参数 --withdraw：「-1」应为正整数" in capsys.readouterr().err
