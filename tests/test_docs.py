"""The rule documentation has one source, the registry: docs/rules.md, the README table,
`reqhash-check rules`, `--explain`, `--help` and SARIF all say the same thing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reqhash_check.cli import build_parser, main
from reqhash_check.rules import RULES, rules_markdown

ROOT = Path(__file__).resolve().parents[1]


def test_docs_rules_md_is_generated_from_the_registry() -> None:
    assert (ROOT / "docs" / "rules.md").read_text(encoding="utf-8") == rules_markdown(), (
        "docs/rules.md is out of date: regenerate it with the command at its top"
    )


def test_the_readme_rule_table_lists_every_rule_with_its_severity() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([a-z-]+)` \| (error|warning)", readme, re.M)
    assert dict(rows) == {rule.id: rule.severity.value for rule in RULES.values()}


def test_rules_lists_every_rule_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(RULES)
    for line, rule in zip(lines, RULES.values(), strict=True):
        assert rule.summary in line and rule.severity.value in line


@pytest.mark.parametrize("rule_id", list(RULES))
def test_explain_prints_the_rule_s_documentation(
    rule_id: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rules", rule_id]) == 0
    by_command = capsys.readouterr().out
    assert main(["--explain", rule_id]) == 0
    assert capsys.readouterr().out == by_command == RULES[rule_id].explain()
    rule = RULES[rule_id]
    for part in (rule.summary, rule.pip_does, rule.why, rule.fix):
        assert part in by_command


def test_an_unknown_rule_suggests_the_close_one(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rules", "stale"]) == 2
    assert "did you mean stale-hash?" in capsys.readouterr().err


def test_every_option_has_help_text() -> None:
    parser = build_parser()
    missing = [
        action.option_strings or action.dest
        for action in parser._actions  # the parser's own list of what it accepts
        if not action.help and action.dest != "help"
    ]
    assert missing == []


def test_help_names_every_rule_the_config_and_suppression(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    for rule_id in RULES:
        assert rule_id in text
    for needle in ("NO_COLOR", "[tool.reqhash-check]", "# reqhash: ignore[", "exit codes"):
        assert needle in text


def test_an_unknown_option_is_one_line_with_a_pointer_to_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--frobnicate"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "see reqhash-check --help" in err[0]


def test_every_rule_has_an_example_and_fix_text() -> None:
    for rule in RULES.values():
        assert rule.example.strip() and rule.fix.strip() and rule.why.strip(), rule.id


def test_every_test_docs_security_md_names_exists() -> None:
    """Each promise in docs/security.md names the tests that hold it; a renamed or removed
    test would leave a promise without one."""
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    current: Path | None = None
    named = 0
    for match in re.finditer(r"`((?:tests/)?[a-z_/]*\.py)?(?:::(test_\w+))?`", text):
        path, test = match.groups()
        if path:
            current = ROOT / path if path.startswith("tests/") else ROOT / "tests/security" / path
            assert current.is_file(), path
        if test:
            assert current is not None, test
            source = current.read_text(encoding="utf-8")
            assert re.search(rf"^def {test}\(", source, re.M), f"{current.name}::{test}"
            named += 1
    assert named >= 30


def test_every_rule_the_lock_checker_can_emit_says_what_it_means_for_lock_files() -> None:
    """Each rule ID the lock-file code names (the reader's problems, the lock detections
    registered in the rule modules) has its lock-file text in the registry, so `rules RULE`
    and docs/rules.md say what it means for a `pylock.toml`."""
    import ast

    from reqhash_check.rules import PYLOCK, SCOPES, checks

    named = {
        node.value
        for path in (ROOT / "src" / "reqhash_check" / "lockfile").glob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in RULES
    }
    named |= {
        rule_id
        for scope, kinds in SCOPES.items()
        if PYLOCK in kinds
        for rule_id, _ in checks(scope)
    }
    assert {"stale-hash", "missing-hash", "uncovered-target", "conflicting-pin"} <= named
    assert sorted(r for r in named if RULES[r].in_lock_files is None) == []


def test_docs_lockfiles_md_rule_list_is_generated_from_the_registry() -> None:
    """docs/lockfiles.md lists each rule with a pylock.toml detection, with its lock text."""
    from reqhash_check.rules import LOCK_RULES_END, LOCK_RULES_START, lock_rules_markdown

    text = (ROOT / "docs" / "lockfiles.md").read_text(encoding="utf-8")
    start, end = text.index(LOCK_RULES_START), text.index(LOCK_RULES_END)
    assert text[start : end + len(LOCK_RULES_END)] + "\n" == lock_rules_markdown(), (
        "regenerate the section between the markers from rules.lock_rules_markdown()"
    )
