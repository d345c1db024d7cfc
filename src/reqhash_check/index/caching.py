"""The part of every index client that consults the cache, and the cached answers' shape.

Fresh entries are used as they are; stale ones are revalidated with If-None-Match against
the document they came from (its URL recomputed by the client). Negative answers are kept
only for the freshness window. Offline, any positive entry is used whatever its age, and a
miss raises OfflineMiss. Every row is checked before it is believed: a row of the wrong
shape, for another project or version, or with malformed digests reads as a miss.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

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
    IndexUnavailable,
    OfflineMiss,
    ProjectNotFound,
    ReleaseFiles,
    VersionNotFound,
)
from reqhash_check.index.cache import CacheEntry, ReleaseCache
from reqhash_check.index.http import HttpAnswer, HttpClient

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


def file_from_json(data: object) -> DistFile:
    if not isinstance(data, dict):
        raise BadAnswer("a stored file that is not a mapping")
    url = _str(data, "url")
    if not url.startswith(("https://", "http://", "file:")):
        raise BadAnswer("a file URL that is not http(s) or file")
    return DistFile(
        filename=_str(data, "filename"),
        version=_str(data, "version"),
        url=url,
        hashes=digests(data.get("hashes"), required=True),
        requires_python=_str(data, "requires_python", optional=True),
        yanked=bool(data.get("yanked")),
        yanked_reason=_str(data, "yanked_reason", optional=True),
        size=stated_size(data.get("size")),
        upload_time=stated_time(data.get("upload_time")),
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


@dataclass(frozen=True)
class Fetched:
    """What a client got from the network: a normalised payload, or None for 304."""

    payload: Any | None
    etag: str | None = None
    document: str | None = None


KEPT_ANSWERS = 4
"""Answers kept after they were handed out, for the other pins of the same project."""

_MISSING_ERRORS: dict[str, type[ProjectNotFound] | type[VersionNotFound]] = {
    "project": ProjectNotFound,
    "version": VersionNotFound,
}


class CachingIndex(ABC):
    """An Index whose answers go through a ReleaseCache (when there is one)."""

    def __init__(
        self,
        *,
        http: HttpClient,
        owns_http: bool,
        cache_key_url: str,
        display_url: str,
        cache: ReleaseCache | None,
        offline: bool,
    ) -> None:
        self._http = http
        self._owns_http = owns_http
        self._cache_key_url = cache_key_url
        self._display_url = display_url
        self._cache = cache
        self._offline = offline
        self._in_flight: dict[str, asyncio.Task[HttpAnswer]] = {}
        self._recent: OrderedDict[str, HttpAnswer] = OrderedDict()

    async def _get_once(self, url: str, *, accept: str | None = None) -> HttpAnswer:
        """GET `url` once for every release of a project that asks for it at about the same
        time. Only the last few answers are kept: keeping every page of a run would make
        memory grow with the pages' sizes."""
        recent = self._recent.get(url)
        if recent is not None:
            self._recent.move_to_end(url)
            return recent
        task = self._in_flight.get(url)
        if task is None:
            task = asyncio.ensure_future(self._http.get(url, accept=accept))
            self._in_flight[url] = task
            task.add_done_callback(lambda done: self._keep(url, done))
        return await asyncio.shield(task)

    def _keep(self, url: str, done: asyncio.Task[HttpAnswer]) -> None:
        self._in_flight.pop(url, None)
        if done.cancelled() or done.exception() is not None:
            return
        self._recent[url] = done.result()
        while len(self._recent) > KEPT_ANSWERS:
            self._recent.popitem(last=False)

    async def aclose(self) -> None:
        for task in list(self._in_flight.values()):
            task.cancel()
        self._in_flight.clear()
        self._recent.clear()
        if self._owns_http:
            await self._http.aclose()

    @property
    def display_url(self) -> str:
        return self._display_url

    def _bad(self, url: str, problem: BadAnswer) -> IndexUnavailable:
        return IndexUnavailable(f"{self._http.shown(url)} answered with {problem}")

    async def release(self, project: str, version: str) -> ReleaseFiles:
        name = normalize_project(project)
        release: ReleaseFiles = await self._cached(
            "release",
            name,
            version_key(version),
            f"{project} {version}",
            lambda previous: self._fetch_release(name, version, previous),
            lambda data: release_from_json(data, name, version),
        )
        return release

    async def project_files(self, project: str) -> tuple[DistFile, ...]:
        name = normalize_project(project)
        files: tuple[DistFile, ...] = await self._cached(
            "project",
            name,
            "",
            project,
            lambda previous: self._fetch_project(name, previous),
            files_from_json,
        )
        return files

    @abstractmethod
    async def _fetch_release(
        self, name: str, version: str, previous: CacheEntry | None
    ) -> Fetched: ...

    @abstractmethod
    async def _fetch_project(self, name: str, previous: CacheEntry | None) -> Fetched: ...

    def _usable(self, entry: CacheEntry, convert: Callable[[Any], Any]) -> tuple[str | None, Any]:
        """("missing", None) for a well-formed negative answer, (None, the converted answer)
        for a positive one that passes the checks; raises BadAnswer for anything else."""
        payload = entry.payload
        if isinstance(payload, dict) and "missing" in payload:
            if payload.get("missing") not in _MISSING_ERRORS:
                raise BadAnswer("a stored negative answer of unknown kind")
            return "missing", None
        return None, convert(payload)

    async def _cached(
        self,
        kind: str,
        name: str,
        version: str,
        what: str,
        fetch: Callable[[CacheEntry | None], Awaitable[Fetched]],
        convert: Callable[[Any], Any],
    ) -> Any:
        """The answer, converted (and so checked) by `convert`."""
        cache = self._cache
        entry = cache.get(self._cache_key_url, kind, name, version) if cache else None
        state: str | None = None
        converted: Any = None
        if entry is not None and cache is not None:
            try:
                state, converted = self._usable(entry, convert)
            except BadAnswer:
                cache.drop(self._cache_key_url, kind, name, version)
                entry = None
        if entry is not None and cache is not None:
            if state is None and (self._offline or cache.is_fresh(entry)):
                return converted
            if state == "missing" and cache.is_fresh(entry):
                error = _MISSING_ERRORS[entry.payload["missing"]]
                raise error(f"{self._display_url}: no {what}")
        if self._offline:
            raise OfflineMiss(
                f"{self._display_url}: {what}: not in the cache (offline)", index=self._display_url
            )
        previous = entry if entry is not None and state is None and entry.etag else None
        try:
            fetched = await fetch(previous)
        except IndexUnavailable as exc:
            exc.index = exc.index or self._display_url
            raise
        except (ProjectNotFound, VersionNotFound) as exc:
            if cache is not None:
                kind_missing = "version" if isinstance(exc, VersionNotFound) else "project"
                cache.put(self._cache_key_url, kind, name, version, {"missing": kind_missing})
            raise
        if fetched.payload is None and previous is not None:
            if cache is not None:
                cache.touch(self._cache_key_url, kind, name, version)
            return converted
        try:
            answer = convert(fetched.payload)
        except BadAnswer as problem:  # checked before it is stored or believed
            raise IndexUnavailable(
                f"{self._display_url} answered with {problem}", index=self._display_url
            ) from None
        if cache is not None:
            cache.put(
                self._cache_key_url,
                kind,
                name,
                version,
                fetched.payload,
                etag=fetched.etag,
                document=fetched.document,
            )
        return answer
