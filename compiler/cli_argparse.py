"""argparse's own words (usage:, options:, its error messages) in Chinese.

argparse passes every message it prints through gettext; ``localise_argparse`` replaces
its gettext with a lookup in ``ARGPARSE_TEXT``. The ``jiuzhu`` command and the console
launcher (``python -m console.serve``) call it before building their parsers.
``Parser`` adds advice argparse cannot give: a positional that starts with ``-``
(``jiuzhu explain "-2+3"``) is taken for an option, and the positional is then said
to be missing; the error says to write ``--`` before it.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

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


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose "missing positional" error says why when an argument
    starting with ``-`` that is no option of the command was given: argparse took
    it for an option. Subcommands' parsers are of the same class (argparse makes
    them with ``type(parent)``)."""

    _given: tuple[str, ...] = ()

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self._given = tuple(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        prefix = _chinese("the following arguments are required: %s").split("%s")[0]
        names = message[len(prefix) :].split(", ") if message.startswith(prefix) else []
        positionals = [n for n in names if not n.startswith("-")]
        dashed = [a for a in self._given if self._unknown_option(a)]
        if positionals and dashed:
            shown = shlex.quote(dashed[0])
            message += (
                f"（「{dashed[0]}」以 - 开头，被当作了选项；作为 {positionals[0]} "
                f"时请把选项写在前面，再写 -- 和它，如 {self.prog} [选项] -- {shown}）"
            )
        super().error(message)

    def _get_option_tuples(self, option_string: str) -> list[Any]:
        """The options an abbreviation may stand for; --verbose only when no other
        option starts so, so that ``--ver`` stays ``--version`` in a command that has
        both (export), as before every command took --verbose (helper-135)."""
        found = super()._get_option_tuples(option_string)
        others = [t for t in found if t[1] != "--verbose"]
        return others or found

    def _unknown_option(self, text: str) -> bool:
        """Whether ``text`` looks like a short option (``-2+3``) but is none of this
        parser's, nor an abbreviation of one; ``--housholds`` is a misspelt option."""
        if not text.startswith("-") or text.startswith("--") or text == "-":
            return False
        name = text.split("=", 1)[0]
        return not any(o.startswith(name) for o in self._option_string_actions)


def _chinese(text: str) -> str:
    return ARGPARSE_TEXT.get(text, text)


def _chinese_plural(one: str, many: str, n: int) -> str:
    return _chinese(one if n == 1 else many)


def localise_argparse() -> None:
    """Make every argparse parser of this process print Chinese."""
    argparse._ = _chinese  # type: ignore[attr-defined]
    argparse.ngettext = _chinese_plural  # type: ignore[attr-defined]


__all__ = ["ARGPARSE_TEXT", "Parser", "localise_argparse"]
