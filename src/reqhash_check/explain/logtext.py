"""Log text as pasted, made readable and safe: decoding, colours and CI prefixes off, and
`clean` for every string of it that is shown again.

The log is untrusted: its size and line lengths are bounded, and `clean` escapes control,
line-separator and bidirectional-override characters and a leading `::` (a GitHub Actions
workflow command) in whatever is taken from it.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from collections.abc import Iterator

MAX_LOG_BYTES = 50 * 1024 * 1024
"""A log larger than this is refused rather than read."""
MAX_LINE_CHARS = 64 * 1024
"""Longer lines are cut: no line pip prints about one requirement comes near this."""

# --- untrusted text -------------------------------------------------------------------------

_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _escape_char(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _unsafe(char: str) -> bool:
    category = unicodedata.category(char)
    return category in ("Cc", "Zl", "Zp") or char in _BIDI or char == "\ufeff"


def clean(text: str) -> str:
    """Log text made safe for any output: control, line-separator and bidi characters become
    `\\xNN`/`\\uNNNN`, and a leading `::` (an Actions workflow command) is escaped."""
    # Every unsafe character (Cc, Zl, Zp, the bidi controls, U+FEFF) is unprintable.
    out = (
        text if text.isprintable() else "".join(_escape_char(c) if _unsafe(c) else c for c in text)
    )
    stripped = out.lstrip()
    if stripped.startswith("::"):
        out = out[: len(out) - len(stripped)] + "\\:\\:" + stripped[2:]
    return out


# --- decoding and line normalisation --------------------------------------------------------


class LogTooLarge(ValueError):
    pass


def decode_log(data: bytes) -> str:
    """Bytes of a saved log as text: UTF-8 (the usual), or UTF-16/32 with a BOM (PowerShell's
    `>` writes UTF-16). Undecodable bytes become U+FFFD rather than an error."""
    if len(data) > MAX_LOG_BYTES:
        raise LogTooLarge(f"larger than {MAX_LOG_BYTES // (1024 * 1024)} MiB")
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    return data.decode("utf-8", errors="replace")


_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor moves
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: titles, hyperlinks
    r"|\x1b[@-Z\\-_]"  # two-character escapes
    r"|\x1b"
)
_PREFIXES = re.compile(
    r"(?:"  # used with match(): anchored where it starts
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?"  # GitHub Actions raw log timestamp
    r"|##\[[a-z]+\]"  # Actions log markers: ##[error], ##[group], …
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d,\d{3} "  # pip --log file timestamps
    r"|#\d+ \d+(?:\.\d+)? "  # docker build (BuildKit) step output
    r"|\[pipenv\.exceptions\.[A-Za-z]+\]: ?"  # pipenv's wrapping of pip's output
    r")"
)


def log_lines(text: str) -> Iterator[str]:
    for line in re.split(r"\r\n|\n|\r", text):
        if len(line) > MAX_LINE_CHARS:
            line = line[:MAX_LINE_CHARS]
        yield normalize_line(line)


def normalize_line(line: str) -> str:
    """One log line with colours and CI/log prefixes taken off; indentation is kept."""
    line = _ANSI.sub("", line) if "\x1b" in line else line
    start = 0  # prefixes are skipped by position: cutting the line each time is quadratic
    while match := _PREFIXES.match(line, start):
        if match.end() == start:
            break
        start = match.end()
    return line[start:].rstrip()
