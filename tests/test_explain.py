"""explain() tells a county worker, in Chinese, which rule decided with its cell and
policy section, the values it compared, and for each group the household did not get
the condition it missed and by how much."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from compiler.bind import Plan
from compiler.errors import ValidationFailed
from compiler.explain import explain, explain_file
from tests.helpers import COUNTY, decide, open_clean

AS_OF = date(2025, 6, 1)
SMOKE = Path(__file__).parent / "fixtures" / "smoke" / "tables"


@pytest.fixture
def smoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The smoke workbook opened from a relative path (cells are named relative to it)."""
    shutil.copytree(SMOKE, tmp_path / "tables")
    monkeypatch.chdir(tmp_path)
    return open_clean(Path("tables"), AS_OF)


def household(monthly: str | None, assets: str = "0") -> dict:
    """A one-member household whose monthly income per head is ``monthly``."""
    members = (
        []
        if monthly is None
        else [
            {
                "person_id": "P1",
                "birth_date": "1960-01-01",
                "income": {"wage": str(Decimal(monthly) * 12)},
            }
        ]
    )
    return {
        "household_id": "H1",
        "county_code": COUNTY,
        "assets": {"money": assets},
        "members": members,
        "events": [
            {
                "type": "unemployment_registration",
                "date": "2025-05-06",
                "person_id": "P1",
            }
        ],
    }


def lines(plan: Plan, monthly: str | None, assets: str = "0") -> list[str]:
    return explain(plan, household(monthly, assets), AS_OF).splitlines()


def test_explanation_opens_with_household_county_date_and_conclusion(smoke) -> None:  # type: ignore[no-untyped-def]
    text = lines(smoke.plan(COUNTY), "1402.50")
    assert text[0] == "家庭 H1（330106 西湖区），决策日 2025-06-01"
    # the smoke tables count a member of 60 or over as tekun: the conclusion names them
    assert text[1] == "结论：救助类别 = 低保边缘（dibao_marginal）；特困成员 = P1"


def test_rule_that_fired_is_named_with_its_cell_and_section(smoke) -> None:  # type: ignore[no-untyped-def]
    text = lines(smoke.plan(COUNTY), "1402.50")
    assert (
        "· 决策表「家庭救助类别」命中规则 marginal（province:household_group!A7），"
        "结果 低保边缘；依据 二" in text
    )


def test_values_compared_are_shown_in_yuan_with_thousands_separators(smoke) -> None:  # type: ignore[no-untyped-def]
    text = lines(smoke.plan(COUNTY), "1402.50", assets="12345.6")
    assert "    比较的值：人均月收入 = 1,402.50 元；货币财产 = 12,345.60 元" in text


def test_group_not_obtained_names_the_missed_threshold_and_the_gap(smoke) -> None:  # type: ignore[no-untyped-def]
    missed = [line for line in lines(smoke.plan(COUNTY), "1402.50") if "未得到" in line]
    assert len(missed) == 1
    assert missed[0].startswith(
        "    未得到 低保（规则 dibao）：人均月收入 1,402.50 元，"
    )
    assert missed[0].endswith("低保标准 1,301.00 元（相差 101.50 元）")


def test_income_above_the_standard_is_worded_higher_by_the_gap(smoke) -> None:  # type: ignore[no-untyped-def]
    text = lines(smoke.plan(COUNTY), "1402.50")
    assert (
        "    未得到 低保（规则 dibao）：人均月收入 1,402.50 元，高于低保标准 1,301.00 元（相差 101.50 元）"
        in text
    )


def test_income_exactly_on_the_standard_has_no_gap(smoke) -> None:  # type: ignore[no-untyped-def]
    text = lines(smoke.plan(COUNTY), "1301.00")
    assert (
        "    未得到 低保（规则 dibao）：人均月收入 1,301.00 元，不低于低保标准 1,301.00 元"
        in text
    )
    # the smoke tables count a member of 60 or over as tekun (特困成员 = P1)
    assert text[1].startswith("结论：救助类别 = 不属于低收入人口（none）")


