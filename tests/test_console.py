"""The console, page by page, through Streamlit's AppTest (no browser).

Each test gets a small tables folder (tests/tables_fixture.py: one county, 330106, plus
a second, 330108, to test the limits between counties), five sample households whose
groups depend on the dibao standard, a users file and an empty registry, all under
tmp_path and named by the JIUZHU_* variables console.config reads.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from console.users import COUNTY_ADMIN, PROVINCE_MAINTAINER, REVIEWER, User, add_user
from tests.tables_fixture import county_sheets, write_tables
from tests.workbooks import write_xlsx

APP = str(Path(__file__).resolve().parents[1] / "console" / "app.py")
AS_OF = "2025-06-01"
# income per capita = wage / 12: H0 833, H1 1250 (dibao at 1301), H2 1666.67 (marginal
# at 1301: the line is 1.5 x 1301 = 1951.50; dibao once the standard is 1700), H3 2500
# (none; marginal at 1700, whose line is 2550), H4 5000 none
WAGES = [10000, 15000, 20000, 30000, 60000]
ADMIN = User("xihu", COUNTY_ADMIN, "330106")
OTHER_ADMIN = User("xihu2", COUNTY_ADMIN, "330106")
REVIEWER_USER = User("shenhe", REVIEWER)
MAINTAINER = User("sheng", PROVINCE_MAINTAINER)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    tables = write_tables(tmp_path)
    write_xlsx(tables / "counties" / "330108-滨江区.xlsx", county_sheets())
    samples = tmp_path / "households.jsonl"
    records = [
        {"household_id": f"H{i}", "county_code": "330106", "assets": {"money": "1000"},
         "members": [{"person_id": f"P{i}", "birth_date": "1980-01-01", "income": {"wage": str(w)}}]}
        for i, w in enumerate(WAGES)
    ]
    samples.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    state = tmp_path / "state"
    users = state / "users.yaml"
    add_user(users, "xihu", COUNTY_ADMIN, "xihu-password", "330106")
    add_user(users, "shenhe", REVIEWER, "reviewer-password")
    add_user(users, "sheng", PROVINCE_MAINTAINER, "province-password")
    for name, value in {
        "JIUZHU_TABLES": tables, "JIUZHU_STATE": state, "JIUZHU_USERS": users,
        "JIUZHU_REGISTRY": tmp_path / "registry" / "registry.duckdb",
        "JIUZHU_SAMPLES": samples, "JIUZHU_AS_OF": AS_OF,
    }.items():
        monkeypatch.setenv(name, str(value))
    return {"tables": tables, "state": state, "samples": samples}


def start(user: User | None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    if user is not None:
        at.session_state["user"] = user
    at.run()
    assert not at.exception
    return at


def page(at: AppTest, name: str) -> AppTest:
    at.switch_page(f"views/{name}.py")
    at.run()
    assert not at.exception, at.exception
    return at


def shown(at: AppTest) -> str:
    """Every text the page shows, for assertions on what a person would read."""
    parts = [e.value for kind in ("title", "subheader", "caption", "markdown", "text", "error", "warning", "info", "success")
             for e in getattr(at, kind)]
    parts += [str(m.value) + " " + m.label for m in at.metric]
    return "\n".join(str(p) for p in parts)


def frames(at: AppTest) -> str:
    return "\n".join(d.value.to_string() for d in at.dataframe)


def button(at: AppTest, label: str):  # type: ignore[no-untyped-def]
    return next(b for b in at.button if label in b.label)


def set_dibao(at: AppTest, value: str, starts: str = AS_OF) -> AppTest:
    """Use the 调整一项标准 form on 标准与规则."""
    page(at, "standards")
    at.selectbox(key="quick_standard").set_value("dibao_standard")
    at.text_input(key="quick_value").input(value)
    at.text_input(key="quick_from").input(starts)
    button(at, "写入工作副本").click()
    at.run()
    assert not at.exception
    return at


# ---------------------------------------------------------------- sign-in and roles


def test_a_session_left_idle_is_signed_out(env: dict[str, Path]) -> None:
    """An open tab stayed signed in for ever (helper-35); after JIUZHU_IDLE_MINUTES
    (120 by default) without a click the next click shows the sign-in form."""
    import time

    at = page(start(ADMIN), "standards")
    at.session_state["last_seen"] = time.time() - 119 * 60
    at.run()
    assert "标准与规则" in shown(at)  # 119 minutes: still signed in
    at.session_state["last_seen"] = time.time() - 121 * 60
    at.run()
    assert "超过 120 分钟没有操作，已自动退出，请重新登录" in shown(at)
    assert [t for t in at.text_input if t.key == "signin_password"]


def test_sign_in_accepts_the_password_from_the_users_file(env: dict[str, Path]) -> None:
    at = start(None)
    at.text_input(key="signin_name").input("xihu")
    at.text_input(key="signin_password").input("wrong-password")
    button(at, "登录").click()
    at.run()
    assert "用户名或密码不正确" in shown(at)
    at.text_input(key="signin_password").input("xihu-password")
    button(at, "登录").click()
    at.run()
    assert not at.exception
    assert at.session_state["user"] == ADMIN
    assert "标准与规则" in shown(at) and "330106 西湖区" in shown(at)


def test_admin_sees_only_their_county_whatever_the_session_says(env: dict[str, Path]) -> None:
    at = start(ADMIN)
    at.session_state["county_choice"] = "330108"  # as if a widget value were forged
    page(at, "standards")
    assert "330106 西湖区" in shown(at) and "330108" not in shown(at)
    assert not (env["state"] / "drafts" / "330108").exists()
    assert not [s for s in at.sidebar.selectbox if s.key == "county_choice"]


def test_reviewer_reads_any_county_but_cannot_edit_or_publish(env: dict[str, Path]) -> None:
    at = start(REVIEWER_USER)
    page(at, "standards")
    assert not at.data_editor and at.dataframe
    at.sidebar.selectbox(key="county_choice").set_value("330108")
    at.run()
    assert "330108 滨江区" in shown(at)
    page(at, "publish")  # not in a reviewer's menu; its URL typed: refused in Chinese
    assert "只能查看" in shown(at)
    assert not [b for b in at.button if b.key in ("publish_review", "publish_confirm")]
    direct = alone("publish", REVIEWER_USER)  # the page script on its own
    assert "只能查看" in shown(direct)
    assert not [b for b in direct.button if b.key in ("publish_review", "publish_confirm")]


def alone(name: str, user: User) -> AppTest:
    """A page script run on its own, without the menu that would hide it."""
    at = AppTest.from_file(str(Path(APP).parent / "views" / f"{name}.py"), default_timeout=180)
    at.session_state["user"] = user
    at.run()
    assert not at.exception
    return at


def test_reviewer_county_outside_the_list_is_not_shown(env: dict[str, Path]) -> None:
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["user"] = REVIEWER_USER
    at.session_state["county_choice"] = "999999"  # set on the server before the first run
    at.run()
    assert not at.exception
    assert "999999" not in shown(at) and "330106 西湖区" in shown(at)


def test_maintainer_has_the_province_page_and_admins_do_not(env: dict[str, Path]) -> None:
    at = start(MAINTAINER)
    page(at, "province")
    assert "省级工作簿" in shown(at) and at.data_editor
    assert "只有省级维护人员" in shown(alone("province", ADMIN))


def test_jiuzhu_user_add_writes_a_salted_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from compiler.cli import main
    from console.users import authenticate

    users = tmp_path / "users.yaml"
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    code = main(["user", "add", "--users", str(users), "--name", "jd", "--role", "county_admin",
                 "--county", "330106", "--password-stdin"])
    assert code == 0
    assert "a-long-password" not in users.read_text(encoding="utf-8")
    assert authenticate(users, "jd", "a-long-password") == User("jd", COUNTY_ADMIN, "330106")
    assert authenticate(users, "jd", "a-long-passwore") is None
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-password\n"))
    assert main(["user", "add", "--users", str(users), "--name", "x", "--role", "county_admin",
                 "--password-stdin"]) == 2  # an admin needs a county


# ---------------------------------------------------------------- 标准与规则


def test_an_edit_that_breaks_a_cell_shows_the_diagnostic_naming_it(env: dict[str, Path]) -> None:
    at = page(start(ADMIN), "standards")
    editor = at.data_editor[0]
    assert editor.value.loc[0, "程序读作"] == "1,301.00 元"
    at.session_state[editor.key] = {"edited_rows": {0: {"值": "一千三"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception
    text = shown(at)
    assert "E104" in text and "「标准参数」第 1 行「值」（B2）" in text and "一千三" in text
    assert at.data_editor[0].value.loc[0, "问题"].startswith("E104")


def test_a_money_value_stays_money_after_an_edit(env: dict[str, Path]) -> None:
    at = page(start(ADMIN), "standards")
    editor = at.data_editor[0]
    at.session_state[editor.key] = {"edited_rows": {0: {"值": "1,400.5元"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    grid = at.data_editor[0].value
    assert grid.loc[0, "类型"] == "金额（元）" and grid.loc[0, "程序读作"] == "1,400.50 元"
    assert str(grid.loc[0, "生效日期"]).startswith("2025-01-23")


def test_the_standard_form_changes_the_sample_decisions(env: dict[str, Path]) -> None:
    at = page(start(ADMIN), "standards")
    before = {m.label: m.value for m in at.metric}
    assert before["低保"] == "2" and before["低保边缘"] == "1"
    set_dibao(at, "1700")
    after = {m.label: m.value for m in at.metric}
    assert after["低保"] == "3" and after["低保边缘"] == "1" and after["不属于低收入人口"] == "1"
    assert "已加入「低保标准」1700" in shown(at)


def test_the_draft_survives_a_new_session(env: dict[str, Path]) -> None:
    set_dibao(start(ADMIN), "1700")
    again = page(start(ADMIN), "standards")
    assert "1700" in at_grid_values(again)


def at_grid_values(at: AppTest) -> str:
    return "\n".join(d.value.to_string() for d in at.data_editor)


def upload_workbook(tmp_path: Path, name: str, extra: dict | None = None, **written: object) -> AppTest:
    """An admin uploads ``name``: the county's sheets with 低保标准 1500 (and ``extra``
    sheets), written with ``written`` (hidden rows...); the page after it."""
    sheets = county_sheets()
    sheets["标准参数"][1][1] = "1500"
    sheets.update(extra or {})
    write_xlsx(tmp_path / name, sheets, **written)  # type: ignore[arg-type]
    at = page(start(ADMIN), "standards")
    at.file_uploader[0].upload(name, (tmp_path / name).read_bytes())
    at.run()
    assert not at.exception
    return at


def test_uploading_a_workbook_replaces_the_working_copy(env: dict[str, Path], tmp_path: Path) -> None:
    assert page(start(ADMIN), "standards").get("download_button")
    at = upload_workbook(tmp_path, "330106-西湖区.xlsx")
    assert "已用上传的" in shown(at)
    assert "1500" in at_grid_values(at)


def test_an_uploaded_workbooks_hidden_rows_are_said_after_it_is_taken(
    env: dict[str, Path], tmp_path: Path
) -> None:
    """A hidden row (W002) was dropped without a word when the upload was taken
    (helper-35): the admin could not know a row they cannot see is in force."""
    at = upload_workbook(tmp_path, "330106-西湖区.xlsx", hidden_rows={"标准参数": [2]})
    text = shown(at)
    assert "已用上传的" in text and "上传的文件已采用；读取时注意到" in text and "W002" in text


def test_a_workbook_exported_from_another_county_is_not_taken_whatever_its_name(
    env: dict[str, Path], tmp_path: Path
) -> None:
    """滨江's export renamed without its code replaced 330106's copy (helper-39)."""
    info = [["项目", "内容"], ["导出自", "330108@3"], ["导出日期", "2026-12-05"]]
    at = upload_workbook(tmp_path, "滨江导出.xlsx", {"版本信息": info})
    text = shown(at)
    assert "是从 330108@3 导出的工作簿" in text and "已用上传的" not in text
    assert "1500" not in at_grid_values(at)


def test_a_standards_row_named_only_by_its_chinese_name_is_shown(
    env: dict[str, Path], tmp_path: Path
) -> None:
    """A row with 名称 and no 标识 is valid; the grid sorted NaN with text and the page
    stopped with a TypeError on every visit, uploader gone (helper-39)."""
    text = (
        "标识,名称,值,生效日期,失效日期,来源\n"
        "minimum_wage,最低工资标准,2660,2026-01-01,,浙政发\n"
        ",低保标准,1500,2025-01-23,,杭州市民政局\n"
    )
    at = page(start(ADMIN), "standards")
    at.file_uploader[0].upload("标准参数.csv", text.encode("utf-8"))
    at.run()
    assert not at.exception and "内部错误" not in shown(at)
    assert "1500" in at_grid_values(at)
    page(at, "standards")
    assert not at.exception and "内部错误" not in shown(at) and at.file_uploader


def test_a_workbook_named_for_another_county_is_not_taken(env: dict[str, Path], tmp_path: Path) -> None:
    """An admin of 330106 uploading 滨江's workbook replaced their copy without a word
    (helper-35)."""
    at = upload_workbook(tmp_path, "330108-滨江区.xlsx")
    text = shown(at)
    assert "按文件名是 330108 的工作簿，而你正在编辑 330106 的工作副本" in text
    assert "已用上传的" not in text and "1500" not in at_grid_values(at)


# ---------------------------------------------------------------- 样本预览 and 一致性检查


def test_preview_lists_decisions_and_explains_the_chosen_household(env: dict[str, Path]) -> None:
    at = page(start(ADMIN), "preview")
    table = frames(at)
    assert "H2" in table and "低保边缘" in table
    assert "不监测" in table and " none " not in table  # monitoring in Chinese (helper-39)
    at.selectbox(key="household_choice").set_value("H2")
    at.run()
    text = shown(at)
    assert "家庭 H2" in text and "结论" in text and "低保标准" in text
    rules = frames(at)  # tables by their titles, not their identifiers (helper-43)
    assert "家庭救助类别" in rules and "household_group " not in rules


def test_analysis_page_lists_a_shadowed_rule_with_its_witness(env: dict[str, Path]) -> None:
    from tests.tables_fixture import province_sheets

    sheets = province_sheets()
    table = sheets["household_group"]
    table.append(["again", "< 低保标准", "< 4 * 12 * 低保标准", "dibao", "三(一)"])
    write_tables(env["tables"].parent, province=sheets)
    at = page(start(ADMIN), "analysis")
    text = shown(at)
    assert "永远不会被选中的规则" in text and "W501" in text and "again" in text


# ---------------------------------------------------------------- 发布 and 历史与对比


def publish(at: AppTest, note: str, effective: str = "2025-01-01") -> AppTest:
    page(at, "publish")
    at.text_input(key="publish_effective").input(effective)
    at.text_area(key="publish_note").input(note)
    button(at, "发布前检查").click()
    at.run()
    assert not at.exception
    return at


def test_the_publish_review_checks_as_of_the_effective_date(env: dict[str, Path]) -> None:
    """The review checked as of today and passed; the publish, checking as of the
    effective date, was then refused with E607 (helper-35). 2020 has no dibao standard
    in force: the review says so and offers no confirmation."""
    at = publish(start(ADMIN), "回溯发布", "2020-01-01")
    text = shown(at)
    assert "发布被拒绝" in text and "E607" in text
    # one sentence with the date that works, not 34 province cells (helper-39)
    assert "生效日期最早可以是 2024-01-01" in text
    assert not [b for b in at.button if b.key == "publish_confirm"]


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        ("2041-01-01", "超出 2015-01-01 至 2040-12-31 的范围"),
        ("2026-02-30", "不存在"),
        ("45900", "是一个数字（像 Excel 的日期序号），请写成 2025-07-01"),
    ],
)
def test_a_date_out_of_the_span_or_not_a_date_is_said_in_chinese_and_not_used(
    env: dict[str, Path], typed: str, said: str
) -> None:
    """Streamlit's date picker showed an English range error and the review went on
    with the date shown before; 2026-02-30 became 02-28 unsaid (helper-35, helper-39)."""
    at = publish(start(ADMIN), "一次发布", "2025-03-01")
    assert [b for b in at.button if b.key == "publish_confirm"]
    at.text_input(key="publish_effective").input(typed)
    at.run()
    assert not at.exception
    text = shown(at)
    assert f"生效日期：日期「{typed}」" in text and said in text
    assert not [b for b in at.button if b.key == "publish_confirm"]
    page(at, "history")
    at.text_input(key="diff_as_of").input(typed)
    at.run()
    assert f"决策日：日期「{typed}」" in shown(at)


def test_a_note_publishing_would_refuse_is_said_at_the_review(env: dict[str, Path]) -> None:
    """A 40,000-character note passed 发布前检查; only 确认发布 said E708 (helper-39)."""
    at = publish(start(ADMIN), "依据" * 20_000, "2025-03-01")
    assert "**E708** 版本说明过长" in shown(at)
    assert not [b for b in at.button if b.key == "publish_confirm"]


def test_a_date_typed_as_chinese_text_is_the_date_written(env: dict[str, Path]) -> None:
    """「2015年1月1日」 typed into the picker's year became 2015-11-01 (helper-39)."""
    at = publish(start(ADMIN), "一次发布", "2025年3月1日")
    assert [b.label for b in at.button if b.key == "publish_confirm"] == ["确认发布：2025-03-01 起生效"]


