"""Package sources pip reads without an index server: `--find-links` (a folder, or an HTML
page on disk or over HTTP) and `file://` simple indexes.

pip lists the archives it finds there as candidates beside the indexes' files. Hashes come
from a page's `#sha256=` fragments; a file on this machine without one is hashed from disk,
as pip would hash it; a file behind an HTTP link without one cannot be confirmed here.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from dataclasses import replace
from pathlib import Path
from urllib.parse import urljoin
from urllib.request import pathname2url

from reqhash_check import fs
from reqhash_check.index.answers import BadAnswer, normalize_project, same_version
from reqhash_check.index.base import (
    DistFile,
    IndexUnavailable,
    OfflineMiss,
    ProjectNotFound,
    ReleaseFiles,
    VersionNotFound,
)
from reqhash_check.index.http import MAX_ANSWER_BYTES, HttpClient
from reqhash_check.index.metadata import MetadataOffer, read_dependencies
from reqhash_check.index.simple import SIMPLE_ACCEPT, Link, dist_files, links_of, parse_html_page
from reqhash_check.urls import local_path, redact_url

MAX_FOLDER_ENTRIES = 100_000
MAX_HASHED_BYTES = 8 * 1024 * 1024 * 1024


def file_url(path: str | Path) -> str:
    return "file:" + pathname2url(os.path.abspath(path))


def _sha256_of(root: fs.Root, path: Path) -> str | None:
    """The sha256 pip would compute of a file on this machine, read through the confined
    file layer: None when it is not a regular file under the root, or too large."""
    try:
        with fs.open_file(root, path) as handle:
            if os.fstat(handle.fileno()).st_size > MAX_HASHED_BYTES:
                return None
            digest = hashlib.sha256()
            for block in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(block)
            return digest.hexdigest()
    except (fs.Refused, OSError, ValueError):  # ValueError: a path holding a NUL character
        return None


async def _with_disk_hashes(root: fs.Root, files: list[DistFile]) -> list[DistFile]:
    """Files on this machine without a stated sha256 get the one pip would compute."""
    done = []
    for dist in files:
        path = local_path(dist.url) if dist.url.startswith("file:") else None
        if dist.sha256 is None and path is not None:
            digest = await asyncio.to_thread(_sha256_of, root, path)
            if digest is not None:
                dist = replace(dist, hashes={**dist.hashes, "sha256": digest})
        done.append(dist)
    return done


def _read_page(root: fs.Root, path: Path) -> bytes:
    try:
        content = fs.read_bytes(root, path, MAX_ANSWER_BYTES)
    except fs.Refused as refused:
        raise BadAnswer(refused.reason) from None
    if len(content) > MAX_ANSWER_BYTES:
        raise BadAnswer(f"a page larger than {MAX_ANSWER_BYTES // (1024 * 1024)} MiB")
    return content


def _folder_links(root: fs.Root, folder: Path) -> list[Link]:
    """The regular files of a folder under the root (a symlink leading out is not one)."""
    try:
        names = fs.list_folder(root, folder, MAX_FOLDER_ENTRIES)
    except fs.Refused as refused:
        raise BadAnswer(refused.reason) from None
    return [
        Link(name, file_url(folder / name), {}, None, False, False)
        for name in names
        if fs.kind(root, folder / name) == "file"
    ]


class _LocalSource:
    """What a find-links location or a file:// index shares: files → releases."""

    label: str
    root: fs.Root

    @property
    def display_url(self) -> str:
        return self.label

    async def _project_links(self, name: str) -> list[Link]:
        raise NotImplementedError

    async def _files(self, project: str) -> list[DistFile]:
        name = normalize_project(project)
        try:
            links = await self._project_links(name)
        except (OSError, BadAnswer) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            raise IndexUnavailable(f"{self.label}: {reason}", index=self.label) from None
        except ValueError:  # what the operating system's calls say of a path holding a NUL
            raise IndexUnavailable(
                f"{self.label}: a path holding a NUL character, which no file name can hold",
                index=self.label,
            ) from None
        return [dist for dist, _ in dist_files(name, links)]

    async def release(self, project: str, version: str) -> ReleaseFiles:
        name = normalize_project(project)
        files = await self._files(name)
        if not files:
            raise ProjectNotFound(f"{self.label}: no files of {name}")
        same = [f for f in files if same_version(f.version, version)]
        chosen = await _with_disk_hashes(self.root, same)
        if not chosen:
            raise VersionNotFound(f"{self.label}: no files of {name} {version}")
        offers = [MetadataOffer(f, False) for f in chosen]
        dependencies = await read_dependencies(self._http(), offers, name, chosen[0].version)
        return ReleaseFiles(
            project=name,
            version=chosen[0].version,
            files=tuple(chosen),
            requires_dist=dependencies.requires_dist,
            dependencies_note=None if dependencies.requires_dist else dependencies.source,
            index_url=self.label,
        )

    async def project_files(self, project: str) -> tuple[DistFile, ...]:
        return tuple(await self._files(project))

    def _http(self) -> HttpClient:
        raise NotImplementedError

    async def aclose(self) -> None:
        return None


