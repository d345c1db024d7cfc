"""The verdict cache, through the real command in a process of its own: a check run again on
exactly the same inputs is answered by the earlier run's verdict (byte for byte the same
outputs and exit code, without the check being done), and anything that could change the
result makes it a miss and a fresh check.

Whether a run was answered by a verdict is seen from outside the tool: the process that ran
the command records whether the check pipeline (`reqhash_check.runner`) was ever imported.
Both runs of a pair get the same command line and the same environment, as a user's would.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from reqhash_check.cli import FORMATS, main
from reqhash_check.index.cache import ReleaseCache
from tests.fakeindex import RECORDED, FakeIndex

SRC = Path(__file__).resolve().parents[1] / "src"
PINS = {
    "requests": "2.31.0",
    "urllib3": "2.2.2",
    "idna": "3.7",
    "certifi": "2024.2.2",
    "charset-normalizer": "3.3.2",
}
TARGET = ("--target", "linux-x86_64-glibc2.28-cp312")

PROBE = """\
import os, sys, time
shift = float(open(os.environ["VERDICT_TEST_DIR"] + "/clock-shift").read() or 0)
if shift:
    real = time.time
    time.time = lambda: real() + shift
from reqhash_check.cli import flushed, main
code = flushed(main(sys.argv[1:], verdicts=True))
with open(os.environ["VERDICT_TEST_DIR"] + "/runs", "a") as runs:
    runs.write("ran\\n" if "reqhash_check.runner" in sys.modules else "hit\\n")
os._exit(code)
"""


def published(project: str, version: str) -> list[str]:
    data = json.loads((RECORDED / f"{project}.json").read_text())
    return sorted(f["digests"]["sha256"] for f in data["releases"][version])


def entry(project: str, version: str, hashes: list[str] | None = None) -> str:
    digests = published(project, version) if hashes is None else hashes
    return " \\\n".join([f"{project}=={version}"] + [f"    --hash=sha256:{h}" for h in digests])


def pins(**overrides: str) -> str:
    return "".join(overrides.get(p) or entry(p, v) + "\n" for p, v in PINS.items())


STALE = entry("requests", "2.31.0", ["0" * 64]) + "\n"
"""A hash the index does not publish: a finding, exit 1."""


@dataclass
class Run:
    code: int
    out: bytes
    err: bytes
    files: dict[str, bytes]
    hit: bool


class Tool:
    """The command, run in a process of its own from a project folder."""

    def __init__(self, tmp_path: Path, index: FakeIndex, src: Path = SRC) -> None:
        self.root = tmp_path
        self.project = tmp_path / "project"
        self.project.mkdir()
        self.home = tmp_path / "home"
        self.home.mkdir()
        self.cache = tmp_path / "cache"
        self.index = index
        (tmp_path / "clock-shift").write_text("0")
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "PYTHONPATH": str(src),
            "VERDICT_TEST_DIR": str(tmp_path),
            "REQHASH_CHECK_CACHE_KEY_FILE": os.environ["REQHASH_CHECK_CACHE_KEY_FILE"],
            "XDG_CONFIG_DIRS": str(tmp_path / "xdg"),
        }

    def argv(self, *args: str) -> list[str]:
        return ["--index-url", self.index.simple_url, "--cache-dir", str(self.cache), *args]

    def run(self, *args: str, stdin: bytes = b"", outputs: tuple[str, ...] = ()) -> Run:
        before = self.runs()
        process = subprocess.run(
            [sys.executable, "-c", PROBE, *self.argv(*args)],
            cwd=self.project,
            env=self.env,
            input=stdin,
            capture_output=True,
            timeout=120,
        )
        runs = self.runs()
        assert len(runs) == len(before) + 1, process.stderr.decode()
        assert b"Traceback" not in process.stderr, process.stderr.decode()
        files = {name: (self.project / name).read_bytes() for name in outputs}
        return Run(process.returncode, process.stdout, process.stderr, files, runs[-1] == "hit")

    def runs(self) -> list[str]:
        path = self.root / "runs"
        return path.read_text().split() if path.exists() else []

    def primed(self, *args: str, outputs: tuple[str, ...] = ()) -> Run:
        """Run until a verdict answers (a cold run fills the cache, a warm one stores the
        verdict, the third is answered by it); the warm run's result."""
        self.run(*args, outputs=outputs)
        warm = self.run(*args, outputs=outputs)
        assert not warm.hit
        again = self.run(*args, outputs=outputs)
        assert again.hit and same(again, warm)
        return warm

    def verdicts(self) -> list[Path]:
        folder = self.cache / "verdicts"
        return sorted(p for p in folder.iterdir() if not p.name.startswith("."))

    def shift_clock(self, seconds: float) -> None:
        (self.root / "clock-shift").write_text(str(seconds))


