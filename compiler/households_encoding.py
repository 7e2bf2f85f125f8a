"""The text encoding of a CSV household file, judged from its bytes.

``utf8`` gives a file DuckDB can read as UTF-8: the file itself when it is UTF-8 (with
or without the BOM Excel's 「CSV UTF-8」 writes), or a UTF-8 copy when it is

- UTF-16 with its byte order mark: what Excel saves as 「Unicode 文本」 and WPS as
  「Unicode 文本」 (tab-separated, which ``households_csv`` reads too), common in county
  offices; a file that only starts with the mark and then breaks is E605 at its line;
- GB18030 (GBK), as Excel and WPS on Chinese Windows save 「CSV（逗号分隔）」.

Anything else is E605 naming what was found: UTF-32 by its mark, NUL bytes (UTF-16
without its mark, or no text at all), or the first byte that is not UTF-8, at its line,
character and byte offset; when neither reads, the place is where the encoding that
reads further fails (a GB18030 file with one stray byte on line 9 is named at line 9,
not at its first Chinese character, where UTF-8 fails; helper-102). A file whose text before that byte is UTF-8 with Chinese in
it is a UTF-8 file with a stray byte (a GBK name pasted into it), refused there too:
read as GB18030 every Chinese character of it would turn into other ones, and the
headers and values with them.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from compiler.diagnostics import Location
from compiler.errors import InputError
from compiler.households_model import unreadable

_CHUNK = 1 << 20
_UTF32_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_SAVE_UTF8 = "用 Excel 或 WPS 打开后另存为「CSV UTF-8（逗号分隔）」再试"
_EXPECTED = "UTF-8、带 BOM 的 UTF-8、GB18030（GBK）或带 BOM 的 UTF-16（Excel 的「Unicode 文本」）"
_PASTED = "多是把 GBK 编码的文字粘贴进了 UTF-8 文件；改正这一处，或"
# A UTF-8 file's text before a stray byte holds this many Chinese characters at least:
# GBK bytes that also read as UTF-8 give Latin letters, seldom a Chinese character
_CHINESE_BEFORE = 2


def utf8(path: Path, scratch: Path) -> Path:
    """The file if it is UTF-8 (BOM or not), else a UTF-8 copy in ``scratch`` of its
    UTF-16 (with BOM) or GB18030 text; raises E605 for any other bytes."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(_UTF32_BOMS):
        raise _unknown(path, "UTF-32（文件开头是 UTF-32 的字节顺序标记）")
    if head.startswith(_UTF16_BOMS):
        broken = _first_error(path, "utf-16")
        if broken is not None:
            said = "却无法按 UTF-16 读取（文件以 UTF-16 的字节顺序标记开头）"
            raise _undecodable(path, broken, "utf-16", said)
        return _copy(path, scratch, "utf-16")
    broken = _first_error(path, "utf-8")
    if _nul_before(path, broken):  # UTF-16 of ASCII text alone reads as UTF-8
        raise _unknown(
            path, "含空字节（\\x00）：像是不带 BOM 的 UTF-16，或不是文本文件"
        )
    if broken is None:
        return path
    if _chinese_before(path, broken):
        said = "的字节不是 UTF-8，前文却是 UTF-8"
        raise _undecodable(path, broken, "utf-8", said, _PASTED)
    gb_broken = _first_error(path, "gb18030")
    if gb_broken is not None and gb_broken > broken:
        # GB18030 reads further: a GB18030 file with a stray byte, named where it is
        said = "起不是 GB18030（GBK），前文却是 GB18030（也不是 UTF-8）"
        raise _undecodable(path, gb_broken, "gb18030", said)
    if gb_broken is not None:
        raise _undecodable(
            path, broken, "utf-8", "起既不是 UTF-8，也不是 GB18030（GBK）"
        )
    return _copy(path, scratch, "gb18030")


