"""`--verify-downloads`: the bytes each target would download, hashed as they stream in.

The check believes the index's listing. A mirror or caching proxy that lists PyPI's
digests but serves other bytes (a corrupted download, a man in the middle: two of the
knowledge base's three causes) passes it, and pip fails at deploy time. This stage takes,
for each pin and target, the file pip would download (the check's own choice: format
control, yanked files, hashes), fetches each distinct URL once, and compares the digest of
what was served with the index's listed digest for that file.

Nothing fetched is written anywhere or cached: a cached "verified" mark would be one more
thing a restored cache could forge.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from reqhash_check.check import checks
from reqhash_check.check.downloads import DownloadContext
from reqhash_check.findings import Finding, Location, Unverified
from reqhash_check.index.base import DistFile, IndexUnavailable, ReleaseLookup
from reqhash_check.index.http import FileTooLarge, HttpClient, HttpSettings
from reqhash_check.lockfile.select import Selection
from reqhash_check.requirements.model import RequirementEntry
from reqhash_check.targets import BinaryPolicy, Target, pick_file
from reqhash_check.urls import url_host

MIB = 1024 * 1024
DEFAULT_MAX_DOWNLOAD_BYTES = 512 * MIB
"""The largest file fetched by default. Most wheels are far smaller; the largest on PyPI
(CUDA builds) pass 2 GiB: `--max-download-size` raises it."""
DOWNLOAD_TIMEOUT = 300.0
"""A whole file, however large, within this (or --timeout, when that is longer)."""
DOWNLOADS_AT_ONCE = 4
"""Files fetched at once: enough to fill a link, few enough not to hammer a mirror."""


@dataclass
class Download:
    """One file some target would download, and every pin and target that would."""

    file: DistFile
    project: str
    version: str
    index: str
    algorithms: set[str] = field(default_factory=set)
    where: dict[Location, set[str]] = field(default_factory=dict)
    """Requirement location → the targets on which it downloads this file."""


def plan_downloads(
    entries: Sequence[RequirementEntry],
    lookups: Mapping[tuple[str, str], ReleaseLookup],
    targets: Sequence[Target],
    policy: BinaryPolicy,
    plan: dict[str, Download],
) -> None:
    """Add to `plan` (URL → Download) the file pip picks for each hashed pin on each
    target: one file per pin per target at most."""
    for entry in entries:
        if entry.is_constraint or entry.pin is None or not entry.hashes:
            continue
        lookup = lookups.get((entry.name, entry.pin))
        release = lookup.release if lookup is not None else None
        if release is None:
            continue
        allowed = [h.text for h in entry.hashes]
        for target in targets:
            pick = pick_file(target, release.files, allowed, entry.name, policy)
            chosen = pick.chosen
            if chosen is None or not chosen.url or chosen.sha256 is None:
                continue
            download = plan.setdefault(
                chosen.url,
                Download(chosen, entry.name, entry.pin, release.index_url or ""),
            )
            download.algorithms.update(
                h.algorithm for h in entry.hashes if h.algorithm in _ALGORITHMS
            )
            download.where.setdefault(entry.location, set()).add(target.name)


def plan_lock_downloads(
    selections: Sequence[Selection],
    lookups: Mapping[int, ReleaseLookup],
    plan: dict[str, Download],
) -> None:
    """Add the archive pip downloads from a lock on each target: the URL the lock records,
    judged against the digest the index lists for the file of that name."""
    for selection in selections:
        for choice in selection.chosen:
            package, locked = choice.package, choice.file
            lookup = lookups.get(package.position)
            release = lookup.release if lookup is not None else None
            if locked is None or not locked.url or release is None:
                continue
            listed = next((f for f in release.files if f.filename == locked.filename), None)
            if listed is None or listed.sha256 is None:
                continue  # the check reports a file the index does not publish
            download = plan.setdefault(
                locked.url,
                Download(
                    replace(listed, url=locked.url),
                    package.name,
                    package.version or "",
                    release.index_url or "",
                ),
            )
            download.algorithms.update(a for a in locked.hashes if a in _ALGORITHMS)
            download.where.setdefault(locked.location, set()).add(selection.target.name)


_ALGORITHMS = frozenset(hashlib.algorithms_guaranteed - {"shake_128", "shake_256"})
"""What a digest is computed with besides sha256: a name a file wrote (`--hash=nope:…`, a
lock's `shake_128`) is hashed with only when hashlib has it with a fixed length."""


@dataclass(frozen=True)
class Outcome:
    url: str
    served_from: str = ""
    digests: Mapping[str, str] = field(default_factory=dict)
    too_large: int | None = None
    error: str | None = None
    encoding: str = ""


async def fetch_all(
    plan: Mapping[str, Download],
    *,
    timeout: float,
    max_bytes: int,
    credentials_from: Sequence[str] = (),
    netrc_only_for: Sequence[str] | None = None,
    on_bytes: Callable[[int, int], None] | None = None,
) -> list[Outcome]:
    """Every planned file, hashed as it streams in; at most DOWNLOADS_AT_ONCE at once.
    `netrc_only_for`: URLs whose hosts alone get netrc credentials (None: any host)."""
    netrc_hosts = None
    if netrc_only_for is not None:
        netrc_hosts = frozenset(h for h in (url_host(u) for u in netrc_only_for) if h)
    http = HttpClient(
        HttpSettings(
            timeout=timeout,
            concurrency=DOWNLOADS_AT_ONCE,
            max_bytes=max_bytes,
            netrc_hosts=netrc_hosts,
        )
    )
    for url in credentials_from:
        http.register(url)
    expected = sum(d.file.size or 0 for d in plan.values())
    received = 0

    def count(size: int) -> None:
        nonlocal received
        received += size
        if on_bytes is not None:
            on_bytes(received, max(expected, received))

    async def one(url: str, download: Download) -> Outcome:
        try:
            got = await http.digests(
                url, tuple(sorted(download.algorithms)), max_bytes, on_bytes=count
            )
        except FileTooLarge as exc:
            return Outcome(url, too_large=exc.size)
        except IndexUnavailable as exc:
            return Outcome(url, error=str(exc))
        return Outcome(url, got.served_from, got.digests, encoding=got.encoding)

    try:
        return list(await asyncio.gather(*(one(u, d) for u, d in plan.items())))
    finally:
        await http.aclose()


def judge(
    plan: Mapping[str, Download], outcomes: Sequence[Outcome], max_bytes: int
) -> tuple[list[Finding], list[Unverified]]:
    """The `download` detections (`unpublished-bytes`: the served bytes are not the listed
    file) for each file and each pin that downloads it; a file that could not be fetched
    leaves its pins unverified (never "OK" for what was not checked)."""
    findings: list[Finding] = []
    unverified: list[Unverified] = []
    for outcome in outcomes:
        download = plan[outcome.url]
        listed = download.file.sha256 or ""
        for location, targets in sorted(download.where.items(), key=lambda i: i[0].line):
            if outcome.error is not None or outcome.too_large is not None:
                reason = (
                    f"--verify-downloads: {download.file.filename} is larger than "
                    f"{max_bytes // MIB} MiB (--max-download-size); not fetched"
                    if outcome.too_large is not None
                    else f"--verify-downloads: {download.file.filename} could not be fetched: "
                    f"{outcome.error}"
                )
                unverified.append(Unverified(location, download.project, download.version, reason))
                continue
            ctx = DownloadContext(
                filename=download.file.filename,
                project=download.project,
                version=download.version,
                index=download.index,
                listed_sha256=listed,
                served_from=outcome.served_from,
                served_sha256=outcome.digests.get("sha256", ""),
                encoding=outcome.encoding,
                location=location,
                targets=frozenset(targets),
            )
            for _rule, function in checks("download"):
                findings.extend(function(ctx))
    return findings, unverified


__all__ = [
    "DEFAULT_MAX_DOWNLOAD_BYTES",
    "DOWNLOAD_TIMEOUT",
    "Download",
    "Outcome",
    "fetch_all",
    "judge",
    "plan_downloads",
    "plan_lock_downloads",
]
