"""Requirement strings and markers, read with the grammar of the packaging release a pip
vendors (PEP 508 as each release implements it).

Two grammars are modelled. packaging 22 and later (pip 24.1+) read with a small
tokenizer: names and extras are ASCII identifiers, whitespace is only spaces and tabs,
version clauses must be PEP 440, and a URL runs to the next space or tab. packaging 21.3
(pip 23.0 to 24.0) read with a parser-combinator grammar: it expands tabs to spaces first,
skips any whitespace (newlines too) between parts, falls back to "legacy" version clauses
(`==anything`), runs a URL to the next space, and checks URLs. The details that differ
between releases of each are parameters: see `Grammar`.
"""

from __future__ import annotations

import ast
import functools
import re
import urllib.parse
import warnings
from dataclasses import dataclass

from packaging.utils import canonicalize_name


class InvalidRequirement(ValueError):
    pass


class InvalidMarker(ValueError):
    pass


@dataclass(frozen=True)
class ParsedRequirement:
    """A requirement string as packaging reads it."""

    name: str
    url: str | None
    extras: tuple[str, ...]
    specifiers: tuple[str, ...]
    """Each version clause as `operator + version`, without spaces, in the order written."""
    marker: str | None
    """The marker in packaging's normal form (`python_version >= "3.8"`)."""


@dataclass(frozen=True)
class Grammar:
    """The PEP 508 details that differ between the packaging releases pips vendor."""

    legacy: bool
    """packaging 21.3 (pip before 24.1)."""
    marker_sets: bool
    """packaging 25.0 (pip 25.1): the `extras` and `dependency_groups` marker variables."""
    ascii_versions: bool
    """packaging 26.2 (pip 26.1): pre/post/dev/local labels match ASCII letters only."""
    end_is_end: bool
    """packaging 26.3 (pip 26.3): the end of a requirement is the end of the string; before,
    a single trailing newline was allowed there."""


@functools.cache
def grammar_for(packaging: tuple[int, int]) -> Grammar:
    return Grammar(
        legacy=packaging < (22, 0),
        marker_sets=packaging >= (25, 0),
        ascii_versions=packaging >= (26, 2),
        end_is_end=packaging >= (26, 3),
    )


# --------------------------------------------------------------------- version clauses

_PRE = r"[-_\.]?(?:alpha|beta|preview|pre|a|b|c|rc)[-_\.]?[0-9]*"
_POST = r"(?:-[0-9]+)|(?:[-_\.]?(?:post|rev|r)[-_\.]?[0-9]*)"
_DEV = r"[-_\.]?dev[-_\.]?[0-9]*"
_LOCAL = r"\+[a-z0-9]+(?:[-_\.][a-z0-9]+)*"
_EPOCH_RELEASE = r"v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)*"


def _clause_pattern(ascii_labels: bool) -> str:
    """One PEP 440 version clause as packaging 22+ tokenizes it (IGNORECASE)."""

    def group(body: str, ascii_group: bool = True) -> str:
        return f"(?{'a' if ascii_labels and ascii_group else ''}:{body})?"

    labels = group(_PRE) + group(_POST) + group(_DEV)
    return (
        r"(?:===\s*[^\s;)]*)"
        rf"|(?:(?:==|!=)\s*{_EPOCH_RELEASE}(?:\.\*|{labels}{group(_LOCAL)})?)"
        # The compatible-release clause never had the ASCII-only groups.
        rf"|(?:~=\s*v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)+"
        rf"{group(_PRE, False)}{group(_POST, False)}{group(_DEV, False)})"
        rf"|(?:(?:<=|>=|<|>)\s*{_EPOCH_RELEASE}{labels})"
    )


# packaging 21.3: the same clauses with its own quirks (the arbitrary clause runs to
# whitespace, the pre-release labels are tried short first, `.*` is tried last) ...
_PRE_21 = r"[-_\.]?(?:a|b|c|rc|alpha|beta|pre|preview)[-_\.]?[0-9]*"
_CLAUSE_21 = (
    r"(?:===\s*[^\s]*)"
    rf"|(?:(?:==|!=)\s*{_EPOCH_RELEASE}(?:(?:{_PRE_21})?(?:{_POST})?"
    rf"(?:(?:{_DEV})?(?:{_LOCAL})?|\.\*))?)"
    rf"|(?:~=\s*v?(?:[0-9]+!)?[0-9]+(?:\.[0-9]+)+(?:{_PRE_21})?(?:{_POST})?(?:{_DEV})?)"
    rf"|(?:(?:<=|>=|<|>)\s*{_EPOCH_RELEASE}(?:{_PRE_21})?(?:{_POST})?(?:{_DEV})?)"
)
# ... and, when that fails, a "legacy" clause: an operator and anything up to a separator.
_LEGACY_CLAUSE_21 = r"(?:==|!=|<=|>=|<|>)\s*[^,;\s)]*"


