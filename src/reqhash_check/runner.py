"""One run: read the files, ask the indexes, check, optionally fix. The CLI only wires this."""

from __future__ import annotations

import gc
import os
import sys
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from reqhash_check import lockfile
from reqhash_check.check import CheckOptions, check
from reqhash_check.check.context import ReleaseLookup, SetContext
from reqhash_check.collect import Lookups, lookup_releases, stored_lookups
from reqhash_check.findings import (
    AddHashes,
    Finding,
    IndexUse,
    Location,
    PinDependency,
    RepinProject,
    Report,
    SetHashes,
    Severity,
    Unverified,
)
from reqhash_check.index.base import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT, Index, OfflineMiss
from reqhash_check.index.cache import CACHE_FILENAME, ReleaseCache, default_cache_dir
from reqhash_check.index.stored import cache_only_indexes
from reqhash_check.index.urls import (
    DEFAULT_INDEX_URL,
    index_urls,
    local_path,
    redact_url,
    url_host,
)
from reqhash_check.paths import is_inside, repository_root
from reqhash_check.pipconfig import pip_locations
from reqhash_check.requirements import (
    NEWEST,
    OLDEST,
    Kind,
    ParseProblem,
    RequirementSet,
    RequirementsFileError,
    load,
    read_text,
)
from reqhash_check.rules import RULES
from reqhash_check.scrub import replacements, scrub, scrub_text
from reqhash_check.targets import Target

if TYPE_CHECKING:
    from reqhash_check import fix as fixer
    from reqhash_check.index.multi import MultiIndex
    from reqhash_check.lockfile.run import LockRun
    from reqhash_check.resolve import NewPin, Repinned

Progress = Callable[[int, int], None]
_T = TypeVar("_T")


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
    timeout: float = DEFAULT_TIMEOUT
    concurrency: int = DEFAULT_CONCURRENCY
    fix: bool = False
    diff: bool = False
    allow_index: frozenset[str] | None = None
    """--allow-index: the hosts a file may send pip to; None when not given."""
    allow_outside: bool = False
    """--allow-outside-includes: files may include, or find links in, places outside the
    repository."""
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    isolated: bool = False
    """Ignore pip's configuration files and PIP_* variables, as pip --isolated does."""
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))


@dataclass(frozen=True)
class RunResult:
    report: Report
    read_errors: tuple[str, ...] = ()
    fix_messages: tuple[str, ...] = ()
    diff: str = ""
    offline: bool = False


@dataclass(frozen=True)
class _Loaded:
    req_set: RequirementSet
    problems: tuple[ParseProblem, ...]


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
    import asyncio

    with _cycle_collection(True):
        return asyncio.run(coroutine)


def run(settings: Settings, progress: Progress | None = None) -> RunResult:
    with _cycle_collection(False):
        return _run(settings, progress)


def _run(settings: Settings, progress: Progress | None) -> RunResult:
    lock_paths = tuple(f for f in settings.files if lockfile.is_lock_path(f))
    locks = None
    if lock_paths:
        with _cycle_collection(True):
            locks = _check_locks(settings, lock_paths, progress)
    settings = replace(settings, files=tuple(f for f in settings.files if f not in lock_paths))
    loaded, read_errors = _load_all(settings, {})
    plans = [plan_indexes(settings, item.req_set) for item in loaded]
    lookups: dict[int, Lookups] = {}
    index_errors: tuple[str, ...] = ()
    if _needs_index(settings) and any(_pinned(item.req_set) for item in loaded):
        lookups, index_errors = _look_up(settings, loaded, plans, progress)
    report = _report(settings, loaded, plans, lookups, index_errors, read_errors)
    result = RunResult(report, tuple(read_errors), offline=settings.offline)
    if settings.fix or settings.diff:
        result = _fix(settings, loaded, plans, lookups, result)
    if locks is not None:
        result = _with_locks(settings, result, locks)
    return _scrubbed(result, loaded)


def _check_locks(settings: Settings, paths: Sequence[str], progress: Progress | None) -> LockRun:
    """PEP 751 lock files go to the lockfile package, under pip's lock rules."""
    from reqhash_check.lockfile.run import check_locks

    cache_file = None
    if settings.use_cache:
        cache_file = (settings.cache_dir or default_cache_dir()) / CACHE_FILENAME
    return check_locks(
        settings,
        paths,
        active_rules=active_rules(settings),
        needs_index=_needs_index(settings),
        cache_file=cache_file,
        progress=progress,
    )


