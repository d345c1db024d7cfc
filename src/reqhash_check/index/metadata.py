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

from reqhash_check.index.answers import (
    MAX_METADATA_BYTES,
    BadAnswer,
    metadata_headers,
    requires_dist_from_metadata,
)
from reqhash_check.index.base import DistFile, IndexUnavailable
from reqhash_check.index.http import AnswerTooLarge, BoundedDecoder, HttpClient
from reqhash_check.index.wheelzip import NeedBytes, SparseFile, metadata_member

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
    # A pure wheel is as good as any for dependencies and is usually the smallest.
    wheels.sort(key=lambda o: (not o.advertised, "-none-any" not in o.file.filename))
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
        return Dependencies(None, "the sdist has no PKG-INFO")
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
    """The top-level PKG-INFO of an sdist (.tar.gz or .zip), or None."""
    lower = filename.lower()
    try:
        if lower.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = [n for n in archive.namelist() if n.count("/") == 1]
                found = [n for n in names if n.endswith("/PKG-INFO")]
                if not found or archive.getinfo(found[0]).file_size > MAX_METADATA_BYTES:
                    return None
                return archive.read(found[0])
        if lower.endswith((".tar.gz", ".tgz")):
            decoder = BoundedDecoder("gzip", MAX_SDIST_UNPACKED)
            decoder.feed(data)
            data = decoder.finish()
        elif not lower.endswith(".tar"):
            return None
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            for member in archive:
                if member.name.count("/") == 1 and member.name.endswith("/PKG-INFO"):
                    if not member.isfile() or member.size > MAX_METADATA_BYTES:
                        return None
                    handle = archive.extractfile(member)
                    return handle.read() if handle is not None else None
    except (AnswerTooLarge, ValueError, OSError, tarfile.TarError, zipfile.BadZipFile, EOFError):
        return None
    return None
