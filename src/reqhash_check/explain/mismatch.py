"""The four causes of `THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE`.

Checked in this order: `unpublished-bytes` (the bytes pip received match no file the index
publishes for the project, while the listed hashes include the published hash of the very
file pip downloaded), `mistyped-hash` (pip received the published file, and a listed hash is
a few characters from its published hash: a hand edit or damage of the requirements),
`stale-pin` (a listed hash belongs to another version),
`incomplete-hashes` (the listed hashes are other files of this version and pip received this
version's file for its platform), `foreign-hashes` (the listed hashes match nothing the index
publishes for the project).

The lines a fix suggests never keep a listed hash that matches nothing published: a mistyped
one is replaced by the published hash it is close to, any other is left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from reqhash_check.explain import fixlines
from reqhash_check.explain.draft import (
    Draft,
    Published,
    check_command,
    file_list,
    fix_command,
    fix_file,
    host_of,
    label,
    lines_for,
    pip_index_note,
    plural,
    problem_text,
    short,
)
from reqhash_check.explain.logparse import Failure, HashGroup, clean
from reqhash_check.explain.lookup import Facts
from reqhash_check.explain.model import (
    FOREIGN_HASHES,
    INCOMPLETE_HASHES,
    MISTYPED_HASH,
    STALE_PIN,
    UNPUBLISHED_BYTES,
    Context,
    Diagnosis,
    Fix,
)
from reqhash_check.findings import KB_HASH_MISMATCH
from reqhash_check.index.answers import parse_version
from reqhash_check.index.base import DistFile
from reqhash_check.urls import redact_url

MAX_NEAR_LOOKUPS = 64
"""Listed hashes per failure compared with the published ones for a near miss."""


@dataclass(frozen=True)
class Listed:
    """A hash the requirements list, and the published file it is, exactly or mistyped."""

    algorithm: str
    digest: str
    """As listed (pip compares it as written, so its case counts)."""
    file: DistFile | None
    published: str | None
    """The file's published digest, lower case."""
    typo: int | None = None
    """None: listed exactly; 0: only the case differs; N: N characters differ."""

    @property
    def text(self) -> str:
        return f"{self.algorithm}:{self.digest}"

    @property
    def fixed(self) -> str | None:
        """The hash to write instead: the published one; None for a hash of nothing."""
        return f"{self.algorithm}:{self.published}" if self.published else None


def read_listed(groups: Sequence[HashGroup], published: Published) -> list[Listed]:
    out: list[Listed] = []
    lookups = 0
    for group in groups:
        for digest in group.expected:
            found = published.find(group.algorithm, digest)
            if found is not None:
                typo = 0 if digest != digest.lower() else None
                out.append(Listed(group.algorithm, digest, found, digest.lower(), typo))
                continue
            near = None
            if lookups < MAX_NEAR_LOOKUPS:
                lookups += 1
                near = published.near(group.algorithm, digest)
            if near is None:
                out.append(Listed(group.algorithm, digest, None, None))
            else:
                out.append(Listed(group.algorithm, digest, near[0], near[1], near[2]))
    return out


def _differ(typo: Listed) -> str:
    if not typo.typo:
        return "only the case differs (pip compares hashes as written)"
    return f"{plural(typo.typo, 'character differs', 'characters differ')}"


def _typo_note(typo: Listed) -> str:
    filename = typo.file.filename if typo.file else "?"
    return (
        f"the listed {typo.algorithm} {short(typo.digest)} is {filename}'s published hash "
        f"{short(typo.published or '')} mistyped ({_differ(typo)}): the file was edited by hand "
        "or damaged; the lines below give the published one"
    )


def fixed_hashes(listed: Sequence[Listed], version_files: Sequence[DistFile]) -> set[str]:
    """The listed hashes that are this version's files, mistyped ones as published."""
    return {fixed for item in listed if item.file in version_files and (fixed := item.fixed)}