def _copy(path: Path, scratch: Path, encoding: str) -> Path:
    """A UTF-8 copy of the file's text in ``encoding``, which it reads in (its BOM
    left out)."""
    copy = scratch / path.name
    with (
        path.open(encoding=encoding, newline="") as src,
        copy.open("w", encoding="utf-8", newline="") as dst,
    ):
        while chunk := src.read(_CHUNK):
            dst.write(chunk)
    return copy


def _first_error(path: Path, encoding: str) -> int | None:
    """The byte offset of the first byte the file cannot be read at in ``encoding``
    (the file's length when it ends inside a character); None when it reads."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    fed = 0
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                pending = len(decoder.getstate()[0])
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as error:
                    return fed - pending + error.start
                fed += len(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return fed - len(decoder.getstate()[0])
    return None


def _nul_before(path: Path, offset: int | None) -> bool:
    """Whether the first 64 KB, or the bytes before ``offset`` up to a megabyte (which
    are UTF-8), hold a NUL: text never does; UTF-16 without its mark has one in every
    other byte."""
    with path.open("rb") as handle:
        return b"\x00" in handle.read(max(min(offset or 0, _CHUNK), 1 << 16))


def _chinese_before(path: Path, offset: int) -> bool:
    """Whether the UTF-8 text before ``offset`` (its last megabyte) holds Chinese."""
    start = max(0, offset - _CHUNK)
    with path.open("rb") as handle:
        handle.seek(start)
        text = handle.read(offset - start).decode("utf-8", "ignore")
    return sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff") >= _CHINESE_BEFORE


def _place(path: Path, offset: int, encoding: str) -> tuple[int, int, bytes, str]:
    """(line, character within it, the bytes that do not read, the line's text up
    to them) of a byte offset in a file of ``encoding``; UTF-16 by its mark."""
    if encoding == "utf-16":
        with path.open("rb") as handle:
            little = handle.read(2) == codecs.BOM_UTF16_LE
        encoding = "utf-16-le" if little else "utf-16-be"
    newline = "\n".encode(encoding)
    line, start, done = 1, 0, 0
    with path.open("rb") as handle:
        while done < offset:  # a chunk is even: a UTF-16 line break is never cut
            chunk = handle.read(min(_CHUNK, offset - done))
            at = chunk.find(newline)
            while at != -1:
                if (done + at) % len(newline) == 0:
                    line, start = line + 1, done + at + len(newline)
                at = chunk.find(newline, at + 1)
            done += len(chunk)
        handle.seek(start)
        before = handle.read(offset - start)
        bad = handle.read(len(newline))
    text = before.decode(encoding, "replace").lstrip("\ufeff")
    return line, len(text) + 1, bad, text


def _undecodable(
    path: Path, offset: int, encoding: str, said: str, cause: str = ""
) -> InputError:
    """E605 at the line and character where the file stops being ``encoding``."""
    line, character, bad, text = _place(path, offset, encoding)
    shown = " ".join(f"0x{b:02X}" for b in bad) if bad else "文件在一个字符的中间结束"
    where = f"第 {line} 行第 {character} 个字符处（文件第 {offset + 1} 字节）"
    return unreadable(
        f"{_what(path)}编码无法识别：{where}{said}",
        Location(file=str(path), cell=f"第{line}行"),
        found=f"{_clip(text)}<{shown}>",
        expected=_EXPECTED,
        hint=cause + _SAVE_UTF8,
    )


def _unknown(path: Path, found: str) -> InputError:
    return unreadable(
        f"{_what(path)}编码无法识别",
        path,
        found=found,
        expected=_EXPECTED,
        hint=_SAVE_UTF8,
    )


def _what(path: Path) -> str:
    """What a message calls the file: a CSV, or the text of a ``.txt`` file."""
    return "文本文件" if path.suffix.lower() == ".txt" else "CSV 文件"


def _clip(text: str) -> str:
    """The end of a line before a bad byte, cut to 40 characters."""
    return text if len(text) <= 40 else "..." + text[-37:]


__all__ = ["utf8"]
