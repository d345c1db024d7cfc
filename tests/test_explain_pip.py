"""The real pip as the judge of `explain`: pip fails, explain names the cause, and the fix it
gives makes the same pip command pass.

For each cause, the oldest and the newest pip the product models (from
test_pip_agreement's cached venvs) run `pip download` against a loopback FakeIndex, and for
`unpublished-bytes` through a loopback proxy that alters the bytes of one file. The pips only
ever talk to 127.0.0.1.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import threading
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from reqhash_check.cli import main
from tests.fakeindex import FakeIndex
from tests.test_explain_logs import FOREIGN, World, build_world, publish
from tests.test_pip_agreement import NEWEST_PIP, OLDEST_PIP, _ensure_pip, _isolated_env

pytestmark = pytest.mark.slow

NATIVE_LINUX = "native-3.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
LINUX_312 = [
    "--only-binary=:all:",
    "--platform",
    "manylinux2014_x86_64",
    "--python-version",
    "3.12",
    "--implementation",
    "cp",
    "--abi",
    "cp312",
]


# ----------------------------------------------------------------------------- the servers


class AlteringProxy:
    """An HTTP forward proxy on 127.0.0.1 that flips one byte of the files it is told to."""

    def __init__(self, altered_name: str) -> None:
        self.altered_name = altered_name
        self.seen: list[str] = []
        proxy = self
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                target = urlsplit(self.path)
                proxy.seen.append(self.path)
                if target.hostname != "127.0.0.1":
                    self.send_error(403)
                    return
                request = urllib.request.Request(
                    self.path, headers={"Accept": self.headers.get("Accept", "*/*")}
                )
                try:
                    with opener.open(request, timeout=10) as answer:
                        status, body = answer.status, answer.read()
                        content_type = answer.headers.get("Content-Type", "")
                except urllib.error.HTTPError as error:
                    status, body, content_type = error.code, error.read(), "text/plain"
                if target.path.endswith("/" + proxy.altered_name):
                    body = body[:-1] + bytes([body[-1] ^ 0x01])
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def world() -> World:
    return build_world()


@pytest.fixture(scope="module")
def index(world: World) -> Iterator[FakeIndex]:
    served = FakeIndex()
    served.simple_format = "html"  # pip's URLs then keep the page's #sha256= fragment
    served.start()
    try:
        publish(served, world)
        yield served
    finally:
        served.close()


@pytest.fixture(scope="module", params=[OLDEST_PIP, NEWEST_PIP], ids=lambda v: f"pip{v}")
def pip(request: pytest.FixtureRequest) -> tuple[str, Path]:
    version: str = request.param
    return version, _ensure_pip(version)


pinned_pip = functools.cache(_ensure_pip)
"""A venv's Python with exactly this pip (test_pip_agreement builds and caches them)."""


# ----------------------------------------------------------------------------- the cases


@dataclass
class Case:
    id: str
    files: Callable[[World], dict[str, str]]
    """Paths (relative to the work folder) and their text; the first is `-r`'s argument."""
    cause: str
    project: str
    version: str
    file: str | None
    pip_args: tuple[str, ...] = ("--no-deps",)
    requirements: bool = True
    """Pass the requirements file to explain (`--requirements`)."""
    proxy_alters: str | None = None
    pips: tuple[str, ...] = (OLDEST_PIP, NEWEST_PIP)
    fixed_by_lines: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def _req(text: str) -> Callable[[World], dict[str, str]]:
    def build(world: World) -> dict[str, str]:
        return {"requirements.txt": text.format(w=world, foreign=FOREIGN)}

    return build


def _lock(world: World) -> dict[str, str]:
    wheel = world.demo_10_wheel
    return {
        "sub/pylock.toml": (
            'lock-version = "1.0"\ncreated-by = "hand"\n\n'
            '[[packages]]\nname = "demo"\nversion = "1.0"\n\n'
            f'[[packages.wheels]]\nname = "{wheel.filename}"\n'
            'url = "{index}/files/' + wheel.filename + '"\n'
            f'hashes = {{sha256 = "{world.demo_11_wheel.sha256}"}}\n'
        )
    }


def _localproj(world: World) -> dict[str, str]:
    return {
        "requirements.txt": f"./localproj\nother==2.0 --hash=sha256:{world.other_20.sha256}\n",
        "localproj/pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "b"\n'
        'backend-path = ["."]\n[project]\nname = "lp"\nversion = "1"\n',
        "localproj/b.py": "",
    }


