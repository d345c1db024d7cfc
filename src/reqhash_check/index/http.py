"""Shared HTTP plumbing for the index clients: one connection pool, retries, credentials.

Every message this module produces goes through `redact_url`, so credentials
taken from an index URL or from netrc are sent to the index but never printed.
"""

from __future__ import annotations

import asyncio
import base64
import email.policy
import hashlib
import netrc
import os
import re
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx
from packaging.utils import canonicalize_name, canonicalize_version
from packaging.version import InvalidVersion, Version

from reqhash_check import __version__
from reqhash_check.index.base import IndexUnavailable, ProjectNotFound

USER_AGENT = f"reqhash-check/{__version__} (+https://pypi.org/project/reqhash-check/)"

_USERINFO = re.compile(r"(?<=//)[^/?#@\s]*@")


def redact_url(url: str) -> str:
    """The URL with any `user:pass@` (or token@) replaced by `****@`."""
    return _USERINFO.sub("****@", url)


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """Split `https://user:pass@host/path` into the bare URL and (user, password)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    bare = urlunsplit((parts.scheme, hostport, parts.path, parts.query, parts.fragment))
    return bare, (unquote(user), unquote(password))


def _host_key(url: httpx.URL | str) -> str:
    parsed = httpx.URL(url) if isinstance(url, str) else url
    return f"{parsed.host}:{parsed.port or ''}"


class _IndexAuth(httpx.Auth):
    """Basic auth per host: credentials from index URLs first, then netrc (like pip)."""

    def __init__(self, use_netrc: bool = True) -> None:
        self._by_host: dict[str, tuple[str, str]] = {}
        self._netrc: netrc.netrc | None = None
        self._netrc_loaded = not use_netrc

    def remember(self, url: str, credentials: tuple[str, str]) -> None:
        self._by_host[_host_key(url)] = credentials

    def has_credentials(self, url: str) -> bool:
        return _host_key(url) in self._by_host

    def _from_netrc(self, host: str) -> tuple[str, str] | None:
        if not self._netrc_loaded:
            self._netrc_loaded = True
            path = os.environ.get("NETRC") or str(Path.home() / ".netrc")
            try:
                self._netrc = netrc.netrc(path)
            except (OSError, netrc.NetrcParseError):
                self._netrc = None
        if self._netrc is None:
            return None
        found = self._netrc.authenticators(host)
        if not found:
            return None
        login, _account, password = found
        return login or "", password or ""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        credentials = self._by_host.get(_host_key(request.url)) or self._from_netrc(
            request.url.host
        )
        if credentials is not None:
            token = base64.b64encode(":".join(credentials).encode()).decode("ascii")
            request.headers["Authorization"] = f"Basic {token}"
        yield request


@dataclass(frozen=True)
class HttpSettings:
    timeout: float = 15.0
    """Seconds for connecting and for each read."""
    concurrency: int = 8
    retries: int = 3
    """Retries after the first attempt, on timeouts, connection errors, 429 and 5xx."""
    backoff: float = 0.5
    """First wait between attempts; doubles each time."""
    max_wait: float = 30.0
    """No single wait (backoff or Retry-After) is longer than this."""
    use_netrc: bool = True
    """False for indexes named by an untrusted file: only credentials in their own URL."""


@dataclass(frozen=True)
class HttpAnswer:
    """An answer the caller has to interpret: 200, 304 or 404."""

    url: str
    status: int
    content: bytes
    headers: Mapping[str, str]

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds asked for by a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


_TRANSPORT_PROBLEMS: tuple[tuple[type[Exception], str], ...] = (
    (httpx.TimeoutException, "timed out"),
    (httpx.ConnectError, "could not connect"),
    (httpx.RemoteProtocolError, "the connection broke"),
    (httpx.ReadError, "the connection broke"),
    (httpx.TooManyRedirects, "too many redirects"),
)


def _describe(exc: Exception) -> str:
    for kind, text in _TRANSPORT_PROBLEMS:
        if isinstance(exc, kind):
            return text
    return "network error"


class HttpClient:
    """One pool of connections for a whole run, shared by every index client."""

    def __init__(
        self,
        settings: HttpSettings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.settings = settings or HttpSettings()
        self._auth = _IndexAuth(self.settings.use_netrc)
        self._semaphore = asyncio.Semaphore(max(1, self.settings.concurrency))
        self._client = httpx.AsyncClient(
            headers={"User-Agent": USER_AGENT},
            timeout=httpx.Timeout(self.settings.timeout),
            follow_redirects=True,
            auth=self._auth,
            transport=transport,
            limits=httpx.Limits(max_connections=max(1, self.settings.concurrency)),
        )

    def register(self, url: str) -> str:
        """Remember credentials in `url` for its host; return the URL without them."""
        bare, credentials = split_credentials(url)
        if credentials is not None:
            self._auth.remember(bare, credentials)
        return bare

    def shown(self, url: str) -> str:
        """How a URL appears in messages: `****@` where credentials are in use."""
        url = redact_url(url)
        if "@" not in urlsplit(url).netloc and self._auth.has_credentials(url):
            scheme, sep, rest = url.partition("://")
            return f"{scheme}{sep}****@{rest}"
        return url

    async def get(
        self,
        url: str,
        *,
        accept: str | None = None,
        etag: str | None = None,
    ) -> HttpAnswer:
        """GET with retries. Returns 200/304/404 answers; anything else raises IndexUnavailable."""
        headers: dict[str, str] = {}
        if accept:
            headers["Accept"] = accept
        if etag:
            headers["If-None-Match"] = etag
        settings = self.settings
        attempts = settings.retries + 1
        problem = "no answer"
        for attempt in range(attempts):
            wait = settings.backoff * (2**attempt)
            try:
                async with self._semaphore:
                    response = await self._client.get(url, headers=headers)
            except (httpx.TooManyRedirects, httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
                problem = "too many redirects" if isinstance(exc, httpx.TooManyRedirects) else ""
                raise IndexUnavailable(
                    f"{self.shown(url)}: {problem or 'not a usable URL'}"
                ) from None
            except httpx.HTTPError as exc:
                problem = _describe(exc)
            else:
                status = response.status_code
                if status in (200, 304, 404):
                    return HttpAnswer(
                        url=str(response.url),
                        status=status,
                        content=response.content,
                        headers={k.lower(): v for k, v in response.headers.items()},
                    )
                problem = f"HTTP {status}"
                if status != 429 and status < 500:
                    raise IndexUnavailable(f"{self.shown(url)}: {problem}")
                asked = retry_after_seconds(response.headers.get("retry-after"))
                if asked is not None:
                    wait = asked
            if attempt + 1 < attempts:
                await asyncio.sleep(min(max(wait, 0.0), settings.max_wait))
        plural = "attempt" if attempts == 1 else "attempts"
        raise IndexUnavailable(f"{self.shown(url)}: {problem} after {attempts} {plural}")

    async def aclose(self) -> None:
        await self._client.aclose()


# --- shared by the index clients ------------------------------------------------

_VALID_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
HASH_ALGORITHMS = ("sha256", "sha384", "sha512")
"""The digests kept from an index's answer: the ones pip accepts in --hash."""