def diagnose_mismatch(failure: Failure, facts: Facts, ctx: Context) -> Diagnosis:
    draft = Draft(failure, ctx, facts)
    project, version = failure.project, failure.version
    if project is None or version is None:
        return draft.undetermined(
            "pip's message names no project and version this tool can look up",
            kb=KB_HASH_MISMATCH,
        )
    if facts.release is None and facts.project_files is None:
        return draft.undetermined(problem_text(facts), kb=KB_HASH_MISMATCH)
    published = Published(version, facts)
    note = pip_index_note(ctx)
    if note:
        draft.notes.append(note)
    if facts.project_problem is not None and facts.project_files is None:
        draft.notes.append(f"other versions could not be listed: {facts.project_problem.message}")

    compared = [g for g in failure.groups if g.algorithm in published.algorithms]
    if not compared:
        stated = ", ".join(sorted(published.algorithms)) or "no digests"
        algorithms = ", ".join(sorted({g.algorithm for g in failure.groups}))
        return draft.undetermined(
            f"pip compared {algorithms} hashes and {ctx.index} states {stated} for these files",
            kb=KB_HASH_MISMATCH,
        )
    listed = read_listed(compared, published)
    typos = [item for item in listed if item.typo is not None]
    hits = [(item.algorithm, item.digest, item.file) for item in listed if item.typo is None]
    other = [(a, h, f) for a, h, f in hits if f is not None and f not in published.version_files]
    same = [(a, h, f) for a, h, f in hits if f is not None and f in published.version_files]
    got_file = next(
        (f for g in compared if (f := published.find(g.algorithm, g.got)) is not None), None
    )
    downloaded = published.named(failure.filename)
    if downloaded is None and failure.filename is None and failure.tool == "uv":
        # uv names no file; it downloads only files whose published hash is listed, so one
        # listed file of this version is the one it downloaded.
        candidates = {f for _, _, f in same}
        downloaded = candidates.pop() if len(candidates) == 1 else None
    listed_download = downloaded is not None and any(
        downloaded.hashes.get(g.algorithm) in g.expected for g in compared
    )
    if failure.filename and got_file is not None and got_file.filename != failure.filename:
        draft.notes.append(
            f"pip named {failure.filename} but received the bytes of {got_file.filename}"
        )
    if not published.version_files:
        host = host_of(failure.url) or "another index"
        return draft.undetermined(
            f"{ctx.index} publishes no {project} {version}; pip downloaded it from {host}: "
            "run explain with the --index-url pip used",
            kb=KB_HASH_MISMATCH,
        )
    if got_file is None and downloaded is not None and listed_download:
        return _unpublished_bytes(draft, published, downloaded, listed=True)
    typo = next((t for t in typos if got_file is not None and t.file == got_file), None)
    if typo is not None and got_file is not None:
        return _mistyped(draft, published, listed, typo, got_file)
    draft.notes.extend(_typo_note(t) for t in typos)
    if got_file is None and downloaded is not None and any(t.file == downloaded for t in typos):
        return _unpublished_bytes(draft, published, downloaded, listed=False)
    if other:
        return _stale_pin(draft, published, other, got_file)
    if same and got_file is not None and got_file in published.version_files:
        return _incomplete(draft, published, listed, same, got_file)
    if not same and not other and not typos:
        return _foreign(draft, published, got_file, downloaded)
    if got_file is None and downloaded is not None:
        return _unpublished_bytes(draft, published, downloaded, listed=False)
    return draft.undetermined(
        "the listed hashes are files of this version but pip received something else, and "
        f"{ctx.index} does not publish {failure.filename or 'the file pip named'}",
        kb=KB_HASH_MISMATCH,
    )


def _unpublished_bytes(
    draft: Draft, published: Published, downloaded: DistFile, *, listed: bool
) -> Diagnosis:
    failure, ctx = draft.failure, draft.ctx
    got = failure.sha256_got or (failure.got_hashes[0] if failure.got_hashes else "?")
    host = host_of(failure.url) or ("the host in pip's URL" if failure.url else "its file host")
    published_hash = downloaded.sha256 or "?"
    parts = [
        f"pip downloaded {downloaded.filename} from {host}, but the bytes it received "
        f"(sha256 {short(got)}) match no file {ctx.index} publishes for {failure.project}."
    ]
    if listed:
        parts.append(
            f"The requirements list {downloaded.filename}'s published hash "
            f"({short(published_hash)}): the hashes are right, the download is not."
        )
    else:
        parts.append(
            f"{downloaded.filename} is published with sha256 {short(published_hash)}, which the "
            "requirements do not list either; add it only once pip receives the published bytes."
        )
    parts.append(
        "That is a corrupted download, a proxy or mirror serving other bytes, or tampering."
    )
    if failure.page_sha256 and failure.page_sha256 == published_hash:
        parts.append(
            "pip's index page stated the published hash for it, so the bytes changed after the "
            "index page: in transit (a proxy) or on the file host."
        )
    elif failure.page_sha256 and failure.page_sha256 == got:
        parts.append(
            "pip's own index page states the received hash: the index pip used publishes other "
            f"bytes under this name than {ctx.index}."
        )
    if failure.url and failure.url.startswith("http://") and not _loopback(host):
        parts.append("The file came over plain http://, which anyone on the path can alter.")
    parts.append(
        "Do not regenerate the hashes from these bytes: that would bake the bad file into the "
        "requirements."
    )
    index_url = clean(redact_url(downloaded.url)) if downloaded.url else None
    checks = [
        "whether pip goes through a proxy (--proxy, HTTPS_PROXY/HTTP_PROXY/ALL_PROXY, pip.conf) "
        "or a mirror (--index-url, PIP_INDEX_URL, pip.conf) that serves other bytes",
        f"download {downloaded.filename} again"
        + (f" from {index_url}" if index_url else "")
        + f" and compare its sha256 with the published {published_hash}",
        f"if {host} is the index itself, report the file to the index's operators",
    ]
    fix = Fix(
        summary="find what served the other bytes; change nothing in the requirements. "
        "Check: " + "; ".join(checks),
        action="none",
    )
    return draft.build(UNPUBLISHED_BYTES, " ".join(parts), fix, kb=KB_HASH_MISMATCH)


