"""The service's warm projects: every county's tables bound for a date, kept ready.

``ProjectCache.get(as_of, pins)`` returns a ``Warm`` project for the date and the
pinned versions, loading it once however many requests wait for it; the key includes
a fingerprint of the tables folder and the registry file, so an edit or a publish is
seen by the next request. Each county is labelled with the version it decides by
(``330106@3``) or ``WORKING_COPY``. ``registry_module`` answers E610 (503) when
``compiler.registry`` cannot be imported; a pin the registry cannot give is answered
with 422 at ``$.versions.<code>``.
"""

from __future__ import annotations

import os
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from compiler import logger
from compiler.diagnostics import Location
from compiler.engine import Project, open_project
from compiler.errors import RegistryError
from compiler.service_errors import ServiceError, request_error, with_location

if TYPE_CHECKING:
    from compiler.service import Settings

WORKING_COPY = "工作副本"  # the label compiler.registry gives unpublished tables


@dataclass
class Warm:
    """Every county's tables bound for one date (and pinned versions)."""

    key: tuple[Any, ...]
    project: Project
    labels: dict[str, str]  # county -> 330106@3 or 工作副本


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

    def __len__(self) -> int:
        return len(self._entries)

    def registry_path(self) -> Path | None:
        if self.settings.registry is not None:
            return Path(self.settings.registry)
        try:
            return Path(registry_module().default_path(self.settings.tables))
        except ServiceError:
            return None

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
        project, labels = registry.published_project(
            self.settings.tables, self.registry_path(), as_of
        )
        if pins:
            _pin(project, labels, registry.Registry(self.registry_path()), pins)
        logger.info(
            "已打开 %s 适用的决策表，%.2f 秒", as_of, time.perf_counter() - started
        )
        return Warm(key, project, labels)

    def _fingerprint(self) -> tuple[Any, ...]:
        """The newest modification and the number of files under the tables folder,
        and the registry file's (and its write-ahead log's) size and time."""
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
                stamps.append((stat.st_mtime_ns, stat.st_size))
            except OSError:
                stamps.append(None)
        return (newest, count, *stamps)


def _pin(
    project: Project, labels: dict[str, str], store: Any, pins: dict[str, int]
) -> None:
    """Replace the plans of pinned counties by their published versions."""
    from compiler.bind import bind
    from compiler.validate import validate

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


__all__ = ["WORKING_COPY", "ProjectCache", "Warm", "registry_module"]
