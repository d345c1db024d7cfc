"""A SQLite cache of index answers, shared by processes running at once.

pre-commit runs hook processes in parallel, so the file is opened in WAL mode
with a busy timeout and every write is one short transaction. A file that is
not ours (not SQLite, another application, an older schema) is discarded and
rebuilt; a cache that cannot be used at all is switched off, never a crash.

The cache is untrusted input too (a CI cache can be restored from another
branch): the file is created private to the user, rows are checked on read
(`stored.py`), the document a row came from is stored as a kind, never as a URL
to follow, and a row stamped in the future counts as stale.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reqhash_check import fs

SCHEMA_VERSION = 2
_APPLICATION_ID = 0x72686368  # "rhch"
DEFAULT_FRESHNESS = 600.0
_BUSY_TIMEOUT_MS = 10_000
CACHE_FILENAME = "index-cache.sqlite3"
MAX_ROW_BYTES = 64 * 1024 * 1024


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
    """The normalised answer as JSON data, checked by the reader before use."""
    etag: str | None
    document: str | None
    """Which document the ETag belongs to ("version", "project", "page"): the client
    recomputes its URL; a stored URL is never followed."""
    fetched_at: float


_SCHEMA = """
CREATE TABLE IF NOT EXISTS answers (
    index_url TEXT NOT NULL,
    kind TEXT NOT NULL,
    project TEXT NOT NULL,
    version TEXT NOT NULL,
    payload TEXT NOT NULL,
    etag TEXT,
    document TEXT,
    fetched_at REAL NOT NULL,
    PRIMARY KEY (index_url, kind, project, version)
)
"""


def _warn(message: str) -> None:
    print(f"reqhash-check: warning: {message}", file=sys.stderr)


class ReleaseCache:
    """Normalised index answers keyed by (index, kind, project, version)."""

    def __init__(
        self,
        path: Path,
        *,
        freshness: float = DEFAULT_FRESHNESS,
        clock: Callable[[], float] = time.time,
        read_only: bool = False,
    ) -> None:
        self.path = Path(path)
        self.freshness = freshness
        self.read_only = read_only
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
        """Fetched within the freshness window; a time in the future is not fresh."""
        age = self._clock() - entry.fetched_at
        return 0 <= age < self.freshness

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
        if self.read_only and not self.path.is_file():
            raise FileNotFoundError(self.path)
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        _create_private(self.path)
        try:
            return self._open_checked()
        except sqlite3.DatabaseError:
            # Not a database at all, or damaged beyond reading: start a new one.
            self._discard_file()
            _create_private(self.path)
            return self._open_checked()

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        return conn

    def _open_checked(self) -> sqlite3.Connection:
        conn = self._connect()
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            if app_id != _APPLICATION_ID and tables:
                conn.close()
                self._discard_file()
                _create_private(self.path)
                conn = self._connect()
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
        """The row, or None; a row of the wrong shape is dropped and reads as a miss."""
        for _ in range(2):
            conn = self._connection()
            if conn is None:
                return None
            try:
                row = conn.execute(
                    "SELECT payload, etag, document, fetched_at FROM answers"
                    " WHERE index_url = ? AND kind = ? AND project = ? AND version = ?",
                    (index_url, kind, project, version),
                ).fetchone()
            except sqlite3.Error as exc:
                if not self._recover(exc):
                    return None
                continue
            if row is None:
                return None
            entry = _entry(row)
            if entry is None:
                self.drop(index_url, kind, project, version)
            return entry
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
        document: str | None = None,
    ) -> None:
        if self.read_only:
            return
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        self._write(
            "INSERT OR REPLACE INTO answers"
            " (index_url, kind, project, version, payload, etag, document, fetched_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (index_url, kind, project, version, text, etag, document, self._clock()),
        )

    def touch(self, index_url: str, kind: str, project: str, version: str = "") -> None:
        """The index said 304 Not Modified: the entry is fresh again."""
        if self.read_only:
            return
        self._write(
            "UPDATE answers SET fetched_at = ?"
            " WHERE index_url = ? AND kind = ? AND project = ? AND version = ?",
            (self._clock(), index_url, kind, project, version),
        )

    def drop(self, index_url: str, kind: str, project: str, version: str = "") -> None:
        if self.read_only:
            return
        self._write(
            "DELETE FROM answers WHERE index_url = ? AND kind = ? AND project = ? AND version = ?",
            (index_url, kind, project, version),
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


_DOCUMENTS = frozenset({"version", "project", "page"})


def _entry(row: tuple[Any, ...]) -> CacheEntry | None:
    payload_text, etag, document, fetched_at = row
    if not isinstance(payload_text, str) or len(payload_text) > MAX_ROW_BYTES:
        return None
    if etag is not None and not isinstance(etag, str):
        return None
    if document is not None and document not in _DOCUMENTS:
        return None
    if not isinstance(fetched_at, (int, float)) or fetched_at != fetched_at:  # NaN
        return None
    try:
        payload = json.loads(payload_text)
    except (ValueError, RecursionError):
        return None
    return CacheEntry(payload, etag, document, float(fetched_at))


def _create_private(path: Path) -> None:
    """Create the file readable and writable by its owner only (it may hold private
    indexes' answers); an existing file of ours is made private too. A symlink or anything
    but a regular file in its place is refused (OSError): the cache is not used."""
    fs.open_private(path)
