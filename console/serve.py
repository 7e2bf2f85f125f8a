"""Start the console on 127.0.0.1: ``python -m console.serve [--demo] [--port N]``.

With ``--demo`` (what ``make run`` uses) two demo users are added to the users file the
first time: a county admin for 330106 西湖区 and a reviewer, with random passwords kept
in ``$JIUZHU_STATE/demo-passwords.txt`` (gitignored, readable by the owner only) and
printed on every start. The console itself is ``streamlit run console/app.py``.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import sys
from pathlib import Path

from console.config import settings
from console.users import COUNTY_ADMIN, REVIEWER, add_user, load_users

DEMO_USERS = (("xihu-admin", COUNTY_ADMIN, "330106"), ("reviewer", REVIEWER, None))
APP = Path(__file__).resolve().parent / "app.py"


def demo_users() -> list[tuple[str, str, str]]:
    """(name, role, password) of the demo users, creating them when missing."""
    config = settings()
    record = config.state / "demo-passwords.txt"
    known = dict(line.split("\t", 1) for line in record.read_text(encoding="utf-8").splitlines()
                 if "\t" in line) if record.exists() else {}
    existing = load_users(config.users)
    found = []
    for name, role, county in DEMO_USERS:
        password = known.get(name)
        if name not in existing or password is None:
            password = secrets.token_urlsafe(9)
            add_user(config.users, name, role, password, county)
            known[name] = password
        found.append((name, role, password))
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text("".join(f"{n}\t{p}\n" for n, p in known.items()), encoding="utf-8")
    os.chmod(record, 0o600)
    return found


def free_port(preferred: int) -> int:
    for port in [preferred, 0]:
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(probe.getsockname()[1])
    raise RuntimeError("no free port on 127.0.0.1")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="启动救助控制台（127.0.0.1）")
    parser.add_argument("--port", type=int, default=int(os.environ.get("CONSOLE_PORT", "8501")))
    parser.add_argument("--demo", action="store_true", help="创建并打印演示用户")
    args = parser.parse_args(argv)
    if args.demo:
        print("演示用户（密码保存在 .jiuzhu/demo-passwords.txt）：")
        for name, role, password in demo_users():
            role_cn = "县级管理员 330106 西湖区" if role == COUNTY_ADMIN else "审核人（可查看所有县）"
            print(f"  用户名 {name:<12} 密码 {password}    {role_cn}")
    port = free_port(args.port)
    print(f"控制台地址：http://127.0.0.1:{port}  （Ctrl+C 停止）", flush=True)
    command = [sys.executable, "-m", "streamlit", "run", str(APP),
               "--server.address", "127.0.0.1", "--server.port", str(port),
               "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--client.toolbarMode", "viewer"]
    os.execv(sys.executable, command)


if __name__ == "__main__":
    main()
