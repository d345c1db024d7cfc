"""`--fix` and `--diff`: rewrite the hash sets of requirements, leaving every other byte alone.

pip-requirements-parser's `dumps()` is not round-trip safe, so the edits are made on the
physical lines. Each edited entry is re-laid out the way `pip-compile --generate-hashes`
writes it::

    name==1.0 ; marker \\
        --hash=sha256:aaa \\
        --hash=sha256:bbb

The entry's other content (requirement, markers, other per-requirement options, comments)
and its line-ending style are kept; lines outside the edited entries are not touched.

How pip reads the lines matters here (pip's `req_file.join_lines`/`ignore_comments`): a line
ending in a backslash is joined with the next one unless it is a comment line (first
non-blank character `#`), which ends the continuation; a `#` at the start of the joined line
or after whitespace starts a comment that runs to the end of the *joined* line.
"""

from __future__ import annotations

import bisect
import difflib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidName, canonicalize_name
from packaging.version import InvalidVersion, Version

from reqhash_check import fs
from reqhash_check.escape import safe, safe_line, starts_a_command
from reqhash_check.findings import Location
from reqhash_check.hashes import is_hex_digest
from reqhash_check.requirements import MAX_FILE_BYTES, MAX_LINE_CHARS, decode_requirements
from reqhash_check.requirements.lines import logical_lines

__all__ = [
    "FileChangedError",
    "FilePlan",
    "FixError",
    "HashEdit",
    "InsertEdit",
    "Refusal",
    "StaleEditError",
    "apply_plan",
    "decode_requirements",
    "plan_fix",
    "rewrite_text",
]


class FixError(Exception):
    """A file could not be rewritten; the message is one line."""


class StaleEditError(FixError):
    """The lines an edit refers to are not what the file holds now."""


class FileChangedError(FixError):
    """The file changed on disk between reading and writing it."""


@dataclass(frozen=True)
class HashEdit:
    """Give the requirement at `location` exactly the hashes `new_hashes`."""

    location: Location
    raw: str
    """The entry's physical lines as they were read (`RequirementEntry.raw`)."""
    new_hashes: tuple[str, ...]
    """`algorithm:hexdigest` strings; written sorted and without duplicates."""
    new_pin: tuple[str, str] | None = None
    """(version pinned now, version to pin): the `==` pin on the entry's first line changes."""


@dataclass(frozen=True)
class Refusal:
    """An edit `rewrite_text` did not make, and why (one line)."""

    edit: HashEdit | InsertEdit
    message: str


@dataclass(frozen=True)
class InsertEdit:
    """Insert whole lines (given without line endings) before line `before` (1-based), or
    at the end of the file when `before` is None."""

    before: int | None
    lines: tuple[str, ...]
    project: str = ""
    """The project a new pin is for, when the lines are one."""


def pin_lines(
    project: str, version: str, marker: str | None, hashes: Sequence[str], via: Sequence[str]
) -> tuple[str, ...]:
    """A new pin in pip-compile's layout, with its `# via` comment.

    Every value comes from the index, so each is validated and written as this function
    renders it (the name and version through `packaging`, the marker re-rendered from its
    parse, digests as lower-case hex); the head is read back to be the same requirement.
    FixError says which value could not be written."""
    name = written_name(project)
    pinned = written_version(version)
    shown_marker = written_marker(marker) if marker else None
    head = f"{name}=={pinned}" + (f" ; {shown_marker}" if shown_marker else "")
    _read_back(head, name, pinned, shown_marker)
    ordered = _check_hashes(hashes, name)
    if not ordered:
        raise FixError(f"{name} {pinned}: the index publishes no sha256 for it")
    lines = [head + " \\"]
    for number, value in enumerate(ordered):
        lines.append(f"{_INDENT}--hash={value}" + (" \\" if number < len(ordered) - 1 else ""))
    if via:
        for requirer in via:
            written_name(requirer)  # a valid name, so the comment is one line of names
        lines.append(f"{_INDENT}# via {', '.join(via)}")
    return tuple(lines)


def written_name(project: str) -> str:
    try:
        return canonicalize_name(project, validate=True)
    except InvalidName:
        raise FixError(f"{project[:80]!r} is not a project name") from None


