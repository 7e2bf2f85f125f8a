"""Text longer than an .xlsx cell holds (32,767 characters) is refused with E012 at its
sheet and cell wherever the console writes a workbook, never cut (helper-132)."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.sheets import Sheet, read_sheets, write_xlsx
from tests.tables_fixture import county_sheets
from tests.test_console import ADMIN, env, page, shown, start  # noqa: F401
from tests.workbooks import rewrite_member
from tests.workbooks import write_xlsx as write_test_xlsx

LONG = "长" * 40_000


def test_writing_a_cell_longer_than_an_xlsx_holds_is_refused_not_cut(tmp_path: Path) -> None:
    """openpyxl cut the text to 32,767 characters without a word."""
    target = tmp_path / "draft.xlsx"
    sheet = Sheet("标准参数", [["标识", "值", "来源"], ["dibao_standard", "1301", LONG]])
    with pytest.raises(ValueError) as refused:  # console.sheets.CellTooLong
        write_xlsx(target, [sheet])
    [problem] = refused.value.diagnostics  # type: ignore[attr-defined]
    assert (problem.code, problem.location.sheet, problem.location.cell) == ("E012", "标准参数", "C2")
    assert problem.found.startswith("40000 个字符")
    assert not target.exists()  # nothing written, not a shortened copy


def test_a_cell_of_exactly_the_limit_is_written_whole(tmp_path: Path) -> None:
    target = write_xlsx(tmp_path / "draft.xlsx", [Sheet("标准参数", [["来源"], ["长" * 32_767]])])
    assert read_sheets(target)[0][0].rows[1][0] == "长" * 32_767


@pytest.mark.usefixtures("env")
def test_an_uploaded_workbook_with_a_longer_cell_is_refused_and_the_copy_kept(
    env: dict[str, Path], tmp_path: Path  # noqa: F811
) -> None:
    """An .xlsx holding 40,000 characters in one cell (written past Excel's limit by
    another program): E012 at the sheet and cell, the working copy unchanged."""
    sheets = county_sheets()
    sheets["标准参数"][1][4] = "LONGMARK"
    upload = write_test_xlsx(tmp_path / "330106-西湖区.xlsx", sheets)
    rewrite_member(upload, "xl/sharedStrings.xml", lambda x: x.replace("LONGMARK", LONG))
    at = page(start(ADMIN), "standards")
    workbook = next((env["state"] / "drafts").glob("330106/xihu/tables/counties/*.xlsx"))
    before = workbook.read_bytes()
    at.file_uploader[0].upload("330106-西湖区.xlsx", Path(upload).read_bytes())
    at.run()
    assert not at.exception
    text = shown(at)
    assert "E012" in text and "「标准参数」E2" in text and "40000 个字符" in text, text
    assert "工作副本未改动" in text and "已用上传的" not in text
    assert workbook.read_bytes() == before
