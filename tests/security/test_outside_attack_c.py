"""An outside attacker's cases against the one configuration and the one look-up service,
through the real command line: which index each source asks (a requirements file, the
checked tree's `[tool.reqhash-check]`, a pylock.toml, a Pipfile.lock, an `explain` log),
which credentials go with each request, what the cache is believed for, and whether the
run's bounds (timeout, concurrency, --offline, explain's budget) hold on every path.

Each test names the promise of docs/security.md it holds.
"""

from __future__ import annotations

import base64
import binascii
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reqhash_check.index.cache import ReleaseCache
from reqhash_check.pipfile import pipenv_dumps
from tests.hostile import WHEEL, WHEEL_SHA, HostileIndex, _Handler, good_file, page
from tests.security.conftest import FORMATS, SECRET, Run, pinned, run

STALE = "ef" * 32
FORGED = "a1" * 32
PASSWORD = f"pw-{SECRET}"
TOKEN = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
LOG_FORMATS = ("text", "json", "markdown", "github")
LINUX = "linux-x86_64-glibc2.28-cp312"


def _no_traceback(result: Run) -> None:
    assert "Traceback" not in result.out + result.err
    assert "internal error" not in result.out + result.err


def _clean(result: Run, *secrets: str) -> None:
    _no_traceback(result)
    shown = result.out + result.err
    for secret in (SECRET, TOKEN, *secrets):
        assert secret not in shown, (secret, shown)


def _unverified(result: Run) -> None:
    """Nothing was believed: the pin is reported unverified (a cold cache offline is a
    warning, exit 0; never "OK")."""
    _no_traceback(result)
    assert result.code in (0, 3), result
    assert "NOT verified" in result.out and "stale-hash" not in result.out, result


def _with_password(url: str, password: str = PASSWORD) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://alice:{password}@{rest}"


def _sent(index: HostileIndex) -> list[str | None]:
    return [h.get("Authorization") for _, h in index.requests]


def _netrc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *hosts: str) -> str:
    """A netrc with an entry for each host and a default entry; the token either sends."""
    path = tmp_path / "netrc"
    lines = [f"machine {host} login alice password {PASSWORD}\n" for host in hosts]
    path.write_text("".join(lines) + f"default login alice password {PASSWORD}\n")
    path.chmod(0o600)
    monkeypatch.setenv("NETRC", str(path))
    return TOKEN


