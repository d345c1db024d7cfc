"""The Warehouse JSON API client against the fake index, on recorded PyPI data."""

from __future__ import annotations

import asyncio

import pytest

from reqhash_check.index.base import (
    IndexUnavailable,
    ProjectNotFound,
    ReleaseFiles,
    VersionNotFound,
)
from reqhash_check.index.pypi import PyPIJsonIndex
from reqhash_check.urls import is_pypi_simple_url, pypi_base_url
from tests.fakeindex import FakeFile, FakeIndex
from tests.fixtures_index import fake_index, fast_http

__all__ = ["fake_index"]

REQUESTS_2_31_WHEEL = "58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f"


async def _release(index: FakeIndex, project: str, version: str) -> ReleaseFiles:
    http = fast_http()
    client = PyPIJsonIndex(index.url, http, owns_http=True)
    try:
        return await client.release(project, version)
    finally:
        await client.aclose()


def test_release_from_the_simple_page_when_per_version_endpoint_is_missing(
    fake_index: FakeIndex,
) -> None:
    fake_index.load_recorded("requests")
    release = asyncio.run(_release(fake_index, "requests", "2.31.0"))
    assert release.version == "2.31.0"
    by_name = {f.filename: f for f in release.files}
    assert set(by_name) == {"requests-2.31.0-py3-none-any.whl", "requests-2.31.0.tar.gz"}
    assert by_name["requests-2.31.0-py3-none-any.whl"].sha256 == REQUESTS_2_31_WHEEL
    assert by_name["requests-2.31.0-py3-none-any.whl"].requires_python == ">=3.7"
    assert fake_index.paths()[:2] == ["/pypi/requests/2.31.0/json", "/simple/requests/"]
    assert "/pypi/requests/json" not in fake_index.paths()


def test_release_from_the_project_json_when_there_is_no_simple_page(
    fake_index: FakeIndex,
) -> None:
    fake_index.load_recorded("requests")
    fake_index.fail("/simple/", 404)
    release = asyncio.run(_release(fake_index, "requests", "2.31.0"))
    assert REQUESTS_2_31_WHEEL in {f.sha256 for f in release.files}
    assert fake_index.paths()[:3] == [
        "/pypi/requests/2.31.0/json",
        "/simple/requests/",
        "/pypi/requests/json",
    ]


def test_a_missing_per_version_endpoint_is_learnt_once_per_run(fake_index: FakeIndex) -> None:
    fake_index.load_recorded("requests")

    async def go() -> None:
        client = PyPIJsonIndex(fake_index.url, fast_http(), owns_http=True)
        try:
            await client.release("requests", "2.31.0")
            await client.release("requests", "2.32.3")
        finally:
            await client.aclose()

    asyncio.run(go())
    assert "/pypi/requests/2.32.3/json" not in fake_index.paths()


def test_per_version_endpoint_is_used_when_served(fake_index: FakeIndex) -> None:
    fake_index.load_recorded("requests")
    fake_index.per_version_json = True
    release = asyncio.run(_release(fake_index, "requests", "2.31.0"))
    assert {f.sha256 for f in release.files} >= {REQUESTS_2_31_WHEEL}
    assert "/pypi/requests/json" not in fake_index.paths()


def test_requires_dist_of_an_older_release_comes_from_core_metadata(fake_index: FakeIndex) -> None:
    fake_index.load_recorded("requests")
    release = asyncio.run(_release(fake_index, "requests", "2.31.0"))
    assert release.requires_dist is not None
    assert any(r.startswith("urllib3") for r in release.requires_dist)
    assert "/files/requests-2.31.0-py3-none-any.whl.metadata" in fake_index.paths()


def test_the_wheels_own_metadata_wins_over_info(fake_index: FakeIndex) -> None:
    # Seen on PyPI: info.requires_dist listed a dependency the wheel's METADATA had dropped.
    metadata = b"Metadata-Version: 2.1\nName: demo\nVersion: 2.0\nRequires-Dist: tzdata\n"
    fake_index.add("demo", "1.0", FakeFile("demo-1.0-py3-none-any.whl", content=b"one"))
    fake_index.add(
        "demo",
        "2.0",
        FakeFile("demo-2.0-py3-none-any.whl", content=b"two", metadata=metadata),
        requires_dist=["six>=1.6", "tzdata"],
    )
    release = asyncio.run(_release(fake_index, "demo", "2.0"))
    assert release.requires_dist == ("tzdata",)
    assert "/files/demo-2.0-py3-none-any.whl.metadata" in fake_index.paths()


def test_info_requires_dist_when_no_metadata_is_published(fake_index: FakeIndex) -> None:
    fake_index.per_version_json = True
    fake_index.serve_metadata = False
    fake_index.add(
        "demo",
        "2.0",
        FakeFile("demo-2.0.zip", content=b"two"),
        requires_dist=["idna>=3"],
    )
    release = asyncio.run(_release(fake_index, "demo", "2.0"))
    assert release.requires_dist == ("idna>=3",)
    assert not release.requires_dist_exact


def test_requires_dist_unknown_without_metadata(fake_index: FakeIndex) -> None:
    fake_index.add("demo", "1.0", FakeFile("demo-1.0.tar.gz", content=b"sdist"))
    fake_index.add("demo", "2.0", FakeFile("demo-2.0.tar.gz", content=b"sdist2"))
    release = asyncio.run(_release(fake_index, "demo", "1.0"))
    assert release.requires_dist is None


