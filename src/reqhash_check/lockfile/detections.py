"""The lock-file detections: one registered function per rule and scope, each taking a
frozen context (`reqhash_check.lockfile.context`) and yielding findings. No I/O.

Scopes: `lock-file` (the whole lock), `lock-package` (one `[[packages]]` entry and the
index's answer for it), `lock-selection` (what pip selects on one target). The loop that
calls them is `reqhash_check.lockfile.check.check_lock`.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

from reqhash_check.findings import (
    Finding,
    HashSet,
    Location,
    RewriteLockEntries,
    Severity,
)
from reqhash_check.index.urls import redact_url
from reqhash_check.lockfile.context import (
    MISMATCH,
    LockContext,
    PackageContext,
    SelectionContext,
    file_key,
    hash_problems,
)
from reqhash_check.rulebook import implements

_LOOPBACK = ("localhost", "127.0.0.1", "::1")

# -- the whole lock ---------------------------------------------------------------------


def _problems(ctx: LockContext, rule_id: str) -> Iterator[Finding]:
    """What pip refuses before it downloads anything, as the reader found it."""
    for problem in ctx.lock.problems:
        if problem.rule == rule_id:
            yield ctx.finding(rule_id, problem.location, problem.message, project=problem.project)


@implements("parse-error", "lock-file")
def parse_error(ctx: LockContext) -> Iterator[Finding]:
    return _problems(ctx, "parse-error")


@implements("missing-hash", "lock-file")
def missing_hash(ctx: LockContext) -> Iterator[Finding]:
    return _problems(ctx, "missing-hash")


@implements("conflicting-pin", "lock-file")
def conflicting_pin(ctx: LockContext) -> Iterator[Finding]:
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


@implements("missing-dependency", "lock-file")
def missing_dependency(ctx: LockContext) -> Iterator[Finding]:
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


# -- one package ------------------------------------------------------------------------


@implements("unhashable", "lock-package")
def unhashable(ctx: PackageContext) -> Iterator[Finding]:
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


@implements("insecure-index", "lock-package")
def insecure_index(ctx: PackageContext) -> Iterator[Finding]:
    package = ctx.package
    urls = [(f.location, f.url) for f in package.files if f.url]
    if package.index:
        urls.append((package.location, package.index))
    for location, url in urls:
        host = urlsplit(url).hostname or ""
        if urlsplit(url).scheme == "http" and host not in _LOOPBACK and not host.startswith("127."):
            yield ctx.finding(
                "insecure-index",
                location,
                f"{redact_url(url)} is plain http: anyone on the network path can swap the "
                "file, which its hash then catches only as a mismatch; use https",
            )
            return


@implements("invalid-hash", "lock-package")
def invalid_hash(ctx: PackageContext) -> Iterator[Finding]:
    """Names `hashlib` does not know and digests of the wrong shape."""
    for file in ctx.package.files:
        for algorithm, problem in hash_problems(file):
            line = file.hash_lines.get(algorithm)
            location = ctx.lock.lock.at(line) if line else file.location
            targets = ctx.lock.file_targets.get(file_key(ctx.package, file), ())
            severity, where, target = ctx.lock.stake(targets)
            yield ctx.finding(
                "invalid-hash",
                location,
                f"{file.filename}: {problem} ({where})",
                severity=severity,
                target=target,
            )


@implements("unknown-project", "lock-package")
def unknown_project(ctx: PackageContext) -> Iterator[Finding]:
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


@implements("unknown-version", "lock-package")
def unknown_version(ctx: PackageContext) -> Iterator[Finding]:
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


@implements("unverifiable", "lock-package")
def unverifiable(ctx: PackageContext) -> Iterator[Finding]:
    package, lookup = ctx.package, ctx.lookup
    if (
        lookup is not None
        and package.version is not None
        and lookup.missing is None
        and lookup.release is None
        and lookup.offline
    ):
        reason = lookup.error or "the index gave no answer"
        yield ctx.finding(
            "unverifiable",
            package.location,
            f"{package.name} {package.version} could not be verified: {reason}",
        )
    for verdict in ctx.verdicts("unverifiable"):
        yield ctx.finding(
            "unverifiable",
            ctx.lock.hash_location(verdict.file),
            f"{verdict.file.filename}: {verdict.detail}",
        )


@implements("yanked", "lock-package")
def yanked(ctx: PackageContext) -> Iterator[Finding]:
    release, package = ctx.release, ctx.package
    if release is None or not release.yanked:
        return
    why = next((f.yanked_reason for f in release.files if f.yanked_reason), None)
    yield ctx.finding(
        "yanked",
        package.location,
        f"{package.name} {package.version} is yanked"
        + (f" ({why})" if why else " (no reason given)")
        + "; pip installs a locked file without a word about it",
    )


def _wrong_hashes(ctx: PackageContext, rule_id: str) -> Iterator[Finding]:
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


@implements("stale-hash", "lock-package")
def stale_hash(ctx: PackageContext) -> Iterator[Finding]:
    """An archive carrying the hash of another published file (of this or another version)."""
    return _wrong_hashes(ctx, "stale-hash")


@implements("foreign-hash", "lock-package")
def foreign_hash(ctx: PackageContext) -> Iterator[Finding]:
    """An archive whose hash matches nothing the project has published."""
    return _wrong_hashes(ctx, "foreign-hash")


# -- one target -------------------------------------------------------------------------


@implements("no-installable-file", "lock-selection")
def no_installable_file(ctx: SelectionContext) -> Iterator[Finding]:
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


@implements("duplicate", "lock-selection")
def duplicate(ctx: SelectionContext) -> Iterator[Finding]:
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


@implements("uncovered-target", "lock-selection")
def uncovered_target(ctx: SelectionContext) -> Iterator[Finding]:
    if ctx.selection.lock_refused is not None:
        return
    wrong = ctx.lock.wrong_files
    for choice in ctx.selection.chosen:
        package, file = choice.package, choice.file
        if file is None or file_key(package, file) not in wrong:
            continue
        published = wrong[file_key(package, file)]
        yield ctx.lock.finding(
            "uncovered-target",
            ctx.lock.hash_location(file),
            f"on {ctx.target.name} pip installs {file.filename} from the lock, and its "
            f"hash there is not the file's: pip fails with '{MISMATCH}'",
            package,
            target=ctx.target.name,
            hashes=HashSet(
                listed=tuple(f"{a}:{d}" for a, d in sorted(file.hashes.items())),
                expected=tuple(
                    f"sha256:{p.sha256}" for p in [published] if p is not None and p.sha256
                ),
            ),
        )


@implements("fallback-target", "lock-selection")
def fallback_target(ctx: SelectionContext) -> Iterator[Finding]:
    """pip installs a lesser file (the sdist, or a less specific wheel) because the lock
    lacks the wheel the index publishes for this target."""
    if ctx.selection.lock_refused is not None:
        return
    for choice in ctx.selection.chosen:
        package, file = choice.package, choice.file
        if file is None:
            continue
        wheel = ctx.lock.fallback_wheel(package, file, ctx.target)
        if wheel is None:
            continue
        instead = f"builds {file.filename}" if not file.is_wheel else f"installs {file.filename}"
        yield ctx.lock.finding(
            "fallback-target",
            package.location,
            f"on {ctx.target.name} the lock lacks {wheel.filename}, the file the index "
            f"publishes for this target, so pip {instead} instead",
            package,
            target=ctx.target.name,
        )
