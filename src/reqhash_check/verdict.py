"""The verdict cache: a check run again on exactly the same inputs, while every index answer
it used is still fresh, prints the earlier run's output without doing the check.

A verdict is stored only for a run that could be replayed exactly: a plain check (no
--fix, --diff, --no-cache, --verify-downloads, standard input, GITHUB_STEP_SUMMARY), exit
code 0 or 1, every index answer from a fresh row of the answers cache (no question asked
of the network, no row written, missing or stale), every file it read or looked for
recorded, nothing read or written that could not be, no `${VAR}` of a file expanded (what
derives from its value is kept nowhere). When in doubt, nothing is stored.

A verdict is found by a key made of all that can change a run without a file changing:
the tool's own files (names, sizes, times), the interpreter, the command line exactly, the
current folder, the whole environment, which streams are terminals (and their size), and
the cache folder. It is believed only when, again, every recorded file and folder holds
what it held (content digests and listings; one recorded missing is still missing), the
answers cache has not been written since (its generation bytes, `cache.py`), the clock is
between the run and the moment the first answer it used goes stale, and its HMAC-SHA256
(the answers cache's key, kept outside the cache folder) verifies over its name, key and
contents. Anything else is a miss, and the check runs as if there were no verdict.

The hit path imports nothing of the check (no SQLite, no rules, no report).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import sys
import time
from _thread import get_ident
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from reqhash_check import watch
from reqhash_check.index import keys

FOLDER = "verdicts"
VERSION = 1
MAX_VERDICT_BYTES = 2 * 1024 * 1024
"""A verdict holds the run's outputs: a larger one is not stored (nor read)."""
MAX_INPUT_BYTES = 32 * 1024 * 1024
"""A file larger than this, read or looked at, is not digested: the run stores nothing."""
MAX_LISTING = 100_000
MAX_PATHS = 20_000
MAX_VERDICTS = 128
LIFETIME = 600.0
"""The longest a verdict lives (the answers cache's freshness window)."""
_MARKERS = (".git", "pyproject.toml")
"""Looked for in every folder above the current one and above each file (the repository's
root, the nearest pyproject.toml)."""
_MAC_PREFIX = b"reqhash-check verdict 1\x00"
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_CODE_SUFFIXES = (".py", ".pyc", ".so", ".pyd", ".pth", ".pyi", ".typed")
_NETWORK_EVENTS = frozenset(
    {"socket.connect", "socket.getaddrinfo", "socket.sendto", "http.client.connect"}
)
_PROCESS_EVENTS = frozenset(
    {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork"}
)
_WRITING_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class _Unrecordable(Exception):
    """This run reads something a verdict cannot hold: nothing is stored."""


# --- what a path holds -------------------------------------------------------------------


def _state(path: str, deep: bool = True) -> list[Any]:
    """What `path` is, comparable between runs: where it leads (every symlink on the way
    resolved), its type, mode and owner, and (deep) a regular file's content digest or a
    folder's listing. A path that cannot be looked at has a state too ("missing", an
    error number), so that it changing is seen."""
    try:
        real = os.path.realpath(path)
        if not deep:
            info = os.lstat(path)
            return [real, stat.S_IFMT(info.st_mode)]
        info = os.stat(real)
    except FileNotFoundError:
        # A symlink leading nowhere is found by name (`os.path.lexists`, as the nearest
        # pyproject.toml is): where the name is, and where it leads, tell it from none.
        return ["missing", path, *_dangling(path)]
    except OSError as exc:
        return ["error", path, exc.errno]
    except ValueError:
        return ["invalid", path]
    head = [real, stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode), info.st_uid]
    if stat.S_ISREG(info.st_mode):
        return [*head, _digest(real, info.st_size)]
    if stat.S_ISDIR(info.st_mode):
        return [*head, _listing(real)]
    return head


