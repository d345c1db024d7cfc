"""The Index protocol and the data it answers with."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

DEFAULT_TIMEOUT = 30.0
"""The longest one request may take in all (connect, send, the whole body), in seconds."""

DEFAULT_CONCURRENCY = 24
"""Requests in flight at once. A cold check asks two or three small documents per pin
(the project page, its metadata file, sometimes a range of a wheel) from a CDN, a few
seconds in all: modest next to a resolver's 50, and pip's own downloads. Measured on the
replayed index (50 ms a request, 309 pins): 16 → 5.5 s, 24 → 4.3 s, 32 → 4.3 s with more
CPU, 48 → 7.9 s, where the HTTP library's connection pool (quadratic in its connections
each time a request starts or ends) costs more than the round trips it saves. Since
plain-http requests are spread over pools of 4 connections, 32 and 48 cost little more
CPU than 24, and save no time on this machine (2 cores: the run is bound by its CPU)."""


@dataclass(frozen=True)
class DistFile:
    """One file an index publishes for a release."""

    filename: str
    version: str
    url: str
    hashes: Mapping[str, str] = field(default_factory=dict, hash=False)
    """algorithm → lowercase hex digest, as the index states them (usually only sha256)."""
    requires_python: str | None = None
    yanked: bool = False
    yanked_reason: str | None = None
    size: int | None = None
    """Bytes, when the index states it (JSON API, PEP 700)."""
    upload_time: str | None = None
    """ISO 8601 upload time, when the index states it (JSON API, PEP 700)."""

    @property
    def is_wheel(self) -> bool:
        return self.filename.endswith(".whl")

    @property
    def sha256(self) -> str | None:
        return self.hashes.get("sha256")


@dataclass(frozen=True)
class ReleaseFiles:
    """The files of one (project, version), from one or several indexes."""

    project: str
    version: str
    files: tuple[DistFile, ...]
    requires_dist: tuple[str, ...] | None = None
    """Dependencies from the release's metadata; None when the index could not say."""
    requires_dist_exact: bool = True
    """False when they come from the JSON API's summary (info.requires_dist) rather than a
    file's own metadata: the wheel pip installs may declare something else."""
    dependencies_note: str | None = None
    """Why the dependencies are unknown, when requires_dist is None."""
    index_url: str = ""
    unreachable: tuple[str, ...] = ()
    """Why each index consulted for this release that could not be asked failed (one line
    each, naming it). The files are then only what the other indexes publish."""

    @property
    def yanked(self) -> bool:
        return bool(self.files) and all(f.yanked for f in self.files)


def merge_releases(found: Sequence[ReleaseFiles], unreachable: tuple[str, ...]) -> ReleaseFiles:
    """The union of several indexes' answers for one release, the way pip merges candidates:
    each file once, and dependencies from the first index that states them exactly."""
    files: list[DistFile] = []
    seen: set[tuple[str, str | None]] = set()
    for release in found:
        for dist in release.files:
            key = (dist.filename, dist.sha256)
            if key not in seen:
                seen.add(key)
                files.append(dist)
    exact = [r for r in found if r.requires_dist is not None and r.requires_dist_exact]
    stated = exact or [r for r in found if r.requires_dist is not None]
    first = stated[0] if stated else found[0]
    return ReleaseFiles(
        project=found[0].project,
        version=found[0].version,
        files=tuple(files),
        requires_dist=first.requires_dist,
        requires_dist_exact=first.requires_dist_exact,
        dependencies_note=first.dependencies_note,
        index_url=", ".join(r.index_url for r in found),
        unreachable=unreachable,
    )


def merge_files(found: Sequence[Sequence[DistFile]]) -> tuple[DistFile, ...]:
    """The union of several indexes' files of a project, each file once."""
    merged: dict[tuple[str, str | None], DistFile] = {}
    for files in found:
        for dist in files:
            merged.setdefault((dist.filename, dist.sha256), dist)
    return tuple(merged.values())


class IndexQueryError(Exception):
    """The index could not be asked, or answered badly. The message is safe to print."""

    def __init__(self, message: str, *, index: str | None = None) -> None:
        super().__init__(message)
        self.index = index
        """The index (as shown) that failed, when known."""


class IndexUnavailable(IndexQueryError):
    """Timeout, refused connection, 5xx or 429 after retries, or an answer we cannot read."""


class OfflineMiss(IndexUnavailable):
    """Offline mode and the cache holds no answer: the requirement cannot be verified."""


class ProjectNotFound(IndexQueryError):
    pass


class VersionNotFound(IndexQueryError):
    pass


def first_problem(errors: Sequence[IndexQueryError]) -> IndexQueryError:
    """Which error the merged answer raises when no index had the release.

    An index that could not be asked (or, offline, had nothing cached) may hold
    the release, so "not found" is only said when every index said it.
    """
    for kind in (IndexUnavailable, VersionNotFound, ProjectNotFound):
        for error in errors:
            if isinstance(error, kind):
                return error
    return errors[0]


class Index(Protocol):
    """What the checker needs from a package index."""

    @property
    def display_url(self) -> str:
        """The index URL with any credentials redacted."""
        ...

    async def release(self, project: str, version: str) -> ReleaseFiles:
        """Files (and dependencies) of one pinned version.

        Raises ProjectNotFound, VersionNotFound or IndexUnavailable.
        """
        ...

    async def project_files(self, project: str) -> tuple[DistFile, ...]:
        """Every file of every release: used to say which version a stale hash belongs to."""
        ...

    async def aclose(self) -> None: ...


ANY_VERSION = "*"
"""The lookup key of a hashed requirement that is not pinned: every release's files (pip
26.1 and later install whichever version a listed hash matches)."""


@dataclass(frozen=True)
class ReleaseLookup:
    """What the index said about one (project, version): files, "no such thing", or nothing."""

    release: ReleaseFiles | None = None
    missing: str | None = None
    """"project" or "version" when the index has no such project or version."""
    error: str | None = None
    """Why the index could not be asked; the requirement is unverified."""
    offline: bool = False
    """The error is an --offline cache miss rather than a failing index."""
    history: Mapping[str, DistFile] = field(default_factory=dict)
    """sha256 → file, over every release of the project: where a stale hash comes from."""


def published_hashes(files: Iterable[DistFile]) -> set[str]:
    return {f"{algo}:{digest.lower()}" for f in files for algo, digest in f.hashes.items()}