def test_the_quick_form_reads_dates_written_as_text_in_other_forms(env: dict[str, Path]) -> None:
    """A 生效日期 typed as 2025/1/23 was compared with 2025-06-01 as text, and the form
    stopped with Python's English ValueError (helper-35)."""
    sheets = county_sheets()
    sheets["标准参数"][1][2] = "2025/1/23"
    write_xlsx(env["tables"] / "counties" / "330106-西湖区.xlsx", sheets)
    at = set_dibao(start(ADMIN), "1700", "2025-06-01")
    text = shown(at)
    assert "已加入「" in text and "原 2025-01-23 起的一行失效日期设为 2025-05-31" in text
    assert "内部错误" not in text and "ValueError" not in text


def test_publish_is_refused_while_errors_remain(env: dict[str, Path]) -> None:
    at = edit_grid(page(start(ADMIN), "standards"), {0: {"值": "一千七"}})  # the form refuses it
    publish(at, "调整低保标准")
    text = shown(at)
    assert "发布被拒绝" in text and "E104" in text
    assert not [b for b in at.button if b.key == "publish_confirm"]


def test_publish_then_history_shows_the_version(env: dict[str, Path]) -> None:
    at = publish(start(ADMIN), "首次发布")
    assert "没有生效的已发布版本" in shown(at)
    button(at, "确认发布").click()
    at.run()
    assert not at.exception
    assert "已发布 330106@1" in shown(at)
    page(at, "history")
    assert "330106@1" in frames(at) and "首次发布" in frames(at)


