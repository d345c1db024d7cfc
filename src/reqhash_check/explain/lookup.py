"""Ask the index what `explain` needs for each failure, each question once.

Only the index the command line (or PIP_INDEX_URL) names is asked; nothing in the log decides
where a request goes. When the index cannot be reached, the cache answers if it can.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar

from reqhash_check.explain.logparse import Failure, FailureKind
from reqhash_check.index.base import (
    DistFile,
    Index,
    IndexQueryError,
    IndexUnavailable,
    OfflineMiss,
    ProjectNotFound,
    ReleaseFiles,
    VersionNotFound,
)

_T = TypeVar("_T")


@dataclass(frozen=True)
class Problem:
    """Why the index gave no answer: `project`, `version` (it has none), `unavailable`,
    `offline` (not in the cache)."""

    kind: str
    message: str

    @property
    def index_failed(self) -> bool:
        return self.kind in ("unavailable", "offline")


@dataclass(frozen=True)
class Facts:
    """What the index said about one failure."""

    release: ReleaseFiles | None = None
    release_problem: Problem | None = None
    project_files: tuple[DistFile, ...] | None = None
    project_problem: Problem | None = None
    from_cache: bool = False
    """The index could not be reached and the cache answered instead."""

    @property
    def asked(self) -> bool:
        return (
            self.release is not None
            or self.project_files is not None
            or self.release_problem is not None
            or self.project_problem is not None
        )

    @property
    def index_failed(self) -> bool:
        problems = [p for p in (self.release_problem, self.project_problem) if p is not None]
        return any(p.index_failed for p in problems)


def _problem(error: IndexQueryError) -> Problem:
    if isinstance(error, OfflineMiss):
        return Problem("offline", str(error))
    if isinstance(error, IndexUnavailable):
        return Problem("unavailable", str(error))
    if isinstance(error, VersionNotFound):
        return Problem("version", str(error))
    if isinstance(error, ProjectNotFound):
        return Problem("project", str(error))
    return Problem("unavailable", str(error))


class Lookup:
    """Index answers shared by every failure of a run; `fallback` is a cache-only index."""

    def __init__(
        self, index: Index, fallback: Index | None = None, budget: float | None = None
    ) -> None:
        self._index = index
        self._fallback = fallback
        self._budget = budget
        self._deadline = None if budget is None else asyncio.get_running_loop().time() + budget
        """A hostile log can name a thousand failures and a slow index drip each answer:
        past this, in all, the index is taken as down (the cache may still answer)."""
        self._tasks: dict[tuple[str, ...], asyncio.Task[tuple[object, bool]]] = {}
        self._down: IndexUnavailable | None = None
        """Set once the index could not be reached: later questions do not wait for it again."""

    async def _ask(
        self, key: tuple[str, ...], call: Callable[[Index], Awaitable[_T]]
    ) -> tuple[_T | Problem, bool]:
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(self._answer(call))
            self._tasks[key] = task
        answer, from_cache = await task
        return answer, from_cache  # type: ignore[return-value]

    async def _answer(self, call: Callable[[Index], Awaitable[_T]]) -> tuple[object, bool]:
        try:
            if self._down is not None:
                raise self._down
            if self._deadline is None:
                return await call(self._index), False
            left = self._deadline - asyncio.get_running_loop().time()
            try:
                if left <= 0:
                    raise asyncio.TimeoutError
                return await asyncio.wait_for(call(self._index), left), False
            except asyncio.TimeoutError:
                raise IndexUnavailable(
                    f"the index did not answer the questions of this log within "
                    f"{self._budget:g} s in all"
                ) from None
        except OfflineMiss as error:
            return _problem(error), False
        except IndexUnavailable as error:
            self._down = error
            if self._fallback is None:
                return _problem(error), False
            try:
                return await call(self._fallback), True
            except IndexQueryError:
                return _problem(error), False
        except IndexQueryError as error:
            return _problem(error), False
        except Exception as error:  # an answer the index layer did not expect: fail closed
            return Problem(
                "unavailable", f"the index answered badly ({type(error).__name__})"
            ), False

    async def release(self, project: str, version: str) -> tuple[ReleaseFiles | Problem, bool]:
        return await self._ask(
            ("release", project, version), lambda index: index.release(project, version)
        )

    async def project_files(self, project: str) -> tuple[tuple[DistFile, ...] | Problem, bool]:
        return await self._ask(("project", project), lambda index: index.project_files(project))

    async def facts(self, failure: Failure) -> Facts:
        project, version = failure.project, failure.version
        if project is None or failure.kind in (FailureKind.VCS, FailureKind.DIRECTORY):
            return Facts()
        release: ReleaseFiles | None = None
        release_problem: Problem | None = None
        from_cache = False
        if version is not None:
            answer, cached = await self.release(project, version)
            from_cache |= cached
            if isinstance(answer, Problem):
                release_problem = answer
            else:
                release = answer
        files: tuple[DistFile, ...] | None = None
        files_problem: Problem | None = None
        if _needs_project_files(failure, release, release_problem):
            answer_files, cached = await self.project_files(project)
            from_cache |= cached
            if isinstance(answer_files, Problem):
                files_problem = answer_files
            else:
                files = answer_files
        return Facts(release, release_problem, files, files_problem, from_cache)


def _digests(files: Iterable[DistFile]) -> set[tuple[str, str]]:
    return {(algorithm, digest) for f in files for algorithm, digest in f.hashes.items()}


def _needs_project_files(
    failure: Failure, release: ReleaseFiles | None, problem: Problem | None
) -> bool:
    """Whether the release alone cannot settle it: a hash it does not hold, or no release."""
    if problem is not None:
        return not problem.index_failed and problem.kind != "project"
    if release is None:
        return failure.kind in (FailureKind.MISSING, FailureKind.NOT_FOUND)
    if failure.kind not in (FailureKind.MISMATCH, FailureKind.MISSING):
        return False
    known = _digests(release.files)
    wanted = {tuple(h.split(":", 1)) for h in (*failure.expected, *failure.got_hashes)}
    return not wanted <= known


async def gather_facts(lookup: Lookup, failures: Iterable[Failure]) -> list[Facts]:
    """Facts for each failure, in order; the questions run concurrently."""
    return list(await asyncio.gather(*(lookup.facts(f) for f in failures)))
