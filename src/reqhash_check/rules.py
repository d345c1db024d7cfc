"""The rule registry, complete: the rules (`reqhash_check.rulebook`) with every detection
module imported, so each rule knows the input kinds it has detections for.

Import the rules from here to document them (`reqhash-check rules`, SARIF help,
`docs/rules.md`); detections import `reqhash_check.rulebook`, which they register in.
"""

from __future__ import annotations

# The detection modules register their functions when imported.
import reqhash_check.check  # noqa: F401 - requirements files (and Pipfile.lock)
import reqhash_check.lockfile.detections  # noqa: F401 - pylock.toml
from reqhash_check.rulebook import (
    DOCS_URL,
    DOCUMENTED_SCOPES,
    INPUT_KINDS,
    PIPFILE_LOCK,
    PYLOCK,
    REQUIREMENTS,
    RULES,
    SCOPES,
    Rule,
    UnknownRuleError,
    checks,
    detections,
    implements,
    input_kinds,
    mark_complete,
    parse_rule_list,
    suggest,
)

mark_complete()

__all__ = [
    "DOCS_URL",
    "DOCUMENTED_SCOPES",
    "INPUT_KINDS",
    "LOCK_RULES_END",
    "LOCK_RULES_START",
    "PIPFILE_LOCK",
    "PYLOCK",
    "REQUIREMENTS",
    "RULES",
    "SCOPES",
    "Rule",
    "UnknownRuleError",
    "checks",
    "detections",
    "implements",
    "input_kinds",
    "lock_rules_markdown",
    "parse_rule_list",
    "rules_markdown",
    "suggest",
]


def rules_markdown() -> str:
    """docs/rules.md, generated from the registry (a test holds the file to it)."""
    head = [
        "# Rules",
        "",
        "<!-- Generated from src/reqhash_check/rulebook.py and the registered detections; do "
        "not edit by hand. Regenerate:",
        "     python -c 'from reqhash_check.rules import rules_markdown as m; "
        'print(m(), end="")\' > docs/rules.md -->',
        "",
        "Every finding has one of these stable IDs. `reqhash-check rules` lists them and "
        "`reqhash-check rules ID` (or `--explain ID`) prints a rule's section. Silence one on "
        "a requirement's lines with `# reqhash: ignore[ID]`, or for a run with `--ignore ID`.",
        "",
        "| rule | severity | fixed by `--fix` | applies to | when |",
        "| --- | --- | --- | --- | --- |",
    ]
    head += [
        f"| [`{r.id}`](#{r.id}) | {r.severity.value} | {'yes' if r.fixable else 'no'} | "
        f"{_short_kinds(r)} | {r.summary} |"
        for r in RULES.values()
    ]
    return "\n".join(head) + "\n\n" + "\n".join(r.markdown() for r in RULES.values())


_SHORT = {REQUIREMENTS: "requirements", PYLOCK: "`pylock.toml`", PIPFILE_LOCK: "`Pipfile.lock`"}


def _short_kinds(rule: Rule) -> str:
    return ", ".join(_SHORT[kind] for kind in input_kinds(rule.id))


LOCK_RULES_START = "<!-- lock rules: generated from the registry -->"
LOCK_RULES_END = "<!-- end of lock rules -->"


def lock_rules_markdown() -> str:
    """The rule list of docs/lockfiles.md: each rule with a `pylock.toml` detection and
    what it means there (a test holds the file to it)."""
    lines = [
        LOCK_RULES_START,
        "",
        "| rule | severity | in a `pylock.toml` |",
        "| --- | --- | --- |",
    ]
    lines += [
        f"| [`{r.id}`](rules.md#{r.id}) | {r.severity.value} | {r.in_lock_files} |"
        for r in RULES.values()
        if PYLOCK in input_kinds(r.id)
    ]
    return "\n".join([*lines, "", LOCK_RULES_END]) + "\n"
