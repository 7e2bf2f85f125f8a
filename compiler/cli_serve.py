"""``jiuzhu serve``: the HTTP decision service (compiler.service) on uvicorn.

Everything that would stop the service from starting is checked before it starts,
with a Chinese message: a number out of range is a usage error (exit 2); a registry
the user named that is not there (E705, as for every command that reads it) and an
address or port it cannot listen on (E616) are errors (exit 1). The socket is bound
here and handed to uvicorn, so a port in use is not reported in uvicorn's English.
"""

from __future__ import annotations

import argparse
import errno
import logging
import os
import socket
from pathlib import Path
from typing import Any

from compiler.diagnostics import Diagnostic, Location, make
from compiler.errors import InputError, RegistryError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from compiler.cli import positive

    serve = sub.add_parser(
        "serve", help="HTTP 决策服务（decision service, docs/service.md）"
    )
    serve.add_argument("--host", default="127.0.0.1", help="监听地址，默认只在本机")
    serve.add_argument("--port", type=port_number, default=8000, help="端口，0 至 65535")
    serve.add_argument(
        "--registry", default=None, help="版本登记簿文件（默认在 tables 旁）"
    )
    serve.add_argument("--tables", default="tables")
    serve.add_argument(
        "--workers", type=positive, default=2, help="并行计算的线程数（至少 1）"
    )
    serve.add_argument(
        "--max-households", type=positive, default=10_000, help="每次请求最多户数"
    )
    serve.add_argument(
        "--max-body-mb", type=positive, default=20, help="请求内容上限（MB）"
    )
    serve.add_argument(
        "--body-timeout",
        type=positive,
        default=30,
        help="请求内容中断多少秒后停止等待（408），默认 30",
    )
    serve.add_argument(
        "--uvicorn-log-level",
        choices=("critical", "error", "warning", "info", "debug", "trace"),
        default="warning",
        help="uvicorn 自身日志（英文）的级别：默认 warning，只打印它的警告和错误；"
        "info 时另有它启动、停止时的英文提示",
    )
    serve.add_argument(
        "--access-log",
        action="store_true",
        help="另外打印 uvicorn 的访问日志（英文，每个请求一行，含客户端地址）",
    )
    serve.set_defaults(run=run_serve)


def port_number(text: str) -> int:
    """A --port: a whole number from 0 (any free port) to 65535."""
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"端口「{text}」应为 0 至 65535 之间的整数，如 8000")
    return value


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from compiler.cli_registry import registry_named
    from compiler.service import Settings, create_app

    _check_tables(args.tables)
    _check_registry(args)
    sock = listen(args.host, args.port)
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    jiuzhu = logging.getLogger("jiuzhu")
    jiuzhu.addHandler(handler)
    # one line per request; with -v also one per workbook each time tables are opened
    jiuzhu.setLevel(logging.DEBUG if args.verbose else logging.INFO)
    jiuzhu.propagate = False
    settings = Settings(
        tables=args.tables,
        registry=args.registry,
        registry_named_by=registry_named(args),
        max_body_bytes=args.max_body_mb * 1024 * 1024,
        max_households=args.max_households,
        workers=args.workers,
        body_timeout=args.body_timeout,
    )
    host, port = sock.getsockname()[:2]
    process = os.getpid()
    jiuzhu.info(
        "决策服务在 http://%s:%d 上监听（进程 %d，Ctrl+C 停止）", host, port, process
    )
    server = uvicorn.Server(_uvicorn_config(create_app(settings), args))
    try:
        server.run(sockets=[sock])
    finally:  # also when uvicorn passes on the SIGTERM it stopped for (exit 143)
        if server.started:
            jiuzhu.info("决策服务已停止（进程 %d）", process)
    if not server.started:  # uvicorn logged why: its errors are above its level
        jiuzhu.error("决策服务未能启动（进程 %d），原因见上方 uvicorn 的日志", process)
        return 1
    return 0


def _uvicorn_config(app: object, args: argparse.Namespace) -> Any:
    """uvicorn's settings: its own log (English) at ``--uvicorn-log-level``, warning
    by default, so that its start and stop lines give way to the Chinese ones above
    while its warnings and errors (with their tracebacks) are still printed. Its
    access log would repeat the request line with the client's address: only with
    ``--access-log``. Keep-alive stays well above a slow decision, so clients seldom
    reuse a closed connection."""
    import uvicorn

    config = uvicorn.Config(
        app,
        access_log=args.access_log,
        log_level=args.uvicorn_log_level,
        timeout_keep_alive=30,
    )
    if args.access_log:  # asked for: one line a request whatever the level above
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    return config


def _check_tables(tables: str) -> None:
    """E001 when ``--tables`` has no province folder (a mistyped path): the service
    would start, report itself healthy and refuse every decision. Errors inside the
    tables do not stop it: those counties answer 503 until the workbooks are fixed."""
    folder = Path(tables) / "province"
    if not folder.is_dir():
        raise InputError(
            make(
                "E001",
                "找不到省级工作簿，决策服务无法启动",
                Location(str(folder)),
                found="文件夹不存在" if not Path(tables).exists() else "缺少 province 文件夹",
                expected="--tables 指向的文件夹中有 province/ 文件夹（CSV 文件或一个 .xlsx）",
                hint="检查 --tables 的路径是否写对",
            )
        )


def _check_registry(args: argparse.Namespace) -> None:
    """A registry the user named must exist (E705) and lie outside the tables (E707):
    else every county would be decided from its working copy without a word."""
    from compiler.cli_registry import registry_named, registry_path
    from compiler.registry import missing

    named = registry_named(args)
    if named is None:
        return
    path = registry_path(args)
    if not path.exists():
        raise RegistryError(missing(path, named))


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` and listening, as uvicorn makes one; E616 when it
    cannot be. It listens at once, so that a client told the address by the log line
    waits in the backlog while the app starts instead of being refused."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)  # uvicorn's default backlog
    except OSError as error:
        sock.close()
        raise InputError(_cannot_listen(host, port, error)) from None
    sock.set_inheritable(True)
    return sock


def _cannot_listen(host: str, port: int, error: OSError) -> Diagnostic:
    where = f"{host}:{port}"
    if error.errno == errno.EADDRINUSE:
        message, hint = f"端口 {port} 已被占用，服务无法启动", (
            "可能已有一个 jiuzhu serve 在运行；换一个端口（--port 8001），或先停止占用它的程序"
        )
    elif error.errno in (errno.EACCES, errno.EPERM):
        message, hint = f"没有权限监听端口 {port}", "1024 以下的端口需要管理员权限；请换用 1024 以上的端口，如 8000"
    else:
        message, hint = f"无法在地址「{host}」上监听", (
            "--host 应为本机的地址，如 127.0.0.1（只在本机）或 0.0.0.0（所有网卡）"
        )
    return make(
        "E616", message, Location(where), found=where,
        expected="本机空闲的地址和端口，如 127.0.0.1:8000", hint=hint,
    )


__all__ = ["listen", "port_number", "register", "run_serve"]
