"""The options part of a logical line, read as pip's optparse-based line parser reads it.

pip splits a line at the first space-separated word that starts with "-": what comes
before is the requirement, the rest is split like a shell would (shlex) and given to
optparse with pip's options. optparse accepts any unambiguous prefix of a long option,
`--opt=value` and `--opt value`, `-rfile` and `-r file`, takes the next word as a value
even when it starts with "-", stops at `--` and ignores words that are not options.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from reqhash_check.requirements.versions import OptionSpec, PipRules

STRONG_HASHES = ("sha256", "sha384", "sha512")
_SHELL_SPECIAL = re.compile(r"[\"'\\]")
_SHELL_SPACE = re.compile(r"[ \t\r\n]+")


class OptionError(Exception):
    """pip refuses the line while reading its options."""

    def __init__(self, reason: str, *, quoted: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.quoted = quoted
        """The reason quotes part of the line (not to be shown for an expanded line)."""


@dataclass
class LineOptions:
    """A line's requirement part and the options pip reads from the rest."""

    args: str
    """The requirement part of the line ("" for an option line)."""
    values: dict[str, object] = field(default_factory=dict)
    """dest → value for the plain options: a list for append, the last one for store."""
    hashes: list[tuple[str, str]] = field(default_factory=list)
    config_settings: list[tuple[str, str]] = field(default_factory=list)
    binary: list[tuple[str, str]] = field(default_factory=list)
    """("no_binary" | "only_binary", value) in the order given."""
    releases: list[tuple[str, str]] = field(default_factory=list)
    """("all_releases" | "only_final", value) in the order given."""
    refused_hash: str | None = None
    """Why pip would refuse a --hash of this line (an algorithm it does not accept)."""

    def strings(self, dest: str) -> list[str]:
        value = self.values.get(dest)
        return [str(v) for v in value] if isinstance(value, list) else []


def break_args_options(line: str) -> tuple[str, str]:
    """The requirement runs to the first " "-separated word that starts with "-"."""
    if " -" not in line and not line.startswith("-"):
        return line, ""
    tokens = line.split(" ")
    for index, token in enumerate(tokens):
        if token.startswith("-"):
            return " ".join(tokens[:index]), " ".join(tokens[index:])
    return line, ""


def shell_split(text: str) -> list[str]:
    if not _SHELL_SPECIAL.search(text):
        if "\t" not in text and "\r" not in text and "\n" not in text:
            return [word for word in text.split(" ") if word]  # the same words, sooner
        return [word for word in _SHELL_SPACE.split(text) if word]
    try:
        return shlex.split(text)
    except ValueError:
        raise OptionError(f"Could not split options: {text}", quoted=True) from None


class _Parser:
    def __init__(self, rules: PipRules) -> None:
        self.long = {name: spec for spec in rules.options for name in spec.long}
        self.short = {name: spec for spec in rules.options for name in spec.short}

    def match_long(self, word: str) -> str:
        if word in self.long:
            return word
        candidates = sorted(name for name in self.long if name.startswith(word))
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            raise OptionError(f"no such option: {word}", quoted=True)
        raise OptionError(f"ambiguous option: {word} ({', '.join(candidates)}?)", quoted=True)

    def parse(self, words: list[str], result: LineOptions) -> None:
        rest = list(reversed(words))  # pop() from the end is the next word
        while rest:
            word = rest[-1]
            if word == "--":
                return
            if word.startswith("--hash=") and "--hash" in self.long:
                rest.pop()  # the most common word by far, taken as long_option would take it
                self.hash("--hash", word[7:], result)
            elif word.startswith("--"):
                rest.pop()
                self.long_option(word, rest, result)
            elif word.startswith("-") and len(word) > 1:
                rest.pop()
                self.short_options(word, rest, result)
            else:
                rest.pop()  # a stray word: optparse keeps it aside, pip ignores it

    def long_option(self, word: str, rest: list[str], result: LineOptions) -> None:
        explicit = "=" in word
        if explicit:
            word, value = word.split("=", 1)
            rest.append(value)
        name = self.match_long(word)
        spec = self.long[name]
        if spec.takes_value:
            if not rest:
                raise OptionError(f"{name} option requires 1 argument", quoted=True)
            self.take(spec, name, rest.pop(), result)
        elif explicit:
            raise OptionError(f"{name} option does not take a value", quoted=True)
        else:
            self.take(spec, name, None, result)

    def short_options(self, word: str, rest: list[str], result: LineOptions) -> None:
        for index in range(1, len(word)):
            name = "-" + word[index]
            spec = self.short.get(name)
            if spec is None:
                raise OptionError(f"no such option: {name}", quoted=True)
            if not spec.takes_value:
                self.take(spec, name, None, result)
                continue
            if index + 1 < len(word):
                rest.append(word[index + 1 :])
            if not rest:
                raise OptionError(f"{name} option requires 1 argument", quoted=True)
            self.take(spec, name, rest.pop(), result)
            return

    def take(self, spec: OptionSpec, name: str, value: str | None, result: LineOptions) -> None:
        values = result.values
        if spec.action == "store_true":
            values[spec.dest] = True
        elif value is None:  # pragma: no cover - every other action takes a value
            raise AssertionError(name)
        elif spec.action == "store":
            values[spec.dest] = value
        elif spec.action == "append":
            existing = values.setdefault(spec.dest, [])
            assert isinstance(existing, list)
            existing.append(value)
        elif spec.action == "choice":
            if value not in spec.choices:
                choices = ", ".join(repr(choice) for choice in spec.choices)
                raise OptionError(
                    f"option {name}: invalid choice: {value!r} (choose from {choices})",
                    quoted=True,
                )
            existing = values.setdefault(spec.dest, [])
            assert isinstance(existing, list)
            existing.append(value)
        elif spec.action == "hash":
            self.hash(name, value, result)
        elif spec.action == "config":
            key, sep, setting = value.partition("=")
            if sep != "=":
                raise OptionError(f"Arguments to {name} must be of the form KEY=VAL")
            result.config_settings.append((key, setting))
        elif spec.action == "format":
            if value.startswith("-"):
                raise OptionError("--no-binary / --only-binary option requires 1 argument.")
            result.binary.append((spec.dest, value))
        elif spec.action == "release":
            if value.startswith("-"):
                raise OptionError("--all-releases / --only-final option requires 1 argument.")
            result.releases.append((spec.dest, value))
        else:  # pragma: no cover - the option table has no other action
            raise AssertionError(spec.action)

    @staticmethod
    def hash(name: str, value: str, result: LineOptions) -> None:
        algorithm, sep, digest = value.partition(":")
        if not sep:
            raise OptionError(
                f"Arguments to {name} must be a hash name followed by a value, "
                "like --hash=sha256:abcde..."
            )
        if algorithm not in STRONG_HASHES and result.refused_hash is None:
            # Kept on the entry: the checker's invalid-hash finding says pip refuses it.
            result.refused_hash = (
                f"Allowed hash algorithms for {name} are {', '.join(STRONG_HASHES)}."
            )
        result.hashes.append((algorithm, digest))


_PARSERS: dict[tuple[int, int], _Parser] = {}


def parse_line(line: str, rules: PipRules) -> LineOptions:
    """Split a logical line into its requirement and options; OptionError if pip refuses."""
    args, options = break_args_options(line)
    result = LineOptions(args)
    if not options:
        return result
    parser = _PARSERS.get(rules.version)
    if parser is None:
        parser = _PARSERS[rules.version] = _Parser(rules)
    parser.parse(shell_split(options), result)
    return result