@functools.cache
def _clause_re(grammar: Grammar) -> re.Pattern[str]:
    pattern = _CLAUSE_21 if grammar.legacy else _clause_pattern(grammar.ascii_versions)
    return re.compile(pattern, re.IGNORECASE)


_LEGACY_RE = re.compile(_LEGACY_CLAUSE_21, re.IGNORECASE)

# The clauses nearly every pin is written with (`==1.2.3`, `>=2.0rc1`, `~=1.4.post0`): each
# is matched by both grammars' clause patterns above (the release, then at most one of each
# label in its normal form), so a clause this small pattern takes is a clause, and the
# large patterns, whose compiling is most of what reading a short file costs, are compiled
# only when a clause is written otherwise.
_LABELS = r"(?:(?:a|b|rc)[0-9]+)?(?:\.post[0-9]+)?(?:\.dev[0-9]+)?"
_COMMON_CLAUSE_RE = re.compile(
    rf"(?:==|!=|<=|>=|<|>)[ \t]*[0-9]+(?:\.[0-9]+)*{_LABELS}|~=[ \t]*[0-9]+(?:\.[0-9]+)+{_LABELS}"
)


_CLAUSE_ENDS = frozenset(" \t\n\r,;)")
"""What may follow a clause `_COMMON_CLAUSE_RE` takes for the clause patterns to take the
same characters: no tail of theirs (more release parts, labels, `.*`, a local label, the
legacy clause's run of characters) begins with one of these."""


def _common_clause(source: str, at: int) -> str | None:
    """The clause at `at` when it is a common one: what the grammar's clause pattern (and,
    for packaging 21.3, the longer of it and the legacy clause) takes there."""
    match = _COMMON_CLAUSE_RE.match(source, at)
    if match is None:
        return None
    end = match.end()
    if end < len(source) and source[end] not in _CLAUSE_ENDS:
        return None
    return match.group(0)


def _full_clause(grammar: Grammar, text: str) -> bool:
    # packaging anchors `\s*(?:clause)\s*` with ^ and $ ($ also matches before a trailing
    # newline, which \s* takes anyway). No clause begins with whitespace, and one that may
    # end with it also matches without it, so that is the clause pattern itself on the
    # text without its surrounding whitespace (str.strip's whitespace is \s's, character
    # for character): the clause patterns, the costliest the start-up compiles, are
    # compiled once per grammar instead of twice.
    core = text.strip()
    if _COMMON_CLAUSE_RE.fullmatch(core):
        return True
    for pattern in (_clause_re(grammar),) + ((_LEGACY_RE,) if grammar.legacy else ()):
        if pattern.fullmatch(core):
            return True
    return False


def _clause_text(clause: str) -> str:
    """packaging's str() of a clause: the operator and the version, spaces stripped."""
    clause = clause.strip()
    for operator in ("===", "~=", "==", "!=", "<=", ">="):
        if clause.startswith(operator):
            return operator + clause[len(operator) :].strip()
    return clause[:1] + clause[1:].strip()


def specifier_set(grammar: Grammar, joined: str) -> tuple[str, ...]:
    """packaging's SpecifierSet(joined): split at commas, each piece one clause."""
    clauses = []
    for piece in joined.split(","):
        if not piece.strip():
            continue
        if not _full_clause(grammar, piece.strip()):
            raise InvalidRequirement(f"Invalid specifier: {piece.strip()!r}")
        clauses.append(_clause_text(piece))
    return tuple(clauses)


# ----------------------------------------------------------------------------- markers

_VARIABLES_21 = (
    "implementation_version",
    "platform_python_implementation",
    "implementation_name",
    "python_full_version",
    "platform_release",
    "platform_version",
    "platform_machine",
    "platform_system",
    "python_version",
    "sys_platform",
    "os_name",
    "os.name",
    "sys.platform",
    "platform.version",
    "platform.machine",
    "platform.python_implementation",
    "python_implementation",
    "extra",
)
_OPERATORS_21 = ("===", "==", ">=", "<=", "!=", "~=", ">", "<", "not in", "in")
_WS_21 = " \n\t\r"

