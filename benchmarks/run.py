"""Time and measure reqhash-check against its peers, on a replayed or the real index.

    .venv/bin/python benchmarks/run.py --index replay      # recorded answers, 50 ms a request
    .venv/bin/python benchmarks/run.py --index real        # pypi.org as this machine reaches it

Sections (``--sections``, default all that apply to the mode):

- ``tools``: per input file, every row once per round, rounds interleaved
  (the order rotates each round); median, min, max wall-clock seconds, peak
  RSS, and ratios to the reqhash-check warm row and to the network floor row.
- ``import``: interpreter start, ``-X importtime`` of ``reqhash_check.cli`` and
  ``reqhash-check --version``.
- ``scaling`` (replay only): synthetic files of 10 to 3,000 pins, a
  50,000-line file and projects with 10 to 3,000 releases, cold against the
  loopback index and ``--offline`` from a warm cache (time and peak RSS).

Every command runs in a fresh folder (``{run}``), isolated from the machine's
pip/uv configuration; in replay mode a dead proxy is set for everything but
the loopback address, so nothing can reach the real network unnoticed. The
tables go to stdout, progress to stderr, all figures to ``--json``.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import replay  # noqa: E402
import synth  # noqa: E402

DATA = HERE / "data"
CACHE_ROOT = replay.DEFAULT_STORE.parent
DEFAULT_PEERS = CACHE_ROOT / "peers" / "bin"
REAL_SIMPLE = "https://pypi.org/simple"
REAL_BASE = "https://pypi.org/"
FLOOR_CONCURRENCIES = (8, 24, 64)
"""The network floor is the best of these: a client keeping more requests in flight (uv keeps
about 50) can be faster than any one setting."""
TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None
"""GNU time (Debian package ``time``) measures peak RSS; without it the figure is rough."""


@dataclass(frozen=True)
class Input:
    key: str
    path: Path
    python: str
    """The Python the file was compiled for: every tool that takes a target gets it."""
    about: str
    skip: tuple[tuple[str, str], ...] = ()
    """Rows left out for this input, and why."""


INPUTS = {
    "warehouse": Input(
        "warehouse",
        DATA / "warehouse-main.txt",
        "3.14",
        "pypi/warehouse requirements/main.txt (pip-compile, Python 3.14)",
    ),
    "300": Input(
        "300",
        DATA / "requirements-300.txt",
        "3.11",
        "requirements-300.txt (uv pip compile, CPython 3.11, manylinux_2_28 x86_64)",
        skip=(
            (
                "pip-compile",
                "left out: pip-compile 7.6.2 downloads and hashes every file of every pinned "
                "release (its JSON API URL, <index>/<name>/json, answers 404), 14.4 GB for "
                "this file",
            ),
        ),
    ),
    "150": Input(
        "150",
        DATA / "requirements-150.txt",
        "3.11",
        "requirements-150.txt (pip-compile, CPython 3.11)",
    ),
}

# --- reading pins ------------------------------------------------------------------

_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*===?\s*([^\s;\\]+)\s*(;[^\\]*)?")


def logical_lines(text: str) -> Iterator[str]:
    """Lines with ``\\`` continuations joined and comments cut, as pip reads them."""
    pending = ""
    for raw in text.splitlines():
        line = raw
        if line.lstrip().startswith("#"):
            line = ""
        elif " #" in line:
            line = line.split(" #", 1)[0]
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield (pending + line).strip()
        pending = ""
    if pending.strip():
        yield pending.strip()


def pins(path: Path) -> list[tuple[str, str, str]]:
    """(name, version, marker) of every ``name==version`` requirement of a file."""
    found = []
    for line in logical_lines(path.read_text(encoding="utf-8")):
        match = _PIN.match(line)
        if match:
            marker = (match.group(4) or "").strip()
            found.append((match.group(1), match.group(3), marker))
    return found


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def write_pins_file(source: Path, target: Path) -> Path:
    """The pins of a hashed file without hashes: the input uv and pip-compile regenerate."""
    lines = [f"{name}=={version} {marker}".rstrip() for name, version, marker in pins(source)]
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


# --- running and measuring ----------------------------------------------------------


_ISOLATE_PREFIXES = ("PIP_", "UV_", "REQHASH_CHECK_")
_ISOLATE_NAMES = ("INDEX_URL",)  # hashin reads INDEX_URL
_PROXY_NAMES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def isolated_env(*, replay_mode: bool) -> dict[str, str]:
    """The environment of every measured command: no local pip/uv configuration."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(_ISOLATE_PREFIXES)
        and key not in _ISOLATE_NAMES
        and key.lower() not in _PROXY_NAMES
    }
    # An installed tool has its bytecode (pip compiles it at install): a variable that keeps
    # Python from writing .pyc files would charge every run the compiling of every module.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["UV_NO_CONFIG"] = "1"
    env["UV_PYTHON_DOWNLOADS"] = "never"
    if replay_mode:
        # Anything that tries to leave the loopback interface meets a closed port.
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
            env[name] = env[name.lower()] = "http://127.0.0.1:9"
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"
    return env


