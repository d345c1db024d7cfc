"""The Simple repository API: PEP 691 JSON, with PEP 503 HTML as the fallback."""

from __future__ import annotations

import json
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)

from reqhash_check.index.base import (
    DistFile,
    IndexUnavailable,
    ProjectNotFound,
    VersionNotFound,
)
from reqhash_check.index.cache import CacheEntry, CachingIndex, Fetched, ReleaseCache, file_to_json
from reqhash_check.index.http import (
    HttpAnswer,
    HttpClient,
    fetch_requires_dist,
    keep_hashes,
    redact_url,
    same_version,
    stated_size,
    stated_time,
)

SIMPLE_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.1"
)
_JSON_TYPE = "application/vnd.pypi.simple.v1+json"
_HTML_TYPES = ("application/vnd.pypi.simple.v1+html", "text/html")


@dataclass(frozen=True)
class _Link:
    """One file on a project page, before it is known to belong to the project."""

    filename: str
    url: str
    hashes: dict[str, str]
    requires_python: str | None
    yanked: bool | str
    metadata: bool | dict[str, str]
    """PEP 658/714: False, True (offered, no hash) or the metadata file's hashes."""
    size: int | None = None
    upload_time: str | None = None


class _NotSimplePage(Exception):
    pass


def _file_version(filename: str, project: str) -> str | None:
    """The version a file is for, or None when its name can't be read or is another project's."""
    try:
        if filename.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    if canonicalize_name(name) != project:
        return None
    return str(version)


def _metadata_flag(value: Any) -> bool | dict[str, str]:
    if isinstance(value, dict):
        return keep_hashes(value) or True
    return bool(value)


def _parse_json_page(content: bytes, page_url: str) -> list[_Link]:
    try:
        data = json.loads(content)
    except ValueError:
        raise _NotSimplePage from None
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise _NotSimplePage
    links = []
    for entry in data["files"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("filename"), str):
            raise _NotSimplePage
        yanked = entry.get("yanked", False)
        requires_python = entry.get("requires-python")
        links.append(
            _Link(
                filename=entry["filename"],
                url=urljoin(page_url, str(entry.get("url") or "")),
                hashes=keep_hashes(entry.get("hashes")),
                requires_python=requires_python if isinstance(requires_python, str) else None,
                yanked=yanked if isinstance(yanked, str) else bool(yanked),
                metadata=_metadata_flag(
                    entry.get("core-metadata", entry.get("dist-info-metadata", False))
                ),
                size=stated_size(entry.get("size")),
                upload_time=stated_time(entry.get("upload-time")),
            )
        )
    return links


def _hash_fragment(value: str | None) -> dict[str, str]:
    """`sha256=abc…` (a URL fragment or a data-core-metadata value) → {"sha256": "abc…"}."""
    if not value or "=" not in value:
        return {}
    algorithm, _, digest = value.partition("=")
    return keep_hashes({algorithm.strip().lower(): digest.strip()})


