"""`[tool.reqhash-check]` from the nearest pyproject.toml; the command line wins over it."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True)
class FileConfig:
    path: Path | None
    values: dict[str, Any]


def find_pyproject(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            return candidate
    return None


def load_config(start: Path) -> FileConfig:
    path = find_pyproject(start.resolve())
    if path is None:
        return FileConfig(None, {})
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: cannot read: {toml_cap_message(None)}") from None
    except ValueError as exc:  # past a cap of Python's own, not a TOML error
        raise ConfigError(f"{path}: cannot read: {toml_cap_message(exc)}") from None
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
