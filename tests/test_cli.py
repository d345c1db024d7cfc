"""The command line through main([...]): exit codes, outputs, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reqhash_check import __version__
from reqhash_check.cli import main

SHA_A = "a" * 64
OFFLINE_RULES = "missing-hash,unpinned,unhashable,invalid-hash,duplicate,parse-error,include-error"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "NO_COLOR", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REQHASH_CHECK_CACHE_DIR", str(tmp_path / "cache"))


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0 and __version__ in out


def test_findings_exit_1_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "requirements.txt").write_text(f"six==1.16.0 --hash=sha256:{SHA_A}\nidna==3.6\n")
    code, out, err = run(capsys, "--select", OFFLINE_RULES, "requirements.txt")
    assert code == 1, err
    assert "requirements.txt:2: missing-hash idna has no --hash" in out
    assert "1 error" in out


def test_clean_exit_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    code, out, _ = run(capsys, "--select", OFFLINE_RULES)  # default discovery
    assert code == 0
    assert out.startswith("OK: 0 errors")


def test_require_hashes_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "r.txt").write_text("six==1.16.0\n")
    code, out, _ = run(capsys, "--select", OFFLINE_RULES, "--require-hashes", "r.txt")
    assert code == 1 and "missing-hash" in out


def test_ignore_and_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "r.txt").write_text(
        f"--trusted-host example.invalid\nsix==1.16.0 --hash=sha256:{SHA_A}\nidna==3.6\n"
    )
    select = OFFLINE_RULES + ",insecure-index"
    assert run(capsys, "--select", select, "--ignore", "missing-hash", "r.txt")[0] == 0
    code, out, _ = run(capsys, "--select", select, "--ignore", "missing-hash", "--strict", "r.txt")
    assert code == 1 and "insecure-index" in out


def test_unpinned_severity_follows_pip_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "r.txt").write_text(f"six>=1.16 --hash=sha256:{SHA_A}\n")
    code, out, _ = run(capsys, "--select", OFFLINE_RULES, "r.txt")
    assert code == 1 and "unpinned" in out and "pip older than 26.1 fails" in out
    code, out, _ = run(capsys, "--select", OFFLINE_RULES, "--pip-version", "26.1", "r.txt")
    assert code == 0 and "unpinned" in out and "(warning)" in out


def test_json_output_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "r.txt").write_text(f"six==1.16.0 --hash=sha256:{SHA_A}\nidna==3.6\n")
    code, out, _ = run(capsys, "--select", OFFLINE_RULES, "--format", "json", "r.txt")
    document = json.loads(out)
    assert code == 1 and document["schema"] == 1
    (finding,) = document["findings"]
    assert set(finding) >= {
        "rule",
        "severity",
        "path",
        "line",
        "end_line",
        "project",
        "version",
        "message",
        "kb",
        "hashes",
        "target",
    }
    assert (finding["rule"], finding["line"], finding["project"]) == ("missing-hash", 2, "idna")
    assert document["summary"]["errors"] == 1


def test_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "r.txt").write_text("idna==3.6 --hash=md5:abc\n")
    code, out, _ = run(
        capsys, "--select", OFFLINE_RULES, "-o", "report.json", "--format", "json", "r.txt"
    )
    assert code == 1 and out == ""
    assert json.loads((tmp_path / "report.json").read_text())["findings"][0]["rule"] == (
        "invalid-hash"
    )


def test_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import io
    import sys

    fake = io.TextIOWrapper(io.BytesIO(f"six==1.16.0 --hash=sha256:{SHA_A}\nidna\n".encode()))
    monkeypatch.setattr(sys, "stdin", fake)
    code, out, _ = run(capsys, "--select", OFFLINE_RULES, "-")
    assert code == 1 and "-:2: missing-hash" in out and "-:2: unpinned" in out


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda p: None, "no such file"),
        (lambda p: p.mkdir(), "a folder without requirements"),
        (lambda p: p.write_bytes(b"\x00\x01\x02binary"), "not a text file"),
    ],
    ids=["missing", "directory", "binary"],
)
def test_unreadable_input_exit_2_one_line(  # type: ignore[no-untyped-def]
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setup, expected: str
) -> None:
    setup(tmp_path / "r.txt")
    code, out, err = run(capsys, "--select", OFFLINE_RULES, "r.txt")
    assert code == 2
    assert expected in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert "OK" not in out


def test_empty_file_is_clean(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "r.txt").write_text("")
    assert run(capsys, "r.txt")[0] == 0


def test_include_cycle_reported_not_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "a.txt").write_text("-r b.txt\n")
    (tmp_path / "b.txt").write_text("-r a.txt\n")
    code, out, err = run(capsys, "a.txt")
    assert code == 1 and "include-error" in out and "cycle" in out and not err


@pytest.mark.parametrize(
    "argv",
    [
        ["--select", "no-such-rule", "r.txt"],
        ["--format", "xml", "r.txt"],
        ["--pip-version", "new", "r.txt"],
        ["--target", "plan9-mips-cp312", "r.txt"],
        ["--timeout", "0", "r.txt"],
    ],
)
def test_usage_errors_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    (tmp_path / "r.txt").write_text("six==1.16.0\n")
    code, _, err = run(capsys, *argv)
    assert code == 2 and "Traceback" not in err and err.strip()


def test_no_files_found(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys)
    assert code == 2 and "no requirements files" in err


def test_pyproject_config_and_cli_wins(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.reqhash-check]\nselect = ["missing-hash"]\nstrict = true\n'
    )
    (tmp_path / "r.txt").write_text(f"six>=1 --hash=sha256:{SHA_A}\nidna==3.6\n")
    code, out, _ = run(capsys, "r.txt")
    assert code == 1 and "missing-hash" in out and "unpinned" not in out
    code, out, _ = run(capsys, "--select", "unpinned", "r.txt")
    assert "unpinned" in out and "missing-hash" not in out


def test_pyproject_unknown_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.reqhash-check]\nslect = ["x"]\n')
    (tmp_path / "r.txt").write_text("six==1.16.0\n")
    code, _, err = run(capsys, "r.txt")
    assert code == 2 and "unknown key 'slect'" in err


def test_color(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "r.txt").write_text(f"six==1.16.0 --hash=sha256:{SHA_A}\nidna==3.6\n")
    _, out, _ = run(capsys, "--select", OFFLINE_RULES, "--color", "always", "r.txt")
    assert "\033[" in out
    monkeypatch.setenv("NO_COLOR", "1")
    _, out, _ = run(capsys, "--select", OFFLINE_RULES, "r.txt")
    assert "\033[" not in out
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("FORCE_COLOR", "1")
    _, out, _ = run(capsys, "--select", OFFLINE_RULES, "r.txt")
    assert "\033[" in out


def test_python_m_entry_point() -> None:
    import os
    import subprocess
    import sys

    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-m", "reqhash_check", "--version"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert done.returncode == 0 and __version__ in done.stdout


def _entry(argv: list[str], stdout: object) -> subprocess.CompletedProcess[str]:
    """The installed command's entry point, with buffered output as in a terminal or CI."""
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env["PYTHONPATH"] = os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-c", "from reqhash_check.cli import entry; entry()", *argv],
        stdout=stdout,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        timeout=60,
    )


