"""Serve recorded package-index answers on the loopback interface, with a set latency.

    python benchmarks/replay.py [--store DIR ...] [--latency 50ms] [--port 0]
    python benchmarks/replay.py --record [--store DIR]   # a recording proxy to pypi.org

The loopback URL space mirrors PyPI's two hosts:

- ``/simple/…`` and ``/pypi/…`` are pypi.org's Simple API (PEP 691 JSON or PEP 503
  HTML, chosen by the ``Accept`` header as PyPI does) and its JSON API;
- ``/files/…`` is files.pythonhosted.org (distributions and their ``.metadata``).

Recorded pages name files.pythonhosted.org; they are served with those links
pointing back at the loopback server. Each answer is held back by the latency
before it is sent (one round trip per request, keep-alive connections reuse
the socket as they would with PyPI), compressed with gzip when the client
accepts it, and carries the caching headers PyPI sends: an ETag (with
``If-None-Match`` answered by 304), ``Cache-Control: max-age=600`` on Simple
pages and 900 on the JSON API, immutable on files. Files answer ``Range``
requests. A request for something not recorded is answered 404 and counted as
a miss, so a run that needed more than was recorded shows up.

With ``--record`` the server is a proxy: what it has not recorded it fetches
from the real index once, stores and serves. ``record.py`` drives it.

A store is a folder with ``index.jsonl`` (one answer a line: key, status,
content type, blob) and ``blobs/`` (bodies named by their SHA-256); later lines
win. Several stores can be served at once; the first that has a key answers.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_STORE = Path(
    os.environ.get("REQHASH_BENCH_STORE")
    or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "reqhash-bench" / "store"
)

UPSTREAM = {"pypi": "https://pypi.org", "files": "https://files.pythonhosted.org"}
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
_FILES_LINK = b"https://files.pythonhosted.org/"
_COMPRESSIBLE = ("application/json", SIMPLE_JSON, "application/vnd.pypi.simple.v1+html", "text/")


def parse_latency(text: str) -> float:
    """`50ms`, `0.05s`, `0.05` → seconds."""
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(ms|s)?\s*", text)
    if not match:
        raise argparse.ArgumentTypeError(f"not a latency: {text!r} (say e.g. 50ms)")
    value = float(match.group(1))
    return value / 1000 if match.group(2) == "ms" else value


def route(path: str, accept: str) -> str:
    """The store key for a loopback request path."""
    path = path.split("#", 1)[0]
    if path.startswith("/files/"):
        return "files " + path[len("/files") :]
    if path.startswith("/simple"):
        variant = "json" if SIMPLE_JSON in accept else "html"
        return f"pypi {path} [{variant}]"
    return "pypi " + path


def upstream_request(key: str) -> tuple[str, dict[str, str]]:
    """The real URL and headers that answer a key."""
    origin, _, rest = key.partition(" ")
    path, _, variant = rest.partition(" [")
    headers = {"Accept-Encoding": "gzip"}
    if variant.startswith("json"):
        headers["Accept"] = f"{SIMPLE_JSON}"
    elif variant.startswith("html"):
        headers["Accept"] = "text/html"
    return UPSTREAM[origin] + path, headers


@dataclass
class Entry:
    status: int
    content_type: str
    blob: str | None
    size: int
    location: str | None = None


class Store:
    """Recorded answers on disk: ``index.jsonl`` and content-addressed ``blobs/``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.entries: dict[str, Entry] = {}
        self._lock = threading.Lock()
        index = root / "index.jsonl"
        if index.exists():
            for line in index.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    data = json.loads(line)
                    key = data.pop("key")
                    self.entries[key] = Entry(**data)

    def blob_path(self, digest: str) -> Path:
        return self.root / "blobs" / digest[:2] / digest

    def put(self, key: str, entry: Entry, body_file: Path | None = None) -> None:
        """Store an answer; ``body_file`` is moved into the blobs."""
        with self._lock:
            if body_file is not None and entry.blob is not None:
                target = self.blob_path(entry.blob)
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.exists():
                    body_file.unlink()
                else:
                    shutil.move(str(body_file), target)
            self.root.mkdir(parents=True, exist_ok=True)
            line = json.dumps({"key": key, **entry.__dict__}, sort_keys=True)
            with (self.root / "index.jsonl").open("a", encoding="utf-8") as out:
                out.write(line + "\n")
            self.entries[key] = entry

    def put_bytes(self, key: str, status: int, content_type: str, body: bytes) -> None:
        digest = hashlib.sha256(body).hexdigest()
        self.root.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=self.root, prefix=".body-")
        with os.fdopen(handle, "wb") as out:
            out.write(body)
        self.put(key, Entry(status, content_type, digest, len(body)), Path(name))


@dataclass
class Stats:
    requests: int = 0
    misses: int = 0
    bytes_sent: int = 0
    missed: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": self.requests,
                "misses": self.misses,
                "bytes_sent": self.bytes_sent,
                "missed": list(self.missed),
            }


