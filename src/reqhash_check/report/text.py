"""Human output: one line per finding (`path:line: rule message`), grouped per file; detail
under a finding only where it adds something; advice once per run; a summary by rule."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from itertools import groupby

from reqhash_check.escape import safe, safe_line
from reqhash_check.findings import KB_HASH_MISMATCH, Finding, Report, Severity, Unverified
from reqhash_check.report import RenderContext

_RED, _YELLOW, _DIM, _BOLD, _RESET = "\033[31m", "\033[33m", "\033[2m", "\033[1m", "\033[0m"

DEAD_ENDS = (
    "deleting the hashes, dropping --require-hashes or purging pip's cache does not fix a "
    "mismatch: the first two throw the protection away, and a file's hash never changes"
)
MAX_LISTED = 8
_OFFLINE = "(offline)"
# pip's own words, quoted in a finding's message ("…; pip fails with 'THESE PACKAGES …'"):
# the line says what and where; the quote is shown under --verbose, and kept in full by the
# structured formats.
_PIP_QUOTE = re.compile(r"(?<=\bfails)(?:\s+with\s+|:\s*)(?P<quote>'[^']*')")
# The advice a missing dependency repeats on every line (the fix hint below says it), and a
# list of three targets or more (counted; the full list is under --verbose).
_PIN_ADVICE = re.compile(r"; pip fails\. Pin \S+ with its hashes")
_TARGET_LIST = re.compile(r"\(on ((?:[\w.-]+, ){2,}[\w.-]+)\)")


class _Paint:
    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def __call__(self, code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if self.enabled else text


def render(report: Report, context: RenderContext) -> str:
    paint = _Paint(context.color)
    lines: list[str] = []
    hinted = False
    shown = [
        f
        for f in sorted(report.findings, key=lambda f: f.sort_key)
        if (context.verbose or not f.suppressed)
        and not (context.quiet and f.severity is not Severity.ERROR)
    ]
    for path, group in groupby(shown, key=lambda f: f.location.path):
        items = list(group)
        for finding in items:
            lines.append(_headline(finding, paint))
            if not context.quiet:
                lines += [f"    {safe_line(d)}" for d in _details(finding, context)]
        fixable = [f for f in items if f.fix is not None and not f.suppressed]
        hint = context.fix_hint_for(path) if fixable and not context.quiet else None
        if hint is not None:
            lines.append(paint(_DIM, f"  fix {len(fixable)} of these: {safe(hint)}"))
            hinted = True
        lines.append("")
    if hinted and context.hint_note:
        lines += [paint(_DIM, f"note: {safe(context.hint_note)}"), ""]
    lines += _unverified(report.unverified, paint, shown)
    if not context.quiet:
        lines += _notes(report, paint, context)
    lines.append(_summary(report, paint))
    return "\n".join(lines) + "\n"


def _headline(finding: Finding, paint: _Paint) -> str:
    colour = _RED if finding.severity is Severity.ERROR else _YELLOW
    where = safe_line(f"{finding.location.path}:{finding.location.line}")
    suffix = "" if finding.severity is Severity.ERROR else " (warning)"
    if finding.suppressed:
        suffix += " (suppressed)"
    message = short_message(finding.message)
    return f"{paint(_BOLD, where)}: {paint(colour, finding.rule)} {safe(message)}{suffix}"


def short_message(message: str) -> str:
    """What and where: the message without the words of the pip error it quotes ("pip
    fails" stays), the pin advice the fix hint gives, and a long list of targets."""
    short = _PIN_ADVICE.sub("", _PIP_QUOTE.sub("", message))
    return _TARGET_LIST.sub(lambda m: f"(on {m.group(1).count(', ') + 1} targets)", short)


def _whole_message(message: str) -> list[str]:
    """Under --verbose: the message in full, when the line shortened it."""
    return [] if short_message(message) == message else [message]


def _details(finding: Finding, context: RenderContext) -> list[str]:
    details = list(finding.detail)
    if context.verbose:
        details += _whole_message(finding.message)
    if context.verbose and finding.hashes:
        details += [f"listed: {h}" for h in finding.hashes.listed]
        details += [f"published: {h}" for h in finding.hashes.expected]
    if context.verbose and finding.kb:
        details.append(f"kb: {finding.kb}")
    if context.verbose and finding.fix is not None:
        details.append(f"--fix would {finding.fix.title}")
    return details


# What makes one requirement's reason differ from its neighbours' (the URL asked, the
# project, the attempts made): without it, one line says it for all of them.
_REASON_NOISE = re.compile(r" after \d+ attempts?$| \(not asked again[^)]*\)$")


def _reason_key(reason: str) -> str:
    return _REASON_NOISE.sub("", reason.rsplit(": ", 1)[-1]) or reason


def _unverified(
    items: tuple[Unverified, ...], paint: _Paint, shown: Sequence[Finding] = ()
) -> list[str]:
    """Each requirement not verified, once: not again when an `unverifiable` finding above
    already names it; grouped by what went wrong (the index error line says where)."""
    said = {
        (f.location.path, f.location.line, f.project) for f in shown if f.rule == "unverifiable"
    }
    items = tuple(u for u in items if (u.location.path, u.location.line, u.project) not in said)
    if not items:
        return []
    by_reason: dict[str, list[Unverified]] = defaultdict(list)
    for item in items:
        by_reason[_reason_key(item.reason)].append(item)
    lines = []
    for reason, group in by_reason.items():
        names = [
            f"{u.project} {u.version} ({u.location.path}:{u.location.line})"
            if u.version
            else f"{u.project} ({u.location.path}:{u.location.line})"
            for u in group
        ]
        more = len(names) - MAX_LISTED
        listed = ", ".join(names[:MAX_LISTED]) + (f" and {more} more" if more > 0 else "")
        lines.append(f"{paint(_YELLOW, 'not verified')}: {safe(f'{listed}: {reason}')}")
    return [*lines, ""]


def _notes(report: Report, paint: _Paint, context: RenderContext) -> list[str]:
    lines = [f"{paint(_RED, 'index error')}: {safe(p)}" for p in report.index_errors]
    for number, note in enumerate(report.dependencies_unknown):
        lines.append(safe_line(f"dependencies not known for {note}"))
        names = report.dependencies_unknown_projects[number : number + 1]
        if context.verbose and names:
            lines.append(f"    {safe_line(names[0])}")
    if report.indexes:
        parts = []
        for use in report.indexes:
            where = f" ({use.origin.path}:{use.origin.line})" if use.origin else ""
            parts.append(use.url + where + ("" if use.contacted else " [not contacted]"))
        label = "indexes consulted" if len(parts) > 1 else "index consulted"
        lines.append(safe_line(f"{label}: {'; '.join(parts)}"))
    uncached = {
        (u.location.path, u.location.line) for u in report.unverified if _OFFLINE in u.reason
    }
    if uncached:
        count = len(uncached)
        lines.append(
            f"{count} {'requirement is' if count == 1 else 'requirements are'} not in the "
            "cache: run once without --offline to fill it"
        )
    if any(f.kb == KB_HASH_MISMATCH and not f.suppressed for f in report.findings):
        lines.append(paint(_DIM, f"{KB_HASH_MISMATCH}: {DEAD_ENDS}"))
    return lines


def _summary(report: Report, paint: _Paint) -> str:
    errors = report.count(Severity.ERROR)
    warnings = report.count(Severity.WARNING)
    files = len(dict.fromkeys(report.files))
    text = (
        f"{_n(errors, 'error')}, {_n(warnings, 'warning')} in {_n(files, 'file')} "
        f"({_n(report.requirements_checked, 'requirement')})"
    )
    by_rule = Counter(f.rule for f in report.active)
    if by_rule:
        text += ": " + ", ".join(f"{rule} {n}" for rule, n in sorted(by_rule.items()))
    if report.suppressed:
        text += f"; {report.suppressed} suppressed"
    if report.unverified:
        text += f"; {_n(len(report.unverified), 'requirement')} NOT verified against the index"
    elif report.index_errors:
        text += "; an index could NOT be asked"
    if report.unreadable:
        text += f"; {_n(len(report.unreadable), 'input')} could NOT be read"
    if errors or report.unreadable:
        return paint(_RED, text)
    if report.unverified or report.index_errors:
        return paint(_YELLOW, text)
    return text if warnings else f"OK: {text}"


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
