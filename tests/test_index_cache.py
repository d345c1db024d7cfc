"""The SQLite cache: freshness, revalidation, offline mode, damage, several processes."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reqhash_check.index.base import (
    Index,
    OfflineMiss,
    ProjectNotFound,
    ReleaseFiles,
    VersionNotFound,
)
from reqhash_check.index.cache import ReleaseCache, default_cache_dir
from reqhash_check.index.pypi import PyPIJsonIndex
from reqhash_check.index.simple import SimpleIndex
from tests.fakeindex import FakeFile, FakeIndex
from tests.fixtures_index import fake_index, fast_http

__all__ = ["fake_index"]

ROOT = Path(__file__).resolve().parent.parent


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _simple(index: FakeIndex, cache: ReleaseCache | None, *, offline: bool = False) -> Index:
    return SimpleIndex(index.simple_url, fast_http(), cache=cache, offline=offline, owns_http=True)


def _pypi(index: FakeIndex, cache: ReleaseCache | None, *, offline: bool = False) -> Index:
    return PyPIJsonIndex(index.url, fast_http(), cache=cache, offline=offline, owns_http=True)


async def _release(client: Index, project: str = "demo", version: str = "1.0") -> ReleaseFiles:
    try:
        return await client.release(project, version)
    finally:
        await client.aclose()


def _demo(index: FakeIndex) -> None:
    index.add(
        "demo", "1.0", FakeFile("demo-1.0-py3-none-any.whl", content=b"w"), requires_dist=["idna"]
    )
    index.add("demo", "1.0", FakeFile("demo-1.0.tar.gz", content=b"s"))


def test_a_fresh_entry_needs_no_request(fake_index: FakeIndex, tmp_path: Path) -> None:
    _demo(fake_index)
    cache = ReleaseCache(tmp_path / "c.sqlite3")
    first = asyncio.run(_release(_simple(fake_index, cache)))
    asked = len(fake_index.requests)
    second = asyncio.run(_release(_simple(fake_index, cache)))
    assert len(fake_index.requests) == asked
    assert second == first
    assert second.requires_dist == ("idna",)
    cache.close()


@pytest.mark.parametrize("client", [_simple, _pypi])
def test_a_stale_entry_is_revalidated_with_its_etag(
    fake_index: FakeIndex, tmp_path: Path, client: object
) -> None:
    make = _simple if client is _simple else _pypi
    _demo(fake_index)
    clock = Clock()
    cache = ReleaseCache(tmp_path / "c.sqlite3", freshness=60, clock=clock)
    first = asyncio.run(_release(make(fake_index, cache)))
    asked = len(fake_index.requests)
    clock.now += 61
    second = asyncio.run(_release(make(fake_index, cache)))
    revalidation = fake_index.requests[asked:]
    assert len(revalidation) == 1
    assert revalidation[0][2].get("if-none-match", "").startswith('"')
    assert second == first
    # 304 made the entry fresh again: no request at all now.
    clock.now += 30
    asyncio.run(_release(make(fake_index, cache)))
    assert len(fake_index.requests) == asked + 1
    cache.close()


def test_revalidation_picks_up_a_change(fake_index: FakeIndex, tmp_path: Path) -> None:
    _demo(fake_index)
    clock = Clock()
    cache = ReleaseCache(tmp_path / "c.sqlite3", freshness=60, clock=clock)
    asyncio.run(_release(_simple(fake_index, cache)))
    fake_index.add("demo", "1.0", FakeFile("demo-1.0-cp312-cp312-win_amd64.whl", content=b"n"))
    assert len(asyncio.run(_release(_simple(fake_index, cache))).files) == 2  # still fresh
    clock.now += 61
    assert len(asyncio.run(_release(_simple(fake_index, cache))).files) == 3
    cache.close()


def test_offline_uses_any_entry_and_never_the_network(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    _demo(fake_index)
    clock = Clock()
    path = tmp_path / "c.sqlite3"
    cache = ReleaseCache(path, freshness=60, clock=clock)
    online = asyncio.run(_release(_simple(fake_index, cache)))
    asked = len(fake_index.requests)
    clock.now += 10**6
    fake_index.close()
    offline = asyncio.run(_release(_simple(fake_index, cache, offline=True)))
    assert offline == online
    assert len(fake_index.requests) == asked
    cache.close()


def test_offline_miss(fake_index: FakeIndex, tmp_path: Path) -> None:
    _demo(fake_index)
    cache = ReleaseCache(tmp_path / "c.sqlite3")
    with pytest.raises(OfflineMiss, match="not in the cache"):
        asyncio.run(_release(_simple(fake_index, cache, offline=True)))
    with pytest.raises(OfflineMiss):
        asyncio.run(_release(_pypi(fake_index, None, offline=True)))
    assert fake_index.requests == []
    cache.close()


def test_negative_answers_are_kept_only_while_fresh(fake_index: FakeIndex, tmp_path: Path) -> None:
    _demo(fake_index)
    clock = Clock()
    cache = ReleaseCache(tmp_path / "c.sqlite3", freshness=60, clock=clock)
    with pytest.raises(VersionNotFound):
        asyncio.run(_release(_simple(fake_index, cache), "demo", "2.0"))
    with pytest.raises(ProjectNotFound):
        asyncio.run(_release(_simple(fake_index, cache), "ghost", "1.0"))
    asked = len(fake_index.requests)
    with pytest.raises(VersionNotFound):
        asyncio.run(_release(_simple(fake_index, cache), "demo", "2.0"))
    with pytest.raises(ProjectNotFound):
        asyncio.run(_release(_simple(fake_index, cache), "ghost", "1.0"))
    assert len(fake_index.requests) == asked
    fake_index.add("demo", "2.0", FakeFile("demo-2.0.tar.gz", content=b"2"))
    clock.now += 61
    assert asyncio.run(_release(_simple(fake_index, cache), "demo", "2.0")).version == "2.0"
    with pytest.raises(OfflineMiss):
        asyncio.run(_release(_simple(fake_index, cache, offline=True), "ghost", "1.0"))
    cache.close()


def test_versions_share_an_entry_when_pep440_equal(fake_index: FakeIndex, tmp_path: Path) -> None:
    _demo(fake_index)
    cache = ReleaseCache(tmp_path / "c.sqlite3")
    asyncio.run(_release(_simple(fake_index, cache), "demo", "1.0"))
    asked = len(fake_index.requests)
    assert asyncio.run(_release(_simple(fake_index, cache), "Demo", "1.0.0")).version == "1.0"
    assert len(fake_index.requests) == asked
    cache.close()


def test_project_files_are_cached(fake_index: FakeIndex, tmp_path: Path) -> None:
    _demo(fake_index)
    cache = ReleaseCache(tmp_path / "c.sqlite3")

    async def files(offline: bool) -> set[str]:
        client = _pypi(fake_index, cache, offline=offline)
        try:
            return {f.filename for f in await client.project_files("demo")}
        finally:
            await client.aclose()

    online = asyncio.run(files(False))
    assert asyncio.run(files(True)) == online == {"demo-1.0-py3-none-any.whl", "demo-1.0.tar.gz"}
    cache.close()


@pytest.mark.parametrize(
    "damage",
    [
        b"this is not a database at all" * 100,
        b"SQLite format 3\x00" + b"\xff" * 4000,
        b"",
    ],
)
def test_a_damaged_file_is_rebuilt(
    fake_index: FakeIndex, tmp_path: Path, damage: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    _demo(fake_index)
    path = tmp_path / "c.sqlite3"
    path.write_bytes(damage)
    cache = ReleaseCache(path)
    asyncio.run(_release(_simple(fake_index, cache)))
    asked = len(fake_index.requests)
    asyncio.run(_release(_simple(fake_index, cache)))
    assert len(fake_index.requests) == asked  # the rebuilt cache works
    cache.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM answers").fetchone()[0] == 1
    conn.close()


def test_a_foreign_or_older_database_is_replaced(fake_index: FakeIndex, tmp_path: Path) -> None:
    _demo(fake_index)
    foreign = tmp_path / "foreign.sqlite3"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE other (x)")
    conn.commit()
    conn.close()
    older = tmp_path / "older.sqlite3"
    made = ReleaseCache(older)
    made.get("x", "release", "demo", "1")
    made.close()
    conn = sqlite3.connect(older)
    conn.execute("PRAGMA user_version = 0")
    conn.execute(
        "INSERT INTO answers VALUES ('x', 'release', 'demo', '1', '{}', NULL, NULL, 0, '')"
    )
    conn.commit()
    conn.close()
    for path in (foreign, older):
        ReleaseCache(path).get("x", "release", "demo", "1")  # opens and repairs
        cache = ReleaseCache(path)
        assert asyncio.run(_release(_simple(fake_index, cache))).files
        cache.close()
        conn = sqlite3.connect(path)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        rows = conn.execute("SELECT index_url FROM answers").fetchall()
        conn.close()
        assert tables == {"answers"}
        assert [r[0] for r in rows] == [f"simple:{fake_index.simple_url}"]


def _traced(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every SQL statement the caches opened from now on run."""
    statements: list[str] = []
    connect = ReleaseCache._connect

    def traced(self: ReleaseCache) -> sqlite3.Connection:
        conn = connect(self)
        conn.set_trace_callback(statements.append)
        return conn

    monkeypatch.setattr(ReleaseCache, "_connect", traced)
    return statements


