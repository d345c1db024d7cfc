"""The confined file layer through the command line: symlinks and local links that lead out
of the repository (or into `.git/`) are neither read nor written, whatever names them."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from reqhash_check import fs
from tests.fakeindex import FakeIndex
from tests.hostile import WHEEL_SHA, HostileIndex
from tests.lockproject import Published, mutate, publish, write_uv_style
from tests.security.conftest import FORMATS, SECRET, Run, pinned, run

OFFLINE = "--select=parse-error,include-error,missing-hash,invalid-hash,unhashable,duplicate"
PRIVATE = b"private bytes outside the repository"
PRIVATE_SHA = hashlib.sha256(PRIVATE).hexdigest()
STALE = "cd" * 32
OTHER = "demo-1.0-py2.py3-none-any.whl"
"""A file of the pinned release the index does not list: only a local source offers it."""


@pytest.fixture(scope="module")
def project() -> Iterator[Published]:
    index = FakeIndex().start()
    try:
        yield publish(index)
    finally:
        index.close()


def _in_time(capsys: pytest.CaptureFixture[str], *argv: str, seconds: float = 30) -> Run:
    """The run, which must end within `seconds` (a read of /dev/zero would not)."""
    done: list[Run] = []
    worker = threading.Thread(target=lambda: done.append(run(capsys, *argv)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert done, f"the run did not end within {seconds} s"
    return done[0]


def _outside_wheels(tmp_path: Path) -> tuple[Path, Path]:
    """An outside wheel of private bytes, and an outside "wheel" that is /dev/zero."""
    private = tmp_path / "private" / OTHER
    private.parent.mkdir()
    private.write_bytes(PRIVATE)
    endless = tmp_path / "endless" / OTHER
    endless.parent.mkdir()
    endless.symlink_to("/dev/zero")
    return private, endless


# --- discovery and named files -------------------------------------------------------------


def test_discovery_refuses_a_requirements_file_linked_into_git_and_quotes_none_of_it(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-reads-outside (discovery). `requirements-ci.txt -> .git/config`, found
    with no FILE given (or named), is refused by name: not read, nothing of it quoted."""
    (repo / "requirements.txt").write_text(pinned())
    (repo / "requirements-ci.txt").symlink_to(".git/config")
    for argv in ((), ("requirements-ci.txt",)):
        for fmt in FORMATS:
            result = run(capsys, OFFLINE, "--format", fmt, *argv)
            assert SECRET not in result.out + result.err, fmt
            assert "x-access-token" not in result.out + result.err, fmt
            assert result.code == 2, (fmt, result.out + result.err)
            assert "requirements-ci.txt: resolves under .git/; not read" in result.err
            assert "Traceback" not in result.err


