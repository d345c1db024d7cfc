"""Requirements files → RequirementEntry, following -r/-c includes as pip does."""

from __future__ import annotations

import codecs
import enum
import locale
import os
import re
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from pip_requirements_parser import (  # type: ignore[import-untyped]
    CommentRequirementLine,
    IncorrectRequirementLine,
    InvalidRequirementLine,
    OptionLine,
    RequirementsFile,
)

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


class RequirementsFileError(Exception):
    """A top-level input that cannot be read at all (exit code 2). One clear line."""


@dataclass(frozen=True)
class ParseProblem:
    """A line pip would refuse, or an include pip could not follow."""

    rule: str  # "parse-error" or "include-error"
    location: Location
    message: str
    suppressed: frozenset[str] = frozenset()


# pip expands only this form, and only from the environment (pip's expand_env_variables).
_ENV_VAR_RE = re.compile(r"(?P<var>\$\{(?P<name>[A-Z0-9_]+)\})")
# pip's COMMENT_RE: a comment starts at a '#' at the line start or after whitespace.
_COMMENT_RE = re.compile(r"(^|\s+)#.*$")
_SUPPRESS_RE = re.compile(r"#\s*reqhash:\s*ignore\[([^\]]*)\]")
_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
_ARCHIVE_SUFFIXES = (
    ".whl",
    ".tar.gz",
    ".tgz",
    ".tar.bz2",
    ".tbz",
    ".tar.xz",
    ".txz",
    ".zip",
    ".tar",
)


def read_text(data: bytes, path: str) -> str:
    """Decode a requirements file as pip does: BOM, then a PEP 263 coding line, then UTF-8."""
    if b"\x00" in data and not data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise RequirementsFileError(f"{path}: not a text file (it contains NUL bytes)")
    try:
        return auto_decode(data)
    except (UnicodeDecodeError, LookupError) as exc:
        raise RequirementsFileError(f"{path}: cannot decode the file: {exc}") from None


def auto_decode(data: bytes) -> str:
    return decode_requirements(data)[0]


# UTF-32 before UTF-16: BOM_UTF16_LE is a prefix of BOM_UTF32_LE.
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_PEP263_RE = re.compile(rb"coding[:=]\s*([-\w.]+)")


def decode_requirements(data: bytes) -> tuple[str, str, bytes]:
    """Decode a requirements file as pip does: returns (text, encoding, bom).

    A byte-order mark wins; then a `# … coding: X` comment on one of the first two lines;
    then UTF-8, falling back to the locale's encoding. The BOM is not part of the text.
    Raises UnicodeDecodeError, or LookupError for an unknown declared encoding.
    """
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(encoding), encoding, bom
    for line in data.split(b"\n")[:2]:
        declared = _PEP263_RE.search(line) if line[:1] == b"#" else None
        if declared is not None:
            encoding = declared.group(1).decode("ascii")
            return data.decode(encoding), encoding, b""
    try:
        return data.decode("utf-8"), "utf-8", b""
    except UnicodeDecodeError:
        fallback = locale.getpreferredencoding(False) or sys.getdefaultencoding()
        return data.decode(fallback), fallback, b""


def expand_env_vars(text: str, environ: Mapping[str, str]) -> str:
    """`${NAME}` → its value when set; left as written otherwise (as pip does)."""
    return _ENV_VAR_RE.sub(lambda m: environ.get(m.group("name"), m.group("var")), text)


def entry_end(lines: Sequence[str], start: int) -> int:
    """0-based index of the last physical line of the logical line starting at `start`.

    pip's join_lines: a line ending in a backslash continues, unless it is a comment.
    """
    index = start
    while index < len(lines) - 1:
        line = lines[index]
        if not line.endswith("\\") or _COMMENT_RE.match(line):
            break
        index += 1
    return index


def suppressions(raw: str) -> frozenset[str]:
    found: set[str] = set()
    for match in _SUPPRESS_RE.finditer(raw):
        found.update(item.strip() for item in match.group(1).split(",") if item.strip())
    return frozenset(found)


