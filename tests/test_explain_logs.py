"""Logs recorded from real pips 20.0 to 26.3, each with the diagnosis it must get.

The logs in tests/data/piplogs/pip-<version>/ were made by tests/data/piplogs/record.py: each
pip ran against a FakeIndex serving the packages `publish` puts there. Every file is built by
tests/wheelfactory.py, whose bytes are the same on every run, so the hashes in the recorded
logs match what `publish` serves today. Other modules import `publish` and `build_world`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reqhash_check.cli import main
from tests.fakeindex import FakeFile, FakeIndex
from tests.wheelfactory import BuiltFile, build_sdist, build_wheel

FOREIGN = "ab" * 32
"""A sha256 no index publishes."""
FOREIGN_2 = "cd" * 32

LINUX_TAGS = "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"
MAC_TAGS = "cp312-cp312-macosx_11_0_arm64"
WINDOWS_TAGS = "cp312-cp312-win_amd64"


@dataclass(frozen=True)
class World:
    demo_10_wheel: BuiltFile
    demo_10_sdist: BuiltFile
    demo_11_wheel: BuiltFile
    other_20: BuiltFile
    parent_10: BuiltFile
    child_15: BuiltFile
    plat_10: BuiltFile
    native_linux: BuiltFile
    native_mac: BuiltFile
    native_windows: BuiltFile
    native_sdist: BuiltFile
    pyonly_10: BuiltFile

    def sha(self, name: str) -> str:
        built: BuiltFile = getattr(self, name)
        return built.sha256


def build_world() -> World:
    return World(
        demo_10_wheel=build_wheel("demo", "1.0"),
        demo_10_sdist=build_sdist("demo", "1.0"),
        demo_11_wheel=build_wheel("demo", "1.1"),
        other_20=build_wheel("other", "2.0"),
        parent_10=build_wheel("parent", "1.0", requires_dist=["child>=1"]),
        child_15=build_wheel("child", "1.5"),
        plat_10=build_wheel(
            "plat", "1.0", tags="cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"
        ),
        native_linux=build_wheel("native", "3.0", tags=LINUX_TAGS),
        native_mac=build_wheel("native", "3.0", tags=MAC_TAGS),
        native_windows=build_wheel("native", "3.0", tags=WINDOWS_TAGS),
        native_sdist=build_sdist("native", "3.0"),
        pyonly_10=build_wheel("pyonly", "1.0", requires_python=">=4"),
    )


def publish(index: FakeIndex, world: World | None = None) -> World:
    """Put every package of the world on `index`."""
    world = world or build_world()

    def add(
        project: str, version: str, built: BuiltFile, requires_python: str | None = None
    ) -> None:
        index.add(
            project,
            version,
            FakeFile(built.filename, built.content, requires_python=requires_python),
        )

    add("demo", "1.0", world.demo_10_wheel)
    add("demo", "1.0", world.demo_10_sdist)
    add("demo", "1.1", world.demo_11_wheel)
    add("other", "2.0", world.other_20)
    index.add(
        "parent",
        "1.0",
        FakeFile(world.parent_10.filename, world.parent_10.content),
        requires_dist=["child>=1"],
    )
    add("child", "1.5", world.child_15)
    add("plat", "1.0", world.plat_10)
    for built in (world.native_linux, world.native_mac, world.native_windows, world.native_sdist):
        add("native", "3.0", built)
    add("pyonly", "1.0", world.pyonly_10, requires_python=">=4")
    return world


# ----------------------------------------------------------------------------- recorded logs

PIPLOGS = Path(__file__).parent / "data" / "piplogs"
LEGACY_RESOLVER = ("20.0.2", "20.2.4")
"""pip's default resolver until 20.3 collects every failure before it reports."""
RECORDED_PIPS = sorted(
    (p.name.removeprefix("pip-") for p in PIPLOGS.glob("pip-*")),
    key=lambda v: tuple(int(x) for x in v.split(".")),
)

Expected = tuple[str, "str | None", "str | None", "str | None", "str | None", "int | None"]
"""(cause, project, version, file, requirements_file, line)."""


