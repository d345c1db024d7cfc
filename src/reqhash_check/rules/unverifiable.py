"""`unverifiable`: its documentation and its detections for requirements files (and so
Pipfile.lock) and for pylock.toml.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from reqhash_check.check.context import EntryContext, plural
from reqhash_check.check.shared import index_shown
from reqhash_check.findings import Finding
from reqhash_check.rulebook import Rule, W, define, implements

if TYPE_CHECKING:
    # A lock file's contexts: imported by the lock-file checker, never by a run that
    # reads requirements files only.
    from reqhash_check.lockfile.context import PackageContext

RULE = define(
    Rule(
        "unverifiable",
        W,
        "A hash or requirement the index could not confirm: a sha384/sha512 hash the "
        "index does not publish, a hash that matches nothing while the index lists some "
        "of the version's files without a sha256 (an md5-only index), or --offline with "
        "nothing cached.",
        "—",
        "The index publishes sha256 digests only, and not always (small private indexes "
        "often list md5 or nothing); offline runs answer from the cache.",
        "Use sha256 hashes, make the index publish sha256 digests, or run again with the "
        "index reachable.",
        "six==1.16.0 --hash=sha512:" + "ab" * 64,
        needs_index=True,
        in_lock_files=(
            "A locked archive whose hash the index cannot confirm: only sha384/sha512 "
            "listed, or the index could not be asked (--offline with a cold cache)."
        ),
    )
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
            f"{plural(count, 'matches', 'match')} no sha256 published on {index_shown(ctx)}, which "
            f"lists {files} of its {len(ctx.release.files)} files without one ({shown}); "
            "they cannot be confirmed without downloading the files",
            hashes=ctx.hash_set,
        )


@implements("unverifiable", "lock-package")
def unverifiable_in_lock(ctx: PackageContext) -> Iterator[Finding]:
    package, lookup = ctx.package, ctx.lookup
    if (
        lookup is not None
        and package.version is not None
        and lookup.missing is None
        and lookup.release is None
        and lookup.offline
    ):
        reason = lookup.error or "the index gave no answer"
        yield ctx.finding(
            "unverifiable",
            package.location,
            f"{package.name} {package.version} could not be verified: {reason}",
        )
    for verdict in ctx.verdicts("unverifiable"):
        yield ctx.finding(
            "unverifiable",
            ctx.lock.hash_location(verdict.file),
            f"{verdict.file.filename}: {verdict.detail}",
        )
