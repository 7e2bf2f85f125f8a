"""Where the console finds its tables, registry, users, drafts and sample households.

Every path comes from an environment variable with a default relative to the folder
the console is started in (``make console`` starts it in the repository); a variable
set to nothing (or only spaces) counts as unset:

    JIUZHU_TABLES    tables                      the working tables folder
    JIUZHU_STATE     .jiuzhu                     drafts, uploads (gitignored)
    JIUZHU_USERS     $JIUZHU_STATE/users.yaml    the users file
    JIUZHU_REGISTRY  registry/jiuzhu-registry.duckdb beside the tables (as the CLI)
    JIUZHU_SAMPLES   $JIUZHU_TABLES/samples/households.jsonl
    JIUZHU_AS_OF     today                       the decision date of previews
    JIUZHU_IDLE_MINUTES  120                     minutes without a click before sign-out

A value the console cannot use (an as-of date that is not YYYY-MM-DD, idle minutes
that are not a whole number, a tables folder that is not there) is refused by the
launcher before Streamlit starts and by the app before any page runs, each said in
Chinese (``problems``); ``settings`` raises ``SettingError`` for the first two.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import NoReturn

IDLE_MINUTES = 120
# a year of minutes: more is no sign-out at all, and a typing slip
IDLE_LIMIT = 525600


class SettingError(ValueError):
    """A JIUZHU_* variable the console cannot use; its text, in Chinese, names the
    variable, quotes the value found and says the form expected."""

    def __init__(self, name: str, found: str, problem: str, expected: str) -> None:
        super().__init__(f"环境变量 {name} 的值「{found}」{problem}；应为{expected}")


@dataclass(frozen=True)
class Settings:
    tables: Path
    state: Path
    users: Path
    registry: Path
    samples: Path
    as_of: date | None = None
    idle_minutes: int = IDLE_MINUTES

    def today(self) -> date:
        return self.as_of or date.today()


def settings() -> Settings:
    """The console's settings from the environment.

    Raises:
        SettingError: JIUZHU_AS_OF or JIUZHU_IDLE_MINUTES cannot be read.
    """
    from compiler.registry import default_path

    tables = Path(_variable("JIUZHU_TABLES") or "tables").resolve()
    state = Path(_variable("JIUZHU_STATE") or ".jiuzhu").resolve()
    samples = tables / "samples" / "households.jsonl"
    return Settings(
        tables=tables,
        state=state,
        users=Path(_variable("JIUZHU_USERS") or state / "users.yaml"),
        registry=Path(_variable("JIUZHU_REGISTRY") or default_path(tables)),
        samples=Path(_variable("JIUZHU_SAMPLES") or samples),
        as_of=as_of_date(_variable("JIUZHU_AS_OF")),
        idle_minutes=idle_minutes(_variable("JIUZHU_IDLE_MINUTES")),
    )


def problems() -> list[str]:
    """Every JIUZHU_* value the console cannot start with, each said in Chinese;
    empty when it can."""
    found: list[str] = []
    readers: dict[str, Callable[[str | None], object]] = {
        "JIUZHU_AS_OF": as_of_date,
        "JIUZHU_IDLE_MINUTES": idle_minutes,
    }
    for name, read in readers.items():
        try:
            read(_variable(name))
        except SettingError as error:
            found.append(str(error))
    missing = _missing_tables()
    return found + ([missing] if missing else _inside_tables())


def _missing_tables() -> str | None:
    """What is wrong with the tables folder, or None: without it no page can work."""
    text = _variable("JIUZHU_TABLES")
    tables = Path(text or "tables").resolve()
    if tables.is_dir() and (tables / "province").is_dir():
        return None
    what = "不存在" if not tables.exists() else "不是文件夹"
    if tables.is_dir():  # a folder, but no tables in it (its parent, or province itself)
        what = "中没有 province 文件夹，不是决策表文件夹"
    if text is not None:
        expected = "决策表文件夹（其中有 province、counties），如 tables"
        where = "" if str(tables) == text else f"（{tables}）"
        return str(SettingError("JIUZHU_TABLES", text, f"{where}{what}", expected))
    return (
        f"决策表文件夹「{tables}」{what}：未设置环境变量 JIUZHU_TABLES 时使用启动时所在"
        "文件夹中的 tables；请在仓库文件夹中启动，或把 JIUZHU_TABLES 设为决策表文件夹"
    )


def _inside_tables() -> list[str]:
    """JIUZHU_STATE or JIUZHU_REGISTRY inside the tables folder: drafts, uploads and
    the registry written there would be read as workbooks by every check."""
    tables = Path(_variable("JIUZHU_TABLES") or "tables").resolve()
    said = []
    for name in ("JIUZHU_STATE", "JIUZHU_REGISTRY"):
        text = _variable(name)
        if text is not None and Path(text).resolve().is_relative_to(tables):
            said.append(str(SettingError(
                name, text, f"在决策表文件夹「{tables}」之中",
                "决策表文件夹之外的路径；在其中写入的文件会被当作决策表读取",
            )))
    return said


def _variable(name: str) -> str | None:
    """The variable's value; None when it is unset or holds only spaces."""
    value = os.environ.get(name)
    return value if value is not None and value.strip() else None


def as_of_date(text: str | None) -> date | None:
    """JIUZHU_AS_OF as a date within the working-day calendar; None when unset."""
    from compiler.calendar import FIRST_DAY, LAST_DAY

    if text is None:
        return None
    expected = "YYYY-MM-DD 形式的日期，如 2025-06-01（半角数字）；不设置时为今天"
    typed = text.strip()
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", typed):
        return _refuse("JIUZHU_AS_OF", text, "不是 YYYY-MM-DD 形式的日期", expected)
    try:
        day = date.fromisoformat(typed)
    except ValueError:
        problem = "不是存在的日期（月份应为 01 至 12，日不超过该月的天数）"
        return _refuse("JIUZHU_AS_OF", text, problem, expected)
    if not FIRST_DAY <= day <= LAST_DAY:
        problem = f"超出 {FIRST_DAY} 至 {LAST_DAY} 的范围（工作日历覆盖的年份）"
        return _refuse("JIUZHU_AS_OF", text, problem, expected)
    return day


def idle_minutes(text: str | None) -> int:
    """JIUZHU_IDLE_MINUTES as a whole number of minutes, at least 1; 120 when unset."""
    if text is None:
        return IDLE_MINUTES
    typed = text.strip()
    expected = (
        f"不超过 {IDLE_LIMIT} 的正整数（分钟），如 {IDLE_MINUTES}（半角数字）；"
        f"不设置时为 {IDLE_MINUTES}"
    )
    if re.fullmatch(r"[0-9]+", typed) and int(typed) > IDLE_LIMIT:
        return _refuse("JIUZHU_IDLE_MINUTES", text, "过大", expected)
    if not re.fullmatch(r"[0-9]+", typed) or int(typed) < 1:
        return _refuse("JIUZHU_IDLE_MINUTES", text, "不是正整数", expected)
    return int(typed)


def _refuse(name: str, text: str, problem: str, expected: str) -> NoReturn:
    if unicodedata.normalize("NFKC", text) != text:
        problem += "（其中有全角字符）"
    raise SettingError(name, text, problem, expected)