def _dangling(path: str) -> list[Any]:
    try:
        return [os.path.lexists(path), os.path.realpath(path)]
    except (OSError, ValueError) as exc:
        return ["error", getattr(exc, "errno", None)]


def _digest(path: str, size: int) -> str:
    if size > MAX_INPUT_BYTES:
        raise _Unrecordable(f"{path} is too large")
    try:
        descriptor = os.open(path, os.O_RDONLY | _NONBLOCK | _CLOEXEC)
    except OSError as exc:
        return f"error {exc.errno}"
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return "not regular"
        digest = hashlib.sha256()
        total = 0
        while chunk := os.read(descriptor, 1024 * 1024):
            total += len(chunk)
            if total > MAX_INPUT_BYTES:
                raise _Unrecordable(f"{path} is too large")
            digest.update(chunk)
        return digest.hexdigest()
    finally:
        os.close(descriptor)


def _listing(path: str) -> str:
    """The names in a folder with the type of each (not followed), as a digest."""
    try:
        with os.scandir(path) as entries:
            names: list[str] = []
            for entry in entries:
                if len(names) > MAX_LISTING:
                    raise _Unrecordable(f"{path} holds too many names")
                kind = "l" if entry.is_symlink() else "d" if entry.is_dir() else "f"
                names.append(f"{kind}{entry.name}")
    except OSError as exc:
        return f"error {exc.errno}"
    names.sort()
    return hashlib.sha256("\x00".join(names).encode("utf-8", "surrogateescape")).hexdigest()


def _markers(paths: Sequence[str]) -> dict[str, list[Any]]:
    """The state of `.git` (whether it is there) and `pyproject.toml` (what it holds) in
    every folder above the current one and above each path."""
    folders: set[str] = set()
    for path in (os.path.join(os.getcwd(), "-"), *paths):
        folder = os.path.dirname(path)
        while folder not in folders:
            folders.add(folder)
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
    found: dict[str, list[Any]] = {}
    for folder in sorted(folders):
        for name in _MARKERS:
            path = os.path.join(folder, name)
            found[path] = _state(path, deep=name != ".git")
    return found


# --- the key -----------------------------------------------------------------------------


def _code_fingerprint() -> list[Any]:
    """The tool's own files (names, sizes, modification times), without byte code."""
    top = os.path.dirname(os.path.abspath(__file__))
    found: list[Any] = []
    pending = [top]
    while pending:
        folder = pending.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name == "__pycache__":
                    continue
                info = entry.stat(follow_symlinks=False)
                found.append([entry.path, info.st_size, info.st_mtime_ns, info.st_mode])
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
    found.sort()
    return found


def _import_path() -> list[Any]:
    """Where modules are imported from: each folder's modification time (an install or an
    upgrade changes it); the current folder by the modules and packages it holds."""
    here = os.getcwd()
    found: list[Any] = []
    for entry in sys.path:
        folder = os.path.abspath(entry or here)
        if folder == here:
            try:
                with os.scandir(here) as entries:
                    names = sorted(
                        e.name for e in entries if e.name.endswith(_CODE_SUFFIXES) or e.is_dir()
                    )
            except OSError as exc:
                names = [f"error {exc.errno}"]
            found.append([entry, names])
            continue
        try:
            info = os.stat(folder)
            found.append([entry, info.st_mtime_ns, info.st_ino, info.st_size])
        except OSError as exc:
            found.append([entry, exc.errno])
    return found


def _streams() -> list[Any]:
    found: list[Any] = []
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        try:
            tty = bool(stream.isatty())
        except (AttributeError, ValueError, OSError):
            tty = False
        size: Any = None
        if tty:
            try:
                size = list(os.get_terminal_size(stream.fileno()))
            except (AttributeError, ValueError, OSError):
                size = "unknown"
        found.append(
            [tty, size, getattr(stream, "encoding", None), getattr(stream, "errors", None)]
        )
    return found


