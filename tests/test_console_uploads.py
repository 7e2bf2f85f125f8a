"""Uploads on 标准与规则 and 样本预览: what is refused with the working copy untouched,
where household files are kept (private to the console's account) and how a user
deletes them (helper-51)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from tests.test_console import ADMIN, button, env, frames, page, shown, start  # noqa: F401
from tests.test_console_messages import no_server_text
from tests.workbooks import write_xlsx

pytestmark = pytest.mark.usefixtures("env")  # tables, users, registry: tests/test_console.py


def draft_rows(env: dict[str, Path]) -> list[list[object]]:  # noqa: F811
    from console.sheets import read_sheets

    workbook = next((env["state"] / "drafts" / "330106" / "xihu" / "tables" / "counties").glob("*.xlsx"))
    return next(s for s in read_sheets(workbook)[0] if s.name == "标准参数").rows


def upload_sheet(name: str, data: bytes, env: dict[str, Path]) -> tuple[str, list[list[object]]]:  # noqa: F811
    """The page after an admin uploads ``name`` on 标准与规则; the 标准参数 rows before it."""
    at = page(start(ADMIN), "standards")
    before = draft_rows(env)
    at.file_uploader[0].upload(name, data)
    at.run()
    assert not at.exception, at.exception
    return shown(at), before


@pytest.mark.parametrize(("name", "data", "said"), [
    ("标准参数.csv", b"", "是空的，没有表头行"),
    ("标准参数.csv", b"\r\n\r\n", "是空的，没有表头行"),
    ("标准参数.csv", "标识,值,生效日期,失效日期,来源\n".encode(), "只有表头、没有数据行"),
    ("标准参数.csv", "标识,表达式\nx,1\n".encode(), "的表头与工作表「标准参数」的不同，缺少「值」「生效日期」"),
    ("派生值.csv", b"", "是空的，没有表头行"),  # a sheet the compiler reads, new to the draft
], ids=["zero-bytes", "blank-lines", "header-only", "another-sheets-header", "new-known-sheet"])
def test_an_empty_or_foreign_sheet_upload_is_refused_and_the_draft_kept(
    env: dict[str, Path], name: str, data: bytes, said: str  # noqa: F811
) -> None:
    """A 0-byte 标准参数.csv replaced the sheet with nothing and said 「已用上传的…替换」:
    every row, unpublished edits included, was gone."""
    text, before = upload_sheet(name, data, env)
    assert f"上传的「{name}」{said}" in text and "工作副本未改动" in text, text
    assert "已用上传的" not in text and draft_rows(env) == before
    no_server_text(text)


def test_a_csv_with_the_sheets_header_and_rows_still_replaces_it(env: dict[str, Path]) -> None:  # noqa: F811
    text, _ = upload_sheet(
        "标准参数.csv", "标识,值,生效日期,失效日期,来源\ndibao_standard,1500,2025-01-23,,市民政局\n".encode(), env)
    assert "已用上传的「标准参数.csv」替换工作表「标准参数」" in text
    assert draft_rows(env)[1][1] == "1500"


@pytest.mark.parametrize(("rows", "said"), [
    ([], "中的工作表「标准参数」是空的，没有表头行"),
    ([["标识", "值", "生效日期", "失效日期", "来源"]], "中的工作表「标准参数」只有表头、没有数据行"),
], ids=["empty-sheet", "header-only-sheet"])
def test_a_workbook_with_an_empty_standards_sheet_is_refused(
    env: dict[str, Path], tmp_path: Path, rows: list, said: str  # noqa: F811
) -> None:
    upload = write_xlsx(tmp_path / "330106-西湖区.xlsx", {"标准参数": rows, "说明": [["本县说明"]]})
    text, before = upload_sheet("330106-西湖区.xlsx", Path(upload).read_bytes(), env)
    assert f"上传的「330106-西湖区.xlsx」{said}" in text and "工作副本未改动" in text, text
    assert draft_rows(env) == before


# ---------------------------------------------------------------- household files


def households_jsonl(*ids: str) -> bytes:
    return "".join(json.dumps({
        "household_id": i, "county_code": "330106", "assets": {"money": "0"},
        "members": [{"person_id": f"{i}-1", "birth_date": "1950-01-01", "income": {"wage": "0"}}],
    }, ensure_ascii=False) + "\n" for i in ids).encode()


def test_uploaded_household_files_are_private_to_the_console(env: dict[str, Path]) -> None:  # noqa: F811
    """They were 0755/0644 under .jiuzhu/uploads/, beside 0600 drafts and users.yaml."""
    uploads = env["state"] / "uploads"
    uploads.mkdir(parents=True, mode=0o755)  # as an older console left it
    at = page(start(ADMIN), "preview")
    at.file_uploader(key="households_upload").upload("mine.jsonl", households_jsonl("U1"))
    at.run()
    assert not at.exception and "U1" in frames(at)
    folder = uploads / "330106" / "xihu"
    for level in (uploads, uploads / "330106", folder):
        assert stat.S_IMODE(level.stat().st_mode) == 0o700, level
    assert [(p.name, stat.S_IMODE(p.stat().st_mode)) for p in folder.iterdir()] == [("mine.jsonl", 0o600)]


def test_a_user_deletes_an_uploaded_household_file_after_confirming(env: dict[str, Path]) -> None:  # noqa: F811
    """Uploads were kept for ever, with no way to delete them."""
    from tests.test_console_messages import HOUSEHOLDS_CSV, MEMBERS_CSV

    at = page(start(ADMIN), "preview")
    at.file_uploader(key="households_upload").set_value(
        [("households.csv", HOUSEHOLDS_CSV, "text/csv"), ("members.csv", MEMBERS_CSV, "text/csv")])
    at.run()
    folder = env["state"] / "uploads" / "330106" / "xihu"
    assert sorted(p.name for p in folder.iterdir()) == ["households.csv", "members.csv"]
    assert at.selectbox(key="delete_choice").value == "上传：households.csv（含 members.csv）"
    assert at.button(key="delete_upload").disabled  # not before the confirmation
    at.checkbox(key="delete_sure-0").check()
    at.run()
    at.button(key="delete_upload").click()
    at.run()
    assert not at.exception
    assert "已删除 households.csv、members.csv" in shown(at)
    assert list(folder.iterdir()) == []
    assert at.selectbox(key="households_source").value.startswith("随附的样本家庭")
    assert not [s for s in at.selectbox if s.key == "delete_choice"]
    at.file_uploader(key="households_upload-1").upload("later.jsonl", households_jsonl("J1"))
    at.run()  # a new upload does not bring the deleted files back
    assert sorted(p.name for p in folder.iterdir()) == ["later.jsonl"]


def test_an_excel_workbook_uploaded_as_jsonl_is_one_message_saying_what_to_upload(
    env: dict[str, Path], tmp_path: Path  # noqa: F811
) -> None:
    """It gave one E605 「不是 UTF-8 编码的文本」 per line of the workbook's bytes."""
    book = write_xlsx(tmp_path / "hh.xlsx", {"家庭": [["household_id"], ["H1"]] * 40})
    at = page(start(ADMIN), "preview")
    at.file_uploader(key="households_upload").upload("households.jsonl", Path(book).read_bytes())
    at.run()
    assert not at.exception
    text = shown(at)
    assert text.count("E605") == 1 and "是 Excel 工作簿（.xlsx），不是 JSON 文本" in text, text
    assert "households.csv" in text and "members.csv" in text and "不是 UTF-8" not in text
    no_server_text(text)


