"""`yanked`: its documentation and its detections for requirements files (and so Pipfile.lock)
and for pylock.toml.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from reqhash_check.check.context import EntryContext, TargetContext
from reqhash_check.findings import Finding
from reqhash_check.rulebook import H1, Rule, W, define, implements

if TYPE_CHECKING:
    # A lock file's contexts: imported by the lock-file checker, never by a run that
    # reads requirements files only.
    from reqhash_check.lockfile.context import PackageContext

RULE = define(
    Rule(
        "yanked",
        W,
        "The pinned version, or the file pip would pick, is yanked.",
        "installs it with a warning (a yanked file is taken only when pinned with ==).",
        "The maintainers withdrew the release; the finding gives their reason.",
        "Move to a release that is not yanked, unless you need this one.",
        f"requests==2.32.0 \\\n    {H1}",
        needs_index=True,
        in_lock_files=(
            "A locked file the index marks yanked: a warning (pip installs a locked file "
            "without a word about yanking)."
        ),
    )
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


@implements("yanked", "lock-package")
def yanked_in_lock(ctx: PackageContext) -> Iterator[Finding]:
    release, package = ctx.release, ctx.package
    if release is None or not release.yanked:
        return
    why = next((f.yanked_reason for f in release.files if f.yanked_reason), None)
    yield ctx.finding(
        "yanked",
        package.location,
        f"{package.name} {package.version} is yanked"
        + (f" ({why})" if why else " (no reason given)")
        + "; pip installs a locked file without a word about it",
    )
