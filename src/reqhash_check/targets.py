"""Target environments, and which file pip would pick for a pinned release on each.

A `Target` is what pip's `TargetPython` is: the ordered list of wheel tags an install
accepts, the Python version that `Requires-Python` is checked against, and the marker
environment that dependency markers are evaluated in.

Targets come from three places:

* `current_target()`: the running interpreter.
* `targets_from_pip_options(...)`: `--python-version`, `--platform`, `--implementation`
  and `--abi` exactly as `pip download` turns them into tags. Like pip, a `--platform`
  of `manylinux2014_*`/`manylinux2010_*` also accepts the older legacy aliases and a
  `macosx_X_Y_*` platform also accepts older macOS versions, but
  `manylinux_2_28_x86_64` means that one tag only.
* `parse_target_name(text)`: the `--target NAME` shorthand for a real host, with the
  full tag list `packaging.tags` computes on such a host. Grammar::

      linux-<arch>-glibc<M>.<m>-<py>    e.g. linux-x86_64-glibc2.28-cp312
          linux_<arch>, then manylinux_<M>_<m>_<arch> down to manylinux_2_17
          (manylinux_2_5 on x86_64/i686), each legacy alias (manylinux2014,
          manylinux2010, manylinux1) right after its manylinux_2_x tag
      linux-<arch>-musl<M>.<m>-<py>     e.g. linux-aarch64-musl1.2-cp311
          linux_<arch>, then musllinux_<M>_<m>_<arch> down to musllinux_<M>_0
      macos-<arch>-<major>[.<minor>]-<py>   e.g. macos-arm64-11-cp311, macos-x86_64-10.15-cp39
          arch x86_64 | arm64; macosx tags down the versions plus universal2 (and the
          other fat formats for x86_64), as packaging's mac_platforms yields them
      windows-<arch>-<py>               e.g. windows-amd64-cp310
          arch amd64 | x86 | arm64  →  win_amd64 | win32 | win_arm64

  where <py> is `cp<major><minor>` (CPython: cpXY-cpXY, cpXY-abi3 down to cp32,
  cpXY-none, then pyXY-none and pyXY-none-any down the versions) or
  `pp<major><minor>` (PyPy: ppXY-pypyXY_pp73, ppXY-none, then the same py tags).
  `cp<major>.<minor>.<patch>` (and `pp…`) names the patch release too, e.g.
  `linux-x86_64-glibc2.28-cp3.11.7`: without one, a bound such as `>=3.11.7` that holds
  on some patch releases of 3.11 only is a warning, with one it is decided.

`candidates()` and `pick_file()` follow pip's `PackageFinder`/`CandidateEvaluator`: which
files are applicable on the target, how they are ranked, how allowed hashes filter them
(`filter_unallowed_hashes`), and how yanked files are skipped (PEP 592 as pip's resolver
applies it).
"""

from __future__ import annotations

