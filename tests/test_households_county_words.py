"""County words for household input (helper-106).

- A monthly pension header (月退休金, 每月养老金, 养老金(月)) got the yearly-amount
  E603 (「最可能是金额字段」): the monthly check knew only headers sharing two
  characters with a field's name. It now knows the county words of a part of a field
  (households_units.PARTS) and says the 12 months' total goes in 转移净收入.
- 五保, 五保户, 五保供养 (the older name of tekun) and the GLOSSARY's full terms of the
  groups were E603 in a CSV current.group cell: now read as their identifiers there.
- Other county words: amounts that were dropped as W601 and decided as 0 (失业金,
  租金收入, 金融资产, 医药费, ...), 房屋数量 guessed as 机动车数量, names of a field
  written another way left at W601 (残疾证等级, 大病, 是否同住, 救助类别), 低保金 (assistance
  paid, never income) offered no field, and hints offering a field the name is not
  (劳动能力 as a supporter's ability).
- The service's docstrings described the JSON amount guess made over the merged keys
  of several requests; it is made for each object, so merging refuses what each
  request alone refuses.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from datetime import date
from pathlib import Path

import duckdb
import pytest

from compiler.errors import InputError
from compiler.evaluate import evaluate_file
from compiler.households import load_households
from compiler.resolve import declared_fields
from compiler.service import Settings
from compiler.service_decide import Evaluator
from compiler.service_projects import ProjectCache
from compiler.service_request import DecisionRequest

TABLES = Path(__file__).resolve().parent.parent / "tables"
FIELDS = declared_fields(TABLES)
AS_OF = date(2025, 6, 1)
HOUSEHOLD = ["household_id", "county_code"]
MEMBER = ["household_id", "person_id", "birth_date", "relation", "hukou"]


def _write(path: Path, rows: list[list[str]]) -> None:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)
    path.write_text(text.getvalue(), encoding="utf-8-sig")


def _files(
    folder: Path,
    household: dict[str, str] | None = None,
    member: dict[str, str] | None = None,
) -> Path:
    """households.csv and members.csv of one household of one member, with the
    extra columns given (header: value)."""
    folder.mkdir(parents=True, exist_ok=True)
    more, mine = household or {}, member or {}
    _write(
        folder / "households.csv",
        [[*HOUSEHOLD, *more], ["H1", "330106", *more.values()]],
    )
    _write(
        folder / "members.csv",
        [[*MEMBER, *mine], ["H1", "P1", "1950-03-04", "head", "rural", *mine.values()]],
    )
    return folder / "households.csv"


def _refused(path: Path) -> dict[str | None, str]:
    with pytest.raises(InputError) as raised:
        load_households(duckdb.connect(), path, FIELDS)
    assert {d.code for d in raised.value.diagnostics} == {"E603"}
    return {d.location.cell: d.render() for d in raised.value.diagnostics}


def _warned(path: Path) -> str:
    [warning] = load_households(duckdb.connect(), path, FIELDS).warnings
    return warning


# ------------------------------------------------------------ 1: monthly pensions


@pytest.mark.parametrize(
    ("header", "word"),
    [
        ("月退休金", "退休金"),
        ("每月养老金", "养老金"),
        ("养老金(月)", "养老金"),
        ("退休金（元/月）", "退休金"),
    ],
)
def test_a_monthly_pension_is_told_to_give_the_12_months_in_transfer_income(
    tmp_path: Path, header: str, word: str
) -> None:
    [(cell, text)] = _refused(_files(tmp_path, member={header: "3000"})).items()

    assert cell == header
    assert f"「{header}」像是按月的金额" in text
    assert f"对应「转移净收入」（income.transfer，{word}计入该项）" in text
    assert "数据约定中的这些金额是决策日期前 12 个月的合计" in text
    assert "列名写 转移净收入（元/年）或 income.transfer，填 12 个月的合计" in text


def test_a_monthly_amount_names_the_field_sharing_most_of_its_name(
    tmp_path: Path,
) -> None:
    [text] = _refused(_files(tmp_path, household={"月医疗支出": "300"})).values()

    assert "对应「医疗支出」（expenses.medical）；" in text
    assert "教育支出" not in text


def test_monthly_assistance_paid_is_no_monthly_income(tmp_path: Path) -> None:
    """低保金 is 不计入收入, which no rule reads: dropped, it changes nothing."""
    text = _warned(_files(tmp_path, member={"月低保金": "1300"}))

    assert "月低保金 是否想写「income.excluded」（不计入收入）" in text
    assert "不参与任何计算，请勿计入转移净收入" in text


# ------------------------------------------------------------ 2: 五保 is tekun


@pytest.mark.parametrize(
    ("name", "ident"),
    [
        ("五保", "tekun"),
        ("五保户", "tekun"),
        ("五保供养", "tekun"),
        ("特困供养人员", "tekun"),
        ("特困人员", "tekun"),
        ("低保户", "dibao"),
        ("低边", "dibao_marginal"),
        ("低保边缘家庭", "dibao_marginal"),
        ("刚性支出困难家庭", "rigid_expense"),
        ("低收入帮扶家庭", "low_income_support"),
    ],
)
def test_a_county_name_of_a_group_is_read_as_its_identifier(
    tmp_path: Path, name: str, ident: str
) -> None:
    con = duckdb.connect()
    group = {"current.group": name, "current.since": "2024-01-01"}

    load_households(con, _files(tmp_path, household=group), FIELDS)

    assert con.execute('SELECT "current.group" FROM jz_households').fetchall() == [
        (ident,)
    ]


def test_wubao_decides_as_tekun(tmp_path: Path) -> None:
    out = {}
    for folder, group in (("names", "五保户"), ("ids", "tekun")):
        path = _files(
            tmp_path / folder,
            household={"current.group": group, "current.since": "2024-01-01"},
        )
        evaluate_file(TABLES, path, AS_OF, tmp_path / f"{folder}.jsonl")
        out[folder] = (tmp_path / f"{folder}.jsonl").read_text(encoding="utf-8")

    assert out["names"] == out["ids"]


def test_wubao_is_refused_in_json_as_every_chinese_name(tmp_path: Path) -> None:
    """JSON (and the service, which loads its request as a JSON file) takes the
    contract's identifiers only; in CSV the same household is read."""
    record = {
        "household_id": "H1",
        "county_code": "330106",
        "current": {"group": "五保"},
        "members": [{"person_id": "P1", "birth_date": "1950-03-04"}],
    }
    path = tmp_path / "households.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")

    [(cell, text)] = _refused(path).items()

    assert cell == "第1行 $.current.group" and "实际为「五保」" in text
    load_households(
        duckdb.connect(),
        _files(tmp_path / "csv", household={"current.group": "五保"}),
        FIELDS,
    )


