"""`jiuzhu serve` refuses, in Chinese and before it starts, what would make it decide
wrongly or not at all: a registry the user named that is not there (E705), an address
or port it cannot listen on (E616); and it starts on a port it bound itself."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from compiler.cli import main
from tests.tables_fixture import write_tables

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another program listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def test_a_named_registry_that_is_not_there_is_refused(tmp_path, taken_port, capsys):
    # the port is taken too, so that a service that did start would stop at once
    tables, missing = write_tables(tmp_path), tmp_path / "typo.duckdb"
    assert main(["serve", "--tables", str(tables), "--registry", str(missing),
                 "--port", str(taken_port)]) == 1
    err = capsys.readouterr().err
    assert "E705" in err and str(missing) in err and "不存在" in err
    assert not missing.exists()


def test_the_registry_named_by_the_environment_must_exist(
    tmp_path, taken_port, capsys, monkeypatch
):
    monkeypatch.setenv("JIUZHU_REGISTRY", str(tmp_path / "none.duckdb"))
    tables = write_tables(tmp_path)
    assert main(["serve", "--tables", str(tables), "--port", str(taken_port)]) == 1
    err = capsys.readouterr().err
    assert "E705" in err and "环境变量 JIUZHU_REGISTRY" in err and "--registry 的" not in err


@pytest.mark.parametrize("where", ["missing", "no-province"])
def test_tables_without_a_province_folder_are_refused(tmp_path, taken_port, capsys, where):
    """A mistyped --tables used to start a service that said it was healthy and then
    refused every decision (helper-36)."""
    tables = tmp_path / "tables"
    if where == "no-province":
        tables.mkdir()
    assert main(["serve", "--tables", str(tables), "--port", str(taken_port)]) == 1
    err = capsys.readouterr().err
    assert "E001" in err and str(tables / "province") in err and "无法启动" in err
    assert "E616" not in err  # refused before trying the port


def test_a_port_in_use_is_told_in_chinese(tmp_path, taken_port, capsys):
    tables = write_tables(tmp_path)
    assert main(["serve", "--tables", str(tables), "--port", str(taken_port)]) == 1
    err = capsys.readouterr().err
    assert f"E616 端口 {taken_port} 已被占用" in err
    assert "address already in use" not in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [("--port", "99999", "0 至 65535"), ("--port", "http", "0 至 65535"),
     ("--workers", "0", "应为正整数"), ("--max-households", "-1", "应为正整数")],
)
def test_a_number_out_of_range_is_a_usage_error(option, value, said, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["serve", option, value])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and said in err and "内部错误" not in err


@pytest.fixture
def serving(tmp_path) -> Iterator[Callable[..., str]]:
    """Starts ``jiuzhu serve --port 0`` with the options given; returns its address."""
    servers: list[subprocess.Popen[str]] = []

    def start(*options: str) -> str:
        tables = write_tables(tmp_path)
        env = {k: v for k, v in os.environ.items() if k != "JIUZHU_REGISTRY"}
        server = subprocess.Popen(
            [sys.executable, "-m", "compiler.cli", "serve", "--tables", str(tables),
             "--port", "0", *options],
            cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        servers.append(server)
        assert server.stderr is not None
        line = server.stderr.readline()
        found = re.search(r"决策服务在 (http://127\.0\.0\.1:\d+) 上监听", line)
        assert found, line
        return found.group(1)

    yield start
    for server in servers:
        server.terminate()
        server.wait(timeout=10)


def test_the_service_answers_on_the_port_it_bound(serving):
    address = serving()
    # uvicorn's startup follows the line; the socket already accepts connections
    answer = httpx.get(f"{address}/v1/health", timeout=30)
    assert answer.json()["status"] == "ok"


def test_a_body_shorter_than_its_content_length_is_answered_not_awaited(serving):
    host, port = serving("--body-timeout", "1").removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as client:
        # the header promises 100 bytes; 9 come, then nothing
        client.sendall(
            b"POST /v1/decisions HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
            b'{"as_of":'
        )
        answer = b""
        while chunk := client.recv(65536):  # the service closes the connection
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408 ")
    error = json.loads(body)["error"]
    assert (error["code"], error["path"]) == ("E608", "$")
    assert error["message"] == "请求内容在 1 秒内没有继续传来，或 4 秒内没有传完，已停止等待"
    assert error["found"] == "已收到 9 字节，请求头 Content-Length 为 100 字节"


def test_a_body_that_trickles_in_is_answered_after_a_few_gaps(serving):
    """One byte every 0.6 s never trips a 1 s gap; the whole body may take four gaps
    (helper-36 held a request open with a byte every 9 s)."""
    host, port = serving("--body-timeout", "1").removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=60) as client:
        client.sendall(
            b"POST /v1/decisions HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        )
        answer = b""
        client.settimeout(0.6)
        for _ in range(30):  # up to 18 s of trickling
            try:
                client.sendall(b" ")
                answer += client.recv(65536)
            except (TimeoutError, OSError):
                continue
            if answer:
                break
        client.settimeout(10)
        while chunk := client.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert 3.5 < time.monotonic() - started < 10


def _serve(tmp_path) -> subprocess.Popen:
    """``jiuzhu serve`` on a free port over small tables, its log on a pipe."""
    tables = write_tables(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "JIUZHU_REGISTRY"}
    return subprocess.Popen(
        [sys.executable, "-m", "compiler.cli", "serve", "--tables", str(tables), "--port", "0"],
        cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_the_log_has_a_line_per_request_not_per_workbook(tmp_path):
    """Opening the tables logged a line per workbook read (about 100 a time with the
    real tables, helper-58); those are for -v. The request's own line is kept."""
    server = _serve(tmp_path)
    try:
        assert server.stderr is not None
        address = re.search(r"(http://127\.0\.0\.1:\d+)", server.stderr.readline()).group(1)  # type: ignore[union-attr]
        answer = httpx.post(f"{address}/v1/decisions", timeout=60, json={
            "as_of": "2025-06-01",
            "households": [{"household_id": "H1", "county_code": "330106",
                            "members": [{"person_id": "P1", "birth_date": "1980-01-01"}]}],
        })  # fmt: skip
        assert answer.status_code == 200, answer.text
    finally:
        server.terminate()
        _, log = server.communicate(timeout=10)
    assert "POST /v1/decisions 200" in log
    assert "已读取" not in log


def test_start_and_stop_are_told_in_chinese_and_uvicorns_warnings_kept(tmp_path):
    """uvicorn printed its own English lines (Started server process, Uvicorn running
    on ..., Finished server process, helper-65); its level is now warning, so what it
    warns of (a request it cannot parse) still reaches the log."""
    server = _serve(tmp_path)
    try:
        assert server.stderr is not None
        first = server.stderr.readline()
        address = re.search(r"http://(127\.0\.0\.1):(\d+)", first)
        assert address and f"（进程 {server.pid}，Ctrl+C 停止）" in first, first
        assert httpx.get(f"{address.group(0)}/v1/health", timeout=30).status_code == 200
        with socket.create_connection((address.group(1), int(address.group(2)))) as client:
            client.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            client.recv(65536)
    finally:
        server.terminate()
        _, log = server.communicate(timeout=10)
    assert f"决策服务已停止（进程 {server.pid}）" in log and "已终止" in log, log
    assert "Invalid HTTP request received" in log  # uvicorn's warning, as it wrote it
    for english in ("Started server process", "Uvicorn running", "Application startup",
                    "Shutting down", "Finished server process"):
        assert english not in log, log
