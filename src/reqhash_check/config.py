"""`[tool.reqhash-check]` from the nearest pyproject.toml; the command line wins over it.

That table belongs to the checked tree, which strangers write (a pull request edits it
as easily as a requirements file). Its values are used as pip would use them, but it is
trusted for nothing: every index and find-links location carries its `Origin`, and only
the command line, the environment and pip's own configuration decide which hosts may
receive expanded values or credentials, which hosts are allowed, and which places on this
machine may be read. Trust options (`--allow-index`, `--allow-outside-includes`,
`--find-links`, `--no-index`) are not keys of the table at all.
"""

from __future__ import annotations

import enum
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reqhash_check import fs
from reqhash_check.findings import Location
from reqhash_check.pipconfig import PipLocations
from reqhash_check.urls import local_path, redact_url, url_host


class ConfigError(Exception):
    """The configuration table is unreadable or holds unknown keys or wrong types."""


# key → (type description, validator)
_LIST_OF_STR = "a list of strings"
KEYS: dict[str, str] = {
    "python-version": _LIST_OF_STR,
    "platform": _LIST_OF_STR,
    "implementation": "a string",
    "abi": _LIST_OF_STR,
    "target": _LIST_OF_STR,
    "select": _LIST_OF_STR,
    "ignore": _LIST_OF_STR,
    "index-url": "a string",
    "extra-index-url": _LIST_OF_STR,
    "strict": "a boolean",
    "require-hashes": "a boolean",
    "pip-version": "a string",
    "only-binary": _LIST_OF_STR,
    "no-binary": _LIST_OF_STR,
    "prefer-binary": "a boolean",
    "timeout": "a number",
    "concurrency": "an integer",
}


def toml_cap_message(error: ValueError | None) -> str:
    """What is wrong with a TOML file that Python's reader (pip's too) stops on past one of
    its caps rather than with a TOML error: nesting deeper than its recursion limit (`None`),
    or an integer longer than Python converts. The error's own text is not shown."""
    if error is None:
        return "nested too deeply for Python's TOML reader (the one pip uses)"
    if "integer string conversion" in str(error):
        limit = getattr(sys, "get_int_max_str_digits", lambda: 4300)()
        return (
            f"holds an integer of more than {limit} digits, the most Python's TOML reader "
            "(the one pip uses) converts"
        )
    return "holds a value Python's TOML reader (the one pip uses) cannot convert"


LOCATION_KEYS = ("index-url", "extra-index-url")
"""Keys that send pip somewhere: read only through `configured_indexes`, with their origin."""


class Origin(str, enum.Enum):
    """Where a value came from. Only the checked tree is untrusted."""

    COMMAND_LINE = "the command line"
    ENVIRONMENT = "the environment"
    PIP_CONFIG = "pip's configuration"
    DEFAULT = "the default"
    CHECKED_TREE = "the checked tree"

    @property
    def trusted(self) -> bool:
        return self is not Origin.CHECKED_TREE


@dataclass(frozen=True)
class Sourced:
    """An index URL or find-links location, with where it came from."""

    value: str
    origin: Origin
    path: str | None = None
    """The file it was read from (the checked tree's pyproject.toml), for locations."""
    line: int = 1

    @property
    def location(self) -> Location:
        return Location(self.path or "pyproject.toml", self.line, self.line)


@dataclass(frozen=True)
class FileConfig:
    """The `[tool.reqhash-check]` table read, and the file it comes from."""

    path: Path | None
    values: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)
    """Key → the line of the pyproject.toml it is written on (1 when not found)."""

    def get(self, key: str, default: Any = None) -> Any:
        """A value that may come from the checked tree; never a location (see
        `configured_indexes`)."""
        if key in LOCATION_KEYS:
            raise KeyError(f"{key} is read with its origin, through configured_indexes")
        return self.values.get(key, default)

    def sourced(self, key: str) -> tuple[Sourced, ...]:
        """The locations a key names, each marked as coming from the checked tree."""
        value = self.values.get(key)
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        where = _shown_path(self.path) if self.path is not None else None
        line = self.lines.get(key, 1)
        return tuple(Sourced(str(v), Origin.CHECKED_TREE, where, line) for v in items if v)


@dataclass(frozen=True)
class ConfiguredIndexes:
    """Where pip looks before any requirements file's own options, each with its origin."""

    urls: tuple[Sourced, ...]
    """Primary first, then the extra indexes, each once."""
    find_links: tuple[Sourced, ...] = ()
    no_index: bool = False

    @property
    def every(self) -> tuple[Sourced, ...]:
        return (*self.urls, *self.find_links)

    @property
    def trusted(self) -> tuple[str, ...]:
        """The locations named by the command line, the environment, pip's configuration
        or the default: the only ones whose hosts may receive expanded values."""
        return tuple(s.value for s in self.every if s.origin.trusted)


