"""The Simple API client (PEP 691 JSON and PEP 503 HTML) against the fake index."""

from __future__ import annotations

import asyncio
import hashlib
import json

import pytest

from reqhash_check.index.base import (
    DistFile,
    IndexUnavailable,
    ProjectNotFound,
    ReleaseFiles,
    VersionNotFound,
)
from reqhash_check.index.simple import SimpleIndex
from tests.fakeindex import FakeFile, FakeIndex
from tests.fixtures_index import fake_index, fast_http

__all__ = ["fake_index"]

REQUESTS_2_31_WHEEL = "58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f"


async def _release(url: str, project: str, version: str) -> ReleaseFiles:
    client = SimpleIndex(url, fast_http(), owns_http=True)
    try:
        return await client.release(project, version)
    finally:
        await client.aclose()


async def _project_files(url: str, project: str) -> tuple[DistFile, ...]:
    client = SimpleIndex(url, fast_http(), owns_http=True)
    try:
        return await client.project_files(project)
    finally:
        await client.aclose()


@pytest.fixture(params=["json", "html"])
def page_format(request: pytest.FixtureRequest, fake_index: FakeIndex) -> str:
    fake_index.simple_format = request.param
    return str(request.param)


def test_recorded_release(fake_index: FakeIndex, page_format: str) -> None:
    fake_index.load_recorded("requests")
    release = asyncio.run(_release(fake_index.simple_url, "requests", "2.31.0"))
    by_name = {f.filename: f for f in release.files}
    assert set(by_name) == {"requests-2.31.0-py3-none-any.whl", "requests-2.31.0.tar.gz"}
    wheel = by_name["requests-2.31.0-py3-none-any.whl"]
    assert wheel.sha256 == REQUESTS_2_31_WHEEL
    assert wheel.requires_python == ">=3.7"
    assert wheel.url == f"{fake_index.url}/files/requests-2.31.0-py3-none-any.whl"
    assert release.requires_dist is not None
    assert any(r.startswith("idna") for r in release.requires_dist)
    accept = fake_index.requests[0][2]["accept"]
    assert accept.startswith("application/vnd.pypi.simple.v1+json")


def test_yanked_reason(fake_index: FakeIndex, page_format: str) -> None:
    fake_index.load_recorded("requests")
    release = asyncio.run(_release(fake_index.simple_url, "requests", "2.32.0"))
    assert release.yanked
    assert release.files[0].yanked_reason == (
        "Yanked due to conflicts with CVE-2024-35195 mitigation"
    )


def test_yanked_without_reason(fake_index: FakeIndex, page_format: str) -> None:
    fake_index.add("demo", "1.0", FakeFile("demo-1.0.tar.gz", content=b"x", yanked=True))
    release = asyncio.run(_release(fake_index.simple_url, "demo", "1.0"))
    assert release.files[0].yanked
    assert release.files[0].yanked_reason is None


def test_requires_python_is_unescaped(fake_index: FakeIndex, page_format: str) -> None:
    fake_index.add(
        "demo",
        "1.0",
        FakeFile("demo-1.0.tar.gz", content=b"x", requires_python=">=3.8,<4&!=3.9.*"),
    )
    release = asyncio.run(_release(fake_index.simple_url, "demo", "1.0"))
    assert release.files[0].requires_python == ">=3.8,<4&!=3.9.*"


def test_requires_dist_from_core_metadata(fake_index: FakeIndex, page_format: str) -> None:
    fake_index.add(
        "demo",
        "1.0",
        FakeFile("demo-1.0-py3-none-any.whl", content=b"w"),
        requires_dist=["idna>=3", 'six; python_version < "3"'],
    )
    fake_index.add("demo", "1.0", FakeFile("demo-1.0.tar.gz", content=b"s"))
    release = asyncio.run(_release(fake_index.simple_url, "demo", "1.0"))
    assert release.requires_dist == ("idna>=3", 'six; python_version < "3"')
    assert "/files/demo-1.0-py3-none-any.whl.metadata" in fake_index.paths()


def test_core_metadata_with_a_wrong_hash_is_not_trusted(fake_index: FakeIndex) -> None:
    metadata = b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: evil\n\n"
    fake_index.add("demo", "1.0", FakeFile("demo-1.0-py3-none-any.whl", b"w", metadata=metadata))
    page = {
        "meta": {"api-version": "1.0"},
        "name": "demo",
        "files": [
            {
                "filename": "demo-1.0-py3-none-any.whl",
                "url": "/files/demo-1.0-py3-none-any.whl",
                "hashes": {"sha256": hashlib.sha256(b"w").hexdigest()},
                "core-metadata": {"sha256": "00" * 32},
            }
        ],
    }
    fake_index.fail(
        "/simple/demo/",
        200,
        body=json.dumps(page).encode(),
        content_type="application/vnd.pypi.simple.v1+json",
    )
    release = asyncio.run(_release(fake_index.simple_url, "demo", "1.0"))
    assert release.files[0].sha256 == hashlib.sha256(b"w").hexdigest()
    assert "/files/demo-1.0-py3-none-any.whl.metadata" in fake_index.paths()
    assert release.requires_dist is None


