"""A hostile index: bounded in memory and time, checked before it is believed, fail closed.

Each test names the promise of docs/security.md it holds.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from reqhash_check.index.cache import ReleaseCache
from tests.hostile import HostileIndex
from tests.security.conftest import Run, pinned, run

SRC = str(Path(__file__).resolve().parents[2] / "src")


def check(capsys: pytest.CaptureFixture[str], index: HostileIndex, *extra: str) -> Run:
    return run(capsys, "--index-url", index.simple_url, "--timeout", "5", *extra, "r.txt")


def _one_line_error(result: Run) -> None:
    assert "Traceback" not in result.err + result.out
    assert result.code == 3, result.out + result.err


# --- bounded in memory and time -----------------------------------------------------------


def test_a_gzip_bomb_stops_at_the_cap_in_bounded_memory(repo: Path, hostile: HostileIndex) -> None:
    """Promise: bounded-memory. 1 MiB that decodes to 1 GiB stops at the 64 MiB cap."""
    hostile.behaviour = "bomb"
    (repo / "r.txt").write_text(pinned())
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run(
        [sys.executable, "-m", "reqhash_check", "--index-url", hostile.simple_url, "r.txt"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": SRC},
        cwd=repo,
    )
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert done.returncode == 3, done.stdout + done.stderr
    assert "larger than 64 MiB (the cap for one index answer)" in done.stdout
    assert "Traceback" not in done.stderr
    assert max(peak_mib, before / 1024) < 400  # the whole process, interpreter and all


def test_an_endless_body_stops_at_the_cap(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: bounded-memory."""
    hostile.behaviour = "endless"
    (repo / "r.txt").write_text(pinned())
    result = check(capsys, hostile, "--timeout", "60")
    _one_line_error(result)
    assert "larger than 64 MiB" in result.out


