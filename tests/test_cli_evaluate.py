"""`jiuzhu evaluate` end to end: formats, the version in force on the decision date,
and clear refusals; the samples' expected decisions are checked in test_samples."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from compiler.cli import main, parser
from tests.tables_fixture import write_tables

HOUSEHOLD = {
    "household_id": "T1",
    "county_code": "330106",
    "members": [
        {"person_id": "P1", "birth_date": "1980-01-01", "income": {"wage": "16830.00"}}
    ],
}


def households(tmp_path, rows=(HOUSEHOLD,)):
    path = tmp_path / "households.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")
    return path


def decisions(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_evaluate_writes_the_contract_columns_as_jsonl(tmp_path):
    tables, source = write_tables(tmp_path), households(tmp_path)
    out = tmp_path / "out.jsonl"
    assert main(["evaluate", "--tables", str(tables), "--households", str(source),
                 "--as-of", "2025-06-01", "--out", str(out)]) == 0
    [row] = decisions(out)
    # 16,830 / 1 / 12 = 1,402.50: above Xihu's 1,301.00, below the 1.5x line 1,951.50
    assert row["income_per_capita"] == "1402.50"
    assert row["dibao_standard"] == "1301.00" and row["group"] == "dibao_marginal"
    assert row["version"] == "工作副本"
    assert {t["table"] for t in row["trace"]} == {"household_group"}


def test_the_version_in_force_on_the_date_decides(tmp_path, capsys):
    tables, source = write_tables(tmp_path), households(tmp_path)
    registry = tmp_path / "registry.duckdb"
    common = ["--tables", str(tables), "--registry", str(registry)]
    assert main(["publish", "--county", "330106", "--effective", "2025-05-01",
                 "--note", "first", *common]) == 0
    county = tables / "counties" / "330106-西湖区.xlsx"
    from tests.tables_fixture import county_sheets
    from tests.workbooks import write_xlsx

    sheets = county_sheets()
    sheets["标准参数"].append(["dibao_standard", "1500", "2025-09-01", None, "test"])
    sheets["标准参数"][1][3] = "2025-08-31"
    write_xlsx(county, sheets)
    assert main(["publish", "--county", "330106", "--effective", "2025-09-01",
                 "--note", "raise", "--base", "1", *common]) == 0
    before, after = tmp_path / "before.jsonl", tmp_path / "after.jsonl"
    for as_of, out in (("2025-08-15", before), ("2025-09-15", after)):
        assert main(["evaluate", "--households", str(source), "--as-of", as_of,
                     "--out", str(out), *common]) == 0
    [old], [new] = decisions(before), decisions(after)
    assert old["dibao_standard"] == "1301.00" and old["version"].endswith("@1")
    assert new["dibao_standard"] == "1500.00" and new["version"].endswith("@2")
    assert new["group"] == "dibao"  # 1,402.50 is now below the standard


def test_unknown_county_is_refused_with_its_json_path(tmp_path, capsys):
    tables = write_tables(tmp_path)
    source = households(tmp_path, [dict(HOUSEHOLD, county_code="339999")])
    assert main(["evaluate", "--tables", str(tables), "--households", str(source),
                 "--as-of", "2025-06-01", "--out", str(tmp_path / "o.csv")]) == 1
    err = capsys.readouterr().err
    assert "E606" in err and "339999" in err and "Traceback" not in err


def test_unknown_output_format_is_refused(tmp_path, capsys):
    tables, source = write_tables(tmp_path), households(tmp_path)
    assert main(["evaluate", "--tables", str(tables), "--households", str(source),
                 "--as-of", "2025-06-01", "--out", str(tmp_path / "o.xls")]) == 1
    assert "Traceback" not in capsys.readouterr().err


def test_a_date_before_the_standards_take_effect_is_refused(tmp_path, capsys):
    tables, source = write_tables(tmp_path), households(tmp_path)
    # the province's standards take effect on 2024-01-01
    assert main(["evaluate", "--tables", str(tables), "--households", str(source),
                 "--as-of", "2023-12-31", "--out", str(tmp_path / "o.csv")]) == 1
    err = capsys.readouterr().err
    assert "E607" in err and "边缘倍数" in err and not (tmp_path / "o.csv").exists()


def test_an_amount_too_large_to_compute_is_an_input_error(tmp_path, capsys):
    from pathlib import Path

    tables = Path(__file__).resolve().parents[1] / "tables"  # household income is money
    huge = dict(HOUSEHOLD, members=[
        {"person_id": p, "birth_date": "1980-01-01", "income": {"wage": "9999999999999999.99"}}
        for p in ("P1", "P2")
    ])
    code = main(["evaluate", "--tables", str(tables), "--households",
                 str(households(tmp_path, [huge])), "--as-of", "2025-06-01",
                 "--out", str(tmp_path / "o.csv")])
    err = capsys.readouterr().err
    assert code == 1 and "E605" in err and "内部错误" not in err


def test_another_countys_broken_workbook_does_not_stop_this_county(tmp_path, capsys):
    from tests.workbooks import write_xlsx

    tables = write_tables(tmp_path)
    write_xlsx(tables / "counties" / "330108-滨江区.xlsx", {"标准参数": [
        ["标识", "值", "生效日期", "失效日期", "来源"],
        ["marginal_multiplier", "2.5", "2024-01-01", None, "x"],  # above its bound, 2
    ]})
    common = ["--tables", str(tables), "--as-of", "2025-06-01"]
    out = tmp_path / "ok.jsonl"
    assert main(["evaluate", "--households", str(households(tmp_path)), "--out", str(out),
                 *common]) == 0
    assert decisions(out)[0]["group"] == "dibao_marginal"
    broken = households(tmp_path, [dict(HOUSEHOLD, county_code="330108")])
    assert main(["evaluate", "--households", str(broken), "--out",
                 str(tmp_path / "no.jsonl"), *common]) == 1
    assert "E401" in capsys.readouterr().err


def test_county_given_twice_decides_both_and_skips_the_others(tmp_path, capsys):
    from tests.tables_fixture import county_sheets
    from tests.workbooks import write_xlsx

    tables = write_tables(tmp_path)
    for name in ("330108-滨江区", "330110-余杭区"):
        write_xlsx(tables / "counties" / f"{name}.xlsx", county_sheets())
    rows = [dict(HOUSEHOLD, household_id=f"T{code}", county_code=code)
            for code in ("330106", "330108", "330110")]
    out = tmp_path / "two.jsonl"
    assert main(["evaluate", "--tables", str(tables), "--households",
                 str(households(tmp_path, rows)), "--as-of", "2025-06-01",
                 "--county", "330106", "--county", "330108", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "E606" not in err
    assert sorted(r["county_code"] for r in decisions(out)) == ["330106", "330108"]
    # the skipped household is counted, so nobody takes the output for the whole file
    assert "I601 按 --county 只决策 330106、330108 的家庭，文件中其他县的 1 户未决策" in err


def test_county_over_parquet_input_counts_the_households_skipped(tmp_path, capsys):
    source = tmp_path / "households.parquet"
    assert main(["synth", "--households", "300", "--seed", "7", "--out", str(source)]) == 0
    mine = duckdb.sql(f"SELECT count(*) FROM '{source}' WHERE county_code = '330106'").fetchall()[0][0]
    real = str(Path(__file__).resolve().parents[1] / "tables")
    assert main(["evaluate", "--tables", real, "--households", str(source), "--as-of", "2025-06-01",
                 "--county", "330106", "--out", str(tmp_path / "d.parquet")]) == 0
    assert f"其他县的 {300 - mine} 户未决策" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["no-such-folder/out.csv", "/proc/out.csv"])
def test_an_output_that_cannot_be_written_is_refused_in_chinese_first(
    where, tmp_path, capsys
):
    tables, source = write_tables(tmp_path), households(tmp_path)
    out = where if where.startswith("/") else str(tmp_path / where)
    assert main(["evaluate", "--tables", str(tables), "--households", str(source),
                 "--as-of", "2025-06-01", "--out", out]) == 1
    err = capsys.readouterr().err
    assert "E605" in err and "输出文件所在的文件夹" in err and "IO Error" not in err


USAGE_ERRORS = {
    "no households": (["evaluate"], "缺少必需的参数：--households"),
    "a value starting with -": (
        ["evaluate", "--households", "h.jsonl", "--memory-limit", "-1GB"],
        "参数 --memory-limit：缺少取值（以 - 开头的值请写成 选项=值",
    ),
    "unknown command": (["evalute"], "参数 COMMAND：取值 'evalute' 无效（可选："),
    "unknown option": (["evaluate", "--households", "h.jsonl", "--bogus"], "无法识别的参数：--bogus"),
    "a memory size that is none": (
        ["evaluate", "--households", "h.jsonl", "--memory-limit=-1GB"],
        "参数 --memory-limit：内存上限格式错误（实际为「-1GB」，应为如 1GB、512MB）",
    ),
    "a memory size too small": (
        ["evaluate", "--households", "h.jsonl", "--memory-limit", "10MB"],
        "内存上限太小，DuckDB 无法在其中完成计算（实际为「10MB」",
    ),
    "a diff's memory size": (
        ["diff", "330106", "330106", "--memory-limit", "abc"],
        "jiuzhu diff：用法错误：参数 --memory-limit：内存上限格式错误（实际为「abc」",
    ),
    "no households to make": (
        ["synth", "--households", "0", "--out", "x/households.parquet"],
        "参数 --households：「0」应为正整数",
    ),
    "a decision date past the calendar": (
        ["evaluate", "--households", "h.jsonl", "--as-of", "9999-12-31"],
        "参数 --as-of：日期「9999-12-31」超出 2015-01-01 至 2040-12-31 的范围",
    ),
    "a decision date before it": (
        ["explain", "H1", "--households", "h.jsonl", "--as-of", "1900-01-01"],
        "日期「1900-01-01」超出 2015-01-01 至 2040-12-31 的范围",
    ),
    "an effective date past it": (
        ["publish", "--county", "330106", "--effective", "2041-01-01", "--note", "x"],
        "参数 --effective：日期「2041-01-01」超出",
    ),
    "an effective date typed as a spreadsheet's serial number": (  # helper-35
        ["publish", "--county", "330106", "--effective", "45900", "--note", "x"],
        "参数 --effective：日期「45900」是一个数字（像 Excel 的日期序号），命令行中请写成 2025-07-01",
    ),
    "unknown trace mode": (
        ["evaluate", "--households", "h.jsonl", "--trace", "all"],
        "参数 --trace：取值 'all' 无效（可选：'full', 'compact', 'none'）",
    ),
}


@pytest.mark.parametrize(("argv", "said"), list(USAGE_ERRORS.values()), ids=list(USAGE_ERRORS))
def test_a_usage_error_is_told_in_chinese_with_exit_code_2(argv, said, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert "用法错误：" in err and said in err
    assert "error:" not in err and "usage:" not in err


def test_an_option_a_command_does_not_take_is_told_with_the_commands_usage(capsys):
    """`check --tables x` printed the top-level usage, which says nothing of check's
    options (helper-90): the usage shown is the command's own."""
    with pytest.raises(SystemExit) as stopped:
        main(["check", "--tables", "tables"])
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert err.startswith("用法：jiuzhu check [-h]")
    assert "jiuzhu check：用法错误：无法识别的参数：--tables" in err
    assert "jiuzhu：用法错误" not in err