def _loopback(host: str) -> bool:
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
    return name in ("localhost", "127.0.0.1", "[::1]") or name.startswith("127.")


def _origin(file: DistFile) -> str:
    return f"{file.version}'s {file.filename}"


def _stale_pin(
    draft: Draft,
    published: Published,
    other: Sequence[tuple[str, str, DistFile]],
    got_file: DistFile | None,
) -> Diagnosis:
    failure = draft.failure
    project, version = failure.project or "", failure.version or ""
    versions = sorted({f.version for _, _, f in other}, key=lambda v: parse_version(v) or v)
    origins = "; ".join(f"{short(h)} is {project} {_origin(f)}" for _, h, f in other[:3])
    if len(other) > 3:
        origins += f"; and {len(other) - 3} more"
    if fixlines.is_lock_file(fix_file(failure, draft.ctx, draft.current)):
        message = (
            f"The lock's entry for {failure.filename or label(project, version)} records hashes "
            f"of {project} {', '.join(versions)}, not of {version} ({origins}): the lock was "
            "edited without regenerating its hashes."
        )
    else:
        message = (
            f"{label(project, version)} lists hashes of {project} {', '.join(versions)}, not "
            f"of {version} ({origins}): the pin was changed without regenerating the hashes."
        )
    if got_file is not None:
        message += f" pip downloaded {got_file.filename}, the published file of {version}."
    hashes = published.version_hashes()
    fix = _replace_fix(draft, version, hashes, f"list {label(project, version)}'s published hashes")
    if versions:
        other_pin = f"{project}=={versions[-1]}"
        fix = replace(
            fix, summary=f"{fix.summary}; or, if {versions[-1]} was meant, pin {other_pin}"
        )
    return draft.build(STALE_PIN, message, fix, kb=KB_HASH_MISMATCH, needed=hashes)


def _incomplete(
    draft: Draft,
    published: Published,
    listed: Sequence[Listed],
    same: Sequence[tuple[str, str, DistFile]],
    got_file: DistFile,
) -> Diagnosis:
    failure, ctx = draft.failure, draft.ctx
    project, version = failure.project or "", failure.version or ""
    draft.target = fixlines.target_for_wheel(got_file.filename, ctx.fallback_python)
    kind = "the sdist" if not got_file.is_wheel else "the wheel"
    platform = f" (a host like --target {draft.target})" if draft.target else ""
    message = (
        f"{label(project, version)} lists the hashes of {file_list(f for _, _, f in same)} but "
        f"not of {got_file.filename}, {kind} pip picks on its platform{platform}: the list was "
        "made on another platform."
    )
    unknown = [item for item in listed if item.file is None]
    if unknown:
        message += (
            f" {plural(len(unknown), 'listed hash matches', 'listed hashes match')} nothing "
            "published and "
            + ("is" if len(unknown) == 1 else "are")
            + " left out of the lines below."
        )
    got = f"sha256:{got_file.sha256}"
    hashes = tuple(sorted({*fixed_hashes(listed, published.version_files), got}))
    path = fix_file(failure, ctx, draft.current)
    if fixlines.is_lock_file(path):
        fix = _lock_fix(draft, got_file)
    else:
        fix = Fix(
            summary=f"add {got_file.filename}'s hash ({got})"
            + (f" and check with --target {draft.target}" if draft.target else ""),
            action="replace",
            lines=lines_for(failure, draft.entry, version, hashes),
            command=fix_command(path, draft.target),
            check=check_command(path, draft.target),
        )
    return draft.build(INCOMPLETE_HASHES, message, fix, kb=KB_HASH_MISMATCH, needed=(got,))