def _pin(specifier: SpecifierSet) -> str | None:
    specs = list(specifier)
    if len(specs) != 1:
        return None
    spec = specs[0]
    if spec.operator == "===" or (spec.operator == "==" and not spec.version.endswith(".*")):
        return spec.version
    return None


def _kind(req: Any) -> tuple[Kind, str | None]:
    if req.is_editable:
        return Kind.EDITABLE, str(req.link.url) if req.link else None
    if req.link is None:
        return Kind.NAMED, None
    url = str(req.link.url)
    if url.startswith(_VCS_PREFIXES):
        return Kind.VCS, url
    if url.startswith("file:") or "://" not in url:
        local = url[len("file://") :] if url.startswith("file://") else url
        if local.lower().endswith(_ARCHIVE_SUFFIXES):
            return Kind.LOCAL_FILE, url
        return Kind.LOCAL_DIR, url
    return Kind.URL, url


def _hashes(options: Sequence[str]) -> tuple[HashSpec, ...]:
    specs = []
    for option in options:
        algorithm, _, digest = option.partition(":")
        specs.append(HashSpec(algorithm.strip(), digest.strip()))
    return tuple(specs)


_OPTION_NAMES = {
    "index_url": "index_url",
    "extra_index_urls": "extra_index_url",
    "extra_index_url": "extra_index_url",
    "require_hashes": "require_hashes",
    "only_binary": "only_binary",
    "no_binary": "no_binary",
    "prefer_binary": "prefer_binary",
    "trusted_hosts": "trusted_host",
    "trusted_host": "trusted_host",
    "find_links": "find_links",
    "no_index": "no_index",
    "pre": "pre",
}


