"""`explain` on hostile logs: parsing is linear in the log's size.

A pasted log is untrusted and may be up to 50 MiB. Each shape below once made a regular
expression backtrack quadratically on a line, or made the parser rescan what it had kept;
each is run through the command line at 1 MiB and 4 MiB: the larger run must take about four
times as long (under 8 times plus a constant), never long in absolute terms, and end with one
line and exit 2 (no pip failure in it), no traceback, and an output that does not grow with
the log.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from reqhash_check.explain.logparse import (
    MISMATCH_HEAD,
    MISSING_HEAD,
    UNPINNED_HEAD,
    _split_item,
)
from tests.security.conftest import Run, run

MIB = 1024 * 1024
DIGEST = "ab" * 32


def _fill(unit: str, size: int) -> str:
    return (unit * (size // len(unit) + 1))[:size]


SHAPES: dict[str, Callable[[int], str]] = {
    # issue 18: `Collecting x (from x (from x …`, as one line and as many long lines
    "collecting-one-line": lambda size: _fill("Collecting x (from x ", size),
    "collecting-lines": lambda size: _fill("Collecting x (from x " * 700 + "\n", size),
    # a mismatch block whose items nest `from URL (from …` without end
    "mismatch-items": lambda size: (
        MISMATCH_HEAD + "\n" + _fill("    x from y (from x from y (from " * 400 + ":\n", size)
    ),
    "missing-items": lambda size: (
        MISSING_HEAD + "\n" + _fill("    x --hash=sha256:x --hash=sha256:" * 400 + "\n", size)
    ),
    # one very long line, no newline at all
    "one-long-line": lambda size: _fill("    demo==1.0 from https://h/x (from ", size),
    # many `Expected sha256` lines and never a `Got`
    "expected-without-got": lambda size: (
        MISMATCH_HEAD
        + "\n    demo==1.0 from https://h/demo-1.0.tar.gz:\n"
        + _fill(f"        Expected sha256 {DIGEST}\n", size)
    ),
    # uv's `Expected:` list without end, and never a `Computed:`
    "uv-expected-without-computed": lambda size: (
        "  Caused by: Hash mismatch for `demo==1.0`\n"
        + "Expected:\n"
        + _fill(f"  sha256:{DIGEST}\n", size)
    ),
    # log prefixes repeated along a line, each cut off in turn
    "stacked-prefixes": lambda size: _fill(
        "##[error]2026-01-01T00:00:00Z [pipenv.exceptions.InstallError]: " * 1000 + "\n", size
    ),
}


def _timed(capsys: pytest.CaptureFixture[str], path: Path) -> tuple[Run, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = run(capsys, "explain", str(path))
    return result, time.perf_counter() - wall, time.process_time() - cpu


def _check(result: Run, path: Path) -> None:
    assert result.code == 2, result.out[-2000:]
    assert "Traceback" not in result.out + result.err
    assert result.err == ""
    verdicts = [line for line in result.out.splitlines() if line.startswith(f"{path}: ")]
    assert len(verdicts) == 1, verdicts
    assert len(result.out) < 200_000  # bounded: at most 200 unread lines, each cut short


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_hostile_log_is_parsed_in_linear_time(
    shape: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    small, large = repo / "small.log", repo / "large.log"
    small.write_text(SHAPES[shape](MIB), encoding="utf-8")
    large.write_text(SHAPES[shape](4 * MIB), encoding="utf-8")
    result, _, small_cpu = _timed(capsys, small)
    _check(result, small)
    result, wall, large_cpu = _timed(capsys, large)
    _check(result, large)
    assert wall < 20, f"{shape}: {wall:.1f} s for 4 MiB"
    assert large_cpu < 8 * small_cpu + 1.0, f"{shape}: {small_cpu:.2f} s, then {large_cpu:.2f} s"


def test_an_unread_line_is_shown_cut_short(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = repo / "pip.log"
    log.write_text(f"{MISMATCH_HEAD}\n        Expected sha256 {'0' * 60_000}\n")
    result = run(capsys, "explain", str(log))
    assert result.code == 2
    (unread,) = [line for line in result.out.splitlines() if ": not read: " in line]
    assert len(unread) < 1000 and unread.endswith("…")


# The regular expression pip's requirement lines were once split with: the hand-written
# splitter must give the same parts on every line, only in linear time.
_OLD_ITEM = re.compile(
    r"^\s*(?P<req>\S.*?)(?: from (?P<url>\S+))?(?: \(from (?P<comes_from>.+)\))?(?P<colon>:?)$"
)


def test_requirement_lines_are_split_as_before() -> None:
    """Every short line made of the pieces that matter, through the splitter and the old
    expression (the behaviour through the command line is held by tests/test_explain*.py)."""
    pieces = [" ", "x", ":", ")", " from ", " (from ", "):", "\t"]
    for count in range(6):
        for combo in itertools.product(pieces, repeat=count):
            line = "".join(combo)
            old = _OLD_ITEM.match(line)
            new = _split_item(line)
            expected = old and (old["req"], old["url"], old["comes_from"], old["colon"])
            got = new and (new.req, new.url, new.comes_from, new.colon)
            assert got == expected, repr(line)


def test_a_huge_requirement_is_shown_cut_short(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 60,000-character requirement under pip's unpinned heading is not read (no index is
    asked for it) and is shown cut short, in every format."""
    huge = "x (from " * 7500 + "x"
    log = repo / "pip.log"
    log.write_text(f"{UNPINNED_HEAD}\n    {huge}\n    {huge}y\n")
    for fmt in ("text", "json", "markdown", "github"):
        result = run(capsys, "explain", "--offline", "--format", fmt, str(log))
        assert result.code == 3, result.out[-500:]
        assert "Traceback" not in result.out + result.err
        assert len(result.out) < 40_000, fmt