def _key(argv: Sequence[str], cache_dir: str, secret: bytes) -> str:
    """The key, as an HMAC of all it is made of: neither the environment nor the command
    line can be guessed back from a verdict's name."""
    material = [
        VERSION,
        sys.version,
        sys.implementation.cache_tag,
        sys.executable,
        repr(sys.flags),
        _code_fingerprint(),
        _import_path(),
        list(argv),
        os.getcwd(),
        sorted(os.environ.items()),
        _streams(),
        os.path.realpath(cache_dir),
        os.getuid() if hasattr(os, "getuid") else None,
    ]
    text = json.dumps(material, separators=(",", ":")).encode("utf-8", "surrogatepass")
    return hmac.new(secret, b"reqhash-check verdict key\x00" + text, "sha256").hexdigest()


# --- the answers cache's state -----------------------------------------------------------


def _generation(cache_dir: str) -> str | None:
    """The answers cache's generation bytes (hex), or None when they cannot be read."""
    path = os.path.join(cache_dir, keys.GENERATION_FILENAME)
    try:
        descriptor = os.open(path, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC)
    except OSError:
        return None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or not _own(info):
            return None
        data = os.read(descriptor, 64)
    except OSError:
        return None
    finally:
        os.close(descriptor)
    return data.hex() if len(data) >= 16 else None


def _ensure_generation(cache_dir: str) -> None:
    """A cache written before generations existed has none: one is made, which changes
    nothing but lets this run's verdict be checked against later writes."""
    path = os.path.join(cache_dir, keys.GENERATION_FILENAME)
    try:
        descriptor = os.open(
            path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600
        )
    except OSError:
        return
    try:
        os.write(descriptor, os.urandom(16))
    finally:
        os.close(descriptor)


def _database(cache_dir: str) -> list[Any]:
    """The answers file's identity: replaced or changed without a generation (a cache
    restored or copied in), it makes every verdict a miss."""
    found: list[Any] = []
    for suffix in ("", "-wal"):
        try:
            info = os.lstat(os.path.join(cache_dir, keys.CACHE_FILENAME + suffix))
            # The change time too: a file edited with its size and modification time put
            # back (by hand, or by a writer that knows nothing of the generation) moves it.
            found.append(
                [info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns]
            )
        except OSError as exc:
            found.append(exc.errno)
    return found


def _own(info: os.stat_result) -> bool:
    return not hasattr(os, "geteuid") or info.st_uid == os.geteuid()


# --- recording a run ---------------------------------------------------------------------


