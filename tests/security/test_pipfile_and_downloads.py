"""Hostile `Pipfile.lock` files and hostile downloads (`--verify-downloads`), through the
command line: no injected option or line, no leak, no read or write outside, no hang, no
traceback; one line and the documented exit code."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from reqhash_check import verify
from reqhash_check.pipfile import pipenv_dumps
from tests.hostile import WHEEL, WHEEL_BYTES, WHEEL_SHA, HostileIndex
from tests.security.conftest import FORMATS, SECRET, run

LINUX = "linux-x86_64-glibc2.28-cp312"
META_HASH = {"sha256": "ab" * 32}
STALE = "sha256:" + "cd" * 32


def demo(**extra: Any) -> dict[str, Any]:
    return {"hashes": [f"sha256:{WHEEL_SHA}"], "version": "==1.0", **extra}


def lock(url: str, default: dict[str, Any], *, sources: list[dict[str, Any]] | None = None) -> str:
    return pipenv_dumps(
        {
            "_meta": {
                "hash": META_HASH,
                "pipfile-spec": 6,
                "requires": {"python_version": "3.12"},
                "sources": [{"name": "pypi", "url": url, "verify_ssl": True}, *(sources or [])],
            },
            "default": default,
            "develop": {},
        }
    )


def one_line(err: str) -> None:
    assert "Traceback" not in err and "internal error" not in err
    assert len(err.strip().splitlines()) == 1, err


# -- Pipfile.lock ------------------------------------------------------------------------------


INJECTIONS = {
    "path-include": {"x": {"path": "-r included.txt"}},
    "path-option": {"x": {"path": "--extra-index-url=http://evil.invalid/simple"}},
    "file-with-a-blank": {
        "x": {"file": "http://h.invalid/x.whl --extra-index-url http://evil.invalid/simple"}
    },
    "git-with-a-blank": {
        "x": {"git": "https://h.invalid/r.git --extra-index-url http://evil.invalid/simple"}
    },
    "ref-with-a-blank": {
        "x": {"git": "https://h.invalid/r.git", "ref": "main --index-url=http://evil.invalid/s"}
    },
    "hash-with-a-tab": {
        "demo": demo(hashes=[f"sha256:{WHEEL_SHA}\t--index-url=http://evil.invalid"])
    },
    "path-with-a-tab-comment": {"x": {"path": "./x\t# the rest is gone"}},
    "marker-with-an-option-word": {
        "demo": demo(markers='platform_release != "x --index-url=http://evil.invalid/simple"')
    },
    "marker-with-a-line-separator": {"demo": demo(markers='python_version == "3\u2028-r x"')},
}


@pytest.mark.parametrize("default", INJECTIONS.values(), ids=INJECTIONS.keys())
def test_a_lock_value_cannot_inject_an_option_or_a_line(
    default: dict[str, Any], hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "included.txt").write_text("included-project==1.0\n")
    (repo / "Pipfile.lock").write_text(lock(hostile.simple_url, {"demo": demo(), **default}))
    result = run(capsys, "--isolated", "--target", LINUX, "Pipfile.lock")
    assert result.code == 2, result
    one_line(result.err)
    assert "Pipfile.lock" in result.err
    assert "evil" not in result.out + result.err and "included-project" not in result.out
    assert hostile.requests == []


@pytest.mark.parametrize(
    "url",
    ["{index}\t--extra-index-url\thttp://evil.invalid/simple", "{index}\u2028-rincluded.txt"],
    ids=["tab", "line-separator"],
)
def test_a_lock_source_cannot_inject_an_option_or_a_line(
    url: str, hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "included.txt").write_text("included-project==1.0\n")
    (repo / "Pipfile.lock").write_text(lock(url.format(index=hostile.simple_url), {"demo": demo()}))
    result = run(capsys, "--isolated", "--target", LINUX, "Pipfile.lock")
    assert result.code == 2, result
    one_line(result.err)
    assert "evil" not in result.out + result.err and "included-project" not in result.out
    assert hostile.requests == []


def test_a_lock_source_built_from_a_secret_reaches_no_output_and_no_host(
    hostile: HostileIndex,
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The lock's second source puts ${TOKEN} in the userinfo of a host nobody named; the
    named index lists the file on that host. Neither the check nor --verify-downloads sends
    the token there, and no output shows it."""
    monkeypatch.setenv("TOKEN", SECRET)
    with HostileIndex("download") as elsewhere:
        other = elsewhere.url.replace("127.0.0.1", "localhost")
        hostile.behaviour = "download"
        hostile.file_url = f"{other}/files/{WHEEL}"
        source = other.replace("http://", "http://user:${TOKEN}@") + "/simple"
        (repo / "Pipfile.lock").write_text(
            lock(hostile.simple_url, {"demo": demo()}, sources=[{"name": "b", "url": source}])
        )
        for form in FORMATS:
            result = run(
                capsys, "--isolated", "--target", LINUX, "--verify-downloads",
                "--format", form, "Pipfile.lock",
            )  # fmt: skip
            assert result.code == 3, (form, result)  # the source was not asked: unverified
            assert SECRET not in result.out + result.err
        assert elsewhere.requests, "the file was fetched from the host the index named"
        sent = [headers.get("Authorization") for _, headers in elsewhere.requests]
        assert sent == [None] * len(sent)
    stored = b"".join(p.read_bytes() for p in (repo.parent / "cache").rglob("*") if p.is_file())
    assert SECRET.encode() not in stored


