"""`--verify-downloads`: a relay that lists the true digest but serves other bytes is caught;
the plain check, which believes the listing, passes it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from reqhash_check.cli import main
from reqhash_check.pipfile import pipenv_dumps
from tests.fakeindex import FakeFile, FakeIndex

LINUX = "linux-x86_64-glibc2.28-cp312"
WHEEL = "demo-1.0-py3-none-any.whl"
WHEEL_BYTES = b"PK\x03\x04 a wheel's bytes " * 64
TRUE_SHA = hashlib.sha256(WHEEL_BYTES).hexdigest()
ALTERED = WHEEL_BYTES[:100] + bytes([WHEEL_BYTES[100] ^ 1]) + WHEEL_BYTES[101:]
ALTERED_SHA = hashlib.sha256(ALTERED).hexdigest()


@pytest.fixture
def index() -> Iterator[FakeIndex]:
    world = FakeIndex().start()
    try:
        world.add("demo", "1.0", FakeFile(WHEEL, content=WHEEL_BYTES))
        world.add(
            "big", "2.0", FakeFile("big-2.0-py3-none-any.whl", content=b"x" * (2 * 1024 * 1024))
        )
        yield world
    finally:
        world.close()


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    monkeypatch.chdir(root)
    monkeypatch.setenv("REQHASH_CHECK_CACHE_DIR", str(tmp_path / "cache"))
    return root


def run(capsys: pytest.CaptureFixture[str], index: FakeIndex, *argv: str) -> tuple[int, dict]:
    code = main(
        [
            "--isolated",
            "--target",
            LINUX,
            "--index-url",
            index.simple_url,
            "--format",
            "json",
            *argv,
        ]
    )
    return code, json.loads(capsys.readouterr().out)


def relay_alters_the_wheel(index: FakeIndex) -> None:
    index.fail(f"/files/{WHEEL}", 200, body=ALTERED, content_type="application/octet-stream")


def test_a_relay_serving_other_bytes_is_caught_only_when_downloads_are_verified(
    index: FakeIndex, repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "requirements.txt").write_text(f"demo==1.0 --hash=sha256:{TRUE_SHA}\n")
    relay_alters_the_wheel(index)
    assert run(capsys, index, "requirements.txt")[0] == 0  # the listing is right
    fetched_by_the_check = index.paths().count(f"/files/{WHEEL}")

    code, report = run(capsys, index, "--verify-downloads", "requirements.txt")
    assert code == 1
    [finding] = report["findings"]
    assert (finding["rule"], finding["line"], finding["kb"]) == (
        "unpublished-bytes",
        1,
        "pip/hash-mismatch-requirements-file",
    )
    assert TRUE_SHA in finding["message"] and ALTERED_SHA in finding["message"]
    assert "127.0.0.1" in finding["message"] and "do not regenerate" in finding["message"]
    # Fetched once more than the check itself does, and nothing of it is stored.
    assert index.paths().count(f"/files/{WHEEL}") == 2 * fetched_by_the_check + 1
    stored = b"".join(p.read_bytes() for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert ALTERED_SHA.encode() not in stored and ALTERED[:200] not in stored


def test_served_bytes_that_match_the_listing_pass(
    index: FakeIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "requirements.txt").write_text(f"demo==1.0 --hash=sha256:{TRUE_SHA}\n")
    assert run(capsys, index, "--no-cache", "requirements.txt")[0] == 0
    plain = index.paths().count(f"/files/{WHEEL}")
    code, report = run(capsys, index, "--no-cache", "--verify-downloads", "requirements.txt")
    assert (code, report["findings"]) == (0, [])
    assert index.paths().count(f"/files/{WHEEL}") == 2 * plain + 1


def test_a_file_over_the_cap_is_unverified_with_a_clear_line(
    index: FakeIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    digest = hashlib.sha256(b"x" * (2 * 1024 * 1024)).hexdigest()
    (repo / "requirements.txt").write_text(f"big==2.0 --hash=sha256:{digest}\n")
    code, report = run(
        capsys, index, "--verify-downloads", "--max-download-size", "1", "requirements.txt"
    )
    assert code == 3  # never "OK" for what was not checked
    [skipped] = report["unverified"]
    assert "larger than 1 MiB (--max-download-size)" in json.dumps(skipped)
    code, report = run(
        capsys, index, "--verify-downloads", "--max-download-size", "3", "requirements.txt"
    )
    assert (code, report["findings"], report["unverified"]) == (0, [], [])


def test_a_pipfile_lock_is_verified_the_same_way(
    index: FakeIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "Pipfile.lock").write_text(
        pipenv_dumps(
            {
                "_meta": {
                    "sources": [{"name": "local", "url": index.simple_url, "verify_ssl": True}]
                },
                "default": {"demo": {"hashes": [f"sha256:{TRUE_SHA}"], "version": "==1.0"}},
                "develop": {},
            }
        )
    )
    relay_alters_the_wheel(index)
    code, report = run(capsys, index, "--verify-downloads", "Pipfile.lock")
    assert code == 1
    assert [f["rule"] for f in report["findings"]] == ["unpublished-bytes"]


def test_max_download_size_is_checked(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--verify-downloads", "--max-download-size", "0", "x.txt"]) == 2
    err = capsys.readouterr().err
    assert "--max-download-size" in err and len(err.strip().splitlines()) == 1


def test_a_pylock_archive_served_altered_is_caught_at_its_entry(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.lockproject import publish, write_uv_style

    with FakeIndex() as world:
        published = publish(world)
        text = write_uv_style(published)
        (repo / "pylock.toml").write_text(text)
        gamma = next(
            f for f in published.files[("gamma", "1.0")] if "cp312-cp312-manylinux" in f.filename
        )
        altered = bytearray(gamma.content)
        altered[-30] ^= 1
        argv = [
            "--isolated",
            "--target",
            LINUX,
            "--index-url",
            world.simple_url,
            "--format",
            "json",
        ]
        assert main([*argv, "pylock.toml"]) == 0
        capsys.readouterr()
        world.fail(f"/files/{gamma.filename}", 200, body=bytes(altered))
        code = main([*argv, "--verify-downloads", "pylock.toml"])
        findings = json.loads(capsys.readouterr().out)["findings"]
    assert code == 1
    assert [(f["rule"], f["project"]) for f in findings] == [("unpublished-bytes", "gamma")]
    line = findings[0]["line"]
    assert gamma.filename in text.splitlines()[line - 1] or gamma.filename in findings[0]["message"]


def test_a_terminal_sees_the_bytes_received(index: FakeIndex, repo: Path) -> None:
    """On a terminal's stderr, --verify-downloads shows its progress in bytes."""
    import os
    import pty
    import subprocess
    import sys

    (repo / "requirements.txt").write_text(f"demo==1.0 --hash=sha256:{TRUE_SHA}\n")
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "reqhash_check", "--isolated", "--target", LINUX,
             "--index-url", index.simple_url, "--verify-downloads", "requirements.txt"],
            stdout=subprocess.PIPE, stderr=follower, timeout=120, check=False,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent / "src")},
        )  # fmt: skip
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    assert done.returncode == 0, shown
    assert b"verifying downloads" in shown and b"MiB" in shown
