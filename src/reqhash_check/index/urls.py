"""Index URLs: how they are shown, which client asks them, and how the cache keys them.

Light on purpose: a run answered from the cache alone reads these without importing the
HTTP layer or starting an event loop.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

DEFAULT_INDEX_URL = "https://pypi.org/simple"
PYPI_HOSTS = frozenset({"pypi.org", "test.pypi.org", "www.pypi.org"})

# The authority's userinfo: everything between "//" and the last "@" before the path.
_USERINFO = re.compile(r"(?<=//)[^/?#\s]*@")
_ENV_VAR = re.compile(r"\$\{[A-Z0-9_]+\}")


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


_EXPANDED_KEY = secrets.token_bytes(32)
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