def test_help_is_in_chinese(capsys):
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    out = capsys.readouterr().out
    assert out.startswith("用法：jiuzhu evaluate") and "显示本帮助并退出" in out
    assert "show this help" not in out


def test_a_county_with_no_workbook_is_refused_not_decided_for_none(tmp_path, capsys):
    tables, source = write_tables(tmp_path), households(tmp_path)
    assert main(["evaluate", "--tables", str(tables), "--households", str(source),
                 "--as-of", "2025-06-01", "--county", "999999"]) == 1
    assert "E606 未知的县（市、区）代码「999999」" in capsys.readouterr().err


def test_a_tables_folder_that_is_not_there_is_e001_before_the_households(tmp_path, capsys):
    source = households(tmp_path)
    assert main(["evaluate", "--tables", str(tmp_path / "nowhere"), "--households",
                 str(source), "--as-of", "2025-06-01"]) == 1
    err = capsys.readouterr().err
    # one E001 naming the folder, not three diagnostics for one mistyped path (helper-58)
    assert "E001 找不到决策表文件夹" in err and err.count("E001") == 1 and "E606" not in err


def test_a_column_that_is_no_field_is_named_in_a_warning_or_refused_when_an_amount(tmp_path, capsys):
    # a note column is not read and is warned about; a misspelt income column, which
    # would count the member as having no wage (and the household as poorer), stops the run
    tables = write_tables(tmp_path)
    (tmp_path / "households.csv").write_text(
        "household_id,county_code\nT1,330106\n", encoding="utf-8"
    )
    members = tmp_path / "members.csv"
    members.write_text(
        "household_id,person_id,birth_date,备注\nT1,P1,1980-01-01,外出务工\n", encoding="utf-8"
    )
    out = tmp_path / "out.jsonl"
    argv = ["evaluate", "--tables", str(tables), "--households",
            str(tmp_path / "households.csv"), "--as-of", "2025-06-01", "--out", str(out)]
    assert main(argv) == 0
    assert "W601 members.csv 中的列 备注 不是已声明的字段，已忽略" in capsys.readouterr().err

    out.unlink()
    members.write_text(
        "household_id,person_id,birth_date,income_wage\nT1,P1,1980-01-01,16830.00\n",
        encoding="utf-8",
    )
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "members.csv:income_wage: E603" in err and "（income.wage）" in err
    assert not out.exists()