def written_version(version: str) -> str:
    try:
        return str(Version(version))
    except InvalidVersion:
        raise FixError(f"{version[:80]!r} is not a version") from None


def written_marker(marker: str) -> str:
    """The marker as `packaging` renders its parse, when that fits on one requirements line:
    no line break or other control character (pip splits lines on them), no `#` after a
    blank (pip would cut the rest off as a comment)."""
    try:
        rendered = str(Marker(marker))
    except InvalidMarker:
        raise FixError("its marker from the index is not a valid marker") from None
    if any(ch in _LINE_BREAKS or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in rendered):
        raise FixError("its marker from the index holds a line break or control character")
    if _COMMENT_RE.search(rendered):
        raise FixError("its marker from the index holds ' #', which pip reads as a comment")
    return rendered


def _read_back(head: str, name: str, version: str, marker: str | None) -> None:
    try:
        parsed = Requirement(head)
    except InvalidRequirement:
        raise FixError(f"{name} {version}: the new line would not parse") from None
    same = (
        canonicalize_name(parsed.name) == name
        and str(parsed.specifier) == f"=={version}"
        and (str(parsed.marker) if parsed.marker is not None else None) == marker
    )
    if not same:
        raise FixError(f"{name} {version}: the new line would read back differently")


def longest_logical_line(lines: Sequence[str]) -> int:
    """The longest logical line (as the reader measures it against its cap) of `lines`,
    given with or without their line endings."""
    bare = "\n".join(line.rstrip("\r\n") for line in lines).splitlines()
    longest = max((len(line) for line in bare), default=0)
    return max([longest, *(len(line.written) for line in logical_lines(bare))])


# --- reading the entry the way pip does -------------------------------------------------

_COMMENT_RE = re.compile(r"(^|\s+)#")  # pip's COMMENT_RE, minus the ".*$" it strips
_LINE_BREAKS = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # what str.splitlines() splits on
_INDENT = "    "

# Long options pip's requirements-file parser knows, and whether each takes a value; optparse
# accepts any unique prefix of them (`--has=` is `--hash=`).
_LONG_OPTIONS = {
    "--index-url": True,
    "--extra-index-url": True,
    "--no-index": False,
    "--constraint": True,
    "--requirement": True,
    "--editable": True,
    "--find-links": True,
    "--no-binary": True,
    "--only-binary": True,
    "--prefer-binary": False,
    "--require-hashes": False,
    "--pre": False,
    "--trusted-host": True,
    "--use-feature": True,
    "--global-option": True,
    "--hash": True,
    "--config-settings": True,
}
_SHORT_WITH_VALUE = {"-i", "-c", "-r", "-e", "-f"}


def _line_ending(line: str) -> str:
    if line.endswith("\r\n"):
        return "\r\n"
    if line and line[-1] in _LINE_BREAKS:
        return line[-1]
    return ""


def _is_comment_line(content: str) -> bool:
    return _COMMENT_RE.match(content) is not None


def _resolve_long(name: str) -> str | None:
    if name in _LONG_OPTIONS:
        return name
    matches = [known for known in _LONG_OPTIONS if known.startswith(name)]
    return matches[0] if len(matches) == 1 else None


def _shell_tokens(text: str, start: int) -> list[tuple[int, int, str]]:
    """POSIX shlex-style tokens of `text[start:]` as (start, end, unquoted value)."""
    tokens: list[tuple[int, int, str]] = []
    i = start
    n = len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        begin = i
        value: list[str] = []
        while i < n and not text[i].isspace():
            char = text[i]
            if char in "'\"":
                close = text.find(char, i + 1)
                if close < 0:  # pip would refuse the line ("Could not split options")
                    raise ValueError("unbalanced quote")
                value.append(text[i + 1 : close])
                i = close + 1
            elif char == "\\" and i + 1 < n:
                value.append(text[i + 1])
                i += 2
            else:
                value.append(char)
                i += 1
        tokens.append((begin, i, "".join(value)))
    return tokens


