"""What every kind of input offers the engine: a `Source` reads a file into its entries,
each with its location (and the problems the reading found), and applies edits to it.

One module per kind: `requirements` (a requirements file set with its includes, read as
pip reads it), `pipfile` (a `Pipfile.lock`, read as pipenv hands it to pip) and `pylock`
(a PEP 751 `pylock.toml`). The runner asks a source to read and to apply; it never asks
which kind a file is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeAlias, TypeVar

from reqhash_check.requirements import ParseProblem, RequirementSet

if TYPE_CHECKING:
    from reqhash_check.findings import Finding
    from reqhash_check.fix import FilePlan, HashEdit, InsertEdit
    from reqhash_check.settings import Settings

__all__ = ["Applied", "FileEdits", "FileSet", "FileSetSource", "Source", "SourceError", "read_all"]

Parsed = TypeVar("Parsed", covariant=True)
Edits = TypeVar("Edits", contravariant=True)
_P = TypeVar("_P")

FileEdits: TypeAlias = "Sequence[HashEdit | InsertEdit]"
"""The edits of a requirements-shaped file: hash sets replaced, pins inserted."""


class SourceError(Exception):
    """The file cannot be read at all; the message is one line."""


@dataclass(frozen=True)
class Applied:
    """Edits applied to one file: what `--fix` would write (None: nothing to change), the
    edits not made (one line each), and what the edits did, when the kind says it."""

    plan: FilePlan | None
    not_made: tuple[str, ...] = ()
    done: str = ""


class Source(Protocol[Parsed, Edits]):
    """One kind of input."""

    kind: str
    """Its name, as a user calls it."""

    def claims(self, path: str) -> bool:
        """Whether `path` is of this kind (by its name: nothing is read)."""
        ...

    def read(self, settings: Settings, path: str, overlay: Mapping[str, str]) -> Parsed:
        """The file read into entries with their locations, and the problems found; a
        file's text in `overlay` (a round of fixes not yet written) stands for what is on
        disk. Raises SourceError when it cannot be read at all."""
        ...

    def apply(
        self,
        settings: Settings,
        path: str,
        edits: Edits,
        previous: FilePlan | None,
        root: Path | None,
    ) -> Applied:
        """The file with `edits` applied: to `previous` (an earlier round's plan) when
        given, else to the file read under `root`. Raises FixError when it cannot be."""
        ...


@dataclass(frozen=True)
class FileSet:
    """A file (with its includes) read into a requirement set, as pip installs it."""

    req_set: RequirementSet
    problems: tuple[ParseProblem, ...]
    source: FileSetSource


class FileSetSource(Source[FileSet, FileEdits], Protocol):
    """A kind read into a requirement set, checked by the requirements rules."""

    def as_installed(self, finding: Finding) -> Finding:
        """A finding as it stands where this kind is installed (pipenv's `--no-deps`)."""
        ...


def read_all(
    source_of: Callable[[str], Source[_P, Any]],
    settings: Settings,
    paths: Sequence[str],
    overlay: Mapping[str, str],
) -> tuple[list[_P], list[str]]:
    """Each file read by its source; one line for each that cannot be."""
    read: list[_P] = []
    errors: list[str] = []
    for path in paths:
        try:
            read.append(source_of(path).read(settings, path, overlay))
        except SourceError as error:  # noqa: PERF203 - one message per unreadable file
            errors.append(str(error))
    return read, errors
