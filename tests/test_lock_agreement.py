"""The real pip is the judge for lock files too.

Lock files are made by the real `pip lock` (pip 26.3, for this host) and the real
`uv pip compile --universal --format pylock.toml`, against a loopback index serving a
small multi-platform project (tests/lockproject.py). Each is checked untouched and with
one fault at a time (a hash flipped, a version bumped without new hashes, a wheel's entry
removed, another platform's hash, a dependency's entry removed), and
`pip download -r pylock.toml` (pip 26.3) runs on several targets:

* natively, on this interpreter and on other Pythons found under pyenv (pip refuses
  --platform/--python-version next to a lock, so a target's Python must run pip itself);
* for other platforms, pip's own code with its lock selection pointed at the target
  (tests/pip_lock_target.py: downloads, hash checks and messages are pip's).

reqhash-check, given the same target, must report an error exactly when pip fails.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.tags import parse_tag

from reqhash_check.findings import Severity
from reqhash_check.runner import Settings, run
from reqhash_check.targets import Target, parse_target_name
from tests.fakeindex import FakeIndex
from tests.lockproject import Published, mutate, publish
from tests.test_pip_agreement import PIPS_HOME, _ensure_pip, _isolated_env, _pip_version_of

pytestmark = pytest.mark.slow

PIP = "26.3"
WRAPPER = Path(__file__).with_name("pip_lock_target.py")
SIMULATED = (
    "linux-x86_64-glibc2.28-cp312",
    "macos-arm64-11-cp312",
    "windows-amd64-cp312",
    "linux-x86_64-glibc2.28-cp313",
)
MUTATIONS = {
    "uv": (
        "untouched",
        "flip-linux312",
        "other-platform-hash",
        "bump-alpha",
        "drop-alpha-mac-wheel",
        "drop-gamma-mac-wheel",
        "drop-beta",
    ),
    "pip": (
        "untouched",
        "flip-linux311",
        "other-platform-hash",
        "bump-alpha",
        "drop-linux311-wheel",
        "drop-beta",
    ),
}
REQUIREMENTS_IN = "alpha==1.0\ngamma==1.0\n"


@dataclass(frozen=True)
class Judge:
    """How to run pip for one target, and the same target for reqhash-check."""

    name: str
    python: Path
    target: Target
    simulated: bool


@pytest.fixture(scope="module")
def project() -> Iterator[Published]:
    index = FakeIndex().start()
    try:
        yield publish(index)
    finally:
        index.close()


def _ensure_pip_on(python: str, version: str) -> Path | None:
    """A venv of another interpreter with exactly this pip; None when it cannot be made."""
    label = Path(python).name
    home = PIPS_HOME / f"pip-{version}-{label}"
    venv_python = home / "bin" / "python"
    if _pip_version_of(venv_python) == version:
        return venv_python
    shutil.rmtree(home, ignore_errors=True)
    try:
        subprocess.run(
            [python, "-m", "venv", str(home)], check=True, capture_output=True, timeout=300
        )
        subprocess.run(
            [
                str(venv_python),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                f"pip=={version}",
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (OSError, subprocess.SubprocessError):
        shutil.rmtree(home, ignore_errors=True)
        return None
    return venv_python if _pip_version_of(venv_python) == version else None


def _native_target(python: Path) -> Target:
    """The target an interpreter is, as its own pip's packaging computes it."""
    script = (
        "import json, sys\n"
        "from pip._vendor.packaging import tags, markers\n"
        "print(json.dumps({'tags': [str(t) for t in tags.sys_tags()],"
        " 'environment': markers.default_environment(),"
        " 'version': list(sys.version_info[:3])}))\n"
    )
    out = subprocess.run(
        [str(python), "-c", script],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        env=_isolated_env(),
    ).stdout
    data = json.loads(out)
    tags = tuple(t for text in data["tags"] for t in parse_tag(text))
    name = f"native-py{data['version'][0]}{data['version'][1]}"
    return Target(name, tuple(data["version"]), tags, dict(data["environment"]))


@pytest.fixture(scope="module")
def judges() -> list[Judge]:
    python = _ensure_pip(PIP)
    found = [Judge("native-this", python, _native_target(python), False)]
    this = f"{sys.version_info[0]}.{sys.version_info[1]}"
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    for version in ("3.12", "3.13"):
        if version == this:
            continue
        candidates = sorted(glob.glob(f"{pyenv_root}/versions/{version}*/bin/python{version}"))
        if not candidates:
            continue
        other = _ensure_pip_on(candidates[-1], PIP)
        if other is not None:
            found.append(Judge(f"native-py{version}", other, _native_target(other), False))
    found += [Judge(name, python, parse_target_name(name), True) for name in SIMULATED]
    return found


def _uv() -> str | None:
    beside = Path(sys.executable).with_name("uv")
    return str(beside) if beside.exists() else shutil.which("uv")


