"""A release's dependencies, read from its files' own metadata with as few bytes as possible.

In order: the core metadata file the index advertises (PEP 658/714); the `<file>.metadata`
URL even when it is not advertised (some mirrors serve it but leave it out of their pages);
an HTTP range read of the wheel's `*.dist-info/METADATA` (the zip's central directory first,
then that one member); for a release with no wheel, the sdist's PKG-INFO when its metadata
is static (Metadata-Version 2.2 or later, Requires-Dist not declared dynamic).
"""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Self

from reqhash_check.index.answers import (
    MAX_METADATA_BYTES,
    BadAnswer,
    metadata_headers,
    requires_dist_from_metadata,
)
from reqhash_check.index.base import DistFile, IndexUnavailable
from reqhash_check.index.http import AnswerTooLarge, HttpClient
from reqhash_check.index.wheelzip import (
    NeedBytes,
    SparseFile,
    member_content,
    metadata_member,
    zip_members,
)

TAIL_BYTES = 64 * 1024
"""The first range read of a wheel: its end, where the central directory usually fits."""
MAX_RANGE_READS = 4
MAX_SDIST_BYTES = 16 * 1024 * 1024
MAX_SDIST_UNPACKED = 128 * 1024 * 1024


@dataclass(frozen=True)
class Dependencies:
    requires_dist: tuple[str, ...] | None
    """None when no file's metadata could be read."""
    source: str
    """"metadata" (a metadata file), "wheel" (read from the wheel), "sdist" (static PKG-INFO),
    or, when unknown, why."""


@dataclass(frozen=True)
class MetadataOffer:
    """A file of the release and what the index says about its metadata file."""

    file: DistFile
    advertised: bool
    sha256: str | None = None


async def read_dependencies(
    http: HttpClient, offers: Sequence[MetadataOffer], project: str, version: str
) -> Dependencies:
    wheels = [o for o in offers if o.file.is_wheel]
    # A Python 3 wheel's metadata is what pip reads on any target checked (a release's py2
    # wheel may declare other dependencies: beautifulsoup4 4.9.1's asks soupsieve<2.0); a
    # pure wheel is as good as any other for them and is usually the smallest.
    wheels.sort(
        key=lambda o: (
            not o.advertised,
            not _for_python_3(o.file.filename),
            "-none-any" not in o.file.filename,
        )
    )
    for offer in wheels[:1] + [o for o in offers if o.advertised and not o.file.is_wheel][:1]:
        found = await _metadata_file(http, offer, project, version)
        if found is not None:
            return Dependencies(found, "metadata")
    if wheels:
        found = await _from_wheel(http, wheels[0].file, project, version)
        if found is not None:
            return Dependencies(found, "wheel")
        return Dependencies(None, "the wheel's metadata could not be read")
    sdists = [o.file for o in offers if not o.file.is_wheel]
    if not sdists:
        return Dependencies(None, "the release has no files")
    return await _from_sdist(http, sdists[0], project, version)


def _for_python_3(filename: str) -> bool:
    """The wheel's Python tag names Python 3 (`py3`, `py2.py3`, `cp312`, `py310`…)."""
    parts = filename[: -len(".whl")].split("-")
    return len(parts) >= 5 and any(t[2:3] == "3" for t in parts[-3].split("."))


async def _metadata_file(
    http: HttpClient, offer: MetadataOffer, project: str, version: str
) -> tuple[str, ...] | None:
    url = offer.file.url.split("#", 1)[0] + ".metadata"
    try:
        answer = await http.get(url, max_bytes=MAX_METADATA_BYTES)
    except IndexUnavailable:
        return None
    if answer.status != 200:
        return None
    if offer.sha256 and hashlib.sha256(answer.content).hexdigest() != offer.sha256.lower():
        return None
    try:
        return requires_dist_from_metadata(answer.content, project, version)
    except BadAnswer:
        return None


_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


