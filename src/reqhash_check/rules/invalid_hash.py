"""`invalid-hash`: its documentation and its detections for requirements files (and so
Pipfile.lock) and for pylock.toml.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from reqhash_check.check.context import EntryContext
from reqhash_check.findings import Finding
from reqhash_check.hashes import DIGEST_LENGTHS, is_hex
from reqhash_check.rulebook import E, Rule, define, implements

if TYPE_CHECKING:
    # A lock file's contexts: imported by the lock-file checker, never by a run that
    # reads requirements files only.
    from reqhash_check.lockfile.context import PackageContext

RULE = define(
    Rule(
        "invalid-hash",
        E,
        "A --hash uses an algorithm pip refuses or a digest that cannot be right.",
        "refuses the requirement before downloading anything (only sha256, sha384 and "
        "sha512 are accepted, written in lower case, with a hexadecimal digest of the "
        "algorithm's length).",
        "A typo, a truncated paste, md5/sha1 from an old tool, or an environment "
        "variable that expanded to something else.",
        "Write the full sha256 digest.",
        "six==1.16.0 --hash=md5:d41d8cd98f00b204e9800998ecf8427e",
        in_lock_files=(
            "A hash algorithm `hashlib` does not know, or a digest of the wrong length or "
            "not hexadecimal (pip accepts any algorithm `hashlib` knows in a lock)."
        ),
    )
)


@implements("invalid-hash", "entry")
def invalid_hash(ctx: EntryContext) -> Iterator[Finding]:
    for spec in ctx.entry.hashes:
        expected = DIGEST_LENGTHS.get(spec.algorithm)
        if expected is None:
            yield ctx.finding(
                "invalid-hash",
                f"--hash={spec.text}: pip accepts only sha256, sha384 and sha512 hashes and "
                "refuses this requirement as invalid before downloading anything",
            )
        elif len(spec.digest) != expected or not is_hex(spec.digest):
            yield ctx.finding(
                "invalid-hash",
                f"--hash={spec.text}: a {spec.algorithm} digest is {expected} hexadecimal "
                f"digits, this one is {len(spec.digest)} characters"
                + ("" if is_hex(spec.digest or "x") else " and not hexadecimal")
                + "; no file can ever match it",
            )


@implements("invalid-hash", "lock-package")
def invalid_hash_in_lock(ctx: PackageContext) -> Iterator[Finding]:
    """Names `hashlib` does not know and digests of the wrong shape."""
    from reqhash_check.lockfile.context import file_key, hash_problems

    for file in ctx.package.files:
        for algorithm, problem in hash_problems(file):
            line = file.hash_lines.get(algorithm)
            location = ctx.lock.lock.at(line) if line else file.location
            targets = ctx.lock.file_targets.get(file_key(ctx.package, file), ())
            severity, where, target = ctx.lock.stake(targets)
            yield ctx.finding(
                "invalid-hash",
                location,
                f"{file.filename}: {problem} ({where})",
                severity=severity,
                target=target,
            )
