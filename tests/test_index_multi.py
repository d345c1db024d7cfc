"""Several indexes merged the way pip merges --index-url and --extra-index-url."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from reqhash_check.index.base import (
    Index,
    IndexUnavailable,
    OfflineMiss,
    ProjectNotFound,
    ReleaseFiles,
    VersionNotFound,
)
from reqhash_check.index.multi import MultiIndex, open_indexes
from reqhash_check.index.pypi import PyPIJsonIndex
from reqhash_check.index.simple import SimpleIndex
from tests.fakeindex import FakeFile, FakeIndex
from tests.fixtures_index import fake_index

__all__ = ["fake_index"]


@pytest.fixture
def second_index() -> Iterator[FakeIndex]:
    with FakeIndex() as index:
        yield index


def _open(primary: FakeIndex, extra: FakeIndex, *, offline: bool = False) -> Index:
    return open_indexes(
        primary.simple_url,
        [extra.simple_url],
        timeout=5,
        concurrency=4,
        cache=None,
        offline=offline,
        retries=1,
        backoff=0,
    )


async def _release(index: Index, project: str, version: str) -> ReleaseFiles:
    try:
        return await index.release(project, version)
    finally:
        await index.aclose()


def test_files_from_every_index_are_merged(fake_index: FakeIndex, second_index: FakeIndex) -> None:
    fake_index.add("demo", "1.0", FakeFile("demo-1.0.tar.gz", content=b"sdist"))
    second_index.add("demo", "1.0", FakeFile("demo-1.0.tar.gz", content=b"sdist"))
    second_index.add(
        "demo",
        "1.0",
        FakeFile("demo-1.0-cp312-cp312-manylinux_2_28_x86_64.whl", content=b"private build"),
        requires_dist=["idna"],
    )
    release = asyncio.run(_release(_open(fake_index, second_index), "demo", "1.0"))
    assert sorted(f.filename for f in release.files) == [
        "demo-1.0-cp312-cp312-manylinux_2_28_x86_64.whl",
        "demo-1.0.tar.gz",
    ]
    assert release.requires_dist == ("idna",)
    assert fake_index.simple_url in release.index_url
    assert second_index.simple_url in release.index_url


def test_same_name_different_content_is_kept_twice(
    fake_index: FakeIndex, second_index: FakeIndex
) -> None:
    fake_index.add("demo", "1.0", FakeFile("demo-1.0.tar.gz", content=b"one"))
    second_index.add("demo", "1.0", FakeFile("demo-1.0.tar.gz", content=b"two"))
    release = asyncio.run(_release(_open(fake_index, second_index), "demo", "1.0"))
    assert len({f.sha256 for f in release.files}) == 2


def test_version_on_one_index_only(fake_index: FakeIndex, second_index: FakeIndex) -> None:
    fake_index.add("demo", "1.0", FakeFile("demo-1.0.tar.gz", content=b"one"))
    second_index.add("demo", "2.0", FakeFile("demo-2.0.tar.gz", content=b"two"))
    release = asyncio.run(_release(_open(fake_index, second_index), "demo", "2.0"))
    assert [f.filename for f in release.files] == ["demo-2.0.tar.gz"]
    with pytest.raises(VersionNotFound):
        asyncio.run(_release(_open(fake_index, second_index), "demo", "3.0"))


def test_project_not_found_only_when_no_index_has_it(
    fake_index: FakeIndex, second_index: FakeIndex
) -> None:
    second_index.add("demo", "1.0", FakeFile("demo-1.0.tar.gz", content=b"one"))
    assert asyncio.run(_release(_open(fake_index, second_index), "demo", "1.0")).files
    with pytest.raises(ProjectNotFound):
        asyncio.run(_release(_open(fake_index, second_index), "ghost", "1.0"))


def test_an_unavailable_index_does_not_hide_an_answer(
    fake_index: FakeIndex, second_index: FakeIndex
) -> None:
    fake_index.fail("/simple/", 503)
    second_index.add("demo", "1.0", FakeFile("demo-1.0.tar.gz", content=b"one"))
    assert asyncio.run(_release(_open(fake_index, second_index), "demo", "1.0")).files
    with pytest.raises(IndexUnavailable, match="HTTP 503 after 2 attempts"):
        asyncio.run(_release(_open(fake_index, second_index), "demo", "9.9"))
    with pytest.raises(IndexUnavailable):
        asyncio.run(_release(_open(fake_index, second_index), "ghost", "1.0"))


def test_project_files_from_every_index(fake_index: FakeIndex, second_index: FakeIndex) -> None:
    fake_index.add("demo", "1.0", FakeFile("demo-1.0.tar.gz", content=b"one"))
    second_index.add("demo", "2.0", FakeFile("demo-2.0.tar.gz", content=b"two"))

    async def go() -> set[str]:
        index = _open(fake_index, second_index)
        try:
            return {f.version for f in await index.project_files("demo")}
        finally:
            await index.aclose()

    assert asyncio.run(go()) == {"1.0", "2.0"}


def test_offline_without_cache(fake_index: FakeIndex, second_index: FakeIndex) -> None:
    with pytest.raises(OfflineMiss):
        asyncio.run(_release(_open(fake_index, second_index, offline=True), "demo", "1.0"))
    assert fake_index.requests == [] and second_index.requests == []


def test_pypi_urls_use_the_json_api() -> None:
    async def go() -> None:
        index = open_indexes(
            "",
            ["https://pypi.org/simple/", "https://u:p@private.example/simple"],
            timeout=5,
            concurrency=2,
            cache=None,
            offline=True,
        )
        try:
            assert isinstance(index, MultiIndex)
            first, second = index.indexes
            assert isinstance(first, PyPIJsonIndex)
            assert first.base_url == "https://pypi.org"
            assert first.display_url == "https://pypi.org/simple"
            assert isinstance(second, SimpleIndex)
            assert second.display_url == "https://****@private.example/simple"
            assert "u:p" not in index.display_url
        finally:
            await index.aclose()

    asyncio.run(go())
