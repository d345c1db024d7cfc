"""Constraint files and clashing pins through the command line, against a loopback index.

The real pip judges the main layouts in test_constraints_agreement.py; these are the finer
points: which pip version takes a hashed constraint, markers and extras on the edges, a
constraint used only through another constraint, and what the messages say.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reqhash_check.cli import main
from tests.fakeindex import FakeFile, FakeIndex
from tests.wheelfactory import BuiltFile, build_wheel

LINUX = "linux-x86_64-glibc2.28-cp312"
WINDOWS = "windows-amd64-cp312"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[FakeIndex, dict[str, BuiltFile]]]:
    index = FakeIndex().start()
    built: dict[str, BuiltFile] = {}
    for project, version, requires in (
        ("app", "1.0", ("lib",)),
        ("lib", "2.0", ("leaf>=1",)),
        ("lib", "2.1", ()),
        ("leaf", "1.0", ()),
        ("leaf", "1.1", ()),
        ("faker", "2.0.3", ("text-unidecode==1.3",)),
        ("text-unidecode", "1.2", ()),
        ("text-unidecode", "1.3", ()),
        ("winonly", "1.0", ('helper<2; sys_platform == "win32"',)),
        ("withextra", "1.0", ('helper<2; extra == "fast"',)),
        ("helper", "2.0", ()),
        ("older-only", "1.0", ("text-unidecode<1.3",)),
        ("ping", "1.0", ("pong",)),
        ("pong", "1.0", ("ping>=2",)),
        ("lib", "1.9", ()),  # yanked
    ):
        made = build_wheel(project, version, requires_dist=requires)
        built[f"{project}-{version}"] = made
        yanked = "broken build" if (project, version) == ("lib", "1.9") else False
        index.add(
            project,
            version,
            FakeFile(made.filename, content=made.content, metadata=made.metadata, yanked=yanked),
            requires_dist=list(requires),
        )
    try:
        yield index, built
    finally:
        index.close()


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REQHASH_CHECK_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_CONSTRAINT", "NO_COLOR"):
        monkeypatch.delenv(name, raising=False)


def pin(built: dict[str, BuiltFile], project: str, version: str, extra: str = "") -> str:
    return f"{project}{extra}=={version} --hash=sha256:{built[f'{project}-{version}'].sha256}"


def check(
    capsys: pytest.CaptureFixture[str],
    index: FakeIndex,
    requirements: list[str],
    constraints: list[str] | None = None,
    *flags: str,
) -> tuple[int, list[dict[str, Any]]]:
    lines = list(requirements)
    if constraints is not None:
        Path("c.txt").write_text("\n".join(constraints) + "\n")
        lines.insert(0, "-c c.txt")
    Path("r.txt").write_text("\n".join(lines) + "\n")
    argv = ["--index-url", index.simple_url, "--no-cache", "--format", "json", *flags]
    code = main([*argv, "r.txt"])
    return code, json.loads(capsys.readouterr().out)["findings"]


def rules(findings: list[dict[str, Any]]) -> list[str]:
    return sorted(f"{Path(f['path']).name}:{f['line']} {f['rule']}" for f in findings)


def test_a_hashed_constraint_counts_from_pip_26_1_and_the_default_says_so(
    capsys: pytest.CaptureFixture[str], served: tuple[FakeIndex, dict[str, BuiltFile]]
) -> None:
    index, built = served
    requirements = [pin(built, "app", "1.0")]
    constraints = [pin(built, "lib", "2.1")]
    for version in ("26.1", "26.3"):
        code, findings = check(capsys, index, requirements, constraints, "--pip-version", version)
        assert (code, findings) == (0, [])
    code, findings = check(capsys, index, requirements, constraints, "--pip-version", "26.0")
    assert code == 1 and rules(findings) == ["r.txt:2 missing-dependency"]
    # No --pip-version: the strictest pip in use fails, and the message says why and since when.
    code, findings = check(capsys, index, requirements, constraints)
    (finding,) = findings
    assert code == 1 and finding["rule"] == "missing-dependency"
    assert "all requirements must have their versions pinned with ==" in finding["message"]
    assert "c.txt:1 pins it with hashes, which pip 26.1 and later take" in finding["message"]


def test_an_unpinned_hashed_constraint_pins_the_version_its_hash_matches_from_26_1(
    capsys: pytest.CaptureFixture[str], served: tuple[FakeIndex, dict[str, BuiltFile]]
) -> None:
    index, built = served
    digest = built["lib-2.1"].sha256
    code, findings = check(
        capsys,
        index,
        [pin(built, "app", "1.0")],
        [f"lib>=2 --hash=sha256:{digest}"],
        "--pip-version",
        "26.3",
    )
    assert (code, findings) == (0, [])


def test_a_constraint_used_through_another_constraint_is_checked_at_its_line(
    capsys: pytest.CaptureFixture[str], served: tuple[FakeIndex, dict[str, BuiltFile]]
) -> None:
    index, built = served
    stale = "sha256:" + "0f" * 32
    # app needs lib, lib 2.0 needs leaf: both come from the constraints file.
    constraints = [pin(built, "lib", "2.0"), f"leaf==1.1 --hash={stale}"]
    code, findings = check(
        capsys, index, [pin(built, "app", "1.0")], constraints, "--pip-version", "26.3"
    )
    assert code == 1 and rules(findings) == ["c.txt:2 stale-hash"]
    (finding,) = findings
    assert finding["fix"] is not None  # the fix rewrites the constraint's hashes, there


def test_a_constraint_nothing_needs_is_not_checked(
    capsys: pytest.CaptureFixture[str], served: tuple[FakeIndex, dict[str, BuiltFile]]
) -> None:
    index, built = served
    code, findings = check(
        capsys,
        index,
        [pin(built, "leaf", "1.0")],
        ["lib==9.9 --hash=sha256:" + "0f" * 32],
        "--pip-version",
        "26.3",
    )
    assert (code, findings) == (0, [])


def test_a_constraint_whose_marker_excludes_the_target_is_not_used(
    capsys: pytest.CaptureFixture[str], served: tuple[FakeIndex, dict[str, BuiltFile]]
) -> None:
    index, built = served
    digest = built["lib-2.1"].sha256
    constraints = [f'lib==2.1 ; sys_platform == "win32" --hash=sha256:{digest}']
    code, findings = check(
        capsys,
        index,
        [pin(built, "app", "1.0")],
        constraints,
        "--pip-version",
        "26.3",
        "--target",
        LINUX,
    )
    assert code == 1 and rules(findings) == ["r.txt:2 missing-dependency"]
    code, findings = check(
        capsys,
        index,
        [pin(built, "app", "1.0")],
        constraints,
        "--pip-version",
        "26.3",
        "--target",
        WINDOWS,
    )
    assert (code, findings) == (0, [])


def test_conflicting_pin_names_the_requirer_and_its_specifier(
    capsys: pytest.CaptureFixture[str], served: tuple[FakeIndex, dict[str, BuiltFile]]
) -> None:
    index, built = served
    code, findings = check(
        capsys,
        index,
        [pin(built, "faker", "2.0.3"), pin(built, "text-unidecode", "1.2")],
        None,
        "--target",
        LINUX,
    )
    assert code == 1 and rules(findings) == ["r.txt:2 conflicting-pin"]
    (finding,) = findings
    assert finding["severity"] == "error"
    assert finding["project"] == "text-unidecode" and finding["version"] == "1.2"
    assert "faker 2.0.3 requires text-unidecode==1.3" in finding["message"]
    assert "ResolutionImpossible" in finding["message"]


def test_conflicting_pin_follows_the_edge_s_marker_per_target(
    capsys: pytest.CaptureFixture[str], served: tuple[FakeIndex, dict[str, BuiltFile]]
) -> None:
    index, built = served
    requirements = [pin(built, "winonly", "1.0"), pin(built, "helper", "2.0")]
    code, findings = check(capsys, index, requirements, None, "--target", LINUX)
    assert (code, findings) == (0, [])
    code, findings = check(
        capsys, index, requirements, None, "--target", LINUX, "--target", WINDOWS
    )
    assert code == 1 and rules(findings) == ["r.txt:2 conflicting-pin"]
    assert findings[0]["target"] == WINDOWS


def test_conflicting_pin_honours_the_requirer_s_extras(
    capsys: pytest.CaptureFixture[str], served: tuple[FakeIndex, dict[str, BuiltFile]]
) -> None:
    index, built = served
    plain = [pin(built, "withextra", "1.0"), pin(built, "helper", "2.0")]
    code, findings = check(capsys, index, plain, None, "--target", LINUX)
    assert (code, findings) == (0, [])
    extra = [pin(built, "withextra", "1.0", "[fast]"), pin(built, "helper", "2.0")]
    code, findings = check(capsys, index, extra, None, "--target", LINUX)
    assert code == 1 and rules(findings) == ["r.txt:2 conflicting-pin"]
    assert "helper<2" in findings[0]["message"]


def test_a_constraint_that_excludes_a_requirement_s_pin_is_a_conflict(
    capsys: pytest.CaptureFixture[str], served: tuple[FakeIndex, dict[str, BuiltFile]]
) -> None:
    index, built = served
    code, findings = check(
        capsys, index, [pin(built, "leaf", "1.0")], ["leaf>=1.1"], "--target", LINUX
    )
    assert code == 1 and rules(findings) == ["r.txt:2 conflicting-pin"]
    assert "the constraint at c.txt:1 requires leaf>=1.1" in findings[0]["message"]


def test_fix_re_pins_a_conflicting_pin_to_the_version_every_requirer_accepts(
    capsys: pytest.CaptureFixture[str], served: tuple[FakeIndex, dict[str, BuiltFile]]
) -> None:
    index, built = served
    Path("r.txt").write_text(
        "# the app\n"
        + pin(built, "faker", "2.0.3")
        + "\n"
        + pin(built, "text-unidecode", "1.2")
        + "  # via faker\n"
    )
    argv = ["--index-url", index.simple_url, "--no-cache", "--target", LINUX]
    code = main([*argv, "--format", "json", "r.txt"])
    (finding,) = json.loads(capsys.readouterr().out)["findings"]
    assert code == 1 and finding["fix"]["kind"] == "repin"
    assert finding["fix"]["specifiers"] == ["==1.3"]
    assert "review" in finding["fix"]["title"]
    code = main([*argv, "--fix", "r.txt"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert Path("r.txt").read_text() == (
        "# the app\n"
        + pin(built, "faker", "2.0.3")
        + "\n"
        + "text-unidecode==1.3 \\\n"
        + f"    --hash=sha256:{built['text-unidecode-1.3'].sha256}  # via faker\n"
    )


def test_fix_leaves_a_conflicting_pin_no_release_can_settle(
    capsys: pytest.CaptureFixture[str], served: tuple[FakeIndex, dict[str, BuiltFile]]
) -> None:
    index, built = served
    lines = [
        pin(built, "faker", "2.0.3"),
        pin(built, "older-only", "1.0"),
        pin(built, "text-unidecode", "1.2"),
    ]
    Path("r.txt").write_text("\n".join(lines) + "\n")
    before = Path("r.txt").read_text()
    argv = ["--index-url", index.simple_url, "--no-cache", "--target", LINUX]
    code = main([*argv, "--fix", "r.txt"])
    captured = capsys.readouterr()
    assert code == 1
    assert Path("r.txt").read_text() == before
    said = captured.out + captured.err
    assert "cannot re-pin text-unidecode: no release" in said
    assert "==1.3 (from faker 2.0.3)" in said and "<1.3 (from older-only 1.0)" in said


def test_constraints_that_need_each_other_are_followed_once(
    capsys: pytest.CaptureFixture[str], served: tuple[FakeIndex, dict[str, BuiltFile]]
) -> None:
    index, built = served
    # ping needs pong, pong needs ping>=2: the cycle ends, and the clash is at ping's pin.
    code, findings = check(
        capsys,
        index,
        [pin(built, "ping", "1.0")],
        [pin(built, "pong", "1.0")],
        "--pip-version",
        "26.3",
        "--target",
        LINUX,
    )
    assert code == 1 and rules(findings) == ["r.txt:2 conflicting-pin"]
    assert "pong 1.0 requires ping>=2" in findings[0]["message"]


def test_fix_of_the_requirements_file_re_pins_the_constraint_at_its_line(
    capsys: pytest.CaptureFixture[str], served: tuple[FakeIndex, dict[str, BuiltFile]]
) -> None:
    index, built = served
    Path("c.txt").write_text(pin(built, "text-unidecode", "1.2") + "\n")
    Path("r.txt").write_text("-c c.txt\n" + pin(built, "faker", "2.0.3") + "\n")
    argv = ["--index-url", index.simple_url, "--no-cache", "--target", LINUX]
    argv += ["--pip-version", "26.3"]  # which takes the dependency's pin from the constraint
    code = main([*argv, "--fix", "r.txt"])
    assert code == 0, capsys.readouterr()
    assert Path("c.txt").read_text() == (
        "text-unidecode==1.3 \\\n    --hash=sha256:" + built["text-unidecode-1.3"].sha256 + "\n"
    )


def test_two_constraints_that_leave_no_version_are_a_conflict(
    capsys: pytest.CaptureFixture[str], served: tuple[FakeIndex, dict[str, BuiltFile]]
) -> None:
    index, built = served
    constraints = [pin(built, "lib", "2.1"), "lib<2.1"]
    code, findings = check(
        capsys,
        index,
        [pin(built, "app", "1.0")],
        constraints,
        "--pip-version",
        "26.3",
        "--target",
        LINUX,
    )
    assert code == 1 and rules(findings) == ["c.txt:1 conflicting-pin"]
    assert "the constraint at c.txt:2 requires lib<2.1" in findings[0]["message"]


def test_a_used_constraint_on_a_yanked_release_is_reported_at_its_line(
    capsys: pytest.CaptureFixture[str], served: tuple[FakeIndex, dict[str, BuiltFile]]
) -> None:
    index, built = served
    code, findings = check(
        capsys,
        index,
        [pin(built, "app", "1.0")],
        ["# pins for what the app needs", pin(built, "lib", "1.9")],
        "--pip-version",
        "26.3",
        "--target",
        LINUX,
    )
    assert code == 0 and rules(findings) == ["c.txt:2 yanked"]
    assert "broken build" in findings[0]["message"]


def test_hashed_constraints_on_one_project_give_pip_only_the_hashes_they_all_list(
    capsys: pytest.CaptureFixture[str], served: tuple[FakeIndex, dict[str, BuiltFile]]
) -> None:
    index, built = served
    real = pin(built, "lib", "2.1")
    foreign, other = "sha256:" + "0f" * 32, "sha256:" + "1e" * 32
    flags = ("--pip-version", "26.3", "--target", LINUX)
    # Both lines list the wheel: pip 26.1+ takes it (the foreign hashes are only warned of).
    code, findings = check(
        capsys,
        index,
        [pin(built, "app", "1.0")],
        [f"{real} --hash={foreign}", f"{real} --hash={other}"],
        *flags,
    )
    assert code == 0 and rules(findings) == ["c.txt:1 foreign-hash", "c.txt:2 foreign-hash"]
    # They share no hash: pip has none to take, and refuses lib as unpinned; the second
    # line, used as much as the first, has a hash no file matches.
    code, findings = check(
        capsys, index, [pin(built, "app", "1.0")], [real, f"lib==2.1 --hash={foreign}"], *flags
    )
    assert code == 1 and rules(findings) == ["c.txt:2 stale-hash", "r.txt:2 missing-dependency"]
    (missing,) = [f for f in findings if f["rule"] == "missing-dependency"]
    assert "its hashed constraints (c.txt:1, c.txt:2) share no hash" in missing["message"]
    assert "pinned with ==" in missing["message"]