@dataclass
class Sample:
    seconds: float
    rss_mb: float
    code: int
    cpu: float = 0.0
    """User + system CPU seconds of the command and its children."""
    requests: int | None = None
    misses: int | None = None


def measure(
    argv: list[str],
    env: dict[str, str],
    cwd: Path,
    server: replay.ReplayServer | None,
    timeout: float | None = None,
    process_cwd: Path | None = None,
) -> tuple[Sample, str]:
    """Run a command; wall-clock seconds, peak RSS of it and its children, exit code.

    After ``timeout`` seconds its whole process group is killed (exit code -9).
    """
    before = server.stats.snapshot() if server else None
    # The peak RSS is taken by GNU time: os.wait4 on a child forked from this process
    # would count this (large) process's pages, which the child carries until its exec.
    rss_file = cwd / "rss.txt"
    wrapped = [TIME, "-f", "%M", "-o", str(rss_file), *argv] if TIME else argv
    with (cwd / "out.log").open("wb") as out:
        start = time.perf_counter()
        process = subprocess.Popen(
            wrapped,
            env=env,
            cwd=process_cwd or cwd,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        timer = None
        if timeout:
            timer = threading.Timer(timeout, _kill_group, (process.pid,))
            timer.start()
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        if timer is not None:
            timer.cancel()
    process.returncode = code = os.waitstatus_to_exitcode(status)
    rss_kb = float(usage.ru_maxrss)
    if TIME:
        try:
            rss_kb = float(rss_file.read_text(encoding="utf-8").split()[-1])
        except (OSError, ValueError, IndexError):
            rss_kb = float("nan")
    sample = Sample(elapsed, rss_kb / 1024, code, usage.ru_utime + usage.ru_stime)
    if server and before:
        after = server.stats.snapshot()
        sample.requests = after["requests"] - before["requests"]
        sample.misses = after["misses"] - before["misses"]
        if sample.misses:
            missed = after["missed"][len(before["missed"]) :][:3]
            (cwd / "misses.log").write_text("\n".join(missed), encoding="utf-8")
    output = (cwd / "out.log").read_text(encoding="utf-8", errors="replace")
    return sample, output


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


@dataclass
class Row:
    key: str
    name: str
    argv: Callable[[Path], list[str]] | None
    """The command for a run folder; None when the tool is not installed."""
    ok_codes: tuple[int, ...] = (0,)
    warm_up: bool = False
    warm_ups: int = 1
    """How many untimed runs warm it up (with `warm_up`)."""
    same_folder: bool = False
    """Every run in one folder (the same current folder each time), not a fresh one."""
    copy_input: bool = False
    slow: bool = False
    """Runs only in the first ``--slow-rounds`` rounds (it downloads distributions)."""
    note: str = ""
    samples: list[Sample] = field(default_factory=list)
    failure: str | None = None

    def median(self) -> float | None:
        return statistics.median(s.seconds for s in self.samples) if self.samples else None


@dataclass
class Tools:
    reqhash_check: list[str]
    python: str
    hashin: list[str] | None
    uv: list[str] | None
    pip_compile: list[str] | None
    pip: list[str] | None
    peers_python: str | None

    @classmethod
    def find(cls, args: argparse.Namespace) -> Tools:
        peers = Path(args.peers).expanduser()

        def peer(name: str) -> list[str] | None:
            local = peers / name
            if local.exists():
                return [str(local)]
            found = shutil.which(name)
            return [found] if found else None

        beside = Path(sys.executable).with_name("reqhash-check")
        if args.reqhash_check:
            reqhash = shlex.split(args.reqhash_check)
        elif beside.exists():
            reqhash = [str(beside)]
        else:
            reqhash = [sys.executable, "-m", "reqhash_check"]
        python = peer("python")
        return cls(
            reqhash_check=reqhash,
            python=sys.executable,
            hashin=peer("hashin"),
            uv=peer("uv"),
            pip_compile=peer("pip-compile"),
            pip=peer("pip"),
            peers_python=python[0] if python else None,
        )

    def versions(self, env: dict[str, str]) -> dict[str, str]:
        found = {}
        for name, argv in (
            ("reqhash-check", self.reqhash_check),
            ("hashin", self.hashin),
            ("uv", self.uv),
            ("pip-compile", self.pip_compile),
            ("pip", self.pip),
        ):
            if argv is None:
                found[name] = "not installed"
                continue
            done = subprocess.run(
                [*argv, "--version"], env=env, capture_output=True, text=True, check=False
            )
            found[name] = (done.stdout or done.stderr).strip().splitlines()[0]
        return found


def tool_rows(
    tools: Tools,
    source: Input,
    *,
    simple_url: str,
    base_url: str,
    shared: Path,
    pins_file: Path,
) -> list[Row]:
    file = str(source.path)
    names = sorted({canonical(name) for name, _, _ in pins(source.path)})
    warm_cache = shared / "reqhash-check-cache"
    uv_cache = shared / "uv-cache"
    index = [] if simple_url == REAL_SIMPLE else ["--index-url", simple_url]

    def rc(*options: str, output: str = "{run}/report.json") -> Callable[[Path], list[str]]:
        return lambda run: [
            *tools.reqhash_check,
            *options,
            *index,
            "--python-version",
            source.python,
            "--format",
            "json",
            "--output",
            output.replace("{run}", str(run)),
            file,
        ]

    def uv(cache: Callable[[Path], Path]) -> Callable[[Path], list[str]] | None:
        if tools.uv is None:
            return None
        python = ["--python", tools.peers_python] if tools.peers_python else []
        return lambda run: [
            *(tools.uv or []),
            "pip",
            "compile",
            "--no-config",
            "--quiet",
            "--no-python-downloads",
            *python,
            "--index-url",
            simple_url,
            "--generate-hashes",
            "--python-version",
            source.python,
            "--cache-dir",
            str(cache(run)),
            "-o",
            f"{run}/compiled.txt",
            str(pins_file),
        ]

    def peer(argv: list[str] | None, build: Callable[[Path], list[str]]) -> Any:
        return build if argv is not None else None

    def floor(concurrency: int) -> Row:
        return Row(
            f"floor-{concurrency}",
            f"network floor: Simple JSON pages, {concurrency} at a time",
            lambda run: [
                tools.python,
                str(HERE / "floor.py"),
                "--concurrency",
                str(concurrency),
                "--index-url",
                simple_url,
                *names,
            ],
            note=f"{len(names)} pages, no parsing",
        )

    return [
        *(floor(concurrency) for concurrency in FLOOR_CONCURRENCIES),
        Row(
            "rc-cold",
            "reqhash-check (cold cache)",
            rc("--cache-dir", "{run}/cache"),
            ok_codes=(0, 1),
        ),
        Row(
            "rc-warm",
            "reqhash-check (warm cache)",
            rc("--cache-dir", str(warm_cache)),
            ok_codes=(0, 1),
            warm_up=True,
        ),
        Row(
            "rc-again",
            "reqhash-check, the same run again (verdict)",
            rc("--cache-dir", str(shared / "again-cache"), output=str(shared / "again.json")),
            ok_codes=(0, 1),
            warm_up=True,
            warm_ups=2,
            same_folder=True,
        ),
        Row(
            "rc-offline",
            "reqhash-check --offline (warm)",
            rc("--offline", "--cache-dir", str(warm_cache)),
            ok_codes=(0, 1),
        ),
        Row(
            "hashin",
            "hashin -u -d (on a copy)",
            peer(
                tools.hashin,
                lambda run: [
                    *(tools.hashin or []),
                    "--index-url",
                    base_url,
                    "-r",
                    f"{run}/{source.path.name}",
                    "--update-all",
                    "--include-prereleases",
                    "--dry-run",
                ],
            ),
            copy_input=True,
            note="--include-prereleases: without it hashin stops at a project with only "
            "pre-releases",
        ),
        Row("uv-cold", "uv pip compile --generate-hashes (cold)", uv(lambda run: run / "uv")),
        Row(
            "uv-warm",
            "uv pip compile --generate-hashes (warm)",
            uv(lambda run: uv_cache),
            warm_up=True,
        ),
        Row(
            "pip-compile",
            "pip-compile --generate-hashes",
            peer(
                tools.pip_compile,
                lambda run: [
                    *(tools.pip_compile or []),
                    "--quiet",
                    "--no-config",
                    "--generate-hashes",
                    "--allow-unsafe",
                    "--no-emit-index-url",
                    "--index-url",
                    simple_url,
                    "--cache-dir",
                    f"{run}/pip-tools-cache",
                    "--pip-args",
                    f"--isolated --disable-pip-version-check --cache-dir {run}/pip-cache",
                    "-o",
                    f"{run}/compiled.txt",
                    str(pins_file),
                ],
            ),
            note="resolves for the Python it runs on",
            slow=True,
        ),
        Row(
            "pip-download",
            "pip download --require-hashes --no-deps",
            peer(
                tools.pip,
                lambda run: [
                    *(tools.pip or []),
                    "download",
                    "--isolated",
                    "--no-cache-dir",
                    "--disable-pip-version-check",
                    "--quiet",
                    "--index-url",
                    simple_url,
                    "--require-hashes",
                    "--no-deps",
                    "--python-version",
                    source.python,
                    "-d",
                    f"{run}/downloads",
                    "-r",
                    file,
                ],
            ),
            slow=True,
        ),
    ]


def show(argv: list[str], run: Path) -> str:
    return shlex.join(argv).replace(str(run), "{run}")


def run_once(
    row: Row,
    work: Path,
    env: dict[str, str],
    server: replay.ReplayServer | None,
    source: Path | None,
    timeout: float | None = None,
) -> Sample | None:
    assert row.argv is not None
    run = Path(tempfile.mkdtemp(prefix=f"{row.key}-", dir=work))
    if row.copy_input and source is not None:
        shutil.copyfile(source, run / source.name)
    argv = [part.replace("{run}", str(run)) for part in row.argv(run)]
    process_cwd = None
    if row.same_folder:
        process_cwd = work / f"{row.key}-folder"
        process_cwd.mkdir(exist_ok=True)
    sample, output = measure(argv, env, run, server, timeout, process_cwd)
    if timeout and sample.code == -signal.SIGKILL and sample.seconds >= timeout:
        row.failure = f"timed out after {timeout:.0f} s"
        shutil.rmtree(run, ignore_errors=True)
        return None
    if sample.code not in row.ok_codes:
        tail = " / ".join(output.strip().splitlines()[-4:])
        row.failure = f"exit {sample.code}: {tail[-600:]}"
        shutil.rmtree(run, ignore_errors=True)
        return None
    if sample.misses:
        missed = (run / "misses.log").read_text(encoding="utf-8")
        row.note = f"{sample.misses} requests not recorded, e.g. {missed.splitlines()[0]}"
    shutil.rmtree(run, ignore_errors=True)
    return sample


def interleave(
    rows: list[Row],
    rounds: int,
    work: Path,
    env: dict[str, str],
    server: replay.ReplayServer | None,
    label: str,
    source: Path | None = None,
    *,
    slow_rounds: int | None = None,
    timeout: float | None = None,
) -> None:
    """Warm-ups first, then ``rounds`` rounds of every row, the starting row rotating."""
    live = [r for r in rows if r.argv is not None]
    for row in live:
        for _ in range(row.warm_ups if row.warm_up else 0):
            print(f"  [{label}] warm-up: {row.name}", file=sys.stderr, flush=True)
            if run_once(row, work, env, server, source, timeout) is None:
                print(f"    failed: {row.failure}", file=sys.stderr)
                break
    for number in range(rounds):
        shift = number % len(live) if live else 0
        for row in live[shift:] + live[:shift]:
            if row.failure or (row.slow and slow_rounds is not None and number >= slow_rounds):
                continue
            sample = run_once(row, work, env, server, source, timeout)
            if sample is None:
                print(f"  [{label}] {row.name}: FAILED {row.failure}", file=sys.stderr)
                continue
            row.samples.append(sample)
            print(
                f"  [{label}] round {number + 1}/{rounds} {row.name}: "
                f"{sample.seconds:.2f}s {sample.rss_mb:.0f} MB",
                file=sys.stderr,
                flush=True,
            )


# --- tables -------------------------------------------------------------------------


def render(header: Sequence[str], lines: list[Sequence[str]]) -> str:
    """A Markdown table, numbers right-aligned."""
    table = [list(map(str, header)), *[list(map(str, line)) for line in lines]]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    out = []
    for n, line in enumerate(table):
        cells = [line[0].ljust(widths[0])]
        cells += [c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True)]
        out.append("| " + " | ".join(cells) + " |")
        if n == 0:
            rules = ["-" * widths[0]] + ["-" * (w - 1) + ":" for w in widths[1:]]
            out.append("| " + " | ".join(rules) + " |")
    return "\n".join(out)


