"""E702 for a publish whose base is not the county's latest version, said as it came.

A base is the version a working copy started from. It is given by hand (``--base``,
the console's draft) or read from the base marker beside the workbook
(compiler/registry_marker.py). Each way of going wrong is its own message (helper-100):

- ``base_not_latest``: the base given names an older version than the latest; the
  latest may be someone else's, or the user's own (the number was simply old), so the
  message says who published it and when, and whether the working copy already holds
  its content, instead of assuming another publisher;
- ``base_unknown``: the base given is no version of this registry (a number past the
  latest, below 0, or any number but 0 where the county has no version);
- ``marker_missing``: no marker beside the workbook while the county has versions
  (``base_step``: the commands it, and a marker that cannot be read or names no
  version of the registry, suggest).

A marker behind the latest version is ``registry_publish.marker_behind``; a publish
overtaken while it ran (another one stored first) is ``registry.stale``.

The commands these hints (and E710's) suggest are written by ``command``, with the
``--tables`` and ``--registry`` the refused command was given (``hint_options``, set
by ``jiuzhu publish``): copied without them, ``jiuzhu diff`` read the default folders
and told of versions of another registry, or of none (helper-109).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from compiler.diagnostics import Diagnostic, Location, make
from compiler.registry import Version

# (tables, registry) as the running command was given them; None: not given
_GIVEN: ContextVar[tuple[str | Path | None, str | Path | None]] = ContextVar(
    "jiuzhu_hint_options", default=(None, None)
)


@contextmanager
def hint_options(
    tables: str | Path | None, registry: str | Path | None
) -> Iterator[None]:
    """Within the block, every ``command`` carries ``--tables`` (unless it is the
    default ``tables``) and ``--registry`` (when given): the options of the command
    whose refusal suggests them."""
    token = _GIVEN.set((tables, registry))
    try:
        yield
    finally:
        _GIVEN.reset(token)


def command(
    *words: str, tables: str | Path | None = None, registry: str | Path | None = None
) -> str:
    """``jiuzhu <words>`` as the user types it next: with ``tables`` and ``registry``,
    else those of ``hint_options``; each word quoted for a shell when it holds a
    space or a shell mark (「jiuzhu diff 330106@3 330106 --tables 'my tables'」)."""
    from compiler.registry_marker import shell_path

    given_tables, given_registry = _GIVEN.get()
    tables = given_tables if tables is None else tables
    registry = given_registry if registry is None else registry
    options = list(words)
    if tables is not None and Path(tables) != Path("tables"):
        options += ["--tables", str(tables)]
    if registry is not None:
        options += ["--registry", str(registry)]
    return " ".join(["jiuzhu", *(shell_path(word) for word in options)])


def published_by(latest: Version, author: str | None = None) -> str:
    """「第 3 版由 张三 于 2025-07-01 09:30 发布」, saying so when ``author`` published it."""
    from compiler.registry_publish import printable

    who = printable(latest.author, lines=False)
    if author is not None and latest.author == author:
        who += "（即本次的发布人）"
    else:
        who += " "
    when = latest.published_at[:16].replace("T", " ")
    return f"第 {latest.number} 版由 {who}于 {when} 发布"


def base_not_latest(
    county: str,
    base: int,
    latest: Version,
    author: str | None = None,
    holds_latest: bool = False,
    action: str = "发布",
) -> Diagnostic:
    """E702: the base given (``base``, 0 to below the latest) is not the latest
    version. ``holds_latest``: the working copy's content is the latest version's
    exactly, so the base given is most likely just an old number."""
    n = latest.number
    started = f"指定的基线是第 {base} 版" if base else "指定的基线为 0（开始时还没有已发布的版本）"
    holds = f"；工作副本的内容与第 {n} 版完全相同" if holds_latest else ""
    if action == "撤回":  # a withdrawal reads no working copy
        step = (f"运行 {command('history', '--county', county)} 查看第 {n} 版，确认仍要撤回后用 "
                f"--base {n} 重新撤回")
    elif holds_latest:
        step = f"基线多半写旧了：工作副本正是第 {n} 版的内容，改用 --base {n}"
    else:
        step = (
            f"若工作副本其实基于第 {n} 版（例如它是第 {n} 版导出的），改用 --base {n}；"
            f"若确实基于第 {base} 版，先运行 {command('diff', f'{county}@{n}', county)} 查看第 {n} 版"
            f"与工作副本的差异，保留需要的改动后用 --base {n} 重新发布"
        )
    return make(
        "E702",
        f"{county} {started}，但登记簿中最新已是第 {n} 版{holds}，{action}被拒绝",
        found=f"基线第 {base} 版",
        expected=f"基线第 {n} 版（最新版本）",
        hint=f"{published_by(latest, author)}；{step}",
    )


def base_unknown(
    county: str, base: int, latest: Version | None, action: str = "发布"
) -> Diagnostic:
    """E702: the base given is no version the registry holds for the county."""
    if latest is None:
        there, expected = f"登记簿中 {county} 还没有已发布的版本", "基线 0（还没有已发布的版本）"
    else:
        there = f"登记簿中 {county} 最新是第 {latest.number} 版"
        expected = f"基线 0 至 {latest.number} 之间的版本号，通常是最新的第 {latest.number} 版"
    return make(
        "E702",
        f"{county} 指定的基线第 {base} 版不存在：{there}，{action}被拒绝",
        found=f"基线第 {base} 版",
        expected=expected,
        hint=f"用 {command('history', '--county', county)} 查看已发布的版本，改正 --base；"
        "若该版本确实发布过，检查 --registry 是否指向正确的登记簿",
    )


def base_step(county: str, latest: Version, action: str = "发布") -> str:
    """What to run when the base marker cannot tell the base: the ``jiuzhu diff`` of
    the latest version against the working copy, then ``--base N`` (a withdrawal:
    ``jiuzhu history``, then ``--base N``)."""
    n = latest.number
    if action == "撤回":
        return f"运行 {command('history', '--county', county)} 查看各版本，确认后用 --base {n} 重新撤回"
    return (
        f"运行 {command('diff', f'{county}@{n}', county)} 核对工作副本与第 {n} 版的差异，确认工作副本"
        f"基于第 {n} 版（或已合入其改动）后用 --base {n} 重新发布"
    )


def marker_missing(
    folder: str | Path, county: str, latest: Version, action: str = "发布"
) -> Diagnostic:
    """E702: no base marker beside the workbook, while the county has versions, and
    no ``--base``: which version the working copy started from is not known."""
    n = latest.number
    path = Path(folder) / f"{county}.base.json"
    step = base_step(county, latest, action)
    return make(
        "E702",
        f"没有找到基线标记 {path.name}，不知道 {county} 的工作副本基于哪个版本，"
        f"而登记簿中已有第 {n} 版，{action}被拒绝",
        Location(str(path)),
        found="没有基线标记文件",
        expected=f"工作簿旁的基线标记 {path.name}，或用 --base 指明基线",
        hint=f"{published_by(latest)}。基线标记由 jiuzhu publish 和 jiuzhu export 写在工作簿旁，"
        f"多半是复制或提交工作簿时漏了它；{step}",
    )


__all__ = [
    "base_not_latest",
    "base_step",
    "base_unknown",
    "command",
    "hint_options",
    "marker_missing",
    "published_by",
]
