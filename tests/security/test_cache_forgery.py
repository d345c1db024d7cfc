"""A restored or shared cache cannot make a run pass, nor `--fix` write a hash the index does
not publish: rows are authenticated with a key kept outside the cache folder, `--fix` asks the
index afresh, and the cache file is never opened through a symlink.

Each test names the promise of docs/security.md it holds.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from reqhash_check.index.cache import ReleaseCache
from tests.hostile import PUBLIC_ETAG, WHEEL_SHA, HostileIndex
from tests.security.conftest import FORMATS, Run, pinned, run

STALE = "ef" * 32
"""A hash the index does not publish."""
FORGED = "ab" * 32
"""The hash a forged row claims the index publishes."""
ANOTHER_KEY = b"k" * 32


def check(capsys: pytest.CaptureFixture[str], index: HostileIndex, *extra: str) -> Run:
    return run(capsys, "--index-url", index.simple_url, "--timeout", "5", *extra, "r.txt")


def _cache_file(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "index-cache.sqlite3"


def _with_digest(data: Any, digest: str) -> Any:
    if isinstance(data, dict):
        return {
            k: {"sha256": digest} if k == "hashes" else _with_digest(v, digest)
            for k, v in data.items()
        }
    if isinstance(data, list):
        return [_with_digest(v, digest) for v in data]
    return data


def _forge(
    tmp_path: Path,
    digest: str,
    *,
    key: bytes | None,
    age: float = 0.0,
    etag: str | None = None,
) -> int:
    """Rewrite every row as well-formed rows claiming the index publishes `digest`, signed
    with `key` (None: the user's own key), `age` seconds old; the number of rows."""
    path = _cache_file(tmp_path)
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT index_url, kind, project, version, payload, document FROM answers"
        ).fetchall()
    conn.close()
    forger = ReleaseCache(path, key=key, clock=lambda: time.time() - age)
    for index_url, kind, project, version, payload, document in rows:
        data = _with_digest(json.loads(payload), digest)
        forger.put(index_url, kind, project, version, data, etag=etag, document=document)
        assert forger.get(index_url, kind, project, version) is not None  # well formed
    forger.close()
    return len(rows)


def _holds_the_published_hash_only(path: Path) -> None:
    text = path.read_text()
    assert f"--hash=sha256:{WHEEL_SHA}" in text
    assert FORGED not in text and STALE not in text