import functools
import re
import sys
import sysconfig
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from packaging import tags as ptags
from packaging.markers import default_environment
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag
from packaging.utils import (
    InvalidWheelFilename,
    canonicalize_name,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from reqhash_check.index.base import DistFile

__all__ = [
    "BinaryPolicy",
    "Pick",
    "Target",
    "TARGET_NAME_GRAMMAR",
    "candidates",
    "current_target",
    "parse_target_name",
    "pick_file",
    "targets_from_pip_options",
]


@dataclass(frozen=True)
class Target:
    """One environment an install must work on."""

    name: str
    python_version: tuple[int, ...]
    """Compared with Requires-Python after padding to three parts, as pip does."""
    tags: tuple[Tag, ...]
    """Supported wheel tags, most preferred first."""
    marker_environment: dict[str, str] = field(default_factory=dict, hash=False, compare=False)
    priority: dict[Tag, int] = field(
        init=False, default_factory=dict, hash=False, compare=False, repr=False
    )
    """tag → its place in `tags` (the first place when a tag repeats), computed once."""
    marker_results: dict[tuple[str, str], bool] = field(
        init=False, default_factory=dict, hash=False, compare=False, repr=False
    )
    """(marker text, extra) → whether it holds here: a run asks the same few hundred
    markers thousands of times (`check.context.marker_applies`)."""
    platforms: frozenset[str] = field(
        init=False, default=frozenset(), hash=False, compare=False, repr=False
    )
    """The platform parts of `tags` (lower case, as Tag keeps them): a wheel none of whose
    platforms is one of these has no tag here, whatever the rest of its name says."""

    def __post_init__(self) -> None:
        for index, tag in enumerate(self.tags):
            self.priority.setdefault(tag, index)
        object.__setattr__(self, "platforms", frozenset(tag.platform for tag in self.tags))

    def __str__(self) -> str:
        return self.name


# --------------------------------------------------------------------------- binary policy


@dataclass(frozen=True)
class BinaryPolicy:
    """`--only-binary` / `--no-binary` / `--prefer-binary`, as pip's FormatControl reads them."""

    only_binary: frozenset[str] = frozenset()
    no_binary: frozenset[str] = frozenset()
    prefer_binary: bool = False

    def _formats(self, project: str) -> frozenset[str]:
        name = canonicalize_name(project)
        # The order of these checks is pip's: a named project wins over :all:.
        if name in self.only_binary:
            return frozenset({"binary"})
        if name in self.no_binary:
            return frozenset({"source"})
        if ":all:" in self.only_binary:
            return frozenset({"binary"})
        if ":all:" in self.no_binary:
            return frozenset({"source"})
        return frozenset({"binary", "source"})

    def allows_wheel(self, project: str) -> bool:
        return "binary" in self._formats(project)

    def allows_sdist(self, project: str) -> bool:
        return "source" in self._formats(project)

    @classmethod
    def from_ordered(
        cls, options: Iterable[tuple[str, str]], prefer_binary: bool = False
    ) -> BinaryPolicy:
        """Build from `("only_binary" | "no_binary", value)` pairs in the order pip saw them.

        pip applies each option value in turn, so `--no-binary :all: --only-binary foo`
        differs from the reverse order; this keeps that order.
        """
        only: set[str] = set()
        no: set[str] = set()
        for option, value in options:
            if option == "only_binary":
                _handle_mutual_excludes(value, only, no)
            elif option == "no_binary":
                _handle_mutual_excludes(value, no, only)
            else:
                raise ValueError(f"unknown binary option {option!r}")
        return cls(frozenset(only), frozenset(no), prefer_binary)

    @classmethod
    def from_options(
        cls,
        only_binary_values: Iterable[str] = (),
        no_binary_values: Iterable[str] = (),
        prefer_binary: bool = False,
    ) -> BinaryPolicy:
        """Build from the values of each option; every --no-binary is applied before every
        --only-binary. Use `from_ordered` when the relative order of the two is known."""
        ordered = [("no_binary", v) for v in no_binary_values]
        ordered += [("only_binary", v) for v in only_binary_values]
        return cls.from_ordered(ordered, prefer_binary)


def _handle_mutual_excludes(value: str, target: set[str], other: set[str]) -> None:
    """pip's FormatControl.handle_mutual_excludes: comma lists, :all: and :none:."""
    if value.startswith("-"):
        raise ValueError("--no-binary / --only-binary option requires 1 argument.")
    new = value.split(",")
    while ":all:" in new:
        other.clear()
        target.clear()
        target.add(":all:")
        del new[: new.index(":all:") + 1]
        # Without a :none: after it, :all: covers every name that follows.
        if ":none:" not in new:
            return
    for name in new:
        if name == ":none:":
            target.clear()
            continue
        canonical = canonicalize_name(name)
        other.discard(canonical)
        target.add(canonical)


# --------------------------------------------------------------------------- targets


def _nodot(version: Sequence[int]) -> str:
    return "".join(str(part) for part in version[:2])


def _pad3(version: Sequence[int]) -> tuple[int, int, int]:
    padded = (tuple(version) + (0, 0, 0))[:3]
    return (padded[0], padded[1], padded[2])


def _implementation_names(impl: str) -> tuple[str, str]:
    """(implementation_name, platform_python_implementation) for a tag abbreviation."""
    return {
        "cp": ("cpython", "CPython"),
        "pp": ("pypy", "PyPy"),
        "ip": ("ironpython", "IronPython"),
        "jy": ("jython", "Jython"),
        "gp": ("graalpy", "GraalVM"),
    }.get(impl, (impl, impl))


def _platform_markers(platform_tag: str) -> dict[str, str]:
    """sys_platform, platform_system, platform_machine and os_name for a wheel platform tag."""
    if platform_tag.startswith(("manylinux", "musllinux", "linux")):
        match = re.match(
            r"(?:manylinux_\d+_\d+|musllinux_\d+_\d+|manylinux\d+|linux)_(.+)$", platform_tag
        )
        machine = match.group(1) if match else ""
        return {
            "sys_platform": "linux",
            "platform_system": "Linux",
            "platform_machine": machine,
            "os_name": "posix",
        }
    if platform_tag.startswith("macosx"):
        match = re.match(r"macosx_\d+_\d+_(.+)$", platform_tag)
        machine = match.group(1) if match else ""
        return {
            "sys_platform": "darwin",
            "platform_system": "Darwin",
            "platform_machine": machine,
            "os_name": "posix",
        }
    if platform_tag.startswith("win"):
        machine = {"win32": "x86", "win_amd64": "AMD64", "win_arm64": "ARM64"}.get(
            platform_tag, platform_tag.removeprefix("win_")
        )
        return {
            "sys_platform": "win32",
            "platform_system": "Windows",
            "platform_machine": machine,
            "os_name": "nt",
        }
    return {}


UNKNOWN_ON_NAMED = ("platform_release", "platform_version")
"""Host-only marker values a target named on the command line leaves empty: a marker that
reads them may hold on the real machine."""


def _marker_environment(
    base: Mapping[str, str],
    python_version: Sequence[int] | None,
    impl: str | None,
    platform_tag: str | None,
) -> dict[str, str]:
    env = dict(base)
    if python_version is not None:
        full = _pad3(python_version)
        env["python_version"] = ".".join(str(p) for p in full[:2])
        env["python_full_version"] = ".".join(str(p) for p in full)
    if impl is not None:
        implementation_name, python_implementation = _implementation_names(impl)
        env["implementation_name"] = implementation_name
        env["platform_python_implementation"] = python_implementation
    if impl is not None or python_version is not None:
        if env.get("implementation_name") == "cpython":
            env["implementation_version"] = env["python_full_version"]
    if platform_tag is not None:
        derived = _platform_markers(platform_tag)
        if derived:
            env.update(derived)
        # Host-only values say nothing about a platform named on the command line.
        env["platform_release"] = ""
        env["platform_version"] = ""
    return env


def _host_platform_name() -> str:
    return re.sub(r"[^\w\d.]+", "_", sysconfig.get_platform()).lower()


def _host_environment() -> dict[str, str]:
    return {key: str(value) for key, value in default_environment().items()}


def current_target() -> Target:
    """The running interpreter, with the tags `packaging.tags.sys_tags()` gives it."""
    impl = ptags.interpreter_name()
    version = tuple(sys.version_info[:3])
    name = f"this interpreter ({impl}{ptags.interpreter_version()}-{_host_platform_name()})"
    return Target(
        name=name,
        python_version=version,
        tags=tuple(ptags.sys_tags()),
        marker_environment=_host_environment(),
    )


# pip's utils/compatibility_tags.py: how --platform values are widened.
_APPLE_ARCH = re.compile(r"(.+)_(\d+)_(\d+)_(.+)")


def _expand_platform(platform_tag: str) -> list[str]:
    prefix, sep, suffix = platform_tag.partition("_")
    if platform_tag.startswith("macosx"):
        match = _APPLE_ARCH.match(platform_tag)
        if not match:
            return [platform_tag]
        name, major, minor, arch = match.groups()
        return [
            "{}_{}".format(name, mac[len("macosx_") :])
            for mac in ptags.mac_platforms((int(major), int(minor)), arch)
        ]
    if prefix == "manylinux2014":
        expanded = [platform_tag]
        if suffix in {"i686", "x86_64"}:
            expanded += [f"manylinux2010{sep}{suffix}", f"manylinux1{sep}{suffix}"]
        return expanded
    if prefix == "manylinux2010":
        return [platform_tag, f"manylinux1{sep}{suffix}"]
    return [platform_tag]


def parse_python_version(text: str) -> tuple[int, ...]:
    """pip's --python-version: "3", "3.12", "312" or "3.12.1" (pip refuses anything else)."""
    text = text.strip()
    if not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,3}){0,2}", text):
        raise ValueError(
            f"invalid Python version {text!r}: expected e.g. 3.12 or 312 (at most three parts)"
        )
    if "." in text:
        return tuple(int(part) for part in text.split("."))
    if len(text) > 1:
        return (int(text[0]), int(text[1:]))
    return (int(text),)