class _Recorder:
    """What one check reads, uses and prints (`watch.Listener`)."""

    def __init__(self, cache_dir: str, outputs: Sequence[str]) -> None:
        self.cache_dir = os.path.abspath(cache_dir)
        self.outputs = {os.path.abspath(o) for o in outputs}
        self.states: dict[str, list[Any]] = {}
        self.read: dict[str, set[str]] = {}
        self.problem: str | None = None
        self.expires = time.time() + LIFETIME
        self.events: list[list[Any]] = []
        self.size = 0
        self.opened: list[tuple[str, bool]] = []
        self.listed: list[str] = []
        self.busy: int | None = None
        """The thread recording a path (its own opens are not events), -1 once stopped."""

    def fail(self, why: str) -> None:
        if self.problem is None:
            self.problem = why

    def path(self, path: str, data: bytes | None) -> None:
        if self.problem is not None:
            return
        self.busy = get_ident()
        try:
            if path not in self.states:
                if len(self.states) >= MAX_PATHS:
                    raise _Unrecordable("too many paths")
                self.states[path] = _state(path)
            if data is not None:
                self.read.setdefault(path, set()).add(hashlib.sha256(data).hexdigest())
        except _Unrecordable as exc:
            self.fail(str(exc))
        finally:
            self.busy = None

    def answer(self, fetched_at: float, freshness: float, fresh: bool) -> None:
        if not fresh:
            self.fail("a stale answer")
        self.expires = min(self.expires, fetched_at + freshness)

    def no_answer(self) -> None:
        self.fail("an answer not in the cache")

    def wrote(self) -> None:
        self.fail("the answers cache was written")

    def expanded(self) -> None:
        self.fail("an environment value expanded from a file")

    def emit(self, event: list[Any], size: int) -> None:
        self.size += size
        if self.size > MAX_VERDICT_BYTES:
            self.fail("outputs too large")
        elif self.problem is None:
            self.events.append(event)

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            name, mode, flags = args[0], args[1], args[2]
            if isinstance(name, int):
                return
            writing = (
                any(c in mode for c in "wax+")
                if isinstance(mode, str)
                else bool(isinstance(flags, int) and flags & _WRITING_FLAGS)
            )
            self.opened.append((os.fsdecode(name), writing))
        elif event in ("os.listdir", "os.scandir"):
            if args and not isinstance(args[0], int) and args[0] is not None:
                self.listed.append(os.fsdecode(args[0]))
        elif event in _NETWORK_EVENTS:
            self.fail("the network was used")
        elif event in _PROCESS_EVENTS:
            self.fail("a process was started")

    def unaccounted(self) -> str | None:
        """A file opened or a folder listed that no recorded path accounts for."""
        here = os.getcwd()
        code = _code_folders(here)
        components = {part for path in self.states for part in path.split(os.sep)}
        components.update(self.cache_dir.split(os.sep))
        folders = {os.path.dirname(path) for path in self.states}
        for folder in list(folders):
            while folder not in ("", os.sep):
                folders.add(folder)
                folder = os.path.dirname(folder)
        allowed = {os.path.abspath(os.devnull), os.path.abspath(keys.default_key_path())}
        for name, writing in self.opened:
            if not os.path.isabs(name) and os.sep not in name and name in components:
                continue  # opened by the file layer, relative to a folder it holds open
            path = os.path.abspath(name)
            if path in allowed or writing and _under(path, (self.cache_dir,)):
                continue  # the answers cache's own files (SQLite's are not seen here)
            if not writing and path in folders and os.path.isdir(path):
                continue  # a folder the file layer holds open to read what is in it
            if writing:
                if os.sep + "__pycache__" + os.sep in path and _under(path, code):
                    continue  # byte code written by an import
                if path not in self.outputs:
                    return "a file written"
                continue
            if path in self.states or _under(path, code) and path.endswith(_CODE_SUFFIXES):
                continue
            if _under(path, _prefixes()):
                continue
            return "a file read"
        for name in self.listed:
            path = os.path.abspath(name)
            if path in self.states or path in code or _under(path, _prefixes()):
                continue
            if _under(path, code):
                continue
            return "a folder listed"
        return None


def _code_folders(here: str) -> tuple[str, ...]:
    return tuple(os.path.abspath(entry or here) for entry in sys.path)


def _prefixes() -> tuple[str, ...]:
    here = os.path.abspath(os.getcwd())
    found = []
    for entry in {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}:
        folder = os.path.abspath(entry)
        if not _under(here, (folder,)):  # a check run inside the interpreter's own folder
            found.append(folder)
    return tuple(found)


def _under(path: str, folders: Sequence[str]) -> bool:
    return any(path == f or path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)


class _Tee:
    """A standard stream whose writes are also recorded, in order with the other's."""

    def __init__(self, stream: Any, tag: str, session: Session) -> None:
        self._stream = stream
        self._tag = tag
        self._session = session

    def write(self, text: str) -> int:
        written: int = self._stream.write(text)
        recorder = self._session.recorder
        if recorder is not None:
            if isinstance(text, str):
                recorder.emit([self._tag, text], len(text))
            else:
                recorder.fail("a stream written in bytes")
        return written

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        if name == "buffer":
            recorder = self._session.recorder
            if recorder is not None:
                recorder.fail("a stream's bytes used")
        return getattr(self._stream, name)


