"""What reaches the outputs and the disk from untrusted input."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from tests.hostile import WHEEL_SHA, HostileIndex
from tests.security.conftest import FORMATS, SECRET, pinned, run

CONTROL = set(map(chr, range(0x20))) - {"\n"} | {"\x7f"}


def _outputs(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, str]:
    texts = {}
    for fmt in FORMATS:
        result = run(capsys, *argv[:-1], "--format", fmt, argv[-1])
        texts[fmt] = result.out + result.err
    return texts


# --- nothing leaks -------------------------------------------------------------------------


def test_an_expanded_variable_reaches_no_output_and_no_cache(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: no-leak (environment). A hash made of a secret is shown as written."""
    monkeypatch.setenv("GITHUB_TOKEN", SECRET)
    (repo / "r.txt").write_text("demo==1.0 --hash=sha256:${GITHUB_TOKEN}\n" + pinned("six"))
    texts = _outputs(capsys, "--index-url", hostile.simple_url, "r.txt")
    for fmt, text in texts.items():
        assert SECRET not in text, fmt
        assert "${GITHUB_TOKEN}" in text.replace("\\_", "_"), fmt  # markdown escapes the _
    cache = (tmp_path / "cache" / "index-cache.sqlite3").read_bytes()
    assert SECRET.encode() not in cache


