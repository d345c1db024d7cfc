"""From one parsed failure and what the index says about it to one named cause, with its fix.

Pure: no I/O. The causes of a hash mismatch are checked in this order:

- `unpublished-bytes`: the bytes pip received match no file the index publishes for the
  project, while the listed hashes include the published hash of the very file pip
  downloaded. The list is right; the download is not.
- `stale-pin`: a listed hash belongs to a file of another version.
- `incomplete-hashes`: the listed hashes are other files of this version, and what pip
  received is this version's file for pip's platform.
- `foreign-hashes`: the listed hashes match nothing the index publishes for the project.

pip's other hash-checking failures map to the rules of `reqhash_check.rules`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from reqhash_check.explain import fixlines
from reqhash_check.explain.logparse import Failure, FailureKind, clean
from reqhash_check.explain.lookup import Facts
from reqhash_check.findings import KB_HASH_MISMATCH
from reqhash_check.index.base import DistFile
from reqhash_check.index.http import parse_version, redact_url, same_version
from reqhash_check.requirements import RequirementEntry
from reqhash_check.rules import RULES

UNPUBLISHED_BYTES = "unpublished-bytes"
STALE_PIN = "stale-pin"
INCOMPLETE_HASHES = "incomplete-hashes"
FOREIGN_HASHES = "foreign-hashes"
UNDETERMINED = "undetermined"
MISMATCH_CAUSES = (UNPUBLISHED_BYTES, STALE_PIN, INCOMPLETE_HASHES, FOREIGN_HASHES)

CAUSE_SUMMARIES = {
    UNPUBLISHED_BYTES: "pip received bytes the index does not publish for the file it named: "
    "a corrupted download, a proxy or mirror serving other bytes, or tampering",
    STALE_PIN: "the listed hashes belong to another version: the pin was changed without "
    "regenerating the hashes",
    INCOMPLETE_HASHES: "the listed hashes are other files of the same version: the list was "
    "made on another platform",
    FOREIGN_HASHES: "the listed hashes match nothing the index publishes for the project: "
    "they came from another index or a private build",
    UNDETERMINED: "the cause could not be told from the log and the index",
}

_KEEP = (
    "deleting the hashes or dropping --require-hashes: that turns off the check instead of "
    "answering it"
)
DEAD_ENDS: dict[str, tuple[str, ...]] = {
    UNPUBLISHED_BYTES: (
        "deleting the hashes or dropping --require-hashes: pip would install bytes that match "
        "nothing the index publishes",
        "regenerating the hashes from the downloaded file: that bakes the bad file into the "
        "requirements",
        "purging pip's cache: the same source hands out the same bytes again; fix the source first",
    ),
    STALE_PIN: (
        _KEEP,
        "purging pip's cache: a published file's hash never changes; the listed hashes are "
        "another version's",
    ),
    INCOMPLETE_HASHES: (
        _KEEP,
        "purging pip's cache: the file pip downloaded is the published one; its hash is just "
        "not listed",
    ),
    FOREIGN_HASHES: (
        _KEEP,
        "purging pip's cache: the file pip downloaded is the published one; the listed hashes "
        "come from elsewhere",
    ),
    "missing-hash": (
        "dropping --require-hashes or deleting the other hashes: that turns the check off for "
        "every requirement",
        "purging pip's cache: nothing is wrong with the downloaded file",
    ),
    "missing-dependency": (
        "dropping --require-hashes or --no-deps: the dependency would be installed unchecked",
        "purging pip's cache: nothing is wrong with the downloaded file",
    ),
    "unpinned": (
        "deleting the hashes or dropping --require-hashes: pip would install any version, "
        "unchecked",
    ),
    "unhashable": (
        "dropping --require-hashes for the whole file: every requirement goes unchecked",
    ),
}


@dataclass(frozen=True)
class Fix:
    """What to do: a summary, the exact lines to write, and commands."""

    summary: str
    action: str = "none"
    """`replace` the requirement's lines, `add` new lines, `remove` the requirement, `none`."""
    lines: tuple[str, ...] = ()
    command: str | None = None
    """A reqhash-check command that makes the change (`--fix`)."""
    check: str | None = None
    """A command that checks the result before pip runs again."""
    place: str | None = None
    """Where the lines go, when that is not the requirement's own lines (a lock file)."""


