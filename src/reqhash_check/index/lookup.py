"""Asking the indexes a plan names (see `reqhash_check.index.plan`): one service for the
check's file sets, lock files and `explain`.

It opens the clients a plan calls for (`open_plan`) and the signed cache (`open_cache`),
maps every index error to one result model, `ReleaseLookup` ("what the index said about
project X version Y": files, no such project or version, or why it could not be asked;
`lookup_of`), remembers the hosts given up on for the rest of a run, and says each failing
index once (`_grouped`).

One set of questions for a file set, two ways to ask them: `lookup_releases` asks an Index,
concurrently; `stored_lookups` asks the cache alone, synchronously, and gives up at the first
question it cannot settle. A warm run is answered by the second and so never starts an event
loop: asyncio, the HTTP client and the index clients are imported inside the functions that
use them, for start-up speed.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from reqhash_check.index.base import (
    ANY_VERSION,
    DistFile,
    Index,
    IndexQueryError,
    IndexUnavailable,
    OfflineMiss,
    ProjectNotFound,
    ReleaseFiles,
    ReleaseLookup,
    VersionNotFound,
    first_problem,
    merge_files,
    merge_releases,
    published_hashes,
)
from reqhash_check.index.cache import ReleaseCache
from reqhash_check.index.plan import IndexPlan
from reqhash_check.index.stored import CacheOnlyIndex, NotStored, cache_only_indexes
from reqhash_check.requirements import Kind, RequirementEntry, RequirementSet
from reqhash_check.requirements.model import entry_hashes
from reqhash_check.settings import Settings
from reqhash_check.urls import index_urls, redact_url

if TYPE_CHECKING:
    import asyncio

    from reqhash_check.index.multi import MultiIndex

__all__ = [
    "Answer",
    "Asker",
    "FileSetLookups",
    "Lookups",
    "ReleaseLookup",
    "ask_releases",
    "attach_histories",
    "look_up_file_sets",
    "lookup_of",
    "lookup_releases",
    "open_cache",
    "open_plan",
    "stored_lookups",
]

Lookups = dict[tuple[str, str], ReleaseLookup]
FileSetLookups = dict[int, Lookups]
"""File set (its position in the run) → its lookups."""
_K = TypeVar("_K")


# --- the questions ----------------------------------------------------------------------


def _pins(entries: Sequence[RequirementEntry]) -> list[tuple[str, str]]:
    """Each pinned (project, version), once."""
    return sorted({(e.name, e.pin) for e in entries if e.kind is Kind.NAMED and e.pin})


def _unpinned(entries: Sequence[RequirementEntry]) -> list[str]:
    """Projects listed with hashes but no pin: every version's files are asked."""
    return sorted(
        {e.name for e in entries if e.kind is Kind.NAMED and e.name and not e.pin and e.hashes}
    )


def _needing_history(entries: Sequence[RequirementEntry], lookups: Lookups) -> Iterator[str]:
    """Projects with a sha256 their release does not publish: their whole history is asked,
    so the report can say which version the hash belongs to."""
    for e in entries:
        lookup = lookups.get((e.name, e.pin)) if e.pin else None
        if lookup is not None and lookup.release is not None and _has_unknown_sha256(e, lookup):
            yield e.name


def _has_unknown_sha256(entry: RequirementEntry, lookup: ReleaseLookup) -> bool:
    assert lookup.release is not None
    published = published_hashes(lookup.release.files)
    return any(h.startswith("sha256:") and h not in published for h in entry_hashes(entry))


def lookup_of(exc: IndexQueryError) -> ReleaseLookup:
    """The one reading of an index error: no such project, no such version, or the index
    could not be asked (an --offline cache miss marked as such)."""
    if isinstance(exc, ProjectNotFound):
        return ReleaseLookup(missing="project")
    if isinstance(exc, VersionNotFound):
        return ReleaseLookup(missing="version")
    return ReleaseLookup(error=str(exc), offline=isinstance(exc, OfflineMiss))


def _every_version(project: str, files: tuple[DistFile, ...]) -> ReleaseLookup:
    return ReleaseLookup(release=ReleaseFiles(project, ANY_VERSION, files))


def _history_of(files: Iterable[DistFile]) -> dict[str, DistFile]:
    """sha256 → file over every release."""
    return {f.sha256.lower(): f for f in files if f.sha256}


def _with_histories(
    lookups: dict[_K, ReleaseLookup],
    histories: Mapping[str, dict[str, DistFile]],
    project_of: Callable[[_K], str],
) -> None:
    for key, lookup in lookups.items():
        history = histories.get(project_of(key))
        if history:
            lookups[key] = replace(lookup, history=history)


# --- asked of the index -----------------------------------------------------------------