_WRITES = ("BEGIN", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP")


def test_reading_a_cache_of_this_schema_writes_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A warm run only reads: setting the schema again was a write, synced at close.
    path = tmp_path / "c.sqlite3"
    made = ReleaseCache(path)
    made.put("x", "release", "demo", "1", {"a": 1})
    made.close()
    statements = _traced(monkeypatch)
    cache = ReleaseCache(path)
    entry = cache.get("x", "release", "demo", "1")
    cache.close()
    assert entry is not None and entry.payload == {"a": 1}
    written = [
        s
        for s in statements
        if s.lstrip().upper().startswith(_WRITES)
        or s.replace(" ", "").upper().startswith(("PRAGMAAPPLICATION_ID=", "PRAGMAUSER_VERSION="))
    ]
    assert statements and written == []


def test_a_cache_without_its_table_gets_it_again(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    ReleaseCache(path).close()
    made = ReleaseCache(path)
    made.get("x", "release", "demo", "1")
    made.close()
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE answers")
    conn.commit()
    conn.close()
    cache = ReleaseCache(path)
    cache.put("x", "release", "demo", "1", {"a": 1})
    entry = cache.get("x", "release", "demo", "1")
    cache.close()
    assert entry is not None and entry.payload == {"a": 1}


def test_an_unusable_cache_folder_means_no_cache(
    fake_index: FakeIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _demo(fake_index)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    cache = ReleaseCache(blocker / "c.sqlite3")
    first = asyncio.run(_release(_simple(fake_index, cache)))
    second = asyncio.run(_release(_simple(fake_index, cache)))
    assert first == second
    assert not cache.enabled
    assert fake_index.paths().count("/simple/demo/") == 2
    err = capsys.readouterr().err
    assert err.count("warning") == 1 and "going on without it" in err


def test_default_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REQHASH_CHECK_CACHE_DIR", str(tmp_path / "explicit"))
    assert default_cache_dir() == tmp_path / "explicit"
    assert ReleaseCache.in_dir().path == tmp_path / "explicit" / "index-cache.sqlite3"
    assert ReleaseCache.in_dir(tmp_path / "given").path.parent == tmp_path / "given"
    monkeypatch.delenv("REQHASH_CHECK_CACHE_DIR")
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert default_cache_dir() == tmp_path / "xdg" / "reqhash-check"
        monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
        monkeypatch.setenv("HOME", str(tmp_path))
        assert default_cache_dir() == tmp_path / ".cache" / "reqhash-check"


WORKER = textwrap.dedent(
    """
    import asyncio, json, sys
    from pathlib import Path
    from reqhash_check.index.cache import ReleaseCache
    from reqhash_check.index.http import HttpClient, HttpSettings
    from reqhash_check.index.simple import SimpleIndex

    url, path, worker = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])

    async def main():
        found = {}
        for round in range(3):
            cache = ReleaseCache(path, freshness=0.05 if round == 1 else 600)
            client = SimpleIndex(url, HttpClient(HttpSettings(backoff=0)), cache=cache,
                                 owns_http=True)
            try:
                order = list(range(12))
                order = order[worker:] + order[:worker]
                for n in order:
                    release = await client.release(f"p{n}", "1.0")
                    found[f"p{n}"] = sorted(f.sha256 for f in release.files)
            finally:
                await client.aclose()
                cache.close()
        return found

    print(json.dumps(asyncio.run(main())))
    """
)


def test_four_processes_share_one_cache(fake_index: FakeIndex, tmp_path: Path) -> None:
    expected = {}
    for n in range(12):
        files = [FakeFile(f"p{n}-1.0.tar.gz", content=f"sdist {n}".encode())]
        files.append(FakeFile(f"p{n}-1.0-py3-none-any.whl", content=f"wheel {n}".encode()))
        for file in files:
            fake_index.add(f"p{n}", "1.0", file)
        expected[f"p{n}"] = sorted(f.digest for f in files)
    path = tmp_path / "shared.sqlite3"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, fake_index.simple_url, str(path), str(w)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        for w in range(4)
    ]
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        assert err == ""
        assert json.loads(out) == expected
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM answers").fetchone()[0] == 12
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