def test_a_second_click_on_publish_publishes_once_and_says_published(
    env: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second click (or a reload) while publishing stops the first run at its next
    Streamlit call, after the version is stored. The draft's new base was recorded
    after that call, so the second run was told 「发布被拒绝」 or that a colleague had
    published (helper-35). The run is stopped here where Streamlit would stop it."""
    import contextlib

    import streamlit
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    spinner = streamlit.spinner

    @contextlib.contextmanager
    def interrupted(text: str, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        with spinner(text, *args, **kwargs):
            yield
        if text == "正在发布……":
            raise StopException()  # the second click arrived while publishing

    at = publish(start(ADMIN), "首次发布")
    monkeypatch.setattr(streamlit, "spinner", interrupted)
    button(at, "确认发布").click()
    at.run()
    monkeypatch.setattr(streamlit, "spinner", spinner)
    at.button(key="publish_confirm").click()  # the second click's run
    at.run()
    assert not at.exception
    text = shown(at)
    assert "已发布 330106@1" in text and "发布被拒绝" not in text and "发布暂不可用" not in text
    from compiler.registry import Registry

    assert [v.number for v in Registry(env["state"].parent / "registry" / "registry.duckdb").history("330106")] == [1]


def test_republishing_unchanged_tables_asks_before_making_a_version(env: dict[str, Path]) -> None:
    """The same tables published again made a new version silently (ninth session)."""
    from compiler.registry import Registry

    registry = env["state"].parent / "registry" / "registry.duckdb"
    at = publish(start(ADMIN), "首次发布")
    button(at, "确认发布").click()
    at.run()
    at = publish(at, "再发一次", "2025-03-01")
    button(at, "确认发布").click()
    at.run()
    assert not at.exception
    text = shown(at)
    assert "E709" in text and "330106@1" in text and "已发布 330106@2" not in text
    assert [v.number for v in Registry(registry).history("330106")] == [1]
    at.checkbox(key="publish_allow_unchanged").check()
    at.run()
    button(at, "确认发布").click()
    at.run()
    assert "已发布 330106@2" in shown(at)
    assert [v.number for v in Registry(registry).history("330106")] == [1, 2]


def test_a_registry_that_lost_the_drafts_version_is_said_in_chinese(env: dict[str, Path]) -> None:
    """The registry moved away after a publish: every page stopped with an English
    AttributeError (helper-35)."""
    at = publish(start(ADMIN), "首次发布")
    button(at, "确认发布").click()
    at.run()
    registry = env["state"].parent / "registry" / "registry.duckdb"
    registry.rename(registry.with_name("moved.duckdb"))
    for name in ("standards", "publish"):
        page(at, name)
        text = shown(at)
        assert text.count("E705 版本登记簿中没有本县的第 1 版") == 1 and "不能发布" in text  # once
        assert "内部错误" not in text
    assert not [b for b in at.button if b.key == "publish_review"]


def test_a_publish_overtaken_after_the_review_says_what_to_do_here(
    env: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A colleague's publish lands while this one is on its way (after the page checked
    the base): E702, with this page's way forward, not the CLI's jiuzhu diff and --base
    (helper-35)."""
    from datetime import date as day

    from compiler.registry_publish import publish as publish_version
    from console import workspace

    real = workspace.publish

    def overtaken(*args: object, **kwargs: object) -> object:
        publish_version(env["tables"], "330106", day(2025, 1, 1), "同事的发布", "xihu2", 0,
                        env["state"].parent / "registry" / "registry.duckdb", analyse=None)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    at = publish(start(ADMIN), "我的发布")
    monkeypatch.setattr(workspace, "publish", overtaken)
    button(at, "确认发布").click()
    at.run()
    text = shown(at)
    assert "发布被拒绝" in text and "E702" in text and "再次点「发布」" in text
    assert "jiuzhu diff" not in text and "--base" not in text


def compare_first_with_work(at: AppTest) -> None:
    """On 历史与对比, compare 330106@1 with the working copy."""
    page(at, "history")
    at.selectbox(key="diff_old").set_value("330106@1")
    at.selectbox(key="diff_new").set_value("330106（我的工作副本）")
    button(at, "比较").click()
    at.run()


def test_diff_shows_standards_and_households_that_move(env: dict[str, Path]) -> None:
    at = publish(start(ADMIN), "首次发布")
    button(at, "确认发布").click()
    at.run()
    set_dibao(at, "1700")
    compare_first_with_work(at)
    assert not at.exception
    table = frames(at)
    assert "低保标准" in table and "1700" in table
    assert "失效日期" in table and "effective_until" not in table  # the ended row (helper-39)
    assert "H2" in table and "低保边缘" in table
    charts = at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")
    spec = json.loads(charts[0].proto.spec)
    # the old side first, in its colour, whatever the labels; whole households (helper-39)
    assert spec["encoding"]["color"]["scale"]["domain"][0].startswith("原来")
    assert spec["encoding"]["y"]["axis"]["format"] == "d"


def test_a_diff_of_versions_that_decide_alike_says_so_not_a_chart_of_zeros(
    env: dict[str, Path],
) -> None:
    """Only a note changed: both sides compile alike, the households are not decided
    again, and the chart showed 0 in every group for the 64 households compared
    (helper-54)."""
    at = publish(start(ADMIN), "首次发布")
    button(at, "确认发布").click()
    at.run()
    compare_first_with_work(at)
    assert not at.exception
    assert not (at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart"))
    assert "决策规则和标准完全相同，未重新决策；决策不会改变" in shown(at)


def test_a_diff_on_a_date_the_samples_cannot_be_decided_still_shows_the_tables(
    env: dict[str, Path],
) -> None:
    """A sample member born after the decision date (E615) refused the whole comparison,
    the standards' diff too (helper-35)."""
    at = publish(start(ADMIN), "首次发布")
    button(at, "确认发布").click()
    at.run()
    set_dibao(at, "1700")
    baby = {"household_id": "B1", "county_code": "330106", "assets": {"money": "0"},
            "members": [{"person_id": "B1-1", "birth_date": "2025-05-01"}]}
    env["samples"].write_text(json.dumps(baby) + "\n", encoding="utf-8")
    page(at, "history")
    at.selectbox(key="diff_old").set_value("330106@1")
    at.selectbox(key="diff_new").set_value("330106（我的工作副本）")
    at.text_input(key="diff_as_of").input("2025-02-01")
    button(at, "比较").click()
    at.run()
    assert not at.exception
    text = shown(at)
    assert "低保标准" in frames(at) and "1700" in frames(at)
    assert "未计算对家庭的影响" in text and "E615" in text and "无法比较" not in text


def test_a_colleagues_publish_is_announced_and_nothing_is_lost(env: dict[str, Path]) -> None:
    add_user(env["state"] / "users.yaml", "xihu2", COUNTY_ADMIN, "xihu2-password", "330106")
    other = set_dibao(start(OTHER_ADMIN), "1700")  # a draft based on no version
    first = publish(start(ADMIN), "同事先发布")
    button(first, "确认发布").click()
    first.run()
    page(other, "publish")
    assert "最新已是第 1 版" in shown(other) and "基于第 0 版" in shown(other)
    assert not [b for b in other.button if b.key == "publish_review"]
    button(other, "保留我的工作副本").click()
    other.run()
    page(other, "standards")
    assert "1700" in at_grid_values(other)
    publish(other, "在第 1 版基础上调整")
    button(other, "确认发布").click()
    other.run()
    assert "已发布 330106@2" in shown(other)


def test_uploaded_households_are_previewed(env: dict[str, Path]) -> None:
    at = page(start(ADMIN), "preview")
    line = {"household_id": "U1", "county_code": "330106", "assets": {"money": "0"},
            "members": [{"person_id": "U1-1", "birth_date": "1950-01-01", "income": {"wage": "0"}}]}
    at.file_uploader(key="households_upload").upload("mine.jsonl", (json.dumps(line) + "\n").encode())
    at.run()
    at.selectbox(key="households_source").set_value("上传：mine.jsonl")
    at.run()
    assert not at.exception
    assert "U1" in frames(at) and "家庭 U1" in shown(at)


def test_a_members_file_added_later_is_read_and_a_newer_upload_is_chosen(env: dict[str, Path]) -> None:
    """members.csv added after households.csv left the old E605 「找不到成员文件」 on
    screen, and a newer upload was never chosen (helper-39)."""
    at = page(start(ADMIN), "preview")
    households = b"household_id,county_code\nC1,330106\n"
    members = b"household_id,person_id,birth_date\nC1,C1-1,1950-01-01\n"
    at.file_uploader(key="households_upload").upload("x-households.csv", households)
    at.run()
    assert "E605" in shown(at)
    at.file_uploader(key="households_upload").upload("x-members.csv", members)
    at.run()
    assert not at.exception and "E605" not in shown(at) and "C1" in frames(at)
    line = {"household_id": "J1", "county_code": "330106",
            "members": [{"person_id": "J1-1", "birth_date": "1950-01-01"}]}
    at.file_uploader(key="households_upload").upload("later.jsonl", (json.dumps(line) + "\n").encode())
    at.run()
    assert at.selectbox(key="households_source").value == "上传：later.jsonl"
    assert "J1" in frames(at)


def test_reviewer_reads_an_admins_working_copy(env: dict[str, Path]) -> None:
    set_dibao(start(ADMIN), "1700")
    at = start(REVIEWER_USER)
    at.sidebar.selectbox(key="source_choice").set_value("xihu 的工作副本")
    at.run()
    page(at, "standards")
    assert "xihu 的工作副本" in shown(at) and "1700" in frames(at)
    assert not at.data_editor


def test_maintainer_edits_a_province_sheet_and_applies_it(env: dict[str, Path]) -> None:
    at = start(MAINTAINER)
    page(at, "province")
    at.selectbox(key="province_sheet").set_value("标准参数")
    at.run()
    editor = at.data_editor[0]
    row = list(editor.value["标识"]).index("dibao_standard")
    at.session_state[editor.key] = {"edited_rows": {row: {"值": "1200"}}, "added_rows": [],
                                    "deleted_rows": []}
    at.run()
    assert not at.exception
    province = env["tables"] / "province" / "标准参数.csv"
    assert "1200" not in province.read_text(encoding="utf-8")  # only the draft so far
    button(at, "检查全部县").click()
    at.run()
    assert "已应用" in shown(at)
    assert "1200" in province.read_text(encoding="utf-8")


def edit_province(at: AppTest, sheet: str, row_id: str, column: str, value: str) -> AppTest:
    """On 省级工作簿, change one cell of the row whose first column is ``row_id``."""
    at.selectbox(key="province_sheet").set_value(sheet)
    at.run()
    editor = at.data_editor[0]
    row = list(editor.value.iloc[:, 0]).index(row_id)
    at.session_state[editor.key] = {"edited_rows": {row: {column: value}}, "added_rows": [],
                                    "deleted_rows": []}
    at.run()
    assert not at.exception
    return at


def province_cell(env: dict[str, Path], sheet: str, row_id: str, column: str) -> str:
    import csv

    with (env["tables"] / "province" / f"{sheet}.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return next(r[column] for r in rows if next(iter(r.values())) == row_id)


def test_a_second_maintainers_apply_keeps_the_first_ones_change(env: dict[str, Path]) -> None:
    add_user(env["state"] / "users.yaml", "sheng2", PROVINCE_MAINTAINER, "province-password2")
    second = page(start(User("sheng2", PROVINCE_MAINTAINER)), "province")  # draft made now
    first = edit_province(page(start(MAINTAINER), "province"), "标准参数", "dibao_standard", "值", "1160")
    button(first, "检查全部县").click()
    first.run()
    assert "已应用：写入 1 个工作表（标准参数）" in shown(first)
    assert province_cell(env, "标准参数", "dibao_standard", "值") == "1160"
    second.run()  # the colleague's sheet, untouched here, is taken into the draft
    assert "已载入同事应用" in shown(second)
    button(second, "检查全部县").click()
    second.run()
    assert not second.exception
    assert "无改动" in shown(second)
    assert province_cell(env, "标准参数", "dibao_standard", "值") == "1160"


def test_a_maintainers_apply_over_a_colleagues_change_to_the_same_sheet_is_refused(
        env: dict[str, Path]) -> None:
    add_user(env["state"] / "users.yaml", "sheng2", PROVINCE_MAINTAINER, "province-password2")
    second = page(start(User("sheng2", PROVINCE_MAINTAINER)), "province")
    edit_province(second, "标准参数", "dibao_standard", "备注", "第二人的备注")
    first = edit_province(page(start(MAINTAINER), "province"), "标准参数", "dibao_standard", "值", "1160")
    button(first, "检查全部县").click()
    first.run()
    second.run()
    text = shown(second)
    assert "「标准参数」（sheng 于" in text and "→ 1160" in text and "为免覆盖对方的改动" in text
    button(second, "检查全部县").click()
    second.run()
    assert "未应用" in shown(second)
    assert province_cell(env, "标准参数", "dibao_standard", "值") == "1160"  # theirs kept
    draft = env["state"] / "drafts" / "province" / "sheng2" / "tables" / "province" / "标准参数.csv"
    assert "第二人的备注" in draft.read_text(encoding="utf-8")  # mine kept
    button(second, "放弃我对「标准参数」的修改").click()
    second.run()
    assert "为免覆盖" not in shown(second)
    assert "1160" in draft.read_text(encoding="utf-8")


def edit_grid(at: AppTest, changes: dict[int, dict[str, str]]) -> AppTest:
    """Edit cells of the first grid on 标准与规则 (row -> column -> text) and run."""
    editor = at.data_editor[0]
    at.session_state[editor.key] = {"edited_rows": changes, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, at.exception
    return at


def draft_cells(env: dict[str, Path], user: str = "xihu") -> str:
    from console.sheets import read_sheets

    workbook = next((env["state"] / "drafts" / "330106" / user / "tables" / "counties").glob("*.xlsx"))
    return str(read_sheets(workbook)[0][0].rows)


def test_a_control_character_is_refused_with_e011_and_the_session_keeps_working(
        env: dict[str, Path]) -> None:
    at = page(start(ADMIN), "standards")
    edit_grid(at, {0: {"值": "14\x0700", "来源": "杭政发"}})
    text = shown(at)
    assert "E011" in text and "U+0007" in text and "「标准参数」第 1 行「值」（B2）" in text
    assert "内部错误" not in text and "IllegalCharacterError" not in text
    assert "杭政发" in draft_cells(env) and "14\x0700" not in draft_cells(env)  # the rest is saved
    edit_grid(at, {0: {"值": "1500"}})  # a later edit in the same session is saved
    assert "已保存对「标准参数」的修改" in shown(at) and "E011" not in shown(at)
    assert "1500" in draft_cells(env)


def test_text_longer_than_a_cell_is_refused_with_e012_not_cut(env: dict[str, Path]) -> None:
    at = page(start(ADMIN), "standards")
    edit_grid(at, {0: {"来源": "长" * 40_000}})
    text = shown(at)
    assert "E012" in text and "40000 个字符" in text and "已保存" not in text
    assert "长长长" not in draft_cells(env)


def test_a_stale_tab_is_told_its_edit_was_not_saved(env: dict[str, Path]) -> None:
    first = page(start(ADMIN), "standards")
    second = page(start(ADMIN), "standards")  # the same admin in another tab
    edit_grid(first, {0: {"值": "1777"}})  # the grid's 程序读作 and 问题 change with it
    assert "已保存" in shown(first)
    edit_grid(second, {0: {"来源": "第二个标签页"}})
    assert "草稿已在别处保存（xihu" in shown(second) and "没有保存" in shown(second)
    assert "1777" in draft_cells(env) and "第二个标签页" not in draft_cells(env)
    assert "1,777.00 元" in at_grid_values(second)  # the latest draft is shown
    edit_grid(second, {0: {"来源": "第二次"}})
    assert "已保存" in shown(second) and "第二次" in draft_cells(env)


def test_a_workbook_without_a_known_sheet_is_refused_and_the_draft_kept(
        env: dict[str, Path], tmp_path: Path) -> None:
    upload = tmp_path / "nosheet.xlsx"
    write_xlsx(upload, {"Sheet1": [["hello"]]})
    at = page(start(ADMIN), "standards")
    at.file_uploader[0].upload("nosheet.xlsx", upload.read_bytes())
    at.run()
    assert not at.exception
    text = shown(at)
    assert "E004" in text and "Sheet1" in text and "工作副本未改动" in text and "nosheet.xlsx" in text
    assert "dibao_standard" in draft_cells(env)


@pytest.mark.parametrize("name", ["bad[1].csv", "a:b.csv", "x" * 40 + ".csv"],
                         ids=["brackets", "colon", "too-long"])
def test_a_csv_whose_name_cannot_be_a_sheet_name_is_refused_in_chinese(
        env: dict[str, Path], name: str) -> None:
    at = page(start(ADMIN), "standards")
    before = draft_cells(env)
    at.file_uploader[0].upload(name, "标识,值\ndibao_standard,1500\n".encode())
    at.run()
    assert not at.exception
    text = shown(at)
    assert f"上传的「{name}」不能用作工作表名" in text and "工作副本未改动" in text
    assert "内部错误" not in text and draft_cells(env) == before


def test_a_reviewers_county_and_copy_stay_chosen_across_pages(env: dict[str, Path]) -> None:
    set_dibao(start(ADMIN), "1700")
    at = page(start(REVIEWER_USER), "standards")
    at.sidebar.selectbox(key="county_choice").set_value("330106")
    at.run()
    at.sidebar.selectbox(key="source_choice").set_value("xihu 的工作副本")
    at.run()
    for name in ("history", "analysis", "standards"):
        page(at, name)
        assert "330106 西湖区 · xihu 的工作副本" in shown(at), name
    at.sidebar.selectbox(key="county_choice").set_value("330108")
    at.run()
    page(at, "history")
    assert "330108 滨江区 · tables 文件夹中的工作簿" in shown(at)


@pytest.mark.parametrize("change", ["role", "password", "removed"])
def test_a_changed_or_removed_user_loses_the_open_session(env: dict[str, Path], change: str) -> None:
    import yaml

    at = start(None)
    at.text_input(key="signin_name").input("xihu")
    at.text_input(key="signin_password").input("xihu-password")
    button(at, "登录").click()
    at.run()
    assert at.data_editor  # signed in, editing
    users = env["state"] / "users.yaml"
    if change == "role":
        add_user(users, "xihu", REVIEWER, "xihu-password")
    elif change == "password":
        add_user(users, "xihu", COUNTY_ADMIN, "another-password", "330106")
    else:
        document = yaml.safe_load(users.read_text(encoding="utf-8"))
        del document["users"]["xihu"]
        users.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    at.run()
    assert not at.exception
    assert "请重新登录" in shown(at) and not at.data_editor
    assert "user" not in at.session_state


def standards_rows(env: dict[str, Path]) -> list[dict[str, object]]:
    from console.sheets import read_sheets, text

    workbook = next((env["state"] / "drafts" / "330106" / "xihu" / "tables" / "counties").glob("*.xlsx"))
    sheet = next(s for s in read_sheets(workbook)[0] if s.name == "标准参数")
    header = [text(v) for v in sheet.rows[0]]
    return [{h: text(r[i]) if i < len(r) else "" for i, h in enumerate(header)} for r in sheet.rows[1:]]


def test_the_standard_form_bounds_a_new_row_by_a_later_one_and_leaves_it_unverified(
        env: dict[str, Path]) -> None:
    at = set_dibao(start(ADMIN), "1500", "2025-07-01")
    set_dibao(at, "1450", "2025-06-01")
    assert "新的一行到 2025-06-30 为止" in shown(at) and "核实＝否" in shown(at)
    rows = {r["值"]: r for r in standards_rows(env)}
    assert rows["1450"]["失效日期"] == "2025-06-30" and rows["1450"]["核实"] == "否"
    assert rows["1301"]["失效日期"] == "2025-05-31" and rows["1500"]["失效日期"] == ""
    assert "E403" not in shown(at)


def test_a_control_character_in_the_forms_source_is_refused_with_e011(env: dict[str, Path]) -> None:
    at = page(start(ADMIN), "standards")
    at.selectbox(key="quick_standard").set_value("dibao_standard")
    at.text_input(key="quick_value").input("1500")
    at.text_input(key="quick_source").input("杭政\x0b发")
    button(at, "写入工作副本").click()
    at.run()
    text = shown(at)
    assert "E011" in text and "U+000B" in text and "「来源」" in text and "内部错误" not in text
    assert all(r["值"] != "1500" for r in standards_rows(env))


@pytest.mark.parametrize(
    ("value", "said"), [("", "请填写新取值"), ("abc", "E104"), ("1e3", "E104"), ("-5", "是负数")]
)
def test_a_value_the_form_cannot_read_is_refused_and_nothing_is_written(
    env: dict[str, Path], value: str, said: str
) -> None:
    """An empty value or 「abc」 was written, then reported three ways (E104, E405
    「没有取值」, W401) (helper-39)."""
    at = set_dibao(start(ADMIN), value, "2025-07-01")
    text = shown(at)
    assert said in text and "工作副本未改动" in text and "E405" not in text
    assert [r["值"] for r in standards_rows(env)] == ["1301"]


def test_changing_a_verified_row_through_the_form_says_it_is_now_unverified(env: dict[str, Path]) -> None:
    """核实 went from 是 to 否 without a word (helper-39)."""
    at = page(start(ADMIN), "standards")
    at.selectbox(key="quick_standard").set_value("dibao_standard")
    at.text_input(key="quick_value").input("1510")
    at.text_input(key="quick_from").input("2025-07-01")
    at.checkbox(key="quick_verified").check()
    button(at, "写入工作副本").click()
    at.run()
    assert standards_rows(env)[-1]["核实"] == "是"
    at.text_input(key="quick_value").input("1520")
    at.checkbox(key="quick_verified").uncheck()
    button(at, "写入工作副本").click()
    at.run()
    assert "已把 2025-07-01 起的「低保标准」改为 1520；核实＝否（原为是）" in shown(at)


def test_the_preview_decides_on_the_date_chosen(env: dict[str, Path]) -> None:
    """A standard from a later date changed nothing in the preview, always of today
    (helper-39)."""
    at = set_dibao(start(ADMIN), "9000", "2026-01-01")
    page(at, "preview")  # by default on 2026-01-01, the new standard's day (helper-133)
    at.text_input(key="preview_as_of").input("2025-06-01")
    at.run()
    assert "低保边缘" in frames(at)  # 2025-06-01: 1,301 in force
    at.text_input(key="preview_as_of").input("2026-01-01")
    at.run()
    assert not at.exception
    assert "低保边缘" not in frames(at) and "9,000.00" in frames(at)
    assert "决策日 2026-01-01" in shown(at)


def test_a_standard_too_large_to_decide_with_is_refused_at_the_review_in_chinese(
    env: dict[str, Path]
) -> None:
    """A dibao standard of 9,999,999,999,999,999 passed the check; 发布前检查 showed
    DuckDB's English "Conversion Error" and still offered 确认发布 (helper-43)."""
    at = set_dibao(start(ADMIN), "9999999999999999", "2025-02-01")
    publish(at, "一次发布", "2025-03-01")
    text = shown(at)
    assert "无法为样本家庭作出决策" in text and "超出可计算的范围" in text
    assert "Conversion Error" not in text
    assert not [b for b in at.button if b.key == "publish_confirm"]


def test_a_preview_before_the_standards_begin_names_the_earliest_date(env: dict[str, Path]) -> None:
    """It said 「有 28 个错误…请到「标准与规则」页查看」, a page that checks as of today and
    shows none (helper-43)."""
    at = page(start(ADMIN), "preview")
    at.text_input(key="preview_as_of").input("2020-01-01")
    at.run()
    assert not at.exception
    text = shown(at)
    assert "无法预览：2020-01-01 时有" in text and "决策日最早可以是 2024-01-01" in text


def test_empty_cells_of_the_grid_are_empty_text_not_none(env: dict[str, Path]) -> None:
    """Every empty 来源 or 备注 cell showed a grey English "None" (helper-43)."""
    from console.grids import DATE_COLUMNS

    at = set_dibao(start(ADMIN), "1500", "2025-07-01")  # a row with no 来源

    frame = at.data_editor[0].value
    # a date column (all dates or empty) is a DateColumn, which shows an empty date blank
    text_columns = [c for c in frame.columns if c not in DATE_COLUMNS]
    assert {"来源", "值"} <= set(text_columns)
    assert not any(frame[c].isna().any() for c in text_columns), {c: list(frame[c]) for c in text_columns if frame[c].isna().any()}


def test_a_preview_in_a_year_with_no_holiday_schedule_says_so(env: dict[str, Path]) -> None:
    """jiuzhu check --as-of 2027-01-05 gave W403; the preview said nothing (helper-43)."""
    at = page(start(ADMIN), "preview")
    at.text_input(key="preview_as_of").input("2027-01-05")
    at.run()
    assert not at.exception
    assert "W403" in shown(at) and "2027 年" in shown(at)
