"""`publish --base -1` is a usage error, and a base marker naming another county is
E702 (tester, after R11): -1 was E702 「第 -1 版不存在」 and a 330106.base.json whose
county field said 330108 was taken as 330106's base."""

from __future__ import annotations

import json
from datetime import date

import pytest

from compiler import cli
from compiler.registry_publish import publish
from tests.test_registry import COUNTY, write_rulebook


def test_a_negative_base_is_a_usage_error(tmp_path, capsys) -> None:
    tables = write_rulebook(tmp_path / "tables")
    with pytest.raises(SystemExit) as raised:
        cli.main(["publish", "--county", COUNTY, "--effective", "2025-01-01", "--note", "x",
                  "--author", "张三", "--base", "-1", "--tables", str(tables),
                  "--registry", str(tmp_path / "r.duckdb")])
    assert raised.value.code == 2 and "「-1」应为不小于 0 的整数" in capsys.readouterr().err


def test_a_marker_of_another_county_is_refused(tmp_path, capsys) -> None:
    tables = write_rulebook(tmp_path / "tables")
    registry = tmp_path / "r.duckdb"
    first = publish(tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    marker = tables / "counties" / f"{COUNTY}.base.json"
    marker.write_text(json.dumps({"county": "330108", "version": 1, "hash": first.hash}),
                      encoding="utf-8")
    code = cli.main(["publish", "--county", COUNTY, "--effective", "2025-07-01", "--note", "再发",
                     "--author", "张三", "--allow-unchanged", "--tables", str(tables),
                     "--registry", str(registry)])
    err = capsys.readouterr().err
    assert code == 1 and "E702 基线标记是 330108 的，不是 330106 的，发布被拒绝" in err
