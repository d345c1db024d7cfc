"""One run: read the files, ask the index, check, optionally fix. The CLI only wires this."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from reqhash_check import fix as fixer
from reqhash_check import lockfile
from reqhash_check.check import CheckOptions, ReleaseLookup, check, entry_hashes
from reqhash_check.collect import Lookups, lookup_releases
from reqhash_check.findings import Finding, Report, Severity, Unverified
from reqhash_check.index.base import OfflineMiss
from reqhash_check.index.cache import ReleaseCache, default_cache_dir
from reqhash_check.index.multi import open_indexes
from reqhash_check.requirements import (
    Kind,
    ParseProblem,
    RequirementEntry,
    RequirementSet,
    RequirementsFileError,
    load,
    read_text,
)
from reqhash_check.rules import RULES
from reqhash_check.targets import BinaryPolicy, Target, candidates

DEFAULT_INDEX = "https://pypi.org/simple"
CACHE_FILE_NAME = "index-cache.sqlite3"
FIXABLE_RULES = frozenset({"stale-hash", "missing-hash", "foreign-hash", "uncovered-target"})


@dataclass(frozen=True)
class Settings:
    files: tuple[str, ...]
    targets: tuple[Target, ...]
    stdin_text: str | None = None
    check: CheckOptions = field(default_factory=CheckOptions)
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    offline: bool = False
    use_cache: bool = True
    cache_dir: Path | None = None
    timeout: float = 15.0
    concurrency: int = 8
    fix: bool = False
    diff: bool = False
    fix_targets_only: bool = False
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


@dataclass
class RunResult:
    report: Report
    read_errors: list[str] = field(default_factory=list)
    fix_messages: list[str] = field(default_factory=list)
    diff: str = ""
    offline: bool = False


@dataclass
class _Loaded:
    req_set: RequirementSet
    problems: list[ParseProblem]


def run(settings: Settings, progress: Callable[[int, int], None] | None = None) -> RunResult:
    lock_paths = tuple(f for f in settings.files if lockfile.is_lock_path(f))
    locks = _check_locks(settings, lock_paths, progress)
    settings = replace(settings, files=tuple(f for f in settings.files if f not in lock_paths))
    loaded, read_errors = _load_all(settings)
    lookups: Lookups = {}
    if _needs_index(settings) and any(_pinned(item.req_set) for item in loaded):
        lookups = asyncio.run(_lookup_all(settings, loaded, progress))
    findings, unverified = _check_all(settings, loaded, lookups)
    findings = sorted([*findings, *locks.findings], key=lambda f: f.sort_key)
    read_errors = [*locks.read_errors, *read_errors]
    result = RunResult(
        Report(
            findings=tuple(findings),
            unverified=(*unverified, *locks.unverified),
            files=(
                *(lock.path for lock in locks.locks),
                *(f for item in loaded for f in item.req_set.files),
            ),
            requirements_checked=sum(len(item.req_set.entries) for item in loaded)
            + locks.packages_checked,
            targets=tuple(t.name for t in settings.targets),
            unreadable=tuple(read_errors),
        ),
        read_errors,
        offline=settings.offline,
    )
    if settings.fix or settings.diff:
        lock_diff, lock_messages = lockfile.fix_locks(settings, locks)
        _fix(
            replace(settings, files=(*lock_paths, *settings.files)),
            loaded,
            lookups,
            findings,
            result,
        )
        result.diff = lock_diff + result.diff
        result.fix_messages[:0] = lock_messages
    return result


def _check_locks(
    settings: Settings, paths: Sequence[str], progress: Callable[[int, int], None] | None
) -> lockfile.LockRun:
    """PEP 751 lock files go to the lockfile package, under pip's lock rules."""
    if not paths:
        return lockfile.LockRun()
    cache_file = None
    if settings.use_cache or settings.offline:
        cache_file = (settings.cache_dir or default_cache_dir()) / CACHE_FILE_NAME
    return lockfile.check_locks(
        settings,
        paths,
        active_rules=_active_rules(settings),
        needs_index=_needs_index(settings),
        cache_file=cache_file,
        progress=progress,
    )


def _load_all(settings: Settings) -> tuple[list[_Loaded], list[str]]:
    loaded, errors = [], []
    for path in settings.files:
        try:
            text = settings.stdin_text if path == "-" else None
            req_set, problems = load(path, text=text, environ=settings.environ)
        except RequirementsFileError as exc:
            errors.append(str(exc))
            continue
        loaded.append(_Loaded(req_set, problems))
    return loaded, errors


def _pinned(req_set: RequirementSet) -> bool:
    return any(e.kind is Kind.NAMED and e.pin for e in req_set.entries)


def _needs_index(settings: Settings) -> bool:
    active = _active_rules(settings)
    return any(RULES[rule].needs_index for rule in active)


def _active_rules(settings: Settings) -> frozenset[str]:
    chosen = settings.select or frozenset(RULES)
    return chosen - settings.ignore


