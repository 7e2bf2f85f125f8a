"""Joining Parquet files written alike into one, without decoding a value.

A batched evaluation writes each batch's decisions to a Parquet part. Reading the parts
back and writing them again as one file took 6-7 s of the 60 s of ten million
households (docs/performance.md). A Parquet file is ``PAR1``, the column chunks of its
row groups, a footer (Thrift's compact encoding of ``FileMetaData``), the footer's
length and ``PAR1`` again; the column chunks do not refer to each other or to their
place in the file. So ``join_parquet`` copies every part's column chunks one after the
other as bytes and writes one footer listing all the row groups, each offset moved by
where its part's chunks now start. Only the footer is decoded, by ``_Compact`` here,
field by field, and written back as it was but for the offsets, the row count and the
row-group ordinals.

The parts must share their schema (the same query wrote them); a part that is not a
Parquet file, or whose footer this cannot read (page indexes, encryption), raises
``ValueError``: the caller then writes the output the slow way.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

_MAGIC = b"PAR1"

# Thrift compact types
_STOP, _TRUE, _FALSE, _BYTE, _I16, _I32, _I64, _DOUBLE, _BINARY, _LIST, _SET, _MAP, _STRUCT = range(13)

# Field ids, from parquet.thrift
_FILE_NUM_ROWS, _FILE_SCHEMA, _FILE_ROW_GROUPS, _FILE_COLUMN_ORDERS = 3, 2, 4, 7
_FILE_ENCRYPTION = 8
_FILE_REQUIRED = (_FILE_SCHEMA, _FILE_NUM_ROWS, _FILE_ROW_GROUPS)
_GROUP_COLUMNS, _GROUP_FILE_OFFSET, _GROUP_ORDINAL = 1, 5, 7
_CHUNK_FILE_OFFSET, _CHUNK_META = 2, 3
_CHUNK_INDEXES = (4, 6)  # offset index and column index: absolute offsets inside them
_META_OFFSETS = (9, 10, 11, 14)  # data page, index page, dictionary page, bloom filter


@dataclass
class _Field:
    id: int
    type: int
    value: object  # int, float, bytes, bool, _Struct, or (element type, [values])


@dataclass
class _Struct:
    fields: list[_Field]

    def get(self, field_id: int) -> _Field | None:
        return next((f for f in self.fields if f.id == field_id), None)


class _Compact:
    """Thrift's compact protocol, as much as a Parquet footer uses."""

    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def byte(self) -> int:
        if self.at >= len(self.data):
            raise ValueError("footer ends early")
        value = self.data[self.at]
        self.at += 1
        return value

    def varint(self) -> int:
        shift = result = 0
        while True:
            byte = self.byte()
            result |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return result
            shift += 7

    def zigzag(self) -> int:
        n = self.varint()
        return (n >> 1) ^ -(n & 1)

    def value(self, kind: int) -> object:
        if kind in (_TRUE, _FALSE):
            return kind == _TRUE
        if kind == _BYTE:
            return self.byte()
        if kind in (_I16, _I32, _I64):
            return self.zigzag()
        if kind == _DOUBLE:
            raw = self.data[self.at : self.at + 8]
            self.at += 8
            return struct.unpack("<d", raw)[0]
        if kind == _BINARY:
            size = self.varint()
            raw = self.data[self.at : self.at + size]
            self.at += size
            return raw
        if kind in (_LIST, _SET):
            header = self.byte()
            size, element = header >> 4, header & 0x0F
            if size == 15:
                size = self.varint()
            # a boolean in a list is one byte of its own (1 true, 2 false)
            items = [self.byte() if element in (_TRUE, _FALSE) else self.value(element) for _ in range(size)]
            return (element, items)
        if kind == _STRUCT:
            return self.struct()
        raise ValueError(f"footer holds a Thrift type this does not read ({kind})")

    def struct(self) -> _Struct:
        fields: list[_Field] = []
        last = 0
        while True:
            header = self.byte()
            kind = header & 0x0F
            if kind == _STOP:
                return _Struct(fields)
            delta = header >> 4
            last = last + delta if delta else self.zigzag()
            fields.append(_Field(last, kind, self.value(kind)))


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        if n < 0x80:
            out.append(n)
            return bytes(out)
        out.append((n & 0x7F) | 0x80)
        n >>= 7


def _zigzag(n: int) -> bytes:
    return _varint((n << 1) ^ (n >> 63))


def _encode_value(kind: int, value: object) -> bytes:
    if kind in (_TRUE, _FALSE):
        return b""  # in the field header
    if kind == _BYTE:
        return bytes([value])  # type: ignore[list-item]
    if kind in (_I16, _I32, _I64):
        return _zigzag(value)  # type: ignore[arg-type]
    if kind == _DOUBLE:
        return struct.pack("<d", value)
    if kind == _BINARY:
        return _varint(len(value)) + value  # type: ignore[arg-type, operator]
    if kind in (_LIST, _SET):
        element, items = value  # type: ignore[misc]
        head = bytes([(len(items) << 4) | element]) if len(items) < 15 else bytes([0xF0 | element]) + _varint(len(items))
        if element in (_TRUE, _FALSE):
            return head + bytes(items)
        return head + b"".join(_encode_value(element, item) for item in items)
    if kind == _STRUCT:
        return _encode_struct(value)  # type: ignore[arg-type]
    raise ValueError(f"cannot write Thrift type {kind}")


