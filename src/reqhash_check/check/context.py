"""What a rule function is called with: the file set, one requirement, one target.

The contexts compute shared facts once (the hashes listed and published, which file pip
picks on a target) so each rule function stays a few lines.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from functools import cached_property

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from reqhash_check.findings import Finding, Fix, HashSet, Location, Severity
from reqhash_check.index.base import (
    ANY_VERSION,
    DistFile,
    ReleaseFiles,
    ReleaseLookup,
    published_hashes,
)
from reqhash_check.requirements import (
    Kind,
    ParseProblem,
    RequirementEntry,
    RequirementSet,
)
from reqhash_check.requirements.model import entry_hashes
from reqhash_check.rulebook import RULES
from reqhash_check.settings import CheckOptions
from reqhash_check.targets import UNKNOWN_ON_NAMED, BinaryPolicy, Pick, Target, pick_file

PIP_ACCEPTS_UNPINNED_HASHED = (26, 1)
"""pip 26.1 began to accept a hashed requirement that is not pinned with ==."""
PIP_TAKES_CONSTRAINT_HASHES = (26, 1)
"""pip 26.1 began to give a dependency the hashes of its constraint: a hashed constraint
then pins the dependency to the version they match (older pips only filter the files with
them, and still refuse the unpinned dependency). pypa/pip#13887, "Allow unpinned
requirements to use hashes from constraints", which closed pypa/pip#9243."""
PIP_REFUSES_INVALID_METADATA = (24, 1)
"""pip 24.1 began to ignore releases whose metadata its packaging cannot parse."""
OLDEST_PIP = (23, 0)
NEWEST_PIP = (26, 3)


@functools.lru_cache(maxsize=16384)
def parsed_requirement(text: str) -> Requirement | None:
    """A Requires-Dist entry parsed once per run (several rules read each release's), or None
    when packaging, and so pip 24.1 and later, cannot parse it."""
    try:
        return Requirement(text)
    except InvalidRequirement:
        return None


@functools.lru_cache(maxsize=16384)
def dependency_name_and_marker(text: str) -> tuple[str, str | None] | None:
    """A Requires-Dist entry's normalised name and marker text, worked out once per run
    (rendering a marker and normalising a name, per entry and target, were most of a warm
    run's checking time on a 184-pin file)."""
    requirement = parsed_requirement(text)
    if requirement is None:
        return None
    marker = str(requirement.marker) if requirement.marker else None
    return canonicalize_name(requirement.name), marker


def sha256_hashes(files: Iterable[DistFile]) -> tuple[str, ...]:
    return tuple(sorted({f"sha256:{f.sha256.lower()}" for f in files if f.sha256}))


@functools.lru_cache(maxsize=4096)
def _marker(text: str) -> Marker | None:
    try:
        return Marker(text)
    except InvalidMarker:
        return None


def marker_applies(marker: str | None, target: Target, extra: str = "") -> bool:
    if not marker:
        return True
    known = target.marker_results.get((marker, extra))
    if known is None:
        parsed = _marker(marker)
        try:
            known = parsed is None or parsed.evaluate({**target.marker_environment, "extra": extra})
        except (UndefinedComparison, UndefinedEnvironmentName):
            # `python_version ~= "3"`: pip cannot evaluate it either and fails on the line;
            # it is never a line pip skips.
            known = True
        target.marker_results[(marker, extra)] = known
    return known


def marker_knowable(marker: str | None, targets: Iterable[Target]) -> bool:
    """Whether the marker's result on these targets is known: one that reads a value a
    named target leaves empty (`platform_release >= "5"`) may hold on the real machine."""
    if not marker:
        return True
    return not any(
        name in marker and target.marker_environment.get(name) == ""
        for target in targets
        for name in UNKNOWN_ON_NAMED
    )


def plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many


MAX_SHOWN_NAME = 100


def shown_name(name: str) -> str:
    """A project name as messages show it: a hostile 70,000-character name is cut short."""
    return name if len(name) <= MAX_SHOWN_NAME else name[: MAX_SHOWN_NAME - 1] + "…"


