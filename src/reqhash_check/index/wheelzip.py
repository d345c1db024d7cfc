"""A wheel's `*.dist-info/METADATA`, read from the parts of the wheel fetched so far.

A range read fetches the wheel's end (its central directory) and then the one member; the
zip is never downloaded whole. `zipfile` reads such a file correctly but builds a record
for every member (thousands in a large wheel) each time it is opened, which was a quarter
of a cold check's CPU. `metadata_member` walks the central directory's records with
`struct` instead, looking only at names, and reads the one member it needs. A directory it
does not read as plainly as that (ZIP64, data before the archive) is read by `zipfile`.

The member itself is always decompressed here, never by `zipfile`: a member is untrusted
and may say it holds 100 bytes while its few KB of bzip2 or deflate expand to gigabytes,
which `zipfile` would decompress whole before finding out. Here the output is capped at the
size the directory states (at most the caller's limit), whatever the compression.
"""

from __future__ import annotations

import bz2
import io
import lzma
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
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
_LZMA_HEADER = struct.Struct("<BBH")  # version (2 bytes), then the properties' length


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
    """The archive's directory is not walked here; zipfile walks it."""


def metadata_member(wheel: SparseFile, limit: int) -> bytes | None:
    """The METADATA member's bytes; None when the wheel has no single readable METADATA of at
    most `limit` bytes. Raises NeedBytes for bytes not fetched yet, and zipfile's errors (or
    NotImplementedError) for a damaged, encrypted or oddly compressed member."""
    members = zip_members(wheel, METADATA_MEMBER.fullmatch)
    if len(members) != 1:
        return None
    return member_content(wheel, members[0], limit)


def zip_members(archive: SparseFile, wanted: Callable[[str], object]) -> list[_Member]:
    """The central directory's records whose names `wanted` accepts, in directory order."""
    try:
        return _entries(archive, wanted)
    except _Unusual:
        return _zipfile_entries(archive, wanted)
    except struct.error:  # a record that runs past the directory's end
        raise zipfile.BadZipFile("a damaged central directory") from None


def member_content(archive: SparseFile, member: _Member, limit: int) -> bytes | None:
    """The member's bytes, checked by length and CRC; None when it says it holds more than
    `limit`. Decompression never yields more than the member says it holds (plus a byte,
    to see that it lied)."""
    if member.size > limit:
        return None
    if member.flags & _UNREADABLE:
        raise NotImplementedError("an encrypted member")
    header = _LOCAL.unpack(archive.at(member.offset, _LOCAL.size))
    if header[0] != _LOCAL_SIGNATURE:
        raise zipfile.BadZipFile("bad magic number for file header")
    flags, name_length, extra_length = header[3], header[10], header[11]
    local_name = archive.at(member.offset + _LOCAL.size, name_length)
    if _decoded(local_name, flags) != member.name:
        raise zipfile.BadZipFile("the local header names another member")
    start = member.offset + _LOCAL.size + name_length + extra_length
    data = archive.at(start, member.compressed)
    content = unpack(member.method, data, member.size + 1)
    if len(content) != member.size or zlib.crc32(content) != member.crc:
        raise zipfile.BadZipFile("bad CRC-32 for the member")
    return content


def unpack(method: int, data: bytes, limit: int) -> bytes:
    """At most `limit` bytes of a zip member's data, decompressed by `method` in one capped
    step (the decompressor stops at `limit` however much the data would expand to)."""
    try:
        if method == zipfile.ZIP_STORED:
            return data[:limit]
        if method == zipfile.ZIP_DEFLATED:
            return zlib.decompressobj(-zlib.MAX_WBITS).decompress(data, limit)
        if method == zipfile.ZIP_BZIP2:
            return bz2.BZ2Decompressor().decompress(data, limit)
        if method == zipfile.ZIP_LZMA:
            return _lzma(data, limit)
    except (zlib.error, OSError, EOFError, lzma.LZMAError) as exc:
        raise zipfile.BadZipFile(f"the member does not decompress ({exc})") from None
    raise NotImplementedError(f"compression method {method}")


def _lzma(data: bytes, limit: int) -> bytes:
    """A zip LZMA member: a 4-byte header, the LZMA1 properties, then the raw stream."""
    _, _, length = _LZMA_HEADER.unpack_from(data)
    properties = data[_LZMA_HEADER.size : _LZMA_HEADER.size + length]
    if length != 5 or len(properties) != 5 or properties[0] >= 9 * 5 * 5:
        raise zipfile.BadZipFile("damaged LZMA properties")
    literal_context, rest = properties[0] % 9, properties[0] // 9
    # No match reaches further back than what is decoded, so a dictionary larger than the
    # output allowed is never used: capped, a member cannot make the decoder reserve 4 GiB.
    dictionary = min(int.from_bytes(properties[1:], "little"), max(limit, 4096))
    lzma1 = {
        "id": lzma.FILTER_LZMA1,
        "dict_size": dictionary,
        "lc": literal_context,
        "lp": rest % 5,
        "pb": rest // 5,
    }
    decompressor = lzma.LZMADecompressor(lzma.FORMAT_RAW, filters=[lzma1])
    return decompressor.decompress(data[_LZMA_HEADER.size + length :], limit)


def _decoded(raw: bytes, flags: int) -> str:
    return raw.decode("utf-8" if flags & _UTF8_NAMES else "cp437")


def _entries(wheel: SparseFile, wanted: Callable[[str], object]) -> list[_Member]:
    """The central directory's records of members whose names `wanted` accepts, walked as
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
        if wanted(name.partition("\0")[0]):
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


def _zipfile_entries(archive: SparseFile, wanted: Callable[[str], object]) -> list[_Member]:
    """The records zipfile reads from a directory not walked here (its offsets already
    account for any data before the archive)."""
    with zipfile.ZipFile(archive) as opened:
        return [
            _Member(
                info.orig_filename,
                info.flag_bits,
                info.compress_type,
                info.CRC,
                info.compress_size,
                info.file_size,
                info.header_offset,
            )
            for info in opened.infolist()
            if wanted(info.filename)
        ]
