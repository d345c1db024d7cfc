"""`foreign-hash`: its documentation and its detections for requirements files (and so
Pipfile.lock) and for pylock.toml.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from reqhash_check.check.context import EntryContext
from reqhash_check.check.fixes import published_set
from reqhash_check.check.shared import index_shown, origins
from reqhash_check.findings import KB_HASH_MISMATCH, Finding, SetHashes
from reqhash_check.rulebook import H1, H2, Rule, W, define, implements

if TYPE_CHECKING:
    # A lock file's contexts: imported by the lock-file checker, never by a run that
    # reads requirements files only.
    from reqhash_check.lockfile.context import PackageContext

RULE = define(
    Rule(
        "foreign-hash",
        W,
        "Some of a requirement's hashes match published files, others match nothing the "
        "index lists for that version.",
        "installs: any one listed hash that matches is enough.",
        "A hash left over from another version, another index or a private build; or a "
        "file that was swapped after the hashes were made. It is an integrity smell: find "
        "out where it came from.",
        "Regenerate the hash set from the index you install from.",
        f"itsdangerous==2.2.0 \\\n    {H1} \\\n    {H2}",
        kb=KB_HASH_MISMATCH,
        needs_index=True,
        fixable="replaces the hash set with the hashes the index publishes for the pin",
        in_lock_files=(
            "An archive's hash matches nothing the index publishes for the project; an "
            "error where a checked target selects that archive, a warning elsewhere."
        ),
    )
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
        f"match no file published for it on {index_shown(ctx)}; pip still installs, but an "
        "unexplained hash is an integrity smell. " + origins(ctx),
        hashes=ctx.hash_set,
        fix=SetHashes(ctx.entry.location, ctx.entry.raw, published_set(ctx)),
    )


@implements("foreign-hash", "lock-package")
def foreign_hash_in_lock(ctx: PackageContext) -> Iterator[Finding]:
    """An archive whose hash matches nothing the project has published."""
    from reqhash_check.lockfile.context import wrong_hashes

    return wrong_hashes(ctx, "foreign-hash")
