"""The building blocks every diagnosis shares: what the index publishes, the requirement as
`--requirements` holds it now, the fix lines and commands, and the `Draft` that assembles
a `Diagnosis` (cleaning everything it shows)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from reqhash_check.explain import fixlines
from reqhash_check.explain.logparse import Failure, FailureKind, clean
from reqhash_check.explain.lookup import Facts
from reqhash_check.explain.model import (
    DEAD_ENDS,
    UNDETERMINED,
    Context,
    Current,
    Diagnosis,
    Fix,
)
from reqhash_check.index.answers import parse_version, same_version
from reqhash_check.index.base import DistFile
from reqhash_check.requirements import RequirementEntry


def short(digest: str) -> str:
    return digest[:12] + "…" if len(digest) > 12 else digest


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def host_of(url: str | None) -> str | None:
    if not url or "://" not in url:
        return None
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        return None
    return netloc.rpartition("@")[2] or None


def label(project: str | None, version: str | None) -> str:
    if project and version:
        return f"{project}=={version}"
    return project or "the requirement"


def file_list(files: Iterable[DistFile], limit: int = 4) -> str:
    names = sorted({f.filename for f in files})
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def fix_file(failure: Failure, ctx: Context, current: Current | None) -> str | None:
    if current is not None:
        return current.path
    if ctx.requirements_path:
        return ctx.requirements_path
    return failure.requirements_file


def fix_command(path: str | None, target: str | None = None) -> str | None:
    if not path:
        return None
    command = f"reqhash-check --fix {_quote(path)}"
    return f"{command} --target {target}" if target else command


def check_command(path: str | None, target: str | None = None) -> str | None:
    if not path:
        return None
    command = f"reqhash-check {_quote(path)}"
    return f"{command} --target {target}" if target else command


def _quote(path: str) -> str:
    if path and all(c.isalnum() or c in "._/-+:@%=," for c in path):
        return path
    return "'" + path.replace("'", "'\\''") + "'"


MAX_TYPO = 4
"""A listed hash this many characters or fewer from a published one (of the same length) is
that hash, mistyped or damaged, not the hash of another file."""


MAX_SHARING = 64


def _pieces(algorithm: str, digest: str) -> list[tuple[str, int, str]]:
    size = -(-len(digest) // (MAX_TYPO + 1))
    return [(algorithm, n, digest[n * size : (n + 1) * size]) for n in range(MAX_TYPO + 1)]


class Published:
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
        self._pieces: dict[tuple[str, int, str], list[tuple[str, DistFile]]] | None = None

    def find(self, algorithm: str, digest: str) -> DistFile | None:
        return self.by_digest.get((algorithm, digest.lower()))

    def near(self, algorithm: str, digest: str) -> tuple[DistFile, str, int] | None:
        """The published file whose `algorithm` digest is at most MAX_TYPO characters from
        `digest` (case aside), with that digest and the count; None when none is that close.

        A digest at most MAX_TYPO characters from another agrees with it on at least one of
        MAX_TYPO + 1 pieces, so only the digests sharing a piece are compared: linear in the
        number of listed hashes, whatever the number of published files."""
        digest = digest.lower()
        best: tuple[DistFile, str, int] | None = None
        for key in _pieces(algorithm, digest):
            for candidate, dist in self._by_piece().get(key, ()):
                if len(candidate) != len(digest):
                    continue
                count = sum(a != b for a, b in zip(candidate, digest, strict=True))
                if count <= MAX_TYPO and (best is None or count < best[2]):
                    best = (dist, candidate, count)
        return best

    def _by_piece(self) -> dict[tuple[str, int, str], list[tuple[str, DistFile]]]:
        if self._pieces is None:
            self._pieces = {}
            for (algorithm, digest), dist in self.by_digest.items():
                for key in _pieces(algorithm, digest):
                    bucket = self._pieces.setdefault(key, [])
                    # Real digests share a piece by chance only; a crowded piece is an index
                    # answer made to be slow, and is not looked through further.
                    if len(bucket) < MAX_SHARING:
                        bucket.append((digest, dist))
        return self._pieces

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
    if entry.tainted:  # what derives from an environment value is neither shown nor compared
        current = Current(location.path, location.line, location.end_line, None, (), True)
        return current, entry
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
    if current.expanded:
        return [f"{where} expands an environment variable: compare it with the log by hand"]
    notes = []
    if current.pin and failure.version and not same_version(current.pin, failure.version):
        notes.append(
            f"{where} now pins {failure.project}=={current.pin}; the log is about "
            f"{failure.version}: check the file as it is with {check_command(current.path)}"
        )
    elif needed and set(needed) <= set(current.hashes):
        notes.append(f"{where} already lists the hashes the fix adds: run pip again")
    elif failure.expected and set(current.hashes) != set(failure.expected):
        notes.append(f"{where} lists other hashes than the log shows: the file changed since")
    return notes


def lines_for(
    failure: Failure,
    entry: RequirementEntry | None,
    version: str,
    hashes: Sequence[str],
) -> tuple[str, ...]:
    if entry is not None and not entry.tainted and entry.pin and same_version(entry.pin, version):
        rewritten = fixlines.rewritten_entry(entry, hashes)
        if rewritten:
            return rewritten
    first = fixlines.pinned_requirement(failure.requirement, failure.project or "", version)
    return fixlines.hash_lines(first, sorted(dict.fromkeys(hashes)))


# --- the diagnosis being written ------------------------------------------------------------


@dataclass
class Draft:
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
        file: str | None = None,
        kb: str | None = None,
        needed: Sequence[str] = (),
    ) -> Diagnosis:
        failure = self.failure
        notes = [*self.notes, *_current_notes(failure, self.ctx, self.current, needed)]
        if failure.tool == "uv":
            message = _for_uv(message)
            notes = [_for_uv(note) for note in notes]
            fix = Fix(
                _for_uv(fix.summary), fix.action, fix.lines, fix.command, fix.check, fix.place
            )
        if failure.tool == "pipenv" and self.current is None:
            fix = _pipfile_lock_fix(failure, fix)
            notes.append(
                "pipenv installs Pipfile.lock through a temporary requirements file: the "
                "hashes to change are in Pipfile.lock (or regenerate it with pipenv lock)"
            )
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
            file=failure.filename or (clean(file) if file else None),
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
            installer=failure.tool,
        )

    def undetermined(self, why: str, *, kb: str | None = None) -> Diagnosis:
        failure = self.failure
        message = f"{label(failure.project, failure.version)}: {why}"
        summary = "ask the index pip used: run explain again with its --index-url"
        if self.facts.index_failed:
            summary = "run explain again when the index can be reached"
        return self.build(UNDETERMINED, message, Fix(summary), kb=kb)


_UV_WORDS = (
    ("pip downloaded", "uv downloaded"),
    ("pip received", "uv received"),
    ("pip receives", "uv receives"),
    ("pip named", "uv named"),
    ("pip picks", "uv picks"),
    ("pip compared", "uv compared"),
    ("pip printed", "uv printed"),
    ("pip's message", "uv's message"),
    ("pip's hash-checking mode", "uv's hash-checking mode"),
    ("the --index-url pip used", "the --index-url uv used"),
    ("pip probably uses", "uv probably uses"),
)


def _for_uv(text: str) -> str:
    """What the diagnoses say of pip, said of uv for a failure uv printed."""
    for pip_words, uv_words in _UV_WORDS:
        text = text.replace(pip_words, uv_words)
    return text


def _pipfile_lock_fix(failure: Failure, fix: Fix) -> Fix:
    """The hashes of a fix as Pipfile.lock holds them: its entry's `"hashes"` list."""
    hashes = [
        part.removeprefix("--hash=")
        for line in fix.lines
        for part in line.split()
        if part.startswith("--hash=")
    ]
    if fix.action != "replace" or fix.place or not hashes:
        return fix
    items = [f'    "{h}"' + ("," if n < len(hashes) - 1 else "") for n, h in enumerate(hashes)]
    return Fix(
        summary=fix.summary,
        action=fix.action,
        lines=('"hashes": [', *items, "],"),
        command=fix.command,
        check=fix.check,
        place=f'the "hashes" list of the "{failure.project or failure.requirement}" entry in '
        "Pipfile.lock",
    )


def problem_text(facts: Facts) -> str:
    problem = facts.release_problem or facts.project_problem
    return problem.message if problem else "the index gave no answer"


def pip_index_note(ctx: Context) -> str | None:
    asked = {u.rstrip("/") for u in (ctx.index_urls or (ctx.index,))}
    others = [u for u in ctx.pip_indexes if u.rstrip("/") not in asked]
    if not others:
        return None
    return f"pip looked in {', '.join(others)}; this diagnosis asked {ctx.index}"
