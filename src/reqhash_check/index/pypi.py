"""The Warehouse JSON API (pypi.org, test.pypi.org, and anything that serves the same shape)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

from reqhash_check.index.base import (
    DistFile,
    IndexUnavailable,
    ProjectNotFound,
    VersionNotFound,
)
from reqhash_check.index.cache import (
    CacheEntry,
    CachingIndex,
    Fetched,
    ReleaseCache,
    file_to_json,
)
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

PYPI_HOSTS = frozenset({"pypi.org", "test.pypi.org", "www.pypi.org"})


def is_pypi_simple_url(index_url: str) -> bool:
    """True for pypi.org's (or test.pypi.org's) Simple API URL: its JSON API is used instead."""
    parts = urlsplit(index_url)
    host = (parts.hostname or "").lower()
    return host in PYPI_HOSTS and parts.path.rstrip("/") in ("/simple", "")


def pypi_base_url(index_url: str) -> str:
    """`https://pypi.org/simple/` → `https://pypi.org` (credentials kept)."""
    parts = urlsplit(index_url)
    return f"{parts.scheme}://{parts.netloc}"


class _NotPyPIJson(Exception):
    pass


def _dist_file(entry: Any, version: str, page_url: str) -> tuple[dict[str, Any], Any]:
    """One `urls[]`/`releases[v][]` entry → (normalised file, its core-metadata flag)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("filename"), str):
        raise _NotPyPIJson
    yanked = bool(entry.get("yanked", False))
    reason = entry.get("yanked_reason") if yanked else None
    requires_python = entry.get("requires_python")
    dist = DistFile(
        filename=entry["filename"],
        version=version,
        url=urljoin(page_url, str(entry.get("url") or "")),
        hashes=keep_hashes(entry.get("digests")),
        requires_python=requires_python if isinstance(requires_python, str) else None,
        yanked=yanked,
        yanked_reason=(reason.strip() or None) if isinstance(reason, str) else None,
        size=stated_size(entry.get("size")),
        upload_time=stated_time(entry.get("upload_time_iso_8601")),
    )
    metadata = entry.get("core-metadata", entry.get("data-dist-info-metadata"))
    return file_to_json(dist), metadata


def _decode(answer: HttpAnswer) -> dict[str, Any]:
    try:
        data = json.loads(answer.content)
    except ValueError:
        raise _NotPyPIJson from None
    if not isinstance(data, dict) or not isinstance(data.get("info"), dict):
        raise _NotPyPIJson
    return data


