"""Which index to ask about each locked package, and asking it.

pip never asks an index about a locked package: it downloads the locked URL. The index is
asked here only to learn what the file at that URL should be. The index is, in order:
the package's own `index` key, else the index the file URLs belong to (files on
files.pythonhosted.org are PyPI's), else the index the run is configured with.

An index URL taken from the lock is untrusted: it is asked with a client of its own that
sends no credentials except those written in that very URL (no netrc, none of the
configured indexes' credentials). Only when it names one of the configured indexes is the
configured client used.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from reqhash_check import fs
from reqhash_check.check import ReleaseLookup
from reqhash_check.collect import attach_histories
from reqhash_check.index.base import (
    DEFAULT_CONCURRENCY,
    Index,
    IndexQueryError,
    OfflineMiss,
    ProjectNotFound,
    VersionNotFound,
)
from reqhash_check.index.cache import ReleaseCache
from reqhash_check.index.http import HttpClient, HttpSettings
from reqhash_check.index.multi import MultiIndex, open_index, open_indexes
from reqhash_check.index.urls import local_path, split_credentials
from reqhash_check.lockfile.read import LockedPackage

__all__ = [
    "IndexChoice",
    "IndexSettings",
    "LockLookups",
    "choose_index",
    "lookup_packages",
    "valid_name",
    "valid_version",
]

# Where a file host's files are listed: PyPI and TestPyPI serve files from their own hosts.
FILE_HOST_INDEXES = {
    "files.pythonhosted.org": "https://pypi.org/simple",
    "test-files.pythonhosted.org": "https://test.pypi.org/simple",
}
_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,198}[a-z0-9])?$")
_VERSION = re.compile(r"^[A-Za-z0-9.!+_-]{1,128}$")
_MAX_URL = 2048


@dataclass(frozen=True)
class IndexChoice:
    """The indexes to ask, primary first; `from_lock` when the URL came from the lock."""

    urls: tuple[str, ...]
    from_lock: bool = False


LockLookups = dict[tuple[IndexChoice, str, str], ReleaseLookup]


@dataclass(frozen=True)
class IndexSettings:
    primary: str
    extras: tuple[str, ...] = ()
    timeout: float = 15.0
    concurrency: int = DEFAULT_CONCURRENCY
    offline: bool = False
    untrusted: frozenset[str] = frozenset()
    """Indexes named only by the checked tree's configuration: asked without credentials."""
    refused: Mapping[str, str] = field(default_factory=dict)
    """Indexes not asked at all → why."""


def valid_name(name: str) -> bool:
    """A normalised project name, safe to put in an index URL."""
    return bool(_NAME.match(name))


def valid_version(version: str | None) -> bool:
    return version is not None and bool(_VERSION.match(version))


def _comparable(url: str) -> str:
    bare, _ = split_credentials(url)
    parts = urlsplit(bare)
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path.rstrip('/')}"


def _usable_index_url(url: str | None) -> bool:
    if not url or len(url) > _MAX_URL or any(ord(c) < 33 or ord(c) == 127 for c in url):
        return False
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def choose_index(package: LockedPackage, settings: IndexSettings) -> IndexChoice:
    configured = IndexChoice((settings.primary, *settings.extras))
    known = {_comparable(url) for url in configured.urls}
    named = package.index if _usable_index_url(package.index) else None
    if named is None:
        hosts = {
            urlsplit(f.url).hostname
            for f in package.files
            if f.url and urlsplit(f.url).hostname in FILE_HOST_INDEXES
        }
        if len(hosts) == 1:
            named = FILE_HOST_INDEXES[str(hosts.pop())]
    if named is None or _comparable(named) in known:
        return configured
    return IndexChoice((named,), from_lock=True)


async def lookup_packages(
    packages: Iterable[tuple[LockedPackage, IndexChoice]],
    settings: IndexSettings,
    cache: ReleaseCache | None,
    progress: Callable[[int, int], None] | None = None,
) -> LockLookups:
    """Ask each index about its packages' pinned versions, then, for packages whose hashes
    the release does not publish, about every release (where a stale hash comes from)."""
    wanted: dict[IndexChoice, set[tuple[str, str]]] = {}
    hashes_of: dict[tuple[IndexChoice, str, str], set[str]] = {}
    for package, choice in packages:
        if not valid_name(package.name) or not valid_version(package.version):
            continue
        assert package.version is not None
        wanted.setdefault(choice, set()).add((package.name, package.version))
        listed = hashes_of.setdefault((choice, package.name, package.version), set())
        listed.update(
            digest.lower()
            for file in package.files
            for algorithm, digest in file.hashes.items()
            if algorithm.lower() == "sha256"
        )
    total = sum(len(pairs) for pairs in wanted.values())
    done = 0

    def tick() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    async def ask(choice: IndexChoice, pairs: set[tuple[str, str]]) -> LockLookups:
        index = _open(choice, settings, cache)
        try:
            found = await _ask_index(index, choice, sorted(pairs), tick)
            await attach_histories(
                index,
                found,
                (
                    name
                    for (c, name, version), lookup in found.items()
                    if lookup.release is not None
                    and hashes_of.get((c, name, version), set())
                    - {f.sha256 for f in lookup.release.files if f.sha256}
                ),
                project_of=lambda key: key[1],
            )
            return found
        finally:
            await index.aclose()

    results = await asyncio.gather(*(ask(c, pairs) for c, pairs in wanted.items()))
    lookups: LockLookups = {}
    for result in results:
        lookups.update(result)
    return lookups


def _open(choice: IndexChoice, settings: IndexSettings, cache: ReleaseCache | None) -> Index:
    if not choice.from_lock:
        # Named on the command line or in pip's configuration: a local index is read as
        # given (see fs.trusted_root); one a lock names stays inside the repository.
        roots = {
            url: fs.trusted_root(path)
            for url in choice.urls
            if (path := local_path(url)) is not None and url not in settings.untrusted
        }
        return open_indexes(
            choice.urls[0],
            choice.urls[1:],
            timeout=settings.timeout,
            concurrency=settings.concurrency,
            cache=cache,
            offline=settings.offline,
            refused=settings.refused,
            untrusted=settings.untrusted,
            roots=roots,
        )
    http = HttpClient(
        HttpSettings(timeout=settings.timeout, concurrency=settings.concurrency, use_netrc=False)
    )
    return MultiIndex(
        [open_index(url, http, cache=cache, offline=settings.offline) for url in choice.urls],
        http,
    )


async def _ask_index(
    index: Index, choice: IndexChoice, pairs: Sequence[tuple[str, str]], tick: Callable[[], None]
) -> LockLookups:
    async def one(name: str, version: str) -> tuple[tuple[IndexChoice, str, str], ReleaseLookup]:
        try:
            lookup = ReleaseLookup(release=await index.release(name, version))
        except ProjectNotFound:
            lookup = ReleaseLookup(missing="project")
        except VersionNotFound:
            lookup = ReleaseLookup(missing="version")
        except IndexQueryError as error:
            lookup = ReleaseLookup(error=str(error), offline=isinstance(error, OfflineMiss))
        tick()
        return (choice, name, version), lookup

    return dict(await asyncio.gather(*(one(n, v) for n, v in pairs)))
