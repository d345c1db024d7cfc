"""`unhashable`: its documentation and its detections for requirements files (and so
Pipfile.lock) and for pylock.toml.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from reqhash_check.check.context import EntryContext
from reqhash_check.check.shared import UNHASHABLE, in_hash_mode, what
from reqhash_check.findings import Finding
from reqhash_check.rulebook import H1, E, Rule, define, implements

if TYPE_CHECKING:
    # A lock file's contexts: imported by the lock-file checker, never by a run that
    # reads requirements files only.
    from reqhash_check.lockfile.context import PackageContext

RULE = define(
    Rule(
        "unhashable",
        E,
        "Hash-checking mode is on and a requirement is editable, a VCS checkout or a local folder.",
        "fails: 'The editable requirement … cannot be installed when requiring hashes' or "
        "'Can't verify hashes for these requirements because we don't have a way to hash "
        "version control repositories' / '… file:// URL …'.",
        "Such requirements have no single file whose hash could be checked.",
        "Build a wheel and pin it with its hash, or install it in a separate step "
        "without --require-hashes.",
        f"-e ./mypackage\nrequests==2.32.3 \\\n    {H1}",
        in_lock_files=(
            "A package locked as a VCS checkout or a directory while the lock's other "
            "archives carry hashes: pip has no file to hash there and refuses it."
        ),
    )
)


@implements("unhashable", "entry")
def unhashable(ctx: EntryContext) -> Iterator[Finding]:
    reason = UNHASHABLE.get(ctx.entry.kind)
    if in_hash_mode(ctx) and reason:
        yield ctx.finding(
            "unhashable",
            f"{what(ctx)}: hash-checking mode is on and {reason}; pip refuses to install "
            "it. Build a wheel and pin it with its hash, or install it in a separate step",
        )


@implements("unhashable", "lock-package")
def unhashable_in_lock(ctx: PackageContext) -> Iterator[Finding]:
    package = ctx.package
    if package.direct is None or not ctx.lock.hashed:
        return
    severity, where, target = ctx.stake()
    yield ctx.finding(
        "unhashable",
        package.location,
        f"{package.name} is locked as a {package.direct} ({where}): pip checks the "
        "lock's other archives by hash and has no file to hash here, so it refuses "
        "it. Lock a built wheel with its hash instead",
        severity=severity,
        target=target,
    )
