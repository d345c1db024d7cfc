"""One run: read the files, ask the indexes, check, optionally fix. The CLI only wires this."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from reqhash_check import fs
from reqhash_check.check import check
from reqhash_check.check.context import SetContext
from reqhash_check.findings import (
    AddHashes,
    Finding,
    IndexUse,
    PinDependency,
    RepinProject,
    Report,
    SetHashes,
    Severity,
    Unverified,
)
from reqhash_check.index.base import Index, ReleaseLookup
from reqhash_check.index.lookup import Lookups, look_up_file_sets, open_cache, open_plan
from reqhash_check.index.plan import IndexPlan, plan_indexes
from reqhash_check.requirements import (
    Kind,
    RequirementSet,
)
from reqhash_check.rules import RULES
from reqhash_check.scrub import (
    combined,
    credential_replacements,
    replacements,
    scrub,
    scrub_text,
)
from reqhash_check.settings import Settings
from reqhash_check.sources import PYLOCK, FileSet, file_set_source
from reqhash_check.sources.base import read_all
from reqhash_check.sources.requirements import stdin_text
from reqhash_check.taint import TaintedLines, tainted_lines, withheld

if TYPE_CHECKING:
    from reqhash_check import fix as fixer
    from reqhash_check.lockrunner import LockRun
    from reqhash_check.resolve import NewPin, Repinned
    from reqhash_check.targets import BinaryPolicy

Progress = Callable[[int, int], None]
_T = TypeVar("_T")


@dataclass(frozen=True)
class RunResult:
    """One run's report, with what was not read and what --fix did."""

    report: Report
    read_errors: tuple[str, ...] = ()
    fix_messages: tuple[str, ...] = ()
    diff: str = ""
    offline: bool = False


@contextmanager
def _cycle_collection(enabled: bool) -> Iterator[None]:
    """Python's cycle collector switched on or off for a phase, then back as it was.

    Reading and checking build tens of thousands of objects that live to the end of the
    run and form no cycles; the collector would scan them again and again (a tenth of a
    warm run). The network phases keep it on: the HTTP layer's tasks and exceptions do
    form cycles, and a cold run's memory must stay flat."""
    was = gc.isenabled()
    if enabled:
        gc.enable()
    else:
        gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
        else:
            gc.disable()


def _ask(coroutine: Coroutine[Any, Any, _T]) -> _T:
    """Run a network phase: an event loop, with the cycle collector on."""
    with _cycle_collection(True):
        import asyncio  # only when the index is asked: a warm run starts no event loop

        return asyncio.run(coroutine)


def run(
    settings: Settings,
    progress: Progress | None = None,
    download_progress: Progress | None = None,
) -> RunResult:
    """One run. `progress` hears (releases asked, of how many); `download_progress`, with
    --verify-downloads, (bytes received, of about how many)."""
    with _cycle_collection(False):
        return _run(settings, progress, download_progress)


def _run(
    settings: Settings, progress: Progress | None, download_progress: Progress | None
) -> RunResult:
    lock_paths = tuple(f for f in settings.files if PYLOCK.claims(f))
    locks = None
    if lock_paths:
        with _cycle_collection(True):
            locks = _check_locks(settings, lock_paths, progress, download_progress)
    settings = replace(settings, files=tuple(f for f in settings.files if f not in lock_paths))
    loaded, read_errors = _load_all(settings, {})
    plans = [plan_indexes(settings, item.req_set) for item in loaded]
    lookups: dict[int, Lookups] = {}
    index_errors: tuple[str, ...] = ()
    if _needs_index(settings) and any(_pinned(item.req_set) for item in loaded):
        lookups, index_errors = _look_up(settings, loaded, plans, progress)
    report = _report(settings, loaded, plans, lookups, index_errors, read_errors)
    if settings.verify_downloads and lookups and not settings.offline:
        report = _verify_downloads(settings, loaded, plans, lookups, report, download_progress)
    result = RunResult(report, tuple(read_errors), offline=settings.offline)
    if settings.fix or settings.diff:
        result = _fix(settings, loaded, plans, lookups, result)
    if locks is not None:
        result = _with_locks(settings, result, locks)
    return _scrubbed(settings, result, loaded)


