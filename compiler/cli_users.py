"""``jiuzhu user add``: manage the console's users file (a thin layer over console.users).

The password comes from a prompt (typed twice) or, for scripts, from the first line of
standard input with ``--password-stdin``; it is never an argument, so it never shows in
the process list or the shell history. Without a terminal and without that option the
command refuses with E618 before prompting: getpass would print Python's English
GetPassWarning and echo what it read.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import warnings
from pathlib import Path

from compiler.diagnostics import Diagnostic, make

DEFAULT_USERS = ".jiuzhu/users.yaml"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``user add`` to the jiuzhu command."""
    user = sub.add_parser("user", help="管理控制台用户（console users）")
    actions = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="新增或重设一个用户")
    add.add_argument("--users", default=DEFAULT_USERS, help=f"用户文件（默认 {DEFAULT_USERS}）")
    add.add_argument("--name", required=True, help="登录名")
    add.add_argument("--role", required=True,
                     choices=("county_admin", "reviewer", "province_maintainer"),
                     help="county_admin 县级管理员；reviewer 审核人；province_maintainer 省级维护人员")
    add.add_argument("--county", help="县级管理员所属县（市、区）的六位代码")
    add.add_argument("--tables", default="tables",
                     help="决策表文件夹（默认 tables），县级管理员的县须在其中有工作簿")
    add.add_argument("--password-stdin", action="store_true",
                     help="从标准输入的第一行读取密码（不在终端中运行时须用此项）")
    add.set_defaults(run=_add)


def _add(args: argparse.Namespace) -> int:
    _console_importable()
    from console.users import NAME_PATTERN, ROLES, UserError, add_user

    refused = _refused(args.name, args.county, Path(args.tables))
    if refused is None and not NAME_PATTERN.fullmatch(args.name):
        # console.users refuses it too, but only after the password was typed twice
        refused = f"用户名「{args.name}」不合适：2 至 40 个字母、数字、汉字或 _ . -"
    if refused:
        print(refused, file=sys.stderr)
        return 2
    _outside_tables(args.users, args.tables)
    password = _password(args.password_stdin)
    if password is None:
        return 2
    try:
        user = add_user(args.users, args.name, args.role, password, args.county)
    except UserError as error:
        print(str(error), file=sys.stderr)
        return 2
    where = f"，所属县 {user.county}" if user.county else ""
    print(f"已写入用户 {user.name}（{ROLES[user.role]}{where}）到 {args.users}")
    return 0


def _refused(name: str, county: str | None, tables: Path) -> str | None:
    """Why the name or county cannot be used, beyond console.users' own checks: the
    console makes each admin's draft folder from the name, so ``..`` or ``.`` would
    be a folder above it; a county needs a workbook in the tables folder."""
    if name.strip() == "":
        said = "为空" if name == "" else f"「{name}」只有空白"
        return f"用户名{said}：请用 --name 给出登录名，如 --name zhangsan"
    if name.strip(".") == "":
        return f"用户名「{name}」不合适：不能只由「.」组成（用户名会用作草稿文件夹名）"
    counties = tables / "counties"
    if county and counties.is_dir() and not any(counties.glob(f"{county}*")):
        return (f"县（市、区）代码「{county}」在 {counties} 中没有工作簿；"
                "请核对代码，或先建立该县的工作簿")
    return None


def _outside_tables(users: str, tables: str) -> None:
    """E613 for a users file in the tables folder, before the password is asked: it
    would be read as a workbook (E002), and its password hashes copied with the tables."""
    from compiler.output_guard import BREAKS_TABLES, Written, guard_outside

    guard_outside(users, tables, written=Written(
        noun="用户文件", option="--users", example=DEFAULT_USERS, effect=BREAKS_TABLES, also=""))


def _console_importable() -> None:
    """console/ sits beside compiler/ in the source tree (the install is editable)."""
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.append(root)


def _password(from_stdin: bool) -> str | None:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not _on_terminal():
        print(_refusal_without_terminal().render(), file=sys.stderr)
        return None
    try:
        # getpass falls back to reading with echo, warning in English, when it
        # cannot switch echo off; that is refused like a missing terminal
        with warnings.catch_warnings():
            warnings.simplefilter("error", getpass.GetPassWarning)
            first = getpass.getpass("密码：")
            again = getpass.getpass("再输入一次：")
    except getpass.GetPassWarning:
        print(_refusal_without_terminal().render(), file=sys.stderr)
        return None
    except EOFError:  # the terminal's input ended (Ctrl-D)
        print("没有读到密码（输入已结束）；在脚本中请用 --password-stdin 从标准输入给出密码",
              file=sys.stderr)
        return None
    if again != first:
        print("两次输入的密码不一致", file=sys.stderr)
        return None
    return first


def _on_terminal() -> bool:
    """Whether standard input is a terminal the password can be typed at."""
    return sys.stdin is not None and sys.stdin.isatty()


def _refusal_without_terminal() -> Diagnostic:
    return make(
        "E618",
        "标准输入不是终端，无法在提示符下输入密码（输入的密码会显示出来）",
        expected="在终端中运行并按提示输入两遍密码，或用 --password-stdin 从标准输入的第一行读取",
        hint='脚本中写 echo "$PASSWORD" | jiuzhu user add --name li --role reviewer '
        "--password-stdin",
    )