async def lookup_releases(
    index: Index,
    entries: Sequence[RequirementEntry],
    *,
    progress: Callable[[int, int], None] | None = None,
) -> Lookups:
    """Fetch each pinned (project, version) once; then, for hashes the release does not
    publish, the project's whole history so the report can say where they come from."""
    import asyncio

    pairs = _pins(entries)
    done = 0

    async def one(project: str, version: str) -> tuple[tuple[str, str], ReleaseLookup]:
        nonlocal done
        try:
            lookup = ReleaseLookup(release=await index.release(project, version))
        except IndexQueryError as exc:
            lookup = lookup_of(exc)
        done += 1
        if progress:
            progress(done, len(pairs))
        return (project, version), lookup

    async def every_version(project: str) -> ReleaseLookup:
        try:
            return _every_version(project, await index.project_files(project))
        except IndexQueryError as exc:
            return lookup_of(exc)

    lookups: Lookups = dict(await asyncio.gather(*(one(p, v) for p, v in pairs)))
    unpinned = _unpinned(entries)
    found = await asyncio.gather(*(every_version(name) for name in unpinned))
    lookups.update(
        {(name, ANY_VERSION): lookup for name, lookup in zip(unpinned, found, strict=True)}
    )
    await attach_histories(
        index, lookups, _needing_history(entries, lookups), project_of=lambda key: key[0]
    )
    return lookups


async def attach_histories(
    index: Index,
    lookups: dict[_K, ReleaseLookup],
    projects: Iterable[str],
    *,
    project_of: Callable[[_K], str],
) -> None:
    """Give the lookups of `projects` every release's files (sha256 → file), so a report can
    say which version an unknown hash belongs to."""
    import asyncio

    async def history(project: str) -> dict[str, DistFile]:
        try:
            return _history_of(await index.project_files(project))
        except IndexQueryError:  # the history only explains; without it nothing is missed
            return {}

    names = sorted(set(projects))
    histories = await asyncio.gather(*(history(name) for name in names))
    _with_histories(lookups, dict(zip(names, histories, strict=True)), project_of)


# --- asked of the cache alone -----------------------------------------------------------


def stored_lookups(
    indexes: Sequence[CacheOnlyIndex], entries: Sequence[RequirementEntry]
) -> Lookups | None:
    """The same lookups as `lookup_releases` over these indexes merged, from their cache rows
    alone; None as soon as one question needs the network."""

    def ask(call: Callable[[CacheOnlyIndex], _K]) -> tuple[list[_K], list[IndexQueryError]]:
        found, errors = [], []
        for index in indexes:
            try:
                found.append(call(index))
            except IndexQueryError as exc:
                errors.append(exc)
        return found, errors

    def release(project: str, version: str) -> ReleaseLookup:
        found, errors = ask(lambda index: index.release(project, version))
        if not found:
            return lookup_of(first_problem(errors))
        return ReleaseLookup(release=merge_releases(found, ()))

    def project_files(project: str) -> tuple[DistFile, ...] | IndexQueryError:
        found, errors = ask(lambda index: index.project_files(project))
        return merge_files(found) if found else first_problem(errors)

    try:
        lookups: Lookups = {(p, v): release(p, v) for p, v in _pins(entries)}
        for name in _unpinned(entries):
            files = project_files(name)
            lookups[(name, ANY_VERSION)] = (
                lookup_of(files)
                if isinstance(files, IndexQueryError)
                else _every_version(name, files)
            )
        histories = {}
        for name in sorted(set(_needing_history(entries, lookups))):
            files = project_files(name)
            histories[name] = {} if isinstance(files, IndexQueryError) else _history_of(files)
    except NotStored:
        return None
    _with_histories(lookups, histories, lambda key: key[0])
    return lookups


# --- the clients and the cache ----------------------------------------------------------


def open_cache(settings: Settings, *, refresh: bool | None = None) -> ReleaseCache | None:
    """The run's signed cache (`--cache-dir`, else the user cache folder); None with
    --no-cache (unless --offline, which answers from nothing else). With `refresh` (by
    default --fix: it writes only hashes the index gave this run) rows are written, never
    read."""
    if not settings.use_cache and not settings.offline:
        return None
    return ReleaseCache.in_dir(
        settings.cache_dir, refresh=settings.fix if refresh is None else refresh
    )