CASES = [
    Case(
        "stale-pin",
        _req("# the pin moved to 1.0\ndemo==1.0 \\\n    --hash=sha256:{w.demo_11_wheel.sha256}\n"),
        "stale-pin",
        "demo",
        "1.0",
        "demo-1.0-py3-none-any.whl",
    ),
    Case(
        "incomplete-hashes",
        _req(
            "native==3.0 \\\n    --hash=sha256:{w.native_mac.sha256} \\\n"
            "    --hash=sha256:{w.native_windows.sha256}\n"
        ),
        "incomplete-hashes",
        "native",
        "3.0",
        NATIVE_LINUX,
        pip_args=("--no-deps", *LINUX_312),
        extra={"target": "linux-x86_64-glibc2.17-cp312"},
    ),
    Case(
        "mistyped-hash",
        lambda w: {
            "requirements.txt": (
                f"native==3.0 \\\n    --hash=sha256:{w.native_mac.sha256} \\\n"
                f"    --hash=sha256:{w.native_windows.sha256} \\\n"
                # the linux wheel's hash, its last digit mistyped
                f"    --hash=sha256:{w.native_linux.sha256[:-1]}"
                + ("0" if w.native_linux.sha256[-1] != "0" else "1")
                + "\n"
            )
        },
        "mistyped-hash",
        "native",
        "3.0",
        NATIVE_LINUX,
        pip_args=("--no-deps", *LINUX_312),
    ),
    Case(
        "foreign-hashes",
        _req("other==2.0 --hash=sha256:{foreign}\n"),
        "foreign-hashes",
        "other",
        "2.0",
        "other-2.0-py3-none-any.whl",
    ),
    Case(
        "unpublished-bytes",
        _req(
            "demo==1.0 \\\n    --hash=sha256:{w.demo_10_wheel.sha256} \\\n"
            "    --hash=sha256:{w.demo_10_sdist.sha256}\n"
        ),
        "unpublished-bytes",
        "demo",
        "1.0",
        "demo-1.0-py3-none-any.whl",
        proxy_alters="demo-1.0-py3-none-any.whl",
        fixed_by_lines=False,
    ),
    Case(
        "missing-hash",
        _req("demo==1.0\nother==2.0 --hash=sha256:{w.other_20.sha256}\n"),
        "missing-hash",
        "demo",
        "1.0",
        "demo-1.0-py3-none-any.whl",
    ),
    Case(
        "missing-dependency",
        _req("parent==1.0 --hash=sha256:{w.parent_10.sha256}\n"),
        "missing-dependency",
        "child",
        "1.5",
        "child-1.5-py3-none-any.whl",
        pip_args=(),
    ),
    Case(
        "unpinned",
        _req("demo>=1.0 --hash=sha256:{w.demo_11_wheel.sha256}\n"),
        "unpinned",
        "demo",
        "1.1",
        "demo-1.1-py3-none-any.whl",
        pips=(OLDEST_PIP,),  # pip 26.1 and later install a hashed requirement that is not pinned
    ),
    Case(
        "unhashable",
        _localproj,
        "unhashable",
        "",
        "",
        None,
    ),
    Case(
        "no-installable-file",
        _req("plat==1.0 --hash=sha256:{w.plat_10.sha256}\n"),
        "no-installable-file",
        "plat",
        "1.0",
        None,
        pip_args=("--no-deps", "--only-binary=:all:", "--platform", "win_amd64"),
        fixed_by_lines=False,
    ),
    Case(
        "lock-stale-pin",
        _lock,
        "stale-pin",
        "demo",
        "1.0",
        "demo-1.0-py3-none-any.whl",
        pip_args=(),
        requirements=False,
        pips=(NEWEST_PIP,),  # pip reads pylock.toml since 26.1
    ),
]


def _run_pip(
    python: Path,
    folder: Path,
    source: str,
    args: tuple[str, ...],
    index: FakeIndex,
    proxy: str | None,
) -> subprocess.CompletedProcess[str]:
    env = _isolated_env()
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):
        env.pop(name, None)
        env.pop(name.upper(), None)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    command = [str(python), "-m", "pip", "--isolated"]
    if proxy:
        command += ["--proxy", proxy]
    download = folder / f"download-{len(list(folder.glob('download-*')))}"
    command += ["download", "-d", str(download), "--index-url", index.simple_url, "-r", source]
    command += list(args)
    return subprocess.run(
        command,
        cwd=folder,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=180,
    )


