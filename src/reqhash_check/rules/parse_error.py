"""`parse-error`: its documentation and its detections for requirements files (and so
Pipfile.lock) and for pylock.toml.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from reqhash_check.check.context import SetContext
from reqhash_check.check.shared import set_problems
from reqhash_check.findings import Finding
from reqhash_check.rulebook import E, Rule, define, implements

if TYPE_CHECKING:
    # A lock file's context: imported by the lock-file checker, never by a run that reads
    # requirements files only.
    from reqhash_check.lockfile.context import LockContext

RULE = define(
    Rule(
        "parse-error",
        E,
        "A line pip cannot parse.",
        "fails before installing anything ('Invalid requirement', 'no such option', …).",
        "A typo, an option the pip you install with does not know (they change between "
        "pip versions), or a line continuation that joins two lines.",
        "Correct the line (see pip's requirements file format).",
        "requests=2.32.3",
        in_lock_files=(
            "The lock is not valid TOML or not a valid PEP 751 lock (pip's own validation "
            "errors), reported at the line."
        ),
    )
)


@implements("parse-error", "set")
def parse_error(ctx: SetContext) -> Iterator[Finding]:
    return set_problems(ctx, "parse-error")


@implements("parse-error", "set")
def require_hashes_both_ways(ctx: SetContext) -> Iterator[Finding]:
    """--require-hashes on the command line and --no-require-hashes in a file: pip 26.2 and
    later refuse the install (the reader sees only the file, so the check says it)."""
    if not ctx.options.require_hashes:
        return
    for option in ctx.req_set.options:
        if option.name == "no_require_hashes" and option.location is not None:
            yield ctx.finding(
                "parse-error",
                option.location,
                "--no-require-hashes here and --require-hashes on the command line: pip 26.2 "
                "and later refuse the install",
            )


@implements("parse-error", "lock-file")
def parse_error_in_lock(ctx: LockContext) -> Iterator[Finding]:
    from reqhash_check.lockfile.context import lock_problems

    return lock_problems(ctx, "parse-error")