@dataclass(frozen=True)
class Current:
    """The requirement as `--requirements FILE` holds it now."""

    path: str
    line: int
    end_line: int
    pin: str | None
    hashes: tuple[str, ...]


@dataclass(frozen=True)
class Diagnosis:
    cause: str
    requirement: str
    """As pip printed it."""
    project: str | None
    version: str | None
    expected: tuple[str, ...]
    got: str | None
    file: str | None
    url: str | None
    requirements_file: str | None
    line: int | None
    fix: Fix
    kb: str | None
    message: str
    log: str = ""
    log_line: int = 0
    dead_ends: tuple[str, ...] = ()
    host: str | None = None
    target: str | None = None
    notes: tuple[str, ...] = ()
    index: str | None = None
    current: Current | None = None
    index_failed: bool = False
    """The index could not be asked (or, offline, the cache had no answer)."""

    @property
    def diagnosed(self) -> bool:
        return self.cause != UNDETERMINED

    @property
    def security(self) -> bool:
        return self.cause == UNPUBLISHED_BYTES


@dataclass(frozen=True)
class Context:
    index: str
    """The index (or indexes) asked, for messages; credentials redacted."""
    index_urls: tuple[str, ...] = ()
    pip_indexes: tuple[str, ...] = ()
    """The indexes the log says pip looked in."""
    requirements: Mapping[str, Sequence[RequirementEntry]] | None = None
    """`--requirements FILE`: its entries by PEP 503 name ("" for folders and URLs)."""
    requirements_path: str | None = None
    fallback_python: tuple[int, int] | None = None


# --- small helpers ------------------------------------------------------------------------


def _short(digest: str) -> str:
    return digest[:12] + "…" if len(digest) > 12 else digest


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def host_of(url: str | None) -> str | None:
    if not url or "://" not in url:
        return None
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return None
    return netloc.rpartition("@")[2] or None


def _where(failure: Failure, current: Current | None) -> str:
    if current is not None:
        return f"{current.path}:{current.line}"
    if failure.requirements_file:
        line = f":{failure.line}" if failure.line else ""
        return f"{failure.requirements_file}{line}"
    return "the requirements"


def _label(project: str | None, version: str | None) -> str:
    if project and version:
        return f"{project}=={version}"
    return project or "the requirement"


def _file_list(files: Iterable[DistFile], limit: int = 4) -> str:
    names = sorted({f.filename for f in files})
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _fix_file(failure: Failure, ctx: Context, current: Current | None) -> str | None:
    if current is not None:
        return current.path
    if ctx.requirements_path:
        return ctx.requirements_path
    return failure.requirements_file


def _fix_command(path: str | None, target: str | None = None) -> str | None:
    if not path:
        return None
    command = f"reqhash-check --fix {_quote(path)}"
    return f"{command} --target {target}" if target else command


def _check_command(path: str | None, target: str | None = None) -> str | None:
    if not path:
        return None
    command = f"reqhash-check {_quote(path)}"
    return f"{command} --target {target}" if target else command


def _quote(path: str) -> str:
    if path and all(c.isalnum() or c in "._/-+:@%=," for c in path):
        return path
    return "'" + path.replace("'", "'\\''") + "'"


