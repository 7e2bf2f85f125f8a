"""Words a fresh tester found wrong or unhelpful (helper-89): a new grid row's 标识
offered bare English ids, E002 read 「应为Excel」, and E708 of a withdrawal spoke of a
版本说明 and 发布被拒绝 where the page asks for a 撤回原因."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from compiler.read import read_workbook
from compiler.registry import Registry
from tests.test_console import ADMIN, env, page, start  # noqa: F401
from tests.test_registry import COUNTY, run, two_versions, write_rulebook


@pytest.mark.usefixtures("env")
def test_the_id_dropdown_names_each_standard_in_chinese() -> None:
    at = page(start(ADMIN), "standards")
    column = json.loads(at.data_editor[0].proto.columns)["标识"]
    options = {o["value"]: o["label"] for o in column["type_config"]["options"]}
    assert options["dibao_standard"] == "dibao_standard 低保标准", options
    assert options["marginal_multiplier"] == "marginal_multiplier 边缘倍数"
    assert column["width"] == "medium"


def test_a_file_that_is_no_workbook_says_what_it_should_be(tmp_path: Path) -> None:
    path = tmp_path / "330106-西湖区.xlsx"
    path.write_text("标识,值\n", encoding="utf-8")
    _, problems = read_workbook(path)
    (said,) = [d for d in problems if d.code == "E002"]
    assert "；应为以 .xlsx 格式保存的 Excel 工作簿" in said.render(), said.render()


def test_a_withdrawal_refused_for_its_author_says_withdrawal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tables, registry = write_rulebook(tmp_path / "tables"), tmp_path / "r" / "registry.duckdb"
    two_versions(tables, registry)
    common = ["--base", "2", "--tables", str(tables), "--registry", str(registry)]
    code, _, err = run(capsys, "publish", "--county", COUNTY, "--withdraw", "2", "--note", "暂缓",
                       "--author", "王\x1b五", *common)
    assert code == 1 and "E708 发布人中有控制字符，撤回被拒绝" in err, err
    code, _, err = run(capsys, "publish", "--county", COUNTY, "--withdraw", "2", "--note", "暂\x07缓",
                       "--author", "王五", *common)
    assert code == 1 and "E708 版本说明中有控制字符，撤回被拒绝" in err, err
    assert len(Registry(registry).versions(COUNTY)) == 2