def same(a: Run, b: Run) -> bool:
    return (a.code, a.out, a.err, a.files) == (b.code, b.out, b.err, b.files)


@pytest.fixture
def index(fake_index: FakeIndex) -> FakeIndex:
    for project in [*PINS, "six"]:
        fake_index.load_recorded(project)
    return fake_index


@pytest.fixture
def tool(tmp_path: Path, index: FakeIndex) -> Tool:
    made = Tool(tmp_path, index)
    (made.project / "requirements.txt").write_text(pins(requests=STALE))
    return made


# --- a hit ---


@pytest.mark.parametrize("to_files", [False, True], ids=["stdout", "files"])
@pytest.mark.parametrize("form", FORMATS)
def test_a_repeated_check_is_answered_by_its_verdict_byte_for_byte(
    tool: Tool, form: str, to_files: bool
) -> None:
    """Every format, on standard output or in --output and --sarif-output: the run the
    verdict answers gives the same bytes and exit code as the check, without the check
    being done and with the index stopped."""
    args = [*TARGET, "--format", form, "requirements.txt"]
    outputs: tuple[str, ...] = ()
    if to_files:
        args[:0] = ["--output", "report.out", "--sarif-output", "report.sarif"]
        outputs = ("report.out", "report.sarif")
    cold = tool.run(*args, outputs=outputs)
    warm = tool.run(*args, outputs=outputs)
    assert not cold.hit and not warm.hit and same(cold, warm)
    assert warm.code == 1 and (warm.files if to_files else warm.out)
    asked = len(tool.index.requests)
    tool.index.close()
    for name in outputs:
        (tool.project / name).write_text("old")
    hit = tool.run(*args, outputs=outputs)
    assert hit.hit and same(hit, warm)
    assert len(tool.index.requests) == asked


def test_a_clean_check_is_answered_with_exit_0(tool: Tool) -> None:
    (tool.project / "requirements.txt").write_text(pins())
    warm = tool.primed(*TARGET, "requirements.txt")
    assert warm.code == 0


# --- misses: what the run read ---


def test_an_edited_requirements_file_is_a_miss(tool: Tool) -> None:
    assert tool.primed(*TARGET, "requirements.txt").code == 1
    (tool.project / "requirements.txt").write_text(pins())
    after = tool.run(*TARGET, "requirements.txt")
    assert not after.hit and after.code == 0


def test_an_edited_included_file_is_a_miss(tool: Tool) -> None:
    (tool.project / "base.txt").write_text(pins())
    (tool.project / "requirements.txt").write_text("-r base.txt\n")
    assert tool.primed(*TARGET, "requirements.txt").code == 0
    (tool.project / "base.txt").write_text(pins(requests=STALE))
    after = tool.run(*TARGET, "requirements.txt")
    assert not after.hit and after.code == 1


def test_an_edited_constraints_file_is_a_miss(tool: Tool) -> None:
    (tool.project / "constraints.txt").write_text("idna==3.7\n")
    (tool.project / "requirements.txt").write_text(pins())
    args = (*TARGET, "-v", "--format", "json", "requirements.txt")
    (tool.project / "requirements.txt").write_text("-c constraints.txt\n" + pins())
    before = tool.primed(*args)
    (tool.project / "constraints.txt").write_text("idna==3.6\n")
    after = tool.run(*args)
    assert not after.hit and after.out != before.out


