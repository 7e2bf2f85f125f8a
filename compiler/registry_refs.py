"""Naming a side of a diff: what a user writes, as the rulebooks it stands for.

``resolve_ref`` reads ``330106@3`` (a published version), ``330106@latest``,
``330106@2025-07-01`` (the version in force that day), ``330106`` or ``330106@work``
(the working copy), ``work`` (every county's working copy), ``published`` (every
county's version in force) or a path (a canonical YAML file, or a county workbook laid
over the working province and city) and returns a ``diff.Side``. Raises RegistryError
(E704) for a version or ref that does not exist, ValidationFailed when a working copy
or workbook has errors.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from pathlib import Path

from compiler.bind import BindCache, Plan, bind
from compiler.canonical import (
    CanonicalError,
    load_rulebook,
    load_workbook_yaml,
    read,
)
from compiler.diagnostics import Location, Report, make
from compiler.diff import Side
from compiler.errors import RegistryError, ValidationFailed
from compiler.load import load_workbook
from compiler.model import RuleBook, Workbook, WorkbookKind
from compiler.registry import (
    WORKING_COPY,
    Registry,
    not_found,
    open_registry,
    published_project,
)
from compiler.resolve import Tables, load_tables, rulebook_for


def resolve_ref(
    ref: str,
    tables_root: str | Path,
    registry_path: Registry | str | Path | None,
    as_of: date,
    county: str | None = None,
) -> Side:
    """What a user writes for one side of a diff, as a Side.

    ``330106@3`` a published version; ``330106@latest``; ``330106@2025-07-01`` the
    version in force on that date; ``330106`` or ``330106@work`` the working copy;
    ``work`` every county's working copy; ``published`` every county's version in force
    on ``as_of`` (the working copy where none is); a path: a canonical YAML file, or a
    county workbook (.xlsx or a folder of .csv) laid over the working province and city.

    ``registry_path`` may be a Registry (``must_exist`` for a path the user named).
    Raises RegistryError (E704) for a version that does not exist or a ref that is
    none of these, E703 for a version changed after publishing, E705 for a registry
    that must exist and does not; ValidationFailed when a working copy or workbook
    has errors.
    """
    store = open_registry(registry_path, tables_root)
    path = Path(ref)
    if ref == "work":
        tables = _working(tables_root)
        cache = BindCache()  # a shared table's error stops the first county that binds it
        plans = {c: _working_plan(tables, c, cache) for c in tables.county_codes()}
        side = Side("工作副本", {c: p.rulebook for c, p in plans.items()},
                    {c: WORKING_COPY for c in plans})
        return side.knowing({c: (p, []) for c, p in plans.items()})
    if ref == "published":
        project, labels = published_project(tables_root, store, as_of)
        if project.report.has_errors:
            raise ValidationFailed(project.report.errors)
        books = {c: p.rulebook for c, p in project.plans.items()}
        side = Side(f"{as_of} 生效的版本", books, labels)
        return side.knowing({c: (p, []) for c, p in project.plans.items()})
    match = re.fullmatch(r"([0-9]{6})(?:@(.+))?", ref)
    if match and not path.exists():
        return _county_side(
            store, tables_root, match.group(1), match.group(2) or "work"
        )
    if path.exists():
        return _path_side(path, tables_root, county)
    raise RegistryError(
        make(
            "E704",
            f"无法识别「{ref}」",
            found=ref,
            expected="330106@3、330106@latest、330106@2025-07-01、330106（工作副本）、"
            "work、published，或工作簿、YAML 文件的路径",
        )
    )


def _county_side(
    store: Registry, tables_root: str | Path, code: str, which: str
) -> Side:
    if which in ("work", "working", WORKING_COPY):
        book = _working_book(_working(tables_root), code)
        return Side(f"{code} 工作副本", {code: book}, {code: WORKING_COPY})
    if which == "latest":
        version = store.latest(code)
        if version is None:
            raise RegistryError(not_found(code, which, None))
    elif re.fullmatch(r"[0-9]+", which):
        version = store.get(code, int(which))
    else:
        try:
            day = date.fromisoformat(which)
        except ValueError:
            if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", which):  # written as a date, not one
                raise RegistryError(
                    make(
                        "E704",
                        f"「{which}」不是有效的日期",
                        found=f"{code}@{which}",
                        expected=f"{code}@2025-07-01 这样的日期，或 {code}@3 这样的版本号",
                        hint="核对月份和日期，例如 2 月没有 30 日",
                    )
                ) from None
            raise RegistryError(not_found(code, which, store.latest(code))) from None
        version = store.version_in_force(code, day)
        if version is None:
            raise RegistryError(
                make(
                    "E704",
                    f"{code} 在 {day} 没有生效的已发布版本",
                    found=f"{code}@{which}",
                    hint=f"用 jiuzhu history --county {code} 查看各版本的生效日期",
                )
            )
    return Side(version.label, {code: version.rulebook()}, {code: version.label},
                {code: version.effective_from})


def _working(tables_root: str | Path) -> Tables:
    report = Report()
    tables = load_tables(tables_root, report)
    if report.has_errors:
        raise ValidationFailed(report.errors)
    return tables


def _working_book(tables: Tables, code: str) -> RuleBook:
    return _working_plan(tables, code).rulebook


def _working_plan(tables: Tables, code: str, cache: BindCache | None = None) -> Plan:
    """The county's working rulebook bound; ValidationFailed when it has errors."""
    if code not in tables.counties:
        raise RegistryError(
            make(
                "E704",
                f"工作副本中没有 {code} 的工作簿",
                found=code,
                expected=f"{tables.root}/counties/ 中以 {code} 开头的工作簿",
            )
        )
    report = Report()
    plan = bind(rulebook_for(tables, code, report), report, cache)
    if report.has_errors:
        raise ValidationFailed(report.errors)
    return plan


