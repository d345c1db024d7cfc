"""Inputs are sources: the runner reads files and applies edits through `sources/`, never
through a kind's own reader or writer."""

from __future__ import annotations

import ast
from pathlib import Path

from reqhash_check.sources import PIPFILE_LOCK, PYLOCK, REQUIREMENTS, SOURCES, file_set_source

RUNNER = Path(__file__).resolve().parent.parent / "src" / "reqhash_check" / "runner.py"

# The modules that read or write one kind of file: only its source uses them.
KIND_MODULES = {
    "reqhash_check.pipfile",
    "reqhash_check.lockfile",
    "reqhash_check.lockfile.read",
    "reqhash_check.lockfile.fix",
    "reqhash_check.requirements.loader",
    "reqhash_check.requirements.load",
}


def test_runner_reads_and_edits_through_sources() -> None:
    imported: set[str] = set()
    for node in ast.walk(ast.parse(RUNNER.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
            imported.update(f"{node.module}.{alias.name}" for alias in node.names)
    assert not imported & KIND_MODULES


def test_each_file_is_claimed_by_one_kind() -> None:
    cases = {
        "pylock.toml": PYLOCK,
        "sub/pylock.dev.toml": PYLOCK,
        "Pipfile.lock": PIPFILE_LOCK,
        "sub/Pipfile.lock": PIPFILE_LOCK,
        "requirements.txt": REQUIREMENTS,
        "-": REQUIREMENTS,
    }
    for path, source in cases.items():
        assert next(s for s in SOURCES if s.claims(path)) is source, path
        if source is not PYLOCK:
            assert file_set_source(path) is source, path