class SetContext:
    """One top-level file with its includes, and everything the rules need about it."""

    def __init__(
        self,
        req_set: RequirementSet,
        problems: Sequence[ParseProblem],
        lookups: Mapping[tuple[str, str], ReleaseLookup],
        options: CheckOptions,
    ) -> None:
        self.req_set = req_set
        self.problems = problems
        self.lookups = lookups
        self.options = options
        self._pins_on: dict[str, dict[str, RequirementEntry]] = {}

    @cached_property
    def hash_mode(self) -> bool:
        """pip turns hash-checking on when any requirement has a --hash or a file (or the
        command line) says --require-hashes; a URL's #sha256= fragment does not, and a
        file's --no-require-hashes (pip 26.2+) stops a --hash from turning it on."""
        if self.options.require_hashes or any(
            o.name == "require_hashes" and o.value for o in self.req_set.options
        ):
            return True
        if any(o.name == "no_require_hashes" for o in self.req_set.options):
            return False
        return any(e.hashes for e in self.req_set.entries)

    @cached_property
    def policy(self) -> BinaryPolicy:
        """Format control as pip builds it: the command line first, then each file's option
        lines in the order pip reads them."""
        from_files = [
            (o.name, str(o.value))
            for o in self.req_set.options
            if o.name in ("only_binary", "no_binary")
        ]
        prefer = self.options.prefer_binary or any(
            o.name == "prefer_binary" and o.value for o in self.req_set.options
        )
        return BinaryPolicy.from_ordered([*self.options.binary_options, *from_files], prefer)

    @cached_property
    def requirements(self) -> tuple[RequirementEntry, ...]:
        """The entries pip installs (constraints excluded)."""
        return tuple(e for e in self.req_set.entries if not e.is_constraint)

    @cached_property
    def pinned_names(self) -> frozenset[str]:
        return frozenset(e.name for e in self.req_set.entries if e.name and not e.is_constraint)

    @cached_property
    def constraints(self) -> tuple[RequirementEntry, ...]:
        """The named constraints (`-c` files): pip uses one only for a project something
        needs, and only where its marker applies."""
        return tuple(
            e for e in self.req_set.entries if e.is_constraint and e.kind is Kind.NAMED and e.name
        )

    def constraints_on(self, name: str, target: Target) -> list[RequirementEntry]:
        return [c for c in self.constraints if c.name == name and marker_applies(c.marker, target)]

    def _requirements_on(self, target: Target) -> dict[str, RequirementEntry]:
        found: dict[str, RequirementEntry] = {}
        for entry in self.requirements:
            if entry.name and marker_applies(entry.marker, target):
                found.setdefault(entry.name, entry)
        return found

    def pins_on(self, target: Target) -> dict[str, RequirementEntry]:
        """Project → the entry that decides its version on this target: the requirement
        naming it, else the constraint pip applies to it because something installed there
        needs it (directly or through other pins, markers and extras as pip reads them)."""
        known = self._pins_on.get(target.name)
        if known is None:
            known = self._pins_on[target.name] = self._find_pins(target)
        return known

    def _find_pins(self, target: Target) -> dict[str, RequirementEntry]:
        chosen = self._requirements_on(target)
        if not self.constraints:
            return chosen  # a dependency is only ever pinned here by a constraint
        constrained = frozenset(c.name for c in self.constraints)
        queue = list(chosen.values())
        while queue:
            entry = queue.pop()
            for name in self._dependencies_on(entry, target, constrained):
                if name in chosen:
                    continue
                used = self.constraints_on(name, target)
                if used:
                    chosen[name] = used[0]
                    queue.append(used[0])
        return chosen

    def _dependencies_on(
        self, entry: RequirementEntry, target: Target, among: frozenset[str]
    ) -> set[str]:
        """The entry's dependencies on the target, of the projects `among` (whose markers
        alone are evaluated: the others' would not change what is pinned)."""
        lookup = self.lookup(entry)
        release = lookup.release if lookup is not None else None
        if release is None or release.requires_dist is None or not entry.pin:
            return set()
        names: set[str] = set()
        for text in release.requires_dist:
            parts = dependency_name_and_marker(text)
            if (
                parts is not None
                and parts[0] in among
                and any(marker_applies(parts[1], target, e) for e in ("", *entry.extras))
            ):
                names.add(parts[0])
        return names

    def used_on(self, entry: RequirementEntry) -> tuple[Target, ...]:
        """The targets where pip installs with this entry: a requirement where its marker
        applies, a constraint where it decides a needed project's version."""
        if not entry.is_constraint:
            return tuple(t for t in self.options.targets if marker_applies(entry.marker, t))
        return tuple(t for t in self.options.targets if self._constrains_on(entry, t))

    def _constrains_on(self, entry: RequirementEntry, target: Target) -> bool:
        """pip applies every constraint line on a project it takes from constraints (their
        specifiers and, from pip 26.1, their hashes intersect), not only the first."""
        decided = self.pins_on(target).get(entry.name)
        if decided is entry:
            return True
        return (
            decided is not None
            and decided.is_constraint
            and entry.pin is not None
            and entry in self.constraints_on(entry.name, target)
        )

    def decides_on(self, entry: RequirementEntry) -> bool:
        """Whether this entry is the one whose release pip installs somewhere: a requirement
        on a target, or the first constraint on a needed project."""
        return any(self.pins_on(t).get(entry.name) is entry for t in self.options.targets)

    def constraint_hashes_left(self, name: str, target: Target) -> set[str] | None:
        """The hashes pip 26.1 and later give a dependency from its constraints on this
        target: per algorithm, those every hashed constraint lists (None: none is hashed).
        pip intersects the constraints' hash options (`Constraint.__and__`)."""
        left: dict[str, set[str]] | None = None
        for constraint in self.constraints_on(name, target):
            if not constraint.hashes:
                continue
            options: dict[str, set[str]] = {}
            for spec in constraint.hashes:
                options.setdefault(spec.algorithm, set()).add(spec.digest)
            if left is None:
                left = options
            else:
                left = {alg: left[alg] & options[alg] for alg in left.keys() & options.keys()}
        if left is None:
            return None
        return {f"{alg}:{digest}" for alg, digests in left.items() for digest in digests}

    def hashed_constraint(self, name: str, target: Target) -> RequirementEntry | None:
        """The constraint whose hashes pip 26.1 and later give a dependency on this target."""
        used = self.pins_on(target).get(name)
        if used is not None and used.is_constraint and used.hashes:
            return used
        return None

    def lookup(self, entry: RequirementEntry) -> ReleaseLookup | None:
        if entry.kind is not Kind.NAMED:
            return None
        if entry.pin:
            return self.lookups.get((entry.name, entry.pin))
        if entry.hashes and self.pip_fails(PIP_ACCEPTS_UNPINNED_HASHED):
            # pip 26.1+ installs whichever version a listed hash matches: every release
            # the specifier allows is a candidate.
            return self.lookups.get((entry.name, ANY_VERSION))
        return None

    def pip_fails(self, since: tuple[int, int]) -> bool | None:
        """Whether the modelled pip has the behaviour pip gained in `since`; None when no
        pip is modelled (then the strictest reading applies)."""
        version = self.options.pip_version
        return None if version is None else version >= since

    def finding(
        self,
        rule_id: str,
        location: Location,
        message: str,
        *,
        entry: RequirementEntry | None = None,
        suppressed: frozenset[str] = frozenset(),
        severity: Severity | None = None,
        hashes: HashSet | None = None,
        target: str | None = None,
        fix: Fix | None = None,
        detail: tuple[str, ...] = (),
    ) -> Finding:
        rule = RULES[rule_id]
        return Finding(
            rule=rule_id,
            severity=severity or rule.severity,
            location=location,
            project=shown_name(entry.raw_name or entry.name) or None if entry else None,
            version=entry.pin if entry else None,
            message=message,
            kb=rule.kb,
            hashes=hashes,
            target=target,
            fix=fix,
            suppressed=rule_id in suppressed,
            detail=detail,
        )


