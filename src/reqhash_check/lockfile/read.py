"""Read a PEP 751 lock file: validate it as pip does, and know the line of every part.

pip 26.x parses `pylock.toml` with `tomllib` and validates it with `packaging.pylock`; any
validation error makes the whole lock unusable ("Invalid pylock file"). The same happens
here, but each package is validated on its own as well, so that every broken package is
reported at its own line and the valid ones can still be checked.

Lines come from a style-preserving parse (tomlkit): each value whose line is wanted is
replaced by a unique marker in a copy of the document, the copy is rendered once, and the
markers are looked up. Values that span lines are left alone (their table's line is used).
"""

from __future__ import annotations

import re
import secrets
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import tomlkit
from packaging.markers import Marker
from packaging.pylock import (
    Package,
    PackageArchive,
    PackageSdist,
    PackageWheel,
    Pylock,
    PylockValidationError,
    is_valid_pylock_path,
)
from packaging.specifiers import SpecifierSet
from packaging.utils import InvalidSdistFilename, parse_sdist_filename, parse_wheel_filename
from tomlkit.exceptions import TOMLKitError

from reqhash_check import fs
from reqhash_check.config import toml_cap_message
from reqhash_check.findings import Location

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

__all__ = [
    "LockFile",
    "LockFileError",
    "LockProblem",
    "LockedFile",
    "LockedPackage",
    "MAX_LOCK_BYTES",
    "is_lock_path",
    "parse_lock",
    "read_lock",
]

MAX_LOCK_BYTES = 32 * 1024 * 1024
"""Larger than any real lock (a universal lock of a big data-science stack is ~1 MiB)."""
MAX_PACKAGES = 20_000
MAX_FILES_PER_PACKAGE = 2_000

_PACKAGE_HEADER = re.compile(r"^\s*\[\[\s*(?:packages|\"packages\"|'packages')\s*\]\]")
_ANY_HEADER = re.compile(r"^\s*\[")
_NESTED_HEADER = re.compile(r"^\s*\[\[?\s*(?:packages|\"packages\"|'packages')\s*\.")
_SUPPRESS = re.compile(r"#\s*reqhash:\s*ignore\[([a-z0-9,\s-]+)\]")
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


class LockFileError(Exception):
    """The file cannot be read at all (missing, unreadable, too large): a usage error."""


def is_lock_path(path: str) -> bool:
    """`pylock.toml` or `pylock.<name>.toml`, the names pip reads as lock files."""
    if path == "-":
        return False
    return is_valid_pylock_path(Path(path))


@dataclass(frozen=True)
class LockProblem:
    """Something pip refuses before it downloads anything: the whole lock fails."""

    location: Location
    rule: str
    message: str
    project: str | None = None


@dataclass(frozen=True)
class LockedFile:
    """One archive of a package: a wheel, the sdist, or a direct `archive`."""

    kind: str
    """"wheel", "sdist" or "archive"."""
    position: int
    """Its place in the package's `wheels` list; 0 for the sdist and the archive."""
    filename: str
    url: str | None
    path: str | None
    hashes: Mapping[str, str]
    """algorithm → digest, as written."""
    size: int | None
    upload_time: datetime | None
    location: Location
    """The entry's first line (its table header or inline table) to its last."""
    hash_lines: Mapping[str, int] = field(default_factory=dict)
    """algorithm → the line of that hash."""

    @property
    def hash_location(self) -> Location:
        lines = sorted(self.hash_lines.values())
        if not lines:
            return self.location
        return Location(self.location.path, lines[0], lines[-1])

    @property
    def is_wheel(self) -> bool:
        return self.filename.lower().endswith(".whl")


@dataclass(frozen=True)
class LockedPackage:
    """A valid `[[packages]]` entry."""

    position: int
    """Its index in `packages` (pip's messages say `packages[N]`)."""
    name: str
    version: str | None
    """As written, or from the file names when the lock leaves it out."""
    marker: Marker | None
    requires_python: SpecifierSet | None
    index: str | None
    wheels: tuple[LockedFile, ...]
    sdist: LockedFile | None
    archive: LockedFile | None
    direct: str | None
    """"vcs" or "directory" for entries that have no archive at all."""
    dependencies: tuple[str, ...]
    """Names in the package's `dependencies` list."""
    location: Location
    suppressed: frozenset[str] = frozenset()

    @property
    def files(self) -> tuple[LockedFile, ...]:
        extra = tuple(f for f in (self.sdist, self.archive) if f is not None)
        return self.wheels + extra


