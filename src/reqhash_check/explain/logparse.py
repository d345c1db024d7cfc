"""pip's hash-checking failures, read from its output as people paste it.

Pure: bytes or text in, data out. The log is untrusted, so every string taken from it is
passed through `clean` (control characters and a leading `::` escaped) before it is kept, its
size and line lengths are bounded, and hashes, names and versions are validated.

What pip prints has barely changed since pip 20.0 (the `HashError` classes in
`pip/_internal/exceptions.py`); what differs between versions and paste sources is around
it. `logtext` takes off colours, CI and log prefixes and line-ending differences first; then:

- the legacy resolver (pip ≤ 20.2, and `--use-deprecated=legacy-resolver` until 23.x) lists
  every failing package under several headings in one message; the resolver since 20.3
  stops at the first failing package;
- a requirement that comes from a lock file says `(from pylock.toml)`, with no line number;
  a dependency says `(from parent==1.0->-r requirements.txt (line 3))`;
- URLs keep an HTML index page's `#sha256=` fragment, or may be relative.

uv's hash failures are read too (`Hash mismatch for `req`` with `Expected:`/`Computed:` lists of
`algorithm:hex`, plain or in its boxed style; `… must have a hash, but none were provided for:
req`; `… must have their versions pinned with `==`, but found: req`), and pipenv's, which are
pip's wrapped (`[pipenv.exceptions.InstallError]: ` before each line, taken off by `logtext`;
the temporary requirements file pipenv writes from `Pipfile.lock`; old pipenv's `THESE PACKAGES
DO NOT MATCH THE HASHES FROM Pipfile.lock!`).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field, replace
from urllib.parse import unquote, urlsplit

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from reqhash_check.explain.logtext import (
    MAX_LINE_CHARS,
    MAX_LOG_BYTES,
    LogTooLarge,
    clean,
    decode_log,
    log_lines,
    normalize_line,
)
from reqhash_check.urls import without_userinfo

__all__ = [
    "MAX_LINE_CHARS",
    "MAX_LOG_BYTES",
    "Failure",
    "FailureKind",
    "HashGroup",
    "LogTooLarge",
    "ParsedLog",
    "UnparsedLine",
    "clean",
    "decode_log",
    "normalize_line",
    "parse_log",
]

MAX_FAILURES = 1000
"""Failures beyond this many in one log are not diagnosed (each may cost index queries)."""
MAX_UNPARSED = 200
MAX_SHOWN_CHARS = 500
"""An unread line is shown cut to this many characters."""
MAX_HASHES = 2000
"""Hashes read per `Expected`/`or` group; no project publishes this many files for a version."""
MAX_GROUPS = 16
"""Hash groups read per requirement (pip prints one per algorithm)."""
MAX_INDEXES = 50
MAX_REQUIREMENT_CHARS = 2000
"""A longer requirement is not read, and is shown cut to this many characters."""
MAX_IGNORED = 5

HASH_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}

# The headings of pip's HashError subclasses (pip/_internal/exceptions.py, unchanged 20.0–26.x).
MISMATCH_HEAD = "THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE"
PIPENV_MISMATCH_HEAD = "THESE PACKAGES DO NOT MATCH THE HASHES FROM Pipfile.lock"
UV_MISMATCH = "Hash mismatch for `"
UV_MISSING = re.compile(
    r"all requirements? must have a hash, but none were provided for: (?P<req>.+)"
)
UV_UNPINNED = re.compile(
    r"all requirements? must have their versions pinned with `==`, but found: (?P<req>.+)"
)
UNDERSTOOD = (
    "pip's hash mismatch block (THESE PACKAGES DO NOT MATCH THE HASHES …), pip's missing-hash "
    "and unpinned messages (Hashes are required in --require-hashes mode …, … must have their "
    "versions pinned with ==), uv's `Hash mismatch for …` (Expected:/Computed:) and `… must "
    "have a hash, but none were provided for: …`, and pipenv's wrapped pip output"
)
"""The forms `explain` reads, for the message about a log that holds none of them."""
MISSING_HEAD = (
    "Hashes are required in --require-hashes mode, but they are missing from some requirements"
)
UNPINNED_HEAD = "In --require-hashes mode, all requirements must have their versions pinned with"
VCS_HEAD = "Can't verify hashes for these requirements because we don't have a way to hash"
DIRECTORY_HEAD = "Can't verify hashes for these file:// requirements because they point to"


class FailureKind(str, enum.Enum):
    MISMATCH = "hash-mismatch"
    MISSING = "hash-missing"
    UNPINNED = "hash-unpinned"
    VCS = "vcs"
    DIRECTORY = "directory"
    NOT_FOUND = "not-found"


_HEADS = (
    (MISMATCH_HEAD, FailureKind.MISMATCH),
    (PIPENV_MISMATCH_HEAD, FailureKind.MISMATCH),
    (MISSING_HEAD, FailureKind.MISSING),
    (UNPINNED_HEAD, FailureKind.UNPINNED),
    (VCS_HEAD, FailureKind.VCS),
    (DIRECTORY_HEAD, FailureKind.DIRECTORY),
)


@dataclass(frozen=True)
class HashGroup:
    """One `Expected <algorithm> …` / `or …` / `Got …` group of a mismatch."""

    algorithm: str
    expected: tuple[str, ...]
    got: str


@dataclass(frozen=True)
class Failure:
    """One requirement pip named in a hash-checking failure. Strings are cleaned log text."""

    kind: FailureKind
    log: str
    log_line: int
    """1-based line of the log where pip names the requirement."""
    requirement: str
    """As pip printed it, e.g. `demo==1.0` or `child>=1`."""
    project: str | None = None
    """PEP 503 name, validated; None when the log does not give a usable one."""
    version: str | None = None
    """The version pip downloaded (from the file name), else the one pinned with ==."""
    pinned: bool = False
    """The requirement pip printed is pinned to one version with == or ===."""
    url: str | None = None
    """Where pip downloaded the file, without the fragment."""
    filename: str | None = None
    page_sha256: str | None = None
    """The `#sha256=` fragment of the URL: the hash pip's index page stated for the file."""
    requirements_file: str | None = None
    line: int | None = None
    via: str | None = None
    """For a dependency: the requirement that pulled it in."""
    groups: tuple[HashGroup, ...] = ()
    got: str | None = None
    """For a missing hash: `algorithm:hex` of what pip downloaded."""
    versions: tuple[str, ...] | None = None
    """For not-found: pip's `(from versions: …)` list; None when pip did not print one."""
    ignored: tuple[str, ...] = ()
    """For not-found: pip's `Ignored the following …` lines before it."""
    tool: str = "pip"
    """What printed the failure: `pip`, `uv`, or `pipenv` (pip run by pipenv)."""

    @property
    def expected(self) -> tuple[str, ...]:
        return tuple(f"{g.algorithm}:{h}" for g in self.groups for h in g.expected)

    @property
    def got_hashes(self) -> tuple[str, ...]:
        if self.got:
            return (self.got,)
        return tuple(f"{g.algorithm}:{g.got}" for g in self.groups)

    @property
    def sha256_got(self) -> str | None:
        for text in self.got_hashes:
            algorithm, _, digest = text.partition(":")
            if algorithm == "sha256":
                return digest
        return None

    @property
    def sha256_expected(self) -> tuple[str, ...]:
        return tuple(h for g in self.groups if g.algorithm == "sha256" for h in g.expected)