def _with_locks(settings: Settings, result: RunResult, locks: LockRun) -> RunResult:
    """The lock files' findings merged into the report; their fixes applied with the rest,
    and, after --fix, the fixed locks checked again (their answers come from the cache)."""
    from reqhash_check.lockfile.run import fix_locks

    diff, messages = "", list(result.fix_messages)
    if settings.fix or settings.diff:
        lock_diff, lock_messages = fix_locks(settings, locks)
        diff = lock_diff
        if lock_messages and messages == ["nothing to fix"]:
            messages = []
        messages = [*lock_messages, *messages]
        if settings.fix and lock_messages:
            with _cycle_collection(True):
                locks = _check_locks(settings, [lock.path for lock in locks.locks], None)
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


def _scrubbed(result: RunResult, loaded: Sequence[_Loaded]) -> RunResult:
    values: dict[str, str] = {}
    for item in loaded:
        values.update(item.req_set.expanded)
    table = replacements(values)
    return scrub(result, table) if table else result


def _load_all(settings: Settings, overlay: Mapping[str, str]) -> tuple[list[_Loaded], list[str]]:
    loaded, errors = [], []
    for path in settings.files:
        try:
            text = settings.stdin_text if path == "-" else overlay.get(path)
            req_set, problems = _read(settings, path, text)
        except RequirementsFileError as exc:
            errors.append(str(exc))
            continue
        loaded.append(_Loaded(req_set, tuple(problems)))
    return loaded, errors


def _read(
    settings: Settings, path: str, text: str | None
) -> tuple[RequirementSet, list[ParseProblem]]:
    """One file set, read as the pip given with --pip-version reads it. With none given,
    the oldest and the newest pip modelled both read it, and a line either refuses is a
    problem, saying which: nothing some pip in common use would refuse is missed."""
    modelled = settings.check.pip_version

    def read(version: tuple[int, int]) -> tuple[RequirementSet, list[ParseProblem]]:
        return load(
            path,
            text=text,
            environ=settings.environ,
            pip_version=version,
            allow_outside_includes=settings.allow_outside,
        )

    req_set, problems = read(modelled or OLDEST)
    if modelled is not None:
        return req_set, problems
    _, newest = read(NEWEST)
    old_keys = {(p.rule, p.location.path, p.location.line) for p in problems}
    new_keys = {(p.rule, p.location.path, p.location.line) for p in newest}
    oldest_name, newest_name = ".".join(map(str, OLDEST)), ".".join(map(str, NEWEST))
    merged = [
        p
        if (p.rule, p.location.path, p.location.line) in new_keys
        else replace(p, message=f"{p.message} (pip {newest_name} reads it)")
        for p in problems
    ]
    merged += [
        replace(p, message=f"{p.message} (pip {oldest_name} reads it)")
        for p in newest
        if (p.rule, p.location.path, p.location.line) not in old_keys
    ]
    return req_set, merged


def _pinned(req_set: RequirementSet) -> bool:
    """Whether anything in the set is looked up: pins, and hashed requirements without one."""
    return any(e.kind is Kind.NAMED and (e.pin or e.hashes) for e in req_set.entries)


def active_rules(settings: Settings) -> frozenset[str]:
    chosen = settings.select or frozenset(RULES)
    return chosen - settings.ignore


def _needs_index(settings: Settings) -> bool:
    return any(RULES[rule].needs_index for rule in active_rules(settings))


# -- where pip goes for each file set ------------------------------------------------------


@dataclass(frozen=True)
class IndexPlan:
    """The sources one file set sends pip to, and which of them may be contacted."""

    urls: tuple[str, ...]
    """Index URLs, primary first, as requests use them (environment values expanded)."""
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    """URL or location → how it is shown and keyed in the cache (as written, redacted)."""
    refused: Mapping[str, str] = field(default_factory=dict)
    """URL or location → why it is not contacted."""
    uses: tuple[IndexUse, ...] = ()

    @property
    def key(self) -> tuple[object, ...]:
        return self.urls, self.find_links, self.no_index, tuple(sorted(self.refused.items()))

    @property
    def shown(self) -> str:
        sources = [] if self.no_index else list(self.urls)
        sources += list(self.find_links)
        return ", ".join(self.labels.get(u, redact_url(u)) for u in sources) or "no index"


