"""The Markdown document: summary, project × target table, findings per file."""

from __future__ import annotations

import pytest

from reqhash_check.findings import Finding, Location, Report, Severity, Unverified
from reqhash_check.report import RenderContext, markdown, renderer
from reqhash_check.rules import RULES
from tests.report_cases import (
    CONTEXT,
    DEV,
    LINUX,
    MAC,
    MAIN,
    assert_snapshot,
    clean_report,
    sample_report,
)


def _table(text: str, heading: str) -> list[list[str]]:
    """The cells of the first table after `heading`, split the way GFM splits them."""
    lines = text.splitlines()
    start = lines.index(heading)
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("|"):
            rows.append(line)
        elif rows:
            break
    cells = []
    for row in rows:
        parts, cell, escaped = [], "", False
        for char in row.strip()[1:-1]:
            if char == "|" and not escaped:
                parts.append(cell.strip())
                cell = ""
            else:
                cell += char
            escaped = char == "\\" and not escaped
        parts.append(cell.strip())
        cells.append(parts)
    return cells


def test_snapshot() -> None:
    assert_snapshot("markdown.md", markdown.render(sample_report(), CONTEXT))


def test_snapshot_clean() -> None:
    assert_snapshot("markdown-clean.md", markdown.render(clean_report(), CONTEXT))


def test_registered_as_a_format() -> None:
    assert renderer("markdown") is markdown.render


def test_heading_and_counts() -> None:
    text = markdown.render(sample_report(), CONTEXT)
    assert text.startswith("# reqhash-check: ❌ would fail\n")
    assert "**13 errors**, **5 warnings**; 21 requirements checked in 3 files" in text
    assert "2 requirements not verified" in text


def test_clean_and_incomplete_headings() -> None:
    assert markdown.render(clean_report(), CONTEXT).startswith(
        "# reqhash-check: ✅ no install failure predicted"
    )
    incomplete = Report(
        findings=(), unverified=(Unverified(Location(MAIN, 1, 1), "x", "1", "offline"),)
    )
    assert "⚠️ incomplete" in markdown.render(incomplete, CONTEXT).splitlines()[0]


def test_install_table_has_a_column_per_target() -> None:
    text = markdown.render(sample_report(), CONTEXT)
    table = _table(text, "## Would `pip install --require-hashes` succeed?")
    header, rule, *rows = table
    assert header == ["project", "every target", f"`{LINUX}`", f"`{MAC}`"]
    assert set(rule) == {"---"}
    by_project = {row[0]: row[1:] for row in rows}
    assert by_project["cryptography 43.0.1"] == ["✅", "✅", "❌ `uncovered-target`"]
    assert by_project["pyyaml 6.0.2"] == ["✅", "⚠️ `fallback-target`", "✅"]
    # a target-independent failure fails the install on every target
    assert by_project["requests 2.32.3"] == ["❌ `stale-hash`"] * 3
    assert by_project["Weird\\|Name 1.0"][0] == "⚠️ `unverifiable`"
    assert len(rows) == 16


def test_targets_named_only_by_findings_get_a_column() -> None:
    finding = Finding(
        "uncovered-target", Severity.ERROR, Location(MAIN, 1, 1), "a", "1", "m", target="t1"
    )
    text = markdown.render(Report(findings=(finding,)), RenderContext())
    header = _table(text, "## Would `pip install --require-hashes` succeed?")[0]
    assert header == ["project", "every target", "`t1`"]


def test_findings_are_grouped_per_file() -> None:
    text = markdown.render(sample_report(), CONTEXT)
    assert text.index(f"### `{MAIN}`") < text.index(f"### `{DEV}`")
    rows = _table(text, f"### `{DEV}`")
    assert rows[0] == ["line", "severity", "rule", "project", "target", "message"]
    unpinned = next(row for row in rows if "unpinned" in row[2])
    assert unpinned[0] == "2–3"
    assert unpinned[1] == "error"
    assert RULES["unpinned"].summary.split(" ")[0] in unpinned[2]  # the rule's summary on hover
    assert "](" not in unpinned[2]  # no link: nothing outside the report to go stale
    assert unpinned[5] == "pytest\\>=8 is not pinned with ==."


def test_cells_escape_pipes_newlines_and_markup() -> None:
    text = markdown.render(sample_report(), CONTEXT)
    rows = _table(text, "### `requirements-odd |%.txt`")
    assert all(len(row) == 6 for row in rows)
    parse_error = next(row for row in rows if "parse-error" in row[2])
    assert parse_error[5] == (
        "100% broken: a, b<br>second line \\| with a pipe<br>third \\`code\\` \\*star\\* \\<tag\\>"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain", "plain"),
        ("a|b", "a\\|b"),
        (
            "*x* _y_ [l](u) <b> &amp; ~z~ #1 !",
            "\\*x\\* \\_y\\_ \\[l\\](u) \\<b\\> \\&amp; \\~z\\~ \\#1 \\!",
        ),
        ("back\\slash", "back\\\\slash"),
        ("a\r\nb\nc\rd", "a<br>b<br>c<br>d"),
    ],
)
def test_escape(text: str, expected: str) -> None:
    assert markdown.escape(text) == expected


@pytest.mark.parametrize(
    ("text", "cell", "expected"),
    [
        ("x", True, "`x`"),
        ("a`b", True, "``a`b``"),
        ("`x", False, "`` `x ``"),
        ("a|b", True, "`a\\|b`"),
        ("a|b", False, "`a|b`"),
    ],
)
def test_code_span(text: str, cell: bool, expected: str) -> None:
    assert markdown.code(text, cell=cell) == expected


def test_kb_and_fix_command_under_mismatch_findings() -> None:
    text = markdown.render(sample_report(), CONTEXT)
    assert "`pip/hash-mismatch-requirements-file`" in text
    assert "run `reqhash-check --fix requirements.txt`" in text
    only_missing = Finding("missing-hash", Severity.ERROR, Location(MAIN, 1, 1), "a", "1", "m")
    assert "hash-mismatch" not in markdown.render(Report(findings=(only_missing,)), CONTEXT)


def test_fix_description_follows_the_message() -> None:
    rows = _table(markdown.render(sample_report(), CONTEXT), f"### `{MAIN}`")
    stale = next(row for row in rows if "stale-hash" in row[2])
    assert stale[5].endswith(
        "<br>Fix: reqhash-check --fix requirements.txt (rewrite its hashes (2))"
    )


def test_unverified_list() -> None:
    text = markdown.render(sample_report(), CONTEXT)
    rows = _table(text, "## Not verified")
    assert rows[0] == ["file", "line", "project", "reason"]
    assert rows[2:] == [
        [f"`{MAIN}`", "20", "click", "offline, nothing cached"],
        [f"`{DEV}`", "18", "rich 13.9.2", "the index answered 503: try again"],
    ]


def test_clean_report_has_no_tables() -> None:
    text = markdown.render(clean_report(), CONTEXT)
    assert "|" not in text
    assert "## Findings" not in text
