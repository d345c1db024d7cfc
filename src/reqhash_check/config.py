"""`[tool.reqhash-check]` from the nearest pyproject.toml; the command line wins over it."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reqhash_check import fs

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]


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


@dataclass(frozen=True)
class FileConfig:
    path: Path | None
    values: dict[str, Any]


MAX_CONFIG_BYTES = 10 * 1024 * 1024


def find_pyproject(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if os.path.lexists(candidate):
            return candidate
    return None


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
    try:
        document = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    table = document.get("tool", {}).get("reqhash-check", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.reqhash-check] must be a table")
    return FileConfig(path, validate(table, path))


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