def index_urls(settings: Settings, req_set: RequirementSet) -> tuple[str, tuple[str, ...]]:
    """pip's order: an --index-url in the file replaces the one given outside it."""
    from_file = [str(o.value) for o in req_set.options if o.name == "index_url"]
    primary = (
        (from_file[-1] if from_file else None)
        or settings.index_url
        or settings.environ.get("PIP_INDEX_URL")
        or DEFAULT_INDEX
    )
    extras = [
        *settings.extra_index_urls,
        *settings.environ.get("PIP_EXTRA_INDEX_URL", "").split(),
        *(str(o.value) for o in req_set.options if o.name == "extra_index_url"),
    ]
    return primary, tuple(dict.fromkeys(u for u in extras if u and u != primary))


async def _lookup_all(
    settings: Settings,
    loaded: Sequence[_Loaded],
    progress: Callable[[int, int], None] | None,
) -> Lookups:
    cache = None
    if settings.use_cache or settings.offline:
        folder = settings.cache_dir or default_cache_dir()
        cache = ReleaseCache(folder / CACHE_FILE_NAME)
    by_index: dict[tuple[str, tuple[str, ...]], list[RequirementEntry]] = {}
    for item in loaded:
        key = index_urls(settings, item.req_set)
        by_index.setdefault(key, []).extend(item.req_set.entries)
    lookups: Lookups = {}
    try:
        for (primary, extras), entries in by_index.items():
            index = open_indexes(
                primary,
                extras,
                timeout=settings.timeout,
                concurrency=settings.concurrency,
                cache=cache,
                offline=settings.offline,
            )
            try:
                found = await lookup_releases(
                    index,
                    entries,
                    is_offline_miss=lambda exc: isinstance(exc, OfflineMiss),
                    progress=progress,
                )
            finally:
                await index.aclose()
            lookups.update(found)
    finally:
        if cache is not None:
            cache.close()
    return lookups


def _check_all(
    settings: Settings, loaded: Sequence[_Loaded], lookups: Lookups
) -> tuple[list[Finding], list[Unverified]]:
    active = _active_rules(settings)
    options = replace(settings.check, targets=settings.targets)
    findings: list[Finding] = []
    unverified: list[Unverified] = []
    for item in loaded:
        result = check(item.req_set, item.problems, lookups, options)
        findings.extend(f for f in result.findings if f.rule in active)
        unverified.extend(result.unverified)
    findings = list(dict.fromkeys(findings))  # a file included twice reports once
    unverified = list(dict.fromkeys(unverified))
    return findings, unverified


def failing(findings: Sequence[Finding], strict: bool) -> bool:
    return any(f.severity is Severity.ERROR or strict for f in findings)


# -- --fix / --diff ------------------------------------------------------------------------


def _fix(
    settings: Settings,
    loaded: Sequence[_Loaded],
    lookups: Lookups,
    findings: Sequence[Finding],
    result: RunResult,
) -> None:
    to_fix = {(f.location.path, f.location.line) for f in findings if f.rule in FIXABLE_RULES}
    edits: dict[str, list[fixer.HashEdit]] = {}
    for item in loaded:
        for entry in item.req_set.entries:
            key = (entry.location.path, entry.location.line)
            if key not in to_fix or not entry.pin or entry.kind is not Kind.NAMED:
                continue
            lookup = lookups.get((entry.name, entry.pin))
            new_hashes = _new_hashes(settings, entry, lookup)
            if not new_hashes:
                continue
            edits.setdefault(entry.location.path, []).append(
                fixer.HashEdit(entry.location, entry.raw, new_hashes)
            )
    diffs = []
    for path, file_edits in sorted(edits.items()):
        if path == "-":
            result.fix_messages.append("standard input cannot be fixed in place; use --diff")
            continue
        unique = list({(e.location.line): e for e in file_edits}.values())
        try:
            plan = fixer.plan_fix(Path(path), unique)
            if settings.diff:
                diffs.append(plan.diff())
            elif plan.changed:
                fixer.apply_plan(plan)
                result.fix_messages.append(
                    f"{path}: rewrote the hashes of {len(unique)} "
                    f"{'requirement' if len(unique) == 1 else 'requirements'}"
                )
        except fixer.FixError as exc:
            result.fix_messages.append(f"not fixed: {exc}")
    result.diff = "".join(diffs)
    if settings.fix:
        again = run(replace(settings, fix=False, diff=False))
        result.report = again.report
        result.read_errors = again.read_errors


def _new_hashes(
    settings: Settings, entry: RequirementEntry, lookup: ReleaseLookup | None
) -> tuple[str, ...]:
    if lookup is None or lookup.release is None:
        return ()
    files = lookup.release.files
    if settings.fix_targets_only and settings.targets:
        keep = {
            f.filename
            for target in settings.targets
            for f in candidates(target, files, entry.name, _policy_for(settings))
        }
        files = tuple(f for f in files if f.filename in keep)
    published = sorted({f"sha256:{f.sha256}" for f in files if f.sha256})
    # Hashes the index cannot confirm (sha384/sha512) are kept rather than dropped.
    kept = [h for h in entry_hashes(entry) if not h.startswith("sha256:")]
    return tuple(published + kept)


def _policy_for(settings: Settings) -> BinaryPolicy:
    return BinaryPolicy.from_options(
        settings.check.only_binary, settings.check.no_binary, settings.check.prefer_binary
    )


def stdin_text() -> str:
    return read_text(sys.stdin.buffer.read(), "<stdin>")
