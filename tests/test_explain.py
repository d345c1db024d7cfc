"""`reqhash-check explain`: causes from the index, fixes, formats, exit codes, the cache.

The logs here are written in pip's format (see test_explain_parse.py) around the packages a
loopback FakeIndex serves; the real pips' logs are in test_explain_logs.py and
test_explain_pip.py.
"""

from __future__ import annotations

import io
import json
import re
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reqhash_check.cli import main
from reqhash_check.explain import explain_main
from reqhash_check.index.cache import ReleaseCache
from tests.fakeindex import FakeIndex
from tests.test_explain_logs import FOREIGN, World, build_world, publish
from tests.test_explain_parse import HEAD, MISSING_HEAD, mismatch_block

KB = "pip/hash-mismatch-requirements-file"
JSON_FIELDS = {
    "project",
    "version",
    "cause",
    "expected",
    "got",
    "file",
    "url",
    "requirements_file",
    "line",
    "fix",
    "kb",
    "message",
}
NATIVE_LINUX = "native-3.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
ALTERED = "9" * 64


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


@pytest.fixture
def index(world: World) -> Iterator[FakeIndex]:
    served = FakeIndex().start()
    try:
        publish(served, world)
        yield served
    finally:
        served.close()


def write_log(tmp_path: Path, *lines: str, name: str = "pip.log") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def mismatch(
    tmp_path: Path,
    *,
    requirement: str = "demo==1.0",
    file: str = "demo-1.0-py3-none-any.whl",
    expected: tuple[str, ...],
    got: str,
    comes_from: str = "-r requirements.txt (line 1)",
    host: str = "127.0.0.1:8000",
    fragment: str = "",
) -> Path:
    url = f"http://{host}/files/{file}{fragment}"
    block = mismatch_block(requirement, url, comes_from, expected, got)
    return write_log(tmp_path, f"Collecting {requirement}", HEAD, *block)


def run(
    index: FakeIndex | None,
    capsys: pytest.CaptureFixture[str],
    *args: str,
    index_url: str | None = None,
) -> tuple[int, dict[str, Any]]:
    url = index_url or (index.simple_url if index else "http://127.0.0.1:9/simple")
    code = main(["explain", "--index-url", url, "--format", "json", *args])
    return code, json.loads(capsys.readouterr().out)


def only(document: dict[str, Any]) -> dict[str, Any]:
    (diagnosis,) = document["diagnoses"]
    assert isinstance(diagnosis, dict)
    return diagnosis


# --------------------------------------------------------------------------- the causes


