"""What several requirement-file rules share: pip's words, how a requirement is named in a
message, hash-checking mode, where the index is, and specifier and marker helpers (the
lock-file detections and `resolve` use some too)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping

from packaging.markers import Marker
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from reqhash_check.check.context import EntryContext, SetContext, TargetContext, plural
from reqhash_check.findings import Finding
from reqhash_check.index.base import DistFile
from reqhash_check.requirements import Kind

HASHES_REQUIRED = (
    "'Hashes are required in --require-hashes mode, but they are missing from some requirements'"
)


PINNED_REQUIRED = (
    "'In --require-hashes mode, all requirements must have their versions pinned with ==. "
    "These do not: …'"
)


MISMATCH = "'THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE'"


RESOLUTION_IMPOSSIBLE = (
    "'Cannot install … because these package versions have conflicting dependencies' and "
    "'ResolutionImpossible'"
)


UNHASHABLE = {
    Kind.EDITABLE: "an editable requirement has no single file to hash",
    Kind.VCS: "a VCS checkout has no single file to hash",
    Kind.LOCAL_DIR: "a local folder has no single file to hash",
}


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


LOCATION_OPTIONS = ("index_url", "extra_index_url", "find_links")


def what(ctx: EntryContext) -> str:
    entry = ctx.entry
    return entry.raw_name or entry.url or entry.raw.strip()


def in_hash_mode(ctx: EntryContext) -> bool:
    return ctx.set.hash_mode and not ctx.entry.is_constraint


def index_shown(ctx: EntryContext) -> str:
    return ctx.options.indexes_shown or "the index"


def origins(ctx: EntryContext) -> str:
    """Where the unknown hashes come from, as far as the index can tell."""
    history: Mapping[str, DistFile] = ctx.lookup.history if ctx.lookup else {}
    from_other: dict[str, list[str]] = defaultdict(list)
    orphans = 0
    for text in ctx.unknown:
        source = history.get(text.split(":", 1)[1])
        if source is None:
            orphans += 1
        else:
            from_other[source.version].append(source.filename)
    parts = []
    for version, filenames in sorted(from_other.items()):
        shown = ", ".join(sorted(filenames)[:3]) + (", …" if len(filenames) > 3 else "")
        parts.append(
            f"{len(filenames)} {plural(len(filenames), 'hash belongs', 'hashes belong')} to "
            f"{ctx.project} {version} ({shown})"
        )
    if from_other:
        parts[-1] += ": the version was changed without regenerating its hashes"
    if orphans:
        parts.append(
            f"{orphans} {plural(orphans, 'hash matches', 'hashes match')} no file published "
            f"for {ctx.project} on {index_shown(ctx)}: it may come "
            "from a private build or another index (check with --index-url or --find-links "
            "pointing there), or from a corrupted or tampered download; regenerate only once "
            "you know which"
        )
    return "; ".join(parts) + "." if parts else ""


def hashes_tell(ctx: TargetContext) -> bool:
    """Whether the hashes can tell anything on this target: some are listed, in an algorithm
    the index publishes for the file pip picks."""
    return bool(ctx.entry.listed) and bool(ctx.pick.candidates) and not ctx.pick.unknown_hash


def shown_value(option: object) -> str:
    written = getattr(option, "written", None)
    return str(written if written is not None else getattr(option, "value", ""))


def is_loopback(host: str) -> bool:
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def allows(specifier: str, version: str) -> bool:
    """Whether pip's resolver takes `version` for `specifier` (a pin counts even when it is
    a pre-release); True when either cannot be read (other rules say so)."""
    try:
        return SpecifierSet(specifier).contains(Version(version), prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return True


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


def set_problems(ctx: SetContext, rule_id: str) -> Iterator[Finding]:
    for problem in ctx.problems:
        if problem.rule == rule_id:
            yield ctx.finding(
                rule_id, problem.location, problem.message, suppressed=problem.suppressed
            )
