"""pip's own configuration, read as pip reads it, for where it finds packages.

pip takes each option from its configuration files (global, then user, then the file
`PIP_CONFIG_FILE` names; `PIP_CONFIG_FILE=/dev/null` loads no file at all), section
`[global]` then `[install]`, and then from `PIP_<OPTION>` environment variables; a later
source replaces an earlier one's value for the same option. The command line comes last:
`--index-url` replaces, `--extra-index-url`/`--find-links` add to what configuration
gave. Only the options that decide where pip looks are read here. `--isolated` (as pip's
own) skips all of it.

The virtual environment's `pip.conf` (`sys.prefix`) is left out: it belongs to whichever
environment the installing pip runs in, which is not known here.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from reqhash_check import watch

SECTIONS = ("global", "install")
KEYS = ("index-url", "extra-index-url", "find-links", "no-index", "trusted-host")
MAX_CONFIG_BYTES = 1024 * 1024


@dataclass(frozen=True)
class PipLocations:
    """Where pip looks for packages, before any requirements file's own options."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    sources: tuple[str, ...] = ()
    """The configuration files and variables the values came from, for messages."""
    from_environment: frozenset[str] = frozenset()
    """The keys whose value came from a PIP_* variable rather than a configuration file."""


def config_files(environ: Mapping[str, str]) -> list[Path]:
    """pip's configuration files on this platform, in the order they apply."""
    name = "pip.ini" if sys.platform == "win32" else "pip.conf"
    explicit = environ.get("PIP_CONFIG_FILE")
    if explicit == os.devnull:
        return []
    files: list[Path] = []
    if sys.platform == "win32":
        program_data = environ.get("ALLUSERSPROFILE") or "C:\\ProgramData"
        files.append(Path(program_data) / "pip" / name)
    elif sys.platform == "darwin":
        files.append(Path("/Library/Application Support/pip") / name)
    else:
        dirs = environ.get("XDG_CONFIG_DIRS") or "/etc/xdg"
        files += [Path(d) / "pip" / name for d in dirs.split(os.pathsep) if d]
        files.append(Path("/etc") / name)
    home = Path(environ.get("HOME") or Path.home())
    user_files = [home / (".pip" if sys.platform != "win32" else "pip") / name]
    if sys.platform == "win32":
        user_files.append(Path(environ.get("APPDATA") or home) / "pip" / name)
    elif sys.platform == "darwin":
        user_files.append(home / "Library" / "Application Support" / "pip" / name)
    else:
        xdg = environ.get("XDG_CONFIG_HOME") or str(home / ".config")
        user_files.append(Path(xdg) / "pip" / name)
    # pip does not read the user's files when PIP_CONFIG_FILE names a file that exists.
    if explicit:
        watch.path(explicit)
    if not (explicit and Path(explicit).exists()):
        files += user_files
    if explicit:
        files.append(Path(explicit))
    return files


def _read(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    watch.path(path)
    try:
        if not path.is_file() or path.stat().st_size > MAX_CONFIG_BYTES:
            return values
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return values
    # Imported only where a configuration file exists: compiling its patterns was a
    # noticeable part of every run's start-up.
    import configparser

    try:
        parser = configparser.RawConfigParser()
        parser.read_string(text)
    except configparser.Error:
        return values
    for section in SECTIONS:
        if parser.has_section(section):
            for key, value in parser.items(section):
                key = key.lower().replace("_", "-")
                if key in KEYS:
                    values[key] = value
    return values


def pip_locations(environ: Mapping[str, str], *, isolated: bool = False) -> PipLocations:
    if isolated:
        return PipLocations()
    values: dict[str, str] = {}
    sources: list[str] = []
    from_environment: set[str] = set()
    for path in config_files(environ):
        found = _read(path)
        if found:
            values.update(found)
            sources.append(str(path))
    for key in KEYS:
        variable = "PIP_" + key.upper().replace("-", "_")
        if variable in environ:
            values[key] = environ[variable]
            sources.append(variable)
            from_environment.add(key)
    return PipLocations(
        index_url=values.get("index-url") or None,
        extra_index_urls=tuple(values.get("extra-index-url", "").split()),
        find_links=tuple(values.get("find-links", "").split()),
        no_index=_true(values.get("no-index", "")),
        sources=tuple(sources),
        from_environment=frozenset(from_environment),
    )


def _true(value: str) -> bool:
    # pip's strtobool: yes/true/on/1 (and a bare option set in a file).
    return value.strip().lower() in ("1", "yes", "true", "on", "y", "t")