def open_plan(
    settings: Settings,
    plan: IndexPlan,
    cache: ReleaseCache | None,
    dead_hosts: dict[str, str] | None = None,
    *,
    offline: bool | None = None,
    gate: asyncio.Semaphore | None = None,
) -> MultiIndex:
    """The clients `plan` calls for, with the run's timeout, concurrency and --offline (or
    `offline`: a cache-only fallback). An index a lock names gets a client of its own that
    sends no credentials but those written in its URL (no netrc). Plans asked at the same
    time share the run's `gate` (its --concurrency) and `dead_hosts`. The caller must
    `await index.aclose()`."""
    # Imported here for start-up speed: a warm run answered by the cache never opens one.
    from reqhash_check.index.http import HttpClient, HttpSettings
    from reqhash_check.index.multi import MultiIndex, RefusedIndex, open_index, open_indexes

    offline = settings.offline if offline is None else offline
    if plan.own_client:
        http = HttpClient(
            HttpSettings(
                timeout=settings.timeout, concurrency=settings.concurrency, use_netrc=False
            ),
            dead_hosts=dead_hosts,
            gate=gate,
        )
        return MultiIndex(
            [
                RefusedIndex(redact_url(url), plan.refused[url])
                if url in plan.refused
                else open_index(url, http, cache=cache, offline=offline)
                for url in plan.urls
            ],
            http,
        )
    return open_indexes(
        plan.urls[0],
        plan.urls[1:],
        timeout=settings.timeout,
        concurrency=settings.concurrency,
        cache=cache,
        offline=offline,
        labels=plan.labels,
        refused=plan.refused,
        find_links=plan.find_links,
        no_index=plan.no_index,
        untrusted=plan.untrusted,
        expanded=plan.expanded,
        from_files=plan.from_files,
        dead_hosts=dead_hosts,
        roots=plan.roots,
        gate=gate,
    )


# --- file sets --------------------------------------------------------------------------


def look_up_file_sets(
    settings: Settings,
    req_sets: Sequence[RequirementSet],
    plans: Sequence[IndexPlan],
    progress: Callable[[int, int], None] | None,
    run_network: Callable[
        [Coroutine[Any, Any, tuple[FileSetLookups, tuple[str, ...]]]],
        tuple[FileSetLookups, tuple[str, ...]],
    ],
) -> tuple[FileSetLookups, tuple[str, ...]]:
    """Release data per file set, from the indexes that set's plan names (never another's):
    from the cache alone when it settles every question (no event loop, no HTTP), else asked
    through `run_network` (the caller's event loop). Returns the lookups and one line per
    failing index."""
    cache = open_cache(settings)
    try:
        stored = _from_cache(settings, req_sets, plans, cache) if cache is not None else None
        if stored is not None:
            return stored, ()
        return run_network(_lookup_all(settings, req_sets, plans, cache, progress))
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
    settings: Settings,
    req_sets: Sequence[RequirementSet],
    plans: Sequence[IndexPlan],
    cache: ReleaseCache,
) -> FileSetLookups | None:
    by_set: FileSetLookups = {}
    for members in _groups(plans):
        plan = plans[members[0]]
        if plan.find_links or plan.no_index or plan.refused or plan.expanded:
            return None
        urls = index_urls(plan.urls[0], plan.urls[1:])
        indexes = cache_only_indexes(urls, plan.labels, cache, settings.offline)
        entries = [e for n in members for e in req_sets[n].entries]
        if any(e.name_tainted for e in entries):
            return None  # never in the cache: asked afresh (see _lookup_all)
        found = stored_lookups(indexes, entries) if indexes is not None else None
        if found is None:
            return None
        by_set.update(dict.fromkeys(members, found))
    return by_set


async def _lookup_all(
    settings: Settings,
    req_sets: Sequence[RequirementSet],
    plans: Sequence[IndexPlan],
    cache: ReleaseCache | None,
    progress: Callable[[int, int], None] | None,
) -> tuple[FileSetLookups, tuple[str, ...]]:
    by_set: FileSetLookups = {}
    problems: dict[str, list[str]] = {}
    dead_hosts: dict[str, str] = {}  # one host given up on for every file set
    for members in _groups(plans):
        plan = plans[members[0]]
        entries = [e for n in members for e in req_sets[n].entries]
        found: Lookups = {}
        # A name that derives from an expansion is asked without the cache (its rows would
        # hold the name), and what failed about it is not quoted.
        for tainted in (False, True):
            asked = [e for e in entries if e.name_tainted is tainted]
            if not asked:
                continue
            index = open_plan(settings, plan, None if tainted else cache, dead_hosts)
            try:
                found.update(await lookup_releases(index, asked, progress=progress))
            finally:
                await index.aclose()
            for name, reasons in index.problems.items():
                if tainted:
                    reasons = [_TAINTED_QUESTION] * len(reasons)
                problems.setdefault(name, []).extend(reasons)
        for number in members:
            by_set[number] = found
    return by_set, _grouped(problems, settings.offline)


_TAINTED_QUESTION = (
    "a question about a requirement named by an environment variable failed (not quoted: "
    "it would carry the value)"
)


NEXT_STEP = (
    "check the URL and the network, run with --offline to check against the cache, or "
    "give another --index-url"
)


