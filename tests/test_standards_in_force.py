"""E607 when a decision date has no standard in force (helper-126).

Deciding before the province's standards begin printed one E607 per standard (28 with
the real tables) and blamed the province's 低保标准 row for 330106, whose own 1,301 was
in force: that row was missing only for another county. Now a date before the
standards begin is one E607 naming the first day that works, and a standard with a
gap is named at the row of the level that keeps it, for the counties it stops.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from compiler import cli
from compiler.diagnostics import Report
from compiler.engine import open_project
from compiler.registry_publish import before_standards
from tests.tables_fixture import COUNTY, COUNTY_FILE, province_sheets
from tests.test_service import (
    COUNTY_HEADER,
    OTHER,
    build_tables,
    household,
    make_client,
)
from tests.workbooks import write_csv_folder

EARLY = "2025-03-01"


def _province_from(start: str, until: str | None = None) -> dict:
    """The fixture's province with every standard starting on ``start``."""
    sheets = province_sheets()
    for row in sheets["标准参数"][1:]:
        row[4], row[5] = start, until
    return sheets


@pytest.fixture
def late(tmp_path: Path) -> Path:
    """The province's standards begin 2025-04-07; 330106 keeps its own 低保标准 1301
    from 2025-01-23, 330108 keeps none (the shipped tables, small)."""
    return build_tables(tmp_path, _province_from("2025-04-07"))


def _households(tmp_path: Path, county: str = COUNTY) -> Path:
    path = tmp_path / "h.jsonl"
    path.write_text(
        json.dumps(household("H1", "12000", county)) + "\n", encoding="utf-8"
    )
    return path


def _run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(args)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.err


def _says_before_standards(err: str) -> None:
    assert err.count("E607") == 1, err
    line = next(line for line in err.splitlines() if "E607" in line)
    assert "province:标准参数: E607" in line  # the sheet, not a row per standard
    assert f"决策日 {EARLY} 早于标准参数的生效期" in line
    assert "该日有 2 项标准参数还没有生效的取值（边缘倍数、年收入上限）" in line
    assert "最早可按 2025-04-07 决策" in line
    assert "应为不早于 2025-04-07 的决策日" in line
    # 330106's own 低保标准 is in force: the province's row is not blamed for it
    assert "低保标准" not in line


def test_evaluate_before_the_standards_begin_is_one_e607(late, tmp_path, capsys):
    code, err = _run(
        [
            "evaluate",
            "--tables",
            str(late),
            "--households",
            str(_households(tmp_path)),
            "--as-of",
            EARLY,
            "--out",
            str(tmp_path / "o.csv"),
        ],
        capsys,
    )
    assert code == 1 and not (tmp_path / "o.csv").exists()
    _says_before_standards(err)


def test_explain_before_the_standards_begin_is_one_e607(late, tmp_path, capsys):
    code, err = _run(
        [
            "explain",
            "H1",
            "--tables",
            str(late),
            "--households",
            str(_households(tmp_path)),
            "--as-of",
            EARLY,
        ],
        capsys,
    )
    assert code == 1
    _says_before_standards(err)


def test_diff_households_before_the_standards_begin_names_the_first_day(
    late, tmp_path, capsys
):
    county = late / "counties" / f"{COUNTY_FILE}.xlsx"
    code, err = _run(
        [
            "diff",
            str(county),
            str(county),
            "--county",
            COUNTY,
            "--tables",
            str(late),
            "--households",
            str(_households(tmp_path)),
            "--as-of",
            EARLY,
        ],
        capsys,
    )
    assert code == 1
    lines = [line for line in err.splitlines() if "E607" in line]
    assert lines and all("最早可按 2025-04-07 决策" in line for line in lines)
    assert not any("标准参数「" in line for line in lines)  # no line per standard


