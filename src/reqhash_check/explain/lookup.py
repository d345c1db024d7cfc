"""What `explain` needs from the index for each failure, as a projection of the one look-up
service's answers (`reqhash_check.index.lookup`): each question is asked once, within the
run's budget, and the cache answers when the index cannot be reached.

Only the index the command line, the environment or pip's configuration names is asked
(`reqhash_check.index.plan.configured_plan`); nothing in the log decides where a request
goes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass

from reqhash_check.explain.logparse import Failure, FailureKind
from reqhash_check.index.base import DistFile, ReleaseFiles
from reqhash_check.index.lookup import Answer, Asker


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


def _projected(answer: Answer) -> tuple[ReleaseFiles | None, Problem | None]:
    """A look-up's answer as `explain` reads it: the release, or why there is none."""
    lookup = answer.lookup
    if lookup.release is not None:
        return lookup.release, None
    if lookup.missing is not None:
        return None, Problem(lookup.missing, answer.said)
    kind = "offline" if lookup.offline else "unavailable"
    return None, Problem(kind, answer.said or lookup.error or "the index gave no answer")


async def facts(asker: Asker, failure: Failure) -> Facts:
    """What the index says about one failure: its release, and every release's files when the
    release alone cannot settle it."""
    project, version = failure.project, failure.version
    if project is None or failure.kind in (FailureKind.VCS, FailureKind.DIRECTORY):
        return Facts()
    release: ReleaseFiles | None = None
    release_problem: Problem | None = None
    from_cache = False
    if version is not None:
        answer = await asker.release(project, version)
        from_cache |= answer.from_cache
        release, release_problem = _projected(answer)
    files: tuple[DistFile, ...] | None = None
    files_problem: Problem | None = None
    if _needs_project_files(failure, release, release_problem):
        answer = await asker.project_files(project)
        from_cache |= answer.from_cache
        every, files_problem = _projected(answer)
        files = every.files if every is not None else None
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


async def gather_facts(asker: Asker, failures: Iterable[Failure]) -> list[Facts]:
    """Facts for each failure, in order; the questions run concurrently."""
    return list(await asyncio.gather(*(facts(asker, f) for f in failures)))
