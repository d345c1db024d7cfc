"""`missing-dependency`: its documentation and its detections for requirements files (and so
Pipfile.lock) and for pylock.toml.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from reqhash_check.check.context import (
    PIP_TAKES_CONSTRAINT_HASHES,
    EntryContext,
    SetContext,
    TargetContext,
    parsed_requirement,
)
from reqhash_check.check.shared import (
    HASHES_REQUIRED,
    PINNED_REQUIRED,
    allows,
    combine_markers,
    without_extras,
)
from reqhash_check.findings import Finding, PinDependency, Severity
from reqhash_check.requirements import RequirementEntry
from reqhash_check.rulebook import H1, E, Rule, define, implements
from reqhash_check.targets import Target

if TYPE_CHECKING:
    # A lock file's context: imported by the lock-file checker, never by a run that reads
    # requirements files only.
    from reqhash_check.lockfile.context import LockContext

RULE = define(
    Rule(
        "missing-dependency",
        E,
        "Hash-checking mode is on and a dependency of a pinned requirement (its metadata, "
        "markers evaluated per target, extras honoured) is not pinned in the file set.",
        "fails with 'In --require-hashes mode, all requirements must have their versions "
        "pinned with ==. These do not:' naming the dependency, or, when the requirer "
        "itself pins it with ==, 'Hashes are required in --require-hashes mode, but they "
        "are missing from some requirements' (pip needs every dependency pinned and "
        "hashed).",
        "The file was edited by hand, a new version of a package gained a dependency, or "
        "the file was compiled on another platform (a dependency needed only on Windows). "
        "With a constraints file (-c): a hashed pin there counts from pip 26.1 on, which "
        "takes the dependency's hashes from it (from several hashed constraints on one "
        "project, only the hashes they all list: none in common fails as unpinned); older "
        "pips only filter files with it and still fail.",
        "Pin the dependency with its hashes (pip-compile --generate-hashes and uv do this "
        "for the whole tree), in the requirements file when a pip older than 26.1 "
        "installs.",
        f"tqdm==4.67.1 \\\n    {H1}  # needs colorama on Windows",
        needs_index=True,
        fixable="adds the newest non-yanked version that satisfies every specifier on it "
        "and installs on every target, hashed, with the requiring edge's marker and a "
        "'# via' comment, at its sorted place; its own missing dependencies too",
        in_lock_files=(
            "A dependency (from the index's metadata, markers and extras per target; else "
            "from the lock's own `dependencies`, as a warning) that the lock does not "
            "install on a target: pip then asks the index for it and fails in hash-checking "
            "mode."
        ),
        in_pipfile_lock=(
            "A warning, and not fixed: pipenv installs the lock with `pip install --no-deps`, "
            "so pip does not fail, but the environment lacks the dependency; run "
            "`pipenv lock` to add it."
        ),
    )
)


@dataclass
class _Need:
    """A dependency no line pins, and where it is needed."""

    requirement: Requirement
    targets: list[str] = field(default_factory=list)
    patch_dependent: bool = False
    """Needed on some patch releases of the target's Python only (a python_full_version
    marker, and a target that names no patch release)."""
    constraint: RequirementEntry | None = None
    """A hashed constraint that pip 26.1 and later would take the dependency's pin from."""


_HIGHEST_PATCH = "99"


def _wanted(marker: Marker | None, environment: dict[str, str], extras: tuple[str, ...]) -> bool:
    if marker is None:
        return True
    try:
        return any(marker.evaluate({**environment, "extra": e}) for e in extras)
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        # `python_version ~= "3"` from an index: pip cannot evaluate it either, and fails.
        return True


def _on_patches(
    marker: Marker | None, target: Target, extras: tuple[str, ...]
) -> tuple[bool, bool]:
    """(wanted on the target's first patch release, wanted on a late one). A target given
    as X.Y says nothing of its patch release; pip running on the real host knows it."""
    environment = dict(target.marker_environment)
    first = _wanted(marker, environment, extras)
    if (
        marker is None
        or len(target.python_version) >= 3
        or "python_full_version" not in str(marker)
    ):
        return first, first
    major_minor = ".".join(str(p) for p in target.python_version[:2])
    environment["python_full_version"] = f"{major_minor}.{_HIGHEST_PATCH}"
    return first, _wanted(marker, environment, extras)


def _pinned_exactly(requirement: Requirement) -> bool:
    specs = list(requirement.specifier)
    return len(specs) == 1 and (
        specs[0].operator == "===" or (specs[0].operator == "==" and "*" not in specs[0].version)
    )


def _needs(ctx: SetContext, entry: RequirementEntry, requires: tuple[str, ...]) -> dict[str, _Need]:
    # An entry pip cannot parse is invalid-metadata's to report.
    parsed = [r for r in map(parsed_requirement, requires) if r is not None]
    extras = ("", *entry.extras)
    needs: dict[str, _Need] = {}
    for target in ctx.used_on(entry):
        for requirement in parsed:
            name = canonicalize_name(requirement.name)
            if name in ctx.pinned_names or name == entry.name:
                continue
            constraint = ctx.hashed_constraint(name, target)
            if constraint is not None and _constraint_answers(ctx, constraint, requirement, target):
                continue
            early, late = _on_patches(requirement.marker, target, extras)
            if early or late:
                need = needs.setdefault(name, _Need(requirement))
                need.targets.append(target.name)
                need.patch_dependent |= early != late
                if constraint is not None:
                    need.constraint = constraint
    return needs


