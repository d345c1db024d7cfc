"""Command line: options, wiring, exit codes. The work happens in runner and check."""

from __future__ import annotations

import argparse
import glob
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from reqhash_check import __version__
from reqhash_check.check import STRICTEST_PIP, CheckOptions
from reqhash_check.config import ConfigError, load_config
from reqhash_check.report import FORMATS, RenderContext, renderer
from reqhash_check.requirements import RequirementsFileError
from reqhash_check.rules import UnknownRuleError, parse_rule_list
from reqhash_check.runner import RunResult, Settings, failing, run, stdin_text
from reqhash_check.targets import (
    Target,
    current_target,
    parse_target_name,
    targets_from_pip_options,
)

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_UNVERIFIED = 0, 1, 2, 3

TARGET_HELP = """\
--target NAME describes a real host with its full tag list:
  linux-<arch>-glibc<M>.<m>-<py>   e.g. linux-x86_64-glibc2.28-cp312
  linux-<arch>-musl<M>.<m>-<py>    e.g. linux-aarch64-musl1.2-cp311
  macos-<arch>-<major>[.<minor>]-<py>  e.g. macos-arm64-11-cp311
  windows-<arch>-<py>              e.g. windows-amd64-cp310
"""

EPILOG = (
    TARGET_HELP
    + """
exit codes: 0 no error-level findings (warnings allowed unless --strict); 1 findings at the
failing level; 2 usage error or an unreadable input file; 3 the index could not be reached or
answered badly, so some requirements were not verified (and no error-level finding was made).

reqhash-check explain [LOG ...] names the cause of a failed pip run's hash errors
(reqhash-check explain --help).
"""
)


class UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reqhash-check",
        description="Check pip requirements files for --hash entries that "
        "`pip install --require-hashes` would reject, before it runs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "files",
        nargs="*",
        metavar="FILE",
        help="requirements files ('-' reads standard input); "
        "default: requirements*.txt and requirements/*.txt in the current folder",
    )
    add("--version", action="version", version=f"reqhash-check {__version__}")
    add(
        "--require-hashes",
        action="store_true",
        default=None,
        help="check in hash-checking mode even if no requirement has a hash",
    )
    targets = parser.add_argument_group("targets (as pip download takes them)")
    targets.add_argument("--python-version", action="append", default=[], metavar="X.Y")
    targets.add_argument("--platform", action="append", default=[], metavar="TAG")
    targets.add_argument("--implementation", metavar="cp|pp|…")
    targets.add_argument("--abi", action="append", default=[], metavar="ABI")
    targets.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="NAME",
        help="a real host, e.g. linux-x86_64-glibc2.28-cp312 (see below)",
    )
    targets.add_argument("--only-binary", action="append", default=[], metavar="NAMES")
    targets.add_argument("--no-binary", action="append", default=[], metavar="NAMES")
    targets.add_argument("--prefer-binary", action="store_true", default=None)
    add(
        "--pip-version",
        metavar="X.Y",
        help="the pip that will install (default: the strictest still in common use, "
        f"{STRICTEST_PIP[0]}.{STRICTEST_PIP[1]})",
    )
    index = parser.add_argument_group("index")
    index.add_argument("-i", "--index-url", metavar="URL")
    index.add_argument("--extra-index-url", action="append", default=[], metavar="URL")
    index.add_argument("--offline", action="store_true", help="use only the cache")
    index.add_argument("--no-cache", action="store_true")
    index.add_argument("--cache-dir", metavar="DIR")
    index.add_argument("--timeout", type=float, metavar="SECONDS")
    index.add_argument("--concurrency", type=int, metavar="N")
    out = parser.add_argument_group("output")
    out.add_argument("--format", choices=FORMATS, default="text")
    out.add_argument("--output", "-o", metavar="PATH")
    out.add_argument("--sarif-output", metavar="PATH", help="also write SARIF to PATH")
    out.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    out.add_argument("-q", "--quiet", action="store_true")
    out.add_argument("-v", "--verbose", action="store_true")
    rules = parser.add_argument_group("rules")
    rules.add_argument("--select", metavar="RULE,…", action="append", default=[])
    rules.add_argument("--ignore", metavar="RULE,…", action="append", default=[])
    rules.add_argument("--strict", action="store_true", default=None, help="warnings fail too")
    fixing = parser.add_argument_group("fixing")
    fixing.add_argument("--fix", action="store_true", help="rewrite the hashes in place")
    fixing.add_argument("--diff", action="store_true", help="print what --fix would change")
    fixing.add_argument(
        "--fix-targets-only",
        action="store_true",
        help="with --fix, keep only hashes of files some target can install",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "explain":
        from reqhash_check.explain import explain_main

        return explain_main(argv[1:])
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help/--version
        return int(exc.code or 0)
    try:
        settings, strict = settings_from(args, os.environ)
    except (UsageError, ConfigError, UnknownRuleError, RequirementsFileError) as exc:
        print(f"reqhash-check: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    result = run(settings, progress=_progress_printer() if not args.quiet else None)
    return finish(args, settings, result, strict)


def settings_from(
    args: argparse.Namespace, environ: os._Environ[str] | dict[str, str]
) -> tuple[Settings, bool]:
    config = load_config(Path.cwd()).values

    def pick(name: str, default: Any = None) -> Any:
        value = getattr(args, name.replace("-", "_"), None)
        if value not in (None, [], ""):
            return value
        return config.get(name, default)

    if args.fix and args.diff:
        raise UsageError("--fix and --diff cannot be combined: --diff only shows")
    files = tuple(args.files) or discover_files(Path.cwd())
    if not files:
        raise UsageError(
            "no requirements files given, and none found (requirements*.txt, requirements/*.txt)"
        )
    if files.count("-") > 1:
        raise UsageError("standard input ('-') can be read only once")
    targets = build_targets(
        pick("python-version", []),
        pick("platform", []),
        pick("implementation"),
        pick("abi", []),
        pick("target", []),
    )
    select = parse_rule_list(_split(pick("select", [])))
    ignore = parse_rule_list(_split(pick("ignore", [])))
    cache_dir = args.cache_dir or environ.get("REQHASH_CHECK_CACHE_DIR")
    timeout = float(pick("timeout", 15.0))
    concurrency = int(pick("concurrency", 8))
    if timeout <= 0 or concurrency < 1:
        raise UsageError("--timeout must be positive and --concurrency at least 1")
    settings = Settings(
        files=files,
        targets=tuple(targets),
        stdin_text=stdin_text() if "-" in files else None,
        check=CheckOptions(
            require_hashes=bool(pick("require-hashes", False)),
            pip_version=parse_pip_version(pick("pip-version")),
            only_binary=tuple(pick("only-binary", [])),
            no_binary=tuple(pick("no-binary", [])),
            prefer_binary=bool(pick("prefer-binary", False)),
        ),
        index_url=pick("index-url"),
        extra_index_urls=tuple(pick("extra-index-url", [])),
        select=select,
        ignore=ignore,
        offline=args.offline,
        use_cache=not args.no_cache,
        cache_dir=Path(cache_dir) if cache_dir else None,
        timeout=timeout,
        concurrency=concurrency,
        fix=args.fix,
        diff=args.diff,
        fix_targets_only=args.fix_targets_only,
        environ=dict(environ),
    )
    return settings, bool(pick("strict", False))


def discover_files(folder: Path) -> tuple[str, ...]:
    found = sorted(glob.glob("requirements*.txt", root_dir=folder))
    found += sorted(
        os.path.join("requirements", name)
        for name in glob.glob("*.txt", root_dir=folder / "requirements")
    )
    return tuple(found)


def build_targets(
    python_versions: Sequence[str],
    platforms: Sequence[str],
    implementation: str | None,
    abis: Sequence[str],
    names: Sequence[str],
) -> list[Target]:
    targets: list[Target] = []
    try:
        targets.extend(parse_target_name(name) for name in names)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if python_versions or platforms or implementation or abis:
        for version in python_versions:
            if not _is_version(version):
                raise UsageError(f"--python-version {version!r}: expected X.Y, e.g. 3.12")
        targets.extend(targets_from_pip_options(python_versions, platforms, implementation, abis))
    return targets or [current_target()]


def parse_pip_version(text: str | None) -> tuple[int, int]:
    if text is None:
        return STRICTEST_PIP
    parts = text.split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() for p in parts):
        raise UsageError(f"--pip-version {text!r}: expected X.Y, e.g. 24.0")
    return int(parts[0]), int(parts[1]) if len(parts) > 1 else 0


def finish(args: argparse.Namespace, settings: Settings, result: RunResult, strict: bool) -> int:
    for message in result.read_errors:
        print(f"reqhash-check: error: {message}", file=sys.stderr)
    for message in result.fix_messages:
        print(message, file=sys.stderr)
    if args.diff:
        sys.stdout.write(result.diff)
    context = RenderContext(
        color=_use_color(args.color, sys.stdout if not args.output else None),
        verbose=args.verbose,
        quiet=args.quiet,
        tool_version=__version__,
        fix_command=_fix_command(settings),
    )
    text = renderer(args.format)(result.report, context)
    if not (args.diff and args.format == "text" and not args.output):
        _write(args.output, text)
    if args.sarif_output:
        _write(args.sarif_output, renderer("sarif")(result.report, context))
    if args.format == "github" and os.environ.get("GITHUB_STEP_SUMMARY"):
        from reqhash_check.report.github import append_step_summary, step_summary

        append_step_summary(step_summary(result.report, context), os.environ)
    return exit_code(result, strict)


def exit_code(result: RunResult, strict: bool) -> int:
    if result.read_errors:
        return EXIT_USAGE
    if failing(result.report.findings, strict):
        return EXIT_FINDINGS
    if result.report.unverified and not result.offline:
        return EXIT_UNVERIFIED
    return EXIT_OK


def _write(path: str | None, text: str) -> None:
    if path is None or path == "-":
        sys.stdout.write(text)
        return
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def _fix_command(settings: Settings) -> str:
    files = " ".join(f for f in settings.files if f != "-")
    return f"reqhash-check --fix {files}".rstrip()


def _use_color(choice: str, stream: TextIO | None) -> bool:
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return stream is not None and stream.isatty()


def _progress_printer() -> Any:
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done == total else ""
        sys.stderr.write(f"\rchecking {done}/{total} releases…{end}")
        sys.stderr.flush()

    return show


def _split(values: Sequence[str]) -> list[str]:
    return [part for value in values for part in value.split(",")]


def _is_version(text: str) -> bool:
    parts = text.split(".")
    return 1 <= len(parts) <= 3 and all(p.isdigit() for p in parts)
