"""pypi.org (and anything that serves the Warehouse JSON API).

A release is asked of the per-version JSON API, `{base}/pypi/<name>/<version>/json`: one
small document with the version's files and its dependencies. Some mirrors do not serve
that endpoint; the first time a 404 there turns out to be a version that exists, the run
stops asking it and reads releases from the project's Simple API page (PEP 691 JSON, half
the size of the project JSON), falling back to the project JSON when there is no page.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote, urljoin

from reqhash_check.index.answers import (
    BadAnswer,
    digests,
    expect_project,
    load_json,
    optional_str,
    same_version,
    stated_size,
    stated_time,
)
from reqhash_check.index.base import DistFile, IndexUnavailable, ProjectNotFound, VersionNotFound
from reqhash_check.index.cache import CacheEntry, ReleaseCache
from reqhash_check.index.caching import CachingIndex, Fetched
from reqhash_check.index.http import HttpAnswer, HttpClient
from reqhash_check.index.metadata import MetadataOffer, read_dependencies
from reqhash_check.index.simple import (
    MAX_TEXT,
    SimpleIndex,
    dist_files,
    dist_name_version,
    release_payload,
)
from reqhash_check.index.stored import file_to_json
from reqhash_check.urls import cache_key, redact_url


def _dist_file(entry: Any, version: str, page_url: str) -> tuple[DistFile, Any]:
    """One `urls[]`/`releases[v][]` entry → (file, its core-metadata flag)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("filename"), str):
        raise BadAnswer("a file entry without a filename")
    yanked = bool(entry.get("yanked", False))
    reason = optional_str(entry.get("yanked_reason")) if yanked else None
    requires_python = optional_str(entry.get("requires_python"))
    dist = DistFile(
        filename=entry["filename"],
        version=version,
        url=urljoin(page_url, str(entry.get("url") or "")),
        hashes=digests(entry.get("digests"), required=True),
        requires_python=requires_python[:MAX_TEXT] if requires_python else None,
        yanked=yanked,
        yanked_reason=(reason.strip()[:MAX_TEXT] or None) if reason else None,
        size=stated_size(entry.get("size")),
        upload_time=stated_time(entry.get("upload_time_iso_8601")),
    )
    return dist, entry.get("core-metadata", entry.get("data-dist-info-metadata"))


def _belongs(files: list[tuple[DistFile, Any]], name: str) -> list[tuple[DistFile, Any]]:
    """Drop files whose names say they are another project's or another version's (files
    whose names cannot be read, such as old installers, stay: pip ignores them anyway)."""
    kept = []
    for dist, flag in files:
        parsed = dist_name_version(dist.filename)
        if parsed is None or (parsed[0] == name and same_version(parsed[1], dist.version)):
            kept.append((dist, flag))
    return kept


def _document(answer: HttpAnswer, project: str) -> dict[str, Any]:
    data = load_json(answer.content)
    if not isinstance(data, dict) or not isinstance(data.get("info"), dict):
        raise BadAnswer("something that is not a PyPI JSON document")
    expect_project(data["info"].get("name"), project)
    return data


def _offers(files: list[tuple[DistFile, Any]]) -> list[MetadataOffer]:
    return [
        MetadataOffer(d, bool(flag), flag.get("sha256") if isinstance(flag, dict) else None)
        for d, flag in files
    ]