class FindLinks(_LocalSource):
    """`--find-links LOCATION`: a folder of archives, or an HTML page of links."""

    def __init__(
        self,
        location: str,
        http: HttpClient,
        *,
        label: str | None = None,
        root: fs.Root | None = None,
        offline: bool = False,
    ) -> None:
        self.location = http.register(location) if "://" in location else location
        self.offline = offline
        self.label = redact_url(label or location)
        self.root = root or fs.current_root()
        self._client = http
        self._page: list[Link] | None = None

    def _http(self) -> HttpClient:
        return self._client

    async def _links(self) -> list[Link]:
        if self._page is not None:
            return self._page
        path = local_path(self.location)
        if path is not None and fs.kind(self.root, path) == "folder":
            links = await asyncio.to_thread(_folder_links, self.root, path)
        elif path is not None:
            content = await asyncio.to_thread(_read_page, self.root, path)
            links = parse_html_page(content, file_url(path), None, None)
        elif self.offline:  # a remote page is not cached: offline, it cannot be read
            raise OfflineMiss(f"{self.label}: not read (offline)", index=self.label)
        else:
            answer = await self._client.get(self.location, accept="text/html")
            if answer.status != 200:
                raise IndexUnavailable(
                    f"{self._client.shown(self.location)}: HTTP {answer.status}", index=self.label
                )
            links = links_of(answer, None)
        self._page = links
        return links

    async def _project_links(self, name: str) -> list[Link]:
        return await self._links()


class LocalSimpleIndex(_LocalSource):
    """A simple index on disk (`--index-url file:///…/simple`): `<root>/<name>/`, its
    `index.html` when there is one, else the folder's files, as pip reads it."""

    def __init__(
        self,
        index_url: str,
        http: HttpClient,
        *,
        label: str | None = None,
        root: fs.Root | None = None,
    ) -> None:
        folder = local_path(index_url)
        if folder is None:
            raise ValueError(f"not a local index: {index_url}")
        self.folder = folder
        self.root = root or fs.current_root()
        self.label = redact_url(label or index_url)
        self._client = http

    def _http(self) -> HttpClient:
        return self._client

    async def _project_links(self, name: str) -> list[Link]:
        folder = self.folder / name
        found = fs.kind(self.root, folder)
        if found == "refused":
            raise BadAnswer(f"{name}: outside {self.root.name}; not read")
        if found != "folder":
            return []
        page = folder / "index.html"
        if fs.kind(self.root, page) != "missing":
            content = await asyncio.to_thread(_read_page, self.root, page)
            base = file_url(folder) + "/"
            return parse_html_page(content, urljoin(base, "index.html"), None, name)
        return await asyncio.to_thread(_folder_links, self.root, folder)


__all__ = ["SIMPLE_ACCEPT", "FindLinks", "LocalSimpleIndex", "file_url"]
