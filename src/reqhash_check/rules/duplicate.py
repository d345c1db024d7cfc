"""`duplicate`: its documentation and its detections for requirements files (and so
Pipfile.lock) and for pylock.toml.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from reqhash_check.check.context import SetContext
from reqhash_check.findings import Finding
from reqhash_check.requirements import RequirementEntry
from reqhash_check.rulebook import E, Rule, define, implements

if TYPE_CHECKING:
    # A lock file's contexts: imported by the lock-file checker, never by a run that
    # reads requirements files only.
    from reqhash_check.lockfile.context import SelectionContext

RULE = define(
    Rule(
        "duplicate",
        E,
        "The same project is pinned twice with different versions across a file and its includes.",
        "fails with 'Double requirement given' or a conflict between the two pins.",
        "Two files of a set pin the project, or one was updated and the other was not.",
        "Keep one pin per project across the file set.",
        "-r base.txt  # pins six==1.16.0\nsix==1.15.0",
        in_lock_files=(
            "Two entries of the same name selected on one target: pip refuses the lock "
            "('Multiple packages with the name … are selected')."
        ),
    )
)


@implements("duplicate", "set")
def duplicate(ctx: SetContext) -> Iterator[Finding]:
    first_pin: dict[tuple[str, str | None], RequirementEntry] = {}
    for entry in ctx.requirements:
        if not entry.pin:
            continue
        first = first_pin.setdefault((entry.name, entry.marker), entry)
        if first is not entry and first.pin != entry.pin:
            yield ctx.finding(
                "duplicate",
                entry.location,
                f"{entry.raw_name} is pinned to {entry.pin} here and to {first.pin} at "
                f"{first.location.path}:{first.location.line}; pip refuses the install "
                "(Double requirement given / conflicting requirements)",
                entry=entry,
                suppressed=entry.suppressed,
            )


@implements("duplicate", "lock-selection")
def duplicate_in_lock(ctx: SelectionContext) -> Iterator[Finding]:
    if ctx.selection.lock_refused is not None:
        return
    for refusal in ctx.selection.refused:
        if refusal.some_patches or refusal.key != "duplicate" or refusal.package is None:
            continue
        yield ctx.lock.finding(
            "duplicate",
            refusal.package.location,
            f"on {ctx.target.name} pip refuses the lock: '{refusal.message}'",
            refusal.package,
            target=ctx.target.name,
        )