def test_a_wubao_member_is_not_a_relation(tmp_path: Path) -> None:
    """A group's name is read in current.group only."""
    path = _files(tmp_path, household={"current.group": "五保户"})
    members = (tmp_path / "members.csv").read_text(encoding="utf-8-sig")
    (tmp_path / "members.csv").write_text(
        members.replace(",head,", ",五保户,"), encoding="utf-8-sig"
    )

    [(cell, text)] = _refused(path).items()

    assert cell == "第2行 relation"
    assert "「五保户」是字段 current.group 的取值" in text


# ------------------------------------------------------------ 4: county words


@pytest.mark.parametrize(
    ("level", "header", "said"),
    [
        ("member", "失业金", "最可能是金额字段「转移净收入」（income.transfer）"),
        ("member", "失业保险金", "最可能是金额字段「转移净收入」（income.transfer）"),
        ("member", "租金收入", "最可能是金额字段「财产净收入」（income.property）"),
        ("member", "分红", "最可能是金额字段「财产净收入」（income.property）"),
        ("member", "股票分红", "最可能是金额字段「财产净收入」（income.property）"),
        ("member", "务工收入", "最可能是金额字段「工资性收入」（income.wage）"),
        ("member", "种植收入", "最可能是金额字段「经营净收入」（income.business）"),
        ("household", "金融资产", "最可能是金额字段「货币财产」（assets.money）"),
        ("household", "理财产品", "最可能是金额字段「货币财产」（assets.money）"),
        ("household", "房屋数量", "最可能是字段「住房套数」（assets.homes）"),
        ("household", "房产数量", "最可能是字段「住房套数」（assets.homes）"),
        ("household", "购车价格", "最可能是金额字段「车辆购置价」（assets.vehicle_value）"),
        ("household", "注册资本", "最可能是金额字段「企业认缴出资」"),
        ("household", "医药费", "最可能是金额字段「医疗支出」（expenses.medical）"),
        ("household", "学费", "最可能是金额字段「教育支出」（expenses.education）"),
    ],
)  # fmt: skip
def test_a_county_word_for_an_amount_is_refused_naming_its_field(
    tmp_path: Path, level: str, header: str, said: str
) -> None:
    path = _files(tmp_path, **{level: {header: "1000"}})

    [(cell, text)] = _refused(path).items()

    assert cell == header
    assert f"列「{header}」不是已声明的字段名，{said}" in text