_active: _Recorder | None = None
_hooked = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    recorder = _active
    if recorder is None or recorder.busy is not None and recorder.busy in (-1, get_ident()):
        return
    try:
        recorder.audit(event, args)
    except Exception:  # an audit hook must not raise into the code it watches
        recorder.fail("an event that could not be recorded")


# --- the session ---------------------------------------------------------------------------


class Session:
    """One check: `replayed` is the exit code when a verdict answered it; otherwise the run
    is recorded, and stored at the end when it can be replayed exactly."""

    def __init__(self) -> None:
        self.replayed: int | None = None
        self.recorder: _Recorder | None = None
        self.code: int | None = None
        self._key = ""
        self._secret = b""
        self._cache_dir = ""
        self._saved: tuple[Any, Any] | None = None
        self._begun = 0.0
        self._generation: str | None = None
        self._database: list[Any] = []
        self._markers: dict[str, list[Any]] = {}


def in_scope(argv: Sequence[str], args: Any) -> bool:
    """A run a verdict may answer: a plain check, nothing read from standard input, no
    file written but the report, no download verified."""
    return not (
        sys.stdout is None
        or sys.stderr is None
        or args.fix
        or args.diff
        or args.no_cache
        or args.verify_downloads
        or "-" in (args.files or [])
        or os.environ.get("GITHUB_STEP_SUMMARY")
    )


def cache_folder(args: Any) -> str:
    """The cache folder the check will use (as `cli.settings_from` and `cache.py` pick it)."""
    chosen = args.cache_dir or os.environ.get("REQHASH_CHECK_CACHE_DIR")
    folder = Path(chosen).expanduser() if chosen else keys.default_cache_dir()
    return str(folder)


@contextmanager
def session(
    argv: Sequence[str], args: Any, write: Callable[[Path | None, str], None]
) -> Iterator[Session]:
    """Answer the check from a verdict (`Session.replayed`), or record it and store a
    verdict when it ends with `Session.code` set (0 or 1) and could be replayed exactly."""
    current = Session()
    found = None
    if in_scope(argv, args):
        try:
            current._cache_dir = cache_folder(args)
            secret = keys.cache_key_bytes(Path(current._cache_dir), warn=False)
            if keys.is_lasting(secret):  # else what it signs would not be believed later
                current._secret = secret
                current._key = _key(argv, current._cache_dir, secret)
                found = _load(current._key, current._cache_dir, secret)
        except Exception:  # a broken store is a miss, never a crash
            current._key = ""
            found = None
    if not current._key:
        yield current
        return
    if found is not None and _outputs_writable(found):
        current.replayed = _replay(found, write)
        yield current
        return
    _begin(current, args)
    try:
        yield current
    except BaseException:
        _stop(current)
        raise
    _stop(current)
    _store(current)


def _begin(current: Session, args: Any) -> None:
    global _active, _hooked
    if not current._key:
        return
    outputs = [o for o in (args.output, args.sarif_output) if o not in (None, "-")]
    recorder = _Recorder(current._cache_dir, outputs)
    current.recorder = recorder
    try:
        os.makedirs(current._cache_dir, mode=0o700, exist_ok=True)
        _ensure_generation(current._cache_dir)
        current._generation = _generation(current._cache_dir)
        current._database = _database(current._cache_dir)
        current._markers = _markers([])
        for path in _always_watched():
            recorder.path(path, None)
    except Exception as exc:  # nothing is stored; the check runs as ever
        recorder.fail(f"cannot start ({type(exc).__name__})")
    current._begun = time.time()
    current._saved = (sys.stdout, sys.stderr)
    sys.stdout = _Tee(sys.stdout, "o", current)
    sys.stderr = _Tee(sys.stderr, "e", current)
    if not _hooked:
        sys.addaudithook(_audit)
        _hooked = True
    _active = recorder
    watch.listener = recorder