class _Published:
    """Every file the index publishes for the project, looked up by digest and by name."""

    def __init__(self, version: str | None, facts: Facts) -> None:
        release_files = facts.release.files if facts.release is not None else ()
        files: dict[tuple[str, str | None], DistFile] = {}
        for dist in (*release_files, *(facts.project_files or ())):
            files.setdefault((dist.filename, dist.sha256), dist)
        self.files = tuple(files.values())
        self.version = version
        self.version_files = tuple(
            f for f in self.files if version is not None and same_version(f.version, version)
        )
        self.by_digest: dict[tuple[str, str], DistFile] = {}
        for dist in self.files:
            for algorithm, digest in dist.hashes.items():
                self.by_digest.setdefault((algorithm, digest.lower()), dist)
        self.algorithms = {algorithm for algorithm, _ in self.by_digest}

    def find(self, algorithm: str, digest: str) -> DistFile | None:
        return self.by_digest.get((algorithm, digest.lower()))

    def named(self, filename: str | None) -> DistFile | None:
        if not filename:
            return None
        matches = [f for f in self.files if f.filename == filename]
        own = [f for f in matches if f in self.version_files]
        found = own or matches
        return found[0] if found else None

    def version_hashes(self) -> tuple[str, ...]:
        return tuple(sorted({f"sha256:{f.sha256}" for f in self.version_files if f.sha256}))

    def versions(self) -> list[str]:
        found = {f.version for f in self.files if not f.yanked}
        return sorted(found, key=lambda v: (parse_version(v) is not None, parse_version(v) or v))


# --- the requirement as the file holds it now ---------------------------------------------


def _current(failure: Failure, ctx: Context) -> tuple[Current | None, RequirementEntry | None]:
    if ctx.requirements is None:
        return None, None
    entries = ctx.requirements.get(failure.project or "") if failure.project else None
    if not entries and failure.url and failure.kind in (FailureKind.VCS, FailureKind.DIRECTORY):
        # A folder or repository has no name on its line: match the last part of its path.
        tail = _last_part(failure.url)
        entries = [e for e in ctx.requirements.get("", ()) if e.url and _last_part(e.url) == tail]
    if not entries:
        return None, None
    entry = entries[0]
    location = entry.location
    hashes = tuple(h.text for h in entry.hashes)
    return Current(location.path, location.line, location.end_line, entry.pin, hashes), entry


def _last_part(url: str) -> str:
    return url.split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]


def _current_notes(
    failure: Failure, ctx: Context, current: Current | None, needed: Sequence[str]
) -> list[str]:
    if ctx.requirements is None:
        return []
    if current is None:
        if failure.project:
            return [f"{failure.project} is not in {ctx.requirements_path} (or its includes)"]
        return []
    where = f"{current.path}:{current.line}"
    notes = []
    if current.pin and failure.version and not same_version(current.pin, failure.version):
        notes.append(
            f"{where} now pins {failure.project}=={current.pin}; the log is about "
            f"{failure.version}: check the file as it is with {_check_command(current.path)}"
        )
    elif needed and set(needed) <= set(current.hashes):
        notes.append(f"{where} already lists the hashes the fix adds: run pip again")
    elif failure.expected and set(current.hashes) != set(failure.expected):
        notes.append(f"{where} lists other hashes than the log shows: the file changed since")
    return notes


def _lines_for(
    failure: Failure,
    entry: RequirementEntry | None,
    version: str,
    hashes: Sequence[str],
) -> tuple[str, ...]:
    if entry is not None and entry.pin and same_version(entry.pin, version):
        rewritten = fixlines.rewritten_entry(entry, hashes)
        if rewritten:
            return rewritten
    first = fixlines.pinned_requirement(failure.requirement, failure.project or "", version)
    return fixlines.hash_lines(first, sorted(dict.fromkeys(hashes)))


# --- the diagnosis ------------------------------------------------------------------------


def diagnose(failure: Failure, facts: Facts, ctx: Context) -> Diagnosis:
    if failure.kind is FailureKind.MISMATCH:
        return _mismatch(failure, facts, ctx)
    if failure.kind is FailureKind.MISSING:
        return _missing(failure, facts, ctx)
    if failure.kind is FailureKind.UNPINNED:
        return _unpinned(failure, facts, ctx)
    if failure.kind in (FailureKind.VCS, FailureKind.DIRECTORY):
        return _unhashable(failure, ctx)
    return _not_found(failure, facts, ctx)


