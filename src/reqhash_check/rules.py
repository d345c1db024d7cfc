"""The rule registry: one stable kebab-case ID per kind of finding, its documentation, and
the function that checks it.

Everything a user reads about a rule (`reqhash-check rules`, `--explain RULE`, SARIF help,
`docs/rules.md`) is generated from the `Rule` entries here. Check functions register
themselves with `@implements(rule_id, scope)`; the checker is the loop that calls them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from reqhash_check.findings import KB_HASH_MISMATCH, Severity

E, W = Severity.ERROR, Severity.WARNING


@dataclass(frozen=True)
class Rule:
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
        lines += ["", f"In lock files (pylock.toml): {self.in_lock_files or 'does not apply'}"]
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
            f"**In lock files (`pylock.toml`):** {self.in_lock_files or 'does not apply.'}",
        ]
        if self.kb:
            parts += ["", f"Knowledge-base ID: `{self.kb}`."]
        parts += ["", "Example:", "", "```", self.example.rstrip("\n"), "```"]
        return "\n".join(parts) + "\n"


_DEAD_ENDS = (
    "Deleting the hashes or dropping --require-hashes throws the protection away, and "
    "purging pip's cache changes nothing: a file's hash never changes."
)
_H1 = "--hash=sha256:1111111111111111111111111111111111111111111111111111111111111111"
_H2 = "--hash=sha256:2222222222222222222222222222222222222222222222222222222222222222"

DOCS_URL = "https://pypi.org/project/reqhash-check/"
"""The project's page, where its README (with the rule table) is published."""

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            "stale-hash",
            E,
            "None of a requirement's hashes matches a file the index lists for the pinned version.",
            "fails with 'THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE', "
            "showing the hash it expected and the one it got.",
            "Usually the version was bumped by hand without regenerating the hashes (the "
            "message names the version the hashes belong to). Hashes that match nothing the "
            "index lists come from another index, a private build, a corrupted download or "
            "tampering.",
            "Regenerate the hashes for the pinned version. " + _DEAD_ENDS,
            f"urllib3==2.8.0 \\\n    {_H1}  # urllib3 2.7.0's wheel",
            kb=KB_HASH_MISMATCH,
            needs_index=True,
            fixable="replaces the hash set with the hashes the index publishes for the pin",
            in_lock_files=(
                "An archive's hashes match a file the index publishes, but another one (the "
                "message names it: a Linux wheel entry carrying the macOS wheel's hash); pip "
                "checks each archive only against its own entry's hashes, so the entry fails "
                "wherever a target selects it."
            ),
        ),
        Rule(
            "unpublished-bytes",
            E,
            "With --verify-downloads: the bytes served for the file a target would download "
            "are not the file the index lists (its digest differs from the listed one).",
            "fails with 'THESE PACKAGES DO NOT MATCH THE HASHES FROM THE REQUIREMENTS FILE', "
            "though the requirements file is right.",
            "A corrupted download, a mirror or caching proxy (Artifactory, Nexus, devpi, a "
            "TLS-intercepting middlebox) that lists one file's digest and serves other bytes, "
            "or tampering on the way.",
            "Do not regenerate the hashes: the pin is right and the bytes are not. Retry; "
            "bypass or purge the proxy or mirror; report it to whoever runs it.",
            f"urllib3==2.8.0 \\\n    {_H1}  # the proxy serves other bytes",
            kb=KB_HASH_MISMATCH,
            needs_index=True,
            in_lock_files=(
                "With --verify-downloads: the archive a target selects, fetched from the URL "
                "the lock records, is not the file the index lists under that name."
            ),
        ),
        Rule(
            "foreign-hash",
            W,
            "Some of a requirement's hashes match published files, others match nothing the "
            "index lists for that version.",
            "installs: any one listed hash that matches is enough.",
            "A hash left over from another version, another index or a private build; or a "
            "file that was swapped after the hashes were made. It is an integrity smell: find "
            "out where it came from.",
            "Regenerate the hash set from the index you install from.",
            f"itsdangerous==2.2.0 \\\n    {_H1} \\\n    {_H2}",
            kb=KB_HASH_MISMATCH,
            needs_index=True,
            fixable="replaces the hash set with the hashes the index publishes for the pin",
            in_lock_files=(
                "An archive's hash matches nothing the index publishes for the project; an "
                "error where a checked target selects that archive, a warning elsewhere."
            ),
        ),
        Rule(
            "uncovered-target",
            E,
            "On a target, no file pip could pick there has a listed hash.",
            "fails on that target with 'THESE PACKAGES DO NOT MATCH THE HASHES FROM THE "
            "REQUIREMENTS FILE' (it downloads the best file for the target, whose hash is "
            "not listed).",
            "The hashes were generated on another platform or Python (a Linux-only lock "
            "deployed on macOS, a wheel added for a new Python after the lock was made).",
            "Add the hash of the file the target installs (the finding names it), or "
            "regenerate the hashes for every platform you deploy to.",
            f"numpy==2.1.3 \\\n    {_H1}  # only the manylinux wheel; a macOS target fails",
            kb=KB_HASH_MISMATCH,
            needs_index=True,
            fixable="adds the published hashes of the pinned version",
            in_lock_files=(
                "On a target, the archive pip selects from the lock carries a hash that is not "
                "the file's: pip fails there with the KB error."
            ),
        ),
        Rule(
            "no-installable-file",
            E,
            "On a target, the pinned version publishes no file pip could install at all.",
            "fails with 'Could not find a version that satisfies the requirement' and 'No "
            "matching distribution found'.",
            "No wheel for the target's platform or Python, and no sdist (or --only-binary "
            "excludes it), or Requires-Python excludes the target.",
            "Pin a version that publishes a file for the target, allow the sdist, or drop "
            "the target.",
            "--only-binary :all:\nsome-sdist-only-project==1.0 \\\n    " + _H1,
            needs_index=True,
            in_lock_files=(
                "On a target, pip selects nothing: the lock's or a package's `requires-python` "
                "or `environments` excludes it, or no wheel matches its tags and there is no "
                "sdist. A bound that holds on some patch releases of the target's Python only "
                "is a warning until the target names its patch release."
            ),
        ),
        Rule(
            "fallback-target",
            W,
            "On a target, pip skips the best file (its hash is not listed) and installs a "
            "lesser one, such as the sdist.",
            "installs, but not the file you expect: often it builds the sdist from source.",
            "Only some files' hashes were listed: the wheel's hash is missing while the "
            "sdist's is there.",
            "Add the hash of the file the target should install.",
            f"itsdangerous==2.2.0 \\\n    {_H1}  # the sdist only",
            needs_index=True,
            fixable="adds the skipped file's hash (every published hash, or with "
            "--fix-targets-only those of the files the targets pick)",
            in_lock_files=(
                "The lock lacks the wheel the index publishes for a target, so pip builds the "
                "sdist or takes a lesser wheel there; `--fix` adds the wheel's entry."
            ),
        ),
        Rule(
            "missing-hash",
            E,
            "Hash-checking mode is on and a requirement has no --hash.",
            "fails with 'Hashes are required in --require-hashes mode, but they are missing "
            "from some requirements', listing the --hash lines it would accept.",
            "One --hash anywhere in the file set (or --require-hashes) turns the mode on for "
            "every requirement; a line added by hand lacks its hashes.",
            "Add the hashes of the pinned version.",
            f"requests==2.32.3 \\\n    {_H1}\nblinker==1.9.0",
            fixable="adds the hashes the index publishes for the pin",
            in_lock_files=(
                "An archive without hashes: pip refuses the whole lock before any download "
                "('Invalid pylock file: At least one hash must be provided')."
            ),
        ),
        Rule(
            "unpinned",
            E,
            "Hash-checking mode is on and a requirement is not pinned with == or === to one "
            "version.",
            "pip older than 26.1 fails with 'In --require-hashes mode, all requirements must "
            "have their versions pinned with =='; pip 26.1 and later install whichever "
            "version a listed hash matches (a warning here with --pip-version 26.1+ when the "
            "requirement has hashes).",
            "A range (>=, ~=) or no version at all in a hashed file.",
            "Pin the requirement with == to the version the hashes belong to.",
            f"click>=8.1 \\\n    {_H1}",
        ),
        Rule(
            "unhashable",
            E,
            "Hash-checking mode is on and a requirement is editable, a VCS checkout or a "
            "local folder.",
            "fails: 'The editable requirement … cannot be installed when requiring hashes' or "
            "'Can't verify hashes for these requirements because we don't have a way to hash "
            "version control repositories' / '… file:// URL …'.",
            "Such requirements have no single file whose hash could be checked.",
            "Build a wheel and pin it with its hash, or install it in a separate step "
            "without --require-hashes.",
            f"-e ./mypackage\nrequests==2.32.3 \\\n    {_H1}",
            in_lock_files=(
                "A package locked as a VCS checkout or a directory while the lock's other "
                "archives carry hashes: pip has no file to hash there and refuses it."
            ),
        ),
        Rule(
            "invalid-hash",
            E,
            "A --hash uses an algorithm pip refuses or a digest that cannot be right.",
            "refuses the requirement before downloading anything (only sha256, sha384 and "
            "sha512 are accepted, written in lower case, with a hexadecimal digest of the "
            "algorithm's length).",
            "A typo, a truncated paste, md5/sha1 from an old tool, or an environment "
            "variable that expanded to something else.",
            "Write the full sha256 digest.",
            "six==1.16.0 --hash=md5:d41d8cd98f00b204e9800998ecf8427e",
            in_lock_files=(
                "A hash algorithm `hashlib` does not know, or a digest of the wrong length or "
                "not hexadecimal (pip accepts any algorithm `hashlib` knows in a lock)."
            ),
        ),
        Rule(
            "missing-dependency",
            E,
            "Hash-checking mode is on and a dependency of a pinned requirement (its metadata, "
            "markers evaluated per target, extras honoured) is not pinned in the file set.",
            "fails with 'In --require-hashes mode, all requirements must have their versions "
            "pinned with ==. These do not:' naming the dependency, or, when the requirer "
            "itself pins it with ==, 'Hashes are required in --require-hashes mode, but they "
            "are missing from some requirements' (pip needs every dependency pinned and "
            "hashed).",
            "The file was edited by hand, a new version of a package gained a dependency, or "
            "the file was compiled on another platform (a dependency needed only on Windows). "
            "With a constraints file (-c): a hashed pin there counts from pip 26.1 on, which "
            "takes the dependency's hashes from it; older pips only filter files with it and "
            "still fail.",
            "Pin the dependency with its hashes (pip-compile --generate-hashes and uv do this "
            "for the whole tree), in the requirements file when a pip older than 26.1 "
            "installs.",
            f"tqdm==4.67.1 \\\n    {_H1}  # needs colorama on Windows",
            needs_index=True,
            fixable="adds the newest non-yanked version that satisfies every specifier on it "
            "and installs on every target, hashed, with the requiring edge's marker and a "
            "'# via' comment, at its sorted place; its own missing dependencies too",
            in_lock_files=(
                "A dependency (from the index's metadata, markers and extras per target; else "
                "from the lock's own `dependencies`, as a warning) that the lock does not "
                "install on a target: pip then asks the index for it and fails in hash-checking "
                "mode."
            ),
        ),
        Rule(
            "invalid-metadata",
            E,
            "The pinned version's metadata has a requirement or version that pip 24.1 and "
            "later cannot parse.",
            "pip 24.1 and later say 'Ignoring version … since it has invalid metadata' and "
            "then fail with 'No matching distribution found'; older pips install it. An error "
            "when modelling pip 24.1 or later (the default), else a warning.",
            "Old releases declared dependencies with legacy syntax such as 'pytz (>dev)', "
            "which the packaging library stopped accepting.",
            "Pin a newer release, or use pip older than 24.1 for this install.",
            f"celery==4.4.7 \\\n    {_H1}",
            needs_index=True,
        ),
        Rule(
            "unknown-project",
            E,
            "The index has no such project.",
            "fails with 'No matching distribution found'.",
            "A typo, a renamed project, or a private package looked up on the public index.",
            "Check the project's name and the index URL.",
            f"reqeusts==2.32.3 \\\n    {_H1}",
            needs_index=True,
            in_lock_files=(
                "The project is not published on the index the lock names for it (the package's "
                "`index`, else the index of its file URLs)."
            ),
        ),
        Rule(
            "unknown-version",
            E,
            "The index has no such version of the project.",
            "fails with 'Could not find a version that satisfies the requirement' / 'No "
            "matching distribution found'.",
            "A typo in the version, a release that was deleted, or a version that exists "
            "only on another index.",
            "Pin a version the index publishes.",
            f"gunicorn==99.0.0 \\\n    {_H1}",
            needs_index=True,
            in_lock_files=(
                "The locked version is not published on the index the lock names for it."
            ),
        ),
        Rule(
            "yanked",
            W,
            "The pinned version, or the file pip would pick, is yanked.",
            "installs it with a warning (a yanked file is taken only when pinned with ==).",
            "The maintainers withdrew the release; the finding gives their reason.",
            "Move to a release that is not yanked, unless you need this one.",
            f"requests==2.32.0 \\\n    {_H1}",
            needs_index=True,
            in_lock_files=(
                "A locked file the index marks yanked: a warning (pip installs a locked file "
                "without a word about yanking)."
            ),
        ),
        Rule(
            "duplicate",
            E,
            "The same project is pinned twice with different versions across a file and its "
            "includes.",
            "fails with 'Double requirement given' or a conflict between the two pins.",
            "Two files of a set pin the project, or one was updated and the other was not.",
            "Keep one pin per project across the file set.",
            "-r base.txt  # pins six==1.16.0\nsix==1.15.0",
            in_lock_files=(
                "Two entries of the same name selected on one target: pip refuses the lock "
                "('Multiple packages with the name … are selected')."
            ),
        ),
        Rule(
            "conflicting-pin",
            E,
            "A pinned version (in a requirements or a constraints file, or a lock's package) "
            "is not accepted by something else pip installs on a target: a pinned "
            "requirement's dependency specifier (its metadata, markers evaluated per target, "
            "extras honoured), or a constraint on the same project.",
            "fails before installing anything with 'Cannot install … because these package "
            "versions have conflicting dependencies', 'The conflict is caused by: … depends "
            "on …' and 'ResolutionImpossible'.",
            "One pin was bumped and the other was not, the file was compiled for another "
            "Python or platform, or a constraints file from another project was reused.",
            "Pin a version every requirer accepts (the message names each requirer and its "
            "specifier), or change the requirer's pin; recompile the file set as a whole.",
            "Faker==2.0.3 \\\n    " + _H1 + "  # requires text-unidecode==1.3\n"
            "text-unidecode==1.2 \\\n    " + _H2,
            needs_index=True,
            fixable="changes the pin to the newest non-yanked release that every requirer "
            "accepts and installs on every target, with its hashes (a new version of a "
            "dependency: review it); when no release fits, changes nothing and says which "
            "specifiers clash (pylock.toml: not fixed)",
            in_lock_files=(
                "A locked package's version that another package the lock installs on a "
                "target does not accept (its dependencies, markers applied): pip 26.3 "
                "refuses the lock with ResolutionImpossible. Not fixed automatically: lock "
                "again."
            ),
        ),
        Rule(
            "insecure-index",
            W,
            "An http:// index or find-links location, or --trusted-host, in a file.",
            "installs over a channel anyone on the network path can change: the "
            "knowledge base's man-in-the-middle cause of hash mismatches.",
            "An internal mirror without TLS, or TLS errors worked around.",
            "Use an https:// index and drop --trusted-host.",
            "--index-url http://mirror.internal/simple",
            in_lock_files=("A package's `index` or archive URL uses `http://`."),
        ),
        Rule(
            "unlisted-index",
            E,
            "A file sends pip to an index or find-links host that is not in the allow-list "
            "given with --allow-index.",
            "downloads from that host (it has no allow-list of its own). reqhash-check does "
            "not contact the host.",
            "A pull request that changes where packages come from: the dependency-confusion "
            "and substitution risk a reviewer must see.",
            "Remove the option, or add the host to --allow-index if it is trusted.",
            "--extra-index-url https://packages.example.net/simple",
        ),
        Rule(
            "parse-error",
            E,
            "A line pip cannot parse.",
            "fails before installing anything ('Invalid requirement', 'no such option', …).",
            "A typo, an option the pip you install with does not know (they change between "
            "pip versions), or a line continuation that joins two lines.",
            "Correct the line (see pip's requirements file format).",
            "requests=2.32.3",
            in_lock_files=(
                "The lock is not valid TOML or not a valid PEP 751 lock (pip's own validation "
                "errors), reported at the line."
            ),
        ),
        Rule(
            "include-error",
            E,
            "An -r/-c include that is missing, unreadable, outside the repository, not a "
            "requirements file, or part of a cycle.",
            "fails with 'Could not open requirements file' (or reads what it should not).",
            "A renamed file, a path relative to the wrong folder, or a file that points "
            "outside the checked-out tree.",
            "Point the include at a requirements file in the repository.",
            "-r requirements/base.txt  # no such file",
        ),
        Rule(
            "unverifiable",
            W,
            "A hash or requirement the index could not confirm: a sha384/sha512 hash the "
            "index does not publish, a hash that matches nothing while the index lists some "
            "of the version's files without a sha256 (an md5-only index), or --offline with "
            "nothing cached.",
            "—",
            "The index publishes sha256 digests only, and not always (small private indexes "
            "often list md5 or nothing); offline runs answer from the cache.",
            "Use sha256 hashes, make the index publish sha256 digests, or run again with the "
            "index reachable.",
            "six==1.16.0 --hash=sha512:" + "ab" * 64,
            needs_index=True,
            in_lock_files=(
                "A locked archive whose hash the index cannot confirm: only sha384/sha512 "
                "listed, or the index could not be asked (--offline with a cold cache)."
            ),
        ),
    )
}


