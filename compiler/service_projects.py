"""The service's warm projects: every county's tables bound for a date, kept ready.

``ProjectCache.get(as_of, pins)`` returns a ``Warm`` project for the date and the
pinned versions, loading it once however many requests wait for it; the key includes
a fingerprint of the tables folder and the registry file, so an edit or a publish is
seen by the next request. Each county is labelled with the version it decides by
(``330106@3``) or ``WORKING_COPY``. ``registry_module`` answers E610 (503) when
``compiler.registry`` cannot be imported; a pin the registry cannot give is answered
with 422 at ``$.versions.<code>``.

A registry the user named (``--registry``, ``$JIUZHU_REGISTRY``), or one the service
has seen, must stay readable: moved away it is E705, replaced by a file that is no
registry E706, damaged E703, all 503, and no county falls back to its unpublished
working copy; the next request after the file is back is decided from it again. It
must also stay the same registry: a registry only grows, so each county's latest
version the service has read must still be in it with the same hash, else E705 (an
older backup, or another registry, even one with newer versions of every county).
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler import logger
from compiler.diagnostics import Diagnostic, Location, make
from compiler.engine import Project, open_project
from compiler.errors import RegistryError
from compiler.service_errors import (
    ServiceError,
    from_library,
    request_error,
    with_location,
)

if TYPE_CHECKING:
    from compiler.registry import Version
    from compiler.service import Settings

WORKING_COPY = "工作副本"  # the label compiler.registry gives unpublished tables


@dataclass
class Warm:
    """Every county's tables bound for one date (and pinned versions)."""

    key: tuple[Any, ...]
    project: Project
    labels: dict[str, str]  # county -> 330106@3 or 工作副本
    # a pinned version not yet in force on the date: county -> its effective date
    not_yet: dict[str, date] = field(default_factory=dict)
    # a pinned version that was withdrawn: county -> the withdrawal (kind withdraw)
    withdrawn: dict[str, Version] = field(default_factory=dict)


def registry_module() -> Any:
    """compiler.registry, or E610 (503) when it cannot be imported."""
    try:
        from compiler import registry
    except ImportError as error:
        raise request_error(
            "E610",
            "登记簿模块不可用，无法查询已发布的版本",
            None,
            found=type(error).__name__,
            hint="请系统管理员检查 compiler/registry.py",
        ) from None
    return registry


