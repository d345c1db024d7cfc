"""Index URLs: how they are shown, which client asks them, and how the cache keys them.

Light on purpose: a run answered from the cache alone reads these without importing the
HTTP layer or starting an event loop.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

DEFAULT_INDEX_URL = "https://pypi.org/simple"
PYPI_HOSTS = frozenset({"pypi.org", "test.pypi.org", "www.pypi.org"})

_ENV_VAR = re.compile(r"\$\{[A-Z0-9_]+\}")


def _parsed(url: str) -> SplitResult | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        return None
    return parts


def _replace_userinfo(url: str, replacement: str) -> str:
    """The URL with its userinfo (whatever it holds: spaces, `@`, `%20`) replaced whole, as
    urllib.parse reads the authority. A URL whose authority does not parse (a password with
    an unencoded `#`, `?` or `/` ends it early and leaves a port that is not a number) has
    everything up to its last `@` taken for userinfo: nothing of it is shown."""
    parts = _parsed(url)
    if parts is not None:
        if "@" not in parts.netloc:
            return url
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=replacement + host))
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    return f"{scheme}{sep}{replacement}{rest.rpartition('@')[2]}"


def redact_url(url: str) -> str:
    """The URL with any userinfo (`user:pass@`, `token@`) replaced by `****@`."""
    return _replace_userinfo(url, "****@")


def without_userinfo(url: str) -> str:
    """The URL with any userinfo dropped."""
    return _replace_userinfo(url, "")


class Origin(NamedTuple):
    """Where credentials may go: a scheme, a host and a port (the scheme's when not given)."""

    scheme: str
    host: str
    port: int | None


_DEFAULT_PORTS = {"http": 80, "https": 443}


def url_origin(url: str) -> Origin | None:
    """The URL's origin; None when it has no host or its authority does not parse."""
    parts = _parsed(url)
    if parts is None or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    return Origin(scheme, parts.hostname.lower(), parts.port or _DEFAULT_PORTS.get(scheme))


def split_credentials(url: str) -> tuple[str, tuple[str, str] | None]:
    """Split `https://user:pass@host/path` into the bare URL and (user, password)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    bare = urlunsplit((parts.scheme, hostport, parts.path, parts.query, parts.fragment))
    return bare, (unquote(user), unquote(password))


def url_host(url: str) -> str:
    """The lower-case host of a URL ("" when it has none)."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def local_path(url: str) -> Path | None:
    """The path a `file:` URL (or a plain path) names, or None for other schemes."""
    if url.startswith("file:"):
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            return None
        return Path(unquote(parts.path))
    if "://" in url:
        return None
    return Path(url)


def is_pypi_simple_url(index_url: str) -> bool:
    """True for pypi.org's (or test.pypi.org's) Simple API URL: its JSON API is used instead."""
    parts = urlsplit(index_url)
    host = (parts.hostname or "").lower()
    return host in PYPI_HOSTS and parts.path.rstrip("/") in ("/simple", "")


def pypi_base_url(index_url: str) -> str:
    """`https://pypi.org/simple/` → `https://pypi.org` (credentials kept)."""
    parts = urlsplit(index_url)
    return f"{parts.scheme}://{parts.netloc}"


def index_urls(index_url: str | None, extra_index_urls: Sequence[str]) -> list[str]:
    """The indexes asked, primary first, each once (a trailing slash does not make another)."""
    urls = [index_url or DEFAULT_INDEX_URL]
    for extra in extra_index_urls:
        if extra and extra.rstrip("/") not in {u.rstrip("/") for u in urls}:
            urls.append(extra)
    return urls


_EXPANDED_KEY = os.urandom(32)  # secrets.token_bytes, without importing secrets
"""Keys the digests of URLs built from environment values: new for every process, so no
row is ever shared between runs (whose values may differ) and a digest cannot be matched
against guessed values."""


def cache_key(api: str, url: str, label: str | None) -> str:
    """The cache's key for an index: its API ("simple", "pypi-json") and the URL as written
    (`label`, redacted) or, without one, the URL without its credentials. A URL built from
    an environment value (written with `${VAR}`, asked expanded) is keyed by a keyed digest
    of the expanded URL: neither the value nor the text as written, which would let runs
    with different values share rows."""
    if label and label != url and _ENV_VAR.search(label):
        digest = hmac.new(_EXPANDED_KEY, url.encode("utf-8", "replace"), hashlib.sha256)
        return f"{api}:expanded:{digest.hexdigest()}"
    where = redact_url(label).rstrip("/") if label else split_credentials(url.rstrip("/"))[0]
    return f"{api}:{where}"


def stored_api(index_url: str) -> tuple[str, str] | None:
    """(api, base URL) of the cached client that asks `index_url`; None for a folder or
    `file:` index, which is read from disk and never cached."""
    if local_path(index_url) is not None:
        return None
    if is_pypi_simple_url(index_url):
        return "pypi-json", pypi_base_url(index_url)
    return "simple", index_url


UNPARSED = "not a URL that can be read (its host or port does not parse)"


def url_parses(url: str) -> bool:
    """True when `urllib.parse` reads the URL and its port: a location that does not (an
    unclosed `[`, a port past 65535) is refused as an index failure, never an internal
    error."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (reading it raises for a port that does not parse)
    except ValueError:
        return False
    return True