def _ratio(value: float | None, to: float | None) -> str:
    if value is None or not to:
        return "-"
    return f"{value / to:.2f}" if value / to < 10 else f"{value / to:.0f}"


def floor_of(rows: Sequence[Row]) -> Row | None:
    """The floor row: the fastest (by median) of the concurrencies measured, so that
    "× floor" is against what the network allows, not against one client's setting."""
    measured = [r for r in rows if r.key.startswith("floor-") and r.samples]
    return min(measured, key=lambda r: r.median() or 0.0) if measured else None


def tools_table(rows: list[Row], *, replay_mode: bool) -> str:
    by_key = {r.key: r for r in rows}
    warm = by_key["rc-warm"].median()
    best = floor_of(rows)
    floor = best.median() if best is not None else None
    header = ["row", "median s", "min s", "max s", "× rc warm", "× floor", "cpu s", "peak MB"]
    if replay_mode:
        header.append("requests")
    lines = []
    for row in rows:
        if row.argv is None:
            missing = "left out" if row.note else "not installed"
            lines.append([row.name, missing, *[""] * (len(header) - 2)])
            continue
        if not row.samples:
            lines.append([row.name, "failed" if row.failure else "-", *[""] * (len(header) - 2)])
            continue
        seconds = [s.seconds for s in row.samples]
        median = statistics.median(seconds)
        line = [
            f"{row.name} (the floor)" if row is best else row.name,
            f"{median:.2f}",
            f"{min(seconds):.2f}",
            f"{max(seconds):.2f}",
            _ratio(median, warm),
            _ratio(median, floor),
            f"{statistics.median(s.cpu for s in row.samples):.2f}",
            f"{statistics.median(s.rss_mb for s in row.samples):.0f}",
        ]
        if replay_mode:
            requests = statistics.median(s.requests or 0 for s in row.samples)
            line.append(f"{requests:.0f}")
        lines.append(line)
    return render(header, lines)