def _path_side(path: Path, tables_root: str | Path, county: str | None) -> Side:
    if path.suffix.lower() in (".yaml", ".yml"):
        text = path.read_text(encoding="utf-8")
        try:
            if read(text).get("kind") == "rulebook":
                book = load_rulebook(text)
                return Side(
                    str(path), {book.county_code: book}, {book.county_code: path.name}
                )
            workbook = load_workbook_yaml(text)
        except CanonicalError as error:
            raise RegistryError(
                make(
                    "E704",
                    f"YAML 文件不是 jiuzhu export 导出的版本：{error}",
                    Location(str(path)),
                )
            ) from None
    else:
        report = Report()
        workbook = load_workbook(path, WorkbookKind.COUNTY, report)
        if report.has_errors:
            raise ValidationFailed(report.errors)
    book = _laid_over(workbook, tables_root, county)
    return Side(str(path), {book.county_code: book}, {book.county_code: path.name})


def _laid_over(
    workbook: Workbook, tables_root: str | Path, county: str | None
) -> RuleBook:
    """A county workbook over the working province and city, as its county's rulebook."""
    from compiler.resolve import _standards_by_key, _type_standards

    code = county or workbook.code
    if county and re.fullmatch(r"[0-9]{6}", workbook.code or "") and workbook.code != county:
        raise RegistryError(
            make(
                "E704",
                f"工作簿文件名中的代码 {workbook.code} 与 --county {county} 不一致",
                Location(workbook.path),
                found=county,
                expected=workbook.code,
                hint="核对文件名或 --county，二者须指同一个县",
            )
        )
    if not re.fullmatch(r"[0-9]{6}", code or ""):
        raise RegistryError(
            make(
                "E704",
                "无法确定工作簿属于哪个县",
                Location(workbook.path),
                hint="文件名以六位代码开头（如 330106-西湖区.xlsx），或用 --county 指定",
            )
        )
    report = Report()
    tables = _working(tables_root)
    _type_standards(workbook, _standards_by_key(tables.province), report)
    workbook.code = code
    if code in tables.counties:
        workbook.name = tables.counties[code].name  # the county's name, not the file's
    counties = dict(tables.counties)
    counties[code] = workbook
    book = rulebook_for(dataclasses.replace(tables, counties=counties), code, report)
    bind(book, report)
    if report.has_errors:
        raise ValidationFailed(report.errors)
    return book


__all__ = ["resolve_ref"]
