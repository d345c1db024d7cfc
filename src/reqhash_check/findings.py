"""The result model: findings are frozen data, reporters only project them.

A fixable finding carries its fix as data (`SetHashes`, `AddHashes`, `PinDependency`,
`RepinProject`);
`fix.py` turns fixes into edits of the text, and the runner applies them in one pass.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

KB_HASH_MISMATCH = "pip/hash-mismatch-requirements-file"


class Severity(str, enum.Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, order=True)
class Location:
    """Where a requirement stands: 1-based first and last physical line."""

    path: str
    line: int
    end_line: int


@dataclass(frozen=True)
class HashSet:
    """Hashes as `algorithm:hexdigest` strings: what the file lists, what the index publishes."""

    listed: tuple[str, ...] = ()
    expected: tuple[str, ...] = ()


# --- fixes as data ------------------------------------------------------------------------


@dataclass(frozen=True)
class SetHashes:
    """Give the requirement at `location` exactly these hashes."""

    location: Location
    raw: str
    """The requirement's lines as read, so an edit of lines that changed is refused."""
    hashes: tuple[str, ...]

    @property
    def title(self) -> str:
        return f"rewrite its hashes ({len(self.hashes)})"


@dataclass(frozen=True)
class AddHashes:
    """Add these hashes to the requirement at `location`, keeping the ones it has."""

    location: Location
    raw: str
    hashes: tuple[str, ...]

    @property
    def title(self) -> str:
        return f"add {len(self.hashes)} hash{'' if len(self.hashes) == 1 else 'es'}"


@dataclass(frozen=True)
class PinDependency:
    """Pin a missing dependency in the file that pins its requirer.

    The version is chosen when the fix is applied (it needs the index): the newest release
    that is not yanked, satisfies every specifier in `specifiers` and installs on every
    target. `marker` is the requiring edge's marker (None: needed everywhere).
    """

    project: str
    specifiers: tuple[tuple[str, str], ...]
    """(specifier, who asks for it) pairs, e.g. (">=0.4", "tqdm 4.67.1")."""
    marker: str | None
    requirer: str
    """The requirer's name as written, for the `# via` comment."""
    path: str
    """The file the new pin goes into: the one that pins the requirer."""

    @property
    def title(self) -> str:
        return f"pin {self.project} in {self.path}"


@dataclass(frozen=True)
class RepinProject:
    """Change the pin at `location` to a version every requirer accepts, with its hashes.

    The version is chosen when the fix is applied (it needs the index): the newest release
    that is not yanked, satisfies every specifier in `specifiers` and installs on every
    target. It is a new version of a dependency: review it before installing.
    """

    location: Location
    raw: str
    project: str
    version: str
    """The version pinned now."""
    specifiers: tuple[tuple[str, str], ...]
    """(specifier, who asks for it) pairs, every requirer's, e.g. ("==1.3", "Faker 2.0.3")."""

    @property
    def title(self) -> str:
        return f"re-pin {self.project} to a version every requirer accepts (review it)"


@dataclass(frozen=True)
class RewriteLockEntries:
    """Rewrite a lock file package's file entries (hashes, url, size, upload time) to what
    the index publishes for its version; applied by the lockfile package."""

    project: str
    version: str

    @property
    def title(self) -> str:
        return f"rewrite the file entries of {self.project} {self.version}"


Fix = SetHashes | AddHashes | PinDependency | RepinProject | RewriteLockEntries


@dataclass(frozen=True)
class Finding:
    """One problem found at a location, with what pip does about it and how to fix it."""

    rule: str
    severity: Severity
    location: Location
    project: str | None
    version: str | None
    message: str
    kb: str | None = None
    hashes: HashSet | None = None
    target: str | None = None
    fix: Fix | None = None
    suppressed: bool = False
    """Silenced by `# reqhash: ignore[rule]` on its lines: kept and counted, never failing."""
    detail: tuple[str, ...] = ()
    """Lines shown under the finding where they help (e.g. the hash a target needs)."""

    @property
    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.location.path, self.location.line, self.rule, self.target or "")


@dataclass(frozen=True)
class Unverified:
    """A requirement that could not be checked against the index (a skip is a result)."""

    location: Location
    project: str
    version: str | None
    reason: str


@dataclass(frozen=True)
class IndexUse:
    """An index or find-links location consulted, and who sent pip there."""

    url: str
    """Credentials redacted, environment variables as written."""
    origin: Location | None
    """The option line in a requirements file, or None (command line, configuration, default)."""
    kind: str = "index"
    """"index" or "find-links"."""
    contacted: bool = True
    """False when it was not asked (outside --allow-index, or its URL uses ${VAR})."""


@dataclass(frozen=True)
class Report:
    """Everything one check found and looked at, as every output format shows it."""

    findings: tuple[Finding, ...]
    unverified: tuple[Unverified, ...] = ()
    files: tuple[str, ...] = ()
    requirements_checked: int = 0
    targets: tuple[str, ...] = field(default=())
    unreadable: tuple[str, ...] = ()
    """Inputs that could not be read at all, one clear message each."""
    indexes: tuple[IndexUse, ...] = ()
    index_errors: tuple[str, ...] = ()
    """Each index that could not be asked, once, with why."""
    dependencies_unknown: tuple[str, ...] = ()
    """Why some requirements' dependencies could not be known (one line per reason, with
    how many requirements it concerns)."""
    dependencies_unknown_projects: tuple[str, ...] = ()
    """For each line of dependencies_unknown, the requirements it concerns (`name version`,
    comma-separated), shown with --verbose."""

    @property
    def active(self) -> tuple[Finding, ...]:
        """The findings that are not suppressed."""
        return tuple(f for f in self.findings if not f.suppressed)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.active if f.severity is severity)

    @property
    def suppressed(self) -> int:
        return sum(1 for f in self.findings if f.suppressed)
