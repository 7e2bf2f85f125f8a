"""``jiuzhu console``: the console's launcher from any folder, in Chinese, where
``python -m console.serve`` outside the repository failed in Python's English
(helper-133)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
JIUZHU = Path(sys.executable).with_name("jiuzhu")
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1, no proxy


def jiuzhu(folder: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("JIUZHU_", "CONSOLE_"))}
    return subprocess.Popen([str(JIUZHU), "console", *args], cwd=folder, env={**clean, **(env or {})},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_help_is_chinese_outside_the_repository(tmp_path: Path) -> None:
    out, err = jiuzhu(tmp_path, "--help").communicate(timeout=60)
    assert "用法：jiuzhu console" in out and "--demo" in out and "--port" in out, out + err
    assert "usage:" not in out and "Traceback" not in out + err


def test_a_bad_port_is_a_usage_error(tmp_path: Path) -> None:
    process = jiuzhu(tmp_path, "--port", "x")
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2 and "「x」应为 0 至 65535 之间的端口号" in err, err


def test_no_tables_folder_is_said_before_streamlit_starts(tmp_path: Path) -> None:
    process = jiuzhu(tmp_path)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2 and "控制台未启动" in err and "JIUZHU_TABLES" in err, err
    assert "ModuleNotFoundError" not in err and "Traceback" not in err


def test_the_console_starts_from_another_folder(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "tables", tmp_path / "tables",
                    ignore=shutil.ignore_patterns("registry", "*.duckdb*"))
    process = jiuzhu(tmp_path, "--demo", "--port", "0")
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(4)]
        address = next(line for line in lines if line.startswith("控制台地址"))
        assert "用户名 xihu-admin" in "".join(lines)
        url = address.split()[0].removeprefix("控制台地址：")
        assert url.startswith("http://127.0.0.1:")
        for _ in range(120):  # Streamlit answers its health check once started
            try:
                with DIRECT.open(f"{url}/_stcore/health", timeout=2) as answer:
                    assert answer.status == 200
                    break
            except OSError:
                time.sleep(0.5)
        else:
            raise AssertionError(process.stderr.read() if process.stderr else "no answer")
    finally:
        process.terminate()
        process.wait(timeout=30)
