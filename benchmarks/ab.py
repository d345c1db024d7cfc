"""Compare source trees of reqhash-check, interleaved: cold and warm runs on one file.

    python benchmarks/ab.py -n 5 --modes cold,warm before=/path/to/old/tree after=.

Each LABEL=TREE is a checkout (its `src/` is put on PYTHONPATH) run by this interpreter as
the installed command runs (`reqhash_check.cli.entry`), isolated from the machine's pip
configuration (`PIP_CONFIG_FILE=/dev/null`, no `PIP_*`/`REQHASH_CHECK_*` variables), against
the real index unless `--extra "--index-url URL"`. A tree's warm cache is filled by one
untimed cold run first (warm means within the cache's 10-minute freshness window: keep
rounds short). Rounds are interleaved and each starts at another tree. Medians and minima
of wall seconds and of user+system CPU seconds, and peak RSS (GNU time). On a shared
machine compare CPU, and trees measured in the same run.

Instruction counts (steadier than any time on a loaded machine) of one warm run, e.g.:

    PYTHONHASHSEED=0 PIP_CONFIG_FILE=/dev/null PYTHONPATH=TREE/src valgrind --tool=cachegrind \\
        --cache-sim=no python -c 'from reqhash_check.cli import entry; entry()' --offline \\
        --cache-dir CACHE --python-version 3.14 --format json --output OUT FILE
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--rounds", type=int, default=5)
    parser.add_argument("--modes", default="cold,warm", help="cold, warm, offline, version")
    parser.add_argument("--file", default=str(HERE / "data" / "warehouse-main.txt"))
    parser.add_argument("--python-version", default="3.14")
    parser.add_argument("--extra", default="", help="more options for every run")
    parser.add_argument("trees", nargs="+", metavar="LABEL=TREE")
    args = parser.parse_args()
    trees = [tuple(t.split("=", 1)) for t in args.trees]
    modes = args.modes.split(",")
    work = Path(tempfile.mkdtemp(prefix="reqhash-ab-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "REQHASH_CHECK_"))}
    env["PIP_CONFIG_FILE"] = os.devnull
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    time_cmd = ["/usr/bin/time", "-f", "%M", "-o", str(work / "rss")]
    has_time = Path("/usr/bin/time").exists()

    def run(tree: str, cache: Path, mode: str) -> tuple[float, float, float]:
        argv = [sys.executable, "-c", "from reqhash_check.cli import entry; entry()"]
        if mode == "version":
            argv.append("--version")
        else:
            argv += ["--offline"] if mode == "offline" else []
            argv += [*args.extra.split(), "--cache-dir", str(cache)]
            argv += ["--python-version", args.python_version, "--format", "json"]
            argv += ["--output", str(work / "report.json"), args.file]
        started = time.perf_counter()
        process = subprocess.Popen(
            [*time_cmd, *argv] if has_time else argv,
            env=dict(env, PYTHONPATH=str(Path(tree).resolve() / "src")),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        if code not in (0, 1):
            assert process.stderr is not None
            print(f"{tree} {mode}: exit {code}: {process.stderr.read()[-400:]!r}", file=sys.stderr)
        rss = float((work / "rss").read_text().split()[-1]) / 1024 if has_time else 0.0
        return elapsed, usage.ru_utime + usage.ru_stime, rss

    samples: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    if any(m in ("warm", "offline") for m in modes):
        for label, tree in trees:
            run(tree, work / f"warm-{label}", "cold")
    for number in range(args.rounds):
        order = trees[number % len(trees) :] + trees[: number % len(trees)]
        for mode in modes:
            for label, tree in order:
                cache = work / (f"cold-{label}" if mode == "cold" else f"warm-{label}")
                samples.setdefault((label, mode), []).append(run(tree, cache, mode))
                if mode == "cold":
                    shutil.rmtree(cache, ignore_errors=True)
    print(f"load average at the end: {os.getloadavg()}, {args.rounds} rounds")
    for mode in modes:
        for label, _ in trees:
            wall, cpu, rss = zip(*samples[(label, mode)], strict=True)
            print(
                f"{mode:8} {label:12} wall median {statistics.median(wall):.3f} min {min(wall):.3f}"
                f"  cpu median {statistics.median(cpu):.3f} min {min(cpu):.3f}"
                f"  peak MB median {statistics.median(rss):.1f} max {max(rss):.1f}"
            )
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
