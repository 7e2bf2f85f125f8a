"""The shared DMN TCK subset: pass/ cases agree with the TCK on both evaluators,
reject/ cases are refused naming the element (shared/conformance/dmn-tck/README.md)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from compiler.cli import main
from compiler.conformance import case_folders, run_all, run_case

TCK = Path(__file__).resolve().parents[1].parent / "shared" / "conformance" / "dmn-tck"
PASS = sorted((TCK / "pass").iterdir()) if (TCK / "pass").is_dir() else []
REJECT = sorted((TCK / "reject").iterdir()) if (TCK / "reject").is_dir() else []

# This case holds only literal expressions (FEEL `between` over numbers, strings, dates,
# times and durations) and no decision table, so nothing in it can be imported or
# checked; the runner reports it as failed rather than passing it vacuously.
NO_DECISION_TABLE = {"L3-0071-feel-between"}

# The element each reject/ case must be refused for, as its message names it.
REFUSED_FOR = {
    "L3-0035-test-structure-output": "业务知识模型「remainder」",
    "L3-0036-dt-variable-input": "决策「Compare Boolean」",
    "L3-0037-dt-on-bkm-implicit-params": "决策「Person's description」",
    "L3-0039-dt-list-semantics": "决策「Symptom Analysis」",
    "L3-0040-singlenestedcontext": "决策「Boxed Context」",
}


def test_shared_subset_is_present() -> None:
    assert PASS and REJECT, f"the TCK subset should be at {TCK}"


def _pass_params() -> list:  # type: ignore[type-arg]
    marks = {
        name: pytest.mark.xfail(strict=True, reason="no decision table to check")
        for name in NO_DECISION_TABLE
    }
    return [pytest.param(p, id=p.name, marks=marks.get(p.name, ())) for p in PASS]


@pytest.mark.parametrize("folder", _pass_params())
def test_pass_case_agrees_with_tck_on_both_evaluators(folder: Path) -> None:
    result = run_case(folder)
    assert result.passed, "\n".join(result.failures)
    assert result.checked > 0


@pytest.mark.parametrize("name", sorted(NO_DECISION_TABLE))
def test_case_without_decision_table_is_reported_not_passed(name: str) -> None:
    result = run_case(TCK / "pass" / name)
    assert not result.passed
    assert "没有可导入的决策表" in result.failures[0]


@pytest.mark.parametrize("folder", REJECT, ids=[p.name for p in REJECT])
def test_reject_case_is_refused_naming_the_element(folder: Path) -> None:
    result = run_case(folder)
    assert result.passed, "\n".join(result.failures)
    messages = [d.message for d in result.refusals]
    assert all(d.code == "E307" and "不支持" in d.message for d in result.refusals)
    assert any(REFUSED_FOR[folder.name] in m for m in messages), messages


def test_checked_results_count_both_evaluators() -> None:
    result = run_case(TCK / "pass" / "L3-0087-chapter-11-example")
    # Strategy is checked with Eligibility and Bureau call type (invocations, refused)
    # taken from the TCK's expected values for the same inputs; the rest are skipped.
    assert result.checked == 1
    assert any("Routing" in s for s in result.skipped)


def test_a_wrong_expectation_fails_on_both_evaluators(tmp_path: Path) -> None:
    case = tmp_path / "pass" / "L2-0116-count-collect-hitpolicy"
    shutil.copytree(TCK / "pass" / case.name, case)
    tests = next(case.glob("*test-01.xml"))
    text = tests.read_text(encoding="utf-8")
    tests.write_text(text.replace(">4</value>", ">3</value>", 1), encoding="utf-8")

    result = run_case(case)

    assert not result.passed
    assert [f.split(" ")[1] for f in result.failures] == ["[interpreter]:", "[sql]:"]


def test_reject_folder_that_imports_fails(tmp_path: Path) -> None:
    case = tmp_path / "reject" / "L2-0004"
    shutil.copytree(TCK / "pass" / "L2-0004-simpletable-U", case)
    assert not run_case(case).passed


def test_cli_prints_the_summary_line(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["conformance", str(TCK), "-q"])
    out = capsys.readouterr().out.splitlines()
    summary = next(
        line for line in out if re.fullmatch(r"\d+ passed, \d+ failed", line)
    )
    passed = len(PASS) + len(REJECT) - len(NO_DECISION_TABLE)
    assert summary == f"{passed} passed, {len(NO_DECISION_TABLE)} failed"
    assert [line for line in out if line.startswith("failed: ")] == [
        f"failed: {name}" for name in sorted(NO_DECISION_TABLE)
    ]
    assert code == 1


def test_case_folders_finds_every_model() -> None:
    assert len(case_folders(TCK)) == len(PASS) + len(REJECT)
    assert run_all(TCK / "reject").line() == f"{len(REJECT)} passed, 0 failed"
