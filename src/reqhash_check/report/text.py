"""Human output: `path:line: rule message`, grouped per file, with what to do underneath."""

from __future__ import annotations

from itertools import groupby

from reqhash_check.findings import KB_HASH_MISMATCH, Finding, Report, Severity
from reqhash_check.report import RenderContext

_RED, _YELLOW, _DIM, _BOLD, _RESET = "\033[31m", "\033[33m", "\033[2m", "\033[1m", "\033[0m"

DEAD_ENDS = (
    "do not delete the hashes, turn off --require-hashes or purge pip's cache: "
    "the first two drop the protection, and a file's hash never changes"
)


def render(report: Report, context: RenderContext) -> str:
    paint = _painter(context.color)
    lines: list[str] = []
    findings = sorted(report.findings, key=lambda f: f.sort_key)
    for _path, group in groupby(findings, key=lambda f: f.location.path):
        items = list(group)
        if context.quiet:
            items = [f for f in items if f.severity is Severity.ERROR]
        for finding in items:
            lines.append(_headline(finding, paint))
            if not context.quiet:
                lines.extend(_details(finding, context, paint))
        if items:
            lines.append("")
    for skipped in report.unverified:
        where = f"{skipped.location.path}:{skipped.location.line}"
        version = f" {skipped.version}" if skipped.version else ""
        lines.append(
            f"{where}: {paint(_YELLOW, 'not verified')} {skipped.project}{version}: "
            f"{skipped.reason}"
        )
    if report.unverified:
        lines.append("")
    lines.append(_summary(report, paint))
    return "\n".join(lines) + "\n"


def _headline(finding: Finding, paint: _Paint) -> str:
    colour = _RED if finding.severity is Severity.ERROR else _YELLOW
    where = f"{finding.location.path}:{finding.location.line}"
    suffix = "" if finding.severity is Severity.ERROR else " (warning)"
    return f"{paint(_BOLD, where)}: {paint(colour, finding.rule)} {finding.message}{suffix}"


def _details(finding: Finding, context: RenderContext, paint: _Paint) -> list[str]:
    if finding.kb != KB_HASH_MISMATCH or finding.severity is not Severity.ERROR:
        return []
    lines = [paint(_DIM, f"    kb: {finding.kb}")]
    if finding.hashes and finding.hashes.expected and finding.project and finding.version:
        lines.append(f"    published hashes for {finding.project}=={finding.version}:")
        shown = finding.hashes.expected if context.verbose else finding.hashes.expected[:6]
        lines.extend(f"        --hash={h}" for h in shown)
        hidden = len(finding.hashes.expected) - len(shown)
        if hidden:
            lines.append(f"        … and {hidden} more (-v shows all)")
    path = finding.location.path
    command = f"reqhash-check --fix {path}" if path != "-" else context.fix_command
    lines.append(f"    fix: {command}")
    lines.append(paint(_DIM, f"    {DEAD_ENDS}"))
    return lines


def _summary(report: Report, paint: _Paint) -> str:
    errors = report.count(Severity.ERROR)
    warnings = report.count(Severity.WARNING)
    files = len(dict.fromkeys(report.files))
    counts = f"{_n(errors, 'error')}, {_n(warnings, 'warning')}"
    text = f"{counts} in {_n(files, 'file')} ({_n(report.requirements_checked, 'requirement')})"
    if report.unverified:
        text += f"; {_n(len(report.unverified), 'requirement')} NOT verified against the index"
    if report.unreadable:
        text += f"; {_n(len(report.unreadable), 'input')} could NOT be read"
    if errors or report.unreadable:
        return paint(_RED, text)
    if report.unverified:
        return paint(_YELLOW, text)
    return text if warnings else f"OK: {text}"


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class _Paint:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.enabled else text


def _painter(enabled: bool) -> _Paint:
    return _Paint(enabled)
