"""GitHub Actions workflow commands: one annotation per finding, plus the step summary."""

from __future__ import annotations

from collections.abc import Mapping

from reqhash_check.escape import safe
from reqhash_check.findings import Finding, Location, Report, Severity, Unverified
from reqhash_check.report import RenderContext
from reqhash_check.report import markdown as markdown_report

STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"


def escape_data(text: str) -> str:
    """A command's message, escaped as the Actions toolkit's `escapeData` does, after any
    other control character from a file or an index is made visible."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return safe(text)


def escape_property(text: str) -> str:
    """A command property's value, escaped as the Actions toolkit's `escapeProperty` does."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, properties: Mapping[str, str | int | None], message: str) -> str:
    """`::name key=value,key=value::message`; properties without a value are left out."""
    props = ",".join(
        f"{key}={escape_property(str(value))}"
        for key, value in properties.items()
        if value is not None and value != ""
    )
    head = f"::{name} {props}" if props else f"::{name}"
    return f"{head}::{escape_data(message)}"


def _position(location: Location) -> dict[str, str | int | None]:
    if location.line < 1:
        return {"file": location.path}
    return {
        "file": location.path,
        "line": location.line,
        "endLine": max(location.line, location.end_line),
    }


def _finding_command(finding: Finding, context: RenderContext) -> str:
    title = f"{finding.rule} ({finding.project})" if finding.project else finding.rule
    message = finding.message
    if finding.target and finding.target not in message:
        message += f"\nTarget: {finding.target}"
    message += "".join(f"\n{line}" for line in finding.detail)
    if finding.kb:
        message += f"\nKB: {finding.kb}"
    hint = context.fix_hint_for(finding.location.path) if finding.fix is not None else None
    if finding.fix is not None and hint is not None:
        message += f"\nFix: {hint} ({finding.fix.title})"
    name = "error" if finding.severity is Severity.ERROR else "warning"
    return command(name, {**_position(finding.location), "title": title}, message)


def _unverified_command(item: Unverified) -> str:
    label = f"{item.project} {item.version}" if item.version else item.project
    return command(
        "warning",
        {**_position(item.location), "title": f"not verified ({item.project})"},
        f"{label} could not be verified against the index: {item.reason}",
    )


def _index_commands(report: Report) -> list[str]:
    lines = [command("error", {"title": "index error"}, problem) for problem in report.index_errors]
    for use in report.indexes:
        if use.origin is None:
            continue
        state = "" if use.contacted else " (not contacted)"
        lines.append(
            command(
                "notice",
                {**_position(use.origin), "title": "package source"},
                f"this file sends pip to the {use.kind} {use.url}{state}",
            )
        )
    return lines


def render(report: Report, context: RenderContext) -> str:
    lines = [
        _finding_command(f, context)
        for f in sorted(report.findings, key=lambda f: f.sort_key)
        if not f.suppressed
    ]
    lines += [
        _unverified_command(u)
        for u in sorted(report.unverified, key=lambda u: (u.location, u.project))
    ]
    lines += _index_commands(report)
    return "".join(line + "\n" for line in lines)


def step_summary(report: Report, context: RenderContext) -> str:
    """The Markdown written to the job's summary page."""
    return markdown_report.render(report, context)


def append_step_summary(text: str, environ: Mapping[str, str]) -> None:
    """Append to the file `$GITHUB_STEP_SUMMARY` names; do nothing when it is not set."""
    path = environ.get(STEP_SUMMARY_ENV, "")
    if not path:
        return
    if text and not text.endswith("\n"):
        text += "\n"
    with open(path, "a", encoding="utf-8", newline="\n") as summary:
        summary.write(text)
