"""The explanation as text, JSON, Markdown or GitHub workflow commands: pure projections.

Every string that came from the log was cleaned when it was read (control characters and a
leading `::` escaped); the text and Markdown projections also refuse to start any line with
`::`, so nothing a log says can become a workflow command when the output is printed in CI.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from reqhash_check.explain.diagnose import CAUSE_SUMMARIES, UNPUBLISHED_BYTES, Diagnosis
from reqhash_check.explain.logparse import UNDERSTOOD
from reqhash_check.explain.run import Explanation
from reqhash_check.report.github import command
from reqhash_check.report.markdown import code, escape

FORMATS = ("text", "json", "markdown", "github")
SCHEMA_VERSION = 1

_RED, _YELLOW, _DIM, _BOLD, _RESET = "\033[31m", "\033[33m", "\033[2m", "\033[1m", "\033[0m"
_LEADING_COMMAND = re.compile(r"^(\s*)::", re.MULTILINE)


@dataclass(frozen=True)
class RenderOptions:
    color: bool = False
    verbose: bool = False
    quiet: bool = False
    tool_version: str = ""


def _guard(text: str) -> str:
    """No output line may start with `::` (a workflow command in GitHub Actions logs)."""
    return _LEADING_COMMAND.sub(r"\1\\:\\:", text)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _label(d: Diagnosis) -> str:
    if d.project and d.version:
        return f"{d.project} {d.version}"
    return d.project or d.requirement


def where(d: Diagnosis) -> str:
    """`file:line` of the requirement when pip said it, else the log's own line."""
    if d.current is not None:
        return f"{d.current.path}:{d.current.line}"
    if d.requirements_file:
        return f"{d.requirements_file}:{d.line}" if d.line else d.requirements_file
    return f"{d.log}:{d.log_line}"


def _replace_target(d: Diagnosis) -> str:
    if d.current is not None:
        span = (
            f"line {d.current.line}"
            if d.current.end_line <= d.current.line
            else f"lines {d.current.line}-{d.current.end_line}"
        )
        return f"{span} of {d.current.path}"
    if d.requirements_file:
        at = f" at line {d.line}" if d.line else ""
        return f"the requirement{at} of {d.requirements_file}"
    return "the requirement"


def fix_heading(d: Diagnosis) -> str | None:
    """What to do with the fix's lines, in words."""
    if not d.fix.lines:
        return None
    if d.fix.place:
        return f"replace {d.fix.place} with:"
    if d.fix.action == "add":
        return f"add to {d.requirements_file or 'the requirements'}:"
    if d.current is None and not d.requirements_file:
        return "write, in place of its line (or added, if the file has none):"
    return f"replace {_replace_target(d)} with:"


def summary_line(explanation: Explanation) -> str:
    counts = Counter(d.cause for d in explanation.diagnoses)
    logs = len(explanation.logs)
    text = f"{_plural(len(explanation.diagnoses), 'failure')} in {_plural(logs, 'log')}"
    if counts:
        text += ": " + ", ".join(f"{n} {cause}" for cause, n in sorted(counts.items()))
    if counts.get(UNPUBLISHED_BYTES):
        text += " (possible tampering: see above)"
    if explanation.unreadable:
        text += f"; {_plural(len(explanation.unreadable), 'input')} could NOT be read"
    return text


# --- text ---------------------------------------------------------------------------------


def _paint(enabled: bool) -> Callable[[str, str], str]:
    def paint(style: str, text: str) -> str:
        return f"{style}{text}{_RESET}" if enabled else text

    return paint


