"""`unpublished-bytes`: its documentation and its detection for every file --verify-downloads
fetches (from requirements files, Pipfile.lock and pylock.toml alike).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from reqhash_check.findings import KB_HASH_MISMATCH, Finding, Severity
from reqhash_check.rulebook import H1, E, Rule, define, implements
from reqhash_check.urls import redact_url

if TYPE_CHECKING:
    # Built by --verify-downloads (`verify.py`), which imports it: a check without it never
    # needs it.
    from reqhash_check.check.downloads import DownloadContext

RULE = define(
    Rule(
        "unpublished-bytes",
        E,
        "With --verify-downloads: the bytes served for the file a target would download "
        "are not the file the index lists (its digest differs from the listed one).",
        "fails with 'THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE', "
        "though the requirements file is right.",
        "A corrupted download, a mirror or caching proxy (Artifactory, Nexus, devpi, a "
        "TLS-intercepting middlebox) that lists one file's digest and serves other bytes, "
        "or tampering on the way.",
        "Do not regenerate the hashes: the pin is right and the bytes are not. Retry; "
        "bypass or purge the proxy or mirror; report it to whoever runs it.",
        f"urllib3==2.8.0 \\\n    {H1}  # the proxy serves other bytes",
        kb=KB_HASH_MISMATCH,
        needs_index=True,
        in_lock_files=(
            "With --verify-downloads: the archive a target selects, fetched from the URL "
            "the lock records, is not the file the index lists under that name."
        ),
    )
)


@implements("unpublished-bytes", "download")
def unpublished_bytes(ctx: DownloadContext) -> Iterator[Finding]:
    if ctx.served_sha256 == ctx.listed_sha256:
        return
    host = urlsplit(ctx.served_from).hostname or "?"
    names = sorted(ctx.targets)
    yield Finding(
        rule="unpublished-bytes",
        severity=Severity.ERROR,
        location=ctx.location,
        project=ctx.project,
        version=ctx.version,
        message=(
            f"{ctx.filename}, as {host} serves it, is not the file "
            f"{redact_url(ctx.index) or 'the index'} lists: its sha256 is "
            f"{ctx.served_sha256}, the listing says {ctx.listed_sha256}. pip would fail with "
            "the KB error although the pin is right: do not regenerate the hashes; "
            "retry, bypass or purge the proxy or mirror, and report it"
        ),
        kb=KB_HASH_MISMATCH,
        target=names[0] if len(names) == 1 else None,
        detail=(
            f"served from: {redact_url(ctx.served_from)}",
            f"listed sha256: {ctx.listed_sha256}",
            f"served sha256: {ctx.served_sha256}",
            *(
                [
                    f"served with Content-Encoding {ctx.encoding!r} although "
                    "none was asked: pip hashes the bytes as sent, so it fails too"
                ]
                if ctx.encoding
                else []
            ),
        ),
    )