def test_a_pyproject_table_added_or_changed_is_a_miss(tool: Tool) -> None:
    (tool.project / "requirements.txt").write_text(pins())
    (tool.project / ".git").mkdir()
    assert tool.primed(*TARGET, "requirements.txt").code == 0
    pyproject = tool.project / "pyproject.toml"
    pyproject.write_text("[tool.reqhash-check]\nrequire-hashes = true\n")
    added = tool.run(*TARGET, "requirements.txt")
    assert not added.hit
    assert tool.run(*TARGET, "requirements.txt").hit
    pyproject.write_text('[tool.reqhash-check]\nselect = ["stale-hash"]\n')
    changed = tool.run(*TARGET, "requirements.txt")
    assert not changed.hit


def test_a_pyproject_above_the_repository_appearing_is_a_miss(tool: Tool) -> None:
    """The nearest pyproject.toml is looked for in every folder above: one appearing there
    changes the run, though the run never read it."""
    (tool.project / "requirements.txt").write_text(pins(requests=STALE))
    assert tool.primed(*TARGET, "requirements.txt").code == 1
    (tool.root / "pyproject.toml").write_text('[tool.reqhash-check]\nignore = ["stale-hash"]\n')
    after = tool.run(*TARGET, "requirements.txt")
    assert not after.hit and after.code == 0


def test_a_pip_configuration_file_added_is_a_miss(tool: Tool) -> None:
    assert tool.primed(*TARGET, "requirements.txt").code == 1
    config = tool.home / ".config" / "pip" / "pip.conf"
    config.parent.mkdir(parents=True)
    config.write_text("[global]\nno-index = true\n")
    assert not tool.run(*TARGET, "requirements.txt").hit


def test_a_netrc_added_is_a_miss(tool: Tool) -> None:
    tool.primed(*TARGET, "requirements.txt")
    netrc = tool.home / ".netrc"
    netrc.write_text("machine 127.0.0.1 login user password secret-password\n")
    netrc.chmod(0o600)
    after = tool.run(*TARGET, "requirements.txt")
    assert not after.hit and b"secret-password" not in after.out + after.err


def test_a_discovered_file_appearing_is_a_miss(tool: Tool) -> None:
    """No FILE given: the folder's listing is part of the verdict."""
    (tool.project / "requirements.txt").write_text(pins())
    assert tool.primed(*TARGET).code == 0
    (tool.project / "requirements-dev.txt").write_text(pins(requests=STALE))
    after = tool.run(*TARGET)
    assert not after.hit and after.code == 1


def test_an_edited_lock_file_is_a_miss(tmp_path: Path, fake_index: FakeIndex) -> None:
    from tests.lockproject import flip, publish, write_uv_style

    tool = Tool(tmp_path, fake_index)
    text = write_uv_style(publish(fake_index))
    (tool.project / "pylock.toml").write_text(text)
    before = tool.primed(*TARGET, "pylock.toml")
    assert before.code == 0
    digests = re.findall(r'sha256 = "([0-9a-f]{64})"', text)
    assert digests
    digest = digests[-1]
    (tool.project / "pylock.toml").write_text(text.replace(digest, flip(digest)))
    after = tool.run(*TARGET, "pylock.toml")
    assert not after.hit and b"foreign-hash" in after.out and b"foreign-hash" not in before.out


def test_a_find_links_folder_changed_is_a_miss(tool: Tool) -> None:
    """A file appearing in a --find-links folder changes what pip could install."""
    wheels = tool.project / "wheels"
    wheels.mkdir()
    (wheels / "six-1.16.0-py2.py3-none-any.whl").write_bytes(b"not a wheel")
    (tool.project / "requirements.txt").write_text("--find-links ./wheels\n" + pins())
    before = tool.primed(*TARGET, "requirements.txt")
    (wheels / "idna-3.7-py3-none-any.whl").write_bytes(b"other bytes")
    after = tool.run(*TARGET, "requirements.txt")
    assert not after.hit and after.out != before.out


