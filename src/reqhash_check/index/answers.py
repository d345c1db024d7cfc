"""Checks every index answer passes before it is believed, shared by the index clients.

An index may be hostile or broken: an answer must be for the project (and version) asked,
its digests must be well-formed, and its JSON must be of bounded depth. A failed check is a
`BadAnswer`, which the clients turn into an index failure (exit 3), never into a finding
that blames the user's file.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from packaging.utils import canonicalize_name, canonicalize_version
from packaging.version import InvalidVersion, Version

from reqhash_check.hashes import STRONG_ALGORITHMS, is_hex_digest
from reqhash_check.index.base import ProjectNotFound

MAX_NAME_LENGTH = 200
"""Longer project names are refused before they reach a URL (PyPI's longest are under 100)."""

_VALID_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")


class BadAnswer(Exception):
    """An index answer that fails a check; the message says which (no answer text in it)."""


def normalize_project(project: str) -> str:
    """The PEP 503 name, after checking it is a valid name (so it is safe in a URL)."""
    if len(project) > MAX_NAME_LENGTH:
        raise ProjectNotFound(
            f"a {len(project)}-character project name is not a valid name "
            f"(longer than {MAX_NAME_LENGTH})"
        )
    if not _VALID_NAME.fullmatch(project):
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


@functools.lru_cache(maxsize=8192)
def version_key(text: str) -> str:
    """A cache key under which every spelling of one version lands. (Cached: a project page
    repeats each version once per file, for thousands of files.)"""
    parsed = parse_version(text)
    return canonicalize_version(parsed) if parsed is not None else text.strip().lower()


def digests(value: object, *, required: bool = False) -> dict[str, str]:
    """algorithm → lower-case hex digest, for the algorithms pip accepts.

    Other algorithms (md5, blake2b…) are skipped. A digest pip would accept that is not a
    hexadecimal string of the right length makes the whole answer bad.
    """
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping):
        raise BadAnswer("file digests that are not a mapping")
    kept: dict[str, str] = {}
    for algorithm, digest in value.items():
        if not isinstance(algorithm, str) or algorithm.lower() not in STRONG_ALGORITHMS:
            continue
        algorithm = algorithm.lower()
        if not isinstance(digest, str) or not is_hex_digest(algorithm, digest):
            raise BadAnswer(f"a malformed {algorithm} digest")
        kept[algorithm] = digest.lower()
    return kept


def load_json(content: bytes, object_hook: Callable[[dict[str, Any]], Any] | None = None) -> Any:
    """Decode an index's JSON answer; BadAnswer when it is not JSON or nests deeper than the
    decoder's recursion limit (about a thousand levels, where it stops cleanly).
    `object_hook` sees each object as it is built and may replace it (to let go at once of
    what is not needed)."""
    try:
        return json.loads(content, object_hook=object_hook)
    except RecursionError:
        raise BadAnswer("JSON nested too deeply") from None
    except ValueError:
        raise BadAnswer("an answer that is not JSON") from None


def expect_project(stated: object, asked: str) -> None:
    """The answer names the project asked (PEP 503 comparison)."""
    if not isinstance(stated, str) or canonicalize_name(stated) != canonicalize_name(asked):
        raise BadAnswer(f"an answer for another project than {asked!r}")


def optional_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


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


# --- core metadata ----------------------------------------------------------------------

MAX_METADATA_BYTES = 4 * 1024 * 1024


def metadata_headers(content: bytes) -> Any:
    """The header block of a core metadata file (PKG-INFO / METADATA)."""
    # Imported here: a run answered from the cache reads no metadata file.
    import email.policy
    from email.parser import BytesParser

    return BytesParser(policy=email.policy.compat32).parsebytes(content, headersonly=True)


def requires_dist_from_metadata(
    content: bytes, project: str | None = None, version: str | None = None
) -> tuple[str, ...]:
    """The Requires-Dist headers of a core metadata file (PEP 658), after checking that the
    file describes the project and version asked, when they are given."""
    message = metadata_headers(content)
    if project is not None:
        name = message.get("Name")
        if name is not None:
            expect_project(str(name), project)
    if version is not None:
        stated = message.get("Version")
        if stated is not None and not same_version(str(stated).strip(), version):
            raise BadAnswer(f"metadata for another version than {version}")
    return tuple(str(value).strip() for value in message.get_all("Requires-Dist") or ())