def _hash_spans(code: str) -> tuple[list[tuple[int, int]], list[str]]:
    """Spans of the `--hash` options in pip's joined, comment-free line, and their values."""
    # pip's break_args_options: the requirement runs up to the first " "-separated token that
    # starts with "-"; only the rest is shlex-split and parsed as options.
    stripped_from = len(code) - len(code.lstrip())
    position = stripped_from
    options_at = -1
    for piece in code[stripped_from:].split(" "):
        if piece.startswith("-"):
            options_at = position
            break
        position += len(piece) + 1
    if options_at < 0:
        return [], []
    tokens = _shell_tokens(code, options_at)
    spans: list[tuple[int, int]] = []
    values: list[str] = []
    i = 0
    while i < len(tokens):
        begin, end, token = tokens[i]
        i += 1
        if token == "--":
            break
        if token.startswith("--"):
            name, has_value, inline = token.partition("=")
            option = _resolve_long(name)
            takes_value = option is not None and _LONG_OPTIONS[option]
            value: str | None = inline if has_value else None
            if takes_value and not has_value and i < len(tokens):
                value = tokens[i][2]
                end = tokens[i][1]
                i += 1
            if option == "--hash" and value is not None:
                spans.append((begin, end))
                values.append(value)
        elif token.startswith("-") and token[:2] in _SHORT_WITH_VALUE and len(token) == 2:
            i += 1  # its value is the next token
    return spans, values


@dataclass
class _Physical:
    text: str  # without its line ending
    ending: str


def _split_lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _rewrite_entry(
    lines: list[str], new_hashes: tuple[str, ...], where: str, file_ending: str
) -> list[str]:
    physical = [
        _Physical(line[: len(line) - len(_line_ending(line))], _line_ending(line)) for line in lines
    ]

    # The entry may end with a line that only terminates the continuation: a comment line, or
    # a blank line after a trailing backslash. It stays as it is, after the new hashes.
    code_count = len(physical)
    if code_count > 1:
        last = physical[-1].text
        if _is_comment_line(last) or not last.strip():
            code_count -= 1

    # pip's join: continued lines lose their backslashes (str.strip("\\")) and are concatenated.
    joined_parts: list[str] = []
    offsets: list[int] = []  # where each physical line's part starts in the joined line
    lead: list[int] = []  # characters strip("\\") removed in front of each part
    position = 0
    for index in range(code_count):
        text = physical[index].text
        continued = text.endswith("\\") and not _is_comment_line(text)
        part = text.strip("\\") if continued else text
        offsets.append(position)
        lead.append(len(text) - len(text.lstrip("\\")) if continued else 0)
        joined_parts.append(part)
        position += len(part)
    joined = "".join(joined_parts)

    comment = _COMMENT_RE.search(joined)
    comment_at = comment.start() if comment else len(joined)
    comment_line = bisect.bisect_right(offsets, comment_at) - 1 if comment else code_count - 1
    if comment and comment_line < code_count - 1:
        raise FixError(
            f"{where}: a comment on line {comment_line + 1} of the entry hides the lines after "
            "it from pip; edit it by hand"
        )
    try:
        spans, current = _hash_spans(joined[:comment_at])
    except ValueError:
        raise FixError(f"{where}: pip cannot split the options of this entry") from None

    if set(current) == set(new_hashes):
        return lines
    if current and not new_hashes:
        raise FixError(f"{where}: the fix would remove every hash of the requirement; not written")

    # Map the hash spans back onto physical lines (a span never crosses a join in practice;
    # when it does, each line loses its own share).
    removals: dict[int, list[tuple[int, int]]] = {}
    for begin, end in spans:
        for index in range(code_count):
            part_start = offsets[index]
            part_end = part_start + len(joined_parts[index])
            low, high = max(begin, part_start), min(end, part_end)
            if low < high:
                shift = lead[index] - part_start
                removals.setdefault(index, []).append((low + shift, high + shift))

    comment_text = ""
    if comment:
        local = comment_at - offsets[comment_line] + lead[comment_line]
        comment_text = physical[comment_line].text[local:]

    # The lines that keep content: (text without continuation, untouched original or None).
    head: list[tuple[str, str | None]] = []
    for index in range(code_count):
        text = physical[index].text
        continued = index < code_count - 1 or text.endswith("\\")
        if comment and index == comment_line:
            body = text[: len(text) - len(comment_text)]
            continued = False  # any backslash belongs to the comment, which moves down
        else:
            body = text.rstrip("\\") if continued else text
        if index in removals:
            body = _cut(body, removals[index])
            if not body.strip():
                continue
            head.append((body.rstrip(), None))
        else:
            head.append((body.rstrip(), lines[index] if continued else None))
    if not head:
        raise FixError(f"{where}: the entry holds nothing but hashes")

    # New lines take the entry's own line ending; an entry that is a last line without one
    # takes the file's usual ending.
    entry_ending = physical[0].ending
    if entry_ending not in ("\n", "\r\n", "\r"):
        entry_ending = file_ending
    final_ending = physical[code_count - 1].ending

    out: list[str] = []
    for number, (body, untouched) in enumerate(head):
        if number == len(head) - 1 and not new_hashes:
            out.append(body + comment_text + final_ending)
        elif untouched is not None:
            out.append(untouched)  # keep its bytes, backslash and all
        else:
            out.append(f"{body} \\{entry_ending}")
    for number, value in enumerate(new_hashes):
        if number < len(new_hashes) - 1:
            out.append(f"{_INDENT}--hash={value} \\{entry_ending}")
        else:
            out.append(f"{_INDENT}--hash={value}{comment_text}{final_ending}")
    out.extend(lines[code_count:])
    return out