def test_no_rule_matched_shows_the_default_and_every_range_missed(smoke) -> None:  # type: ignore[no-untyped-def]
    text = lines(smoke.plan(COUNTY), "3333.33")
    assert "· 决策表「家庭救助类别」没有规则命中，取默认值 不属于低收入人口" in text
    assert (
        "    未得到 低保边缘（规则 marginal）：人均月收入 3,333.33 元，"
        "不在 (低保标准 1,301.00 元 .. 边缘标准 2,602.00 元) 之内"
        "（高于边缘标准 2,602.00 元（上限），相差 731.33 元）" in text
    )


def test_a_missing_value_is_said_to_be_missing(smoke) -> None:  # type: ignore[no-untyped-def]
    text = lines(smoke.plan(COUNTY), None)
    # both rules miss for that one reason, so it is said once (no "没有取值" per rule)
    assert "    规则 dibao、marginal（共 2 条）未命中：人均月收入 为空" in text


def test_a_rule_that_fired_leaves_no_why_not_for_later_rules(smoke) -> None:  # type: ignore[no-untyped-def]
    text = lines(smoke.plan(COUNTY), "1000")
    assert text[1].startswith("结论：救助类别 = 低保（dibao）")
    assert not [line for line in text if "未得到" in line]


def test_event_table_line_names_the_member_and_its_values(smoke) -> None:  # type: ignore[no-untyped-def]
    text = lines(smoke.plan(COUNTY), "1000")
    index = text.index(
        "· 决策表「预警」成员 P1：命中规则 A1（province:alerts!A5），"
        "结果 失业人员登记；依据 四(三)"
    )
    assert text[index + 1] == "    比较的值：事件类型 = 失业人员登记"


def test_the_standards_a_matched_rule_compared_with_are_shown_with_their_amounts(smoke) -> None:  # type: ignore[no-untyped-def]
    """The rule said 「< 低保标准」 and the reader could not see 1,301 (helper-40)."""
    text = lines(smoke.plan(COUNTY), "1000")
    assert text[text.index("    比较的值：人均月收入 = 1,000.00 元；货币财产 = 0.00 元") + 1] == (
        "    所比较的标准：人均月收入 1,000.00 元 < 低保标准 1,301.00 元；"
        "货币财产 0.00 元 < 62,448.00 元（条件「< 4 * 12 * 低保标准」，其中 低保标准 = 1,301.00 元）"
    )
    marginal = [line for line in lines(smoke.plan(COUNTY), "1500") if "所比较的标准" in line]
    assert marginal[0].startswith(
        "    所比较的标准：人均月收入 1,500.00 元 在 (1,301.00 元 .. 2,602.00 元) 之内"
        "（条件「(低保标准..边缘标准)」）"
    )


def test_each_of_a_persons_events_is_shown_with_its_own_values(smoke) -> None:  # type: ignore[no-untyped-def]
    """Every event of a person was shown with the values of that person's first event
    (helper-40)."""
    data = household("1000")
    data["events"] = [
        {"type": "disability_certificate", "date": "2025-04-01", "person_id": "P1"},
        {"type": "unemployment_registration", "date": "2025-05-06", "person_id": "P1"},
    ]
    text = explain(smoke.plan(COUNTY), data, AS_OF).splitlines()
    compared = [line for line in text if line.startswith("    比较的值：事件类型")]
    assert compared == [
        "    比较的值：事件类型 = 残疾人证办理",
        "    比较的值：事件类型 = 失业人员登记",
    ]


@pytest.mark.parametrize(
    "monthly", ["1000", "1301.00", "1301.01", "2601.99", "2602.00", None]
)
def test_explained_conclusion_is_the_decision_the_sql_makes(
    monthly: str | None,
    smoke,
    con: duckdb.DuckDBPyConnection,  # type: ignore[no-untyped-def]
) -> None:
    said = lines(smoke.plan(COUNTY), monthly)[1]
    conclusion = said.split("；", 1)[0].rsplit("（", 1)[-1].rstrip("）")
    wage = None if monthly is None else Decimal(monthly) * 12
    members = [] if wage is None else [{"person_id": "P1", "income.wage": wage}]
    row = decide(
        con,
        smoke,
        AS_OF,
        [{"household_id": "H1", "assets.money": Decimal(0), "members": members}],
    )
    assert row[0]["group"] == conclusion