@dataclass
class LockFile:
    path: str
    data: bytes
    text: str | None
    packages: list[LockedPackage] = field(default_factory=list)
    problems: list[LockProblem] = field(default_factory=list)
    requires_python: SpecifierSet | None = None
    environments: tuple[Marker, ...] | None = None
    default_groups: tuple[str, ...] = ()
    package_names: frozenset[str] = frozenset()
    """Every package name in the lock, valid entries or not."""
    root_lines: dict[str, int] = field(default_factory=dict)
    """Line of top-level keys such as `requires-python` and `environments`."""
    editable: bool = False
    """tomlkit could read it, so --fix can edit it in place."""

    @property
    def valid(self) -> bool:
        """pip would accept the file as a lock at all."""
        return not self.problems

    def at(self, line: int, end_line: int | None = None) -> Location:
        return Location(self.path, line, end_line if end_line is not None else line)


def read_lock(path: str, *, allow_outside: bool = False) -> LockFile:
    """Read and parse a lock file, through the confined file layer under its repository;
    raises LockFileError when it cannot be read at all."""
    root = fs.Root.at(fs.repository_root(path), allow_outside=allow_outside)
    try:
        data = fs.read_bytes(root, path, MAX_LOCK_BYTES)
    except fs.Refused as refused:
        if refused.reason == "does not exist":
            raise LockFileError(f"{path}: no such file") from None
        if refused.reason in ("is a directory", "is not a regular file"):
            raise LockFileError(f"{path}: not a regular file") from None
        if refused.confinement:
            raise LockFileError(f"{path}: resolves {refused.reason}; not read") from None
        raise LockFileError(f"{path}: {refused.reason}") from None
    if len(data) > MAX_LOCK_BYTES:
        raise LockFileError(
            f"{path}: more than a lock file can be ({MAX_LOCK_BYTES // (1024 * 1024)} MiB); "
            "not read"
        )
    return parse_lock(path, data)


def parse_lock(path: str, data: bytes) -> LockFile:
    """Parse the bytes of a lock; every problem becomes a LockProblem, never an exception."""
    lock = LockFile(path=path, data=data, text=None)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        lock.problems.append(
            LockProblem(lock.at(line), "parse-error", "not UTF-8: pip cannot read the lock file")
        )
        return lock
    lock.text = text
    try:
        raw = tomllib.loads(text)
    except RecursionError:
        lock.problems.append(
            LockProblem(lock.at(1), "parse-error", "nested too deeply to read; not checked")
        )
        return lock
    except tomllib.TOMLDecodeError as error:
        match = _TOML_POSITION.search(str(error))
        line = int(match.group(1)) if match else 1
        lock.problems.append(
            LockProblem(
                lock.at(line),
                "parse-error",
                f"not valid TOML ({_one_line(str(error))}); pip fails with 'Invalid pylock "
                "file' before downloading anything",
            )
        )
        return lock
    except ValueError as error:  # past a cap of Python's own, not a TOML error
        # pip reads the lock with the same reader and fails on any error it raises.
        digits = re.search(r"[0-9_]{1000,}", text)
        line = text.count("\n", 0, digits.start()) + 1 if digits else 1
        lock.problems.append(
            LockProblem(
                lock.at(line),
                "parse-error",
                f"{toml_cap_message(error)}; pip fails with 'Invalid pylock file' before "
                "downloading anything",
            )
        )
        return lock
    lines = _LineMap.build(text, raw)
    lock.editable = lines.editable
    lock.root_lines = lines.root
    _validate(lock, raw, lines)
    return lock


# --------------------------------------------------------------------------- validation