def test_no_metadata_means_unknown_dependencies(fake_index: FakeIndex, page_format: str) -> None:
    fake_index.add("demo", "1.0", FakeFile("demo-1.0.tar.gz", content=b"x"))
    release = asyncio.run(_release(fake_index.simple_url, "demo", "1.0"))
    assert release.requires_dist is None
    assert not any(p.endswith(".metadata") for p in fake_index.paths())


def test_relative_urls(fake_index: FakeIndex, page_format: str) -> None:
    fake_index.relative_urls = True
    fake_index.add("demo", "1.0", FakeFile("demo-1.0-py3-none-any.whl", content=b"x"))
    release = asyncio.run(_release(fake_index.simple_url, "demo", "1.0"))
    assert release.files[0].url == f"{fake_index.url}/files/demo-1.0-py3-none-any.whl"


def test_pep440_equal_versions_and_other_projects_files(
    fake_index: FakeIndex, page_format: str
) -> None:
    fake_index.add("demo", "1.0.0", FakeFile("demo-1.0.0-py3-none-any.whl", content=b"a"))
    fake_index.add("demo", "1.0.0", FakeFile("demo-1.0.0.tar.gz", content=b"b"))
    fake_index.add("demo", "1.0.0", FakeFile("demo-extra-1.0.0.tar.gz", content=b"c"))
    fake_index.add("demo", "1.0.0", FakeFile("not-a-dist-file.txt", content=b"d"))
    fake_index.add("demo", "1.1", FakeFile("demo-1.1.tar.gz", content=b"e"))
    release = asyncio.run(_release(fake_index.simple_url, "demo", "1"))
    assert sorted(f.filename for f in release.files) == [
        "demo-1.0.0-py3-none-any.whl",
        "demo-1.0.0.tar.gz",
    ]
    files = asyncio.run(_project_files(fake_index.simple_url, "demo"))
    assert {(f.filename, f.version) for f in files} == {
        ("demo-1.0.0-py3-none-any.whl", "1.0.0"),
        ("demo-1.0.0.tar.gz", "1.0.0"),
        ("demo-1.1.tar.gz", "1.1"),
    }


def test_many_platform_wheels(fake_index: FakeIndex, page_format: str) -> None:
    fake_index.load_recorded("charset-normalizer")
    release = asyncio.run(_release(fake_index.simple_url, "charset-normalizer", "3.3.2"))
    assert len([f for f in release.files if f.is_wheel]) > 50
    assert all(f.sha256 for f in release.files)


def test_unknown_project_and_version(fake_index: FakeIndex) -> None:
    fake_index.load_recorded("six")
    with pytest.raises(ProjectNotFound):
        asyncio.run(_release(fake_index.simple_url, "nothing-here", "1.0"))
    with pytest.raises(VersionNotFound):
        asyncio.run(_release(fake_index.simple_url, "six", "0.0.1"))


def test_invalid_name_never_reaches_the_server(fake_index: FakeIndex) -> None:
    with pytest.raises(ProjectNotFound):
        asyncio.run(_release(fake_index.simple_url, "../../etc/passwd", "1.0"))
    assert fake_index.requests == []


def test_garbage_page(fake_index: FakeIndex) -> None:
    fake_index.load_recorded("six")
    fake_index.garbage("/simple/six/")
    with pytest.raises(IndexUnavailable, match="answered with an answer that is not JSON"):
        asyncio.run(_release(fake_index.simple_url, "six", "1.16.0"))


def test_html_page_with_base_and_escaped_names(fake_index: FakeIndex) -> None:
    page = (
        b'<html><head><base href="/elsewhere/"></head><body>'
        b'<a href="../files/demo-1.0.tar.gz#sha256=' + b"ab" * 32 + b'" '
        b'data-requires-python="&gt;=3.9" data-yanked="">demo-1.0.tar.gz</a>'
        b"</body></html>"
    )
    fake_index.add("demo", "1.0", FakeFile("demo-1.0.tar.gz", content=b"x"))
    fake_index.fail("/simple/demo/", 200, body=page, content_type="text/html")
    release = asyncio.run(_release(fake_index.simple_url, "demo", "1.0"))
    (dist,) = release.files
    assert dist.url == f"{fake_index.url}/files/demo-1.0.tar.gz"
    assert dist.sha256 == "ab" * 32
    assert dist.requires_python == ">=3.9"
    assert dist.yanked and dist.yanked_reason is None
