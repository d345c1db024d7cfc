"""A hostile package index on 127.0.0.1: one misbehaviour per behaviour name.

    with HostileIndex() as index:
        index.behaviour = "bomb"
        main(["--index-url", index.simple_url, ...])

Every behaviour answers the Simple API page of any project (and the per-version JSON API
where it matters) in its own wrong way. `requests` records the paths asked; `visits`
records the scheme too. `files` is served (with range requests) by the `files` behaviour;
`redirect` sends plain-http requests, or only TLS ones with `redirect_tls_only`, to
`redirect_to`. With `tls=(certfile, keyfile)` the same port speaks TLS and plain HTTP
(told apart by the first byte), so a redirect can change the scheme alone.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import json
import re
import socket
import ssl
import struct
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
WHEEL = "demo-1.0-py3-none-any.whl"
WHEEL_BYTES = b"demo wheel"
WHEEL_SHA = hashlib.sha256(WHEEL_BYTES).hexdigest()
PUBLIC_ETAG = '"public-etag"'
"""The ETag the `etag` behaviour gives its pages: public, so anyone can put it in a row."""
MANY_WHEELS = 4000


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def wheel_of(project: str, version: str = "1.0") -> str:
    return f"{project}-{version}-py3-none-any.whl"


INJECTION = (
    "broken\n::error file=pwned.txt,line=1::injected\x1b[31mred\x1b]0;title\x07\r::warning::x"
)
CONTROLS = (
    "\u202e\u2028\u0085\u2029\u200e\u200f\u202a\u202b\u202c\u202d"
    "\u2066\u2067\u2068\u2069\x0b\x0c\x1c\x1d\x1e"
)
"""Characters that reorder text or break a line where a viewer shows it (bidirectional
controls, line and paragraph separators, C0/C1 separators): the `controls` behaviour puts
them in every string field of its answer. Several are whitespace to `str.strip`."""
CONTROL_REQUIREMENTS = "".join(
    f"{name}==1.0 --hash=sha256:{WHEEL_SHA}\n" for name in ("demo", "rp", "fname", "named")
)
"""A requirements file asking the `controls` behaviour for each of its projects."""


def _bomb() -> bytes:
    """About 1 MiB of gzip that expands to 1 GiB of zeros. Each 1 MiB of zeros, flushed in
    full, compresses to the same bytes, so the stream is built by repeating them (with the
    trailer's CRC and size set for the whole) rather than by compressing 1 GiB."""
    chunk = bytes(1024 * 1024)
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    first = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    finish = compressor.flush()
    crc = 0
    for _ in range(1024):
        crc = zlib.crc32(chunk, crc)
    return first + again * 1023 + finish[:-8] + struct.pack("<II", crc, (1024 << 20) & 0xFFFFFFFF)


_BOMB: bytes | None = None


def page(project: str, files: list[dict[str, Any]], name: str | None = None) -> bytes:
    return json.dumps(
        {"meta": {"api-version": "1.1"}, "name": name or project, "files": files}
    ).encode()


def good_file(**overrides: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "filename": WHEEL,
        "url": f"/files/{WHEEL}",
        "hashes": {"sha256": WHEEL_SHA},
    }
    entry.update(overrides)
    return entry


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner: HostileIndex

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        self.owner.requests.append((self.path, dict(self.headers.items())))
        scheme = "https" if isinstance(self.connection, ssl.SSLSocket) else "http"
        self.owner.visits.append((scheme, self.path, dict(self.headers.items())))
        behaviour = self.owner.behaviour
        try:
            getattr(self, f"_{behaviour.replace('-', '_')}")()
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _send(self, body: bytes, content_type: str = SIMPLE_JSON, **headers: str) -> None:
        self.send_response(int(headers.pop("status", "200")))
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _project(self) -> str:
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        if "simple" in parts[:-1]:  # an index under a path of its own: /<path>/simple/<name>/
            return parts[parts.index("simple") + 1]
        return parts[1] if len(parts) > 1 else "demo"

    # --- behaviours ---------------------------------------------------------------------

    def _good(self) -> None:
        if self.path.startswith("/files/"):
            self._send(b"", "application/octet-stream", status="404")
            return
        self._send(page(self._project(), [good_file()]))

    def _bomb(self) -> None:
        global _BOMB
        if _BOMB is None:
            _BOMB = _bomb()
        self._send(_BOMB, Content_Encoding="gzip")

    def _endless(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", SIMPLE_JSON)
        self.end_headers()
        block = b" " * 65536
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not self.owner.stopping:
            self.wfile.write(block)

    def _drip(self) -> None:
        body = page(self._project(), [good_file()])
        self.send_response(200)
        self.send_header("Content-Type", SIMPLE_JSON)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for byte in body[:60]:
            if self.owner.stopping:
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(1)

    def _deep_json(self) -> None:
        self._send(b"[" * 100_000 + b"]" * 100_000)

    def _wrong_project(self) -> None:
        self._send(page(self._project(), [good_file()], name="something-else"))

    def _wrong_version(self) -> None:
        # Per-version JSON API that answers for another version than asked.
        if self.path.startswith("/pypi/"):
            body = {
                "info": {"name": self._project(), "version": "2.0", "requires_dist": None},
                "urls": [
                    {
                        "filename": "demo-2.0-py3-none-any.whl",
                        "url": "/files/demo-2.0-py3-none-any.whl",
                        "digests": {"sha256": "ab" * 32},
                    }
                ],
            }
            self._send(json.dumps(body).encode(), "application/json")
        else:
            self._send(b"", "text/plain", status="404")

    def _relative(self) -> None:
        # File URLs relative to the page: the client joins them to the page's own URL.
        if "/files/" in self.path:
            self._send(b"", "application/octet-stream", status="404")
            return
        self._send(page(self._project(), [good_file(url=f"../../files/{WHEEL}")]))

    def _list_digests(self) -> None:
        self._send(page(self._project(), [good_file(hashes={"sha256": [WHEEL_SHA]})]))

    def _number_digests(self) -> None:
        self._send(page(self._project(), [good_file(hashes={"sha256": 12345})]))

    def _odd_url(self) -> None:
        self._send(page(self._project(), [good_file(url="ftp://elsewhere.invalid/demo.whl")]))

    def _error_page(self) -> None:
        body = b"<html><head><title>502 Bad Gateway</title></head><body>oops</body></html>"
        self._send(body, "text/html")

    def _injection(self) -> None:
        self._send(page(self._project(), [good_file(yanked=INJECTION)]))

    def _controls(self) -> None:
        """`owner.payload` (CONTROLS unless set) in every string an answer can carry, one
        project each (see CONTROL_REQUIREMENTS): `demo`'s file is yanked with a reason
        holding it; `rp`'s file has it around a Requires-Python that excludes every Python;
        `fname`'s files have it in their names (a stale hash, so the names are shown);
        `named`'s page states a name holding it."""
        if not self.path.startswith("/simple/"):
            self._send(b"", "text/plain", status="404")
            return
        project, text = self._project(), self.owner.payload
        files = [good_file(yanked=f"gone{text}away")]
        name = project
        if project == "rp":
            files = [
                good_file(
                    filename="rp-1.0-py3-none-any.whl", **{"requires-python": f"{text}>=9{text}"}
                )
            ]
        elif project == "fname":
            files = [
                good_file(
                    filename=f"fname-1.0{text}.tar.gz",
                    url=f"/files/fname-1.0{text}.tar.gz",
                    hashes={"sha256": "ab" * 32},
                ),
                good_file(
                    filename=f"fname-1.0-py3-none-any{text}.whl",
                    url="/files/f.whl",
                    hashes={"sha256": "cd" * 32},
                ),
            ]
        elif project == "named":
            name = f"named{text}"
        self._send(page(project, files, name=name))

    def _odd_retry_after(self) -> None:
        self._send(b"slow down", "text/plain", status="429", Retry_After="\u00b2")

    def _not_found(self) -> None:
        self._send(b"", "text/plain", status="404")

    def _echo_auth(self) -> None:
        """Quotes back the credentials it was sent, in a yanked reason."""
        token = self.headers.get("Authorization", "").removeprefix("Basic ")
        try:
            said = base64.b64decode(token).decode()
        except (binascii.Error, UnicodeDecodeError):
            said = ""
        self._send(page(self._project(), [good_file(yanked=f"you sent {said}")]))

    def _files(self) -> None:
        files = self.owner.files
        if not self.path.startswith("/files/"):
            entries = [
                {
                    "filename": name,
                    "url": f"/files/{name}",
                    "hashes": {"sha256": hashlib.sha256(data).hexdigest()},
                }
                for name, data in files.items()
            ]
            self._send(page(self._project(), entries))
            return
        data = files.get(self.path[len("/files/") :])
        if data is None:
            self._send(b"", "text/plain", status="404")
            return
        asked = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", ""))
        if asked is None:
            self._send(data, "application/octet-stream")
            return
        first, last = asked.groups()
        start = max(0, len(data) - int(last)) if not first else int(first)
        end = min(len(data) - 1, int(last)) if first and last else len(data) - 1
        self._send(
            data[start : end + 1],
            "application/octet-stream",
            status="206",
            Content_Range=f"bytes {start}-{end}/{len(data)}",
        )

    def _redirect(self) -> None:
        tls = isinstance(self.connection, ssl.SSLSocket)
        if self.owner.redirect_tls_only and not tls:
            self._good()
            return
        self._send(b"", "text/plain", status="302", Location=self.owner.redirect_to + self.path)

    def _etag(self) -> None:
        """The good page with a fixed public ETag; a request naming it gets 304, whatever
        the client holds."""
        if self.headers.get("If-None-Match") == PUBLIC_ETAG:
            self.send_response(304)
            self.send_header("ETag", PUBLIC_ETAG)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.startswith("/files/"):
            self._send(b"", "application/octet-stream", status="404")
            return
        self._send(page(self._project(), [good_file()]), ETag=PUBLIC_ETAG)

    def _md5_only(self) -> None:
        """A JSON page whose files carry an md5 digest only."""
        if self.path.startswith("/files/"):
            self._send(b"", "application/octet-stream", status="404")
            return
        md5 = hashlib.md5(b"demo wheel").hexdigest()
        self._send(page(self._project(), [good_file(hashes={"md5": md5})]))

    def _html_no_sha256(self) -> None:
        """An HTML page (PEP 503) whose links carry no `#sha256=`, as small private indexes
        serve them."""
        if self.path.startswith("/files/"):
            self._send(b"", "application/octet-stream", status="404")
            return
        project = self._project()
        body = (
            f"<!DOCTYPE html><html><body><h1>Links for {project}</h1>"
            f'<a href="/files/{WHEEL}">{WHEEL}</a></body></html>'
        )
        self._send(body.encode(), "text/html")

    def _dependencies(self) -> None:
        """Every project has one pure wheel with PEP 658 metadata; `demo`'s declares
        `owner.requires_dist` (written by the test, hostile markers and all)."""
        project = self._project()
        if self.path.startswith("/files/"):
            name = self.path.rsplit("/", 1)[-1]
            if not name.endswith(".whl.metadata"):
                self._send(b"", "application/octet-stream", status="404")
                return
            owner = name.split("-", 1)[0]
            lines = [f"Metadata-Version: 2.1\nName: {owner}\nVersion: 1.0\n"]
            if owner == "demo":
                lines += [f"Requires-Dist: {r}\n" for r in self.owner.requires_dist]
            self._send("".join(lines).encode(), "application/octet-stream")
            return
        file = {
            "filename": wheel_of(project),
            "url": f"/files/{wheel_of(project)}",
            "hashes": {"sha256": sha(project)},
            "core-metadata": True,
        }
        self._send(page(project, [file]))

    def _windows_only(self) -> None:
        """demo 1.0 publishes one Windows wheel and no sdist."""
        if self.path.startswith("/files/"):
            self._send(b"", "application/octet-stream", status="404")
            return
        name = "demo-1.0-cp312-cp312-win_amd64.whl"
        self._send(page(self._project(), [good_file(filename=name, url=f"/files/{name}")]))

    def _many_wheels(self) -> None:
        """`MANY_WHEELS` wheels of demo 1.0, each with its own sha256 (builds 1, 2, …)."""
        if self.path.startswith("/files/"):
            self._send(b"", "application/octet-stream", status="404")
            return
        files = [
            good_file(
                filename=f"demo-1.0-{n}-py3-none-any.whl",
                url=f"/files/demo-1.0-{n}-py3-none-any.whl",
                hashes={"sha256": sha(f"wheel {n}")},
            )
            for n in range(1, MANY_WHEELS + 1)
        ]
        self._send(page(self._project(), files))

    # --- downloads (--verify-downloads): the page lists `owner.file_url` with the true
    # digest of WHEEL_BYTES; `owner.download` says how a file under /files/ is served.

    def _download(self) -> None:
        if not self.path.startswith("/files/"):
            url = self.owner.file_url or f"/files/{WHEEL}"
            self._send(page(self._project(), [good_file(url=url)]))
            return
        way = self.owner.download
        if "Range" in self.headers or self.headers.get("Accept-Encoding") != "identity":
            # The check's own reads for metadata: none here. A download asks as pip does.
            self._send(b"", "text/plain", status="404")
        elif way == "good":
            self._send(WHEEL_BYTES, "application/octet-stream")
        elif way == "not-found":
            self._send(b"", "text/plain", status="404")
        elif way == "gzip":
            self._send(
                gzip.compress(WHEEL_BYTES), "application/octet-stream", Content_Encoding="gzip"
            )
        elif way == "redirect-away":  # to `owner.redirect_to`
            self._send(b"", "text/plain", status="302", Location=self.owner.redirect_to)
        elif way == "redirect-loop":
            self._send(b"", "text/plain", status="302", Location=self.path)
        elif way == "short-length":  # says 4 bytes, sends them all
            self.send_response(200)
            self.send_header("Content-Length", "4")
            self.end_headers()
            self.wfile.write(WHEEL_BYTES + b"x" * 65536)
        elif way == "long-length":  # says far more than it sends, then hangs up
            self.send_response(200)
            self.send_header("Content-Length", str(10**15))
            self.end_headers()
            self.wfile.write(WHEEL_BYTES)
        elif way == "endless":
            self._endless()
        elif way == "drip":
            self.send_response(200)
            self.send_header("Content-Length", str(len(WHEEL_BYTES)))
            self.end_headers()
            for byte in WHEEL_BYTES:
                if self.owner.stopping:
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(1)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    tls: ssl.SSLContext | None = None

    def finish_request(self, request: Any, client_address: Any) -> None:
        if self.tls is None:
            super().finish_request(request, client_address)
            return
        try:
            first = request.recv(1, socket.MSG_PEEK)
            if first == b"\x16":  # a TLS handshake record
                request = self.tls.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            super().finish_request(request, client_address)
        finally:
            request.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up on a hostile answer is what the tests expect


class HostileIndex:
    def __init__(self, behaviour: str = "good", *, tls: tuple[str, str] | None = None) -> None:
        self.behaviour = behaviour
        self.payload = CONTROLS
        """What the `controls` behaviour puts in every string of its answers."""
        self.requires_dist: list[str] = []
        """Requires-Dist of demo 1.0 under the `dependencies` behaviour."""
        self.file_url: str | None = None
        """The `download` behaviour: the URL its pages list for the wheel."""
        self.download = "good"
        self.redirect_to = ""
        """The `download` behaviour: how a file under /files/ is served."""
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.visits: list[tuple[str, str, dict[str, str]]] = []
        self.files: dict[str, bytes] = {}
        self.redirect_to = ""
        self.redirect_tls_only = False
        self.stopping = False
        handler = type("Handler", (_Handler,), {"owner": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.tls = context
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        self.simple_url = f"{self.url}/simple"
        self.https_url = f"https://{host!s}:{port}"
        """The same port over TLS (with `tls` only)."""
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> HostileIndex:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping = True
        self._server.shutdown()
        self._server.server_close()