def render_text(explanation: Explanation, options: RenderOptions) -> str:
    paint = _paint(options.color)
    out: list[str] = []
    for d in explanation.diagnoses:
        colour = _YELLOW if not d.diagnosed else _RED
        out.append(f"{paint(_BOLD, where(d))}: {paint(colour, d.cause)} {_label(d)}: {d.message}")
        if options.quiet:
            continue
        if d.kb:
            out.append(paint(_DIM, f"    kb: {d.kb}"))
        if options.verbose:
            if d.url:
                out.append(f"    downloaded: {d.url}")
            out.extend(f"    expected: {value}" for value in d.expected)
            if d.got:
                out.append(f"    got: {d.got}")
            out.append(f"    log: {d.log}:{d.log_line}")
        out.append(f"    fix: {d.fix.summary}")
        heading = fix_heading(d)
        if heading:
            out.append(f"    {heading}")
            out.extend(f"        {line}" for line in d.fix.lines)
        if d.fix.command:
            out.append(f"    or run: {d.fix.command}")
        if d.fix.check:
            out.append(f"    then check: {d.fix.check}")
        out.extend(f"    note: {note}" for note in d.notes)
        out.extend(paint(_DIM, f"    not the fix: {dead}") for dead in d.dead_ends)
        out.append("")
    unread = {line.log for line in explanation.unparsed}
    out.extend(
        f"{name}: pip's failure message could not be read (see the lines not read)"
        if name in unread
        else f"{name}: no hash-checking failure found; explain reads {UNDERSTOOD}"
        for name in explanation.without_failures
    )
    out.extend(
        f"{name}: too many failures; only the first ones were diagnosed"
        for name in explanation.truncated
    )
    if not options.quiet:
        out.extend(
            f"{line.log}:{line.line}: {paint(_YELLOW, 'not read')}: {line.text}"
            for line in explanation.unparsed
        )
    summary = summary_line(explanation)
    out.append(paint(_RED, summary) if explanation.exit_code else summary)
    return _guard("\n".join(out) + "\n")


# --- JSON ---------------------------------------------------------------------------------


def diagnosis_dict(d: Diagnosis) -> dict[str, Any]:
    return {
        "project": d.project,
        "version": d.version,
        "cause": d.cause,
        "requirement": d.requirement,
        "expected": list(d.expected),
        "got": d.got,
        "file": d.file,
        "url": d.url,
        "requirements_file": d.requirements_file,
        "line": d.line,
        "fix": {
            "summary": d.fix.summary,
            "action": d.fix.action,
            "lines": list(d.fix.lines),
            "command": d.fix.command,
            "check": d.fix.check,
            "place": d.fix.place,
        },
        "kb": d.kb,
        "message": d.message,
        "diagnosed": d.diagnosed,
        "security": d.security,
        "host": d.host,
        "target": d.target,
        "dead_ends": list(d.dead_ends),
        "notes": list(d.notes),
        "index": d.index,
        "index_failed": d.index_failed,
        "log": d.log,
        "log_line": d.log_line,
        "installer": d.installer,
        "current": None
        if d.current is None
        else {
            "path": d.current.path,
            "line": d.current.line,
            "end_line": d.current.end_line,
            "pin": d.current.pin,
            "hashes": list(d.current.hashes),
        },
    }


def render_json(explanation: Explanation, options: RenderOptions) -> str:
    counts = Counter(d.cause for d in explanation.diagnoses)
    document = {
        "schema": SCHEMA_VERSION,
        "tool": {"name": "reqhash-check", "version": options.tool_version},
        "index": explanation.index,
        "diagnoses": [diagnosis_dict(d) for d in explanation.diagnoses],
        "unparsed": [{"log": u.log, "line": u.line, "text": u.text} for u in explanation.unparsed],
        "summary": {
            "failures": len(explanation.diagnoses),
            "causes": dict(sorted(counts.items())),
            "logs": list(explanation.logs),
            "unreadable": list(explanation.unreadable),
            "without_failures": list(explanation.without_failures),
            "exit_code": explanation.exit_code,
        },
    }
    return json.dumps(document, indent=2, ensure_ascii=True) + "\n"


# --- Markdown -----------------------------------------------------------------------------


