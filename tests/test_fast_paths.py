"""The warm run's shortcuts give exactly what the exact paths they skip give."""

from __future__ import annotations

import itertools
import random
import re
from pathlib import Path

import pytest

from reqhash_check import targets
from reqhash_check.index import stored
from reqhash_check.requirements import lines as lines_module
from reqhash_check.requirements import options, pep508
from reqhash_check.targets import Target


def _exact_clause(grammar: pep508.Grammar, text: str) -> bool:
    core = text.strip()
    patterns = (pep508._clause_re(grammar),) + ((pep508._LEGACY_RE,) if grammar.legacy else ())
    return any(pattern.fullmatch(core) for pattern in patterns)


_GRAMMARS = [pep508.grammar_for(v) for v in ((21, 3), (24, 1), (25, 0), (26, 2), (26, 3))]
_OPERATORS = ("==", "!=", "<=", ">=", "<", ">", "~=", "===", "=", "")
_RELEASES = ("1", "1.2", "1.2.3", "2026.10.19", "0", "01.2", "1.", ".1", "v1.2", "1!2.0", "1.*")
_LABELS = (
    "",
    "a1",
    "b2",
    "rc3",
    "c1",
    "alpha1",
    "a",
    ".post1",
    "post1",
    "-1",
    ".dev0",
    "dev0",
    "a1.post2",
    "rc1.dev3",
    "b1.post0.dev1",
    ".post1.dev2",
    "+local",
    "A1",
    ".POST1",
    "ä1",
)
_SPACES = ("", " ", "\t", "  ", "\n", "\u00a0")


def _clauses() -> list[str]:
    made = [
        f"{operator}{space}{release}{label}"
        for operator, space, release, label in itertools.product(
            _OPERATORS, _SPACES, _RELEASES, _LABELS
        )
    ]
    rng = random.Random(22)
    alphabet = "0123456789.abcdeprostv!+-_*=<>~ \t"
    made += ["".join(rng.choices(alphabet, k=rng.randint(1, 16))) for _ in range(3000)]
    return made


@pytest.mark.parametrize("grammar", _GRAMMARS)
def test_common_clauses_are_clauses_for_every_grammar(grammar: pep508.Grammar) -> None:
    taken = 0
    for clause in _clauses():
        if pep508._COMMON_CLAUSE_RE.fullmatch(clause.strip()):
            taken += 1
            assert _exact_clause(grammar, clause), clause
        assert pep508._full_clause(grammar, clause) == _exact_clause(grammar, clause), clause
    assert taken > 500  # the shortcut is taken for the usual clauses


def _exact_clause_at(grammar: pep508.Grammar, source: str, at: int) -> str | None:
    """What the parsers take at `at` without the shortcut."""
    if not grammar.legacy:
        match = pep508._clause_re(grammar).match(source, at)
        return None if match is None else match.group(0)
    best: tuple[int, str] | None = None
    for pattern in (pep508._clause_re(grammar), pep508._LEGACY_RE):
        found = pattern.match(source, at)
        if found and (best is None or found.end() > best[0]):
            best = (found.end(), found.group(0))
    return None if best is None else best[1]


_TAILS = (
    "",
    " ",
    ",",
    ";",
    ")",
    "\t",
    "\n",
    "\r",
    ", <3",
    "; python_version",
    ".",
    "-1",
    "+x",
    ".*",
    "x",
    "a",
    "_1",
    "\u00a0",
    "\x0b",
    "]",
    "(",
    "!",
)


@pytest.mark.parametrize("grammar", _GRAMMARS)
def test_common_clauses_are_taken_as_the_clause_patterns_take_them(
    grammar: pep508.Grammar,
) -> None:
    taken = 0
    rng = random.Random(23)
    for clause in _clauses():
        for tail in rng.sample(_TAILS, 6):
            for prefix in ("", "x "):
                source = prefix + clause + tail
                common = pep508._common_clause(source, len(prefix))
                if common is not None:
                    taken += 1
                    assert common == _exact_clause_at(grammar, source, len(prefix)), source
    assert taken > 1000


@pytest.mark.parametrize(
    "text",
    [
        "name==1.0",
        "name (>=1.0rc1, <2)",
        "name>=1.0.post1,<2.0.dev3",
        "name==1.0a1x",
        "name==1.0.a1",
        "name==1.0-1",
        "name~=1.4.post0",
        "name~=1",
        "name===1.0",
        "name[extra]>=2.0; python_version < '3.11'",
        "name >= 1.0 , < 2",
        "name==1.0+local",
        "name==1.*",
        "name>1.0)",
        "name (==1.0",
    ],
)
@pytest.mark.parametrize("version", [(21, 3), (24, 1), (26, 3)])
def test_requirements_read_as_without_the_shortcut(
    monkeypatch: pytest.MonkeyPatch, text: str, version: tuple[int, int]
) -> None:
    grammar = pep508.grammar_for(version)

    def read() -> object:
        pep508.parse_requirement.cache_clear()
        try:
            return pep508.parse_requirement(text, grammar)
        except pep508.InvalidRequirement as exc:
            return ("refused", str(exc))

    fast = read()
    monkeypatch.setattr(pep508, "_common_clause", lambda source, at: None)
    monkeypatch.setattr(pep508, "_COMMON_CLAUSE_RE", pep508.re.compile(r"(?!)"))
    assert read() == fast


def _applicable_by_tags(target: Target, filename: str) -> bool:
    """The wheel test as it reads every name's tags (the exact path)."""
    tags = targets._tags_only(filename)
    return tags is not None and any(tag in target.priority for tag in tags)