class _AnchorParser(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = page_url
        self.links: list[_Link] = []
        self._current: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base":
            href = dict(attrs).get("href")
            if href:
                self.base_url = urljoin(self.base_url, href)
        elif tag == "a":
            self._current = dict(attrs)
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag != "a" or self._current is None:
            return
        attrs, self._current = self._current, None
        href = attrs.get("href")
        if not href:
            return
        url = urljoin(self.base_url, href)
        path, _, fragment = url.partition("#")
        filename = path.rsplit("/", 1)[-1].split("?", 1)[0] or "".join(self._text).strip()
        yanked: bool | str = False
        if "data-yanked" in attrs:
            yanked = (attrs["data-yanked"] or "").strip() or True
        metadata_attr = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
        metadata: bool | dict[str, str] = False
        if "data-core-metadata" in attrs or "data-dist-info-metadata" in attrs:
            metadata = (
                False if metadata_attr == "false" else (_hash_fragment(metadata_attr) or True)
            )
        self.links.append(
            _Link(
                filename=filename,
                url=url,
                hashes=_hash_fragment(fragment),
                requires_python=attrs.get("data-requires-python") or None,
                yanked=yanked,
                metadata=metadata,
            )
        )


def _parse_html_page(content: bytes, page_url: str, charset: str | None) -> list[_Link]:
    try:
        text = content.decode(charset or "utf-8")
    except (LookupError, UnicodeDecodeError):
        raise _NotSimplePage from None
    if "\x00" in text or "<" not in text:
        raise _NotSimplePage
    parser = _AnchorParser(page_url)
    parser.feed(text)
    parser.close()
    return parser.links


def _charset(content_type_header: str) -> str | None:
    for part in content_type_header.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset":
            return value.strip().strip('"') or None
    return None


class SimpleIndex(CachingIndex):
    """Any PEP 503/691 index: `{index}/<name>/`."""

    def __init__(
        self,
        index_url: str,
        http: HttpClient,
        *,
        cache: ReleaseCache | None = None,
        offline: bool = False,
        owns_http: bool = False,
    ) -> None:
        bare = http.register(index_url.rstrip("/"))
        super().__init__(
            http=http,
            owns_http=owns_http,
            cache_key_url=f"simple:{bare}",
            display_url=redact_url(index_url),
            cache=cache,
            offline=offline,
        )
        self.index_url = bare

    def _page_url(self, name: str) -> str:
        return f"{self.index_url}/{name}/"

    async def _page(self, name: str, etag: str | None) -> HttpAnswer:
        if etag is not None:
            return await self._http.get(self._page_url(name), accept=SIMPLE_ACCEPT, etag=etag)
        return await self._get_once(self._page_url(name), accept=SIMPLE_ACCEPT)

    async def _links(
        self, name: str, previous: CacheEntry | None
    ) -> tuple[HttpAnswer, list[_Link]]:
        answer = await self._page(name, previous.etag if previous is not None else None)
        if answer.status == 404:
            raise ProjectNotFound(f"{self.display_url}: no project named {name!r}")
        if answer.status == 304:
            return answer, []
        try:
            if answer.content_type == _JSON_TYPE:
                links = _parse_json_page(answer.content, answer.url)
            elif answer.content_type in _HTML_TYPES or not answer.content_type:
                charset = _charset(answer.headers.get("content-type", ""))
                links = _parse_html_page(answer.content, answer.url, charset)
            else:
                raise _NotSimplePage
        except _NotSimplePage:
            shown = self._http.shown(answer.url)
            raise IndexUnavailable(
                f"{shown} answered with something that is not a simple index page"
            ) from None
        return answer, links

    def _files(self, name: str, links: list[_Link]) -> list[tuple[DistFile, _Link]]:
        found = []
        for link in links:
            version = _file_version(link.filename, name)
            if version is None:
                continue
            dist = DistFile(
                filename=link.filename,
                version=version,
                url=link.url.split("#", 1)[0],
                hashes=link.hashes,
                requires_python=link.requires_python,
                yanked=bool(link.yanked),
                yanked_reason=link.yanked if isinstance(link.yanked, str) else None,
                size=link.size,
                upload_time=link.upload_time,
            )
            found.append((dist, link))
        return found

    async def _fetch_release(self, name: str, version: str, previous: CacheEntry | None) -> Fetched:
        answer, links = await self._links(name, previous)
        if answer.status == 304:
            return Fetched(None)
        files = [
            (d, link) for d, link in self._files(name, links) if same_version(d.version, version)
        ]
        if not files:
            raise VersionNotFound(f"{self.display_url}: {name} has no files for version {version}")
        requires_dist = await self._requires_dist(files)
        payload = {
            "project": name,
            "version": files[0][0].version,
            "files": [file_to_json(d) for d, _ in files],
            "requires_dist": None if requires_dist is None else list(requires_dist),
            "index_url": self.display_url,
        }
        return Fetched(payload, answer.etag, self._page_url(name))

    async def _requires_dist(self, files: list[tuple[DistFile, _Link]]) -> tuple[str, ...] | None:
        offered = [(d, link) for d, link in files if link.metadata]
        offered.sort(key=lambda dl: not dl[0].is_wheel)
        for dist, link in offered[:2]:
            expected = link.metadata.get("sha256") if isinstance(link.metadata, dict) else None
            found = await fetch_requires_dist(self._http, dist.url, expected)
            if found is not None:
                return found
        return None

    async def _fetch_project(self, name: str, previous: CacheEntry | None) -> Fetched:
        answer, links = await self._links(name, previous)
        if answer.status == 304:
            return Fetched(None)
        files = [file_to_json(d) for d, _ in self._files(name, links)]
        return Fetched(files, answer.etag, self._page_url(name))
