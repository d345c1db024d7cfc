"""Rule cases as data: tests/cases/<rule>/<case>.txt with <case>.expected beside it.

Each line of a .expected file is `LINE RULE` (or `FILE:LINE RULE` for a finding in an
included file), followed by `suppressed` for a finding silenced inline (kept and counted,
never failing). An empty .expected file is an explicit no-finding case. Local paths in a
case are read from the case's folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reqhash_check.check import CheckOptions, check
from reqhash_check.requirements import load
from reqhash_check.targets import parse_target_name

CASES = Path(__file__).parent / "cases"
TARGET = parse_target_name("linux-x86_64-glibc2.28-cp312")
CASE_FILES = sorted(p for p in CASES.glob("*/*.txt") if p.with_suffix(".expected").exists())


def expected_findings(case: Path) -> list[tuple[str, int, str, bool]]:
    rows = []
    for line in case.with_suffix(".expected").read_text().splitlines():
        where, rule, *mark = line.split()
        name, _, number = where.rpartition(":")
        rows.append((name or case.name, int(number), rule, mark == ["suppressed"]))
    return sorted(rows)


@pytest.mark.parametrize("case", CASE_FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_case(case: Path) -> None:
    # Paths in a case are relative to its folder, as pip's are to where it runs.
    req_set, problems = load(str(case), environ={}, cwd=str(case.parent))
    # One target, as the command line always has: the rules that need no index but a target
    # (a constraint that excludes a requirement's pin) run too.
    result = check(req_set, problems, {}, CheckOptions(targets=(TARGET,)))
    found = sorted(
        (Path(f.location.path).name, f.location.line, f.rule, f.suppressed) for f in result.findings
    )
    assert found == expected_findings(case)


def test_every_offline_rule_has_a_positive_and_a_negative_case() -> None:
    rules = {p.parent.name for p in CASE_FILES}
    for rule in ("missing-hash", "unpinned", "unhashable"):
        assert rule in rules
        assert any(
            p.parent.name == rule and not p.with_suffix(".expected").read_text().strip()
            for p in CASE_FILES
        ), f"{rule} has no negative case"