def _repin(line: str, old: str, new: str, where: str) -> str:
    """The line with its one `==old` pin made `==new`."""
    pattern = re.compile(r"(===?\s*)" + re.escape(old) + r"(?![\w.+!*-])")
    found = list(pattern.finditer(line))
    if len(found) != 1 or _COMMENT_RE.search(line[: found[0].start()]):
        raise FixError(
            f"{where}: the pin =={old} is not on the entry's first line; edit it by hand"
        )
    match = found[0]
    return line[: match.start()] + match.group(1) + new + line[match.end() :]


def _usual_ending(lines: list[str]) -> str:
    counts = Counter(_line_ending(line) for line in lines)
    usual = [ending for ending, _ in counts.most_common() if ending in ("\n", "\r\n", "\r")]
    return usual[0] if usual else "\n"


def _cut(text: str, spans: list[tuple[int, int]]) -> str:
    """Remove the spans from one line, with the blank that separated each from its neighbour."""
    for begin, end in sorted(spans, reverse=True):
        before = text[:begin]
        after = text[end:]
        if before.strip():
            before = before.rstrip(" \t")
        else:
            after = after.lstrip(" \t")  # keep the line's indentation, drop the gap after
        text = before + after
    return text


def _check_hashes(values: Sequence[str], where: str) -> tuple[str, ...]:
    """The hashes as written: `algorithm:digest`, a strong algorithm, lower-case hex of the
    right length; FixError for anything else."""
    for value in values:
        algorithm, _, digest = value.partition(":")
        if not (is_hex_digest(algorithm, digest) and digest == digest.lower()):
            raise FixError(
                f"{where}: {value[:140]!r} is not an algorithm:hexdigest hash of a strong "
                "algorithm, in lower-case hex of its length; not written"
            )
    return tuple(sorted(set(values)))


def _over_cap(lines: Sequence[str], where: str) -> str | None:
    length = longest_logical_line(lines)
    if length <= MAX_LINE_CHARS:
        return None
    return (
        f"{where}: the fixed requirement would be a line of {length // 1024} KiB, over the "
        f"{MAX_LINE_CHARS // 1024} KiB cap on a logical line; not written"
    )