def test_the_other_countys_missing_standard_is_its_own(late):
    """330108 reads the province's 低保标准, which starts 2025-04-07: its E607 names
    it and concerns 330108 alone."""
    project = open_project(late, None, date(2025, 3, 1), report=Report())
    own = project.errors_for([COUNTY])
    other = project.errors_for([OTHER])
    assert [d.code for d in own] == ["E607"] and "低保标准" not in own[0].message
    assert [d.code for d in other] == ["E607"]
    assert "该日有 3 项" in other[0].message and "低保标准" in other[0].message
    assert own[0].extra["county_codes"] == [COUNTY]
    assert other[0].extra["county_codes"] == [OTHER]


def test_the_service_answers_one_e607(late, tmp_path):
    with make_client(late, tmp_path / "registry" / "r.duckdb") as client:
        answer = client.post(
            "/v1/decisions",
            json={"as_of": EARLY, "households": [household("H1", "12000")]},
        )
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert [e["code"] for e in body["errors"]] == ["E607"]
    error = body["error"]
    assert error["path"] is None and error["location"].endswith("province:标准参数")
    assert error["found"] == EARLY and error["expected"] == "不早于 2025-04-07 的决策日"
    assert "最早可按 2025-04-07 决策" in error["message"]
    assert "低保标准" not in error["message"]


def test_publish_counts_the_standards_of_the_one_e607(late):
    """publish words the finding for an effective date (registry_publish) and counts
    the standards the one E607 lists, not the E607 lines."""
    project = open_project(late, [COUNTY], date(2025, 3, 1), report=Report())
    said = before_standards(project.report.errors, date(2025, 3, 1))
    assert said is not None and said.expected == "不早于 2025-04-07 的生效日期"
    assert "该日有 2 项标准参数还没有生效的取值（边缘倍数、年收入上限）" in said.message


@pytest.fixture
def gap(tmp_path: Path) -> Path:
    """330106's own 低保标准 stops from 2026-01-01 to 2026-02-28; the province's ends
    2025-04-06, so nothing fills the gap (330108, on the province's, has none after)."""
    tables = build_tables(tmp_path)
    province = province_sheets()
    province["标准参数"][1][5] = "2025-04-06"
    write_csv_folder(tables / "province", province)
    rows = [
        COUNTY_HEADER,
        ["dibao_standard", "1301", "2025-01-23", "2025-12-31", "杭州市民政局"],
        ["dibao_standard", "1350", "2026-03-01", None, "杭州市民政局"],
    ]
    (tables / "counties" / f"{COUNTY_FILE}.xlsx").unlink()
    write_csv_folder(tables / "counties" / COUNTY_FILE, {"标准参数": rows})
    return tables


def test_a_gap_is_named_at_the_countys_own_row(gap, tmp_path, capsys):
    code, err = _run(
        [
            "evaluate",
            "--tables",
            str(gap),
            "--households",
            str(_households(tmp_path)),
            "--as-of",
            "2026-01-15",
            "--out",
            str(tmp_path / "o.csv"),
        ],
        capsys,
    )
    assert code == 1
    lines = [line for line in err.splitlines() if "E607" in line]
    assert len(lines) == 1, err
    assert (
        f"{COUNTY_FILE}:标准参数!C3: E607 标准参数「低保标准」在决策日 2026-01-15"
        in lines[0]
    )
    assert "本县的取值上一期至 2025-12-31 止，下一期自 2026-03-01 起" in lines[0]
    assert "应为不早于 2026-03-01 的决策日" in lines[0]
    assert "province" not in lines[0]


def test_a_gap_of_the_provinces_value_is_said_for_its_county(gap):
    project = open_project(gap, None, date(2026, 1, 15), report=Report())
    other = [d for d in project.errors_for([OTHER]) if d.code == "E607"]
    assert len(other) == 1 and other[0].location.render().endswith(
        "province:标准参数!A2"
    )
    assert "省级的取值上一期至 2025-04-06 止" in other[0].message
    assert other[0].expected == "生效期覆盖决策日的取值"
    assert other[0].extra["county_codes"] == [OTHER]