@dataclass(frozen=True)
class UnparsedLine:
    """A line inside one of pip's failure messages that could not be read."""

    log: str
    line: int
    text: str


@dataclass(frozen=True)
class ParsedLog:
    name: str
    failures: tuple[Failure, ...]
    unparsed: tuple[UnparsedLine, ...] = ()
    indexes: tuple[str, ...] = ()
    """The indexes pip said it looked in (`Looking in indexes: …`), cleaned."""
    pip_version: str | None = None
    truncated: bool = False
    """More failures than MAX_FAILURES: the rest were not read."""


# --- pieces of pip's lines -------------------------------------------------------------------

_EXPECTED = re.compile(r"^\s*Expected\s+(?P<algo>[A-Za-z0-9_]+)\s+(?P<hex>[0-9A-Fa-f]+)$")
_OR = re.compile(r"^\s*(?:Expected\s+)?or\s+(?P<hex>[0-9A-Fa-f]+)$")
_GOT = re.compile(r"^\s*Got\s+(?P<hex>[0-9A-Fa-f]+)$")
_MISSING_ITEM = re.compile(r"^\s*(?P<req>\S.*?) --hash=(?P<algo>[A-Za-z0-9_]+):(?P<hex>\S+)$")
_COMES_FROM = re.compile(
    r"^(?:(?P<via>.*)->)?(?:-[rc] )?(?P<file>.+?)(?: \(line (?P<line>\d+)\))?$"
)
_NOT_FOUND = re.compile(
    r"Could not find a (?:final )?version that satisfies the requirement (?P<req>.+?)"
    r"(?: \(from versions: (?P<versions>[^()]*)\))?$"
)
_NO_MATCHING = re.compile(r"No matching distribution found for (?P<req>.+)$")
_IGNORED = re.compile(r"Ignored the following (?:yanked versions|versions that require a .*)")
_LOOKING = re.compile(r"^Looking in indexes: (?P<urls>.+)$")
_PIP_VERSION = re.compile(
    r"(?:You are using pip version (?P<a>[0-9][0-9.]*)"
    r"|A new release of pip (?:is )?available: (?P<b>[0-9][0-9.]*) ->"
    r"|^pip (?P<c>[0-9][0-9.]*) from "
    r"|^Local version of pip: +(?P<d>[0-9][0-9.]*))"
)
_ERROR_PREFIX = re.compile(r"^\s*(?:ERROR|error): ")
_VALID_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar", ".tbz", ".txz")


