"""A wheel's `*.dist-info/METADATA`, read from the parts of the wheel fetched so far.

A range read fetches the wheel's end (its central directory) and then the one member; the
zip is never downloaded whole. `zipfile` reads such a file correctly but builds a record
for every member (thousands in a large wheel) each time it is opened, which was a quarter
of a cold check's CPU. `metadata_member` walks the central directory's records with
`struct` instead, looking only at names, and reads the one member it needs. Anything it
does not read as plainly as that (ZIP64, data before the archive, compression other than
stored or deflate, encryption) goes to `zipfile`, as before.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from typing import NamedTuple

METADATA_MEMBER = re.compile(r"[^/]+\.dist-info/METADATA")

_END = struct.Struct("<4s4H2LH")  # end of central directory record
_END_SIGNATURE = b"PK\x05\x06"
_ENTRY = struct.Struct("<4s4B4HL2L5H2L")  # central directory file header
_ENTRY_SIGNATURE = b"PK\x01\x02"
_LOCAL = struct.Struct("<4s2B4HL2L2H")  # local file header
_LOCAL_SIGNATURE = b"PK\x03\x04"
_MAX_COMMENT = 0xFFFF
_UTF8_NAMES = 0x800
_UNREADABLE = 0x1 | 0x20 | 0x40  # encrypted, compressed patched data, strong encryption
_PLAIN = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


class NeedBytes(Exception):
    """The bytes [start, end) of the wheel are needed and have not been fetched."""

    def __init__(self, start: int, end: int) -> None:
        self.start, self.end = start, end


class SparseFile(io.RawIOBase):
    """A file of known size of which only some byte ranges have been fetched."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.position = 0
        self.chunks: list[tuple[int, bytes]] = []

    def add(self, start: int, data: bytes) -> None:
        self.chunks.append((start, data))

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.position, 2: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def tell(self) -> int:
        return self.position

    def read(self, size: int = -1) -> bytes:
        end = self.size if size is None or size < 0 else min(self.size, self.position + size)
        if end <= self.position:
            return b""
        for start, data in self.chunks:
            if start <= self.position and end <= start + len(data):
                out = data[self.position - start : end - start]
                self.position = end
                return out
        raise NeedBytes(self.position, end)

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def at(self, offset: int, length: int) -> bytes:
        self.seek(offset)
        data = self.read(length)
        if len(data) != length:
            raise ValueError("the archive ends early")
        return data


class _Member(NamedTuple):
    name: str
    """As written (zipfile's `orig_filename`): the local header must say the same."""
    flags: int
    method: int
    crc: int
    compressed: int
    size: int
    offset: int


class _Unusual(Exception):
    """The archive is not read here; zipfile reads it."""


def metadata_member(wheel: SparseFile, limit: int) -> bytes | None:
    """The METADATA member's bytes; None when the wheel has no single readable METADATA of at
    most `limit` bytes. Raises NeedBytes for bytes not fetched yet, and what zipfile raises
    for a damaged archive."""
    try:
        return _read(wheel, limit)
    except _Unusual:
        return _with_zipfile(wheel, limit)
    except struct.error:  # a record that runs past the directory's end
        raise zipfile.BadZipFile("a damaged central directory") from None


def _read(wheel: SparseFile, limit: int) -> bytes | None:
    members = _metadata_entries(wheel)
    if len(members) != 1:
        return None
    member = members[0]
    if member.size > limit:
        return None
    if member.flags & _UNREADABLE or member.method not in _PLAIN:
        raise _Unusual  # zipfile says why it cannot read it
    header = _LOCAL.unpack(wheel.at(member.offset, _LOCAL.size))
    if header[0] != _LOCAL_SIGNATURE:
        raise zipfile.BadZipFile("bad magic number for file header")
    flags, name_length, extra_length = header[3], header[10], header[11]
    local_name = wheel.at(member.offset + _LOCAL.size, name_length)
    if _decoded(local_name, flags) != member.name:
        raise zipfile.BadZipFile("the local header names another member")
    data = wheel.at(member.offset + _LOCAL.size + name_length + extra_length, member.compressed)
    if member.method == zipfile.ZIP_DEFLATED:
        try:
            content = zlib.decompressobj(-zlib.MAX_WBITS).decompress(data, member.size)
        except zlib.error as exc:
            raise zipfile.BadZipFile(f"METADATA does not inflate ({exc})") from None
    else:
        content = data[: member.size]
    if len(content) != member.size or zlib.crc32(content) != member.crc:
        raise zipfile.BadZipFile("bad CRC-32 for METADATA")
    return content


def _decoded(raw: bytes, flags: int) -> str:
    return raw.decode("utf-8" if flags & _UTF8_NAMES else "cp437")


def _metadata_entries(wheel: SparseFile) -> list[_Member]:
    """The central directory's records of members named like a wheel's METADATA, walked as
    zipfile walks them (by the directory's size; every name decoded, a name cut at a NUL)."""
    end_offset, (_, _, _, _, total, cd_size, cd_offset, _) = _end_record(wheel)
    if (
        0xFFFF == total or 0xFFFFFFFF in (cd_size, cd_offset)
        or cd_offset + cd_size != end_offset  # data before the archive, or ZIP64 records
    ):  # fmt: skip
        raise _Unusual
    directory = wheel.at(cd_offset, cd_size)
    found = []
    position = 0
    while position < cd_size:
        if position + _ENTRY.size > cd_size:
            raise zipfile.BadZipFile("Truncated central directory")
        (signature, _, _, _, _, flags, method, _, _, crc, compressed, size,
         name_length, extra_length, comment_length, _, _, _, offset) = _ENTRY.unpack_from(
            directory, position
        )  # fmt: skip
        if signature != _ENTRY_SIGNATURE:
            raise zipfile.BadZipFile("Bad magic number for central directory")
        start = position + _ENTRY.size
        name = _decoded(directory[start : start + name_length], flags)
        if METADATA_MEMBER.fullmatch(name.partition("\0")[0]):
            if 0xFFFFFFFF in (compressed, size, offset):
                raise _Unusual
            found.append(_Member(name, flags, method, crc, compressed, size, offset))
        position = start + name_length + extra_length + comment_length
    return found


def _end_record(wheel: SparseFile) -> tuple[int, tuple[int, ...]]:
    """(where it starts, its fields) of the end of central directory record, found as
    zipfile finds it: the last 22 bytes when the archive has no comment, else the last
    signature in the last 64 KiB and 22 bytes."""
    if wheel.size < _END.size:
        raise zipfile.BadZipFile("File is not a zip file")
    fields = _END.unpack(wheel.at(wheel.size - _END.size, _END.size))
    if fields[0] == _END_SIGNATURE and fields[7] == 0:  # no comment: the usual case
        return wheel.size - _END.size, fields
    tail_start = max(wheel.size - _MAX_COMMENT - 1 - _END.size, 0)
    tail = wheel.at(tail_start, wheel.size - tail_start)
    found = tail.rfind(_END_SIGNATURE)
    if found < 0 or len(tail) - found < _END.size:
        raise zipfile.BadZipFile("File is not a zip file")
    return tail_start + found, _END.unpack_from(tail, found)


def _with_zipfile(wheel: SparseFile, limit: int) -> bytes | None:
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if METADATA_MEMBER.fullmatch(n)]
        if len(names) != 1:
            return None
        info = archive.getinfo(names[0])
        if info.file_size > limit:
            return None
        return archive.read(info)
