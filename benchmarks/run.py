"""Time reqhash-check against the tools people use to check or regenerate hashes.

    PATH=/path/to/bench-venv/bin:$PATH python benchmarks/run.py [-n 5] [FILE]

Every tool runs N times on the same requirements file (default: the 152-package
benchmarks/data/requirements-150.txt) and the table shows the median, min and
max wall-clock seconds and the ratio to ``reqhash-check`` with a warm cache.
A tool that is not on PATH is listed as "not installed". Each command is
printed exactly as run; ``{run}`` stands for the fresh folder every run gets.

pip and uv are isolated from the local configuration (config files, extra
indexes, find-links): every run asks https://pypi.org/simple and nothing else.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_FILE = HERE / "data" / "requirements-150.txt"
INDEX_URL = "https://pypi.org/simple"

# Variables that would point pip, uv, hashin or reqhash-check at another index,
# extra find-links or a shared cache. They are removed from the environment of
# every run; PIP_CONFIG_FILE is set to /dev/null so no pip.conf is read.
_ISOLATE_PREFIXES = ("PIP_", "UV_", "REQHASH_CHECK_")
_ISOLATE_NAMES = ("INDEX_URL",)  # hashin reads INDEX_URL


def isolated_env() -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_ISOLATE_PREFIXES) and key not in _ISOLATE_NAMES
    }
    env["PIP_CONFIG_FILE"] = os.devnull
    env["UV_NO_CONFIG"] = "1"
    return env


@dataclass
class Row:
    """One line of the table: a command template and how each run is prepared.

    ``argv`` gets the run's fresh folder and returns the command. ``warm_up``
    runs once, untimed, before the timed runs (to fill a shared cache).
    """

    name: str
    measures: str
    program: list[str] | None
    argv: Callable[[Path], list[str]]
    ok_codes: tuple[int, ...] = (0,)
    warm_up: bool = False
    baseline: bool = False
    times: list[float] = field(default_factory=list)
    failure: str | None = None


def find_reqhash_check(explicit: str | None) -> list[str] | None:
    if explicit:
        return shlex.split(explicit)
    on_path = shutil.which("reqhash-check")
    if on_path:
        return [on_path]
    probe = subprocess.run(
        [sys.executable, "-c", "import reqhash_check"], capture_output=True, check=False
    )
    return [sys.executable, "-m", "reqhash_check"] if probe.returncode == 0 else None


def which(name: str) -> list[str] | None:
    found = shutil.which(name)
    return [found] if found else None


def pinned_specs(requirements: Path) -> list[str]:
    """``name==version`` of every pinned requirement, for hashin's explicit form."""
    specs = []
    for line in requirements.read_text(encoding="utf-8").splitlines():
        head = line.split("#", 1)[0].split(";", 1)[0].strip().rstrip("\\").strip()
        if "==" in head and not head.startswith("-"):
            specs.append(head)
    return specs


def build_rows(args: argparse.Namespace, shared: Path) -> list[Row]:
    file: Path = args.file
    in_file: Path = args.in_file or file.with_suffix(".in")
    reqhash = find_reqhash_check(args.reqhash_check)
    hashin = which("hashin")
    uv = which("uv")
    pip = which("pip")
    warm_cache = shared / "reqhash-check-cache"
    uv_cache = shared / "uv-cache"
    specs = pinned_specs(file)

    def rc(*options: str) -> Callable[[Path], list[str]]:
        return lambda run: [*(reqhash or []), *options, "--format", "json", str(file)]

    def uv_compile(cache: Callable[[Path], Path]) -> Callable[[Path], list[str]]:
        return lambda run: [
            *(uv or []),
            "pip",
            "compile",
            "--no-config",
            "--quiet",
            "--index-url",
            INDEX_URL,
            "--generate-hashes",
            "--python-version",
            args.python_version,
            "--cache-dir",
            str(cache(run)),
            "-o",
            str(run / "compiled.txt"),
            str(in_file),
        ]

    return [
        Row(
            "reqhash-check (cold cache)",
            "every project asked from PyPI; a fresh --cache-dir per run",
            reqhash,
            rc("--cache-dir", "{run}/cache"),
            ok_codes=(0, 1),
        ),
        Row(
            "reqhash-check (warm cache)",
            "same, with a cache filled by one untimed run (revalidated as the cache decides)",
            reqhash,
            rc("--cache-dir", str(warm_cache)),
            ok_codes=(0, 1),
            warm_up=True,
            baseline=True,
        ),
        Row(
            "reqhash-check --offline (warm)",
            "cache only, no network at all",
            reqhash,
            rc("--offline", "--cache-dir", str(warm_cache)),
            ok_codes=(0, 1),
        ),
        Row(
            "hashin -u -d",
            "hashin --update-all --dry-run on a copy: fetches every project JSON, shows the diff",
            hashin,
            lambda run: [
                *(hashin or []),
                "--index-url",
                "https://pypi.org/",
                "-r",
                str(run / file.name),
                "--update-all",
                "--dry-run",
            ],
        ),
        Row(
            "hashin -d NAME==VERSION…",
            "hashin re-hashing every pin at its pinned version (dry run, on a copy)",
            hashin,
            lambda run: [
                *(hashin or []),
                "--index-url",
                "https://pypi.org/",
                "-r",
                str(run / file.name),
                "--dry-run",
                *specs,
            ],
        ),
        Row(
            "uv pip compile --generate-hashes (cold)",
            f"regenerates the file from {in_file.name}: resolves and hashes, fresh uv cache",
            uv,
            uv_compile(lambda run: run / "uv-cache"),
        ),
        Row(
            "uv pip compile --generate-hashes (warm)",
            "same, with a uv cache filled by one untimed run",
            uv,
            uv_compile(lambda run: uv_cache),
            warm_up=True,
        ),
        Row(
            "pip download --require-hashes --no-deps",
            "pip's own check: downloads every file it would install and hashes it, no cache",
            pip,
            lambda run: [
                *(pip or []),
                "download",
                "--isolated",
                "--no-cache-dir",
                "--disable-pip-version-check",
                "--quiet",
                "--index-url",
                INDEX_URL,
                "--require-hashes",
                "--no-deps",
                "-d",
                str(run / "downloads"),
                "-r",
                str(file),
            ],
        ),
    ]