def rewrite_text(
    text: str, edits: Sequence[HashEdit | InsertEdit], refused: list[Refusal] | None = None
) -> str:
    """Apply the edits to a whole decoded requirements file and return the new text.

    An edit that would make a logical line longer than the reader's cap is not made: it is
    described in `refused` when given, else FixError. Raises StaleEditError when an edit's
    lines are not what `text` holds, FixError when edits overlap or an entry cannot be
    rewritten safely.
    """
    lines = _split_lines(text)
    file_ending = _usual_ending(lines)
    hash_edits = [e for e in edits if isinstance(e, HashEdit)]
    inserts = []
    for insert in (e for e in edits if isinstance(e, InsertEdit)):
        problem = _over_cap(insert.lines, insert.lines[0].split(" ", 1)[0] if insert.lines else "")
        if problem is None:
            inserts.append(insert)
        elif refused is not None:
            refused.append(Refusal(insert, problem))
        else:
            raise FixError(problem)
    out: list[str] = []
    next_line = 1  # the first line of `lines` not yet copied (1-based)

    def insert_before(line: int | None) -> None:
        for insert in inserts:
            if insert.before == line:
                out.extend(f"{new}{file_ending}" for new in insert.lines)

    for edit in sorted(hash_edits, key=lambda e: (e.location.line, e.location.end_line)):
        location = edit.location
        where = f"{location.path}:{location.line}"
        if location.line < next_line:
            raise FixError(f"{where}: overlaps another edit of the same file")
        if not 1 <= location.line <= location.end_line <= len(lines):
            raise StaleEditError(
                f"{where}: lines {location.line}-{location.end_line} are not in the file "
                "(it changed since it was read)"
            )
        current = "".join(lines[location.line - 1 : location.end_line])
        raw = edit.raw
        if location.line == 1 and raw.startswith("\ufeff") and not current.startswith("\ufeff"):
            raw = raw[1:]
        if current != raw:
            raise StaleEditError(
                f"{where}: the requirement's lines changed since the file was read"
            )
        new_hashes = _check_hashes(edit.new_hashes, where)
        for number in range(next_line, location.line + 1):
            insert_before(number)
            if number < location.line:
                out.append(lines[number - 1])
        entry = lines[location.line - 1 : location.end_line]
        if edit.new_pin is not None:
            entry = [_repin(entry[0], *edit.new_pin, where), *entry[1:]]
        rewritten = _rewrite_entry(entry, new_hashes, where, file_ending)
        if _rewrite_entry(rewritten, new_hashes, where, file_ending) is not rewritten:
            raise FixError(f"{where}: the fixed entry would not read back with its new hashes")
        problem = _over_cap(rewritten, where)
        if problem is not None:
            if refused is None:
                raise FixError(problem)
            refused.append(Refusal(edit, problem))
            rewritten = entry
        out.extend(rewritten)
        next_line = location.end_line + 1
    for number in range(next_line, len(lines) + 1):
        insert_before(number)
        out.append(lines[number - 1])
    if any(i.before is None or i.before > len(lines) for i in inserts):
        if out and _line_ending(out[-1]) == "":
            out[-1] += file_ending
        for insert in inserts:
            if insert.before is None or insert.before > len(lines):
                out.extend(f"{new}{file_ending}" for new in insert.lines)
    return "".join(out)


@dataclass(frozen=True)
class FilePlan:
    """What `--fix` would write to one file."""

    path: Path
    old: bytes
    new: bytes
    encoding: str
    bom: bytes = b""
    refused: tuple[Refusal, ...] = ()
    """Edits not made (a logical line over the cap)."""

    @property
    def changed(self) -> bool:
        return self.old != self.new

    @property
    def new_text(self) -> str:
        return self.new[len(self.bom) :].decode(self.encoding)

    def diff(self, label: str | None = None) -> str:
        """A unified diff with git's `a/`, `b/` headers; empty when nothing changes."""
        if not self.changed:
            return ""
        name = label if label is not None else self.path.as_posix().lstrip("/")
        old_lines = _diff_lines(self._text(self.old))
        new_lines = _diff_lines(self._text(self.new))
        out: list[str] = []
        headers = (_diff_name(f"a/{name}"), _diff_name(f"b/{name}"))
        for line in difflib.unified_diff(old_lines, new_lines, *headers):
            if starts_a_command(line):
                # A line of the file that a CI log would read as a workflow command: shown
                # escaped (that hunk no longer applies; pip refuses such a line anyway).
                line = safe_line(line.rstrip("\n")) + "\n"
            out.append(line)
            if not line.endswith("\n"):
                out.append("\n\\ No newline at end of file\n")
        return "".join(out)

    def then(self, edits: Sequence[HashEdit | InsertEdit]) -> FilePlan:
        """The plan with more edits applied to its new text (a later round of fixes); the
        bytes on disk it started from stay its `old`."""
        refused: list[Refusal] = []
        new_text = rewrite_text(self.new_text, edits, refused)
        if longest_logical_line(new_text.splitlines()) > MAX_LINE_CHARS:
            raise FixError(
                f"{self.path}: the fixed file would hold a line over the cap; not written"
            )
        try:
            new = self.bom + new_text.encode(self.encoding)
        except UnicodeEncodeError as error:
            raise FixError(
                f"{self.path}: the new text cannot be written as {self.encoding}: {error}"
            ) from None
        return replace(self, new=new, refused=tuple(refused))

    def _text(self, data: bytes) -> str:
        # The BOM stays in the diff's first line so that the patch applies to the real bytes.
        return self.bom.decode(self.encoding) + data[len(self.bom) :].decode(self.encoding)