def _check_locks(
    settings: Settings,
    paths: Sequence[str],
    progress: Progress | None,
    download_progress: Progress | None = None,
    *,
    again: bool = False,
) -> LockRun:
    """PEP 751 lock files go to the lockfile package, under pip's lock rules. Before --fix
    no cached row is believed; checking the fixed locks `again` reads the rows just written."""
    # Start-up speed: a run without lock files never loads the lock reader and checker.
    from reqhash_check.lockrunner import check_locks

    return check_locks(
        settings,
        paths,
        active_rules=active_rules(settings),
        needs_index=_needs_index(settings),
        refresh=_confirming(settings) and not again,
        progress=progress,
        download_progress=download_progress,
    )


def _with_locks(settings: Settings, result: RunResult, locks: LockRun) -> RunResult:
    """The lock files' findings merged into the report; their fixes applied with the rest,
    and, after --fix, the fixed locks checked again (their answers come from the cache)."""
    # Start-up speed: a run without lock files never loads the lock reader and checker.
    from reqhash_check.lockrunner import fix_locks

    diff, messages = "", list(result.fix_messages)
    if settings.fix or settings.diff:
        lock_diff, lock_messages = fix_locks(settings, locks)
        diff = lock_diff
        if lock_messages and messages == ["nothing to fix"]:
            messages = []
        messages = [*lock_messages, *messages]
        if settings.fix and lock_messages:
            with _cycle_collection(True):
                paths = [lock.path for lock in locks.locks]
                locks = _check_locks(settings, paths, None, again=True)
    report = result.report
    merged = replace(
        report,
        findings=tuple(sorted([*report.findings, *locks.findings], key=lambda f: f.sort_key)),
        unverified=(*report.unverified, *locks.unverified),
        files=(*(lock.path for lock in locks.locks), *report.files),
        requirements_checked=report.requirements_checked + locks.packages_checked,
        unreadable=(*locks.read_errors, *report.unreadable),
    )
    return replace(
        result,
        report=merged,
        read_errors=(*locks.read_errors, *result.read_errors),
        fix_messages=tuple(messages),
        diff=diff + result.diff,
    )


def _scrubbed(settings: Settings, result: RunResult, loaded: Sequence[FileSet]) -> RunResult:
    values: dict[str, str] = {}
    for item in loaded:
        values.update(item.req_set.expanded)
    trusted = list(settings.configured_indexes().trusted)
    table = combined(replacements(values), credential_replacements(trusted))
    return scrub(result, table) if table else result


def _load_all(settings: Settings, overlay: Mapping[str, str]) -> tuple[list[FileSet], list[str]]:
    """Each file set read by its source (a Pipfile.lock, or a requirements file)."""
    return read_all(file_set_source, settings, settings.files, overlay)


def _pinned(req_set: RequirementSet) -> bool:
    """Whether anything in the set is looked up: pins, and hashed requirements without one."""
    return any(e.kind is Kind.NAMED and (e.pin or e.hashes) for e in req_set.entries)


def active_rules(settings: Settings) -> frozenset[str]:
    chosen = settings.select or frozenset(RULES)
    return chosen - settings.ignore


def _needs_index(settings: Settings) -> bool:
    return any(RULES[rule].needs_index for rule in active_rules(settings))


def _confirming(settings: Settings) -> bool:
    """--fix writes only hashes the index gave this run: the cache is written, never read."""
    return settings.fix