@pytest.mark.parametrize("target", ["/dev/zero", "../outside/secret.txt"])
def test_a_path_entry_at_a_device_or_outside_the_repository_is_not_read(
    target: str, hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo.parent / "outside").mkdir()
    (repo.parent / "outside" / "secret.txt").write_text(f"{SECRET}==1.0\n")
    (repo / "Pipfile.lock").write_text(
        lock(hostile.simple_url, {"demo": demo(), "x": {"path": target}})
    )
    started = time.monotonic()
    result = run(capsys, "--isolated", "--target", LINUX, "--format", "json", "Pipfile.lock")
    assert time.monotonic() - started < 20
    assert result.code == 1 and "Traceback" not in result.err
    [finding] = json.loads(result.out)["findings"]
    assert finding["rule"] == "unhashable"
    assert SECRET not in result.out + result.err


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_a_lock_that_is_a_fifo_or_a_device_is_not_read(
    kind: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if kind == "fifo":
        os.mkfifo(repo / "Pipfile.lock")  # opening it to read would wait for a writer
    else:
        (repo / "Pipfile.lock").symlink_to("/dev/zero")
    result = run(capsys, "--isolated", "--offline")  # discovered, not named
    assert result.code == 2, result
    one_line(result.err)
    # A FIFO is not a regular file; /dev/zero is outside the repository as well.
    assert "Pipfile.lock: " in result.err and "not" in result.err.split("Pipfile.lock: ")[1]


def test_a_huge_lock_is_one_line_and_exit_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    packages = {f"p{n}": demo() for n in range(60_000)}  # about 11 MiB in pipenv's layout
    (repo / "Pipfile.lock").write_text(lock("http://127.0.0.1:9/simple", packages))
    started = time.monotonic()
    result = run(capsys, "--isolated", "--offline", "Pipfile.lock")
    assert time.monotonic() - started < 10
    assert result.code == 2
    one_line(result.err)
    assert "larger than 10 MiB" in result.err


def test_a_duplicate_key_is_judged_fixed_and_shown_as_json_reads_it(
    hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """JSON keeps the last of two equal keys, and so does pipenv: the finding is at the
    last one's lines; --fix refuses (no pipenv lock holds a key twice) and writes nothing."""
    good = json.dumps(demo(), indent=4).replace("\n", "\n        ")
    stale = json.dumps(demo(hashes=[STALE]), indent=4).replace("\n", "\n        ")
    text = (
        "{\n"
        f'    "_meta": {{"sources": [{{"url": "{hostile.simple_url}"}}]}},\n'
        f'    "default": {{\n        "demo": {good},\n        "d\\u0065mo": {stale}\n    }}\n'
        "}\n"
    )
    (repo / "Pipfile.lock").write_text(text)
    second = 1 + text.splitlines().index('        "d\\u0065mo": {')
    result = run(capsys, "--isolated", "--target", LINUX, "--format", "json", "Pipfile.lock")
    [finding] = json.loads(result.out)["findings"]
    assert (result.code, finding["rule"], finding["line"]) == (1, "stale-hash", second)
    result = run(capsys, "--isolated", "--target", LINUX, "--fix", "Pipfile.lock")
    assert "not in pipenv's layout" in result.err and "Traceback" not in result.err
    assert (repo / "Pipfile.lock").read_text() == text


@pytest.mark.parametrize("how", ["crlf", "symlink-leaving"])
def test_fix_does_not_write_a_crlf_lock_or_through_a_symlink_leaving_the_repository(
    how: str, hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = lock(hostile.simple_url, {"demo": demo(hashes=[STALE])})
    target = repo / "Pipfile.lock"
    if how == "crlf":
        text = text.replace("\n", "\r\n")
    else:
        target = repo.parent / "outside.lock"
        (repo / "Pipfile.lock").symlink_to(target)
    target.write_bytes(text.encode())
    result = run(capsys, "--isolated", "--target", LINUX, "--fix", "Pipfile.lock")
    assert "Traceback" not in result.err
    if how == "crlf":
        assert result.code == 1 and "not fixed" in result.err
    else:  # a named file leading out of the repository is not even read
        assert result.code == 2 and "outside the repository" in result.err
    assert target.read_bytes() == text.encode()


def test_fix_rewrites_only_the_hash_list_never_the_meta_hash(
    hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo / "Pipfile.lock").write_text(lock(hostile.simple_url, {"demo": demo(hashes=[STALE])}))
    result = run(capsys, "--isolated", "--target", LINUX, "--fix", "Pipfile.lock")
    assert result.code == 0, result
    assert (repo / "Pipfile.lock").read_text() == lock(hostile.simple_url, {"demo": demo()})


# -- --verify-downloads ------------------------------------------------------------------------


def test_credentials_are_not_sent_to_the_file_host_an_index_names(
    hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with HostileIndex("download") as elsewhere:
        hostile.behaviour = "download"
        hostile.file_url = f"{elsewhere.url.replace('127.0.0.1', 'localhost')}/files/{WHEEL}"
        (repo / "requirements.txt").write_text(f"demo==1.0 --hash=sha256:{WHEEL_SHA}\n")
        index = hostile.simple_url.replace("http://", f"http://user:{SECRET}@")
        for form in FORMATS:
            result = run(
                capsys, "--isolated", "--target", LINUX, "--index-url", index,
                "--verify-downloads", "--format", form, "requirements.txt",
            )  # fmt: skip
            assert result.code == 0, (form, result)
            assert SECRET not in result.out + result.err
        assert any(path.startswith("/files/") for path, _ in elsewhere.requests)
        assert all("Authorization" not in headers for _, headers in elsewhere.requests)
    assert any("Authorization" in headers for _, headers in hostile.requests)


MISBEHAVING = {
    "not-found": ("not-found", None, "HTTP 404"),
    "redirect-loop": ("redirect-loop", None, "too many redirects"),
    "endless": ("endless", None, "larger than 1 MiB (--max-download-size)"),
    "length-past-the-cap": ("long-length", None, "larger than 1 MiB (--max-download-size)"),
    "drip": ("drip", None, "timed out (the whole file within 2 s, 1 attempt)"),
}


@pytest.mark.parametrize(("download", "file_url", "said"), MISBEHAVING.values(), ids=MISBEHAVING)
def test_a_download_that_misbehaves_leaves_the_pin_unverified_in_bounded_time(
    download: str,
    file_url: str | None,
    said: str,
    hostile: HostileIndex,
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(verify, "DOWNLOAD_TIMEOUT", 2.0)  # the whole file, all attempts
    hostile.behaviour, hostile.download, hostile.file_url = "download", download, file_url
    (repo / "requirements.txt").write_text(f"demo==1.0 --hash=sha256:{WHEEL_SHA}\n")
    started = time.monotonic()
    result = run(
        capsys, "--isolated", "--target", LINUX, "--index-url", hostile.simple_url,
        "--timeout", "1", "--verify-downloads", "--max-download-size", "1",
        "--format", "json", "requirements.txt",
    )  # fmt: skip
    assert time.monotonic() - started < 15
    assert result.code == 3, result  # never "OK" for what was not checked
    assert "Traceback" not in result.err
    [skipped] = json.loads(result.out)["unverified"]
    assert said in skipped["reason"] and "\n" not in skipped["reason"]
    stored = b"".join(p.read_bytes() for p in (repo.parent / "cache").rglob("*") if p.is_file())
    assert WHEEL_BYTES not in stored


def test_a_file_url_an_index_lists_is_never_fetched(
    hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A remote page never names a local file: its `file:` link is dropped before anything
    is chosen, so nothing of /dev/zero is read and the pin is not judged OK."""
    hostile.behaviour, hostile.download, hostile.file_url = "download", "good", "file:///dev/zero"
    (repo / "requirements.txt").write_text(f"demo==1.0 --hash=sha256:{WHEEL_SHA}\n")
    started = time.monotonic()
    result = run(
        capsys, "--isolated", "--target", LINUX, "--index-url", hostile.simple_url,
        "--verify-downloads", "--format", "json", "requirements.txt",
    )  # fmt: skip
    assert time.monotonic() - started < 15
    assert result.code != 0 and "Traceback" not in result.err, result


@pytest.mark.parametrize("download", ["gzip", "short-length"])
def test_bytes_other_than_the_file_are_hashed_as_sent(
    download: str, hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """pip asks for no content coding and hashes the bytes as they arrive (a gzip body it
    was sent anyway, or the bytes a Content-Length cuts to): so does the check, and either
    is `unpublished-bytes`."""
    hostile.behaviour, hostile.download = "download", download
    (repo / "requirements.txt").write_text(f"demo==1.0 --hash=sha256:{WHEEL_SHA}\n")
    result = run(
        capsys, "--isolated", "--target", LINUX, "--index-url", hostile.simple_url,
        "--verify-downloads", "requirements.txt",
    )  # fmt: skip
    assert result.code == 1, result
    assert "requirements.txt:1: unpublished-bytes" in result.out
    said = "served with Content-Encoding 'gzip' although none was asked"
    assert (said in result.out) is (download == "gzip")
    asked = [h for p, h in hostile.requests if p.startswith("/files/")]
    assert any(h.get("Accept-Encoding") == "identity" for h in asked)


def test_a_redirect_to_another_host_carries_no_credentials(
    hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with HostileIndex("download") as elsewhere:
        hostile.behaviour, hostile.download = "download", "redirect-away"
        hostile.redirect_to = f"{elsewhere.url.replace('127.0.0.1', 'localhost')}/files/{WHEEL}"
        (repo / "requirements.txt").write_text(f"demo==1.0 --hash=sha256:{WHEEL_SHA}\n")
        index = hostile.simple_url.replace("http://", f"http://user:{SECRET}@")
        result = run(
            capsys, "--isolated", "--target", LINUX, "--index-url", index,
            "--verify-downloads", "requirements.txt",
        )  # fmt: skip
        assert result.code == 0, result
        assert SECRET not in result.out + result.err
        assert [p for p, _ in elsewhere.requests] == [f"/files/{WHEEL}"]
        assert all("Authorization" not in headers for _, headers in elsewhere.requests)


def test_a_pylock_url_gets_netrc_credentials_only_on_a_configured_index_s_host(
    hostile: HostileIndex,
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The archive URLs of a pylock.toml are the lock's: netrc credentials go to them only
    where they are on a configured index's host, as for an index URL a lock names."""
    netrc = repo.parent / "netrc"
    netrc.write_text(
        f"machine localhost login u password {SECRET}\nmachine 127.0.0.1 login u password ok\n"
    )
    monkeypatch.setenv("NETRC", str(netrc))
    with HostileIndex("download") as elsewhere:
        hostile.behaviour = "download"
        for host, got in (
            (elsewhere.url.replace("127.0.0.1", "localhost"), elsewhere),
            (hostile.url, hostile),
        ):
            (repo / "pylock.toml").write_text(
                'lock-version = "1.0"\ncreated-by = "hand"\nrequires-python = ">=3.8"\n\n'
                f'[[packages]]\nname = "demo"\nversion = "1.0"\nindex = "{hostile.simple_url}"\n'
                f'wheels = [{{ name = "{WHEEL}", url = "{host}/files/{WHEEL}", '
                f'hashes = {{ sha256 = "{WHEEL_SHA}" }} }}]\n'
            )
            result = run(
                capsys, "--isolated", "--target", LINUX, "--index-url", hostile.simple_url,
                "--verify-downloads", "pylock.toml",
            )  # fmt: skip
            assert result.code == 0, result
            sent = [h.get("Authorization") for p, h in got.requests if p.startswith("/files/")]
            assert sent, host
            if got is elsewhere:
                assert sent == [None] * len(sent)
            else:
                assert all(value is not None for value in sent)


def test_a_value_past_the_line_cap_is_one_line_naming_the_lock_s_line(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extras = [f"e{n}" for n in range(30_000)]  # one requirement line past 100 KiB
    text = lock("http://127.0.0.1:9/simple", {"demo": demo(extras=extras)})
    (repo / "Pipfile.lock").write_text(text)
    started = time.monotonic()
    result = run(capsys, "--isolated", "--offline", "Pipfile.lock")
    assert time.monotonic() - started < 10
    assert result.code == 2
    one_line(result.err)
    line = 1 + text.splitlines().index('        "demo": {')
    assert f"Pipfile.lock:{line}: a line longer than 100 KiB" in result.err


def test_meta_is_no_category_so_fix_never_writes_into_it(
    hostile: HostileIndex, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = pipenv_dumps({"_meta": {"hash": demo(hashes=[STALE])}, "default": {}, "develop": {}})
    (repo / "Pipfile.lock").write_text(text)
    result = run(
        capsys, "--isolated", "--target", LINUX, "--index-url", hostile.simple_url,
        "--categories", "_meta", "--fix", "Pipfile.lock",
    )  # fmt: skip
    assert result.code == 2
    one_line(result.err)
    assert "--categories" in result.err
    assert (repo / "Pipfile.lock").read_text() == text


@pytest.mark.parametrize("algorithm", ["shake_128", "nope"])
@pytest.mark.parametrize("kind", ["requirements", "pylock"])
def test_a_hash_algorithm_a_file_names_is_no_internal_error_when_downloads_are_verified(
    kind: str,
    algorithm: str,
    hostile: HostileIndex,
    repo: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`hashlib.new("nope")` raises, and a shake digest needs a length: a name the file
    writes is hashed with only when it is a fixed-length algorithm hashlib has."""
    hostile.behaviour = "download"
    if kind == "requirements":
        name = "requirements.txt"
        text = f"demo==1.0 --hash=sha256:{WHEEL_SHA} --hash={algorithm}:{'ab' * 32}\n"
    else:
        name = "pylock.toml"
        text = (
            'lock-version = "1.0"\ncreated-by = "hand"\nrequires-python = ">=3.8"\n\n'
            f'[[packages]]\nname = "demo"\nversion = "1.0"\nindex = "{hostile.simple_url}"\n'
            f'wheels = [{{ name = "{WHEEL}", url = "{hostile.url}/files/{WHEEL}", '
            f'hashes = {{ sha256 = "{WHEEL_SHA}", {algorithm} = "{"ab" * 16}" }} }}]\n'
        )
    (repo / name).write_text(text)
    result = run(
        capsys, "--isolated", "--target", LINUX, "--index-url", hostile.simple_url,
        "--verify-downloads", name,
    )  # fmt: skip
    assert "internal error" not in result.err and "Traceback" not in result.err
    assert result.code in (0, 1), result  # the check's own verdict on the odd hash
    assert any(p.startswith("/files/") for p, _ in hostile.requests)
