"""The repository a checked file belongs to: what includes may read and --fix may write."""

from __future__ import annotations

import os
from pathlib import Path


def repository_root(path: str | Path) -> Path:
    """The git work tree holding the file named on the command line (the nearest folder
    with a `.git`), else the current directory when the file is in it, else the file's own
    folder. The file itself is not resolved: a symlink leaving the tree does not move it."""
    folder = Path(os.path.realpath(os.path.dirname(os.path.abspath(path))))
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate
    here = Path(os.path.realpath(os.getcwd()))
    return here if folder.is_relative_to(here) else folder


def is_inside(path: str | Path, root: Path) -> bool:
    """Whether `path`, with every symlink resolved, is in `root` and not under its `.git`."""
    resolved = Path(os.path.realpath(path))
    if not resolved.is_relative_to(root):
        return False
    return ".git" not in resolved.relative_to(root).parts
