"""Archive members that expand to gigabytes from a few KB: every decompression is streamed
and capped, so a run stays small and says the dependencies are not known.

Each bomb runs the real command line in a child process that reports how much its peak
memory grew during `main()`; before the cap, the bzip2 wheel alone took over 1 GiB."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import reqhash_check
from tests.hostile import HostileIndex
from tests.security.conftest import pinned, run
from tests.wheelfactory import (
    BuiltFile,
    RawMember,
    bomb_wheel,
    core_metadata,
    raw_member,
    tar_gz_sdist_behind_zeros,
    zeros_bzip2,
    zeros_deflate,
    zip_archive,
    zip_sdist,
)

GIB = 1 << 30
MAX_GROWTH_MB = 64
"""What a run may add to its peak memory: the HTTP layer and its imports, tens of MB."""
METHODS = [zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2]
MODERN = b"Metadata-Version: 2.2\nName: demo\nVersion: 1.0\n\n"

_CHILD = """
import resource, sys
from reqhash_check.cli import main
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
code = main(sys.argv[1:])
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before  # KiB; bytes on macOS
print(f"GROWTH_KB={grown // 1024 if sys.platform == 'darwin' else grown}", file=sys.stderr)
raise SystemExit(code)
"""


def _run_child(index: HostileIndex, served: BuiltFile) -> tuple[int, dict[str, object], int]:
    """(exit code, the JSON report, peak memory growth in MB) of a child process's run."""
    index.behaviour = "files"
    index.files = {served.filename: served.content}
    Path("r.txt").write_text(pinned(digest=served.sha256))
    source = str(Path(reqhash_check.__file__).parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")])}
    child = subprocess.run(
        [sys.executable, "-c", _CHILD, "--index-url", index.simple_url, "--format", "json",
         "r.txt"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )  # fmt: skip
    assert "Traceback" not in child.stderr and "internal error" not in child.stderr
    growth = next(
        int(line.partition("=")[2]) // 1024
        for line in child.stderr.splitlines()
        if line.startswith("GROWTH_KB=")
    )
    return child.returncode, json.loads(child.stdout), growth


def _unknown(report: dict[str, object]) -> list[str]:
    summary = report["summary"]
    assert isinstance(summary, dict)
    return list(summary["dependencies_unknown"])


@pytest.mark.parametrize("before", [b"", b"#!/bin/sh\n"], ids=["plain", "data-before"])
@pytest.mark.parametrize("method", METHODS, ids=["deflate", "bzip2"])
def test_a_wheel_whose_metadata_is_a_bomb_stops_at_the_cap(
    repo: Path, hostile: HostileIndex, method: int, before: bytes
) -> None:
    """Promise: bounded-memory (archives). METADATA says it holds 47 bytes; its few KB
    (bzip2) or 1 MiB (deflate) expand to 1 GiB of zeros; read by range requests. With data
    before the archive, zipfile reads the directory, and the member is still ours to cap."""
    wheel = bomb_wheel("demo", "1.0", method, GIB, before)
    code, report, growth = _run_child(hostile, wheel)
    assert growth < MAX_GROWTH_MB, growth
    assert code == 0
    assert _unknown(report) == ["1 requirement: the wheel's metadata could not be read"]
    assert any("Range" in headers for path, headers in hostile.requests if ".whl" in path)


@pytest.mark.parametrize("method", METHODS, ids=["deflate", "bzip2"])
def test_a_zip_sdist_whose_pkg_info_is_a_bomb_stops_at_the_cap(
    repo: Path, hostile: HostileIndex, method: int
) -> None:
    """Promise: bounded-memory (archives). A `.zip` sdist whose PKG-INFO expands to 1 GiB."""
    data = zeros_bzip2(GIB) if method == zipfile.ZIP_BZIP2 else zeros_deflate(GIB)
    sdist = zip_sdist("demo", "1.0", RawMember("PKG-INFO", data, method, 0, len(MODERN)))
    code, report, growth = _run_child(hostile, sdist)
    assert growth < MAX_GROWTH_MB, growth
    assert code == 0
    assert _unknown(report) == ["1 requirement: the sdist has no readable PKG-INFO"]


def test_a_tar_gz_sdist_streams_through_a_capped_decompressor(
    repo: Path, hostile: HostileIndex
) -> None:
    """Promise: bounded-memory (archives). A `.tar.gz` sdist whose PKG-INFO comes after
    1 GiB of zeros: decompressed a buffer at a time, and only up to 128 MiB."""
    sdist = tar_gz_sdist_behind_zeros("demo", "1.0", GIB, MODERN)
    code, report, growth = _run_child(hostile, sdist)
    assert growth < MAX_GROWTH_MB, growth
    assert code == 0
    assert _unknown(report) == ["1 requirement: the sdist has no readable PKG-INFO"]


# --- the same paths read honest archives ------------------------------------------------


def _honest_wheel(method: int) -> BuiltFile:
    members = [
        raw_member("demo/__init__.py", b""),
        raw_member("demo-1.0.dist-info/METADATA", core_metadata("demo", "1.0"), method),
    ]
    content = zip_archive(members)
    return BuiltFile("demo-1.0-py3-none-any.whl", content, hashlib.sha256(content).hexdigest(), b"")


@pytest.mark.parametrize(
    "served",
    [
        pytest.param(lambda: _honest_wheel(zipfile.ZIP_DEFLATED), id="deflate wheel"),
        pytest.param(lambda: _honest_wheel(zipfile.ZIP_BZIP2), id="bzip2 wheel"),
        pytest.param(
            lambda: zip_sdist("demo", "1.0", raw_member("PKG-INFO", MODERN, zipfile.ZIP_BZIP2)),
            id="bzip2 zip sdist",
        ),
        pytest.param(
            lambda: tar_gz_sdist_behind_zeros("demo", "1.0", 4 << 20, MODERN), id="tar.gz sdist"
        ),
    ],
)
def test_honest_archives_are_read_by_the_same_paths(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str], served: object
) -> None:
    """The counterpart: what the bombs go through reads real metadata."""
    built = served()  # type: ignore[operator]
    hostile.behaviour = "files"
    hostile.files = {built.filename: built.content}
    (repo / "r.txt").write_text(pinned(digest=built.sha256))
    result = run(capsys, "--index-url", hostile.simple_url, "--format", "json", "r.txt")
    assert result.code == 0, result.out + result.err
    assert _unknown(json.loads(result.out)) == []
