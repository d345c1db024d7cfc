"""A real package index on 127.0.0.1 for tests: Warehouse JSON API and Simple API.

    index = FakeIndex().start()
    index.add("demo", "1.0", FakeFile("demo-1.0-py3-none-any.whl", content=b"..."))
    index.load_recorded("requests")      # tests/data/pypi/requests.json
    ... index.url / index.simple_url ...
    index.close()

Real pip can install from `simple_url`. Faults are injected per path prefix with
`fail`, `delay` and `garbage`; every request is recorded in `requests`.
"""

from __future__ import annotations

import hashlib
import html
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

RECORDED = Path(__file__).parent / "data" / "pypi"


@dataclass
class FakeFile:
    filename: str
    content: bytes | None = None
    """Served at /files/<filename>; its sha256 is computed from it."""
    sha256: str | None = None
    """Used when content is None (recorded data)."""
    requires_python: str | None = None
    yanked: bool | str = False
    """A str is the yanked reason."""
    metadata: bytes | None = None
    """PEP 658 core metadata served at /files/<filename>.metadata."""

    @property
    def digest(self) -> str:
        if self.content is not None:
            return hashlib.sha256(self.content).hexdigest()
        if self.sha256 is not None:
            return self.sha256
        return hashlib.sha256(self.filename.encode()).hexdigest()

    @property
    def metadata_digest(self) -> str | None:
        return None if self.metadata is None else hashlib.sha256(self.metadata).hexdigest()


@dataclass
class _Release:
    files: list[FakeFile] = field(default_factory=list)
    requires_dist: list[str] | None = None


@dataclass
class _Project:
    name: str
    releases: dict[str, _Release] = field(default_factory=dict)


@dataclass
class _Fault:
    prefix: str
    status: int = 0
    times: int | None = None
    retry_after: str | None = None
    body: bytes = b""
    delay: float = 0.0
    garbage: bool = False
    content_type: str = "text/plain"