def _pip_supported_tags(
    python_version: tuple[int, ...] | None,
    platform_tags: Sequence[str],
    impl: str | None,
    abis: Sequence[str] | None,
) -> list[Tag]:
    """pip's get_supported() for one python version and the given platforms (none: host)."""
    version_nodot = _nodot(python_version) if python_version is not None else None
    # pip hands packaging only the major and the rest of the nodot string.
    tag_version: tuple[int, ...] | None = None
    if version_nodot is not None:
        tag_version = (
            (int(version_nodot[0]), int(version_nodot[1:]))
            if len(version_nodot) > 1
            else (int(version_nodot[0]),)
        )
    interpreter = (
        f"{impl or ptags.interpreter_name()}{version_nodot or ptags.interpreter_version()}"
    )
    # pip widens each --platform in the order given and keeps the first of duplicates.
    platforms = (
        list(dict.fromkeys(p for tag in platform_tags for p in _expand_platform(tag)))
        if platform_tags
        else None
    )
    supported: list[Tag] = []
    if (impl or ptags.interpreter_name()) == "cp":
        supported += ptags.cpython_tags(
            python_version=tag_version, abis=list(abis) if abis else None, platforms=platforms
        )
    else:
        supported += ptags.generic_tags(
            interpreter=interpreter, abis=list(abis) if abis else None, platforms=platforms
        )
    supported += ptags.compatible_tags(
        python_version=tag_version, interpreter=interpreter, platforms=platforms
    )
    return supported


