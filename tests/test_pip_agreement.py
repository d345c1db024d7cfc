"""The real pip is the judge: the command line must predict what `pip download` does.

Every case publishes a release on a loopback index, writes a requirements file with some
of its hashes, and runs the real `pip download --no-deps --require-hashes` for several
targets with the oldest and the newest pip the product models. Then `reqhash-check` runs
through `main([...])` with the same target and format-control flags, in the same order,
plus `--pip-version`: it must report an error exactly when pip fails, name the file pip
took when that is not the best one, and name the file pip rejects when it fails on its
hash. `pick_file`, the piece that predicts it, is held to pip's choice of file too.

The pips live in venvs cached under /tmp/reqhash-check-pips/ (installing them needs the
package registry, as CI has); the pips themselves only ever talk to 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.version import Version

from reqhash_check.cli import main
from reqhash_check.index.base import DistFile
from reqhash_check.targets import BinaryPolicy, pick_file, targets_from_pip_options
from tests.fakeindex import FakeFile, FakeIndex
from tests.pips import (
    NEWEST_PIP,
    OLDEST_PIP,
    PIPS_HOME,
    ensure_pip,
    isolated_env,
    pip_version_of,
)
from tests.wheelfactory import BuiltFile, build_sdist, build_wheel

# The names other test modules import from here (the helpers now live in tests/pips.py).
_ensure_pip, _isolated_env, _pip_version_of = ensure_pip, isolated_env, pip_version_of
__all__ = [
    "NEWEST_PIP",
    "OLDEST_PIP",
    "PIPS_HOME",
    "_ensure_pip",
    "_isolated_env",
    "_pip_version_of",
]

pytestmark = pytest.mark.slow

# ----------------------------------------------------------------------------- the pips


@pytest.fixture(scope="session", params=[OLDEST_PIP, NEWEST_PIP], ids=lambda v: f"pip{v}")
def pinned_pip(request: pytest.FixtureRequest) -> tuple[str, Path]:
    version: str = request.param
    return version, ensure_pip(version)


# ----------------------------------------------------------------------------- the index


@pytest.fixture(scope="session")
def index() -> Iterator[FakeIndex]:
    served = FakeIndex().start()
    try:
        yield served
    finally:
        served.close()


# ----------------------------------------------------------------------------- the cases

TARGETS = {
    "cp38-manylinux2014": ("3.8", "manylinux2014_x86_64"),
    "cp312-manylinux_2_28": ("3.12", "manylinux_2_28_x86_64"),
    "cp312-macos-arm64": ("3.12", "macosx_11_0_arm64"),
    "cp312-win": ("3.12", "win_amd64"),
}
ALL_TARGETS = tuple(TARGETS)
# Several --platform values in one pip call: one install that accepts all of them.
TARGETS["cp312-manylinux_2_28+2014"] = ("3.12", "manylinux_2_28_x86_64,manylinux2014_x86_64")
# Below 3.8 CPython's ABI tag is cp37m.
TARGETS["cp37-manylinux2014"] = ("3.7", "manylinux2014_x86_64")
TARGETS["cp36-manylinux2014"] = ("3.6", "manylinux2014_x86_64")

# The files of a typical release with binary wheels, by short name.
STANDARD = {
    "lin38": "cp38-cp38-manylinux_2_17_x86_64.manylinux2014_x86_64",
    "lin312": "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64",
    "lin228": "cp312-cp312-manylinux_2_28_x86_64",
    "mac": "cp312-cp312-macosx_11_0_arm64",
    "win": "cp312-cp312-win_amd64",
    "any": "py3-none-any",
    "sdist": "sdist",
}
FOREIGN = "sha256:" + "0f" * 32


@dataclass(frozen=True)
class Spec:
    """One file of a case: wheel tags or "sdist", and what the index says about it."""

    tags: str
    version: str = "1.0"
    requires_python: str | None = None
    yanked: bool | str = False
    build: str | None = None


@dataclass(frozen=True)
class Case:
    id: str
    files: dict[str, Spec]
    hashed: tuple[str, ...]
    """Short names of files whose sha256 is listed, FOREIGN, or "sha512:<name>"."""
    specifier: str = "==1.0"
    options: tuple[str, ...] = ()
    """Command-line options given to pip and to the tool alike; {project} is the project."""
    targets: tuple[str, ...] = ALL_TARGETS
    notes: str = ""
    file_lines: tuple[str, ...] = ()
    """Option lines written above the requirement, e.g. "--only-binary :all:"."""


def standard(**overrides: Spec) -> dict[str, Spec]:
    files = {name: Spec(tags) for name, tags in STANDARD.items()}
    files.update(overrides)
    return files


CASES = [
    Case(
        "only-manylinux2014-wheel-with-two-platforms",
        {"lin312": Spec(STANDARD["lin312"]), "mac": Spec(STANDARD["mac"])},
        ("lin312", "mac"),
        options=("--only-binary=:all:",),
        targets=("cp312-manylinux_2_28", "cp312-manylinux_2_28+2014"),
    ),
    Case("all-hashed", standard(), tuple(STANDARD)),
    Case("only-any-wheel-hashed", standard(), ("any",)),
    Case("only-sdist-hashed", standard(), ("sdist",)),
    Case(
        "only-sdist-hashed-only-binary",
        standard(),
        ("sdist",),
        options=("--only-binary=:all:",),
    ),
    Case("only-incompatible-wheel-hashed", standard(), ("win",)),
    Case("manylinux2014-and-any-hashed", standard(), ("lin38", "lin312", "any")),
    Case("no-hash-matches", standard(), (FOREIGN,)),
    Case(
        "no-hash-matches-under-a-marker-no-target-meets",
        standard(),
        (FOREIGN,),
        specifier='==1.0 ; python_version < "3"',
        notes="pip ignores the line before it looks at the index or the hashes",
    ),
    Case("some-hashed-and-a-foreign-one", standard(), ("lin312", "mac", FOREIGN)),
    Case(
        "binary-wheels-only-no-sdist",
        {k: v for k, v in standard().items() if k not in ("any", "sdist")},
        ("lin312", "lin228"),
    ),
    Case(
        "requires-python-excludes-the-hashed-wheel",
        {"any": Spec("py3-none-any", requires_python=">=3.9"), "sdist": Spec("sdist")},
        ("any",),
        targets=("cp38-manylinux2014", "cp312-win"),
    ),
    Case(
        "requires-python-checked-against-x-y-0",
        {"any": Spec("py3-none-any", requires_python=">=3.12.1"), "sdist": Spec("sdist")},
        ("any", "sdist"),
        targets=("cp312-win",),
    ),
    Case(
        "yanked-hashed-wheel-pinned",
        {"any": Spec("py3-none-any", yanked="broken"), "sdist": Spec("sdist")},
        ("any",),
        targets=("cp312-win",),
    ),
    Case(
        "yanked-best-wheel-all-hashed",
        {"any": Spec("py3-none-any", yanked=True), "sdist": Spec("sdist")},
        ("any", "sdist"),
        targets=("cp312-win",),
    ),
    Case(
        "every-file-yanked-pinned",
        {"any": Spec("py3-none-any", yanked="gone"), "sdist": Spec("sdist", yanked="gone")},
        ("any", "sdist"),
        targets=("cp312-win",),
    ),
    Case(
        "every-file-yanked-not-pinned",
        {"any": Spec("py3-none-any", yanked="gone"), "sdist": Spec("sdist", yanked="gone")},
        ("any", "sdist"),
        specifier=">=1.0",
        targets=("cp312-win",),
    ),
    Case(
        "build-tags",
        {
            "b1": Spec("py3-none-any", build="1"),
            "b2": Spec("py3-none-any", build="2"),
            "plain": Spec("py3-none-any"),
        },
        ("b1", "b2", "plain"),
        targets=("cp312-win",),
    ),
    Case(
        "only-sha512-listed",
        standard(),
        ("sha512:any",),
        targets=("cp312-manylinux_2_28", "cp312-win"),
        notes="pip cannot compare before downloading; it then checks sha512 of the file",
    ),
    Case(
        "unpinned-hash-of-older-version",
        {
            "old": Spec("py3-none-any", version="1.0"),
            "new": Spec("py3-none-any", version="2.0"),
        },
        ("old",),
        specifier=">=1.0",
        targets=("cp312-win",),
    ),
    Case(
        "prefer-binary-unpinned",
        {
            "wheel": Spec("py3-none-any", version="1.0"),
            "sdist": Spec("sdist", version="2.0"),
        },
        ("wheel", "sdist"),
        specifier=">=1.0",
        options=("--prefer-binary",),
        targets=("cp312-win",),
    ),
    Case(
        "no-binary-pinned",
        standard(),
        tuple(STANDARD),
        options=("--no-binary=:all:",),
        targets=("cp312-manylinux_2_28",),
    ),
    # Format control in the order pip applies it: command line first, then file lines.
    Case(
        "only-binary-all-then-no-binary-this-one",
        {"sdist": Spec("sdist")},
        ("sdist",),
        options=("--only-binary=:all:", "--no-binary={project}"),
        targets=("cp312-win",),
    ),
    Case(
        "no-binary-this-one-then-only-binary-all",
        {"sdist": Spec("sdist")},
        ("sdist",),
        options=("--no-binary={project}", "--only-binary=:all:"),
        targets=("cp312-win",),
    ),
    Case(
        "file-line-only-binary-all-sdist-only",
        {"sdist": Spec("sdist")},
        ("sdist",),
        file_lines=("--only-binary :all:",),
        targets=("cp312-win",),
    ),
    Case(
        "command-line-only-binary-then-file-no-binary",
        standard(),
        tuple(STANDARD),
        options=("--only-binary=:all:",),
        file_lines=("--no-binary {project}",),
        targets=("cp312-manylinux_2_28",),
    ),
    Case(
        "cp37m-wheel-hashed",
        {
            "cp37": Spec("cp37-cp37m-manylinux_2_17_x86_64.manylinux2014_x86_64"),
            "sdist": Spec("sdist"),
        },
        ("cp37",),
        targets=("cp37-manylinux2014",),
    ),
    Case(
        "cp36m-wheel-not-hashed",
        {
            "cp36": Spec("cp36-cp36m-manylinux_2_17_x86_64.manylinux2014_x86_64"),
            "sdist": Spec("sdist"),
        },
        ("sdist",),
        targets=("cp36-manylinux2014",),
    ),
]


@dataclass
class Published:
    project: str
    files: list[DistFile]
    built: dict[str, BuiltFile]


_published: dict[str, Published] = {}


def publish(index: FakeIndex, case: Case) -> Published:
    if case.id in _published:
        return _published[case.id]
    project = f"agree-{case.id}"
    built: dict[str, BuiltFile] = {}
    for name, spec in case.files.items():
        if spec.tags == "sdist":
            built[name] = build_sdist(project, spec.version, requires_python=spec.requires_python)
        else:
            built[name] = build_wheel(
                project,
                spec.version,
                spec.tags,
                requires_python=spec.requires_python,
                build=spec.build,
            )
        index.add(
            project,
            spec.version,
            FakeFile(
                built[name].filename,
                content=built[name].content,
                requires_python=spec.requires_python,
                yanked=spec.yanked,
                metadata=built[name].metadata,
            ),
        )
    # The index lists files by version, then in the order they were added: keep that order.
    order = sorted(case.files, key=lambda n: Version(case.files[n].version))
    files = [
        DistFile(
            filename=built[n].filename,
            version=case.files[n].version,
            url=f"{index.url}/files/{built[n].filename}",
            hashes={"sha256": built[n].sha256},
            requires_python=case.files[n].requires_python,
            yanked=bool(case.files[n].yanked),
            yanked_reason=case.files[n].yanked if isinstance(case.files[n].yanked, str) else None,
        )
        for n in order
    ]
    _published[case.id] = Published(project, files, built)
    return _published[case.id]


def listed_hashes(case: Case, published: Published) -> list[str]:
    hashes = []
    for item in case.hashed:
        if item.startswith("sha256:"):
            hashes.append(item)
        elif item.startswith("sha512:"):
            content = published.built[item.removeprefix("sha512:")].content
            hashes.append("sha512:" + hashlib.sha512(content).hexdigest())
        else:
            hashes.append("sha256:" + published.built[item].sha256)
    return hashes


def policy_of(
    options: tuple[str, ...], file_lines: tuple[str, ...] = (), project: str = ""
) -> BinaryPolicy:
    ordered = []
    for option in (*options, *(line.replace(" ", "=", 1) for line in file_lines)):
        option = option.replace("{project}", project)
        if option.startswith("--only-binary="):
            ordered.append(("only_binary", option.partition("=")[2]))
        elif option.startswith("--no-binary="):
            ordered.append(("no_binary", option.partition("=")[2]))
    return BinaryPolicy.from_ordered(ordered, prefer_binary="--prefer-binary" in options)


@dataclass
class PipRun:
    ok: bool
    picked: str | None
    output: str


_FILE_URL = re.compile(r"/files/([^\s#:'\"]+)")


def requirements_text(case: Case, project: str, hashes: list[str]) -> str:
    lines = [line.replace("{project}", project) for line in case.file_lines]
    lines.append(f"{project}{case.specifier} " + " ".join(f"--hash={h}" for h in hashes))
    return "\n".join(lines) + "\n"


def options_of(case: Case, project: str) -> list[str]:
    return [option.replace("{project}", project) for option in case.options]


def target_flags(target: str) -> list[str]:
    python_version, platform = TARGETS[target]
    return [
        "--python-version",
        python_version,
        *(arg for tag in platform.split(",") for arg in ("--platform", tag)),
        "--implementation",
        "cp",
    ]


def run_pip(
    python: Path, index: FakeIndex, case: Case, project: str, hashes: list[str], target: str
) -> PipRun:
    with tempfile.TemporaryDirectory(prefix="agree-") as work:
        requirements = Path(work, "requirements.txt")
        requirements.write_text(requirements_text(case, project, hashes))
        dest = Path(work, "dest")
        command = [
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
            "--index-url",
            index.simple_url,
            "-d",
            str(dest),
            *target_flags(target),
            *options_of(case, project),
            "-r",
            str(requirements),
        ]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=180, env=isolated_env(), cwd=work
        )
        downloaded = sorted(p.name for p in dest.iterdir()) if dest.exists() else []
    output = result.stdout + result.stderr
    if result.returncode == 0 and not downloaded:
        assert "Ignoring" in output, output  # the line's marker holds on no target
        return PipRun(True, None, output)
    if result.returncode == 0:
        assert len(downloaded) == 1, output
        return PipRun(True, downloaded[0], output)
    mentioned = _FILE_URL.findall(result.stderr)
    return PipRun(False, mentioned[-1] if mentioned else None, output)


JOBS = [(case, target) for case in CASES for target in case.targets]


@pytest.fixture(scope="session")
def pip_runs(pinned_pip: tuple[str, Path], index: FakeIndex) -> dict[tuple[str, str], PipRun]:
    """Every (case, target) run of one pip, several at once: pip mostly waits on itself."""
    _, python = pinned_pip

    def run(job: tuple[Case, str]) -> PipRun:
        case, target = job
        published = publish(index, case)
        hashes = listed_hashes(case, published)
        return run_pip(python, index, case, published.project, hashes, target)

    for case in CASES:
        publish(index, case)
    with ThreadPoolExecutor(max_workers=2 * (os.cpu_count() or 1)) as pool:
        results = list(pool.map(run, JOBS))
    return {(case.id, target): result for (case, target), result in zip(JOBS, results, strict=True)}


@pytest.mark.parametrize(("case", "target_name"), JOBS, ids=[f"{c.id}-{t}" for c, t in JOBS])
def test_pick_file_agrees_with_pip(
    case: Case,
    target_name: str,
    pinned_pip: tuple[str, Path],
    index: FakeIndex,
    pip_runs: dict[tuple[str, str], PipRun],
) -> None:
    pip_version, _ = pinned_pip
    published = publish(index, case)
    hashes = listed_hashes(case, published)
    pinned = case.specifier.startswith(("==", "===")) and "*" not in case.specifier
    python_version, platform = TARGETS[target_name]
    [target] = targets_from_pip_options([python_version], platform.split(","), "cp", [])
    pick = pick_file(
        target,
        published.files,
        hashes,
        published.project,
        policy_of(tuple(options_of(case, published.project)), case.file_lines, published.project),
        pinned=pinned,
    )
    run = pip_runs[(case.id, target_name)]
    if run.ok and run.picked is None:
        assert ";" in case.specifier, run.output  # pip ignored the line: nothing to pick
        return
    chosen = pick.chosen
    if chosen is None:
        assert not run.ok, run.output
        assert "No matching distribution" in run.output
        return
    if not pinned and Version(pip_version) < Version("26.1"):
        # Once a file is found, older pips refuse any hashed requirement not pinned with ==.
        assert not run.ok, run.output
        assert "pinned with ==" in run.output
        return
    expected_ok = pick.ok
    if pick.unknown_hash:
        # The index gave no digest pip could compare, so pip downloads the file and checks.
        content = next(b.content for b in published.built.values() if b.filename == chosen.filename)
        expected_ok = any(
            hashlib.new(h.partition(":")[0], content).hexdigest() == h.partition(":")[2]
            for h in hashes
        )
    assert (run.ok, run.picked) == (expected_ok, chosen.filename), run.output
    if not run.ok:
        assert "THESE PACKAGES DO NOT MATCH THE HASHES" in run.output


def test_the_pips_are_the_pinned_versions(pinned_pip: tuple[str, Path]) -> None:
    version, python = pinned_pip
    assert pip_version_of(python) == version


@pytest.mark.parametrize(("case", "target_name"), JOBS, ids=[f"{c.id}-{t}" for c, t in JOBS])
def test_the_command_line_agrees_with_pip(
    case: Case,
    target_name: str,
    pinned_pip: tuple[str, Path],
    index: FakeIndex,
    pip_runs: dict[tuple[str, str], PipRun],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The judge of the product: `reqhash-check` as a user calls it, with pip's flags."""
    pip_version, _ = pinned_pip
    published = publish(index, case)
    hashes = listed_hashes(case, published)
    path = tmp_path / "requirements.txt"
    path.write_text(requirements_text(case, published.project, hashes))
    monkeypatch.chdir(tmp_path)
    argv = [
        "--require-hashes",
        "--index-url",
        index.simple_url,
        *target_flags(target_name),
        *options_of(case, published.project),
        "--pip-version",
        pip_version,
        "--no-cache",
        "--format",
        "json",
        str(path),
    ]
    code = main(argv)
    document = json.loads(capsys.readouterr().out)
    findings = document["findings"]
    errors = [f for f in findings if f["severity"] == "error"]
    run = pip_runs[(case.id, target_name)]
    assert code in (0, 1, 3), document
    if document["unverified"] and not errors:
        # The tool says it cannot tell (sha512 hashes only): never an OK, never a guess.
        assert code == 3
        return
    assert (not errors) == run.ok, (errors, run.output)
    if run.ok:
        fallbacks = [f for f in findings if f["rule"] == "fallback-target"]
        if fallbacks:
            # The tool says pip takes a lesser file: it must be the one pip took.
            assert f"installs {run.picked} instead" in fallbacks[0]["message"], run.output
    elif run.picked and "THESE PACKAGES DO NOT MATCH THE HASHES" in run.output:
        mismatch = [f for f in errors if f["rule"] in ("uncovered-target", "stale-hash")]
        assert mismatch, (errors, run.output)
        if mismatch[0]["rule"] == "uncovered-target":
            assert run.picked in mismatch[0]["message"], run.output