@dataclass
class _Draft:
    """The parts every diagnosis shares, filled in as the cause is worked out."""

    failure: Failure
    ctx: Context
    facts: Facts
    current: Current | None = None
    entry: RequirementEntry | None = None
    notes: list[str] = field(default_factory=list)
    target: str | None = None

    def __post_init__(self) -> None:
        self.current, self.entry = _current(self.failure, self.ctx)
        if self.facts.from_cache:
            self.notes.append("the index could not be reached: answered from the cache")

    def build(
        self,
        cause: str,
        message: str,
        fix: Fix,
        *,
        version: str | None = None,
        kb: str | None = None,
        needed: Sequence[str] = (),
    ) -> Diagnosis:
        failure = self.failure
        notes = [*self.notes, *_current_notes(failure, self.ctx, self.current, needed)]
        # Index answers (file names, URLs) are untrusted too: everything shown is cleaned.
        fix = Fix(
            summary=clean(fix.summary),
            action=fix.action,
            lines=tuple(clean(line) for line in fix.lines),
            command=clean(fix.command) if fix.command else None,
            check=clean(fix.check) if fix.check else None,
            place=clean(fix.place) if fix.place else None,
        )
        return Diagnosis(
            cause=cause,
            requirement=failure.requirement,
            project=failure.project,
            version=version or failure.version,
            expected=failure.expected,
            got=failure.got_hashes[0] if failure.got_hashes else None,
            file=failure.filename,
            url=failure.url,
            requirements_file=failure.requirements_file,
            line=failure.line,
            fix=fix,
            kb=kb,
            message=clean(message),
            log=failure.log,
            log_line=failure.log_line,
            dead_ends=DEAD_ENDS.get(cause, ()),
            host=clean(host_of(failure.url) or "") or None,
            target=clean(self.target) if self.target else None,
            notes=tuple(clean(n) for n in dict.fromkeys(notes)),
            index=self.ctx.index,
            current=self.current,
            index_failed=self.facts.index_failed and not self.facts.from_cache,
        )

    def undetermined(self, why: str, *, kb: str | None = None) -> Diagnosis:
        failure = self.failure
        message = f"{_label(failure.project, failure.version)}: {why}"
        summary = "ask the index pip used: run explain again with its --index-url"
        if self.facts.index_failed:
            summary = "run explain again when the index can be reached"
        return self.build(UNDETERMINED, message, Fix(summary), kb=kb)


def _problem_text(facts: Facts) -> str:
    problem = facts.release_problem or facts.project_problem
    return problem.message if problem else "the index gave no answer"


def _pip_index_note(ctx: Context) -> str | None:
    asked = {u.rstrip("/") for u in (ctx.index_urls or (ctx.index,))}
    others = [u for u in ctx.pip_indexes if u.rstrip("/") not in asked]
    if not others:
        return None
    return f"pip looked in {', '.join(others)}; this diagnosis asked {ctx.index}"


