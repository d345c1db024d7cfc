"""`Pipfile.lock`: read as the requirements text pipenv hands pip (`reqhash_check.pipfile`),
every location moved back to the lock; edits rewrite its `hashes` lists only, in pipenv's
own layout."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from reqhash_check import pipfile
from reqhash_check.findings import Finding, Severity
from reqhash_check.requirements import RequirementsFileError
from reqhash_check.sources.base import Applied, FileSet, SourceError
from reqhash_check.sources.requirements import Reading, as_pip_reads, load_version

if TYPE_CHECKING:
    from reqhash_check.fix import FilePlan, HashEdit, InsertEdit
    from reqhash_check.settings import Settings

__all__ = ["PIPFILE_LOCK", "PipfileLockSource"]


class PipfileLockSource:
    kind = "Pipfile.lock"

    def claims(self, path: str) -> bool:
        return pipfile.is_pipfile_lock(path)

    def read(self, settings: Settings, path: str, overlay: Mapping[str, str]) -> FileSet:
        try:
            # pipenv installs a lock as a requirements file it writes: read that file.
            lock_text = overlay.get(path) or pipfile.read_lock_text(path)
            view = pipfile.read_view(path, lock_text, settings.pipfile_categories)

            def read(version: tuple[int, int]) -> Reading:
                text = view.requirements_text
                try:
                    return pipfile.relocate(
                        view, *load_version(settings, path, text, overlay, version)
                    )
                except RequirementsFileError as error:
                    raise pipfile.relocate_error(view, error) from None

            req_set, problems = as_pip_reads(settings, read)
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
        """The lock with its hash lists rewritten through pipenv's own layout."""
        # `fix` is imported here, not at the top: a run without --fix never loads it.
        from reqhash_check import fix as fixer

        if previous is None:
            try:
                old = pipfile.read_lock_text(path, root).encode("utf-8")
            except RequirementsFileError as error:
                raise fixer.FixError(str(error)) from None
            previous = fixer.FilePlan(Path(path), old, old, "utf-8")
        new_hashes = {
            edit.location.line: edit.new_hashes
            for edit in edits
            if isinstance(edit, fixer.HashEdit)
        }
        try:
            text = pipfile.rewrite_hashes(
                path, previous.new_text, new_hashes, settings.pipfile_categories
            )
        except (ValueError, RequirementsFileError) as error:
            raise fixer.FixError(str(error)) from None
        return Applied(replace(previous, new=text.encode("utf-8")))

    def as_installed(self, finding: Finding) -> Finding:
        """pipenv installs a lock with `pip install --no-deps`: a dependency the lock lacks
        fails nothing there, but leaves the environment without it. Locking again adds it."""
        if finding.rule != "missing-dependency":
            return finding
        return replace(
            finding,
            severity=Severity.WARNING,
            fix=None,
            message=finding.message.split("; pip fails", 1)[0]
            + "; pipenv installs with --no-deps, so pip does not fail, but the environment "
            "lacks it: run `pipenv lock` to add it",
        )


PIPFILE_LOCK = PipfileLockSource()
