"""The real pip judges constraint files and pins that clash, dependencies and all.

Each layout publishes tiny wheels (and sdists) on a loopback index, with the dependencies
of the real projects declared in their METADATA (cffi 1.15.1 needs pycparser, Faker 2.0.3
needs text-unidecode==1.3), writes a requirements file and, when the layout has one, the
constraints file it names. Then the real `pip download` (dependencies resolved, as an
install does) runs with the oldest and the newest pip the product models, isolated from the
machine's pip configuration, and `reqhash-check` runs through `main([...])` with the same
flags plus `--pip-version`. Per layout and pip: the tool reports an error exactly when pip
fails, the findings it reports are the ones expected at the lines expected, and pip's own
output names the cause those findings state.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from reqhash_check.cli import main
from tests.fakeindex import FakeFile, FakeIndex
from tests.pips import NEWEST_PIP, OLDEST_PIP, ensure_pip, isolated_env
from tests.wheelfactory import BuiltFile, build_sdist, build_wheel

pytestmark = pytest.mark.slow

CP37_LINUX = "cp37-cp37m-manylinux_2_17_x86_64.manylinux2014_x86_64"
UNIVERSAL = "py2.py3-none-any"
FOREIGN = "sha256:" + "0f" * 32
FOREIGN_2 = "sha256:" + "1e" * 32
# cp37 manylinux2014, binary only: what the reports were made with.
FLAGS = (
    "--only-binary=:all:",
    "--python-version",
    "3.7",
    "--platform",
    "manylinux2014_x86_64",
    "--implementation",
    "cp",
)


@dataclass(frozen=True)
class Dist:
    project: str
    version: str
    tags: str = UNIVERSAL
    """Wheel tags, or "sdist"."""
    requires: tuple[str, ...] = ()
    key: str = ""
    """How layouts name this file's hash (default `project-version`)."""


PUBLISHED = (
    Dist("cffi", "1.15.1", CP37_LINUX, ("pycparser",)),
    Dist("pycparser", "2.21"),
    Dist("pycparser", "2.21", "sdist", key="pycparser-2.21-sdist"),
    Dist("pycparser", "2.19", "sdist"),  # no wheel: nothing to install with --only-binary
    Dist("Faker", "2.0.3", requires=("text-unidecode==1.3",)),
    Dist("text-unidecode", "1.2"),
    Dist("text-unidecode", "1.3"),
)


@dataclass(frozen=True)
class Layout:
    id: str
    requirements: tuple[str, ...]
    """Lines of r.txt; `{project-version}` stands for that file's --hash option."""
    constraints: tuple[str, ...] = ()
    """Lines of c.txt (r.txt then starts with `-c c.txt`)."""
    constraints_2: tuple[str, ...] = ()
    """Lines of c2.txt (r.txt's second line is then `-c c2.txt`)."""
    expected: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """pip version → the findings reqhash-check reports, as `FILE:LINE RULE`."""
    pip_says: dict[str, str] = field(default_factory=dict)
    """pip version → a phrase of pip's failure (absent: pip succeeds)."""


PINNED_WITH_EQ = "all requirements must have their versions pinned with =="
RESOLUTION_IMPOSSIBLE = "ResolutionImpossible"
MISMATCH = "THESE PACKAGES DO NOT MATCH THE HASHES"

