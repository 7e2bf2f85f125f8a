"""CSV household files as Excel and WPS write them: three messages a tester found
wrong or silent (helper-107).

- A value with quotes inside it that opens with one (``"张三"小名``, ``"a"b``) was
  called an unpaired quote (引号没有配对): the quotes pair, but stand inside the value.
  Now said so, at its line and column, with the value as CSV writes it.
- An Excel date serial (``45123``) in a date column was 「类型不对」 only: now named
  as one, with the day it would be in Excel's 1900 system, and still refused.
- W602 (an event type no table names) had no place and listed identifiers to a CSV
  that may write Chinese names: now at the events file's line and column, its hint
  and list in the form the file wrote the type in.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from compiler.diagnostics import Diagnostic
from compiler.engine import Project, open_project
from compiler.errors import InputError
from compiler.evaluate import evaluate_file
from compiler.households import load_households
from compiler.households_values import excel_serial
from compiler.resolve import declared_fields

TABLES = Path(__file__).resolve().parent.parent / "tables"
FIELDS = declared_fields(TABLES)
AS_OF = date(2025, 6, 1)
HOUSEHOLDS = "户编号,居住地区划代码\nH1,330106\nH2,330106\n"
MEMBERS = "户编号,成员编号,与户主关系,出生日期\nH1,P1,户主,1980-05-01\nH2,P1,户主,1981-05-01\n"


def write(folder: Path, name: str, text: str, encoding: str = "utf-8-sig") -> Path:
    """A file as Excel or WPS saves it: CRLF line ends, UTF-8 with BOM or GB18030."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.replace("\n", "\r\n").encode(encoding))
    return path


def refused(path: Path) -> list[Diagnostic]:
    with pytest.raises(InputError) as raised:
        load_households(duckdb.connect(), path, FIELDS, as_of=AS_OF)
    return raised.value.diagnostics


# ------------------------------------------------------------------- quotes in a value


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
@pytest.mark.parametrize(
    ("cell", "rewritten"),
    [
        ('"张三"小名', '"""张三""小名"'),
        ('"a"b', '"""a""b"'),
        ('"张三"小名""', '"张三""小名"""'),  # wrapped, its own quotes left single
    ],
    ids=["name-then-nickname", "a-b", "wrapped-not-doubled"],
)
def test_a_quote_inside_a_value_is_not_called_unpaired(
    tmp_path: Path, cell: str, rewritten: str, encoding: str
) -> None:
    # in a declared field's column (成员编号); in a column no field has, such a
    # value is passed over with W601 (tests/test_households_leftovers_121.py)
    write(tmp_path, "members.csv", MEMBERS + f"H1,{cell},配偶,1982-05-01\n", encoding)
    path = write(tmp_path, "households.csv", HOUSEHOLDS, encoding)

    [problem] = refused(path)

    assert (problem.code, problem.location.cell) == ("E605", "第4行 成员编号")
    assert "引号没有配对" not in problem.message
    assert "「成员编号」列的值中间有英文双引号" in problem.message
    assert problem.found == cell
    assert problem.expected is not None and problem.expected.endswith(f"如 {rewritten}")


def test_quotes_inside_a_value_around_a_comma_are_said_to_split_it(
    tmp_path: Path,
) -> None:
    write(
        tmp_path, "members.csv", MEMBERS + 'H1,张三"小,名",配偶,1982-05-01\n', "gb18030"
    )
    path = write(tmp_path, "households.csv", HOUSEHOLDS, "gb18030")

    [problem] = refused(path)

    assert (problem.code, problem.location.cell) == ("E605", "第4行")
    assert (
        '值「张三"小,名"」中间的英文双引号不能把其中的逗号括入值中' in problem.message
    )
    assert problem.expected is not None
    assert problem.expected.endswith('如 "张三""小,名"""')


def test_a_quote_left_open_is_still_called_unpaired(tmp_path: Path) -> None:
    write(tmp_path, "members.csv", MEMBERS + 'H1,P2,配偶,"1982-05-01\n')
    path = write(tmp_path, "households.csv", HOUSEHOLDS)

    [problem] = refused(path)

    assert (problem.code, problem.location.cell) == ("E605", "第4行")
    assert "引号没有配对" in problem.message


def test_a_quote_in_a_value_that_does_not_open_with_one_is_read_as_written(
    tmp_path: Path,
) -> None:
    write(tmp_path, "members.csv", MEMBERS + 'H1,张三"小名",配偶,1982-05-01\n')
    path = write(tmp_path, "households.csv", HOUSEHOLDS)
    con = duckdb.connect()

    load_households(con, path, FIELDS, as_of=AS_OF)

    ids = con.execute("SELECT person_id FROM jz_members ORDER BY 1").fetchall()
    assert ids == [("P1",), ("P1",), ('张三"小名"',)]


# ------------------------------------------------------------------ Excel date serials


@pytest.mark.parametrize(
    ("written", "day"),
    [
        ("45123", date(2023, 7, 16)),
        ("45123.5", date(2023, 7, 16)),  # noon of that day
        ("61", date(1900, 3, 1)),
        ("73415", date(2100, 12, 31)),
        ("60", None),  # Excel's 1900-02-29, a day that never was
        ("73416", None),
        ("1985", None),  # a year
        ("20230716", None),  # digits of a date, no serial
        ("2023-07-16", None),
    ],
)
def test_an_excel_serial_is_read_as_the_day_it_would_be(
    written: str, day: date | None
) -> None:
    assert excel_serial(written) == day