def test_an_index_url_built_from_a_variable_is_not_contacted(
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: no-leak (requests). A file cannot send a secret to a host of its choosing."""
    monkeypatch.setenv("SECRET_PATH", SECRET)
    with HostileIndex() as attacker:
        attacker_url = attacker.url.replace("127.0.0.1", "localhost")
        (repo / "r.txt").write_text(
            f"--index-url {attacker_url}/${{SECRET_PATH}}/simple\n" + pinned()
        )
        result = run(capsys, "--index-url", hostile.simple_url, "--format", "json", "r.txt")
        assert attacker.requests == []
        assert SECRET not in result.out + result.err
        document = json.loads(result.out)
        assert document["unverified"] and "${SECRET_PATH}" in document["unverified"][0]["reason"]
        assert result.code == 3


def test_a_password_with_an_at_sign_is_redacted_whole_and_never_stored(
    repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-leak (credentials)."""
    host = hostile.simple_url.split("//", 1)[1]
    url = f"http://user:p@ss{SECRET}@{host}"
    (repo / "r.txt").write_text(pinned())
    texts = _outputs(capsys, "--index-url", url, "r.txt")
    for fmt, text in texts.items():
        assert SECRET not in text and "ss" + SECRET not in text, fmt
    assert "http://****@127.0.0.1" in texts["text"]
    with sqlite3.connect(tmp_path / "cache" / "index-cache.sqlite3") as conn:
        dump = "\n".join(conn.iterdump())
    assert SECRET not in dump


# --- output that cannot be hijacked ----------------------------------------------------------


def test_a_hostile_yanked_reason_cannot_inject_lines_or_escapes(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-hijack. A reason carrying `\\n::error …::`, ESC and OSC sequences."""
    hostile.behaviour = "injection"
    (repo / "r.txt").write_text(pinned())
    texts = _outputs(capsys, "--index-url", hostile.simple_url, "r.txt")
    for fmt, text in texts.items():
        assert "injected" in text, fmt  # the reason is shown…
        assert not CONTROL & set(text), fmt  # …with no raw control character
        lines = text.splitlines()
        commands = [line for line in lines if line.lstrip().startswith("::")]
        if fmt == "github":
            # Only the tool's own commands, each on one line, none from the reason.
            assert all(
                line.startswith(("::warning ", "::error ", "::notice ")) for line in commands
            )
            assert not any("file=pwned.txt" in line.split("::")[1] for line in commands)
        else:
            assert commands == [], fmt


# --- nothing outside is touched ------------------------------------------------------------


@pytest.fixture
def stale_file(repo: Path) -> str:
    return pinned(digest="cd" * 32)


def test_fix_does_not_write_through_a_symlink_leaving_the_repository(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    stale_file: str,
) -> None:
    """Promise: no-writes-outside. Without --allow-outside-includes the file is not even
    read (`tests/security/test_file_layer.py`); with it, it is checked, never written."""
    outside = tmp_path / "outside.txt"
    outside.write_text(stale_file)
    (repo / "r.txt").symlink_to(outside)
    argv = ("--index-url", hostile.simple_url, "--allow-outside-includes", "--fix", "r.txt")
    result = run(capsys, *argv)
    assert outside.read_text() == stale_file
    assert "resolves outside the repository" in result.err
    assert result.code == 1


def test_fix_does_not_write_a_read_only_file(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str], stale_file: str
) -> None:
    """Promise: no-writes-outside (read-only files)."""
    path = repo / "r.txt"
    path.write_text(stale_file)
    path.chmod(0o444)
    result = run(capsys, "--index-url", hostile.simple_url, "--fix", "r.txt")
    assert path.read_text() == stale_file
    assert "read-only; not written" in result.err
    assert result.code == 1


def test_fix_writes_inside_the_repository(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str], stale_file: str
) -> None:
    """The counterpart: a stale file in the repository is fixed."""
    (repo / "r.txt").write_text(stale_file)
    result = run(capsys, "--index-url", hostile.simple_url, "--fix", "r.txt")
    assert result.code == 0, result.out + result.err
    assert WHEEL_SHA in (repo / "r.txt").read_text()
    assert "fixed 1 finding in 1 file; 0 remain" in result.err


def test_a_file_s_find_links_folder_outside_the_repository_is_not_read(
    repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-reads-outside (find-links locations named by a file)."""
    outside = tmp_path / "wheels"
    outside.mkdir()
    private = b"private bytes"
    (outside / "demo-1.0-py3-none-any.whl").write_bytes(private)
    digest = hashlib.sha256(private).hexdigest()
    (repo / "r.txt").write_text(f"--find-links {outside}\n" + pinned(digest=digest))
    result = run(capsys, "--index-url", hostile.simple_url, "--format", "json", "r.txt")
    document = json.loads(result.out)
    # Not read: its file's hash is not known, and the verdict is left open, not guessed.
    assert result.code == 3
    assert any("outside the repository" in u["reason"] for u in document["unverified"])
    assert document["summary"]["indexes"][1]["contacted"] is False
    result = run(capsys, "--index-url", hostile.simple_url, "--allow-outside-includes", "r.txt")
    assert result.code == 0, result.out  # read when allowed: the pinned hash is that file's


# --- no tracebacks, one clear line -------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--timeout", "nan"], "--timeout must be a number of seconds"),
        (["--timeout", "inf"], "--timeout must be a number of seconds"),
        (["--concurrency", "100000"], "--concurrency must be between 1 and 64"),
        (["--output", "no/such/folder/out.txt"], "the folder no/such/folder does not exist"),
        (["--offline", "--no-cache"], "use one of them"),
        (["--python-version", "3.x"], "--python-version: invalid Python version"),
        (["--format", "jsn"], "did you mean json?"),
        (["--select", "stale"], "did you mean stale-hash?"),
        (["--target", "linux-x86_64-glibc2.28-cp3l2"], "invalid target"),
        (["--no-such-option"], "unrecognized arguments: --no-such-option"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(
    repo: Path, capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    """Promise: no-tracebacks."""
    (repo / "r.txt").write_text(pinned())
    result = run(capsys, *argv, "r.txt")
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], result.err
    assert result.out == ""


def test_a_seventy_thousand_character_name_is_one_clean_finding(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-tracebacks; the name never reaches a URL."""
    (repo / "r.txt").write_text(pinned("a" * 70_000))
    result = run(capsys, "--index-url", hostile.simple_url, "r.txt")
    assert "Traceback" not in result.err
    assert result.code == 1 and "unknown-project" in result.out
    assert hostile.requests == []
    assert max(len(line) for line in result.out.splitlines()) < 1000


def test_an_unexpected_error_is_one_line_without_the_input(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Promise: no-tracebacks, even for a bug: one line, no text from the input."""
    import reqhash_check.runner

    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError(f"boom {SECRET}")

    monkeypatch.setattr(reqhash_check.runner, "run", broken)
    monkeypatch.delenv("REQHASH_CHECK_DEBUG", raising=False)
    (repo / "r.txt").write_text(pinned())
    result = run(capsys, "r.txt")
    assert result.code == 2
    assert result.err.strip().splitlines() == [
        "reqhash-check: internal error (RuntimeError); nothing was verified. Run again with "
        "REQHASH_CHECK_DEBUG=1 to see where, and please report it"
    ]
    assert SECRET not in result.err
