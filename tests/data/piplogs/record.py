"""Record what real pips print for each hash-checking failure, into pip-<version>/ here.

    python tests/data/piplogs/record.py /path/to/venv-with-pip-20.0.2/bin/python ...

Each given Python must have the pip to record installed. The pips only talk to a FakeIndex
on 127.0.0.1 serving the packages of `tests.test_explain_logs.publish`. The index's port and
the temporary folder are replaced by fixed placeholders so the files do not change between
recordings; nothing else is edited. `*.tty.log` files are the same run under a terminal
(colours, CRLF line endings) and `*.pip-log` files are pip's own `--log` output.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from tests.fakeindex import FakeIndex  # noqa: E402
from tests.test_explain_logs import FOREIGN, FOREIGN_2, World, publish  # noqa: E402

PLACEHOLDER_INDEX = "http://127.0.0.1:8000"
PLACEHOLDER_FOLDER = "/home/dev/project"


def scenarios(world: World) -> dict[str, tuple[str, list[str]]]:
    """name → (requirements.txt, extra pip options)."""
    return {
        "mismatch": (
            f"demo==1.0 \\\n    --hash=sha256:{world.demo_11_wheel.sha256}\n"
            f"other==2.0 \\\n    --hash=sha256:{FOREIGN} \\\n    --hash=sha256:{FOREIGN_2}\n",
            ["--no-deps"],
        ),
        "missing-and-mismatch": (
            f"demo==1.0\nother==2.0 --hash=sha256:{FOREIGN}\n",
            ["--no-deps"],
        ),
        "unpinned": (f"demo>=1.0 --hash=sha256:{world.demo_11_wheel.sha256}\n", ["--no-deps"]),
        "dependency": (f"parent==1.0 --hash=sha256:{world.parent_10.sha256}\n", []),
        "vcs": (
            "git+https://example.invalid/x.git#egg=x\n"
            f"other==2.0 --hash=sha256:{world.other_20.sha256}\n",
            ["--no-deps"],
        ),
        "directory": (
            f"./localproj\nother==2.0 --hash=sha256:{world.other_20.sha256}\n",
            ["--no-deps"],
        ),
        "not-found": (
            f"plat==1.0 --hash=sha256:{world.plat_10.sha256}\n",
            ["--no-deps", "--platform", "win_amd64", "--only-binary=:all:"],
        ),
        "requires-python": (
            f"pyonly==1.0 --hash=sha256:{world.pyonly_10.sha256}\n",
            ["--no-deps"],
        ),
    }


def pylock(world: World, index_url: str) -> str:
    wheel = world.demo_10_wheel
    return (
        'lock-version = "1.0"\ncreated-by = "hand"\n\n'
        '[[packages]]\nname = "demo"\nversion = "1.0"\n\n'
        f'[[packages.wheels]]\nname = "{wheel.filename}"\n'
        f'url = "{index_url}/files/{wheel.filename}"\n'
        f'hashes = {{sha256 = "{world.demo_11_wheel.sha256}"}}\n'
    )


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_FIND_LINKS="",
        PIP_EXTRA_INDEX_URL="",
        PIP_NO_INPUT="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    return env


def _under_terminal(command: list[str], cwd: Path) -> bytes:
    pid, fd = pty.fork()
    if pid == 0:  # the child: run pip with a terminal as its output
        os.chdir(cwd)
        os.execve(command[0], command, {**_env(), "TERM": "xterm-256color", "COLUMNS": "120"})
    chunks = []
    while True:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.waitpid(pid, 0)
    return b"".join(chunks)


def _pip_version(python: str) -> str:
    out = subprocess.run(
        [python, "-m", "pip", "--version"], capture_output=True, text=True, env=_env(), check=True
    ).stdout
    match = re.match(r"pip (\S+) ", out)
    if match is None:
        raise SystemExit(f"{python}: no pip")
    return match.group(1)


def record(python: str, index: FakeIndex, world: World) -> None:
    version = _pip_version(python)
    out = HERE / f"pip-{version}"
    out.mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp())
    project = folder / "localproj"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "b"\nbackend-path = ["."]\n'
        '[project]\nname = "lp"\nversion = "1"\n'
    )
    (project / "b.py").write_text("")

    def scrub(text: str) -> str:
        return text.replace(index.url, PLACEHOLDER_INDEX).replace(str(folder), PLACEHOLDER_FOLDER)

    runs = dict(scenarios(world))
    if tuple(int(p) for p in version.split(".")[:2]) >= (26, 1):
        (folder / "sub").mkdir()
        (folder / "sub" / "pylock.toml").write_text(pylock(world, index.url))
        runs["lock"] = ("", [])
    for name, (text, extra) in runs.items():
        source = "sub/pylock.toml" if name == "lock" else "requirements.txt"
        if name != "lock":
            (folder / "requirements.txt").write_text(text)
        command = [python, "-m", "pip", "--isolated", "download", "-d", str(folder / name)]
        command += ["--index-url", index.simple_url, "-r", source, *extra]
        if name != "lock":
            command.insert(command.index("-r"), "--require-hashes")
        shown = scrub(" ".join(["$ pip", *command[4:]]))
        if name == "mismatch":
            pip_log = folder / "pip.log"
            run = subprocess.run(
                [*command[:4], "--log", str(pip_log), *command[4:]],
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env=_env(),
                cwd=folder,
            )
            (out / f"{name}.pip-log").write_text(scrub(pip_log.read_text()))
            raw = _under_terminal(command, folder).decode("utf-8", "replace")
            (out / f"{name}.tty.log").write_bytes(scrub(raw).encode())
        else:
            run = subprocess.run(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env=_env(),
                cwd=folder,
            )
        (out / f"{name}.log").write_text(scrub(f"{shown}\n{run.stdout}"))
        print(f"pip {version} {name}: exit {run.returncode}")


def main(pythons: list[str]) -> None:
    index = FakeIndex()
    index.simple_format = "html"  # the URLs keep the page's #sha256= fragment
    index.start()
    try:
        world = publish(index)
        for python in pythons:
            record(python, index, world)
    finally:
        index.close()


if __name__ == "__main__":
    main(sys.argv[1:])
