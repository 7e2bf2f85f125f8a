"""The canonical YAML of a rulebook: stable, readable, and a faithful round trip."""

from __future__ import annotations

import dataclasses
import difflib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from compiler.bind import bind
from compiler.canonical import (
    CanonicalError,
    dump_rulebook,
    dump_workbook,
    load_rulebook,
    load_workbook_yaml,
)
from compiler.diagnostics import Report
from compiler.engine import open_project
from compiler.expr import Literal, parse_tests
from compiler.model import WorkbookKind
from compiler.resolve import load_tables
from compiler.sqlgen import compile_plan
from tests.test_registry import (
    COUNTY,
    decide,
    household,
    set_county_standards,
    write_rulebook,
)

AS_OF = date(2025, 8, 1)


@pytest.fixture
def tables(tmp_path: Path) -> Path:
    return write_rulebook(tmp_path / "tables")


def rulebook(tables: Path):  # type: ignore[no-untyped-def]
    project = open_project(tables, [COUNTY], AS_OF)
    assert not project.report.has_errors, project.report.errors
    return project.plan(COUNTY)


def test_the_yaml_round_trips_exactly(tables):
    text = dump_rulebook(rulebook(tables).rulebook)
    assert dump_rulebook(load_rulebook(text)) == text


def test_field_bounds_are_kept_and_left_out_where_unset() -> None:
    tables = Path(__file__).resolve().parents[1] / "tables"
    book = open_project(tables, [COUNTY], AS_OF).plan(COUNTY).rulebook
    text = dump_rulebook(book)

    fields = yaml.safe_load(text)["fields"]
    grade = fields["disability_grade"]
    assert (grade["lower"], grade["upper"]) == (1, 4)
    assert fields["assets.money"]["lower"] == "0.00"
    assert "lower" not in fields["income.business"]  # a net income may be negative
    rebuilt = load_rulebook(text).fields
    assert (rebuilt["disability_grade"].upper, rebuilt["assets.money"].lower) == (
        4,
        Decimal(0),
    )


def test_the_yaml_is_keyed_by_stable_identifiers_with_every_dated_row_and_its_layer(
    tables,
):
    document = yaml.safe_load(dump_rulebook(rulebook(tables).rulebook))
    assert list(document)[:4] == ["format", "kind", "county", "name"]
    rows = document["standards"]["dibao_standard"]["rows"]
    assert [(r["layer"], r["value"], r["from"]) for r in rows] == [
        ("county", "1301.00", date(2025, 1, 1)),
        ("province", "1149.00", date(2024, 1, 1)),
    ]
    assert (
        rows[1]["unit"] == "元/人/月"
        and rows[1]["source"] == "浙民发"
        and rows[1]["verified"] is True
    )
    rule = document["tables"]["household_group"]["rules"]["marginal"]
    assert rule["when"] == {
        "income_per_capita": "[低保标准..边缘标准)",
        "assets.money": "< 6 * 12 * 低保标准",
    }
    assert rule["then"] == {"group": "dibao_marginal"} and rule["annotation"] == "二"
    assert document["sources"] == {
        "county": "counties/330106-西湖区",
        "province": "province",
    }


def test_the_rebuilt_rulebook_binds_and_decides_like_the_original(tables):
    plan = rulebook(tables)
    report = Report()
    rebuilt = bind(load_rulebook(dump_rulebook(plan.rulebook)), report)
    assert not report.items
    for data in (
        household("H1", "15000"),
        household("H2", "16200"),
        household("H3", "30000"),
        household("H4", "1000", money="900000"),
    ):
        original, copy = decide(plan, AS_OF, data), decide(rebuilt, AS_OF, data)
        for item in (
            "group",
            "entitlements",
            "income_per_capita",
            "marginal_line",
            "dibao_standard",
        ):
            assert copy[item] == original[item], (data["household_id"], item)


def test_the_rebuilt_rulebook_compiles_to_the_same_sql_but_for_paths(tables):
    plan = rulebook(tables)
    rebuilt = bind(load_rulebook(dump_rulebook(plan.rulebook)), Report())
    original = compile_plan(plan).sql.replace(f"{tables}/", "")
    assert compile_plan(rebuilt).sql == original


