"""What the console says about bad input and risky steps: in Chinese, naming the file by
the name the user gave it and the cell as the 标准与规则 grid shows it, never a path on
the server or an English exception name."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from console.config import settings
from tests.test_console import ADMIN, edit_grid, env, page, shown, start  # noqa: F401
from tests.workbooks import write_xlsx

ENGLISH = ("BadZipFile", "KeyError", "Error", "Traceback")
pytestmark = pytest.mark.usefixtures("env")  # tables, users, registry: tests/test_console.py


def no_server_text(text: str) -> None:
    """No absolute path of this test's folders, no scratch folder, no exception name."""
    config = settings()
    for root in (config.tables.parent, config.state):
        assert str(root) not in text
    assert "/tmp" not in text and not any(word in text for word in ENGLISH), text


def workbook_bytes(tmp_path: Path) -> bytes:
    path = tmp_path / "book.xlsx"
    write_xlsx(path, {"标准参数": [["标识", "值"], ["dibao_standard", "1500"]] + [["x"] * 30] * 60})
    return path.read_bytes()


def upload(at: AppTest, name: str, data: bytes) -> str:
    at.file_uploader[0].upload(name, data)
    at.run()
    assert not at.exception, at.exception
    return shown(at)


def test_a_truncated_workbook_upload_says_it_is_incomplete(tmp_path: Path) -> None:
    at = page(start(ADMIN), "standards")
    text = upload(at, "truncated.xlsx", workbook_bytes(tmp_path)[:3000])
    assert "truncated.xlsx：工作簿文件已损坏" in text and "不完整" in text and "工作副本未改动" in text
    no_server_text(text)


def test_a_zip_without_a_workbook_upload_says_what_it_holds() -> None:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("word/document.xml", "<document/>")
    at = page(start(ADMIN), "standards")
    text = upload(at, "notabook.xlsx", archive.getvalue())
    assert "notabook.xlsx" in text and "缺少工作簿组成部分" in text
    no_server_text(text)


@pytest.mark.parametrize("name", ["标准参数.csv", "other.csv"])
def test_a_workbook_renamed_csv_says_to_rename_it_or_save_as_csv(
        tmp_path: Path, name: str) -> None:
    at = page(start(ADMIN), "standards")
    text = upload(at, name, workbook_bytes(tmp_path))
    assert name in text and "内容却是 Excel 工作簿" in text
    assert "应为CSV 文本文件" in text and "改回 .xlsx" in text and "另存为 CSV" in text
    no_server_text(text)


def test_the_analysis_page_places_an_error_as_the_standards_grid_does() -> None:
    at = edit_grid(page(start(ADMIN), "standards"), {0: {"值": "一千三"}})
    assert "「标准参数」第 1 行「值」（B2）" in shown(at)
    text = shown(page(at, "analysis"))
    assert "分析无法进行" in text and "E104" in text
    assert "「标准参数」第 1 行「值」（B2）：" in text
    no_server_text(text)


def test_the_analysis_page_names_a_province_table_and_its_row() -> None:
    from tests.tables_fixture import province_sheets, write_tables

    sheets = province_sheets()
    sheets["household_group"].append(["again", "< 低保标准", "< 4 * 12 * 低保标准", "dibao", "三(一)"])
    write_tables(settings().tables.parent, province=sheets)
    at = page(start(ADMIN), "analysis")
    text = shown(at) + "\n".join(e.label for e in at.expander)
    assert "W501 · 省级工作簿「household_group」第 " in text
    no_server_text(text)


HOUSEHOLDS_CSV = b"household_id,county_code,assets.money\nC1,330106,0\n"
MEMBERS_CSV = b"household_id,person_id,birth_date,income.wage\nC1,C1-1,1950-01-01,0\n"


def households_upload(files: list[tuple[str, bytes]]) -> AppTest:
    at = page(start(ADMIN), "preview")
    at.file_uploader(key="households_upload").set_value([(n, d, "text/csv") for n, d in files])
    at.run()
    assert not at.exception, at.exception
    return at


def test_households_and_members_csv_uploaded_together_are_previewed() -> None:
    from tests.test_console import frames

    at = households_upload([("households.csv", HOUSEHOLDS_CSV), ("members.csv", MEMBERS_CSV)])
    assert at.selectbox(key="households_source").value == "上传：households.csv（含 members.csv）"
    assert "C1" in frames(at) and "家庭 C1" in shown(at)
    assert not at.error


