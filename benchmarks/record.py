"""Record, once, the real index answers every benchmarked tool needs for the input files.

    .venv/bin/python benchmarks/record.py [--input warehouse --input 300] [--no-downloads]

Starts replay.py's server as a recording proxy to pypi.org and
files.pythonhosted.org, then:

1. asks it, for every project of every input, the PEP 691 Simple JSON page,
   the PEP 503 HTML page, the project JSON and the per-version JSON of the
   pinned version (404 where the index does not serve it);
2. runs every row of run.py once through it (the network floor,
   reqhash-check cold, hashin -u -d, uv pip compile cold, pip-compile and,
   unless ``--no-downloads``, pip download), so what each tool asks for,
   ``.metadata`` files, range requests, build dependencies of sdists and the
   distributions pip downloads included, is stored as the index answered.

The store (default ``~/.cache/reqhash-bench/store``, or ``REQHASH_BENCH_STORE``)
is outside git. Recording again adds to it; answers already there are kept.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import replay  # noqa: E402
import run  # noqa: E402

ROWS = ("floor", "rc-cold", "hashin", "uv-cold", "pip-compile", "pip-download")


def prefetch(base_url: str, projects: dict[str, set[str]]) -> int:
    """Every page and JSON document of every project, 8 at a time; the number asked."""
    asks: list[tuple[str, str | None]] = []
    for name, versions in sorted(projects.items()):
        asks.append((f"/simple/{name}/", replay.SIMPLE_JSON))
        asks.append((f"/simple/{name}/", "text/html"))
        asks.append((f"/pypi/{name}/json", None))
        asks += [(f"/pypi/{name}/{quote(v, safe='')}/json", None) for v in sorted(versions)]
    with httpx.Client(base_url=base_url, timeout=120) as client:

        def one(ask: tuple[str, str | None]) -> int:
            path, accept = ask
            headers = {"Accept": accept} if accept else {}
            return client.get(path, headers=headers).status_code

        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(one, asks))
    failed = [a for a, s in zip(asks, statuses, strict=True) if s not in (200, 404)]
    if failed:
        print(f"not recorded (index errors): {failed[:5]}", file=sys.stderr)
    return len(asks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    parser.add_argument("--input", dest="inputs", action="append", choices=sorted(run.INPUTS))
    parser.add_argument("--store", type=Path, default=replay.DEFAULT_STORE)
    parser.add_argument("--peers", default=str(run.DEFAULT_PEERS))
    parser.add_argument("--reqhash-check", metavar="CMD")
    parser.add_argument("--skip", default="", metavar="KEY,…", help="rows not to record")
    parser.add_argument(
        "--no-downloads",
        action="store_true",
        help="do not record distributions (run.py --index replay then needs --skip pip-download)",
    )
    args = parser.parse_args(argv)
    args.inputs = args.inputs or ["warehouse", "300"]
    tools = run.Tools.find(args)
    env = run.isolated_env(replay_mode=True)
    server = replay.start([args.store], record=True)
    simple_url, base_url = f"{server.base_url}/simple", f"{server.base_url}/"
    summary: dict[str, object] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="reqhash-record-") as tmp:
            work = Path(tmp)
            for key in args.inputs:
                source = run.INPUTS[key]
                projects: dict[str, set[str]] = {}
                for name, version, _marker in run.pins(source.path):
                    projects.setdefault(run.canonical(name), set()).add(version)
                asked = prefetch(base_url, projects)
                print(f"[{key}] {asked} pages and documents", file=sys.stderr, flush=True)
                shared = work / f"shared-{key}"
                shared.mkdir()
                rows = run.tool_rows(
                    tools,
                    source,
                    simple_url=simple_url,
                    base_url=base_url,
                    shared=shared,
                    pins_file=run.write_pins_file(source.path, work / f"{key}-pins.txt"),
                )
                wanted = [r for r in rows if r.key in ROWS and r.argv is not None]
                skip = {k.strip() for k in args.skip.split(",")}
                if args.no_downloads:
                    skip.add("pip-download")
                wanted = [r for r in wanted if r.key not in skip]
                done = {}
                for row in wanted:
                    print(f"[{key}] recording {row.name}", file=sys.stderr, flush=True)
                    sample = run.run_once(row, work, env, server, source.path)
                    if sample is None:
                        print(f"[{key}] {row.name} failed: {row.failure}", file=sys.stderr)
                        done[row.key] = row.failure
                    else:
                        done[row.key] = f"{sample.requests} requests, {sample.seconds:.1f} s"
                summary[key] = {"pages": asked, "rows": done}
    finally:
        server.shutdown()
        server.server_close()
    store = replay.Store(args.store)
    size = sum(e.size for e in store.entries.values())
    note = {
        "recorded": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "inputs": summary,
        "entries": len(store.entries),
        "bytes": size,
        "downloads": not args.no_downloads,
    }
    (args.store / "recorded.json").write_text(json.dumps(note, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(note, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