def _diff_name(name: str) -> str:
    """A diff header's file name; quoted as git quotes it when it holds a control character
    (a newline in a file name must not start a line of the diff)."""
    if safe(name) == name:
        return name
    return '"' + safe(name.replace("\\", "\\\\").replace('"', '\\"')) + '"'


def _diff_lines(text: str) -> list[str]:
    # Patches work on "\n"-terminated lines, whatever else str.splitlines() would split on.
    lines = text.split("\n")
    result = [line + "\n" for line in lines[:-1]]
    if lines[-1]:
        result.append(lines[-1])
    return result


def plan_fix(
    path: Path, edits: Sequence[HashEdit | InsertEdit], root: Path | None = None
) -> FilePlan:
    """Read `path` (under `root`, by default its repository), apply the edits to its text
    and return the bytes `--fix` would write."""
    folder = root if root is not None else fs.repository_root(path)
    try:
        old = fs.read_bytes(fs.Root.at(folder), path, MAX_FILE_BYTES)
    except fs.Refused as not_read:
        if not_read.confinement:
            raise FixError(f"{path}: resolves {not_read.reason} ({folder}); not written") from None
        raise FixError(f"{path}: cannot read: {not_read.reason}") from None
    if len(old) > MAX_FILE_BYTES:
        raise FixError(f"{path}: larger than a requirements file may be; not written")
    try:
        text, encoding, bom = decode_requirements(old)
    except (UnicodeDecodeError, LookupError) as error:
        raise FixError(f"{path}: cannot decode: {error}") from None
    if bom + text.encode(encoding) != old:
        raise FixError(f"{path}: its {encoding} text does not re-encode to the same bytes")
    refused: list[Refusal] = []
    new_text = rewrite_text(text, edits, refused)
    if longest_logical_line(new_text.splitlines()) > MAX_LINE_CHARS:
        raise FixError(f"{path}: the fixed file would hold a line over the cap; not written")
    try:
        new = bom + new_text.encode(encoding)
    except UnicodeEncodeError as error:
        raise FixError(f"{path}: the new text cannot be written as {encoding}: {error}") from None
    return FilePlan(
        path=Path(path), old=old, new=new, encoding=encoding, bom=bom, refused=tuple(refused)
    )


# --- writing -------------------------------------------------------------------------------


def apply_plan(plan: FilePlan, root: Path | None = None) -> None:
    """Write the plan atomically; refuse if the file no longer holds `plan.old`.

    The write goes through the confined file layer (`reqhash_check.fs`) under `root`, the
    repository (by default the one of `plan.path`): a symlink is written through (its
    target is replaced, the link stays) when its target is inside the root; a file outside
    it, reached through a symlink or a symlinked folder or not, anything under `.git/`, and
    a read-only file are never written. The new file gets the old one's permission bits
    and, where allowed, its owner and group. On any failure the original is left as it was
    and no temporary file remains.
    """
    if not plan.changed:
        return
    folder = root if root is not None else fs.repository_root(plan.path)
    try:
        fs.replace_bytes(fs.Root.at(folder), plan.path, plan.new, plan.old)
    except fs.Refused as refused:
        if refused.confinement:
            raise FixError(
                f"{plan.path}: resolves {refused.reason} ({folder}); not written"
            ) from None
        raise FixError(f"{plan.path}: {refused.reason}; not written") from None
    except fs.ReadOnly:
        raise FixError(f"{plan.path}: read-only; not written") from None
    except fs.Changed:
        raise FileChangedError(
            f"{plan.path}: changed on disk since it was read; not written"
        ) from None
    except OSError as error:
        raise FixError(f"{plan.path}: cannot write: {error.strerror or error}") from error