def test_a_drip_ends_at_the_deadline(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: bounded-time. One byte a second never ends a read timeout; the total
    deadline of each attempt ends it."""
    hostile.behaviour = "drip"
    (repo / "r.txt").write_text(pinned())
    started = time.monotonic()
    result = run(capsys, "--index-url", hostile.simple_url, "--timeout", "2", "r.txt")
    elapsed = time.monotonic() - started
    _one_line_error(result)
    assert "timed out" in result.out
    assert elapsed < 20  # 4 attempts of 2 s, plus the backoff between them


def test_deeply_nested_json_is_refused(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: bounded-memory (JSON depth)."""
    hostile.behaviour = "deep-json"
    (repo / "r.txt").write_text(pinned())
    result = check(capsys, hostile)
    _one_line_error(result)
    assert "JSON nested too deeply" in result.out


def test_an_odd_retry_after_is_a_clean_failure(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-tracebacks. `Retry-After: ²` is not a number of seconds."""
    hostile.behaviour = "odd-retry-after"
    (repo / "r.txt").write_text(pinned())
    result = check(capsys, hostile)
    _one_line_error(result)
    assert "HTTP 429 after 4 attempts" in result.out


# --- checked before believed -------------------------------------------------------------


@pytest.mark.parametrize(
    ("behaviour", "says"),
    [
        ("wrong-project", "an answer for another project than 'demo'"),
        ("list-digests", "a malformed sha256 digest"),
        ("number-digests", "a malformed sha256 digest"),
        ("error-page", "a page that is not a simple index page"),
        ("odd-url", "a file URL that is not http(s) or file"),
    ],
)
def test_a_bad_answer_is_an_index_failure_never_a_finding(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str], behaviour: str, says: str
) -> None:
    """Promise: answers-checked. Nothing is blamed on the file for the index's fault."""
    hostile.behaviour = behaviour
    (repo / "r.txt").write_text(pinned())
    result = check(capsys, hostile, "--format", "json")
    assert result.code == 3
    document = json.loads(result.out)
    assert document["findings"] == []
    assert says in document["unverified"][0]["reason"]


def test_an_error_page_is_not_remembered(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: answers-checked. The next run asks again instead of trusting a bad answer."""
    hostile.behaviour = "error-page"
    (repo / "r.txt").write_text(pinned())
    assert check(capsys, hostile).code == 3
    hostile.behaviour = "good"
    asked = len(hostile.requests)
    result = check(capsys, hostile)
    assert result.code == 0, result.out
    assert len(hostile.requests) > asked


def test_an_answer_for_another_version_is_refused(hostile: HostileIndex) -> None:
    """Promise: answers-checked. The per-version JSON says 2.0 when 1.0 was asked: an
    index failure, not a stale hash. (pypi.org's client, pointed at the hostile host.)"""
    import asyncio

    from reqhash_check.index.base import IndexUnavailable
    from reqhash_check.index.pypi import PyPIJsonIndex
    from tests.fixtures_index import fast_http

    hostile.behaviour = "wrong-version"

    async def ask() -> None:
        client = PyPIJsonIndex(hostile.url, fast_http(), owns_http=True)
        try:
            await client.release("demo", "1.0")
        finally:
            await client.aclose()

    with pytest.raises(IndexUnavailable, match="a release other than the 1.0 asked for"):
        asyncio.run(ask())


def test_fix_never_writes_hashes_from_a_rejected_answer(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-rejected-hashes."""
    hostile.behaviour = "list-digests"
    text = pinned(digest="cd" * 32)
    (repo / "r.txt").write_text(text)
    result = check(capsys, hostile, "--fix")
    assert result.code == 3
    assert (repo / "r.txt").read_text() == text


# --- the cache is untrusted too ----------------------------------------------------------


def _cache_rows(tmp_path: Path) -> list[tuple[object, ...]]:
    with sqlite3.connect(tmp_path / "cache" / "index-cache.sqlite3") as conn:
        return conn.execute("SELECT project, version, payload, fetched_at FROM answers").fetchall()


def _rewrite_signed(
    tmp_path: Path,
    change: Callable[[str, Any], Any] = lambda kind, data: data,
    when: float | None = None,
) -> None:
    """Rewrite every row through the cache itself, so that it is signed with the user's own
    key: what the row says is checked on its own, not just its MAC."""
    path = tmp_path / "cache" / "index-cache.sqlite3"
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT index_url, kind, project, version, payload, etag, document FROM answers"
        ).fetchall()
    conn.close()
    cache = ReleaseCache(path, clock=(lambda: when) if when is not None else time.time)
    for index_url, kind, project, version, payload, etag, document in rows:
        data = change(kind, json.loads(payload))
        cache.put(index_url, kind, project, version, data, etag=etag, document=document)
    cache.close()


def test_cache_rows_of_the_wrong_shape_are_dropped_and_asked_again(
    repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: cache-checked."""
    (repo / "r.txt").write_text(pinned())
    assert check(capsys, hostile).code == 0
    _rewrite_signed(tmp_path, lambda kind, data: {"files": 12, "project": []})
    asked = len(hostile.requests)
    result = check(capsys, hostile)
    assert result.code == 0 and "Traceback" not in result.err
    assert len(hostile.requests) > asked


def test_a_cache_row_stamped_in_the_future_is_stale(
    repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: cache-checked. A row cannot make itself fresh forever."""
    (repo / "r.txt").write_text(pinned())
    assert check(capsys, hostile).code == 0
    _rewrite_signed(tmp_path, when=time.time() + 10**9)
    asked = len(hostile.requests)
    check(capsys, hostile)
    assert len(hostile.requests) > asked


def test_a_poisoned_row_for_another_release_is_not_believed(
    repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: cache-checked. A row claiming another project's files for this key, with a
    stale hash in them, does not make the stale hash look fine."""
    stale = "ef" * 32
    (repo / "r.txt").write_text(pinned(digest=stale))
    assert check(capsys, hostile).code == 1  # stale-hash: the index publishes WHEEL_SHA

    def poison(kind: str, data: Any) -> Any:
        if kind == "release":
            data["project"] = "other"
            data["files"][0]["hashes"]["sha256"] = stale
        return data

    _rewrite_signed(tmp_path, poison)
    result = check(capsys, hostile)
    assert result.code == 1 and "stale-hash" in result.out


def test_the_cache_file_is_private(
    repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: cache-checked (created private to the user)."""
    (repo / "r.txt").write_text(pinned())
    check(capsys, hostile)
    mode = (tmp_path / "cache" / "index-cache.sqlite3").stat().st_mode & 0o777
    assert mode == 0o600


def test_a_cache_file_that_is_not_a_database_is_replaced(
    repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-tracebacks (a corrupt cache is discarded)."""
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "index-cache.sqlite3").write_bytes(b"\x00garbage" * 1000)
    (repo / "r.txt").write_text(pinned())
    result = check(capsys, hostile)
    assert result.code == 0 and "Traceback" not in result.err


# --- fail closed across indexes, and visible index changes ---------------------------------


def test_one_dead_index_beside_a_live_one_fails_closed_and_is_named_once(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: fail-closed. The live index's answer does not settle a stale hash that the
    dead index might publish; the dead index is named once, not once per requirement."""
    dead = "http://127.0.0.1:9/simple"
    (repo / "r.txt").write_text(pinned() + pinned("other", digest="ab" * 32))
    result = run(
        capsys,
        "--index-url",
        hostile.simple_url,
        "--extra-index-url",
        dead,
        "--timeout",
        "2",
        "r.txt",
    )
    assert result.code == 3, result.out
    assert "stale-hash" not in result.out
    assert result.out.count(f"index error: {dead}: could not be asked") == 1
    assert "OK" not in result.out.splitlines()[-1]


def test_a_clean_requirement_is_settled_by_the_live_index(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: fail-closed. When every target picks a file with a listed hash, pip keeps
    only such files whatever the dead index holds: verified, though the dead index is named."""
    (repo / "r.txt").write_text(pinned())
    result = run(
        capsys,
        "--index-url",
        hostile.simple_url,
        "--extra-index-url",
        "http://127.0.0.1:9/simple",
        "--timeout",
        "2",
        "--format",
        "json",
        "r.txt",
    )
    document = json.loads(result.out)
    assert document["unverified"] == [] and document["findings"] == []
    assert document["summary"]["index_errors"]
    assert result.code == 3  # an index could not be asked: never a plain OK


def test_an_index_a_file_names_is_reported_and_an_unlisted_one_is_not_contacted(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: visible-index-changes."""
    with HostileIndex() as other:
        (repo / "r.txt").write_text(f"--extra-index-url {other.simple_url}\n" + pinned())
        result = run(capsys, "--index-url", hostile.simple_url, "--format", "github", "r.txt")
        assert f"this file sends pip to the index {other.simple_url}" in result.out
        assert other.requests  # no allow-list: pip would go there, so the check does too
        other.requests.clear()
        result = run(
            capsys,
            "--index-url",
            hostile.simple_url,
            "--allow-index",
            "pypi.org",
            "r.txt",
        )
        assert result.code == 1
        assert "unlisted-index" in result.out and "not in --allow-index" in result.out
        assert other.requests == []
