"""Bad input from the checked tree or an index never ends in "internal error", never reaches
an output raw, and never starts a workflow command (issue 18)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import reqhash_check
from tests.hostile import CONTROL_REQUIREMENTS, CONTROLS, HostileIndex
from tests.security.conftest import FORMATS, pinned, run

SRC = Path(reqhash_check.__file__).resolve().parent.parent
ACTION = Path(__file__).resolve().parents[2] / "scripts" / "action.sh"
HOSTILE_NAME = "requirements\n::error::x.txt"


def _one_clean_line(err: str) -> str:
    assert "Traceback" not in err and "internal error" not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


# --- bad input: one line, exit 2 -----------------------------------------------------------


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


LOCK_HEAD = 'lock-version = "1.0"\ncreated-by = "x"\n'
BAD_INPUTS = {
    "include-nul-url": (
        "r.txt",
        "-r file:///x%00.txt\n" + pinned(),
        "r.txt:1: -r names a path holding a NUL character",
    ),
    "constraint-nul-url": (
        "r.txt",
        "-c file://localhost/x%00.txt\n" + pinned(),
        "r.txt:1: -c names a path holding a NUL character",
    ),
    "pyproject-deep-arrays": (
        "pyproject.toml",
        f"[tool.reqhash-check]\nselect = {_deep(50_000)}\n",
        "pyproject.toml: cannot read: nested too deeply for Python's TOML reader",
    ),
    "pyproject-long-integer": (
        "pyproject.toml",
        f"[tool.reqhash-check]\ntimeout = {'9' * 100_000}\n",
        "pyproject.toml: cannot read: holds an integer of more than 4300 digits",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_and_exit_2(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    """Promise: no-tracebacks. A NUL in an include's path; the tree's pyproject.toml past
    the caps of Python's TOML reader (an integer's digits, nesting)."""
    monkeypatch.delenv("REQHASH_CHECK_DEBUG", raising=False)
    name, text, says = BAD_INPUTS[case]
    (repo / name).write_text(text, encoding="utf-8")
    if name != "r.txt":
        (repo / "r.txt").write_text(pinned())
    result = run(capsys, "--offline", "r.txt")
    assert result.code == 2, result.out + result.err
    assert says in _one_clean_line(result.err)


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        (
            LOCK_HEAD + f'[[packages]]\nname = "demo"\nx = {"9" * 100_000}\n',
            5,
            "holds an integer of more than 4300 digits",
        ),
        (LOCK_HEAD + f"x = {_deep(50_000)}\n", 1, "nested too deeply to read"),
    ],
    ids=["long-integer", "deep-arrays"],
)
def test_a_lock_past_the_toml_reader_s_caps_is_a_parse_error(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    line: int,
    says: str,
) -> None:
    """Promise: no-tracebacks. pip reads a lock with the same TOML reader and fails with
    'Invalid pylock file' on whatever it raises: a parse-error finding, as for any lock pip
    cannot read, at the line of the integer."""
    monkeypatch.delenv("REQHASH_CHECK_DEBUG", raising=False)
    (repo / "pylock.toml").write_text(text, encoding="utf-8")
    result = run(capsys, "--offline", "--format", "json", "pylock.toml")
    assert "Traceback" not in result.err and "internal error" not in result.err
    assert result.code == 1, result.err
    (finding,) = json.loads(result.out)["findings"]
    assert (finding["rule"], finding["line"]) == ("parse-error", line)
    assert says in finding["message"]


def test_a_nul_in_an_index_path_a_file_names_is_an_index_failure(
    repo: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Promise: no-tracebacks. `--find-links`/`--index-url file:///x%00` in a file: not read,
    and the requirements it would answer for are unverified (exit 3)."""
    monkeypatch.delenv("REQHASH_CHECK_DEBUG", raising=False)
    for option in ("--find-links file:///x%00", "--extra-index-url file:///x%00/simple"):
        (repo / "r.txt").write_text(f"{option}\n" + pinned())
        result = run(capsys, "--isolated", "--index-url", "file:///nowhere%00/simple", "r.txt")
        assert "Traceback" not in result.err and "internal error" not in result.err
        assert "NUL character" in result.out, result.out
        assert result.code == 3, result.out + result.err


# --- a reader that goes away ----------------------------------------------------------------


