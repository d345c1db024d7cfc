"""Values derived from an environment expansion, and the report without them.

The reader marks, where it expands `${VAR}`, which parts of a requirement derive from the
value (`RequirementEntry.tainted`). Such a value may be used as pip uses it (asked of an
index, compared with what the index publishes) but whatever is said about it is derived
text: a name normalised or cut short, a digest in lower case, a URL percent-encoded. So
nothing the check found on such a line is shown or fixed: the finding keeps its rule, place
and severity, and its text says only what was written. This is by construction, not by
search: the exact-copy scrubber (`scrub.py`) stays as a backstop only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from reqhash_check.findings import Finding, Report, Unverified
from reqhash_check.requirements import RequirementEntry
from reqhash_check.rules import RULES

_VARIABLE = re.compile(r"\$\{[A-Z0-9_]+\}")


@dataclass(frozen=True)
class TaintedLine:
    """A line whose requirement or options come from the environment."""

    written: str
    """The line as written (with `${VAR}`), shortened."""
    variables: tuple[str, ...]
    """The `${NAME}`s expanded in it."""
    requirement: bool
    """The requirement itself (name, version, URL) derives from an expansion."""

    @property
    def shown_name(self) -> str:
        """How the requirement is named: its first word as written."""
        return self.written.split()[0] if self.written.split() else self.written

    @property
    def why(self) -> str:
        names = ", ".join(self.variables) or "an environment variable"
        return (
            f"this line expands {names}, so what was found is not shown (it would carry the "
            f"value) and the line is not fixed automatically; as written: {self.written!r}"
        )


TaintedLines = Mapping[tuple[str, int], TaintedLine]


def tainted_lines(entries: Iterable[RequirementEntry], expanded: Iterable[str]) -> TaintedLines:
    """(path, first line) → the tainted line, for every entry an expansion reached."""
    known = {f"${{{name}}}" for name in expanded}
    lines: dict[tuple[str, int], TaintedLine] = {}
    for entry in entries:
        if not entry.tainted:
            continue
        found = _VARIABLE.findall(entry.written)
        variables = tuple(dict.fromkeys(v for v in found if v in known))
        key = (entry.location.path, entry.location.line)
        lines[key] = TaintedLine(entry.written, variables, entry.name_tainted)
    return lines


def withheld(report: Report, lines: TaintedLines) -> Report:
    """The report with nothing derived from an expansion: findings and unverified
    requirements on a tainted line keep their rule and place, and say only what was
    written."""
    if not lines:
        return report
    return replace(
        report,
        findings=tuple(_finding(f, lines) for f in report.findings),
        unverified=tuple(_unverified(u, lines) for u in report.unverified),
    )


def _finding(finding: Finding, lines: TaintedLines) -> Finding:
    line = lines.get((finding.location.path, finding.location.line))
    if line is None:
        return finding
    rule = RULES.get(finding.rule)
    summary = rule.summary.rstrip(".") if rule is not None else finding.rule
    return replace(
        finding,
        project=line.shown_name if line.requirement else finding.project,
        version=None if line.requirement else finding.version,
        message=f"{summary}: {line.why}",
        hashes=None,
        fix=None,
        detail=(),
    )


def _unverified(item: Unverified, lines: TaintedLines) -> Unverified:
    line = lines.get((item.location.path, item.location.line))
    if line is None:
        return item
    return replace(
        item,
        project=line.shown_name if line.requirement else item.project,
        version=None if line.requirement else item.version,
        reason=f"not verified: {line.why}",
    )
