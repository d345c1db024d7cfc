"""The command lines the output suggests (fix, diff, check again): the files, and every
command-line option that shaped the findings, shell-quoted, so that the hint run as printed
reproduces the run it came from. `[tool.reqhash-check]` is not repeated: it is read again.

An index URL that carries credentials is shown redacted, with a note: a printed hint must
not leak a password; the person reading it puts the credentials back (or uses pip's
configuration, PIP_INDEX_URL or a keyring)."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from reqhash_check.urls import redact_url

PROGRAM = "reqhash-check"

# The options that change what is found, in the order they are printed.
REPRODUCING = (
    "require_hashes",
    "pip_version",
    "binary",
    "prefer_binary",
    "target",
    "python_version",
    "platform",
    "implementation",
    "abi",
    "index_url",
    "extra_index_url",
    "find_links",
    "no_index",
    "isolated",
    "allow_index",
    "allow_outside_includes",
    "offline",
    "no_cache",
    "cache_dir",
    "timeout",
    "select",
    "ignore",
    "categories",
    "verify_downloads",
    "max_download_size",
)
# Options that only the check-again hint repeats (they change the verdict, not the fixes).
VERDICT = ("strict",)
FIXING = ("fix_targets_only",)
_URLS = ("index_url", "extra_index_url", "find_links")

CREDENTIALS_NOTE = (
    "an index URL's credentials are left out of this command (****): put them back, or "
    "give them through pip's configuration, PIP_INDEX_URL or a keyring, before running it"
)


@dataclass(frozen=True)
class Hint:
    """A command line to run, with a note when it cannot be run as printed."""

    command: str
    note: str | None = None
    """Said once when the command cannot be run exactly as printed (credentials left out)."""


def option_arguments(
    parser: argparse.ArgumentParser, args: argparse.Namespace, mode: str
) -> tuple[list[str], bool]:
    """The reproducing options as arguments, and whether a credential was redacted."""
    wanted = REPRODUCING + (FIXING if mode in ("fix", "diff") else VERDICT)
    flags = {
        action.dest: max(action.option_strings, key=len)
        for action in parser._actions
        if action.option_strings
    }
    out: list[str] = []
    redacted = False
    for dest in wanted:
        if dest == "binary":
            for which, value in getattr(args, "binary", None) or ():
                out += [flags[which], value]
            continue
        value = getattr(args, dest, None)
        if value in (None, False, [], "") or value == parser.get_default(dest):
            continue
        flag = flags[dest]
        if value is True:
            out.append(flag)
            continue
        for item in value if isinstance(value, list) else [value]:
            text = f"{item:g}" if isinstance(item, float) else str(item)
            if dest in _URLS and redact_url(text) != text:
                text, redacted = redact_url(text), True
            out += [flag, text]
    return out, redacted


def command(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    mode: str,
    files: Sequence[str],
) -> Hint | None:
    """`reqhash-check [--fix|--diff] OPTIONS FILES`; None when it cannot be run (a file is
    standard input, or there is no file)."""
    if not files or "-" in files:
        return None
    options, redacted = option_arguments(parser, args, mode)
    head = [PROGRAM] + ([f"--{mode}"] if mode in ("fix", "diff") else [])
    tail = ["--", *files] if any(f.startswith("-") for f in files) else list(files)
    if any(not part.isprintable() for part in (*options, *tail)):
        # A line break or a control character in a name: shown escaped, the command could
        # not be run as printed, and raw it could start a workflow command in a CI log.
        return None
    return Hint(shlex.join([*head, *options, *tail]), CREDENTIALS_NOTE if redacted else None)


# `reqhash-check explain` takes these of the check's options; its "run:" and "then check:"
# commands carry the ones given, so the check asks the index the explanation asked.
EXPLAIN_REPRODUCING = (
    "index_url",
    "extra_index_url",
    "isolated",
    "offline",
    "no_cache",
    "cache_dir",
)


def with_options(
    command_line: str | None, parser: argparse.ArgumentParser, args: argparse.Namespace
) -> str | None:
    """A `reqhash-check [--fix] FILE …` command with the options of `args` (those in
    EXPLAIN_REPRODUCING that were given) put after the program name and --fix."""
    if not command_line:
        return command_line
    flags = {
        action.dest: max(action.option_strings, key=len)
        for action in parser._actions
        if action.option_strings
    }
    extra: list[str] = []
    for dest in EXPLAIN_REPRODUCING:
        value = getattr(args, dest, None)
        if value in (None, False, [], "") or value == parser.get_default(dest):
            continue
        if value is True:
            extra.append(flags[dest])
            continue
        for item in value if isinstance(value, list) else [value]:
            extra += [flags[dest], redact_url(str(item)) if dest in _URLS else str(item)]
    if not extra:
        return command_line
    argv = shlex.split(command_line)
    head = 2 if argv[1:2] == ["--fix"] else 1
    return shlex.join([*argv[:head], *extra, *argv[head:]])
