"""Which archive of each package pip 26.x installs from a lock, on one target.

pip calls `packaging.pylock.Pylock.select()` for the running interpreter (its marker
environment and `sys_tags()`; it refuses `--platform` and friends next to a lock), then
hands each chosen archive to its finder as the only candidate ("locked link"), which
refuses a wheel that `--no-binary` excludes and an sdist that `--only-binary` excludes.
This module does the same for any `Target`, but goes on after a problem, so that every
package that fails is known, not only the first.

The order of the steps is the PEP 751 installer algorithm as packaging implements it:
the lock's `requires-python`, then its `environments`, then per package its `marker`
(false: skipped), its `requires-python` (false: error), a second selected entry of the
same name (error); then the archive: `vcs`/`directory`/`archive` when set, the sdist when
the binary policy allows only sources, else the wheel whose best tag ranks first among
the target's tags, else the sdist, else an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import parse_wheel_filename
from packaging.version import InvalidVersion, Version

from reqhash_check.lockfile.read import LockedFile, LockedPackage, LockFile
from reqhash_check.targets import UNKNOWN_ON_NAMED, BinaryPolicy, Target

__all__ = [
    "Choice",
    "Refusal",
    "Selection",
    "python_full_version",
    "select_for_target",
    "some_patches_note",
]


@dataclass(frozen=True)
class Choice:
    """pip installs `file` for `package` (None for a VCS or directory entry)."""

    package: LockedPackage
    file: LockedFile | None


@dataclass(frozen=True)
class Refusal:
    """pip stops with `message`; `package` is None when the lock as a whole is refused."""

    package: LockedPackage | None
    message: str
    key: str
    """"requires-python", "environments", "package-requires-python", "duplicate",
    "no-wheel" or "format"."""
    some_patches: bool = False
    """A `requires-python` bound that holds on some patch releases of the target's Python
    and not on others: the target names no patch release, so pip may or may not refuse.
    Selection goes on as if it holds."""


@dataclass(frozen=True)
class Selection:
    target: Target
    chosen: tuple[Choice, ...]
    refused: tuple[Refusal, ...]

    @property
    def lock_refused(self) -> Refusal | None:
        return next((r for r in self.refused if r.package is None and not r.some_patches), None)

    def file_of(self, package: LockedPackage) -> LockedFile | None:
        return next((c.file for c in self.chosen if c.package is package), None)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(c.package.name for c in self.chosen)


# A patch release later than any CPython or PyPy minor series has had.
_HIGH_PATCH = 99


def _python_versions(target: Target) -> tuple[Version, ...]:
    """The Python versions the target may be: its own when it names a patch release, else
    the first and a late patch release of its X.Y (a bound like `>=3.11.7`, which uv
    writes, holds on some and not others)."""
    full = _as_version(python_full_version(target))
    if len(target.python_version) >= 3 or target.marker_environment.get(
        "python_full_version", ""
    ).endswith("+"):
        return (full,)
    major, minor = full.release[0], full.release[1] if len(full.release) > 1 else 0
    return (Version(f"{major}.{minor}.0"), Version(f"{major}.{minor}.{_HIGH_PATCH}"))


def _bound(specifier: SpecifierSet, versions: tuple[Version, ...]) -> tuple[bool, bool]:
    """(holds on every version, holds on some)."""
    holds = [_contains(specifier, v) for v in versions]
    return all(holds), any(holds)


def some_patches_note(specifier: SpecifierSet) -> str:
    return (
        f"; it holds on some patch releases only ({str(specifier)!r}): name the patch "
        "release the hosts run (a --target ending in cpX.Y.Z, or --python-version X.Y.Z)"
    )


def python_full_version(target: Target) -> str:
    """The target's python_full_version, as packaging's selection reads it."""
    stated = target.marker_environment.get("python_full_version")
    if stated:
        return stated
    padded = (tuple(target.python_version) + (0, 0, 0))[:3]
    return ".".join(str(part) for part in padded)


def _as_version(text: str) -> Version:
    # packaging's _pep440_python_full_version: "3.13.0+" (a dev build) reads as 3.13.0+local.
    if text.endswith("+"):
        text += "local"
    try:
        return Version(text)
    except InvalidVersion:
        return Version("0")


def _contains(specifier: SpecifierSet, version: Version) -> bool:
    return specifier.contains(version)


def select_for_target(
    lock: LockFile,
    target: Target,
    policy: BinaryPolicy = BinaryPolicy(),  # noqa: B008 - frozen, so sharing it is safe
) -> Selection:
    environment: dict[str, str] = dict(target.marker_environment)
    full_version = python_full_version(target)
    environment.setdefault("python_full_version", full_version)
    version = _as_version(full_version)
    versions = _python_versions(target)
    refused: list[Refusal] = []
    if lock.requires_python is not None:
        every, some = _bound(lock.requires_python, versions)
        if not every:
            too_old = Refusal(
                None,
                f"python_full_version {str(version)!r} in provided environment does not "
                f"satisfy the Python version requirement {str(lock.requires_python)!r}",
                "requires-python",
                some_patches=some,
            )
            if not some:
                return Selection(target, (), (too_old,))
            refused.append(too_old)
    if lock.environments and not any(
        _evaluate(marker, environment, "requirement") for marker in lock.environments
    ):
        refused.append(
            Refusal(
                None,
                "Provided environment does not satisfy any of the environments specified "
                "in the lock file",
                "environments",
            )
        )
        return Selection(target, (), tuple(refused))

    lock_environment: dict[str, str | frozenset[str]] = {
        **environment,
        "extras": frozenset(),
        "dependency_groups": frozenset(lock.default_groups),
    }
    selected: dict[str, LockedPackage] = {}
    for package in lock.packages:
        if package.marker is not None and not _evaluate(
            package.marker, lock_environment, "lock_file"
        ):
            continue
        if package.requires_python is not None:
            every, some = _bound(package.requires_python, versions)
            if not every:
                refused.append(
                    Refusal(
                        package,
                        f"python_full_version {str(version)!r} in provided environment does "
                        "not satisfy the Python version requirement "
                        f"{str(package.requires_python)!r} for package {package.name!r} at "
                        f"packages[{package.position}]",
                        "package-requires-python",
                        some_patches=some,
                    )
                )
                if not some:
                    continue
        if package.name in selected:
            first = selected[package.name]
            refused.append(
                Refusal(
                    package,
                    f"Multiple packages with the name {package.name!r} are selected at "
                    f"packages[{package.position}] and packages[{first.position}]",
                    "duplicate",
                )
            )
            continue
        selected[package.name] = package

    chosen: list[Choice] = []
    ranks = _tag_ranks(target.tags)
    for package in selected.values():
        file, refusal = _choose_file(package, ranks, policy)
        if refusal is not None:
            refused.append(refusal)
        else:
            chosen.append(Choice(package, file))
    return Selection(target, tuple(chosen), tuple(refused))


def _evaluate(
    marker: Marker, environment: Mapping[str, str | frozenset[str]], context: str
) -> bool:
    """Whether the marker holds; for a package's marker ("lock_file"), also when it cannot
    be told: a value the named target does not know (`platform_release`), or a marker
    packaging raises on (pip fails on it), keeps the package's errors errors."""
    undecided = context == "lock_file"
    text = str(marker)
    if undecided and any(name in text and environment.get(name) == "" for name in UNKNOWN_ON_NAMED):
        return True
    try:
        return marker.evaluate(environment, context=context)  # type: ignore[arg-type]
    except Exception:  # an undefined variable: packaging raises, and pip fails with it
        return undecided


