"""Pinned pips for the tests that ask the real pip: venvs cached in /tmp/reqhash-check-pips/.

Building a venv installs pip from the package registry (as CI does); once built, the
pips themselves are run isolated from the machine's pip configuration.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

OLDEST_PIP = "23.0"
NEWEST_PIP = "26.3"
PIPS_HOME = Path(tempfile.gettempdir()) / "reqhash-check-pips"


def isolated_env() -> dict[str, str]:
    """The environment for running a pinned pip: none of the machine's pip settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(
        PIP_CONFIG_FILE=os.devnull,
        PIP_FIND_LINKS="",
        PIP_EXTRA_INDEX_URL="",
        PIP_NO_INPUT="1",
    )
    return env


def pip_version_of(python: Path) -> str | None:
    try:
        out = subprocess.run(
            [str(python), "-m", "pip", "--version"],
            capture_output=True,
            text=True,
            timeout=60,
            env=isolated_env(),
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.match(r"pip (\S+) ", out)
    return match.group(1) if match else None


def ensure_pip(version: str) -> Path:
    """A venv with exactly this pip, built once and reused by later runs."""
    home = PIPS_HOME / f"pip-{version}-py{sys.version_info[0]}{sys.version_info[1]}"
    python = home / "bin" / "python"
    if pip_version_of(python) == version:
        return python
    PIPS_HOME.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f"pip-{version}-", dir=PIPS_HOME))
    try:
        subprocess.run(
            [sys.executable, "-m", "venv", str(building)],
            check=True,
            capture_output=True,
            timeout=300,
        )
        # This install talks to the package registry, so it keeps the machine's pip setup.
        subprocess.run(
            [
                str(building / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                f"pip=={version}",
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
        if pip_version_of(building / "bin" / "python") != version:
            raise RuntimeError(f"pip {version} does not run here")
        shutil.rmtree(home, ignore_errors=True)
        try:
            building.rename(home)
        except OSError:
            # Another test run finished the same venv first: use theirs.
            shutil.rmtree(building, ignore_errors=True)
            if pip_version_of(python) != version:
                raise
    except (OSError, subprocess.SubprocessError, RuntimeError) as error:
        shutil.rmtree(building, ignore_errors=True)
        detail = getattr(error, "stderr", None) or error
        pytest.skip(f"cannot install pip {version}: {detail!s:.300}")
    return python
