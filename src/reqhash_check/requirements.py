"""Requirements files → RequirementEntry, following -r/-c includes as pip does."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from reqhash_check.findings import Location


class Kind(str, enum.Enum):
    NAMED = "named"  # name[extras] specifier ; marker
    URL = "url"  # name @ https://… or a bare archive URL
    VCS = "vcs"  # git+https://…
    LOCAL_DIR = "local-dir"  # ./folder
    LOCAL_FILE = "local-file"  # ./pkg-1.0-py3-none-any.whl
    EDITABLE = "editable"  # -e …


@dataclass(frozen=True)
class HashSpec:
    """One `--hash=algorithm:digest` as written."""

    algorithm: str
    digest: str

    @property
    def text(self) -> str:
        return f"{self.algorithm}:{self.digest}"


@dataclass(frozen=True)
class RequirementEntry:
    name: str
    """PEP 503-normalised project name; "" when the line names none (a bare path or URL)."""
    raw_name: str
    kind: Kind
    specifier: str
    """As written, e.g. "==1.2.3" or ">=1,<2"; "" when there is none."""
    pin: str | None
    """The version when pinned to exactly one with == (no wildcard) or ===, else None."""
    extras: tuple[str, ...]
    marker: str | None
    hashes: tuple[HashSpec, ...]
    location: Location
    raw: str
    """The physical lines of the entry, exactly as in the file (line endings included)."""
    is_constraint: bool = False
    url: str | None = None
    suppressed: frozenset[str] = frozenset()
    """Rule IDs named in an inline `# reqhash: ignore[...]`."""


@dataclass(frozen=True)
class FileOption:
    """A file-level option line (or one given on the command line, then location is None)."""

    name: str  # index_url, extra_index_urls, require_hashes, only_binary, no_binary, ...
    value: str | bool
    location: Location | None


@dataclass
class RequirementSet:
    """One top-level file with everything it includes."""

    top_level: str
    entries: list[RequirementEntry] = field(default_factory=list)
    options: list[FileOption] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    """Every file read for this set, the top-level one first."""
