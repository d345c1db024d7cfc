"""The checker: requirement entries + release data + targets → findings. No I/O here.

It is the loop that calls each registered rule function (`rules.implements`) with the
context of its scope: the file set, each requirement, each pinned requirement's release,
each target. A requirement whose release could not be asked is a result too
(`Unverified`), and so is one whose answer came from only some of the indexes consulted,
when what they publish does not settle the verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from reqhash_check import rulebook
from reqhash_check.check.context import (
    NEWEST_PIP,
    OLDEST_PIP,
    EntryContext,
    SetContext,
    TargetContext,
    marker_knowable,
)
from reqhash_check.findings import Finding, Severity, Unverified
from reqhash_check.index.base import ReleaseLookup, published_hashes
from reqhash_check.requirements import ParseProblem, RequirementSet
from reqhash_check.requirements.model import entry_hashes
from reqhash_check.settings import CheckOptions

__all__ = [
    "NEWEST_PIP",
    "OLDEST_PIP",
    "CheckOptions",
    "CheckResult",
    "ReleaseLookup",
    "check",
    "checks",
    "entry_hashes",
    "published_hashes",
]

# Findings that depend on which files the index publishes: with an index missing from the
# answer, they may be wrong either way.
_FILE_DEPENDENT = frozenset(
    {"stale-hash", "foreign-hash", "uncovered-target", "no-installable-file", "fallback-target"}
)


def checks(scope: str) -> list[tuple[str, Callable[..., Iterable[Any]]]]:
    """(rule ID, function) for every detection of a scope, every rule module imported first.

    The one place the engines (this one, the lock file's, the download check) load the rule
    modules, which register themselves when imported; a rule module imports the contexts of
    this package, so it is loaded when first asked for, not at the top."""
    import reqhash_check.rules  # noqa: F401

    return rulebook.checks(scope)


@dataclass(frozen=True)
class CheckResult:
    """What checking one file set found."""

    findings: tuple[Finding, ...]
    unverified: tuple[Unverified, ...]


def check(
    req_set: RequirementSet,
    problems: Sequence[ParseProblem],
    lookups: Mapping[tuple[str, str], ReleaseLookup],
    options: CheckOptions,
) -> CheckResult:
    # Every rule module registers its detections when imported. Imported here rather than
    # at the top because the rule modules import this package's contexts (`check.context`),
    # and importing a submodule runs this file first.
    import reqhash_check.rules  # noqa: F401

    ctx = SetContext(req_set, problems, lookups, options)
    findings: list[Finding] = []
    unverified: list[Unverified] = []
    for _rule, function in checks("set"):
        findings.extend(function(ctx))
    # Each scope's detections, listed once for the whole set rather than per entry.
    entry_checks, scoped = checks("entry"), (checks("release"), checks("target"))
    for entry in req_set.entries:
        entry_ctx = EntryContext(ctx, entry)
        for _rule, function in entry_checks:
            findings.extend(function(entry_ctx))
        if entry_ctx.lookup is None or (entry.is_constraint and not ctx.used_on(entry)):
            continue  # a constraint is checked where pip uses it, as a requirement is
        found = _release_findings(entry_ctx, *scoped)
        if (
            not entry.is_constraint
            and options.targets
            and not ctx.used_on(entry)
            and marker_knowable(entry.marker, options.targets)
        ):
            found = [_ignored_everywhere(f, entry.marker) for f in found]
        lookup = entry_ctx.lookup
        release = lookup.release
        if lookup.error is not None:
            unverified.append(Unverified(entry.location, entry.name, entry.pin, lookup.error))
        elif release is not None and entry_ctx.unconfirmable and not entry_ctx.known:
            # Only sha384/sha512 hashes: whether the file pip picks matches one cannot be told
            # from the index's sha256 digests. Not an error, and not an OK either.
            algorithms = sorted({h.split(":")[0] for h in entry_ctx.unconfirmable})
            reason = (
                f"its hashes are {'/'.join(algorithms)} only and the index states sha256: the "
                "file pip picks would have to be downloaded to compare"
            )
            unverified.append(Unverified(entry.location, entry.name, entry.pin, reason))
        elif release is not None and release.unreachable and _unsettled(found):
            reason = (
                f"{'; '.join(release.unreachable)}; what {release.index_url} publishes "
                "does not settle it"
            )
            unverified.append(Unverified(entry.location, entry.name, entry.pin, reason))
            found = [f for f in found if f.rule not in _FILE_DEPENDENT]
        findings.extend(found)
    ordered = sorted(dict.fromkeys(findings), key=lambda f: f.sort_key)
    return CheckResult(tuple(ordered), tuple(unverified))


_Checks = list[tuple[str, Callable[..., Iterable[Any]]]]


def _release_findings(
    ctx: EntryContext, release_checks: _Checks, target_checks: _Checks
) -> list[Finding]:
    found: list[Finding] = []
    if ctx.entry.pin:  # the release rules are about one version; unpinned: the targets only
        for _rule, function in release_checks:
            found.extend(function(ctx))
    if ctx.release is None:
        return found
    for target in ctx.set.used_on(ctx.entry):
        target_ctx = TargetContext(ctx, target)
        for _rule, function in target_checks:
            found.extend(function(target_ctx))
    return found


def _ignored_everywhere(finding: Finding, marker: str | None) -> Finding:
    """pip skips a requirement whose marker holds on none of the targets ("Ignoring X:
    markers … don't match your environment") before it looks at the index or the hashes:
    what is wrong with its release breaks no install checked, so it is a warning."""
    if finding.severity is not Severity.ERROR:
        return finding
    return replace(
        finding,
        severity=Severity.WARNING,
        message=f"pip ignores this line on every target checked (its marker {marker!r} "
        f"holds on none of them); were it used: {finding.message}",
    )


def _unsettled(found: Sequence[Finding]) -> bool:
    return any(f.rule in _FILE_DEPENDENT for f in found)