def _always_watched() -> list[str]:
    """What a check may look at before the file layer is involved: pip's configuration
    files and netrc (each read, if there, outside the file layer)."""
    from reqhash_check.pipconfig import config_files

    paths = [str(p) for p in config_files(os.environ)]
    paths.append(os.environ.get("NETRC") or str(Path.home() / ".netrc"))
    return [os.path.abspath(p) for p in paths]


def _stop(current: Session) -> None:
    global _active
    if current.recorder is None:
        return
    _active = None
    watch.listener = None
    current.recorder.busy = -1
    if current._saved is not None:
        if isinstance(sys.stdout, _Tee):
            sys.stdout = current._saved[0]
        if isinstance(sys.stderr, _Tee):
            sys.stderr = current._saved[1]
    current._saved = None


def note_file(path: Path | None, text: str) -> None:
    """The report written to `path` (`--output`, `--sarif-output`), for the verdict."""
    recorder = _active
    if recorder is not None and path is not None:
        recorder.emit(["f", str(path), text], len(text))


def _store(current: Session) -> None:
    recorder = current.recorder
    if recorder is None or current.code not in (0, 1):
        return
    try:
        if recorder.problem is not None or recorder.unaccounted() is not None:
            return
        now = time.time()
        expires = min(recorder.expires, current._begun + LIFETIME)
        if not current._begun <= now < expires:
            return
        # Nothing changed while the run went: the answers cache, and every path it saw.
        generation = _generation(current._cache_dir)
        if generation is None or generation != current._generation:
            return
        database = _database(current._cache_dir)
        if database != current._database:
            return
        for path, digests in recorder.read.items():
            state = recorder.states[path]
            if len(digests) != 1 or state[-1] not in digests:
                return
        paths = {path: _state(path) for path in recorder.states}
        if paths != recorder.states:
            return
        markers = _markers(sorted(paths))
        if any(current._markers.get(p, m) != m for p, m in markers.items()):
            return
        body = {
            "version": VERSION,
            "key": current._key,
            "made": current._begun,
            "expires": expires,
            "generation": generation,
            "database": database,
            "paths": {path: _seal(current._secret, state) for path, state in paths.items()},
            "markers": {path: _seal(current._secret, m) for path, m in markers.items()},
            "events": recorder.events,
            "code": current.code,
        }
        _write_verdict(current._key, current._cache_dir, current._secret, body)
    except Exception:  # a verdict not stored is only a miss later
        return


# --- the store -----------------------------------------------------------------------------


def _name(key: str) -> str:
    return hashlib.sha256(b"reqhash-check verdict name\x00" + key.encode()).hexdigest()[:40]


def _seal(secret: bytes, state: list[Any]) -> str:
    """A path's state as kept in a verdict: keyed, so that a verdict (in a cache folder CI
    may share) holds no digest of what a run looked at (a netrc, a pip configuration, a
    file outside the tree) against which a guess of its content could be tested."""
    text = json.dumps(state, separators=(",", ":")).encode("utf-8", "surrogatepass")
    return hmac.new(secret, b"reqhash-check verdict state\x00" + text, "sha256").hexdigest()


def _mac(secret: bytes, name: str, body: bytes) -> str:
    return hmac.new(secret, _MAC_PREFIX + name.encode() + b"\x00" + body, "sha256").hexdigest()


def _folder(cache_dir: str, create: bool) -> int | None:
    """The verdicts folder, open: a real folder of this user, never through a symlink."""
    path = os.path.join(cache_dir, FOLDER)
    if create:
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass
    try:
        descriptor = os.open(path, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC)
    except OSError:
        return None
    info = os.fstat(descriptor)
    if not stat.S_ISDIR(info.st_mode) or not _own(info) or stat.S_IMODE(info.st_mode) & 0o022:
        os.close(descriptor)
        return None
    return descriptor