def _tag_ranks(tags: tuple[Tag, ...]) -> dict[Tag, int]:
    ranks: dict[Tag, int] = {}
    for rank, tag in enumerate(tags):
        ranks.setdefault(tag, rank)
    return ranks


def best_wheel(wheels: tuple[LockedFile, ...], ranks: Mapping[Tag, int]) -> LockedFile | None:
    """packaging's create_compatible_tags_selector: the best-ranked compatible wheel, the
    first listed among equals."""
    ranked: list[tuple[int, int, LockedFile]] = []
    for order, wheel in enumerate(wheels):
        try:
            tags = parse_wheel_filename(wheel.filename)[3]
        except (ValueError, InvalidVersion):
            continue
        supported = [ranks[t] for t in tags if t in ranks]
        if supported:
            ranked.append((min(supported), order, wheel))
    return min(ranked, key=lambda item: (item[0], item[1]))[2] if ranked else None


def _choose_file(
    package: LockedPackage, ranks: Mapping[Tag, int], policy: BinaryPolicy
) -> tuple[LockedFile | None, Refusal | None]:
    if package.direct is not None:
        return None, None
    if package.archive is not None:
        return package.archive, None
    file: LockedFile | None = None
    sources_only = policy.allows_sdist(package.name) and not policy.allows_wheel(package.name)
    if package.sdist is not None and sources_only:
        file = package.sdist
    elif package.wheels:
        file = best_wheel(package.wheels, ranks) or package.sdist
        if file is None:
            return None, Refusal(
                package,
                f"No wheel found matching the provided tags for package {package.name!r} at "
                f"packages[{package.position}], and no sdist available as a fallback",
                "no-wheel",
            )
    else:
        file = package.sdist
    if file is None:
        return None, None
    if file.is_wheel and not policy.allows_wheel(package.name):
        return None, Refusal(
            package,
            f"Could not install locked package {package.name!r}: No binaries permitted for "
            f"{package.name}",
            "format",
        )
    if not file.is_wheel and not policy.allows_sdist(package.name):
        return None, Refusal(
            package,
            f"Could not install locked package {package.name!r}: No sources permitted for "
            f"{package.name}",
            "format",
        )
    return file, None
