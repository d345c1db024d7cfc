"""`unknown-version`: its documentation and its detections for requirements files (and so
Pipfile.lock) and for pylock.toml.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from reqhash_check.check.context import EntryContext
from reqhash_check.check.shared import index_shown
from reqhash_check.findings import Finding
from reqhash_check.rulebook import H1, E, Rule, define, implements

if TYPE_CHECKING:
    # A lock file's contexts: imported by the lock-file checker, never by a run that
    # reads requirements files only.
    from reqhash_check.lockfile.context import PackageContext

RULE = define(
    Rule(
        "unknown-version",
        E,
        "The index has no such version of the project.",
        "fails with 'Could not find a version that satisfies the requirement' / 'No "
        "matching distribution found'.",
        "A typo in the version, a release that was deleted, or a version that exists "
        "only on another index.",
        "Pin a version the index publishes.",
        f"gunicorn==99.0.0 \\\n    {H1}",
        needs_index=True,
        in_lock_files=("The locked version is not published on the index the lock names for it."),
    )
)


@implements("unknown-version", "release")
def unknown_version(ctx: EntryContext) -> Iterator[Finding]:
    if ctx.lookup is not None and ctx.lookup.missing == "version":
        pin = ctx.entry.pin
        yield ctx.finding(
            "unknown-version",
            f"no {ctx.project} {pin} on {index_shown(ctx)}; pip fails with 'No matching "
            f"distribution found for {ctx.project}=={pin}'",
        )


@implements("unknown-version", "lock-package")
def unknown_version_in_lock(ctx: PackageContext) -> Iterator[Finding]:
    package = ctx.package
    if ctx.lookup is None or package.version is None or ctx.lookup.missing != "version":
        return
    severity, where, target = ctx.stake()
    yield ctx.finding(
        "unknown-version",
        package.location,
        f"the index has no {package.name} {package.version}: the locked files are not "
        f"published ({where}); pip downloads the locked URLs and fails when they are "
        "gone or hold other bytes. Lock a version the index publishes",
        severity=severity,
        target=target,
    )