def normalize_project(project: str) -> str:
    """The PEP 503 name, after checking it is a valid name (so it is safe in a URL)."""
    if not _VALID_NAME.match(project):
        raise ProjectNotFound(f"{project!r} is not a valid project name")
    return canonicalize_name(project)


def parse_version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def same_version(published: str, pinned: str) -> bool:
    """PEP 440 equality (1.0 == 1.0.0), falling back to exact text for non-PEP 440 versions."""
    left, right = parse_version(published), parse_version(pinned)
    if left is None or right is None:
        return published.strip().lower() == pinned.strip().lower()
    return left == right


def version_key(text: str) -> str:
    """A cache key under which every spelling of one version lands."""
    parsed = parse_version(text)
    return canonicalize_version(parsed) if parsed is not None else text.strip().lower()


def keep_hashes(digests: object) -> dict[str, str]:
    if not isinstance(digests, Mapping):
        return {}
    return {
        algorithm: str(digest).lower()
        for algorithm, digest in digests.items()
        if algorithm in HASH_ALGORITHMS and isinstance(digest, str)
    }


def stated_size(value: object) -> int | None:
    """A file size as an index states it, or None when it is not a plain count of bytes."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**53:
        return value
    return None


def stated_time(value: object) -> str | None:
    """An ISO 8601 upload time as an index states it, or None when it is not one."""
    if isinstance(value, str) and 10 <= len(value) <= 40 and value[:4].isdigit():
        return value
    return None


def requires_dist_from_metadata(content: bytes) -> tuple[str, ...]:
    """The Requires-Dist headers of a core metadata file (PEP 658)."""
    message = BytesParser(policy=email.policy.compat32).parsebytes(content, headersonly=True)
    return tuple(str(value).strip() for value in message.get_all("Requires-Dist") or ())


async def fetch_requires_dist(
    http: HttpClient, file_url: str, expected_sha256: str | None
) -> tuple[str, ...] | None:
    """Dependencies from `<file url>.metadata`; None when it can't be had or doesn't verify."""
    metadata_url = file_url.split("#", 1)[0] + ".metadata"
    try:
        answer = await http.get(metadata_url)
    except IndexUnavailable:
        return None
    if answer.status != 200:
        return None
    if expected_sha256 and hashlib.sha256(answer.content).hexdigest() != expected_sha256.lower():
        return None
    return requires_dist_from_metadata(answer.content)
