"""The rule registry, low layer: what a rule is (`Rule`), the rules defined so far
(`RULES`), the scopes detections are called in and the input kinds each scope judges, and
the registration of detections (`@implements(rule_id, scope)`).

Each rule lives in its own module of `reqhash_check.rules`, which defines its `Rule` here
(`define`) and registers its detections; the checkers (requirements files, lock files,
downloads) are the loops that call the detections of their scopes. Importing
`reqhash_check.rules` imports every rule module, so what the registry answers about the
rules (`RULES`, `detections`, `input_kinds`, the documentation) is complete; the rule
modules and contexts import this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from reqhash_check.findings import Severity

E, W = Severity.ERROR, Severity.WARNING


@dataclass(frozen=True)
class Rule:
    """One rule: its ID, severity and documentation."""

    id: str
    severity: Severity
    summary: str
    """One sentence: when the rule fires."""
    pip_does: str
    """What pip does on such a file, with its own words where it has them."""
    why: str
    """Why it happens, in the words of the person who meets it."""
    fix: str
    """What to do instead."""
    example: str
    """A requirements file (or part of one) that triggers the rule."""
    kb: str | None = None
    needs_index: bool = False
    fixable: str | None = None
    """What `--fix` does for it, or None when it cannot be fixed automatically."""
    in_lock_files: str | None = None
    """What the rule means for a PEP 751 lock file, or None when it does not apply there."""
    in_pipfile_lock: str | None = None
    """What differs for a `Pipfile.lock`, or None when it is judged as a requirements file."""

    def applies_to(self) -> tuple[str, ...]:
        """The input kinds the rule has a detection for (keys of INPUT_KINDS)."""
        return input_kinds(self.id)

    def for_inputs(self) -> list[tuple[str, str]]:
        """(input kind, what the rule means there) beyond requirements files, from the
        detections registered for it."""
        kinds = self.applies_to()
        lock = self.in_lock_files if PYLOCK in kinds else None
        pipfile = (self.in_pipfile_lock or _AS_REQUIREMENTS) if PIPFILE_LOCK in kinds else None
        found = [(PYLOCK, lock or "does not apply."), (PIPFILE_LOCK, pipfile or "does not apply.")]
        if REQUIREMENTS not in kinds:
            found.insert(0, (REQUIREMENTS, "does not apply."))
        return found

    def explain(self) -> str:
        """The rule's documentation as plain text (`reqhash-check rules ID`)."""
        lines = [
            f"{self.id} ({self.severity.value}{', needs the index' if self.needs_index else ''})",
            "",
            self.summary,
            "",
            f"What pip does: {self.pip_does}",
            "",
            f"Why: {self.why}",
            "",
            f"Fix: {self.fix}",
        ]
        lines += ["", f"--fix: {self.fixable or 'not fixed automatically'}"]
        lines += [
            "",
            f"Applies to: {', '.join(INPUT_KINDS[k] for k in self.applies_to()) or 'nothing'}",
        ]
        lines += [
            line
            for kind, text in self.for_inputs()
            for line in ("", f"In {INPUT_KINDS[kind]}: {text}")
        ]
        if self.kb:
            lines += ["", f"Knowledge-base ID: {self.kb}"]
        lines += ["", "Example:", ""]
        lines += [f"    {line}" if line else "" for line in self.example.splitlines()]
        return "\n".join(lines) + "\n"

    def markdown(self) -> str:
        """The rule's documentation as a Markdown section (docs/rules.md, SARIF help)."""
        parts = [
            f"## `{self.id}`",
            "",
            f"Default severity: **{self.severity.value}**."
            + (" Needs the index." if self.needs_index else ""),
            "",
            self.summary,
            "",
            f"**What pip does:** {self.pip_does}",
            "",
            f"**Why:** {self.why}",
            "",
            f"**Fix:** {self.fix}",
            "",
            f"**`--fix`:** {self.fixable or 'not fixed automatically'}.",
            "",
            "**Applies to:** "
            + (", ".join(_MD_KINDS[k] for k in self.applies_to()) or "nothing")
            + ".",
        ]
        for kind, text in self.for_inputs():
            parts += ["", f"**In {_MD_KINDS[kind]}:** {text}"]
        if self.kb:
            parts += ["", f"Knowledge-base ID: `{self.kb}`."]
        parts += ["", "Example:", "", "```", self.example.rstrip("\n"), "```"]
        return "\n".join(parts) + "\n"


_AS_REQUIREMENTS = (
    "as in a requirements file: pipenv installs the lock as one (`pip install --no-deps -r`), "
    "and the finding points at the package's lines in the lock."
)
DEAD_ENDS = (
    "Deleting the hashes or dropping --require-hashes throws the protection away, and "
    "purging pip's cache changes nothing: a file's hash never changes."
)
"""What the fix of a hash mismatch is not (rules' `fix` texts end with it)."""
H1 = "--hash=sha256:1111111111111111111111111111111111111111111111111111111111111111"
H2 = "--hash=sha256:2222222222222222222222222222222222222222222222222222222222222222"

DOCS_URL = "https://pypi.org/project/reqhash-check/"
"""The project's page, where its README (with the rule table) is published."""