@pytest.mark.parametrize("out", [True, False], ids=["written", "summary"])
def test_a_working_day_count_outside_the_calendar_names_the_household(tmp_path, capsys, out):
    event = {"type": "unemployment_registration", "date": "1999-12-31", "person_id": "P1"}
    source = households(tmp_path, [{**HOUSEHOLD, "household_id": "Q7", "events": [event]}])
    # the real tables raise alerts with working-day due dates; the fixture's do not
    real = Path(__file__).resolve().parents[1] / "tables"
    argv = ["evaluate", "--tables", str(real), "--households", str(source),
            "--as-of", "2025-06-01", "--working-copy"]
    assert main(argv + (["--out", str(tmp_path / "d.jsonl")] if out else [])) == 1
    err = capsys.readouterr().err
    assert "E612 日期 1999-12-31 起算的工作日超出工作日历的范围" in err
    assert "家庭 Q7 的该日期事件" in err and "核对事件日期" in err
    assert "jiuzhu explain" not in err  # it stops at the same count


def test_many_household_problems_end_with_the_count_of_the_rest(tmp_path, capsys):
    """The checker lists 200 problems and counts the rest in a last line; the CLI
    prints that line, and sends nobody to a --format option evaluate has not got."""
    tables = write_tables(tmp_path)
    rows = [dict(HOUSEHOLD, household_id=f"T{i}", members=[{"person_id": "P1"}])
            for i in range(250)]
    assert main(["evaluate", "--tables", str(tables), "--households",
                 str(households(tmp_path, rows)), "--as-of", "2025-06-01",
                 "--out", str(tmp_path / "o.csv")]) == 1
    err = capsys.readouterr().err
    assert err.count("E604") == 200 and "另有 50 处未列出" in err
    assert "--format json" not in err


