"""Every rule's cases, as data, through the real command line.

tests/rules/<rule-id>/ holds the cases of one rule, for each kind of input it applies to:

    <case>.txt               a requirements file (other .txt files beside it without an
                             .expected are its -r/-c includes)
    pylock.<case>.toml       a PEP 751 lock file
    <case>.Pipfile.lock      a Pipfile.lock (checked as `Pipfile.lock`, the only name it has)
    <stem>.expected          the findings: one `[FILE:]LINE RULE SEVERITY [suppressed]` a
                             line (FILE defaults to the case's file); empty: no finding at all;
                             `exit N` when the exit code is not the one the findings imply
    <stem>.args              extra command-line options (shell words; `#` starts a comment)
    <stem>.xfail             the reason a case fails today: a bug the case shows, run as
                             xfail(strict=True) so fixing the bug turns it into a failure
                             until the file is removed
    index.toml               what the loopback index serves for the folder's cases

<stem> is the case's file name without `.txt`, `.toml` or `.lock`. Each case runs in a fresh
copy of its folder (a repository of its own) as `reqhash-check --format json --isolated
--target linux-x86_64-glibc2.28-cp312 --index-url <loopback index> [args] FILE`; the
target and the index are left out when the case's args name their own. The findings
(file, line, rule, severity, suppressed) must be exactly the expected ones, and the exit
code the one they imply (1 when an error is not suppressed, else 0).

index.toml lists files as `[[file]]` tables: `project`, `version`, `tags` (a wheel's
compressed tag set, or "sdist"), and optionally `requires` (Requires-Dist lines, written as
given), `requires_python`, `yanked` (true or the reason) and `served` (bytes the file's URL
answers with instead of the file the index lists). Each file is a tiny real wheel or sdist.
In every case file, `{index}` is the index's simple URL, `{files}` the folder its files are
served from (for a file it does not serve), `{url:FILENAME}` a served file's URL and
`{sha256:FILENAME}` the digest the index lists for it.

A new rule in the registry needs its folder: the coverage tests below ask for a case where
it fires for each kind of input it applies to (requirements; pylock.toml when
`in_lock_files` is set; Pipfile.lock unless listed as unable to fire there), and one where
it stays silent. Cases with `--offline` (and `--ignore unverifiable`: a cold cache confirms
nothing) are for rules that need no index.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from reqhash_check.cli import main
from reqhash_check.rules import RULES
from tests.fakeindex import FakeFile, FakeIndex
from tests.wheelfactory import build_sdist, build_wheel

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib  # type: ignore[import-not-found, unused-ignore]

HERE = Path(__file__).parent
LINUX = "linux-x86_64-glibc2.28-cp312"
KINDS = ("requirements", "pylock", "pipfile")

REQUIREMENTS_DO_NOT_APPLY: dict[str, str] = {}
"""Rules that only lock files can raise, with the reason (none today)."""

PIPFILE_CANNOT_FIRE: dict[str, str] = {
    "include-error": (
        "pipfile.py writes one requirement line per package and the lock's sources as "
        "--index-url / --extra-index-url / --trusted-host; every value it copies from the "
        "lock is one word that may not start with '-' (_is_word, _words), so the text it "
        "hands pip never holds -r or -c."
    ),
}
"""Rules that cannot fire on a Pipfile.lock, and why (see src/reqhash_check/pipfile.py)."""


# ------------------------------------------------------------------------------ the cases


def kind_of(path: Path) -> str | None:
    name = path.name
    if name.endswith(".Pipfile.lock"):
        return "pipfile"
    if name.startswith("pylock.") and name.endswith(".toml"):
        return "pylock"
    if name.endswith(".txt"):
        return "requirements"
    return None


def stem_of(path: Path) -> str:
    for suffix in (".txt", ".toml", ".lock"):
        if path.name.endswith(suffix):
            return path.name[: -len(suffix)]
    raise ValueError(path)


@dataclass(frozen=True)
class Case:
    path: Path
    kind: str

    @property
    def rule(self) -> str:
        return self.path.parent.name

    @property
    def expected_file(self) -> Path:
        return self.path.with_name(stem_of(self.path) + ".expected")

    @property
    def args_file(self) -> Path:
        return self.path.with_name(stem_of(self.path) + ".args")

    @property
    def checked_name(self) -> str:
        return "Pipfile.lock" if self.kind == "pipfile" else self.path.name

    def expected(self) -> list[tuple[str, int, str, str, bool]]:
        rows = []
        for raw in self.expected_file.read_text().splitlines():
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("exit "):
                continue
            where, rule, severity, *mark = line.split()
            name, _, number = where.rpartition(":")
            assert mark in ([], ["suppressed"]), raw
            rows.append((name or self.checked_name, int(number), rule, severity, bool(mark)))
        return sorted(rows)

    def exit_code(self) -> int:
        """`exit N` from the expected file, else 1 when an error is not suppressed (or a
        warning, with --strict), else 0."""
        for raw in self.expected_file.read_text().splitlines():
            if raw.startswith("exit "):
                return int(raw.split()[1])
        strict = "--strict" in self.args()
        failing = any(
            not suppressed and (severity == "error" or strict)
            for *_, severity, suppressed in self.expected()
        )
        return 1 if failing else 0

    def args(self) -> list[str]:
        if not self.args_file.exists():
            return []
        return shlex.split(self.args_file.read_text(), comments=True)

    def __str__(self) -> str:
        return f"{self.rule}/{self.path.name}"


def all_cases() -> list[Case]:
    found = []
    for path in sorted(HERE.glob("*/*")):
        kind = kind_of(path)
        if kind is not None and path.with_name(stem_of(path) + ".expected").exists():
            found.append(Case(path, kind))
    return found


CASES = all_cases()


# ------------------------------------------------------------------------------ the index


def serve(folder: Path, index: FakeIndex) -> dict[str, FakeFile]:
    """Publish the folder's index.toml on `index`; the served files by name."""
    served: dict[str, FakeFile] = {}
    declared = folder / "index.toml"
    if not declared.exists():
        return served
    for item in tomllib.loads(declared.read_text())["file"]:
        project, version, tags = item["project"], item["version"], item["tags"]
        requires = list(item.get("requires", []))
        requires_python = item.get("requires_python")
        built = (
            build_sdist(project, version, requires, requires_python)
            if tags == "sdist"
            else build_wheel(project, version, tags, requires, requires_python)
        )
        file = FakeFile(
            built.filename,
            content=built.content,
            metadata=built.metadata,
            requires_python=requires_python,
            yanked=item.get("yanked", False),
        )
        index.add(project, version, file, requires_dist=requires)
        if "served" in item:
            body = item["served"].encode()
            index.fail(
                f"/files/{built.filename}", 200, body=body, content_type="application/octet-stream"
            )
        served[built.filename] = file
    return served