def _write_verdict(key: str, cache_dir: str, secret: bytes, body: dict[str, Any]) -> None:
    data = json.dumps(body, separators=(",", ":"), sort_keys=True).encode("utf-8", "surrogatepass")
    name = _name(key)
    text = _mac(secret, name, data).encode() + b"\n" + data
    if len(text) > MAX_VERDICT_BYTES:
        return
    folder = _folder(cache_dir, create=True)
    if folder is None:
        return
    try:
        if not _make_room(folder):
            return
        temporary = f".{name}.{os.getpid()}.{os.urandom(4).hex()}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
        descriptor = os.open(temporary, flags, 0o600, dir_fd=folder)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(text)
            os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
        except BaseException:
            os.unlink(temporary, dir_fd=folder)
            raise
    finally:
        os.close(folder)


def _make_room(folder: int) -> bool:
    """Verdicts older than their longest life are removed; True when there is room."""
    now = time.time()
    count = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
                if now - info.st_mtime > LIFETIME or info.st_mtime > now + 60:
                    os.unlink(entry.name, dir_fd=folder)
                    continue
            except OSError:
                pass
            count += 1
    return count < MAX_VERDICTS


def _load(key: str, cache_dir: str, secret: bytes) -> dict[str, Any] | None:
    """The verdict for `key`, when it is authentic and still true; else None."""
    name = _name(key)
    folder = _folder(cache_dir, create=False)
    if folder is None:
        return None
    try:
        descriptor = os.open(name, os.O_RDONLY | _NOFOLLOW | _NONBLOCK | _CLOEXEC, dir_fd=folder)
    except OSError:
        return None
    finally:
        os.close(folder)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or not _own(info) or info.st_size > MAX_VERDICT_BYTES:
            return None
        with os.fdopen(descriptor, "rb", closefd=False) as handle:
            text = handle.read(MAX_VERDICT_BYTES + 1)
    finally:
        os.close(descriptor)
    mac, newline, data = text.partition(b"\n")
    if not newline or len(text) > MAX_VERDICT_BYTES:
        return None
    if not hmac.compare_digest(mac, _mac(secret, name, data).encode()):
        return None
    body = json.loads(data)
    if not isinstance(body, dict) or body.get("version") != VERSION or body.get("key") != key:
        return None
    now = time.time()
    made, expires = body.get("made"), body.get("expires")
    if not isinstance(made, float) or not isinstance(expires, float):
        return None
    if not made <= now < expires or expires - made > LIFETIME:
        return None
    if body.get("code") not in (0, 1) or not _valid_events(body.get("events")):
        return None
    if body.get("generation") != _generation(cache_dir):
        return None
    if body.get("database") != _database(cache_dir):
        return None
    paths = body.get("paths")
    markers = body.get("markers")
    if not isinstance(paths, dict) or not isinstance(markers, dict):
        return None
    for path, state in paths.items():
        if _seal(secret, _state(path)) != state:
            return None
    for path, state in markers.items():
        if _seal(secret, _state(path, deep=not path.endswith(os.sep + ".git"))) != state:
            return None
    return body


def _valid_events(events: Any) -> bool:
    if not isinstance(events, list):
        return False
    for event in events:
        if not isinstance(event, list) or not all(isinstance(part, str) for part in event):
            return False
        if not (len(event) == 2 and event[0] in ("o", "e") or len(event) == 3 and event[0] == "f"):
            return False
    return True


def _outputs_writable(body: dict[str, Any]) -> bool:
    """Each report file can be written as the check would find it (`cli._open_output`):
    where it could not, the check runs and says why."""
    for event in body["events"]:
        if event[0] != "f":
            continue
        target = Path(event[1])
        folder = target.parent if str(target.parent) else Path(".")
        if not folder.is_dir() or target.is_dir():
            return False
        if target.exists() and not os.access(target, os.W_OK):
            return False
    return True


def _replay(body: dict[str, Any], write: Callable[[Path | None, str], None]) -> int:
    for event in body["events"]:
        if event[0] == "o":
            sys.stdout.write(event[1])
        elif event[0] == "e":
            sys.stderr.write(event[1])
        else:
            write(Path(event[1]), event[2])
    code: int = body["code"]
    return code
