"""`unknown-project`: its documentation and its detections for requirements files (and so
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
        "unknown-project",
        E,
        "The index has no such project.",
        "fails with 'No matching distribution found'.",
        "A typo, a renamed project, or a private package looked up on the public index.",
        "Check the project's name and the index URL.",
        f"reqeusts==2.32.3 \\\n    {H1}",
        needs_index=True,
        in_lock_files=(
            "The project is not published on the index the lock names for it (the package's "
            "`index`, else the index of its file URLs)."
        ),
    )
)


@implements("unknown-project", "release")
def unknown_project(ctx: EntryContext) -> Iterator[Finding]:
    if ctx.lookup is not None and ctx.lookup.missing == "project":
        yield ctx.finding(
            "unknown-project",
            f"no project named {ctx.project!r} on {index_shown(ctx)}; pip fails with 'No matching "
            "distribution found'",
        )


@implements("unknown-project", "lock-package")
def unknown_project_in_lock(ctx: PackageContext) -> Iterator[Finding]:
    package = ctx.package
    if ctx.lookup is None or package.version is None or ctx.lookup.missing != "project":
        return
    severity, where, target = ctx.stake()
    yield ctx.finding(
        "unknown-project",
        package.location,
        f"the index has no project named {package.name!r}: the locked URLs point at "
        f"files it does not publish ({where}); pip downloads them anyway, and fails "
        "when they are gone",
        severity=severity,
        target=target,
    )