class EntryContext:
    """One requirement of a set, with its release data when it is pinned."""

    def __init__(self, owner: SetContext, entry: RequirementEntry) -> None:
        self.set = owner
        self.entry = entry

    @property
    def options(self) -> CheckOptions:
        return self.set.options

    @property
    def project(self) -> str:
        return shown_name(self.entry.raw_name or self.entry.name)

    @cached_property
    def lookup(self) -> ReleaseLookup | None:
        return self.set.lookup(self.entry)

    @cached_property
    def release(self) -> ReleaseFiles | None:
        release = self.lookup.release if self.lookup is not None else None
        if release is None or self.entry.pin:
            return release
        try:
            allowed = SpecifierSet(self.entry.specifier)
        except InvalidSpecifier:
            return release
        files = tuple(f for f in release.files if allowed.contains(f.version, prereleases=None))
        return replace(release, files=files)

    @cached_property
    def listed(self) -> tuple[str, ...]:
        return entry_hashes(self.entry)

    @cached_property
    def published(self) -> set[str]:
        return published_hashes(self.release.files) if self.release else set()

    @cached_property
    def expected(self) -> tuple[str, ...]:
        """The sha256 hashes the index publishes for the pinned version."""
        return sha256_hashes(self.release.files) if self.release else ()

    @cached_property
    def hash_set(self) -> HashSet:
        return HashSet(listed=self.listed, expected=self.expected)

    @cached_property
    def known(self) -> list[str]:
        return [h for h in self.listed if h in self.published]

    @cached_property
    def unknown(self) -> list[str]:
        """Listed sha256 hashes that match no published file."""
        return [h for h in self.listed if h not in self.published and h.startswith("sha256:")]

    @cached_property
    def unhashed(self) -> tuple[DistFile, ...]:
        """The pinned version's files the index lists without a sha256 (an md5-only JSON
        page, an HTML link without `#sha256=`): a listed hash may be theirs, so a hash that
        matches nothing published is unknown, not wrong."""
        return tuple(f for f in self.release.files if not f.sha256) if self.release else ()

    @cached_property
    def unconfirmable(self) -> list[str]:
        """Listed hashes in an algorithm the index does not publish (sha384/sha512)."""
        return [h for h in self.listed if h not in self.published and not h.startswith("sha256:")]

    def finding(self, rule_id: str, message: str, **extra: object) -> Finding:
        return self.set.finding(
            rule_id,
            self.entry.location,
            message,
            entry=self.entry,
            suppressed=self.entry.suppressed,
            **extra,  # type: ignore[arg-type]
        )


class TargetContext:
    """One pinned requirement on one target: which file pip would install there."""

    def __init__(self, entry: EntryContext, target: Target) -> None:
        self.entry = entry
        self.target = target

    @cached_property
    def pick(self) -> Pick:
        release = self.entry.release
        assert release is not None
        return pick_file(
            self.target,
            release.files,
            set(self.entry.listed),
            self.entry.entry.name,
            self.entry.set.policy,
            pinned=self.entry.entry.pin is not None,
        )

    def finding(self, rule_id: str, message: str, **extra: object) -> Finding:
        return self.entry.finding(rule_id, message, target=self.target.name, **extra)
