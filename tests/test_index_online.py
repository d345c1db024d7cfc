"""Against the real pypi.org (off by default: run with `-m online`)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from reqhash_check.index.base import ProjectNotFound, ReleaseFiles, VersionNotFound
from reqhash_check.index.cache import ReleaseCache
from reqhash_check.index.multi import open_indexes

REQUESTS_2_31_WHEEL = "58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f"


@pytest.mark.online
def test_requests_2_31_0_from_pypi(tmp_path: Path) -> None:
    cache = ReleaseCache(tmp_path / "cache.sqlite3")

    async def go() -> ReleaseFiles:
        index = open_indexes(
            "https://pypi.org/simple",
            [],
            timeout=30,
            concurrency=4,
            cache=cache,
            offline=False,
        )
        try:
            release = await index.release("requests", "2.31.0")
            with pytest.raises(VersionNotFound):
                await index.release("requests", "0.0.0.1")
            with pytest.raises(ProjectNotFound):
                await index.release("this-project-does-not-exist-reqhash-check", "1.0")
            return release
        finally:
            await index.aclose()

    release = asyncio.run(go())
    wheel = next(f for f in release.files if f.filename == "requests-2.31.0-py3-none-any.whl")
    assert wheel.sha256 == REQUESTS_2_31_WHEEL
    assert release.requires_dist is not None
    assert any(r.startswith("urllib3") for r in release.requires_dist)
    cache.close()


@pytest.mark.online
def test_simple_api_of_pypi_agrees_with_the_json_api() -> None:
    from reqhash_check.index.http import HttpClient
    from reqhash_check.index.pypi import PyPIJsonIndex
    from reqhash_check.index.simple import SimpleIndex

    async def go() -> tuple[ReleaseFiles, ReleaseFiles]:
        http = HttpClient()
        simple = SimpleIndex("https://pypi.org/simple", http)
        warehouse = PyPIJsonIndex("https://pypi.org", http)
        try:
            return (
                await simple.release("urllib3", "2.2.2"),
                await warehouse.release("urllib3", "2.2.2"),
            )
        finally:
            await http.aclose()

    from_simple, from_json = asyncio.run(go())
    assert {(f.filename, f.sha256) for f in from_simple.files} == {
        (f.filename, f.sha256) for f in from_json.files
    }
    # Some mirrors leave core-metadata off their simple pages: then "unknown", never wrong.
    assert from_simple.requires_dist in (None, from_json.requires_dist)
    assert from_json.requires_dist
    assert all(f.url.startswith("https://") for f in from_json.files)
