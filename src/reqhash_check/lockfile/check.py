"""The lock checker: a parsed lock + what the index publishes + targets → findings. No I/O.

It is the loop that calls each registered lock-file detection (`rulebook.implements`, in
the rule modules of `reqhash_check.rules`) with the context of its scope: the whole lock
(`lock-file`), each package (`lock-package`), what pip selects on each target
(`lock-selection`). How pip treats a lock, and so what the detections judge, is described
in `reqhash_check.lockfile.context`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from reqhash_check.check import CheckResult, checks
from reqhash_check.findings import Finding, Unverified
from reqhash_check.index.base import DistFile, ReleaseLookup
from reqhash_check.lockfile.context import (
    FileKey,
    LockCheckOptions,
    LockContext,
    PackageContext,
    SelectionContext,
    file_key,
)
from reqhash_check.lockfile.read import LockFile
from reqhash_check.lockfile.select import Selection, select_for_target

__all__ = ["FileKey", "LockCheck", "LockCheckOptions", "check_lock", "file_key"]


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
    selections = tuple(
        select_for_target(lock, target, options.policy) for target in options.targets
    )
    ctx = LockContext(lock, lookups, options, selections)
    findings: list[Finding] = []
    unverified: list[Unverified] = []
    for _rule, function in checks("lock-file"):
        findings.extend(function(ctx))
    for package in lock.packages:
        package_ctx = PackageContext(ctx, package)
        for _rule, function in checks("lock-package"):
            findings.extend(function(package_ctx))
        lookup = package_ctx.lookup
        if (
            lookup is not None
            and package.version is not None
            and lookup.missing is None
            and lookup.release is None
        ):
            reason = lookup.error or "the index gave no answer"
            unverified.append(Unverified(package.location, package.name, package.version, reason))
        # A locked file whose hash the index cannot confirm was not verified: never "OK".
        for verdict in package_ctx.verdicts("unverifiable"):
            reason = f"{verdict.file.filename}: {verdict.detail}"
            unverified.append(Unverified(package.location, package.name, package.version, reason))
    for selection in selections:
        selection_ctx = SelectionContext(ctx, selection)
        for _rule, function in checks("lock-selection"):
            findings.extend(function(selection_ctx))
    ordered = sorted(findings, key=lambda f: f.sort_key)
    return LockCheck(
        CheckResult(tuple(dict.fromkeys(ordered)), tuple(unverified)),
        selections,
        ctx.wrong_files,
        ctx.missing_wheels,
    )
