"""The repository a checked file belongs to: what includes may read and --fix may write."""

from __future__ import annotations

import os
from pathlib import Path


def repository_root(path: str | Path) -> Path:
    """The git work tree holding `path` (the nearest folder with a `.git`), else the current
    directory. Resolved, so comparisons see through symlinks."""
    start = Path(os.path.realpath(path))
    folder = start if start.is_dir() else start.parent
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    return Path(os.path.realpath(os.getcwd()))


def is_inside(path: str | Path, root: Path) -> bool:
    """Whether `path`, with every symlink resolved, is in `root` and not under its `.git`."""
    resolved = Path(os.path.realpath(path))
    if not resolved.is_relative_to(root):
        return False
    return ".git" not in resolved.relative_to(root).parts
