"""Index answers as the cache keeps them, and what the cache alone can answer.

The cached answers' shape (normalised files and releases as JSON data) and the one rule for
believing a row: its MAC verifies (`cache.py`) and it is converted (and so checked) before
use; a fresh positive row, or any positive row offline, answers; a fresh negative row
answers "no such project/version"; anything else needs the index. `CachingIndex` asks the
network when this says so; a run whose every question this answers (a warm run) needs no
event loop and no HTTP layer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from reqhash_check.index.answers import (
    BadAnswer,
    digests,
    normalize_project,
    same_version,
    stated_size,
    stated_time,
    version_key,
)
from reqhash_check.index.base import (
    DistFile,
    ProjectNotFound,
    ReleaseFiles,
    VersionNotFound,
)
from reqhash_check.index.cache import CacheEntry, ReleaseCache
from reqhash_check.urls import cache_key, redact_url, stored_api

# --- the normalised answers ----------------------------------------------------------------


def file_to_json(dist: DistFile) -> dict[str, Any]:
    return {
        "filename": dist.filename,
        "version": dist.version,
        "url": dist.url,
        "hashes": dict(dist.hashes),
        "requires_python": dist.requires_python,
        "yanked": dist.yanked,
        "yanked_reason": dist.yanked_reason,
        "size": dist.size,
        "upload_time": dist.upload_time,
    }


def _str(data: dict[str, Any], key: str, *, optional: bool = False) -> Any:
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise BadAnswer(f"a stored {key} that is not a string")
    return value


_STORED_SHA256 = re.compile(r"[0-9a-f]{64}")


def _stored_digests(value: object) -> dict[str, str]:
    """`digests(value, required=True)`, at once for the shape `file_to_json` writes (one
    lower-case sha256): a warm run reads thousands."""
    if type(value) is dict and len(value) == 1:
        sha256 = value.get("sha256")
        if type(sha256) is str and _STORED_SHA256.fullmatch(sha256):
            return value
    return digests(value, required=True)


def _not_strings(data: dict[str, Any], keys: tuple[str, ...]) -> NoReturn:
    for key in keys:
        _str(data, key)  # raises, naming the first that is not a string
    raise BadAnswer("a stored file without a name, version or URL")


def _optional_str(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if value is None or type(value) is str else _str(data, key)


_FILE_SCHEMES = ("https://", "http://", "file:")


def file_from_json(data: object) -> DistFile:
    """A stored file, checked. A warm run reads thousands, nearly all in the shape
    `file_to_json` writes: those are taken at once, anything else through every check."""
    if type(data) is dict:
        url, filename, version = data.get("url"), data.get("filename"), data.get("version")
        requires_python, yanked_reason = data.get("requires_python"), data.get("yanked_reason")
        if (
            type(url) is str
            and type(filename) is str
            and type(version) is str
            and (requires_python is None or type(requires_python) is str)
            and (yanked_reason is None or type(yanked_reason) is str)
            and url.startswith(_FILE_SCHEMES)
        ):
            return DistFile(
                filename,
                version,
                url,
                _stored_digests(data.get("hashes")),
                requires_python,
                bool(data.get("yanked")),
                yanked_reason,
                stated_size(data.get("size")),
                stated_time(data.get("upload_time")),
            )
    return _checked_file_from_json(data)


def _checked_file_from_json(data: object) -> DistFile:
    if not isinstance(data, dict):
        raise BadAnswer("a stored file that is not a mapping")
    url, filename, version = data.get("url"), data.get("filename"), data.get("version")
    if not (isinstance(url, str) and isinstance(filename, str) and isinstance(version, str)):
        _not_strings(data, ("url", "filename", "version"))
    if not url.startswith(_FILE_SCHEMES):
        raise BadAnswer("a file URL that is not http(s) or file")
    return DistFile(
        filename,
        version,
        url,
        _stored_digests(data.get("hashes")),
        _optional_str(data, "requires_python"),
        bool(data.get("yanked")),
        _optional_str(data, "yanked_reason"),
        stated_size(data.get("size")),
        stated_time(data.get("upload_time")),
    )


def release_to_json(release: ReleaseFiles) -> dict[str, Any]:
    return {
        "project": release.project,
        "version": release.version,
        "files": [file_to_json(f) for f in release.files],
        "requires_dist": None if release.requires_dist is None else list(release.requires_dist),
        "requires_dist_exact": release.requires_dist_exact,
        "dependencies_note": release.dependencies_note,
        "index_url": release.index_url,
    }


def release_from_json(data: object, project: str, version: str) -> ReleaseFiles:
    """A stored release, after checking it is one and that it is the one asked for."""
    if not isinstance(data, dict):
        raise BadAnswer("a stored release that is not a mapping")
    if _str(data, "project") != project or not same_version(_str(data, "version"), version):
        raise BadAnswer("a stored release for another project or version")
    files = data.get("files")
    requires = data.get("requires_dist")
    if not isinstance(files, list):
        raise BadAnswer("stored files that are not a list")
    if requires is not None and (
        not isinstance(requires, list) or not all(isinstance(r, str) for r in requires)
    ):
        raise BadAnswer("stored dependencies that are not strings")
    return ReleaseFiles(
        project=project,
        version=data["version"],
        files=tuple(file_from_json(f) for f in files),
        requires_dist=None if requires is None else tuple(requires),
        requires_dist_exact=bool(data.get("requires_dist_exact", True)),
        dependencies_note=_str(data, "dependencies_note", optional=True),
        index_url=_str(data, "index_url", optional=True) or "",
    )


def files_from_json(data: object) -> tuple[DistFile, ...]:
    if not isinstance(data, list):
        raise BadAnswer("stored project files that are not a list")
    return tuple(file_from_json(f) for f in data)


MISSING_ERRORS: dict[str, type[ProjectNotFound] | type[VersionNotFound]] = {
    "project": ProjectNotFound,
    "version": VersionNotFound,
}


@dataclass(frozen=True)
class Stored:
    """What the cache holds for one question."""

    entry: CacheEntry | None = None
    """The row, when it is well formed (a stale positive row is revalidated with its ETag)."""
    answer: Any = None
    """The converted answer of a positive row."""
    missing: str | None = None
    """"project" or "version" for a negative row."""
    settled: bool = False
    """The cache answers without the network: a fresh row, or a positive one offline."""

    def result(self, display_url: str, what: str) -> Any:
        """The answer of a settled question; raises for a negative one."""
        if self.missing is not None:
            raise MISSING_ERRORS[self.missing](f"{display_url}: no {what}")
        return self.answer


class StoredIndex:
    """One index's answers as its cache rows give them, keyed as its client keys them."""

    def __init__(
        self, cache: ReleaseCache | None, cache_key_url: str, display_url: str, offline: bool
    ) -> None:
        self.cache = cache
        self.cache_key_url = cache_key_url
        self.display_url = display_url
        self.offline = offline

    def read(self, kind: str, name: str, version: str, convert: Callable[[Any], Any]) -> Stored:
        cache = self.cache
        entry = cache.get(self.cache_key_url, kind, name, version) if cache else None
        if entry is None or cache is None:
            return Stored()
        payload = entry.payload
        try:
            if isinstance(payload, dict) and "missing" in payload:
                if payload.get("missing") not in MISSING_ERRORS:
                    raise BadAnswer("a stored negative answer of unknown kind")
                return Stored(entry, missing=payload["missing"], settled=cache.is_fresh(entry))
            answer = convert(payload)
        except BadAnswer:
            cache.drop(self.cache_key_url, kind, name, version)
            return Stored()
        return Stored(entry, answer, settled=self.offline or cache.is_fresh(entry))

    def release_question(self, project: str, version: str) -> tuple[str, str, str, str]:
        """(kind, name, version key, what) under which a release is cached and named."""
        return "release", normalize_project(project), version_key(version), f"{project} {version}"

    def stored_release(self, project: str, version: str) -> Stored:
        kind, name, key, _ = self.release_question(project, version)
        return self.read(kind, name, key, lambda data: release_from_json(data, name, version))

    def stored_project_files(self, project: str) -> Stored:
        return self.read("project", normalize_project(project), "", files_from_json)