def targets_from_pip_options(
    python_versions: Sequence[str] = (),
    platforms: Sequence[str] = (),
    implementation: str | None = None,
    abis: Sequence[str] = (),
) -> list[Target]:
    """Targets for `--python-version`/`--platform`/`--implementation`/`--abi`, as pip builds them.

    Several `--platform` values make one target that accepts all of them, exactly as one
    `pip download --platform A --platform B` does. pip takes a single `--python-version`;
    several here make one target each. What is not given comes from the running interpreter,
    as pip fills it in. Nothing given: `[current_target()]`.
    """
    if not python_versions and not platforms and implementation is None and not abis:
        return [current_target()]
    impl = implementation or None
    versions: list[tuple[int, ...] | None] = [parse_python_version(v) for v in python_versions]
    if not versions:
        versions = [None]
    platform_tags = list(dict.fromkeys(platforms))
    base = _host_environment()
    result: list[Target] = []
    for version in versions:
        tags = _pip_supported_tags(version, platform_tags, impl, abis or None)
        effective_version = version if version is not None else tuple(sys.version_info[:3])
        impl_label = impl or ptags.interpreter_name()
        version_label = _nodot(version) if version is not None else ptags.interpreter_version()
        parts = [f"{impl_label}{version_label}"]
        if abis:
            parts.append(".".join(abis))
        parts.append("+".join(platform_tags) or _host_platform_name())
        first_platform = platform_tags[0] if platform_tags else None
        result.append(
            Target(
                name="-".join(parts),
                python_version=tuple(effective_version),
                tags=tuple(tags),
                marker_environment=_marker_environment(base, version, impl, first_platform),
            )
        )
    return result


