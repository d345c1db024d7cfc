"""Ask the index about every pinned requirement, concurrently, and hand the checker data."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
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
)
from reqhash_check.requirements import Kind, RequirementEntry

Lookups = dict[tuple[str, str], ReleaseLookup]
_K = TypeVar("_K")


async def lookup_releases(
    index: Index,
    entries: Sequence[RequirementEntry],
    *,
    is_offline_miss: Callable[[IndexQueryError], bool] = lambda exc: False,
    progress: Callable[[int, int], None] | None = None,
) -> Lookups:
    """Fetch each pinned (project, version) once; then, for hashes the release does not
    publish, the project's whole history so the report can say where they come from."""
    pairs = sorted({(e.name, e.pin) for e in entries if e.kind is Kind.NAMED and e.pin})
    done = 0

    async def one(project: str, version: str) -> tuple[tuple[str, str], ReleaseLookup]:
        nonlocal done
        try:
            lookup = ReleaseLookup(release=await index.release(project, version))
        except ProjectNotFound:
            lookup = ReleaseLookup(missing="project")
        except VersionNotFound:
            lookup = ReleaseLookup(missing="version")
        except IndexQueryError as exc:
            lookup = ReleaseLookup(error=str(exc), offline=is_offline_miss(exc))
        done += 1
        if progress:
            progress(done, len(pairs))
        return (project, version), lookup

    lookups: Lookups = dict(await asyncio.gather(*(one(p, v) for p, v in pairs)))
    unpinned = sorted(
        {e.name for e in entries if e.kind is Kind.NAMED and e.name and not e.pin and e.hashes}
    )
    found = await asyncio.gather(
        *(_every_version(index, name, is_offline_miss) for name in unpinned)
    )
    lookups.update(
        {(name, ANY_VERSION): lookup for name, lookup in zip(unpinned, found, strict=True)}
    )

    await attach_histories(
        index,
        lookups,
        (
            e.name
            for e in entries
            if e.pin
            and (lookup := lookups.get((e.name, e.pin))) is not None
            and lookup.release is not None
            and _has_unknown_sha256(e, lookup)
        ),
        project_of=lambda key: key[0],
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
    names = sorted(set(projects))
    histories = await asyncio.gather(*(_history(index, name) for name in names))
    by_project = dict(zip(names, histories, strict=True))
    for key, lookup in lookups.items():
        history = by_project.get(project_of(key))
        if history:
            lookups[key] = replace(lookup, history=history)


def _has_unknown_sha256(entry: RequirementEntry, lookup: ReleaseLookup) -> bool:
    assert lookup.release is not None
    published = published_hashes(lookup.release.files)
    return any(h.startswith("sha256:") and h not in published for h in entry_hashes(entry))


async def _every_version(
    index: Index, project: str, is_offline_miss: Callable[[IndexQueryError], bool]
) -> ReleaseLookup:
    try:
        files = await index.project_files(project)
    except ProjectNotFound:
        return ReleaseLookup(missing="project")
    except IndexQueryError as exc:
        return ReleaseLookup(error=str(exc), offline=is_offline_miss(exc))
    return ReleaseLookup(release=ReleaseFiles(project, ANY_VERSION, tuple(files)))


async def _history(index: Index, project: str) -> dict[str, DistFile]:
    """sha256 → file over every release; empty when the index cannot say (diagnosis only)."""
    try:
        files = await index.project_files(project)
    except IndexQueryError:
        return {}
    return {f.sha256.lower(): f for f in files if f.sha256}
