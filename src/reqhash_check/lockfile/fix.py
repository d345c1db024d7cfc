"""`--fix` for lock files: rewrite file entries to what the index publishes, nothing else.

The document is edited with tomlkit, which keeps every byte it is not told to change
(comments, key order, quoting, inline or table layout, line endings). Changed are:

* the `hashes` of each archive whose hash is not the published file's, and the `url`,
  `size` and `upload-time` of that entry where the lock records them (a recorded value the
  index does not state is removed rather than left wrong);
* the `wheels` list of a package that has no wheel for a checked target while the index
  publishes one: that wheel is added, in the layout of the entries beside it.

The result is parsed and validated again before it is offered; the write is atomic
(`reqhash_check.fix.apply_plan`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import AoT, Array, InlineTable, String, StringType, Table

from reqhash_check.fix import FilePlan
from reqhash_check.index.base import DistFile, ReleaseLookup
from reqhash_check.lockfile.check import LockCheck
from reqhash_check.lockfile.read import LockFile, parse_lock

__all__ = ["LockFixError", "LockFixSummary", "plan_lock_fix"]


class LockFixError(Exception):
    """The lock cannot be rewritten safely; the message is one line."""


@dataclass
class LockFixSummary:
    rewritten: int = 0
    added: int = 0
    packages: set[str] = field(default_factory=set)
    skipped: list[str] = field(default_factory=list)

    def describe(self) -> str:
        parts = []
        if self.rewritten:
            parts.append(f"rewrote {self.rewritten} file {_plural(self.rewritten, 'entry')}")
        if self.added:
            parts.append(f"added {self.added} wheel {_plural(self.added, 'entry')}")
        count = len(self.packages)
        return " and ".join(parts) + f" of {count} {'package' if count == 1 else 'packages'}"


def _plural(count: int, word: str) -> str:
    return word if count == 1 else word[:-1] + "ies"


def plan_lock_fix(
    lock: LockFile, check: LockCheck, lookups: Mapping[int, ReleaseLookup]
) -> tuple[FilePlan | None, LockFixSummary]:
    summary = LockFixSummary()
    if not check.wrong_files and not check.missing_wheels:
        return None, summary
    if lock.text is None or not lock.editable:
        raise LockFixError(f"{lock.path}: cannot be edited without changing other bytes")
    try:
        document = tomlkit.parse(lock.text)
    except (TOMLKitError, ValueError) as error:
        raise LockFixError(f"{lock.path}: cannot be edited: {error}") from None
    packages = document.get("packages")
    if not isinstance(packages, (AoT, Array)):
        raise LockFixError(f"{lock.path}: 'packages' is not an array")
    names = {p.position: p.name for p in lock.packages}
    for (position, kind, index), published in sorted(check.wrong_files.items()):
        package_table = packages[position]
        entry = _entry(package_table, kind, index)
        if entry is None:
            continue
        if published is None or not published.sha256:
            summary.skipped.append(
                f"not fixed: {lock.path}: packages[{position}] ({names.get(position)}): "
                f"{'wheels[' + str(index) + ']' if kind == 'wheel' else kind} is not a file the "
                "index publishes for this version; lock it again"
            )
            continue
        _rewrite_entry(entry, published)
        summary.rewritten += 1
        summary.packages.add(names.get(position, "?"))
    for position, wheels in sorted(check.missing_wheels.items()):
        lookup = lookups.get(position)
        if lookup is None or lookup.release is None:
            continue
        present = {f.filename for p in lock.packages if p.position == position for f in p.wheels}
        wanted = [w for w in wheels if w.filename not in present and w.sha256]
        if not wanted:
            continue
        listed = packages[position].get("wheels")
        if not isinstance(listed, (AoT, Array)) or not listed:
            summary.skipped.append(
                f"not fixed: {lock.path}: packages[{position}] ({names.get(position)}) has no "
                "wheels list to add the missing wheels to; lock it again"
            )
            continue
        for wheel in wanted:
            _add_wheel(listed, wheel)
            summary.added += 1
        summary.packages.add(names.get(position, "?"))
    new_text = document.as_string()
    if "\r\n" in lock.text and not re.search(r"(?<!\r)\n", lock.text):
        new_text = re.sub(r"(?<!\r)\n", "\r\n", new_text)  # added lines take the file's CRLF
    if new_text == lock.text:
        return None, summary
    new = new_text.encode("utf-8")
    again = parse_lock(lock.path, new)
    if len(again.problems) > len(lock.problems):
        raise LockFixError(f"{lock.path}: the rewritten lock would not be valid; not written")
    plan = FilePlan(path=Path(lock.path), old=lock.data, new=new, encoding="utf-8")
    return plan, summary


def _entry(package: Any, kind: str, index: int) -> Any:
    if kind == "wheel":
        wheels = package.get("wheels")
        if isinstance(wheels, (AoT, Array)) and 0 <= index < len(wheels):
            return wheels[index]
        return None
    entry = package.get(kind)
    return entry if isinstance(entry, (Table, InlineTable)) else None


def _same_style(old: Any, value: str) -> String:
    literal = isinstance(old, String) and old.type in (StringType.SLL, StringType.MLL)
    if literal and "'" in value:
        literal = False
    return tomlkit.string(value, literal=literal)


def _rewrite_entry(entry: Any, published: DistFile) -> None:
    new_hashes = {a.lower(): d.lower() for a, d in sorted(published.hashes.items())}
    hashes = entry.get("hashes")
    if isinstance(hashes, (Table, InlineTable)) and {k.lower() for k in hashes} == set(new_hashes):
        for key in list(hashes):
            hashes[key] = _same_style(hashes[key], new_hashes[key.lower()])
    elif isinstance(hashes, Table) and not isinstance(hashes, InlineTable):
        for key in list(hashes):
            del hashes[key]
        for algorithm, digest in new_hashes.items():
            hashes[algorithm] = digest
    else:
        entry["hashes"] = _inline(new_hashes)
    if "url" in entry and published.url and str(entry["url"]) != published.url:
        entry["url"] = _same_style(entry["url"], published.url)
    if "name" in entry and str(entry["name"]) != published.filename:
        entry["name"] = _same_style(entry["name"], published.filename)
    if "size" in entry:
        if published.size is not None:
            entry["size"] = published.size
        else:
            del entry["size"]
    if "upload-time" in entry:
        when = _datetime(published.upload_time)
        if when is not None:
            entry["upload-time"] = when
        else:
            del entry["upload-time"]


def _datetime(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _inline(values: Mapping[str, Any]) -> Any:
    """An inline table in the `{ key = value, … }` layout uv and pip write."""
    body = ", ".join(f"{tomlkit.key(k).as_string()} = {_value(v)}" for k, v in values.items())
    return tomlkit.parse(f"x = {{ {body} }}\n")["x"]


def _value(value: Any) -> str:
    if isinstance(value, dict):
        body = ", ".join(f"{tomlkit.key(k).as_string()} = {_value(v)}" for k, v in value.items())
        return f"{{ {body} }}"
    return str(tomlkit.item(value).as_string())


def _wheel_values(wheel: DistFile, like: Any) -> dict[str, Any]:
    """The keys the neighbouring entries record, in their order, for a published wheel."""
    known: dict[str, Any] = {
        "name": wheel.filename,
        "url": wheel.url,
        "size": wheel.size,
        "upload-time": _datetime(wheel.upload_time),
        "hashes": {a.lower(): d.lower() for a, d in sorted(wheel.hashes.items())},
    }
    keys = [k for k in like if k in known] if isinstance(like, (Table, InlineTable)) else []
    if "hashes" not in keys:
        keys.append("hashes")
    if "url" not in keys and "name" not in keys:
        keys.insert(0, "url")
    return {k: known[k] for k in keys if known[k] is not None}


def _add_wheel(listed: Any, wheel: DistFile) -> None:
    like = listed[-1]
    values = _wheel_values(wheel, like)
    if isinstance(listed, AoT):
        table = tomlkit.table()
        for key, value in values.items():
            if key == "hashes":
                sub = tomlkit.table()
                for algorithm, digest in value.items():
                    sub[algorithm] = digest
                table[key] = sub
            else:
                table[key] = value
        listed.append(table)
        return
    inline = _inline(values)
    if "\n" in listed.as_string():
        indent = _array_indent(listed.as_string())
        listed.add_line(inline, indent=indent)
    else:
        listed.append(inline)


def _array_indent(rendered: str) -> str:
    for line in rendered.splitlines()[1:]:
        stripped = line.lstrip(" \t")
        if stripped and stripped != "]":
            return line[: len(line) - len(stripped)]
    return "    "
