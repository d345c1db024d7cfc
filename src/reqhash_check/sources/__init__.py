"""Inputs as sources: one module per kind of file, each reading it into entries with their
locations and applying edits to it (`base.Source`)."""

from typing import Any

from reqhash_check.sources.base import Applied, FileSet, FileSetSource, Source, SourceError
from reqhash_check.sources.pipfile import PIPFILE_LOCK
from reqhash_check.sources.pylock import PYLOCK
from reqhash_check.sources.requirements import REQUIREMENTS

SOURCES: tuple[Source[Any, Any], ...] = (PYLOCK, PIPFILE_LOCK, REQUIREMENTS)
"""Every kind, in the order they claim a file (a requirements file claims what is left)."""

FILE_SETS: tuple[FileSetSource, ...] = (PIPFILE_LOCK, REQUIREMENTS)
"""The kinds read into requirement sets, in the order they claim a file."""


def file_set_source(path: str) -> FileSetSource:
    """The kind a file set given on the command line (or an edit's file) is read as."""
    return next(source for source in FILE_SETS if source.claims(path))


__all__ = [
    "FILE_SETS",
    "PIPFILE_LOCK",
    "PYLOCK",
    "REQUIREMENTS",
    "SOURCES",
    "Applied",
    "FileSet",
    "FileSetSource",
    "Source",
    "SourceError",
    "file_set_source",
]
