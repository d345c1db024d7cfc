"""The one confined file layer: every read and write of a checked tree goes through here.

A path is resolved component by component under its root (the repository), from an open
handle on each folder, never by name from the top again: a symlink is followed only while
it stays inside the root, nothing under `.git/` is opened, and only regular files are read
(no FIFO, device or folder; each is opened non-blocking and checked on the open handle).
What was checked is what is read: the file is opened once and read from that handle.

Writes replace a file atomically (a temporary file in the same folder, then a rename), keep
its mode, and never leave the root, whatever `allow_outside` says: that flag lets reads
follow a path out of the root (`--allow-outside-includes`, for what the command line
trusts), still regular files only and still never `.git/`.

Where the platform cannot open relative to a folder handle (Windows), the same rules are
checked on the resolved path before the open, and the opened handle is checked again.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from reqhash_check import watch

MAX_SYMLINKS = 40
"""Symlinks followed while resolving one path (the kernel's own limit)."""

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_READ = os.O_RDONLY | _CLOEXEC | _NOFOLLOW | _NONBLOCK | getattr(os, "O_BINARY", 0)
_CONFINED = (
    os.open in os.supports_dir_fd
    and os.stat in os.supports_dir_fd
    and os.readlink in os.supports_dir_fd
    and os.unlink in os.supports_dir_fd
    and bool(_NOFOLLOW)
    and bool(_DIRECTORY)
)


class Refused(Exception):
    """A path this layer will not read or write. `reason` names why, quoting nothing the
    file holds: "does not exist", "is not a regular file", "is a directory",
    "outside the repository", "under .git/", "cannot be read (…)"."""

    def __init__(self, reason: str, *, confinement: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.confinement = confinement
        """True when the path leaves the root or enters `.git/`."""


class Changed(Exception):
    """The file no longer holds what it held when it was read."""


class ReadOnly(Exception):
    """The file may not be written by this user."""


@dataclass(frozen=True)
class Root:
    """Where paths may lead: a folder (resolved once, it is the user's own) and whether
    reads may leave it (`--allow-outside-includes`)."""

    path: str
    allow_outside: bool = False

    @classmethod
    def at(cls, folder: str | Path, *, allow_outside: bool = False) -> Root:
        return cls(os.path.realpath(folder), allow_outside)

    @property
    def name(self) -> str:
        """How messages call it."""
        if os.path.lexists(os.path.join(self.path, ".git")):
            return "the repository"
        return "the current folder"

    def outside(self) -> Refused:
        return Refused(f"outside {self.name}", confinement=True)


def repository_root(path: str | Path, cwd: str | None = None) -> str:
    """The root of a file named on the command line: the git work tree holding it (the
    nearest folder with a `.git`), else the current folder when the file is in it, else
    the file's own folder.

    A file whose path, as written, lies in the current folder's repository (or the current
    folder) has that root: a symlinked folder on the way (`reqs -> /elsewhere`, even to
    another git work tree) does not move it. Only a path named outside it is looked up
    from the file's own folder."""
    here = os.path.abspath(cwd if cwd is not None else os.getcwd())
    folder = os.path.dirname(os.path.normpath(os.path.join(here, str(path))))
    home = _git_tree(here) or here
    if folder == home or folder.startswith(home.rstrip(os.sep) + os.sep):
        return os.path.realpath(home)
    return os.path.realpath(_git_tree(folder) or folder)


def _git_tree(folder: str) -> str | None:
    """The nearest folder at or above `folder` with a `.git`."""
    while True:
        if os.path.lexists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def current_root(*, allow_outside: bool = False) -> Root:
    """The root of the current folder (its git work tree, else the folder itself)."""
    return Root.at(repository_root("-"), allow_outside=allow_outside)


def trusted_root(path: str | Path, *, allow_outside: bool = False) -> Root:
    """The root for a location the command line or pip's configuration names: inside the
    current repository it is confined to it like the repository's own files (its content is
    the repository's), elsewhere it is read as given (still regular files only)."""
    here = current_root()
    inside = kind(here, path) != "refused"
    return Root(here.path, allow_outside=allow_outside or not inside)


def is_git_name(name: str) -> bool:
    return name.rstrip(". ").casefold() == ".git"


# --- resolving ------------------------------------------------------------------------------


@dataclass
class _Place:
    """A resolved path: the open folder holding it, its name there and what it is (not a
    symlink). `outside` is set instead when the path left the root and that is allowed."""

    folder: int | None
    name: str
    status: os.stat_result | None
    outside: str | None = None


def _relative_to_root(root: Root, path: str) -> list[str] | None:
    """The components of absolute `path` below the root, or None when no leading part of
    it is the root folder. Leading parts are compared by what they are (device, inode), so
    `/tmp/x` and `/private/tmp/x` name the same root; the rest is walked by `_walk`."""
    try:
        root_status = os.stat(root.path)
    except OSError:
        return None
    parts = [p for p in path.split(os.sep) if p]
    lead = os.sep if path.startswith(os.sep) else ""
    if os.altsep:
        parts = [q for p in parts for q in p.split(os.altsep) if q]
    for count in range(len(parts) + 1):
        prefix = lead + os.sep.join(parts[:count]) if count else (lead or os.curdir)
        if prefix.endswith(":"):  # a bare Windows drive
            prefix += os.sep
        try:
            if os.path.samestat(os.stat(prefix), root_status):
                return parts[count:]
        except OSError:
            return None
    return None


def _absolute(path: str | Path, cwd: str | None) -> str:
    text = os.fspath(path)
    if os.path.isabs(text):
        return text
    return os.path.join(os.path.abspath(cwd if cwd is not None else os.getcwd()), text)


@contextmanager
def _resolved(root: Root, path: str | Path, *, cwd: str | None, writing: bool) -> Iterator[_Place]:
    """The place `path` leads to under `root`, with its folder held open until the block
    ends. Raises Refused."""
    if "\x00" in str(path):
        raise Refused("names a path holding a NUL character, which no file name can hold")
    full = _absolute(path, cwd)
    if not _CONFINED:
        yield _resolved_by_name(root, full, writing=writing)
        return
    parts = _relative_to_root(root, full)
    if parts is None:
        place = _escaped(root, full, writing=writing)
        yield place
        return
    if any(is_git_name(p) for p in os.path.normpath(os.sep.join(["", *parts])).split(os.sep)):
        raise Refused("under .git/", confinement=True)
    try:
        folders = [os.open(root.path, os.O_RDONLY | _DIRECTORY | _CLOEXEC)]
    except OSError as exc:
        raise Refused(f"cannot be read ({exc.strerror})") from None
    try:
        yield _walk(root, folders, parts, writing=writing)
    finally:
        for descriptor in folders:
            os.close(descriptor)


def _walk(root: Root, folders: list[int], parts: list[str], *, writing: bool) -> _Place:
    """Follow `parts` from the root folder (`folders[0]`), one open folder at a time;
    `folders` is the chain of open folders, closed by the caller."""
    pending = list(reversed(parts))
    links = 0
    while pending:
        name = pending.pop()
        if name in ("", "."):
            continue
        if name == "..":
            if len(folders) == 1:
                rest = os.path.join(os.path.dirname(root.path), *reversed(pending))
                return _escaped(root, rest, writing=writing)
            os.close(folders.pop())
            continue
        if is_git_name(name):
            raise Refused("under .git/", confinement=True)
        try:
            status = os.stat(name, dir_fd=folders[-1], follow_symlinks=False)
        except FileNotFoundError:
            raise Refused("does not exist") from None
        except OSError as exc:
            raise Refused(f"cannot be read ({exc.strerror})") from None
        if stat.S_ISLNK(status.st_mode):
            links += 1
            if links > MAX_SYMLINKS:
                raise Refused("cannot be read (too many levels of symbolic links)")
            try:
                target = os.readlink(name, dir_fd=folders[-1])
            except OSError as exc:
                raise Refused(f"cannot be read ({exc.strerror})") from None
            if os.path.isabs(target):
                below = _relative_to_root(root, target)
                if below is None:
                    rest = os.path.join(target, *reversed(pending))
                    return _escaped(root, rest, writing=writing)
                while len(folders) > 1:
                    os.close(folders.pop())
                pending.extend(reversed(below))
            else:
                pending.extend(reversed([p for p in target.split(os.sep) if p]))
            continue
        if not pending:
            return _Place(folders[-1], name, status)
        if not stat.S_ISDIR(status.st_mode):
            raise Refused("does not exist")
        try:
            descriptor = os.open(
                name, os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=folders[-1]
            )
        except OSError as exc:
            raise Refused(f"cannot be read ({exc.strerror})") from None
        folders.append(descriptor)
        if not os.path.samestat(os.fstat(descriptor), status):
            raise Refused("cannot be read (it changed while it was opened)")
    # The path named the root folder itself.
    return _Place(None, root.path, os.stat(root.path))


def _escaped(root: Root, path: str, *, writing: bool) -> _Place:
    """A path that left the root: refused, unless reads may leave it. Then it is taken by
    its resolved name, and a resolved name back inside the root is still never under `.git/`."""
    if writing or not root.allow_outside:
        raise root.outside()
    real = os.path.realpath(path)
    inside = real == root.path or real.startswith(root.path.rstrip(os.sep) + os.sep)
    if inside:
        relative = os.path.relpath(real, root.path)
        if any(is_git_name(p) for p in relative.split(os.sep)):
            raise Refused("under .git/", confinement=True)
    try:
        status = os.stat(real, follow_symlinks=False)
    except FileNotFoundError:
        raise Refused("does not exist") from None
    except OSError as exc:
        raise Refused(f"cannot be read ({exc.strerror})") from None
    return _Place(None, real, status, outside=real)


def _resolved_by_name(root: Root, full: str, *, writing: bool) -> _Place:
    """The same rules where folders cannot be opened as handles: checked on the resolved
    path, then on the opened handle by the caller."""
    real = os.path.realpath(full)
    inside = real == root.path or real.startswith(root.path.rstrip(os.sep) + os.sep)
    if not inside and (writing or not root.allow_outside):
        raise root.outside()
    relative = os.path.relpath(real, root.path) if inside else ""
    if any(is_git_name(p) for p in relative.split(os.sep)):
        raise Refused("under .git/", confinement=True)
    try:
        status = os.stat(real)
    except FileNotFoundError:
        raise Refused("does not exist") from None
    except OSError as exc:
        raise Refused(f"cannot be read ({exc.strerror})") from None
    return _Place(None, real, status, outside=real)


def _open_regular(place: _Place) -> int:
    """Open the resolved file for reading, and check the handle is the regular file that
    was resolved (no FIFO, device or folder; nothing swapped in between)."""
    if place.status is None or stat.S_ISDIR(place.status.st_mode):
        raise Refused("is a directory")
    if not stat.S_ISREG(place.status.st_mode):
        raise Refused("is not a regular file")
    flags = _READ if place.outside is None else _READ & ~_NOFOLLOW
    try:
        if place.folder is None:
            descriptor = os.open(place.outside or place.name, flags)
        else:
            descriptor = os.open(place.name, flags, dir_fd=place.folder)
    except OSError as exc:
        raise Refused(f"cannot be read ({exc.strerror})") from None
    opened = os.fstat(descriptor)
    if not stat.S_ISREG(opened.st_mode) or not os.path.samestat(opened, place.status):
        os.close(descriptor)
        raise Refused("is not a regular file")
    return descriptor


# --- reading --------------------------------------------------------------------------------


@contextmanager
def open_file(root: Root, path: str | Path, *, cwd: str | None = None) -> Iterator[BinaryIO]:
    """The regular file `path` leads to under `root`, open for reading. Raises Refused."""
    watch.path(path, cwd=cwd)
    with _resolved(root, path, cwd=cwd, writing=False) as place:
        descriptor = _open_regular(place)
    with os.fdopen(descriptor, "rb") as handle:
        yield handle


def read_bytes(root: Root, path: str | Path, limit: int, *, cwd: str | None = None) -> bytes:
    """At most `limit + 1` bytes of the file (one more than the cap, so the caller can say
    it is over). Raises Refused."""
    with open_file(root, path, cwd=cwd) as handle:
        chunks = []
        size = 0
        while size <= limit:
            chunk = handle.read(min(1024 * 1024, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    data = b"".join(chunks)
    watch.path(path, data, cwd=cwd)
    return data


def kind(root: Root, path: str | Path, *, cwd: str | None = None) -> str:
    """ "file", "folder", "other" (a FIFO, device…), "missing", or "refused" (outside the
    root or under `.git/`)."""
    watch.path(path, cwd=cwd)
    try:
        with _resolved(root, path, cwd=cwd, writing=False) as place:
            status = place.status
    except Refused as refused:
        return "refused" if refused.confinement else "missing"
    if status is None or stat.S_ISDIR(status.st_mode):
        return "folder"
    if stat.S_ISLNK(status.st_mode):  # left the root by name, allowed, and dangling
        return "missing"
    return "file" if stat.S_ISREG(status.st_mode) else "other"


def list_folder(root: Root, path: str | Path, limit: int, *, cwd: str | None = None) -> list[str]:
    """The names in a folder, at most `limit`, sorted. Raises Refused. Entries are only
    named: each is resolved again under the root when it is read."""
    watch.path(path, cwd=cwd)
    with _resolved(root, path, cwd=cwd, writing=False) as place:
        if place.status is not None and not stat.S_ISDIR(place.status.st_mode):
            raise Refused("is not a directory")
        target: int | str
        try:
            if place.outside is not None:
                target = place.outside
            elif place.folder is None:
                target = os.open(root.path, os.O_RDONLY | _DIRECTORY | _CLOEXEC)
            else:
                flags = os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC
                target = os.open(place.name, flags, dir_fd=place.folder)
        except OSError as exc:
            raise Refused(f"cannot be read ({exc.strerror})") from None
        names: list[str] = []
        try:
            with os.scandir(target) as entries:
                for entry in entries:
                    if len(names) >= limit:
                        break
                    names.append(entry.name)
        except OSError as exc:
            raise Refused(f"cannot be read ({exc.strerror})") from None
        finally:
            if isinstance(target, int):
                os.close(target)
    return sorted(names)


# --- writing --------------------------------------------------------------------------------


def replace_bytes(root: Root, path: str | Path, new: bytes, expected: bytes) -> None:
    """Replace the file `path` leads to under `root` with `new`, atomically, if it still
    holds `expected`. A symlink inside the root is written through (the link stays); one
    leading out, anything under `.git/`, a file that is not regular or is read-only is not
    written. The new file keeps the mode and, where allowed, the owner of the old one.
    Raises Refused, ReadOnly or Changed; on any failure the file is left as it was."""
    strict = Root(root.path, allow_outside=False)
    with _resolved(strict, path, cwd=None, writing=True) as place:
        if place.folder is None:
            _replace_by_name(place, new, expected)
            return
        descriptor = _open_regular(place)
        with os.fdopen(descriptor, "rb") as handle:
            current = handle.read(len(expected) + 1)
            status = os.fstat(handle.fileno())
        _writable(status, place)
        if current != expected:
            raise Changed("changed on disk since it was read")
        _write_beside(place.folder, place.name, new, status)


def _writable(status: os.stat_result, place: _Place) -> None:
    if not status.st_mode & stat.S_IWUSR:
        raise ReadOnly("read-only")
    if place.folder is not None and os.access in os.supports_dir_fd:
        allowed = os.access(place.name, os.W_OK, dir_fd=place.folder)
    else:
        allowed = os.access(place.outside or place.name, os.W_OK)
    if not allowed:
        raise ReadOnly("read-only")


def _write_beside(folder: int, name: str, new: bytes, status: os.stat_result) -> None:
    temp = f".{name}.{os.urandom(6).hex()}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC
    descriptor = os.open(temp, flags, 0o600, dir_fd=folder)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(new)
            handle.flush()
            os.fchmod(handle.fileno(), stat.S_IMODE(status.st_mode))
            try:
                os.fchown(handle.fileno(), status.st_uid, status.st_gid)
            except OSError:
                pass  # not ours to give away; the mode is what matters
            os.fsync(handle.fileno())
        os.replace(temp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except BaseException:
        try:
            os.unlink(temp, dir_fd=folder)
        except OSError:
            pass
        raise
    try:
        os.fsync(folder)
    except OSError:
        pass


def _replace_by_name(place: _Place, new: bytes, expected: bytes) -> None:
    """The write where folders cannot be held open (checked by resolved name)."""
    import tempfile

    target = Path(place.outside or place.name)
    descriptor = _open_regular(place)
    with os.fdopen(descriptor, "rb") as handle:
        current = handle.read(len(expected) + 1)
        status = os.fstat(handle.fileno())
    _writable(status, place)
    if current != expected:
        raise Changed("changed on disk since it was read")
    descriptor, temp_name = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".tmp", dir=target.parent
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(new)
            handle.flush()
            os.chmod(temp_name, stat.S_IMODE(status.st_mode))
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except BaseException:
        try:
            os.unlink(temp_name)
        except OSError:
            pass
        raise


def open_private(path: str | Path) -> None:
    """Create (or open) a file of the user's own, such as the cache, without following a
    symlink in its place, and make it readable and writable by its owner only. Raises
    OSError when something other than a regular file is there."""
    flags = os.O_CREAT | os.O_RDWR | _NOFOLLOW | _NONBLOCK | _CLOEXEC
    descriptor = os.open(path, flags, 0o600)
    try:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            raise OSError(f"{path}: not a regular file")
        if hasattr(os, "fchmod"):
            os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)


__all__ = [
    "Changed",
    "ReadOnly",
    "Refused",
    "Root",
    "current_root",
    "is_git_name",
    "kind",
    "list_folder",
    "open_file",
    "open_private",
    "read_bytes",
    "replace_bytes",
    "repository_root",
    "trusted_root",
]
