"""Environment values and credentials never reach an output: every string of a result
passes through here.

The reader expands `${VAR}` as pip does and marks what derives from the value; the report
withholds all of it (`taint.py`) and shows lines as written. This is the backstop for any
expanded value that still found its way into a message: the value, and the forms a value
takes on its way through names and URLs (case-folded, normalised as a project name,
percent-encoded, cut short), are each replaced by its `${NAME}`.

It also replaces the password of any index named on the command line or in pip's
configuration (an index answer can quote back what it was sent).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus, urlsplit

from reqhash_check.urls import split_credentials

_T = TypeVar("_T")
MIN_SECRET_LENGTH = 3
"""Values shorter than this are not replaced: "1" or "on" would garble every message, and
cannot be secrets worth the name."""
MIN_FRAGMENT = 12
"""A text holding this many leading characters of a value (or of one of its forms), in
any case, is taken for the value cut short."""


def _forms(value: str) -> list[str]:
    """The value, and what names and URLs make of it."""
    lower = value.lower()
    forms = [value, lower, value.upper(), re.sub(r"[-_.]+", "-", lower)]
    for text in (value, lower):
        forms += [quote(text), quote(text, safe=""), quote_plus(text)]
    return list(dict.fromkeys(forms))


def replacements(values: Mapping[str, str]) -> dict[str, str]:
    """form of a value → `${NAME}` for each expanded variable, longest first."""
    pairs: dict[str, str] = {}
    for name, value in values.items():
        if len(value) < MIN_SECRET_LENGTH:
            continue
        for form in _forms(value):
            pairs.setdefault(form, f"${{{name}}}")
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
        try:
            _, credentials = split_credentials(url)
            netloc = urlsplit(url).netloc
        except ValueError:  # an authority that does not parse: all before its last `@`
            netloc = url.partition("://")[2].partition("/")[0]
            userinfo = netloc.rpartition("@")[0]
            credentials = (userinfo, userinfo.partition(":")[2]) if userinfo else None
        if credentials is None:
            continue
        user, password = credentials
        written = netloc.rpartition("@")[0]
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
    return _cut_short(text, table)


def _cut_short(text: str, table: Mapping[str, str]) -> str:
    """Replace what starts like a long form of a value (its first MIN_FRAGMENT characters,
    any case) and follows it as far as it goes: the value cut short or case-folded."""
    folded = text.lower()
    if len(folded) != len(text):  # a case change that changes lengths: exact forms only
        return text
    for value, name in table.items():
        if len(value) < MIN_FRAGMENT:
            continue
        form = value.lower()
        start = folded.find(form[:MIN_FRAGMENT])
        while start != -1:
            end = start + MIN_FRAGMENT
            while (
                end < len(folded) and end - start < len(form) and folded[end] == form[end - start]
            ):
                end += 1
            text = text[:start] + name + text[end:]
            folded = text.lower()
            start = folded.find(form[:MIN_FRAGMENT], start + len(name))
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