def _fence(lines: tuple[str, ...]) -> list[str]:
    longest = max((len(run) for line in lines for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}text", *lines, fence]


def render_markdown(explanation: Explanation, options: RenderOptions) -> str:
    if any(d.security for d in explanation.diagnoses):
        verdict = "⚠️ possible tampering: pip received bytes the index does not publish"
    elif explanation.diagnoses and explanation.exit_code == 0:
        verdict = "every failure explained"
    else:
        verdict = "some failures could not be explained"
    out = [f"# reqhash-check explain: {verdict}", "", escape(summary_line(explanation)), ""]
    if explanation.diagnoses:
        out += ["| where | project | cause | file |", "| --- | --- | --- | --- |"]
        for d in explanation.diagnoses:
            cells = [code(where(d)), escape(_label(d)), code(d.cause), code(d.file or "")]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    for d in explanation.diagnoses:
        out += [f"## {escape(_label(d))}: {code(d.cause, cell=False)}", ""]
        out += [escape(d.message), ""]
        if d.kb:
            out += [
                f"Knowledge base: {code(d.kb, cell=False)}. "
                + escape(CAUSE_SUMMARIES.get(d.cause, "")),
                "",
            ]
        out += [f"**Fix:** {escape(d.fix.summary)}", ""]
        heading = fix_heading(d)
        if heading:
            out += [escape(heading[0].upper() + heading[1:]), "", *_fence(d.fix.lines), ""]
        if d.fix.command:
            out += [f"Or run {code(d.fix.command, cell=False)}.", ""]
        if d.fix.check:
            out += [f"Then check with {code(d.fix.check, cell=False)}.", ""]
        out += [f"- Note: {escape(note)}" for note in d.notes]
        out += [f"- Not the fix: {escape(dead)}" for dead in d.dead_ends]
        if d.notes or d.dead_ends:
            out.append("")
    if explanation.unparsed:
        out += ["## Lines that could not be read", ""]
        out += [
            f"- {code(f'{u.log}:{u.line}', cell=False)} {code(u.text, cell=False)}"
            for u in explanation.unparsed
        ]
        out.append("")
    if options.tool_version:
        out += [f"<sub>reqhash-check {escape(options.tool_version)}</sub>", ""]
    return _guard("\n".join(out).rstrip("\n") + "\n")


# --- GitHub workflow commands ---------------------------------------------------------------


def render_github(explanation: Explanation, options: RenderOptions) -> str:
    lines = []
    for d in explanation.diagnoses:
        message = d.message
        if d.kb:
            message += f"\nKB: {d.kb}"
        message += f"\nFix: {d.fix.summary}"
        heading = fix_heading(d)
        if heading:
            message += f"\n{heading}\n" + "\n".join(d.fix.lines)
        if d.fix.command:
            message += f"\nOr run: {d.fix.command}"
        if d.fix.check:
            message += f"\nThen check: {d.fix.check}"
        message += "".join(f"\nNote: {note}" for note in d.notes)
        properties: dict[str, str | int | None] = {}
        if d.current is not None:
            properties.update(file=d.current.path, line=d.current.line, endLine=d.current.end_line)
        elif d.requirements_file:
            properties.update(file=d.requirements_file, line=d.line)
        properties["title"] = f"{d.cause} ({d.project})" if d.project else d.cause
        lines.append(command("error" if d.diagnosed else "warning", properties, message))
    lines.extend(command("error", {"title": "explain"}, text) for text in explanation.unreadable)
    if explanation.unparsed:
        lines.append(
            command(
                "warning",
                {"title": "explain"},
                f"{_plural(len(explanation.unparsed), 'line')} of pip's messages could not be read",
            )
        )
    return "".join(line + "\n" for line in lines)


_RENDERERS: dict[str, Callable[[Explanation, RenderOptions], str]] = {
    "text": render_text,
    "json": render_json,
    "markdown": render_markdown,
    "github": render_github,
}


def render(name: str, explanation: Explanation, options: RenderOptions) -> str:
    if name not in _RENDERERS:
        raise ValueError(f"unknown format {name!r}; choose from {', '.join(FORMATS)}")
    return _RENDERERS[name](explanation, options)