def row_json(row: Row) -> dict[str, Any]:
    data: dict[str, Any] = {"name": row.name, "note": row.note or None, "failure": row.failure}
    if row.argv is None:
        data["installed"] = False
        return data
    seconds = [s.seconds for s in row.samples]
    data.update(
        {
            "seconds": [round(s, 4) for s in seconds],
            "rss_mb": [round(s.rss_mb, 1) for s in row.samples],
            "cpu_s": [round(s.cpu, 3) for s in row.samples],
            "exit_codes": [s.code for s in row.samples],
            "requests": [s.requests for s in row.samples],
            "misses": [s.misses for s in row.samples],
            "median_s": round(statistics.median(seconds), 4) if seconds else None,
            "min_s": round(min(seconds), 4) if seconds else None,
            "max_s": round(max(seconds), 4) if seconds else None,
            "median_rss_mb": round(statistics.median(s.rss_mb for s in row.samples), 1)
            if seconds
            else None,
        }
    )
    return data


# --- sections -----------------------------------------------------------------------


@contextmanager
def index_for(
    mode: str, latency: float, stores: list[Path], *, record: bool = False
) -> Iterator[tuple[replay.ReplayServer | None, str, str]]:
    if mode == "real":
        yield None, REAL_SIMPLE, REAL_BASE
        return
    server = replay.start(stores, latency=latency, record=record)
    try:
        yield server, f"{server.base_url}/simple", f"{server.base_url}/"
    finally:
        server.shutdown()
        server.server_close()