def test_a_forged_fresh_row_under_another_key_is_not_believed(
    repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: cache-checked. A cache restored from elsewhere (another branch's CI run, a
    shared folder) holds rows signed with another key: they read as misses."""
    (repo / "r.txt").write_text(pinned(digest=STALE))
    assert check(capsys, hostile).code == 1  # stale-hash: the index publishes WHEEL_SHA
    assert _forge(tmp_path, STALE, key=ANOTHER_KEY)
    asked = len(hostile.requests)
    for output in FORMATS:
        result = check(capsys, hostile, "--format", output)
        assert result.code == 1, (output, result.out + result.err)
        assert "stale-hash" in result.out
    assert len(hostile.requests) > asked  # the index was asked again
    _forge(tmp_path, STALE, key=ANOTHER_KEY)
    fixed = check(capsys, hostile, "--fix")
    assert "Traceback" not in fixed.err
    _holds_the_published_hash_only(repo / "r.txt")


def test_a_forged_stale_row_revalidated_by_a_304_is_not_believed(
    repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: cache-checked. A stale forged row carrying the index's public ETag is not
    revalidated (a 304 would vouch for whatever the row says): it is dropped, and the page
    asked again in full."""
    hostile.behaviour = "etag"
    (repo / "r.txt").write_text(pinned(digest=FORGED))
    assert check(capsys, hostile).code == 1
    assert _forge(tmp_path, FORGED, key=ANOTHER_KEY, age=10**5, etag=PUBLIC_ETAG)
    asked = len(hostile.requests)
    result = check(capsys, hostile)
    assert result.code == 1 and "stale-hash" in result.out, result.out + result.err
    later = hostile.requests[asked:]
    assert later and not any("If-None-Match" in headers for _, headers in later)
    _forge(tmp_path, FORGED, key=ANOTHER_KEY, age=10**5, etag=PUBLIC_ETAG)
    check(capsys, hostile, "--fix")
    _holds_the_published_hash_only(repo / "r.txt")


def test_fix_confirms_every_hash_with_the_index_even_over_rows_of_its_own_key(
    repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: fix-writes. Rows signed with the user's own key (an answer from before the
    index was mended, a key that leaked) are still not what `--fix` writes: it asks the index
    afresh, fresh rows and 304s alike."""
    hostile.behaviour = "etag"
    (repo / "r.txt").write_text(pinned(digest=STALE))
    assert check(capsys, hostile).code == 1
    _forge(tmp_path, FORGED, key=None)
    result = check(capsys, hostile, "--fix")
    assert "Traceback" not in result.err
    _holds_the_published_hash_only(repo / "r.txt")
    (repo / "r.txt").write_text(pinned(digest=STALE))
    _forge(tmp_path, FORGED, key=None, age=10**5, etag=PUBLIC_ETAG)
    asked = len(hostile.requests)
    check(capsys, hostile, "--fix")
    assert not any("If-None-Match" in h for _, h in hostile.requests[asked:])
    _holds_the_published_hash_only(repo / "r.txt")


def test_fix_with_offline_is_refused(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: fix-writes. `--fix` confirms with the index, which `--offline` never asks."""
    (repo / "r.txt").write_text(pinned(digest=STALE))
    result = check(capsys, hostile, "--offline", "--fix")
    assert result.code == 2 and "--offline" in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert (repo / "r.txt").read_text() == pinned(digest=STALE)


def test_a_key_inside_the_cache_folder_is_not_used(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: cache-checked. A restored cache could bring its own key: a key file inside
    the cache folder is refused (said once), and rows signed with it are misses."""
    key_file = tmp_path / "cache" / "cache.key"
    key_file.parent.mkdir()
    key_file.write_text("00" * 32 + "\n")
    key_file.chmod(0o600)
    monkeypatch.setenv("REQHASH_CHECK_CACHE_KEY_FILE", str(key_file))
    (repo / "r.txt").write_text(pinned(digest=STALE))
    first = check(capsys, hostile)
    assert first.code == 1
    assert "inside the cache folder" in first.err
    _forge(tmp_path, STALE, key=bytes(32))
    result = check(capsys, hostile)
    assert result.code == 1 and "stale-hash" in result.out


def test_rows_under_another_secret_are_misses(
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: cache-checked. With $REQHASH_CHECK_CACHE_KEY (a CI secret), rows are believed
    only by runs that hold the same secret."""
    (repo / "r.txt").write_text(pinned())
    monkeypatch.setenv("REQHASH_CHECK_CACHE_KEY", "a" * 40)
    assert check(capsys, hostile).code == 0
    asked = len(hostile.requests)
    assert check(capsys, hostile).code == 0
    assert len(hostile.requests) == asked  # the same secret: answered from the cache
    monkeypatch.setenv("REQHASH_CHECK_CACHE_KEY", "b" * 40)
    assert check(capsys, hostile).code == 0
    assert len(hostile.requests) > asked


@pytest.mark.parametrize("side", ["", "-wal", "-journal"])
@pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt", reason="POSIX symlinks")
def test_a_symlinked_cache_file_is_not_followed(
    side: str,
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Promise: cache-checked. A symlink planted where the cache file (or SQLite's side
    file) should be is replaced, never followed: its target keeps its bytes and mode, and no
    database appears outside the cache folder."""
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victim.txt"
    victim.write_text("precious")
    victim.chmod(0o644)
    folder = tmp_path / "cache"
    folder.mkdir()
    name = f"index-cache.sqlite3{side}"
    (folder / name).symlink_to(victim)
    (folder / f"other{side}").symlink_to(outside / "new.sqlite3")  # never named: untouched
    dangling = folder / ("index-cache.sqlite3-shm" if side else "x")
    if side:
        dangling.symlink_to(outside / "new.sqlite3")
    (repo / "r.txt").write_text(pinned())
    result = check(capsys, hostile)
    assert result.code == 0, result.out + result.err
    assert victim.read_text() == "precious"
    assert victim.stat().st_mode & 0o777 == 0o644
    assert sorted(p.name for p in outside.iterdir()) == ["victim.txt"]
    assert not (folder / "index-cache.sqlite3").is_symlink()
    asked = len(hostile.requests)
    assert check(capsys, hostile).code == 0
    assert len(hostile.requests) == asked  # the new cache file works


def test_the_key_file_is_private_and_outside_the_cache_folder(
    repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: cache-checked. The key is made on first use, readable by its owner only,
    and not in the folder a CI restores."""
    key_file = Path(os.environ["REQHASH_CHECK_CACHE_KEY_FILE"])
    (repo / "r.txt").write_text(pinned())
    assert check(capsys, hostile).code == 0
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert not key_file.resolve().is_relative_to((tmp_path / "cache").resolve())
    assert key_file.read_bytes() not in _cache_file(tmp_path).read_bytes()


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_a_key_file_others_can_write_is_not_used(
    repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: cache-checked. A key file that others can read or write is not used (said
    once); rows signed with it are misses."""
    key_file = Path(os.environ["REQHASH_CHECK_CACHE_KEY_FILE"])
    key_file.write_text("11" * 32 + "\n")
    key_file.chmod(0o666)
    (repo / "r.txt").write_text(pinned(digest=STALE))
    first = check(capsys, hostile)
    assert first.code == 1 and "readable or writable by others" in first.err
    assert len(first.err.strip().splitlines()) == 1
    _forge(tmp_path, STALE, key=b"\x11" * 32)
    result = check(capsys, hostile)
    assert result.code == 1 and "stale-hash" in result.out


def test_without_a_usable_key_the_run_goes_on_with_its_own(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: cache-checked. A key that cannot be made (its folder is a file) is said once,
    and the run checks as before, with a key of its own."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the state folder should be")
    monkeypatch.setenv("REQHASH_CHECK_CACHE_KEY_FILE", str(blocker / "cache.key"))
    (repo / "r.txt").write_text(pinned(digest=STALE))
    result = check(capsys, hostile)
    assert result.code == 1 and "stale-hash" in result.out
    assert result.err.count("warning") == 1 and "cache key" in result.err
    assert "Traceback" not in result.err


def test_fix_of_a_lock_file_confirms_its_hashes_with_the_index(
    repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-rejected-hashes. A pylock.toml is fixed from answers the index gave this
    run, not from rows in the cache, even rows signed with the user's own key."""
    lock = repo / "pylock.toml"
    lock.write_text(
        'lock-version = "1.0"\ncreated-by = "test"\n\n[[packages]]\nname = "demo"\n'
        'version = "1.0"\nwheels = [{ url = "'
        + hostile.url
        + '/files/demo-1.0-py3-none-any.whl", hashes = { sha256 = "'
        + STALE
        + '" } }]\n'
    )
    args = ("--index-url", hostile.simple_url, "--timeout", "5")
    assert run(capsys, *args, "pylock.toml").code == 1
    assert _forge(tmp_path, FORGED, key=None)
    result = run(capsys, *args, "--fix", "pylock.toml")
    assert "Traceback" not in result.err
    text = lock.read_text()
    assert WHEEL_SHA in text and FORGED not in text and STALE not in text


@pytest.mark.parametrize(
    "change",
    [
        # a value's characters moved from one column to the next keep the bytes they join to
        "project = substr(project, 1, length(project) - 1),"
        " version = substr(project, length(project)) || version",
        "etag = ''",  # no ETag against an empty one
        "document = NULL",
        "fetched_at = fetched_at + 1",
        "payload = payload || ' '",
    ],
)
def test_a_row_with_any_column_changed_under_its_own_mac_is_not_believed(
    change: str,
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Promise: cache-checked. The MAC covers every column, each framed by its type and
    length: a row edited in place, its MAC kept, reads as a miss and the index is asked."""
    (repo / "r.txt").write_text(pinned())
    assert check(capsys, hostile).code == 0
    asked = len(hostile.requests)
    assert check(capsys, hostile).code == 0
    assert len(hostile.requests) == asked  # answered from the cache
    with sqlite3.connect(_cache_file(tmp_path)) as conn:
        assert conn.execute(f"UPDATE answers SET {change}").rowcount
    conn.close()
    result = check(capsys, hostile)
    assert result.code == 0 and "Traceback" not in result.err
    assert len(hostile.requests) > asked