def cache_only_indexes(
    urls: Sequence[str],
    labels: Mapping[str, str],
    cache: ReleaseCache,
    offline: bool,
) -> list[CacheOnlyIndex] | None:
    """The indexes `open_indexes` would open for `urls`, reading the cache alone; None when
    one of them is not cached at all (a folder or `file:` index is read from disk)."""
    indexes = []
    for url in urls:
        api = stored_api(url)
        if api is None:
            return None
        label = labels.get(url)
        key = cache_key(api[0], api[1], label)
        indexes.append(CacheOnlyIndex(StoredIndex(cache, key, redact_url(label or url), offline)))
    return indexes


class NotStored(Exception):
    """The cache alone cannot answer: the index must be asked."""


class CacheOnlyIndex:
    """An Index-like reader that answers from the cache alone, synchronously, and raises
    NotStored for anything it cannot settle."""

    def __init__(self, stored: StoredIndex) -> None:
        self._stored = stored

    @property
    def display_url(self) -> str:
        return self._stored.display_url

    def release(self, project: str, version: str) -> ReleaseFiles:
        found = self._stored.stored_release(project, version)
        if not found.settled:
            raise NotStored(f"{project} {version}: not cached")
        release: ReleaseFiles = found.result(self.display_url, f"{project} {version}")
        return release

    def project_files(self, project: str) -> tuple[DistFile, ...]:
        found = self._stored.stored_project_files(project)
        if not found.settled:
            raise NotStored(f"{project}: not cached")
        files: tuple[DistFile, ...] = found.result(self.display_url, project)
        return files
