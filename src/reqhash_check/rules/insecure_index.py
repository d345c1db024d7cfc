"""`insecure-index`: its documentation and its detections for requirements files (and so
Pipfile.lock) and for pylock.toml.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from reqhash_check.check.context import SetContext
from reqhash_check.check.shared import LOCATION_OPTIONS, is_loopback, shown_value
from reqhash_check.findings import Finding
from reqhash_check.rulebook import Rule, W, define, implements
from reqhash_check.urls import redact_url, url_host, url_parses

if TYPE_CHECKING:
    # A lock file's contexts: imported by the lock-file checker, never by a run that
    # reads requirements files only.
    from reqhash_check.lockfile.context import PackageContext

RULE = define(
    Rule(
        "insecure-index",
        W,
        "An http:// index or find-links location, or --trusted-host, in a file.",
        "installs over a channel anyone on the network path can change: the "
        "knowledge base's man-in-the-middle cause of hash mismatches.",
        "An internal mirror without TLS, or TLS errors worked around.",
        "Use an https:// index and drop --trusted-host.",
        "--index-url http://mirror.internal/simple",
        in_lock_files=("A package's `index` or archive URL uses `http://`."),
    )
)


@implements("insecure-index", "set")
def insecure_index(ctx: SetContext) -> Iterator[Finding]:
    for option in ctx.req_set.options:
        if option.location is None:
            continue
        shown = redact_url(shown_value(option))
        if option.name in LOCATION_OPTIONS:
            url = str(option.value)
            if url.lower().startswith("http://") and not is_loopback(url_host(url)):
                yield ctx.finding(
                    "insecure-index",
                    option.location,
                    f"{shown} is plain http: anyone on the network path can swap the files, "
                    "which --hash then catches only as a mismatch; use https",
                )
        elif option.name == "trusted_host":
            yield ctx.finding(
                "insecure-index",
                option.location,
                f"--trusted-host {shown} turns off TLS verification for that host; files from "
                "it can be swapped in transit",
            )


@implements("insecure-index", "lock-package")
def insecure_index_in_lock(ctx: PackageContext) -> Iterator[Finding]:
    package = ctx.package
    urls = [(f.location, f.url) for f in package.files if f.url]
    if package.index:
        urls.append((package.location, package.index))
    for location, url in urls:
        if not url_parses(url):
            continue  # never asked (see index.plan): not a plain-http index either
        parts = urlsplit(url)
        if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
            yield ctx.finding(
                "insecure-index",
                location,
                f"{redact_url(url)} is plain http: anyone on the network path can swap the "
                "file, which its hash then catches only as a mismatch; use https",
            )
            return
