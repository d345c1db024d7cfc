"""Command line: options, wiring, exit codes. The work happens in runner and check."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from reqhash_check import __version__
from reqhash_check.index.base import DEFAULT_CONCURRENCY, DEFAULT_TIMEOUT
from reqhash_check.options import (
    add_cache_options,
    add_color_option,
    add_isolated_option,
    add_timeout_option,
)

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_UNVERIFIED = 0, 1, 2, 3
EXIT_INTERRUPTED, EXIT_READER_GONE = 130, 141
"""128 + the signal's number, as a shell reports a command SIGINT or SIGPIPE stopped."""
FORMATS = ("text", "json", "sarif", "github", "markdown")
MAX_CONCURRENCY = 64
MAX_TARGETS = 64
"""Each target is a full pass over every requirement: a `target` list of thousands (the
checked tree's pyproject.toml can hold one) would keep a run going for many minutes."""

TARGET_HELP = """\
targets (--target NAME describes a real host with its full tag list):
  linux-<arch>-glibc<M>.<m>-<py>       e.g. linux-x86_64-glibc2.28-cp312
  linux-<arch>-musl<M>.<m>-<py>        e.g. linux-aarch64-musl1.2-cp311
  macos-<arch>-<major>[.<minor>]-<py>  e.g. macos-arm64-11-cp311
  windows-<arch>-<py>                  e.g. windows-amd64-cp310
  <py> is cp<XY> or pp<XY>. Without target options: the running interpreter.
"""


def _epilog() -> str:
    from reqhash_check.rules import RULES

    ids = ", ".join(RULES)
    return (
        TARGET_HELP
        + f"""
rules: {ids}
  `reqhash-check rules` lists them; `reqhash-check rules RULE` (or --explain RULE) explains
  one: what pip does, why, how to fix it.

silence a finding on its requirement's lines:  # reqhash: ignore[rule,…]
configuration: [tool.reqhash-check] in the nearest pyproject.toml (the command line wins).
colour: --color, or the NO_COLOR / FORCE_COLOR environment variables.
diagnose a failed pip run: reqhash-check explain LOG (see reqhash-check explain --help)

exit codes: 0 no error-level findings (warnings allowed unless --strict); 1 findings at the
failing level; 2 usage error or an input that cannot be read; 3 an index could not be
reached or answered badly, so some requirements were not verified.
"""
    )


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    """argparse that says what is wrong in one line, plus where to look, and exits 2.

    The epilog names every rule, which means importing the registry: it is built only when
    the help is shown, so that a check or `--version` does not pay for it."""

    def format_help(self) -> str:
        if self.epilog is None and self.prog == "reqhash-check":
            self.epilog = _epilog()
        return super().format_help()

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}{self._close_option(message)} (see reqhash-check --help)")

    def _close_option(self, message: str) -> str:
        """` (did you mean --fix?)` for a mistyped option such as `--fixx`."""
        prefix = "unrecognized arguments: "
        if not message.startswith(prefix):
            return ""
        import difflib

        known = [o for action in self._actions for o in action.option_strings if len(o) > 2]
        for word in message[len(prefix) :].split():
            name = word.partition("=")[0]
            if name.startswith("--"):
                close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
                if close:
                    return f" (did you mean {close[0]}?)"
        return ""