# pip's `requirement from URL (from …):` and `Collecting requirement (from …)` lines are split
# by hand, not by one regular expression: a lazy requirement followed by optional ` from ` and
# ` (from …)` parts backtracks quadratically on a hostile line (`x (from x (from x …`), and
# parsing must stay linear in the log's size.
_LEADING_SPACE = re.compile(r"\s*")
_NON_SPACE = re.compile(r"\S+")
_FROM = " (from "
_URL_FROM = " from "


@dataclass(frozen=True)
class _ItemParts:
    req: str
    url: str | None
    comes_from: str | None
    colon: str


def _closing(line: str) -> tuple[int, int, str]:
    """Where a ` (from …)` part may start and still close at the end of the line: (the
    first position it may not start at, the end of its inside, the colon after it)."""
    if line.endswith(")"):
        return len(line) - 1 - len(_FROM), len(line) - 1, ""
    if line.endswith("):"):
        return len(line) - 2 - len(_FROM), len(line) - 2, ":"
    return -1, 0, ""


def _split_item(line: str) -> _ItemParts | None:
    """`  req[ from URL][ (from …)][:]` with the requirement as short as the rest allows (what
    pip prints: `str(InstallRequirement)`, then a colon in a mismatch block); None for a blank
    line. Linear: the URL after a ` from ` is the run of non-spaces that follows it, so runs of
    different candidates do not overlap, and a ` (from …)` part closes only at the line's end."""
    start = _LEADING_SPACE.match(line).end()  # type: ignore[union-attr]
    if start == len(line):
        return None
    limit, inside_end, colon = _closing(line)
    first = line.find(_FROM, start + 1)
    closes = 0 <= first < limit
    if closes:  # a ` from URL` before it may still come first
        at = line.find(_URL_FROM, start + 1)
        while 0 <= at < first:
            url = _NON_SPACE.match(line, at + len(_URL_FROM))
            if url is not None:
                end = url.end()
                if end == len(line):
                    return _ItemParts(line[start:at], url.group(), None, "")
                if end < limit and line.startswith(_FROM, end):
                    inside = line[end + len(_FROM) : inside_end]
                    return _ItemParts(line[start:at], url.group(), inside, colon)
            at = line.find(_URL_FROM, at + 1)
        return _ItemParts(line[start:first], None, line[first + len(_FROM) : inside_end], colon)
    # Nothing closes: only a URL that runs to the end of the line can follow ` from `.
    if not line[-1].isspace():
        last = line.rsplit(None, 1)[-1]
        at = len(line) - len(last) - len(_URL_FROM)
        if at > start and line.startswith(_URL_FROM, at):
            return _ItemParts(line[start:at], last, None, "")
    if line.endswith(":") and len(line) - 1 > start:
        return _ItemParts(line[start:-1], None, None, ":")
    return _ItemParts(line[start:], None, None, "")