_VARIABLE = (
    r"\b(?:python_version|python_full_version|os[._]name|sys[._]platform"
    r"|platform_(?:release|system)|platform[._](?:version|machine|python_implementation)"
    r"|python_implementation|implementation_(?:name|version)|{extra})\b"
)
_VARIABLE_RE = re.compile(_VARIABLE.format(extra="extra"))
_VARIABLE_SETS_RE = re.compile(_VARIABLE.format(extra="extras?|dependency_groups"))
_QUOTED_RE = re.compile(r"'[^']*'|\"[^\"]*\"")
_OP_RE = re.compile(r"===|==|~=|!=|<=|>=|<|>")
_BOOLOP_RE = re.compile(r"\b(?:or|and)\b")
_IN_RE = re.compile(r"\bin\b")
_NOT_RE = re.compile(r"\bnot\b")
_WS_RE = re.compile(r"[ \t]+")
_IDENTIFIER_RE = re.compile(r"\b[a-zA-Z0-9][a-zA-Z0-9._-]*\b")
_URL_RE = re.compile(r"[^ \t]+")
_PREFIX_TRAIL_RE = re.compile(r"\.\*")
_LOCAL_TRAIL_RE = re.compile(r"\+[a-z0-9]+(?:[-_\.][a-z0-9]+)*")
_LPAREN = re.compile(r"\(")
_RPAREN = re.compile(r"\)")
_LBRACKET = re.compile(r"\[")
_RBRACKET = re.compile(r"\]")
_COMMA = re.compile(",")
_SEMICOLON = re.compile(";")
_AT = re.compile("@")
_URL_21_RE = re.compile(r"[^ ]+")

# A marker is a list of items, "and"/"or" strings and nested lists (parentheses).
MarkerItem = tuple[str, str, str, bool, bool]
"""(left, operator, right, left is a variable, right is a variable)."""


def _variable_name(text: str) -> str:
    text = text.replace(".", "_")
    return "platform_python_implementation" if text == "python_implementation" else text


