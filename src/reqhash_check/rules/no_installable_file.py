"""`no-installable-file`: its documentation and its detections for requirements files (and so
Pipfile.lock) and for pylock.toml.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from reqhash_check.check.context import TargetContext
from reqhash_check.findings import Finding, Severity
from reqhash_check.index.base import DistFile
from reqhash_check.rulebook import H1, E, Rule, define, implements
from reqhash_check.targets import BinaryPolicy, requires_python_allows

if TYPE_CHECKING:
    # A lock file's contexts: imported by the lock-file checker, never by a run that
    # reads requirements files only.
    from reqhash_check.lockfile.context import SelectionContext

RULE = define(
    Rule(
        "no-installable-file",
        E,
        "On a target, the pinned version publishes no file pip could install at all.",
        "fails with 'Could not find a version that satisfies the requirement' and 'No "
        "matching distribution found'.",
        "No wheel for the target's platform or Python, and no sdist (or --only-binary "
        "excludes it), or Requires-Python excludes the target.",
        "Pin a version that publishes a file for the target, allow the sdist, or drop the target.",
        "--only-binary :all:\nsome-sdist-only-project==1.0 \\\n    " + H1,
        needs_index=True,
        in_lock_files=(
            "On a target, pip selects nothing: the lock's or a package's `requires-python` "
            "or `environments` excludes it, or no wheel matches its tags and there is no "
            "sdist. A bound that holds on some patch releases of the target's Python only "
            "is a warning until the target names its patch release."
        ),
    )
)


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


@implements("no-installable-file", "lock-selection")
def no_installable_file_in_lock(ctx: SelectionContext) -> Iterator[Finding]:
    from reqhash_check.lockfile.select import some_patches_note

    selection, target, lock = ctx.selection, ctx.target, ctx.lock.lock
    lock_refused = selection.lock_refused
    if lock_refused is not None:
        yield ctx.lock.finding(
            "no-installable-file",
            lock.at(lock.root_lines.get(lock_refused.key, 1)),
            f"on {target.name} pip installs nothing from this lock: '{lock_refused.message}'",
            target=target.name,
        )
        return
    for refusal in selection.refused:
        package = refusal.package
        if refusal.some_patches:
            bound = lock.requires_python if package is None else package.requires_python
            assert bound is not None
            yield ctx.lock.finding(
                "no-installable-file",
                lock.at(lock.root_lines.get(refusal.key, 1))
                if package is None
                else package.location,
                f"on {target.name} pip may install nothing "
                + ("from this lock" if package is None else f"of {package.name}")
                + f": '{refusal.message}'{some_patches_note(bound)}",
                package,
                target=target.name,
                severity=Severity.WARNING,
            )
            continue
        assert package is not None
        if refusal.key == "duplicate":
            continue
        advice = ""
        if refusal.key == "no-wheel":
            wheel = ctx.lock.published_wheel_for(package, target)
            if wheel is not None:
                advice = (
                    f"; the index publishes {wheel.filename} for this target, which the "
                    "lock does not list"
                )
        yield ctx.lock.finding(
            "no-installable-file",
            package.location,
            f"on {target.name} pip fails: '{refusal.message}'{advice}",
            package,
            target=target.name,
        )
