"""The fake index itself: what it serves, and that real pip accepts it."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest

from tests.fakeindex import FakeFile, FakeIndex
from tests.fixtures_index import fake_index

__all__ = ["fake_index"]


def tiny_wheel(name: str, version: str, requires: tuple[str, ...] = ()) -> tuple[str, bytes]:
    """A minimal valid pure-Python wheel, made in memory."""
    dist_info = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires
    )
    files = {
        f"{name}/__init__.py": b"",
        f"{dist_info}/METADATA": metadata.encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    record = "".join(
        f"{path},sha256={hashlib.sha256(data).hexdigest()},{len(data)}\n"
        for path, data in files.items()
    )
    files[f"{dist_info}/RECORD"] = (record + f"{dist_info}/RECORD,,\n").encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return f"{name}-{version}-py3-none-any.whl", buffer.getvalue()


def _get(
    url: str, accept: str | None = None, etag: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url)
    if accept:
        request.add_header("Accept", accept)
    if etag:
        request.add_header("If-None-Match", etag)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def test_serves_the_warehouse_and_simple_shapes(fake_index: FakeIndex) -> None:
    fake_index.load_recorded("requests")
    status, headers, body = _get(f"{fake_index.url}/pypi/requests/json")
    project = json.loads(body)
    assert status == 200
    assert project["info"]["version"] == "2.34.2"
    assert "2.31.0" in project["releases"]
    assert project["urls"] and project["info"]["requires_dist"]
    assert _get(f"{fake_index.url}/pypi/requests/2.31.0/json")[0] == 404
    fake_index.per_version_json = True
    status, _, body = _get(f"{fake_index.url}/pypi/requests/2.31.0/json")
    assert status == 200 and json.loads(body)["info"]["version"] == "2.31.0"

    status, headers, body = _get(
        f"{fake_index.simple_url}/requests/", accept="application/vnd.pypi.simple.v1+json"
    )
    assert headers["Content-Type"] == "application/vnd.pypi.simple.v1+json"
    assert any(f["filename"] == "requests-2.31.0.tar.gz" for f in json.loads(body)["files"])
    status, headers, body = _get(f"{fake_index.simple_url}/requests/", accept="text/html")
    assert headers["Content-Type"].startswith("text/html")
    assert b'data-yanked="Yanked due to conflicts' in body
    assert _get(f"{fake_index.simple_url}/")[2].count(b"<a ") == 1


def test_etag_and_304(fake_index: FakeIndex) -> None:
    fake_index.add("demo", "1.0", FakeFile("demo-1.0.tar.gz", content=b"x"))
    status, headers, _ = _get(f"{fake_index.url}/pypi/demo/json")
    assert status == 200
    etag = headers["ETag"]
    assert _get(f"{fake_index.url}/pypi/demo/json", etag=etag)[0] == 304
    fake_index.add("demo", "1.1", FakeFile("demo-1.1.tar.gz", content=b"y"))
    assert _get(f"{fake_index.url}/pypi/demo/json", etag=etag)[0] == 200


def test_files_and_metadata(fake_index: FakeIndex) -> None:
    fake_index.add(
        "demo", "1.0", FakeFile("demo-1.0-py3-none-any.whl", content=b"w"), requires_dist=["idna"]
    )
    assert _get(f"{fake_index.url}/files/demo-1.0-py3-none-any.whl")[2] == b"w"
    metadata = _get(f"{fake_index.url}/files/demo-1.0-py3-none-any.whl.metadata")[2]
    assert b"Requires-Dist: idna" in metadata
    assert _get(f"{fake_index.url}/files/missing.whl")[0] == 404


def test_faults_are_counted_and_requests_recorded(fake_index: FakeIndex) -> None:
    fake_index.add("demo", "1.0", FakeFile("demo-1.0.tar.gz", content=b"x"))
    fake_index.fail("/pypi/demo/", 503, times=1, retry_after="2")
    status, headers, _ = _get(f"{fake_index.url}/pypi/demo/json")
    assert status == 503 and headers["Retry-After"] == "2"
    assert _get(f"{fake_index.url}/pypi/demo/json")[0] == 200
    assert [(m, p) for m, p, _ in fake_index.requests] == [("GET", "/pypi/demo/json")] * 2


def _pip(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PIP_CONFIG_FILE": os.devnull,
        "PIP_FIND_LINKS": "",
        "PIP_EXTRA_INDEX_URL": "",
        "PIP_INDEX_URL": "",
        "PIP_NO_INPUT": "1",
    }
    command = [sys.executable, "-m", "pip", "--isolated", "--no-cache-dir"]
    command += ["--disable-pip-version-check", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("page_format", ["auto", "html"])
def test_real_pip_downloads_with_hashes(
    fake_index: FakeIndex, tmp_path: Path, page_format: str
) -> None:
    fake_index.simple_format = page_format
    filename, content = tiny_wheel("tinydemo", "1.0")
    fake_index.add("tinydemo", "1.0", FakeFile(filename, content=content))
    good = hashlib.sha256(content).hexdigest()
    (tmp_path / "ok.txt").write_text(f"tinydemo==1.0 --hash=sha256:{good}\n")
    (tmp_path / "bad.txt").write_text(f"tinydemo==1.0 --hash=sha256:{'0' * 64}\n")
    base = ["download", "--no-deps", "--index-url", fake_index.simple_url]

    ok = _pip(*base, "-d", "ok", "-r", "ok.txt", cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert (tmp_path / "ok" / filename).read_bytes() == content

    bad = _pip(*base, "-d", "bad", "-r", "bad.txt", cwd=tmp_path)
    assert bad.returncode != 0
    assert "THESE PACKAGES DO NOT MATCH THE HASHES" in bad.stderr
    page_requests = [h for _, p, h in fake_index.requests if p == "/simple/tinydemo/"]
    assert "application/vnd.pypi.simple.v1+json" in page_requests[0].get("accept", "")


def test_real_pip_resolves_dependencies_through_core_metadata(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    app_name, app = tiny_wheel("tinyapp", "2.0", requires=("tinydemo==1.0",))
    lib_name, lib = tiny_wheel("tinydemo", "1.0")
    fake_index.add(
        "tinyapp", "2.0", FakeFile(app_name, content=app), requires_dist=["tinydemo==1.0"]
    )
    fake_index.add("tinydemo", "1.0", FakeFile(lib_name, content=lib))
    lines = [
        f"tinyapp==2.0 --hash=sha256:{hashlib.sha256(app).hexdigest()}",
        f"tinydemo==1.0 --hash=sha256:{hashlib.sha256(lib).hexdigest()}",
    ]
    (tmp_path / "req.txt").write_text("\n".join(lines) + "\n")
    (tmp_path / "missing.txt").write_text(lines[0] + "\n")
    base = ["download", "--index-url", fake_index.simple_url]
    ok = _pip(*base, "-d", "ok", "-r", "req.txt", cwd=tmp_path)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert sorted(p.name for p in (tmp_path / "ok").iterdir()) == sorted([app_name, lib_name])
    missing = _pip(*base, "-d", "missing", "-r", "missing.txt", cwd=tmp_path)
    assert missing.returncode != 0
    assert "Hashes are required in --require-hashes mode" in missing.stderr
