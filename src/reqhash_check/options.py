"""Options more than one command takes (the check and `explain`): one definition each, so
the commands cannot drift apart."""

from __future__ import annotations

import argparse

from reqhash_check.index.base import DEFAULT_TIMEOUT


def add_isolated_option(group: argparse._ArgumentGroup) -> None:
    """--isolated, as the check and `explain` both take it."""
    group.add_argument(
        "--isolated",
        action="store_true",
        help="as pip: ignore pip's configuration files and PIP_* environment variables "
        "(read by default for indexes, find-links and --no-index)",
    )


def add_color_option(group: argparse._ArgumentGroup) -> None:
    """--color, as the check and `explain` both take it."""
    group.add_argument(
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the text output (auto: on a terminal, honouring NO_COLOR/FORCE_COLOR)",
    )


def add_cache_options(group: argparse._ArgumentGroup) -> None:
    """--no-cache and --cache-dir, as the check and `explain` both take them."""
    group.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    group.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="cache folder (default: $REQHASH_CHECK_CACHE_DIR, else the user cache folder)",
    )


def add_timeout_option(group: argparse._ArgumentGroup, default: float | None = None) -> None:
    """--timeout, as the check and `explain` both take it (both refuse what
    `settings.timeout_problem` refuses)."""
    group.add_argument(
        "--timeout",
        type=float,
        default=default,
        metavar="SECONDS",
        help=f"the longest one request may take in all (default {DEFAULT_TIMEOUT:g})",
    )
