"""Rules about a pinned requirement against what the index publishes for its version."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence

from reqhash_check.check.context import (
    PIP_REFUSES_INVALID_METADATA,
    EntryContext,
    parsed_requirement,
    plural,
)
from reqhash_check.check.fixes import published_set
from reqhash_check.findings import Finding, SetHashes, Severity
from reqhash_check.index.base import DistFile
from reqhash_check.rulebook import implements

MISMATCH = "'THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE'"


def _where(ctx: EntryContext) -> str:
    return ctx.options.indexes_shown or "the index"


@implements("unknown-project", "release")
def unknown_project(ctx: EntryContext) -> Iterator[Finding]:
    if ctx.lookup is not None and ctx.lookup.missing == "project":
        yield ctx.finding(
            "unknown-project",
            f"no project named {ctx.project!r} on {_where(ctx)}; pip fails with 'No matching "
            "distribution found'",
        )


@implements("unknown-version", "release")
def unknown_version(ctx: EntryContext) -> Iterator[Finding]:
    if ctx.lookup is not None and ctx.lookup.missing == "version":
        pin = ctx.entry.pin
        yield ctx.finding(
            "unknown-version",
            f"no {ctx.project} {pin} on {_where(ctx)}; pip fails with 'No matching "
            f"distribution found for {ctx.project}=={pin}'",
        )


@implements("yanked", "release")
def yanked(ctx: EntryContext) -> Iterator[Finding]:
    release = ctx.release
    if release is None or not release.yanked:
        return
    why = next((f.yanked_reason for f in release.files if f.yanked_reason), None)
    yield ctx.finding(
        "yanked",
        f"{ctx.project} {ctx.entry.pin} is yanked"
        + (f" ({why})" if why else " (no reason given)")
        + "; pip installs it with a warning",
    )


@implements("unverifiable", "release")
def unverifiable(ctx: EntryContext) -> Iterator[Finding]:
    lookup = ctx.lookup
    if lookup is not None and lookup.release is None and lookup.offline:
        yield ctx.finding(
            "unverifiable",
            f"{ctx.project} {ctx.entry.pin} could not be verified: {lookup.error}",
        )
    if ctx.release is not None and ctx.unconfirmable:
        count = len(ctx.unconfirmable)
        algorithms = ", ".join(sorted({h.split(":")[0] for h in ctx.unconfirmable}))
        yield ctx.finding(
            "unverifiable",
            f"{count} {plural(count, 'hash', 'hashes')} of {ctx.project} {ctx.entry.pin} use "
            f"an algorithm the index does not publish ({algorithms}); they cannot be "
            "confirmed without downloading the files",
            hashes=ctx.hash_set,
        )
    if ctx.release is not None and ctx.unknown and ctx.unhashed:
        count, files = len(ctx.unknown), len(ctx.unhashed)
        shown = ", ".join(sorted(f.filename for f in ctx.unhashed)[:3]) + (
            ", …" if files > 3 else ""
        )
        yield ctx.finding(
            "unverifiable",
            f"{count} {plural(count, 'hash', 'hashes')} of {ctx.project} {ctx.entry.pin} "
            f"{plural(count, 'matches', 'match')} no sha256 published on {_where(ctx)}, which "
            f"lists {files} of its {len(ctx.release.files)} files without one ({shown}); "
            "they cannot be confirmed without downloading the files",
            hashes=ctx.hash_set,
        )


@implements("stale-hash", "release")
def stale_hash(ctx: EntryContext) -> Iterator[Finding]:
    if ctx.release is None or not ctx.unknown or ctx.known or ctx.unconfirmable or ctx.unhashed:
        return  # a hash may belong to a file listed without a sha256: unverifiable says so
    count = len(ctx.listed)
    yield ctx.finding(
        "stale-hash",
        f"none of the {count} {plural(count, 'hash', 'hashes')} of {ctx.project} "
        f"{ctx.entry.pin} matches a file published for it on {_where(ctx)}; pip fails with "
        f"{MISMATCH}. " + origins(ctx),
        hashes=ctx.hash_set,
        fix=SetHashes(ctx.entry.location, ctx.entry.raw, published_set(ctx)),
    )


@implements("foreign-hash", "release")
def foreign_hash(ctx: EntryContext) -> Iterator[Finding]:
    if ctx.release is None or not ctx.unknown or not (ctx.known or ctx.unconfirmable):
        return
    if ctx.unhashed:
        return  # the unknown hashes may be those files': unverifiable says so
    yield ctx.finding(
        "foreign-hash",
        f"{len(ctx.unknown)} of {len(ctx.listed)} hashes of {ctx.project} {ctx.entry.pin} "
        f"match no file published for it on {_where(ctx)}; pip still installs, but an "
        "unexplained hash is an integrity smell. " + origins(ctx),
        hashes=ctx.hash_set,
        fix=SetHashes(ctx.entry.location, ctx.entry.raw, published_set(ctx)),
    )


def origins(ctx: EntryContext) -> str:
    """Where the unknown hashes come from, as far as the index can tell."""
    history: Mapping[str, DistFile] = ctx.lookup.history if ctx.lookup else {}
    from_other: dict[str, list[str]] = defaultdict(list)
    orphans = 0
    for text in ctx.unknown:
        source = history.get(text.split(":", 1)[1])
        if source is None:
            orphans += 1
        else:
            from_other[source.version].append(source.filename)
    parts = []
    for version, filenames in sorted(from_other.items()):
        shown = ", ".join(sorted(filenames)[:3]) + (", …" if len(filenames) > 3 else "")
        parts.append(
            f"{len(filenames)} {plural(len(filenames), 'hash belongs', 'hashes belong')} to "
            f"{ctx.project} {version} ({shown})"
        )
    if from_other:
        parts[-1] += ": the version was changed without regenerating its hashes"
    if orphans:
        parts.append(
            f"{orphans} {plural(orphans, 'hash matches', 'hashes match')} no file published "
            f"for {ctx.project} on {_where(ctx)}: it may come "
            "from a private build or another index (check with --index-url or --find-links "
            "pointing there), or from a corrupted or tampered download; regenerate only once "
            "you know which"
        )
    return "; ".join(parts) + "." if parts else ""


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
