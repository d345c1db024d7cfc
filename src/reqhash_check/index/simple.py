"""The Simple repository API: PEP 691 JSON, with PEP 503 HTML as the fallback."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion

from reqhash_check.index.answers import (
    BadAnswer,
    digests,
    expect_project,
    load_json,
    optional_str,
    parse_version,
    same_version,
    stated_size,
    stated_time,
    version_key,
)
from reqhash_check.index.base import DistFile, ProjectNotFound, VersionNotFound
from reqhash_check.index.cache import CacheEntry, ReleaseCache
from reqhash_check.index.caching import CachingIndex, Fetched
from reqhash_check.index.http import HttpAnswer, HttpClient
from reqhash_check.index.metadata import MetadataOffer, read_dependencies
from reqhash_check.index.stored import file_to_json
from reqhash_check.urls import cache_key, redact_url

SIMPLE_ACCEPT = (
    "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.1"
)
_JSON_TYPE = "application/vnd.pypi.simple.v1+json"
_HTML_TYPES = ("application/vnd.pypi.simple.v1+html", "text/html")
MAX_TEXT = 1000
"""Longest yanked reason or requires-python kept from an answer."""


@dataclass(frozen=True)
class Link:
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


def _short(text: str | None) -> str | None:
    return text[:MAX_TEXT] if text is not None else None


def dist_name_version(filename: str) -> tuple[str, str] | None:
    """(normalised project, version) from a wheel's or sdist's file name, or None."""
    try:
        if filename.endswith(".whl"):
            name, version, _build, _tags = parse_wheel_filename(filename)
        else:
            name, version = parse_sdist_filename(filename)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return canonicalize_name(name), str(version)


_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tbz", ".txz", ".tar")


def quick_version(filename: str) -> str | None:
    """The version part of a file name, by splitting only (no validation): enough to skip
    the files of other versions on a page of thousands before anything costlier."""
    if filename.endswith(".whl"):
        parts = filename.split("-")
        return parts[1] if len(parts) >= 5 else None
    for suffix in _SDIST_SUFFIXES:
        if filename.endswith(suffix):
            _name, dash, version = filename[: -len(suffix)].rpartition("-")
            return version if dash else None
    return None


_DROPPED = object()


def _other_version(filename: str, wanted: str | None) -> bool:
    if wanted is None:
        return False
    found = quick_version(filename)
    return found is not None and version_key(found) != wanted


def _exact_filter(wanted: str) -> Callable[[dict[str, Any]], Any]:
    def other_versions_dropped(entry: dict[str, Any]) -> Any:
        # Each file entry is looked at as the decoder builds it: the thousands of a big
        # page's other versions are let go at once instead of all held until the end.
        name = entry.get("filename")
        return _DROPPED if isinstance(name, str) and _other_version(name, wanted) else entry

    return other_versions_dropped


def release_needle(wanted: str) -> str | None:
    """Text every spelling of the version `wanted` (a `version_key`) contains: the longest
    of its release numbers that is not 0, or None. A PEP 440 spelling writes each number
    with maybe leading zeros (and maybe more or fewer zeros at the release's end); a
    spelling that is not PEP 440 matches only as the same text in another case or between
    blanks, and no character lower-cases to a digit."""
    parsed = parse_version(wanted)
    numbers = [str(number) for number in parsed.release if number] if parsed else []
    return max(numbers, key=len) if numbers else None


def _quick_filter(wanted: str) -> Callable[[dict[str, Any]], Any]:
    """`_exact_filter`, cheaper per entry: a file name without the version's needle is of
    another version whenever it has a version part at all, found without splitting it."""
    needle = release_needle(wanted)
    if needle is None:
        return _exact_filter(wanted)

    def other_versions_dropped(entry: dict[str, Any]) -> Any:
        name = entry.get("filename")
        if not isinstance(name, str):
            return entry
        if needle in name:
            return _DROPPED if _other_version(name, wanted) else entry
        # The same tests as quick_version's, without building the version part:
        if name.endswith(".whl"):
            return _DROPPED if name.count("-") >= 4 else entry
        return _DROPPED if name.endswith(_SDIST_SUFFIXES) and "-" in name else entry

    return other_versions_dropped


def file_version(filename: str, project: str) -> str | None:
    """The version a file is for, or None when its name can't be read or is another project's."""
    parsed = dist_name_version(filename)
    return parsed[1] if parsed is not None and parsed[0] == project else None


_PLAIN_URL = re.compile(
    r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?/[A-Za-z0-9._~%!$&'()*+,=:@/-]*(?:#[!-~]+)?"
)
"""An absolute URL that `urljoin` gives back as it is, against any base it can read: a
lower-case scheme, a plain host, a path and maybe a fragment (no query, parameters, spaces,
or characters it would drop or re-encode)."""


def _url_joiner(page_url: str) -> Callable[[str, str], str]:
    """`urljoin`, answering at once for a plain absolute URL (a page's files' usual links)."""
    try:
        urlsplit(page_url)  # urljoin reads the base first, and fails on one it can't
    except ValueError:
        return urljoin

    def join(base: str, url: str) -> str:
        return url if _PLAIN_URL.fullmatch(url) else urljoin(base, url)

    return join


def _metadata_flag(value: Any) -> bool | dict[str, str]:
    if isinstance(value, dict):
        return digests(value) or True
    return bool(value)


def parse_json_page(
    content: bytes,
    page_url: str,
    project: str | None,
    version: str | None = None,
    *,
    exact: bool = False,
) -> list[Link]:
    """The page's links; with `version`, only those that may be of that version (the others
    are skipped before their URLs and digests are looked at). `exact` takes the plain paths
    the quick ones must agree with (for the tests that hold them to it)."""
    hook: Callable[[dict[str, Any]], Any] | None = None
    if version is not None:
        wanted = version_key(version)
        hook = _exact_filter(wanted) if exact else _quick_filter(wanted)
    data = load_json(content, hook)
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        raise BadAnswer("JSON that is not a simple index page")
    if "name" in data and project is not None:
        expect_project(data["name"], project)
    links = []
    join = urljoin if exact else _url_joiner(page_url)
    for entry in data["files"]:
        if entry is _DROPPED:
            continue
        if not isinstance(entry, dict) or not isinstance(entry.get("filename"), str):
            raise BadAnswer("a file entry without a filename")
        yanked = entry.get("yanked", False)
        links.append(
            Link(
                filename=entry["filename"],
                url=join(page_url, str(entry.get("url") or "")),
                hashes=digests(entry.get("hashes")),
                requires_python=_short(optional_str(entry.get("requires-python"))),
                yanked=_short(yanked) or True if isinstance(yanked, str) else bool(yanked),
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
    return digests({algorithm.strip().lower(): digest.strip()})


class _AnchorParser(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base_url = page_url
        self.links: list[Link] = []
        self.repository_version = False
        self.text: list[str] = []
        self._current: dict[str, str | None] | None = None
        self._anchor_text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base":
            href = dict(attrs).get("href")
            if href:
                self.base_url = urljoin(self.base_url, href)
        elif tag == "meta":
            self.repository_version |= dict(attrs).get("name") == "pypi:repository-version"
        elif tag == "a":
            self._current = dict(attrs)
            self._anchor_text = []

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._anchor_text.append(data)
        elif len(self.text) < 50:
            self.text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag != "a" or self._current is None:
            return
        attrs, self._current = self._current, None
        href = attrs.get("href")
        if not href:
            return
        url = urljoin(self.base_url, href)
        path, _, fragment = url.partition("#")
        filename = path.rsplit("/", 1)[-1].split("?", 1)[0] or "".join(self._anchor_text).strip()
        yanked: bool | str = False
        if "data-yanked" in attrs:
            yanked = _short((attrs["data-yanked"] or "").strip()) or True
        metadata_attr = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
        metadata: bool | dict[str, str] = False
        if "data-core-metadata" in attrs or "data-dist-info-metadata" in attrs:
            metadata = (
                False if metadata_attr == "false" else (_hash_fragment(metadata_attr) or True)
            )
        self.links.append(
            Link(
                filename=filename,
                url=url,
                hashes=_hash_fragment(fragment),
                requires_python=_short(attrs.get("data-requires-python") or None),
                yanked=yanked,
                metadata=metadata,
            )
        )


def parse_html_page(
    content: bytes, page_url: str, charset: str | None, project: str | None
) -> list[Link]:
    """The links of an HTML page. With `project`, the page must show it is that project's
    index page (a find-links page, `project=None`, is any page of links)."""
    try:
        text = content.decode(charset or "utf-8")
    except (LookupError, UnicodeDecodeError):
        raise BadAnswer("a page that cannot be decoded") from None
    if "\x00" in text or "<" not in text:
        raise BadAnswer("something that is not an HTML page")
    parser = _AnchorParser(page_url)
    parser.feed(text)
    parser.close()
    # An error page served with status 200 is not an empty project: a project page says
    # what it is (PEP 629's meta tag, "Links for <name>") or links the project's files.
    words = " ".join(parser.text).lower()
    if project is not None and not (
        parser.repository_version
        or "links for" in words
        or any(file_version(link.filename, project) for link in parser.links)
    ):
        raise BadAnswer("a page that is not a simple index page")
    return parser.links


def _charset(content_type_header: str) -> str | None:
    for part in content_type_header.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset":
            return value.strip().strip('"') or None
    return None


def links_of(answer: HttpAnswer, project: str | None, version: str | None = None) -> list[Link]:
    """The links of a project page answer (200), whichever form it came in (with `version`,
    a JSON page's links of other versions may be left out). A page from a server never
    names a file on this machine: its `file:` links are dropped, never read."""
    if answer.content_type == _JSON_TYPE:
        links = parse_json_page(answer.content, answer.url, project, version)
    elif answer.content_type in _HTML_TYPES or not answer.content_type:
        charset = _charset(answer.headers.get("content-type", ""))
        links = parse_html_page(answer.content, answer.url, charset, project)
    else:
        raise BadAnswer(f"a {answer.content_type} document, not a simple index page")
    return [link for link in links if not link.url.lower().startswith("file:")]


def dist_files(project: str, links: list[Link]) -> list[tuple[DistFile, Link]]:
    """The project's files among the links (as pip, other projects' files are ignored)."""
    found = []
    for link in links:
        version = file_version(link.filename, project)
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


async def release_payload(
    http: HttpClient,
    project: str,
    version: str,
    links: list[Link],
    index_label: str,
    missing_message: str,
) -> dict[str, Any]:
    """The normalised release of `version` from a project page's links."""
    files = [
        (d, link) for d, link in dist_files(project, links) if same_version(d.version, version)
    ]
    if not files:
        raise VersionNotFound(missing_message)
    offers = [
        MetadataOffer(
            d,
            bool(link.metadata),
            link.metadata.get("sha256") if isinstance(link.metadata, dict) else None,
        )
        for d, link in files
    ]
    dependencies = await read_dependencies(http, offers, project, files[0][0].version)
    return {
        "project": project,
        "version": files[0][0].version,
        "files": [file_to_json(d) for d, _ in files],
        "requires_dist": None
        if dependencies.requires_dist is None
        else list(dependencies.requires_dist),
        "requires_dist_exact": True,
        "dependencies_note": None
        if dependencies.requires_dist is not None
        else dependencies.source,
        "index_url": index_label,
    }


