"""`reqhash-check explain`: options, input, output, exit code. The work is in run/diagnose."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO, NoReturn, TextIO

from reqhash_check import __version__
from reqhash_check.explain.logparse import MAX_LOG_BYTES
from reqhash_check.explain.render import FORMATS, RenderOptions, render
from reqhash_check.explain.run import (
    EXIT_UNREADABLE,
    Explanation,
    LogInput,
    explain,
)
from reqhash_check.index.base import DEFAULT_TIMEOUT
from reqhash_check.options import (
    add_cache_options,
    add_color_option,
    add_isolated_option,
    add_timeout_option,
)
from reqhash_check.requirements import RequirementEntry, RequirementsFileError, load
from reqhash_check.settings import Settings, timeout_problem

DESCRIPTION = """\
Read the output of a failed `pip install` (as pasted: colours, GitHub Actions timestamps,
##[error] markers, Windows line endings; pip 20 to the newest) and name, for each package pip
rejected in hash-checking mode, the cause: unpublished-bytes, mistyped-hash, stale-pin,
incomplete-hashes, foreign-hashes, or one of the rules (missing-hash, missing-dependency,
unpinned, unhashable, no-installable-file, unknown-version, unknown-project), with the exact
lines to write."""

EPILOG = """\
exit codes: 0 every failure diagnosed; 1 a cause is unpublished-bytes (pip received bytes the
index does not publish: a possible security event); 2 a log cannot be read, or no log holds a
pip hash-checking failure; 3 the index could not be asked (or could not tell), so some failure
was not diagnosed.
"""


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line, worded as the check words them (no usage block)."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(f"{message} (see reqhash-check explain --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="reqhash-check explain",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "logs",
        nargs="*",
        metavar="LOG",
        help="saved pip output ('-' or nothing reads standard input)",
    )
    parser.add_argument(
        "--requirements",
        metavar="FILE",
        help="the requirements file as it is now: cross-check its lines and write the fix "
        "against them",
    )
    index = parser.add_argument_group("index")
    index.add_argument(
        "-i",
        "--index-url",
        metavar="URL",
        help="the index to ask (default: pip's configuration or $PIP_INDEX_URL, else "
        "https://pypi.org/simple); "
        "use the one pip used",
    )
    index.add_argument(
        "--extra-index-url",
        action="append",
        default=[],
        metavar="URL",
        help="another index to ask as well (repeatable; also $PIP_EXTRA_INDEX_URL)",
    )
    index.add_argument(
        "--offline", action="store_true", help="use only the cache, never the network"
    )
    add_isolated_option(index)
    add_cache_options(index)
    add_timeout_option(index, DEFAULT_TIMEOUT)
    out = parser.add_argument_group("output")
    out.add_argument("--format", choices=FORMATS, default="text", help="output format")
    out.add_argument("-o", "--output", metavar="PATH", help="write the output here, not stdout")
    add_color_option(out)
    out.add_argument("-q", "--quiet", action="store_true", help="one line per failure")
    out.add_argument(
        "-v", "--verbose", action="store_true", help="also show URLs, every hash and log lines"
    )
    return parser


def explain_main(
    argv: Sequence[str],
    *,
    stdin: BinaryIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> int:
    environ = os.environ if environ is None else environ
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv))
    except _UsageError as exc:
        return _usage(str(exc))
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    refused_timeout = timeout_problem(args.timeout)
    if refused_timeout:
        return _usage(refused_timeout)
    names = list(args.logs) or ["-"]
    if names.count("-") > 1:
        return _usage("standard input ('-') can be read only once")
    requirements: dict[str, list[RequirementEntry]] | None = None
    if args.requirements:
        try:
            req_set, _problems = load(args.requirements, environ=environ)
        except RequirementsFileError as exc:
            return _usage(str(exc))
        requirements = {}
        for entry in req_set.entries:
            requirements.setdefault(entry.name, []).append(entry)
    cache_dir = args.cache_dir or environ.get("REQHASH_CHECK_CACHE_DIR")
    # The check's one configuration, built as the check builds it: no files, and no checked
    # tree (only the command line, the environment and pip's configuration name the index).
    settings = Settings(
        files=(),
        targets=(),
        index_url=args.index_url or None,
        extra_index_urls=tuple(args.extra_index_url),
        offline=args.offline,
        use_cache=not args.no_cache,
        cache_dir=Path(cache_dir).expanduser() if cache_dir else None,
        timeout=args.timeout,
        isolated=args.isolated,
        environ=dict(environ),
    )
    inputs = [_read(name, stdin) for name in names]
    explained = explain(
        inputs, settings, requirements=requirements, requirements_path=args.requirements
    )
    explanation = _with_run_options(explained, parser, args)
    for message in explanation.unreadable:  # as the check says of a file it cannot read
        _say(f"error: {message}")
    options = RenderOptions(
        color=_use_color(args.color, None if args.output else sys.stdout, environ),
        verbose=args.verbose,
        quiet=args.quiet,
        tool_version=__version__,
    )
    text = render(args.format, explanation, options)
    try:
        _write(args.output, text)
    except BrokenPipeError:  # the reader stopped early (`| head`): the command line's answer
        raise
    except OSError as exc:
        return _usage(f"cannot write {args.output}: {exc.strerror or exc}")
    if args.format == "github" and environ.get("GITHUB_STEP_SUMMARY"):
        from reqhash_check.report.github import append_step_summary

        try:
            append_step_summary(render("markdown", explanation, options), environ)
        except OSError as exc:
            _say(f"warning: step summary not written: {exc}")
    return explanation.exit_code


def _with_run_options(
    explanation: Explanation, parser: argparse.ArgumentParser, args: argparse.Namespace
) -> Explanation:
    """The "run:" and "then check:" commands with the index options this run was given, so
    that they ask the same index (credentials redacted)."""
    from dataclasses import replace

    from reqhash_check.hints import with_options

    diagnoses = tuple(
        replace(
            d,
            fix=replace(
                d.fix,
                command=with_options(d.fix.command, parser, args),
                check=with_options(d.fix.check, parser, args),
            ),
        )
        for d in explanation.diagnoses
    )
    return replace(explanation, diagnoses=diagnoses)


def _usage(message: str) -> int:
    _say(f"error: {message}")
    return EXIT_UNREADABLE


def _say(message: str) -> None:
    """Errors and warnings on standard error, with the check's `reqhash-check: ` prefix,
    escaped: a log's or a file's name may hold what a terminal or a CI log would obey."""
    from reqhash_check.escape import safe

    print(f"reqhash-check: {safe(message)}", file=sys.stderr)


def _read(name: str, stdin: BinaryIO | None) -> LogInput:
    """At most MAX_LOG_BYTES + 1 bytes, so an endless input is refused, not swallowed."""
    limit = MAX_LOG_BYTES + 1
    if name == "-":
        if stdin is None and sys.stdin is not None and sys.stdin.isatty():
            print(
                "paste pip's output, then press Ctrl-D (Ctrl-Z Enter on Windows)", file=sys.stderr
            )
        stream = stdin if stdin is not None else sys.stdin.buffer
        try:
            return LogInput("<stdin>", stream.read(limit))
        except OSError as exc:
            return LogInput("<stdin>", error=str(exc.strerror or exc))
    try:
        if not os.path.isfile(name):
            kind = "does not exist" if not os.path.exists(name) else "is not a regular file"
            return LogInput(name, error=kind)
        with open(name, "rb") as handle:
            return LogInput(name, handle.read(limit))
    except OSError as exc:
        return LogInput(name, error=str(exc.strerror or exc))


def _write(path: str | None, text: str) -> None:
    if path is None or path == "-":
        sys.stdout.write(text)
        return
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def _use_color(choice: str, stream: TextIO | None, environ: Mapping[str, str]) -> bool:
    if choice != "auto":
        return choice == "always"
    if environ.get("NO_COLOR"):
        return False
    if environ.get("FORCE_COLOR"):
        return True
    return stream is not None and stream.isatty()
