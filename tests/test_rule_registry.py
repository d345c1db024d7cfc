"""The one rule registry: every detection, for requirements files, Pipfile.lock and
pylock.toml alike, is a function registered for its rule and scope, and what a rule says
about each kind of input follows from what is registered."""

from __future__ import annotations

import ast
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from reqhash_check import rulebook
from reqhash_check.cli import main
from reqhash_check.findings import Finding, Location
from reqhash_check.rules import (
    INPUT_KINDS,
    PIPFILE_LOCK,
    PYLOCK,
    REQUIREMENTS,
    RULES,
    SCOPES,
    detections,
    implements,
    input_kinds,
)
from tests.fakeindex import FakeIndex
from tests.lockproject import Published, publish, write_uv_style

ROOT = Path(__file__).resolve().parent.parent
LOCK_SCOPES = [scope for scope, kinds in SCOPES.items() if kinds == (PYLOCK,)]


def _lock_drift() -> list[str]:
    """Rules whose lock-file text and lock detections disagree: one without the other."""
    return sorted(
        rule.id
        for rule in RULES.values()
        if (PYLOCK in input_kinds(rule.id)) != (rule.in_lock_files is not None)
    )


def test_a_rule_has_a_lock_detection_exactly_when_it_says_what_it_means_for_lock_files() -> None:
    assert _lock_drift() == []
    assert {"stale-hash", "missing-hash", "uncovered-target", "conflicting-pin"} <= {
        r for r in RULES if PYLOCK in input_kinds(r)
    }


def test_the_drift_check_bites_when_a_lock_detection_has_no_lock_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert RULES["unlisted-index"].in_lock_files is None
    monkeypatch.setattr(rulebook, "_CHECKS", list(rulebook._CHECKS))

    @implements("unlisted-index", "lock-file")
    def stray(ctx: object) -> Iterator[Finding]:
        yield from ()

    assert PYLOCK in input_kinds("unlisted-index")
    assert _lock_drift() == ["unlisted-index"]


def test_every_rule_has_a_detection_and_every_detection_a_known_scope() -> None:
    for rule_id in RULES:
        found = detections(rule_id)
        assert found, rule_id
        assert all(scope in SCOPES for scope, _ in found), rule_id
    assert set(LOCK_SCOPES) == {"lock-file", "lock-package", "lock-selection"}


def test_input_kinds_follow_the_scopes_registered() -> None:
    # Requirements detections judge Pipfile.lock too (pipenv installs it as one).
    assert input_kinds("unpinned") == (REQUIREMENTS, PIPFILE_LOCK)
    assert input_kinds("stale-hash") == (REQUIREMENTS, PYLOCK, PIPFILE_LOCK)
    assert {scope for scope, _ in detections("stale-hash")} == {"release", "lock-package"}
    assert [scope for scope, _ in detections("unpublished-bytes")] == ["download"]
    assert input_kinds("unpublished-bytes") == tuple(INPUT_KINDS)


def test_a_pipfile_lock_note_belongs_to_a_rule_that_judges_pipfile_locks() -> None:
    noted = [r for r in RULES.values() if r.in_pipfile_lock is not None]
    assert [r.id for r in noted] == ["missing-dependency"]
    assert all(PIPFILE_LOCK in input_kinds(r.id) for r in noted)


def test_every_problem_the_lock_reader_reports_has_a_lock_file_detection() -> None:
    """The reader's problems (pip refuses the lock before any download) reach the report
    only through the `lock-file` detections of their rule."""
    source = (ROOT / "src" / "reqhash_check" / "lockfile" / "read.py").read_text("utf-8")
    named = {
        arg.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "LockProblem"
        for arg in node.args
        if isinstance(arg, ast.Constant) and arg.value in RULES
    }
    assert named == {"parse-error", "missing-hash"}
    for rule_id in named:
        assert "lock-file" in {scope for scope, _ in detections(rule_id)}, rule_id


@pytest.fixture(scope="module")
def project() -> Iterator[Published]:
    index = FakeIndex().start()
    try:
        yield publish(index)
    finally:
        index.close()


