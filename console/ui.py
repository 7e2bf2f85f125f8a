"""What every page shares: who is signed in, which county they may see, the checked
working copy (cached per revision), and how diagnostics and groups are shown.

Access is decided here, on the server, on every run of every page: a county admin's
county is the one in the users file, whatever a URL, a widget or the session says; a
reviewer or a maintainer picks any county that has a workbook, and only reads it.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import streamlit as st

from compiler.calendar import FIRST_YEAR, LAST_YEAR
from compiler.diagnostics import Diagnostic, Severity, shorten
from compiler.vocabulary import ENTITLEMENT_CN, GROUP_CN, MONITORING_CN
from console import drafts, grids, users, workspace
from console.config import Settings, settings
from console.sheets import Sheet, read_sheets
from console.signin import SIGNED_OUT, sign_in
from console.users import COUNTY_ADMIN, User

TABLES_SOURCE = "tables 文件夹中的工作簿"
SEVERITY_CN = {Severity.ERROR: "错误", Severity.WARNING: "警告", Severity.INFO: "提示"}


class AccessDenied(Exception):
    """A page was asked for something the signed-in user may not do."""


@dataclass
class Context:
    """The signed-in user, the county shown and where its working copy is."""

    settings: Settings
    user: User
    county: str
    county_name: str
    root: Path
    draft: drafts.Draft | None
    source: str

    @property
    def editable(self) -> bool:
        return self.draft is not None and self.user.role == COUNTY_ADMIN

    @property
    def stamp(self) -> tuple[Any, ...]:
        """Changes whenever the working copy or its province and city change."""
        files = [p for p in (self.root / "province").glob("*") if p.is_file()]
        files += list((self.root / "cities").glob(f"{self.county[:4]}00*"))
        files += list((self.root / "counties").glob(f"{self.county}*"))
        return (str(self.root), self.county, tuple(sorted((str(p), p.stat().st_mtime_ns) for p in files)),
                self.draft.revision if self.draft else 0)


def signed_in() -> User | None:
    """The session's user while the users file still has them with the same role,
    county and password; otherwise the session ends (asked on every run, so a changed
    or removed user loses access at their next click)."""
    user = _as_user(st.session_state.get("user"))
    if user is None:
        return None
    st.session_state["user"] = user
    try:
        now = users.current(settings().users, user.name)
    except users.UserError:
        now = None
    stamp = st.session_state.get("user_stamp")
    if now is None or now[0] != user or (stamp is not None and stamp != now[1]):
        st.session_state.clear()
        st.session_state[SIGNED_OUT] = "你的账号已被修改、重设密码或删除，请重新登录。"
        return None
    # a tab left open on a shared office computer must not stay signed in for ever
    idle, last = settings().idle_minutes, st.session_state.get(LAST_SEEN)
    if isinstance(last, float) and time.time() - last > idle * 60:
        st.session_state.clear()
        # the click that ends the session may carry a form's values: they are dropped
        # with the session (kept, they would outlive the sign-out), so say so
        st.session_state[SIGNED_OUT] = (f"超过 {idle} 分钟没有操作，已自动退出，请重新登录。"
                                        f"{UNSAVED}")
        return None
    st.session_state[LAST_SEEN] = time.time()
    return user


LAST_SEEN = "last_seen"  # when the session's user last did anything (time.time())
UNSAVED = "如果刚才填写或修改了内容：刚才的修改未保存，请重新登录后再填写。"


def _as_user(found: object) -> User | None:
    """The session's user as a ``User`` of the module loaded now. A session keeps the
    object made at sign-in; once ``console.users`` is loaded again (Streamlit reloads
    changed modules when its file watcher is on) that object's class is another one,
    and every signed-in user was signed out unsaid (helper-89)."""
    if isinstance(found, User):
        return found
    kind = type(found)
    if (kind.__module__, kind.__qualname__) != (User.__module__, User.__qualname__):
        return None
    fields = (getattr(found, "name", None), getattr(found, "role", None), getattr(found, "county", None))
    if not all(isinstance(v, str) for v in fields[:2]) or not isinstance(fields[2], str | None):
        return None
    return User(*fields)  # type: ignore[arg-type]


def context(require_edit: bool = False) -> Context:
    """The page's context; stops the page (with a message) when access is not allowed."""
    user = signed_in()
    if user is None:  # a page opened by its URL, or reloaded: sign in, then see it
        sign_in()
        st.stop()
    config = settings()
    names = drafts.county_names(config.tables)
    if user.role == COUNTY_ADMIN:
        county = user.county or ""
        if county not in names:
            st.error(f"你的账号所属县（市、区）代码「{county}」在 tables/counties/ 中没有工作簿，请联系省级维护人员。")
            st.stop()
        draft = drafts.open_draft(config, county, user.name)
        drafts.sync_parents(config, draft)
        ctx = Context(config, user, county, draft.county_name, draft.root, draft, "我的工作副本")
    else:
        ctx = _reader_context(config, user, names)
    if require_edit and not ctx.editable:
        st.error("你的角色只能查看，不能修改或发布县级工作副本。")
        st.stop()
    return ctx


