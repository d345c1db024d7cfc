"""After `--fix`, pip installs the file: a clean hashed file loses one hash, one wheel's
hash, one dependency (or one needed only on Windows); `reqhash-check --fix` for a target
then gives a file that the real pip downloads with `--require-hashes` on that target *with
its dependencies*, and a second `--fix` changes nothing."""

from __future__ import annotations

import re
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reqhash_check.cli import main
from tests.fakeindex import FakeFile, FakeIndex
from tests.pips import NEWEST_PIP, ensure_pip, isolated_env
from tests.wheelfactory import BuiltFile, build_sdist, build_wheel

pytestmark = pytest.mark.slow

LINUX = ("3.12", "manylinux2014_x86_64")
WINDOWS = ("3.12", "win_amd64")
TARGETS = {"linux": LINUX, "windows": WINDOWS}


@dataclass
class World:
    index: FakeIndex
    files: dict[str, BuiltFile]

    def line(self, name: str, keys: list[str], marker: str = "") -> str:
        head = name + (f" ; {marker}" if marker else "")
        hashes = [f"    --hash=sha256:{self.files[k].sha256}" for k in keys]
        return " \\\n".join([head, *hashes]) + "\n"


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    index = FakeIndex().start()
    files = {
        "app": build_wheel(
            "fixapp", "1.0", requires_dist=["fixlib>=1", 'fixwin; platform_system == "Windows"']
        ),
        "lib-linux": build_wheel(
            "fixlib", "1.0", "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"
        ),
        "lib-win": build_wheel("fixlib", "1.0", "cp312-cp312-win_amd64"),
        "lib-sdist": build_sdist("fixlib", "1.0"),
        "win": build_wheel("fixwin", "0.5"),
    }
    owners = {"app": "fixapp", "lib-linux": "fixlib", "lib-win": "fixlib", "lib-sdist": "fixlib"}
    for key, built in files.items():
        project = owners.get(key, "fixwin")
        version = "0.5" if project == "fixwin" else "1.0"
        index.add(
            project,
            version,
            FakeFile(built.filename, content=built.content, metadata=built.metadata),
        )
    try:
        yield World(index, files)
    finally:
        index.close()


def clean(world: World) -> dict[str, str]:
    return {
        "fixapp": world.line("fixapp==1.0", ["app"]),
        "fixlib": world.line("fixlib==1.0", ["lib-linux", "lib-win", "lib-sdist"]),
        "fixwin": world.line("fixwin==0.5", ["win"], 'platform_system == "Windows"'),
    }


def mutations(world: World) -> dict[str, str]:
    entries = clean(world)
    without = {k: "".join(v for n, v in entries.items() if n != k) for k in entries}
    return {
        "one-hash-removed": entries["fixapp"]
        + world.line("fixlib==1.0", ["lib-linux", "lib-win"])
        + entries["fixwin"],
        "one-wheel-hash-removed": entries["fixapp"]
        + world.line("fixlib==1.0", ["lib-linux", "lib-sdist"])
        + entries["fixwin"],
        "every-hash-of-one-removed": entries["fixapp"] + "fixlib==1.0\n" + entries["fixwin"],
        "one-dependency-removed": without["fixlib"],
        "a-windows-only-dependency-removed": without["fixwin"],
    }


def pip_download(python: Path, world: World, path: Path, target: tuple[str, str]) -> str:
    with tempfile.TemporaryDirectory() as dest:
        done = subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "download",
                "--isolated",
                "--no-cache-dir",
                "--disable-pip-version-check",
                "--require-hashes",
                "--only-binary=:all:",
                "--index-url",
                world.index.simple_url,
                "-d",
                dest,
                "--python-version",
                target[0],
                "--platform",
                target[1],
                "-r",
                str(path),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            env=isolated_env(),
        )
    return "" if done.returncode == 0 else done.stdout + done.stderr


@pytest.fixture(scope="module")
def pip() -> Path:
    return ensure_pip(NEWEST_PIP)


def test_the_clean_file_installs_everywhere(world: World, pip: Path, tmp_path: Path) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text("".join(clean(world).values()))
    for target in TARGETS.values():
        assert pip_download(pip, world, path, target) == ""


@pytest.mark.parametrize("target_name", sorted(TARGETS))
@pytest.mark.parametrize(
    "mutation",
    [
        "one-hash-removed",
        "one-wheel-hash-removed",
        "every-hash-of-one-removed",
        "one-dependency-removed",
        "a-windows-only-dependency-removed",
    ],
)
def test_fix_leaves_a_file_pip_installs(
    world: World,
    pip: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    mutation: str,
    target_name: str,
) -> None:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "requirements.txt"
    path.write_text(mutations(world)[mutation])
    python_version, platform = TARGETS[target_name]
    argv = [
        "--python-version",
        python_version,
        "--platform",
        platform,
        "--index-url",
        world.index.simple_url,
        "--no-cache",
        "--fix",
        "requirements.txt",
    ]
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 0, err
    assert pip_download(pip, world, path, TARGETS[target_name]) == ""
    fixed = path.read_text()
    assert main(argv) == 0
    assert path.read_text() == fixed
    assert capsys.readouterr().err.splitlines()[-1] == "nothing to fix"
    if mutation == "a-windows-only-dependency-removed" and target_name == "windows":
        assert re.search(r'^fixwin==0\.5 ; platform_system == "Windows" \\$', fixed, re.M)
        assert "    # via fixapp" in fixed