def section_tools(
    args: argparse.Namespace, tools: Tools, work: Path, results: dict[str, Any]
) -> None:
    replay_mode = args.index == "replay"
    env = isolated_env(replay_mode=replay_mode)
    results["tools"] = {}
    with index_for(args.index, args.latency, args.store) as (server, simple_url, base_url):
        for key in args.inputs:
            source = INPUTS[key]
            shared = work / f"shared-{key}"
            shared.mkdir()
            pins_file = write_pins_file(source.path, work / f"{key}-pins.txt")
            rows = tool_rows(
                tools,
                source,
                simple_url=simple_url,
                base_url=base_url,
                shared=shared,
                pins_file=pins_file,
            )
            rows = select(rows, args, source)
            count = len(pins(source.path))
            hashes = source.path.read_text(encoding="utf-8").count("--hash")
            title = f"{source.about}: {count} pins, {hashes} hashes, target Python {source.python}"
            print(f"\n## tools, {args.index} index: {title}\n")
            if key == args.inputs[0]:
                for row in rows:
                    if row.argv is not None:
                        print(f"- {row.name}: `{show(row.argv(Path('{run}')), Path('{run}'))}`")
                print()
            sys.stdout.flush()
            interleave(
                rows,
                args.rounds,
                work,
                env,
                server,
                key,
                source.path,
                slow_rounds=args.slow_rounds,
                timeout=args.timeout,
            )
            print(tools_table(rows, replay_mode=replay_mode))
            for row in rows:
                if row.failure or row.note:
                    print(f"\n- {row.name}: {row.failure or row.note}")
            sys.stdout.flush()
            best = floor_of(rows)
            results["tools"][key] = {
                "floor": best.key if best is not None else None,
                "file": str(source.path.relative_to(HERE.parent)),
                "pins": count,
                "hashes": hashes,
                "python": source.python,
                "rows": {row.key: row_json(row) for row in rows},
            }


