"""The report as a Markdown document (GitHub-flavoured), e.g. for a job's step summary."""

from __future__ import annotations

import re
from collections.abc import Iterable

from reqhash_check.escape import safe
from reqhash_check.findings import KB_HASH_MISMATCH, Finding, Report, Severity
from reqhash_check.report import RenderContext
from reqhash_check.rules import RULES

TITLE = "reqhash-check"
ANY_TARGET = "every target"
"""Column for findings that do not depend on the target: they fail the install everywhere."""

PASS, FAIL, WARN = "✅", "❌", "⚠️"

# Backslash escapes work for every ASCII punctuation character in CommonMark; these are the ones
# that can start emphasis, links, code, HTML, entities or break a table cell.
_SPECIALS = re.compile(r"([\\`*_\[\]<>|~&#!])")


def escape(text: str) -> str:
    """Text for a table cell or a paragraph: specials escaped, line breaks as `<br>`, other
    control characters made visible."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "<br>".join(_SPECIALS.sub(r"\\\1", safe(line)) for line in lines)


def code(text: str, *, cell: bool = True) -> str:
    """An inline code span that survives backticks inside (and `|` when it is in a table cell)."""
    text = safe(text.replace("\r", " ").replace("\n", " "))
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    # GFM splits table cells on `|` before it parses code spans, so it must be escaped here too.
    if cell:
        text = text.replace("|", "\\|")
    return f"{fence}{pad}{text}{pad}{fence}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _row(cells: Iterable[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _project_label(finding: Finding) -> str:
    if finding.project is None:
        return ""
    return f"{finding.project} {finding.version}" if finding.version else finding.project


def _rule_link(rule_id: str) -> str:
    rule = RULES.get(rule_id)
    return f'<abbr title="{_attr(rule.summary)}">{code(rule_id)}</abbr>' if rule else code(rule_id)


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _lines(finding: Finding) -> str:
    loc = finding.location
    return str(loc.line) if loc.end_line <= loc.line else f"{loc.line}–{loc.end_line}"


def _targets(report: Report) -> list[str]:
    """The checked targets in their given order, then any a finding names that the report lacks."""
    ordered = list(dict.fromkeys(report.targets))
    for finding in sorted(report.findings, key=lambda f: f.sort_key):
        if finding.target is not None and finding.target not in ordered:
            ordered.append(finding.target)
    return ordered


def _verdict(findings: list[Finding]) -> str:
    errors = sorted({f.rule for f in findings if f.severity is Severity.ERROR})
    warnings = sorted({f.rule for f in findings if f.severity is Severity.WARNING} - set(errors))
    if errors:
        mark = FAIL
    elif warnings:
        mark = WARN
    else:
        return PASS
    return " ".join([mark, ", ".join(code(rule) for rule in errors + warnings)])


def _install_table(report: Report) -> list[str]:
    """Rows: each project (or, for findings about no project, each file); columns: targets."""
    targets = _targets(report)
    rows: dict[str, list[Finding]] = {}
    for finding in sorted(report.active, key=lambda f: f.sort_key):
        key = _project_label(finding) or f"{finding.location.path}"
        rows.setdefault(key, []).append(finding)
    if not rows:
        return []
    header = ["project", ANY_TARGET, *targets]
    out = [
        "## Would `pip install --require-hashes` succeed?",
        "",
        f"{FAIL} the install fails, {WARN} it installs with a warning or a surprise, "
        f"{PASS} nothing found. A target's column also counts the findings "
        f"under *{ANY_TARGET}*.",
        "",
        _row([escape(header[0]), escape(header[1]), *(code(t) for t in targets)]),
        _row("---" for _ in header),
    ]
    for key, findings in sorted(rows.items(), key=lambda item: item[0].lower()):
        common = [f for f in findings if f.target is None]
        label = escape(key) if findings[0].project is not None else code(key)
        cells = [label, _verdict(common)]
        cells.extend(_verdict(common + [f for f in findings if f.target == t]) for t in targets)
        out.append(_row(cells))
    out.append("")
    return out


def _findings_section(report: Report, context: RenderContext) -> list[str]:
    if not report.active:
        return []
    out = ["## Findings", ""]
    by_path: dict[str, list[Finding]] = {}
    for finding in sorted(report.active, key=lambda f: f.sort_key):
        by_path.setdefault(finding.location.path, []).append(finding)
    for path, findings in by_path.items():
        out += [f"### {code(path, cell=False)}", ""]
        out.append(_row(["line", "severity", "rule", "project", "target", "message"]))
        out.append(_row(["---:", "---", "---", "---", "---", "---"]))
        for f in findings:
            message = escape(f.message)
            for line in f.detail:
                message += f"<br>{escape(line)}"
            hint = context.fix_hint_for(f.location.path) if f.fix is not None else None
            if f.fix is not None and hint is not None:
                message += f"<br>Fix: {escape(hint)} ({escape(f.fix.title)})"
            cells = [
                _lines(f),
                f.severity.value,
                _rule_link(f.rule),
                escape(_project_label(f)),
                code(f.target) if f.target else "",
                message,
            ]
            out.append(_row(cells))
        out.append("")
    if any(f.kb == KB_HASH_MISMATCH for f in report.active):
        out += [
            f"Findings with the knowledge-base ID {code(KB_HASH_MISMATCH, cell=False)} predict "
            "`THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE`. "
            + (
                f"To regenerate the hashes run {code(context.fix_command, cell=False)}. "
                if context.fix_command
                else "To regenerate the hashes run `reqhash-check --fix` on the file. "
            )
            + "Deleting the hashes, dropping `--require-hashes` or purging pip's cache does not "
            "help: the first two throw the protection away, and a file's hash never changes.",
            "",
        ]
    return out


def _unverified_section(report: Report) -> list[str]:
    if not report.unverified:
        return []
    out = [
        "## Not verified",
        "",
        "These requirements could not be checked against the index, so nothing is claimed "
        "about them.",
        "",
        _row(["file", "line", "project", "reason"]),
        _row(["---", "---:", "---", "---"]),
    ]
    for item in sorted(report.unverified, key=lambda u: (u.location, u.project)):
        project = f"{item.project} {item.version}" if item.version else item.project
        out.append(
            _row(
                [
                    code(item.location.path),
                    str(item.location.line),
                    escape(project),
                    escape(item.reason),
                ]
            )
        )
    out.append("")
    return out


def summary_line(report: Report) -> str:
    errors, warnings = report.count(Severity.ERROR), report.count(Severity.WARNING)
    parts = [f"**{_plural(errors, 'error')}**, **{_plural(warnings, 'warning')}**"]
    scope = f"{_plural(report.requirements_checked, 'requirement')} checked"
    if report.files:
        scope += f" in {_plural(len(report.files), 'file')}"
    parts.append(scope)
    if report.unverified:
        parts.append(f"{_plural(len(report.unverified), 'requirement')} not verified")
    if report.suppressed:
        parts.append(f"{report.suppressed} suppressed")
    return "; ".join(parts) + "."


def _sources_section(report: Report) -> list[str]:
    out: list[str] = []
    if report.index_errors:
        out += ["## Index errors", ""]
        out += [f"- {escape(problem)}" for problem in report.index_errors]
        out.append("")
    if report.indexes:
        out += ["## Package sources", ""]
        for use in report.indexes:
            where = (
                f" (sent there by {code(use.origin.path, cell=False)} line {use.origin.line})"
                if use.origin
                else ""
            )
            state = "" if use.contacted else " — not contacted"
            out.append(f"- {use.kind} {code(use.url, cell=False)}{where}{state}")
        out.append("")
    if report.dependencies_unknown:
        out += [
            "Dependencies not known for: " + "; ".join(map(escape, report.dependencies_unknown)),
            "",
        ]
    return out


def render(report: Report, context: RenderContext) -> str:
    errors = report.count(Severity.ERROR)
    verdict = f"{FAIL} would fail" if errors else f"{PASS} no install failure predicted"
    if not errors and report.unverified:
        verdict = f"{WARN} incomplete: some requirements could not be verified"
    lines = [f"# {TITLE}: {verdict}", "", summary_line(report), ""]
    if report.targets:
        lines += ["Targets: " + ", ".join(code(t, cell=False) for t in report.targets) + ".", ""]
    lines += _install_table(report)
    lines += _findings_section(report, context)
    lines += _unverified_section(report)
    lines += _sources_section(report)
    if context.tool_version:
        lines += [f"<sub>{TITLE} {escape(context.tool_version)}</sub>", ""]
    return "\n".join(lines).rstrip("\n") + "\n"
