"""The network floor: download every project's PEP 691 Simple JSON page, 8 at a time.

    python benchmarks/floor.py --index-url URL NAME [NAME ...]

No parsing, no cache: the least any tool that asks the index about every
project of a file has to wait for. It runs as its own process (interpreter
start and ``import httpx`` included), like the tools it is compared with.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

import httpx

ACCEPT = "application/vnd.pypi.simple.v1+json"


async def download(index_url: str, names: list[str], concurrency: int) -> tuple[int, int, int]:
    limit = asyncio.Semaphore(concurrency)
    base = index_url.rstrip("/")
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60, follow_redirects=True) as client:

        async def one(name: str) -> tuple[int, int]:
            async with limit:
                response = await client.get(f"{base}/{name}/", headers={"Accept": ACCEPT})
                return response.status_code, len(response.content)

        answers = await asyncio.gather(*(one(name) for name in names))
    ok = sum(1 for status, _ in answers if status == 200)
    return len(answers), ok, sum(size for _, size in answers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--index-url", required=True)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("names", nargs="+")
    args = parser.parse_args(argv)
    asked, ok, size = asyncio.run(download(args.index_url, args.names, args.concurrency))
    print(f"{asked} pages asked, {ok} answered 200, {size} bytes", file=sys.stderr)
    return 0 if ok == asked else 1


if __name__ == "__main__":
    raise SystemExit(main())