def _look_up(
    settings: Settings,
    loaded: Sequence[FileSet],
    plans: Sequence[IndexPlan],
    progress: Progress | None,
) -> tuple[dict[int, Lookups], tuple[str, ...]]:
    """Release data per file set, through the look-up service; its network phase runs in
    this run's event loop (with the cycle collector on)."""
    return look_up_file_sets(settings, [item.req_set for item in loaded], plans, progress, _ask)


def _check_set(
    settings: Settings, item: FileSet, plan: IndexPlan, lookups: Lookups
) -> tuple[list[Finding], list[Unverified]]:
    options = replace(
        settings.check,
        targets=settings.targets,
        allowed_hosts=settings.allow_index,
        indexes_shown=plan.shown
        if len(plan.uses) <= 1 or len(plan.shown) <= 120
        else f"the {len(plan.uses)} indexes consulted",
    )
    result = check(item.req_set, item.problems, lookups, options)
    active = active_rules(settings)
    findings = [f for f in result.findings if f.rule in active]
    findings = [item.source.as_installed(f) for f in findings]
    return findings, list(result.unverified)


def _report(
    settings: Settings,
    loaded: Sequence[FileSet],
    plans: Sequence[IndexPlan],
    lookups: Mapping[int, Lookups],
    index_errors: tuple[str, ...],
    read_errors: Sequence[str],
) -> Report:
    findings: list[Finding] = []
    unverified: list[Unverified] = []
    for number, (item, plan) in enumerate(zip(loaded, plans, strict=True)):
        found, skipped = _check_set(settings, item, plan, lookups.get(number, {}))
        findings.extend(found)
        unverified.extend(skipped)
    unknown: dict[str, list[str]] = {}
    consulted: list[IndexUse] = []
    for number, (item, plan) in enumerate(zip(loaded, plans, strict=True)):
        set_lookups = lookups.get(number)
        if set_lookups is not None:
            consulted += plan.uses
        else:
            consulted += [u for u in plan.uses if u.origin is not None]
        if not set_lookups or not SetContext(item.req_set, (), {}, settings.check).hash_mode:
            continue
        for entry in item.req_set.entries:
            lookup = set_lookups.get((entry.name, entry.pin or ""))
            release = lookup.release if lookup is not None else None
            if release is not None and release.requires_dist is None:
                note = release.dependencies_note or "unknown"
                # A name from an environment variable is not shown (taint.py).
                shown = (
                    "(a name from an environment variable)"
                    if entry.name_tainted
                    else (f"{entry.name} {entry.pin}".strip())
                )
                unknown.setdefault(note, []).append(shown)
    report = Report(
        findings=tuple(sorted(dict.fromkeys(findings), key=lambda f: f.sort_key)),
        unverified=tuple(dict.fromkeys(unverified)),
        files=tuple(dict.fromkeys(f for item in loaded for f in item.req_set.files)),
        requirements_checked=sum(len(item.req_set.entries) for item in loaded),
        targets=tuple(t.name for t in settings.targets),
        unreadable=tuple(read_errors),
        indexes=tuple(dict.fromkeys(consulted)),
        index_errors=index_errors,
        dependencies_unknown=tuple(
            f"{len(names)} {'requirement' if len(names) == 1 else 'requirements'}: {note}"
            for note, names in sorted(unknown.items())
        ),
        dependencies_unknown_projects=tuple(
            ", ".join(dict.fromkeys(names)) for _, names in sorted(unknown.items())
        ),
    )
    return withheld(report, _tainted(loaded))


def _tainted(loaded: Sequence[FileSet]) -> TaintedLines:
    return tainted_lines(
        (e for item in loaded for e in item.req_set.entries),
        {name for item in loaded for name in item.req_set.expanded},
    )


