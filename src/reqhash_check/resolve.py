"""Choosing the version of a missing dependency that `--fix` pins (PinDependency), and of a
conflicting pin that `--fix` changes (RepinProject).

The newest release that is not yanked, satisfies every specifier on the dependency in the
file set, and has a file pip can install on every target where the dependency is needed;
then its own missing dependencies, the same way. When no release fits, the conflict is
reported with the specifiers that clash and nothing is added.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from reqhash_check.check.context import marker_applies
from reqhash_check.check.shared import combine_markers, without_extras
from reqhash_check.findings import PinDependency, RepinProject
from reqhash_check.index.base import (
    DistFile,
    Index,
    IndexQueryError,
    ReleaseFiles,
    ReleaseLookup,
)
from reqhash_check.targets import BinaryPolicy, Target, candidates

MAX_NEW_PINS = 200
"""A fix adds at most this many pins (a dependency tree is never this deep in one file)."""


@dataclass(frozen=True)
class NewPin:
    project: str
    version: str
    hashes: tuple[str, ...]
    marker: str | None
    via: tuple[str, ...]
    path: str
    release: ReleaseFiles


@dataclass
class _Want:
    project: str
    path: str
    specifiers: list[tuple[str, str]]
    markers: list[str | None]
    via: list[str]

    @property
    def marker(self) -> str | None:
        if any(m is None for m in self.markers):
            return None
        unique = list(dict.fromkeys(m for m in self.markers if m))
        if len(unique) == 1:
            return unique[0]
        return " or ".join(f"({m})" for m in unique)


def merge(wanted: Iterable[PinDependency]) -> list[_Want]:
    """One want per (file, dependency), whoever asks for it."""
    merged: dict[tuple[str, str], _Want] = {}
    for pin in wanted:
        key = (pin.path, pin.project)
        want = merged.setdefault(key, _Want(pin.project, pin.path, [], [], []))
        want.specifiers.extend(pin.specifiers)
        want.markers.append(pin.marker)
        want.via.append(pin.requirer)
    return list(merged.values())


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def choose_version(
    files: Sequence[DistFile],
    specifiers: Sequence[tuple[str, str]],
    targets: Sequence[Target],
    project: str,
    policy: BinaryPolicy,
) -> str | None:
    """The newest version that fits, or None."""
    try:
        wanted = [SpecifierSet(spec) for spec, _ in specifiers]
    except InvalidSpecifier:
        return None
    by_version: dict[str, list[DistFile]] = defaultdict(list)
    for file in files:
        by_version[file.version].append(file)
    ordered = sorted(
        ((v, text) for text in by_version if (v := _version(text)) is not None), reverse=True
    )
    for version, text in ordered:
        if version.is_prerelease and not any(s.prereleases for s in wanted):
            continue
        if not all(s.contains(version, prereleases=True) for s in wanted):
            continue
        release_files = by_version[text]
        if all(f.yanked for f in release_files):
            continue
        if all(candidates(t, release_files, project, policy, pinned=False) for t in targets):
            return text
    return None


def _hashes(
    release: ReleaseFiles,
    targets: Sequence[Target],
    policy: BinaryPolicy,
    targets_only: bool,
) -> tuple[str, ...]:
    files: Iterable[DistFile] = release.files
    if targets_only and targets:
        keep = {
            f.filename
            for t in targets
            for f in candidates(t, release.files, release.project, policy)
        }
        files = [f for f in release.files if f.filename in keep]
    return tuple(sorted({f"sha256:{f.sha256}" for f in files if f.sha256}))


async def resolve(
    index: Index,
    wanted: Iterable[PinDependency],
    pinned: Iterable[str],
    targets: Sequence[Target],
    policy: BinaryPolicy,
    *,
    targets_only: bool = False,
) -> tuple[list[NewPin], list[str]]:
    """The pins to add (in the order chosen) and the conflicts (one line each)."""
    taken: set[str] = {canonicalize_name(n) for n in pinned}
    queue = merge(wanted)
    added: list[NewPin] = []
    conflicts: list[str] = []
    while queue and len(added) < MAX_NEW_PINS:
        want = queue.pop(0)
        name = canonicalize_name(want.project)
        if name in taken:
            continue
        marker = want.marker
        needed_on = [t for t in targets if marker_applies(marker, t)] or list(targets)
        try:
            files = await index.project_files(name)
        except IndexQueryError as exc:
            conflicts.append(f"cannot pin {name}: {exc}")
            continue
        version = choose_version(files, want.specifiers, needed_on, name, policy)
        if version is None:
            asked = " and ".join(f"{spec} (from {who})" for spec, who in want.specifiers)
            conflicts.append(
                f"cannot pin {name}: no release that is not yanked"
                + (f" satisfies {asked} and" if asked else "")
                + f" installs on {', '.join(t.name for t in needed_on)}; nothing added"
            )
            continue
        try:
            release = await index.release(name, version)
        except IndexQueryError as exc:
            conflicts.append(f"cannot pin {name} {version}: {exc}")
            continue
        written = _version(release.version)
        if written is None:
            conflicts.append(f"cannot pin {name}: the index names an invalid version")
            continue
        taken.add(name)
        added.append(
            NewPin(
                project=name,
                version=str(written),  # as `--fix` writes it, so the re-check finds it
                hashes=_hashes(release, needed_on, policy, targets_only),
                marker=marker,
                via=tuple(dict.fromkeys(want.via)),
                path=want.path,
                release=release,
            )
        )
        queue.extend(_dependencies_of(release, marker, needed_on, want.path, taken))
    return added, conflicts


def _dependencies_of(
    release: ReleaseFiles,
    marker: str | None,
    targets: Sequence[Target],
    path: str,
    taken: set[str],
) -> list[_Want]:
    found: list[_Want] = []
    for text in release.requires_dist or ():
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        name = canonicalize_name(requirement.name)
        if name in taken:
            continue
        edge = requirement.marker
        if edge is not None and not any(marker_applies(str(edge), t) for t in targets):
            continue  # only wanted with an extra, or on targets not checked
        spec = str(requirement.specifier)
        found.append(
            _Want(
                name,
                path,
                [(spec, f"{release.project} {release.version}")] if spec else [],
                [combine_markers(marker, without_extras(edge))],
                [release.project],
            )
        )
    return found


def lookups_for(pins: Sequence[NewPin]) -> dict[tuple[str, str], ReleaseLookup]:
    return {(p.project, p.version): ReleaseLookup(release=p.release) for p in pins}


@dataclass(frozen=True)
class Repinned:
    fix: RepinProject
    version: str
    hashes: tuple[str, ...]
    release: ReleaseFiles


async def repin(
    index: Index,
    wanted: Iterable[RepinProject],
    targets: Sequence[Target],
    policy: BinaryPolicy,
    *,
    targets_only: bool = False,
) -> tuple[list[Repinned], list[str]]:
    """The new version of each conflicting pin, and the pins left as they are (one line
    each): the newest release every requirer accepts that installs on every target."""
    done: list[Repinned] = []
    refused: list[str] = []
    for fix in dict.fromkeys(wanted):
        name = fix.project
        asked = " and ".join(f"{spec} (from {who})" for spec, who in fix.specifiers)
        try:
            files = await index.project_files(name)
            version = choose_version(files, fix.specifiers, targets, name, policy)
            if version is None:
                refused.append(
                    f"cannot re-pin {name}: no release that is not yanked satisfies {asked} and "
                    f"installs on {', '.join(t.name for t in targets)}; nothing changed"
                )
                continue
            release = await index.release(name, version)
        except IndexQueryError as exc:
            refused.append(f"cannot re-pin {name}: {exc}")
            continue
        hashes = _hashes(release, targets, policy, targets_only)
        done.append(Repinned(fix, release.version, hashes, release))
    return done, refused
