"""One configuration for a run of the check: the command line, `[tool.reqhash-check]` of
the checked tree (kept apart: it is trusted for nothing), the environment and pip's
configuration. Every stage reads it; none builds another."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reqhash_check import pipfile
from reqhash_check.config import ConfiguredIndexes, FileConfig, configured_indexes
from reqhash_check.index.base import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT
from reqhash_check.pipconfig import pip_locations
from reqhash_check.targets import Target
from reqhash_check.urls import DEFAULT_INDEX_URL

MAX_TIMEOUT = 3600.0
"""The longest --timeout either command takes: past an hour a request is not waited for."""


def timeout_problem(seconds: float) -> str | None:
    """Why a --timeout (of the check or of `explain`) is refused, or None."""
    if not math.isfinite(seconds) or seconds <= 0 or seconds > MAX_TIMEOUT:
        return f"--timeout must be a number of seconds above 0 and at most {MAX_TIMEOUT:g}"
    return None


@dataclass(frozen=True)
class CheckOptions:
    """What the checker itself is told: the pip modelled, the targets, the options."""

    require_hashes: bool = False
    pip_version: tuple[int, int] | None = None
    """The pip that will install; None models the strictest pip still in common use for
    each rule (so nothing some pip in use would fail on is missed)."""
    targets: tuple[Target, ...] = ()
    binary_options: tuple[tuple[str, str], ...] = ()
    """("only_binary" | "no_binary", value) from the command line, in the order given."""
    prefer_binary: bool = False
    allowed_hosts: frozenset[str] | None = None
    """--allow-index: the only hosts a file may send pip to (None: no allow-list)."""
    indexes_shown: str = ""
    """The indexes consulted for this set, as messages name them."""
    fix_targets_only: bool = False
    """Fixes write only the hashes of files some target can install."""


@dataclass(frozen=True)
class Settings:
    """One run's inputs, from the command line and the configuration."""

    files: tuple[str, ...]
    targets: tuple[Target, ...]
    stdin_text: str | None = None
    check: CheckOptions = field(default_factory=CheckOptions)
    index_url: str | None = None
    """--index-url from the command line."""
    extra_index_urls: tuple[str, ...] = ()
    """--extra-index-url from the command line."""
    tree_config: FileConfig = field(default_factory=lambda: FileConfig(None, {}))
    """`[tool.reqhash-check]` of the checked tree: its indexes are used, trusted for nothing."""
    select: frozenset[str] = frozenset()
    ignore: frozenset[str] = frozenset()
    offline: bool = False
    use_cache: bool = True
    cache_dir: Path | None = None
    timeout: float = DEFAULT_TIMEOUT
    concurrency: int = DEFAULT_CONCURRENCY
    fix: bool = False
    diff: bool = False
    allow_index: frozenset[str] | None = None
    """--allow-index: the hosts a file may send pip to; None when not given."""
    allow_outside: bool = False
    """--allow-outside-includes: files may include, or find links in, places outside the
    repository."""
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    isolated: bool = False
    """Ignore pip's configuration files and PIP_* variables, as pip --isolated does."""
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    pipfile_categories: tuple[str, ...] = pipfile.CATEGORIES
    """The Pipfile.lock package groups pipenv installs (`--categories`)."""
    verify_downloads: bool = False
    """Fetch the file each target would download and compare its bytes with the listing."""
    max_download_bytes: int = 512 * 1024 * 1024

    def configured_indexes(self) -> ConfiguredIndexes:
        """Where pip looks before any file's options, each location with its origin."""
        return configured_indexes(
            command_line_index=self.index_url,
            command_line_extras=self.extra_index_urls,
            command_line_find_links=self.find_links,
            command_line_no_index=self.no_index,
            tree=self.tree_config,
            pip=pip_locations(self.environ, isolated=self.isolated),
            default_index=DEFAULT_INDEX_URL,
        )


__all__ = ["MAX_TIMEOUT", "Settings", "timeout_problem"]