def test_yanked_release_keeps_its_reason(fake_index: FakeIndex) -> None:
    fake_index.load_recorded("requests")
    release = asyncio.run(_release(fake_index, "requests", "2.32.0"))
    assert release.yanked
    assert {f.yanked_reason for f in release.files} == {
        "Yanked due to conflicts with CVE-2024-35195 mitigation"
    }
    assert not asyncio.run(_release(fake_index, "requests", "2.32.3")).yanked


def test_pep440_equal_version_is_found(fake_index: FakeIndex) -> None:
    fake_index.add("demo", "1.0.0", FakeFile("demo-1.0.0-py3-none-any.whl", content=b"x"))
    release = asyncio.run(_release(fake_index, "demo", "1.0"))
    assert release.version == "1.0.0"
    assert [f.filename for f in release.files] == ["demo-1.0.0-py3-none-any.whl"]


def test_many_platform_wheels(fake_index: FakeIndex) -> None:
    fake_index.load_recorded("numpy")
    release = asyncio.run(_release(fake_index, "numpy", "1.26.4"))
    wheels = [f for f in release.files if f.is_wheel]
    assert len(wheels) > 20
    assert any("manylinux" in f.filename for f in wheels)
    assert all(f.sha256 and len(f.sha256) == 64 for f in release.files)


def test_unknown_project(fake_index: FakeIndex) -> None:
    with pytest.raises(ProjectNotFound):
        asyncio.run(_release(fake_index, "no-such-project", "1.0"))
    assert fake_index.paths() == [
        "/pypi/no-such-project/1.0/json",
        "/simple/no-such-project/",
        "/pypi/no-such-project/json",
    ]


def test_unknown_version(fake_index: FakeIndex) -> None:
    fake_index.load_recorded("six")
    with pytest.raises(VersionNotFound, match="99.0"):
        asyncio.run(_release(fake_index, "six", "99.0"))


@pytest.mark.parametrize("name", ["../etc", "a/b", "-lead", "bad name", "x%2f", ""])
def test_invalid_names_never_reach_the_server(fake_index: FakeIndex, name: str) -> None:
    with pytest.raises(ProjectNotFound, match="not a valid project name"):
        asyncio.run(_release(fake_index, name, "1.0"))
    assert fake_index.requests == []


def test_names_are_normalised(fake_index: FakeIndex) -> None:
    fake_index.load_recorded("charset-normalizer")
    release = asyncio.run(_release(fake_index, "Charset_Normalizer", "3.3.2"))
    assert release.project == "charset-normalizer"
    assert fake_index.paths()[0] == "/pypi/charset-normalizer/3.3.2/json"


@pytest.mark.parametrize("path", ["/pypi/six/1.16.0/json", "/simple/six/"])
def test_garbage_is_index_unavailable(fake_index: FakeIndex, path: str) -> None:
    fake_index.load_recorded("six")
    fake_index.per_version_json = path.startswith("/pypi")
    fake_index.garbage(path)
    with pytest.raises(IndexUnavailable, match="answered with an answer that is not JSON"):
        asyncio.run(_release(fake_index, "six", "1.16.0"))


def test_wrong_shape_is_index_unavailable(fake_index: FakeIndex) -> None:
    fake_index.fail("/simple/six/", 404)
    fake_index.fail("/pypi/six/json", 200, body=b'{"info": {"name": "six"}, "releases": []}')
    with pytest.raises(IndexUnavailable, match="a project document without releases"):
        asyncio.run(_release(fake_index, "six", "1.16.0"))


def test_relative_file_urls_are_resolved(fake_index: FakeIndex) -> None:
    fake_index.relative_urls = True
    fake_index.add("demo", "1.0", FakeFile("demo-1.0-py3-none-any.whl", content=b"x"))
    release = asyncio.run(_release(fake_index, "demo", "1.0"))
    assert release.files[0].url == f"{fake_index.url}/files/demo-1.0-py3-none-any.whl"


def test_project_files_cover_every_release(fake_index: FakeIndex) -> None:
    fake_index.load_recorded("requests")

    async def go() -> set[str]:
        client = PyPIJsonIndex(fake_index.url, fast_http(), owns_http=True)
        try:
            return {f.version for f in await client.project_files("requests")}
        finally:
            await client.aclose()

    versions = asyncio.run(go())
    assert {"2.31.0", "2.32.0", "2.32.3"} <= versions


def test_the_project_page_is_fetched_once_per_run(fake_index: FakeIndex) -> None:
    fake_index.load_recorded("requests")

    async def go() -> None:
        client = PyPIJsonIndex(fake_index.url, fast_http(), owns_http=True)
        try:
            await asyncio.gather(
                client.release("requests", "2.31.0"),
                client.release("requests", "2.32.3"),
                client.project_files("requests"),
            )
        finally:
            await client.aclose()

    asyncio.run(go())
    assert fake_index.paths().count("/simple/requests/") == 1


def test_which_urls_use_the_json_api() -> None:
    assert is_pypi_simple_url("https://pypi.org/simple")
    assert is_pypi_simple_url("https://pypi.org/simple/")
    assert is_pypi_simple_url("https://test.pypi.org/simple/")
    assert not is_pypi_simple_url("https://example.org/simple")
    assert not is_pypi_simple_url("https://pypi.org/other/simple")
    assert pypi_base_url("https://u:p@pypi.org/simple/") == "https://u:p@pypi.org"
