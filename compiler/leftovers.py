"""Temporary files of a run killed hard, found and removed by later runs.

An evaluation writes files for a while outside its output, each named with its process
id: the batches folder (``jiuzhu-batches-<pid>-…`` in the system temporary folder),
DuckDB's spill folder (``jiuzhu-spill-<uid>/<pid>``) and the file that becomes the
output (``.jiuzhu-<pid>-<hex>.partial`` beside it). Ctrl-C or ``kill`` lets the run
remove its own; ``kill -9``, the out-of-memory killer or a power cut does not, and a
killed run had left 165 MB that no later run removed.

``sweep`` removes, from one folder, the entries named by a pattern whose process is no
longer running (``alive``) and that belong to the current user: never the files of a
live process, never another user's, never a name Jiuzhu did not give. A process id
that the system gave again to a live process keeps its files until that one ends too.
Entries named as Jiuzhu named them before the process id was part of the name cannot
be told from a live run's; ``unattributed`` lists them, to be warned about (W607).
Processes in another PID namespace that share the temporary folder as the same user
(containers sharing /tmp) would look dead: that set-up is not supported.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

from compiler import logger
from compiler.diagnostics import Diagnostic, Location, make

# What a run names with its process id (the ``pid`` group), and what Jiuzhu named the
# same things before (no pid: whose they are cannot be known)
BATCHES = re.compile(r"jiuzhu-batches-(?P<pid>[0-9]{1,10})-[a-z0-9_]{8}")
OLD_BATCHES = re.compile(r"jiuzhu-batches-[a-z0-9_]{8}")
PARTIAL = re.compile(r"\.jiuzhu-(?P<pid>[0-9]{1,10})-[0-9a-f]{12}\.partial(\.body)?")
OLD_PARTIAL = re.compile(r"\.jiuzhu-[0-9a-f]{16}\.partial(\.body)?")
SPILL = re.compile(r"(?P<pid>[0-9]{1,10})")
SPILL_FOLDER = "jiuzhu-spill"


def alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, dead but not yet waited for, does not).
    True wherever that cannot be known, so that nothing of it is removed."""
    if os.name != "posix":  # os.kill would end the process on Windows
        return True
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OverflowError:  # no process has such a number
        return False
    except OSError:  # PermissionError: another user's process
        return True
    return not _zombie(pid)


def _zombie(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return False
    return status.rpartition(")")[2].split()[:1] in (["Z"], ["X"])


def sweep(folder: Path, pattern: re.Pattern[str]) -> list[Path]:
    """Remove the current user's entries of ``folder`` whose whole name ``pattern``
    matches and whose process (the ``pid`` group) is no longer running; returns them.
    A link is removed, never followed; what cannot be removed is left."""
    removed = []
    for entry, found in _entries(folder, pattern):
        if alive(int(found["pid"])):
            continue
        try:
            if stat.S_ISDIR(entry.stat(follow_symlinks=False).st_mode):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
        except OSError as error:
            logger.info("无法删除中断的运行留下的临时文件 %s：%s", entry.path, error)
            continue
        removed.append(Path(entry.path))
    if removed:
        logger.info("已删除中断的运行留下的临时文件：%s", "、".join(map(str, removed)))
    return removed


def unattributed(folder: Path, pattern: re.Pattern[str]) -> list[Path]:
    """The current user's entries of ``folder`` named as ``pattern`` says, in name order."""
    return sorted(Path(entry.path) for entry, _ in _entries(folder, pattern))


def _entries(
    folder: Path, pattern: re.Pattern[str]
) -> list[tuple[os.DirEntry[str], re.Match[str]]]:
    """The current user's entries of ``folder`` whose whole name ``pattern`` matches."""
    try:
        with os.scandir(folder) as listed:
            entries = list(listed)
    except OSError:  # missing, or not ours to read
        return []
    found = []
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match and _ours(entry):
            found.append((entry, match))
    return found


def _ours(entry: os.DirEntry[str]) -> bool:
    """Whether the entry itself (a link, not what it names) is the current user's."""
    if not hasattr(os, "getuid"):
        return True
    try:
        return entry.stat(follow_symlinks=False).st_uid == os.getuid()
    except OSError:
        return False


def spill_folder() -> Path:
    """This process's folder for what DuckDB spills, in the current user's own folder
    of the temporary folder (``jiuzhu-spill-<uid>``), after removing what dead runs
    left there and in the folder that all users shared before. One name for everyone
    let the first user's folder refuse the others' spills."""
    shared = Path(tempfile.gettempdir()) / SPILL_FOLDER
    if shared.is_dir() and not shared.is_symlink():  # a link anyone may have made
        sweep(shared, SPILL)
    own = private_folder(SPILL_FOLDER)
    sweep(own, SPILL)
    return own / str(os.getpid())


def private_folder(name: str) -> Path:
    """``<temp>/<name>-<uid>``, made readable by the current user only; when that path
    is someone else's or no folder (made first by another user, a link), a new folder
    of its own instead, never theirs."""
    tag = os.getuid() if hasattr(os, "getuid") else getpass.getuser()
    path = Path(tempfile.gettempdir()) / f"{name}-{tag}"
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        pass
    except OSError:  # a temporary folder that takes no folder: DuckDB will say so
        return path
    status = path.lstat()
    if stat.S_ISDIR(status.st_mode) and (
        not hasattr(os, "getuid") or status.st_uid == os.getuid()
    ):
        return path
    logger.warning("临时文件夹 %s 不属于当前用户，改用新的文件夹", path)
    return Path(tempfile.mkdtemp(prefix=f"{name}-{tag}-"))


def left_behind(out_folder: Path, most: int = 5) -> list[Diagnostic]:
    """W607 for each of the first ``most`` files an earlier version's run may have
    left (``unattributed``): its batches folders in the temporary folder and its
    ``.partial`` files beside the output, which this run cannot tell from a live
    run's. The last one counts those not named."""
    found = unattributed(out_folder, OLD_PARTIAL)
    found += unattributed(Path(tempfile.gettempdir()), OLD_BATCHES)
    said = []
    for number, path in enumerate(found[:most], start=1):
        more = len(found) - most if number == most else 0
        said.append(
            make(
                "W607",
                f"中断的运行可能留下了临时文件（{_size(path) / 2**20:.1f} MB）"
                + (f"，另有 {more} 项未列出" if more > 0 else ""),
                Location(file=str(path)),
                hint="它按旧版本 jiuzhu 的方式命名，无法确认写入它的运行是否已结束；"
                "确认没有 jiuzhu evaluate 正在运行后可删除",
            )
        )
    return said


def _size(path: Path) -> int:
    """Bytes of a file, or of the files of a folder."""
    try:
        if path.is_symlink() or not path.is_dir():
            return path.lstat().st_size
        return sum(p.lstat().st_size for p in path.rglob("*"))
    except OSError:
        return 0


__all__ = [
    "BATCHES",
    "PARTIAL",
    "alive",
    "left_behind",
    "private_folder",
    "spill_folder",
    "sweep",
    "unattributed",
]
