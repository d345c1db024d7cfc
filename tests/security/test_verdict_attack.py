"""The verdict cache attacked from outside: by what a hostile pull request controls (the
checked tree's files and symlinks, pyproject.toml, includes, find-links folders), by a
cache folder restored from elsewhere (its contents, not the key kept outside it), and by
odd streams. Each runs the real command in a process of its own (`tests/test_verdict.py`'s
`Tool`): a verdict is never believed after what the run used changed, never leaks what a
run looked at, and never crashes or grows without bound."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys

from tests import test_verdict as harness
from tests.test_verdict import PROBE, STALE, TARGET, Tool, pins, same

index = harness.index
tool = harness.tool


def stored(tool: Tool) -> bytes:
    folder = tool.cache / "verdicts"
    return b"".join(p.read_bytes() for p in folder.iterdir()) if folder.exists() else b""


# --- a verdict believed after what changes the result changed ---


def test_a_file_named_through_dotdot_after_a_symlink_is_watched_where_it_is_read(
    tool: Tool,
) -> None:
    """`link/../base.txt` with `link -> sub/deep` is `sub/base.txt` (the file layer walks
    `..` after the symlink, as the system does): that file changing is a miss, though a
    file of the same content sits at `base.txt`, where the name leads when read as text."""
    deep = tool.project / "sub" / "deep"
    deep.mkdir(parents=True)
    (tool.project / "link").symlink_to("sub/deep")
    (tool.project / "sub" / "base.txt").write_text(pins())
    (tool.project / "base.txt").write_text(pins())  # the lexical twin, never read
    before = tool.run(*TARGET, "link/../base.txt")
    assert before.code == 0
    for _ in range(2):
        tool.run(*TARGET, "link/../base.txt")
    (tool.project / "sub" / "base.txt").write_text(pins(requests=STALE))
    after = tool.run(*TARGET, "link/../base.txt")
    assert not after.hit and after.code == 1


def test_an_included_symlink_retargeted_is_a_miss(tool: Tool) -> None:
    (tool.project / "good.txt").write_text(pins())
    (tool.project / "bad.txt").write_text(pins(requests=STALE))
    (tool.project / "base.txt").symlink_to("good.txt")
    (tool.project / "requirements.txt").write_text("-r base.txt\n")
    results = [tool.run(*TARGET, "requirements.txt") for _ in range(3)]
    assert results[2].code == 0
    (tool.project / "base.txt").unlink()
    (tool.project / "base.txt").symlink_to("bad.txt")
    after = tool.run(*TARGET, "requirements.txt")
    assert not after.hit and after.code == 1


def test_a_file_replaced_with_the_same_size_and_time_is_a_miss(tool: Tool) -> None:
    path = tool.project / "requirements.txt"
    path.write_text(pins())
    assert tool.primed(*TARGET, "requirements.txt").code == 0
    info = path.stat()
    good = pins()
    bad = good.replace(good[good.index("--hash=sha256:") + 14], "0", 1)
    assert len(bad) == len(good) and bad != good
    path.write_text(bad)
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    after = tool.run(*TARGET, "requirements.txt")
    assert not after.hit and after.code == 1


def test_a_new_file_in_a_discovered_subfolder_is_a_miss(tool: Tool) -> None:
    (tool.project / "requirements.txt").unlink()
    folder = tool.project / "requirements"
    folder.mkdir()
    (folder / "base.txt").write_text(pins())
    assert tool.primed(*TARGET).code == 0
    (folder / "dev.txt").write_text(pins(requests=STALE))
    after = tool.run(*TARGET)
    assert not after.hit and after.code == 1


def test_a_pip_config_file_named_by_the_environment_edited_is_a_miss(tool: Tool) -> None:
    config = tool.project / "pip.conf"
    config.write_text("[global]\ntimeout = 10\n")
    tool.env["PIP_CONFIG_FILE"] = str(config)
    tool.primed(*TARGET, "requirements.txt")
    config.write_text("[global]\nno-index = true\n")
    assert not tool.run(*TARGET, "requirements.txt").hit


def test_the_answers_file_edited_with_its_size_and_time_restored_is_a_miss(tool: Tool) -> None:
    """A row changed in the SQLite file by hand (or by a writer that knows nothing of the
    generation), its size and modification time put back: the change time still moved."""
    before = tool.primed(*TARGET, "requirements.txt")
    database = tool.cache / "index-cache.sqlite3"
    files = [database, database.with_name(database.name + "-wal")]
    times = {p: p.stat() for p in files if p.exists()}
    with sqlite3.connect(database) as conn:
        conn.execute("UPDATE answers SET fetched_at = fetched_at + 1")
    conn.close()
    for path, info in times.items():
        if path.exists():
            assert path.stat().st_size == info.st_size
            os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    after = tool.run(*TARGET, "requirements.txt")
    assert not after.hit and same(after, before)


def test_an_old_verdict_restored_after_newer_rows_is_a_miss(tool: Tool) -> None:
    before = tool.primed(*TARGET, "requirements.txt")
    (path,) = tool.verdicts()
    kept = path.read_bytes()
    (tool.project / "other.txt").write_text(pins())
    tool.run(*TARGET, "other.txt")
    from reqhash_check.index.cache import ReleaseCache

    written = ReleaseCache.in_dir(tool.cache)
    written.put(tool.index.simple_url, "unrelated", "nothing", "", {"missing": "not-found"})
    written.close()
    path.write_bytes(kept)
    path.chmod(0o600)
    after = tool.run(*TARGET, "requirements.txt")
    assert not after.hit and same(after, before)


# --- leaks ---


def test_a_verdict_holds_no_digest_of_files_outside_the_tree(tool: Tool) -> None:
    """The netrc (an index password), a pip configuration file and a pyproject.toml above
    the repository are looked at by every run: the verdict, kept in a cache folder that CI
    may share, holds nothing an outsider could test a guess of their content against."""
    netrc = tool.home / ".netrc"
    netrc.write_text("machine 127.0.0.1 login user password hunter2\n")
    netrc.chmod(0o600)
    config = tool.home / ".config" / "pip" / "pip.conf"
    config.parent.mkdir(parents=True)
    config.write_text("[global]\ntimeout = 10\n")
    above = tool.root / "pyproject.toml"
    above.write_text("[project]\nname = 'outside-secret-name'\n")
    (tool.project / ".git").mkdir()
    tool.primed(*TARGET, "requirements.txt")
    data = stored(tool)
    assert data
    for path in (netrc, config, above, tool.project / "requirements.txt"):
        content = path.read_bytes()
        assert hashlib.sha256(content).hexdigest().encode() not in data
        assert content not in data
    assert b"hunter2" not in data and b"outside-secret-name" not in data


def test_verdict_files_and_folder_are_private(tool: Tool) -> None:
    os.umask(0o022)
    tool.primed(*TARGET, "requirements.txt")
    folder = tool.cache / "verdicts"
    assert folder.stat().st_mode & 0o077 == 0
    for path in folder.iterdir():
        assert path.stat().st_mode & 0o077 == 0


# --- forged, replayed, grown ---


def test_a_verdict_hard_linked_from_another_key_is_a_miss(tool: Tool) -> None:
    before = tool.primed(*TARGET, "requirements.txt")
    (ours,) = tool.verdicts()
    other = tool.run(*TARGET, "--format", "json", "requirements.txt")
    tool.run(*TARGET, "--format", "json", "requirements.txt")
    theirs = [p for p in tool.verdicts() if p != ours]
    assert theirs and other.code == 1
    ours.unlink()
    os.link(theirs[0], ours)
    after = tool.run(*TARGET, "requirements.txt")
    assert not after.hit and same(after, before)


def test_a_full_verdicts_folder_is_never_grown(tool: Tool) -> None:
    folder = tool.cache / "verdicts"
    folder.mkdir(parents=True, mode=0o700)
    for number in range(200):
        (folder / f"{number:040x}").write_bytes(b"x")
    results = [tool.run(*TARGET, "requirements.txt") for _ in range(3)]
    assert not any(r.hit for r in results) and same(results[1], results[2])
    assert len(list(folder.iterdir())) == 200


# --- odd names and streams ---


def test_a_non_utf8_file_name_in_a_discovered_folder_is_never_a_crash(tool: Tool) -> None:
    name = os.fsdecode(b"requirements-\xff.txt")
    (tool.project / name).write_text(pins())
    results = [tool.run(*TARGET) for _ in range(3)]
    assert same(results[1], results[2])
    os.unlink(tool.project / name)
    after = tool.run(*TARGET)
    assert not after.hit


def test_standard_output_that_is_full_or_closed_is_never_a_crash(tool: Tool) -> None:
    tool.primed(*TARGET, "requirements.txt")
    for stdout in ("/dev/full", None):
        with open(stdout or os.devnull, "wb") as handle:
            process = subprocess.run(
                [sys.executable, "-c", PROBE, *tool.argv(*TARGET, "requirements.txt")],
                cwd=tool.project,
                env=tool.env,
                stdout=handle if stdout else subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                timeout=120,
            )
        assert b"Traceback" not in process.stderr
    after = tool.run(*TARGET, "requirements.txt")
    assert after.code == 1 and b"stale-hash" in after.out


def test_a_verdict_holds_no_index_password(tool: Tool) -> None:
    """An index URL with a password, on the command line or in the environment: neither
    the verdict's name nor its contents hold it."""
    url = tool.index.simple_url.replace("http://", "http://user:s3cret-pw@")
    tool.env["PIP_EXTRA_INDEX_URL"] = url.replace("s3cret-pw", "s3cret-env")
    argv = ("--index-url", url, *TARGET, "requirements.txt")
    results = [tool.run(*argv) for _ in range(3)]
    assert results[2].code == 1
    data = stored(tool)
    names = b"".join(os.fsencode(p.name) for p in (tool.cache / "verdicts").iterdir())
    for secret in (b"s3cret-pw", b"s3cret-env"):
        assert secret not in data + names
        assert all(secret not in r.out + r.err for r in results)


