"""Shared HTTP plumbing for the index clients: connection pools, retries, credentials, bounds.

Every message this module produces goes through `redact_url`, so credentials
taken from an index URL or from netrc are sent to the index but never printed; and
they go only to the origin (scheme, host, port) they were given for (`_IndexAuth`).

An index may be hostile, so every answer is bounded: each attempt has a total
deadline (a body that drips one byte at a time still ends), and the decoded body
is capped while it streams in (a gzip bomb stops at the cap, not in memory).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import importlib.util
import math
import netrc
import os
import re
import sys
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from reqhash_check import __version__, watch
from reqhash_check.index.base import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, IndexUnavailable
from reqhash_check.urls import (
    Origin,
    redact_url,
    split_credentials,
    url_origin,
    without_userinfo,
)

if TYPE_CHECKING:
    import ssl
    from http.cookiejar import CookieJar

    import httpx

USER_AGENT = f"reqhash-check/{__version__} (+https://pypi.org/project/reqhash-check/)"

MIB = 1024 * 1024
MAX_ANSWER_BYTES = 64 * MIB
"""The largest decoded answer read from an index. PyPI's largest project pages (Simple JSON
or project JSON of projects with thousands of files) are a few MiB to tens of MiB."""


def _host_key(url: str) -> str:
    """A host and port, as connections go: the key of the dead-host memo."""
    origin = url_origin(url)
    return f"{origin.host}:{origin.port or ''}" if origin is not None else url


@dataclass(frozen=True)
class HttpSettings:
    timeout: float = DEFAULT_TIMEOUT
    """Seconds one attempt may take in all (connect, send, the whole body)."""
    concurrency: int = DEFAULT_CONCURRENCY
    retries: int = 3
    """Retries after the first attempt, on timeouts, connection errors, 429 and 5xx."""
    backoff: float = 0.5
    """First wait between attempts; doubles each time."""
    max_wait: float = 30.0
    """No single wait (backoff or Retry-After) is longer than this."""
    max_bytes: int = MAX_ANSWER_BYTES
    """The largest decoded body accepted; a longer one is an index failure."""
    use_netrc: bool = True
    """False for indexes named by an untrusted file: only credentials in their own URL."""
    netrc_hosts: frozenset[str] | None = None
    """With use_netrc, the only hosts (lower-case) netrc credentials go to; None: any."""


KEPT_DECODED = 256 * 1024
"""A compressed body that decodes to at most this is kept decoded; a larger one is kept as
it came, a fraction of its size, and decoded when it is read (see `HttpAnswer.content`)."""


@dataclass(frozen=True)
class HttpAnswer:
    """An answer the caller has to interpret: 200, 206, 304 or 404."""

    url: str
    status: int
    raw: bytes
    """The body as received: compressed (in `encoding`) when it is large."""
    headers: Mapping[str, str]
    encoding: str = ""
    """The Content-Encoding `raw` is still in; "" when it is the body itself."""
    limit: int = 0
    """The cap the body was checked against as it streamed in."""

    @property
    def content(self) -> bytes:
        """The decoded body. A large page waits to be read compressed, so memory follows
        neither how many pages are in flight nor how many releases they list; it was checked
        against the cap (and for damage) as it streamed in, so decoding it again succeeds."""
        if not self.encoding:
            return self.raw
        decoder = BoundedDecoder(self.encoding, self.limit)
        decoder.feed(self.raw)
        return decoder.finish()

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


_DIGITS = re.compile(r"[0-9]{1,10}")


def retry_after_seconds(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds asked for by a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if _DIGITS.fullmatch(value):  # ASCII digits only: "²".isdigit() is true
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        return None
    try:
        seconds = when.timestamp() - (time.time() if now is None else now)
    except (OverflowError, OSError, ValueError):
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


class AnswerTooLarge(Exception):
    pass


class BoundedDecoder:
    """Content-Encoding decoding with a hard cap on the output, chunk by chunk. With `keep`,
    the output is kept only while it is at most that long (`finish` then gives None once it
    was longer): the decoding only checks the body."""

    def __init__(self, encoding: str, limit: int, *, keep: int | None = None) -> None:
        encoding = encoding.strip().lower()
        self._zlib: zlib._Decompress | None
        if encoding in ("", "identity"):
            self._zlib = None
        elif encoding in ("gzip", "x-gzip"):
            self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._zlib = zlib.decompressobj()
        else:
            raise ValueError(f"unsupported content encoding {encoding!r}")
        self._limit = limit
        self._keep_up_to = limit if keep is None else keep
        self._size = 0
        self._fed = False
        self.parts: list[bytes] = []

    def feed(self, data: bytes) -> None:
        if self._zlib is None:
            self._keep(data)
            return
        decompressor = self._zlib
        self._fed = self._fed or bool(data)
        while data:
            room = self._limit - self._size + 1
            try:
                out = decompressor.decompress(data, room)
            except zlib.error as exc:
                raise ValueError("the compressed answer is damaged") from exc
            self._keep(out)
            data = decompressor.unconsumed_tail
            if decompressor.eof:
                break

    def _keep(self, data: bytes) -> None:
        self._size += len(data)
        if self._size > self._limit:
            raise AnswerTooLarge
        if self._size <= self._keep_up_to:
            self.parts.append(data)
        else:
            self.parts.clear()

    def checked(self) -> bytes | None:
        """The decoded output if it was kept, after checking the end of the stream."""
        if self._zlib is not None:
            self._keep(self._zlib.flush())
            if self._fed and not self._zlib.eof:  # an empty body is an empty answer
                raise ValueError("the compressed answer is damaged (cut short)")
        return b"".join(self.parts) if self._size <= self._keep_up_to else None

    def finish(self) -> bytes:
        decoded = self.checked()
        assert decoded is not None, "finish() is for a decoder that keeps its output"
        return decoded


_MIN_SHOWN_SECRET = 4
"""A shorter password is not replaced in messages: "pw" would garble them."""


class _IndexAuth:
    """Basic auth by origin (scheme, host, port), as an httpx auth callable: each request,
    and each hop of a redirect, carries only the credentials given for its own origin.

    Credentials written in an index URL go to that URL's origin and nowhere else (not to
    the same host over another scheme or port). netrc, keyed by host alone, is bound the
    same way: its entry for a host (or its default entry) goes to the origin of an index
    named on the command line or in pip's configuration; other URLs on that host (files,
    redirect targets) get the host's own entry, never the default one, and only over https.
    pip keys credentials by host and port, so after an https page sent it to plain http on
    the same host it would send them in clear; this never does."""

    def __init__(self, use_netrc: bool = True, netrc_hosts: frozenset[str] | None = None) -> None:
        self._given: dict[Origin, tuple[str, str]] = {}
        self._trusted: set[Origin] = set()
        self._netrc: netrc.netrc | None = None
        self._netrc_loaded = not use_netrc
        self._netrc_hosts = netrc_hosts

    def remember(self, origin: Origin, credentials: tuple[str, str], *, trusted: bool) -> None:
        """Credentials from an untrusted file's URL never replace ones given for the origin."""
        if trusted or origin not in self._given:
            self._given[origin] = credentials

    def trust(self, origin: Origin) -> None:
        self._trusted.add(origin)

    def has_credentials(self, url: str) -> bool:
        return url_origin(url) in self._given

    def secrets(self) -> set[str]:
        """The passwords (or lone tokens) given, as written and percent-encoded."""
        found = set()
        for user, password in self._given.values():
            secret = password or user
            if len(secret) >= _MIN_SHOWN_SECRET:
                found |= {secret, quote(secret, safe=""), quote(secret)}
        return found

    def _netrc_file(self) -> netrc.netrc | None:
        if not self._netrc_loaded:
            self._netrc_loaded = True
            path = os.environ.get("NETRC") or str(Path.home() / ".netrc")
            watch.path(path)
            try:
                self._netrc = netrc.netrc(path)
            except (OSError, netrc.NetrcParseError, UnicodeError):
                self._netrc = None
        return self._netrc

    def credentials_for(self, url: str) -> tuple[str, str] | None:
        origin = url_origin(url)
        if origin is None:
            return None
        given = self._given.get(origin)
        if given is not None:
            return given
        if origin not in self._trusted and origin.scheme != "https":
            return None
        if self._netrc_hosts is not None and origin.host not in self._netrc_hosts:
            return None
        found = self._netrc_file()
        if found is None:
            return None
        entry = found.authenticators(origin.host) if origin in self._trusted else None
        entry = entry or found.hosts.get(origin.host)
        if not entry:
            return None
        login, _account, password = entry
        return login or "", password or ""

    def __call__(self, request: httpx.Request) -> httpx.Request:
        request.headers.pop("Authorization", None)
        credentials = self.credentials_for(str(request.url))
        if credentials is not None:
            token = base64.b64encode(":".join(credentials).encode()).decode("ascii")
            request.headers["Authorization"] = f"Basic {token}"
        return request