def _encode_struct(value: _Struct) -> bytes:
    out = bytearray()
    last = 0
    for field in value.fields:
        kind = field.type
        if kind in (_TRUE, _FALSE):
            kind = _TRUE if field.value else _FALSE
        delta = field.id - last
        if 0 < delta <= 15:
            out.append((delta << 4) | kind)
        else:
            out.append(kind)
            out += _zigzag(field.id)
        out += _encode_value(kind, field.value)
        last = field.id
    out.append(_STOP)
    return bytes(out)


@dataclass
class _Part:
    path: Path
    data_end: int  # the column chunks are bytes [4, data_end)
    footer: _Struct


def _read_part(path: Path) -> _Part:
    size = path.stat().st_size
    with path.open("rb") as file:
        head = file.read(4)
        if size < 12 or head != _MAGIC:
            raise ValueError(f"{path} is not a Parquet file")
        file.seek(size - 8)
        tail = file.read(8)
        length = struct.unpack("<I", tail[:4])[0]
        if tail[4:] != _MAGIC or length > size - 12:
            raise ValueError(f"{path} is not a Parquet file")
        file.seek(size - 8 - length)
        reader = _Compact(file.read(length))
    try:
        footer = reader.struct()
        if reader.at != length or any(footer.get(f) is None for f in _FILE_REQUIRED):
            raise ValueError("a footer this does not read")
        if footer.get(_FILE_ENCRYPTION) is not None:
            raise ValueError("encrypted")
        part = _Part(path, size - 8 - length, footer)
        if not all(4 <= offset < part.data_end for offset in _offsets(footer)):
            raise ValueError("a column chunk outside its data")
    except (ValueError, AttributeError, TypeError, IndexError, struct.error) as error:
        raise ValueError(f"{path}: {error}") from None
    return part


def _offsets(footer: _Struct) -> list[int]:
    """Every page and bloom-filter offset of a file's column chunks."""
    found = []
    for group in footer.get(_FILE_ROW_GROUPS).value[1]:  # type: ignore[union-attr, index]
        for chunk in group.get(_GROUP_COLUMNS).value[1]:  # type: ignore[union-attr, index]
            meta = chunk.get(_CHUNK_META)
            if meta is None:
                raise ValueError("a column chunk without its metadata")
            found += [int(f.value) for f in meta.value.fields if f.id in _META_OFFSETS]  # type: ignore[union-attr, call-overload]
    return found


def _shifted(group: _Struct, by: int, ordinal: int) -> _Struct:
    """A row group's footer entry with its offsets moved ``by`` bytes."""
    for field in group.fields:
        if field.id == _GROUP_FILE_OFFSET:
            field.value = int(field.value) + by  # type: ignore[call-overload]
        elif field.id == _GROUP_ORDINAL:
            field.value = ordinal
        elif field.id == _GROUP_COLUMNS:
            for chunk in field.value[1]:  # type: ignore[index]
                _shift_chunk(chunk, by)
    return group


def _shift_chunk(chunk: _Struct, by: int) -> None:
    for field in chunk.fields:
        if field.id in _CHUNK_INDEXES:
            raise ValueError("page indexes are not joined")
        if field.id == _CHUNK_FILE_OFFSET and field.value:  # 0: not given
            field.value = int(field.value) + by  # type: ignore[call-overload]
        elif field.id == _CHUNK_META:
            for meta in field.value.fields:  # type: ignore[union-attr]
                if meta.id in _META_OFFSETS:
                    meta.value = int(meta.value) + by  # type: ignore[call-overload]


def join_parquet(parts: list[Path], out: Path) -> int:
    """Write ``out`` as the row groups of ``parts`` in order; returns its rows.
    ``out`` is written in place: the caller writes to a temporary name and renames."""
    read = [_read_part(part) for part in parts]
    if not read:
        raise ValueError("no parts to join")
    first = read[0].footer
    shared = {
        fid: _encode_struct(_Struct([f])) if (f := first.get(fid)) else b""
        for fid in (_FILE_SCHEMA, _FILE_COLUMN_ORDERS)
    }
    groups: list[_Struct] = []
    rows = 0
    with out.open("wb") as joined:
        joined.write(_MAGIC)
        for part in read:
            for fid, encoded in shared.items():
                field = part.footer.get(fid)
                if (_encode_struct(_Struct([field])) if field else b"") != encoded:
                    raise ValueError(f"{part.path} has another schema")
            by = joined.tell() - 4
            with part.path.open("rb") as piece:
                piece.seek(4)
                _copy(piece, joined, part.data_end - 4)
            found = part.footer.get(_FILE_ROW_GROUPS)
            for group in found.value[1] if found else []:  # type: ignore[index]
                groups.append(_shifted(group, by, len(groups)))
            counted = part.footer.get(_FILE_NUM_ROWS)
            rows += int(counted.value) if counted else 0  # type: ignore[call-overload]
        fields = []
        for field in first.fields:
            if field.id == _FILE_NUM_ROWS:
                field = _Field(field.id, field.type, rows)
            elif field.id == _FILE_ROW_GROUPS:
                field = _Field(field.id, field.type, (_STRUCT, groups))
            fields.append(field)
        footer = _encode_struct(_Struct(fields))
        joined.write(footer)
        joined.write(struct.pack("<I", len(footer)) + _MAGIC)
    return rows


def _copy(source, target, size: int) -> None:  # type: ignore[no-untyped-def]
    """Copy ``size`` bytes from ``source``'s position to ``target``."""
    left = size
    while left > 0:
        chunk = source.read(min(left, 1 << 22))
        if not chunk:
            raise ValueError("a part ends early")
        target.write(chunk)
        left -= len(chunk)


__all__ = ["join_parquet"]

