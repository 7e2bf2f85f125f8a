"""What ``jiuzhu publish`` and ``jiuzhu diff`` tell the user, as they can use it (helper-109).

- The commands a refusal suggests (E702, E710) carry the ``--tables`` and ``--registry``
  the refused command was given, quoted for a shell: copied without them, they read the
  default folders instead.
- A process with no login name (no LOGNAME/USER/LNAME/USERNAME, no passwd entry for its
  uid) asked to publish without ``--author`` is E708, not an internal error.
- ``jiuzhu diff`` writes the further lines of a multi-line annotation or note indented
  under the line they belong to, never at the margin.
"""

from __future__ import annotations

import re
import shlex
from datetime import date
from pathlib import Path

import pytest

from compiler.registry import Registry
from compiler.registry_marker import write_base_marker
from compiler.registry_publish import publish
from tests.test_registry import (
    COUNTY,
    run,
    set_county_standards,
    two_versions,
    write_rulebook,
)
from tests.workbooks import write_csv_folder

# folders with a space, as county staff name them, given relative to the working folder
TABLES = "my tables"
REGISTRY = "my registry/r.duckdb"
GIVEN = ["--tables", TABLES, "--registry", REGISTRY]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder holding ``my tables`` and no ``tables`` folder: a command that
    forgets --tables or --registry cannot find what it looks for."""
    monkeypatch.chdir(tmp_path)
    write_rulebook(tmp_path / TABLES)
    return tmp_path


def suggested(text: str, verb: str) -> list[str]:
    """The arguments of the ``jiuzhu <verb>`` command a message suggests, as a shell
    splits them: it ends where the message goes on (「 查看」, 「 核对」, 「；」, 「（」)."""
    match = re.search(rf"jiuzhu {verb} (.*?)(?=；| 查看| 核对|（)", text)
    assert match is not None, text
    return [verb, *shlex.split(match.group(1))]


def edit_working_copy(tables: Path) -> None:
    set_county_standards(
        tables, [["dibao_standard", "1500", "2025-01-01", None, "杭民发"]]
    )


def publish_cli(capsys, *extra: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    return run(
        capsys,
        "publish",
        "--county",
        COUNTY,
        "--note",
        "调整",
        "--author",
        "王五",
        *extra,
        *GIVEN,
    )


def no_marker(folder: Path) -> None:
    two_versions(folder / TABLES, Path(REGISTRY))  # by the library: no marker written


def marker_behind(folder: Path) -> None:
    two_versions(folder / TABLES, Path(REGISTRY))
    write_base_marker(
        folder / TABLES / "counties", Registry(Path(REGISTRY)).get(COUNTY, 1)
    )
    edit_working_copy(folder / TABLES)


def old_base(folder: Path) -> None:
    two_versions(folder / TABLES, Path(REGISTRY))
    edit_working_copy(folder / TABLES)


# ---------------------------------------------------------------- 1. E702 and E710


@pytest.mark.parametrize(
    ("setup", "extra", "verb", "case"),
    [
        (no_marker, ["--effective", "2025-08-01"], "diff", "没有找到基线标记"),
        (no_marker, ["--withdraw", "2"], "history", "没有找到基线标记"),
        (
            old_base,
            ["--effective", "2025-08-01", "--base", "1"],
            "diff",
            "指定的基线是第 1 版",
        ),
        (
            old_base,
            ["--effective", "2025-08-01", "--base", "5"],
            "history",
            "第 5 版不存在",
        ),
        (
            old_base,
            ["--withdraw", "2", "--base", "1"],
            "history",
            "指定的基线是第 1 版",
        ),
        (
            marker_behind,
            ["--effective", "2025-08-01"],
            "diff",
            "基线标记记录工作副本基于第 1 版",
        ),
    ],
    ids=[
        "no-marker",
        "no-marker-withdraw",
        "old-base",
        "unknown-base",
        "old-base-withdraw",
        "marker-behind",
    ],
)
def test_the_command_an_e702_suggests_reads_the_tables_and_registry_given(
    folder, capsys, setup, extra, verb, case
):
    setup(folder)
    code, _, err = publish_cli(capsys, *extra)
    assert code == 1 and "E702" in err and case in err and "Traceback" not in err

    argv = suggested(err, verb)
    assert argv[-4:] == GIVEN, argv  # quoted in the hint: 'my tables'
    assert f"--tables '{TABLES}' --registry '{REGISTRY}'" in err
    code, out, said = run(capsys, *argv)  # what the user runs next, copied
    assert code == 0, said
    assert (
        "330106@2" in out or "第 2 版" in out
    )  # it read the registry holding version 2
    assert len(Registry(Path(REGISTRY)).versions()) == 2


def test_the_export_an_e710_suggests_reads_the_registry_given(folder, capsys):
    tables = folder / TABLES
    two_versions(tables, Path(REGISTRY))
    code, out, _ = run(
        capsys,
        "publish",
        "--county",
        COUNTY,
        "--withdraw",
        "2",
        "--note",
        "暂缓执行",
        "--base",
        "2",
        "--author",
        "王五",
        *GIVEN,
    )
    assert code == 0 and "已发布 330106@3" in out
    code, _, err = publish_cli(capsys, "--effective", "2026-01-01")
    assert code == 1 and "E710" in err

    argv = suggested(err, "export")
    assert argv[-4:] == GIVEN, argv
    code, out, said = run(capsys, *argv)
    assert code == 0 and "已导出 330106@3" in out, said
    assert (tables / "counties" / f"{COUNTY}-西湖区.xlsx").exists()
    assert '"version": 3' in (tables / "counties" / f"{COUNTY}.base.json").read_text(
        "utf-8"
    )


def test_options_not_given_are_not_added_and_do_not_outlive_the_command(folder, capsys):
    from compiler.registry_base import command, hint_options

    assert command("history", "--county", COUNTY) == f"jiuzhu history --county {COUNTY}"
    with hint_options("tables", None):  # the default folder, no --registry
        assert (
            command("diff", f"{COUNTY}@2", COUNTY) == f"jiuzhu diff {COUNTY}@2 {COUNTY}"
        )
    with hint_options("县 表", "r;1.duckdb"):
        said = command("history", "--county", COUNTY)
    assert (
        said
        == f"jiuzhu history --county {COUNTY} --tables '县 表' --registry 'r;1.duckdb'"
    )
    from compiler.registry import stale

    with hint_options(TABLES, REGISTRY):  # a publish overtaken while it ran
        hint = stale(COUNTY, 1, 2).hint or ""
    assert (
        hint.count(f"--tables '{TABLES}' --registry '{REGISTRY}'") == 2
    )  # history, diff
    no_marker(folder)
    publish_cli(capsys, "--effective", "2025-08-01")  # refused, hint with the options
    assert command("history", "--county", COUNTY) == f"jiuzhu history --county {COUNTY}"


# ---------------------------------------------------------------- 2. no login name


@pytest.mark.parametrize(
    "error",
    [
        KeyError("getpwuid(): uid not found: 54321"),
        OSError("No username set in the environment"),
    ],
    ids=["python-3.11", "python-3.13"],
)
@pytest.mark.parametrize(
    "extra",
    [["--effective", "2025-01-01"], ["--withdraw", "2", "--base", "2"]],
    ids=["publish", "withdraw"],
)
def test_no_login_name_is_e708_asking_for_author(
    tmp_path, capsys, monkeypatch, error, extra
):
    tables, registry = write_rulebook(tmp_path / "tables"), tmp_path / "r.duckdb"
    if "--withdraw" in extra:
        two_versions(tables, registry)

    def getuser() -> str:
        raise error

    monkeypatch.delenv("JIUZHU_AUTHOR", raising=False)
    monkeypatch.setattr("getpass.getuser", getuser)
    code, _, err = run(
        capsys,
        "publish",
        "--county",
        COUNTY,
        "--note",
        "调整",
        *extra,
        "--tables",
        str(tables),
        "--registry",
        str(registry),
    )
    assert code == 1 and "Traceback" not in err and "内部错误" not in err
    action = "撤回" if "--withdraw" in extra else "发布"
    assert "E708 没有指定发布人，也取不到登录名" in err and f"{action}被拒绝" in err
    assert "--author" in err and "JIUZHU_AUTHOR" in err
    assert len(Registry(registry).versions()) == (2 if "--withdraw" in extra else 0)


# ---------------------------------------------------------------- 3. diff text


def test_diff_indents_the_further_lines_of_a_multi_line_annotation(tmp_path, capsys):
    from tests.test_registry import GROUP_TABLE

    tables, registry = write_rulebook(tmp_path / "tables"), tmp_path / "r.duckdb"
    publish(tables, COUNTY, date(2025, 1, 1), "首次发布", "张三", 0, registry)
    rows = [list(row) for row in GROUP_TABLE]
    changed = rows[-1]
    changed[-1] = (
        "R-N2：第一行\n第二行\r\n\n第四行"  # Alt+Enter in Excel; CRLF; a blank line
    )
    rows.append(["added", *["-"] * (len(changed) - 2), "说明一\r说明二"])
    rows[-1][-2] = changed[-2]
    write_csv_folder(tables / "province", {"household_group": rows})
    set_county_standards(
        tables, [["dibao_standard", "1301", "2025-01-01", None, "杭民发\n第二行"]]
    )

    code, out, err = run(
        capsys,
        "diff",
        f"{COUNTY}@1",
        COUNTY,
        "--as-of",
        "2025-06-01",
        "--tables",
        str(tables),
        "--registry",
        str(registry),
    )
    assert code == 0, err
    lines = out.splitlines()
    assert "\r" not in out
    for text in (
        "第二行",
        "第四行",
        "说明二",
    ):  # under their rule or row, never at the margin
        found = [line for line in lines if line.strip().startswith(text)]
        assert found and all(line.startswith(" " * 8) for line in found), (text, out)
    rule = next(i for i, line in enumerate(lines) if "R-N2：第一行" in line)
    cell = len(lines[rule]) - len(lines[rule].lstrip())
    after = lines[rule + 1]
    assert after.startswith(" " * (cell + 4) + "第二行"), out
    assert lines[rule + 2] == "" and lines[rule + 3].startswith(
        " " * (cell + 4) + "第四行"
    )
    assert [line for line in lines if line.startswith("第")] == []
