"""How long an edit takes to show: ``python -m console.bench [--households 200]``.

Over a copy of the real tables/ and a synthetic population of one county (330106), an
admin's 标准与规则 page is run through Streamlit's AppTest; each round changes the dibao
standard in the grid and times the page until it has re-checked the working copy and
re-decided for every household (what a person waits for after pressing Enter in a
cell, less the browser's drawing). Prints the rounds and the median.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="控制台编辑响应时间")
    parser.add_argument("--households", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="jiuzhu-bench-") as scratch:
        run(Path(scratch), args.households, args.rounds)


def run(work: Path, households: int, rounds: int) -> None:
    from compiler.synth import synthesise
    from console.users import COUNTY_ADMIN, User, add_user

    shutil.copytree(REPO / "tables", work / "tables")
    population = synthesise(households, 7, work / "synth" / "households.parquet", ["330106"], replace=True)
    os.environ.update(
        JIUZHU_TABLES=str(work / "tables"), JIUZHU_STATE=str(work / "state"),
        JIUZHU_REGISTRY=str(work / "registry.duckdb"), JIUZHU_AS_OF="2025-06-01",
        JIUZHU_SAMPLES=str(population.paths[0]),
    )
    add_user(work / "state" / "users.yaml", "bench", COUNTY_ADMIN, "bench-password", "330106")
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "console" / "app.py"), default_timeout=300)
    at.session_state["user"] = User("bench", COUNTY_ADMIN, "330106")
    started = time.perf_counter()
    at.run()  # the first page is 标准与规则: a new draft, the households loaded once
    assert not at.exception, at.exception
    print(f"{households} 户（{population.members} 名成员）；首次打开页面 {time.perf_counter() - started:.2f} 秒")
    at.selectbox(key="quick_standard").set_value("dibao_standard")
    at.text_input(key="quick_value").input("1301")
    next(b for b in at.button if "写入工作副本" in b.label).click()
    at.run()
    timings = []
    for round_ in range(rounds):
        editor = at.data_editor[0]
        row = list(editor.value["标识"]).index("dibao_standard")
        value = str(1350 + 50 * round_)
        assert editor.key is not None
        at.session_state[editor.key] = {"edited_rows": {row: {"值": value}}, "added_rows": [],
                                        "deleted_rows": []}
        started = time.perf_counter()
        at.run()
        seconds = time.perf_counter() - started
        assert not at.exception, at.exception
        caption = next(c.value for c in at.caption if c.value.startswith("样本"))
        timings.append(seconds)
        print(f"  低保标准改为 {value}：页面 {seconds:.2f} 秒（{caption.split(' · 与')[0]}）")
    print(f"中位数 {statistics.median(timings):.2f} 秒")


if __name__ == "__main__":
    main()
