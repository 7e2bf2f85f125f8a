"""CSV household files as county offices save them (helper-76).

- Common Chinese headers (户籍, 是否在业, 在业, 户口性质) were dropped with a W601
  warning that named no field: hukou was left empty and employed fell back to 否.
  A header that is a field's name written another way is now E603; one that only
  resembles a field is warned with the field and what the run did instead.
- Amount headers under other names (工资收入, 年工资 for 工资性收入; 货币资产,
  货币财产合计, 家庭货币财产 for 货币财产) were W601 and the amount decided as 0, so a
  household looked poor enough for dibao (helper-79): now E603 when no other column
  supplies the field.
- A semicolon-separated file gave one E604 per column: now one E605 naming the
  semicolon. A tab-separated file, and Excel's 「Unicode 文本」 (UTF-16 with a BOM,
  tab-separated), is read.
- A UTF-16 file was 「编码无法识别」 without naming UTF-16, and a byte that is not
  UTF-8 was named at no line: now the encoding and the line, character and byte.
- Full-width digits in amounts and dates (``１５６１１．８８``) were E603, though a table
  cell takes them: now read as a table cell reads them.

Files are written as Excel and WPS write them: bytes with a BOM, lines ending CRLF.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from compiler.errors import InputError
from compiler.households import LoadedInput, load_households
from compiler.model import DType, Field, Kind, Level
from compiler.normalise import parse_date, parse_decimal_text

H, M = Level.HOUSEHOLD, Level.MEMBER
# the province's names (tables/province/字段.csv) for the fields these tests need
FIELDS = {
    f.id: f
    for f in [
        Field("household_id", "户编号", H, DType(Kind.TEXT)),
        Field("county_code", "居住地区划代码", H, DType(Kind.TEXT)),
        Field("assets.money", "货币财产", H, DType(Kind.MONEY), Decimal(0)),
        Field("current.since", "现类别认定日期", H, DType(Kind.DATE)),
        Field("person_id", "成员编号", M, DType(Kind.TEXT)),
        Field("birth_date", "出生日期", M, DType(Kind.DATE)),
        Field("hukou", "户籍类型", M, DType(Kind.ENUM, ("urban", "rural"))),
        Field("original_rural_hukou", "原农村户籍", M, DType(Kind.BOOLEAN), False),
        Field(
            "disability_kind", "残疾类别", M, DType(Kind.ENUM, ("physical", "mental"))
        ),
        Field("disability_grade", "残疾等级", M, DType(Kind.INTEGER)),
        Field("employed", "已就业", M, DType(Kind.BOOLEAN), False),
        Field("income.wage", "工资性收入", M, DType(Kind.MONEY), Decimal(0)),
        Field("income.business", "经营净收入", M, DType(Kind.MONEY), Decimal(0)),
    ]
}
HOUSEHOLDS = [["household_id", "county_code", "货币财产"], ["H1", "330106", "1,402.50"]]
MEMBER_HEADER = [
    "household_id",
    "person_id",
    "出生日期",
    "户籍类型",
    "已就业",
    "工资性收入",
]
MEMBER = ["H1", "P1", "1960/1/2", "rural", "是", "15611.88"]


def _excel(
    path: Path, rows: list[list[str]], sep: str = ",", encoding: str = "utf-8-sig"
) -> None:
    """Rows as Excel saves them: its BOM, CRLF line ends, a cell holding the separator
    in quotes."""
    text = io.StringIO()
    csv.writer(text, delimiter=sep, lineterminator="\r\n").writerows(rows)
    path.write_bytes(text.getvalue().encode(encoding))


def _files(
    folder: Path,
    members: list[list[str]],
    sep: str = ",",
    encoding: str = "utf-8-sig",
    households: list[list[str]] = HOUSEHOLDS,
) -> Path:
    _excel(folder / "x-households.csv", households, sep, encoding)
    _excel(folder / "x-members.csv", members, sep, encoding)
    return folder / "x-households.csv"


def _load(path: Path) -> tuple[duckdb.DuckDBPyConnection, LoadedInput]:
    con = duckdb.connect()
    return con, load_households(con, path, FIELDS)


def _refused(path: Path) -> list[tuple[str, str | None, str]]:
    with pytest.raises(InputError) as raised:
        load_households(duckdb.connect(), path, FIELDS)
    return [(d.code, d.location.cell, d.render()) for d in raised.value.diagnostics]


def _member(con: duckdb.DuckDBPyConnection) -> tuple[object, ...]:
    return con.execute(
        'SELECT birth_date, hukou, employed, "income.wage" FROM jz_members'
    ).fetchall()[0]


READ = (date(1960, 1, 2), "rural", True, Decimal("15611.88"))

# ----------------------------------------------------------------------- header names


@pytest.mark.parametrize(
    ("header", "field", "said"),
    [
        ("户籍", "户籍类型」（hukou）", "「户籍类型」没有取值（按未填写决策）"),
        ("户口性质", "户籍类型」（hukou）", "「户籍类型」没有取值"),
        ("是否在业", "已就业」（employed）", "「已就业」按默认值「否」决策"),
        ("在业", "已就业」（employed）", "「已就业」按默认值「否」决策"),
        ("残疾级别", "残疾等级」（disability_grade）", "「残疾等级」没有取值"),
    ],
)
def test_a_header_that_is_a_fields_name_written_another_way_is_e603(
    tmp_path: Path, header: str, field: str, said: str
) -> None:
    members = [
        ["household_id", "person_id", "出生日期", header],
        ["H1", "P1", "1960-01-02", "是"],
    ]
    [(code, cell, text)] = _refused(_files(tmp_path, members))
    assert (code, cell) == ("E603", header)
    assert f"列「{header}」不是已声明的字段名，与字段「{field}是同一个意思" in text
    assert said in text and "把列名改为" in text


def test_a_header_that_resembles_a_field_is_warned_with_what_the_run_did(
    tmp_path: Path,
) -> None:
    """残疾等级 is a number but no amount: a header resembling it stays W601."""
    members = [
        ["household_id", "person_id", "出生日期", "残等"],
        ["H1", "P1", "1960-01-02", "2"],
    ]
    _, loaded = _load(_files(tmp_path, members))
    said = (
        "x-members.csv 中的列 残等 不是已声明的字段，已忽略（"
        "残等 是否想写「disability_grade」（残疾等级）？该列没有读取，「残疾等级」没有取值（按未填写决策））"
    )
    assert loaded.warnings == [said]


@pytest.mark.parametrize(
    ("level", "header", "field"),
    [
        (M, "工资收入", "工资性收入」（income.wage）"),
        (M, "年工资", "工资性收入」（income.wage）"),
        (M, "工资", "工资性收入」（income.wage）"),
        (H, "货币资产", "货币财产」（assets.money）"),
        (H, "货币财产合计", "货币财产」（assets.money）"),
        (H, "家庭货币财产", "货币财产」（assets.money）"),
    ],
)
def test_a_header_that_is_most_likely_an_amount_not_supplied_is_e603(
    tmp_path: Path, level: Level, header: str, field: str
) -> None:
    """Dropped, the amount would be decided as 0; the county's own columns beside it
    (户籍地址, 备注, 联系电话, 身份证号, 财产情况) are still only warned about."""
    households = [
        ["household_id", "county_code", "户籍地址", "备注", "财产情况"],
        ["H1", "330106", "西湖区某路1号", "无", "有房一套"],
    ]
    members = [
        ["household_id", "person_id", "出生日期", "联系电话", "身份证号"],
        ["H1", "P1", "1960-01-02", "13800000000", "330106196001020000"],
    ]
    table = members if level is M else households
    table[0].append(header)
    table[1].append("300000")
    path = _files(tmp_path, members, households=households)

    [(code, cell, text)] = _refused(path)

    assert (code, cell) == ("E603", header)
    assert f"列「{header}」不是已声明的字段名，最可能是金额字段「{field}" in text
    assert f"{field[: field.index('」')]}」按默认值「0」决策" in text
    assert "把列名改为" in text and "删除该列" in text


def test_an_amount_header_beside_the_fields_own_column_stays_w601(
    tmp_path: Path,
) -> None:
    members = [[*MEMBER_HEADER, "工资收入"], [*MEMBER, "3000"]]
    households = [[*HOUSEHOLDS[0], "货币资产"], [*HOUSEHOLDS[1], "9"]]
    con, loaded = _load(_files(tmp_path, members, households=households))
    assert _member(con) == READ
    read = "？该字段已从另一列读取）"
    assert loaded.warnings == [
        "x-households.csv 中的列 货币资产 不是已声明的字段，已忽略（"
        + f"货币资产 是否想写「assets.money」（货币财产）{read}",
        "x-members.csv 中的列 工资收入 不是已声明的字段，已忽略（"
        + f"工资收入 是否想写「income.wage」（工资性收入）{read}",
    ]


def test_an_amount_header_naming_a_month_keeps_its_monthly_e603(
    tmp_path: Path,
) -> None:
    members = [["household_id", "person_id", "出生日期", "月工资", "工资收入"]]
    members.append(["H1", "P1", "1960-01-02", "3000", "36000"])
    refused = _refused(_files(tmp_path, members))
    assert [(code, cell) for code, cell, _ in refused] == [
        ("E603", "月工资"),
        ("E603", "工资收入"),
    ]
    assert "「月工资」像是按月的金额" in refused[0][2]
    assert "最可能是金额字段「工资性收入」" in refused[1][2]


def test_a_header_beside_the_field_it_names_is_warned_as_read_elsewhere(
    tmp_path: Path,
) -> None:
    """户籍 shares two characters with 原农村户籍 as with 户籍类型; it is a prefix of the
    core of the second only, which is read from its own column."""
    members = [[*MEMBER_HEADER, "户籍"], [*MEMBER, "农业"]]
    con, loaded = _load(_files(tmp_path, members))
    assert _member(con) == READ
    said = "x-members.csv 中的列 户籍 不是已声明的字段，已忽略"
    assert loaded.warnings == [
        f"{said}（户籍 是否想写「hukou」（户籍类型）？该字段已从另一列读取）"
    ]


# ------------------------------------------------------------------------- separators


def test_a_semicolon_separated_file_is_one_e605_naming_the_semicolon(
    tmp_path: Path,
) -> None:
    path = _files(tmp_path, [MEMBER_HEADER, MEMBER], sep=";")
    [(code, cell, text)] = _refused(path)
    assert (code, cell) == ("E605", "第1行")
    assert "以分号「;」分隔，应以逗号「,」分隔" in text
    assert "实际为「household_id;county_code;货币财产」" in text


@pytest.mark.parametrize(
    "encoding",
    ["utf-16", "utf-16-be", "utf-8-sig", "gb18030"],
    ids=["utf16le", "utf16be", "utf8", "gbk"],
)
def test_a_tab_separated_file_is_read_as_the_csv(tmp_path: Path, encoding: str) -> None:
    """Excel's 「Unicode 文本」 is UTF-16 little-endian with its BOM, tab-separated;
    big-endian is written here with its BOM too."""
    bom = "\ufeff" if encoding == "utf-16-be" else ""
    members = [[bom + MEMBER_HEADER[0], *MEMBER_HEADER[1:]], MEMBER]
    households = [[bom + HOUSEHOLDS[0][0], *HOUSEHOLDS[0][1:]], HOUSEHOLDS[1]]
    path = _files(tmp_path, members, "\t", encoding, households)
    assert path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff") or "16" not in encoding

    con, loaded = _load(path)

    assert _member(con) == READ and loaded.warnings == []
    money = con.execute('SELECT "assets.money" FROM jz_households').fetchall()
    assert money == [(Decimal("1402.50"),)]


def test_a_tab_separated_row_of_another_width_is_named_at_its_line(
    tmp_path: Path,
) -> None:
    path = _files(tmp_path, [MEMBER_HEADER, MEMBER, ["H1", "P2"]], "\t", "utf-16")
    [(code, cell, text)] = _refused(path)
    assert (code, cell) == ("E605", "第3行") and "这一行有 2 列，表头有 6 列" in text


# -------------------------------------------------------------------------- encodings


def test_a_utf16_file_cut_inside_a_character_names_utf16_and_the_line(
    tmp_path: Path,
) -> None:
    path = _files(tmp_path, [MEMBER_HEADER, MEMBER], "\t", "utf-16")
    members = tmp_path / "x-members.csv"
    members.write_bytes(members.read_bytes() + "H1\tP2".encode("utf-16-le") + b"\x00")
    [(code, cell, text)] = _refused(path)
    assert (code, cell) == ("E605", "第3行")
    assert "无法按 UTF-16 读取" in text and "文件以 UTF-16 的字节顺序标记开头" in text
    assert "第 3 行第 6 个字符处" in text and "实际为「H1\tP2<0x00>」" in text


@pytest.mark.parametrize("width", [3, 2], ids=["chinese", "ascii"])
def test_utf16_without_its_bom_is_named(tmp_path: Path, width: int) -> None:
    """Without Chinese, UTF-16 bytes are UTF-8 too: NUL characters."""
    households = [row[:width] for row in HOUSEHOLDS]
    path = _files(tmp_path, [MEMBER_HEADER, MEMBER], ",", "utf-16-le", households)
    [(code, cell, text)] = _refused(path)
    assert (code, cell) == ("E605", None) and "不带 BOM 的 UTF-16" in text
    assert (tmp_path / "x-households.csv").read_bytes().isascii() is (width == 2)


def test_a_byte_that_is_not_utf8_is_named_at_its_line_character_and_offset(
    tmp_path: Path,
) -> None:
    path = _files(
        tmp_path,
        [MEMBER_HEADER, MEMBER, ["H1", "P2", "1961-01-01", "urban", "否", "12"]],
    )
    members = tmp_path / "x-members.csv"
    data = members.read_bytes().replace(b"urban", b"urb\xffn")
    members.write_bytes(data)

    [(code, cell, text)] = _refused(path)

    assert (code, cell) == ("E605", "第3行") and "编码无法识别" in text
    offset = data.index(b"\xff") + 1
    assert f"第 3 行第 21 个字符处（文件第 {offset} 字节）的字节不是 UTF-8" in text
    assert "实际为「H1,P2,1961-01-01,urb<0xFF>」" in text


def test_a_gbk_name_pasted_into_a_utf8_file_is_refused_not_read_as_gbk(
    tmp_path: Path,
) -> None:
    """Read as GB18030, every Chinese header of the file would be other characters."""
    path = _files(tmp_path, [MEMBER_HEADER, MEMBER])
    members = tmp_path / "x-members.csv"
    members.write_bytes(
        members.read_bytes() + "H1,P2,1961-01-01,urban,否,12\r\n".encode("gbk")
    )
    [(code, cell, text)] = _refused(path)
    assert (code, cell) == ("E605", "第3行")
    assert "的字节不是 UTF-8，前文却是 UTF-8" in text and "GBK" in text


# ---------------------------------------------------------------------- full width


def test_full_width_amounts_and_dates_are_read_as_table_cells_read_them(
    tmp_path: Path,
) -> None:
    header = [*MEMBER_HEADER, "经营净收入"]
    row = [
        "H1",
        "P1",
        "１９６０／１／２",
        "rural",
        "是",
        "１５，６１１．８８",
        "－１２０．５",
    ]
    households = [
        [*HOUSEHOLDS[0], "现类别认定日期"],
        ["H1", "330106", "　１４０２．５０", "２０２４年１月３１日"],
    ]

    con, _ = _load(_files(tmp_path, [header, row], households=households))

    assert _member(con) == READ
    business = con.execute('SELECT "income.business" FROM jz_members').fetchall()
    assert (
        business == [(parse_decimal_text("－１２０．５"),)] == [(Decimal("-120.50"),)]
    )
    assert con.execute(
        'SELECT "assets.money", "current.since" FROM jz_households'
    ).fetchall() == [(Decimal("1402.50"), parse_date("２０２４年１月３１日"))]


@pytest.mark.parametrize("value", ["１５，６１．８８", "１Ｅ３", "１５６１１．８８８"])
def test_full_width_numbers_are_refused_as_their_ascii_form_is(
    tmp_path: Path, value: str
) -> None:
    path = _files(tmp_path, [MEMBER_HEADER, [*MEMBER[:5], value]])
    [(code, cell, text)] = _refused(path)
    assert (code, cell) == ("E603", "第2行 income.wage")
    assert f"实际为「{value}」" in text