TARGET_NAME_GRAMMAR = (
    "linux-<arch>-glibc<M>.<m>-<py> | linux-<arch>-musl<M>.<m>-<py> | "
    "macos-<x86_64|arm64>-<major>[.<minor>]-<py> | windows-<amd64|x86|arm64>-<py>, "
    "where <py> is cp<XY> or pp<XY>, or cp<X>.<Y>.<Z> with the patch release "
    "(e.g. linux-x86_64-glibc2.28-cp312, linux-x86_64-glibc2.28-cp3.11.7, "
    "macos-arm64-11-cp311, windows-amd64-cp310)"
)

EXAMPLE_TARGETS = (
    "linux-x86_64-glibc2.28-cp312",
    "linux-aarch64-glibc2.28-cp312",
    "linux-x86_64-musl1.2-cp312",
    "macos-arm64-11-cp312",
    "macos-x86_64-10.15-cp312",
    "windows-amd64-cp312",
)

_LEGACY_MANYLINUX = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
# The last minor of each glibc 2.x series is not needed: glibc has only ever had major 2.

_PY = (
    r"(?P<impl>cp|pp)(?:(?P<major>\d)(?P<minor>\d+)"
    r"|(?P<dmajor>\d)\.(?P<dminor>\d+)\.(?P<patch>\d+))"
)
_TARGET_PATTERNS = (
    re.compile(
        rf"linux-(?P<arch>[a-z0-9_]+)-(?P<libc>glibc|musl)(?P<lmaj>\d+)\.(?P<lmin>\d+)-{_PY}"
    ),
    re.compile(rf"macos-(?P<arch>x86_64|arm64)-(?P<osmaj>\d+)(?:\.(?P<osmin>\d+))?-{_PY}"),
    re.compile(rf"windows-(?P<arch>amd64|x86|arm64)-{_PY}"),
)


def _glibc_platforms(arch: str, major: int, minor: int) -> list[str]:
    if major != 2:
        raise ValueError(f"glibc {major}.{minor}: only glibc 2.x exists")
    oldest = 5 if arch in {"x86_64", "i686"} else 17
    if minor < oldest:
        raise ValueError(f"glibc 2.{minor} is older than any manylinux tag for {arch}")
    platforms = [f"linux_{arch}"]
    for glibc_minor in range(minor, oldest - 1, -1):
        platforms.append(f"manylinux_2_{glibc_minor}_{arch}")
        legacy = _LEGACY_MANYLINUX.get((2, glibc_minor))
        if legacy:
            platforms.append(f"{legacy}_{arch}")
    return platforms


def parse_target_name(text: str) -> Target:
    """The `--target NAME` shorthand: a real host and its full tag list. See the module doc."""
    name = text.strip()
    match = None
    for pattern in _TARGET_PATTERNS:
        match = pattern.fullmatch(name)
        if match:
            break
    if match is None:
        raise ValueError(f"invalid target {text!r}: expected {TARGET_NAME_GRAMMAR}")
    groups = match.groupdict()
    impl = groups["impl"]
    python_version: tuple[int, ...] = (
        (int(groups["major"]), int(groups["minor"]))
        if groups["major"] is not None
        else (int(groups["dmajor"]), int(groups["dminor"]), int(groups["patch"]))
    )
    if python_version[0] != 3:
        raise ValueError(f"invalid target {text!r}: only Python 3 is supported")
    arch = groups["arch"]
    if name.startswith("linux-"):
        lmaj, lmin = int(groups["lmaj"]), int(groups["lmin"])
        if groups["libc"] == "glibc":
            try:
                platforms = _glibc_platforms(arch, lmaj, lmin)
            except ValueError as error:
                raise ValueError(f"invalid target {text!r}: {error}") from None
        else:
            platforms = [f"linux_{arch}"]
            platforms += [f"musllinux_{lmaj}_{m}_{arch}" for m in range(lmin, -1, -1)]
        markers = _platform_markers(f"linux_{arch}")
    elif name.startswith("macos-"):
        os_version = (int(groups["osmaj"]), int(groups["osmin"] or 0))
        if os_version < (10, 0) or (arch == "arm64" and os_version < (11, 0)):
            raise ValueError(
                f"invalid target {text!r}: no macOS {os_version[0]}.{os_version[1]} on {arch}"
            )
        platforms = list(ptags.mac_platforms(os_version, arch))
        markers = _platform_markers(f"macosx_{os_version[0]}_{os_version[1]}_{arch}")
    else:
        platforms = [{"amd64": "win_amd64", "x86": "win32", "arm64": "win_arm64"}[arch]]
        markers = _platform_markers(platforms[0])
    nodot = _nodot(python_version)
    tags: list[Tag] = []
    if impl == "cp":
        # Below 3.8 CPython's ABI tag carries the pymalloc flag: cp37m, as on a real 3.7 host.
        abi = f"cp{nodot}m" if python_version < (3, 8) else f"cp{nodot}"
        tags += ptags.cpython_tags(python_version[:2], abis=[abi], platforms=platforms)
    else:
        tags += ptags.generic_tags(f"pp{nodot}", abis=[f"pypy{nodot}_pp73"], platforms=platforms)
    tags += ptags.compatible_tags(
        python_version[:2], interpreter=f"{impl}{nodot}", platforms=platforms
    )
    implementation_name, python_implementation = _implementation_names(impl)
    full = ".".join(str(p) for p in _pad3(python_version))
    environment = {
        "implementation_name": implementation_name,
        "implementation_version": full if impl == "cp" else "",
        "os_name": markers["os_name"],
        "platform_machine": markers["platform_machine"],
        "platform_python_implementation": python_implementation,
        "platform_release": "",
        "platform_system": markers["platform_system"],
        "platform_version": "",
        "python_full_version": full,
        "python_version": f"{python_version[0]}.{python_version[1]}",
        "sys_platform": markers["sys_platform"],
    }
    return Target(
        name=name,
        python_version=python_version,
        tags=tuple(dict.fromkeys(tags)),
        marker_environment=environment,
    )