def test_changing_one_standard_changes_one_line(tables):
    before = dump_rulebook(rulebook(tables).rulebook).splitlines()
    set_county_standards(
        tables, [["dibao_standard", "1350", "2025-01-01", None, "杭民发"]]
    )
    after = dump_rulebook(rulebook(tables).rulebook).splitlines()
    changed = [
        line
        for line in difflib.unified_diff(before, after, lineterm="", n=0)
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert changed == ["-      value: '1301.00'", "+      value: '1350.00'"]


def test_moving_a_rule_moves_its_block_keyed_by_its_id(tables):
    from tests.test_registry import GROUP_TABLE

    swapped = [*GROUP_TABLE[:5], GROUP_TABLE[6], GROUP_TABLE[5]]
    set_county_standards(
        tables,
        [["dibao_standard", "1301", "2025-01-01", None, "杭民发"]],
        {"household_group": swapped},
    )
    document = yaml.safe_load(dump_rulebook(rulebook(tables).rulebook))
    assert list(document["tables"]["household_group"]["rules"]) == ["marginal", "dibao"]
    assert document["tables"]["household_group"]["layer"] == "county"


def test_a_cell_whose_text_does_not_rebuild_it_is_written_canonically(tables):
    plan = rulebook(tables)
    book = plan.rulebook
    table = book.tables["household_group"]
    rule = table.rules[0]
    odd = dataclasses.replace(
        rule,
        test_texts=["<低保标准 (typed oddly)", rule.test_texts[1]],
        outputs=[Literal('say "hi"')],
        output_texts=["lost"],
    )
    book.tables["household_group"] = dataclasses.replace(
        table, rules=[odd, *table.rules[1:]]
    )
    text = dump_rulebook(book)
    cells = yaml.safe_load(text)["tables"]["household_group"]["rules"]["dibao"]
    assert cells["when"]["income_per_capita"] == {"canonical": "< 低保标准"}
    assert cells["then"]["group"] == {"text": 'say "hi"'}
    rebuilt = load_rulebook(text).tables["household_group"].rules[0]
    assert rebuilt.tests[0] == parse_tests("< 低保标准")
    assert rebuilt.outputs == [Literal('say "hi"')]


def test_awkward_identifiers_and_values_survive(tables):
    awkward = [
        ["household_group", "家庭救助类别", "FIRST", "层级=家庭"],
        *[
            row
            for row in __import__("tests.test_registry", fromlist=["x"]).GROUP_TABLE[
                1:5
            ]
        ],
        ["no", "< 1,301.50元", "-", "dibao", "三(一)"],
        ["1", "null", "not(< 5, > 10)", "none", None],
        ["on", "[2..3]", "= 1", '"dibao"', "二"],
    ]
    extra = {"household_group": awkward}
    set_county_standards(
        tables, [["dibao_standard", "1301", "2025-01-01", None, "杭民发"]], extra
    )
    tables_model = load_tables(tables, Report())
    assert tables_model  # loads
    project = open_project(tables, [COUNTY], AS_OF)
    book = project.plan(COUNTY).rulebook
    text = dump_rulebook(book)
    rebuilt = load_rulebook(text)
    assert [r.id for r in rebuilt.tables["household_group"].rules] == ["no", "1", "on"]
    for a, b in zip(
        book.tables["household_group"].rules,
        rebuilt.tables["household_group"].rules,
        strict=True,
    ):
        assert (a.tests, a.outputs, a.annotation) == (b.tests, b.outputs, b.annotation)


def test_a_workbook_round_trips(tables):
    tables_model = load_tables(tables, Report())
    for workbook in (tables_model.province, tables_model.counties[COUNTY]):
        text = dump_workbook(workbook)
        back = load_workbook_yaml(text)
        assert back.kind is workbook.kind and dump_workbook(back) == text
    county = load_workbook_yaml(dump_workbook(tables_model.counties[COUNTY]))
    assert county.kind is WorkbookKind.COUNTY
    assert county.standards[0].rows[0].value == Decimal("1301.00")


def test_text_that_is_not_canonical_yaml_is_refused():
    with pytest.raises(CanonicalError):
        load_rulebook("just: text\n")
    with pytest.raises(CanonicalError):
        load_rulebook("{ not yaml")


def test_false_values_survive_the_canonical_form():
    """A field whose default is 否 and a standard set to 否 read back as False, not as
    missing (a missing default made every such field null in published versions)."""
    from datetime import date
    from pathlib import Path

    from compiler.canonical import dump_rulebook, load_rulebook
    from compiler.diagnostics import Report
    from compiler.resolve import load_tables, rulebook_for

    tables = load_tables(Path(__file__).resolve().parents[1] / "tables", Report())
    book = rulebook_for(tables, "330106", Report())
    back = load_rulebook(dump_rulebook(book))
    falses = [f for f in book.fields.values() if f.default is False]
    assert falses and all(back.fields[f.id].default is False for f in falses)
    day = date(2025, 6, 1)
    flags = [s for s in book.standards.values() if book.standard_value(s.id, day) is False]
    assert flags and all(back.standard_value(s.id, day) is False for s in flags)


def test_rulebooks_sharing_a_tables_text_share_the_loaded_tables(tables):
    """Loading ninety published versions parses and builds the province's tables once:
    the same text gives the same objects, a different standard does not leak across."""
    first = dump_rulebook(rulebook(tables).rulebook)
    set_county_standards(tables, [["dibao_standard", "1400", "2025-01-01", None, "杭民发"]])
    second = dump_rulebook(rulebook(tables).rulebook)
    a, b = load_rulebook(first), load_rulebook(second)
    assert a.tables and all(a.tables[t] is b.tables[t] for t in a.tables)
    assert a.standards["dibao_standard"].rows[0].value == Decimal("1301.00")
    assert b.standards["dibao_standard"].rows[0].value == Decimal("1400.00")


def test_yaml_laid_out_otherwise_is_read_whole_to_the_same_rulebook(tables):
    text = dump_rulebook(rulebook(tables).rulebook)
    document = yaml.safe_load(text)
    # the same document as another tool might write it: four-space indents, flow lists
    other = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, indent=4)
    flow = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, default_flow_style=True)
    assert other != text and flow != text
    assert load_rulebook(other) == load_rulebook(text) == load_rulebook(flow)
