"""What the lock-file detections are called with: frozen contexts over a parsed lock, the
index's answers and the targets, and the facts several detections share (computed once).

How pip (26.1+) treats a lock differs from a requirements file, and the rules follow it:

* each archive is checked against its own entry's hashes only: a wheel entry carrying
  another wheel's hash fails even though that hash is a published file of the release;
* pip never asks the index about a locked package, it downloads the locked URL, so the
  index tells only what that file should be;
* an archive with no hashes makes the whole lock invalid before anything is downloaded;
* on a target, pip installs the file the lock selects (markers, `requires-python`, wheel
  tags) and nothing else: a problem with a file that no checked target selects does not
  fail pip there. Such findings are warnings; the same finding is an error when a checked
  target installs the file.

Light on purpose: the TOML reader and the selection are imported only where a lock is
checked (`reqhash_check.rules` imports the detections to document them).
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING
from urllib.parse import unquote

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

from reqhash_check.check.shared import allows
from reqhash_check.findings import Finding, HashSet, Location, RewriteLockEntries, Severity
from reqhash_check.index.base import DistFile, ReleaseFiles, ReleaseLookup
from reqhash_check.rulebook import RULES
from reqhash_check.targets import BinaryPolicy, Target

if TYPE_CHECKING:
    from reqhash_check.lockfile.read import LockedFile, LockedPackage, LockFile
    from reqhash_check.lockfile.select import Selection

__all__ = [
    "MISMATCH",
    "FileKey",
    "FileVerdict",
    "LockCheckOptions",
    "LockContext",
    "PackageContext",
    "SelectionContext",
    "file_key",
    "hash_problems",
    "lock_problems",
    "wrong_hashes",
]

_HEX = re.compile(r"^[0-9a-fA-F]+$")
MISMATCH = "THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE"

FileKey = tuple[int, str, int]
"""(package position, "wheel" | "sdist" | "archive", position in wheels)."""


def file_key(package: LockedPackage, file: LockedFile) -> FileKey:
    return (package.position, file.kind, file.position)


@dataclass(frozen=True)
class LockCheckOptions:
    targets: tuple[Target, ...] = ()
    policy: BinaryPolicy = field(default_factory=BinaryPolicy)


@dataclass(frozen=True)
class FileVerdict:
    """A locked file whose hashes the index's listing does not confirm."""

    file: LockedFile
    rule: str
    """"stale-hash", "foreign-hash", or "unverifiable" (nothing comparable is listed)."""
    detail: str
    published: DistFile | None
    certain: bool = True
    """False when the entry also lists a hash the index cannot confirm, which may match."""


@dataclass(frozen=True)
class DependencyGaps:
    missing: Mapping[tuple[int, str], tuple[str, ...]]
    """(requirer position, dependency) → the targets on which the lock does not install it."""
    conflicts: Mapping[tuple[int, int, str], tuple[str, ...]]
    """(locked position, requirer position, specifier) → the targets it clashes on."""
    inexact: frozenset[int]
    """Packages whose dependencies come from the index's JSON summary, not a metadata file."""


