"""`missing-hash`: its documentation and its detections for requirements files (and so
Pipfile.lock) and for pylock.toml.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from reqhash_check.check.context import EntryContext
from reqhash_check.check.fixes import published_set
from reqhash_check.check.shared import HASHES_REQUIRED, UNHASHABLE, in_hash_mode, what
from reqhash_check.findings import Finding, SetHashes
from reqhash_check.rulebook import H1, E, Rule, define, implements

if TYPE_CHECKING:
    # A lock file's context: imported by the lock-file checker, never by a run that reads
    # requirements files only.
    from reqhash_check.lockfile.context import LockContext

RULE = define(
    Rule(
        "missing-hash",
        E,
        "Hash-checking mode is on and a requirement has no --hash.",
        "fails with 'Hashes are required in --require-hashes mode, but they are missing "
        "from some requirements', listing the --hash lines it would accept.",
        "One --hash anywhere in the file set (or --require-hashes) turns the mode on for "
        "every requirement; a line added by hand lacks its hashes.",
        "Add the hashes of the pinned version.",
        f"requests==2.32.3 \\\n    {H1}\nblinker==1.9.0",
        fixable="adds the hashes the index publishes for the pin",
        in_lock_files=(
            "An archive without hashes: pip refuses the whole lock before any download "
            "('Invalid pylock file: At least one hash must be provided')."
        ),
    )
)


@implements("missing-hash", "entry")
def missing_hash(ctx: EntryContext) -> Iterator[Finding]:
    entry = ctx.entry
    if not in_hash_mode(ctx) or entry.kind in UNHASHABLE or ctx.listed:
        return
    # A hashed constraint on the same project covers it, as pip merges the two.
    if any(c.is_constraint and c.name == entry.name and c.hashes for c in ctx.set.req_set.entries):
        return
    fix = None
    if ctx.release is not None and ctx.release.files:
        fix = SetHashes(entry.location, entry.raw, published_set(ctx))
    yield ctx.finding(
        "missing-hash",
        f"{what(ctx)} has no --hash while hash-checking mode is on; pip fails with "
        f"{HASHES_REQUIRED}",
        fix=fix,
    )


@implements("missing-hash", "lock-file")
def missing_hash_in_lock(ctx: LockContext) -> Iterator[Finding]:
    from reqhash_check.lockfile.context import lock_problems

    return lock_problems(ctx, "missing-hash")
