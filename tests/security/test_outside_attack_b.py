"""An outside attacker's cases against the trust boundary, through the real command line:
the cache believed, `--fix` writing what it cannot stand behind, credentials travelling,
archives that lie, and logs made to hurt `explain`.

Each test names the promise of docs/security.md it holds.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import sqlite3
import struct
import tarfile
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from reqhash_check.index.cache import ReleaseCache
from tests.hostile import WHEEL, WHEEL_SHA, HostileIndex, _Handler, good_file, page
from tests.security.conftest import FORMATS, SECRET, Run, pinned, run
from tests.security.test_archive_bombs import MAX_GROWTH_MB, _run_child, _unknown
from tests.wheelfactory import BuiltFile, RawMember, raw_member, zip_archive

STALE = "ef" * 32
FORGED = "ab" * 32
CACHE = "index-cache.sqlite3"


def check(capsys: pytest.CaptureFixture[str], index: HostileIndex, *extra: str) -> Run:
    return run(capsys, "--index-url", index.simple_url, "--timeout", "5", *extra, "r.txt")


def _no_traceback(result: Run) -> None:
    assert "Traceback" not in result.out + result.err
    assert "internal error" not in result.out + result.err


# --- 4. the cache is believed ---------------------------------------------------------------


@pytest.mark.skipif(os.name == "nt", reason="POSIX FIFOs and symlinks")
@pytest.mark.parametrize("kind", ["fifo", "symlink-to-attacker-key", "dangling-symlink"])
def test_a_key_file_that_is_a_fifo_or_symlink_is_not_used(
    kind: str,
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Promise: cache-checked. A key file swapped for a FIFO (no hang) or a symlink (to a
    private file holding the attacker's key) is not used; rows signed with that key are
    misses, and the run says so once."""
    key_file = Path(os.environ["REQHASH_CHECK_CACHE_KEY_FILE"])
    key_file.parent.mkdir(parents=True, exist_ok=True)
    attacker = tmp_path / "attacker.key"
    attacker.write_text("22" * 32 + "\n")
    attacker.chmod(0o600)
    if kind == "fifo":
        os.mkfifo(key_file, 0o600)
    elif kind == "symlink-to-attacker-key":
        key_file.symlink_to(attacker)
    else:
        key_file.symlink_to(tmp_path / "nowhere" / "cache.key")
    (repo / "r.txt").write_text(pinned(digest=STALE))
    started = time.monotonic()
    first = check(capsys, hostile)
    assert time.monotonic() - started < 30
    _no_traceback(first)
    assert first.code == 1 and "stale-hash" in first.out
    assert first.err.count("warning") == 1 and "cache key" in first.err
    _forge(tmp_path, STALE, key=b"\x22" * 32)
    again = check(capsys, hostile)
    assert again.code == 1 and "stale-hash" in again.out, again.out + again.err
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_a_key_file_its_group_can_read_is_not_used(
    repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: cache-checked. A key file others can only read (0640) is refused as well:
    whoever reads it can sign rows."""
    key_file = Path(os.environ["REQHASH_CHECK_CACHE_KEY_FILE"])
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text("33" * 32 + "\n")
    key_file.chmod(0o640)
    (repo / "r.txt").write_text(pinned(digest=STALE))
    assert check(capsys, hostile).code == 1
    _forge(tmp_path, STALE, key=b"\x33" * 32)
    result = check(capsys, hostile)
    assert result.code == 1 and "stale-hash" in result.out


def _forge(tmp_path: Path, digest: str, *, key: bytes, **changes: str) -> int:
    """Every row rewritten, well formed and signed with `key`, claiming `digest`; `changes`
    replace key columns (index_url, project)."""
    path = tmp_path / "cache" / CACHE
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT index_url, kind, project, version, payload, document FROM answers"
        ).fetchall()
    conn.close()
    forger = ReleaseCache(path, key=key)
    for index_url, kind, project, version, payload, document in rows:
        text = payload.replace(WHEEL_SHA, digest)
        forger.put(
            changes.get("index_url", index_url),
            kind,
            changes.get("project", project),
            version,
            json.loads(text),
            document=document,
        )
    forger.close()
    return len(rows)


def test_a_row_replayed_under_another_index_url_is_a_miss(
    repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: cache-checked. A row the user's own run wrote for another index (which does
    publish the hash), copied under this index's key columns with its MAC, is a miss: the
    MAC covers the key columns."""
    other_bytes = b"another build"
    other_sha = hashlib.sha256(other_bytes).hexdigest()
    (repo / "r.txt").write_text(pinned(digest=other_sha))
    with HostileIndex() as other:
        other.behaviour = "files"
        other.files = {WHEEL: other_bytes}
        assert check(capsys, other).code == 0
        other_url = other.simple_url
    path = tmp_path / "cache" / CACHE
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE answers SET index_url = replace(index_url, ?, ?)",
                     (other_url.rstrip("/"), hostile.simple_url.rstrip("/")))  # fmt: skip
    conn.close()
    for fmt in FORMATS:
        result = check(capsys, hostile, "--format", fmt)
        assert result.code == 1, (fmt, result.out + result.err)
    fixed = check(capsys, hostile, "--fix")
    _no_traceback(fixed)
    text = (repo / "r.txt").read_text()
    assert WHEEL_SHA in text and other_sha not in text