def _mismatch(failure: Failure, facts: Facts, ctx: Context) -> Diagnosis:
    draft = _Draft(failure, ctx, facts)
    project, version = failure.project, failure.version
    if project is None or version is None:
        return draft.undetermined(
            "pip's message names no project and version this tool can look up",
            kb=KB_HASH_MISMATCH,
        )
    if facts.release is None and facts.project_files is None:
        return draft.undetermined(_problem_text(facts), kb=KB_HASH_MISMATCH)
    published = _Published(version, facts)
    note = _pip_index_note(ctx)
    if note:
        draft.notes.append(note)
    if facts.project_problem is not None and facts.project_files is None:
        draft.notes.append(f"other versions could not be listed: {facts.project_problem.message}")

    compared = [g for g in failure.groups if g.algorithm in published.algorithms]
    if not compared:
        stated = ", ".join(sorted(published.algorithms)) or "no digests"
        listed = ", ".join(sorted({g.algorithm for g in failure.groups}))
        return draft.undetermined(
            f"pip compared {listed} hashes and {ctx.index} states {stated} for these files",
            kb=KB_HASH_MISMATCH,
        )
    hits = [(g.algorithm, h, published.find(g.algorithm, h)) for g in compared for h in g.expected]
    other = [(a, h, f) for a, h, f in hits if f is not None and f not in published.version_files]
    same = [(a, h, f) for a, h, f in hits if f is not None and f in published.version_files]
    got_file = next(
        (f for g in compared if (f := published.find(g.algorithm, g.got)) is not None), None
    )
    downloaded = published.named(failure.filename)
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
    if other:
        return _stale_pin(draft, published, other, got_file)
    if same and got_file is not None and got_file in published.version_files:
        return _incomplete(draft, published, same, got_file)
    if not same and not other:
        return _foreign(draft, published, got_file, downloaded)
    if got_file is None and downloaded is not None:
        return _unpublished_bytes(draft, published, downloaded, listed=False)
    return draft.undetermined(
        "the listed hashes are files of this version but pip received something else, and "
        f"{ctx.index} does not publish {failure.filename or 'the file pip named'}",
        kb=KB_HASH_MISMATCH,
    )


def _unpublished_bytes(
    draft: _Draft, published: _Published, downloaded: DistFile, *, listed: bool
) -> Diagnosis:
    failure, ctx = draft.failure, draft.ctx
    got = failure.sha256_got or (failure.got_hashes[0] if failure.got_hashes else "?")
    host = host_of(failure.url) or "the host in pip's URL"
    published_hash = downloaded.sha256 or "?"
    parts = [
        f"pip downloaded {downloaded.filename} from {host}, but the bytes it received "
        f"(sha256 {_short(got)}) match no file {ctx.index} publishes for {failure.project}."
    ]
    if listed:
        parts.append(
            f"The requirements list {downloaded.filename}'s published hash "
            f"({_short(published_hash)}): the hashes are right, the download is not."
        )
    else:
        parts.append(
            f"{downloaded.filename} is published with sha256 {_short(published_hash)}, which the "
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
    draft: _Draft,
    published: _Published,
    other: Sequence[tuple[str, str, DistFile]],
    got_file: DistFile | None,
) -> Diagnosis:
    failure = draft.failure
    project, version = failure.project or "", failure.version or ""
    versions = sorted({f.version for _, _, f in other}, key=lambda v: parse_version(v) or v)
    origins = "; ".join(f"{_short(h)} is {project} {_origin(f)}" for _, h, f in other[:3])
    if len(other) > 3:
        origins += f"; and {len(other) - 3} more"
    if fixlines.is_lock_file(_fix_file(failure, draft.ctx, draft.current)):
        message = (
            f"The lock's entry for {failure.filename or _label(project, version)} records hashes "
            f"of {project} {', '.join(versions)}, not of {version} ({origins}): the lock was "
            "edited without regenerating its hashes."
        )
    else:
        message = (
            f"{_label(project, version)} lists hashes of {project} {', '.join(versions)}, not "
            f"of {version} ({origins}): the pin was changed without regenerating the hashes."
        )
    if got_file is not None:
        message += f" pip downloaded {got_file.filename}, the published file of {version}."
    hashes = published.version_hashes()
    fix = _replace_fix(
        draft, version, hashes, f"list {_label(project, version)}'s published hashes"
    )
    if versions:
        other_pin = f"{project}=={versions[-1]}"
        fix = replace(
            fix, summary=f"{fix.summary}; or, if {versions[-1]} was meant, pin {other_pin}"
        )
    return draft.build(STALE_PIN, message, fix, kb=KB_HASH_MISMATCH, needed=hashes)