def plan_indexes(settings: Settings, req_set: RequirementSet) -> IndexPlan:
    """Where pip looks, in pip's order: its configuration and PIP_* variables, then the
    command line, then the file's own options (its --index-url replaces the one before;
    extra indexes and find-links add up; --no-index drops every index).

    A location from a file is contacted only if it names its host literally (no ${VAR}),
    is within --allow-index when that is given, and, for a folder or page on this machine,
    lies inside the repository."""
    config = pip_locations(settings.environ, isolated=settings.isolated)
    primary = settings.index_url or config.index_url or DEFAULT_INDEX_URL
    extras = [*config.extra_index_urls, *settings.extra_index_urls]
    find_links = [*config.find_links, *settings.find_links]
    no_index = settings.no_index or config.no_index
    trusted = [primary, *extras, *find_links]
    trusted_hosts = {url_host(u) for u in trusted if url_host(u)} | set(settings.allow_index or ())
    labels = {u: redact_url(u) for u in trusted}
    refused: dict[str, str] = {}
    origins: dict[str, IndexUse] = {}
    for option in req_set.options:
        if option.name not in ("index_url", "extra_index_url", "find_links", "no_index"):
            continue
        if option.name == "no_index":
            no_index = no_index or bool(option.value)
            continue
        value = str(option.value)
        written = str(getattr(option, "written", None) or value)
        where = f"{option.location.path}:{option.location.line}" if option.location else ""
        if option.name == "find_links":
            value = _find_links_location(value, option.location.path if option.location else "")
        label = redact_url(written)
        reason = _refusal(settings, value, written, trusted_hosts, option.location)
        if option.name == "index_url":
            primary = value
        elif option.name == "extra_index_url":
            extras.append(value)
        else:
            find_links.append(value)
        labels[value] = label
        if reason:
            refused[value] = f"{label} ({where}) {reason}"
        kind = "find-links" if option.name == "find_links" else "index"
        origins[value] = IndexUse(label, option.location, kind, reason is None)
    urls = tuple(dict.fromkeys([primary, *extras]))
    links = tuple(dict.fromkeys(find_links))
    shown = [] if no_index else list(urls)
    uses = tuple(
        origins.get(u) or IndexUse(labels.get(u, redact_url(u)), None, kind)
        for kind, group in (("index", shown), ("find-links", links))
        for u in group
    )
    return IndexPlan(urls, links, no_index, labels, refused, uses)


def _find_links_location(value: str, including: str) -> str:
    """pip reads a relative find-links path in a file relative to that file when it exists."""
    if "://" in value or value.startswith("file:") or os.path.isabs(value) or not including:
        return value
    beside = os.path.join(os.path.dirname(os.path.abspath(including)), value)
    return beside if os.path.exists(beside) else value


def _refusal(
    settings: Settings,
    value: str,
    written: str,
    trusted_hosts: set[str],
    origin: Location | None,
) -> str | None:
    host = url_host(value)
    if written != value and host not in trusted_hosts:
        return (
            "uses an environment variable and its host is not named on the command line or "
            "in pip's configuration; it was not contacted (allow it with --allow-index HOST)"
        )
    if host and settings.allow_index is not None and host not in settings.allow_index:
        return "is not in --allow-index; it was not contacted"
    path = local_path(value)
    if path is not None and origin is not None and not settings.allow_outside:
        root = repository_root(origin.path) if origin.path != "-" else repository_root(".")
        if not is_inside(path, root):
            return (
                "is a location outside the repository; it was not read "
                "(--allow-outside-includes allows it)"
            )
    return None


def _open(settings: Settings, plan: IndexPlan, cache: ReleaseCache | None) -> MultiIndex:
    from reqhash_check.index.multi import open_indexes

    return open_indexes(
        plan.urls[0],
        plan.urls[1:],
        timeout=settings.timeout,
        concurrency=settings.concurrency,
        cache=cache,
        offline=settings.offline,
        labels=plan.labels,
        refused=plan.refused,
        find_links=plan.find_links,
        no_index=plan.no_index,
    )


def _cache(settings: Settings) -> ReleaseCache | None:
    if not settings.use_cache:
        return None
    folder = settings.cache_dir or default_cache_dir()
    return ReleaseCache(folder / CACHE_FILENAME)


