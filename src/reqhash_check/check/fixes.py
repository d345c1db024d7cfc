"""The hash sets fixes write, computed once from the release and the targets."""

from __future__ import annotations

from reqhash_check.check.context import EntryContext
from reqhash_check.hashes import is_hex_digest
from reqhash_check.targets import candidates


def published_set(ctx: EntryContext) -> tuple[str, ...]:
    """What a fixed requirement lists: the published sha256 hashes of the pinned version (with
    --fix-targets-only, of the files some target can install), plus the listed hashes the
    index cannot confirm (sha384/sha512), which are kept rather than dropped; a listed hash
    pip refuses (md5, a digest of the wrong length) is not written back."""
    release = ctx.release
    if release is None:
        return ()
    files = release.files
    options = ctx.options
    if options.fix_targets_only and options.targets:
        keep = {
            f.filename
            for target in options.targets
            for f in candidates(target, files, ctx.entry.name, ctx.set.policy)
        }
        files = tuple(f for f in files if f.filename in keep)
    published = sorted({f"sha256:{f.sha256}" for f in files if f.sha256})
    kept = [h for h in ctx.listed if not h.startswith("sha256:") and is_hex_digest(*_split(h))]
    return tuple(published + kept)


def _split(text: str) -> tuple[str, str]:
    algorithm, _, digest = text.partition(":")
    return algorithm, digest