def _pip_conf(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    conf = tmp_path / "pip.conf"
    conf.write_text(text)
    monkeypatch.setenv("PIP_CONFIG_FILE", str(conf))


def _pylock(index: str | None, file_url: str, digest: str = WHEEL_SHA, name: str = "demo") -> str:
    index_line = f'index = "{index}"\n' if index else ""
    return (
        f'[[packages]]\nname = "{name}"\nversion = "1.0"\n{index_line}'
        f'wheels = [{{ name = "{WHEEL.replace("demo", name)}", url = "{file_url}", '
        f'hashes = {{ sha256 = "{digest}" }} }}]\n'
    )


def _lock_file(*packages: str) -> str:
    return 'lock-version = "1.0"\ncreated-by = "hand"\nrequires-python = ">=3.8"\n\n' + "\n".join(
        packages
    )


def _pipfile_lock(source: str, *, digest: str = WHEEL_SHA, index: str | None = None) -> str:
    entry: dict[str, Any] = {"hashes": [f"sha256:{digest}"], "version": "==1.0"}
    if index:
        entry["index"] = index
    return pipenv_dumps(
        {
            "_meta": {
                "hash": {"sha256": "ab" * 32},
                "pipfile-spec": 6,
                "requires": {"python_version": "3.12"},
                "sources": [{"name": "pypi", "url": source, "verify_ssl": True}],
            },
            "default": {"demo": entry},
            "develop": {},
        }
    )


def _mismatch_log(index_url: str = "http://127.0.0.1:8000") -> str:
    source = Path(__file__).parents[1] / "data" / "piplogs" / "pip-25.0.1" / "mismatch.log"
    return source.read_text().replace("http://127.0.0.1:8000", index_url)


@pytest.fixture
def attacker() -> Iterator[HostileIndex]:
    with HostileIndex() as index:
        yield index


def _handler(monkeypatch: pytest.MonkeyPatch, name: str, method: Any) -> None:
    monkeypatch.setattr(_Handler, f"_{name}", method, raising=False)


def _password_sent(handler: _Handler) -> str:
    token = handler.headers.get("Authorization", "").removeprefix("Basic ")
    try:
        return base64.b64decode(token).decode().partition(":")[2]
    except (binascii.Error, UnicodeDecodeError):
        return ""


def _quote_password_in_path(self: _Handler) -> None:
    """Sends the request on to a path holding the password it was sent, which then fails:
    the error names the URL it failed at."""
    if self.path.startswith("/leak/"):
        self._send(b"<html>not an index</html>", "text/html")
        return
    said = _password_sent(self) or "none"
    self._send(b"", "text/plain", status="302", Location=f"/leak/{said}{self.path}")


# --- 1. credentials: which index gets which ------------------------------------------------


def test_a_tree_index_on_the_command_line_index_s_origin_gets_none_of_its_credentials(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: trust-from-trusted-origins. `--index-url` holds a password; the tree's
    `extra-index-url` names another path on the same origin: asked without the password
    (a client of its own), and the password shows in no format."""
    (repo / "pyproject.toml").write_text(
        f'[tool.reqhash-check]\nextra-index-url = "{hostile.url}/tree/simple"\n'
    )
    (repo / "r.txt").write_text(pinned())
    for fmt in FORMATS:
        hostile.requests.clear()
        result = run(
            capsys, "--no-cache", "--index-url", _with_password(hostile.simple_url),
            "--format", fmt, "r.txt",
        )  # fmt: skip
        _clean(result)
        tree = [h.get("Authorization") for p, h in hostile.requests if p.startswith("/tree/")]
        own = [h.get("Authorization") for p, h in hostile.requests if p.startswith("/simple/")]
        assert tree and own, hostile.requests
        assert tree == [None] * len(tree), fmt
        assert all(own), fmt


@pytest.mark.parametrize("where", ["environment", "pip-config"])
def test_a_tree_index_gets_none_of_the_credentials_pip_s_configuration_holds(
    where: str,
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    attacker: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: trust-from-trusted-origins. `PIP_INDEX_URL` (or pip.conf) with a password,
    netrc entries for every host: the index the tree's `index-url` names (another port)
    gets no credentials at all, and no format prints the password."""
    configured = _with_password(hostile.simple_url)
    if where == "environment":
        monkeypatch.setenv("PIP_INDEX_URL", configured)
    else:
        _pip_conf(tmp_path, monkeypatch, f"[global]\nindex-url = {configured}\n")
    _netrc(tmp_path, monkeypatch, "127.0.0.1", "localhost")
    (repo / "pyproject.toml").write_text(
        f'[tool.reqhash-check]\nextra-index-url = "{attacker.simple_url}"\n'
    )
    (repo / "r.txt").write_text(pinned())
    for fmt in FORMATS:
        result = run(capsys, "--no-cache", "--format", fmt, "r.txt")
        _clean(result)
    assert attacker.requests and _sent(attacker) == [None] * len(attacker.requests)
    assert hostile.requests and all(_sent(hostile))


def test_a_lock_index_on_the_configured_index_s_host_gets_none_of_its_credentials(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: transport. A pylock.toml's `index` names another path on the configured
    index's origin: asked with a client of its own, without the command line's password or
    netrc's; the configured index itself still gets its password."""
    _netrc(tmp_path, monkeypatch, "127.0.0.1")
    (repo / "pylock.toml").write_text(
        _lock_file(
            _pylock(f"{hostile.url}/lock/simple", f"{hostile.url}/files/{WHEEL}"),
            _pylock(None, f"{hostile.url}/files/{WHEEL}", name="other"),
        )
    )
    for fmt in FORMATS:
        hostile.requests.clear()
        result = run(
            capsys, "--no-cache", "--index-url", _with_password(hostile.simple_url),
            "--target", LINUX, "--format", fmt, "pylock.toml",
        )  # fmt: skip
        _clean(result)
        lock = [h.get("Authorization") for p, h in hostile.requests if p.startswith("/lock/")]
        own = [h.get("Authorization") for p, h in hostile.requests if p.startswith("/simple/")]
        assert lock and own, hostile.requests
        assert lock == [None] * len(lock)
        assert all(own)


def test_a_lock_index_s_own_password_goes_only_to_it_and_is_never_printed(
    repo: Path,
    hostile: HostileIndex,
    attacker: HostileIndex,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Promise: no-leak (credentials). A lock's index URL with its own password: sent to
    that origin only (a redirect to another port carries none), shown as `****@` in every
    format, even when the index fails."""
    hostile.behaviour = "redirect"
    hostile.redirect_to = attacker.url
    lock_index = _with_password(hostile.simple_url)
    (repo / "pylock.toml").write_text(
        _lock_file(_pylock(lock_index, f"{hostile.url}/files/{WHEEL}"))
    )
    for fmt in FORMATS:
        result = run(
            capsys, "--no-cache", "--index-url", "http://127.0.0.1:9/simple", "--timeout", "5",
            "--target", LINUX, "--format", fmt, "pylock.toml",
        )  # fmt: skip
        _clean(result)
    assert hostile.requests and all(_sent(hostile))
    assert attacker.requests and _sent(attacker) == [None] * len(attacker.requests)


def test_a_pipfile_lock_source_on_another_port_gets_no_credentials(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    attacker: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: transport. A Pipfile.lock source on the configured index's host but another
    port (plain http): neither the command line's password nor netrc's entry (host or
    default) goes to it."""
    _netrc(tmp_path, monkeypatch, "127.0.0.1")
    (repo / "Pipfile.lock").write_text(_pipfile_lock(attacker.simple_url))
    for fmt in FORMATS:
        result = run(
            capsys, "--no-cache", "--index-url", _with_password(hostile.simple_url),
            "--format", fmt, "Pipfile.lock",
        )  # fmt: skip
        _clean(result)
    assert attacker.requests and _sent(attacker) == [None] * len(attacker.requests)


def test_a_requirements_file_s_plain_http_index_gets_no_netrc_default_entry(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    attacker: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: transport. netrc's default entry (and the host's own entry over plain http)
    never goes to an index a requirements file names."""
    _netrc(tmp_path, monkeypatch, "127.0.0.1", "localhost")
    (repo / "r.txt").write_text(f"--extra-index-url {attacker.simple_url}\n" + pinned())
    result = run(capsys, "--no-cache", "--index-url", hostile.simple_url, "r.txt")
    _clean(result)
    assert attacker.requests and _sent(attacker) == [None] * len(attacker.requests)
    assert all(_sent(hostile))  # the command line's index: netrc's entry for its host


# --- 2. explain asks only what the command line and pip's configuration name -----------------


def test_explain_asks_no_index_a_log_names(
    repo: Path, hostile: HostileIndex, attacker: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: trust-from-trusted-origins. A log whose command line, `Looking in indexes`
    and download URLs all name another host: `explain` asks only `--index-url`."""
    (repo / "pip.log").write_text(
        _mismatch_log(attacker.url).replace(
            "--index-url", f"--extra-index-url {attacker.url}/x/simple --index-url"
        )
    )
    for fmt in LOG_FORMATS:
        result = run(
            capsys, "explain", "--index-url", hostile.simple_url, "--format", fmt, "pip.log"
        )
        _no_traceback(result)
        assert result.code in (0, 1), result
    assert hostile.requests
    assert attacker.requests == []


def test_explain_asks_no_index_its_requirements_file_names(
    repo: Path, hostile: HostileIndex, attacker: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: trust-from-trusted-origins. `explain --requirements FILE` reads the file's
    lines, never its `--index-url`, `--extra-index-url` or `--find-links`."""
    (repo / "requirements.txt").write_text(
        f"--index-url {attacker.simple_url}\n--extra-index-url {attacker.url}/x/simple\n"
        f"--find-links {attacker.url}/links/\n" + pinned(digest=STALE)
    )
    (repo / "pip.log").write_text(_mismatch_log())
    result = run(
        capsys, "explain", "--index-url", hostile.simple_url,
        "--requirements", "requirements.txt", "pip.log",
    )  # fmt: skip
    _no_traceback(result)
    assert hostile.requests and attacker.requests == []


def test_explain_asks_pip_s_configured_index_with_its_password_and_never_prints_it(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: no-leak (credentials). pip.conf names the index with a password: `explain`
    asks it with the password and prints it in no format; `--isolated` leaves pip.conf out
    (and asks nothing it names)."""
    configured = _with_password(hostile.simple_url)
    _pip_conf(tmp_path, monkeypatch, f"[global]\nindex-url = {configured}\n")
    (repo / "pip.log").write_text(_mismatch_log(_with_password(hostile.url)))
    for fmt in LOG_FORMATS:
        result = run(capsys, "explain", "--format", fmt, "pip.log")
        _clean(result)
    assert hostile.requests and all(_sent(hostile))
    hostile.requests.clear()
    result = run(capsys, "explain", "--isolated", "--offline", "pip.log")
    _clean(result)
    assert hostile.requests == []


def test_explain_never_prints_a_password_an_index_puts_in_a_redirect(
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: no-leak (credentials). The index sends the request on to a path holding the
    password it was sent, then fails: the failure names that URL, with the password as
    `****` in every format (the check's backstop, now `explain`'s too)."""
    _handler(monkeypatch, "quote_path", _quote_password_in_path)
    hostile.behaviour = "quote_path"
    (repo / "pip.log").write_text(_mismatch_log())
    for fmt in LOG_FORMATS:
        result = run(
            capsys, "explain", "--no-cache", "--index-url", _with_password(hostile.simple_url),
            "--format", fmt, "pip.log",
        )  # fmt: skip
        _clean(result, PASSWORD)
        assert result.code == 3, result
    assert any(p.startswith("/leak/") for p, _ in hostile.requests)


def test_the_check_never_prints_a_password_an_index_puts_in_a_redirect(
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: no-leak (credentials). The same index against the check, a pylock.toml and
    a Pipfile.lock: the password is `****` in every format."""
    _handler(monkeypatch, "quote_path", _quote_password_in_path)
    hostile.behaviour = "quote_path"
    (repo / "r.txt").write_text(pinned())
    (repo / "pylock.toml").write_text(_lock_file(_pylock(None, f"{hostile.url}/files/{WHEEL}")))
    (repo / "Pipfile.lock").write_text(_pipfile_lock(hostile.simple_url))
    for target in ("r.txt", "pylock.toml", "Pipfile.lock"):
        for fmt in FORMATS:
            result = run(
                capsys, "--no-cache", "--index-url", _with_password(hostile.simple_url),
                "--target", LINUX, "--format", fmt, target,
            )  # fmt: skip
            _clean(result, PASSWORD)
            assert result.code == 3, (target, result)


# --- 3. the cache ----------------------------------------------------------------------------


def _cache_file(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "index-cache.sqlite3"


def _tamper(tmp_path: Path, digest: str) -> int:
    """Rewrite every row's digests in place, keeping its MAC: a row changed since it was
    signed."""
    path = _cache_file(tmp_path)
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT rowid, payload FROM answers").fetchall()
        for rowid, payload in rows:
            conn.execute(
                "UPDATE answers SET payload = ? WHERE rowid = ?",
                (payload.replace(WHEEL_SHA, digest), rowid),
            )
    conn.close()
    return len(rows)


def _forge(tmp_path: Path, digest: str, *, key: bytes | None, index_url: str | None = None) -> int:
    """Every row rewritten claiming `digest`, signed with `key` (None: the user's own), and
    filed under `index_url` when given (a row replayed under another index)."""
    path = _cache_file(tmp_path)
    with sqlite3.connect(path) as conn:
        rows = conn.execute(
            "SELECT index_url, kind, project, version, payload, document FROM answers"
        ).fetchall()
    conn.close()
    forger = ReleaseCache(path, key=key)
    for url, kind, project, version, payload, document in rows:
        data = json.loads(payload.replace(WHEEL_SHA, digest))
        forger.put(index_url or url, kind, project, version, data, document=document)
    forger.close()
    return len(rows)


@pytest.mark.parametrize("how", ["tampered", "other-key"])
def test_a_forged_row_for_a_lock_s_own_index_is_not_believed(
    how: str, repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: cache-checked. A pylock.toml whose `index` has a client of its own reads the
    same signed cache: rows changed since signing, or signed with another key, claiming
    the lock's stale hash is published, are misses: offline, nothing is believed (exit 3);
    online, the index is asked again and the hash is stale."""
    lock_index = f"{hostile.url}/lock/simple"
    (repo / "pylock.toml").write_text(
        _lock_file(_pylock(lock_index, f"{hostile.url}/files/{WHEEL}", digest=STALE))
    )
    args = ("--index-url", "http://127.0.0.1:9/simple", "--target", LINUX, "--timeout", "5")
    first = run(capsys, *args, "pylock.toml")
    assert first.code == 1, first
    if how == "tampered":
        assert _tamper(tmp_path, STALE)
    else:
        assert _forge(tmp_path, STALE, key=b"k" * 32)
    offline = run(capsys, *args, "--offline", "pylock.toml")
    _unverified(offline)
    hostile.requests.clear()
    online = run(capsys, *args, "--format", "json", "pylock.toml")
    assert online.code == 1, online
    assert any(p.startswith("/lock/") for p, _ in hostile.requests)


def test_a_row_of_the_configured_index_replayed_under_a_lock_s_index_is_a_miss(
    repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: cache-checked. Rows the configured index's answers filled, copied (with
    their MAC) under the URL a lock names, are misses: the lock's index is asked."""
    (repo / "r.txt").write_text(pinned())
    assert run(capsys, "--index-url", hostile.simple_url, "r.txt").code == 0
    path = _cache_file(tmp_path)
    with sqlite3.connect(path) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(answers)")]
        rows = conn.execute("SELECT * FROM answers").fetchall()
        at = columns.index("index_url")
        for row in rows:
            moved = list(row)
            moved[at] = row[at].replace(hostile.url, "http://127.0.0.1:9")
            conn.execute(
                f"INSERT OR REPLACE INTO answers VALUES ({', '.join('?' * len(moved))})", moved
            )
    conn.close()
    (repo / "pylock.toml").write_text(
        _lock_file(_pylock("http://127.0.0.1:9/simple", f"{hostile.url}/files/{WHEEL}"))
    )
    result = run(capsys, "--index-url", hostile.simple_url, "--target", LINUX, "--offline",
                 "pylock.toml")  # fmt: skip
    _unverified(result)


@pytest.mark.parametrize("how", ["tampered", "other-key", "replayed"])
def test_explain_believes_no_forged_row(
    how: str,
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Promise: cache-checked. `explain --offline` answers from the cache alone: a row
    changed since signing, one signed with another key, or one of another index replayed
    under this one cannot make it name a cause (exit 3, the index could not tell)."""
    (repo / "r.txt").write_text(pinned())
    log = repo / "pip.log"
    log.write_text(_mismatch_log(hostile.url))
    index = hostile.simple_url
    assert run(capsys, "--index-url", index, "r.txt").code == 0
    if how == "tampered":
        assert _tamper(tmp_path, FORGED)
    elif how == "other-key":
        assert _forge(tmp_path, FORGED, key=b"k" * 32)
    else:
        index = f"{hostile.url}/other/simple"
    result = run(capsys, "explain", "--offline", "--index-url", index, str(log))
    _no_traceback(result)
    assert result.code == 3, result
    assert "undetermined" in result.out and "foreign-hashes" not in result.out, result


def test_explain_believes_its_own_signed_rows_offline(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """The control: rows the check wrote under the user's key answer `explain --offline`."""
    (repo / "r.txt").write_text(pinned())
    (repo / "pip.log").write_text(_mismatch_log(hostile.url))
    assert run(capsys, "--index-url", hostile.simple_url, "r.txt").code == 0
    hostile.requests.clear()
    result = run(capsys, "explain", "--offline", "--index-url", hostile.simple_url, "pip.log")
    _no_traceback(result)
    assert "foreign-hashes" in result.out, result
    assert hostile.requests == []


def test_a_forged_row_is_not_believed_for_a_pipfile_lock(
    repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: cache-checked. A Pipfile.lock with a stale hash; rows re-signed with another
    key say it is published: the run asks the index again and reports it stale."""
    (repo / "Pipfile.lock").write_text(_pipfile_lock(hostile.simple_url, digest=STALE))
    assert run(capsys, "Pipfile.lock").code == 1
    assert _forge(tmp_path, STALE, key=b"k" * 32)
    offline = run(capsys, "--offline", "Pipfile.lock")
    _unverified(offline)
    result = run(capsys, "Pipfile.lock")
    assert result.code == 1 and "stale-hash" in result.out, result


def test_fix_of_a_pipfile_lock_believes_no_row_of_its_own_key(
    repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-rejected-hashes. Rows signed with the user's own key, claiming a forged
    hash: `--fix` of a Pipfile.lock asks the index and writes only what it publishes; with
    the index down it writes nothing."""
    lock = repo / "Pipfile.lock"
    lock.write_text(_pipfile_lock(hostile.simple_url, digest=STALE))
    assert run(capsys, "Pipfile.lock").code == 1
    assert _forge(tmp_path, FORGED, key=None)
    result = run(capsys, "--fix", "Pipfile.lock")
    _no_traceback(result)
    text = lock.read_text()
    assert WHEEL_SHA in text and FORGED not in text
    lock.write_text(_pipfile_lock("http://127.0.0.1:9/simple", digest=STALE))
    before = lock.read_bytes()
    down = run(capsys, "--fix", "--timeout", "2", "Pipfile.lock")
    _no_traceback(down)
    assert down.code == 3 and lock.read_bytes() == before


# --- 4. bounds: offline, timeout, concurrency --------------------------------------------------


def test_offline_asks_nothing_on_any_path(
    repo: Path, hostile: HostileIndex, attacker: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: --offline. Nothing is asked of any index on any path: a requirements file,
    the tree's index, a lock's own index, a Pipfile.lock source, explain."""
    (repo / "pyproject.toml").write_text(
        f'[tool.reqhash-check]\nextra-index-url = "{attacker.url}/tree/simple"\n'
    )
    (repo / "r.txt").write_text(f"--extra-index-url {attacker.url}/file/simple\n" + pinned())
    (repo / "pylock.toml").write_text(
        _lock_file(_pylock(f"{attacker.url}/lock/simple", f"{attacker.url}/files/{WHEEL}"))
    )
    (repo / "Pipfile.lock").write_text(_pipfile_lock(f"{attacker.url}/pipenv/simple"))
    (repo / "pip.log").write_text(_mismatch_log(attacker.url))
    args = ("--offline", "--index-url", hostile.simple_url)
    for target in ("r.txt", "pylock.toml", "Pipfile.lock"):
        _unverified(run(capsys, *args, "--target", LINUX, target))
    result = run(capsys, "explain", *args, "pip.log")
    _no_traceback(result)
    assert result.code == 3, result
    assert hostile.requests == [] and attacker.requests == []


def _silent(self: _Handler) -> None:
    """Takes the request and never answers."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not self.owner.stopping:
        time.sleep(0.05)


@pytest.mark.parametrize("path", ["tree", "lock", "pipfile", "explain"])
def test_timeout_holds_on_every_path(
    path: str,
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: bounded-time. An index that takes the request and never answers: `--timeout
    1` bounds every path (four attempts and their waits), one index line, exit 3."""
    _handler(monkeypatch, "silent", _silent)
    hostile.behaviour = "silent"
    dead = f"{hostile.url}/{path}/simple"
    argv = ["--timeout", "1", "--no-cache", "--index-url", "http://127.0.0.1:9/simple"]
    if path == "tree":
        (repo / "pyproject.toml").write_text(f'[tool.reqhash-check]\nindex-url = "{dead}"\n')
        (repo / "r.txt").write_text(pinned())
        argv = ["--timeout", "1", "--no-cache", "r.txt"]
    elif path == "lock":
        (repo / "pylock.toml").write_text(_lock_file(_pylock(dead, f"{hostile.url}/files/{WHEEL}")))
        argv += ["--target", LINUX, "pylock.toml"]
    elif path == "pipfile":
        (repo / "Pipfile.lock").write_text(_pipfile_lock(dead))
        argv = ["--timeout", "1", "--no-cache", "Pipfile.lock"]
    else:
        (repo / "pip.log").write_text(_mismatch_log())
        argv = ["explain", "--timeout", "1", "--no-cache", "--index-url", dead, "pip.log"]
    started = time.monotonic()
    result = run(capsys, *argv)
    assert time.monotonic() - started < 15, result
    _no_traceback(result)
    assert result.code == 3, result


@pytest.mark.parametrize("command", ["check", "explain"])
@pytest.mark.parametrize("value", ["3601", "inf", "nan", "0", "-1", "1e309"])
def test_the_timeout_cap_holds_for_both_commands(
    command: str, value: str, repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: bounded-time. A --timeout past an hour, not finite or not positive is one
    line and exit 2, for the check and for `explain`, before anything is asked."""
    (repo / "r.txt").write_text(pinned())
    (repo / "pip.log").write_text(_mismatch_log())
    argv = (
        ["--timeout", value, "r.txt"]
        if command == "check"
        else ["explain", "--timeout", value, "pip.log"]
    )
    result = run(capsys, *argv)
    _no_traceback(result)
    assert result.code == 2, result
    assert len(result.err.strip().splitlines()) == 1 and "--timeout" in result.err


class _Gauge:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.most = 0


def _slow(self: _Handler) -> None:
    """The good page, a moment late: how many requests are in flight at once is measured."""
    gauge: _Gauge = self.owner.gauge  # type: ignore[attr-defined]
    with gauge.lock:
        gauge.now += 1
        gauge.most = max(gauge.most, gauge.now)
    try:
        time.sleep(0.2)
        self._send(page(self._project(), [good_file()]))
    finally:
        with gauge.lock:
            gauge.now -= 1


def test_concurrency_holds_across_the_indexes_a_lock_names(
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: bounded. A pylock.toml whose forty packages each name an index of their own
    (each asked with a client of its own) still has at most `--concurrency` requests in
    flight: the cap on answers held in memory is the run's, not each index's."""
    _handler(monkeypatch, "slow", _slow)
    hostile.behaviour = "slow"
    hostile.gauge = _Gauge()  # type: ignore[attr-defined]
    names = [f"p{n}" for n in range(40)]
    (repo / "pylock.toml").write_text(
        _lock_file(
            *(
                _pylock(f"{hostile.url}/{n}/simple", f"{hostile.url}/files/{WHEEL}", name=n)
                for n in names
            )
        )
    )
    result = run(
        capsys, "--no-cache", "--concurrency", "2", "--index-url", "http://127.0.0.1:9/simple",
        "--target", LINUX, "pylock.toml",
    )  # fmt: skip
    _no_traceback(result)
    assert len(hostile.requests) >= len(names)
    assert hostile.gauge.most <= 2, hostile.gauge.most  # type: ignore[attr-defined]


def test_concurrency_holds_with_the_tree_s_index_beside_the_command_line_s(
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: bounded. The tree's index has a client of its own (no credentials): the two
    together still keep to `--concurrency`."""
    _handler(monkeypatch, "slow", _slow)
    hostile.behaviour = "slow"
    hostile.gauge = _Gauge()  # type: ignore[attr-defined]
    (repo / "pyproject.toml").write_text(
        f'[tool.reqhash-check]\nextra-index-url = "{hostile.url}/tree/simple"\n'
    )
    (repo / "r.txt").write_text("".join(pinned(f"p{n}") for n in range(20)))
    result = run(
        capsys, "--no-cache", "--concurrency", "2", "--index-url", hostile.simple_url, "r.txt"
    )
    _no_traceback(result)
    assert hostile.gauge.most <= 2, hostile.gauge.most  # type: ignore[attr-defined]


# --- 5. --no-index and --allow-index on every path ----------------------------------------------


@pytest.mark.parametrize("own_index", [False, True], ids=["configured", "lock-s-own"])
def test_no_index_asks_no_index_for_a_lock_file(
    own_index: bool,
    repo: Path,
    hostile: HostileIndex,
    attacker: HostileIndex,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Promise: --no-index. With `--no-index` and no `--find-links`, a pylock.toml's
    packages are asked of no index (neither the configured one nor the lock's own): they
    are unverified, one line each, exit 3 (the configured index was asked before)."""
    lock_index = f"{attacker.url}/lock/simple" if own_index else None
    (repo / "pylock.toml").write_text(
        _lock_file(_pylock(lock_index, f"{attacker.url}/files/{WHEEL}"))
    )
    for fmt in FORMATS:
        result = run(
            capsys, "--no-cache", "--no-index", "--index-url", hostile.simple_url,
            "--target", LINUX, "--format", fmt, "pylock.toml",
        )  # fmt: skip
        _no_traceback(result)
        assert result.code == 3, result
        assert "--no-index" in result.out + result.err, fmt
    assert hostile.requests == [] and attacker.requests == []


def test_no_index_reads_only_the_find_links_for_a_lock_file(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: --no-index. `--no-index --find-links DIR`: a lock's packages are checked
    against the folder, and no index is asked."""
    (repo / "wheels").mkdir()
    (repo / "wheels" / WHEEL).write_bytes(b"demo wheel")
    (repo / "pylock.toml").write_text(_lock_file(_pylock(None, f"{hostile.url}/files/{WHEEL}")))
    result = run(
        capsys, "--no-cache", "--no-index", "--find-links", "wheels",
        "--index-url", hostile.simple_url, "--target", LINUX, "pylock.toml",
    )  # fmt: skip
    _no_traceback(result)
    assert result.code == 0, result
    assert hostile.requests == []


def test_explain_honours_pip_s_no_index(
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: --no-index. `PIP_NO_INDEX=1` (pip would ask no index): `explain` asks
    none either, and says the failure is undetermined (exit 3)."""
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    (repo / "pip.log").write_text(_mismatch_log(hostile.url))
    for fmt in LOG_FORMATS:
        result = run(capsys, "explain", "--no-cache", "--format", fmt, "pip.log")
        _no_traceback(result)
        assert result.code == 3, result
    monkeypatch.setenv("PIP_INDEX_URL", hostile.simple_url)
    result = run(capsys, "explain", "--no-cache", "pip.log")
    assert result.code == 3, result
    assert hostile.requests == []


def test_allow_index_holds_for_the_index_a_lock_names(
    repo: Path, hostile: HostileIndex, attacker: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: visible-index-changes. With `--allow-index`, the index a pylock.toml names
    on a host outside the list is not contacted: the package is unverified, exit 3."""
    other_host = attacker.url.replace("127.0.0.1", "localhost")
    (repo / "pylock.toml").write_text(
        _lock_file(_pylock(f"{other_host}/simple", f"{other_host}/files/{WHEEL}"))
    )
    for fmt in FORMATS:
        result = run(
            capsys, "--no-cache", "--allow-index", "127.0.0.1", "--index-url",
            hostile.simple_url, "--target", LINUX, "--format", fmt, "pylock.toml",
        )  # fmt: skip
        _no_traceback(result)
        assert result.code == 3, result
    assert attacker.requests == []


def test_allow_index_holds_for_a_pipfile_lock_source(
    repo: Path, hostile: HostileIndex, attacker: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: visible-index-changes. A Pipfile.lock source outside `--allow-index` is an
    `unlisted-index` error and is not contacted."""
    other_host = attacker.url.replace("127.0.0.1", "localhost")
    (repo / "Pipfile.lock").write_text(_pipfile_lock(f"{other_host}/simple"))
    result = run(capsys, "--no-cache", "--allow-index", "127.0.0.1", "Pipfile.lock")
    _no_traceback(result)
    assert result.code in (1, 3) and "unlisted-index" in result.out, result
    assert attacker.requests == []


# --- 6. hostile lock indexes: bounded, never a local read --------------------------------------


@pytest.mark.parametrize(
    "index", ["file:///etc", "http://127.0.0.1:99999/simple", "ftp://127.0.0.1/simple"]
)
def test_a_lock_index_that_is_not_a_usable_http_url_is_never_read(
    index: str, repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-reads-outside, no-tracebacks. A lock's `index` that is a local path or
    does not parse is not asked: the configured index answers instead, no traceback."""
    (repo / "pylock.toml").write_text(_lock_file(_pylock(index, f"{hostile.url}/files/{WHEEL}")))
    for fmt in FORMATS:
        result = run(
            capsys, "--no-cache", "--index-url", hostile.simple_url, "--target", LINUX,
            "--format", fmt, "pylock.toml",
        )  # fmt: skip
        _no_traceback(result)
        assert result.code == 0, result
        assert "root:" not in result.out


def test_a_lock_index_whose_host_does_not_parse_is_no_internal_error(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-tracebacks. A lock's `index = "http://[::1"` is not asked (the plan
    refuses it) and must not be an internal error."""
    (repo / "pylock.toml").write_text(
        _lock_file(_pylock("http://[::1", f"{hostile.url}/files/{WHEEL}"))
    )
    result = run(
        capsys, "--no-cache", "--index-url", hostile.simple_url, "--target", LINUX,
        "pylock.toml",
    )  # fmt: skip
    _no_traceback(result)
    assert result.code in (0, 1, 3), result


@pytest.mark.parametrize("behaviour", ["bomb", "endless", "deep_json", "injection"])
def test_a_hostile_lock_index_is_bounded_and_one_line(
    behaviour: str, repo: Path, attacker: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: bounded-memory, no-hijack. The index a lock names answers a gzip bomb, an
    endless body, JSON nested without end, or control characters: bounded in time, an index
    failure (exit 3) or a finding, never a raw control character or a traceback."""
    attacker.behaviour = behaviour
    (repo / "pylock.toml").write_text(
        _lock_file(_pylock(attacker.simple_url, f"{attacker.url}/files/{WHEEL}"))
    )
    started = time.monotonic()
    result = run(
        capsys, "--no-cache", "--timeout", "5", "--index-url", "http://127.0.0.1:9/simple",
        "--target", LINUX, "pylock.toml",
    )  # fmt: skip
    assert time.monotonic() - started < 40
    _no_traceback(result)
    assert result.code in (0, 3), result
    assert "\x1b" not in result.out and "\n::error" not in result.out


@pytest.mark.parametrize("behaviour", ["bomb", "deep_json", "injection"])
def test_a_hostile_index_cannot_hurt_explain(
    behaviour: str, repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: bounded-memory, no-hijack. `explain`'s index answers a gzip bomb, JSON
    nested without end, or control characters: no traceback, no raw control character."""
    hostile.behaviour = behaviour
    (repo / "pip.log").write_text(_mismatch_log(hostile.url))
    for fmt in LOG_FORMATS:
        result = run(
            capsys, "explain", "--no-cache", "--timeout", "5", "--index-url",
            hostile.simple_url, "--format", fmt, "pip.log",
        )  # fmt: skip
        _no_traceback(result)
        assert result.code in (0, 1, 3), result
        assert "\x1b" not in result.out and "\n::error" not in result.out


def test_many_dead_indexes_a_lock_names_end_fast(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: bounded (dead hosts). Fifty packages each naming an index on a port that
    refuses connections: the host is given up on once for the run, not fifty times."""
    names = [f"p{n}" for n in range(50)]
    (repo / "pylock.toml").write_text(
        _lock_file(
            *(
                _pylock(f"http://127.0.0.1:9/{n}/simple", f"http://127.0.0.1:9/{n}.whl", name=n)
                for n in names
            )
        )
    )
    started = time.monotonic()
    result = run(
        capsys, "--no-cache", "--index-url", "http://127.0.0.1:9/simple", "--target", LINUX,
        "pylock.toml",
    )  # fmt: skip
    assert time.monotonic() - started < 20
    _no_traceback(result)
    assert result.code == 3


# --- 7. no password in the cache; redirects from untrusted indexes ------------------------------


def test_no_password_reaches_the_cache_on_any_path(
    repo: Path, tmp_path: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-leak (credentials). The cache is keyed by URLs without credentials: the
    command line's index, the tree's, a lock's own and explain's leave no password in it."""
    (repo / "pyproject.toml").write_text(
        f'[tool.reqhash-check]\nextra-index-url = "{_with_password(hostile.url)}/tree/simple"\n'
    )
    (repo / "r.txt").write_text(pinned())
    (repo / "pylock.toml").write_text(
        _lock_file(
            _pylock(_with_password(f"{hostile.url}/lock/simple"), f"{hostile.url}/files/{WHEEL}")
        )
    )
    (repo / "pip.log").write_text(_mismatch_log(hostile.url))
    configured = _with_password(hostile.simple_url)
    for argv in (
        ["--index-url", configured, "r.txt"],
        ["--index-url", configured, "--target", LINUX, "pylock.toml"],
        ["explain", "--index-url", f"{_with_password(hostile.url)}/x/simple", "pip.log"],
    ):
        _clean(run(capsys, *argv))
    stored = b"".join(p.read_bytes() for p in (tmp_path / "cache").iterdir() if p.is_file())
    assert stored and PASSWORD.encode() not in stored and b"alice" not in stored


def test_a_tree_index_s_own_password_goes_only_to_it_and_is_never_printed(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-leak (credentials). The tree's index URL with a password of its own: sent
    to it (its own), shown as `****@` in every format."""
    (repo / "pyproject.toml").write_text(
        f'[tool.reqhash-check]\nindex-url = "{_with_password(hostile.simple_url)}"\n'
    )
    (repo / "r.txt").write_text(pinned())
    for fmt in FORMATS:
        result = run(capsys, "--no-cache", "--format", fmt, "r.txt")
        _clean(result, PASSWORD)
        assert result.code == 0, result
    assert all(_sent(hostile))


@pytest.mark.parametrize("source", ["tree", "lock"])
def test_a_redirect_from_an_untrusted_index_to_the_trusted_one_carries_no_credentials(
    source: str,
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    attacker: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: transport. The tree's index, or a lock's, redirects to the credentialed
    index's origin: those hops go without its password or netrc's (the untrusted index's
    client has none to send)."""
    _netrc(tmp_path, monkeypatch, "127.0.0.1")
    attacker.behaviour = "redirect"
    attacker.redirect_to = f"{hostile.url}/via"
    argv = ["--no-cache", "--index-url", _with_password(hostile.simple_url)]
    if source == "tree":
        (repo / "pyproject.toml").write_text(
            f'[tool.reqhash-check]\nextra-index-url = "{attacker.simple_url}"\n'
        )
        (repo / "r.txt").write_text(pinned())
        argv.append("r.txt")
    else:
        (repo / "pylock.toml").write_text(
            _lock_file(_pylock(attacker.simple_url, f"{hostile.url}/files/{WHEEL}"))
        )
        argv += ["--target", LINUX, "pylock.toml"]
    _clean(run(capsys, *argv))
    via = [h.get("Authorization") for p, h in hostile.requests if p.startswith("/via/")]
    assert via and via == [None] * len(via)


# --- 8. explain's other outputs and inputs ------------------------------------------------------


def test_explain_s_step_summary_holds_no_password(
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: no-leak (credentials). `explain --format github` also writes the Markdown
    step summary: the password an index quoted back is `****` there too."""
    _handler(monkeypatch, "quote_path", _quote_password_in_path)
    hostile.behaviour = "quote_path"
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    (repo / "pip.log").write_text(_mismatch_log())
    result = run(
        capsys, "explain", "--no-cache", "--index-url", _with_password(hostile.simple_url),
        "--format", "github", "pip.log",
    )  # fmt: skip
    _clean(result, PASSWORD)
    assert summary.read_text() and PASSWORD not in summary.read_text()


def test_explain_reads_no_local_file_a_log_names(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-reads-outside. A log whose download is `file:///etc/passwd` and whose
    requirement is `-r /etc/passwd`: nothing of the file is read or shown."""
    text = (
        _mismatch_log("file://")
        .replace("/files/", "/etc/passwd#")
        .replace("-r requirements.txt", "-r /etc/passwd")
    )
    (repo / "pip.log").write_text(text)
    for fmt in LOG_FORMATS:
        result = run(
            capsys, "explain", "--no-cache", "--index-url", hostile.simple_url, "--format", fmt,
            "pip.log",
        )  # fmt: skip
        _no_traceback(result)
        assert "root:" not in result.out + result.err


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="POSIX devices")
def test_explain_requirements_that_is_a_device_is_one_line(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: bounded (files). `explain --requirements /dev/zero` is one line, exit 2, at
    once (no read without end)."""
    (repo / "pip.log").write_text(_mismatch_log())
    started = time.monotonic()
    result = run(capsys, "explain", "--offline", "--requirements", "/dev/zero", "pip.log")
    assert time.monotonic() - started < 10
    _no_traceback(result)
    assert result.code == 2 and len(result.err.strip().splitlines()) == 1, result


# --- 9. --fix stays confined on the lock paths --------------------------------------------------


@pytest.mark.parametrize("name", ["pylock.toml", "Pipfile.lock"])
def test_fix_of_a_lock_linked_out_of_the_repository_writes_nothing_outside(
    name: str,
    repo: Path,
    tmp_path: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Promise: no-writes-outside. A lock file that is a symlink to a file outside the
    repository (stale hashes, a live index): `--fix` leaves the outside file as it was."""
    outside = tmp_path / "outside" / name
    outside.parent.mkdir()
    if name == "pylock.toml":
        outside.write_text(_lock_file(_pylock(None, f"{hostile.url}/files/{WHEEL}", digest=STALE)))
    else:
        outside.write_text(_pipfile_lock(hostile.simple_url, digest=STALE))
    before = outside.read_bytes()
    (repo / name).symlink_to(outside)
    result = run(
        capsys, "--no-cache", "--index-url", hostile.simple_url, "--target", LINUX,
        "--allow-outside-includes", "--fix", name,
    )  # fmt: skip
    _no_traceback(result)
    assert outside.read_bytes() == before
    assert (repo / name).is_symlink()


# --- 10. no expansion where the tree or a lock names an index ----------------------------------


@pytest.mark.parametrize("source", ["tree", "lock"])
def test_an_index_the_tree_or_a_lock_names_never_expands_a_variable(
    source: str,
    repo: Path,
    hostile: HostileIndex,
    attacker: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: no-leak (requests). `${VAR}` in the tree's `index-url` or a lock's `index`
    is not expanded: the value reaches neither the host nor any output."""
    monkeypatch.setenv("DEPLOY_TOKEN", SECRET)
    named = f"{attacker.url}/${{DEPLOY_TOKEN}}/simple"
    if source == "tree":
        (repo / "pyproject.toml").write_text(f'[tool.reqhash-check]\nindex-url = "{named}"\n')
        (repo / "r.txt").write_text(pinned())
        argv = ["r.txt"]
    else:
        (repo / "pylock.toml").write_text(
            _lock_file(_pylock(named, f"{hostile.url}/files/{WHEEL}"))
        )
        argv = ["--index-url", hostile.simple_url, "--target", LINUX, "pylock.toml"]
    for fmt in FORMATS:
        _clean(run(capsys, "--no-cache", "--format", fmt, *argv))
    assert all(SECRET not in path for path, _ in attacker.requests)


@pytest.mark.parametrize("source", ["tree", "pylock", "pipfile"])
def test_an_untrusted_index_s_own_password_put_in_a_redirect_is_never_printed(
    source: str,
    repo: Path,
    hostile: HostileIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Promise: no-leak (credentials). The tree's index, a pylock.toml's `index` or a
    Pipfile.lock source holds a password of its own; the index redirects to a URL holding
    it, then fails: the client that sent it shows it as `****` in every format (the run's
    backstop knows only the trusted indexes' passwords; it was printed before)."""
    _handler(monkeypatch, "quote_path", _quote_password_in_path)
    hostile.behaviour = "quote_path"
    own = _with_password(hostile.simple_url)
    argv = ["--no-cache", "--index-url", "http://127.0.0.1:9/simple", "--target", LINUX]
    if source == "tree":
        (repo / "pyproject.toml").write_text(f'[tool.reqhash-check]\nindex-url = "{own}"\n')
        (repo / "r.txt").write_text(pinned())
        argv = ["--no-cache", "r.txt"]
    elif source == "pylock":
        (repo / "pylock.toml").write_text(_lock_file(_pylock(own, f"{hostile.url}/files/{WHEEL}")))
        argv.append("pylock.toml")
    else:
        (repo / "Pipfile.lock").write_text(_pipfile_lock(own))
        argv = ["--no-cache", "Pipfile.lock"]
    for fmt in FORMATS:
        result = run(capsys, *argv, "--format", fmt)
        _clean(result, PASSWORD)
        assert result.code == 3, result
    assert any(p.startswith("/leak/") for p, _ in hostile.requests)
