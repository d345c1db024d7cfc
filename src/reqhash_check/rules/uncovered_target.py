"""`uncovered-target`: its documentation and its detections for requirements files (and so
Pipfile.lock) and for pylock.toml.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from reqhash_check.check.context import TargetContext
from reqhash_check.check.fixes import published_set
from reqhash_check.check.shared import MISMATCH, hashes_tell
from reqhash_check.findings import KB_HASH_MISMATCH, Finding, HashSet, SetHashes
from reqhash_check.rulebook import H1, E, Rule, define, implements

if TYPE_CHECKING:
    # A lock file's contexts: imported by the lock-file checker, never by a run that
    # reads requirements files only.
    from reqhash_check.lockfile.context import SelectionContext

RULE = define(
    Rule(
        "uncovered-target",
        E,
        "On a target, no file pip could pick there has a listed hash.",
        "fails on that target with 'THESE PACKAGES DO NOT MATCH THE HASHES FROM THE "
        "REQUIREMENTS FILE' (it downloads the best file for the target, whose hash is "
        "not listed).",
        "The hashes were generated on another platform or Python (a Linux-only lock "
        "deployed on macOS, a wheel added for a new Python after the lock was made).",
        "Add the hash of the file the target installs (the finding names it), or "
        "regenerate the hashes for every platform you deploy to.",
        f"numpy==2.1.3 \\\n    {H1}  # only the manylinux wheel; a macOS target fails",
        kb=KB_HASH_MISMATCH,
        needs_index=True,
        fixable="adds the published hashes of the pinned version",
        in_lock_files=(
            "On a target, the archive pip selects from the lock carries a hash that is not "
            "the file's: pip fails there with the KB error."
        ),
    )
)


@implements("uncovered-target", "target")
def uncovered_target(ctx: TargetContext) -> Iterator[Finding]:
    pick = ctx.pick
    entry = ctx.entry
    if not hashes_tell(ctx) or pick.ok or pick.chosen is None or not entry.known:
        return  # no hash matches at all: stale-hash says it, once, not once per target
    want = pick.chosen
    yield ctx.finding(
        "uncovered-target",
        f"on {ctx.target.name} pip picks {want.filename}, whose hash is not listed, and fails "
        f"with {MISMATCH}",
        hashes=HashSet(listed=entry.listed, expected=(f"sha256:{want.sha256}",)),
        fix=SetHashes(entry.entry.location, entry.entry.raw, published_set(entry)),
        detail=(f"add --hash=sha256:{want.sha256}",),
    )


@implements("uncovered-target", "lock-selection")
def uncovered_target_in_lock(ctx: SelectionContext) -> Iterator[Finding]:
    from reqhash_check.lockfile.context import MISMATCH as LOCK_MISMATCH
    from reqhash_check.lockfile.context import file_key

    if ctx.selection.lock_refused is not None:
        return
    wrong = ctx.lock.wrong_files
    for choice in ctx.selection.chosen:
        package, file = choice.package, choice.file
        if file is None or file_key(package, file) not in wrong:
            continue
        published = wrong[file_key(package, file)]
        yield ctx.lock.finding(
            "uncovered-target",
            ctx.lock.hash_location(file),
            f"on {ctx.target.name} pip installs {file.filename} from the lock, and its "
            f"hash there is not the file's: pip fails with '{LOCK_MISMATCH}'",
            package,
            target=ctx.target.name,
            hashes=HashSet(
                listed=tuple(f"{a}:{d}" for a, d in sorted(file.hashes.items())),
                expected=tuple(
                    f"sha256:{p.sha256}" for p in [published] if p is not None and p.sha256
                ),
            ),
        )
