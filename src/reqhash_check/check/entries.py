"""Rules about one requirement as written: no index needed."""

from __future__ import annotations

from collections.abc import Iterator

from reqhash_check.check.context import PIP_ACCEPTS_UNPINNED_HASHED, EntryContext
from reqhash_check.check.fixes import published_set
from reqhash_check.findings import Finding, SetHashes, Severity
from reqhash_check.hashes import DIGEST_LENGTHS, is_hex
from reqhash_check.requirements import Kind
from reqhash_check.rulebook import implements

HASHES_REQUIRED = (
    "'Hashes are required in --require-hashes mode, but they are missing from some requirements'"
)
_UNHASHABLE = {
    Kind.EDITABLE: "an editable requirement has no single file to hash",
    Kind.VCS: "a VCS checkout has no single file to hash",
    Kind.LOCAL_DIR: "a local folder has no single file to hash",
}


def _what(ctx: EntryContext) -> str:
    entry = ctx.entry
    return entry.raw_name or entry.url or entry.raw.strip()


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


def _in_hash_mode(ctx: EntryContext) -> bool:
    return ctx.set.hash_mode and not ctx.entry.is_constraint


@implements("unhashable", "entry")
def unhashable(ctx: EntryContext) -> Iterator[Finding]:
    reason = _UNHASHABLE.get(ctx.entry.kind)
    if _in_hash_mode(ctx) and reason:
        yield ctx.finding(
            "unhashable",
            f"{_what(ctx)}: hash-checking mode is on and {reason}; pip refuses to install "
            "it. Build a wheel and pin it with its hash, or install it in a separate step",
        )


@implements("missing-hash", "entry")
def missing_hash(ctx: EntryContext) -> Iterator[Finding]:
    entry = ctx.entry
    if not _in_hash_mode(ctx) or entry.kind in _UNHASHABLE or ctx.listed:
        return
    # A hashed constraint on the same project covers it, as pip merges the two.
    if any(c.is_constraint and c.name == entry.name and c.hashes for c in ctx.set.req_set.entries):
        return
    fix = None
    if ctx.release is not None and ctx.release.files:
        fix = SetHashes(entry.location, entry.raw, published_set(ctx))
    yield ctx.finding(
        "missing-hash",
        f"{_what(ctx)} has no --hash while hash-checking mode is on; pip fails with "
        f"{HASHES_REQUIRED}",
        fix=fix,
    )


@implements("unpinned", "entry")
def unpinned(ctx: EntryContext) -> Iterator[Finding]:
    entry = ctx.entry
    if not _in_hash_mode(ctx) or entry.kind is not Kind.NAMED or entry.pin is not None:
        return
    newer_accepts = ctx.set.pip_fails(PIP_ACCEPTS_UNPINNED_HASHED)
    lenient = bool(newer_accepts) and bool(ctx.listed)
    spec = entry.specifier or "no version"
    message = (
        f"{_what(ctx)} is not pinned with == ({spec}); pip older than 26.1 fails with 'In "
        "--require-hashes mode, all requirements must have their versions pinned with =='"
    )
    if ctx.listed:
        message += "; pip 26.1 and later install whichever version a listed hash matches"
    yield ctx.finding("unpinned", message, severity=Severity.WARNING if lenient else None)