@pytest.mark.skipif(os.name == "nt", reason="POSIX FIFOs and symlinks")
@pytest.mark.parametrize("kind", ["fifo", "directory", "garbage", "huge-sparse", "shm-symlink"])
def test_a_cache_file_that_is_not_a_database_of_ours_is_never_believed(
    kind: str,
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Promise: cache-checked. Whatever stands where the cache file should be (a FIFO, a
    folder, garbage, a huge sparse file, a -shm symlink), the run does not hang, does not
    crash, does not follow it, and still says stale-hash."""
    folder = tmp_path / "cache"
    folder.mkdir()
    path = folder / CACHE
    outside = tmp_path / "outside"
    outside.mkdir()
    if kind == "fifo":
        os.mkfifo(path, 0o600)
    elif kind == "directory":
        path.mkdir()
        (path / "x").write_text("x")
    elif kind == "garbage":
        path.write_bytes(b"SQLite format 3\x00" + os.urandom(8192))
    elif kind == "huge-sparse":
        with path.open("wb") as handle:
            handle.truncate(8 << 30)
    else:
        (folder / f"{CACHE}-shm").symlink_to(outside / "planted")
    (repo / "r.txt").write_text(pinned(digest=STALE))
    started = time.monotonic()
    for fmt in ("text", "json"):
        result = check(capsys, hostile, "--format", fmt)
        _no_traceback(result)
        assert result.code == 1, (fmt, result.out + result.err)
        assert "stale-hash" in result.out
    assert time.monotonic() - started < 60
    assert list(outside.iterdir()) == []


# --- 5. --fix writes what it cannot stand behind -------------------------------------------


def _serve(name: str, handler: Callable[[_Handler], None], monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(_Handler, f"_{name}", handler, raising=False)
    return name


def _sha512_only(self: _Handler) -> None:
    if self.path.startswith("/files/"):
        self._send(b"", "application/octet-stream", status="404")
        return
    digest = hashlib.sha512(b"demo wheel").hexdigest()
    self._send(page(self._project(), [good_file(hashes={"sha512": digest})]))


def _odd_hashes(self: _Handler) -> None:
    """A sha256 that is not 64 hex digits next to an honest sha512."""
    if self.path.startswith("/files/"):
        self._send(b"", "application/octet-stream", status="404")
        return
    hashes = {"sha256": "AB" * 32 + "\u2028", "sha512": hashlib.sha512(b"x").hexdigest()}
    self._send(page(self._project(), [good_file(hashes=hashes)]))


@pytest.mark.parametrize("behaviour", ["md5-only", "sha512-only", "odd-hashes"])
def test_fix_writes_nothing_from_an_index_without_a_valid_sha256(
    behaviour: str,
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: fix-writes. An index that lists md5 only, sha512 only, or a sha256 that is
    not a hex digest: the run never passes the pin quietly (it fails, or warns
    `unverifiable`), `--fix` keeps the pinned hash (never the last one removed), writes no
    other algorithm's value, and the file reads back the same."""
    _serve("sha512_only", _sha512_only, monkeypatch)
    _serve("odd_hashes", _odd_hashes, monkeypatch)
    hostile.behaviour = behaviour
    text = pinned(digest=STALE)
    (repo / "r.txt").write_text(text)
    for fmt in FORMATS:
        result = check(capsys, hostile, "--format", fmt)
        _no_traceback(result)
        assert result.code != 0 or "unverifiable" in result.out, (fmt, result.out)
    fixed = check(capsys, hostile, "--fix")
    _no_traceback(fixed)
    assert (repo / "r.txt").read_text() == text
    assert "sha512" not in text and "md5" not in text


@pytest.mark.parametrize(
    "requires",
    [
        'dep ; os_name != "x\u2028y"',
        'dep ; os_name != "x\u0085y"',
        'dep ; os_name != "x\\\\"',
        'dep ; os_name != "x\\"',
        'dep ; os_name != "x\ty #z"',
        'dep ; os_name != "x\u2029 #y"',
    ],
    ids=["line-separator", "nel", "double-backslash", "trailing-backslash", "tab-hash", "ps-hash"],
)
def test_a_hostile_marker_is_written_only_if_it_reads_back(
    requires: str, repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: fix-writes. Whatever `--fix` writes from a dependency's marker reads back:
    the next run finds no parse error and the same requirement."""
    hostile.behaviour = "dependencies"
    hostile.requires_dist = [requires]
    from tests.hostile import sha

    (repo / "r.txt").write_text(f"demo==1.0 --hash=sha256:{sha('demo')}\n")
    result = check(capsys, hostile, "--fix")
    _no_traceback(result)
    again = check(capsys, hostile)
    _no_traceback(again)
    assert "parse-error" not in again.out, (repo / "r.txt").read_text()
    assert again.code in (0, 1)


@pytest.mark.parametrize("name", ["Dep.Name_X", "dep--name", "DEP_name..x"])
def test_a_dependency_name_that_normalises_oddly_is_written_as_it_reads_back(
    name: str, repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: fix-writes. A dependency named oddly by the index: what `--fix` writes parses
    back clean and the next run passes or names what is left, never a parse error."""
    hostile.behaviour = "dependencies"
    hostile.requires_dist = [name]
    from tests.hostile import sha

    (repo / "r.txt").write_text(f"demo==1.0 --hash=sha256:{sha('demo')}\n")
    result = check(capsys, hostile, "--fix")
    _no_traceback(result)
    again = check(capsys, hostile)
    _no_traceback(again)
    assert "parse-error" not in again.out


@pytest.mark.parametrize("behaviour", ["md5-only", "sha512-only", "odd-hashes", "controls"])
def test_fix_of_a_pipfile_lock_from_a_hostile_index_keeps_its_hashes(
    behaviour: str,
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: fix-writes. A Pipfile.lock fixed against an index with md5 only, sha512
    only, a sha256 that is not hex, or control characters everywhere keeps its hash and
    gains nothing it cannot stand behind."""
    _serve("sha512_only", _sha512_only, monkeypatch)
    _serve("odd_hashes", _odd_hashes, monkeypatch)
    hostile.behaviour = behaviour
    lock = repo / "Pipfile.lock"
    data = {
        "_meta": {"hash": {"sha256": "00" * 32}, "pipfile-spec": 6, "requires": {},
                  "sources": [{"name": "pypi", "url": hostile.simple_url, "verify_ssl": True}]},
        "default": {"demo": {"hashes": [f"sha256:{STALE}"], "version": "==1.0"}},
        "develop": {},
    }  # fmt: skip
    lock.write_text(json.dumps(data, indent=4) + "\n")
    before = lock.read_text()
    result = run(capsys, "--index-url", hostile.simple_url, "--fix", "Pipfile.lock")
    _no_traceback(result)
    text = lock.read_text()
    assert STALE in text or (behaviour == "controls" and WHEEL_SHA in text), text
    assert text == before or behaviour == "controls"
    assert "md5" not in text and "sha512" not in text and "\u2028" not in text
    for digest in re.findall(r"sha256:([^\"]*)", text):
        assert re.fullmatch("[0-9a-f]{64}", digest), digest


# --- 6. transport ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [f"pa#ss{SECRET}", f"p\u00e4ss\u2028{SECRET}", f"p/ss?{SECRET}", f"p%40ss%23{SECRET}"],
    ids=["hash", "unicode", "slash-question", "percent-encoded"],
)
def test_a_password_with_hash_slash_or_unicode_is_never_printed(
    password: str, repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-leak (credentials). However odd the password, no format prints it, not
    even in the error line of a URL that does not parse."""
    hostile.behaviour = "error_page"
    (repo / "r.txt").write_text(pinned())
    scheme, _, rest = hostile.simple_url.partition("://")
    url = f"{scheme}://user:{password}@{rest}"
    for fmt in FORMATS:
        result = run(capsys, "--index-url", url, "--format", fmt, "--timeout", "5", "r.txt")
        _no_traceback(result)
        text = result.out + result.err
        assert SECRET not in text, (fmt, text)
        assert result.code in (2, 3), fmt


def test_credentials_do_not_follow_a_redirect_to_another_host_name(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: transport. Given for 127.0.0.1:P, they are not sent to localhost:P."""
    hostile.behaviour = "redirect"
    hostile.redirect_to = hostile.url.replace("127.0.0.1", "localhost")
    (repo / "r.txt").write_text(pinned())
    scheme, _, rest = hostile.simple_url.partition("://")
    result = run(capsys, "--index-url", f"{scheme}://alice:{SECRET}@{rest}", "--timeout", "5",
                 "r.txt")  # fmt: skip
    _no_traceback(result)
    assert SECRET not in result.out + result.err
    hosts = {(h.get("Host", ""), h.get("Authorization")) for _, h in hostile.requests}
    assert not any(host.startswith("localhost") and auth for host, auth in hosts), hosts


def test_a_download_on_another_host_gets_no_credentials(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: transport. `--verify-downloads` fetches a file the index lists on another
    port without the index's credentials."""
    with HostileIndex() as elsewhere:
        elsewhere.behaviour = "download"
        hostile.behaviour = "download"
        hostile.file_url = f"{elsewhere.url}/files/{WHEEL}"
        (repo / "r.txt").write_text(pinned())
        scheme, _, rest = hostile.simple_url.partition("://")
        url = f"{scheme}://alice:{SECRET}@{rest}"
        result = run(capsys, "--index-url", url, "--verify-downloads", "--timeout", "5", "r.txt")
        _no_traceback(result)
        assert SECRET not in result.out + result.err
        assert elsewhere.requests
        assert all("Authorization" not in h for _, h in elsewhere.requests)


# --- 7. archives and range answers that lie ---------------------------------------------------


def _lying_ranges(self: _Handler) -> None:
    """Range requests get a 206 whose Content-Range names other bytes, then an endless
    body; plain requests an endless 200."""
    if not self.path.startswith("/files/"):
        self._send(page(self._project(), [good_file()]))
        return
    self.send_response(206 if "Range" in self.headers else 200)
    self.send_header("Content-Type", "application/octet-stream")
    self.send_header("Content-Range", "bytes 0-1/99999999999999")
    self.end_headers()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not self.owner.stopping:
        try:
            self.wfile.write(b"PK\x05\x06" * 16384)
        except OSError:
            return


def test_range_answers_that_lie_and_never_end_are_bounded(
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: bounded. A wheel whose range answers lie about their range and never end:
    the run reads a bounded amount, ends in bounded time, and says the dependencies are
    unknown rather than crashing."""
    _serve("lying_ranges", _lying_ranges, monkeypatch)
    hostile.behaviour = "lying-ranges"
    (repo / "r.txt").write_text(pinned())
    started = time.monotonic()
    result = check(capsys, hostile, "--format", "json")
    _no_traceback(result)
    assert time.monotonic() - started < 25
    assert result.code in (0, 1, 3)


# --- 8. explain on pathological logs -----------------------------------------------------------


MIB = 1024 * 1024


def _fill(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


LOGS: dict[str, Callable[[int], str]] = {
    "uv-computed-without-end": lambda size: (
        "  Caused by: Hash mismatch for `demo==1.0`\n\nExpected:\n  sha256:"
        + "ab" * 32
        + "\n\nComputed:\n"
        + _fill("  sha256:" + "cd" * 32 + "\n", size)
    ),
    "pipenv-nested-errors": lambda size: _fill(
        "[pipenv.exceptions.InstallError]: ERROR: THESE PACKAGES DO NOT MATCH THE HASHES "
        "FROM THE REQUIREMENTS FILE. " * 50 + "\n",
        size,
    ),
    "hostile-hash-names": lambda size: (
        "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.\n"
        + _fill(
            "    \u202edemo\x1b[31m==1.0 from https://u:"
            + SECRET
            + "@h/x.whl:\n        Expected sha256 "
            + "z" * 5000
            + "\n             Got        "
            + "ab" * 32
            + "\u2028\n",
            size,
        )
    ),  # fmt: skip
}


@pytest.mark.parametrize("shape", list(LOGS))
def test_explain_on_a_pathological_log_is_linear_and_bounded(
    shape: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: bounded, no-leak. uv and pipenv shapes at 1 MiB and 4 MiB: linear time,
    bounded output, no traceback, and no secret or control character printed."""
    small, large = repo / "small.log", repo / "large.log"
    small.write_text(LOGS[shape](MIB), encoding="utf-8")
    large.write_text(LOGS[shape](4 * MIB), encoding="utf-8")
    times = []
    for path in (small, large):
        wall = time.process_time()
        result = run(capsys, "explain", "--offline", str(path))
        times.append(time.process_time() - wall)
        _no_traceback(result)
        assert result.code in (0, 1, 2, 3)
        assert len(result.out) + len(result.err) < 200_000
        text = result.out + result.err
        assert SECRET not in text
        assert "\x1b" not in text and "\u202e" not in text and "\u2028" not in text
    assert times[1] < 8 * times[0] + 1.0, times


@pytest.mark.parametrize(
    "line",
    [
        "    demo==1.0 from https://u:{secret}@h/x.whl:",
        "    demo @ https://u:pa ss@{secret}@h/demo-1.0.tar.gz from https://t:{secret}@h/y:",
        "    demo==1.0 from https://{secret}@h:",
    ],
    ids=["unread-line", "requirement-with-space-and-at", "token-without-path"],
)
def test_explain_never_prints_a_password_a_log_quotes(
    line: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-leak (credentials). A log (uv's, pipenv's, a proxy's) may quote a URL with
    its password in clear: `explain` shows the lines it cannot read, and the requirements it
    names, with every URL's userinfo as `****@`, in every format."""
    log = repo / "pip.log"
    log.write_text(
        "ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE.\n"
        + line.format(secret=SECRET)
        + f"\n        Expected sha256 {'ab' * 32}\n             Got        {'cd' * 32}\n"
    )
    for fmt in ("text", "json", "markdown", "github"):
        result = run(capsys, "explain", "--offline", "--format", fmt, str(log))
        _no_traceback(result)
        text = result.out + result.err
        assert SECRET not in text and "pa ss" not in text, (fmt, text)
        if fmt != "github":  # which quotes no line, only counts them
            assert "****@" in text.replace("\\*", "*"), (fmt, text)


# --- tar sdists whose header extensions pile up -------------------------------------------------


def _tar_header(path: str, size: int, kind: bytes) -> bytes:
    info = tarfile.TarInfo(path)
    info.size, info.type, info.mode, info.mtime = size, kind, 0o644, 0
    return info.tobuf(tarfile.USTAR_FORMAT)


def _pax_record(key: str) -> bytes:
    body = f" {key}=\n"
    length = len(body) + 1
    while len(str(length)) + len(body) != length:
        length += 1
    return f"{length}{body}".encode()


def _sdist_after(extensions: bytes) -> BuiltFile:
    pkg_info = b"Metadata-Version: 2.2\nName: demo\nVersion: 1.0\n\n"
    tail = _tar_header("demo-1.0/PKG-INFO", len(pkg_info), tarfile.REGTYPE) + pkg_info
    tail += bytes(-len(tail) % 512) + bytes(1024)
    content = gzip.compress(extensions + tail, 9)
    return BuiltFile("demo-1.0.tar.gz", content, hashlib.sha256(content).hexdigest(), b"")


def _global_pax_headers(total: int) -> bytes:
    """Global pax headers just under the 1 MiB a header may hold, of tiny distinct keys:
    tarfile keeps every key of every global header for the rest of the archive."""
    out = io.BytesIO()
    key = 0
    while out.tell() < total:
        records = bytearray()
        while len(records) < 1_000_000:
            records += _pax_record(format(key, "x"))
            key += 1
        out.write(_tar_header("pax_global_header", len(records), tarfile.XGLTYPE))
        out.write(records + bytes(-len(records) % 512))
    return out.getvalue()


def test_a_tar_gz_sdist_of_global_pax_headers_stays_small(
    repo: Path, hostile: HostileIndex
) -> None:
    """Promise: bounded-memory (archives). 8 MiB of gzip holding 40 MiB of global pax
    headers (four million tiny keys, each kept by tarfile for the whole archive) once grew a
    run by 485 MB and took 18 s: the global headers an sdist may carry are capped, as are
    the header extensions of the whole archive."""
    sdist = _sdist_after(_global_pax_headers(40 << 20))
    started = time.monotonic()
    code, report, growth = _run_child(hostile, sdist)
    assert growth < MAX_GROWTH_MB, growth
    assert time.monotonic() - started < 15
    assert code == 0
    assert _unknown(report) == ["1 requirement: the sdist has no readable PKG-INFO"]


def test_a_tar_gz_sdist_whose_members_carry_big_pax_headers_stays_small(
    repo: Path, hostile: HostileIndex
) -> None:
    """Promise: bounded-memory (archives). Members each behind a pax header of 1 MiB of tiny
    keys: tarfile keeps every member it reads with its pax keys, which once grew a run by
    over 100 MB; they are dropped as the members go by, and PKG-INFO after them is still read."""
    out = io.BytesIO()
    key = 0
    for n in range(12):
        records = bytearray()
        while len(records) < 1_000_000:
            records += _pax_record(format(key, "x"))
            key += 1
        out.write(_tar_header("pax", len(records), tarfile.XHDTYPE))
        out.write(records + bytes(-len(records) % 512))
        out.write(_tar_header(f"demo-1.0/f{n}", 0, tarfile.REGTYPE))
    code, report, growth = _run_child(hostile, _sdist_after(out.getvalue()))
    assert growth < MAX_GROWTH_MB, growth
    assert code == 0
    assert _unknown(report) == []


@pytest.mark.parametrize("kind", [tarfile.XHDTYPE, tarfile.GNUTYPE_LONGNAME])
def test_a_tar_gz_sdist_of_chained_header_extensions_does_not_crash(
    kind: bytes, repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-tracebacks. Thousands of pax headers (or GNU long names) in a row before
    one member: tarfile reads each by calling itself again, and once ended the run with a
    RecursionError; a member may carry only a few."""
    record = b"12 comment=\n" if kind == tarfile.XHDTYPE else b"demo-1.0/x\x00"
    block = _tar_header("ext", len(record), kind) + record + bytes(-len(record) % 512)
    sdist = _sdist_after(block * 5000)
    hostile.behaviour = "files"
    hostile.files = {sdist.filename: sdist.content}
    (repo / "r.txt").write_text(pinned(digest=sdist.sha256))
    for fmt in ("text", "json"):
        result = check(capsys, hostile, "--format", fmt)
        _no_traceback(result)
        assert result.code == 0, (fmt, result.out + result.err)
    assert "no readable PKG-INFO" in result.out


def test_an_honest_tar_gz_sdist_with_pax_and_long_names_is_still_read(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: bounded-memory (archives). The caps leave real sdists alone: a global pax
    header (as `git archive` writes), then members with pax headers and GNU long names."""
    comment = _pax_record("comment=" + "c" * 40)
    extensions = _tar_header("pax_global_header", len(comment), tarfile.XGLTYPE)
    extensions += comment + bytes(-len(comment) % 512)
    for n in range(200):
        name = f"demo-1.0/{'d' * 120}/{n}.py".encode() + b"\x00"
        extensions += _tar_header("././@LongLink", len(name), tarfile.GNUTYPE_LONGNAME)
        extensions += name + bytes(-len(name) % 512)
        path = _pax_record(f"path=demo-1.0/{'p' * 150}/{n}.py")
        extensions += _tar_header("pax", len(path), tarfile.XHDTYPE) + path
        extensions += bytes(-len(path) % 512)
        extensions += _tar_header(f"demo-1.0/{n}.py", 0, tarfile.REGTYPE)
    sdist = _sdist_after(extensions)
    hostile.behaviour = "files"
    hostile.files = {sdist.filename: sdist.content}
    (repo / "r.txt").write_text(pinned(digest=sdist.sha256))
    result = check(capsys, hostile, "--format", "json")
    _no_traceback(result)
    assert result.code == 0, result.out + result.err
    assert json.loads(result.out)["summary"]["dependencies_unknown"] == []


# --- more transport ------------------------------------------------------------------------------


def _netrc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text(text)
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))


def test_netrc_default_and_host_entries_do_not_reach_a_plain_http_file_host(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: transport (netrc). The index lists its files on `localhost` over plain http;
    netrc has an entry for that host and a default entry: `--verify-downloads` sends
    neither (a file host gets its own entry over https only, never the default)."""
    _netrc(
        tmp_path,
        monkeypatch,
        f"machine localhost login bob password host-{SECRET}\n"
        f"default login eve password default-{SECRET}\n",
    )
    with HostileIndex() as elsewhere:
        elsewhere.behaviour = "download"
        hostile.behaviour = "download"
        hostile.file_url = f"{elsewhere.url.replace('127.0.0.1', 'localhost')}/files/{WHEEL}"
        (repo / "r.txt").write_text(pinned())
        result = run(capsys, "--index-url", hostile.simple_url, "--verify-downloads",
                     "--timeout", "5", "r.txt")  # fmt: skip
        _no_traceback(result)
        assert SECRET not in result.out + result.err
        assert elsewhere.requests
        assert all("Authorization" not in h for _, h in elsewhere.requests)


@pytest.mark.parametrize(
    "file_url",
    ["file:///etc/passwd", "file://elsewhere.invalid/share/demo-1.0-py3-none-any.whl"],
    ids=["local", "other-host"],
)
def test_a_file_url_in_an_index_answer_is_not_read(
    file_url: str, repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: transport. An http index that lists its file at a `file:` URL (on this
    machine or another host) cannot make `--verify-downloads` read a local file: no content
    of it is shown, no traceback, and the download is not counted verified."""
    hostile.behaviour = "download"
    hostile.file_url = file_url
    (repo / "r.txt").write_text(pinned())
    for fmt in FORMATS:
        result = check(capsys, hostile, "--verify-downloads", "--format", fmt)
        _no_traceback(result)
        assert "root:" not in result.out + result.err, fmt


def test_a_redirect_to_a_file_url_is_not_followed(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: transport. An index page that redirects to `file:///etc` is an index failure
    (exit 3, one clear line), not a read of the local file system."""
    hostile.behaviour = "redirect"
    hostile.redirect_to = "file:///etc"
    (repo / "r.txt").write_text(pinned())
    for fmt in FORMATS:
        result = check(capsys, hostile, "--format", fmt)
        _no_traceback(result)
        assert result.code == 3, (fmt, result.out + result.err)
        assert "root:" not in result.out + result.err


@pytest.mark.parametrize(
    "password", [f"pa ss@{SECRET}", f"p#{SECRET}", f"\u00fc\u2028{SECRET}"], ids=str
)
def test_a_find_links_password_is_never_printed_nor_sent_elsewhere(
    password: str, repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-leak (credentials), transport. A find-links page given with a password
    that fails: no format prints the password, and no other host is sent it."""
    hostile.behaviour = "error_page"
    (repo / "r.txt").write_text(pinned())
    scheme, _, rest = hostile.url.partition("://")
    links = f"{scheme}://user:{password}@{rest}/links/"
    for fmt in FORMATS:
        result = run(capsys, "--index-url", hostile.simple_url, "--find-links", links,
                     "--format", fmt, "--timeout", "5", "r.txt")  # fmt: skip
        _no_traceback(result)
        assert SECRET not in result.out + result.err, fmt


# --- wheels whose zip structures lie ------------------------------------------------------


def _lying_wheel(kind: str) -> BuiltFile:
    metadata = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n"
    name = "demo-1.0.dist-info/METADATA"
    if kind == "stored-says-small":  # stored, says 48 bytes, holds 8 MiB
        member = RawMember(name, b"A" * (8 << 20), zipfile.ZIP_STORED, zlib.crc32(metadata), 48)
    elif kind == "stored-says-huge":  # says 4 GiB - 1 of data it does not hold
        member = RawMember(name, metadata, zipfile.ZIP_STORED, zlib.crc32(metadata), 0xFFFFFFFF)
    elif kind == "zip64-marker":  # sizes say "see the zip64 extra", which is missing
        member = RawMember(name, metadata, zipfile.ZIP_STORED, zlib.crc32(metadata), 0xFFFFFFFF)
    else:  # METADATA is itself a zip bomb: a nested archive, not text
        inner = zip_archive([raw_member("x", bytes(1 << 20))])
        member = raw_member(name, inner)
    members = [raw_member("demo/__init__.py", b""), member,
               raw_member("demo-1.0.dist-info/WHEEL", b"Wheel-Version: 1.0\n")]  # fmt: skip
    content = zip_archive(members)
    if kind == "zip64-marker":
        content = content.replace(
            struct.pack("<L", len(metadata)) + struct.pack("<L", 0xFFFFFFFF),
            struct.pack("<L", 0xFFFFFFFF) * 2,
        )
    return BuiltFile(WHEEL, content, hashlib.sha256(content).hexdigest(), metadata)


@pytest.mark.parametrize(
    "kind", ["stored-says-small", "stored-says-huge", "zip64-marker", "nested-zip"]
)
def test_a_wheel_whose_sizes_lie_is_bounded(kind: str, repo: Path, hostile: HostileIndex) -> None:
    """Promise: bounded-memory (archives). Stored members whose sizes lie either way, a
    zip64 marker without its record, METADATA that is a zip itself: a child run stays
    small, ends, and leaves the dependencies unknown or read, never a crash."""
    code, report, growth = _run_child(hostile, _lying_wheel(kind))
    assert growth < MAX_GROWTH_MB, growth
    assert code == 0, report


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs chown")
def test_a_key_file_of_another_user_is_not_used(
    repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: cache-checked. A private key file that belongs to another user (who wrote
    its key, and can sign rows with it) is not used; rows signed with it are misses."""
    key_file = Path(os.environ["REQHASH_CHECK_CACHE_KEY_FILE"])
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text("44" * 32 + "\n")
    key_file.chmod(0o600)
    os.chown(key_file, 65534, 65534)
    (repo / "r.txt").write_text(pinned(digest=STALE))
    first = check(capsys, hostile)
    assert first.code == 1 and "another user" in first.err
    _forge(tmp_path, STALE, key=b"\x44" * 32)
    result = check(capsys, hostile)
    assert result.code == 1 and "stale-hash" in result.out


def _lock(url: str, digest: str) -> str:
    return (
        'lock-version = "1.0"\ncreated-by = "test"\n\n[[packages]]\nname = "demo"\n'
        f'version = "1.0"\nwheels = [{{ url = "{url}/files/{WHEEL}", '
        f'hashes = {{ sha256 = "{digest}" }} }}]\n'
    )


@pytest.mark.parametrize("behaviour", ["md5-only", "sha512-only", "odd-hashes", "error-page"])
def test_fix_of_a_pylock_from_a_hostile_index_writes_nothing_it_cannot_stand_behind(
    behaviour: str,
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: fix-writes. A pylock.toml fixed against an index without a valid sha256 (or
    failing): the lock keeps its hash, gains no other algorithm's value and reads back."""
    _serve("sha512_only", _sha512_only, monkeypatch)
    _serve("odd_hashes", _odd_hashes, monkeypatch)
    hostile.behaviour = behaviour
    lock = repo / "pylock.toml"
    text = _lock(hostile.url, STALE)
    lock.write_text(text)
    result = run(capsys, "--index-url", hostile.simple_url, "--timeout", "5", "--fix",
                 "pylock.toml")  # fmt: skip
    _no_traceback(result)
    after = lock.read_text()
    assert STALE in after and "md5" not in after and "sha512" not in after, after
    assert "\u2028" not in after
    again = run(capsys, "--index-url", hostile.simple_url, "--timeout", "5", "pylock.toml")
    _no_traceback(again)
    assert "parse-error" not in again.out


@pytest.mark.parametrize("pin", ["Demo==1.0.0", "DEMO==v1.0", "demo===1.0", "demo==1.0+local"])
def test_fix_of_a_pin_whose_name_or_version_normalises_oddly_reads_back(
    pin: str, repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: fix-writes. A pin spelled otherwise than the index spells it: what `--fix`
    writes reads back as the same requirement, with a hash the index publishes, and the
    last hash is never removed."""
    text = f"{pin} --hash=sha256:{STALE}\n"
    (repo / "r.txt").write_text(text)
    result = check(capsys, hostile, "--fix")
    _no_traceback(result)
    after = (repo / "r.txt").read_text()
    assert "--hash=sha256:" in after
    assert after.split(" ", 1)[0].split("\\")[0].strip() == pin, after
    assert STALE in after or WHEEL_SHA in after
    again = check(capsys, hostile)
    _no_traceback(again)
    assert "parse-error" not in again.out


def test_a_fix_that_needs_several_rounds_ends_and_reads_back(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: fix-writes. A dependency whose own dependencies need pins too (a chain and a
    cycle): one `--fix` ends, writes only validated hashes, and the file reads back."""
    hostile.behaviour = "dependencies"
    hostile.requires_dist = ["a", "b ; python_version >= '3'", "demo"]
    from tests.hostile import sha

    (repo / "r.txt").write_text(f"demo==1.0 --hash=sha256:{sha('demo')}\n")
    started = time.monotonic()
    result = check(capsys, hostile, "--fix")
    assert time.monotonic() - started < 30
    _no_traceback(result)
    after = (repo / "r.txt").read_text()
    for digest in re.findall(r"--hash=sha256:(\S+)", after):
        assert digest in {sha(n) for n in ("demo", "a", "b")}, after
    again = check(capsys, hostile)
    _no_traceback(again)
    assert "parse-error" not in again.out


@pytest.mark.parametrize("password", [f"pa, ss@{SECRET}", f"p ss{SECRET}", f"#{SECRET}"])
def test_explain_never_prints_a_password_in_a_pip_log_s_urls(
    password: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-leak (credentials). pip's own mismatch log, with a password in clear in
    every URL (its command line, `Looking in indexes`, the download, the failing
    requirement) that holds `, `, `@`, a space or `#`: no format prints any of it."""
    source = Path(__file__).parents[1] / "data" / "piplogs" / "pip-25.0.1" / "mismatch.log"
    text = source.read_text().replace("http://127.0.0.1:8000", f"http://u:{password}@h:8000")
    (repo / "pip.log").write_text(text)
    for fmt in ("text", "json", "markdown", "github"):
        result = run(capsys, "explain", "--offline", "--format", fmt, "pip.log")
        _no_traceback(result)
        shown = result.out + result.err
        assert SECRET not in shown and "ss@" not in shown and "p ss" not in shown, (fmt, shown)


def _pip_log(repo: Path) -> Path:
    source = Path(__file__).parents[1] / "data" / "piplogs" / "pip-25.0.1" / "mismatch.log"
    (repo / "pip.log").write_text(source.read_text())
    return repo / "pip.log"


def test_explain_s_look_ups_send_credentials_to_their_origin_only(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: transport. `explain --index-url` with a password asks the index; a redirect
    to another port carries no credentials, and no format prints the password."""
    log = _pip_log(repo)
    with HostileIndex() as elsewhere:
        hostile.behaviour = "redirect"
        hostile.redirect_to = elsewhere.url
        scheme, _, rest = hostile.simple_url.partition("://")
        url = f"{scheme}://alice:pa ss@{SECRET}@{rest}"
        for fmt in ("text", "json", "markdown", "github"):
            result = run(capsys, "explain", "--index-url", url, "--format", fmt, str(log))
            _no_traceback(result)
            assert SECRET not in result.out + result.err, fmt
            assert "pa ss" not in result.out + result.err, fmt
        assert hostile.requests and elsewhere.requests
        assert all("Authorization" not in h for _, h in elsewhere.requests)
        assert all(h.get("Authorization") for _, h in hostile.requests)


def test_explain_s_failing_look_ups_never_print_the_password(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-leak (credentials). The index fails (an error page, then one quoting the
    credentials back): `explain` names it with `****@` in every format."""
    log = _pip_log(repo)
    scheme, _, rest = hostile.simple_url.partition("://")
    url = f"{scheme}://alice:p%40ss#{SECRET}@{rest}"
    for behaviour in ("error_page", "echo_auth"):
        hostile.behaviour = behaviour
        for fmt in ("text", "json", "markdown", "github"):
            result = run(capsys, "explain", "--index-url", url, "--format", fmt, str(log))
            _no_traceback(result)
            assert SECRET not in result.out + result.err, (behaviour, fmt)


@pytest.mark.skipif(os.name == "nt", reason="POSIX hard links and modes")
@pytest.mark.parametrize("side", ["", "-wal", "-journal"])
@pytest.mark.parametrize("content", [b"precious", b""], ids=["text", "empty"])
def test_a_hard_linked_cache_file_is_not_written_through(
    side: str,
    content: bytes,
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Promise: cache-checked. A hard link planted where the cache file (or a side file)
    should be, to a file of the user's outside the cache folder: the run neither changes
    that file's mode nor writes a database into it; a cache file of its own is made."""
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim"
    victim.write_bytes(content)
    victim.chmod(0o644)
    folder = tmp_path / "cache"
    folder.mkdir()
    os.link(victim, folder / f"{CACHE}{side}")
    (repo / "r.txt").write_text(pinned())
    for _ in range(2):
        result = check(capsys, hostile)
        _no_traceback(result)
        assert result.code == 0, result.out + result.err
    assert victim.read_bytes() == content
    assert victim.stat().st_mode & 0o777 == 0o644


def _hashes_from_owner(self: _Handler) -> None:
    """The good page, with the file's `hashes` taken from `owner.payload` (JSON)."""
    if self.path.startswith("/files/"):
        self._send(b"", "application/octet-stream", status="404")
        return
    self._send(page(self._project(), [good_file(hashes=json.loads(self.owner.payload))]))


@pytest.mark.parametrize(
    "hashes",
    [
        {"sha256": WHEEL_SHA.upper()},
        {"sha256": f" {WHEEL_SHA}\n"},
        {"SHA256": WHEEL_SHA},
        {"sha256": WHEEL_SHA + "00"},
        {"sha256": WHEEL_SHA[:-1] + "\u0660"},
        {"sha256": f"{WHEEL_SHA} --hash=sha256:{FORGED}"},
    ],
    ids=["upper", "spaces", "upper-key", "too-long", "arabic-digit", "injected-option"],
)
def test_fix_writes_only_a_lower_case_hex_sha256(
    hashes: dict[str, str],
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: fix-writes. Whatever the index spells as the file's sha256, `--fix` writes
    only 64 lower-case hex digits (or nothing), never an option smuggled into the value,
    and the file reads back with one requirement."""
    _serve("hashes_from_owner", _hashes_from_owner, monkeypatch)
    hostile.behaviour = "hashes-from-owner"
    hostile.payload = json.dumps(hashes)
    (repo / "r.txt").write_text(pinned(digest=STALE))
    result = check(capsys, hostile, "--fix")
    _no_traceback(result)
    text = (repo / "r.txt").read_text()
    digests = re.findall(r"--hash=(\S+)", text)
    assert digests, text
    for digest in digests:
        assert re.fullmatch("sha256:[0-9a-f]{64}", digest), text
    assert FORGED not in text
    again = check(capsys, hostile, "--format", "json")
    _no_traceback(again)
    assert "parse-error" not in again.out


def test_a_download_redirected_to_a_file_url_is_not_read(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: transport. `--verify-downloads` is redirected to `file:///etc/passwd`: not
    followed, nothing of the file shown, and the download not counted verified."""
    hostile.behaviour = "download"
    hostile.download = "redirect-away"
    hostile.redirect_to = "file:///etc/passwd"
    (repo / "r.txt").write_text(pinned())
    for fmt in FORMATS:
        result = check(capsys, hostile, "--verify-downloads", "--format", fmt)
        _no_traceback(result)
        assert result.code != 0, (fmt, result.out + result.err)
        assert "root:" not in result.out + result.err
