"""A real pip-compile output: the untouched file is clean, injected faults land on their lines."""

from __future__ import annotations

import re
from pathlib import Path

from reqhash_check.check import CheckOptions, check
from reqhash_check.requirements import load

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "requirements.txt"


def entry_lines(text: str, name: str) -> tuple[int, int]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{name}=="))
    end = start
    while lines[end].endswith("\\"):
        end += 1
    return start + 1, end + 1


def offline_findings(path: Path) -> list[tuple[int, str, str | None]]:
    req_set, problems = load(str(path), environ={})
    result = check(req_set, problems, {}, CheckOptions())
    return sorted((f.location.line, f.rule, f.project) for f in result.findings)


def test_untouched_example_is_clean() -> None:
    assert offline_findings(EXAMPLE) == []


def test_removed_hashes_and_unpinned_are_reported_at_their_lines(tmp_path: Path) -> None:
    text = EXAMPLE.read_text()
    jinja_start, jinja_end = entry_lines(text, "jinja2")
    click_start, _ = entry_lines(text, "click")
    lines = text.splitlines(keepends=True)
    # jinja2 loses its hashes: keep only the requirement itself on its first line.
    lines[jinja_start - 1 : jinja_end] = [lines[jinja_start - 1].rstrip(" \\\n") + "\n"]
    broken = "".join(lines)
    broken = re.sub(r"^click==([\d.]+)", r"click>=\1", broken, flags=re.M)
    path = tmp_path / "requirements.txt"
    path.write_text(broken)
    removed = jinja_end - jinja_start
    click_line = click_start - removed if click_start > jinja_start else click_start
    assert offline_findings(path) == sorted(
        [(jinja_start, "missing-hash", "jinja2"), (click_line, "unpinned", "click")]
    )


def test_example_lock_files_are_valid_and_mapped() -> None:
    from reqhash_check.lockfile.read import read_lock

    for name in ("pylock.toml", "pylock.pip.toml"):
        lock = read_lock(str(EXAMPLE.parent / name))
        assert lock.problems == [] and len(lock.packages) == 13
        lines = (EXAMPLE.parent / name).read_text().splitlines()
        for package in lock.packages:
            assert lines[package.location.line - 1] == "[[packages]]"
            for file in package.files:
                assert all(file.hashes[a] in lines[n - 1] for a, n in file.hash_lines.items())