def _explain(
    index: FakeIndex, folder: Path, log: str, requirements: str | None, capsys: Any
) -> tuple[int, dict[str, Any]]:
    (folder / "pip.log").write_text(log)
    args = ["explain", "--index-url", index.simple_url, "--no-cache", "--format", "json"]
    if requirements:
        args += ["--requirements", str(folder / requirements)]
    old = os.getcwd()
    os.chdir(folder)  # pip named the files relative to where it ran
    try:
        code = main([*args, str(folder / "pip.log")])
    finally:
        os.chdir(old)
    return code, json.loads(capsys.readouterr().out)


def _apply(folder: Path, source: str, diagnosis: dict[str, Any]) -> None:
    """Write the fix's lines exactly as the diagnosis says."""
    fix = diagnosis["fix"]
    path = folder / source
    lines = path.read_text().splitlines()
    if source.endswith(".toml"):
        text = re.sub(r"^hashes = .*$", fix["lines"][0], path.read_text(), flags=re.M)
        path.write_text(text)
        return
    current = diagnosis["current"]
    if fix["action"] == "add":
        lines += fix["lines"]
    elif fix["action"] in ("replace", "remove"):
        assert current is not None, diagnosis
        new = fix["lines"] if fix["action"] == "replace" else []
        lines[current["line"] - 1 : current["end_line"]] = new
    else:
        raise AssertionError(f"nothing to apply: {fix}")
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("case", "version"),
    [(case, version) for case in CASES for version in case.pips],
    ids=[f"pip{version}-{case.id}" for case in CASES for version in case.pips],
)
def test_real_pip_failure_is_diagnosed_and_the_fix_passes(
    case: Case,
    version: str,
    index: FakeIndex,
    world: World,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    python = pinned_pip(version)
    files = case.files(world)
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text.replace("{index}", index.url))
    source = next(iter(files))
    proxy = AlteringProxy(case.proxy_alters) if case.proxy_alters else None
    try:
        failed = _run_pip(python, tmp_path, source, case.pip_args, index, proxy and proxy.url)
    finally:
        if proxy is not None:
            proxy.close()
    assert failed.returncode != 0, failed.stdout

    code, document = _explain(
        index, tmp_path, failed.stdout, source if case.requirements else None, capsys
    )
    assert len(document["diagnoses"]) == 1, (failed.stdout, document)
    diagnosis = document["diagnoses"][0]
    assert diagnosis["cause"] == case.cause, (failed.stdout, diagnosis)
    assert (diagnosis["project"] or "", diagnosis["version"] or "") == (case.project, case.version)
    assert diagnosis["file"] == case.file
    assert document["unparsed"] == []
    assert code == (1 if case.cause == "unpublished-bytes" else 0)
    for key, value in case.extra.items():
        assert diagnosis[key] == value

    if case.cause == "unpublished-bytes":
        # The hashes were right: the fix is the path the bytes took, not the file.
        assert diagnosis["fix"]["lines"] == []
        assert "proxy" in diagnosis["fix"]["summary"]
        assert "127.0.0.1" in (diagnosis["host"] or "")
        passed = _run_pip(python, tmp_path, source, case.pip_args, index, None)
        assert passed.returncode == 0, passed.stdout
        return
    if not case.fixed_by_lines:
        return
    _apply(tmp_path, source, diagnosis)
    passed = _run_pip(python, tmp_path, source, case.pip_args, index, None)
    assert passed.returncode == 0, (
        diagnosis["fix"],
        (tmp_path / source).read_text(),
        passed.stdout,
    )


def test_the_suggested_reqhash_check_fix_with_target_makes_pip_pass(
    pip: tuple[str, Path],
    index: FakeIndex,
    world: World,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`incomplete-hashes` also suggests `reqhash-check --fix FILE --target …`: run that."""
    _, python = pip
    (tmp_path / "requirements.txt").write_text(
        f"native==3.0 \\\n    --hash=sha256:{world.native_mac.sha256}\n"
    )
    args = ("--no-deps", *LINUX_312)
    failed = _run_pip(python, tmp_path, "requirements.txt", args, index, None)
    assert failed.returncode != 0
    _, document = _explain(index, tmp_path, failed.stdout, "requirements.txt", capsys)
    command = document["diagnoses"][0]["fix"]["command"].split()
    assert command[:2] == ["reqhash-check", "--fix"]
    check = document["diagnoses"][0]["fix"]["check"].split()
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        main([*command[1:], "--index-url", index.simple_url, "--no-cache"])
        assert main([*check[1:], "--index-url", index.simple_url, "--no-cache"]) == 0
    finally:
        os.chdir(old)
    capsys.readouterr()
    passed = _run_pip(python, tmp_path, "requirements.txt", args, index, None)
    assert passed.returncode == 0, passed.stdout