def _verify_downloads(
    settings: Settings,
    loaded: Sequence[FileSet],
    plans: Sequence[IndexPlan],
    lookups: Mapping[int, Lookups],
    report: Report,
    download_progress: Progress | None,
) -> Report:
    """The bytes each target would download, against what the index lists for them."""
    # Start-up speed: only --verify-downloads loads the download checker.
    from reqhash_check import verify

    wanted: dict[str, verify.Download] = {}
    for number, item in enumerate(loaded):
        policy = SetContext(item.req_set, (), {}, settings.check).policy
        verify.plan_downloads(
            item.req_set.entries, lookups.get(number, {}), settings.targets, policy, wanted
        )
    if not wanted:
        return report
    outcomes = _ask(
        verify.fetch_all(
            wanted,
            timeout=max(settings.timeout, verify.DOWNLOAD_TIMEOUT),
            max_bytes=settings.max_download_bytes,
            # Credentials only from indexes that are asked: a URL a file built from the
            # environment for a host nobody named is not, and neither are its credentials.
            credentials_from=[u for plan in plans for u in plan.urls if u not in plan.refused],
            on_bytes=download_progress,
        )
    )
    found, unverified = verify.judge(wanted, outcomes, settings.max_download_bytes)
    active = active_rules(settings)
    # What is said about a line that expands ${VAR} is withheld, as in the check's report.
    added = withheld(
        replace(
            report,
            findings=tuple(f for f in found if f.rule in active),
            unverified=tuple(unverified),
        ),
        _tainted(loaded),
    )
    return replace(
        report,
        findings=tuple(sorted([*report.findings, *added.findings], key=lambda f: f.sort_key)),
        unverified=tuple(dict.fromkeys([*report.unverified, *added.unverified])),
    )


def failing(findings: Sequence[Finding], strict: bool) -> bool:
    return any(not f.suppressed and (f.severity is Severity.ERROR or strict) for f in findings)


# -- --fix / --diff ------------------------------------------------------------------------


# One round of fixes can expose another (a pin added in one round needs its own hashes
# checked; a merged hash set can leave a foreign hash). Real files settle in one or two.
_FIX_ROUNDS = 4