def _incomplete(
    draft: _Draft,
    published: _Published,
    same: Sequence[tuple[str, str, DistFile]],
    got_file: DistFile,
) -> Diagnosis:
    failure, ctx = draft.failure, draft.ctx
    project, version = failure.project or "", failure.version or ""
    draft.target = fixlines.target_for_wheel(got_file.filename, ctx.fallback_python)
    kind = "the sdist" if not got_file.is_wheel else "the wheel"
    platform = f" (a host like --target {draft.target})" if draft.target else ""
    message = (
        f"{_label(project, version)} lists the hashes of {_file_list(f for _, _, f in same)} but "
        f"not of {got_file.filename}, {kind} pip picks on its platform{platform}: the list was "
        "made on another platform."
    )
    unknown = [h for g in failure.groups for h in g.expected if not published.find(g.algorithm, h)]
    if unknown:
        message += (
            f" {_plural(len(unknown), 'listed hash', 'listed hashes')} match nothing published."
        )
    got = f"sha256:{got_file.sha256}"
    hashes = tuple(sorted({*failure.expected, got}))
    path = _fix_file(failure, ctx, draft.current)
    if fixlines.is_lock_file(path):
        fix = _lock_fix(draft, got_file)
    else:
        fix = Fix(
            summary=f"add {got_file.filename}'s hash ({got})"
            + (f" and check with --target {draft.target}" if draft.target else ""),
            action="replace",
            lines=_lines_for(failure, draft.entry, version, hashes),
            command=_fix_command(path, draft.target),
            check=_check_command(path, draft.target),
        )
    return draft.build(INCOMPLETE_HASHES, message, fix, kb=KB_HASH_MISMATCH, needed=(got,))


def _foreign(
    draft: _Draft, published: _Published, got_file: DistFile | None, downloaded: DistFile | None
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
        f"{_label(project, version)}: {subject} {ctx.index} publishes for {project}, in any "
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
        f"list the hashes {ctx.index} publishes for {_label(project, version)}; if the package "
        "must come from a private index, point pip and explain at that index instead",
    )
    return draft.build(FOREIGN_HASHES, message, fix, kb=KB_HASH_MISMATCH, needed=hashes)


def _replace_fix(draft: _Draft, version: str, hashes: Sequence[str], summary: str) -> Fix:
    failure, ctx = draft.failure, draft.ctx
    path = _fix_file(failure, ctx, draft.current)
    if fixlines.is_lock_file(path):
        downloaded = next(
            (
                f
                for f in _Published(version, draft.facts).version_files
                if f.filename == failure.filename
            ),
            None,
        )
        if downloaded is not None:
            return _lock_fix(draft, downloaded)
    return Fix(
        summary=summary,
        action="replace",
        lines=_lines_for(failure, draft.entry, version, hashes),
        command=_fix_command(path),
        check=_check_command(path),
    )


def _lock_fix(draft: _Draft, file: DistFile) -> Fix:
    path = _fix_file(draft.failure, draft.ctx, draft.current)
    return Fix(
        summary=f"give {file.filename} its published hash in {path} (or regenerate the lock "
        "with the tool that made it)",
        action="replace",
        lines=(fixlines.lock_hash_line(file.sha256 or ""),),
        command=_fix_command(path),
        check=_check_command(path),
        place=f"the hashes line of the entry named {file.filename} in {path}",
    )


# --- pip's other hash-checking failures ----------------------------------------------------


def _is_dependency(failure: Failure, draft: _Draft) -> bool:
    if failure.via:
        return True
    return draft.ctx.requirements is not None and draft.current is None