def test_unpublished_bytes(
    index: FakeIndex, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = mismatch(tmp_path, expected=(world.demo_10_wheel.sha256,), got=ALTERED)
    code, document = run(index, capsys, "--no-cache", str(log))
    diagnosis = only(document)
    assert code == 1
    assert JSON_FIELDS <= diagnosis.keys()
    assert (diagnosis["cause"], diagnosis["project"], diagnosis["version"]) == (
        "unpublished-bytes",
        "demo",
        "1.0",
    )
    assert diagnosis["file"] == "demo-1.0-py3-none-any.whl"
    assert diagnosis["host"] == "127.0.0.1:8000"
    assert diagnosis["kb"] == KB and diagnosis["security"] is True
    assert diagnosis["fix"]["action"] == "none" and diagnosis["fix"]["lines"] == []
    assert "127.0.0.1:8000" in diagnosis["message"]
    assert "Do not regenerate the hashes" in diagnosis["message"]
    assert "proxy" in diagnosis["fix"]["summary"]
    assert any("regenerating the hashes" in dead for dead in diagnosis["dead_ends"])


def test_unpublished_bytes_says_where_the_bytes_changed(
    index: FakeIndex, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    published = world.demo_10_wheel.sha256
    log = mismatch(tmp_path, expected=(published,), got=ALTERED, fragment=f"#sha256={published}")
    _, document = run(index, capsys, "--no-cache", str(log))
    assert "changed after the index page" in only(document)["message"]
    log = mismatch(tmp_path, expected=(published,), got=ALTERED, fragment=f"#sha256={ALTERED}")
    _, document = run(index, capsys, "--no-cache", str(log))
    assert "pip's own index page states the received hash" in only(document)["message"]


def test_stale_pin(
    index: FakeIndex, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = mismatch(tmp_path, expected=(world.demo_11_wheel.sha256,), got=world.demo_10_wheel.sha256)
    code, document = run(index, capsys, "--no-cache", str(log))
    diagnosis = only(document)
    assert code == 0 and diagnosis["cause"] == "stale-pin"
    assert (
        "demo 1.1" in diagnosis["message"] and "demo-1.1-py3-none-any.whl" in diagnosis["message"]
    )
    assert diagnosis["fix"]["lines"] == [
        "demo==1.0 \\",
        f"    --hash=sha256:{world.demo_10_sdist.sha256} \\",
        f"    --hash=sha256:{world.demo_10_wheel.sha256}",
    ] or diagnosis["fix"]["lines"] == [
        "demo==1.0 \\",
        f"    --hash=sha256:{min(world.demo_10_sdist.sha256, world.demo_10_wheel.sha256)} \\",
        f"    --hash=sha256:{max(world.demo_10_sdist.sha256, world.demo_10_wheel.sha256)}",
    ]
    assert diagnosis["fix"]["command"] == (
        f"reqhash-check --fix --index-url {index.simple_url} --no-cache requirements.txt"
    )


def test_incomplete_hashes_names_the_file_and_the_target(
    index: FakeIndex, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    listed = (world.native_mac.sha256, world.native_windows.sha256)
    log = mismatch(
        tmp_path,
        requirement="native==3.0",
        file=NATIVE_LINUX,
        expected=listed,
        got=world.native_linux.sha256,
    )
    code, document = run(index, capsys, "--no-cache", str(log))
    diagnosis = only(document)
    assert code == 0 and diagnosis["cause"] == "incomplete-hashes"
    assert diagnosis["target"] == "linux-x86_64-glibc2.17-cp312"
    assert NATIVE_LINUX in diagnosis["message"]
    lines = diagnosis["fix"]["lines"]
    assert lines[0] == "native==3.0 \\"
    hashes = {line.strip().removeprefix("--hash=").rstrip(" \\") for line in lines[1:]}
    assert hashes == {f"sha256:{h}" for h in (*listed, world.native_linux.sha256)}
    # The commands ask the index this explanation asked (issue 20).
    given = f"--index-url {index.simple_url} --no-cache"
    assert diagnosis["fix"]["command"] == (
        f"reqhash-check --fix {given} requirements.txt --target linux-x86_64-glibc2.17-cp312"
    )
    assert diagnosis["fix"]["check"] == (
        f"reqhash-check {given} requirements.txt --target linux-x86_64-glibc2.17-cp312"
    )


def _listed_hashes(diagnosis: dict[str, Any]) -> set[str]:
    lines = diagnosis["fix"]["lines"]
    return {line.strip().removeprefix("--hash=").rstrip(" \\") for line in lines[1:]}


def _last_digit_changed(digest: str) -> str:
    return digest[:-1] + ("0" if digest[-1] != "0" else "1")


def test_a_hash_mistyped_in_its_last_digit_is_a_hand_edit_not_another_platform(
    index: FakeIndex, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """issue 20: the downloaded wheel's hash, one digit off, beside the other files' right
    hashes was diagnosed `incomplete-hashes` and the suggested lines kept the wrong hash."""
    typo = _last_digit_changed(world.native_linux.sha256)
    listed = (world.native_mac.sha256, world.native_windows.sha256, typo)
    log = mismatch(
        tmp_path,
        requirement="native==3.0",
        file=NATIVE_LINUX,
        expected=listed,
        got=world.native_linux.sha256,
    )
    code, document = run(index, capsys, "--no-cache", str(log))
    diagnosis = only(document)
    assert code == 0 and diagnosis["cause"] == "mistyped-hash"
    assert "1 character differs" in diagnosis["message"]
    assert "edited by hand or damaged" in diagnosis["message"]
    assert "another platform" not in json.dumps(diagnosis)
    assert _listed_hashes(diagnosis) == {
        f"sha256:{h}"
        for h in (world.native_mac.sha256, world.native_windows.sha256, world.native_linux.sha256)
    }
    assert typo not in json.dumps(diagnosis["fix"])
    # The command carries the options the explanation was asked with (issue 20, item 1).
    assert diagnosis["fix"]["command"] == (
        f"reqhash-check --fix --index-url {index.simple_url} --no-cache requirements.txt"
    )
    main(["explain", "--index-url", index.simple_url, "--no-cache", str(log)])
    text = capsys.readouterr().out
    assert "requirements.txt:1: mistyped-hash native 3.0: " in text


def test_a_hash_listed_in_capitals_is_mistyped(
    index: FakeIndex, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """pip compares a listed hash as written: capitals never match."""
    shouted = world.demo_10_wheel.sha256.upper()
    log = mismatch(
        tmp_path,
        expected=(world.demo_10_sdist.sha256, shouted),
        got=world.demo_10_wheel.sha256,
    )
    code, document = run(index, capsys, "--no-cache", str(log))
    diagnosis = only(document)
    assert code == 0 and diagnosis["cause"] == "mistyped-hash"
    assert "only the case differs" in diagnosis["message"]
    assert _listed_hashes(diagnosis) == {
        f"sha256:{world.demo_10_sdist.sha256}",
        f"sha256:{world.demo_10_wheel.sha256}",
    }


def test_a_hash_five_characters_off_is_not_taken_for_a_typo(
    index: FakeIndex, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    far = world.native_linux.sha256[:-5] + "".join(
        "0" if c != "0" else "1" for c in world.native_linux.sha256[-5:]
    )
    log = mismatch(
        tmp_path,
        requirement="native==3.0",
        file=NATIVE_LINUX,
        expected=(world.native_mac.sha256, far),
        got=world.native_linux.sha256,
    )
    code, document = run(index, capsys, "--no-cache", str(log))
    diagnosis = only(document)
    assert code == 0 and diagnosis["cause"] == "incomplete-hashes"
    assert "1 listed hash matches nothing published and is left out" in diagnosis["message"]
    # A hash that matches nothing published is never kept in the suggested lines.
    assert _listed_hashes(diagnosis) == {
        f"sha256:{world.native_mac.sha256}",
        f"sha256:{world.native_linux.sha256}",
    }


def test_a_mistyped_hash_of_another_file_is_noted_and_mended(
    index: FakeIndex, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo = _last_digit_changed(world.native_mac.sha256)
    log = mismatch(
        tmp_path,
        requirement="native==3.0",
        file=NATIVE_LINUX,
        expected=(typo, world.native_windows.sha256),
        got=world.native_linux.sha256,
    )
    code, document = run(index, capsys, "--no-cache", str(log))
    diagnosis = only(document)
    assert code == 0 and diagnosis["cause"] == "incomplete-hashes"
    assert any("mistyped" in note and "edited by hand" in note for note in diagnosis["notes"])
    assert _listed_hashes(diagnosis) == {
        f"sha256:{h}"
        for h in (world.native_mac.sha256, world.native_windows.sha256, world.native_linux.sha256)
    }


def test_foreign_hashes(
    index: FakeIndex, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = mismatch(tmp_path, expected=(FOREIGN,), got=world.demo_10_wheel.sha256)
    code, document = run(index, capsys, "--no-cache", str(log))
    diagnosis = only(document)
    assert code == 0 and diagnosis["cause"] == "foreign-hashes"
    assert "another index or a private build" in diagnosis["message"]


def test_foreign_hashes_and_unpublished_bytes_point_at_pips_index(
    index: FakeIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = mismatch(tmp_path, expected=(FOREIGN,), got=ALTERED)
    log.write_text("Looking in indexes: https://mirror.example/simple\n" + log.read_text())
    code, document = run(index, capsys, "--no-cache", str(log))
    diagnosis = only(document)
    assert code == 0 and diagnosis["cause"] == "foreign-hashes"
    notes = " ".join(diagnosis["notes"])
    assert "pip looked in https://mirror.example/simple" in notes
    assert "not the published ones either" in notes


def test_only_the_named_index_is_asked(
    index: FakeIndex, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The log's hosts are shown, never contacted (the network guard would fail the test)."""
    log = mismatch(
        tmp_path,
        expected=(world.demo_11_wheel.sha256,),
        got=world.demo_10_wheel.sha256,
        host="evil.example",
    )
    run(index, capsys, "--no-cache", str(log))
    assert index.paths()
    # The project page, and the index's own files for their metadata: nothing else.
    assert all(path.startswith(("/simple/demo", "/files/demo")) for path in index.paths())


# --------------------------------------------------------------------------- other failures


def test_missing_hash_with_a_hash_nothing_publishes_warns(
    index: FakeIndex, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = write_log(tmp_path, MISSING_HEAD, f"    demo==1.0 --hash=sha256:{ALTERED}")
    code, document = run(index, capsys, "--no-cache", str(log))
    diagnosis = only(document)
    assert diagnosis["cause"] == "missing-hash" and code == 0
    assert "do not copy pip's suggested line" in diagnosis["message"]
    assert f"--hash=sha256:{world.demo_10_wheel.sha256}" in "".join(diagnosis["fix"]["lines"])


def test_missing_hash_of_an_unpinned_dependency_finds_its_version_by_hash(
    index: FakeIndex, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """pip prints the dependency as its parent asked for it, e.g. `child>=1 --hash=…`."""
    log = write_log(
        tmp_path,
        "Collecting child>=1 (from parent==1.0->-r requirements.txt (line 1))",
        MISSING_HEAD,
        f"    child>=1 --hash=sha256:{world.child_15.sha256}",
    )
    code, document = run(index, capsys, "--no-cache", str(log))
    diagnosis = only(document)
    assert (diagnosis["cause"], diagnosis["version"], code) == ("missing-dependency", "1.5", 0)
    assert diagnosis["fix"]["action"] == "add"
    assert diagnosis["fix"]["lines"] == [
        "child==1.5 \\",
        f"    --hash=sha256:{world.child_15.sha256}",
    ]


def test_unknown_version_and_project(
    index: FakeIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = write_log(
        tmp_path,
        "ERROR: Could not find a version that satisfies the requirement demo==3.0 "
        "(from versions: 1.0, 1.1)",
        "ERROR: No matching distribution found for demo==3.0",
        "ERROR: Could not find a version that satisfies the requirement nosuch==1.0 "
        "(from versions: none)",
    )
    code, document = run(index, capsys, "--no-cache", str(log))
    causes = [(d["cause"], d["project"]) for d in document["diagnoses"]]
    assert causes == [("unknown-version", "demo"), ("unknown-project", "nosuch")]
    assert "1.1" in document["diagnoses"][0]["message"]
    assert code == 0


def test_a_version_the_index_does_not_have_is_not_guessed(
    index: FakeIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = mismatch(
        tmp_path, requirement="demo==9.0", file="demo-9.0.tar.gz", expected=(FOREIGN,), got=ALTERED
    )
    code, document = run(index, capsys, "--no-cache", str(log))
    diagnosis = only(document)
    assert (code, diagnosis["cause"]) == (3, "undetermined")
    assert "--index-url" in diagnosis["message"]


def test_sha512_only_cannot_be_compared(
    index: FakeIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = mismatch_block(expected=("e" * 128,), got="f" * 128, algorithm="sha512")
    log = write_log(tmp_path, HEAD, *lines)
    code, document = run(index, capsys, "--no-cache", str(log))
    assert (code, only(document)["cause"]) == (3, "undetermined")
    assert "sha512" in only(document)["message"]


# --------------------------------------------------------------------------- the index and cache


def test_index_down_is_exit_3(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = mismatch(tmp_path, expected=(world.demo_11_wheel.sha256,), got=world.demo_10_wheel.sha256)
    down = FakeIndex().start()
    url = down.simple_url
    down.close()
    code, document = run(None, capsys, "--no-cache", "--timeout", "2", str(log), index_url=url)
    diagnosis = only(document)
    assert (code, diagnosis["cause"], diagnosis["index_failed"]) == (3, "undetermined", True)


def test_offline_from_the_cache_and_when_the_index_is_down(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = mismatch(tmp_path, expected=(world.demo_11_wheel.sha256,), got=world.demo_10_wheel.sha256)
    cache = tmp_path / "cache"
    served = FakeIndex().start()
    publish(served, world)
    url = served.simple_url
    try:
        code, cold = run(
            None, capsys, "--offline", "--cache-dir", str(cache), str(log), index_url=url
        )
        assert (code, only(cold)["cause"]) == (3, "undetermined")
        assert not served.paths()
        code, _ = run(None, capsys, "--cache-dir", str(cache), str(log), index_url=url)
        assert code == 0
    finally:
        served.close()
    code, offline = run(
        None, capsys, "--offline", "--cache-dir", str(cache), str(log), index_url=url
    )
    assert (code, only(offline)["cause"]) == (0, "stale-pin")
    # Past its freshness the cache is revalidated; with the index gone it still answers.
    # (Rows are signed: they are aged by writing them again with an old clock.)
    with sqlite3.connect(cache / "index-cache.sqlite3") as db:
        rows = db.execute(
            "SELECT index_url, kind, project, version, payload, etag, document FROM answers"
        ).fetchall()
    db.close()
    aged = ReleaseCache(cache / "index-cache.sqlite3", clock=lambda: 1.0)
    for index_url, kind, project, version, payload, etag, document in rows:
        aged.put(
            index_url, kind, project, version, json.loads(payload), etag=etag, document=document
        )
    aged.close()
    code, fallback = run(
        None, capsys, "--cache-dir", str(cache), "--timeout", "2", str(log), index_url=url
    )
    assert (code, only(fallback)["cause"]) == (0, "stale-pin")
    assert any("answered from the cache" in note for note in only(fallback)["notes"])


def test_index_from_the_environment(
    index: FakeIndex,
    world: World,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", index.simple_url)
    log = mismatch(tmp_path, expected=(world.demo_11_wheel.sha256,), got=world.demo_10_wheel.sha256)
    code = main(["explain", "--no-cache", "--format", "json", str(log)])
    assert code == 0
    assert json.loads(capsys.readouterr().out)["index"] == index.simple_url


def test_the_checked_trees_configuration_names_no_index_for_explain(
    index: FakeIndex,
    world: World,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """explain takes the check's Settings, but only the command line, the environment and
    pip's configuration name its index: a `[tool.reqhash-check]` index in the current tree
    (which the check would use, as pip's would-be options) is never asked by explain."""
    tree_index = FakeIndex().start()
    try:
        publish(tree_index, world)
        (tmp_path / "pyproject.toml").write_text(
            "[tool.reqhash-check]\n"
            f'index-url = "{tree_index.simple_url}"\n'
            f'extra-index-url = ["{tree_index.simple_url}/extra"]\n'
        )
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("PIP_INDEX_URL", index.simple_url)
        log = mismatch(
            tmp_path, expected=(world.demo_11_wheel.sha256,), got=world.demo_10_wheel.sha256
        )
        code = main(["explain", "--no-cache", "--format", "json", str(log)])
        document = json.loads(capsys.readouterr().out)
        assert code == 0
        assert document["index"] == index.simple_url
        assert index.paths()
        assert not tree_index.paths()
    finally:
        tree_index.close()


# --------------------------------------------------------------------------- --requirements


def test_requirements_file_cross_check(
    index: FakeIndex, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(
        "# pinned for CI\n"
        "other==2.0 --hash=sha256:" + world.other_20.sha256 + "\n"
        'demo==1.0 ; python_version >= "3.8" \\\n'
        f"    --hash=sha256:{world.demo_11_wheel.sha256}  # bumped\n"
    )
    log = mismatch(tmp_path, expected=(world.demo_11_wheel.sha256,), got=world.demo_10_wheel.sha256)
    code, document = run(index, capsys, "--no-cache", "--requirements", str(requirements), str(log))
    diagnosis = only(document)
    assert code == 0
    assert diagnosis["current"]["line"] == 3 and diagnosis["current"]["end_line"] == 4
    lines = diagnosis["fix"]["lines"]
    assert lines[0].startswith('demo==1.0 ; python_version >= "3.8"')
    assert f"--hash=sha256:{world.demo_10_wheel.sha256}" in "\n".join(lines)
    assert world.demo_11_wheel.sha256 not in "\n".join(lines)
    # The command asks the index this explanation asked (issue 20).
    assert diagnosis["fix"]["command"] == (
        f"reqhash-check --fix --index-url {index.simple_url} --no-cache {requirements}"
    )

    # The lines written as told: the same log now finds the file already fixed.
    text = requirements.read_text().splitlines()
    text[2:4] = lines
    requirements.write_text("\n".join(text) + "\n")
    _, document = run(index, capsys, "--no-cache", "--requirements", str(requirements), str(log))
    assert any("already lists" in note for note in only(document)["notes"])
    assert main(["--index-url", index.simple_url, "--no-cache", "-q", str(requirements)]) == 0
    capsys.readouterr()

    requirements.write_text(f"demo==1.1 --hash=sha256:{world.demo_11_wheel.sha256}\n")
    _, document = run(index, capsys, "--no-cache", "--requirements", str(requirements), str(log))
    assert any("now pins demo==1.1" in note for note in only(document)["notes"])

    requirements.write_text("other==2.0\n")
    _, document = run(index, capsys, "--no-cache", "--requirements", str(requirements), str(log))
    assert any("demo is not in" in note for note in only(document)["notes"])


# --------------------------------------------------------------------------- formats


def test_text_output(
    index: FakeIndex, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = mismatch(tmp_path, expected=(world.demo_11_wheel.sha256,), got=world.demo_10_wheel.sha256)
    code = main(
        ["explain", "--index-url", index.simple_url, "--no-cache", "--color", "never", str(log)]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert out.startswith("requirements.txt:1: stale-pin demo 1.0: ")
    assert f"    kb: {KB}" in out
    assert "    replace the requirement at line 1 of requirements.txt with:" in out
    assert "        demo==1.0 \\" in out
    assert (
        f"    or run: reqhash-check --fix --index-url {index.simple_url} --no-cache "
        "requirements.txt"
    ) in out
    assert "    not the fix: deleting the hashes or dropping --require-hashes" in out
    assert out.rstrip().endswith("1 failure in 1 log: 1 stale-pin")

    main(["explain", "--index-url", index.simple_url, "--no-cache", "--color", "always", str(log)])
    assert "\033[31mstale-pin\033[0m" in capsys.readouterr().out
    main(["explain", "--index-url", index.simple_url, "--no-cache", "-q", str(log)])
    assert len(capsys.readouterr().out.splitlines()) == 2
    main(["explain", "--index-url", index.simple_url, "--no-cache", "-v", str(log)])
    assert f"    got: sha256:{world.demo_10_wheel.sha256}" in capsys.readouterr().out


def test_markdown_and_github_with_step_summary(
    index: FakeIndex,
    world: World,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = mismatch(tmp_path, expected=(world.demo_10_wheel.sha256,), got=ALTERED)
    code = main(
        ["explain", "--index-url", index.simple_url, "--no-cache", "--format", "markdown", str(log)]
    )
    markdown = capsys.readouterr().out
    assert code == 1
    assert markdown.startswith("# reqhash-check explain: ⚠️ possible tampering")
    assert "| `requirements.txt:1` | demo 1.0 | `unpublished-bytes` |" in markdown

    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    main(["explain", "--index-url", index.simple_url, "--no-cache", "--format", "github", str(log)])
    github = capsys.readouterr().out
    (line,) = github.splitlines()
    assert line.startswith(
        "::error file=requirements.txt,line=1,title=unpublished-bytes (demo)::pip downloaded"
    )
    assert "%0AKB: pip/hash-mismatch-requirements-file" in line
    assert summary.read_text().startswith("# reqhash-check explain")


def test_log_text_cannot_inject_commands_or_control_characters(
    index: FakeIndex, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    evil = "::error::pwned\x1b[2J\u202e"
    log = write_log(
        tmp_path,
        f"Looking in indexes: {evil}",
        HEAD,
        *mismatch_block(
            url="http://127.0.0.1:8000/files/demo-1.0-py3-none-any.whl",
            comes_from=f"-r {evil}.txt (line 1)",
            expected=(world.demo_11_wheel.sha256,),
            got=world.demo_10_wheel.sha256,
        ),
        f"    {evil} from http://x/y (from -r r.txt (line 2)):",
        f"::warning::{evil}",
    )
    for output_format in ("text", "markdown", "json", "github"):
        main(
            [
                "explain",
                "--index-url",
                index.simple_url,
                "--no-cache",
                "--color",
                "never",
                "--format",
                output_format,
                str(log),
            ]
        )
        out = capsys.readouterr().out
        assert "\x1b" not in out and "\u202e" not in out, output_format
        for line in out.splitlines():
            if output_format == "github":
                assert re.match(r"^::(error|warning) ", line), line
                properties = line[2:].split("::", 1)[0]
                assert ":" not in properties  # the log's text is escaped inside them
            else:
                assert not line.lstrip().startswith("::"), (output_format, line)


# --------------------------------------------------------------------------- inputs and exit codes


def test_standard_input_and_dash(
    index: FakeIndex,
    world: World,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = mismatch(tmp_path, expected=(world.demo_11_wheel.sha256,), got=world.demo_10_wheel.sha256)
    data = log.read_bytes().replace(b"\n", b"\r\n")
    for args in ([], ["-"]):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        assert main(["explain", "--index-url", index.simple_url, "--no-cache", *args]) == 0
        assert "stale-pin" in capsys.readouterr().out
    assert explain_main(["-", "-"]) == 2
    assert "only once" in capsys.readouterr().err


def test_unreadable_and_pip_free_logs_are_exit_2(
    index: FakeIndex, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quiet = write_log(tmp_path, "Successfully installed demo-1.0", name="ok.log")
    code, document = run(index, capsys, "--no-cache", str(quiet))
    assert code == 2 and document["summary"]["without_failures"] == [str(quiet)]
    code, document = run(index, capsys, "--no-cache", str(tmp_path / "missing.log"))
    assert code == 2 and "does not exist" in document["summary"]["unreadable"][0]
    code, document = run(index, capsys, "--no-cache", str(tmp_path))
    assert code == 2 and "not a regular file" in document["summary"]["unreadable"][0]
    # A possible security event is never hidden behind another exit code.
    altered = mismatch(tmp_path, expected=(world.demo_10_wheel.sha256,), got=ALTERED)
    code, _ = run(index, capsys, "--no-cache", str(altered), str(tmp_path / "missing.log"))
    assert code == 1


def test_too_large_log_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from reqhash_check.explain import command, logtext

    monkeypatch.setattr(logtext, "MAX_LOG_BYTES", 100)
    monkeypatch.setattr(command, "MAX_LOG_BYTES", 100)
    log = write_log(tmp_path, HEAD, *mismatch_block())
    code = explain_main(["--no-cache", "--format", "json", str(log)])
    assert code == 2
    assert "larger than" in json.loads(capsys.readouterr().out)["summary"]["unreadable"][0]


def test_usage(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["explain", "--help"]) == 0
    help_text = capsys.readouterr().out
    for option in ("--format", "--requirements", "--offline", "--cache-dir", "--timeout", "-q"):
        assert option in help_text
    assert "exit codes" in help_text
    assert main(["explain", "--timeout", "0", "x.log"]) == 2
    assert main(["explain", "--format", "sarif"]) == 2
    assert main(["explain", "--requirements", str(tmp_path / "none.txt"), "x.log"]) == 2
    capsys.readouterr()


def test_output_file(
    index: FakeIndex, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = mismatch(tmp_path, expected=(world.demo_11_wheel.sha256,), got=world.demo_10_wheel.sha256)
    target = tmp_path / "out.json"
    code = main(
        [
            "explain",
            "--index-url",
            index.simple_url,
            "--no-cache",
            "--format",
            "json",
            "-o",
            str(target),
            str(log),
        ]
    )
    assert code == 0 and capsys.readouterr().out == ""
    assert json.loads(target.read_text())["schema"] == 1


def test_index_answers_are_cleaned_too() -> None:
    """File names and URLs from the index reach the messages; they are untrusted as well."""
    from reqhash_check.explain.diagnose import Context, diagnose
    from reqhash_check.explain.logparse import parse_log
    from reqhash_check.explain.lookup import Facts
    from reqhash_check.index.base import DistFile, ReleaseFiles

    evil_name = "demo-1.0-py3-none-any.whl\n::error::x\x1b[2J"
    files = (
        DistFile("demo-1.0-py3-none-any.whl", "1.0", "https://x/demo.whl", {"sha256": "b" * 64}),
        DistFile(evil_name, "1.1", "https://x/\u202eevil", {"sha256": "a" * 64}),
    )
    (failure,) = parse_log("\n".join([HEAD, *mismatch_block(expected=("a" * 64,))])).failures
    facts = Facts(release=ReleaseFiles("demo", "1.0", files[:1]), project_files=files)
    diagnosis = diagnose(failure, facts, Context(index="https://index.example/simple"))
    assert diagnosis.cause == "stale-pin"
    shown = " ".join([diagnosis.message, diagnosis.fix.summary, *diagnosis.notes])
    assert "\n" not in shown and "\x1b" not in shown and "\\x0a\\:\\:error" not in shown
    assert "\\x0a::error::x\\x1b[2J" in diagnosis.message


def test_unpublished_bytes_even_when_the_list_lacks_the_file(
    index: FakeIndex, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only the sdist is listed, pip took the wheel, and its bytes are not the published ones."""
    log = mismatch(tmp_path, expected=(world.demo_10_sdist.sha256,), got=ALTERED)
    code, document = run(index, capsys, "--no-cache", str(log))
    diagnosis = only(document)
    assert (code, diagnosis["cause"]) == (1, "unpublished-bytes")
    assert "which the requirements do not list either" in diagnosis["message"]


def test_extra_index_is_asked_too(
    index: FakeIndex, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.fakeindex import FakeFile
    from tests.wheelfactory import build_wheel

    private = FakeIndex().start()
    try:
        inhouse = build_wheel("inhouse", "0.3")
        private.add("inhouse", "0.3", FakeFile(inhouse.filename, inhouse.content))
        log = mismatch(
            tmp_path,
            requirement="inhouse==0.3",
            file=inhouse.filename,
            expected=(FOREIGN,),
            got=inhouse.sha256,
        )
        code, document = run(
            index, capsys, "--no-cache", "--extra-index-url", private.simple_url, str(log)
        )
    finally:
        private.close()
    diagnosis = only(document)
    assert (code, diagnosis["cause"]) == (0, "foreign-hashes")
    assert document["index"] == f"{index.simple_url} + {private.simple_url}"


def test_a_failure_that_cannot_be_read_is_not_called_pip_free(
    index: FakeIndex, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cut = [line[:60] if "Expected" in line else line for line in mismatch_block()]
    log = write_log(tmp_path, HEAD, *cut)
    code = main(["explain", "--index-url", index.simple_url, "--no-cache", str(log)])
    out = capsys.readouterr().out
    assert code == 2
    assert "pip's failure message could not be read" in out
    assert ": not read: Expected sha256" in out


def test_errors_are_worded_as_the_check_words_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """issue 20: explain's errors start `reqhash-check: error:`, on standard error, one line
    each, as the check's do; the report on standard output only counts them."""
    missing = tmp_path / "missing.log"
    assert main(["--no-cache", str(missing)]) == 2
    check_err = capsys.readouterr().err
    assert check_err.startswith("reqhash-check: error: ")
    assert main(["explain", "--no-cache", str(missing)]) == 2
    out, err = capsys.readouterr()
    assert err == f"reqhash-check: error: {missing}: does not exist\n"
    assert "error" not in out and "could NOT be read" in out
    for argv in (
        ["--timeout", "x", "x.log"],
        ["--timeout", "0", "x.log"],
        ["--format", "sarif"],
        ["--no-such-option"],
        ["-", "-"],
    ):
        assert main(["explain", *argv]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1, (argv, err)
        assert err.startswith("reqhash-check: error: "), (argv, err)


def test_timeout_cap_is_the_checks(capsys: pytest.CaptureFixture[str]) -> None:
    """explain takes the check's configuration: a --timeout past the check's 3,600-second
    cap is refused by both, in the same words."""
    assert main(["--timeout", "3601", "--no-cache", "r.txt"]) == 2
    check_err = capsys.readouterr().err
    assert main(["explain", "--timeout", "3601", "x.log"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == check_err
    assert "at most 3600" in err


def test_a_local_index_the_command_line_names_is_read_where_it_is(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """explain opens the indexes the check's way: a `file:` index the command line names
    outside the current repository is read where it is (the command line is trusted), as
    the check reads it."""
    import hashlib

    repo, outside = tmp_path / "repo", tmp_path / "outside"
    (repo / ".git").mkdir(parents=True)
    wheel = outside / "demo-1.0-py3-none-any.whl"
    (outside / "simple" / "demo").mkdir(parents=True)
    wheel.write_bytes(b"published wheel bytes")
    published = hashlib.sha256(wheel.read_bytes()).hexdigest()
    (outside / "simple" / "demo" / "index.html").write_text(
        f'<a href="file://{wheel}#sha256={published}">demo-1.0-py3-none-any.whl</a>\n'
    )
    monkeypatch.chdir(repo)
    log = mismatch(repo, expected=(ALTERED,), got=published)
    code, document = run(None, capsys, "--no-cache", str(log), index_url=f"file://{outside}/simple")
    diagnosis = only(document)
    assert code == 0, diagnosis
    assert diagnosis["cause"] != "undetermined", diagnosis