def _fix(
    settings: Settings,
    loaded: Sequence[FileSet],
    plans: Sequence[IndexPlan],
    lookups: dict[int, Lookups],
    before: RunResult,
) -> RunResult:
    """Apply every fix the findings carry, check the fixed text again in memory, and repeat
    until nothing fixable is left (or a round changes nothing); then write each file once."""
    # Start-up speed: only --fix and --diff load the fixer and the resolver.
    from reqhash_check import fix as fixer
    from reqhash_check.resolve import lookups_for

    messages: list[str] = []
    # A file is read and written under the root of the file set it is in (an include's own
    # folder does not widen it).
    roots = {
        name: Path(fs.repository_root(item.req_set.top_level))
        for item in reversed(loaded)
        for name in item.req_set.files
    }
    file_plans: dict[str, fixer.FilePlan] = {}
    skipped: set[tuple[str, int | str]] = set()
    fixed: set[tuple[str, str, str, str]] = set()
    first_fixable = 0
    all_pins: list[NewPin] = []
    extra: dict[tuple[str, str], Any] = {}
    current, current_loaded = before.report, list(loaded)
    read_errors: list[str] = list(before.read_errors)
    for round_number in range(_FIX_ROUNDS):
        fixable = [f for f in current.findings if f.fix is not None and not f.suppressed]
        if round_number == 0:
            first_fixable = len(fixable)
        new_pins: list[NewPin] = []
        wanted = [f.fix for f in fixable if isinstance(f.fix, PinDependency)]
        if wanted:
            new_pins, conflicts = _ask(_resolve_pins(settings, current_loaded, plans, wanted))
            messages += [f"not fixed: {c}" for c in conflicts if f"not fixed: {c}" not in messages]
        repins: list[Repinned] = []
        wanted_repins = [f.fix for f in fixable if isinstance(f.fix, RepinProject)]
        if wanted_repins:
            repins, not_repinned = _ask(
                _resolve_repins(settings, current_loaded, plans, wanted_repins)
            )
            messages += [
                f"not fixed: {r}" for r in not_repinned if f"not fixed: {r}" not in messages
            ]
        repinned = {r.fix for r in repins}
        edits, refused, new_pins = _edits(fixable, new_pins, current_loaded, repins)
        messages += [
            f"not fixed: {p}" for p in refused.values() if f"not fixed: {p}" not in messages
        ]
        skipped.update(refused)
        changed = False
        for path, file_edits in sorted(edits.items()):
            if path == "-":
                note = "standard input cannot be fixed in place; use --diff"
                if note not in messages:
                    messages.append(note)
                continue
            previous = file_plans.get(path)
            source = file_set_source(path)
            try:
                applied = source.apply(settings, path, file_edits, previous, roots.get(path))
            except fixer.FixError as exc:
                messages.append(f"not fixed: {exc}")
                continue
            if applied.plan is None:
                continue
            plan = applied.plan
            for not_made in plan.refused:
                messages.append(f"not fixed: {not_made.message}")
                skipped.add(_edit_key(path, not_made.edit))
            if plan.new != (previous.new if previous is not None else plan.old):
                changed = True
                file_plans[path] = plan
                fixed.update(
                    _fixed_key(f)
                    for f in fixable
                    if f.location.path == path
                    and (f.location.path, f.location.line) not in skipped
                    and (
                        not isinstance(f.fix, PinDependency)
                        or (f.fix.path, f.fix.project) not in skipped
                    )
                    and (not isinstance(f.fix, RepinProject) or f.fix in repinned)
                )
        pinned = {
            (p.path, p.project)
            for p in new_pins
            if p.path in file_plans and (p.path, p.project) not in skipped
        }
        all_pins += [p for p in new_pins if (p.path, p.project) in pinned]
        if not changed:
            break
        extra.update(lookups_for(new_pins))
        extra.update({(r.fix.project, r.version): ReleaseLookup(release=r.release) for r in repins})
        current_loaded, read_errors = _load_all(
            settings, {path: plan.new_text for path, plan in file_plans.items()}
        )
        current = _report(
            settings,
            current_loaded,
            [plan_indexes(settings, item.req_set) for item in current_loaded],
            {n: {**found, **extra} for n, found in lookups.items()} or {0: extra},
            before.report.index_errors,
            read_errors,
        )
    remaining = Counter(f.rule for f in current.active)
    left = ", ".join(f"{rule} {n}" for rule, n in sorted(remaining.items()))
    if not file_plans:
        if first_fixable:
            messages.append(
                f"fixed 0 of {first_fixable} fixable findings; {sum(remaining.values())} remain"
                + (f" ({left})" if left else "")
            )
        else:
            messages.append("nothing to fix")
        return replace(before, fix_messages=tuple(messages))
    diffs: list[str] = []
    written: dict[str, str] = {}
    for path, plan in sorted(file_plans.items()):
        if settings.diff:
            diffs.append(plan.diff())
            written[path] = plan.new_text
            continue
        try:
            fixer.apply_plan(plan, roots.get(path))
        except fixer.FixError as exc:
            messages.append(f"not fixed: {exc}")
            continue
        written[path] = plan.new_text
    if len(written) < len(file_plans):
        # What stands on disk is what the report must say: files that could not be written
        # are checked as they are.
        current_loaded, read_errors = _load_all(settings, written)
        current = _report(
            settings,
            current_loaded,
            [plan_indexes(settings, item.req_set) for item in current_loaded],
            {n: {**found, **extra} for n, found in lookups.items()} or {0: extra},
            before.report.index_errors,
            read_errors,
        )
        remaining = Counter(f.rule for f in current.active)
        left = ", ".join(f"{rule} {n}" for rule, n in sorted(remaining.items()))
        fixed = {key for key in fixed if key[1] in written}
        all_pins = [p for p in all_pins if p.path in written]
    verb = "would fix" if settings.diff else "fixed"
    count = len(fixed)
    files = len(written)
    added = f", {len(all_pins)} {'pin' if len(all_pins) == 1 else 'pins'} added" if all_pins else ""
    messages.append(
        f"{verb} {count} {'finding' if count == 1 else 'findings'} in {files} "
        f"{'file' if files == 1 else 'files'}{added}; {sum(remaining.values())} remain"
        + (f" ({left})" if left else "")
    )
    return replace(
        before,
        report=before.report if settings.diff else current,
        read_errors=tuple(read_errors) if not settings.diff else before.read_errors,
        fix_messages=tuple(messages),
        diff="".join(diffs),
    )


