"""PEP 751 lock files (`pylock.toml`, `pylock.<name>.toml`), checked under pip's lock rules.

Only `is_lock_path` is light: a run without lock files never imports the TOML reader,
the lock checker or their dependencies (`reqhash_check.lockrunner` holds them).
"""

from pathlib import PurePath


def is_lock_path(path: str) -> bool:
    """`pylock.toml` or `pylock.<name>.toml`, the names pip reads as lock files."""
    if path == "-" or not PurePath(path).name.startswith("pylock"):
        return False
    from reqhash_check.lockfile.read import is_lock_path as named_like_a_lock

    return named_like_a_lock(path)


__all__ = ["is_lock_path"]