def _kept_choice(key: str, options: list[str]) -> None:
    """Give the sidebar widget ``key`` the choice made on an earlier page: Streamlit
    forgets a widget's value when another page runs, so it is kept under ``_key``."""
    chosen = st.session_state.get(key, st.session_state.get(f"_{key}"))
    st.session_state[key] = chosen if chosen in options else (options[0] if options else "")


def _reader_context(config: Settings, user: User, names: dict[str, str]) -> Context:
    codes = list(names)
    _kept_choice("county_choice", codes)
    county = st.sidebar.selectbox("县（市、区）", codes, key="county_choice", placeholder="请选择",
                                  format_func=lambda c: f"{c} {names.get(c, '')}")
    if county not in names:  # a value the widget never offered
        raise AccessDenied(county)
    owners = sorted(p.name for p in (config.state / "drafts" / county).glob("*") if (p / drafts.META).exists())
    sources = [TABLES_SOURCE, *[f"{o} 的工作副本" for o in owners]]
    _kept_choice("source_choice", sources)
    source = st.sidebar.selectbox("查看的工作副本", sources, key="source_choice", placeholder="请选择")
    if source not in sources:
        raise AccessDenied(source)
    st.session_state["_county_choice"], st.session_state["_source_choice"] = county, source
    if source == TABLES_SOURCE:
        return Context(config, user, county, names[county], config.tables, None, source)
    owner = owners[sources.index(source) - 1]
    draft = drafts.open_draft(config, county, owner)
    return Context(config, user, county, names[county], draft.root, None, source)


# ---------------------------------------------------------------- cached library calls


DATE_PLACEHOLDER = "如 2025-07-01、2025/7/1 或 2025年7月1日"


def date_field(where: Any, label: str, key: str, default: date) -> str:
    """A date typed as the tables and the CLI take it. Streamlit's date picker turned
    「2015年1月1日」 typed into its year into 2015-11-01 unsaid, and past its range showed
    an English error while the page went on with the previous date (helper-39). Returns
    the text; ``read_date`` reads it."""
    # a value already in the session (typed, or a new default the page set) is the
    # widget's own: passing a default as well would log Streamlit's duplicate warning
    value = None if key in st.session_state else default.isoformat()
    return where.text_input(label, value=value, key=key, placeholder=DATE_PLACEHOLDER,  # type: ignore[no-any-return]
                            help=f"{FIRST_YEAR}-01-01 至 {LAST_YEAR}-12-31 之间的日期") or ""


def read_date(text: str, label: str, where: Any = st) -> date | None:
    """The date of ``date_field``'s text, as ``jiuzhu --as-of`` reads it (the span of
    the working-day calendar, no spreadsheet serials); None after saying in Chinese
    what is wrong with it."""
    import argparse

    from compiler.cli import parse_date

    if not text.strip():  # 「日期「」无法识别」 asked for nothing (helper-89)
        where.error(f"请填写{label}，{DATE_PLACEHOLDER}。")
        return None
    try:
        return parse_date(text.strip(), where="")
    except argparse.ArgumentTypeError as problem:
        where.error(f"{label}：{problem}")
        return None