async def _range(http: HttpClient, url: str, spec: str) -> tuple[int, bytes, int] | None:
    """(start, bytes, total size) of a range read, or None when the server will not say."""
    try:
        answer = await http.get(url, byte_range=f"bytes={spec}", max_bytes=TAIL_BYTES * 64)
    except IndexUnavailable:
        return None
    if answer.status == 200:
        return 0, answer.content, len(answer.content)
    if answer.status != 206:
        return None
    match = _CONTENT_RANGE.fullmatch(answer.headers.get("content-range", "").strip())
    if match is None:
        return None
    start, end, total = (int(part) for part in match.groups())
    if end - start + 1 != len(answer.content):
        return None
    return start, answer.content, total


async def _from_wheel(
    http: HttpClient, wheel: DistFile, project: str, version: str
) -> tuple[str, ...] | None:
    url = wheel.url.split("#", 1)[0]
    first = await _range(http, url, f"-{TAIL_BYTES}")
    if first is None:
        return None
    start, data, total = first
    sparse = SparseFile(total)
    sparse.add(start, data)
    for reads in range(MAX_RANGE_READS + 1):
        outcome = _read_metadata_member(sparse, project, version)
        if not isinstance(outcome, NeedBytes):
            return outcome
        if reads == MAX_RANGE_READS:
            return None
        # The member's local header and data: ask for a little more than needed at once.
        need = outcome
        extra = await _range(http, url, f"{need.start}-{max(need.end, need.start + 8192) - 1}")
        if extra is None:
            return None
        sparse.add(extra[0], extra[1])
    return None


def _read_metadata_member(
    sparse: SparseFile, project: str, version: str
) -> tuple[str, ...] | None | NeedBytes:
    """The wheel's dependencies, None when it has no readable METADATA, or the bytes needed."""
    try:
        content = metadata_member(sparse, MAX_METADATA_BYTES)
        return None if content is None else requires_dist_from_metadata(content, project, version)
    except NeedBytes as need:
        return need
    except (
        zipfile.BadZipFile,
        zlib.error,
        BadAnswer,
        EOFError,
        ValueError,
        NotImplementedError,
        RuntimeError,  # zipfile: an encrypted member
        OSError,
    ):
        return None


async def _from_sdist(
    http: HttpClient, sdist: DistFile, project: str, version: str
) -> Dependencies:
    url = sdist.url.split("#", 1)[0]
    try:
        answer = await http.get(url, max_bytes=MAX_SDIST_BYTES)
    except IndexUnavailable:
        return Dependencies(None, "the sdist could not be read")
    if answer.status != 200:
        return Dependencies(None, "the sdist could not be read")
    content = _pkg_info(sdist.filename, answer.content)
    if content is None:
        return Dependencies(None, "the sdist has no readable PKG-INFO")
    headers = metadata_headers(content)
    declared = str(headers.get("Metadata-Version") or "0")
    dynamic = {str(v).strip().lower() for v in headers.get_all("Dynamic") or ()}
    try:
        modern = tuple(int(p) for p in declared.split(".")[:2]) >= (2, 2)
    except ValueError:
        modern = False
    if not modern or "requires-dist" in dynamic:
        return Dependencies(None, "the sdist's dependencies are computed when it is built")
    try:
        return Dependencies(requires_dist_from_metadata(content, project, version), "sdist")
    except BadAnswer:
        return Dependencies(None, "the sdist's PKG-INFO is for another project or version")


def _pkg_info(filename: str, data: bytes) -> bytes | None:
    """The top-level PKG-INFO of an sdist (.tar.gz, .tar or .zip), or None. Nothing is
    decompressed whole: a zip member is decompressed up to the size it states (at most
    the core metadata cap), a tar.gz streams through a capped decompressor."""
    lower = filename.lower()
    try:
        if lower.endswith(".zip"):
            archive = SparseFile(len(data))
            archive.add(0, data)
            found = zip_members(archive, _top_level_pkg_info)
            return member_content(archive, found[0], MAX_METADATA_BYTES) if found else None
        if lower.endswith((".tar.gz", ".tgz")):
            return _tar_pkg_info(io.BufferedReader(_GzipReader(data, MAX_SDIST_UNPACKED)))
        if lower.endswith(".tar"):
            return _tar_pkg_info(io.BytesIO(data))
    except (
        AnswerTooLarge,
        ValueError,
        OSError,
        tarfile.TarError,
        zipfile.BadZipFile,
        EOFError,
        NotImplementedError,
        NeedBytes,
    ):
        return None
    return None