@pytest.mark.parametrize(
    "argv, verbose",
    [
        (["evaluate", "--households", "h.jsonl", "-v"], True),
        (["-v", "evaluate", "--households", "h.jsonl"], True),
        (["evaluate", "--households", "h.jsonl"], False),
        (["check", "-v"], True),
        (["bench", "-v", "--households", "1000"], True),
        (["user", "add", "--name", "a", "--role", "reviewer", "-v"], True),
        (["export", "--county", "330102", "--ver", "work", "--out", "x.yaml"], False),
    ],
)
def test_verbose_is_taken_before_or_after_the_command(argv, verbose):
    args = parser().parse_args(argv)
    assert args.verbose is verbose
    if argv[0] == "export":  # --ver still abbreviates --version
        assert args.version == "work"


def test_events_counted_into_a_year_without_holidays_are_warned_about(tmp_path, capsys):
    """The real calendar lists 2015-2026: an event of late December 2026 counts into
    2027, which is counted Monday to Friday, and the run says so (helper-36)."""
    late = {"type": "unemployment_registration", "date": "2026-12-24", "person_id": "P1"}
    listed = {"type": "unemployment_registration", "date": "2026-06-01", "person_id": "P1"}
    source = households(tmp_path, [
        {**HOUSEHOLD, "household_id": "K1", "events": [late]},
        {**HOUSEHOLD, "household_id": "K2", "events": [listed]},
    ])
    real = Path(__file__).resolve().parents[1] / "tables"
    argv = ["evaluate", "--tables", str(real), "--households", str(source),
            "--as-of", "2026-12-31", "--working-copy", "--out", str(tmp_path / "d.jsonl")]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "W403 日历中没有 2027 年的节假日安排：家庭数据中有 1 个事件" in err
    assert "2026 年的节假日安排" not in err and "2024 年" not in err


