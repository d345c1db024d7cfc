"""What the `download` detections are called with (--verify-downloads): one file as it was
served, for requirements files, Pipfile.lock and pylock.toml alike. `reqhash_check.verify`
fetches the files and is the loop that calls the detections."""

from __future__ import annotations

from dataclasses import dataclass

from reqhash_check.findings import Location


@dataclass(frozen=True)
class DownloadContext:
    """One file some target would download, as it was served, for one requirement or
    locked package that downloads it."""

    filename: str
    project: str
    version: str
    index: str
    """Where the file is listed."""
    listed_sha256: str
    served_from: str
    served_sha256: str
    encoding: str
    """The Content-Encoding it was served with although none was asked, or ""."""
    location: Location
    targets: frozenset[str]