def test_a_zip_of_the_csv_files_is_unpacked_and_previewed() -> None:
    from tests.test_console import frames

    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("data/2025-households.csv", HOUSEHOLDS_CSV)
        out.writestr("data/2025-members.csv", MEMBERS_CSV)
    at = households_upload([("data.zip", archive.getvalue())])
    assert at.selectbox(key="households_source").value == "上传：2025-households.csv（含 2025-members.csv）"
    assert "C1" in frames(at) and not at.error


def test_unicode_text_files_from_excel_are_uploaded_and_previewed() -> None:
    """Excel's 「Unicode 文本」 (UTF-16 with its BOM, tab-separated, saved as .txt) is read
    by evaluate; the uploader refused the extension."""
    from tests.test_console import frames

    def unicode_text(csv: bytes) -> bytes:
        return csv.decode().replace(",", "\t").replace("\n", "\r\n").encode("utf-16")

    at = households_upload([("households.txt", unicode_text(HOUSEHOLDS_CSV)),
                            ("members.txt", unicode_text(MEMBERS_CSV))])
    assert at.selectbox(key="households_source").value == "上传：households.txt（含 members.txt）"
    assert "C1" in frames(at) and "家庭 C1" in shown(at)
    assert not at.error


@pytest.mark.parametrize(("name", "data", "said"), [
    ("households.csv", HOUSEHOLDS_CSV, "「households.csv」是家庭文件，还缺成员文件「members.csv」"),
    ("x-members.csv", MEMBERS_CSV, "「x-members.csv」须与家庭文件「x-households.csv」一同使用"),
], ids=["households-alone", "members-alone"])
def test_one_of_the_csv_pair_alone_says_which_file_to_add(name: str, data: bytes, said: str) -> None:
    at = households_upload([(name, data)])
    text = shown(at)
    assert said in text and ".zip" in text
    no_server_text(text)


def test_the_publish_review_warns_that_a_later_dated_version_will_replace_this_one() -> None:
    from tests.test_console import button, publish, set_dibao

    at = publish(start(ADMIN), "七月起的标准", effective="2025-07-01")
    button(at, "确认发布").click()
    at.run()
    assert "已发布 330106@1" in shown(at)
    set_dibao(at, "1700")
    publish(at, "八月起提高低保标准", effective="2025-08-01")  # dated after @1: nothing to say
    assert "W701" not in shown(at) and [b for b in at.button if b.key == "publish_confirm"]
    publish(at, "六月起提高低保标准", effective="2025-06-01")
    text = shown(at)
    assert "W701" in text and "330106@2 自 2025-06-01 起生效，只适用到 2025-06-30" in text
    assert "330106@1 自 2025-07-01 起生效，届时取代本版" in text
    assert [w for w in at.warning if "W701" in w.value]
    assert [b for b in at.button if b.key == "publish_confirm"]  # a warning: the admin decides


def test_a_page_opened_by_its_url_while_signed_out_asks_to_sign_in_then_shows_itself() -> None:
    from tests.test_console import button

    at = start(None)
    at.switch_page("views/history.py")  # a bookmark, or a reload: a new session, signed out
    at.run()
    assert not at.exception and at.text_input(key="signin_name")
    at.text_input(key="signin_name").input("xihu")
    at.text_input(key="signin_password").input("xihu-password")
    button(at, "登录").click()
    at.run()
    assert not at.exception
    assert "历史与对比" in [t.value for t in at.title]


def test_a_page_of_another_role_opened_by_its_url_refuses_in_chinese() -> None:
    at = page(start(ADMIN), "province")
    assert "只有省级维护人员" in shown(at) and not at.data_editor


def test_entitlements_and_monitoring_are_shown_by_their_chinese_names() -> None:
    """The preview and the diff listed medical_assistance and none → low_income (helper-39);
    an entitlement a county adds keeps its identifier."""
    from console.ui import entitlements_cn, monitoring_cn

    assert entitlements_cn(["medical_assistance", "yulu_subsidy", "county_bonus"]) == "医疗救助、雨露计划、county_bonus"
    assert [monitoring_cn(s) for s in ("low_income", "other_monitored", "none", None)] == [
        "低收入人口", "其他监测对象", "不监测", "不监测"
    ]
