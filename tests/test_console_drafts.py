"""Drafts, sheets and grids without Streamlit: what survives, what is refused, what is kept."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from console import drafts, grids, users
from console.config import Settings
from console.sheets import Sheet, read_sheets, write_xlsx
from tests.tables_fixture import write_tables


@pytest.fixture
def config(tmp_path: Path) -> Settings:
    tables = write_tables(tmp_path)
    return Settings(tables, tmp_path / "state", tmp_path / "state" / "users.yaml",
                    tmp_path / "registry" / "r.duckdb", tmp_path / "h.jsonl", date(2025, 6, 1))


def test_a_new_draft_copies_the_county_workbook_and_keeps_its_cells(config: Settings) -> None:
    draft = drafts.open_draft(config, "330106", "xihu")
    assert draft.base == 0 and draft.started_from == "tables"
    sheet = drafts.load_sheets(draft)[0]
    assert sheet.rows[1][:2] == ["dibao_standard", "1301"]
    assert (draft.root / "province" / "household_group.csv").exists()


def test_a_save_from_an_older_revision_is_refused(config: Settings) -> None:
    draft = drafts.open_draft(config, "330106", "xihu")
    sheets = drafts.load_sheets(draft)
    drafts.save_sheets(draft, sheets, "xihu", draft.revision)
    with pytest.raises(drafts.StaleDraft):
        drafts.save_sheets(draft, sheets, "xihu", draft.revision)  # the other tab's revision


def test_two_sessions_saving_at_once_do_not_both_succeed(
    config: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both were told 「已保存」 and one edit was lost: the revision was checked, then
    written, with nothing between (helper-39). The write is slowed to open the window."""
    import threading
    import time

    draft = drafts.open_draft(config, "330106", "xihu")
    sheets = drafts.load_sheets(draft)
    slow = drafts.write_xlsx

    def write(*args: object) -> None:
        time.sleep(0.3)
        slow(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(drafts, "write_xlsx", write)
    start, outcomes = threading.Barrier(2), []

    def save() -> None:
        start.wait()
        try:
            drafts.save_sheets(draft, sheets, "xihu", draft.revision)
            outcomes.append("saved")
        except drafts.StaleDraft:
            outcomes.append("stale")

    threads = [threading.Thread(target=save) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["saved", "stale"]
    assert drafts.reload(draft).revision == draft.revision + 1


def test_a_draft_starts_from_the_latest_published_version(config: Settings) -> None:
    from compiler.registry_publish import publish

    first = drafts.open_draft(config, "330106", "xihu")
    version = publish(first.root, "330106", date(2025, 6, 1), "v1", "xihu", 0, config.registry, None)
    again = drafts.start_draft(config, "330106", "other")
    assert again.base == version.number == 1 and again.started_from == "330106@1"
    assert "1301" in str(drafts.load_sheets(again)[0].rows)


def test_a_draft_from_an_exported_version_shows_one_type_column(config: Settings) -> None:
    from compiler.registry_publish import publish
    from console import workspace

    first = drafts.open_draft(config, "330106", "xihu")
    publish(first.root, "330106", date(2025, 6, 1), "v1", "xihu", 0, config.registry, None)
    draft = drafts.start_draft(config, "330106", "other")  # the exported workbook
    sheet = next(s for s in drafts.load_sheets(draft) if s.name == "标准参数")
    project = workspace.check(draft.root, "330106", date(2025, 6, 1), analysis=False).project
    assert project is not None
    province = {s.id: s for s in project.tables.province.standards}
    grid = grids.to_grid(sheet, province, {}, {})
    names = list(grid.frame.columns)
    assert names.count("类型") == 1 and not [n for n in names if n.startswith("类型′")]
    assert "类型" not in grid.helpers and "类型" in grid.columns  # the workbook's own, editable
    assert grids.from_grid(grid, grid.frame).rows == sheet.rows  # an unedited grid saves nothing new


def test_an_unchanged_parent_keeps_its_timestamp(config: Settings) -> None:
    draft = drafts.open_draft(config, "330106", "xihu")
    copy = draft.root / "province" / "标准参数.csv"
    before = copy.stat().st_mtime_ns
    drafts.sync_parents(config, draft)
    assert copy.stat().st_mtime_ns == before


def test_grid_round_trip_keeps_dates_and_text(tmp_path: Path) -> None:
    sheet = Sheet("标准参数", [["标识", "值", "生效日期", "失效日期"],
                           ["dibao_standard", "1,301元", date(2025, 1, 23), None],
                           ["dibao_standard", "1400", "2026-01-01", None]])
    grid = grids.to_grid(sheet)
    assert grid.date_columns == ["生效日期", "失效日期"]
    back = grids.from_grid(grid, grid.frame)
    assert grids.same_rows(back, sheet)
    path = write_xlsx(tmp_path / "w.xlsx", [back])
    read, problems = read_sheets(path)
    assert not problems and read[0].rows[1][:3] == ["dibao_standard", "1,301元", date(2025, 1, 23)]


def test_a_diagnostic_is_placed_on_its_grid_row_and_column() -> None:
    from compiler.diagnostics import Location, make

    sheet = Sheet("标准参数", [["标识", "值"], ["dibao_standard", "一千三"]])
    found = make("E104", "无法读作金额", Location("x.xlsx", "标准参数", "B2"))
    assert grids.place(found, grids.to_grid(sheet)) == "「标准参数」第 1 行「值」（B2）"


def test_users_refuse_short_passwords_and_unknown_roles(tmp_path: Path) -> None:
    path = tmp_path / "users.yaml"
    with pytest.raises(users.UserError, match="至少"):
        users.add_user(path, "a1", users.REVIEWER, "short")
    with pytest.raises(users.UserError, match="角色"):
        users.add_user(path, "a1", "mayor", "long-enough")
    users.add_user(path, "a1", users.REVIEWER, "long-enough")
    assert users.authenticate(path, "a1", "long-enough") == users.User("a1", users.REVIEWER)
    assert users.authenticate(path, "nobody", "long-enough") is None


def test_a_base_marker_beside_the_workbook_keeps_the_county_name(config: Settings) -> None:
    (config.tables / "counties" / "330106.base.json").write_text("{}", encoding="utf-8")
    (config.tables / "counties" / "330199.base.json").write_text("{}", encoding="utf-8")
    names = drafts.county_names(config.tables)
    assert names["330106"] == "西湖区" and "330199" not in names


def test_an_unknown_name_costs_a_sign_in_as_much_as_a_known_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown name runs one bcrypt check against a hash of the same rounds as a real
    one, so the time of a failed sign-in does not tell whether the name exists. (Checked
    by what runs, not by timing it: the tests time nothing.)"""
    path = tmp_path / "users.yaml"
    users.add_user(path, "a1", users.REVIEWER, "long-enough")
    stored = users._read(path)["a1"]["password"]
    assert users._dummy()[:7] == stored.encode()[:7]  # $2b$12$: the same rounds
    checked: list[bytes] = []
    real = users.bcrypt.checkpw

    def counting(password: bytes, digest: bytes) -> bool:
        checked.append(digest)
        return real(password, digest)

    monkeypatch.setattr(users.bcrypt, "checkpw", counting)
    assert users.authenticate(path, "nobody", "wrong-password") is None
    assert users.authenticate(path, "a1", "wrong-password") is None
    assert checked == [users._dummy(), stored.encode()]


def test_a_save_keeps_the_merged_cells_of_the_notes_sheet(config: Settings) -> None:
    """A draft started from a published version (written by the export, merges kept)
    lost 说明's merged title at its first save: write_xlsx wrote the rows only."""
    import openpyxl

    from compiler.registry_publish import publish
    from tests.tables_fixture import COUNTY_FILE, county_sheets
    from tests.test_export_merges import MERGES, NOTES
    from tests.workbooks import write_xlsx as write_fixture

    workbook = config.tables / "counties" / f"{COUNTY_FILE}.xlsx"
    write_fixture(workbook, {**county_sheets(), "说明": NOTES}, merged={"说明": MERGES})
    first = drafts.open_draft(config, "330106", "xihu")
    publish(first.root, "330106", date(2025, 6, 1), "v1", "xihu", 0, config.registry, None)
    draft = drafts.start_draft(config, "330106", "other")  # from 330106@1, exported
    sheets = drafts.load_sheets(draft)
    next(s for s in sheets if s.name == "标准参数").rows[1][1] = "1400"
    saved = drafts.save_sheets(draft, sheets, "other", draft.revision)
    notes = openpyxl.load_workbook(saved.workbook)["说明"]
    assert sorted(str(r) for r in notes.merged_cells.ranges) == sorted(MERGES)
    assert notes["A1"].value == NOTES[0][0] and notes["D2"].value == "区民政局"
    again, problems = read_sheets(saved.workbook)
    assert sorted(next(s for s in again if s.name == "说明").merged) == sorted(MERGES)
    assert not [d for d in problems if d.code in ("E006", "W003")]


def test_a_merge_in_a_table_survives_a_grid_save_so_its_error_stays(tmp_path: Path) -> None:
    """Unmerged at the save, the covered condition cells would turn blank, which in a
    decision table means "any value"; kept, the reader's E006 still asks for a fix.
    A merge over a cell the admin has typed in is dropped, as the export drops it."""
    table = [["t", "表", "UNIQUE"], ["规则", "输入", "输出"], ["名称", "x", "y"],
             ["r1", "< 5", "1"], ["r2", None, "2"], ["r3", "> 9", None]]
    path = write_xlsx(tmp_path / "book.xlsx", [Sheet("t", table, ["B4:B5", "C5:C6"])])
    [sheet], problems = read_sheets(path)
    assert sorted(sheet.merged) == ["B4:B5", "C5:C6"] and [d.code for d in problems] == ["E006", "E006"]
    grid = grids.to_grid(sheet, None, {}, {})
    edited = grid.frame.copy()
    edited.iloc[-1, list(edited.columns).index(grid.columns[2])] = "3"  # typed in C6, under C5
    changed = grids.from_grid(grid, edited)
    kept, problems = read_sheets(write_xlsx(tmp_path / "saved.xlsx", [changed]))
    assert kept[0].merged == ["B4:B5"] and [d.location.cell for d in problems] == ["B4"]
