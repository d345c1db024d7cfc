"""Requirements files: a file set (a file and what it includes), read as pip reads it.

With no `--pip-version`, the oldest and the newest pip modelled both read the set, and a
line either refuses is a problem, saying which: nothing some pip in common use would refuse
is missed. Edits are made line by line (`reqhash_check.fix`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from reqhash_check.requirements import (
    MAX_FILE_BYTES,
    NEWEST,
    OLDEST,
    ParseProblem,
    RequirementSet,
    RequirementsFileError,
    load,
    read_text,
)
from reqhash_check.sources.base import Applied, FileSet, SourceError

if TYPE_CHECKING:
    from reqhash_check.findings import Finding
    from reqhash_check.fix import FilePlan, HashEdit, InsertEdit
    from reqhash_check.settings import Settings

__all__ = ["REQUIREMENTS", "RequirementsSource", "as_pip_reads", "load_version", "stdin_text"]

Reading = tuple[RequirementSet, list[ParseProblem]]


class RequirementsSource:
    kind = "requirements"

    def claims(self, path: str) -> bool:
        return True  # what no other kind claims is read as a requirements file

    def read(self, settings: Settings, path: str, overlay: Mapping[str, str]) -> FileSet:
        text = settings.stdin_text if path == "-" else None
        try:
            req_set, problems = as_pip_reads(
                settings, lambda version: load_version(settings, path, text, overlay, version)
            )
        except RequirementsFileError as error:
            raise SourceError(str(error)) from None
        return FileSet(req_set, tuple(problems), self)

    def apply(
        self,
        settings: Settings,
        path: str,
        edits: Sequence[HashEdit | InsertEdit],
        previous: FilePlan | None,
        root: Path | None,
    ) -> Applied:
        # `fix` is imported here, not at the top: a run without --fix never loads it.
        from reqhash_check import fix as fixer

        if previous is None:
            return Applied(fixer.plan_fix(Path(path), edits, root))
        return Applied(previous.then(edits))

    def as_installed(self, finding: Finding) -> Finding:
        return finding


REQUIREMENTS = RequirementsSource()


def load_version(
    settings: Settings,
    path: str,
    text: str | None,
    overlay: Mapping[str, str],
    version: tuple[int, int],
) -> Reading:
    """The file set as the pip of `version` reads it."""
    return load(
        path,
        text=text,
        environ=settings.environ,
        pip_version=version,
        allow_outside_includes=settings.allow_outside,
        overlay=overlay,
    )


def as_pip_reads(settings: Settings, read: Callable[[tuple[int, int]], Reading]) -> Reading:
    """One file set, read as the pip given with --pip-version reads it. With none given,
    the oldest and the newest pip modelled both read it, and a line either refuses is a
    problem, saying which."""
    modelled = settings.check.pip_version
    req_set, problems = read(modelled or OLDEST)
    if modelled is not None:
        return req_set, problems
    _, newest = read(NEWEST)
    old_keys = {(p.rule, p.location.path, p.location.line) for p in problems}
    new_keys = {(p.rule, p.location.path, p.location.line) for p in newest}
    oldest_name, newest_name = ".".join(map(str, OLDEST)), ".".join(map(str, NEWEST))
    merged = [
        p
        if (p.rule, p.location.path, p.location.line) in new_keys
        else replace(p, message=f"{p.message} (pip {newest_name} reads it)")
        for p in problems
    ]
    merged += [
        replace(p, message=f"{p.message} (pip {oldest_name} reads it)")
        for p in newest
        if (p.rule, p.location.path, p.location.line) not in old_keys
    ]
    return req_set, merged


def stdin_text() -> str:
    """Standard input as a requirements file, held to the same size cap (`- < /dev/zero`
    read it all, without end)."""
    data = sys.stdin.buffer.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise RequirementsFileError(
            f"<stdin>: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, the cap on a "
            "requirements file"
        )
    return read_text(data, "<stdin>")
