"""Input at the edges that a fresh user's attack found mishandled, each now refused with
a stable code or decided the same way by both evaluators.

- an alert counted in working days from a date the calendar does not cover (E612);
- ``evaluate --out`` naming one of its own input files (E613), the input unchanged;
- a DuckDB memory limit too small to work in (E605 before any work);
- a negative wage: refused (E614); where a province allows one, it must not turn the
  employment-cost deduction into extra income;
- synth's members/events names for a households file whose name repeats "households".
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest

from compiler.errors import EvaluationError, InputError
from compiler.evaluate import evaluate_file
from compiler.explain import explain_file
from compiler.synth import synthesise

ROOT = Path(__file__).resolve().parents[1]
TABLES = str(ROOT / "tables")
AS_OF = date(2025, 6, 1)


def _household(
    event_date: str, wage: str = "120000.00", hid: str = "E1", rejected: str = "2024-06-01"
) -> dict:
    return {
        "household_id": hid,
        "county_code": "330106",
        "members": [
            {"person_id": f"{hid}-1", "relation": "head", "birth_date": "1985-03-10",
             "hukou": "urban", "income": {"wage": wage, "transfer": "0.00"}, "employed": True},
            {"person_id": f"{hid}-2", "relation": "spouse", "birth_date": "1987-01-22", "hukou": "urban"},
        ],
        "history": {"application_rejected": rejected},  # monitored: alerts are raised
        "events": [{"type": "high_medical_expense", "date": event_date, "person_id": f"{hid}-2",
                    "amount": "50000.00"}],
    }


def _write(tmp_path: Path, *households: dict) -> Path:
    path = tmp_path / "households.jsonl"
    path.write_text("\n".join(json.dumps(h, ensure_ascii=False) for h in households) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("day", "as_of"),
    [("1999-12-31", AS_OF), ("2041-03-01", date(2041, 6, 1)), ("2040-12-30", date(2040, 12, 31))],
)
def test_working_days_outside_the_calendar_are_refused_by_both_evaluators(
    tmp_path: Path, day: str, as_of: date
) -> None:
    path = _write(tmp_path, _household(day, rejected=f"{as_of.year - 1}-06-01"))

    with pytest.raises(EvaluationError) as sql:
        evaluate_file(TABLES, path, as_of, tmp_path / "d.parquet", trace="none")
    with pytest.raises(EvaluationError) as interpreted:
        explain_file(TABLES, path, "E1", as_of)

    for raised in (sql, interpreted):
        [diagnostic] = raised.value.diagnostics
        assert diagnostic.code == "E612" and day in diagnostic.render()
    assert not (tmp_path / "d.parquet").exists()


def test_an_event_of_a_year_before_the_decision_span_counts_monday_to_friday(
    tmp_path: Path,
) -> None:
    """A signal of 2010 is history an input may hold; it stopped every household's
    decision with E612 (helper-41). It is counted Monday to Friday, as any year the
    日历 sheet does not list, and W403 names the year; both evaluators agree."""
    path = _write(tmp_path, _household("2010-03-01"))
    out = tmp_path / "d.jsonl"
    result = evaluate_file(TABLES, path, AS_OF, out, trace="none")
    [row] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    [alert] = row["alerts"]
    assert (alert["raised_on"], alert["due"]) == ("2010-03-01", "2010-03-22")  # 15 days
    said = [d.code for d in result.input_warnings if "2010" in d.message]
    assert said == ["W403", "W610"]  # W610: an event over a year before the decision date
    explained = explain_file(TABLES, path, "E1", AS_OF)
    assert "结果 预警类型 = 高额医疗费用支出，预警到期日 = 2010-03-22" in explained
    assert "注意：W403 日历中没有 2010 年的节假日安排：本户有 1 个事件" in explained  # helper-42


def test_the_working_day_error_names_the_household_whose_count_failed(tmp_path: Path) -> None:
    """Two households have an event on a day the calendar cannot count ten working days
    from; only the monitored one raises an alert and counts. The error used to list
    every household with an event that day, the quiet one first."""
    day, as_of = "2040-12-30", date(2040, 12, 31)
    quiet = {**_household(day, hid="A1"), "history": {}}
    counted = _household(day, hid="B2", rejected="2039-06-01")
    path = _write(tmp_path, quiet, counted)

    with pytest.raises(EvaluationError) as raised:
        evaluate_file(TABLES, path, as_of, tmp_path / "d.parquet", trace="none")

    [diagnostic] = raised.value.diagnostics
    assert diagnostic.extra.get("household") == "B2"
    assert "家庭 B2 的该日期事件" in diagnostic.render() and "A1" not in diagnostic.render()
    # explain would stop at the same count: the hint is about the date instead
    assert "jiuzhu explain" not in (diagnostic.hint or "") and "核对事件日期" in (diagnostic.hint or "")


def test_the_working_day_error_keeps_the_household_id_as_stored(tmp_path: Path) -> None:
    """An id with a space in it: named as stored (it was trimmed, so that the user
    looked for a household "B")."""
    day, as_of = "2040-12-30", date(2040, 12, 31)
    path = _write(tmp_path, _household(day, hid="户 B ", rejected="2039-06-01"))

    with pytest.raises(EvaluationError) as raised:
        evaluate_file(TABLES, path, as_of, tmp_path / "d.parquet", trace="none")

    [diagnostic] = raised.value.diagnostics
    assert diagnostic.extra.get("household") == "户 B "
    assert "家庭 户 B  的该日期事件" in diagnostic.message


def test_an_event_after_the_decision_date_raises_no_alert_yet(tmp_path: Path) -> None:
    path = _write(tmp_path, _household("2025-06-02"), _household("2025-06-01", hid="E2"))

    evaluate_file(TABLES, path, AS_OF, tmp_path / "d.jsonl", trace="none")

    lines = (tmp_path / "d.jsonl").read_text(encoding="utf-8").splitlines()
    alerts = {d["household_id"]: d["alerts"] for d in map(json.loads, lines)}
    assert alerts["E1"] == [] and [a["raised_on"] for a in alerts["E2"]] == ["2025-06-01"]
    assert "alert_type" not in explain_file(TABLES, path, "E1", AS_OF).split("结论")[0]
    later = explain_file(TABLES, path, "E1", date(2025, 6, 2))
    assert "high_medical_expense" in later


def test_working_days_inside_the_calendar_agree_with_the_interpreter(tmp_path: Path) -> None:
    path = _write(tmp_path, _household("2025-01-27"))

    evaluate_file(TABLES, path, AS_OF, tmp_path / "d.jsonl", trace="none")

    [decision] = [json.loads(line) for line in (tmp_path / "d.jsonl").read_text(encoding="utf-8").splitlines()]
    [alert] = decision["alerts"]
    # the Spring Festival holiday of 2025 (Jan 28 - Feb 4) is not counted
    assert alert["due"] in explain_file(TABLES, path, "E1", AS_OF)
    assert alert["due"] > "2025-02-04"


@pytest.mark.parametrize("name", ["households.jsonl", "events.parquet"])
def test_evaluate_refuses_to_write_over_its_own_input(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, _household("2025-01-27"))
    before = path.read_bytes()
    out = tmp_path / name

    with pytest.raises(InputError) as raised:
        evaluate_file(TABLES, path if name.endswith("jsonl") else _parquet(tmp_path), AS_OF, out)

    assert raised.value.diagnostics[0].code == "E613"
    assert path.read_bytes() == before


def _parquet(tmp_path: Path) -> Path:
    synthesise(20, 1, tmp_path / "households.parquet", ["330106"])
    return tmp_path / "households.parquet"


def _rewrite(target: Path, column: str, expression: str) -> None:
    """Write a Parquet file again with ``column`` computed by ``expression``."""
    import duckdb

    con = duckdb.connect()
    con.execute(
        f"CREATE TABLE changed AS SELECT * REPLACE ({expression} AS {column}) "
        f"FROM read_parquet('{target}')"
    )
    con.execute(f"COPY changed TO '{target}' (FORMAT parquet)")


@pytest.mark.parametrize("limit", ["1MB", "0GB", "16MiB"])
def test_a_memory_limit_too_small_is_refused_before_any_work(tmp_path: Path, limit: str) -> None:
    path = _write(tmp_path, _household("2025-01-27"))

    with pytest.raises(InputError) as raised:
        evaluate_file(TABLES, path, AS_OF, tmp_path / "d.parquet", memory_limit=limit)

    assert raised.value.diagnostics[0].code == "E605" and "64MiB" in raised.value.diagnostics[0].render()


def test_a_negative_wage_is_refused_by_both_evaluators(tmp_path: Path) -> None:
    path = _write(tmp_path, _household("2025-01-27", wage="-1000000.00"))

    for evaluator in (
        lambda: explain_file(TABLES, path, "E1", AS_OF),
        lambda: evaluate_file(TABLES, path, AS_OF, tmp_path / "d.jsonl", trace="none"),
    ):
        with pytest.raises(InputError) as raised:
            evaluator()
        assert [(d.code, d.location.cell) for d in raised.value.diagnostics] == [
            ("E614", "第1行 $.members[0].income.wage")
        ]


def test_a_negative_wage_is_not_deducted_as_employment_cost(tmp_path: Path) -> None:
    # a province whose 字段 sheet lets wages be negative (the province's own does not)
    tables = shutil.copytree(TABLES, tmp_path / "tables")
    fields = tables / "province" / "字段.csv"
    row = "income.wage,工资性收入,成员,money,0,{},"
    bounded, unbounded = row.format("0").encode(), row.format("").encode()
    fields.write_bytes(fields.read_bytes().replace(bounded, unbounded))
    path = _write(tmp_path, _household("2025-01-27", wage="-1000000.00"))

    text = explain_file(tables, path, "E1", AS_OF)
    evaluate_file(tables, path, AS_OF, tmp_path / "d.jsonl", trace="none")

    [decision] = [json.loads(line) for line in (tmp_path / "d.jsonl").read_text(encoding="utf-8").splitlines()]
    # income -1,000,000 a year over two members, nothing deducted: -41,666.67 a month
    assert decision["income_per_capita"] == "-41666.67"
    assert "-41,666.67" in text


def test_synth_siblings_replace_only_the_last_households(tmp_path: Path) -> None:
    out = tmp_path / "households_households.parquet"

    result = synthesise(30, 2, out, ["330106"])
    evaluated = evaluate_file(TABLES, out, AS_OF, tmp_path / "d.parquet", trace="none")

    assert sorted(p.name for p in result.paths) == [
        "households_events.parquet", "households_households.parquet", "households_members.parquet"
    ]
    assert evaluated.households == 30


def test_a_sum_beyond_the_money_range_is_e605_in_chinese_with_the_value(tmp_path: Path) -> None:
    household = _household("2025-01-27", wage="9999999999999999.99")
    household["members"][1]["income"] = {"wage": "9999999999999999.99"}
    path = _write(tmp_path, household)

    with pytest.raises(InputError) as raised:
        evaluate_file(TABLES, path, AS_OF, tmp_path / "d.parquet", trace="none")

    [diagnostic] = raised.value.diagnostics
    text = diagnostic.render()
    assert diagnostic.code == "E605" and "19999999999999999.98" in text
    assert "Conversion Error" not in text and "超出可计算的范围" in text


@pytest.mark.parametrize("blank", ["  ", "", "\u3000", "\u00a0 \u3000"], ids=["spaces", "empty", "ideographic", "nbsp"])
@pytest.mark.parametrize("column", ["household_id", "person_id", "county_code"])
def test_a_blank_key_in_parquet_is_missing_as_in_json(tmp_path: Path, column: str, blank: str) -> None:
    path = _parquet(tmp_path)
    table = "members" if column == "person_id" else "households"
    _rewrite(tmp_path / f"{table}.parquet", column,
             f"CASE WHEN row_number() OVER () = 1 THEN '{blank}' ELSE {column} END")

    with pytest.raises(InputError) as raised:
        evaluate_file(TABLES, path, AS_OF, tmp_path / "d.parquet", trace="none")

    codes = {(d.code, column in d.render()) for d in raised.value.diagnostics}
    assert ("E604", True) in codes


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize(
    ("header", "said"),
    [
        ("household_id,person_id,birth", "members.{fmt} 中没有必填字段「出生日期」（birth_date）这一列"),
        ("hid,person_id,birth_date", "members.{fmt} 中没有必填字段「户编号」（household_id）这一列"),
    ],
)
def test_a_required_column_missing_from_a_file_is_one_e604(
    tmp_path: Path, fmt: str, header: str, said: str
) -> None:
    import duckdb

    rows = [("H1", "330106")] + [(f"H{i}", "330106") for i in range(2, 400)]
    con = duckdb.connect()
    con.execute("CREATE TABLE households (household_id VARCHAR, county_code VARCHAR)")
    con.executemany("INSERT INTO households VALUES (?, ?)", rows)
    names = header.split(",")
    con.execute(f"CREATE TABLE members ({', '.join(f'{n} VARCHAR' for n in names)})")
    con.executemany("INSERT INTO members VALUES (?, ?, ?)", [(h, "P1", "1970-01-01") for h, _ in rows])
    options = "FORMAT csv, HEADER true" if fmt == "csv" else "FORMAT parquet"
    for name in ("households", "members"):
        con.execute(f"COPY {name} TO '{tmp_path / f'{name}.{fmt}'}' ({options})")

    with pytest.raises(InputError) as refused:
        evaluate_file(TABLES, tmp_path / f"households.{fmt}", AS_OF, tmp_path / "d.csv")

    [diagnostic] = refused.value.diagnostics
    assert diagnostic.code == "E604" and said.format(fmt=fmt) in diagnostic.render()
    assert diagnostic.location.file == str(tmp_path / f"members.{fmt}")


def test_parquet_text_that_is_not_utf8_is_e605_naming_the_file(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    offsets = pa.py_buffer(bytes([0, 0, 0, 0, 2, 0, 0, 0]))
    broken = pa.Array.from_buffers(pa.string(), 1, [None, offsets, pa.py_buffer(b"\xff\xfe")])
    pq.write_table(pa.table({"household_id": broken, "county_code": ["330106"]}),
                   tmp_path / "households.parquet")
    pq.write_table(pa.table({"household_id": ["H1"], "person_id": ["P1"],
                             "birth_date": [date(1980, 1, 1)]}), tmp_path / "members.parquet")
    with pytest.raises(InputError) as refused:
        evaluate_file(TABLES, tmp_path / "households.parquet", AS_OF, tmp_path / "o.csv")
    problem = refused.value.diagnostics[0]
    assert problem.code == "E605" and "无法读取的内容" in problem.message
    assert problem.location.file.endswith("households.parquet") and "UTF-8" in problem.hint


def test_a_duckdb_file_whose_households_are_a_view_is_e605(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "h.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE hh AS SELECT 'H1' AS household_id, '330106' AS county_code")
    con.execute("CREATE VIEW households AS SELECT * FROM hh")
    con.execute("CREATE TABLE members AS SELECT 'H1' AS household_id, 'P1' AS person_id, "
                "DATE '1980-01-01' AS birth_date")
    con.close()
    with pytest.raises(InputError) as refused:
        evaluate_file(TABLES, path, AS_OF, tmp_path / "o.csv")
    problem = refused.value.diagnostics[0]
    assert problem.code == "E605" and "households 是视图" in problem.message
    assert "CREATE TABLE" in problem.expected


_FIRST = "(SELECT min(household_id) FROM read_parquet('{households}'))"
_LAST = "(SELECT max(household_id) FROM read_parquet('{households}'))"


@pytest.mark.parametrize(
    ("expression", "said"),
    [
        # one member's household is not in the file
        ("CASE WHEN row_number() OVER () = 3 THEN 'NOWHERE' ELSE household_id END",
         ["E603 找不到所属的家庭「NOWHERE」"]),
        # the first household's members all moved to the last: the first has none
        (f"CASE WHEN household_id = {_FIRST} THEN {_LAST} ELSE household_id END",
         ["E604 家庭「H000000000」没有成员"]),
        # both at once, and a member with no household id at all
        ((f"CASE WHEN row_number() OVER () = 2 THEN NULL WHEN household_id = {_FIRST} "
         "THEN 'NOWHERE' ELSE household_id END"),
         ["E604 缺少必填字段「户编号」", "E603 找不到所属的家庭「NOWHERE」",
          "E604 家庭「H000000000」没有成员"]),
    ],
    ids=["orphan", "memberless", "both"],
)
def test_members_and_households_that_do_not_match_in_parquet_are_each_found(
    tmp_path: Path, expression: str, said: list[str]
) -> None:
    """A Parquet file's members and households are matched in one pass; what does not
    match is then found by the exact queries and named."""
    path = _parquet(tmp_path)
    _rewrite(tmp_path / "members.parquet", "household_id", expression.format(households=path))

    with pytest.raises(InputError) as raised:
        evaluate_file(TABLES, path, AS_OF, tmp_path / "d.parquet", trace="none")

    shown = [f"{d.code} {d.message}" for d in raised.value.diagnostics]
    for text in said:
        assert any(line.startswith(text) for line in shown), (text, shown)
    assert all(any(line.startswith(text) for text in said) for line in shown), shown
    assert not (tmp_path / "d.parquet").exists()


@pytest.mark.parametrize(
    ("code", "said"),
    [(330106, "E603"), ("330106 ", "E603"), ("339999", "E606"), ("33010", "E603"), ("330106", None)],
    ids=["number", "trailing-space", "unknown", "five-digits", "known"],
)
def test_a_county_code_is_known_text_of_six_digits(tmp_path: Path, code: object, said: str | None) -> None:
    """Known codes skip the pattern check; anything else is still read as before."""
    household = _household("2025-05-01")
    household["county_code"] = code
    path = _write(tmp_path, household)
    if said is None:
        evaluate_file(TABLES, path, AS_OF, tmp_path / "d.csv", trace="none")
        assert (tmp_path / "d.csv").read_text(encoding="utf-8").count("330106") == 1
        return
    with pytest.raises(InputError) as raised:
        evaluate_file(TABLES, path, AS_OF, tmp_path / "d.csv", trace="none")
    assert [d.code for d in raised.value.diagnostics] == [said]
    assert "county_code" in raised.value.diagnostics[0].render()


@pytest.mark.parametrize(
    ("expression", "kind"),
    [
        (("CASE WHEN row_number() OVER () <= 300 THEN 'NOWHERE' || row_number() OVER () "
         "ELSE household_id END"), "找不到所属的家庭"),
        ("CASE WHEN row_number() OVER () <= 300 THEN household_id || '-x' ELSE household_id END",
         "重复出现"),
    ],
    ids=["orphans", "repeated"],
)
def test_problems_beyond_the_listed_ones_are_counted_exactly(
    tmp_path: Path, expression: str, kind: str
) -> None:
    """300 members without a household, or 300 repeated person ids: 200 are listed and
    the last line counts the other 100."""
    path = tmp_path / "households.parquet"
    synthesise(400, 1, path, ["330106"])
    column = "household_id" if kind != "重复出现" else "person_id"
    if column == "person_id":  # every member's id made the household's first member's
        expression = "first_value(person_id) OVER (PARTITION BY household_id ORDER BY _member_index)"
    _rewrite(tmp_path / "members.parquet", column, expression)
    import duckdb

    members = str(tmp_path / "members.parquet")
    expected = duckdb.connect().execute(
        # the repeated ids; or the orphans and the households they leave without members
        "SELECT count(*) - count(DISTINCT household_id) FROM read_parquet(?)"
        if column == "person_id" else
        "SELECT (SELECT count(*) FROM read_parquet(?) WHERE household_id LIKE 'NOWHERE%') + "
        "(SELECT count(*) FROM read_parquet(?) WHERE household_id NOT IN "
        " (SELECT household_id FROM read_parquet(?)))",
        [members] if column == "person_id" else [members, str(path), members],
    ).fetchone()[0]
    assert expected > 200

    with pytest.raises(InputError) as raised:
        evaluate_file(TABLES, path, AS_OF, tmp_path / "d.parquet", trace="none")

    found = raised.value.diagnostics
    assert len(found) == 201 and any(kind in d.message for d in found)
    assert found[-1].code == "E605"
    assert f"只列出前 200 处，另有 {expected - 200} 处未列出" in found[-1].message


def test_invisible_characters_in_an_id_are_shown(tmp_path: Path) -> None:
    path = _parquet(tmp_path)
    _rewrite(tmp_path / "members.parquet", "household_id",
             "CASE WHEN row_number() OVER () = 1 THEN chr(65279) || household_id || chr(8203) "
             "ELSE household_id END")

    with pytest.raises(InputError) as raised:
        evaluate_file(TABLES, path, AS_OF, tmp_path / "d.parquet", trace="none")

    shown = raised.value.diagnostics[0].render()
    assert "找不到所属的家庭「<U+FEFF>H000000000<U+200B>」" in shown


def test_a_household_id_repeated_in_another_county_stops_a_county_run(tmp_path: Path) -> None:
    """Members name their household by id alone: a county's run would join the members
    of both households of that id to its own."""
    path = tmp_path / "households.parquet"
    synthesise(60, 1, path, ["330106", "330108"])
    import duckdb

    con = duckdb.connect()
    first, other = con.execute(
        "SELECT (SELECT household_id FROM read_parquet(?) WHERE county_code = '330106' LIMIT 1),"
        " (SELECT household_id FROM read_parquet(?) WHERE county_code = '330108' LIMIT 1)",
        [str(path), str(path)],
    ).fetchone()
    _rewrite(path, "household_id", f"CASE WHEN household_id = '{other}' THEN '{first}' ELSE household_id END")

    with pytest.raises(InputError) as raised:
        evaluate_file(TABLES, path, AS_OF, tmp_path / "d.parquet", counties=["330106"], trace="none")

    assert any(d.code == "E603" and "重复出现" in d.message for d in raised.value.diagnostics)
    assert not (tmp_path / "d.parquet").exists()


def test_a_json_line_that_is_null_is_a_household_without_id_or_members(tmp_path: Path) -> None:
    """A JSON Lines file whose other lines are households reads a `null` line as a
    household with nothing in it; it was named 家庭「None」 (helper-36)."""
    path = tmp_path / "households.jsonl"
    path.write_text(
        '{"household_id": "A", "county_code": "330106", "members": '
        '[{"person_id": "p", "birth_date": "1980-01-01"}]}\nnull\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as refused:
        evaluate_file(TABLES, path, AS_OF, tmp_path / "o.csv")
    said = [(d.code, d.location.cell, d.message) for d in refused.value.diagnostics]
    assert ("E604", "第2行 $.members", "该户没有成员") in said
    assert not any("None" in message for _, _, message in said)


def test_a_duckdb_file_another_program_holds_open_is_said_to_be_so(tmp_path: Path) -> None:
    """The hint was to check the file is whole (helper-36); it is whole, but locked."""
    import subprocess
    import sys

    import duckdb

    path = tmp_path / "held.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE households AS SELECT 'H1' AS household_id, '330106' AS county_code")
    con.execute("CREATE TABLE members AS SELECT 'H1' AS household_id, 'p1' AS person_id, "
                "DATE '1980-01-01' AS birth_date")
    con.close()
    hold = f"import duckdb, sys; c = duckdb.connect({str(path)!r}); print('held', flush=True)"
    holder = subprocess.Popen(
        [sys.executable, "-c", hold + "; sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(InputError) as refused:
            evaluate_file(TABLES, path, AS_OF, tmp_path / "o.csv")
    finally:
        holder.communicate("")
    problem = refused.value.diagnostics[0]
    assert problem.code == "E605" and "正被另一个程序打开" in problem.message
    assert "关闭正在写入该文件的程序" in (problem.hint or "")


def test_an_explain_command_in_a_hint_is_quoted_for_the_shell() -> None:
    """Ids with spaces or quotes are pasted into a shell from the hint as they are."""
    from compiler.diagnostics import make
    from compiler.evaluate import _pointed

    problem = make("E605", "金额合计过大", hint="核对")
    pointed = _pointed(problem, ["户 B ", "x'y"], "的金额", "核对；可用")
    assert pointed.hint == "核对；可用 jiuzhu explain '户 B ' 查看"
    assert pointed.message == "金额合计过大：家庭 户 B 、x'y 的金额"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_a_utf_16_json_lines_file_is_one_problem(tmp_path: Path, encoding: str) -> None:
    """Notepad's "Unicode" gave E605 for the first line and a spurious "not JSON" for the
    next (ninth session). A byte order mark says UTF-16: one problem for the file."""
    text = json.dumps(_household("2025-03-01")) + "\n"
    data = text.encode(encoding)
    if encoding != "utf-16":  # with its byte order mark, as Notepad writes
        data = ("\ufeff" + text).encode(encoding)
    path = tmp_path / "households.jsonl"
    path.write_bytes(data)
    with pytest.raises(InputError) as refused:
        evaluate_file(TABLES, path, AS_OF, tmp_path / "d.parquet", trace="none")
    [problem] = refused.value.diagnostics
    assert problem.code == "E605" and "是 UTF-16 编码的文本" in problem.message


def test_the_fixed_date_holidays_are_days_off_in_a_year_the_calendar_does_not_list() -> None:
    """2027-01-01 was counted a working day (helper-44): since 2025 New Year's Day,
    1-2 May and 1-3 October are statutory holidays on fixed dates; the lunar ones wait
    for the year's notice. A listed year is read from its rows alone, an unlisted year
    before 2025 Monday to Friday."""
    from compiler.calendar import WorkCalendar
    from compiler.model import CalendarDay

    calendar = WorkCalendar([CalendarDay(date(2026, 1, 1), False, "元旦")])
    off = [date(2027, 1, 1), date(2027, 5, 3), date(2027, 10, 1)]
    assert [calendar.is_working(d) for d in off] == [False, True, False]  # 2027-05-03 is a Monday
    assert calendar.add_working_days(date(2026, 12, 24), 10) == date(2027, 1, 8)
    assert calendar.is_working(date(2026, 10, 1))  # listed: only its own rows say what is off
    assert calendar.is_working(date(2024, 1, 1))  # before 2025: Monday to Friday


def test_a_household_with_no_counted_member_exits_for_that_reason(tmp_path: Path) -> None:
    """Its per-head assets were missing, so the asset rows failed by default and the
    exit was explained as 「财产超标」 (helper-44)."""
    household = {"household_id": "N1", "county_code": "330106",
                 "current": {"group": "dibao", "since": "2024-01-01"},
                 "members": [{"person_id": "N1-1", "relation": "head", "birth_date": "1975-05-05",
                              "excluded_from_household": True}]}
    path = _write(tmp_path, household)
    text = explain_file(TABLES, path, "N1", AS_OF)
    assert "命中规则 no_counted_member" in text and "家庭已没有计入的成员" in text
    line = text.split("家庭救助类别（含复核与渐退）")[1].splitlines()[0]
    assert "exit_assets" not in line and "因财产超标的不享受渐退期" not in line


def test_a_gbk_json_lines_file_is_one_problem(tmp_path: Path) -> None:
    """A GBK file gave 「不是 UTF-8 编码的文本」 for every line, with no hint (helper-43);
    the same households in UTF-8 are decided."""
    households = [{**_household("2025-03-01", hid=f"G{i}"), "history": {"reported_by": "街道社工站"}}
                  for i in range(3)]
    text = "".join(json.dumps(h, ensure_ascii=False) + "\n" for h in households)
    path = tmp_path / "households.jsonl"
    path.write_bytes(text.encode("gbk"))
    with pytest.raises(InputError) as refused:
        evaluate_file(TABLES, path, AS_OF, tmp_path / "d.parquet", trace="none")
    [problem] = refused.value.diagnostics
    assert "是 GBK（GB18030）编码的文本" in problem.message and "UTF-8" in (problem.hint or "")
    path.write_bytes(text.encode("utf-8"))
    assert evaluate_file(TABLES, path, AS_OF, tmp_path / "d.parquet", trace="none").households == 3
