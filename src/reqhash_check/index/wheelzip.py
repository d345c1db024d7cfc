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
_ENCRYPTED = 0x1


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
    raw_name: bytes
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
    if member.flags & _ENCRYPTED or member.method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _Unusual
    header = _LOCAL.unpack(wheel.at(member.offset, _LOCAL.size))
    if header[0] != _LOCAL_SIGNATURE:
        raise zipfile.BadZipFile("bad magic number for file header")
    name_length, extra_length = header[10], header[11]
    if wheel.at(member.offset + _LOCAL.size, name_length) != member.raw_name:
        raise zipfile.BadZipFile("the local header names another member")
    data = wheel.at(member.offset + _LOCAL.size + name_length + extra_length, member.compressed)
    content = _inflate(data, limit) if member.method == zipfile.ZIP_DEFLATED else data
    if len(content) != member.size or zlib.crc32(content) != member.crc:
        raise zipfile.BadZipFile("bad CRC-32 or size for METADATA")
    return content


def _inflate(data: bytes, limit: int) -> bytes:
    decompressor = zlib.decompressobj(-zlib.MAX_WBITS)
    content = decompressor.decompress(data, limit + 1)
    if len(content) > limit or not decompressor.eof:
        raise zipfile.BadZipFile("METADATA does not inflate to its stated size")
    return content


def _metadata_entries(wheel: SparseFile) -> list[_Member]:
    """The central directory's records of members named like a wheel's METADATA. Every
    name is decoded, as zipfile decodes it (a name that does not decode is an error)."""
    end_offset, (_, disk, cd_disk, on_disk, total, cd_size, cd_offset, _) = _end_record(wheel)
    if (
        disk or cd_disk or on_disk != total
        or 0xFFFF in (on_disk, total) or 0xFFFFFFFF in (cd_size, cd_offset)
        or cd_offset + cd_size != end_offset  # data before the archive, or ZIP64 records
    ):  # fmt: skip
        raise _Unusual
    directory = wheel.at(cd_offset, cd_size)
    found = []
    position = 0
    for _ in range(total):
        (signature, _, _, _, _, flags, method, _, _, crc, compressed, size,
         name_length, extra_length, comment_length, _, _, _, offset) = _ENTRY.unpack_from(
            directory, position
        )  # fmt: skip
        if signature != _ENTRY_SIGNATURE:
            raise zipfile.BadZipFile("bad magic number for central directory")
        start = position + _ENTRY.size
        raw_name = directory[start : start + name_length]
        name = raw_name.decode("utf-8" if flags & _UTF8_NAMES else "cp437")
        if METADATA_MEMBER.fullmatch(name):
            if 0xFFFFFFFF in (compressed, size, offset):
                raise _Unusual
            found.append(_Member(raw_name, flags, method, crc, compressed, size, offset))
        position = start + name_length + extra_length + comment_length
    return found


def _end_record(wheel: SparseFile) -> tuple[int, tuple[int, ...]]:
    """(where it starts, its fields) of the end of central directory record: the last
    bytes, or, when the archive has a comment, found searching back as zipfile does."""
    if wheel.size < _END.size:
        raise zipfile.BadZipFile("File is not a zip file")
    last = wheel.at(wheel.size - _END.size, _END.size)
    fields = _END.unpack(last)
    if fields[0] == _END_SIGNATURE and fields[7] == 0:  # no comment: the usual case
        return wheel.size - _END.size, fields
    searched = min(wheel.size, _END.size + _MAX_COMMENT)
    tail = wheel.at(wheel.size - searched, searched)
    found = tail.rfind(_END_SIGNATURE, 0, len(tail) - _END.size + 1)
    while found >= 0:
        fields = _END.unpack_from(tail, found)
        if found + _END.size + fields[7] == len(tail):
            return wheel.size - searched + found, fields
        found = tail.rfind(_END_SIGNATURE, 0, found)
    raise zipfile.BadZipFile("File is not a zip file")


def _with_zipfile(wheel: SparseFile, limit: int) -> bytes | None:
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if METADATA_MEMBER.fullmatch(n)]
        if len(names) != 1:
            return None
        info = archive.getinfo(names[0])
        if info.file_size > limit:
            return None
        return archive.read(info)
