"""Strip a hashed requirements file down to the hashes of Linux x86_64 files.

Takes a file written by ``pip-compile --generate-hashes`` or
``uv pip compile --generate-hashes`` and keeps, for every ``name==version``
requirement, only the ``--hash`` entries of files that pip can install on a
glibc Linux x86_64 host: manylinux wheels for x86_64 and pure (``any``)
wheels. The hashes of sdists, macOS, Windows, musllinux and other-architecture
wheels are removed, so the result installs on Linux x86_64 and fails with
"THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE" elsewhere.

Which hash belongs to which file is asked from PyPI's project JSON
(``/pypi/<name>/json``: ``releases[version][].digests.sha256`` and
``filename``). The per-version JSON would be smaller, but some mirrors only
serve the project JSON.

    python benchmarks/make_linux_only.py examples/datascience-linux.txt

rewrites the file in place (or writes ``-o OUT``). A hash that PyPI does not
publish for the pinned version, or a requirement that would be left without any
hash, is an error: the tool refuses to write rather than produce a file that
fails on Linux too.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.request
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name, parse_wheel_filename

PROJECT_JSON = "https://pypi.org/pypi/{name}/json"
USER_AGENT = "reqhash-check-benchmarks/make_linux_only"
NOTE = (
    "# Then limited to the hashes of manylinux x86_64 and pure-Python wheels by:\n"
    "#    python benchmarks/make_linux_only.py {path}\n"
)

_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==(?P<version>[^\s;\\]+)")
_HASH = re.compile(r"^\s+--hash=sha256:(?P<digest>[0-9a-f]{64})\s*\\?\s*$")
_MANYLINUX_X86_64 = re.compile(r"^manylinux(1|2010|2014|_\d+_\d+)_x86_64$")


def installs_on_linux_x86_64(filename: str) -> bool:
    """True for a wheel pip can pick on glibc Linux x86_64 (any Python version)."""
    if not filename.endswith(".whl"):
        return False
    _, _, _, tags = parse_wheel_filename(filename)
    return any(tag.platform == "any" or _MANYLINUX_X86_64.match(tag.platform) for tag in tags)


@dataclass
class Block:
    """One requirement: its first line and the sha256 digests that follow it."""

    head: str
    name: str
    version: str
    digests: list[str] = field(default_factory=list)


def parse_blocks(lines: list[str]) -> list[str | Block]:
    items: list[str | Block] = []
    current: Block | None = None
    for line in lines:
        if current is not None:
            hash_match = _HASH.match(line)
            if hash_match:
                current.digests.append(hash_match["digest"])
                continue
            current = None
        pin = _PIN.match(line)
        if pin and line.rstrip().endswith("\\"):
            current = Block(line.rstrip()[:-1].rstrip(), pin["name"], pin["version"])
            items.append(current)
        else:
            items.append(line)
    return items


def fetch_files(name: str) -> dict[str, dict[str, str]]:
    """version -> {sha256: filename} for every release of a project."""
    url = PROJECT_JSON.format(name=canonicalize_name(name))
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=60) as response:
        data = json.load(response)
    return {
        version: {f["digests"]["sha256"]: f["filename"] for f in files}
        for version, files in data["releases"].items()
    }


def render(block: Block, digests: list[str]) -> str:
    lines = [block.head] + [f"    --hash=sha256:{d}" for d in digests]
    return " \\\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path, help="hashed requirements file")
    parser.add_argument("-o", "--output", type=Path, help="write here instead of in place")
    args = parser.parse_args(argv)

    lines = args.file.read_text(encoding="utf-8").splitlines(keepends=True)
    items = parse_blocks(lines)
    blocks = [item for item in items if isinstance(item, Block)]
    names = sorted({canonicalize_name(b.name) for b in blocks})
    with ThreadPoolExecutor(max_workers=8) as pool:
        releases = dict(zip(names, pool.map(fetch_files, names), strict=True))

    problems: list[str] = []
    out: list[str] = []
    kept_total = dropped_total = 0
    for item in items:
        if isinstance(item, str):
            out.append(item)
            continue
        published = releases[canonicalize_name(item.name)].get(item.version, {})
        kept: list[str] = []
        for digest in item.digests:
            filename = published.get(digest)
            if filename is None:
                problems.append(f"{item.name}=={item.version}: {digest} is not published")
            elif installs_on_linux_x86_64(filename):
                kept.append(digest)
        if not kept:
            problems.append(f"{item.name}=={item.version}: no Linux x86_64 file is hashed")
        kept_total += len(kept)
        dropped_total += len(item.digests) - len(kept)
        out.append(render(item, kept))

    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    note = NOTE.format(path=(args.output or args.file).as_posix())
    if note not in "".join(out):
        header_end = next(i for i, line in enumerate(out) if not line.startswith("#"))
        out[header_end:header_end] = note.splitlines(keepends=True)
    (args.output or args.file).write_text("".join(out), encoding="utf-8")
    print(f"{len(blocks)} requirements: kept {kept_total} hashes, removed {dropped_total}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