@dataclass(frozen=True)
class LockContext:
    """A whole lock: the `lock-file` scope."""

    lock: LockFile
    lookups: Mapping[int, ReleaseLookup]
    options: LockCheckOptions
    selections: tuple[Selection, ...]
    """What pip selects from the lock on each target, in the targets' order."""

    # -- where pip meets a package or file ------------------------------------------------

    @cached_property
    def file_targets(self) -> Mapping[FileKey, tuple[str, ...]]:
        found: dict[FileKey, list[str]] = defaultdict(list)
        for selection in self.selections:
            for choice in selection.chosen:
                if choice.file is not None:
                    found[file_key(choice.package, choice.file)].append(selection.target.name)
        return {key: tuple(names) for key, names in found.items()}

    @cached_property
    def package_targets(self) -> Mapping[int, tuple[str, ...]]:
        found: dict[int, list[str]] = defaultdict(list)
        for selection in self.selections:
            for choice in selection.chosen:
                found[choice.package.position].append(selection.target.name)
            for refusal in selection.refused:
                if refusal.package is not None and not refusal.some_patches:
                    found[refusal.package.position].append(selection.target.name)
        return {key: tuple(names) for key, names in found.items()}

    @cached_property
    def hashed(self) -> bool:
        return any(f.hashes for p in self.lock.packages for f in p.files)

    def stake(self, targets: Sequence[str]) -> tuple[Severity, str, str | None]:
        """Severity, where pip meets the problem (a clause), and the one target if only one.

        pip only ever touches what it selects: a problem no checked target meets is a
        warning, the same problem is an error when a checked target meets it."""
        names = list(dict.fromkeys(targets))
        if not names:
            return Severity.WARNING, "no checked target installs it; pip fails where one does", None
        where = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        return Severity.ERROR, f"pip installs it on {where}", names[0] if len(names) == 1 else None

    def finding(
        self,
        rule_id: str,
        location: Location,
        message: str,
        package: LockedPackage | None = None,
        *,
        project: str | None = None,
        severity: Severity | None = None,
        hashes: HashSet | None = None,
        target: str | None = None,
        fix: RewriteLockEntries | None = None,
    ) -> Finding:
        rule = RULES[rule_id]
        return Finding(
            rule=rule_id,
            severity=severity or rule.severity,
            location=location,
            project=package.name if package is not None else project,
            version=package.version if package is not None else None,
            message=message,
            kb=rule.kb,
            hashes=hashes,
            target=target,
            fix=fix,
            suppressed=package is not None and rule_id in package.suppressed,
        )

    # -- what the index says about the locked files ---------------------------------------

    def release(self, package: LockedPackage) -> ReleaseFiles | None:
        """The package's release as the index lists it, when it was found."""
        lookup = self.lookups.get(package.position)
        if lookup is None or package.version is None or lookup.missing is not None:
            return None
        return lookup.release

    @cached_property
    def verdicts(self) -> Mapping[FileKey, FileVerdict]:
        """Each locked file with well-formed hashes whose hashes the index does not confirm."""
        found: dict[FileKey, FileVerdict] = {}
        for package in self.lock.packages:
            release = self.release(package)
            if release is None:
                continue
            lookup = self.lookups[package.position]
            for file in package.files:
                if hash_problems(file):
                    continue
                verdict = _compare_file(package, file, release, lookup)
                if verdict is not None:
                    found[file_key(package, file)] = verdict
        return found

    @cached_property
    def wrong_files(self) -> Mapping[FileKey, DistFile | None]:
        """Files whose hashes are wrong → the published file of that name (None: unpublished)."""
        return {
            key: verdict.published
            for key, verdict in self.verdicts.items()
            if verdict.rule in ("stale-hash", "foreign-hash")
        }

    def hash_location(self, file: LockedFile) -> Location:
        lines = sorted(file.hash_lines.values())
        return Location(self.lock.path, lines[0], lines[-1]) if lines else file.location

    # -- wheels the lock lacks ------------------------------------------------------------

    def published_wheel_for(self, package: LockedPackage, target: Target) -> DistFile | None:
        """The wheel the index publishes that pip would pick on `target`, if any."""
        from reqhash_check.lockfile.read import LockedFile
        from reqhash_check.lockfile.select import best_wheel

        lookup = self.lookups.get(package.position)
        if lookup is None or lookup.release is None:
            return None
        if not self.options.policy.allows_wheel(package.name):
            return None
        ranks: dict[object, int] = {}
        for rank, tag in enumerate(target.tags):
            ranks.setdefault(tag, rank)
        candidates = [
            LockedFile(
                "wheel", i, f.filename, f.url, None, dict(f.hashes), None, None, package.location
            )
            for i, f in enumerate(lookup.release.files)
            if f.is_wheel and not f.yanked and f.sha256
        ]
        best = best_wheel(tuple(candidates), ranks)  # type: ignore[arg-type]
        if best is None:
            return None
        return next(f for f in lookup.release.files if f.filename == best.filename)

    def fallback_wheel(
        self, package: LockedPackage, file: LockedFile, target: Target
    ) -> DistFile | None:
        """The published wheel pip would take on `target` if the lock listed it, when the
        lock lacks it and pip installs `file`, a lesser one (the sdist, a less specific
        wheel), instead."""
        if file.kind == "archive" or not self.options.policy.allows_wheel(package.name):
            return None
        wheel = self.published_wheel_for(package, target)
        if wheel is None or wheel.filename in {w.filename for w in package.wheels}:
            return None
        if file.is_wheel and _rank(file.filename, target) <= _rank(wheel.filename, target):
            return None
        return wheel

    @cached_property
    def missing_wheels(self) -> Mapping[int, tuple[DistFile, ...]]:
        """Package position → wheels the index publishes for targets the lock has none for
        (what `--fix` adds)."""
        found: dict[int, dict[str, DistFile]] = defaultdict(dict)
        for selection in self.selections:
            if selection.lock_refused is not None:
                continue
            target = selection.target
            for refusal in selection.refused:
                if refusal.package is None or refusal.some_patches or refusal.key != "no-wheel":
                    continue
                wheel = self.published_wheel_for(refusal.package, target)
                if wheel is not None:
                    found[refusal.package.position][wheel.filename] = wheel
            for choice in selection.chosen:
                if choice.file is None:
                    continue
                wheel = self.fallback_wheel(choice.package, choice.file, target)
                if wheel is not None:
                    found[choice.package.position][wheel.filename] = wheel
        return {k: tuple(v.values()) for k, v in found.items()}

    # -- dependencies ---------------------------------------------------------------------

    @cached_property
    def dependency_gaps(self) -> DependencyGaps:
        """What each target's selection leaves out of its packages' dependencies, and the
        locked versions a dependency specifier does not accept."""
        missing: dict[tuple[int, str], list[str]] = defaultdict(list)
        conflicts: dict[tuple[int, int, str], list[str]] = defaultdict(list)
        inexact: set[int] = set()
        for selection in self.selections:
            if selection.lock_refused is not None:
                continue
            clashes: set[tuple[int, int, str]] = set()
            for position, dependency in self._missing_on(selection, inexact, clashes):
                missing[(position, dependency)].append(selection.target.name)
            for clash in clashes:
                conflicts[clash].append(selection.target.name)
        return DependencyGaps(
            {k: tuple(v) for k, v in missing.items()},
            {k: tuple(v) for k, v in conflicts.items()},
            frozenset(inexact),
        )

    def _missing_on(
        self, selection: Selection, inexact: set[int], clashes: set[tuple[int, int, str]]
    ) -> list[tuple[int, str]]:
        """The (requirer, dependency) pairs the selection leaves out; `clashes` gains each
        (locked package, requirer, specifier) where the locked version is not accepted."""
        environment = dict(selection.target.marker_environment)
        chosen = {c.package.name: c.package for c in selection.chosen}
        refused = {
            r.package.name
            for r in selection.refused
            if r.package is not None and not r.some_patches
        }
        extras: dict[str, set[str]] = {name: set() for name in chosen}
        found: set[tuple[int, str]] = set()
        changed = True
        rounds = 0
        while changed and rounds < 50:
            changed = False
            rounds += 1
            for name, package in chosen.items():
                lookup = self.lookups.get(package.position)
                release = lookup.release if lookup is not None else None
                if release is None or release.requires_dist is None:
                    continue
                if not release.requires_dist_exact:
                    inexact.add(package.position)
                for requirement in _requirements(release.requires_dist):
                    if not _applies(requirement, environment, extras[name]):
                        continue
                    dependency = canonicalize_name(requirement.name)
                    if dependency in chosen:
                        locked = chosen[dependency]
                        if locked.version is not None and not allows(
                            str(requirement.specifier), locked.version
                        ):
                            clashes.add(
                                (locked.position, package.position, str(requirement.specifier))
                            )
                        new = {canonicalize_name(e) for e in requirement.extras} - extras[
                            dependency
                        ]
                        if new:
                            extras[dependency] |= new
                            changed = True
                    elif dependency not in refused:
                        found.add((package.position, dependency))
        return sorted(found)


