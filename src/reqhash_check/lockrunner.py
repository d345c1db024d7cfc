"""Lock files in a run: read (by their source, `sources.pylock`), ask the indexes, check,
and fix (through their source's `apply`). The runner calls these two:

* `check_locks(settings, paths, ...)` → `LockRun` (findings, unverified, unreadable files);
* `fix_locks(settings, lock_run)` → what `--fix`/`--diff` did (diff text and messages).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from reqhash_check import fix as fixer
from reqhash_check.findings import Finding, Unverified
from reqhash_check.index.base import ReleaseLookup
from reqhash_check.index.lookup import open_cache
from reqhash_check.index.plan import IndexPlan, configured_plan
from reqhash_check.lockfile.check import LockCheck, LockCheckOptions, check_lock
from reqhash_check.lockfile.lookup import LockLookups, lookup_packages, package_plan
from reqhash_check.lockfile.read import LockFile
from reqhash_check.sources.base import read_all
from reqhash_check.sources.pylock import PYLOCK, LockEdits
from reqhash_check.targets import BinaryPolicy

if TYPE_CHECKING:
    from reqhash_check.settings import Settings

__all__ = ["LockRun", "check_locks", "fix_locks"]


@dataclass
class LockRun:
    locks: list[LockFile] = field(default_factory=list)
    checks: dict[str, LockCheck] = field(default_factory=dict)
    lookups: dict[str, dict[int, ReleaseLookup]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    unverified: list[Unverified] = field(default_factory=list)
    read_errors: list[str] = field(default_factory=list)

    @property
    def packages_checked(self) -> int:
        return sum(len(lock.packages) for lock in self.locks)


def binary_policy(settings: Settings) -> BinaryPolicy:
    return BinaryPolicy.from_ordered(settings.check.binary_options, settings.check.prefer_binary)


def check_locks(
    settings: Settings,
    paths: Sequence[str],
    *,
    active_rules: frozenset[str],
    needs_index: bool,
    progress: Callable[[int, int], None] | None = None,
    download_progress: Callable[[int, int], None] | None = None,
    refresh: bool = False,
) -> LockRun:
    """The lock files' findings; with `refresh` (--fix) no cached answer is believed."""
    run = LockRun()
    run.locks, run.read_errors = read_all(lambda _path: PYLOCK, settings, paths, {})
    configured = configured_plan(settings)
    choices = {
        (lock.path, package.position): package_plan(package, configured)
        for lock in run.locks
        for package in lock.packages
    }
    found: LockLookups = {}
    if needs_index and choices:
        cache = open_cache(settings, refresh=refresh)
        try:
            found = asyncio.run(
                lookup_packages(
                    (
                        (package, choices[(lock.path, package.position)])
                        for lock in run.locks
                        for package in lock.packages
                    ),
                    settings,
                    cache,
                    progress,
                )
            )
        finally:
            if cache is not None:
                cache.close()
    options = LockCheckOptions(targets=settings.targets, policy=binary_policy(settings))
    for lock in run.locks:
        lookups = {}
        for package in lock.packages:
            plan = choices[(lock.path, package.position)]
            key = (plan.key, package.name, package.version or "")
            if key in found:
                lookups[package.position] = found[key]
        run.lookups[lock.path] = lookups
        result = check_lock(lock, lookups, options)
        run.checks[lock.path] = result
        run.findings.extend(f for f in result.result.findings if f.rule in active_rules)
        run.unverified.extend(result.result.unverified)
    if settings.verify_downloads and found and not settings.offline:
        _verify_downloads(settings, run, configured, active_rules, download_progress)
    return run


def _verify_downloads(
    settings: Settings,
    run: LockRun,
    configured: IndexPlan,
    active_rules: frozenset[str],
    download_progress: Callable[[int, int], None] | None = None,
) -> None:
    """The archive each target downloads from each lock, against the index's listing."""
    # Start-up speed: only --verify-downloads loads the download checker.
    from reqhash_check import verify

    wanted: dict[str, verify.Download] = {}
    for lock in run.locks:
        check = run.checks[lock.path]
        verify.plan_lock_downloads(check.selections, run.lookups[lock.path], wanted)
    if not wanted:
        return
    outcomes = asyncio.run(
        verify.fetch_all(
            wanted,
            timeout=max(settings.timeout, verify.DOWNLOAD_TIMEOUT),
            max_bytes=settings.max_download_bytes,
            credentials_from=configured.urls,
            # The URLs are the lock's: netrc credentials go only to the configured indexes'
            # hosts, as for an index URL the lock names.
            netrc_only_for=configured.urls,
            on_bytes=download_progress,
        )
    )
    findings, unverified = verify.judge(wanted, outcomes, settings.max_download_bytes)
    run.findings.extend(f for f in findings if f.rule in active_rules)
    run.unverified.extend(unverified)


def fix_locks(settings: Settings, run: LockRun) -> tuple[str, list[str]]:
    """Rewrite (or, with --diff, show) the file entries whose hashes are wrong."""
    diffs: list[str] = []
    messages: list[str] = []
    for lock in run.locks:
        check = run.checks.get(lock.path)
        if check is None:
            continue
        edits = LockEdits(lock, check, run.lookups.get(lock.path, {}))
        try:
            applied = PYLOCK.apply(settings, lock.path, edits, None, None)
        except fixer.FixError as error:
            messages.append(f"not fixed: {error}")
            continue
        messages.extend(applied.not_made)
        plan = applied.plan
        if plan is None or not plan.changed:
            continue
        if settings.diff:
            diffs.append(plan.diff())
            continue
        try:
            fixer.apply_plan(plan)
        except fixer.FixError as error:
            messages.append(f"not fixed: {error}")
            continue
        messages.append(f"{lock.path}: {applied.done}")
    return "".join(diffs), messages