def test_a_decision_date_in_a_year_without_holidays_is_warned_about_once(tmp_path, capsys):
    """With no event at all, a decision date in 2027 was only counted among 「决策表有
    N 条警告」 (helper-45); it is said once, with its year, and explain says it too."""
    real = Path(__file__).resolve().parents[1] / "tables"
    source = households(tmp_path)
    argv = ["evaluate", "--tables", str(real), "--households", str(source),
            "--as-of", "2027-01-05", "--working-copy", "--out", str(tmp_path / "d.jsonl")]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert err.count("W403 日历中没有 2027 年的节假日安排") == 1
    assert main(["explain", "T1", "--tables", str(real), "--households", str(source),
                 "--as-of", "2027-01-05", "--working-copy"]) == 0
    assert "注意：W403 日历中没有 2027 年的节假日安排，决策日所在年度" in capsys.readouterr().out


def test_an_event_type_no_rule_names_is_warned_about(tmp_path, capsys):
    """A misspelt or Chinese event type raised no alert and said nothing (helper-45):
    a dibao household's unemployment went unmonitored."""
    real = Path(__file__).resolve().parents[1] / "tables"
    wrong = {"type": "unemployment_registraton", "date": "2025-05-20", "person_id": "P1"}
    chinese = {"type": "失业登记", "date": "2025-05-20", "person_id": "P1"}
    right = {"type": "unemployment_registration", "date": "2025-05-20", "person_id": "P1"}
    source = households(tmp_path, [
        {**HOUSEHOLD, "household_id": "K1", "events": [wrong, chinese, wrong]},
        {**HOUSEHOLD, "household_id": "K2", "events": [right]},
    ])
    argv = ["evaluate", "--tables", str(real), "--households", str(source),
            "--as-of", "2025-06-01", "--working-copy", "--out", str(tmp_path / "d.jsonl")]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert "W602 事件类型「unemployment_registraton」没有任何决策表的规则使用，这 2 个事件不产生预警（如家庭 K1）" in err
    assert "W602 事件类型「失业登记」" in err and "是否想写「unemployment_registration」" in err
    assert "「unemployment_registration」没有" not in err