def _httpx() -> ModuleType:
    import httpx  # imported with the first request: a run answered from the cache needs none

    global _SNIFFIO_CHECKED
    if not _SNIFFIO_CHECKED:
        _SNIFFIO_CHECKED = True
        # httpcore tries `import sniffio` on every request; when it is not installed, each
        # try searches the whole of sys.path again (most of a cold run's CPU time). An
        # absent module marked as such in sys.modules fails at once, and the same way.
        if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
            sys.modules["sniffio"] = None  # type: ignore[assignment]
    return httpx


_SNIFFIO_CHECKED = False

SPREAD_CONNECTIONS = 4
"""The most connections in one of the pools plain-http requests are spread over (see
`HttpClient._pool_for`)."""


_REDIRECTS = (301, 302, 303, 307, 308)
# A host that takes no connection is not asked again; a slow answer says nothing of the rest.
_UNTRUSTED = (
    "its TLS certificate is not trusted here (behind a proxy or a private CA? give its CA "
    "bundle in SSL_CERT_FILE)"
)
_UNREACHABLE = frozenset({"could not connect", "timed out connecting", _UNTRUSTED})
NOT_ASKED_AGAIN = "(not asked again, the host failed earlier in this run)"
_MAX_REDIRECTS = 5


@contextmanager
def _transport_problems(httpx: ModuleType, *, connect_timeout: str) -> Iterator[None]:
    """httpx's errors for one request as this client's: `_Fatal` for a URL it cannot ask,
    `_Transient` (with one line saying why) for what another attempt may get past."""
    try:
        yield
    except (httpx.UnsupportedProtocol, httpx.InvalidURL):
        raise _Fatal("not a usable URL") from None
    except httpx.ConnectTimeout:
        raise _Transient(connect_timeout) from None
    except httpx.TimeoutException:
        raise _Transient("timed out") from None
    except httpx.ConnectError as exc:
        raise _Transient(_connect_problem(exc)) from None
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
        raise _Transient("the connection broke") from None
    except httpx.HTTPError:
        raise _Transient("network error") from None