def _fixed_key(finding: Finding) -> tuple[str, str, str, str]:
    """A finding across rounds: its line may move when pins are inserted above it."""
    return (finding.rule, finding.location.path, finding.project or "", str(finding.target or ""))


_Wanted = TypeVar("_Wanted")
_Found = TypeVar("_Found")


async def _ask_per_file_set(
    settings: Settings,
    loaded: Sequence[FileSet],
    plans: Sequence[IndexPlan],
    wanted: Sequence[_Wanted],
    path_of: Callable[[_Wanted], str],
    ask: Callable[
        [Index, RequirementSet, list[_Wanted], BinaryPolicy],
        Awaitable[tuple[list[_Found], list[str]]],
    ],
) -> tuple[list[_Found], list[str]]:
    """Each file set's share of `wanted` (by the file it is in), asked of that set's
    indexes with its format control; one cache for the whole phase. Returns what was found
    and, one line each, what could not be."""
    by_path = {f: n for n, item in enumerate(loaded) for f in item.req_set.files}
    groups: dict[int, list[_Wanted]] = {}
    for one in wanted:
        groups.setdefault(by_path.get(path_of(one), 0), []).append(one)
    cache = open_cache(settings)
    found: list[_Found] = []
    not_found: list[str] = []
    try:
        for number, group in groups.items():
            req_set = loaded[number].req_set
            index: Index = open_plan(settings, plans[number], cache)
            try:
                policy = SetContext(req_set, (), {}, settings.check).policy
                got, missed = await ask(index, req_set, group, policy)
            finally:
                await index.aclose()
            found += got
            not_found += missed
    finally:
        if cache is not None:
            cache.close()
    return found, not_found


async def _resolve_pins(
    settings: Settings,
    loaded: Sequence[FileSet],
    plans: Sequence[IndexPlan],
    wanted: Sequence[PinDependency],
) -> tuple[list[NewPin], list[str]]:
    """The version, hashes and marker of each missing dependency to pin; the clashes."""
    # Start-up speed: only a fix that adds a pin loads the resolver.
    from reqhash_check.resolve import resolve

    return await _ask_per_file_set(
        settings,
        loaded,
        plans,
        wanted,
        lambda pin: pin.path,
        lambda index, req_set, group, policy: resolve(
            index,
            group,
            [e.name for e in req_set.entries if e.name],
            settings.targets,
            policy,
            targets_only=settings.check.fix_targets_only,
        ),
    )


async def _resolve_repins(
    settings: Settings,
    loaded: Sequence[FileSet],
    plans: Sequence[IndexPlan],
    wanted: Sequence[RepinProject],
) -> tuple[list[Repinned], list[str]]:
    """The version every requirer accepts for each conflicting pin; those with none."""
    # Start-up speed: only a fix that changes a pin loads the resolver.
    from reqhash_check.resolve import repin

    return await _ask_per_file_set(
        settings,
        loaded,
        plans,
        wanted,
        lambda fix: fix.location.path,
        lambda index, _req_set, group, policy: repin(
            index,
            group,
            settings.targets,
            policy,
            targets_only=settings.check.fix_targets_only,
        ),
    )


