"""The exact lines a fix writes, and the `--target` that describes the host pip ran on."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence

from packaging.requirements import InvalidRequirement, Requirement
from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from reqhash_check.findings import Location
from reqhash_check.fix import FixError, HashEdit, rewrite_text
from reqhash_check.requirements import RequirementEntry
from reqhash_check.targets import parse_target_name

_INDENT = "    "
_LEGACY_GLIBC = {"manylinux2014": (2, 17), "manylinux2010": (2, 12), "manylinux1": (2, 5)}
_PLATFORM_PATTERNS = (
    (re.compile(r"manylinux_(\d+)_(\d+)_(\w+)"), "glibc"),
    (re.compile(r"(manylinux2014|manylinux2010|manylinux1)_(\w+)"), "legacy"),
    (re.compile(r"musllinux_(\d+)_(\d+)_(\w+)"), "musl"),
    (re.compile(r"linux_(\w+)"), "linux"),
    (re.compile(r"macosx_(\d+)_(\d+)_(\w+)"), "macos"),
    (re.compile(r"(win_amd64|win32|win_arm64)"), "windows"),
)
_WINDOWS = {"win_amd64": "amd64", "win32": "x86", "win_arm64": "arm64"}
_PYTHON = re.compile(r"(?P<impl>cp|pp|py)(?P<major>3)(?P<minor>\d+)")


def hash_lines(first: str, hashes: Sequence[str]) -> tuple[str, ...]:
    """`first` and its hashes in the pip-compile layout (` \\` continuations, 4-space indent)."""
    if not hashes:
        return (first,)
    out = [f"{first} \\"]
    for position, value in enumerate(hashes):
        tail = " \\" if position < len(hashes) - 1 else ""
        out.append(f"{_INDENT}--hash={value}{tail}")
    return tuple(out)


def pinned_requirement(printed: str, project: str, version: str) -> str:
    """The requirement pip printed, pinned to `version`; its extras and marker are kept."""
    try:
        req = Requirement(printed)
    except InvalidRequirement:
        return f"{project}=={version}"
    extras = f"[{','.join(sorted(req.extras))}]" if req.extras else ""
    marker = f" ; {req.marker}" if req.marker else ""
    if req.url:
        return f"{req.name}{extras} @ {req.url}{marker}"
    return f"{req.name}{extras}=={version}{marker}"


def rewritten_entry(entry: RequirementEntry, hashes: Sequence[str]) -> tuple[str, ...] | None:
    """The requirement's current lines with exactly these hashes (as `--fix` lays them out)."""
    raw = entry.raw
    count = len(raw.splitlines())
    if not count:
        return None
    edit = HashEdit(Location(entry.location.path, 1, count), raw, tuple(hashes))
    try:
        text = rewrite_text(raw, [edit])
    except FixError:
        return None
    return tuple(text.splitlines())


def lock_hash_line(sha256: str) -> str:
    return f'hashes = {{sha256 = "{sha256}"}}'


def is_lock_file(path: str | None) -> bool:
    """pip reads `pylock.toml` and `pylock.<name>.toml` as lock files (PEP 751)."""
    if not path:
        return False
    name = re.split(r"[\\/]", path)[-1]
    return name == "pylock.toml" or (name.startswith("pylock.") and name.endswith(".toml"))


# --- the host pip ran on, from the wheel it chose -----------------------------------------


def _platform_names(platform: str) -> list[str]:
    """`--target` prefixes (without the Python part) of hosts that accept this platform tag."""
    for pattern, kind in _PLATFORM_PATTERNS:
        match = pattern.fullmatch(platform)
        if match is None:
            continue
        if kind == "glibc":
            return [f"linux-{match.group(3)}-glibc{match.group(1)}.{match.group(2)}"]
        if kind == "legacy":
            major, minor = _LEGACY_GLIBC[match.group(1)]
            return [f"linux-{match.group(2)}-glibc{major}.{minor}"]
        if kind == "musl":
            return [f"linux-{match.group(3)}-musl{match.group(1)}.{match.group(2)}"]
        if kind == "linux":
            return [f"linux-{match.group(1)}-glibc2.17"]
        if kind == "macos":
            major, minor, arch = int(match.group(1)), int(match.group(2)), match.group(3)
            if arch in ("arm64", "universal2"):
                newer = max(major, 11)
                names = [f"macos-arm64-{newer}"]
                if arch == "universal2":
                    names.append(f"macos-x86_64-{major}.{minor}")
                return names
            if arch == "x86_64":
                return [f"macos-x86_64-{major}.{minor}" if major < 11 else f"macos-x86_64-{major}"]
            return []
        return [f"windows-{_WINDOWS[match.group(1)]}"]
    return []


def _python_names(tags: Sequence[Tag], fallback: tuple[int, int]) -> list[str]:
    names: list[str] = []
    for tag in tags:
        match = _PYTHON.fullmatch(tag.interpreter)
        if match is None:
            continue
        impl = "cp" if match.group("impl") == "py" else match.group("impl")
        names.append(f"{impl}{match.group('major')}{match.group('minor')}")
    if not names:
        names.append(f"cp{fallback[0]}{fallback[1]}")
    return sorted(set(names), key=lambda n: (n[:2], int(n[3:])), reverse=True)


def target_for_wheel(
    filename: str | None, fallback_python: tuple[int, int] | None = None
) -> str | None:
    """A `--target` name for a host on which pip chooses this wheel, read from its tags.

    `cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64` → `linux-x86_64-glibc2.17-cp312`.
    None for an sdist or a pure-Python wheel, which say nothing about the platform. When the
    wheel does not name a Python version (`py3-none-…`), `fallback_python` is used.
    """
    if not filename or not filename.endswith(".whl"):
        return None
    try:
        tags = sorted(parse_wheel_filename(filename)[3], key=str)
    except InvalidWheelFilename:
        return None
    python = fallback_python or (sys.version_info[0], sys.version_info[1])
    names = list(dict.fromkeys(n for tag in tags for n in _platform_names(tag.platform)))
    # Of one OS and architecture, the oldest platform the wheel names is the widest host
    # that takes it (manylinux_2_17 before manylinux_2_28); otherwise keep the tags' order.
    families: dict[str, int] = {}
    for name in names:
        families.setdefault(_family(name), len(families))
    platforms = sorted(names, key=lambda n: (families[_family(n)], _platform_age(n)))
    wheel_tags = set(tags)
    for platform in platforms:
        for py in _python_names(tags, python):
            name = f"{platform}-{py}"
            try:
                target = parse_target_name(name)
            except ValueError:
                continue
            if wheel_tags & set(target.tags):
                return name
    return None


def _family(name: str) -> str:
    return name.rsplit("-", 1)[0] if name.startswith(("linux-", "macos-")) else name


def _platform_age(name: str) -> tuple[int, ...]:
    numbers = re.findall(r"\d+", name.split("-", 2)[-1])
    return tuple(int(n) for n in numbers)
