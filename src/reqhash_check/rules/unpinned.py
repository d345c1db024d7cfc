"""`unpinned`: its documentation and its detections for requirements files (and so
Pipfile.lock).
"""

from __future__ import annotations

from collections.abc import Iterator

from reqhash_check.check.context import PIP_ACCEPTS_UNPINNED_HASHED, EntryContext
from reqhash_check.check.shared import in_hash_mode, what
from reqhash_check.findings import Finding, Severity
from reqhash_check.requirements import Kind
from reqhash_check.rulebook import H1, E, Rule, define, implements

RULE = define(
    Rule(
        "unpinned",
        E,
        "Hash-checking mode is on and a requirement is not pinned with == or === to one version.",
        "pip older than 26.1 fails with 'In --require-hashes mode, all requirements must "
        "have their versions pinned with =='; pip 26.1 and later install whichever "
        "version a listed hash matches (a warning here with --pip-version 26.1+ when the "
        "requirement has hashes).",
        "A range (>=, ~=) or no version at all in a hashed file.",
        "Pin the requirement with == to the version the hashes belong to.",
        f"click>=8.1 \\\n    {H1}",
    )
)


@implements("unpinned", "entry")
def unpinned(ctx: EntryContext) -> Iterator[Finding]:
    entry = ctx.entry
    if not in_hash_mode(ctx) or entry.kind is not Kind.NAMED or entry.pin is not None:
        return
    newer_accepts = ctx.set.pip_fails(PIP_ACCEPTS_UNPINNED_HASHED)
    lenient = bool(newer_accepts) and bool(ctx.listed)
    spec = entry.specifier or "no version"
    message = (
        f"{what(ctx)} is not pinned with == ({spec}); pip older than 26.1 fails with 'In "
        "--require-hashes mode, all requirements must have their versions pinned with =='"
    )
    if ctx.listed:
        message += "; pip 26.1 and later install whichever version a listed hash matches"
    yield ctx.finding("unpinned", message, severity=Severity.WARNING if lenient else None)