def _missing(failure: Failure, facts: Facts, ctx: Context) -> Diagnosis:
    draft = _Draft(failure, ctx, facts)
    dependency = _is_dependency(failure, draft)
    rule = "missing-dependency" if dependency else "missing-hash"
    published = _Published(failure.version, facts)
    got_file = None
    algorithm, _, digest = (failure.got or "::").partition(":")
    if digest:
        got_file = published.find(algorithm, digest)
    version = failure.version or (got_file.version if got_file is not None else None)
    if version is not None and not published.version_files:
        published = _Published(version, facts)
    project = failure.project
    label = _label(project, version) if project else failure.requirement
    if dependency:
        via = f" of {failure.via}" if failure.via else ""
        message = (
            f"{label} is a dependency{via} that is not pinned with its hashes in "
            f"{_fix_file(failure, ctx, draft.current) or 'the requirements'}; in hash-checking "
            "mode pip needs every dependency pinned and hashed."
        )
    else:
        message = (
            f"{label} has no --hash while other requirements do, so pip's hash-checking mode "
            "(on as soon as any requirement has a hash) refuses it."
        )
    hashes = published.version_hashes()
    if (
        facts.asked
        and not facts.index_failed
        and got_file is None
        and algorithm in published.algorithms
    ):
        message += (
            f" The hash pip printed ({_short(digest)}) matches no file {ctx.index} publishes: "
            "do not copy pip's suggested line; find out what served that file first."
        )
    elif got_file is not None:
        message += f" pip downloaded {got_file.filename}, as {ctx.index} publishes it."
    if not project or version is None:
        return draft.undetermined(
            f"{message} Which version pip took could not be told", kb=RULES[rule].kb
        )
    if not hashes:
        if facts.index_failed or not facts.asked:
            hashes = (failure.got,) if failure.got else ()
            draft.notes.append(
                "the hash is the one pip printed, not confirmed with the index: "
                + _problem_text(facts)
            )
        else:
            return draft.undetermined(f"{message} {_problem_text(facts)}", kb=RULES[rule].kb)
    path = _fix_file(failure, ctx, draft.current)
    if dependency:
        lines = fixlines.hash_lines(f"{project}=={version}", hashes)
        fix = Fix(
            summary=f"add {project}=={version} with its hashes to {path or 'the requirements'}"
            + (f" (it is required by {failure.via})" if failure.via else ""),
            action="add",
            lines=lines,
            check=_check_command(path),
        )
    else:
        fix = Fix(
            summary=f"list {project}=={version}'s published hashes",
            action="replace",
            lines=_lines_for(failure, draft.entry, version, hashes),
            command=_fix_command(path),
            check=_check_command(path),
        )
    return draft.build(rule, message, fix, version=version, kb=RULES[rule].kb, needed=hashes)


def _unpinned(failure: Failure, facts: Facts, ctx: Context) -> Diagnosis:
    draft = _Draft(failure, ctx, facts)
    dependency = failure.via is not None
    rule = "missing-dependency" if dependency else "unpinned"
    project, version = failure.project, failure.version
    if project is None or version is None:
        return draft.undetermined(
            f"{failure.requirement} is not pinned with ==, and pip's message does not say "
            "which version it chose",
            kb=RULES[rule].kb,
        )
    published = _Published(version, facts)
    hashes = published.version_hashes()
    if not hashes and failure.page_sha256:
        hashes = (f"sha256:{failure.page_sha256}",)
        draft.notes.append(
            "the hash is the one pip's index page stated, not confirmed with the index: "
            + _problem_text(facts)
        )
    if not hashes:
        return draft.undetermined(
            f"{failure.requirement} is not pinned with ==; {_problem_text(facts)}",
            kb=RULES[rule].kb,
        )
    path = _fix_file(failure, ctx, draft.current)
    if dependency:
        message = (
            f"{failure.requirement} is a dependency of {failure.via} that is not pinned in "
            f"{path or 'the requirements'}: in hash-checking mode every dependency must be "
            f"pinned with == and hashed. pip chose {version}."
        )
        fix = Fix(
            summary=f"add {project}=={version} with its hashes to {path or 'the requirements'} "
            f"(it is required by {failure.via})",
            action="add",
            lines=fixlines.hash_lines(f"{project}=={version}", hashes),
            check=_check_command(path),
        )
    else:
        message = (
            f"{failure.requirement} is not pinned with ==: pip before 26.1 refuses a requirement "
            f"in hash-checking mode unless it names one version (pip 26.1 and later accept a "
            f"hashed one). pip chose {version}."
        )
        first = fixlines.pinned_requirement(failure.requirement, project, version)
        fix = Fix(
            summary=f"pin {project}=={version} and list its published hashes",
            action="replace",
            lines=fixlines.hash_lines(first, hashes),
            check=_check_command(path),
        )
    return draft.build(rule, message, fix, kb=RULES[rule].kb, needed=hashes)


