"""The first hour with the tool (issue 20): hints that run as printed, network trouble said
once with a next step, short lines, and the rough edges a new user meets first. Everything
through the real command line, `main([...])`, against an index on 127.0.0.1."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from reqhash_check.cli import main
from tests.fakeindex import FakeFile, FakeIndex

LINUX = "linux-x86_64-glibc2.28-cp312"
WINDOWS = "windows-amd64-cp312"
MACOS = "macos-arm64-11-cp312"
SECRET = "hunter2-f3a9c1"
FORMATS = ("text", "json", "sarif", "github", "markdown")

WHEELS = {
    LINUX: FakeFile("demo-1.0-cp312-cp312-manylinux_2_17_x86_64.whl", content=b"linux wheel"),
    WINDOWS: FakeFile("demo-1.0-cp312-cp312-win_amd64.whl", content=b"windows wheel"),
    MACOS: FakeFile("demo-1.0-cp312-cp312-macosx_11_0_arm64.whl", content=b"macos wheel"),
}


@dataclass
class Run:
    code: int
    out: str
    err: str


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return Run(code, out, err)


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REQHASH_CHECK_CACHE_DIR", str(tmp_path / "cache"))
    for name in (
        "PIP_INDEX_URL",
        "PIP_EXTRA_INDEX_URL",
        "NO_COLOR",
        "FORCE_COLOR",
        "GITHUB_ACTIONS",
        "PRE_COMMIT",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def index() -> Iterator[FakeIndex]:
    with FakeIndex() as fake:
        for wheel in WHEELS.values():
            fake.add("demo", "1.0", wheel, requires_dist=[])
        yield fake


def linux_only(path: Path) -> None:
    """demo pinned with the hash of its Linux wheel only: fine for Linux, not elsewhere."""
    path.write_text(f"demo==1.0 --hash=sha256:{WHEELS[LINUX].digest}\n")


def hint_line(out: str) -> str:
    lines = [line for line in out.splitlines() if " of these: " in line]
    assert len(lines) == 1, out
    return lines[0].split(" of these: ", 1)[1]


def run_hint(capsys: pytest.CaptureFixture[str], hint: str) -> Run:
    """The hint exactly as printed: split as a shell would, run as the command line."""
    argv = shlex.split(hint)
    assert argv[0] == "reqhash-check"
    return run(capsys, *argv[1:])


# -- 1. hints that reproduce the run -------------------------------------------------------


def test_fix_hint_keeps_the_targets_and_the_fix_fixes(
    tmp_path: Path, index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    linux_only(tmp_path / "big copy.txt")
    argv = ["--index-url", index.simple_url]
    argv += ["--target", LINUX, "--target", WINDOWS, "--target", MACOS, "big copy.txt"]
    first = run(capsys, *argv)
    assert first.code == 1, first.out + first.err
    hint = hint_line(first.out)
    assert hint.count("--target") == 3 and "'big copy.txt'" in hint
    fixed = run_hint(capsys, hint)
    assert fixed.code == 0, fixed.out + fixed.err
    assert "nothing to fix" not in fixed.err and "fixed 2 findings" in fixed.err
    again = run(capsys, *argv)
    assert again.code == 0, again.out + again.err


def test_diff_hint_names_the_fix_that_writes_it(
    tmp_path: Path, index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    linux_only(tmp_path / "r.txt")
    argv = ["--index-url", index.simple_url, "--target", WINDOWS, "r.txt"]
    shown = run(capsys, "--diff", *argv)
    assert "+++ " in shown.out and "--diff" not in shown.err
    (line,) = [x for x in shown.err.splitlines() if x.startswith("to write these changes: ")]
    fixed = run_hint(capsys, line.split(": ", 1)[1])
    assert fixed.code == 0, fixed.out + fixed.err
    assert run(capsys, *argv).code == 0


def test_hint_repeats_every_option_that_changed_the_findings(
    tmp_path: Path, index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    linux_only(tmp_path / "r.txt")
    argv = [
        "-i",
        index.simple_url,
        "--targ",  # abbreviated, as argparse allows
        WINDOWS,
        "--pip-version=24.0",
        "--only-binary",
        ":all:",
        "--no-binary",
        "other",
        "--select",
        "uncovered-target,missing-hash",
        "--ignore",
        "missing-hash",
        "--format",
        "text",
        "--no-progress",
        "r.txt",
    ]
    first = run(capsys, *argv)
    hint = hint_line(first.out)
    assert shlex.split(hint)[:2] == ["reqhash-check", "--fix"]
    for part in (
        f"--target {WINDOWS}",
        "--pip-version 24.0",
        "--only-binary :all: --no-binary other",  # in the order given: pip applies it so
        "--select uncovered-target,missing-hash",
        "--ignore missing-hash",
        f"--index-url {index.simple_url}",
    ):
        assert part in hint, hint
    assert "--format" not in hint and "--no-progress" not in hint
    # The same findings as the run it came from: the hint's options without --fix.
    check_only = shlex.split(hint)[2:]
    assert run(capsys, *check_only).out == first.out


def test_no_fix_hint_for_standard_input(
    index: FakeIndex, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import sys

    text = f"demo==1.0 --hash=sha256:{WHEELS[LINUX].digest}\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode())))
    result = run(capsys, "--index-url", index.simple_url, "--target", WINDOWS, "-")
    assert result.code == 1 and "uncovered-target" in result.out
    assert " of these: " not in result.out and "--fix -" not in result.out


def test_credentials_never_reach_a_hint(
    tmp_path: Path, index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    linux_only(tmp_path / "r.txt")
    url = index.simple_url.replace("http://", f"http://user:{SECRET}@")
    for fmt in FORMATS:
        result = run(capsys, "--index-url", url, "--target", WINDOWS, "--format", fmt, "r.txt")
        assert result.code == 1, result.out + result.err
        assert SECRET not in result.out + result.err
        assert "****@127.0.0.1" in result.out or fmt in ("json", "sarif")
    text = run(capsys, "--index-url", url, "--target", WINDOWS, "r.txt")
    assert "credentials are left out of this command" in text.out


def test_pre_commit_hint_names_the_configured_command(
    tmp_path: Path,
    index: FakeIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    linux_only(tmp_path / "r.txt")
    monkeypatch.setenv("PRE_COMMIT", "1")
    result = run(capsys, "--index-url", index.simple_url, "--target", WINDOWS, "r.txt")
    hint = hint_line(result.out)
    assert hint.startswith(f"reqhash-check --fix --target {WINDOWS}")
    assert "the reqhash-fix pre-commit hook fixes it" not in result.out
    fixed = run_hint(capsys, hint.split(" (or ", 1)[0])
    assert fixed.code == 0, fixed.out + fixed.err


def test_github_annotation_hint_runs_locally_with_the_options(
    tmp_path: Path,
    index: FakeIndex,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    linux_only(tmp_path / "r.txt")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    argv = ["--index-url", index.simple_url, "--target", WINDOWS, "--format", "github", "r.txt"]
    result = run(capsys, *argv)
    fix = result.out.split("%0AFix: run locally: ", 1)[1].split(" (", 1)[0]
    assert fix.startswith(f"reqhash-check --fix --target {WINDOWS} --index-url")
    assert run_hint(capsys, fix).code == 0


# -- 8. short lines ---------------------------------------------------------------------------


def test_text_line_is_what_and_where_and_verbose_quotes_pip(
    tmp_path: Path, index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    linux_only(tmp_path / "r.txt")
    argv = ["--index-url", index.simple_url, "--target", WINDOWS, "r.txt"]
    plain = run(capsys, *argv)
    (headline,) = [x for x in plain.out.splitlines() if x.startswith("r.txt:1: ")]
    assert "THESE PACKAGES" not in headline and len(headline) < 140, headline
    assert "whose hash is not listed, and fails" in headline
    verbose = run(capsys, *argv, "-v")
    assert "and fails with 'THESE PACKAGES DO NOT MATCH THE HASHES" in verbose.out
    document = json.loads(run(capsys, *argv, "--format", "json").out)
    assert "THESE PACKAGES DO NOT MATCH" in document["findings"][0]["message"]


# -- 9. rough edges ---------------------------------------------------------------------------


def test_mistyped_option_suggests_the_real_one(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "--fixx", "r.txt")
    assert result.code == 2 and "did you mean --fix?" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_a_folder_is_searched_for_requirements_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "requirements-dev.txt").write_text("six==1.16.0\nidna\n")
    here = run(capsys, "--select", "missing-hash", "--require-hashes", ".")
    assert here.code == 1 and "requirements.txt:1: missing-hash" in here.out
    assert "is a directory" not in here.out + here.err
    sub = run(capsys, "--select", "unpinned", "--require-hashes", "sub")
    assert sub.code == 1 and "sub/requirements-dev.txt:2: unpinned" in sub.out
    (tmp_path / "empty").mkdir()
    empty = run(capsys, "empty")
    assert empty.code == 2 and "a folder without requirements" in empty.err


def test_linux_target_without_libc_suggests_glibc(capsys: pytest.CaptureFixture[str]) -> None:
    result = run(capsys, "--target", "linux-x86_64-cp312", "r.txt")
    assert result.code == 2
    assert (
        "did you mean linux-x86_64-glibc2.28-cp312?" in result.err
        and "musl" not in (result.err.split("did you mean", 1)[1])
    )


@pytest.mark.parametrize("version", ["99", "22.3", "27.0"])
def test_pip_version_outside_the_modelled_range_is_refused(
    version: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = run(capsys, "--pip-version", version, "r.txt")
    assert result.code == 2 and "23.0 to 26.3" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_verbose_names_the_requirements_whose_dependencies_are_unknown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeIndex() as fake:
        alpha = FakeFile("alpha-1.0-py3-none-any.whl", content=b"alpha")
        beta = FakeFile("beta-2.0-py3-none-any.whl", content=b"beta")
        fake.add("alpha", "1.0", alpha)
        fake.add("beta", "2.0", beta)
        (tmp_path / "r.txt").write_text(
            f"alpha==1.0 --hash=sha256:{alpha.digest}\nbeta==2.0 --hash=sha256:{beta.digest}\n"
        )
        plain = run(capsys, "--index-url", fake.simple_url, "r.txt")
        verbose = run(capsys, "--index-url", fake.simple_url, "-v", "r.txt")
    assert "dependencies not known for 2 requirements" in plain.out
    assert "alpha 1.0, beta 2.0" not in plain.out
    assert "    alpha 1.0, beta 2.0" in verbose.out


def test_annotations_never_point_below(
    tmp_path: Path, index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "r.txt").write_text(f"--extra-index-url {index.url}/other/simple\ndemo==1.0\n")
    result = run(
        capsys,
        "--index-url",
        index.simple_url,
        "--require-hashes",
        "--format",
        "github",
        "r.txt",
    )
    assert "listed below" not in result.out


# -- 7. network trouble ---------------------------------------------------------------------


def closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def five_pins(path: Path) -> None:
    path.write_text("".join(f"pkg{n}==1.0 --hash=sha256:{'a' * 64}\n" for n in range(5)))


def test_unreachable_index_is_one_line_with_a_next_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    five_pins(tmp_path / "r.txt")
    url = f"http://127.0.0.1:{closed_port()}/simple"
    result = run(capsys, "--index-url", url, "r.txt")
    assert result.code == 3, result.out + result.err
    errors = [x for x in result.out.splitlines() if x.startswith("index error: ")]
    assert len(errors) == 1, result.out
    assert "--offline" in errors[0] and "--index-url" in errors[0] and "check the URL" in errors[0]
    # The host is given up on after the first question's attempts, and that is said once.
    assert "not asked again after that (4 skipped)" in errors[0]
    unverified = [x for x in result.out.splitlines() if x.startswith("not verified")]
    assert len(unverified) == 1 and "pkg0 1.0" in unverified[0] and "pkg4 1.0" in unverified[0]
    assert result.out.count("could not connect") == 2  # the grouped line and the index line


def test_offline_with_an_empty_cache_names_each_requirement_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    five_pins(tmp_path / "r.txt")
    result = run(capsys, "--offline", "r.txt")
    for n in range(5):
        assert len([x for x in result.out.splitlines() if f"pkg{n} " in x]) == 1, result.out
    assert "run once without --offline to fill it" in result.out


def test_offline_fix_says_what_it_could_not_fix_and_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    five_pins(tmp_path / "r.txt")
    # --fix confirms every hash it writes with the index (a restored cache is no proof), so
    # with --offline it is refused at once, with the way to see what the cache suggests.
    result = run(capsys, "--offline", "--fix", "r.txt")
    assert result.code == 2
    assert "nothing to fix" not in result.err
    assert "--offline" in result.err and "use --diff" in result.err
    result = run(capsys, "--offline", "--diff", "r.txt")
    assert "nothing to fix" not in result.err
    assert "nothing fixed: 5 requirements not in the cache" in result.err
    assert "run without --offline" in result.err


# -- 6. the Action installs itself from hashed requirements ---------------------------------

REPO = Path(__file__).resolve().parents[1]
ACTION_REQUIREMENTS = REPO / "requirements" / "action.txt"
OFFLINE_RULES = "missing-hash,unpinned,unhashable,invalid-hash,duplicate,parse-error,include-error"


def _pinned_with_hashes(text: str) -> dict[str, int]:
    """name → how many hashes, for each `name==version` entry of a hashed file."""
    import re

    from packaging.utils import canonicalize_name

    found: dict[str, int] = {}
    for entry in re.split(r"\n(?=\S)", text):
        match = re.match(r"([A-Za-z0-9][\w.-]*)==\S+", entry)
        if match:
            found[canonicalize_name(match.group(1))] = entry.count("--hash=sha256:")
    return found


def test_action_requirements_pin_every_runtime_dependency_with_hashes() -> None:
    import sys

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    backend = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    build = {canonicalize_name(Requirement(r).name) for r in backend["build-system"]["requires"]}
    pinned = _pinned_with_hashes(ACTION_REQUIREMENTS.read_text(encoding="utf-8"))
    assert runtime | build <= set(pinned), (runtime | build) - set(pinned)
    assert all(count >= 1 for count in pinned.values()), pinned
    # The file the action installs with --require-hashes, then the tool with --no-deps.
    script = (REPO / "scripts" / "action.sh").read_text(encoding="utf-8")
    assert "--require-hashes" in script and "requirements/action.txt" in script
    assert "--no-deps" in script and "--no-build-isolation" in script


def test_action_requirements_pass_the_tools_own_check(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(REPO)
    result = run(capsys, "--select", OFFLINE_RULES, "--require-hashes", "requirements/action.txt")
    assert result.code == 0, result.out + result.err


def test_the_projects_own_hook_checks_the_action_requirements() -> None:
    import re

    import yaml

    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    (hook,) = [h for r in config["repos"] for h in r["hooks"] if h["id"] == "reqhash-check"]
    assert re.search(hook["files"], "requirements/action.txt")


# -- 1. explain's "run:" lines ask the index the explanation asked ---------------------------


def test_explain_run_line_fixes_the_file_as_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.test_explain import mismatch
    from tests.test_explain_logs import build_world, publish

    world = build_world()
    with FakeIndex() as served:
        publish(served, world)
        requirements = tmp_path / "requirements.txt"
        requirements.write_text(f"demo==1.0 --hash=sha256:{world.demo_11_wheel.sha256}\n")
        log = mismatch(
            tmp_path, expected=(world.demo_11_wheel.sha256,), got=world.demo_10_wheel.sha256
        )
        explained = run(
            capsys,
            "explain",
            "--index-url",
            served.simple_url,
            "--no-cache",
            "--requirements",
            "requirements.txt",
            str(log),
        )
        (line,) = [x for x in explained.out.splitlines() if x.startswith("    or run: ")]
        command = line.split("or run: ", 1)[1]
        assert f"--index-url {served.simple_url}" in command
        fixed = run_hint(capsys, command)
        assert fixed.code == 0, fixed.out + fixed.err
        (check,) = [x for x in explained.out.splitlines() if x.startswith("    then check: ")]
        assert run_hint(capsys, check.split("then check: ", 1)[1]).code == 0
    assert world.demo_10_wheel.sha256 in requirements.read_text()


# -- the README's "Try it" commands, as printed ----------------------------------------------


def _hashed_pins(path: Path) -> dict[str, tuple[str, list[str]]]:
    import re

    pins: dict[str, tuple[str, list[str]]] = {}
    for entry in re.split(r"\n(?=\S)", path.read_text(encoding="utf-8")):
        match = re.match(r"([A-Za-z0-9][\w.-]*)(?:==|>=)(\S+)", entry)
        if match:
            pins[match.group(1)] = (match.group(2), re.findall(r"sha256:([0-9a-f]{64})", entry))
    return pins


def _example_index(fake: FakeIndex) -> None:
    """The examples' packages as PyPI published them, as far as the files tell: every listed
    hash is a file of its version (the last of several the sdist, the others wheels), and
    urllib3 2.7.0 has the hashes the broken copy still lists."""
    examples = REPO / "examples"
    clean = _hashed_pins(examples / "requirements.txt")
    releases = [(name, version, hashes) for name, (version, hashes) in clean.items()]
    releases.append(
        ("urllib3", "2.7.0", _hashed_pins(examples / "requirements-broken.txt")["urllib3"][1])
    )
    for name, version, hashes in releases:
        stem = name.replace("-", "_")
        for number, digest in enumerate(hashes, 1):
            sdist = len(hashes) > 1 and number == len(hashes)
            filename = (
                f"{stem}-{version}.tar.gz"
                if sdist
                else f"{stem}-{version}-{number}-py3-none-any.whl"
            )
            fake.add(name, version, FakeFile(filename, sha256=digest))


def test_the_readme_try_it_commands_as_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    (install_and_check,) = re.findall(r"^    python3 -m venv .*$", readme, re.M)
    check = shlex.split(install_and_check.split("&& reqhash-check ", 1)[1])
    diff = shlex.split(
        re.search(r"`(reqhash-check --diff\s+[^`]+)`", readme).group(1)  # type: ignore[union-attr]
    )
    with FakeIndex() as fake:
        _example_index(fake)
        monkeypatch.chdir(REPO)
        monkeypatch.setenv("PIP_INDEX_URL", fake.simple_url)  # pypi.org, on this machine
        before = (REPO / "examples" / "requirements-broken.txt").read_bytes()
        checked = run(capsys, *check)
        shown = run(capsys, *diff[1:])
    found = {
        tuple(line.split(" ", 2)[:2])
        for line in checked.out.splitlines()
        if line.startswith("examples/")
    }
    # The five faults examples/README.md lists, at their lines, and nothing else.
    assert found == {
        ("examples/requirements-broken.txt:17:", "missing-hash"),
        ("examples/requirements-broken.txt:197:", "unpinned"),
        ("examples/requirements-broken.txt:207:", "unknown-version"),
        ("examples/requirements-broken.txt:215:", "foreign-hash"),
        ("examples/requirements-broken.txt:215:", "fallback-target"),
        ("examples/requirements-broken.txt:383:", "stale-hash"),
    }, checked.out
    assert checked.code == 1 and "urllib3 2.7.0" in checked.out
    assert (
        "+++ " in shown.out
        and "c6242fc49e35958c8b15141343aa660db5fc54d4f13a1db01a3f5891b98700ef" in shown.out
    )
    assert (REPO / "examples" / "requirements-broken.txt").read_bytes() == before


# -- the dead-host memo in the HTTP layer ------------------------------------------------------


def test_a_host_that_refuses_is_given_up_on_but_a_slow_answer_is_not() -> None:
    import asyncio

    from reqhash_check.index.base import IndexUnavailable
    from tests.fixtures_index import fast_http

    async def refused() -> list[str]:
        client = fast_http(retries=2)
        url = f"http://127.0.0.1:{closed_port()}/simple"
        errors = await asyncio.gather(
            *(client.get(f"{url}/p{n}/") for n in range(5)), return_exceptions=True
        )
        await client.aclose()
        return [str(e) for e in errors if isinstance(e, IndexUnavailable)]

    messages = asyncio.run(refused())
    assert len(messages) == 5
    # One request tried every attempt; the others waited for its verdict and were not sent.
    assert sum("could not connect after 3 attempts" in m for m in messages) == 1
    assert sum("not asked again" in m for m in messages) == 4

    with FakeIndex() as fake:
        fake.add("fast", "1.0", FakeFile("fast-1.0-py3-none-any.whl", content=b"fast"))
        fake.delay("/simple/slow/", 1.0)

        async def slow_then_fast() -> int:
            client = fast_http(timeout=0.2, retries=1)
            with pytest.raises(IndexUnavailable, match="timed out after 2 attempts"):
                await client.get(f"{fake.simple_url}/slow/")
            answer = await client.get(f"{fake.simple_url}/fast/")
            await client.aclose()
            return answer.status

        assert asyncio.run(slow_then_fast()) == 200


def test_a_dead_host_is_given_up_on_for_every_file_of_the_run(
    tmp_path: Path, index: FakeIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    five_pins(tmp_path / "a.txt")
    # Another file set, which also asks a live index: asked separately, same dead host.
    (tmp_path / "b.txt").write_text(
        f"--extra-index-url {index.simple_url}\n" + (tmp_path / "a.txt").read_text()
    )
    url = f"http://127.0.0.1:{closed_port()}/simple"
    result = run(capsys, "--index-url", url, "a.txt", "b.txt")
    assert result.code == 3, result.out + result.err
    (error,) = [x for x in result.out.splitlines() if x.startswith(f"index error: {url}")]
    assert "(10 questions failed;" in error and "(9 skipped)" in error