def test_the_lock_checker_runs_what_is_registered_for_each_lock_scope(
    project: Published,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A detection registered for a lock scope is called, through the command line, once
    per lock, per package or per target: the lock checker is a loop over the registry."""
    monkeypatch.setattr(rulebook, "_CHECKS", list(rulebook._CHECKS))
    path = tmp_path / "pylock.toml"
    path.write_text(write_uv_style(project), encoding="utf-8")

    def probe(scope: str, what: str) -> None:
        @implements("yanked", scope)
        def detection(ctx: object) -> Iterator[Finding]:
            yield Finding(
                rule="yanked",
                severity=RULES["yanked"].severity,
                location=Location(str(path), 1, 1),
                project=None,
                version=None,
                message=f"probe {scope} {what(ctx)}",  # type: ignore[operator]
            )

    probe("lock-file", lambda ctx: ctx.lock.path.endswith("pylock.toml"))  # type: ignore[arg-type]
    probe("lock-package", lambda ctx: ctx.package.name)  # type: ignore[arg-type]
    probe("lock-selection", lambda ctx: ctx.target.name)  # type: ignore[arg-type]
    targets = ["--target", "linux-x86_64-glibc2.28-cp312", "--target", "macos-arm64-11-cp312"]
    code = main(
        ["--no-cache", "--format", "json", "--index-url", project.index.simple_url]
        + [*targets, str(path)]
    )
    report = json.loads(capsys.readouterr().out)
    probes = sorted(f["message"] for f in report["findings"] if f["message"].startswith("probe"))
    assert probes == [
        "probe lock-file True",
        "probe lock-package alpha",
        "probe lock-package beta",
        "probe lock-package delta",
        "probe lock-package gamma",
        "probe lock-selection linux-x86_64-glibc2.28-cp312",
        "probe lock-selection macos-arm64-11-cp312",
    ]
    assert code == 0  # warnings only: the lock itself is clean


def test_rules_command_says_which_inputs_a_rule_applies_to(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["rules", "unlisted-index"]) == 0
    out = capsys.readouterr().out
    assert "Applies to: requirements files, Pipfile.lock\n" in out
    assert "In lock files (pylock.toml): does not apply.\n" in out
    assert "In Pipfile.lock: as in a requirements file" in out

    assert main(["rules", "stale-hash"]) == 0
    out = capsys.readouterr().out
    assert "Applies to: requirements files, lock files (pylock.toml), Pipfile.lock\n" in out
    assert f"In lock files (pylock.toml): {RULES['stale-hash'].in_lock_files}\n" in out

    assert main(["--explain", "missing-dependency"]) == 0
    out = capsys.readouterr().out
    assert "In Pipfile.lock: A warning, and not fixed: pipenv installs the lock with" in out


def test_documenting_the_rules_loads_no_lock_reader_and_no_event_loop() -> None:
    """The registry imports every detection, yet a run without lock files (and its SARIF
    help) still imports neither the TOML reader nor asyncio."""
    import subprocess
    import sys

    script = (
        "import sys\n"
        "import reqhash_check.rules, reqhash_check.report.sarif\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tomlkit', 'asyncio')"
        " or m in ('packaging.pylock', 'reqhash_check.lockfile.read')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={"PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "[]"


def test_each_rule_is_one_module_holding_its_documentation_and_every_detection() -> None:
    """`reqhash_check.rules.<rule_id>` (dashes as underscores) holds the rule's `RULE` and
    every detection registered for it, whatever the input kind."""
    import importlib

    for rule_id, rule in RULES.items():
        module = importlib.import_module(f"reqhash_check.rules.{rule_id.replace('-', '_')}")
        assert module.RULE is rule, rule_id
        assert {fn.__module__ for _, fn in detections(rule_id)} == {module.__name__}, rule_id


@pytest.mark.parametrize(
    "first",
    [
        "reqhash_check.lockfile.context",
        "reqhash_check.check.context",
        "reqhash_check.check.shared",
        "reqhash_check.rules.stale_hash",
        "reqhash_check.lockfile.check",
        "reqhash_check.check",
    ],
)
def test_any_module_can_be_imported_first_and_the_registry_ends_complete(first: str) -> None:
    """The rule modules import the contexts, the checkers import the rules: whichever a
    test or a tool imports first, nothing is half initialised."""
    import subprocess
    import sys

    script = (
        f"import importlib; importlib.import_module({first!r})\n"
        "import reqhash_check.rules as rules\n"
        "print(len(rules.RULES), all(rules.detections(r) for r in rules.RULES))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={"PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(len(RULES)), "True"]
