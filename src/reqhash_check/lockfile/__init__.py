"""PEP 751 lock files (`pylock.toml`, `pylock.<name>.toml`), checked under pip's lock rules."""

from reqhash_check.lockfile.read import is_lock_path
from reqhash_check.lockfile.run import LockRun, check_locks, fix_locks

__all__ = ["LockRun", "check_locks", "fix_locks", "is_lock_path"]
