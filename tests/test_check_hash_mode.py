"""What turns pip's hash-checking mode on, as the reader reports the files."""

from __future__ import annotations

from pathlib import Path

from reqhash_check.check import CheckOptions, check
from reqhash_check.requirements import load

SHA = "a" * 64


def missing_hash(tmp_path: Path, text: str, pip_version: tuple[int, int] = (26, 3)) -> bool:
    """Whether bar==1.0 (no hash) is reported: only in hash-checking mode."""
    (tmp_path / "r.txt").write_text(text + "bar==1.0\n")
    req_set, problems = load(
        str(tmp_path / "r.txt"), environ={}, pip_version=pip_version, cwd=str(tmp_path)
    )
    assert problems == []
    result = check(req_set, problems, {}, CheckOptions(pip_version=pip_version))
    return any(f.rule == "missing-hash" and f.project == "bar" for f in result.findings)


def test_a_hash_option_turns_it_on(tmp_path: Path) -> None:
    assert missing_hash(tmp_path, f"foo==1.0 --hash=sha256:{SHA}\n")


def test_a_url_fragment_does_not(tmp_path: Path) -> None:
    assert not missing_hash(tmp_path, f"https://example.invalid/foo-1.0.tar.gz#sha256={SHA}\n")


def test_an_editable_keeps_no_hashes(tmp_path: Path) -> None:
    assert not missing_hash(tmp_path, f"-e git+https://x.invalid/r.git#egg=r --hash=sha256:{SHA}\n")


def test_require_hashes_turns_it_on(tmp_path: Path) -> None:
    assert missing_hash(tmp_path, "--require-hashes\n")


def test_no_require_hashes_keeps_it_off(tmp_path: Path) -> None:
    assert not missing_hash(tmp_path, f"--no-require-hashes\nfoo==1.0 --hash=sha256:{SHA}\n")