class PyPIJsonIndex(CachingIndex):
    """Asks `{base}/pypi/<name>/<version>/json`, falling back to `{base}/pypi/<name>/json`."""

    def __init__(
        self,
        base_url: str,
        http: HttpClient,
        *,
        cache: ReleaseCache | None = None,
        offline: bool = False,
        display_url: str | None = None,
        owns_http: bool = False,
    ) -> None:
        bare = http.register(base_url.rstrip("/"))
        super().__init__(
            http=http,
            owns_http=owns_http,
            cache_key_url=f"pypi-json:{bare}",
            display_url=redact_url(display_url or base_url),
            cache=cache,
            offline=offline,
        )
        self.base_url = bare

    def _project_url(self, name: str) -> str:
        return f"{self.base_url}/pypi/{name}/json"

    def _version_url(self, name: str, version: str) -> str:
        return f"{self.base_url}/pypi/{name}/{quote(version.strip(), safe='')}/json"

    def _bad_answer(self, url: str) -> IndexUnavailable:
        return IndexUnavailable(
            f"{self._http.shown(url)} answered with something that is not a PyPI JSON response"
        )

    async def _project_document(self, name: str) -> HttpAnswer:
        """The project JSON, fetched once per run however many releases ask for it."""
        return await self._get_once(self._project_url(name))

    async def _fetch_release(self, name: str, version: str, previous: CacheEntry | None) -> Fetched:
        if previous is not None and previous.source_url:
            answer = await self._http.get(previous.source_url, etag=previous.etag)
            if answer.status == 304:
                return Fetched(None)
            if answer.status == 200:
                from_project = previous.source_url == self._project_url(name)
                return await self._release_from(answer, name, version, from_project=from_project)
        answer = await self._http.get(self._version_url(name, version))
        if answer.status == 200:
            return await self._release_from(answer, name, version, from_project=False)
        # Not there, or a mirror that serves only the project JSON: ask that before concluding.
        answer = await self._project_document(name)
        if answer.status == 404:
            raise ProjectNotFound(f"{self.display_url}: no project named {name!r}")
        return await self._release_from(answer, name, version, from_project=True)

    async def _release_from(
        self, answer: HttpAnswer, name: str, version: str, *, from_project: bool
    ) -> Fetched:
        try:
            data = _decode(answer)
            if from_project:
                payload = await self._from_project_json(data, answer.url, name, version)
            else:
                payload = await self._from_version_json(data, answer.url, name)
        except _NotPyPIJson:
            raise self._bad_answer(answer.url) from None
        source = self._project_url(name) if from_project else self._version_url(name, version)
        return Fetched(payload, answer.etag, source)

    async def _from_version_json(self, data: dict[str, Any], url: str, name: str) -> dict[str, Any]:
        info = data["info"]
        published = str(info.get("version") or "")
        entries = data.get("urls")
        if not published or not isinstance(entries, list):
            raise _NotPyPIJson
        files = [_dist_file(e, published, url) for e in entries]
        requires = info.get("requires_dist")
        requires_dist = await self._requires_dist(requires, files)
        return self._payload(name, published, files, *requires_dist)

    async def _from_project_json(
        self, data: dict[str, Any], url: str, name: str, version: str
    ) -> dict[str, Any]:
        releases = data.get("releases")
        if not isinstance(releases, dict):
            raise _NotPyPIJson
        matches = [v for v, entries in releases.items() if entries and same_version(v, version)]
        if not matches:
            raise VersionNotFound(f"{self.display_url}: {name} has no release {version}")
        published = matches[0]
        entries = releases[published]
        if not isinstance(entries, list):
            raise _NotPyPIJson
        files = [_dist_file(e, published, url) for e in entries]
        info = data["info"]
        latest = str(info.get("version") or "")
        if latest and same_version(latest, published):
            requires_dist = await self._requires_dist(info.get("requires_dist"), files)
        else:
            requires_dist = await self._requires_dist(None, files)
        return self._payload(name, published, files, *requires_dist)

    async def _requires_dist(
        self, stated: Any, files: list[tuple[dict[str, Any], Any]]
    ) -> tuple[list[str] | None, bool]:
        """The dependencies, and whether they come from a file's own metadata."""
        # A wheel's own metadata is what pip reads when it installs that wheel. The JSON
        # API's info.requires_dist comes from whichever file was uploaded first and can
        # differ (an sdist's PKG-INFO may still list a dependency the wheels dropped), and
        # null there can mean "no dependencies" as well as "unknown".
        with_metadata = [(f, m) for f, m in files if m]
        with_metadata.sort(key=lambda fm: not fm[0]["filename"].endswith(".whl"))
        for dist, flag in with_metadata[:1]:
            expected = flag.get("sha256") if isinstance(flag, dict) else None
            found = await fetch_requires_dist(self._http, dist["url"], expected)
            if found is not None:
                return list(found), True
        if isinstance(stated, list):
            return [str(r) for r in stated], False
        return None, True

    def _payload(
        self,
        name: str,
        published: str,
        files: list[tuple[dict[str, Any], Any]],
        requires_dist: list[str] | None,
        requires_dist_exact: bool,
    ) -> dict[str, Any]:
        return {
            "project": name,
            "version": published,
            "files": [f for f, _ in files],
            "requires_dist": requires_dist,
            "requires_dist_exact": requires_dist_exact,
            "index_url": self.display_url,
        }

    async def _fetch_project(self, name: str, previous: CacheEntry | None) -> Fetched:
        if previous is not None:
            answer = await self._http.get(self._project_url(name), etag=previous.etag)
            if answer.status == 304:
                return Fetched(None)
        else:
            answer = await self._project_document(name)
        if answer.status == 404:
            raise ProjectNotFound(f"{self.display_url}: no project named {name!r}")
        try:
            data = _decode(answer)
            releases = data.get("releases")
            if not isinstance(releases, dict):
                raise _NotPyPIJson
            files = [
                _dist_file(entry, version, answer.url)[0]
                for version, entries in releases.items()
                for entry in (entries if isinstance(entries, list) else ())
            ]
        except _NotPyPIJson:
            raise self._bad_answer(answer.url) from None
        return Fetched(files, answer.etag, self._project_url(name))
