"""From one parsed failure and what the index says about it to one named cause, with its fix.

Pure: no I/O. A hash mismatch gets one of the causes in `mismatch` (`unpublished-bytes`,
`mistyped-hash`, `stale-pin`, `incomplete-hashes`, `foreign-hashes`, checked in that order);
pip's other hash-checking failures map to the rules of `reqhash_check.rules`
(`other_failures`). When the log and the index cannot settle it, the cause is `undetermined`,
with the reason.
"""

from __future__ import annotations

from reqhash_check.explain.logparse import Failure, FailureKind
from reqhash_check.explain.lookup import Facts
from reqhash_check.explain.mismatch import diagnose_mismatch
from reqhash_check.explain.model import (
    CAUSE_SUMMARIES,
    FOREIGN_HASHES,
    INCOMPLETE_HASHES,
    MISMATCH_CAUSES,
    MISTYPED_HASH,
    STALE_PIN,
    UNDETERMINED,
    UNPUBLISHED_BYTES,
    Context,
    Current,
    Diagnosis,
    Fix,
)
from reqhash_check.explain.other_failures import (
    diagnose_missing,
    diagnose_not_found,
    diagnose_unhashable,
    diagnose_unpinned,
)

__all__ = [
    "CAUSE_SUMMARIES",
    "FOREIGN_HASHES",
    "INCOMPLETE_HASHES",
    "MISMATCH_CAUSES",
    "MISTYPED_HASH",
    "STALE_PIN",
    "UNDETERMINED",
    "UNPUBLISHED_BYTES",
    "Context",
    "Current",
    "Diagnosis",
    "Fix",
    "diagnose",
]


def diagnose(failure: Failure, facts: Facts, ctx: Context) -> Diagnosis:
    """One cause for one failure, with its fix."""
    if failure.kind is FailureKind.MISMATCH:
        return diagnose_mismatch(failure, facts, ctx)
    if failure.kind is FailureKind.MISSING:
        return diagnose_missing(failure, facts, ctx)
    if failure.kind is FailureKind.UNPINNED:
        return diagnose_unpinned(failure, facts, ctx)
    if failure.kind in (FailureKind.VCS, FailureKind.DIRECTORY):
        return diagnose_unhashable(failure, ctx)
    return diagnose_not_found(failure, facts, ctx)