class HttpClient:
    """The connections of a whole run, shared by every index client: one pool, or for
    plain http with more than a few requests in flight, several small ones (`_pool_for`)."""

    def __init__(
        self,
        settings: HttpSettings | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        dead_hosts: dict[str, str] | None = None,
        gate: asyncio.Semaphore | None = None,
    ) -> None:
        self.settings = settings or HttpSettings()
        self._auth = _IndexAuth(self.settings.use_netrc, self.settings.netrc_hosts)
        self._untrusted: set[str] = set()
        self._transport = transport
        self._semaphore: asyncio.Semaphore | None = gate
        """Requests in flight at once (`concurrency`); clients of one run may share it
        (`gate`), so the run, not each client, keeps to --concurrency."""
        self._client: httpx.AsyncClient | None = None
        self._spread: list[httpx.AsyncClient | None] = []
        self._loads: list[int] = []
        """Requests in flight on each pool of `_spread` (see `_pool_for`)."""
        self._shared: tuple[ssl.SSLContext, CookieJar] | None = None
        self._dead: dict[str, str] = {} if dead_hosts is None else dead_hosts
        self._probes: dict[str, asyncio.Event] = {}
        """Host → why it is not asked again in this run: it refused connections (or took
        none in time) through every attempt; its other questions fail at once, not one by
        one. Clients of one run may share it (`dead_hosts`)."""

    def _new_pool(self, size: int) -> httpx.AsyncClient:
        module = _httpx()
        if self._shared is None:
            from http.cookiejar import CookieJar  # httpx has imported it

            # Every pool of the run verifies TLS alike (the CA bundle is read once) and
            # keeps one cookie jar, as one client would.
            self._shared = (module.create_ssl_context(), CookieJar())
        verify, cookies = self._shared
        client: httpx.AsyncClient = module.AsyncClient(
            headers={"User-Agent": USER_AGENT, "Accept-Encoding": "gzip"},
            timeout=module.Timeout(self.settings.timeout),
            follow_redirects=False,
            # HTTP/2 where the index offers it (ALPN, over TLS): every request to a host
            # on one connection, so one DNS lookup and one handshake, not one per
            # connection; pypi.org and its file host offer it.
            http2=importlib.util.find_spec("h2") is not None,
            transport=self._transport,
            verify=verify,
            cookies=cookies,
            # Every connection kept alive: with fewer (httpx keeps 20), connections
            # beyond them are closed when idle and opened again, TLS handshake and all.
            limits=module.Limits(max_connections=size, max_keepalive_connections=size),
        )
        return client

    def _pool(self) -> httpx.AsyncClient:
        """The pool of `concurrency` connections: https (and every request when a transport
        is given or `concurrency` is small)."""
        if self._client is None:
            self._client = self._new_pool(max(1, self.settings.concurrency))
        return self._client

    def _pool_for(self, url: str) -> tuple[httpx.AsyncClient, int]:
        """The pool that sends a request to `url`, and its slot for `_release` (-1: none).

        Plain http is HTTP/1.1, one connection for each request in flight; httpcore's pool
        looks over all its connections (and each of them over all the others) every time a
        request starts or ends: with one pool of 24, a third of a cold run's CPU. Such
        requests go to the least busy of several pools of `SPREAD_CONNECTIONS`, at least
        `concurrency` connections in all: the run's gate lets fewer requests than that be
        in flight, so the least busy pool always has a connection free and none waits.
        Nothing else differs between the pools: same settings, one TLS context, one cookie
        jar; credentials, redirects and the gate are this client's, whichever pool sends.
        Over TLS, HTTP/2 puts every request to a host on one connection (one DNS lookup,
        one handshake), so https keeps the one pool."""
        size = max(1, self.settings.concurrency)
        if size <= SPREAD_CONNECTIONS or self._transport is not None or url[:5].lower() != "http:":
            return self._pool(), -1
        loads = self._loads
        if not loads:
            count = -(-size // SPREAD_CONNECTIONS)
            self._spread = [None] * count
            loads.extend([0] * count)
        slot = loads.index(min(loads))
        client = self._spread[slot]
        if client is None:
            client = self._spread[slot] = self._new_pool(SPREAD_CONNECTIONS)
        loads[slot] += 1
        return client, slot

    def _release(self, slot: int) -> None:
        if slot >= 0:
            self._loads[slot] -= 1

    def register(self, url: str) -> str:
        """Remember credentials in `url` for its origin (and, unless the URL was named by an
        untrusted file, allow netrc's for it); return the URL without them."""
        bare, credentials = split_credentials(url)
        origin = url_origin(bare)
        if origin is None:
            return bare
        trusted = bare.rstrip("/") not in self._untrusted
        if credentials is not None:
            self._auth.remember(origin, credentials, trusted=trusted)
        if trusted:
            self._auth.trust(origin)
        return bare

    def distrust(self, url: str) -> None:
        """`url` was named by a file in the checked tree: when registered, netrc's credentials
        go to it only as to any other URL (its host's own entry, over https)."""
        self._untrusted.add(split_credentials(url)[0].rstrip("/"))

    def shown(self, url: str) -> str:
        """How a URL appears in messages: `****@` where credentials are in use, and any
        password this client sends as `****` (an index may redirect to a URL holding the
        one it was sent: a lock's own, which the run's backstop does not know)."""
        url = redact_url(url)
        for secret in sorted(self._auth.secrets(), key=len, reverse=True):
            url = url.replace(secret, "****")
        if "://****@" in url or not self._auth.has_credentials(url):
            return url
        scheme, sep, rest = url.partition("://")
        return f"{scheme}{sep}****@{rest}"

    async def get(
        self,
        url: str,
        *,
        accept: str | None = None,
        etag: str | None = None,
        byte_range: str | None = None,
        max_bytes: int | None = None,
    ) -> HttpAnswer:
        """GET with retries. Returns 200/206/304/404 answers; anything else raises
        IndexUnavailable with one line that says why."""
        headers: dict[str, str] = {}
        if accept:
            headers["Accept"] = accept
        if etag:
            headers["If-None-Match"] = etag
        if byte_range:
            headers["Range"] = byte_range
        settings = self.settings
        limit = settings.max_bytes if max_bytes is None else max_bytes
        attempts = settings.retries + 1
        problem = "no answer"
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(max(1, settings.concurrency))
        host = _host_key(url)
        probing = False
        try:
            for attempt in range(attempts):
                wait = settings.backoff * (2**attempt)
                if host in self._dead:
                    raise IndexUnavailable(
                        f"{self.shown(url)}: {self._dead[host]} {NOT_ASKED_AGAIN}"
                    )
                try:
                    async with self._semaphore:
                        answer = await asyncio.wait_for(
                            self._follow(url, headers, limit), timeout=settings.timeout
                        )
                except asyncio.TimeoutError:
                    problem = "timed out"
                except AnswerTooLarge:
                    raise IndexUnavailable(
                        f"{self.shown(url)}: the answer is larger than {limit // MIB or 1} MiB "
                        "(the cap for one index answer)"
                    ) from None
                except _Fatal as exc:
                    raise IndexUnavailable(f"{self.shown(url)}: {exc}") from None
                except _Transient as exc:
                    problem = str(exc)
                    if problem in _UNREACHABLE and not probing:
                        # One question finds out whether the host is down; the others wait
                        # for its verdict instead of each retrying a host that is gone.
                        probe = self._probes.get(host)
                        if probe is not None:
                            await probe.wait()
                            continue
                        self._probes[host] = asyncio.Event()
                        probing = True
                else:
                    status = answer.status
                    if status in (200, 206, 304, 404):
                        return answer
                    problem = f"HTTP {status}"
                    if status != 429 and status < 500:
                        raise IndexUnavailable(f"{self.shown(url)}: {problem}")
                    asked = retry_after_seconds(answer.headers.get("retry-after"))
                    if asked is not None:
                        wait = asked
                if attempt + 1 < attempts:
                    await asyncio.sleep(min(max(wait, 0.0), settings.max_wait))
            if problem in _UNREACHABLE:
                self._dead.setdefault(host, problem)
            plural = "attempt" if attempts == 1 else "attempts"
            raise IndexUnavailable(f"{self.shown(url)}: {problem} after {attempts} {plural}")
        finally:
            if probing:
                self._probes.pop(host).set()

    async def _follow(self, url: str, headers: dict[str, str], limit: int) -> HttpAnswer:
        """One attempt, following redirects hop by hop (httpx would read a redirect's whole
        body, uncapped); each hop is a new request whose credentials are its own origin's."""
        current = url
        for _ in range(_MAX_REDIRECTS + 1):
            answer = await self._once(current, headers, limit)
            if answer.status not in _REDIRECTS or "location" not in answer.headers:
                return answer
            current = str(_httpx().URL(current).join(answer.headers["location"]))
            if urlsplit(current).scheme not in ("http", "https"):
                raise _Fatal("redirected to a URL that is not http(s)")
        raise _Fatal("too many redirects")

    async def _once(self, url: str, headers: dict[str, str], limit: int) -> HttpAnswer:
        httpx = _httpx()
        # Credentials written into a link of an index answer are not used: only those
        # given on the command line, in pip's configuration or in netrc are.
        url = without_userinfo(url)
        pool, slot = self._pool_for(url)
        try:
            try:
                request = pool.build_request("GET", url, headers=headers)
            except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError, TypeError):
                raise _Fatal("not a usable URL") from None
            with _transport_problems(httpx, connect_timeout="timed out connecting"):
                response = await pool.send(request, stream=True, auth=self._auth)
                try:
                    status = response.status_code
                    collected = {k.lower(): v for k, v in response.headers.items()}
                    raw, encoding = b"", ""
                    if status in (200, 206, 404):
                        raw, encoding = await self._read(response, limit)
                    return HttpAnswer(str(response.url), status, raw, collected, encoding, limit)
                finally:
                    await response.aclose()
        finally:
            self._release(slot)

    async def _read(self, response: httpx.Response, limit: int) -> tuple[bytes, str]:
        """(body, the encoding it is still in): decoded as it streams in, against the cap;
        a large compressed body is kept as it came (see `HttpAnswer.content`)."""
        declared = response.headers.get("content-length", "")
        encoding = response.headers.get("content-encoding", "")
        if declared.isascii() and declared.isdigit() and not encoding and int(declared) > limit:
            raise AnswerTooLarge
        compressed = encoding.strip().lower() not in ("", "identity")
        try:
            decoder = BoundedDecoder(encoding, limit, keep=KEPT_DECODED if compressed else None)
        except ValueError as exc:
            raise _Fatal(str(exc)) from None
        received: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_raw():
                decoder.feed(chunk)
                if compressed:
                    size += len(chunk)
                    if size > limit:
                        raise AnswerTooLarge
                    received.append(chunk)
            decoded = decoder.checked()
        except ValueError as exc:
            raise _Transient(str(exc)) from None
        if decoded is not None:
            return decoded, ""
        return b"".join(received), encoding

    async def digests(
        self,
        url: str,
        algorithms: tuple[str, ...],
        max_bytes: int,
        on_bytes: Callable[[int], None] | None = None,
    ) -> Downloaded:
        """Download `url` as pip does (no content coding) and hash it as it streams in,
        keeping none of it: the bytes a target would get. Retries like `get`; raises
        IndexUnavailable with one line, or FileTooLarge past `max_bytes`."""
        settings = self.settings
        attempts = settings.retries + 1
        problem = "no answer"
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(max(1, settings.concurrency))
        loop = asyncio.get_running_loop()
        deadline: float | None = None  # the whole file, all attempts and redirects, in time
        for attempt in range(attempts):
            try:
                async with self._semaphore:
                    if deadline is None:
                        deadline = loop.time() + settings.timeout
                    current = url
                    for _ in range(_MAX_REDIRECTS + 1):
                        left = deadline - loop.time()
                        if left <= 0:
                            raise asyncio.TimeoutError
                        done = await asyncio.wait_for(
                            self._stream_once(current, algorithms, max_bytes, on_bytes),
                            timeout=left,
                        )
                        if isinstance(done, Downloaded):
                            return done
                        current = str(_httpx().URL(current).join(done))
                        if urlsplit(current).scheme not in ("http", "https"):
                            raise _Fatal("redirected to a URL that is not http(s)")
                    raise _Fatal("too many redirects")
            except asyncio.TimeoutError:
                # No attempt after the time is up: a body that drips costs the bound once.
                raise IndexUnavailable(
                    f"{self.shown(url)}: timed out (the whole file within {settings.timeout:g} s, "
                    f"{attempt + 1} {'attempt' if attempt == 0 else 'attempts'})"
                ) from None
            except _Fatal as exc:
                raise IndexUnavailable(f"{self.shown(url)}: {exc}") from None
            except _Transient as exc:
                problem = str(exc)
            if attempt + 1 < attempts:
                wait = min(settings.backoff * (2**attempt), settings.max_wait)
                if deadline is not None and loop.time() + wait >= deadline:
                    break
                await asyncio.sleep(wait)
        made = attempt + 1
        plural = "attempt" if made == 1 else "attempts"
        raise IndexUnavailable(f"{self.shown(url)}: {problem} after {made} {plural}")

    async def _stream_once(
        self,
        url: str,
        algorithms: tuple[str, ...],
        max_bytes: int,
        on_bytes: Callable[[int], None] | None,
    ) -> Downloaded | str:
        """The file's digests, or the Location a redirect names."""
        httpx = _httpx()
        # pip asks for the file as stored: its hash is of those bytes, not a decoded body.
        headers = {"Accept-Encoding": "identity"}
        url = without_userinfo(url)
        pool, slot = self._pool_for(url)
        try:
            try:
                request = pool.build_request("GET", url, headers=headers)
            except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError, TypeError):
                raise _Fatal("not a usable URL") from None
            hashers = {name: hashlib.new(name) for name in dict.fromkeys(("sha256", *algorithms))}
            with _transport_problems(httpx, connect_timeout="timed out"):
                response = await pool.send(request, stream=True, auth=self._auth)
                try:
                    status = response.status_code
                    if status in _REDIRECTS and "location" in response.headers:
                        return response.headers["location"]
                    if status == 429 or status >= 500:
                        raise _Transient(f"HTTP {status}")
                    if status != 200:
                        raise _Fatal(f"HTTP {status}")
                    declared = response.headers.get("content-length", "")
                    if declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
                        raise FileTooLarge(int(declared))
                    size = 0
                    async for chunk in response.aiter_raw():
                        size += len(chunk)
                        if size > max_bytes:
                            raise FileTooLarge(size)
                        for hasher in hashers.values():
                            hasher.update(chunk)
                        if on_bytes is not None:
                            on_bytes(len(chunk))
                    coding = response.headers.get("content-encoding", "").strip().lower()
                    return Downloaded(
                        str(response.url),
                        {name: hasher.hexdigest() for name, hasher in hashers.items()},
                        size,
                        "" if coding == "identity" else coding[:40],
                    )
                finally:
                    await response.aclose()
        finally:
            self._release(slot)

    async def aclose(self) -> None:
        clients = [self._client, *self._spread]
        self._client = None
        # The counts stay: a request still unwinding releases its slot after this.
        self._spread = [None] * len(self._spread)
        for client in clients:
            if client is not None:
                await client.aclose()


@dataclass(frozen=True)
class Downloaded:
    """A file as served: where it came from in the end, and its digests."""

    served_from: str
    digests: Mapping[str, str]
    size: int
    encoding: str = ""
    """A Content-Encoding sent although none was asked: the digests are of the bytes as
    sent (as pip's are), not decoded."""


class FileTooLarge(Exception):
    """A download past its cap; `size` is what was seen (declared or received)."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def _connect_problem(exc: httpx.ConnectError) -> str:
    """What a failed connection says to the person: a certificate this machine does not
    trust (a proxy or a private CA) is not "could not connect"."""
    return _UNTRUSTED if "CERTIFICATE_VERIFY_FAILED" in str(exc) else "could not connect"


class _Transient(Exception):
    """Worth another attempt."""


class _Fatal(Exception):
    """Another attempt would go the same way."""
