"""Shared pieces of the untrusted-input suite: a hostile index, a repository, one run."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reqhash_check.cli import main
from tests.hostile import WHEEL_SHA, HostileIndex

FORMATS = ("text", "json", "sarif", "github", "markdown")
SECRET = "s3cr3t-token-4f9a1c7e"


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def hostile() -> Iterator[HostileIndex]:
    with HostileIndex() as index:
        yield index


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git work tree as the current directory, with its own cache folder."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / ".git" / "config").write_text(
        f'[remote "origin"]\n\turl = https://x-access-token:{SECRET}@github.com/o/r\n'
    )
    monkeypatch.chdir(root)
    monkeypatch.setenv("REQHASH_CHECK_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("NO_COLOR", "FORCE_COLOR", "GITHUB_ACTIONS", "PRE_COMMIT"):
        monkeypatch.delenv(name, raising=False)
    return root


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return Run(code, out, err)


def pinned(project: str = "demo", version: str = "1.0", digest: str = WHEEL_SHA) -> str:
    return f"{project}=={version} --hash=sha256:{digest}\n"