@pytest.mark.parametrize(
    "name, value", [("PIP_INDEX_URL", "http://127.0.0.1:9/simple"), ("UNRELATED", "1")]
)
def test_an_environment_variable_changed_is_a_miss(tool: Tool, name: str, value: str) -> None:
    tool.primed(*TARGET, "requirements.txt")
    tool.env[name] = value
    assert not tool.run(*TARGET, "requirements.txt").hit


def test_a_file_expanding_a_variable_stores_no_verdict(tool: Tool) -> None:
    """What derives from an expanded value (here the included file's name) is kept nowhere:
    such a run is never answered by a verdict, and the value changing changes the run."""
    (tool.project / "requirements.txt").write_text("-r ${PART}.txt\n")
    (tool.project / "good-secret-part.txt").write_text(pins())
    (tool.project / "bad-secret-part.txt").write_text(pins(requests=STALE))
    tool.env["PART"] = "good-secret-part"
    results = [tool.run(*TARGET, "requirements.txt") for _ in range(3)]
    assert not any(r.hit for r in results) and results[2].code == 0
    folder = tool.cache / "verdicts"
    stored = b"".join(p.read_bytes() for p in folder.iterdir()) if folder.exists() else b""
    assert b"secret-part" not in stored
    tool.env["PART"] = "bad-secret-part"
    after = tool.run(*TARGET, "requirements.txt")
    assert not after.hit and after.code == 1


def test_another_option_order_or_value_is_a_miss(tool: Tool) -> None:
    tool.primed(*TARGET, "--format", "json", "--strict", "requirements.txt")
    assert not tool.run(*TARGET, "--strict", "--format", "json", "requirements.txt").hit
    assert not tool.run(*TARGET, "--format", "sarif", "--strict", "requirements.txt").hit


# --- misses: the answers, the clock, the tool ---


def test_the_answers_cache_written_by_another_run_is_a_miss(tool: Tool) -> None:
    before = tool.primed(*TARGET, "requirements.txt")
    (tool.project / "other.txt").write_text(entry("six", "1.16.0") + "\n")
    other = tool.run(*TARGET, "other.txt")  # asks the index and writes the cache
    assert not other.hit
    after = tool.run(*TARGET, "requirements.txt")
    assert not after.hit and same(after, before)


def test_a_row_changed_in_the_answers_cache_is_a_miss(tool: Tool) -> None:
    """A row refreshed by any process (here through the cache's own writer) makes every
    verdict a miss, even one whose rows were not touched."""
    before = tool.primed(*TARGET, "requirements.txt")
    cache = ReleaseCache.in_dir(tool.cache)
    cache.put(tool.index.simple_url, "unrelated", "nothing", "", {"missing": "not-found"})
    cache.close()
    after = tool.run(*TARGET, "requirements.txt")
    assert not after.hit and same(after, before)


def test_a_verdict_past_its_answers_freshness_is_a_miss(tool: Tool) -> None:
    before = tool.primed(*TARGET, "requirements.txt")
    tool.shift_clock(601)
    asked = len(tool.index.requests)
    after = tool.run(*TARGET, "requirements.txt")
    assert not after.hit and same(after, before)
    assert len(tool.index.requests) > asked  # the stale answers were asked again


def test_a_clock_gone_backwards_is_a_miss(tool: Tool) -> None:
    tool.primed(*TARGET, "requirements.txt")
    tool.shift_clock(-30)
    assert not tool.run(*TARGET, "requirements.txt").hit


def test_offline_past_freshness_stores_no_verdict(tool: Tool) -> None:
    tool.primed(*TARGET, "requirements.txt")
    tool.shift_clock(3600)
    first = tool.run(*TARGET, "--offline", "requirements.txt")
    second = tool.run(*TARGET, "--offline", "requirements.txt")
    assert not first.hit and not second.hit and same(first, second)


