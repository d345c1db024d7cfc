"""A SQLite cache of index answers, shared by processes running at once.

pre-commit runs hook processes in parallel, so the file is opened in WAL mode
with a busy timeout and every write is one short transaction. A file that is
not ours (not SQLite, another application, an older schema) is discarded and
rebuilt; a cache that cannot be used at all is switched off, never a crash.

The cache is untrusted input too (a CI cache can be restored from another
branch): every row carries an HMAC-SHA256 over all of its columns, made with a
key kept outside the cache folder (`keys.py`), and a row whose MAC does not
verify is dropped and reads as a miss, so a restored or shared cache can only
make a run ask the index again. Rows are also checked on read (`stored.py`), the
document a row came from is stored as a kind, never as a URL to follow, a row
stamped in the future counts as stale, and the file is created private to the
user and opened without following a symlink.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import sqlite3
import stat
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reqhash_check import watch
from reqhash_check.index.keys import (
    CACHE_FILENAME,
    GENERATION_FILENAME,
    cache_key_bytes,
    default_cache_dir,
)

SCHEMA_VERSION = 4
_APPLICATION_ID = 0x72686368  # "rhch"
DEFAULT_FRESHNESS = 600.0
_BUSY_TIMEOUT_MS = 10_000
"""Random bytes replaced by every write to the answers (before and after it): a verdict
(`verdict.py`) holds the bytes it saw and is believed only while they are unchanged."""
GENERATION_BYTES = 16
MAX_ROW_BYTES = 64 * 1024 * 1024


def default_cache_path() -> Path:
    return default_cache_dir() / CACHE_FILENAME


@dataclass(frozen=True)
class CacheEntry:
    """One cache row, its MAC verified."""

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
    mac TEXT NOT NULL,
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
        refresh: bool = False,
        key: bytes | None = None,
    ) -> None:
        self.path = Path(path)
        self.refresh = refresh
        """Believe no row: every question goes to the index, whose answers are stored
        (`--fix` confirms every hash it writes with the index this way)."""
        self._key = key
        self.freshness = freshness
        self.read_only = read_only
        self._clock = clock
        self._conn: sqlite3.Connection | None = None
        self._disabled = False
        self._rebuilt = False
        self._keyed: hmac.HMAC | None = None
        """An HMAC object holding the key, copied for each row (keyed once a run)."""
        self._generation: int | None = None
        """The open generation file (`bump`), once this process has written."""

    @classmethod
    def in_dir(cls, cache_dir: Path | None = None, **options: Any) -> ReleaseCache:
        """The cache file in `cache_dir` (`--cache-dir`), or in `default_cache_dir()`."""
        folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        return cls(folder / CACHE_FILENAME, **options)

    @property
    def key(self) -> bytes:
        """The MAC key: given, or the user's (`keys.cache_key_bytes`), read once."""
        if self._key is None:
            self._key = cache_key_bytes(self.path.parent)
        return self._key

    def _mac(self, row: tuple[Any, ...]) -> str:
        """HMAC-SHA256 over every column of a row, the key columns included, so a row
        moved to another key, or with any value changed, no longer verifies. The columns
        are hashed as they are stored, each framed by its type and length (`_framed`):
        a warm run verifies every row it reads, and encoding each row's payload again (as
        JSON, escaping every character) cost more than the rest of reading it."""
        if self._keyed is None:
            self._keyed = hmac.new(self.key, digestmod=hashlib.sha256)
        mac = self._keyed.copy()
        mac.update(_framed(row))
        return mac.hexdigest()

    def _authentic(self, row: tuple[Any, ...], mac: object) -> bool:
        payload = row[4]
        if not isinstance(mac, str) or not isinstance(payload, str):
            return False
        if len(payload) > MAX_ROW_BYTES:
            return False  # not even hashed: a planted row may be of any size
        try:
            expected = self._mac(row)
        except (TypeError, ValueError):
            return False  # a value no row of ours holds (NaN, bytes)
        return hmac.compare_digest(expected, mac)

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
        if self.read_only and (self.path.is_symlink() or not self.path.is_file()):
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
            # In WAL mode, NORMAL syncs at checkpoints, not at every commit: each answer
            # is its own short transaction, and waiting for the disk after each (a few
            # milliseconds, on the event loop) was a fifth of a cold run. A power cut may
            # lose the last answers, never damage the file; a cache can lose answers.
            conn.execute("PRAGMA synchronous = NORMAL")
            if _current(conn):
                return conn  # nothing to write: the file stays as it was (see verdict.py)
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version != SCHEMA_VERSION:
                    self.bump()
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
        self.bump()
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

    def bump(self) -> None:
        """Replace the generation file's bytes: every verdict made before reads as a miss.
        Where they cannot be written, the file is removed, which every verdict reads as a
        miss too."""
        if self.read_only:
            return
        watch.wrote()
        path = self.path.with_name(GENERATION_FILENAME)
        try:
            if self._generation is None:
                self._generation = _open_generation(path)
            os.pwrite(self._generation, os.urandom(GENERATION_BYTES), 0)
        except OSError:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass

    def close(self) -> None:
        if self._generation is not None:
            try:
                os.close(self._generation)
            except OSError:
                pass
            self._generation = None
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None

    # --- reads and writes ------------------------------------------------------

    def get(self, index_url: str, kind: str, project: str, version: str = "") -> CacheEntry | None:
        """The row, or None; a row whose MAC does not verify (written with another key, or
        changed since) or of the wrong shape is dropped and reads as a miss."""
        entry = self._get(index_url, kind, project, version)
        if entry is None:
            watch.no_answer()
        else:
            watch.answer(entry.fetched_at, self.freshness, self.is_fresh(entry))
        return entry

    def _get(self, index_url: str, kind: str, project: str, version: str) -> CacheEntry | None:
        if self.refresh:
            return None
        for _ in range(2):
            conn = self._connection()
            if conn is None:
                return None
            try:
                row = conn.execute(
                    "SELECT payload, etag, document, fetched_at, mac FROM answers"
                    " WHERE index_url = ? AND kind = ? AND project = ? AND version = ?",
                    (index_url, kind, project, version),
                ).fetchone()
            except sqlite3.Error as exc:
                if not self._recover(exc):
                    return None
                continue
            if row is None:
                return None
            key = (index_url, kind, project, version)
            entry = _entry(row[:4]) if self._authentic((*key, *row[:4]), row[4]) else None
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
        row = (index_url, kind, project, version, text, etag, document, float(self._clock()))
        self._write(
            "INSERT OR REPLACE INTO answers"
            " (index_url, kind, project, version, payload, etag, document, fetched_at, mac)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*row, self._mac(row)),
        )

    def touch(self, index_url: str, kind: str, project: str, version: str = "") -> None:
        """The index said 304 Not Modified: the entry is fresh again. Only a row that
        verifies is made fresh (and signed again with its new time)."""
        if self.read_only or self.refresh:
            return
        key = (index_url, kind, project, version)
        for _ in range(2):
            conn = self._connection()
            if conn is None:
                return
            try:
                row = conn.execute(
                    "SELECT payload, etag, document, fetched_at, mac FROM answers"
                    " WHERE index_url = ? AND kind = ? AND project = ? AND version = ?",
                    key,
                ).fetchone()
            except sqlite3.Error as exc:
                if not self._recover(exc):
                    return
                continue
            if row is None or not self._authentic((*key, *row[:4]), row[4]):
                return
            fresh = (*key, *row[:3], float(self._clock()))
            self._write(
                "UPDATE answers SET fetched_at = ?, mac = ? WHERE index_url = ? AND kind = ?"
                " AND project = ? AND version = ? AND mac = ?",
                (fresh[-1], self._mac(fresh), *key, row[4]),
            )
            return

    def drop(self, index_url: str, kind: str, project: str, version: str = "") -> None:
        if self.read_only:
            return
        self._write(
            "DELETE FROM answers WHERE index_url = ? AND kind = ? AND project = ? AND version = ?",
            (index_url, kind, project, version),
        )

    def _write(self, sql: str, params: tuple[Any, ...]) -> None:
        """One write, with the generation replaced before it (a process stopped in between
        still changed it) and after it (a verdict recorded meanwhile saw the old rows)."""
        self.bump()
        try:
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
        finally:
            self.bump()