def checked(ctx: Context, analysis: bool = False, as_of: date | None = None) -> workspace.Checked:
    """``workspace.check`` of the context's working copy as of ``as_of`` (the decision
    date by default; a publish checks as of its effective date), once per revision."""
    cache = st.session_state.setdefault("_checked", {})
    day = as_of or ctx.settings.today()
    key = (ctx.stamp, day, analysis)
    if key not in cache:
        cache.clear() if len(cache) > 8 else None
        cache[key] = workspace.check(ctx.root, ctx.county, day, analysis)
    return cache[key]  # type: ignore[no-any-return]


PREVIEWS_KEPT = 2  # a session's previews kept (each holds a file's decisions): helper-51


def previewed(ctx: Context, result: workspace.Checked, households: Path) -> workspace.Preview:
    """``workspace.preview`` of the file, once per working copy, date and file; a file
    of more than ``workspace.PREVIEW_LIMIT`` households is refused unread, naming the
    command that decides it."""
    cache = st.session_state.setdefault("_previews", {})
    # the files beside it count too: members.csv added after households.csv left the
    # old "no members file" error on screen (helper-39)
    beside = sorted(p for p in households.parent.iterdir() if p.is_file()) if households.parent.is_dir() else []
    key = (ctx.stamp, result.as_of, str(households),
           tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in beside))
    if key in cache:
        cache[key] = cache.pop(key)  # most recently used last
        return cache[key]  # type: ignore[no-any-return]
    for old in list(cache)[: max(0, len(cache) - PREVIEWS_KEPT + 1)]:
        del cache[old]
    count = workspace.households_in(households)
    if count is not None and count > workspace.PREVIEW_LIMIT:  # before any work
        cache[key] = workspace.Preview(refused=too_many(ctx, households, count, result.as_of))
    else:
        cache[key] = workspace.preview(result, households)
    return cache[key]  # type: ignore[no-any-return]


def too_many(ctx: Context, households: Path, count: int, day: date) -> str:
    """Why a file is not previewed, and the command that decides it."""
    return (f"「{households.name}」有 {count:,} 户，超过控制台一次预览的上限 {workspace.PREVIEW_LIMIT:,} 户，"
            "没有读取，也没有作出决策：控制台逐户列出决策，户数太多会拖慢所有人的页面。"
            "请在命令行用 jiuzhu evaluate 决策（按该日生效的已发布版本），例如：\n\n"
            f"jiuzhu evaluate --households {households.name} --county {ctx.county} "
            f"--as-of {day} --out decisions.csv --summary\n\n"
            f"或者只上传其中不超过 {workspace.PREVIEW_LIMIT:,} 户的一部分。")


def explained(ctx: Context, result: workspace.Checked, households: Path, household_id: str) -> str:
    """``workspace.explain_text``, once per working copy, date, file and household: a
    click elsewhere on the page need not explain the household again."""
    stamp = households.stat().st_mtime_ns if households.exists() else 0
    key = (ctx.stamp, result.as_of, str(households), stamp, household_id)
    kept = st.session_state.get("_explained")
    if not kept or kept[0] != key:
        kept = (key, workspace.explain_text(result, households, household_id))
        st.session_state["_explained"] = kept
    return kept[1]  # type: ignore[no-any-return]


# ---------------------------------------------------------------- shared pieces of pages


def header(ctx: Context, title: str) -> None:
    st.title(title)
    st.caption(f"{ctx.county} {ctx.county_name} · {ctx.source} · 今天 {ctx.settings.today()}"
               f" · {ctx.user.name}（{ctx.user.role_cn}）")
    if ctx.draft is not None:
        stale_banner(ctx)


def stale_banner(ctx: Context) -> None:
    """Tell an admin when the county's latest version is not the one their copy is based on."""
    assert ctx.draft is not None
    latest = workspace.latest(ctx.settings.registry, ctx.county)
    current = latest.number if latest else 0
    if current < ctx.draft.base:
        registry_lost(ctx)
    elif current != ctx.draft.base:
        st.warning(
            f"注意：{latest.author} 已于 {latest.published_at[:16].replace('T', ' ')} 发布第 {current} 版，"
            f"而你的工作副本基于第 {ctx.draft.base} 版。发布前请到「发布」页查看对方的改动并决定如何处理；"
            "你的修改仍然保存在工作副本中，不会丢失。",
            icon=":material/warning:",
        )


