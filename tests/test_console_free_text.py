"""The console's save changes only the cells the user edited.

Every other cell goes back as it was read: full-width punctuation in notes and sources,
spaces and line breaks, number-like text (``1.10``), dates typed as text; a province
CSV keeps the encoding and line endings Excel or WPS saved it with.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from compiler.read import read_workbook
from console import grids
from console.sheets import read_sheets, write_csv_folder, write_xlsx
from tests.test_console import ADMIN, MAINTAINER, button, env, page, shown, start  # noqa: F401
from tests.workbooks import csv_text
from tests.workbooks import write_xlsx as write_test_xlsx

NOTE = "本县（市、区）属第1档；见：杭民发〔2025〕3号。"
SOURCE = "《意见》（浙江省人民政府办公厅转发，2025-02-24）"
ROWS = [
    ["标识", "值", "生效日期", "失效日期", "来源", "备注"],
    ["dibao_standard", "1301", "2025-01-23", None, SOURCE, NOTE],
    ["minimum_wage", 2490, "2024-01-01", "2025-12-31", " 前有空格", "第一行\n第二行（续）"],
    ["consumption_per_capita", "1.10", "2024-01-01", None, "123456789012.123456", "1.0"],
]


def stored(path: Path) -> dict[tuple[str, str], object]:
    """Every cell of a workbook as the file stores it, by sheet and A1 reference."""
    book, _ = read_workbook(path)
    return {(s.name, c.ref): c.value for s in book.sheets for c in s.cells.values()}


def edit(grid: grids.Grid, row: int, column: str, value: str) -> pd.DataFrame:
    """The grid's frame with one cell changed, as the editor hands it back."""
    frame = grid.frame.copy()
    frame.at[row, column] = value
    return frame


def test_one_grid_edit_changes_one_cell_of_the_workbook(tmp_path: Path) -> None:
    source = write_test_xlsx(tmp_path / "330106-西湖区.xlsx", {"标准参数": ROWS, "说明": [["说明（一）"]]})
    sheets, _ = read_sheets(source)
    grid = grids.to_grid(sheets[0])
    assert grid.frame.at[0, "来源"] == SOURCE  # the grid shows what the admin typed
    sheets[0] = grids.from_grid(grid, edit(grid, 0, "值", "1400"))
    saved = write_xlsx(tmp_path / "draft.xlsx", sheets)
    before, after = stored(source), stored(saved)
    changed = {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)}
    assert changed == {("标准参数", "B2")} and after["标准参数", "B2"] == 1400


def test_number_like_text_keeps_its_digits(tmp_path: Path) -> None:
    source = write_test_xlsx(tmp_path / "t.xlsx", {"标准参数": ROWS})
    sheets, _ = read_sheets(source)
    saved = stored(write_xlsx(tmp_path / "again.xlsx", sheets))
    assert saved["标准参数", "B4"] == "1.10" and saved["标准参数", "F4"] == "1.0"
    assert saved["标准参数", "E4"] == "123456789012.123456"
    assert saved["标准参数", "B3"] == 2490  # a number stays a number


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8-sig", b"\xef\xbb\xbf"), ("gb18030", b"")])
def test_a_province_csv_rewrite_changes_only_the_edited_line(
    tmp_path: Path, encoding: str, bom: bytes
) -> None:
    """As Excel (UTF-8 with BOM, CRLF) or WPS (GB18030) saved it."""
    folder = tmp_path / "province"
    folder.mkdir()
    original = csv_text(ROWS).encode(encoding)
    (folder / "标准参数.csv").write_bytes(original)
    sheets, _ = read_sheets(folder)
    grid = grids.to_grid(sheets[0])
    write_csv_folder(folder, [grids.from_grid(grid, edit(grid, 2, "值", "2"))], prune=False)
    written = (folder / "标准参数.csv").read_bytes()
    assert written.startswith(bom) and written.count(b"\r\n") == original.count(b"\r\n")
    lines = zip(original.split(b"\r\n"), written.split(b"\r\n"), strict=True)
    assert [n for n, (a, b) in enumerate(lines) if a != b] == [3]


# ---------------------------------------------------------------- in the console


def test_an_admins_edit_keeps_every_other_note_as_typed(env: dict[str, Path]) -> None:  # noqa: F811
    county = env["tables"] / "counties" / "330106-西湖区.xlsx"
    write_test_xlsx(county, {"标准参数": ROWS[:2]})
    at = page(start(ADMIN), "standards")
    editor = at.data_editor[0]
    assert editor.value.loc[0, "来源"] == SOURCE
    at.session_state[editor.key] = {"edited_rows": {0: {"值": "1400"}}, "added_rows": [],
                                    "deleted_rows": []}
    at.run()
    assert not at.exception and "已保存" in shown(at)
    draft = next((env["state"] / "drafts" / "330106").glob("*/tables/counties/*.xlsx"))
    before, after = stored(county), stored(draft)
    assert after["标准参数", "E2"] == SOURCE and after["标准参数", "F2"] == NOTE
    assert {k for k in before if before[k] != after.get(k)} == {("标准参数", "B2")}


def test_a_maintainers_edit_changes_one_line_of_the_province_csv(env: dict[str, Path]) -> None:  # noqa: F811
    province = env["tables"] / "province" / "标准参数.csv"
    rows = province.read_bytes().split(b"\r\n")
    rows[1] = rows[1].replace(b"zjol", "《意见》（转发，2025-02-24）".encode())
    province.write_bytes(b"\r\n".join(rows))
    at = page(start(MAINTAINER), "province")
    at.selectbox(key="province_sheet").set_value("标准参数")
    at.run()
    editor = at.data_editor[0]
    row = list(editor.value["标识"]).index("marginal_multiplier")
    at.session_state[editor.key] = {"edited_rows": {row: {"值": "1.6"}}, "added_rows": [],
                                    "deleted_rows": []}
    at.run()
    button(at, "检查全部县").click()
    at.run()
    assert not at.exception and "已应用" in shown(at)
    after = province.read_bytes().split(b"\r\n")
    assert [n for n, (a, b) in enumerate(zip(rows, after, strict=True)) if a != b] == [2]