class Page(NamedTuple):
    status: int
    etag: str | None
    links: list[Link]


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
        label: str | None = None,
    ) -> None:
        bare = http.register(index_url.rstrip("/"))
        shown = redact_url(label or index_url)
        super().__init__(
            http=http,
            owns_http=owns_http,
            cache_key_url=cache_key("simple", index_url, label),
            display_url=shown,
            cache=cache,
            offline=offline,
        )
        self.index_url = bare

    def page_url(self, name: str) -> str:
        return f"{self.index_url}/{name}/"

    async def page(self, name: str, etag: str | None = None, version: str | None = None) -> Page:
        """The project page's links (only those that may be of `version`, when given); a 304
        gives none; a 404 is ProjectNotFound. The page's bytes are not kept: callers go on
        to ask for metadata while hundreds of pages would otherwise stay in memory."""
        url = self.page_url(name)
        if etag is not None:
            answer = await self._http.get(url, accept=SIMPLE_ACCEPT, etag=etag)
        else:
            answer = await self._get_once(url, accept=SIMPLE_ACCEPT)
        if answer.status == 404:
            raise ProjectNotFound(f"{self.display_url}: no project named {name!r}")
        if answer.status == 304:
            return Page(304, answer.etag, [])
        if answer.status != 200:
            raise self._bad(answer.url, BadAnswer(f"HTTP {answer.status}"))
        try:
            return Page(200, answer.etag, links_of(answer, name, version))
        except BadAnswer as problem:
            raise self._bad(answer.url, problem) from None

    async def _fetch_release(self, name: str, version: str, previous: CacheEntry | None) -> Fetched:
        etag = previous.etag if previous is not None else None
        page = await self.page(name, etag, version)
        if page.status == 304:
            return Fetched(None)
        payload = await release_payload(
            self._http,
            name,
            version,
            page.links,
            self.display_url,
            f"{self.display_url}: {name} has no files for version {version}",
        )
        return Fetched(payload, page.etag, "page")

    async def _fetch_project(self, name: str, previous: CacheEntry | None) -> Fetched:
        page = await self.page(name, previous.etag if previous is not None else None)
        if page.status == 304:
            return Fetched(None)
        files = [file_to_json(d) for d, _ in dist_files(name, page.links)]
        return Fetched(files, page.etag, "page")