_PLACEHOLDER = re.compile(r"\{(index|files|url:[^}\s]+|sha256:[^}\s]+)\}")


def substitute(text: str, index: FakeIndex, served: dict[str, FakeFile]) -> str:
    def value(match: re.Match[str]) -> str:
        word = match.group(1)
        if word == "index":
            return index.simple_url
        if word == "files":
            return f"{index.url}/files"
        what, _, name = word.partition(":")
        if name not in served:
            raise AssertionError(f"{{{word}}} names a file the case's index.toml does not serve")
        return f"{index.url}/files/{name}" if what == "url" else served[name].digest

    return _PLACEHOLDER.sub(value, text)


@pytest.fixture
def index() -> Iterator[FakeIndex]:
    world = FakeIndex().start()
    try:
        yield world
    finally:
        world.close()


# ------------------------------------------------------------------------------ running


def run_case(
    case: Case,
    index: FakeIndex,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, list[dict[str, Any]]]:
    served = serve(case.path.parent, index)
    repo = tmp_path / "repo"
    shutil.copytree(case.path.parent, repo, ignore=shutil.ignore_patterns("__pycache__"))
    (repo / ".git").mkdir()
    for path in repo.rglob("*"):
        if path.is_file() and kind_of(path) is not None:
            path.write_text(substitute(path.read_text(), index, served))
    if case.kind == "pipfile":
        (repo / case.path.name).rename(repo / "Pipfile.lock")
    monkeypatch.chdir(repo)
    monkeypatch.setenv("REQHASH_CHECK_CACHE_DIR", str(tmp_path / "cache"))
    args = [substitute(word, index, served) for word in case.args()]
    argv = ["--isolated", "--format", "json"]
    if "--offline" not in args:
        argv.append("--no-cache")
    if not {"--target", "--python-version", "--platform"} & set(args):
        argv += ["--target", LINUX]
    if not {"--index-url", "-i", "--no-index"} & set(args):
        argv += ["--index-url", index.simple_url]
    code = main([*argv, *args, case.checked_name])
    out, err = capsys.readouterr()
    assert out.startswith("{"), f"exit {code}, no report: {err}"
    return code, json.loads(out)["findings"]