def _closed_pipe_run(*argv: str, entry: bool = False) -> subprocess.CompletedProcess[str]:
    """The command with its standard output a pipe whose reader is already gone, as in
    `reqhash-check … | head -c 1` once head has its byte (without the race)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    code = "from reqhash_check.cli import entry; entry()"
    command = ["-c", code, *argv] if entry else ["-m", "reqhash_check", *argv]
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("REQHASH_CHECK_DEBUG", None)
    try:
        return subprocess.run(
            [sys.executable, *command],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    ("argv", "entry"),
    [
        (["rules"], False),
        (["rules"], True),
        (["--offline", "r.txt"], False),
        (["--offline", "--format", "json", "r.txt"], True),
        (["--offline", "--format", "sarif", "big.txt"], False),
        (["explain", "--format", "json", "pip.log"], False),
    ],
)
def test_a_closed_standard_output_ends_quietly_with_141(
    repo: Path, argv: list[str], entry: bool
) -> None:
    """Promise: no-tracebacks. A closed pipe is not an internal error: nothing on stderr,
    and the exit status a shell gives `grep` stopped by SIGPIPE (128 + 13), never 0."""
    (repo / "r.txt").write_text(pinned())
    (repo / "big.txt").write_text("".join(pinned(f"p{i}") for i in range(300)))
    (repo / "pip.log").write_text("ERROR: THESE PACKAGES DO NOT MATCH THE HASHES\n")
    result = _closed_pipe_run(*argv, entry=entry)
    assert result.stderr == ""
    assert result.returncode == 141


# --- control characters from an index: escaped in every format --------------------------------


SEPARATORS = "".join(c for c in CONTROLS if c.isspace())
"""Those `str.strip` takes for blanks: a Requires-Python holding them still reads."""
OTHER_CONTROLS = "".join(c for c in CONTROLS if not c.isspace())


@pytest.mark.parametrize("payload", [SEPARATORS, OTHER_CONTROLS], ids=["separators", "bidi"])
def test_no_control_character_from_an_index_reaches_any_format_raw(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str], payload: str
) -> None:
    """Promise: no-hijack. Bidirectional controls, line and paragraph separators, C0 and C1
    separators in a yanked reason, a Requires-Python, file names and a project's name are
    escaped in every format; JSON and SARIF keep them as `\\uXXXX` escapes."""
    hostile.behaviour = "controls"
    hostile.payload = payload
    (repo / "r.txt").write_text(CONTROL_REQUIREMENTS)
    for fmt in FORMATS:
        result = run(capsys, "--index-url", hostile.simple_url, "--format", fmt, "-v", "r.txt")
        data = (result.out + result.err).encode("utf-8")
        for char in payload:
            assert char.encode("utf-8") not in data, (fmt, f"U+{ord(char):04X}")
        assert b"gone" in data, fmt  # the yanked reason is shown, its character escaped
        if payload == SEPARATORS:
            assert b">=9" in data, fmt  # and the Requires-Python that excludes every Python
        if fmt == "json":
            document = json.loads(result.out)
            messages = [f["message"] for f in document["findings"]]
            assert any(f"gone{payload}away" in m for m in messages)  # the same value
        if fmt == "sarif":
            results = json.loads(result.out)["runs"][0]["results"]
            assert any(f"gone{payload}away" in r["message"]["text"] for r in results)


# --- file names that hold a workflow command -------------------------------------------------


def _command_lines(text: str) -> list[str]:
    """The lines a log reader sees (it splits on CR too) that start a workflow command."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [line.strip() for line in lines if line.lstrip().startswith(("::", "##["))]


def _assert_no_injected_command(text: str) -> None:
    for line in _command_lines(text):
        assert line.startswith(("::warning file=", "::error file=", "::notice file=")), line
        assert not line.startswith("::error::x"), line