def registry_lost(ctx: Context) -> None:
    """The draft builds on a version the registry does not hold: the registry file was
    moved, replaced or restored from an older backup. Nothing may be published over it."""
    assert ctx.draft is not None
    st.error(
        f"E705 版本登记簿中没有本县的第 {ctx.draft.base} 版，而你的工作副本基于这一版："
        f"登记簿文件「{ctx.settings.registry.name}」可能已被移走、替换或还原为旧的备份。"
        "在登记簿恢复之前不能发布；你的修改仍然保存在工作副本中，不会丢失。请联系系统管理员恢复登记簿。",
        icon=":material/error:",
    )


# An absolute path (``/srv/…/.jiuzhu/drafts/…/标准参数.csv``): shown by its last part only.
SERVER_PATH = re.compile(r"(?<![\w.~])/(?:[^/\s「」“”：；，。、（）]+/)+(?=[^/\s])")


def unpathed(text: str) -> str:
    """The text with every absolute path cut to its file name: where the console keeps
    its files is no business of the person reading."""
    return SERVER_PATH.sub("", text)


def plain_place(d: Diagnostic) -> str:
    """A diagnostic's file by name, then 「sheet」 and cell (「x.jsonl 第11行」: a line
    run into the file's name read as 「x.jsonl第11行」, helper-61)."""
    location = d.location
    name = Path(location.file).name if location.file else ""
    sheet = f"「{location.sheet}」" if location.sheet else ""
    cell = location.cell or ""
    gap = " " if name and cell and not sheet else ""
    return f"{name}{sheet}{gap}{cell}"


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|$~<>])")


def typed_text(text: str, width: int = 40) -> str:
    """What a user typed, to show inside Markdown (st.info, st.caption): cut to
    ``width`` characters and every Markdown character escaped, so that ``**x**``,
    a link or ``$x^2$`` shows as typed, not bold, live or typeset (helper-61)."""
    text = text.strip()
    if len(text) > width:
        text = text[:width] + "…"
    return _MARKDOWN.sub(r"\\\1", text)


def placer(ctx: Context) -> Callable[[Diagnostic], str]:
    """Where a diagnostic is, in the words the 标准与规则 grids use (「标准参数」第 4 行
    「值」（C5）): the county's workbook by its sheets, the province's and city's named as
    such, anything else by file name; never a path on the server."""
    sheets: dict[str, dict[str, Sheet]] = {}
    laid_out: dict[tuple[str, str], grids.Grid] = {}

    def where(d: Diagnostic) -> str:
        file = Path(d.location.file or "")
        book = _book_cn(ctx, file)
        if book is None:
            return plain_place(d)
        if str(file) not in sheets:
            sheets[str(file)] = {s.name: s for s in read_sheets(file)[0]} if file.exists() else {}
        sheet = sheets[str(file)].get(d.location.sheet or "")
        key = (str(file), d.location.sheet or "")
        if sheet is not None and key not in laid_out:
            laid_out[key] = grids.to_grid(sheet)
        return book + grids.place(d, laid_out.get(key))

    return where


def _book_cn(ctx: Context, file: Path) -> str | None:
    """「」 for the county's workbook, 省级/市级工作簿 for a parent under the context's
    root; None for a file elsewhere (an upload, household data)."""
    try:
        layer = file.resolve().relative_to(ctx.root.resolve()).parts[0]
    except (ValueError, IndexError):
        return None
    return {"counties": "", "province": "省级工作簿", "cities": "市级工作簿"}.get(layer)


