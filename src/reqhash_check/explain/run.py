"""One `explain` run: read the logs, ask the index, diagnose each failure, pick the exit code."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reqhash_check.explain.diagnose import Context, Diagnosis, diagnose
from reqhash_check.explain.logparse import (
    Failure,
    LogTooLarge,
    ParsedLog,
    UnparsedLine,
    clean,
    decode_log,
    parse_log,
)
from reqhash_check.explain.lookup import Facts, gather_facts
from reqhash_check.index.base import Index
from reqhash_check.index.lookup import Asker, open_cache, open_plan
from reqhash_check.index.plan import IndexPlan, configured_plan
from reqhash_check.requirements import RequirementEntry
from reqhash_check.scrub import credential_replacements, scrub
from reqhash_check.settings import Settings
from reqhash_check.urls import redact_url

EXIT_OK, EXIT_SECURITY, EXIT_UNREADABLE, EXIT_INDEX = 0, 1, 2, 3


@dataclass(frozen=True)
class LogInput:
    """One log as read: its bytes, or why it could not be read."""

    name: str
    data: bytes | None = None
    error: str | None = None


@dataclass(frozen=True)
class Explanation:
    diagnoses: tuple[Diagnosis, ...]
    unparsed: tuple[UnparsedLine, ...] = ()
    logs: tuple[str, ...] = ()
    unreadable: tuple[str, ...] = ()
    """One message per log that could not be read."""
    without_failures: tuple[str, ...] = ()
    """Logs in which no pip hash-checking failure was found."""
    index: str = ""
    truncated: tuple[str, ...] = ()
    """Logs with more failures than are diagnosed in one run."""

    @property
    def exit_code(self) -> int:
        """1 for a possible security event first (it must never hide behind another code),
        then 2 for an unreadable or pip-free input, 3 for what the index could not settle."""
        if any(d.security for d in self.diagnoses):
            return EXIT_SECURITY
        if self.unreadable or not self.diagnoses:
            return EXIT_UNREADABLE
        if any(not d.diagnosed or d.index_failed for d in self.diagnoses):
            return EXIT_INDEX
        return EXIT_OK


def index_urls(plan: IndexPlan) -> tuple[str, ...]:
    """The indexes asked, as pip would merge them, credentials redacted: only those the
    command line, the environment or pip's configuration name (never the log); with
    --no-index, the find-links locations."""
    sources = plan.find_links if plan.no_index else plan.urls
    return tuple(dict.fromkeys(redact_url(url) for url in sources))


def explain(
    inputs: Sequence[LogInput],
    settings: Settings,
    *,
    requirements: Mapping[str, Sequence[RequirementEntry]] | None = None,
    requirements_path: str | None = None,
    fallback_python: tuple[int, int] | None = None,
) -> Explanation:
    """Explain the logs with the run's one configuration; `requirements` (and its path) is
    the file as it is now, cross-checked against the failures."""
    parsed: list[ParsedLog] = []
    unreadable: list[str] = []
    for item in inputs:
        if item.data is None:
            unreadable.append(f"{clean(item.name)}: {clean(item.error or 'cannot be read')}")
            continue
        try:
            text = decode_log(item.data)
        except LogTooLarge as error:
            unreadable.append(f"{clean(item.name)}: {error}")
            continue
        parsed.append(parse_log(text, item.name))
    failures = [f for log in parsed for f in log.failures]
    plan = configured_plan(settings)
    facts = asyncio.run(_ask_index(settings, plan, failures)) if failures else []
    diagnoses: list[Diagnosis] = []
    position = 0
    asked = index_urls(plan)
    for log in parsed:
        context = Context(
            index=" + ".join(asked),
            index_urls=asked,
            pip_indexes=log.indexes,
            requirements=requirements,
            requirements_path=requirements_path,
            fallback_python=fallback_python or (sys.version_info[0], sys.version_info[1]),
        )
        for failure in log.failures:
            diagnoses.append(diagnose(failure, facts[position], context))
            position += 1
    explanation = Explanation(
        diagnoses=tuple(diagnoses),
        unparsed=tuple(line for log in parsed for line in log.unparsed),
        logs=tuple(log.name for log in parsed),
        unreadable=tuple(unreadable),
        without_failures=tuple(log.name for log in parsed if not log.failures),
        index=" + ".join(asked),
        truncated=tuple(log.name for log in parsed if log.truncated),
    )
    # The check's backstop: an index can quote back the password it was sent (in a redirect
    # it names, in an answer), so those of the configured indexes are replaced wherever
    # they appear.
    return scrub(explanation, credential_replacements(settings.configured_indexes().trusted))


def _needs_index(failures: Sequence[Failure]) -> bool:
    return any(f.project is not None for f in failures)


LOOKUP_BUDGET = 60.0
"""The least time the index is given, in all, for the questions of one explanation."""


async def _ask_index(
    settings: Settings, plan: IndexPlan, failures: Sequence[Failure]
) -> list[Facts]:
    """Each failure's facts from the configured indexes only, through the one look-up
    service; when they cannot be reached, the cache answers if it can."""
    if not _needs_index(failures):
        return [Facts() for _ in failures]
    cache = open_cache(settings)
    indexes: list[Index] = []
    try:
        indexes.append(open_plan(settings, plan, cache))
        if cache is not None and not settings.offline:
            indexes.append(open_plan(settings, plan, cache, offline=True))
        # However many failures a log names, the look-ups end within a few request times.
        budget = max(LOOKUP_BUDGET, 4 * settings.timeout)
        asker = Asker(indexes[0], indexes[1] if len(indexes) > 1 else None, budget)
        return await gather_facts(asker, failures)
    finally:
        for index in indexes:
            await index.aclose()
        if cache is not None:
            cache.close()
