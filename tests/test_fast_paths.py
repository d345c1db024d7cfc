"""The warm run's shortcuts give exactly what the exact paths they skip give."""

from __future__ import annotations

import itertools
import random

import pytest

from reqhash_check.requirements import pep508


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