def _current(conn: sqlite3.Connection) -> bool:
    """The file already holds this schema, marked as ours: nothing to write. A warm run
    then only reads (setting the schema's pragmas again, even to the same values, was a
    write transaction, and the checkpoint at close synced the file to disk)."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    table = conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'answers'"
    ).fetchone()
    return bool(version == SCHEMA_VERSION and app_id == _APPLICATION_ID and table)


_DOCUMENTS = frozenset({"version", "project", "page"})
_MAC_PREFIX = f"reqhash-check cache row {SCHEMA_VERSION}\x00".encode()


def _framed(row: tuple[Any, ...]) -> bytes:
    """A row's columns as unambiguous bytes: each is a type letter, its length and its
    bytes, so no two different rows (a value moved from one column to the next, None
    against "", a string against a number) give the same bytes. Raises ValueError or
    TypeError for a value no row of ours holds (NaN, an infinite time, bytes)."""
    parts = [_MAC_PREFIX]
    for value in row:
        if value is None:
            parts.append(b"n;")
            continue
        if type(value) is str:
            tag, data = b"s", value.encode("utf-8", "surrogatepass")
        elif type(value) is float or type(value) is int:
            if not math.isfinite(value):
                raise ValueError("a time that is not finite")
            tag, data = b"f", repr(float(value)).encode()
        else:
            raise TypeError(f"a column of type {type(value).__name__}")
        parts += (tag, str(len(data)).encode(), b":", data, b";")
    return b"".join(parts)


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


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_SIDE_FILES = ("-wal", "-shm", "-journal")


def _open_generation(path: Path) -> int:
    """The generation file, open for writing: a regular file of this user, private, never
    through a symlink (one in its place is removed)."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        pass
    else:
        if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
            path.unlink()
    flags = os.O_WRONLY | os.O_CREAT | _NOFOLLOW | _NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    descriptor = os.open(path, flags, 0o600)
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode) or (hasattr(os, "geteuid") and info.st_uid != os.geteuid()):
        os.close(descriptor)
        raise OSError(f"{path} is not a regular file of this user")
    return descriptor