def test_a_date_that_does_not_exist_is_said_to_not_exist(tmp_path, capsys):
    """「2027-02-30」 was 「无法识别」 on the command line, though the form is right
    (helper-45); the tables already said 日期不存在."""
    with pytest.raises(SystemExit) as stopped:
        main(["evaluate", "--households", str(households(tmp_path)), "--as-of", "2027-02-30"])
    assert stopped.value.code == 2
    assert "日期「2027-02-30」不存在（请核对月份和日期，如 2 月没有 30 日）" in capsys.readouterr().err


@pytest.mark.parametrize("typed", ["４５９００", "１２３"])
def test_a_serial_number_in_full_width_digits_is_refused_as_a_serial(typed, tmp_path, capsys):
    """「４５９００」 typed with a Chinese input method was taken as 2025-08-31 (helper-46)."""
    with pytest.raises(SystemExit):
        main(["evaluate", "--households", str(households(tmp_path)), "--as-of", typed])
    assert f"日期「{typed}」是一个数字（像 Excel 的日期序号）" in capsys.readouterr().err


def _family(ident: str, money: str = "0", wage: str = "0", size: int = 1) -> dict:
    members = [{"person_id": f"P{i}", "birth_date": "1980-01-01"} for i in range(size)]
    members[0]["income"] = {"wage": wage}
    return {"household_id": ident, "county_code": "330106", "assets": {"money": money},
            "members": members}


def test_figures_per_head_below_a_line_by_half_a_fen_are_below_it(tmp_path):
    """Per-head figures are taken down to the fen, so that comparing them with a
    standard (whole fen) is comparing the exact figures: 62,447.9967 a head is below
    4 x 12 x 1,301 = 62,448 and 1,300.995 a month is below 1,301. Rounded half up,
    both were refused (helper-36)."""
    rows = [
        _family("A3", money="187343.99", size=3),  # 62,447.9967 a head
        _family("A4", money="187344.00", size=3),  # 62,448 exactly: over the limit
        _family("W1", wage="15611.94"),  # 1,300.995 a month
        _family("W2", wage="15612.00"),  # 1,301 exactly: at the standard
    ]
    real = Path(__file__).resolve().parents[1] / "tables"
    out = tmp_path / "d.jsonl"
    assert main(["evaluate", "--tables", str(real), "--households", str(households(tmp_path, rows)),
                 "--as-of", "2025-06-01", "--working-copy", "--trace", "none",
                 "--out", str(out)]) == 0
    found = {d["household_id"]: (d["group"], d["income_per_capita"]) for d in decisions(out)}
    assert found == {
        "A3": ("dibao", "0.00"),
        "A4": ("dibao_marginal", "0.00"),
        "W1": ("dibao", "1300.99"),
        "W2": ("dibao_marginal", "1301.00"),
    }


def test_verbose_timings_are_said_in_chinese(tmp_path, caplog):
    """-v prints each step's time for the county staff who asked for it: in Chinese,
    with the counts of what was read and written."""
    tables, source = write_tables(tmp_path), households(tmp_path)
    out = tmp_path / "out.jsonl"
    with caplog.at_level("INFO", logger="jiuzhu"):
        assert main(["-v", "evaluate", "--tables", str(tables), "--households", str(source),
                     "--as-of", "2025-06-01", "--out", str(out)]) == 0
    said = [record.getMessage() for record in caplog.records]
    assert any(line.startswith("已读入 1 户、1 名成员、0 条事件") for line in said), said
    assert any(line.startswith("已写出 1 条决策到 ") for line in said), said
    assert any(line.startswith("已检查 ") and "个县" in line for line in said), said
    assert not [line for line in said if line.isascii()], said
