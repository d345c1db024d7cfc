"""`Pipfile.lock`: read as pipenv installs it, and rewritten in pipenv's own layout.

`pipenv install --deploy` and `pipenv sync` turn the lock into a hashed requirements file
(one `name==version; markers --hash=…` line per package, the lock's sources as
`--index-url`/`--extra-index-url`) and run `pip install --no-deps -r` on it. So the lock
is read into exactly that requirements text, and the requirements reader and rules judge
it; every finding is then moved back to the package's lines in `Pipfile.lock`.

Differences from a requirements file, each from pipenv's install:

* `--no-deps`: a dependency the lock does not install is no pip failure but a broken
  environment, so `missing-dependency` is a warning here, and not fixed (lock again);
* an entry pip cannot hash-check (editable, path, VCS) is written as pipenv writes it, so
  the rules call it `unhashable`;
* `--fix` rewrites only the `hashes` lists, writing the JSON back as pipenv does (4-space
  indent, sorted keys); `_meta.hash` is the Pipfile's digest and is never touched. A lock
  not in that layout is not rewritten.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePath
from typing import Any

from packaging.markers import InvalidMarker, Marker
from packaging.utils import InvalidName, canonicalize_name
from packaging.version import InvalidVersion, Version

from reqhash_check import fs
from reqhash_check.findings import Location
from reqhash_check.requirements.model import ParseProblem, RequirementSet, RequirementsFileError

CATEGORIES = ("default", "develop")
"""The lock's package groups pipenv installs, in its order; `--categories` picks."""

_CATEGORY_ALIASES = {"packages": "default", "dev-packages": "develop"}
"""pipenv's `--categories` takes the Pipfile's names as well as the lock's."""

_VCS_KEYS = ("git", "hg", "svn", "bzr")
MAX_LOCK_BYTES = 10 * 1024 * 1024
"""As for a requirements file: pipenv's locks of hundreds of packages are well under 1 MiB."""


def is_pipfile_lock(path: str) -> bool:
    return path != "-" and PurePath(path).name == "Pipfile.lock"


def parse_categories(text: str) -> tuple[str, ...]:
    """`--categories "default develop"` or `default,dev-packages` → lock category names."""
    names = [n for n in text.replace(",", " ").split() if n]
    if not names:
        raise ValueError("--categories: name at least one category (default, develop)")
    if "_meta" in names:
        # The lock's own record (sources, the Pipfile's digest): no packages, never fixed.
        raise ValueError("--categories: _meta is no category of packages")
    return tuple(dict.fromkeys(_CATEGORY_ALIASES.get(n, n) for n in names))


@dataclass(frozen=True)
class PipfileView:
    """A lock as pip sees it through pipenv: the requirements text, and for each of its
    lines the lines of the lock it stands for."""

    path: str
    requirements_text: str
    origins: tuple[Location, ...]
    """Line N of `requirements_text` stands for origins[N - 1] in the lock."""
    packages: tuple[tuple[str, str], ...]
    """(category, key) of the package each requirement line stands for, in line order;
    ("", "") for a line that is not a package."""


# -- reading ---------------------------------------------------------------------------------