def test_an_index_crowding_the_listed_hash_is_not_looked_through(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A listed hash is compared for a near miss (a mistyped hash) only with the published
    digests that share a piece of it, and a piece shared by more than 64 digests (which real
    digests never are) is not looked through further: an index that publishes thousands of
    digests sharing the listed hash's pieces cannot make the comparison slow. Here the file
    the listed hash is one character from comes after 100 such digests, so it is not found."""
    from tests.fakeindex import FakeFile, FakeIndex

    content = b"the real sdist"
    real = hashlib.sha256(content).hexdigest()
    listed = real[:-1] + ("0" if real[-1] != "0" else "1")
    index = FakeIndex().start()
    try:
        for n in range(100):  # the same first 52 characters, then 12 others
            tail = ""
            for position in range(52, 64):
                others = [c for c in "0123456789abcdef" if c != real[position]]
                tail += others[n // 15 ** (position - 52) % 15]
            crowd = real[:52] + tail
            index.add("crowd", "1.0", FakeFile(f"crowd-1.0-{n}-py3-none-any.whl", sha256=crowd))
        index.add("crowd", "1.0", FakeFile("crowd-1.0.tar.gz", content))
        url = "http://127.0.0.1:1/files/crowd-1.0.tar.gz"
        log = repo / "pip.log"
        log.write_text(
            f"{MISMATCH_HEAD}\n    crowd==1.0 from {url} (from -r r.txt (line 1)):\n"
            f"        Expected sha256 {listed}\n             Got        {real}\n"
        )
        result = run(capsys, "explain", "--no-cache", "--index-url", index.simple_url, str(log))
    finally:
        index.close()
    assert result.code == 0, result.out[-2000:]
    assert "foreign-hashes crowd 1.0" in result.out and "mistyped" not in result.out


def test_a_log_of_many_failures_against_a_dripping_index_ends_in_bounded_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Promise: bounded-time. A hostile log may name a thousand failures, each a few index
    questions; against an index that drips its answers the look-ups still end within the
    explanation's budget, and what was not answered is an index failure (exit 3)."""
    from reqhash_check.cli import main
    from reqhash_check.explain import run as explain_run
    from tests.hostile import HostileIndex

    monkeypatch.setattr(explain_run, "LOOKUP_BUDGET", 3.0)
    monkeypatch.setenv("REQHASH_CHECK_CACHE_DIR", str(tmp_path / "cache"))
    lines = ["ERROR: THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE."]
    for n in range(40):
        lines += [
            f"    p{n}==1.0 from http://h/files/p{n}-1.0-py3-none-any.whl#sha256={'cd' * 32} "
            f"(from -r requirements.txt (line {n + 1})):",
            "        Expected sha256 " + "ab" * 32,
            "             Got        " + "cd" * 32,
        ]
    log = tmp_path / "pip.log"
    log.write_text("\n".join(lines) + "\n")
    with HostileIndex() as index:
        index.behaviour = "drip"
        started = time.monotonic()
        code = main(["explain", "--index-url", index.simple_url, "--timeout", "0.5", str(log)])
        took = time.monotonic() - started
    out, err = capsys.readouterr()
    assert took < 15, took
    assert code == 3, out + err
    assert "Traceback" not in err and "internal error" not in err
