"""`--fix` writes only what it can stand behind: nothing from an index that lists no usable
digest, no marker that would not read back, no line the next run refuses.

Each test names the promise of docs/security.md it holds.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reqhash_check.requirements import MAX_LINE_CHARS
from reqhash_check.requirements.lines import logical_lines
from tests.hostile import WHEEL_SHA, HostileIndex, sha
from tests.security.conftest import FORMATS, Run, pinned, run

STALE = "ef" * 32


def check(capsys: pytest.CaptureFixture[str], index: HostileIndex, *extra: str) -> Run:
    return run(capsys, "--index-url", index.simple_url, "--timeout", "5", *extra, "r.txt")


# --- an index that lists no sha256 -----------------------------------------------------------


@pytest.mark.parametrize("behaviour", ["md5-only", "html-no-sha256"])
@pytest.mark.parametrize("digest", [WHEEL_SHA, STALE])
def test_a_pin_the_index_lists_without_sha256_is_unverifiable_and_keeps_its_hashes(
    behaviour: str,
    digest: str,
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Promise: fix-writes. A file listed without a sha256 (an md5-only JSON page, an HTML
    link without `#sha256=`) is unknown, not different: no stale-hash, an `unverifiable`
    warning, and `--fix` never removes the hashes."""
    hostile.behaviour = behaviour
    text = pinned(digest=digest)
    (repo / "r.txt").write_text(text)
    for output in FORMATS:
        result = check(capsys, hostile, "--format", output)
        assert result.code == 0, (output, result.out + result.err)
        assert "unverifiable" in result.out
    shown = check(capsys, hostile, "--format", "json")
    rules = {finding["rule"] for finding in json.loads(shown.out)["findings"]}
    assert rules == {"unverifiable"}
    fixed = check(capsys, hostile, "--fix")
    assert fixed.code == 0, fixed.out + fixed.err
    assert (repo / "r.txt").read_text() == text
    assert "Traceback" not in fixed.err


def test_fix_never_removes_the_last_hash(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: fix-writes. A fix that would leave a requirement no hash at all (with
    --fix-targets-only, no published file installs on the targets) is not made, and the run
    says why."""
    hostile.behaviour = "windows-only"
    text = pinned(digest=STALE)
    (repo / "r.txt").write_text(text)
    target = ("--target", "linux-x86_64-glibc2.28-cp312", "--fix-targets-only")
    before = check(capsys, hostile, *target)
    assert before.code == 1 and "stale-hash" in before.out, before.out + before.err
    result = check(capsys, hostile, *target, "--fix")
    assert "Traceback" not in result.err
    assert "its hashes are kept" in result.err
    assert (repo / "r.txt").read_text() == text
    assert "fixed 0" in result.err


# --- markers from the index ------------------------------------------------------------------


def _demo_with_dependency(repo: Path, hostile: HostileIndex, requires: str) -> str:
    hostile.behaviour = "dependencies"
    hostile.requires_dist = [requires]
    text = f"demo==1.0 --hash=sha256:{sha('demo')}\n"
    (repo / "r.txt").write_text(text)
    return text


@pytest.mark.parametrize(
    "requires",
    [
        'dep ; os_name != "x #y"',
        'dep ; os_name != "x\x0by"',
        'dep ; os_name != "x\x0cy"',
        'dep ; os_name != "x\x1cy"',
    ],
    ids=["comment", "vertical-tab", "form-feed", "file-separator"],
)
def test_a_marker_that_would_not_read_back_is_not_written(
    requires: str, repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: fix-writes. A dependency's marker from the index that holds a line break or
    ` #` is not written (pip would split the line or cut it off as a comment); the run says
    so and the file reads back as it was."""
    text = _demo_with_dependency(repo, hostile, requires)
    before = check(capsys, hostile)
    assert before.code == 1 and "missing-dependency" in before.out, before.out + before.err
    result = check(capsys, hostile, "--fix")
    assert "Traceback" not in result.err
    assert "cannot pin dep" in result.out + result.err
    assert (repo / "r.txt").read_text() == text
    again = check(capsys, hostile)
    assert again.code == 1 and "parse-error" not in again.out


def test_a_marker_is_written_as_packaging_renders_it(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: fix-writes. The marker of a new pin is re-rendered from its parse, not copied,
    and the fixed file reads back clean."""
    _demo_with_dependency(repo, hostile, "dep ; os_name!='x'")
    result = check(capsys, hostile, "--fix")
    assert "Traceback" not in result.err
    text = (repo / "r.txt").read_text()
    assert 'dep==1.0 ; os_name != "x" \\\n' in text
    assert f"--hash=sha256:{sha('dep')}" in text
    assert check(capsys, hostile).code == 0


# --- the logical-line cap ----------------------------------------------------------------------


def test_a_fix_over_the_line_cap_is_not_written(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: fix-writes. Thousands of published wheels would make one logical line longer
    than the reader's cap (100 KiB): that fix is not written, and the run says why."""
    hostile.behaviour = "many-wheels"
    text = pinned(digest=STALE)
    (repo / "r.txt").write_text(text)
    result = check(capsys, hostile, "--fix")
    assert "Traceback" not in result.err
    assert "cap on a logical line" in result.out + result.err
    assert "fixed 0 of 1 fixable findings" in result.err
    written = (repo / "r.txt").read_text()
    assert written == text
    longest = max(len(line.written) for line in logical_lines(written.splitlines()))
    assert longest <= MAX_LINE_CHARS
    again = check(capsys, hostile)
    assert again.code == 1 and "stale-hash" in again.out