def test_a_non_utf8_environment_value_is_never_a_crash(tool: Tool) -> None:
    tool.env["ODD"] = os.fsdecode(b"\xff\xfe")
    results = [tool.run(*TARGET, "requirements.txt") for _ in range(3)]
    assert results[2].hit and same(results[1], results[2])
    tool.env["ODD"] = os.fsdecode(b"\xff\xfd")
    assert not tool.run(*TARGET, "requirements.txt").hit


def test_a_reader_gone_early_is_never_a_crash(tool: Tool) -> None:
    """`reqhash-check ... | head -c1`: the replay meets a closed pipe as the check does."""
    tool.primed(*TARGET, "--format", "json", "requirements.txt")
    read, write = os.pipe()
    os.close(read)
    try:
        process = subprocess.run(
            [
                sys.executable,
                "-c",
                PROBE,
                *tool.argv(*TARGET, "--format", "json", "requirements.txt"),
            ],
            cwd=tool.project,
            env=tool.env,
            stdout=write,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
    finally:
        os.close(write)
    assert b"Traceback" not in process.stderr


def test_a_dangling_pyproject_symlink_appearing_is_a_miss(tool: Tool) -> None:
    """The nearest pyproject.toml is found by name, a symlink leading nowhere included: one
    appearing below the table that ignored the finding changes the run, though it, like the
    file that was not there, cannot be read."""
    (tool.project / ".git").mkdir()
    (tool.root / "pyproject.toml").write_text('[tool.reqhash-check]\nignore = ["stale-hash"]\n')
    before = tool.run(*TARGET, "requirements.txt")
    assert before.code == 0
    for _ in range(2):
        tool.run(*TARGET, "requirements.txt")
    (tool.project / "pyproject.toml").symlink_to("nowhere.toml")
    fresh = tool.run(*TARGET, "--no-cache", "requirements.txt")
    after = tool.run(*TARGET, "requirements.txt")
    # Exit 2 is never a verdict's (the harness's "hit" only says no check pipeline ran).
    assert after.code == fresh.code == 2 and after.err == fresh.err


def test_a_find_links_folder_named_through_dotdot_after_a_symlink_is_watched(
    tool: Tool,
) -> None:
    """`--find-links link/../wheels` with `link -> sub/deep` lists `sub/wheels` (the file
    layer walks `..` after the symlink): a file appearing there is a miss, though a folder
    with the same names sits at `wheels`, where the name leads when read as text."""
    (tool.project / "sub" / "deep").mkdir(parents=True)
    (tool.project / "link").symlink_to("sub/deep")
    for folder in (tool.project / "wheels", tool.project / "sub" / "wheels"):
        folder.mkdir()
        (folder / "six-1.16.0-py2.py3-none-any.whl").write_bytes(b"not a wheel")
    (tool.project / "sub" / "deep" / "pins.txt").write_text(pins())
    (tool.project / "requirements.txt").write_text(
        "--find-links link/../wheels\n-r sub/deep/pins.txt\n"
    )
    before = [tool.run(*TARGET, "requirements.txt") for _ in range(3)][-1]
    (tool.project / "sub" / "wheels" / "idna-3.7-py3-none-any.whl").write_bytes(b"other")
    fresh = tool.run(*TARGET, "--no-cache", "requirements.txt")
    after = tool.run(*TARGET, "requirements.txt")
    assert fresh.out != before.out
    assert not after.hit and after.out == fresh.out and after.code == fresh.code


def test_a_verdict_hard_linked_to_a_file_outside_is_never_written_through(tool: Tool) -> None:
    """A restored cache whose verdict is a hard link to a file elsewhere: the miss stores a
    new verdict in its place, and the file elsewhere keeps its bytes."""
    before = tool.primed(*TARGET, "requirements.txt")
    (path,) = tool.verdicts()
    outside = tool.root / "outside.txt"
    outside.write_bytes(b"keep me")
    path.unlink()
    os.link(outside, path)
    after = tool.run(*TARGET, "requirements.txt")
    assert not after.hit and same(after, before)
    assert tool.run(*TARGET, "requirements.txt").hit
    assert outside.read_bytes() == b"keep me"


def test_a_non_utf8_file_name_on_the_command_line_is_never_a_crash(tool: Tool) -> None:
    name = os.fsdecode(b"req-\xff.txt")
    (tool.project / name).write_text(pins(requests=STALE))
    results = [tool.run(*TARGET, name) for _ in range(3)]
    assert results[2].code == 1 and same(results[1], results[2])
    (tool.project / name).write_text(pins())
    after = tool.run(*TARGET, name)
    assert not after.hit and after.code == 0
