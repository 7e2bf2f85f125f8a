"""Diffs of two versions: standards over time, rules cell by cell, and households."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from compiler import cli
from compiler.diff import Side, diff_sides
from compiler.diff_impact import impact
from compiler.diff_rulebooks import diff_rulebooks, timeline
from compiler.diff_text import render_text
from compiler.engine import open_project
from compiler.model import Standard, StandardRow
from compiler.registry_publish import publish
from tests.test_registry import (
    COUNTY,
    DERIVED,
    GROUP_TABLE,
    OTHER,
    household,
    set_county_standards,
    write_rulebook,
)
from tests.workbooks import write_csv_folder, write_xlsx

AS_OF = date(2025, 8, 1)


def book(tables: Path, county: str = COUNTY):  # type: ignore[no-untyped-def]
    project = open_project(tables, [county], AS_OF)
    assert not project.report.has_errors, project.report.errors
    return project.plan(county).rulebook


def side(tables: Path, label: str, counties: tuple[str, ...] = (COUNTY,)) -> Side:
    return Side(
        label, {c: book(tables, c) for c in counties}, {c: label for c in counties}
    )


@pytest.fixture
def old(tmp_path: Path) -> Path:
    return write_rulebook(tmp_path / "old")


@pytest.fixture
def new(tmp_path: Path) -> Path:
    return write_rulebook(tmp_path / "new")


def test_an_unchanged_county_has_no_differences(old, new):
    text = render_text(diff_sides(side(old, "甲"), side(new, "乙"), AS_OF))
    assert "决策表没有差异" in text


def test_a_source_written_with_other_punctuation_is_no_change_but_other_words_are(old, new):
    """Free text is kept as typed, and versions published before that hold it folded: a
    source that differs only in full-width punctuation is the same source."""
    set_county_standards(old, [["dibao_standard", "1301", "2025-01-01", None, "杭民发(2024)1号"]])
    set_county_standards(new, [["dibao_standard", "1301", "2025-01-01", None, "杭民发（2024）1号"]])
    assert "决策表没有差异" in render_text(diff_sides(side(old, "甲"), side(new, "乙"), AS_OF))
    set_county_standards(new, [["dibao_standard", "1301", "2025-01-01", None, "杭民发（2024）2号"]])
    text = render_text(diff_sides(side(old, "甲"), side(new, "乙"), AS_OF))
    assert "决策表没有差异" not in text and "杭民发（2024）2号" in text


def test_the_countys_other_sheets_are_compared_row_by_row(old, new):
    """说明 is published and exported with the version, so a reviewer sees its changes;
    punctuation folded by versions published before free text was kept is no change."""
    rows = [["dibao_standard", "1301", "2025-01-01", None, "杭民发"]]
    set_county_standards(old, rows, {"说明": [["说明"], ["本县标准(2025)"], ["联系人：甲"]]})
    set_county_standards(new, rows, {"说明": [["说明"], ["本县标准（2025）"], ["联系人：甲"]]})
    assert "决策表没有差异" in render_text(diff_sides(side(old, "甲"), side(new, "乙"), AS_OF))

    set_county_standards(
        new, rows, {"说明": [["说明"], ["本县标准（2025）"], ["联系人：乙", "电话"]], "附表": [["x"]]}
    )
    result = diff_sides(side(old, "甲"), side(new, "乙"), AS_OF)
    sheets = result["counties"][COUNTY]["sheets"]
    assert sheets == [
        {"sheet": "说明", "status": "changed",
         "rows": [{"row": 3, "old": ["联系人：甲"], "new": ["联系人：乙", "电话"]}]},
        {"sheet": "附表", "status": "added", "rows": []},
    ]
    text = render_text(result)
    assert "其他工作表：" in text and "第 3 行：联系人：甲 → 联系人：乙 | 电话" in text
    assert "+ 「附表」（新增）" in text


def test_standards_are_compared_period_by_period(old, new):
    set_county_standards(
        new,
        [
            ["dibao_standard", "1301", "2025-01-01", "2025-06-30", "杭民发"],
            ["dibao_standard", "1400", "2025-07-01", None, "杭民发〔2025〕1号"],
        ],
    )
    result = diff_rulebooks(book(old), book(new), AS_OF)
    (standard,) = result["standards"]
    assert standard["id"] == "dibao_standard" and standard["status"] == "changed"
    assert standard["periods"] == [
        {
            "from": date(2025, 7, 1),
            "until": None,
            "old": Decimal(1301),
            "new": Decimal(1400),
            "old_layer": "county",
            "new_layer": "county",
        }
    ]
    assert {
        "field": "effective_until",
        "old": None,
        "new": date(2025, 6, 30),
        "layer": "county",
        "from": date(2025, 1, 1),
    } in standard["attributes"]
    assert result["derived_values"] == [
        {
            "id": "marginal_line",
            "name": "边缘标准",
            "type": "money",
            "old": Decimal("1951.50"),
            "new": Decimal("2100.00"),
        }
    ]
    text = render_text(diff_sides(side(old, "330106@1"), side(new, "330106@2"), AS_OF))
    assert "2025-07-01 起：1,301.00（县级） → 1,400.00（县级） 元/人/月" in text
    assert "2025-08-01 的取值 边缘标准：1,951.50 → 2,100.00" in text


def test_removing_a_county_value_falls_back_to_the_province_in_the_diff(old, new):
    set_county_standards(new, [])
    (standard,) = diff_rulebooks(book(old), book(new))["standards"]
    assert standard["periods"] == [
        {
            "from": date(2025, 1, 1),
            "until": None,
            "old": Decimal(1301),
            "new": Decimal(1149),
            "old_layer": "county",
            "new_layer": "province",
        }
    ]


def test_timeline_merges_periods_by_precedence():
    rows = [
        StandardRow(Decimal(1301), date(2025, 1, 1), None, workbook="county"),
        StandardRow(Decimal(1149), date(2024, 1, 1), None, workbook="province"),
    ]
    segments = timeline(Standard("s", "", None, rows))  # type: ignore[arg-type]
    assert [(s.start, s.end, s.row.value if s.row else None) for s in segments] == [
        (None, date(2023, 12, 31), None),
        (date(2024, 1, 1), date(2024, 12, 31), Decimal(1149)),
        (date(2025, 1, 1), None, Decimal(1301)),
    ]


def test_rules_are_matched_by_id_and_compared_cell_by_cell(old, new):
    table = [row[:] for row in GROUP_TABLE]
    dibao, marginal = table[5], table[6]
    dibao[1] = "<= 低保标准"  # a changed cell
    special = ["special", "< 低保标准 / 2", "-", "dibao", "七"]
    set_county_standards(
        new,
        [["dibao_standard", "1301", "2025-01-01", None, "杭民发"]],
        {"household_group": [*table[:5], marginal, special, dibao]},
    )
    set_county_standards(
        old,
        [["dibao_standard", "1301", "2025-01-01", None, "杭民发"]],
        {"household_group": GROUP_TABLE},
    )
    (entry,) = diff_rulebooks(book(old), book(new))["tables"]
    assert entry["id"] == "household_group" and entry["order_changed"]
    rules = {r["id"]: r for r in entry["rules"]}
    assert rules["dibao"]["cells"] == [
        {"column": "income_per_capita", "old": "< 低保标准", "new": "<= 低保标准"}
    ]
    assert rules["special"]["status"] == "added" and "marginal" not in rules
    text = render_text(diff_sides(side(old, "甲"), side(new, "乙")))
    assert (
        "~ 规则 dibao：" in text
        and "income_per_capita：「< 低保标准」→「<= 低保标准」" in text
    )
    assert "+ 规则 special（新增）：income_per_capita = < 低保标准 / 2" in text
    assert "规则顺序改变" in text


def test_a_cell_written_differently_with_the_same_meaning_is_not_a_change(old, new):
    table = [row[:] for row in GROUP_TABLE]
    table[5][1] = "<dibao_standard"  # the identifier instead of the Chinese name
    set_county_standards(
        old,
        [["dibao_standard", "1301", "2025-01-01", None, "杭民发"]],
        {"household_group": GROUP_TABLE},
    )
    set_county_standards(
        new,
        [["dibao_standard", "1301", "2025-01-01", None, "杭民发"]],
        {"household_group": table},
    )
    assert diff_rulebooks(book(old), book(new))["tables"] == []


def test_derived_values_tables_and_hit_policies_are_compared(tmp_path):
    old = write_rulebook(tmp_path / "old")
    new = write_rulebook(tmp_path / "new")
    derived = [row[:] for row in DERIVED]
    derived[2][4] = "2 * 低保标准"
    table = [row[:] for row in GROUP_TABLE]
    table[0][2] = "UNIQUE"
    write_csv_folder(new / "province", {"派生值": derived, "household_group": table})
    result = diff_rulebooks(book(old), book(new), AS_OF)
    assert result["derived"] == [
        {
            "id": "marginal_line",
            "name": "边缘标准",
            "status": "changed",
            "expr": "2 * 低保标准",
            "changes": [
                {"field": "expr", "old": "边缘倍数 * 低保标准", "new": "2 * 低保标准"}
            ],
        }
    ]
    assert result["tables"][0]["changes"] == [
        {"field": "hit_policy", "old": "FIRST", "new": "UNIQUE"}
    ]


def test_a_workbook_path_is_laid_over_the_working_province(old, tmp_path, capsys):
    registry = tmp_path / "registry.duckdb"
    publish(old, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    workbook = write_xlsx(
        tmp_path / "330106-西湖区.xlsx",
        {
            "标准参数": [
                ["标识", "值", "生效日期", "失效日期", "来源"],
                ["dibao_standard", 1350, "2025-01-01", None, "新"],
            ]
        },
    )
    code = cli.main(
        [
            "diff",
            "330106@1",
            str(workbook),
            "--tables",
            str(old),
            "--registry",
            str(registry),
            "--as-of",
            "2025-08-01",
            "--format",
            "json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["old"] == "330106@1" and out["new"] == str(workbook)
    (standard,) = out["counties"][COUNTY]["standards"]
    assert (standard["periods"][0]["old"], standard["periods"][0]["new"]) == (
        "1301.00",
        "1350.00",
    )


def test_an_unknown_ref_is_refused_with_a_code(old, tmp_path, capsys):
    publish(old, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, tmp_path / "r.duckdb")
    code = cli.main(
        [
            "diff",
            "330106@3",
            "330106",
            "--tables",
            str(old),
            "--registry",
            str(tmp_path / "r.duckdb"),
        ]
    )
    err = capsys.readouterr().err
    assert code == 1 and "E704" in err and "Traceback" not in err
    code = cli.main(
        [
            "diff",
            "nonsense",
            "330106",
            "--tables",
            str(old),
            "--registry",
            str(tmp_path / "r.duckdb"),
        ]
    )
    assert code == 1 and "E704" in capsys.readouterr().err
    for ref, said in (("330106@2025-02-30", "「2025-02-30」不是有效的日期"),
                      ("330106@１", "版本 330106@１ 不存在")):  # helper-35: was taken as 1
        code = cli.main(["diff", ref, "330106", "--tables", str(old),
                         "--registry", str(tmp_path / "r.duckdb")])
        assert code == 1 and said in capsys.readouterr().err


# ---------------------------------------------------------------- households


def households(path: Path, rows: list[dict]) -> Path:
    path.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8"
    )
    return path


@pytest.fixture
def population(tmp_path: Path) -> Path:
    pytest.importorskip("compiler.households")
    return households(
        tmp_path / "households.jsonl",
        [
            household(
                "H1", "16200"
            ),  # 1,350 a month: marginal -> dibao when the standard is 1,400
            household("H2", "15000"),  # 1,250: dibao on both sides
            household(
                "H3", "30000"
            ),  # 2,500: none -> marginal (the line rises to 2,800)
            household("H4", "16200", county=OTHER),  # other county: unchanged
        ],
    )


def test_impact_counts_moves_and_entitlements_by_county_and_lists_households(
    old, new, population
):
    set_county_standards(
        new,
        [
            ["dibao_standard", "1400", "2025-01-01", None, "杭民发"],
            ["marginal_multiplier", "2", "2025-01-01", None, "杭民发"],
        ],
    )
    result = impact(
        side(old, "330106@1", (COUNTY, OTHER)),
        side(new, "工作副本", (COUNTY, OTHER)),
        population,
        AS_OF,
    )
    assert (result.households, result.changed) == (4, 2)
    county = result.counties[COUNTY]
    assert county["households"] == 3 and county["changed"] == 2
    assert county["moves"] == [
        {"from": "dibao_marginal", "to": "dibao", "households": 1},
        {"from": "none", "to": "dibao_marginal", "households": 1},
    ]
    assert county["gained"] == {"medical_aid": 1, "dibao_allowance": 1} or county[
        "gained"
    ] == {"dibao_allowance": 1, "medical_aid": 1}
    assert result.counties[OTHER]["changed"] == 0
    # only the standards changed, in COUNTY: OTHER is counted, not decided twice
    assert county["decided"] is True
    assert result.counties[OTHER]["decided"] is False
    assert result.counties[OTHER]["households"] == 1
    rows = {r["household_id"]: r for r in result.rows}
    assert (
        rows["H1"]["gained"] == ["dibao_allowance"]
        and rows["H3"]["new_group"] == "dibao_marginal"
    )
    text = "\n".join(
        render_text(diff_sides(side(old, "甲"), side(new, "乙")), result).splitlines()
    )
    assert (
        "低保边缘 → 低保：1 户" in text
        and "H3（330106）：不属于低收入人口 → 低保边缘；获得 medical_aid" in text
        and f"{OTHER} " in text and "1 户，两侧决策表与标准相同，决策不变（未重新计算）" in text
    )


def test_diff_command_with_households_prints_who_changes(
    old, new, population, tmp_path, capsys
):
    registry = tmp_path / "registry.duckdb"
    publish(old, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    shutil.rmtree(old / "counties" / f"{COUNTY}-西湖区")
    shutil.copytree(
        new / "counties" / f"{COUNTY}-西湖区", old / "counties" / f"{COUNTY}-西湖区"
    )
    set_county_standards(
        old, [["dibao_standard", "1400", "2025-01-01", None, "杭民发"]]
    )
    code = cli.main(
        [
            "diff",
            "330106@1",
            "330106",
            "--households",
            str(population),
            "--as-of",
            "2025-08-01",
            "--tables",
            str(old),
            "--registry",
            str(registry),
        ]
    )
    out = capsys.readouterr().out
    assert code == 0 and "比较 330106@1 → 330106 工作副本" in out
    assert (
        "共 3 户，1 户变化" in out
        and "H1（330106）：低保边缘 → 低保；获得 dibao_allowance" in out
    )


def test_a_temporary_folder_inside_the_tables_is_refused_before_households_load(
    old, population, capsys, monkeypatch
):
    """``diff --households`` loads the households and spills (``--memory-limit``) in
    the temporary folder, as ``evaluate`` does: TMPDIR=tables/counties left
    jiuzhu-spill-<uid> among the workbooks, which the next check read (E109)."""
    counties = old / "counties"
    before = sorted(os.listdir(counties))
    monkeypatch.setattr(tempfile, "tempdir", str(counties))

    code = cli.main(
        ["diff", COUNTY, COUNTY, "--households", str(population), "--as-of",
         "2025-08-01", "--tables", str(old), "--memory-limit", "256MB"]
    )

    captured = capsys.readouterr()
    assert code == 1 and "Traceback" not in captured.err
    assert f"{counties}: E613 临时文件夹在正在读取的决策表文件夹中" in captured.err
    assert "TMPDIR" in captured.err and "变化" not in captured.out
    assert sorted(os.listdir(counties)) == before


def test_households_are_not_compared_on_a_date_no_standard_is_in_force(
    old, new, population, capsys
):
    """Before 2024-01-01 there is no dibao standard: deciding its households then
    would compare undecided households and report no change, so it is refused (E607)."""
    code = cli.main(
        ["diff", str(old / "counties" / f"{COUNTY}-西湖区"), str(new / "counties" / f"{COUNTY}-西湖区"),
         "--county", COUNTY, "--tables", str(old), "--households", str(population),
         "--as-of", "2023-06-01"]
    )
    captured = capsys.readouterr()
    assert code != 0 and "E607" in captured.err and "户变化" not in captured.out


def test_a_side_with_validation_errors_is_compared_with_a_warning(tmp_path, capsys):
    tables = Path(__file__).resolve().parents[1] / "tables"
    workbook = write_xlsx(
        tmp_path / "330106-西湖区.xlsx",
        {
            "标准参数": [
                ["标识", "值", "生效日期", "失效日期", "来源"],
                ["minimum_wage", -5, "2024-01-01", None, "录错"],
            ]
        },
    )
    code = cli.main(
        ["diff", "330106", str(workbook), "--tables", str(tables), "--registry",
         str(tmp_path / "r.duckdb"), "--as-of", "2025-06-01", "--format", "json"]
    )
    captured = capsys.readouterr()
    out = json.loads(captured.out)
    assert code == 0 and out["errors"]["330106 工作副本"] == []
    errors = out["errors"][str(workbook)]
    # one E401 per bound period, and E406 for the negative value itself
    assert errors and all(("E401" in e or "E406" in e) and "-5.00" in e for e in errors)
    assert any("E406" in e for e in errors)
    assert "不能发布" in captured.err and "E401" in captured.err


def test_a_workbook_takes_its_county_name_and_must_match_county(tmp_path, capsys):
    tables = Path(__file__).resolve().parents[1] / "tables"
    sheets = {"标准参数": [["标识", "值", "生效日期", "失效日期", "来源"],
                          ["dibao_standard", 1400, "2025-01-01", None, "新"]]}
    renamed = write_xlsx(tmp_path / "西湖改.xlsx", sheets)
    coded = write_xlsx(tmp_path / "330106-西湖区.xlsx", sheets)
    common = ["--tables", str(tables), "--registry", str(tmp_path / "r.duckdb"), "--as-of", "2025-06-01"]

    assert cli.main(["diff", "330106", str(renamed), "--county", "330106", *common]) == 0
    assert "县（市、区）330106 西湖区" in capsys.readouterr().out
    assert cli.main(["diff", "330106", str(coded), "--county", "330102", *common]) == 1
    err = capsys.readouterr().err
    assert "E704" in err and "330102" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("sql", "kept"),
    [
        ("SELECT 1 -- tables/province:派生值!A2\nFROM x", "SELECT 1 \nFROM x"),
        ("SELECT 'a--b' AS \"c--d\" -- note\n", "SELECT 'a--b' AS \"c--d\" \n"),
        ("SELECT 'it''s -- kept' -- 'not kept'\nY", "SELECT 'it''s -- kept' \nY"),
        ("SELECT ''-- gone", "SELECT ''"),
    ],
)
def test_comments_are_left_out_of_what_a_county_decides_on_but_strings_are_kept(sql, kept):
    from compiler.diff_impact import _without_comments

    assert _without_comments(sql) == kept


def test_impact_counts_a_household_whose_only_change_is_an_alert(tmp_path):
    """A lower high_medical_expense_threshold raises an alert and changes nothing else:
    the household is changed, and the alert is named (helper-36 found it unreported)."""
    real = Path(__file__).resolve().parents[1] / "tables"
    old_tables, new_tables = tmp_path / "old", tmp_path / "new"
    shutil.copytree(real, old_tables)
    shutil.copytree(real, new_tables)
    sheet = new_tables / "province" / "标准参数.csv"
    rows = sheet.read_text(encoding="utf-8").splitlines(keepends=True)
    (row,) = [i for i, r in enumerate(rows) if r.startswith("high_medical_expense_threshold,")]
    assert ",20000," in rows[row]
    rows[row] = rows[row].replace(",20000,", ",10000,", 1)
    sheet.write_text("".join(rows), encoding="utf-8")
    ill = household("MED1", "6000")  # 500 a month: dibao, monitored as low income
    ill["events"] = [
        {"type": "high_medical_expense", "date": "2025-07-21", "person_id": "P1",
         "amount": "15000"}
    ]
    population = households(tmp_path / "h.jsonl", [ill, household("SAME", "6000")])
    result = impact(side(old_tables, "甲"), side(new_tables, "乙"), population, AS_OF)
    assert (result.households, result.changed) == (2, 1)
    (row_,) = result.rows
    assert row_["household_id"] == "MED1" and row_["old_group"] == row_["new_group"] == "dibao"
    (alert,) = row_["alerts_gained"]
    assert alert["type"] == "high_medical_expense" and alert["person_id"] == "P1"
    assert alert["raised_on"] == "2025-07-21" and row_["alerts_lost"] == []
    text = render_text(diff_sides(side(old_tables, "甲"), side(new_tables, "乙")), result)
    assert f"新预警 高额医疗费用支出（成员 P1）到期 {alert['due']}" in text


def test_the_impact_says_entitlements_groups_and_monitoring_in_chinese() -> None:
    """「新获得 housing_assistance：4 户」 and 「监测 none → low_income」 showed the
    glossary's identifiers to a reviewer (helper-50); a county's own stays as written."""
    from datetime import date

    from compiler.diff_impact import ImpactResult
    from compiler.diff_text import impact_lines

    county = {
        "name": "西湖区", "households": 3, "changed": 1,
        "moves": [{"from": "dibao_marginal", "to": "dibao", "households": 1}],
        "gained": {"housing_assistance": 1, "county_bonus": 1}, "lost": {},
    }
    row = {
        "household_id": "H1", "county_code": "330106", "old_group": "dibao_marginal",
        "new_group": "dibao", "gained": ["housing_assistance"], "lost": ["yulu_subsidy"],
        "old_monitoring": "none", "new_monitoring": "low_income",
    }
    text = "\n".join(
        impact_lines(ImpactResult(date(2025, 8, 1), 3, 1, {"330106": county}, [row], 0.1))
    )
    assert "低保边缘 → 低保：1 户" in text
    assert "新获得 住房救助：1 户" in text and "新获得 county_bonus：1 户" in text
    assert "H1（330106）：低保边缘 → 低保；获得 住房救助；失去 雨露计划；监测 不监测 → 低收入人口" in text


def test_a_side_that_breaks_its_hit_policy_still_shows_the_tables_diff(
    tmp_path, population, capsys
):
    """The new side's UNIQUE table matched two rules for a household (E601): diff
    printed that one line and nothing else (helper-50). The tables' differences are
    shown, then why the impact is missing, and the exit code says it failed."""
    old = write_rulebook(tmp_path / "old")
    new = write_rulebook(tmp_path / "new")
    table = [row[:] for row in GROUP_TABLE]
    table[0][2] = "UNIQUE"
    table.append(["everyone", "-", "-", "none", "测试"])
    write_csv_folder(new / "province", {"household_group": table})
    registry = tmp_path / "registry.duckdb"
    publish(old, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    code = cli.main(["diff", f"{COUNTY}@1", COUNTY, "--tables", str(new),
                     "--households", str(population), "--as-of", "2025-08-01",
                     "--registry", str(registry)])
    out, err = capsys.readouterr()
    assert code == 1
    assert "UNIQUE" in out  # the hit policy's change, from the tables' diff
    assert "影响分析未完成" in err and "E601" in err
