"""What `explain` says about one failure: its cause, its fix, and what it was worked out from."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from reqhash_check.requirements import RequirementEntry

UNPUBLISHED_BYTES = "unpublished-bytes"
STALE_PIN = "stale-pin"
MISTYPED_HASH = "mistyped-hash"
INCOMPLETE_HASHES = "incomplete-hashes"
FOREIGN_HASHES = "foreign-hashes"
UNDETERMINED = "undetermined"
MISMATCH_CAUSES = (UNPUBLISHED_BYTES, MISTYPED_HASH, STALE_PIN, INCOMPLETE_HASHES, FOREIGN_HASHES)

CAUSE_SUMMARIES = {
    UNPUBLISHED_BYTES: "pip received bytes the index does not publish for the file it named: "
    "a corrupted download, a proxy or mirror serving other bytes, or tampering",
    MISTYPED_HASH: "a listed hash is a few characters from the published hash of the file pip "
    "received: the requirements were edited by hand or damaged",
    STALE_PIN: "the listed hashes belong to another version: the pin was changed without "
    "regenerating the hashes",
    INCOMPLETE_HASHES: "the listed hashes are other files of the same version: the list was "
    "made on another platform",
    FOREIGN_HASHES: "the listed hashes match nothing the index publishes for the project: "
    "they came from another index or a private build",
    UNDETERMINED: "the cause could not be told from the log and the index",
}

_KEEP = (
    "deleting the hashes or dropping --require-hashes: that turns off the check instead of "
    "answering it"
)
DEAD_ENDS: dict[str, tuple[str, ...]] = {
    UNPUBLISHED_BYTES: (
        "deleting the hashes or dropping --require-hashes: pip would install bytes that match "
        "nothing the index publishes",
        "regenerating the hashes from the downloaded file: that bakes the bad file into the "
        "requirements",
        "purging pip's cache: the same source hands out the same bytes again; fix the source first",
    ),
    MISTYPED_HASH: (
        _KEEP,
        "regenerating every hash: only the mistyped one is wrong, and the lines below give it "
        "from the index",
        "purging pip's cache: the file pip downloaded is the published one; its listed hash "
        "was mistyped",
    ),
    STALE_PIN: (
        _KEEP,
        "purging pip's cache: a published file's hash never changes; the listed hashes are "
        "another version's",
    ),
    INCOMPLETE_HASHES: (
        _KEEP,
        "purging pip's cache: the file pip downloaded is the published one; its hash is just "
        "not listed",
    ),
    FOREIGN_HASHES: (
        _KEEP,
        "purging pip's cache: the file pip downloaded is the published one; the listed hashes "
        "come from elsewhere",
    ),
    "missing-hash": (
        "dropping --require-hashes or deleting the other hashes: that turns the check off for "
        "every requirement",
        "purging pip's cache: nothing is wrong with the downloaded file",
    ),
    "missing-dependency": (
        "dropping --require-hashes or --no-deps: the dependency would be installed unchecked",
        "purging pip's cache: nothing is wrong with the downloaded file",
    ),
    "unpinned": (
        "deleting the hashes or dropping --require-hashes: pip would install any version, "
        "unchecked",
    ),
    "unhashable": (
        "dropping --require-hashes for the whole file: every requirement goes unchecked",
    ),
}


@dataclass(frozen=True)
class Fix:
    """What to do: a summary, the exact lines to write, and commands."""

    summary: str
    action: str = "none"
    """`replace` the requirement's lines, `add` new lines, `remove` the requirement, `none`."""
    lines: tuple[str, ...] = ()
    command: str | None = None
    """A reqhash-check command that makes the change (`--fix`)."""
    check: str | None = None
    """A command that checks the result before pip runs again."""
    place: str | None = None
    """Where the lines go, when that is not the requirement's own lines (a lock file)."""


@dataclass(frozen=True)
class Current:
    """The requirement as `--requirements FILE` holds it now."""

    path: str
    line: int
    end_line: int
    pin: str | None
    hashes: tuple[str, ...]
    expanded: bool = False
    """The line expands ${VAR}: what derives from the value (its pin, its hashes) is left
    out, neither shown nor compared."""


@dataclass(frozen=True)
class Diagnosis:
    cause: str
    requirement: str
    """As pip printed it."""
    project: str | None
    version: str | None
    expected: tuple[str, ...]
    got: str | None
    file: str | None
    url: str | None
    requirements_file: str | None
    line: int | None
    fix: Fix
    kb: str | None
    message: str
    log: str = ""
    log_line: int = 0
    dead_ends: tuple[str, ...] = ()
    host: str | None = None
    target: str | None = None
    notes: tuple[str, ...] = ()
    index: str | None = None
    current: Current | None = None
    index_failed: bool = False
    """The index could not be asked (or, offline, the cache had no answer)."""
    installer: str = "pip"
    """What printed the failure: `pip`, `uv`, or `pipenv`."""

    @property
    def diagnosed(self) -> bool:
        return self.cause != UNDETERMINED

    @property
    def security(self) -> bool:
        return self.cause == UNPUBLISHED_BYTES


@dataclass(frozen=True)
class Context:
    index: str
    """The index (or indexes) asked, for messages; credentials redacted."""
    index_urls: tuple[str, ...] = ()
    pip_indexes: tuple[str, ...] = ()
    """The indexes the log says pip looked in."""
    requirements: Mapping[str, Sequence[RequirementEntry]] | None = None
    """`--requirements FILE`: its entries by PEP 503 name ("" for folders and URLs)."""
    requirements_path: str | None = None
    fallback_python: tuple[int, int] | None = None