def _split_collecting(body: str) -> tuple[str, str] | None:
    """(requirement, comes from) of `Collecting requirement (from …)`: the first ` (from `
    after a non-empty requirement, when the line ends with `)`."""
    head = "Collecting "
    if not body.startswith(head):
        return None
    at = body.find(_FROM, len(head) + 1)
    if not body.endswith(")") or not 0 <= at < len(body) - 1 - len(_FROM):
        return None
    return body[len(head) : at], body[at + len(_FROM) : -1]


def _hex(algorithm: str, digest: str, *, keep_case: bool = False) -> str | None:
    """`digest` when it is hexadecimal of the algorithm's length: lower-cased, or as written
    (a listed hash pip printed: pip compares it as written, so its case is evidence)."""
    length = HASH_LENGTHS.get(algorithm)
    if length is None or len(digest) != length:
        return None
    return digest if keep_case else digest.lower()


def valid_project(name: str) -> str | None:
    """The PEP 503 name, when `name` is a valid project name (so it is safe in a URL)."""
    if len(name) > 200 or not _VALID_NAME.match(name):
        return None
    return canonicalize_name(name)


def valid_version(text: str) -> str | None:
    if len(text) > 100:
        return None
    try:
        return str(Version(text))
    except InvalidVersion:
        return None


def file_of_url(url: str) -> tuple[str | None, str | None]:
    """(file name, #sha256 fragment) of a download URL, absolute or relative."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None, None
    name = unquote(parts.path.rsplit("/", 1)[-1])
    fragment = dict(
        item.partition("=")[::2] for item in parts.fragment.split("&") if "=" in item
    ).get("sha256")
    page_hash = _hex("sha256", fragment) if fragment else None
    if not name or "/" in name or "\\" in name or len(name) > 255:
        return None, page_hash
    return name, page_hash


def version_of_file(filename: str) -> tuple[str, str] | None:
    """(project, version) from a wheel or sdist file name."""
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
            return str(name), str(version)
        if filename.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
            return str(name), str(version)
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    for suffix in _SDIST_SUFFIXES:
        if filename.endswith(suffix):
            stem, _, version_text = filename[: -len(suffix)].rpartition("-")
            project, parsed = valid_project(stem), valid_version(version_text)
            if project and parsed:
                return project, parsed
    return None


def hide_userinfo(text: str) -> str:
    """The text with the userinfo of every URL in it (`scheme://…@`) replaced by `****@`:
    an unread line or a requirement is shown as logged, and tools other than pip log
    passwords in clear. The authority runs to the next `/` (a password may hold spaces or
    `@`), and its last `@` ends the userinfo. Linear: each `://` holds a `/`, so no search
    runs past the next one."""
    if "://" not in text:
        return text
    parts: list[str] = []
    pos = 0
    while (at := text.find("://", pos)) != -1:
        start = at + 3
        end = text.find("/", start)
        end = len(text) if end == -1 else end
        userinfo = text.rfind("@", start, end)
        parts.append(text[pos:start])
        if userinfo != -1:
            parts.append("****")
            start = userinfo
        parts.append(text[start:end])
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def _strip_url_credentials(url: str) -> str:
    """pip prints `user:****@`; drop the userinfo whatever it holds, from the URL that starts
    at the scheme before `://` (a requirement reads `name @ URL`)."""
    at = url.find("://")
    start = at
    while start > 0 and (url[start - 1].isalnum() or url[start - 1] in "+.-"):
        start -= 1
    return url if at < 0 else url[:start] + without_userinfo(url[start:])


@dataclass
class _Requirement:
    text: str
    project: str | None = None
    pin: str | None = None


def _read_requirement(text: str) -> _Requirement:
    if len(text) > MAX_REQUIREMENT_CHARS:  # not a requirement pip printed: kept cut short
        return _Requirement(clean(hide_userinfo(text)[:MAX_REQUIREMENT_CHARS]) + "…")
    result = _Requirement(clean(hide_userinfo(text)))
    try:
        req = Requirement(text)
    except InvalidRequirement:
        name = text.strip()
        result.project = valid_project(name)
        return result
    result.project = valid_project(req.name)
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        result.pin = valid_version(specs[0].version) or None
    return result


def _comes_from(text: str | None) -> tuple[str | None, int | None, str | None]:
    """(requirements file, line, via) from pip's `(from …)` text."""
    if not text:
        return None, None, None
    match = _COMES_FROM.match(text)
    if match is None:  # pragma: no cover - the pattern matches any non-empty text
        return None, None, None
    via = match.group("via")
    path = match.group("file").strip()
    line = int(match.group("line")) if match.group("line") else None
    if via is not None and "->" in via:
        via = via.split("->", 1)[0]
    # A dependency's chain ends in the requirement file line of its ancestor.
    return clean(path) or None, line, clean(via) if via else None


