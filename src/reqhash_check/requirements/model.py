"""What reading a requirements file produces: entries, file options and problems."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from reqhash_check.findings import Location
from reqhash_check.hashes import STRONG_ALGORITHMS


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


REQUIREMENT, HASHES = "requirement", "hashes"
"""The parts of an entry an expansion can reach (`RequirementEntry.tainted`)."""


@dataclass(frozen=True)
class RequirementEntry:
    """One requirement or constraint line as pip reads it."""

    name: str
    """PEP 503-normalised project name; "" when the line names none (a bare path or URL)."""
    raw_name: str
    kind: Kind
    specifier: str
    """As pip holds it: each clause without spaces, sorted, comma-joined ("<2,>=1")."""
    pin: str | None
    """The version when pinned to exactly one with == (no wildcard) or ===, else None."""
    extras: tuple[str, ...]
    marker: str | None
    hashes: tuple[HashSpec, ...]
    """The --hash options pip keeps (an editable keeps none); a URL's #sha256= is in url."""
    location: Location
    raw: str
    """The physical lines of the entry, exactly as in the file (line endings included)."""
    is_constraint: bool = False
    url: str | None = None
    """The link pip would use: a URL as written, or a local path made a file: URL."""
    suppressed: frozenset[str] = frozenset()
    """Rule IDs named in an inline `# reqhash: ignore[...]`."""
    config_settings: tuple[tuple[str, str], ...] = ()
    """--config-settings / -C KEY=VALUE pairs in the order given."""
    expanded: bool = False
    """A ${VAR} from the environment was substituted into this entry's line."""
    tainted: frozenset[str] = frozenset()
    """What derives from an expansion: REQUIREMENT (the name, version, URL, marker and
    extras) and/or HASHES. Such values may be used (asked of an index, compared) but are
    never shown, cached or written: outputs show the line as written."""
    written: str = ""
    """The line before ${VAR} expansion, shortened for messages (set when expanded)."""

    @property
    def name_tainted(self) -> bool:
        return REQUIREMENT in self.tainted


@dataclass(frozen=True)
class FileOption:
    """An option that applies to the whole install, from a file or the command line.

    The names are index_url, extra_index_url, no_index, find_links, trusted_host,
    require_hashes, no_require_hashes, pre, prefer_binary, only_binary, no_binary,
    all_releases, only_final, use_feature. They are kept in the order pip applies them;
    only_binary/no_binary also come from requirement lines, where pip applies them too.
    """

    name: str
    value: str | bool
    location: Location | None
    written: str | bool | None = None
    """The value as written in the file, before ${VAR} expansion (None: same as value).
    When the expansion changed which options the line has, the whole line as written."""
    expanded: bool = False
    """An environment variable was expanded into the value."""


@dataclass
class RequirementSet:
    """One top-level file with everything it includes."""

    top_level: str
    entries: list[RequirementEntry] = field(default_factory=list)
    options: list[FileOption] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    """Every file read for this set, the top-level one first."""
    expanded: dict[str, str] = field(default_factory=dict)
    """Environment values pip would substitute for ${NAME} in these files: name → value."""
    pip_version: tuple[int, int] = (23, 0)
    """The pip whose reading this models."""


class RequirementsFileError(Exception):
    """A top-level input that cannot be read at all, or a cap was exceeded (exit code 2)."""


@dataclass(frozen=True)
class ParseProblem:
    """A line pip would refuse, or an include pip could not follow."""

    rule: str  # "parse-error" or "include-error"
    location: Location
    message: str
    suppressed: frozenset[str] = frozenset()


def entry_hashes(entry: RequirementEntry) -> tuple[str, ...]:
    """The entry's hashes as `algo:hex`, with a URL's `#sha256=` fragment, as pip counts them."""
    # pip lowercases digests before comparing, but takes algorithm names as written.
    listed = [f"{h.algorithm}:{h.digest.lower()}" for h in entry.hashes]
    if entry.url and "#" in entry.url:
        for part in entry.url.split("#", 1)[1].split("&"):
            algorithm, _, digest = part.partition("=")
            if algorithm in STRONG_ALGORITHMS and digest:
                listed.append(f"{algorithm}:{digest.lower()}")
    return tuple(dict.fromkeys(listed))