def _validate(lock: LockFile, raw: dict[str, Any], lines: _LineMap) -> None:
    packages_raw = raw.get("packages")
    top = {k: v for k, v in raw.items() if k != "packages"}
    try:
        root = Pylock.from_dict({**top, "packages": []})
    except PylockValidationError as error:
        line = lines.root.get((error.context or "").split(".")[0].split("[")[0], 1)
        lock.problems.append(_invalid(lock.at(line), error))
        root = None
    except Exception as error:  # packaging may raise other errors on hostile values
        lock.problems.append(_invalid(lock.at(1), error))
        root = None
    if root is not None:
        lock.requires_python = root.requires_python
        lock.environments = tuple(root.environments) if root.environments else None
        lock.default_groups = tuple(root.default_groups or ())
    if not isinstance(packages_raw, list):
        what = "missing" if packages_raw is None else "not an array of tables"
        lock.problems.append(
            LockProblem(
                lock.at(lines.root.get("packages", 1)),
                "parse-error",
                f"'packages' is {what}; pip fails with 'Invalid pylock file'",
            )
        )
        return
    if len(packages_raw) > MAX_PACKAGES:
        lock.problems.append(
            LockProblem(
                lock.at(1), "parse-error", f"more than {MAX_PACKAGES} packages; not checked"
            )
        )
        return
    names: set[str] = set()
    for position, package_raw in enumerate(packages_raw):
        location = lines.package_location(lock.path, position)
        if isinstance(package_raw, dict) and isinstance(package_raw.get("name"), str):
            names.add(package_raw["name"])
        problem = _validate_package(lock, position, package_raw, location, lines)
        if problem is not None:
            lock.problems.append(problem)
            continue
        package = Pylock.from_dict(
            {"lock-version": "1.0", "created-by": "-", "packages": [package_raw]}
        ).packages[0]
        lock.packages.append(_locked_package(lock, position, package, location, lines))
    lock.package_names = frozenset(names)


def _validate_package(
    lock: LockFile, position: int, package_raw: Any, location: Location, lines: _LineMap
) -> LockProblem | None:
    name = package_raw.get("name") if isinstance(package_raw, dict) else None
    project = name if isinstance(name, str) else None
    if isinstance(package_raw, dict):
        too_many = [
            key
            for key in ("wheels", "dependencies")
            if isinstance(package_raw.get(key), list)
            and len(package_raw[key]) > MAX_FILES_PER_PACKAGE
        ]
        if too_many:
            return LockProblem(
                location,
                "parse-error",
                f"packages[{position}].{too_many[0]} has more than {MAX_FILES_PER_PACKAGE} "
                "entries; not checked",
                project,
            )
    try:
        Pylock.from_dict({"lock-version": "1.0", "created-by": "-", "packages": [package_raw]})
    except PylockValidationError as error:
        context = (error.context or "").replace("packages[0]", f"packages[{position}]", 1)
        where = lines.context_location(lock.path, context) or location
        if error.message in ("At least one hash must be provided", "Missing required value") and (
            context.endswith(".hashes")
        ):
            return LockProblem(
                where,
                "missing-hash",
                f"{context} has no hashes; pip refuses the whole lock before downloading "
                f"anything ('Invalid pylock file': At least one hash must be provided in "
                f"{context!r})",
                project,
            )
        return LockProblem(where, "parse-error", _invalid_message(error, context), project)
    except Exception as error:
        return LockProblem(location, "parse-error", _invalid_message(error, None), project)
    return None


def _invalid(location: Location, error: Exception) -> LockProblem:
    return LockProblem(location, "parse-error", _invalid_message(error, None))


def _invalid_message(error: Exception, context: str | None) -> str:
    if isinstance(error, PylockValidationError):
        detail = error.message + (f" in {context!r}" if context else "")
    else:
        detail = str(error)
    return f"{_one_line(detail)}; pip fails with 'Invalid pylock file' before downloading anything"


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:297] + "..."


def _locked_package(
    lock: LockFile, position: int, package: Package, location: Location, lines: _LineMap
) -> LockedPackage:
    prefix = f"packages[{position}]"
    wheels = tuple(
        _locked_file(lock, "wheel", i, wheel, f"{prefix}.wheels[{i}]", lines)
        for i, wheel in enumerate(package.wheels or ())
    )
    sdist = (
        _locked_file(lock, "sdist", 0, package.sdist, f"{prefix}.sdist", lines)
        if package.sdist is not None
        else None
    )
    archive = (
        _locked_file(lock, "archive", 0, package.archive, f"{prefix}.archive", lines)
        if package.archive is not None
        else None
    )
    version = str(package.version) if package.version is not None else None
    if version is None:
        version = _version_from_files(wheels, sdist)
    direct = "vcs" if package.vcs is not None else "directory" if package.directory else None
    dependencies = tuple(
        str(d["name"]) for d in package.dependencies or () if isinstance(d.get("name"), str)
    )
    return LockedPackage(
        position=position,
        name=str(package.name),
        version=version,
        marker=package.marker,
        requires_python=package.requires_python,
        index=package.index,
        wheels=wheels,
        sdist=sdist,
        archive=archive,
        direct=direct,
        dependencies=dependencies,
        location=location,
        suppressed=lines.suppressed(location),
    )