LAYOUTS = [
    Layout(
        "hashed-constraint-pins-the-dependency",
        ("cffi==1.15.1 {cffi-1.15.1}",),
        ("pycparser==2.21 {pycparser-2.21}",),
        expected={OLDEST_PIP: ("r.txt:2 missing-dependency",), NEWEST_PIP: ()},
        pip_says={OLDEST_PIP: PINNED_WITH_EQ},
    ),
    Layout(
        "unhashed-constraint-does-not",
        ("cffi==1.15.1 {cffi-1.15.1}",),
        ("pycparser==2.21",),
        expected={
            OLDEST_PIP: ("r.txt:2 missing-dependency",),
            NEWEST_PIP: ("r.txt:2 missing-dependency",),
        },
        pip_says={OLDEST_PIP: PINNED_WITH_EQ, NEWEST_PIP: PINNED_WITH_EQ},
    ),
    Layout(
        "constraint-without-a-file-for-the-target",
        ("cffi==1.15.1 {cffi-1.15.1}",),
        ("pycparser==2.19 {pycparser-2.19}",),
        expected={
            OLDEST_PIP: ("c.txt:1 no-installable-file",),
            NEWEST_PIP: ("c.txt:1 no-installable-file",),
        },
        pip_says={OLDEST_PIP: RESOLUTION_IMPOSSIBLE, NEWEST_PIP: RESOLUTION_IMPOSSIBLE},
    ),
    Layout(
        "constraint-with-a-stale-hash",
        ("cffi==1.15.1 {cffi-1.15.1}",),
        (f"pycparser==2.21 --hash={FOREIGN}",),
        expected={
            OLDEST_PIP: ("c.txt:1 stale-hash", "r.txt:2 missing-dependency"),
            NEWEST_PIP: ("c.txt:1 stale-hash",),
        },
        pip_says={OLDEST_PIP: PINNED_WITH_EQ, NEWEST_PIP: MISMATCH},
    ),
    Layout(
        "two-constraints-leave-no-version",
        ("cffi==1.15.1 {cffi-1.15.1}",),
        ("pycparser==2.21 {pycparser-2.21}", "pycparser<2.21"),
        expected={
            OLDEST_PIP: ("c.txt:1 conflicting-pin",),
            NEWEST_PIP: ("c.txt:1 conflicting-pin",),
        },
        pip_says={OLDEST_PIP: RESOLUTION_IMPOSSIBLE, NEWEST_PIP: RESOLUTION_IMPOSSIBLE},
    ),
    Layout(
        "unused-constraint-is-not-checked",
        ("text-unidecode==1.3 {text-unidecode-1.3}",),
        ("pycparser==2.19 {pycparser-2.19}",),
        expected={OLDEST_PIP: (), NEWEST_PIP: ()},
    ),
    Layout(
        "requirement-pin-conflicts-with-a-dependency",
        ("Faker==2.0.3 {Faker-2.0.3}", "text-unidecode==1.2 {text-unidecode-1.2}"),
        expected={
            OLDEST_PIP: ("r.txt:2 conflicting-pin",),
            NEWEST_PIP: ("r.txt:2 conflicting-pin",),
        },
        pip_says={OLDEST_PIP: RESOLUTION_IMPOSSIBLE, NEWEST_PIP: RESOLUTION_IMPOSSIBLE},
    ),
    Layout(
        "requirement-pin-satisfies-the-dependency",
        ("Faker==2.0.3 {Faker-2.0.3}", "text-unidecode==1.3 {text-unidecode-1.3}"),
        expected={OLDEST_PIP: (), NEWEST_PIP: ()},
    ),
    Layout(
        "constraint-pin-conflicts-with-a-dependency",
        ("Faker==2.0.3 {Faker-2.0.3}",),
        ("text-unidecode==1.2 {text-unidecode-1.2}",),
        expected={
            OLDEST_PIP: ("c.txt:1 conflicting-pin",),
            NEWEST_PIP: ("c.txt:1 conflicting-pin",),
        },
        pip_says={OLDEST_PIP: RESOLUTION_IMPOSSIBLE, NEWEST_PIP: RESOLUTION_IMPOSSIBLE},
    ),
    Layout(
        "exactly-pinned-dependency-missing",
        ("Faker==2.0.3 {Faker-2.0.3}",),
        expected={
            OLDEST_PIP: ("r.txt:1 missing-dependency",),
            NEWEST_PIP: ("r.txt:1 missing-dependency",),
        },
        pip_says={OLDEST_PIP: "Hashes are required", NEWEST_PIP: "Hashes are required"},
    ),
    # Several hash sets for one project. pip 26.1 and later give a dependency the hashes
    # every hashed constraint on it lists (pip's Constraint.__and__ intersects them): none
    # left and pip has no pin to take; only a file the target cannot use left and pip
    # downloads the wheel and refuses its hash. A requirement's own hashes are not
    # intersected with a constraint's: pip checks the file against the requirement's.
    Layout(
        "two-constraint-files-whose-hashes-share-the-file",
        ("cffi==1.15.1 {cffi-1.15.1}",),
        (f"pycparser==2.21 {{pycparser-2.21}} --hash={FOREIGN}",),
        constraints_2=(f"pycparser==2.21 {{pycparser-2.21}} --hash={FOREIGN_2}",),
        expected={
            OLDEST_PIP: (
                "c.txt:1 foreign-hash",
                "c2.txt:1 foreign-hash",
                "r.txt:3 missing-dependency",
            ),
            NEWEST_PIP: ("c.txt:1 foreign-hash", "c2.txt:1 foreign-hash"),
        },
        pip_says={OLDEST_PIP: PINNED_WITH_EQ},
    ),
    Layout(
        "two-constraint-files-whose-hashes-share-no-file",
        ("cffi==1.15.1 {cffi-1.15.1}",),
        ("pycparser==2.21 {pycparser-2.21}",),
        constraints_2=(f"pycparser==2.21 --hash={FOREIGN}",),
        expected={
            OLDEST_PIP: ("c2.txt:1 stale-hash", "r.txt:3 missing-dependency"),
            NEWEST_PIP: ("c2.txt:1 stale-hash", "r.txt:3 missing-dependency"),
        },
        pip_says={OLDEST_PIP: PINNED_WITH_EQ, NEWEST_PIP: PINNED_WITH_EQ},
    ),
    Layout(
        "two-constraint-files-share-only-a-file-the-target-cannot-install",
        ("cffi==1.15.1 {cffi-1.15.1}",),
        ("pycparser==2.21 {pycparser-2.21} {pycparser-2.21-sdist}",),
        constraints_2=("pycparser==2.21 {pycparser-2.21-sdist}",),
        expected={
            OLDEST_PIP: ("c2.txt:1 uncovered-target", "r.txt:3 missing-dependency"),
            NEWEST_PIP: ("c2.txt:1 uncovered-target",),
        },
        pip_says={OLDEST_PIP: PINNED_WITH_EQ, NEWEST_PIP: MISMATCH},
    ),
    Layout(
        "requirement-and-constraint-hashes-share-no-file",
        ("pycparser==2.21 {pycparser-2.21}",),
        (f"pycparser==2.21 --hash={FOREIGN}",),
        expected={OLDEST_PIP: (), NEWEST_PIP: ()},
    ),
    Layout(
        "requirement-and-constraint-share-only-a-file-the-target-cannot-install",
        ("pycparser==2.21 {pycparser-2.21} {pycparser-2.21-sdist}",),
        ("pycparser==2.21 {pycparser-2.21-sdist}",),
        expected={OLDEST_PIP: (), NEWEST_PIP: ()},
    ),
]


