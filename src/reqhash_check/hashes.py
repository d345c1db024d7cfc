"""The hash algorithms pip accepts in hash-checking mode, in one place."""

from __future__ import annotations

import re

# pip's STRONG_HASHES, with the length of a hexadecimal digest of each.
DIGEST_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
STRONG_ALGORITHMS = tuple(DIGEST_LENGTHS)
_HEX = re.compile(r"[0-9a-fA-F]+")


def is_hex_digest(algorithm: str, digest: str) -> bool:
    """Whether `digest` is a well-formed hexadecimal digest for a strong `algorithm`."""
    length = DIGEST_LENGTHS.get(algorithm)
    return length is not None and len(digest) == length and _HEX.fullmatch(digest) is not None


def is_hex(text: str) -> bool:
    return _HEX.fullmatch(text) is not None
