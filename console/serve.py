"""Start the console on 127.0.0.1: ``python -m console.serve [--demo] [--port N]``.

With ``--demo`` (what ``make run`` uses) two demo users are added to the users file the
first time: a county admin for 330106 西湖区 and a reviewer, with random passwords kept
in ``$JIUZHU_STATE/demo-passwords.txt`` (gitignored, readable by the owner only) and
printed on every start. The console itself is ``streamlit run console/app.py``, with
Streamlit's file watcher off: code changed on disk while the console runs (an upgrade)
is used from the next start, rather than reloaded under open sessions, which signed
every user out unsaid and lost their edit in progress, and offered Streamlit's English
"File change. Rerun" prompt (helper-89).
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import sys
from pathlib import Path

from compiler.cli_argparse import localise_argparse
from console.config import problems, settings
from console.users import COUNTY_ADMIN, REVIEWER, add_user, load_users

DEMO_USERS = (("xihu-admin", COUNTY_ADMIN, "330106"), ("reviewer", REVIEWER, None))
APP = Path(__file__).resolve().parent / "app.py"


def demo_record() -> Path:
    """The file keeping the demo passwords: in ``$JIUZHU_STATE`` (.jiuzhu by default)."""
    return settings().state / "demo-passwords.txt"


def demo_users() -> list[tuple[str, str, str]]:
    """(name, role, password) of the demo users, creating them when missing."""
    config = settings()
    record = demo_record()
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
    raise SystemExit("127.0.0.1 上没有可用的端口，控制台未启动")


def port_number(text: str) -> int:
    """A --port (or CONSOLE_PORT, which argparse reads through this too)."""
    if not text.strip().isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"「{text}」应为 0 至 65535 之间的端口号（0 为任一空闲端口），如 8501")
    return int(text)


def parser() -> argparse.ArgumentParser:
    localise_argparse()  # usage:, options: and its errors in Chinese, as jiuzhu prints them
    launcher = argparse.ArgumentParser(
        prog="python -m console.serve", description="在 127.0.0.1 上启动救助控制台"
    )
    launcher.add_argument(
        "--port", type=port_number, default=os.environ.get("CONSOLE_PORT", "8501"),
        help="端口，默认 8501 或环境变量 CONSOLE_PORT；被占用时改用一个空闲端口",
    )
    launcher.add_argument(
        "--demo", action="store_true",
        help="创建（首次）并打印两个演示用户及其密码，密码保存在 $JIUZHU_STATE/demo-passwords.txt",
    )
    return launcher


def refuse_settings() -> None:
    """Stop before Streamlit starts when a JIUZHU_* variable cannot be used, saying
    each in Chinese (the app says the same on every page, and a state folder that
    cannot be made would fail on the first page opened)."""
    wrong = problems()
    if not wrong:
        state = settings().state
        try:
            state.mkdir(parents=True, exist_ok=True)
        except OSError:
            wrong.append(f"无法建立保存草稿、上传文件和登录记录的文件夹「{state}」（环境变量 "
                         "JIUZHU_STATE，未设置时为 .jiuzhu）；应为可以写入的文件夹，如 .jiuzhu")
    if wrong:
        print("控制台未启动：", *wrong, sep="\n  ", file=sys.stderr)
        raise SystemExit(2)


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    refuse_settings()
    users_file = settings().users
    if not args.demo and not users_file.exists():
        print(f"注意：用户文件「{users_file}」不存在，还没有人能登录；"
              "用 jiuzhu user add 增加用户，或加 --demo 创建演示用户", file=sys.stderr)
    if args.demo:
        try:
            users = demo_users()
        except OSError as error:  # a state folder or users file that cannot be written
            raise SystemExit(f"无法保存演示用户：无法写入 {error.filename or demo_record()}；"
                             "请检查 JIUZHU_STATE、JIUZHU_USERS 指向的文件夹是否存在、是否可写") from None
        print(f"演示用户（密码保存在 {demo_record()}）：")
        for name, role, password in users:
            role_cn = "县级管理员 330106 西湖区" if role == COUNTY_ADMIN else "审核人（可查看所有县）"
            print(f"  用户名 {name:<12} 密码 {password}    {role_cn}")
    port = free_port(args.port)
    print(f"控制台地址：http://127.0.0.1:{port}  （Ctrl+C 停止）", flush=True)
    command = [sys.executable, "-m", "streamlit", "run", str(APP),
               "--server.address", "127.0.0.1", "--server.port", str(port),
               "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--client.toolbarMode", "viewer", "--logger.level", "warning",
               "--server.fileWatcherType", "none", "--server.runOnSave", "false"]
    os.execv(sys.executable, command)


if __name__ == "__main__":
    main()