# ----------------------------------------------------------------------------- the index


@pytest.fixture(scope="module")
def index() -> Iterator[tuple[FakeIndex, dict[str, BuiltFile]]]:
    served = FakeIndex().start()
    built: dict[str, BuiltFile] = {}
    for dist in PUBLISHED:
        if dist.tags == "sdist":
            made = build_sdist(dist.project, dist.version, requires_dist=dist.requires)
        else:
            made = build_wheel(dist.project, dist.version, dist.tags, requires_dist=dist.requires)
        built[dist.key or f"{dist.project}-{dist.version}"] = made
        served.add(
            dist.project,
            dist.version,
            FakeFile(made.filename, content=made.content, metadata=made.metadata),
            requires_dist=list(dist.requires),
        )
    try:
        yield served, built
    finally:
        served.close()


@pytest.fixture(scope="module", params=[OLDEST_PIP, NEWEST_PIP], ids=lambda v: f"pip{v}")
def pinned_pip(request: pytest.FixtureRequest) -> tuple[str, Path]:
    version: str = request.param
    return version, ensure_pip(version)


def write_layout(folder: Path, layout: Layout, built: dict[str, BuiltFile]) -> Path:
    def hashed(line: str) -> str:
        for key, made in built.items():
            line = line.replace("{" + key + "}", f"--hash=sha256:{made.sha256}")
        return line

    lines = [hashed(line) for line in layout.requirements]
    if layout.constraints_2:
        lines.insert(0, "-c c2.txt")
        (folder / "c2.txt").write_text("\n".join(map(hashed, layout.constraints_2)) + "\n")
    if layout.constraints:
        lines.insert(0, "-c c.txt")
        (folder / "c.txt").write_text("\n".join(map(hashed, layout.constraints)) + "\n")
    requirements = folder / "r.txt"
    requirements.write_text("\n".join(lines) + "\n")
    return requirements


@dataclass
class PipRun:
    ok: bool
    output: str


