"""Lock findings: a parsed lock + what the index publishes + targets → findings. No I/O.

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
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

from reqhash_check.check import CheckResult, ReleaseLookup
from reqhash_check.check.conflicts import allows
from reqhash_check.findings import (
    Finding,
    HashSet,
    Location,
    RewriteLockEntries,
    Severity,
    Unverified,
)
from reqhash_check.index.base import DistFile, ReleaseFiles
from reqhash_check.index.urls import redact_url
from reqhash_check.lockfile.read import LockedFile, LockedPackage, LockFile
from reqhash_check.lockfile.select import (
    Selection,
    best_wheel,
    select_for_target,
    some_patches_note,
)
from reqhash_check.rules import RULES
from reqhash_check.targets import BinaryPolicy, Target

__all__ = ["FileKey", "LockCheck", "LockCheckOptions", "check_lock", "file_key"]

_HEX = re.compile(r"^[0-9a-fA-F]+$")
_LOOPBACK = ("localhost", "127.0.0.1", "::1")
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
class LockCheck:
    result: CheckResult
    selections: tuple[Selection, ...]
    wrong_files: Mapping[FileKey, DistFile | None]
    """Files whose hashes are wrong → the published file of that name (None: unpublished)."""
    missing_wheels: Mapping[int, tuple[DistFile, ...]]
    """Package position → wheels the index publishes for targets the lock has none for."""


def check_lock(
    lock: LockFile, lookups: Mapping[int, ReleaseLookup], options: LockCheckOptions
) -> LockCheck:
    checker = _LockChecker(lock, lookups, options)
    checker.run()
    findings = sorted(checker.findings, key=lambda f: f.sort_key)
    return LockCheck(
        CheckResult(tuple(dict.fromkeys(findings)), tuple(checker.unverified)),
        checker.selections,
        checker.wrong_files,
        {k: tuple(v.values()) for k, v in checker.missing_wheels.items()},
    )


@dataclass(frozen=True)
class _FileProblem:
    file: LockedFile
    rule: str
    detail: str
    published: DistFile | None
    certain: bool = True
    """False when the entry also lists a hash the index cannot confirm, which may match."""


class _LockChecker:
    def __init__(
        self, lock: LockFile, lookups: Mapping[int, ReleaseLookup], options: LockCheckOptions
    ) -> None:
        self.lock = lock
        self.lookups = lookups
        self.options = options
        self.findings: list[Finding] = []
        self.unverified: list[Unverified] = []
        self.wrong_files: dict[FileKey, DistFile | None] = {}
        self.missing_wheels: dict[int, dict[str, DistFile]] = defaultdict(dict)
        self.selections = tuple(
            select_for_target(lock, target, options.policy) for target in options.targets
        )
        self.file_targets: dict[FileKey, list[str]] = defaultdict(list)
        self.package_targets: dict[int, list[str]] = defaultdict(list)
        for selection in self.selections:
            for choice in selection.chosen:
                self.package_targets[choice.package.position].append(selection.target.name)
                if choice.file is not None:
                    key = file_key(choice.package, choice.file)
                    self.file_targets[key].append(selection.target.name)
            for refusal in selection.refused:
                if refusal.package is not None and not refusal.some_patches:
                    self.package_targets[refusal.package.position].append(selection.target.name)
        self.hashed = any(f.hashes for p in lock.packages for f in p.files)

    # -- emitting -------------------------------------------------------------------------

    def emit(
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
    ) -> None:
        rule = RULES[rule_id]
        self.findings.append(
            Finding(
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
        )

    def _stake(self, targets: Sequence[str]) -> tuple[Severity, str, str | None]:
        """Severity, where pip meets the problem (a clause), and the one target if only one.

        pip only ever touches what it selects: a problem no checked target meets is a
        warning, the same problem is an error when a checked target meets it."""
        names = list(dict.fromkeys(targets))
        if not names:
            return Severity.WARNING, "no checked target installs it; pip fails where one does", None
        where = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
        return Severity.ERROR, f"pip installs it on {where}", names[0] if len(names) == 1 else None

    # -- the run ----------------------------------------------------------------------------

    def run(self) -> None:
        for problem in self.lock.problems:
            self.emit(problem.rule, problem.location, problem.message, project=problem.project)
        for package in self.lock.packages:
            self.check_package(package)
        for selection in self.selections:
            self.check_selection(selection)
        self.check_dependencies()

    def check_package(self, package: LockedPackage) -> None:
        if package.direct is not None and self.hashed:
            severity, where, target = self._stake(self.package_targets[package.position])
            self.emit(
                "unhashable",
                package.location,
                f"{package.name} is locked as a {package.direct} ({where}): pip checks the "
                "lock's other archives by hash and has no file to hash here, so it refuses "
                "it. Lock a built wheel with its hash instead",
                package,
                severity=severity,
                target=target,
            )
        self.check_urls(package)
        valid_files = [f for f in package.files if self.check_hash_syntax(package, f)]
        lookup = self.lookups.get(package.position)
        if lookup is None or package.version is None:
            return
        if not self.check_release(package, lookup):
            return
        assert lookup.release is not None
        problems = [
            problem
            for file in valid_files
            if (problem := self.compare_file(package, file, lookup)) is not None
        ]
        by_rule: dict[str, list[_FileProblem]] = defaultdict(list)
        for problem in problems:
            if problem.rule in ("stale-hash", "foreign-hash"):
                self.wrong_files[file_key(package, problem.file)] = problem.published
            by_rule[problem.rule].append(problem)
        for rule_id, group in by_rule.items():
            self.emit_file_group(package, rule_id, group)

    def check_urls(self, package: LockedPackage) -> None:
        urls = [(f.location, f.url) for f in package.files if f.url]
        if package.index:
            urls.append((package.location, package.index))
        for location, url in urls:
            parts = urlsplit(url)
            if (
                parts.scheme == "http"
                and (parts.hostname or "") not in _LOOPBACK
                and not (parts.hostname or "").startswith("127.")
            ):
                self.emit(
                    "insecure-index",
                    location,
                    f"{redact_url(url)} is plain http: anyone on the network path can swap the "
                    "file, which its hash then catches only as a mismatch; use https",
                    package,
                )
                return

    def check_hash_syntax(self, package: LockedPackage, file: LockedFile) -> bool:
        """invalid-hash for names hashlib does not know and digests of the wrong shape."""
        ok = True
        for algorithm, digest in file.hashes.items():
            try:
                expected = hashlib.new(algorithm).digest_size * 2
            except (ValueError, TypeError):
                expected = None
            problem = None
            if expected is None or algorithm.lower().startswith("shake"):
                problem = (
                    f"{algorithm!r} is not a hash algorithm pip can compute: it stops with "
                    f"'Unknown hash name: {algorithm}' once it has downloaded the file"
                )
            elif len(digest) != expected or not _HEX.match(digest):
                problem = (
                    f"a {algorithm} digest is {expected} hexadecimal digits, this one is "
                    f"{len(digest)} characters"
                    + ("" if _HEX.match(digest or "x") else " and not hexadecimal")
                    + f"; no file can match it, so pip fails with '{MISMATCH}'"
                )
            if problem is None:
                continue
            ok = False
            line = file.hash_lines.get(algorithm)
            location = self.lock.at(line) if line else file.location
            severity, where, target = self._stake(self.file_targets[file_key(package, file)])
            self.emit(
                "invalid-hash",
                location,
                f"{file.filename}: {problem} ({where})",
                package,
                severity=severity,
                target=target,
            )
        return ok

    def check_release(self, package: LockedPackage, lookup: ReleaseLookup) -> bool:
        severity, where, target = self._stake(self.package_targets[package.position])
        if lookup.missing == "project":
            self.emit(
                "unknown-project",
                package.location,
                f"the index has no project named {package.name!r}: the locked URLs point at "
                f"files it does not publish ({where}); pip downloads them anyway, and fails "
                "when they are gone",
                package,
                severity=severity,
                target=target,
            )
            return False
        if lookup.missing == "version":
            self.emit(
                "unknown-version",
                package.location,
                f"the index has no {package.name} {package.version}: the locked files are not "
                f"published ({where}); pip downloads the locked URLs and fails when they are "
                "gone or hold other bytes. Lock a version the index publishes",
                package,
                severity=severity,
                target=target,
            )
            return False
        if lookup.release is None:
            reason = lookup.error or "the index gave no answer"
            if lookup.offline:
                self.emit(
                    "unverifiable",
                    package.location,
                    f"{package.name} {package.version} could not be verified: {reason}",
                    package,
                )
            self.unverified.append(
                Unverified(package.location, package.name, package.version, reason)
            )
            return False
        if lookup.release.yanked:
            why = next((f.yanked_reason for f in lookup.release.files if f.yanked_reason), None)
            self.emit(
                "yanked",
                package.location,
                f"{package.name} {package.version} is yanked"
                + (f" ({why})" if why else " (no reason given)")
                + "; pip installs a locked file without a word about it",
                package,
            )
        return True

    def compare_file(
        self, package: LockedPackage, file: LockedFile, lookup: ReleaseLookup
    ) -> _FileProblem | None:
        assert lookup.release is not None
        published = _published_file(lookup.release, file)
        listed = {a.lower(): d.lower() for a, d in file.hashes.items()}
        if published is not None:
            stated = {a.lower(): d.lower() for a, d in published.hashes.items()}
            comparable = [a for a in listed if a in stated]
            if any(listed[a] == stated[a] for a in comparable):
                return None
            if not comparable:
                self.emit(
                    "unverifiable",
                    self._hash_location(file),
                    f"{file.filename}: the lock lists only "
                    f"{', '.join(sorted(listed))} hashes, which the index does not publish; "
                    "pip checks them after downloading, this check cannot",
                    package,
                )
                return None
        unknown = listed.get("sha256")
        comparable_algorithms = {a.lower() for a in published.hashes} if published else {"sha256"}
        certain = set(listed) <= comparable_algorithms
        origin = lookup.history.get(unknown) if unknown else None
        if origin is None and unknown:
            origin = next((f for f in lookup.release.files if f.sha256 == unknown), None)
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
            return _FileProblem(file, "stale-hash", where_named + belongs, published, certain)
        return _FileProblem(
            file,
            "foreign-hash",
            where_named
            + f"its hash matches nothing {package.name} has published (corrupted, tampered "
            "with, or from another index)",
            published,
            certain,
        )

    def emit_file_group(
        self, package: LockedPackage, rule_id: str, group: Sequence[_FileProblem]
    ) -> None:
        targets = [
            name for problem in group for name in self.file_targets[file_key(package, problem.file)]
        ]
        severity, where, target = self._stake(targets)
        if not all(problem.certain for problem in group):
            severity = Severity.WARNING
        lines = sorted(line for problem in group for line in _hash_lines(problem.file))
        location = Location(self.lock.path, lines[0], lines[-1]) if lines else package.location
        details = "; ".join(f"{p.file.filename}: {p.detail}" for p in group[:3])
        if len(group) > 3:
            details += f"; and {len(group) - 3} more"
        count = len(group)
        listed = tuple(
            f"{a.lower()}:{d.lower()}" for p in group for a, d in sorted(p.file.hashes.items())
        )
        expected = tuple(
            f"sha256:{p.published.sha256}" for p in group if p.published and p.published.sha256
        )
        self.emit(
            rule_id,
            location,
            f"{count} locked {'file does' if count == 1 else 'files do'} not carry the hash "
            f"the index publishes for {'it' if count == 1 else 'them'} ({details}); pip fails "
            f"with '{MISMATCH}' when it installs such a file ({where})",
            package,
            severity=severity,
            target=target,
            hashes=HashSet(listed=listed, expected=expected),
            fix=RewriteLockEntries(package.name, package.version or ""),
        )

    def _hash_location(self, file: LockedFile) -> Location:
        lines = _hash_lines(file)
        return Location(self.lock.path, lines[0], lines[-1]) if lines else file.location

    # -- per target -------------------------------------------------------------------------

    def check_selection(self, selection: Selection) -> None:
        target = selection.target
        lock_refused = selection.lock_refused
        if lock_refused is not None:
            line = self.lock.root_lines.get(lock_refused.key, 1)
            self.emit(
                "no-installable-file",
                self.lock.at(line),
                f"on {target.name} pip installs nothing from this lock: '{lock_refused.message}'",
                target=target.name,
            )
            return
        for refusal in selection.refused:
            package = refusal.package
            if refusal.some_patches:
                bound = self.lock.requires_python if package is None else package.requires_python
                assert bound is not None
                self.emit(
                    "no-installable-file",
                    self.lock.at(self.lock.root_lines.get(refusal.key, 1))
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
                self.emit(
                    "duplicate",
                    package.location,
                    f"on {target.name} pip refuses the lock: '{refusal.message}'",
                    package,
                    target=target.name,
                )
                continue
            advice = ""
            if refusal.key == "no-wheel":
                wheel = self._published_wheel_for(package, target)
                if wheel is not None:
                    self.missing_wheels[package.position][wheel.filename] = wheel
                    advice = (
                        f"; the index publishes {wheel.filename} for this target, which the "
                        "lock does not list"
                    )
            self.emit(
                "no-installable-file",
                package.location,
                f"on {target.name} pip fails: '{refusal.message}'{advice}",
                package,
                target=target.name,
            )
        for choice in selection.chosen:
            package, file = choice.package, choice.file
            if file is None:
                continue
            key = file_key(package, file)
            if key in self.wrong_files:
                self.emit(
                    "uncovered-target",
                    self._hash_location(file),
                    f"on {target.name} pip installs {file.filename} from the lock, and its "
                    f"hash there is not the file's: pip fails with '{MISMATCH}'",
                    package,
                    target=target.name,
                    hashes=HashSet(
                        listed=tuple(f"{a}:{d}" for a, d in sorted(file.hashes.items())),
                        expected=tuple(
                            f"sha256:{p.sha256}"
                            for p in [self.wrong_files[key]]
                            if p is not None and p.sha256
                        ),
                    ),
                )
            self.check_fallback(selection, package, file)

    def check_fallback(
        self, selection: Selection, package: LockedPackage, file: LockedFile
    ) -> None:
        """pip installs a lesser file (the sdist, or a less specific wheel) because the lock
        lacks the wheel the index publishes for this target."""
        if file.kind == "archive" or not self.options.policy.allows_wheel(package.name):
            return
        target = selection.target
        wheel = self._published_wheel_for(package, target)
        if wheel is None or wheel.filename in {w.filename for w in package.wheels}:
            return
        if file.is_wheel and _rank(file.filename, target) <= _rank(wheel.filename, target):
            return
        self.missing_wheels[package.position][wheel.filename] = wheel
        instead = f"builds {file.filename}" if not file.is_wheel else f"installs {file.filename}"
        self.emit(
            "fallback-target",
            package.location,
            f"on {target.name} the lock lacks {wheel.filename}, the file the index publishes "
            f"for this target, so pip {instead} instead",
            package,
            target=target.name,
        )

    def _published_wheel_for(self, package: LockedPackage, target: Target) -> DistFile | None:
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

    # -- dependencies -----------------------------------------------------------------------

    def check_dependencies(self) -> None:
        missing: dict[tuple[int, str], list[str]] = defaultdict(list)
        conflicts: dict[tuple[int, int, str], list[str]] = defaultdict(list)
        inexact: set[int] = set()
        by_position = {p.position: p for p in self.lock.packages}
        for selection in self.selections:
            if selection.lock_refused is not None:
                continue
            clashes: set[tuple[int, int, str]] = set()
            for position, dependency in self._missing_on(selection, inexact, clashes):
                missing[(position, dependency)].append(selection.target.name)
            for clash in clashes:
                conflicts[clash].append(selection.target.name)
        for (position, requirer, specifier), targets in sorted(conflicts.items()):
            package, wants = by_position[position], by_position[requirer]
            names = list(dict.fromkeys(targets))
            self.emit(
                "conflicting-pin",
                package.location,
                f"{package.name} is locked at {package.version}, but {wants.name} "
                f"{wants.version} requires {package.name}{specifier} (on {', '.join(names)}); "
                "pip fails with 'Cannot install … because these package versions have "
                "conflicting dependencies' and 'ResolutionImpossible'. Lock a version that "
                f"satisfies {specifier}, or change the version of {wants.name}",
                package,
                target=names[0] if len(names) == 1 else None,
                severity=None if requirer not in inexact else Severity.WARNING,
            )
        for (position, dependency), targets in sorted(missing.items()):
            package = by_position[position]
            exact = position not in inexact
            names = list(dict.fromkeys(targets))
            self.emit(
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
        for package in self.lock.packages:
            lookup = self.lookups.get(package.position)
            if lookup is not None and lookup.release is not None:
                if lookup.release.requires_dist is not None:
                    continue
            if not self.package_targets[package.position]:
                continue
            for dependency in sorted(set(package.dependencies) - self.lock.package_names):
                self.emit(
                    "missing-dependency",
                    package.location,
                    f"the lock lists {dependency} among the dependencies of {package.name} but "
                    "has no [[packages]] entry for it; pip would ask the index for it and fail "
                    "in hash-checking mode",
                    package,
                    severity=Severity.WARNING,
                )

    def _missing_on(
        self, selection: Selection, inexact: set[int], clashes: set[tuple[int, int, str]]
    ) -> Iterable[tuple[int, str]]:
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
                release = self._release(package)
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

    def _release(self, package: LockedPackage) -> ReleaseFiles | None:
        lookup = self.lookups.get(package.position)
        return lookup.release if lookup is not None else None


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


def _hash_lines(file: LockedFile) -> list[int]:
    return sorted(file.hash_lines.values())