def show(argv: list[str], run: Path) -> str:
    return shlex.join(argv).replace(str(run), "{run}")


def time_row(row: Row, runs: int, work: Path, env: dict[str, str], row_input: Path) -> None:
    def one(index: int) -> float | None:
        run = Path(tempfile.mkdtemp(prefix=f"run{index}-", dir=work))
        # hashin edits the file it is given (even a dry run reads it): give it a copy
        shutil.copyfile(row_input, run / row_input.name)
        argv = [part.replace("{run}", str(run)) for part in row.argv(run)]
        start = time.perf_counter()
        done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        shutil.rmtree(run, ignore_errors=True)
        if done.returncode not in row.ok_codes:
            tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
            row.failure = f"exit {done.returncode}: " + " / ".join(tail)
            return None
        return elapsed

    if row.warm_up and one(0) is None:
        return
    for index in range(1, runs + 1):
        elapsed = one(index)
        if elapsed is None:
            return
        row.times.append(elapsed)
        print(f"  {row.name}: run {index}/{runs} {elapsed:.2f}s", file=sys.stderr, flush=True)


def table(rows: list[Row]) -> str:
    baseline = next((statistics.median(r.times) for r in rows if r.baseline and r.times), None)
    header = ("tool", "median s", "min s", "max s", "× rc warm")
    lines: list[tuple[str, ...]] = [header]
    for row in rows:
        if row.program is None:
            lines.append((row.name, "not installed", "", "", ""))
        elif row.failure is not None:
            lines.append((row.name, "failed", "", "", ""))
        elif not row.times:
            lines.append((row.name, "skipped", "", "", ""))
        else:
            median = statistics.median(row.times)
            ratio = f"{median / baseline:.1f}" if baseline else "-"
            lines.append(
                (row.name, f"{median:.2f}", f"{min(row.times):.2f}", f"{max(row.times):.2f}", ratio)
            )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        cells = [line[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True)
        ]
        out.append("  ".join(cells).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Side-by-side wall-clock medians of reqhash-check and its peers."
    )
    parser.add_argument("file", nargs="?", type=Path, default=DEFAULT_FILE)
    parser.add_argument("-n", "--runs", type=int, default=5, help="timed runs per tool (5)")
    parser.add_argument("--in-file", type=Path, help="uv's input (default: FILE with .in)")
    parser.add_argument(
        "--python-version", default="3.11", help="uv's --python-version (3.11, as FILE was made)"
    )
    parser.add_argument("--reqhash-check", metavar="CMD", help="how to run reqhash-check")
    parser.add_argument(
        "--only", metavar="WORD,…", help="run only the rows whose name contains one of the words"
    )
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = parser.parse_args(argv)
    args.file = args.file.resolve()
    if args.in_file:
        args.in_file = args.in_file.resolve()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    env = isolated_env()
    with tempfile.TemporaryDirectory(prefix="reqhash-bench-") as tmp:
        work = Path(tmp)
        rows = build_rows(args, work / "shared")
        if args.only:
            words = [w.strip() for w in args.only.split(",") if w.strip()]
            rows = [r for r in rows if any(w in r.name for w in words)]
        print(f"input: {args.file} ({len(pinned_specs(args.file))} pins), {args.runs} runs each")
        print("env: PIP_CONFIG_FILE=/dev/null UV_NO_CONFIG=1, PIP_*/UV_*/INDEX_URL unset\n")
        for row in rows:
            print(f"{row.name}: {row.measures}")
            if row.program is None:
                print("    not installed\n")
                continue
            print(f"    $ {show(row.argv(work / '{run}'), work / '{run}')}\n")
        if args.dry_run:
            return 0
        for row in rows:
            if row.program is not None:
                time_row(row, args.runs, work, env, args.file)
    print(table(rows))
    failures = [r for r in rows if r.failure]
    for row in failures:
        print(f"\n{row.name} failed: {row.failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