def _constraint_answers(
    ctx: SetContext, constraint: RequirementEntry, requirement: Requirement, target: Target
) -> bool:
    """Whether a hashed constraint settles the dependency on this target, so that pip does
    not fail on it being unpinned: pip 26.1 and later take its hashes and pin the version
    they match; older pips get no further than the constraint itself when it leaves them no
    file (no-installable-file, unknown-version or conflicting-pin says so at its line)."""
    if ctx.pip_fails(PIP_TAKES_CONSTRAINT_HASHES):
        # Unless the constraints' hash sets share no hash: pip then has none to take.
        return bool(ctx.constraint_hashes_left(constraint.name, target))
    lookup = ctx.lookup(constraint)
    if lookup is None:
        return False
    if lookup.missing is not None:
        return True
    if constraint.pin and not all(
        allows(specifier, constraint.pin)
        for specifier in (
            str(requirement.specifier),
            *(c.specifier for c in ctx.constraints_on(constraint.name, target)),
        )
    ):
        return True  # no version is left: conflicting-pin says so at the constraint
    if lookup.release is None:
        return False
    pick = TargetContext(EntryContext(ctx, constraint), target).pick
    return not pick.candidates


@implements("missing-dependency", "set")
def missing_dependency(ctx: SetContext) -> Iterator[Finding]:
    if not ctx.hash_mode:
        return
    # A constraint's dependencies are read once, at the constraint pip takes the version from.
    used = [c for c in ctx.constraints if ctx.decides_on(c)]
    for entry in (*ctx.requirements, *used):
        lookup = ctx.lookup(entry)
        release = lookup.release if lookup is not None else None
        if release is None or release.requires_dist is None:
            continue
        exact = release.requires_dist_exact
        for dependency, need in sorted(_needs(ctx, entry, release.requires_dist).items()):
            requirement = need.requirement
            specifier = str(requirement.specifier)
            where = ", ".join(need.targets)
            fix = None
            if exact:
                fix = PinDependency(
                    project=dependency,
                    specifiers=((specifier, f"{entry.raw_name} {entry.pin}"),) if specifier else (),
                    marker=combine_markers(entry.marker, without_extras(requirement.marker)),
                    requirer=entry.raw_name,
                    path=entry.location.path,
                )
            pip_says = HASHES_REQUIRED if _pinned_exactly(requirement) else PINNED_REQUIRED
            message = (
                f"{entry.raw_name} {entry.pin} depends on {dependency}"
                + (f" ({specifier})" if specifier else "")
                + (
                    ", which only a constraint pins"
                    if need.constraint is not None
                    else ", which no file in this set pins"
                )
                + f" (on {where}); pip fails with {pip_says}. Pin {dependency} with its hashes"
            )
            if need.constraint is not None and ctx.pip_fails(PIP_TAKES_CONSTRAINT_HASHES):
                lines = ", ".join(
                    f"{c.location.path}:{c.location.line}"
                    for c in ctx.constraints
                    if c.name == dependency and c.hashes
                )
                message += (
                    f" in a requirements file: its hashed constraints ({lines}) share no hash, "
                    "so pip has none to take for the dependency"
                )
            elif need.constraint is not None:
                where_pinned = need.constraint.location
                message += (
                    f" in a requirements file: the constraint at {where_pinned.path}:"
                    f"{where_pinned.line} pins it with hashes, which pip 26.1 and later take "
                    "for the dependency; older pips do not"
                )
            if need.patch_dependent:
                message += (
                    f". Only on some patch releases of that Python ({requirement.marker}): "
                    "pip on a later or earlier one does not need it"
                )
            if not exact:
                message += (
                    ". The index publishes no metadata file for this release, so this comes "
                    "from its JSON summary, which the wheel pip installs may contradict"
                )
            yield ctx.finding(
                "missing-dependency",
                entry.location,
                message,
                entry=entry,
                suppressed=entry.suppressed,
                target=need.targets[0] if len(need.targets) == 1 else None,
                severity=None if exact and not need.patch_dependent else Severity.WARNING,
                fix=fix,
            )


@implements("missing-dependency", "lock-file")
def missing_dependency_in_lock(ctx: LockContext) -> Iterator[Finding]:
    gaps = ctx.dependency_gaps
    by_position = {p.position: p for p in ctx.lock.packages}
    for (position, dependency), targets in sorted(gaps.missing.items()):
        package = by_position[position]
        exact = position not in gaps.inexact
        names = list(dict.fromkeys(targets))
        yield ctx.finding(
            "missing-dependency",
            package.location,
            f"{package.name} {package.version} depends on {dependency}, which the lock "
            f"does not install (on {', '.join(names)}); pip then asks the index for it and "
            "fails in hash-checking mode ('Hashes are required in --require-hashes mode' "
            "or 'all requirements must have their versions pinned with =='). Lock "
            f"{dependency} too"
            + (
                ""
                if exact
                else ". The index publishes no metadata file for this release, so this "
                "comes from its JSON summary, which the wheel pip installs may contradict"
            ),
            package,
            target=names[0] if len(names) == 1 else None,
            severity=None if exact else Severity.WARNING,
        )
    # Without metadata from the index, the lock's own `dependencies` lists are all there is.
    for package in ctx.lock.packages:
        lookup = ctx.lookups.get(package.position)
        if lookup is not None and lookup.release is not None:
            if lookup.release.requires_dist is not None:
                continue
        if not ctx.package_targets.get(package.position):
            continue
        for dependency in sorted(set(package.dependencies) - ctx.lock.package_names):
            yield ctx.finding(
                "missing-dependency",
                package.location,
                f"the lock lists {dependency} among the dependencies of {package.name} but "
                "has no [[packages]] entry for it; pip would ask the index for it and fail "
                "in hash-checking mode",
                package,
                severity=Severity.WARNING,
            )