def rules_markdown() -> str:
    """docs/rules.md, generated from the registry (a test holds the file to it)."""
    head = [
        "# Rules",
        "",
        "<!-- Generated from src/reqhash_check/rules.py; do not edit by hand. Regenerate:",
        "     python -c 'from reqhash_check.rules import rules_markdown as m; "
        'print(m(), end="")\' > docs/rules.md -->',
        "",
        "Every finding has one of these stable IDs. `reqhash-check rules` lists them and "
        "`reqhash-check rules ID` (or `--explain ID`) prints a rule's section. Silence one on "
        "a requirement's lines with `# reqhash: ignore[ID]`, or for a run with `--ignore ID`.",
        "",
        "| rule | severity | fixed by `--fix` | when |",
        "| --- | --- | --- | --- |",
    ]
    head += [
        f"| [`{r.id}`](#{r.id}) | {r.severity.value} | {'yes' if r.fixable else 'no'} | "
        f"{r.summary} |"
        for r in RULES.values()
    ]
    return "\n".join(head) + "\n\n" + "\n".join(r.markdown() for r in RULES.values())


DOCUMENTED_SCOPES = ("set", "entry", "release", "target")
_CHECKS: list[tuple[str, str, Callable[..., Iterable[Any]]]] = []


def implements(rule_id: str, scope: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the function that checks `rule_id`; `scope` says what it is called with."""
    if rule_id not in RULES:
        raise KeyError(rule_id)
    if scope not in DOCUMENTED_SCOPES:
        raise ValueError(scope)

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        _CHECKS.append((rule_id, scope, function))
        return function

    return register


def checks(scope: str) -> list[tuple[str, Callable[..., Iterable[Any]]]]:
    """(rule ID, function) for every registered check of a scope, in registry order."""
    return [(rid, fn) for rid, sc, fn in _CHECKS if sc == scope]


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
