"""Where `jiuzhu evaluate` writes, and what a run killed hard leaves behind.

A fresh tester's `--out tables/province/标准参数.csv` replaced the province's standards
with decisions (exit 0, no backup); any other existing file went the same way. A run
killed with `kill -9` left its batches folder, DuckDB's spill folder and a `.partial`
beside the output, which no later run removed; the spill folder's parent was one name
for every user of the machine.
"""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pytest

from compiler.cli import main
from compiler.engine import connect
from compiler.output import DECISION_COLUMNS
from compiler.synth import synthesise
from tests.tables_fixture import write_tables

ROOT = Path(__file__).resolve().parents[1]
TABLES = str(ROOT / "tables")
COUNTIES = sorted(p.name[:6] for p in (ROOT / "tables" / "counties").iterdir())
HOUSEHOLD = {
    "household_id": "T1",
    "county_code": "330106",
    "members": [
        {"person_id": "P1", "birth_date": "1980-01-01", "income": {"wage": "16830.00"}}
    ],
}


@pytest.fixture
def small(tmp_path: Path) -> list[str]:
    """The fixture's tables and one household: the arguments before ``--out``."""
    tables = write_tables(tmp_path)
    source = tmp_path / "households.jsonl"
    source.write_text(json.dumps(HOUSEHOLD) + "\n", encoding="utf-8")
    return ["evaluate", "--tables", str(tables), "--households", str(source),
            "--as-of", "2025-06-01"]