# --------------------------------------------------------------------------- picking a file

# pip's SUPPORTED_EXTENSIONS less the wheel: the archives pip accepts as sdists.
_SDIST_EXTENSIONS = (
    ".tar.gz",
    ".tgz",
    ".tar",
    ".zip",
    ".tar.bz2",
    ".tbz",
    ".tar.xz",
    ".txz",
    ".tlz",
    ".tar.lz",
    ".tar.lzma",
)

_SortKey = tuple[int, int, int, Version, int, tuple[()] | tuple[int, str]]


def requires_python_allows(requires_python: str | None, python_version: Sequence[int]) -> bool:
    """Whether a file's Requires-Python admits the version (pip pads it to three parts)."""
    if not requires_python:
        return True
    return _requires_python_allows(requires_python, _pad3(python_version))


@functools.lru_cache(maxsize=4096)
def _requires_python_allows(requires_python: str, python_version: tuple[int, int, int]) -> bool:
    """Once per run for each Requires-Python and version: most of a release's files state
    the same one, and every target and rule asks about every file."""
    try:
        specifier = SpecifierSet(requires_python)
    except InvalidSpecifier:
        return True  # pip ignores a Requires-Python it cannot parse
    version = Version(".".join(str(p) for p in python_version))
    return specifier.contains(version, prereleases=True)


def _version_of(file: DistFile) -> Version:
    return _parsed_version(file.version)


@functools.lru_cache(maxsize=16384)
def _parsed_version(text: str) -> Version:
    """A file's version as pip sorts it, read once per run (Version is immutable)."""
    try:
        return Version(text)
    except InvalidVersion:
        return Version("0")


_wheel_name = functools.lru_cache(maxsize=65536)(parse_wheel_filename)
"""A wheel's name read once per run, however many targets and rules look at it."""


@functools.lru_cache(maxsize=4096)
def _tag_set(tags: str) -> frozenset[Tag] | None:
    """The tags of a wheel name's last three parts as parse_wheel_filename reads (and checks)
    them, or None when it refuses them; once per run: a few tag sets recur across thousands
    of wheels."""
    try:
        return parse_wheel_filename(f"x-0-{tags}.whl")[3]
    except InvalidWheelFilename:
        return None