def configured_indexes(
    *,
    command_line_index: str | None,
    command_line_extras: tuple[str, ...],
    command_line_find_links: tuple[str, ...],
    command_line_no_index: bool,
    tree: FileConfig,
    pip: PipLocations,
    default_index: str,
) -> ConfiguredIndexes:
    """The indexes in pip's order: pip's configuration and PIP_* variables, then the
    command line (its --index-url replaces, the rest adds), with the checked tree's
    `index-url` between the two and its `extra-index-url` after them."""
    pip_origin = {
        key: Origin.ENVIRONMENT if key in pip.from_environment else Origin.PIP_CONFIG
        for key in ("index-url", "extra-index-url", "find-links")
    }
    tree_primary = tree.sourced("index-url")
    if command_line_index:
        primary = Sourced(command_line_index, Origin.COMMAND_LINE)
    elif tree_primary:
        primary = tree_primary[0]
    elif pip.index_url:
        primary = Sourced(pip.index_url, pip_origin["index-url"])
    else:
        primary = Sourced(default_index, Origin.DEFAULT)
    extras = [
        *(Sourced(u, pip_origin["extra-index-url"]) for u in pip.extra_index_urls),
        *(Sourced(u, Origin.COMMAND_LINE) for u in command_line_extras),
        *tree.sourced("extra-index-url"),
    ]
    urls: dict[str, Sourced] = {primary.value: primary}
    for extra in extras:
        urls.setdefault(extra.value, extra)  # the first, most trusted, origin stands
    find_links: dict[str, Sourced] = {}
    for link in (
        *(Sourced(u, pip_origin["find-links"]) for u in pip.find_links),
        *(Sourced(u, Origin.COMMAND_LINE) for u in command_line_find_links),
    ):
        find_links.setdefault(link.value, link)
    return ConfiguredIndexes(
        tuple(urls.values()),
        tuple(find_links.values()),
        command_line_no_index or bool(pip.no_index),
    )


MAX_CONFIG_BYTES = 10 * 1024 * 1024


def find_pyproject(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if os.path.lexists(candidate):
            return candidate
    return None


def refusal(
    value: str,
    written: str,
    trusted_hosts: set[str],
    origin: Location | None,
    *,
    allow_index: frozenset[str] | None,
    allow_outside: bool,
) -> str | None:
    """Why a location an untrusted source names (a requirements file, the checked tree's
    configuration) is not contacted or read, or None when it may be."""
    host = url_host(value)
    if written != value and host not in trusted_hosts:
        return (
            "uses an environment variable and its host is not named on the command line or "
            "in pip's configuration; it was not contacted (allow it with --allow-index HOST)"
        )
    if host and allow_index is not None and host not in allow_index:
        return "is not in --allow-index; it was not contacted"
    path = local_path(value)
    if path is not None and "\x00" in str(path):
        return "names a path holding a NUL character, which no file name can hold; it was not read"
    if path is not None and origin is not None and not allow_outside:
        root = fs.Root.at(fs.repository_root(origin.path if origin.path != "-" else "-"))
        if fs.kind(root, path) == "refused":
            return (
                "is a location outside the repository; it was not read "
                "(--allow-outside-includes allows it)"
            )
    return None


def tree_refusals(
    configured: ConfiguredIndexes, *, allow_index: frozenset[str] | None, allow_outside: bool
) -> dict[str, str]:
    """Location → why it is not used, for each the checked tree's configuration names."""
    trusted_hosts = {url_host(u) for u in configured.trusted if url_host(u)}
    trusted_hosts |= set(allow_index or ())
    refused: dict[str, str] = {}
    for source in configured.every:
        if source.origin.trusted:
            continue
        location = source.location
        reason = refusal(
            source.value,
            source.value,
            trusted_hosts,
            location,
            allow_index=allow_index,
            allow_outside=allow_outside,
        )
        if reason:
            refused[source.value] = (
                f"{redact_url(source.value)} ({location.path}:{location.line}) {reason}"
            )
    return refused


def load_config(start: Path) -> FileConfig:
    """The table of the nearest pyproject.toml, read through the confined file layer under
    its repository (a symlink out of it, a FIFO or a device is not read)."""
    path = find_pyproject(start.resolve())
    if path is None:
        return FileConfig(None, {})
    root = fs.Root.at(fs.repository_root(path, str(start)))
    try:
        data = fs.read_bytes(root, path, MAX_CONFIG_BYTES)
    except fs.Refused as refused:
        raise ConfigError(f"{path}: cannot read: {refused.reason}") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES // (1024 * 1024)} MiB; not read")
    # Imported here: a folder without a pyproject.toml never loads the TOML reader.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: cannot read: {toml_cap_message(None)}") from None
    except ValueError as exc:  # past a cap of Python's own, not a TOML error
        raise ConfigError(f"{path}: cannot read: {toml_cap_message(exc)}") from None
    table = document.get("tool", {}).get("reqhash-check", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.reqhash-check] must be a table")
    values = validate(table, path)
    return FileConfig(path, values, _key_lines(path, values))


def _shown_path(path: Path) -> str:
    """The pyproject.toml as findings name files: relative to the current folder when in it."""
    try:
        return str(path.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _key_lines(path: Path, values: dict[str, Any]) -> dict[str, int]:
    """The line each location key is written on, so a notice can point at it."""
    lines: dict[str, int] = {}
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return lines
    table = ""
    for number, line in enumerate(text.splitlines(), 1):
        header = re.match(r"\s*\[\s*([^\]]+?)\s*\]", line)
        if header:
            table = header.group(1).replace('"', "")
            continue
        match = re.match(r"\s*\"?([A-Za-z0-9_-]+)\"?\s*=", line)
        if table == "tool.reqhash-check" and match and match.group(1) in values:
            lines.setdefault(match.group(1), number)
    return lines


def validate(table: dict[str, Any], path: Path) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in table.items():
        kind = KEYS.get(key)
        if kind is None:
            known = ", ".join(sorted(KEYS))
            raise ConfigError(
                f"{path}: unknown key {key!r} in [tool.reqhash-check] (known: {known})"
            )
        if kind == _LIST_OF_STR and isinstance(value, str):
            value = [value]
        if not _matches(kind, value):
            raise ConfigError(f"{path}: [tool.reqhash-check] {key} must be {kind}")
        values[key] = value
    return values


def _matches(kind: str, value: Any) -> bool:
    if kind == _LIST_OF_STR:
        return isinstance(value, list) and all(isinstance(item, str) for item in value)
    if kind == "a string":
        return isinstance(value, str)
    if kind == "a boolean":
        return isinstance(value, bool)
    if kind == "an integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, (int, float)) and not isinstance(value, bool)