def test_priority_table_explains_the_rule_whose_output_won(
    tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from tests.helpers import write_tables

    fields = [
        ["标识", "名称", "层级", "类型", "默认", "说明"],
        ["household_id", "家庭编号", "家庭", "text", None, None],
        ["county_code", "县代码", "家庭", "text", None, None],
        ["income.monthly", "月收入", "家庭", "money", None, None],
    ]
    table = [
        ["grouping", "分类", "PRIORITY", "层级=家庭"],
        ["规则", "输入", "输出", "注释"],
        ["名称", "月收入", "group", "依据"],
        ["类型", "money", "enum(tekun,dibao,none)", None],
        ["默认", None, "none", None],
        ["low", "< 2000", "dibao", "三(一)"],
        ["lowest", "< 1000", "tekun", "二"],
    ]
    write_tables(tmp_path / "tables", {"字段": fields, "grouping": table})
    monkeypatch.chdir(tmp_path)
    plan = open_clean(Path("tables"), AS_OF).plan(COUNTY)
    text = explain(plan, {"household_id": "H1", "income": {"monthly": 500}}, AS_OF)
    assert "结论：救助类别 = 特困供养（tekun）" in text
    assert "命中规则 lowest（province:grouping!A7），结果 特困供养；依据 二" in text


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([header, *rows])


def test_csv_input_is_explained_as_its_json_lines_twin(smoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    twin = household("1000")
    (tmp_path / "households.jsonl").write_text(json.dumps(twin) + "\n", encoding="utf-8")
    _write_csv(
        tmp_path / "households.csv",
        ["household_id", "county_code", "assets.money"],
        [["H1", COUNTY, "0"]],
    )
    _write_csv(
        tmp_path / "members.csv",
        ["household_id", "person_id", "birth_date", "income.wage"],
        [["H1", "P1", "1960-01-01", "12000"]],
    )
    _write_csv(
        tmp_path / "events.csv",
        ["household_id", "event.type", "event.date", "event.person_id"],
        [["H1", "unemployment_registration", "2025-05-06", "P1"]],
    )

    texts = [
        explain_file(Path("tables"), tmp_path / name, "H1", AS_OF)
        for name in ("households.csv", "households.jsonl")
    ]

    assert texts[0] == texts[1]
    assert "结论：救助类别 = " in texts[0] and "成员 P1" in texts[0]


def test_a_tables_folder_that_is_not_there_is_e001(tmp_path, capsys):
    from compiler.cli import main

    samples = Path(__file__).resolve().parents[1] / "tables" / "samples" / "households.jsonl"
    code = main(["explain", "S001", "--households", str(samples), "--tables",
                 str(tmp_path / "nowhere"), "--as-of", "2025-06-01"])
    err = capsys.readouterr().err
    assert code == 1 and "E001 找不到决策表文件夹" in err and err.count("E001") == 1 and "E606" not in err


def test_county_restricts_the_household_explained_as_evaluate_does(smoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from compiler.errors import InputError

    path = tmp_path / "households.jsonl"
    path.write_text(json.dumps(household("1000")) + "\n", encoding="utf-8")

    counties = Path("tables") / "counties"
    shutil.copytree(counties / "330106-西湖区", counties / "330108-滨江区")

    text = explain_file(Path("tables"), path, "H1", AS_OF, [COUNTY])
    with pytest.raises(InputError) as refused:
        explain_file(Path("tables"), path, "H1", AS_OF, ["330108"])

    assert text.startswith("家庭 H1")
    message = str(refused.value)
    assert "E619" in message and f"属于 {COUNTY}" in message and "330108" in message
    with pytest.raises(ValidationFailed) as unknown:
        explain_file(Path("tables"), path, "H1", AS_OF, ["339999"])
    assert [d.code for d in unknown.value.diagnostics] == ["E606"]


def _with_id(record: dict, hid: str, **changes: object) -> dict:
    return {**record, "household_id": hid, **changes}


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_another_households_problem_does_not_stop_an_explanation(smoke, tmp_path: Path, fmt) -> None:  # type: ignore[no-untyped-def]
    """Only the asked household's rows are read and checked: a bad date in another
    household (which evaluate refuses with the file) leaves this one explained, the
    same as from a file without it; the bad household itself is refused, and an id
    written twice is still found."""
    from compiler.errors import InputError

    good = household("1000")
    bad = _with_id(household("900"), "H2", members=[
        {"person_id": "P9", "birth_date": "1960-02-30"}])
    twice = [_with_id(household("800"), "H3"), _with_id(household("700"), "H3")]
    alone = tmp_path / "alone"
    mixed = tmp_path / "mixed"
    for folder, records in ((alone, [good]), (mixed, [bad, good, *twice])):
        folder.mkdir()
        _write_households(folder, records, fmt)
    name = {"jsonl": "households.jsonl", "csv": "households.csv",
            "parquet": "households.parquet"}[fmt]

    expected = explain_file(Path("tables"), alone / name, "H1", AS_OF)
    assert explain_file(Path("tables"), mixed / name, "H1", AS_OF) == expected
    with pytest.raises(InputError) as refused:
        explain_file(Path("tables"), mixed / name, "H2", AS_OF)
    assert "1960-02-30" in str(refused.value)
    with pytest.raises(InputError) as repeated:
        explain_file(Path("tables"), mixed / name, "H3", AS_OF)
    assert "H3" in str(repeated.value) and "E603" in str(repeated.value)


def _write_households(folder: Path, records: list[dict], fmt: str) -> None:
    """The households as JSON lines, or as the households/members/events files of CSV
    (text) or Parquet (every column text, cast by the load)."""
    if fmt == "jsonl":
        (folder / "households.jsonl").write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        return
    rows = {
        "households": (["household_id", "county_code", "assets.money"],
                       [[r["household_id"], r["county_code"], r["assets"]["money"]] for r in records]),
        "members": (["household_id", "person_id", "birth_date", "income.wage"],
                    [[r["household_id"], m["person_id"], m["birth_date"],
                      m.get("income", {}).get("wage", "0")]
                     for r in records for m in r["members"]]),
        "events": (["household_id", "event.type", "event.date", "event.person_id"],
                   [[r["household_id"], e["type"], e["date"], e["person_id"]]
                    for r in records for e in r["events"]]),
    }
    for stem, (header, body) in rows.items():
        _write_csv(folder / f"{stem}.csv", header, body)
        if fmt == "parquet":
            duckdb.execute(
                f"COPY (SELECT * FROM read_csv('{folder / stem}.csv', all_varchar = true)) "
                f"TO '{folder / stem}.parquet' (FORMAT parquet)")
            (folder / f"{stem}.csv").unlink()


def test_a_county_whose_tables_check_refuses_is_not_explained(smoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """As evaluate refuses to decide a county with an error in its tables, explain
    does not explain a decision made with them."""
    path = tmp_path / "households.jsonl"
    path.write_text(json.dumps(household("1000")) + "\n", encoding="utf-8")
    sheet = Path("tables") / "counties" / "330106-西湖区" / "标准参数.csv"
    sheet.write_text(
        sheet.read_text(encoding="utf-8").replace("dibao_standard,1301,", "dibao_standard,一千三,"),
        encoding="utf-8",
    )

    with pytest.raises(ValidationFailed) as refused:
        explain_file(Path("tables"), path, "H1", AS_OF)

    found = refused.value.diagnostics
    assert found and all(d.severity == "error" for d in found)
    assert any(d.code == "E104" and d.found == "一千三" and d.location.sheet == "标准参数" for d in found)


def test_an_id_typed_with_spaces_or_full_width_finds_the_household(smoke, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The id is tried as typed, then trimmed and folded as a CSV cell is read; an id
    that no household has, however folded, is E619 (no household of that id)."""
    from compiler.errors import InputError

    path = tmp_path / "households.jsonl"
    path.write_text(json.dumps(household("1000")) + "\n", encoding="utf-8")

    expected = explain_file(Path("tables"), path, "H1", AS_OF)

    assert explain_file(Path("tables"), path, " H1 ", AS_OF) == expected
    assert explain_file(Path("tables"), path, "Ｈ１", AS_OF) == expected
    with pytest.raises(InputError) as missing:
        explain_file(Path("tables"), path, "Ｈ２", AS_OF)
    assert "E619" in str(missing.value) and "Ｈ２" in str(missing.value)