def select(rows: list[Row], args: argparse.Namespace, source: Input | None = None) -> list[Row]:
    skipped = dict(source.skip) if source else {}
    for row in rows:
        if row.key in skipped and not args.all_rows:
            row.argv = None
            row.note = skipped[row.key]
    keep = [r for r in rows if r.key.startswith("floor-") or r.key == "rc-warm" or not args.only]
    if args.only:
        words = [w.strip() for w in args.only.split(",") if w.strip()]
        keep += [r for r in rows if r not in keep and any(w in r.key for w in words)]
        keep.sort(key=rows.index)
    return [r for r in keep if r.key not in args.skip]


def importtime_ms(stderr: str) -> tuple[float, list[tuple[float, str]]]:
    """The sum of ``-X importtime``'s self column (ms), and the modules by cumulative time."""
    total = 0.0
    tops = []
    for line in stderr.splitlines():
        parts = line.split("|")
        if not line.startswith("import time:") or len(parts) != 3:
            continue
        try:
            self_us = int(parts[0].split(":")[1])
            cumulative = int(parts[1])
        except ValueError:
            continue
        total += self_us
        tops.append((cumulative / 1000, parts[2].rstrip()))
    return total / 1000, sorted(tops, reverse=True)


def section_import(
    args: argparse.Namespace, tools: Tools, work: Path, results: dict[str, Any]
) -> None:
    env = isolated_env(replay_mode=False)
    rows = [
        Row(
            "python", "python -c pass (interpreter start)", lambda run: [tools.python, "-c", "pass"]
        ),
        Row(
            "import",
            "python -c 'import reqhash_check.cli'",
            lambda run: [tools.python, "-c", "import reqhash_check.cli"],
        ),
        Row("version", "reqhash-check --version", lambda run: [*tools.reqhash_check, "--version"]),
        Row(
            "help",
            "reqhash-check --help",
            lambda run: [*tools.reqhash_check, "--help"],
        ),
    ]
    rounds = max(args.rounds, 10)
    sums: list[float] = []
    tops: list[tuple[float, str]] = []
    for _ in range(rounds):
        interleave(rows, 1, work, env, None, "import")
        done = subprocess.run(
            [tools.python, "-X", "importtime", "-c", "import reqhash_check.cli"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        total, tops = importtime_ms(done.stderr)
        sums.append(total)
    print("\n## start-up and import\n")
    print(f"{rounds} rounds, interleaved.\n")
    header = ["command", "median s", "min s", "max s", "cpu s", "peak MB"]
    lines = []
    for row in rows:
        seconds = [s.seconds for s in row.samples]
        if not seconds:
            lines.append([row.name, "failed", "", "", ""])
            continue
        lines.append(
            [
                row.name,
                f"{statistics.median(seconds):.3f}",
                f"{min(seconds):.3f}",
                f"{max(seconds):.3f}",
                f"{statistics.median(s.cpu for s in row.samples):.3f}",
                f"{statistics.median(s.rss_mb for s in row.samples):.0f}",
            ]
        )
    print(render(header, lines))
    median_sum = statistics.median(sums)
    print(
        f"\n`python -X importtime -c 'import reqhash_check.cli'`: self times sum to "
        f"{median_sum:.1f} ms (median of {rounds}; min {min(sums):.1f}, max {max(sums):.1f})."
    )
    print("Largest cumulative imports (last run):\n")
    print(render(["module", "cumulative ms"], [[m.strip(), f"{ms:.1f}"] for ms, m in tops[:12]]))
    results["import"] = {
        "rows": {row.key: row_json(row) for row in rows},
        "importtime_sum_ms": [round(s, 2) for s in sums],
        "importtime_sum_median_ms": round(median_sum, 2),
        "top_cumulative_ms": [[m.strip(), round(ms, 2)] for ms, m in tops[:25]],
    }
    for row in rows:
        if row.failure:
            print(f"\n- {row.name}: {row.failure}")


SCALE_PINS = (10, 100, 1000, 3000)
SCALE_LINES = 50_000
SCALE_RELEASES = (10, 300, 3000)


def section_scaling(
    args: argparse.Namespace, tools: Tools, work: Path, results: dict[str, Any]
) -> None:
    if args.index != "replay":
        print("\n## scaling: run in replay mode only (synthetic projects exist only there)")
        return
    cases = [("pins", n) for n in SCALE_PINS] + [("lines", SCALE_LINES)]
    cases += [("releases", n) for n in SCALE_RELEASES]
    folders = {}
    for kind, size in cases:
        print(f"  [scaling] building {kind} {size}", file=sys.stderr, flush=True)
        folders[(kind, size)] = synth.build(kind, size)
    env = isolated_env(replay_mode=True)
    stores = [folder / "store" for folder in folders.values()]
    results["scaling"] = {}
    with index_for("replay", args.latency, stores) as (server, simple_url, _base):
        table_rows: dict[tuple[str, int], list[Row]] = {}
        for (kind, size), folder in folders.items():
            file = str(folder / "requirements.txt")
            shared = work / f"scale-{kind}-{size}"

            def rc(*options: str, file: str = file) -> Callable[[Path], list[str]]:
                return lambda run: [
                    *tools.reqhash_check,
                    *options,
                    "--index-url",
                    simple_url,
                    "--python-version",
                    "3.11",
                    "--format",
                    "json",
                    "--output",
                    f"{run}/report.json",
                    file,
                ]

            # The cold run (first round only: it is network-bound and slow at 3,000 pins)
            # fills the cache the warm and offline rows then use in every round.
            table_rows[(kind, size)] = [
                Row("cold", "cold", rc("--cache-dir", str(shared)), slow=True),
                Row("warm", "warm", rc("--cache-dir", str(shared))),
                Row("offline", "offline", rc("--offline", "--cache-dir", str(shared))),
            ]
        for number in range(args.scale_rounds):
            for (kind, size), row_set in table_rows.items():
                for row in row_set:
                    if row.failure or (row.slow and number > 0):
                        continue
                    sample = run_once(row, work, env, server, None)
                    if sample is not None:
                        row.samples.append(sample)
                        print(
                            f"  [scaling] round {number + 1}/{args.scale_rounds} {kind} {size} "
                            f"{row.name}: {sample.seconds:.2f}s {sample.rss_mb:.0f} MB",
                            file=sys.stderr,
                            flush=True,
                        )
    print("\n## scaling (synthetic projects, loopback index)\n")
    print(
        f"cold = one run with an empty cache against the loopback index at "
        f"{args.latency * 1000:.0f} ms a request; warm = {args.scale_rounds} runs on the cache "
        f"it filled; offline = {args.scale_rounds} runs with `--offline` on that cache "
        "(reading and checking only).\n"
    )
    header = [
        "input",
        "pins",
        "lines",
        "cold s",
        "cold MB",
        "warm s",
        "offline s",
        "offline cpu s",
        "offline MB",
        "offline ms/pin",
    ]
    lines = []
    for (kind, size), row_set in table_rows.items():
        folder = folders[(kind, size)]
        text = (folder / "requirements.txt").read_text(encoding="utf-8")
        count = len(pins(folder / "requirements.txt"))
        by = {r.key: r for r in row_set}

        def med(row: Row, what: str = "s") -> str:
            if not row.samples:
                return "failed" if row.failure else "-"
            if what == "s":
                return f"{row.median():.2f}"
            return f"{statistics.median(s.rss_mb for s in row.samples):.0f}"

        per_pin = by["offline"].median()
        label = {"pins": f"{size} pins", "lines": f"{size:,}-line file"}.get(
            kind, f"30 projects × {size} releases"
        )
        lines.append(
            [
                label,
                str(count),
                str(text.count("\n")),
                med(by["cold"]),
                med(by["cold"], "mb"),
                med(by["warm"]),
                med(by["offline"]),
                f"{statistics.median(x.cpu for x in by['offline'].samples):.2f}"
                if by["offline"].samples
                else "-",
                med(by["offline"], "mb"),
                f"{per_pin / count * 1000:.2f}" if per_pin else "-",
            ]
        )
        results["scaling"][f"{kind}-{size}"] = {
            "pins": count,
            "lines": text.count("\n"),
            "rows": {row.key: row_json(row) for row in row_set},
        }
    print(render(header, lines))
    for (kind, size), row_set in table_rows.items():
        for row in row_set:
            if row.failure or row.note:
                print(f"\n- {kind} {size} {row.name}: {row.failure or row.note}")


def git_commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        check=False,
    )
    dirty = subprocess.run(
        ["git", "-C", str(HERE), "status", "--porcelain", "--", "../src"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Side-by-side medians of reqhash-check and its peers.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("--index", choices=["replay", "real"], default="replay")
    parser.add_argument(
        "--input",
        dest="inputs",
        action="append",
        choices=sorted(INPUTS),
        help="input file (repeatable; default: warehouse and 300)",
    )
    parser.add_argument(
        "-n", "--rounds", type=int, help="rounds of every row (default 5 replay, 3 real)"
    )
    parser.add_argument(
        "--slow-rounds",
        type=int,
        help="rounds of pip-compile and pip download (1)",
    )
    parser.add_argument(
        "--timeout", type=float, default=300, help="seconds before a command is killed (300)"
    )
    parser.add_argument("--scale-rounds", type=int, default=3, help="rounds of scaling (3)")
    parser.add_argument(
        "--latency",
        type=replay.parse_latency,
        default=0.05,
        help="replay: per request (50ms)",
    )
    parser.add_argument(
        "--store",
        type=Path,
        action="append",
        help=f"replay: recorded store (default {replay.DEFAULT_STORE})",
    )
    parser.add_argument(
        "--sections",
        default="tools,import,scaling",
        help="comma-separated: tools, import, scaling (default all)",
    )
    parser.add_argument("--peers", default=str(DEFAULT_PEERS), help="hashin/uv/pip-tools bin/")
    parser.add_argument("--reqhash-check", metavar="CMD", help="how to run reqhash-check")
    parser.add_argument(
        "--only", metavar="KEY,…", help="tool rows to run (floor rows, rc-warm kept)"
    )
    parser.add_argument("--skip", metavar="KEY,…", default="", help="tool rows to leave out")
    parser.add_argument("--all-rows", action="store_true", help="also run rows an input leaves out")
    parser.add_argument("--json", type=Path, help="write all figures here")
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    args = parser.parse_args(argv)
    args.inputs = args.inputs or ["warehouse", "300"]
    args.rounds = args.rounds or (5 if args.index == "replay" else 3)
    if args.slow_rounds is None:
        args.slow_rounds = 1
    args.skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    args.store = args.store or [replay.DEFAULT_STORE]
    sections = {s.strip() for s in args.sections.split(",") if s.strip()}
    if args.index == "replay" and "tools" in sections:
        missing = [s for s in args.store if not (s / "index.jsonl").exists()]
        if missing:
            parser.error(f"no recording in {missing[0]}: run benchmarks/record.py first")

    tools = Tools.find(args)
    env = isolated_env(replay_mode=args.index == "replay")
    results: dict[str, Any] = {
        "meta": {
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "commit": git_commit(),
            "index": args.index,
            "latency_s": args.latency if args.index == "replay" else None,
            "rounds": args.rounds,
            "python": platform.python_version(),
            "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores",
            "versions": tools.versions(env),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        }
    }
    meta = results["meta"]
    print(f"# reqhash-check benchmark, {args.index} index")
    print(
        f"\n{meta['date']}, commit {meta['commit']}, {meta['machine']}, "
        f"CPython {meta['python']}, {args.rounds} rounds"
        + (f", {args.latency * 1000:.0f} ms a request" if args.index == "replay" else "")
    )
    print("versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()))
    if args.dry_run:
        for key in args.inputs:
            rows = tool_rows(
                tools,
                INPUTS[key],
                simple_url="{simple}",
                base_url="{base}",
                shared=Path("{shared}"),
                pins_file=Path(f"{{work}}/{key}-pins.txt"),
            )
            for row in select(rows, args, INPUTS[key]):
                if row.argv is not None:
                    print(f"- {row.name}: `{show(row.argv(Path('{run}')), Path('{run}'))}`")
        return 0
    with tempfile.TemporaryDirectory(prefix="reqhash-bench-") as tmp:
        work = Path(tmp)
        started = time.perf_counter()
        if "tools" in sections:
            section_tools(args, tools, work, results)
        if "import" in sections:
            section_import(args, tools, work, results)
        if "scaling" in sections:
            section_scaling(args, tools, work, results)
        meta["wall_s"] = round(time.perf_counter() - started, 1)
        meta["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    print(
        f"\nwhole run: {meta['wall_s']:.0f} s; load average (1, 5, 15 min) at start "
        f"{meta['load_average_at_start']}, at end {meta['load_average_at_end']}"
    )
    target = args.json or CACHE_ROOT / f"results-{args.index}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    print(f"figures: {target}")
    failed = [
        row
        for data in results.get("tools", {}).values()
        for row in data["rows"].values()
        if row.get("failure")
    ]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
