"""GitHub workflow commands and the step summary."""

from __future__ import annotations

import re
from pathlib import Path

from reqhash_check.findings import Finding, Location, Report, Severity
from reqhash_check.report import RenderContext, github, markdown, renderer
from tests.report_cases import CONTEXT, TRICKY_MESSAGE, assert_snapshot, clean_report, sample_report

COMMAND = re.compile(
    r"^::(error|warning|notice) ((?:[A-Za-z]+=[^,:]*)(?:,[A-Za-z]+=[^,:]*)*)::(.*)$"
)


def _unescape_data(text: str) -> str:
    return text.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")


def _unescape_property(text: str) -> str:
    return _unescape_data(text.replace("%3A", ":").replace("%2C", ","))


def _parse(line: str) -> tuple[str, dict[str, str], str]:
    """Read a command back the way the runner does; fails on anything the runner would misread."""
    match = COMMAND.match(line)
    assert match, line
    properties = dict(pair.split("=", 1) for pair in match.group(2).split(","))
    return (
        match.group(1),
        {key: _unescape_property(value) for key, value in properties.items()},
        _unescape_data(match.group(3)),
    )


def test_snapshot() -> None:
    assert_snapshot("github.txt", github.render(sample_report(), CONTEXT))


def test_registered_as_a_format() -> None:
    assert renderer("github") is github.render


def test_escaping_matches_the_actions_toolkit() -> None:
    assert github.escape_data("a%b\r\nc:d,e") == "a%25b%0D%0Ac:d,e"
    assert github.escape_property("a%b\r\nc:d,e") == "a%25b%0D%0Ac%3Ad%2Ce"
    # `%` first, so an already-escaped-looking input is not double-read by the runner
    assert github.escape_data("%0A") == "%250A"


def test_command_layout() -> None:
    assert github.command("warning", {}, "plain") == "::warning::plain"
    assert (
        github.command("error", {"file": "a,b.txt", "line": 3, "col": None}, "m")
        == "::error file=a%2Cb.txt,line=3::m"
    )


def test_one_command_per_finding_then_the_unverified_then_sources() -> None:
    report = sample_report()
    lines = github.render(report, CONTEXT).splitlines()
    active = sorted(report.active, key=lambda f: f.sort_key)
    assert len(active) == len(report.findings) - 1  # the suppressed one is not annotated
    assert len(lines) == len(active) + len(report.unverified) + 2
    parsed = [_parse(line) for line in lines]
    kinds = [kind for kind, _, _ in parsed]
    assert kinds[: len(active)] == [f.severity.value for f in active]
    assert [props.get("title") for _, props, _ in parsed[len(active) :]] == [
        "not verified (click)",
        "not verified (rich)",
        "index error",
        "package source",
    ]
    assert parsed[-1][0] == "notice"
    assert parsed[-1][2] == "this file sends pip to the index http://example.invalid/simple"


def test_finding_command_round_trips() -> None:
    parsed = [_parse(line) for line in github.render(sample_report(), CONTEXT).splitlines()]
    stale = next(p for p in parsed if p[1].get("title") == "stale-hash (requests)")
    kind, props, message = stale
    assert kind == "error"
    assert props == {
        "file": "requirements.txt",
        "line": "3",
        "endLine": "5",
        "title": "stale-hash (requests)",
    }
    assert message.startswith("None of the 1 listed hashes")
    assert "KB: pip/hash-mismatch-requirements-file" in message
    assert message.endswith("Fix: reqhash-check --fix requirements.txt (rewrite its hashes (2))")
    foreign = next(m for _, p, m in parsed if p.get("title") == "foreign-hash (idna)")
    assert foreign.endswith("KB: pip/hash-mismatch-requirements-file")
    missing = next(m for _, p, m in parsed if p.get("title") == "missing-hash (six)")
    assert "Fix:" not in missing


def test_special_characters_survive_in_one_command() -> None:
    out = github.render(sample_report(), CONTEXT)
    line = next(line for line in out.splitlines() if "title=parse-error" in line)
    _, props, message = _parse(line)
    assert props["file"] == "requirements-odd |%.txt"
    assert message == TRICKY_MESSAGE
    assert "\n" not in line and "\r" not in line


def test_target_is_added_only_when_the_message_lacks_it() -> None:
    parsed = [_parse(line) for line in github.render(sample_report(), CONTEXT).splitlines()]
    fallback = next(m for _, p, m in parsed if p.get("title", "").startswith("fallback-target"))
    assert "Target: linux-x86_64-glibc2.28-cp312" in fallback
    uncovered = next(m for _, p, m in parsed if p.get("title", "").startswith("uncovered-target"))
    assert "Target:" not in uncovered


def test_file_level_finding_without_a_line() -> None:
    finding = Finding("include-error", Severity.ERROR, Location("r.txt", 0, 0), None, None, "x")
    assert github.render(Report(findings=(finding,)), RenderContext()) == (
        "::error file=r.txt,title=include-error::x\n"
    )


def test_clean_report_prints_nothing() -> None:
    assert github.render(clean_report(), CONTEXT) == ""


def test_step_summary_is_the_markdown_document() -> None:
    report = sample_report()
    assert github.step_summary(report, CONTEXT) == markdown.render(report, CONTEXT)


def test_append_step_summary_appends(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n", encoding="utf-8")
    environ = {"GITHUB_STEP_SUMMARY": str(summary)}
    github.append_step_summary("# one", environ)
    github.append_step_summary("two ✅\n", environ)
    assert summary.read_text(encoding="utf-8") == "earlier step\n# one\ntwo ✅\n"


def test_append_step_summary_without_the_variable_writes_nothing(tmp_path: Path) -> None:
    github.append_step_summary("# x", {})
    github.append_step_summary("# x", {"GITHUB_STEP_SUMMARY": ""})
    assert list(tmp_path.iterdir()) == []
