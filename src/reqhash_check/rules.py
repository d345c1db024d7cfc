"""The rule registry: one stable kebab-case ID per kind of finding."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from reqhash_check.findings import KB_HASH_MISMATCH, Severity

DOCS_URL = "https://pypi.org/project/reqhash-check/"


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    summary: str
    pip_does: str
    help: str
    kb: str | None = None
    needs_index: bool = False

    @property
    def help_uri(self) -> str:
        return f"{DOCS_URL}#rule-{self.id}"


def _rule(
    id: str,
    severity: Severity,
    summary: str,
    pip_does: str,
    help: str,
    *,
    kb: str | None = None,
    needs_index: bool = False,
) -> Rule:
    return Rule(id, severity, summary, pip_does, help, kb, needs_index)


E, W = Severity.ERROR, Severity.WARNING

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        _rule(
            "stale-hash",
            E,
            "None of the requirement's hashes matches a file the index publishes for the pin.",
            "fails with THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE",
            "Regenerate the hashes for the pinned version (reqhash-check --fix). Do not delete "
            "the hashes, drop --require-hashes or purge pip's cache: a file's hash is fixed.",
            kb=KB_HASH_MISMATCH,
            needs_index=True,
        ),
        _rule(
            "foreign-hash",
            W,
            "Some hashes match published files, others match nothing the index publishes.",
            "installs; the unknown hashes are an integrity smell",
            "Find out where the unknown hashes came from, then regenerate the hash set.",
            kb=KB_HASH_MISMATCH,
            needs_index=True,
        ),
        _rule(
            "uncovered-target",
            E,
            "On a target, no file pip could pick has a listed hash.",
            "fails on that target with THESE PACKAGES DO NOT MATCH THE HASHES",
            "Add the hashes of the files that target installs (reqhash-check --fix).",
            kb=KB_HASH_MISMATCH,
            needs_index=True,
        ),
        _rule(
            "no-installable-file",
            E,
            "On a target, the pinned version publishes no file pip could install.",
            "fails with Could not find a version that satisfies the requirement",
            "Pin a version that publishes a file for the target, or allow the sdist.",
            needs_index=True,
        ),
        _rule(
            "fallback-target",
            W,
            "On a target, pip would skip the best file (unhashed) and install a lesser one.",
            "installs a different file than expected, for example builds the sdist",
            "Add the hash of the file the target should install (reqhash-check --fix).",
            needs_index=True,
        ),
        _rule(
            "missing-hash",
            E,
            "Hash-checking mode is on and the requirement has no --hash.",
            "fails with Hashes are required in --require-hashes mode, but they are missing "
            "from some requirements",
            "Add the published hashes (reqhash-check --fix).",
        ),
        _rule(
            "unpinned",
            E,
            "Hash-checking mode is on and the requirement is not pinned to one version.",
            "pip < 26.1 fails with In --require-hashes mode, all requirements must have their "
            "versions pinned with ==",
            "Pin the requirement with == to the version the hashes belong to.",
        ),
        _rule(
            "unhashable",
            E,
            "Hash-checking mode is on and the requirement is editable, VCS or a local folder.",
            "fails: such requirements cannot be hash-checked",
            "Install it separately without hash-checking, or build a wheel and pin its hash.",
        ),
        _rule(
            "invalid-hash",
            E,
            "A --hash uses an algorithm pip refuses or a digest that cannot be right.",
            "refuses the requirement before any download",
            "Use sha256 (or sha384/sha512) with the full hexadecimal digest.",
        ),
        _rule(
            "missing-dependency",
            E,
            "Hash-checking mode is on and a dependency of a pinned requirement is not pinned.",
            "fails with Hashes are required in --require-hashes mode, but they are missing "
            "from some requirements",
            "Pin the dependency with its hashes (pip-compile --generate-hashes does this).",
            needs_index=True,
        ),
        _rule(
            "unknown-project",
            E,
            "The index has no such project.",
            "fails with No matching distribution found",
            "Check the project's name and the index URL.",
            needs_index=True,
        ),
        _rule(
            "unknown-version",
            E,
            "The index has no such version of the project.",
            "fails with No matching distribution found",
            "Pin a version the index publishes.",
            needs_index=True,
        ),
        _rule(
            "yanked",
            W,
            "The pinned version (or the file pip would pick) is yanked.",
            "installs with a warning",
            "Move to a version that is not yanked, unless you need this one.",
            needs_index=True,
        ),
        _rule(
            "duplicate",
            E,
            "The same project is pinned twice with different versions.",
            "fails with Double requirement given",
            "Keep one pin per project across a file and its includes.",
        ),
        _rule(
            "insecure-index",
            W,
            "An http:// index or a --trusted-host: downloads can be tampered with in transit.",
            "installs over an unauthenticated channel",
            "Use an https:// index and drop --trusted-host.",
        ),
        _rule(
            "parse-error",
            E,
            "A line pip cannot parse.",
            "fails with Invalid requirement",
            "Correct the line (see pip's requirements file format).",
        ),
        _rule(
            "include-error",
            E,
            "An -r/-c include that is missing, unreadable or part of a cycle.",
            "fails with Could not open requirements file",
            "Point the include at an existing file and break any cycle.",
        ),
        _rule(
            "unverifiable",
            W,
            "A hash or requirement the index could not confirm without more than it offers.",
            "-",
            "Use sha256 hashes, or run again with the index reachable.",
            needs_index=True,
        ),
    )
}


class UnknownRuleError(ValueError):
    pass


def parse_rule_list(text: str | Iterable[str]) -> frozenset[str]:
    """`a,b , c` → {'a', 'b', 'c'}, refusing IDs that do not exist."""
    items = text.split(",") if isinstance(text, str) else list(text)
    ids = frozenset(item.strip() for item in items if item.strip())
    unknown = sorted(ids - RULES.keys())
    if unknown:
        raise UnknownRuleError(f"unknown rule ID(s): {', '.join(unknown)}")
    return ids
