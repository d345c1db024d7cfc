"""Property tests: random files, random index answers and random cache rows fed to the
command line. Whatever comes in, the run ends with an exit code in {0, 1, 2, 3}, no
traceback, no secret from the environment in any output, and bounded memory."""

from __future__ import annotations

import json
import resource
import sqlite3
import string
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reqhash_check.cli import main

SECRET = "zq-secret-7d1e4b90a2"
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_TOKENS = [
    "six==1.16.0",
    "demo==1.0",
    "requests[socks]>=2",
    "--hash=sha256:" + "a" * 64,
    "--hash=sha512:" + "b" * 128,
    "--hash=md5:00",
    "--hash=sha256:${TOKEN}",
    "${TOKEN}",
    "-r other.txt",
    "-c other.txt",
    "-r .git/config",
    "-e .",
    "--index-url ${TOKEN}",
    "--extra-index-url http://127.0.0.1:9/simple",
    "--only-binary :all:",
    "--no-binary demo",
    "; python_version < '3.8'",
    "@ https://example.invalid/x.whl",
    "\\",
    "#",
    " ",
    "\t",
    "\r",
    "\x00",
    "\u2028",
    "::error::x",
]


@st.composite
def requirement_files(draw: st.DrawFn) -> bytes:
    lines = draw(
        st.lists(
            st.lists(
                st.one_of(st.sampled_from(_TOKENS), st.text(string.printable, max_size=12)),
                max_size=5,
            ).map(" ".join),
            max_size=12,
        )
    )
    text = "\n".join(lines)
    raw = draw(st.binary(max_size=16))
    return text.encode("utf-8", "surrogatepass") + (raw if draw(st.booleans()) else b"")


@pytest.fixture(autouse=True)
def _environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN", SECRET)
    monkeypatch.setenv("REQHASH_CHECK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("REQHASH_CHECK_DEBUG", raising=False)
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True, exist_ok=True)
    (repo / ".git" / "config").write_text(f"token = {SECRET}\n")
    monkeypatch.chdir(repo)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out + err


def _holds(code: int, text: str) -> None:
    assert code in (0, 1, 2, 3), text
    assert "Traceback" not in text
    assert "internal error" not in text, text
    assert SECRET not in text
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert peak_mib < 1536


@SETTINGS
@given(
    content=requirement_files(),
    other=requirement_files(),
    fmt=st.sampled_from(["text", "json", "github", "markdown", "sarif"]),
)
def test_random_requirement_files(
    content: bytes, other: bytes, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    Path("requirements.txt").write_bytes(content)
    Path("other.txt").write_bytes(other)
    code, text = _run(
        capsys,
        "--select",
        "missing-hash,unpinned,unhashable,invalid-hash,duplicate,parse-error,include-error,"
        "insecure-index",
        "--format",
        fmt,
        "requirements.txt",
    )
    _holds(code, text)


# --- random index answers --------------------------------------------------------------

_json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=20),
        st.sampled_from([SECRET, "demo-1.0-py3-none-any.whl", "a" * 64, "../../etc/passwd"]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.sampled_from(
                [
                    "files",
                    "filename",
                    "url",
                    "hashes",
                    "sha256",
                    "yanked",
                    "name",
                    "meta",
                    "requires-python",
                    "core-metadata",
                    "info",
                    "urls",
                    "releases",
                    "version",
                ]
            ),
            children,
            max_size=5,
        ),
    ),
    max_leaves=20,
)


class _Answers:
    body = b""
    content_type = "application/vnd.pypi.simple.v1+json"
    status = 200


class _Handler(BaseHTTPRequestHandler):
    answers = _Answers

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        self.send_response(self.answers.status)
        self.send_header("Content-Type", self.answers.content_type)
        self.send_header("Content-Length", str(len(self.answers.body)))
        self.end_headers()
        self.wfile.write(self.answers.body)


@pytest.fixture(scope="module")
def answering() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    finally:
        server.shutdown()
        server.server_close()


@SETTINGS
@given(
    document=_json_values,
    as_json=st.booleans(),
    status=st.sampled_from([200, 200, 200, 404, 418, 500, 304]),
    content_type=st.sampled_from(
        ["application/vnd.pypi.simple.v1+json", "text/html", "application/json", ""]
    ),
)
def test_random_index_answers(
    document: object,
    as_json: bool,
    status: int,
    content_type: str,
    answering: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _Answers.body = (
        json.dumps(document).encode() if as_json else str(document).encode("utf-8", "replace")
    )
    _Answers.status = status
    _Answers.content_type = content_type
    Path("requirements.txt").write_text(f"demo==1.0 --hash=sha256:{'a' * 64}\n")
    code, text = _run(
        capsys, "--index-url", answering, "--no-cache", "--timeout", "5", "requirements.txt"
    )
    _holds(code, text)


# --- random cache rows -------------------------------------------------------------------


@SETTINGS
@given(
    payload=st.one_of(_json_values.map(json.dumps), st.text(max_size=40)),
    etag=st.one_of(st.none(), st.text(max_size=10)),
    document=st.one_of(st.none(), st.sampled_from(["page", "version", "project", "elsewhere"])),
    # Not NaN: SQLite stores it as NULL, which the NOT NULL column refuses, so no row has it.
    fetched_at=st.one_of(st.floats(allow_nan=False, allow_infinity=True), st.text(max_size=5)),
)
def test_random_cache_rows(
    payload: str,
    etag: str | None,
    document: str | None,
    fetched_at: object,
    answering: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _Answers.body = json.dumps(
        {
            "name": "demo",
            "files": [
                {
                    "filename": "demo-1.0-py3-none-any.whl",
                    "url": "x",
                    "hashes": {"sha256": "a" * 64},
                }
            ],
        }
    ).encode()
    _Answers.status = 200
    _Answers.content_type = "application/vnd.pypi.simple.v1+json"
    Path("requirements.txt").write_text(f"demo==1.0 --hash=sha256:{'a' * 64}\n")
    cache = tmp_path / "cache" / "index-cache.sqlite3"
    _run(capsys, "--index-url", answering, "requirements.txt")  # creates the cache
    with sqlite3.connect(cache) as conn:
        conn.execute(
            "UPDATE answers SET payload = ?, etag = ?, document = ?, fetched_at = ?",
            (payload, etag, document, fetched_at),
        )
    for extra in ([], ["--offline"]):
        code, text = _run(capsys, "--index-url", answering, *extra, "requirements.txt")
        _holds(code, text)