# --- the parser ------------------------------------------------------------------------------


@dataclass
class _Pending:
    """A mismatch item being read: its heading line, then hash groups."""

    item: Failure
    groups: list[HashGroup] = field(default_factory=list)
    algorithm: str | None = None
    expected: list[str] = field(default_factory=list)


@dataclass
class _UvPending:
    """uv's `Hash mismatch for `req`` being read: `Expected:` and `Computed:` lists."""

    item: Failure
    section: dict[str, list[str]] | None = None
    expected: dict[str, list[str]] = field(default_factory=dict)
    computed: dict[str, list[str]] = field(default_factory=dict)


_UV_HASH = re.compile(r"(?P<algo>[a-z0-9]+):(?P<hex>[0-9A-Fa-f]+)")
_UV_HELP = re.compile(r"help: `[^`]*` \(v[^)]*\) was included because `(?P<via>[^`]+)`")
_PIPENV_TEMP = re.compile(r"tmp\w*-requirements?\.txt")


def _pipenv_temp(path: str) -> bool:
    """The requirements file pipenv writes from Pipfile.lock and hands to pip."""
    name = path.replace("\\", "/").rsplit("/", 1)[-1]
    return (
        (name.startswith("pipenv-") and name.endswith(".txt"))
        or "/pipenv-" in path.replace("\\", "/")
        or _PIPENV_TEMP.fullmatch(name) is not None
    )


