"""Rules about a file as it was served (--verify-downloads): the `download` scope, for
requirements files, Pipfile.lock and pylock.toml alike. `reqhash_check.verify` fetches the
files and is the loop that calls these."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from reqhash_check.findings import KB_HASH_MISMATCH, Finding, Location, Severity
from reqhash_check.index.urls import redact_url
from reqhash_check.rulebook import implements


@dataclass(frozen=True)
class DownloadContext:
    """One file some target would download, as it was served, for one requirement or
    locked package that downloads it."""

    filename: str
    project: str
    version: str
    index: str
    """Where the file is listed."""
    listed_sha256: str
    served_from: str
    served_sha256: str
    encoding: str
    """The Content-Encoding it was served with although none was asked, or ""."""
    location: Location
    targets: frozenset[str]


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
