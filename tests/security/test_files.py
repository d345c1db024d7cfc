"""Hostile requirements files through the command line, in every output format."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.hostile import HostileIndex
from tests.security.conftest import FORMATS, SECRET, pinned, run

OFFLINE = "--select=parse-error,include-error,missing-hash,invalid-hash,unhashable,duplicate"


def _every_format(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, tuple[int, str]]:
    results = {}
    for fmt in FORMATS:
        result = run(capsys, OFFLINE, "--format", fmt, *argv)
        results[fmt] = (result.code, result.out + result.err)
    return results


@pytest.mark.parametrize("include", [".git/config", "{outside}"])
def test_an_include_of_a_private_file_quotes_none_of_it(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], include: str
) -> None:
    """Promise: no-leak (other files). `-r .git/config` (a token in it) or a file outside
    the repository: reported once by path, never read into any output."""
    outside = tmp_path / "shadow"
    outside.write_text(f"root:{SECRET}:19000:0:99999:7:::\n")
    target = include.replace("{outside}", str(outside))
    (repo / "r.txt").write_text(f"-r {target}\n" + pinned())
    for fmt, (code, text) in _every_format(capsys, "r.txt").items():
        assert SECRET not in text, fmt
        assert code == 1, fmt
        assert "include-error" in text, fmt


@pytest.mark.parametrize(
    "content",
    [
        f"# notes\napi_key = {SECRET}\npassword: {SECRET}\n",
        f"GITHUB_TOKEN={SECRET}\n",  # a one-line .env
        f"[auth]\ntoken = {SECRET}\n",
    ],
)
def test_an_included_file_that_is_not_a_requirements_file_is_named_not_quoted(
    repo: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    (repo / "notes.md").write_text(content)
    (repo / "r.txt").write_text("-r notes.md\n" + pinned())
    for fmt, (code, text) in _every_format(capsys, "r.txt").items():
        assert SECRET not in text, fmt
        assert code == 1 and "notes.md" in text, fmt


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/urandom"])
def test_an_endless_include_ends_fast(
    repo: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    """Promise: bounded-time (files)."""
    (repo / "r.txt").write_text(f"-r {target}\n" + pinned())
    started = time.monotonic()
    result = run(capsys, OFFLINE, "--allow-outside-includes", "r.txt")
    assert time.monotonic() - started < 10
    assert result.code in (1, 2) and "Traceback" not in result.err
    assert len((result.out + result.err).splitlines()) < 10


def test_an_include_fan_out_ends_fast(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Promise: bounded-time (files). Six 10-line files each including the next ten times:
    a million reads if followed naively; each file is read once."""
    for level in range(6):
        nxt = f"-r f{level + 1}.txt\n" * 10 if level < 5 else pinned()
        (repo / f"f{level}.txt").write_text(nxt)
    started = time.monotonic()
    result = run(capsys, OFFLINE, "f0.txt")
    assert time.monotonic() - started < 10
    assert result.code in (0, 1) and "Traceback" not in result.err


def test_a_file_over_the_size_cap_is_one_line_and_exit_2(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: bounded-memory (files)."""
    with (repo / "r.txt").open("w") as handle:
        handle.write(("# " + "x" * 1022 + "\n") * (11 * 1024))
    result = run(capsys, OFFLINE, "r.txt")
    assert result.code == 2
    assert result.err.strip().count("\n") == 0 and "larger than 10 MiB" in result.err


def test_fix_with_a_hostile_index_cannot_rewrite_a_file_outside_the_repository(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-writes-outside. A file that names an attacker's index and includes a
    requirements file outside the repository: the outside file is not read, not written,
    and the run does not say OK."""
    outside = tmp_path / "elsewhere" / "requirements.txt"
    outside.parent.mkdir()
    text = pinned(digest="cd" * 32)
    outside.write_text(text)
    with HostileIndex() as attacker:
        (repo / "r.txt").write_text(f"--index-url {attacker.simple_url}\n-r {outside}\n")
        result = run(capsys, "--fix", "r.txt")
    assert outside.read_text() == text
    assert result.code != 0
    assert "OK" not in result.out.splitlines()[-1]