@pytest.fixture(scope="module")
def locks(project: Published, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The lock files the real tools write for the project."""
    work = tmp_path_factory.mktemp("locks")
    (work / "requirements.in").write_text(REQUIREMENTS_IN)
    made: dict[str, str] = {}
    python = _ensure_pip(PIP)
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "lock",
            "--isolated",
            "--no-cache-dir",
            "--no-input",
            "--disable-pip-version-check",
            "--index-url",
            project.index.simple_url,
            "-r",
            "requirements.in",
            "-o",
            "pylock.pip.toml",
        ],
        cwd=work,
        check=True,
        capture_output=True,
        timeout=300,
        env=_isolated_env(),
    )
    made["pip"] = (work / "pylock.pip.toml").read_text()
    uv = _uv()
    if uv is not None:
        env = {k: v for k, v in _isolated_env().items() if not k.startswith("UV_")}
        env["UV_CACHE_DIR"] = str(work / "uv-cache")
        subprocess.run(
            [
                uv,
                "pip",
                "compile",
                "--no-config",
                "--quiet",
                "--universal",
                "--format",
                "pylock.toml",
                "--index-url",
                project.index.simple_url,
                "requirements.in",
                "-o",
                "pylock.uv.toml",
            ],
            cwd=work,
            check=True,
            capture_output=True,
            timeout=300,
            env=env,
        )
        made["uv"] = (work / "pylock.uv.toml").read_text()
    return made


def run_pip(judge: Judge, index: FakeIndex, lock_text: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="lock-agree-") as work:
        Path(work, "pylock.toml").write_text(lock_text)
        pip_args = [
            "download",
            "--isolated",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--no-input",
            "--index-url",
            index.simple_url,
            "-d",
            "dest",
            "-r",
            "pylock.toml",
        ]
        if judge.simulated:
            spec = {
                "tags": [str(t) for t in judge.target.tags],
                "environment": judge.target.marker_environment,
                "python_version": list(judge.target.python_version),
            }
            Path(work, "target.json").write_text(json.dumps(spec))
            command = [str(judge.python), str(WRAPPER), "target.json", *pip_args]
        else:
            command = [str(judge.python), "-m", "pip", *pip_args]
        return subprocess.run(
            command, cwd=work, capture_output=True, text=True, timeout=300, env=_isolated_env()
        )


def tool_errors(judge: Judge, index: FakeIndex, lock_text: str, tmp: Path) -> list[str]:
    path = tmp / "pylock.toml"
    path.write_text(lock_text)
    result = run(
        Settings(
            files=(str(path),),
            targets=(judge.target,),
            index_url=index.simple_url,
            use_cache=False,
            environ={},
        )
    )
    return [
        f"{f.rule}:{f.location.line}"
        for f in result.report.findings
        if f.severity is Severity.ERROR
    ]


def test_reqhash_check_errs_exactly_when_pip_fails_on_a_lock(
    project: Published,
    judges: list[Judge],
    locks: dict[str, str],
    tmp_path: Path,
) -> None:
    cases = [
        (tool, mutation, judge)
        for tool, text in locks.items()
        for mutation in MUTATIONS[tool]
        for judge in judges
    ]
    texts = {
        (tool, mutation): mutate(locks[tool], mutation, project)
        for tool in locks
        for mutation in MUTATIONS[tool]
    }

    def one(case: tuple[str, str, Judge]) -> tuple[bool, str]:
        tool, mutation, judge = case
        completed = run_pip(judge, project.index, texts[(tool, mutation)])
        return completed.returncode == 0, completed.stdout + completed.stderr

    with ThreadPoolExecutor(max_workers=3) as pool:
        pip_results = list(pool.map(one, cases))
    disagreements = []
    table = []
    for number, ((tool, mutation, judge), (pip_ok, output)) in enumerate(
        zip(cases, pip_results, strict=True)
    ):
        case_dir = tmp_path / str(number)
        case_dir.mkdir()
        errors = tool_errors(judge, project.index, texts[(tool, mutation)], case_dir)
        table.append(
            f"{tool:3} {mutation:22} {judge.name:30} pip={'ok' if pip_ok else 'FAIL'}"
            f" tool={','.join(errors) or 'clean'}"
        )
        if pip_ok == bool(errors):
            last = [line for line in output.splitlines() if "ERROR" in line][-2:]
            disagreements.append(f"{table[-1]}\n    pip: {' | '.join(last)[:400]}")
    print("\n".join(table))
    assert not disagreements, "\n".join(disagreements)
    assert len(cases) >= 40
    # Every mutation fails pip somewhere, and the untouched locks nowhere.
    for tool in locks:
        for mutation in MUTATIONS[tool]:
            outcomes = [
                ok
                for (t, m, _), (ok, _) in zip(cases, pip_results, strict=True)
                if (t, m) == (tool, mutation)
            ]
            if mutation == "untouched":
                assert all(outcomes[:1]), (tool, mutation)
            elif mutation not in ("drop-alpha-mac-wheel",):
                assert not all(outcomes), (tool, mutation)
