"""Synthetic inputs for the scaling tables: hashed requirements files and the index behind them.

    python benchmarks/synth.py pins 3000          # prints the folder it built
    python benchmarks/synth.py lines 50000
    python benchmarks/synth.py releases 1000

Each kind is a requirements file of made-up projects (``synth-…``) and a
replay store (see replay.py) holding their PEP 691 Simple JSON pages and the
core metadata of their wheels, so the whole file can be checked against the
loopback index and then again ``--offline`` from the warm cache. Everything is
derived from a fixed seed: the same arguments build the same bytes. Built
folders are kept under ``~/.cache/reqhash-bench/synth/`` and reused.

- ``pins N``: N projects, 5 releases each, 4 files a release (sdist, a
  pure-Python wheel, two CPython wheels), the file lists all 4 hashes of the
  pinned release and a ``# via`` line; every project but each tenth depends on
  the next one, so the file set is closed (N a multiple of 10).
- ``lines L``: a file of exactly L lines: L/20 pins of 18 hashes each (wheels
  for 17 platforms and the sdist) with a ``# via`` line.
- ``releases R``: 30 projects with R releases of 2 files each, the size of a
  project page growing with R (botocore has about 2,000 releases).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
from pathlib import Path

from replay import DEFAULT_STORE, SIMPLE_JSON, Store

SYNTH_ROOT = DEFAULT_STORE.parent / "synth"
FILES = "https://files.pythonhosted.org/packages/synth/"
PLATFORMS = [
    "manylinux_2_17_x86_64.manylinux2014_x86_64",
    "manylinux_2_17_aarch64.manylinux2014_aarch64",
    "musllinux_1_2_x86_64",
    "musllinux_1_2_aarch64",
    "macosx_10_9_x86_64",
    "macosx_11_0_arm64",
    "win_amd64",
    "win32",
]
FORMAT_VERSION = 1


def _digest(*parts: object) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


def _wheels(project: str, version: str, count: int) -> list[str]:
    """``count`` wheel names: a pure-Python one first, then CPython ones."""
    stem = f"{project.replace('-', '_')}-{version}"
    names = [f"{stem}-py3-none-any.whl"]
    pythons = ["cp310", "cp311", "cp312", "cp313"]
    for index in range(count - 1):
        py = pythons[index // len(PLATFORMS) % len(pythons)]
        platform = PLATFORMS[index % len(PLATFORMS)]
        names.append(f"{stem}-{py}-{py}-{platform}.whl")
    return names


class Builder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.store = Store(folder / "store")
        self.rng = random.Random(0)
        self.lines: list[str] = []

    def project(
        self,
        name: str,
        versions: list[str],
        files_per_release: int,
        pinned: str,
        requires: list[str],
        via: str,
    ) -> None:
        """Store a project's page (and the pinned release's wheel metadata); add its pin."""
        files = []
        pinned_hashes = []
        for version in versions:
            names = [*_wheels(name, version, files_per_release - 1)]
            names.append(f"{name.replace('-', '_')}-{version}.tar.gz")
            for filename in names:
                digest = _digest(name, filename)
                entry: dict[str, object] = {
                    "filename": filename,
                    "hashes": {"sha256": digest},
                    "requires-python": ">=3.9",
                    "size": 1000 + len(filename),
                    "upload-time": "2026-01-01T00:00:00.000000Z",
                    "url": FILES + filename,
                    "yanked": False,
                }
                if version == pinned and filename.endswith(".whl"):
                    metadata = "".join(
                        [
                            "Metadata-Version: 2.1\n",
                            f"Name: {name}\nVersion: {version}\n",
                            "Requires-Python: >=3.9\n",
                            *(f"Requires-Dist: {r}\n" for r in requires),
                        ]
                    ).encode()
                    meta_digest = hashlib.sha256(metadata).hexdigest()
                    entry["core-metadata"] = {"sha256": meta_digest}
                    entry["data-dist-info-metadata"] = {"sha256": meta_digest}
                    key = f"files /packages/synth/{filename}.metadata"
                    self.store.put_bytes(key, 200, "application/octet-stream", metadata)
                if version == pinned:
                    pinned_hashes.append(digest)
                files.append(entry)
        page = {
            "meta": {"api-version": "1.1", "_last-serial": 1},
            "name": name,
            "versions": versions,
            "files": files,
        }
        body = json.dumps(page, separators=(",", ":")).encode()
        self.store.put_bytes(f"pypi /simple/{name}/ [json]", 200, SIMPLE_JSON, body)
        self.lines.append(f"{name}=={pinned} \\")
        hashes = sorted(pinned_hashes)
        for index, digest in enumerate(hashes):
            tail = " \\" if index + 1 < len(hashes) else ""
            self.lines.append(f"    --hash=sha256:{digest}{tail}")
        self.lines.append(f"    # via {via}")

    def finish(self, header: str) -> Path:
        requirements = self.folder / "requirements.txt"
        requirements.write_text(header + "\n".join(self.lines) + "\n", encoding="utf-8")
        (self.folder / "complete").write_text(str(FORMAT_VERSION), encoding="utf-8")
        return requirements


def _chain(prefix: str, index: int, count: int, width: int = 5) -> list[str]:
    following = index + 1
    if following % 10 == 0 or following >= count:
        return []
    return [f"{prefix}-{following:0{width}d}"]


def build(kind: str, size: int, root: Path = SYNTH_ROOT) -> Path:
    """Build (or reuse) one synthetic input; returns its folder (requirements.txt, store/)."""
    folder = root / f"{kind}-{size}"
    if (folder / "complete").is_file() and (folder / "complete").read_text() == str(FORMAT_VERSION):
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    builder = Builder(folder)
    if kind == "pins":
        if size % 10:
            raise ValueError("pins: a multiple of 10")
        header = f"# {size} synthetic pins, 4 hashes each (benchmarks/synth.py pins {size})\n"
        versions = ["1.0.0", "1.1.0", "1.2.0", "2.0.0", "2.1.0"]
        for index in range(size):
            name = f"synth-p-{index:05d}"
            builder.project(
                name,
                versions,
                4,
                versions[index % len(versions)],
                _chain("synth-p", index, size),
                "-r requirements.in" if index % 10 == 0 else f"synth-p-{index - 1:05d}",
            )
    elif kind == "lines":
        per_pin = 20  # requirement line, 18 hashes, "# via"
        header_lines = 2
        pins = (size - header_lines) // per_pin
        pad = size - header_lines - pins * per_pin
        header = f"# a {size}-line file: {pins} synthetic pins, 18 hashes each\n" + (
            "# (benchmarks/synth.py lines)\n"
        )
        header += "#\n" * pad
        versions = ["3.0.0", "3.1.0", "3.2.0"]
        for index in range(pins):
            name = f"synth-l-{index:05d}"
            builder.project(
                name,
                versions,
                18,
                versions[index % len(versions)],
                _chain("synth-l", index, pins),
                "-r requirements.in" if index % 10 == 0 else f"synth-l-{index - 1:05d}",
            )
    elif kind == "releases":
        header = f"# 30 synthetic projects with {size} releases each (benchmarks/synth.py)\n"
        versions = [f"{major}.{minor}.0" for major in range(1000) for minor in range(10)][:size]
        for index in range(30):
            name = f"synth-r{size}-{index:03d}"
            builder.project(
                name,
                versions,
                2,
                versions[len(versions) // 2],
                _chain(f"synth-r{size}", index, 30, 3),
                "-r requirements.in" if index % 10 == 0 else f"synth-r{size}-{index - 1:03d}",
            )
    else:
        raise ValueError(f"unknown kind {kind!r}")
    return builder.finish(header).parent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=["pins", "lines", "releases"])
    parser.add_argument("size", type=int)
    parser.add_argument("--root", type=Path, default=SYNTH_ROOT)
    args = parser.parse_args(argv)
    folder = build(args.kind, args.size, args.root)
    print(folder)
    print(f"{sum(1 for _ in (folder / 'requirements.txt').open())} lines", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
