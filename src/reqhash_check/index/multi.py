"""Several indexes as one, the way pip merges candidates from --index-url and --extra-index-url."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from typing import TypeVar
from urllib.parse import quote

from reqhash_check import fs
from reqhash_check.index.base import (
    DistFile,
    Index,
    IndexQueryError,
    IndexUnavailable,
    OfflineMiss,
    ProjectNotFound,
    ReleaseFiles,
    VersionNotFound,
    first_problem,
    merge_files,
    merge_releases,
)
from reqhash_check.index.cache import ReleaseCache
from reqhash_check.index.http import HttpClient, HttpSettings
from reqhash_check.index.local import FindLinks, LocalSimpleIndex
from reqhash_check.index.pypi import PyPIJsonIndex
from reqhash_check.index.simple import SimpleIndex
from reqhash_check.urls import (
    UNPARSED,
    index_urls,
    is_pypi_simple_url,
    local_path,
    pypi_base_url,
    redact_url,
    url_parses,
)

_T = TypeVar("_T")


class MultiIndex:
    """The union of several indexes' answers; owns the shared HTTP client."""

    def __init__(
        self, indexes: Sequence[Index], http: HttpClient | None = None, *more: HttpClient
    ) -> None:
        if not indexes:
            raise ValueError("at least one index is needed")
        self.indexes = tuple(indexes)
        self._clients = tuple(c for c in (http, *more) if c is not None)
        self.problems: dict[str, list[str]] = {}
        """Each index that could not be asked → why, one entry per failed request."""

    @property
    def display_url(self) -> str:
        return ", ".join(index.display_url for index in self.indexes)

    async def _ask_all(self, call: str, project: str, *args: str) -> list[object]:
        answers: list[object] = await asyncio.gather(
            *(getattr(index, call)(project, *args) for index in self.indexes),
            return_exceptions=True,
        )
        return answers

    async def _found(self, kind: type[_T], call: str, project: str, *args: str) -> list[_T]:
        """The answers of every index that had one; the most telling error if none had."""
        answers = await self._ask_all(call, project, *args)
        errors = [a for a in answers if isinstance(a, IndexQueryError)]
        unexpected = [a for a in answers if isinstance(a, BaseException) and a not in errors]
        if unexpected:
            raise unexpected[0]
        found = [a for a in answers if isinstance(a, kind)]
        if not found:
            raise first_problem(errors)
        return found

    async def release(self, project: str, version: str) -> ReleaseFiles:
        """The union of every index's files. An index that could not be asked is named in
        `unreachable`: the answer is then incomplete, and the checker treats it so."""
        answers = await self._ask_all("release", project, version)
        unexpected = [
            a
            for a in answers
            if isinstance(a, BaseException) and not isinstance(a, IndexQueryError)
        ]
        if unexpected:
            raise unexpected[0]
        found = [a for a in answers if isinstance(a, ReleaseFiles)]
        errors = [a for a in answers if isinstance(a, IndexQueryError)]
        failed = [e for e in errors if isinstance(e, IndexUnavailable)]
        for error in failed:
            self.problems.setdefault(error.index or "", []).append(str(error))
        if not found:
            raise first_problem(errors)
        unreachable = tuple(dict.fromkeys(str(e) for e in failed))
        return merge_releases(found, unreachable)

    async def project_files(self, project: str) -> tuple[DistFile, ...]:
        return merge_files(await self._found(tuple, "project_files", project))

    async def aclose(self) -> None:
        for index in self.indexes:
            await index.aclose()
        for client in self._clients:
            await client.aclose()


class RefusedIndex:
    """An index that is not contacted: every question gets `reason` as an index failure, so
    what depends on it is reported unverified rather than guessed."""

    def __init__(self, label: str, reason: str) -> None:
        self._label = label
        self._reason = reason

    @property
    def display_url(self) -> str:
        return self._label

    async def release(self, project: str, version: str) -> ReleaseFiles:
        raise IndexUnavailable(self._reason, index=self._label)

    async def project_files(self, project: str) -> tuple[DistFile, ...]:
        raise IndexUnavailable(self._reason, index=self._label)

    async def aclose(self) -> None:
        return None


class ExpandedIndex:
    """An index or find-links location whose URL was built from an environment value.

    It is asked (its host was vouched for by a trusted origin), but every answer and every
    error it gives is derived from the expanded URL (a file URL joined to the page's, a
    percent-encoded path in an error), so none of that text leaves it: files are named by
    the location as written, failures by the location as written and their kind. It is
    never given the cache (see `open_indexes`)."""

    def __init__(self, inner: Index, label: str) -> None:
        self._inner = inner
        self._label = label

    @property
    def display_url(self) -> str:
        return self._label

    def _file(self, dist: DistFile) -> DistFile:
        return replace(dist, url=f"{self._label.rstrip('/')}/{quote(dist.filename)}")

    def _error(self, exc: IndexQueryError, project: str, version: str | None) -> IndexQueryError:
        what = f"{project} {version}" if version else project
        if isinstance(exc, ProjectNotFound):
            return ProjectNotFound(f"{self._label}: no project named {project!r}")
        if isinstance(exc, VersionNotFound):
            return VersionNotFound(f"{self._label}: {what}: no such version")
        kind = OfflineMiss if isinstance(exc, OfflineMiss) else IndexUnavailable
        return kind(
            f"{self._label}: could not be asked about {what} (the answer is not quoted: "
            "the URL carries an environment value)",
            index=self._label,
        )

    async def release(self, project: str, version: str) -> ReleaseFiles:
        try:
            found = await self._inner.release(project, version)
        except IndexQueryError as exc:
            raise self._error(exc, project, version) from None
        return replace(
            found,
            files=tuple(self._file(f) for f in found.files),
            index_url=self._label,
            unreachable=tuple(f"{self._label}: could not be asked" for _ in found.unreachable),
        )

    async def project_files(self, project: str) -> tuple[DistFile, ...]:
        try:
            files = await self._inner.project_files(project)
        except IndexQueryError as exc:
            raise self._error(exc, project, None) from None
        return tuple(self._file(f) for f in files)

    async def aclose(self) -> None:
        await self._inner.aclose()