def test_the_tools_own_files_changed_is_a_miss(tmp_path: Path, index: FakeIndex) -> None:
    src = tmp_path / "src"
    shutil.copytree(SRC / "reqhash_check", src / "reqhash_check")
    tool = Tool(tmp_path, index, src)
    (tool.project / "requirements.txt").write_text(pins(requests=STALE))
    before = tool.primed(*TARGET, "requirements.txt")
    rules = src / "reqhash_check" / "rules" / "__init__.py"
    os.utime(rules, ns=(rules.stat().st_atime_ns, rules.stat().st_mtime_ns + 10**9))
    after = tool.run(*TARGET, "requirements.txt")
    assert not after.hit and same(after, before)


# --- misses: the verdict itself ---


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "reforged", "mac-only"])
def test_a_forged_or_damaged_verdict_is_a_miss(tool: Tool, damage: str) -> None:
    """Altered in its outputs, cut short, emptied, signed with another key, or its MAC line
    alone changed: a miss, the check runs, and the result is the check's."""
    before = tool.primed(*TARGET, "requirements.txt")
    (path,) = tool.verdicts()
    data = path.read_bytes()
    mac, _, body = data.partition(b"\n")
    if damage == "flip":
        body = body.replace(b'"code":1', b'"code":0').replace(b"stale-hash", b"stale-hasX")
        data = mac + b"\n" + body
    elif damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "empty":
        data = b""
    elif damage == "reforged":
        import hashlib
        import hmac

        forged = body.replace(b'"code":1', b'"code":0')
        name = path.name.encode()
        text = b"reqhash-check verdict 1\x00" + name + b"\x00" + forged
        data = hmac.new(b"k" * 32, text, hashlib.sha256).hexdigest().encode() + b"\n" + forged
    else:
        data = b"0" * len(mac) + b"\n" + body
    path.write_bytes(data)
    after = tool.run(*TARGET, "requirements.txt")
    assert not after.hit and same(after, before)


@pytest.mark.parametrize("kind", ["symlink", "fifo", "huge", "folder-symlink"])
def test_a_verdict_that_is_a_symlink_fifo_or_huge_is_a_miss(tool: Tool, kind: str) -> None:
    """Never followed through a symlink (the file or its folder), never blocked on, never
    read past its cap: a miss, and the check's own result."""
    before = tool.primed(*TARGET, "requirements.txt")
    (path,) = tool.verdicts()
    folder = path.parent
    if kind == "symlink":
        moved = tool.root / "moved-verdict"
        path.rename(moved)
        path.symlink_to(moved)
    elif kind == "fifo":
        path.unlink()
        os.mkfifo(path)
    elif kind == "huge":
        with path.open("ab") as handle:
            handle.truncate(64 * 1024 * 1024)
    else:
        moved = tool.root / "moved-verdicts"
        folder.rename(moved)
        folder.symlink_to(moved)
    after = tool.run(*TARGET, "requirements.txt")
    assert not after.hit and same(after, before)


def test_a_verdict_copied_from_another_cache_folder_is_a_miss(
    tmp_path: Path, index: FakeIndex
) -> None:
    """Two cache folders, each with its verdict for the same check: one copied over the
    other (the name its run looks for) is not believed there."""
    tool = Tool(tmp_path, index)
    (tool.project / "requirements.txt").write_text(pins(requests=STALE))
    tool.primed(*TARGET, "requirements.txt")
    first = tool.cache
    tool.cache = tmp_path / "other-cache"
    (tool.project / "requirements.txt").write_text(pins())
    before = tool.primed(*TARGET, "requirements.txt")
    (ours,) = tool.verdicts()
    (theirs,) = sorted(p for p in (first / "verdicts").iterdir() if not p.name.startswith("."))
    ours.write_bytes(theirs.read_bytes())
    after = tool.run(*TARGET, "requirements.txt")
    assert not after.hit and same(after, before) and after.code == 0


def test_a_verdict_signed_with_another_key_is_a_miss(tool: Tool) -> None:
    before = tool.primed(*TARGET, "requirements.txt")
    Path(tool.env["REQHASH_CHECK_CACHE_KEY_FILE"]).write_text("ab" * 32 + "\n")
    after = tool.run(*TARGET, "requirements.txt")
    assert not after.hit and same(after, before)


