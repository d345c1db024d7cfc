"""PEP 751 lock files (`pylock.toml`, `pylock.<name>.toml`): read by `lockfile.read`,
edited in place with tomlkit by `lockfile.fix` (the wrong file entries rewritten, missing
wheels added), every other byte kept."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from reqhash_check import lockfile
from reqhash_check.sources.base import Applied, SourceError

if TYPE_CHECKING:
    from reqhash_check.fix import FilePlan
    from reqhash_check.index.base import ReleaseLookup
    from reqhash_check.lockfile.check import LockCheck
    from reqhash_check.lockfile.read import LockFile
    from reqhash_check.settings import Settings

__all__ = ["PYLOCK", "LockEdits", "PylockSource"]


@dataclass(frozen=True)
class LockEdits:
    """The edits a lock's check asks for: its file entries whose hashes are wrong and the
    wheels it lacks (`check.wrong_files`, `check.missing_wheels`), with the index's answers
    per package position."""

    lock: LockFile
    check: LockCheck
    lookups: Mapping[int, ReleaseLookup]


class PylockSource:
    kind = "pylock.toml"

    def claims(self, path: str) -> bool:
        return lockfile.is_lock_path(path)

    def read(self, settings: Settings, path: str, overlay: Mapping[str, str]) -> LockFile:
        """The lock as it is on disk (a lock is fixed in one round: `overlay` is unused)."""
        # Imported here, not at the top: a run without lock files never loads the TOML
        # reader (start-up time).
        from reqhash_check.lockfile.read import LockFileError, read_lock

        try:
            return read_lock(path, allow_outside=settings.allow_outside)
        except LockFileError as error:
            raise SourceError(str(error)) from None

    def apply(
        self,
        settings: Settings,
        path: str,
        edits: LockEdits,
        previous: FilePlan | None,
        root: Path | None,
    ) -> Applied:
        # Imported here, not at the top: a run without lock files never loads tomlkit's
        # writer (start-up time).
        from reqhash_check.fix import FixError
        from reqhash_check.lockfile.fix import LockFixError, plan_lock_fix

        try:
            plan, summary = plan_lock_fix(edits.lock, edits.check, edits.lookups)
        except LockFixError as error:
            raise FixError(str(error)) from None
        return Applied(plan, tuple(summary.skipped), summary.describe())


PYLOCK = PylockSource()