def _python_string(literal: str) -> str:
    """The value of a quoted marker string, read as a Python literal (packaging 22+)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = ast.literal_eval(literal)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise InvalidMarker("Invalid quoted string") from None
    return str(value)


def _quote(value: str) -> str:
    if '"' not in value or "'" in value:
        return f'"{value}"'
    return f"'{value}'"


def _format(marker: list[object], first: bool = True) -> str:
    if len(marker) == 1 and isinstance(marker[0], (list, tuple)):
        inner = marker[0]
        return _format(inner) if isinstance(inner, list) else _format_item(inner)
    parts = []
    for part in marker:
        if isinstance(part, list):
            parts.append(_format(part, first=False))
        elif isinstance(part, tuple):
            parts.append(_format_item(part))
        else:
            parts.append(str(part))
    text = " ".join(parts)
    return text if first else f"({text})"


def _format_item(item: tuple[object, ...]) -> str:
    left, operator, right, left_var, right_var = item
    assert isinstance(left, str) and isinstance(right, str)
    # packaging normalises the value compared with `extra`, as PEP 685 says.
    if left_var and left == "extra" and not right_var:
        right = canonicalize_name(right)
    elif right_var and right == "extra" and not left_var:
        left = canonicalize_name(left)
    elif right_var and right in ("extras", "dependency_groups") and not left_var:
        left = canonicalize_name(left)
    return " ".join(
        (left if left_var else _quote(left), str(operator), right if right_var else _quote(right))
    )


class _Tokens:
    """A cursor over the source: `check` matches a token at the current position."""

    def __init__(self, source: str, grammar: Grammar) -> None:
        self.source = source
        self.position = 0
        self.grammar = grammar

    def check(self, pattern: re.Pattern[str]) -> str | None:
        match = pattern.match(self.source, self.position)
        return None if match is None else match.group(0)

    def take(self, pattern: re.Pattern[str]) -> str | None:
        text = self.check(pattern)
        if text is not None:
            self.position += len(text)
        return text

    def space(self) -> None:
        self.take(_WS_RE)

    def at_end(self) -> bool:
        rest = self.source[self.position :]
        return rest == "" or (rest == "\n" and not self.grammar.end_is_end)

    def fail(self, message: str) -> InvalidRequirement:
        return InvalidRequirement(f"{message} (at position {self.position + 1})")


# ------------------------------------------------------------ packaging 22+ (tokenizer)


def _marker_modern(tokens: _Tokens) -> list[object]:
    expression: list[object] = [_marker_atom_modern(tokens)]
    while True:
        boolop = tokens.take(_BOOLOP_RE)
        if boolop is None:
            return expression
        expression.extend((boolop, _marker_atom_modern(tokens)))


def _marker_atom_modern(tokens: _Tokens) -> object:
    tokens.space()
    if tokens.check(_LPAREN) is not None:
        tokens.position += 1
        tokens.space()
        inner: object = _marker_modern(tokens)
        tokens.space()
        if tokens.take(_RPAREN) is None:
            raise tokens.fail("Expected matching RIGHT_PARENTHESIS for LEFT_PARENTHESIS")
    else:
        inner = _marker_item_modern(tokens)
    tokens.space()
    return inner


def _marker_var_modern(tokens: _Tokens) -> tuple[str, bool]:
    variables = _VARIABLE_SETS_RE if tokens.grammar.marker_sets else _VARIABLE_RE
    name = tokens.take(variables)
    if name is not None:
        return _variable_name(name), True
    quoted = tokens.take(_QUOTED_RE)
    if quoted is not None:
        try:
            return _python_string(quoted), False
        except InvalidMarker as exc:
            raise tokens.fail(str(exc)) from None
    raise tokens.fail("Expected a marker variable or quoted string")


def _marker_item_modern(tokens: _Tokens) -> MarkerItem:
    tokens.space()
    left, left_var = _marker_var_modern(tokens)
    tokens.space()
    if tokens.take(_IN_RE) is not None:
        operator = "in"
    elif tokens.take(_NOT_RE) is not None:
        if tokens.take(_WS_RE) is None:
            raise tokens.fail("Expected whitespace after 'not'")
        if tokens.take(_IN_RE) is None:
            raise tokens.fail("Expected 'in' after 'not'")
        operator = "not in"
    else:
        found = tokens.take(_OP_RE)
        if found is None:
            raise tokens.fail(
                "Expected marker operator, one of <=, <, !=, ==, >=, >, ~=, ===, in, not in"
            )
        operator = found
    tokens.space()
    right, right_var = _marker_var_modern(tokens)
    tokens.space()
    return (left, operator, right, left_var, right_var)


def _specifier_modern(tokens: _Tokens) -> str:
    opened = tokens.take(_LPAREN) is not None
    tokens.space()
    joined = ""
    while True:
        clause = _common_clause(tokens.source, tokens.position)
        if clause is None:
            clause = tokens.check(_clause_re(tokens.grammar))
        if clause is None:
            break
        tokens.position += len(clause)
        joined += clause
        if tokens.check(_PREFIX_TRAIL_RE) is not None:
            raise tokens.fail(".* suffix can only be used with `==` or `!=` operators")
        if tokens.check(_LOCAL_TRAIL_RE) is not None:
            raise tokens.fail("Local version label can only be used with `==` or `!=` operators")
        tokens.space()
        if tokens.take(_COMMA) is None:
            break
        joined += ","
        tokens.space()
    tokens.space()
    if opened and tokens.take(_RPAREN) is None:
        raise tokens.fail("Expected matching RIGHT_PARENTHESIS for LEFT_PARENTHESIS")
    return joined


def _requirement_modern(source: str, grammar: Grammar) -> ParsedRequirement:
    tokens = _Tokens(source, grammar)
    tokens.space()
    name = tokens.take(_IDENTIFIER_RE)
    if name is None:
        raise tokens.fail("Expected package name at the start of dependency specifier")
    tokens.space()
    extras: list[str] = []
    if tokens.take(_LBRACKET) is not None:
        tokens.space()
        extra = tokens.take(_IDENTIFIER_RE)
        if extra is not None:
            extras.append(extra)
            while True:
                tokens.space()
                if tokens.check(_IDENTIFIER_RE) is not None:
                    raise tokens.fail("Expected comma between extra names")
                if tokens.take(_COMMA) is None:
                    break
                tokens.space()
                extra = tokens.take(_IDENTIFIER_RE)
                if extra is None:
                    raise tokens.fail("Expected extra name after comma")
                extras.append(extra)
        tokens.space()
        if tokens.take(_RBRACKET) is None:
            raise tokens.fail("Expected matching RIGHT_BRACKET for LEFT_BRACKET, after extras")
    tokens.space()
    url = ""
    joined = ""
    marker: list[object] | None = None
    if tokens.take(_AT) is not None:
        tokens.space()
        url = tokens.take(_URL_RE) or ""
        if not url:
            raise tokens.fail("Expected URL after @")
        if not tokens.at_end():
            if tokens.take(_WS_RE) is None:
                raise tokens.fail("Expected whitespace after URL")
            if not tokens.at_end():
                marker = _requirement_marker_modern(tokens, "after URL and whitespace")
    else:
        joined = _specifier_modern(tokens)
        tokens.space()
        if not tokens.at_end():
            marker = _requirement_marker_modern(
                tokens, "after version specifier" if joined else "after name"
            )
    if not tokens.at_end():
        raise tokens.fail("Expected end of dependency specifier")
    return ParsedRequirement(
        name,
        url or None,
        tuple(extras),
        specifier_set(grammar, joined),
        _format(marker) if marker is not None else None,
    )


def _requirement_marker_modern(tokens: _Tokens, where: str) -> list[object]:
    if tokens.take(_SEMICOLON) is None:
        raise tokens.fail(f"Expected end or semicolon ({where})")
    marker = _marker_modern(tokens)
    tokens.space()
    return marker


# ------------------------------------------------------------- packaging 21.3 (grammar)


class _Legacy:
    """packaging 21.3's grammar: each part may follow any whitespace; alternatives are
    tried in order (the first that matches wins, except between a PEP 440 and a legacy
    version clause, where the longer wins); repetitions take as much as they can."""

    _ALNUM = re.compile(r"[A-Za-z0-9]+(?:[-_.]*[A-Za-z0-9]+)*")

    def __init__(self, source: str, grammar: Grammar) -> None:
        # The parser library expands tabs (to 8-column stops) before it parses anything.
        self.source = source.expandtabs()
        self.grammar = grammar

    def skip(self, at: int) -> int:
        source = self.source
        while at < len(source) and source[at] in _WS_21:
            at += 1
        return at

    def literal(self, at: int, text: str) -> int | None:
        at = self.skip(at)
        return at + len(text) if self.source.startswith(text, at) else None

    def identifier(self, at: int) -> tuple[int, str] | None:
        at = self.skip(at)
        match = self._ALNUM.match(self.source, at)
        return (match.end(), match.group(0)) if match else None

    def fail(self, at: int) -> InvalidRequirement:
        return InvalidRequirement(f"Parse error at {self.source[at : at + 8]!r}")

    # markers
    def marker_var(self, at: int) -> tuple[int, str, bool] | None:
        at = self.skip(at)
        for name in _VARIABLES_21:
            if self.source.startswith(name, at):
                return at + len(name), _variable_name(name), True
        for quote in ("'", '"'):
            if self.source.startswith(quote, at):
                end = at + 1
                while end < len(self.source) and self.source[end] not in (quote, "\n", "\r"):
                    end += 1
                if end < len(self.source) and self.source[end] == quote:
                    value = self.source[at + 1 : end]
                    if "\\" in value:
                        for escaped, char in (("\\t", "\t"), ("\\n", "\n"), ("\\f", "\f")):
                            value = value.replace(escaped, char)
                        value = value.replace("\\r", "\r")
                    return end + 1, value, False
        return None

    def marker_item(self, at: int) -> tuple[int, MarkerItem] | None:
        left = self.marker_var(at)
        if left is None:
            return None
        at = self.skip(left[0])
        operator = next((op for op in _OPERATORS_21 if self.source.startswith(op, at)), None)
        if operator is None:
            return None
        right = self.marker_var(at + len(operator))
        if right is None:
            return None
        return right[0], (left[1], operator, right[1], left[2], right[2])

    def marker_atom(self, at: int) -> tuple[int, object] | None:
        item = self.marker_item(at)
        if item is not None:
            return item
        opened = self.literal(at, "(")
        if opened is None:
            return None
        inner = self.marker_expr(opened)
        if inner is None:
            return None
        closed = self.literal(inner[0], ")")
        if closed is None:
            return None
        return closed, inner[1]

    def marker_expr(self, at: int) -> tuple[int, list[object]] | None:
        atom = self.marker_atom(at)
        if atom is None:
            return None
        at, expression = atom[0], [atom[1]]
        while True:
            start = self.skip(at)
            boolop = next((op for op in ("and", "or") if self.source.startswith(op, start)), None)
            if boolop is None:
                return at, expression
            rest = self.marker_expr(start + len(boolop))
            if rest is None:
                return at, expression
            at = rest[0]
            expression.append(boolop)
            expression.extend(rest[1])

    def marker(self) -> list[object]:
        parsed = self.marker_expr(0)
        if parsed is None or self.skip(parsed[0]) != len(self.source):
            raise InvalidMarker(f"Invalid marker: {self.source!r}")
        return parsed[1]

    # requirements
    def version_one(self, at: int) -> tuple[int, str] | None:
        at = self.skip(at)
        common = _common_clause(self.source, at)
        if common is not None:
            return at + len(common), common
        best: tuple[int, str] | None = None
        for pattern in (_clause_re(self.grammar), _LEGACY_RE):
            match = pattern.match(self.source, at)
            if match and (best is None or match.end() > best[0]):
                best = (match.end(), match.group(0))
        return best

    def version_many(self, at: int) -> tuple[int, list[str]] | None:
        first = self.version_one(at)
        if first is None:
            return None
        at, clauses = first[0], [first[1]]
        while True:
            comma = self.literal(at, ",")
            following = self.version_one(comma) if comma is not None else None
            if following is None:
                return at, clauses
            at = following[0]
            clauses.append(following[1])

    def requirement(self) -> ParsedRequirement:
        named = self.identifier(0)
        if named is None:
            raise self.fail(self.skip(0))
        at, name = named
        extras: list[str] = []
        opened = self.literal(at, "[")
        if opened is not None:
            found: list[str] = []
            position = opened
            first = self.identifier(opened)
            if first is not None:
                position, found = first[0], [first[1]]
                while True:
                    comma = self.literal(position, ",")
                    extra = self.identifier(comma) if comma is not None else None
                    if extra is None:
                        break
                    position = extra[0]
                    found.append(extra[1])
            closed = self.literal(position, "]")
            if closed is not None:
                at, extras = closed, found
        url, clauses, marker = None, [], None
        after_at = self.literal(at, "@")
        start = self.skip(after_at) if after_at is not None else 0
        url_match = _URL_21_RE.match(self.source, start) if after_at else None
        if url_match:
            url, at = url_match.group(0), url_match.end()
        else:
            opened = self.literal(at, "(")
            inside = self.version_many(opened) if opened is not None else None
            closed = self.literal(inside[0], ")") if inside is not None else None
            if inside is not None and closed is not None:
                at, clauses = closed, inside[1]
            else:
                bare = self.version_many(at)
                if bare is not None:
                    at, clauses = bare
        semicolon = self.literal(at, ";")
        if semicolon is not None:
            parsed = self.marker_expr(semicolon)
            if parsed is not None:
                at, marker = parsed
        if self.skip(at) != len(self.source):
            raise self.fail(self.skip(at))
        if url is not None:
            _check_url_21(url)
        return ParsedRequirement(
            name,
            url,
            tuple(extras),
            specifier_set(self.grammar, ",".join(clauses)),
            _format(marker) if marker is not None else None,
        )


def _check_url_21(url: str) -> None:
    try:
        parsed = urllib.parse.urlparse(url)
        if parsed.scheme == "file":
            if urllib.parse.urlunparse(parsed) != url:
                raise InvalidRequirement("Invalid URL given")
        elif not (parsed.scheme and parsed.netloc):
            raise InvalidRequirement(f"Invalid URL: {url}")
    except ValueError as exc:
        if isinstance(exc, InvalidRequirement):
            raise
        raise InvalidRequirement(f"Invalid URL: {exc}") from None


# ------------------------------------------------------------------------------ public


@functools.lru_cache(maxsize=4096)
def parse_requirement(text: str, grammar: Grammar) -> ParsedRequirement:
    """packaging's Requirement(text); InvalidRequirement when it refuses it."""
    if grammar.legacy:
        return _Legacy(text, grammar).requirement()
    try:
        return _requirement_modern(text, grammar)
    except InvalidMarker as exc:
        raise InvalidRequirement(str(exc)) from None


@functools.lru_cache(maxsize=1024)
def parse_marker(text: str, grammar: Grammar) -> str:
    """packaging's Marker(text) in its normal form; InvalidMarker when it refuses it."""
    if grammar.legacy:
        return _format(_Legacy(text, grammar).marker())
    tokens = _Tokens(text, grammar)
    try:
        marker = _marker_modern(tokens)
        if not tokens.at_end():
            raise tokens.fail("Expected end of marker expression")
    except InvalidRequirement as exc:
        raise InvalidMarker(str(exc)) from None
    return _format(marker)