@pytest.mark.parametrize(
    ("level", "header", "value", "field"),
    [
        ("member", "残疾证等级", "2", "「残疾等级」（disability_grade）"),
        ("member", "残疾证级别", "2", "「残疾等级」（disability_grade）"),
        ("member", "残疾证类别", "肢体", "「残疾类别」（disability_kind）"),
        ("member", "大病", "true", "「重病」（serious_illness）"),
        ("member", "是否重大疾病", "true", "「重病」（serious_illness）"),
        ("member", "是否同住", "true", "「共同生活」（lives_in_household）"),
        ("member", "就读学段", "小学", "「在读学段」（student）"),
        ("household", "救助类别", "低保", "「现救助类别」（current.group）"),
        ("household", "当前救助类别", "低保", "「现救助类别」（current.group）"),
    ],
)  # fmt: skip
def test_a_county_spelling_of_a_field_is_refused_as_that_field(
    tmp_path: Path, level: str, header: str, value: str, field: str
) -> None:
    path = _files(tmp_path, **{level: {header: value}})

    [(cell, text)] = _refused(path).items()

    assert cell == header
    assert f"与字段{field}是同一个意思的另一种写法" in text


@pytest.mark.parametrize("header", ["低保金", "特困供养金", "临时救助金", "低保金收入"])
def test_assistance_paid_is_offered_as_not_counted_never_as_income(
    tmp_path: Path, header: str
) -> None:
    text = _warned(_files(tmp_path, member={header: "1000"}))

    assert f"{header} 是否想写「income.excluded」（不计入收入）" in text
    assert "income.transfer" not in text and "tekun_supported" not in text


@pytest.mark.parametrize(
    ("level", "header"),
    [
        ("household", "是否有存款"),
        ("household", "医药费报销"),
        ("household", "学费减免"),
        ("member", "理财收益"),
        ("member", "养老金缴费"),
        ("household", "救助情况"),
        ("member", "工资发放年月"),
        ("member", "养老金发放年月"),
        ("member", "养老金领取月份"),
    ],
)
def test_a_name_that_is_no_part_of_an_amount_stays_a_warning(
    tmp_path: Path, level: str, header: str
) -> None:
    text = _warned(_files(tmp_path, **{level: {header: "1"}}))

    assert f"列 {header} 不是已声明的字段，已忽略" in text


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("劳动能力", "has_able_supporter"),
        ("赡养费", "has_able_supporter"),
        ("是否财政供养", "tekun_supported"),
        ("残疾人两项补贴", "disability_kind"),
    ],
)
def test_a_hint_offers_no_field_the_name_is_not(
    tmp_path: Path, header: str, field: str
) -> None:
    text = _warned(_files(tmp_path, member={header: "1"}))

    assert f"列 {header} 不是已声明的字段，已忽略" in text
    assert field not in text


# ------------------------------------------------------------ 3: merged requests


def _member(**more: object) -> dict[str, object]:
    return {"person_id": "P1", "relation": "head", "birth_date": "1970-01-01", **more}


def _household(ident: str, **more: object) -> dict[str, object]:
    return {"household_id": ident, "county_code": "330106", "members": [_member(**more)]}


def test_a_merged_run_refuses_what_each_request_alone_refuses() -> None:
    """B supplies income.wage in one household and not in the other, so no check
    keeps it out of the merged run; A's income.wage supplies nothing of B's."""
    folder = Path(tempfile.mkdtemp(prefix="jiuzhu-h106-"))
    cache = ProjectCache(
        Settings(tables=TABLES, registry=folder / "r.duckdb", warm_on_start=False)
    )
    warm = cache.get(AS_OF, {})
    wage = {"income": {"wage": "90000.00"}}
    requests = [
        DecisionRequest(AS_OF, [_household("A1", **wage)], {}),
        DecisionRequest(
            AS_OF,
            [_household("B1", **wage), _household("B2", 工资收入="90000.00")],
            {},
        ),
    ]
    evaluator = Evaluator()

    together = evaluator.decide_requests(warm, AS_OF, requests)
    alone = [evaluator.decide_requests(warm, AS_OF, [r])[0] for r in requests]

    assert together[0] == alone[0]
    assert str(together[0][0]["income_per_capita"]) == "7500.00"
    refusal, lone = together[1], alone[1]
    assert getattr(refusal, "status", None) == 422
    assert [(d.code, d.location.cell) for d in refusal.diagnostics] == [
        ("E603", '$.households[1].members[0]["工资收入"]')
    ]
    assert [d.message for d in refusal.diagnostics] == [
        d.message for d in lone.diagnostics
    ]
