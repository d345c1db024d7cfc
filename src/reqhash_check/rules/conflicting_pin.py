"""`conflicting-pin`: its documentation and its detections for requirements files (and so
Pipfile.lock) and for pylock.toml.

pip's resolver takes every pin as given; when a pinned project's metadata requires another
pinned project at a version its pin excludes (or a constraint excludes a requirement's pin),
no version can satisfy both and pip fails with ResolutionImpossible before it downloads
anything more.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reqhash_check.check.context import (
    SetContext,
    dependency_name_and_marker,
    marker_applies,
    parsed_requirement,
)
from reqhash_check.check.shared import RESOLUTION_IMPOSSIBLE, allows
from reqhash_check.findings import Finding, RepinProject, Severity
from reqhash_check.requirements import RequirementEntry
from reqhash_check.rulebook import H1, H2, E, Rule, define, implements
from reqhash_check.targets import Target

if TYPE_CHECKING:
    # A lock file's context: imported by the lock-file checker, never by a run that reads
    # requirements files only.
    from reqhash_check.lockfile.context import LockContext

RULE = define(
    Rule(
        "conflicting-pin",
        E,
        "A pinned version (in a requirements or a constraints file, or a lock's package) "
        "is not accepted by something else pip installs on a target: a pinned "
        "requirement's dependency specifier (its metadata, markers evaluated per target, "
        "extras honoured), or a constraint on the same project.",
        "fails before installing anything with 'Cannot install … because these package "
        "versions have conflicting dependencies', 'The conflict is caused by: … depends "
        "on …' and 'ResolutionImpossible'.",
        "One pin was bumped and the other was not, the file was compiled for another "
        "Python or platform, or a constraints file from another project was reused.",
        "Pin a version every requirer accepts (the message names each requirer and its "
        "specifier), or change the requirer's pin; recompile the file set as a whole.",
        "Faker==2.0.3 \\\n    " + H1 + "  # requires text-unidecode==1.3\n"
        "text-unidecode==1.2 \\\n    " + H2,
        needs_index=True,
        fixable="changes the pin to the newest non-yanked release that every requirer "
        "accepts and installs on every target, with its hashes (a new version of a "
        "dependency: review it); when no release fits, changes nothing and says which "
        "specifiers clash (pylock.toml: not fixed)",
        in_lock_files=(
            "A locked package's version that another package the lock installs on a "
            "target does not accept (its dependencies, markers applied): pip 26.3 "
            "refuses the lock with ResolutionImpossible. Not fixed automatically: lock "
            "again."
        ),
    )
)


@dataclass
class _Clash:
    """A specifier something installed puts on a pinned project."""

    pinned: RequirementEntry
    requirer: str
    specifier: str
    where: str | None = None
    """The requirer's line when it is a line of the file set (a constraint)."""
    inexact: bool = False
    targets: list[str] = field(default_factory=list)


def _wanted_on(
    text: str, requirer: RequirementEntry, target: Target, pins: Mapping[str, RequirementEntry]
) -> str | None:
    """The dependency's name when `requirer` needs it on `target` and it is one of `pins`,
    else None (the marker of a dependency nothing pins is not evaluated)."""
    parts = dependency_name_and_marker(text)
    if (
        parts is None
        or parts[0] not in pins
        or not any(marker_applies(parts[1], target, e) for e in ("", *requirer.extras))
    ):
        return None
    return parts[0]


def _edges_on(ctx: SetContext, target: Target) -> Iterator[_Clash]:
    """Every specifier something installed on the target puts on a pinned project."""
    pins = ctx.pins_on(target)
    for name, entry in pins.items():
        if not entry.pin:
            continue
        for constraint in ctx.constraints_on(name, target):
            if constraint.specifier and constraint is not entry:
                where = f"{constraint.location.path}:{constraint.location.line}"
                yield _Clash(entry, "the constraint", constraint.specifier, where)
    for requirer in dict.fromkeys(pins.values()):
        lookup = ctx.lookup(requirer)
        release = lookup.release if lookup is not None else None
        if not requirer.pin or release is None or release.requires_dist is None:
            continue
        for text in release.requires_dist:
            wanted = _wanted_on(text, requirer, target, pins)
            pinned = pins.get(wanted) if wanted else None
            requirement = parsed_requirement(text)
            if pinned is None or pinned is requirer or not pinned.pin or requirement is None:
                continue
            if requirement.specifier:
                yield _Clash(
                    pinned,
                    f"{requirer.raw_name} {requirer.pin}",
                    str(requirement.specifier),
                    inexact=not release.requires_dist_exact,
                )


@implements("conflicting-pin", "set")
def conflicting_pin(ctx: SetContext) -> Iterator[Finding]:
    found: dict[tuple[int, str, str], _Clash] = {}
    asked: dict[int, dict[tuple[str, str], None]] = {}
    for target in ctx.options.targets:
        for edge in _edges_on(ctx, target):
            who = f"{edge.requirer} at {edge.where}" if edge.where else edge.requirer
            asked.setdefault(id(edge.pinned), {})[(edge.specifier, who)] = None
            if edge.pinned.pin and not allows(edge.specifier, edge.pinned.pin):
                key = (id(edge.pinned), who, edge.specifier)
                found.setdefault(key, edge).targets.append(target.name)
    for clash in found.values():
        entry = clash.pinned
        assert entry.pin is not None
        fix = RepinProject(
            entry.location, entry.raw, entry.name, entry.pin, tuple(asked[id(entry)])
        )
        who = f"{clash.requirer} at {clash.where}" if clash.where else clash.requirer
        message = (
            f"{entry.raw_name} is pinned to {entry.pin} here, but {who} requires "
            f"{entry.raw_name}{clash.specifier} (on {', '.join(clash.targets)}); pip fails "
            f"with {RESOLUTION_IMPOSSIBLE}. Pin a version that satisfies {clash.specifier}, "
            f"or change the pin of {clash.requirer if not clash.where else 'the constraint'}"
        )
        if clash.inexact:
            message += (
                ". The index publishes no metadata file for the requirer's release, so this "
                "comes from its JSON summary, which the wheel pip installs may contradict"
            )
        yield ctx.finding(
            "conflicting-pin",
            entry.location,
            message,
            entry=entry,
            suppressed=entry.suppressed,
            target=clash.targets[0] if len(clash.targets) == 1 else None,
            severity=Severity.WARNING if clash.inexact else None,
            fix=fix,
        )


@implements("conflicting-pin", "lock-file")
def conflicting_pin_in_lock(ctx: LockContext) -> Iterator[Finding]:
    gaps = ctx.dependency_gaps
    by_position = {p.position: p for p in ctx.lock.packages}
    for (position, requirer, specifier), targets in sorted(gaps.conflicts.items()):
        package, wants = by_position[position], by_position[requirer]
        names = list(dict.fromkeys(targets))
        yield ctx.finding(
            "conflicting-pin",
            package.location,
            f"{package.name} is locked at {package.version}, but {wants.name} "
            f"{wants.version} requires {package.name}{specifier} (on {', '.join(names)}); "
            "pip fails with 'Cannot install … because these package versions have "
            "conflicting dependencies' and 'ResolutionImpossible'. Lock a version that "
            f"satisfies {specifier}, or change the version of {wants.name}",
            package,
            target=names[0] if len(names) == 1 else None,
            severity=None if requirer not in gaps.inexact else Severity.WARNING,
        )
