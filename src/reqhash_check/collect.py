"""Ask the index about every pinned requirement and hand the checker data.

One set of questions, two ways to ask them: `lookup_releases` asks an Index, concurrently;
`stored_lookups` asks the cache alone, synchronously, and gives up at the first question it
cannot settle. A warm run is answered by the second and so never starts an event loop
(asyncio is imported where it is used for that reason).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import TypeVar

from reqhash_check.check.context import (
    ANY_VERSION,
    ReleaseLookup,
    entry_hashes,
    published_hashes,
)
from reqhash_check.index.base import (
    DistFile,
    Index,
    IndexQueryError,
    ProjectNotFound,
    ReleaseFiles,
    VersionNotFound,
    first_problem,
    merge_files,
    merge_releases,
)
from reqhash_check.index.stored import CacheOnlyIndex, NotStored
from reqhash_check.requirements import Kind, RequirementEntry

Lookups = dict[tuple[str, str], ReleaseLookup]
_K = TypeVar("_K")
OfflineTest = Callable[[IndexQueryError], bool]


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


def _failed(exc: IndexQueryError, is_offline_miss: OfflineTest) -> ReleaseLookup:
    if isinstance(exc, ProjectNotFound):
        return ReleaseLookup(missing="project")
    if isinstance(exc, VersionNotFound):
        return ReleaseLookup(missing="version")
    return ReleaseLookup(error=str(exc), offline=is_offline_miss(exc))


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
    is_offline_miss: OfflineTest = lambda exc: False,
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
            lookup = _failed(exc, is_offline_miss)
        done += 1
        if progress:
            progress(done, len(pairs))
        return (project, version), lookup

    async def every_version(project: str) -> ReleaseLookup:
        try:
            return _every_version(project, await index.project_files(project))
        except IndexQueryError as exc:
            return _failed(exc, is_offline_miss)

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
            return _failed(first_problem(errors), lambda exc: False)
        return ReleaseLookup(release=merge_releases(found, ()))

    def project_files(project: str) -> tuple[DistFile, ...] | IndexQueryError:
        found, errors = ask(lambda index: index.project_files(project))
        return merge_files(found) if found else first_problem(errors)

    try:
        lookups: Lookups = {(p, v): release(p, v) for p, v in _pins(entries)}
        for name in _unpinned(entries):
            files = project_files(name)
            lookups[(name, ANY_VERSION)] = (
                _failed(files, lambda exc: False)
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
