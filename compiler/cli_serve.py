"""``jiuzhu serve``: the HTTP decision service (compiler.service) on uvicorn."""

from __future__ import annotations

import argparse
import logging


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    serve = sub.add_parser(
        "serve", help="HTTP 决策服务（decision service, docs/service.md）"
    )
    serve.add_argument("--host", default="127.0.0.1", help="监听地址，默认只在本机")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--registry", default=None, help="版本登记簿文件（默认在 tables 旁）"
    )
    serve.add_argument("--tables", default="tables")
    serve.add_argument("--workers", type=int, default=2, help="并行计算的线程数")
    serve.add_argument(
        "--max-households", type=int, default=10_000, help="每次请求最多户数"
    )
    serve.add_argument("--max-body-mb", type=int, default=20, help="请求内容上限（MB）")
    serve.set_defaults(run=run_serve)


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from compiler.service import Settings, create_app

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    jiuzhu = logging.getLogger("jiuzhu")
    jiuzhu.addHandler(handler)
    jiuzhu.setLevel(logging.INFO)
    jiuzhu.propagate = False
    settings = Settings(
        tables=args.tables,
        registry=args.registry,
        max_body_bytes=args.max_body_mb * 1024 * 1024,
        max_households=args.max_households,
        workers=args.workers,
    )
    # uvicorn's access log would repeat the request line with the client's address
    # keep-alive well above a slow decision, so clients seldom reuse a closed connection
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        access_log=False,
        timeout_keep_alive=30,
    )
    return 0
