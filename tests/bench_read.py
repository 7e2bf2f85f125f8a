"""Time read_workbook on a large workbook: 90 sheets x 500 rules x 10 columns.

Not a test: run ``python tests/bench_read.py`` from the project root. It writes the
workbook (as .xlsx and as a folder of .csv) in a temporary folder, reads each three
times and prints the median.
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from compiler.read import read_workbook
from tests.workbooks import write_csv_folder, write_xlsx

SHEETS, RULES = 90, 500


def decision_table(index: int, rng: random.Random) -> list[list[object]]:
    """A decision table shaped like the real ones: four header rows, then rules."""
    rows: list[list[object]] = [
        [f"table_{index}", f"决策表{index}", "FIRST", "层级=家庭"],
        ["规则", *["输入"] * 6, "输出", "输出", "注释"],
        ["名称", *[f"input_{c}" for c in range(6)], "group", "amount", "依据"],
        [
            "类型",
            "money",
            "boolean",
            "text",
            "integer",
            "money",
            "number",
            "text",
            "money",
            "text",
        ],
    ]
    for rule in range(RULES):
        rows.append(
            [
                f"r{rule}",
                f"< {rng.randint(1, 5000)}",
                rng.choice(["是", "否", "-"]),
                "-",
                rng.randint(1, 100),
                round(rng.random() * 1000, 2),
                "[1..5]",
                "dibao",
                1301.5,
                "二; 三(一)",
            ]
        )
    return rows


def median_read(path: Path) -> tuple[float, float, int]:
    """Median wall-clock and CPU seconds of three reads, and the number of cells.

    CPU time is printed too because a shared machine's load swings the wall clock.
    """
    walls, cpus, cells = [], [], 0
    for _ in range(3):
        wall, cpu = time.perf_counter(), time.process_time()
        book, _diagnostics = read_workbook(path)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
        cells = sum(len(sheet.cells) for sheet in book.sheets)
    return statistics.median(walls), statistics.median(cpus), cells


def main() -> None:
    rng = random.Random(20250407)
    sheets = {f"表{i}": decision_table(i, rng) for i in range(SHEETS)}
    with tempfile.TemporaryDirectory() as folder:
        xlsx = write_xlsx(Path(folder) / "big.xlsx", sheets)
        csvs = write_csv_folder(Path(folder) / "big", sheets, encoding="gb18030")
        for label, path in (("xlsx", xlsx), ("csv folder (GB18030)", csvs)):
            wall, cpu, cells = median_read(path)
            print(
                f"{label}: {SHEETS} sheets, {cells} cells, median of 3: "
                f"{wall:.2f} s wall, {cpu:.2f} s CPU"
            )


if __name__ == "__main__":
    main()