class _Loader:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ

    def load(self, path: str, text: str | None = None) -> tuple[RequirementSet, list[ParseProblem]]:
        """Load a top-level file (or `-` with its text given) and everything it includes."""
        req_set = RequirementSet(top_level=path)
        problems: list[ParseProblem] = []
        if text is None:
            text = self._read_top_level(path)
        self._load_file(path, text, req_set, problems, stack=(), is_constraint=False)
        return req_set, problems

    def _read_top_level(self, path: str) -> str:
        if os.path.isdir(path):
            raise RequirementsFileError(f"{path}: is a directory, not a requirements file")
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except FileNotFoundError:
            raise RequirementsFileError(f"{path}: no such file") from None
        except OSError as exc:
            raise RequirementsFileError(f"{path}: cannot read: {exc.strerror}") from None
        return read_text(data, path)

    def _load_file(
        self,
        path: str,
        text: str,
        req_set: RequirementSet,
        problems: list[ParseProblem],
        stack: tuple[str, ...],
        is_constraint: bool,
    ) -> None:
        req_set.files.append(path)
        physical = text.splitlines(keepends=True)
        bare = [line.rstrip("\r\n") for line in physical]
        for parsed in _parse_lines(expand_env_vars(text, self.environ)):
            if isinstance(parsed, CommentRequirementLine):
                continue
            start = parsed.requirement_line.line_number - 1
            end = entry_end(bare, start) if start < len(bare) else start
            raw = "".join(physical[start : end + 1])
            location = Location(path, start + 1, end + 1)
            suppressed = suppressions(raw)
            if isinstance(parsed, (InvalidRequirementLine, IncorrectRequirementLine)):
                message = _clean_error(str(parsed.error_message))
                problems.append(ParseProblem("parse-error", location, message, suppressed))
                continue
            if isinstance(parsed, OptionLine):
                self._option_line(parsed, location, req_set, problems, stack, is_constraint)
                continue
            req_set.entries.append(_entry(parsed, location, raw, suppressed, is_constraint))

    def _option_line(
        self,
        parsed: OptionLine,
        location: Location,
        req_set: RequirementSet,
        problems: list[ParseProblem],
        stack: tuple[str, ...],
        is_constraint: bool,
    ) -> None:
        for key, value in parsed.options.items():
            if key in ("requirements", "constraints"):
                for target in value:
                    self._include(target, location, req_set, problems, stack, key == "constraints")
                continue
            name = _OPTION_NAMES.get(key)
            if name is None:
                continue
            values = value if isinstance(value, list) else [value]
            req_set.options.extend(FileOption(name, item, location) for item in values)

    def _include(
        self,
        target: str,
        location: Location,
        req_set: RequirementSet,
        problems: list[ParseProblem],
        stack: tuple[str, ...],
        is_constraint: bool,
    ) -> None:
        including = location.path
        if "://" in target:
            problems.append(
                ParseProblem("include-error", location, f"remote include {target} is not followed")
            )
            return
        base = os.path.dirname(including) if including != "-" else os.getcwd()
        path = os.path.normpath(os.path.join(base, target))
        here = (*stack, os.path.realpath(including) if including != "-" else "-")
        if os.path.realpath(path) in here:
            chain = " -> ".join([*(os.path.basename(p) for p in here), os.path.basename(path)])
            problems.append(ParseProblem("include-error", location, f"include cycle: {chain}"))
            return
        try:
            if os.path.isdir(path):
                raise RequirementsFileError(f"{path}: is a directory")
            with open(path, "rb") as handle:
                text = read_text(handle.read(), path)
        except FileNotFoundError:
            problems.append(
                ParseProblem("include-error", location, f"included file {path} does not exist")
            )
            return
        except (OSError, RequirementsFileError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            problems.append(
                ParseProblem("include-error", location, f"cannot read included {path}: {reason}")
            )
            return
        self._load_file(path, text, req_set, problems, here, is_constraint)


def _clean_error(text: str) -> str:
    text = " ".join(text.split())
    text = re.sub(r"^pip_requirements_parser: error: ", "", text)
    text = text.replace("Invalid requirement: : ", "Invalid requirement: ")
    return f"pip cannot parse this line: {text}"


def _entry(
    parsed: Any, location: Location, raw: str, suppressed: frozenset[str], is_constraint: bool
) -> RequirementEntry:
    kind, url = _kind(parsed)
    name = str(parsed.name or "")
    specifier = parsed.specifier if parsed.specifier is not None else SpecifierSet()
    return RequirementEntry(
        name=canonicalize_name(name) if name else "",
        raw_name=name,
        kind=kind,
        specifier=str(specifier),
        pin=_pin(specifier) if kind is Kind.NAMED else None,
        extras=tuple(sorted(parsed.extras or ())),
        marker=str(parsed.marker) if parsed.marker else None,
        hashes=_hashes(parsed.hash_options or ()),
        location=location,
        raw=raw,
        is_constraint=is_constraint or bool(parsed.is_constraint),
        url=url,
        suppressed=suppressed,
    )


# pip accepts `--config-settings`/`-C` on a requirement line (pip 23.1+); the parser does
# not know it. It says nothing about hashes, so it is blanked out, keeping every column.
_CONFIG_SETTINGS_RE = re.compile(
    r"(?<!\S)(?:--config-settings|-C)(?:=|[ \t]+)(?:\"[^\"\n]*\"|'[^'\n]*'|[^\s\\]+)"
)


def _parse_lines(text: str) -> list[Any]:
    """Run pip-requirements-parser on already-decoded text, one file, no includes."""
    text = _CONFIG_SETTINGS_RE.sub(lambda m: " " * len(m.group(0)), text)
    with tempfile.TemporaryDirectory(prefix="reqhash-check-") as folder:
        copy = os.path.join(folder, "requirements.txt")
        # A BOM makes the parser decode UTF-8 whatever the machine's locale is.
        with open(copy, "w", encoding="utf-8-sig") as handle:
            handle.write(text)
        return list(RequirementsFile.parse(copy, include_nested=False))


def load(
    path: str, *, text: str | None = None, environ: Mapping[str, str] | None = None
) -> tuple[RequirementSet, list[ParseProblem]]:
    """Parse one top-level requirements file and its includes.

    Raises RequirementsFileError when the top-level file itself cannot be read.
    """
    return _Loader(os.environ if environ is None else environ).load(path, text)
