"""The key that authenticates the cache's rows, kept where a restored cache cannot bring it.

A CI cache (or a folder shared between users or machines) restores the cache folder only.
The key lives elsewhere: in `$REQHASH_CHECK_CACHE_KEY` (a secret, e.g. from a CI secret), or
in a file of the user's state folder, created private with O_EXCL and never followed through
a symlink. Without a usable key, a random one serves this process alone: the cache then
answers only what this run wrote, and every older row reads as a miss.
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
from pathlib import Path

KEY_ENV = "REQHASH_CHECK_CACHE_KEY"
KEY_FILE_ENV = "REQHASH_CHECK_CACHE_KEY_FILE"
KEY_FILENAME = "cache.key"
MIN_SECRET_CHARS = 32
CACHE_FILENAME = "index-cache.sqlite3"
"""The answers cache in its folder (`cache.py`)."""
GENERATION_FILENAME = "index-cache.generation"
"""Beside it: bytes replaced at every write, so that a verdict (`verdict.py`) can tell the
answers it used are still the cache's without opening it."""
_KEY_HEX_CHARS = 64
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)

_SESSION_KEY = os.urandom(32)  # what secrets.token_bytes gives, without importing it
"""This process's key when no lasting one can be had."""
_known: dict[str, bytes] = {}


def _warn(message: str) -> None:
    print(f"reqhash-check: warning: {message}", file=sys.stderr)


def default_state_dir() -> Path:
    """The user state folder: $XDG_STATE_HOME/reqhash-check on Linux, the platform's
    convention elsewhere. Never the cache folder: a restored cache must not bring its key."""
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(local) / "reqhash-check" / "State"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "reqhash-check"
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "state"
    return base / "reqhash-check"


def default_cache_dir() -> Path:
    """The user cache folder: $REQHASH_CHECK_CACHE_DIR, else the platform's convention.
    Here, not in `cache.py`, so that the verdict cache finds it without importing SQLite."""
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


def default_key_path() -> Path:
    """$REQHASH_CHECK_CACHE_KEY_FILE, else `cache.key` in `default_state_dir()`."""
    explicit = os.environ.get(KEY_FILE_ENV)
    if explicit:
        return Path(explicit).expanduser()
    return default_state_dir() / KEY_FILENAME


def cache_key_bytes(cache_dir: Path, *, warn: bool = True) -> bytes:
    """The key for rows of a cache in `cache_dir`: from the environment, else the key file
    (made on first use); this process's own key when neither can be used, with a warning
    (unless `warn` is false: the warning is then left to a later call)."""
    secret = os.environ.get(KEY_ENV)
    if secret:
        if len(secret) >= MIN_SECRET_CHARS:
            return hashlib.sha256(b"reqhash-check cache key\x00" + secret.encode()).digest()
        if not warn:
            return _SESSION_KEY
        _warn_once(
            "env",
            f"${KEY_ENV} is shorter than {MIN_SECRET_CHARS} characters and is not used; "
            "the cache answers this run's questions only",
        )
        return _SESSION_KEY
    path = default_key_path()
    problem = _inside(path, cache_dir)
    key = _known.get(str(path)) if problem is None else None
    if key is not None:
        return key
    if problem is None:
        try:
            key = _read_or_create(path)
            _known[str(path)] = key
            return key
        except OSError as error:
            problem = f"cannot be used ({error.strerror or error})"
        except ValueError as error:
            problem = str(error)
    if not warn:
        return _SESSION_KEY
    _warn_once(
        str(path), f"cache key {path} {problem}; the cache answers this run's questions only"
    )
    return _SESSION_KEY


def is_lasting(key: bytes) -> bool:
    """Whether `key` outlives this process (not the stand-in `cache_key_bytes` gives when no
    lasting key can be had): what it signs can be believed by a later run."""
    return key is not _SESSION_KEY


_warned: set[str] = set()


def _warn_once(what: str, message: str) -> None:
    if what not in _warned:
        _warned.add(what)
        _warn(message)


def _inside(path: Path, cache_dir: Path) -> str | None:
    try:
        key = Path(os.path.realpath(path))
        folder = Path(os.path.realpath(cache_dir))
    except (OSError, ValueError):
        return "cannot be resolved"
    if key.is_relative_to(folder):
        return "is inside the cache folder, where a restored cache could bring its own"
    return None


def _read_or_create(path: Path) -> bytes:
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    text = os.urandom(_KEY_HEX_CHARS // 2).hex().encode()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    descriptor = os.open(
        temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(text + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            # Linked into place whole, so a process starting at the same moment either sees
            # no key or the whole key, and exactly one key wins (link fails if it exists).
            os.link(temporary, path)
        except FileExistsError:
            pass
        except OSError:
            _create_directly(path, text)
    finally:
        temporary.unlink(missing_ok=True)
    return _read(path)


def _create_directly(path: Path, text: bytes) -> None:
    """Where hard links are not available: O_EXCL on the key file itself."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o600)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(text + b"\n")


def _read(path: Path) -> bytes:
    descriptor = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("is not a regular file")
        if hasattr(os, "geteuid"):
            if info.st_uid != os.geteuid():
                raise ValueError("belongs to another user")
            if info.st_mode & 0o077:
                raise ValueError("is readable or writable by others")
        data = os.read(descriptor, 256)
    finally:
        os.close(descriptor)
    text = data.strip()
    if len(text) != _KEY_HEX_CHARS:
        raise ValueError("does not hold a key")
    try:
        return bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("does not hold a key") from None
