"""Household files uploaded on 样本预览: saved in the user's upload folder, a .zip
unpacked, and CSV, tab-separated text or Parquet files grouped as
``compiler.households`` reads them: a ``*households.csv`` with its ``*members.csv`` and
optional ``*events.csv`` beside it (``.txt``: Excel's 「Unicode 文本」 and WPS's
tab-separated text, named alike).

What is wrong with an upload comes back as sentences for the page, each saying which
file is missing and how to upload it; nothing names a folder on the server.

Household data is personal data: the folders are made 0700 and the files 0600 (as the
users file and the drafts), and a user deletes their files on the page (``remove``).
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

SUFFIXES = (".jsonl", ".json", ".csv", ".txt", ".parquet")
PAIRED = (".csv", ".txt", ".parquet")  # a households file needs its members file beside it
ROLES = ("households", "members", "events")
ZIP_LIMIT = 512 * 1024 * 1024  # unpacked bytes of one .zip: household data, not a zip bomb
ZIP_FILES = 20


@dataclass
class Saved:
    """What one upload did: the files written, the household file to preview, problems."""

    written: list[str] = field(default_factory=list)
    chosen: str | None = None
    problems: list[str] = field(default_factory=list)


def safe_name(name: str) -> str:
    """The file's own name with characters a folder name should not hold replaced."""
    return re.sub(r"[^\w.\-\u4e00-\u9fff]", "_", Path(name).name)


def role(path: Path) -> tuple[str, str] | None:
    """(prefix, households/members/events) of a CSV, text or Parquet name, e.g. ``2025-members.csv``
    → ("2025-", "members"); None for JSON and other names."""
    if path.suffix.lower() not in PAIRED:
        return None
    stem = path.name[: -len(path.suffix)]
    for kind in ROLES:
        if stem.endswith(kind):
            return stem[: -len(kind)], kind
    return None


def sibling(path: Path, kind: str) -> Path:
    prefix, _ = role(path) or ("", "")
    return path.with_name(f"{prefix}{kind}{path.suffix}")


def save(folder: Path, files: list[tuple[str, bytes]]) -> Saved:
    """Write the uploaded files (a .zip unpacked) into ``folder`` and say what is
    missing for them to be read: a members file for a households file, a households
    file for a members or events file."""
    result = Saved()
    unpacked: list[tuple[str, bytes]] = []
    for name, data in files:
        if name.lower().endswith(".zip"):
            unpacked += _unzip(name, data, result.problems)
        else:
            unpacked.append((name, data))
    private_folder(folder)
    for name, data in unpacked:
        target = folder / safe_name(name)
        if target.suffix.lower() not in SUFFIXES:
            result.problems.append(refusal(name))
            continue
        if not target.exists() or target.read_bytes() != data:
            _write_private(target, data)
        os.chmod(target, 0o600)  # a file saved before uploads were private
        result.written.append(target.name)
    result.problems += _unpaired(folder, result.written)
    readable = {p.name for p in sources(folder)}
    # the uploader keeps every file chosen so far, in order: preview the newest set,
    # a members or events file by the households file it goes with
    result.written = list(dict.fromkeys(result.written))
    heads = [sibling(folder / n, "households").name if role(folder / n) else n for n in result.written]
    result.chosen = next((n for n in reversed(heads) if n in readable), None)
    return result


EXCEL = (".xlsx", ".xlsm", ".xls", ".et")  # WPS saves .et


def refusal(name: str) -> str:
    """Why a file of another kind is not saved, and what to upload instead: the
    uploader takes any file so that this, not Streamlit's English, is what is said."""
    if Path(name).suffix.lower() in EXCEL:
        return (f"「{name}」是 Excel 工作簿，样本预览不直接读取，没有保存；请在 Excel 中把家庭表、成员表"
                "（有事件时再加事件表）分别另存为「CSV UTF-8」文件，命名为 households.csv、members.csv"
                "（和 events.csv），一起选中上传，或打包成一个 .zip 上传。")
    return f"「{name}」不是家庭数据文件，没有保存；应为 .jsonl、.json、.csv、.txt（制表符分隔）、.parquet 或 .zip。"


