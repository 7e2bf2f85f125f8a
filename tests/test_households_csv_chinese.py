"""CSV household files in the words county staff use (helper-83).

- An enum cell written as its value's Chinese name (农村, 配偶, 肢体, 低保) was E603:
  now read as the identifier, within its own field only (农村 in relation stays
  refused, the values listed with their Chinese names); an event type's name
  (失业人员登记) raised no alert: now it is the type.
- A header 户编号 (the 字段 sheet's name of household_id) gave an E604 saying the file
  had no 户编号 column: now read as household_id, and 居住地区划代码 as county_code;
  家庭编号, 户号, 身份证号码 and the like are E604 at that column, naming what to write.
- Excel's 「Unicode 文本」 saved as households.txt was E605 by its extension: now read
  when tab-separated, with members.txt and events.txt beside it.

The sample households (tables/samples) are written as county files and decided and
explained on the real tables; the identifier version is the judge.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from compiler.errors import InputError
from compiler.evaluate import evaluate_file
from compiler.explain import explain_file
from compiler.households import load_households
from compiler.resolve import declared_fields
from compiler.vocabulary import (
    DISABILITY_CN,
    EVENT_CN,
    GROUP_CN,
    HUKOU_CN,
    RELATION_CN,
    STUDENT_CN,
)

ROOT = Path(__file__).resolve().parent.parent
TABLES = ROOT / "tables"
SAMPLES = TABLES / "samples" / "households.jsonl"
AS_OF = date(2025, 6, 1)
FIELDS = declared_fields(TABLES)
NAMES_CN = {
    "relation": RELATION_CN,
    "hukou": HUKOU_CN,
    "disability_kind": DISABILITY_CN,
    "student": STUDENT_CN,
    "current.group": GROUP_CN,
    "event.type": EVENT_CN,
}
# the province's 字段 sheet: each field's Chinese name, for headers as staff write them
with (TABLES / "province" / "字段.csv").open(encoding="utf-8-sig", newline="") as sheet:
    HEADERS_CN = {row["标识"]: row["名称"] for row in csv.DictReader(sheet)}


# ----------------------------------------------------------------------- writing files


def _flat(record: dict, prefix: str = "") -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in record.items():
        if isinstance(value, dict):
            out |= _flat(value, f"{prefix}{key}.")
        else:
            out[prefix + key] = value
    return out


def _sample_rows() -> dict[str, list[dict[str, object]]]:
    """The sample households as rows of the households, members and events files."""
    rows: dict[str, list[dict[str, object]]] = {"households": [], "members": [], "events": []}
    for line in SAMPLES.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        hid = record["household_id"]
        rest = {k: v for k, v in record.items() if k not in ("members", "events")}
        rows["households"].append(_flat(rest))
        for member in record["members"]:
            rows["members"].append({"household_id": hid, **_flat(member)})
        for event in record.get("events", []):
            flat = {f"event.{k}": v for k, v in _flat(event).items()}
            rows["events"].append({"household_id": hid, **flat})
    return rows


def _cell(value: object, field: str, chinese: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if chinese and field in NAMES_CN:
        return NAMES_CN[field].get(str(value), str(value))  # house_fire: a county's own
    return str(value)


def _excel(path: Path, rows: list[list[str]], sep: str, encoding: str) -> None:
    """Rows as Excel and WPS save them: a BOM where the encoding has one, CRLF."""
    text = io.StringIO()
    csv.writer(text, delimiter=sep, lineterminator="\r\n").writerows(rows)
    path.write_bytes(text.getvalue().encode(encoding))


def write_samples(
    folder: Path,
    *,
    chinese: bool,
    encoding: str = "utf-8-sig",
    sep: str = ",",
    suffix: str = ".csv",
    headers_cn: bool = False,
) -> Path:
    """The sample households as households/members/events files; ``chinese`` writes
    enum values by their Chinese names, ``headers_cn`` every header by its field's."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, rows in _sample_rows().items():
        header = list(dict.fromkeys(k for row in rows for k in row))
        shown = [HEADERS_CN[k] if headers_cn else k for k in header]
        body = [[_cell(row.get(k), k, chinese) for k in header] for row in rows]
        _excel(folder / f"{name}{suffix}", [shown, *body], sep, encoding)
    return folder / f"households{suffix}"