@dataclass(frozen=True)
class PackageContext:
    """One `[[packages]]` entry and the index's answer for it: the `lock-package` scope."""

    lock: LockContext
    package: LockedPackage

    @property
    def lookup(self) -> ReleaseLookup | None:
        return self.lock.lookups.get(self.package.position)

    @property
    def release(self) -> ReleaseFiles | None:
        return self.lock.release(self.package)

    def stake(self) -> tuple[Severity, str, str | None]:
        return self.lock.stake(self.lock.package_targets.get(self.package.position, ()))

    def finding(self, rule_id: str, location: Location, message: str, **extra: object) -> Finding:
        return self.lock.finding(
            rule_id,
            location,
            message,
            self.package,
            **extra,  # type: ignore[arg-type]
        )

    def verdicts(self, rule_id: str) -> list[FileVerdict]:
        """The package's files the index does not confirm, of one rule, in file order."""
        found = (self.lock.verdicts.get(file_key(self.package, f)) for f in self.package.files)
        return [v for v in found if v is not None and v.rule == rule_id]


@dataclass(frozen=True)
class SelectionContext:
    """What pip selects from the lock on one target: the `lock-selection` scope."""

    lock: LockContext
    selection: Selection

    @property
    def target(self) -> Target:
        return self.selection.target


