"""Pipfile.lock verdicts judged by the real pipenv and the real pip.

Each lock is exported by the real `pipenv requirements --hash` (what pipenv hands pip when
it installs), and the real pip downloads that export with `--no-deps --require-hashes` for
a target; reqhash-check, given the lock and the same target flags in the same order, must
say pass or fail as pip does, before and after `--fix`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reqhash_check.cli import main
from reqhash_check.pipfile import pipenv_dumps
from tests.fakeindex import FakeFile, FakeIndex
from tests.pips import NEWEST_PIP, OLDEST_PIP, ensure_pip, isolated_env
from tests.wheelfactory import BuiltFile, build_sdist, build_wheel

pytestmark = pytest.mark.slow

TARGET_FLAGS = [
    "--python-version",
    "3.12",
    "--platform",
    "manylinux_2_28_x86_64",
    "--implementation",
    "cp",
]


BUILT: dict[str, BuiltFile] = {}
for _project, _version, _requires in [
    ("web", "3.1", ["markup>=2"]),
    ("web", "3.0", ["markup>=2"]),
    ("markup", "3.0.2", []),
]:
    for _built in (
        build_wheel(_project, _version, requires_dist=_requires),
        build_sdist(_project, _version, requires_dist=_requires),
    ):
        BUILT[_built.filename] = _built


def sha(name: str) -> str:
    """The digest of a file built for the index (tests may only ever name those)."""
    return BUILT[name].sha256


def pipenv_command() -> list[str]:
    found = shutil.which("pipenv", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("pipenv is not installed (it is in the test extra)")
    return [found]


@pytest.fixture(scope="module")
def index() -> Iterator[FakeIndex]:
    world = FakeIndex().start()
    try:
        for built in BUILT.values():
            project, version = built.filename.split("-")[:2]
            version = version.removesuffix(".tar.gz")
            world.add(
                project,
                version,
                FakeFile(built.filename, content=built.content, metadata=built.metadata),
                requires_dist=[] if project == "markup" else ["markup>=2"],
            )
        yield world
    finally:
        world.close()


def hashes(*names: str) -> list[str]:
    return [f"sha256:{sha(n)}" for n in names]


WHEEL, SDIST = "web-3.1-py3-none-any.whl", "web-3.1.tar.gz"
MARKUP = {"hashes": hashes("markup-3.0.2-py3-none-any.whl"), "version": "==3.0.2"}
LOCKS: dict[str, dict[str, Any]] = {
    "clean": {"markup": MARKUP, "web": {"hashes": hashes(WHEEL, SDIST), "version": "==3.1"}},
    "stale": {
        "markup": MARKUP,
        "web": {"hashes": hashes("web-3.0-py3-none-any.whl", "web-3.0.tar.gz"), "version": "==3.1"},
    },
    "wheel-only": {"markup": MARKUP, "web": {"hashes": hashes(WHEEL), "version": "==3.1"}},
    "sdist-only": {"markup": MARKUP, "web": {"hashes": hashes(SDIST), "version": "==3.1"}},
    "typo-in-wheel-hash": {
        "markup": MARKUP,
        "web": {
            "hashes": [f"sha256:{sha(WHEEL)[:-1]}{'0' if sha(WHEEL)[-1] != '0' else '1'}"]
            + hashes(SDIST),
            "version": "==3.1",
        },
    },
    "lacks-a-dependency": {"web": {"hashes": hashes(WHEEL, SDIST), "version": "==3.1"}},
}


def write_project(folder: Path, index: FakeIndex, default: dict[str, Any]) -> None:
    (folder / ".git").mkdir(parents=True, exist_ok=True)
    (folder / "Pipfile").write_text(
        f'[[source]]\nurl = "{index.simple_url}"\nverify_ssl = false\nname = "local"\n\n'
        "[packages]\n" + "".join(f'{name} = "*"\n' for name in default)
    )
    (folder / "Pipfile.lock").write_text(
        pipenv_dumps(
            {
                "_meta": {
                    "hash": {"sha256": "ab" * 32},
                    "pipfile-spec": 6,
                    "requires": {"python_version": "3.12"},
                    "sources": [{"name": "local", "url": index.simple_url, "verify_ssl": True}],
                },
                "default": default,
                "develop": {},
            }
        )
    )


def pipenv_export(folder: Path) -> str:
    env = {k: v for k, v in isolated_env().items() if not k.startswith("PIPENV_")}
    env.update(PIPENV_IGNORE_VIRTUALENVS="1", PIPENV_VERBOSITY="-1", PIPENV_YES="1")
    result = subprocess.run(
        [*pipenv_command(), "requirements", "--hash"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def pip_passes(python: Path, export: str) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory(prefix="pipenv-export-") as work:
        requirements = Path(work, "requirements.txt")
        requirements.write_text(export)
        result = subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "download",
                "--isolated",
                "--no-cache-dir",
                "--disable-pip-version-check",
                "--no-input",
                "--no-deps",
                "--require-hashes",
                "-d",
                str(Path(work, "dest")),
                *TARGET_FLAGS,
                "-r",
                str(requirements),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            env=isolated_env(),
            cwd=work,
        )
    return result.returncode == 0, result.stdout + result.stderr


def ours_passes(folder: Path, *extra: str) -> tuple[bool, str]:
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        code = main(
            ["--isolated", "--no-cache", "--no-progress", *TARGET_FLAGS, *extra, "Pipfile.lock"]
        )
    finally:
        os.chdir(cwd)
    assert code in (0, 1)
    return code == 0, ""


@pytest.fixture(scope="module", params=[OLDEST_PIP, NEWEST_PIP], ids=lambda v: f"pip{v}")
def pip_python(request: pytest.FixtureRequest) -> Path:
    return ensure_pip(request.param)


@pytest.mark.parametrize("case", sorted(LOCKS))
def test_verdict_agrees_with_pip_on_pipenv_s_export_before_and_after_fix(
    case: str,
    pip_python: Path,
    index: FakeIndex,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / case
    write_project(folder, index, LOCKS[case])
    pip_ok, pip_output = pip_passes(pip_python, pipenv_export(folder))
    ours_ok, _ = ours_passes(folder)
    report = capsys.readouterr()
    assert ours_ok == pip_ok, (pip_output, report.out)

    ours_passes(folder, "--fix")
    capsys.readouterr()
    pip_ok, pip_output = pip_passes(pip_python, pipenv_export(folder))
    ours_ok, _ = ours_passes(folder)
    report = capsys.readouterr()
    assert pip_ok, pip_output  # every case here is fixable
    assert ours_ok == pip_ok, (pip_output, report.out)