def private_folder(folder: Path) -> None:
    """Make ``folder`` and the folders up to ``uploads`` above it, readable by the
    console's account only (0700); folders made before this are tightened too."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    levels = [folder, *folder.parents]
    top = next((i for i, level in enumerate(levels) if level.name == "uploads"), 0)
    for level in levels[: top + 1]:
        os.chmod(level, 0o700)


def _write_private(target: Path, data: bytes) -> None:
    """Write the file readable by the console's account only (0600), atomically."""
    temporary = target.with_name(f".{target.name}.part")
    handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(temporary, target)


def _unzip(name: str, data: bytes, problems: list[str]) -> list[tuple[str, bytes]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = [e for e in archive.infolist() if not e.is_dir() and Path(e.filename).suffix.lower() in SUFFIXES]
        if len(entries) > ZIP_FILES or sum(e.file_size for e in entries) > ZIP_LIMIT:
            problems.append(f"「{name}」解压后超过 {ZIP_FILES} 个文件或 {ZIP_LIMIT >> 20} MB，没有保存；请只打包一组家庭数据。")
            return []
        found = [(Path(e.filename).name, archive.read(e)) for e in entries]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, OSError, EOFError):
        problems.append(f"「{name}」不是完整的 .zip 压缩包，无法解压；请重新打包后上传。")
        return []
    if not found:
        problems.append(f"「{name}」中没有 .jsonl、.json、.csv、.txt 或 .parquet 文件。")
    return found


def _unpaired(folder: Path, written: list[str]) -> list[str]:
    problems = []
    for name in written:
        path = folder / name
        found = role(path)
        if found is None:
            if path.suffix.lower() in PAIRED:
                problems.append(
                    f"「{name}」的文件名应以 households{path.suffix}、members{path.suffix} 或 events{path.suffix}"
                    " 结尾：CSV、文本和 Parquet 家庭数据分为家庭、成员、（可选）事件三个文件，文件名只差这一部分。")
            continue
        if found[1] == "households" and not sibling(path, "members").exists():
            problems.append(
                f"「{name}」是家庭文件，还缺成员文件「{sibling(path, 'members').name}」："
                f"请把两个文件（有事件时再加「{sibling(path, 'events').name}」）一起选中上传，或打包成 .zip 上传。")
        if found[1] != "households" and not sibling(path, "households").exists():
            problems.append(
                f"「{name}」须与家庭文件「{sibling(path, 'households').name}」一同使用："
                "请把家庭、成员（和事件）文件一起选中上传，或打包成 .zip 上传。")
    return problems


def sources(folder: Path) -> list[Path]:
    """The uploaded files a preview can read from: JSON files and households files
    (their members and events files go with them)."""
    found = []
    for path in sorted(folder.glob("*")) if folder.is_dir() else []:
        kind = role(path)
        if path.is_file() and path.suffix.lower() in SUFFIXES and (kind is None or kind[1] == "households"):
            if path.suffix.lower() in PAIRED and kind is None:
                continue
            found.append(path)
    return found


def label(path: Path) -> str:
    """How the selector names an uploaded source: 上传：households.csv（含 members.csv）."""
    beside = [p.name for p in companions(path)]
    return f"上传：{path.name}" + (f"（含 {'、'.join(beside)}）" if beside else "")


def leftovers(folder: Path) -> list[Path]:
    """Files in the folder no preview reads: a members or events file without its
    households file, a CSV not named as one of the three."""
    taken = {p for source in sources(folder) for p in (source, *companions(source))}
    return [p for p in sorted(folder.glob("*")) if p.is_file() and p not in taken
            and not p.name.startswith(".")] if folder.is_dir() else []


def companions(path: Path) -> list[Path]:
    """The members and events files that go with a households file."""
    return [sibling(path, k) for k in ROLES[1:] if role(path) and sibling(path, k).exists()]


def remove(path: Path) -> list[str]:
    """Delete an uploaded file and, for a households file, its members and events
    files; the names deleted."""
    gone = [path, *companions(path)] if role(path) and role(path)[1] == "households" else [path]  # type: ignore[index]
    for file in gone:
        file.unlink(missing_ok=True)
    return [file.name for file in gone]