def _version_key(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        return Version("0")


class FakeIndex:
    """A ThreadingHTTPServer on 127.0.0.1 (port 0) in a daemon thread."""

    def __init__(self) -> None:
        self._projects: dict[str, _Project] = {}
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.per_version_json = False
        self.simple_format = "auto"
        """"auto" follows the Accept header; "json" or "html" forces one form."""
        self.relative_urls = False
        self.serve_metadata = True
        """Answer `<file>.metadata` (PEP 658) when the file has metadata."""
        self.advertise_metadata = True
        """Say so on the pages (some mirrors serve the files but leave this out)."""
        self.ranges = True
        """Answer `Range: bytes=…` requests for files with 206, as PyPI's file host does."""
        """Link files with URLs relative to the page instead of absolute ones."""
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self.simple_url = ""

    # --- life cycle -------------------------------------------------------------

    def start(self) -> FakeIndex:
        handler = type("Handler", (_Handler,), {"index": self})
        server = _Server(("127.0.0.1", 0), handler)
        self._server = server
        host, port = server.server_address[:2]
        self.url = f"http://{host!s}:{port}"
        self.simple_url = f"{self.url}/simple"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeIndex:
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the model --------------------------------------------------------------

    def add(
        self,
        project: str,
        version: str,
        file: FakeFile,
        *,
        requires_dist: list[str] | None = None,
    ) -> None:
        with self._lock:
            key = canonicalize_name(project)
            entry = self._projects.setdefault(key, _Project(project))
            release = entry.releases.setdefault(version, _Release())
            release.files.append(file)
            if requires_dist is not None:
                release.requires_dist = list(requires_dist)

    def load_recorded(self, name: str) -> None:
        """Load tests/data/pypi/<name>.json, a trimmed real PyPI project JSON."""
        data = json.loads((RECORDED / f"{name}.json").read_text())
        latest = data["info"]["version"]
        project = data["info"]["name"]
        for version, entries in data["releases"].items():
            for entry in entries:
                metadata_path = RECORDED / f"{entry['filename']}.metadata"
                yanked: bool | str = False
                if entry.get("yanked"):
                    yanked = (entry.get("yanked_reason") or "").strip() or True
                self.add(
                    project,
                    version,
                    FakeFile(
                        entry["filename"],
                        sha256=entry["digests"]["sha256"],
                        requires_python=entry.get("requires_python"),
                        yanked=yanked,
                        metadata=metadata_path.read_bytes() if metadata_path.exists() else None,
                    ),
                    requires_dist=data["info"]["requires_dist"] if version == latest else None,
                )

    # --- faults -----------------------------------------------------------------

    def fail(
        self,
        path_prefix: str,
        status: int,
        *,
        times: int | None = None,
        retry_after: str | None = None,
        body: bytes = b"",
        content_type: str = "text/plain",
    ) -> None:
        """Answer `status` for paths starting with the prefix (`times` times, or always).

        With status 200 and a body this serves a hand-made document instead of the model's.
        """
        with self._lock:
            self._faults.append(
                _Fault(path_prefix, status, times, retry_after, body, content_type=content_type)
            )

    def delay(self, path_prefix: str, seconds: float) -> None:
        with self._lock:
            self._faults.append(_Fault(path_prefix, delay=seconds))

    def garbage(self, path_prefix: str) -> None:
        """Answer 200 with bytes that are neither JSON nor HTML."""
        with self._lock:
            self._faults.append(_Fault(path_prefix, garbage=True))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def paths(self, method: str = "GET") -> list[str]:
        """The paths asked so far (a convenience over `requests`)."""
        with self._lock:
            return [path for m, path, _ in self.requests if m == method]

    # --- what the handler asks --------------------------------------------------

    def _record(self, method: str, path: str, headers: dict[str, str]) -> None:
        with self._lock:
            self.requests.append((method, path, headers))

    def _faults_for(self, path: str) -> Iterator[_Fault]:
        with self._lock:
            chosen = []
            for fault in self._faults:
                if not path.startswith(fault.prefix):
                    continue
                if fault.status:
                    if fault.times is not None:
                        if fault.times <= 0:
                            continue
                        fault.times -= 1
                    chosen.append(fault)
                    break
                chosen.append(fault)
        yield from chosen

    def _project(self, name: str) -> _Project | None:
        with self._lock:
            return self._projects.get(canonicalize_name(name))

    def _file(self, filename: str) -> FakeFile | None:
        with self._lock:
            for project in self._projects.values():
                for release in project.releases.values():
                    for file in release.files:
                        if file.filename == filename:
                            return file
        return None

    def advertised_metadata(self, file: FakeFile) -> bytes | None:
        """The metadata a page advertises for a file."""
        if not (self.advertise_metadata and self.serve_metadata):
            return None
        return self.metadata_of(file)

    def metadata_of(self, file: FakeFile) -> bytes | None:
        """The core metadata served for a file: its own, or one made from requires_dist."""
        if not self.serve_metadata:
            return None
        if file.metadata is not None:
            return file.metadata
        with self._lock:
            for project in self._projects.values():
                for version, release in project.releases.items():
                    if file in release.files and release.requires_dist is not None:
                        lines = ["Metadata-Version: 2.1", f"Name: {project.name}"]
                        lines.append(f"Version: {version}")
                        lines += [f"Requires-Dist: {r}" for r in release.requires_dist]
                        return ("\n".join(lines) + "\n\n").encode()
        return None

    def _file_url(self, filename: str, page_path: str) -> str:
        if self.relative_urls:
            depth = page_path.strip("/").count("/") + (1 if page_path.endswith("/") else 0)
            return "../" * depth + f"files/{filename}"
        return f"{self.url}/files/{filename}"

    def _file_json(self, file: FakeFile, page_path: str) -> dict[str, Any]:
        metadata = self.advertised_metadata(file)
        core = {"sha256": hashlib.sha256(metadata).hexdigest()} if metadata is not None else False
        return {
            "filename": file.filename,
            "url": self._file_url(file.filename, page_path),
            "digests": {"sha256": file.digest},
            "requires_python": file.requires_python,
            "yanked": bool(file.yanked),
            "yanked_reason": file.yanked if isinstance(file.yanked, str) else None,
            "packagetype": "bdist_wheel" if file.filename.endswith(".whl") else "sdist",
            "size": len(file.content) if file.content is not None else 0,
            "core-metadata": core,
            "data-dist-info-metadata": core,
        }

    def _latest(self, project: _Project) -> str | None:
        versions = [v for v, r in project.releases.items() if r.files]
        if not versions:
            return None
        usable = [v for v in versions if not all(f.yanked for f in project.releases[v].files)]
        stable = [v for v in usable if not _version_key(v).is_prerelease]
        return max(stable or usable or versions, key=_version_key)

    def project_json(self, project: _Project, page_path: str) -> dict[str, Any]:
        latest = self._latest(project)
        release = project.releases.get(latest or "", _Release())
        return {
            "info": {
                "name": project.name,
                "version": latest,
                "requires_dist": release.requires_dist,
                "requires_python": None,
                "yanked": False,
                "yanked_reason": None,
            },
            "releases": {
                version: [self._file_json(f, page_path) for f in r.files]
                for version, r in sorted(
                    project.releases.items(), key=lambda item: _version_key(item[0])
                )
            },
            "urls": [self._file_json(f, page_path) for f in release.files],
        }

    def version_json(self, project: _Project, version: str, page_path: str) -> dict[str, Any]:
        release = project.releases[version]
        yanked = [f for f in release.files if f.yanked]
        reason = next((f.yanked for f in yanked if isinstance(f.yanked, str)), None)
        return {
            "info": {
                "name": project.name,
                "version": version,
                "requires_dist": release.requires_dist,
                "requires_python": None,
                "yanked": bool(release.files) and len(yanked) == len(release.files),
                "yanked_reason": reason,
            },
            "urls": [self._file_json(f, page_path) for f in release.files],
        }

    def simple_json(self, project: _Project, page_path: str) -> dict[str, Any]:
        files = []
        for version in sorted(project.releases, key=_version_key):
            for file in project.releases[version].files:
                metadata = self.advertised_metadata(file)
                core: Any = (
                    {"sha256": hashlib.sha256(metadata).hexdigest()}
                    if metadata is not None
                    else False
                )
                files.append(
                    {
                        "filename": file.filename,
                        "url": self._file_url(file.filename, page_path),
                        "hashes": {"sha256": file.digest},
                        "requires-python": file.requires_python,
                        "yanked": file.yanked,
                        "core-metadata": core,
                        "dist-info-metadata": core,
                    }
                )
        return {
            "meta": {"api-version": "1.1"},
            "name": canonicalize_name(project.name),
            "files": files,
            "versions": sorted(project.releases, key=_version_key),
        }

    def simple_html(self, project: _Project, page_path: str) -> str:
        lines = [
            "<!DOCTYPE html>",
            "<html><head><meta name='pypi:repository-version' content='1.1'>",
            f"<title>Links for {html.escape(project.name)}</title></head><body>",
            f"<h1>Links for {html.escape(project.name)}</h1>",
        ]
        for version in sorted(project.releases, key=_version_key):
            for file in project.releases[version].files:
                href = f"{self._file_url(file.filename, page_path)}#sha256={file.digest}"
                attrs = [f'href="{html.escape(href)}"']
                if file.requires_python:
                    attrs.append(f'data-requires-python="{html.escape(file.requires_python)}"')
                if file.yanked:
                    reason = file.yanked if isinstance(file.yanked, str) else ""
                    attrs.append(f'data-yanked="{html.escape(reason)}"')
                metadata = self.advertised_metadata(file)
                if metadata is not None:
                    value = f"sha256={hashlib.sha256(metadata).hexdigest()}"
                    attrs.append(f'data-core-metadata="{value}"')
                    attrs.append(f'data-dist-info-metadata="{value}"')
                lines.append(f"<a {' '.join(attrs)}>{html.escape(file.filename)}</a><br>")
        lines.append("</body></html>")
        return "\n".join(lines) + "\n"

    def project_names(self) -> list[str]:
        with self._lock:
            return sorted(p.name for p in self._projects.values())


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout tests) closes the socket mid-answer: not an error.
        pass


_SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"


def _wants_json(accept: str) -> bool:
    """Content negotiation just far enough for pip and the index clients."""
    best_json = best_html = -1.0
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if media in (_SIMPLE_JSON, "application/vnd.pypi.simple.latest+json"):
            best_json = max(best_json, quality)
        elif media in ("application/vnd.pypi.simple.v1+html", "text/html", "*/*"):
            best_html = max(best_html, quality)
    return best_json > 0 and best_json >= best_html


class _Handler(BaseHTTPRequestHandler):
    index: FakeIndex
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = urlsplit(self.path).path
        self.index._record("GET", path, headers)
        for fault in self.index._faults_for(path):
            if fault.delay:
                time.sleep(fault.delay)
            if fault.garbage:
                content_type = _SIMPLE_JSON if path.startswith("/simple") else "application/json"
                self._send(200, b"\x00\xff\xfe garbage \x89PNG not an answer", content_type)
                return
            if fault.status:
                extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
                self._send(fault.status, fault.body, fault.content_type, extra)
                return
        self._route(path, headers)

    def _route(self, path: str, headers: dict[str, str]) -> None:
        index = self.index
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if parts[0] == "files" and len(parts) == 2:
            self._serve_file(parts[1])
        elif parts[0] == "simple" and len(parts) == 1:
            self._serve_simple_list(headers)
        elif parts[0] == "simple" and len(parts) == 2:
            project = index._project(parts[1])
            if project is None:
                self._send(404, b"Not Found", "text/plain")
                return
            as_json = (
                index.simple_format == "json"
                if index.simple_format != "auto"
                else _wants_json(headers.get("accept", ""))
            )
            if as_json:
                body = json.dumps(index.simple_json(project, path)).encode()
                self._send_document(body, _SIMPLE_JSON, headers)
            else:
                body = index.simple_html(project, path).encode()
                self._send_document(body, "text/html; charset=utf-8", headers)
        elif parts[0] == "pypi" and len(parts) == 3 and parts[2] == "json":
            project = index._project(parts[1])
            if project is None:
                self._send(404, b'{"message": "Not Found"}', "application/json")
                return
            body = json.dumps(index.project_json(project, path)).encode()
            self._send_document(body, "application/json", headers)
        elif parts[0] == "pypi" and len(parts) == 4 and parts[3] == "json":
            project = index._project(parts[1])
            if not index.per_version_json or project is None or parts[2] not in project.releases:
                self._send(404, b'{"message": "Not Found"}', "application/json")
                return
            body = json.dumps(index.version_json(project, parts[2], path)).encode()
            self._send_document(body, "application/json", headers)
        else:
            self._send(404, b"Not Found", "text/plain")

    def _serve_simple_list(self, headers: dict[str, str]) -> None:
        names = self.index.project_names()
        if _wants_json(headers.get("accept", "")):
            body = json.dumps(
                {
                    "meta": {"api-version": "1.1"},
                    "projects": [{"name": n} for n in names],
                }
            ).encode()
            self._send_document(body, _SIMPLE_JSON, headers)
            return
        links = "".join(
            f'<a href="{canonicalize_name(n)}/">{html.escape(n)}</a><br>\n' for n in names
        )
        body = f"<!DOCTYPE html><html><body>\n{links}</body></html>\n".encode()
        self._send_document(body, "text/html; charset=utf-8", headers)

    def _serve_file(self, name: str) -> None:
        if name.endswith(".metadata"):
            file = self.index._file(name[: -len(".metadata")])
            metadata = self.index.metadata_of(file) if file is not None else None
            if metadata is None:
                self._send(404, b"Not Found", "text/plain")
            else:
                self._send(200, metadata, "application/octet-stream")
            return
        file = self.index._file(name)
        if file is None or file.content is None:
            self._send(404, b"Not Found", "text/plain")
            return
        asked = self.headers.get("Range", "")
        if self.index.ranges and asked.startswith("bytes="):
            content = file.content
            first, _, last = asked[len("bytes=") :].partition("-")
            if not first:
                start = max(0, len(content) - int(last))
                end = len(content) - 1
            else:
                start = int(first)
                end = min(int(last), len(content) - 1) if last else len(content) - 1
            part = content[start : end + 1]
            extra = {"Content-Range": f"bytes {start}-{end}/{len(content)}"}
            self._send(206, part, "application/octet-stream", extra)
            return
        self._send(200, file.content, "application/octet-stream")

    def _send_document(self, body: bytes, content_type: str, headers: dict[str, str]) -> None:
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        asked = [t.strip() for t in headers.get("if-none-match", "").split(",") if t.strip()]
        if etag in asked or "*" in asked:
            self._send(304, b"", content_type, {"ETag": etag}, include_body=False)
            return
        self._send(200, body, content_type, {"ETag": etag})

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        extra: dict[str, str] | None = None,
        *,
        include_body: bool = True,
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            if include_body:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if include_body:
                self.wfile.write(body)
        except OSError:
            pass  # the client went away