def with_marks(case: Case) -> Any:
    reason = case.path.with_name(stem_of(case.path) + ".xfail")
    if not reason.exists():
        return case
    mark = pytest.mark.xfail(strict=True, reason=reason.read_text().strip())
    return pytest.param(case, marks=mark, id=str(case))


@pytest.mark.parametrize("case", [with_marks(c) for c in CASES], ids=str)
def test_rule_case(
    case: Case,
    index: FakeIndex,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, findings = run_case(case, index, tmp_path, monkeypatch, capsys)
    got = sorted(
        (f["path"], f["line"], f["rule"], f["severity"], f["suppressed"]) for f in findings
    )
    expected = case.expected()
    assert got == expected, "\n".join(
        [f"missing: {row}" for row in expected if row not in got]
        + [f"extra:   {row}" for row in got if row not in expected]
    )
    assert code == case.exit_code()


# ------------------------------------------------------------------------------ coverage


def applies(rule_id: str) -> tuple[str, ...]:
    """The input kinds a rule must have a case for."""
    rule = RULES[rule_id]
    kinds = []
    if rule_id not in REQUIREMENTS_DO_NOT_APPLY:
        kinds.append("requirements")
    if rule.in_lock_files is not None:
        kinds.append("pylock")
    if rule_id not in PIPFILE_CANNOT_FIRE and rule_id not in REQUIREMENTS_DO_NOT_APPLY:
        # A Pipfile.lock is read into requirements text: the requirements rules apply.
        kinds.append("pipfile")
    return tuple(kinds)


def fires(case: Case) -> bool:
    """The case's rule is among its expected findings, not suppressed. A case run as xfail
    counts too: it expects the rule at the right place and fails today (see its reason)."""
    return any(rule == case.rule and not mark for _, _, rule, _, mark in case.expected())


@pytest.mark.parametrize("rule_id", list(RULES))
def test_every_rule_has_a_firing_case_for_each_input_it_applies_to(rule_id: str) -> None:
    folder = HERE / rule_id
    assert folder.is_dir(), f"tests/rules/{rule_id}/ is missing"
    cases = [c for c in CASES if c.rule == rule_id]
    assert any(fires(c) for c in cases), f"{rule_id}: no case where the rule fires"
    for kind in applies(rule_id):
        assert any(fires(c) for c in cases if c.kind == kind), (
            f"{rule_id}: no {kind} case where the rule fires (a rule that cannot fire on "
            "that kind of input goes in REQUIREMENTS_DO_NOT_APPLY or PIPFILE_CANNOT_FIRE, "
            "with the reason)"
        )
    # And one where it does not: a rule that fired on everything would pass the others.
    assert any(not fires(c) for c in cases), f"{rule_id}: no case where the rule stays silent"


def test_the_mappings_and_folders_name_rules() -> None:
    assert set(PIPFILE_CANNOT_FIRE) <= set(RULES)
    assert set(REQUIREMENTS_DO_NOT_APPLY) <= set(RULES)
    folders = {p.name for p in HERE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders <= set(RULES), f"folders that are no rule: {sorted(folders - set(RULES))}"


def test_every_data_file_belongs_to_a_case() -> None:
    """An .expected or .args without its input (a typo in a name) would silently test nothing."""
    stems = {(c.path.parent, stem_of(c.path)) for c in CASES}
    for path in HERE.glob("*/*"):
        if path.suffix in (".expected", ".args", ".xfail"):
            assert (path.parent, path.name.rsplit(".", 1)[0]) in stems, path
