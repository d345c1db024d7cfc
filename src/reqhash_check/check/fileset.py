"""Rules about the file set as a whole: lines pip cannot read, where it sends pip, pins
that clash. None of them needs the index."""

from __future__ import annotations

from collections.abc import Iterator

from reqhash_check.check.context import SetContext
from reqhash_check.findings import Finding
from reqhash_check.index.urls import redact_url, url_host
from reqhash_check.requirements import RequirementEntry
from reqhash_check.rulebook import implements

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
_LOCATION_OPTIONS = ("index_url", "extra_index_url", "find_links")


def _shown_value(option: object) -> str:
    written = getattr(option, "written", None)
    return str(written if written is not None else getattr(option, "value", ""))


def _problems(ctx: SetContext, rule_id: str) -> Iterator[Finding]:
    for problem in ctx.problems:
        if problem.rule == rule_id:
            yield ctx.finding(
                rule_id, problem.location, problem.message, suppressed=problem.suppressed
            )


@implements("parse-error", "set")
def parse_error(ctx: SetContext) -> Iterator[Finding]:
    return _problems(ctx, "parse-error")


@implements("include-error", "set")
def include_error(ctx: SetContext) -> Iterator[Finding]:
    return _problems(ctx, "include-error")


@implements("parse-error", "set")
def require_hashes_both_ways(ctx: SetContext) -> Iterator[Finding]:
    """--require-hashes on the command line and --no-require-hashes in a file: pip 26.2 and
    later refuse the install (the reader sees only the file, so the check says it)."""
    if not ctx.options.require_hashes:
        return
    for option in ctx.req_set.options:
        if option.name == "no_require_hashes" and option.location is not None:
            yield ctx.finding(
                "parse-error",
                option.location,
                "--no-require-hashes here and --require-hashes on the command line: pip 26.2 "
                "and later refuse the install",
            )


def _is_loopback(host: str) -> bool:
    return host in LOOPBACK_HOSTS or host.startswith("127.")


@implements("insecure-index", "set")
def insecure_index(ctx: SetContext) -> Iterator[Finding]:
    for option in ctx.req_set.options:
        if option.location is None:
            continue
        shown = redact_url(_shown_value(option))
        if option.name in _LOCATION_OPTIONS:
            url = str(option.value)
            if url.lower().startswith("http://") and not _is_loopback(url_host(url)):
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


@implements("unlisted-index", "set")
def unlisted_index(ctx: SetContext) -> Iterator[Finding]:
    allowed = ctx.options.allowed_hosts
    if allowed is None:
        return
    for option in ctx.req_set.options:
        if option.location is None or option.name not in _LOCATION_OPTIONS:
            continue
        host = url_host(str(option.value))
        if not host and "://" not in str(option.value):
            continue  # a local folder or file
        if host not in allowed:
            what = "find-links location" if option.name == "find_links" else "index"
            yield ctx.finding(
                "unlisted-index",
                option.location,
                f"this file sends pip to the {what} {redact_url(_shown_value(option))}, whose "
                f"host is not in --allow-index ({', '.join(sorted(allowed)) or 'none'}); pip "
                "would download from it, reqhash-check did not contact it",
            )


@implements("duplicate", "set")
def duplicate(ctx: SetContext) -> Iterator[Finding]:
    first_pin: dict[tuple[str, str | None], RequirementEntry] = {}
    for entry in ctx.requirements:
        if not entry.pin:
            continue
        first = first_pin.setdefault((entry.name, entry.marker), entry)
        if first is not entry and first.pin != entry.pin:
            yield ctx.finding(
                "duplicate",
                entry.location,
                f"{entry.raw_name} is pinned to {entry.pin} here and to {first.pin} at "
                f"{first.location.path}:{first.location.line}; pip refuses the install "
                "(Double requirement given / conflicting requirements)",
                entry=entry,
                suppressed=entry.suppressed,
            )