def run_pip(python: Path, index: FakeIndex, requirements: Path) -> PipRun:
    with tempfile.TemporaryDirectory(prefix="constraints-dest-") as dest:
        command = [
            str(python),
            "-m",
            "pip",
            "download",
            "--isolated",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--no-input",
            "--index-url",
            index.simple_url,
            "-d",
            dest,
            *FLAGS,
            "-r",
            str(requirements),
        ]
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=180,
            env=isolated_env(),
            cwd=requirements.parent,
        )
    return PipRun(result.returncode == 0, result.stdout + result.stderr)


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.id)
def test_the_command_line_agrees_with_pip_on_constraints_and_clashing_pins(
    layout: Layout,
    pinned_pip: tuple[str, Path],
    index: tuple[FakeIndex, dict[str, BuiltFile]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pip_version, python = pinned_pip
    served, built = index
    requirements = write_layout(tmp_path, layout, built)
    run = run_pip(python, served, requirements)
    monkeypatch.chdir(tmp_path)
    code = main(
        [
            "--index-url",
            served.simple_url,
            *FLAGS,
            "--pip-version",
            pip_version,
            "--no-cache",
            "--format",
            "json",
            "r.txt",
        ]
    )
    document = json.loads(capsys.readouterr().out)
    findings = document["findings"]
    errors = [f for f in findings if f["severity"] == "error"]
    found = tuple(sorted(f"{Path(f['path']).name}:{f['line']} {f['rule']}" for f in findings))
    assert (not errors) == run.ok, (found, run.output)
    assert code == (0 if run.ok else 1), document
    assert found == tuple(sorted(layout.expected[pip_version])), (
        [f["message"] for f in findings],
        run.output,
    )
    phrase = layout.pip_says.get(pip_version)
    if phrase is not None:
        assert phrase in run.output
        # The finding quotes the failure pip shows.
        shown = "pinned with ==" if phrase == PINNED_WITH_EQ else phrase
        assert any(shown in f["message"] for f in errors), [f["message"] for f in errors]


LOCKED_PIP = NEWEST_PIP
"""pip reads pylock.toml from 26.1 on (and refuses --platform next to it): the newest pip,
on this interpreter, judges locks."""


def lock_text(index: FakeIndex, built: dict[str, BuiltFile], keys: tuple[str, ...]) -> str:
    parts = ['lock-version = "1.0"', 'created-by = "reqhash-check tests"', ""]
    for key in keys:
        made = built[key]
        project, _, version = key.rpartition("-")
        parts += [
            "[[packages]]",
            f'name = "{project.lower()}"',
            f'version = "{version}"',
            f'index = "{index.simple_url}"',
            f'wheels = [{{ url = "{index.url}/files/{made.filename}", '
            f'hashes = {{ sha256 = "{made.sha256}" }} }}]',
            "",
        ]
    return "\n".join(parts)


@pytest.mark.parametrize(
    ("locked", "expected"),
    [
        (("Faker-2.0.3", "text-unidecode-1.2"), ("pylock.toml:10 conflicting-pin",)),
        (("Faker-2.0.3", "text-unidecode-1.3"), ()),
    ],
    ids=["conflicting", "agreeing"],
)
def test_a_lock_whose_packages_conflict_fails_with_pip_and_the_tool_says_where(
    locked: tuple[str, ...],
    expected: tuple[str, ...],
    index: tuple[FakeIndex, dict[str, BuiltFile]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served, built = index
    lock = tmp_path / "pylock.toml"
    lock.write_text(lock_text(served, built, locked))
    python = ensure_pip(LOCKED_PIP)
    with tempfile.TemporaryDirectory(prefix="constraints-dest-") as dest:
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
                "--index-url",
                served.simple_url,
                "-d",
                dest,
                "-r",
                str(lock),
            ],
            capture_output=True,
            text=True,
            timeout=180,
            env=isolated_env(),
            cwd=tmp_path,
        )
    output = result.stdout + result.stderr
    monkeypatch.chdir(tmp_path)
    code = main(
        [
            "--index-url",
            served.simple_url,
            "--pip-version",
            LOCKED_PIP,
            "--no-cache",
            "--format",
            "json",
            "pylock.toml",
        ]
    )
    findings = json.loads(capsys.readouterr().out)["findings"]
    found = tuple(sorted(f"{Path(f['path']).name}:{f['line']} {f['rule']}" for f in findings))
    assert found == expected, ([f["message"] for f in findings], output)
    assert code == (0 if result.returncode == 0 else 1), output
    if expected:
        assert RESOLUTION_IMPOSSIBLE in output
