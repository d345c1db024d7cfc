"""missing-dependency: in hash-checking mode pip needs every dependency pinned and hashed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from reqhash_check.check.context import SetContext, marker_applies
from reqhash_check.check.entries import HASHES_REQUIRED
from reqhash_check.findings import Finding, PinDependency, Severity
from reqhash_check.requirements import RequirementEntry
from reqhash_check.rules import implements

_EXTRA_CLAUSE = r"extra == \"[^\"]*\""


def without_extras(marker: Marker | None) -> str | None:
    """The marker with its `extra == "…"` clauses removed (they say why the requirer wants the
    dependency, not where it installs); None when nothing else is left, or when the extras
    are tangled into an `or` that cannot be taken apart safely."""
    if marker is None:
        return None
    text = str(marker)
    text = re.sub(rf"\s+and\s+{_EXTRA_CLAUSE}", "", text)
    text = re.sub(rf"{_EXTRA_CLAUSE}\s+and\s+", "", text)
    text = re.sub(rf"^\(?{_EXTRA_CLAUSE}\)?$", "", text.strip())
    if not text or "extra" in text:
        return None
    return text


def combine_markers(*markers: str | None) -> str | None:
    parts = [m for m in markers if m]
    if len(parts) <= 1:
        return parts[0] if parts else None
    return " and ".join(f"({m})" if " or " in m else m for m in parts)


@dataclass
class _Need:
    requirement: Requirement
    targets: list[str] = field(default_factory=list)


def _needs(ctx: SetContext, entry: RequirementEntry, requires: tuple[str, ...]) -> dict[str, _Need]:
    parsed = []
    for text in requires:
        try:
            parsed.append(Requirement(text))
        except InvalidRequirement:
            continue  # invalid-metadata reports it
    extras = ("", *entry.extras)
    needs: dict[str, _Need] = {}
    for target in ctx.options.targets:
        if not marker_applies(entry.marker, target):
            continue
        for requirement in parsed:
            name = canonicalize_name(requirement.name)
            if name in ctx.pinned_names or name == entry.name:
                continue
            marker = requirement.marker
            try:
                wanted = marker is None or any(
                    marker.evaluate({**target.marker_environment, "extra": e}) for e in extras
                )
            except InvalidMarker:
                wanted = True
            if wanted:
                needs.setdefault(name, _Need(requirement)).targets.append(target.name)
    return needs


@implements("missing-dependency", "set")
def missing_dependency(ctx: SetContext) -> Iterator[Finding]:
    if not ctx.hash_mode:
        return
    for entry in ctx.requirements:
        lookup = ctx.lookup(entry)
        release = lookup.release if lookup is not None else None
        if release is None or release.requires_dist is None:
            continue
        exact = release.requires_dist_exact
        for dependency, need in sorted(_needs(ctx, entry, release.requires_dist).items()):
            requirement = need.requirement
            specifier = str(requirement.specifier)
            where = ", ".join(need.targets)
            fix = None
            if exact:
                fix = PinDependency(
                    project=dependency,
                    specifiers=((specifier, f"{entry.raw_name} {entry.pin}"),) if specifier else (),
                    marker=combine_markers(entry.marker, without_extras(requirement.marker)),
                    requirer=entry.raw_name,
                    path=entry.location.path,
                )
            message = (
                f"{entry.raw_name} {entry.pin} depends on {dependency}"
                + (f" ({specifier})" if specifier else "")
                + f", which no file in this set pins (on {where}); pip fails with "
                f"{HASHES_REQUIRED}. Pin {dependency} with its hashes"
            )
            if not exact:
                message += (
                    ". The index publishes no metadata file for this release, so this comes "
                    "from its JSON summary, which the wheel pip installs may contradict"
                )
            yield ctx.finding(
                "missing-dependency",
                entry.location,
                message,
                entry=entry,
                suppressed=entry.suppressed,
                target=need.targets[0] if len(need.targets) == 1 else None,
                severity=None if exact else Severity.WARNING,
                fix=fix,
            )
