"""`invalid-metadata`: its documentation and its detections for requirements files (and so
Pipfile.lock).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from reqhash_check.check.context import (
    PIP_REFUSES_INVALID_METADATA,
    EntryContext,
    parsed_requirement,
)
from reqhash_check.findings import Finding, Severity
from reqhash_check.rulebook import H1, E, Rule, define, implements

RULE = define(
    Rule(
        "invalid-metadata",
        E,
        "The pinned version's metadata has a requirement or version that pip 24.1 and "
        "later cannot parse.",
        "pip 24.1 and later say 'Ignoring version … since it has invalid metadata' and "
        "then fail with 'No matching distribution found'; older pips install it. An error "
        "when modelling pip 24.1 or later (the default), else a warning.",
        "Old releases declared dependencies with legacy syntax such as 'pytz (>dev)', "
        "which the packaging library stopped accepting.",
        "Pin a newer release, or use pip older than 24.1 for this install.",
        f"celery==4.4.7 \\\n    {H1}",
        needs_index=True,
    )
)


def invalid_requirements(requires_dist: Sequence[str]) -> list[str]:
    """The Requires-Dist entries packaging (and so pip 24.1+) cannot parse."""
    return [text for text in requires_dist if parsed_requirement(text) is None]


@implements("invalid-metadata", "release")
def invalid_metadata(ctx: EntryContext) -> Iterator[Finding]:
    release = ctx.release
    if release is None or release.requires_dist is None:
        return
    bad = invalid_requirements(release.requires_dist)
    if not bad:
        return
    refuses = ctx.set.pip_fails(PIP_REFUSES_INVALID_METADATA)
    shown = ", ".join(repr(b[:80]) for b in bad[:3]) + (", …" if len(bad) > 3 else "")
    yield ctx.finding(
        "invalid-metadata",
        f"{ctx.project} {ctx.entry.pin}'s metadata declares {shown}, which pip 24.1 and later "
        f"cannot parse: they say 'Ignoring version {ctx.entry.pin} of {ctx.entry.name} since "
        "it has invalid metadata' and fail with 'No matching distribution found'; older pips "
        "install it",
        severity=Severity.WARNING if refuses is False else None,
    )
