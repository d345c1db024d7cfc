"""`fallback-target`: its documentation and its detections for requirements files (and so
Pipfile.lock) and for pylock.toml.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from reqhash_check.check.context import TargetContext
from reqhash_check.check.fixes import published_set
from reqhash_check.check.shared import hashes_tell
from reqhash_check.findings import AddHashes, Finding, HashSet
from reqhash_check.rulebook import H1, Rule, W, define, implements

if TYPE_CHECKING:
    # A lock file's contexts: imported by the lock-file checker, never by a run that
    # reads requirements files only.
    from reqhash_check.lockfile.context import SelectionContext

RULE = define(
    Rule(
        "fallback-target",
        W,
        "On a target, pip skips the best file (its hash is not listed) and installs a "
        "lesser one, such as the sdist.",
        "installs, but not the file you expect: often it builds the sdist from source.",
        "Only some files' hashes were listed: the wheel's hash is missing while the "
        "sdist's is there.",
        "Add the hash of the file the target should install.",
        f"itsdangerous==2.2.0 \\\n    {H1}  # the sdist only",
        needs_index=True,
        fixable="adds the skipped file's hash (every published hash, or with "
        "--fix-targets-only those of the files the targets pick)",
        in_lock_files=(
            "The lock lacks the wheel the index publishes for a target, so pip builds the "
            "sdist or takes a lesser wheel there; `--fix` adds the wheel's entry."
        ),
    )
)


@implements("fallback-target", "target")
def fallback_target(ctx: TargetContext) -> Iterator[Finding]:
    pick = ctx.pick
    if not hashes_tell(ctx) or not pick.ok or not pick.fallback or pick.best is None:
        return
    entry = ctx.entry
    best = pick.best
    published = published_set(entry)
    missing = tuple(h for h in published if h not in entry.listed)
    yield ctx.finding(
        "fallback-target",
        f"on {ctx.target.name} pip would prefer {best.filename} but its hash is not listed, "
        f"so it installs {pick.chosen.filename if pick.chosen else 'another file'} instead",
        hashes=HashSet(listed=entry.listed, expected=(f"sha256:{best.sha256}",)),
        fix=AddHashes(entry.entry.location, entry.entry.raw, missing) if missing else None,
        detail=(f"add --hash=sha256:{best.sha256}",),
    )


@implements("fallback-target", "lock-selection")
def fallback_target_in_lock(ctx: SelectionContext) -> Iterator[Finding]:
    """pip installs a lesser file (the sdist, or a less specific wheel) because the lock
    lacks the wheel the index publishes for this target."""
    if ctx.selection.lock_refused is not None:
        return
    for choice in ctx.selection.chosen:
        package, file = choice.package, choice.file
        if file is None:
            continue
        wheel = ctx.lock.fallback_wheel(package, file, ctx.target)
        if wheel is None:
            continue
        instead = f"builds {file.filename}" if not file.is_wheel else f"installs {file.filename}"
        yield ctx.lock.finding(
            "fallback-target",
            package.location,
            f"on {ctx.target.name} the lock lacks {wheel.filename}, the file the index "
            f"publishes for this target, so pip {instead} instead",
            package,
            target=ctx.target.name,
        )
