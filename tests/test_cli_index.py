"""End to end: the CLI against a real HTTP index on 127.0.0.1 serving recorded PyPI data."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from reqhash_check.cli import main
from tests.fakeindex import RECORDED, FakeFile, FakeIndex

PINS = {
    "requests": "2.31.0",
    "urllib3": "2.2.2",
    "idna": "3.7",
    "certifi": "2024.2.2",
    "charset-normalizer": "3.3.2",
}
SRC = str(Path(__file__).resolve().parents[1] / "src")


def published(project: str, version: str) -> list[str]:
    data = json.loads((RECORDED / f"{project}.json").read_text())
    return sorted(f["digests"]["sha256"] for f in data["releases"][version])


def entry(project: str, version: str, hashes: list[str] | None = None) -> str:
    digests = published(project, version) if hashes is None else hashes
    lines = [f"{project}=={version}"] + [f"    --hash=sha256:{h}" for h in digests]
    return " \\\n".join(lines) + "\n"


def lockfile(**overrides: str) -> str:
    text = "# compiled by pip-compile --generate-hashes\n"
    for project, version in PINS.items():
        text += overrides.get(project) or entry(project, version)
        text += "    # via -r requirements.in\n"
    return text


@pytest.fixture
def index(fake_index: FakeIndex) -> FakeIndex:
    for project in PINS:
        fake_index.load_recorded(project)
    return fake_index


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REQHASH_CHECK_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)


def check(capsys: pytest.CaptureFixture[str], index: FakeIndex, *argv: str) -> tuple[int, str, str]:
    code = main(
        ["--index-url", index.simple_url, "--target", "linux-x86_64-glibc2.28-cp312", *argv]
    )
    out, err = capsys.readouterr()
    return code, out, err


def test_untouched_lockfile_is_clean(
    tmp_path: Path, index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "requirements.txt").write_text(lockfile())
    code, out, err = check(capsys, index, "requirements.txt")
    assert code == 0, out + err
    assert out.splitlines()[-1].startswith("OK: 0 errors, 0 warnings")
    assert f"index consulted: {index.simple_url}" in out


def test_version_bumped_without_new_hashes(
    tmp_path: Path, index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    bumped = entry("requests", "2.32.3", published("requests", "2.31.0"))
    (tmp_path / "requirements.txt").write_text(lockfile(requests=bumped))
    code, out, _ = check(capsys, index, "requirements.txt")
    assert code == 1
    assert "requirements.txt:2: stale-hash" in out
    assert "belong to requests 2.31.0" in out and "without regenerating" in out
    assert (
        "fix 1 of these: reqhash-check --fix --target linux-x86_64-glibc2.28-cp312 "
        f"--index-url {index.simple_url} requirements.txt"
    ) in out
    assert out.count("pip/hash-mismatch-requirements-file: deleting the hashes") == 1
    assert "published: sha256:" not in out  # the detail is for --verbose
    code, out, _ = check(capsys, index, "--verbose", "requirements.txt")
    assert "kb: pip/hash-mismatch-requirements-file" in out
    for digest in published("requests", "2.32.3"):
        assert f"published: sha256:{digest}" in out


def test_flipped_digit_and_invented_version(
    tmp_path: Path, index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    good = published("idna", "3.7")
    flipped = [("0" if good[0][0] != "0" else "1") + good[0][1:], *good[1:]]
    text = lockfile(idna=entry("idna", "3.7", flipped), certifi=entry("certifi", "99.0.0", []))
    text = text.replace("certifi==99.0.0\n", f"certifi==99.0.0 --hash=sha256:{'e' * 64}\n")
    (tmp_path / "requirements.txt").write_text(text)
    code, out, _ = check(capsys, index, "--format", "json", "requirements.txt")
    document = json.loads(out)
    rules = {(f["project"], f["rule"]) for f in document["findings"]}
    assert code == 1
    assert ("idna", "foreign-hash") in rules or ("idna", "stale-hash") in rules
    assert ("certifi", "unknown-version") in rules


def test_fix_then_check_is_clean_and_fix_twice_changes_nothing(
    tmp_path: Path, index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    bumped = entry("requests", "2.32.3", published("requests", "2.31.0"))
    path = tmp_path / "requirements.txt"
    path.write_text(lockfile(requests=bumped, idna="idna==3.7\n"))
    code, out, _ = check(capsys, index, "--diff", "requirements.txt")
    assert code == 1 and "+    --hash=sha256:" in out and path.read_text().count("idna==3.7\n")
    code, _, err = check(capsys, index, "--fix", "requirements.txt")
    assert code == 0, err
    fixed = path.read_text()
    for digest in published("requests", "2.32.3") + published("idna", "3.7"):
        assert digest in fixed
    assert "# compiled by pip-compile --generate-hashes\n" in fixed
    assert check(capsys, index, "requirements.txt")[0] == 0
    check(capsys, index, "--fix", "requirements.txt")
    assert path.read_text() == fixed


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (lambda i: i.fail("/simple/", 500), "HTTP 500"),
        (lambda i: i.fail("/simple/", 429, retry_after="0"), "HTTP 429"),
        (lambda i: i.garbage("/simple/"), ""),
        (lambda i: i.delay("/simple/", 3.0), ""),
    ],
    ids=["500", "429", "garbage", "slow"],
)
def test_bad_index_fails_closed_with_exit_3(  # type: ignore[no-untyped-def]
    tmp_path: Path, index: FakeIndex, capsys: pytest.CaptureFixture[str], fault, reason: str
) -> None:
    fault(index)
    (tmp_path / "requirements.txt").write_text(lockfile())
    code, out, err = check(capsys, index, "--timeout", "1", "--no-cache", "requirements.txt")
    assert code == 3, out + err
    assert "OK" not in out and "Traceback" not in out + err
    assert "NOT verified" in out and reason in out


def test_dead_index_fails_closed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (tmp_path / "requirements.txt").write_text(f"six==1.16.0 --hash=sha256:{'a' * 64}\n")
    code = main(["--index-url", f"http://127.0.0.1:{port}/simple", "requirements.txt"])
    out, err = capsys.readouterr()
    assert code == 3 and "OK" not in out and "Traceback" not in err


def test_credentials_are_used_and_never_printed(
    tmp_path: Path, index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    index.fail("/simple/", 503)
    url = index.simple_url.replace("http://", "http://alice:s3cret@")
    (tmp_path / "requirements.txt").write_text(lockfile())
    for output in ("text", "json", "sarif", "github", "markdown"):
        code = main(["--index-url", url, "--no-cache", "--format", output, "requirements.txt"])
        out, err = capsys.readouterr()
        assert code == 3
        assert "s3cret" not in out + err and "alice" not in out + err
    assert any("authorization" in {k.lower() for k in h} for _, _, h in index.requests)


def test_warm_cache_and_offline_give_the_same_result(
    tmp_path: Path, index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    bumped = entry("requests", "2.32.3", published("requests", "2.31.0"))
    (tmp_path / "requirements.txt").write_text(lockfile(requests=bumped))
    cold = check(capsys, index, "--format", "json", "requirements.txt")
    asked = len(index.requests)
    warm = check(capsys, index, "--format", "json", "requirements.txt")
    assert len(index.requests) == asked  # fresh cache answers: no request at all
    index.close()
    offline = check(capsys, index, "--offline", "--format", "json", "requirements.txt")
    assert cold[0] == warm[0] == offline[0] == 1
    assert json.loads(cold[1])["findings"] == json.loads(offline[1])["findings"]


def test_offline_cold_cache_says_unverifiable(
    tmp_path: Path, index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "requirements.txt").write_text(lockfile())
    code, out, _ = check(capsys, index, "--offline", "requirements.txt")
    assert code == 0 and "unverifiable" in out and "OK" not in out
    assert index.requests == []


def test_four_processes_share_one_cache(tmp_path: Path, index: FakeIndex) -> None:
    (tmp_path / "requirements.txt").write_text(lockfile())
    env = {**os.environ, "PYTHONPATH": SRC, "REQHASH_CHECK_CACHE_DIR": str(tmp_path / "cache")}
    argv = [
        sys.executable,
        "-m",
        "reqhash_check",
        "--index-url",
        index.simple_url,
        "--format",
        "json",
        "requirements.txt",
    ]
    processes = [
        subprocess.Popen(
            argv, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(4)
    ]
    results = [p.communicate(timeout=120) for p in processes]
    for process, (out, err) in zip(processes, results, strict=True):
        assert process.returncode == 0, err.decode()
        assert json.loads(out)["summary"]["errors"] == 0


def test_unknown_project(
    tmp_path: Path, index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "requirements.txt").write_text(f"no-such-thing==1.0 --hash=sha256:{'a' * 64}\n")
    code, out, _ = check(capsys, index, "requirements.txt")
    assert code == 1 and "unknown-project" in out


def test_yanked_release(
    tmp_path: Path, index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "requirements.txt").write_text(lockfile(requests=entry("requests", "2.32.0")))
    code, out, _ = check(capsys, index, "requirements.txt")
    assert "yanked" in out and code == 0


def test_missing_dependency_from_metadata(
    tmp_path: Path, fake_index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.wheelfactory import build_wheel

    app = build_wheel("app", "1.0", requires_dist=["helper>=1"])
    fake_index.add("app", "1.0", FakeFile(app.filename, content=app.content, metadata=app.metadata))
    (tmp_path / "requirements.txt").write_text(f"app==1.0 --hash=sha256:{app.sha256}\n")
    code, out, _ = check(capsys, fake_index, "requirements.txt")
    assert code == 1 and "missing-dependency" in out and "helper" in out


def test_fix_targets_only_keeps_the_files_the_targets_install(
    tmp_path: Path, index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    data = json.loads((RECORDED / "charset-normalizer.json").read_text())
    files = {f["filename"]: f["digests"]["sha256"] for f in data["releases"]["3.3.2"]}
    path = tmp_path / "requirements.txt"
    path.write_text(entry("charset-normalizer", "3.3.2", ["0" * 64]))
    code, _, err = check(capsys, index, "--fix", "--fix-targets-only", "requirements.txt")
    assert code == 0, err
    fixed = path.read_text()
    kept = {name for name, digest in files.items() if digest in fixed}
    assert any("cp312" in n and "manylinux" in n and "x86_64" in n for n in kept), kept
    assert not any("win" in n or "macosx" in n or "aarch64" in n for n in kept), kept
    assert len(kept) < len(files)


def _run_in_a_process(tmp_path: Path, *argv: str) -> tuple[int, dict[str, object], bool]:
    """The CLI in a fresh interpreter: exit code, JSON report, and whether it started an
    event loop (imported asyncio)."""
    script = (
        "import json, sys\n"
        "from reqhash_check.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print(json.dumps({'code': code, 'asyncio': 'asyncio' in sys.modules}))\n"
    )
    env = {**os.environ, "PYTHONPATH": SRC, "REQHASH_CHECK_CACHE_DIR": str(tmp_path / "cache")}
    done = subprocess.run(
        [sys.executable, "-c", script, *argv],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    *report, last = done.stdout.strip().splitlines()
    status = json.loads(last)
    return status["code"], json.loads("\n".join(report)), status["asyncio"]


def test_a_warm_run_is_answered_by_the_cache_alone(tmp_path: Path, index: FakeIndex) -> None:
    """Every kind of question (pins, a stale hash's history, a hashed requirement without a
    pin, a project the index does not have, a second index) answered from the cache: the
    same report, no request and no event loop; one question more, and the index is asked
    for that question only."""
    extra = FakeIndex().start()
    try:
        extra.load_recorded("six")
        bumped = entry("requests", "2.32.3", published("requests", "2.31.0"))
        unpinned = "idna " + " ".join(f"--hash=sha256:{h}" for h in published("idna", "3.7"))
        text = lockfile(requests=bumped, idna=unpinned + "\n")
        text += f"no-such-thing==1.0 --hash=sha256:{'a' * 64}\n"
        (tmp_path / "requirements.txt").write_text(text)
        argv = (
            *("--index-url", index.simple_url, "--extra-index-url", extra.simple_url),
            *("--target", "linux-x86_64-glibc2.28-cp312", "--format", "json"),
        )
        cold = _run_in_a_process(tmp_path, *argv, "requirements.txt")
        asked = len(index.requests), len(extra.requests)
        warm = _run_in_a_process(tmp_path, *argv, "requirements.txt")
        assert (len(index.requests), len(extra.requests)) == asked
        assert cold[2] is True and warm[2] is False
        assert warm[:2] == cold[:2] and cold[0] == 1
        rules = {f["rule"] for f in cold[1]["findings"]}  # type: ignore[attr-defined]
        assert {"stale-hash", "unknown-project"} <= rules

        (tmp_path / "requirements.txt").write_text(text + entry("six", "1.16.0"))
        grown = _run_in_a_process(tmp_path, *argv, "requirements.txt")
        new_paths = index.paths()[asked[0] :] + extra.paths()[asked[1] :]
        assert new_paths and all("six" in path for path in new_paths)
        assert grown[2] is True and grown[0] == cold[0]
        assert len(grown[1]["findings"]) == len(cold[1]["findings"])  # type: ignore[arg-type]
    finally:
        extra.close()


def test_a_wheel_with_damaged_metadata_leaves_its_dependencies_unknown(
    tmp_path: Path, fake_index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """A wheel whose METADATA member does not inflate, read by range requests (no metadata
    file served): its dependencies are unknown and said so; the run goes on."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("demo/__init__.py", b"")
        archive.writestr("demo-1.0.dist-info/METADATA", b"Name: demo\nVersion: 1.0\n" * 20)
    data = buffer.getvalue()
    header = data.index(b"PK\x03\x04", data.index(b"demo/__init__.py"))
    start = header + 30 + len("demo-1.0.dist-info/METADATA")
    data = data[:start] + b"\xff" + data[start + 1 :]  # not a deflate block
    wheel = FakeFile("demo-1.0-py3-none-any.whl", content=data)
    fake_index.add("demo", "1.0", wheel)
    fake_index.serve_metadata = False
    (tmp_path / "requirements.txt").write_text(f"demo==1.0 --hash=sha256:{wheel.digest}\n")
    code, out, err = check(capsys, fake_index, "--format", "json", "requirements.txt")
    assert "internal error" not in err and code == 0
    assert any("range" in headers for _, path, headers in fake_index.requests if "demo-1" in path)
    assert json.loads(out)["summary"]["dependencies_unknown"]