def _unhashable(failure: Failure, ctx: Context) -> Diagnosis:
    draft = _Draft(failure, ctx, Facts())
    what = (
        "a version-control requirement: pip has no way to hash a repository"
        if failure.kind is FailureKind.VCS
        else "a local folder: pip cannot hash a directory"
    )
    target = failure.url or failure.requirement
    message = f"{failure.requirement} is {what}, so hash-checking mode refuses it."
    fix = Fix(
        summary=f"take it out of the hashed requirements and install it in a separate step "
        f"without hash checking (pip install --no-deps '{target}'), or build a wheel of it "
        "(pip wheel --no-deps) and list that wheel with its hash",
        action="remove",
    )
    return draft.build("unhashable", message, fix, kb=RULES["unhashable"].kb)


def _not_found(failure: Failure, facts: Facts, ctx: Context) -> Diagnosis:
    draft = _Draft(failure, ctx, facts)
    project, version = failure.project, failure.version
    if project is None:
        return draft.undetermined(f"pip found no version of {failure.requirement}")
    problem = facts.release_problem
    published = _Published(version, facts)
    if (
        problem is not None
        and problem.kind == "project"
        or (facts.project_problem is not None and facts.project_problem.kind == "project")
    ):
        message = f"{ctx.index} has no project {project}: pip found nothing to install."
        fix = Fix(f"check the name {project!r} and the index pip uses")
        return draft.build("unknown-project", message, fix, kb=RULES["unknown-project"].kb)
    if facts.index_failed and facts.release is None:
        return draft.undetermined(_problem_text(facts))
    if version is not None and facts.release is None and problem is not None:
        versions = published.versions()
        newest = ", ".join(versions[-5:]) if versions else "none"
        message = (
            f"{ctx.index} publishes no {project} {version} (its versions end with: {newest}): "
            "pip found nothing to install."
        )
        fix = Fix(f"pin a version {ctx.index} publishes", action="none")
        return draft.build("unknown-version", message, fix, kb=RULES["unknown-version"].kb)
    files = published.version_files
    if version is None or not files:
        return draft.undetermined(f"pip found no version of {failure.requirement} it could install")
    wheels = [f for f in files if f.is_wheel]
    sdists = [f for f in files if not f.is_wheel]
    parts = [
        f"{_label(project, version)} publishes {_plural(len(files), 'file')} "
        f"({_file_list(files)}) and pip could install none of them on its platform"
    ]
    if sdists:
        parts.append(
            "; its sdist was not an option: --only-binary, or a Requires-Python pip's Python "
            "does not meet"
        )
    elif wheels:
        parts.append("; there is no sdist to fall back on")
    message = "".join(parts) + "."
    needs = sorted({f.requires_python for f in files if f.requires_python})
    if needs and not any("Requires-Python" in line for line in failure.ignored):
        message += f" Its files need Requires-Python {' or '.join(needs)}."
    if failure.ignored:
        message += " pip said: " + " ".join(failure.ignored)
    if all(f.yanked for f in files):
        message += " Every file of this version is yanked."
    fix = Fix(
        summary="pin a version that publishes a file for the platform pip runs on, allow the "
        "sdist (drop --only-binary for it), or run pip on a platform it publishes a wheel for",
        check=_check_command(_fix_file(failure, ctx, draft.current)),
    )
    return draft.build("no-installable-file", message, fix, kb=RULES["no-installable-file"].kb)