class _Parser:
    def __init__(self, name: str) -> None:
        self.name = clean(name)
        self.failures: list[Failure] = []
        self.unparsed: list[UnparsedLine] = []
        self.indexes: dict[str, None] = {}
        self.not_found: set[str] = set()
        self.pip_version: str | None = None
        self.collected: dict[str, tuple[str | None, int | None, str | None]] = {}
        self.block: FailureKind | None = None
        self.pending: _Pending | None = None
        self.ignored: list[str] = []
        self.truncated = False
        self.uv: _UvPending | None = None
        self.pipenv = False

    # -- bookkeeping

    def _unparsed(self, line_no: int, text: str) -> None:
        if len(self.unparsed) < MAX_UNPARSED:
            text = hide_userinfo(text.strip())
            if len(text) > MAX_SHOWN_CHARS:
                text = text[:MAX_SHOWN_CHARS] + "…"
            self.unparsed.append(UnparsedLine(self.name, line_no, clean(text)))

    def _full(self) -> bool:
        """No more failures are kept (checked before building one: it costs a parse)."""
        if len(self.failures) >= MAX_FAILURES:
            self.truncated = True
        return self.truncated

    def _add(self, failure: Failure) -> None:
        if not self._full():
            self.failures.append(failure)

    def _item(
        self,
        kind: FailureKind,
        line_no: int,
        req_text: str,
        url: str | None = None,
        comes_from: str | None = None,
    ) -> Failure:
        """A failure from pip's `requirement from URL (from …)`, before kind-specific parts."""
        req = _read_requirement(req_text)
        project, version = req.project, req.pin
        bare = filename = page_hash = None
        if url:
            bare = clean(_strip_url_credentials(url.split("#", 1)[0]))
            name, page_hash = file_of_url(url)
            if name:
                filename = clean(name)
                from_file = version_of_file(name)
                if from_file is not None:
                    file_project, file_version = from_file
                    if project is None and not req_text.startswith(("file:", "git+")):
                        project = valid_project(file_project)
                    if project == canonicalize_name(file_project):
                        version = valid_version(file_version) or version
        path, line, via = _comes_from(comes_from)
        if path is None and req.project in self.collected:
            path, line, via = self.collected[req.project]
        tool = "pipenv" if self.pipenv else "pip"
        if path is not None and _pipenv_temp(path):
            path, line, tool = "Pipfile.lock", None, "pipenv"
        return Failure(
            kind=kind,
            log=self.name,
            log_line=line_no,
            requirement=req.text,
            project=project,
            version=version,
            pinned=req.pin is not None,
            url=bare,
            filename=filename,
            page_sha256=page_hash,
            requirements_file=path,
            line=line,
            via=via,
            tool=tool,
        )

    # -- mismatch items

    def _flush_pending(self) -> None:
        pending, self.pending = self.pending, None
        if pending is None:
            return
        if not pending.groups:
            self._unparsed(pending.item.log_line, pending.item.requirement)
            return
        self._add(replace(pending.item, groups=tuple(pending.groups)))

    def _mismatch_line(self, line_no: int, line: str) -> bool:
        """Read one line of a mismatch block; False when the line does not belong to it."""
        pending = self.pending
        if match := _OR.match(line):
            digest = (
                _hex(pending.algorithm or "", match.group("hex"), keep_case=True)
                if pending
                else None
            )
            if pending is not None and digest is not None and len(pending.expected) < MAX_HASHES:
                pending.expected.append(digest)
            else:
                self._unparsed(line_no, line)
            return True
        if match := _EXPECTED.match(line):
            algorithm = match.group("algo").lower()
            digest = _hex(algorithm, match.group("hex"), keep_case=True)
            if pending is None or digest is None:
                self._unparsed(line_no, line)
                return True
            pending.algorithm, pending.expected = algorithm, [digest]
            return True
        if match := _GOT.match(line):
            if pending is None or pending.algorithm is None:
                self._unparsed(line_no, line)
                return True
            digest = _hex(pending.algorithm, match.group("hex"))
            if digest is None or not pending.expected or len(pending.groups) >= MAX_GROUPS:
                self._unparsed(line_no, line)
            else:
                pending.groups.append(HashGroup(pending.algorithm, tuple(pending.expected), digest))
            pending.algorithm, pending.expected = None, []
            return True
        parts = _split_item(line)
        if parts and parts.colon and (line[:1].isspace() or parts.url):
            self._flush_pending()
            item = self._item(FailureKind.MISMATCH, line_no, parts.req, parts.url, parts.comes_from)
            self.pending = _Pending(item)
            return True
        return False

    # -- the other headings' items

    def _missing_item(self, line_no: int, line: str) -> bool:
        match = _MISSING_ITEM.match(line)
        if match is None:
            return False
        algorithm = match.group("algo").lower()
        digest = _hex(algorithm, match.group("hex"))
        if digest is None:
            self._unparsed(line_no, line)
            return True
        if self._full():
            return True
        req_text = match.group("req").strip()
        item = self._item(FailureKind.MISSING, line_no, req_text)
        if "://" in req_text:  # a URL requirement: pip prints the URL itself
            filename, _ = file_of_url(req_text)
            parsed = version_of_file(filename) if filename else None
            item = replace(
                item,
                url=clean(_strip_url_credentials(req_text.split("#", 1)[0])),
                filename=clean(filename) if filename else None,
                project=valid_project(parsed[0]) if parsed else None,
                version=valid_version(parsed[1]) if parsed else None,
            )
        self._add(replace(item, got=f"{algorithm}:{digest}"))
        return True

    def _simple_item(self, kind: FailureKind, line_no: int, line: str) -> bool:
        if not line[:1].isspace():
            return False
        if kind is FailureKind.MISSING:
            return self._missing_item(line_no, line)
        parts = _split_item(line)
        if parts is None or parts.colon:
            return False
        if self._full():
            return True
        req_text = parts.req
        item = self._item(kind, line_no, req_text, parts.url, parts.comes_from)
        if kind is FailureKind.VCS:
            item = replace(item, version=None, filename=None, page_sha256=None)
        elif kind is FailureKind.DIRECTORY:
            url = clean(_strip_url_credentials(req_text.strip()))
            item = replace(item, version=None, filename=None, page_sha256=None, url=url)
        self._add(item)
        return True

    # -- lines outside any block

    def _context_line(self, line_no: int, line: str) -> None:
        body = _ERROR_PREFIX.sub("", line, count=1).strip()
        if self._uv_context(line_no, body):
            return
        if match := _LOOKING.match(body):
            for url in match.group("urls").split(", "):
                shown = clean(_strip_url_credentials(url.strip()))
                if shown and len(self.indexes) < MAX_INDEXES:
                    self.indexes[shown] = None
            return
        if collecting := _split_collecting(body):
            req = _read_requirement(collecting[0])
            if req.project and req.project not in self.collected:
                self.collected[req.project] = _comes_from(collecting[1])
            return
        if match := _PIP_VERSION.search(body):
            version = next(v for v in match.groups() if v)
            self.pip_version = clean(version.rstrip("."))
            return
        if _IGNORED.search(body):
            self.ignored = [*self.ignored[1 - MAX_IGNORED :], clean(body)]
            return
        if match := _NOT_FOUND.search(body):
            self._not_found(line_no, match.group("req"), match.group("versions"))
            return
        if match := _NO_MATCHING.search(body):
            text = match.group("req")
            req_text, _, rest = text.partition(" (from ")
            if clean(req_text) not in self.not_found:
                comes_from = rest[:-1] if rest.endswith(")") else None
                self._not_found(line_no, req_text, None, comes_from)

    def _not_found(
        self, line_no: int, text: str, versions: str | None, comes_from: str | None = None
    ) -> None:
        if self._full():
            return
        req_text = text
        parent = None
        if " (from " in text and text.endswith(")"):
            req_text, _, rest = text.partition(" (from ")
            rest = rest[:-1]
            # The legacy resolver shows "-r file (line N)", the newer one the parent's name.
            if rest.startswith(("-r ", "-c ")) or "->" in rest:
                comes_from = rest
            else:
                parent = rest
        item = self._item(FailureKind.NOT_FOUND, line_no, req_text, None, comes_from)
        if parent and not item.via:
            item = replace(item, via=clean(parent))
        listed = None
        if versions is not None:
            listed = tuple(
                clean(v.strip()) for v in versions.split(",") if v.strip() and v.strip() != "none"
            )
        self._add(replace(item, versions=listed, ignored=tuple(self.ignored)))
        self.not_found.add(item.requirement)
        self.ignored = []

    # -- uv

    def _uv_item(self, kind: FailureKind, line_no: int, text: str) -> Failure:
        """A failure from uv's `name==version` or `name @ URL`."""
        text = text.strip()
        name, at, url = text.partition(" @ ")
        item = self._item(kind, line_no, name if at else text, url.strip() if at else None)
        return replace(item, requirement=_read_requirement(text).text, tool="uv")

    def _uv_context(self, line_no: int, body: str) -> bool:
        """uv's failures outside a block: the start of a mismatch, or a one-line failure."""
        at = body.find(UV_MISMATCH)
        if at >= 0:
            text = body[at + len(UV_MISMATCH) :]
            end = text.rfind("`")
            if end > 0:
                self._end_uv()
                self.uv = _UvPending(self._uv_item(FailureKind.MISMATCH, line_no, text[:end]))
                return True
        for pattern, kind in (
            (UV_MISSING, FailureKind.MISSING),
            (UV_UNPINNED, FailureKind.UNPINNED),
        ):
            if "must have" in body and (match := pattern.search(body)):
                if not self._full():
                    self._add(self._uv_item(kind, line_no, match.group("req").strip("`")))
                return True
        return False

    def _uv_line(self, line_no: int, line: str) -> bool:
        """One line of uv's mismatch; False when it is not one (the block has ended)."""
        pending = self.uv
        assert pending is not None
        text = line.strip()
        if not text:
            return True
        if text == "Expected:":
            pending.section = pending.expected
            return True
        if text == "Computed:":
            pending.section = pending.computed
            return True
        match = _UV_HASH.fullmatch(text)
        if match and pending.section is not None:
            algorithm = match.group("algo")
            digest = _hex(
                algorithm, match.group("hex"), keep_case=pending.section is pending.expected
            )
            hashes = pending.section.setdefault(algorithm, [])
            if digest is not None and len(hashes) < MAX_HASHES:
                hashes.append(digest)
            elif algorithm in HASH_LENGTHS:
                self._unparsed(line_no, line)
            return True
        if help_match := _UV_HELP.search(text):
            pending.item = replace(pending.item, via=clean(help_match.group("via")))
            self._end_uv()
            return True
        return False

    def _end_uv(self) -> None:
        pending, self.uv = self.uv, None
        if pending is None:
            return
        groups = tuple(
            HashGroup(algorithm, tuple(expected), pending.computed[algorithm][0])
            for algorithm, expected in pending.expected.items()
            if expected and pending.computed.get(algorithm)
        )
        if not groups:
            self._unparsed(pending.item.log_line, pending.item.requirement)
            return
        self._add(replace(pending.item, groups=groups[:MAX_GROUPS]))

    # -- driver

    def _head(self, line: str) -> FailureKind | None:
        for text, kind in _HEADS:
            if text in line:
                return kind
        return None

    def _end_block(self) -> None:
        self._flush_pending()
        self.block = None

    def feed(self, line_no: int, line: str) -> None:
        if self.uv is not None:
            if self._uv_line(line_no, line):
                return
            self._end_uv()
        kind = self._head(line)
        if kind is not None:
            self._end_block()
            self.block = kind
            self.pipenv = self.pipenv or PIPENV_MISMATCH_HEAD in line
            return
        if self.block is None:
            if line:
                self._context_line(line_no, line)
            return
        if not line.strip():
            return
        if self.block is FailureKind.MISMATCH:
            if self._mismatch_line(line_no, line):
                return
        elif self._simple_item(self.block, line_no, line):
            return
        if line[:1].isspace():
            self._unparsed(line_no, line)
            return
        self._end_block()
        self._context_line(line_no, line)

    def result(self) -> ParsedLog:
        self._end_uv()
        self._end_block()
        return ParsedLog(
            name=self.name,
            failures=tuple(_dedupe(self.failures)),
            unparsed=tuple(self.unparsed),
            indexes=tuple(self.indexes),
            pip_version=self.pip_version,
            truncated=self.truncated,
        )


def _dedupe(failures: list[Failure]) -> list[Failure]:
    """The same failure printed twice (a log pasted twice, a retried step) is one failure."""
    seen: set[tuple[object, ...]] = set()
    out = []
    for failure in failures:
        key = (
            failure.kind,
            failure.project or failure.requirement,
            failure.version,
            failure.groups,
            failure.got,
            failure.requirements_file,
            failure.line,
        )
        if key not in seen:
            seen.add(key)
            out.append(failure)
    return out


def parse_log(text: str, name: str = "<stdin>") -> ParsedLog:
    """Every hash-checking failure pip reported in `text` (a whole log, as pasted)."""
    parser = _Parser(name)
    for line_no, line in enumerate(log_lines(text), start=1):
        parser.feed(line_no, line)
    return parser.result()
