"""A SQLite cache of index answers, shared by processes running at once.

pre-commit runs hook processes in parallel, so the file is opened in WAL mode
with a busy timeout and every write is one short transaction. A file that is
not ours (not SQLite, another application, an older schema) is discarded and
rebuilt; a cache that cannot be used at all is switched off, never a crash.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reqhash_check.index.base import (
    DistFile,
    OfflineMiss,
    ProjectNotFound,
    ReleaseFiles,
    VersionNotFound,
)
from reqhash_check.index.http import (
    HttpAnswer,
    HttpClient,
    normalize_project,
    stated_size,
    stated_time,
    version_key,
)

SCHEMA_VERSION = 1
_APPLICATION_ID = 0x72686368  # "rhch"
DEFAULT_FRESHNESS = 600.0
_BUSY_TIMEOUT_MS = 10_000
CACHE_FILENAME = "index-cache.sqlite3"


def default_cache_dir() -> Path:
    """The user cache folder: $REQHASH_CHECK_CACHE_DIR, else the platform's convention."""
    explicit = os.environ.get("REQHASH_CHECK_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(local) / "reqhash-check" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "reqhash-check"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "reqhash-check"


def default_cache_path() -> Path:
    return default_cache_dir() / CACHE_FILENAME


@dataclass(frozen=True)
class CacheEntry:
    payload: Any
    """The normalised answer as JSON data (see `release_to_json` and friends)."""
    etag: str | None
    source_url: str | None
    """The document the ETag belongs to, asked again with If-None-Match to revalidate."""
    fetched_at: float


_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    index_url TEXT NOT NULL,
    kind TEXT NOT NULL,
    project TEXT NOT NULL,
    version TEXT NOT NULL,
    payload TEXT NOT NULL,
    etag TEXT,
    source_url TEXT,
    fetched_at REAL NOT NULL,
    PRIMARY KEY (index_url, kind, project, version)
)
"""


def _warn(message: str) -> None:
    print(f"reqhash-check: warning: {message}", file=sys.stderr)


class ReleaseCache:
    """Normalised index answers keyed by (index URL, kind, project, version)."""

    def __init__(
        self,
        path: Path,
        *,
        freshness: float = DEFAULT_FRESHNESS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.freshness = freshness
        self._clock = clock
        self._conn: sqlite3.Connection | None = None
        self._disabled = False
        self._rebuilt = False

    @classmethod
    def in_dir(cls, cache_dir: Path | None = None, **options: Any) -> ReleaseCache:
        """The cache file in `cache_dir` (`--cache-dir`), or in `default_cache_dir()`."""
        folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        return cls(folder / CACHE_FILENAME, **options)

    @property
    def enabled(self) -> bool:
        return not self._disabled

    def is_fresh(self, entry: CacheEntry) -> bool:
        return self._clock() - entry.fetched_at < self.freshness

    # --- connection management -------------------------------------------------

    def _connection(self) -> sqlite3.Connection | None:
        if self._disabled:
            return None
        if self._conn is None:
            try:
                self._conn = self._open()
            except (OSError, sqlite3.Error) as exc:
                self._disable(
                    f"cache {self.path} is not usable ({type(exc).__name__}); going on without it"
                )
                return None
        return self._conn

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return self._open_checked()
        except sqlite3.DatabaseError:
            # Not a database at all, or damaged beyond reading: start a new one.
            self._discard_file()
            return self._open_checked()

    def _open_checked(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if app_id != _APPLICATION_ID and tables:
                conn.close()
                self._discard_file()
                conn = sqlite3.connect(
                    self.path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None
                )
                conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            try:
                conn.execute("PRAGMA journal_mode = WAL")
            except sqlite3.OperationalError:
                pass  # another process holds it; it sets WAL for everyone anyway
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version != SCHEMA_VERSION:
                    conn.execute("DROP TABLE IF EXISTS answers")
                conn.execute(_SCHEMA)
                conn.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except BaseException:
            conn.close()
            raise
        return conn

    def _discard_file(self) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def _disable(self, message: str) -> None:
        if not self._disabled:
            _warn(message)
        self._disabled = True
        self.close()

    def _recover(self, exc: sqlite3.Error) -> bool:
        """After an error mid-run: rebuild a damaged file once, else switch the cache off."""
        self.close()
        if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
            return False  # busy beyond the timeout: skip this read or write
        if not self._rebuilt:
            self._rebuilt = True
            try:
                self._discard_file()
            except OSError:
                pass
            return self._connection() is not None
        self._disable(f"cache {self.path} is damaged ({type(exc).__name__}); going on without it")
        return False

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    # --- reads and writes ------------------------------------------------------

    def get(self, index_url: str, kind: str, project: str, version: str = "") -> CacheEntry | None:
        for _ in range(2):
            conn = self._connection()
            if conn is None:
                return None
            try:
                row = conn.execute(
                    "SELECT payload, etag, source_url, fetched_at FROM answers"
                    " WHERE index_url = ? AND kind = ? AND project = ? AND version = ?",
                    (index_url, kind, project, version),
                ).fetchone()
            except sqlite3.Error as exc:
                if not self._recover(exc):
                    return None
                continue
            if row is None:
                return None
            try:
                payload = json.loads(row[0])
            except ValueError:
                return None
            return CacheEntry(payload, row[1], row[2], float(row[3]))
        return None

    def put(
        self,
        index_url: str,
        kind: str,
        project: str,
        version: str,
        payload: Any,
        *,
        etag: str | None = None,
        source_url: str | None = None,
    ) -> None:
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        self._write(
            "INSERT OR REPLACE INTO answers"
            " (index_url, kind, project, version, payload, etag, source_url, fetched_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (index_url, kind, project, version, text, etag, source_url, self._clock()),
        )

    def touch(self, index_url: str, kind: str, project: str, version: str = "") -> None:
        """The index said 304 Not Modified: the entry is fresh again."""
        self._write(
            "UPDATE answers SET fetched_at = ?"
            " WHERE index_url = ? AND kind = ? AND project = ? AND version = ?",
            (self._clock(), index_url, kind, project, version),
        )

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        for _ in range(2):
            conn = self._connection()
            if conn is None:
                return
            try:
                conn.execute(sql, params)
                return
            except sqlite3.Error as exc:
                if not self._recover(exc):
                    return


# --- the normalised answers ----------------------------------------------------


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


def file_from_json(data: dict[str, Any]) -> DistFile:
    return DistFile(
        filename=data["filename"],
        version=data["version"],
        url=data["url"],
        hashes=dict(data.get("hashes") or {}),
        requires_python=data.get("requires_python"),
        yanked=bool(data.get("yanked")),
        yanked_reason=data.get("yanked_reason"),
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
        "index_url": release.index_url,
    }


def release_from_json(data: dict[str, Any]) -> ReleaseFiles:
    requires = data.get("requires_dist")
    return ReleaseFiles(
        project=data["project"],
        version=data["version"],
        files=tuple(file_from_json(f) for f in data["files"]),
        requires_dist=None if requires is None else tuple(requires),
        requires_dist_exact=bool(data.get("requires_dist_exact", True)),
        index_url=data.get("index_url", ""),
    )


# --- the part of every index client that consults the cache ----------------------


@dataclass(frozen=True)
class Fetched:
    """What a client got from the network: a normalised payload, or None for 304."""

    payload: Any | None
    etag: str | None = None
    source_url: str | None = None


_MISSING_ERRORS: dict[str, type[ProjectNotFound] | type[VersionNotFound]] = {
    "project": ProjectNotFound,
    "version": VersionNotFound,
}


class CachingIndex(ABC):
    """An Index whose answers go through a ReleaseCache (when there is one).

    Fresh entries are used as they are; stale ones are revalidated with
    If-None-Match against the document they came from. Negative answers are
    kept only for the freshness window. Offline, any positive entry is used
    whatever its age, and a miss raises OfflineMiss.
    """

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

    async def _get_once(self, url: str, *, accept: str | None = None) -> HttpAnswer:
        """GET `url` once per run, however many releases of a project ask for it at once."""
        task = self._in_flight.get(url)
        if task is None:
            task = asyncio.ensure_future(self._http.get(url, accept=accept))
            self._in_flight[url] = task
        return await asyncio.shield(task)

    async def aclose(self) -> None:
        for task in self._in_flight.values():
            task.cancel()
        self._in_flight.clear()
        if self._owns_http:
            await self._http.aclose()

    @property
    def display_url(self) -> str:
        return self._display_url

    async def release(self, project: str, version: str) -> ReleaseFiles:
        name = normalize_project(project)
        payload = await self._cached(
            "release",
            name,
            version_key(version),
            f"{project} {version}",
            lambda previous: self._fetch_release(name, version, previous),
        )
        return release_from_json(payload)

    async def project_files(self, project: str) -> tuple[DistFile, ...]:
        name = normalize_project(project)
        payload = await self._cached(
            "project", name, "", project, lambda previous: self._fetch_project(name, previous)
        )
        return tuple(file_from_json(f) for f in payload)

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
    ) -> Any:
        cache = self._cache
        entry = cache.get(self._cache_key_url, kind, name, version) if cache else None
        missing = (
            entry.payload.get("missing") if entry and isinstance(entry.payload, dict) else None
        )
        if entry is not None and cache is not None:
            if missing is None and (self._offline or cache.is_fresh(entry)):
                return entry.payload
            if missing is not None and cache.is_fresh(entry):
                error = _MISSING_ERRORS.get(str(missing), ProjectNotFound)
                raise error(str(entry.payload.get("message") or what))
        if self._offline:
            raise OfflineMiss(f"{self._display_url}: {what}: not in the cache (offline)")
        previous = entry if entry is not None and missing is None and entry.etag else None
        try:
            fetched = await fetch(previous)
        except (ProjectNotFound, VersionNotFound) as exc:
            if cache is not None:
                kind_missing = "version" if isinstance(exc, VersionNotFound) else "project"
                negative = {"missing": kind_missing, "message": str(exc)}
                cache.put(self._cache_key_url, kind, name, version, negative)
            raise
        if fetched.payload is None and previous is not None:
            if cache is not None:
                cache.touch(self._cache_key_url, kind, name, version)
            return previous.payload
        if cache is not None:
            cache.put(
                self._cache_key_url,
                kind,
                name,
                version,
                fetched.payload,
                etag=fetched.etag,
                source_url=fetched.source_url,
            )
        return fetched.payload
