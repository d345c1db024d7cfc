"""Retries, timeouts, credentials and redaction, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
import base64
import gzip
import socket
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from reqhash_check import __version__
from reqhash_check.index.base import IndexUnavailable, ReleaseFiles
from reqhash_check.index.http import KEPT_DECODED, HttpAnswer, HttpClient, retry_after_seconds
from reqhash_check.index.pypi import PyPIJsonIndex
from reqhash_check.index.simple import SimpleIndex
from reqhash_check.urls import redact_url
from tests.fakeindex import FakeFile, FakeIndex
from tests.fixtures_index import fake_index, fast_http

__all__ = ["fake_index"]


def _demo(index: FakeIndex) -> None:
    index.add(
        "demo",
        "1.0",
        FakeFile("demo-1.0-py3-none-any.whl", content=b"wheel"),
        requires_dist=["idna"],
    )


async def _simple_release(url: str, http: HttpClient) -> ReleaseFiles:
    client = SimpleIndex(url, http, owns_http=True)
    try:
        return await client.release("demo", "1.0")
    finally:
        await client.aclose()


def test_user_agent_names_the_tool(fake_index: FakeIndex) -> None:
    _demo(fake_index)
    asyncio.run(_simple_release(fake_index.simple_url, fast_http()))
    agent = fake_index.requests[0][2]["user-agent"]
    assert agent == f"reqhash-check/{__version__} (+https://pypi.org/project/reqhash-check/)"


def test_retries_on_5xx_then_succeeds(fake_index: FakeIndex) -> None:
    _demo(fake_index)
    fake_index.fail("/simple/demo/", 503, times=2)
    release = asyncio.run(_simple_release(fake_index.simple_url, fast_http(retries=2)))
    assert release.files[0].filename == "demo-1.0-py3-none-any.whl"
    assert fake_index.paths().count("/simple/demo/") == 3


def test_retries_are_bounded(fake_index: FakeIndex) -> None:
    _demo(fake_index)
    fake_index.fail("/simple/demo/", 500)
    with pytest.raises(IndexUnavailable) as caught:
        asyncio.run(_simple_release(fake_index.simple_url, fast_http(retries=3)))
    assert str(caught.value) == f"{fake_index.simple_url}/demo/: HTTP 500 after 4 attempts"
    assert fake_index.paths().count("/simple/demo/") == 4


def test_backoff_grows(fake_index: FakeIndex) -> None:
    _demo(fake_index)
    fake_index.fail("/simple/demo/", 502, times=2)
    started = time.monotonic()
    asyncio.run(_simple_release(fake_index.simple_url, fast_http(retries=2, backoff=0.1)))
    # 0.1 s, then 0.2 s
    assert time.monotonic() - started >= 0.28


def test_429_waits_as_long_as_retry_after_says(fake_index: FakeIndex) -> None:
    _demo(fake_index)
    fake_index.fail("/simple/demo/", 429, times=1, retry_after="1")
    started = time.monotonic()
    release = asyncio.run(_simple_release(fake_index.simple_url, fast_http(retries=1)))
    assert time.monotonic() - started >= 0.95
    assert release.files


def test_retry_after_is_capped(fake_index: FakeIndex) -> None:
    _demo(fake_index)
    fake_index.fail("/simple/demo/", 429, times=1, retry_after="3600")
    started = time.monotonic()
    asyncio.run(_simple_release(fake_index.simple_url, fast_http(retries=1, max_wait=0.2)))
    elapsed = time.monotonic() - started
    assert 0.19 <= elapsed < 5


def test_retry_after_as_http_date() -> None:
    now = 1_700_000_000.0
    assert retry_after_seconds(formatdate(now + 7, usegmt=True), now=now) == pytest.approx(7)
    assert retry_after_seconds(formatdate(now - 60, usegmt=True), now=now) == 0
    assert retry_after_seconds("12") == 12
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None


def test_client_errors_are_not_retried(fake_index: FakeIndex) -> None:
    _demo(fake_index)
    fake_index.fail("/simple/demo/", 403)
    with pytest.raises(IndexUnavailable, match=r"HTTP 403$"):
        asyncio.run(_simple_release(fake_index.simple_url, fast_http(retries=3)))
    assert fake_index.paths().count("/simple/demo/") == 1


def test_timeout_becomes_index_unavailable(fake_index: FakeIndex) -> None:
    _demo(fake_index)
    fake_index.delay("/simple/demo/", 1.5)
    with pytest.raises(IndexUnavailable) as caught:
        asyncio.run(_simple_release(fake_index.simple_url, fast_http(timeout=0.2, retries=1)))
    assert str(caught.value) == f"{fake_index.simple_url}/demo/: timed out after 2 attempts"


def test_refused_connection_becomes_index_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/simple"
    with pytest.raises(IndexUnavailable) as caught:
        asyncio.run(_simple_release(url, fast_http(retries=1)))
    assert str(caught.value) == f"{url}/demo/: could not connect after 2 attempts"


def test_credentials_in_the_url_are_sent_and_never_shown(fake_index: FakeIndex) -> None:
    _demo(fake_index)
    secret_url = fake_index.simple_url.replace("http://", "http://alice:s3cr%40t@")
    release = asyncio.run(_simple_release(secret_url, fast_http()))
    expected = "Basic " + base64.b64encode(b"alice:s3cr@t").decode()
    assert {h.get("authorization") for _, _, h in fake_index.requests} == {expected}
    assert any(p.endswith(".metadata") for p in fake_index.paths())
    assert "s3cr" not in release.index_url and "alice" not in release.index_url
    assert all("s3cr" not in f.url for f in release.files)

    fake_index.fail("/simple/demo/", 503)
    with pytest.raises(IndexUnavailable) as caught:
        asyncio.run(_simple_release(secret_url, fast_http(retries=1)))
    message = str(caught.value)
    assert message.startswith("http://****@127.0.0.1:")
    assert "s3cr" not in message and "alice" not in message
    assert "\n" not in message


def test_credentials_reach_the_json_api(fake_index: FakeIndex) -> None:
    _demo(fake_index)

    async def go() -> str:
        url = fake_index.url.replace("http://", "http://bob:pw@")
        client = PyPIJsonIndex(url, fast_http(), owns_http=True)
        try:
            await client.release("demo", "1.0")
            return client.display_url
        finally:
            await client.aclose()

    display = asyncio.run(go())
    assert display == fake_index.url.replace("http://", "http://****@")
    expected = "Basic " + base64.b64encode(b"bob:pw").decode()
    assert all(h.get("authorization") == expected for _, _, h in fake_index.requests)


def test_netrc_credentials(
    fake_index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _demo(fake_index)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1\n  login carol\n  password from-netrc\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    asyncio.run(_simple_release(fake_index.simple_url, fast_http()))
    expected = "Basic " + base64.b64encode(b"carol:from-netrc").decode()
    assert fake_index.requests[0][2].get("authorization") == expected


def test_no_credentials_no_authorization_header(
    fake_index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _demo(fake_index)
    monkeypatch.setenv("NETRC", str(tmp_path / "absent"))
    asyncio.run(_simple_release(fake_index.simple_url, fast_http()))
    assert all("authorization" not in h for _, _, h in fake_index.requests)


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("https://user:pass@host/simple", "https://****@host/simple"),
        ("https://token@host:8443/simple/", "https://****@host:8443/simple/"),
        ("https://host/simple", "https://host/simple"),
        ("https://host/a@b", "https://host/a@b"),
        # The userinfo is what urllib.parse reads, replaced whole, whatever it holds.
        ("https://user:pa ss@host/simple", "https://****@host/simple"),
        ("https://user:p@ss@host/simple", "https://****@host/simple"),
        ("https://user:pa%20ss@host:8443/simple", "https://****@host:8443/simple"),
        ("https://user:p#ss@host/simple", "https://****@host/simple"),  # a port "p": unparsed
        ("https://${USER}:${TOKEN}@host/simple", "https://****@host/simple"),
        ("/a/folder", "/a/folder"),
    ],
)
def test_redact_url(url: str, redacted: str) -> None:
    assert redact_url(url) == redacted


def test_bounded_concurrency(fake_index: FakeIndex) -> None:
    for n in range(6):
        fake_index.add(f"p{n}", "1.0", FakeFile(f"p{n}-1.0.tar.gz", content=b"x"))
    fake_index.delay("/simple/", 0.3)

    async def go() -> None:
        client = SimpleIndex(fake_index.simple_url, fast_http(concurrency=2), owns_http=True)
        try:
            await asyncio.gather(*(client.release(f"p{n}", "1.0") for n in range(6)))
        finally:
            await client.aclose()

    started = time.monotonic()
    asyncio.run(go())
    # 6 requests, 2 at a time, 0.3 s each
    assert time.monotonic() - started >= 0.85


class _Gzipped(BaseHTTPRequestHandler):
    """Serves `/<n>` as n bytes of JSON-like text, gzipped; `/damaged` cuts the stream."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        name = self.path.strip("/")
        body = gzip.compress(_text(int(name)) if name.isdigit() else _text(300_000))
        if name == "damaged":
            body = body[: len(body) // 2] + b"\x00" * 64
        if name == "empty":  # a 404 some servers send "gzipped" with no body at all
            body = b""
        self.send_response(404 if name == "empty" else 200)
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _text(size: int) -> bytes:
    line = b'{"filename": "demo-1.0-py3-none-any.whl", "hashes": {"sha256": "%064d"}},\n'
    return b"".join(line % n for n in range(size // len(line) + 1))[:size]


@pytest.mark.parametrize("size", [10, KEPT_DECODED, KEPT_DECODED + 1, 3_000_000])
def test_a_large_compressed_answer_waits_compressed_and_reads_the_same(size: int) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Gzipped)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    async def get(path: str) -> HttpAnswer:
        client = fast_http()
        try:
            return await client.get(f"http://127.0.0.1:{server.server_address[1]}/{path}")
        finally:
            await client.aclose()

    try:
        answer = asyncio.run(get(str(size)))
        assert answer.content == _text(size)
        if size > KEPT_DECODED:  # kept as it came, a fraction of its size
            assert answer.encoding == "gzip" and len(answer.raw) < size // 4
        else:
            assert answer.encoding == "" and answer.raw == _text(size)
        with pytest.raises(IndexUnavailable, match="damaged"):
            asyncio.run(get("damaged"))
        empty = asyncio.run(get("empty"))
        assert empty.status == 404 and empty.content == b""
    finally:
        server.shutdown()
        server.server_close()


class _Counting(BaseHTTPRequestHandler):
    """`/page/<n>` answers 200 (setting a cookie), `/hop/<n>` redirects to `/page/<n>` on
    `localhost` (another origin); every request is recorded with its Host, Authorization
    and Cookie headers, and no answer leaves before `fill` requests were in flight at once
    (or 2 s went by), so the most in flight is what the client allows."""

    protocol_version = "HTTP/1.1"
    lock = threading.Lock()
    in_flight = 0
    most = 0
    fill = 0
    filled = threading.Event()
    seen: list[tuple[str, str, str, str]] = []

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        cls = type(self)
        with cls.lock:
            cls.in_flight += 1
            cls.most = max(cls.most, cls.in_flight)
            cls.seen.append(
                (
                    self.headers.get("Host", ""),
                    self.path,
                    self.headers.get("Authorization", ""),
                    self.headers.get("Cookie", ""),
                )
            )
            if cls.in_flight >= cls.fill:
                cls.filled.set()
        cls.filled.wait(2)
        try:
            if self.path.startswith("/hop/"):
                port = self.server.server_address[1]
                self.send_response(302)
                self.send_header("Location", f"http://localhost:{port}/page/{self.path[5:]}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = self.path.encode()
            self.send_response(200)
            self.send_header("Set-Cookie", "visited=yes; Path=/")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        finally:
            with cls.lock:
                cls.in_flight -= 1


class _Backlogged(ThreadingHTTPServer):
    request_queue_size = 128  # many connections at once, none waiting for a SYN retry


@pytest.mark.parametrize("concurrency", [3, 10, 24])
def test_many_requests_keep_the_limit_the_credentials_and_the_cookies(concurrency: int) -> None:
    """Plain-http requests beyond a few in flight are spread over several connection pools:
    the run still has exactly --concurrency requests in flight at most (and reaches it: no
    pool holds one back), each request and each redirect hop carries only its own origin's
    credentials, and a cookie the index set comes back whichever pool sends the request,
    as from one client."""
    handler = type("Handler", (_Counting,), {"seen": [], "filled": threading.Event()})
    handler.fill = concurrency
    handler.filled.set()  # the first request alone
    server = _Backlogged(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    origin = f"http://127.0.0.1:{server.server_address[1]}"

    async def go() -> tuple[bytes, list[bytes]]:
        client = fast_http(concurrency=concurrency)
        client.register(origin.replace("http://", "http://dora:pool-secret@") + "/")
        try:
            first = await client.get(f"{origin}/page/first")  # sets the cookie
            handler.filled.clear()
            rest = await asyncio.gather(
                *(client.get(f"{origin}/{kind}/{n}") for n in range(30) for kind in ("page", "hop"))
            )
            return first.content, [a.content for a in rest]
        finally:
            await client.aclose()

    try:
        first, rest = asyncio.run(go())
    finally:
        server.shutdown()
        server.server_close()
    assert handler.most == concurrency
    assert first == b"/page/first"
    assert rest == [f"/page/{n}".encode() for n in range(30) for _ in range(2)]
    expected = "Basic " + base64.b64encode(b"dora:pool-secret").decode()
    seen = handler.seen
    assert len(seen) == 91
    to_index = [s for s in seen if s[0].startswith("127.0.0.1:")]
    to_other = [s for s in seen if s[0].startswith("localhost:")]
    assert len(to_index) == 61 and len(to_other) == 30
    assert {s[2] for s in to_index} == {expected}
    assert {s[2] for s in to_other} == {""}
    assert all(s[3] == "visited=yes" for s in to_index[1:])
