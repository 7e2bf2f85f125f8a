"""Publishing a county's working copy as a version, and withdrawing one.

``prepare`` checks the working copy as of the effective date and compiles it from its
canonical YAML, so the stored SQL is exactly what as-of evaluation runs; ``publish``
stores it as the county's next version if the latest is still ``base`` (with, on
request, the impact on a population against the version in force); ``withdraw``
publishes the content that was in force before a version. Each raises RegistryError:
E701 the tables have errors (an effective date before the standards begin is one
E607 naming the earliest date, ``before_standards``), E702 the base is stale, the county
workbook was exported from a version older than the latest and no marker vouches for
it (``registry_origin.refuse_older_origin``), or the registry stayed busy (a
base marker behind a version whose content the working copy holds, left by a publish
stopped before it wrote the marker, is brought up to date instead: W702), E704
no such version or nothing to restore, E709 the content is that of the version already
in force on the date, E710 the content is that of a withdrawn version (each unless asked
for), E708 a note or author that is empty, too long or holds control characters
(``printable`` shows those an older registry holds). A refused publish leaves the
registry as it was.
A note's CRLF and lone CR are stored as LF (``note_lines``); ``same_as_older`` says when
a version just published holds an older version's content.
``superseded`` warns (W701) when a version is dated before versions already published:
it decides only until the first of them takes effect.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler.bind import bind
from compiler.canonical import (
    CanonicalError,
    dump_rulebook,
    layer_of_row,
    load_rulebook,
)
from compiler.diagnostics import Diagnostic, Location, Report, make
from compiler.diff import Side
from compiler.diff_rulebooks import differing_periods
from compiler.engine import Project, open_project
from compiler.errors import RegistryError
from compiler.model import RuleBook
from compiler.registry import Registry, Version, default_path, in_force
from compiler.registry_base import base_not_latest, base_unknown, command
from compiler.registry_marker import marker_path, restore_command
from compiler.registry_origin import (
    older_origin,
    record_base,
    refuse_older_origin,
    workbook_origin_of,
)
from compiler.sqlgen import compile_plan

if TYPE_CHECKING:
    from compiler.diff_impact import ImpactResult


@dataclass
class Prepared:
    """A working copy checked, written as canonical YAML and compiled, ready to store."""

    county_code: str
    county_name: str
    canonical: str
    sql: str
    validation: str
    rulebook: RuleBook
    project: Project


def prepare(
    tables_root: str | Path, county: str, effective: date, analyse: object = "auto"
) -> Prepared:
    """Check the county's working copy as of ``effective`` and compile it from its
    canonical YAML (so the stored SQL is exactly what as-of evaluation runs).

    Raises RegistryError (E701, followed by the errors) when the tables have errors.
    """
    analyser = _analyser() if analyse == "auto" else analyse
    report = Report()
    project = open_project(tables_root, [county], effective, analyser, report)  # type: ignore[arg-type]
    if report.has_errors or county not in project.plans:
        early = before_standards(report.errors, effective)
        if early is not None:  # one sentence, not a line per standard (tester R17)
            raise RegistryError(early)
        raise RegistryError([refused(county, len(report.errors)), *report.errors])
    try:
        canonical = dump_rulebook(project.plans[county].rulebook, tables_root)
        book = load_rulebook(canonical)
        if dump_rulebook(book, tables_root) != canonical:  # a bug, never stored
            raise CanonicalError("the YAML does not read back to itself")
    except CanonicalError as error:
        raise RegistryError(
            make(
                "E701",
                f"{county} 的决策表无法写成规范文本，发布被拒绝：{error}",
                hint="请把该单元格改写为常规写法后再发布",
            )
        ) from None
    rebound = Report()
    sql = compile_plan(bind(book, rebound)).sql
    if rebound.has_errors:  # the canonical form lost something: a bug, not the user's
        raise RegistryError([refused(county, len(rebound.errors)), *rebound.errors])
    validation = _validation_json(report.items, tables_root)
    return Prepared(county, book.county_name, canonical, sql, validation, book, project)


# E607's expected form (validate.py): 「不早于 2025-04-07 的决策日」
_STARTS = re.compile(r"不早于 ([0-9]{4}-[0-9]{2}-[0-9]{2})")
_STANDARD = re.compile(r"标准参数「(.+?)」")


def standards_begin(errors: list[Diagnostic]) -> date | None:
    """The first day on which every standard that ``errors`` say has no value yet
    has one: the latest start E607 names. None unless every error is such an E607
    (the console's ui.before_standards words the same finding)."""
    if not errors or any(d.code != "E607" for d in errors):
        return None
    starts = [_STARTS.search(d.expected or "") for d in errors]
    if any(found is None for found in starts):
        return None
    return max(date.fromisoformat(found.group(1)) for found in starts if found)


def standards_missing(errors: list[Diagnostic]) -> list[str]:
    """The names of the standards E607 ``errors`` say have no value: those one E607
    lists (``standards``, a date before the standards begin) and those named one by
    one (「标准参数「低保标准」…」)."""
    names: list[str] = []
    for d in errors:
        listed = d.extra.get("standards")
        found = _STANDARD.search(d.message)
        names += listed if isinstance(listed, list) else [found.group(1)] if found else []
    return list(dict.fromkeys(names))


def before_standards(errors: list[Diagnostic], effective: date) -> Diagnostic | None:
    """One E607 for an effective date before the standards begin, naming the
    earliest date that works, instead of a line per standard; None when the errors
    are not all of that kind."""
    earliest = standards_begin(errors)
    if earliest is None:
        return None
    names = standards_missing(errors)
    listed = "、".join(names[:5]) + (f" 等 {len(names)} 项" if len(names) > 5 else "")
    return make(
        "E607",
        f"生效日期 {effective} 早于标准参数的生效期：该日有 {len(names)} 项标准参数还没有生效的取值"
        f"（{listed}），发布被拒绝；生效日期须不早于 {earliest}",
        found=str(effective),
        expected=f"不早于 {earliest} 的生效日期",
        hint=f"改用 --effective {earliest} 或更晚的日期；确需更早生效时，先在标准参数表中补充该日期适用的取值",
    )


def refused(county: str, errors: int) -> Diagnostic:
    return make(
        "E701",
        f"{county} 的决策表有 {errors} 个错误，发布被拒绝",
        hint="按下列错误逐条修改后，先运行 jiuzhu check 确认没有错误，再发布",
    )


def _analyser() -> object:
    try:
        from compiler.analyse import analyse  # type: ignore[import-not-found]
    except ImportError:
        return None
    return analyse


def _validation_json(items: list[Diagnostic], tables_root: str | Path) -> str:
    root = Path(tables_root).resolve()
    records = []
    for item in items:
        record = item.to_record()
        file = record.get("file")
        if isinstance(file, str):
            try:
                record["file"] = Path(file).resolve().relative_to(root).as_posix()
            except ValueError:
                pass
        records.append(record)
    return json.dumps(records, ensure_ascii=False, sort_keys=True, default=str)


def publish(
    tables_root: str | Path,
    county: str,
    effective: date,
    note: str,
    author: str,
    base: int,
    registry: str | Path | None = None,
    households: str | Path | None = None,
    analyse: object = "auto",
    allow_unchanged: bool = False,
    allow_withdrawn: bool = False,
    marker: str | Path | None = None,
    notices: list[Diagnostic] | None = None,
    check_origin: bool = True,
) -> Version:
    """Publish the county's working copy as its next version, in force from
    ``effective``, if the county's latest version is still ``base`` (0: none yet).
    Content identical to the version in force on ``effective`` would change no
    decision; it is published only with ``allow_unchanged`` (a recorded review).
    Content identical to a withdrawn version (the working copy still holding it after
    the withdrawal) is published only with ``allow_withdrawn``.

    With ``households``, the impact on that population against the version in force
    on ``effective`` is computed and stored with the version.

    ``marker`` is the folder of the base marker ``base`` was read from (None for a
    base the user gave). A marker behind the latest version while the working copy
    holds exactly that version's content is what a publish stopped between storing
    its version and writing the marker leaves: the marker is brought up to date, W702
    added to ``notices``, and the publish goes on from the latest version.

    With ``check_origin``, a county workbook whose 版本信息 sheet says it was exported
    from a version older than the latest (导出自 330106@1 while 330106@2 is the latest)
    is refused (E702) unless the base marker was written for that very workbook (by
    its export or a publish of it, ``registry_origin.record_base``) or it holds the latest version's content: copied
    over the working copy, it would silently undo the versions after its own.
    ``jiuzhu publish --base N`` passes False: the admin said which base is meant.

    Raises:
        RegistryError: E701 the tables have errors; E702 the latest version is not
            ``base`` (or another publish won the race, or the registry stayed busy);
            E708 the note or the author is empty, too long or holds control
            characters;
            E709 the content is that of the version in force on ``effective``;
            E710 the content is that of a withdrawn version.
        InputError: E613 with ``households``, a temporary folder inside the tables
            folder (the impact would load the households and spill there).
    """
    note = note_lines(note)  # a lone CR, from a form or an old Mac editor, is a line break
    check_note(note)
    check_author(author)
    if households is not None:  # the impact loads them and spills in TMPDIR
        from compiler.output_guard import guard_scratch

        guard_scratch(tables_root)
    store = Registry(registry or default_path(tables_root))
    prepared = prepare(tables_root, county, effective, analyse)
    current = store.latest(county)
    if (current.number if current else 0) != base:  # append re-checks, in its transaction
        base = _caught_up(prepared, base, current, author, marker, notices, tables_root)
    if not allow_unchanged:
        _refuse_unchanged(store, prepared, effective)
    if not allow_withdrawn:
        _refuse_withdrawn(store, prepared, tables_root)
    if check_origin and current is not None:
        refuse_older_origin(
            store, prepared.county_code, prepared.canonical, current, tables_root, marker
        )
    impact = None
    if households is not None:
        impact = _impact(store, prepared, households, effective, base + 1)
    draft = _draft(prepared, effective, note, author, impact)
    return store.append(draft, base)


def _caught_up(
    prepared: Prepared,
    base: int,
    current: Version | None,
    author: str,
    marker: str | Path | None,
    notices: list[Diagnostic] | None,
    tables_root: str | Path,
) -> int:
    """The latest version's number, the marker in ``marker`` rewritten for it, when
    the marker is behind it and the working copy holds exactly its content (compared
    as E709 compares); W702 goes to ``notices``.

    Raises RegistryError (E702): a base the user gave that is not the latest, or no
    version at all, or a marker behind a version whose content the working copy does
    not hold.
    """
    county = prepared.county_code
    latest = current.number if current is not None else 0
    if current is None or not 0 <= base <= latest:
        raise RegistryError(base_unknown(county, base, current))
    if marker is None:  # given by hand: said as it is, never blamed on others
        holds = current.canonical == prepared.canonical
        raise RegistryError(base_not_latest(county, base, current, author, holds))
    if current.canonical != prepared.canonical:
        raise RegistryError(marker_behind(marker, county, base, current))
    path = _rewrite_marker(marker, current, tables_root)
    if notices is not None:
        notices.append(_healed(path, base, current))
    return latest


def _rewrite_marker(
    folder: str | Path, latest: Version, tables_root: str | Path | None = None
) -> Path:
    """The marker in ``folder`` written for ``latest`` (with the origin of the
    workbook under ``tables_root`` that holds it); E702 when it cannot be
    (``registry_origin.record_base``, which writes it after a publish too)."""
    path = record_base(folder, latest, tables_root, behind=True)
    return path or marker_path(folder, latest.county_code)


def marker_behind(
    folder: str | Path, county: str, base: int, latest: Version, publishing: bool = True
) -> Diagnostic:
    """E702 for a base marker (``base``; 0: none, nor any version when it was read)
    behind the county's latest version: by a version someone else published, or by
    one this working copy published in a run stopped before it wrote the marker, and
    edited since (``publishing``: the working copy was compared with it; a withdrawal
    reads no working copy)."""
    n = latest.number
    recorded = f"基线标记记录工作副本基于第 {base} 版" if base else "工作副本开始时还没有已发布的版本"
    differs = f"，且工作副本的内容与第 {n} 版不同" if publishing else ""
    action = "发布" if publishing else "撤回"
    by = (f"第 {n} 版由 {printable(latest.author, lines=False)} 于 "
          f"{latest.published_at[:16].replace('T', ' ')} 发布")
    if publishing:
        step = (f"运行 {command('diff', f'{county}@{n}', county)} 查看第 {n} 版与工作副本的差异（第 {n} 版"
                "若是他人发布的，请把其中需要保留的改动合入工作副本；若是本工作副本此前一次中断的发布，"
                f"差异就是其后的修改），确认后用 --base {n} 重新发布")
    else:
        step = (f"运行 {command('history', '--county', county)} 查看第 {n} 版，确认仍要撤回后用 "
                f"--base {n} 重新撤回")
    return make(
        "E702",
        f"{county} 的{recorded}，但登记簿中最新已是第 {n} 版{differs}，{action}被拒绝",
        Location(str(marker_path(folder, county))),
        found=f"基线第 {base} 版",
        expected=f"基线第 {n} 版",
        hint=f"{by}；{step}",
    )


def _healed(path: Path, base: int, latest: Version, withdrawn: int | None = None) -> Diagnostic:
    """W702: the marker, behind ``latest`` by a run stopped before it wrote the marker
    (one whose content the working copy holds, or the withdrawal of ``withdrawn``),
    now records it."""
    n = latest.number
    recorded = f"基线标记记录的是第 {base} 版" if base else "工作副本开始时还没有已发布的版本"
    same = f"撤回第 {withdrawn} 版" if withdrawn else "与工作副本的内容相同"
    why = f"（多半是发布第 {n} 版时在写入基线标记之前被中断）" if base else ""
    return make(
        "W702",
        f"{recorded}，而登记簿中最新的第 {n} 版{same}{why}，已把基线标记改为第 {n} 版",
        Location(str(path)),
        found=f"基线第 {base} 版",
        expected=f"基线第 {n} 版",
        hint=f"第 {n} 版已经发布，无需重发；本次发布以第 {n} 版为基线继续",
    )


def _refuse_unchanged(store: Registry, prepared: Prepared, effective: date) -> None:
    """E709 when the version in force on ``effective`` has exactly this content: a
    new version would decide every household as that one does from that day on."""
    current = store.version_in_force(prepared.county_code, effective)
    if current is None or current.canonical != prepared.canonical:
        return
    raise RegistryError(
        make(
            "E709",
            f"工作副本与 {effective} 现行的 {current.label}（{current.effective_from} 起生效）内容相同，"
            "发布被拒绝：新版本不会改变任何决策",
            found=f"与 {current.label} 相同",
            expected="至少一处标准或规则与现行版本不同",
            hint="先修改标准或规则；若确需登记一次内容不变的复核，命令行加 --allow-unchanged，"
            "控制台勾选「内容未改变，仍然发布」",
        )
    )


def withdrawn_as(versions: list[Version], canonical: str) -> tuple[Version, Version] | None:
    """(the withdrawn version, its withdrawal) when ``canonical`` is the content of a
    version that was withdrawn and that no version published after the withdrawal
    holds again (a deliberate republication ends the refusal); else None."""
    by_number = {v.number: v for v in versions}
    for withdrawal in sorted(versions, key=lambda v: -v.number):
        target = by_number.get(withdrawal.withdraws or 0)
        if withdrawal.kind != "withdraw" or target is None:
            continue
        if target.canonical != canonical:
            continue
        again = any(
            v.number > withdrawal.number and v.canonical == canonical for v in versions
        )
        return None if again else (target, withdrawal)
    return None


def _refuse_withdrawn(
    store: Registry, prepared: Prepared, tables_root: str | Path
) -> None:
    """E710 when the working copy holds a withdrawn version's content: after
    ``publish --withdraw`` the workbook still holds it, and publishing it again would
    undo the withdrawal without anyone deciding so."""
    county = prepared.county_code
    versions = store.history(county)
    found = withdrawn_as(versions, prepared.canonical)
    if found is None:
        return
    target, withdrawal = found
    source = _restored(versions, withdrawal, target)
    restored = f"自 {withdrawal.effective_from} 起恢复{source}的内容"
    latest = versions[-1].number
    raise RegistryError(
        make(
            "E710",
            f"工作副本的内容与 {target.label} 相同，而该版已于 {withdrawal.published_at[:10]} "
            f"被 {withdrawal.label} 撤回（{restored}），发布被拒绝：再发布会撤销这次撤回",
            found=f"与已撤回的 {target.label}（{target.effective_from} 起生效）相同",
            expected=f"在现行内容（第 {latest} 版）上修改后的工作副本",
            hint=(
                city_hint(target, withdrawal, tables_root)
                or f"撤回后工作副本仍是被撤回的内容。若要在现行内容上继续修改，先把第 {latest} 版"
                f"导出到工作副本：{restore_command(county, latest, tables_root)}"
            )
            + "；若确实要重新发布被撤回的内容，命令行加 --allow-withdrawn，"
            "控制台勾选「内容曾被撤回，仍然发布」",
        )
    )


def city_hint(target: Version, withdrawal: Version, tables_root: str | Path) -> str | None:
    """E710's hint when the withdrawn content differs from the content restored only in
    standard rows read from the city's workbook (杭州's new 低保标准 row): exporting the
    county's workbook restores nothing, since the city's row stays in tables/cities and
    the next publish is E710 again. None in every other case."""
    try:
        old, new = target.rulebook(), withdrawal.rulebook()
    except (RegistryError, CanonicalError):
        return None
    cities = new.sources[1:-1]  # county, then city, then province
    city = cities[0] if len(cities) == 1 else None
    if city is None or old.sources != new.sources or _but_city(old) != _but_city(new):
        return None
    names = [
        f"「{(new.standards.get(i) or old.standards[i]).name_cn or i}」"
        for i in dict.fromkeys([*old.standards, *new.standards])
        if differing_periods(old.standards.get(i), new.standards.get(i))
    ]
    what = "、".join(names) or "标准参数行"
    file = Path(tables_root) / city
    return (
        f"{target.label} 与 {withdrawal.label} 恢复的内容只在本县从市级工作簿读取的标准参数"
        f"（{what}）上不同：这一改动在市级工作簿 {file} 中，导出本县工作簿不能撤销它，"
        f"工作副本仍会读到市级工作簿中的新行，再发布仍被拒绝。应由市里恢复 {file}"
        "（删去新增的行并清除给原有一行填写的失效日期，或放回改动前的副本），"
        f"并在本市每个区县撤回各自含这一改动的版本（{command('history', '--county', target.county_code)}"
        " 查看版本号，再 jiuzhu publish --county 区县代码 --withdraw 版本号）"
    )


def _but_city(book: RuleBook) -> str:
    """``book``'s canonical YAML without the standard rows read from its city."""
    standards = {
        ident: dataclasses.replace(
            s, rows=[r for r in s.rows if layer_of_row(book, r) != "city"]
        )
        for ident, s in book.standards.items()
    }
    return dump_rulebook(dataclasses.replace(book, standards=standards))


def _restored(versions: list[Version], withdrawal: Version, target: Version) -> str:
    """The version whose content a withdrawal restored: the latest one before it
    that holds that content, as ``330106@1``."""
    sources = [
        v
        for v in versions
        if v.number < withdrawal.number
        and v.number != target.number
        and v.canonical == withdrawal.canonical
    ]
    return f" {sources[-1].label} " if sources else "此前版本"


MAX_NOTE = 1000  # characters: a sentence or two, and a cell Excel can hold
MAX_AUTHOR = 100  # characters: a name, a staff number, a department
# control characters (line breaks and tabs aside) and the marks that reorder text: a
# note is printed by jiuzhu history, where ESC would drive the reader's terminal
_NOTE_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
# an author is one line: line breaks and tabs too (「张三\n伪造行」 printed by history
# looked like a line of its own, helper-82)
_AUTHOR_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class _Said:
    """What a version's text is called in E708 and how it may be written."""

    name: str
    limit: int
    controls: re.Pattern[str]
    example: str
    hint: str


_NOTE = _Said("版本说明", MAX_NOTE, _NOTE_CONTROLS, "一两句说明，如 依据杭民发〔2025〕X 号调整低保标准",
              "版本发布后不能修改，说明请写清依据的文件和改动")
_AUTHOR = _Said("发布人", MAX_AUTHOR, _AUTHOR_CONTROLS, "发布人的姓名或工号，如 张三",
                "版本发布后不能修改，发布人请写姓名或工号")


def note_lines(note: str) -> str:
    """``note`` with its line breaks as LF: CRLF (Windows, a browser's text area) and
    a lone CR (classic Mac) alike, as ``history`` shows them; stored so, a lone CR
    was printed as <U+000D> (tester R17)."""
    return note.replace("\r\n", "\n").replace("\r", "\n")


def check_note(note: str, name: str = _NOTE.name, action: str = "发布") -> None:
    """E708 for a note that is empty, longer than ``MAX_NOTE`` or holds a control
    character; a version cannot be changed once published. ``name`` and ``action``:
    what the message calls the note and the act refused (a withdrawal's reason, in the
    console, was 「版本说明…，发布被拒绝」: helper-89)."""
    _check_text(note, dataclasses.replace(_NOTE, name=name), action)


def check_author(author: str, action: str = "发布") -> None:
    """E708 for an author that is empty, longer than ``MAX_AUTHOR`` or holds a control
    character, a line break or a tab, as ``check_note`` a note."""
    _check_text(author, _AUTHOR, action)


def _check_text(text: str, said: _Said, action: str) -> None:
    problem = None
    hidden = [c for c in dict.fromkeys(text) if _invisible(c)]
    if not text.strip():
        problem = (f"{said.name}为空", "（空）", said.example)
    elif len(text) > said.limit:
        problem = (f"{said.name}过长", f"{len(text)} 个字符", f"不超过 {said.limit} 个字符的{said.name}")
    elif (found := said.controls.search(text)) is not None:
        code = f"<U+{ord(found.group()):04X}>"
        problem = (f"{said.name}中有控制字符", f"第 {found.start() + 1} 个字符 {code}", "可以显示的文字")
    elif all(c.isspace() or c in hidden for c in text):  # U+200B alone (tester R10)
        codes = "、".join(f"<U+{ord(c):04X}>" for c in hidden[:5])
        problem = (f"{said.name}只有不可见的字符", f"{len(text)} 个字符，不可见的有 {codes}", said.example)
    if problem is not None:
        message, shown, expected = problem
        raise RegistryError(
            make("E708", f"{message}，{action}被拒绝", found=shown, expected=expected, hint=said.hint)
        )


# default-ignorable code points that are not of category Cf: Hangul fillers, the
# combining grapheme joiner, Mongolian and other variation selectors (Unicode's
# DerivedCoreProperties; households_values._HIDDEN names the same for ids)
_IGNORABLE = ((0x115F, 0x1160), (0x3164, 0x3164), (0xFFA0, 0xFFA0), (0x34F, 0x34F),
              (0x17B4, 0x17B5), (0x180B, 0x180F), (0xFE00, 0xFE0F), (0xE0000, 0xE0FFF))


def _invisible(char: str) -> bool:
    """A character shown as nothing: a control or format character (category Cc or
    Cf: U+200B, U+FEFF, the marks of direction) or another default-ignorable one."""
    point = ord(char)
    return unicodedata.category(char) in ("Cc", "Cf") or any(
        low <= point <= high for low, high in _IGNORABLE)


def printable(text: str, lines: bool = True) -> str:
    """``text`` as a terminal may show it: every control character and mark that
    reorders text written as <U+001B>; with ``lines``, line breaks (CRLF as one) and
    tabs kept. Versions published before E708 covered authors may hold them."""
    controls = _NOTE_CONTROLS if lines else _AUTHOR_CONTROLS
    if lines:
        text = text.replace("\r\n", "\n")
    shown = controls.sub(lambda m: f"<U+{ord(m[0]):04X}>", text)
    return shown.replace("\r", "<U+000D>") if lines else shown


def same_as_older(store: Registry, version: Version) -> str | None:
    """A sentence for a version just published whose content is that of an older
    version not in force on its date (E709 covers the one in force, E710 a withdrawn
    one): which version, and the diff that shows what it changes against the version
    it replaces; None when no older version holds its content."""
    history = store.history(version.county_code)
    before = [v for v in history if v.number < version.number]
    same = [v for v in before if v.canonical == version.canonical]
    if not same:
        return None
    older = same[-1]
    replaced = in_force(before, version.effective_from)
    what = f"{older.label}（{older.effective_from} 起生效，{printable(older.author, lines=False)} 发布）"
    if replaced is None:
        return f"{version.label} 的内容与 {what}相同"
    shown = command("diff", replaced.label, version.label)
    return (f"{version.label} 的内容与 {what}相同，即自 {version.effective_from} 起恢复该版的内容，"
            f"取代此前现行的 {replaced.label}；两者的差异（{replaced.label} 的改动将不再适用）："
            f"运行 {shown} 查看")


def superseded(store: Registry, version: Version) -> Diagnostic | None:
    """W701 when versions published earlier take effect after ``version``: it
    decides only until the first of them, whose content then applies again; None
    when no later-dated version exists."""
    history = store.history(version.county_code)
    # only versions that take effect: one withdrawn, or replaced by a same-day version
    # with a higher number, never does (helper-58)
    later = sorted(
        (
            v
            for v in history
            if v.effective_from > version.effective_from
            and in_force(history, v.effective_from) is v
        ),
        key=lambda v: (v.effective_from, -v.number),
    )
    if not later:
        return None
    first = later[0]
    last_day = first.effective_from - timedelta(days=1)
    listed = "、".join(f"{v.label}（{v.effective_from} 起）" for v in later[:5])
    more = f"等 {len(later)} 个版本" if len(later) > 5 else ""
    return make(
        "W701",
        f"{version.label} 自 {version.effective_from} 起生效，只适用到 {last_day}："
        f"已发布的 {first.label} 自 {first.effective_from} 起生效，届时取代本版",
        found=listed + more,
        expected=f"本版的改动在 {first.effective_from} 之后也适用时，较晚的版本也须含有这些改动",
        hint=(
            f"如需本版改动在 {first.effective_from} 之后继续适用，请在本版基础上再发布一版，"
            f"生效日期为 {first.effective_from}（或撤回较晚的版本：jiuzhu publish --withdraw）；"
            "jiuzhu history 可查看各版本的生效日期"
        ),
    )


def _draft(
    prepared: Prepared,
    effective: date,
    note: str,
    author: str,
    impact: str | None,
    kind: str = "publish",
    withdraws: int | None = None,
) -> Version:
    return Version(
        0,
        prepared.county_code,
        0,
        prepared.county_name,
        effective,
        author,
        note,
        "",
        kind,
        withdraws,
        prepared.canonical,
        prepared.sql,
        prepared.validation,
        impact,
        "",
        "",
    )


def _impact(
    store: Registry,
    prepared: Prepared,
    households: str | Path,
    effective: date,
    number: int = 0,
) -> str:
    """The stored impact: as of ``effective`` against the version then in force, and
    on each later day the two versions' standards differ again (the first
    ``LATER_COMPUTED`` computed, every one named with its ``jiuzhu diff`` command): a
    second row of a standard from 07-01 moved households the first day did not."""
    from compiler.diff_impact import LATER_COMPUTED, impacts, later_differences

    county = prepared.county_code
    baseline = store.version_in_force(county, effective)
    if baseline is None:
        report = {
            "baseline": None,
            "as_of": effective.isoformat(),
            "note": "该县在生效日没有已发布的版本，无可比较的基准",
        }
        return json.dumps(report, ensure_ascii=False)
    old = Side(baseline.label, {county: baseline.rulebook()}, {county: baseline.label})
    label = f"{county}@{number}" if number else f"{county}@新版本"
    new = Side(label, {county: prepared.rulebook}, {county: label})
    later = later_differences(old, new, effective)
    results = impacts(old, new, households, [effective, *list(later)[:LATER_COMPUTED]])
    assert results[0] is not None  # the first day raises rather than give None
    report = results[0].to_json()
    report["baseline"], report["version"] = baseline.label, label
    report["later"] = [
        _later_entry(day, what, old.label, label, households, results)
        for day, what in later.items()
    ]
    return json.dumps(report, ensure_ascii=False, default=str)


def _later_entry(
    day: date,
    what: list[str],
    old: str,
    new: str,
    households: str | Path,
    results: list[ImpactResult | None],
) -> dict[str, Any]:
    """A later day on which the version's standards differ again from the baseline's:
    what differs, the command that shows it, and its impact when it was computed."""
    command = (
        f"jiuzhu diff {old} {new} --as-of {day.isoformat()}"
        f" --households {shlex.quote(str(households))}"
    )
    entry: dict[str, Any] = {"as_of": day.isoformat(), "differs": what, "command": command}
    found = next((r for r in results if r is not None and r.as_of == day), None)
    if found is not None:
        entry.update(households=found.households, changed=found.changed,
                     counties=found.counties)
    return entry


def withdraw(
    registry: str | Path,
    county: str,
    number: int,
    note: str,
    author: str,
    base: int,
    effective: date | None = None,
    marker: str | Path | None = None,
    notices: list[Diagnostic] | None = None,
    note_name: str = _NOTE.name,
) -> Version:
    """Withdraw version ``number``: publish a new version, in force from the withdrawn
    one's date (or ``effective``), whose content is the version that was in force
    before it. ``marker`` and ``notices`` as for ``publish``: a marker behind a
    withdrawal of this very version (a run stopped before it wrote the marker) is
    brought up to date. Raises RegistryError: E704 nothing to restore or no such
    version, E702 stale base, E708 a note with control characters or too long, or
    such an author (``note_name``: what E708 calls the note, 撤回原因 in the console),
    E712 ``effective`` before the withdrawn version's date."""
    note = note_lines(note)
    if note:
        check_note(note, note_name, "撤回")
    check_author(author, "撤回")
    store = Registry(registry)
    latest = store.latest(county)
    if marker is not None and latest is not None and base < latest.number:
        if latest.kind != "withdraw" or latest.withdraws != number:
            raise RegistryError(marker_behind(marker, county, base, latest, publishing=False))
        path = _rewrite_marker(marker, latest)  # E704 follows: it is withdrawn
        if notices is not None:
            notices.append(_healed(path, base, latest, withdrawn=number))
        base = latest.number
    target = store.get(county, number)
    # what would be in force on its date had it never been published: a version
    # published after it with an earlier date counts too (it was in force up to then)
    versions = store.versions(county)
    winner = in_force(versions, target.effective_from)
    if winner is not None and winner.number != number:
        # a version of the same date with a higher number (a withdrawal of it, too)
        # took its place from the start: withdrawing it would change no decision
        why = (
            f"第 {number} 版已被第 {winner.number} 版撤回"
            if winner.withdraws == number
            else f"第 {number} 版从未生效：同日（{target.effective_from}）生效的第 {winner.number} 版取代了它"
        )
        raise RegistryError(
            make(
                "E704",
                f"{why}，撤回不会改变任何决策",
                found=target.label,
                hint=f"要改变 {target.effective_from} 起的决策，请撤回第 {winner.number} 版或发布新版本",
            )
        )
    others = [v for v in versions if v.number != number]
    restored = in_force(others, target.effective_from)
    if restored is not None:
        restored.checked()  # its content is republished under a fresh hash
    if restored is None:
        raise RegistryError(
            make(
                "E704",
                f"第 {number} 版之前没有可恢复的版本，不能撤回",
                found=target.label,
                hint="改正工作副本后发布一个新版本，生效日期与被撤回的版本相同",
            )
        )
    if effective is not None and effective < target.effective_from:
        raise RegistryError(_withdrawn_too_early(target, effective))
    text = f"撤回第 {number} 版，恢复第 {restored.number} 版的内容" + (
        f"：{note}" if note else ""
    )
    draft = dataclasses.replace(
        restored,
        seq=0,
        number=0,
        effective_from=effective or target.effective_from,
        author=author,
        note=text,
        published_at="",
        kind="withdraw",
        withdraws=number,
        impact=None,
        prev_hash="",
        chain_prev="",
        hash="",
    )
    if base != (latest.number if latest is not None else 0):  # append re-checks
        if latest is None or not 0 <= base <= latest.number:
            raise RegistryError(base_unknown(county, base, latest, "撤回"))
        raise RegistryError(base_not_latest(county, base, latest, author, action="撤回"))
    return store.append(draft, base)


def _withdrawn_too_early(target: Version, effective: date) -> Diagnostic:
    """E712: a withdrawal dated before the version it withdraws would lose the tie of
    dates to it (docs/versions.md, section 2) and undo none of its decisions, only
    bring the earlier content forward to a day before it."""
    number, start = target.number, target.effective_from
    return make(
        "E712",
        f"撤回生效日期 {effective} 早于第 {number} 版的生效日期 {start}：第 {number} 版自 {start} "
        "起仍会生效，这次撤回不会撤销它的任何决策，只会把此前的内容提前到 "
        f"{effective} 生效，撤回被拒绝",
        found=str(effective),
        expected=f"{start} 或更晚的日期",
        hint=f"撤回生效日期写 {start} 或更晚的日期（不指定时即为 {start}）；"
        "确实要让此前的内容提前生效，请发布一个新版本",
    )


__all__ = [
    "Prepared",
    "before_standards",
    "note_lines",
    "older_origin",
    "prepare",
    "publish",
    "refused",
    "same_as_older",
    "standards_begin",
    "standards_missing",
    "withdraw",
    "withdrawn_as",
    "workbook_origin_of",
]