def _tags_only(filename: str) -> frozenset[Tag] | None:
    """A wheel's tags without reading its name and version, or None when its name does not
    have a wheel name's parts (parse_wheel_filename would refuse it)."""
    stem = filename[:-4]
    if stem.count("-") not in (4, 5):
        return None
    return _tag_set(stem.split("-", stem.count("-") - 2)[-1])


@functools.lru_cache(maxsize=4096)
def _platform_listed(platform_field: str, platforms: frozenset[str]) -> bool:
    """Once per run for each platform field and target: a few recur across thousands of
    wheels."""
    return any(part.lower() in platforms for part in platform_field.split("."))


class _Ranker:
    """pip's LinkEvaluator and CandidateEvaluator._sort_key for one target and project."""

    def __init__(self, target: Target, project: str, policy: BinaryPolicy) -> None:
        self.project = canonicalize_name(project)
        self.target = target
        self.policy = policy
        self.priority = target.priority
        # The project's formats are the same for each of its files: asked once.
        self.wheels = policy.allows_wheel(self.project)
        self.sdists = policy.allows_sdist(self.project)

    def applicable(self, file: DistFile) -> bool:
        filename = file.filename
        lower = filename.lower()
        if lower.endswith(".whl"):
            if not self.wheels:
                return False
            # The tags first: most wheels are for other platforms, and their names and
            # versions need not be read to know that they do not apply. Nor need their
            # tags, when no platform part of the name is one of the target's: no tag built
            # from them could be the target's (a name whose tags do not parse is refused
            # either way).
            if not self._platform_listed(filename):
                return False
            tags = _tags_only(filename)
            if tags is None or not any(tag in self.priority for tag in tags):
                return False
            try:
                name = _wheel_name(filename)[0]
            except (InvalidWheelFilename, InvalidVersion):
                return False
            if name != self.project:
                return False
        else:
            if not lower.endswith(_SDIST_EXTENSIONS):
                return False
            if "macosx10" in lower and lower.endswith(".zip"):
                return False
            if not self.sdists:
                return False
        return requires_python_allows(file.requires_python, self.target.python_version)

    def _platform_listed(self, filename: str) -> bool:
        """Whether a platform part of the wheel name (its last field, split at dots) is one
        of the target's. When none is, no tag of the name is the target's, or the name
        does not parse: the wheel does not apply either way."""
        return _platform_listed(filename[:-4].rpartition("-")[2], self.target.platforms)

    def key(self, file: DistFile, allowed: _AllowedHashes | None) -> _SortKey:
        binary_preference = 0
        build_tag: tuple[()] | tuple[int, str] = ()
        if file.filename.lower().endswith(".whl"):
            _, _, build, file_tags = _wheel_name(file.filename)
            priority = -min(self.priority[t] for t in file_tags if t in self.priority)
            if self.policy.prefer_binary:
                binary_preference = 1
            build_tag = build
        else:
            priority = -len(self.target.tags)
        has_allowed_hash = int(allowed is not None and allowed.matches(file))
        return (
            has_allowed_hash,
            -int(file.yanked),
            binary_preference,
            _version_of(file),
            priority,
            build_tag,
        )

    def ranked(self, files: Iterable[DistFile], allowed: _AllowedHashes | None) -> list[DistFile]:
        # pip sorts ascending and walks the list backwards, so among equal keys the file
        # listed last on the index page comes first.
        ascending = sorted(files, key=lambda f: self.key(f, allowed))
        ascending.reverse()
        return ascending


@dataclass(frozen=True)
class _AllowedHashes:
    """The hashes a requirement allows, by algorithm (lower case)."""

    by_algorithm: Mapping[str, frozenset[str]]

    @classmethod
    def of(cls, allowed: Mapping[str, set[str]] | Collection[str]) -> _AllowedHashes:
        by_algorithm: dict[str, set[str]] = {}
        if isinstance(allowed, Mapping):
            for algorithm, digests in allowed.items():
                by_algorithm.setdefault(algorithm.lower(), set()).update(d.lower() for d in digests)
        else:
            for text in allowed:
                algorithm, sep, digest = text.partition(":")
                if sep and digest:
                    by_algorithm.setdefault(algorithm.lower(), set()).add(digest.lower())
        return cls({k: frozenset(v) for k, v in by_algorithm.items() if v})

    def __bool__(self) -> bool:
        return bool(self.by_algorithm)

    def matches(self, file: DistFile) -> bool:
        return any(
            digest.lower() in self.by_algorithm.get(algorithm.lower(), frozenset())
            for algorithm, digest in file.hashes.items()
        )

    def comparable(self, file: DistFile) -> bool:
        """Whether the index states a digest in an algorithm the allowed hashes use."""
        return any(algorithm.lower() in self.by_algorithm for algorithm in file.hashes)


