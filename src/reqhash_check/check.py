"""The checker: requirement entries + release data + targets → findings. No I/O here."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from reqhash_check.findings import Finding, HashSet, Location, Severity, Unverified
from reqhash_check.index.base import DistFile, ReleaseFiles
from reqhash_check.index.http import redact_url
from reqhash_check.requirements import (
    FileOption,
    Kind,
    ParseProblem,
    RequirementEntry,
    RequirementSet,
)
from reqhash_check.rules import RULES
from reqhash_check.targets import BinaryPolicy, Target, pick_file

# pip's hash-checking mode accepts these and nothing else (pip's STRONG_HASHES).
HASH_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_HEX_RE = re.compile(r"^[0-9a-fA-F]+$")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
# pip 26.1 began to accept a hashed requirement that is not pinned with ==.
PIP_ACCEPTS_UNPINNED_HASHED = (26, 1)
# The oldest pip still in common use; modelling it means no finding is missed.
STRICTEST_PIP = (23, 0)


@dataclass(frozen=True)
class ReleaseLookup:
    """What the index said about one (project, version): files, "no such thing", or nothing."""

    release: ReleaseFiles | None = None
    missing: str | None = None
    """"project" or "version" when the index has no such project or version."""
    error: str | None = None
    """Why the index could not be asked; the requirement is unverified."""
    offline: bool = False
    """The error is an --offline cache miss rather than a failing index."""
    history: Mapping[str, DistFile] = field(default_factory=dict)
    """sha256 → file, over every release of the project: where a stale hash comes from."""


@dataclass(frozen=True)
class CheckOptions:
    require_hashes: bool = False
    pip_version: tuple[int, int] = STRICTEST_PIP
    targets: tuple[Target, ...] = ()
    only_binary: tuple[str, ...] = ()
    no_binary: tuple[str, ...] = ()
    prefer_binary: bool = False


@dataclass(frozen=True)
class CheckResult:
    findings: tuple[Finding, ...]
    unverified: tuple[Unverified, ...]


def hash_mode(req_set: RequirementSet, options: CheckOptions) -> bool:
    """pip turns hash-checking on for the whole install when any requirement has a hash."""
    return (
        options.require_hashes
        or any(o.name == "require_hashes" and o.value for o in req_set.options)
        or any(entry_hashes(e) for e in req_set.entries)
    )


def entry_hashes(entry: RequirementEntry) -> tuple[str, ...]:
    """The entry's hashes as `algo:hex`, with a URL's `#sha256=` fragment, as pip counts them."""
    # pip lowercases digests before comparing, but takes algorithm names as written.
    listed = [f"{h.algorithm}:{h.digest.lower()}" for h in entry.hashes]
    if entry.url and "#" in entry.url:
        for part in entry.url.split("#", 1)[1].split("&"):
            algorithm, _, digest = part.partition("=")
            if algorithm in HASH_LENGTHS and digest:
                listed.append(f"{algorithm}:{digest.lower()}")
    return tuple(dict.fromkeys(listed))


def needed_releases(req_set: RequirementSet) -> list[tuple[str, str]]:
    """The (project, version) pairs the index must be asked about."""
    return sorted({(e.name, e.pin) for e in req_set.entries if e.kind is Kind.NAMED and e.pin})


def check(
    req_set: RequirementSet,
    problems: Sequence[ParseProblem],
    lookups: Mapping[tuple[str, str], ReleaseLookup],
    options: CheckOptions,
) -> CheckResult:
    checker = _Checker(req_set, options)
    for problem in problems:
        checker.emit_at(problem.location, problem.rule, problem.message, problem.suppressed)
    checker.check_options(req_set.options)
    checker.check_entries(lookups)
    checker.check_dependencies(lookups)
    findings = sorted(checker.findings, key=lambda f: f.sort_key)
    return CheckResult(tuple(findings), tuple(checker.unverified))


class _Checker:
    def __init__(self, req_set: RequirementSet, options: CheckOptions) -> None:
        self.req_set = req_set
        self.options = options
        self.hash_mode = hash_mode(req_set, options)
        self.findings: list[Finding] = []
        self.unverified: list[Unverified] = []
        self.policy = BinaryPolicy.from_options(
            [*_option_values(req_set.options, "only_binary"), *options.only_binary],
            [*_option_values(req_set.options, "no_binary"), *options.no_binary],
            options.prefer_binary or any(o.name == "prefer_binary" for o in req_set.options),
        )

    # -- emitting ---------------------------------------------------------------------------

    def emit_at(
        self,
        location: Location,
        rule_id: str,
        message: str,
        suppressed: frozenset[str] = frozenset(),
        *,
        entry: RequirementEntry | None = None,
        severity: Severity | None = None,
        hashes: HashSet | None = None,
        target: str | None = None,
        fix: str | None = None,
    ) -> None:
        if rule_id in suppressed:
            return
        rule = RULES[rule_id]
        self.findings.append(
            Finding(
                rule=rule_id,
                severity=severity or rule.severity,
                location=location,
                project=(entry.raw_name or entry.name or None) if entry else None,
                version=entry.pin if entry else None,
                message=message,
                kb=rule.kb,
                hashes=hashes,
                target=target,
                fix=fix,
            )
        )

    def emit(self, entry: RequirementEntry, rule_id: str, message: str, **extra: object) -> None:
        self.emit_at(entry.location, rule_id, message, entry.suppressed, entry=entry, **extra)  # type: ignore[arg-type]

    # -- rules that need no index -----------------------------------------------------------

    def check_options(self, file_options: Iterable[FileOption]) -> None:
        for option in file_options:
            if option.location is None:
                continue
            if option.name in ("index_url", "extra_index_url", "find_links"):
                url = str(option.value)
                if url.lower().startswith("http://") and not _is_loopback_url(url):
                    self.emit_at(
                        option.location,
                        "insecure-index",
                        f"{redact_url(url)} is plain http: anyone on the network path can swap "
                        "the files, which --hash then catches only as a mismatch; use https",
                    )
            elif option.name == "trusted_host":
                self.emit_at(
                    option.location,
                    "insecure-index",
                    f"--trusted-host {option.value} turns off TLS verification for that host; "
                    "files from it can be swapped in transit",
                )

    def check_entries(self, lookups: Mapping[tuple[str, str], ReleaseLookup]) -> None:
        pinned_by_name: dict[tuple[str, str | None], RequirementEntry] = {}
        constrained = {e.name for e in self.req_set.entries if e.is_constraint and e.hashes}
        for entry in self.req_set.entries:
            self.check_hash_syntax(entry)
            if entry.is_constraint:
                continue
            if self.hash_mode:
                self.check_hash_mode(entry, covered_by_constraint=entry.name in constrained)
            if entry.kind is Kind.NAMED and entry.pin:
                key = (entry.name, entry.marker)
                first = pinned_by_name.setdefault(key, entry)
                if first is not entry and first.pin != entry.pin:
                    self.emit(
                        entry,
                        "duplicate",
                        f"{entry.raw_name} is pinned to {entry.pin} here and to {first.pin} at "
                        f"{first.location.path}:{first.location.line}; pip refuses the "
                        "install (Double requirement given / conflicting requirements)",
                    )
        for entry in self.req_set.entries:
            if entry.kind is Kind.NAMED and entry.pin:
                lookup = lookups.get((entry.name, entry.pin))
                if lookup is not None:
                    self.check_release(entry, lookup)

    def check_hash_syntax(self, entry: RequirementEntry) -> None:
        for spec in entry.hashes:
            expected = HASH_LENGTHS.get(spec.algorithm)
            if expected is None:
                self.emit(
                    entry,
                    "invalid-hash",
                    f"--hash={spec.text}: pip accepts only sha256, sha384 and sha512 hashes "
                    "and refuses this requirement as invalid before downloading anything",
                )
            elif len(spec.digest) != expected or not _HEX_RE.match(spec.digest):
                self.emit(
                    entry,
                    "invalid-hash",
                    f"--hash={spec.text}: a {spec.algorithm} digest is {expected} hexadecimal "
                    f"digits, this one is {len(spec.digest)} characters"
                    + ("" if _HEX_RE.match(spec.digest or "x") else " and not hexadecimal")
                    + "; no file can ever match it",
                )

    def check_hash_mode(self, entry: RequirementEntry, *, covered_by_constraint: bool) -> None:
        what = entry.raw_name or entry.url or entry.raw.strip()
        if entry.kind in (Kind.EDITABLE, Kind.VCS, Kind.LOCAL_DIR):
            reason = {
                Kind.EDITABLE: "an editable requirement has no single file to hash",
                Kind.VCS: "a VCS checkout has no single file to hash",
                Kind.LOCAL_DIR: "a local folder has no single file to hash",
            }[entry.kind]
            self.emit(
                entry,
                "unhashable",
                f"{what}: hash-checking mode is on and {reason}; pip refuses to install it. "
                "Build a wheel and pin it with its hash, or install it in a separate step",
            )
            return
        hashes = entry_hashes(entry)
        if not hashes and not covered_by_constraint:
            self.emit(
                entry,
                "missing-hash",
                f"{what} has no --hash while hash-checking mode is on; pip fails with "
                "'Hashes are required in --require-hashes mode, but they are missing from "
                "some requirements'",
            )
        if entry.kind is Kind.NAMED and entry.pin is None:
            lenient = self.options.pip_version >= PIP_ACCEPTS_UNPINNED_HASHED and bool(hashes)
            spec = entry.specifier or "no version"
            self.emit(
                entry,
                "unpinned",
                f"{what} is not pinned with == ({spec}); pip older than 26.1 fails with "
                "'In --require-hashes mode, all requirements must have their versions pinned "
                "with =='"
                + (
                    "; pip 26.1+ installs whichever version a listed hash matches" if hashes else ""
                ),
                severity=Severity.WARNING if lenient else None,
            )

    # -- rules that need the index ----------------------------------------------------------

    def check_release(self, entry: RequirementEntry, lookup: ReleaseLookup) -> None:
        project = entry.raw_name
        if lookup.missing == "project":
            self.emit(
                entry,
                "unknown-project",
                f"the index has no project named {project!r}; pip fails with "
                "'No matching distribution found'",
            )
            return
        if lookup.missing == "version":
            self.emit(
                entry,
                "unknown-version",
                f"the index has no {project} {entry.pin}; pip fails with 'No matching "
                f"distribution found for {project}=={entry.pin}'",
            )
            return
        if lookup.release is None:
            reason = lookup.error or "the index gave no answer"
            if lookup.offline:
                self.emit(
                    entry,
                    "unverifiable",
                    f"{project} {entry.pin} could not be verified: {reason}",
                )
            self.unverified.append(Unverified(entry.location, entry.name, entry.pin, reason))
            return
        release = lookup.release
        if release.yanked:
            why = next((f.yanked_reason for f in release.files if f.yanked_reason), None)
            self.emit(
                entry,
                "yanked",
                f"{project} {entry.pin} is yanked"
                + (f" ({why})" if why else " (no reason given)")
                + "; pip installs it with a warning",
            )
        if not entry.hashes and not entry_hashes(entry):
            self.check_targets(entry, release, ())
            return
        self.check_hashes(entry, release, lookup.history)

    def check_hashes(
        self, entry: RequirementEntry, release: ReleaseFiles, history: Mapping[str, DistFile]
    ) -> None:
        listed = entry_hashes(entry)
        published = published_hashes(release.files)
        expected = tuple(sorted(f"sha256:{h}" for h in _sha256s(release.files)))
        hashes = HashSet(listed=listed, expected=expected)
        known = [h for h in listed if h in published]
        unconfirmable = [h for h in listed if h not in published and not h.startswith("sha256:")]
        unknown = [h for h in listed if h not in published and h.startswith("sha256:")]
        project = entry.raw_name
        if unconfirmable:
            self.emit(
                entry,
                "unverifiable",
                f"{len(unconfirmable)} {_plural(len(unconfirmable), 'hash', 'hashes')} of "
                f"{project} {entry.pin} use an algorithm the index does not publish "
                f"({', '.join(sorted({h.split(':')[0] for h in unconfirmable}))}); "
                "they cannot be confirmed without downloading the files",
                hashes=hashes,
            )
        if unknown and not known and not unconfirmable:
            self.emit(
                entry,
                "stale-hash",
                f"none of the {len(listed)} {_plural(len(listed), 'hash', 'hashes')} of "
                f"{project} {entry.pin} matches a file the index publishes for it; pip fails "
                "with 'THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE'. "
                + _origins(unknown, history, entry),
                hashes=hashes,
                fix=f"--hash lines for {project}=={entry.pin}",
            )
            return
        if unknown:
            self.emit(
                entry,
                "foreign-hash",
                f"{len(unknown)} of {len(listed)} hashes of {project} {entry.pin} match no "
                "file the index publishes for it; pip still installs, but an unexplained "
                "hash is an integrity smell. " + _origins(unknown, history, entry),
                hashes=hashes,
            )
        self.check_targets(entry, release, listed)

    def check_targets(
        self, entry: RequirementEntry, release: ReleaseFiles, listed: Sequence[str]
    ) -> None:
        project = entry.raw_name
        expected = tuple(sorted(f"sha256:{h}" for h in _sha256s(release.files)))
        for target in self.options.targets:
            if not _marker_applies(entry.marker, target):
                continue
            pick = pick_file(target, release.files, set(listed), entry.name, self.policy)
            hashes = HashSet(listed=tuple(listed), expected=expected)
            if not pick.candidates:
                self.emit(
                    entry,
                    "no-installable-file",
                    f"{project} {entry.pin} publishes no file pip can install on {target.name} "
                    f"({_why_nothing(release.files, self.policy, entry.name)}); pip fails with "
                    f"'Could not find a version that satisfies the requirement "
                    f"{project}=={entry.pin}'",
                    target=target.name,
                )
                continue
            if not listed or pick.unknown_hash:
                # No hashes: missing-hash says it. Unknown algorithm: unverifiable says it.
                continue
            if not pick.ok and pick.chosen is not None:
                want = pick.chosen
                self.emit(
                    entry,
                    "uncovered-target",
                    f"on {target.name} pip picks {want.filename}, whose hash is not listed, "
                    "and fails with 'THESE PACKAGES DO NOT MATCH THE HASHES FROM THE "
                    f"REQUIREMENTS FILE'; add --hash=sha256:{want.sha256}",
                    hashes=HashSet(listed=tuple(listed), expected=expected),
                    target=target.name,
                )
                continue
            if pick.best is not None and pick.chosen is not None and pick.chosen != pick.best:
                self.emit(
                    entry,
                    "fallback-target",
                    f"on {target.name} pip would prefer {pick.best.filename} but its hash is "
                    f"not listed, so it installs {pick.chosen.filename} instead; add "
                    f"--hash=sha256:{pick.best.sha256} to get the expected file",
                    hashes=hashes,
                    target=target.name,
                )
            if pick.chosen is not None and pick.chosen.yanked and not release.yanked:
                self.emit(
                    entry,
                    "yanked",
                    f"on {target.name} pip installs {pick.chosen.filename}, which is yanked"
                    + (f" ({pick.chosen.yanked_reason})" if pick.chosen.yanked_reason else ""),
                    target=target.name,
                )

    def check_dependencies(self, lookups: Mapping[tuple[str, str], ReleaseLookup]) -> None:
        if not self.hash_mode:
            return
        available = {e.name for e in self.req_set.entries if e.name and not e.is_constraint}
        for entry in self.req_set.entries:
            if entry.is_constraint or entry.kind is not Kind.NAMED or not entry.pin:
                continue
            lookup = lookups.get((entry.name, entry.pin))
            if lookup is None or lookup.release is None:
                continue
            if lookup.release.requires_dist is None:
                continue
            missing: dict[str, list[str]] = defaultdict(list)
            for target in self.options.targets:
                if not _marker_applies(entry.marker, target):
                    continue
                for dependency in _dependencies(lookup.release.requires_dist, entry, target):
                    if dependency not in available:
                        missing[dependency].append(target.name)
            exact = lookup.release.requires_dist_exact
            for dependency, target_names in sorted(missing.items()):
                self.emit(
                    entry,
                    "missing-dependency",
                    f"{entry.raw_name} {entry.pin} depends on {dependency}, which no file in "
                    f"this set pins (on {', '.join(target_names)}); pip fails with 'Hashes are "
                    "required in --require-hashes mode, but they are missing from some "
                    f"requirements'. Pin {dependency} with its hashes"
                    + (
                        ""
                        if exact
                        else ". The index publishes no metadata file for this release, so this "
                        "comes from its JSON summary, which the wheel pip installs may contradict"
                    ),
                    target=target_names[0] if len(target_names) == 1 else None,
                    severity=None if exact else Severity.WARNING,
                )


def _dependencies(
    requires_dist: Sequence[str], entry: RequirementEntry, target: Target
) -> set[str]:
    names: set[str] = set()
    extras = ("", *entry.extras)
    for text in requires_dist:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue
        if requirement.marker is None or any(
            requirement.marker.evaluate({**target.marker_environment, "extra": extra})
            for extra in extras
        ):
            names.add(canonicalize_name(requirement.name))
    return names


def _marker_applies(marker: str | None, target: Target) -> bool:
    if not marker:
        return True
    try:
        return Marker(marker).evaluate(dict(target.marker_environment))
    except InvalidMarker:
        return True


def published_hashes(files: Iterable[DistFile]) -> set[str]:
    return {f"{algo}:{digest.lower()}" for f in files for algo, digest in f.hashes.items()}


def _sha256s(files: Iterable[DistFile]) -> set[str]:
    return {f.sha256.lower() for f in files if f.sha256}


def _origins(
    unknown: Sequence[str], history: Mapping[str, DistFile], entry: RequirementEntry
) -> str:
    from_other: dict[str, list[str]] = defaultdict(list)
    orphans = 0
    for text in unknown:
        digest = text.split(":", 1)[1]
        source = history.get(digest)
        if source is None:
            orphans += 1
        else:
            from_other[source.version].append(source.filename)
    parts = []
    for version, filenames in sorted(from_other.items()):
        parts.append(
            f"{len(filenames)} {_plural(len(filenames), 'hash belongs', 'hashes belong')} to "
            f"{entry.raw_name} {version} ({', '.join(sorted(filenames)[:3])}"
            + (", …" if len(filenames) > 3 else "")
            + ")"
        )
    if from_other:
        parts[-1] += ": the version was changed without regenerating its hashes"
    if orphans:
        parts.append(
            f"{orphans} {_plural(orphans, 'hash matches', 'hashes match')} nothing "
            f"{entry.raw_name} has ever published (corrupted, tampered with, or from another "
            "index)"
        )
    return "; ".join(parts) + "." if parts else ""


def _why_nothing(files: Sequence[DistFile], policy: BinaryPolicy, project: str) -> str:
    if not files:
        return "the release has no files"
    if any(not f.is_wheel for f in files) and not policy.allows_sdist(project):
        return "no compatible wheel, and --only-binary excludes the sdist"
    if not any(not f.is_wheel for f in files):
        return "no compatible wheel and no sdist"
    return "no compatible file"


def _option_values(options: Iterable[FileOption], name: str) -> list[str]:
    return [str(o.value) for o in options if o.name == name]


def _is_loopback_url(url: str) -> bool:
    host = url.split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1]
    host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return host in LOOPBACK_HOSTS or host.startswith("127.")


def _plural(count: int, one: str, many: str) -> str:
    return one if count == 1 else many
