"""Physical lines → logical lines, in pip's order: split, join `\\` continuations, strip
comments and blank lines, then expand `${VAR}` from the environment."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from reqhash_check import watch

# A comment starts at a '#' at the start of a line or after whitespace.
COMMENT_RE = re.compile(r"(^|\s+)#.*$")
# Only ${NAME} with upper-case ASCII letters, digits and underscores is expanded.
ENV_VAR_RE = re.compile(r"(?P<var>\$\{(?P<name>[A-Z0-9_]+)\})")
# Only a comment as pip reads one ("#" at the start of the line or after a blank): the same
# words inside a URL fragment or a marker's quoted value suppress nothing.
_SUPPRESS_RE = re.compile(r"(?:^|\s)#\s*reqhash:\s*ignore\[([^\]]*)\]")


@dataclass(frozen=True)
class LogicalLine:
    """One logical line: its continuations joined, its comment stripped."""

    start: int
    """1-based number of the first physical line (the number pip reports)."""
    end: int
    """1-based number of the last physical line."""
    written: str
    """The joined line without comments, before ${VAR} expansion."""
    text: str
    """What pip parses: `written` with the environment's values substituted."""
    substituted: tuple[tuple[str, str], ...] = ()
    """(name, value) of each ${NAME} that was replaced."""


def _joined(lines: Sequence[str]) -> Iterator[tuple[int, int, str]]:
    """pip's join_lines: a line ending in a backslash continues, unless it is a comment.

    Yields (first index, last index, joined text), 0-based.
    """
    parts: list[str] = []
    first = 0
    for index, line in enumerate(lines):
        # A comment has a "#": most lines (a hash's continuation) are told without the pattern.
        comment = "#" in line and COMMENT_RE.match(line) is not None
        if line.endswith("\\") and not comment:
            if not parts:
                first = index
            parts.append(line.strip("\\"))
            continue
        if comment:
            line = " " + line  # keeps the comment a comment once joined
        if parts:
            parts.append(line)
            yield first, index, "".join(parts)
            parts = []
        else:
            yield index, index, line
    if parts:
        yield first, len(lines) - 1, "".join(parts)


class ExpansionTooLong(ValueError):
    """Substituting the environment's values would make the line longer than allowed."""


def expand(
    text: str, environ: Mapping[str, str], limit: int | None = None
) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Substitute ${NAME} the way pip does; a variable unset or empty stays as written.

    pip finds the ${NAME}s of the line once, then replaces each in turn in the line as it
    stands, so a value that contains another ${NAME} of the same line is expanded too.
    """
    done: list[tuple[str, str]] = []
    for var, name in ENV_VAR_RE.findall(text):
        value = environ.get(name)
        if not value:
            continue
        count = text.count(var)
        if count:
            watch.expanded()
            done.append((name, value))
            if limit is not None and len(text) + count * (len(value) - len(var)) > limit:
                raise ExpansionTooLong(name)
            text = text.replace(var, value)
    return text, tuple(done)


def logical_lines(physical: Sequence[str]) -> Iterator[LogicalLine]:
    """`physical` are the file's lines as str.splitlines() gives them, without line ends.

    The lines come as written; `expand` substitutes the environment's values.
    """
    for first, last, joined in _joined(physical):
        if "#" in joined:
            joined = COMMENT_RE.sub("", joined)
        written = joined.strip()
        if written:
            yield LogicalLine(first + 1, last + 1, written, written)


def entry_end(lines: Sequence[str], start: int) -> int:
    """0-based index of the last physical line of the logical line starting at `start`."""
    index = start
    while index < len(lines) - 1:
        line = lines[index]
        if not line.endswith("\\") or COMMENT_RE.match(line):
            break
        index += 1
    return index


def suppressions(raw: str) -> frozenset[str]:
    """Rule IDs named by `# reqhash: ignore[rule,…]` comments in an entry's lines."""
    if "reqhash" not in raw:
        return frozenset()
    found: set[str] = set()
    for match in _SUPPRESS_RE.finditer(raw):
        found.update(item.strip() for item in match.group(1).split(",") if item.strip())
    return frozenset(found)