@pytest.fixture(scope="module")
def population(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("synth") / "households.parquet"
    synthesise(6000, 7, path, COUNTIES)
    return path


# ---------------------------------------------------------------- where --out may go


@pytest.mark.parametrize("replace", [[], ["--replace"]], ids=["plain", "replace"])
@pytest.mark.parametrize("where", ["province/标准参数.csv", "samples/decisions.csv"])
def test_decisions_are_never_written_into_the_tables_folder(
    small, tmp_path, capsys, where, replace
) -> None:
    out = tmp_path / "tables" / where
    out.parent.mkdir(exist_ok=True)
    before = out.read_bytes() if out.exists() else None

    assert main([*small, "--out", str(out), *replace]) == 1

    err = capsys.readouterr().err
    assert f"{out}: E613 输出文件在正在读取的决策表文件夹中" in err
    assert "Traceback" not in err
    assert (out.read_bytes() if out.exists() else None) == before


def test_a_link_into_the_tables_folder_is_refused_too(small, tmp_path, capsys) -> None:
    standards = tmp_path / "tables" / "province" / "标准参数.csv"
    before = standards.read_bytes()
    link = tmp_path / "standards.csv"
    link.symlink_to(standards)

    assert main([*small, "--out", str(link), "--replace"]) == 1

    assert "E613" in capsys.readouterr().err and standards.read_bytes() == before


def test_the_registry_is_never_written_over(small, tmp_path, capsys) -> None:
    (tmp_path / "registry").mkdir()
    assert main([*small, "--out", str(tmp_path / "registry" / "d.csv")]) == 1
    assert "E613 输出文件在版本登记簿的位置" in capsys.readouterr().err

    named = tmp_path / "store" / "versions.parquet"  # a registry by another name
    named.parent.mkdir()
    assert main([*small, "--registry", str(named), "--working-copy", "--out", str(named)]) == 1
    assert "E613 输出文件在版本登记簿的位置" in capsys.readouterr().err
    assert not named.exists()


def _other_file(out: Path) -> None:
    """A file of ``out``'s format that holds something other than decisions."""
    if out.suffix == ".csv":
        out.write_text("标识,名称,值\ndibao_standard,低保标准,1301\n", encoding="utf-8")
    elif out.suffix == ".jsonl":
        out.write_text(json.dumps({"household_id": "T1", "note": "审核意见"}) + "\n")
    else:
        duckdb.connect().execute(
            f"COPY (SELECT 'T1' AS household_id, 1 AS score) TO '{out}' (FORMAT parquet)"
        )


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_an_existing_file_of_other_content_is_kept_unless_replace_is_given(
    small, tmp_path, capsys, suffix
) -> None:
    out = tmp_path / f"notes{suffix}"
    _other_file(out)
    before = out.read_bytes()

    assert main([*small, "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{out}: E617 输出文件已存在，且不是 jiuzhu 写出的决策结果，未覆盖" in err
    assert "--replace" in err and out.read_bytes() == before

    assert main([*small, "--out", str(out), "--replace"]) == 0
    assert _household_ids(out) == ["T1"]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".parquet"])
def test_the_same_command_again_replaces_its_own_decisions(
    small, tmp_path, capsys, suffix
) -> None:
    out = tmp_path / f"decisions{suffix}"
    assert main([*small, "--out", str(out)]) == 0
    first = out.read_bytes()

    assert main([*small, "--out", str(out), "--trace", "none"]) == 0

    assert "E617" not in capsys.readouterr().err
    assert out.read_bytes() != first and _household_ids(out) == ["T1"]


def test_an_empty_file_is_replaced_without_asking(small, tmp_path) -> None:
    out = tmp_path / "decisions.csv"
    out.touch()
    assert main([*small, "--out", str(out)]) == 0
    assert _household_ids(out) == ["T1"]


def test_help_tells_of_replace_in_chinese(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    said = capsys.readouterr().out
    assert "--replace" in said and "覆盖已有的、不是决策结果的输出文件" in said


@pytest.fixture
def csv_input(tmp_path: Path) -> tuple[list[str], Path]:
    """The fixture's tables and a CSV input ``g/a-households.csv`` with its members
    file and no events file: the arguments before ``--out``, and the input's folder."""
    tables = write_tables(tmp_path)
    folder = tmp_path / "g"
    folder.mkdir()
    (folder / "a-households.csv").write_text("household_id,county_code\nT1,330106\n")
    (folder / "a-members.csv").write_text(
        "household_id,person_id,birth_date,income.wage\nT1,P1,1980-01-01,16830.00\n"
    )
    return ["evaluate", "--tables", str(tables), "--households",
            str(folder / "a-households.csv"), "--as-of", "2025-06-01"], folder


@pytest.mark.parametrize(
    ("name", "said"),
    [("a-events.csv", "E613 输出文件是输入的事件文件，下次运行会把写出的决策结果当作事件文件读取"),
     ("a-members.csv", "E613 输出文件是输入的成员文件，写入会覆盖它")],
    ids=["events-not-there-yet", "members"],
)
def test_the_inputs_members_and_events_names_are_refused(
    csv_input, capsys, name, said
) -> None:
    """Decisions written as a-events.csv were read as the events by the next run."""
    before, folder = csv_input
    out = folder / name
    kept = out.read_bytes() if out.exists() else None

    assert main([*before, "--out", str(out), "--replace"]) == 1

    assert f"{out}: {said}" in capsys.readouterr().err
    assert (out.read_bytes() if out.exists() else None) == kept
    assert main(before) == 0  # the input still reads


def test_a_link_is_written_through_and_kept(small, tmp_path) -> None:
    target = tmp_path / "kept" / "decisions.csv"
    target.parent.mkdir()
    target.touch()
    link = tmp_path / "latest.csv"
    link.symlink_to(target)

    assert main([*small, "--out", str(link)]) == 0

    assert link.is_symlink() and link.resolve() == target
    assert _household_ids(target) == ["T1"]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_rerun_keeps_the_permissions_of_the_file_it_replaces(small, tmp_path, suffix) -> None:
    """The new file is written beside the old one and renamed over it: it took the
    umask's permissions, so a decisions file shared read-only with a group became
    private (or writable) after every rerun."""
    out = tmp_path / f"decisions{suffix}"
    assert main([*small, "--out", str(out)]) == 0
    out.chmod(0o640)
    before = out.stat().st_ino

    assert main([*small, "--out", str(out)]) == 0

    assert out.stat().st_ino != before  # replaced, not rewritten in place
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert _household_ids(out) == ["T1"]


def test_partials_of_dead_runs_beside_a_link_and_its_target_are_removed(
    small, tmp_path
) -> None:
    target = tmp_path / "kept" / "decisions.csv"
    target.parent.mkdir()
    link = tmp_path / "latest.csv"
    link.symlink_to(target)
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait(timeout=60)
    dead = ended.pid  # a process that has ended
    left = [folder / f".jiuzhu-{dead}-{'b' * 12}.partial.body"
            for folder in (tmp_path, target.parent)]
    for path in left:
        path.write_bytes(b"killed")

    assert main([*small, "--out", str(link)]) == 0

    assert not any(path.exists() for path in left)
    assert sorted(os.listdir(target.parent)) == ["decisions.csv"]


def test_a_temporary_folder_inside_the_tables_is_refused_before_any_work(
    small, tmp_path, capsys, monkeypatch
) -> None:
    """TMPDIR=tables/counties left jiuzhu-spill-0 among the workbooks: check said E109."""
    counties = tmp_path / "tables" / "counties"
    before = sorted(os.listdir(counties))
    monkeypatch.setattr(tempfile, "tempdir", str(counties))

    assert main([*small, "--out", str(tmp_path / "decisions.csv")]) == 1

    err = capsys.readouterr().err
    assert f"{counties}: E613 临时文件夹在正在读取的决策表文件夹中" in err and "TMPDIR" in err
    assert sorted(os.listdir(counties)) == before
    assert not (tmp_path / "decisions.csv").exists()


@pytest.mark.parametrize(
    ("content", "said"),
    [("标识\x1b[31m,名称\x07\n".encode(), "首行为 标识<U+001B>[31m,名称<U+0007>"),
     ("\ufeff标识,名称\r\n值,1\r\n".encode("utf-16-le"), "首行为 标识,名称"),
     (("长" * 300 + "\n").encode(), "首行为 " + "长" * 57 + "...")],
    ids=["controls", "utf-16", "long"],
)
def test_e617_quotes_the_first_line_visibly_and_clipped(
    small, tmp_path, capsys, content, said
) -> None:
    out = tmp_path / "notes.csv"
    out.write_bytes(content)

    assert main([*small, "--out", str(out)]) == 1

    err = capsys.readouterr().err
    assert f"实际为「{said}」" in err
    assert not any(char in err for char in "\x00\x07\x1b")


def _decisions_with(out: Path, columns: list[str]) -> None:
    """A file of ``out``'s format with the decision ``columns`` given (and one row)."""
    select = ", ".join(f"'x' AS {c}" for c in columns)
    fmt = "parquet" if out.suffix == ".parquet" else "csv, HEADER true"
    duckdb.connect().execute(f"COPY (SELECT {select}) TO '{out}' (FORMAT {fmt})")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize(
    ("columns", "said"),
    [([*DECISION_COLUMNS, "note"], "多出列 note"),
     ([*DECISION_COLUMNS[:-2]], "缺少列 alerts、trace"),
     ([*DECISION_COLUMNS[:-1], "审核意见", "note"], "缺少列 trace；多出列 审核意见、note"),
     ([*DECISION_COLUMNS[1:], "household_id"], "第 1 列为 county_code，应为 household_id")],
    ids=["extra", "missing", "both", "order"],
)
def test_e617_says_which_columns_differ(small, tmp_path, capsys, suffix, columns, said) -> None:
    out = tmp_path / f"earlier{suffix}"
    _decisions_with(out, columns)

    assert main([*small, "--out", str(out)]) == 1

    assert f"E617 输出文件已存在，且不是 jiuzhu 写出的决策结果，未覆盖；实际为「{said}」" in (
        capsys.readouterr().err
    )


def _household_ids(out: Path) -> list[str]:
    con = duckdb.connect()
    if out.suffix == ".parquet":
        return [r[0] for r in con.execute(f"SELECT household_id FROM '{out}'").fetchall()]
    if out.suffix == ".jsonl":
        return [json.loads(line)["household_id"] for line in out.read_text().splitlines()]
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    return [line.split(",")[0] for line in lines[1:]]


# ---------------------------------------------------------------- what a killed run leaves


def _evaluate(population: Path, out: Path, scratch: Path, *more: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "compiler.cli", "-v", "evaluate", "--tables", TABLES,
         "--households", str(population), "--as-of", "2025-06-01", "--out", str(out), *more],
        cwd=ROOT, env={**os.environ, "TMPDIR": str(scratch)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def _kill_when(child: subprocess.Popen, seen) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL ``child`` as soon as ``seen()`` holds; fail if it ends first."""
    while not seen():
        assert child.poll() is None, child.communicate()[1]
        time.sleep(0.002)
    assert child.poll() is None, child.communicate()[1]
    child.send_signal(signal.SIGKILL)
    child.communicate(timeout=60)
    assert child.returncode == -signal.SIGKILL


def test_what_runs_killed_hard_left_is_removed_by_the_next_run(population, tmp_path) -> None:
    scratch, folder = tmp_path / "tmp", tmp_path / "out"
    scratch.mkdir()
    folder.mkdir()
    out = folder / "decisions.csv"

    # killed while deciding batches: their parts stay in the batches folder
    batched = _evaluate(population, out, scratch, "--batch-size", "500")
    assert batched.stderr is not None
    for line in batched.stderr:
        if "第 2/12 批已决策" in line:
            break
    _kill_when(batched, lambda: True)
    assert [p for p in scratch.glob("jiuzhu-batches-*") if any(p.iterdir())]

    # killed while writing the output: the file that was to replace it stays
    whole = _evaluate(population, out, scratch)
    _kill_when(whole, lambda: any(".partial" in name for name in os.listdir(folder)))
    assert list(folder.glob(".jiuzhu-*.partial*")) and not out.exists()

    done = _evaluate(population, out, scratch, "--trace", "none", "--batch-size", "2000")
    err = done.communicate(timeout=300)[1]

    assert done.returncode == 0, err
    assert sorted(os.listdir(folder)) == ["decisions.csv"]
    assert not list(scratch.glob("jiuzhu-batches-*"))
    assert len(out.read_text(encoding="utf-8-sig").splitlines()) == 6001


SPILLING = """
import sys
from compiler.engine import connect
from compiler.output import DECISION_COLUMNS
con = connect("64MiB")
print(con.execute("SELECT current_setting('temp_directory')").fetchone()[0], flush=True)
con.execute("CREATE TEMP TABLE t AS SELECT md5(range::VARCHAR) || md5((range + 1)::VARCHAR)"
            " AS b FROM range(1500000)")
print("spilled", flush=True)
sys.stdin.readline()
"""


def test_a_spill_folder_is_kept_while_its_run_lives_and_removed_after_it_is_killed(
    tmp_path, monkeypatch
) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", SPILLING], cwd=ROOT, env={**os.environ, "TMPDIR": str(tmp_path)},
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert child.stdout is not None
    spill = Path(child.stdout.readline().strip())
    assert child.stdout.readline().strip() == "spilled"
    assert any(spill.iterdir())  # DuckDB's files of a table larger than its memory
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    connect("256MB")  # the child still runs: its files are left alone
    assert any(spill.iterdir())

    child.kill()
    child.wait(timeout=60)
    connect("256MB")
    assert not spill.exists()


@pytest.mark.parametrize("planted", [False, True], ids=["fresh", "link-planted"])
def test_the_spill_folder_is_the_users_own(tmp_path, monkeypatch, planted) -> None:
    """One `jiuzhu-spill` for every user let the first user's folder refuse the
    others' spills; a folder of the user's name that is a link is not followed."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o777)
    if planted:
        (tmp_path / f"jiuzhu-spill-{os.getuid()}").symlink_to(elsewhere)

    con = connect("256MB")
    spill = Path(con.execute("SELECT current_setting('temp_directory')").fetchone()[0])

    assert spill.name == str(os.getpid())
    assert spill.parent.name.startswith(f"jiuzhu-spill-{os.getuid()}")
    assert not spill.parent.is_symlink() and not spill.is_relative_to(elsewhere)
    status = spill.parent.stat()
    assert status.st_uid == os.getuid() and stat.S_IMODE(status.st_mode) == 0o700


def test_a_live_runs_partial_is_kept_and_an_old_ones_is_named(small, tmp_path, capsys) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    live = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                            stdin=subprocess.PIPE)
    try:
        running = folder / f".jiuzhu-{live.pid}-{'a' * 12}.partial"
        running.write_bytes(b"being written")
        old = folder / f".jiuzhu-{'0123456789abcdef'}.partial"
        old.write_bytes(b"x" * 2**20)
        others = [folder / ".jiuzhu-notes.partial", folder / "1.partial"]  # not Jiuzhu's
        for path in others:
            path.write_text("mine", encoding="utf-8")

        assert main([*small, "--out", str(folder / "decisions.csv")]) == 0

        assert running.read_bytes() == b"being written"
        assert old.exists() and all(path.exists() for path in others)
        assert f"{old}: W607 中断的运行可能留下了临时文件（1.0 MB）" in capsys.readouterr().err
    finally:
        live.communicate(b"")
