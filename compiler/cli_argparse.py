"""argparse's own words (usage:, options:, its error messages) in Chinese.

argparse passes every message it prints through gettext; ``localise_argparse`` replaces
its gettext with a lookup in ``ARGPARSE_TEXT``. The ``jiuzhu`` command and the console
launcher (``python -m console.serve``) call it before building their parsers.
"""

from __future__ import annotations

import argparse

ARGPARSE_TEXT = {
    "usage: ": "用法：",
    "options": "选项",
    "positional arguments": "位置参数",
    "show this help message and exit": "显示本帮助并退出",
    "%(prog)s: error: %(message)s\n": "%(prog)s：用法错误：%(message)s\n",
    "argument %(argument_name)s: %(message)s": "参数 %(argument_name)s：%(message)s",
    "the following arguments are required: %s": "缺少必需的参数：%s",
    "expected one argument": "缺少取值（以 - 开头的值请写成 选项=值，如 --memory-limit=1GB）",
    "expected at most one argument": "最多接受一个取值",
    "expected at least one argument": "至少需要一个取值",
    "expected %s argument": "需要 %s 个取值",
    "expected %s arguments": "需要 %s 个取值",
    "unrecognized arguments: %s": "无法识别的参数：%s",
    "invalid choice: %(value)r (choose from %(choices)s)": "取值 %(value)r 无效（可选：%(choices)s）",
    "invalid %(type)s value: %(value)r": "取值 %(value)r 无效",
    "ambiguous option: %(option)s could match %(matches)s": "选项 %(option)s 有歧义，可能是 %(matches)s",
    "not allowed with argument %s": "不能与参数 %s 同时使用",
    "one of the arguments %s is required": "参数 %s 必须给出其中一个",
    "ignored explicit argument %r": "该选项不接受取值 %r",
    "unexpected option string: %s": "意外的选项：%s",
}


def _chinese(text: str) -> str:
    return ARGPARSE_TEXT.get(text, text)


def _chinese_plural(one: str, many: str, n: int) -> str:
    return _chinese(one if n == 1 else many)


def localise_argparse() -> None:
    """Make every argparse parser of this process print Chinese."""
    argparse._ = _chinese  # type: ignore[attr-defined]
    argparse.ngettext = _chinese_plural  # type: ignore[attr-defined]


__all__ = ["ARGPARSE_TEXT", "localise_argparse"]
