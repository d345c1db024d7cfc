"""Bytes → text, as the modelled pip decodes a requirements file it opens by path."""

from __future__ import annotations

import codecs
import locale
import re
import sys

from reqhash_check.requirements.model import RequirementsFileError
from reqhash_check.requirements.versions import OLDEST, rules_for

# pip tries byte-order marks in a fixed order; 25.0 moved UTF-32 before UTF-16, since
# the UTF-16-LE mark is a prefix of the UTF-32-LE one (before, UTF-32-LE read as UTF-16).
_BOMS_BEFORE_25 = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF32, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF16, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_PEP263_RE = re.compile(rb"coding[:=]\s*([-\w.]+)")


def _locale_encoding(version: tuple[int, int]) -> str:
    if version >= (26, 2) and sys.version_info >= (3, 11):
        return locale.getencoding() or sys.getdefaultencoding()
    return locale.getpreferredencoding(False) or sys.getdefaultencoding()


def decode_requirements(
    data: bytes, pip_version: tuple[int, int] = OLDEST
) -> tuple[str, str, bytes]:
    """Decode a requirements file as pip does: returns (text, encoding, bom).

    A byte-order mark wins; then a `# … coding: X` comment on one of the first two lines;
    then (pip 25.0 and later) UTF-8; then the locale's encoding. The BOM is not part of
    the text. Raises UnicodeDecodeError, or LookupError for an unknown declared encoding.
    """
    rules = rules_for(pip_version)
    for bom, encoding in _BOMS if rules.utf8_before_locale else _BOMS_BEFORE_25:
        if data.startswith(bom):
            text = data[len(bom) :].decode(encoding)
            if encoding in ("utf-16", "utf-32"):  # this machine's byte order, named
                encoding += "-le" if sys.byteorder == "little" else "-be"
            return text, encoding, bom
    for line in data.split(b"\n")[:2]:
        declared = _PEP263_RE.search(line) if line[:1] == b"#" else None
        if declared is not None:
            encoding = declared.group(1).decode("ascii")
            return data.decode(encoding), encoding, b""
    if rules.utf8_before_locale:
        try:
            return data.decode("utf-8"), "utf-8", b""
        except UnicodeDecodeError:
            pass
    fallback = codecs.lookup(_locale_encoding(rules.version)).name
    return data.decode(fallback), fallback, b""


def read_text(data: bytes, path: str, pip_version: tuple[int, int] = OLDEST) -> str:
    """Decode a file given on the command line; RequirementsFileError when it is not text."""
    wide = data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, codecs.BOM_UTF32_BE))
    if b"\x00" in data and not wide:
        raise RequirementsFileError(f"{path}: not a text file (it contains NUL bytes)")
    try:
        text = decode_requirements(data, pip_version)[0]
    except (UnicodeDecodeError, LookupError) as exc:
        reason = exc.reason if isinstance(exc, UnicodeDecodeError) else "unknown encoding"
        raise RequirementsFileError(f"{path}: cannot decode the file ({reason})") from None
    if "\x00" in text:
        raise RequirementsFileError(f"{path}: not a text file (it contains NUL bytes)")
    return text


def auto_decode(data: bytes) -> str:
    return decode_requirements(data)[0]