def _skip_yanked(ranked: list[DistFile], pinned: bool) -> list[DistFile]:
    # PEP 592 as pip's resolver applies it: yanked files are ignored unless the
    # requirement is pinned with ==/=== and every applicable file is yanked.
    if pinned and ranked and all(f.yanked for f in ranked):
        return ranked
    return [f for f in ranked if not f.yanked]


def candidates(
    target: Target,
    files: Sequence[DistFile],
    project: str,
    policy: BinaryPolicy = BinaryPolicy(),  # noqa: B008 - frozen, so sharing it is safe
    *,
    pinned: bool = True,
) -> list[DistFile]:
    """The files pip could install on `target`, best first, hashes aside."""
    ranker = _Ranker(target, project, policy)
    applicable = [f for f in files if ranker.applicable(f)]
    return _skip_yanked(ranker.ranked(applicable, None), pinned)


@dataclass(frozen=True)
class Pick:
    """What pip would do with one requirement on one target."""

    best: DistFile | None
    """What pip would install with no hashes at all."""
    chosen: DistFile | None
    """What pip installs given the allowed hashes; None when nothing is installable."""
    ok: bool
    """True when `chosen`'s published hash is allowed: the install succeeds hash-wise."""
    candidates: tuple[DistFile, ...]
    """Every file pip could install on the target, best first, hashes aside."""
    unknown_hash: bool = False
    """`chosen` publishes no digest in any algorithm the allowed hashes use (e.g. only
    sha512 is listed), so whether it matches cannot be told without downloading it."""

    @property
    def fallback(self) -> bool:
        """pip installs something other than the best file because of the hashes."""
        return self.best is not None and self.chosen is not None and self.chosen != self.best


def pick_file(
    target: Target,
    files: Sequence[DistFile],
    allowed_hashes: Mapping[str, set[str]] | Collection[str],
    project: str,
    policy: BinaryPolicy = BinaryPolicy(),  # noqa: B008 - frozen, so sharing it is safe
    *,
    pinned: bool = True,
) -> Pick:
    """Which file pip installs on `target` when the requirement lists `allowed_hashes`.

    `allowed_hashes` is either "algorithm:hex" strings or algorithm → set of hex digests.
    `pinned` says whether the requirement is pinned with ==/=== (it decides whether a
    yanked file may be installed). `files` are usually one release's files; files of
    several versions are ranked by version too, as pip ranks them.
    """
    allowed = _AllowedHashes.of(allowed_hashes)
    ranker = _Ranker(target, project, policy)
    applicable = [f for f in files if ranker.applicable(f)]
    no_hash_ranked = _skip_yanked(ranker.ranked(applicable, None), pinned)
    best = no_hash_ranked[0] if no_hash_ranked else None

    if allowed:
        # pip's filter_unallowed_hashes: when some file has an allowed hash, drop the files
        # whose published hash is not allowed (files with no published hash stay).
        if any(allowed.matches(f) for f in applicable):
            kept = [f for f in applicable if allowed.matches(f) or not f.hashes]
        else:
            kept = applicable
        hashed_ranked = _skip_yanked(ranker.ranked(kept, allowed), pinned)
    else:
        hashed_ranked = no_hash_ranked
    chosen = hashed_ranked[0] if hashed_ranked else None
    ok = chosen is not None and allowed.matches(chosen)
    unknown = chosen is not None and bool(allowed) and not allowed.comparable(chosen)
    return Pick(
        best=best,
        chosen=chosen,
        ok=ok,
        candidates=tuple(no_hash_ranked),
        unknown_hash=unknown,
    )