def test_an_excel_serial_in_a_date_column_is_named_and_refused(tmp_path: Path) -> None:
    write(tmp_path, "members.csv", MEMBERS.replace("1981-05-01", "45123"), "gb18030")
    events = "户编号,类型,日期,成员编号\nH1,失业人员登记,45123,P1\n"
    write(tmp_path, "events.csv", events, "gb18030")
    path = write(tmp_path, "households.csv", HOUSEHOLDS, "gb18030")

    problems = refused(path)

    assert [(p.code, p.location.cell) for p in problems] == [
        ("E603", "第3行 birth_date"),
        ("E603", "第2行 event.date"),
    ]
    for problem in problems:
        assert "像是 Excel 的日期序号（按 Excel 的 1900 日期系统即 2023-07-16）" in (
            problem.message
        )
        assert problem.expected == "日期，如 2023-07-16"
        assert problem.hint is not None and "单元格格式设为「日期」" in problem.hint


def test_a_year_in_a_date_column_is_no_serial(tmp_path: Path) -> None:
    write(tmp_path, "members.csv", MEMBERS.replace("1981-05-01", "1981"))
    path = write(tmp_path, "households.csv", HOUSEHOLDS)

    [problem] = refused(path)

    assert "类型不对" in problem.message and "序号" not in problem.message


# ------------------------------------------------------------------------------ W602


@pytest.fixture(scope="module")
def project() -> Project:
    return open_project(TABLES)


def unknown_types(project: Project, households: Path) -> list[Diagnostic]:
    out = households.parent / "decisions.jsonl"
    result = evaluate_file(TABLES, households, AS_OF, out, project=project)
    return [d for d in result.input_warnings if d.code == "W602"]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_a_chinese_type_no_table_names_is_placed_and_answered_in_chinese(
    tmp_path: Path, project: Project, encoding: str
) -> None:
    events = (
        "户编号,类型,日期,成员编号\n"
        "H2,失业人员登记,2025-05-01,P1\n"
        "H2,失业登记,2025-05-02,P1\n"
        "H1,失业登记,2025-05-03,P1\n"
    )
    write(tmp_path, "events.csv", events, encoding)
    write(tmp_path, "members.csv", MEMBERS, encoding)
    path = write(tmp_path, "households.csv", HOUSEHOLDS, encoding)

    [warning] = unknown_types(project, path)

    # the first household's (H1): its one event, on line 4
    assert warning.location.file == str(tmp_path / "events.csv")
    assert warning.location.cell == "第4行 类型"
    assert (
        "事件类型「失业登记」" in warning.message and "这 2 个事件" in warning.message
    )
    assert warning.hint is not None
    assert warning.hint.startswith(
        "是否想写「失业人员登记」（unemployment_registration）？"
    )
    assert warning.expected is not None
    assert "失业人员登记（unemployment_registration）" in warning.expected


def test_a_misspelt_identifier_in_a_csv_is_answered_with_the_identifier(
    tmp_path: Path, project: Project
) -> None:
    events = "事件清单\n户编号,事件类型,日期\nH2,unemployment_registraton,2025-05-01\n"
    write(tmp_path, "events.csv", events)
    write(tmp_path, "members.csv", MEMBERS)
    path = write(tmp_path, "households.csv", HOUSEHOLDS)

    [warning] = unknown_types(project, path)

    assert warning.location.cell == "第3行 事件类型"  # below the title row
    assert warning.hint is not None
    assert warning.hint.startswith("是否想写「unemployment_registration」？")
    assert warning.expected is not None
    assert "unemployment_registration（失业人员登记）" in warning.expected


def test_a_chinese_type_in_json_is_told_to_be_an_identifier(
    tmp_path: Path, project: Project
) -> None:
    path = tmp_path / "households.jsonl"
    path.write_text(
        '{"household_id": "H1", "county_code": "330106", "members": [{"person_id": '
        '"P1", "relation": "head", "birth_date": "1980-05-01"}], "events": [{"type": '
        '"unemployment_registration", "date": "2025-05-01"}, {"type": "失业登记", '
        '"date": "2025-05-01"}]}\n',
        encoding="utf-8",
    )

    [warning] = unknown_types(project, path)

    assert warning.location.cell == "第1行 $.events[1].type"
    assert warning.hint is not None
    assert warning.hint.startswith(
        "是否想写「unemployment_registration」（失业人员登记）？"
    )
    assert "须写标识，不接受中文名称" in warning.hint


def test_an_unknown_type_in_parquet_is_placed_at_its_row_and_column(
    tmp_path: Path, project: Project
) -> None:
    con = duckdb.connect()
    for name, sql in {
        "households": "SELECT 'H1' AS household_id, '330106' AS county_code",
        "members": "SELECT 'H1' AS household_id, 'P1' AS person_id, 'head' AS relation,"
        " DATE '1980-05-01' AS birth_date",
        "events": "SELECT * FROM (VALUES ('H1', 'unemployment_registration'),"
        " ('H1', 'flood')) t(household_id, type), (SELECT DATE '2025-05-01' AS date)",
    }.items():
        con.execute(f"COPY ({sql}) TO '{tmp_path / name}.parquet'")

    [warning] = unknown_types(project, tmp_path / "households.parquet")

    assert warning.location.file == str(tmp_path / "events.parquet")
    assert warning.location.cell == "第2行 type"