def test_discovery_refuses_a_requirements_folder_leading_out(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-reads-outside (discovery). A `requirements/` folder that is a symlink out
    of the repository is not listed: one line, exit 2."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "base.txt").write_text(f"six==1.0 --hash=sha256:{SECRET}\n")
    (repo / "requirements").symlink_to(outside)
    result = run(capsys, OFFLINE)
    assert result.code == 2
    assert result.err.strip().endswith(
        "error: requirements: resolves outside the repository; not read"
    )
    assert SECRET not in result.out + result.err and "base.txt" not in result.out + result.err


def test_a_named_file_linked_out_of_the_repository_is_read_only_when_allowed(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-reads-outside. A file named on the command line that is a symlink out
    of the repository is not read; `--allow-outside-includes` reads it."""
    outside = tmp_path / "outside.txt"
    outside.write_text(f"{SECRET}==1.0 --hash=sha256:zz\n")
    (repo / "r.txt").symlink_to(outside)
    result = run(capsys, OFFLINE, "r.txt")
    assert result.code == 2
    assert "r.txt: resolves outside the repository; not read" in result.err
    assert SECRET not in result.out + result.err
    result = run(capsys, OFFLINE, "--allow-outside-includes", "r.txt")
    assert result.code == 1 and "invalid-hash" in result.out


@pytest.mark.parametrize("target", [".git/config", "/dev/zero", "fifo"])
def test_a_pyproject_that_is_not_a_regular_file_of_the_repository_is_not_read(
    repo: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    """Promise: no-reads-outside (configuration). `pyproject.toml` linked into `.git/`, to
    a device or to a FIFO: refused by name in one line, exit 2, nothing quoted, no hang."""
    os.mkfifo(repo / "fifo")
    (repo / "pyproject.toml").symlink_to(target)
    (repo / "r.txt").write_text(pinned())
    result = _in_time(capsys, OFFLINE, "r.txt", seconds=10)
    assert result.code == 2
    assert "pyproject.toml: cannot read: " in result.err and result.err.count("\n") == 1
    assert SECRET not in result.out + result.err


# --- --fix through a folder symlink --------------------------------------------------------


def test_fix_through_a_folder_symlink_leaving_the_repository_writes_nothing_outside(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    project: Published,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Promise: no-writes-outside. `reqs -> /outside` (another git work tree): neither the
    requirements file nor the lock file behind it is written (nor read, unless allowed;
    then still not written)."""
    outside = tmp_path / "outside"
    (outside / ".git").mkdir(parents=True)
    requirements = outside / "requirements.txt"
    requirements.write_text(pinned(digest=STALE))
    lock = outside / "pylock.toml"
    lock_text = mutate(write_uv_style(project), "other-platform-hash", project)
    lock.write_bytes(lock_text.encode())
    (repo / "reqs").symlink_to(outside)
    before = sorted(p.name for p in outside.iterdir())
    lock_args = ("--index-url", project.index.simple_url, "--target", "macos-arm64-11-cp312")
    req_args = ("--index-url", hostile.simple_url)
    for args, name in ((req_args, "reqs/requirements.txt"), (lock_args, "reqs/pylock.toml")):
        result = run(capsys, *args, "--fix", name)
        assert result.code == 2, result.out + result.err
        assert f"{name}: resolves outside the repository; not read" in result.err
        result = run(capsys, *args, "--allow-outside-includes", "--fix", name)
        assert result.code in (0, 1), result.out + result.err  # read, checked
        assert f"not fixed: {name}: resolves outside the repository" in result.err
    assert requirements.read_text() == pinned(digest=STALE)
    assert lock.read_bytes() == lock_text.encode()
    assert sorted(p.name for p in outside.iterdir()) == before


def test_fix_writes_through_a_folder_symlink_inside_the_repository(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """The counterpart: a symlinked folder that stays inside the repository is fine."""
    (repo / "real").mkdir()
    (repo / "real" / "r.txt").write_text(pinned(digest=STALE))
    (repo / "reqs").symlink_to("real")
    result = run(capsys, "--index-url", hostile.simple_url, "--fix", "reqs/r.txt")
    assert result.code == 0, result.out + result.err
    assert (repo / "reqs").is_symlink()
    assert WHEEL_SHA in (repo / "real" / "r.txt").read_text()


# --- find-links: folders, pages in the repository, pages from a server ---------------------


def _outputs_and_fix(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    """Every format's output, then the file --fix writes: all that could carry a digest."""
    texts = []
    for fmt in FORMATS:
        result = _in_time(capsys, *argv[:-1], "--format", fmt, argv[-1])
        assert "Traceback" not in result.err
        texts.append(result.out + result.err)
    result = _in_time(capsys, *argv[:-1], "--fix", argv[-1])
    texts.append(result.out + result.err)
    return "\n".join(texts)


def test_a_find_links_folder_with_a_symlink_out_hashes_nothing_outside(
    repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-reads-outside (find-links). A wheel in a find-links folder of the
    repository that is a symlink to a file outside is not hashed; its digest is printed and
    written nowhere."""
    private, _ = _outside_wheels(tmp_path)
    (repo / "wheels").mkdir()
    (repo / "wheels" / OTHER).symlink_to(private)
    (repo / "r.txt").write_text(f"--find-links {repo / 'wheels'}\n" + pinned(digest=STALE))
    text = _outputs_and_fix(capsys, "--index-url", hostile.simple_url, "r.txt")
    assert PRIVATE_SHA not in text + (repo / "r.txt").read_text()
    # Named on the command line, the folder is still the repository's: the same holds.
    (repo / "r.txt").write_text(pinned(digest=STALE))
    argv = ("--index-url", hostile.simple_url, "--find-links", "wheels", "r.txt")
    text = _outputs_and_fix(capsys, *argv)
    assert PRIVATE_SHA not in text + (repo / "r.txt").read_text()


def test_a_relative_find_links_folder_inside_the_repository_is_read(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The counterpart: `--find-links wheels` in a file, a folder of the repository (made
    absolute beside the file, as pip does, which is no environment variable), is read."""
    (repo / "wheels").mkdir()
    (repo / "wheels" / OTHER).write_bytes(PRIVATE)
    (repo / "r.txt").write_text("--find-links wheels\n" + pinned(digest=PRIVATE_SHA))
    result = run(capsys, "--no-index", "r.txt")
    assert result.code == 0, result.out + result.err


def test_a_find_links_page_in_the_repository_hashes_nothing_outside(
    repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-reads-outside (find-links). A page in the repository linking to
    `file://` files outside it (one of them /dev/zero): none is read, the run ends."""
    private, endless = _outside_wheels(tmp_path)
    links = "".join(
        f'<a href="file://{target}">{OTHER}</a>\n' for target in (private, endless, "/dev/zero")
    )
    (repo / "links.html").write_text(f"<html><body>\n{links}</body></html>\n")
    (repo / "r.txt").write_text(f"--find-links {repo / 'links.html'}\n" + pinned(digest=STALE))
    text = _outputs_and_fix(capsys, "--index-url", hostile.simple_url, "r.txt")
    assert PRIVATE_SHA not in text + (repo / "r.txt").read_text()


def test_a_file_index_in_the_repository_hashes_nothing_outside(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-reads-outside (`file://` indexes). A simple index on disk in the
    repository whose project folder is a symlink out of it: nothing there is read."""
    private, _ = _outside_wheels(tmp_path)
    (repo / "simple").mkdir()
    (repo / "simple" / "demo").symlink_to(private.parent)
    (repo / "r.txt").write_text(f"--index-url file://{repo / 'simple'}\n" + pinned(digest=STALE))
    text = _outputs_and_fix(capsys, "r.txt")
    assert PRIVATE_SHA not in text + (repo / "r.txt").read_text()
    assert "outside the repository" in text


def test_a_file_index_named_on_the_command_line_is_read_where_it_is(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The counterpart: the command line is trusted, so a `file://` index it names outside
    the repository is read (regular files only)."""
    private, _ = _outside_wheels(tmp_path)
    (tmp_path / "simple").mkdir()
    (tmp_path / "simple" / "demo").symlink_to(private.parent)
    (repo / "r.txt").write_text(pinned(digest=PRIVATE_SHA))
    result = run(capsys, "--index-url", f"file://{tmp_path / 'simple'}", "r.txt")
    assert result.code == 0, result.out + result.err


class _Page(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    body = b""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)


@pytest.fixture
def page_server() -> Iterator[tuple[str, type[_Page]]]:
    handler = type("Page", (_Page,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/links.html", handler
    finally:
        server.shutdown()
        server.server_close()


def test_a_remote_find_links_page_never_names_a_local_file(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    page_server: tuple[str, type[_Page]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Promise: no-reads-outside (remote pages). A find-links page from a server listing
    `file:///<outside file>` and `file:///dev/zero`: neither is read, the run ends in time,
    and the outside file's digest is printed and written nowhere."""
    url, handler = page_server
    private, endless = _outside_wheels(tmp_path)
    links = "".join(
        f'<a href="file://{target}">{OTHER}</a>\n' for target in (private, endless, "/dev/zero")
    )
    handler.body = f"<html><body>\n{links}</body></html>\n".encode()
    (repo / "r.txt").write_text(pinned(digest=STALE))
    argv = ("--index-url", hostile.simple_url, "--find-links", url, "r.txt")
    text = _outputs_and_fix(capsys, *argv)
    assert PRIVATE_SHA not in text + (repo / "r.txt").read_text()
    assert WHEEL_SHA in (repo / "r.txt").read_text()  # the index's own file still counts


# --- the layer itself ----------------------------------------------------------------------


def test_the_layer_follows_symlinks_only_inside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "config").write_text(SECRET)
    (root / "a").mkdir()
    (root / "a" / "f.txt").write_text("inside")
    (tmp_path / "out.txt").write_text(SECRET)
    os.mkfifo(root / "fifo")
    (root / "in").symlink_to("a/f.txt")
    (root / "abs").symlink_to(root / "a" / "f.txt")
    (root / "up").symlink_to("../out.txt")
    (root / "git").symlink_to(".git")
    (root / "loop").symlink_to("loop")
    (root / "dir").symlink_to(tmp_path)
    strict = fs.Root.at(root)
    assert fs.read_bytes(strict, root / "in", 100) == b"inside"
    assert fs.read_bytes(strict, root / "abs", 100) == b"inside"
    assert fs.read_bytes(strict, "a/../in", 100, cwd=str(root)) == b"inside"
    refused = {
        "up": "outside the repository",
        "git/config": "under .git/",
        ".GIT/config": "under .git/",
        "dir/out.txt": "outside the repository",
        "a/../../out.txt": "outside the repository",
        "fifo": "is not a regular file",
        "a": "is a directory",
        "missing": "does not exist",
    }
    for name, reason in refused.items():
        with pytest.raises(fs.Refused, match=reason.replace(".", r"\.")):
            fs.read_bytes(strict, root / name, 100)
    with pytest.raises(fs.Refused, match="too many levels"):
        fs.read_bytes(strict, root / "loop", 100)
    allowed = fs.Root.at(root, allow_outside=True)
    assert fs.read_bytes(allowed, root / "up", 100) == SECRET.encode()
    with pytest.raises(fs.Refused, match="under .git/"):
        fs.read_bytes(allowed, tmp_path / "root" / "git" / "config", 100)
    with pytest.raises(fs.Refused, match="outside the repository"):
        fs.replace_bytes(allowed, root / "up", b"new", SECRET.encode())
    assert (tmp_path / "out.txt").read_text() == SECRET


def test_the_cache_file_is_never_a_symlink(
    repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-writes-outside (the cache). A symlink where the cache file goes (a
    restored CI cache can hold one) is not followed: its target keeps its bytes and mode."""
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"not ours")
    victim.chmod(0o644)
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "index-cache.sqlite3").symlink_to(victim)
    (repo / "r.txt").write_text(pinned())
    result = run(capsys, "--index-url", hostile.simple_url, "r.txt")
    assert result.code == 0, result.out + result.err
    assert victim.read_bytes() == b"not ours"
    assert victim.stat().st_mode & 0o777 == 0o644
