"""Strings from files and indexes are untrusted: escaped before any output shows them.

Control characters (including line and paragraph separators, and the bidirectional
overrides that make text read differently than it is) become visible escapes, so a message
can never start a new line, move the cursor or colour the terminal; a line that would start
with `::` or `##[` is changed so GitHub Actions cannot read it as a workflow command. JSON output
(the json and sarif formats) keeps the same characters as `\\uXXXX` escapes.
"""

from __future__ import annotations

import json
import re
from typing import Any

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_BEYOND_ASCII_CONTROLS = (
    "\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff"
)
"""With the lone surrogates: a file name holding a byte that is not UTF-8 (`\\xff`) is read
by Python as U+DCFF, which no UTF-8 stream can write."""
_UNSAFE = re.compile(f"[\x00-\x08\x0a-\x1f{_BEYOND_ASCII_CONTROLS}]")
_JSON_UNSAFE = re.compile(f"[{_BEYOND_ASCII_CONTROLS}]")
"""What `json.dumps` leaves raw: it escapes only the characters below U+0020 (in strings;
the line breaks of its indentation are its own)."""


def _visible(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: str) -> str:
    """The text on one line with every control character made visible."""
    return _UNSAFE.sub(_visible, text)


_COMMAND_STARTS = {"::": "\\x3a", "##[": "\\x23"}
"""How a workflow command starts (the runner strips leading blanks first): `::name …::`,
and the older `##[name …]`; each is broken by escaping its first character."""


def safe_line(line: str) -> str:
    """A whole output line: `safe`, and never a workflow command (`::name …::`, `##[…]`)."""
    line = safe(line)
    stripped = line.lstrip()
    for start, escaped in _COMMAND_STARTS.items():
        if stripped.startswith(start):
            at = len(line) - len(stripped)
            return line[:at] + escaped + line[at + 1 :]
    return line


def starts_a_command(line: str) -> bool:
    """Whether a log reader would find a workflow command in this line of raw text: it splits
    lines on a lone carriage return too."""
    return any(
        part.lstrip().startswith(tuple(_COMMAND_STARTS)) for part in line.rstrip("\r\n").split("\r")
    )


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group(0)):04x}"


def json_text(document: Any) -> str:
    """`document` as indented JSON: readable text stays as it is (not `\\uXXXX`), but every
    character `safe` makes visible is written as a `\\uXXXX` escape. `json.dumps` escapes
    only those below U+0020 and leaves DEL, C1 controls (U+0085), line and paragraph
    separators (U+2028, U+2029) and bidirectional controls raw; escaped, a JSON reader gets
    the same value and a viewer of the file shows no reordered or broken line."""
    text = json.dumps(document, indent=2, ensure_ascii=False)
    return _JSON_UNSAFE.sub(_json_escape, text) + "\n"