def _load_json(text: str, path: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except RecursionError:
        raise RequirementsFileError(f"{path}: nested too deeply to be a Pipfile.lock") from None
    except ValueError as exc:
        # json.JSONDecodeError, and an integer past the interpreter's digit limit.
        reason = exc.msg if isinstance(exc, json.JSONDecodeError) else "a number too long"
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise RequirementsFileError(f"{path}: not valid JSON{where}: {reason}") from None
    if not isinstance(data, dict):
        raise RequirementsFileError(f"{path}: not a Pipfile.lock (no JSON object at its top)")
    if "\\u" in text:
        try:
            # A `\ud800` escape decodes to a lone surrogate no output can encode.
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise RequirementsFileError(
                f"{path}: a \\u escape that is half a character (a lone surrogate)"
            ) from None
    return data


_IN_LIST = ("", "", "")  # longer than any recorded path


def key_lines(text: str) -> dict[tuple[str, ...], tuple[int, int]]:
    """(key path) → (line of the key, line where its value ends), 1-based, for the keys of
    the top object and of the objects directly in it (`default` → `requests`). The text
    must be valid JSON."""
    found: dict[tuple[str, ...], tuple[int, int]] = {}
    stack: list[tuple[str, tuple[str, ...]]] = []  # (container kind, its key path)
    open_keys: list[tuple[tuple[str, ...], int]] = []  # (key path, key line) awaiting an end
    line, i, n = 1, 0, len(text)
    expecting_key = False
    pending: tuple[str, ...] | None = None
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
        elif ch == '"':
            j = i + 1
            while text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            if expecting_key and stack and stack[-1][0] == "{":
                key = json.loads(text[i : j + 1])
                pending = (*stack[-1][1], key)
                if len(pending) <= 2:
                    open_keys.append((pending, line))
                expecting_key = False
            elif pending is not None:
                _close(found, open_keys, pending, line)
                pending = None
            i = j
        elif ch in "{[":
            # A container inside a list has no key path: its keys are not recorded.
            inside_list = bool(stack) and stack[-1][0] == "["
            stack.append((ch, _IN_LIST if inside_list else pending or ()))
            pending = None
            expecting_key = ch == "{"
        elif ch in "}]":
            if pending is not None:  # the last value was a number, true, false or null
                _close(found, open_keys, pending, line)
                pending = None
            kind, path = stack.pop()
            if path:
                _close(found, open_keys, path, line)
            expecting_key = False
        elif ch == ",":
            if pending is not None:
                _close(found, open_keys, pending, line)
                pending = None
            expecting_key = bool(stack) and stack[-1][0] == "{"
        i += 1
    return found


def _close(
    found: dict[tuple[str, ...], tuple[int, int]],
    open_keys: list[tuple[tuple[str, ...], int]],
    path: tuple[str, ...],
    line: int,
) -> None:
    if open_keys and open_keys[-1][0] == path:
        _, start = open_keys.pop()
        found[path] = (start, line)


def read_view(path: str, text: str, categories: Sequence[str] = CATEGORIES) -> PipfileView:
    """The requirements text pipenv hands pip for this lock, line by line with where each
    line comes from. Raises RequirementsFileError when it is not a Pipfile.lock."""
    data = _load_json(text, path)
    where = key_lines(text)
    lines: list[str] = []
    origins: list[Location] = []
    packages: list[tuple[str, str]] = []

    def at(key: tuple[str, ...]) -> Location:
        start, end = where.get(key, (1, 1))
        return Location(path, start, end)

    meta = data.get("_meta")
    sources = meta.get("sources") if isinstance(meta, dict) else None
    if sources is not None and not isinstance(sources, list):
        raise RequirementsFileError(f"{path}: _meta.sources is not a list")
    for number, source in enumerate(sources or []):
        url = source.get("url") if isinstance(source, dict) else None
        if not isinstance(url, str) or not url:
            raise RequirementsFileError(f"{path}: _meta.sources has a source without a URL")
        if not _is_word(url):
            raise RequirementsFileError(
                f"{path}: _meta.sources has a URL holding a blank, a control character or a "
                "leading '-'"
            )
        lines.append(f"{'--index-url' if number == 0 else '--extra-index-url'} {url}")
        origins.append(at(("_meta", "sources")))
        packages.append(("", ""))
        if source.get("verify_ssl") is False:
            host = url.split("://", 1)[-1].split("/", 1)[0].rpartition("@")[2]
            lines.append(f"--trusted-host {host}")
            origins.append(at(("_meta", "sources")))
            packages.append(("", ""))
    for category in categories:
        group = data.get(category, {})
        if not isinstance(group, dict):
            raise RequirementsFileError(f"{path}: {category!r} is not an object of packages")
        for key, entry in group.items():
            lines.append(_requirement_line(key, entry, path))
            origins.append(at((category, key)))
            packages.append((category, key))
    return PipfileView(
        path, "".join(f"{line}\n" for line in lines), tuple(origins), tuple(packages)
    )


def _requirement_line(key: str, entry: object, path: str) -> str:
    """The line pipenv writes for one package (its `requirements` export, and the file it
    installs from)."""
    try:
        name = canonicalize_name(key, validate=True)
    except InvalidName:
        raise RequirementsFileError(
            f"{path}: a package name that is not valid: {key!r:.80}"
        ) from None
    if isinstance(entry, str):
        entry = {"version": entry}
    if not isinstance(entry, dict):
        raise RequirementsFileError(f"{path}: {name}: its entry is not an object")
    extras = entry.get("extras") or []
    if not isinstance(extras, list) or not all(isinstance(e, str) for e in extras):
        raise RequirementsFileError(f"{path}: {name}: extras is not a list of names")
    try:
        extra_names = sorted(canonicalize_name(e, validate=True) for e in extras)
    except InvalidName:
        raise RequirementsFileError(f"{path}: {name}: an extra that is not a name") from None
    head = name + (f"[{','.join(extra_names)}]" if extra_names else "")
    marker = _marker(entry, path, name)
    tail = f" ; {marker}" if marker else ""
    for vcs in _VCS_KEYS:
        if isinstance(entry.get(vcs), str):
            ref = entry.get("ref")
            _words(path, name, entry[vcs], ref if isinstance(ref, str) else "")
            url = entry[vcs] + (f"@{ref}" if isinstance(ref, str) and ref else "")
            line = f"{head} @ {vcs}+{url}" if "+" not in entry[vcs].split(":", 1)[0] else url
            return _safe(("-e " if entry.get("editable") else "") + line + tail, path, name)
    for local in ("path", "file"):
        if isinstance(entry.get(local), str):
            target = entry[local]
            _words(path, name, target)
            prefix = "-e " if entry.get("editable") else ""
            if local == "file" and "://" in target:
                return _safe(f"{prefix}{head} @ {target}{tail}", path, name)
            return _safe(f"{prefix}{target}{tail}", path, name)
    version = entry.get("version", "")
    if not isinstance(version, str):
        raise RequirementsFileError(f"{path}: {name}: version is not a string")
    if version.startswith("=="):
        try:
            version = "==" + str(Version(version[2:]))
        except InvalidVersion:
            raise RequirementsFileError(
                f"{path}: {name}: version {version!r:.80} is not valid"
            ) from None
    elif version not in ("", "*"):
        raise RequirementsFileError(f"{path}: {name}: version {version!r:.80} is not a pin")
    else:
        version = ""
    hashes = entry.get("hashes") or []
    if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
        raise RequirementsFileError(f"{path}: {name}: hashes is not a list of strings")
    _words(path, name, *hashes)
    words = "".join(f" --hash={h}" for h in hashes)
    # pipenv's order: the marker before the hashes. pip reads a line's options from its first
    # word that starts with "-", so a marker after them would be no marker at all.
    marked = f"; {marker}" if marker else ""
    return _safe(f"{head}{version}{marked}{words}", path, name)


def _marker(entry: Mapping[str, Any], path: str, name: str) -> str:
    markers = entry.get("markers")
    if markers in (None, ""):
        return ""
    if not isinstance(markers, str):
        raise RequirementsFileError(f"{path}: {name}: markers is not a string")
    try:
        text = str(Marker(markers))
    except InvalidMarker:
        raise RequirementsFileError(f"{path}: {name}: markers are not valid") from None
    if any(word.startswith("-") for word in text.split(" ")):
        # pipenv writes the marker before the hashes, and pip reads the line from its first
        # word that starts with "-" as options: such a word inside a quoted value would be one.
        raise RequirementsFileError(f"{path}: {name}: markers holding a word that starts with '-'")
    return text


def _is_word(value: str) -> bool:
    """One word on a requirements line: no blank (pip splits options at any whitespace), no
    control or format character, and not an option (`-r`, `--index-url=…`)."""
    return not value.startswith("-") and not any(
        c.isspace() or unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value
    )


def _words(path: str, name: str, *values: str) -> None:
    # A path, URL, ref or hash is written as one word: a blank in it would start another
    # option (`--index-url`, `-r`) or a comment on the line pip reads.
    if not all(_is_word(v) for v in values):
        raise RequirementsFileError(
            f"{path}: {name}: a path, URL, ref or hash holding a blank, a control character "
            "or a leading '-'"
        )


_COMMENT = re.compile(r"\s#")


def _safe(line: str, path: str, name: str) -> str:
    # One package, one line: nothing from the lock may start another line or a comment. The
    # only blank the line may hold is the space (markers hold spaces; tabs and the other
    # blanks are no part of what pipenv writes).
    if any(
        (c.isspace() and c != " ") or unicodedata.category(c) in ("Cc", "Zl", "Zp") for c in line
    ) or _COMMENT.search(line):
        raise RequirementsFileError(f"{path}: {name}: a value with a line break or a comment")
    return line


# -- findings back to the lock ----------------------------------------------------------------


def relocate(
    view: PipfileView, req_set: RequirementSet, problems: Iterable[ParseProblem]
) -> tuple[RequirementSet, list[ParseProblem]]:
    """The reading of `view.requirements_text`, with every location in the lock."""

    def moved(location: Location) -> Location:
        if location.path != view.path or not 1 <= location.line <= len(view.origins):
            return location
        return view.origins[location.line - 1]

    req_set.entries = [replace(e, location=moved(e.location)) for e in req_set.entries]
    req_set.options = [
        replace(o, location=moved(o.location)) if o.location is not None else o
        for o in req_set.options
    ]
    return req_set, [replace(p, location=moved(p.location)) for p in problems]


def relocate_error(view: PipfileView, error: RequirementsFileError) -> RequirementsFileError:
    """A refusal of the requirements text ("Pipfile.lock:7: a line longer than …"), with the
    line number of the lock's package rather than of the text."""
    match = re.match(rf"{re.escape(view.path)}:(\d+):", str(error))
    if match is None or not 1 <= int(match.group(1)) <= len(view.origins):
        return error
    line = view.origins[int(match.group(1)) - 1].line
    return RequirementsFileError(f"{view.path}:{line}:{str(error)[match.end() :]}")


# -- --fix -----------------------------------------------------------------------------------


def pipenv_dumps(data: object) -> str:
    """The bytes pipenv writes a lock as."""
    return json.dumps(data, indent=4, separators=(",", ": "), sort_keys=True) + "\n"


def rewrite_hashes(
    path: str, text: str, new_hashes: Mapping[int, Sequence[str]], categories: Sequence[str]
) -> str:
    """The lock with the `hashes` list of the package at each given line replaced.

    Refuses (ValueError) a lock that pipenv's own writer would not reproduce byte for
    byte: rewriting it would change bytes the fix has no business with."""
    data = _load_json(text, path)
    layout = pipenv_dumps(data)
    ending = "\n" if text.endswith("\n") else ""
    if layout[:-1] + ending != text:
        raise ValueError(
            f"{path}: not in pipenv's layout (4-space JSON, sorted keys); not rewritten"
        )
    where = key_lines(text)
    by_line = {
        where[(category, key)][0]: (category, key)
        for category in categories
        for key in (data.get(category) or {})
        if (category, key) in where
    }
    for line, hashes in new_hashes.items():
        found = by_line.get(line)
        if found is None:
            raise ValueError(f"{path}:{line}: no package starts on this line")
        entry = data[found[0]][found[1]]
        if not isinstance(entry, dict):
            raise ValueError(f"{path}:{line}: the package's entry is not an object")
        if not hashes:
            raise ValueError(f"{path}:{line}: would remove the last hash; not rewritten")
        entry["hashes"] = sorted(dict.fromkeys(hashes))
    return pipenv_dumps(data)[:-1] + ending


def read_lock_text(path: str, root: str | Path | None = None) -> str:
    """The lock's text, read once through the confined file layer (under `root`, by default
    its repository), size-capped, UTF-8 as pipenv writes it."""
    folder = root if root is not None else fs.repository_root(path)
    try:
        data = fs.read_bytes(fs.Root.at(folder), path, MAX_LOCK_BYTES)
    except fs.Refused as refused:
        if refused.confinement:
            raise RequirementsFileError(f"{path}: resolves {refused.reason}; not read") from None
        raise RequirementsFileError(f"{path}: {refused.reason}") from None
    if len(data) > MAX_LOCK_BYTES:
        raise RequirementsFileError(
            f"{path}: larger than {MAX_LOCK_BYTES // (1024 * 1024)} MiB, the cap on a lock"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise RequirementsFileError(f"{path}: not UTF-8, as pipenv writes it") from None


__all__ = [
    "CATEGORIES",
    "PipfileView",
    "is_pipfile_lock",
    "key_lines",
    "parse_categories",
    "pipenv_dumps",
    "read_lock_text",
    "read_view",
    "relocate",
    "relocate_error",
    "rewrite_hashes",
]