def test_a_verdict_store_that_is_not_a_folder_is_never_a_crash(tool: Tool) -> None:
    tool.cache.mkdir()
    (tool.cache / "verdicts").write_text("not a folder")
    first = tool.run(*TARGET, "requirements.txt")
    second = tool.run(*TARGET, "requirements.txt")
    third = tool.run(*TARGET, "requirements.txt")
    assert not third.hit and same(second, third) and same(first, third)


# --- runs that store no verdict ---


@pytest.mark.parametrize(
    "args",
    [
        ("--no-cache",),
        ("--diff",),
        ("--verify-downloads",),
        ("--format", "github"),
    ],
    ids=["no-cache", "diff", "verify-downloads", "step-summary"],
)
def test_runs_out_of_scope_are_never_answered(tool: Tool, args: tuple[str, ...]) -> None:
    summary = tool.root / "summary.md"
    if args == ("--format", "github"):
        tool.env["GITHUB_STEP_SUMMARY"] = str(summary)
    sizes = []
    for _ in range(3):
        assert not tool.run(*TARGET, *args, "requirements.txt").hit
        sizes.append(summary.stat().st_size if summary.exists() else 0)
    if "GITHUB_STEP_SUMMARY" in tool.env:
        assert 0 < sizes[0] < sizes[1] < sizes[2]  # written by every run


def test_standard_input_is_never_answered(tool: Tool) -> None:
    text = pins(requests=STALE).encode()
    results = [tool.run(*TARGET, "-", stdin=text) for _ in range(3)]
    assert not any(r.hit for r in results)
    assert results[1].code == 1 and same(results[1], results[2])


def test_an_unreachable_index_stores_no_verdict(tool: Tool) -> None:
    tool.index.close()
    results = [tool.run(*TARGET, "requirements.txt") for _ in range(3)]
    assert not any(r.hit for r in results) and results[2].code == 3


def test_without_a_lasting_key_nothing_is_stored_and_errors_stay_errors(tool: Tool) -> None:
    """A key too short to use: the run keeps a key of its own, which a later run cannot
    check, so no verdict is stored; a usage error is still that error, exit 2."""
    tool.env["REQHASH_CHECK_CACHE_KEY"] = "too short"
    results = [tool.run(*TARGET, "requirements.txt") for _ in range(3)]
    assert not any(r.hit for r in results) and same(results[1], results[2])
    assert b"too short" not in results[2].err and b"shorter than" in results[2].err
    assert not (tool.cache / "verdicts").exists()
    failed = tool.run(*TARGET, "--output", "missing/report.json", "requirements.txt")
    assert failed.code == 2 and b"does not exist" in failed.err
    assert b"internal error" not in failed.err


def test_a_verdict_file_is_private_and_signed(tool: Tool) -> None:
    tool.primed(*TARGET, "requirements.txt")
    (path,) = tool.verdicts()
    assert path.stat().st_mode & 0o077 == 0
    assert (tool.cache / "verdicts").stat().st_mode & 0o077 == 0
    mac, newline, body = path.read_bytes().partition(b"\n")
    assert newline and len(mac) == 64 and json.loads(body)["code"] == 1


def test_a_check_run_inside_another_program_stores_no_verdict(
    tool: Tool, capsys: pytest.CaptureFixture[str]
) -> None:
    """`main()` called by another program (the tests, an embedding tool) always checks: only
    the command's own process answers from verdicts, so code patched in that program is
    never bypassed by an earlier run's output."""
    tool.primed()
    stored = tool.verdicts()
    assert stored
    env = {**os.environ, **tool.env}
    cwd = os.getcwd()
    try:
        os.chdir(tool.project)
        with pytest.MonkeyPatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            codes = [main(tool.argv()) for _ in range(2)]
    finally:
        os.chdir(cwd)
    capsys.readouterr()
    assert codes[0] == codes[1] == 1
    assert tool.verdicts() == stored  # the command's process would have stored one