def test_the_command_exits_with_its_code_and_its_whole_output(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text("idna==3.7\n")
    done = _entry(
        ["--require-hashes", "--offline", "--format", "json", str(tmp_path / "r.txt")],
        subprocess.PIPE,
    )
    assert done.returncode == 1 and json.loads(done.stdout)["summary"]["errors"] == 1


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_report_that_cannot_be_written_is_not_a_silent_success(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text("")
    with open("/dev/full", "w") as full:
        done = _entry(["--offline", "--format", "json", str(tmp_path / "r.txt")], full)
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "reqhash-check: could not write the report (OSError); nothing was reported"
    )


def test_insecure_index_message_hides_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "r.txt").write_text(
        "--index-url http://user:s3cret@mirror.example.invalid/simple\n"
    )
    code, out, _ = run(capsys, "--select", "insecure-index", "r.txt")
    assert code == 0 and "insecure-index" in out
    assert "s3cret" not in out and "****@mirror.example.invalid" in out


def test_without_pip_version_a_line_either_modelled_pip_refuses_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "r.txt").write_text(
        "--all-releases :all:\nsix==1.16.0 --install-option=--prefix=/x\n"
    )
    code, out, _ = run(capsys, "--select", "parse-error", "r.txt")
    assert code == 1
    assert "r.txt:1: parse-error pip 23.0 refuses this line" in out
    assert "--all-releases (pip 26.3 reads it)" in out
    assert "r.txt:2: parse-error pip 26.3 refuses this line" in out
    assert "--install-option (pip 23.0 reads it)" in out
    code, out, _ = run(capsys, "--select", "parse-error", "--pip-version", "26.3", "r.txt")
    assert "r.txt:1:" not in out and "r.txt:2: parse-error" in out


def test_require_hashes_on_the_command_line_against_no_require_hashes_in_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "r.txt").write_text(f"--no-require-hashes\nsix==1.16.0 --hash=sha256:{SHA_A}\n")
    code, out, _ = run(
        capsys, "--select", OFFLINE_RULES, "--pip-version", "26.3", "--require-hashes", "r.txt"
    )
    assert code == 1
    assert "r.txt:1: parse-error --no-require-hashes here and --require-hashes" in out
    code, out, _ = run(capsys, "--select", OFFLINE_RULES, "--pip-version", "26.3", "r.txt")
    assert code == 0, out
