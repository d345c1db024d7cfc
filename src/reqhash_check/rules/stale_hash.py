"""`stale-hash`: its documentation and its detections for requirements files (and so
Pipfile.lock) and for pylock.toml.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from reqhash_check.check.context import EntryContext, plural
from reqhash_check.check.fixes import published_set
from reqhash_check.check.shared import MISMATCH, index_shown, origins
from reqhash_check.findings import KB_HASH_MISMATCH, Finding, SetHashes
from reqhash_check.rulebook import DEAD_ENDS, H1, E, Rule, define, implements

if TYPE_CHECKING:
    # A lock file's contexts: imported by the lock-file checker, never by a run that
    # reads requirements files only.
    from reqhash_check.lockfile.context import PackageContext

RULE = define(
    Rule(
        "stale-hash",
        E,
        "None of a requirement's hashes matches a file the index lists for the pinned version.",
        "fails with 'THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE', "
        "showing the hash it expected and the one it got.",
        "Usually the version was bumped by hand without regenerating the hashes (the "
        "message names the version the hashes belong to). Hashes that match nothing the "
        "index lists come from another index, a private build, a corrupted download or "
        "tampering.",
        "Regenerate the hashes for the pinned version. " + DEAD_ENDS,
        f"urllib3==2.8.0 \\\n    {H1}  # urllib3 2.7.0's wheel",
        kb=KB_HASH_MISMATCH,
        needs_index=True,
        fixable="replaces the hash set with the hashes the index publishes for the pin",
        in_lock_files=(
            "An archive's hashes match a file the index publishes, but another one (the "
            "message names it: a Linux wheel entry carrying the macOS wheel's hash); pip "
            "checks each archive only against its own entry's hashes, so the entry fails "
            "wherever a target selects it."
        ),
    )
)


@implements("stale-hash", "release")
def stale_hash(ctx: EntryContext) -> Iterator[Finding]:
    if ctx.release is None or not ctx.unknown or ctx.known or ctx.unconfirmable or ctx.unhashed:
        return  # a hash may belong to a file listed without a sha256: unverifiable says so
    count = len(ctx.listed)
    yield ctx.finding(
        "stale-hash",
        f"none of the {count} {plural(count, 'hash', 'hashes')} of {ctx.project} "
        f"{ctx.entry.pin} matches a file published for it on {index_shown(ctx)}; pip fails with "
        f"{MISMATCH}. " + origins(ctx),
        hashes=ctx.hash_set,
        fix=SetHashes(ctx.entry.location, ctx.entry.raw, published_set(ctx)),
    )


@implements("stale-hash", "lock-package")
def stale_hash_in_lock(ctx: PackageContext) -> Iterator[Finding]:
    """An archive carrying the hash of another published file (of this or another version)."""
    from reqhash_check.lockfile.context import wrong_hashes

    return wrong_hashes(ctx, "stale-hash")