def hash_problems(file: LockedFile) -> list[tuple[str, str]]:
    """(algorithm, why) for each hash pip cannot use: a name `hashlib` does not know, or a
    digest of the wrong shape."""
    found = []
    for algorithm, digest in file.hashes.items():
        try:
            expected = hashlib.new(algorithm).digest_size * 2
        except (ValueError, TypeError):
            expected = None
        if expected is None or algorithm.lower().startswith("shake"):
            found.append(
                (
                    algorithm,
                    f"{algorithm!r} is not a hash algorithm pip can compute: it stops with "
                    f"'Unknown hash name: {algorithm}' once it has downloaded the file",
                )
            )
        elif len(digest) != expected or not _HEX.match(digest):
            found.append(
                (
                    algorithm,
                    f"a {algorithm} digest is {expected} hexadecimal digits, this one is "
                    f"{len(digest)} characters"
                    + ("" if _HEX.match(digest or "x") else " and not hexadecimal")
                    + f"; no file can match it, so pip fails with '{MISMATCH}'",
                )
            )
    return found


def _compare_file(
    package: LockedPackage, file: LockedFile, release: ReleaseFiles, lookup: ReleaseLookup
) -> FileVerdict | None:
    published = _published_file(release, file)
    listed = {a.lower(): d.lower() for a, d in file.hashes.items()}
    if published is not None:
        stated = {a.lower(): d.lower() for a, d in published.hashes.items()}
        comparable = [a for a in listed if a in stated]
        if any(listed[a] == stated[a] for a in comparable):
            return None
        if not comparable:
            return FileVerdict(
                file,
                "unverifiable",
                f"the lock lists only {', '.join(sorted(listed))} hashes, which the index does "
                "not publish; pip checks them after downloading, this check cannot",
                published,
            )
    unknown = listed.get("sha256")
    comparable_algorithms = {a.lower() for a in published.hashes} if published else {"sha256"}
    certain = set(listed) <= comparable_algorithms
    origin = lookup.history.get(unknown) if unknown else None
    if origin is None and unknown:
        origin = next((f for f in release.files if f.sha256 == unknown), None)
    where_named = (
        ""
        if published is not None
        else f"the index publishes no file named {file.filename} for {package.name} "
        f"{package.version}; "
    )
    if origin is not None:
        same = origin.version == package.version
        belongs = f"its hash is that of {origin.filename}" + (
            ", another file of the same release: each archive in a lock is checked "
            "against its own hashes only"
            if same
            else f" ({package.name} {origin.version}): the version was changed "
            "without locking its files again"
        )
        return FileVerdict(file, "stale-hash", where_named + belongs, published, certain)
    return FileVerdict(
        file,
        "foreign-hash",
        where_named + f"its hash matches nothing {package.name} has published (corrupted, tampered "
        "with, or from another index)",
        published,
        certain,
    )