class _BinaryOption(argparse.Action):
    """--only-binary/--no-binary kept in one list in the order given, as pip applies them."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        ordered = list(getattr(namespace, "binary", None) or [])
        ordered.append((self.dest, str(values)))
        namespace.binary = ordered


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="reqhash-check",
        description="Predict whether `pip install --require-hashes` would fail on these\n"
        "requirements files (stale, missing, foreign or insufficient --hash entries, missing\n"
        "dependencies…), before it runs; --fix rewrites the file.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add(
        "files",
        nargs="*",
        metavar="FILE",
        help="requirements files or PEP 751 lock files ('-' reads standard input); default: "
        "requirements*.txt, requirements/*.txt, pylock.toml and pylock.*.toml in the current "
        "folder",
    )
    add("--version", action="version", version=f"reqhash-check {__version__}")
    add("--explain", metavar="RULE", help="explain a rule and exit (as `reqhash-check rules RULE`)")

    mode = parser.add_argument_group("what pip will do")
    mode.add_argument(
        "--require-hashes",
        action="store_true",
        default=None,
        help="check in hash-checking mode even if no requirement has a --hash",
    )
    mode.add_argument(
        "--pip-version",
        metavar="X.Y",
        help="the pip that will install (its rules differ: 26.1+ accepts hashed unpinned "
        "requirements, 24.1+ refuses invalid metadata); default: the strictest pip still in "
        "common use for each rule",
    )
    mode.add_argument(
        "--only-binary",
        action=_BinaryOption,
        metavar="NAMES",
        help="as pip: only wheels for these projects (:all:, :none:, comma list); kept in "
        "order with --no-binary",
    )
    mode.add_argument(
        "--no-binary",
        action=_BinaryOption,
        metavar="NAMES",
        help="as pip: never wheels for these projects (:all:, :none:, comma list)",
    )
    mode.add_argument(
        "--prefer-binary",
        action="store_true",
        default=None,
        help="as pip: prefer an older wheel to a newer sdist",
    )

    targets = parser.add_argument_group("targets (the machines the install must work on)")
    targets.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="NAME",
        help="a real host with its full tag list, e.g. linux-x86_64-glibc2.28-cp312 (see "
        "below; repeatable)",
    )
    targets.add_argument(
        "--python-version",
        action="append",
        default=[],
        metavar="X.Y",
        help="as pip download: the target's Python (repeatable: one target each)",
    )
    targets.add_argument(
        "--platform",
        action="append",
        default=[],
        metavar="TAG",
        help="as pip download: a platform tag, e.g. manylinux_2_28_x86_64 (repeatable: "
        "several make one target that accepts all of them, as in pip)",
    )
    targets.add_argument(
        "--implementation", metavar="cp|pp", help="as pip download: the Python implementation"
    )
    targets.add_argument(
        "--abi", action="append", default=[], metavar="ABI", help="as pip download: an ABI tag"
    )

    index = parser.add_argument_group("index")
    index.add_argument(
        "-i",
        "--index-url",
        metavar="URL",
        help="the package index (default: pip's configuration or $PIP_INDEX_URL, else "
        "https://pypi.org/simple); a file's own --index-url wins, as in pip",
    )
    index.add_argument(
        "--extra-index-url",
        action="append",
        default=[],
        metavar="URL",
        help="another index whose files count too (also $PIP_EXTRA_INDEX_URL)",
    )
    index.add_argument(
        "-f",
        "--find-links",
        action="append",
        default=[],
        metavar="LOCATION",
        help="as pip: a folder or page of archives whose files count too (repeatable)",
    )
    index.add_argument(
        "--no-index",
        action="store_true",
        help="as pip: ignore every index, use only --find-links locations",
    )
    add_isolated_option(index)
    index.add_argument(
        "--allow-index",
        action="append",
        metavar="HOST",
        help="the only hosts a requirements file may send pip to; others are reported "
        "(unlisted-index) and not contacted (repeatable)",
    )
    index.add_argument(
        "--allow-outside-includes",
        action="store_true",
        help="let files (named, included with -r/-c, or found by find-links) be read from "
        "places outside the repository; --fix still writes only inside it",
    )
    index.add_argument(
        "--offline",
        action="store_true",
        help="use only the cache; what it does not hold is reported as unverifiable",
    )
    add_cache_options(index)
    add_timeout_option(index)  # None: [tool.reqhash-check], else the default
    index.add_argument(
        "--concurrency",
        type=int,
        metavar="N",
        help=f"requests at once (default {DEFAULT_CONCURRENCY}, at most {MAX_CONCURRENCY})",
    )

    rules = parser.add_argument_group("rules")
    rules.add_argument(
        "--select", metavar="RULE,…", action="append", default=[], help="only these rules"
    )
    rules.add_argument(
        "--ignore", metavar="RULE,…", action="append", default=[], help="not these rules"
    )
    rules.add_argument(
        "--strict", action="store_true", default=None, help="warnings fail the run too"
    )

    out = parser.add_argument_group("output")
    out.add_argument(
        "--format",
        default="text",
        metavar="FORMAT",
        help=f"one of {', '.join(FORMATS)} (default text)",
    )
    out.add_argument("--output", "-o", metavar="PATH", help="write the report to PATH")
    out.add_argument("--sarif-output", metavar="PATH", help="also write a SARIF report to PATH")
    add_color_option(out)
    out.add_argument("-q", "--quiet", action="store_true", help="errors and the summary only")
    out.add_argument(
        "-v", "--verbose", action="store_true", help="every detail, and suppressed findings"
    )
    out.add_argument(
        "--no-progress", action="store_true", help="no progress line on a terminal's stderr"
    )

    fixing = parser.add_argument_group("fixing")
    fixing.add_argument(
        "--fix",
        action="store_true",
        help="rewrite the files: hashes, and pins for missing dependencies",
    )
    fixing.add_argument(
        "--diff",
        action="store_true",
        help="print the unified diff --fix would make and write nothing",
    )
    fixing.add_argument(
        "--fix-targets-only",
        action="store_true",
        help="with --fix, write only the hashes of files some target can install",
    )
    index.add_argument(
        "--verify-downloads",
        action="store_true",
        help="also fetch the file each target would download (never stored) and check that "
        "its bytes are the file the index lists: a proxy or mirror serving other bytes, or a "
        "corrupted download, is unpublished-bytes",
    )
    index.add_argument(
        "--max-download-size",
        metavar="MIB",
        type=int,
        default=512,
        help="with --verify-downloads, the largest file fetched, in MiB (default: 512); "
        "larger ones are reported unverified",
    )
    mode.add_argument(
        "--categories",
        metavar="NAMES",
        help="Pipfile.lock: the package groups pipenv installs, as its --categories takes "
        "them (default: 'default develop'; 'packages' and 'dev-packages' name them too)",
    )
    return parser


def entry() -> NoReturn:
    """The console command: `main()`, then out without the interpreter's teardown, which
    frees every object of the run one at a time (a tenth of a warm run). Nothing is left to
    it: the output is flushed here, the cache is closed and fixes are written (atomically)
    before `main()` returns."""
    os._exit(flushed(main(verdicts=True)))


def flushed(code: int) -> int:
    """The exit code once the output is flushed: what is still buffered is written here,
    where a reader gone or a full disk can still change the code, not at exit."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # a reader that stopped early (`| head`): nothing more to say
        code = _reader_gone()
    except (OSError, ValueError) as exc:  # a full disk, a closed stream: the report is lost
        _say(f"could not write the report ({type(exc).__name__}); nothing was reported")
        code = EXIT_USAGE
    try:
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    return code


