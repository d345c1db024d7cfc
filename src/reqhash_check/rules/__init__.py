"""The rule registry: every rule, one module each, holding its documentation (`RULE`), its
detection for each input kind it applies to, and the fix it builds.

Importing this package imports every rule module, so the registry
(`reqhash_check.rulebook`) is complete and in the order of `ORDER`: `RULES`,
`checks(scope)`, `detections(rule_id)` and `input_kinds(rule_id)` answer for every rule.
The checkers (`reqhash_check.check`, `reqhash_check.lockfile.check`,
`reqhash_check.verify`) are the loops that call the detections of their scopes.
"""

from __future__ import annotations

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

# Each rule module defines its rule and registers its detections when imported.
from reqhash_check.rules import (  # noqa: F401
    conflicting_pin,
    duplicate,
    fallback_target,
    foreign_hash,
    include_error,
    insecure_index,
    invalid_hash,
    invalid_metadata,
    missing_dependency,
    missing_hash,
    no_installable_file,
    parse_error,
    stale_hash,
    uncovered_target,
    unhashable,
    unknown_project,
    unknown_version,
    unlisted_index,
    unpinned,
    unpublished_bytes,
    unverifiable,
    yanked,
)

ORDER = (
    "stale-hash",
    "unpublished-bytes",
    "foreign-hash",
    "uncovered-target",
    "no-installable-file",
    "fallback-target",
    "missing-hash",
    "unpinned",
    "unhashable",
    "invalid-hash",
    "missing-dependency",
    "invalid-metadata",
    "unknown-project",
    "unknown-version",
    "yanked",
    "duplicate",
    "conflicting-pin",
    "insecure-index",
    "unlisted-index",
    "parse-error",
    "include-error",
    "unverifiable",
)
"""The rules' order in listings, the documentation and SARIF (each rule once)."""

mark_complete(ORDER)

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
        "<!-- Generated from the rule modules in src/reqhash_check/rules/; do not edit by "
        "hand. Regenerate:",
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