def test_the_upload_limit_is_the_consoles_and_is_said_in_chinese() -> None:
    """Streamlit's default 200 MB per file stood, said only in English; the console's
    own config (read by streamlit run, tests/e2e checks it) sets a limit that still
    takes the largest file the preview decides (20,000 households, ~36 MB as JSONL)."""
    import tomllib

    config = Path(__file__).resolve().parents[1] / "console" / ".streamlit" / "config.toml"
    limit = tomllib.loads(config.read_text(encoding="utf-8"))["server"]["maxUploadSize"]
    assert 40 <= limit < 200
    at = page(start(ADMIN), "preview")
    for uploader in at.get("file_uploader"):
        enforced = uploader.proto.max_upload_size_mb
        assert f"每个文件不超过 {enforced} MB" in uploader.proto.help
        assert "无法改为中文" in uploader.proto.help
    assert f"每个文件不超过 {at.get('file_uploader')[0].proto.max_upload_size_mb} MB" in shown(at)
    page(at, "standards")
    uploaders = at.get("file_uploader")
    assert uploaders and all("每个文件不超过" in u.proto.help for u in uploaders)


@pytest.mark.parametrize(("page_name", "key"), [("preview", "households_upload"), ("standards", None)])
def test_an_uploader_takes_any_file_so_streamlit_refuses_none_in_english(
    page_name: str, key: str | None
) -> None:
    """With ``type`` set, an .xlsx on 样本预览 (or an .xls on 标准与规则) got
    Streamlit's English 「… files are not allowed」 (helper-65)."""
    at = page(start(ADMIN), page_name)
    uploader = at.file_uploader(key=key) if key else at.file_uploader[0]
    assert list(uploader.proto.type) == []


def test_an_excel_workbook_uploaded_for_households_says_to_save_it_as_csv(
    env: dict[str, Path], tmp_path: Path  # noqa: F811
) -> None:
    """Refused in Streamlit's English before; now not saved, with what to upload instead."""
    book = write_xlsx(tmp_path / "家庭.xlsx", {"家庭": [["household_id"], ["H1"]]})
    at = page(start(ADMIN), "preview")
    at.file_uploader(key="households_upload").upload("家庭.xlsx", Path(book).read_bytes())
    at.run()
    assert not at.exception, at.exception
    text = shown(at)
    assert "「家庭.xlsx」是 Excel 工作簿，样本预览不直接读取，没有保存" in text, text
    assert "CSV UTF-8" in text and "households.csv" in text and "members.csv" in text
    assert "not allowed" not in text
    assert not list((env["state"] / "uploads" / "330106" / "xihu").iterdir())
    no_server_text(text)


def test_an_old_xls_workbook_on_standards_is_refused_in_chinese(env: dict[str, Path]) -> None:  # noqa: F811
    text, before = upload_sheet("330106-西湖区.xls", b"\xd0\xcf\x11\xe0" + b"\0" * 60, env)
    assert "上传的「330106-西湖区.xls」不是 .xlsx 工作簿" in text and "工作副本未改动" in text, text
    assert draft_rows(env) == before