class PyPIJsonIndex(CachingIndex):
    def __init__(
        self,
        base_url: str,
        http: HttpClient,
        *,
        cache: ReleaseCache | None = None,
        offline: bool = False,
        display_url: str | None = None,
        owns_http: bool = False,
        label: str | None = None,
    ) -> None:
        bare = http.register(base_url.rstrip("/"))
        super().__init__(
            http=http,
            owns_http=owns_http,
            cache_key_url=cache_key("pypi-json", base_url, label),
            display_url=redact_url(label or display_url or base_url),
            cache=cache,
            offline=offline,
        )
        self.base_url = bare
        self._pages = SimpleIndex(f"{bare}/simple", http, label=self.display_url)
        self._version_endpoint: bool | None = None
        """Whether the index serves the per-version endpoint: None until the first answer
        says (a 200, or a 404 for a version the project page then shows)."""
        self._probing: asyncio.Lock | None = None

    async def aclose(self) -> None:
        await self._pages.aclose()
        await super().aclose()

    def _project_url(self, name: str) -> str:
        return f"{self.base_url}/pypi/{name}/json"

    def _version_url(self, name: str, version: str) -> str:
        return f"{self.base_url}/pypi/{name}/{quote(version.strip(), safe='')}/json"

    async def _fetch_release(self, name: str, version: str, previous: CacheEntry | None) -> Fetched:
        if previous is not None and previous.document == "version":
            answer = await self._http.get(self._version_url(name, version), etag=previous.etag)
            if answer.status == 304:
                return Fetched(None)
            if answer.status == 200:
                return await self._from_version_json(answer, name, version)
        elif previous is not None and previous.document == "page":
            return await self._from_page(name, version, previous)
        if self._version_endpoint is None:
            # The first release asks alone; the others wait for what it learns, so a mirror
            # without the endpoint costs one 404, not one per requirement.
            self._probing = self._probing or asyncio.Lock()
            async with self._probing:
                if self._version_endpoint is None:
                    return await self._per_version(name, version, previous)
        if self._version_endpoint:
            return await self._per_version(name, version, previous)
        return await self._from_page(name, version, previous)

    async def _per_version(self, name: str, version: str, previous: CacheEntry | None) -> Fetched:
        answer = await self._http.get(self._version_url(name, version))
        if answer.status == 200:
            self._version_endpoint = True
            return await self._from_version_json(answer, name, version)
        found = await self._from_page(name, version, previous)
        if found.payload is not None:
            self._version_endpoint = False  # the version exists: the endpoint is not served
        return found

    async def _from_page(self, name: str, version: str, previous: CacheEntry | None) -> Fetched:
        etag = previous.etag if previous is not None and previous.document == "page" else None
        try:
            page = await self._pages.page(name, etag, version)
        except ProjectNotFound:
            return await self._from_project_json(name, version)
        if page.status == 304:
            return Fetched(None)
        payload = await release_payload(
            self._http,
            name,
            version,
            page.links,
            self.display_url,
            f"{self.display_url}: {name} has no release {version}",
        )
        return Fetched(payload, page.etag, "page")

    async def _from_version_json(self, answer: HttpAnswer, name: str, version: str) -> Fetched:
        try:
            data = _document(answer, name)
            published = data["info"].get("version")
            if not isinstance(published, str) or not same_version(published, version):
                raise BadAnswer(f"a release other than the {version} asked for")
            entries = data.get("urls")
            if not isinstance(entries, list):
                raise BadAnswer("a release without a list of files")
            files = _belongs([_dist_file(e, published, answer.url) for e in entries], name)
        except BadAnswer as problem:
            raise self._bad(answer.url, problem) from None
        stated = data["info"].get("requires_dist")
        payload = await self._payload(name, published, files, stated)
        return Fetched(payload, answer.etag, "version")

    async def _from_project_json(self, name: str, version: str) -> Fetched:
        answer = await self._get_once(self._project_url(name))
        if answer.status == 404:
            raise ProjectNotFound(f"{self.display_url}: no project named {name!r}")
        try:
            data = _document(answer, name)
            releases = data.get("releases")
            if not isinstance(releases, dict):
                raise BadAnswer("a project document without releases")
            matches = [v for v, entries in releases.items() if entries and same_version(v, version)]
            if not matches:
                raise VersionNotFound(f"{self.display_url}: {name} has no release {version}")
            published = matches[0]
            entries = releases[published]
            if not isinstance(entries, list):
                raise BadAnswer("a release without a list of files")
            files = _belongs([_dist_file(e, published, answer.url) for e in entries], name)
        except BadAnswer as problem:
            raise self._bad(answer.url, problem) from None
        info = data["info"]
        latest = info.get("version")
        stated = info.get("requires_dist") if latest == published else None
        etag = answer.etag
        del data, answer, releases, info  # the whole project's document, before metadata
        payload = await self._payload(name, published, files, stated)
        return Fetched(payload, etag, "project")

    async def _payload(
        self, name: str, published: str, files: list[tuple[DistFile, Any]], stated: Any
    ) -> dict[str, Any]:
        # A file's own metadata is what pip reads when it installs that file. The JSON API's
        # info.requires_dist comes from whichever file was uploaded first and can differ,
        # and null there can mean "no dependencies" as well as "unknown".
        dependencies = await read_dependencies(self._http, _offers(files), name, published)
        requires: list[str] | None = None
        exact = True
        if dependencies.requires_dist is not None:
            requires = list(dependencies.requires_dist)
        elif isinstance(stated, list) and all(isinstance(r, str) for r in stated):
            requires, exact = list(stated), False
        return {
            "project": name,
            "version": published,
            "files": [file_to_json(f) for f, _ in files],
            "requires_dist": requires,
            "requires_dist_exact": exact,
            "dependencies_note": None if requires is not None else dependencies.source,
            "index_url": self.display_url,
        }

    async def _fetch_project(self, name: str, previous: CacheEntry | None) -> Fetched:
        etag = previous.etag if previous is not None and previous.document == "page" else None
        try:
            page = await self._pages.page(name, etag)
        except ProjectNotFound:
            raise
        except IndexUnavailable:
            return await self._project_files_from_json(name)
        if page.status == 304:
            return Fetched(None)
        return Fetched(
            [file_to_json(d) for d, _ in dist_files(name, page.links)], page.etag, "page"
        )

    async def _project_files_from_json(self, name: str) -> Fetched:
        answer = await self._get_once(self._project_url(name))
        if answer.status == 404:
            raise ProjectNotFound(f"{self.display_url}: no project named {name!r}")
        try:
            releases = _document(answer, name).get("releases")
            if not isinstance(releases, dict):
                raise BadAnswer("a project document without releases")
            files = [
                file_to_json(_dist_file(entry, version, answer.url)[0])
                for version, entries in releases.items()
                for entry in (entries if isinstance(entries, list) else ())
            ]
        except BadAnswer as problem:
            raise self._bad(answer.url, problem) from None
        return Fetched(files, answer.etag, "project")