@dataclass
class Prepared:
    """A body ready to send: rewritten links, its gzip form and its ETag."""

    body: bytes
    gzipped: bytes | None
    etag: str


class ReplayServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(
        self,
        address: tuple[str, int],
        stores: list[Store],
        *,
        latency: float = 0.0,
        record: bool = False,
        caching_headers: bool = True,
    ) -> None:
        super().__init__(address, ReplayHandler)
        self.stores = stores
        self.latency = latency
        self.record = record
        self.caching_headers = caching_headers
        self.stats = Stats()
        self.base_url = f"http://{self.server_address[0]}:{self.server_address[1]}"
        self._prepared: dict[tuple[str, str], Prepared] = {}
        self._prepared_lock = threading.Lock()
        self._fetch_locks: dict[str, threading.Lock] = {}
        self._upstream: Any = None
        self._upstream_slots = threading.Semaphore(8)

    # -- lookup ---------------------------------------------------------------

    def lookup(self, key: str) -> tuple[Store, Entry] | None:
        for store in self.stores:
            entry = store.entries.get(key)
            if entry is not None:
                return store, entry
        return None

    def fetch_upstream(self, key: str) -> tuple[Store, Entry] | None:
        """Record mode: ask the real index once for a key and store the answer."""
        with self._prepared_lock:
            lock = self._fetch_locks.setdefault(key, threading.Lock())
        with lock:
            found = self.lookup(key)
            if found is not None:
                return found
            if self._upstream is None:
                import httpx  # only the recorder needs it

                with self._prepared_lock:
                    if self._upstream is None:
                        self._upstream = httpx.Client(
                            timeout=120, follow_redirects=False, http2=False
                        )
            url, headers = upstream_request(key)
            for attempt in range(4):
                try:
                    with self._upstream_slots:
                        fetched = self._download(url, headers)
                    break
                except Exception as exc:  # httpx's transport errors, or a 5xx/429 answer
                    problem = exc
                time.sleep(0.5 * 2**attempt)
            else:
                print(f"could not record {url}: {problem}", file=sys.stderr, flush=True)
                return None
            status, content_type, location, name, digest, size = fetched
            store = self.stores[0]
            entry = Entry(status, content_type, digest, size, location)
            store.put(key, entry, Path(name))
            print(f"recorded {status} {url} ({size} bytes)", file=sys.stderr, flush=True)
            return store, entry

    def _download(
        self, url: str, headers: dict[str, str]
    ) -> tuple[int, str, str | None, str, str, int]:
        """GET a URL into a temporary file in the first store: status, type, location, file."""
        root = self.stores[0].root
        root.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=root, prefix=".body-")
        digest = hashlib.sha256()
        size = 0
        try:
            with self._upstream.stream("GET", url, headers=headers) as response:
                status = response.status_code
                if status >= 500 or status == 429:
                    raise OSError(f"HTTP {status}")
                with os.fdopen(handle, "wb") as out:
                    handle = -1
                    for chunk in response.iter_bytes():
                        digest.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
                content_type = response.headers.get("content-type", "")
                location = response.headers.get("location")
        except BaseException:
            if handle != -1:
                os.close(handle)
            os.unlink(name)
            raise
        return status, content_type, location, name, digest.hexdigest(), size

    def prepared(self, key: str, store: Store, entry: Entry) -> Prepared:
        """Read a page-sized body once: links to the loopback server, gzip, ETag."""
        with self._prepared_lock:
            done = self._prepared.get((key, self.base_url))
        if done is not None:
            return done
        body = store.blob_path(entry.blob).read_bytes() if entry.blob else b""
        if key.startswith("pypi "):
            body = body.replace(_FILES_LINK, f"{self.base_url}/files/".encode())
        gzipped = None
        if entry.content_type.startswith(_COMPRESSIBLE) and len(body) > 256:
            gzipped = gzip.compress(body, compresslevel=6, mtime=0)
        etag = '"' + hashlib.md5(body, usedforsecurity=False).hexdigest() + '"'
        done = Prepared(body, gzipped, etag)
        with self._prepared_lock:
            self._prepared[(key, self.base_url)] = done
        return done


class ReplayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ReplayServer
    server_version = "reqhash-bench-replay"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    def _answer(self, *, head: bool) -> None:
        server = self.server
        started = time.perf_counter()
        path = urlsplit(self.path).path
        key = route(path, self.headers.get("Accept", ""))
        found = server.lookup(key) if key else None
        if found is None and key and server.record:
            found = server.fetch_upstream(key)
        with server.stats.lock:
            server.stats.requests += 1
            if found is None:
                server.stats.misses += 1
                if len(server.stats.missed) < 200:
                    server.stats.missed.append(f"{self.command} {self.path}")
        if found is None:
            self._send(404, {"Content-Type": "text/plain"}, b"not recorded\n", head, started)
            return
        store, entry = found
        headers: dict[str, str] = {}
        if entry.location:
            location = entry.location
            for origin, prefix in (("files", "/files"), ("pypi", "")):
                if location.startswith(UPSTREAM[origin]):
                    location = server.base_url + prefix + location[len(UPSTREAM[origin]) :]
            headers["Location"] = location
        if entry.status != 200:
            body = b""
            if entry.status == 404:
                headers["Content-Type"] = "text/plain"
                body = b"404 Not Found\n"
            self._send(entry.status, headers, body, head, started)
            return
        headers["Content-Type"] = entry.content_type or "application/octet-stream"
        is_file = key is not None and key.startswith("files ")
        if is_file and not (key or "").endswith(".metadata"):
            self._send_file(store, entry, headers, head, started)
            return
        ready = server.prepared(key or "", store, entry)
        if server.caching_headers:
            headers["ETag"] = ready.etag
            headers["Cache-Control"] = _cache_control(key or "")
            if self.headers.get("If-None-Match") == ready.etag:
                self._send(304, headers, b"", head, started)
                return
        if is_file:
            headers["Accept-Ranges"] = "bytes"
            byte_range = _byte_range(self.headers.get("Range"), len(ready.body))
            if byte_range is not None:
                first, last = byte_range
                headers["Content-Range"] = f"bytes {first}-{last}/{len(ready.body)}"
                self._send(206, headers, ready.body[first : last + 1], head, started)
                return
        else:
            headers["Vary"] = "Accept, Accept-Encoding"
        body = ready.body
        if ready.gzipped is not None and "gzip" in self.headers.get("Accept-Encoding", ""):
            headers["Content-Encoding"] = "gzip"
            body = ready.gzipped
        self._send(200, headers, body, head, started)

    def _hold(self, started: float) -> None:
        wait = self.server.latency - (time.perf_counter() - started)
        if wait > 0:
            time.sleep(wait)

    def _send(
        self, status: int, headers: dict[str, str], body: bytes, head: bool, started: float
    ) -> None:
        self._hold(started)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and body:
            self.wfile.write(body)
            with self.server.stats.lock:
                self.server.stats.bytes_sent += len(body)

    def _send_file(
        self, store: Store, entry: Entry, headers: dict[str, str], head: bool, started: float
    ) -> None:
        """A distribution, streamed from disk (Range honoured); pages stay in memory."""
        assert entry.blob is not None
        path = store.blob_path(entry.blob)
        size = entry.size
        headers["Accept-Ranges"] = "bytes"
        if self.server.caching_headers:
            headers["ETag"] = f'"{entry.blob[:32]}"'
            headers["Cache-Control"] = _cache_control("files ")
        status, first, last = 200, 0, size - 1
        byte_range = _byte_range(self.headers.get("Range"), size)
        if byte_range is not None:
            status, (first, last) = 206, byte_range
            headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        self._hold(started)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(last - first + 1))
        self.end_headers()
        if head:
            return
        with path.open("rb") as source:
            source.seek(first)
            left = last - first + 1
            while left > 0:
                chunk = source.read(min(left, 1 << 20))
                if not chunk:
                    break
                self.wfile.write(chunk)
                left -= len(chunk)
        with self.server.stats.lock:
            self.server.stats.bytes_sent += last - first + 1


def _cache_control(key: str) -> str:
    if key.startswith("files "):
        return "max-age=365000000, immutable, public"
    if key.startswith("pypi /simple"):
        return "max-age=600, public"
    return "max-age=900, public"


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """One `bytes=a-b`, `bytes=a-` or `bytes=-n` range, clipped to the body."""
    if not header or not header.startswith("bytes=") or "," in header or size == 0:
        return None
    start, _, end = header[len("bytes=") :].strip().partition("-")
    try:
        if not start:
            first, last = max(0, size - int(end)), size - 1
        else:
            first = int(start)
            last = min(int(end), size - 1) if end else size - 1
    except ValueError:
        return None
    if first > last or first >= size:
        return None
    return first, last


def start(
    stores: list[Path] | None = None,
    *,
    latency: float = 0.0,
    record: bool = False,
    port: int = 0,
    caching_headers: bool = True,
) -> ReplayServer:
    """Start a server in a background thread; ``server.base_url`` says where."""
    roots = stores or [DEFAULT_STORE]
    server = ReplayServer(
        ("127.0.0.1", port),
        [Store(root) for root in roots],
        latency=latency,
        record=record,
        caching_headers=caching_headers,
    )
    threading.Thread(target=server.serve_forever, name="replay", daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--store",
        type=Path,
        action="append",
        help=f"a recorded store (repeatable; default {DEFAULT_STORE})",
    )
    parser.add_argument("--latency", type=parse_latency, default=0.05, help="per request (50ms)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--record", action="store_true", help="fetch and store what is missing")
    parser.add_argument(
        "--no-caching-headers",
        action="store_true",
        help="send no ETag or Cache-Control (like a mirror that sends none)",
    )
    args = parser.parse_args(argv)
    server = start(
        args.store,
        latency=args.latency,
        record=args.record,
        port=args.port,
        caching_headers=not args.no_caching_headers,
    )
    print(f"{server.base_url}/simple", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        print(json.dumps(server.stats.snapshot()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