def _version_from_files(wheels: Sequence[LockedFile], sdist: LockedFile | None) -> str | None:
    # Validation has parsed every file name already; this only takes the version from one.
    try:
        if wheels:
            return str(parse_wheel_filename(wheels[0].filename)[1])
        if sdist is not None:
            return str(parse_sdist_filename(sdist.filename)[1])
    except (InvalidSdistFilename, ValueError):
        return None
    return None


def _locked_file(
    lock: LockFile,
    kind: str,
    position: int,
    entry: PackageWheel | PackageSdist | PackageArchive,
    context: str,
    lines: _LineMap,
) -> LockedFile:
    if isinstance(entry, PackageArchive):
        source = entry.url or entry.path or ""
        filename = source.rstrip("/").rsplit("/", 1)[-1]
    else:
        filename = entry.filename
    location = lines.context_location(lock.path, context) or lines.package_location(
        lock.path, int(context.split("[", 1)[1].split("]", 1)[0])
    )
    hash_lines = {
        algorithm: line
        for algorithm in entry.hashes
        if (line := lines.value_line(f"{context}.hashes.{algorithm}")) is not None
    }
    return LockedFile(
        kind=kind,
        position=position,
        filename=filename,
        url=entry.url,
        path=entry.path,
        hashes=dict(entry.hashes),
        size=entry.size,
        upload_time=entry.upload_time,
        location=location,
        hash_lines=hash_lines,
    )


# --------------------------------------------------------------------------- lines


