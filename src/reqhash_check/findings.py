"""The result model: findings are frozen data, reporters only project them."""

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


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    location: Location
    project: str | None
    version: str | None
    message: str
    kb: str | None = None
    hashes: HashSet | None = None
    target: str | None = None
    fix: str | None = None

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
class Report:
    findings: tuple[Finding, ...]
    unverified: tuple[Unverified, ...] = ()
    files: tuple[str, ...] = ()
    requirements_checked: int = 0
    targets: tuple[str, ...] = field(default=())
    unreadable: tuple[str, ...] = ()
    """Inputs that could not be read at all, one clear message each."""

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)