@pytest.fixture(scope="module")
def by_identifiers(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The samples written with identifiers, and their decisions."""
    folder = tmp_path_factory.mktemp("identifiers")
    path = write_samples(folder, chinese=False)
    out = folder / "decisions.jsonl"
    evaluate_file(TABLES, path, AS_OF, out)
    return path, out.read_text(encoding="utf-8")


# ----------------------------------------------------------------------- deciding

# (encoding, separator, suffix, headers in Chinese): Excel's 「CSV UTF-8」, Excel's and
# WPS's 「CSV（逗号分隔）」 on Chinese Windows, 「Unicode 文本」, WPS's 「文本文件（制表符分隔）」
FORMS = [
    pytest.param("utf-8-sig", ",", ".csv", False, id="csv-utf8-bom"),
    pytest.param("gb18030", ",", ".csv", True, id="csv-gb18030"),
    pytest.param("utf-16", "\t", ".txt", True, id="unicode-text-utf16"),
    pytest.param("gb18030", "\t", ".txt", False, id="tab-text-gb18030"),
]


@pytest.mark.parametrize(("encoding", "sep", "suffix", "headers_cn"), FORMS)
def test_chinese_value_names_decide_every_sample_as_the_identifiers(
    tmp_path: Path,
    by_identifiers: tuple[Path, str],
    encoding: str,
    sep: str,
    suffix: str,
    headers_cn: bool,
) -> None:
    path = write_samples(
        tmp_path, chinese=True, encoding=encoding, sep=sep, suffix=suffix,
        headers_cn=headers_cn,
    )
    members = (tmp_path / f"members{suffix}").read_bytes().decode(encoding)
    # the files do hold the names (and, with Chinese headers, 户编号 links them)
    assert all(name in members for name in ("户主", "配偶", "农村", "多重", "研究生"))
    assert ("户编号" in members) == headers_cn
    out = tmp_path / "decisions.jsonl"

    evaluate_file(TABLES, path, AS_OF, out)

    decided = out.read_text(encoding="utf-8")
    assert decided == by_identifiers[1]
    assert decided.count("\n") == len(_sample_rows()["households"])  # one line each
    # the Chinese event types raised their alerts, as the identifiers did
    assert '"type":"working_age_death"' in decided


@pytest.mark.parametrize("household", ["S078", "S097", "S114"])
def test_explain_reads_chinese_value_names_as_the_identifiers(
    tmp_path: Path, by_identifiers: tuple[Path, str], household: str
) -> None:
    """S078: relations, studies and a disability; S097: events; S114: its group."""
    path = write_samples(
        tmp_path, chinese=True, encoding="utf-16", sep="\t", suffix=".txt",
        headers_cn=True,
    )

    explained = explain_file(TABLES, path, household, AS_OF)

    assert explained == explain_file(TABLES, by_identifiers[0], household, AS_OF)
    assert explained.startswith(f"家庭 {household}")


# ----------------------------------------------------------------------- values


def _files(folder: Path, households: list[list[str]], members: list[list[str]]) -> Path:
    _excel(folder / "households.csv", households, ",", "utf-8-sig")
    _excel(folder / "members.csv", members, ",", "utf-8-sig")
    return folder / "households.csv"


HOUSEHOLDS = [["household_id", "county_code", "current.group"], ["H1", "330106", ""]]
MEMBER_HEADER = ["household_id", "person_id", "birth_date", "relation", "hukou",
                 "disability_kind", "student"]


def _refused(path: Path) -> list[tuple[str, str | None, str]]:
    with pytest.raises(InputError) as raised:
        load_households(duckdb.connect(), path, FIELDS)
    return [(d.code, d.location.cell, d.render()) for d in raised.value.diagnostics]


@pytest.mark.parametrize(
    ("written", "read"),
    [
        pytest.param(["户主", "农村", "肢体", "学前"], ("head", "rural", "physical", "preschool"),
                     id="vocabulary"),
        pytest.param(["其他", "农村户籍", "多重残疾", "研究生"],
                     ("other", "rural", "multiple", "postgraduate"), id="field-sheet-notes"),
        pytest.param(["\u3000配偶\u3000", "ｕｒｂａｎ", "ｍｅｎｔａｌ", "中职"],
                     ("spouse", "urban", "mental", "secondary_vocational"), id="full-width"),
    ],
)
def test_a_value_name_is_read_as_its_identifier(
    tmp_path: Path, written: list[str], read: tuple[str, ...]
) -> None:
    households = [HOUSEHOLDS[0], ["H1", "330106", "低保边缘"]]
    path = _files(tmp_path, households, [MEMBER_HEADER, ["H1", "P1", "1960-01-02", *written]])
    con = duckdb.connect()

    load_households(con, path, FIELDS)

    assert con.execute(
        "SELECT relation, hukou, disability_kind, student FROM jz_members"
    ).fetchall() == [read]
    group = con.execute('SELECT "current.group" FROM jz_households').fetchall()
    assert group == [("dibao_marginal",)]


def test_a_name_of_another_fields_value_is_refused_with_the_values_and_names(
    tmp_path: Path,
) -> None:
    """农村 is hukou's, 低保 a group's: neither is a relation or a hukou; 困难 is no
    group's name (特困供养 or 特困 is). Each is E603 at its cell, quoted as written."""
    households = [HOUSEHOLDS[0], ["H1", "330106", "困难"]]
    member = ["H1", "P1", "1960-01-02", "农村", "低保", "", ""]
    path = _files(tmp_path, households, [MEMBER_HEADER, member])

    found = {cell: (code, text) for code, cell, text in _refused(path)}

    assert {code for code, _ in found.values()} == {"E603"}
    relation = found["第2行 relation"][1]
    assert "实际为「农村」" in relation
    assert "应为以下取值之一：head（户主）、spouse（配偶）、child（子女）" in relation
    assert "「农村」是字段 hukou 的取值，不是「与户主关系」的" in relation
    hukou = found["第2行 hukou"][1]
    assert "实际为「低保」" in hukou and "应为以下取值之一：urban（城镇）、rural（农村）" in hukou
    assert "「低保」是字段 current.group 的取值" in hukou
    group = found["第2行 current.group"][1]
    assert "实际为「困难」" in group and "tekun（特困供养）" in group and "核对拼写" in group


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_value_names_are_read_from_csv_only(tmp_path: Path, fmt: str) -> None:
    """JSON and Parquet are written by programs, which have the identifiers: there
    农村 stays E603, the values listed as identifiers."""
    member = ["H1", "P1", "1960-01-02", "配偶", "农村", "", ""]
    csv_path = _files(tmp_path, [HOUSEHOLDS[0], ["H1", "330106", ""]], [MEMBER_HEADER, member])
    con = duckdb.connect()
    load_households(con, csv_path, FIELDS)
    assert con.execute("SELECT relation, hukou FROM jz_members").fetchall() == [
        ("spouse", "rural")
    ]
    if fmt == "jsonl":
        path = tmp_path / "households.jsonl"
        record = {"household_id": "H1", "county_code": "330106", "members": [
            {"person_id": "P1", "birth_date": "1960-01-02", "relation": "配偶", "hukou": "农村"}]}
        path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    else:
        for name in ("households", "members"):
            con.execute(
                f"COPY (SELECT * FROM read_csv('{tmp_path / name}.csv', all_varchar = true)) "
                f"TO '{tmp_path / name}.parquet' (FORMAT parquet)"
            )
        path = tmp_path / "households.parquet"

    refused = _refused(path)

    assert {code for code, _, _ in refused} == {"E603"}
    texts = " ".join(text for _, _, text in refused)
    assert "实际为「农村」" in texts and "以下取值之一：urban、rural" in texts
    assert "实际为「配偶」" in texts


# ----------------------------------------------------------------------- key columns


def test_the_field_sheet_names_of_the_keys_link_the_files(tmp_path: Path) -> None:
    households = [["户编号", "居住地区划代码"], ["H1", "330106"], ["H2", "330108"]]
    members = [["户编号", "成员编号", "出生日期"], ["H1", "P1", "1960-01-02"],
               ["H2", "P2", "1970-03-04"]]
    path = _files(tmp_path, households, members)
    con = duckdb.connect()

    loaded = load_households(con, path, FIELDS, county="330108")

    assert loaded.warnings == [] and loaded.skipped == 1
    assert con.execute(
        "SELECT h.household_id, h.county_code, m.person_id FROM jz_households h "
        "JOIN jz_members m USING (household_id)"
    ).fetchall() == [("H2", "330108", "P2")]


@pytest.mark.parametrize(
    ("file", "header", "said", "rename"),
    [
        pytest.param(
            "members", "家庭编号", "members.csv 中没有必填字段「户编号」（household_id）这一列",
            "把列名改为 户编号 后重试", id="family-number"),
        pytest.param(
            "members", "户号", "列「户号」不按户编号读取", "把列名改为 户编号 后重试",
            id="hukou-booklet-number"),
        pytest.param(
            "members", "HOUSEHOLD_ID", "列「HOUSEHOLD_ID」不按户编号读取",
            "把列名改为 household_id 后重试", id="upper-case"),
        pytest.param(
            "households", "区划代码", "中没有必填字段「居住地区划代码」（county_code）这一列",
            "把列名改为 居住地区划代码 后重试", id="division-code"),
        pytest.param(
            "members", "人员编号", "中没有必填字段「成员编号」（person_id）这一列",
            "把列名改为 成员编号 后重试", id="person-number"),
    ],
)
def test_another_spelling_of_a_key_is_one_e604_at_that_column(
    tmp_path: Path, file: str, header: str, said: str, rename: str
) -> None:
    households = [["household_id", "county_code"], ["H1", "330106"]]
    members = [["household_id", "person_id", "birth_date"], ["H1", "P1", "1960-01-02"]]
    rows = households if file == "households" else members
    old = {"家庭编号": "household_id", "户号": "household_id", "HOUSEHOLD_ID": "household_id",
           "区划代码": "county_code", "人员编号": "person_id"}[header]
    rows[0][rows[0].index(old)] = header

    [(code, cell, text)] = _refused(_files(tmp_path, households, members))

    assert (code, cell) == ("E604", header)
    assert said in text and rename in text and "不按相近的列名猜测" in text


def test_an_id_card_number_is_no_person_id(tmp_path: Path) -> None:
    """The contract makes person_id a code within the household, echoed into every
    decision: an ID-card column is not read as it."""
    members = [["户编号", "身份证号码", "出生日期"], ["H1", "330106196001020000", "1960-01-02"]]
    path = _files(tmp_path, [["户编号", "居住地区划代码"], ["H1", "330106"]], members)

    [(code, cell, text)] = _refused(path)

    assert (code, cell) == ("E604", "身份证号码")
    assert "没有必填字段「成员编号」（person_id）这一列" in text
    assert "身份证号码列「身份证号码」不作为成员编号读取" in text
    assert "数据约定没有把它定为身份证号码" in text


def test_a_key_by_its_id_and_its_chinese_name_is_e605(tmp_path: Path) -> None:
    members = [["household_id", "户编号", "person_id", "birth_date"],
               ["H1", "H2", "P1", "1960-01-02"]]
    path = _files(tmp_path, [["household_id", "county_code"], ["H1", "330106"]], members)

    [(code, _, text)] = _refused(path)

    assert code == "E605"
    assert "members.csv 中「户编号」（household_id）有 2 列：household_id、户编号" in text


# ----------------------------------------------------------------------- .txt files


def test_a_comma_separated_txt_is_e605_saying_to_name_it_csv(tmp_path: Path) -> None:
    _excel(tmp_path / "households.txt", [["household_id", "county_code"], ["H1", "330106"]],
           ",", "utf-16")
    _excel(tmp_path / "members.txt", [["household_id", "person_id"], ["H1", "P1"]],
           ",", "utf-16")

    [(code, _, text)] = _refused(tmp_path / "households.txt")

    assert code == "E605" and "households.txt 不是制表符分隔的文本" in text
    assert "实际为「以逗号分隔的 CSV」" in text and "扩展名改为 .csv" in text


def test_a_txt_that_is_no_table_is_e605(tmp_path: Path) -> None:
    (tmp_path / "households.txt").write_text("低保户名单\n见附件\n", encoding="utf-16")
    (tmp_path / "members.txt").write_text("household_id\tperson_id\n", encoding="utf-16")

    [(code, _, text)] = _refused(tmp_path / "households.txt")

    assert code == "E605" and "实际为「没有以制表符分隔的表头」" in text
    assert "另存为「Unicode 文本」" in text


def test_a_txt_households_file_needs_its_members_txt(tmp_path: Path) -> None:
    _excel(tmp_path / "households.txt", [["household_id", "county_code"], ["H1", "330106"]],
           "\t", "utf-16")
    _excel(tmp_path / "members.csv", [["household_id", "person_id"], ["H1", "P1"]],
           ",", "utf-8-sig")

    [(code, _, text)] = _refused(tmp_path / "households.txt")

    assert code == "E605" and "找不到成员文件" in text and "members.txt" in text


def test_a_txt_not_named_households_is_e605_naming_the_name(tmp_path: Path) -> None:
    _excel(tmp_path / "名单.txt", [["household_id", "county_code"], ["H1", "330106"]],
           "\t", "utf-16")

    [(code, _, text)] = _refused(tmp_path / "名单.txt")

    assert code == "E605"
    assert "制表符分隔文本家庭数据的文件名应以 households.txt 结尾" in text