def _mistyped(
    draft: Draft,
    published: Published,
    listed: Sequence[Listed],
    typo: Listed,
    got_file: DistFile,
) -> Diagnosis:
    failure, ctx = draft.failure, draft.ctx
    project, version = failure.project or "", failure.version or ""
    message = (
        f"{label(project, version)} lists {typo.algorithm} {short(typo.digest)} where "
        f"{got_file.filename}'s published hash is {short(typo.published or '')}: "
        f"{_differ(typo)}. The requirements were edited by hand or damaged; pip received "
        f"exactly the file {ctx.index} publishes."
    )
    others = [t for t in listed if t.typo is not None and t is not typo]
    if others:
        message += (
            f" {plural(len(others), 'other listed hash is', 'other listed hashes are')} "
            "mistyped too."
        )
    unknown = [item for item in listed if item.file is None]
    if unknown:
        message += (
            f" {plural(len(unknown), 'listed hash matches', 'listed hashes match')} nothing "
            "published and "
            + ("is" if len(unknown) == 1 else "are")
            + " left out of the lines below."
        )
    got = f"{typo.algorithm}:{typo.published}"
    path = fix_file(failure, ctx, draft.current)
    if fixlines.is_lock_file(path):
        fix = _lock_fix(draft, got_file)
    else:
        hashes = tuple(sorted({*fixed_hashes(listed, published.version_files), got}))
        fix = Fix(
            summary=f"write {got_file.filename}'s published hash ({short(typo.published or '')}) "
            f"in place of the mistyped {short(typo.digest)}",
            action="replace",
            lines=lines_for(failure, draft.entry, version, hashes),
            command=fix_command(path),
            check=check_command(path),
        )
    return draft.build(MISTYPED_HASH, message, fix, kb=KB_HASH_MISMATCH, needed=(got,))


def _foreign(
    draft: Draft, published: Published, got_file: DistFile | None, downloaded: DistFile | None
) -> Diagnosis:
    failure, ctx = draft.failure, draft.ctx
    project, version = failure.project or "", failure.version or ""
    count = len(failure.expected)
    subject = (
        "the listed hash matches no file"
        if count == 1
        else f"none of the {count} listed hashes matches a file"
    )
    message = (
        f"{label(project, version)}: {subject} {ctx.index} publishes for {project}, in any "
        "version: the list came from another index or a private build."
    )
    if got_file is not None:
        message += f" pip downloaded {got_file.filename}, exactly as {ctx.index} publishes it."
    elif downloaded is not None:
        draft.notes.append(
            f"the bytes pip received for {downloaded.filename} are not the published ones "
            "either: pip probably uses another index or mirror; run explain with its --index-url"
        )
    hashes = published.version_hashes()
    fix = _replace_fix(
        draft,
        version,
        hashes,
        f"list the hashes {ctx.index} publishes for {label(project, version)}; if the package "
        "must come from a private index, point pip and explain at that index instead",
    )
    return draft.build(FOREIGN_HASHES, message, fix, kb=KB_HASH_MISMATCH, needed=hashes)


def _replace_fix(draft: Draft, version: str, hashes: Sequence[str], summary: str) -> Fix:
    failure, ctx = draft.failure, draft.ctx
    path = fix_file(failure, ctx, draft.current)
    if fixlines.is_lock_file(path):
        downloaded = next(
            (
                f
                for f in Published(version, draft.facts).version_files
                if f.filename == failure.filename
            ),
            None,
        )
        if downloaded is not None:
            return _lock_fix(draft, downloaded)
    return Fix(
        summary=summary,
        action="replace",
        lines=lines_for(failure, draft.entry, version, hashes),
        command=fix_command(path),
        check=check_command(path),
    )


def _lock_fix(draft: Draft, file: DistFile) -> Fix:
    path = fix_file(draft.failure, draft.ctx, draft.current)
    return Fix(
        summary=f"give {file.filename} its published hash in {path} (or regenerate the lock "
        "with the tool that made it)",
        action="replace",
        lines=(fixlines.lock_hash_line(file.sha256 or ""),),
        command=fix_command(path),
        check=check_command(path),
        place=f"the hashes line of the entry named {file.filename} in {path}",
    )