RULES: dict[str, Rule] = {}
"""Rule ID → its documentation, in the order `reqhash_check.rules` imports the rule modules
(each calls `define`). Complete once `reqhash_check.rules` is imported."""


def define(rule: Rule) -> Rule:
    """Add a rule to the registry (a rule module's `RULE = define(Rule(...))`)."""
    if rule.id in RULES:
        raise ValueError(f"rule {rule.id} is defined twice")
    RULES[rule.id] = rule
    return rule


REQUIREMENTS, PYLOCK, PIPFILE_LOCK = "requirements", "pylock", "pipfile-lock"
INPUT_KINDS: dict[str, str] = {
    REQUIREMENTS: "requirements files",
    PYLOCK: "lock files (pylock.toml)",
    PIPFILE_LOCK: "Pipfile.lock",
}
_MD_KINDS = {
    REQUIREMENTS: "requirements files",
    PYLOCK: "lock files (`pylock.toml`)",
    PIPFILE_LOCK: "`Pipfile.lock`",
}
"""The kinds of input a detection judges, and how the documentation names them. A
`Pipfile.lock` is installed by pipenv as a hashed requirements file (`pipfile.py`), so the
requirements detections judge it."""

SCOPES: dict[str, tuple[str, ...]] = {
    "set": (REQUIREMENTS, PIPFILE_LOCK),
    "entry": (REQUIREMENTS, PIPFILE_LOCK),
    "release": (REQUIREMENTS, PIPFILE_LOCK),
    "target": (REQUIREMENTS, PIPFILE_LOCK),
    "lock-file": (PYLOCK,),
    "lock-package": (PYLOCK,),
    "lock-selection": (PYLOCK,),
    "download": (REQUIREMENTS, PYLOCK, PIPFILE_LOCK),
}
"""Scope → the input kinds its detections judge. What a detection is called with:

* `set`, `entry`, `release`, `target` (`reqhash_check.check`): a requirements file set, one
  requirement, its release on the index, one target it installs on;
* `lock-file`, `lock-package`, `lock-selection` (`reqhash_check.lockfile.check`): a whole
  `pylock.toml`, one of its packages, what pip selects from it on one target;
* `download` (`reqhash_check.verify`, --verify-downloads): one file as a mirror served it.
"""
DOCUMENTED_SCOPES = tuple(SCOPES)
_CHECKS: list[tuple[str, str, Callable[..., Iterable[Any]]]] = []
_COMPLETE: list[bool] = []


def implements(rule_id: str, scope: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the function that checks `rule_id`; `scope` says what it is called with."""
    if rule_id not in RULES:
        raise KeyError(rule_id)
    if scope not in SCOPES:
        raise ValueError(scope)

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        _CHECKS.append((rule_id, scope, function))
        return function

    return register


def checks(scope: str) -> list[tuple[str, Callable[..., Iterable[Any]]]]:
    """(rule ID, function) for every registered check of a scope, in registry order."""
    return [(rid, fn) for rid, sc, fn in _CHECKS if sc == scope]


def mark_complete(order: Sequence[str]) -> None:
    """Every rule module is imported (`reqhash_check.rules` does it): put the rules in
    `order`, which names each rule once."""
    if sorted(order) != sorted(RULES) or len(set(order)) != len(order):
        raise ValueError(f"the order names {sorted(order)}, the rule modules {sorted(RULES)}")
    rules = [RULES[rule_id] for rule_id in order]
    RULES.clear()
    RULES.update((rule.id, rule) for rule in rules)
    _COMPLETE[:] = [True]


def detections(rule_id: str) -> tuple[tuple[str, Callable[..., Iterable[Any]]], ...]:
    """(scope, function) for every detection registered for `rule_id`, in registry order."""
    if rule_id not in RULES:
        raise KeyError(rule_id)
    if not _COMPLETE:
        raise RuntimeError("import reqhash_check.rules: not every detection is registered yet")
    return tuple((sc, fn) for rid, sc, fn in _CHECKS if rid == rule_id)


def input_kinds(rule_id: str) -> tuple[str, ...]:
    """The input kinds (keys of INPUT_KINDS, in that order) `rule_id` has a detection for."""
    kinds = {kind for scope, _ in detections(rule_id) for kind in SCOPES[scope]}
    return tuple(kind for kind in INPUT_KINDS if kind in kinds)


class UnknownRuleError(ValueError):
    pass


def suggest(word: str, choices: Iterable[str]) -> str:
    """ " (did you mean X?)" when a choice is close to `word`, else ""."""
    import difflib  # only for a mistyped rule: its import compiles patterns every run paid for

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.5)
    if not close:
        prefixed = [c for c in choices if c.startswith(word)]
        close = prefixed[:1]
    return f" (did you mean {close[0]}?)" if close else ""


def parse_rule_list(text: str | Iterable[str]) -> frozenset[str]:
    """`a,b , c` → {'a', 'b', 'c'}, refusing IDs that do not exist."""
    items = text.split(",") if isinstance(text, str) else list(text)
    ids = frozenset(item.strip() for item in items if item.strip())
    unknown = sorted(ids - RULES.keys())
    if unknown:
        hint = suggest(unknown[0], RULES)
        raise UnknownRuleError(f"unknown rule ID(s): {', '.join(unknown)}{hint}")
    return ids