def _look_up(
    settings: Settings,
    loaded: Sequence[_Loaded],
    plans: Sequence[IndexPlan],
    progress: Progress | None,
) -> tuple[dict[int, Lookups], tuple[str, ...]]:
    """Release data per file set, from the indexes that set consults (never another's): from
    the cache alone when it settles every question (no event loop, no HTTP), else asked."""
    cache = _cache(settings)
    try:
        stored = _from_cache(settings, loaded, plans, cache) if cache is not None else None
        if stored is not None:
            return stored, ()
        return _ask(_lookup_all(settings, loaded, plans, cache, progress))
    finally:
        if cache is not None:
            cache.close()


def _groups(plans: Sequence[IndexPlan]) -> list[list[int]]:
    """File sets that consult the same sources, asked together."""
    groups: dict[object, list[int]] = {}
    for number, plan in enumerate(plans):
        groups.setdefault(plan.key, []).append(number)
    return list(groups.values())


def _from_cache(
    settings: Settings, loaded: Sequence[_Loaded], plans: Sequence[IndexPlan], cache: ReleaseCache
) -> dict[int, Lookups] | None:
    by_set: dict[int, Lookups] = {}
    for members in _groups(plans):
        plan = plans[members[0]]
        if plan.find_links or plan.no_index or plan.refused:
            return None
        urls = index_urls(plan.urls[0], plan.urls[1:])
        indexes = cache_only_indexes(urls, plan.labels, cache, settings.offline)
        entries = [e for n in members for e in loaded[n].req_set.entries]
        found = stored_lookups(indexes, entries) if indexes is not None else None
        if found is None:
            return None
        by_set.update(dict.fromkeys(members, found))
    return by_set


async def _lookup_all(
    settings: Settings,
    loaded: Sequence[_Loaded],
    plans: Sequence[IndexPlan],
    cache: ReleaseCache | None,
    progress: Progress | None,
) -> tuple[dict[int, Lookups], tuple[str, ...]]:
    by_set: dict[int, Lookups] = {}
    problems: dict[str, list[str]] = {}
    for members in _groups(plans):
        plan = plans[members[0]]
        index = _open(settings, plan, cache)
        entries = [e for n in members for e in loaded[n].req_set.entries]
        try:
            found = await lookup_releases(
                index,
                entries,
                is_offline_miss=lambda exc: isinstance(exc, OfflineMiss),
                progress=progress,
            )
        finally:
            await index.aclose()
        for name, reasons in index.problems.items():
            problems.setdefault(name, []).extend(reasons)
        for number in members:
            by_set[number] = found
    return by_set, _grouped(problems, settings.offline)


def _grouped(problems: Mapping[str, list[str]], offline: bool) -> tuple[str, ...]:
    """Each failing index once: how many questions failed, and the first reason."""
    lines = []
    for name, reasons in problems.items():
        if offline and all("(offline)" in r for r in reasons):
            continue
        count = len(reasons)
        lines.append(
            f"{name}: could not be asked ({count} {'question' if count == 1 else 'questions'} "
            f"failed; first: {reasons[0]})"
        )
    return tuple(lines)


def _check_set(
    settings: Settings, item: _Loaded, plan: IndexPlan, lookups: Lookups
) -> tuple[list[Finding], list[Unverified]]:
    options = replace(
        settings.check,
        targets=settings.targets,
        allowed_hosts=settings.allow_index,
        indexes_shown=plan.shown
        if len(plan.uses) <= 1
        else f"the {len(plan.uses)} indexes consulted (listed below)",
    )
    result = check(item.req_set, item.problems, lookups, options)
    active = active_rules(settings)
    return [f for f in result.findings if f.rule in active], list(result.unverified)