def diagnostics_list(items: list[Diagnostic], where: Callable[[Diagnostic], str] | None = None,
                     limit: int = 50) -> None:
    """Diagnostics as the CLI renders them, errors first; ``where(d)`` names the cell
    (by default the file by name); no server path is shown."""
    ordered = sorted(items, key=lambda d: (not d.is_error, d.severity != Severity.WARNING))
    for d in ordered[:limit]:
        place = (where or plain_place)(d)
        body = f"**{d.code}** {place}：{d.message}" if place else f"**{d.code}** {d.message}"
        if d.found is not None:
            body += f"；实际为「{shorten(d.found)}」"
        if d.expected:
            body += f"；应为{d.expected}"
        if d.hint:
            body += f"\n\n提示：{d.hint}"
        body = unpathed(body)
        if d.is_error:
            st.error(body, icon=":material/error:")
        elif d.severity is Severity.WARNING:
            st.warning(body, icon=":material/warning:")
        else:
            st.info(body, icon=":material/info:")
    if len(ordered) > limit:
        st.caption(f"……另有 {len(ordered) - limit} 条未显示")


def before_standards(errors: list[Diagnostic], day: date, what: str = "日期") -> str | None:
    """When every error is E607 (a date before some standard has a value): one sentence
    naming the earliest date that works (``registry_publish.standards_begin``, as
    ``jiuzhu publish`` finds it), instead of a list of province cells a county cannot
    edit (helper-39, helper-43); None otherwise."""
    from compiler.registry_publish import standards_begin, standards_missing

    earliest = standards_begin(errors)
    if earliest is None:
        return None
    return (f"{day} 时有 {len(standards_missing(errors))} 项标准参数还没有生效的取值（E607）。"
            f"{what}最早可以是 {earliest}。")


def upload_limit_mb() -> int:
    """The largest file an uploader takes, in MB: ``server.maxUploadSize`` of
    console/.streamlit/config.toml."""
    return int(st.get_option("server.maxUploadSize"))


def upload_help(what: str) -> str:
    """The uploader's help in Chinese: its own words (Upload, Drag and drop files here,
    …MB per file) are Streamlit's English, which the app cannot change."""
    return (f"{what}。点框内的「Upload」按钮选择文件，或把文件拖进框内；每个文件不超过 {upload_limit_mb()} MB"
            "（框内的英文提示由 Streamlit 给出，无法改为中文）。")


def table(rows: list[dict[str, Any]], where: Any = st, **options: Any) -> None:
    """Rows as a read-only table whose empty values are blank: Streamlit writes a
    missing value as an English "None" (its default placeholder for a dataframe)."""
    import pandas as pd

    frame = pd.DataFrame(rows)
    for column in frame.columns:
        if frame[column].isna().any():
            frame[column] = frame[column].astype(object).where(frame[column].notna(), "")
    options.setdefault("width", "stretch")
    where.dataframe(frame, hide_index=True, placeholder="", **options)


def matching(ids: list[str], typed: str, limit: int) -> tuple[list[str], int]:
    """The first ``limit`` ids holding ``typed`` (letter case and full-width forms
    aside), the id typed in full first, then those starting with it, then the rest in
    file order; and how many ids hold it. Only these are sent to the browser, not
    every household's id. The ids are returned as stored."""
    wanted = _search_form(typed).strip()
    if not wanted:
        return ids[:limit], len(ids)
    # 「Ｈ１」 typed with a Chinese input method finds H1; the ids are folded the same
    # way to compare (an id stored as 户Ａ1 is still found as typed), never changed
    forms = {i: _search_form(i) for i in ids}
    found = [i for i in ids if wanted in forms[i]]
    found.sort(key=lambda i: (forms[i] != wanted, not forms[i].startswith(wanted)))
    return found[:limit], len(found)


def _search_form(text: str) -> str:
    """``text`` as the id search compares it: NFKC (full-width letters, digits and
    spaces to their ASCII forms), letter case aside."""
    return unicodedata.normalize("NFKC", text).casefold()


def group_cn(group: object) -> str:
    return GROUP_CN.get(str(group or "none"), str(group))


def entitlements_cn(entitlements: object) -> str:
    """「医疗救助、住房救助」 for ["medical_assistance", "housing_assistance"]."""
    return "、".join(ENTITLEMENT_CN.get(str(e), str(e)) for e in entitlements or [])  # type: ignore[attr-defined]


def monitoring_cn(status: object) -> str:
    return MONITORING_CN.get(str(status or "none"), str(status))


def timed(label: str, seconds: float) -> None:
    st.caption(f"{label}用时 {seconds:.2f} 秒")


def now() -> float:
    return time.perf_counter()