def expected_diagnoses(pip: str, scenario: str) -> list[Expected]:
    legacy = pip in LEGACY_RESOLVER
    demo_wheel = "demo-1.0-py3-none-any.whl"
    other = ("foreign-hashes", "other", "2.0", "other-2.0-py3-none-any.whl", "requirements.txt")
    table: dict[str, list[Expected]] = {
        "mismatch": [("stale-pin", "demo", "1.0", demo_wheel, "requirements.txt", 1)]
        + ([(*other, 3)] if legacy else []),
        # pip before 24 does not say which file the unhashed requirement is in.
        "missing-and-mismatch": [
            ("missing-hash", "demo", "1.0", demo_wheel)
            + (("requirements.txt", 1) if _version(pip) >= (24, 0) else (None, None))
        ]
        + ([(*other, 2)] if legacy else []),
        "unpinned": []  # pip 26.1 and later accept a hashed requirement that is not pinned
        if _version(pip) >= (26, 1)
        else [("unpinned", "demo", "1.1", "demo-1.1-py3-none-any.whl", "requirements.txt", 1)],
        "dependency": [
            (
                "missing-dependency",
                "child",
                "1.5",
                "child-1.5-py3-none-any.whl",
                "requirements.txt",
                1,
            )
        ],
        "vcs": [("unhashable", "x", None, None, "requirements.txt", 1)],
        "directory": [("unhashable", None, None, None, "requirements.txt", 1)],
        "not-found": [
            ("no-installable-file", "plat", "1.0", None)
            + (("requirements.txt", 1) if legacy else (None, None))
        ],
        "requires-python": [
            ("no-installable-file", "pyonly", "1.0", None)
            + (("requirements.txt", 1) if legacy else (None, None))
        ],
        "lock": [("stale-pin", "demo", "1.0", demo_wheel, "sub/pylock.toml", None)],
    }
    return table[scenario]


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split("."))


def recorded_logs() -> list[tuple[str, str, Path]]:
    cases = []
    for pip in RECORDED_PIPS:
        for path in sorted((PIPLOGS / f"pip-{pip}").iterdir()):
            scenario = path.name.split(".", 1)[0]
            cases.append((pip, scenario, path))
    return cases


@pytest.fixture(scope="module")
def world_index() -> Iterator[FakeIndex]:
    index = FakeIndex().start()
    try:
        publish(index)
        yield index
    finally:
        index.close()


def explain_json(
    index: FakeIndex, *args: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, object]]:
    code = main(
        ["explain", "--index-url", index.simple_url, "--no-cache", "--format", "json", *args]
    )
    return code, json.loads(capsys.readouterr().out)


def summary(document: dict[str, object]) -> list[Expected]:
    diagnoses = document["diagnoses"]
    assert isinstance(diagnoses, list)
    return [
        (d["cause"], d["project"], d["version"], d["file"], d["requirements_file"], d["line"])
        for d in diagnoses
    ]


def test_every_recorded_pip_is_here() -> None:
    assert {"20.0.2", "20.3.4", "23.0", "26.3"} <= set(RECORDED_PIPS)
    assert len(recorded_logs()) >= 9 * 8


@pytest.mark.parametrize(
    ("pip", "scenario", "path"),
    recorded_logs(),
    ids=[f"pip{p}-{path.name}" for p, _, path in recorded_logs()],
)
def test_recorded_log_gets_its_diagnosis(
    world_index: FakeIndex,
    capsys: pytest.CaptureFixture[str],
    pip: str,
    scenario: str,
    path: Path,
) -> None:
    code, document = explain_json(world_index, str(path), capsys=capsys)
    wanted = expected_diagnoses(pip, scenario)
    assert summary(document) == wanted
    assert document["unparsed"] == []
    assert code == (0 if wanted else 2)
    for diagnosis in document["diagnoses"]:  # type: ignore[attr-defined]
        assert diagnosis["kb"] == (
            "pip/hash-mismatch-requirements-file"
            if diagnosis["cause"] in ("stale-pin", "foreign-hashes")
            else None
        )
        assert diagnosis["fix"]["summary"]


def test_lock_file_fix_is_the_published_hash_of_the_locked_wheel(
    world_index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    world = build_world()
    _, document = explain_json(world_index, str(PIPLOGS / "pip-26.3" / "lock.log"), capsys=capsys)
    (diagnosis,) = document["diagnoses"]  # type: ignore[misc]
    assert diagnosis["fix"]["lines"] == [f'hashes = {{sha256 = "{world.demo_10_wheel.sha256}"}}']
    assert diagnosis["fix"]["command"] == (
        f"reqhash-check --fix --index-url {world_index.simple_url} --no-cache sub/pylock.toml"
    )
    assert diagnosis["expected"] == [f"sha256:{world.demo_11_wheel.sha256}"]


@pytest.mark.parametrize("pip", ["20.0.2", "26.3"])
def test_requires_python_is_named(
    world_index: FakeIndex, capsys: pytest.CaptureFixture[str], pip: str
) -> None:
    """pip 23 and later say it themselves; for older pips the index tells."""
    _, document = explain_json(
        world_index, str(PIPLOGS / f"pip-{pip}" / "requires-python.log"), capsys=capsys
    )
    (diagnosis,) = document["diagnoses"]  # type: ignore[misc]
    assert "Requires-Python >=4" in diagnosis["message"]
