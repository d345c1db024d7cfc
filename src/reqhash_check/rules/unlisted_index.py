"""`unlisted-index`: its documentation and its detections for requirements files (and so
Pipfile.lock).
"""

from __future__ import annotations

from collections.abc import Iterator

from reqhash_check.check.context import SetContext
from reqhash_check.check.shared import LOCATION_OPTIONS, shown_value
from reqhash_check.findings import Finding
from reqhash_check.rulebook import E, Rule, define, implements
from reqhash_check.urls import redact_url, url_host

RULE = define(
    Rule(
        "unlisted-index",
        E,
        "A file sends pip to an index or find-links host that is not in the allow-list "
        "given with --allow-index.",
        "downloads from that host (it has no allow-list of its own). reqhash-check does "
        "not contact the host.",
        "A pull request that changes where packages come from: the dependency-confusion "
        "and substitution risk a reviewer must see.",
        "Remove the option, or add the host to --allow-index if it is trusted.",
        "--extra-index-url https://packages.example.net/simple",
    )
)


@implements("unlisted-index", "set")
def unlisted_index(ctx: SetContext) -> Iterator[Finding]:
    allowed = ctx.options.allowed_hosts
    if allowed is None:
        return
    for option in ctx.req_set.options:
        if option.location is None or option.name not in LOCATION_OPTIONS:
            continue
        host = url_host(str(option.value))
        if not host and "://" not in str(option.value):
            continue  # a local folder or file
        if host not in allowed:
            what = "find-links location" if option.name == "find_links" else "index"
            yield ctx.finding(
                "unlisted-index",
                option.location,
                f"this file sends pip to the {what} {redact_url(shown_value(option))}, whose "
                f"host is not in --allow-index ({', '.join(sorted(allowed)) or 'none'}); pip "
                "would download from it, reqhash-check did not contact it",
            )