class NoSource:
    """--no-index without --find-links: pip has nowhere to look."""

    display_url = "no index (--no-index)"

    async def release(self, project: str, version: str) -> ReleaseFiles:
        raise ProjectNotFound("--no-index and no --find-links: pip finds no files at all")

    async def project_files(self, project: str) -> tuple[DistFile, ...]:
        raise ProjectNotFound("--no-index and no --find-links: pip finds no files at all")

    async def aclose(self) -> None:
        return None


def open_index(
    index_url: str,
    http: HttpClient,
    *,
    cache: ReleaseCache | None = None,
    offline: bool = False,
    label: str | None = None,
    root: fs.Root | None = None,
) -> Index:
    """One index client for a URL: pypi.org's JSON API for pypi.org, else the Simple API.

    `label` is how the URL was written (with `${VAR}` unexpanded): it is what messages show
    and what the cache is keyed by, so an expanded value never reaches either.
    """
    if local_path(index_url) is not None:
        return LocalSimpleIndex(index_url, http, label=label, root=root)
    if is_pypi_simple_url(index_url):
        return PyPIJsonIndex(
            pypi_base_url(index_url),
            http,
            cache=cache,
            offline=offline,
            display_url=index_url,
            label=label,
        )
    return SimpleIndex(index_url, http, cache=cache, offline=offline, label=label)


def open_indexes(
    index_url: str,
    extra_index_urls: Sequence[str],
    *,
    timeout: float,
    concurrency: int,
    cache: ReleaseCache | None,
    offline: bool,
    retries: int = 3,
    backoff: float = 0.5,
    labels: Mapping[str, str] | None = None,
    refused: Mapping[str, str] | None = None,
    find_links: Sequence[str] = (),
    no_index: bool = False,
    untrusted: Collection[str] = (),
    expanded: Collection[str] = (),
    from_files: Collection[str] = (),
    dead_hosts: dict[str, str] | None = None,
    roots: Mapping[str, fs.Root] | None = None,
    gate: asyncio.Semaphore | None = None,
) -> MultiIndex:
    """The index (or merged indexes) a run asks, sharing one HTTP client (and,
    with `dead_hosts`, the hosts given up on with the run's other indexes).

    `untrusted` indexes (named by the checked tree's configuration) get a client of their
    own that sends no credentials but those written in their own URL. `from_files` ones
    (named by a requirements file) get netrc's credentials only as any other URL does (see
    `HttpClient.distrust`). `expanded` ones (built from an environment value) are asked
    without the cache, and quoted by `labels` only (`ExpandedIndex`).
    `roots` says where each local location (a folder, a page, a `file:` index) may be
    read from (see `reqhash_check.fs`); without one it is confined to the current
    repository. The caller must `await index.aclose()` when done.
    """
    settings = HttpSettings(
        timeout=timeout, concurrency=concurrency, retries=retries, backoff=backoff
    )
    # One limit on requests in flight for both pools (and for the run's other clients, with
    # `gate`): the tree's indexes having a client of their own does not double it.
    gate = gate or asyncio.Semaphore(max(1, concurrency))
    http = HttpClient(settings, dead_hosts=dead_hosts, gate=gate)
    bare = (
        HttpClient(replace(settings, use_netrc=False), dead_hosts=dead_hosts, gate=gate)
        if untrusted
        else None
    )
    for url in from_files:
        if url_parses(url):
            http.distrust(url)
    urls = index_urls(index_url, extra_index_urls)
    if no_index:
        urls = []
    labels = labels or {}
    refused = refused or {}
    roots = roots or {}
    indexes: list[Index] = []
    for url in urls:
        label = labels.get(url) or redact_url(url)
        if url in refused:
            indexes.append(RefusedIndex(label, refused[url]))
            continue
        if not url_parses(url):
            indexes.append(RefusedIndex(label, UNPARSED))
            continue
        client = bare if bare is not None and url in untrusted else http
        if url in expanded:
            inner = open_index(
                url, client, cache=None, offline=offline, label=label, root=roots.get(url)
            )
            indexes.append(ExpandedIndex(inner, label))
        else:
            indexes.append(
                open_index(
                    url,
                    client,
                    cache=cache,
                    offline=offline,
                    label=labels.get(url),
                    root=roots.get(url),
                )
            )
    for location in dict.fromkeys(find_links):
        label = labels.get(location) or redact_url(location)
        if location in refused:
            indexes.append(RefusedIndex(label, refused[location]))
        elif not url_parses(location):
            indexes.append(RefusedIndex(label, UNPARSED))
        elif location in expanded:
            indexes.append(
                ExpandedIndex(
                    FindLinks(
                        location, http, label=label, root=roots.get(location), offline=offline
                    ),
                    label,
                )
            )
        else:
            indexes.append(
                FindLinks(location, http, label=label, root=roots.get(location), offline=offline)
            )
    return MultiIndex(indexes or [NoSource()], http, *([bare] if bare is not None else []))