def main(argv: Sequence[str] | None = None, *, verdicts: bool = False) -> int:
    """Run the command line `argv` (default: this process's) and return its exit code.

    `verdicts`: a check may be answered by, and may store, a verdict (`verdict.py`). Only
    the process's own command does this (`entry`, `python -m reqhash_check`): a caller
    running the command in its own process, as the tests do, gets every check done."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        if args_list[:1] == ["rules"]:
            return _rules_command(args_list[1:])
        if args_list[:1] == ["explain"]:
            from reqhash_check.explain import explain_main

            return explain_main(args_list[1:])
        return _check_command(args_list, verdicts=verdicts)
    except UsageError as exc:
        _say(f"error: {exc}")
        return EXIT_USAGE
    except KeyboardInterrupt:
        _say("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader of the output stopped early (`| head`)
        return _reader_gone()
    except Exception as exc:  # the last line of defence: one line, never a traceback
        if os.environ.get("REQHASH_CHECK_DEBUG") == "1":
            raise
        # The exception's text is not shown: it could quote a file's or an index's bytes.
        _say(
            f"internal error ({type(exc).__name__}); nothing was verified. Run again with "
            "REQHASH_CHECK_DEBUG=1 to see where, and please report it"
        )
        return EXIT_USAGE


def _reader_gone() -> int:
    """The reader of standard output went away (`reqhash-check … | head -c 1`): stop
    quietly, as `grep` or `cat` do when SIGPIPE ends them, with their exit status (141, not
    0: the report was not all read). Standard output is pointed at the null device so the
    text still buffered cannot fail again when Python flushes it at exit."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):  # not a real file (captured), or closed
        pass
    return EXIT_READER_GONE


