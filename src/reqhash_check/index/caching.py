"""The part of every index client that consults the cache (`stored.py` says what the cache
alone answers, and holds the cached answers' shape).

Fresh entries are used as they are; stale ones are revalidated with If-None-Match against
the document they came from (its URL recomputed by the client). Negative answers are kept
only for the freshness window. Offline, any positive entry is used whatever its age, and a
miss raises OfflineMiss. Every row is checked before it is believed: a row whose MAC does
not verify (`cache.py`), of the wrong shape, for another project or version, or with
malformed digests reads as a miss, so a 304 only ever renews a row this user's key signed.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from reqhash_check.index.answers import BadAnswer, normalize_project
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
from reqhash_check.index.stored import StoredIndex, files_from_json, release_from_json


@dataclass(frozen=True)
class Fetched:
    """What a client got from the network: a normalised payload, or None for 304."""

    payload: Any | None
    etag: str | None = None
    document: str | None = None


KEPT_ANSWERS = 4
"""Answers kept after they were handed out, for the other pins of the same project."""


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
        self._stored = StoredIndex(cache, cache_key_url, display_url, offline)
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
        kind, name, key, what = self._stored.release_question(project, version)
        release: ReleaseFiles = await self._cached(
            kind,
            name,
            key,
            what,
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

    async def _cached(
        self,
        kind: str,
        name: str,
        version: str,
        what: str,
        fetch: Callable[[CacheEntry | None], Awaitable[Fetched]],
        convert: Callable[[Any], Any],
    ) -> Any:
        """The answer, converted (and so checked) by `convert`: from the cache when it
        settles the question, else from the index (revalidating a stale row's ETag)."""
        cache = self._cache
        stored = self._stored.read(kind, name, version, convert)
        if stored.settled:
            return stored.result(self._display_url, what)
        if self._offline:
            raise OfflineMiss(
                f"{self._display_url}: {what}: not in the cache (offline)", index=self._display_url
            )
        entry = stored.entry
        previous = entry if entry is not None and stored.missing is None and entry.etag else None
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
            return stored.answer
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