def test_a_discovered_file_named_with_a_workflow_command_cannot_start_one(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-hijack (stderr too). A file named `requirements\\n::error::x.txt`, found by
    discovery, in every format, in a read error, in --fix's messages and in --diff's headers."""
    stale = repo / HOSTILE_NAME
    stale.write_text(pinned(digest="cd" * 32))
    (repo / "requirements\n::error::dir.txt").mkdir()  # a read error naming it on stderr
    for fmt in FORMATS:
        result = run(capsys, "--index-url", hostile.simple_url, "--format", fmt)
        assert result.code == 2, result.err
        _assert_no_injected_command(result.out)
        _assert_no_injected_command(result.err)
        assert "requirements\\n::error::dir.txt: is a directory" in result.err
    result = run(capsys, "--index-url", hostile.simple_url, "--diff")
    _assert_no_injected_command(result.out + "\n" + result.err)
    assert '--- "a/requirements\\n::error::x.txt"' in result.out
    stale.chmod(0o444)
    result = run(capsys, "--index-url", hostile.simple_url, "--fix")
    _assert_no_injected_command(result.out + "\n" + result.err)
    assert "requirements\\n::error::x.txt" in result.err  # named, escaped: not written


def test_a_line_of_a_file_that_is_a_workflow_command_is_escaped_in_a_diff(
    repo: Path, hostile: HostileIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    """Promise: no-hijack. --diff shows a file's lines; one a log would read as a command
    (` ::error::x` as context, `\\r::error::x` inside a line) is escaped."""
    (repo / "r.txt").write_text(
        "::error::x\n" + "# a\r::error::x\n" + pinned(digest="cd" * 32) + "##[error]x\n"
    )
    result = run(capsys, "--index-url", hostile.simple_url, "--diff", "r.txt")
    assert "+demo==1.0" in result.out
    _assert_no_injected_command(result.out + "\n" + result.err)


# --- the Action re-emits the tool's stderr without running its commands -----------------------


def _fake_tool(folder: Path, script: str) -> Path:
    """A `reqhash-check` on PATH for `action.sh run`: `script` runs instead of the tool."""
    folder.mkdir()
    tool = folder / "reqhash-check"
    tool.write_text(f"#!{sys.executable}\n{script}\n", encoding="utf-8")
    tool.chmod(0o755)
    return folder


def _run_action(
    bin_dir: Path, workdir: Path, tmp: Path, **inputs: str
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")]),
        "PYTHONPATH": str(SRC),
        "HOME": str(tmp),
        "GITHUB_ACTION_PATH": str(ACTION.parent.parent),
        "GITHUB_OUTPUT": str(tmp / "github_output"),
        "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"),
        "RUNNER_TEMP": str(tmp),
        "GITHUB_ACTIONS": "true",
        "REQHASH_CHECK_CACHE_DIR": str(tmp / "cache"),
        **{f"INPUT_{key.upper()}": value for key, value in inputs.items()},
    }
    return subprocess.run(
        ["bash", str(ACTION), "run"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _action_commands(result: subprocess.CompletedProcess[str]) -> list[str]:
    """Every workflow command the runner would read in the step's output (both streams)."""
    return _command_lines(result.stdout) + _command_lines(result.stderr)


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_action_does_not_re_emit_the_tool_s_stderr_as_workflow_commands(
    tmp_path: Path,
) -> None:
    """Promise: no-hijack (the Action). Even a stderr line that would start a workflow
    command (none of the tool's does) is shown escaped, never run; the Action's own
    annotation of it carries it as a message."""
    work = tmp_path / "work"
    work.mkdir()
    bin_dir = _fake_tool(
        tmp_path / "bin",
        "import sys\n"
        "sys.stderr.write('::error::x\\n  ##[error]y\\nok\\r::add-mask::z\\n')\n"
        "raise SystemExit(2)",
    )
    result = _run_action(bin_dir, work, tmp_path)
    assert result.returncode == 2
    assert "\\x3a:error::x" in result.stderr  # shown, escaped
    commands = _action_commands(result)
    assert commands and all(
        c.startswith("::error title=reqhash-check could not run::") for c in commands
    ), commands


@pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")
def test_the_action_with_a_discovered_file_named_with_a_workflow_command(
    tmp_path: Path, hostile: HostileIndex
) -> None:
    """Promise: no-hijack (the Action, with the real tool): a discovered file named
    `requirements\\n::error::x.txt`, and a read error naming another."""
    work = tmp_path / "work"
    (work / ".git").mkdir(parents=True)
    (work / HOSTILE_NAME).write_text(pinned(digest="cd" * 32))
    (work / "requirements\n::error::dir.txt").mkdir()
    bin_dir = _fake_tool(tmp_path / "bin", "from reqhash_check.cli import entry\nentry()")
    result = _run_action(
        bin_dir, work, tmp_path, args=f"--isolated --index-url {hostile.simple_url}"
    )
    assert result.returncode == 2, result.stdout + result.stderr
    text = result.stdout + result.stderr
    assert "Traceback" not in text and "internal error" not in text
    assert "requirements\\n::error::dir.txt: is a directory" in result.stderr
    for command in _action_commands(result):
        assert command.startswith(
            ("::error file=", "::warning file=", "::error title=reqhash-check could not run::")
        ), command