def _top_level_pkg_info(name: str) -> bool:
    return name.count("/") == 1 and name.endswith("/PKG-INFO")


MAX_SDIST_MEMBERS = 50_000
"""Members of a tar sdist looked through for PKG-INFO (tarfile keeps a record of each)."""
MAX_TAR_HEADER_EXTENSION = 1024 * 1024
"""The largest long name or pax header read; real ones are a few hundred bytes."""
MAX_TAR_EXTENSIONS_TOTAL = 16 * 1024 * 1024
"""All the long names and pax headers of one archive: parsing them costs time."""
MAX_TAR_GLOBAL_HEADERS = 64 * 1024
"""All the global pax headers of one archive: tarfile keeps every key they set until the
archive ends (`git archive` writes one, of a few dozen bytes)."""
MAX_TAR_EXTENSIONS_IN_A_ROW = 8
"""Header extensions before one member: tarfile reads each by calling itself again, so a
long run of them ends in a RecursionError (a member has a pax header and two long names)."""
_HEADER_EXTENSIONS = {
    tarfile.GNUTYPE_LONGNAME,
    tarfile.GNUTYPE_LONGLINK,
    tarfile.XHDTYPE,
    tarfile.XGLTYPE,
    tarfile.SOLARIS_XHDTYPE,
}


class _BoundedTarInfo(tarfile.TarInfo):
    """A header whose extension (read into memory whole by tarfile) is small, and that is
    not a GNU sparse file (whose map tarfile reads block after block); an sdist has
    neither. The extensions of the whole archive are counted on a subclass made for it
    (`_tar_pkg_info`): their total size, that of the global pax headers, and how many come
    in a row."""

    extension_bytes = 0
    global_bytes = 0
    in_a_row = 0

    @classmethod
    def frombuf(cls, buf: bytes | bytearray, encoding: str, errors: str) -> Self:
        info = super().frombuf(buf, encoding, errors)
        if info.type == tarfile.GNUTYPE_SPARSE or (
            info.type in _HEADER_EXTENSIONS and info.size > MAX_TAR_HEADER_EXTENSION
        ):
            raise tarfile.HeaderError("a header this reader does not follow")
        if info.type not in _HEADER_EXTENSIONS:
            cls.in_a_row = 0
            return info
        cls.in_a_row += 1
        cls.extension_bytes += info.size
        if info.type == tarfile.XGLTYPE:
            cls.global_bytes += info.size
        if (
            cls.in_a_row > MAX_TAR_EXTENSIONS_IN_A_ROW
            or cls.extension_bytes > MAX_TAR_EXTENSIONS_TOTAL
            or cls.global_bytes > MAX_TAR_GLOBAL_HEADERS
        ):
            raise tarfile.HeaderError("more header extensions than an sdist holds")
        return info


def _tar_pkg_info(stream: IO[bytes]) -> bytes | None:
    class _ThisArchive(_BoundedTarInfo):
        """Counts this archive's header extensions, apart from any other's."""

    with tarfile.open(fileobj=stream, mode="r|", tarinfo=_ThisArchive) as archive:
        for count, member in enumerate(archive):
            if count >= MAX_SDIST_MEMBERS:
                return None
            member.pax_headers = {}  # kept with the member by tarfile, and never read here
            if _top_level_pkg_info(member.name):
                if not member.isfile() or member.size > MAX_METADATA_BYTES:
                    return None
                handle = archive.extractfile(member)
                return handle.read(MAX_METADATA_BYTES + 1) if handle is not None else None
    return None


class _GzipReader(io.RawIOBase):
    """A gzip stream read as a file, decompressed a buffer at a time; more than `limit`
    bytes out raises AnswerTooLarge."""

    def __init__(self, data: bytes, limit: int) -> None:
        self._pending = data
        self._decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._limit = limit
        self._size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while self._pending and not self._decompressor.eof:
            try:
                out = self._decompressor.decompress(self._pending, len(buffer))
            except zlib.error as exc:
                raise ValueError("the sdist's gzip stream is damaged") from exc
            self._pending = self._decompressor.unconsumed_tail
            if out:
                self._size += len(out)
                if self._size > self._limit:
                    raise AnswerTooLarge
                buffer[: len(out)] = out
                return len(out)
        return 0