def _say(message: str) -> None:
    """One line on stderr. Its text may name files or quote an index: made safe, so that
    it can neither break the line nor start a workflow command (see escape)."""
    from reqhash_check.escape import safe

    print(f"reqhash-check: {safe(message)}", file=sys.stderr)


def _check_command(argv: list[str], *, verdicts: bool = False) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help and --version
        return int(exc.code or 0)
    if args.explain:
        return _rules_command([args.explain])
    if not verdicts:
        return _checked(parser, args)
    from reqhash_check import verdict

    with verdict.session(argv, args, _write) as run:
        if run.replayed is not None:
            return run.replayed
        run.code = _checked(parser, args)
        return run.code


def _checked(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from reqhash_check.config import ConfigError
    from reqhash_check.requirements import RequirementsFileError
    from reqhash_check.rules import UnknownRuleError

    try:
        settings, strict = settings_from(args, os.environ)
    except (ConfigError, UnknownRuleError, RequirementsFileError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    output = _open_output(args.output)
    sarif = _open_output(args.sarif_output, "--sarif-output")
    from reqhash_check.runner import run

    progress = None if args.quiet or args.no_progress else _progress_printer()
    try:
        result = run(
            settings,
            progress=progress,
            download_progress=progress.downloaded if progress is not None else None,
        )
    finally:
        if progress is not None:
            progress.clear()
    return finish(args, settings, result, strict, output, sarif, parser)


def _rules_command(argv: list[str]) -> int:
    from reqhash_check.rules import RULES, suggest

    if not argv:
        width = max(len(r) for r in RULES)
        for rule in RULES.values():
            mark = "fix" if rule.fixable else "   "
            print(f"{rule.id:<{width}}  {rule.severity.value:<7}  {mark}  {rule.summary}")
        return EXIT_OK
    rule_id = argv[0]
    if rule_id not in RULES or len(argv) > 1:
        raise UsageError(f"unknown rule {rule_id!r}{suggest(rule_id, RULES)}")
    sys.stdout.write(RULES[rule_id].explain())
    return EXIT_OK


def _open_output(path: str | None, flag: str = "--output") -> Path | None:
    """Check an output path before the run: its folder exists and it can be written."""
    if path is None or path == "-":
        return None
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"{flag} {path}: the folder {folder} does not exist")
    if target.is_dir():
        raise UsageError(f"{flag} {path}: is a folder")
    if target.exists() and not os.access(target, os.W_OK):
        raise UsageError(f"{flag} {path}: cannot be written")
    return target


def settings_from(
    args: argparse.Namespace, environ: os._Environ[str] | dict[str, str]
) -> tuple[Any, bool]:
    from reqhash_check.config import load_config
    from reqhash_check.rules import parse_rule_list, suggest
    from reqhash_check.settings import CheckOptions, Settings, timeout_problem
    from reqhash_check.urls import redact_url, url_parses

    config = load_config(Path.cwd())

    def pick(name: str, default: Any = None) -> Any:
        """The command line's value, else the checked tree's (never for a location or a
        trust option: those are read with their origin, or from the command line only)."""
        value = getattr(args, name.replace("-", "_"), None)
        if value not in (None, [], ""):
            return value
        return config.get(name, default)

    if args.format not in FORMATS:
        raise UsageError(
            f"--format {args.format!r}: choose from {', '.join(FORMATS)}"
            + suggest(args.format, FORMATS)
        )
    if args.offline and args.no_cache:
        raise UsageError(
            "--offline answers from the cache and --no-cache never reads it; use one of them"
        )
    if args.offline and args.fix and not args.diff:
        raise UsageError(
            "--fix confirms every hash it writes with the index, which --offline never asks; "
            "use --diff to see the fixes the cache suggests"
        )
    for flag, urls in (
        ("--index-url", [args.index_url] if args.index_url else []),
        ("--extra-index-url", args.extra_index_url),
        ("--find-links", args.find_links),
    ):
        for url in urls:
            if not url_parses(url):
                raise UsageError(f"{flag} {redact_url(url)}: its host or port does not parse")
    allow_outside = args.allow_outside_includes
    files = (
        _expand_folders(tuple(args.files), allow_outside)
        if args.files
        else discover_files(Path.cwd(), allow_outside=allow_outside)
    )
    if not files:
        raise UsageError(
            "no requirements files given, and none found (requirements*.txt, "
            "requirements/*.txt, pylock.toml, pylock.*.toml)"
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
    timeout = float(pick("timeout", DEFAULT_TIMEOUT))
    concurrency = int(pick("concurrency", DEFAULT_CONCURRENCY))
    refused_timeout = timeout_problem(timeout)
    if refused_timeout:
        raise UsageError(refused_timeout)
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise UsageError(f"--concurrency must be between 1 and {MAX_CONCURRENCY}")
    binary = list(getattr(args, "binary", None) or [])
    if not binary:
        binary = [("only_binary", v) for v in config.get("only-binary", [])]
        binary += [("no_binary", v) for v in config.get("no-binary", [])]
    allow = args.allow_index
    from reqhash_check.runner import stdin_text

    settings = Settings(
        files=files,
        targets=tuple(targets),
        stdin_text=stdin_text() if "-" in files else None,
        check=CheckOptions(
            require_hashes=bool(pick("require-hashes", False)),
            pip_version=parse_pip_version(pick("pip-version")),
            binary_options=tuple(binary),
            prefer_binary=bool(pick("prefer-binary", False)),
            fix_targets_only=args.fix_targets_only,
        ),
        index_url=args.index_url,
        extra_index_urls=tuple(args.extra_index_url),
        tree_config=config,
        select=select,
        ignore=ignore,
        offline=args.offline,
        use_cache=not args.no_cache,
        cache_dir=Path(cache_dir) if cache_dir else None,
        timeout=timeout,
        concurrency=concurrency,
        fix=args.fix and not args.diff,
        diff=args.diff,
        allow_index=frozenset(h.lower() for h in allow) if allow else None,
        allow_outside=args.allow_outside_includes,
        find_links=tuple(args.find_links),
        no_index=args.no_index,
        isolated=args.isolated,
        environ=dict(environ),
        pipfile_categories=_categories(args.categories),
        verify_downloads=args.verify_downloads,
        max_download_bytes=_download_cap(args.max_download_size),
    )
    return settings, bool(pick("strict", False))


def _download_cap(mib: int) -> int:
    if not 1 <= mib <= 64 * 1024:
        raise UsageError("--max-download-size must be between 1 and 65536 MiB")
    return mib * 1024 * 1024


def _categories(text: str | None) -> tuple[str, ...]:
    from reqhash_check.pipfile import CATEGORIES, parse_categories

    if text is None:
        return CATEGORIES
    try:
        return parse_categories(text)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def discover_files(
    folder: Path, shown: str = "", *, allow_outside: bool = False
) -> tuple[str, ...]:
    """The files checked when none is named, listed through the confined file layer: a
    listed name that leads out of the repository or under `.git/` is still listed, and
    reading it refuses it by name (exit 2) without reading it; a `requirements/` folder
    that leads out is refused here. Paths are relative to the current folder (`shown` is
    how the folder was named, "" for the current one)."""
    from fnmatch import fnmatchcase

    from reqhash_check import fs
    from reqhash_check.lockfile import is_lock_path

    root = fs.Root.at(fs.repository_root(folder / "-"), allow_outside=allow_outside)
    limit = 100_000
    try:
        names = fs.list_folder(root, folder, limit)
    except fs.Refused as refused:
        raise UsageError(f"{folder}: cannot list: {refused.reason}") from None
    found = [n for n in names if fnmatchcase(n, "requirements*.txt")]
    if fs.kind(root, folder / "requirements") not in ("missing", "file", "other"):
        try:
            inner = fs.list_folder(root, folder / "requirements", limit)
        except fs.Refused as refused:
            raise UsageError(f"requirements: resolves {refused.reason}; not read") from None
        found += [
            os.path.join("requirements", n)
            for n in inner
            if fnmatchcase(n, "*.txt") and not n.startswith(".")
        ]
    # PEP 751 lock files, which pip 26.1+ reads with -r as well.
    found += [n for n in names if fnmatchcase(n, "pylock*.toml") and is_lock_path(n)]
    # pipenv installs Pipfile.lock with pip in hash-checking mode.
    found += [n for n in names if n == "Pipfile.lock"]
    return tuple(os.path.join(shown, name) if shown else name for name in found)


def _expand_folders(files: tuple[str, ...], allow_outside: bool) -> tuple[str, ...]:
    """A folder given as a file stands for the files discovery finds in it, as ruff and
    black take a folder; one where none is found is an error."""
    expanded: list[str] = []
    for name in files:
        if name == "-" or not os.path.isdir(name):
            expanded.append(name)
            continue
        found = discover_files(
            Path(name),
            "" if os.path.normpath(name) == "." else name,
            allow_outside=allow_outside,
        )
        if not found:
            raise UsageError(
                f"{name}: a folder without requirements*.txt, requirements/*.txt, "
                "pylock.toml, pylock.*.toml or Pipfile.lock"
            )
        expanded += found
    return tuple(dict.fromkeys(expanded))


def build_targets(
    python_versions: Sequence[str],
    platforms: Sequence[str],
    implementation: str | None,
    abis: Sequence[str],
    names: Sequence[str],
) -> list[Any]:
    from reqhash_check.rules import suggest
    from reqhash_check.targets import (
        EXAMPLE_TARGETS,
        current_target,
        parse_python_version,
        parse_target_name,
        targets_from_pip_options,
    )

    names = list(dict.fromkeys(names))
    if len(names) > MAX_TARGETS:
        raise UsageError(f"--target: {len(names)} targets given, at most {MAX_TARGETS} are checked")
    targets = []
    for name in names:
        try:
            targets.append(parse_target_name(name))
        except ValueError as exc:
            raise UsageError(f"{exc}{_suggest_target(name, EXAMPLE_TARGETS, suggest)}") from None
    if python_versions or platforms or implementation or abis:
        for version in python_versions:
            try:
                parse_python_version(version)
            except ValueError as exc:
                raise UsageError(f"--python-version: {exc}") from None
        targets.extend(targets_from_pip_options(python_versions, platforms, implementation, abis))
    if len(targets) > MAX_TARGETS:
        raise UsageError(
            f"--python-version/--platform: {len(targets)} targets, "
            f"at most {MAX_TARGETS} are checked"
        )
    return targets or [current_target()]


def _suggest_target(name: str, examples: Sequence[str], suggest: Any) -> str:
    """A close target name; a Linux one without its C library gets the glibc form (most
    Linux hosts), not the musl one a plain string match would pick."""
    parts = name.split("-")
    if len(parts) == 3 and parts[0] == "linux":
        return f" (did you mean linux-{parts[1]}-glibc2.28-{parts[2]}?)"
    glibc_first = sorted(examples, key=lambda e: "musl" in e)
    return str(suggest(name, glibc_first))


def parse_pip_version(text: str | None) -> tuple[int, int] | None:
    from reqhash_check.requirements import NEWEST, OLDEST

    if text is None:
        return None
    parts = text.split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isascii() and p.isdigit() for p in parts):
        raise UsageError(f"--pip-version {text!r}: expected X.Y, e.g. 24.0")
    version = int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    if not OLDEST <= version <= NEWEST:
        oldest, newest = ".".join(map(str, OLDEST)), ".".join(map(str, NEWEST))
        raise UsageError(f"--pip-version {text}: outside the pips modelled, {oldest} to {newest}")
    return version


def finish(
    args: argparse.Namespace,
    settings: Any,
    result: Any,
    strict: bool,
    output: Path | None,
    sarif: Path | None,
    parser: argparse.ArgumentParser | None = None,
) -> int:
    from reqhash_check.escape import safe_line
    from reqhash_check.report import RenderContext, renderer

    parser = parser or build_parser()
    for message in result.read_errors:
        _say(f"error: {message}")
    for message in result.fix_messages:
        print(safe_line(_why_not_fixed(message, settings, result.report)), file=sys.stderr)
    if args.diff:
        sys.stdout.write(result.diff)
    hints, note = fix_hints(parser, args, settings, result.report, os.environ)
    everything = _hint(parser, args, "fix", settings.files)
    context = RenderContext(
        color=_use_color(args.color, sys.stdout if output is None else None),
        verbose=args.verbose,
        quiet=args.quiet,
        tool_version=__version__,
        fix_command=everything.command if everything else "",
        fix_hints=hints,
        hint_note=note,
    )
    if args.diff and result.diff and everything is not None:
        print(safe_line(f"to write these changes: {everything.command}"), file=sys.stderr)
    text = renderer(args.format)(result.report, context)
    if not (args.diff and args.format == "text" and output is None):
        _write(output, text)
    if sarif is not None:
        _write(sarif, renderer("sarif")(result.report, context))
    if args.format == "github" and os.environ.get("GITHUB_STEP_SUMMARY"):
        from reqhash_check.report.github import append_step_summary, step_summary

        append_step_summary(step_summary(result.report, context), os.environ)
    return exit_code(result, strict)


def exit_code(result: Any, strict: bool) -> int:
    from reqhash_check.runner import failing

    if result.read_errors:
        return EXIT_USAGE
    if failing(result.report.findings, strict):
        return EXIT_FINDINGS
    if (result.report.unverified or result.report.index_errors) and not result.offline:
        return EXIT_UNVERIFIED
    return EXIT_OK


def _write(path: Path | None, text: str) -> None:
    recording = sys.modules.get("reqhash_check.verdict")  # only when a verdict may be stored
    if recording is not None:
        recording.note_file(path, text)
    if path is None:
        sys.stdout.write(text)
        return
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _why_not_fixed(message: str, settings: Any, report: Any) -> str:
    """ "nothing to fix" said with what stands in the way, when requirements went unverified:
    their published hashes are unknown, so nothing about them could be fixed."""
    if message != "nothing to fix" or not report.unverified:
        return message
    count = len({(u.location.path, u.location.line) for u in report.unverified})
    them = f"{count} {'requirement' if count == 1 else 'requirements'}"
    if settings.offline:
        return (
            f"nothing fixed: {them} not in the cache, so the hashes the index publishes for "
            "them are unknown; run without --offline to ask the index"
        )
    return (
        f"nothing fixed: {them} could not be verified against the index, so the hashes it "
        "publishes for them are unknown; check the URL and the network and try again"
    )


def _hint(
    parser: argparse.ArgumentParser, args: argparse.Namespace, mode: str, files: Sequence[str]
) -> Any:
    from reqhash_check.hints import command

    return command(parser, args, mode, files)


def fix_hints(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    settings: Any,
    report: Any,
    environ: os._Environ[str] | dict[str, str],
) -> tuple[dict[str, str | None], str | None]:
    """For each file with a fixable finding, the command that fixes it where the tool runs:
    the file itself when it was given, else (an included file) the files given, with every
    option that shaped the findings. None where no printed command can (standard input)."""
    given = list(settings.files)
    hints: dict[str, str | None] = {}
    note = None
    for path in {f.location.path for f in report.findings if f.fix is not None}:
        hint = _hint(parser, args, "fix", [path] if path in given else given)
        if hint is None:
            hints[path] = None
            continue
        note = note or hint.note
        if environ.get("PRE_COMMIT") == "1" and not args.fix:
            hints[path] = f"{hint.command} (or add the reqhash-fix pre-commit hook)"
        elif environ.get("GITHUB_ACTIONS") == "true":
            hints[path] = f"run locally: {hint.command}"
        else:
            hints[path] = hint.command
    return hints, note


def _use_color(choice: str, stream: TextIO | None) -> bool:
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return stream is not None and stream.isatty()


class _Progress:
    """`checking 12/40 releases…` on a terminal's stderr, cleared when the run ends."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        sys.stderr.write(f"\rchecking {done}/{total} releases…\033[K")
        sys.stderr.flush()
        self.shown = True

    def downloaded(self, done: int, total: int) -> None:
        """`verifying downloads 12.3/45.6 MiB…` (--verify-downloads)."""
        mib = 1024 * 1024
        sys.stderr.write(f"\rverifying downloads {done / mib:.1f}/{total / mib:.1f} MiB…\033[K")
        sys.stderr.flush()
        self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _progress_printer() -> _Progress | None:
    return _Progress() if sys.stderr.isatty() else None


def _split(values: Sequence[str]) -> list[str]:
    return [part for value in values for part in value.split(",")]