def _grouped(problems: Mapping[str, list[str]], offline: bool) -> tuple[str, ...]:
    """Each failing index once: how many questions failed, the first reason, and what to
    try next; a host given up on for the rest of the run is said here, once."""
    from reqhash_check.index.http import NOT_ASKED_AGAIN  # start-up speed, as above

    lines = []
    for name, reasons in problems.items():
        if offline and all("(offline)" in r for r in reasons):
            continue
        count = len(reasons)
        skipped = sum(1 for r in reasons if NOT_ASKED_AGAIN in r)
        first = next((r for r in reasons if NOT_ASKED_AGAIN not in r), reasons[0])
        given_up = f"; not asked again after that ({skipped} skipped)" if skipped else ""
        lines.append(
            f"{name}: could not be asked ({count} {'question' if count == 1 else 'questions'} "
            f"failed; first: {first}{given_up}); {NEXT_STEP}"
        )
    return tuple(lines)


# --- lock files: pinned (project, version) pairs ----------------------------------------


async def ask_releases(
    index: Index, pairs: Iterable[tuple[str, str]], tick: Callable[[], None] | None = None
) -> Lookups:
    """Each (project, version) asked once, concurrently; `tick` hears each answer."""
    import asyncio

    async def one(project: str, version: str) -> tuple[tuple[str, str], ReleaseLookup]:
        try:
            lookup = ReleaseLookup(release=await index.release(project, version))
        except IndexQueryError as exc:
            lookup = lookup_of(exc)
        if tick is not None:
            tick()
        return (project, version), lookup

    return dict(await asyncio.gather(*(one(p, v) for p, v in dict.fromkeys(pairs))))


# --- explain: a budget in all, a cache to fall back on ----------------------------------


@dataclass(frozen=True)
class Answer:
    """One question's answer: the `ReleaseLookup` (for every release of a project, its
    version is ANY_VERSION), the index's own words when it had no answer, and whether the
    cache answered because the index could not be reached."""

    lookup: ReleaseLookup
    said: str = ""
    from_cache: bool = False


class Asker:
    """Answers shared by every question of a run, each question asked once; `fallback` is a
    cache-only index, asked when `index` cannot be reached."""

    def __init__(
        self, index: Index, fallback: Index | None = None, budget: float | None = None
    ) -> None:
        import asyncio

        self._index = index
        self._fallback = fallback
        self._budget = budget
        self._deadline = None if budget is None else asyncio.get_running_loop().time() + budget
        """A hostile input can name a thousand questions and a slow index drip each answer:
        past this, in all, the index is taken as down (the cache may still answer)."""
        self._tasks: dict[tuple[str, ...], asyncio.Task[Answer]] = {}
        self._down: IndexUnavailable | None = None
        """Set once the index could not be reached: later questions do not wait for it."""

    async def release(self, project: str, version: str) -> Answer:
        async def call(index: Index) -> ReleaseLookup:
            return ReleaseLookup(release=await index.release(project, version))

        return await self._ask(("release", project, version), call)

    async def project_files(self, project: str) -> Answer:
        """Every release's files, as one lookup whose version is ANY_VERSION."""

        async def call(index: Index) -> ReleaseLookup:
            return _every_version(project, await index.project_files(project))

        return await self._ask(("project", project), call)

    async def _ask(
        self, key: tuple[str, ...], call: Callable[[Index], Coroutine[Any, Any, ReleaseLookup]]
    ) -> Answer:
        import asyncio

        task = self._tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(self._answer(call))
            self._tasks[key] = task
        return await task

    async def _answer(self, call: Callable[[Index], Coroutine[Any, Any, ReleaseLookup]]) -> Answer:
        import asyncio

        try:
            if self._down is not None:
                raise self._down
            if self._deadline is None:
                return Answer(await call(self._index))
            left = self._deadline - asyncio.get_running_loop().time()
            try:
                if left <= 0:
                    raise asyncio.TimeoutError
                return Answer(await asyncio.wait_for(call(self._index), left))
            except asyncio.TimeoutError:
                raise IndexUnavailable(
                    f"the index did not answer the questions of this log within "
                    f"{self._budget:g} s in all"
                ) from None
        except OfflineMiss as error:
            return Answer(lookup_of(error), str(error))
        except IndexUnavailable as error:
            self._down = error
            if self._fallback is None:
                return Answer(lookup_of(error), str(error))
            try:
                return Answer(await call(self._fallback), from_cache=True)
            except IndexQueryError:
                return Answer(lookup_of(error), str(error))
        except IndexQueryError as error:
            return Answer(lookup_of(error), str(error))
        except Exception as error:  # an answer the index layer did not expect: fail closed
            said = f"the index answered badly ({type(error).__name__})"
            return Answer(ReleaseLookup(error=said), said)