def test_many_requests_at_once_ask_and_find_the_same_as_few(
    tmp_path: Path, index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Beyond a few requests in flight, plain-http requests are spread over several
    connection pools: the same check asks the same questions, with the same credentials,
    and finds the same as with one pool."""
    (tmp_path / "requirements.txt").write_text(
        lockfile(urllib3=entry("urllib3", "2.2.1", published("urllib3", "2.2.2")))
    )
    secret_url = index.simple_url.replace("http://", "http://erin:spread-secret@")
    outputs, asked = [], []
    for concurrency in ("1", "4", "24"):
        index.requests.clear()
        code = main(
            [
                *("--index-url", secret_url, "--concurrency", concurrency),
                *("--cache-dir", str(tmp_path / f"cache-{concurrency}"), "--format", "json"),
                *("--target", "linux-x86_64-glibc2.28-cp312", "requirements.txt"),
            ]
        )
        out, _ = capsys.readouterr()
        outputs.append((code, out))
        asked.append(sorted((p, h.get("authorization", "")) for _, p, h in index.requests))
    assert outputs[0][0] == 1 and "spread-secret" not in outputs[0][1]
    assert outputs[1] == outputs[0] and outputs[2] == outputs[0]
    assert asked[1] == asked[0] and asked[2] == asked[0]
    expected = "Basic " + base64.b64encode(b"erin:spread-secret").decode()
    assert len(asked[0]) > 10 and {a for _, a in asked[0]} == {expected}