_WHEEL_NAMES = [
    "pkg-1.0-py3-none-any.whl",
    "pkg-1.0-1-py3-none-any.whl",
    "pkg-1.0-cp314-cp314-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "pkg-1.0-cp314-cp314-MANYLINUX_2_17_X86_64.whl",
    "pkg-1.0-cp311-cp311-manylinux_2_28_aarch64.whl",
    "pkg-1.0-cp311-cp311-win_amd64.whl",
    "pkg-1.0-cp311-cp311-macosx_11_0_arm64.whl",
    "pkg-1.0-cp311-abi3-macosx_10_9_universal2.whl",
    "pkg-1.0-py2.py3-none-any.whl",
    "pkg-1.0-py3-none-any..whl",
    "pkg-1.0-py3-none-.any.whl",
    "pkg-1.0-py3--any.whl",
    "pkg-1.0-3py-none-any.whl",
    "pkg-1.0-any.whl",
    "pkg-1.0-py3-none-any-x-y.whl",
    "pkg-py3-none-any.whl",
    "pkg-1.0-py3-none-linux_x86_64.whl",
    "pkg-1.0-cp314-cp314t-musllinux_1_2_x86_64.whl",
    "pkg-1.0-cp39-abi3-manylinux1_x86_64.whl",
    "pkg-1.0-py3-none-ANY.whl",
    "pkg-1.0-py3-none-İany.whl",
]


def _real_wheel_names() -> list[str]:
    """The wheel names of the recorded index answers (numpy's: every platform there is)."""
    names: set[str] = set()
    for path in sorted((Path(__file__).parent / "data").rglob("*")):
        if path.is_file() and path.suffix in (".json", ".html", ".txt"):
            text = path.read_text(encoding="utf-8", errors="replace")
            names.update(re.findall(r"[A-Za-z0-9_.+!-]+\.whl", text))
    return sorted(names)


@pytest.mark.parametrize(
    "target_name",
    [*targets.EXAMPLE_TARGETS, "linux-x86_64-glibc2.17-cp314", "linux-i686-glibc2.5-cp39"],
)
def test_wheels_for_other_platforms_are_refused_as_their_tags_refuse_them(
    target_name: str,
) -> None:
    target = targets.parse_target_name(target_name)
    names = _WHEEL_NAMES + _real_wheel_names()
    ranker = targets._Ranker(target, "pkg", targets.BinaryPolicy())
    listed = 0
    for name in names:
        if ranker._platform_listed(name):
            listed += 1
        else:
            assert not _applicable_by_tags(target, name), name
    assert 0 < listed < len(names)


def test_words_split_without_the_pattern_are_the_patterns_words() -> None:
    rng = random.Random(24)
    alphabet = "ab-=: \t\r\n#"
    for _ in range(5000):
        text = "".join(rng.choices(alphabet, k=rng.randint(0, 24)))
        assert options.shell_split(text) == [w for w in options._SHELL_SPACE.split(text) if w]


def _joined_exactly(lines: list[str]) -> list[tuple[int, int, str]]:
    """pip's join_lines with the comment pattern tried on every line (the exact path)."""
    found, parts, first = [], [], 0
    for index, line in enumerate(lines):
        if line.endswith("\\") and not lines_module.COMMENT_RE.match(line):
            if not parts:
                first = index
            parts.append(line.strip("\\"))
            continue
        if lines_module.COMMENT_RE.match(line):
            line = " " + line
        if parts:
            parts.append(line)
            found.append((first, index, "".join(parts)))
            parts = []
        else:
            found.append((index, index, line))
    if parts:
        found.append((first, len(lines) - 1, "".join(parts)))
    return found


def test_lines_are_joined_as_when_every_line_is_matched() -> None:
    rng = random.Random(25)
    pieces = ["a==1", " ", "\t", "#", " #", "# x", "\\", "--hash=sha256:00", "x#y", "\u00a0#"]
    for _ in range(3000):
        physical = ["".join(rng.choices(pieces, k=rng.randint(0, 4))) for _ in range(6)]
        assert list(lines_module._joined(physical)) == _joined_exactly(physical), physical


class _Text(str):
    """A string that is not exactly a str (JSON never gives one; the checks still take it)."""


def _stored_variants() -> list[object]:
    base = {
        "filename": "demo-1.0-py3-none-any.whl",
        "version": "1.0",
        "url": "https://files.example/demo-1.0-py3-none-any.whl",
        "hashes": {"sha256": "a" * 64},
        "requires_python": ">=3.8",
        "yanked": False,
        "yanked_reason": None,
        "size": 123,
        "upload_time": "2025-06-03T06:55:30.804163Z",
    }
    odd: list[object] = [1, None, "x", [], base | {"extra": 1}, {}]
    values: list[object] = [None, 1, 1.5, True, "", "x", _Text("t"), [], {}, {"sha256": "A" * 64}]
    for key in base:
        odd.append({k: v for k, v in base.items() if k != key})
        odd += [base | {key: value} for value in values]
    odd += [base | {"url": url} for url in ("ftp://x/y.whl", "file:/x.whl", "HTTPS://x", "/x")]
    odd += [base | {"hashes": h} for h in ({"sha256": "a" * 63}, {"md5": "a" * 32}, {})]
    odd += [base | {"size": s} for s in (-1, 2**53, 2**53 - 1, True)]
    odd += [
        base | {"yanked": y, "yanked_reason": r} for y in (True, 1, "", "y") for r in (None, "why")
    ]
    return [base, *odd]


def _outcome(read: object, data: object) -> object:
    try:
        return read(data)  # type: ignore[operator]
    except stored.BadAnswer:
        return "refused"


def test_stored_files_are_read_as_every_check_reads_them() -> None:
    for data in _stored_variants():
        assert _outcome(stored.file_from_json, data) == _outcome(
            stored._checked_file_from_json, data
        ), data
