"""Rules about what pip installs on each target: the file it picks and whether its hash is
listed (`targets.pick_file` follows pip's PackageFinder and filter_unallowed_hashes)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from reqhash_check.check.context import TargetContext
from reqhash_check.check.fixes import published_set
from reqhash_check.check.releases import MISMATCH
from reqhash_check.findings import AddHashes, Finding, HashSet, SetHashes
from reqhash_check.index.base import DistFile
from reqhash_check.rulebook import implements
from reqhash_check.targets import BinaryPolicy, requires_python_allows


def _why_nothing(ctx: TargetContext) -> str:
    files: Sequence[DistFile] = ctx.entry.release.files if ctx.entry.release else ()
    policy: BinaryPolicy = ctx.entry.set.policy
    project = ctx.entry.entry.name
    if not files:
        return "the release has no files"
    version = ctx.target.python_version
    if all(not requires_python_allows(f.requires_python, version) for f in files):
        stated = sorted({f.requires_python or "" for f in files} - {""})
        python = ".".join(str(p) for p in version[:3])
        return f"Requires-Python {' / '.join(stated)} excludes Python {python}"
    sdists = [f for f in files if not f.is_wheel]
    if sdists and not policy.allows_sdist(project):
        return "no compatible wheel, and --only-binary excludes the sdist"
    if not sdists:
        return "no compatible wheel and no sdist"
    return "no compatible file"


@implements("no-installable-file", "target")
def no_installable_file(ctx: TargetContext) -> Iterator[Finding]:
    if ctx.pick.candidates:
        return
    entry = ctx.entry
    wanted = f"=={entry.entry.pin}" if entry.entry.pin else entry.entry.specifier
    what = f"{entry.project} {entry.entry.pin}" if entry.entry.pin else f"{entry.project}{wanted}"
    fails = (
        f"'Could not find a version that satisfies the requirement {entry.project}{wanted}'"
        if not entry.entry.is_constraint
        else "'ResolutionImpossible' (the constraint leaves no distribution of "
        f"{entry.project} that something installed there needs)"
    )
    yield ctx.finding(
        "no-installable-file",
        f"{what} publishes no file pip can install on {ctx.target.name} "
        f"({_why_nothing(ctx)}); pip fails with {fails}",
    )


def _hashed(ctx: TargetContext) -> bool:
    """Whether the hashes can tell anything on this target: some are listed, in an algorithm
    the index publishes for the file pip picks."""
    return bool(ctx.entry.listed) and bool(ctx.pick.candidates) and not ctx.pick.unknown_hash


@implements("uncovered-target", "target")
def uncovered_target(ctx: TargetContext) -> Iterator[Finding]:
    pick = ctx.pick
    entry = ctx.entry
    if not _hashed(ctx) or pick.ok or pick.chosen is None or not entry.known:
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


@implements("fallback-target", "target")
def fallback_target(ctx: TargetContext) -> Iterator[Finding]:
    pick = ctx.pick
    if not _hashed(ctx) or not pick.ok or not pick.fallback or pick.best is None:
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


@implements("yanked", "target")
def yanked_file(ctx: TargetContext) -> Iterator[Finding]:
    chosen = ctx.pick.chosen
    release = ctx.entry.release
    if chosen is None or not chosen.yanked or release is None or release.yanked:
        return  # a yanked release is reported once, by the release-scope check
    yield ctx.finding(
        "yanked",
        f"on {ctx.target.name} pip installs {chosen.filename}, which is yanked"
        + (f" ({chosen.yanked_reason})" if chosen.yanked_reason else ""),
    )
