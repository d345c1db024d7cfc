"""What changed in pip's reading of requirements files between 23.0 and 26.3, and when.

Every difference the reader models is a field of `PipRules`, set from the pip version in
`rules_for`. A version X.Y stands for its last patch release (24.3 means 24.3.1). Versions
before 23.0 are read as 23.0, versions after 26.3 as 26.3.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

OLDEST = (23, 0)
NEWEST = (26, 3)


@dataclass(frozen=True)
class OptionSpec:
    """One option pip's requirements-file line parser knows (an optparse option)."""

    short: tuple[str, ...]
    long: tuple[str, ...]
    dest: str
    action: str
    """store, append, store_true, choice, hash, config, format, release."""
    choices: tuple[str, ...] = ()

    @property
    def takes_value(self) -> bool:
        return self.action != "store_true"


@dataclass(frozen=True)
class PipRules:
    """What one pip release accepts in a requirements file."""

    version: tuple[int, int]
    options: tuple[OptionSpec, ...]
    requirement_dests: frozenset[str]
    """Per-requirement options pip keeps on a requirement line."""
    editable_dests: frozenset[str]
    """... and on an editable line (24.0 gave editables --config-settings)."""
    utf8_before_locale: bool
    """25.0: UTF-8 is tried before the locale's encoding, and UTF-32 BOMs before UTF-16."""
    include_cycles_refused: bool
    """24.3: a file that includes itself (directly or not) is refused; before, pip recursed."""
    packaging: tuple[int, int]
    """The packaging release pip vendors: it decides the requirement and marker grammar."""
    extras_after_version_refused: bool
    """Before 24.1 pip refused `name>=1.0[extra]` itself ("Extras after version")."""
    direct_url_editables: bool
    """25.3: `-e name @ URL` and local project paths named by file: URLs."""
    egg_fragment_strict: bool
    """26.0: an `#egg=` value that is not a bare project name is refused."""
    wheel_names: str
    """How a wheel file name is read: "legacy" (before 25.1), "packaging-or-legacy"
    (25.1, 25.2: packaging's rules with the old pattern as a fallback) or "packaging"."""
    editable_constraint_refused_early: bool
    safe_extras: bool
    """Before 23.3 pip lowercased a requirement's extras (runs of other characters → "_")."""
    editable_option_wins: bool
    """25.0: `-e` on a line that also has a requirement makes that requirement editable;
    before, the requirement won and the -e was ignored."""
    """26.0: an editable constraint is refused while the line is read (before: when the
    constraints are collected). Both refuse the install."""

    def knows(self, dest: str) -> bool:
        return any(option.dest == dest for option in self.options)


def _option(short: str, long: str, dest: str, action: str, *, alias: str = "") -> OptionSpec:
    return OptionSpec(
        (short,) if short else (),
        (long, alias) if alias else (long,),
        dest,
        action,
    )


def _use_feature_choices(version: tuple[int, int]) -> tuple[str, ...]:
    if version >= (26, 2):
        return (
            "fast-deps",
            "inprocess-build-deps",
            "venv-isolation",
            "truststore",
            "no-binary-enable-wheel-cache",
            "build-constraint",
        )
    if version >= (26, 0):
        return (
            "fast-deps",
            "build-constraint",
            "inprocess-build-deps",
            "truststore",
            "no-binary-enable-wheel-cache",
        )
    if version >= (25, 3):
        return ("fast-deps", "build-constraint", "truststore", "no-binary-enable-wheel-cache")
    return ("fast-deps", "truststore", "no-binary-enable-wheel-cache")


def _options(version: tuple[int, int]) -> tuple[OptionSpec, ...]:
    """The options in pip's own order (it shows in 'ambiguous option' messages only sorted)."""
    options = [
        _option("-i", "--index-url", "index_url", "store", alias="--pypi-url"),
        _option("", "--extra-index-url", "extra_index_urls", "append"),
        _option("", "--no-index", "no_index", "store_true"),
        _option("-c", "--constraint", "constraints", "append"),
        _option("-r", "--requirement", "requirements", "append"),
        _option("-e", "--editable", "editables", "append"),
        _option("-f", "--find-links", "find_links", "append"),
        _option("", "--no-binary", "no_binary", "format"),
        _option("", "--only-binary", "only_binary", "format"),
        _option("", "--prefer-binary", "prefer_binary", "store_true"),
        _option("", "--require-hashes", "require_hashes", "store_true"),
    ]
    if version >= (26, 2):
        options.append(_option("", "--no-require-hashes", "no_require_hashes", "store_true"))
    options.append(_option("", "--pre", "pre", "store_true"))
    if version >= (26, 0):
        options.append(_option("", "--all-releases", "all_releases", "release"))
        options.append(_option("", "--only-final", "only_final", "release"))
    options.append(_option("", "--trusted-host", "trusted_hosts", "append"))
    options.append(
        OptionSpec(
            (), ("--use-feature",), "features_enabled", "choice", _use_feature_choices(version)
        )
    )
    if version < (23, 1):
        options.append(_option("", "--install-option", "install_options", "append"))
    if version < (25, 3):
        options.append(_option("", "--global-option", "global_options", "append"))
    options.append(_option("", "--hash", "hashes", "hash"))
    if version >= (23, 1):
        options.append(_option("-C", "--config-settings", "config_settings", "config"))
    return tuple(options)


def _requirement_dests(version: tuple[int, int]) -> frozenset[str]:
    if version < (23, 1):
        return frozenset({"install_options", "global_options", "hashes"})
    if version < (25, 3):
        return frozenset({"global_options", "hashes", "config_settings"})
    return frozenset({"hashes", "config_settings"})


def _packaging(version: tuple[int, int]) -> tuple[int, int]:
    if version < (24, 1):
        return (21, 3)
    if version < (25, 0):
        return (24, 1)
    if version < (25, 1):
        return (24, 2)
    if version < (26, 0):
        return (25, 0)
    if version < (26, 1):
        return (26, 0)
    if version < (26, 3):
        return (26, 2)
    return (26, 3)


def clamp(version: tuple[int, int]) -> tuple[int, int]:
    return max(OLDEST, min(NEWEST, (int(version[0]), int(version[1]))))


@functools.cache
def rules_for(version: tuple[int, int]) -> PipRules:
    version = clamp(version)
    return PipRules(
        version=version,
        options=_options(version),
        requirement_dests=_requirement_dests(version),
        editable_dests=frozenset({"config_settings"}) if version >= (24, 0) else frozenset(),
        utf8_before_locale=version >= (25, 0),
        include_cycles_refused=version >= (24, 3),
        packaging=_packaging(version),
        extras_after_version_refused=version < (24, 1),
        direct_url_editables=version >= (25, 3),
        egg_fragment_strict=version >= (26, 0),
        wheel_names="legacy"
        if version < (25, 1)
        else ("packaging-or-legacy" if version < (25, 3) else "packaging"),
        editable_constraint_refused_early=version >= (26, 0),
        safe_extras=version < (23, 3),
        editable_option_wins=version >= (25, 0),
    )