def _requirements(requires_dist: Sequence[str]) -> list[Requirement]:
    return [r for r in map(_requirement, requires_dist) if r is not None]


def _requirement(text: str) -> Requirement | None:
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


def _applies(requirement: Requirement, environment: Mapping[str, str], extras: set[str]) -> bool:
    if requirement.marker is None:
        return True
    for extra in ("", *sorted(extras)):
        try:
            if requirement.marker.evaluate({**environment, "extra": extra}):
                return True
        except Exception:  # noqa: PERF203 - an undefined variable makes the marker false
            continue
    return False


def _published_file(release: ReleaseFiles, file: LockedFile) -> DistFile | None:
    names = {file.filename, unquote(file.filename)}
    for published in release.files:
        if published.filename in names:
            return published
    lowered = {n.lower() for n in names}
    return next((p for p in release.files if p.filename.lower() in lowered), None)


def _rank(filename: str, target: Target) -> int:
    """The wheel's best tag's place in the target's list (lower is better)."""
    try:
        tags = parse_wheel_filename(filename)[3]
    except ValueError:
        return len(target.tags)
    ranks = [i for i, tag in enumerate(target.tags) if tag in tags]
    return min(ranks, default=len(target.tags))


def lock_problems(ctx: LockContext, rule_id: str) -> Iterator[Finding]:
    """What pip refuses before it downloads anything, as the reader found it."""
    for problem in ctx.lock.problems:
        if problem.rule == rule_id:
            yield ctx.finding(rule_id, problem.location, problem.message, project=problem.project)


def wrong_hashes(ctx: PackageContext, rule_id: str) -> Iterator[Finding]:
    """One finding for all of the package's files whose hashes are wrong in the same way."""
    group = ctx.verdicts(rule_id)
    if not group:
        return
    package = ctx.package
    targets = [
        name
        for verdict in group
        for name in ctx.lock.file_targets.get(file_key(package, verdict.file), ())
    ]
    severity, where, target = ctx.lock.stake(targets)
    if not all(verdict.certain for verdict in group):
        severity = Severity.WARNING
    lines = sorted(line for verdict in group for line in verdict.file.hash_lines.values())
    location = Location(ctx.lock.lock.path, lines[0], lines[-1]) if lines else package.location
    details = "; ".join(f"{v.file.filename}: {v.detail}" for v in group[:3])
    if len(group) > 3:
        details += f"; and {len(group) - 3} more"
    count = len(group)
    listed = tuple(
        f"{a.lower()}:{d.lower()}" for v in group for a, d in sorted(v.file.hashes.items())
    )
    expected = tuple(
        f"sha256:{v.published.sha256}" for v in group if v.published and v.published.sha256
    )
    yield ctx.finding(
        rule_id,
        location,
        f"{count} locked {'file does' if count == 1 else 'files do'} not carry the hash "
        f"the index publishes for {'it' if count == 1 else 'them'} ({details}); pip fails "
        f"with '{MISMATCH}' when it installs such a file ({where})",
        severity=severity,
        target=target,
        hashes=HashSet(listed=listed, expected=expected),
        fix=RewriteLockEntries(package.name, package.version or ""),
    )
