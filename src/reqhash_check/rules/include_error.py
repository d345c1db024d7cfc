"""`include-error`: its documentation and its detections for requirements files (and so
Pipfile.lock).
"""

from __future__ import annotations

from collections.abc import Iterator

from reqhash_check.check.context import SetContext
from reqhash_check.check.shared import set_problems
from reqhash_check.findings import Finding
from reqhash_check.rulebook import E, Rule, define, implements

RULE = define(
    Rule(
        "include-error",
        E,
        "An -r/-c include that is missing, unreadable, outside the repository, not a "
        "requirements file, or part of a cycle.",
        "fails with 'Could not open requirements file' (or reads what it should not).",
        "A renamed file, a path relative to the wrong folder, or a file that points "
        "outside the checked-out tree.",
        "Point the include at a requirements file in the repository.",
        "-r requirements/base.txt  # no such file",
    )
)


@implements("include-error", "set")
def include_error(ctx: SetContext) -> Iterator[Finding]:
    return set_problems(ctx, "include-error")