@dataclass
class _LineMap:
    """Where each part of the lock is: context path (`packages[1].wheels[0]`) → lines."""

    text_lines: list[str]
    values: dict[str, int] = field(default_factory=dict)
    """Dotted context → the line of that single-line value."""
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Context of a table → its first and last line."""
    root: dict[str, int] = field(default_factory=dict)
    packages: list[tuple[int, int]] = field(default_factory=list)
    editable: bool = False

    @classmethod
    def build(cls, text: str, raw: dict[str, Any]) -> _LineMap:
        text_lines = text.splitlines()
        lines = cls(text_lines)
        for key in raw:
            found = _find_root_key(text_lines, key)
            if found:
                lines.root[key] = found
        try:
            document = tomlkit.parse(text)
        except (TOMLKitError, ValueError, RecursionError):
            lines._packages_from_headers(raw)
            return lines
        lines.editable = document.as_string() == text
        lines._mark(document)
        return lines

    # The marker approach: replace values by unique tokens in the parsed copy, render once.
    def _mark(self, document: Any) -> None:
        token = secrets.token_hex(6)
        wanted: dict[str, str] = {}

        def mark(container: Any, key: str, context: str) -> None:
            try:
                item = container[key]
            except (KeyError, TypeError, IndexError):
                return
            if not isinstance(item, str) or "\n" in item.as_string():  # type: ignore[attr-defined]
                return
            marker = f"@{token}:{len(wanted)}@"
            wanted[marker] = context
            try:
                container[key] = tomlkit.string(marker)
            except (TOMLKitError, ValueError, TypeError):
                del wanted[marker]

        packages = document.get("packages")
        package_list = list(packages) if isinstance(packages, list) else []
        for p, package in enumerate(package_list):
            if not isinstance(package, dict):
                continue
            prefix = f"packages[{p}]"
            mark(package, "name", f"{prefix}.name")
            for key in ("version", "marker", "requires-python"):
                mark(package, key, f"{prefix}.{key}")
            entries: list[tuple[str, Any]] = []
            wheels = package.get("wheels")
            if isinstance(wheels, list):
                entries += [(f"{prefix}.wheels[{w}]", wheel) for w, wheel in enumerate(wheels)]
            for key in ("sdist", "archive", "vcs", "directory"):
                if isinstance(package.get(key), dict):
                    entries.append((f"{prefix}.{key}", package[key]))
            for context, entry in entries:
                if not isinstance(entry, dict):
                    continue
                for key in ("name", "url", "path"):
                    mark(entry, key, f"{context}.{key}")
                hashes = entry.get("hashes")
                if isinstance(hashes, dict):
                    for algorithm in list(hashes):
                        mark(hashes, algorithm, f"{context}.hashes.{algorithm}")
        rendered = document.as_string().splitlines()
        if len(rendered) != len(self.text_lines):
            return  # a value changed the line count after all: keep what the headers tell
        pattern = re.compile(rf"@{token}:(\d+)@")
        names = list(wanted.values())
        for number, line in enumerate(rendered, 1):
            for found in pattern.finditer(line):
                self.values[names[int(found.group(1))]] = number
        self._packages_from_marks(len(package_list))
        self._entry_spans()

    def _packages_from_marks(self, count: int) -> None:
        previous_end = 0
        starts: list[int] = []
        for p in range(count):
            first = min(
                (line for context, line in self.values.items() if _under(context, p)),
                default=None,
            )
            if first is None:
                starts.append(previous_end + 1)
                continue
            start = first
            for number in range(first, previous_end, -1):
                if _PACKAGE_HEADER.match(self.text_lines[number - 1]):
                    start = number
                    break
            starts.append(start)
            previous_end = first
        self.packages = self._with_ends(starts)

    def _packages_from_headers(self, raw: dict[str, Any]) -> None:
        starts = [i for i, line in enumerate(self.text_lines, 1) if _PACKAGE_HEADER.match(line)]
        count = len(raw.get("packages") or []) if isinstance(raw.get("packages"), list) else 0
        if len(starts) != count:
            fallback = self.root.get("packages", 1)
            self.packages = [(fallback, fallback)] * count
            return
        self.packages = self._with_ends(starts)

    def _with_ends(self, starts: list[int]) -> list[tuple[int, int]]:
        spans = []
        for i, start in enumerate(starts):
            limit = starts[i + 1] - 1 if i + 1 < len(starts) else len(self.text_lines)
            end = start
            for number in range(start + 1, limit + 1):
                line = self.text_lines[number - 1]
                if _ANY_HEADER.match(line) and not _NESTED_HEADER.match(line):
                    break  # a table that is not part of the package
                if line.strip() and not line.lstrip().startswith("#"):
                    end = number
            spans.append((start, max(start, end)))
        return spans

    def _entry_spans(self) -> None:
        """A file entry spans from its first to its last marked line (one line if inline)."""
        grouped: dict[str, list[int]] = {}
        for context, line in self.values.items():
            match = re.match(
                r"(packages\[\d+\]\.(?:wheels\[\d+\]|sdist|archive|vcs|directory))", context
            )
            if match:
                grouped.setdefault(match.group(1), []).append(line)
        for context, found in grouped.items():
            first, last = min(found), max(found)
            # A table entry starts at its own header line, just above its first key.
            for number in range(first, max(0, first - 3), -1):
                if _NESTED_HEADER.match(self.text_lines[number - 1]):
                    first = number
                    break
            self.spans[context] = (first, last)

    # --- queries ------------------------------------------------------------------------

    def package_location(self, path: str, position: int) -> Location:
        if 0 <= position < len(self.packages):
            start, end = self.packages[position]
            return Location(path, start, end)
        line = self.root.get("packages", 1)
        return Location(path, line, line)

    def context_location(self, path: str, context: str) -> Location | None:
        """The most precise place for a context such as `packages[2].wheels[0].hashes`."""
        parts = context
        while parts:
            if parts in self.spans:
                start, end = self.spans[parts]
                return Location(path, start, end)
            if parts in self.values:
                line = self.values[parts]
                return Location(path, line, line)
            candidates = [line for c, line in self.values.items() if c.startswith(parts + ".")]
            if candidates:
                return Location(path, min(candidates), max(candidates))
            match = re.match(r"packages\[(\d+)\]$", parts)
            if match:
                return self.package_location(path, int(match.group(1)))
            parts = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", parts)
            if parts == context:
                break
        return None

    def value_line(self, context: str) -> int | None:
        return self.values.get(context)

    def suppressed(self, location: Location) -> frozenset[str]:
        rules: set[str] = set()
        for number in range(location.line, location.end_line + 1):
            if 1 <= number <= len(self.text_lines):
                for match in _SUPPRESS.finditer(self.text_lines[number - 1]):
                    rules.update(r.strip() for r in match.group(1).split(",") if r.strip())
        return frozenset(rules)


def _under(context: str, position: int) -> bool:
    return context.startswith(f"packages[{position}].")


def _find_root_key(lines: list[str], key: str) -> int | None:
    pattern = re.compile(rf"^\s*(?:{re.escape(key)}|\"{re.escape(key)}\"|'{re.escape(key)}')\s*=")
    header = re.compile(rf"^\s*\[\[?\s*{re.escape(key)}\s*[\].]")
    for number, line in enumerate(lines, 1):
        if _ANY_HEADER.match(line) and not header.match(line):
            if key != "packages":
                return None  # top-level keys come before the first table
            continue
        if pattern.match(line) or header.match(line):
            return number
    return None