class ProjectCache:
    """A few warm Projects, keyed by date, pinned versions and a fingerprint of the
    tables folder and the registry file, so an edit or a publish is seen at once.
    Concurrent requests for a cold key wait for one load."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[Any, ...], Future[Warm]] = OrderedDict()
        self._registry_seen = False  # the registry file was there once: it must stay
        # each county's latest version read from the registry: (number, hash)
        self._heads: dict[str, tuple[int, str]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def registry(self, wait: float = 30.0) -> Any:
        """The registry decisions are made by (``compiler.registry.Registry``).

        One named by the user or seen by this service must exist: E705 when it is not
        there (any more), rather than every county's working copy without a word.
        """
        path = self.registry_path()
        module = registry_module()
        named = self.settings.registry_named_by
        if path is not None and path.exists():
            self._registry_seen = True
        must = named is not None or self._registry_seen
        if path is not None and must and not path.exists():
            raise RegistryError(_gone(path, named))
        return module.Registry(path, wait=wait, must_exist=must, named_by=named)

    def registry_problem(self) -> ServiceError | None:
        """Why the registry cannot be read now (E703, E705, E706), for /v1/health; a
        registry that is busy (a publish holds it) is no problem."""
        try:
            self.checked_registry(wait=1.0)
        except ServiceError:
            return None  # no registry module: /v1/health says registry_module false
        except RegistryError as error:
            if all(d.code == "E702" for d in error.diagnostics):
                return None
            return from_library(error, 503)
        return None

    def registry_path(self) -> Path | None:
        if self.settings.registry is not None:
            return Path(self.settings.registry)
        try:
            return Path(registry_module().default_path(self.settings.tables))
        except ServiceError:
            return None

    def checked_registry(self, wait: float = 30.0) -> Any:
        """``registry()``, refused (E705) when it no longer holds, unchanged, a
        county's latest version this service has read: the file was replaced by an
        older backup or by another registry, even one where every county has newer
        versions (a registry only grows, so the versions read stay, hash and all).
        Remembers what it holds."""
        store = self.registry(wait)
        heads = store.heads()
        with self._lock:
            seen = sorted(self._heads.items())
        stored = store.hashes() if seen else {}
        with self._lock:
            lost = [
                _lost(store.path, code, number, heads.get(code), stored.get((code, number)))
                for code, (number, digest) in seen
                if stored.get((code, number)) != digest
            ]
            if lost:
                raise RegistryError(lost)
            self._heads.update(heads)
        return store

    def get(self, as_of: date, pins: dict[str, int]) -> Warm:
        key = (as_of, tuple(sorted(pins.items())), self._fingerprint())
        with self._lock:
            entry = self._entries.get(key)
            owner = entry is None
            if entry is None:
                entry = self._entries[key] = Future()
                while len(self._entries) > self.settings.cached_projects:
                    self._entries.popitem(last=False)
            else:
                self._entries.move_to_end(key)
        if owner:
            try:
                entry.set_result(self._open(key, as_of, pins))
            except BaseException as error:  # noqa: BLE001 - handed to the waiters
                with self._lock:
                    self._entries.pop(key, None)  # a refusal is not kept
                entry.set_exception(error)
        return entry.result()

    def _open(self, key: tuple[Any, ...], as_of: date, pins: dict[str, int]) -> Warm:
        started = time.perf_counter()
        if pins:
            registry = registry_module()
        else:
            try:
                registry = registry_module()
            except ServiceError:  # no registry module: every county's working copy
                project = open_project(self.settings.tables, as_of=as_of)
                return Warm(key, project, {c: WORKING_COPY for c in project.plans})
        store = self.checked_registry()  # refused before the tables are loaded
        project, labels = registry.published_project(self.settings.tables, store, as_of)
        pinned = _pin(project, labels, store, pins) if pins else ({}, {})
        not_yet, withdrawn = pinned
        logger.info(
            "已打开 %s 适用的决策表，%.2f 秒", as_of, time.perf_counter() - started
        )
        return Warm(key, project, labels, not_yet, withdrawn)

    def _fingerprint(self) -> tuple[Any, ...]:
        """The newest modification and the number of files under the tables folder,
        the registry file's (and its write-ahead log's) size, time and inode (a file
        moved over it is another), and whether the registry must exist: a project
        from before the registry was first seen is not used once it has gone."""
        newest, count = 0, 0
        for folder, _, files in os.walk(self.settings.tables):
            for name in files:
                try:
                    newest = max(
                        newest, os.stat(os.path.join(folder, name)).st_mtime_ns
                    )
                except OSError:
                    continue
                count += 1
        stamps: list[tuple[int, int] | None] = []
        registry = self.registry_path()
        for path in (registry, Path(f"{registry}.wal")) if registry else ():
            try:
                stat = path.stat()
                stamps.append((stat.st_mtime_ns, stat.st_size, stat.st_ino))
            except OSError:
                stamps.append(None)
        if stamps and stamps[0] is not None:
            self._registry_seen = True
        must = self.settings.registry_named_by is not None or self._registry_seen
        return (newest, count, *stamps, must)


def _gone(path: Path, named_by: str | None) -> Diagnostic:
    """E705 for the registry decisions were made by, no longer where it was."""
    restart = f"去掉 {named_by} 后" if named_by else ""
    return make(
        "E705",
        f"版本登记簿「{path}」不存在（已被移走、改名或删除），暂停决策："
        "不会改用未发布的工作副本",
        Location(str(path)),
        found="文件不存在",
        expected="服务所用的登记簿文件留在原处",
        hint="把登记簿文件放回原处（或从备份恢复），服务即恢复决策，无需重启；"
        f"确实不再使用已发布的版本时，{restart}重新启动服务",
    )


def _lost(
    path: Path,
    code: str,
    number: int,
    now: tuple[int, str] | None,
    digest: str | None,
) -> Diagnostic:
    """E705 for a county whose latest version, as this service read it, the registry
    no longer holds unchanged (``now``: the county's latest there, if any; ``digest``:
    the hash stored there under that number, if any)."""
    if now is None:
        holds = "没有该县的版本"
    elif digest is not None:  # another registry's version of that number
        newer = f"，最新为第 {now[0]} 版" if now[0] > number else ""
        holds = f"第 {number} 版的内容与此前读到的不同（哈希不符）{newer}"
    else:
        holds = f"最新为第 {now[0]} 版"
    return make(
        "E705",
        f"版本登记簿中已没有本服务读到过的 {code} 第 {number} 版（现在{holds}）："
        f"登记簿文件「{path}」可能已被替换为另一份登记簿或还原为旧的备份，暂停决策",
        Location(str(path)),
        found=f"{code}：{holds}",
        expected=f"含有 {code}@{number} 的登记簿",
        hint="把原来的登记簿文件放回原处，服务即恢复决策；确实要改用这份登记簿时，"
        "重新启动服务",
    )


def _pin(
    project: Project, labels: dict[str, str], store: Any, pins: dict[str, int]
) -> tuple[dict[str, date], dict[str, Version]]:
    """Replace the plans of pinned counties by their published versions; returns
    the effective date of each that is not yet in force on the project's date, and
    the withdrawal of each that was withdrawn."""
    from compiler.bind import bind
    from compiler.validate import validate

    not_yet: dict[str, date] = {}
    withdrawn: dict[str, Version] = {}
    for code, number in pins.items():
        try:
            version = store.get(code, number)
        except RegistryError as error:
            where = Location(cell=f"$.versions.{code}")
            placed = [with_location(d, where) for d in error.diagnostics]
            raise ServiceError(422, placed) from None
        project.plans[code] = bind(version.rulebook(), project.report)
        validate(project.plans[code], project.report, project.as_of, {})
        labels[code] = version.label
        if version.effective_from > project.as_of:
            not_yet[code] = version.effective_from
        withdrawal = standing_withdrawal(store.versions(code), number)
        if withdrawal is not None:
            withdrawn[code] = withdrawal
    return not_yet, withdrawn


def standing_withdrawal(versions: list[Version], number: int) -> Version | None:
    """The latest withdrawal of version ``number`` that was not itself withdrawn
    (withdrawing a withdrawal restores the content it took away), or None."""
    for withdrawal in sorted(versions, key=lambda v: -v.number):
        if (
            withdrawal.kind == "withdraw"
            and withdrawal.withdraws == number
            and standing_withdrawal(versions, withdrawal.number) is None
        ):
            return withdrawal
    return None


__all__ = ["WORKING_COPY", "ProjectCache", "Warm", "registry_module"]
