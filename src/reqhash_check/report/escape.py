"""Strings from files and indexes are untrusted: escaped before any output shows them.

Control characters (including line and paragraph separators, and the bidirectional
overrides that make text read differently than it is) become visible escapes, so a message
can never start a new line, move the cursor or colour the terminal; a line that would start
with `::` is changed so GitHub Actions cannot read it as a workflow command.
"""

from __future__ import annotations

import re

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNSAFE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff]"
)


def _visible(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: str) -> str:
    """The text on one line with every control character made visible."""
    return _UNSAFE.sub(_visible, text)


def safe_line(line: str) -> str:
    """A whole output line: `safe`, and never a workflow command (`::name …::`)."""
    line = safe(line)
    stripped = line.lstrip()
    if stripped.startswith("::"):
        at = len(line) - len(stripped)
        line = line[:at] + "\\x3a" + line[at + 1 :]
    return line