def _report(
    settings: Settings,
    loaded: Sequence[_Loaded],
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
    unknown: Counter[str] = Counter()
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
                unknown[release.dependencies_note or "unknown"] += 1
    return Report(
        findings=tuple(sorted(dict.fromkeys(findings), key=lambda f: f.sort_key)),
        unverified=tuple(dict.fromkeys(unverified)),
        files=tuple(dict.fromkeys(f for item in loaded for f in item.req_set.files)),
        requirements_checked=sum(len(item.req_set.entries) for item in loaded),
        targets=tuple(t.name for t in settings.targets),
        unreadable=tuple(read_errors),
        indexes=tuple(dict.fromkeys(consulted)),
        index_errors=index_errors,
        dependencies_unknown=tuple(
            f"{count} {'requirement' if count == 1 else 'requirements'}: {note}"
            for note, count in sorted(unknown.items())
        ),
    )


def failing(findings: Sequence[Finding], strict: bool) -> bool:
    return any(not f.suppressed and (f.severity is Severity.ERROR or strict) for f in findings)


# -- --fix / --diff ------------------------------------------------------------------------


def _fix(
    settings: Settings,
    loaded: Sequence[_Loaded],
    plans: Sequence[IndexPlan],
    lookups: dict[int, Lookups],
    before: RunResult,
) -> RunResult:
    """Apply every fix the findings carry, in one pass per file, then check the fixed text
    again in memory."""
    from reqhash_check import fix as fixer
    from reqhash_check.resolve import lookups_for

    fixable = [f for f in before.report.findings if f.fix is not None and not f.suppressed]
    messages: list[str] = []
    new_pins: list[NewPin] = []
    wanted = [f.fix for f in fixable if isinstance(f.fix, PinDependency)]
    if wanted:
        new_pins, conflicts = _ask(_resolve_pins(settings, loaded, plans, wanted))
        messages += [f"not fixed: {c}" for c in conflicts]
    repins: list[Repinned] = []
    wanted_repins = [f.fix for f in fixable if isinstance(f.fix, RepinProject)]
    if wanted_repins:
        repins, refused = _ask(_resolve_repins(settings, loaded, plans, wanted_repins))
        messages += [f"not fixed: {r}" for r in refused]
    edits = _edits(fixable, new_pins, loaded, repins)
    if not edits:
        remaining = Counter(f.rule for f in before.report.active)
        left = ", ".join(f"{rule} {n}" for rule, n in sorted(remaining.items()))
        if fixable:
            messages.append(
                f"fixed 0 of {len(fixable)} fixable findings; {sum(remaining.values())} remain"
                + (f" ({left})" if left else "")
            )
        else:
            messages.append("nothing to fix")
        return replace(before, fix_messages=tuple(messages))
    texts: dict[str, str] = {}
    diffs: list[str] = []
    fixed_files = 0
    for path, file_edits in sorted(edits.items()):
        if path == "-":
            messages.append("standard input cannot be fixed in place; use --diff")
            continue
        try:
            plan = fixer.plan_fix(Path(path), file_edits)
            if settings.diff:
                diffs.append(plan.diff())
            elif plan.changed:
                fixer.apply_plan(plan, repository_root(path))
            texts[path] = plan.new_text
            fixed_files += plan.changed
        except fixer.FixError as exc:
            messages.append(f"not fixed: {exc}")
    extra = lookups_for(new_pins)
    extra.update({(r.fix.project, r.version): ReleaseLookup(release=r.release) for r in repins})
    reloaded, read_errors = _load_all(settings, texts)
    after = _report(
        settings,
        reloaded,
        [plan_indexes(settings, item.req_set) for item in reloaded],
        {n: {**found, **extra} for n, found in lookups.items()} or {0: extra},
        before.report.index_errors,
        read_errors,
    )
    pinned = {(p.path, p.project) for p in new_pins}
    repinned = {r.fix for r in repins}
    count = sum(
        1
        for f in fixable
        if f.location.path in texts
        and (not isinstance(f.fix, PinDependency) or (f.fix.path, f.fix.project) in pinned)
        and (not isinstance(f.fix, RepinProject) or f.fix in repinned)
    )
    remaining = Counter(f.rule for f in after.active)
    left = ", ".join(f"{rule} {n}" for rule, n in sorted(remaining.items()))
    verb = "would fix" if settings.diff else "fixed"
    added = f", {len(new_pins)} {'pin' if len(new_pins) == 1 else 'pins'} added" if new_pins else ""
    messages.append(
        f"{verb} {count} {'finding' if count == 1 else 'findings'} in {fixed_files} "
        f"{'file' if fixed_files == 1 else 'files'}{added}; {sum(remaining.values())} remain"
        + (f" ({left})" if left else "")
    )
    report = before.report if settings.diff else after
    return replace(
        before,
        report=report,
        read_errors=tuple(read_errors) if not settings.diff else before.read_errors,
        fix_messages=tuple(messages),
        diff="".join(diffs),
    )


async def _resolve_pins(
    settings: Settings,
    loaded: Sequence[_Loaded],
    plans: Sequence[IndexPlan],
    wanted: Sequence[PinDependency],
) -> tuple[list[NewPin], list[str]]:
    from reqhash_check.resolve import resolve

    by_path = {f: n for n, item in enumerate(loaded) for f in item.req_set.files}
    groups: dict[int, list[PinDependency]] = {}
    for pin in wanted:
        groups.setdefault(by_path.get(pin.path, 0), []).append(pin)
    cache = _cache(settings)
    pins: list[NewPin] = []
    conflicts: list[str] = []
    try:
        for number, group in groups.items():
            item = loaded[number]
            index: Index = _open(settings, plans[number], cache)
            try:
                policy = SetContext(item.req_set, (), {}, settings.check).policy
                found, clashes = await resolve(
                    index,
                    group,
                    [e.name for e in item.req_set.entries if e.name],
                    settings.targets,
                    policy,
                    targets_only=settings.check.fix_targets_only,
                )
            finally:
                await index.aclose()
            pins += found
            conflicts += clashes
    finally:
        if cache is not None:
            cache.close()
    return pins, conflicts


async def _resolve_repins(
    settings: Settings,
    loaded: Sequence[_Loaded],
    plans: Sequence[IndexPlan],
    wanted: Sequence[RepinProject],
) -> tuple[list[Repinned], list[str]]:
    from reqhash_check.resolve import repin

    by_path = {f: n for n, item in enumerate(loaded) for f in item.req_set.files}
    groups: dict[int, list[RepinProject]] = {}
    for fix in wanted:
        groups.setdefault(by_path.get(fix.location.path, 0), []).append(fix)
    cache = _cache(settings)
    done: list[Repinned] = []
    refused: list[str] = []
    try:
        for number, group in groups.items():
            item = loaded[number]
            index: Index = _open(settings, plans[number], cache)
            try:
                policy = SetContext(item.req_set, (), {}, settings.check).policy
                found, left = await repin(
                    index,
                    group,
                    settings.targets,
                    policy,
                    targets_only=settings.check.fix_targets_only,
                )
            finally:
                await index.aclose()
            done += found
            refused += left
    finally:
        if cache is not None:
            cache.close()
    return done, refused


def _edits(
    fixable: Sequence[Finding],
    new_pins: Sequence[NewPin],
    loaded: Sequence[_Loaded],
    repins: Sequence[Repinned] = (),
) -> dict[str, list[fixer.HashEdit | fixer.InsertEdit]]:
    """The fixes as edits of each file: one hash set per requirement (every SetHashes and
    AddHashes on it merged; a new version's hashes replace them), and the new pins at their
    sorted places."""
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
    hashes: dict[tuple[str, int], tuple[Finding, set[str]]] = {}
    for finding in fixable:
        fix = finding.fix
        if not isinstance(fix, (SetHashes, AddHashes)):
            continue
        if (fix.location.path, fix.location.line) in changed:
            continue  # the entry gets a new version, and that version's hashes
        key = (fix.location.path, fix.location.line)
        _, current = hashes.setdefault(key, (finding, set()))
        if isinstance(fix, AddHashes) and not current:
            current.update(finding.hashes.listed if finding.hashes else ())
        current.update(fix.hashes)
    for (path, _line), (finding, new) in hashes.items():
        fix = finding.fix
        assert isinstance(fix, (SetHashes, AddHashes))
        edits.setdefault(path, []).append(fixer.HashEdit(fix.location, fix.raw, tuple(sorted(new))))
    entries = [e for item in loaded for e in item.req_set.entries]
    for pin in sorted(new_pins, key=lambda p: p.project):
        in_file = sorted(
            (e for e in entries if e.location.path == pin.path and e.name),
            key=lambda e: e.location.line,
        )
        after = next((e for e in in_file if e.name > pin.project), None)
        lines = fixer.pin_lines(pin.project, pin.version, pin.marker, pin.hashes, pin.via)
        edits.setdefault(pin.path, []).append(
            fixer.InsertEdit(after.location.line if after else None, lines)
        )
    return edits


def stdin_text() -> str:
    return read_text(sys.stdin.buffer.read(), "<stdin>")


__all__ = ["RunResult", "Settings", "failing", "plan_indexes", "run", "scrub_text", "stdin_text"]
