"""Record real PyPI project JSON for the tests' fake index.

Run by hand (it needs the network): ``python tests/record_pypi.py``.
Each project's JSON is trimmed to what the index clients read, and to the
newest few releases plus the ones tests name, so the recordings stay small.
The core metadata (PEP 658) of a few wheels is saved next to them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
from packaging.version import InvalidVersion, Version

DATA = Path(__file__).parent / "data" / "pypi"
BASE = "https://pypi.org"

# project -> (how many of the newest releases to keep, releases always kept)
PROJECTS: dict[str, tuple[int, tuple[str, ...]]] = {
    "requests": (8, ("2.31.0", "2.32.0", "2.32.1", "2.32.2", "2.32.3", "2.30.0")),
    "urllib3": (6, ("1.26.18", "2.0.7", "2.2.1", "2.2.2")),
    "idna": (6, ("3.4", "3.6", "3.7")),
    "certifi": (6, ("2023.7.22", "2024.2.2")),
    "charset-normalizer": (1, ("3.3.2",)),
    "six": (6, ("1.16.0",)),
    "numpy": (1, ("1.26.4",)),
}
METADATA_OF = (
    "requests-2.31.0-py3-none-any.whl",
    "requests-2.32.3-py3-none-any.whl",
    "urllib3-2.2.2-py3-none-any.whl",
)

INFO_KEYS = ("name", "version", "requires_dist", "requires_python", "yanked", "yanked_reason")
FILE_KEYS = (
    "filename",
    "url",
    "packagetype",
    "requires_python",
    "size",
    "yanked",
    "yanked_reason",
    "core-metadata",
    "data-dist-info-metadata",
)


def _version_key(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion:
        return Version("0.0.0.dev0")


def _trim_file(entry: dict[str, Any], page_url: str) -> dict[str, Any]:
    out = {key: entry[key] for key in FILE_KEYS if key in entry}
    # Some mirrors answer with URLs relative to the JSON document.
    out["url"] = urljoin(page_url, entry["url"])
    out["digests"] = {"sha256": entry["digests"]["sha256"]}
    return out


def trim(
    project_json: dict[str, Any], page_url: str, newest: int, keep: tuple[str, ...]
) -> dict[str, Any]:
    releases: dict[str, list[dict[str, Any]]] = project_json["releases"]
    with_files = [v for v, files in releases.items() if files]
    chosen = set(sorted(with_files, key=_version_key)[-newest:]) | set(keep)
    chosen.add(project_json["info"]["version"])
    return {
        "info": {key: project_json["info"].get(key) for key in INFO_KEYS},
        "releases": {
            version: [_trim_file(f, page_url) for f in releases[version]]
            for version in sorted(chosen & set(releases), key=_version_key)
        },
        "urls": [_trim_file(f, page_url) for f in project_json["urls"]],
    }


def main() -> int:
    DATA.mkdir(parents=True, exist_ok=True)
    headers = {"User-Agent": "reqhash-check test recorder"}
    with httpx.Client(headers=headers, timeout=30, follow_redirects=True) as client:
        urls: dict[str, str] = {}
        for name, (newest, keep) in PROJECTS.items():
            page_url = f"{BASE}/pypi/{name}/json"
            response = client.get(page_url)
            response.raise_for_status()
            trimmed = trim(response.json(), page_url, newest, keep)
            for files in trimmed["releases"].values():
                urls.update({f["filename"]: f["url"] for f in files})
            target = DATA / f"{name}.json"
            target.write_text(json.dumps(trimmed, indent=1, sort_keys=True) + "\n")
            print(f"{target}: {len(trimmed['releases'])} releases", file=sys.stderr)
        for filename in METADATA_OF:
            response = client.get(urls[filename] + ".metadata")
            response.raise_for_status()
            (DATA / f"{filename}.metadata").write_bytes(response.content)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
