"""`--fix` cases as data, through the command line against the loopback index.

tests/cases/fixrun/<case>/ holds:

- `index.json`: the world the index publishes, {project: {version: {"files": [...],
  "requires": [...], "yanked": bool}}}; a file's bytes are its name, so its hash is known;
- `args`: the command-line options (targets), one per line;
- the files: every `*.txt` (the one named `requirements.txt` is checked), where
  `{sha:FILENAME}` stands for that file's sha256;
- `findings`: `FILE:LINE RULE` before the fix, one per line;
- `expected/`: the files after `--fix`, same placeholders (a file that must not change has
  no expected copy); `messages`: what --fix says on stderr.

Then a second `--fix` must change nothing and say so ("nothing to fix", or, where a
conflict left findings that cannot be fixed, "fixed 0 of N").
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from reqhash_check.cli import main
from tests.fakeindex import FakeFile, FakeIndex

CASES = Path(__file__).parent / "cases" / "fixrun"
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if p.is_dir())
_SHA = re.compile(r"\{sha:([^}]+)\}")


def sha(filename: str) -> str:
    return hashlib.sha256(filename.encode()).hexdigest()


def fill(data: bytes) -> bytes:
    return _SHA.sub(lambda m: sha(m.group(1)), data.decode("utf-8")).encode("utf-8")


@pytest.fixture
def world(request: pytest.FixtureRequest) -> Iterator[FakeIndex]:
    case = CASES / request.param
    index = FakeIndex().start()
    try:
        projects = json.loads((case / "index.json").read_text())
        for project, versions in projects.items():
            for version, release in versions.items():
                for filename in release["files"]:
                    index.add(
                        project,
                        version,
                        FakeFile(
                            filename,
                            content=filename.encode(),
                            yanked=release.get("yanked", False),
                        ),
                        requires_dist=release.get("requires", []),
                    )
        yield index
    finally:
        index.close()


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("world", CASE_NAMES, indirect=True, ids=CASE_NAMES)
def test_fix_case(
    world: FakeIndex,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = CASES / request.node.callspec.params["world"]
    work = tmp_path / "repo"
    (work / ".git").mkdir(parents=True)
    for source in case.glob("*.txt"):
        (work / source.name).write_bytes(fill(source.read_bytes()))
    monkeypatch.chdir(work)
    args = [a for a in (case / "args").read_text().split("\n") if a]
    base = [*args, "--index-url", world.simple_url, "--no-cache", "--isolated"]

    code, out, err = _run([*base, "--format", "json", "requirements.txt"], capsys)
    found = sorted(
        f"{Path(f['path']).name}:{f['line']} {f['rule']}" for f in json.loads(out)["findings"]
    )
    assert found == sorted((case / "findings").read_text().split("\n")[:-1]), err

    before = {p.name: p.read_bytes() for p in work.glob("*.txt")}
    code, out, err = _run([*base, "--fix", "requirements.txt"], capsys)
    expected_dir = case / "expected"
    for name, old in before.items():
        expected = expected_dir / name
        want = fill(expected.read_bytes()) if expected.exists() else old
        assert (work / name).read_bytes() == want, name
    assert err.splitlines() == (case / "messages").read_text().splitlines()

    fixed = {p.name: p.read_bytes() for p in work.glob("*.txt")}
    code, out, err = _run([*base, "--fix", "requirements.txt"], capsys)
    assert {p.name: p.read_bytes() for p in work.glob("*.txt")} == fixed
    last = err.splitlines()[-1]
    assert last == "nothing to fix" or last.startswith("fixed 0 of "), err


def test_every_fixable_rule_has_a_case() -> None:
    from reqhash_check.rules import RULES

    covered = {
        line.split()[1]
        for name in CASE_NAMES
        for line in (CASES / name / "findings").read_text().splitlines()
    }
    fixable = {rule.id for rule in RULES.values() if rule.fixable}
    assert fixable <= covered, sorted(fixable - covered)