def _edits(
    fixable: Sequence[Finding],
    new_pins: Sequence[NewPin],
    loaded: Sequence[FileSet],
    repins: Sequence[Repinned] = (),
) -> tuple[
    dict[str, list[fixer.HashEdit | fixer.InsertEdit]],
    dict[tuple[str, int | str], str],
    list[NewPin],
]:
    """The fixes as edits of each file: one hash set per requirement (every SetHashes and
    AddHashes on it merged; a new version's hashes replace them), and the new pins at their
    sorted places; with the fixes that cannot be written (one line each) and the pins that
    can."""
    # Start-up speed: only --fix and --diff load the fixer.
    from reqhash_check import fix as fixer

    edits: dict[str, list[fixer.HashEdit | fixer.InsertEdit]] = {}
    changed: set[tuple[str, int]] = set()
    for done in repins:
        where = done.fix.location
        if (where.path, where.line) in changed:
            continue
        changed.add((where.path, where.line))
        edits.setdefault(where.path, []).append(
            fixer.HashEdit(
                where, done.fix.raw, done.hashes, new_pin=(done.fix.version, done.version)
            )
        )
    # Per requirement: the published set when any finding replaces the hashes, else the
    # listed ones; plus every hash a finding adds. A replaced set never keeps a listed hash
    # that matches nothing published.
    first: dict[tuple[str, int], Finding] = {}
    replaced: dict[tuple[str, int], set[str]] = {}
    added: dict[tuple[str, int], set[str]] = {}
    for finding in fixable:
        fix = finding.fix
        if not isinstance(fix, (SetHashes, AddHashes)):
            continue
        if (fix.location.path, fix.location.line) in changed:
            continue  # the entry gets a new version, and that version's hashes
        key = (fix.location.path, fix.location.line)
        first.setdefault(key, finding)
        target = replaced if isinstance(fix, SetHashes) else added
        target.setdefault(key, set()).update(fix.hashes)
    refused: dict[tuple[str, int | str], str] = {}
    for (path, line), finding in first.items():
        fix = finding.fix
        assert isinstance(fix, (SetHashes, AddHashes))
        key = (path, line)
        listed = set(finding.hashes.listed if finding.hashes else ())
        new = replaced.get(key, listed) | added.get(key, set())
        if not new:
            # The index lists no usable digest: a fix would take the last hash away.
            refused[(path, line)] = (
                f"{path}:{line}: the index publishes no sha256 for {finding.project} "
                f"{finding.version}; its hashes are kept"
            )
            continue
        edits.setdefault(path, []).append(fixer.HashEdit(fix.location, fix.raw, tuple(sorted(new))))
    entries = [e for item in loaded for e in item.req_set.entries]
    written: list[NewPin] = []
    for pin in sorted(new_pins, key=lambda p: p.project):
        try:
            lines = fixer.pin_lines(pin.project, pin.version, pin.marker, pin.hashes, pin.via)
        except fixer.FixError as exc:
            refused[(pin.path, pin.project)] = (
                f"cannot pin {pin.project} {pin.version}: {exc}; nothing added"
            )
            continue
        in_file = sorted(
            (e for e in entries if e.location.path == pin.path and e.name),
            key=lambda e: e.location.line,
        )
        after = next((e for e in in_file if e.name > pin.project), None)
        edits.setdefault(pin.path, []).append(
            fixer.InsertEdit(after.location.line if after else None, lines, pin.project)
        )
        written.append(pin)
    return edits, refused, written


def _edit_key(path: str, edit: fixer.HashEdit | fixer.InsertEdit) -> tuple[str, int | str]:
    """What a refused edit was for: a requirement's (file, line), or a new pin's (file,
    project)."""
    # Start-up speed: only --fix and --diff load the fixer.
    from reqhash_check import fix as fixer

    if isinstance(edit, fixer.HashEdit):
        return (edit.location.path, edit.location.line)
    return (path, edit.project)


__all__ = ["RunResult", "Settings", "failing", "run", "scrub_text", "stdin_text"]
