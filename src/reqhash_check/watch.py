"""What a check reads and which index answers it uses, told to a listener (the verdict
cache, `verdict.py`) when one is set; nothing happens otherwise.

This module imports nothing of the package, so the file layer, the configuration readers
and the answers cache can all tell it what they do without an import cycle."""

from __future__ import annotations

import os
from typing import Protocol


class Listener(Protocol):
    def path(self, path: str, data: bytes | None) -> None: ...
    def answer(self, fetched_at: float, freshness: float, fresh: bool) -> None: ...
    def no_answer(self) -> None: ...
    def wrote(self) -> None: ...
    def expanded(self) -> None: ...


listener: Listener | None = None
"""Set by the verdict cache for the length of one check; None the rest of the time."""


def path(name: str | os.PathLike[str], data: bytes | None = None, cwd: str | None = None) -> None:
    """The run looked at (`data` None) or read (`data`) the file or folder `name`; one that
    does not exist counts too: it appearing later changes the run."""
    if listener is not None:
        full = os.path.join(os.getcwd(), cwd or "", os.fspath(name))
        # The file layer walks `..` after a symlink to where the symlink leads, as the
        # system does: a path holding one is kept as written, so that the verdict's
        # realpath of it is the file or folder the run used (not the one the text names).
        keep = os.pardir in full.split(os.sep)
        listener.path(full if keep else os.path.abspath(full), data)


def answer(fetched_at: float, freshness: float, fresh: bool) -> None:
    """The answers cache gave a row fetched at `fetched_at`."""
    if listener is not None:
        listener.answer(fetched_at, freshness, fresh)


def no_answer() -> None:
    """The answers cache had no usable row for a question."""
    if listener is not None:
        listener.no_answer()


def wrote() -> None:
    """The answers cache was written (a row put, refreshed or dropped)."""
    if listener is not None:
        listener.wrote()


def expanded() -> None:
    """A file's `${VAR}` was expanded: what derives from the value (a path, a name) must be
    kept nowhere, so this run stores no verdict."""
    if listener is not None:
        listener.expanded()
