"""`explain` on uv's and pipenv's hash failures (tests/data/piplogs/uv, pipenv; their README
says where the wording comes from), and on a log that holds none of the forms it reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from reqhash_check.cli import main
from tests.fakeindex import FakeIndex
from tests.test_explain_logs import PIPLOGS, build_world, explain_json, world_index

__all__ = ["world_index"]  # the loopback index fixture, shared with test_explain_logs

WORLD = build_world()
DEMO_WHEEL = "demo-1.0-py3-none-any.whl"


def _only(document: dict[str, Any]) -> dict[str, Any]:
    (diagnosis,) = document["diagnoses"]
    assert isinstance(diagnosis, dict)
    assert document["unparsed"] == []
    return diagnosis


def _hashes(lines: list[str]) -> set[str]:
    words = (part.strip('",') for line in lines for part in line.split())
    return {word for word in words if "sha256:" in word}


def test_uv_boxed_hash_mismatch_is_a_stale_pin(
    world_index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    code, document = explain_json(world_index, str(PIPLOGS / "uv" / "mismatch.log"), capsys=capsys)
    diagnosis = _only(document)
    assert code == 0
    assert (diagnosis["cause"], diagnosis["project"], diagnosis["version"]) == (
        "stale-pin",
        "demo",
        "1.0",
    )
    assert diagnosis["installer"] == "uv"
    assert diagnosis["expected"] == [f"sha256:{WORLD.demo_11_wheel.sha256}"]
    assert diagnosis["got"] == f"sha256:{WORLD.demo_10_wheel.sha256}"
    assert "uv downloaded" in diagnosis["message"] and "pip downloaded" not in diagnosis["message"]
    assert _hashes(diagnosis["fix"]["lines"]) == {
        f"--hash=sha256:{WORLD.demo_10_wheel.sha256}",
        f"--hash=sha256:{WORLD.demo_10_sdist.sha256}",
    }


def test_uv_plain_hash_mismatch_is_incomplete_hashes(
    world_index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    path = PIPLOGS / "uv" / "mismatch-plain.log"
    code, document = explain_json(world_index, str(path), capsys=capsys)
    diagnosis = _only(document)
    assert code == 0 and diagnosis["cause"] == "incomplete-hashes"
    assert DEMO_WHEEL in diagnosis["message"]


def test_uv_unpublished_bytes_of_the_one_listed_file(
    world_index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """uv names no file, but downloads only files whose published hash is listed."""
    path = PIPLOGS / "uv" / "unpublished.log"
    code, document = explain_json(world_index, str(path), capsys=capsys)
    diagnosis = _only(document)
    assert code == 1 and diagnosis["cause"] == "unpublished-bytes"
    assert DEMO_WHEEL in diagnosis["message"]


def test_uv_missing_hash(world_index: FakeIndex, capsys: pytest.CaptureFixture[str]) -> None:
    code, document = explain_json(world_index, str(PIPLOGS / "uv" / "missing.log"), capsys=capsys)
    diagnosis = _only(document)
    assert code == 0
    assert (diagnosis["cause"], diagnosis["project"], diagnosis["version"]) == (
        "missing-hash",
        "demo",
        "1.0",
    )
    assert _hashes(diagnosis["fix"]["lines"]) == {
        f"--hash=sha256:{WORLD.demo_10_wheel.sha256}",
        f"--hash=sha256:{WORLD.demo_10_sdist.sha256}",
    }


def test_pipenv_wrapped_mismatch_points_at_pipfile_lock(
    world_index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    path = PIPLOGS / "pipenv" / "mismatch.log"
    code, document = explain_json(world_index, str(path), capsys=capsys)
    diagnosis = _only(document)
    assert code == 0
    assert (diagnosis["cause"], diagnosis["file"]) == ("stale-pin", DEMO_WHEEL)
    assert (diagnosis["requirements_file"], diagnosis["line"]) == ("Pipfile.lock", None)
    assert diagnosis["installer"] == "pipenv"
    fix = diagnosis["fix"]
    assert fix["lines"][0] == '"hashes": [' and fix["lines"][-1] == "],"
    assert _hashes(fix["lines"]) == {
        f"sha256:{WORLD.demo_10_wheel.sha256}",
        f"sha256:{WORLD.demo_10_sdist.sha256}",
    }
    assert fix["place"] == 'the "hashes" list of the "demo" entry in Pipfile.lock'
    # The check reads Pipfile.lock: the command runs, with the options explain was given.
    assert fix["command"].startswith("reqhash-check --fix ")
    assert fix["command"].endswith(" Pipfile.lock")
    assert any("pipenv lock" in note for note in diagnosis["notes"])


def test_pipenv_2017_heading_is_read(
    world_index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    path = PIPLOGS / "pipenv" / "mismatch-2017.log"
    code, document = explain_json(world_index, str(path), capsys=capsys)
    diagnosis = _only(document)
    assert code == 0 and diagnosis["cause"] == "foreign-hashes"
    assert diagnosis["requirements_file"] == "Pipfile.lock"


def test_a_log_without_any_known_form_says_which_forms_are_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "build.log"
    log.write_text("npm ERR! code EINTEGRITY\nnpm ERR! sha512-abc integrity checksum failed\n")
    code = main(["explain", "--index-url", "http://127.0.0.1:9/simple", str(log)])
    out = capsys.readouterr().out
    assert code == 2
    (verdict,) = [line for line in out.splitlines() if line.startswith(f"{log}: ")]
    for form in (
        "pip's hash mismatch block",
        "pip's missing-hash and unpinned messages",
        "uv's `Hash mismatch for …`",
        "must have a hash, but none were provided for",
        "pipenv's wrapped pip output",
    ):
        assert form in verdict


def test_uv_unpinned(
    world_index: FakeIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "uv.log"
    log.write_text(
        "error: In `--require-hashes` mode, all requirements must have their versions pinned "
        "with `==`, but found: demo\n"
    )
    code, document = explain_json(world_index, str(log), capsys=capsys)
    diagnosis = _only(document)
    # uv does not say which version it would take: the reason is given, nothing is guessed.
    assert (diagnosis["cause"], diagnosis["project"], diagnosis["installer"]) == (
        "undetermined",
        "demo",
        "uv",
    )
    assert (
        "not pinned with ==, and uv's message does not say which version" in (diagnosis["message"])
    )
    assert code == 3
