"""Environment values and credentials never reach an output: every string of a result
passes through here.

The reader expands `${VAR}` as pip does, and reports lines as written; URLs are shown with
their userinfo redacted. This is the backstop for any expanded value, or any password of
an index named on the command line or in pip's configuration, that still found its way into
a message, a hash or a path (an index answer can quote back what it was sent).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

from reqhash_check.index.urls import split_credentials

_T = TypeVar("_T")
MIN_SECRET_LENGTH = 3
"""Values shorter than this are not replaced: "1" or "on" would garble every message, and
cannot be secrets worth the name."""


def replacements(values: Mapping[str, str]) -> dict[str, str]:
    """value → `${NAME}` for each expanded variable, longest value first."""
    pairs = {v: f"${{{k}}}" for k, v in values.items() if len(v) >= MIN_SECRET_LENGTH}
    return dict(sorted(pairs.items(), key=lambda item: -len(item[0])))


MIN_CREDENTIAL_LENGTH = 4
"""A shorter password is not replaced: "pw" would garble every message it occurs in."""


def credential_replacements(urls: Iterable[str | None]) -> dict[str, str]:
    """password → `****` for each URL's password (as written and decoded), or its user when
    it has no password (a token); a plain user name is no secret, and may be in paths."""
    pairs: dict[str, str] = {}
    for url in urls:
        if not url:
            continue
        _, credentials = split_credentials(url)
        if credentials is None:
            continue
        user, password = credentials
        written = urlsplit(url).netloc.rpartition("@")[0]
        written = written.partition(":")[2] if password else written
        for secret in (password or user, written):
            if len(secret) >= MIN_CREDENTIAL_LENGTH:
                pairs[secret] = "****"
    return pairs


def combined(*tables: Mapping[str, str]) -> dict[str, str]:
    """One table, longest value first (a value inside another is replaced after it)."""
    merged = {value: name for table in tables for value, name in table.items()}
    return dict(sorted(merged.items(), key=lambda item: -len(item[0])))


def scrub_text(text: str, table: Mapping[str, str]) -> str:
    for value, name in table.items():
        if value in text:
            text = text.replace(value, name)
    return text


def scrub(obj: _T, table: Mapping[str, str]) -> _T:
    """A copy of `obj` (strings, tuples, lists, dicts, frozen dataclasses) with every expanded
    value replaced by its `${NAME}`."""
    if not table:
        return obj
    return _scrub(obj, table)  # type: ignore[no-any-return]


def _scrub(obj: Any, table: Mapping[str, str]) -> Any:
    if isinstance(obj, str):
        return scrub_text(obj, table)
    if isinstance(obj, tuple):
        return tuple(_scrub(item, table) for item in obj)
    if isinstance(obj, list):
        return [_scrub(item, table) for item in obj]
    if isinstance(obj, dict):
        return {_scrub(k, table): _scrub(v, table) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {
            f.name: _scrub(getattr(obj, f.name), table) for f in dataclasses.fields(obj) if f.init
        }
        return dataclasses.replace(obj, **changes)
    return obj
