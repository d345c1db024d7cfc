"""Which index to ask about each locked package, and asking it, through the one look-up
service (`reqhash_check.index.plan`, `reqhash_check.index.lookup`).

pip never asks an index about a locked package: it downloads the locked URL. The index is
asked here only to learn what the file at that URL should be. The index is, in order:
the package's own `index` key, else the index the file URLs belong to (files on
files.pythonhosted.org are PyPI's), else the index the run is configured with.

An index URL taken from the lock is untrusted: it is asked with a client of its own that
sends no credentials except those written in that very URL (no netrc, none of the
configured indexes' credentials). Only when it names one of the configured indexes is the
configured client used.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterable

from reqhash_check.index.base import ReleaseLookup
from reqhash_check.index.cache import ReleaseCache
from reqhash_check.index.lookup import ask_releases, attach_histories, open_plan
from reqhash_check.index.plan import IndexPlan, plan_lock_package
from reqhash_check.lockfile.read import LockedPackage
from reqhash_check.settings import Settings

__all__ = [
    "LockLookups",
    "lookup_packages",
    "package_plan",
    "valid_name",
    "valid_version",
]

_NAME = re.compile(r"^[a-z0-9](?:[a-z0-9._-]{0,198}[a-z0-9])?$")
_VERSION = re.compile(r"^[A-Za-z0-9.!+_-]{1,128}$")

LockLookups = dict[tuple[tuple[object, ...], str, str], ReleaseLookup]
"""(the plan's key, project, version) → what its index said."""


def valid_name(name: str) -> bool:
    """A normalised project name, safe to put in an index URL."""
    return bool(_NAME.match(name))


def valid_version(version: str | None) -> bool:
    return version is not None and bool(_VERSION.match(version))


def package_plan(package: LockedPackage, configured: IndexPlan) -> IndexPlan:
    """The index a locked package is asked of (see `plan_lock_package`)."""
    return plan_lock_package(configured, package.index, (f.url or "" for f in package.files))


async def lookup_packages(
    packages: Iterable[tuple[LockedPackage, IndexPlan]],
    settings: Settings,
    cache: ReleaseCache | None,
    progress: Callable[[int, int], None] | None = None,
) -> LockLookups:
    """Ask each index about its packages' pinned versions, then, for packages whose hashes
    the release does not publish, about every release (where a stale hash comes from)."""
    plans: dict[tuple[object, ...], IndexPlan] = {}
    wanted: dict[tuple[object, ...], set[tuple[str, str]]] = {}
    hashes_of: dict[tuple[tuple[object, ...], str, str], set[str]] = {}
    for package, plan in packages:
        if not valid_name(package.name) or not valid_version(package.version):
            continue
        assert package.version is not None
        plans.setdefault(plan.key, plan)
        wanted.setdefault(plan.key, set()).add((package.name, package.version))
        listed = hashes_of.setdefault((plan.key, package.name, package.version), set())
        listed.update(
            digest.lower()
            for file in package.files
            for algorithm, digest in file.hashes.items()
            if algorithm.lower() == "sha256"
        )
    total = sum(len(pairs) for pairs in wanted.values())
    done = 0
    # Every index is asked at once: they share the run's --concurrency and dead hosts.
    gate = asyncio.Semaphore(max(1, settings.concurrency))
    dead_hosts: dict[str, str] = {}

    def tick() -> None:
        nonlocal done
        done += 1
        if progress:
            progress(done, total)

    async def ask(key: tuple[object, ...], pairs: set[tuple[str, str]]) -> LockLookups:
        index = open_plan(settings, plans[key], cache, dead_hosts, gate=gate)
        try:
            answers = await ask_releases(index, sorted(pairs), tick)
            found: LockLookups = {(key, name, version): a for (name, version), a in answers.items()}
            await attach_histories(
                index,
                found,
                (
                    name
                    for (k, name, version), lookup in found.items()
                    if lookup.release is not None
                    and hashes_of.get((k, name, version), set())
                    - {f.sha256 for f in lookup.release.files if f.sha256}
                ),
                project_of=lambda key: key[1],
            )
            return found
        finally:
            await index.aclose()

    results = await asyncio.gather(*(ask(k, pairs) for k, pairs in wanted.items()))
    lookups: LockLookups = {}
    for result in results:
        lookups.update(result)
    return lookups