def _create_private(path: Path) -> None:
    """Create the file readable and writable by its owner only (it may hold private
    indexes' answers); an existing file of ours is made private too.

    A restored cache may hold a symlink where the file (or SQLite's side files) should be:
    it is never followed (that would change the mode of, or write a database to, the place
    it points at) but removed, and a new file made in the folder. So is a hard link (a
    regular file with another name elsewhere, whose mode and bytes are not ours to change).
    Anything else that is not a regular file of this user makes the cache unusable
    (OSError)."""
    for suffix in _SIDE_FILES:
        side = Path(f"{path}{suffix}")
        try:
            info = side.lstat()
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
            side.unlink()  # SQLite would follow it; a folder here raises and disables
    flags = os.O_RDWR | os.O_CREAT | _NOFOLLOW | _NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        info = path.lstat()
    except FileNotFoundError:
        pass
    else:
        if stat.S_ISLNK(info.st_mode) or (stat.S_ISREG(info.st_mode) and info.st_nlink > 1):
            path.unlink()
    descriptor = os.open(path, flags, 0o600)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(f"{path} is not a regular file")
        if info.st_nlink > 1:
            raise OSError(f"{path} has another name")
        if hasattr(os, "geteuid") and info.st_uid != os.geteuid():
            raise OSError(f"{path} belongs to another user")
        # Only when it differs: a change of mode moves the file's change time, which a
        # verdict (verdict.py) holds to see the file edited behind the generation's back.
        if hasattr(os, "fchmod") and stat.S_IMODE(info.st_mode) != 0o600:
            try:
                os.fchmod(descriptor, 0o600)
            except OSError:
                pass  # a file system without modes
    finally:
        os.close(descriptor)
